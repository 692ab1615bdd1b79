//! Reference data: the team map (which org unit a team is in), the council's code map and the
//! SSDA903 code sets, and the copies of them built into the binary, loaded in one place.

use std::collections::HashSet;
use std::path::Path;

use crate::error::MeasureError;

/// A row of the team map: which org unit a team belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgUnit {
    pub org_unit: String,
    /// `all`, `locality`, `service` or `unknown`.
    pub kind: String,
    pub sort_order: u32,
}

#[derive(Debug, Clone, Default)]
pub struct TeamMap {
    /// `(team_id, org_unit, kind)`, the first row of each team.
    pub teams: Vec<(String, String, String)>,
}

impl TeamMap {
    /// Reads `team_id,org_unit,org_unit_kind`. A team listed twice keeps its first row.
    pub fn read(path: &Path) -> Result<Self, MeasureError> {
        let bad = |message: String| MeasureError::Reference { file: path.to_path_buf(), message };
        let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let pos = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| bad(format!("no `{name}` column")));
        let (t, o, k) = (pos("team_id")?, pos("org_unit")?, pos("org_unit_kind")?);
        let mut seen = HashSet::new();
        let mut teams = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            let line = rec.position().map_or(0, |p| p.line());
            let kind = rec.get(k).unwrap_or("").trim().to_ascii_lowercase();
            if kind != "locality" && kind != "service" {
                return Err(bad(format!("line {line}: org_unit_kind must be `locality` or `service`, not `{kind}`")));
            }
            let team = rec.get(t).unwrap_or("").to_string();
            let org = rec.get(o).unwrap_or("").to_string();
            if org.is_empty() || org == "ALL" || org == "UNKNOWN" {
                return Err(bad(format!("line {line}: `{org}` cannot be an org unit name")));
            }
            if seen.insert(team.clone()) {
                teams.push((team, org, kind));
            }
        }
        Ok(Self { teams })
    }

    /// `ALL`, every org unit of the map in order of first appearance, then `UNKNOWN`.
    pub fn org_units(&self) -> Vec<OrgUnit> {
        let mut out = vec![OrgUnit { org_unit: "ALL".into(), kind: "all".into(), sort_order: 0 }];
        for (_, org, kind) in &self.teams {
            if !out.iter().any(|o| &o.org_unit == org) {
                out.push(OrgUnit { org_unit: org.clone(), kind: kind.clone(), sort_order: out.len() as u32 });
            }
        }
        out.push(OrgUnit { org_unit: "UNKNOWN".into(), kind: "unknown".into(), sort_order: out.len() as u32 });
        out
    }
}

/// The SSDA903 code sets shipped with the binary (`config/reference/ssda903_codes.csv`).
pub const CODE_SETS_CSV: &str = include_str!("../../../config/reference/ssda903_codes.csv");

/// Reads a `code_set,code,label,sort_order` CSV.
pub fn read_code_sets(text: &str, file: &Path) -> Result<Vec<[String; 4]>, MeasureError> {
    let bad = |message: String| MeasureError::Reference { file: file.to_path_buf(), message };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            if rec.len() != 4 {
                return Err(bad("columns must be code_set,code,label,sort_order".into()));
            }
            Ok([rec[0].to_string(), rec[1].to_string(), rec[2].to_string(), rec[3].to_string()])
        })
        .collect()
}

/// Reads a `code_set,description,code` CSV.
pub fn read_code_map(text: &str, file: &Path) -> Result<Vec<[String; 3]>, MeasureError> {
    let bad = |message: String| MeasureError::Reference { file: file.to_path_buf(), message };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers != ["code_set", "description", "code"] {
        return Err(bad("columns must be code_set,description,code".into()));
    }
    r.records()
        .map(|rec| {
            let rec = rec.map_err(|e| bad(e.to_string()))?;
            Ok([rec[0].to_string(), rec[1].to_string(), rec[2].to_string()])
        })
        .collect()
}

/// The council's code map shipped with the binary (`config/reference/code_map.csv`), used when
/// the settings name none.
pub const CODE_MAP_CSV: &str = include_str!("../../../config/reference/code_map.csv");

/// The built-in code map, parsed.
pub fn builtin_code_map() -> Result<Vec<[String; 3]>, MeasureError> {
    read_code_map(CODE_MAP_CSV, Path::new("built-in code map"))
}

/// The built-in SSDA903 code sets, parsed.
pub fn builtin_code_sets() -> Result<Vec<[String; 4]>, MeasureError> {
    read_code_sets(CODE_SETS_CSV, Path::new("built-in SSDA903 code sets"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_map_keeps_the_first_row_of_a_team_and_orders_org_units() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "team_id,org_unit,org_unit_kind\nT1,SOUTH,locality\nT2,DCS,service\nT1,NORTH,locality\n")
            .unwrap();
        let map = TeamMap::read(&p).unwrap();
        assert_eq!(map.teams.len(), 2);
        let units: Vec<String> =
            map.org_units().into_iter().map(|o| format!("{}:{}:{}", o.org_unit, o.kind, o.sort_order)).collect();
        assert_eq!(units, vec!["ALL:all:0", "SOUTH:locality:1", "DCS:service:2", "UNKNOWN:unknown:3"]);
        std::fs::write(&p, "team_id,org_unit,org_unit_kind\nT1,SOUTH,area\n").unwrap();
        assert!(TeamMap::read(&p).unwrap_err().to_string().contains("line 2"));
    }

    #[test]
    fn the_built_in_reference_files_parse() {
        assert!(!builtin_code_map().unwrap().is_empty());
        assert!(!builtin_code_sets().unwrap().is_empty());
    }
}
