//! `WITH name AS MATERIALIZED (...)`: a CTE computed once, before the statement that uses it.
//!
//! DataFusion inlines a CTE wherever it is named, so a CTE read twice is computed twice (the
//! staging models' `shared_ids` is a GROUP BY over the whole table, read by two branches).
//! PostgreSQL and DuckDB take `AS MATERIALIZED` as "compute it once"; so does scrutiny. The
//! CTE is run first and stored as the models are (Parquet in the scratch directory, or in
//! memory for a measure test), registered under `<owner>__<cte>`, and the statement is planned
//! with its references pointing there. Results are the same either way: the hint changes only
//! how often the work is done, so `check` and the other planning-only commands ignore it.

use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    CteAsMaterialized, Ident, ObjectName, ObjectNamePart, Query, Statement, TableAlias, TableFactor, VisitMut,
    VisitorMut,
};
use std::ops::ControlFlow;

use crate::session::Models;

/// One CTE computed ahead of its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterializedCte {
    pub name: String,
    pub rows: usize,
    pub ms: u64,
}

/// A planned statement and the tables its materialized CTEs were stored in, which are
/// deregistered when this is dropped (after the statement has run).
pub struct Planned {
    pub df: DataFrame,
    /// The plans of the materialized CTEs, as they were computed.
    pub stored: Vec<datafusion::logical_expr::LogicalPlan>,
    pub materialized: Vec<MaterializedCte>,
    ctx: SessionContext,
    tables: Vec<String>,
}

impl Drop for Planned {
    fn drop(&mut self) {
        for t in &self.tables {
            // A table that is gone already needs nothing more.
            let _ = self.ctx.deregister_table(t.as_str());
        }
    }
}

/// An unquoted identifier is folded to lower case, as DataFusion resolves it.
fn normalized(ident: &Ident) -> String {
    if ident.quote_style.is_some() { ident.value.clone() } else { ident.value.to_lowercase() }
}

/// Points every one-part reference to `from` at `to`. A reference without an alias gets
/// `from` as its alias, so `from.column` still resolves.
fn rename_relation(query: &mut Query, from: &str, to: &str) {
    struct Rename<'a> {
        from: &'a str,
        to: &'a str,
    }
    impl VisitorMut for Rename<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table { name, alias, args: None, .. } = factor
                && let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
                && normalized(ident) == self.from
            {
                if alias.is_none() {
                    *alias = Some(TableAlias { explicit: true, name: ident.clone(), columns: vec![], at: None });
                }
                *name = ObjectName::from(vec![Ident::with_quote('"', self.to)]);
            }
            ControlFlow::Continue(())
        }
    }
    let _ = query.visit(&mut Rename { from, to });
}

/// Plans `sql`: computes its `AS MATERIALIZED` CTEs first (by `how`), then the statement over
/// them. `written` is `sql` as the caller planned it (so that its errors carry their lines),
/// and is what a statement without the hint, or `Models::Views`, runs as.
pub async fn plan(
    ctx: &SessionContext,
    written: DataFrame,
    sql: &str,
    owner: &str,
    how: Models<'_>,
) -> Result<Planned> {
    let state = ctx.state();
    let parsed = state.sql_to_statement(sql, &crate::session::dialect())?;
    let query = match &parsed {
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Query(q) => Some(q.clone()),
            _ => None,
        },
        _ => None,
    };
    let wanted = |q: &Query| {
        q.with.as_ref().is_some_and(|w| {
            !w.recursive && w.cte_tables.iter().any(|c| c.materialized == Some(CteAsMaterialized::Materialized))
        })
    };
    let mut planned =
        Planned { df: written, stored: Vec::new(), materialized: Vec::new(), ctx: ctx.clone(), tables: Vec::new() };
    let Some(mut query) = query.filter(|q| wanted(q) && how != Models::Views) else {
        return Ok(planned);
    };
    let with = query.with.take().expect("checked above");
    let mut kept = Vec::new();
    // Renames are applied to the CTEs after each one and to the body, as each is stored.
    let mut pending: Vec<_> = with.cte_tables.into_iter().collect();
    pending.reverse();
    while let Some(mut cte) = pending.pop() {
        if cte.materialized != Some(CteAsMaterialized::Materialized) {
            cte.materialized = None;
            kept.push(cte);
            continue;
        }
        let name = normalized(&cte.alias.name);
        let table = format!("{owner}__{name}");
        if ctx.table_exist(table.as_str())? {
            return Err(DataFusionError::Plan(format!(
                "the materialized CTE `{name}` of `{owner}` would be stored as `{table}`, which is already a table"
            )));
        }
        // The CTE's own query, with the CTEs before it that are not stored.
        let mut body = (*cte.query).clone();
        if !kept.is_empty() {
            let mut own = body.with.take().map(|w| w.cte_tables).unwrap_or_default();
            let mut before = kept.clone();
            before.append(&mut own);
            body.with = Some(datafusion::sql::sqlparser::ast::With {
                with_token: with.with_token.clone(),
                recursive: false,
                cte_tables: before,
            });
        }
        let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(Box::new(body))))).await?;
        let mut df = ctx.execute_logical_plan(plan).await?;
        // `WITH name(a, b) AS ...` names the columns.
        if !cte.alias.columns.is_empty() {
            let fields: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
            if fields.len() != cte.alias.columns.len() {
                return Err(DataFusionError::Plan(format!(
                    "the CTE `{name}` names {} columns but its query returns {}",
                    cte.alias.columns.len(),
                    fields.len()
                )));
            }
            for (old, new) in fields.iter().zip(&cte.alias.columns) {
                df = df.with_column_renamed(old, &normalized(&new.name))?;
            }
        }
        let started = std::time::Instant::now();
        planned.stored.push(df.logical_plan().clone());
        let rows = crate::session::store(ctx, &table, df, how).await?;
        planned.tables.push(table.clone());
        let ms = started.elapsed().as_millis() as u64;
        tracing::debug!(owner, cte = %name, rows, ms, "materialized CTE stored");
        planned.materialized.push(MaterializedCte { name: name.clone(), rows, ms });
        for later in pending.iter_mut() {
            rename_relation(&mut later.query, &name, &table);
        }
        rename_relation(&mut query, &name, &table);
    }
    if !kept.is_empty() {
        query.with = Some(datafusion::sql::sqlparser::ast::With {
            with_token: with.with_token,
            recursive: false,
            cte_tables: kept,
        });
    }
    let plan = state.statement_to_plan(DfStatement::Statement(Box::new(Statement::Query(query)))).await?;
    planned.df = ctx.execute_logical_plan(plan).await?;
    Ok(planned)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use datafusion::arrow::util::pretty::pretty_format_batches;

    /// A session in scrutiny's dialect with a small `visits(id, child)` table.
    pub(crate) async fn context() -> SessionContext {
        let mut config = datafusion::prelude::SessionConfig::new();
        config.options_mut().sql_parser.dialect = crate::session::dialect();
        let ctx = SessionContext::new_with_config(config);
        ctx.sql("CREATE TABLE visits(id VARCHAR, child VARCHAR) AS VALUES ('v1', 'c1'), ('v1', 'c1'), ('v2', 'c2'), ('v3', 'c1')")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        ctx
    }

    async fn written(ctx: &SessionContext, sql: &str) -> DataFrame {
        ctx.sql(sql).await.unwrap()
    }

    async fn rows(df: DataFrame) -> String {
        pretty_format_batches(&df.sort_by(vec![datafusion::prelude::col("n")]).unwrap().collect().await.unwrap())
            .unwrap()
            .to_string()
    }

    const READ_TWICE: &str = "WITH plain AS (SELECT id, child FROM visits),
        shared AS MATERIALIZED (SELECT id FROM plain GROUP BY id HAVING COUNT(*) > 1),
        kept AS (SELECT id FROM plain WHERE NOT EXISTS (SELECT 1 FROM shared AS s WHERE s.id = plain.id))
        SELECT 'kept' AS what, COUNT(*) AS n FROM kept
        UNION ALL SELECT 'shared', COUNT(*) FROM plain JOIN shared ON shared.id = plain.id";

    #[tokio::test]
    async fn a_materialized_cte_is_computed_once_and_gives_the_rows_inlining_gives() {
        let ctx = context().await;
        let inlined = rows(ctx.sql(READ_TWICE).await.unwrap()).await;
        let planned =
            plan(&ctx, written(&ctx, READ_TWICE).await, READ_TWICE, "visits_model", Models::InMemory).await.unwrap();
        assert_eq!(planned.materialized.len(), 1);
        assert_eq!((planned.materialized[0].name.as_str(), planned.materialized[0].rows), ("shared", 1));
        // The statement reads the stored table, under the CTE's name as its alias.
        let shown = format!("{:?}", planned.df.logical_plan());
        assert!(shown.contains("visits_model__shared"), "{shown}");
        assert_eq!(rows(planned.df.clone()).await, inlined);
        assert!(inlined.contains("| kept   | 2 |") && inlined.contains("| shared | 2 |"), "{inlined}");
        drop(planned);
        assert!(!ctx.table_exist("visits_model__shared").unwrap(), "the stored CTE is dropped with its statement");
    }

    #[tokio::test]
    async fn planning_only_commands_and_statements_without_the_hint_are_planned_as_written() {
        let ctx = context().await;
        let views = plan(&ctx, written(&ctx, READ_TWICE).await, READ_TWICE, "m", Models::Views).await.unwrap();
        assert!(views.materialized.is_empty());
        let sql = "WITH a AS (SELECT id FROM visits) SELECT COUNT(*) AS n FROM a";
        let plain = plan(&ctx, written(&ctx, sql).await, sql, "m", Models::InMemory).await.unwrap();
        assert!(plain.materialized.is_empty());
    }

    #[tokio::test]
    async fn a_materialized_cte_with_column_names_and_a_later_materialized_cte_reading_it() {
        let ctx = context().await;
        let sql = "WITH per_child(who, visits) AS MATERIALIZED (SELECT child, COUNT(*) FROM visits GROUP BY child),
            busy AS MATERIALIZED (SELECT who FROM per_child WHERE visits > 1)
            SELECT COUNT(*) AS n FROM busy JOIN per_child ON per_child.who = busy.who";
        let planned = plan(&ctx, written(&ctx, sql).await, sql, "m", Models::InMemory).await.unwrap();
        let names: Vec<&str> = planned.materialized.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["per_child", "busy"]);
        assert!(rows(planned.df.clone()).await.contains("| 1 |"));
    }

    #[tokio::test]
    async fn a_stored_name_taken_by_a_table_is_refused() {
        let ctx = context().await;
        ctx.sql("CREATE TABLE m__shared(id VARCHAR)").await.unwrap().collect().await.unwrap();
        let err = plan(&ctx, written(&ctx, READ_TWICE).await, READ_TWICE, "m", Models::InMemory)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("`m__shared`, which is already a table"), "{err}");
    }
}
