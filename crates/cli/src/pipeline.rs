//! The monthly run: extract -> land -> compute -> publish -> notify.

use chrono::Utc;
use scrutiny_core::settings::SourceSettings;
use scrutiny_core::{Period, Settings, WorkingDayCalendar, exit, new_run_id};
use scrutiny_extract::{ExtractError, FileSource, Landing};
use scrutiny_mart::{Published, RunFacts};
use scrutiny_metrics::engine::{CODE_SETS_CSV, TeamMap, read_code_map, read_code_sets};
use scrutiny_metrics::{Computed, Inputs, MetricsError, Project};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::progress::Progress;

/// Why a run stopped: the stage, the exit code and a message for a person.
#[derive(Debug)]
pub struct Failure {
    pub stage: &'static str,
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(stage: &'static str, code: u8, message: impl Into<String>) -> Self {
        Self { stage, code, message: message.into() }
    }
}

/// What a completed run produced.
pub struct Outcome {
    pub landing: Landing,
    pub computed: Computed,
    pub published: Published,
    pub email: Option<String>,
}

/// The default period: the last complete calendar month in Europe/London.
pub fn default_period() -> Period {
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    Period::last_complete(today)
}

pub fn config_failure(stage: &'static str, e: impl ToString) -> Failure {
    Failure::new(stage, exit::CONFIG, e.to_string())
}

/// Everything read before any data is touched: a mistake here ends the run with 78.
pub struct Prepared {
    pub project: Project,
    pub inputs: Inputs,
}

pub fn prepare(settings: &Settings, period: Period, run_id: &str) -> Result<Prepared, Failure> {
    let m = &settings.measures;
    let project = Project::load(&m.sql_dir).map_err(|e| config_failure("configure", MetricsError::Definitions(e)))?;
    let vars = project
        .resolve_vars(&m.vars, &settings.file)
        .map_err(|e| config_failure("configure", MetricsError::Definitions(e)))?;
    for id in m.targets.keys() {
        if !project.measures.iter().any(|x| &x.meta.id == id) {
            return Err(config_failure(
                "configure",
                format!("{}: measures.targets: no measure `{id}`", settings.file.display()),
            ));
        }
    }
    let r = &settings.reference;
    let mut holidays = match &r.bank_holidays {
        Some(p) => WorkingDayCalendar::from_csv_file(p),
        None => WorkingDayCalendar::read_holidays_csv(scrutiny_core::BANK_HOLIDAYS_CSV, "built-in bank holidays"),
    }
    .map_err(|e| config_failure("configure", e))?;
    holidays.extend(r.closure_days.iter().copied());
    let team_map = TeamMap::read(&r.team_org_units).map_err(|e| config_failure("configure", e))?;
    let code_map = match &r.code_map {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| config_failure("configure", format!("{}: {e}", p.display())))?;
            read_code_map(&text, p)
        }
        None => read_code_map(include_str!("../../../config/reference/code_map.csv"), Path::new("built-in code map")),
    }
    .map_err(|e| config_failure("configure", e))?;
    let code_sets = read_code_sets(CODE_SETS_CSV, Path::new("built-in SSDA903 code sets"))
        .map_err(|e| config_failure("configure", e))?;
    let inputs = Inputs {
        period,
        trend_months: m.trend_months,
        calendar: Arc::new(WorkingDayCalendar::new(holidays)),
        vars,
        targets: m.targets.clone(),
        team_map,
        code_map,
        code_sets,
        tables: Vec::new(),
        select: None,
        run_id: run_id.to_string(),
    };
    Ok(Prepared { project, inputs })
}

fn extract_failure(errors: Vec<ExtractError>) -> Failure {
    let code = if errors.iter().all(ExtractError::is_data_error) {
        exit::DATA
    } else if errors.iter().any(ExtractError::is_config_error) {
        exit::CONFIG
    } else {
        exit::UNAVAILABLE
    };
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ");
    Failure::new("extract", code, message)
}

pub fn metrics_failure(e: MetricsError) -> Failure {
    let code = if e.is_config_error() { exit::CONFIG } else { exit::DATA };
    Failure::new("compute", code, e.to_string())
}

/// Runs the whole pipeline for `period` with the settings in `config`.
pub async fn run(config: &Path, period: Option<Period>, recompute_snapshots: bool) -> Result<Outcome, Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let period = period.unwrap_or_else(default_period);
    let started_at = Utc::now();
    let run_id = new_run_id(started_at, period);
    tracing::info!(%run_id, %period, "run started");
    let result = run_stages(&settings, period, &run_id, started_at, recompute_snapshots).await;
    if let Err(f) = &result {
        tracing::error!(stage = f.stage, code = f.code, "run failed");
        if let Some(email) = &settings.email {
            match scrutiny_notify::failure_message(email, period, &run_id, f.stage, &f.message) {
                Ok(msg) => match scrutiny_notify::deliver(email, &msg, &format!("{run_id}-failure")).await {
                    Ok(to) => tracing::info!(delivered = %to, "failure alert sent"),
                    Err(e) => {
                        tracing::error!(error = %e, "the failure alert could not be sent")
                    }
                },
                Err(e) => tracing::error!(error = %e, "the failure alert could not be built"),
            }
        }
    }
    result
}

async fn run_stages(
    settings: &Settings,
    period: Period,
    run_id: &str,
    started_at: chrono::DateTime<Utc>,
    recompute_snapshots: bool,
) -> Result<Outcome, Failure> {
    let clock = Instant::now();
    let progress = Progress::new();
    let Prepared { project, mut inputs } = prepare(settings, period, run_id)?;

    progress.stage("extract");
    let t = Instant::now();
    let landing = extract(settings, period, run_id, started_at, &progress).await?;
    let rows_read: u64 = landing.manifest.tables.values().map(|t| t.rows).sum();
    tracing::info!(landing = %landing.dir.display(), tables = landing.manifest.tables.len(), rows = rows_read, ms = t.elapsed().as_millis() as u64, "landed");

    progress.stage("compute");
    let t = Instant::now();
    inputs.tables = landing.manifest.tables.keys().map(|name| (name.clone(), landing.table_path(name))).collect();
    let computed = scrutiny_metrics::compute(&project, &inputs).await.map_err(metrics_failure)?;
    tracing::info!(
        measures = computed.measures.len(),
        rows = computed.values.len(),
        ms = t.elapsed().as_millis() as u64,
        "computed"
    );

    progress.stage("publish");
    let facts = RunFacts {
        run_id: run_id.to_string(),
        period,
        started_at,
        source_as_at: landing.manifest.source.as_at,
        rows_read,
        tables_read: landing.manifest.tables.len() as u64,
    };
    let published = tokio::task::block_in_place(|| {
        scrutiny_mart::publish(
            &settings.storage.mart,
            &computed,
            &facts,
            &settings.measures.sql_dir,
            recompute_snapshots,
        )
    })
    .map_err(|e| Failure::new("publish", exit::SOFTWARE, e.to_string()))?;
    match scrutiny_mart::prune_versions(&settings.storage.mart, settings.storage.keep_versions) {
        Ok(removed) if !removed.is_empty() => {
            tracing::info!(removed = removed.len(), "old mart versions removed")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "old mart versions could not be removed"),
    }
    tracing::info!(version = %published.version_dir.display(), "published");

    progress.stage("notify");
    let mut email = None;
    if let Some(e) = &settings.email {
        let summary = scrutiny_notify::RunSummary {
            run_id: run_id.to_string(),
            period,
            source_as_at: facts.source_as_at,
            duration: clock.elapsed(),
            rows_read,
            mart: published.current.clone(),
        };
        let msg = scrutiny_notify::summary_message(e, &summary, &computed, &published.values)
            .map_err(|e| Failure::new("notify", exit::SOFTWARE, e.to_string()))?;
        let to = scrutiny_notify::deliver(e, &msg, &format!("{run_id}-summary"))
            .await
            .map_err(|e| Failure::new("notify", exit::TEMPFAIL, format!("{e} (the mart was published)")))?;
        tracing::info!(delivered = %to, "summary sent");
        email = Some(to);
    }
    progress.finish();
    tracing::info!(ms = clock.elapsed().as_millis() as u64, "run complete");
    Ok(Outcome { landing, computed, published, email })
}

/// The extract and land stages.
async fn extract(
    settings: &Settings,
    period: Period,
    run_id: &str,
    started_at: chrono::DateTime<Utc>,
    progress: &Progress,
) -> Result<Landing, Failure> {
    let landing = match &settings.source {
        SourceSettings::Files { path } => {
            let source = FileSource::new(path);
            let report = |table: &str, rows: u64| progress.message(format!("{table}: {rows} rows"));
            tokio::task::block_in_place(|| {
                scrutiny_extract::extract_files(&source, &settings.storage.landing, run_id, period, started_at, &report)
            })
            .map_err(extract_failure)?
        }
        SourceSettings::SqlServer(q) => {
            let bar = progress.clone();
            let report: scrutiny_extract::sqlserver::Progress =
                std::sync::Arc::new(move |table: &str, rows: u64| bar.message(format!("{table}: {rows} rows")));
            tracing::info!(server = %q.describe(), schema = %q.schema, connections = q.parallel_connections, "extracting from SQL Server");
            scrutiny_extract::extract_sqlserver(q, &settings.storage.landing, run_id, period, started_at, report)
                .await
                .map_err(extract_failure)?
        }
    };
    Ok(landing)
}

/// `scrutiny extract`: land the source and stop.
pub async fn extract_only(config: &Path, period: Option<Period>) -> Result<(), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let period = period.unwrap_or_else(default_period);
    let started_at = Utc::now();
    let run_id = new_run_id(started_at, period);
    let progress = Progress::new();
    progress.stage("extract");
    let t = Instant::now();
    let landing = extract(&settings, period, &run_id, started_at, &progress).await?;
    progress.finish();
    let rows: u64 = landing.manifest.tables.values().map(|t| t.rows).sum();
    tracing::info!(landing = %landing.dir.display(), rows, ms = t.elapsed().as_millis() as u64, "landed");
    println!("{}", landing.dir.display());
    Ok(())
}
