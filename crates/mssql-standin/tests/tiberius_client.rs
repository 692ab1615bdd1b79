//! tiberius, the client the extract stage uses, against the stand-in over TCP.

use mssql_standin::{Db, Faults, Options, Server, parse_ddl};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

const DDL: &str = "
CREATE TABLE dbo.all_types (
    id INT,
    t TINYINT, s SMALLINT, i INT, b BIGINT, f BIT,
    nc NCHAR(3), nv NVARCHAR(48), nvmax NVARCHAR(MAX), vc VARCHAR(20),
    d DATE, dt DATETIME, dt2 DATETIME2,
    dec DECIMAL(38, 10), num NUMERIC(9, 2), fl FLOAT,
    g UNIQUEIDENTIFIER,
    secret NVARCHAR(100)
);
";

fn long_text(n: usize) -> String {
    "é".repeat(n)
}

/// A directory with `all_types.csv`: a row of extremes, a row of NULLs, the other extremes.
fn seeded() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,t,s,i,b,f,nc,nv,nvmax,vc,d,dt,dt2,dec,num,fl,g,secret\n");
    csv.push_str(&format!(
        "1,255,-32768,-2147483648,9223372036854775807,1,ab,Zoë Ødegård,{},plain,0001-01-01,1753-01-01 00:00:00,0001-01-01 00:00:00,1234567890123456789012345678.1234567890,-1234567.89,-1.5e300,6F9619FF-8B86-D011-B42D-00C04FC964FF,x\n",
        long_text(5000)
    ));
    csv.push_str("2,,,,,,,,,,,,,,,,,\n");
    csv.push_str(&format!("3,0,0,0,0,0,xyz,{},short,v,9999-12-31,9999-12-31 23:59:59,9999-12-31 23:59:59.9999999,-0.0000000001,0,0,00000000-0000-0000-0000-000000000000,\n", "n".repeat(48)));
    std::fs::write(dir.path().join("all_types.csv"), csv).unwrap();
    dir
}

async fn start(tls: bool, faults: Faults) -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = seeded();
    let db = Db::new("ssd", parse_ddl(DDL).unwrap(), Some(dir.path())).unwrap();
    let server = Server::new(db, Options { user: "scrutiny".into(), password: "s3cret".into(), tls, faults }).unwrap();
    let (addr, _handle) = server.listen("127.0.0.1:0").await.unwrap();
    std::mem::forget(_handle);
    (addr, dir)
}

async fn connect(addr: std::net::SocketAddr, tls: bool, password: &str) -> tiberius::Result<Client<Compat<TcpStream>>> {
    connect_with(addr, if tls { EncryptionLevel::Strict } else { EncryptionLevel::NotSupported }, password).await
}

async fn connect_with(
    addr: std::net::SocketAddr,
    level: EncryptionLevel,
    password: &str,
) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let mut config = Config::new();
    config.host("127.0.0.1");
    config.port(addr.port());
    config.database("ssd");
    config.authentication(AuthMethod::sql_server("scrutiny", password));
    config.encryption(level);
    config.trust_cert();
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config, tcp.compat_write()).await
}

async fn every_type_round_trips(tls: bool) {
    let (addr, _dir) = start(tls, Faults::default()).await;
    let mut client = connect(addr, tls, "s3cret").await.unwrap();
    let rows = client
        .simple_query("SELECT id, t, s, i, b, f, nc, nv, nvmax, vc, d, dt, dt2, dec, num, fl, g FROM [dbo].[all_types] ORDER BY id")
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let r = &rows[0];
    assert_eq!(r.get::<u8, _>("t"), Some(255));
    assert_eq!(r.get::<i16, _>("s"), Some(-32768));
    assert_eq!(r.get::<i32, _>("i"), Some(i32::MIN));
    assert_eq!(r.get::<i64, _>("b"), Some(i64::MAX));
    assert_eq!(r.get::<bool, _>("f"), Some(true));
    assert_eq!(r.get::<&str, _>("nc"), Some("ab "), "nchar is padded");
    assert_eq!(r.get::<&str, _>("nv"), Some("Zoë Ødegård"));
    assert_eq!(r.get::<&str, _>("nvmax").map(|s| s.chars().count()), Some(5000));
    assert_eq!(r.get::<&str, _>("vc"), Some("plain"));
    assert_eq!(r.get::<chrono::NaiveDate, _>("d"), Some("0001-01-01".parse().unwrap()));
    assert_eq!(r.get::<chrono::NaiveDateTime, _>("dt").map(|d| d.to_string()), Some("1753-01-01 00:00:00".into()));
    assert_eq!(r.get::<chrono::NaiveDateTime, _>("dt2").map(|d| d.to_string()), Some("0001-01-01 00:00:00".into()));
    let dec = r.get::<tiberius::numeric::Numeric, _>("dec").unwrap();
    assert_eq!(dec.to_string(), "1234567890123456789012345678.1234567890");
    assert_eq!(r.get::<tiberius::numeric::Numeric, _>("num").unwrap().to_string(), "-1234567.89");
    assert_eq!(r.get::<f64, _>("fl"), Some(-1.5e300));
    assert_eq!(
        r.get::<tiberius::Uuid, _>("g").map(|g| g.to_string().to_uppercase()),
        Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".into())
    );
    // A row of NULLs.
    let n = &rows[1];
    assert_eq!(n.get::<u8, _>("t"), None);
    assert_eq!(n.get::<&str, _>("nv"), None);
    assert_eq!(n.get::<&str, _>("nvmax"), None);
    assert_eq!(n.get::<chrono::NaiveDate, _>("d"), None);
    assert_eq!(n.get::<tiberius::numeric::Numeric, _>("dec"), None);
    assert_eq!(n.get::<tiberius::Uuid, _>("g"), None);
    // The other extremes.
    let z = &rows[2];
    assert_eq!(z.get::<chrono::NaiveDate, _>("d"), Some("9999-12-31".parse().unwrap()));
    assert_eq!(
        z.get::<chrono::NaiveDateTime, _>("dt2").map(|d| d.to_string()),
        Some("9999-12-31 23:59:59.999999".into())
    );
    assert_eq!(z.get::<&str, _>("nv").map(str::len), Some(48));
    assert_eq!(z.get::<tiberius::numeric::Numeric, _>("dec").unwrap().to_string(), "-0.0000000001");
}

#[tokio::test]
async fn every_type_round_trips_in_plaintext() {
    every_type_round_trips(false).await;
}

#[tokio::test]
async fn every_type_round_trips_over_strict_tls() {
    every_type_round_trips(true).await;
}

#[tokio::test]
async fn a_wrong_password_is_error_18456() {
    let (addr, _dir) = start(false, Faults::default()).await;
    match connect(addr, false, "nope").await {
        Err(tiberius::error::Error::Server(e)) => {
            assert_eq!(e.code(), 18456);
            assert!(e.message().contains("Login failed for user 'scrutiny'"));
        }
        other => panic!("expected a login error, got {other:?}"),
    }
}

#[tokio::test]
async fn rpc_with_parameters_casts_and_convert() {
    let (addr, _dir) = start(false, Faults::default()).await;
    let mut client = connect(addr, false, "s3cret").await.unwrap();
    let rows = client
        .query(
            "SELECT CAST([id] AS NVARCHAR(10)) AS id, CONVERT(DATE, [dt]) AS day, [nv] FROM [ssd].[dbo].[all_types] WHERE [id] >= @P1 AND [vc] = @P2",
            &[&1i32, &"v"],
        )
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<&str, _>("id"), Some("3"));
    assert_eq!(rows[0].get::<chrono::NaiveDate, _>("day"), Some("9999-12-31".parse().unwrap()));
    let count =
        client.simple_query("SELECT COUNT(*) FROM dbo.all_types").await.unwrap().into_row().await.unwrap().unwrap();
    assert_eq!(count.get::<i32, _>(0), Some(3));
}

#[tokio::test]
async fn an_unknown_table_is_a_server_error() {
    let (addr, _dir) = start(false, Faults::default()).await;
    let mut client = connect(addr, false, "s3cret").await.unwrap();
    let e = client.simple_query("SELECT x FROM dbo.nope").await.err().unwrap();
    assert!(e.to_string().contains("nope"), "{e}");
    // The connection is still usable.
    assert!(client.simple_query("SELECT COUNT(*) FROM dbo.all_types").await.is_ok());
}

#[tokio::test]
async fn injected_faults() {
    let (addr, _dir) = start(false, Faults { fail_logins: 1, ..Default::default() }).await;
    let e = connect(addr, false, "s3cret").await.err().unwrap();
    assert!(matches!(&e, tiberius::error::Error::Server(s) if s.code() == 40613), "{e:?}");
    assert!(connect(addr, false, "s3cret").await.is_ok());

    let (addr, _dir) = start(false, Faults { error_once: Some(1205), ..Default::default() }).await;
    let mut client = connect(addr, false, "s3cret").await.unwrap();
    let e = client.simple_query("SELECT id FROM dbo.all_types").await.err().unwrap();
    assert!(matches!(&e, tiberius::error::Error::Server(s) if s.code() == 1205), "{e:?}");
    let ok = client.simple_query("SELECT id FROM dbo.all_types").await.unwrap().into_first_result().await.unwrap();
    assert_eq!(ok.len(), 3);

    let (addr, _dir) = start(false, Faults { drop_after_rows: Some(1), ..Default::default() }).await;
    let mut client = connect(addr, false, "s3cret").await.unwrap();
    let stream = client.simple_query("SELECT id FROM dbo.all_types").await;
    let failed = match stream {
        Err(_) => true,
        Ok(s) => s.into_first_result().await.is_err(),
    };
    assert!(failed, "the dropped connection is an error, not a short result");
}

#[tokio::test]
async fn tls_negotiated_in_prelogin_required_and_login_only() {
    let (addr, _dir) = start(false, Faults::default()).await;
    for level in [EncryptionLevel::Required, EncryptionLevel::On, EncryptionLevel::Off] {
        let mut client = connect_with(addr, level, "s3cret").await.unwrap_or_else(|e| panic!("{level:?}: {e}"));
        let rows = client
            .simple_query("SELECT nv FROM dbo.all_types ORDER BY id")
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap();
        assert_eq!(rows[0].get::<&str, _>(0), Some("Zoë Ødegård"), "{level:?}");
    }
}

// ---- what the SQL Server sink needs: DDL, transactions, bulk load --------------------------

async fn exec(client: &mut Client<Compat<TcpStream>>, sql: &str) -> tiberius::Result<()> {
    client.simple_query(sql).await?.into_results().await.map(|_| ())
}

async fn texts(client: &mut Client<Compat<TcpStream>>, sql: &str) -> tiberius::Result<Vec<String>> {
    let rows = client.simple_query(sql).await?.into_first_result().await?;
    Ok(rows
        .iter()
        .map(|r| {
            let name = r.get::<&str, _>(0).unwrap_or("NULL");
            let n = r.get::<i64, _>(1).map_or("NULL".to_string(), |n| n.to_string());
            let d = r.get::<chrono::NaiveDate, _>(2).map_or("NULL".to_string(), |d| d.to_string());
            let x = r.get::<f64, _>(3).map_or("NULL".to_string(), |x| x.to_string());
            format!("{name}|{n}|{d}|{x}")
        })
        .collect())
}

async fn bulk_rows(client: &mut Client<Compat<TcpStream>>, table: &str) -> tiberius::Result<u64> {
    use tiberius::{ColumnData, TokenRow};
    let mut req = client.bulk_insert(table).await?;
    for (name, n, d, x) in [
        (Some("Zoë"), Some(i64::MAX), Some(chrono::NaiveDate::from_ymd_opt(2022, 1, 31).unwrap()), Some(0.25)),
        (None, None, None, None),
        (Some("b"), Some(i64::MIN), Some(chrono::NaiveDate::from_ymd_opt(1, 1, 1).unwrap()), Some(-1.5e300)),
    ] {
        let mut row = TokenRow::new();
        row.push(ColumnData::String(name.map(|s| s.to_string().into())));
        row.push(ColumnData::I64(n));
        row.push(ColumnData::Date(d.map(|d| {
            use chrono::Datelike;
            tiberius::time::Date::new(d.num_days_from_ce() as u32 - 1)
        })));
        row.push(ColumnData::F64(x));
        req.send(row).await?;
    }
    Ok(req.finalize().await?.total())
}

const LOADED: &str =
    "CREATE TABLE [scrutiny].[loaded] ([name] NVARCHAR(4000) NULL, [n] BIGINT NULL, [d] DATE NULL, [x] FLOAT NULL)";

#[tokio::test]
async fn a_bulk_load_in_a_transaction_is_seen_by_other_connections_only_after_commit() {
    let (addr, _dir) = start(true, Faults::default()).await;
    let mut writer = connect(addr, true, "s3cret").await.unwrap();
    let mut reader = connect(addr, true, "s3cret").await.unwrap();
    exec(&mut writer, "SET XACT_ABORT ON; BEGIN TRANSACTION").await.unwrap();
    exec(&mut writer, LOADED).await.unwrap();
    assert_eq!(bulk_rows(&mut writer, "[scrutiny].[loaded]").await.unwrap(), 3);
    // The writer sees its own rows; the reader does not see the table at all yet.
    let select = "SELECT name, n, d, x FROM [scrutiny].[loaded] ORDER BY n";
    assert_eq!(texts(&mut writer, select).await.unwrap().len(), 3);
    let err = texts(&mut reader, select).await.unwrap_err();
    assert!(matches!(&err, tiberius::error::Error::Server(e) if e.code() == 208), "{err}");
    exec(&mut writer, "EXEC sp_rename N'[scrutiny].[loaded]', N'published'").await.unwrap();
    exec(&mut writer, "COMMIT TRANSACTION").await.unwrap();
    let rows = texts(&mut reader, "SELECT name, n, d, x FROM scrutiny.published ORDER BY n").await.unwrap();
    assert_eq!(
        rows,
        [
            "NULL|NULL|NULL|NULL",
            "b|-9223372036854775808|0001-01-01|-1500000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
            "Zoë|9223372036854775807|2022-01-31|0.25"
        ]
    );
    // Transactions and DDL as SQL Server answers their misuse.
    let e = exec(&mut reader, "COMMIT TRANSACTION").await.unwrap_err();
    assert!(matches!(&e, tiberius::error::Error::Server(t) if t.code() == 3902), "{e}");
    let e = exec(&mut reader, "CREATE TABLE scrutiny.published (a INT)").await.unwrap_err();
    assert!(matches!(&e, tiberius::error::Error::Server(t) if t.code() == 2714), "{e}");
    let e = exec(&mut reader, "DROP TABLE scrutiny.nothing").await.unwrap_err();
    assert!(matches!(&e, tiberius::error::Error::Server(t) if t.code() == 3701), "{e}");
    exec(&mut reader, "DROP TABLE IF EXISTS scrutiny.nothing").await.unwrap();
    // ROLLBACK discards what the transaction did, DROP included.
    exec(&mut reader, "BEGIN TRANSACTION").await.unwrap();
    exec(&mut reader, "DELETE FROM scrutiny.published").await.unwrap();
    exec(&mut reader, "DROP TABLE scrutiny.published").await.unwrap();
    exec(&mut reader, "ROLLBACK TRANSACTION").await.unwrap();
    assert_eq!(texts(&mut writer, select.replace("loaded", "published").as_str()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_connection_dropped_in_the_middle_of_a_bulk_load_rolls_its_transaction_back() {
    let (addr, _dir) = start(true, Faults { drop_in_bulk_load: Some(1), ..Default::default() }).await;
    let mut writer = connect(addr, true, "s3cret").await.unwrap();
    exec(&mut writer, "BEGIN TRANSACTION").await.unwrap();
    exec(&mut writer, "DROP TABLE dbo.all_types").await.unwrap();
    exec(&mut writer, LOADED).await.unwrap();
    let err = bulk_rows(&mut writer, "[scrutiny].[loaded]").await.unwrap_err();
    assert!(matches!(err, tiberius::error::Error::Io { .. } | tiberius::error::Error::Protocol(_)), "{err}");
    let mut reader = connect(addr, true, "s3cret").await.unwrap();
    let rows = reader.simple_query("SELECT id FROM dbo.all_types").await.unwrap().into_first_result().await.unwrap();
    assert_eq!(rows.len(), 3, "the dropped table is back");
    let e = reader.simple_query("SELECT name FROM scrutiny.loaded").await.unwrap_err();
    assert!(matches!(&e, tiberius::error::Error::Server(t) if t.code() == 208), "{e}");
}

// ---- independent clients ---------------------------------------------------------------------

/// `tests/support/mssql_reader.py CLIENT query SQL` against the stand-in at `addr`: its rows as
/// JSON, or what went wrong.
fn python_client(
    client: &str,
    addr: std::net::SocketAddr,
    cafile: &std::path::Path,
    sql: &str,
) -> Result<serde_json::Value, String> {
    // At run time first: a test binary cargo reuses from a checkout elsewhere keeps that
    // checkout's compile-time path.
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
    let script = std::path::Path::new(&dir).join("../../tests/support/mssql_reader.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .args([client, "query", sql])
        .env("MSSQL_HOST", "127.0.0.1")
        .env("MSSQL_PORT", addr.port().to_string())
        .env("MSSQL_DATABASE", "ssd")
        .env("MSSQL_USER", "scrutiny")
        .env("MSSQL_PASSWORD", "s3cret")
        .env("MSSQL_CAFILE", cafile)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{client}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("{client}: {e}"))
}

/// pytds (pure Python) and pymssql (FreeTDS, C) log in over TLS and read every type, NULLs
/// and extremes included, as tiberius does in `every_type_round_trips_*`. Run by
/// `scripts/test`, which installs both from PyPI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_clients_read_every_type_over_tls_as_tiberius_does() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, data, pem) = start_with_certificate().await;
    let cafile = dir.path().join("standin.pem");
    std::fs::write(&cafile, pem).unwrap();
    let sql = "SELECT id, t, s, i, b, f, nc, nv, nvmax, vc, d, dt, dt2, dec, num, fl, g FROM dbo.all_types ORDER BY id";
    let expected = serde_json::json!([
        [
            1,
            255,
            -32768,
            -2147483648i64,
            9223372036854775807i64,
            true,
            "ab ",
            "Zoë Ødegård",
            long_text(5000),
            "plain",
            "0001-01-01",
            "1753-01-01T00:00:00.000000",
            "0001-01-01T00:00:00.000000",
            "1234567890123456789012345678.123456789",
            "-1234567.89",
            -1.5e300,
            "6F9619FF-8B86-D011-B42D-00C04FC964FF"
        ],
        [2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
        [
            3,
            0,
            0,
            0,
            0,
            false,
            "xyz",
            "n".repeat(48),
            "short",
            "v",
            "9999-12-31",
            "9999-12-31T23:59:59.000000",
            "9999-12-31T23:59:59.999999",
            "-0.0000000001",
            "0",
            0.0,
            "00000000-0000-0000-0000-000000000000"
        ]
    ]);
    for client in ["pytds", "pymssql"] {
        let sql = sql.to_string();
        let cafile = cafile.clone();
        let got = tokio::task::spawn_blocking(move || python_client(client, addr, &cafile, &sql)).await.unwrap();
        let got = got.unwrap_or_else(|e| panic!("{e}"));
        for (i, (g, e)) in got.as_array().unwrap().iter().zip(expected.as_array().unwrap()).enumerate() {
            assert_eq!(g, e, "{client}, row {i}");
        }
        assert_eq!(got.as_array().unwrap().len(), 3, "{client}");
    }
    drop(data);
}

async fn start_with_certificate() -> (std::net::SocketAddr, tempfile::TempDir, String) {
    let dir = seeded();
    let db = Db::new("ssd", parse_ddl(DDL).unwrap(), Some(dir.path())).unwrap();
    let server = Server::new(
        db,
        Options { user: "scrutiny".into(), password: "s3cret".into(), tls: true, faults: Faults::default() },
    )
    .unwrap();
    let pem = server.certificate_pem().to_string();
    let (addr, handle) = server.listen("127.0.0.1:0").await.unwrap();
    std::mem::forget(handle);
    (addr, dir, pem)
}

/// FreeTDS's own bulk copy (`freebcp`, Debian's freetds-bin: a bulk load stream written by
/// another implementation) loads a file into the stand-in over TLS, tiberius reads the rows
/// back, and `freebcp out` reads them again. Run by `scripts/test`, which installs freetds-bin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freetds_bulk_copy_loads_and_reads_back_over_tls_what_tiberius_sees() {
    let dir = tempfile::tempdir().unwrap();
    let ddl = format!("{DDL}\n{LOADED}");
    let db = Db::new("ssd", parse_ddl(&ddl).unwrap(), None).unwrap();
    let server = Server::new(
        db,
        Options { user: "scrutiny".into(), password: "s3cret".into(), tls: true, faults: Faults::default() },
    )
    .unwrap();
    let (addr, handle) = server.listen("127.0.0.1:0").await.unwrap();
    std::mem::forget(handle);
    let conf = dir.path().join("freetds.conf");
    std::fs::write(
        &conf,
        format!(
            "[standin]\n  host = 127.0.0.1\n  port = {}\n  tds version = 7.4\n  encryption = require\n",
            addr.port()
        ),
    )
    .unwrap();
    let rows = "Zoë\t9223372036854775807\t2022-01-31\t0.25\n\t\t\t\nb\t-42\t1999-12-31\t-1.5e300\n";
    std::fs::write(dir.path().join("in.tsv"), rows).unwrap();
    let freebcp = |args: Vec<String>| {
        let conf = conf.clone();
        let cwd = dir.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("freebcp")
                    .args(&args)
                    .args(["-S", "standin", "-U", "scrutiny", "-P", "s3cret", "-c", "-t", "\t"])
                    .env("FREETDSCONF", &conf)
                    .current_dir(&cwd)
                    .output()
                    .expect("freebcp (Debian's freetds-bin; scripts/test-prerequisites installs it)")
            })
            .await
            .unwrap()
        }
    };
    let out = freebcp(vec!["ssd.scrutiny.loaded".into(), "in".into(), "in.tsv".into()]).await;
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && said.contains("3 rows copied") && !said.contains("Msg "), "{said}");
    let mut client = connect(addr, true, "s3cret").await.unwrap();
    let seen = texts(&mut client, "SELECT name, n, d, x FROM scrutiny.loaded ORDER BY n").await.unwrap();
    assert_eq!(seen[0], "NULL|NULL|NULL|NULL");
    assert_eq!(seen[1].split('|').take(3).collect::<Vec<_>>(), ["b", "-42", "1999-12-31"]);
    assert_eq!(seen[2], "Zoë|9223372036854775807|2022-01-31|0.25");
    let out = freebcp(vec!["ssd.scrutiny.loaded".into(), "out".into(), "out.tsv".into()]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let back = std::fs::read_to_string(dir.path().join("out.tsv")).unwrap();
    assert!(back.contains("Zoë\t9223372036854775807\t2022-01-31"), "{back}");
    assert_eq!(back.lines().count(), 3, "{back}");
}
