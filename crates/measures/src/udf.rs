//! Functions the SQL definitions call: the working-day calendar and the text rules of kpis.md.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Date32Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use scrutiny_core::WorkingDayCalendar;
use std::sync::Arc;

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_CE: i64 = 719_163;

/// Every function the definitions may call, ready to register.
pub fn all(calendar: Arc<WorkingDayCalendar>, codes: Arc<CodeBook>) -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(NormaliseCode::new(codes.clone(), "normalise_code")),
        ScalarUDF::from(NormaliseCode::new(codes, "is_unknown_code")),
        ScalarUDF::from(WorkingDays::new(calendar.clone())),
        ScalarUDF::from(AddWorkingDays::new(calendar)),
        ScalarUDF::from(TextRule::new("is_yes")),
        ScalarUDF::from(TextRule::new("ascii_trim")),
        ScalarUDF::from(RowHash::new()),
    ]
}

fn arrays(args: &ScalarFunctionArgs) -> Result<Vec<ArrayRef>> {
    ColumnarValue::values_to_arrays(&args.args)
}

/// A text argument as Utf8View, the type Parquet's text is read as. A literal's or an in-memory
/// table's Utf8 becomes views over the same bytes; the other way, Utf8View to Utf8, would copy
/// every value.
fn text_view(a: &ArrayRef) -> Result<ArrayRef> {
    Ok(datafusion::arrow::compute::cast(a, &DataType::Utf8View)?)
}

fn finish(args: &ScalarFunctionArgs, out: ArrayRef) -> Result<ColumnarValue> {
    let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    if scalar {
        Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?))
    } else {
        Ok(ColumnarValue::Array(out))
    }
}

/// `working_days(a, b)`: the working days `x` with `a < x <= b` (`wd` in kpis.md).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WorkingDays {
    calendar: Arc<WorkingDayCalendar>,
    signature: Signature,
}

impl WorkingDays {
    pub fn new(calendar: Arc<WorkingDayCalendar>) -> Self {
        Self { calendar, signature: Signature::exact(vec![DataType::Date32, DataType::Date32], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for WorkingDays {
    fn name(&self) -> &str {
        "working_days"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(&args)?;
        let (from, to) = (a[0].as_primitive::<Date32Type>(), a[1].as_primitive::<Date32Type>());
        let out: Int64Array = from
            .iter()
            .zip(to.iter())
            .map(|(x, y)| {
                Some(self.calendar.working_days_ce(i64::from(x?) + UNIX_EPOCH_CE, i64::from(y?) + UNIX_EPOCH_CE))
            })
            .collect();
        finish(&args, Arc::new(out))
    }
}

/// `add_working_days(d, n)`: the date `n` working days after `d`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AddWorkingDays {
    calendar: Arc<WorkingDayCalendar>,
    signature: Signature,
}

impl AddWorkingDays {
    pub fn new(calendar: Arc<WorkingDayCalendar>) -> Self {
        Self { calendar, signature: Signature::exact(vec![DataType::Date32, DataType::Int64], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for AddWorkingDays {
    fn name(&self) -> &str {
        "add_working_days"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(&args)?;
        let (dates, ns) = (a[0].as_primitive::<Date32Type>(), a[1].as_primitive::<Int64Type>());
        let mut out = Vec::with_capacity(dates.len());
        for (d, n) in dates.iter().zip(ns.iter()) {
            out.push(match (d, n) {
                (Some(d), Some(n)) => {
                    let Some(date) =
                        chrono::NaiveDate::from_num_days_from_ce_opt((i64::from(d) + UNIX_EPOCH_CE) as i32)
                    else {
                        return exec_err!("add_working_days: date out of range");
                    };
                    let r = self.calendar.add_working_days(date, n);
                    Some((i64::from(chrono::Datelike::num_days_from_ce(&r)) - UNIX_EPOCH_CE) as i32)
                }
                _ => None,
            });
        }
        finish(&args, Arc::new(Date32Array::from(out)))
    }
}

/// Trims leading and trailing ASCII whitespace (space, tab, CR, LF) only, as kpis.md's
/// "trimmed" says; SQL's `trim` removes spaces only.
pub fn ascii_trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// The flag rule: `Y`, `YES`, `TRUE` or `1`, trimmed and in any case.
pub fn is_yes(s: &str) -> bool {
    let t = ascii_trim(s);
    ["Y", "YES", "TRUE", "1"].iter().any(|y| t.eq_ignore_ascii_case(y))
}

/// `is_yes(flag)` (never NULL: a NULL flag is not Y) and `ascii_trim(text)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TextRule {
    name: &'static str,
    signature: Signature,
}

impl TextRule {
    fn new(name: &'static str) -> Self {
        Self { name, signature: Signature::string(1, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for TextRule {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.name == "is_yes" { DataType::Boolean } else { DataType::Utf8 })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(&args)?;
        let text = text_view(&a[0])?;
        let values = text.as_string_view().iter();
        let out: ArrayRef = match self.name {
            "is_yes" => Arc::new(values.map(|v| Some(v.is_some_and(is_yes))).collect::<BooleanArray>()),
            _ => Arc::new(values.map(|v| v.map(ascii_trim)).collect::<StringArray>()),
        };
        finish(&args, out)
    }
}

/// `row_hash(a, b, ...)`: a fingerprint of the values together, equal for rows equal in every
/// argument (NULL equal to NULL, as GROUP BY has it) and, for different rows, different but
/// for a chance of about 2^-126 per pair. The duplicate rules count distinct rows by it instead
/// of grouping by every column, which holds a copy of every distinct row.
///
/// The values are first written in arrow's row format (one byte string per row that is equal
/// exactly when the values are), then hashed twice with xxHash64 under two seeds. The result is
/// a DECIMAL(38, 0) of 126 bits (not negative, below 10^38), which GROUP BY handles as one
/// 16-byte number.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RowHash {
    signature: Signature,
}

impl RowHash {
    fn new() -> Self {
        Self { signature: Signature::variadic_any(Volatility::Immutable) }
    }
}

fn row_hash(row: &[u8]) -> i128 {
    use twox_hash::XxHash64;
    let hi = u128::from(XxHash64::oneshot(0x9E37_79B9_7F4A_7C15, row));
    let lo = u128::from(XxHash64::oneshot(0xC2B2_AE3D_27D4_EB4F, row));
    // 126 bits: every value fits DECIMAL(38, 0).
    (((hi << 64) | lo) >> 2) as i128
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "row_hash"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Decimal128(38, 0))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        use datafusion::arrow::row::{RowConverter, SortField};
        let columns = ColumnarValue::values_to_arrays(&args.args)?;
        if columns.is_empty() {
            return exec_err!("row_hash needs at least one value");
        }
        let converter = RowConverter::new(columns.iter().map(|c| SortField::new(c.data_type().clone())).collect())?;
        let rows = converter.convert_columns(&columns)?;
        let out = rows
            .iter()
            .map(|r| row_hash(r.as_ref()))
            .collect::<datafusion::arrow::array::Decimal128Array>()
            .with_precision_and_scale(38, 0)?;
        finish(&args, Arc::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_as_councils_write_them() {
        for y in ["Y", "y", " YES ", "True", "1", "\tyes\r\n"] {
            assert!(is_yes(y), "{y:?}");
        }
        for n in ["N", "No", "0", "", "Y ES", "\u{a0}Y"] {
            assert!(!is_yes(n), "{n:?}");
        }
    }

    fn hashes(columns: Vec<ArrayRef>) -> Vec<i128> {
        use datafusion::arrow::array::Decimal128Array;
        use datafusion::arrow::datatypes::Field;
        use datafusion::config::ConfigOptions;
        let number_rows = columns[0].len();
        let arg_fields = columns.iter().map(|c| Arc::new(Field::new("x", c.data_type().clone(), true))).collect();
        let args = ScalarFunctionArgs {
            args: columns.into_iter().map(ColumnarValue::Array).collect(),
            arg_fields,
            number_rows,
            return_field: Arc::new(Field::new("h", DataType::Decimal128(38, 0), false)),
            config_options: Arc::new(ConfigOptions::default()),
        };
        let ColumnarValue::Array(out) = RowHash::new().invoke_with_args(args).unwrap() else { panic!("an array") };
        out.as_any().downcast_ref::<Decimal128Array>().unwrap().values().to_vec()
    }

    #[test]
    fn row_hash_tells_rows_apart_only_by_their_values() {
        let ids: ArrayRef =
            Arc::new(StringArray::from(vec![Some("a"), Some("a"), None, Some(""), Some("ab"), Some("a")]));
        let tails: ArrayRef =
            Arc::new(StringArray::from(vec![Some("b"), Some("b"), Some("b"), Some("b"), None, Some("b ")]));
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![Some(1), Some(1), Some(1), Some(1), Some(1), Some(1)]));
        let h = hashes(vec![ids, tails, dates]);
        assert_eq!(h[0], h[1], "identical rows");
        // NULL is not '', "a","b" is not "ab",NULL, and a trailing space counts.
        for j in 2..h.len() {
            assert_ne!(h[0], h[j], "row {j}");
        }
        assert_ne!(h[2], h[3]);
        assert!(h.iter().all(|v| *v >= 0 && *v < 10i128.pow(38)), "every hash fits DECIMAL(38, 0)");
    }

    #[test]
    fn trim_is_ascii_whitespace_only() {
        assert_eq!(ascii_trim(" \t a b \r\n"), "a b");
        assert_eq!(ascii_trim("\u{a0}x"), "\u{a0}x");
    }
}

/// The known codes of each code set and the council's code map (kpis.md section 8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CodeBook {
    /// code set -> known codes, upper case.
    known: std::collections::BTreeMap<String, Vec<String>>,
    /// (code set, trimmed lower-case description) -> code.
    map: std::collections::BTreeMap<(String, String), String>,
}

/// How a code column's value was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalised {
    /// No value (NULL or blank).
    Missing,
    Code(String),
    /// A value that is neither a code, a code with a description, nor in the code map.
    Unknown,
}

impl CodeBook {
    /// `sets`: `(code_set, code)`; `map`: `(code_set, description, code)`.
    pub fn new<'a>(
        sets: impl IntoIterator<Item = (&'a str, &'a str)>,
        map: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        let mut known: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (set, code) in sets {
            known.entry(set.to_string()).or_default().push(code.trim().to_ascii_uppercase());
        }
        let map = map
            .into_iter()
            .map(|(set, desc, code)| ((set.to_string(), ascii_trim(desc).to_lowercase()), code.to_string()))
            .collect();
        Self { known, map }
    }

    pub fn has_set(&self, set: &str) -> bool {
        self.known.contains_key(set)
    }

    /// The section 8 rule: a known code; else a known code followed by a space, `-`, `:` or
    /// `)` (the longest wins); else the code map; else unknown.
    pub fn normalise(&self, set: &str, value: &str) -> Normalised {
        let v = ascii_trim(value);
        if v.is_empty() {
            return Normalised::Missing;
        }
        let upper = v.to_ascii_uppercase();
        let codes = self.known.get(set).map(Vec::as_slice).unwrap_or(&[]);
        if codes.contains(&upper) {
            return Normalised::Code(upper);
        }
        let prefixed = codes
            .iter()
            .filter(|c| {
                upper.starts_with(c.as_str())
                    && matches!(upper.as_bytes().get(c.len()), Some(b' ' | b'-' | b':' | b')'))
            })
            .max_by_key(|c| c.len());
        if let Some(c) = prefixed {
            return Normalised::Code(c.clone());
        }
        match self.map.get(&(set.to_string(), v.to_lowercase())) {
            Some(code) => Normalised::Code(code.clone()),
            None => Normalised::Unknown,
        }
    }
}

/// `normalise_code(code_set, value)`: the code a value stands for, or NULL when it is missing
/// or unknown. `is_unknown_code(code_set, value)` tells the two apart for the quality report.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct NormaliseCode {
    book: Arc<CodeBook>,
    name: &'static str,
    signature: Signature,
}

impl NormaliseCode {
    pub fn new(book: Arc<CodeBook>, name: &'static str) -> Self {
        Self { book, name, signature: Signature::string(2, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for NormaliseCode {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.name == "is_unknown_code" { DataType::Boolean } else { DataType::Utf8 })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let a = arrays(&args)?;
        let (sets, values) = (text_view(&a[0])?, text_view(&a[1])?);
        let (sets, values) = (sets.as_string_view(), values.as_string_view());
        // A code column holds a few dozen distinct values over millions of rows, so each distinct
        // (code set, value) of the batch is read once and its rows share the answer: trimming,
        // upper-casing and the prefix search per row cost about a tenth of a second per million.
        let mut first_seen: datafusion::common::HashMap<(&str, Option<&str>), usize> = Default::default();
        let mut answers: Vec<Normalised> = Vec::new();
        let mut rows: Vec<Option<usize>> = Vec::with_capacity(values.len());
        for (set, value) in sets.iter().zip(values.iter()) {
            let Some(set) = set else {
                rows.push(None);
                continue;
            };
            // A row with no value still names its set, so an unknown set is an error there too.
            let at = match first_seen.get(&(set, value)) {
                Some(&at) => at,
                None => {
                    if !self.book.has_set(set) {
                        return exec_err!("{}: unknown code set `{set}`", self.name);
                    }
                    answers.push(value.map_or(Normalised::Missing, |v| self.book.normalise(set, v)));
                    first_seen.insert((set, value), answers.len() - 1);
                    answers.len() - 1
                }
            };
            rows.push(Some(at));
        }
        let read = |row: &Option<usize>| row.map_or(&Normalised::Missing, |at| &answers[at]);
        let out: ArrayRef = if self.name == "is_unknown_code" {
            Arc::new(rows.iter().map(|r| Some(*read(r) == Normalised::Unknown)).collect::<BooleanArray>())
        } else {
            Arc::new(
                rows.iter()
                    .map(|r| match read(r) {
                        Normalised::Code(c) => Some(c.as_str()),
                        _ => None,
                    })
                    .collect::<StringArray>(),
            )
        };
        finish(&args, out)
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;

    fn book() -> CodeBook {
        CodeBook::new(
            [
                ("start", "S"),
                ("start", "L"),
                ("ceased", "E4A"),
                ("ceased", "E41"),
                ("ceased", "E4"),
                ("suit", "1"),
                ("suit", "2"),
            ],
            [("suit", "Suitable", "1"), ("suit", "Unsuitable", "2"), ("start", "Started to be looked after", "S")],
        )
    }

    #[test]
    fn codes_held_as_descriptions() {
        let b = book();
        assert_eq!(b.normalise("start", " s "), Normalised::Code("S".into()));
        assert_eq!(b.normalise("start", "S - Started to be looked after"), Normalised::Code("S".into()));
        assert_eq!(b.normalise("start", "L: legal status"), Normalised::Code("L".into()));
        assert_eq!(b.normalise("start", "l) legal status"), Normalised::Code("L".into()));
        assert_eq!(b.normalise("start", "started to be looked after "), Normalised::Code("S".into()));
        assert_eq!(b.normalise("start", "Sx"), Normalised::Unknown, "a code must be followed by a separator");
        assert_eq!(b.normalise("start", "Started"), Normalised::Unknown);
        assert_eq!(b.normalise("start", "  "), Normalised::Missing);
        assert_eq!(b.normalise("suit", "UNSUITABLE"), Normalised::Code("2".into()));
    }

    #[test]
    fn the_longest_prefix_wins() {
        let b = book();
        assert_eq!(b.normalise("ceased", "E41 - adopted"), Normalised::Code("E41".into()));
        assert_eq!(b.normalise("ceased", "E4A-x"), Normalised::Code("E4A".into()));
        assert_eq!(b.normalise("ceased", "E4 - x"), Normalised::Code("E4".into()));
    }

    fn invoke(name: &'static str, sets: Vec<Option<&str>>, values: Vec<Option<&str>>) -> Result<ArrayRef> {
        invoke_on(name, vec![Arc::new(StringArray::from(sets)), Arc::new(StringArray::from(values))])
    }

    fn invoke_on(name: &'static str, columns: Vec<ArrayRef>) -> Result<ArrayRef> {
        call(&NormaliseCode::new(Arc::new(book()), name), columns)
    }

    /// `udf` over whole columns, as a plan calls it.
    fn call(udf: &dyn ScalarUDFImpl, columns: Vec<ArrayRef>) -> Result<ArrayRef> {
        use datafusion::arrow::datatypes::Field;
        let number_rows = columns[0].len();
        let args = ScalarFunctionArgs {
            arg_fields: columns.iter().map(|c| Arc::new(Field::new("x", c.data_type().clone(), true))).collect(),
            args: columns.into_iter().map(ColumnarValue::Array).collect(),
            number_rows,
            return_field: Arc::new(Field::new("out", DataType::Utf8, true)),
            config_options: Default::default(),
        };
        match udf.invoke_with_args(args)? {
            ColumnarValue::Array(out) => Ok(out),
            ColumnarValue::Scalar(_) => panic!("an array"),
        }
    }

    /// Each distinct value of a batch is read once: rows repeating a value, in either code set,
    /// and NULL rows between them must each still get their own answer.
    #[test]
    fn a_batch_of_repeated_values_gives_each_row_its_own_code() {
        let sets = vec![Some("start"), Some("suit"), Some("start"), Some("start"), None, Some("suit"), Some("start")];
        let values = vec![Some("s"), Some("s"), Some("Sx"), Some("s"), Some("s"), Some("unsuitable"), None];
        let out = invoke("normalise_code", sets.clone(), values.clone()).unwrap();
        let codes: Vec<Option<&str>> = out.as_string::<i32>().iter().collect();
        assert_eq!(codes, vec![Some("S"), None, None, Some("S"), None, Some("2"), None]);
        let out = invoke("is_unknown_code", sets, values).unwrap();
        let unknown: Vec<Option<bool>> = out.as_boolean().iter().collect();
        let expected = [false, true, true, false, false, false, false];
        assert_eq!(unknown, expected.map(Some));
    }

    /// Parquet's text arrives as Utf8View and is read as it is, not copied into Utf8 first.
    #[test]
    fn codes_read_from_parquet_text_are_the_same() {
        use datafusion::arrow::array::StringViewArray;
        let values: ArrayRef =
            Arc::new(StringViewArray::from(vec![Some(" s "), None, Some("Started to be looked after")]));
        let sets: ArrayRef = Arc::new(StringViewArray::from(vec![Some("start"); 3]));
        let out = invoke_on("normalise_code", vec![sets, values.clone()]).unwrap();
        assert_eq!(out.as_string::<i32>().iter().collect::<Vec<_>>(), vec![Some("S"), None, Some("S")]);
        let out = call(&TextRule::new("ascii_trim"), vec![values]).unwrap();
        assert_eq!(
            out.as_string::<i32>().iter().collect::<Vec<_>>(),
            vec![Some("s"), None, Some("Started to be looked after")]
        );
    }

    #[test]
    fn an_unknown_code_set_is_named_even_on_a_row_with_no_value() {
        let e = invoke("normalise_code", vec![Some("start"), Some("nope")], vec![Some("S"), None]).unwrap_err();
        assert!(e.to_string().contains("unknown code set `nope`"), "{e}");
    }
}
