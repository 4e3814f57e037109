//! The henge binary: roles as actors, HTTP API, startup and shutdown.
