//! gRPC protocol between Henge nodes.
//!
//! Owns the `DataNode` service (per-segment queries and segment inventory long-polls) that
//! brokers use to reach historicals and realtime nodes. The wire format is protobuf; query
//! partial results (`PartialResult::to_wire`: binary for groupBy, JSON otherwise) and segment
//! descriptors (JSON) travel as bytes inside it, so that the pure query and segment crates
//! stay free of protobuf types.

#[allow(clippy::all, unused_qualifications)]
mod generated {
    tonic::include_proto!("henge.v1");
}

pub use generated::data_node_client::DataNodeClient;
pub use generated::data_node_server::{DataNode, DataNodeServer};
pub use generated::{
    CancelRequest, CancelResponse, InventoryRequest, InventoryResponse, QueryRequest,
    QueryResponse, SegmentResult, ServedSegment,
};
