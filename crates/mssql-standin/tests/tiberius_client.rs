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

async fn start(tls: bool, faults: Faults) -> (std::net::SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,t,s,i,b,f,nc,nv,nvmax,vc,d,dt,dt2,dec,num,fl,g,secret\n");
    csv.push_str(&format!(
        "1,255,-32768,-2147483648,9223372036854775807,1,ab,Zoë Ødegård,{},plain,0001-01-01,1753-01-01 00:00:00,0001-01-01 00:00:00,1234567890123456789012345678.1234567890,-1234567.89,-1.5e300,6F9619FF-8B86-D011-B42D-00C04FC964FF,x\n",
        long_text(5000)
    ));
    csv.push_str("2,,,,,,,,,,,,,,,,,\n");
    csv.push_str(&format!("3,0,0,0,0,0,xyz,{},short,v,9999-12-31,9999-12-31 23:59:59,9999-12-31 23:59:59.9999999,-0.0000000001,0,0,00000000-0000-0000-0000-000000000000,\n", "n".repeat(48)));
    std::fs::write(dir.path().join("all_types.csv"), csv).unwrap();
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
