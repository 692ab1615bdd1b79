//! The SQL project under `sql/`: variables, staging models, data-quality rules and measures.
//!
//! A measure is one `sql/measures/<id>.sql` file that opens with its metadata as YAML in a
//! `/*--- ... ---*/` comment, followed by one `SELECT` returning
//! `period, org_unit, category, numerator, denominator`.

use serde::{Deserialize, Serialize};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::DefinitionError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// `value = numerator`; `denominator` is NULL.
    Count,
    /// `value = numerator / denominator`, a fraction; NULL when the denominator is 0.
    Rate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    HigherIsBetter,
    LowerIsBetter,
    Neutral,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "count",
            Unit::Rate => "rate",
        }
    }
}

impl Polarity {
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::HigherIsBetter => "higher_is_better",
            Polarity::LowerIsBetter => "lower_is_better",
            Polarity::Neutral => "neutral",
        }
    }
}

/// A measure's metadata, written at the top of its SQL file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureMeta {
    pub id: String,
    pub title: String,
    /// The report's section: Referrals, Assessments, ...
    pub area: String,
    pub unit: Unit,
    pub polarity: Polarity,
    pub target: Option<f64>,
    /// Computed for the run's own period only; earlier periods are carried over.
    #[serde(default)]
    pub snapshot: bool,
    /// The code set (of `code_sets`) whose codes are this measure's categories, labelled in
    /// the mart's `categories` table.
    #[serde(default)]
    pub categories: Option<String>,
    /// Position in the report.
    pub order: u32,
    pub description: String,
    /// The DfE's published comparator for this measure (LAIT), if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<crate::benchmarks::BenchmarkMeta>,
}

#[derive(Debug, Clone)]
pub struct Measure {
    pub meta: MeasureMeta,
    pub file: PathBuf,
    /// The SQL after the metadata block, with `{{ var(...) }}` not yet rendered.
    pub sql: String,
    /// Line of the file where `sql` starts, so messages point into the file.
    pub first_line: usize,
}

/// A staging model (a view) or a data-quality rule: a named `SELECT`.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub file: PathBuf,
    pub sql: String,
}

/// A variable of `sql/vars.yaml`: a council setting the SQL reads with `{{ var('name') }}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarDecl {
    pub default: Value,
    pub description: String,
    /// When given, the only values allowed.
    #[serde(default)]
    pub allowed: Vec<Value>,
}

#[derive(Debug, Clone)]
pub struct Project {
    pub dir: PathBuf,
    /// The source contract, `sources.yaml`: the tables and columns the SQL may read.
    pub contract: scrutiny_extract::Contract,
    pub vars: BTreeMap<String, VarDecl>,
    pub models: Vec<Model>,
    pub quality: Vec<Model>,
    pub measures: Vec<Measure>,
}

/// The `.sql` files under `dir`, in subdirectories too (a council may group measures by area),
/// sorted by path.
fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for p in rd.filter_map(Result::ok).map(|e| e.path()) {
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|e| e == "sql") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn stem(p: &Path) -> String {
    p.file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string()
}

/// Splits a measure file into its metadata block and its SQL.
pub fn parse_measure(file: &Path, text: &str) -> Result<Measure, Vec<DefinitionError>> {
    let err = |line, msg: String| vec![DefinitionError::new(file, line, msg)];
    let trimmed = text.trim_start();
    let lead_lines = text[..text.len() - trimmed.len()].matches('\n').count();
    let Some(rest) = trimmed.strip_prefix("/*---") else {
        return Err(err(1, "a measure starts with its metadata in a `/*--- ... ---*/` block".into()));
    };
    let Some(end) = rest.find("---*/") else {
        return Err(err(lead_lines + 1, "the metadata block is not closed with `---*/`".into()));
    };
    let yaml = &rest[..end];
    let mut sql = &rest[end + 5..];
    // The SQL starts on the line after the metadata block closes.
    let mut skipped_newline = 0;
    if let Some(after) = sql.strip_prefix("\r\n").or_else(|| sql.strip_prefix('\n')) {
        sql = after;
        skipped_newline = 1;
    }
    let first_line = lead_lines + 1 + trimmed[..5 + end + 5].matches('\n').count() + skipped_newline;
    let meta: MeasureMeta = match serde_yaml::from_str(yaml) {
        Ok(m) => m,
        Err(e) => {
            let line = lead_lines + 1 + e.location().map_or(0, |l| l.line());
            return Err(err(line, format!("metadata: {e}")));
        }
    };
    let mut errors = Vec::new();
    if meta.id != stem(file) {
        errors.push(DefinitionError::new(
            file,
            lead_lines + 2,
            format!("id `{}` must match the file name `{}.sql`", meta.id, stem(file)),
        ));
    }
    if meta.unit == Unit::Rate && meta.target.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
        errors.push(DefinitionError::new(file, lead_lines + 2, "a rate's target is a fraction between 0 and 1"));
    }
    if sql.trim().is_empty() {
        errors.push(DefinitionError::new(file, first_line, "no SQL after the metadata block"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Measure { meta, file: file.to_path_buf(), sql: sql.to_string(), first_line })
}

impl Project {
    /// Reads every definition under `dir`, reporting every mistake at once.
    pub fn load(dir: &Path) -> Result<Self, Vec<DefinitionError>> {
        let mut errors = Vec::new();
        let vars_file = dir.join("vars.yaml");
        let vars = match std::fs::read_to_string(&vars_file) {
            Ok(text) => match serde_yaml::from_str::<BTreeMap<String, VarDecl>>(&text) {
                Ok(v) => v,
                Err(e) => {
                    errors.push(DefinitionError::new(&vars_file, e.location().map_or(1, |l| l.line()), e.to_string()));
                    BTreeMap::new()
                }
            },
            Err(_) => BTreeMap::new(),
        };
        let contract = match scrutiny_extract::Contract::load(&dir.join("sources.yaml")) {
            Ok(c) => Some(c),
            Err(scrutiny_extract::ExtractError::BadContract { file, line, message }) => {
                errors.push(DefinitionError::new(file, line, message));
                None
            }
            Err(e) => {
                errors.push(DefinitionError::new(dir.join("sources.yaml"), 0, e.to_string()));
                None
            }
        };
        let read = |p: &Path, errors: &mut Vec<DefinitionError>| match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                errors.push(DefinitionError::new(p, 1, format!("cannot read: {e}")));
                None
            }
        };
        let mut models = Vec::new();
        for file in sql_files(&dir.join("staging")) {
            if let Some(sql) = read(&file, &mut errors) {
                models.push(Model { name: stem(&file), file, sql });
            }
        }
        let mut quality = Vec::new();
        for file in sql_files(&dir.join("quality")) {
            if let Some(sql) = read(&file, &mut errors) {
                quality.push(Model { name: stem(&file), file, sql });
            }
        }
        let mut measures: Vec<Measure> = Vec::new();
        for file in sql_files(&dir.join("measures")) {
            let Some(text) = read(&file, &mut errors) else {
                continue;
            };
            match parse_measure(&file, &text) {
                Ok(m) => {
                    if let Some(other) = measures.iter().find(|o| o.meta.id == m.meta.id) {
                        errors.push(DefinitionError::new(
                            &file,
                            2,
                            format!("duplicate measure id `{}` (also {})", m.meta.id, other.file.display()),
                        ));
                    }
                    measures.push(m);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if measures.is_empty() && errors.is_empty() {
            errors.push(DefinitionError::new(dir.join("measures"), 0, "no measures (*.sql) found"));
        }
        measures.sort_by(|a, b| (a.meta.order, &a.meta.id).cmp(&(b.meta.order, &b.meta.id)));
        match contract {
            Some(contract) if errors.is_empty() => {
                Ok(Self { dir: dir.to_path_buf(), contract, vars, models, quality, measures })
            }
            _ => Err(errors),
        }
    }

    /// The variables' values: declared defaults, replaced by the settings' `measures.vars`.
    pub fn resolve_vars(
        &self,
        overrides: &BTreeMap<String, Value>,
        settings_file: &Path,
    ) -> Result<BTreeMap<String, Value>, Vec<DefinitionError>> {
        let mut out: BTreeMap<String, Value> = self.vars.iter().map(|(k, v)| (k.clone(), v.default.clone())).collect();
        let mut errors = Vec::new();
        for (k, v) in overrides {
            match self.vars.get(k) {
                None => errors.push(DefinitionError::new(
                    settings_file,
                    0,
                    format!(
                        "measures.vars: unknown variable `{k}`; sql/vars.yaml declares {}",
                        self.vars.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )),
                Some(decl) if !decl.allowed.is_empty() && !decl.allowed.contains(v) => {
                    errors.push(DefinitionError::new(
                        settings_file,
                        0,
                        format!(
                            "measures.vars.{k}: {} is not one of {}",
                            render_literal(v),
                            decl.allowed.iter().map(render_literal).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                }
                Some(_) => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

/// A variable's value as SQL: strings quoted, lists as comma-separated literals for `IN (...)`.
pub fn render_literal(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Sequence(items) => items.iter().map(render_literal).collect::<Vec<_>>().join(", "),
        Value::Null => "NULL".into(),
        other => format!("'{}'", serde_yaml::to_string(other).unwrap_or_default().trim()),
    }
}

fn upper_trimmed(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(crate::udf::ascii_trim(s).to_uppercase()),
        Value::Sequence(items) => Value::Sequence(items.iter().map(upper_trimmed).collect()),
        other => other.clone(),
    }
}

/// Renders `{{ var('name') }}` (and `{{ var_upper('name') }}`) in a definition. Line breaks are kept, so line numbers in
/// messages still point into the file.
pub fn render(
    sql: &str,
    vars: &BTreeMap<String, Value>,
    file: &Path,
    first_line: usize,
) -> Result<String, DefinitionError> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    let lookup = |values: BTreeMap<String, String>| {
        move |name: String| -> Result<String, minijinja::Error> {
            values.get(&name).cloned().ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::UndefinedError,
                    format!("unknown variable `{name}` (declare it in sql/vars.yaml)"),
                )
            })
        }
    };
    env.add_function("var", lookup(vars.iter().map(|(k, v)| (k.clone(), render_literal(v))).collect()));
    // For lists compared "trimmed, ignoring case": each value trimmed and upper-cased.
    env.add_function(
        "var_upper",
        lookup(vars.iter().map(|(k, v)| (k.clone(), render_literal(&upper_trimmed(v)))).collect()),
    );
    env.render_str(sql, minijinja::context! {}).map_err(|e| {
        let line = first_line + e.line().unwrap_or(1) - 1;
        let detail = e.detail().map(str::to_string).unwrap_or_else(|| e.to_string());
        DefinitionError::new(file, line, detail)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "/*---\nid: referrals_new\ntitle: New referrals\narea: Referrals\nunit: count\npolarity: neutral\ntarget: ~\norder: 10\ndescription: x\n---*/\nSELECT 1\n";

    #[test]
    fn a_measure_file_splits_into_metadata_and_sql() {
        let m = parse_measure(Path::new("sql/measures/referrals_new.sql"), GOOD).unwrap();
        assert_eq!(m.meta.id, "referrals_new");
        assert_eq!(m.meta.unit, Unit::Count);
        assert_eq!(m.first_line, 11);
        assert_eq!(m.sql.trim(), "SELECT 1");
    }

    #[test]
    fn metadata_mistakes_are_located() {
        let e = parse_measure(
            Path::new("sql/measures/referrals_new.sql"),
            &GOOD.replace("order: 10", "order: 10\ncolour: red"),
        )
        .unwrap_err();
        assert!(e[0].to_string().contains("referrals_new.sql:") && e[0].message.contains("colour"), "{e:?}");
        let e = parse_measure(Path::new("sql/measures/other.sql"), GOOD).unwrap_err();
        assert!(e[0].message.contains("must match the file name"), "{e:?}");
        let e = parse_measure(Path::new("sql/measures/x.sql"), "SELECT 1").unwrap_err();
        assert!(e[0].message.contains("metadata"), "{e:?}");
    }

    #[test]
    fn variables_render_as_sql_literals() {
        let vars: BTreeMap<String, Value> = [
            ("roles".to_string(), serde_yaml::from_str("[CW, \"O'Neil\"]").unwrap()),
            ("threshold".to_string(), serde_yaml::from_str("20").unwrap()),
        ]
        .into_iter()
        .collect();
        let out = render("x IN ({{ var('roles') }})\nAND wd <= {{ var('threshold') }}", &vars, Path::new("f.sql"), 1)
            .unwrap();
        assert_eq!(out, "x IN ('CW', 'O''Neil')\nAND wd <= 20");
        let e = render("a\n{{ var('nope') }}", &vars, Path::new("f.sql"), 10).unwrap_err();
        assert_eq!(e.line, 11);
        assert!(e.message.contains("nope"), "{e}");
    }
}

#[cfg(test)]
mod hostile_input {
    use super::*;

    proptest::proptest! {
        /// Whatever a measure file holds, its metadata is read or refused with a line: never a
        /// panic (multi-byte characters around the markers included).
        #[test]
        fn any_measure_file_parses_or_is_refused(
            lead in "[ \\n\\r\\u{feff}]{0,3}",
            meta in "\\PC{0,120}",
            close in proptest::prop_oneof![
                proptest::strategy::Just("---*/".to_string()),
                proptest::strategy::Just("--*/".to_string()),
                proptest::strategy::Just("".to_string())
            ],
            sql in "\\PC{0,60}",
        ) {
            let text = format!("{lead}/*---{meta}{close}{sql}");
            if let Err(errors) = parse_measure(Path::new("sql/measures/m.sql"), &text) {
                assert!(!errors.is_empty());
            }
        }

        #[test]
        fn well_formed_metadata_with_odd_values(
            id in "[a-z_]{1,10}", unit in "\\PC{0,8}", target in "\\PC{0,8}", title in "\\PC{0,20}",
        ) {
            let text = format!(
                "/*---\nid: {id}\ntitle: \"{}\"\nunit: {unit}\ntarget: {target}\npolarity: up\n---*/\nSELECT 1\n",
                title.replace(['"', '\\'], "")
            );
            let _ = parse_measure(Path::new("sql/measures/m.sql"), &text);
        }
    }
}
