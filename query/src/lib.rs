//! Henge's native query engine (pure: no I/O, no tokio).
