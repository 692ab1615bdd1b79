//! A SQL Server stand-in that speaks TDS over TCP, so the extract stage can be tested through
//! tiberius exactly as it will run against a council's SQL Server, on machines with neither
//! SQL Server nor Docker. Tables are declared with SQL Server DDL, loaded from CSV or Parquet
//! and queried with DataFusion after a light rewrite of T-SQL (CONVERT, SQL Server types).

pub mod bulk;
pub mod db;
pub mod decode;
pub mod prelogin_tls;
pub mod rpc;
pub mod server;
pub mod tds;
pub mod types;

pub use db::{Db, Session, parse_ddl};
pub use server::{Faults, Options, Server};
