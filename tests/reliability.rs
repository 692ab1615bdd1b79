//! Reliability, shown by doing the harm: SIGKILL at many moments with the next run on another
//! hostname, two runs at once, a full disk, a panicking worker, damaged files, bad rows, and a
//! real Pushgateway that must keep the last success through a failure.

use super::*;
use std::io::{BufRead, Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What every published version holds.
const MART_FILES: [&str; 10] = [
    "metric_values.parquet",
    "metrics.parquet",
    "periods.parquet",
    "org_units.parquet",
    "categories.parquet",
    "data_quality.parquet",
    "spc.parquet",
    "benchmarks.parquet",
    "runs.parquet",
    "report.html",
];

/// A run in the background whose log (JSON lines on stderr) is read as it comes.
struct Started {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

fn start(dir: &Path, args: &[&str], fault: Option<&str>) -> Started {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrutiny"));
    cmd.arg("--log-format").arg("json").args(args).current_dir(dir).env("NO_COLOR", "1");
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(f) = fault {
        cmd.env("SCRUTINY_FAULT", f);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    Started { child, lines, seen: Vec::new() }
}

impl Started {
    /// Waits for a log line containing `marker`; false if the run ended or time ran out first.
    fn wait_for(&mut self, marker: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    let hit = l.contains(marker);
                    self.seen.push(l);
                    if hit {
                        return true;
                    }
                }
                Err(_) => return false,
            }
        }
        false
    }

    /// SIGKILL, as the OOM killer or a drained node does it. Says whether the run was still
    /// going, and gives its log.
    fn kill(mut self) -> (bool, Vec<String>) {
        let running = self.child.try_wait().unwrap().is_none();
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.seen.extend(self.lines.try_iter());
        (running, self.seen)
    }

    fn message_field(&self, message: &str, field: &str) -> Option<String> {
        self.seen.iter().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).find_map(|v| {
            (v["fields"]["message"] == message).then(|| v["fields"][field].as_str().map(str::to_string)).flatten()
        })
    }
}

/// The last stage a log reached, for the report of where each kill landed.
fn stage_reached(log: &[String]) -> &'static str {
    let has = |m: &str| log.iter().any(|l| l.contains(m));
    if has("\"published\"") || has("stalled at notify") {
        "notify"
    } else if has("stalled at publish") || has("\"computed\"") {
        "publish"
    } else if has("\"landed\"") {
        "compute"
    } else if has("run started") {
        "extract"
    } else {
        "start"
    }
}

/// The invariants that must hold after any kill: `current` is absent or a complete version,
/// and every version and landing that is not hidden is complete.
fn assert_consistent(c: &Council, when: &str) {
    let mart = c.path().join("var/mart");
    let complete = |dir: &Path| {
        for f in MART_FILES {
            assert!(dir.join(f).is_file(), "{when}: {} lacks {f}", dir.display());
        }
        for f in MART_FILES.iter().filter(|f| f.ends_with(".parquet")) {
            assert!(!read(&dir.join(f)).is_empty() || *f != "metric_values.parquet", "{when}: {f} is readable");
        }
    };
    if let Ok(target) = std::fs::read_link(mart.join("current")) {
        complete(&mart.join(target));
    }
    if let Ok(versions) = std::fs::read_dir(mart.join("versions")) {
        for e in versions.map(Result::unwrap) {
            if !e.file_name().to_string_lossy().starts_with('.') {
                complete(&e.path());
            }
        }
    }
    if let Ok(landings) = std::fs::read_dir(c.path().join("var/landing")) {
        for e in landings.map(Result::unwrap) {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let m: serde_json::Value = serde_json::from_slice(&std::fs::read(e.path().join("manifest.json")).unwrap())
                .unwrap_or_else(|err| panic!("{when}: landing {name} has no readable manifest: {err}"));
            let tables = m["tables"].as_object().unwrap();
            assert_eq!(tables.len(), 16, "{when}: landing {name} lists every contract table");
            for t in tables.values() {
                assert!(e.path().join(t["file"].as_str().unwrap()).is_file(), "{when}: {name}: {t}");
            }
        }
    }
}

/// `scrutiny run` in a UTS namespace of its own, with another hostname: a new pod.
fn run_on_host(c: &Council, host: &str) -> Output {
    let out = Command::new("unshare")
        .args(["--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host, env!("CARGO_BIN_EXE_scrutiny")])
        .args(["run", "--config", "scrutiny.yaml", "--period", "2022-01"])
        .current_dir(c.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare (util-linux) runs the next run on another hostname");
    assert!(
        !text(&out).contains("unshare failed"),
        "changing the hostname needs root (scripts/test runs as root in CI): {}",
        text(&out)
    );
    out
}

enum Kill {
    /// When the log says this.
    AtLine(&'static str),
    /// At an exact point inside a stage, where the run is held (`SCRUTINY_FAULT=stall:...`).
    Stall(&'static str),
    /// After a delay.
    After(Duration),
}

#[test]
fn a_run_killed_at_any_moment_is_recovered_by_the_next_run_from_another_host() {
    // What an uninterrupted run publishes, and how long it takes.
    let reference = Council::new(&repo().join("sql"));
    let clock = Instant::now();
    assert!(reference.run("2022-01").status.success());
    let full = clock.elapsed();
    let expected = mart_content(&reference.current());

    let c = Council::new(&repo().join("sql"));
    let mut points = vec![
        Kill::AtLine("run started"),
        Kill::Stall("extract:ssd_cin_episodes"),
        Kill::AtLine("\"landed\""),
        Kill::AtLine("\"computed\""),
        Kill::Stall("publish:before-rename"),
        Kill::Stall("publish:before-switch"),
        Kill::AtLine("\"published\""),
        Kill::Stall("notify:before-send"),
    ];
    // And moments spread over a whole run's length, shifted a little each time the test runs.
    let jitter = u64::from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis());
    for k in 0..7u32 {
        points.push(Kill::After(full * k / 8 + Duration::from_millis(jitter * u64::from(k) / 7 % 97)));
    }
    let mut report = Vec::new();
    for (i, point) in points.iter().enumerate() {
        let args = ["run", "--config", "scrutiny.yaml", "--period", "2022-01"];
        let (mut run, label) = match point {
            Kill::AtLine(m) => (start(c.path(), &args, None), format!("at {m}")),
            Kill::Stall(p) => (start(c.path(), &args, Some(&format!("stall:{p}"))), format!("stalled at {p}")),
            Kill::After(d) => (start(c.path(), &args, None), format!("after {} ms", d.as_millis())),
        };
        match point {
            Kill::AtLine(m) => assert!(run.wait_for(m, Duration::from_secs(120)), "{label}: never logged"),
            Kill::Stall(p) => {
                assert!(run.wait_for(&format!("stalled at {p}"), Duration::from_secs(120)), "{label}: never reached")
            }
            Kill::After(d) => std::thread::sleep(*d),
        }
        let (killed, log) = run.kill();
        let stage = stage_reached(&log);
        report.push(format!("{label}: {}", if killed { stage } else { "finished first" }));
        assert_consistent(&c, &label);

        let host = format!("pod-scrutiny-{i}");
        let out = run_on_host(&c, &host);
        assert!(out.status.success(), "{label}: the next run on {host} failed: {}", text(&out));
        assert!(text(&out).contains(&host), "{label}: the rerun ran as {host}: {}", text(&out));
        assert_consistent(&c, &format!("{label}, then rerun"));
        assert_eq!(
            mart_content(&c.current()),
            expected,
            "{label}: the mart after the rerun equals an uninterrupted run's"
        );
        let leftovers: Vec<String> = std::fs::read_dir(c.path().join("var/mart/versions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{label}: a killed run's partial versions are removed: {leftovers:?}");
    }
    let killed = report.iter().filter(|r| !r.ends_with("finished first")).count();
    eprintln!("kill points ({killed} of {} killed a running run):\n  {}", report.len(), report.join("\n  "));
    assert!(killed >= 9, "most kills land inside a run: {report:?}");
    for stage in ["extract", "compute", "publish", "notify"] {
        assert!(report.iter().any(|r| r.ends_with(stage)), "no kill landed in {stage}: {report:?}");
    }
}

#[test]
fn resume_after_a_kill_continues_from_the_landing() {
    let reference = Council::new(&repo().join("sql"));
    assert!(reference.run("2022-01").status.success());
    let c = Council::new(&repo().join("sql"));
    let mut run = start(
        c.path(),
        &["run", "--config", "scrutiny.yaml", "--period", "2022-01"],
        Some("stall:publish:before-switch"),
    );
    assert!(run.wait_for("stalled at publish:before-switch", Duration::from_secs(120)));
    let run_id = run.message_field("run started", "run_id").expect("the run id is logged");
    run.kill();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.path().join(format!("var/landing/.runs/{run_id}.json"))).unwrap())
            .unwrap();
    assert!(record["stages"]["extract"].is_string() && record["stages"]["publish"].is_null(), "{record}");
    // The source is gone: a resumed run must not extract again.
    std::fs::remove_file(c.path().join("ssd/ssd_person.csv")).unwrap();
    let out = scrutiny(&["run", "--config", "scrutiny.yaml", "--resume", &run_id], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("resuming from the landing"), "{}", text(&out));
    assert_eq!(mart_content(&c.current()), mart_content(&reference.current()));
    assert_eq!(std::fs::read_link(c.current()).unwrap(), Path::new("versions").join(&run_id));
    // Resumed again after it published: the published version stays, a new one is switched to.
    let out = scrutiny(&["run", "--config", "scrutiny.yaml", "--resume", &run_id], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(std::fs::read_link(c.current()).unwrap(), Path::new("versions").join(format!("{run_id}-r2")));
    assert!(c.path().join("var/mart/versions").join(&run_id).join("metric_values.parquet").is_file());
    assert_eq!(mart_content(&c.current()), mart_content(&reference.current()));
}

#[test]
fn a_second_run_at_once_is_refused_with_75_naming_the_holder_and_so_are_publish_and_resend() {
    let c = Council::new(&repo().join("sql"));
    let mut first = start(
        c.path(),
        &["run", "--config", "scrutiny.yaml", "--period", "2022-01"],
        Some("stall:publish:before-switch"),
    );
    assert!(first.wait_for("stalled at", Duration::from_secs(120)));
    let run_id = first.message_field("run started", "run_id").unwrap();
    let pid = first.child.id();
    let second = c.run("2022-01");
    assert_eq!(second.status.code(), Some(75), "{}", text(&second));
    let msg = text(&second);
    assert!(msg.contains(&format!("run {run_id}")) && msg.contains(&format!("pid {pid}")), "{msg}");
    let publish = scrutiny(&["compute", "--config", "scrutiny.yaml", "--period", "2022-01", "--publish"], c.path());
    assert_eq!(publish.status.code(), Some(75), "compute --publish takes the run lock: {}", text(&publish));
    let resend = scrutiny(&["notify", "--config", "scrutiny.yaml", "--resend"], c.path());
    assert_eq!(resend.status.code(), Some(75), "notify --resend takes the run lock: {}", text(&resend));
    first.kill();
    assert!(!c.current().exists(), "the killed run published nothing");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ended without releasing the lock"), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(c.path().join("var/mart/.scrutiny.lock")).unwrap(),
        "",
        "released in good order"
    );
}

#[test]
fn a_lease_on_a_filesystem_without_locks_is_respected_until_it_expires() {
    let c = Council::new(&repo().join("sql"));
    c.edit_config("  mart: ./var/mart\n", "  mart: ./var/mart\n  lock_ttl_secs: 60\n");
    std::fs::create_dir_all(c.path().join("var/mart")).unwrap();
    let lease = |until: chrono::DateTime<chrono::Utc>| {
        let holder = serde_json::json!({ "pid": 1, "host": "pod-on-another-node", "run_id": "20220205T061500Z-2022-01-abcd",
            "started_at": "2022-02-05T06:15:00Z", "expires_at": until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) });
        std::fs::write(c.path().join("var/mart/.scrutiny.lock"), holder.to_string()).unwrap();
    };
    // Another node's run, whose kernel lock this node cannot see, still within its lease.
    lease(chrono::Utc::now() + chrono::Duration::seconds(600));
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("pod-on-another-node") && text(&out).contains("lease until"), "{}", text(&out));
    // Its lease ran out: it died, and the lock is taken over with a warning.
    lease(chrono::Utc::now() - chrono::Duration::seconds(1));
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("lease has expired"), "{}", text(&out));
}

/// `scrutiny run` with a fault injected; its output and what it left under the landing root.
fn run_with_fault(c: &Council, config: &str, fault: &str) -> (Output, Vec<String>) {
    let out = Command::new(env!("CARGO_BIN_EXE_scrutiny"))
        .args(["run", "--config", config, "--period", "2022-01"])
        .current_dir(c.path())
        .env("SCRUTINY_FAULT", fault)
        .output()
        .unwrap();
    let landings = std::fs::read_dir(c.path().join("var/landing"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != ".runs")
        .collect();
    (out, landings)
}

#[test]
fn a_panicking_extraction_worker_fails_the_run_with_70_and_lands_nothing() {
    let c = Council::new(&repo().join("sql"));
    let (out, landings) = run_with_fault(&c, "scrutiny.yaml", "panic:extract:ssd_cin_episodes");
    assert_eq!(out.status.code(), Some(70), "{}", text(&out));
    assert!(text(&out).contains("table `ssd_cin_episodes`: the extraction worker panicked"), "{}", text(&out));
    assert!(landings.is_empty(), "no landing, not even a partial one: {landings:?}");
    assert!(!c.current().exists());
}

#[test]
fn a_panicking_sql_server_worker_fails_the_run_with_70_and_lands_nothing() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let cfg = sqlserver_config(c.path(), standin.port, "off", "", "s3cret-pw");
    let (out, landings) = run_with_fault(&c, cfg.to_str().unwrap(), "panic:extract:ssd_cin_episodes");
    assert_eq!(out.status.code(), Some(70), "{}", text(&out));
    assert!(text(&out).contains("panicked"), "{}", text(&out));
    assert!(landings.is_empty(), "a worker's tables are never silently left out: {landings:?}");
}

/// The landing of the only run so far, and its id.
fn only_landing(c: &Council) -> (PathBuf, String) {
    let dir = landing_dir(&c.path().join("var/landing"));
    let id = dir.file_name().unwrap().to_string_lossy().to_string();
    (dir, id)
}

#[test]
fn a_damaged_landing_is_refused_by_name_with_65() {
    let c = Council::new(&repo().join("sql"));
    let out = scrutiny(&["extract", "--config", "scrutiny.yaml", "--period", "2022-01"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let (dir, id) = only_landing(&c);
    let file = dir.join("ssd_cin_episodes.parquet");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    for args in [
        vec!["compute", "--config", "scrutiny.yaml", "--period", "2022-01", "--landing", id.as_str()],
        vec!["run", "--config", "scrutiny.yaml", "--resume", id.as_str()],
    ] {
        let out = scrutiny(&args, c.path());
        assert_eq!(out.status.code(), Some(65), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("ssd_cin_episodes.parquet is damaged"), "{args:?}: {}", text(&out));
    }
    // The files are checked on every core at once, yet with two damaged the first in the
    // manifest's order is named, whichever check finished first.
    let person = dir.join("ssd_person.parquet");
    let person_bytes = std::fs::read(&person).unwrap();
    std::fs::write(&person, &person_bytes[..person_bytes.len() / 2]).unwrap();
    for _ in 0..3 {
        let out =
            scrutiny(&["compute", "--config", "scrutiny.yaml", "--period", "2022-01", "--landing", &id], c.path());
        assert_eq!(out.status.code(), Some(65), "{}", text(&out));
        assert!(text(&out).contains("ssd_cin_episodes.parquet is damaged"), "{}", text(&out));
        assert!(!text(&out).contains("ssd_person.parquet"), "{}", text(&out));
    }
    std::fs::write(&person, &person_bytes).unwrap();
    // A manifest that does not list every table is refused too.
    std::fs::write(&file, &bytes).unwrap();
    let manifest = dir.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    m["tables"].as_object_mut().unwrap().remove("ssd_person");
    std::fs::write(&manifest, m.to_string()).unwrap();
    let out = scrutiny(&["compute", "--config", "scrutiny.yaml", "--period", "2022-01", "--landing", &id], c.path());
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("is incomplete: its manifest lacks ssd_person"), "{}", text(&out));
}

#[test]
fn a_damaged_published_file_is_named_with_65_and_current_is_kept() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let version = std::fs::read_link(c.current()).unwrap();
    let file = c.current().join("metric_values.parquet");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 3]).unwrap();
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("metric_values.parquet") && !text(&out).contains("panicked"), "{}", text(&out));
    assert_eq!(std::fs::read_link(c.current()).unwrap(), version, "current is where it was");
}

/// A small tmpfs, for a disk that fills up; unmounted when dropped. Needs root, as CI has.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "a full-disk test mounts a tmpfs and needs root: {}", text(&out));
        Self(path)
    }

    /// Fills the filesystem, leaving about `room` bytes.
    fn fill(&self, room: usize) {
        let mut f = std::fs::File::create(self.0.join("filler")).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
        drop(f);
        let len = std::fs::metadata(self.0.join("filler")).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(self.0.join("filler")).unwrap();
        f.set_len(len.saturating_sub(room as u64)).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn hidden_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .filter(|n| n.starts_with('.') && n != ".runs" && n != ".scrutiny.lock")
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_full_disk_exits_73_naming_the_path_and_keeps_the_published_mart() {
    let c = Council::new(&repo().join("sql"));
    let mart = Tmpfs::mount(c.path().join("var/mart"), "16m");
    assert!(c.run("2022-01").status.success());
    let published = snapshot(&c.current());
    let version = std::fs::read_link(c.current()).unwrap();

    mart.fill(32 * 1024);
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    assert!(text(&out).contains("var/mart/versions/") && text(&out).contains("No space left"), "{}", text(&out));
    assert_eq!(std::fs::read_link(c.current()).unwrap(), version);
    assert_eq!(snapshot(&c.current()), published, "the published mart is byte for byte as it was");
    assert!(hidden_entries(&c.path().join("var/mart/versions")).is_empty(), "partial files are removed");

    // The landing's disk full: nothing half-landed is left, the mart untouched.
    let landing = Tmpfs::mount(c.path().join("var/landing"), "4m");
    landing.fill(16 * 1024);
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(73), "{}", text(&out));
    assert!(text(&out).contains("var/landing/") && text(&out).contains("No space left"), "{}", text(&out));
    assert!(hidden_entries(&c.path().join("var/landing")).is_empty(), "no partial landing is left");
    assert_eq!(snapshot(&c.current()), published);

    // Room again: the next run publishes.
    drop(landing);
    std::fs::remove_file(c.path().join("var/mart/filler")).unwrap();
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    drop(mart);
}

#[test]
fn quarantined_rows_are_listed_counted_and_bounded() {
    let c = Council::new(&repo().join("sql"));
    let csv = c.path().join("ssd/ssd_cin_episodes.csv");
    let mut text_csv = std::fs::read_to_string(&csv).unwrap();
    let good_rows = text_csv.lines().count() - 1;
    text_csv.push_str("R-BAD-1,P-1,31/01/2022,N,,\nR-BAD-2,P-2\n");
    std::fs::write(&csv, text_csv).unwrap();

    // By default a bad row fails the run.
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));

    c.edit_config("    path: ./ssd\n", "    path: ./ssd\n    on_bad_row: quarantine\n");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let landing = std::fs::read_dir(c.path().join("var/landing"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("rejects.csv").is_file())
        .expect("a landing with rejects.csv");
    let rejects = std::fs::read_to_string(landing.join("rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "table,file,line,column,reason");
    assert_eq!(lines.len(), 3, "{rejects}");
    assert!(lines[1].contains(&format!(",{},cine_referral_date,not a date", good_rows + 2)), "{rejects}");
    assert!(lines[2].contains(&format!(",{},,", good_rows + 3)), "{rejects}");
    for value in ["R-BAD-1", "P-1", "31/01/2022", "R-BAD-2", "P-2"] {
        assert!(!rejects.contains(value), "rejects.csv never holds a row's values: {value}");
    }
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(landing.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["tables"]["ssd_cin_episodes"]["rows_rejected"], 2);
    let dq = read(&c.current().join("data_quality.parquet"));
    let (tables, rules, affected) = (strings(&dq, "table_name"), strings(&dq, "rule"), ints(&dq, "rows_affected"));
    let i = (0..tables.len())
        .find(|i| tables[*i] == "ssd_cin_episodes" && rules[*i] == "unreadable_row_quarantined")
        .expect("the quarantined rows are counted in data_quality");
    assert_eq!(affected[i], "Some(2)");

    c.edit_config("    on_bad_row: quarantine\n", "    on_bad_row: quarantine\n    max_rejects: 1\n");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    assert!(text(&out).contains("2 rows could not be read, more than source.files.max_rejects (1)"), "{}", text(&out));
}

/// Settings that extract from the stand-in with the council's own copy of `sql/`, to edit.
fn sqlserver_config_with_own_sql(c: &Council, port: u16) -> (PathBuf, PathBuf) {
    let sql = c.path().join("sql");
    copy_dir(&repo().join("sql"), &sql);
    let cfg = sqlserver_config(c.path(), port, "off", "", "s3cret-pw");
    let yaml = std::fs::read_to_string(&cfg).unwrap().replace(&repo().join("sql").display().to_string(), "./sql");
    std::fs::write(&cfg, yaml).unwrap();
    (cfg, sql)
}

#[test]
fn a_missing_extract_query_is_configuration_78_before_any_data_is_read() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let (cfg, sql) = sqlserver_config_with_own_sql(&c, standin.port);
    std::fs::remove_file(sql.join("extract/ssd/ssd_person.sql")).unwrap();
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("table `ssd_person`: no extract query at") && text(&out).contains("ssd_person.sql"));
    assert!(!c.path().join("var/landing").exists() || hidden_entries(&c.path().join("var/landing")).is_empty());
}

#[test]
fn a_hostile_column_rename_is_refused_or_quoted_never_run() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let extra = "    column_renames:\n      ssd_person:\n        pers_sex: \"x]; DROP TABLE ssd_cin_episodes; --\"\n";
    let cfg = sqlserver_config(c.path(), standin.port, "off", extra, "s3cret-pw");
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    // One bracketed name the server does not have: a configuration error about that column.
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("ssd_person"), "{}", text(&out));
    // And the table it tried to drop is still served.
    let ok = sqlserver_config(c.path(), standin.port, "off", "", "s3cret-pw");
    let out = scrutiny(&["run", "--config", ok.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    // A control character no quoting makes sensible is refused by the settings.
    let bad = sqlserver_config(
        c.path(),
        standin.port,
        "off",
        "    column_renames:\n      ssd_person:\n        pers_sex: \"a\\u0000b\"\n",
        "s3cret-pw",
    );
    let out = scrutiny(&["run", "--config", bad.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("source.sqlserver.column_renames.ssd_person.pers_sex"), "{}", text(&out));
}

#[test]
fn a_memory_limit_gives_the_same_mart() {
    let reference = Council::new(&repo().join("sql"));
    assert!(reference.run("2022-01").status.success());
    let c = Council::new(&repo().join("sql"));
    c.edit_config("storage:\n", "compute:\n  memory_limit: 64MiB\n  spill_dir: ./var/spill\nstorage:\n");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mart_content(&c.current()), mart_content(&reference.current()));
}

// ---- monitoring against real servers ---------------------------------------------------------

/// A process on loopback that is stopped when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian's Prometheus Pushgateway (scripts/test-prerequisites installs it).
fn pushgateway() -> Server {
    let port = free_port();
    let child = Command::new("prometheus-pushgateway")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus-pushgateway (Debian's package; scripts/test-prerequisites installs it)");
    wait_listening(port);
    Server { child, port }
}

/// An HTTP server that records every request it is sent (tests/support/http_recorder.py);
/// https with `tls` (a certificate and key).
fn recorder(log: &Path, tls: Option<(&Path, &Path)>) -> Server {
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("tests/support/http_recorder.py")).arg(port.to_string()).arg(log);
    if let Some((cert, key)) = tls {
        cmd.arg(cert).arg(key);
    }
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    wait_listening(port);
    Server { child, port }
}

fn http_get(port: u16, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

fn metric_line(metrics: &str, name: &str) -> Option<String> {
    metrics.lines().find(|l| l.starts_with(&format!("{name}{{")) && l.contains("job=\"scrutiny\"")).map(str::to_string)
}

#[test]
fn a_failed_run_keeps_the_last_success_in_the_pushgateway_and_lineage_is_posted() {
    let gateway = pushgateway();
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("lineage.jsonl");
    let lineage = recorder(&events, None);
    let c = Council::new(&repo().join("sql"));
    c.edit_config(
        "  mart: ./var/mart\n",
        &format!(
            "  mart: ./var/mart\nmonitoring:\n  pushgateway_url: http://127.0.0.1:{}\n  openlineage_url: http://127.0.0.1:{}/api/v1/lineage\n  prometheus_textfile: ./scrutiny.prom\n",
            gateway.port, lineage.port
        ),
    );
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let metrics = http_get(gateway.port, "/metrics");
    let success = metric_line(&metrics, "scrutiny_last_success_timestamp_seconds").expect("pushed");
    assert!(metric_line(&metrics, "scrutiny_last_run_success").unwrap().ends_with(" 1"), "{metrics}");

    std::fs::remove_file(c.path().join("ssd/ssd_person.csv")).unwrap();
    assert_eq!(c.run("2022-01").status.code(), Some(65));
    let metrics = http_get(gateway.port, "/metrics");
    assert_eq!(metric_line(&metrics, "scrutiny_last_success_timestamp_seconds"), Some(success.clone()), "{metrics}");
    assert!(metric_line(&metrics, "scrutiny_last_run_success").unwrap().ends_with(" 0"), "{metrics}");
    let prom = std::fs::read_to_string(c.path().join("scrutiny.prom")).unwrap();
    assert!(
        prom.contains("scrutiny_last_success_timestamp_seconds{pipeline=\"monthly_scrutiny\"} ")
            && prom.contains("scrutiny_last_run_success{pipeline=\"monthly_scrutiny\"} 0")
    );

    let received: Vec<serde_json::Value> =
        std::fs::read_to_string(&events).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let kinds: Vec<String> = received
        .iter()
        .map(|r| {
            assert_eq!((r["method"].as_str(), r["path"].as_str()), (Some("POST"), Some("/api/v1/lineage")));
            let e: serde_json::Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            e["eventType"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(kinds, ["START", "COMPLETE", "START", "FAIL"]);
}

#[test]
fn lineage_is_posted_over_https_verified_against_the_council_s_ca() {
    let dir = tempfile::tempdir().unwrap();
    super::email::test_ca(dir.path());
    let events = dir.path().join("lineage.jsonl");
    let lineage = recorder(&events, Some((&dir.path().join("cert.pem"), &dir.path().join("key.pem"))));
    let c = Council::new(&repo().join("sql"));
    let monitoring = |ca: &str| {
        format!(
            "  mart: ./var/mart\nmonitoring:\n  openlineage_url: https://localhost:{}/api/v1/lineage\n{ca}",
            lineage.port
        )
    };
    // Without the council's CA the certificate is not trusted: the run still succeeds (monitoring
    // never fails a run) and says why nothing was sent.
    c.edit_config("  mart: ./var/mart\n", &monitoring(""));
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("the lineage event could not be sent"), "{}", text(&out));
    assert!(!events.exists() || std::fs::read_to_string(&events).unwrap().is_empty());

    std::fs::copy(dir.path().join("ca.pem"), c.path().join("ca.pem")).unwrap();
    c.edit_config("/api/v1/lineage\n", "/api/v1/lineage\n  ca_file: ./ca.pem\n");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let kinds: Vec<String> = std::fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| {
            let r: serde_json::Value = serde_json::from_str(l).unwrap();
            let e: serde_json::Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            e["eventType"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(kinds, ["START", "COMPLETE"], "both events arrived over https");
}

#[test]
fn extract_query_columns_are_read_by_name_so_reordered_lines_land_the_same_and_a_misspelt_alias_is_78() {
    let c = Council::new(&repo().join("sql"));
    let standin = StandIn::serve(&c.path().join("ssd"), false, Default::default());
    let (cfg, sql) = sqlserver_config_with_own_sql(&c, standin.port);
    let extract = |c: &Council| {
        let _ = std::fs::remove_dir_all(c.path().join("var/landing"));
        scrutiny(&["extract", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path())
    };
    let out = extract(&c);
    assert!(out.status.success(), "{}", text(&out));
    let before = landing_checksums(&c.path().join("var/landing"));

    // Two text columns' lines swapped: by position this would swap sex and ethnicity.
    let query = sql.join("extract/ssd/ssd_person.sql");
    let original = std::fs::read_to_string(&query).unwrap();
    let sex = "    CAST({{ col('pers_sex') }} AS NVARCHAR(4000)) AS [pers_sex],\n";
    let ethnicity = "    CAST({{ col('pers_ethnicity') }} AS NVARCHAR(4000)) AS [pers_ethnicity]\n";
    assert!(original.contains(sex) && original.contains(ethnicity), "{original}");
    let swapped = original
        .replace(sex, "")
        .replace(ethnicity, &format!("{},\n{}", ethnicity.trim_end(), sex.trim_end_matches(",\n")));
    std::fs::write(&query, &swapped).unwrap();
    let out = extract(&c);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(landing_checksums(&c.path().join("var/landing")), before, "the same landing, byte for byte");

    std::fs::write(&query, original.replace("AS [pers_sex]", "AS [pers_sexx]")).unwrap();
    let line = original.lines().position(|l| l.contains("AS [pers_sex]")).unwrap() + 1;
    // `scrutiny check` names the file and line, without a server.
    let out = scrutiny(&["check", "--config", cfg.to_str().unwrap()], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains(&format!("ssd_person.sql:{line}: output column `pers_sexx`")), "{}", text(&out));
    assert!(text(&out).contains("no output column `pers_sex`"), "{}", text(&out));
    // And so does `run`, before any data is read: nothing is landed.
    std::fs::remove_dir_all(c.path().join("var/landing")).unwrap();
    let out = scrutiny(&["run", "--config", cfg.to_str().unwrap(), "--period", "2022-01"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("output column `pers_sexx`"), "{}", text(&out));
    assert!(!c.current().exists());
    assert!(hidden_entries(&c.path().join("var/landing")).is_empty());
    assert_eq!(
        std::fs::read_dir(c.path().join("var/landing"))
            .map(|d| d.filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count())
            .unwrap_or(0),
        0,
        "nothing landed"
    );
}
