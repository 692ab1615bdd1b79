//! The source contract (`source-contract.md`): the SSD tables and the only columns read, loaded
//! from `sql/sources.yaml`, the one place that lists them.

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::ExtractError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Ids, codes, flags and free text: Utf8, taken as written.
    Text,
    /// Dates: Date32, any time of day dropped.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractTable {
    pub name: String,
    pub columns: Vec<ContractColumn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContractFile {
    tables: Vec<ContractTable>,
}

/// Every table of the contract, in the file's order. Tables are shared (`Arc`) because
/// extraction workers hold them while they stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contract {
    pub file: PathBuf,
    pub tables: Vec<Arc<ContractTable>>,
}

/// The contract shipped with the binary, for `synth` and tools that run without a project.
pub const BUILTIN_SOURCES_YAML: &str = include_str!("../../../sql/sources.yaml");

impl Contract {
    /// Reads `sources.yaml`.
    pub fn load(file: &Path) -> Result<Self, ExtractError> {
        let text = std::fs::read_to_string(file).map_err(|e| ExtractError::BadContract {
            file: file.to_path_buf(),
            line: 0,
            message: format!("cannot read the source contract: {e}"),
        })?;
        Self::parse(&text, file)
    }

    /// Parses contract YAML; every mistake names its line.
    pub fn parse(text: &str, file: &Path) -> Result<Self, ExtractError> {
        let bad = |line: usize, message: String| ExtractError::BadContract { file: file.to_path_buf(), line, message };
        let parsed: ContractFile =
            serde_yaml::from_str(text).map_err(|e| bad(e.location().map_or(0, |l| l.line()), e.to_string()))?;
        let line_of = |name: &str| text.lines().position(|l| l.contains(&format!("name: {name}"))).map_or(0, |i| i + 1);
        let mut seen = HashSet::new();
        for t in &parsed.tables {
            if !seen.insert(t.name.to_ascii_lowercase()) {
                return Err(bad(line_of(&t.name), format!("table `{}` is listed twice", t.name)));
            }
            if t.columns.is_empty() {
                return Err(bad(line_of(&t.name), format!("table `{}` has no columns", t.name)));
            }
            let mut cols = HashSet::new();
            for c in &t.columns {
                // Names reach SQL as identifiers and file headers: keep them plain.
                let plain = !c.name.is_empty() && c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
                if !plain {
                    return Err(bad(line_of(&c.name), format!("`{}`: a column name is letters, digits and _", c.name)));
                }
                if !cols.insert(c.name.to_ascii_lowercase()) {
                    return Err(bad(line_of(&c.name), format!("column `{}` of `{}` is listed twice", c.name, t.name)));
                }
            }
        }
        if parsed.tables.is_empty() {
            return Err(bad(1, "the contract lists no tables".into()));
        }
        Ok(Self { file: file.to_path_buf(), tables: parsed.tables.into_iter().map(Arc::new).collect() })
    }

    /// The contract built into the binary (`sql/sources.yaml` when it was built).
    pub fn builtin() -> &'static Contract {
        static BUILTIN: OnceLock<Contract> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Contract::parse(BUILTIN_SOURCES_YAML, Path::new("built-in sources.yaml"))
                .expect("the shipped contract parses")
        })
    }

    pub fn table(&self, name: &str) -> Option<&Arc<ContractTable>> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tables.iter().map(|t| t.name.as_str())
    }

    /// Only the named tables, in the contract's order: what a pipeline extracts.
    pub fn only(&self, names: &[String]) -> Contract {
        Contract {
            file: self.file.clone(),
            tables: self.tables.iter().filter(|t| names.iter().any(|n| n == &t.name)).cloned().collect(),
        }
    }
}

impl Kind {
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Date => DataType::Date32,
        }
    }
}

impl ContractTable {
    /// The Arrow schema the table is landed with: every contract column, nullable.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns.iter().map(|c| Field::new(&c.name, c.kind.data_type(), true)).collect::<Vec<_>>(),
        ))
    }

    pub fn column(&self, name: &str) -> Option<&ContractColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_contract_has_sixteen_tables() {
        let c = Contract::builtin();
        assert_eq!(c.tables.len(), 16);
        let person = c.table("ssd_person").unwrap();
        assert_eq!(person.columns[0].name, "pers_person_id");
        assert_eq!(person.column("pers_dob").unwrap().kind, Kind::Date);
        assert!(!person.column("pers_sex").unwrap().required);
    }

    #[test]
    fn a_mistake_in_the_contract_names_its_line() {
        let f = Path::new("sources.yaml");
        let twice =
            "tables:\n  - name: t\n    columns:\n      - { name: a, type: text }\n      - { name: a, type: date }\n";
        let e = Contract::parse(twice, f).unwrap_err().to_string();
        assert!(e.starts_with("sources.yaml:4:") && e.contains("listed twice"), "{e}");
        let kind = "tables:\n  - name: t\n    columns:\n      - { name: a, type: integer }\n";
        let e = Contract::parse(kind, f).unwrap_err().to_string();
        assert!(e.starts_with("sources.yaml:4:") && e.contains("integer"), "{e}");
        let unknown = "tables:\n  - name: t\n    colums: []\n";
        let e = Contract::parse(unknown, f).unwrap_err().to_string();
        assert!(e.contains("colums"), "{e}");
        let odd = "tables:\n  - name: t\n    columns:\n      - { name: \"a b\", type: text }\n";
        assert!(Contract::parse(odd, f).unwrap_err().to_string().contains("letters, digits"));
    }

    #[test]
    fn only_keeps_the_contracts_order() {
        let c = Contract::builtin().only(&["ssd_care_leavers".into(), "ssd_person".into()]);
        assert_eq!(c.names().collect::<Vec<_>>(), ["ssd_person", "ssd_care_leavers"]);
    }
}
