//! The notify stage: the monthly summary email when a run completes, an alert when it fails.
//! Delivered over SMTP, or written as `.eml` files to an outbox directory.
//!
//! Only aggregate figures reach an email: measure values, counts of rows and data-quality
//! counts. No person-level field is ever passed to a template.

pub mod observe;
pub mod sparkline;

use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use scrutiny_core::Period;
use scrutiny_core::settings::{EmailSettings, EmailTransport, SmtpTls};
use scrutiny_metrics::values::MetricValue;
use scrutiny_metrics::{Computed, QualityRow, Unit};
use serde::Serialize;
use std::path::{Path, PathBuf};
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
    #[error("sending through {host}:{port}: {message}")]
    Smtp { host: String, port: u16, message: String },
    #[error("{reason}; the message is kept in {} and will be sent by the next run or `scrutiny notify --resend`", path.display())]
    Queued { reason: Box<NotifyError>, path: PathBuf },
}

/// Facts about a completed run, for the summary.
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub run_id: String,
    pub period: Period,
    pub source_as_at: chrono::DateTime<chrono::Utc>,
    pub duration: Duration,
    pub rows_read: u64,
    pub mart: PathBuf,
}

#[derive(Serialize)]
struct Breakdown {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct MeasureLine {
    id: String,
    title: String,
    value: String,
    prev: String,
    last_year: String,
    change: String,
    target: Option<String>,
    status: String,
    breakdown: Vec<Breakdown>,
    /// The inline sparkline's content id, when there is one.
    spark: Option<String>,
    spark_alt: String,
}

#[derive(Serialize)]
struct Area {
    name: String,
    measures: Vec<MeasureLine>,
    /// "What is the data telling us?"
    telling_us: Option<String>,
    /// "What questions is the data raising for us?"
    questions: Option<String>,
}

/// Officers' commentary for a period, by area, as the seed report has it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commentary {
    /// Area -> "What is the data telling us?"
    #[serde(default)]
    pub telling_us: std::collections::BTreeMap<String, String>,
    /// Area -> "What questions is the data raising for us?"
    #[serde(default)]
    pub questions: std::collections::BTreeMap<String, String>,
}

impl Commentary {
    /// `<dir>/<period>.yaml`, or none when there is no such file.
    pub fn load(dir: &Path, period: Period) -> Result<Self, NotifyError> {
        let path = dir.join(format!("{period}.yaml"));
        let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Self::default()) };
        serde_yaml::from_str(&text).map_err(|e| NotifyError::Commentary { path, message: e.to_string() })
    }
}

/// A figure as people read it: counts as whole numbers, rates as percentages.
pub fn format_value(v: Option<f64>, unit: Unit) -> String {
    match (v, unit) {
        (None, _) => "n/a".into(),
        (Some(x), Unit::Count) => format_count(x),
        (Some(x), Unit::Rate) => format!("{:.1}%", x * 100.0),
    }
}

fn format_count(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn format_change(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |x| format!("{:+.1}%", x * 100.0))
}

/// The summary's subject, naming the period as the report does.
pub fn subject(period: Period) -> String {
    format!("Children's services scrutiny: {}", period.label())
}

/// A figure as the email shows it: `c` in place of a count from 1 to 5, or of a rate whose
/// numerator is one, when small numbers are suppressed.
pub fn shown(value: Option<f64>, numerator: Option<i64>, unit: Unit, suppress: bool) -> String {
    let small = |n: i64| (1..=5).contains(&n);
    let hidden = suppress
        && match unit {
            Unit::Count => value.is_some_and(|v| small(v.round() as i64)),
            Unit::Rate => numerator.is_some_and(small),
        };
    if hidden { "c".into() } else { format_value(value, unit) }
}

/// The row of a measure `months` periods before `r`.
fn earlier<'a>(values: &'a [MetricValue], r: &MetricValue, months: u32) -> Option<&'a MetricValue> {
    let p = r.period.parse::<Period>().ok()?.minus_months(months).to_string();
    values
        .iter()
        .find(|v| v.metric_id == r.metric_id && v.org_unit == r.org_unit && v.category == r.category && v.period == p)
}

/// A few sentences on the largest movements against the same month last year.
pub fn narrative(computed: &Computed, values: &[MetricValue], period: Period, suppress: bool) -> Vec<String> {
    let p = period.to_string();
    let last_year = period.minus_months(12).label();
    let mut moves: Vec<(f64, String)> = Vec::new();
    for m in &computed.measures {
        let Some(r) = values
            .iter()
            .find(|v| v.metric_id == m.meta.id && v.period == p && v.org_unit == "ALL" && v.category.is_none())
        else {
            continue;
        };
        let Some(change) = r.change_vs_last_year else { continue };
        let before = earlier(values, r, 12);
        let hidden = |v: &MetricValue| shown(v.value, v.numerator, m.meta.unit, suppress) == "c";
        if change.abs() < 0.005 || hidden(r) || before.is_some_and(hidden) {
            continue;
        }
        let verb = if change > 0.0 { "rose" } else { "fell" };
        moves.push((
            change.abs(),
            format!(
                "{} {verb} {:.0}% on {last_year} (now {}).",
                m.meta.title,
                change.abs() * 100.0,
                format_value(r.value, m.meta.unit)
            ),
        ));
    }
    moves.sort_by(|a, b| b.0.total_cmp(&a.0));
    moves.into_iter().take(3).map(|(_, s)| s).collect()
}

fn areas(computed: &Computed, values: &[MetricValue], period: Period, suppress: bool) -> Vec<Area> {
    let p = period.to_string();
    let mut out: Vec<Area> = Vec::new();
    for m in &computed.measures {
        let rows: Vec<&MetricValue> = values.iter().filter(|v| v.metric_id == m.meta.id && v.period == p).collect();
        let headline = rows.iter().find(|v| v.org_unit == "ALL" && v.category.is_none());
        let breakdown = rows
            .iter()
            .filter(|v| v.org_unit != "ALL" || v.category.is_some())
            .map(|v| Breakdown {
                name: v
                    .category
                    .as_ref()
                    .and_then(|c| {
                        let set = m.meta.categories.as_ref()?;
                        computed.code_sets.iter().find(|r| &r[0] == set && &r[1] == c).map(|r| r[2].clone())
                    })
                    .or_else(|| v.category.clone())
                    .map_or_else(
                        || v.org_unit.clone(),
                        |c| {
                            if v.org_unit == "ALL" { c } else { format!("{} {c}", v.org_unit) }
                        },
                    ),
                value: shown(v.value, v.numerator, m.meta.unit, suppress),
            })
            .collect();
        let total = if headline.is_none() && m.meta.unit == Unit::Count && !rows.is_empty() {
            Some(rows.iter().filter_map(|v| v.value).sum::<f64>())
        } else {
            headline.and_then(|h| h.value)
        };
        let line = MeasureLine {
            id: m.meta.id.clone(),
            title: m.meta.title.clone(),
            value: match headline {
                Some(h) => shown(h.value, h.numerator, m.meta.unit, suppress),
                None => shown(total, None, m.meta.unit, suppress),
            },
            prev: headline.and_then(|h| earlier(values, h, 1)).map_or_else(
                || format_value(None, m.meta.unit),
                |r| shown(r.value, r.numerator, m.meta.unit, suppress),
            ),
            last_year: headline.and_then(|h| earlier(values, h, 12)).map_or_else(
                || format_value(None, m.meta.unit),
                |r| shown(r.value, r.numerator, m.meta.unit, suppress),
            ),
            change: format_change(headline.and_then(|h| h.change_vs_last_year)),
            target: m.meta.target.map(|t| format_value(Some(t), m.meta.unit)),
            status: headline.and_then(|h| h.status.clone()).unwrap_or_default().replace('_', " "),
            breakdown,
            spark: None,
            spark_alt: String::new(),
        };
        match out.iter_mut().find(|a| a.name == m.meta.area) {
            Some(a) => a.measures.push(line),
            None => {
                out.push(Area { name: m.meta.area.clone(), measures: vec![line], telling_us: None, questions: None })
            }
        }
    }
    out
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

/// The summary email: plain text and HTML alternatives.
pub fn summary_message(
    email: &EmailSettings,
    run: &RunSummary,
    computed: &Computed,
    values: &[MetricValue],
) -> Result<Message, NotifyError> {
    let quality: Vec<&QualityRow> = computed.quality.iter().filter(|q| q.rows_affected > 0).collect();
    let quality: Vec<minijinja::Value> = quality
        .iter()
        .map(|q| minijinja::context! { table_name => q.table_name, rule => q.rule.replace('_', " "), rows_affected => format_count(q.rows_affected as f64), rows_seen => format_count(q.rows_seen as f64) })
        .collect();
    let mut areas = areas(computed, values, run.period, email.suppress_small_numbers);
    if let Some(dir) = &email.commentary_dir {
        let mut c = Commentary::load(dir, run.period)?;
        for a in &mut areas {
            a.telling_us = c.telling_us.remove(&a.name);
            a.questions = c.questions.remove(&a.name);
        }
        if let Some(area) = c.telling_us.keys().chain(c.questions.keys()).next() {
            return Err(NotifyError::Commentary {
                path: dir.join(format!("{}.yaml", run.period)),
                message: format!("no area `{area}` in the report"),
            });
        }
    }
    // An 18-month sparkline per measure, embedded inline and described in words for screen
    // readers and for mail clients that block images.
    let trend = &computed.periods;
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    for line in areas.iter_mut().flat_map(|a| a.measures.iter_mut()) {
        let Some(m) = computed.measures.iter().find(|m| m.meta.id == line.id) else { continue };
        let series: Vec<Option<f64>> = trend
            .iter()
            .map(|p| {
                let p = p.to_string();
                values
                    .iter()
                    .find(|v| v.metric_id == line.id && v.period == p && v.org_unit == "ALL" && v.category.is_none())
                    .and_then(|v| v.value)
            })
            .collect();
        let hidden = email.suppress_small_numbers
            && m.meta.unit == Unit::Count
            && series.iter().flatten().any(|v| (1.0..=5.0).contains(v));
        if hidden {
            continue;
        }
        if let Some(png) = sparkline::sparkline(&series) {
            let cid = format!("spark-{}", line.id);
            let known: Vec<f64> = series.iter().flatten().copied().collect();
            line.spark_alt = format!(
                "{} over the last {} months: from {} to {}",
                m.meta.title,
                trend.len(),
                format_value(known.first().copied(), m.meta.unit),
                format_value(known.last().copied(), m.meta.unit)
            );
            line.spark = Some(cid.clone());
            images.push((cid, png));
        }
    }
    let ctx = minijinja::context! {
        period_label => run.period.label(),
        as_at => run.source_as_at.format("%d/%m/%Y %H:%M UTC").to_string(),
        run_id => run.run_id,
        duration => fmt_duration(run.duration),
        rows_read => format_count(run.rows_read as f64),
        areas => areas,
        narrative => narrative(computed, values, run.period, email.suppress_small_numbers),
        suppressed => email.suppress_small_numbers,
        last_year_label => run.period.minus_months(12).label(),
        quality => quality,
        mart => run.mart.display().to_string(),
        power_bi_url => email.power_bi_url,
    };
    let text = render("summary.txt", include_str!("../templates/summary.txt"), ctx.clone())?;
    let html = render("summary.html", include_str!("../templates/summary.html"), ctx)?;
    let mut related = MultiPart::related().multipart(MultiPart::alternative_plain_html(text, html));
    for (cid, png) in images {
        related = related.singlepart(
            lettre::message::Attachment::new_inline(cid)
                .body(png, ContentType::parse("image/png").expect("a valid content type")),
        );
    }
    build(email, &email.to, subject(run.period), related)
}

/// The alert for a failed run: which stage failed and why.
pub fn failure_message(
    email: &EmailSettings,
    period: Period,
    run_id: &str,
    stage: &str,
    error: &str,
) -> Result<Message, NotifyError> {
    let ctx = minijinja::context! { period_label => period.label(), run_id => run_id, stage => stage, error => error };
    let text = render("failure.txt", include_str!("../templates/failure.txt"), ctx)?;
    let subject = format!("{} - run FAILED at {stage}", subject(period));
    build(
        email,
        &email.failure_to,
        subject,
        MultiPart::mixed().singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text)),
    )
}

fn mailbox(a: &str) -> Result<Mailbox, NotifyError> {
    a.parse()
        .map_err(|e: lettre::address::AddressError| NotifyError::Address { address: a.into(), message: e.to_string() })
}

fn build(email: &EmailSettings, to: &[String], subject: String, body: MultiPart) -> Result<Message, NotifyError> {
    let mut b = Message::builder().from(mailbox(&email.from)?).subject(subject);
    for a in to {
        b = b.to(mailbox(a)?);
    }
    b.multipart(body).map_err(|e| NotifyError::Build(e.to_string()))
}

fn smtp_transport(
    s: &scrutiny_core::settings::SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let fail = |message: String| NotifyError::Smtp { host: s.host.clone(), port: s.port, message };
    let tls = match s.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(TlsParameters::new(s.host.clone()).map_err(|e| fail(e.to_string()))?),
        SmtpTls::Implicit => Tls::Wrapper(TlsParameters::new(s.host.clone()).map_err(|e| fail(e.to_string()))?),
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(s.timeout_secs)));
    if let (Some(u), Some(p)) = (&s.username, &s.password) {
        b = b.credentials(Credentials::new(u.clone(), p.expose().to_string()));
    }
    Ok(b.build())
}

/// Sends raw message bytes, retrying with a doubling wait.
async fn send_with_retries(
    s: &scrutiny_core::settings::SmtpSettings,
    envelope: &lettre::address::Envelope,
    bytes: &[u8],
) -> Result<(), NotifyError> {
    let transport = smtp_transport(s)?;
    let mut attempt = 0;
    loop {
        match transport.send_raw(envelope, bytes).await {
            Ok(_) => return Ok(()),
            Err(e) if attempt < s.retries => {
                attempt += 1;
                let wait = Duration::from_millis(s.retry_backoff_ms.saturating_mul(1 << (attempt - 1).min(10)));
                tracing::warn!(host = %s.host, attempt, wait_ms = wait.as_millis() as u64, error = %e, "sending failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(NotifyError::Smtp { host: s.host.clone(), port: s.port, message: e.to_string() }),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct QueuedEnvelope {
    from: Option<String>,
    to: Vec<String>,
}

/// Keeps a message that could not be sent, for the next run or `scrutiny notify --resend`.
fn queue(pending: &Path, name: &str, envelope: &lettre::address::Envelope, bytes: &[u8]) -> std::io::Result<PathBuf> {
    scrutiny_core::fs::create_private_dir(pending)?;
    let env = QueuedEnvelope {
        from: envelope.from().map(ToString::to_string),
        to: envelope.to().iter().map(ToString::to_string).collect(),
    };
    scrutiny_core::fs::write_private(
        &pending.join(format!("{name}.envelope.json")),
        &serde_json::to_vec(&env).expect("serialises"),
    )?;
    let path = pending.join(format!("{name}.eml"));
    scrutiny_core::fs::write_private(&path, bytes)?;
    Ok(path)
}

/// Delivers a message by the configured transport and returns where it went. Over SMTP, a
/// message that still fails after the retries is kept in `pending` and the error says so.
pub async fn deliver(
    email: &EmailSettings,
    message: &Message,
    name: &str,
    pending: &Path,
) -> Result<String, NotifyError> {
    match &email.transport {
        EmailTransport::Outbox(dir) => {
            let path = dir.join(format!("{name}.eml"));
            let write = || -> std::io::Result<()> {
                scrutiny_core::fs::create_private_dir(dir)?;
                scrutiny_core::fs::write_private(&path, &message.formatted())
            };
            write().map_err(|source| NotifyError::Outbox { path: path.clone(), source })?;
            Ok(path.display().to_string())
        }
        EmailTransport::Smtp(s) => {
            let bytes = message.formatted();
            match send_with_retries(s, message.envelope(), &bytes).await {
                Ok(()) => Ok(format!("{}:{}", s.host, s.port)),
                Err(e) => {
                    let kept = queue(pending, name, message.envelope(), &bytes)
                        .map_err(|source| NotifyError::Outbox { path: pending.to_path_buf(), source })?;
                    Err(NotifyError::Queued { reason: Box::new(e), path: kept })
                }
            }
        }
    }
}

/// Sends the messages kept by earlier failed deliveries. Returns how many went.
pub async fn resend_pending(email: &EmailSettings, pending: &Path) -> Result<usize, NotifyError> {
    let EmailTransport::Smtp(s) = &email.transport else { return Ok(0) };
    let Ok(entries) = std::fs::read_dir(pending) else { return Ok(0) };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    let mut sent = 0;
    for eml in files {
        let env_path = eml.with_extension("envelope.json");
        let read = |p: &Path| std::fs::read(p).map_err(|source| NotifyError::Outbox { path: p.to_path_buf(), source });
        let env: QueuedEnvelope =
            serde_json::from_slice(&read(&env_path)?).map_err(|e| NotifyError::Build(e.to_string()))?;
        let from = env
            .from
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: lettre::address::AddressError| NotifyError::Build(e.to_string()))?;
        let to = env
            .to
            .iter()
            .map(|a| a.parse())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e: lettre::address::AddressError| NotifyError::Build(e.to_string()))?;
        let envelope = lettre::address::Envelope::new(from, to).map_err(|e| NotifyError::Build(e.to_string()))?;
        send_with_retries(s, &envelope, &read(&eml)?).await?;
        let _ = std::fs::remove_file(&eml);
        let _ = std::fs::remove_file(&env_path);
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_the_report_writes_them() {
        assert_eq!(format_value(Some(503.0), Unit::Count), "503");
        assert_eq!(format_value(Some(75_123.0), Unit::Count), "75,123");
        assert_eq!(format_value(Some(0.2187), Unit::Rate), "21.9%");
        assert_eq!(format_value(None, Unit::Rate), "n/a");
        assert_eq!(format_change(Some(0.138)), "+13.8%");
        assert_eq!(format_change(Some(-0.278)), "-27.8%");
    }

    #[test]
    fn small_numbers_are_suppressed_only_when_asked() {
        assert_eq!(shown(Some(3.0), Some(3), Unit::Count, true), "c");
        assert_eq!(shown(Some(0.0), Some(0), Unit::Count, true), "0", "zero is not suppressed");
        assert_eq!(shown(Some(6.0), Some(6), Unit::Count, true), "6");
        assert_eq!(shown(Some(0.5), Some(5), Unit::Rate, true), "c", "a rate on a suppressed numerator");
        assert_eq!(shown(Some(0.5), Some(50), Unit::Rate, true), "50.0%");
        assert_eq!(shown(Some(3.0), Some(3), Unit::Count, false), "3");
    }

    #[test]
    fn subject_names_the_period() {
        assert_eq!(subject("2022-01".parse().unwrap()), "Children's services scrutiny: January 2022");
    }
}
