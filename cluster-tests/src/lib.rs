//! Multi-process cluster tests against real etcd.
