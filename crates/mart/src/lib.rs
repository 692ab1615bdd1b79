//! Publish the curated mart (`mart-contract.md`). A local Parquet mart writes every table into
//! `versions/<run id>/`, then switches `current` to it in one atomic rename; a Delta mart (local
//! or on object storage, see [`delta`]) commits each table and then `_current.json`. Either way a
//! failure at any point leaves readers on the previously published run.

pub mod delta;
pub mod sqlserver;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
    UInt32Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use scrutiny_core::Period;
use scrutiny_core::fs::{create_private_dir, create_private_file, durable_rename, sync_dir};
use scrutiny_core::settings::{MartFormat, MartLocation};
use scrutiny_measures::Computed;
use scrutiny_measures::spc;
use scrutiny_measures::values::{self, MetricValue};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum MartError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("the previous mart {path} cannot be read: {message}")]
    Previous { path: PathBuf, message: String },
    #[error("{name} of the new mart: {message}")]
    Document { name: String, message: String },
    #[error("{location}: {message}")]
    Store { location: String, message: String },
    #[error("SQL Server sink {server}: {table}: {message}")]
    Sink { server: String, table: String, message: String },
}

impl MartError {
    /// The exit code this error ends a run with: a mart that cannot be written is 73, a
    /// published file that cannot be read is 65 (damaged data, named), anything else a bug.
    pub fn exit_code(&self) -> u8 {
        use scrutiny_core::exit;
        match self {
            Self::Io { .. } => exit::CANTCREAT,
            Self::Previous { .. } => exit::DATA,
            // The tables' schemas are fixed: a Parquet file that cannot be written is the disk.
            // (Parquet reports a full disk on flush as text, so the cause cannot be matched.)
            Self::Parquet { .. } => exit::CANTCREAT,
            Self::Document { .. } => exit::SOFTWARE,
            // An object store that refuses or cannot be reached: try again later.
            Self::Store { .. } => exit::UNAVAILABLE,
            // The mart is published; the sink's tables are as they were, and the next run (or
            // `scrutiny sink --resend`) loads them.
            Self::Sink { .. } => exit::TEMPFAIL,
        }
    }
}

/// A file published with the tables (the report), made from the merged values; a closure
/// because the values exist only once the previous mart is merged in.
pub type Documents<'a> = &'a dyn Fn(&[MetricValue]) -> Result<Vec<(String, Vec<u8>)>, MartError>;

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MartError + '_ {
    move |source| MartError::Io { path: path.to_path_buf(), source }
}

/// Facts about the run, for `runs.parquet`.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub run_id: String,
    pub period: Period,
    pub started_at: DateTime<Utc>,
    pub source_as_at: DateTime<Utc>,
    pub rows_read: u64,
    pub tables_read: u64,
}

#[derive(Debug, Clone)]
pub struct Published {
    /// Where readers find the published run: `<mart>/current`, or the Delta mart's root.
    pub location: String,
    /// This publish: the version directory, or `_current.json`'s run and table versions.
    pub version: String,
    /// Where the documents (`report.html`) of this run are: a directory or a URL prefix.
    pub documents: String,
    /// Every row of `metric_values` as published (history included).
    pub values: Vec<MetricValue>,
}

/// Where and how to publish: [`MartLocation`] and [`MartFormat`] from the settings, with the
/// store opened for a mart on object storage.
pub struct Target {
    pub location: MartLocation,
    pub format: MartFormat,
    pub store: Option<Arc<dyn object_store::ObjectStore>>,
    /// Published runs kept (`storage.keep_versions`).
    pub keep: usize,
}

pub const CURRENT: &str = "current";
pub const VERSIONS: &str = "versions";

/// Where `current` points now, if anywhere.
pub fn current_dir(root: &Path) -> Option<PathBuf> {
    let c = root.join(CURRENT);
    c.join("metric_values.parquet").is_file().then_some(c)
}

fn read_parquet(path: &Path) -> Result<Vec<RecordBatch>, MartError> {
    let bad = |message: String| MartError::Previous { path: path.to_path_buf(), message };
    let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| bad(e.to_string()))?;
    let schema = builder.schema().clone();
    let reader = builder.build().map_err(|e| bad(e.to_string()))?;
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| bad(e.to_string()))?;
    // An empty table still has its columns (the SQL Server sink creates it with them).
    Ok(if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches })
}

/// Every table of the published run, as readers see it (`runs` last), for the sinks; nothing
/// before the first publish.
pub fn published_tables(target: &Target) -> Result<Vec<(String, Vec<RecordBatch>)>, MartError> {
    let mut tables = Vec::new();
    match (&target.location, target.format, &target.store) {
        (MartLocation::Local(root), MartFormat::Parquet, _) => {
            let Some(dir) = current_dir(root) else { return Ok(tables) };
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .map_err(io(&dir))?
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".parquet").map(str::to_string))
                .collect();
            names.sort();
            for name in names {
                let rows = read_parquet(&dir.join(format!("{name}.parquet")))?;
                tables.push((name, rows));
            }
        }
        (location, MartFormat::Delta, store) => {
            let root = match (location, store) {
                (MartLocation::Local(dir), _) => delta::DeltaRoot::local(dir)?,
                (MartLocation::Store(url), Some(store)) => delta::DeltaRoot::in_store(url, store.clone()),
                (MartLocation::Store(_), None) => {
                    let message = "the store is not open".into();
                    return Err(MartError::Store { location: target.location.uri(), message });
                }
            };
            let Some(current) = block_on(root.current())? else { return Ok(tables) };
            for (name, version) in &current.tables {
                tables.push((name.clone(), block_on(root.read(name, *version))?));
            }
        }
        (MartLocation::Store(_), MartFormat::Parquet, _) => {
            let message = "a store holds a Delta mart".into();
            return Err(MartError::Store { location: target.location.uri(), message });
        }
    }
    // Readers that look at `runs` to see what is current find it last, as in a publish.
    tables.sort_by_key(|(name, _)| name == "runs");
    Ok(tables)
}

/// The published `metric_values`, or nothing before the first publish.
pub fn read_metric_values(root: &Path) -> Result<Vec<MetricValue>, MartError> {
    let Some(dir) = current_dir(root) else {
        return Ok(Vec::new());
    };
    let path = dir.join("metric_values.parquet");
    let mut out = Vec::new();
    for b in read_parquet(&path)? {
        out.extend(values::from_batch(&b).map_err(|message| MartError::Previous { path: path.clone(), message })?);
    }
    Ok(out)
}

/// Merges this run's rows into the history: this run's rows replace every earlier row of the
/// same measure and period, except snapshot measures, whose published periods are kept unless
/// `recompute_snapshots`.
pub fn merge(
    previous: Vec<MetricValue>,
    new: Vec<MetricValue>,
    snapshot_ids: &HashSet<String>,
    recompute_snapshots: bool,
) -> Vec<MetricValue> {
    let published: HashSet<(String, String)> =
        previous.iter().map(|r| (r.metric_id.clone(), r.period.clone())).collect();
    let new: Vec<MetricValue> = new
        .into_iter()
        .filter(|r| {
            recompute_snapshots
                || !snapshot_ids.contains(&r.metric_id)
                || !published.contains(&(r.metric_id.clone(), r.period.clone()))
        })
        .collect();
    let replaced: HashSet<(&str, &str)> = new.iter().map(|r| (r.metric_id.as_str(), r.period.as_str())).collect();
    let mut merged: Vec<MetricValue> =
        previous.into_iter().filter(|r| !replaced.contains(&(r.metric_id.as_str(), r.period.as_str()))).collect();
    merged.extend(new);
    values::derive(&mut merged);
    values::sort(&mut merged);
    merged
}

fn write_batch(path: &Path, batch: &RecordBatch) -> Result<(), MartError> {
    let file = create_private_file(path).map_err(io(path))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")))
        .set_created_by(format!("scrutiny {}", env!("CARGO_PKG_VERSION")))
        .build();
    let bad = |e: datafusion::parquet::errors::ParquetError| MartError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(bad)?;
    w.write(batch).map_err(bad)?;
    let f = w.into_inner().map_err(bad)?;
    f.sync_all().map_err(io(path))
}

fn text<'a>(v: impl IntoIterator<Item = &'a str>) -> ArrayRef {
    Arc::new(v.into_iter().map(Some).collect::<StringArray>())
}

fn batch(fields: Vec<(&str, DataType, bool, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(fields.iter().map(|(n, t, null, _)| Field::new(*n, t.clone(), *null)).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), fields.into_iter().map(|f| f.3).collect()).expect("columns match")
}

fn days(d: chrono::NaiveDate) -> i32 {
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn metrics_batch(c: &Computed, sql_dir: &Path) -> RecordBatch {
    let m = &c.measures;
    let rel = |p: &Path| {
        let base = sql_dir.parent().unwrap_or(sql_dir);
        p.strip_prefix(base).unwrap_or(p).display().to_string()
    };
    let files: Vec<String> = m.iter().map(|x| rel(&x.file)).collect();
    batch(vec![
        ("id", DataType::Utf8, false, text(m.iter().map(|x| x.meta.id.as_str()))),
        ("title", DataType::Utf8, false, text(m.iter().map(|x| x.meta.title.as_str()))),
        ("area", DataType::Utf8, false, text(m.iter().map(|x| x.meta.area.as_str()))),
        ("unit", DataType::Utf8, false, text(m.iter().map(|x| x.meta.unit.as_str()))),
        ("polarity", DataType::Utf8, false, text(m.iter().map(|x| x.meta.polarity.as_str()))),
        ("target", DataType::Float64, true, Arc::new(m.iter().map(|x| x.meta.target).collect::<Float64Array>())),
        ("description", DataType::Utf8, false, text(m.iter().map(|x| x.meta.description.trim()))),
        ("definition_file", DataType::Utf8, false, text(files.iter().map(String::as_str))),
        (
            "snapshot",
            DataType::Boolean,
            false,
            Arc::new(m.iter().map(|x| Some(x.meta.snapshot)).collect::<BooleanArray>()),
        ),
        (
            "sort_order",
            DataType::UInt32,
            false,
            Arc::new(m.iter().map(|x| Some(x.meta.order)).collect::<UInt32Array>()),
        ),
    ])
}

/// Labels for measures' categories (the accommodation codes a) to p)), in report order.
fn categories_batch(c: &Computed) -> RecordBatch {
    let mut rows: Vec<(&str, &str, &str, u32)> = Vec::new();
    for m in &c.measures {
        let Some(set) = &m.meta.categories else {
            continue;
        };
        for r in c.code_sets.iter().filter(|r| &r[0] == set) {
            rows.push((m.meta.id.as_str(), r[1].as_str(), r[2].as_str(), r[3].parse().unwrap_or(0)));
        }
    }
    batch(vec![
        ("metric_id", DataType::Utf8, false, text(rows.iter().map(|r| r.0))),
        ("category", DataType::Utf8, false, text(rows.iter().map(|r| r.1))),
        ("label", DataType::Utf8, false, text(rows.iter().map(|r| r.2))),
        ("sort_order", DataType::UInt32, false, Arc::new(rows.iter().map(|r| Some(r.3)).collect::<UInt32Array>())),
    ])
}

fn periods_batch(values: &[MetricValue]) -> RecordBatch {
    let mut periods: Vec<Period> =
        values.iter().filter_map(|v| v.period.parse().ok()).collect::<HashSet<_>>().into_iter().collect();
    periods.sort();
    let names: Vec<String> = periods.iter().map(Period::to_string).collect();
    let labels: Vec<String> = periods.iter().map(|p| p.label()).collect();
    batch(vec![
        ("period", DataType::Utf8, false, text(names.iter().map(String::as_str))),
        (
            "period_start",
            DataType::Date32,
            false,
            Arc::new(periods.iter().map(|p| Some(days(p.start()))).collect::<Date32Array>()),
        ),
        (
            "period_end",
            DataType::Date32,
            false,
            Arc::new(periods.iter().map(|p| Some(days(p.end()))).collect::<Date32Array>()),
        ),
        ("label", DataType::Utf8, false, text(labels.iter().map(String::as_str))),
    ])
}

fn org_units_batch(c: &Computed) -> RecordBatch {
    let o = &c.org_units;
    batch(vec![
        ("org_unit", DataType::Utf8, false, text(o.iter().map(|x| x.org_unit.as_str()))),
        ("org_unit_kind", DataType::Utf8, false, text(o.iter().map(|x| x.kind.as_str()))),
        (
            "sort_order",
            DataType::UInt32,
            false,
            Arc::new(o.iter().map(|x| Some(x.sort_order)).collect::<UInt32Array>()),
        ),
    ])
}

fn quality_batch(c: &Computed) -> RecordBatch {
    let q = &c.quality;
    batch(vec![
        ("table_name", DataType::Utf8, false, text(q.iter().map(|x| x.table_name.as_str()))),
        ("rule", DataType::Utf8, false, text(q.iter().map(|x| x.rule.as_str()))),
        ("rows_seen", DataType::Int64, false, Arc::new(q.iter().map(|x| Some(x.rows_seen)).collect::<Int64Array>())),
        (
            "rows_affected",
            DataType::Int64,
            false,
            Arc::new(q.iter().map(|x| Some(x.rows_affected)).collect::<Int64Array>()),
        ),
    ])
}

/// The `spc` table (spc.md): one row per charted point of each measure and org unit.
fn spc_batch(rows: &[spc::SpcRow]) -> RecordBatch {
    let f64s = |f: fn(&spc::SpcRow) -> f64| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<Float64Array>())
    };
    batch(vec![
        ("metric_id", DataType::Utf8, false, text(rows.iter().map(|r| r.metric_id.as_str()))),
        ("org_unit", DataType::Utf8, false, text(rows.iter().map(|r| r.org_unit.as_str()))),
        ("period", DataType::Utf8, false, text(rows.iter().map(|r| r.period.as_str()))),
        ("value", DataType::Float64, false, f64s(|r| r.value)),
        ("mean", DataType::Float64, false, f64s(|r| r.mean)),
        ("lower_limit", DataType::Float64, false, f64s(|r| r.lower_limit)),
        ("upper_limit", DataType::Float64, false, f64s(|r| r.upper_limit)),
        ("special_cause", DataType::Utf8, false, text(rows.iter().map(|r| r.special_cause.as_str()))),
        ("direction", DataType::Int64, false, Arc::new(rows.iter().map(|r| Some(r.direction)).collect::<Int64Array>())),
        ("variation", DataType::Utf8, true, text(rows.iter().map(|r| r.variation.as_str()))),
        (
            "assurance",
            DataType::Utf8,
            true,
            Arc::new(rows.iter().map(|r| r.assurance.map(|a| a.as_str())).collect::<StringArray>()),
        ),
    ])
}

/// The `benchmarks` table: the DfE's published comparators, with the Open Government Licence
/// attribution in the schema's metadata, so it travels with the file.
fn benchmarks_batch(rows: &[scrutiny_measures::benchmarks::BenchmarkRow]) -> RecordBatch {
    let b = batch(vec![
        ("metric_id", DataType::Utf8, false, text(rows.iter().map(|r| r.metric_id.as_str()))),
        (
            "year_ending",
            DataType::Date32,
            false,
            Arc::new(rows.iter().map(|r| Some(days(r.year_ending))).collect::<Date32Array>()),
        ),
        ("comparator", DataType::Utf8, false, text(rows.iter().map(|r| r.comparator))),
        ("area", DataType::Utf8, false, text(rows.iter().map(|r| r.area.as_str()))),
        ("value", DataType::Float64, true, Arc::new(rows.iter().map(|r| r.value).collect::<Float64Array>())),
        (
            "neighbours_with_value",
            DataType::Int64,
            true,
            Arc::new(rows.iter().map(|r| r.neighbours_with_value).collect::<Int64Array>()),
        ),
    ]);
    let metadata =
        [("attribution".to_string(), scrutiny_measures::benchmarks::ATTRIBUTION.to_string())].into_iter().collect();
    let schema = Arc::new(b.schema().as_ref().clone().with_metadata(metadata));
    b.with_schema(schema).expect("only metadata added")
}

const RUN_COLUMNS: [&str; 8] =
    ["run_id", "period", "started_at", "finished_at", "source_as_at", "rows_read", "tables_read", "tool_version"];

fn runs_batch(previous: &[RecordBatch], run: &RunFacts, finished: DateTime<Utc>) -> Result<RecordBatch, String> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int64Type, TimestampMillisecondType};
    let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let (mut ids, mut periods, mut started, mut fin, mut asat, mut rows, mut tables, mut versions) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for b in previous {
        let col = |n: &str| b.column_by_name(n).ok_or(format!("runs.parquet has no `{n}`"));
        let s = |n: &str| -> Result<Vec<String>, String> {
            Ok(col(n)?.as_string::<i32>().iter().map(|v| v.unwrap_or("").to_string()).collect())
        };
        let t = |n: &str| -> Result<Vec<i64>, String> {
            Ok(col(n)?.as_primitive::<TimestampMillisecondType>().iter().map(|v| v.unwrap_or(0)).collect())
        };
        let i = |n: &str| -> Result<Vec<i64>, String> {
            Ok(col(n)?.as_primitive::<Int64Type>().iter().map(|v| v.unwrap_or(0)).collect())
        };
        ids.extend(s("run_id")?);
        periods.extend(s("period")?);
        started.extend(t("started_at")?);
        fin.extend(t("finished_at")?);
        asat.extend(t("source_as_at")?);
        rows.extend(i("rows_read")?);
        tables.extend(i("tables_read")?);
        versions.extend(s("tool_version")?);
    }
    ids.push(run.run_id.clone());
    periods.push(run.period.to_string());
    started.push(run.started_at.timestamp_millis());
    fin.push(finished.timestamp_millis());
    asat.push(run.source_as_at.timestamp_millis());
    rows.push(run.rows_read as i64);
    tables.push(run.tables_read as i64);
    versions.push(env!("CARGO_PKG_VERSION").to_string());
    let tsa = |v: Vec<i64>| Arc::new(TimestampMillisecondArray::from(v).with_timezone("UTC")) as ArrayRef;
    let arrays: Vec<ArrayRef> = vec![
        text(ids.iter().map(String::as_str)),
        text(periods.iter().map(String::as_str)),
        tsa(started),
        tsa(fin),
        tsa(asat),
        Arc::new(Int64Array::from(rows)),
        Arc::new(Int64Array::from(tables)),
        text(versions.iter().map(String::as_str)),
    ];
    let types =
        [DataType::Utf8, DataType::Utf8, ts.clone(), ts.clone(), ts, DataType::Int64, DataType::Int64, DataType::Utf8];
    Ok(batch(RUN_COLUMNS.iter().zip(types).zip(arrays).map(|((n, t), a)| (*n, t, false, a)).collect()))
}

/// The mart's tables for this run, in publishing order (`runs` last, so a reader of `runs`
/// never sees a run whose other tables are missing).
fn tables(
    computed: &Computed,
    merged: &[MetricValue],
    previous_runs: &[RecordBatch],
    run: &RunFacts,
    sql_dir: &Path,
    previous_runs_at: &str,
) -> Result<Vec<(&'static str, RecordBatch)>, MartError> {
    let runs = runs_batch(previous_runs, run, Utc::now())
        .map_err(|message| MartError::Previous { path: previous_runs_at.into(), message })?;
    Ok(vec![
        ("metric_values", values::to_batch(merged)),
        ("metrics", metrics_batch(computed, sql_dir)),
        ("periods", periods_batch(merged)),
        ("org_units", org_units_batch(computed)),
        ("categories", categories_batch(computed)),
        ("data_quality", quality_batch(computed)),
        ("spc", spc_batch(&spc::analyse(&computed.measures, &computed.periods, merged))),
        ("benchmarks", benchmarks_batch(&computed.benchmarks)),
        ("runs", runs),
    ])
}

/// Builds the new mart version from this run's results and the published history, with the
/// `documents` made from them, and publishes it to `target`.
pub fn publish(
    target: &Target,
    computed: &Computed,
    run: &RunFacts,
    sql_dir: &Path,
    recompute_snapshots: bool,
    documents: Documents<'_>,
) -> Result<Published, MartError> {
    match (&target.location, target.format, &target.store) {
        (MartLocation::Local(root), MartFormat::Parquet, _) => {
            publish_parquet(root, computed, run, sql_dir, recompute_snapshots, documents)
        }
        (MartLocation::Local(root), MartFormat::Delta, _) => {
            let root = delta::DeltaRoot::local(root)?;
            publish_delta(&root, target.keep, computed, run, sql_dir, recompute_snapshots, documents)
        }
        (MartLocation::Store(url), MartFormat::Delta, Some(store)) => {
            let root = delta::DeltaRoot::in_store(url, store.clone());
            publish_delta(&root, target.keep, computed, run, sql_dir, recompute_snapshots, documents)
        }
        (MartLocation::Store(url), _, _) => Err(MartError::Store {
            location: url.to_string(),
            message: "a mart on object storage is published as Delta tables, with its store opened".into(),
        }),
    }
}

/// Runs a future to completion from synchronous code inside the runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let handle = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| handle.block_on(f))
}

/// What `_current.json` names: the published values and runs, and `_current.json` itself.
async fn delta_history(
    root: &delta::DeltaRoot,
) -> Result<(Vec<MetricValue>, Vec<RecordBatch>, Option<delta::Current>), MartError> {
    let Some(current) = root.current().await? else {
        return Ok((Vec::new(), Vec::new(), None));
    };
    let version = |t: &str| {
        current.tables.get(t).copied().ok_or_else(|| MartError::Previous {
            path: format!("{}/{}", root.location(), delta::CURRENT_JSON).into(),
            message: format!("names no version of `{t}`"),
        })
    };
    let mut values = Vec::new();
    for b in root.read("metric_values", version("metric_values")?).await? {
        values.extend(values::from_batch(&b).map_err(|message| MartError::Previous {
            path: format!("{}/metric_values", root.location()).into(),
            message,
        })?);
    }
    // Delta keeps timestamps in microseconds; the mart's own are milliseconds.
    let runs = root
        .read("runs", version("runs")?)
        .await?
        .iter()
        .map(delta::timestamps_in_milliseconds)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| MartError::Previous { path: format!("{}/runs", root.location()).into(), message })?;
    Ok((values, runs, Some(current)))
}

/// This run's values over the published history, snapshot measures kept as first published
/// unless `recompute_snapshots`.
fn merge_into_history(previous: Vec<MetricValue>, computed: &Computed, recompute_snapshots: bool) -> Vec<MetricValue> {
    let snapshot_ids: HashSet<String> =
        computed.measures.iter().filter(|m| m.meta.snapshot).map(|m| m.meta.id.clone()).collect();
    merge(previous, computed.values.clone(), &snapshot_ids, recompute_snapshots)
}

fn publish_delta(
    root: &delta::DeltaRoot,
    keep: usize,
    computed: &Computed,
    run: &RunFacts,
    sql_dir: &Path,
    recompute_snapshots: bool,
    documents: Documents<'_>,
) -> Result<Published, MartError> {
    let (previous, previous_runs, current) = block_on(delta_history(root))?;
    let merged = merge_into_history(previous, computed, recompute_snapshots);
    let tables = tables(computed, &merged, &previous_runs, run, sql_dir, &format!("{}/runs", root.location()))?;
    let docs = documents(&merged)?;
    let published = block_on(root.publish(&run.run_id, &tables, docs, current.as_ref(), keep))?;
    match block_on(root.retain(&published)) {
        Ok(cleaned) if !cleaned.is_empty() => {
            tracing::info!(cleaned = cleaned.join(", "), "versions beyond keep_versions removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "old versions could not be removed"),
    }
    let version = published.tables.iter().map(|(t, v)| format!("{t}@{v}")).collect::<Vec<_>>().join(" ");
    Ok(Published {
        location: root.location(),
        version: format!("{} ({version})", published.run_id),
        documents: format!("{}/reports/{}", root.location(), published.run_id),
        values: merged,
    })
}

/// A local Parquet mart: a new `versions/<run id>/`, then `current` switched to it.
fn publish_parquet(
    root: &Path,
    computed: &Computed,
    run: &RunFacts,
    sql_dir: &Path,
    recompute_snapshots: bool,
    documents: Documents<'_>,
) -> Result<Published, MartError> {
    create_private_dir(&root.join(VERSIONS)).map_err(io(root))?;
    let previous = read_metric_values(root)?;
    let previous_runs = match current_dir(root) {
        Some(d) if d.join("runs.parquet").is_file() => read_parquet(&d.join("runs.parquet"))?,
        _ => Vec::new(),
    };
    let merged = merge_into_history(previous, computed, recompute_snapshots);

    // The caller holds the run lock, so any partial version here was left by a killed run.
    remove_leftovers(root);
    let version = version_name(root, &run.run_id)?;
    let version_dir = root.join(VERSIONS).join(&version);
    let partial = root.join(VERSIONS).join(format!(".{version}.partial"));
    create_private_dir(&partial).map_err(io(&partial))?;
    let result = (|| {
        let runs_at = root.join(CURRENT).join("runs.parquet").display().to_string();
        for (name, batch) in tables(computed, &merged, &previous_runs, run, sql_dir, &runs_at)? {
            write_batch(&partial.join(format!("{name}.parquet")), &batch)?;
        }
        for (name, bytes) in documents(&merged)? {
            let path = partial.join(&name);
            let mut f = create_private_file(&path).map_err(io(&path))?;
            std::io::Write::write_all(&mut f, &bytes).and_then(|()| f.sync_all()).map_err(io(&path))?;
        }
        sync_dir(&partial).map_err(io(&partial))?;
        scrutiny_core::fault::point("publish:before-rename");
        durable_rename(&partial, &version_dir).map_err(io(&version_dir))?;
        switch_current(root, &version)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result?;
    let current = root.join(CURRENT).display().to_string();
    Ok(Published {
        location: current.clone(),
        version: version_dir.display().to_string(),
        documents: current,
        values: merged,
    })
}

/// Points `current` at `versions/<run id>` atomically: a new symlink renamed over the old one.
fn switch_current(root: &Path, run_id: &str) -> Result<(), MartError> {
    let tmp = root.join(format!(".current.{run_id}"));
    let _ = std::fs::remove_file(&tmp);
    let target = Path::new(VERSIONS).join(run_id);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, &tmp).map_err(io(&tmp))?;
    #[cfg(not(unix))]
    compile_error!("publishing needs symlinks (Linux, macOS)");
    scrutiny_core::fault::point("publish:before-switch");
    durable_rename(&tmp, &root.join(CURRENT)).map_err(io(&root.join(CURRENT)))
}

/// The directory name this publish gets under `versions/`: the run id, unless a resumed run
/// published under it already. A version of this run that `current` does not point to was
/// left by a killed attempt of the same run (resumed with `--resume`) and is replaced; one that
/// `current` points to is kept, and this publish is `<run id>-r2` (`-r3`, ...).
fn version_name(root: &Path, run_id: &str) -> Result<String, MartError> {
    let current = std::fs::read_link(root.join(CURRENT))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()));
    let mut name = run_id.to_string();
    for attempt in 2.. {
        let dir = root.join(VERSIONS).join(&name);
        if !dir.exists() {
            break;
        }
        if current.as_deref() != Some(name.as_str()) {
            tracing::info!(version = %dir.display(), "replacing the unpublished version of a killed attempt of this run");
            std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
            break;
        }
        name = format!("{run_id}-r{attempt}");
    }
    Ok(name)
}

/// Removes what killed runs left: half-written versions and unswitched links. Only ever
/// called under the run lock.
fn remove_leftovers(root: &Path) {
    let dirs = [root.join(VERSIONS), root.to_path_buf()];
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().to_string();
            let path = e.path();
            let removed = if name.starts_with('.') && name.ends_with(".partial") {
                std::fs::remove_dir_all(&path)
            } else if name.starts_with(".current.") {
                std::fs::remove_file(&path)
            } else {
                continue;
            };
            match removed {
                Ok(()) => tracing::info!(path = %path.display(), "removed what a killed run left"),
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove what a killed run left"),
            }
        }
    }
}

/// Removes published versions beyond the newest `keep`, never the one `current` points to.
pub fn prune_versions(root: &Path, keep: usize) -> Result<Vec<String>, MartError> {
    let dir = root.join(VERSIONS);
    let current = std::fs::read_link(root.join(CURRENT))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().to_string()));
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    ids.sort();
    let mut removed = Vec::new();
    let excess = ids.len().saturating_sub(keep.max(1));
    for id in ids.into_iter().take(excess) {
        if Some(&id) == current.as_ref() {
            continue;
        }
        let p = dir.join(&id);
        std::fs::remove_dir_all(&p).map_err(io(&p))?;
        removed.push(id);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, period: &str, value: f64, run: &str) -> MetricValue {
        MetricValue {
            metric_id: id.into(),
            period: period.into(),
            period_end: 0,
            org_unit: "ALL".into(),
            category: None,
            numerator: Some(value as i64),
            denominator: None,
            value: Some(value),
            value_prev_month: None,
            value_last_year: None,
            change_vs_last_year: None,
            target: None,
            status: None,
            run_id: run.into(),
        }
    }

    #[test]
    fn this_run_replaces_its_periods_and_carries_the_rest() {
        let prev = vec![row("m", "2021-11", 1.0, "a"), row("m", "2021-12", 2.0, "a")];
        let new = vec![row("m", "2021-12", 3.0, "b"), row("m", "2022-01", 4.0, "b")];
        let out = merge(prev, new, &HashSet::new(), false);
        let got: Vec<(&str, f64, &str)> =
            out.iter().map(|r| (r.period.as_str(), r.value.unwrap(), r.run_id.as_str())).collect();
        assert_eq!(got, vec![("2021-11", 1.0, "a"), ("2021-12", 3.0, "b"), ("2022-01", 4.0, "b")]);
        assert_eq!(out[2].value_prev_month, Some(3.0));
    }

    #[test]
    fn snapshot_periods_already_published_are_kept_unless_asked() {
        let snap: HashSet<String> = ["s".to_string()].into();
        let prev = vec![row("s", "2021-12", 10.0, "a")];
        let new = vec![row("s", "2021-12", 99.0, "b")];
        assert_eq!(merge(prev.clone(), new.clone(), &snap, false)[0].value, Some(10.0));
        assert_eq!(merge(prev, new, &snap, true)[0].value, Some(99.0));
    }
}
