//! The SQL Server sink (`sinks.sqlserver`): the real binary loads the mart into the stand-in
//! over strict TLS, and clients independent of tiberius (pytds and pymssql, from PyPI, run by
//! tests/support/mssql_reader.py) read the loaded tables back and compare every row with the
//! Parquet mart.

use super::*;
use std::sync::Arc;
use std::sync::atomic::Ordering;

const PASSWORD: &str = "sink-pw-never-logged";

/// An empty reporting database on the stand-in, strict TLS, with its certificate written out.
struct Reporting {
    port: u16,
    stats: Arc<mssql_standin::server::Stats>,
    cafile: PathBuf,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Reporting {
    fn serve(faults: mssql_standin::Faults) -> Self {
        let db = mssql_standin::Db::new("reporting", Vec::new(), None).unwrap();
        let options =
            mssql_standin::Options { user: "scrutiny_loader".into(), password: PASSWORD.into(), tls: true, faults };
        let server = mssql_standin::Server::new(db, options).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cafile = dir.path().join("reporting.pem");
        std::fs::write(&cafile, server.certificate_pem()).unwrap();
        let stats = server.stats.clone();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (addr, _handle) = rt.block_on(server.listen("127.0.0.1:0")).unwrap();
        Self { port: addr.port(), stats, cafile, _dir: dir, _rt: rt }
    }

    /// Adds `sinks.sqlserver` to the council's settings: strict TLS, the certificate checked
    /// against the stand-in's own, the password from the environment.
    fn configure(&self, c: &Council) {
        let cfg = c.path().join("scrutiny.yaml");
        let mut yaml = std::fs::read_to_string(&cfg).unwrap();
        yaml.push_str(&format!(
            "sinks:\n  sqlserver:\n    host: 127.0.0.1\n    port: {}\n    database: reporting\n    user: scrutiny_loader\n    password: ${{SCRUTINY_SINK_PASSWORD}}\n    encrypt: strict\n    ca_file: {}\n",
            self.port,
            self.cafile.display()
        ));
        std::fs::write(cfg, yaml).unwrap();
    }

    fn scrutiny(&self, c: &Council, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_scrutiny"))
            .args(args)
            .current_dir(c.path())
            .env("NO_COLOR", "1")
            .env("SCRUTINY_SINK_PASSWORD", PASSWORD)
            .output()
            .unwrap()
    }

    /// tests/support/mssql_reader.py with `client` (pytds or pymssql); its stdout, or its failure.
    fn reader(&self, client: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new("python3")
            .arg(repo().join("tests/support/mssql_reader.py"))
            .arg(client)
            .args(args)
            .env("MSSQL_HOST", "127.0.0.1")
            .env("MSSQL_PORT", self.port.to_string())
            .env("MSSQL_DATABASE", "reporting")
            .env("MSSQL_USER", "scrutiny_loader")
            .env("MSSQL_PASSWORD", PASSWORD)
            .env("MSSQL_CAFILE", &self.cafile)
            .output()
            .unwrap();
        if out.status.success() { Ok(String::from_utf8(out.stdout).unwrap()) } else { Err(text(&out)) }
    }

    /// Both independent clients find every table of `mart` in the `scrutiny` schema, row for row.
    fn assert_holds(&self, mart: &Path) -> serde_json::Value {
        let mut seen = None;
        for client in ["pytds", "pymssql"] {
            let out = self
                .reader(client, &["compare", "scrutiny", mart.to_str().unwrap()])
                .unwrap_or_else(|e| panic!("{client}: {e}"));
            let tables: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(tables["metric_values"].as_u64().unwrap() > 100, "{client}: {tables}");
            seen = Some(tables);
        }
        seen.unwrap()
    }

    fn tables(&self) -> Vec<String> {
        serde_json::from_str(&self.reader("pytds", &["tables", "scrutiny"]).unwrap()).unwrap()
    }
}

fn parquet_tables(mart: &Path) -> Vec<String> {
    let mut t: Vec<String> = std::fs::read_dir(mart)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".parquet").map(str::to_string))
        .collect();
    t.sort();
    t
}

#[test]
fn the_sql_server_sink_loads_every_mart_table_over_strict_tls_and_a_second_run_replaces_them() {
    let c = Council::new(&repo().join("sql"));
    let reporting = Reporting::serve(Default::default());
    reporting.configure(&c);
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("loaded into SQL Server"), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD), "the sink's password is never printed");
    let first = reporting.assert_holds(&c.current());
    assert_eq!(first.as_object().unwrap().len(), parquet_tables(&c.current()).len(), "{first}");
    assert_eq!(reporting.tables(), parquet_tables(&c.current()), "no loading tables are left behind");
    let loaded = reporting.stats.bulk_rows.load(Ordering::Relaxed);
    assert!(loaded > 0);

    // The next run replaces every table: `runs` now holds the second run's id.
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2021-12"]);
    assert!(out.status.success(), "{}", text(&out));
    reporting.assert_holds(&c.current());
    assert_eq!(reporting.tables(), parquet_tables(&c.current()));
    assert!(reporting.stats.bulk_rows.load(Ordering::Relaxed) > loaded);
}

#[test]
fn a_connection_dropped_in_the_middle_of_the_load_keeps_the_previous_tables_and_exits_75() {
    let c = Council::new(&repo().join("sql"));
    // Once the first run is in, learn how many bulk loads a run makes (one per table with
    // rows); the fault then fires on the third load of the second run.
    let probe = Reporting::serve(Default::default());
    probe.configure(&c);
    assert!(probe.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]).status.success());
    let loads_per_run = parquet_tables(&c.current())
        .iter()
        .filter(|t| read(&c.current().join(format!("{t}.parquet"))).iter().map(|b| b.num_rows()).sum::<usize>() > 0)
        .count() as u32;
    drop(probe);

    let c = Council::new(&repo().join("sql"));
    let reporting =
        Reporting::serve(mssql_standin::Faults { drop_in_bulk_load: Some(loads_per_run + 3), ..Default::default() });
    reporting.configure(&c);
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]);
    assert!(out.status.success(), "{}", text(&out));
    let first_run = tempfile::tempdir().unwrap();
    copy_dir(&c.current(), first_run.path());

    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("SQL Server sink") && said.contains("sink --resend"), "{said}");
    assert!(!said.contains(PASSWORD));
    // The Parquet mart moved on; SQL Server still holds the first run, whole, and nothing half-made.
    assert_ne!(
        std::fs::read(c.current().join("runs.parquet")).unwrap(),
        std::fs::read(first_run.path().join("runs.parquet")).unwrap()
    );
    reporting.assert_holds(first_run.path());
    assert_eq!(reporting.tables(), parquet_tables(first_run.path()), "the half-loaded tables were rolled back");

    // `sink --resend` loads the published mart (the fault fires only once).
    let out = reporting.scrutiny(&c, &["sink", "--resend", "--config", "scrutiny.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    reporting.assert_holds(&c.current());
}

#[test]
fn sink_resend_without_a_sink_or_a_published_mart_says_so() {
    let c = Council::new(&repo().join("sql"));
    let out = scrutiny(&["sink", "--resend", "--config", "scrutiny.yaml"], c.path());
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("no sinks.sqlserver"), "{}", text(&out));
    let reporting = Reporting::serve(Default::default());
    reporting.configure(&c);
    let out = reporting.scrutiny(&c, &["sink", "--resend", "--config", "scrutiny.yaml"]);
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("nothing is published"), "{}", text(&out));
}

#[test]
fn with_create_tables_false_the_dba_creates_the_tables_from_sink_ddl_their_rows_are_replaced_and_a_missing_column_is_named()
 {
    let c = Council::new(&repo().join("sql"));
    let reporting = Reporting::serve(Default::default());
    reporting.configure(&c);
    c.edit_config("    encrypt: strict\n", "    encrypt: strict\n    create_tables: false\n");
    // No tables yet: the mart is published, the load fails naming the table.
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(c.current().join("metric_values.parquet").is_file());
    // The DBA creates them from `scrutiny sink --ddl`, as the README shows.
    let out = reporting.scrutiny(&c, &["sink", "--ddl", "--config", "scrutiny.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    let ddl = String::from_utf8(out.stdout).unwrap();
    assert!(ddl.contains("CREATE TABLE [scrutiny].[metric_values] ("), "{ddl}");
    let mut client = connect_tiberius(&reporting);
    reporting._rt.block_on(async {
        for statement in ddl.lines() {
            client.simple_query(statement).await.unwrap().into_results().await.unwrap();
        }
    });
    let out = reporting.scrutiny(&c, &["sink", "--resend", "--config", "scrutiny.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    reporting.assert_holds(&c.current());
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2021-12"]);
    assert!(out.status.success(), "{}", text(&out));
    reporting.assert_holds(&c.current());
    assert_eq!(reporting.tables(), parquet_tables(&c.current()), "no loading tables: the rows are replaced in place");

    // A table without a column of the mart: the load stops, naming it, and what it had already
    // replaced (metrics comes before periods) is rolled back.
    let before = reporting.reader("pytds", &["rows", "scrutiny.metrics"]).unwrap();
    reporting._rt.block_on(async {
        for sql in [
            "BEGIN TRANSACTION",
            "DROP TABLE scrutiny.periods",
            "CREATE TABLE scrutiny.periods (period NVARCHAR(20) NULL)",
            "COMMIT TRANSACTION",
        ] {
            client.simple_query(sql).await.unwrap().into_results().await.unwrap();
        }
    });
    let out = reporting.scrutiny(&c, &["sink", "--resend", "--config", "scrutiny.yaml"]);
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("[scrutiny].[periods] lacks the mart's column(s)"), "{}", text(&out));
    assert_eq!(reporting.reader("pytds", &["rows", "scrutiny.metrics"]).unwrap(), before, "rolled back");
}

/// tiberius, as a DBA's tool would connect, to change the reporting database by hand.
fn connect_tiberius(r: &Reporting) -> tiberius::Client<tokio_util::compat::Compat<tokio::net::TcpStream>> {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    r._rt.block_on(async {
        let mut config = tiberius::Config::new();
        config.host("127.0.0.1");
        config.port(r.port);
        config.database("reporting");
        config.authentication(tiberius::AuthMethod::sql_server("scrutiny_loader", PASSWORD));
        config.encryption(tiberius::EncryptionLevel::Strict);
        config.trust_cert_ca(r.cafile.display().to_string());
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", r.port)).await.unwrap();
        tiberius::Client::connect(config, tcp.compat_write()).await.unwrap()
    })
}

#[test]
fn a_delta_mart_is_loaded_from_the_versions_its_current_json_names() {
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let parquet = c.current();
    let reporting = Reporting::serve(Default::default());
    reporting.configure(&c);
    c.edit_config("  mart: ./var/mart\n", "  mart: ./var/delta\n  mart_format: delta\n");
    let out = reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]);
    assert!(out.status.success(), "{}", text(&out));
    // The same data gives the same rows; only the run's identity differs, so compare counts
    // of every table, and every row of a table without it.
    let count = |t: &str| {
        let sql = format!("SELECT COUNT(*) FROM scrutiny.{t}");
        let rows: serde_json::Value =
            serde_json::from_str(&reporting.reader("pymssql", &["query", &sql]).unwrap()).unwrap();
        rows[0][0].as_u64().unwrap() as usize
    };
    for t in parquet_tables(&parquet) {
        let rows: usize = read(&parquet.join(format!("{t}.parquet"))).iter().map(|b| b.num_rows()).sum();
        assert_eq!(count(&t), rows, "{t}: empty tables are created too");
    }
    let local = tempfile::tempdir().unwrap();
    std::fs::copy(parquet.join("metrics.parquet"), local.path().join("metrics.parquet")).unwrap();
    assert_eq!(
        reporting.reader("pytds", &["compare", "scrutiny", local.path().to_str().unwrap()]).unwrap().trim(),
        "{\"metrics\": 25}"
    );
}

#[test]
fn a_run_killed_with_its_swap_uncommitted_leaves_readers_on_the_previous_tables() {
    use std::io::BufRead;
    let c = Council::new(&repo().join("sql"));
    let reporting = Reporting::serve(Default::default());
    reporting.configure(&c);
    assert!(reporting.scrutiny(&c, &["run", "--config", "scrutiny.yaml", "--period", "2022-01"]).status.success());
    let first_run = tempfile::tempdir().unwrap();
    copy_dir(&c.current(), first_run.path());

    // The second run loads every table and swaps them in, then stops before COMMIT.
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrutiny"))
        .args(["run", "--config", "scrutiny.yaml", "--period", "2022-01"])
        .current_dir(c.path())
        .env("NO_COLOR", "1")
        .env("SCRUTINY_SINK_PASSWORD", PASSWORD)
        .env("SCRUTINY_FAULT", "stall:sink:before-commit")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().contains("stalled at sink:before-commit") {
            break;
        }
    }
    // Another connection reads the first run's tables, whole, while the swap waits...
    reporting.assert_holds(first_run.path());
    assert_eq!(reporting.tables(), parquet_tables(first_run.path()));
    // ...and after the process dies with it uncommitted.
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    reporting.assert_holds(first_run.path());
    assert_eq!(reporting.tables(), parquet_tables(first_run.path()), "the loading tables went with the transaction");
    let out = reporting.scrutiny(&c, &["sink", "--resend", "--config", "scrutiny.yaml"]);
    assert!(out.status.success(), "{}", text(&out));
    reporting.assert_holds(&c.current());
}
