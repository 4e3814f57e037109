//! The segment cache's on-disk bookkeeping: the manifest (which segments are complete)
//! and the cleanup of everything else at start.
//!
//! The manifest is `manifest.json` in the cache directory, written with
//! [`fsutil::write_checksummed`]: `{"version":1,"segments":[DataSegment, ...]}`. A segment
//! file exists before its manifest entry (download, verify, then record) and outlives it
//! on drop (unrecord, then delete), so after a crash a file may be unrecorded, never the
//! reverse: unrecorded files are removed at the next start.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use henge_common::fsutil;
use henge_segment::DataSegment;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const MANIFEST_FILE: &str = "manifest.json";
const MANIFEST_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct ManifestFile {
    version: u32,
    segments: Vec<DataSegment>,
}

pub(super) fn path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST_FILE)
}

/// Reads the manifest. A missing manifest is an empty cache; so is an unreadable one
/// (logged): the cache is only a copy of deep storage, and its files will be fetched again.
pub(super) fn read(dir: &Path) -> Result<Vec<DataSegment>> {
    let manifest_path = path(dir);
    let payload = match fsutil::read_checksummed(&manifest_path) {
        Ok(Some(payload)) => payload,
        Ok(None) => return Ok(Vec::new()),
        Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
            tracing::error!(path = %manifest_path.display(), error = %err, "segment cache manifest is corrupted; starting with an empty cache");
            return Ok(Vec::new());
        }
        Err(source) => {
            return Err(Error::Io {
                path: manifest_path,
                source,
            })
        }
    };
    match serde_json::from_slice::<ManifestFile>(&payload) {
        Ok(manifest) if manifest.version == MANIFEST_VERSION => Ok(manifest.segments),
        Ok(manifest) => {
            tracing::error!(path = %manifest_path.display(), version = manifest.version, "unknown segment cache manifest version; starting with an empty cache");
            Ok(Vec::new())
        }
        Err(err) => {
            tracing::error!(path = %manifest_path.display(), error = %err, "segment cache manifest is not valid json; starting with an empty cache");
            Ok(Vec::new())
        }
    }
}

/// Writes the manifest durably.
pub(super) fn write(dir: &Path, segments: Vec<DataSegment>) -> Result<()> {
    let manifest = ManifestFile {
        version: MANIFEST_VERSION,
        segments,
    };
    let payload = serde_json::to_vec(&manifest)?;
    let manifest_path = path(dir);
    fsutil::write_checksummed(&manifest_path, &payload).map_err(Error::io(&manifest_path))
}

/// Deletes every file under `segments_dir` that is not in `keep` (partial downloads,
/// unrecorded or dropped segments), the manifest's own leftover temporary files in `dir`,
/// and directories left empty. Returns how many files were removed.
pub(super) fn remove_strays(
    dir: &Path,
    segments_dir: &Path,
    keep: &BTreeSet<PathBuf>,
) -> Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".tmp-") {
            remove_file(&entry.path())?;
            removed += 1;
        }
    }
    if std::fs::metadata(segments_dir).is_ok() {
        removed += remove_strays_under(segments_dir, keep)?;
    }
    Ok(removed)
}

/// Depth-first cleanup of one directory; returns the number of files removed.
fn remove_strays_under(dir: &Path, keep: &BTreeSet<PathBuf>) -> Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let entry_path = entry.path();
        let file_type = entry.file_type().map_err(Error::io(&entry_path))?;
        if file_type.is_dir() {
            removed += remove_strays_under(&entry_path, keep)?;
            // Fails (harmlessly) when the directory still holds kept segments.
            if std::fs::remove_dir(&entry_path).is_ok() {
                tracing::debug!(path = %entry_path.display(), "removed empty cache directory");
            }
        } else if !keep.contains(&entry_path) {
            tracing::info!(path = %entry_path.display(), "removing stray file from segment cache");
            remove_file(&entry_path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

pub(super) fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}
