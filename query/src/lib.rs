//! Henge's native query engine: Druid's native JSON queries, run on one segment at a time.
//!
//! The flow every node shares:
//! 1. [`parse_query`] turns a request body into a validated [`Query`] (size and nesting
//!    limits are checked on the bytes before any JSON parsing);
//! 2. [`run_on_segment`] runs it on one segment, over the rows inside the query intervals,
//!    producing a serializable [`PartialResult`];
//! 3. [`merge()`] combines partials (historicals, realtime nodes and the broker all call it;
//!    it is associative and order-independent);
//! 4. [`finalize()`] shapes the merged partial into Druid's exact response JSON, and
//!    [`empty_result`] gives the response when no segment holds data.
//!
//! Layout: `parse` and `model/` (query model and validation), `error` ([`QueryError`] and
//! Druid's error bodies), `expr/` (Druid's expression language: parser, evaluator,
//! functions), `columns` (a segment's columns plus the query's virtual columns, materialized
//! on first read), `filter` (filters to roaring bitmaps with three-valued logic),
//! `aggregate` (dense per-slot aggregators; sketch aggregators over `henge_segment::sketch`
//! in `aggregate/sketch`), `engine/` (one module per query type),
//! `partial`, `merge`, `order` (Druid's orderings), `output` (dimension output types),
//! `extract` (extraction functions and filtered dimension specs), `postagg` (post-aggregator
//! evaluation, sketch ones in `postagg/sketch`), `having`, `finalize`, `nested` (an outer
//! query over an inner query's result, for query data sources, or over an inline or lookup
//! table), `join` (join data sources: a segment joined with in-memory right tables) and `lookup` (the registered
//! lookups a node has loaded, resolved by name while a query is parsed). Sketch values
//! travel in partials as DataSketches bytes (`value/wire`); `docs/adr/0005` says why.
//!
//! Multi-value string dimensions (`docs/querying/multi-value-dimensions.md`) need no special
//! case in filters (a value's bitmap holds every row holding it, empty rows are in null's);
//! `engine/dimension` gives each row a list of output ids, which groupBy and topN explode,
//! and scan, the string aggregators and segmentMetadata read whole rows.
//!
//! The crate is pure: no tokio, no network, no files. It depends only on `henge-segment` for
//! data and on serde/roaring/hashbrown; keep it that way, so it can be tested, fuzzed and
//! benchmarked without a runtime.

mod aggregate;
mod columns;
mod engine;
mod error;
mod expr;
mod extract;
mod filter;
mod finalize;
mod having;
mod java_hash;
mod join;
mod lookup;
mod merge;
mod model;
mod nested;
mod order;
mod output;
mod parse;
mod partial;
mod postagg;
mod value;

pub use engine::{run_on_segment, run_on_segment_until, GroupAcross};
pub use error::QueryError;
pub use finalize::{empty_result, finalize};
pub use lookup::{parse_lookup_factory, LookupMap, Lookups};
pub use merge::{merge, merge_to_wire};
pub use model::Query;
pub use nested::{run_local, run_over_partial, run_over_result, DEFAULT_MAX_SUBQUERY_ROWS};
pub use parse::{parse_query, Limits, DEFAULT_MAX_GROUP_ROWS};
pub use partial::{
    ColumnAnalysis, GroupByPartial, GroupRow, PartialResult, ScanBatch, ScanPartial, ScanRow,
    SearchBucket, SearchHit, SearchPartial, SegmentAnalysis, SegmentMetadataPartial,
    TimeBoundaryPartial, TimeseriesPartial, TimeseriesRow, TopNBucket, TopNEntry, TopNPartial,
};
