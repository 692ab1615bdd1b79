//! `scrutiny docs`: the measure catalogue (Markdown and one HTML page) and the README's list
//! of measures, generated from the definitions so they never drift from the SQL.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use serde::Serialize;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::engine::{Models, register_models};
use crate::project::{Measure, Project, Unit, render};

/// The source and reference tables a measure reads, with their columns, through the staging
/// models (read off DataFusion's optimised plan, so only columns actually used appear).
pub type Lineage = BTreeMap<String, BTreeSet<String>>;

#[derive(Serialize)]
struct TableColumns {
    table: String,
    columns: Vec<String>,
}

#[derive(Serialize)]
struct MeasureDoc {
    id: String,
    title: String,
    area: String,
    unit: &'static str,
    polarity: &'static str,
    target: String,
    snapshot: &'static str,
    description: String,
    file: String,
    sql: String,
    lineage: Vec<TableColumns>,
}

#[derive(Serialize)]
struct AreaDoc {
    name: String,
    measures: Vec<MeasureDoc>,
}

/// The catalogue, as Markdown and as one self-contained HTML page.
pub struct Catalogue {
    pub markdown: String,
    pub html: String,
}

async fn lineage_of(ctx: &datafusion::execution::context::SessionContext, sql: &str) -> Result<Lineage, String> {
    let state = ctx.state();
    let plan = state.create_logical_plan(sql).await.map_err(|e| e.to_string())?;
    let plan = state.optimize(&plan).map_err(|e| e.to_string())?;
    let mut out = Lineage::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let cols = out.entry(scan.table_name.table().to_string()).or_default();
            for f in scan.projected_schema.fields() {
                cols.insert(f.name().clone());
            }
            for e in &scan.filters {
                for c in e.column_refs() {
                    cols.insert(c.name.clone());
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Each measure's lineage.
pub async fn lineage(project: &Project, vars: &BTreeMap<String, Value>) -> Result<BTreeMap<String, Lineage>, String> {
    let ctx = crate::testing::empty_session(&project.contract, vars).await?;
    register_models(&ctx, project, vars, Models::Views).await.map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for m in &project.measures {
        let sql = render(&m.sql, vars, &m.file, m.first_line).map_err(|e| e.to_string())?;
        out.insert(m.meta.id.clone(), lineage_of(&ctx, &sql).await?);
    }
    Ok(out)
}

fn target_text(m: &Measure) -> String {
    match (m.meta.target, m.meta.unit) {
        (None, _) => "none".into(),
        (Some(t), Unit::Rate) => format!("{}%", t * 100.0),
        (Some(t), Unit::Count) => t.to_string(),
    }
}

fn relative(file: &Path, project: &Project) -> String {
    let base = project.dir.parent().unwrap_or(&project.dir);
    file.strip_prefix(base).unwrap_or(file).display().to_string()
}

/// Builds the catalogue.
pub async fn catalogue(project: &Project, vars: &BTreeMap<String, Value>) -> Result<Catalogue, String> {
    let lineage = lineage(project, vars).await?;
    let mut areas: Vec<AreaDoc> = Vec::new();
    let mut flat = Vec::new();
    for m in &project.measures {
        let doc = MeasureDoc {
            id: m.meta.id.clone(),
            title: m.meta.title.clone(),
            area: m.meta.area.clone(),
            unit: m.meta.unit.as_str(),
            polarity: m.meta.polarity.as_str(),
            target: target_text(m),
            snapshot: if m.meta.snapshot { "yes" } else { "no" },
            description: m.meta.description.trim().to_string(),
            file: relative(&m.file, project),
            sql: m.sql.trim().to_string(),
            lineage: lineage[&m.meta.id]
                .iter()
                .map(|(t, c)| TableColumns { table: t.clone(), columns: c.iter().cloned().collect() })
                .collect(),
        };
        flat.push(minijinja::Value::from_serialize(&doc));
        match areas.iter_mut().find(|a| a.name == m.meta.area) {
            Some(a) => a.measures.push(doc),
            None => areas.push(AreaDoc { name: m.meta.area.clone(), measures: vec![doc] }),
        }
    }
    let mart_columns: Vec<BTreeMap<&str, String>> = crate::values::SCHEMA
        .fields()
        .iter()
        .map(|f| {
            BTreeMap::from([
                ("name", f.name().clone()),
                ("type", format!("{}{}", f.data_type(), if f.is_nullable() { ", nullable" } else { "" })),
            ])
        })
        .collect();
    let ctx = minijinja::context! { areas => areas, measures => flat, mart_columns => mart_columns };
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_auto_escape_callback(|n| {
        if n.ends_with(".html") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
    });
    env.add_template("catalogue.md", include_str!("../templates/catalogue.md")).map_err(|e| e.to_string())?;
    env.add_template("catalogue.html", include_str!("../templates/catalogue.html")).map_err(|e| e.to_string())?;
    let markdown = env.get_template("catalogue.md").and_then(|t| t.render(&ctx)).map_err(|e| e.to_string())?;
    let html = env.get_template("catalogue.html").and_then(|t| t.render(&ctx)).map_err(|e| e.to_string())?;
    Ok(Catalogue { markdown, html })
}

pub const README_START: &str = "<!-- measures:start (generated by `scrutiny docs --readme README.md`; do not edit) -->";
pub const README_END: &str = "<!-- measures:end -->";

/// The README's list of measures: one row each, from the metadata.
pub fn readme_table(project: &Project) -> String {
    let mut out = String::from("| id | area | unit | polarity | target | definition |\n|---|---|---|---|---|---|\n");
    for m in &project.measures {
        let desc = m.meta.description.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|");
        let snapshot = if m.meta.snapshot { " (snapshot)" } else { "" };
        out.push_str(&format!(
            "| `{}` | {} | {}{snapshot} | {} | {} | {} |\n",
            m.meta.id,
            m.meta.area,
            m.meta.unit.as_str(),
            m.meta.polarity.as_str().replace('_', " "),
            target_text(m),
            desc
        ));
    }
    out
}

/// The README with its measures section regenerated; `None` when the markers are missing.
pub fn update_readme(readme: &str, project: &Project) -> Option<String> {
    let start = readme.find(README_START)?;
    let end = readme.find(README_END)?;
    (start < end).then(|| format!("{}{README_START}\n{}{}", &readme[..start], readme_table(project), &readme[end..]))
}
