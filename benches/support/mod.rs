//! Helpers the end-to-end benches share: settings from the environment, a free port, and an
//! Apache Kafka broker process.

#![allow(dead_code)] // each bench uses a different subset

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// `name`'s value parsed, or `default` when unset or unparseable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Whether `scripts/install-kafka` has installed Apache Kafka's jars.
pub fn kafka_installed() -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/apache-kafka/installed")
        .is_file()
}

/// Starts a single-node Apache Kafka broker (`scripts/kafka-broker`) on `port` with its data
/// in `dir`; returns once it accepts connections on `port` and answers metadata.
pub fn start_kafka(dir: &Path, port: u16) -> Child {
    let controller = free_port();
    std::fs::create_dir_all(dir).expect("broker dir");
    let log = std::fs::File::create(dir.join("broker.log")).expect("broker log");
    let child = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka-broker"))
        .arg(dir)
        .arg(port.to_string())
        .arg(controller.to_string())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("scripts/kafka-broker (run scripts/install-kafka)");
    let consumer: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", format!("127.0.0.1:{port}"))
        .create()
        .expect("client");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while rdkafka::consumer::Consumer::fetch_metadata(&consumer, None, Duration::from_secs(1))
        .map(|m| m.brokers().is_empty())
        .unwrap_or(true)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "Apache Kafka did not start; see {}",
            dir.join("broker.log").display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}
