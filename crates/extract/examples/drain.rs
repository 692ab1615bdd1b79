//! The null client of `bench/extract.sh`: runs each extract query through tiberius over four
//! connections (as `scrutiny extract` does) and only counts the rows, to show the limit the TDS
//! stream itself sets.
//!
//! `drain HOST PORT DATABASE USER PASSWORD_FILE SQL_DIR`

use futures::TryStreamExt;
use scrutiny_extract::Contract;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel, QueryItem};
use tokio_util::compat::TokioAsyncWriteCompatExt;

async fn drain(
    host: String,
    port: u16,
    database: String,
    user: String,
    password: String,
    sql: String,
) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    let mut c = Config::new();
    c.host(&host);
    c.port(port);
    c.database(&database);
    c.authentication(AuthMethod::sql_server(&user, password.trim()));
    c.encryption(EncryptionLevel::NotSupported);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let mut client = Client::connect(c, tcp.compat_write()).await?;
    let mut stream = client.simple_query(sql).await?;
    let mut rows = 0u64;
    while let Some(item) = stream.try_next().await? {
        if let QueryItem::Row(_) = item {
            rows += 1;
        }
    }
    Ok(rows)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let a: Vec<String> = std::env::args().collect();
    let (host, port, database, user) = (a[1].clone(), a[2].parse::<u16>()?, a[3].clone(), a[4].clone());
    let password = std::fs::read_to_string(&a[5])?;
    let sql_dir = std::path::PathBuf::from(&a[6]);
    let started = std::time::Instant::now();
    let mut queries = Vec::new();
    for t in &Contract::builtin().tables {
        let text = std::fs::read_to_string(sql_dir.join(format!("extract/ssd/{}.sql", t.name)))?;
        let sql = text
            .replace("{{ table }}", &format!("[ssd_development].[{}]", t.name))
            .split("{{ col('")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_string()
                } else {
                    let (c, rest) = part.split_once("') }}").unwrap_or((part, ""));
                    format!("[{c}]{rest}")
                }
            })
            .collect::<String>();
        queries.push(sql);
    }
    let queue = std::sync::Arc::new(std::sync::Mutex::new(queries.into_iter()));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (queue, host, database, user, password) =
            (queue.clone(), host.clone(), database.clone(), user.clone(), password.clone());
        set.spawn(async move {
            let mut n = 0u64;
            loop {
                let next = queue.lock().unwrap().next();
                let Some(sql) = next else { break };
                n += drain(host.clone(), port, database.clone(), user.clone(), password.clone(), sql).await?;
            }
            Ok::<u64, Box<dyn std::error::Error + Send + Sync>>(n)
        });
    }
    let mut total = 0u64;
    while let Some(r) = set.join_next().await {
        total += r??;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("drain: {total} rows in {secs:.1} s = {:.0} rows/s", total as f64 / secs);
    Ok(())
}
