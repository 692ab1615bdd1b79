//! The mart on object storage as Delta tables, against real emulators started here: Azurite
//! (npm `azurite`, Microsoft's Azure Storage emulator) for `az://` and moto's server (PyPI
//! `moto[server]`) for `s3://`. What scrutiny publishes is read back by an independent reader,
//! PyPI's `deltalake` (tests/support/delta_reader.py), and compared row by row with the local
//! Parquet mart of a run on the same data. `scripts/test-prerequisites` installs all three.

use super::*;
use std::io::BufRead;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Azurite's well-known development account (public, documented by Microsoft; not a secret).
const AZURITE_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// An emulator on a loopback port, stopped when dropped.
struct Emulator {
    child: Child,
    env: Vec<(String, String)>,
    /// The mart URL to publish to (its container or bucket created).
    mart: String,
    /// The landing root URL (its container or bucket created).
    landing: String,
    /// `storage.options` for the settings file: what is not a secret.
    options: &'static str,
    _data: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn azurite() -> Emulator {
    let port = free_port();
    let data = tempfile::tempdir().unwrap();
    let child = Command::new("azurite-blob")
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--silent", "--skipApiVersionCheck"])
        .arg("--location")
        .arg(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("azurite-blob (npm install -g azurite; scripts/test-prerequisites installs it)");
    wait_listening(port);
    let env = vec![
        ("AZURE_STORAGE_USE_EMULATOR".into(), "true".into()),
        ("AZURITE_BLOB_STORAGE_URL".into(), format!("http://127.0.0.1:{port}")),
        ("AZURE_STORAGE_ACCOUNT_NAME".into(), "devstoreaccount1".into()),
        ("AZURE_STORAGE_ACCOUNT_KEY".into(), AZURITE_KEY.into()),
    ];
    let e = Emulator {
        child,
        env,
        mart: "az://mart/scrutiny".into(),
        landing: "az://landing/scrutiny".into(),
        options: "    allow_http: \"true\"\n",
        _data: data,
    };
    e.reader(&["setup", &e.mart]);
    e.reader(&["setup", &e.landing]);
    e
}

fn moto() -> Emulator {
    let port = free_port();
    let child = Command::new("python3")
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m moto.server (pip install 'moto[server]'; scripts/test-prerequisites installs it)");
    wait_listening(port);
    let env = vec![
        ("AWS_ENDPOINT_URL".into(), format!("http://127.0.0.1:{port}")),
        ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ("AWS_REGION".into(), "us-east-1".into()),
    ];
    let e = Emulator {
        child,
        env,
        mart: "s3://mart/scrutiny".into(),
        landing: "s3://landing/scrutiny".into(),
        options: "    allow_http: \"true\"\n",
        _data: tempfile::tempdir().unwrap(),
    };
    e.reader(&["setup", &e.mart]);
    e.reader(&["setup", &e.landing]);
    e
}

impl Emulator {
    /// tests/support/delta_reader.py with this emulator's environment; its stdout.
    fn reader(&self, args: &[&str]) -> String {
        let out = Command::new("python3")
            .arg(repo().join("tests/support/delta_reader.py"))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(out.status.success(), "delta_reader.py {args:?}: {}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    fn current(&self) -> serde_json::Value {
        serde_json::from_str(&self.reader(&["current", &self.mart])).unwrap()
    }

    /// `scrutiny` with the emulator's environment (where its credentials are).
    fn command(&self, c: &Council, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrutiny"));
        cmd.args(args).current_dir(c.path()).env("NO_COLOR", "1").envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    fn run(&self, c: &Council) -> Output {
        self.command(c, &["run", "--config", "store.yaml", "--period", "2022-01"]).output().unwrap()
    }

    /// A second settings file beside the council's, publishing to this emulator.
    fn configure(&self, c: &Council, extra: &str) {
        let yaml = std::fs::read_to_string(c.path().join("scrutiny.yaml")).unwrap();
        let yaml = yaml
            .replace("  mart: ./var/mart\n", &format!("  mart: {}\n  options:\n{}{extra}", self.mart, self.options));
        std::fs::write(c.path().join("store.yaml"), yaml.replace("./var/landing", &self.landing)).unwrap();
    }
}

/// Publishes the same data to the local Parquet mart and to the emulator, twice to the
/// emulator, and has `deltalake` read the versions `_current.json` names each time.
fn publishes_delta_that_deltalake_reads_back_equal_to_the_local_mart(store: Emulator) {
    let c = Council::new(&repo().join("sql"));
    let local = c.run("2022-01");
    assert!(local.status.success(), "{}", text(&local));
    store.configure(&c, "");
    let out = store.run(&c);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains(&format!("published mart={}", store.mart)), "{}", text(&out));
    let first = store.current();
    let landings: serde_json::Value = serde_json::from_str(&store.reader(&["landing", &store.landing])).unwrap();
    assert_eq!(
        landings["complete"].as_object().map(|o| o.len()),
        Some(1),
        "one landing, its checksums right: {landings}"
    );
    assert_eq!(landings["incomplete"], serde_json::json!([]));
    assert!(text(&out).contains(&format!("landing uploaded landing={}/", store.landing)), "{}", text(&out));
    let compared: serde_json::Value =
        serde_json::from_str(&store.reader(&["compare", &store.mart, c.current().to_str().unwrap()])).unwrap();
    assert_eq!(compared["metric_values"]["rows"], 632, "{compared}");
    assert_eq!(compared["metrics"]["rows"], 25, "{compared}");

    let again = store.run(&c);
    assert!(again.status.success(), "{}", text(&again));
    let second = store.current();
    assert_ne!(first["run_id"], second["run_id"]);
    for (table, v) in first["tables"].as_object().unwrap() {
        assert_eq!(
            second["tables"][table].as_u64(),
            Some(v.as_u64().unwrap() + 1),
            "one new version of {table} per run"
        );
    }
    store.reader(&["compare", &store.mart, c.current().to_str().unwrap()]);
    let report = second["documents"]["report.html"].as_str().unwrap();
    assert!(report.starts_with("reports/"), "{second}");
    for (k, v) in &store.env {
        assert!(
            !text(&out).contains(v.as_str()) || v == "true" || v == "us-east-1" || k.ends_with("_URL"),
            "{k} logged"
        );
    }
}

#[test]
fn azurite_receives_delta_tables_that_deltalake_reads_back_equal_to_the_local_mart() {
    publishes_delta_that_deltalake_reads_back_equal_to_the_local_mart(azurite());
}

#[test]
fn moto_s3_receives_delta_tables_that_deltalake_reads_back_equal_to_the_local_mart() {
    publishes_delta_that_deltalake_reads_back_equal_to_the_local_mart(moto());
}

#[test]
fn a_local_delta_mart_reads_back_equal_to_the_parquet_one() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let yaml = std::fs::read_to_string(c.path().join("scrutiny.yaml")).unwrap();
    let yaml = yaml.replace("  mart: ./var/mart\n", "  mart: ./var/delta\n  mart_format: delta\n");
    std::fs::write(c.path().join("delta.yaml"), yaml.replace("./var/landing", "./var/landing-delta")).unwrap();
    let out = scrutiny(&["run", "--config", "delta.yaml", "--period", "2022-01"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    let uri = format!("file://{}", c.path().join("var/delta").display());
    let reader = Command::new("python3")
        .arg(repo().join("tests/support/delta_reader.py"))
        .args(["compare", &uri, c.current().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(reader.status.success(), "{}", text(&reader));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(c.path().join("var/delta")).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "the mart root is the owner's only: {mode:o}");
}

/// A run in the background, its stderr read as it comes.
struct Background {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Background {
    fn wait_for(&mut self, marker: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(180);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(marker) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }
}

fn background(mut cmd: Command) -> Background {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
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
    Background { child, lines }
}

#[test]
fn a_run_killed_between_its_delta_commits_leaves_readers_on_the_previous_run_until_its_lease_expires() {
    let store = azurite();
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    // Renewed every third of the TTL, the killed run's lease outlives it by 20 to 30 s: time
    // for the checks below and for the refused run to start on a loaded machine (with 10 s, a
    // slow start once reached the lease after it had expired).
    store.configure(&c, "  lock_ttl_secs: 30\n");
    assert!(store.run(&c).status.success());
    let before = store.current();

    let mut cmd = store.command(&c, &["run", "--config", "store.yaml", "--period", "2022-01"]);
    cmd.env("SCRUTINY_FAULT", "stall:publish:between-commits");
    let mut killed = background(cmd);
    assert!(killed.wait_for("stalled at publish:between-commits"), "the run never reached its second commit");
    killed.child.kill().unwrap(); // SIGKILL
    killed.child.wait().unwrap();

    // metric_values has a new version that no one is pointed at.
    assert_eq!(store.current(), before, "_current.json still names the previous run");
    store.reader(&["compare", &store.mart, c.current().to_str().unwrap()]);

    // The killed run's lease lives on until its TTL: a run now is refused, naming it.
    let refused = store.run(&c);
    assert_eq!(refused.status.code(), Some(75), "{}", text(&refused));
    assert!(
        text(&refused).contains("another run holds the lease") && text(&refused).contains("_lease.json"),
        "{}",
        text(&refused)
    );
    std::thread::sleep(Duration::from_secs(31));
    let next = store.run(&c);
    assert!(next.status.success(), "{}", text(&next));
    assert!(text(&next).contains("took over an expired lease"), "{}", text(&next));
    let after = store.current();
    assert_ne!(after["run_id"], before["run_id"]);
    assert_eq!(
        after["tables"]["metric_values"].as_u64(),
        Some(before["tables"]["metric_values"].as_u64().unwrap() + 2),
        "the killed run's orphan commit is overwritten, not read: {after}"
    );
    store.reader(&["compare", &store.mart, c.current().to_str().unwrap()]);
}

#[test]
fn two_runs_started_together_on_s3_publish_once_and_the_other_is_refused_with_75() {
    let store = moto();
    let c = Council::new(&repo().join("sql"));
    store.configure(&c, "");
    let a = store
        .command(&c, &["run", "--config", "store.yaml", "--period", "2022-01"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let b = store
        .command(&c, &["run", "--config", "store.yaml", "--period", "2022-01"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(75)], "{}\n---\n{}", text(&a), text(&b));
    let refused = if a.status.code() == Some(75) { &a } else { &b };
    assert!(text(refused).contains("another run holds the lease"), "{}", text(refused));
    assert_eq!(store.current()["tables"]["metric_values"], 1, "published once");
}

#[test]
fn an_upload_cut_short_is_never_taken_for_a_landing() {
    let store = azurite();
    let c = Council::new(&repo().join("sql"));
    store.configure(&c, "  lock_ttl_secs: 10\n");
    assert!(store.run(&c).status.success());
    let mut cmd = store.command(&c, &["run", "--config", "store.yaml", "--period", "2022-01"]);
    cmd.env("SCRUTINY_FAULT", "stall:land:before-manifest");
    let mut killed = background(cmd);
    assert!(killed.wait_for("stalled at land:before-manifest"), "the upload never reached its manifest");
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let landings: serde_json::Value = serde_json::from_str(&store.reader(&["landing", &store.landing])).unwrap();
    let complete: Vec<&String> = landings["complete"].as_object().unwrap().keys().collect();
    let cut_short =
        landings["incomplete"][0].as_str().expect("the killed upload's tables are there, without a manifest");
    assert_eq!(complete.len(), 1, "{landings}");

    let named = store
        .command(&c, &["compute", "--config", "store.yaml", "--period", "2022-01", "--landing", cut_short])
        .output()
        .unwrap();
    assert_eq!(named.status.code(), Some(78), "{}", text(&named));
    assert!(text(&named).contains("has no manifest"), "{}", text(&named));
    let latest = store.command(&c, &["compute", "--config", "store.yaml", "--period", "2022-01"]).output().unwrap();
    assert!(latest.status.success(), "{}", text(&latest));
    assert!(
        text(&latest).contains(&format!("from landing {}", complete[0])),
        "the complete landing is read: {}",
        text(&latest)
    );
}

#[test]
fn a_missing_container_is_named_and_nothing_is_published() {
    let store = azurite();
    let c = Council::new(&repo().join("sql"));
    store.configure(&c, "");
    let yaml = std::fs::read_to_string(c.path().join("store.yaml")).unwrap();
    std::fs::write(c.path().join("store.yaml"), yaml.replace("az://mart/", "az://no-such-container/")).unwrap();
    let out = store.run(&c);
    assert_eq!(out.status.code(), Some(78), "a container the settings name must exist: {}", text(&out));
    assert!(
        text(&out).contains("az://no-such-container/scrutiny") && text(&out).contains("does not exist"),
        "{}",
        text(&out)
    );
}
