//! End-to-end tests of the query engine on small segments built with `SegmentBuilder`:
//! parse, run on each segment, ship partials as JSON, merge, finalize.

mod aggregators;
mod common;
mod expressions;
mod extraction;
mod filters;
mod group_by;
mod having;
mod merging;
mod post_aggregators;
mod scan;
mod segment_metadata;
mod time_boundary;
mod timeseries;
mod topn;
mod typed_dimensions;
mod typed_filters;
