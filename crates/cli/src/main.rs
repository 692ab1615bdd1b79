//! `scrutiny`: the monthly children's services scrutiny report as a scheduled job.
//! The binary only wires the stages together: extract -> land -> compute -> publish -> notify.

mod demo;
mod pipeline;
mod progress;

use clap::{Parser, Subcommand, ValueEnum};
use scrutiny_core::{Period, exit};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0   ok
  65  a data check failed (a table, column or value of the source is missing or malformed)
  69  the source is unavailable
  70  internal error (a bug: please report it)
  75  temporary failure (the email could not be sent; the mart was published)
  78  bad configuration (settings, reference files or SQL definitions)";

#[derive(Parser)]
#[command(name = "scrutiny", version, about = "The monthly children's services scrutiny report: extract, land, compute, publish, notify", after_help = EXIT_CODES)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the monthly pipeline for a period.
    Run {
        /// The settings file (YAML).
        #[arg(long, short)]
        config: PathBuf,
        /// The period to report (YYYY-MM); default the last complete month in Europe/London.
        #[arg(long)]
        period: Option<Period>,
        /// Recompute snapshot measures (care leavers) for a period already published.
        #[arg(long)]
        recompute_snapshots: bool,
    },
    /// Write a synthetic SSD dataset (every source-contract table) as CSV files.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The last month of data (YYYY-MM).
        #[arg(long, default_value = "2022-01")]
        period: Period,
        /// Size of the council: 1 is the seed report's, 150 about England.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Synthesise data under ./var/demo, run January 2022 and show the headline figures.
    Demo,
    /// Run the measure tests in sql/metrics/tests (optionally those matching PATTERN).
    Test {
        pattern: Option<String>,
        /// The SQL project directory.
        #[arg(long, default_value = "sql")]
        sql: PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCRUTINY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let result = match cli.command {
        Command::Run {
            config,
            period,
            recompute_snapshots,
        } => pipeline::run(&config, period, recompute_snapshots)
            .await
            .map(|_| ()),
        Command::Synth {
            out,
            seed,
            period,
            scale,
        } => synth(out, seed, period, scale),
        Command::Demo => demo::run().await,
        Command::Test { pattern, sql } => test(&sql, pattern.as_deref()).await,
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(f) => {
            eprintln!("scrutiny: {} failed: {}", f.stage, f.message);
            ExitCode::from(f.code)
        }
    }
}

fn synth(out: PathBuf, seed: u64, period: Period, scale: f64) -> Result<(), pipeline::Failure> {
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(pipeline::Failure::new(
            "synth",
            exit::CONFIG,
            "--scale must be a positive number",
        ));
    }
    let counts = scrutiny_synth::generate(
        &scrutiny_synth::Options {
            seed,
            period,
            scale,
        },
        &out,
    )
    .map_err(|e| pipeline::Failure::new("synth", exit::SOFTWARE, e.to_string()))?;
    let rows: usize = counts.iter().map(|c| c.1).sum();
    println!(
        "wrote {} tables ({rows} rows) and team_org_units.csv to {}",
        counts.len(),
        out.display()
    );
    Ok(())
}

async fn test(sql: &std::path::Path, pattern: Option<&str>) -> Result<(), pipeline::Failure> {
    let project = scrutiny_metrics::Project::load(sql).map_err(|e| {
        pipeline::Failure::new(
            "test",
            exit::CONFIG,
            scrutiny_metrics::MetricsError::Definitions(e).to_string(),
        )
    })?;
    let results =
        scrutiny_metrics::testing::run_tests(&project, &sql.join("metrics/tests"), pattern)
            .await
            .map_err(|e| pipeline::Failure::new("test", exit::CONFIG, e))?;
    let mut failed = 0;
    for r in &results {
        match &r.failure {
            None => println!("ok      {} / {}", r.measure, r.name),
            Some(f) => {
                failed += 1;
                println!(
                    "FAILED  {} / {} ({})\n{f}",
                    r.measure,
                    r.name,
                    r.file.display()
                );
            }
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    if failed > 0 {
        Err(pipeline::Failure::new(
            "test",
            1,
            format!("{failed} measure test(s) failed"),
        ))
    } else {
        Ok(())
    }
}
