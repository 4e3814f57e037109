//! The embedded store's snapshot file: the durable keys and the store revision.
//!
//! The file is written with [`henge_common::fsutil::write_checksummed`] (temp file, fsync,
//! rename, CRC32 trailer). Its payload, all integers little-endian:
//!
//! ```text
//! [format version u32 = 1][revision i64][entry count u64]
//! entry: [key len u32][key utf-8][value len u32][value][create_revision i64][mod_revision i64]
//! ```
//!
//! Keys attached to a lease are never written: they are ephemeral by contract.

use std::collections::BTreeMap;
use std::path::Path;

use henge_common::fsutil;

use super::state::Entry;
use crate::error::{Error, Result};

const FORMAT_VERSION: u32 = 1;

/// What a snapshot holds.
pub(super) struct Snapshot {
    pub(super) revision: i64,
    pub(super) kvs: BTreeMap<String, Entry>,
}

/// Serializes the durable part of the state.
pub(super) fn encode<'a>(
    revision: i64,
    entries: impl Iterator<Item = (&'a String, &'a Entry)>,
) -> Vec<u8> {
    let entries: Vec<_> = entries.collect();
    let mut out = Vec::new();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&revision.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (key, entry) in entries {
        out.extend_from_slice(&(key.len() as u32).to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(&(entry.value.len() as u32).to_le_bytes());
        out.extend_from_slice(&entry.value);
        out.extend_from_slice(&entry.create_revision.to_le_bytes());
        out.extend_from_slice(&entry.mod_revision.to_le_bytes());
    }
    out
}

/// Writes a snapshot durably.
pub(super) fn write(path: &Path, payload: &[u8]) -> Result<()> {
    fsutil::write_checksummed(path, payload).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the snapshot at `path`; `Ok(None)` if there is none yet.
pub(super) fn read(path: &Path) -> Result<Option<Snapshot>> {
    let payload = match fsutil::read_checksummed(path) {
        Ok(Some(payload)) => payload,
        Ok(None) => return Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::InvalidData => {
            return Err(corrupted(path, err.to_string()))
        }
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    decode(&payload)
        .map(Some)
        .map_err(|reason| corrupted(path, reason))
}

fn corrupted(path: &Path, reason: String) -> Error {
    Error::Corrupted {
        path: path.to_path_buf(),
        reason,
    }
}

fn decode(payload: &[u8]) -> Result<Snapshot, String> {
    let mut reader = Reader { rest: payload };
    let version = u32::from_le_bytes(reader.array()?);
    if version != FORMAT_VERSION {
        return Err(format!("unsupported snapshot format version {version}"));
    }
    let revision = i64::from_le_bytes(reader.array()?);
    let count = u64::from_le_bytes(reader.array()?);
    let mut kvs = BTreeMap::new();
    for _ in 0..count {
        let key_len = u32::from_le_bytes(reader.array()?) as usize;
        let key = String::from_utf8(reader.take(key_len)?.to_vec())
            .map_err(|_| "key is not utf-8".to_string())?;
        let value_len = u32::from_le_bytes(reader.array()?) as usize;
        let value = reader.take(value_len)?.to_vec();
        let create_revision = i64::from_le_bytes(reader.array()?);
        let mod_revision = i64::from_le_bytes(reader.array()?);
        if mod_revision > revision || create_revision > mod_revision {
            return Err(format!(
                "key {key:?} has revisions beyond the store revision"
            ));
        }
        let entry = Entry {
            value,
            create_revision,
            mod_revision,
            lease: None,
        };
        kvs.insert(key, entry);
    }
    if !reader.rest.is_empty() {
        return Err("trailing bytes after the last entry".to_string());
    }
    Ok(Snapshot { revision, kvs })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], String> {
        if self.rest.len() < len {
            return Err("truncated entry".to_string());
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let bytes = self.take(N)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let mut kvs = BTreeMap::new();
        kvs.insert(
            "/a".to_string(),
            Entry {
                value: b"one".to_vec(),
                create_revision: 2,
                mod_revision: 3,
                lease: None,
            },
        );
        let payload = encode(5, kvs.iter());
        let snapshot = decode(&payload).unwrap();
        assert_eq!(snapshot.revision, 5);
        assert_eq!(snapshot.kvs, kvs);
        assert!(decode(&payload[..payload.len() - 1]).is_err());
    }
}
