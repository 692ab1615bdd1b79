//! Statistical process control, as `spec/spc.md` states it (the NHS "Making Data Count" XmR
//! chart, after NHSRplotthedots): for each measure and org unit, a mean, process limits, the
//! special-cause type of every point and the series' variation and assurance icons.
//!
//! The rules are applied literally, so another implementation of spc.md flags the same points.

use crate::project::{Measure, Polarity};
use crate::values::MetricValue;
use scrutiny_core::Period;
use std::collections::HashMap;

/// Fewer points than this give no limits worth reading, so no SPC at all.
pub const MIN_POINTS: usize = 12;
/// A run of this many points makes a trend (strictly rising or falling) or a shift (one side).
pub const RUN: usize = 7;
const LIMIT_SIGMAS: f64 = 2.66;
const SCREEN: f64 = 3.267;

/// The special-cause type of a point, in spc.md's order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialCause {
    Outside,
    Trend,
    TwoInThree,
    Shift,
    CommonCause,
}

impl SpecialCause {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialCause::Outside => "outside",
            SpecialCause::Trend => "trend",
            SpecialCause::TwoInThree => "two_in_three",
            SpecialCause::Shift => "shift",
            SpecialCause::CommonCause => "common_cause",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variation {
    CommonCause,
    SpecialCauseImprovement,
    SpecialCauseConcern,
    SpecialCauseNeitherHigh,
    SpecialCauseNeitherLow,
}

impl Variation {
    pub fn as_str(self) -> &'static str {
        match self {
            Variation::CommonCause => "common_cause",
            Variation::SpecialCauseImprovement => "special_cause_improvement",
            Variation::SpecialCauseConcern => "special_cause_concern",
            Variation::SpecialCauseNeitherHigh => "special_cause_neither_high",
            Variation::SpecialCauseNeitherLow => "special_cause_neither_low",
        }
    }

    /// What people are told (spc.md, "Words for people").
    pub fn words(self) -> &'static str {
        match self {
            Variation::SpecialCauseImprovement => "improving: a real change, not noise",
            Variation::SpecialCauseConcern => "a real change for the worse",
            Variation::CommonCause => "no significant change",
            // spc.md gives no words for a measure with no better direction; these say what
            // happened without judging it.
            Variation::SpecialCauseNeitherHigh => "a real change, upwards",
            Variation::SpecialCauseNeitherLow => "a real change, downwards",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assurance {
    ConsistentPass,
    ConsistentFail,
    Inconsistent,
}

impl Assurance {
    pub fn as_str(self) -> &'static str {
        match self {
            Assurance::ConsistentPass => "consistent_pass",
            Assurance::ConsistentFail => "consistent_fail",
            Assurance::Inconsistent => "inconsistent",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Assurance::ConsistentPass => "will reliably meet the target without change",
            Assurance::ConsistentFail => "will not meet the target without change",
            Assurance::Inconsistent => "will sometimes meet the target",
        }
    }
}

/// An XmR chart of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub mean: f64,
    /// The average moving range after screening.
    pub amr: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    /// Per point, oldest first: its type and direction (+1, -1, 0).
    pub points: Vec<(SpecialCause, i64)>,
    /// The series charted, oldest first.
    pub values: Vec<f64>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// `values` oldest first, none missing. `None` below [`MIN_POINTS`].
pub fn chart(values: &[f64]) -> Option<Chart> {
    let n = values.len();
    if n < MIN_POINTS {
        return None;
    }
    let centre = mean(values);
    let ranges: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let amr = mean(&ranges);
    // With every range zero (a flat series), screening would drop them all; nothing is unusual.
    let screened: Vec<f64> = ranges.iter().copied().filter(|&r| r < SCREEN * amr).collect();
    let amr = if screened.is_empty() { amr } else { mean(&screened) };
    let (lower, upper) = (centre - LIMIT_SIGMAS * amr, centre + LIMIT_SIGMAS * amr);
    let near = 2.0 / 3.0 * LIMIT_SIGMAS * amr;

    let side: Vec<i64> = values
        .iter()
        .map(|&x| {
            if x > centre {
                1
            } else if x < centre {
                -1
            } else {
                0
            }
        })
        .collect();
    let outside: Vec<bool> = values.iter().map(|&x| x > upper || x < lower).collect();
    let close: Vec<bool> =
        values.iter().zip(&outside).map(|(&x, &out)| !out && (x > centre + near || x < centre - near)).collect();

    // Trend: maximal strictly monotone runs of RUN or more points. A point ending a rising run
    // and starting a falling one (or the reverse) takes the run to its right, so rising runs are
    // marked first and falling ones overwrite, and vice versa, in order of where they start.
    let mut trend: Vec<i64> = vec![0; n];
    let mut runs: Vec<(usize, usize, i64)> = Vec::new();
    for dir in [1i64, -1] {
        let mut start = 0;
        for i in 1..=n {
            let continues = i < n && if dir > 0 { values[i] > values[i - 1] } else { values[i] < values[i - 1] };
            if !continues {
                if i - start >= RUN {
                    runs.push((start, i, dir));
                }
                start = i;
            }
        }
    }
    runs.sort_by_key(|r| r.0);
    for (start, end, dir) in runs {
        trend[start..end].iter_mut().for_each(|d| *d = dir);
    }

    // Two in three: a window of three on one side with at least two close points.
    let mut two_in_three = vec![false; n];
    for w in 0..n.saturating_sub(2) {
        let s = side[w];
        if s != 0 && side[w + 1] == s && side[w + 2] == s && close[w..w + 3].iter().filter(|&&c| c).count() >= 2 {
            (w..w + 3).filter(|&i| close[i]).for_each(|i| two_in_three[i] = true);
        }
    }

    // Shift: runs of RUN or more points on one side (a point on the mean breaks the run).
    let mut shift = vec![false; n];
    let mut start = 0;
    for i in 1..=n {
        if i == n || side[i] != side[start] {
            if side[start] != 0 && i - start >= RUN {
                shift[start..i].iter_mut().for_each(|s| *s = true);
            }
            start = i;
        }
    }

    let points = (0..n)
        .map(|i| {
            if outside[i] {
                (SpecialCause::Outside, side[i])
            } else if trend[i] != 0 {
                (SpecialCause::Trend, trend[i])
            } else if two_in_three[i] {
                (SpecialCause::TwoInThree, side[i])
            } else if shift[i] {
                (SpecialCause::Shift, side[i])
            } else {
                (SpecialCause::CommonCause, 0)
            }
        })
        .collect();
    Some(Chart { mean: centre, amr, lower_limit: lower, upper_limit: upper, points, values: values.to_vec() })
}

fn polarity_sign(p: Polarity) -> i64 {
    match p {
        Polarity::HigherIsBetter => 1,
        Polarity::LowerIsBetter => -1,
        Polarity::Neutral => 0,
    }
}

/// The variation of one point: how its chart marks it, and, for the latest, the series' icon.
pub fn point_variation(cause: SpecialCause, direction: i64, polarity: Polarity) -> Variation {
    if cause == SpecialCause::CommonCause {
        return Variation::CommonCause;
    }
    match direction * polarity_sign(polarity) {
        d if d > 0 => Variation::SpecialCauseImprovement,
        d if d < 0 => Variation::SpecialCauseConcern,
        _ if direction > 0 => Variation::SpecialCauseNeitherHigh,
        _ => Variation::SpecialCauseNeitherLow,
    }
}

impl Chart {
    /// The variation icon: of the latest point.
    pub fn variation(&self, polarity: Polarity) -> Variation {
        self.points
            .last()
            .map_or(Variation::CommonCause, |&(cause, direction)| point_variation(cause, direction, polarity))
    }

    /// The assurance icon, for a measure with a target and a better direction.
    pub fn assurance(&self, target: Option<f64>, polarity: Polarity) -> Option<Assurance> {
        let t = target?;
        let higher = match polarity {
            Polarity::HigherIsBetter => true,
            Polarity::LowerIsBetter => false,
            Polarity::Neutral => return None,
        };
        Some(if t > self.upper_limit {
            if higher { Assurance::ConsistentFail } else { Assurance::ConsistentPass }
        } else if t < self.lower_limit {
            if higher { Assurance::ConsistentPass } else { Assurance::ConsistentFail }
        } else {
            Assurance::Inconsistent
        })
    }

    /// How long the latest point's signal has lasted, for people: for a shift, the points in a
    /// row on its side of the mean ("9 months below its average", though some of them may be
    /// flagged by a rule of higher precedence); for a trend, the points in its rising or falling
    /// run; otherwise the points in a row with its type and direction.
    pub fn latest_run(&self) -> usize {
        let Some(&(cause, direction)) = self.points.last() else { return 0 };
        let n = self.values.len();
        match cause {
            SpecialCause::Shift => self
                .values
                .iter()
                .rev()
                .take_while(|&&x| (x - self.mean).signum() as i64 == direction && x != self.mean)
                .count(),
            SpecialCause::Trend => {
                1 + (1..n)
                    .rev()
                    .take_while(|&i| {
                        if direction > 0 {
                            self.values[i] > self.values[i - 1]
                        } else {
                            self.values[i] < self.values[i - 1]
                        }
                    })
                    .count()
            }
            _ => self.points.iter().rev().take_while(|p| **p == (cause, direction)).count(),
        }
    }
}

/// A row of the mart's `spc` table.
#[derive(Debug, Clone, PartialEq)]
pub struct SpcRow {
    pub metric_id: String,
    pub org_unit: String,
    pub period: String,
    pub value: f64,
    pub mean: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    pub special_cause: SpecialCause,
    pub direction: i64,
    pub variation: Variation,
    pub assurance: Option<Assurance>,
}

/// One measure and org unit's series over `periods`: its charted periods and chart.
pub struct Series {
    pub periods: Vec<Period>,
    pub values: Vec<f64>,
    pub chart: Chart,
}

/// The series of `metric_id` for `org_unit` over `periods` (oldest first), NULL values left out,
/// or `None` when fewer than [`MIN_POINTS`] remain.
pub fn series(values: &[MetricValue], metric_id: &str, org_unit: &str, periods: &[Period]) -> Option<Series> {
    let by_period: HashMap<&str, Option<f64>> = values
        .iter()
        .filter(|v| v.metric_id == metric_id && v.org_unit == org_unit && v.category.is_none())
        .map(|v| (v.period.as_str(), v.value))
        .collect();
    let (periods, values): (Vec<Period>, Vec<f64>) =
        periods.iter().filter_map(|p| Some((*p, (*by_period.get(p.to_string().as_str())?)?))).unzip();
    let chart = chart(&values)?;
    Some(Series { periods, values, chart })
}

/// SPC for every measure and org unit over the trend `periods`: one row per charted point.
/// Snapshot measures (one period) and category breakdowns get none, and nor does a series of
/// fewer than [`MIN_POINTS`] points (no row: spc.md allows either).
pub fn analyse(measures: &[Measure], periods: &[Period], values: &[MetricValue]) -> Vec<SpcRow> {
    let mut org_units: HashMap<&str, Vec<&str>> = HashMap::new();
    for v in values.iter().filter(|v| v.category.is_none()) {
        let units = org_units.entry(v.metric_id.as_str()).or_default();
        if !units.contains(&v.org_unit.as_str()) {
            units.push(v.org_unit.as_str());
        }
    }
    let mut out = Vec::new();
    for m in measures.iter().filter(|m| !m.meta.snapshot) {
        let mut units = org_units.get(m.meta.id.as_str()).cloned().unwrap_or_default();
        units.sort_unstable();
        for unit in units {
            let Some(s) = series(values, &m.meta.id, unit, periods) else { continue };
            let variation = s.chart.variation(m.meta.polarity);
            let assurance = s.chart.assurance(m.meta.target, m.meta.polarity);
            for ((p, x), (cause, direction)) in s.periods.iter().zip(&s.values).zip(&s.chart.points) {
                out.push(SpcRow {
                    metric_id: m.meta.id.clone(),
                    org_unit: unit.to_string(),
                    period: p.to_string(),
                    value: *x,
                    mean: s.chart.mean,
                    lower_limit: s.chart.lower_limit,
                    upper_limit: s.chart.upper_limit,
                    special_cause: *cause,
                    direction: *direction,
                    variation,
                    assurance,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SpecialCause::*;

    fn causes(c: &Chart) -> Vec<SpecialCause> {
        c.points.iter().map(|p| p.0).collect()
    }

    /// A steady series with alternating noise around 10: no rule fires.
    fn noise(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i % 2 == 0 { 10.0 } else { 11.0 }).collect()
    }

    #[test]
    fn fewer_than_twelve_points_get_no_chart() {
        assert!(chart(&noise(11)).is_none());
        assert!(chart(&noise(12)).is_some());
    }

    #[test]
    fn limits_are_the_mean_plus_and_minus_2_66_average_moving_ranges() {
        let c = chart(&noise(12)).unwrap();
        assert_eq!(c.mean, 10.5);
        assert_eq!(c.amr, 1.0);
        assert!((c.upper_limit - 13.16).abs() < 1e-9 && (c.lower_limit - 7.84).abs() < 1e-9);
        assert!(causes(&c).iter().all(|&t| t == CommonCause), "{:?}", c.points);
    }

    #[test]
    fn a_moving_range_of_3_267_average_ranges_or_more_is_screened_once() {
        // Eleven ranges of 1 and one jump of 20 (and back): amr 40/13 before screening; the two
        // jumps of 20 are >= 3.267 x amr, so amr becomes the mean of the eleven ranges of 1.
        let mut xs = noise(14);
        xs[7] = 31.0;
        let c = chart(&xs).unwrap();
        let raw: Vec<f64> = xs.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let amr = raw.iter().sum::<f64>() / raw.len() as f64;
        let kept: Vec<f64> = raw.iter().copied().filter(|&r| r < 3.267 * amr).collect();
        assert_eq!(kept.len(), 11);
        assert!((c.amr - kept.iter().sum::<f64>() / 11.0).abs() < 1e-12);
        assert_eq!(c.points[7], (Outside, 1));
    }

    #[test]
    fn a_flat_series_has_its_limits_on_the_mean_and_no_signal() {
        let c = chart(&[5.0; 12]).unwrap();
        assert_eq!((c.lower_limit, c.mean, c.upper_limit), (5.0, 5.0, 5.0));
        assert!(causes(&c).iter().all(|&t| t == CommonCause), "points on the mean have no side");
    }

    #[test]
    fn seven_rising_points_are_a_trend_and_six_are_not() {
        let mut xs = noise(18);
        for (i, x) in xs.iter_mut().enumerate().skip(5).take(7) {
            *x = 10.0 + 0.1 * (i - 5) as f64;
        }
        let c = chart(&xs).unwrap();
        assert!(c.points[5..12].iter().all(|&p| p == (Trend, 1)), "{:?}", c.points);
        assert_eq!(c.points[4].0, CommonCause);

        let mut six = noise(18);
        for (i, x) in six.iter_mut().enumerate().skip(5).take(6) {
            *x = 10.0 + 0.1 * (i - 5) as f64;
        }
        // The seventh point (index 11) is 11.0 after 10.5, still rising: make it fall instead.
        six[11] = 10.0;
        assert!(chart(&six).unwrap().points.iter().all(|p| p.0 != Trend));
    }

    #[test]
    fn equal_neighbours_break_a_trend() {
        let mut xs = noise(18);
        for (i, x) in xs.iter_mut().enumerate().skip(4).take(8) {
            *x = 10.0 + 0.1 * (i - 4) as f64;
        }
        xs[8] = xs[7]; // 4 rising, a tie, 3 rising
        assert!(chart(&xs).unwrap().points.iter().all(|p| p.0 != Trend));
    }

    #[test]
    fn a_point_where_a_rise_turns_into_a_fall_takes_the_fall() {
        // Rising over points 2..=8 (7 points), then falling over 8..=14 (7 points), peak at 8.
        let rise_and_fall = [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6, 10.5, 10.4, 10.3, 10.2, 10.1, 10.0];
        let xs: Vec<f64> = [&[10.0, 11.0][..], &rise_and_fall, &[11.0, 10.0, 11.0, 10.0, 11.0]].concat();
        let c = chart(&xs).unwrap();
        assert_eq!(c.points[7], (Trend, 1));
        assert_eq!(c.points[8], (Trend, -1), "the peak belongs to the run on its right");
        assert_eq!(c.points[9], (Trend, -1));
    }

    #[test]
    fn seven_points_on_one_side_are_a_shift_and_a_point_on_the_mean_breaks_it() {
        // Seven points above the mean, five below (halves, so the mean is exact).
        let xs = [10.5, 11.0, 10.5, 10.5, 10.5, 11.0, 10.5, 9.0, 9.5, 9.0, 9.5, 9.0];
        let c = chart(&xs).unwrap();
        assert!(c.points[..7].iter().all(|&p| p == (Shift, 1)), "{:?}", c.points);
        assert!(c.points[7..].iter().all(|&p| p.0 != Shift), "five below are not a shift");

        // The fourth point on the mean (exactly 10 of a mean of exactly 10): two runs of three.
        let broken = [10.5, 11.0, 10.5, 10.0, 10.5, 11.0, 10.5, 9.0, 9.5, 9.0, 9.5, 9.0];
        let c = chart(&broken).unwrap();
        assert_eq!(c.mean, 10.0);
        assert_eq!(c.points[3], (CommonCause, 0));
        assert!(c.points.iter().all(|p| p.0 != Shift), "{:?}", c.points);
    }

    #[test]
    fn two_of_three_close_to_a_limit_on_one_side_flag_the_close_ones() {
        // Noise around 10.5, then 13.8, 11.2, 13.8: mean 10.99, close beyond 13.56, upper limit
        // 14.85 (worked from spc.md by hand).
        let mut xs = noise(16);
        xs[10] = 13.8;
        xs[11] = 11.2;
        xs[12] = 13.8;
        let c = chart(&xs).unwrap();
        let close = c.mean + 2.0 / 3.0 * 2.66 * c.amr;
        assert!(xs[10] > close && xs[10] < c.upper_limit && xs[11] > c.mean && xs[11] < close, "{c:?}");
        assert_eq!(c.points[10], (TwoInThree, 1));
        assert_eq!(c.points[12], (TwoInThree, 1));
        assert_eq!(c.points[11], (CommonCause, 0), "the point that is not close is not flagged");
        assert_eq!(c.points.iter().filter(|p| p.0 != CommonCause).count(), 2);
    }

    #[test]
    fn a_close_point_across_the_mean_does_not_make_two_in_three() {
        let mut xs = noise(16);
        xs[10] = 13.8;
        xs[11] = 10.0; // below the mean
        xs[12] = 13.8;
        let c = chart(&xs).unwrap();
        assert!(xs[11] < c.mean);
        assert!(c.points.iter().all(|p| p.0 != TwoInThree), "{:?}", c.points);
    }

    #[test]
    fn outside_takes_precedence_over_a_trend_it_ends() {
        // Wide noise (10 and 14), a rise from 10 to 13 over seven months, then 40.
        let mut xs: Vec<f64> = (0..18).map(|i| if i % 2 == 0 { 10.0 } else { 14.0 }).collect();
        for (i, x) in xs.iter_mut().enumerate().take(13).skip(6) {
            *x = 10.0 + 0.5 * (i - 6) as f64;
        }
        xs[13] = 40.0;
        let c = chart(&xs).unwrap();
        assert_eq!(c.points[13], (Outside, 1));
        assert!(c.points[6..13].iter().all(|&p| p == (Trend, 1)), "{:?}", c.points);
        assert!(c.points[14..].iter().all(|&p| p.0 == CommonCause), "{:?}", c.points);
    }

    #[test]
    fn icons_follow_polarity_and_the_target_against_the_limits() {
        let mut xs = noise(12);
        xs[11] = 40.0;
        let c = chart(&xs).unwrap();
        assert_eq!(c.variation(Polarity::HigherIsBetter), Variation::SpecialCauseImprovement);
        assert_eq!(c.variation(Polarity::LowerIsBetter), Variation::SpecialCauseConcern);
        assert_eq!(c.variation(Polarity::Neutral), Variation::SpecialCauseNeitherHigh);
        assert_eq!(chart(&noise(12)).unwrap().variation(Polarity::HigherIsBetter), Variation::CommonCause);

        let c = chart(&noise(12)).unwrap(); // limits 7.84 .. 13.16
        assert_eq!(c.assurance(Some(20.0), Polarity::HigherIsBetter), Some(Assurance::ConsistentFail));
        assert_eq!(c.assurance(Some(20.0), Polarity::LowerIsBetter), Some(Assurance::ConsistentPass));
        assert_eq!(c.assurance(Some(1.0), Polarity::HigherIsBetter), Some(Assurance::ConsistentPass));
        assert_eq!(c.assurance(Some(1.0), Polarity::LowerIsBetter), Some(Assurance::ConsistentFail));
        assert_eq!(c.assurance(Some(10.0), Polarity::HigherIsBetter), Some(Assurance::Inconsistent));
        assert_eq!(c.assurance(Some(13.16), Polarity::HigherIsBetter), Some(Assurance::Inconsistent), "on a limit");
        assert_eq!(c.assurance(None, Polarity::HigherIsBetter), None);
        assert_eq!(c.assurance(Some(10.0), Polarity::Neutral), None);
    }

    #[test]
    fn a_shift_s_run_counts_every_point_on_its_side_even_those_flagged_otherwise() {
        // Noise, then points above the mean, two of them close (two in three): the shift is told
        // as every point above the mean in a row, not only those flagged shift.
        let mut xs = noise(14);
        xs.extend([12.4, 12.5, 11.0, 11.2, 11.0, 11.2, 11.0, 11.2]);
        let c = chart(&xs).unwrap();
        assert_eq!(c.points.last().unwrap(), &(Shift, 1), "{:?}", c.points);
        let above = xs.iter().rev().take_while(|&&x| x > c.mean).count();
        assert_eq!(c.latest_run(), above);
    }

    #[test]
    fn the_latest_run_counts_points_of_the_latest_type_and_direction() {
        let xs = [11.0, 11.8, 11.0, 11.8, 11.0, 10.0, 9.4, 10.0, 9.4, 10.0, 9.4, 10.0];
        let c = chart(&xs).unwrap();
        assert!(c.points[5..].iter().all(|&p| p == (Shift, -1)), "{:?}", c.points);
        assert_eq!(c.latest_run(), 7);
    }
}
