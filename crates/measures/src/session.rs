//! Session setup: the DataFusion runtime and its memory, the reference tables and working-day
//! functions, the landed source tables, and the staging models in dependency order.

use chrono::Datelike;
use datafusion::arrow::array::{ArrayRef, Date32Array, RecordBatch, StringViewArray, UInt32Array};
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;
use datafusion::prelude::{ParquetReadOptions, SessionConfig};
use scrutiny_core::settings::ComputeSettings;
use scrutiny_core::{Period, WorkingDayCalendar};
use serde_yaml::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use crate::error::{DefinitionError, MeasureError};
use crate::project::{Model, Project, render};
use crate::reference::TeamMap;

const UNIX_EPOCH_CE: i32 = 719_163;

/// Rows per batch in compute, four times DataFusion's 8,192, chosen by measurement: whole compute
/// at scale 150 ran 5.7% faster (17.4 s to 16.4 s mean, 8 of 8 alternated pairs faster, the same
/// mart) for about 60 MiB more peak; 16,384 and 65,536 measured the same as 32,768. (Presumably
/// the joins' and aggregates' fixed cost per batch, paid a quarter as often.) With
/// `compute.memory_limit: 1GiB` national scale still gives the same mart.
const BATCH_ROWS: usize = 32_768;

pub(crate) fn days(d: chrono::NaiveDate) -> i32 {
    d.num_days_from_ce() - UNIX_EPOCH_CE
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
    /// Source tables: name and landed Parquet file (a path, or a URL in one of `stores`).
    pub tables: Vec<(String, String)>,
    /// Object stores holding a landing, by the URL of their container or bucket.
    pub stores: Vec<(url::Url, Arc<dyn object_store::ObjectStore>)>,
    /// Only these measures, when given.
    pub select: Option<Vec<String>>,
    pub run_id: String,
    /// How much memory the computation may hold before it spills, and where: a Kubernetes
    /// memory limit is met by spilling rather than by an OOM kill.
    pub compute: ComputeSettings,
    /// The council and the published figures to compare it with (`council` in the settings).
    pub benchmarks: Option<(crate::benchmarks::Council, Arc<crate::benchmarks::Reference>)>,
}

pub(crate) fn df_err(context: impl Into<String>) -> impl FnOnce(datafusion::error::DataFusionError) -> MeasureError {
    let context = context.into();
    move |source| MeasureError::DataFusion { context, source }
}

/// Text as `Utf8View`, the type DataFusion reads Parquet text as: a join of a reference table
/// with a landed table or a model then compares like with like, with no cast of millions of rows.
fn strings(v: impl IntoIterator<Item = String>) -> ArrayRef {
    Arc::new(v.into_iter().map(Some).collect::<StringViewArray>())
}

pub(crate) fn mem_table(ctx: &SessionContext, name: &str, batch: RecordBatch) -> Result<(), MeasureError> {
    let t = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(df_err(name))?;
    ctx.register_table(name, Arc::new(t)).map_err(df_err(name))?;
    Ok(())
}

/// The runtime: without a limit, DataFusion's defaults; with one, a pool that shares the
/// limit fairly between the operators that can spill, and a spill directory.
fn runtime(memory: &ComputeSettings) -> Result<Arc<datafusion::execution::runtime_env::RuntimeEnv>, MeasureError> {
    use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    let mut b = RuntimeEnvBuilder::new();
    if let Some(limit) = memory.memory_limit {
        b = b.with_memory_pool(Arc::new(FairSpillPool::new(usize::try_from(limit).unwrap_or(usize::MAX))));
    }
    if let Some(dir) = &memory.spill_dir {
        scrutiny_core::fs::create_private_dir(dir).map_err(|e| MeasureError::Reference {
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
pub fn session(inputs: &Inputs) -> Result<SessionContext, MeasureError> {
    let mut config = SessionConfig::new()
        .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .with_batch_size(BATCH_ROWS);
    // Spans let a planning error (an unknown column, say) point at its line in the file.
    config.options_mut().sql_parser.collect_spans = true;
    config.options_mut().sql_parser.dialect = dialect();
    let ctx = SessionContext::new_with_config_rt(config, runtime(&inputs.compute)?);
    for (url, store) in &inputs.stores {
        ctx.register_object_store(url, store.clone());
    }
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
pub async fn register_sources(ctx: &SessionContext, tables: &[(String, String)]) -> Result<(), MeasureError> {
    for (name, location) in tables {
        ctx.register_parquet(name, location, ParquetReadOptions::default())
            .await
            .map_err(df_err(format!("source table `{name}`")))?;
    }
    Ok(())
}

/// The SQL dialect of every definition: PostgreSQL's, whose parser reads `WITH name AS
/// MATERIALIZED (...)` (see `cte`); DataFusion plans it as it plans the generic dialect.
pub fn dialect() -> datafusion::config::Dialect {
    datafusion::config::Dialect::PostgreSQL
}

/// The tables a statement reads, CTEs aside.
pub fn references(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, datafusion::error::DataFusionError> {
    let state = ctx.state();
    let stmt = state.sql_to_statement(sql, &dialect())?;
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
            Err(e) => errors.push(locate_error(&m.file, 1, &e)),
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

/// How staging models are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Models<'a> {
    /// As views: planning only (check, docs, lineage), nothing is run.
    Views,
    /// As empty tables of their schemas, `AS MATERIALIZED` CTEs too: to see what each
    /// statement reads, with those CTEs planned apart as a run computes them. Nothing is run.
    Placeholders,
    /// Computed once and held in memory: the few rows of a measure test.
    InMemory,
    /// Computed once and written as Parquet into `dir`, a private scratch directory, and read
    /// from there: the measures that share a model (every measure reads a deduplicated staging
    /// table) do not recompute it, and a run at national scale does not hold every model in
    /// memory at once.
    OnDisk(&'a Path),
}

/// The statements that will read the staging models in one computation: every other model,
/// the quality rules, and the measures that run (all of them when `measures` is `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Readers<'a> {
    pub measures: Option<&'a [String]>,
}

/// One statement to plan: its owner (a model, measure or rule), its file and first line, and
/// its rendered SQL.
type Statement<'a> = (&'a str, &'a Path, usize, String);

/// The statements that scan each model, once per scan, read off their plans as a run plans them:
/// each `AS MATERIALIZED` CTE apart (its tables scanned once, however often it is named), the
/// rest as written (a plain CTE named twice scans its tables twice). Nothing is inlined or
/// optimised, so this is never fewer than the scans a run makes. `models` are planned in order,
/// each over empty placeholders of those before it, which are removed again.
async fn scans(
    ctx: &SessionContext,
    models: &[Statement<'_>],
    readers: &[Statement<'_>],
) -> Result<HashMap<String, Vec<String>>, MeasureError> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut scanned: HashMap<String, Vec<String>> =
        models.iter().map(|(name, ..)| (name.to_string(), vec![])).collect();
    let mut placed = Vec::new();
    let mut result = Ok(());
    for (i, (owner, file, line, sql)) in models.iter().chain(readers).enumerate() {
        let failed = |e: datafusion::error::DataFusionError| MeasureError::Model {
            model: owner.to_string(),
            file: file.to_path_buf(),
            message: e.strip_backtrace().to_string(),
        };
        let planned = async {
            let df = ctx.sql(sql).await.map_err(|e| MeasureError::Definitions(vec![locate_error(file, *line, &e)]))?;
            let planned = crate::cte::plan(ctx, df, sql, owner, Models::Placeholders).await.map_err(failed)?;
            for plan in planned.stored.iter().chain([planned.df.logical_plan()]) {
                plan.apply_with_subqueries(|node| {
                    if let datafusion::logical_expr::LogicalPlan::TableScan(scan) = node
                        && let Some(by) = scanned.get_mut(scan.table_name.table())
                    {
                        by.push(owner.to_string());
                    }
                    Ok(TreeNodeRecursion::Continue)
                })
                .map_err(failed)?;
            }
            if i < models.len() {
                store(ctx, owner, planned.df.clone(), Models::Placeholders).await.map_err(failed)?;
                placed.push(*owner);
            }
            Ok(())
        };
        result = planned.await;
        if result.is_err() {
            break;
        }
    }
    for name in placed {
        ctx.deregister_table(name).map_err(df_err(name))?;
    }
    result.map(|()| scanned)
}

/// The `AS MATERIALIZED` CTEs of the models streamed into their readers, stored while the
/// models were registered: keep this until the readers have run. It also knows which models
/// each statement runs inside itself, to name them when that statement fails.
#[must_use = "a streamed model's stored CTEs are dropped with this"]
pub struct Streams {
    _stored: Vec<crate::cte::Planned>,
    within: Within,
}

/// Per statement (model, measure or rule), the staging models streamed into it, with their
/// files: those streamed into a streamed model run in its reader too.
#[derive(Debug, Default)]
struct Within(HashMap<String, Vec<(String, std::path::PathBuf)>>);

impl Within {
    /// `model` is streamed into `reader`, with whatever was streamed into `model`.
    fn stream(&mut self, model: &Model, reader: &str) {
        let mut inner = self.0.get(&model.name).cloned().unwrap_or_default();
        inner.insert(0, (model.name.clone(), model.file.clone()));
        self.0.entry(reader.to_string()).or_default().extend(inner);
    }

    /// A runtime failure of a statement that runs streamed models may come from one of them:
    /// the message names them, so the data team knows which files to look at.
    fn annotate(&self, e: MeasureError) -> MeasureError {
        let hint = |owner: &str, message: String| match self.0.get(owner) {
            Some(models) if !models.is_empty() => {
                let named: Vec<String> = models.iter().map(|(m, f)| format!("`{m}` ({})", f.display())).collect();
                format!(
                    "{message} (the staging model{} {} ran inside this statement, streamed into it: the \
                     failure may be in {})",
                    if named.len() == 1 { "" } else { "s" },
                    named.join(", "),
                    if named.len() == 1 { "it" } else { "one of them" },
                )
            }
            _ => message,
        };
        match e {
            MeasureError::Measure { measure, file, message } => {
                let message = hint(&measure, message);
                MeasureError::Measure { measure, file, message }
            }
            MeasureError::Model { model, file, message } => {
                let message = hint(&model, message);
                MeasureError::Model { model, file, message }
            }
            other => other,
        }
    }
}

impl Streams {
    /// `e`, from a statement that ran after the models were registered, with the models that
    /// were streamed into that statement named in its message.
    pub fn annotate(&self, e: MeasureError) -> MeasureError {
        self.within.annotate(e)
    }
}

/// Builds the staging models in dependency order. A model that more than one scan reads is
/// computed once and stored (`how`); one read once is streamed into its reader, as a view (its
/// `AS MATERIALIZED` CTEs are still computed first, once), and one that nothing reads is not
/// computed at all: storing what is read once costs a write and a read of every row and saves
/// nothing.
pub async fn register_models(
    ctx: &SessionContext,
    project: &Project,
    vars: &BTreeMap<String, Value>,
    how: Models<'_>,
    readers: Readers<'_>,
) -> Result<Streams, MeasureError> {
    let ordered = order_models(ctx, &project.models, vars).map_err(MeasureError::Definitions)?;
    let scans = if how == Models::Views {
        HashMap::new()
    } else {
        let models: Vec<Statement> =
            ordered.iter().map(|(m, sql)| (m.name.as_str(), m.file.as_path(), 1, sql.clone())).collect();
        let mut statements = Vec::new();
        let measures = project.measures.iter().filter(|m| readers.measures.is_none_or(|s| s.contains(&m.meta.id)));
        for (owner, file, line, sql) in measures
            .map(|m| (m.meta.id.as_str(), &m.file, m.first_line, &m.sql))
            .chain(project.quality.iter().map(|q| (q.name.as_str(), &q.file, 1, &q.sql)))
        {
            let sql = render(sql, vars, file, line).map_err(|e| MeasureError::Definitions(vec![e]))?;
            statements.push((owner, file.as_path(), line, sql));
        }
        scans(ctx, &models, &statements).await?
    };
    let mut streams = Vec::new();
    let mut within = Within::default();
    for (m, sql) in ordered {
        // Planned as written first, so that an error points at its line in the file.
        let df = ctx.sql(&sql).await.map_err(|e| MeasureError::Definitions(vec![locate_error(&m.file, 1, &e)]))?;
        let scanned_by = scans.get(&m.name);
        let read = scanned_by.map(Vec::len);
        if how == Models::Views || read == Some(0) {
            ctx.register_table(m.name.as_str(), df.into_view()).map_err(df_err(&m.name))?;
            if read == Some(0) {
                tracing::info!(model = %m.name, "model not computed: nothing in this run reads it");
            }
            continue;
        }
        let failed = |e: datafusion::error::DataFusionError| {
            within.annotate(MeasureError::Model {
                model: m.name.clone(),
                file: m.file.clone(),
                message: crate::error::without_values(&e.strip_backtrace()),
            })
        };
        let started = std::time::Instant::now();
        let planned = crate::cte::plan(ctx, df, &sql, &m.name, how).await.map_err(failed)?;
        // Its materialized CTEs were computed while it was planned. A streamed model's time is
        // otherwise its reader's, so without these lines that time would be in no line at all.
        for c in &planned.materialized {
            tracing::info!(model = %m.name, cte = %c.name, rows = c.rows, ms = c.ms, "materialized CTE stored");
        }
        if read == Some(1) {
            ctx.register_table(m.name.as_str(), planned.df.clone().into_view()).map_err(df_err(&m.name))?;
            // Its rows and time are its reader's: the log says where to look for them.
            let into = scanned_by.and_then(|r| r.first()).map_or("", String::as_str);
            tracing::info!(model = %m.name, into, "model streamed into the one statement that reads it");
            streams.push(planned);
            within.stream(m, into);
            continue;
        }
        let rows = store(ctx, &m.name, planned.df.clone(), how).await.map_err(failed)?;
        drop(planned);
        // Each model's rows and time at info level, as dbt logs them: the profile of a run is
        // in its log.
        let ms = started.elapsed().as_millis() as u64;
        // Who reads it, so a data-team member sees why it was stored (a plain CTE named twice
        // reads it twice). A statement's scans are listed together.
        let read_by: Vec<String> = scanned_by
            .map_or(&[][..], Vec::as_slice)
            .chunk_by(|a, b| a == b)
            .map(|r| if r.len() > 1 { format!("{} x{}", r[0], r.len()) } else { r[0].clone() })
            .collect();
        let read_by = read_by.join(", ");
        tracing::info!(model = %m.name, rows, ms, read_by, "model built");
    }
    Ok(Streams { _stored: streams, within })
}

/// Computes `df` once and registers the result as `name`: in memory, or (`Models::OnDisk`) as
/// Parquet files in `<dir>/<name>/`, uncompressed (dictionary encoding still shrinks the codes
/// and ids), since the files live for one run and writing fast matters more than their size.
/// A UNION ALL at the top is written a branch at a time, one file each (see `union_branches`).
/// The rows.
pub(crate) async fn store(
    ctx: &SessionContext,
    name: &str,
    df: datafusion::dataframe::DataFrame,
    how: Models<'_>,
) -> Result<usize, datafusion::error::DataFusionError> {
    use datafusion::dataframe::DataFrameWriteOptions;
    let dir = match how {
        Models::OnDisk(dir) => dir,
        Models::Placeholders => {
            ctx.register_table(
                name,
                Arc::new(MemTable::try_new(Arc::new(df.schema().as_arrow().clone()), vec![vec![]])?),
            )?;
            return Ok(0);
        }
        Models::InMemory | Models::Views => {
            let cached = df.cache().await?;
            let rows = cached.clone().count().await?;
            ctx.register_table(name, cached.into_view())?;
            return Ok(rows);
        }
    };
    let dir = dir.join(name);
    let (schema, branches) = union_branches(df)?;
    let mut options = datafusion::config::TableParquetOptions::default();
    options.global.compression = Some("uncompressed".into());
    let mut rows = 0;
    for (i, branch) in branches.into_iter().enumerate() {
        let path = dir.join(format!("part-{i:03}.parquet"));
        let written = branch
            .write_parquet(
                &path.to_string_lossy(),
                DataFrameWriteOptions::new().with_single_file_output(true),
                Some(options.clone()),
            )
            .await?;
        rows += written
            .first()
            .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>())
            .map_or(0, |c| c.value(0) as usize);
    }
    if rows > 0 {
        // The schema is read from the files, as it was from one file: DataFusion reads their text
        // as Utf8View, its fastest string type, whatever type the plan gave it.
        ctx.register_parquet(name, format!("{}/", dir.to_string_lossy()), ParquetReadOptions::default()).await?;
    } else {
        // No rows may mean no file: the model is then an empty table of its schema.
        ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
    }
    Ok(rows)
}

/// The schema of a stored model's optimised plan (type coercion may widen a union's columns),
/// and what to write: the branches of a UNION ALL at its top, each projected onto the union's
/// column names and types, or else the whole plan.
type Branches = (datafusion::arrow::datatypes::SchemaRef, Vec<datafusion::dataframe::DataFrame>);

/// Run together, a union's branches share the cores batch by batch: `stg_shared_ids`' sixteen
/// id GROUP BYs then keep sixteen hash tables live at once. Written one at a time, each branch
/// still has both cores, and at national scale `compute`'s peak fell from about 1.6 to 0.9 GiB
/// (PyPI's DataFusion 55 also ran the model in 2.3 s instead of 3.1 s; in scrutiny its time fell
/// by about a sixth, within the noise of a whole run).
fn union_branches(df: datafusion::dataframe::DataFrame) -> Result<Branches, datafusion::error::DataFusionError> {
    use datafusion::common::Column;
    use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, cast};
    let (state, plan) = df.into_parts();
    let optimised = state.optimize(&plan)?;
    let schema = Arc::new(optimised.schema().as_arrow().clone());
    let LogicalPlan::Union(union) = optimised else {
        return Ok((schema, vec![datafusion::dataframe::DataFrame::new(state, plan)]));
    };
    let fields = union.schema.fields();
    let branches = union
        .inputs
        .iter()
        .map(|input| {
            let columns = input.schema().iter().zip(fields.iter()).map(|((qualifier, field), out)| {
                let column = Expr::Column(Column::from((qualifier, field)));
                let typed =
                    if field.data_type() == out.data_type() { column } else { cast(column, out.data_type().clone()) };
                typed.alias(out.name())
            });
            let plan = LogicalPlanBuilder::from(input.as_ref().clone()).project(columns)?.build()?;
            Ok(datafusion::dataframe::DataFrame::new(state.clone(), plan))
        })
        .collect::<Result<_, datafusion::error::DataFusionError>>()?;
    Ok((schema, branches))
}

/// Registers each table of `contract` that `landed` does not name as an empty table of its
/// schema, so every definition plans whatever a pipeline extracted.
pub fn register_empty_sources(
    ctx: &SessionContext,
    contract: &scrutiny_extract::Contract,
    landed: &HashSet<&str>,
) -> Result<(), MeasureError> {
    for t in contract.tables.iter().filter(|t| !landed.contains(t.name.as_str())) {
        let empty = MemTable::try_new(t.schema(), vec![vec![]]).map_err(df_err(&t.name))?;
        ctx.register_table(t.name.as_str(), Arc::new(empty)).map_err(df_err(&t.name))?;
    }
    Ok(())
}

/// A session whose source tables are empty with the contract's schemas, for planning without
/// data (`scrutiny check`, `scrutiny docs`, lineage). The staging models are not registered.
pub async fn empty_session(project: &Project, vars: &BTreeMap<String, Value>) -> Result<SessionContext, String> {
    let ctx = session(&planning_inputs(vars)?).map_err(|e| e.to_string())?;
    register_empty_sources(&ctx, &project.contract, &HashSet::new()).map_err(|e| e.to_string())?;
    Ok(ctx)
}

/// Inputs for a session that only plans: one period, the built-in calendar and code sets.
fn planning_inputs(vars: &BTreeMap<String, Value>) -> Result<Inputs, String> {
    let holidays = WorkingDayCalendar::read_holidays_csv(scrutiny_core::BANK_HOLIDAYS_CSV, "bank holidays")
        .map_err(|e| e.to_string())?;
    Ok(Inputs {
        period: "2022-01".parse().expect("valid period"),
        trend_months: 1,
        calendar: Arc::new(WorkingDayCalendar::new(holidays)),
        vars: vars.clone(),
        targets: BTreeMap::new(),
        team_map: TeamMap::default(),
        code_map: Vec::new(),
        code_sets: crate::reference::builtin_code_sets().map_err(|e| e.to_string())?,
        tables: Vec::new(),
        stores: Vec::new(),
        select: None,
        run_id: "check".into(),
        compute: Default::default(),
        benchmarks: None,
    })
}

/// Locates a planning or parsing error in the definition file. sqlparser reports positions as
/// `Line: L, Column: C`, and planning errors carry a span when spans are collected; both are
/// relative to the SQL given, which starts at `first_line` of the file.
pub fn locate_error(file: &Path, first_line: usize, e: &datafusion::error::DataFusionError) -> DefinitionError {
    let msg = e.strip_backtrace().to_string();
    let span = e.iter().find_map(|x| x.diagnostic().and_then(|d| d.span));
    let (line, column) = match span {
        Some(s) => (Some(s.start.line as usize), Some(s.start.column as usize)),
        None => {
            let num = |key: &str| {
                msg.find(key).and_then(|i| {
                    msg[i + key.len()..].split(|c: char| !c.is_ascii_digit()).next()?.parse::<usize>().ok()
                })
            };
            (num("Line: "), num("Column: "))
        }
    };
    let line = line.filter(|l| *l > 0).map_or(first_line, |l| first_line + l - 1);
    let message = match column {
        Some(c) if c > 0 => format!("column {c}: {msg}"),
        _ => msg,
    };
    DefinitionError::new(file, line, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(name: &str, sql: &str) -> Model {
        Model { name: name.into(), file: std::path::PathBuf::from(format!("sql/staging/{name}.sql")), sql: sql.into() }
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
    fn a_failure_names_the_models_streamed_into_its_statement_and_into_those() {
        let mut within = Within::default();
        within.stream(&model("stg_involvements", ""), "int_org_unit_at_period_end");
        within.stream(&model("int_org_unit_at_period_end", ""), "int_visit_timeliness");
        within.stream(&model("stg_cin_visits", ""), "int_visit_timeliness");
        let failed =
            |model: &str| MeasureError::Model { model: model.into(), file: "f.sql".into(), message: "boom".into() };
        assert_eq!(
            within.annotate(failed("int_visit_timeliness")).to_string(),
            "model `int_visit_timeliness` (f.sql): boom (the staging models `int_org_unit_at_period_end` \
             (sql/staging/int_org_unit_at_period_end.sql), `stg_involvements` (sql/staging/stg_involvements.sql), \
             `stg_cin_visits` (sql/staging/stg_cin_visits.sql) ran inside this statement, streamed into it: the \
             failure may be in one of them)"
        );
        let measure =
            MeasureError::Measure { measure: "cla_count".into(), file: "m.sql".into(), message: "boom".into() };
        assert_eq!(
            within.annotate(measure).to_string(),
            "measure `cla_count` (m.sql): boom",
            "nothing streamed into it"
        );
    }

    /// The batch size is what the operators run with, not only a setting: a scan of more rows
    /// than one batch comes in batches of `BATCH_ROWS`.
    #[tokio::test]
    async fn compute_runs_in_batches_of_the_measured_size() {
        let ctx = session(&planning_inputs(&BTreeMap::new()).unwrap()).unwrap();
        let batches = ctx.sql("SELECT value FROM generate_series(1, 100000)").await.unwrap().collect().await.unwrap();
        let sizes: Vec<usize> = batches.iter().map(RecordBatch::num_rows).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 100_000);
        assert_eq!(sizes.iter().max(), Some(&BATCH_ROWS), "{sizes:?}");
    }

    /// What decides whether a model is stored, streamed into its reader or not computed.
    #[tokio::test]
    async fn scans_count_each_read_a_run_makes_with_materialized_ctes_read_once() {
        let ctx = crate::cte::tests::context().await;
        let file = Path::new("sql/x.sql");
        let st = |owner: &'static str, sql: &str| (owner, file, 1, sql.to_string());
        let models = [
            st("m_once", "SELECT id, child FROM visits"),
            st("m_plain_cte", "SELECT id FROM visits"),
            st("m_materialized", "SELECT id FROM visits"),
            st("m_unread", "SELECT id FROM visits"),
            st("m_chain", "SELECT id FROM visits"),
            st("m_reader", "SELECT id FROM m_chain"),
        ];
        let readers = [
            // A subquery's read counts.
            st("r1", "SELECT * FROM m_once WHERE EXISTS (SELECT 1 FROM m_chain WHERE m_chain.id = m_once.id)"),
            // A plain CTE named twice is computed twice.
            st("r2", "WITH c AS (SELECT id FROM m_plain_cte) SELECT a.id FROM c AS a JOIN c AS b ON a.id = b.id"),
            // A materialized one is computed once, however often it is named.
            st(
                "r3",
                "WITH c AS MATERIALIZED (SELECT id FROM m_materialized), d AS (SELECT id FROM m_reader) \
                 SELECT a.id FROM c AS a JOIN c AS b ON a.id = b.id JOIN d ON d.id = a.id",
            ),
        ];
        let scanned = scans(&ctx, &models, &readers).await.unwrap();
        let mut scanned: Vec<(&str, Vec<&str>)> =
            scanned.iter().map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect())).collect();
        scanned.sort();
        let expected: [(&str, &[&str]); 6] = [
            ("m_chain", &["m_reader", "r1"]),
            ("m_materialized", &["r3"]),
            ("m_once", &["r1"]),
            ("m_plain_cte", &["r2", "r2"]),
            ("m_reader", &["r3"]),
            ("m_unread", &[]),
        ];
        assert_eq!(scanned, expected.map(|(m, by)| (m, by.to_vec())));
        // Nothing is left behind: not the models' placeholders, not the CTEs'.
        for t in ["m_once", "m_chain", "m_reader", "r3__c"] {
            assert!(!ctx.table_exist(t).unwrap(), "{t} is still registered");
        }
        // A reader that does not plan is named, with its file.
        let bad = [st("r_bad", "SELECT nope FROM m_once")];
        let e = scans(&ctx, &models, &bad).await.unwrap_err().to_string();
        assert!(e.contains("sql/x.sql") && e.contains("nope"), "{e}");
        assert!(!ctx.table_exist("m_once").unwrap());
    }

    /// A UNION ALL model is stored a branch at a time: each branch's rows, under the union's
    /// column names and types whatever the branch called them, one file per branch that has rows.
    #[tokio::test]
    async fn a_union_model_is_stored_a_branch_at_a_time_under_the_unions_columns() {
        use datafusion::arrow::datatypes::DataType;
        let ctx = SessionContext::new();
        let dir = tempfile::tempdir().unwrap();
        let sql = "SELECT 'a' AS table_name, 1 AS id \
                   UNION ALL SELECT 'b' AS other_name, CAST(2.5 AS DOUBLE) AS other_id \
                   UNION ALL SELECT 'c', 3 WHERE false \
                   UNION ALL SELECT 'd', NULL";
        let df = ctx.sql(sql).await.unwrap();
        let rows = store(&ctx, "m_union", df, Models::OnDisk(dir.path())).await.unwrap();
        assert_eq!(rows, 3);
        let files: Vec<String> = std::fs::read_dir(dir.path().join("m_union"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        // The empty branch (its WHERE is false) is the only one that may leave no file.
        assert!(
            files.len() >= 3 && files.iter().all(|f| f.starts_with("part-") && f.ends_with(".parquet")),
            "{files:?}"
        );
        let read = ctx.sql("SELECT table_name, id FROM m_union ORDER BY table_name").await.unwrap();
        let schema = read.schema().as_arrow().clone();
        // Text is read back as Utf8View, as DataFusion reads any Parquet text, not as the plan
        // typed it (Utf8 for a literal): the readers' plans stay as they were with one file.
        assert_eq!(schema.field(0).data_type(), &DataType::Utf8View);
        assert_eq!(schema.field(1).data_type(), &DataType::Float64);
        let batches = read.collect().await.unwrap();
        let shown = datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[1].split_whitespace().collect::<String>(), "|table_name|id|");
        let body: Vec<String> = lines[3..6].iter().map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(body, ["|a|1.0|", "|b|2.5|", "|d||"]);
        // A model with no rows at all is an empty table of its schema.
        let df = ctx.sql("SELECT 1 AS id WHERE false UNION ALL SELECT 2 WHERE false").await.unwrap();
        assert_eq!(store(&ctx, "m_empty", df, Models::OnDisk(dir.path())).await.unwrap(), 0);
        assert_eq!(ctx.table("m_empty").await.unwrap().count().await.unwrap(), 0);
    }

    #[test]
    fn a_syntax_error_points_at_the_line_in_the_file() {
        let ctx = SessionContext::new();
        let models = vec![model("bad", "SELECT a\nFROM t\nWHERE a = = 1")];
        let e = order_models(&ctx, &models, &BTreeMap::new()).unwrap_err();
        assert_eq!(e[0].line, 3, "{e:?}");
        assert!(e[0].file.ends_with("bad.sql"));
    }
}
