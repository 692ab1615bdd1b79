//! The file source: a directory with one `<table>.csv` or `<table>.parquet` per SSD table.

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::{ArrayRef, Date32Builder, RecordBatch, StringBuilder, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::contract::{ContractTable, Kind};
use crate::error::{ExtractError, io};

/// Rows per record batch: bounds memory whatever the table's size.
pub const BATCH_ROWS: usize = 65_536;

const UNIX_EPOCH_CE: i32 = 719_163;

pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ExtractError>> + Send>;

/// A table being read: its batches, and a count of the rows whose dates carried a time of day
/// (dropped when typed to Date32), for the data-quality report.
pub struct TableRead {
    pub batches: Batches,
    pub rows_with_times: Arc<AtomicU64>,
}

/// A row of the file source left out by `on_bad_row: quarantine`: where, and why. Never the
/// row's values: they are personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub table: String,
    pub file: String,
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(c) = &self.column {
            write!(f, "column `{c}`: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// The rows left out so far, shared by the tables read in parallel.
#[derive(Debug, Clone)]
struct Quarantine {
    max: u64,
    rejects: Arc<std::sync::Mutex<Vec<Reject>>>,
}

impl Quarantine {
    /// Records a row left out; past the limit the run fails.
    fn reject(&self, r: Reject) -> Result<(), ExtractError> {
        let mut all = self.rejects.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.push(r);
        let count = all.len() as u64;
        if count > self.max {
            return Err(ExtractError::TooManyRejects { count, max: self.max, first: all[0].to_string() });
        }
        Ok(())
    }
}

pub struct FileSource {
    dir: PathBuf,
    quarantine: Option<Quarantine>,
}

impl FileSource {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), quarantine: None }
    }

    /// Leaves out CSV rows that cannot be read (up to `max_rejects`) instead of failing.
    pub fn quarantining(mut self, max_rejects: u64) -> Self {
        self.quarantine = Some(Quarantine { max: max_rejects, rejects: Default::default() });
        self
    }

    /// The rows left out so far, in the order they were met per table.
    pub fn rejects(&self) -> Option<Vec<Reject>> {
        let q = self.quarantine.as_ref()?;
        let mut r = q.rejects.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        r.sort_by(|a, b| (&a.table, a.line).cmp(&(&b.table, b.line)));
        Some(r)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file a table is read from; CSV wins when both exist.
    pub fn locate(&self, table: &ContractTable) -> Result<PathBuf, ExtractError> {
        for ext in ["csv", "parquet"] {
            let p = self.dir.join(format!("{}.{ext}", &table.name));
            if p.is_file() {
                return Ok(p);
            }
        }
        Err(ExtractError::MissingTable { table: table.name.clone(), dir: self.dir.clone() })
    }

    /// Every table's file, or every missing table at once.
    pub fn check(&self, tables: &[Arc<ContractTable>]) -> Result<Vec<PathBuf>, Vec<ExtractError>> {
        let (ok, missing): (Vec<_>, Vec<_>) = tables.iter().map(|t| self.locate(t)).partition(Result::is_ok);
        if missing.is_empty() {
            Ok(ok.into_iter().map(Result::unwrap).collect())
        } else {
            Err(missing.into_iter().map(|e| e.unwrap_err()).collect())
        }
    }

    /// The newest modification time among the tables' files: when the export was current.
    pub fn as_at(&self, tables: &[Arc<ContractTable>]) -> DateTime<Utc> {
        tables
            .iter()
            .filter_map(|t| self.locate(t).ok())
            .filter_map(|p| p.metadata().and_then(|m| m.modified()).ok())
            .max()
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(Utc::now)
    }

    /// Reads a table as contract-typed record batches, streaming.
    pub fn read(&self, table: &Arc<ContractTable>) -> Result<Batches, ExtractError> {
        Ok(self.read_counting(table)?.batches)
    }

    /// As [`Self::read`], counting rows whose dates carried a time of day.
    pub fn read_counting(&self, table: &Arc<ContractTable>) -> Result<TableRead, ExtractError> {
        let path = self.locate(table)?;
        let rows_with_times = Arc::new(AtomicU64::new(0));
        let batches: Batches = if path.extension().is_some_and(|e| e == "csv") {
            Box::new(CsvTable::open(table.clone(), path, rows_with_times.clone(), self.quarantine.clone())?)
        } else {
            Box::new(ParquetTable::open(table.clone(), path, rows_with_times.clone())?)
        };
        Ok(TableRead { batches, rows_with_times })
    }
}

/// Parses `YYYY-MM-DD` with an optional time of day (` HH:MM:SS[.fff]` or `T...`), which is
/// dropped. Returns days since 1970-01-01.
pub fn parse_date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() > 10 {
        // Bytes, not a str slice: a multi-byte character after the date must not panic.
        let rest = &b[11.min(b.len())..];
        let sep_ok = b[10] == b' ' || b[10] == b'T';
        let time_ok =
            rest.len() >= 5 && rest.iter().all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.')) && rest[2] == b':';
        if !(sep_ok && time_ok) {
            return None;
        }
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[r];
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    Some(date.num_days_from_ce() - UNIX_EPOCH_CE)
}

use chrono::Datelike;

struct CsvTable {
    table: Arc<ContractTable>,
    path: PathBuf,
    reader: csv::Reader<File>,
    /// For each contract column, its position in the file (None: optional and absent).
    positions: Vec<Option<usize>>,
    record: csv::StringRecord,
    done: bool,
    rows_with_times: Arc<AtomicU64>,
    quarantine: Option<Quarantine>,
}

impl CsvTable {
    fn open(
        table: Arc<ContractTable>,
        path: PathBuf,
        rows_with_times: Arc<AtomicU64>,
        quarantine: Option<Quarantine>,
    ) -> Result<Self, ExtractError> {
        let file = File::open(&path).map_err(io(&path))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
        let headers = reader
            .headers()
            .map_err(|e| ExtractError::BadLine { file: path.clone(), line: 1, message: e.to_string() })?
            .clone();
        let names: Vec<&str> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| if i == 0 { h.trim_start_matches('\u{feff}') } else { h })
            .collect();
        let mut positions = Vec::with_capacity(table.columns.len());
        for c in &table.columns {
            let pos = names.iter().position(|n| *n == c.name);
            if pos.is_none() && c.required {
                return Err(ExtractError::MissingColumn {
                    table: table.name.clone(),
                    file: path,
                    column: c.name.clone(),
                });
            }
            positions.push(pos);
        }
        Ok(Self {
            table,
            path,
            reader,
            positions,
            record: csv::StringRecord::new(),
            done: false,
            rows_with_times,
            quarantine,
        })
    }

    /// A row that cannot be read: left out and listed when quarantining, else the run's error.
    fn bad_row(&self, line: u64, column: Option<&str>, reason: String) -> Result<(), ExtractError> {
        let file = self.path.clone();
        match (&self.quarantine, column) {
            (Some(q), _) => q.reject(Reject {
                table: self.table.name.clone(),
                file: file.display().to_string(),
                line,
                column: column.map(str::to_string),
                reason,
            }),
            (None, Some(column)) => Err(ExtractError::BadDate { file, line, column: column.into() }),
            (None, None) => Err(ExtractError::BadLine { file, line, message: reason }),
        }
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ExtractError> {
        enum Col {
            Text(StringBuilder),
            Date(Date32Builder),
        }
        let mut cols: Vec<Col> = self
            .table
            .columns
            .iter()
            .map(|c| match c.kind {
                Kind::Text => Col::Text(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 8)),
                Kind::Date => Col::Date(Date32Builder::with_capacity(BATCH_ROWS)),
            })
            .collect();
        // Each row's dates, parsed: (days since 1970-01-01, had a time of day).
        let mut dates: Vec<Option<(i32, bool)>> = Vec::new();
        let mut rows = 0;
        while rows < BATCH_ROWS {
            let more = match self.reader.read_record(&mut self.record) {
                Ok(more) => more,
                // A failing disk is never a bad row.
                Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                    return Err(ExtractError::BadLine { file: self.path.clone(), line: 0, message: e.to_string() });
                }
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    // csv's messages name field counts and byte offsets, never values.
                    self.bad_row(line, None, e.to_string())?;
                    continue;
                }
            };
            if !more {
                self.done = true;
                break;
            }
            let line = self.record.position().map_or(0, |p| p.line());
            // Every date of the row is parsed, once, before anything is appended, so a row left
            // out leaves nothing of itself behind.
            let field = |pos: &Option<usize>| pos.and_then(|p| self.record.get(p)).filter(|f| !f.is_empty());
            dates.clear();
            let mut bad_date = None;
            for (pos, spec) in self.positions.iter().zip(&self.table.columns) {
                if matches!(spec.kind, Kind::Date) {
                    match field(pos).map(|f| parse_date(f).map(|d| (d, f.len() > 10))) {
                        None => dates.push(None),
                        Some(Some(date)) => dates.push(Some(date)),
                        Some(None) => {
                            bad_date = Some(spec);
                            break;
                        }
                    }
                }
            }
            if let Some(spec) = bad_date {
                let reason = "not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)".to_string();
                self.bad_row(line, Some(&spec.name), reason)?;
                continue;
            }
            let mut had_time = false;
            let mut parsed = dates.iter();
            for (col, pos) in cols.iter_mut().zip(&self.positions) {
                match col {
                    Col::Text(b) => match field(pos) {
                        Some(f) => b.append_value(f),
                        None => b.append_null(),
                    },
                    Col::Date(b) => match parsed.next().copied().flatten() {
                        Some((days, with_time)) => {
                            had_time |= with_time;
                            b.append_value(days)
                        }
                        None => b.append_null(),
                    },
                }
            }
            if had_time {
                self.rows_with_times.fetch_add(1, Ordering::Relaxed);
            }
            rows += 1;
        }
        if rows == 0 {
            return Ok(None);
        }
        let arrays: Vec<ArrayRef> = cols
            .into_iter()
            .map(|c| match c {
                Col::Text(mut b) => Arc::new(b.finish()) as ArrayRef,
                Col::Date(mut b) => Arc::new(b.finish()) as ArrayRef,
            })
            .collect();
        RecordBatch::try_new(self.table.schema(), arrays)
            .map(Some)
            .map_err(|source| ExtractError::Arrow { path: self.path.clone(), source })
    }
}

impl Iterator for CsvTable {
    type Item = Result<RecordBatch, ExtractError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_batch() {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

struct ParquetTable {
    table: Arc<ContractTable>,
    path: PathBuf,
    reader: ParquetRecordBatchReader,
    rows_with_times: Arc<AtomicU64>,
}

impl ParquetTable {
    fn open(table: Arc<ContractTable>, path: PathBuf, rows_with_times: Arc<AtomicU64>) -> Result<Self, ExtractError> {
        let file = File::open(&path).map_err(io(&path))?;
        let pq = |source| ExtractError::Parquet { path: path.clone(), source };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(pq)?;
        let schema = builder.schema().clone();
        for c in table.columns.iter().filter(|c| c.required) {
            if schema.field_with_name(&c.name).is_err() {
                return Err(ExtractError::MissingColumn {
                    table: table.name.clone(),
                    file: path,
                    column: c.name.clone(),
                });
            }
        }
        // Only the contract's columns are decoded: anything else in the file is never read.
        let wanted: Vec<usize> = table.columns.iter().filter_map(|c| schema.index_of(&c.name).ok()).collect();
        let mask = datafusion::parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), wanted);
        let reader = builder.with_projection(mask).with_batch_size(BATCH_ROWS).build().map_err(pq)?;
        Ok(Self { table, path, reader, rows_with_times })
    }

    fn conform(&self, batch: RecordBatch) -> Result<RecordBatch, ExtractError> {
        let rows = batch.num_rows();
        let mut timed = vec![false; rows];
        let mut arrays = Vec::with_capacity(self.table.columns.len());
        for c in &self.table.columns {
            let want = c.kind.data_type();
            let array = match batch.column_by_name(&c.name) {
                None => new_null_array(&want, rows),
                Some(a) => {
                    let ok = match (c.kind, a.data_type()) {
                        (Kind::Text, t) => {
                            t.is_integer() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
                        }
                        (Kind::Date, t) => matches!(t, DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)),
                    };
                    if !ok {
                        return Err(ExtractError::BadType {
                            file: self.path.clone(),
                            column: c.name.clone(),
                            found: a.data_type().to_string(),
                            expected: want.to_string(),
                        });
                    }
                    if matches!(a.data_type(), DataType::Timestamp(..) | DataType::Date64) {
                        // A time of day is whatever a round trip through a date loses.
                        let err = |source| ExtractError::Arrow { path: self.path.clone(), source };
                        let day = cast_with_options(a, &DataType::Date32, &CastOptions::default())
                            .and_then(|d| cast_with_options(&d, a.data_type(), &CastOptions::default()))
                            .map_err(err)?;
                        let differs = datafusion::arrow::compute::kernels::cmp::neq(a, &day).map_err(err)?;
                        for (t, d) in timed.iter_mut().zip(differs.iter()) {
                            *t |= d.unwrap_or(false);
                        }
                    }
                    cast_with_options(a, &want, &CastOptions { safe: false, ..Default::default() })
                        .map_err(|source| ExtractError::Arrow { path: self.path.clone(), source })?
                }
            };
            arrays.push(array);
        }
        let timed_rows = timed.iter().filter(|t| **t).count() as u64;
        self.rows_with_times.fetch_add(timed_rows, Ordering::Relaxed);
        RecordBatch::try_new(self.table.schema(), arrays)
            .map_err(|source| ExtractError::Arrow { path: self.path.clone(), source })
    }
}

impl Iterator for ParquetTable {
    type Item = Result<RecordBatch, ExtractError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.reader.next()?;
        Some(
            batch
                .map_err(|source| ExtractError::Arrow { path: self.path.clone(), source })
                .and_then(|b| self.conform(b)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Date32Type;

    #[test]
    fn quarantine_leaves_out_bad_rows_naming_where_and_why_never_the_values() {
        let text = "pers_person_id,pers_sex,pers_dob\n1,M,2010-01-01\n2,F,31/12/2011\n3,F\n4,M,2012-05-05\n";
        let (_d, src) = source_with("ssd_person.csv", text);
        let src = src.quarantining(10);
        let table = crate::Contract::builtin().table("ssd_person").unwrap().clone();
        let rows: usize = src.read(&table).unwrap().map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(rows, 2, "the two good rows are kept");
        let r = src.rejects().unwrap();
        assert_eq!(r.len(), 2, "{r:?}");
        assert_eq!((r[0].line, r[0].column.as_deref()), (3, Some("pers_dob")));
        assert!(r[1].line == 4 && r[1].reason.contains("fields"), "{r:?}");
        assert!(!format!("{r:?}").contains("31/12/2011"), "a reject never carries the row's values");

        let (_d, src) = source_with("ssd_person.csv", text);
        let src = src.quarantining(1);
        let e = src.read(&table).unwrap().find_map(Result::err).unwrap();
        assert!(matches!(e, ExtractError::TooManyRejects { count: 2, max: 1, .. }), "{e}");
    }

    proptest::proptest! {
        /// Any text in a date column gives a date or nothing, never a panic.
        #[test]
        fn any_text_parses_as_a_date_or_not(text in "\\PC{0,24}") {
            let _ = parse_date(&text);
        }

        /// Any CSV file gives batches or a typed error, never a panic; quarantining too.
        #[test]
        fn any_csv_gives_batches_or_a_typed_error(body in "[0-9A-Za-z,\"\n\r\\- :.\u{e9}\u{feff}]{0,300}", quarantine in proptest::bool::ANY) {
            let (_d, src) = source_with("ssd_person.csv", &format!("pers_person_id,pers_sex,pers_dob\n{body}"));
            let src = if quarantine { src.quarantining(5) } else { src };
            let table = crate::Contract::builtin().table("ssd_person").unwrap().clone();
            if let Ok(batches) = src.read(&table) {
                for b in batches { let _ = b; }
            }
        }
    }

    #[test]
    fn a_multibyte_character_after_a_date_is_not_a_date_and_not_a_panic() {
        assert_eq!(parse_date("2022-01-01\u{e9}00:00"), None);
        assert_eq!(parse_date("2022-01-01 \u{e9}"), None);
    }

    #[test]
    fn dates_with_and_without_times() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("1970-01-02 23:59:59"), Some(1));
        assert_eq!(parse_date("1970-01-02 23:59:59.997"), Some(1));
        assert_eq!(parse_date("1970-01-02T00:00:00"), Some(1));
        assert_eq!(parse_date("1900-01-01"), Some(-25567));
        assert_eq!(parse_date("2022-02-30"), None);
        assert_eq!(parse_date("01/02/2022"), None);
        assert_eq!(parse_date("2022-01-01 nonsense"), None);
    }

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    fn source_with(name: &str, text: &str) -> (tempfile::TempDir, FileSource) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), name, text);
        let s = FileSource::new(dir.path());
        (dir, s)
    }

    #[test]
    fn csv_is_typed_to_the_contract_with_bom_and_blank_fields() {
        let (_d, s) = source_with(
            "ssd_cp_plans.csv",
            "\u{feff}cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date,pers_name\n\
             P1, 7 ,2021-03-04 10:11:12,,Secret Name\n",
        );
        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let read = s.read_counting(&t).unwrap();
        let batches: Vec<_> = read.batches.collect::<Result<_, _>>().unwrap();
        assert_eq!(read.rows_with_times.load(Ordering::Relaxed), 1);
        let b = &batches[0];
        assert_eq!(b.num_rows(), 1);
        assert_eq!(b.num_columns(), 4, "columns outside the contract are never read");
        assert_eq!(b.column(1).as_string::<i32>().value(0), " 7 ", "text is taken as written");
        let start = b.column(2).as_primitive::<Date32Type>().value(0);
        assert_eq!(start, parse_date("2021-03-04").unwrap());
        assert!(b.column(3).is_null(0));
    }

    #[test]
    fn a_missing_column_is_named() {
        let (_d, s) = source_with("ssd_cp_plans.csv", "cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date\n");
        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let e = s.read(&t).err().unwrap().to_string();
        assert!(e.contains("ssd_cp_plans.csv") && e.contains("`cppl_cp_plan_end_date`"), "{e}");
    }

    #[test]
    fn an_optional_column_may_be_absent() {
        let (_d, s) = source_with("ssd_person.csv", "pers_person_id,pers_dob\n1,2010-01-01\n");
        let t = crate::Contract::builtin().table("ssd_person").unwrap().clone();
        let b = s.read(&t).unwrap().next().unwrap().unwrap();
        assert_eq!(b.num_columns(), 5);
        assert!(b.column(2).is_null(0));
    }

    #[test]
    fn an_invalid_date_names_file_line_and_column_never_the_value() {
        let (_d, s) = source_with(
            "ssd_cp_plans.csv",
            "cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date\nP1,1,2021-01-01,\nP2,2,2021-02-31,\n",
        );
        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let e = s.read(&t).unwrap().find_map(Result::err).unwrap().to_string();
        assert!(
            e.contains("ssd_cp_plans.csv:3") && e.contains("cppl_cp_plan_start_date") && !e.contains("2021-02-31"),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_line_is_named() {
        let (_d, s) = source_with(
            "ssd_cp_plans.csv",
            "cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date,cppl_cp_plan_end_date\nP1,1,2021-01-01\n",
        );
        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let e = s.read(&t).unwrap().find_map(Result::err).unwrap().to_string();
        assert!(e.contains("ssd_cp_plans.csv:2"), "{e}");
    }

    #[test]
    fn a_missing_table_is_named_and_all_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileSource::new(dir.path());
        let errs = s.check(&crate::Contract::builtin().tables).unwrap_err();
        assert_eq!(errs.len(), 16);
        assert!(errs[0].to_string().contains("`ssd_person` is missing"));
    }
}

#[cfg(test)]
mod parquet_tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Int64Array, StringArray, TimestampSecondArray};
    use datafusion::arrow::datatypes::{Date32Type, Field, Schema, TimeUnit};
    use datafusion::parquet::arrow::ArrowWriter;

    #[test]
    fn parquet_is_cast_to_the_contract_types() {
        let dir = tempfile::tempdir().unwrap();
        // As a Mosaic build might export it: integer ids, DATETIME as timestamps, an extra column.
        let schema = Arc::new(Schema::new(vec![
            Field::new("cppl_cp_plan_id", DataType::Int64, false),
            Field::new("cppl_person_id", DataType::Utf8, true),
            Field::new("cppl_cp_plan_start_date", DataType::Timestamp(TimeUnit::Second, None), true),
            Field::new("cppl_cp_plan_end_date", DataType::Timestamp(TimeUnit::Second, None), true),
            Field::new("pers_name", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![42])),
                Arc::new(StringArray::from(vec![Some("P1")])),
                // 2021-03-04 10:11:12 UTC
                Arc::new(TimestampSecondArray::from(vec![Some(1_614_852_672)])),
                Arc::new(TimestampSecondArray::from(vec![None::<i64>])),
                Arc::new(StringArray::from(vec![Some("Secret Name")])),
            ],
        )
        .unwrap();
        let f = File::create(dir.path().join("ssd_cp_plans.parquet")).unwrap();
        let mut w = ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();

        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let b = FileSource::new(dir.path()).read(&t).unwrap().next().unwrap().unwrap();
        assert_eq!(b.schema(), t.schema());
        assert_eq!(b.column(0).as_string::<i32>().value(0), "42");
        assert_eq!(b.column(2).as_primitive::<Date32Type>().value(0), parse_date("2021-03-04").unwrap());
        assert!(b.column(3).is_null(0));
    }

    #[test]
    fn a_parquet_column_of_the_wrong_type_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("cppl_cp_plan_id", DataType::Utf8, true),
            Field::new("cppl_person_id", DataType::Utf8, true),
            Field::new("cppl_cp_plan_start_date", DataType::Float64, true),
            Field::new("cppl_cp_plan_end_date", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["X"])),
                Arc::new(StringArray::from(vec!["P"])),
                Arc::new(datafusion::arrow::array::Float64Array::from(vec![1.5])),
                Arc::new(StringArray::from(vec!["2021-01-01"])),
            ],
        )
        .unwrap();
        let f = File::create(dir.path().join("ssd_cp_plans.parquet")).unwrap();
        let mut w = ArrowWriter::try_new(f, schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let t = crate::Contract::builtin().table("ssd_cp_plans").unwrap().clone();
        let e = FileSource::new(dir.path()).read(&t).unwrap().next().unwrap().unwrap_err().to_string();
        assert!(e.contains("cppl_cp_plan_start_date") && e.contains("Float64"), "{e}");
    }
}
