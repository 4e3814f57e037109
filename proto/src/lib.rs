//! gRPC protocol between Henge nodes.
