//! Ingestion: index specs, input reading and parsing, segment building, realtime index.
