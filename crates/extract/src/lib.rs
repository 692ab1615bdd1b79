//! Extract the SSD tables named by the source contract and land them as an immutable Parquet
//! snapshot with a manifest.

pub mod contract;
pub mod error;
pub mod files;
pub mod landing;
pub mod sqlserver;

pub use contract::{Contract, ContractTable};
pub use error::ExtractError;
pub use files::{FileSource, Reject};
pub use landing::{Landing, LandingWriter};

use chrono::{DateTime, Utc};
use scrutiny_core::Period;
use scrutiny_core::run::SourceInfo;
use std::path::Path;
use std::sync::Mutex;

/// Reads every table of `contract` (the source contract, or the part a pipeline reads) from
/// `source` and lands it under `landing_root/run_id`. Tables are read in parallel; `progress`
/// hears `(table, rows so far)`.
pub fn extract_files(
    source: &FileSource,
    contract: &Contract,
    landing_root: &Path,
    run_id: &str,
    period: Period,
    started_at: DateTime<Utc>,
    progress: &(dyn Fn(&str, u64) + Sync),
) -> Result<Landing, Vec<ExtractError>> {
    source.check(&contract.tables)?;
    scrutiny_core::fs::create_private_dir(landing_root).map_err(|e| vec![error::write(landing_root)(e)])?;
    let mut writer = LandingWriter::create(landing_root, run_id, contract).map_err(|e| vec![e])?;
    let queue = Mutex::new(contract.tables.iter());
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).min(contract.tables.len()).max(1);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(table) = queue.lock().expect("queue").next() else {
                        break;
                    };
                    // A worker that panics fails the run by name; it never leaves a landing with
                    // one table fewer.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        scrutiny_core::fault::point(&format!("extract:{}", &table.name));
                        source
                            .read_counting(table)
                            .and_then(|read| writer.write_table(table, read, |rows| progress(&table.name, rows)))
                    }))
                    .unwrap_or_else(|panic| Err(panicked(&table.name, &panic)));
                    tracing::debug!(table = %table.name, ok = result.is_ok(), "table landed");
                    results.lock().expect("results").push(result);
                }
            });
        }
    });
    let mut errors = Vec::new();
    for r in results.into_inner().expect("results") {
        match r {
            Ok((name, t)) => writer.add(name, t),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(rejects) = source.rejects() {
        if !rejects.is_empty() {
            tracing::warn!(rows = rejects.len(), "rows that could not be read were left out (see rejects.csv)");
        }
        writer.write_rejects(&rejects).map_err(|e| vec![e])?;
    }
    let info = SourceInfo {
        kind: "files".into(),
        location: source.dir().display().to_string(),
        as_at: source.as_at(&contract.tables),
    };
    writer.finish(period, started_at, info).map_err(|e| vec![e])
}

/// Extracts every table of `contract` from SQL Server and lands it under `landing_root/run_id`.
pub async fn extract_sqlserver(
    settings: &scrutiny_core::settings::SqlServerSettings,
    contract: &Contract,
    landing_root: &Path,
    run_id: &str,
    period: Period,
    started_at: DateTime<Utc>,
    progress: sqlserver::Progress,
) -> Result<Landing, Vec<ExtractError>> {
    // Every query is checked before any data is read: a misspelt alias stops the run here.
    let problems =
        sqlserver::check_queries(&settings.queries_dir, &settings.schema, &settings.column_renames, &contract.tables);
    if !problems.is_empty() {
        return Err(problems);
    }
    scrutiny_core::fs::create_private_dir(landing_root).map_err(|e| vec![error::write(landing_root)(e)])?;
    let writer = std::sync::Arc::new(LandingWriter::create(landing_root, run_id, contract).map_err(|e| vec![e])?);
    let as_at = Utc::now();
    let landed =
        sqlserver::extract(std::sync::Arc::new(settings.clone()), writer.clone(), contract.tables.clone(), progress)
            .await?;
    let Ok(mut writer) = std::sync::Arc::try_unwrap(writer) else {
        unreachable!("every worker has finished with the landing writer")
    };
    for (name, t) in landed {
        writer.add(name, t);
    }
    let info = SourceInfo {
        kind: "sqlserver".into(),
        location: format!("{}, schema {}", settings.describe(), settings.schema),
        as_at,
    };
    writer.finish(period, started_at, info).map_err(|e| vec![e])
}

/// The error for a worker that panicked, with the panic's message (ours name no values).
pub(crate) fn panicked(table: &str, panic: &(dyn std::any::Any + Send)) -> ExtractError {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("no message")
        .to_string();
    ExtractError::Panicked { table: table.to_string(), message }
}
