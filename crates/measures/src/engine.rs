//! The compute stage: register the landed and reference tables, build the staging views in
//! dependency order, run every measure and the data-quality rules.
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::execution::context::SessionContext;
use scrutiny_core::Period;
use serde_yaml::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::{DefinitionError, MeasureError};
use crate::project::{Measure, Model, Project, Unit, render};
use crate::reference::OrgUnit;
use crate::session::{
    Inputs, Models, Readers, days, locate_error, register_empty_sources, register_models, register_sources, session,
};
use crate::values::{MetricValue, status};
use scrutiny_core::settings::ComputeSettings;

/// A data-quality count: how many rows a rule dropped or repaired in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityRow {
    pub table_name: String,
    pub rule: String,
    pub rows_seen: i64,
    pub rows_affected: i64,
}

pub struct Computed {
    pub values: Vec<MetricValue>,
    pub quality: Vec<QualityRow>,
    /// The measures computed, targets as the settings set them.
    pub measures: Vec<Measure>,
    pub org_units: Vec<OrgUnit>,
    pub periods: Vec<Period>,
    /// `code_set, code, label, sort_order`: labels for measures' categories.
    pub code_sets: Vec<[String; 4]>,
    /// Published comparators for the council's measures (none without `council` settings).
    pub benchmarks: Vec<crate::benchmarks::BenchmarkRow>,
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    batch.column_by_name(name)
}

/// The columns every measure returns, and the types they are read as.
pub const MEASURE_COLUMNS: [(&str, DataType); 5] = [
    ("period", DataType::Utf8),
    ("org_unit", DataType::Utf8),
    ("category", DataType::Utf8),
    ("numerator", DataType::Int64),
    ("denominator", DataType::Int64),
];

/// Checks a measure's output schema: the five columns, each castable to its type.
pub fn check_measure_schema(schema: &datafusion::common::DFSchema) -> Result<(), String> {
    let mut problems = Vec::new();
    for (name, want) in &MEASURE_COLUMNS {
        match schema.fields().iter().find(|f| f.name() == name) {
            None => problems.push(format!("missing column `{name}`")),
            Some(f) => {
                let t = f.data_type();
                let ok = match want {
                    DataType::Utf8 => {
                        matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null)
                    }
                    _ => t.is_integer() || matches!(t, DataType::Null),
                };
                if !ok {
                    problems.push(format!(
                        "column `{name}` is {t}, expected {}",
                        if *want == DataType::Utf8 { "text" } else { "an integer" }
                    ));
                }
            }
        }
    }
    if schema.fields().len() != MEASURE_COLUMNS.len() && problems.is_empty() {
        let extra: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !MEASURE_COLUMNS.iter().any(|(c, _)| c == n))
            .collect();
        problems.push(format!("unexpected column{} {}", if extra.len() == 1 { "" } else { "s" }, extra.join(", ")));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("a measure returns period, org_unit, category, numerator, denominator: {}", problems.join("; ")))
    }
}

/// Runs one measure and turns its rows into mart rows.
/// Its `AS MATERIALIZED` CTEs are stored as `how` says.
pub async fn run_measure(
    ctx: &SessionContext,
    m: &Measure,
    inputs: &Inputs,
    how: Models<'_>,
) -> Result<Vec<MetricValue>, MeasureError> {
    let fail = |message: String| MeasureError::Measure {
        measure: m.meta.id.clone(),
        file: m.file.clone(),
        message: crate::error::without_values(&message),
    };
    let sql = render(&m.sql, &inputs.vars, &m.file, m.first_line).map_err(|e| MeasureError::Definitions(vec![e]))?;
    let df =
        ctx.sql(&sql).await.map_err(|e| MeasureError::Definitions(vec![locate_error(&m.file, m.first_line, &e)]))?;
    check_measure_schema(df.schema())
        .map_err(|msg| MeasureError::Definitions(vec![DefinitionError::new(&m.file, m.first_line, msg)]))?;
    let planned = crate::cte::plan(ctx, df, &sql, &m.meta.id, how).await.map_err(|e| fail(e.to_string()))?;
    let batches = planned.df.clone().collect().await.map_err(|e| fail(e.to_string()))?;
    drop(planned);
    let target = inputs.targets.get(&m.meta.id).copied().or(m.meta.target);
    let ends: HashMap<String, i32> =
        inputs.period.trend(inputs.trend_months).into_iter().map(|p| (p.to_string(), days(p.end()))).collect();
    let run_period = inputs.period.to_string();
    let mut out = Vec::new();
    for b in batches {
        let get = |name: &str, t: &DataType| {
            cast(column(&b, name).expect("schema checked"), t).map_err(|e| fail(e.to_string()))
        };
        let (period, org, cat) =
            (get("period", &DataType::Utf8)?, get("org_unit", &DataType::Utf8)?, get("category", &DataType::Utf8)?);
        let (num, den) = (get("numerator", &DataType::Int64)?, get("denominator", &DataType::Int64)?);
        let (period, org, cat) = (period.as_string::<i32>(), org.as_string::<i32>(), cat.as_string::<i32>());
        let (num, den) = (num.as_primitive::<Int64Type>(), den.as_primitive::<Int64Type>());
        for i in 0..b.num_rows() {
            let p = period
                .is_valid(i)
                .then(|| period.value(i).to_string())
                .ok_or_else(|| fail("a row has no period".into()))?;
            let Some(&period_end) = ends.get(&p) else {
                return Err(fail(format!("period `{p}` is not one of reporting_periods")));
            };
            if m.meta.snapshot && p != run_period {
                continue;
            }
            let org_unit = org
                .is_valid(i)
                .then(|| org.value(i).to_string())
                .ok_or_else(|| fail("a row has no org_unit".into()))?;
            let numerator = num.is_valid(i).then(|| num.value(i));
            let (denominator, value) = match m.meta.unit {
                Unit::Count => (None, numerator.map(|n| n as f64)),
                Unit::Rate => {
                    let d = den.is_valid(i).then(|| den.value(i));
                    let v = match (numerator, d) {
                        (Some(n), Some(d)) if d != 0 => Some(n as f64 / d as f64),
                        _ => None,
                    };
                    (d, v)
                }
            };
            out.push(MetricValue {
                metric_id: m.meta.id.clone(),
                period: p,
                period_end,
                org_unit,
                category: cat.is_valid(i).then(|| cat.value(i).to_string()),
                numerator,
                denominator,
                value,
                value_prev_month: None,
                value_last_year: None,
                change_vs_last_year: None,
                target,
                status: status(value, target, m.meta.polarity),
                run_id: inputs.run_id.clone(),
            });
        }
    }
    let mut seen = HashSet::new();
    for r in &out {
        if !seen.insert((&r.period, &r.org_unit, &r.category)) {
            return Err(fail(format!(
                "two rows for period {}, org unit {}, category {:?}",
                r.period, r.org_unit, r.category
            )));
        }
    }
    Ok(out)
}

/// How many measures or quality rules run at once in a computation. Each statement already
/// spreads over every core, but not all the time (planning, for one, runs on one). Two at a
/// time fill some of the gaps: at national scale the measures and rules took 5.6 s instead of
/// 6.5 s (medians of three runs). The rules and measures share one queue, and the next
/// statement starts as soon as either running one ends, not when the one ahead of it in the
/// queue does (a long statement ahead kept a core idle): 6.45 s instead of 6.86 s at national
/// scale (means of four runs of each build, alternated ABBA), and no change at scale 20. The
/// staging models, tried the same way, gained nothing, so they are built one at a time. Their
/// log lines then overlap: each `ms` is its own wall time.
pub const CONCURRENT_STATEMENTS: usize = 2;

/// What a statement of the compute queue gives back: a rule's counts, or a measure's values with
/// its place among the measures computed.
enum Finished<'a> {
    Rule(Vec<QualityRow>),
    Measure(usize, &'a Measure, Vec<MetricValue>),
}

/// The queue's results in file order, whatever order the statements finished in: the measures
/// as their files come, the quality counts by table and rule.
fn in_file_order(finished: Vec<Finished<'_>>) -> (Vec<(&Measure, Vec<MetricValue>)>, Vec<QualityRow>) {
    let mut measures = Vec::new();
    let mut quality = Vec::new();
    for f in finished {
        match f {
            Finished::Rule(rows) => quality.extend(rows),
            Finished::Measure(place, m, rows) => measures.push((place, m, rows)),
        }
    }
    measures.sort_by_key(|(place, _, _)| *place);
    by_table_and_rule(&mut quality);
    (measures.into_iter().map(|(_, m, rows)| (m, rows)).collect(), quality)
}

/// The quality counts sorted by table, then rule, whatever order their rules ran in.
fn by_table_and_rule(quality: &mut [QualityRow]) {
    quality.sort_by(|a, b| (&a.table_name, &a.rule).cmp(&(&b.table_name, &b.rule)));
}

/// Runs the data-quality rules of `sql/quality/`, `CONCURRENT_STATEMENTS` at a time.
/// Their `AS MATERIALIZED` CTEs are stored as `how` says.
pub async fn run_quality(
    ctx: &SessionContext,
    project: &Project,
    vars: &BTreeMap<String, Value>,
    how: Models<'_>,
) -> Result<Vec<QualityRow>, MeasureError> {
    use futures::{StreamExt, TryStreamExt};
    let per_rule: Vec<Vec<QualityRow>> = futures::stream::iter(&project.quality)
        .map(|q| run_rule(ctx, q, vars, how))
        .buffered(CONCURRENT_STATEMENTS)
        .try_collect()
        .await?;
    let mut out: Vec<QualityRow> = per_rule.into_iter().flatten().collect();
    by_table_and_rule(&mut out);
    Ok(out)
}

/// Runs one data-quality rule.
async fn run_rule(
    ctx: &SessionContext,
    q: &Model,
    vars: &BTreeMap<String, Value>,
    how: Models<'_>,
) -> Result<Vec<QualityRow>, MeasureError> {
    let fail = |message: String| MeasureError::Model {
        model: q.name.clone(),
        file: q.file.clone(),
        message: crate::error::without_values(&message),
    };
    let sql = render(&q.sql, vars, &q.file, 1).map_err(|e| MeasureError::Definitions(vec![e]))?;
    let df = ctx.sql(&sql).await.map_err(|e| MeasureError::Definitions(vec![locate_error(&q.file, 1, &e)]))?;
    let started = std::time::Instant::now();
    let planned = crate::cte::plan(ctx, df, &sql, &q.name, how).await.map_err(|e| fail(e.to_string()))?;
    let batches = planned.df.clone().collect().await.map_err(|e| fail(e.to_string()))?;
    drop(planned);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    tracing::info!(rule = %q.name, rows, ms = started.elapsed().as_millis() as u64, "quality rule run");
    let mut out = Vec::new();
    for b in batches {
        let get = |n: &str, t: &DataType| -> Result<ArrayRef, MeasureError> {
            let c = column(&b, n).ok_or_else(|| {
                fail(format!("a quality rule returns table_name, rule, rows_seen, rows_affected: no `{n}`"))
            })?;
            cast(c, t).map_err(|e| fail(e.to_string()))
        };
        let (t, r) = (get("table_name", &DataType::Utf8)?, get("rule", &DataType::Utf8)?);
        let (s, a) = (get("rows_seen", &DataType::Int64)?, get("rows_affected", &DataType::Int64)?);
        let (t, r, s, a) =
            (t.as_string::<i32>(), r.as_string::<i32>(), s.as_primitive::<Int64Type>(), a.as_primitive::<Int64Type>());
        for i in 0..b.num_rows() {
            out.push(QualityRow {
                table_name: t.value(i).into(),
                rule: r.value(i).into(),
                rows_seen: s.value(i),
                rows_affected: a.value(i),
            });
        }
    }
    Ok(out)
}

/// A private directory (owner only, removed when dropped) for the staging models of one
/// computation: in `compute.spill_dir` when set, else the system's temporary directory.
pub fn scratch_dir(compute: &ComputeSettings) -> Result<tempfile::TempDir, MeasureError> {
    let parent = compute.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    scrutiny_core::fs::create_private_dir(&parent)
        .and_then(|()| tempfile::Builder::new().prefix("scrutiny-models-").tempdir_in(&parent))
        .map_err(|e| MeasureError::Reference {
            file: parent.clone(),
            message: format!("the scratch directory for staging models cannot be created: {e}"),
        })
}

/// Computes every measure (or the selected ones) and the data-quality counts.
pub async fn compute(project: &Project, inputs: &Inputs) -> Result<Computed, MeasureError> {
    use futures::{FutureExt, StreamExt, TryStreamExt};
    let ctx = session(inputs)?;
    register_sources(&ctx, &inputs.tables).await?;
    // A pipeline lands only the tables its measures read; the others are empty here, so every
    // staging model and quality rule still plans, and their counts are left out below.
    let landed: HashSet<&str> = inputs.tables.iter().map(|(n, _)| n.as_str()).collect();
    register_empty_sources(&ctx, &project.contract, &landed)?;
    let scratch = scratch_dir(&inputs.compute)?;
    let readers = Readers { measures: inputs.select.as_deref() };
    let streams = register_models(&ctx, project, &inputs.vars, Models::OnDisk(scratch.path()), readers).await?;
    let (ctx, scratch, streams) = (&ctx, &scratch, &streams);
    let selected = project.measures.iter().filter(|m| inputs.select.as_ref().is_none_or(|s| s.contains(&m.meta.id)));
    let how = Models::OnDisk(scratch.path());
    // The rules first: `person_ids`, the longest statement of the queue at national scale, then
    // overlaps the measures instead of running alone at the end.
    let rules = project.quality.iter().map(|q| {
        async move {
            let rows = run_rule(ctx, q, &inputs.vars, how).await.map_err(|e| streams.annotate(e))?;
            Ok::<_, MeasureError>(Finished::Rule(rows))
        }
        .boxed()
    });
    let measures = selected.enumerate().map(|(place, m)| {
        async move {
            let started = std::time::Instant::now();
            let rows = run_measure(ctx, m, inputs, how).await.map_err(|e| streams.annotate(e))?;
            tracing::info!(measure = %m.meta.id, rows = rows.len(), ms = started.elapsed().as_millis() as u64, "measure computed");
            Ok::<_, MeasureError>(Finished::Measure(place, m, rows))
        }
        .boxed()
    });
    let finished: Vec<Finished> =
        futures::stream::iter(rules.chain(measures)).buffer_unordered(CONCURRENT_STATEMENTS).try_collect().await?;
    let (computed, mut quality) = in_file_order(finished);
    let mut values = Vec::new();
    let mut measures = Vec::new();
    for (m, rows) in computed {
        values.extend(rows);
        let mut m = m.clone();
        m.meta.target = inputs.targets.get(&m.meta.id).copied().or(m.meta.target);
        measures.push(m);
    }
    quality.retain(|q| landed.contains(q.table_name.as_str()));
    Ok(Computed {
        values,
        quality,
        org_units: inputs.team_map.org_units(),
        periods: inputs.period.trend(inputs.trend_months),
        code_sets: inputs.code_sets.clone(),
        benchmarks: inputs
            .benchmarks
            .as_ref()
            .map(|(council, reference)| crate::benchmarks::rows(&measures, reference, council, inputs.period.end()))
            .unwrap_or_default(),
        measures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_that_finish_out_of_order_are_reported_in_file_order() {
        let project = Project::load(&scrutiny_core::checkout_root().join("sql")).unwrap();
        let m = &project.measures;
        let count = |table: &str, rule: &str| QualityRow {
            table_name: table.into(),
            rule: rule.into(),
            rows_seen: 1,
            rows_affected: 0,
        };
        // As the queue might finish them: a later measure first, rules between the measures.
        let finished = vec![
            Finished::Measure(2, &m[2], Vec::new()),
            Finished::Rule(vec![count("ssd_person", "no_person_id"), count("ssd_cin_plans", "orphan_person_id_kept")]),
            Finished::Measure(0, &m[0], Vec::new()),
            Finished::Rule(vec![count("ssd_cin_plans", "exact_duplicate_dropped")]),
            Finished::Measure(1, &m[1], Vec::new()),
        ];
        let (measures, quality) = in_file_order(finished);
        let ids: Vec<&str> = measures.iter().map(|(m, _)| m.meta.id.as_str()).collect();
        assert_eq!(ids, [&m[0].meta.id, &m[1].meta.id, &m[2].meta.id]);
        let rules: Vec<(&str, &str)> = quality.iter().map(|q| (q.table_name.as_str(), q.rule.as_str())).collect();
        assert_eq!(
            rules,
            [
                ("ssd_cin_plans", "exact_duplicate_dropped"),
                ("ssd_cin_plans", "orphan_person_id_kept"),
                ("ssd_person", "no_person_id")
            ]
        );
    }
}
