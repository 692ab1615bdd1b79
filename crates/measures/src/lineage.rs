//! Lineage: the source and reference tables, and their columns, that each measure reads
//! through the staging models, read off DataFusion's optimised plan. Pipelines extract the
//! tables their measures' lineage names; the catalogue shows it.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

use crate::project::{Project, render};
use crate::session::{Models, Readers, register_models};

/// The source and reference tables a measure reads, with their columns, through the staging
/// models (read off DataFusion's optimised plan, so only columns actually used appear).
pub type Lineage = BTreeMap<String, BTreeSet<String>>;

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
    let ctx = crate::session::empty_session(project, vars).await?;
    let _views =
        register_models(&ctx, project, vars, Models::Views, Readers::default()).await.map_err(|e| e.to_string())?;
    // Optimising a measure's plan, with its models inlined, is the bulk of a run's start-up:
    // the measures are planned on every core at once.
    let mut planning = Vec::new();
    for m in &project.measures {
        let sql = render(&m.sql, vars, &m.file, m.first_line).map_err(|e| e.to_string())?;
        let ctx = ctx.clone();
        planning.push((m.meta.id.clone(), tokio::spawn(async move { lineage_of(&ctx, &sql).await })));
    }
    // Awaited in file order, so the error reported is the first measure's.
    let mut out = BTreeMap::new();
    for (id, planned) in planning {
        out.insert(id, planned.await.map_err(|e| e.to_string())??);
    }
    Ok(out)
}
