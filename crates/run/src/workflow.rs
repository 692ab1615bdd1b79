//! The data team's commands: check, test, docs, compute and explain the SQL definitions
//! without a database and without rebuilding anything.

use chrono::Utc;
use scrutiny_core::settings::SourceSettings;
use scrutiny_core::{Period, Settings, exit, new_run_id};
use scrutiny_extract::{Contract, Landing};
use scrutiny_measures::{MeasureError, Project};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::stages::{Failure, config_failure, measure_failure, prepare};

fn load_optional(config: Option<&Path>, stage: &'static str) -> Result<Option<Settings>, Failure> {
    config.map(Settings::load).transpose().map_err(|e| config_failure(stage, e))
}

/// The SQL project and variable values: from the settings when given, else `sql_dir` with its
/// declared defaults.
fn project_and_vars(
    settings: Option<&Settings>,
    sql_dir: &Path,
) -> Result<(Project, BTreeMap<String, Value>), Failure> {
    let (dir, overrides, file) = match settings {
        Some(s) => (s.measures.sql_dir.clone(), s.measures.vars.clone(), s.file.clone()),
        None => (sql_dir.to_path_buf(), BTreeMap::new(), PathBuf::from("(no settings)")),
    };
    let project = Project::load(&dir).map_err(|e| config_failure("check", MeasureError::Definitions(e)))?;
    let vars =
        project.resolve_vars(&overrides, &file).map_err(|e| config_failure("check", MeasureError::Definitions(e)))?;
    Ok((project, vars))
}

pub async fn check(config: Option<&Path>, sql_dir: &Path) -> Result<(), Failure> {
    let started = Instant::now();
    let settings = load_optional(config, "check")?;
    let (project, vars) = project_and_vars(settings.as_ref(), sql_dir)?;
    let report = scrutiny_measures::check::check(&project, &vars).await;
    // The extract queries, with the council's schema and renames when the settings name them.
    let (queries_dir, schema, renames) = match settings.as_ref().map(|s| &s.source) {
        Some(SourceSettings::SqlServer(q)) => (q.queries_dir.clone(), q.schema.clone(), q.column_renames.clone()),
        _ => {
            let dir = settings.as_ref().map_or(sql_dir, |s| s.measures.sql_dir.as_path());
            (dir.join("extract/ssd"), "ssd_development".to_string(), BTreeMap::new())
        }
    };
    let query_problems =
        scrutiny_extract::sqlserver::check_queries(&queries_dir, &schema, &renames, &project.contract.tables);
    // Every pipeline file: against the project, and with the settings, against each other.
    let (pipelines, pipeline_problems) = if !report.problems.is_empty() {
        (0, Vec::new())
    } else if let Some(s) = &settings {
        match crate::pipelines::resolve_all(s, &project, &vars).await {
            Ok(all) => (all.len(), Vec::new()),
            Err(e) => (0, e.problems),
        }
    } else {
        let dir = scrutiny_core::settings::PipelineSettings::default_dir(sql_dir);
        match scrutiny_core::Pipeline::available(dir.as_deref()) {
            Ok(all) => match crate::pipelines::lineage(&project, &vars).await {
                Ok(lineage) => {
                    let problems = all
                        .iter()
                        .filter_map(|p| crate::pipelines::select(&project, &lineage, p).err())
                        .flat_map(|e| e.problems)
                        .collect();
                    (all.len(), problems)
                }
                Err(e) => (0, e.problems),
            },
            Err(e) => (0, e.problems),
        }
    };
    if report.problems.is_empty() && query_problems.is_empty() && pipeline_problems.is_empty() {
        println!(
            "ok: {} staging models, {} measures, {} data-quality rules, {} extract queries and {} pipelines checked in {} ms",
            report.models,
            report.measures,
            report.quality_rules,
            project.contract.tables.len(),
            pipelines,
            started.elapsed().as_millis()
        );
        return Ok(());
    }
    let mut lines: Vec<String> = query_problems.iter().map(ToString::to_string).collect();
    lines.extend(pipeline_problems.iter().map(ToString::to_string));
    if !report.problems.is_empty() {
        lines.push(MeasureError::Definitions(report.problems).to_string());
    }
    Err(config_failure("check", lines.join("\n")))
}

/// `scrutiny pipelines`: each pipeline with its period, trend, schedule, mart, measures and
/// the tables it extracts.
/// `scrutiny benchmarks import`: the reference files from the DfE's published files.
pub fn benchmarks_import(lait: &Path, neighbours: &Path, out: &Path, sql_dir: &Path) -> Result<(), Failure> {
    let project = scrutiny_measures::Project::load(sql_dir)
        .map_err(|e| config_failure("benchmarks", scrutiny_measures::error::MeasureError::Definitions(e)))?;
    let imported = scrutiny_measures::benchmarks::import(&project.measures, lait, neighbours, out)
        .map_err(|e| config_failure("benchmarks", e))?;
    println!(
        "{} published values ({} to {}) for {} councils, {} with statistical neighbours, written to {}",
        imported.values,
        imported.years.0,
        imported.years.1,
        imported.councils,
        imported.with_neighbours,
        out.display()
    );
    println!("{}", scrutiny_measures::benchmarks::ATTRIBUTION);
    Ok(())
}

pub async fn pipelines(config: &Path) -> Result<(), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let (project, vars) = project_and_vars(Some(&settings), &settings.measures.sql_dir)?;
    let all =
        crate::pipelines::resolve_all(&settings, &project, &vars).await.map_err(|e| config_failure("check", e))?;
    for r in &all {
        let p = &r.pipeline;
        println!("{}  {}", p.id, p.title);
        println!("  file:      {}", p.file.display());
        println!("  period:    {} (e.g. {}), trend of {} {}s", p.grain, p.grain.example(), p.trend, p.grain);
        println!("  schedule:  {}", p.schedule);
        println!("  mart:      {}", r.settings.storage.mart);
        if let Some(e) = &r.settings.email {
            println!("  email to:  {}", e.to.join(", "));
        }
        println!("  measures:  {} ({})", r.measures.len(), r.measures.join(", "));
        println!("  tables:    {} ({})", r.tables.len(), r.tables.join(", "));
        println!();
    }
    Ok(())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub async fn test(sql: &Path, pattern: Option<&str>, junit: Option<&Path>) -> Result<(), Failure> {
    let started = Instant::now();
    let project = Project::load(sql).map_err(|e| config_failure("test", MeasureError::Definitions(e)))?;
    let results = scrutiny_measures::testing::run_tests(&project, &sql.join("measures/tests"), pattern)
        .await
        .map_err(|e| Failure::new("test", exit::CONFIG, e))?;
    let mut failed = 0;
    for r in &results {
        match &r.failure {
            None => println!("ok      {} / {}", r.measure, r.name),
            Some(f) => {
                failed += 1;
                println!("FAILED  {} / {} ({})\n{f}", r.measure, r.name, r.file.display());
            }
        }
    }
    if let Some(path) = junit {
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n<testsuite name=\"scrutiny measure tests\" tests=\"{}\" failures=\"{failed}\" time=\"{:.3}\">\n",
            results.len(),
            started.elapsed().as_secs_f64()
        );
        for r in &results {
            xml.push_str(&format!(
                "<testcase classname=\"{}\" name=\"{}\" file=\"{}\">",
                xml_escape(&r.measure),
                xml_escape(&r.name),
                xml_escape(&r.file.display().to_string())
            ));
            if let Some(f) = &r.failure {
                xml.push_str(&format!("<failure message=\"rows differ\">{}</failure>", xml_escape(f)));
            }
            xml.push_str("</testcase>\n");
        }
        xml.push_str("</testsuite>\n</testsuites>\n");
        std::fs::write(path, xml)
            .map_err(|e| Failure::new("test", exit::SOFTWARE, format!("{}: {e}", path.display())))?;
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        Err(Failure::new("test", exit::TESTS_FAILED, format!("{failed} measure test(s) failed")))
    } else {
        Ok(())
    }
}

pub async fn docs(
    config: Option<&Path>,
    sql_dir: &Path,
    out: Option<&Path>,
    readme: Option<&Path>,
) -> Result<(), Failure> {
    let settings = load_optional(config, "docs")?;
    let (project, vars) = project_and_vars(settings.as_ref(), sql_dir)?;
    let fail = |e: String| Failure::new("docs", exit::SOFTWARE, e);
    if let Some(out) = out {
        let cat = scrutiny_measures::docs::catalogue(&project, &vars).await.map_err(fail)?;
        std::fs::create_dir_all(out).map_err(|e| fail(format!("{}: {e}", out.display())))?;
        std::fs::write(out.join("measures.md"), cat.markdown).map_err(|e| fail(e.to_string()))?;
        std::fs::write(out.join("index.html"), cat.html).map_err(|e| fail(e.to_string()))?;
        println!("wrote {} and {}", out.join("measures.md").display(), out.join("index.html").display());
    }
    if let Some(readme) = readme {
        let text = std::fs::read_to_string(readme).map_err(|e| fail(format!("{}: {e}", readme.display())))?;
        let updated = scrutiny_measures::docs::update_readme(&text, &project).ok_or_else(|| {
            Failure::new(
                "docs",
                exit::CONFIG,
                format!("{}: no measures markers ({})", readme.display(), scrutiny_measures::docs::README_START),
            )
        })?;
        if updated != text {
            std::fs::write(readme, updated).map_err(|e| fail(e.to_string()))?;
            println!("updated the measures in {}", readme.display());
        } else {
            println!("{} is up to date", readme.display());
        }
    }
    Ok(())
}

/// The landing to compute from, holding every table of `contract` (the data team's commands
/// compute any measure, so a landing of fewer tables, a quarterly pipeline's, is refused by
/// name rather than read as empty tables).
async fn open_landing(settings: &Settings, landing: Option<&str>, contract: &Contract) -> Result<Landing, Failure> {
    let root = match &settings.storage.landing_store {
        Some(url) => url.to_string(),
        None => settings.storage.landing.display().to_string(),
    };
    let found = crate::stages::find_landing(settings, landing).await.map_err(|e| {
        // A landing id that names nothing is a mistake in the command, not an unavailable source.
        let code = if matches!(e, scrutiny_extract::ExtractError::Io { .. }) { exit::CONFIG } else { e.exit_code() };
        Failure::new("compute", code, e.to_string())
    })?;
    let landing = found.ok_or_else(|| {
        Failure::new("compute", exit::DATA, format!("no landing in {root}: run `scrutiny run` first"))
    })?;
    landing.require(contract.names()).map_err(|e| Failure::new("compute", e.exit_code(), e.to_string()))?;
    // Nothing damaged is computed from: every file must match its manifest entry.
    landing.verify().await.map_err(|e| Failure::new("compute", e.exit_code(), e.to_string()))?;
    Ok(landing)
}

/// Recomputes measures from an existing landing, into a scratch mart or (with `publish`) the
/// real one.
#[allow(clippy::too_many_arguments)]
pub async fn compute(
    config: &Path,
    pipeline: Option<&str>,
    period: Period,
    landing: Option<&str>,
    select: Option<Vec<String>>,
    publish: bool,
    out: &Path,
) -> Result<(), Failure> {
    let started_at = Utc::now();
    let clock = Instant::now();
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    // The pipeline's measures, trend, mart and title: `compute --publish` republishes its report.
    let (settings, pipeline) = crate::stages::pipeline_settings(&settings, pipeline, Some(period))?;
    let run_id = new_run_id(started_at, period);
    let mut prepared = prepare(&settings, period, &run_id)?;
    let resolved = crate::pipelines::resolve(&settings, &prepared.project, &prepared.inputs.vars, pipeline.clone())
        .await
        .map_err(|e| config_failure("configure", e))?;
    prepared.inputs.trend_months = pipeline.trend;
    let landing = open_landing(&settings, landing, &prepared.project.contract.only(&resolved.tables)).await?;
    if let Some(ids) = &select {
        for id in ids {
            if !prepared.project.measures.iter().any(|m| &m.meta.id == id) {
                return Err(config_failure("compute", format!("--select: no measure `{id}`")));
            }
        }
    }
    prepared.inputs.select = Some(select.unwrap_or_else(|| resolved.measures.clone()));
    prepared.inputs.tables = landing.manifest.tables.keys().map(|n| (n.clone(), landing.table_location(n))).collect();
    prepared.inputs.stores = landing.store().into_iter().collect();
    let location = if publish {
        settings.storage.mart.clone()
    } else {
        scrutiny_core::settings::MartLocation::Local(out.to_path_buf())
    };
    let target = crate::stages::mart_target(&settings, &location)?;
    let lock = crate::stages::lock(&target, &settings, &run_id).await?;
    let mut computed =
        scrutiny_measures::compute(&prepared.project, &prepared.inputs).await.map_err(measure_failure)?;
    computed.measures.sort_by_key(|m| resolved.measures.iter().position(|id| id == &m.meta.id));
    let facts = scrutiny_mart::RunFacts {
        run_id: run_id.clone(),
        period,
        started_at,
        source_as_at: landing.manifest.source.as_at,
        rows_read: landing.manifest.tables.values().map(|t| t.rows).sum(),
        tables_read: landing.manifest.tables.len() as u64,
    };
    let published = crate::stages::publish_with_report(
        &pipeline.title,
        &settings,
        &target,
        &computed,
        &facts,
        false,
        clock.elapsed(),
    );
    lock.release().await;
    let (published, _) = published?;
    let p = period.to_string();
    println!("{:<44} {:<28} {:>10} {:>12}", "measure", "org unit / category", "value", "num / den");
    for v in published.values.iter().filter(|v| v.period == p && v.run_id == run_id) {
        let unit = computed
            .measures
            .iter()
            .find(|m| m.meta.id == v.metric_id)
            .map(|m| m.meta.unit)
            .unwrap_or(scrutiny_measures::Unit::Count);
        let place = v.category.clone().map_or(v.org_unit.clone(), |c| format!("{} {c}", v.org_unit));
        let nd = match v.denominator {
            Some(d) => format!("{} / {d}", v.numerator.unwrap_or(0)),
            None => v.numerator.map_or(String::new(), |n| n.to_string()),
        };
        println!("{:<44} {:<28} {:>10} {:>12}", v.metric_id, place, scrutiny_notify::format_value(v.value, unit), nd);
    }
    println!(
        "\ncomputed {} measures from landing {} in {} ms; mart: {}",
        computed.measures.len(),
        landing.manifest.run_id,
        clock.elapsed().as_millis(),
        published.location
    );
    Ok(())
}

/// Shows the plans of a measure, a staging model or a quality rule: logical and physical, or
/// (`analyze`) the physical plan run, with its time and each operator's rows, time and memory
/// (DataFusion's `EXPLAIN ANALYZE`). For a measure, also its numerator and denominator.
pub async fn explain(
    config: &Path,
    id: &str,
    period: Period,
    landing: Option<&str>,
    analyze: bool,
) -> Result<(), Failure> {
    let settings = Settings::load(config).map_err(|e| config_failure("configure", e))?;
    let prepared = prepare(&settings, period, "explain")?;
    let project = &prepared.project;
    let measure = project.measures.iter().find(|m| m.meta.id == id);
    let model = project.models.iter().find(|m| m.name == id);
    let rule = project.quality.iter().find(|q| q.name == id);
    let (file, first_line, sql, title) = match (measure, model, rule) {
        (Some(m), _, _) => (&m.file, m.first_line, &m.sql, format!("{} ({})", m.meta.title, m.meta.id)),
        (None, Some(m), _) => (&m.file, 1, &m.sql, format!("staging model {}", m.name)),
        (None, None, Some(q)) => (&q.file, 1, &q.sql, format!("quality rule {}", q.name)),
        (None, None, None) => {
            return Err(config_failure("explain", format!("no measure, staging model or quality rule `{id}`")));
        }
    };
    let landing = open_landing(&settings, landing, &project.contract).await?;
    let mut inputs = prepared.inputs;
    inputs.tables = landing.manifest.tables.keys().map(|n| (n.clone(), landing.table_location(n))).collect();
    inputs.stores = landing.store().into_iter().collect();
    let ctx = scrutiny_measures::session::session(&inputs).map_err(measure_failure)?;
    scrutiny_measures::session::register_sources(&ctx, &inputs.tables).await.map_err(measure_failure)?;
    let scratch = scrutiny_measures::engine::scratch_dir(&inputs.compute).map_err(measure_failure)?;
    let _streams = scrutiny_measures::session::register_models(
        &ctx,
        project,
        &inputs.vars,
        scrutiny_measures::session::Models::OnDisk(scratch.path()),
        scrutiny_measures::session::Readers::default(),
    )
    .await
    .map_err(measure_failure)?;
    let sql = scrutiny_measures::project::render(sql, &inputs.vars, file, first_line)
        .map_err(|e| measure_failure(MeasureError::Definitions(vec![e])))?;
    let df = ctx.sql(&sql).await.map_err(|e| {
        measure_failure(MeasureError::Definitions(vec![scrutiny_measures::session::locate_error(file, first_line, &e)]))
    })?;
    let failed = |e: datafusion::error::DataFusionError| Failure::new("explain", exit::SOFTWARE, e.to_string());
    let models = scrutiny_measures::session::Models::OnDisk(scratch.path());
    // Only a run stores the materialized CTEs; a plan shows them inlined.
    let storage = if analyze { models } else { scrutiny_measures::session::Models::Views };
    let planned = scrutiny_measures::cte::plan(&ctx, df, &sql, id, storage).await.map_err(failed)?;
    let plan = planned.df.clone().explain(false, analyze).map_err(failed)?;
    let started = std::time::Instant::now();
    let batches = plan.collect().await.map_err(failed)?;
    let how = if analyze {
        format!("run in {} ms (EXPLAIN ANALYZE: rows, time and memory per operator)", started.elapsed().as_millis())
    } else {
        "planned".to_string()
    };
    println!("{title}, {how}, from landing {}\n", landing.manifest.run_id);
    for c in &planned.materialized {
        println!("CTE {} materialized first: {} rows in {} ms (read below as {id}__{})", c.name, c.rows, c.ms, c.name);
    }
    if !planned.materialized.is_empty() {
        println!();
    }
    println!(
        "{}",
        datafusion::arrow::util::pretty::pretty_format_batches(&batches).map_err(|e| Failure::new(
            "explain",
            exit::SOFTWARE,
            e.to_string()
        ))?
    );
    let Some(m) = measure else {
        return Ok(());
    };
    drop(planned);
    let rows = scrutiny_measures::engine::run_measure(&ctx, m, &inputs, models).await.map_err(measure_failure)?;
    println!("\n{} for {} (counts only):", m.meta.id, period.label());
    println!("{:<32} {:>12} {:>12}", "org unit / category", "numerator", "denominator");
    let p = period.to_string();
    for r in rows.iter().filter(|r| r.period == p) {
        let place = r.category.clone().map_or(r.org_unit.clone(), |c| format!("{} {c}", r.org_unit));
        let o = |v: Option<i64>| v.map_or("-".to_string(), |n| n.to_string());
        println!("{:<32} {:>12} {:>12}", place, o(r.numerator), o(r.denominator));
    }
    Ok(())
}
