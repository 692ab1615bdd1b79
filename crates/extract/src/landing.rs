//! The landing: one immutable directory of Parquet files per run, with its manifest.
//!
//! A landing is built in a hidden `.<run id>.partial` directory and renamed into place only
//! when every table and the manifest are written, so a reader never sees half a landing and a
//! crashed run leaves nothing that looks complete.
//!
//! A landing on object storage (`storage.landing: az://...`, `s3://...`) is built the same way
//! on the local disk, then uploaded to `<root>/<run id>/`, its manifest last: readers require
//! the manifest, so an upload cut short is never taken for a landing. The local copy is then
//! removed, and compute reads the tables from the store.

use chrono::{DateTime, Utc};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use object_store::{ObjectStore, ObjectStoreExt};
use scrutiny_core::fs::{create_private_dir, create_private_file, durable_rename, sync_dir, write_private};
use scrutiny_core::run::{LandedColumn, LandedTable, SourceInfo};
use scrutiny_core::storage::StoreUrl;
use scrutiny_core::{Manifest, Period};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::contract::{Contract, ContractTable};
use crate::error::{ExtractError, io, write};
use crate::files::{Reject, TableRead};

/// A completed landing.
#[derive(Debug, Clone)]
pub struct Landing {
    pub place: Place,
    pub manifest: Manifest,
}

/// Where a landing is.
#[derive(Debug, Clone)]
pub enum Place {
    Dir(PathBuf),
    /// `url` is this run's prefix; `store` is opened at its container or bucket.
    Store {
        store: Arc<dyn ObjectStore>,
        url: StoreUrl,
    },
}

fn store_error(location: impl std::fmt::Display) -> impl FnOnce(object_store::Error) -> ExtractError {
    let location = location.to_string();
    move |source| ExtractError::Store { location, source }
}

impl Landing {
    /// The directory or URL of the landing, for messages and logs.
    pub fn location(&self) -> String {
        match &self.place {
            Place::Dir(d) => d.display().to_string(),
            Place::Store { url, .. } => url.to_string(),
        }
    }

    /// Where compute reads a landed table: a path, or a URL in a store registered with it.
    pub fn table_location(&self, table: &str) -> String {
        match &self.place {
            Place::Dir(d) => d.join(format!("{table}.parquet")).display().to_string(),
            Place::Store { url, .. } => url.join(&format!("{table}.parquet")).to_string(),
        }
    }

    /// The store a landing on object storage is read from, for compute to register.
    pub fn store(&self) -> Option<(url::Url, Arc<dyn ObjectStore>)> {
        match &self.place {
            Place::Dir(_) => None,
            Place::Store { store, url } => Some((url.root(), store.clone())),
        }
    }

    /// Opens the landing of a run in an object store: none without its manifest.
    pub async fn open_in(store: Arc<dyn ObjectStore>, root: &StoreUrl, run_id: &str) -> Result<Self, ExtractError> {
        let url = root.join(run_id);
        let manifest_url = url.join(Manifest::FILE);
        let bytes = match store.get(&manifest_url.prefix()).await {
            Ok(g) => g.bytes().await.map_err(store_error(&manifest_url))?,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(ExtractError::NoLanding { location: url.to_string() });
            }
            Err(e) => return Err(store_error(&manifest_url)(e)),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| ExtractError::BadLine {
            file: manifest_url.to_string().into(),
            line: e.line() as u64,
            message: e.to_string(),
        })?;
        Ok(Self { place: Place::Store { store, url }, manifest })
    }

    /// The most recent complete landing in an object store, if any.
    pub async fn latest_in(store: Arc<dyn ObjectStore>, root: &StoreUrl) -> Result<Option<Self>, ExtractError> {
        let listed = store.list_with_delimiter(Some(&root.prefix())).await.map_err(store_error(root))?;
        let mut ids: Vec<String> =
            listed.common_prefixes.iter().filter_map(|p| p.filename()).map(str::to_string).collect();
        ids.sort();
        while let Some(id) = ids.pop() {
            match Self::open_in(store.clone(), root, &id).await {
                Ok(l) => return Ok(Some(l)),
                // An upload cut short: no manifest, so not a landing.
                Err(ExtractError::NoLanding { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Removes the landings in a store that started before `cutoff`, except `keep`; returns
    /// their run ids. Uploads cut short (no manifest) go by the same rule.
    pub async fn prune_in(
        store: Arc<dyn ObjectStore>,
        root: &StoreUrl,
        cutoff: DateTime<Utc>,
        keep: &str,
    ) -> Result<Vec<String>, ExtractError> {
        use futures::{StreamExt, TryStreamExt};
        let listed = store.list_with_delimiter(Some(&root.prefix())).await.map_err(store_error(root))?;
        let mut removed = Vec::new();
        for prefix in listed.common_prefixes {
            let Some(id) = prefix.filename().map(str::to_string) else { continue };
            let started = chrono::NaiveDateTime::parse_from_str(id.get(..16).unwrap_or(""), "%Y%m%dT%H%M%SZ")
                .ok()
                .map(|t| t.and_utc());
            if id == keep || started.is_none_or(|t| t >= cutoff) {
                continue;
            }
            // The manifest first: a landing half-removed is no longer a landing.
            let url = root.join(&id);
            let _ = store.delete(&url.join(Manifest::FILE).prefix()).await;
            let objects = store.list(Some(&prefix)).map_ok(|m| m.location).boxed();
            let mut deleted = store.delete_stream(objects);
            while let Some(r) = deleted.next().await {
                r.map_err(store_error(&url))?;
            }
            removed.push(id);
        }
        Ok(removed)
    }

    /// Uploads this (local, complete) landing to `root/<run id>/`, the manifest last, checks
    /// each object's size, and removes the local copy.
    pub async fn upload(self, store: Arc<dyn ObjectStore>, root: &StoreUrl) -> Result<Landing, ExtractError> {
        let Place::Dir(dir) = &self.place else { return Ok(self) };
        let url = root.join(&self.manifest.run_id);
        if store.head(&url.join(Manifest::FILE).prefix()).await.is_ok() {
            return Err(ExtractError::LandingExists { path: url.to_string().into() });
        }
        let mut files: Vec<String> = self.manifest.tables.values().map(|t| t.file.clone()).collect();
        if dir.join("rejects.csv").is_file() {
            files.push("rejects.csv".into());
        }
        for name in files {
            let path = dir.join(&name);
            let target = url.join(&name);
            let mut from = tokio::fs::File::open(&path).await.map_err(io(&path))?;
            let mut to = object_store::buffered::BufWriter::new(store.clone(), target.prefix());
            tokio::io::copy(&mut from, &mut to).await.map_err(|e| ExtractError::Store {
                location: target.to_string(),
                source: object_store::Error::Generic { store: "upload", source: Box::new(e) },
            })?;
            tokio::io::AsyncWriteExt::shutdown(&mut to).await.map_err(|e| ExtractError::Store {
                location: target.to_string(),
                source: object_store::Error::Generic { store: "upload", source: Box::new(e) },
            })?;
            let local = std::fs::metadata(&path).map_err(io(&path))?.len();
            let remote = store.head(&target.prefix()).await.map_err(store_error(&target))?.size;
            if local != remote {
                return Err(ExtractError::CorruptLanding {
                    path: target.to_string().into(),
                    message: format!("{remote} bytes arrived of {local}"),
                });
            }
        }
        scrutiny_core::fault::point("land:before-manifest");
        let manifest_url = url.join(Manifest::FILE);
        let json = serde_json::to_vec_pretty(&self.manifest).expect("manifest serialises");
        store.put(&manifest_url.prefix(), json.into()).await.map_err(store_error(&manifest_url))?;
        if let Err(e) = std::fs::remove_dir_all(dir) {
            tracing::warn!(path = %dir.display(), error = %e, "the local copy of the uploaded landing could not be removed");
        }
        Ok(Landing { place: Place::Store { store, url }, manifest: self.manifest })
    }
    /// Opens the landing of a run.
    pub fn open(root: &Path, run_id: &str) -> Result<Self, ExtractError> {
        let dir = root.join(run_id);
        let path = dir.join(Manifest::FILE);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| ExtractError::BadLine {
            file: path.clone(),
            line: e.line() as u64,
            message: e.to_string(),
        })?;
        Ok(Self { place: Place::Dir(dir), manifest })
    }

    /// Checks that the landing holds every table a pipeline reads (a landing holds the tables
    /// its run's pipeline extracted, which may be fewer than the contract's).
    pub fn require<'a>(&self, tables: impl IntoIterator<Item = &'a str>) -> Result<(), ExtractError> {
        let missing: Vec<String> =
            tables.into_iter().filter(|t| !self.manifest.tables.contains_key(*t)).map(str::to_string).collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ExtractError::IncompleteLanding { path: self.location().into(), missing })
        }
    }

    /// Checks every landed file against its manifest entry (its SHA-256, then its Parquet footer
    /// and row count), so a damaged landing is refused by name before any measure reads it.
    pub async fn verify(&self) -> Result<(), ExtractError> {
        let dir = match &self.place {
            Place::Dir(d) => d,
            Place::Store { store, url } => return self.verify_in(store, url).await,
        };
        let check = |t: &LandedTable| -> Result<(), ExtractError> {
            let path = dir.join(&t.file);
            let bad = |message: String| ExtractError::CorruptLanding { path: path.clone(), message };
            let sha = sha256_file(&path).map_err(|e| bad(e.to_string()))?;
            if sha != t.sha256 {
                return Err(bad(format!("its SHA-256 is {sha}, the manifest says {}", t.sha256)));
            }
            let f = std::fs::File::open(&path).map_err(|e| bad(e.to_string()))?;
            let meta = datafusion::parquet::file::reader::SerializedFileReader::new(f)
                .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
            let rows = datafusion::parquet::file::reader::FileReader::metadata(&meta).file_metadata().num_rows();
            if rows as u64 != t.rows {
                return Err(bad(format!("it holds {rows} rows, the manifest says {}", t.rows)));
            }
            Ok(())
        };
        // Hashing is CPU-bound, so every file is hashed on a thread of its own: at national scale
        // this is most of `compute`'s start-up. The results are read in manifest order, so the
        // first damaged table is the one named, whichever check finishes first.
        let check = &check;
        std::thread::scope(|s| {
            let checks: Vec<_> = self.manifest.tables.values().map(|t| s.spawn(move || check(t))).collect();
            checks.into_iter().map(|c| c.join().expect("a landing check panicked")).collect::<Vec<_>>()
        })
        .into_iter()
        .collect()
    }

    /// The same check on a store: each object's SHA-256, read as a stream.
    async fn verify_in(&self, store: &Arc<dyn ObjectStore>, url: &StoreUrl) -> Result<(), ExtractError> {
        use futures::StreamExt;
        for t in self.manifest.tables.values() {
            let at = url.join(&t.file);
            let bad = |message: String| ExtractError::CorruptLanding { path: at.to_string().into(), message };
            let mut stream = store.get(&at.prefix()).await.map_err(|e| bad(e.to_string()))?.into_stream();
            let mut h = Sha256::new();
            while let Some(chunk) = stream.next().await {
                h.update(chunk.map_err(|e| bad(e.to_string()))?);
            }
            let sha = hex::encode(h.finalize());
            if sha != t.sha256 {
                return Err(bad(format!("its SHA-256 is {sha}, the manifest says {}", t.sha256)));
            }
        }
        Ok(())
    }

    /// The most recent complete landing, if any.
    pub fn latest(root: &Path) -> Result<Option<Self>, ExtractError> {
        let Ok(entries) = std::fs::read_dir(root) else {
            return Ok(None);
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join(Manifest::FILE).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        ids.sort();
        ids.pop().map(|id| Self::open(root, &id)).transpose()
    }
}

pub struct LandingWriter {
    root: PathBuf,
    run_id: String,
    partial: PathBuf,
    tables: BTreeMap<String, LandedTable>,
    /// The tables the landing must hold to be complete.
    expected: Vec<String>,
    finished: bool,
}

fn sha256_file(path: &Path) -> Result<String, ExtractError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

impl LandingWriter {
    /// Starts the landing of `contract`'s tables (the contract, or the part a pipeline reads).
    pub fn create(root: &Path, run_id: &str, contract: &Contract) -> Result<Self, ExtractError> {
        let final_dir = root.join(run_id);
        if final_dir.exists() {
            return Err(ExtractError::LandingExists { path: final_dir });
        }
        let partial = root.join(format!(".{run_id}.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
        }
        create_private_dir(&partial).map_err(write(&partial))?;
        Ok(Self {
            root: root.to_path_buf(),
            run_id: run_id.into(),
            partial,
            tables: BTreeMap::new(),
            expected: contract.names().map(str::to_string).collect(),
            finished: false,
        })
    }

    /// Streams a table's batches into `<table>.parquet` (zstd level 1); memory stays at one batch.
    pub fn write_table(
        &self,
        table: &ContractTable,
        read: TableRead,
        mut progress: impl FnMut(u64),
    ) -> Result<(String, LandedTable), ExtractError> {
        let file_name = format!("{}.parquet", &table.name);
        let path = self.partial.join(&file_name);
        let file = create_private_file(&path).map_err(write(&path))?;
        let props = WriterProperties::builder()
            // Level 1: at national scale it lands 5-10% faster than level 3, in files of the same
            // size (173 MB against level 3's 172), and the compute reads them as fast.
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).expect("valid level")))
            // A row group is held in memory until it is flushed: bound it, so memory does not
            // grow with the table.
            .set_max_row_group_row_count(Some(256 * 1024))
            .set_max_row_group_bytes(Some(32 * 1024 * 1024))
            .set_created_by(format!("scrutiny {}", env!("CARGO_PKG_VERSION")))
            .build();
        let schema = table.schema();
        // The schema is the contract's: a Parquet file that cannot be written is the disk (a
        // full disk is reported on flush as text, so the cause cannot be matched).
        let pq = |e: datafusion::parquet::errors::ParquetError| ExtractError::LandingWrite {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        };
        let mut writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(pq)?;
        let mut rows = 0u64;
        for batch in read.batches {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            writer.write(&batch).map_err(pq)?;
            progress(rows);
        }
        // Durable before the manifest can name it.
        let file = writer.into_inner().map_err(pq)?;
        file.sync_all().map_err(write(&path))?;
        let columns = schema
            .fields()
            .iter()
            .map(|f| LandedColumn {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect();
        let sha256 = sha256_file(&path)?;
        let rows_with_times = read.rows_with_times.load(std::sync::atomic::Ordering::Relaxed);
        Ok((
            table.name.to_string(),
            LandedTable { file: file_name, rows, sha256, columns, rows_with_times, rows_rejected: 0 },
        ))
    }

    pub fn add(&mut self, name: String, table: LandedTable) {
        self.tables.insert(name, table);
    }

    /// Lists the rows left out by `on_bad_row: quarantine` in `rejects.csv`: where and why,
    /// never the rows' values. Counted per table in the manifest.
    pub fn write_rejects(&mut self, rejects: &[Reject]) -> Result<(), ExtractError> {
        let path = self.partial.join("rejects.csv");
        let file = create_private_file(&path).map_err(write(&path))?;
        let mut w = csv::Writer::from_writer(file);
        let csv_err =
            |e: csv::Error| ExtractError::LandingWrite { path: path.clone(), source: std::io::Error::other(e) };
        w.write_record(["table", "file", "line", "column", "reason"]).map_err(csv_err)?;
        for r in rejects {
            w.write_record([
                r.table.as_str(),
                &r.file,
                &r.line.to_string(),
                r.column.as_deref().unwrap_or(""),
                &r.reason,
            ])
            .map_err(csv_err)?;
            if let Some(t) = self.tables.get_mut(&r.table) {
                t.rows_rejected += 1;
            }
        }
        let file = w.into_inner().map_err(|e| csv_err(e.into_error().into()))?;
        file.sync_all().map_err(write(&path))
    }

    /// Writes the manifest and moves the landing into place, durably, only if it holds every
    /// table it was created for: a landing with fewer tables is never complete.
    pub fn finish(
        mut self,
        period: Period,
        started_at: DateTime<Utc>,
        source: SourceInfo,
    ) -> Result<Landing, ExtractError> {
        let missing: Vec<String> = self.expected.iter().filter(|t| !self.tables.contains_key(*t)).cloned().collect();
        if !missing.is_empty() {
            return Err(ExtractError::IncompleteLanding { path: self.partial.clone(), missing });
        }
        let manifest = Manifest {
            run_id: self.run_id.clone(),
            period: period.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            started_at,
            landed_at: Utc::now(),
            source,
            tables: std::mem::take(&mut self.tables),
        };
        let path = self.partial.join(Manifest::FILE);
        let json = serde_json::to_vec_pretty(&manifest).expect("manifest serialises");
        write_private(&path, &json).map_err(write(&path))?;
        sync_dir(&self.partial).map_err(write(&self.partial))?;
        let dir = self.root.join(&self.run_id);
        durable_rename(&self.partial, &dir).map_err(write(&dir))?;
        self.finished = true;
        Ok(Landing { place: Place::Dir(dir), manifest })
    }
}

impl Drop for LandingWriter {
    fn drop(&mut self) {
        // An abandoned landing is removed: nothing half-written is left behind.
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.partial);
        }
    }
}
