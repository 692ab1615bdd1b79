//! Reporting periods: a calendar month or quarter, its as-at date and the trend that ends with it.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How long a pipeline's period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    #[default]
    Month,
    /// A calendar quarter: January to March is Q1.
    Quarter,
}

impl Grain {
    pub fn months(self) -> u32 {
        match self {
            Grain::Month => 1,
            Grain::Quarter => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Month => "month",
            Grain::Quarter => "quarter",
        }
    }

    /// Periods in a trend when a pipeline does not say: 18 months, or 8 quarters.
    pub fn default_trend(self) -> u32 {
        match self {
            Grain::Month => 18,
            Grain::Quarter => 8,
        }
    }

    /// `2022-01` or `2021-Q4`: how a period of this grain is written.
    pub fn example(self) -> &'static str {
        match self {
            Grain::Month => "2022-01",
            Grain::Quarter => "2021-Q4",
        }
    }
}

impl fmt::Display for Grain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The unit a report is produced for: a calendar month (`2022-01`) or quarter (`2021-Q4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    /// The period's first month.
    month: u32,
    grain: Grain,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a period: expected YYYY-MM (e.g. 2022-01) or YYYY-Qn (e.g. 2021-Q4)")]
pub struct PeriodParseError(pub String);

impl Period {
    /// The month `month` of `year`.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Self {
            year,
            month,
            grain: Grain::Month,
        })
    }

    /// Quarter `q` (1 to 4) of `year`.
    pub fn quarter(year: i32, q: u32) -> Option<Self> {
        ((1..=4).contains(&q) && (1900..=9999).contains(&year)).then(|| Self {
            year,
            month: 3 * q - 2,
            grain: Grain::Quarter,
        })
    }

    /// The month holding `d`.
    pub fn of_date(d: NaiveDate) -> Self {
        Self::of_date_in(Grain::Month, d)
    }

    /// The period of `grain` holding `d`.
    pub fn of_date_in(grain: Grain, d: NaiveDate) -> Self {
        let step = grain.months();
        Self { year: d.year(), month: (d.month() - 1) / step * step + 1, grain }
    }

    pub fn grain(self) -> Grain {
        self.grain
    }

    pub fn year(self) -> i32 {
        self.year
    }

    /// The period's first month (1 to 12).
    pub fn month(self) -> u32 {
        self.month
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid by construction")
    }

    /// The as-at date: the period's last day.
    pub fn end(self) -> NaiveDate {
        self.next().start().pred_opt().expect("not the first day of the calendar")
    }

    pub fn next(self) -> Self {
        self.plus(1)
    }

    pub fn prev(self) -> Self {
        self.minus(1)
    }

    /// `n` periods of the same grain later.
    pub fn plus(self, n: u32) -> Self {
        Self::of_date_in(self.grain, self.start() + Months::new(n * self.grain.months()))
    }

    /// `n` periods of the same grain earlier.
    pub fn minus(self, n: u32) -> Self {
        Self::of_date_in(self.grain, self.start() - Months::new(n * self.grain.months()))
    }

    /// The period of the same grain holding the date `n` months before this one's start: the
    /// same period a year earlier for `n = 12`, whatever the grain.
    pub fn minus_months(self, n: u32) -> Self {
        Self::of_date_in(self.grain, self.start() - Months::new(n))
    }

    /// The same period a year earlier.
    pub fn year_earlier(self) -> Self {
        self.minus_months(12)
    }

    /// "January 2022", or "October to December 2021" for a quarter, as the report titles its
    /// edition.
    pub fn label(self) -> String {
        match self.grain {
            Grain::Month => self.start().format("%B %Y").to_string(),
            Grain::Quarter => {
                let last = Self::of_date(self.end());
                format!("{} to {}", self.start().format("%B"), last.start().format("%B %Y"))
            }
        }
    }

    /// "Jan 22", or "Q4 21": a chart's axis label.
    pub fn short_label(self) -> String {
        match self.grain {
            Grain::Month => self.start().format("%b %y").to_string(),
            Grain::Quarter => format!("Q{} {}", (self.month - 1) / 3 + 1, self.start().format("%y")),
        }
    }

    /// The months this period covers, oldest first.
    pub fn months(self) -> Vec<Period> {
        let first = Self::of_date(self.start());
        (0..self.grain.months()).map(|k| first.plus(k)).collect()
    }

    /// The `n` periods ending with this one, oldest first.
    pub fn trend(self, n: u32) -> Vec<Period> {
        (0..n).rev().map(|k| self.minus(k)).collect()
    }

    /// The last complete calendar month at `today` (the date in Europe/London).
    pub fn last_complete(today: NaiveDate) -> Self {
        Self::last_complete_in(Grain::Month, today)
    }

    /// The last complete period of `grain` at `today`.
    pub fn last_complete_in(grain: Grain, today: NaiveDate) -> Self {
        Self::of_date_in(grain, today).prev()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.grain {
            Grain::Month => write!(f, "{:04}-{:02}", self.year, self.month),
            Grain::Quarter => write!(f, "{:04}-Q{}", self.year, (self.month - 1) / 3 + 1),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodParseError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let year = y.parse().map_err(|_| err())?;
        if let Some(q) = m.strip_prefix('Q') {
            if q.len() != 1 {
                return Err(err());
            }
            return Period::quarter(year, q.parse().map_err(|_| err())?).ok_or_else(err);
        }
        if m.len() != 2 {
            return Err(err());
        }
        let month = m.parse().map_err(|_| err())?;
        Period::new(year, month).ok_or_else(err)
    }
}

/// `d - n months` as kpis.md defines it: keep the day of the month, clamp to the end of a
/// shorter target month.
pub fn minus_months(d: NaiveDate, n: u32) -> NaiveDate {
    d - Months::new(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        let p: Period = "2022-01".parse().unwrap();
        assert_eq!(p.to_string(), "2022-01");
        assert_eq!(p.start(), d("2022-01-01"));
        assert_eq!(p.end(), d("2022-01-31"));
        assert_eq!(p.label(), "January 2022");
        assert!("2022-13".parse::<Period>().is_err());
        assert!("2022-1".parse::<Period>().is_err());
        assert!("22-01".parse::<Period>().is_err());
        assert_eq!("2024-02".parse::<Period>().unwrap().end(), d("2024-02-29"));
    }

    #[test]
    fn trend_is_eighteen_months_oldest_first() {
        let t = "2022-01".parse::<Period>().unwrap().trend(18);
        assert_eq!(t.len(), 18);
        assert_eq!(t[0].to_string(), "2020-08");
        assert_eq!(t[17].to_string(), "2022-01");
    }

    #[test]
    fn month_arithmetic_clamps_like_sql_intervals() {
        assert_eq!(minus_months(d("2022-03-31"), 1), d("2022-02-28"));
        assert_eq!(minus_months(d("2021-02-28"), 12), d("2020-02-28"));
        assert_eq!(minus_months(d("2021-11-30"), 30), d("2019-05-30"));
        assert_eq!(minus_months(d("2024-02-29"), 12), d("2023-02-28"));
    }

    #[test]
    fn quarters_parse_print_and_end_on_the_quarters_last_day() {
        let q: Period = "2021-Q4".parse().unwrap();
        assert_eq!(q.grain(), Grain::Quarter);
        assert_eq!(q.to_string(), "2021-Q4");
        assert_eq!(q.start(), d("2021-10-01"));
        assert_eq!(q.end(), d("2021-12-31"));
        assert_eq!(q.label(), "October to December 2021");
        assert_eq!(q.short_label(), "Q4 21");
        assert_eq!(q.months().iter().map(ToString::to_string).collect::<Vec<_>>(), ["2021-10", "2021-11", "2021-12"]);
        assert_eq!(q.next().to_string(), "2022-Q1");
        assert_eq!(q.year_earlier().to_string(), "2020-Q4");
        assert_eq!("2024-Q1".parse::<Period>().unwrap().end(), d("2024-03-31"));
        for bad in ["2021-Q0", "2021-Q5", "2021-Q", "2021-Q12", "2021-q4", "21-Q4"] {
            assert!(bad.parse::<Period>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quarterly_trend_steps_back_whole_quarters_across_years() {
        let t: Vec<String> = "2021-Q4".parse::<Period>().unwrap().trend(8).iter().map(ToString::to_string).collect();
        assert_eq!(t, ["2020-Q1", "2020-Q2", "2020-Q3", "2020-Q4", "2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]);
    }

    #[test]
    fn the_last_complete_quarter_is_the_one_before_todays() {
        assert_eq!(Period::last_complete_in(Grain::Quarter, d("2022-01-05")).to_string(), "2021-Q4");
        assert_eq!(Period::last_complete_in(Grain::Quarter, d("2022-03-31")).to_string(), "2021-Q4");
        assert_eq!(Period::last_complete_in(Grain::Quarter, d("2022-04-01")).to_string(), "2022-Q1");
        assert_eq!(Period::of_date_in(Grain::Quarter, d("2021-11-15")).to_string(), "2021-Q4");
    }

    #[test]
    fn default_period_is_last_complete_month() {
        assert_eq!(Period::last_complete(d("2022-02-01")).to_string(), "2022-01");
        assert_eq!(Period::last_complete(d("2022-01-15")).to_string(), "2021-12");
    }
}
