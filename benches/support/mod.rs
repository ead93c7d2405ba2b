//! Helpers the end-to-end benches share: settings from the environment, a free port, and a
//! Tansu broker process.

#![allow(dead_code)] // each bench uses a different subset

use std::path::Path;
use std::process::{Child, Command, Stdio};
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

pub fn tansu_installed() -> bool {
    Command::new("tansu")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Starts `tansu broker` on `port` with `engine` (e.g. `memory://tansu/`), working in `dir`
/// (where a `sqlite://` engine keeps its file), its log appended to `log` (or discarded);
/// returns once the port accepts connections.
pub fn start_tansu(dir: &Path, port: u16, engine: &str, log: Option<&Path>) -> Child {
    let url = format!("tcp://127.0.0.1:{port}");
    let stderr = log
        .and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        })
        .map(Stdio::from)
        .unwrap_or_else(Stdio::null);
    let child = Command::new("tansu")
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            engine,
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("tansu (run scripts/install-tansu)");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
