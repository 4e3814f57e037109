//! End-to-end tests of the query engine on small segments built with `SegmentBuilder`:
//! parse, run on each segment, ship partials in their wire form, merge, finalize.

mod across;
mod aggregators;
mod common;
mod expressions;
mod extraction;
mod filters;
mod group_by;
mod having;
mod joins;
mod lifecycle;
mod lookups;
mod merging;
mod multi_value;
mod nested;
mod post_aggregators;
mod scan;
mod search;
mod segment_metadata;
mod sketches;
mod time_boundary;
mod timeseries;
mod topn;
mod typed_dimensions;
mod typed_filters;
