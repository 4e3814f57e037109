//! Coordination: membership, leader election with fencing, segment catalog, watches.
