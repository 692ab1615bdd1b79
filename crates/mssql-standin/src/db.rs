//! The stand-in's database: tables declared with SQL Server DDL, loaded from CSV or Parquet,
//! queried with DataFusion after a light T-SQL rewrite.

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::catalog::{CatalogProvider, MemoryCatalogProvider, MemorySchemaProvider};
use datafusion::datasource::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::sqlparser::ast::{
    CastKind, DataType as SqlDataType, Expr, ObjectName, SelectItem, SetExpr, Statement, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::{GenericDialect, MsSqlDialect};
use datafusion::sql::sqlparser::parser::Parser;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use crate::types::SqlType;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sql(String),
    #[error("{file}: {message}")]
    Load { file: String, message: String },
}

/// A column as declared.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
}

/// A declared table.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: String,
    pub name: String,
    pub columns: Vec<Column>,
}

/// Parses `CREATE TABLE` statements (SQL Server syntax). Other statements are ignored.
pub fn parse_ddl(ddl: &str) -> Result<Vec<Table>, DbError> {
    let statements = Parser::parse_sql(&MsSqlDialect {}, ddl).map_err(|e| DbError::Sql(e.to_string()))?;
    let mut out = Vec::new();
    for s in statements {
        if let Statement::CreateTable(ct) = s {
            let parts: Vec<String> =
                ct.name.0.iter().map(|p| p.to_string().trim_matches(|c| c == '[' || c == ']').to_string()).collect();
            let (schema, name) = match parts.as_slice() {
                [t] => ("dbo".to_string(), t.clone()),
                [.., s, t] => (s.clone(), t.clone()),
                [] => continue,
            };
            let mut columns = Vec::new();
            for c in ct.columns {
                let sql_type = SqlType::from_sql(&c.data_type).ok_or_else(|| {
                    DbError::Sql(format!("{name}.{}: type {} is not supported", c.name.value, c.data_type))
                })?;
                columns.push(Column { name: c.name.value.clone(), sql_type });
            }
            out.push(Table { schema, name, columns });
        }
    }
    Ok(out)
}

impl Table {
    pub fn arrow_schema(&self) -> Arc<Schema> {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(&c.name, c.sql_type.arrow(), true)).collect::<Vec<_>>(),
        ))
    }

    /// Reads `<table>.csv` (every field text, cast to the declared types; declared columns the
    /// file lacks are NULL) or `<table>.parquet`.
    pub fn load(&self, dir: &Path) -> Result<Vec<RecordBatch>, DbError> {
        let csv_path = dir.join(format!("{}.csv", self.name));
        let bad = |file: &Path, message: String| DbError::Load { file: file.display().to_string(), message };
        if !csv_path.is_file() {
            let pq = dir.join(format!("{}.parquet", self.name));
            if pq.is_file() {
                return self.load_parquet(&pq);
            }
            return Ok(Vec::new());
        }
        let mut r = csv::Reader::from_path(&csv_path).map_err(|e| bad(&csv_path, e.to_string()))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| bad(&csv_path, e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let pos: Vec<Option<usize>> = self.columns.iter().map(|c| headers.iter().position(|h| h == &c.name)).collect();
        let mut batches = Vec::new();
        let mut builders: Vec<StringBuilder> = self.columns.iter().map(|_| StringBuilder::new()).collect();
        let mut rows = 0;
        let mut record = csv::StringRecord::new();
        loop {
            let more = r.read_record(&mut record).map_err(|e| bad(&csv_path, e.to_string()))?;
            if more {
                for (b, p) in builders.iter_mut().zip(&pos) {
                    b.append_option(p.and_then(|p| record.get(p)).filter(|v| !v.is_empty()));
                }
                rows += 1;
            }
            if rows == 65_536 || (!more && rows > 0) {
                let arrays = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
                batches.push(self.typed(arrays).map_err(|m| bad(&csv_path, m))?);
                rows = 0;
            }
            if !more {
                break;
            }
        }
        Ok(batches)
    }

    fn load_parquet(&self, path: &Path) -> Result<Vec<RecordBatch>, DbError> {
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let bad = |m: String| DbError::Load { file: path.display().to_string(), message: m };
        let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(f).and_then(|b| b.build()).map_err(|e| bad(e.to_string()))?;
        let mut out = Vec::new();
        for b in reader {
            let b = b.map_err(|e| bad(e.to_string()))?;
            let arrays: Vec<ArrayRef> = self
                .columns
                .iter()
                .map(|c| {
                    b.column_by_name(&c.name)
                        .cloned()
                        .unwrap_or_else(|| datafusion::arrow::array::new_null_array(&DataType::Utf8, b.num_rows()))
                })
                .collect();
            out.push(self.typed(arrays).map_err(bad)?);
        }
        Ok(out)
    }

    fn typed(&self, raw: Vec<ArrayRef>) -> Result<RecordBatch, String> {
        let opts = CastOptions { safe: false, ..Default::default() };
        let mut arrays = Vec::with_capacity(raw.len());
        for (a, c) in raw.iter().zip(&self.columns) {
            let want = c.sql_type.arrow();
            let typed = match (&want, a.data_type()) {
                // Dates written with a time of day: parse as a timestamp, then take the date.
                (DataType::Date32, DataType::Utf8) => {
                    cast_with_options(a, &DataType::Timestamp(TimeUnit::Microsecond, None), &opts)
                        .and_then(|t| cast_with_options(&t, &want, &opts))
                }
                _ => cast_with_options(a, &want, &opts),
            }
            .map_err(|e| format!("column {}: {e}", c.name))?;
            arrays.push(typed);
        }
        RecordBatch::try_new(self.arrow_schema(), arrays).map_err(|e| e.to_string())
    }
}

/// The database: a DataFusion session with a catalog named after the database.
pub struct Db {
    pub database: String,
    ctx: SessionContext,
    tables: HashMap<(String, String), Table>,
}

/// A result set being produced: its columns' SQL Server types and its rows.
pub struct ResultSet {
    pub columns: Vec<(String, SqlType)>,
    pub stream: SendableRecordBatchStream,
    /// The table it reads, for fault injection.
    pub reads_table: bool,
}

/// What one statement of a batch does.
pub enum Outcome {
    Rows(ResultSet),
    /// SET, BEGIN TRANSACTION, COMMIT and the like: accepted, nothing to return.
    Done,
}

fn map_type(t: &SqlDataType) -> Option<(SqlType, SqlDataType)> {
    let st = SqlType::from_sql(t)?;
    let df = Parser::new(&GenericDialect {}).try_with_sql(&st.datafusion_sql()).ok()?.parse_data_type().ok()?;
    Some((st, df))
}

fn ident_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Nested(e) => ident_name(e),
        _ => None,
    }
}

impl Db {
    pub fn new(database: &str, tables: Vec<Table>, data: Option<&Path>) -> Result<Self, DbError> {
        let config = SessionConfig::new().with_default_catalog_and_schema(database, "dbo").with_target_partitions(1);
        let ctx = SessionContext::new_with_config(config);
        let catalog = Arc::new(MemoryCatalogProvider::new());
        ctx.register_catalog(database, catalog.clone());
        let mut map = HashMap::new();
        for t in tables {
            if catalog.schema(&t.schema).is_none() {
                catalog
                    .register_schema(&t.schema, Arc::new(MemorySchemaProvider::new()))
                    .map_err(|e| DbError::Sql(e.to_string()))?;
            }
            let batches = match data {
                Some(d) => t.load(d)?,
                None => Vec::new(),
            };
            let mem = MemTable::try_new(t.arrow_schema(), vec![batches]).map_err(|e| DbError::Sql(e.to_string()))?;
            let schema = catalog.schema(&t.schema).expect("registered above");
            schema.register_table(t.name.clone(), Arc::new(mem)).map_err(|e| DbError::Sql(e.to_string()))?;
            map.insert((t.schema.to_lowercase(), t.name.to_lowercase()), t);
        }
        Ok(Self { database: database.to_string(), ctx, tables: map })
    }

    fn table_of(&self, name: &ObjectName) -> Option<&Table> {
        let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.to_lowercase())).collect();
        let (schema, table) = match parts.as_slice() {
            [t] => ("dbo".to_string(), t.clone()),
            [.., s, t] => (s.clone(), t.clone()),
            [] => return None,
        };
        self.tables.get(&(schema, table))
    }

    /// Runs a batch of T-SQL statements, one outcome each, in order.
    pub async fn run(&self, sql: &str) -> Result<Vec<Outcome>, DbError> {
        let statements = Parser::parse_sql(&MsSqlDialect {}, sql).map_err(|e| DbError::Sql(e.to_string()))?;
        let mut out = Vec::new();
        for s in statements {
            match s {
                Statement::Query(q) => out.push(Outcome::Rows(self.query(*q).await?)),
                Statement::Set(_)
                | Statement::StartTransaction { .. }
                | Statement::Commit { .. }
                | Statement::Rollback { .. } => out.push(Outcome::Done),
                other => {
                    let text = other.to_string();
                    if text.to_ascii_uppercase().starts_with("SET ") || text.to_ascii_uppercase().starts_with("BEGIN") {
                        out.push(Outcome::Done);
                    } else {
                        return Err(DbError::Sql(format!("statement not supported by the stand-in: {text}")));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn query(&self, mut q: datafusion::sql::sqlparser::ast::Query) -> Result<ResultSet, DbError> {
        // Declared types of the selected columns, before the rewrite loses them.
        let mut declared: Vec<Option<SqlType>> = Vec::new();
        let mut reads_table = false;
        if let SetExpr::Select(sel) = q.body.as_ref() {
            let table = sel.from.first().and_then(|f| match &f.relation {
                datafusion::sql::sqlparser::ast::TableFactor::Table { name, .. } => self.table_of(name),
                _ => None,
            });
            reads_table = table.is_some();
            let col_type = |n: &str| {
                table.and_then(|t| t.columns.iter().find(|c| c.name.eq_ignore_ascii_case(n)).map(|c| c.sql_type))
            };
            for item in &sel.projection {
                match item {
                    SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => declared.push(match e {
                        Expr::Cast { data_type, .. } => SqlType::from_sql(data_type),
                        Expr::Convert { data_type: Some(t), .. } => SqlType::from_sql(t),
                        Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("count") => Some(SqlType::Int),
                        e => ident_name(e).and_then(|n| col_type(&n)),
                    }),
                    SelectItem::ExprWithAliases { .. } => declared.push(None),
                    SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                        if let Some(t) = table {
                            declared.extend(t.columns.iter().map(|c| Some(c.sql_type)));
                        }
                    }
                }
            }
        }
        let mut failed = None;
        let _ = visit_expressions_mut(&mut q, |e| {
            let replacement = match e {
                Expr::Convert { expr, data_type: Some(t), .. } => match map_type(t) {
                    Some((_, df)) => Some(Expr::Cast {
                        kind: CastKind::Cast,
                        expr: expr.clone(),
                        data_type: df,
                        array: false,
                        format: None,
                    }),
                    None => {
                        failed = Some(format!("CONVERT to {t} is not supported"));
                        None
                    }
                },
                Expr::Cast { data_type, .. } => {
                    if let Some((_, df)) = map_type(data_type) {
                        *data_type = df;
                    }
                    None
                }
                _ => None,
            };
            if let Some(r) = replacement {
                *e = r;
            }
            ControlFlow::<()>::Continue(())
        });
        if let Some(f) = failed {
            return Err(DbError::Sql(f));
        }
        let state = self.ctx.state();
        let stmt = datafusion::sql::parser::Statement::Statement(Box::new(Statement::Query(Box::new(q))));
        let plan = state.statement_to_plan(stmt).await.map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        let df =
            self.ctx.execute_logical_plan(plan).await.map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        let fields: Vec<(String, DataType)> =
            df.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect();
        let columns = fields
            .iter()
            .enumerate()
            .map(|(i, (name, t))| {
                (name.clone(), declared.get(i).copied().flatten().unwrap_or_else(|| SqlType::of_arrow(t)))
            })
            .collect();
        let stream = df.execute_stream().await.map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        Ok(ResultSet { columns, stream, reads_table })
    }
}
