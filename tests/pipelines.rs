//! Pipelines as data: a quarterly report from the same SQL as the monthly one, its own mart,
//! email and tables, and its figures held to the monthly ones.

use super::*;

/// The measures counted over the period, whose quarter is the sum of its three months (at
/// org unit ALL: a child's org unit is their team at the period's end, which a quarter and its
/// months place differently).
const IN_THE_PERIOD: [&str; 8] = [
    "assessments_started",
    "assessments_timeliness",
    "icpc_count",
    "icpc_timeliness",
    "icpc_to_cp_plan_rate",
    "referrals_new",
    "referrals_nfa_rate",
    "referrals_rereferral_rate",
];

/// The measures taken at the as-at date (or over a window ending there), whose quarter is
/// the quarter's last month.
const AT_THE_PERIOD_END: [&str; 11] = [
    "assessments_open",
    "cin_plans_open",
    "cp_plans_open",
    "cin_visit_timeliness",
    "cp_visit_timeliness",
    "cla_count",
    "cla_entering_6m",
    "cla_leaving_6m",
    "cla_health_check_timeliness",
    "cla_placement_stability_short",
    "cla_placement_stability_long",
];

/// A council whose settings read pipelines from its own `pipelines/`: the shipped two and
/// `extra` (name, YAML).
fn council_with_pipelines(extra: &[(&str, &str)]) -> Council {
    let c = Council::new(&repo().join("sql"));
    let dir = c.path().join("pipelines");
    copy_dir(&repo().join("pipelines"), &dir);
    for (name, yaml) in extra {
        std::fs::write(dir.join(name), yaml).unwrap();
    }
    c.edit_config("notify:\n", "pipelines:\n  dir: ./pipelines\nnotify:\n");
    c
}

fn run_pipeline(c: &Council, pipeline: &str, period: &str) -> Output {
    scrutiny(&["run", "--config", "scrutiny.yaml", "--pipeline", pipeline, "--period", period], c.path())
}

type Counts = (Option<i64>, Option<i64>);

/// `(metric_id, period) -> (numerator, denominator)` at org unit ALL, no category.
fn headline_counts(mart: &Path) -> BTreeMap<(String, String), Counts> {
    let mv = read(&mart.join("metric_values.parquet"));
    let int = |col: &str| -> Vec<Option<i64>> {
        mv.iter()
            .flat_map(|b| {
                b.column_by_name(col)
                    .unwrap()
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                    .iter()
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (ids, periods, units, cats) =
        (strings(&mv, "metric_id"), strings(&mv, "period"), strings(&mv, "org_unit"), strings(&mv, "category"));
    let (num, den) = (int("numerator"), int("denominator"));
    (0..ids.len())
        .filter(|&i| units[i] == "ALL" && cats[i].is_empty())
        .map(|i| ((ids[i].clone(), periods[i].clone()), (num[i], den[i])))
        .collect()
}

/// The sum of what is there; nothing when every month has nothing.
fn sum(values: impl Iterator<Item = Option<i64>>) -> Option<i64> {
    values.flatten().reduce(|a, b| a + b)
}

#[test]
fn a_quarterly_pipeline_sums_its_months_in_the_period_and_takes_the_last_month_at_the_end() {
    let every = "id: every_quarterly\ntitle: Every measure by quarter\ngrain: quarter\ntrend: 4\nmeasures:\n  areas: [Referrals, Assessments, Child Protection Conferences, Plans and Visits, Children in Care]\nschedule: \"0 6 5 1,4,7,10 *\"\nmart: every_quarterly\n";
    let c = council_with_pipelines(&[("every_quarterly.yaml", every)]);
    let out = c.run("2021-12");
    assert!(out.status.success(), "{}", text(&out));
    let out = run_pipeline(&c, "every_quarterly", "2021-Q4");
    assert!(out.status.success(), "{}", text(&out));

    let monthly = headline_counts(&c.current());
    let quarterly = headline_counts(&c.path().join("var/every_quarterly/current"));
    let q = |id: &str| quarterly.get(&(id.to_string(), "2021-Q4".to_string())).unwrap_or_else(|| panic!("{id}"));
    let m = |id: &str, p: &str| monthly.get(&(id.to_string(), p.to_string())).unwrap_or_else(|| panic!("{id} {p}"));
    for id in IN_THE_PERIOD {
        let months = [m(id, "2021-10"), m(id, "2021-11"), m(id, "2021-12")];
        let summed = (sum(months.iter().map(|v| v.0)), sum(months.iter().map(|v| v.1)));
        assert_eq!(q(id), &summed, "{id}: the quarter is the sum of October, November and December");
        assert!(summed.0 != Some(0), "{id}: the test data has events in the quarter");
    }
    for id in AT_THE_PERIOD_END {
        assert_eq!(q(id), m(id, "2021-12"), "{id}: the quarter is December's value, at 31 December");
    }
    let periods = strings(&read(&c.path().join("var/every_quarterly/current/periods.parquet")), "period");
    assert_eq!(periods, ["2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"]);
}

#[test]
fn the_corporate_parenting_pipeline_publishes_its_own_mart_email_and_tables() {
    let c = council_with_pipelines(&[]);
    c.edit_config(
        "pipelines:\n  dir: ./pipelines\n",
        "pipelines:\n  dir: ./pipelines\n  overrides:\n    corporate_parenting_quarterly:\n      email_to: [board@example.org]\n",
    );
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let monthly_before = snapshot(&c.current());

    let out = run_pipeline(&c, "corporate_parenting_quarterly", "2021-Q4");
    assert!(out.status.success(), "{}", text(&out));
    let mart = c.path().join("var/corporate_parenting/current");
    let mv = read(&mart.join("metric_values.parquet"));
    let ids: std::collections::BTreeSet<String> = strings(&mv, "metric_id").into_iter().collect();
    assert_eq!(ids.len(), 12, "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("cla_") || id.starts_with("care_leavers_")), "{ids:?}");
    let periods = strings(&read(&mart.join("periods.parquet")), "period");
    assert_eq!(periods.len(), 8);
    assert_eq!((periods[0].as_str(), periods[7].as_str()), ("2020-Q1", "2021-Q4"));
    let labels = strings(&read(&mart.join("periods.parquet")), "label");
    assert_eq!(labels[7], "October to December 2021");
    let html = std::fs::read_to_string(mart.join("report.html")).unwrap();
    assert!(html.contains("Corporate Parenting Board") && html.contains("Previous quarter"), "the report's heading");
    assert!(!html.contains("Referrals"), "only its own areas");

    // Its landing holds only the tables its measures read.
    let manifest = std::fs::read_dir(c.path().join("var/landing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("-2021-Q4-"))
        .map(|p| std::fs::read_to_string(p.join("manifest.json")).unwrap())
        .next()
        .expect("the quarterly landing");
    let tables: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let mut landed: Vec<&String> = tables["tables"].as_object().unwrap().keys().collect();
    landed.sort();
    assert_eq!(
        landed,
        [
            "ssd_care_leavers",
            "ssd_cla_episodes",
            "ssd_cla_health",
            "ssd_cla_placement",
            "ssd_legal_status",
            "ssd_person"
        ]
    );

    // Its email, to its own readers, under its own title.
    let emails: Vec<String> = std::fs::read_dir(c.path().join("var/outbox"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap().replace("=\r\n", "").replace("=\n", ""))
        .collect();
    let board = emails.iter().find(|e| e.contains("Subject: Corporate Parenting Board: October to December 2021"));
    let board = board.unwrap_or_else(|| panic!("no quarterly summary in {emails:?}"));
    assert!(board.contains("To: board@example.org"), "{board}");
    assert!(emails.iter().any(|e| e.contains("Subject: Children's services scrutiny: January 2022")));

    // The monthly mart is the monthly pipeline's alone.
    assert_eq!(snapshot(&c.current()), monthly_before, "the quarterly run left the monthly mart alone");

    // `extract` and `compute` take the pipeline too: its tables landed, its measures computed.
    let out = scrutiny(
        &["extract", "--config", "scrutiny.yaml", "--pipeline", "corporate_parenting_quarterly", "--period", "2021-Q4"],
        c.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let landing = c.path().join(String::from_utf8_lossy(&out.stdout).trim());
    let id = landing.file_name().unwrap().to_str().unwrap().to_string();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(landing.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["tables"].as_object().unwrap().len(), 6);
    let args = ["compute", "--config", "scrutiny.yaml", "--pipeline", "corporate_parenting_quarterly"];
    let out =
        scrutiny(&[&args[..], &["--period", "2021-Q4", "--landing", &id, "--out", "var/scratch"]].concat(), c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("computed 12 measures from landing"), "{}", text(&out));
    // The monthly pipeline cannot compute from it: its landing lacks the monthly tables, by name.
    let out = scrutiny(&["compute", "--config", "scrutiny.yaml", "--period", "2021-12", "--landing", &id], c.path());
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("its manifest lacks ssd_cin_episodes"), "{}", text(&out));
}

#[test]
fn a_period_of_the_wrong_grain_or_an_unknown_pipeline_is_refused_with_78() {
    let c = Council::new(&repo().join("sql"));
    let out = run_pipeline(&c, "corporate_parenting_quarterly", "2021-12");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(
        text(&out).contains("reports by quarter: --period 2021-12 is a month; say e.g. --period 2021-Q4"),
        "{}",
        text(&out)
    );
    let out = c.run("2021-Q4");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let out = run_pipeline(&c, "weekly", "2021-12");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("no pipeline `weekly` (there are: corporate_parenting_quarterly, monthly_scrutiny)"));
    assert!(!c.path().join("var/mart").exists(), "nothing was published");
}

#[test]
fn check_names_every_pipeline_mistake_with_its_file_and_line() {
    let bad = "id: board\ntitle: Board\ngrain: quarter\nmeasures:\n  areas: [Children in Care, Childrens in Care]\n  ids: [cla_count, cla_counts]\nschedule: \"0 6 5 1 *\"\nmart: default\n";
    let c = council_with_pipelines(&[("board.yaml", bad)]);
    let out = scrutiny(&["check", "--config", "scrutiny.yaml"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("pipelines/board.yaml:5: `measures.areas`: no measure is in area `Childrens in Care`"), "{t}");
    assert!(t.contains("pipelines/board.yaml:6: `measures.ids`: no measure `cla_counts`"), "{t}");

    // Two pipelines publishing to one mart would overwrite each other's `current`.
    let same = bad.replace("Childrens in Care", "Care Experienced").replace(", cla_counts", "");
    std::fs::write(c.path().join("pipelines/board.yaml"), same).unwrap();
    let out = scrutiny(&["check", "--config", "scrutiny.yaml"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("pipelines/monthly_scrutiny.yaml:27: `mart`: publishes to"), "{}", text(&out));
    assert!(text(&out).contains("as pipeline `board` does"), "{}", text(&out));

    let out = scrutiny(&["pipelines", "--config", "scrutiny.yaml"], c.path());
    assert_eq!(out.status.code(), Some(78), "`scrutiny pipelines` refuses them too: {}", text(&out));
}

#[test]
fn scrutiny_pipelines_lists_measures_and_the_tables_from_their_lineage() {
    let c = council_with_pipelines(&[]);
    let out = scrutiny(&["pipelines", "--config", "scrutiny.yaml"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let t = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(t.contains("corporate_parenting_quarterly  Corporate Parenting Board"), "{t}");
    assert!(t.contains("quarter (e.g. 2021-Q4), trend of 8 quarters"), "{t}");
    assert!(t.contains("tables:    6 (ssd_person, ssd_cla_episodes, ssd_legal_status, ssd_cla_placement, ssd_cla_health, ssd_care_leavers)"), "{t}");
    assert!(t.contains("measures:  25"), "{t}");
    assert!(t.contains("tables:    16"), "{t}");
}

#[test]
fn two_pipelines_run_at_once_without_locking_each_other_out() {
    let c = council_with_pipelines(&[]);
    c.edit_config("notify:\n", "monitoring:\n  prometheus_textfile: ./scrutiny.prom\nnotify:\n");
    let start = |pipeline: &str, period: &str| {
        Command::new(env!("CARGO_BIN_EXE_scrutiny"))
            .args(["run", "--config", "scrutiny.yaml", "--pipeline", pipeline, "--period", period])
            .current_dir(c.path())
            .output()
    };
    let (monthly, quarterly) = std::thread::scope(|s| {
        let m = s.spawn(|| start("monthly_scrutiny", "2022-01").unwrap());
        let q = s.spawn(|| start("corporate_parenting_quarterly", "2021-Q4").unwrap());
        (m.join().unwrap(), q.join().unwrap())
    });
    assert!(monthly.status.success(), "{}", text(&monthly));
    assert!(quarterly.status.success(), "{}", text(&quarterly));
    assert!(c.current().join("metric_values.parquet").is_file());
    assert!(c.path().join("var/corporate_parenting/current/metric_values.parquet").is_file());
    // Each pipeline's metrics in its own textfile, labelled, so node-exporter sees no series twice.
    let monthly_prom = std::fs::read_to_string(c.path().join("scrutiny.prom")).unwrap();
    let quarterly_prom = std::fs::read_to_string(c.path().join("scrutiny-corporate_parenting_quarterly.prom")).unwrap();
    assert!(monthly_prom.contains("scrutiny_measures_computed{pipeline=\"monthly_scrutiny\"} 25\n"), "{monthly_prom}");
    assert!(
        quarterly_prom.contains("scrutiny_measures_computed{pipeline=\"corporate_parenting_quarterly\"} 12\n"),
        "{quarterly_prom}"
    );
}
