//! The summary email (plain text and HTML alternatives, sparklines inline by CID) and the
//! failure alert.

use crate::content::Content;
use crate::{NotifyError, RunSummary, charts, render};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use scrutiny_core::Period;
use scrutiny_core::settings::EmailSettings;
use std::collections::BTreeMap;

/// The summary's subject, naming the period as the report does.
pub fn subject(title: &str, period: Period) -> String {
    format!("{title}: {}", period.label())
}

/// The summary email: plain text and HTML alternatives, with an 18-month sparkline per
/// measure embedded inline and described in words (alt text) for screen readers and for mail
/// clients that block images.
pub fn summary_message(email: &EmailSettings, run: &RunSummary, content: &Content) -> Result<Message, NotifyError> {
    let mut sparks: BTreeMap<String, String> = BTreeMap::new();
    let mut images: Vec<(String, Vec<u8>)> = Vec::new();
    for m in content.areas.iter().flat_map(|a| &a.measures) {
        if let Some(png) = charts::sparkline(&m.series) {
            let cid = format!("spark-{}", m.id);
            sparks.insert(m.id.clone(), cid.clone());
            images.push((cid, png));
        }
    }
    let ctx = minijinja::context! { ..run.context(), ..minijinja::Value::from_serialize(content), ..minijinja::context! { sparks => sparks } };
    let text = render("summary.txt", include_str!("../templates/summary.txt"), ctx.clone())?;
    let html = render("summary.html", include_str!("../templates/summary.html"), ctx)?;
    let mut related = MultiPart::related().multipart(MultiPart::alternative_plain_html(text, html));
    for (cid, png) in images {
        related = related.singlepart(
            lettre::message::Attachment::new_inline(cid)
                .body(png, ContentType::parse("image/png").expect("a valid content type")),
        );
    }
    build(email, &email.to, subject(&content.title, run.period), related)
}

/// The alert for a failed run: which stage failed and why.
pub fn failure_message(
    email: &EmailSettings,
    title: &str,
    period: Period,
    run_id: &str,
    stage: &str,
    error: &str,
) -> Result<Message, NotifyError> {
    let ctx = minijinja::context! { period_label => period.label(), run_id => run_id, stage => stage, error => error };
    let text = render("failure.txt", include_str!("../templates/failure.txt"), ctx)?;
    let subject = format!("{} - run FAILED at {stage}", subject(title, period));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_names_the_period() {
        assert_eq!(
            subject("Children's services scrutiny", "2022-01".parse().unwrap()),
            "Children's services scrutiny: January 2022"
        );
        assert_eq!(
            subject("Corporate Parenting Board", "2021-Q4".parse().unwrap()),
            "Corporate Parenting Board: October to December 2021"
        );
    }
}
