//! Lineage: the source and reference tables, and their columns, that each measure reads
//! through the staging models, read off DataFusion's optimised plan. Pipelines extract the
//! tables their measures' lineage names; the catalogue shows it.

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::project::{Project, render};
use crate::session::{Models, Readers, register_models};

/// The source and reference tables a measure reads, with their columns, through the staging
/// models (read off DataFusion's optimised plan, so only columns actually used appear).
pub type Lineage = BTreeMap<String, BTreeSet<String>>;

/// The tables `plan` scans, with the columns it reads of each.
fn read_by(plan: &LogicalPlan) -> datafusion::error::Result<Lineage> {
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
    })?;
    Ok(out)
}

/// How a measure's plan is optimised before its scans are read.
type Optimise = dyn Fn(&SessionState, LogicalPlan) -> datafusion::error::Result<LogicalPlan> + Send + Sync;

/// Each measure's lineage, read off its plan (its models' views inlined) after `optimise`.
/// Optimising is slow, so the measures are planned on every core at once.
async fn each_measure(
    project: &Project,
    vars: &BTreeMap<String, Value>,
    optimise: Arc<Optimise>,
) -> Result<BTreeMap<String, Lineage>, String> {
    let ctx = crate::session::empty_session(project, vars).await?;
    let _views =
        register_models(&ctx, project, vars, Models::Views, Readers::default()).await.map_err(|e| e.to_string())?;
    let mut planning = Vec::new();
    for m in &project.measures {
        let sql = render(&m.sql, vars, &m.file, m.first_line).map_err(|e| e.to_string())?;
        let (state, optimise) = (ctx.state(), Arc::clone(&optimise));
        planning.push((
            m.meta.id.clone(),
            tokio::spawn(async move {
                let plan = state.create_logical_plan(&sql).await?;
                read_by(&optimise(&state, plan)?)
            }),
        ));
    }
    // Awaited in file order, so the error reported is the first measure's.
    let mut out = BTreeMap::new();
    for (id, planned) in planning {
        out.insert(id, planned.await.map_err(|e| e.to_string())?.map_err(|e| e.to_string())?);
    }
    Ok(out)
}

/// The source and reference tables each measure reads, through the staging models: what a
/// pipeline extracts. Read off each measure's plan after only the optimiser rules that drop a
/// branch a filter rules out: `stg_shared_ids` is a UNION ALL over every table, of which each
/// staging model keeps its own table's branch. The full optimiser (`lineage`) costs most of a
/// run's start-up and would only ever drop more scans, never add one, so a table named here and
/// not there is extracted needlessly, never missed.
pub async fn tables(
    project: &Project,
    vars: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    use datafusion::optimizer::{
        Optimizer, eliminate_filter::EliminateFilter, extract_equijoin_predicate::ExtractEquijoinPredicate,
        propagate_empty_relation::PropagateEmptyRelation, push_down_filter::PushDownFilter,
        replace_distinct_aggregate::ReplaceDistinctWithAggregate, simplify_expressions::SimplifyExpressions,
    };
    // Simplified, a pushed-down `table_name = 'ssd_person'` is false in every other branch.
    let branches = Optimizer::with_rules(vec![
        // A filter passes a DISTINCT, and a join's keys, only once they are an aggregate's
        // groups and the join's equality keys.
        Arc::new(ReplaceDistinctWithAggregate::new()),
        Arc::new(ExtractEquijoinPredicate::new()),
        Arc::new(PushDownFilter::new()),
        Arc::new(SimplifyExpressions::new()),
        Arc::new(EliminateFilter::new()),
        Arc::new(PropagateEmptyRelation::new()),
    ]);
    let optimise = move |state: &SessionState, plan| {
        let plan = state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?;
        branches.optimize(plan, state, |_, _| {})
    };
    let lineage = each_measure(project, vars, Arc::new(optimise)).await?;
    Ok(lineage.into_iter().map(|(id, read)| (id, read.into_keys().collect())).collect())
}

/// Each measure's lineage, from its fully optimised plan (so only columns actually used appear).
pub async fn lineage(project: &Project, vars: &BTreeMap<String, Value>) -> Result<BTreeMap<String, Lineage>, String> {
    each_measure(project, vars, Arc::new(|state: &SessionState, plan| state.optimize(&plan))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tables` skips the full optimiser (start-up time) but must still name, for every shipped
    /// measure, exactly the tables its optimised plan reads: not every table behind
    /// `stg_shared_ids`, which would extract all sixteen for a pipeline that needs six.
    #[tokio::test]
    async fn tables_names_what_the_optimised_lineage_names_for_every_shipped_measure() {
        let project = Project::load(&scrutiny_core::checkout_root().join("sql")).unwrap();
        let vars = project.resolve_vars(&BTreeMap::new(), std::path::Path::new("test")).unwrap();
        let fast = tables(&project, &vars).await.unwrap();
        let full = lineage(&project, &vars).await.unwrap();
        assert_eq!(fast.len(), 25);
        for (id, columns) in &full {
            let named: BTreeSet<String> = columns.keys().cloned().collect();
            assert_eq!(fast[id], named, "{id}");
        }
        assert!(!fast["cla_count"].contains("ssd_cin_episodes"), "{:?}", fast["cla_count"]);
    }
}
