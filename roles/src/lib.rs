//! The `henge` binary's library: one node process with any subset of the five roles.
//!
//! Owns: the roles as actors ([`actor`], [`coordinator`], [`overlord`], [`historical`],
//! [`realtime`], [`broker`]), the node's ordered startup and shutdown ([`node`]), its
//! configuration ([`config`]), the HTTP API ([`http`]) and the data-node gRPC service
//! ([`datanode`]), the registered lookups a node loads ([`lookups`]), `henge quickstart`
//! ([`quickstart`], with the demo data generator in [`demo`]), and the benchmark dataset
//! generator behind `henge bench gen` ([`bench`]). This is the only crate that knows the whole
//! startup order; the pure engine (segment, query) and the I/O adapters (coordination,
//! storage) know nothing of it.

pub mod actor;
pub mod bench;
pub mod broker;
pub mod config;
pub mod context;
pub mod coordinator;
pub mod datanode;
pub mod demo;
pub mod historical;
pub mod http;
pub mod leadership;
pub mod lookups;
pub mod node;
pub mod overlord;
pub mod quickstart;
pub mod readiness;
pub mod realtime;
pub mod role;
pub mod tasks;
