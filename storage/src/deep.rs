//! Deep storage: where published segment files live for good, behind `object_store`.
//!
//! - Layout, as Druid's `DataSegmentPusher.getDefaultStorageDir`:
//!   `<datasource>/<start>_<end>/<version>/<partitionNum>/index.seg`. Druid's local pusher
//!   keeps the `:` of ISO timestamps in these names; only its HDFS pusher replaces them with
//!   `_`. Henge always replaces `:` (and the characters object stores reserve) with `_`, so
//!   the same key works on every filesystem and object store.
//! - Load specs are Druid's: `{"type":"local","path":"/abs/.../index.seg"}`.
//! - Only `file://` URLs exist today. The store is kept as `Arc<dyn ObjectStore>` and the
//!   load-spec mapping is the only local-specific part, so S3 (`s3_zip` load specs) adds a
//!   case without changing callers.
//! - Pushes are streamed as multipart uploads (the local store fsyncs and renames on
//!   completion); pulls are streamed into a temporary file that is fsynced and renamed
//!   ([`henge_common::fsutil::write_atomic_with`]), so a crash never leaves a partial file
//!   under the final name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use henge_common::fsutil;
use henge_segment::time::format_timestamp;
use henge_segment::SegmentId;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::error::{Error, Result};

/// File name of a segment inside its storage directory.
pub const SEGMENT_FILE_NAME: &str = "index.seg";
/// Size of one multipart upload part (and of the read buffer feeding it).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently during a push.
const MAX_CONCURRENT_PARTS: usize = 4;
/// Chunks buffered between the download stream and the file writer.
const PULL_BUFFER_CHUNKS: usize = 4;

/// Druid's storage directory of a segment, with every component made safe for any
/// filesystem or object store: `<ds>/<start>_<end>/<version>/<partitionNum>`.
pub fn storage_dir(id: &SegmentId) -> String {
    let interval = format!(
        "{}_{}",
        format_timestamp(id.interval.start),
        format_timestamp(id.interval.end)
    );
    [
        safe_component(&id.datasource),
        safe_component(&interval),
        safe_component(&id.version),
        id.partition.to_string(),
    ]
    .join("/")
}

/// Replaces `:` (Druid's HDFS rule) and the characters object stores reserve with `_`.
fn safe_component(component: &str) -> String {
    let replaced: String = component
        .chars()
        .map(|character| {
            let reserved = character == ':'
                || character.is_ascii_control()
                || "/\\{}^%`[]\"<>~#|*?".contains(character);
            if reserved {
                '_'
            } else {
                character
            }
        })
        .collect();
    match replaced.as_str() {
        "" | "." | ".." => format!("_{replaced}"),
        _ => replaced,
    }
}

/// Deep storage over an object store.
#[derive(Debug, Clone)]
pub struct DeepStorage {
    store: Arc<dyn ObjectStore>,
    /// Canonical root directory of the local store; load-spec paths live under it.
    root: PathBuf,
}

/// One piece of a download handed to the blocking file writer.
enum Piece {
    Data(Bytes),
    Done,
}

impl DeepStorage {
    /// Opens deep storage from a URL. Supported: `file:///absolute/path` (created if
    /// missing; the path is taken literally, without percent-decoding).
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let path = url
            .strip_prefix("file://")
            .ok_or_else(|| invalid("only file:// deep storage is supported so far"))?;
        if !path.starts_with('/') {
            return Err(invalid("the path of a file:// url must be absolute"));
        }
        let path = Path::new(path);
        std::fs::create_dir_all(path).map_err(Error::io(path))?;
        let root = std::fs::canonicalize(path).map_err(Error::io(path))?;
        let store = LocalFileSystem::new_with_prefix(&root)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        tracing::info!(root = %root.display(), "opened local deep storage");
        Ok(Self {
            store: Arc::new(store),
            root,
        })
    }

    /// Uploads a finished segment file; returns its load spec.
    pub async fn push(&self, id: &SegmentId, local_file: &Path) -> Result<serde_json::Value> {
        let relative = format!("{}/{SEGMENT_FILE_NAME}", storage_dir(id));
        let location = ObjectPath::parse(&relative).map_err(object_store::Error::from)?;
        let mut file = tokio::fs::File::open(local_file)
            .await
            .map_err(Error::io(local_file))?;
        let upload = self.store.put_multipart(&location).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match copy_to_upload(&mut file, local_file, &mut writer).await {
            Ok(()) => {
                writer.finish().await?;
            }
            Err(err) => {
                if let Err(abort_err) = writer.abort().await {
                    tracing::warn!(segment_id = %id, error = %abort_err, "failed to abort segment upload");
                }
                return Err(err);
            }
        }
        let path = self.root.join(&relative);
        tracing::info!(segment_id = %id, path = %path.display(), "pushed segment to deep storage");
        Ok(json!({ "type": "local", "path": path.to_string_lossy() }))
    }

    /// Downloads the file named by `load_spec` to `dest`: streamed into a temporary file,
    /// fsynced, then renamed, so `dest` is either absent or complete.
    pub async fn pull(&self, load_spec: &serde_json::Value, dest: &Path) -> Result<()> {
        let location = self.location_of(load_spec)?;
        let download = self.store.get(&location).await?;
        let expected_len = download.meta.size;
        let mut stream = download.into_stream();
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Piece>(PULL_BUFFER_CHUNKS);
        let dest_path = dest.to_path_buf();
        let writer = tokio::task::spawn_blocking(move || {
            fsutil::write_atomic_with(&dest_path, |file| {
                let mut written = 0u64;
                loop {
                    match receiver.blocking_recv() {
                        Some(Piece::Data(chunk)) => {
                            file.write_all(&chunk)?;
                            written += chunk.len() as u64;
                        }
                        Some(Piece::Done) if written == expected_len => return Ok(()),
                        Some(Piece::Done) => {
                            return Err(std::io::Error::other(format!(
                                "downloaded {written} bytes, expected {expected_len}"
                            )))
                        }
                        None => return Err(std::io::Error::other("download interrupted")),
                    }
                }
            })
        });
        // The sender moves into this block: when it ends, early or not, the writer sees
        // either `Done` or a closed channel (and then discards the temporary file).
        let fed = async move {
            while let Some(chunk) = stream.next().await {
                if sender.send(Piece::Data(chunk?)).await.is_err() {
                    // The writer failed; its error is reported below.
                    return Ok(());
                }
            }
            let _ = sender.send(Piece::Done).await;
            Ok::<(), Error>(())
        }
        .await;
        let written = writer.await.map_err(|err| Error::Task(err.to_string()))?;
        fed?;
        written.map_err(Error::io(dest))
    }

    /// Deletes the file named by `load_spec`; deleting a missing file is `Ok`.
    pub async fn delete(&self, load_spec: &serde_json::Value) -> Result<()> {
        let location = self.location_of(load_spec)?;
        match self.store.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }

    /// Maps a load spec to the object it names.
    fn location_of(&self, load_spec: &serde_json::Value) -> Result<ObjectPath> {
        let invalid = |reason: String| Error::InvalidLoadSpec {
            spec: load_spec.to_string(),
            reason,
        };
        let kind_opt = load_spec.get("type").and_then(serde_json::Value::as_str);
        if kind_opt != Some("local") {
            return Err(invalid(
                "only \"local\" load specs are supported so far".into(),
            ));
        }
        let path = load_spec
            .get("path")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("missing \"path\"".into()))?;
        let relative = Path::new(path).strip_prefix(&self.root).map_err(|_| {
            invalid(format!(
                "path is outside deep storage root {}",
                self.root.display()
            ))
        })?;
        let relative = relative
            .to_str()
            .ok_or_else(|| invalid("path is not utf-8".into()))?;
        ObjectPath::parse(relative).map_err(|err| invalid(err.to_string()))
    }
}

async fn copy_to_upload(
    file: &mut tokio::fs::File,
    path: &Path,
    writer: &mut WriteMultipart,
) -> Result<()> {
    let mut buffer = vec![0u8; PART_SIZE];
    loop {
        let read = file.read(&mut buffer).await.map_err(Error::io(path))?;
        if read == 0 {
            return Ok(());
        }
        writer.wait_for_capacity(MAX_CONCURRENT_PARTS).await?;
        writer.write(&buffer[..read]);
    }
}

#[cfg(test)]
mod tests {
    use henge_segment::Interval;

    use super::*;

    #[test]
    fn storage_dir_follows_druid_without_colons() {
        let id = SegmentId {
            datasource: "wikipedia".to_string(),
            interval: Interval::parse("2015-09-12/2015-09-13").unwrap(),
            version: "2024-01-01T00:00:00.000Z".to_string(),
            partition: 3,
        };
        assert_eq!(
            storage_dir(&id),
            "wikipedia/2015-09-12T00_00_00.000Z_2015-09-13T00_00_00.000Z/2024-01-01T00_00_00.000Z/3"
        );
        assert_eq!(safe_component(".."), "_..");
        assert_eq!(safe_component("a/b?c"), "a_b_c");
    }
}
