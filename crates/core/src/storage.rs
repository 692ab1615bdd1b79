//! Where the mart lives when it is not a local directory: an object store URL (`az://`,
//! `abfss://` for Azure Blob Storage and Data Lake Storage Gen2, `s3://` for S3 and compatible
//! stores), opened with the `object_store` that DataFusion and delta-rs use. Object stores have
//! no symlinks and no file locks, so the run lock there is a [`Lease`]: an object written with a
//! conditional put and renewed with update-if-match.
//!
//! Credentials come the way each cloud's users expect: the standard environment variables
//! (`AZURE_STORAGE_*`, `AWS_*`, workload and managed identity, which `object_store` reads), and
//! `storage.options` for settings that are not secrets. Secrets in the settings file are refused.

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Which cloud a store URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Azure,
    S3,
}

/// A location in an object store: `az://container/path`,
/// `abfss://container@account.dfs.core.windows.net/path` or `s3://bucket/path`. Kept without a
/// trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    url: Url,
    cloud: Cloud,
}

impl StoreUrl {
    /// `None` when `s` is not a URL (a local path); otherwise the URL, or why it cannot be used.
    pub fn parse(s: &str) -> Option<Result<StoreUrl, String>> {
        let (scheme, _) = s.split_once("://")?;
        let cloud = match scheme.to_ascii_lowercase().as_str() {
            "az" | "abfs" | "abfss" | "azure" => Cloud::Azure,
            "s3" | "s3a" => Cloud::S3,
            other => {
                return Some(Err(format!(
                    "`{other}://` is not a store scrutiny can publish to: give a local directory, or an \
                     `az://`, `abfss://` or `s3://` URL"
                )));
            }
        };
        let url = match Url::parse(s.trim_end_matches('/')) {
            Ok(u) => u,
            Err(e) => return Some(Err(format!("not a valid URL: {e}"))),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Some(
                Err("the URL names no container or bucket (`az://container/path`, `s3://bucket/path`)".into()),
            );
        }
        if url.scheme().starts_with("abfs") && url.username().is_empty() {
            return Some(Err("an `abfss://` URL names its container before the account: \
                 `abfss://container@account.dfs.core.windows.net/path`"
                .into()));
        }
        if url.query().is_some() || url.fragment().is_some() || url.password().is_some() {
            return Some(Err(
                "the URL must not carry a query, a fragment or a password (credentials belong in the environment)"
                    .into(),
            ));
        }
        Some(Ok(StoreUrl { url, cloud }))
    }

    pub fn cloud(&self) -> Cloud {
        self.cloud
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The container or bucket.
    pub fn container(&self) -> &str {
        if self.url.username().is_empty() { self.url.host_str().unwrap_or_default() } else { self.url.username() }
    }

    /// The path inside the container or bucket.
    pub fn prefix(&self) -> StorePath {
        StorePath::from(self.url.path().trim_matches('/'))
    }

    /// `self/name`.
    pub fn join(&self, name: &str) -> StoreUrl {
        let mut url = self.url.clone();
        let path = format!("{}/{}", url.path().trim_end_matches('/'), name);
        url.set_path(&path);
        StoreUrl { url, cloud: self.cloud }
    }

    /// `name` beside this location (a pipeline's named mart).
    pub fn sibling(&self, name: &str) -> StoreUrl {
        let mut url = self.url.clone();
        let path = url.path().trim_end_matches('/');
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        url.set_path(&format!("{parent}/{name}"));
        StoreUrl { url, cloud: self.cloud }
    }

    /// The store's root (the container or bucket), where [`open`] points.
    pub fn root(&self) -> Url {
        let mut url = self.url.clone();
        url.set_path("/");
        url
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.url.as_str())
    }
}

/// Keys that hold secrets: refused in the settings file, which is committed and reviewed.
fn is_secret(cloud: Cloud, key: &str) -> bool {
    use object_store::aws::AmazonS3ConfigKey as A;
    use object_store::azure::AzureConfigKey as Z;
    match cloud {
        Cloud::Azure => matches!(
            Z::from_str(key),
            Ok(Z::AccessKey | Z::ClientSecret | Z::SasKey | Z::Token | Z::FabricSessionToken)
        ),
        Cloud::S3 => matches!(A::from_str(key), Ok(A::SecretAccessKey | A::Token)),
    }
}

/// Problems with `storage.options` for a store of `cloud`: unknown keys, and secrets.
pub fn check_options(cloud: Cloud, options: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for key in options.keys() {
        let k = key.to_ascii_lowercase();
        let known = match cloud {
            Cloud::Azure => object_store::azure::AzureConfigKey::from_str(&k).is_ok(),
            Cloud::S3 => object_store::aws::AmazonS3ConfigKey::from_str(&k).is_ok(),
        };
        if !known {
            problems.push(format!("`{key}` is not an option of the {cloud:?} store (see object_store's config keys)"));
        } else if is_secret(cloud, &k) {
            problems.push(format!(
                "`{key}` is a secret: give it in the environment ({}) or a mounted secret file, never in the settings",
                match cloud {
                    Cloud::Azure => "AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, AZURE_CLIENT_SECRET",
                    Cloud::S3 => "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
                }
            ));
        }
    }
    problems
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{url}: {message}")]
    Open { url: String, message: String },
    #[error("{url}: {source}")]
    Store { url: String, source: object_store::Error },
    #[error("another run holds the lease {url}: {holder}")]
    Held { url: String, holder: Box<LeaseHolder> },
}

impl StorageError {
    /// The exit code: a store that cannot be reached is 69 (try later), a lease held 75.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Open { .. } => crate::exit::CONFIG,
            Self::Store { source, .. } => store_exit_code(source),
            Self::Held { .. } => crate::exit::TEMPFAIL,
        }
    }
}

/// What an `object_store` error means for the operator: settings to fix (78), or a store to wait
/// for (69).
pub fn store_exit_code(e: &object_store::Error) -> u8 {
    match e {
        object_store::Error::UnknownConfigurationKey { .. }
        | object_store::Error::NotSupported { .. }
        | object_store::Error::Unauthenticated { .. }
        | object_store::Error::PermissionDenied { .. } => crate::exit::CONFIG,
        _ => crate::exit::UNAVAILABLE,
    }
}

/// Opens the container or bucket `url` names, with the environment's credentials and `options`.
pub fn open(url: &StoreUrl, options: &BTreeMap<String, String>) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let bad = |e: object_store::Error| StorageError::Open { url: url.to_string(), message: e.to_string() };
    let root = url.root();
    Ok(match url.cloud {
        Cloud::Azure => {
            use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
            let mut b = MicrosoftAzureBuilder::from_env().with_url(root.as_str());
            for (k, v) in options {
                b = b.with_config(AzureConfigKey::from_str(&k.to_ascii_lowercase()).map_err(bad)?, v);
            }
            Arc::new(b.build().map_err(bad)?)
        }
        Cloud::S3 => {
            use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
            let mut b = AmazonS3Builder::from_env().with_url(root.as_str());
            for (k, v) in options {
                b = b.with_config(AmazonS3ConfigKey::from_str(&k.to_ascii_lowercase()).map_err(bad)?, v);
            }
            Arc::new(b.build().map_err(bad)?)
        }
    })
}

/// Who holds a lease, and until when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LeaseHolder {
    pub run_id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: String,
    pub expires_at: String,
    /// Set when the holder let go: the next run takes the lease at once.
    #[serde(default)]
    pub released: bool,
}

impl LeaseHolder {
    fn expired(&self, now: DateTime<Utc>) -> bool {
        self.released || DateTime::parse_from_rfc3339(&self.expires_at).map_or(true, |t| t.with_timezone(&Utc) <= now)
    }
}

impl std::fmt::Display for LeaseHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "run {} (pid {} on {}, started {}), lease until {}",
            self.run_id, self.pid, self.host, self.started_at, self.expires_at
        )
    }
}

/// The run lock on an object store: `<mart>/_lease.json`, created only if absent
/// (`PutMode::Create`), renewed by its holder every third of the TTL with update-if-match, and
/// taken over (update-if-match again, so only one taker wins) once it has expired. A run killed
/// with SIGKILL blocks the next one until its lease expires, never longer.
#[derive(Debug)]
pub struct Lease {
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    url: String,
    holder: LeaseHolder,
    version: Arc<Mutex<UpdateVersion>>,
    renewer: tokio::task::JoinHandle<()>,
    /// The holder whose expired lease this run took over.
    pub took_over: Option<LeaseHolder>,
}

fn holder_bytes(h: &LeaseHolder) -> PutPayload {
    PutPayload::from(serde_json::to_vec_pretty(h).expect("a holder serialises"))
}

fn version_of(r: &object_store::PutResult) -> UpdateVersion {
    UpdateVersion { e_tag: r.e_tag.clone(), version: r.version.clone() }
}

impl Lease {
    pub async fn acquire(
        store: Arc<dyn ObjectStore>,
        at: &StoreUrl,
        run_id: &str,
        ttl: Duration,
    ) -> Result<Lease, StorageError> {
        let lease_url = at.join("_lease.json");
        let path = lease_url.prefix();
        let url = lease_url.to_string();
        let err = |source| StorageError::Store { url: url.clone(), source };
        let now = Utc::now();
        let holder = LeaseHolder {
            run_id: run_id.to_string(),
            host: crate::lock::hostname(),
            pid: std::process::id(),
            started_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            expires_at: (now + ttl).to_rfc3339_opts(SecondsFormat::Secs, true),
            released: false,
        };
        let create = PutOptions { mode: PutMode::Create, ..Default::default() };
        let mut took_over = None;
        // A few rounds: between our failed create and our read, the holder may release, or
        // another run may take the lease over.
        let mut version = None;
        for _ in 0..5 {
            match store.put_opts(&path, holder_bytes(&holder), create.clone()).await {
                Ok(r) => {
                    version = Some(version_of(&r));
                    break;
                }
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(StorageError::Open {
                        url: at.to_string(),
                        message: format!(
                            "the container or bucket `{}` does not exist: create it first",
                            at.container()
                        ),
                    });
                }
                Err(e) => return Err(err(e)),
            }
            let current = match store.get(&path).await {
                Ok(g) => g,
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(err(e)),
            };
            let seen = UpdateVersion { e_tag: current.meta.e_tag.clone(), version: current.meta.version.clone() };
            let bytes = current.bytes().await.map_err(err)?;
            let previous: Option<LeaseHolder> = serde_json::from_slice(&bytes).ok();
            match &previous {
                Some(p) if !p.expired(Utc::now()) => {
                    return Err(StorageError::Held { url: url.clone(), holder: Box::new(p.clone()) });
                }
                _ => {}
            }
            let update = PutOptions { mode: PutMode::Update(seen), ..Default::default() };
            match store.put_opts(&path, holder_bytes(&holder), update).await {
                Ok(r) => {
                    took_over = previous.filter(|p| !p.released);
                    version = Some(version_of(&r));
                    break;
                }
                Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(err(e)),
            }
        }
        let Some(version) = version else {
            return Err(StorageError::Open { url, message: "the lease kept changing hands; try again".into() });
        };
        if let Some(p) = &took_over {
            tracing::warn!(previous = %p, "took over an expired lease: that run died without releasing it");
        }
        let version = Arc::new(Mutex::new(version));
        let renewer = tokio::spawn(renew(store.clone(), path.clone(), holder.clone(), version.clone(), ttl));
        Ok(Lease { store, path, url, holder, version, renewer, took_over })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Lets go of the lease: marks it released (if it is still ours), so the next run need not
    /// wait for it to expire.
    pub async fn release(self) {
        self.renewer.abort();
        let mut h = self.holder.clone();
        h.released = true;
        h.expires_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let seen = self.version.lock().expect("lease version").clone();
        let update = PutOptions { mode: PutMode::Update(seen), ..Default::default() };
        if let Err(e) = self.store.put_opts(&self.path, holder_bytes(&h), update).await {
            tracing::warn!(lease = %self.url, error = %e, "the lease could not be released; it expires by itself");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

async fn renew(
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    mut holder: LeaseHolder,
    version: Arc<Mutex<UpdateVersion>>,
    ttl: Duration,
) {
    loop {
        tokio::time::sleep(ttl / 3).await;
        holder.expires_at = (Utc::now() + ttl).to_rfc3339_opts(SecondsFormat::Secs, true);
        let seen = version.lock().expect("lease version").clone();
        let update = PutOptions { mode: PutMode::Update(seen), ..Default::default() };
        match store.put_opts(&path, holder_bytes(&holder), update).await {
            Ok(r) => *version.lock().expect("lease version") = version_of(&r),
            Err(object_store::Error::Precondition { .. }) => {
                tracing::error!("the lease was taken by another run; this run's publish may conflict");
                return;
            }
            Err(e) => tracing::warn!(error = %e, "the lease could not be renewed; trying again"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_are_told_from_paths() {
        assert!(StoreUrl::parse("/srv/mart").is_none());
        assert!(StoreUrl::parse("var/mart").is_none());
        let az = StoreUrl::parse("az://mart/scrutiny/").unwrap().unwrap();
        assert_eq!((az.cloud(), az.container(), az.prefix().as_ref()), (Cloud::Azure, "mart", "scrutiny"));
        let abfss = StoreUrl::parse("abfss://mart@council.dfs.core.windows.net/bi/scrutiny").unwrap().unwrap();
        assert_eq!((abfss.container(), abfss.prefix().as_ref()), ("mart", "bi/scrutiny"));
        let s3 = StoreUrl::parse("s3://bucket/a/b").unwrap().unwrap();
        assert_eq!(
            (s3.cloud(), s3.container(), s3.join("metrics").prefix().as_ref()),
            (Cloud::S3, "bucket", "a/b/metrics")
        );
        assert_eq!(s3.sibling("cp").to_string(), "s3://bucket/a/cp");
    }

    #[test]
    fn unusable_urls_say_why() {
        let e = StoreUrl::parse("gs://bucket/x").unwrap().unwrap_err();
        assert!(e.contains("az://"), "{e}");
        let e = StoreUrl::parse("abfss://council.dfs.core.windows.net/x").unwrap().unwrap_err();
        assert!(e.contains("container@account"), "{e}");
        assert!(StoreUrl::parse("s3://bucket/x?secret=1").unwrap().is_err());
    }

    #[test]
    fn secrets_and_unknown_keys_in_options_are_refused() {
        let opts: BTreeMap<String, String> = [("account_key", "x"), ("use_emulator", "true"), ("colour", "blue")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        let p = check_options(Cloud::Azure, &opts);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().any(|m| m.contains("`account_key` is a secret")));
        assert!(p.iter().any(|m| m.contains("`colour` is not an option")));
        let opts: BTreeMap<String, String> =
            [("aws_secret_access_key", "x"), ("region", "eu-west-2")].map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(check_options(Cloud::S3, &opts).len(), 1);
    }

    fn memory() -> (Arc<dyn ObjectStore>, StoreUrl) {
        (Arc::new(object_store::memory::InMemory::new()), StoreUrl::parse("s3://b/mart").unwrap().unwrap())
    }

    #[tokio::test]
    async fn a_second_run_is_refused_while_the_lease_lives_and_takes_it_when_released() {
        let (store, at) = memory();
        let first = Lease::acquire(store.clone(), &at, "run-1", Duration::from_secs(60)).await.unwrap();
        match Lease::acquire(store.clone(), &at, "run-2", Duration::from_secs(60)).await {
            Err(StorageError::Held { holder, .. }) => assert_eq!(holder.run_id, "run-1"),
            other => panic!("expected the lease to be held: {other:?}"),
        }
        first.release().await;
        let second = Lease::acquire(store, &at, "run-2", Duration::from_secs(60)).await.unwrap();
        assert_eq!(second.took_over, None, "a released lease is not a take-over");
    }

    #[tokio::test]
    async fn an_expired_lease_of_a_killed_run_is_taken_over() {
        let (store, at) = memory();
        let dead = LeaseHolder {
            run_id: "killed".into(),
            host: "pod-a".into(),
            pid: 1,
            started_at: "2026-01-01T00:00:00Z".into(),
            expires_at: "2026-01-01T00:15:00Z".into(),
            released: false,
        };
        store.put(&at.join("_lease.json").prefix(), holder_bytes(&dead)).await.unwrap();
        let l = Lease::acquire(store, &at, "run-2", Duration::from_secs(60)).await.unwrap();
        assert_eq!(l.took_over.as_ref().map(|h| h.run_id.as_str()), Some("killed"));
    }
}
