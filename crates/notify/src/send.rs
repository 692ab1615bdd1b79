//! Sending: SMTP with STARTTLS or implicit TLS and AUTH, retries with a doubling wait, and a
//! queue of messages that could not be sent (`<mart>/.pending-mail`), or an outbox directory.

use crate::NotifyError;
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use scrutiny_core::settings::{EmailSettings, EmailTransport, SmtpSettings, SmtpTls};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn smtp_transport(s: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, NotifyError> {
    let fail = |message: String| NotifyError::Smtp { host: s.host.clone(), port: s.port, message };
    let params = || -> Result<TlsParameters, NotifyError> {
        let mut b = TlsParameters::builder(s.host.clone());
        if let Some(path) = &s.ca_file {
            let ca = |message: String| NotifyError::CaFile { path: path.clone(), message };
            let pem = std::fs::read(path).map_err(|e| ca(e.to_string()))?;
            b = b.add_root_certificate(Certificate::from_pem(&pem).map_err(|e| ca(e.to_string()))?);
        }
        b.build().map_err(|e| fail(e.to_string()))
    };
    let tls = match s.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::Starttls => Tls::Required(params()?),
        SmtpTls::Implicit => Tls::Wrapper(params()?),
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

/// Sends raw message bytes, retrying with a doubling wait. A permanent refusal (a 5xx reply:
/// an unknown recipient, wrong credentials) is not retried: the same message would be refused
/// again, so the operator hears about it at once.
async fn send_with_retries(
    s: &SmtpSettings,
    envelope: &lettre::address::Envelope,
    bytes: &[u8],
) -> Result<(), NotifyError> {
    let transport = smtp_transport(s)?;
    let mut attempt = 0;
    loop {
        // lettre bounds the connect only; a relay that accepts and then says nothing would
        // hold the run for ever, so each try as a whole gets the timeout.
        let limit = Duration::from_secs(s.timeout_secs);
        let (permanent, message) = match tokio::time::timeout(limit, transport.send_raw(envelope, bytes)).await {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) => (e.is_permanent(), describe(&e)),
            Err(_) => (false, format!("no answer within {} s", s.timeout_secs)),
        };
        if permanent || attempt >= s.retries {
            return Err(NotifyError::Smtp { host: s.host.clone(), port: s.port, message });
        }
        attempt += 1;
        let wait = Duration::from_millis(s.retry_backoff_ms.saturating_mul(1 << (attempt - 1).min(10)));
        tracing::warn!(host = %s.host, attempt, wait_ms = wait.as_millis() as u64, error = %message, "sending failed; retrying");
        tokio::time::sleep(wait).await;
    }
}

/// lettre's error with its causes: "Connection error: Connection refused (os error 111)"
/// says more than "Connection error".
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !out.contains(&c_text) {
            out.push_str(": ");
            out.push_str(&c_text);
        }
        cause = c.source();
    }
    out
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
