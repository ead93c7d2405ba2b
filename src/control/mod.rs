//! The control plane: the admin API, its store of API-created sources, the status page.

pub mod admin;
pub mod error;
pub mod settings;
pub mod status;
pub mod store;
