//! Release watch.
