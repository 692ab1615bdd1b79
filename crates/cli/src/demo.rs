//! `scrutiny demo`: synthetic data, a real run of January 2022, and the headline figures.

use scrutiny_core::{Period, exit};
use scrutiny_measures::spc::{Assurance, Variation};
use std::path::PathBuf;

use scrutiny_run::stages::{self as pipeline, Failure};

/// A password for the stand-in, fresh each run.
fn rand_password() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    (u128::from(h.finish()) << 64) | u128::from(std::collections::hash_map::RandomState::new().build_hasher().finish())
}

pub async fn run_demo_in(root: PathBuf, sql_dir: PathBuf) -> Result<(), Failure> {
    let period: Period = "2022-01".parse().expect("valid period");
    let data = root.join("ssd");
    let fail = |e: std::io::Error| Failure::new("demo", exit::SOFTWARE, format!("{}: {e}", root.display()));
    std::fs::create_dir_all(&root).map_err(fail)?;
    println!("Synthesising a council's SSD tables in {} ...", data.display());
    scrutiny_synth::generate(&scrutiny_synth::Options { seed: 42, period, scale: 1.0 }, &data)
        .map_err(|e| Failure::new("demo", exit::SOFTWARE, e.to_string()))?;
    // The real extract path: tiberius over TDS 8.0 strict TLS, from an in-process SQL Server
    // stand-in serving the synthetic tables.
    let standin = |e: String| Failure::new("demo", exit::SOFTWARE, format!("SQL Server stand-in: {e}"));
    let ddl_file = sql_dir.join("ssd/schema.sql");
    let ddl = std::fs::read_to_string(&ddl_file).map_err(|e| standin(format!("{}: {e}", ddl_file.display())))?;
    let tables = mssql_standin::parse_ddl(&ddl).map_err(|e| standin(e.to_string()))?;
    let db = mssql_standin::Db::new("ssd", tables, Some(&data)).map_err(|e| standin(e.to_string()))?;
    let password = format!("{:032x}", rand_password());
    let server = mssql_standin::Server::new(
        db,
        mssql_standin::Options {
            user: "scrutiny".into(),
            password: password.clone(),
            tls: true,
            faults: Default::default(),
        },
    )
    .map_err(standin)?;
    let (addr, _serving) = server.listen("127.0.0.1:0").await.map_err(|e| standin(e.to_string()))?;
    scrutiny_core::fs::write_private(&root.join("sql-password"), password.as_bytes()).map_err(fail)?;
    println!("Serving them from a SQL Server stand-in on {addr} (TDS 8.0 strict TLS) ...");

    let config = root.join("scrutiny.yaml");
    let yaml = format!(
        "# Written by `scrutiny demo`.\nsource:\n  sqlserver:\n    host: 127.0.0.1\n    port: {}\n    database: ssd\n    schema: ssd_development\n    user: scrutiny\n    password_file: ./sql-password\n    encrypt: strict\n    trust_server_certificate: true\nstorage:\n  landing: ./landing\n  mart: ./mart\nreference:\n  team_org_units: ./ssd/team_org_units.csv\n# The DfE's number for the council whose localities the seed report has (Devon): the report\n# compares it with England, the South West and its statistical neighbours.\ncouncil:\n  name: Devon\n  la_number: 878\nmeasures:\n  sql_dir: {}\nreport:\n  commentary_dir: {}\nnotify:\n  email:\n    from: scrutiny@example.org\n    to: [performance-team@example.org]\n    outbox: ./outbox\n",
        addr.port(),
        sql_dir.display(),
        sql_dir.join("../config/commentary").display()
    );
    std::fs::write(&config, yaml).map_err(fail)?;
    println!("Running {} with {} ...", period.label(), config.display());
    let outcome = pipeline::run(&config, pipeline::RunOptions { period: Some(period), ..Default::default() }).await?;

    println!();
    println!("Children's services scrutiny: {}", period.label());
    println!(
        "{:<48} {:>10} {:>10} {:>10}  {:<12} {:<17} England (year)",
        "measure", "value", "prev", "vs LY", "variation", "assurance"
    );
    let p = period.to_string();
    for m in &outcome.computed.measures {
        let rows: Vec<_> = outcome
            .published
            .values
            .iter()
            .filter(|v| v.metric_id == m.meta.id && v.period == p && v.org_unit == "ALL")
            .collect();
        let Some(v) = rows.iter().find(|v| v.category.is_none()) else {
            // A measure by category (unsuitable accommodation): its total.
            let total: f64 = rows.iter().filter_map(|v| v.value).sum();
            println!("{:<48} {:>10}", format!("{} (all types)", m.meta.title), total);
            continue;
        };
        let f = |x: Option<f64>| scrutiny_notify::format_value(x, m.meta.unit);
        let change = v.change_vs_last_year.map_or("n/a".into(), |c| format!("{:+.1}%", c * 100.0));
        // The SPC icons (spc.md) in a word each; the report and the email say them in full.
        let chart =
            scrutiny_measures::spc::series(&outcome.published.values, &m.meta.id, "ALL", &outcome.computed.periods)
                .filter(|_| !m.meta.snapshot)
                .map(|s| s.chart);
        let variation = chart.as_ref().map_or("", |c| match c.variation(m.meta.polarity) {
            Variation::CommonCause => "no change",
            Variation::SpecialCauseImprovement => "improving",
            Variation::SpecialCauseConcern => "concern",
            Variation::SpecialCauseNeitherHigh => "higher",
            Variation::SpecialCauseNeitherLow => "lower",
        });
        let assurance =
            chart.as_ref().and_then(|c| c.assurance(m.meta.target, m.meta.polarity)).map_or("", |a| match a {
                Assurance::ConsistentPass => "will meet target",
                Assurance::ConsistentFail => "will miss target",
                Assurance::Inconsistent => "hit and miss",
            });
        // The latest published England figure (the report and email give the region and the
        // statistical neighbours too).
        let england = outcome
            .computed
            .benchmarks
            .iter()
            .filter(|b| b.metric_id == m.meta.id && b.comparator == "england")
            .max_by_key(|b| b.year_ending)
            .map_or(String::new(), |b| {
                format!("{} ({})", f(b.value), scrutiny_measures::benchmarks::year_label(b.year_ending))
            });
        println!(
            "{:<48} {:>10} {:>10} {:>10}  {:<12} {:<17} {}",
            m.meta.title,
            f(v.value),
            f(v.value_prev_month),
            change,
            variation,
            assurance,
            england
        );
    }
    println!();
    println!("Mart:    {}", outcome.published.location);
    println!("Report:  {}/report.html", outcome.published.documents);
    if let Some(e) = &outcome.email {
        println!("Email:   {e}");
    }
    println!("Landing: {}", outcome.landing.location());

    // The second pipeline from the same SQL and the same server: the quarterly report to the
    // Corporate Parenting Board, by quarter, with its own mart and email.
    let quarter: Period = "2021-Q4".parse().expect("valid period");
    println!();
    println!("Running the corporate_parenting_quarterly pipeline for {} ...", quarter.label());
    let q = pipeline::run(
        &config,
        pipeline::RunOptions {
            pipeline: Some("corporate_parenting_quarterly".into()),
            period: Some(quarter),
            ..Default::default()
        },
    )
    .await?;
    println!("{:<48} {:>10} {:>10}", "measure", "value", "prev qtr");
    let p = quarter.to_string();
    for m in &q.computed.measures {
        let Some(v) = q
            .published
            .values
            .iter()
            .find(|v| v.metric_id == m.meta.id && v.period == p && v.org_unit == "ALL" && v.category.is_none())
        else {
            continue;
        };
        let f = |x: Option<f64>| scrutiny_notify::format_value(x, m.meta.unit);
        println!("{:<48} {:>10} {:>10}", m.meta.title, f(v.value), f(v.value_prev_month));
    }
    println!("Mart:    {}", q.published.location);
    if let Some(e) = &q.email {
        println!("Email:   {e}");
    }
    Ok(())
}

/// Runs the demo from the repository: data and output under `./var/demo`.
pub async fn run() -> Result<(), Failure> {
    let cwd = std::env::current_dir().map_err(|e| Failure::new("demo", exit::SOFTWARE, e.to_string()))?;
    let sql = cwd.join("sql");
    if !sql.join("measures").is_dir() {
        return Err(Failure::new(
            "demo",
            exit::CONFIG,
            format!("no sql/measures in {}: run the demo from the repository's top directory", cwd.display()),
        ));
    }
    run_demo_in(cwd.join("var/demo"), sql).await
}
