//! `mssql-standin --schema sql/ssd/schema.sql --data DIR --port 14330 --user scrutiny
//! --password-env SCRUTINY_SQL_PASSWORD [--tls]`

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "mssql-standin",
    version,
    about = "A SQL Server stand-in speaking TDS, serving a directory of CSV/Parquet tables"
)]
struct Args {
    /// SQL Server DDL (CREATE TABLE statements) declaring the tables.
    #[arg(long)]
    schema: PathBuf,
    /// A directory of `<table>.csv` or `<table>.parquet` files.
    #[arg(long)]
    data: PathBuf,
    #[arg(long, default_value_t = 14330)]
    port: u16,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value = "ssd")]
    database: String,
    #[arg(long)]
    user: String,
    /// The environment variable holding the password (never a command-line argument).
    #[arg(long)]
    password_env: String,
    /// TDS 8.0 strict encryption with a certificate generated at start.
    #[arg(long)]
    tls: bool,
    #[arg(long)]
    fail_logins: Option<u32>,
    #[arg(long)]
    drop_after_rows: Option<u64>,
    #[arg(long)]
    error_once: Option<i32>,
    #[arg(long)]
    stall_secs: Option<u64>,
    /// Write the generated TLS certificate (PEM) here, for clients that verify it.
    #[arg(long)]
    certificate_out: Option<PathBuf>,
    /// Drop the connection when the n-th bulk load arrives, before storing it.
    #[arg(long)]
    drop_in_bulk_load: Option<u32>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let a = Args::parse();
    let run = async {
        let password = std::env::var(&a.password_env).map_err(|_| format!("{} is not set", a.password_env))?;
        let ddl = std::fs::read_to_string(&a.schema).map_err(|e| format!("{}: {e}", a.schema.display()))?;
        let tables = mssql_standin::parse_ddl(&ddl).map_err(|e| e.to_string())?;
        let db = mssql_standin::Db::new(&a.database, tables, Some(&a.data)).map_err(|e| e.to_string())?;
        let faults = mssql_standin::Faults {
            drop_after_rows: a.drop_after_rows,
            fail_logins: a.fail_logins.unwrap_or(0),
            error_once: a.error_once,
            stall: a.stall_secs.map(Duration::from_secs),
            no_snapshot: false,
            drop_in_bulk_load: a.drop_in_bulk_load,
        };
        let server = mssql_standin::Server::new(
            db,
            mssql_standin::Options { user: a.user.clone(), password, tls: a.tls, faults },
        )?;
        if let Some(p) = &a.certificate_out {
            std::fs::write(p, server.certificate_pem()).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        let (addr, handle) = server.listen(&format!("{}:{}", a.host, a.port)).await.map_err(|e| e.to_string())?;
        eprintln!(
            "mssql-standin: serving database {} on {addr}{}",
            a.database,
            if a.tls {
                " (TDS 8.0 strict TLS, or TLS negotiated in PRELOGIN)"
            } else {
                " (encryption as the client asks)"
            }
        );
        handle.await.map_err(|e| e.to_string())
    };
    match run.await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mssql-standin: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
