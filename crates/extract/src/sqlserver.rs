//! Extraction from the council's SQL Server with tiberius: one query per table from
//! `sql/extract/ssd/`, rows streamed into bounded Arrow batches and written to the landing as
//! they arrive, tables in parallel over a small pool of connections, transient failures retried
//! with backoff by restarting the table, and each table's row count checked against a
//! `COUNT(*)` taken in the same transaction.

use chrono::{Datelike, NaiveDate};
use datafusion::arrow::array::{ArrayRef, Date32Builder, RecordBatch, StringBuilder};
use futures::TryStreamExt;
use scrutiny_core::settings::{Encrypt, SqlServerSettings};

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, QueryItem};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use crate::contract::{ContractColumn, ContractTable, Kind};
use crate::error::ExtractError;
use crate::files::{BATCH_ROWS, TableRead};
use crate::landing::LandingWriter;

type Conn = Client<Compat<TcpStream>>;

const UNIX_EPOCH_CE: i32 = 719_163;

/// Server errors worth another try: deadlock victim, database unavailable or busy, and the
/// Azure SQL throttling family.
const TRANSIENT: [u32; 9] = [1205, 40613, 40501, 40197, 49918, 49919, 49920, 10928, 10929];

#[derive(Debug)]
enum Failure {
    /// Retry the table on a fresh connection.
    Transient(String),
    /// The database does not allow snapshot isolation (error 3952): read without it.
    NoSnapshot,
    Permanent(ExtractError),
}

fn classify(e: tiberius::error::Error, server: &str, table: &str) -> Failure {
    use tiberius::error::Error as E;
    match &e {
        E::Server(t) if t.code() == 3952 => Failure::NoSnapshot,
        E::Server(t) if TRANSIENT.contains(&t.code()) => {
            Failure::Transient(format!("{server}: {table}: error {}: {}", t.code(), t.message()))
        }
        E::Server(t) if t.code() == 18456 => Failure::Permanent(ExtractError::SourceRefused {
            server: server.into(),
            message: format!("login refused (error 18456): {}", t.message()),
        }),
        E::Server(t) if t.code() == 208 || t.code() == 207 || t.code() == 4060 => {
            Failure::Permanent(ExtractError::SourceSchema {
                server: server.into(),
                table: table.into(),
                message: format!("error {}: {}", t.code(), t.message()),
            })
        }
        E::Server(t) => Failure::Permanent(ExtractError::SourceSchema {
            server: server.into(),
            table: table.into(),
            message: format!("error {}: {}", t.code(), t.message()),
        }),
        E::Io { .. } | E::Protocol(_) | E::Tls(_) => Failure::Transient(format!("{server}: {table}: {e}")),
        _ => Failure::Transient(format!("{server}: {table}: {e}")),
    }
}

fn config(s: &SqlServerSettings) -> Config {
    let mut c = Config::new();
    c.host(&s.host);
    c.port(s.port);
    c.database(&s.database);
    c.application_name("scrutiny");
    c.authentication(AuthMethod::sql_server(&s.user, s.password.expose()));
    c.encryption(match s.encrypt {
        Encrypt::Required => EncryptionLevel::Required,
        Encrypt::Strict => EncryptionLevel::Strict,
        Encrypt::Off => EncryptionLevel::NotSupported,
    });
    if s.trust_server_certificate {
        c.trust_cert();
    } else if let Some(ca) = &s.ca_file {
        c.trust_cert_ca(ca.display().to_string());
    }
    c.readonly(s.read_only_intent);
    c.command_timeout(Some(Duration::from_secs(s.command_timeout_secs)));
    c.handshake_timeout(Some(Duration::from_secs(s.connect_timeout_secs)));
    c
}

/// A connection to SQL Server as `s` describes it (address, login, TLS); the SQL Server sink
/// connects with this too, so the two never differ in how they treat certificates.
pub async fn open(s: &SqlServerSettings) -> Result<Client<Compat<TcpStream>>, OpenError> {
    let server = s.describe();
    let addr = format!("{}:{}", s.host, s.port);
    let tcp = tokio::time::timeout(Duration::from_secs(s.connect_timeout_secs), TcpStream::connect(&addr))
        .await
        .map_err(|_| OpenError::Network(format!("{server}: connection timed out")))?
        .map_err(|e| OpenError::Network(format!("{server}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    Client::connect(config(s), tcp.compat_write()).await.map_err(OpenError::Login)
}

/// Why [`open`] failed: the network, or what the server said to the login.
#[derive(Debug)]
pub enum OpenError {
    Network(String),
    Login(tiberius::error::Error),
}

async fn connect(s: &SqlServerSettings) -> Result<Conn, Failure> {
    open(s).await.map_err(|e| match e {
        OpenError::Network(why) => Failure::Transient(why),
        OpenError::Login(e) => classify(e, &s.describe(), "login"),
    })
}

/// A T-SQL identifier, bracket-quoted with `]` doubled: whatever a settings file says, it is
/// read as one name and never as SQL.
pub fn quote_ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// The extract query of a table, rendered: `{{ table }}` and `{{ col('x') }}`.
pub fn extract_query(s: &SqlServerSettings, table: &ContractTable) -> Result<String, ExtractError> {
    render_query(&s.queries_dir, &s.schema, &s.column_renames, table)
}

/// Renders `<queries_dir>/<table>.sql` for a schema and a council's column renames.
pub fn render_query(
    queries_dir: &Path,
    schema: &str,
    column_renames: &BTreeMap<String, BTreeMap<String, String>>,
    table: &ContractTable,
) -> Result<String, ExtractError> {
    let file = queries_dir.join(format!("{}.sql", &table.name));
    let text = std::fs::read_to_string(&file)
        .map_err(|_| ExtractError::MissingQuery { table: table.name.clone(), path: file.clone() })?;
    let renames = column_renames.get(&table.name).cloned().unwrap_or_default();
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_function("col", move |name: String| -> String {
        match renames.get(&name) {
            Some(r) if r.eq_ignore_ascii_case("null") => "NULL".to_string(),
            Some(r) => quote_ident(r),
            None => quote_ident(&name),
        }
    });
    let table_ref = format!("{}.{}", quote_ident(schema), quote_ident(&table.name));
    env.render_str(&text, minijinja::context! { table => table_ref }).map_err(|e| ExtractError::BadQuery {
        file,
        line: e.line().unwrap_or(0) as u64,
        message: e.to_string(),
    })
}

/// Reads one table on `conn`, sending batches to `tx` as they fill. Returns the row count.
async fn stream_table(
    conn: &mut Conn,
    s: &SqlServerSettings,
    table: &ContractTable,
    query: &str,
    tx: &tokio::sync::mpsc::Sender<RecordBatch>,
    snapshot: bool,
) -> Result<u64, Failure> {
    let server = s.describe();
    // The count and the rows come from one snapshot, so they must agree. Without snapshot
    // isolation, REPEATABLE READ holds the counted rows until the read is done.
    let isolation = if snapshot { "SNAPSHOT" } else { "REPEATABLE READ" };
    let batch = format!(
        "SET TRANSACTION ISOLATION LEVEL {isolation};\nBEGIN TRANSACTION;\nSELECT COUNT(*) FROM {}.{};\n{query};\nCOMMIT TRANSACTION;",
        quote_ident(&s.schema),
        quote_ident(&table.name)
    );
    let mut stream = conn.simple_query(batch).await.map_err(|e| classify(e, &server, &table.name))?;
    let mut expected: Option<u64> = None;
    let mut rows = 0u64;
    let mut builders = Builders::new(table);
    let schema = table.schema();
    let schema_error = |message: String| {
        Failure::Permanent(ExtractError::SourceSchema { server: server.clone(), table: table.name.clone(), message })
    };
    // Where each contract column is in the extract query's output, by name: reordering the
    // query's lines changes nothing, and a misspelt alias stops the table before any row.
    let mut positions: Option<Vec<usize>> = None;
    while let Some(item) = stream.try_next().await.map_err(|e| classify(e, &server, &table.name))? {
        let row = match item {
            QueryItem::Metadata(m) if m.result_index() == 1 => {
                positions = Some(column_positions(table, m.columns().iter().map(|c| c.name())).map_err(schema_error)?);
                continue;
            }
            QueryItem::Metadata(_) => continue,
            QueryItem::Row(row) => row,
        };
        if row.result_index() == 0 {
            expected = row.try_get::<i32, _>(0).ok().flatten().map(|n| n as u64).or(row
                .try_get::<i64, _>(0)
                .ok()
                .flatten()
                .map(|n| n as u64));
            continue;
        }
        let Some(positions) = &positions else {
            return Err(schema_error("rows arrived before the description of their columns".into()));
        };
        builders.push(&row, positions).map_err(schema_error)?;
        rows += 1;
        if builders.len == BATCH_ROWS {
            let b = builders.finish(&schema);
            tx.send(b).await.map_err(|_| Failure::Transient("the landing writer stopped".into()))?;
        }
    }
    if builders.len > 0 {
        let b = builders.finish(&schema);
        tx.send(b).await.map_err(|_| Failure::Transient("the landing writer stopped".into()))?;
    }
    match expected {
        Some(n) if n != rows => {
            Err(Failure::Transient(format!("{server}: {}: read {rows} rows, COUNT(*) said {n}", &table.name)))
        }
        _ => Ok(rows),
    }
}

struct Builders {
    kinds: Vec<Kind>,
    text: Vec<StringBuilder>,
    dates: Vec<Date32Builder>,
    len: usize,
}

impl Builders {
    fn new(table: &ContractTable) -> Self {
        Self {
            kinds: table.columns.iter().map(|c| c.kind).collect(),
            text: table.columns.iter().map(|_| StringBuilder::new()).collect(),
            dates: table.columns.iter().map(|_| Date32Builder::new()).collect(),
            len: 0,
        }
    }

    /// Appends a row; `positions[i]` is where contract column `i` is in the row.
    fn push(&mut self, row: &tiberius::Row, positions: &[usize]) -> Result<(), String> {
        for (i, kind) in self.kinds.iter().enumerate() {
            let at = positions[i];
            let name = || row.columns().get(at).map_or("?", |c| c.name()).to_string();
            match kind {
                Kind::Text => {
                    let v: Option<&str> = row.try_get(at).map_err(|e| format!("column `{}`: {e}", name()))?;
                    self.text[i].append_option(v);
                }
                Kind::Date => {
                    let v: Option<NaiveDate> = row.try_get(at).map_err(|e| format!("column `{}`: {e}", name()))?;
                    self.dates[i].append_option(v.map(|d| d.num_days_from_ce() - UNIX_EPOCH_CE));
                }
            }
        }
        self.len += 1;
        Ok(())
    }

    fn finish(&mut self, schema: &datafusion::arrow::datatypes::SchemaRef) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .kinds
            .iter()
            .enumerate()
            .map(|(i, k)| match k {
                Kind::Text => Arc::new(self.text[i].finish()) as ArrayRef,
                Kind::Date => Arc::new(self.dates[i].finish()) as ArrayRef,
            })
            .collect();
        self.len = 0;
        RecordBatch::try_new(schema.clone(), arrays).expect("builders follow the contract schema")
    }
}

/// Where each contract column of `table` is among an extract query's output columns, matched
/// by name as SQL Server does (case-insensitively). Every contract column must be there and
/// nothing else: the message names what is missing and what is extra.
pub fn column_positions<'a>(
    table: &ContractTable,
    output: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<usize>, String> {
    let output: Vec<&str> = output.into_iter().collect();
    let (missing, extra) = unmatched(table, &output);
    if missing.is_empty() && extra.is_empty() {
        let at = |c: &ContractColumn| output.iter().position(|o| o.eq_ignore_ascii_case(&c.name)).expect("matched");
        return Ok(table.columns.iter().map(at).collect());
    }
    let quoted = |names: Vec<&str>| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("lacks {}", quoted(missing)));
    }
    if !extra.is_empty() {
        parts.push(format!("has {}, which the source contract does not list", quoted(extra)));
    }
    Err(format!(
        "the extract query's output {}: alias each output column with its contract name (extract/ssd/{}.sql)",
        parts.join(" and "),
        table.name
    ))
}

/// The contract columns no output column is named for, and the output columns that name no
/// contract column: matched case-insensitively, as SQL Server matches names.
fn unmatched<'t, 'a>(table: &'t ContractTable, output: &[&'a str]) -> (Vec<&'t str>, Vec<&'a str>) {
    let missing =
        table.columns.iter().map(|c| c.name.as_str()).filter(|n| !output.iter().any(|o| o.eq_ignore_ascii_case(n)));
    let extra = output.iter().copied().filter(|o| !table.columns.iter().any(|c| c.name.eq_ignore_ascii_case(o)));
    (missing.collect(), extra.collect())
}

/// Hears `(table, rows so far)`.
pub type Progress = Arc<dyn Fn(&str, u64) + Send + Sync>;

/// Extracts one table, retrying transient failures on a fresh connection, and lands it.
async fn extract_table(
    s: &SqlServerSettings,
    writer: &Arc<LandingWriter>,
    table: Arc<ContractTable>,
    conn: &mut Option<Conn>,
    progress: &Progress,
) -> Result<(String, scrutiny_core::run::LandedTable), ExtractError> {
    let query = extract_query(s, &table)?;
    let mut attempt = 0;
    let mut snapshot = true;
    loop {
        let result: Result<(String, scrutiny_core::run::LandedTable), Failure> = async {
            if conn.is_none() {
                *conn = Some(connect(s).await?);
            }
            let c = conn.as_mut().expect("connected above");
            // The writer runs beside the stream, so only a few batches are ever held in memory.
            let (tx, mut rx) = tokio::sync::mpsc::channel::<RecordBatch>(2);
            let (w, p, t) = (writer.clone(), progress.clone(), table.clone());
            let written = tokio::task::spawn_blocking(move || {
                let read = TableRead {
                    batches: Box::new(std::iter::from_fn(move || rx.blocking_recv()).map(Ok)),
                    rows_with_times: Arc::new(AtomicU64::new(0)),
                };
                w.write_table(&t, read, |rows| p(&t.name, rows))
            });
            let streamed = stream_table(c, s, &table, &query, &tx, snapshot).await;
            drop(tx);
            let written = match written.await {
                Ok(w) => w,
                // A bug, not a passing fault: retrying would only panic again.
                Err(e) if e.is_panic() => {
                    return Err(Failure::Permanent(crate::panicked(&table.name, e.into_panic().as_ref())));
                }
                Err(e) => return Err(Failure::Transient(format!("landing writer: {e}"))),
            };
            match (streamed, written) {
                (Ok(rows), Ok((name, t))) if t.rows == rows => Ok((name, t)),
                (Ok(_), Ok(_)) => {
                    Err(Failure::Transient(format!("{}: rows lost between source and landing", &table.name)))
                }
                (Err(f), _) => Err(f),
                (Ok(_), Err(e)) => Err(Failure::Permanent(e)),
            }
        }
        .await;
        match result {
            Ok(t) => return Ok(t),
            Err(Failure::Permanent(e)) => return Err(e),
            Err(Failure::NoSnapshot) if snapshot => {
                tracing::warn!(
                    table = table.name,
                    "the database does not allow snapshot isolation; reading at REPEATABLE READ"
                );
                snapshot = false;
                // A fresh session: nothing of the refused transaction lingers.
                *conn = None;
            }
            Err(Failure::NoSnapshot) => {
                return Err(ExtractError::SourceSchema {
                    server: s.describe(),
                    table: table.name.clone(),
                    message: "error 3952 without snapshot isolation".into(),
                });
            }
            Err(Failure::Transient(why)) => {
                *conn = None;
                attempt += 1;
                if attempt > s.retries {
                    return Err(ExtractError::SourceUnavailable {
                        server: s.describe(),
                        message: format!("{why} (gave up after {attempt} attempts)"),
                    });
                }
                let wait = Duration::from_millis(s.retry_backoff_ms.saturating_mul(1 << (attempt - 1).min(10)));
                tracing::warn!(table = table.name, attempt, wait_ms = wait.as_millis() as u64, reason = %why, "retrying the table");
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// Extracts every contract table from SQL Server into `writer`, over `parallel_connections`
/// connections. Dropping the future aborts every worker.
pub async fn extract(
    s: Arc<SqlServerSettings>,
    writer: Arc<LandingWriter>,
    tables: Vec<Arc<ContractTable>>,
    progress: Progress,
) -> Result<Vec<(String, scrutiny_core::run::LandedTable)>, Vec<ExtractError>> {
    let queue = Arc::new(std::sync::Mutex::new(tables.into_iter()));
    let workers = s.parallel_connections.clamp(1, queue.lock().expect("queue").len().max(1));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let (s, writer, progress, queue) = (s.clone(), writer.clone(), progress.clone(), queue.clone());
        set.spawn(async move {
            let mut conn: Option<Conn> = None;
            let mut done = Vec::new();
            loop {
                let next = queue.lock().expect("queue").next();
                let Some(table) = next else { break };
                scrutiny_core::fault::point(&format!("extract:{}", &table.name));
                let r = extract_table(&s, &writer, table.clone(), &mut conn, &progress).await;
                let stop = matches!(&r, Err(ExtractError::SourceRefused { .. }));
                done.push(r);
                if stop {
                    break;
                }
            }
            done
        });
    }
    let (mut ok, mut errors) = (Vec::new(), Vec::new());
    while let Some(joined) = set.join_next().await {
        // A worker that panicked fails the run; its tables are never silently left out.
        let done = joined.unwrap_or_else(|e| {
            let tables = "(an extraction worker's tables)";
            vec![Err(if e.is_panic() {
                crate::panicked(tables, e.into_panic().as_ref())
            } else {
                ExtractError::Panicked { table: tables.into(), message: e.to_string() }
            })]
        });
        for r in done {
            match r {
                Ok(t) => ok.push(t),
                Err(e) => errors.push(e),
            }
        }
    }
    if errors.is_empty() { Ok(ok) } else { Err(errors) }
}

/// Checks every table's extract query without a server: it exists, renders, parses as T-SQL
/// (sqlparser's MsSQL dialect) as one SELECT, and its output columns are the contract's, by
/// alias. Every problem, with its file and line. `scrutiny check` and `scrutiny run` (before
/// any data is read) use it.
pub fn check_queries(
    queries_dir: &Path,
    schema: &str,
    column_renames: &BTreeMap<String, BTreeMap<String, String>>,
    tables: &[Arc<ContractTable>],
) -> Vec<ExtractError> {
    let mut problems = Vec::new();
    for table in tables {
        match render_query(queries_dir, schema, column_renames, table) {
            Ok(sql) => {
                problems.extend(check_output_columns(&queries_dir.join(format!("{}.sql", &table.name)), &sql, table))
            }
            Err(e) => problems.push(e),
        }
    }
    problems
}

/// The output columns of a rendered extract query against the contract.
fn check_output_columns(file: &Path, sql: &str, table: &ContractTable) -> Vec<ExtractError> {
    use datafusion::sql::sqlparser::ast::{Expr, SelectItem, SetExpr, Spanned, Statement};
    use datafusion::sql::sqlparser::dialect::MsSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    let problem = |line: u64, message: String| ExtractError::BadQuery { file: file.to_path_buf(), line, message };
    let statements = match Parser::parse_sql(&MsSqlDialect {}, sql) {
        Ok(s) => s,
        Err(e) => return vec![problem(0, format!("not valid T-SQL: {e}"))],
    };
    let select = match statements.as_slice() {
        [Statement::Query(q)] => match q.body.as_ref() {
            SetExpr::Select(s) => s,
            _ => return vec![problem(1, "an extract query is one SELECT".into())],
        },
        _ => return vec![problem(1, "an extract query is one SELECT statement".into())],
    };
    // Each output column's name and the line it is on.
    let mut outputs: Vec<(String, u64)> = Vec::new();
    let mut problems = Vec::new();
    for item in &select.projection {
        let line = item.span().start.line;
        match item {
            SelectItem::ExprWithAlias { alias, .. } => outputs.push((alias.value.clone(), alias.span.start.line)),
            SelectItem::UnnamedExpr(Expr::Identifier(i)) => outputs.push((i.value.clone(), line)),
            SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) if !parts.is_empty() => {
                outputs.push((parts[parts.len() - 1].value.clone(), line));
            }
            _ => {
                problems.push(problem(line, "each output column is named by its contract name: `... AS [name]`".into()))
            }
        }
    }
    let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    let (missing, extra) = unmatched(table, &names);
    for name in extra {
        let line = outputs.iter().find(|(n, _)| n == name).map_or(0, |(_, l)| *l);
        let message = format!("output column `{name}` is not a column of `{}` in the source contract", &table.name);
        problems.push(problem(line, message));
    }
    let select_line = select.span().start.line;
    for name in missing {
        problems.push(problem(select_line, format!("no output column `{name}` (alias it `AS [{name}]`)")));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutiny_core::settings::{Encrypt, Secret};

    fn settings(schema: &str, renames: &[(&str, &str, &str)]) -> SqlServerSettings {
        let mut column_renames: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> =
            Default::default();
        for (t, c, s) in renames {
            column_renames.entry(t.to_string()).or_default().insert(c.to_string(), s.to_string());
        }
        SqlServerSettings {
            host: "db".into(),
            port: 1433,
            database: "ssd".into(),
            schema: schema.into(),
            user: "u".into(),
            password: Secret::new("p"),
            encrypt: Encrypt::Required,
            trust_server_certificate: false,
            ca_file: None,
            read_only_intent: true,
            connect_timeout_secs: 1,
            command_timeout_secs: 1,
            parallel_connections: 1,
            retries: 0,
            retry_backoff_ms: 1,
            column_renames,
            queries_dir: scrutiny_core::checkout_root().join("sql/extract/ssd"),
        }
    }

    #[test]
    fn a_hostile_rename_or_schema_stays_one_bracketed_name() {
        let s = settings("ssd]; DROP TABLE y; --", &[("ssd_person", "pers_sex", "x]; DROP TABLE y; --")]);
        let person = crate::Contract::builtin().table("ssd_person").unwrap().clone();
        let q = extract_query(&s, &person).unwrap();
        assert!(q.contains("[x]]; DROP TABLE y; --]"), "{q}");
        assert!(q.contains("[ssd]]; DROP TABLE y; --].[ssd_person]"), "{q}");
        // Every `[` opens a name that the parser closes at a single `]`: outside the
        // brackets, nothing of the hostile text is left.
        let mut outside = String::new();
        let mut chars = q.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '[' {
                loop {
                    match chars.next() {
                        Some(']') if chars.peek() == Some(&']') => {
                            chars.next();
                        }
                        Some(']') | None => break,
                        Some(_) => {}
                    }
                }
            } else {
                outside.push(c);
            }
        }
        assert!(!outside.contains("DROP"), "outside the brackets: {outside}");
    }

    #[test]
    fn output_columns_are_found_by_name_in_any_order_and_misspellings_named() {
        let person = crate::Contract::builtin().table("ssd_person").unwrap().clone();
        let swapped = ["pers_person_id", "pers_dob", "pers_expected_dob", "PERS_ETHNICITY", "pers_sex"];
        assert_eq!(column_positions(&person, swapped).unwrap(), vec![0, 1, 2, 4, 3]);
        let misspelt = ["pers_person_id", "pers_dob", "pers_expected_dob", "pers_sexx", "pers_ethnicity"];
        let e = column_positions(&person, misspelt).unwrap_err();
        assert!(e.contains("lacks `pers_sex`") && e.contains("has `pers_sexx`"), "{e}");
    }

    #[test]
    fn the_shipped_extract_queries_pass_the_static_check() {
        let s = settings("ssd_development", &[]);
        let problems = check_queries(&s.queries_dir, &s.schema, &s.column_renames, &crate::Contract::builtin().tables);
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_misspelt_alias_is_named_with_its_line_before_any_server_is_asked() {
        let dir = tempfile::tempdir().unwrap();
        let shipped = scrutiny_core::checkout_root().join("sql/extract/ssd/ssd_person.sql");
        let text = std::fs::read_to_string(shipped).unwrap();
        let line = text.lines().position(|l| l.contains("AS [pers_sex]")).unwrap() as u64 + 1;
        std::fs::write(dir.path().join("ssd_person.sql"), text.replace("AS [pers_sex]", "AS [pers_sexx]")).unwrap();
        let person = crate::Contract::builtin().table("ssd_person").unwrap().clone();
        let problems = check_queries(dir.path(), "ssd", &Default::default(), std::slice::from_ref(&person));
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{text:?}");
        assert!(text[0].contains(&format!("ssd_person.sql:{line}: output column `pers_sexx`")), "{text:?}");
        assert!(text[1].contains("no output column `pers_sex`"), "{text:?}");
        assert!(problems.iter().all(|e| e.exit_code() == scrutiny_core::exit::CONFIG));
    }

    #[test]
    fn a_missing_query_file_is_configuration() {
        let mut s = settings("ssd", &[]);
        s.queries_dir = "/nonexistent".into();
        let e = extract_query(&s, &crate::Contract::builtin().tables[0]).unwrap_err();
        assert_eq!(e.exit_code(), scrutiny_core::exit::CONFIG, "{e}");
        assert!(e.to_string().contains("/nonexistent/ssd_person.sql"), "{e}");
    }
}
