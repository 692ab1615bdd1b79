//! What the summary email and the report say: the figures of a period, grouped by the report's
//! areas, formatted as people read them, suppressed when asked, with the officers' commentary.
//!
//! Only aggregate figures are read here (measure values and data-quality counts), so nothing
//! person-level can reach a template.

use crate::NotifyError;
use scrutiny_core::Period;
use scrutiny_core::settings::ReportSettings;
use scrutiny_measures::spc::{self, SpecialCause, Variation};
use scrutiny_measures::values::MetricValue;
use scrutiny_measures::{Computed, Polarity, Unit};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// A figure as people read it: counts as whole numbers, rates as percentages.
pub fn format_value(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "n/a".into(),
        (Some(x), Unit::Count) => format_count(x),
        (Some(x), Unit::Rate) => format!("{:.1}%", x * 100.0),
    }
}

pub(crate) fn format_count(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub(crate) fn format_change(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:+.1}%", x * 100.0))
}

/// A figure as shown: `c` in place of a count from 1 to 5, or of a rate whose numerator is
/// one, when small numbers are suppressed.
pub fn shown(value: Option<f64>, numerator: Option<i64>, unit: Unit, suppress: bool) -> String {
    if suppress && is_small(value, numerator, unit) { "c".into() } else { format_value(value, unit) }
}

fn is_small(value: Option<f64>, numerator: Option<i64>, unit: Unit) -> bool {
    let small = |n: i64| (1..=5).contains(&n);
    match unit {
        Unit::Count => value.is_some_and(|v| small(v.round() as i64)),
        Unit::Rate => numerator.is_some_and(small),
    }
}

/// Officers' commentary for a period, by area, as the seed report has it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commentary {
    /// Area -> "What is the data telling us?"
    #[serde(default)]
    pub telling_us: BTreeMap<String, String>,
    /// Area -> "What questions is the data raising for us?"
    #[serde(default)]
    pub questions: BTreeMap<String, String>,
}

impl Commentary {
    /// `<dir>/<period>.yaml`, or none when there is no such file.
    pub fn load(dir: &Path, period: Period) -> Result<Self, NotifyError> {
        let path = dir.join(format!("{period}.yaml"));
        let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Self::default()) };
        serde_yaml::from_str(&text).map_err(|e| NotifyError::Commentary { path, message: e.to_string() })
    }

    /// `load`, refusing commentary on an area the report does not have (a typo would
    /// otherwise vanish).
    pub fn load_checked(dir: &Path, period: Period, areas: &[&str]) -> Result<Self, NotifyError> {
        let c = Self::load(dir, period)?;
        if let Some(area) = c.telling_us.keys().chain(c.questions.keys()).find(|a| !areas.contains(&a.as_str())) {
            return Err(NotifyError::Commentary {
                path: dir.join(format!("{period}.yaml")),
                message: format!("no area `{area}` in the report (areas: {})", areas.join(", ")),
            });
        }
        Ok(c)
    }
}

/// One row of a breakdown: an org unit, or a category of the measure.
#[derive(Debug, Clone, Serialize)]
pub struct BreakdownRow {
    pub name: String,
    pub value: String,
    pub prev: String,
}

/// A measure's breakdown rows of one kind: by locality, by service, by accommodation type.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    pub heading: String,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureLine {
    pub id: String,
    pub title: String,
    /// What the measure counts, from its definition's metadata.
    pub description: String,
    pub value: String,
    pub prev: String,
    pub last_year: String,
    pub change: String,
    pub target: Option<String>,
    /// `on target` / `off target` where there is a target but too short a series for SPC;
    /// with SPC, the assurance icon says more and this is empty.
    pub status: String,
    /// The variation icon of the headline (spc.md): its key and its words for people.
    pub variation: Option<String>,
    pub variation_words: Option<String>,
    /// The assurance icon, where the measure has a target and a better direction.
    pub assurance: Option<String>,
    pub assurance_words: Option<String>,
    /// The published comparators of the latest year ending on or before the period's end:
    /// "England 2020-21: 22.7%".
    pub benchmarks: Vec<String>,
    /// The XmR chart's lines and its special-cause points, aligned with `series`.
    #[serde(skip)]
    pub control: Option<Control>,
    pub breakdowns: Vec<Breakdown>,
    /// The headline's value over the trend periods, oldest first; empty when suppression
    /// would hide any point of it.
    #[serde(skip)]
    pub series: Vec<Option<f64>>,
    #[serde(skip)]
    pub unit: Unit,
    #[serde(skip)]
    pub target_value: Option<f64>,
    /// The chart described in words, for screen readers and blocked images.
    pub trend_alt: String,
}

/// How a point of an XmR chart is drawn: spc.md's variation of that point alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointKind {
    Common,
    Improvement,
    Concern,
    /// A special cause on a measure with no better direction.
    Neither,
}

/// The lines and point kinds of the headline's XmR chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Control {
    pub mean: f64,
    pub lower_limit: f64,
    pub upper_limit: f64,
    /// One per trend period: `None` where the series has no value.
    pub points: Vec<Option<PointKind>>,
}

fn point_kind(cause: SpecialCause, direction: i64, polarity: Polarity) -> PointKind {
    match spc::point_variation(cause, direction, polarity) {
        Variation::CommonCause => PointKind::Common,
        Variation::SpecialCauseImprovement => PointKind::Improvement,
        Variation::SpecialCauseConcern => PointKind::Concern,
        Variation::SpecialCauseNeitherHigh | Variation::SpecialCauseNeitherLow => PointKind::Neither,
    }
}

/// What the latest special cause is, in words: "7 months below its average".
fn special_cause_phrase(chart: &spc::Chart, latest: Period) -> String {
    let Some(&(cause, direction)) = chart.points.last() else { return String::new() };
    let run = chart.latest_run();
    let grain = latest.grain();
    let many = |n: usize| if n == 1 { format!("1 {grain}") } else { format!("{n} {grain}s") };
    let (up, down) = (direction > 0, direction < 0);
    match cause {
        SpecialCause::Outside if up => format!("{} above its upper process limit", latest.label()),
        SpecialCause::Outside => format!("{} below its lower process limit", latest.label()),
        SpecialCause::Trend if up => format!("{} rising in a row", many(run)),
        SpecialCause::Trend => format!("{} falling in a row", many(run)),
        SpecialCause::TwoInThree if up => format!("2 of the last 3 {grain}s close to its upper process limit"),
        SpecialCause::TwoInThree => format!("2 of the last 3 {grain}s close to its lower process limit"),
        SpecialCause::Shift if up => format!("{} above its average", many(run)),
        SpecialCause::Shift if down => format!("{} below its average", many(run)),
        SpecialCause::Shift | SpecialCause::CommonCause => String::new(),
    }
}

/// The headline's SPC sentence with its rank (concerns first), when its latest point is a
/// special cause at `period`: "ICPC timeliness: a real change for the worse: 7 months below its
/// average."
fn signal(m: &scrutiny_measures::Measure, s: &spc::Series, period: Period) -> Option<(u8, String)> {
    // Only a signal at the period being reported on is news.
    if s.periods.last() != Some(&period) {
        return None;
    }
    let variation = s.chart.variation(m.meta.polarity);
    let rank = match variation {
        Variation::CommonCause => return None,
        Variation::SpecialCauseConcern => 0,
        Variation::SpecialCauseImprovement => 1,
        _ => 2,
    };
    Some((rank, format!("{}: {}: {}.", m.meta.title, variation.words(), special_cause_phrase(&s.chart, period))))
}

#[derive(Debug, Clone, Serialize)]
pub struct Area {
    pub name: String,
    pub measures: Vec<MeasureLine>,
    /// "What is the data telling us?"
    pub telling_us: Option<String>,
    /// "What questions is the data raising for us?"
    pub questions: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualityLine {
    pub table_name: String,
    pub rule: String,
    pub rows_affected: String,
    pub rows_seen: String,
}

/// Everything the email and the report show of one period.
#[derive(Debug, Clone, Serialize)]
pub struct Content {
    /// The pipeline's title: the report's heading and the email's subject.
    pub title: String,
    pub period_label: String,
    pub last_year_label: String,
    /// The trend's periods as chart labels (`Jan 22`), oldest first.
    pub trend_labels: Vec<String>,
    /// `month` or `quarter`: "previous month", "last 8 quarters".
    pub grain: String,
    pub areas: Vec<Area>,
    /// Special causes at this period (spc.md), concerns first.
    pub signals: Vec<String>,
    /// The largest movements against the same period last year.
    pub narrative: Vec<String>,
    pub quality: Vec<QualityLine>,
    pub suppressed: bool,
    pub power_bi_url: Option<String>,
    /// The Open Government Licence attribution, when any published benchmark is shown.
    pub attribution: Option<String>,
}

/// The row of a measure in the period holding the date `months` before `r`'s period starts:
/// 1 is the previous month or quarter, 12 the same period a year earlier.
fn earlier<'a>(values: &'a [MetricValue], r: &MetricValue, months: u32) -> Option<&'a MetricValue> {
    let p = r.period.parse::<Period>().ok()?.minus_months(months).to_string();
    values
        .iter()
        .find(|v| v.metric_id == r.metric_id && v.org_unit == r.org_unit && v.category == r.category && v.period == p)
}

fn headline<'a>(values: &'a [MetricValue], id: &str, period: &str) -> Option<&'a MetricValue> {
    values.iter().find(|v| v.metric_id == id && v.period == period && v.org_unit == "ALL" && v.category.is_none())
}

/// The change on last year as people read it: a count's relative change (`+13.8%`), a rate's
/// difference in percentage points (`-1.1 pts`), since "-1.7%" of a rate reads as points.
pub(crate) fn format_change_of(unit: Unit, now: Option<f64>, last_year: Option<f64>, relative: Option<f64>) -> String {
    match (unit, now, last_year) {
        (Unit::Rate, Some(a), Some(b)) => format!("{:+.1} pts", (a - b) * 100.0),
        (Unit::Rate, _, _) => "n/a".into(),
        (Unit::Count, _, _) => format_change(relative),
    }
}

/// A few sentences on the largest movements against the same month last year, largest
/// relative change first: "Number of ICPCs rose 16% on January 2021 (56 to 65)."
pub fn narrative(computed: &Computed, values: &[MetricValue], period: Period, suppress: bool) -> Vec<String> {
    let p = period.to_string();
    let last_year = period.year_earlier().label();
    let mut moves: Vec<(f64, String)> = Vec::new();
    for m in &computed.measures {
        let unit = m.meta.unit;
        let Some(r) = headline(values, &m.meta.id, &p) else { continue };
        let (Some(change), Some(before)) = (r.change_vs_last_year, earlier(values, r, 12)) else { continue };
        let hidden = |v: &MetricValue| suppress && is_small(v.value, v.numerator, unit);
        if change.abs() < 0.005 || hidden(r) || hidden(before) {
            continue;
        }
        let verb = if change > 0.0 { "rose" } else { "fell" };
        let by = match (unit, r.value, before.value) {
            (Unit::Rate, Some(a), Some(b)) => format!("{:.1} points", (a - b).abs() * 100.0),
            _ => format!("{:.0}%", change.abs() * 100.0),
        };
        let (from, to) = (format_value(before.value, unit), format_value(r.value, unit));
        moves.push((change.abs(), format!("{} {verb} {by} on {last_year} ({from} to {to}).", m.meta.title)));
    }
    moves.sort_by(|a, b| b.0.total_cmp(&a.0));
    moves.into_iter().take(3).map(|(_, s)| s).collect()
}

fn breakdowns(
    computed: &Computed,
    m: &scrutiny_measures::Measure,
    rows: &[&MetricValue],
    values: &[MetricValue],
    suppress: bool,
) -> Vec<Breakdown> {
    let unit = m.meta.unit;
    let row = |name: String, v: &MetricValue| BreakdownRow {
        name,
        value: shown(v.value, v.numerator, unit, suppress),
        prev: earlier(values, v, 1)
            .map_or_else(|| format_value(None, unit), |r| shown(r.value, r.numerator, unit, suppress)),
    };
    let mut out = Vec::new();
    // By org unit, in the team map's order, one table per kind.
    for (kind, heading) in [("locality", "By locality"), ("service", "By service"), ("unknown", "Team not known")] {
        let mut units: Vec<_> = computed.org_units.iter().filter(|o| o.kind == kind).collect();
        units.sort_by_key(|o| o.sort_order);
        let lines: Vec<BreakdownRow> = units
            .iter()
            .filter_map(|o| rows.iter().find(|v| v.org_unit == o.org_unit && v.category.is_none()))
            .map(|v| row(v.org_unit.clone(), v))
            .collect();
        if !lines.is_empty() {
            out.push(Breakdown { heading: heading.into(), rows: lines });
        }
    }
    // By category, labelled and ordered by the measure's code set.
    let mut cats: Vec<(u32, BreakdownRow, Option<f64>, Option<f64>)> = rows
        .iter()
        .filter(|v| v.org_unit == "ALL")
        .filter_map(|v| {
            let c = v.category.as_ref()?;
            let coded = m.meta.categories.as_ref().and_then(|set| {
                computed
                    .code_sets
                    .iter()
                    .find(|r| &r[0] == set && &r[1] == c)
                    .map(|r| (r[3].parse().unwrap_or(u32::MAX), r[2].clone()))
            });
            let (order, label) = coded.unwrap_or((u32::MAX, c.clone()));
            Some((order, row(label, v), v.value, earlier(values, v, 1).and_then(|r| r.value)))
        })
        .collect();
    cats.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    if suppress && unit == Unit::Count {
        let now: Vec<Option<f64>> = cats.iter().map(|c| c.2).collect();
        hide_complement(cats.iter_mut().map(|c| &mut c.1.value).collect(), &now);
        let prev: Vec<Option<f64>> = cats.iter().map(|c| c.3).collect();
        hide_complement(cats.iter_mut().map(|c| &mut c.1.prev).collect(), &prev);
    }
    let cats: Vec<(u32, BreakdownRow)> = cats.into_iter().map(|(o, r, _, _)| (o, r)).collect();
    if !cats.is_empty() {
        let heading = match &m.meta.categories {
            Some(set) if set.contains("accommodation") => "By type of accommodation".to_string(),
            _ => "By category".to_string(),
        };
        out.push(Breakdown { heading, rows: cats.into_iter().map(|(_, r)| r).collect() });
    }
    out
}

/// Complementary suppression for counts that add up to a shown total: one hidden cell could be
/// worked out from the total and the others, so the smallest other non-zero cell is hidden too.
fn hide_complement(mut cells: Vec<&mut String>, values: &[Option<f64>]) {
    if cells.iter().filter(|c| c.as_str() == "c").count() != 1 {
        return;
    }
    let next = (0..cells.len())
        .filter(|&i| cells[i].as_str() != "c" && values[i].is_some_and(|v| v > 0.0))
        .min_by(|&a, &b| values[a].unwrap_or(0.0).total_cmp(&values[b].unwrap_or(0.0)));
    if let Some(i) = next {
        *cells[i] = "c".into();
    }
}

/// A measure's published comparators, latest year first: the council's own, England, its region
/// and its statistical neighbours' mean, each with its year.
fn benchmark_lines(computed: &Computed, m: &scrutiny_measures::Measure) -> Vec<String> {
    let (id, unit) = (m.meta.id.as_str(), m.meta.unit);
    let note = m.meta.benchmark.as_ref().and_then(|b| b.note.as_ref()).map_or(String::new(), |n| format!(" ({n})"));
    let rows: Vec<_> = computed.benchmarks.iter().filter(|b| b.metric_id == id).collect();
    let Some(latest) = rows.iter().map(|b| b.year_ending).max() else { return Vec::new() };
    let year = scrutiny_measures::benchmarks::year_label(latest);
    rows.iter()
        .filter(|b| b.year_ending == latest)
        .map(|b| {
            let value = b.value.map_or_else(|| "not published".to_string(), |v| format_value(Some(v), unit));
            match b.neighbours_with_value {
                Some(n) => format!("Statistical neighbours {year}: {value} (mean of {n})"),
                None => format!("{} {year}: {value}{note}", b.area),
            }
        })
        .collect()
}

/// The period's figures, formatted, grouped by area in the report's order, with commentary.
pub fn content(
    title: &str,
    computed: &Computed,
    values: &[MetricValue],
    period: Period,
    settings: &ReportSettings,
) -> Result<Content, NotifyError> {
    let suppress = settings.suppress_small_numbers;
    let p = period.to_string();
    let mut areas: Vec<Area> = Vec::new();
    let mut signals: Vec<(u8, String)> = Vec::new();
    for m in &computed.measures {
        let unit = m.meta.unit;
        let rows: Vec<&MetricValue> = values.iter().filter(|v| v.metric_id == m.meta.id && v.period == p).collect();
        let head = headline(values, &m.meta.id, &p);
        // A measure reported only by category (unsuitable accommodation) has no ALL row: its
        // headline is the sum of its categories, as the seed report's total.
        let (value, numerator) = match head {
            Some(h) => (h.value, h.numerator),
            None if unit == Unit::Count && !rows.is_empty() => {
                let total = rows.iter().filter(|v| v.org_unit == "ALL").filter_map(|v| v.value).sum::<f64>();
                (Some(total), Some(total.round() as i64))
            }
            None => (None, None),
        };
        let at = |months: u32| {
            head.and_then(|h| earlier(values, h, months))
                .map_or_else(|| format_value(None, unit), |r| shown(r.value, r.numerator, unit, suppress))
        };
        let trend: Vec<Option<&MetricValue>> =
            computed.periods.iter().map(|q| headline(values, &m.meta.id, &q.to_string())).collect();
        let series: Vec<Option<f64>> = trend.iter().map(|v| v.and_then(|v| v.value)).collect();
        let hide_series = suppress && trend.iter().flatten().any(|v| is_small(v.value, v.numerator, unit));
        let known: Vec<f64> = series.iter().flatten().copied().collect();
        let trend_alt = if known.len() >= 2 && !hide_series {
            format!(
                "{} over the last {} {}s: from {} in {} to {} in {}",
                m.meta.title,
                computed.periods.len(),
                period.grain(),
                format_value(known.first().copied(), unit),
                series.iter().position(Option::is_some).map(|i| computed.periods[i].label()).unwrap_or_default(),
                format_value(known.last().copied(), unit),
                series.iter().rposition(Option::is_some).map(|i| computed.periods[i].label()).unwrap_or_default(),
            )
        } else {
            String::new()
        };
        let spc_series = if m.meta.snapshot { None } else { spc::series(values, &m.meta.id, "ALL", &computed.periods) };
        signals.extend(spc_series.as_ref().and_then(|s| signal(m, s, period)));
        let variation = spc_series.as_ref().map(|s| s.chart.variation(m.meta.polarity));
        let assurance = spc_series.as_ref().and_then(|s| s.chart.assurance(m.meta.target, m.meta.polarity));
        let control = spc_series.as_ref().filter(|_| !hide_series).map(|s| Control {
            mean: s.chart.mean,
            lower_limit: s.chart.lower_limit,
            upper_limit: s.chart.upper_limit,
            points: computed
                .periods
                .iter()
                .map(|p| {
                    let i = s.periods.iter().position(|q| q == p)?;
                    let (cause, direction) = s.chart.points[i];
                    Some(point_kind(cause, direction, m.meta.polarity))
                })
                .collect(),
        });
        let line = MeasureLine {
            id: m.meta.id.clone(),
            title: m.meta.title.clone(),
            description: m.meta.description.clone(),
            value: shown(value, numerator, unit, suppress),
            prev: at(1),
            last_year: at(12),
            change: format_change_of(
                unit,
                head.and_then(|h| h.value),
                head.and_then(|h| earlier(values, h, 12)).and_then(|r| r.value),
                head.and_then(|h| h.change_vs_last_year),
            ),
            target: m.meta.target.map(|t| format_value(Some(t), unit)),
            status: if spc_series.is_some() {
                String::new()
            } else {
                head.and_then(|h| h.status.clone()).unwrap_or_default().replace('_', " ")
            },
            variation: variation.map(|v| v.as_str().to_string()),
            variation_words: variation.map(|v| v.words().to_string()),
            assurance: assurance.map(|a| a.as_str().to_string()),
            assurance_words: assurance.map(|a| a.words().to_string()),
            control,
            benchmarks: benchmark_lines(computed, m),
            breakdowns: breakdowns(computed, m, &rows, values, suppress),
            series: if hide_series || known.len() < 2 { Vec::new() } else { series },
            unit,
            target_value: m.meta.target,
            trend_alt,
        };
        match areas.iter_mut().find(|a| a.name == m.meta.area) {
            Some(a) => a.measures.push(line),
            None => {
                areas.push(Area { name: m.meta.area.clone(), measures: vec![line], telling_us: None, questions: None })
            }
        }
    }
    if let Some(dir) = &settings.commentary_dir {
        let known: Vec<&str> = areas.iter().map(|a| a.name.as_str()).collect();
        let mut c = Commentary::load_checked(dir, period, &known)?;
        for a in &mut areas {
            a.telling_us = c.telling_us.remove(&a.name);
            a.questions = c.questions.remove(&a.name);
        }
    }
    let quality = computed
        .quality
        .iter()
        .filter(|q| q.rows_affected > 0)
        .map(|q| QualityLine {
            table_name: q.table_name.clone(),
            rule: q.rule.replace('_', " "),
            // Rows about children, so as small as a count of children they are suppressed too.
            rows_affected: shown(Some(q.rows_affected as f64), Some(q.rows_affected), Unit::Count, suppress),
            rows_seen: format_count(q.rows_seen as f64),
        })
        .collect();
    Ok(Content {
        title: title.to_string(),
        period_label: period.label(),
        last_year_label: period.year_earlier().label(),
        trend_labels: computed.periods.iter().map(|q| q.short_label()).collect(),
        grain: period.grain().to_string(),
        areas,
        signals: {
            signals.sort_by_key(|o| o.0);
            signals.into_iter().map(|(_, s)| s).collect()
        },
        narrative: narrative(computed, values, period, suppress),
        quality,
        suppressed: suppress,
        power_bi_url: settings.power_bi_url.clone(),
        attribution: (!computed.benchmarks.is_empty()).then(|| scrutiny_measures::benchmarks::ATTRIBUTION.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_the_report_writes_them() {
        assert_eq!(format_value(Some(503.0), Unit::Count), "503");
        assert_eq!(format_value(Some(75_123.0), Unit::Count), "75,123");
        assert_eq!(format_value(Some(0.2187), Unit::Rate), "21.9%");
        assert_eq!(format_value(None, Unit::Rate), "n/a");
        assert_eq!(format_change(Some(0.138)), "+13.8%");
        assert_eq!(format_change(Some(-0.278)), "-27.8%");
        assert_eq!(format_change_of(Unit::Count, Some(503.0), Some(442.0), Some(0.138)), "+13.8%");
        assert_eq!(format_change_of(Unit::Rate, Some(0.697), Some(0.708), Some(-0.0155)), "-1.1 pts");
        assert_eq!(format_change_of(Unit::Rate, Some(0.697), None, None), "n/a");
    }

    #[test]
    fn one_hidden_cell_of_a_total_takes_the_next_smallest_with_it() {
        let mut cells: Vec<String> = ["c", "12", "0", "7", "30"].map(String::from).to_vec();
        let values = [Some(3.0), Some(12.0), Some(0.0), Some(7.0), Some(30.0)];
        hide_complement(cells.iter_mut().collect(), &values);
        assert_eq!(cells, ["c", "12", "0", "c", "30"], "7 is hidden, not the zero");
        let mut two: Vec<String> = ["c", "c", "9"].map(String::from).to_vec();
        hide_complement(two.iter_mut().collect(), &[Some(2.0), Some(4.0), Some(9.0)]);
        assert_eq!(two, ["c", "c", "9"], "two hidden cells cannot be told apart");
        let mut none: Vec<String> = ["8", "9"].map(String::from).to_vec();
        hide_complement(none.iter_mut().collect(), &[Some(8.0), Some(9.0)]);
        assert_eq!(none, ["8", "9"]);
    }

    #[test]
    fn small_numbers_are_suppressed_only_when_asked() {
        assert_eq!(shown(Some(3.0), Some(3), Unit::Count, true), "c");
        assert_eq!(shown(Some(0.0), Some(0), Unit::Count, true), "0", "zero is not suppressed");
        assert_eq!(shown(Some(6.0), Some(6), Unit::Count, true), "6");
        assert_eq!(shown(Some(0.5), Some(5), Unit::Rate, true), "c", "a rate on a suppressed numerator");
        assert_eq!(shown(Some(0.5), Some(50), Unit::Rate, true), "50.0%");
        assert_eq!(shown(Some(3.0), Some(3), Unit::Count, false), "3");
    }
}

#[cfg(test)]
mod hostile_input {
    use super::*;

    proptest::proptest! {
        /// Any commentary file gives commentary or an error naming the file: never a panic.
        #[test]
        fn any_commentary_file_is_read_or_refused(text in "\\PC{0,300}", area in "\\PC{0,20}") {
            let dir = tempfile::tempdir().unwrap();
            let period: Period = "2022-01".parse().unwrap();
            std::fs::write(dir.path().join("2022-01.yaml"), &text).unwrap();
            if let Err(e) = Commentary::load_checked(dir.path(), period, &["Referrals"]) {
                assert!(e.to_string().contains("2022-01.yaml"), "{e}");
            }
            let structured = format!("telling_us:\n  {}: |\n    {}\n", area.replace(['\n', ':'], " "), text.replace('\n', " "));
            std::fs::write(dir.path().join("2022-01.yaml"), structured).unwrap();
            let _ = Commentary::load_checked(dir.path(), period, &["Referrals"]);
        }
    }
}
