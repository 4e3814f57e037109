//! Deep storage and the historical's local segment cache.
