//! Druid SQL for Henge: parses one SQL `SELECT` (with `sqlparser`) and plans it into one
//! native Druid query (one per branch of a top-level UNION ALL), as Druid's Calcite planner does, plus the recipe that turns the native
//! answer into SQL rows.
//!
//! The crate owns the SQL front end only: the SQL type of each table column ([`Catalog`]),
//! planning ([`plan`]) into a [`Planned`] query (native JSON for the existing native path,
//! the output columns with their SQL types) and the row conversion ([`Planned::rows`]).
//! Running the native query and the HTTP result formats live in `henge-roles`.
//!
//! Layout: `error` ([`SqlError`], Druid's SQL error body), `catalog` (tables and SQL types),
//! `params` (dynamic `?` parameters), `scalar` (SQL scalar expressions to columns, literals
//! and native expressions with virtual columns; `scalar/functions`, `scalar/time` with
//! `sqlTimeZone`, `scalar/condition`), `filter` (WHERE/HAVING to native filters and
//! `__time` conditions to intervals), `aggregate` (aggregate calls to native aggregators and
//! post-aggregators: sketches, EARLIEST/LATEST/ANY_VALUE, CASE to FILTER, exact
//! COUNT(DISTINCT) as a nested groupBy), `planner` (the query shape: timeseries, topN,
//! groupBy or scan; its `source` resolves FROM: tables, subqueries and WITH queries as `query`
//! data sources; its `join` plans JOIN, VALUES and `lookup.<name>` tables as `join`, `inline`
//! and `lookup` data sources; its `union` plans a top-level UNION ALL as one native query per
//! branch) and
//! `rows` (native results to rows), `metadata` (SELECTs answered in memory:
//! INFORMATION_SCHEMA from the catalog, with the `lookup` schema of registered lookups, the
//! `sys` tables from rows the caller fetched ([`SystemTables`]), and SELECT without FROM, with
//! aggregates, GROUP BY and HAVING) and `explain` (`EXPLAIN PLAN FOR`); [`prepare`] is the
//! entry point for all of them. `tests`, `tests_functions`, `tests_aggregate` and
//! `tests_lookup`, `tests_join` check plans against hand-written native JSON, `tests_catalog` and
//! `tests_memory` the in-memory answers, `tests_fuzz` that no input panics.
//!
//! The crate is pure: no tokio, network or files.

mod aggregate;
mod catalog;
mod error;
mod explain;
mod filter;
mod metadata;
mod params;
mod planner;
mod rows;
mod scalar;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_aggregate;
#[cfg(test)]
mod tests_catalog;
#[cfg(test)]
mod tests_functions;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_join;
#[cfg(test)]
mod tests_lookup;
#[cfg(test)]
mod tests_memory;
#[cfg(test)]
mod tests_support;

pub use catalog::{Catalog, MapCatalog, SqlType};
pub use error::SqlError;
pub use metadata::SystemTables;
pub use planner::{
    plan, prepare, prepare_with_system, reads_information_schema, referenced_tables,
    system_table_read, Answer, OutputColumn, Planned, Prepared, MAX_OPERATORS,
};
