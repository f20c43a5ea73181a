//! Feature extraction: the log-mel excerpt of every track, cached in the project.

pub mod extract;
pub mod store;
