//! A 2-million-row table extracted from the SQL Server stand-in with peak memory that does not
//! grow with the table: rows stream into bounded batches and onto disk as they arrive.

use std::io::Write;
use std::path::Path;
use std::process::Command;

fn repo() -> std::path::PathBuf {
    scrutiny_core::checkout_root().canonicalize().unwrap()
}

/// Runs a command to completion, watching its peak resident set (VmHWM, reset by exec, so the
/// test process's own memory is not counted). Returns the output and the peak in KiB.
fn run_watching_memory(cmd: &mut Command) -> (std::process::Output, u64) {
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(text) = std::fs::read_to_string(&status_file) {
                if let Some(kib) = text
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        })
    };
    let out = child.wait_with_output().unwrap();
    watcher.join().unwrap();
    (out, peak.load(std::sync::atomic::Ordering::Relaxed))
}

fn visits(dir: &Path, rows: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("ssd_cp_visits.csv")).unwrap());
    writeln!(f, "cppv_cp_visit_id,cppv_person_id,cppv_cp_plan_id,cppv_cp_visit_date,cppv_cp_visit_seen").unwrap();
    for i in 0..rows {
        writeln!(f, "V{i},P{},CP{},2021-{:02}-{:02},Y", i % 50_000, i % 9_000, i % 12 + 1, i % 28 + 1).unwrap();
    }
}

/// Extracts with `scrutiny extract` from a stand-in serving `rows` CP visits: the landed count
/// and the extract's peak memory in KiB.
fn extract(rows: usize) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ssd");
    std::fs::create_dir_all(&data).unwrap();
    visits(&data, rows);
    std::fs::write(data.join("team_org_units.csv"), "team_id,org_unit,org_unit_kind\n").unwrap();
    let ddl = std::fs::read_to_string(repo().join("sql/ssd/schema.sql")).unwrap();
    let db = mssql_standin::Db::new("ssd", mssql_standin::parse_ddl(&ddl).unwrap(), Some(&data)).unwrap();
    let server = mssql_standin::Server::new(
        db,
        mssql_standin::Options {
            user: "scrutiny".into(),
            password: "pw".into(),
            tls: false,
            faults: Default::default(),
        },
    )
    .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (addr, _h) = rt.block_on(server.listen("127.0.0.1:0")).unwrap();
    std::fs::write(dir.path().join("pw"), "pw").unwrap();
    let yaml = format!(
        "source:\n  sqlserver:\n    host: 127.0.0.1\n    port: {}\n    database: ssd\n    user: scrutiny\n    password_file: ./pw\n    encrypt: off\n    parallel_connections: 1\nstorage:\n  landing: ./landing\n  mart: ./mart\nreference:\n  team_org_units: ./ssd/team_org_units.csv\nmeasures:\n  sql_dir: {}\n",
        addr.port(),
        repo().join("sql").display()
    );
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let (out, peak) = run_watching_memory(
        Command::new(env!("CARGO_BIN_EXE_scrutiny"))
            .args(["extract", "--config", "s.yaml", "--period", "2022-01"])
            .current_dir(dir.path()),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let landing = String::from_utf8(out.stdout).unwrap();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(landing.trim()).join("manifest.json")).unwrap()).unwrap();
    (m["tables"]["ssd_cp_visits"]["rows"].as_u64().unwrap(), peak)
}

#[test]
fn peak_memory_does_not_grow_with_the_table() {
    let (rows, small) = extract(200_000);
    assert_eq!(rows, 200_000);
    let (rows, large) = extract(2_000_000);
    assert_eq!(rows, 2_000_000);
    eprintln!("peak RSS of `scrutiny extract`: 200k rows {small} KiB, 2M rows {large} KiB");
    assert!(small > 0 && large > 0, "the peak was not read");
    // Ten times the rows: the peak may wobble but must not scale with them.
    assert!(large < small + 48 * 1024, "peak grew from {small} KiB to {large} KiB");
}
