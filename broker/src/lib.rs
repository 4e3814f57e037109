//! Broker: timeline, scatter/gather over gRPC, merging, per-segment cache.
