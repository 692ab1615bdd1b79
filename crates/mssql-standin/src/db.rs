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
    CastKind, DataType as SqlDataType, Expr, FromTable, ObjectName, ObjectType, SelectItem, SetExpr, Statement,
    TableFactor, TopQuantity, Value as SqlValue, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::{GenericDialect, MsSqlDialect};
use datafusion::sql::sqlparser::parser::Parser;
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, RwLock};

use crate::types::SqlType;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sql(String),
    /// An error SQL Server reports with this number.
    #[error("{message}")]
    Server { number: i32, message: String },
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

type Key = (String, String);

/// A table's declaration and its rows.
#[derive(Clone)]
struct Entry {
    table: Table,
    batches: Vec<RecordBatch>,
}

/// The database: tables declared and loaded at start or created by clients, queried with
/// DataFusion in a catalog named after the database.
pub struct Db {
    pub database: String,
    committed: RwLock<HashMap<Key, Entry>>,
}

/// One connection's state. Writes made in a transaction stay in the session until COMMIT, so
/// other connections read the committed tables (read committed), and a ROLLBACK or a dropped
/// connection discards them: what a bulk load into a table in a transaction needs of SQL Server.
#[derive(Default)]
pub struct Session {
    /// `Some` while a transaction is open: the tables it wrote (`None`: dropped).
    overlay: Option<HashMap<Key, Option<Entry>>>,
    /// The table an `INSERT BULK` named, waiting for its rows.
    pub bulk_target: Option<String>,
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
    /// SET, CREATE TABLE and the like: accepted, nothing to return.
    Done,
    /// DELETE: the rows it removed.
    Count(u64),
    /// BEGIN TRANSACTION, COMMIT, ROLLBACK: the client is told with an ENVCHANGE.
    Transaction(TransactionEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEvent {
    Begin,
    Commit,
    Rollback,
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

/// `[schema].[table]`, `schema.table` or `table` (in dbo), as a lookup key.
fn key_of_parts(parts: &[String]) -> Option<Key> {
    match parts {
        [t] => Some(("dbo".to_string(), t.to_lowercase())),
        [.., s, t] => Some((s.to_lowercase(), t.to_lowercase())),
        [] => None,
    }
}

fn key_of(name: &ObjectName) -> Option<Key> {
    let parts: Vec<String> = name.0.iter().filter_map(|p| p.as_ident().map(|i| i.value.clone())).collect();
    key_of_parts(&parts)
}

/// A name as text (`[a].[b]`, `a.b`, `N'a.b'`) split into its parts, brackets removed.
pub fn split_name(text: &str) -> Vec<String> {
    let t = text.trim().trim_start_matches(['N', 'n']).trim_matches('\'');
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut bracket = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' if !bracket => bracket = true,
            ']' if bracket && chars.peek() == Some(&']') => {
                cur.push(']');
                chars.next();
            }
            ']' if bracket => bracket = false,
            '.' if !bracket => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

/// The statements between `SET FMTONLY ON` and `SET FMTONLY OFF`, when `sql` is so wrapped.
fn strip_fmtonly(sql: &str) -> Option<&str> {
    let t = sql.trim();
    let on = "SET FMTONLY ON";
    let off = "SET FMTONLY OFF";
    if t.len() < on.len() || !t[..on.len()].eq_ignore_ascii_case(on) {
        return None;
    }
    let inner = t[on.len()..].trim_end().trim_end_matches(';');
    let inner = if inner.len() >= off.len() && inner[inner.len() - off.len()..].eq_ignore_ascii_case(off) {
        &inner[..inner.len() - off.len()]
    } else {
        inner
    };
    Some(inner.trim())
}

fn server_error(number: i32, message: String) -> DbError {
    DbError::Server { number, message }
}

impl Db {
    pub fn new(database: &str, tables: Vec<Table>, data: Option<&Path>) -> Result<Self, DbError> {
        let mut map = HashMap::new();
        for t in tables {
            let batches = match data {
                Some(d) => t.load(d)?,
                None => Vec::new(),
            };
            map.insert((t.schema.to_lowercase(), t.name.to_lowercase()), Entry { table: t, batches });
        }
        Ok(Self { database: database.to_string(), committed: RwLock::new(map) })
    }

    /// The tables as `session` sees them: the committed ones with its own uncommitted writes.
    fn view(&self, session: &Session) -> HashMap<Key, Entry> {
        let mut view = self.committed.read().expect("tables").clone();
        for (k, v) in session.overlay.iter().flatten() {
            match v {
                Some(e) => view.insert(k.clone(), e.clone()),
                None => view.remove(k),
            };
        }
        view
    }

    fn get(&self, session: &Session, key: &Key) -> Option<Entry> {
        if let Some(v) = session.overlay.as_ref().and_then(|o| o.get(key)) {
            return v.clone();
        }
        self.committed.read().expect("tables").get(key).cloned()
    }

    /// Writes (or, with `None`, drops) a table: in the transaction when one is open.
    fn put(&self, session: &mut Session, key: Key, entry: Option<Entry>) {
        match &mut session.overlay {
            Some(o) => {
                o.insert(key, entry);
            }
            None => {
                let mut c = self.committed.write().expect("tables");
                match entry {
                    Some(e) => c.insert(key, e),
                    None => c.remove(&key),
                };
            }
        }
    }

    /// A DataFusion session over `view`, with a catalog named after the database.
    fn context(&self, view: &HashMap<Key, Entry>) -> Result<SessionContext, DbError> {
        let mut config = SessionConfig::new()
            .with_default_catalog_and_schema(&self.database, "dbo")
            .with_target_partitions(1)
            .with_information_schema(true);
        // SQL Server sorts NULL as the smallest value: first in ASC, last in DESC.
        config.options_mut().sql_parser.default_null_ordering = "nulls_min".into();
        let ctx = SessionContext::new_with_config(config);
        let catalog = Arc::new(MemoryCatalogProvider::new());
        ctx.register_catalog(&self.database, catalog.clone());
        let err = |e: datafusion::error::DataFusionError| DbError::Sql(e.strip_backtrace().to_string());
        for e in view.values() {
            let t = &e.table;
            if catalog.schema(&t.schema).is_none() {
                catalog.register_schema(&t.schema, Arc::new(MemorySchemaProvider::new())).map_err(err)?;
            }
            let mem = MemTable::try_new(t.arrow_schema(), vec![e.batches.clone()]).map_err(err)?;
            let schema = catalog.schema(&t.schema).expect("registered above");
            schema.register_table(t.name.clone(), Arc::new(mem)).map_err(err)?;
        }
        Ok(ctx)
    }

    /// Runs a batch of T-SQL statements, one outcome each, in order.
    pub async fn run(&self, session: &mut Session, sql: &str) -> Result<Vec<Outcome>, DbError> {
        // INSERT BULK is not SQL the parser knows: it names the table the next bulk load message
        // fills (MS-TDS 2.2.6.1); its column list is repeated in that message's COLMETADATA.
        let trimmed = sql.trim_start();
        if trimmed.len() > 11 && trimmed[..11].eq_ignore_ascii_case("insert bulk") {
            let rest = trimmed[11..].trim_start();
            let end = rest.find(|c: char| c == '(' || c.is_whitespace()).unwrap_or(rest.len());
            let name = &rest[..end];
            let key =
                key_of_parts(&split_name(name)).ok_or_else(|| DbError::Sql("INSERT BULK without a table".into()))?;
            if self.get(session, &key).is_none() {
                return Err(server_error(208, format!("Invalid object name '{name}'.")));
            }
            session.bulk_target = Some(name.to_string());
            return Ok(vec![Outcome::Done]);
        }
        // FreeTDS's bcp asks for a table's columns with `SET FMTONLY ON select * from t SET FMTONLY
        // OFF` (no semicolons): the queries between return their metadata and no rows.
        let (sql, metadata_only) = match strip_fmtonly(sql) {
            Some(inner) => (inner, true),
            None => (sql, false),
        };
        let statements = Parser::parse_sql(&MsSqlDialect {}, sql).map_err(|e| DbError::Sql(e.to_string()))?;
        let mut out = Vec::new();
        for s in statements {
            out.push(match s {
                Statement::Query(q) => Outcome::Rows(self.query(session, *q, metadata_only).await?),
                s => self.statement(session, s).await?,
            });
        }
        Ok(out)
    }

    async fn statement(&self, session: &mut Session, s: Statement) -> Result<Outcome, DbError> {
        Ok(match s {
            Statement::Query(q) => Outcome::Rows(self.query(session, *q, false).await?),
            Statement::Set(_) => Outcome::Done,
            Statement::StartTransaction { .. } => self.begin(session),
            Statement::Commit { .. } => {
                let Some(overlay) = session.overlay.take() else {
                    return Err(server_error(
                        3902,
                        "The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.".into(),
                    ));
                };
                let mut c = self.committed.write().expect("tables");
                for (k, v) in overlay {
                    match v {
                        Some(e) => c.insert(k, e),
                        None => c.remove(&k),
                    };
                }
                Outcome::Transaction(TransactionEvent::Commit)
            }
            Statement::Rollback { .. } => {
                if session.overlay.take().is_none() {
                    return Err(server_error(
                        3903,
                        "The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.".into(),
                    ));
                }
                Outcome::Transaction(TransactionEvent::Rollback)
            }
            Statement::CreateTable(ct) => {
                let text = Statement::CreateTable(ct).to_string();
                for t in parse_ddl(&text)? {
                    let key = (t.schema.to_lowercase(), t.name.to_lowercase());
                    if self.get(session, &key).is_some() {
                        return Err(server_error(
                            2714,
                            format!("There is already an object named '{}' in the database.", t.name),
                        ));
                    }
                    self.put(session, key, Some(Entry { table: t, batches: Vec::new() }));
                }
                Outcome::Done
            }
            Statement::Drop { object_type: ObjectType::Table, if_exists, names, .. } => {
                for name in &names {
                    let key = key_of(name).ok_or_else(|| DbError::Sql("DROP TABLE without a name".into()))?;
                    if self.get(session, &key).is_some() {
                        self.put(session, key, None);
                    } else if !if_exists {
                        return Err(server_error(
                            3701,
                            format!(
                                "Cannot drop the table '{name}', because it does not exist or you do not have permission."
                            ),
                        ));
                    }
                }
                Outcome::Done
            }
            Statement::Delete(d) => {
                let tables = match &d.from {
                    FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
                };
                let name = match tables.first().map(|t| &t.relation) {
                    Some(TableFactor::Table { name, .. }) if d.selection.is_none() && tables.len() == 1 => name,
                    _ => return Err(DbError::Sql("the stand-in deletes whole tables only: DELETE FROM t".into())),
                };
                let key = key_of(name).ok_or_else(|| DbError::Sql("DELETE without a table".into()))?;
                let mut e = self
                    .get(session, &key)
                    .ok_or_else(|| server_error(208, format!("Invalid object name '{name}'.")))?;
                let n = e.batches.iter().map(|b| b.num_rows() as u64).sum();
                e.batches.clear();
                self.put(session, key, Some(e));
                Outcome::Count(n)
            }
            Statement::Execute { name: Some(proc), parameters, .. }
                if proc.to_string().trim_matches(['[', ']']).eq_ignore_ascii_case("sp_rename") =>
            {
                let args: Vec<String> = parameters
                    .iter()
                    .map(|p| match p {
                        Expr::Value(v) => match &v.value {
                            SqlValue::SingleQuotedString(s) | SqlValue::NationalStringLiteral(s) => s.clone(),
                            other => other.to_string(),
                        },
                        other => other.to_string(),
                    })
                    .collect();
                let [from, to] = args.as_slice() else {
                    return Err(DbError::Sql("sp_rename takes the object and its new name".into()));
                };
                self.rename(session, from, to)?;
                Outcome::Done
            }
            other => {
                let text = other.to_string();
                let upper = text.to_ascii_uppercase();
                if upper.starts_with("BEGIN TRAN") {
                    self.begin(session)
                } else if upper.starts_with("SET ") {
                    Outcome::Done
                } else {
                    return Err(DbError::Sql(format!("statement not supported by the stand-in: {text}")));
                }
            }
        })
    }

    fn begin(&self, session: &mut Session) -> Outcome {
        // Nested BEGINs only count up @@TRANCOUNT in SQL Server; one level is all a client here needs.
        if session.overlay.is_none() {
            session.overlay = Some(HashMap::new());
        }
        Outcome::Transaction(TransactionEvent::Begin)
    }

    /// `sp_rename 'schema.old', 'new'`: the table keeps its schema, columns and rows.
    fn rename(&self, session: &mut Session, from: &str, to: &str) -> Result<(), DbError> {
        let key = key_of_parts(&split_name(from)).ok_or_else(|| DbError::Sql("sp_rename without a name".into()))?;
        let Some(mut e) = self.get(session, &key) else {
            return Err(server_error(
                15248,
                format!(
                    "Either the parameter @objname is ambiguous or the claimed @objtype (object) is wrong: '{from}'."
                ),
            ));
        };
        let new_name = split_name(to).pop().unwrap_or_default();
        let new_key = (key.0.clone(), new_name.to_lowercase());
        if self.get(session, &new_key).is_some() {
            return Err(server_error(
                15335,
                format!(
                    "Error: The new name '{new_name}' is already in use as a object name and would cause a duplicate that is not permitted."
                ),
            ));
        }
        e.table.name = new_name;
        self.put(session, key, None);
        self.put(session, new_key, Some(e));
        Ok(())
    }

    /// The table an `INSERT BULK` named, as declared.
    pub fn bulk_table(&self, session: &Session, name: &str) -> Option<Table> {
        let key = key_of_parts(&split_name(name))?;
        self.get(session, &key).map(|e| e.table)
    }

    /// Appends a bulk load's rows (already typed as the table's columns) to the table.
    pub fn append(&self, session: &mut Session, name: &str, batch: RecordBatch) -> Result<(), DbError> {
        let key = key_of_parts(&split_name(name)).ok_or_else(|| DbError::Sql("no table".into()))?;
        let mut e =
            self.get(session, &key).ok_or_else(|| server_error(208, format!("Invalid object name '{name}'.")))?;
        e.batches.push(batch);
        self.put(session, key, Some(e));
        Ok(())
    }

    async fn query(
        &self,
        session: &Session,
        mut q: datafusion::sql::sqlparser::ast::Query,
        metadata_only: bool,
    ) -> Result<ResultSet, DbError> {
        let view = self.view(session);
        let table_of = |name: &ObjectName| key_of(name).and_then(|k| view.get(&k)).map(|e| &e.table);
        // Declared types of the selected columns, before the rewrite loses them.
        let mut declared: Vec<Option<SqlType>> = Vec::new();
        let mut reads_table = false;
        if let SetExpr::Select(sel) = q.body.as_ref() {
            let table = sel.from.first().and_then(|f| match &f.relation {
                TableFactor::Table { name, .. } => table_of(name),
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
        // TOP n, which DataFusion does not plan, becomes a limit on the result.
        let mut top = None;
        if let SetExpr::Select(sel) = q.body.as_mut()
            && let Some(t) = sel.top.take()
        {
            match t.quantity {
                Some(TopQuantity::Constant(n)) => top = Some(n as usize),
                Some(TopQuantity::Expr(Expr::Value(v))) => {
                    top = Some(v.value.to_string().parse().map_err(|_| DbError::Sql(format!("TOP ({v})")))?)
                }
                other => return Err(DbError::Sql(format!("TOP {other:?} is not supported by the stand-in"))),
            }
        }
        let ctx = self.context(&view)?;
        let state = ctx.state();
        let stmt = datafusion::sql::parser::Statement::Statement(Box::new(Statement::Query(Box::new(q))));
        let plan = state.statement_to_plan(stmt).await.map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        let mut df = ctx.execute_logical_plan(plan).await.map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        if metadata_only {
            top = Some(0);
        }
        if let Some(n) = top {
            df = df.limit(0, Some(n)).map_err(|e| DbError::Sql(e.strip_backtrace().to_string()))?;
        }
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
