//! The historical's local segment cache: segments pulled from deep storage, verified,
//! recorded in a checksummed manifest, and served through mmap.
//!
//! Layout of the cache directory:
//!
//! ```text
//! <dir>/manifest.json                          which segments are complete (checksummed)
//! <dir>/segments/<deep storage dir>/index.seg  one file per segment, same layout as deep storage
//! ```
//!
//! Invariants:
//! - A segment counts as cached only once the manifest lists it. Files are written under a
//!   temporary name, fsynced and renamed; a segment is added to the manifest only after its
//!   size and CRC32 match its catalog record.
//! - At open, temporary and unlisted files are deleted and every listed file is verified
//!   again (size, then the full CRC32 through `Segment::open`); failures are dropped, to be
//!   loaded again. So a `kill -9` at any point costs at most a re-download.
//! - Segment files are never modified in place (only created by rename and unlinked), so an
//!   mmap stays valid for as long as a query holds the [`Segment`], even after a drop.

mod manifest;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use henge_segment::{DataSegment, Segment, SegmentId};
use memmap2::Mmap;

use crate::deep::{storage_dir, DeepStorage, SEGMENT_FILE_NAME};
use crate::error::{blocking, Error, Result};

/// Subdirectory holding the segment files.
const SEGMENTS_DIR: &str = "segments";
/// Segments verified in parallel at open.
const VERIFY_CONCURRENCY: usize = 4;

/// The local segment cache of a historical.
pub struct SegmentCache {
    dir: PathBuf,
    segments_dir: PathBuf,
    /// What the manifest on disk says; locked across each manifest write.
    manifest: tokio::sync::Mutex<BTreeMap<SegmentId, DataSegment>>,
    /// Opened segments: always a subset of the manifest.
    opened: Mutex<BTreeMap<SegmentId, CachedSegment>>,
    /// One lock per segment being loaded or dropped, so a segment downloads once.
    busy: Mutex<HashMap<SegmentId, Arc<tokio::sync::Mutex<()>>>>,
}

struct CachedSegment {
    record: DataSegment,
    segment: Segment,
}

impl SegmentCache {
    /// Opens the cache in `dir` (created if missing): cleans up after any crash,
    /// re-verifies every recorded segment, and returns the segments that are present, so
    /// the historical can announce them at once.
    pub async fn open(dir: &Path) -> Result<(SegmentCache, Vec<DataSegment>)> {
        let dir = dir.to_path_buf();
        let segments_dir = dir.join(SEGMENTS_DIR);
        let records = {
            let (dir, segments_dir) = (dir.clone(), segments_dir.clone());
            blocking(move || {
                std::fs::create_dir_all(&segments_dir).map_err(Error::io(&segments_dir))?;
                manifest::read(&dir)
            })
            .await?
        };
        let recorded = records.len();
        let verified: Vec<(DataSegment, Result<Segment>)> = futures::stream::iter(records)
            .map(|record| {
                let path = segment_path(&segments_dir, &record.id());
                async move {
                    let checked = record.clone();
                    let result = blocking(move || open_verified(&path, &checked)).await;
                    (record, result)
                }
            })
            .buffer_unordered(VERIFY_CONCURRENCY)
            .collect()
            .await;

        let mut manifest = BTreeMap::new();
        let mut opened = BTreeMap::new();
        for (record, result) in verified {
            let id = record.id();
            match result {
                Ok(segment) => {
                    manifest.insert(id.clone(), record.clone());
                    opened.insert(id, CachedSegment { record, segment });
                }
                Err(err) => {
                    tracing::warn!(segment_id = %id, error = %err, "dropping cached segment that failed verification");
                }
            }
        }
        let keep: BTreeSet<PathBuf> = manifest
            .keys()
            .map(|id| segment_path(&segments_dir, id))
            .collect();
        let kept: Vec<DataSegment> = manifest.values().cloned().collect();
        {
            let (dir, segments_dir, kept) = (dir.clone(), segments_dir.clone(), kept.clone());
            blocking(move || {
                if kept.len() != recorded {
                    manifest::write(&dir, kept)?;
                }
                let removed = manifest::remove_strays(&dir, &segments_dir, &keep)?;
                if removed > 0 {
                    tracing::info!(removed, "removed stray files from segment cache");
                }
                Ok(())
            })
            .await?;
        }
        tracing::info!(dir = %dir.display(), segments = kept.len(), dropped = recorded - kept.len(), "opened segment cache");
        let cache = SegmentCache {
            dir,
            segments_dir,
            manifest: tokio::sync::Mutex::new(manifest),
            opened: Mutex::new(opened),
            busy: Mutex::new(HashMap::new()),
        };
        Ok((cache, kept))
    }

    /// Returns the segment, from the cache if it is there and matches `record`, else pulled
    /// from deep storage, verified against `record` (size, CRC32), recorded and mmapped.
    pub async fn load(&self, record: &DataSegment, deep: &DeepStorage) -> Result<Segment> {
        let id = record.id();
        self.exclusively(&id, self.load_locked(&id, record, deep))
            .await
    }

    /// The segment if it is cached, without touching deep storage.
    pub fn get(&self, id: &SegmentId) -> Option<Segment> {
        self.lock_opened()
            .get(id)
            .map(|cached| cached.segment.clone())
    }

    /// Removes a segment from the cache (manifest first, then the file); returns whether
    /// it was cached. Queries still holding the segment keep reading their mapping.
    pub async fn drop_segment(&self, id: &SegmentId) -> Result<bool> {
        self.exclusively(id, async {
            self.lock_opened().remove(id);
            let was_cached = self.unrecord(id).await?;
            let path = segment_path(&self.segments_dir, id);
            let segments_dir = self.segments_dir.clone();
            blocking(move || remove_with_empty_parents(&path, &segments_dir)).await?;
            if was_cached {
                tracing::info!(segment_id = %id, "dropped segment from cache");
            }
            Ok(was_cached)
        })
        .await
    }

    /// The cached segments' records, sorted by id.
    pub fn list(&self) -> Vec<DataSegment> {
        self.lock_opened()
            .values()
            .map(|cached| cached.record.clone())
            .collect()
    }

    /// Total size of the cached segment files, in bytes.
    pub fn size_bytes(&self) -> u64 {
        self.lock_opened()
            .values()
            .map(|cached| cached.segment.size_bytes())
            .sum()
    }

    async fn load_locked(
        &self,
        id: &SegmentId,
        record: &DataSegment,
        deep: &DeepStorage,
    ) -> Result<Segment> {
        let stale = match self.lock_opened().get(id) {
            Some(cached) if matches_record(&cached.segment, record) => {
                return Ok(cached.segment.clone());
            }
            Some(_) => true,
            None => false,
        };
        if stale {
            tracing::warn!(segment_id = %id, "cached segment differs from its catalog record; loading it again");
            self.lock_opened().remove(id);
            self.unrecord(id).await?;
        }
        let path = segment_path(&self.segments_dir, id);
        deep.pull(&record.load_spec, &path).await?;
        let verified = {
            let (path, checked) = (path.clone(), record.clone());
            blocking(move || open_verified(&path, &checked)).await
        };
        let recorded = match verified {
            Ok(segment) => self.record(record).await.map(|()| segment),
            Err(err) => Err(err),
        };
        let segment = match recorded {
            Ok(segment) => segment,
            Err(err) => {
                let segments_dir = self.segments_dir.clone();
                if let Err(cleanup_err) =
                    blocking(move || remove_with_empty_parents(&path, &segments_dir)).await
                {
                    tracing::warn!(segment_id = %id, error = %cleanup_err, "failed to remove rejected segment file");
                }
                return Err(err);
            }
        };
        self.lock_opened().insert(
            id.clone(),
            CachedSegment {
                record: record.clone(),
                segment: segment.clone(),
            },
        );
        tracing::info!(segment_id = %id, bytes = segment.size_bytes(), "cached segment");
        Ok(segment)
    }

    /// Runs `work` while holding `id`'s lock.
    async fn exclusively<T>(
        &self,
        id: &SegmentId,
        work: impl std::future::Future<Output = T>,
    ) -> T {
        let lock = {
            let mut busy = self
                .busy
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(busy.entry(id.clone()).or_default())
        };
        let output = {
            let _guard = lock.lock().await;
            work.await
        };
        let mut busy = self
            .busy
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The map and this function hold the only references: nobody else waits.
        if Arc::strong_count(&lock) <= 2 {
            busy.remove(id);
        }
        output
    }

    async fn record(&self, record: &DataSegment) -> Result<()> {
        let mut manifest = self.manifest.lock().await;
        let mut next = manifest.clone();
        next.insert(record.id(), record.clone());
        self.write_manifest(&next).await?;
        *manifest = next;
        Ok(())
    }

    async fn unrecord(&self, id: &SegmentId) -> Result<bool> {
        let mut manifest = self.manifest.lock().await;
        if !manifest.contains_key(id) {
            return Ok(false);
        }
        let mut next = manifest.clone();
        next.remove(id);
        self.write_manifest(&next).await?;
        *manifest = next;
        Ok(true)
    }

    async fn write_manifest(&self, segments: &BTreeMap<SegmentId, DataSegment>) -> Result<()> {
        let dir = self.dir.clone();
        let records: Vec<DataSegment> = segments.values().cloned().collect();
        blocking(move || manifest::write(&dir, records)).await
    }

    fn lock_opened(&self) -> std::sync::MutexGuard<'_, BTreeMap<SegmentId, CachedSegment>> {
        self.opened
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn segment_path(segments_dir: &Path, id: &SegmentId) -> PathBuf {
    segments_dir.join(storage_dir(id)).join(SEGMENT_FILE_NAME)
}

/// Whether an opened segment is the one `record` describes (a CRC32 of 0 means the record
/// does not know it).
fn matches_record(segment: &Segment, record: &DataSegment) -> bool {
    segment.size_bytes() == record.size && (record.crc32 == 0 || segment.crc32() == record.crc32)
}

/// Maps a segment file and checks it against its record.
fn open_verified(path: &Path, record: &DataSegment) -> Result<Segment> {
    let segment_id = record.id().to_string();
    let file = File::open(path).map_err(Error::io(path))?;
    let len = file.metadata().map_err(Error::io(path))?.len();
    if len != record.size {
        return Err(Error::Verification {
            segment_id,
            reason: format!("file has {len} bytes, the catalog says {}", record.size),
        });
    }
    // SAFETY: the cache owns this file and never writes it in place: files are created by
    // rename and removed by unlink, so the mapped bytes cannot change while mapped.
    let mmap = unsafe { Mmap::map(&file) }.map_err(Error::io(path))?;
    let segment = Segment::open(Arc::new(mmap)).map_err(|source| Error::Segment {
        segment_id: segment_id.clone(),
        source,
    })?;
    if !matches_record(&segment, record) {
        return Err(Error::Verification {
            segment_id,
            reason: format!(
                "file crc32 {:#010x}, the catalog says {:#010x}",
                segment.crc32(),
                record.crc32
            ),
        });
    }
    Ok(segment)
}

/// Deletes a segment file (if present) and the directories it leaves empty, up to
/// `segments_dir`.
fn remove_with_empty_parents(path: &Path, segments_dir: &Path) -> Result<()> {
    manifest::remove_file(path)?;
    let mut parent_opt = path.parent();
    while let Some(parent) = parent_opt {
        if parent == segments_dir || std::fs::remove_dir(parent).is_err() {
            break;
        }
        parent_opt = parent.parent();
    }
    Ok(())
}
