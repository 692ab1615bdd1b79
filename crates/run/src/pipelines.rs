//! A pipeline file held against the SQL project and the deployment's settings: which measures
//! it computes, which tables it therefore extracts, and where it publishes.

use scrutiny_core::pipeline::Pipeline;
use scrutiny_core::{ConfigError, Settings};
use scrutiny_measures::Project;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A pipeline ready to run.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub pipeline: Pipeline,
    /// The settings as this pipeline sees them: its mart, its recipients.
    pub settings: Settings,
    /// Its measures, in the report's order (by its areas, then by the measures' order).
    pub measures: Vec<String>,
    /// The source tables it extracts, in the contract's order: those its measures read (their
    /// lineage, through the staging models) and `also_extract`.
    pub tables: Vec<String>,
}

/// Holds `pipeline` against the project and gives it the deployment's settings.
pub async fn resolve(
    settings: &Settings,
    project: &Project,
    vars: &BTreeMap<String, Value>,
    pipeline: Pipeline,
) -> Result<Resolved, ConfigError> {
    let lineage = lineage(project, vars).await?;
    let (measures, tables) = select(project, &lineage, &pipeline)?;
    Ok(Resolved { settings: settings.for_pipeline(&pipeline), measures, tables, pipeline })
}

/// The tables each measure reads (through the staging models), planned once for all the
/// pipelines a command looks at.
pub async fn lineage(
    project: &Project,
    vars: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, BTreeSet<String>>, ConfigError> {
    scrutiny_measures::lineage::tables(project, vars).await.map_err(|e| ConfigError::in_file(&project.dir, None, e))
}

/// Holds `pipeline` against the project: every area, measure and table it names must exist,
/// and its report must show every area its measures are in; every problem is reported.
/// Returns its measures in the report's order and the tables it extracts.
pub fn select(
    project: &Project,
    lineage: &BTreeMap<String, BTreeSet<String>>,
    pipeline: &Pipeline,
) -> Result<(Vec<String>, Vec<String>), ConfigError> {
    let mut problems = Vec::new();
    let areas = areas_in_order(&project.measures);
    for area in &pipeline.measures.areas {
        if !areas.contains(&area.as_str()) {
            problems.push(pipeline.problem(
                &["measures", "areas"],
                Some(area),
                format!("no measure is in area `{area}` (areas: {})", areas.join(", ")),
            ));
        }
    }
    for id in &pipeline.measures.ids {
        if !project.measures.iter().any(|m| &m.meta.id == id) {
            problems.push(pipeline.problem(&["measures", "ids"], Some(id), format!("no measure `{id}`")));
        }
    }
    let chosen: Vec<&scrutiny_measures::Measure> = project
        .measures
        .iter()
        .filter(|m| pipeline.measures.areas.contains(&m.meta.area) || pipeline.measures.ids.contains(&m.meta.id))
        .collect();
    let report_areas: Vec<&str> = if pipeline.report.areas.is_empty() {
        areas_in_order(chosen.iter().copied())
    } else {
        pipeline.report.areas.iter().map(String::as_str).collect()
    };
    for area in &pipeline.report.areas {
        if !chosen.iter().any(|m| &m.meta.area == area) {
            problems.push(pipeline.problem(
                &["report", "areas"],
                Some(area),
                format!("none of the pipeline's measures is in area `{area}`"),
            ));
        }
    }
    for m in &chosen {
        if !report_areas.contains(&m.meta.area.as_str()) {
            problems.push(pipeline.problem(
                &["report", "areas"],
                None,
                format!("measure `{}` is in area `{}`, which the report does not show", m.meta.id, m.meta.area),
            ));
        }
    }
    for t in &pipeline.also_extract {
        if project.contract.table(t).is_none() {
            problems.push(pipeline.problem(
                &["also_extract"],
                Some(t),
                format!("`{t}` is not a table of the source contract ({})", project.contract.file.display()),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }

    let mut read: BTreeSet<&str> = pipeline.also_extract.iter().map(String::as_str).collect();
    for m in &chosen {
        read.extend(lineage.get(&m.meta.id).into_iter().flatten().map(String::as_str));
    }
    let tables: Vec<String> = project.contract.names().filter(|t| read.contains(t)).map(str::to_string).collect();

    let mut ordered = chosen;
    ordered.sort_by_key(|m| report_areas.iter().position(|a| *a == m.meta.area));
    Ok((ordered.into_iter().map(|m| m.meta.id.clone()).collect(), tables))
}

/// The areas of `measures`, each once, in the measures' order.
fn areas_in_order<'a>(measures: impl IntoIterator<Item = &'a scrutiny_measures::Measure>) -> Vec<&'a str> {
    let mut areas: Vec<&str> = Vec::new();
    for m in measures {
        if !areas.contains(&m.meta.area.as_str()) {
            areas.push(&m.meta.area);
        }
    }
    areas
}

/// Every pipeline, resolved, with the problems across them: an override for no pipeline, two
/// pipelines publishing to one mart.
pub async fn resolve_all(
    settings: &Settings,
    project: &Project,
    vars: &BTreeMap<String, Value>,
) -> Result<Vec<Resolved>, ConfigError> {
    let all = Pipeline::available(settings.pipelines.dir.as_deref())?;
    let ids: Vec<&str> = all.iter().map(|p| p.id.as_str()).collect();
    let mut problems = settings.check_overrides(&ids);
    let lineage = lineage(project, vars).await?;
    let mut resolved: Vec<Resolved> = Vec::new();
    for p in all.clone() {
        let chosen = select(project, &lineage, &p).map(|(measures, tables)| Resolved {
            settings: settings.for_pipeline(&p),
            measures,
            tables,
            pipeline: p,
        });
        match chosen {
            Ok(r) => {
                if let Some(other) = resolved.iter().find(|o| o.settings.storage.mart == r.settings.storage.mart) {
                    problems.push(r.pipeline.problem(
                        &["mart"],
                        None,
                        format!(
                            "publishes to {}, as pipeline `{}` does: give each pipeline its own mart",
                            r.settings.storage.mart, other.pipeline.id
                        ),
                    ));
                }
                resolved.push(r);
            }
            Err(e) => problems.extend(e.problems),
        }
    }
    if problems.is_empty() { Ok(resolved) } else { Err(ConfigError { problems }) }
}
