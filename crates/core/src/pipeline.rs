//! Pipeline definitions (`pipelines/<id>.yaml`): which measures a report holds, by what period,
//! how many periods its trend shows, when it runs and which mart it publishes to. A data team
//! adds a report by writing one of these files, not Rust.

use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::period::Grain;
use crate::settings::{ConfigError, Problem, locate};

const BUILTIN: [(&str, &str); 2] = [
    ("corporate_parenting_quarterly.yaml", include_str!("../../../pipelines/corporate_parenting_quarterly.yaml")),
    ("monthly_scrutiny.yaml", include_str!("../../../pipelines/monthly_scrutiny.yaml")),
];

/// The pipeline `scrutiny run` runs when none is named.
pub const DEFAULT_PIPELINE: &str = "monthly_scrutiny";

/// What a pipeline's measures are chosen by: every measure of the named areas, and the named
/// measures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureSelection {
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLayout {
    /// The report's areas, in order (default: the areas of the measures, in measure order).
    #[serde(default)]
    pub areas: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    id: String,
    title: String,
    grain: Grain,
    trend: Option<u32>,
    measures: MeasureSelection,
    #[serde(default)]
    report: ReportLayout,
    schedule: String,
    mart: String,
    #[serde(default)]
    also_extract: Vec<String>,
}

/// Where a pipeline publishes: the settings' `storage.mart`, or a named directory beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MartName {
    /// `mart: default`: the deployment's `storage.mart`.
    Default,
    /// `mart: NAME`: `<storage.mart>/../NAME`, unless the settings give the pipeline a path.
    Named(String),
}

/// One pipeline file, checked for its own consistency (its measures and areas are checked
/// against the SQL project by [`crate::pipeline`]'s callers, which know the measures).
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub id: String,
    /// The email's subject and the report's heading.
    pub title: String,
    pub grain: Grain,
    /// Periods in the trend, ending with the run's period.
    pub trend: u32,
    pub measures: MeasureSelection,
    pub report: ReportLayout,
    /// A cron line for the deploy examples (`0 6 3 * *`).
    pub schedule: String,
    pub mart: MartName,
    /// Tables extracted besides those the measures read, for their data-quality counts.
    pub also_extract: Vec<String>,
    pub file: PathBuf,
    /// The file's text, to point a later problem (an unknown measure) at its line.
    pub text: String,
}

impl Pipeline {
    /// A problem with this file, located at a key path or at the first line after it that
    /// holds `value`.
    pub fn problem(&self, path: &[&str], value: Option<&str>, message: impl Into<String>) -> Problem {
        let mut line = locate(&self.text, path);
        if let (Some(v), Some(from)) = (value, line) {
            line =
                self.text.lines().enumerate().skip(from - 1).find(|(_, l)| l.contains(v)).map(|(i, _)| i + 1).or(line);
        }
        Problem { file: self.file.clone(), line, key: path.join("."), message: message.into() }
    }

    fn parse(text: &str, file: &Path) -> Result<Self, Vec<Problem>> {
        let at = |line: Option<usize>, key: &str, message: String| Problem {
            file: file.to_path_buf(),
            line,
            key: key.to_string(),
            message,
        };
        let f: PipelineFile = serde_yaml::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let key = msg.strip_prefix("unknown field `").and_then(|r| r.split('`').next()).unwrap_or("").to_string();
            vec![at(e.location().map(|l| l.line()), &key, msg)]
        })?;
        let mut problems = Vec::new();
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if f.id != stem {
            problems.push(at(locate(text, &["id"]), "id", format!("must match the file name (`{stem}`)")));
        }
        let plain =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !plain(&f.id) {
            problems.push(at(locate(text, &["id"]), "id", "lower-case letters, digits and _".into()));
        }
        if f.title.trim().is_empty() {
            problems.push(at(locate(text, &["title"]), "title", "must not be empty".into()));
        }
        let trend = f.trend.unwrap_or(f.grain.default_trend());
        let most = 120 / f.grain.months();
        if !(1..=most).contains(&trend) {
            problems.push(at(locate(text, &["trend"]), "trend", format!("between 1 and {most} {}s", f.grain)));
        }
        if f.measures.areas.is_empty() && f.measures.ids.is_empty() {
            problems.push(at(locate(text, &["measures"]), "measures", "name at least one area or measure id".into()));
        }
        if f.schedule.split_whitespace().count() != 5 {
            problems.push(at(
                locate(text, &["schedule"]),
                "schedule",
                format!("`{}` is not a cron line of five fields (minute hour day month weekday)", f.schedule),
            ));
        }
        let mart = match f.mart.as_str() {
            "default" => MartName::Default,
            m if plain(m) => MartName::Named(m.to_string()),
            m => {
                problems.push(at(
                    locate(text, &["mart"]),
                    "mart",
                    format!(
                        "`{m}`: `default` (the settings' storage.mart) or a name of lower-case letters, digits and _"
                    ),
                ));
                MartName::Default
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Self {
            id: f.id,
            title: f.title,
            grain: f.grain,
            trend,
            measures: f.measures,
            report: f.report,
            schedule: f.schedule,
            mart,
            also_extract: f.also_extract,
            file: file.to_path_buf(),
            text: text.to_string(),
        })
    }

    /// Reads one pipeline file.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::in_file(file, None, format!("cannot read the pipeline: {e}")))?;
        Self::parse(&text, file).map_err(|problems| ConfigError { problems })
    }

    /// The pipelines built into the binary (the repository's `pipelines/` when it was built),
    /// for a deployment with no `pipelines/` directory of its own.
    pub fn builtin() -> Vec<Self> {
        BUILTIN
            .iter()
            .map(|(name, text)| {
                Self::parse(text, &Path::new("built-in pipelines").join(name)).expect("the shipped pipelines parse")
            })
            .collect()
    }

    /// The pipelines of `dir`, or the built-in ones when `dir` is `None`.
    pub fn available(dir: Option<&Path>) -> Result<Vec<Self>, ConfigError> {
        match dir {
            Some(d) => Self::load_all(d),
            None => Ok(Self::builtin()),
        }
    }

    /// Reads every `*.yaml` of `dir`, sorted by id, reporting every problem of every file.
    pub fn load_all(dir: &Path) -> Result<Vec<Self>, ConfigError> {
        let files = crate::fs::yaml_files(dir)
            .map_err(|e| ConfigError::in_file(dir, None, format!("cannot read the pipelines directory: {e}")))?;
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for f in files {
            match Self::load(&f) {
                Ok(p) => out.push(p),
                Err(e) => problems.extend(e.problems),
            }
        }
        if out.is_empty() && problems.is_empty() {
            return Err(ConfigError::in_file(dir, None, "no pipeline files (*.yaml)"));
        }
        if problems.is_empty() { Ok(out) } else { Err(ConfigError { problems }) }
    }

    /// The pipeline `id` of `dir` (or of the built-in ones).
    pub fn find(dir: Option<&Path>, id: &str) -> Result<Self, ConfigError> {
        let all = Self::available(dir)?;
        let dir = dir.unwrap_or(Path::new("built-in pipelines"));
        let known: Vec<String> = all.iter().map(|p| p.id.clone()).collect();
        all.into_iter().find(|p| p.id == id).ok_or_else(|| {
            ConfigError::in_file(dir, None, format!("no pipeline `{id}` (there are: {})", known.join(", ")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUARTERLY: &str = "id: cpq\ntitle: Corporate Parenting Board\ngrain: quarter\nmeasures:\n  areas: [Children in Care]\n  ids: [care_leavers_count]\nschedule: \"0 6 5 1,4,7,10 *\"\nmart: corporate_parenting\n";

    fn parse(text: &str) -> Result<Pipeline, Vec<Problem>> {
        Pipeline::parse(text, Path::new("pipelines/cpq.yaml"))
    }

    #[test]
    fn a_quarterly_pipeline_trends_over_eight_quarters_by_default() {
        let p = parse(QUARTERLY).unwrap();
        assert_eq!((p.grain, p.trend), (Grain::Quarter, 8));
        assert_eq!(p.mart, MartName::Named("corporate_parenting".into()));
        assert_eq!(p.measures.ids, ["care_leavers_count"]);
        let monthly = parse(&QUARTERLY.replace("quarter", "month").replace("corporate_parenting", "default")).unwrap();
        assert_eq!((monthly.trend, monthly.mart), (18, MartName::Default));
    }

    #[test]
    fn every_mistake_in_a_pipeline_file_is_named_with_its_line() {
        let text = QUARTERLY
            .replace("id: cpq", "id: other")
            .replace("\"0 6 5 1,4,7,10 *\"", "monthly")
            .replace("mart: corporate_parenting", "mart: ../elsewhere");
        let problems = parse(&text).unwrap_err();
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{lines:?}");
        assert!(lines[0].starts_with("pipelines/cpq.yaml:1: `id`: must match the file name"), "{lines:?}");
        assert!(lines[1].starts_with("pipelines/cpq.yaml:7: `schedule`"), "{lines:?}");
        assert!(lines[2].starts_with("pipelines/cpq.yaml:8: `mart`"), "{lines:?}");
        let unknown = parse(&format!("{QUARTERLY}colour: red\n")).unwrap_err();
        assert!(unknown[0].to_string().contains("unknown field `colour`"), "{unknown:?}");
        assert_eq!(unknown[0].key, "colour");
        let grain = parse(&QUARTERLY.replace("grain: quarter", "grain: week")).unwrap_err();
        assert!(grain[0].to_string().contains(":3:") && grain[0].to_string().contains("week"), "{grain:?}");
        let trend = parse(&format!("{QUARTERLY}trend: 41\n")).unwrap_err();
        assert!(trend[0].to_string().contains("between 1 and 40 quarters"), "{trend:?}");
    }

    #[test]
    fn the_shipped_pipelines_parse() {
        let ids: Vec<String> = Pipeline::builtin().into_iter().map(|p| p.id).collect();
        assert_eq!(ids, ["corporate_parenting_quarterly", "monthly_scrutiny"]);
        assert!(Pipeline::find(None, DEFAULT_PIPELINE).is_ok());
        let e = Pipeline::find(None, "weekly").unwrap_err().to_string();
        assert!(e.contains("no pipeline `weekly` (there are: corporate_parenting_quarterly, monthly_scrutiny)"), "{e}");
    }

    /// deploy/ schedules every pipeline with the cron line its file gives, in the CronJob and in
    /// the crontab.
    #[test]
    fn deploy_schedules_each_pipeline_as_its_file_says() {
        let root = crate::checkout_root();
        let cronjob = std::fs::read_to_string(root.join("deploy/cronjob.yaml")).unwrap();
        let crontab = std::fs::read_to_string(root.join("deploy/crontab")).unwrap();
        let jobs: Vec<serde_yaml::Value> = cronjob
            .split("\n---")
            .filter_map(|d| serde_yaml::from_str::<serde_yaml::Value>(d).ok())
            .filter(|d| d.get("kind").and_then(|k| k.as_str()) == Some("CronJob"))
            .collect();
        let pipelines = Pipeline::load_all(&root.join("pipelines")).unwrap();
        assert_eq!(jobs.len(), pipelines.len(), "one CronJob per pipeline");
        for p in &pipelines {
            let job = jobs
                .iter()
                .find(|j| {
                    let args = &j["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"];
                    args.as_sequence().unwrap().windows(2).any(|w| w[0] == "--pipeline" && w[1] == p.id.as_str())
                })
                .unwrap_or_else(|| panic!("no CronJob runs --pipeline {}", p.id));
            assert_eq!(job["spec"]["schedule"].as_str(), Some(p.schedule.as_str()), "{}", p.id);
            let line = crontab
                .lines()
                .find(|l| l.contains(&format!("--pipeline {} ", p.id)))
                .unwrap_or_else(|| panic!("no crontab line runs --pipeline {}", p.id));
            assert!(line.starts_with(&format!("{} ", p.schedule)), "{}: {line}", p.id);
        }
    }

    #[test]
    fn a_problem_with_a_listed_measure_points_at_its_line() {
        let p = parse(QUARTERLY).unwrap();
        let problem = p.problem(&["measures", "ids"], Some("care_leavers_count"), "no such measure");
        assert_eq!(problem.line, Some(6));
    }
}
