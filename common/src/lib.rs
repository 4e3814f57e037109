//! Small shared utilities with no business logic.
//!
//! Owns: crash-safe local file writes ([`fsutil`]). Everything that persists a local file
//! (segment cache, embedded coordination store, task state) goes through here so that a
//! `kill -9` at any point leaves either the old file or the complete new one.
//!
//! Must not depend on any other Henge crate.

pub mod fsutil;
