//! The SQL Server sink: the published mart's tables loaded into a schema of the council's
//! reporting database, where Power BI reports already point, replacing the previous contents
//! in one transaction.
//!
//! With `create_tables: true` every table is bulk loaded (`INSERT BULK`) into a new
//! `<table>__loading` table, then each old table is dropped and the new one renamed in its
//! place. With `create_tables: false` the tables exist (the DBA made them) and each one's rows
//! are deleted and bulk loaded again. Either way it is all one transaction: a reader sees the
//! previous run's tables until the COMMIT, and a failure (a dropped connection included, which
//! SQL Server rolls back) leaves them as they were.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, Float64Type, Int64Type, TimeUnit};
use scrutiny_core::settings::SqlServerSink;
use std::borrow::Cow;
use std::time::Instant;
use tiberius::{ColumnData, TokenRow};

use crate::MartError;

/// Days from 0001-01-01 (SQL Server's DATE zero) to 1970-01-01 (Arrow's).
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_162;

/// What a load did, for the log and the benchmark.
#[derive(Debug, Clone)]
pub struct SinkReport {
    pub schema: String,
    pub tables: usize,
    pub rows: u64,
    pub seconds: f64,
}

/// A T-SQL identifier, bracket-quoted with `]` doubled.
fn quote(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// A string literal, N-prefixed and with `'` doubled.
fn literal(s: &str) -> String {
    format!("N'{}'", s.replace('\'', "''"))
}

/// The SQL Server type the mart contract gives an Arrow type (NVARCHAR, DATE, BIGINT, FLOAT,
/// BIT, DATETIME2 for the run's timestamps, kept in UTC).
fn column_type(t: &DataType) -> Option<&'static str> {
    Some(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "NVARCHAR(4000)",
        DataType::Date32 => "DATE",
        t if t.is_integer() => "BIGINT",
        DataType::Float64 => "FLOAT",
        DataType::Boolean => "BIT",
        DataType::Timestamp(_, _) => "DATETIME2(3)",
        _ => return None,
    })
}

/// `CREATE TABLE` for a mart table, columns in the mart's order. Text longer than NVARCHAR(4000)
/// holds is given NVARCHAR(MAX).
fn create_table(
    name: &str,
    batches: &[RecordBatch],
    schema: &datafusion::arrow::datatypes::Schema,
) -> Result<String, String> {
    let mut cols = Vec::new();
    for (i, f) in schema.fields().iter().enumerate() {
        let mut t = column_type(f.data_type()).ok_or_else(|| {
            format!("column {}: {} has no SQL Server type in the mart contract", f.name(), f.data_type())
        })?;
        if t == "NVARCHAR(4000)" && batches.iter().any(|b| longest(b.column(i).as_ref()) > 4000) {
            t = "NVARCHAR(MAX)";
        }
        let null = if f.is_nullable() { "NULL" } else { "NOT NULL" };
        cols.push(format!("{} {t} {null}", quote(f.name())));
    }
    Ok(format!("CREATE TABLE {name} ({})", cols.join(", ")))
}

/// The `CREATE TABLE` statements for `tables` in `schema`, as the sink makes them: for a DBA
/// who creates the tables (`create_tables: false`) or reviews what the login will create.
pub fn ddl(schema: &str, tables: &[(String, Vec<RecordBatch>)]) -> Result<Vec<String>, String> {
    tables
        .iter()
        .filter_map(|(name, batches)| Some((name, batches, batches.first()?.schema())))
        .map(|(name, batches, s)| {
            create_table(&format!("{}.{}", quote(schema), quote(name)), batches, &s).map_err(|e| format!("{name}: {e}"))
        })
        .collect()
}

/// The longest text in a string column, in UTF-16 code units (what NVARCHAR counts).
fn longest(a: &dyn Array) -> usize {
    let Ok(s) = cast(&a.slice(0, a.len()), &DataType::Utf8) else { return 0 };
    s.as_string::<i32>().iter().flatten().map(|v| v.encode_utf16().count()).max().unwrap_or(0)
}

/// One connection's failure, with the table it happened on.
fn failed(server: &str, table: &str, e: impl std::fmt::Display) -> MartError {
    MartError::Sink { server: server.to_string(), table: table.to_string(), message: e.to_string() }
}

/// Loads `tables` (name and rows, as published) into the sink's schema in one transaction.
pub async fn load(sink: &SqlServerSink, tables: &[(String, Vec<RecordBatch>)]) -> Result<SinkReport, MartError> {
    let s = &sink.connection;
    let server = s.describe();
    let started = Instant::now();
    let mut client = scrutiny_extract::sqlserver::open(s).await.map_err(|e| match e {
        scrutiny_extract::sqlserver::OpenError::Network(why) => failed(&server, "(connecting)", why),
        scrutiny_extract::sqlserver::OpenError::Login(e) => failed(&server, "(login)", e),
    })?;
    let schema = quote(&s.schema);
    // XACT_ABORT: any error inside rolls the whole transaction back, as a dropped connection does.
    exec(&mut client, "SET XACT_ABORT ON; BEGIN TRANSACTION", &server, "(begin)").await?;
    let mut rows = 0u64;
    for (name, batches) in tables {
        let Some(first) = batches.first() else { continue };
        let arrow_schema = first.schema();
        let target = if sink.create_tables {
            let loading = format!("{schema}.{}", quote(&format!("{name}__loading")));
            let ddl = create_table(&loading, batches, &arrow_schema).map_err(|e| failed(&server, name, e))?;
            exec(&mut client, &format!("DROP TABLE IF EXISTS {loading}"), &server, name).await?;
            exec(&mut client, &ddl, &server, name).await?;
            loading
        } else {
            let table = format!("{schema}.{}", quote(name));
            check_columns(&mut client, &table, &arrow_schema, &server, name).await?;
            exec(&mut client, &format!("DELETE FROM {table}"), &server, name).await?;
            table
        };
        rows += bulk_load(&mut client, &target, batches, &server, name).await?;
    }
    if sink.create_tables {
        for (name, batches) in tables {
            if batches.is_empty() {
                continue;
            }
            let table = format!("{schema}.{}", quote(name));
            let loading = format!("{schema}.{}", quote(&format!("{name}__loading")));
            exec(&mut client, &format!("DROP TABLE IF EXISTS {table}"), &server, name).await?;
            let rename = format!("EXEC sp_rename {}, {}", literal(&loading), literal(name));
            exec(&mut client, &rename, &server, name).await?;
        }
    }
    scrutiny_core::fault::point("sink:before-commit");
    exec(&mut client, "COMMIT TRANSACTION", &server, "(commit)").await?;
    let _ = client.close().await;
    Ok(SinkReport {
        schema: s.schema.clone(),
        tables: tables.iter().filter(|(_, b)| !b.is_empty()).count(),
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

type Client = tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>>;

async fn exec(client: &mut Client, sql: &str, server: &str, table: &str) -> Result<(), MartError> {
    client
        .simple_query(sql)
        .await
        .map_err(|e| failed(server, table, e))?
        .into_results()
        .await
        .map_err(|e| failed(server, table, e))?;
    Ok(())
}

/// With `create_tables: false`, the DBA's table must have the mart's columns, by name.
async fn check_columns(
    client: &mut Client,
    table: &str,
    schema: &datafusion::arrow::datatypes::Schema,
    server: &str,
    name: &str,
) -> Result<(), MartError> {
    let have: Vec<String> = client
        .column_metadata(table, &["*"])
        .await
        .map_err(|e| failed(server, name, e))?
        .iter()
        .map(|c| c.col_name.to_string())
        .collect();
    let want: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let missing: Vec<&str> = want.iter().copied().filter(|w| !have.iter().any(|h| h.eq_ignore_ascii_case(w))).collect();
    if !missing.is_empty() {
        return Err(failed(
            server,
            name,
            format!(
                "{table} lacks the mart's column(s) {} (with create_tables: false the tables are made by the DBA as the README shows)",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Sends every row of `batches` to `table` with `INSERT BULK`; the rows loaded.
async fn bulk_load(
    client: &mut Client,
    table: &str,
    batches: &[RecordBatch],
    server: &str,
    name: &str,
) -> Result<u64, MartError> {
    let err = |e: tiberius::error::Error| failed(server, name, e);
    let Some(first) = batches.first() else { return Ok(0) };
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Ok(0);
    }
    let columns: Vec<&str> = first.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
    let quoted: Vec<String> = columns.iter().map(|c| quote(c)).collect();
    let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
    let mut req = client.bulk_insert_columns(table, &quoted).await.map_err(err)?;
    let mut rows = 0u64;
    for batch in batches {
        let arrays: Vec<Column> = batch
            .columns()
            .iter()
            .map(|a| Column::of(a.as_ref()))
            .collect::<Result<_, _>>()
            .map_err(|e| failed(server, name, e))?;
        for i in 0..batch.num_rows() {
            let mut row = TokenRow::with_capacity(arrays.len());
            for a in &arrays {
                row.push(a.value(i));
            }
            req.send(row).await.map_err(err)?;
        }
        rows += batch.num_rows() as u64;
    }
    req.finalize().await.map_err(err)?;
    Ok(rows)
}

/// A column ready to give tiberius its values.
enum Column {
    Text(datafusion::arrow::array::StringArray),
    Int(datafusion::arrow::array::Int64Array),
    Float(datafusion::arrow::array::Float64Array),
    Bool(datafusion::arrow::array::BooleanArray),
    Date(datafusion::arrow::array::Date32Array),
    /// Milliseconds since the epoch, UTC.
    Timestamp(datafusion::arrow::array::TimestampMillisecondArray),
}

impl Column {
    fn of(a: &dyn Array) -> Result<Column, String> {
        let a = a.slice(0, a.len());
        let c = |t: &DataType| cast(&a, t).map_err(|e| e.to_string());
        Ok(match a.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                Column::Text(c(&DataType::Utf8)?.as_string::<i32>().clone())
            }
            t if t.is_integer() => Column::Int(c(&DataType::Int64)?.as_primitive::<Int64Type>().clone()),
            DataType::Float64 => Column::Float(a.as_primitive::<Float64Type>().clone()),
            DataType::Boolean => Column::Bool(a.as_boolean().clone()),
            DataType::Date32 => Column::Date(a.as_primitive::<Date32Type>().clone()),
            DataType::Timestamp(_, _) => Column::Timestamp(
                c(&DataType::Timestamp(TimeUnit::Millisecond, None))?
                    .as_primitive::<datafusion::arrow::datatypes::TimestampMillisecondType>()
                    .clone(),
            ),
            other => return Err(format!("{other} has no SQL Server type in the mart contract")),
        })
    }

    fn value(&self, i: usize) -> ColumnData<'static> {
        use tiberius::time::{Date, DateTime2, Time};
        let date = |days_since_epoch: i64| Date::new((days_since_epoch + UNIX_EPOCH_DAYS_FROM_CE) as u32);
        match self {
            Column::Text(a) => ColumnData::String(a.is_valid(i).then(|| Cow::Owned(a.value(i).to_string()))),
            Column::Int(a) => ColumnData::I64(a.is_valid(i).then(|| a.value(i))),
            Column::Float(a) => ColumnData::F64(a.is_valid(i).then(|| a.value(i))),
            Column::Bool(a) => ColumnData::Bit(a.is_valid(i).then(|| a.value(i))),
            Column::Date(a) => ColumnData::Date(a.is_valid(i).then(|| date(a.value(i) as i64))),
            Column::Timestamp(a) => ColumnData::DateTime2(a.is_valid(i).then(|| {
                let ms = a.value(i);
                let (days, ms_of_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
                // DATETIME2(3): increments of a millisecond.
                DateTime2::new(date(days), Time::new(ms_of_day as u64, 3))
            })),
        }
    }
}
