//! Reporting periods: a calendar month, its as-at date and the trend that ends with it.

use chrono::{Datelike, Months, NaiveDate};
use std::fmt;
use std::str::FromStr;

/// A calendar month, the unit the report is produced for (`2022-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a period: expected YYYY-MM, e.g. 2022-01")]
pub struct PeriodParseError(pub String);

impl Period {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1900..=9999).contains(&year)).then_some(Self { year, month })
    }

    pub fn of_date(d: NaiveDate) -> Self {
        Self { year: d.year(), month: d.month() }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("valid by construction")
    }

    /// The as-at date: the last day of the month.
    pub fn end(self) -> NaiveDate {
        self.next().start().pred_opt().expect("not the first day of the calendar")
    }

    pub fn next(self) -> Self {
        self.plus_months(1)
    }

    pub fn prev(self) -> Self {
        self.minus_months(1)
    }

    pub fn plus_months(self, n: u32) -> Self {
        Self::of_date(self.start() + Months::new(n))
    }

    pub fn minus_months(self, n: u32) -> Self {
        Self::of_date(self.start() - Months::new(n))
    }

    /// "January 2022", as the report titles its edition.
    pub fn label(self) -> String {
        self.start().format("%B %Y").to_string()
    }

    /// The `n` periods ending with this one, oldest first.
    pub fn trend(self, n: u32) -> Vec<Period> {
        (0..n).rev().map(|k| self.minus_months(k)).collect()
    }

    /// The last complete calendar month at `today` (the date in Europe/London).
    pub fn last_complete(today: NaiveDate) -> Self {
        Self::of_date(today).prev()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Period {
    type Err = PeriodParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || PeriodParseError(s.to_string());
        let (y, m) = s.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(err());
        }
        let year = y.parse().map_err(|_| err())?;
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
    fn default_period_is_last_complete_month() {
        assert_eq!(Period::last_complete(d("2022-02-01")).to_string(), "2022-01");
        assert_eq!(Period::last_complete(d("2022-01-15")).to_string(), "2021-12");
    }
}
