//! The summary email and the report as people receive them: parsed back, sent through a real
//! SMTP server over STARTTLS and implicit TLS with AUTH, through the ways relays fail, and the
//! report rendered in headless Chromium.

use super::*;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use std::collections::BTreeSet;

/// Runs `scrutiny` with extra environment variables.
fn scrutiny_env(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scrutiny"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// A CA and a certificate for `localhost` signed by it, as PEM files in `dir`.
pub(crate) fn test_ca(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "scrutiny test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()]).unwrap().signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

/// A real SMTP server on loopback: aiosmtpd (PyPI) driven by `tests/support/smtp_server.py`.
/// Each event is a JSON line; each accepted message an `.eml` file.
pub(crate) struct SmtpServer {
    child: std::process::Child,
    log: PathBuf,
}

impl SmtpServer {
    pub(crate) fn start(port: u16, dir: &Path, extra: &[&str]) -> Self {
        let log = dir.join("smtp-events.jsonl");
        let script = repo().join("tests/support/smtp_server.py");
        let port_s = port.to_string();
        let mail = dir.join("smtp-mail");
        let mut args: Vec<&str> = vec![
            script.to_str().unwrap(),
            "--port",
            &port_s,
            "--log",
            log.to_str().unwrap(),
            "--mail-dir",
            mail.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let mut child = Command::new("python3")
            .args(&args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs the test SMTP server");
        for _ in 0..200 {
            if std::fs::read_to_string(&log).is_ok_and(|l| l.contains("\"ready\"")) {
                return Self { child, log };
            }
            if let Ok(Some(_)) = child.try_wait() {
                let mut err = String::new();
                std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
                panic!(
                    "the test SMTP server did not start (`python3 -m pip install aiosmtpd`, as .ci/run does):\n{err}"
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the test SMTP server did not start on port {port}");
    }

    pub(crate) fn events(&self, kind: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["event"] == kind)
            .collect()
    }

    /// Every accepted message: its event and its text.
    pub(crate) fn messages(&self) -> Vec<(serde_json::Value, String)> {
        self.events("message")
            .into_iter()
            .map(|e| {
                let text = std::fs::read_to_string(e["file"].as_str().unwrap()).unwrap();
                (e, text)
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn subject_of(eml: &str) -> String {
    MessageParser::default().parse(eml.as_bytes()).unwrap().subject().unwrap_or_default().to_string()
}

fn rcpts(e: &serde_json::Value) -> Vec<String> {
    e["rcpt_tos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}

const SMTP_PASSWORD: &str = "s3cret-smtp-Pa55";

impl Council {
    /// Sends through SMTP on `port` instead of the outbox.
    fn use_smtp(&self, port: u16, settings: &str) {
        self.edit_config(
            "    outbox: ./var/outbox\n",
            &format!(
                "    failure_to: [bi-oncall@example.org]\n    smtp:\n      host: localhost\n      port: {port}\n      retry_backoff_ms: 10\n{settings}"
            ),
        );
    }

    fn run_with_password(&self) -> Output {
        scrutiny_env(
            &["run", "--config", "scrutiny.yaml", "--period", "2022-01"],
            self.path(),
            &[("SCRUTINY_SMTP_PASSWORD", SMTP_PASSWORD)],
        )
    }

    fn pending_mail(&self) -> usize {
        std::fs::read_dir(self.path().join("var/mart/.pending-mail"))
            .map(|d| d.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "eml")).count())
            .unwrap_or(0)
    }
}

/// A council sending over `tls` (`starttls` or `implicit`) with AUTH to a server that knows
/// `server_password`, trusting the server's certificate through `ca_file` only.
fn tls_council(tls: &str, server_password: &str, settings: &str) -> (Council, SmtpServer) {
    let c = Council::new(&repo().join("sql"));
    test_ca(c.path());
    let port = free_port();
    let auth = format!("scrutiny:{server_password}");
    let server =
        SmtpServer::start(port, c.path(), &["--tls", tls, "--cert", "cert.pem", "--key", "key.pem", "--auth", &auth]);
    c.use_smtp(
        port,
        &format!(
            "      tls: {tls}\n      username: scrutiny\n      password: ${{SCRUTINY_SMTP_PASSWORD}}\n      ca_file: ./ca.pem\n{settings}"
        ),
    );
    (c, server)
}

#[test]
fn starttls_with_auth_delivers_the_summary_and_the_failure_alert_goes_to_its_own_recipients() {
    let (c, server) = tls_council("starttls", SMTP_PASSWORD, "");

    let out = c.run_with_password();
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(SMTP_PASSWORD), "the password never reaches the log");
    let messages = server.messages();
    assert_eq!(messages.len(), 1, "{:?}", server.events("message"));
    let (event, eml) = &messages[0];
    assert_eq!(event["tls"], true, "sent after STARTTLS");
    assert_eq!(event["login"], "scrutiny", "authenticated");
    assert_eq!(rcpts(event), ["performance-team@example.org"]);
    assert_eq!(subject_of(eml), "Children's services scrutiny: January 2022");

    // A failed run: the alert goes to failure_to, not to the summary's readers.
    std::fs::remove_file(c.path().join("ssd/ssd_cin_episodes.csv")).unwrap();
    let out = c.run_with_password();
    assert_eq!(out.status.code(), Some(65), "{}", text(&out));
    let messages = server.messages();
    assert_eq!(messages.len(), 2);
    let (event, eml) = &messages[1];
    assert_eq!(rcpts(event), ["bi-oncall@example.org"]);
    assert!(subject_of(eml).ends_with("run FAILED at extract"), "{}", subject_of(eml));
}

#[test]
fn implicit_tls_with_auth_delivers_the_summary() {
    let (c, server) = tls_council("implicit", SMTP_PASSWORD, "");
    let out = c.run_with_password();
    assert!(out.status.success(), "{}", text(&out));
    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0["tls"], true);
    assert_eq!(messages[0].0["login"], "scrutiny");
}

#[test]
fn a_wrong_smtp_password_is_not_retried_and_the_message_waits_with_exit_75() {
    let (c, server) = tls_council("starttls", "another-password", "      retries: 3\n");
    let out = c.run_with_password();
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(!text(&out).contains(SMTP_PASSWORD), "{}", text(&out));
    assert!(c.current().join("report.html").is_file(), "the mart is published anyway");
    // Refused credentials are permanent: one try for the summary and one for the alert.
    assert_eq!(server.events("auth").len(), 2, "{:?}", server.events("auth"));
    assert_eq!(c.pending_mail(), 2);
}

#[test]
fn a_server_that_refuses_the_recipients_permanently_is_tried_once_and_temporarily_is_retried() {
    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    let server = SmtpServer::start(port, c.path(), &["--refuse-rcpt", "550"]);
    c.use_smtp(port, "      tls: none\n      retries: 2\n");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("550"), "{}", text(&out));
    assert!(c.current().join("metric_values.parquet").is_file(), "the mart is published anyway");
    let refused = server.events("refused");
    let to_team = refused.iter().filter(|e| e["rcpt"] == "performance-team@example.org").count();
    assert_eq!(to_team, 1, "550 is permanent: no retry");
    assert_eq!(c.pending_mail(), 2, "the summary and the alert wait");
    drop(server);

    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    let server = SmtpServer::start(port, c.path(), &["--refuse-rcpt", "451"]);
    c.use_smtp(port, "      tls: none\n      retries: 2\n");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    let refused = server.events("refused");
    let to_team = refused.iter().filter(|e| e["rcpt"] == "performance-team@example.org").count();
    assert_eq!(to_team, 3, "451 is temporary: the first try and 2 retries");
}

#[test]
fn a_dropped_connection_is_retried_and_the_summary_arrives_once() {
    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    let server = SmtpServer::start(port, c.path(), &["--drop-first", "2"]);
    c.use_smtp(port, "      tls: none\n      retries: 3\n");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(server.events("dropped").len(), 2);
    assert_eq!(server.messages().len(), 1, "delivered once, not once per try");
    assert_eq!(c.pending_mail(), 0);
    drop(server);

    // A server that drops every time: the retries run out and the message waits.
    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    let server = SmtpServer::start(port, c.path(), &["--drop-first", "100"]);
    c.use_smtp(port, "      tls: none\n      retries: 1\n");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert_eq!(server.events("dropped").len(), 4, "summary and alert, each tried twice");
    assert_eq!(c.pending_mail(), 2);
}

#[test]
fn a_server_that_never_answers_times_out_and_the_message_waits() {
    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    let server = SmtpServer::start(port, c.path(), &["--stall"]);
    c.use_smtp(port, "      tls: none\n      retries: 1\n      timeout_secs: 1\n");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(text(&out).contains("no answer within 1 s"), "{}", text(&out));
    assert_eq!(server.events("stalled").len(), 4, "summary and alert, each tried twice");
    assert_eq!(c.pending_mail(), 2);
}

#[test]
fn mail_that_cannot_be_sent_waits_and_is_resent_while_the_mart_is_published() {
    let c = Council::new(&repo().join("sql"));
    let port = free_port();
    c.use_smtp(port, "      tls: none\n      retries: 1\n");

    // The SMTP server is down: the mart is published, the run exits 75, the message waits.
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(75), "{}", text(&out));
    assert!(c.current().join("metric_values.parquet").is_file(), "the mart is published anyway");
    assert!(text(&out).contains("will be sent by the next run"), "{}", text(&out));
    // The summary, and the alert that the notify stage failed.
    assert_eq!(c.pending_mail(), 2);

    // Once it is up, `scrutiny notify --resend` sends what waits.
    let server = SmtpServer::start(port, c.path(), &[]);
    let out = scrutiny(&["notify", "--config", "scrutiny.yaml", "--resend"], c.path());
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("sent 2 kept messages"), "{}", text(&out));
    assert_eq!(c.pending_mail(), 0);
    // The next run sends its own summary straight away.
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let subjects: Vec<String> = server.messages().iter().map(|(_, eml)| subject_of(eml)).collect();
    assert_eq!(
        subjects.iter().filter(|s| *s == "Children's services scrutiny: January 2022").count(),
        2,
        "{subjects:?}"
    );
    assert_eq!(subjects.iter().filter(|s| s.ends_with("run FAILED at notify")).count(), 1, "{subjects:?}");
    let alert = server.messages().into_iter().find(|(_, eml)| subject_of(eml).ends_with("FAILED at notify")).unwrap();
    assert_eq!(rcpts(&alert.0), ["bi-oncall@example.org"]);
}

/// The headline of each measure as the email and the report must show it, read from the mart.
fn headlines(mart: &Path) -> Vec<(String, String)> {
    let metrics = read(&mart.join("metrics.parquet"));
    let ids = strings(&metrics, "id");
    let titles = strings(&metrics, "title");
    let units = strings(&metrics, "unit");
    let mv = read(&mart.join("metric_values.parquet"));
    let (mid, period, org, cat, val) = (
        strings(&mv, "metric_id"),
        strings(&mv, "period"),
        strings(&mv, "org_unit"),
        strings(&mv, "category"),
        floats(&mv, "value"),
    );
    let mut out = Vec::new();
    for ((id, title), unit) in ids.iter().zip(&titles).zip(&units) {
        let rows: Vec<usize> =
            (0..mid.len()).filter(|&i| &mid[i] == id && period[i] == "2022-01" && org[i] == "ALL").collect();
        let value = match rows.iter().find(|&&i| cat[i].is_empty()) {
            Some(&i) => val[i].unwrap(),
            None => rows.iter().map(|&i| val[i].unwrap()).sum(),
        };
        let shown = if unit == "rate" {
            format!("{:.1}%", value * 100.0)
        } else {
            let s = (value.round() as i64).to_string();
            let mut grouped = String::new();
            for (i, ch) in s.chars().enumerate() {
                if i > 0 && (s.len() - i).is_multiple_of(3) {
                    grouped.push(',');
                }
                grouped.push(ch);
            }
            grouped
        };
        out.push((title.clone(), shown));
    }
    assert_eq!(out.len(), 25);
    out
}

fn unescape(html: &str) -> String {
    html.replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_summary_parses_back_with_every_measure_its_value_and_its_inline_sparklines() {
    let c = Council::new(&repo().join("sql"));
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let path = std::fs::read_dir(c.path().join("var/outbox")).unwrap().next().unwrap().unwrap().path();
    let raw = std::fs::read(&path).unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(msg.subject(), Some("Children's services scrutiny: January 2022"));

    // multipart/related [ multipart/alternative [ text/plain, text/html ], image/png ... ]
    let root = &msg.parts[0];
    let ct = |p: &mail_parser::MessagePart| {
        let c = p.content_type().unwrap();
        format!("{}/{}", c.ctype(), c.subtype().unwrap_or(""))
    };
    assert_eq!(ct(root), "multipart/related");
    let PartType::Multipart(children) = &root.body else { panic!("related has parts") };
    let alternative = &msg.parts[children[0] as usize];
    assert_eq!(ct(alternative), "multipart/alternative");
    let PartType::Multipart(alts) = &alternative.body else { panic!("alternative has parts") };
    let kinds: Vec<String> = alts.iter().map(|&i| ct(&msg.parts[i as usize])).collect();
    assert_eq!(kinds, ["text/plain", "text/html"]);
    let plain = msg.body_text(0).unwrap().to_string();
    let html = msg.body_html(0).unwrap().to_string();
    let images: BTreeSet<String> = children[1..]
        .iter()
        .map(|&i| &msg.parts[i as usize])
        .inspect(|p| assert_eq!(ct(p), "image/png"))
        .inspect(|p| assert!(p.contents().starts_with(b"\x89PNG"), "a PNG"))
        .map(|p| p.content_id().expect("an inline image has a Content-ID").to_string())
        .collect();
    assert!(images.len() >= 20, "a sparkline per measure with a history: {}", images.len());

    // Every image the HTML refers to is present, every image present is referred to, and
    // every image has alt text.
    let referenced: BTreeSet<String> =
        html.split("src=\"cid:").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect();
    assert_eq!(referenced, images);
    for img in html.split("<img").skip(1) {
        let tag = &img[..img.find('>').unwrap()];
        let alt = tag.split("alt=\"").nth(1).map(|s| &s[..s.find('"').unwrap()]).unwrap_or("");
        assert!(alt.len() > 20, "alt text describes the chart: {tag}");
    }

    let html = unescape(&html);
    for (title, value) in headlines(&c.current()) {
        assert!(plain.contains(&format!("- {title}: {value} (")), "text: {title} {value}\n{plain}");
        assert!(html.contains(&title), "html: {title}");
        assert!(html.contains(&format!(">{value}</span>")), "html: {title} {value}");
    }
    // SPC icons in words (spc.md): a variation for every charted measure, an assurance for one
    // with a target (assessment timeliness), where the bare on/off-target marker used to be.
    assert!(html.contains("Variation: ") && plain.contains("no significant change"), "{plain}");
    assert!(html.contains("meet the target") && plain.contains("meet the target"), "{plain}");
    assert!(plain.contains("Data quality") && html.contains("Data quality"));
    assert!(plain.contains("reading ") && plain.contains(" rows"), "the run's facts");
}

/// Values shown in the report's figure cells: headline values and breakdown tables.
fn report_figures(html: &str) -> Vec<String> {
    let mut out: Vec<String> = html
        .split("data-measure=\"")
        .skip(1)
        .map(|s| {
            let s = &s[s.find('>').unwrap() + 1..];
            s[..s.find('<').unwrap()].to_string()
        })
        .collect();
    out.extend(html.split("<td class=\"n\">").skip(1).map(|s| s[..s.find('<').unwrap()].to_string()));
    out
}

#[test]
fn small_numbers_are_shown_as_c_in_the_email_and_the_report() {
    let c = Council::new(&repo().join("sql"));
    c.edit_config("notify:\n", "report:\n  suppress_small_numbers: true\nnotify:\n");
    assert!(c.run("2022-01").status.success());
    let report = std::fs::read_to_string(c.current().join("report.html")).unwrap();
    let figures = report_figures(&report);
    assert!(figures.len() > 60, "{figures:?}");
    let small = |f: &String| f.parse::<i64>().is_ok_and(|n| (1..=5).contains(&n));
    assert!(!figures.iter().any(small), "a count from 1 to 5 in the report: {figures:?}");
    assert!(figures.iter().any(|f| f == "c"), "the small accommodation counts are suppressed");
    assert!(report.contains("are shown as c"));

    let body = c.summary_email();
    assert!(body.contains("are shown as c"), "{body}");
    let lines: Vec<&str> = body.lines().filter(|l| l.starts_with("      ")).collect();
    assert!(lines.iter().any(|l| l.ends_with(": c")), "{lines:?}");
    assert!(
        !lines
            .iter()
            .any(|l| l.rsplit(": ").next().is_some_and(|v| v.parse::<i64>().is_ok_and(|n| (1..=5).contains(&n))))
    );

    // Off by default: the same council's internal report shows the counts.
    let c = Council::new(&repo().join("sql"));
    assert!(c.run("2022-01").status.success());
    let report = std::fs::read_to_string(c.current().join("report.html")).unwrap();
    assert!(!report_figures(&report).iter().any(|f| f == "c"));
}

#[test]
fn the_report_is_published_with_the_mart_and_a_failed_run_keeps_the_old_one() {
    let c = Council::new(&repo().join("sql"));
    std::fs::create_dir_all(c.path().join("commentary")).unwrap();
    std::fs::write(
        c.path().join("commentary/2022-01.yaml"),
        "telling_us:\n  Assessments: Timeliness <improved> & held.\n",
    )
    .unwrap();
    c.edit_config("notify:\n", "report:\n  commentary_dir: ./commentary\n  power_bi_url: https://app.powerbi.com/groups/council/reports/scrutiny\nnotify:\n");
    assert!(c.run("2022-01").status.success());
    let path = c.current().join("report.html");
    let report = std::fs::read_to_string(&path).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    // Self-contained: nothing fetched from anywhere.
    for fetch in ["src=\"http", "href=\"http://", "<link", "<script", "@import", "url("] {
        assert!(!report.contains(fetch), "{fetch}");
    }
    assert!(report.contains("@page { size: A4"));
    assert_eq!(report.matches("<svg").count(), report.matches("<figure class=\"trend\"").count());
    assert!(report.matches("<svg").count() >= 20, "an 18-month chart per measure with a history");
    assert!(report.contains("<caption>By locality</caption>") && report.contains("<caption>By service</caption>"));
    assert!(report.contains("<caption>By type of accommodation</caption>"));
    assert!(report.contains("a) With parents or relatives"));
    assert!(report.contains("Timeliness &lt;improved&gt; &amp; held."), "commentary is escaped");
    let html = unescape(&report);
    assert!(html.contains("href=\"https://app.powerbi.com/groups/council/reports/scrutiny\""));
    for (title, value) in headlines(&c.current()) {
        assert!(html.contains(&format!("\">{title}</h3>")), "{title}");
        assert!(html.contains(&format!("\">{value}</p>")), "{title}: {value}");
    }

    // A run that fails leaves the published report as it was.
    let before = std::fs::read(c.current().join("report.html")).unwrap();
    std::fs::remove_file(c.path().join("ssd/ssd_person.csv")).unwrap();
    assert_eq!(c.run("2022-01").status.code(), Some(65));
    assert_eq!(std::fs::read(c.current().join("report.html")).unwrap(), before);
}

/// Debian's `chromium`, which `.ci/run` installs.
fn chromium() -> PathBuf {
    let candidates = [
        std::env::var("SCRUTINY_CHROMIUM").unwrap_or_default(),
        "chromium".into(),
        "chromium-browser".into(),
        "google-chrome".into(),
    ];
    for c in candidates.iter().filter(|c| !c.is_empty()) {
        if Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()) {
            return PathBuf::from(c);
        }
    }
    panic!("no Chromium: `apt-get install chromium poppler-utils` (.ci/run does), or set SCRUTINY_CHROMIUM");
}

fn headless(profile: &Path, args: &[&str], page: &Path) -> Output {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn poppler(tool: &str, pdf: &Path) -> String {
    let out = Command::new(tool)
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian's poppler-utils, which .ci/run installs): {e}"));
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn the_report_renders_in_chromium_prints_to_a4_and_a_screenshot_is_kept_for_review() {
    let c = Council::new(&repo().join("sql"));
    std::fs::create_dir_all(c.path().join("commentary")).unwrap();
    std::fs::copy(repo().join("config/commentary/2022-01.yaml"), c.path().join("commentary/2022-01.yaml")).unwrap();
    c.edit_config("notify:\n", "report:\n  commentary_dir: ./commentary\nnotify:\n");
    assert!(c.run("2022-01").status.success());
    let page = c.current().join("report.html").canonicalize().unwrap();
    let profile = c.path().join("chromium-profile");

    // Printed to PDF, as a councillor prints it: A4 pages with every measure, figure and
    // commentary heading in the text Chromium laid out.
    let pdf = c.path().join("report.pdf");
    headless(&profile, &["--no-pdf-header-footer", &format!("--print-to-pdf={}", pdf.display())], &page);
    let info = Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo (poppler-utils)");
    let info = String::from_utf8_lossy(&info.stdout).to_string();
    assert!(info.contains("(A4)"), "{info}");
    let pages: usize = info.lines().find(|l| l.starts_with("Pages:")).unwrap()[6..].trim().parse().unwrap();
    assert!((4..=14).contains(&pages), "{pages} pages");
    let printed = poppler("pdftotext", &pdf);
    let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let printed_words = words(&printed);
    for (title, value) in headlines(&c.current()) {
        assert!(printed_words.contains(&words(&title)), "printed: {title}");
        assert!(printed_words.contains(&value), "printed: {title} {value}");
    }
    assert!(printed_words.contains("What is the data telling us?"));
    assert!(printed_words.contains("What questions is the data raising for us?"));
    assert!(printed_words.contains("By locality"));

    // A screenshot, kept for review, that shows a drawn page: the masthead's blue at the top
    // and charts' lines below it.
    let review = Path::new(env!("CARGO_TARGET_TMPDIR")).join("review");
    std::fs::create_dir_all(&review).unwrap();
    let shot = review.join("report-2022-01.png");
    let _ = std::fs::remove_file(&shot);
    headless(&profile, &["--window-size=1000,5000", &format!("--screenshot={}", shot.display())], &page);
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.width, frame.height), (1000, 5000));
    let channels = frame.line_size / frame.width as usize;
    let px = |x: usize, y: usize| {
        let i = y * frame.line_size + x * channels;
        (buf[i], buf[i + 1], buf[i + 2])
    };
    assert_eq!(px(500, 20), (29, 79, 145), "the masthead");
    let blue_below = (200..5000)
        .step_by(2)
        .flat_map(|y| (0..1000).step_by(2).map(move |x| (x, y)))
        .filter(|&(x, y)| px(x, y) == (29, 79, 145))
        .count();
    assert!(blue_below > 2000, "chart lines and headings drawn: {blue_below} px");
    eprintln!("report screenshot: {}", shot.display());
}

#[test]
fn no_person_level_data_reaches_the_email_or_the_report_of_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    for link in ["sql", "config"] {
        std::os::unix::fs::symlink(repo().join(link), dir.path().join(link)).unwrap();
    }
    let out = scrutiny(&["demo"], dir.path());
    assert!(out.status.success(), "{}", text(&out));
    let demo = dir.path().join("var/demo");

    // Every id and date of birth in the source.
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    for e in std::fs::read_dir(demo.join("ssd")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "csv") || path.file_name().unwrap() == "team_org_units.csv" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let personal: Vec<usize> =
            (0..header.len()).filter(|&i| header[i].ends_with("_id") || header[i].ends_with("dob")).collect();
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            for &i in &personal {
                let v = cells.get(i).copied().unwrap_or("").trim();
                if v.len() >= 4 {
                    secrets.insert(v.to_string());
                    if let Ok(d) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
                        secrets.insert(d.format("%d/%m/%Y").to_string());
                    }
                }
            }
        }
    }
    assert!(secrets.len() > 1000, "{}", secrets.len());
    assert!(secrets.iter().any(|s| s.starts_with('P')), "person ids are among them");

    let eml = std::fs::read_dir(demo.join("outbox")).unwrap().next().unwrap().unwrap().path();
    let raw = std::fs::read(&eml).unwrap();
    let msg = MessageParser::default().parse(&raw).unwrap();
    let email = format!("{}\n{}", msg.body_text(0).unwrap(), msg.body_html(0).unwrap());
    let report = std::fs::read_to_string(demo.join("mart/current/report.html")).unwrap();
    for (name, doc) in [("email", &email), ("report", &report)] {
        let tokens: BTreeSet<&str> =
            doc.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '/')).collect();
        let leaked: Vec<&String> = secrets.iter().filter(|s| tokens.contains(s.as_str())).collect();
        assert!(leaked.is_empty(), "{name} shows person-level data: {:?}", &leaked[..leaked.len().min(5)]);
    }
    // And the demo's report has the seed's commentary.
    assert!(report.contains("What is the data telling us?"));
}
