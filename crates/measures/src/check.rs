//! `scrutiny check`: every definition planned with DataFusion against empty source tables of
//! the contract's schemas, and every mistake reported at once with its file, line and column.

use datafusion::execution::context::SessionContext;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

use crate::engine::check_measure_schema;
use crate::error::DefinitionError;
use crate::project::{Project, render};
use crate::session::{locate_error, order_models};

/// What `check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub problems: Vec<DefinitionError>,
    pub models: usize,
    pub measures: usize,
    pub quality_rules: usize,
}

/// A statement that is not one query (DDL, DML, several statements) is refused.
fn single_query(ctx: &SessionContext, sql: &str, file: &Path, first_line: usize) -> Result<(), DefinitionError> {
    use datafusion::sql::parser::Statement as DfStatement;
    use datafusion::sql::sqlparser::ast::Statement;
    let state = ctx.state();
    match state.sql_to_statement(sql, &crate::session::dialect()) {
        Ok(DfStatement::Statement(s)) if matches!(*s, Statement::Query(_)) => Ok(()),
        Ok(_) => Err(DefinitionError::new(
            file,
            first_line,
            "a definition is one SELECT (or WITH ... SELECT): DDL, DML and other statements are not allowed",
        )),
        Err(e) => Err(locate_error(file, first_line, &e)),
    }
}

/// Checks every definition of the project, planning without running.
pub async fn check(project: &Project, vars: &BTreeMap<String, Value>) -> CheckReport {
    let mut report = CheckReport {
        models: project.models.len(),
        measures: project.measures.len(),
        quality_rules: project.quality.len(),
        ..Default::default()
    };
    let ctx = match crate::session::empty_session(project, vars).await {
        Ok(c) => c,
        Err(e) => {
            report.problems.push(DefinitionError::new(&project.dir, 0, e));
            return report;
        }
    };
    for m in &project.models {
        if let Ok(sql) = render(&m.sql, vars, &m.file, 1)
            && let Err(e) = single_query(&ctx, &sql, &m.file, 1)
        {
            report.problems.push(e);
        }
    }
    match order_models(&ctx, &project.models, vars) {
        Err(mut e) => report.problems.append(&mut e),
        Ok(ordered) => {
            for (m, sql) in ordered {
                match ctx.sql(&sql).await {
                    Ok(df) => {
                        let _ = ctx.register_table(m.name.as_str(), df.into_view());
                    }
                    Err(e) => report.problems.push(locate_error(&m.file, 1, &e)),
                }
            }
        }
    }
    for m in &project.measures {
        let sql = match render(&m.sql, vars, &m.file, m.first_line) {
            Ok(s) => s,
            Err(e) => {
                report.problems.push(e);
                continue;
            }
        };
        if let Err(e) = single_query(&ctx, &sql, &m.file, m.first_line) {
            report.problems.push(e);
            continue;
        }
        match ctx.sql(&sql).await {
            Ok(df) => {
                if let Err(msg) = check_measure_schema(df.schema()) {
                    report.problems.push(DefinitionError::new(&m.file, m.first_line, msg));
                }
            }
            Err(e) => report.problems.push(locate_error(&m.file, m.first_line, &e)),
        }
    }
    for q in &project.quality {
        let sql = match render(&q.sql, vars, &q.file, 1) {
            Ok(s) => s,
            Err(e) => {
                report.problems.push(e);
                continue;
            }
        };
        if let Err(e) = single_query(&ctx, &sql, &q.file, 1) {
            report.problems.push(e);
            continue;
        }
        match ctx.sql(&sql).await {
            Ok(df) => {
                let names: Vec<&str> = df.schema().fields().iter().map(|f| f.name().as_str()).collect();
                for want in ["table_name", "rule", "rows_seen", "rows_affected"] {
                    if !names.contains(&want) {
                        report.problems.push(DefinitionError::new(
                            &q.file,
                            1,
                            format!(
                                "a data-quality rule returns table_name, rule, rows_seen, rows_affected: no `{want}`"
                            ),
                        ));
                    }
                }
            }
            Err(e) => report.problems.push(locate_error(&q.file, 1, &e)),
        }
    }
    report
}
