//! `scrutiny`: the monthly children's services scrutiny report as a scheduled job.
//! The binary only wires the stages together: extract -> land -> compute -> publish -> notify.

mod demo;

use scrutiny_run::{stages as pipeline, workflow};

use clap::{Parser, Subcommand, ValueEnum};
use scrutiny_core::{Period, exit};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
Exit codes:
  0   ok
  1   `scrutiny test`: a measure test failed
  65  a data check failed: a table, column or value of the source is missing or malformed,
      more rows were quarantined than `max_rejects`, or a landed or published file is damaged
      (named in the message)
  69  the source is unavailable
  70  internal error (a bug: please report it); nothing half-done is published
  73  the landing or the mart cannot be written (a full disk, permissions: the path is named);
      the published mart is unchanged and partial files are removed
  75  temporary failure: the email could not be sent (the mart was published), another run
      holds the lock (named in the message), or the run was stopped by SIGTERM or Ctrl-C
      (`current` stays the last mart published in full)
  78  bad configuration (settings, reference files, extract queries or SQL definitions)";

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
    /// Run a pipeline for a period: extract, land, compute, publish, notify.
    Run {
        /// The settings file (YAML).
        #[arg(long, short)]
        config: PathBuf,
        /// The pipeline (an id of `scrutiny pipelines`).
        #[arg(long, default_value = scrutiny_core::pipeline::DEFAULT_PIPELINE)]
        pipeline: String,
        /// The period to report: YYYY-MM for a monthly pipeline, YYYY-Qn (2021-Q4) for a
        /// quarterly one; default the last complete one in Europe/London.
        #[arg(long)]
        period: Option<Period>,
        /// Recompute snapshot measures (care leavers) for a period already published.
        #[arg(long)]
        recompute_snapshots: bool,
        /// Resume a run that died after landing (its run id), without extracting again.
        #[arg(long)]
        resume: Option<String>,
    },
    /// Extract and land the source tables only (no compute, publish or email); prints the
    /// landing. `scrutiny compute --landing RUN_ID` picks it up.
    Extract {
        #[arg(long, short)]
        config: PathBuf,
        /// The pipeline whose tables to land.
        #[arg(long, default_value = scrutiny_core::pipeline::DEFAULT_PIPELINE)]
        pipeline: String,
        #[arg(long)]
        period: Option<Period>,
    },
    /// Email: send the messages kept after failed deliveries.
    Notify {
        #[arg(long, short)]
        config: PathBuf,
        /// Send what is waiting.
        #[arg(long)]
        resend: bool,
    },
    /// SQL Server sink: load the published mart into `sinks.sqlserver` again, or print the DDL
    /// of its tables.
    Sink {
        #[arg(long, short)]
        config: PathBuf,
        /// Load the published mart (after a failed load, or into a new database).
        #[arg(long, conflicts_with = "ddl")]
        resend: bool,
        /// Print the CREATE TABLE statements for the published mart's tables (for a DBA).
        #[arg(long)]
        ddl: bool,
        /// The pipeline whose mart to load (a pipeline with its own mart loads into
        /// `<schema>_<mart name>`).
        #[arg(long, default_value = scrutiny_core::pipeline::DEFAULT_PIPELINE)]
        pipeline: String,
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
    /// Run the measure tests in sql/measures/tests (optionally those matching PATTERN).
    Test {
        pattern: Option<String>,
        /// The SQL project directory.
        #[arg(long, default_value = "sql")]
        sql: PathBuf,
        /// Also write the results as JUnit XML.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Plan every staging model, measure and data-quality rule without running them, and
    /// report every problem with its file and line.
    Check {
        /// Settings whose `measures` section (sql_dir, vars) to use.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// The SQL project directory, when no settings are given.
        #[arg(long, default_value = "sql")]
        sql: PathBuf,
    },
    /// List the pipelines with their period, schedule, mart, measures and the tables they
    /// extract.
    Pipelines {
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Write the measure catalogue (Markdown and HTML), and/or regenerate the README's list.
    Docs {
        #[arg(long)]
        out: Option<PathBuf>,
        /// Regenerate the measures section of this README.
        #[arg(long)]
        readme: Option<PathBuf>,
        #[arg(long, short)]
        config: Option<PathBuf>,
        #[arg(long, default_value = "sql")]
        sql: PathBuf,
    },
    /// Recompute measures from an existing landing, without extracting.
    Compute {
        #[arg(long, short)]
        config: PathBuf,
        /// The pipeline whose measures, trend and mart to use.
        #[arg(long, default_value = scrutiny_core::pipeline::DEFAULT_PIPELINE)]
        pipeline: String,
        #[arg(long)]
        period: Period,
        /// The landing (run id); default the latest.
        #[arg(long)]
        landing: Option<String>,
        /// Only these measures (comma separated ids).
        #[arg(long, value_delimiter = ',')]
        select: Option<Vec<String>>,
        /// Publish to the real mart instead of the scratch one.
        #[arg(long)]
        publish: bool,
        /// The scratch mart.
        #[arg(long, default_value = "var/scratch")]
        out: PathBuf,
    },
    /// Show a measure's, staging model's or quality rule's plans (with --analyze, run and
    /// measured), and a measure's numerator and denominator.
    Explain {
        /// A measure id, a staging model's name or a quality rule's (the file name in sql/quality).
        id: String,
        #[arg(long, short)]
        config: PathBuf,
        #[arg(long)]
        period: Period,
        #[arg(long)]
        landing: Option<String>,
        /// Run the plan and show each operator's rows, time and memory (EXPLAIN ANALYZE).
        #[arg(long)]
        analyze: bool,
    },
    /// The DfE's published figures that the report compares the council with.
    Benchmarks {
        #[command(subcommand)]
        action: BenchmarksAction,
    },
}

#[derive(Subcommand)]
enum BenchmarksAction {
    /// Derive `benchmarks_lait.csv` and `benchmarks_areas.csv` from the DfE's files, once a year
    /// when they are published: the LAIT keys are those the measures' metadata names.
    Import {
        /// LAIT's long file (`bds_long_0.parquet`).
        #[arg(long)]
        lait: PathBuf,
        /// The statistical-neighbour groups: the DfE's CSV or LAIT's xlsx.
        #[arg(long)]
        neighbours: PathBuf,
        /// Where to write them (what `reference.benchmarks` names, or config/reference to
        /// refresh the copies built into the binary).
        #[arg(long, default_value = "config/reference")]
        out: PathBuf,
        /// The SQL project whose measures name the LAIT keys.
        #[arg(long, default_value = "sql")]
        sql: PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SCRUTINY_LOG")
        // delta-rs and its kernel log every snapshot and scan at info: the operator wants ours.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,buoyant_kernel=warn,deltalake_core=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scrutiny: cannot start: {e}");
            return ExitCode::from(exit::SOFTWARE);
        }
    };
    // A panic is a bug: exit 70, as documented, rather than Rust's 101. Whatever was being
    // written is a hidden partial that the next run removes; `current` is untouched.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runtime.block_on(dispatch(cli.command))))
        .unwrap_or_else(|_| {
            Err(pipeline::Failure::new("run", exit::SOFTWARE, "internal error (a panic, above): please report it"))
        });
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(f) => {
            eprintln!("scrutiny: {} failed: {}", f.stage, f.message);
            ExitCode::from(f.code)
        }
    }
}

async fn dispatch(command: Command) -> Result<(), pipeline::Failure> {
    match command {
        Command::Benchmarks { action: BenchmarksAction::Import { lait, neighbours, out, sql } } => {
            workflow::benchmarks_import(&lait, &neighbours, &out, &sql)
        }
        Command::Run { config, pipeline, period, recompute_snapshots, resume } => {
            let opts = pipeline::RunOptions { pipeline: Some(pipeline), period, recompute_snapshots, resume };
            interruptible(async { pipeline::run(&config, opts).await.map(|_| ()) }).await
        }
        Command::Extract { config, pipeline, period } => {
            interruptible(pipeline::extract_only(&config, Some(&pipeline), period)).await
        }
        Command::Notify { config, resend } => {
            if resend {
                pipeline::resend(&config).await
            } else {
                Err(pipeline::Failure::new("notify", exit::CONFIG, "say what to do: --resend"))
            }
        }
        Command::Sink { config, resend, ddl, pipeline: id } => {
            if resend {
                interruptible(pipeline::sink_resend(&config, Some(&id))).await
            } else if ddl {
                pipeline::sink_ddl(&config, Some(&id)).map(|statements| {
                    for s in statements {
                        println!("{s};");
                    }
                })
            } else {
                Err(pipeline::Failure::new("sink", exit::CONFIG, "say what to do: --resend or --ddl"))
            }
        }
        Command::Synth { out, seed, period, scale } => synth(out, seed, period, scale),
        Command::Demo => interruptible(demo::run()).await,
        Command::Test { pattern, sql, junit } => workflow::test(&sql, pattern.as_deref(), junit.as_deref()).await,
        Command::Check { config, sql } => workflow::check(config.as_deref(), &sql).await,
        Command::Pipelines { config } => workflow::pipelines(&config).await,
        Command::Docs { out, readme, config, sql } => {
            workflow::docs(config.as_deref(), &sql, out.as_deref(), readme.as_deref()).await
        }
        Command::Compute { config, pipeline, period, landing, select, publish, out } => {
            workflow::compute(&config, Some(&pipeline), period, landing.as_deref(), select, publish, &out).await
        }
        Command::Explain { id, config, period, landing, analyze } => {
            workflow::explain(&config, &id, period, landing.as_deref(), analyze).await
        }
    }
}

/// Stops cleanly on Ctrl-C or SIGTERM (a pod being stopped): the run's work is dropped, a
/// half-written landing is removed and the published mart is untouched.
async fn interruptible(
    run: impl std::future::Future<Output = Result<(), pipeline::Failure>>,
) -> Result<(), pipeline::Failure> {
    let stopped = |how: &str| {
        pipeline::Failure::new(
            "run",
            exit::TEMPFAIL,
            format!("stopped by {how} before the run finished; the mart's `current` is the last one published in full"),
        )
    };
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| pipeline::Failure::new("run", exit::SOFTWARE, e.to_string()))?;
        tokio::select! {
            r = run => r,
            _ = tokio::signal::ctrl_c() => Err(stopped("Ctrl-C")),
            _ = term.recv() => Err(stopped("SIGTERM")),
        }
    }
    #[cfg(not(unix))]
    tokio::select! {
        r = run => r,
        _ = tokio::signal::ctrl_c() => Err(stopped("Ctrl-C")),
    }
}

fn synth(out: PathBuf, seed: u64, period: Period, scale: f64) -> Result<(), pipeline::Failure> {
    if !(scale > 0.0 && scale.is_finite()) {
        return Err(pipeline::Failure::new("synth", exit::CONFIG, "--scale must be a positive number"));
    }
    let counts = scrutiny_synth::generate(&scrutiny_synth::Options { seed, period, scale }, &out)
        .map_err(|e| pipeline::Failure::new("synth", exit::SOFTWARE, e.to_string()))?;
    let rows: usize = counts.iter().map(|c| c.1).sum();
    println!("wrote {} tables ({rows} rows) and team_org_units.csv to {}", counts.len(), out.display());
    Ok(())
}
