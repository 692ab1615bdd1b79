//! Telling the operator's tools: Prometheus metrics the batch-job way (node-exporter textfile
//! and/or a Pushgateway) and OpenLineage run events (a file of JSON lines and/or an HTTP
//! endpoint). Counts only: nothing person-level.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::path::Path;

/// What a run did, for the metrics and the lineage events.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub run_id: String,
    /// The pipeline's id: a label on every metric, the lineage job's name.
    pub pipeline: String,
    pub period: String,
    /// The period's first day, the lineage run's nominal start.
    pub period_start: Option<chrono::NaiveDate>,
    pub succeeded: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Stage -> seconds.
    pub stage_seconds: Vec<(String, f64)>,
    /// Source table -> rows extracted.
    pub rows_extracted: Vec<(String, u64)>,
    pub measures_computed: usize,
    /// (table, rule, rows affected).
    pub data_quality: Vec<(String, String, i64)>,
    /// Mart tables written, with their rows.
    pub mart_tables: Vec<(String, u64)>,
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The metrics in the Prometheus text format, each labelled with the pipeline (two pipelines'
/// textfiles in one node-exporter directory, or groups in one Pushgateway, never hold the same
/// series). `previous_success` keeps the last success time of an earlier run when this one
/// failed.
pub fn prometheus_text(r: &RunReport, previous_success: Option<f64>) -> String {
    let mut out = String::new();
    let pipeline = format!("pipeline=\"{}\"", esc(&r.pipeline));
    let mut metric = |name: &str, help: &str, kind: &str, rows: Vec<(String, f64)>| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, v) in rows {
            let labels = match labels.strip_prefix('{') {
                Some(rest) => format!("{{{pipeline},{rest}"),
                None => format!("{{{pipeline}}}"),
            };
            out.push_str(&format!("{name}{labels} {v}\n"));
        }
    };
    let finished = r.finished_at.timestamp() as f64;
    let last_success = if r.succeeded { Some(finished) } else { previous_success };
    if let Some(t) = last_success {
        metric(
            "scrutiny_last_success_timestamp_seconds",
            "When a run last published the mart.",
            "gauge",
            vec![(String::new(), t)],
        );
    }
    metric(
        "scrutiny_last_completion_timestamp_seconds",
        "When a run last ended, successfully or not.",
        "gauge",
        vec![(String::new(), finished)],
    );
    metric(
        "scrutiny_last_run_success",
        "1 if the last run published the mart, else 0.",
        "gauge",
        vec![(String::new(), f64::from(u8::from(r.succeeded)))],
    );
    metric(
        "scrutiny_stage_duration_seconds",
        "Wall time of each stage of the last run.",
        "gauge",
        r.stage_seconds.iter().map(|(s, v)| (format!("{{stage=\"{}\"}}", esc(s)), *v)).collect(),
    );
    metric(
        "scrutiny_rows_extracted",
        "Rows extracted per source table by the last run.",
        "gauge",
        r.rows_extracted.iter().map(|(t, v)| (format!("{{table=\"{}\"}}", esc(t)), *v as f64)).collect(),
    );
    metric(
        "scrutiny_measures_computed",
        "Measures computed by the last run.",
        "gauge",
        vec![(String::new(), r.measures_computed as f64)],
    );
    metric(
        "scrutiny_data_quality_rows",
        "Rows dropped or repaired per table and data-quality rule in the last run.",
        "gauge",
        r.data_quality
            .iter()
            .map(|(t, rule, v)| (format!("{{table=\"{}\",rule=\"{}\"}}", esc(t), esc(rule)), *v as f64))
            .collect(),
    );
    out
}

/// The last success time recorded in an existing textfile.
pub fn previous_success(textfile: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(textfile).ok()?;
    text.lines()
        .find(|l| {
            l.starts_with("scrutiny_last_success_timestamp_seconds{")
                || l.starts_with("scrutiny_last_success_timestamp_seconds ")
        })?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Writes the textfile atomically, as node-exporter's textfile collector expects.
pub fn write_textfile(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("prom.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

/// Sends `body` to an http:// or https:// endpoint and returns the HTTP status. https is
/// verified against Mozilla's roots, or against the council's own CA (`ca_file`, PEM) alone.
/// Bounded: 10 s for the whole exchange.
pub async fn http(
    method: &'static str,
    url: &str,
    content_type: &'static str,
    body: String,
    ca_file: Option<&Path>,
) -> Result<u16, String> {
    let url = url.to_string();
    let roots = match ca_file {
        None => ureq::tls::RootCerts::WebPki,
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let certs = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
                    Ok(_) => None,
                    Err(e) => Some(Err(format!("{}: {e}", path.display()))),
                })
                .collect::<Result<Vec<_>, String>>()?;
            if certs.is_empty() {
                return Err(format!("{}: no certificate in the file", path.display()));
            }
            ureq::tls::RootCerts::new_with_certs(&certs)
        }
    };
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .http_status_as_error(false)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .build()
            .into();
        let sent = match method {
            "PUT" => agent.put(&url).header("Content-Type", content_type).send(body.as_bytes()),
            "POST" => agent.post(&url).header("Content-Type", content_type).send(body.as_bytes()),
            other => return Err(format!("{other}: not a method scrutiny sends")),
        };
        // The error names the host, never a credential (none is sent).
        sent.map(|r| r.status().as_u16()).map_err(|e| format!("{url}: {e}"))
    })
    .await
    .map_err(|e| format!("{e}"))?
}

/// Pushes the metrics to a Pushgateway as job `scrutiny`, in the group of the pipeline. A
/// successful run replaces its group (PUT); a failed one adds to it (POST, push-add), so the
/// last success time pushed by an earlier run survives a failure.
pub async fn push(
    gateway: &str,
    pipeline: &str,
    text: &str,
    replace: bool,
    ca_file: Option<&Path>,
) -> Result<(), String> {
    let url = format!("{}/metrics/job/scrutiny/pipeline/{pipeline}", gateway.trim_end_matches('/'));
    let method = if replace { "PUT" } else { "POST" };
    match http(method, &url, "text/plain; version=0.0.4", text.to_string(), ca_file).await? {
        200..=299 => Ok(()),
        code => Err(format!("{url}: HTTP {code}")),
    }
}

/// An OpenLineage run event: START, COMPLETE or FAIL.
pub fn lineage_event(
    event_type: &str,
    namespace: &str,
    r: &RunReport,
    source: &str,
    mart: &str,
    error: Option<&str>,
) -> serde_json::Value {
    let dataset = |ns: &str, name: &str, rows: Option<u64>| {
        let mut d = json!({ "namespace": ns, "name": name });
        if let Some(rows) = rows {
            d["outputFacets"] = json!({ "outputStatistics": { "_producer": "https://github.com/scrutiny", "_schemaURL": "https://openlineage.io/spec/facets/1-0-2/OutputStatisticsOutputDatasetFacet.json", "rowCount": rows } });
        }
        d
    };
    let inputs: Vec<_> = r
        .rows_extracted
        .iter()
        .map(|(t, n)| {
            let mut d = dataset(source, t, None);
            d["inputFacets"] = json!({ "inputStatistics": { "_producer": "https://github.com/scrutiny", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/InputStatisticsInputDatasetFacet.json", "rowCount": n } });
            d
        })
        .collect();
    let outputs: Vec<_> = r.mart_tables.iter().map(|(t, n)| dataset(mart, t, Some(*n))).collect();
    let mut run_facets = json!({ "nominalTime": { "_producer": "https://github.com/scrutiny", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/NominalTimeRunFacet.json", "nominalStartTime": r.period_start.map(|d| format!("{d}T00:00:00Z")) } });
    if let Some(e) = error {
        run_facets["errorMessage"] = json!({ "_producer": "https://github.com/scrutiny", "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/ErrorMessageRunFacet.json", "message": e, "programmingLanguage": "Rust" });
    }
    json!({
        "eventType": event_type,
        "eventTime": (if event_type == "START" { r.started_at } else { r.finished_at }).to_rfc3339(),
        "producer": format!("https://github.com/scrutiny/{}", env!("CARGO_PKG_VERSION")),
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": { "runId": run_uuid(&r.run_id), "facets": run_facets },
        "job": { "namespace": namespace, "name": format!("scrutiny.{}", r.pipeline) },
        "inputs": if event_type == "START" { json!([]) } else { json!(inputs) },
        "outputs": if event_type == "START" { json!([]) } else { json!(outputs) },
    })
}

/// OpenLineage wants a UUID per run: a name-based (v5) UUID of the run id, so START and
/// COMPLETE agree and a resumed run keeps its identity.
fn run_uuid(run_id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("urn:scrutiny:run:{run_id}").as_bytes()).to_string()
}

/// Appends an event to a JSON-lines file.
pub fn append_event(path: &Path, event: &serde_json::Value) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{event}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(ok: bool) -> RunReport {
        RunReport {
            run_id: "r1".into(),
            pipeline: "monthly_scrutiny".into(),
            period: "2022-01".into(),
            period_start: "2022-01-01".parse().ok(),
            succeeded: ok,
            started_at: "2022-02-05T06:00:00Z".parse().unwrap(),
            finished_at: "2022-02-05T06:01:00Z".parse().unwrap(),
            stage_seconds: vec![("extract".into(), 1.5)],
            rows_extracted: vec![("ssd_person".into(), 10)],
            measures_computed: 25,
            data_quality: vec![("ssd_person".into(), "exact_duplicate_dropped".into(), 2)],
            mart_tables: vec![("metric_values".into(), 100)],
        }
    }

    #[test]
    fn metrics_in_the_textfile_format() {
        let t = prometheus_text(&report(true), None);
        assert!(
            t.contains("scrutiny_last_success_timestamp_seconds{pipeline=\"monthly_scrutiny\"} 1644040860\n"),
            "{t}"
        );
        assert!(t.contains("scrutiny_stage_duration_seconds{pipeline=\"monthly_scrutiny\",stage=\"extract\"} 1.5\n"));
        assert!(t.contains("scrutiny_rows_extracted{pipeline=\"monthly_scrutiny\",table=\"ssd_person\"} 10\n"));
        assert!(t.contains(
            "scrutiny_data_quality_rows{pipeline=\"monthly_scrutiny\",table=\"ssd_person\",rule=\"exact_duplicate_dropped\"} 2\n"
        ));
        let failed = prometheus_text(&report(false), Some(1.0e9));
        assert!(
            failed.contains("scrutiny_last_success_timestamp_seconds{pipeline=\"monthly_scrutiny\"} 1000000000\n")
                && failed.contains("scrutiny_last_run_success{pipeline=\"monthly_scrutiny\"} 0\n")
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("scrutiny.prom");
        write_textfile(&f, &t).unwrap();
        assert_eq!(previous_success(&f), Some(1644040860.0));
    }

    #[test]
    fn lineage_events_name_inputs_and_outputs() {
        let e = lineage_event("COMPLETE", "scrutiny", &report(true), "sqlserver://db:1433/ssd", "file:///mart", None);
        assert_eq!(e["eventType"], "COMPLETE");
        assert_eq!(e["job"]["name"], "scrutiny.monthly_scrutiny");
        assert_eq!(e["run"]["facets"]["nominalTime"]["nominalStartTime"], "2022-01-01T00:00:00Z");
        assert_eq!(e["inputs"][0]["name"], "ssd_person");
        assert_eq!(e["inputs"][0]["inputFacets"]["inputStatistics"]["rowCount"], 10);
        assert_eq!(e["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"], 100);
        let s = lineage_event("START", "scrutiny", &report(true), "x", "y", None);
        assert_eq!(s["run"]["runId"], e["run"]["runId"]);
        let id = uuid::Uuid::parse_str(e["run"]["runId"].as_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 5);
    }
}
