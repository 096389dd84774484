//! Where evidence files are kept: an object store (the `object_store` crate), by default a
//! folder on the local file system (`evidence` under `FLOWBOT_DATA`), or an S3-compatible
//! bucket named by URL (`FLOWBOT_EVIDENCE_URL=s3://bucket?endpoint=http://minio:9000`) so that
//! several replicas share the files. Keys come from `domain::evidence::key`.

use std::path::Path;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;

/// Why the evidence store failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("evidence store: {0}")]
    Store(#[from] object_store::Error),
    #[error("evidence store settings: {0}")]
    Settings(String),
}

/// The evidence files; clones share the store.
#[derive(Clone, Debug)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
}

impl EvidenceStore {
    /// The store `url` names (`s3://bucket?endpoint=…&region=…&allow_http=true`, or
    /// `file:///folder`); without one, the folder `evidence` under `data_dir`. S3 credentials
    /// are read from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`).
    pub fn open(url: Option<&str>, data_dir: &Path) -> Result<Self, EvidenceError> {
        let inner: Arc<dyn ObjectStore> = match url {
            None => Arc::new(local(&data_dir.join("evidence"))?),
            Some(url) if url.starts_with("file://") => {
                Arc::new(local(Path::new(url.trim_start_matches("file://")))?)
            }
            Some(url) if url.starts_with("s3://") => Arc::new(s3(url)?),
            Some(_) => {
                return Err(EvidenceError::Settings(
                    "FLOWBOT_EVIDENCE_URL must start with s3:// or file://".into(),
                ));
            }
        };
        Ok(Self { inner })
    }

    /// Keeps `bytes` under `key` (again, if it is there already).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), EvidenceError> {
        self.inner.put(&Key::from(key), bytes.into()).await?;
        Ok(())
    }

    /// The bytes kept under `key`.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, EvidenceError> {
        let found = self.inner.get(&Key::from(key)).await?;
        Ok(found.bytes().await?.to_vec())
    }

    /// The size of the file under `key`; `None` when there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, EvidenceError> {
        match self.inner.head(&Key::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn local(folder: &Path) -> Result<LocalFileSystem, EvidenceError> {
    std::fs::create_dir_all(folder)
        .map_err(|e| EvidenceError::Settings(format!("cannot create {}: {e}", folder.display())))?;
    Ok(LocalFileSystem::new_with_prefix(folder)?)
}

/// `s3://bucket?endpoint=http://host:9000&region=us-east-1&allow_http=true`.
fn s3(url: &str) -> Result<object_store::aws::AmazonS3, EvidenceError> {
    let rest = url.trim_start_matches("s3://");
    let (bucket, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bucket = bucket.trim_end_matches('/');
    if bucket.is_empty() {
        return Err(EvidenceError::Settings("the S3 URL names no bucket".into()));
    }
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        builder = match name {
            "endpoint" => builder
                .with_allow_http(value.starts_with("http://"))
                .with_endpoint(value),
            "region" => builder.with_region(value),
            "allow_http" => builder.with_allow_http(value == "true" || value == "1"),
            "virtual_hosted" => builder.with_virtual_hosted_style_request(value == "true"),
            other => {
                return Err(EvidenceError::Settings(format!(
                    "unknown S3 URL parameter {other:?} (endpoint, region, allow_http, virtual_hosted)"
                )));
            }
        };
    }
    Ok(builder.build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_store_keeps_files_under_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = EvidenceStore::open(None, dir.path()).unwrap();
        assert_eq!(store.size("evidence/1.jpg").await.unwrap(), None);
        store.put("evidence/1.jpg", b"jpeg".to_vec()).await.unwrap();
        assert_eq!(store.get("evidence/1.jpg").await.unwrap(), b"jpeg");
        assert_eq!(store.size("evidence/1.jpg").await.unwrap(), Some(4));
        assert!(dir.path().join("evidence/evidence/1.jpg").exists());
    }

    #[test]
    fn a_bad_url_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(EvidenceStore::open(Some("ftp://x"), dir.path()).is_err());
        assert!(EvidenceStore::open(Some("s3://?endpoint=http://x"), dir.path()).is_err());
        assert!(EvidenceStore::open(Some("s3://b?nope=1"), dir.path()).is_err());
        assert!(
            EvidenceStore::open(
                Some("s3://b?endpoint=http://127.0.0.1:9000&region=x"),
                dir.path()
            )
            .is_ok()
        );
    }
}
