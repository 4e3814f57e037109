//! Broker: the query entry point of a Henge cluster.
//!
//! Owns:
//! - [`view::ServerView`]: which data node (historical or realtime) serves which segment,
//!   learned by long-polling each node's inventory over gRPC (never from the coordination
//!   store: see docs/adr/0003-segment-inventory-over-grpc.md).
//! - [`timeline`]: per datasource, the segments a query must read (newest complete version
//!   per time chunk; overshadowed segments are skipped).
//! - [`executor::Broker`]: scatter/gather of per-segment queries to data nodes, the
//!   per-segment result cache (historical segments only), merge and finalization through
//!   `henge-query`, the same merge code the data nodes use.
//! - [`blocking`]: long query work off the async runtime.
//! - [`lifecycle`]: query ids, the context values the broker acts on (timeout, priority,
//!   cache flags), and the registry of running queries that cancellation uses.
//!
//! Does not own: query semantics (henge-query), membership (the roles feed node lists in).

pub mod blocking;
pub mod cache;
pub mod executor;
pub mod lifecycle;
pub mod status;
pub mod timeline;
pub mod view;

pub use executor::Broker;
pub use view::{DataNodeAddr, ServedSegment, ServerView};
