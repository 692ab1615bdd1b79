//! The working-day calendar: Monday to Friday, less England and Wales bank holidays and the
//! council's own closure days.

use chrono::{Datelike, NaiveDate, Weekday};
use std::path::Path;

/// Days are counted from 0001-01-01 (CE day 1, a Monday), which makes weekday arithmetic a
/// matter of division.
fn ce_day(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

/// Weekdays (Mon-Fri) among CE days `1..=n` (zero or negative `n` counts backwards).
fn weekdays_through(n: i64) -> i64 {
    // CE day 1 is a Monday, so day k is a weekday when (k - 1) mod 7 < 5.
    let weeks = n.div_euclid(7);
    let rest = n.rem_euclid(7);
    weeks * 5 + rest.min(5)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WorkingDayCalendar {
    /// Non-working weekdays (bank holidays and closures that fall Monday to Friday), sorted.
    closed: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error("{file}:{line}: `{value}` is not a date (YYYY-MM-DD)")]
    BadDate { file: String, line: u64, value: String },
    #[error("{file}: {source}")]
    Csv { file: String, source: csv::Error },
    #[error("{file}: no `date` column")]
    NoDateColumn { file: String },
}

impl WorkingDayCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut closed: Vec<i64> =
            holidays.into_iter().filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).map(ce_day).collect();
        closed.sort_unstable();
        closed.dedup();
        Self { closed }
    }

    /// Reads a `date,title` CSV such as `config/reference/bank_holidays_england_wales.csv`.
    pub fn read_holidays_csv(text: &str, file: &str) -> Result<Vec<NaiveDate>, CalendarError> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|source| CalendarError::Csv { file: file.into(), source })?.clone();
        let col = headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == "date")
            .ok_or_else(|| CalendarError::NoDateColumn { file: file.into() })?;
        let mut out = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|source| CalendarError::Csv { file: file.into(), source })?;
            let line = record.position().map_or(0, |p| p.line());
            let value = record.get(col).unwrap_or("");
            let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| CalendarError::BadDate {
                file: file.into(),
                line,
                value: value.into(),
            })?;
            out.push(date);
        }
        Ok(out)
    }

    pub fn from_csv_file(path: &Path) -> Result<Vec<NaiveDate>, CalendarError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CalendarError::Csv { file: file.clone(), source: csv::Error::from(e) })?;
        Self::read_holidays_csv(&text, &file)
    }

    fn working_through(&self, n: i64) -> i64 {
        weekdays_through(n) - self.closed.partition_point(|&c| c <= n) as i64
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        let n = ce_day(d);
        self.working_through(n) - self.working_through(n - 1) == 1
    }

    /// `wd(a, b)` of kpis.md: working days `x` with `a < x <= b`; negative when `b < a`.
    pub fn working_days(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        self.working_days_ce(ce_day(a), ce_day(b))
    }

    /// As [`Self::working_days`], on CE day numbers.
    pub fn working_days_ce(&self, a: i64, b: i64) -> i64 {
        self.working_through(b) - self.working_through(a)
    }

    /// The date `n` working days after `d` (before it when `n` is negative), so that
    /// `working_days(d, add_working_days(d, n)) == n`. From a non-working day, counting
    /// starts at the next working day; `n = 0` returns `d` itself.
    pub fn add_working_days(&self, d: NaiveDate, n: i64) -> NaiveDate {
        if n == 0 {
            return d;
        }
        let step = if n > 0 { 1 } else { -1 };
        let mut left = n.abs();
        let mut x = d;
        while left > 0 {
            x = if step > 0 { x.succ_opt() } else { x.pred_opt() }.unwrap_or(x);
            if self.is_working_day(x) {
                left -= 1;
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn england_2021_22() -> WorkingDayCalendar {
        WorkingDayCalendar::new(["2021-12-27", "2021-12-28", "2022-01-03", "2022-04-15", "2022-04-18"].map(d))
    }

    #[test]
    fn same_day_is_zero_and_start_day_does_not_count() {
        let c = england_2021_22();
        assert_eq!(c.working_days(d("2022-01-10"), d("2022-01-10")), 0);
        // Monday 10th to Tuesday 11th: one working day (the 11th).
        assert_eq!(c.working_days(d("2022-01-10"), d("2022-01-11")), 1);
    }

    #[test]
    fn weekends_do_not_count() {
        let c = england_2021_22();
        // Friday 7 Jan to Monday 10 Jan 2022: Sat, Sun skipped, Monday counts.
        assert_eq!(c.working_days(d("2022-01-07"), d("2022-01-10")), 1);
        // Saturday to Sunday: nothing.
        assert_eq!(c.working_days(d("2022-01-08"), d("2022-01-09")), 0);
        // Two full weeks Monday to Monday: 10.
        assert_eq!(c.working_days(d("2022-01-10"), d("2022-01-24")), 10);
    }

    #[test]
    fn christmas_2021_bank_holidays_by_hand() {
        let c = england_2021_22();
        // Fri 24 Dec 2021 -> Tue 4 Jan 2022. Counted days after the 24th:
        // Sat 25, Sun 26 (weekend), Mon 27 and Tue 28 (substitute bank holidays), Wed 29,
        // Thu 30, Fri 31 (3), Sat 1, Sun 2 (weekend), Mon 3 (substitute New Year), Tue 4 (1).
        assert_eq!(c.working_days(d("2021-12-24"), d("2022-01-04")), 4);
        assert_eq!(c.working_days(d("2022-01-04"), d("2021-12-24")), -4);
        assert!(!c.is_working_day(d("2022-01-03")));
        assert!(c.is_working_day(d("2022-01-04")));
    }

    #[test]
    fn easter_2022_by_hand() {
        let c = england_2021_22();
        // Thu 14 Apr -> Tue 19 Apr: Fri 15 (Good Friday), Sat, Sun, Mon 18 (Easter Monday)
        // are out; Tue 19 counts.
        assert_eq!(c.working_days(d("2022-04-14"), d("2022-04-19")), 1);
    }

    #[test]
    fn add_working_days_inverts_working_days() {
        let c = england_2021_22();
        assert_eq!(c.add_working_days(d("2021-12-24"), 4), d("2022-01-04"));
        assert_eq!(c.add_working_days(d("2022-01-04"), -4), d("2021-12-24"));
        assert_eq!(c.add_working_days(d("2022-01-07"), 1), d("2022-01-10"));
        assert_eq!(c.add_working_days(d("2022-01-08"), 0), d("2022-01-08"));
        for start in ["2021-12-20", "2021-12-24", "2022-01-01", "2022-04-13"] {
            for n in [1, 5, 15, 45] {
                let end = c.add_working_days(d(start), n);
                assert_eq!(c.working_days(d(start), end), n, "{start} + {n}");
            }
        }
    }

    #[test]
    fn weekend_holidays_are_not_counted_twice() {
        // Christmas Day 2021 fell on a Saturday: listing it must not remove a working day.
        let with = WorkingDayCalendar::new([d("2021-12-25")]);
        let without = WorkingDayCalendar::new([]);
        assert_eq!(
            with.working_days(d("2021-12-20"), d("2021-12-31")),
            without.working_days(d("2021-12-20"), d("2021-12-31"))
        );
    }

    #[test]
    fn far_dates_work() {
        let c = WorkingDayCalendar::new([]);
        assert_eq!(c.working_days(d("0001-01-01"), d("0001-01-08")), 5);
        assert_eq!(c.working_days(d("9999-12-24"), d("9999-12-31")), 5);
    }

    #[test]
    fn reads_the_shipped_csv() {
        let text = "date,title\n2022-01-03,New Year's Day (substitute day)\n";
        let days = WorkingDayCalendar::read_holidays_csv(text, "x.csv").unwrap();
        assert_eq!(days, vec![d("2022-01-03")]);
        let bad = WorkingDayCalendar::read_holidays_csv("date,title\n2022-13-03,x\n", "x.csv");
        assert!(bad.unwrap_err().to_string().contains("x.csv:2"));
    }
}
