//! Typed settings, read from YAML. Unknown keys are refused, `${VAR}` expands from the
//! environment, relative paths are relative to the settings file, and every problem is
//! reported at once with the file, line and key.

use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One thing wrong with the settings, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": `{}`: {}", self.key, self.message)
        }
    }
}

/// Every problem found in a settings file.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl ConfigError {
    /// One problem with a whole file (or directory): it cannot be read, or holds nothing usable.
    pub fn in_file(file: &Path, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { problems: vec![Problem { file: file.to_path_buf(), line, key: String::new(), message: message.into() }] }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(f, "{n} problem{} in the settings:", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

/// A credential: never printed, never logged.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

// ---- the file as written -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    files: Option<FilesSourceFile>,
    sqlserver: Option<SqlServerFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlServerFile {
    host: String,
    #[serde(default = "default_sql_port")]
    port: u16,
    database: String,
    #[serde(default = "default_schema")]
    schema: String,
    user: String,
    password: Option<Secret>,
    password_file: Option<PathBuf>,
    #[serde(default)]
    encrypt: Encrypt,
    #[serde(default)]
    trust_server_certificate: bool,
    ca_file: Option<PathBuf>,
    #[serde(default = "yes")]
    read_only_intent: bool,
    #[serde(default = "default_connect_timeout")]
    connect_timeout_secs: u64,
    #[serde(default = "default_command_timeout")]
    command_timeout_secs: u64,
    #[serde(default = "default_parallel")]
    parallel_connections: usize,
    #[serde(default = "default_retries")]
    retries: u32,
    #[serde(default = "default_backoff")]
    retry_backoff_ms: u64,
    #[serde(default)]
    column_renames: BTreeMap<String, BTreeMap<String, String>>,
}

fn default_sql_port() -> u16 {
    1433
}
fn default_schema() -> String {
    "ssd_development".into()
}
fn yes() -> bool {
    true
}
fn default_connect_timeout() -> u64 {
    30
}
fn default_command_timeout() -> u64 {
    3600
}
fn default_parallel() -> usize {
    4
}
fn default_retries() -> u32 {
    5
}
fn default_backoff() -> u64 {
    1000
}

/// How the connection to SQL Server is encrypted.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Encrypt {
    /// TLS negotiated in PRELOGIN, required for the whole session.
    #[default]
    Required,
    /// TDS 8.0: TLS from the first byte.
    Strict,
    /// Plaintext. Tests only: personal data must never cross a network unencrypted.
    Off,
}

/// Connection and extraction settings for a council's SQL Server.
#[derive(Debug, Clone)]
pub struct SqlServerSettings {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub schema: String,
    pub user: String,
    pub password: Secret,
    pub encrypt: Encrypt,
    pub trust_server_certificate: bool,
    pub ca_file: Option<PathBuf>,
    pub read_only_intent: bool,
    pub connect_timeout_secs: u64,
    pub command_timeout_secs: u64,
    pub parallel_connections: usize,
    pub retries: u32,
    pub retry_backoff_ms: u64,
    /// table -> contract column -> source column.
    pub column_renames: BTreeMap<String, BTreeMap<String, String>>,
    /// Where the extract queries live: `<sql_dir>/extract/ssd/<table>.sql`.
    pub queries_dir: PathBuf,
}

impl SqlServerSettings {
    /// `host:port/database`, for messages (never the credentials).
    pub fn describe(&self) -> String {
        format!("{}:{}/{}", self.host, self.port, self.database)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilesSourceFile {
    path: PathBuf,
    #[serde(default)]
    on_bad_row: OnBadRow,
    #[serde(default = "default_max_rejects")]
    max_rejects: u64,
}

fn default_max_rejects() -> u64 {
    100
}

/// What a row of the file source that cannot be read does to the run.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnBadRow {
    /// The run fails (exit 65), naming the file, line and column.
    #[default]
    Fail,
    /// The row is left out and listed in the landing's `rejects.csv` (where and why, never its
    /// values); the run fails only past `max_rejects`.
    Quarantine,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StorageFile {
    landing: PathBuf,
    mart: String,
    mart_format: Option<MartFormat>,
    /// Object store settings that are not secrets (`use_emulator`, `region`, `endpoint`, ...).
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default = "default_keep_versions")]
    keep_versions: usize,
    #[serde(default = "default_retention_days")]
    retention_days: u32,
    lock_ttl_secs: Option<u64>,
}

/// Where the pipeline files are, and what a deployment changes in one of them.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PipelinesFile {
    dir: Option<PathBuf>,
    #[serde(default)]
    overrides: BTreeMap<String, PipelineOverrideFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineOverrideFile {
    mart: Option<String>,
    #[serde(default)]
    email_to: Vec<String>,
    #[serde(default)]
    failure_to: Vec<String>,
}

/// How the compute stage uses memory.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ComputeFile {
    memory_limit: Option<String>,
    spill_dir: Option<PathBuf>,
}

/// A name SQL Server accepts as an identifier: 1 to 128 characters, none of them a control
/// character. Anything else it may hold (`]`, `;`, `--`) is made harmless by bracket quoting.
pub fn check_identifier(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > 128 {
        return Err(format!("an identifier has 1 to 128 characters, not {n}"));
    }
    if name.chars().any(char::is_control) {
        return Err("an identifier cannot hold control characters".into());
    }
    Ok(())
}

/// Reads a size such as `1.5GiB`, `512MiB`, `2G` or `1073741824` (bytes).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number.parse().map_err(|_| format!("`{text}` is not a size (say `1.5GiB` or `512MiB`)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        u => return Err(format!("`{text}`: unknown unit `{u}` (use KiB, MiB, GiB)")),
    };
    let bytes = n * scale;
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("`{text}` is not a size (say `1.5GiB` or `512MiB`)"));
    }
    Ok(bytes as u64)
}

fn default_retention_days() -> u32 {
    400
}

fn default_keep_versions() -> usize {
    24
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceFile {
    team_org_units: PathBuf,
    bank_holidays: Option<PathBuf>,
    code_map: Option<PathBuf>,
    #[serde(default)]
    closure_days: Vec<NaiveDate>,
    benchmarks: Option<PathBuf>,
}

/// `council`: who the report is for, as the DfE numbers councils (for the published benchmarks).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CouncilSettings {
    /// The council's name as the report and the `benchmarks` table write it.
    pub name: String,
    /// The DfE's old 3-digit council number (Devon is 878).
    pub la_number: u32,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MeasuresFile {
    sql_dir: Option<PathBuf>,
    #[serde(default)]
    targets: BTreeMap<String, f64>,
    #[serde(default)]
    vars: BTreeMap<String, Value>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SinksFile {
    sqlserver: Option<SqlServerSinkFile>,
}

/// `sinks.sqlserver`: the connection keys of `source.sqlserver` that make sense for writing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlServerSinkFile {
    host: String,
    #[serde(default = "default_sql_port")]
    port: u16,
    database: String,
    #[serde(default = "default_sink_schema")]
    schema: String,
    user: String,
    password: Option<Secret>,
    password_file: Option<PathBuf>,
    #[serde(default)]
    encrypt: Encrypt,
    #[serde(default)]
    trust_server_certificate: bool,
    ca_file: Option<PathBuf>,
    #[serde(default = "default_connect_timeout")]
    connect_timeout_secs: u64,
    #[serde(default = "default_command_timeout")]
    command_timeout_secs: u64,
    #[serde(default = "yes")]
    create_tables: bool,
}

fn default_sink_schema() -> String {
    "scrutiny".into()
}

/// Where the published mart is also loaded.
#[derive(Debug, Clone, Default)]
pub struct SinkSettings {
    pub sqlserver: Option<SqlServerSink>,
}

/// The mart's tables loaded into a SQL Server schema after each publish.
#[derive(Debug, Clone)]
pub struct SqlServerSink {
    /// The connection; `schema` is the schema the tables are loaded into.
    pub connection: SqlServerSettings,
    /// `true`: the sink creates its tables, loading beside them and swapping them in by rename.
    /// `false`: the tables exist (created by the DBA) and their rows are replaced.
    pub create_tables: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    email: Option<EmailFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmailFile {
    from: String,
    to: Vec<String>,
    #[serde(default)]
    failure_to: Vec<String>,
    outbox: Option<PathBuf>,
    smtp: Option<SmtpSettings>,
}

/// What the report and the summary email show, whoever reads them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// A link to the council's Power BI report.
    pub power_bi_url: Option<String>,
    /// Counts of 1 to 5, and rates built on them, shown as `c` (for copies sent outside the team).
    #[serde(default)]
    pub suppress_small_numbers: bool,
    /// Officers' commentary: `<dir>/<period>.yaml` (`2022-01.yaml`, `2021-Q4.yaml`), included
    /// when present.
    pub commentary_dir: Option<PathBuf>,
}

// ---- the settings as used ------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Settings {
    /// The settings file, for messages.
    pub file: PathBuf,
    pub source: SourceSettings,
    pub storage: StorageSettings,
    pub reference: ReferenceSettings,
    /// `None`: no published benchmarks.
    pub council: Option<CouncilSettings>,
    pub measures: MeasureSettings,
    pub email: Option<EmailSettings>,
    pub report: ReportSettings,
    pub monitoring: MonitoringSettings,
    pub compute: ComputeSettings,
    pub pipelines: PipelineSettings,
    pub sinks: SinkSettings,
}

/// The pipeline files and the deployment's changes to them.
#[derive(Debug, Clone, Default)]
pub struct PipelineSettings {
    /// Where `<id>.yaml` files are (default: `pipelines/` beside the SQL directory when there is
    /// one); `None`: the pipelines built into the binary.
    pub dir: Option<PathBuf>,
    pub overrides: BTreeMap<String, PipelineOverride>,
}

impl PipelineSettings {
    /// Where pipeline files are when the settings do not say: `pipelines/` beside the SQL
    /// directory, if there is one (else the built-in pipelines serve).
    pub fn default_dir(sql_dir: &Path) -> Option<PathBuf> {
        Some(normalise(&sql_dir.parent().unwrap_or(Path::new(".")).join("pipelines"))).filter(|d| d.is_dir())
    }
}

/// What a deployment sets for one pipeline: where its mart is, and who reads its email.
#[derive(Debug, Clone, Default)]
pub struct PipelineOverride {
    pub mart: Option<MartLocation>,
    /// Replaces `notify.email.to` for this pipeline's summary.
    pub email_to: Vec<String>,
    /// Replaces `notify.email.failure_to` for this pipeline's alerts.
    pub failure_to: Vec<String>,
    /// Where the override is in the settings file, for messages.
    pub line: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum SourceSettings {
    /// A directory of `<table>.csv` / `<table>.parquet` files.
    Files { path: PathBuf, on_bad_row: OnBadRow, max_rejects: u64 },
    /// The council's SQL Server.
    SqlServer(Box<SqlServerSettings>),
}

/// Where the mart is published: a local directory, or an object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MartLocation {
    Local(PathBuf),
    Store(crate::storage::StoreUrl),
}

impl MartLocation {
    /// The directory, for a local mart.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Self::Local(p) => Some(p),
            Self::Store(_) => None,
        }
    }

    /// A mart called `name` beside this one (a pipeline's named mart).
    pub fn sibling(&self, name: &str) -> MartLocation {
        match self {
            Self::Local(p) => Self::Local(p.parent().unwrap_or(Path::new(".")).join(name)),
            Self::Store(u) => Self::Store(u.sibling(name)),
        }
    }

    /// As a URL, for lineage events: `file:///srv/mart`, `az://mart/scrutiny`.
    pub fn uri(&self) -> String {
        match self {
            Self::Local(p) => format!("file://{}", p.display()),
            Self::Store(u) => u.to_string(),
        }
    }
}

impl std::fmt::Display for MartLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(p) => write!(f, "{}", p.display()),
            Self::Store(u) => write!(f, "{u}"),
        }
    }
}

/// How the mart's tables are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MartFormat {
    /// Plain Parquet in `versions/<run>/`, `current` switched by a symlink (local only).
    Parquet,
    /// One Delta Lake table per mart table, `_current.json` naming the versions of one run.
    Delta,
}

#[derive(Debug, Clone)]
pub struct StorageSettings {
    /// Where landings are written: the landing root, or (with `landing_store`) a local staging
    /// directory from which each landing is uploaded, then removed.
    pub landing: PathBuf,
    /// The landing root on object storage, when `storage.landing` is a URL.
    pub landing_store: Option<crate::storage::StoreUrl>,
    pub mart: MartLocation,
    pub mart_format: MartFormat,
    /// Object store settings that are not secrets, for `object_store`.
    pub options: BTreeMap<String, String>,
    /// Published mart versions kept besides `current`.
    pub keep_versions: usize,
    /// Landings older than this are removed after a successful publish.
    pub retention_days: u32,
    /// A lease on the run lock, for filesystems whose locks do not reach other hosts.
    pub lock_ttl: Option<std::time::Duration>,
}

/// Memory for the compute stage.
#[derive(Debug, Clone, Default)]
pub struct ComputeSettings {
    /// Bytes DataFusion may hold before it spills to disk; `None`: no limit.
    pub memory_limit: Option<u64>,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
}

/// Where the operator's tools hear about runs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitoringSettings {
    /// A node-exporter textfile (`.prom`) written after every run.
    pub prometheus_textfile: Option<PathBuf>,
    /// A Pushgateway base URL (`http://pushgateway:9091`).
    pub pushgateway_url: Option<String>,
    /// OpenLineage events appended as JSON lines to this file.
    pub openlineage_file: Option<PathBuf>,
    /// OpenLineage events posted to this endpoint (`http://marquez:5000/api/v1/lineage`).
    pub openlineage_url: Option<String>,
    #[serde(default = "default_namespace")]
    pub openlineage_namespace: String,
    /// A PEM CA that https endpoints are verified against instead of the public roots.
    pub ca_file: Option<PathBuf>,
}

fn default_namespace() -> String {
    "scrutiny".into()
}

#[derive(Debug, Clone)]
pub struct ReferenceSettings {
    pub team_org_units: PathBuf,
    /// `None`: the England and Wales calendar built into the binary.
    pub bank_holidays: Option<PathBuf>,
    /// `None`: the code map built into the binary (`Suitable`/`Unsuitable`).
    pub code_map: Option<PathBuf>,
    pub closure_days: Vec<NaiveDate>,
    /// A directory with `benchmarks_lait.csv` and `benchmarks_areas.csv` (from `scrutiny
    /// benchmarks import`); `None`: the copies built into the binary.
    pub benchmarks: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct MeasureSettings {
    /// Where `staging/`, `metrics/`, `quality/` and `vars.yaml` live.
    pub sql_dir: PathBuf,
    /// Per-measure targets that replace the target in the measure's definition.
    pub targets: BTreeMap<String, f64>,
    /// Values for the variables that `sql/vars.yaml` declares.
    pub vars: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub struct EmailSettings {
    pub from: String,
    pub to: Vec<String>,
    /// Who hears about failed runs (default: `to`).
    pub failure_to: Vec<String>,
    pub transport: EmailTransport,
}

#[derive(Debug, Clone)]
pub enum EmailTransport {
    /// Write `.eml` files instead of sending.
    Outbox(PathBuf),
    Smtp(SmtpSettings),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    #[serde(default = "default_smtp_timeout")]
    pub timeout_secs: u64,
    /// Further tries after a failed send, with a doubling wait between them.
    #[serde(default = "default_smtp_retries")]
    pub retries: u32,
    #[serde(default = "default_smtp_backoff")]
    pub retry_backoff_ms: u64,
    /// A PEM file of CA certificates to trust besides the public roots (a council's own CA).
    pub ca_file: Option<PathBuf>,
}

fn default_smtp_retries() -> u32 {
    3
}

fn default_smtp_backoff() -> u64 {
    2000
}

fn default_smtp_port() -> u16 {
    587
}

fn default_smtp_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Upgrade with STARTTLS, which the server must offer.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No encryption: a relay on the same host, or tests.
    None,
}

// ---- loading -------------------------------------------------------------------------------

struct Loader<'a> {
    file: PathBuf,
    text: &'a str,
    base: PathBuf,
    problems: Vec<Problem>,
}

impl Loader<'_> {
    fn problem(&mut self, path: &[&str], message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: locate(self.text, path),
            key: path.join("."),
            message: message.into(),
        });
    }

    fn section<T: DeserializeOwned>(&mut self, root: &Value, key: &str) -> Option<T> {
        let value = root.get(key)?.clone();
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let inner = e.inner().to_string();
                let mut path = vec![key.to_string()];
                path.extend(e.path().to_string().split('.').filter(|p| !p.is_empty() && *p != "?").map(str::to_string));
                // serde names an unknown field in the message, not in the path.
                if let Some(field) = inner.strip_prefix("unknown field `").and_then(|r| r.split('`').next())
                    && path.last().map(String::as_str) != Some(field)
                {
                    path.push(field.to_string());
                }
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                self.problem(&refs, inner);
                None
            }
        }
    }

    fn path(&self, p: PathBuf) -> PathBuf {
        if p.is_absolute() { p } else { normalise(&self.base.join(p)) }
    }

    /// A local directory (relative to the settings file) or an object store URL.
    fn mart_location(&mut self, key: &[&str], s: String) -> MartLocation {
        match crate::storage::StoreUrl::parse(&s) {
            None => MartLocation::Local(self.path(PathBuf::from(s))),
            Some(Ok(u)) => MartLocation::Store(u),
            Some(Err(message)) => {
                self.problem(key, message);
                MartLocation::Local(self.path(PathBuf::from(s)))
            }
        }
    }
}

/// Drops `.` components so messages show tidy paths.
fn normalise(p: &Path) -> PathBuf {
    p.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// Finds the line of a dotted key path in YAML text, following indentation. Good enough for
/// pointing a person at the right line; it is never used to read values.
pub fn locate(text: &str, path: &[&str]) -> Option<usize> {
    let mut depth = 0;
    let mut indent_of_parent: Option<usize> = None;
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(pi) = indent_of_parent
            && indent <= pi
        {
            // Left the parent's block without finding the next key.
            return found;
        }
        let key = trimmed.trim_start_matches("- ").split(':').next().unwrap_or("").trim();
        if depth < path.len() && key == path[depth] && trimmed.contains(':') {
            found = Some(i + 1);
            indent_of_parent = Some(indent);
            depth += 1;
            if depth == path.len() {
                return found;
            }
        }
    }
    found
}

/// Replaces `${VAR}` in every string of the document; a variable that is not set is a problem.
fn expand_env(value: &mut Value, path: &mut Vec<String>, missing: &mut Vec<(Vec<String>, String)>) {
    match value {
        Value::String(s) if s.contains("${") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                match rest[start..].find('}') {
                    Some(end) => {
                        let name = &rest[start + 2..start + end];
                        match std::env::var(name) {
                            Ok(v) => out.push_str(&v),
                            Err(_) => missing.push((path.clone(), name.to_string())),
                        }
                        rest = &rest[start + end + 1..];
                    }
                    None => {
                        out.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                path.push(k.as_str().unwrap_or("?").to_string());
                expand_env(v, path, missing);
                path.pop();
            }
        }
        Value::Sequence(items) => {
            for v in items {
                expand_env(v, path, missing);
            }
        }
        _ => {}
    }
}

fn looks_like_address(s: &str) -> bool {
    let s = s.trim();
    let addr = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    let mut parts = addr.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.'))
}

impl Settings {
    /// Reads and checks a settings file.
    pub fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ConfigError::in_file(file, None, format!("cannot read the settings file: {e}")))?;
        Self::from_yaml(&text, file)
    }

    /// Reads settings from YAML text; `file` names it in messages and anchors relative paths.
    pub fn from_yaml(text: &str, file: &Path) -> Result<Self, ConfigError> {
        let base = file
            .parent()
            .map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p })
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut l = Loader { file: file.to_path_buf(), text, base, problems: Vec::new() };

        let mut root: Value = match serde_yaml::from_str(text) {
            Ok(Value::Null) => Value::Mapping(Default::default()),
            Ok(v) => v,
            Err(e) => {
                return Err(ConfigError::in_file(file, e.location().map(|l| l.line()), format!("not valid YAML: {e}")));
            }
        };
        let Some(top) = root.as_mapping() else {
            return Err(ConfigError::in_file(file, Some(1), "expected a mapping of sections (source, storage, ...)"));
        };
        const SECTIONS: [&str; 11] = [
            "source",
            "storage",
            "reference",
            "council",
            "measures",
            "pipelines",
            "compute",
            "report",
            "notify",
            "monitoring",
            "sinks",
        ];
        for key in top.keys() {
            let k = key.as_str().unwrap_or("?");
            if !SECTIONS.contains(&k) {
                l.problem(&[k], format!("unknown section; expected one of {}", SECTIONS.join(", ")));
            }
        }
        for required in ["source", "storage", "reference"] {
            if root.get(required).is_none() {
                l.problem(&[], format!("missing section `{required}`"));
            }
        }

        let mut missing = Vec::new();
        expand_env(&mut root, &mut Vec::new(), &mut missing);
        for (path, var) in missing {
            let refs: Vec<&str> = path.iter().map(String::as_str).collect();
            l.problem(&refs, format!("environment variable `{var}` is not set"));
        }

        let source = l.section::<SourceFile>(&root, "source");
        let storage = l.section::<StorageFile>(&root, "storage");
        let reference = l.section::<ReferenceFile>(&root, "reference");
        let council = l.section::<CouncilSettings>(&root, "council");
        if let Some(c) = &council
            && !(100..=999).contains(&c.la_number)
        {
            l.problem(&["council", "la_number"], "the DfE's 3-digit council number (Devon is 878)");
        }
        let measures = if root.get("measures").is_some() {
            l.section::<MeasuresFile>(&root, "measures")
        } else {
            Some(MeasuresFile::default())
        };
        let notify = l.section::<NotifyFile>(&root, "notify");
        let report = if root.get("report").is_some() {
            l.section::<ReportSettings>(&root, "report").map(|r| report_settings(&mut l, r))
        } else {
            Some(ReportSettings::default())
        };
        let monitoring = if root.get("monitoring").is_some() {
            l.section::<MonitoringSettings>(&root, "monitoring").map(|m| monitoring_settings(&mut l, m))
        } else {
            Some(MonitoringSettings { openlineage_namespace: default_namespace(), ..Default::default() })
        };

        let sql_dir_for_queries = root
            .get("measures")
            .and_then(|m| m.get("sql_dir"))
            .and_then(|v| v.as_str())
            .map(|p| l.path(PathBuf::from(p)))
            .unwrap_or_else(|| l.path(PathBuf::from("sql")));
        let source = source.and_then(|s| source_settings(&mut l, s, &sql_dir_for_queries));

        let storage = storage.map(|s| storage_settings(&mut l, s));

        let reference = reference.map(|r| reference_settings(&mut l, r));

        let measures = measures.map(|m| measures_settings(&mut l, m));

        let email = notify.and_then(|n| n.email).and_then(|e| email_settings(&mut l, e));

        let compute = if root.get("compute").is_some() {
            l.section::<ComputeFile>(&root, "compute").map(|c| compute_settings(&mut l, c))
        } else {
            Some(ComputeSettings::default())
        };

        let pipelines = if root.get("pipelines").is_some() {
            l.section::<PipelinesFile>(&root, "pipelines")
        } else {
            Some(PipelinesFile::default())
        };
        let pipelines = match (pipelines, &measures) {
            (Some(p), Some(m)) => Some(pipeline_settings(&mut l, p, &m.sql_dir)),
            _ => None,
        };

        let sinks = if root.get("sinks").is_some() {
            l.section::<SinksFile>(&root, "sinks").map(|s| sink_settings(&mut l, s))
        } else {
            Some(SinkSettings::default())
        };

        match (source, storage, reference, measures, report, monitoring, compute, pipelines, sinks) {
            (
                Some(source),
                Some(storage),
                Some(reference),
                Some(measures),
                Some(report),
                Some(monitoring),
                Some(compute),
                Some(pipelines),
                Some(sinks),
            ) if l.problems.is_empty() => Ok(Settings {
                file: file.to_path_buf(),
                source,
                storage,
                reference,
                council,
                measures,
                email,
                report,
                monitoring,
                compute,
                pipelines,
                sinks,
            }),
            _ => Err(ConfigError { problems: l.problems }),
        }
    }
}

/// `report`: the commentary directory resolved, the Power BI link checked.
fn report_settings(l: &mut Loader, mut r: ReportSettings) -> ReportSettings {
    r.commentary_dir = r.commentary_dir.map(|p| l.path(p));
    if r.power_bi_url.as_ref().is_some_and(|u| !u.starts_with("https://") && !u.starts_with("http://")) {
        l.problem(&["report", "power_bi_url"], "an https:// link");
    }
    r
}

/// `monitoring`: paths resolved, URLs and the CA file checked.
fn monitoring_settings(l: &mut Loader, mut m: MonitoringSettings) -> MonitoringSettings {
    m.prometheus_textfile = m.prometheus_textfile.map(|p| l.path(p));
    m.openlineage_file = m.openlineage_file.map(|p| l.path(p));
    m.ca_file = m.ca_file.map(|p| l.path(p));
    if let Some(p) = m.ca_file.as_ref().filter(|p| !p.is_file()) {
        l.problem(&["monitoring", "ca_file"], format!("no such file: {}", p.display()));
    }
    for (key, url) in [("pushgateway_url", &m.pushgateway_url), ("openlineage_url", &m.openlineage_url)] {
        if url.as_ref().is_some_and(|u| !u.starts_with("http://") && !u.starts_with("https://")) {
            l.problem(&["monitoring", key], "an http:// or https:// URL");
        }
    }
    m
}

/// A SQL Server password from the settings (`${VAR}`) or a mounted secret file; `at` is where
/// the connection's keys are, for messages.
fn sql_password(l: &mut Loader, at: &[&str], password: Option<Secret>, file: Option<PathBuf>) -> Option<Secret> {
    let key = |k: &'static str| at.iter().copied().chain([k]).collect::<Vec<&str>>();
    match (password, file) {
        (Some(p), None) => Some(p),
        (None, Some(f)) => {
            let f = l.path(f);
            match std::fs::read_to_string(&f) {
                Ok(t) => Some(Secret::new(t.trim_end_matches(['\r', '\n']))),
                Err(e) => {
                    l.problem(&key("password_file"), format!("cannot read {}: {e}", f.display()));
                    None
                }
            }
        }
        (Some(_), Some(_)) => {
            l.problem(&key("password"), "give `password` or `password_file`, not both");
            None
        }
        (None, None) => {
            l.problem(at, "give `password: ${VAR}` or `password_file` (a mounted secret)");
            None
        }
    }
}

/// A CA file, resolved against the settings file and checked to exist.
fn ca_file(l: &mut Loader, at: &[&str], p: Option<PathBuf>) -> Option<PathBuf> {
    let p = p.map(|p| l.path(p));
    if let Some(f) = p.as_ref().filter(|f| !f.is_file()) {
        let key: Vec<&str> = at.iter().copied().chain(["ca_file"]).collect();
        l.problem(&key, format!("no such file: {}", f.display()));
    }
    p
}

/// `sinks`: the SQL Server sink's secret read, its schema checked.
fn sink_settings(l: &mut Loader, s: SinksFile) -> SinkSettings {
    let Some(q) = s.sqlserver else { return SinkSettings::default() };
    let at = ["sinks", "sqlserver"];
    let password = sql_password(l, &at, q.password, q.password_file);
    if let Err(why) = check_identifier(&q.schema) {
        l.problem(&["sinks", "sqlserver", "schema"], why);
    }
    let ca_file = ca_file(l, &at, q.ca_file);
    let sqlserver = password.map(|password| SqlServerSink {
        connection: SqlServerSettings {
            host: q.host,
            port: q.port,
            database: q.database,
            schema: q.schema,
            user: q.user,
            password,
            encrypt: q.encrypt,
            trust_server_certificate: q.trust_server_certificate,
            ca_file,
            read_only_intent: false,
            connect_timeout_secs: q.connect_timeout_secs,
            command_timeout_secs: q.command_timeout_secs,
            parallel_connections: 1,
            retries: 0,
            retry_backoff_ms: 0,
            column_renames: BTreeMap::new(),
            queries_dir: PathBuf::new(),
        },
        create_tables: q.create_tables,
    });
    SinkSettings { sqlserver }
}

/// `source.sqlserver`: its password from the settings or a mounted file, its identifiers and
/// CA file checked.
fn sqlserver_settings(l: &mut Loader, q: SqlServerFile, sql_dir: &Path) -> Option<SourceSettings> {
    let password = sql_password(l, &["source", "sqlserver"], q.password, q.password_file);
    if q.parallel_connections == 0 || q.parallel_connections > 32 {
        l.problem(&["source", "sqlserver", "parallel_connections"], "must be between 1 and 32");
    }
    // Names that reach T-SQL are bracket-quoted; what no quoting makes sensible is refused.
    if let Err(why) = check_identifier(&q.schema) {
        l.problem(&["source", "sqlserver", "schema"], why);
    }
    for (table, renames) in &q.column_renames {
        for (column, source) in renames {
            if let Err(why) = check_identifier(source) {
                l.problem(&["source", "sqlserver", "column_renames", table, column], why);
            }
        }
    }
    let ca_file = ca_file(l, &["source", "sqlserver"], q.ca_file);
    password.map(|password| {
        SourceSettings::SqlServer(Box::new(SqlServerSettings {
            host: q.host,
            port: q.port,
            database: q.database,
            schema: q.schema,
            user: q.user,
            password,
            encrypt: q.encrypt,
            trust_server_certificate: q.trust_server_certificate,
            ca_file,
            read_only_intent: q.read_only_intent,
            connect_timeout_secs: q.connect_timeout_secs,
            command_timeout_secs: q.command_timeout_secs,
            parallel_connections: q.parallel_connections,
            retries: q.retries,
            retry_backoff_ms: q.retry_backoff_ms,
            column_renames: q.column_renames,
            queries_dir: sql_dir.join("extract/ssd"),
        }))
    })
}

/// `source`: one of `files` and `sqlserver`, its secret read, its identifiers checked.
fn source_settings(l: &mut Loader, s: SourceFile, sql_dir: &Path) -> Option<SourceSettings> {
    match (s.files, s.sqlserver) {
        (Some(f), None) => {
            if f.max_rejects == 0 && f.on_bad_row == OnBadRow::Quarantine {
                l.problem(&["source", "files", "max_rejects"], "quarantine needs room for at least one row");
            }
            Some(SourceSettings::Files { path: l.path(f.path), on_bad_row: f.on_bad_row, max_rejects: f.max_rejects })
        }
        (None, Some(q)) => sqlserver_settings(l, q, sql_dir),
        (Some(_), Some(_)) => {
            l.problem(&["source"], "choose one source: `files` or `sqlserver`, not both");
            None
        }
        (None, None) => {
            l.problem(&["source"], "name a source: `files` (a directory of table files) or `sqlserver`");
            None
        }
    }
}

/// `storage`: paths resolved, the lease checked.
fn storage_settings(l: &mut Loader, s: StorageFile) -> StorageSettings {
    let (landing, landing_store) = match crate::storage::StoreUrl::parse(&s.landing.to_string_lossy()) {
        None => (l.path(s.landing), None),
        // Each table is landed on the local disk first (its checksum is taken there), then the
        // landing is uploaded, manifest last, and the local copy removed.
        Some(Ok(u)) => (std::env::temp_dir().join("scrutiny-landing"), Some(u)),
        Some(Err(message)) => {
            l.problem(&["storage", "landing"], message);
            (l.path(s.landing), None)
        }
    };
    let mart = l.mart_location(&["storage", "mart"], s.mart);
    let same = match (&mart, &landing_store) {
        (MartLocation::Store(m), Some(u)) => m == u,
        (MartLocation::Local(m), None) => m == &landing,
        _ => false,
    };
    if same {
        l.problem(&["storage", "mart"], "the mart and the landing must be different directories");
    }
    let mart_format = match (&mart, s.mart_format) {
        (MartLocation::Store(_), Some(MartFormat::Parquet)) => {
            l.problem(
                &["storage", "mart_format"],
                "`parquet` cannot be published atomically on an object store (it has no symlinks): use `delta`",
            );
            MartFormat::Parquet
        }
        (_, Some(f)) => f,
        (MartLocation::Local(_), None) => MartFormat::Parquet,
        (MartLocation::Store(_), None) => MartFormat::Delta,
    };
    match &mart {
        MartLocation::Store(u) => {
            for p in crate::storage::check_options(u.cloud(), &s.options) {
                l.problem(&["storage", "options"], p);
            }
        }
        MartLocation::Local(_) if !s.options.is_empty() => {
            l.problem(
                &["storage", "options"],
                "options are for a mart on object storage; this mart is a local directory",
            );
        }
        MartLocation::Local(_) => {}
    }
    if s.lock_ttl_secs.is_some_and(|t| !(10..=86_400).contains(&t)) {
        l.problem(&["storage", "lock_ttl_secs"], "must be between 10 and 86400 seconds");
    }
    StorageSettings {
        landing,
        landing_store,
        mart,
        mart_format,
        options: s.options,
        keep_versions: s.keep_versions,
        retention_days: s.retention_days,
        lock_ttl: s.lock_ttl_secs.map(std::time::Duration::from_secs),
    }
}

/// `reference`: every named file exists.
fn reference_settings(l: &mut Loader, r: ReferenceFile) -> ReferenceSettings {
    let team_org_units = l.path(r.team_org_units);
    if !team_org_units.is_file() {
        l.problem(&["reference", "team_org_units"], format!("no such file: {}", team_org_units.display()));
    }
    let bank_holidays = r.bank_holidays.map(|p| l.path(p));
    if let Some(p) = &bank_holidays
        && !p.is_file()
    {
        l.problem(&["reference", "bank_holidays"], format!("no such file: {}", p.display()));
    }
    let code_map = r.code_map.map(|p| l.path(p));
    if let Some(p) = &code_map
        && !p.is_file()
    {
        l.problem(&["reference", "code_map"], format!("no such file: {}", p.display()));
    }
    let benchmarks = r.benchmarks.map(|p| l.path(p));
    if let Some(p) = &benchmarks
        && !p.is_dir()
    {
        l.problem(&["reference", "benchmarks"], format!("no such directory: {}", p.display()));
    }
    ReferenceSettings { team_org_units, bank_holidays, code_map, closure_days: r.closure_days, benchmarks }
}

/// `measures`: the SQL directory holds measures; targets are numbers.
fn measures_settings(l: &mut Loader, m: MeasuresFile) -> MeasureSettings {
    let sql_dir = l.path(m.sql_dir.unwrap_or_else(|| PathBuf::from("sql")));
    if !sql_dir.join("measures").is_dir() {
        l.problem(
            &["measures", "sql_dir"],
            format!("{} has no `measures` directory of measure definitions", sql_dir.display()),
        );
    }
    for (id, t) in &m.targets {
        if !t.is_finite() {
            l.problem(&["measures", "targets", id], "must be a number");
        }
    }
    MeasureSettings { sql_dir, targets: m.targets, vars: m.vars }
}

/// `notify.email`: addresses checked, one transport, credentials only over TLS.
fn email_settings(l: &mut Loader, e: EmailFile) -> Option<EmailSettings> {
    if !looks_like_address(&e.from) {
        l.problem(&["notify", "email", "from"], format!("`{}` is not an email address", e.from));
    }
    if e.to.is_empty() {
        l.problem(&["notify", "email", "to"], "name at least one recipient");
    }
    for a in e.to.iter().chain(&e.failure_to) {
        if !looks_like_address(a) {
            l.problem(&["notify", "email", "to"], format!("`{a}` is not an email address"));
        }
    }
    let transport = match (e.outbox, e.smtp) {
        (Some(o), None) => EmailTransport::Outbox(l.path(o)),
        (None, Some(s)) => {
            if s.host.trim().is_empty() {
                l.problem(&["notify", "email", "smtp", "host"], "must not be empty");
            }
            if s.password.is_some() && s.username.is_none() {
                l.problem(&["notify", "email", "smtp", "username"], "a password needs a username");
            }
            if s.username.is_some() && s.tls == SmtpTls::None {
                l.problem(
                    &["notify", "email", "smtp", "tls"],
                    "a username and password never cross an unencrypted connection: use `starttls` or `implicit`",
                );
            }
            let mut s = s;
            s.ca_file = s.ca_file.map(|p| l.path(p));
            if let Some(p) = s.ca_file.as_ref().filter(|p| !p.is_file()) {
                l.problem(&["notify", "email", "smtp", "ca_file"], format!("no such file: {}", p.display()));
            }
            EmailTransport::Smtp(s)
        }
        (Some(_), Some(_)) => {
            l.problem(&["notify", "email"], "choose one of `outbox` and `smtp`, not both");
            return None;
        }
        (None, None) => {
            l.problem(&["notify", "email"], "say how to deliver: `outbox` (a directory) or `smtp`");
            return None;
        }
    };
    let failure_to = if e.failure_to.is_empty() { e.to.clone() } else { e.failure_to };
    Some(EmailSettings { from: e.from, to: e.to, failure_to, transport })
}

/// `compute`: the memory limit read as a size.
fn compute_settings(l: &mut Loader, c: ComputeFile) -> ComputeSettings {
    let memory_limit = c.memory_limit.and_then(|m| match parse_size(&m) {
        Ok(bytes) if bytes >= 64 * 1024 * 1024 => Some(bytes),
        Ok(_) => {
            l.problem(&["compute", "memory_limit"], "at least 64MiB");
            None
        }
        Err(e) => {
            l.problem(&["compute", "memory_limit"], e);
            None
        }
    });
    ComputeSettings { memory_limit, spill_dir: c.spill_dir.map(|p| l.path(p)) }
}

fn pipeline_settings(l: &mut Loader, p: PipelinesFile, sql_dir: &Path) -> PipelineSettings {
    let dir = match p.dir {
        Some(d) => {
            let d = l.path(d);
            if !d.is_dir() {
                l.problem(&["pipelines", "dir"], format!("no such directory: {}", d.display()));
            }
            Some(d)
        }
        None => PipelineSettings::default_dir(sql_dir),
    };
    let mut overrides = BTreeMap::new();
    for (id, o) in p.overrides {
        for a in o.email_to.iter().chain(&o.failure_to) {
            if !looks_like_address(a) {
                l.problem(&["pipelines", "overrides", &id], format!("`{a}` is not an email address"));
            }
        }
        let mart = o.mart.map(|m| l.mart_location(&["pipelines", "overrides", &id, "mart"], m));
        let line = locate(l.text, &["pipelines", "overrides", &id]);
        overrides.insert(id, PipelineOverride { mart, email_to: o.email_to, failure_to: o.failure_to, line });
    }
    PipelineSettings { dir, overrides }
}

impl Settings {
    /// The settings as one pipeline sees them: its mart (`storage.mart`, a named directory
    /// beside it, or the path the overrides give) and its email recipients.
    pub fn for_pipeline(&self, p: &crate::Pipeline) -> Settings {
        use crate::pipeline::MartName;
        let mut s = self.clone();
        let o = self.pipelines.overrides.get(&p.id);
        s.storage.mart = match (o.and_then(|o| o.mart.clone()), &p.mart) {
            (Some(path), _) => path,
            (None, MartName::Default) => self.storage.mart.clone(),
            (None, MartName::Named(name)) => self.storage.mart.sibling(name),
        };
        // A pipeline with its own mart loads into its own schema (`scrutiny_corporate_parenting`),
        // so it never replaces the monthly tables Power BI reads.
        if let (MartName::Named(name), Some(sink)) = (&p.mart, s.sinks.sqlserver.as_mut()) {
            sink.connection.schema = format!("{}_{name}", sink.connection.schema);
        }
        // node-exporter reads every *.prom of its directory: the pipelines beside the default
        // one write their own file next to the configured one (their series carry a `pipeline`
        // label, so the files never repeat a series).
        if let (MartName::Named(_), Some(f)) = (&p.mart, &self.monitoring.prometheus_textfile) {
            let stem = f.file_stem().and_then(|x| x.to_str()).unwrap_or("scrutiny");
            s.monitoring.prometheus_textfile = Some(f.with_file_name(format!("{stem}-{}.prom", p.id)));
        }
        if let (Some(email), Some(o)) = (s.email.as_mut(), o) {
            if !o.email_to.is_empty() {
                email.to = o.email_to.clone();
                if o.failure_to.is_empty() {
                    email.failure_to = o.email_to.clone();
                }
            }
            if !o.failure_to.is_empty() {
                email.failure_to = o.failure_to.clone();
            }
        }
        s
    }

    /// Problems with `pipelines.overrides`: an id no pipeline file has.
    pub fn check_overrides(&self, known: &[&str]) -> Vec<Problem> {
        self.pipelines
            .overrides
            .iter()
            .filter(|(id, _)| !known.contains(&id.as_str()))
            .map(|(id, o)| Problem {
                file: self.file.clone(),
                line: o.line,
                key: format!("pipelines.overrides.{id}"),
                message: format!("no pipeline `{id}` (there are: {})", known.join(", ")),
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(unsafe_code, reason = "std::env::set_var in tests, for variables no other test reads")]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"source:
  files:
    path: ./data/ssd          # one <table>.csv or <table>.parquet per SSD table
storage:
  landing: ./var/landing
  mart: ./var/mart
reference:
  team_org_units: ./config/reference/team_org_units.csv
notify:
  email:
    from: scrutiny@example.org
    to: [performance-team@example.org]
    outbox: ./var/outbox      # write .eml files instead of sending
"#;

    /// A directory laid out like the repository, so path checks pass.
    fn repo_like() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config/reference")).unwrap();
        std::fs::write(dir.path().join("config/reference/team_org_units.csv"), "team_id,org_unit,org_unit_kind\n")
            .unwrap();
        std::fs::create_dir_all(dir.path().join("sql/measures")).unwrap();
        dir
    }

    #[test]
    fn each_pipeline_gets_its_own_mart_and_may_have_its_own_recipients() {
        let dir = repo_like();
        let text = format!(
            "{EXAMPLE}monitoring:\n  prometheus_textfile: ./scrutiny.prom\npipelines:\n  overrides:\n    quarterly:\n      email_to: [board@example.org]\n    elsewhere:\n      mart: /srv/cp\n"
        );
        let s = load(&dir, &text).unwrap();
        assert_eq!(s.pipelines.dir, None, "no pipelines/ beside sql/: the built-in ones");
        std::fs::create_dir(dir.path().join("pipelines")).unwrap();
        assert_eq!(load(&dir, &text).unwrap().pipelines.dir, Some(dir.path().join("pipelines")));
        let pipeline = |id: &str, mart: &str| {
            let f = dir.path().join(format!("{id}.yaml"));
            std::fs::write(&f, format!("id: {id}\ntitle: T\ngrain: quarter\nmeasures:\n  areas: [A]\nschedule: \"0 6 5 1 *\"\nmart: {mart}\n")).unwrap();
            crate::Pipeline::load(&f).unwrap()
        };
        let monthly = s.for_pipeline(&pipeline("monthly", "default"));
        assert_eq!(monthly.storage.mart, MartLocation::Local(dir.path().join("var/mart")));
        assert_eq!(monthly.email.as_ref().unwrap().to, ["performance-team@example.org"]);
        let quarterly = s.for_pipeline(&pipeline("quarterly", "corporate_parenting"));
        assert_eq!(quarterly.storage.mart, MartLocation::Local(dir.path().join("var/corporate_parenting")));
        assert_eq!(quarterly.monitoring.prometheus_textfile, Some(dir.path().join("scrutiny-quarterly.prom")));
        assert_eq!(monthly.monitoring.prometheus_textfile, Some(dir.path().join("scrutiny.prom")));
        let email = quarterly.email.unwrap();
        assert_eq!((email.to.clone(), email.failure_to), (vec!["board@example.org".to_string()], email.to));
        assert_eq!(s.for_pipeline(&pipeline("elsewhere", "x")).storage.mart, MartLocation::Local("/srv/cp".into()));
        let unknown = s.check_overrides(&["quarterly", "monthly"]);
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].to_string().contains(":20: `pipelines.overrides.elsewhere`: no pipeline"), "{unknown:?}");
    }

    #[test]
    fn a_mart_on_object_storage_is_delta_and_its_secrets_stay_out_of_the_file() {
        let dir = repo_like();
        let s = load(&dir, &EXAMPLE.replace("./var/mart", "az://mart/scrutiny")).unwrap();
        assert_eq!(s.storage.mart.to_string(), "az://mart/scrutiny");
        assert_eq!(s.storage.mart_format, MartFormat::Delta, "delta is the default on a store");
        assert_eq!(load(&dir, EXAMPLE).unwrap().storage.mart_format, MartFormat::Parquet, "parquet locally");
        let text = EXAMPLE.replace(
            "  mart: ./var/mart\n",
            "  mart: s3://bucket/mart\n  mart_format: parquet\n  options:\n    aws_secret_access_key: abc\n    region: eu-west-2\n",
        );
        let p = problems(&dir, &text);
        assert_eq!(p.len(), 2, "every problem at once: {p:?}");
        assert!(p.iter().any(|m| m.contains("`storage.mart_format`") && m.contains("atomically")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`aws_secret_access_key` is a secret")), "{p:?}");
        let p =
            problems(&dir, &EXAMPLE.replace("./var/mart", "gs://bucket/mart").replace("./var/landing", "hdfs://b/l"));
        assert!(p.iter().any(|m| m.contains("`storage.mart`") && m.contains("`gs://`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`storage.landing`") && m.contains("`hdfs://`")), "{p:?}");
        let s = load(&dir, &EXAMPLE.replace("./var/landing", "az://landing/scrutiny")).unwrap();
        assert_eq!(s.storage.landing_store.map(|u| u.to_string()), Some("az://landing/scrutiny".into()));
        let p = problems(&dir, &EXAMPLE.replace("./var/landing", "s3://b/x").replace("./var/mart", "s3://b/x"));
        assert!(p.iter().any(|m| m.contains("must be different")), "{p:?}");
    }

    fn load(dir: &tempfile::TempDir, text: &str) -> Result<Settings, ConfigError> {
        Settings::from_yaml(text, &dir.path().join("scrutiny.yaml"))
    }

    fn problems(dir: &tempfile::TempDir, text: &str) -> Vec<String> {
        load(dir, text).unwrap_err().problems.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn the_documented_example_works_as_written() {
        let dir = repo_like();
        let s = load(&dir, EXAMPLE).unwrap();
        let SourceSettings::Files { path, on_bad_row, max_rejects } = &s.source else { panic!("not files") };
        assert_eq!((*on_bad_row, *max_rejects), (OnBadRow::Fail, 100), "fail on a bad row by default");
        assert_eq!(path, &dir.path().join("data/ssd"));
        assert_eq!(s.storage.landing, dir.path().join("var/landing"));
        assert_eq!(s.measures.sql_dir, dir.path().join("sql"));
        let email = s.email.unwrap();
        assert_eq!(email.failure_to, vec!["performance-team@example.org".to_string()]);
        assert!(matches!(email.transport, EmailTransport::Outbox(p) if p == dir.path().join("var/outbox")));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_line() {
        let dir = repo_like();
        let text = EXAMPLE.replace("    path: ./data/ssd", "    path: ./data/ssd\n    pth: x");
        let p = problems(&dir, &text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("scrutiny.yaml:4"), "{p:?}");
        assert!(p[0].contains("unknown field `pth`"), "{p:?}");
    }

    /// The settings in deploy/cronjob.yaml's ConfigMap use only keys the loader knows: the only
    /// problems allowed are files and variables that exist in the cluster, not here.
    #[test]
    fn the_cronjob_example_settings_are_valid() {
        let text = std::fs::read_to_string(crate::checkout_root().join("deploy/cronjob.yaml")).unwrap();
        let settings = text
            .split("\n---")
            .filter_map(|doc| serde_yaml::from_str::<Value>(doc).ok())
            .find_map(|doc| doc.get("data")?.get("scrutiny.yaml")?.as_str().map(str::to_string))
            .expect("a ConfigMap with scrutiny.yaml");
        assert!(settings.contains("memory_limit: 1.5GiB"), "the example sets the memory limit");
        // SAFETY: no other test reads this variable.
        unsafe { std::env::set_var("SCRUTINY_SMTP_PASSWORD", "x") };
        let problems = match Settings::from_yaml(&settings, Path::new("/etc/scrutiny/scrutiny.yaml")) {
            Ok(s) => {
                assert_eq!(s.compute.memory_limit, Some(1_610_612_736));
                return;
            }
            Err(e) => e.problems,
        };
        for p in &problems {
            assert!(
                p.message.contains("no such file")
                    || p.message.contains("cannot read")
                    || p.message.contains("has no `measures`"),
                "the example has a mistake: {p}"
            );
        }
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(parse_size("1.5GiB").unwrap(), 1_610_612_736);
        assert_eq!(parse_size("512MiB").unwrap(), 536_870_912);
        assert_eq!(parse_size("2G").unwrap(), 2 * 1024 * 1024 * 1024);
        assert_eq!(parse_size("1048576").unwrap(), 1_048_576);
        for bad in ["", "lots", "1.5 parsecs", "-1GiB", "NaNGiB", "1e999"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn compute_memory_quarantine_and_lease_settings() {
        let dir = repo_like();
        let text = EXAMPLE.replace(
            "    path: ./data/ssd ",
            "    path: ./data/ssd\n    on_bad_row: quarantine\n    max_rejects: 5\n ",
        ) + "compute:\n  memory_limit: 1.5GiB\n  spill_dir: ./var/spill\n";
        let text = text.replace("  mart: ./var/mart\n", "  mart: ./var/mart\n  lock_ttl_secs: 900\n");
        let s = load(&dir, &text).unwrap();
        assert_eq!(s.compute.memory_limit, Some(1_610_612_736));
        assert_eq!(s.compute.spill_dir, Some(dir.path().join("var/spill")));
        assert_eq!(s.storage.lock_ttl, Some(std::time::Duration::from_secs(900)));
        let SourceSettings::Files { on_bad_row, max_rejects, .. } = &s.source else { panic!("not files") };
        assert_eq!((*on_bad_row, *max_rejects), (OnBadRow::Quarantine, 5));

        let p = problems(
            &dir,
            &format!("{EXAMPLE}compute:\n  memory_limit: 10MiB\n")
                .replace("  mart: ./var/mart\n", "  mart: ./var/mart\n  lock_ttl_secs: 1\n"),
        );
        assert!(p.iter().any(|m| m.contains("`compute.memory_limit`: at least 64MiB")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`storage.lock_ttl_secs`")), "{p:?}");
        let p =
            problems(&dir, &EXAMPLE.replace("    path: ./data/ssd ", "    path: ./data/ssd\n    on_bad_row: skip\n "));
        assert!(p.iter().any(|m| m.contains("on_bad_row")), "{p:?}");
    }

    proptest::proptest! {
        /// Whatever a settings file holds, the loader answers with settings or problems.
        #[test]
        fn any_text_gives_settings_or_problems_never_a_panic(text in "\\PC{0,400}") {
            let dir = repo_like();
            let _ = load(&dir, &text);
        }

        /// Mutations of a valid file: keys dropped, values swapped for odd scalars.
        #[test]
        fn mangled_settings_never_panic(cut in 0usize..600, junk in proptest::prop_oneof![
            proptest::strategy::Just("~".to_string()), proptest::strategy::Just("[]".to_string()), proptest::strategy::Just("{a: 1}".to_string()), proptest::strategy::Just("-1".to_string()),
            proptest::strategy::Just("${X".to_string()), proptest::strategy::Just("1e999".to_string()), proptest::strategy::Just("\"\\u0000\"".to_string()), "\\PC{0,12}"
        ]) {
            let dir = repo_like();
            let full = format!("{EXAMPLE}compute:\n  memory_limit: 1GiB\nmonitoring:\n  pushgateway_url: http://x\n");
            let cut = cut.min(full.len());
            let cut = (0..=cut).rev().find(|i| full.is_char_boundary(*i)).unwrap_or(0);
            let line_end = full[cut..].find('\n').map_or(full.len(), |i| cut + i);
            let colon = full[..line_end].rfind(':').filter(|c| *c >= full[..line_end].rfind('\n').map_or(0, |n| n));
            let text = match colon {
                Some(c) => format!("{} {junk}{}", &full[..=c], &full[line_end..]),
                None => full[..cut].to_string(),
            };
            let _ = load(&dir, &text);
        }
    }

    #[test]
    fn unknown_section_is_refused() {
        let dir = repo_like();
        let p = problems(&dir, &format!("{EXAMPLE}extras:\n  a: 1\n"));
        assert!(p.iter().any(|m| m.contains(":14: `extras`: unknown section")), "{p:?}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let dir = repo_like();
        let text = EXAMPLE
            .replace("pth", "path")
            .replace("./config/reference/team_org_units.csv", "./nope.csv")
            .replace("scrutiny@example.org", "not-an-address")
            .replace("  mart: ./var/mart\n", "  mart: ./var/mart\n  keep: 3\n");
        let p = problems(&dir, &text);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|m| m.contains("`storage.keep`") && m.contains("unknown field")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("nope.csv")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`notify.email.from`")), "{p:?}");
    }

    #[test]
    fn missing_sections_and_fields() {
        let dir = repo_like();
        let p = problems(&dir, "storage:\n  landing: a\n");
        assert!(p.iter().any(|m| m.contains("missing section `source`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("missing section `reference`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("missing field `mart`")), "{p:?}");
    }

    #[test]
    fn environment_variables_expand_and_missing_ones_are_named() {
        let dir = repo_like();
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("SCRUTINY_TEST_LANDING", "/srv/landing") };
        let s = load(&dir, &EXAMPLE.replace("./var/landing", "${SCRUTINY_TEST_LANDING}")).unwrap();
        assert_eq!(s.storage.landing, PathBuf::from("/srv/landing"));
        let p = problems(&dir, &EXAMPLE.replace("./var/landing", "${SCRUTINY_TEST_UNSET_XYZ}"));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].contains(":5: `storage.landing`: environment variable `SCRUTINY_TEST_UNSET_XYZ` is not set"),
            "{p:?}"
        );
    }

    #[test]
    fn bad_yaml_names_the_line() {
        let dir = repo_like();
        let p = problems(&dir, "source:\n  files: [\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("not valid YAML"), "{p:?}");
    }

    #[test]
    fn wrong_types_are_reported() {
        let dir = repo_like();
        let p = problems(&dir, &format!("{EXAMPLE}measures:\n  trend_months: lots\n"));
        assert!(p.iter().any(|m| m.contains("`measures") && m.contains("trend_months")), "{p:?}");
    }

    #[test]
    fn email_needs_a_transport_and_only_one() {
        let dir = repo_like();
        let p = problems(&dir, &EXAMPLE.replace("    outbox: ./var/outbox", ""));
        assert!(p.iter().any(|m| m.contains("`notify.email`: say how to deliver")), "{p:?}");
        let both = EXAMPLE.replace("outbox: ./var/outbox", "outbox: ./var/outbox\n    smtp:\n      host: mail");
        let p = problems(&dir, &both);
        assert!(p.iter().any(|m| m.contains("not both")), "{p:?}");
    }

    #[test]
    fn smtp_credentials_never_cross_plaintext_and_the_ca_file_must_exist() {
        let dir = repo_like();
        let smtp = EXAMPLE.replace(
            "    outbox: ./var/outbox      # write .eml files instead of sending",
            "    smtp:\n      host: mail.example.org\n      tls: none\n      username: scrutiny\n      password: x\n      ca_file: ./council-ca.pem",
        );
        let p = problems(&dir, &smtp);
        assert!(p.iter().any(|m| m.contains("`notify.email.smtp.tls`") && m.contains("unencrypted")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`notify.email.smtp.ca_file`") && m.contains("council-ca.pem")), "{p:?}");
        std::fs::write(dir.path().join("council-ca.pem"), "").unwrap();
        let s = load(&dir, &smtp.replace("tls: none", "tls: implicit")).unwrap();
        let Some(EmailSettings { transport: EmailTransport::Smtp(smtp), .. }) = s.email else { panic!("smtp") };
        assert_eq!(smtp.ca_file, Some(dir.path().join("./council-ca.pem")));
    }

    #[test]
    fn the_report_section_is_shared_by_the_email_and_the_report() {
        let dir = repo_like();
        let s = load(&dir, EXAMPLE).unwrap();
        assert!(!s.report.suppress_small_numbers, "off by default");
        let text = format!(
            "{EXAMPLE}report:\n  suppress_small_numbers: true\n  commentary_dir: ./commentary\n  power_bi_url: https://app.powerbi.com/x\n"
        );
        let s = load(&dir, &text).unwrap();
        assert!(s.report.suppress_small_numbers);
        assert_eq!(s.report.commentary_dir, Some(dir.path().join("./commentary")));
        let p = problems(&dir, &text.replace("https://app", "app").replace("./var/mart", "./var/mart\n  keep: 3"));
        assert!(p.iter().any(|m| m.contains("`report.power_bi_url`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`storage.keep`")), "both problems at once: {p:?}");
        let p = problems(&dir, &text.replace("suppress_small_numbers", "suppress_small"));
        assert!(p.iter().any(|m| m.contains("`report.suppress_small`: unknown field")), "{p:?}");
    }

    #[test]
    fn the_sqlserver_sink_as_documented_and_its_mistakes_all_at_once() {
        let dir = repo_like();
        // SAFETY: no other test reads this variable.
        unsafe { std::env::set_var("SCRUTINY_TEST_SINK_PASSWORD", "sink-s3cret") };
        let sink = "sinks:\n  sqlserver:\n    host: reporting.council.local\n    database: reporting\n    user: scrutiny_loader\n    password: ${SCRUTINY_TEST_SINK_PASSWORD}\n    encrypt: strict\n";
        let s = load(&dir, &format!("{EXAMPLE}{sink}")).unwrap();
        let q = s.sinks.sqlserver.as_ref().expect("a sink");
        assert_eq!(q.connection.schema, "scrutiny", "the default schema");
        assert!(q.create_tables, "the sink creates its tables by default");
        assert_eq!(q.connection.describe(), "reporting.council.local:1433/reporting");
        assert!(!q.connection.read_only_intent, "a sink writes");
        assert!(!format!("{s:?}").contains("sink-s3cret"));
        assert!(load(&dir, EXAMPLE).unwrap().sinks.sqlserver.is_none());
        // A pipeline with its own mart loads into its own schema, never over the monthly tables.
        let f = dir.path().join("quarterly.yaml");
        std::fs::write(&f, "id: quarterly\ntitle: T\ngrain: quarter\nmeasures:\n  areas: [A]\nschedule: \"0 6 5 1 *\"\nmart: corporate_parenting\n").unwrap();
        let quarterly = s.for_pipeline(&crate::Pipeline::load(&f).unwrap());
        assert_eq!(quarterly.sinks.sqlserver.unwrap().connection.schema, "scrutiny_corporate_parenting");
        let bad = format!(
            "{EXAMPLE}{}",
            sink.replace(
                "    password: ${SCRUTINY_TEST_SINK_PASSWORD}\n",
                "    schema: \"\"\n    ca_file: ./nope.pem\n"
            )
        );
        let p = problems(&dir, &bad);
        assert!(p.iter().any(|m| m.contains("`sinks.sqlserver`") && m.contains("password_file")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`sinks.sqlserver.schema`")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("`sinks.sqlserver.ca_file`")), "{p:?}");
        let p =
            problems(&dir, &format!("{EXAMPLE}{}", sink.replace("encrypt:", "read_only_intent: true\n    encrypt:")));
        assert!(p.iter().any(|m| m.contains("`sinks.sqlserver.read_only_intent`: unknown field")), "{p:?}");
    }

    #[test]
    fn the_sqlserver_source_as_documented() {
        let dir = repo_like();
        // SAFETY: no other test reads this variable.
        unsafe { std::env::set_var("SCRUTINY_TEST_SQL_PASSWORD", "s3cret") };
        let text = EXAMPLE.replace(
            "  files:\n    path: ./data/ssd          # one <table>.csv or <table>.parquet per SSD table\n",
            "  sqlserver:\n    host: 127.0.0.1\n    port: 14330\n    database: ssd\n    schema: ssd_development\n    user: scrutiny\n    password: ${SCRUTINY_TEST_SQL_PASSWORD}\n    encrypt: strict              # required (the default) | strict | off (plaintext, tests only)\n    trust_server_certificate: true\n",
        );
        let s = load(&dir, &text).unwrap();
        let SourceSettings::SqlServer(q) = &s.source else { panic!("not sqlserver") };
        assert_eq!(q.password.expose(), "s3cret");
        assert_eq!(q.encrypt, Encrypt::Strict);
        assert_eq!(q.describe(), "127.0.0.1:14330/ssd");
        assert!(!format!("{s:?}").contains("s3cret"), "the password never appears in debug output");
        let both = text.replace(
            "    trust_server_certificate: true\n",
            "    trust_server_certificate: true\n    password_file: /nope\n",
        );
        assert!(problems(&dir, &both).iter().any(|p| p.contains("not both")));
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn locate_follows_indentation() {
        let text = "a:\n  b: 1\nc:\n  b: 2\n  d:\n    b: 3\n";
        assert_eq!(locate(text, &["c", "b"]), Some(4));
        assert_eq!(locate(text, &["c", "d", "b"]), Some(6));
        assert_eq!(locate(text, &["a", "x"]), Some(1));
    }
}
