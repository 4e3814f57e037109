//! Test harness for running `henge` as real processes: single-process quickstart and
//! multi-process clusters on a real etcd, driven over Henge's HTTP API.
//!
//! Owns: process lifecycle ([`process`]), an HTTP client for Druid's APIs ([`client`]),
//! the independent expectations for Druid's wikiticker quickstart data ([`wikiticker`]),
//! computed from the raw file rather than from Henge, and the golden query case files with
//! their comparison rules ([`golden`]), and the golden Druid SQL cases ([`sql_cases`]).
//!
//! The `henge` binary must be built first (`cargo build -p henge-roles`, which
//! `scripts/test` does); set `HENGE_BIN` to use another one.

pub mod client;
pub mod golden;
pub mod process;
pub mod sql_cases;
pub mod wikiticker;
