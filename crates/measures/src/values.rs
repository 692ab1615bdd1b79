//! Rows of the mart's `metric_values` and the figures the engine derives for every row.

use datafusion::arrow::array::{ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Int64Type, Schema, SchemaRef};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use crate::project::Polarity;
use scrutiny_core::Period;

#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    pub metric_id: String,
    pub period: String,
    /// Days since 1970-01-01.
    pub period_end: i32,
    pub org_unit: String,
    pub category: Option<String>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub value: Option<f64>,
    pub value_prev_month: Option<f64>,
    pub value_last_year: Option<f64>,
    pub change_vs_last_year: Option<f64>,
    pub target: Option<f64>,
    pub status: Option<String>,
    pub run_id: String,
}

/// `on_target` / `off_target` where the measure has a target and a value.
pub fn status(value: Option<f64>, target: Option<f64>, polarity: Polarity) -> Option<String> {
    let (v, t) = (value?, target?);
    let on = match polarity {
        Polarity::HigherIsBetter => v >= t,
        Polarity::LowerIsBetter => v <= t,
        Polarity::Neutral => return None,
    };
    Some(if on { "on_target" } else { "off_target" }.to_string())
}

/// Fills `value_prev_month`, `value_last_year` and `change_vs_last_year` of every row from the
/// rows themselves: the same measure, org unit and category one period and one year earlier.
pub fn derive(rows: &mut [MetricValue]) {
    let index: HashMap<(&str, &str, Option<&str>, &str), Option<f64>> = rows
        .iter()
        .map(|r| ((r.metric_id.as_str(), r.org_unit.as_str(), r.category.as_deref(), r.period.as_str()), r.value))
        .collect();
    // The previous period and the same period a year earlier, months or quarters alike.
    let earlier = |r: &MetricValue, step: fn(Period) -> Period| -> Option<f64> {
        let key = step(r.period.parse().ok()?).to_string();
        *index.get(&(r.metric_id.as_str(), r.org_unit.as_str(), r.category.as_deref(), key.as_str()))?
    };
    let derived: Vec<(Option<f64>, Option<f64>)> =
        rows.iter().map(|r| (earlier(r, Period::prev), earlier(r, Period::year_earlier))).collect();
    for (r, (prev, last_year)) in rows.iter_mut().zip(derived) {
        r.value_prev_month = prev;
        r.value_last_year = last_year;
        r.change_vs_last_year = match (r.value, last_year) {
            (Some(v), Some(ly)) if ly != 0.0 => Some((v - ly) / ly),
            _ => None,
        };
    }
}

/// The mart's sort order: `metric_id, period, org_unit, category` (NULL category first).
pub fn sort(rows: &mut [MetricValue]) {
    rows.sort_by(|a, b| {
        (&a.metric_id, &a.period, &a.org_unit, &a.category).cmp(&(&b.metric_id, &b.period, &b.org_unit, &b.category))
    });
}

pub static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("metric_id", DataType::Utf8, false),
        Field::new("period", DataType::Utf8, false),
        Field::new("period_end", DataType::Date32, false),
        Field::new("org_unit", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, true),
        Field::new("numerator", DataType::Int64, true),
        Field::new("denominator", DataType::Int64, true),
        Field::new("value", DataType::Float64, true),
        Field::new("value_prev_month", DataType::Float64, true),
        Field::new("value_last_year", DataType::Float64, true),
        Field::new("change_vs_last_year", DataType::Float64, true),
        Field::new("target", DataType::Float64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("run_id", DataType::Utf8, false),
    ]))
});

pub fn to_batch(rows: &[MetricValue]) -> RecordBatch {
    let s = |f: fn(&MetricValue) -> Option<&str>| Arc::new(rows.iter().map(f).collect::<StringArray>()) as ArrayRef;
    let i = |f: fn(&MetricValue) -> Option<i64>| Arc::new(rows.iter().map(f).collect::<Int64Array>()) as ArrayRef;
    let fl = |f: fn(&MetricValue) -> Option<f64>| Arc::new(rows.iter().map(f).collect::<Float64Array>()) as ArrayRef;
    RecordBatch::try_new(
        SCHEMA.clone(),
        vec![
            s(|r| Some(&r.metric_id)),
            s(|r| Some(&r.period)),
            Arc::new(rows.iter().map(|r| Some(r.period_end)).collect::<Date32Array>()),
            s(|r| Some(&r.org_unit)),
            s(|r| r.category.as_deref()),
            i(|r| r.numerator),
            i(|r| r.denominator),
            fl(|r| r.value),
            fl(|r| r.value_prev_month),
            fl(|r| r.value_last_year),
            fl(|r| r.change_vs_last_year),
            fl(|r| r.target),
            s(|r| r.status.as_deref()),
            s(|r| Some(&r.run_id)),
        ],
    )
    .expect("columns match the schema")
}

/// Reads rows back from a batch with the mart's schema (a previous mart).
pub fn from_batch(batch: &RecordBatch) -> Result<Vec<MetricValue>, String> {
    let col = |name: &str| batch.column_by_name(name).ok_or_else(|| format!("no column `{name}`"));
    let text = |name: &str| -> Result<Vec<Option<String>>, String> {
        let c = col(name)?;
        let a = c.as_string_opt::<i32>().ok_or_else(|| format!("`{name}` is not Utf8"))?;
        Ok(a.iter().map(|v| v.map(str::to_string)).collect())
    };
    let int = |name: &str| -> Result<Vec<Option<i64>>, String> {
        Ok(col(name)?.as_primitive_opt::<Int64Type>().ok_or_else(|| format!("`{name}` is not Int64"))?.iter().collect())
    };
    let float = |name: &str| -> Result<Vec<Option<f64>>, String> {
        Ok(col(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| format!("`{name}` is not Float64"))?
            .iter()
            .collect())
    };
    let (ids, periods, orgs, cats, statuses, runs) =
        (text("metric_id")?, text("period")?, text("org_unit")?, text("category")?, text("status")?, text("run_id")?);
    let ends: Vec<Option<i32>> =
        col("period_end")?.as_primitive_opt::<Date32Type>().ok_or("`period_end` is not Date32")?.iter().collect();
    let (num, den) = (int("numerator")?, int("denominator")?);
    let (val, prev, ly, chg, tgt) = (
        float("value")?,
        float("value_prev_month")?,
        float("value_last_year")?,
        float("change_vs_last_year")?,
        float("target")?,
    );
    Ok((0..batch.num_rows())
        .map(|k| MetricValue {
            metric_id: ids[k].clone().unwrap_or_default(),
            period: periods[k].clone().unwrap_or_default(),
            period_end: ends[k].unwrap_or_default(),
            org_unit: orgs[k].clone().unwrap_or_default(),
            category: cats[k].clone(),
            numerator: num[k],
            denominator: den[k],
            value: val[k],
            value_prev_month: prev[k],
            value_last_year: ly[k],
            change_vs_last_year: chg[k],
            target: tgt[k],
            status: statuses[k].clone(),
            run_id: runs[k].clone().unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, value: Option<f64>) -> MetricValue {
        MetricValue {
            metric_id: "m".into(),
            period: period.into(),
            period_end: 0,
            org_unit: "ALL".into(),
            category: None,
            numerator: None,
            denominator: None,
            value,
            value_prev_month: None,
            value_last_year: None,
            change_vs_last_year: None,
            target: None,
            status: None,
            run_id: "r".into(),
        }
    }

    #[test]
    fn derived_figures_look_back_one_and_twelve_periods() {
        let mut rows = vec![row("2021-01", Some(400.0)), row("2021-12", Some(480.0)), row("2022-01", Some(500.0))];
        derive(&mut rows);
        assert_eq!(rows[2].value_prev_month, Some(480.0));
        assert_eq!(rows[2].value_last_year, Some(400.0));
        assert_eq!(rows[2].change_vs_last_year, Some(0.25));
        assert_eq!(rows[0].value_prev_month, None, "the oldest period has none");
        assert_eq!(rows[1].value_last_year, None);
    }

    #[test]
    fn change_is_null_when_last_year_is_zero_or_null() {
        let mut rows =
            vec![row("2021-01", Some(0.0)), row("2022-01", Some(5.0)), row("2021-02", None), row("2022-02", Some(1.0))];
        derive(&mut rows);
        assert_eq!(rows[1].change_vs_last_year, None);
        assert_eq!(rows[3].change_vs_last_year, None);
    }

    #[test]
    fn status_follows_polarity() {
        assert_eq!(status(Some(0.9), Some(0.9), Polarity::HigherIsBetter).as_deref(), Some("on_target"));
        assert_eq!(status(Some(0.89), Some(0.9), Polarity::HigherIsBetter).as_deref(), Some("off_target"));
        assert_eq!(status(Some(0.2), Some(0.22), Polarity::LowerIsBetter).as_deref(), Some("on_target"));
        assert_eq!(status(None, Some(0.9), Polarity::HigherIsBetter), None);
        assert_eq!(status(Some(1.0), None, Polarity::HigherIsBetter), None);
    }

    #[test]
    fn batches_round_trip() {
        let mut r = row("2022-01", Some(0.5));
        r.category = Some("B".into());
        r.numerator = Some(1);
        r.denominator = Some(2);
        let rows = vec![r];
        assert_eq!(from_batch(&to_batch(&rows)).unwrap(), rows);
    }
}
