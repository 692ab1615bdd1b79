//! The notify stage: the monthly summary email when a run completes, an alert when it fails,
//! and the report (`report.html`) published with the mart. Email goes over SMTP, or as `.eml`
//! files to an outbox directory.
//!
//! Only aggregate figures reach an email or the report: measure values, counts of rows and
//! data-quality counts. No person-level field is ever passed to a template.

pub mod charts;
pub mod content;
mod email;
pub mod report;
mod send;

pub use content::{Commentary, Content, content, format_value, narrative, shown};
pub use email::{failure_message, subject, summary_message};
pub use report::report_html;
pub use send::{deliver, resend_pending};

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("email address `{address}`: {message}")]
    Address { address: String, message: String },
    #[error("building the email: {0}")]
    Build(String),
    #[error("officers' commentary {}: {message}", path.display())]
    Commentary { path: PathBuf, message: String },
    #[error("template `{template}`: {message}")]
    Template { template: &'static str, message: String },
    #[error("writing {path}: {source}")]
    Outbox { path: PathBuf, source: std::io::Error },
    #[error("reading the SMTP CA file {}: {message}", path.display())]
    CaFile { path: PathBuf, message: String },
    #[error("sending through {host}:{port}: {message}")]
    Smtp { host: String, port: u16, message: String },
    #[error("{reason}; the message is kept in {} and will be sent by the next run or `scrutiny notify --resend`", path.display())]
    Queued { reason: Box<NotifyError>, path: PathBuf },
}

/// Facts about a run, for the summary and the report's footer.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub period: scrutiny_core::Period,
    pub source_as_at: chrono::DateTime<chrono::Utc>,
    pub duration: Duration,
    pub rows_read: u64,
    /// Where readers find the mart: a directory or a store URL.
    pub mart: String,
}

impl RunSummary {
    fn context(&self) -> minijinja::Value {
        minijinja::context! {
            as_at => self.source_as_at.format("%d/%m/%Y %H:%M UTC").to_string(),
            run_id => self.run_id,
            duration => fmt_duration(self.duration),
            rows_read => content::format_count(self.rows_read as f64),
            mart => self.mart,
        }
    }
}

fn render(name: &'static str, source: &'static str, ctx: minijinja::Value) -> Result<String, NotifyError> {
    let mut env = minijinja::Environment::new();
    env.set_keep_trailing_newline(true);
    // HTML templates escape every value; the text ones must not.
    env.set_auto_escape_callback(|n| {
        if n.ends_with(".html") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
    });
    env.add_template(name, source).map_err(|e| NotifyError::Template { template: name, message: e.to_string() })?;
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| NotifyError::Template { template: name, message: e.to_string() })
}

fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 { format!("{s:.1} s") } else { format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64) }
}
