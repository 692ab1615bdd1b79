//! End-to-end tests: the real `scrutiny` binary on synthetic data, reading what it publishes.

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod benchmarks;
mod object_storage;
mod pipelines;
mod reliability;
mod spc;
mod sqlserver_sink;

/// A loopback port nothing listens on now, for a server a test starts.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until a server a test started accepts connections on `port` (emulators take seconds).
pub(crate) fn wait_listening(port: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn repo() -> PathBuf {
    scrutiny_core::checkout_root().canonicalize().unwrap()
}

fn scrutiny(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scrutiny")).args(args).current_dir(cwd).env("NO_COLOR", "1").output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A working directory with a small synthetic council and a settings file.
struct Council {
    dir: tempfile::TempDir,
}

impl Council {
    fn new(sql_dir: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = scrutiny(&["synth", "--out", "ssd", "--scale", "0.1", "--seed", "7"], dir.path());
        assert!(out.status.success(), "{}", text(&out));
        let yaml = format!(
            "source:\n  files:\n    path: ./ssd\nstorage:\n  landing: ./var/landing\n  mart: ./var/mart\nreference:\n  team_org_units: ./ssd/team_org_units.csv\nmeasures:\n  sql_dir: {}\nnotify:\n  email:\n    from: scrutiny@example.org\n    to: [performance-team@example.org]\n    outbox: ./var/outbox\n",
            sql_dir.display()
        );
        std::fs::write(dir.path().join("scrutiny.yaml"), yaml).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, period: &str) -> Output {
        scrutiny(&["run", "--config", "scrutiny.yaml", "--period", period], self.path())
    }

    fn current(&self) -> PathBuf {
        self.path().join("var/mart/current")
    }

    /// Rewrites part of the settings file.
    fn edit_config(&self, from: &str, to: &str) {
        let cfg = self.path().join("scrutiny.yaml");
        let yaml = std::fs::read_to_string(&cfg).unwrap();
        assert!(yaml.contains(from), "`{from}` is not in the settings");
        std::fs::write(&cfg, yaml.replace(from, to)).unwrap();
    }

    /// The first message in the outbox, quoted-printable line folds undone.
    fn summary_email(&self) -> String {
        let eml = std::fs::read_dir(self.path().join("var/outbox"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .next()
            .unwrap();
        eml.replace("=\r\n", "").replace("=\n", "")
    }
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap().collect::<Result<_, _>>().unwrap()
}

fn strings(batches: &[RecordBatch], col: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            b.column_by_name(col)
                .unwrap()
                .as_string::<i32>()
                .iter()
                .map(|v| v.unwrap_or("").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn floats(batches: &[RecordBatch], col: &str) -> Vec<Option<f64>> {
    batches
        .iter()
        .flat_map(|b| b.column_by_name(col).unwrap().as_primitive::<Float64Type>().iter().collect::<Vec<_>>())
        .collect()
}

/// Every file under `dir` with its bytes, following the `current` link.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        out.insert(p.file_name().unwrap().to_string_lossy().to_string(), std::fs::read(&p).unwrap());
    }
    out
}

const SECTION_2_TO_4: [&str; 9] = [
    "assessments_open",
    "assessments_started",
    "assessments_timeliness",
    "icpc_count",
    "icpc_timeliness",
    "icpc_to_cp_plan_rate",
    "referrals_new",
    "referrals_nfa_rate",
    "referrals_rereferral_rate",
];

#[test]
fn a_run_publishes_every_measure_for_eighteen_periods() {
    let c = Council::new(&repo().join("sql"));
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));

    let mv = read(&c.current().join("metric_values.parquet"));
    let ids = strings(&mv, "metric_id");
    let periods = strings(&mv, "period");
    let org_units = strings(&mv, "org_unit");
    let categories = strings(&mv, "category");
    let metrics = read(&c.current().join("metrics.parquet"));
    let all_ids = strings(&metrics, "id");
    assert_eq!(all_ids.len(), 25, "every measure of kpis.md");
    for id in SECTION_2_TO_4 {
        assert!(all_ids.iter().any(|m| m == id), "{id}");
    }
    let snapshot: Vec<bool> = metrics
        .iter()
        .flat_map(|b| b.column_by_name("snapshot").unwrap().as_boolean().iter().map(|v| v.unwrap()).collect::<Vec<_>>())
        .collect();
    for (id, snap) in all_ids.iter().zip(&snapshot) {
        let mut p: Vec<&String> = ids.iter().zip(&periods).filter(|(i, _)| *i == id).map(|(_, p)| p).collect();
        p.sort();
        p.dedup();
        if *snap {
            assert_eq!(p, vec!["2022-01"], "{id}: a snapshot has the run's period only");
        } else {
            assert_eq!(p.len(), 18, "{id}");
            assert_eq!(p[0], "2020-08");
            assert_eq!(p[17], "2022-01");
        }
    }
    // Visit timeliness: ALL, every org unit of the team map, and UNKNOWN.
    let mut units: Vec<&String> = ids
        .iter()
        .zip(&periods)
        .zip(&org_units)
        .filter(|((i, p), _)| *i == "cin_visit_timeliness" && *p == "2022-01")
        .map(|(_, o)| o)
        .collect();
    units.sort();
    assert_eq!(
        units,
        vec![
            "ALL",
            "DISABLED CHILDREN SERVICE",
            "EXETER",
            "MID & EAST",
            "NORTH",
            "SOCIAL WORKERS IN SCHOOL",
            "SOUTH",
            "UNKNOWN"
        ]
    );
    let accommodation: Vec<&String> = ids
        .iter()
        .zip(&categories)
        .filter(|(i, _)| *i == "care_leavers_unsuitable_accommodation")
        .map(|(_, c)| c)
        .collect();
    assert_eq!(accommodation.len(), 16, "one row per accommodation code");
    let labels = strings(&read(&c.current().join("categories.parquet")), "label");
    assert!(labels.contains(&"a) With parents or relatives".to_string()) && labels.len() == 16);
    // Sorted by metric_id, period.
    let keys: Vec<(String, String)> = ids.iter().cloned().zip(periods.iter().cloned()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Derived figures: the newest period has a previous month and a last year; the oldest has neither.
    let prev = floats(&mv, "value_prev_month");
    let ly = floats(&mv, "value_last_year");
    let values = floats(&mv, "value");
    let at = |id: &str, p: &str| keys.iter().position(|k| k.0 == id && k.1 == p).unwrap();
    let (jan22, dec21, jan21) =
        (at("referrals_new", "2022-01"), at("referrals_new", "2021-12"), at("referrals_new", "2021-01"));
    assert_eq!(prev[jan22], values[dec21]);
    assert_eq!(ly[jan22], values[jan21]);
    assert_eq!(prev[at("referrals_new", "2020-08")], None);

    for table in ["metrics", "periods", "org_units", "data_quality", "runs", "categories"] {
        assert!(!read(&c.current().join(format!("{table}.parquet"))).is_empty(), "{table}");
    }
    assert_eq!(strings(&read(&c.current().join("periods.parquet")), "label").last().unwrap(), "January 2022");

    // The landing: 16 tables and a manifest, readable by the owner only.
    let landing = landing_dir(&c.path().join("var/landing"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(landing.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["tables"].as_object().unwrap().len(), 16);
    assert_eq!(manifest["period"], "2022-01");
    use std::os::unix::fs::PermissionsExt;
    for f in ["manifest.json", "ssd_person.parquet"] {
        assert_eq!(std::fs::metadata(landing.join(f)).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
    }
    assert_eq!(
        std::fs::metadata(c.current().join("metric_values.parquet")).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // The summary email: subject, both parts, every measure's title, and no person ids.
    let outbox: Vec<PathBuf> =
        std::fs::read_dir(c.path().join("var/outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(outbox.len(), 1);
    let eml = std::fs::read_to_string(&outbox[0]).unwrap();
    assert!(eml.contains("Subject: Children's services scrutiny: January 2022"), "{eml}");
    assert!(eml.contains("multipart/alternative") && eml.contains("text/plain") && eml.contains("text/html"));
    for title in strings(&metrics, "title") {
        assert!(eml.contains(&title) || eml.contains(&title.replace('&', "&amp;")), "{title} not in the email");
    }
    let person_ids = strings(&read(&landing.join("ssd_person.parquet")), "pers_person_id");
    for id in person_ids.iter().take(200) {
        assert!(!eml.contains(&format!("{id}\n")) && !eml.contains(&format!("{id} ")), "person id {id} in the email");
    }
}

#[test]
fn a_measure_that_fails_leaves_the_published_mart_byte_identical() {
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    let c = Council::new(sql.path());
    assert!(c.run("2022-01").status.success());
    let before = snapshot(&c.current());
    let link_before = std::fs::read_link(c.current()).unwrap();

    std::fs::write(
        sql.path().join("measures/zz_broken.sql"),
        "/*---\nid: zz_broken\ntitle: Broken\narea: Referrals\nunit: count\npolarity: neutral\ntarget: ~\norder: 999\ndescription: fails when it runs\n---*/\nSELECT period, 'ALL' AS org_unit, CAST(NULL AS VARCHAR) AS category,\n       CAST(label AS BIGINT) AS numerator, CAST(NULL AS BIGINT) AS denominator\nFROM reporting_periods\n",
    )
    .unwrap();
    let out = c.run("2022-01");
    assert!(!out.status.success());
    assert!(text(&out).contains("zz_broken"), "{}", text(&out));
    assert_eq!(std::fs::read_link(c.current()).unwrap(), link_before);
    assert_eq!(snapshot(&c.current()), before, "current changed after a failed run");
    // The failure alert names the stage.
    let alert = std::fs::read_dir(c.path().join("var/outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("-failure.eml"))
        .unwrap();
    let alert = std::fs::read_to_string(alert).unwrap();
    assert!(alert.contains("FAILED at compute"), "{alert}");
}

#[test]
fn a_missing_table_exits_65_names_it_and_publishes_nothing() {
    let c = Council::new(&repo().join("sql"));
    std::fs::remove_file(c.path().join("ssd/ssd_cla_health.csv")).unwrap();
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("`ssd_cla_health` is missing"), "{}", text(&out));
    assert!(!c.current().exists());
    let landings = std::fs::read_dir(c.path().join("var/landing")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(landings, 0, "no half-written landing is left");
}

#[test]
fn an_invalid_date_exits_65_naming_file_line_and_column_never_the_value() {
    let c = Council::new(&repo().join("sql"));
    let f = c.path().join("ssd/ssd_cp_plans.csv");
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str("CPX,P1,2021-02-30,\n");
    let line = body.lines().count();
    std::fs::write(&f, body).unwrap();
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains(&format!("ssd_cp_plans.csv:{line}"))
            && msg.contains("cppl_cp_plan_start_date")
            && !msg.contains("2021-02-30"),
        "{msg}"
    );
}

#[test]
fn every_configuration_problem_is_reported_at_once_with_exit_78() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "source:\n  files:\n    path: ./ssd\n    format: csv\nstorage:\n  landing: ./l\n  mart: ./m\nreference:\n  team_org_units: ./missing.csv\nnotify:\n  email:\n    from: nobody\n    to: [a@example.org]\n    outbox: ./o\n",
    )
    .unwrap();
    let out = scrutiny(&["run", "--config", "bad.yaml", "--period", "2022-01"], dir.path());
    assert_eq!(out.status.code(), Some(78));
    let msg = text(&out);
    assert!(msg.contains("4 problems"), "{msg}");
    assert!(msg.contains("`measures.sql_dir`") && msg.contains("no `measures` directory"), "{msg}");
    assert!(msg.contains("bad.yaml:4: `source.files.format`: unknown field"), "{msg}");
    assert!(msg.contains("bad.yaml:9: `reference.team_org_units`"), "{msg}");
    assert!(msg.contains("bad.yaml:12: `notify.email.from`"), "{msg}");
}

#[test]
fn a_measure_test_that_fails_shows_a_diff_and_exits_non_zero() {
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    let ok = scrutiny(&["test", "--sql", sql.path().to_str().unwrap()], sql.path());
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains(" passed, 0 failed"));
    let f = sql.path().join("measures/tests/icpc.yaml");
    std::fs::write(&f, std::fs::read_to_string(&f).unwrap().replace("numerator: 3", "numerator: 4")).unwrap();
    let out = scrutiny(&["test", "icpc_count", "--sql", sql.path().to_str().unwrap()], sql.path());
    assert_eq!(out.status.code(), Some(1), "a failing measure test exits 1, as documented");
    let msg = text(&out);
    assert!(
        msg.contains("- period=2022-01 org_unit=ALL category=NULL numerator=4")
            && msg.contains("+ period=2022-01 org_unit=ALL category=NULL numerator=3"),
        "{msg}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() { copy_dir(&p, &dest) } else { std::fs::copy(&p, &dest).map(|_| ()).unwrap() }
    }
}

fn value_of(mart: &Path, id: &str, period: &str) -> (Option<f64>, String) {
    let mv = read(&mart.join("metric_values.parquet"));
    let keys: Vec<(String, String, String)> = strings(&mv, "metric_id")
        .into_iter()
        .zip(strings(&mv, "period"))
        .zip(strings(&mv, "run_id"))
        .map(|((a, b), c)| (a, b, c))
        .collect();
    let values = floats(&mv, "value");
    let i = keys.iter().position(|k| k.0 == id && k.1 == period).unwrap_or_else(|| panic!("no {id} {period}"));
    (values[i], keys[i].2.clone())
}

#[test]
fn snapshot_measures_keep_the_value_of_the_run_that_computed_them() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2021-12").status.success());
    let (december, december_run) = value_of(&c.current(), "care_leavers_count", "2021-12");
    assert!(december.unwrap() > 0.0);

    // A newer source: more care leavers. January is computed from it; December is carried over.
    let f = c.path().join("ssd/ssd_care_leavers.csv");
    let mut body = std::fs::read_to_string(&f).unwrap();
    for k in 0..5 {
        body.push_str(&format!("NEW{k},NEWP{k},Relevant,YES,2022-01-20,B,1,F1\n"));
    }
    std::fs::write(&f, body).unwrap();
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(value_of(&c.current(), "care_leavers_count", "2021-12"), (december, december_run.clone()));
    let (january, _) = value_of(&c.current(), "care_leavers_count", "2022-01");
    assert_eq!(january.unwrap(), december.unwrap() + 5.0);
    // The carried-over December is January's previous month.
    let mv = read(&c.current().join("metric_values.parquet"));
    let at = strings(&mv, "metric_id")
        .iter()
        .zip(strings(&mv, "period"))
        .position(|(i, p)| i == "care_leavers_count" && p == "2022-01")
        .unwrap();
    assert_eq!(floats(&mv, "value_prev_month")[at], december);

    // Rerunning December from the newer source keeps December as first published...
    assert!(c.run("2021-12").status.success());
    assert_eq!(value_of(&c.current(), "care_leavers_count", "2021-12"), (december, december_run));
    // ...unless asked.
    let out = scrutiny(&["run", "--config", "scrutiny.yaml", "--period", "2021-12", "--recompute-snapshots"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(value_of(&c.current(), "care_leavers_count", "2021-12").0.unwrap(), december.unwrap() + 5.0);
}

/// The staging models find rows with no id by a filter the landing's Parquet statistics can
/// answer (`id IS NULL OR id = ''`), so that row groups without such rows are skipped. Rows with
/// no id must still be read from the row groups that have them, exact copies counted once.
#[test]
fn rows_with_no_id_are_still_read_from_landed_parquet_when_row_groups_are_skipped() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let (before, _) = value_of(&c.current(), "care_leavers_count", "2022-01");

    let f = c.path().join("ssd/ssd_care_leavers.csv");
    let mut body = std::fs::read_to_string(&f).unwrap();
    body.push_str(",NOID1,Relevant,YES,2022-01-20,B,1,F1\n");
    body.push_str(",NOID1,Relevant,YES,2022-01-20,B,1,F1\n");
    body.push_str(",NOID2,Relevant,YES,2022-01-20,B,1,F1\n");
    std::fs::write(&f, body).unwrap();
    let out = scrutiny(&["run", "--config", "scrutiny.yaml", "--period", "2022-01", "--recompute-snapshots"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(value_of(&c.current(), "care_leavers_count", "2022-01").0.unwrap(), before.unwrap() + 2.0);
}

/// Two things broke here. A staging model read by one statement runs inside it (streamed), so
/// its runtime failure surfaced under that statement's name alone, and the data team looked in
/// the wrong file. And DataFusion's message quoted the value it failed on, a child's id, which
/// then reached the log and the failure alert.
#[test]
fn a_runtime_failure_names_the_streamed_model_and_never_the_value_it_failed_on() {
    // (the model broken, its person id column, the statement it runs inside): a stored model
    // (read by the two check measures) and a measure.
    let cases = [
        ("stg_cla_health", "clah_person_id", "model `int_cla_checks`"),
        ("stg_s47_enquiry", "s47e_person_id", "measure `icpc_timeliness`"),
    ];
    for (model, person_id, statement) in cases {
        let shipped = std::fs::read_to_string(repo().join(format!("sql/staging/{model}.sql"))).unwrap();
        // Plans, since the cast is of a text column, but fails on the first person id, "P...".
        let broken =
            shipped.replace("WHERE key_rank = 1", &format!("WHERE key_rank = 1 AND CAST({person_id} AS INT) > 0"));
        assert_ne!(broken, shipped);
        let sql = sql_copy_with(&format!("staging/{model}.sql"), &broken);
        let c = Council::new(sql.path());
        let out = c.run("2022-01");
        let msg = text(&out);
        assert_eq!(out.status.code(), Some(65), "{msg}");
        assert!(msg.contains(statement), "{model}: {msg}");
        assert!(
            msg.contains(&format!("the staging model `{model}` ("))
                && msg.contains(&format!("{model}.sql) ran inside this statement")),
            "{model}: {msg}"
        );
        assert!(!c.current().exists(), "nothing is published");
        // DataFusion's message quoted the person id it failed on; no id reaches the output or
        // the failure alert.
        let alert = std::fs::read_dir(c.path().join("var/outbox"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .find(|m| m.contains("FAILED"))
            .expect("a failure alert");
        assert!(msg.contains("Cannot cast string '…' to value of Int32 type"), "{msg}");
        // An id as a word of its own, not inside a temporary file's random name.
        let mentions = |text: &str, id: &str| {
            text.match_indices(id).any(|(i, _)| {
                let before = text[..i].chars().next_back();
                let after = text[i + id.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
            })
        };
        let people = std::fs::read_to_string(c.path().join("ssd/ssd_person.csv")).unwrap();
        for id in people.lines().skip(1).filter_map(|l| l.split(',').next()).filter(|id| !id.is_empty()) {
            assert!(!mentions(&msg, id) && !mentions(&alert, id), "{id} in:\n{msg}\n{alert}");
        }
    }
}

/// A copy of the shipped `sql/` with one file written or replaced.
fn sql_copy_with(file: &str, text: &str) -> tempfile::TempDir {
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    std::fs::write(sql.path().join(file), text).unwrap();
    sql
}

fn check(sql: &Path) -> Output {
    scrutiny(&["check", "--sql", sql.to_str().unwrap()], sql)
}

const META: &str = "/*---\nid: ID\ntitle: T\narea: Referrals\nunit: count\npolarity: neutral\ntarget: ~\norder: 999\ndescription: d\n---*/\n";

#[test]
fn check_passes_the_shipped_definitions() {
    let out = scrutiny(&["check"], &repo());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("25 measures"), "{}", text(&out));
}

#[test]
fn check_reports_each_kind_of_mistake_with_file_line_and_exit_78() {
    let measure = |id: &str, sql: &str| (format!("measures/{id}.sql"), format!("{}{sql}", META.replace("ID", id)));
    // Line 11 of each measure file is the first line of its SQL.
    let cases: Vec<((String, String), &str)> = vec![
        (measure("bad_syntax", "SELECT period, 'ALL' AS org_unit\nFROM reporting_periods WHERE = 1\n"), "bad_syntax.sql:12"),
        (measure("bad_table", "SELECT period, 'ALL' AS org_unit, NULL AS category, 1 AS numerator, NULL AS denominator\nFROM no_such_table\n"), "bad_table.sql:12"),
        (measure("bad_column", "SELECT period, 'ALL' AS org_unit, NULL AS category,\n  COUNT(no_such_column) AS numerator, NULL AS denominator\nFROM reporting_periods GROUP BY period\n"), "bad_column.sql:12"),
        (measure("bad_columns", "SELECT period, 'ALL' AS org_unit, 1 AS numerator FROM reporting_periods\n"), "bad_columns.sql:11"),
        (measure("bad_types", "SELECT period, 'ALL' AS org_unit, NULL AS category, 'many' AS numerator, NULL AS denominator FROM reporting_periods\n"), "bad_types.sql:11"),
        (measure("bad_ddl", "DROP TABLE ssd_person\n"), "bad_ddl.sql:11"),
        (("measures/bad_meta.sql".into(), "/*---\nid: bad_meta\ntitle: T\narea: A\nunit: count\npolarity: neutral\ntarget: ~\norder: 1\ndescription: d\ncolour: red\n---*/\nSELECT 1\n".into()), "bad_meta.sql:"),
        (("measures/no_meta.sql".into(), "/*---\nid: no_meta\ntitle: T\n---*/\nSELECT 1\n".into()), "no_meta.sql:"),
        (("measures/dupe.sql".into(), META.replace("ID", "referrals_new") + "SELECT 1\n"), "dupe.sql:2: id `referrals_new` must match the file name"),
        (("staging/stg_loop_a.sql".into(), "SELECT * FROM stg_loop_b\n".into()), "cycle between models"),
    ];
    for ((file, body), wanted) in cases {
        let sql = sql_copy_with(&file, &body);
        if file.contains("loop") {
            std::fs::write(sql.path().join("staging/stg_loop_b.sql"), "SELECT * FROM stg_loop_a\n").unwrap();
        }
        let out = check(sql.path());
        assert_eq!(out.status.code(), Some(78), "{file}: {}", text(&out));
        assert!(text(&out).contains(wanted), "{file}: wanted `{wanted}` in:\n{}", text(&out));
    }
    // The metadata mistakes say what is wrong.
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    std::fs::create_dir_all(sql.path().join("measures/more")).unwrap();
    std::fs::write(
        sql.path().join("measures/more/referrals_new.sql"),
        META.replace("ID", "referrals_new") + "SELECT 1\n",
    )
    .unwrap();
    let msg = text(&check(sql.path()));
    assert!(
        msg.contains("referrals_new.sql:2: duplicate measure id `referrals_new` (also ")
            && msg.contains("more/referrals_new.sql"),
        "{msg}"
    );
    let sql = sql_copy_with("measures/bad_ddl.sql", &(META.replace("ID", "bad_ddl") + "DROP TABLE ssd_person\n"));
    assert!(text(&check(sql.path())).contains("DDL, DML and other statements are not allowed"));
}

#[test]
fn check_reports_every_problem_at_once() {
    let sql = sql_copy_with("measures/one.sql", &(META.replace("ID", "one") + "SELECT nope FROM reporting_periods\n"));
    std::fs::write(sql.path().join("measures/two.sql"), META.replace("ID", "two") + "SELECT period FROM nowhere\n")
        .unwrap();
    let msg = text(&check(sql.path()));
    assert!(msg.contains("2 problems") && msg.contains("one.sql:11") && msg.contains("two.sql:11"), "{msg}");
}

#[test]
fn docs_name_the_tables_and_columns_a_measure_reads() {
    let dir = tempfile::tempdir().unwrap();
    let out = scrutiny(&["docs", "--out", dir.path().to_str().unwrap()], &repo());
    assert!(out.status.success(), "{}", text(&out));
    let md = std::fs::read_to_string(dir.path().join("measures.md")).unwrap();
    let section = &md[md.find("(`referrals_rereferral_rate`)").unwrap()..];
    let section = &section[..section.find("```sql").unwrap()];
    assert!(
        section.contains("`ssd_cin_episodes`: ")
            && section.contains("`cine_person_id`")
            && section.contains("`cine_referral_date`"),
        "{section}"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(html.contains("id=\"referrals_rereferral_rate\"") && html.contains("<code>ssd_cin_episodes</code>"));
    assert!(md.contains("| `change_vs_last_year` | Float64, nullable |"), "the mart schema is documented");
}

#[test]
fn the_readme_list_of_measures_is_generated_and_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("README.md");
    std::fs::copy(repo().join("README.md"), &copy).unwrap();
    let out = scrutiny(&["docs", "--readme", copy.to_str().unwrap()], &repo());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        std::fs::read_to_string(repo().join("README.md")).unwrap(),
        "README.md is stale: run `cargo run -- docs --readme README.md`"
    );
}

#[test]
fn junit_output_for_ci_systems() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let out = scrutiny(&["test", "referrals", "--junit", junit.to_str().unwrap()], &repo());
    assert!(out.status.success(), "{}", text(&out));
    let xml = std::fs::read_to_string(junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"scrutiny measure tests\"")
            && xml.contains("failures=\"0\"")
            && xml.contains("<testcase classname=\"referrals_new\""),
        "{xml}"
    );
}

/// The README's walkthrough: add a measure with its tests, check it, test it, see it in the mart
/// without extracting again.
#[test]
fn walkthrough_add_a_measure_check_test_and_compute_it() {
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    let c = Council::new(sql.path());
    assert!(c.run("2022-01").status.success());

    std::fs::write(
        sql.path().join("measures/referrals_with_team.sql"),
        "/*---\nid: referrals_with_team\ntitle: Referrals with a team\narea: Referrals\nunit: count\npolarity: neutral\ntarget: ~\norder: 130\ndescription: Referrals in the month that name a referral team.\n---*/\nSELECT\n    p.period,\n    'ALL' AS org_unit,\n    CAST(NULL AS VARCHAR) AS category,\n    COUNT(r.cine_referral_team) AS numerator,\n    CAST(NULL AS BIGINT) AS denominator\nFROM reporting_periods AS p\nLEFT JOIN stg_cin_episodes AS r\n    ON r.cine_referral_date BETWEEN p.period_start AND p.period_end\nGROUP BY p.period\n",
    )
    .unwrap();
    std::fs::write(
        sql.path().join("measures/tests/referrals_with_team.yaml"),
        "measure: referrals_with_team\ncases:\n  - name: only referrals naming a team\n    period: 2022-01\n    given:\n      ssd_cin_episodes:\n        - { cine_referral_id: R1, cine_person_id: P1, cine_referral_date: 2022-01-03, cine_referral_team: T1 }\n        - { cine_referral_id: R2, cine_person_id: P2, cine_referral_date: 2022-01-04 }\n    expect:\n      - { period: 2022-01, numerator: 1 }\n",
    )
    .unwrap();
    let s = sql.path().to_str().unwrap();
    assert!(scrutiny(&["check", "--sql", s], c.path()).status.success());
    let t = scrutiny(&["test", "referrals_with_team", "--sql", s], c.path());
    assert!(t.status.success() && text(&t).contains("1 passed, 0 failed"), "{}", text(&t));

    let before = snapshot(&c.current());
    let out = scrutiny(
        &[
            "compute",
            "--config",
            "scrutiny.yaml",
            "--period",
            "2022-01",
            "--select",
            "referrals_with_team,referrals_new",
        ],
        c.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("referrals_with_team"), "{}", text(&out));
    // Only what the selected measures (and the quality rules) read is computed.
    let log = text(&out);
    let unread = |model: &str| {
        log.lines().any(|l| l.contains("model not computed: nothing in this run reads it") && l.contains(model))
    };
    assert!(unread("int_visit_timeliness") && unread("int_cla_checks") && !unread("stg_cin_episodes"), "{log}");
    assert_eq!(snapshot(&c.current()), before, "a scratch compute does not touch the published mart");
    let scratch = read(&c.path().join("var/scratch/current/metric_values.parquet"));
    let ids = strings(&scratch, "metric_id");
    assert!(ids.iter().any(|i| i == "referrals_with_team") && !ids.iter().any(|i| i == "cla_count"));

    let out = scrutiny(&["compute", "--config", "scrutiny.yaml", "--period", "2022-01", "--publish"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        strings(&read(&c.current().join("metric_values.parquet")), "metric_id")
            .iter()
            .any(|i| i == "referrals_with_team")
    );

    let out = scrutiny(
        &["explain", "referrals_rereferral_rate", "--config", "scrutiny.yaml", "--period", "2022-01"],
        c.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("logical_plan") && msg.contains("physical_plan") && msg.contains("numerator"), "{msg}");

    // Where the time goes: a staging model run with each operator's metrics.
    let out = scrutiny(
        &["explain", "int_visit_timeliness", "--config", "scrutiny.yaml", "--period", "2022-01", "--analyze"],
        c.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let msg = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        msg.contains("staging model int_visit_timeliness, run in ") && msg.contains(" ms (EXPLAIN ANALYZE"),
        "{msg}"
    );
    assert!(msg.contains("Plan with Metrics") && msg.contains("output_rows=") && msg.contains("elapsed_compute="));
    assert!(!msg.contains("numerator"), "a model has no numerator: {msg}");
    // A quality rule too: the duplicates rule could not be profiled on its own.
    let out =
        scrutiny(&["explain", "duplicates", "--config", "scrutiny.yaml", "--period", "2022-01", "--analyze"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let msg = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(msg.contains("quality rule duplicates, run in ") && msg.contains("row_hash("), "{msg}");
    let out = scrutiny(&["explain", "nope", "--config", "scrutiny.yaml", "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("no measure, staging model or quality rule `nope`"));
}

/// The log says where a run's time went: every measure, quality rule and stored staging model
/// with its rows and milliseconds, at info level, as dbt logs its models, and every other model
/// named with why it has no time of its own.
#[test]
fn the_log_times_every_model_measure_and_quality_rule() {
    let c = Council::new(&repo().join("sql"));
    let out = scrutiny(&["--log-format", "json", "run", "--config", "scrutiny.yaml", "--period", "2022-01"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let events: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stderr).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let timed = |message: &str, key: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["fields"]["message"] == message && e["level"] == "INFO")
            .filter(|e| e["fields"]["ms"].is_u64() && e["fields"]["rows"].is_u64())
            .map(|e| e["fields"][key].as_str().unwrap().to_string())
            .collect()
    };
    let said = |message: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["fields"]["message"] == message && e["level"] == "INFO")
            .map(|e| e["fields"]["model"].as_str().unwrap().to_string())
            .collect()
    };
    let built = timed("model built", "model");
    // A model read once is streamed into its reader, whose time includes it; one nothing reads
    // is not computed. Each is still named once in the log.
    let streamed = said("model streamed into the one statement that reads it");
    let unread = said("model not computed: nothing in this run reads it");
    assert!(streamed.contains(&"int_org_unit_at_period_end".to_string()), "{streamed:?}");
    let into = events
        .iter()
        .find(|e| {
            e["fields"]["model"] == "int_org_unit_at_period_end"
                && e["fields"]["message"] == "model streamed into the one statement that reads it"
        })
        .unwrap();
    assert_eq!(into["fields"]["into"], "int_visit_timeliness", "the reader that the model's time is part of");
    // Its materialized CTEs run before it is streamed, so their time is not its reader's: each
    // has a line of its own, or that time would be in no line at all.
    let ctes: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["fields"]["message"] == "materialized CTE stored" && e["level"] == "INFO")
        .filter(|e| e["fields"]["ms"].is_u64() && e["fields"]["rows"].is_u64())
        .map(|e| (e["fields"]["model"].as_str().unwrap().into(), e["fields"]["cte"].as_str().unwrap().into()))
        .collect();
    for cte in ["open_allocations", "several"] {
        assert!(ctes.contains(&("int_org_unit_at_period_end".into(), cte.into())), "{cte}: {ctes:?}");
    }
    assert_eq!(unread, ["stg_department"]);
    let mut models: Vec<String> = built.iter().chain(&streamed).chain(&unread).cloned().collect();
    models.sort();
    let stems = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(repo().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(models, stems("sql/staging"), "one line per model file");
    assert!(built.contains(&"int_visit_timeliness".to_string()) && built.contains(&"stg_shared_ids".to_string()));
    assert_eq!(timed("measure computed", "measure").len(), 25);
    let mut rules = timed("quality rule run", "rule");
    rules.sort();
    assert_eq!(rules, stems("sql/quality"), "one line per rule file");
}

// ---- extraction from SQL Server, through the stand-in ----------------------------------------

/// A SQL Server stand-in serving a directory, on its own runtime, for as long as it lives.
struct StandIn {
    port: u16,
    _rt: tokio::runtime::Runtime,
}

impl StandIn {
    fn serve(data: &Path, tls: bool, faults: mssql_standin::Faults) -> Self {
        let ddl = std::fs::read_to_string(repo().join("sql/ssd/schema.sql")).unwrap();
        let db = mssql_standin::Db::new("ssd", mssql_standin::parse_ddl(&ddl).unwrap(), Some(data)).unwrap();
        let server = mssql_standin::Server::new(
            db,
            mssql_standin::Options { user: "scrutiny".into(), password: "s3cret-pw".into(), tls, faults },
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (addr, _handle) = rt.block_on(server.listen("127.0.0.1:0")).unwrap();
        Self { port: addr.port(), _rt: rt }
    }
}

/// Settings that extract from the stand-in, in `dir`, reading the council's team map.
fn sqlserver_config(dir: &Path, port: u16, encrypt: &str, extra: &str, password: &str) -> PathBuf {
    std::fs::write(dir.join("sql-password"), password).unwrap();
    let yaml = format!(
        "source:\n  sqlserver:\n    host: 127.0.0.1\n    port: {port}\n    database: ssd\n    schema: ssd_development\n    user: scrutiny\n    password_file: ./sql-password\n    encrypt: {encrypt}\n    trust_server_certificate: true\n    retry_backoff_ms: 10\n{extra}storage:\n  landing: ./var/landing\n  mart: ./var/mart\nreference:\n  team_org_units: ./ssd/team_org_units.csv\nmeasures:\n  sql_dir: {}\n",
        repo().join("sql").display()
    );
    let p = dir.join("sqlserver.yaml");
    std::fs::write(&p, yaml).unwrap();
    p
}

/// An Int64 column, each value printed (`Some(3)`, `None`).
fn ints(batches: &[RecordBatch], col: &str) -> Vec<String> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(col).unwrap().as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            a.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()
        })
        .collect()
}

fn mart_rows(mart: &Path) -> Vec<(String, String, String, String, String)> {
    let mv = read(&mart.join("metric_values.parquet"));
    let (num, den) = (ints(&mv, "numerator"), ints(&mv, "denominator"));
    let (ids, periods, units, cats) =
        (strings(&mv, "metric_id"), strings(&mv, "period"), strings(&mv, "org_unit"), strings(&mv, "category"));
    (0..ids.len())
        .map(|i| {
            (ids[i].clone(), periods[i].clone(), format!("{}/{}", units[i], cats[i]), num[i].clone(), den[i].clone())
        })
        .collect()
}

fn landing_checksums(landing_root: &Path) -> BTreeMap<String, (u64, String)> {
    let dir = std::fs::read_dir(landing_root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").is_file())
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    m["tables"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), (v["rows"].as_u64().unwrap(), v["sha256"].as_str().unwrap().to_string())))
        .collect()
}

#[test]
fn extraction_through_sql_server_plaintext_strict_and_required_tls_matches_the_file_source() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let from_files = mart_rows(&c.current());
    for (tls, encrypt) in [(false, "off"), (true, "strict"), (false, "required")] {
        let standin = StandIn::serve(&c.path().join("ssd"), tls, Default::default());
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&c.path().join("ssd"), &dir.path().join("ssd"));
        let cfg = sqlserver_config(dir.path(), standin.port, encrypt, "", "s3cret-pw");
        let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], dir.path());
        assert!(out.status.success(), "{encrypt}: {}", text(&out));
        assert_eq!(
            mart_rows(&dir.path().join("var/mart/current")),
            from_files,
            "{encrypt}: the same figures as from the files"
        );
        let manifest =
            std::fs::read_to_string(landing_dir(&dir.path().join("var/landing")).join("manifest.json")).unwrap();
        assert!(manifest.contains("\"kind\": \"sqlserver\"") && !manifest.contains("s3cret-pw"));
        assert!(!text(&out).contains("s3cret-pw"), "the password never reaches the log");
    }
}

#[test]
fn transient_faults_are_retried_and_land_identical_tables() {
    let c = Council::new(&repo().join("sql"));
    let data = c.path().join("ssd");
    let extract = |faults: mssql_standin::Faults, extra: &str| {
        let standin = StandIn::serve(&data, false, faults);
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&data, &dir.path().join("ssd"));
        let cfg = sqlserver_config(dir.path(), standin.port, "off", extra, "s3cret-pw");
        let out = scrutiny(&["extract", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], dir.path());
        (out, landing_checksums_or_empty(&dir.path().join("var/landing")), dir)
    };
    let (clean, expected, _d) = extract(Default::default(), "");
    assert!(clean.status.success(), "{}", text(&clean));
    assert_eq!(expected.len(), 16);
    let faults = [
        ("two refused logins", mssql_standin::Faults { fail_logins: 2, ..Default::default() }, ""),
        (
            "connection dropped after 100 rows",
            mssql_standin::Faults { drop_after_rows: Some(100), ..Default::default() },
            "",
        ),
        ("deadlock victim 1205", mssql_standin::Faults { error_once: Some(1205), ..Default::default() }, ""),
        ("database unavailable 40613", mssql_standin::Faults { error_once: Some(40613), ..Default::default() }, ""),
        (
            "a stall past the command timeout",
            mssql_standin::Faults { stall: Some(std::time::Duration::from_secs(3)), ..Default::default() },
            "    command_timeout_secs: 1\n",
        ),
    ];
    for (what, f, extra) in faults {
        let (out, landed, _d) = extract(f, extra);
        assert!(out.status.success(), "{what}: {}", text(&out));
        let said = if what.contains("3952") { "does not allow snapshot isolation" } else { "retrying the table" };
        assert!(text(&out).contains(said), "{what}: `{said}` not logged:\n{}", text(&out));
        assert_eq!(landed, expected, "{what}: the landing differs from a clean extraction");
    }
}

fn landing_checksums_or_empty(root: &Path) -> BTreeMap<String, (u64, String)> {
    if root.is_dir() && std::fs::read_dir(root).unwrap().any(|e| e.unwrap().path().join("manifest.json").is_file()) {
        landing_checksums(root)
    } else {
        BTreeMap::new()
    }
}

#[test]
fn a_refused_login_exits_78_naming_the_server_never_the_password() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let cfg = sqlserver_config(c.path(), standin.port, "off", "", "wrong-password-123");
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains(&format!("127.0.0.1:{}/ssd", standin.port)) && msg.contains("18456"), "{msg}");
    assert!(!msg.contains("wrong-password-123") && !msg.contains("s3cret-pw"), "{msg}");
    assert!(!c.current().exists());
}

#[test]
fn a_missing_table_exits_78_naming_server_database_and_table() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let cfg = sqlserver_config(c.path(), standin.port, "off", "", "s3cret-pw");
    let yaml = std::fs::read_to_string(&cfg).unwrap().replace("schema: ssd_development", "schema: reporting");
    std::fs::write(&cfg, yaml).unwrap();
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains(&format!("127.0.0.1:{}/ssd: table `ssd_person`", standin.port)), "{msg}");
    assert!(
        std::fs::read_dir(c.path().join("var/landing")).map(|d| d.count()).unwrap_or(0) == 0,
        "no half-written landing"
    );
}

#[test]
fn an_unreachable_server_exits_69() {
    let c = Council::new(&repo().join("sql"));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = sqlserver_config(c.path(), port, "off", "    retries: 1\n    connect_timeout_secs: 2\n", "s3cret-pw");
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(69), "{}", text(&out));
    assert!(text(&out).contains(&format!("127.0.0.1:{port}/ssd is unavailable")), "{}", text(&out));
}

#[test]
fn a_column_rename_maps_a_council_s_column_name() {
    let c = Council::new(&repo().join("sql"));
    // This council's SSD calls the CIN plan key `cin_plan_id` (as the Mosaic build does).
    let data = c.path().join("ssd");
    let f = data.join("ssd_cin_plans.csv");
    let body = std::fs::read_to_string(&f).unwrap().replacen("cinp_cin_plan_id", "cin_plan_id", 1);
    std::fs::write(&f, body).unwrap();
    let ddl = std::fs::read_to_string(repo().join("sql/ssd/schema.sql")).unwrap().replace(
        "cinp_cin_plan_id                NVARCHAR(48) PRIMARY KEY",
        "cin_plan_id                     NVARCHAR(48) PRIMARY KEY",
    );
    let db = mssql_standin::Db::new("ssd", mssql_standin::parse_ddl(&ddl).unwrap(), Some(&data)).unwrap();
    let server = mssql_standin::Server::new(
        db,
        mssql_standin::Options {
            user: "scrutiny".into(),
            password: "s3cret-pw".into(),
            tls: false,
            faults: Default::default(),
        },
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _h) = rt.block_on(server.listen("127.0.0.1:0")).unwrap();
    let cfg = sqlserver_config(
        c.path(),
        addr.port(),
        "off",
        "    column_renames:\n      ssd_cin_plans:\n        cinp_cin_plan_id: cin_plan_id\n",
        "s3cret-pw",
    );
    let out = scrutiny(&["extract", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let landing = landing_checksums(&c.path().join("var/landing"));
    let lines = std::fs::read_to_string(&f).unwrap().lines().count() as u64 - 1;
    assert_eq!(landing["ssd_cin_plans"].0, lines);
}

// ---- the scheduled job --------------------------------------------------------------------

/// The mart's content without the run ids and timestamps that differ between runs.
fn mart_content(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in ["metric_values", "metrics", "periods", "org_units", "categories", "data_quality"] {
        let batches = read(&dir.join(format!("{table}.parquet")));
        let mut rows = Vec::new();
        for b in &batches {
            let keep: Vec<usize> = (0..b.num_columns()).filter(|i| b.schema().field(*i).name() != "run_id").collect();
            let b = b.project(&keep).unwrap();
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&[b]).unwrap().to_string();
            rows.extend(text.lines().map(str::to_string));
        }
        out.insert(table.to_string(), rows);
    }
    out
}

#[test]
fn two_runs_of_one_period_give_the_same_mart() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let first = mart_content(&c.current());
    let first_version = std::fs::read_link(c.current()).unwrap();
    assert!(c.run("2022-01").status.success());
    assert_ne!(std::fs::read_link(c.current()).unwrap(), first_version, "a new version was published");
    assert_eq!(mart_content(&c.current()), first);
    assert_eq!(strings(&read(&c.current().join("runs.parquet")), "run_id").len(), 2, "runs.parquet records both runs");
}

#[test]
fn a_run_that_died_after_landing_resumes_to_the_same_mart() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let expected = mart_content(&c.current());

    let d = Council::new(&repo().join("sql"));
    // The run lands its data, then dies before computing.
    let out = scrutiny(&["extract", "--config", "scrutiny.yaml", "--period", "2022-01"], d.path());
    assert!(out.status.success(), "{}", text(&out));
    let run_id =
        Path::new(String::from_utf8(out.stdout).unwrap().trim()).file_name().unwrap().to_string_lossy().to_string();
    assert!(!d.current().exists());
    // Remove the source: a resumed run must not extract again.
    std::fs::rename(d.path().join("ssd"), d.path().join("ssd-gone")).unwrap();
    std::fs::create_dir_all(d.path().join("ssd")).unwrap();
    std::fs::copy(d.path().join("ssd-gone/team_org_units.csv"), d.path().join("ssd/team_org_units.csv")).unwrap();
    let out = scrutiny(&["run", "--config", "scrutiny.yaml", "--resume", &run_id], d.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("resuming from the landing"), "{}", text(&out));
    assert_eq!(mart_content(&d.current()), expected);
    let runs = strings(&read(&d.current().join("runs.parquet")), "run_id");
    assert_eq!(runs, vec![run_id.clone()], "the resumed run publishes under its own run id");
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join(format!("var/landing/.runs/{run_id}.json"))).unwrap())
            .unwrap();
    for stage in ["extract", "compute", "publish", "notify"] {
        assert!(record["stages"][stage].is_string(), "{stage} not recorded: {record}");
    }
}

#[test]
fn metrics_and_lineage_after_a_run_and_retention_keeps_current() {
    let c = Council::new(&repo().join("sql"));
    c.edit_config(
        "  mart: ./var/mart\n",
        "  mart: ./var/mart\n  keep_versions: 2\nmonitoring:\n  prometheus_textfile: ./scrutiny.prom\n  openlineage_file: ./lineage.jsonl\n",
    );
    for _ in 0..3 {
        let out = c.run("2022-01");
        assert!(out.status.success(), "{}", text(&out));
    }
    let prom = std::fs::read_to_string(c.path().join("scrutiny.prom")).unwrap();
    for want in [
        "scrutiny_last_success_timestamp_seconds{pipeline=\"monthly_scrutiny\"} ",
        "scrutiny_last_completion_timestamp_seconds{pipeline=\"monthly_scrutiny\"} ",
        "scrutiny_stage_duration_seconds{pipeline=\"monthly_scrutiny\",stage=\"compute\"} ",
        "scrutiny_rows_extracted{pipeline=\"monthly_scrutiny\",table=\"ssd_person\"} ",
        "scrutiny_measures_computed{pipeline=\"monthly_scrutiny\"} 25\n",
        "scrutiny_data_quality_rows{pipeline=\"monthly_scrutiny\",table=\"ssd_cin_episodes\",rule=\"exact_duplicate_dropped\"} ",
    ] {
        assert!(prom.contains(want), "{want} missing from:\n{prom}");
    }
    let events: Vec<serde_json::Value> = std::fs::read_to_string(c.path().join("lineage.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 6);
    assert_eq!(events[0]["eventType"], "START");
    assert_eq!(events[1]["eventType"], "COMPLETE");
    assert!(
        events[1]["inputs"].as_array().unwrap().iter().any(|i| i["name"] == "ssd_cin_episodes"
            && i["inputFacets"]["inputStatistics"]["rowCount"].as_u64().unwrap() > 0)
    );
    assert_eq!(events[1]["outputs"][0]["name"], "metric_values");

    let versions: Vec<String> = std::fs::read_dir(c.path().join("var/mart/versions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    let current = std::fs::read_link(c.current()).unwrap().file_name().unwrap().to_string_lossy().to_string();
    assert!(versions.contains(&current));

    // A failed run: the completion time moves, the success time does not.
    let success = prom.lines().find(|l| l.starts_with("scrutiny_last_success_timestamp_seconds{")).unwrap().to_string();
    std::fs::remove_file(c.path().join("ssd/ssd_person.csv")).unwrap();
    assert_eq!(c.run("2022-01").status.code(), Some(65));
    let prom = std::fs::read_to_string(c.path().join("scrutiny.prom")).unwrap();
    assert!(
        prom.contains(&success) && prom.contains("scrutiny_last_run_success{pipeline=\"monthly_scrutiny\"} 0\n"),
        "{prom}"
    );
    let last: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(c.path().join("lineage.jsonl")).unwrap().lines().last().unwrap())
            .unwrap();
    assert_eq!(last["eventType"], "FAIL");
}

#[test]
fn old_landings_are_removed_after_a_publish_never_this_run_s() {
    let c = Council::new(&repo().join("sql"));
    let old = c.path().join("var/landing/20200105T061500Z-2019-12-0001");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("manifest.json"), "{}").unwrap();
    let recent = c.path().join(format!("var/landing/{}-2021-12-0002", chrono::Utc::now().format("%Y%m%dT%H%M%SZ")));
    std::fs::create_dir_all(&recent).unwrap();
    // Partial landings of killed runs: a day old, removed; a fresh one may be an extract at work.
    let stale_partial = c.path().join("var/landing/.20220105T061500Z-2021-12-0003.partial");
    let fresh_partial = c.path().join("var/landing/.20220105T061500Z-2021-12-0004.partial");
    for p in [&stale_partial, &fresh_partial] {
        std::fs::create_dir_all(p).unwrap();
    }
    let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
    std::fs::File::open(&stale_partial).unwrap().set_modified(two_days_ago).unwrap();
    assert!(c.run("2022-01").status.success());
    assert!(!old.exists(), "a landing past the retention period is removed");
    assert!(recent.exists());
    assert!(!stale_partial.exists() && fresh_partial.exists());
    assert_eq!(
        std::fs::read_dir(c.path().join("var/landing"))
            .unwrap()
            .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
            .count(),
        2
    );
}

/// The landing of a run (the one directory with a manifest) under a landing root.
fn landing_dir(root: &Path) -> PathBuf {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("manifest.json").is_file())
        .expect("a landing")
}

#[test]
fn the_summary_suppresses_small_numbers_when_asked_and_names_the_largest_movements() {
    let c = Council::new(&repo().join("sql"));
    c.edit_config("notify:\n", "report:\n  suppress_small_numbers: true\nnotify:\n");
    assert!(c.run("2022-01").status.success());
    let body = c.summary_email();
    assert!(body.contains("are shown as c"), "{body}");
    assert!(body.contains("What changed most against January 2021"), "{body}");
    assert!(body.contains(" on January 2021 ("), "{body}");
    assert!(body.contains(" rose ") || body.contains(" fell "), "{body}");
}

#[test]
fn officers_commentary_for_the_period_is_included_and_a_wrong_area_is_named() {
    let c = Council::new(&repo().join("sql"));
    std::fs::create_dir_all(c.path().join("commentary")).unwrap();
    std::fs::write(
        c.path().join("commentary/2022-01.yaml"),
        "telling_us:\n  Referrals: We have seen a small dip in referrals in December.\nquestions:\n  Referrals: Are partners making the right referrals at the right time?\n",
    )
    .unwrap();
    c.edit_config("notify:\n", "report:\n  commentary_dir: ./commentary\nnotify:\n");
    assert!(c.run("2022-01").status.success());
    let body = c.summary_email();
    assert!(
        body.contains("What is the data telling us?") && body.contains("small dip in referrals in December"),
        "{body}"
    );
    assert!(body.contains("Are partners making the right referrals"), "{body}");

    std::fs::write(c.path().join("commentary/2022-01.yaml"), "telling_us:\n  Refferals: typo\n").unwrap();
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("no area `Refferals`"), "{}", text(&out));
}

mod email;
