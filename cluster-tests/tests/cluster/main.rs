//! End-to-end tests of real `henge` processes: the single-process quickstart and a
//! multi-process cluster on a real etcd, each running the same checks.

mod duckdb_diff;
mod flows;
mod golden;
mod lifecycle;
mod lookups;
mod multi_process;
mod multi_value;
mod pydruid;
mod quickstart;
mod sql;
mod sys_tables;
