//! The command line's work beyond `run`.

pub mod replay;
