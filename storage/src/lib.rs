//! Storage: deep storage (where published segments live for good) and the historical's
//! local segment cache.
//!
//! Layout:
//! - [`deep`]: [`DeepStorage`] over `object_store` (a local directory today, S3 later),
//!   with Druid's path layout and load specs.
//! - [`cache`]: [`SegmentCache`], the crash-safe local copy a historical serves from:
//!   checksummed manifest, verification at start and on download, mmap.
//!
//! Invariants: every local file is written to a temporary name, fsynced and renamed
//! (`henge_common::fsutil`), and verified on load; the cache is only a copy, so anything
//! that fails verification is dropped and fetched again.
//!
//! Depends on `henge-segment` (segment ids, records, `Segment::open`) and `henge-common`;
//! never on coordination or the roles.

pub mod cache;
pub mod deep;
mod error;

pub use cache::SegmentCache;
pub use deep::DeepStorage;
pub use error::{Error, Result};
