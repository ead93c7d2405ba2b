//! The app: the gateway assembled from its layers, its listeners' routes.

pub mod router;
