//! The mart as Delta Lake tables (`mart_format: delta`), on an object store or a local disk: each
//! mart table is a Delta table at `<mart root>/<table>`, and a run's publish is one overwrite
//! commit per table, `runs` last. Each commit is atomic, but seven commits are not, so readers
//! that need one consistent run read `_current.json`, written only after every table has
//! committed, which names the Delta version of each table (and where the report is). A run that
//! fails or is killed between commits leaves `_current.json` naming the previous run; the next
//! run reads the history from the versions `_current.json` names, never from a half-published
//! run's commits.
//!
//! delta-rs is used without its DataFusion integration (which would switch on every default
//! feature of DataFusion in this build): batches are written with its `RecordBatchWriter` and
//! committed with `CommitBuilder`, the way its own write operation does.

use crate::MartError;
use chrono::Utc;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use deltalake_core::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake_core::kernel::{Action, StructType};
use deltalake_core::logstore::{LogStore, LogStoreFactory, StorageConfig, default_logstore, logstore_factories};
use deltalake_core::operations::create::CreateBuilder;
use deltalake_core::protocol::{DeltaOperation, SaveMode};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use deltalake_core::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Once};
use url::Url;

pub const CURRENT_JSON: &str = "_current.json";

/// `_current.json`: the run readers should see, and the Delta version of each of its tables.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Current {
    pub run_id: String,
    pub published_at: String,
    /// Table name to its Delta version for this run.
    pub tables: BTreeMap<String, u64>,
    /// Document name (`report.html`) to its path under the mart root.
    pub documents: BTreeMap<String, String>,
    /// The runs whose versions are kept (`storage.keep_versions`), newest first, this one included.
    #[serde(default)]
    pub kept: Vec<KeptRun>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeptRun {
    pub run_id: String,
    pub tables: BTreeMap<String, u64>,
}

/// Where the Delta mart is: the root's URL (`az://mart/scrutiny`, `file:///srv/mart`) and the
/// store holding it, opened at the store's root.
#[derive(Debug, Clone)]
pub struct DeltaRoot {
    url: Url,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
}

impl DeltaRoot {
    /// A root in an object store: `store` is opened at the container or bucket of `url`.
    pub fn in_store(url: &scrutiny_core::storage::StoreUrl, store: Arc<dyn ObjectStore>) -> DeltaRoot {
        register_log_stores();
        DeltaRoot { url: url.url().clone(), store, prefix: url.prefix() }
    }

    /// A root on the local disk, created (owner-only) if missing.
    pub fn local(dir: &std::path::Path) -> Result<DeltaRoot, MartError> {
        scrutiny_core::fs::create_private_dir(dir).map_err(crate::io(dir))?;
        let abs = std::fs::canonicalize(dir).map_err(crate::io(dir))?;
        let bad = |message: String| MartError::Store { location: dir.display().to_string(), message };
        let url = Url::from_directory_path(&abs).map_err(|()| bad("not an absolute path".into()))?;
        let url = Url::parse(url.as_str().trim_end_matches('/')).map_err(|e| bad(e.to_string()))?;
        let prefix = StorePath::from_absolute_path(&abs).map_err(|e| bad(e.to_string()))?;
        Ok(DeltaRoot { url, store: Arc::new(object_store::local::LocalFileSystem::new()), prefix })
    }

    /// `name` (which may hold `/`) under the root.
    fn child(&self, name: &str) -> StorePath {
        self.prefix.parts().chain(StorePath::from(name).parts()).collect()
    }

    fn table_url(&self, table: &str) -> Url {
        let mut url = self.url.clone();
        let path = format!("{}/{table}", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }

    fn error(&self, what: impl std::fmt::Display) -> impl FnOnce(DeltaTableError) -> MartError + '_ {
        let location = format!("{}/{what}", self.url);
        move |e| MartError::Store { location, message: e.to_string() }
    }

    fn store_error(&self, what: &str) -> impl FnOnce(object_store::Error) -> MartError + '_ {
        let location = format!("{}/{what}", self.url);
        move |e| MartError::Store { location, message: e.to_string() }
    }

    pub fn location(&self) -> String {
        self.url.to_string()
    }

    /// `_current.json`, or nothing before the first publish.
    pub async fn current(&self) -> Result<Option<Current>, MartError> {
        match self.store.get(&self.child(CURRENT_JSON)).await {
            Ok(g) => {
                let bytes = g.bytes().await.map_err(self.store_error(CURRENT_JSON))?;
                serde_json::from_slice(&bytes).map(Some).map_err(|e| MartError::Previous {
                    path: format!("{}/{CURRENT_JSON}", self.url).into(),
                    message: e.to_string(),
                })
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.store_error(CURRENT_JSON)(e)),
        }
    }

    fn builder(&self, table: &str) -> Result<DeltaTableBuilder, MartError> {
        let url = self.table_url(table);
        Ok(DeltaTableBuilder::from_url(url.clone())
            .map_err(self.error(table))?
            .with_storage_backend(self.store.clone(), url))
    }

    /// Every row of `table` at `version`.
    pub async fn read(&self, table: &str, version: u64) -> Result<Vec<RecordBatch>, MartError> {
        let t = self.builder(table)?.with_version(version).load().await.map_err(self.error(table))?;
        let log_store = t.log_store();
        let files: Vec<String> = t
            .snapshot()
            .map_err(self.error(table))?
            .snapshot()
            .file_views(log_store.as_ref(), None)
            .map_ok(|f| f.path().to_string())
            .try_collect()
            .await
            .map_err(self.error(table))?;
        let store = t.object_store();
        let mut out = Vec::new();
        // Mart tables are small (thousands of rows): each file is read whole.
        for f in files {
            let bad = |message: String| MartError::Previous {
                path: format!("{}/{f}", self.table_url(table)).into(),
                message,
            };
            let get = store.get(&StorePath::from(f.as_str())).await.map_err(|e| bad(e.to_string()))?;
            let bytes = get.bytes().await.map_err(|e| bad(e.to_string()))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| bad(e.to_string()))?;
            let batches = builder.build().map_err(|e| bad(e.to_string()))?.collect::<Result<Vec<_>, _>>();
            let batches = batches.map_err(|e| bad(e.to_string()))?;
            out.extend(batches);
        }
        if out.is_empty() {
            // An empty table still has its columns (the SQL Server sink creates it with them).
            let schema = t.snapshot().map_err(self.error(table))?.snapshot().arrow_schema();
            out.push(RecordBatch::new_empty(schema));
        }
        Ok(out)
    }

    /// The table, created (empty, with `schema`) if this is its first publish.
    async fn open_or_create(&self, table: &str, schema: &Schema) -> Result<DeltaTable, MartError> {
        let mut t = self.builder(table)?.build().map_err(self.error(table))?;
        if t.verify_deltatable_existence().await.map_err(self.error(table))? {
            t.load().await.map_err(self.error(table))?;
            return Ok(t);
        }
        let columns = delta_columns(schema)
            .map_err(|message| MartError::Store { location: self.table_url(table).to_string(), message })?;
        CreateBuilder::new()
            .with_log_store(t.log_store())
            .with_table_name(table)
            .with_comment(format!("scrutiny mart: {table} (mart-contract.md)"))
            .with_columns(columns.fields().cloned())
            .with_save_mode(SaveMode::Ignore)
            .await
            .map_err(self.error(table))
    }

    /// Replaces the table's rows with `batch` in one commit; returns the new version.
    async fn overwrite(&self, table: &str, batch: &RecordBatch, run_id: &str) -> Result<u64, MartError> {
        let mut t = self.open_or_create(table, &batch.schema()).await?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")))
            .set_created_by(format!("scrutiny {}", env!("CARGO_PKG_VERSION")))
            .build();
        let mut writer = RecordBatchWriter::for_table(&t).map_err(self.error(table))?.with_writer_properties(props);
        let conformed = conform(batch, writer.arrow_schema())
            .map_err(|message| MartError::Store { location: self.table_url(table).to_string(), message })?;
        if conformed.num_rows() > 0 {
            writer.write(conformed).await.map_err(self.error(table))?;
        }
        let mut actions: Vec<Action> =
            writer.flush().await.map_err(self.error(table))?.into_iter().map(Action::Add).collect();
        let log_store = t.log_store();
        let snapshot = t.snapshot().map_err(self.error(table))?;
        let removes: Vec<Action> = snapshot
            .snapshot()
            .file_views(log_store.as_ref(), None)
            .map_ok(|f| Action::Remove(f.remove_action(true)))
            .try_collect()
            .await
            .map_err(self.error(table))?;
        actions.extend(removes);
        let operation = DeltaOperation::Write { mode: SaveMode::Overwrite, partition_by: None, predicate: None };
        let props = CommitProperties::default()
            .with_metadata([("scrutiny_run_id".to_string(), serde_json::Value::String(run_id.to_string()))]);
        let finalized = CommitBuilder::from(props)
            .with_actions(actions)
            .build(Some(snapshot), log_store.clone(), operation)
            .await
            .map_err(self.error(table))?;
        let version = finalized.version();
        t.update_state().await.map_err(self.error(table))?;
        Ok(version)
    }

    async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), MartError> {
        self.store.put(&self.child(name), PutPayload::from(bytes)).await.map(|_| ()).map_err(self.store_error(name))
    }

    /// Publishes `tables` (in order, `runs` last) and `documents`, then `_current.json`.
    pub async fn publish(
        &self,
        run_id: &str,
        tables: &[(&'static str, RecordBatch)],
        documents: Vec<(String, Vec<u8>)>,
        previous: Option<&Current>,
        keep: usize,
    ) -> Result<Current, MartError> {
        let mut versions = BTreeMap::new();
        for (i, (name, batch)) in tables.iter().enumerate() {
            if i > 0 {
                scrutiny_core::fault::point("publish:between-commits");
            }
            let v = self.overwrite(name, batch, run_id).await?;
            tracing::debug!(table = name, version = v, "committed");
            versions.insert(name.to_string(), v);
        }
        let mut docs = BTreeMap::new();
        for (name, bytes) in documents {
            let path = format!("reports/{run_id}/{name}");
            self.put(&path, bytes).await?;
            docs.insert(name, path);
        }
        scrutiny_core::fault::point("publish:before-current");
        let mut kept = vec![KeptRun { run_id: run_id.to_string(), tables: versions.clone() }];
        kept.extend(previous.map(|p| p.kept.clone()).unwrap_or_default().into_iter().filter(|k| k.run_id != run_id));
        kept.truncate(keep.max(1));
        let current = Current {
            run_id: run_id.to_string(),
            published_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            tables: versions,
            documents: docs,
            kept,
        };
        let json = serde_json::to_vec_pretty(&current).expect("serialises");
        // One PUT replaces the object whole: readers see the old `_current.json` or the new one.
        self.put(CURRENT_JSON, json).await?;
        Ok(current)
    }

    /// Removes the data files that no kept run needs (`storage.keep_versions`), and the reports
    /// of runs no longer kept. A vacuum commits two versions of its own to each table it
    /// cleans, so only tables with something to remove are vacuumed.
    pub async fn retain(&self, current: &Current) -> Result<Vec<String>, MartError> {
        let mut cleaned = Vec::new();
        for table in current.tables.keys() {
            let keep: Vec<u64> = current.kept.iter().filter_map(|k| k.tables.get(table).copied()).collect();
            let t = self.builder(table)?.load().await.map_err(self.error(table))?;
            let vacuum = |dry_run: bool| {
                t.clone()
                    .vacuum()
                    .with_keep_versions(&keep)
                    .with_retention_period(chrono::Duration::zero())
                    .with_enforce_retention_duration(false)
                    .with_dry_run(dry_run)
            };
            let (_, dry) = vacuum(true).await.map_err(self.error(table))?;
            if dry.files_deleted.is_empty() {
                continue;
            }
            let (_, done) = vacuum(false).await.map_err(self.error(table))?;
            cleaned.push(format!("{table}: {} files", done.files_deleted.len()));
        }
        let kept_runs: Vec<&str> = current.kept.iter().map(|k| k.run_id.as_str()).collect();
        let reports = self.child("reports");
        let listed = self.store.list_with_delimiter(Some(&reports)).await.map_err(self.store_error("reports"))?;
        for dir in listed.common_prefixes {
            let run = dir.filename().unwrap_or_default().to_string();
            if kept_runs.contains(&run.as_str()) {
                continue;
            }
            let objects: Vec<_> = self
                .store
                .list(Some(&dir))
                .map_ok(|m| m.location)
                .try_collect()
                .await
                .map_err(self.store_error("reports"))?;
            let mut deleted = self.store.delete_stream(futures::stream::iter(objects.into_iter().map(Ok)).boxed());
            while let Some(r) = deleted.next().await {
                r.map_err(self.store_error("reports"))?;
            }
            cleaned.push(format!("reports/{run}"));
        }
        Ok(cleaned)
    }
}

/// The Delta schema for a mart table: unsigned integers become `long`, which Delta has.
fn delta_columns(schema: &Schema) -> Result<StructType, String> {
    use datafusion::arrow::datatypes::{DataType, Field};
    use deltalake_core::kernel::engine::arrow_conversion::TryFromArrow;
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => f.as_ref().clone().with_data_type(DataType::Int64),
            _ => f.as_ref().clone(),
        })
        .collect();
    StructType::try_from_arrow(&Schema::new(fields)).map_err(|e| e.to_string())
}

/// `batch` cast to the table's schema (Delta's timestamps are microseconds, its integers signed).
fn conform(batch: &RecordBatch, schema: SchemaRef) -> Result<RecordBatch, String> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let c = batch.column_by_name(f.name()).ok_or(format!("no column `{}`", f.name()))?;
            datafusion::arrow::compute::cast(c, f.data_type()).map_err(|e| format!("`{}`: {e}", f.name()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema, columns).map_err(|e| e.to_string())
}

/// `batch` with its timestamps as the mart's milliseconds (UTC), as read back from Delta.
pub fn timestamps_in_milliseconds(batch: &RecordBatch) -> Result<RecordBatch, String> {
    use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
    let ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(..) => f.as_ref().clone().with_data_type(ms.clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    conform(batch, Arc::new(Schema::new(fields)))
}

/// delta-rs knows `file://` and `memory://`; Azure and S3 stores are ours, opened with the
/// environment's credentials, so their logs use its default log store, which commits with a
/// conditional put (`PutMode::Create`): no lock service is needed, on Azure or on S3.
fn register_log_stores() {
    #[derive(Debug)]
    struct Conditional;
    impl LogStoreFactory for Conditional {
        fn with_options(
            &self,
            prefixed: deltalake_core::logstore::ObjectStoreRef,
            root: deltalake_core::logstore::ObjectStoreRef,
            location: &Url,
            options: &StorageConfig,
        ) -> deltalake_core::DeltaResult<Arc<dyn LogStore>> {
            Ok(default_logstore(prefixed, root, location, options))
        }
    }
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for scheme in ["az", "abfs", "abfss", "azure", "s3", "s3a"] {
            logstore_factories().insert(Url::parse(&format!("{scheme}://")).expect("scheme"), Arc::new(Conditional));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray, TimestampMillisecondArray, UInt32Array};
    use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};

    fn batch(n: i64) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
            Field::new("sort_order", DataType::UInt32, false),
            Field::new("at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec!["a", "b"])),
                Arc::new(Int64Array::from(vec![n, n + 1])),
                Arc::new(UInt32Array::from(vec![1, 2])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_640_995_200_000, 1_640_995_200_001]).with_timezone("UTC"),
                ),
            ],
        )
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_publish_overwrites_and_current_names_the_versions_of_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeltaRoot::local(&dir.path().join("mart")).unwrap();
        assert_eq!(root.current().await.unwrap(), None);
        let first = root.publish("r1", &[("t", batch(10)), ("runs", batch(0))], vec![], None, 2).await.unwrap();
        let second = root
            .publish(
                "r2",
                &[("t", batch(20)), ("runs", batch(0))],
                vec![("report.html".into(), b"<p>".to_vec())],
                Some(&first),
                2,
            )
            .await
            .unwrap();
        assert_eq!(second.tables["t"], first.tables["t"] + 1, "one commit per table per run");
        assert_eq!(root.current().await.unwrap().as_ref(), Some(&second));
        let rows = |b: &[RecordBatch]| b.iter().map(|b| b.num_rows()).sum::<usize>();
        let now = root.read("t", second.tables["t"]).await.unwrap();
        assert_eq!(rows(&now), 2, "overwritten, not appended");
        let n = now[0].column_by_name("n").unwrap().as_any().downcast_ref::<Int64Array>().unwrap().value(0);
        assert_eq!(n, 20);
        assert_eq!(now[0].schema().field_with_name("sort_order").unwrap().data_type(), &DataType::Int64);
        let then = root.read("t", first.tables["t"]).await.unwrap();
        assert_eq!(then[0].column_by_name("n").unwrap().as_any().downcast_ref::<Int64Array>().unwrap().value(0), 10);
        assert!(dir.path().join("mart/reports/r2/report.html").is_file());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn versions_beyond_keep_are_vacuumed_and_kept_ones_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let root = DeltaRoot::local(&dir.path().join("mart")).unwrap();
        let mut previous = None;
        let mut all = Vec::new();
        for run in ["r1", "r2", "r3"] {
            let c = root
                .publish(run, &[("t", batch(1))], vec![("report.html".into(), b"x".to_vec())], previous.as_ref(), 2)
                .await
                .unwrap();
            root.retain(&c).await.unwrap();
            all.push(c.clone());
            previous = Some(c);
        }
        let last = previous.unwrap();
        assert_eq!(last.kept.iter().map(|k| k.run_id.as_str()).collect::<Vec<_>>(), ["r3", "r2"]);
        assert!(root.read("t", all[1].tables["t"]).await.is_ok(), "a kept run's version reads");
        assert!(root.read("t", all[0].tables["t"]).await.is_err(), "a run beyond keep_versions is vacuumed");
        assert!(!dir.path().join("mart/reports/r1/report.html").exists(), "reports of runs not kept go");
        assert!(dir.path().join("mart/reports/r2/report.html").is_file());
    }
}
