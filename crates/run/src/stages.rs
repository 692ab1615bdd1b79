//! A pipeline's run: extract -> land -> compute -> publish -> notify.

use chrono::Utc;
use scrutiny_core::lock::{LockError, RunLock};
use scrutiny_core::pipeline::{DEFAULT_PIPELINE, Pipeline};
use scrutiny_core::run::RunRecord;
use scrutiny_core::settings::{MartFormat, MartLocation, OnBadRow, SourceSettings};
use scrutiny_core::storage::{Lease, StorageError};
use scrutiny_core::{Grain, Period, Settings, WorkingDayCalendar, exit, new_run_id};
use scrutiny_extract::{Contract, ExtractError, FileSource, Landing};
use scrutiny_mart::{Published, RunFacts};
use scrutiny_measures::benchmarks::{Council, Reference};
use scrutiny_measures::reference::{TeamMap, builtin_code_map, builtin_code_sets, read_code_map};
use scrutiny_measures::{Computed, Inputs, MeasureError, Project};
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

/// The default period: the last complete calendar month (or quarter) in Europe/London.
pub fn default_period(grain: Grain) -> Period {
    let today = Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive();
    Period::last_complete_in(grain, today)
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
    let project = Project::load(&m.sql_dir).map_err(|e| config_failure("configure", MeasureError::Definitions(e)))?;
    let vars = project
        .resolve_vars(&m.vars, &settings.file)
        .map_err(|e| config_failure("configure", MeasureError::Definitions(e)))?;
    for id in m.targets.keys() {
        if !project.measures.iter().any(|x| &x.meta.id == id) {
            return Err(config_failure(
                "configure",
                format!("{}: measures.targets: no measure `{id}`", settings.file.display()),
            ));
        }
    }
    if let Some(dir) = &settings.report.commentary_dir {
        let mut areas: Vec<&str> = project.measures.iter().map(|m| m.meta.area.as_str()).collect();
        areas.sort_unstable();
        areas.dedup();
        scrutiny_notify::Commentary::load_checked(dir, period, &areas).map_err(|e| config_failure("configure", e))?;
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
        None => builtin_code_map(),
    }
    .map_err(|e| config_failure("configure", e))?;
    let code_sets = builtin_code_sets().map_err(|e| config_failure("configure", e))?;
    let benchmarks = match &settings.council {
        None => None,
        Some(c) => {
            let reference = match &r.benchmarks {
                Some(dir) => Reference::read_dir(dir),
                None => Reference::builtin(),
            }
            .map_err(|e| config_failure("configure", e))?;
            reference.council(c.la_number).map_err(|why| {
                config_failure("configure", format!("{}: council.la_number: {why}", settings.file.display()))
            })?;
            // A key the figures do not have is a typo, or a measure added since the last import:
            // either way its comparison would silently be empty.
            let source = r.benchmarks.as_ref().map_or("the built-in figures".to_string(), |d| d.display().to_string());
            for m in &project.measures {
                if let Some(b) = m.meta.benchmark.as_ref().filter(|b| !reference.has_key(&b.lait)) {
                    return Err(config_failure(
                        "configure",
                        format!(
                            "{}: benchmark.lait `{}`: {source} have no such LAIT key (run `scrutiny benchmarks import` to add it)",
                            m.file.display(),
                            b.lait
                        ),
                    ));
                }
            }
            Some((Council { name: c.name.clone(), la_number: c.la_number }, Arc::new(reference)))
        }
    };
    let inputs = Inputs {
        period,
        // A pipeline sets its own trend; the data team's commands show the default's length.
        trend_months: period.grain().default_trend(),
        calendar: Arc::new(WorkingDayCalendar::new(holidays)),
        vars,
        targets: m.targets.clone(),
        team_map,
        code_map,
        code_sets,
        tables: Vec::new(),
        stores: Vec::new(),
        select: None,
        run_id: run_id.to_string(),
        compute: settings.compute.clone(),
        benchmarks,
    };
    Ok(Prepared { project, inputs })
}

/// The facts the report's header and footer and the summary email state.
fn run_summary(facts: &RunFacts, elapsed: std::time::Duration, mart: &str) -> scrutiny_notify::RunSummary {
    scrutiny_notify::RunSummary {
        run_id: facts.run_id.clone(),
        period: facts.period,
        source_as_at: facts.source_as_at,
        duration: elapsed,
        rows_read: facts.rows_read,
        mart: mart.to_string(),
    }
}

/// Publishes the mart with its report (`report.html`), made from the same merged values, and
/// returns what the report says, for the summary email.
pub fn publish_with_report(
    title: &str,
    settings: &Settings,
    target: &scrutiny_mart::Target,
    computed: &Computed,
    facts: &RunFacts,
    recompute_snapshots: bool,
    elapsed: std::time::Duration,
) -> Result<(Published, scrutiny_notify::Content), Failure> {
    let where_readers_look = match (&target.location, target.format) {
        (MartLocation::Local(root), MartFormat::Parquet) => root.join(scrutiny_mart::CURRENT).display().to_string(),
        (location, _) => location.to_string(),
    };
    let content = std::cell::RefCell::new(None);
    let report = |values: &[scrutiny_measures::values::MetricValue]| {
        let failed = |e: scrutiny_notify::NotifyError| scrutiny_mart::MartError::Document {
            name: "report.html".into(),
            message: e.to_string(),
        };
        let c = scrutiny_notify::content(title, computed, values, facts.period, &settings.report).map_err(failed)?;
        let html =
            scrutiny_notify::report_html(&run_summary(facts, elapsed, &where_readers_look), &c).map_err(failed)?;
        *content.borrow_mut() = Some(c);
        Ok(vec![("report.html".to_string(), html.into_bytes())])
    };
    let published =
        scrutiny_mart::publish(target, computed, facts, &settings.measures.sql_dir, recompute_snapshots, &report)
            .map_err(|e| Failure::new("publish", e.exit_code(), format!("{e} (the published mart is unchanged)")))?;
    let content = content.into_inner().expect("the report was made while publishing");
    Ok((published, content))
}

fn extract_failure(errors: Vec<ExtractError>) -> Failure {
    // The code that says most about what to do: fix the settings, then a bug, then the disk,
    // then wait for the source, then fix the data.
    const PRECEDENCE: [u8; 5] = [exit::CONFIG, exit::SOFTWARE, exit::CANTCREAT, exit::UNAVAILABLE, exit::DATA];
    let code = PRECEDENCE.into_iter().find(|c| errors.iter().any(|e| e.exit_code() == *c)).unwrap_or(exit::SOFTWARE);
    let message = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ");
    Failure::new("extract", code, message)
}

pub fn measure_failure(e: MeasureError) -> Failure {
    let code = if e.is_config_error() { exit::CONFIG } else { exit::DATA };
    Failure::new("compute", code, e.to_string())
}

/// How a run is asked for.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The pipeline's id (default: `monthly_scrutiny`).
    pub pipeline: Option<String>,
    /// Default: the last complete month or quarter in Europe/London (or the resumed run's).
    pub period: Option<Period>,
    pub recompute_snapshots: bool,
    /// Resume a run that died after landing, without extracting again.
    pub resume: Option<String>,
}

/// Runs the whole pipeline with the settings in `config`.
/// The pipeline `id` (default `monthly_scrutiny`) and the settings as it sees them (its own
/// mart and recipients: the lock, the landing's record and every message are its own); a
/// period of another grain is refused.
pub fn pipeline_settings(
    settings: &Settings,
    id: Option<&str>,
    period: Option<Period>,
) -> Result<(Settings, Pipeline), Failure> {
    let id = id.unwrap_or(DEFAULT_PIPELINE);
    let pipeline = Pipeline::find(settings.pipelines.dir.as_deref(), id).map_err(|e| config_failure("configure", e))?;
    if let Some(p) = period.filter(|p| p.grain() != pipeline.grain) {
        return Err(config_failure(
            "configure",
            format!(
                "pipeline `{id}` reports by {}: --period {p} is a {}; say e.g. --period {}",
                pipeline.grain,
                p.grain(),
                pipeline.grain.example()
            ),
        ));
    }
    Ok((settings.for_pipeline(&pipeline), pipeline))
}

pub async fn run(config: &Path, opts: RunOptions) -> Result<Outcome, Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let (settings, pipeline) = pipeline_settings(&settings, opts.pipeline.as_deref(), opts.period)?;
    let started_at = Utc::now();
    let (run_id, period, mut record) = match &opts.resume {
        Some(id) => {
            let landing = find_landing(&settings, Some(id))
                .await
                .map_err(|e| {
                    Failure::new(
                        "resume",
                        exit::CONFIG,
                        format!("run {id} has no complete landing to resume from: {e}"),
                    )
                })?
                .expect("a run id names one landing");
            let period: Period = landing.manifest.period.parse().map_err(|e| config_failure("resume", e))?;
            if opts.period.is_some_and(|p| p != period) {
                return Err(config_failure(
                    "resume",
                    format!("run {id} is for {period}, not {}", opts.period.expect("checked")),
                ));
            }
            let record = RunRecord::load(&settings.storage.landing, id).unwrap_or_else(|| RunRecord {
                run_id: id.clone(),
                period: period.to_string(),
                started_at: Some(landing.manifest.started_at),
                stages: [("extract".to_string(), landing.manifest.landed_at)].into(),
            });
            (id.clone(), period, record)
        }
        None => {
            let period = opts.period.unwrap_or_else(|| default_period(pipeline.grain));
            let id = new_run_id(started_at, period);
            let record = RunRecord {
                run_id: id.clone(),
                period: period.to_string(),
                started_at: Some(started_at),
                ..Default::default()
            };
            (id, period, record)
        }
    };
    let target = mart_target(&settings, &settings.storage.mart)?;
    let lock = lock(&target, &settings, &run_id).await?;
    tracing::info!(%run_id, pipeline = %pipeline.id, %period, host = %scrutiny_core::lock::hostname(), resumed = opts.resume.is_some(), "run started");
    let mut report = crate::observe::RunReport {
        run_id: run_id.clone(),
        pipeline: pipeline.id.clone(),
        period: period.to_string(),
        period_start: Some(period.start()),
        started_at,
        ..Default::default()
    };
    monitor_start(&settings, &report).await;
    let result = run_stages(
        &settings,
        &target,
        &pipeline,
        period,
        &run_id,
        started_at,
        opts.recompute_snapshots,
        &mut record,
        &mut report,
    )
    .await;
    lock.release().await;
    report.finished_at = Utc::now();
    report.succeeded = result.is_ok();
    monitor_end(&settings, &report, result.as_ref().err()).await;
    if let Err(f) = &result {
        tracing::error!(stage = f.stage, code = f.code, "run failed");
        if let Some(email) = &settings.email {
            match scrutiny_notify::failure_message(email, &pipeline.title, period, &run_id, f.stage, &f.message) {
                Ok(msg) => {
                    match scrutiny_notify::deliver(email, &msg, &format!("{run_id}-failure"), &pending_mail(&settings))
                        .await
                    {
                        Ok(to) => tracing::info!(delivered = %to, "failure alert sent"),
                        Err(e) => tracing::error!(error = %e, "the failure alert could not be sent"),
                    }
                }
                Err(e) => tracing::error!(error = %e, "the failure alert could not be built"),
            }
        }
    }
    result
}

/// Where to publish `location` (the settings' mart, or `compute --out`), with its store opened.
pub fn mart_target(settings: &Settings, location: &MartLocation) -> Result<scrutiny_mart::Target, Failure> {
    let store = match location {
        MartLocation::Local(_) => None,
        MartLocation::Store(url) => Some(
            scrutiny_core::storage::open(url, &settings.storage.options)
                .map_err(|e| Failure::new("configure", e.exit_code(), e.to_string()))?,
        ),
    };
    let format = if location == &settings.storage.mart { settings.storage.mart_format } else { MartFormat::Parquet };
    Ok(scrutiny_mart::Target { location: location.clone(), format, store, keep: settings.storage.keep_versions })
}

/// How long a lease on object storage lives without renewal, when the settings name none.
const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(900);

/// The run lock: a file lock on a local mart, a lease object on an object store.
pub enum RunGuard {
    File(RunLock),
    Lease(Lease),
}

impl RunGuard {
    /// Lets the next run in at once (a lease would otherwise wait out its TTL).
    pub async fn release(self) {
        match self {
            Self::File(l) => drop(l),
            Self::Lease(l) => l.release().await,
        }
    }
}

/// One run at a time, for everything that writes the mart (`run`, `compute --publish`,
/// `notify --resend`): a second one (a CronJob started twice) is refused, naming the holder.
pub async fn lock(target: &scrutiny_mart::Target, settings: &Settings, run_id: &str) -> Result<RunGuard, Failure> {
    match (&target.location, &target.store) {
        (MartLocation::Local(dir), _) => {
            RunLock::acquire(dir, run_id, settings.storage.lock_ttl).map(RunGuard::File).map_err(|e| match e {
                LockError::Held { .. } => Failure::new("lock", exit::TEMPFAIL, e.to_string()),
                LockError::Io { .. } | LockError::Unsupported { .. } => {
                    Failure::new("lock", exit::CANTCREAT, e.to_string())
                }
            })
        }
        (MartLocation::Store(url), Some(store)) => {
            let ttl = settings.storage.lock_ttl.unwrap_or(DEFAULT_LEASE);
            Lease::acquire(store.clone(), url, run_id, ttl)
                .await
                .map(RunGuard::Lease)
                .map_err(|e: StorageError| Failure::new("lock", e.exit_code(), e.to_string()))
        }
        (MartLocation::Store(url), None) => Err(Failure::new("lock", exit::SOFTWARE, format!("{url}: store not open"))),
    }
}

/// Where messages that could not be sent wait for the next run: beside a local mart, or in the
/// landing when the mart is on object storage.
pub fn pending_mail(settings: &Settings) -> std::path::PathBuf {
    match &settings.storage.mart {
        MartLocation::Local(dir) => dir.join(".pending-mail"),
        MartLocation::Store(_) => settings.storage.landing.join(".pending-mail"),
    }
}

/// `scrutiny notify --resend`: sends the messages kept by failed deliveries.
pub async fn resend(config: &Path) -> Result<(), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let Some(email) = &settings.email else { return Err(config_failure("notify", "no notify.email in the settings")) };
    // A run sending the same kept message at the same time would send it twice.
    let target = mart_target(&settings, &settings.storage.mart)?;
    let lock = lock(&target, &settings, &format!("resend-{}", Utc::now().format("%Y%m%dT%H%M%SZ"))).await?;
    let sent = scrutiny_notify::resend_pending(email, &pending_mail(&settings)).await;
    lock.release().await;
    let n = sent.map_err(|e| Failure::new("notify", exit::TEMPFAIL, e.to_string()))?;
    println!("sent {n} kept message{}", if n == 1 { "" } else { "s" });
    Ok(())
}

fn source_name(settings: &Settings) -> String {
    match &settings.source {
        SourceSettings::Files { path, .. } => format!("file://{}", path.display()),
        SourceSettings::SqlServer(q) => format!("sqlserver://{}", q.describe()),
    }
}

/// The START lineage event.
async fn monitor_start(settings: &Settings, report: &crate::observe::RunReport) {
    use crate::observe;
    let m = &settings.monitoring;
    let event = observe::lineage_event(
        "START",
        &m.openlineage_namespace,
        report,
        &source_name(settings),
        &settings.storage.mart.uri(),
        None,
    );
    send_event(m, &event).await;
}

async fn send_event(m: &scrutiny_core::settings::MonitoringSettings, event: &serde_json::Value) {
    use crate::observe;
    if let Some(f) = &m.openlineage_file
        && let Err(e) = observe::append_event(f, event)
    {
        tracing::warn!(file = %f.display(), error = %e, "the lineage event could not be written");
    }
    if let Some(url) = &m.openlineage_url {
        match observe::http("POST", url, "application/json", event.to_string(), m.ca_file.as_deref()).await {
            Ok(200..=299) => {}
            Ok(code) => tracing::warn!(%url, code, "the lineage endpoint refused the event"),
            Err(e) => tracing::warn!(%url, error = %e, "the lineage event could not be sent"),
        }
    }
}

/// Metrics and the COMPLETE or FAIL lineage event. Monitoring never fails a run.
async fn monitor_end(settings: &Settings, report: &crate::observe::RunReport, failure: Option<&Failure>) {
    use crate::observe;
    let m = &settings.monitoring;
    let previous = m.prometheus_textfile.as_deref().and_then(observe::previous_success);
    let text = observe::prometheus_text(report, previous);
    if let Some(f) = &m.prometheus_textfile {
        match observe::write_textfile(f, &text) {
            Ok(()) => tracing::info!(file = %f.display(), "metrics written"),
            Err(e) => tracing::warn!(file = %f.display(), error = %e, "the metrics file could not be written"),
        }
    }
    // A failed run adds its metrics to the Pushgateway's group without the last success
    // time, so the success pushed by an earlier run stays there.
    let pushed = if report.succeeded { text.clone() } else { observe::prometheus_text(report, None) };
    if let Some(url) = &m.pushgateway_url
        && let Err(e) = observe::push(url, &report.pipeline, &pushed, report.succeeded, m.ca_file.as_deref()).await
    {
        tracing::warn!(%url, error = %e, "the metrics could not be pushed");
    }
    let kind = if failure.is_some() { "FAIL" } else { "COMPLETE" };
    let error = failure.map(|f| format!("{} failed: {}", f.stage, f.message));
    let event = observe::lineage_event(
        kind,
        &m.openlineage_namespace,
        report,
        &source_name(settings),
        &settings.storage.mart.uri(),
        error.as_deref(),
    );
    send_event(m, &event).await;
}

/// Removes landings older than the retention period, never the one this run used.
fn prune_landings(root: &Path, retention_days: u32, keep: &str) -> Vec<String> {
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(retention_days));
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut removed = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().to_string();
        // A partial landing was left by a killed run, unless a `scrutiny extract` (which does
        // not take the mart's lock) is writing it now: a day old, it is not.
        if name.starts_with('.') && name.ends_with(".partial") {
            let age = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if age.is_some_and(|a| a > std::time::Duration::from_secs(86_400))
                && std::fs::remove_dir_all(e.path()).is_ok()
            {
                removed.push(name);
            }
            continue;
        }
        if name == keep || name.starts_with('.') {
            continue;
        }
        let started = chrono::NaiveDateTime::parse_from_str(name.get(..16).unwrap_or(""), "%Y%m%dT%H%M%SZ")
            .ok()
            .map(|t| t.and_utc());
        if started.is_some_and(|t| t < cutoff) && std::fs::remove_dir_all(e.path()).is_ok() {
            let _ = std::fs::remove_file(RunRecord::path(root, &name));
            removed.push(name);
        }
    }
    removed
}

#[allow(clippy::too_many_arguments)]
async fn run_stages(
    settings: &Settings,
    target: &scrutiny_mart::Target,
    pipeline: &Pipeline,
    period: Period,
    run_id: &str,
    started_at: chrono::DateTime<Utc>,
    recompute_snapshots: bool,
    record: &mut RunRecord,
    report: &mut crate::observe::RunReport,
) -> Result<Outcome, Failure> {
    let clock = Instant::now();
    let progress = Progress::new();
    let Prepared { project, mut inputs } = prepare(settings, period, run_id)?;
    let resolved = crate::pipelines::resolve(settings, &project, &inputs.vars, pipeline.clone())
        .await
        .map_err(|e| config_failure("configure", e))?;
    inputs.trend_months = pipeline.trend;
    inputs.select = Some(resolved.measures.clone());
    let contract = project.contract.only(&resolved.tables);
    tracing::info!(pipeline = %pipeline.id, measures = resolved.measures.len(), tables = contract.tables.len(), "pipeline resolved");
    let root = &settings.storage.landing;
    let mark = |record: &mut RunRecord, stage: &str| {
        if let Err(e) = record.complete(root, stage) {
            tracing::warn!(stage, error = %e, "the run record could not be written");
        }
    };

    progress.stage("extract");
    let t = Instant::now();
    let landing = if record.done("extract") {
        let l = find_landing(settings, Some(run_id))
            .await
            .map_err(|e| Failure::new("resume", e.exit_code(), e.to_string()))?
            .expect("a run id names one landing");
        l.require(contract.names()).map_err(|e| Failure::new("resume", e.exit_code(), e.to_string()))?;
        l.verify().await.map_err(|e| Failure::new("resume", e.exit_code(), e.to_string()))?;
        tracing::info!(landing = %l.location(), "resuming from the landing");
        l
    } else {
        let l = extract(settings, &contract, period, run_id, started_at, &progress).await?;
        mark(record, "extract");
        l
    };
    let rows_read: u64 = landing.manifest.tables.values().map(|t| t.rows).sum();
    report.stage_seconds.push(("extract".into(), t.elapsed().as_secs_f64()));
    report.rows_extracted = landing.manifest.tables.iter().map(|(n, t)| (n.clone(), t.rows)).collect();
    tracing::info!(landing = %landing.location(), tables = landing.manifest.tables.len(), rows = rows_read, ms = t.elapsed().as_millis() as u64, "landed");

    progress.stage("compute");
    let t = Instant::now();
    inputs.tables = landing.manifest.tables.keys().map(|name| (name.clone(), landing.table_location(name))).collect();
    inputs.stores = landing.store().into_iter().collect();
    let mut computed = scrutiny_measures::compute(&project, &inputs).await.map_err(measure_failure)?;
    // The report shows the pipeline's areas in its order.
    computed.measures.sort_by_key(|m| resolved.measures.iter().position(|id| id == &m.meta.id));
    // Times of day are dropped while landing; the landing's manifest counts them.
    for (name, t) in &landing.manifest.tables {
        computed.quality.push(scrutiny_measures::QualityRow {
            table_name: name.clone(),
            rule: "time_of_day_dropped".into(),
            rows_seen: t.rows as i64,
            rows_affected: t.rows_with_times as i64,
        });
        if quarantining(settings) {
            computed.quality.push(scrutiny_measures::QualityRow {
                table_name: name.clone(),
                rule: "unreadable_row_quarantined".into(),
                rows_seen: (t.rows + t.rows_rejected) as i64,
                rows_affected: t.rows_rejected as i64,
            });
        }
    }
    computed.quality.sort_by(|a, b| (&a.table_name, &a.rule).cmp(&(&b.table_name, &b.rule)));
    mark(record, "compute");
    report.stage_seconds.push(("compute".into(), t.elapsed().as_secs_f64()));
    report.measures_computed = computed.measures.len();
    report.data_quality =
        computed.quality.iter().map(|q| (q.table_name.clone(), q.rule.clone(), q.rows_affected)).collect();
    tracing::info!(
        measures = computed.measures.len(),
        rows = computed.values.len(),
        ms = t.elapsed().as_millis() as u64,
        "computed"
    );

    progress.stage("publish");
    let t = Instant::now();
    let facts = RunFacts {
        run_id: run_id.to_string(),
        period,
        started_at,
        source_as_at: landing.manifest.source.as_at,
        rows_read,
        tables_read: landing.manifest.tables.len() as u64,
    };
    let (published, content) = tokio::task::block_in_place(|| {
        publish_with_report(&pipeline.title, settings, target, &computed, &facts, recompute_snapshots, clock.elapsed())
    })?;
    mark(record, "publish");
    report.stage_seconds.push(("publish".into(), t.elapsed().as_secs_f64()));
    report.mart_tables = vec![("metric_values".into(), published.values.len() as u64)];
    tracing::info!(mart = %published.location, version = %published.version, ms = t.elapsed().as_millis() as u64, "published");
    if let (MartLocation::Local(dir), MartFormat::Parquet) = (&target.location, target.format) {
        match scrutiny_mart::prune_versions(dir, settings.storage.keep_versions) {
            Ok(removed) if !removed.is_empty() => tracing::info!(removed = removed.len(), "old mart versions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "old mart versions could not be removed"),
        }
    }
    let mut removed = prune_landings(root, settings.storage.retention_days, run_id);
    if let Some((store, url)) = landing_store(settings)? {
        let cutoff = Utc::now() - chrono::Duration::days(i64::from(settings.storage.retention_days));
        match Landing::prune_in(store, &url, cutoff, run_id).await {
            Ok(r) => removed.extend(r),
            Err(e) => tracing::warn!(error = %e, "landings past the retention period could not be removed"),
        }
    }
    if !removed.is_empty() {
        tracing::info!(removed = removed.len(), "landings past the retention period removed");
    }

    // A sink that fails does not stop the summary: the mart it describes is published. The run
    // still ends with the sink's failure (75), after the email.
    let mut sink_failure = None;
    if settings.sinks.sqlserver.is_some() {
        progress.stage("sink");
        let t = Instant::now();
        match sink(settings, target).await {
            Ok(_) => mark(record, "sink"),
            Err(f) => sink_failure = Some(f),
        }
        report.stage_seconds.push(("sink".into(), t.elapsed().as_secs_f64()));
    }

    progress.stage("notify");
    let t = Instant::now();
    let mut email = None;
    if let Some(e) = &settings.email {
        let summary = run_summary(&facts, clock.elapsed(), &published.location);
        let msg = scrutiny_notify::summary_message(e, &summary, &content)
            .map_err(|e| Failure::new("notify", exit::SOFTWARE, format!("{e} (the mart was published)")))?;
        let pending = pending_mail(settings);
        scrutiny_core::fault::point("notify:before-send");
        match scrutiny_notify::resend_pending(e, &pending).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "messages kept from earlier runs sent"),
            Err(err) => tracing::warn!(error = %err, "messages kept from earlier runs could not be sent yet"),
        }
        let to = scrutiny_notify::deliver(e, &msg, &format!("{run_id}-summary"), &pending)
            .await
            .map_err(|e| Failure::new("notify", exit::TEMPFAIL, format!("{e} (the mart was published)")))?;
        tracing::info!(delivered = %to, "summary sent");
        email = Some(to);
    }
    mark(record, "notify");
    report.stage_seconds.push(("notify".into(), t.elapsed().as_secs_f64()));
    progress.finish();
    if let Some(f) = sink_failure {
        return Err(f);
    }
    tracing::info!(ms = clock.elapsed().as_millis() as u64, "run complete");
    Ok(Outcome { landing, computed, published, email })
}

/// Loads the published mart into the SQL Server sink.
async fn sink(settings: &Settings, target: &scrutiny_mart::Target) -> Result<(), Failure> {
    let Some(sink) = &settings.sinks.sqlserver else { return Ok(()) };
    let failure = |e: scrutiny_mart::MartError| {
        Failure::new(
            "sink",
            e.exit_code(),
            format!(
                "{e} (the mart is published; the tables in SQL Server are as they were, and the next run or \
                 `scrutiny sink --resend` loads them)"
            ),
        )
    };
    let tables = scrutiny_mart::published_tables(target).map_err(failure)?;
    if tables.is_empty() {
        return Err(nothing_published(target));
    }
    let r = scrutiny_mart::sqlserver::load(sink, &tables).await.map_err(failure)?;
    tracing::info!(
        server = %sink.connection.describe(),
        schema = %r.schema,
        tables = r.tables,
        rows = r.rows,
        rows_per_second = (r.rows as f64 / r.seconds.max(1e-9)).round() as u64,
        ms = (r.seconds * 1000.0) as u64,
        "loaded into SQL Server"
    );
    Ok(())
}

/// The settings for `pipeline`'s sink (its mart, its schema), with the mart opened.
fn sink_settings(config: &Path, pipeline: Option<&str>) -> Result<(Settings, scrutiny_mart::Target), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let (settings, _) = pipeline_settings(&settings, pipeline, None)?;
    if settings.sinks.sqlserver.is_none() {
        return Err(config_failure("sink", "no sinks.sqlserver in the settings"));
    }
    let target = mart_target(&settings, &settings.storage.mart)?;
    Ok((settings, target))
}

/// `scrutiny sink --ddl`: the `CREATE TABLE` statements for the published mart's tables in the
/// sink's schema.
pub fn sink_ddl(config: &Path, pipeline: Option<&str>) -> Result<Vec<String>, Failure> {
    let (settings, target) = sink_settings(config, pipeline)?;
    let schema = &settings.sinks.sqlserver.as_ref().expect("checked").connection.schema;
    let tables =
        scrutiny_mart::published_tables(&target).map_err(|e| Failure::new("sink", e.exit_code(), e.to_string()))?;
    if tables.is_empty() {
        return Err(nothing_published(&target));
    }
    scrutiny_mart::sqlserver::ddl(schema, &tables).map_err(|e| Failure::new("sink", exit::SOFTWARE, e))
}

fn nothing_published(target: &scrutiny_mart::Target) -> Failure {
    Failure::new("sink", exit::CONFIG, format!("nothing is published at {} yet", target.location.uri()))
}

/// `scrutiny sink --resend`: loads the published mart into the SQL Server sink again (after a
/// failed load, or to fill a new reporting database).
pub async fn sink_resend(config: &Path, pipeline: Option<&str>) -> Result<(), Failure> {
    let (settings, target) = sink_settings(config, pipeline)?;
    // A run publishing at the same time would be loaded half old, half new.
    let lock = lock(&target, &settings, &format!("sink-{}", Utc::now().format("%Y%m%dT%H%M%SZ"))).await?;
    let result = sink(&settings, &target).await;
    lock.release().await;
    result?;
    println!("loaded the published mart into SQL Server");
    Ok(())
}

/// The extract and land stages, for the tables of `contract`.
async fn extract(
    settings: &Settings,
    contract: &Contract,
    period: Period,
    run_id: &str,
    started_at: chrono::DateTime<Utc>,
    progress: &Progress,
) -> Result<Landing, Failure> {
    let landing = match &settings.source {
        SourceSettings::Files { path, on_bad_row, max_rejects } => {
            let source = match on_bad_row {
                OnBadRow::Fail => FileSource::new(path),
                OnBadRow::Quarantine => FileSource::new(path).quarantining(*max_rejects),
            };
            let report = |table: &str, rows: u64| progress.message(format!("{table}: {rows} rows"));
            tokio::task::block_in_place(|| {
                scrutiny_extract::extract_files(
                    &source,
                    contract,
                    &settings.storage.landing,
                    run_id,
                    period,
                    started_at,
                    &report,
                )
            })
            .map_err(extract_failure)?
        }
        SourceSettings::SqlServer(q) => {
            let bar = progress.clone();
            let report: scrutiny_extract::sqlserver::Progress =
                std::sync::Arc::new(move |table: &str, rows: u64| bar.message(format!("{table}: {rows} rows")));
            tracing::info!(server = %q.describe(), schema = %q.schema, connections = q.parallel_connections, "extracting from SQL Server");
            scrutiny_extract::extract_sqlserver(
                q,
                contract,
                &settings.storage.landing,
                run_id,
                period,
                started_at,
                report,
            )
            .await
            .map_err(extract_failure)?
        }
    };
    match landing_store(settings)? {
        None => Ok(landing),
        Some((store, root)) => {
            let t = Instant::now();
            let landing = landing.upload(store, &root).await.map_err(|e| extract_failure(vec![e]))?;
            tracing::info!(landing = %landing.location(), ms = t.elapsed().as_millis() as u64, "landing uploaded");
            Ok(landing)
        }
    }
}

/// A store opened at its container or bucket, and the location in it.
pub type OpenedStore = (Arc<dyn object_store::ObjectStore>, scrutiny_core::storage::StoreUrl);

/// The object store holding landings, opened, when `storage.landing` is a URL.
pub fn landing_store(settings: &Settings) -> Result<Option<OpenedStore>, Failure> {
    let Some(url) = &settings.storage.landing_store else { return Ok(None) };
    let store = scrutiny_core::storage::open(url, &settings.storage.options)
        .map_err(|e| Failure::new("configure", e.exit_code(), e.to_string()))?;
    Ok(Some((store, url.clone())))
}

/// The landing of `run_id` (or the latest), wherever the settings keep landings.
pub async fn find_landing(settings: &Settings, run_id: Option<&str>) -> Result<Option<Landing>, ExtractError> {
    match (landing_store(settings).ok().flatten(), run_id) {
        (Some((store, root)), Some(id)) => Landing::open_in(store, &root, id).await.map(Some),
        (Some((store, root)), None) => Landing::latest_in(store, &root).await,
        (None, Some(id)) => Landing::open(&settings.storage.landing, id).map(Some),
        (None, None) => Landing::latest(&settings.storage.landing),
    }
}

fn quarantining(settings: &Settings) -> bool {
    matches!(settings.source, SourceSettings::Files { on_bad_row: OnBadRow::Quarantine, .. })
}

/// `scrutiny extract`: land the tables a pipeline reads and stop.
pub async fn extract_only(config: &Path, pipeline: Option<&str>, period: Option<Period>) -> Result<(), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let (settings, pipeline) = pipeline_settings(&settings, pipeline, period)?;
    let period = period.unwrap_or_else(|| default_period(pipeline.grain));
    let Prepared { project, inputs } = prepare(&settings, period, "extract")?;
    let resolved = crate::pipelines::resolve(&settings, &project, &inputs.vars, pipeline)
        .await
        .map_err(|e| config_failure("configure", e))?;
    let contract = project.contract.only(&resolved.tables);
    let started_at = Utc::now();
    let run_id = new_run_id(started_at, period);
    let progress = Progress::new();
    progress.stage("extract");
    let t = Instant::now();
    let landing = extract(&settings, &contract, period, &run_id, started_at, &progress).await?;
    // `scrutiny run --resume RUN_ID` picks the landing up from here.
    let mut record = RunRecord {
        run_id: run_id.clone(),
        period: period.to_string(),
        started_at: Some(started_at),
        ..Default::default()
    };
    if let Err(e) = record.complete(&settings.storage.landing, "extract") {
        tracing::warn!(error = %e, "the run record could not be written");
    }
    progress.finish();
    let rows: u64 = landing.manifest.tables.values().map(|t| t.rows).sum();
    tracing::info!(landing = %landing.location(), rows, ms = t.elapsed().as_millis() as u64, "landed");
    println!("{}", landing.location());
    Ok(())
}
