//! Input sources: resolving a `local` input source to files (confined to the allowed
//! directories) and reading any input as lines, gunzipping `.gz` files like Druid does.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::{IngestError, Result, SpecError};
use crate::spec::InputSource;

/// Read buffer size: large enough that gzip and line splitting run in big chunks.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Compression suffixes Druid understands but Henge does not read yet.
const UNSUPPORTED_COMPRESSION: [&str; 6] = [".bz2", ".xz", ".zip", ".zst", ".sz", ".snappy"];

/// One unit of input: a file or the inline data of the spec.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum InputEntity {
    File(PathBuf),
    Inline(String),
}

impl InputEntity {
    /// How parse exceptions name this input (Druid prints a URI).
    pub(crate) fn describe(&self) -> String {
        match self {
            InputEntity::File(path) => format!("file:{}", path.display()),
            InputEntity::Inline(_) => "inline".to_string(),
        }
    }

    /// Calls `on_line` for every line with the line without its terminator, its 1-based
    /// number and its length in bytes with the terminator (uncompressed).
    pub(crate) fn for_each_line(
        &self,
        mut on_line: impl FnMut(&[u8], u64, usize) -> Result<()>,
    ) -> Result<()> {
        match self {
            InputEntity::Inline(data) => read_lines(data.as_bytes(), &mut on_line)
                .map_err(|source| IngestError::io("inline", source))?,
            InputEntity::File(path) => {
                let file = File::open(path).map_err(|source| IngestError::io(path, source))?;
                let is_gzip = path.extension().is_some_and(|extension| extension == "gz");
                let result = if is_gzip {
                    read_lines(MultiGzDecoder::new(file), &mut on_line)
                } else {
                    read_lines(file, &mut on_line)
                };
                result.map_err(|source| IngestError::io(path, source))?
            }
        }
    }
}

/// Reads lines from `reader`. An error from `on_line` stops reading and is returned inside
/// the `Ok` (so callers can tell it apart from an I/O error).
fn read_lines(
    reader: impl Read,
    on_line: &mut impl FnMut(&[u8], u64, usize) -> Result<()>,
) -> io::Result<Result<()>> {
    let mut reader = BufReader::with_capacity(READ_BUFFER_BYTES, reader);
    let mut line = Vec::with_capacity(4096);
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(Ok(()));
        }
        line_number += 1;
        let mut content = line.as_slice();
        if let Some(stripped) = content.strip_suffix(b"\n") {
            content = stripped.strip_suffix(b"\r").unwrap_or(stripped);
        }
        if let Err(error) = on_line(content, line_number, read) {
            return Ok(Err(error));
        }
    }
}

/// The inputs of `source`, in a deterministic order. Local paths are canonicalized and must
/// lie under one of `allowed_dirs` (themselves canonicalized); symlinks are followed for
/// files (and checked) but not for directories.
pub(crate) fn resolve(
    source: &InputSource,
    allowed_dirs: &[PathBuf],
) -> Result<Vec<InputEntity>, SpecError> {
    match source {
        InputSource::Inline { data } => Ok(vec![InputEntity::Inline(data.clone())]),
        InputSource::Local {
            base_dir,
            filter,
            files,
        } => {
            let allowed: Vec<PathBuf> = allowed_dirs
                .iter()
                .filter_map(|dir| dir.canonicalize().ok())
                .collect();
            let mut resolved = Vec::new();
            if let Some(base_dir) = base_dir {
                let base = confine(base_dir, &allowed)?;
                let mut found = Vec::new();
                list_matching(&base, filter, &allowed, &mut found)?;
                if found.is_empty() {
                    return Err(SpecError::Invalid {
                        path: "spec.ioConfig.inputSource".to_string(),
                        message: format!(
                            "no file under baseDir [{}] matches filter [{filter}]",
                            base_dir.display()
                        ),
                    });
                }
                found.sort();
                resolved.extend(found);
            }
            for file in files {
                resolved.push(confine(file, &allowed)?);
            }
            for path in &resolved {
                check_compression(path)?;
            }
            Ok(resolved.into_iter().map(InputEntity::File).collect())
        }
    }
}

/// `path` canonicalized, if it lies under one of the (canonical) `allowed` directories.
fn confine(path: &Path, allowed: &[PathBuf]) -> Result<PathBuf, SpecError> {
    let canonical = path
        .canonicalize()
        .map_err(|source| SpecError::PathUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
    if allowed.iter().any(|dir| canonical.starts_with(dir)) {
        Ok(canonical)
    } else {
        Err(SpecError::PathNotAllowed {
            path: path.to_path_buf(),
            allowed: allowed
                .iter()
                .map(|dir| dir.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Recursively collects the files under `dir` whose name matches `filter`.
fn list_matching(
    dir: &Path,
    filter: &str,
    allowed: &[PathBuf],
    found: &mut Vec<PathBuf>,
) -> Result<(), SpecError> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SpecError::PathUnreadable { path, source }
    };
    let entries = fs::read_dir(dir).map_err(unreadable(dir))?;
    for entry in entries {
        let entry = entry.map_err(unreadable(dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(unreadable(&path))?;
        if file_type.is_dir() {
            list_matching(&path, filter, allowed, found)?;
            continue;
        }
        let name = entry.file_name();
        if !wildcard_match(filter, &name.to_string_lossy()) {
            continue;
        }
        // A symlink is followed, but its target must be an allowed regular file too.
        let canonical = confine(&path, allowed)?;
        if canonical.is_file() {
            found.push(canonical);
        }
    }
    Ok(())
}

fn check_compression(path: &Path) -> Result<(), SpecError> {
    let name = path.to_string_lossy();
    match UNSUPPORTED_COMPRESSION
        .iter()
        .find(|suffix| name.ends_with(*suffix))
    {
        Some(suffix) => Err(SpecError::Unsupported {
            path: "spec.ioConfig.inputSource".to_string(),
            message: format!("reading [{suffix}] compressed input ({name}); use gzip"),
        }),
        None => Ok(()),
    }
}

/// Case-sensitive wildcard match where `*` matches any run of characters and `?` one
/// character (Apache Commons' `WildcardFileFilter`, which Druid uses).
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    // Where the last `*` was seen and how much of `name` it has consumed.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.json.gz", "wiki.json.gz"));
        assert!(wildcard_match("wiki?.json", "wiki1.json"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a*b*c", "aXbYbZc"));
        assert!(!wildcard_match("*.json", "x.json.gz"));
        assert!(!wildcard_match("Wiki*", "wiki.json"));
        assert!(wildcard_match("exact.json", "exact.json"));
    }

    #[test]
    fn lines_strip_terminators_and_count_bytes() {
        let mut lines = Vec::new();
        let mut bytes = 0;
        read_lines(&b"a\r\nbb\n\nccc"[..], &mut |line: &[u8], number, len| {
            lines.push((String::from_utf8(line.to_vec()).unwrap(), number));
            bytes += len;
            Ok(())
        })
        .unwrap()
        .unwrap();
        assert_eq!(bytes, 10);
        assert_eq!(
            lines,
            [
                ("a".into(), 1),
                ("bb".into(), 2),
                ("".into(), 3),
                ("ccc".into(), 4)
            ]
        );
    }

    #[test]
    fn local_source_is_confined_to_allowed_dirs() {
        let allowed = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir(allowed.path().join("sub")).unwrap();
        fs::write(allowed.path().join("sub/b.json"), "{}").unwrap();
        fs::write(allowed.path().join("a.json"), "{}").unwrap();
        fs::write(allowed.path().join("c.txt"), "{}").unwrap();
        fs::write(outside.path().join("x.json"), "{}").unwrap();
        let allowed_dirs = [allowed.path().to_path_buf()];
        let source = |base: &Path| InputSource::Local {
            base_dir: Some(base.to_path_buf()),
            filter: "*.json".into(),
            files: vec![],
        };
        let found = resolve(&source(allowed.path()), &allowed_dirs).unwrap();
        let root = allowed.path().canonicalize().unwrap();
        assert_eq!(
            found,
            [
                InputEntity::File(root.join("a.json")),
                InputEntity::File(root.join("sub/b.json"))
            ]
        );
        let error = resolve(&source(outside.path()), &allowed_dirs).unwrap_err();
        assert!(matches!(error, SpecError::PathNotAllowed { .. }));
        // `..` cannot escape either.
        let escape = allowed
            .path()
            .join("..")
            .join(outside.path().file_name().unwrap());
        let error = resolve(&source(&escape), &allowed_dirs).unwrap_err();
        assert!(matches!(error, SpecError::PathNotAllowed { .. }));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outside.path().join("x.json"), root.join("link.json"))
                .unwrap();
            let error = resolve(&source(allowed.path()), &allowed_dirs).unwrap_err();
            assert!(matches!(error, SpecError::PathNotAllowed { .. }));
        }
    }
}
