//! The compute stage: register the landed and reference tables, build the staging views in
//! dependency order, run every measure and the data-quality rules.

use chrono::Datelike;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringArray, UInt32Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::prelude::{ParquetReadOptions, SessionConfig};
use scrutiny_core::settings::ComputeSettings;
use scrutiny_core::{Period, WorkingDayCalendar};
use serde_yaml::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{DefinitionError, MetricsError};
use crate::project::{Measure, Model, Project, Unit, render};
use crate::values::{MetricValue, status};

const UNIX_EPOCH_CE: i32 = 719_163;

fn days(d: chrono::NaiveDate) -> i32 {
    d.num_days_from_ce() - UNIX_EPOCH_CE
}

/// A row of the team map: which org unit a team belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub org_unit: String,
    /// `all`, `locality`, `service` or `unknown`.
    pub kind: String,
    pub sort_order: u32,
}

/// A data-quality count: how many rows a rule dropped or repaired in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityRow {
    pub table_name: String,
    pub rule: String,
    pub rows_seen: i64,
    pub rows_affected: i64,
}

/// Everything a computation needs besides the definitions.
pub struct Inputs {
    pub period: Period,
    pub trend_months: u32,
    pub calendar: Arc<WorkingDayCalendar>,
    /// Resolved values of `sql/vars.yaml`.
    pub vars: BTreeMap<String, Value>,
    /// Per-measure targets from the settings.
    pub targets: BTreeMap<String, f64>,
    pub team_map: TeamMap,
    /// `code_set, description, code` rows: the council's code map.
    pub code_map: Vec<[String; 3]>,
    /// `code_set, code, label, sort_order` rows: the SSDA903 code sets.
    pub code_sets: Vec<[String; 4]>,
    /// Source tables: name and landed Parquet file.
    pub tables: Vec<(String, PathBuf)>,
    /// Only these measures, when given.
    pub select: Option<Vec<String>>,
    pub run_id: String,
    /// How much memory the computation may hold before it spills, and where: a Kubernetes
    /// memory limit is met by spilling rather than by an OOM kill.
    pub compute: ComputeSettings,
}

#[derive(Debug, Clone, Default)]
pub struct TeamMap {
    /// `(team_id, org_unit, kind)`, the first row of each team.
    pub teams: Vec<(String, String, String)>,
}

impl TeamMap {
    /// Reads `team_id,org_unit,org_unit_kind`. A team listed twice keeps its first row.
    pub fn read(path: &Path) -> Result<Self, MetricsError> {
        let bad = |message: String| MetricsError::Reference { file: path.to_path_buf(), message };
        let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let pos = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| bad(format!("no `{name}` column")));
        let (t, o, k) = (pos("team_id")?, pos("org_unit")?, pos("org_unit_kind")?);
        let mut seen = HashSet::new();
        let mut teams = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let kind = rec.get(k).unwrap_or("").trim().to_ascii_lowercase();
            if kind != "locality" && kind != "service" {
                return Err(bad(format!("line {line}: org_unit_kind must be `locality` or `service`, not `{kind}`")));
            }
            let team = rec.get(t).unwrap_or("").to_string();
            let org = rec.get(o).unwrap_or("").to_string();
            if org.is_empty() || org == "ALL" || org == "UNKNOWN" {
                return Err(bad(format!("line {line}: `{org}` cannot be an org unit name")));
            }
            if seen.insert(team.clone()) {
                teams.push((team, org, kind));
            }
        }
        Ok(Self { teams })
    }

    /// `ALL`, every org unit of the map in order of first appearance, then `UNKNOWN`.
    pub fn org_units(&self) -> Vec<OrgUnit> {
        let mut out = vec![OrgUnit { org_unit: "ALL".into(), kind: "all".into(), sort_order: 0 }];
        for (_, org, kind) in &self.teams {
            if !out.iter().any(|o| &o.org_unit == org) {
                out.push(OrgUnit { org_unit: org.clone(), kind: kind.clone(), sort_order: out.len() as u32 });
            }
        }
        out.push(OrgUnit { org_unit: "UNKNOWN".into(), kind: "unknown".into(), sort_order: out.len() as u32 });
        out
    }
}

/// The SSDA903 code sets shipped with the binary (`config/reference/ssda903_codes.csv`).
pub const CODE_SETS_CSV: &str = include_str!("../../../config/reference/ssda903_codes.csv");

/// Reads a `code_set,code,label,sort_order` CSV.
pub fn read_code_sets(text: &str, file: &Path) -> Result<Vec<[String; 4]>, MetricsError> {
    let bad = |message: String| MetricsError::Reference { file: file.to_path_buf(), message };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            if rec.len() != 4 {
                return Err(bad("columns must be code_set,code,label,sort_order".into()));
            }
            Ok([rec[0].to_string(), rec[1].to_string(), rec[2].to_string(), rec[3].to_string()])
        })
        .collect()
}

/// Reads a `code_set,description,code` CSV.
pub fn read_code_map(text: &str, file: &Path) -> Result<Vec<[String; 3]>, MetricsError> {
    let bad = |message: String| MetricsError::Reference { file: file.to_path_buf(), message };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers != ["code_set", "description", "code"] {
        return Err(bad("columns must be code_set,description,code".into()));
    }
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            Ok([rec[0].to_string(), rec[1].to_string(), rec[2].to_string()])
        })
        .collect()
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
}

fn df_err(context: impl Into<String>) -> impl FnOnce(datafusion::error::DataFusionError) -> MetricsError {
    let context = context.into();
    move |source| MetricsError::DataFusion { context, source }
}

fn strings(v: impl IntoIterator<Item = String>) -> ArrayRef {
    Arc::new(v.into_iter().map(Some).collect::<StringArray>())
}

fn mem_table(ctx: &SessionContext, name: &str, batch: RecordBatch) -> Result<(), MetricsError> {
    let t = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(df_err(name))?;
    ctx.register_table(name, Arc::new(t)).map_err(df_err(name))?;
    Ok(())
}

/// The runtime: without a limit, DataFusion's defaults; with one, a pool that shares the
/// limit fairly between the operators that can spill, and a spill directory.
fn runtime(memory: &ComputeSettings) -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>, MetricsError> {
    use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    let mut b = RuntimeEnvBuilder::new();
    if let Some(limit) = memory.memory_limit {
        b = b.with_memory_pool(Arc::new(FairSpillPool::new(usize::try_from(limit).unwrap_or(usize::MAX))));
    }
    if let Some(dir) = &memory.spill_dir {
        scrutiny_core::fs::create_private_dir(dir).map_err(|e| MetricsError::Reference {
            file: dir.clone(),
            message: format!("the spill directory cannot be created: {e}"),
        })?;
        b = b.with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
        );
    }
    b.build_arc().map_err(df_err("the compute runtime"))
}

/// A session with the working-day functions and the reference tables registered.
pub fn session(inputs: &Inputs) -> Result<SessionContext, MetricsError> {
    let mut config =
        SessionConfig::new().with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
    // Spans let a planning error (an unknown column, say) point at its line in the file.
    config.options_mut().sql_parser.collect_spans = true;
    let ctx = SessionContext::new_with_config_rt(config, runtime(&inputs.compute)?);
    let book = crate::udf::CodeBook::new(
        inputs.code_sets.iter().map(|r| (r[0].as_str(), r[1].as_str())),
        inputs.code_map.iter().map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str())),
    );
    for f in crate::udf::all(inputs.calendar.clone(), Arc::new(book)) {
        ctx.register_udf(f);
    }
    let periods = inputs.period.trend(inputs.trend_months);
    let batch = RecordBatch::try_from_iter(vec![
        ("period", strings(periods.iter().map(Period::to_string))),
        ("period_start", Arc::new(periods.iter().map(|p| Some(days(p.start()))).collect::<Date32Array>()) as ArrayRef),
        ("period_end", Arc::new(periods.iter().map(|p| Some(days(p.end()))).collect::<Date32Array>()) as ArrayRef),
        // The first day of the period's last month: "the last N months" end with the period's
        // last month, for a quarter as for a month (kpis.md's month-window rule).
        (
            "last_month_start",
            Arc::new(periods.iter().map(|p| Some(days(p.end().with_day(1).expect("day 1")))).collect::<Date32Array>())
                as ArrayRef,
        ),
        ("label", strings(periods.iter().map(|p| p.label()))),
    ])
    .map_err(|e| df_err("reporting_periods")(e.into()))?;
    mem_table(&ctx, "reporting_periods", batch)?;

    let teams = &inputs.team_map.teams;
    let batch = RecordBatch::try_from_iter(vec![
        ("team_id", strings(teams.iter().map(|t| t.0.clone()))),
        ("org_unit", strings(teams.iter().map(|t| t.1.clone()))),
        ("org_unit_kind", strings(teams.iter().map(|t| t.2.clone()))),
    ])
    .map_err(|e| df_err("team_org_units")(e.into()))?;
    mem_table(&ctx, "team_org_units", batch)?;

    let units = inputs.team_map.org_units();
    let batch = RecordBatch::try_from_iter(vec![
        ("org_unit", strings(units.iter().map(|u| u.org_unit.clone()))),
        ("org_unit_kind", strings(units.iter().map(|u| u.kind.clone()))),
        ("sort_order", Arc::new(units.iter().map(|u| Some(u.sort_order)).collect::<UInt32Array>()) as ArrayRef),
    ])
    .map_err(|e| df_err("org_units")(e.into()))?;
    mem_table(&ctx, "org_units", batch)?;

    let cm = &inputs.code_map;
    let batch = RecordBatch::try_from_iter(vec![
        ("code_set", strings(cm.iter().map(|r| r[0].clone()))),
        ("description", strings(cm.iter().map(|r| r[1].clone()))),
        ("code", strings(cm.iter().map(|r| r[2].clone()))),
    ])
    .map_err(|e| df_err("code_map")(e.into()))?;
    mem_table(&ctx, "code_map", batch)?;

    let cs = &inputs.code_sets;
    let order = |s: &str| s.parse::<u32>().ok();
    let batch = RecordBatch::try_from_iter(vec![
        ("code_set", strings(cs.iter().map(|r| r[0].clone()))),
        ("code", strings(cs.iter().map(|r| r[1].clone()))),
        ("label", strings(cs.iter().map(|r| r[2].clone()))),
        ("sort_order", Arc::new(cs.iter().map(|r| order(&r[3])).collect::<UInt32Array>()) as ArrayRef),
    ])
    .map_err(|e| df_err("code_sets")(e.into()))?;
    mem_table(&ctx, "code_sets", batch)?;
    Ok(ctx)
}

/// Registers the landed Parquet files as the source tables.
pub async fn register_sources(ctx: &SessionContext, tables: &[(String, PathBuf)]) -> Result<(), MetricsError> {
    for (name, path) in tables {
        let p = path
            .to_str()
            .ok_or_else(|| MetricsError::Reference { file: path.clone(), message: "path is not UTF-8".into() })?;
        ctx.register_parquet(name, p, ParquetReadOptions::default())
            .await
            .map_err(df_err(format!("source table `{name}`")))?;
    }
    Ok(())
}

/// The tables a statement reads, CTEs aside.
pub fn references(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, datafusion::error::DataFusionError> {
    let state = ctx.state();
    let stmt = state.sql_to_statement(sql, &datafusion::config::Dialect::Generic)?;
    Ok(state.resolve_table_references(&stmt)?.into_iter().map(|t| t.table().to_string()).collect())
}

/// Orders models so each comes after the models it reads; a cycle is an error naming it.
pub fn order_models<'a>(
    ctx: &SessionContext,
    models: &'a [Model],
    vars: &BTreeMap<String, Value>,
) -> Result<Vec<(&'a Model, String)>, Vec<DefinitionError>> {
    let names: HashSet<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let mut errors = Vec::new();
    let mut deps: HashMap<&str, Vec<String>> = HashMap::new();
    let mut rendered: HashMap<&str, String> = HashMap::new();
    for m in models {
        let sql = match render(&m.sql, vars, &m.file, 1) {
            Ok(s) => s,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match references(ctx, &sql) {
            Ok(refs) => {
                deps.insert(&m.name, refs.into_iter().filter(|r| names.contains(r.as_str()) && r != &m.name).collect());
            }
            Err(e) => errors.push(crate::check::locate_error(&m.file, 1, &e)),
        }
        rendered.insert(&m.name, sql);
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut done: Vec<(&Model, String)> = Vec::new();
    let mut placed: HashSet<&str> = HashSet::new();
    while done.len() < models.len() {
        let ready: Vec<&Model> = models
            .iter()
            .filter(|m| {
                !placed.contains(m.name.as_str()) && deps[m.name.as_str()].iter().all(|d| placed.contains(d.as_str()))
            })
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = models.iter().map(|m| m.name.as_str()).filter(|n| !placed.contains(n)).collect();
            let first = models.iter().find(|m| m.name == stuck[0]).expect("stuck model exists");
            return Err(vec![DefinitionError::new(
                &first.file,
                1,
                format!("cycle between models: {}", stuck.join(" -> ")),
            )]);
        }
        for m in ready {
            placed.insert(&m.name);
            done.push((m, rendered.remove(m.name.as_str()).unwrap_or_default()));
        }
    }
    Ok(done)
}

/// Builds the staging views.
/// How staging models are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Models {
    /// As views: planning only (check, docs, lineage), nothing is run.
    Views,
    /// Computed once and held in memory, so the measures that share a model (every measure
    /// reads a deduplicated staging table) do not recompute it.
    Materialised,
}

/// Builds the staging models in dependency order.
pub async fn register_models(
    ctx: &SessionContext,
    project: &Project,
    vars: &BTreeMap<String, Value>,
    how: Models,
) -> Result<(), MetricsError> {
    let ordered = order_models(ctx, &project.models, vars).map_err(MetricsError::Definitions)?;
    for (m, sql) in ordered {
        let df = ctx
            .sql(&sql)
            .await
            .map_err(|e| MetricsError::Definitions(vec![crate::check::locate_error(&m.file, 1, &e)]))?;
        let table = match how {
            Models::Views => df.into_view(),
            Models::Materialised => {
                let started = std::time::Instant::now();
                let cached = df.cache().await.map_err(|e| MetricsError::Model {
                    model: m.name.clone(),
                    file: m.file.clone(),
                    message: e.strip_backtrace().to_string(),
                })?;
                tracing::debug!(model = %m.name, ms = started.elapsed().as_millis() as u64, "model built");
                cached.into_view()
            }
        };
        ctx.register_table(m.name.as_str(), table).map_err(df_err(&m.name))?;
    }
    Ok(())
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
pub async fn run_measure(ctx: &SessionContext, m: &Measure, inputs: &Inputs) -> Result<Vec<MetricValue>, MetricsError> {
    let fail = |message: String| MetricsError::Measure { measure: m.meta.id.clone(), file: m.file.clone(), message };
    let sql = render(&m.sql, &inputs.vars, &m.file, m.first_line).map_err(|e| MetricsError::Definitions(vec![e]))?;
    let df = ctx
        .sql(&sql)
        .await
        .map_err(|e| MetricsError::Definitions(vec![crate::check::locate_error(&m.file, m.first_line, &e)]))?;
    check_measure_schema(df.schema())
        .map_err(|msg| MetricsError::Definitions(vec![DefinitionError::new(&m.file, m.first_line, msg)]))?;
    let batches = df.collect().await.map_err(|e| fail(e.to_string()))?;
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

/// Runs the data-quality rules of `sql/quality/`.
pub async fn run_quality(
    ctx: &SessionContext,
    project: &Project,
    vars: &BTreeMap<String, Value>,
) -> Result<Vec<QualityRow>, MetricsError> {
    let mut out = Vec::new();
    for q in &project.quality {
        let fail = |message: String| MetricsError::Model { model: q.name.clone(), file: q.file.clone(), message };
        let sql = render(&q.sql, vars, &q.file, 1).map_err(|e| MetricsError::Definitions(vec![e]))?;
        let df = ctx
            .sql(&sql)
            .await
            .map_err(|e| MetricsError::Definitions(vec![crate::check::locate_error(&q.file, 1, &e)]))?;
        for b in df.collect().await.map_err(|e| fail(e.to_string()))? {
            let get = |n: &str, t: &DataType| -> Result<ArrayRef, MetricsError> {
                let c = column(&b, n).ok_or_else(|| {
                    fail(format!("a quality rule returns table_name, rule, rows_seen, rows_affected: no `{n}`"))
                })?;
                cast(c, t).map_err(|e| fail(e.to_string()))
            };
            let (t, r) = (get("table_name", &DataType::Utf8)?, get("rule", &DataType::Utf8)?);
            let (s, a) = (get("rows_seen", &DataType::Int64)?, get("rows_affected", &DataType::Int64)?);
            let (t, r, s, a) = (
                t.as_string::<i32>(),
                r.as_string::<i32>(),
                s.as_primitive::<Int64Type>(),
                a.as_primitive::<Int64Type>(),
            );
            for i in 0..b.num_rows() {
                out.push(QualityRow {
                    table_name: t.value(i).into(),
                    rule: r.value(i).into(),
                    rows_seen: s.value(i),
                    rows_affected: a.value(i),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.table_name, &a.rule).cmp(&(&b.table_name, &b.rule)));
    Ok(out)
}

/// Computes every measure (or the selected ones) and the data-quality counts.
pub async fn compute(project: &Project, inputs: &Inputs) -> Result<Computed, MetricsError> {
    let ctx = session(inputs)?;
    register_sources(&ctx, &inputs.tables).await?;
    // A pipeline lands only the tables its measures read; the others are empty here, so every
    // staging model and quality rule still plans, and their counts are left out below.
    let landed: HashSet<&str> = inputs.tables.iter().map(|(n, _)| n.as_str()).collect();
    for t in project.contract.tables.iter().filter(|t| !landed.contains(t.name.as_str())) {
        let empty = MemTable::try_new(t.schema(), vec![vec![]]).map_err(df_err(&t.name))?;
        ctx.register_table(t.name.as_str(), Arc::new(empty)).map_err(df_err(&t.name))?;
    }
    register_models(&ctx, project, &inputs.vars, Models::Materialised).await?;
    let mut values = Vec::new();
    let mut measures = Vec::new();
    for m in &project.measures {
        if inputs.select.as_ref().is_some_and(|s| !s.contains(&m.meta.id)) {
            continue;
        }
        let started = std::time::Instant::now();
        let rows = run_measure(&ctx, m, inputs).await?;
        tracing::info!(measure = %m.meta.id, rows = rows.len(), ms = started.elapsed().as_millis() as u64, "measure computed");
        values.extend(rows);
        let mut m = m.clone();
        m.meta.target = inputs.targets.get(&m.meta.id).copied().or(m.meta.target);
        measures.push(m);
    }
    let mut quality = run_quality(&ctx, project, &inputs.vars).await?;
    quality.retain(|q| landed.contains(q.table_name.as_str()));
    Ok(Computed {
        values,
        quality,
        measures,
        org_units: inputs.team_map.org_units(),
        periods: inputs.period.trend(inputs.trend_months),
        code_sets: inputs.code_sets.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Model {
        Model { name: name.into(), file: PathBuf::from(format!("sql/staging/{name}.sql")), sql: sql.into() }
    }

    #[test]
    fn models_are_ordered_by_what_they_read_not_by_name() {
        let ctx = SessionContext::new();
        let models = vec![
            model("a_last", "SELECT * FROM m_middle"),
            model("m_middle", "WITH x AS (SELECT * FROM z_first) SELECT * FROM x"),
            model("z_first", "SELECT * FROM ssd_person"),
        ];
        let order: Vec<&str> =
            order_models(&ctx, &models, &BTreeMap::new()).unwrap().iter().map(|(m, _)| m.name.as_str()).collect();
        assert_eq!(order, vec!["z_first", "m_middle", "a_last"]);
    }

    #[test]
    fn a_cycle_between_models_is_named() {
        let ctx = SessionContext::new();
        let models = vec![model("a", "SELECT * FROM b"), model("b", "SELECT * FROM a"), model("c", "SELECT 1")];
        let e = order_models(&ctx, &models, &BTreeMap::new()).unwrap_err();
        assert!(e[0].message.contains("cycle between models: a -> b"), "{e:?}");
    }

    #[test]
    fn a_syntax_error_points_at_the_line_in_the_file() {
        let ctx = SessionContext::new();
        let models = vec![model("bad", "SELECT a\nFROM t\nWHERE a = = 1")];
        let e = order_models(&ctx, &models, &BTreeMap::new()).unwrap_err();
        assert_eq!(e[0].line, 3, "{e:?}");
        assert!(e[0].file.ends_with("bad.sql"));
    }

    #[test]
    fn team_map_keeps_the_first_row_of_a_team_and_orders_org_units() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "team_id,org_unit,org_unit_kind\nT1,SOUTH,locality\nT2,DCS,service\nT1,NORTH,locality\n")
            .unwrap();
        let map = TeamMap::read(&p).unwrap();
        assert_eq!(map.teams.len(), 2);
        let units: Vec<String> =
            map.org_units().into_iter().map(|o| format!("{}:{}:{}", o.org_unit, o.kind, o.sort_order)).collect();
        assert_eq!(units, vec!["ALL:all:0", "SOUTH:locality:1", "DCS:service:2", "UNKNOWN:unknown:3"]);
        std::fs::write(&p, "team_id,org_unit,org_unit_kind\nT1,SOUTH,area\n").unwrap();
        assert!(TeamMap::read(&p).unwrap_err().to_string().contains("line 2"));
    }
}
