//! Getting records onto Kafka: the producer, topics, the spool and its drain.

pub mod client;
pub mod drain;
pub mod kafka;
pub mod publish;
pub mod spool;
pub mod topic;
