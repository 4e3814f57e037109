//! Henge's segment format (pure: no I/O, no tokio).
