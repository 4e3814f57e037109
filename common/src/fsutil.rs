//! Crash-safe file writes: temp file + fsync + rename + directory fsync, with an optional
//! CRC32 trailer that is verified on read.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Magic that ends a checksummed file: `[payload][crc32 u32 LE][len u64 LE][b"HCK1"]`.
const CHECKSUM_MAGIC: &[u8; 4] = b"HCK1";
const TRAILER_LEN: usize = 4 + 8 + 4;

/// Writes `bytes` to `path` atomically: a reader sees the old content or the new one, never
/// a torn file, even across a crash. The parent directory is fsynced after the rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], but the content is produced by `fill`, which writes into the
/// temporary file.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let parent = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp_path = parent.join(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)?;
        fill(&mut file)?;
        file.sync_all()?;
        fs::rename(&tmp_path, path)?;
        sync_dir(parent)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// Fsyncs a directory so that a rename or create inside it is durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes `payload` atomically followed by a checksum trailer; read it back with
/// [`read_checksummed`].
pub fn write_checksummed(path: &Path, payload: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |file| {
        file.write_all(payload)?;
        file.write_all(&crc32fast::hash(payload).to_le_bytes())?;
        file.write_all(&(payload.len() as u64).to_le_bytes())?;
        file.write_all(CHECKSUM_MAGIC)
    })
}

/// Reads a file written by [`write_checksummed`]. A missing file is `Ok(None)`; a torn or
/// corrupted file is an `InvalidData` error.
pub fn read_checksummed(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let invalid = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    if bytes.len() < TRAILER_LEN || &bytes[bytes.len() - 4..] != CHECKSUM_MAGIC {
        return Err(invalid("missing checksum trailer"));
    }
    let trailer_start = bytes.len() - TRAILER_LEN;
    let crc = u32::from_le_bytes(bytes[trailer_start..trailer_start + 4].try_into().unwrap());
    let len = u64::from_le_bytes(
        bytes[trailer_start + 4..trailer_start + 12]
            .try_into()
            .unwrap(),
    );
    if len != trailer_start as u64 {
        return Err(invalid("length mismatch"));
    }
    bytes.truncate(trailer_start);
    if crc32fast::hash(&bytes) != crc {
        return Err(invalid("checksum mismatch"));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksummed_round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        assert!(read_checksummed(&path).unwrap().is_none());
        write_checksummed(&path, b"hello").unwrap();
        assert_eq!(read_checksummed(&path).unwrap().unwrap(), b"hello");
        write_checksummed(&path, b"world!").unwrap();
        assert_eq!(read_checksummed(&path).unwrap().unwrap(), b"world!");
        let mut raw = fs::read(&path).unwrap();
        raw[0] ^= 0xff;
        fs::write(&path, &raw).unwrap();
        assert!(read_checksummed(&path).is_err());
        fs::write(&path, &raw[..3]).unwrap();
        assert!(read_checksummed(&path).is_err());
    }
}
