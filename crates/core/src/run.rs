//! Run ids and the landing manifest.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::Period;

/// Identifies one run. Sorts by start time, so the newest landing is the last in a listing:
/// `20220205T061500Z-2022-01-3fa9`.
pub fn new_run_id(started: DateTime<Utc>, period: Period) -> String {
    let salt: u16 = rand::random();
    format!("{}-{period}-{salt:04x}", started.format("%Y%m%dT%H%M%SZ"))
}

/// What a landing holds, written once beside its Parquet files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub run_id: String,
    pub period: String,
    pub tool_version: String,
    pub started_at: DateTime<Utc>,
    pub landed_at: DateTime<Utc>,
    pub source: SourceInfo,
    pub tables: BTreeMap<String, LandedTable>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceInfo {
    /// `files` or `sqlserver`.
    pub kind: String,
    /// Where the data came from, without credentials.
    pub location: String,
    /// When the source data was current: the newest file's modification time, or the time
    /// of the extract's snapshot.
    pub as_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandedTable {
    /// File name inside the landing directory.
    pub file: String,
    pub rows: u64,
    /// SHA-256 of the Parquet file.
    pub sha256: String,
    pub columns: Vec<LandedColumn>,
    /// Rows whose dates carried a time of day, dropped when typed to dates.
    #[serde(default)]
    pub rows_with_times: u64,
    /// Rows left out by `on_bad_row: quarantine`, listed in the landing's `rejects.csv`.
    #[serde(default)]
    pub rows_rejected: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LandedColumn {
    pub name: String,
    pub data_type: String,
    pub nullable: bool,
}

impl Manifest {
    pub const FILE: &'static str = "manifest.json";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_start_time() {
        let p: Period = "2022-01".parse().unwrap();
        let a = new_run_id("2022-02-05T06:15:00Z".parse().unwrap(), p);
        let b = new_run_id("2022-02-05T06:15:01Z".parse().unwrap(), p);
        assert!(a.starts_with("20220205T061500Z-2022-01-"));
        assert!(a < b);
    }
}

/// What a run has done, stage by stage: written beside the landings (the landing itself is
/// immutable) so that a run that died can be resumed without extracting again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    pub run_id: String,
    pub period: String,
    pub started_at: Option<DateTime<Utc>>,
    /// Stage name -> when it completed.
    pub stages: BTreeMap<String, DateTime<Utc>>,
}

impl RunRecord {
    pub fn path(landing_root: &std::path::Path, run_id: &str) -> std::path::PathBuf {
        landing_root.join(".runs").join(format!("{run_id}.json"))
    }

    pub fn load(landing_root: &std::path::Path, run_id: &str) -> Option<Self> {
        let text = std::fs::read_to_string(Self::path(landing_root, run_id)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Records a completed stage.
    pub fn complete(&mut self, landing_root: &std::path::Path, stage: &str) -> std::io::Result<()> {
        self.stages.insert(stage.to_string(), Utc::now());
        let path = Self::path(landing_root, &self.run_id);
        crate::fs::create_private_dir(path.parent().expect("has a parent"))?;
        crate::fs::write_private(&path, serde_json::to_string_pretty(self).expect("serialises").as_bytes())
    }

    pub fn done(&self, stage: &str) -> bool {
        self.stages.contains_key(stage)
    }
}
