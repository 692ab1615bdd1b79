//! Measure unit tests: YAML files beside the SQL (`sql/measures/tests/*.yaml`) that give a few
//! source rows, run one measure in memory and compare its rows with the expected ones.
//!
//! ```yaml
//! measure: referrals_new
//! cases:
//!   - name: a referral on the last day of the month counts
//!     period: 2022-01
//!     given:
//!       ssd_cin_episodes:
//!         - { cine_referral_id: R1, cine_person_id: P1, cine_referral_date: 2022-01-31 }
//!     expect:
//!       - { period: 2022-01, org_unit: ALL, numerator: 1 }
//! ```
//! Columns not given are NULL. Only the periods named in `expect` are compared unless
//! `trend_months` is given, in which case every computed row is compared.

use datafusion::arrow::array::{ArrayRef, Date32Builder, RecordBatch, StringBuilder};
use datafusion::datasource::MemTable;
use scrutiny_core::{Period, WorkingDayCalendar};
use scrutiny_extract::contract::{ContractTable, Kind};
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::run_measure;
use crate::project::Project;
use crate::reference::TeamMap;
use crate::session::{Inputs, Models, Readers, Streams, register_models, session};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The measure under test; absent for a test of the data-quality rules.
    #[serde(default)]
    pub measure: Option<String>,
    pub cases: Vec<TestCase>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    pub period: String,
    #[serde(default)]
    pub trend_months: Option<u32>,
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
    /// `team_id, org_unit, org_unit_kind` rows; none by default.
    #[serde(default)]
    pub team_map: Vec<[String; 3]>,
    /// Extra non-working days besides the shipped bank holidays.
    #[serde(default)]
    pub closure_days: Vec<String>,
    #[serde(default)]
    pub given: BTreeMap<String, Vec<BTreeMap<String, Value>>>,
    #[serde(default)]
    pub expect: Vec<ExpectedRow>,
    /// For data-quality tests: the rules that must count rows; every other rule must count 0.
    #[serde(default)]
    pub expect_quality: Vec<ExpectedQuality>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct ExpectedQuality {
    pub table_name: String,
    pub rule: String,
    pub rows_affected: i64,
}

#[derive(Debug, Clone, Deserialize, PartialEq, PartialOrd)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRow {
    pub period: String,
    #[serde(default = "all")]
    pub org_unit: String,
    #[serde(default)]
    pub category: Option<String>,
    pub numerator: Option<i64>,
    #[serde(default)]
    pub denominator: Option<i64>,
}

fn all() -> String {
    "ALL".into()
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    pub file: PathBuf,
    pub measure: String,
    pub name: String,
    /// `None` when it passed; otherwise what went wrong, readable.
    pub failure: Option<String>,
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(serde_yaml::to_string(other).unwrap_or_default().trim().to_string()),
    }
}

fn batch_for(table: &ContractTable, rows: &[BTreeMap<String, Value>]) -> Result<RecordBatch, String> {
    for r in rows {
        for k in r.keys() {
            if !table.columns.iter().any(|c| &c.name == k) {
                return Err(format!("`{k}` is not a column of {}", table.name));
            }
        }
    }
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for c in &table.columns {
        match c.kind {
            Kind::Text => {
                let mut b = StringBuilder::new();
                for r in rows {
                    b.append_option(r.get(&c.name).and_then(scalar_text));
                }
                arrays.push(Arc::new(b.finish()));
            }
            Kind::Date => {
                let mut b = Date32Builder::new();
                for r in rows {
                    match r.get(&c.name).and_then(scalar_text) {
                        None => b.append_null(),
                        Some(s) => b.append_value(
                            scrutiny_extract::files::parse_date(&s)
                                .ok_or_else(|| format!("{}: `{s}` is not a date", c.name))?,
                        ),
                    }
                }
                arrays.push(Arc::new(b.finish()));
            }
        }
    }
    RecordBatch::try_new(table.schema(), arrays).map_err(|e| e.to_string())
}

fn fmt_row(r: &ExpectedRow) -> String {
    let o = |v: Option<i64>| v.map_or("NULL".to_string(), |n| n.to_string());
    format!(
        "period={} org_unit={} category={} numerator={} denominator={}",
        r.period,
        r.org_unit,
        r.category.as_deref().unwrap_or("NULL"),
        o(r.numerator),
        o(r.denominator)
    )
}

/// A readable difference between expected and actual rows (both sorted).
pub fn diff(expected: &[ExpectedRow], actual: &[ExpectedRow]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let mut out = String::from("rows differ (- expected, + actual):\n");
    for e in expected {
        if !actual.contains(e) {
            out.push_str(&format!("  - {}\n", fmt_row(e)));
        }
    }
    for a in actual {
        if !expected.contains(a) {
            out.push_str(&format!("  + {}\n", fmt_row(a)));
        }
    }
    Some(out)
}

/// A session with the case's rows as the source tables, the staging models built for `measure`
/// (or for the quality rules alone).
async fn case_session(
    project: &Project,
    case: &TestCase,
    holidays: &[chrono::NaiveDate],
    measure: Option<&str>,
) -> Result<(datafusion::execution::context::SessionContext, Inputs, Streams), String> {
    let period: Period = case.period.parse().map_err(|e| format!("{e}"))?;
    let mut days = holidays.to_vec();
    for d in &case.closure_days {
        days.push(d.parse().map_err(|_| format!("closure day `{d}` is not a date"))?);
    }
    let vars = project
        .resolve_vars(&case.vars, Path::new("test case"))
        .map_err(|e| e.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; "))?;
    let inputs = Inputs {
        period,
        trend_months: case.trend_months.unwrap_or(1),
        calendar: Arc::new(WorkingDayCalendar::new(days)),
        vars,
        targets: BTreeMap::new(),
        team_map: TeamMap { teams: case.team_map.iter().map(|[t, o, k]| (t.clone(), o.clone(), k.clone())).collect() },
        code_map: crate::reference::builtin_code_map().map_err(|e| e.to_string())?,
        code_sets: crate::reference::builtin_code_sets().map_err(|e| e.to_string())?,
        tables: Vec::new(),
        stores: Vec::new(),
        select: Some(measure.into_iter().map(String::from).collect()),
        run_id: "test".into(),
        compute: Default::default(),
        benchmarks: None,
    };
    let ctx = session(&inputs).map_err(|e| e.to_string())?;
    for name in case.given.keys() {
        if project.contract.table(name).is_none() {
            return Err(format!("`{name}` is not a source table"));
        }
    }
    for t in &project.contract.tables {
        let rows = case.given.get(&t.name).map(Vec::as_slice).unwrap_or(&[]);
        let batch = batch_for(t, rows)?;
        let mem = MemTable::try_new(t.schema(), vec![vec![batch]]).map_err(|e| e.to_string())?;
        ctx.register_table(t.name.as_str(), Arc::new(mem)).map_err(|e| e.to_string())?;
    }
    let readers = Readers { measures: inputs.select.as_deref() };
    let streams =
        register_models(&ctx, project, &inputs.vars, Models::InMemory, readers).await.map_err(|e| e.to_string())?;
    Ok((ctx, inputs, streams))
}

async fn run_quality_case(
    project: &Project,
    case: &TestCase,
    holidays: &[chrono::NaiveDate],
) -> Result<Option<String>, String> {
    let (ctx, inputs, _streams) = case_session(project, case, holidays, None).await?;
    let rows =
        crate::engine::run_quality(&ctx, project, &inputs.vars, Models::InMemory).await.map_err(|e| e.to_string())?;
    let mut out = String::new();
    for e in &case.expect_quality {
        match rows.iter().find(|r| r.table_name == e.table_name && r.rule == e.rule) {
            None => out.push_str(&format!("  no rule `{}` for {}\n", e.rule, e.table_name)),
            Some(r) if r.rows_affected != e.rows_affected => out.push_str(&format!(
                "  {} {}: expected {}, counted {}\n",
                e.table_name, e.rule, e.rows_affected, r.rows_affected
            )),
            Some(_) => {}
        }
    }
    for r in &rows {
        let listed = case.expect_quality.iter().any(|e| e.table_name == r.table_name && e.rule == r.rule);
        if !listed && r.rows_affected != 0 {
            out.push_str(&format!("  {} {}: expected 0, counted {}\n", r.table_name, r.rule, r.rows_affected));
        }
    }
    Ok((!out.is_empty()).then(|| format!("data-quality counts differ:\n{out}")))
}

async fn run_case(
    project: &Project,
    measure: &str,
    case: &TestCase,
    holidays: &[chrono::NaiveDate],
) -> Result<Option<String>, String> {
    let m = project.measures.iter().find(|m| m.meta.id == measure).ok_or_else(|| format!("no measure `{measure}`"))?;
    let (ctx, inputs, _streams) = case_session(project, case, holidays, Some(measure)).await?;
    let rows = run_measure(&ctx, m, &inputs, Models::InMemory).await.map_err(|e| e.to_string())?;
    let mut actual: Vec<ExpectedRow> = rows
        .into_iter()
        .map(|r| ExpectedRow {
            period: r.period,
            org_unit: r.org_unit,
            category: r.category,
            numerator: r.numerator,
            denominator: r.denominator,
        })
        .filter(|r| case.trend_months.is_some() || case.expect.iter().any(|e| e.period == r.period))
        .collect();
    let mut expected = case.expect.clone();
    let key = |a: &ExpectedRow, b: &ExpectedRow| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
    actual.sort_by(key);
    expected.sort_by(key);
    Ok(diff(&expected, &actual))
}

/// One case of a test file, ready to run on its own.
#[derive(Debug, Clone)]
pub struct Case {
    pub file: PathBuf,
    /// The measure under test; `None`: the data-quality rules.
    pub measure: Option<String>,
    case: TestCase,
}

impl Case {
    /// What the case tests: the measure's id, or `data quality`.
    pub fn subject(&self) -> String {
        self.measure.clone().unwrap_or_else(|| "data quality".to_string())
    }

    pub fn name(&self) -> &str {
        &self.case.name
    }

    /// Runs the case: `Ok(None)` when it passed, `Ok(Some(diff))` when its rows differ.
    pub async fn run(&self, project: &Project) -> Result<Option<String>, String> {
        let holidays = WorkingDayCalendar::read_holidays_csv(scrutiny_core::BANK_HOLIDAYS_CSV, "bank holidays")
            .map_err(|e| e.to_string())?;
        match &self.measure {
            Some(m) => run_case(project, m, &self.case, &holidays).await,
            None => run_quality_case(project, &self.case, &holidays).await,
        }
    }
}

/// Every case of the test files in `dir` (those whose measure or file name holds `pattern`).
pub fn cases(dir: &Path, pattern: Option<&str>) -> Result<Vec<Case>, String> {
    let files = scrutiny_core::fs::yaml_files(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let tf: TestFile = serde_yaml::from_str(&text)
            .map_err(|e| format!("{}:{}: {e}", file.display(), e.location().map_or(1, |l| l.line())))?;
        let fname = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let subject = tf.measure.clone().unwrap_or_else(|| "data quality".to_string());
        if pattern.is_some_and(|p| !subject.contains(p) && !fname.contains(p)) {
            continue;
        }
        for case in tf.cases {
            out.push(Case { file: file.clone(), measure: tf.measure.clone(), case });
        }
    }
    Ok(out)
}

/// Runs every case of the test files in `dir`.
pub async fn run_tests(project: &Project, dir: &Path, pattern: Option<&str>) -> Result<Vec<CaseResult>, String> {
    let mut results = Vec::new();
    for case in cases(dir, pattern)? {
        let failure = match case.run(project).await {
            Ok(d) => d,
            Err(e) => Some(format!("error: {e}")),
        };
        results.push(CaseResult {
            file: case.file.clone(),
            measure: case.subject(),
            name: case.name().to_string(),
            failure,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod hostile_input {
    use super::*;

    proptest::proptest! {
        /// Any YAML test file gives cases or an error, and any rows it gives a batch or an
        /// error: never a panic.
        #[test]
        fn any_test_file_parses_or_is_refused(
            measure in "[a-z_]{0,12}",
            period in "\\PC{0,10}",
            value in proptest::prop_oneof![
                proptest::strategy::Just("2021-12-31".to_string()),
                proptest::strategy::Just("~".to_string()),
                proptest::strategy::Just("[1, 2]".to_string()),
                proptest::strategy::Just("{a: b}".to_string()),
                proptest::strategy::Just("99999999999999999999".to_string()),
                "\\PC{0,16}"
            ],
            column in proptest::prop_oneof![
                proptest::strategy::Just("pers_dob".to_string()),
                proptest::strategy::Just("pers_person_id".to_string()),
                "[a-z_]{1,12}"
            ],
        ) {
            let text = format!(
                "measure: {measure}\ncases:\n  - name: t\n    period: \"{}\"\n    given:\n      ssd_person:\n        - {column}: {value}\n    expect: []\n",
                period.replace('"', "")
            );
            if let Ok(tf) = serde_yaml::from_str::<TestFile>(&text) {
                for case in &tf.cases {
                    let _ = case.period.parse::<Period>();
                    for (name, rows) in &case.given {
                        if let Some(t) = scrutiny_extract::Contract::builtin().table(name) {
                            let _ = batch_for(t, rows);
                        }
                    }
                }
            }
        }

        /// Arbitrary text as a test file: parsed or refused.
        #[test]
        fn any_text_as_a_test_file(text in "\\PC{0,300}") {
            let _ = serde_yaml::from_str::<TestFile>(&text);
        }
    }
}
