//! Test harness: a real Apache Kafka broker lent to each test (`crate::kafka`), the gateway on
//! port 0 — the real `hookgate` binary ([`Gateway::start`]) for tests of process behaviour
//! (signals, logs, exit codes, restarts), or the library's `app::run` on its own runtime in this
//! process ([`Gateway::in_process`]) for everything else — an HTTP client, and a Kafka consumer
//! that reads topics back.
//!
//! Nothing here fakes Kafka: records are read back from the broker with librdkafka.

#![allow(dead_code)] // each test file uses a different subset

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

pub use crate::kafka::Broker;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wait_for_port(addr: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {addr} after {timeout:?}");
}

/// The gateway, started with a config written to a temp dir: a process, or `app::run` in this
/// process.
pub struct Gateway {
    pub child: Option<Child>,
    /// Set for an in-process gateway.
    in_process: Option<InProcess>,
    pub addr: SocketAddr,
    /// Set when the config uses the embedded broker.
    pub embedded_bootstrap: Option<String>,
    /// Set when the config has an `[admin]` listener.
    pub admin_addr: Option<SocketAddr>,
    pub dir: tempfile::TempDir,
    stderr_path: PathBuf,
}

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

impl Gateway {
    /// Starts the gateway with `config` (TOML). `{schemas}` in the text is replaced by
    /// `tests/schemas-min/`: the few small schemas the black-box tests are written against
    /// (their toy payloads would fail the shipped ones; `tests/it/schemas.rs` covers those).
    pub fn start(config: &str) -> Gateway {
        Self::start_env(config, &[])
    }

    /// Like [`Gateway::start`], with extra environment variables for the process.
    pub fn start_env(config: &str, env: &[(&str, &str)]) -> Gateway {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("gateway.toml");
        let schemas = repo_path("tests/schemas-min");
        let text = config.replace("{schemas}", &schemas.display().to_string());
        std::fs::write(&path, text).expect("write config");
        Self::start_with(&path, dir, env)
    }

    /// Starts the gateway with an existing config file and extra environment.
    pub fn start_with(config: &Path, dir: tempfile::TempDir, env: &[(&str, &str)]) -> Gateway {
        let stderr_path = dir.path().join("stderr.log");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .arg("--config")
            .arg(config)
            .args(["run", "--listen", "127.0.0.1:0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("RUST_LOG", "info,hookgate=debug")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start hookgate");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut embedded_bootstrap = None;
        let mut admin_addr = None;
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                panic!(
                    "hookgate exited before listening; stderr:\n{}",
                    std::fs::read_to_string(&stderr_path).unwrap_or_default()
                );
            };
            if let Some(b) = line.strip_prefix("embedded Kafka bootstrap: ") {
                embedded_bootstrap = Some(b.to_owned());
            }
            if let Some(a) = line.strip_prefix("hookgate admin API on http://") {
                admin_addr = a.parse().ok();
            }
            if let Some(a) = line
                .strip_prefix("hookgate listening on http://")
                .or_else(|| line.strip_prefix("hookgate listening on https://"))
            {
                break a.parse().expect("address");
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Gateway {
            child: Some(child),
            in_process: None,
            addr,
            embedded_bootstrap,
            admin_addr,
            dir,
            stderr_path,
        }
    }

    /// The process's log (stderr). An in-process gateway has none: a test that reads logs runs
    /// the binary.
    pub fn logs(&self) -> String {
        assert!(
            self.in_process.is_none(),
            "an in-process gateway keeps no log: start this test's gateway with Gateway::start"
        );
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends SIGTERM (in process: resolves `app::run`'s shutdown future).
    pub fn terminate(&mut self) {
        if let Some(p) = &mut self.in_process {
            if let Some(stop) = p.stop.take() {
                let _ = stop.send(());
            }
        }
        if let Some(child) = &self.child {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
        }
    }

    /// Waits for the process to exit and returns whether it exited successfully.
    pub fn wait(&mut self, timeout: Duration) -> bool {
        if let Some(p) = self.in_process.take() {
            return p.join(timeout).is_ok();
        }
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("hookgate did not exit within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(p) = self.in_process.take() {
            if let Err(e) = p.join(Duration::from_secs(30)) {
                eprintln!("--- in-process gateway ---\n{e}");
            }
            return;
        }
        if std::thread::panicking() {
            eprintln!("--- hookgate stderr ---\n{}", self.logs());
        }
    }
}

/// A gateway running `hookgate::app::run` on its own runtime thread.
struct InProcess {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl InProcess {
    /// Stops the gateway (if not yet) and waits for `app::run` to return.
    fn join(mut self, timeout: Duration) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let deadline = Instant::now() + timeout;
        while !thread.is_finished() {
            if Instant::now() > deadline {
                return Err(format!("app::run did not return within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        thread
            .join()
            .map_err(|_| "app::run panicked".to_owned())
            .and_then(|r| r)
    }
}

impl Gateway {
    /// Starts `hookgate::app::run` in this process with `config` (TOML, `{schemas}` as for
    /// [`Gateway::start`]) on port 0. Secrets are read from `env`, then the process
    /// environment. No SIGHUP reload and no log: tests of those start the binary.
    pub fn in_process(config: &str) -> Gateway {
        Self::in_process_env(config, &[])
    }

    /// Like [`Gateway::in_process`], with extra variables for secret references.
    pub fn in_process_env(config: &str, env: &[(&str, &str)]) -> Gateway {
        use hookgate::app::{self, Listeners, Options};
        use hookgate::delivery::kafka::Brokers;

        let dir = tempfile::tempdir().expect("tempdir");
        let schemas_dir = repo_path("tests/schemas-min");
        let text = config.replace("{schemas}", &schemas_dir.display().to_string());
        std::fs::write(dir.path().join("gateway.toml"), &text).expect("write config");
        let vars: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let settings = hookgate::config::parse(&text, &|name| {
            vars.get(name).cloned().or_else(|| std::env::var(name).ok())
        })
        .expect("config");
        let schemas =
            hookgate::ingest::schema::SchemaRegistry::load(&settings.schemas_dir).expect("schemas");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addrs) = std::sync::mpsc::channel();
        let (ready, serving) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || -> Result<(), String> {
            let (bootstrap, cluster) = match &settings.kafka.brokers {
                Brokers::Bootstrap(list) => (list.clone(), None),
                Brokers::Embedded => {
                    let cluster =
                        rdkafka::mocking::MockCluster::new(1).map_err(|e| e.to_string())?;
                    (cluster.bootstrap_servers(), Some(cluster))
                }
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(hookgate::base::json::WORKER_STACK_BYTES)
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            let embedded = cluster.as_ref().map(|_| bootstrap.clone());
            let result = runtime.block_on(async move {
                let ingest = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| e.to_string())?;
                let admin = match &settings.admin {
                    Some(a) => Some(
                        tokio::net::TcpListener::bind(&a.listen)
                            .await
                            .map_err(|e| e.to_string())?,
                    ),
                    None => None,
                };
                let _ = bound.send((
                    ingest.local_addr().map_err(|e| e.to_string())?,
                    admin.as_ref().and_then(|a| a.local_addr().ok()),
                    embedded.clone(),
                ));
                let options = Options {
                    bootstrap,
                    embedded: embedded.is_some(),
                    reload_from: None,
                    ready: Some(ready),
                };
                let shutdown = async move {
                    let _ = stopped.await;
                };
                app::run(
                    settings,
                    schemas,
                    Listeners { ingest, admin },
                    options,
                    shutdown,
                )
                .await
                .map_err(|e| e.to_string())
            });
            drop(cluster);
            result
        });
        let Ok((addr, admin_addr, embedded_bootstrap)) = addrs.recv() else {
            let error = thread
                .join()
                .map_err(|_| "panicked".to_owned())
                .and_then(|r| r)
                .err()
                .unwrap_or_default();
            panic!("the in-process gateway did not start: {error}");
        };
        let mut gateway = Gateway {
            child: None,
            in_process: Some(InProcess {
                stop: Some(stop),
                thread: Some(thread),
            }),
            addr,
            embedded_bootstrap,
            admin_addr,
            stderr_path: dir.path().join("no-log"),
            dir,
        };
        gateway.wait_until_serving(&serving);
        gateway
    }

    /// Waits until `app::run` says every listener takes requests (start-up, e.g. the admin
    /// store, happens between binding and serving); panics with its error if it returned.
    fn wait_until_serving(&mut self, serving: &std::sync::mpsc::Receiver<()>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if serving.recv_timeout(Duration::from_millis(20)).is_ok() {
                return;
            }
            let stopped = self
                .in_process
                .as_ref()
                .is_some_and(|p| p.thread.as_ref().is_some_and(|t| t.is_finished()));
            if stopped {
                let error = self
                    .in_process
                    .take()
                    .map(|p| p.join(Duration::from_secs(1)))
                    .and_then(Result::err)
                    .unwrap_or_default();
                panic!("the in-process gateway stopped during start-up: {error}");
            }
            assert!(
                Instant::now() < deadline,
                "the in-process gateway never served"
            );
        }
    }
}

/// An HTTP answer, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", self.body))
    }
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends one HTTP/1.1 request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    exchange(stream, &addr.to_string(), method, path, headers, body).await
}

/// One HTTP/1.1 request and its answer over an open stream (plain TCP, or TLS after its
/// handshake), with `host` as the Host header.
pub async fn exchange<S>(
    stream: S,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", host);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    let response = sender.send_request(req).await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A bodiless request on a fresh connection: the status, or `None` when no HTTP answer comes
/// (the connection is refused, reset or closed).
pub async fn try_send(addr: SocketAddr, method: &str, path: &str) -> Option<u16> {
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.ok()?;
    tokio::spawn(conn);
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let response = sender.send_request(req).await.ok()?;
    Some(response.status().as_u16())
}

pub async fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    send(
        addr,
        "POST",
        path,
        headers,
        Bytes::copy_from_slice(body.as_bytes()),
    )
    .await
}

/// A record read back from Kafka.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub key: Option<String>,
    pub value: serde_json::Value,
    pub headers: HashMap<String, String>,
}

/// Reads `topic` from the beginning until `done` is satisfied by what was read and every
/// partition has been read to its end, or `timeout` passes. Returns everything read.
pub fn read_topic(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
    done: impl Fn(&[Record]) -> bool,
) -> Vec<Record> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("test-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    let deadline = Instant::now() + timeout;
    // The topic may not exist yet when the test starts reading.
    let partitions = loop {
        let found = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .ok()
            .and_then(|md| {
                md.topics()
                    .first()
                    .map(|t| (t.error(), t.partitions().len()))
            });
        match found {
            Some((None, n)) if n > 0 => break n as i32,
            _ if Instant::now() > deadline => panic!("topic {topic} never appeared"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .expect("offset");
    }
    consumer.assign(&tpl).expect("assign");
    let mut records = Vec::new();
    let mut at_end = vec![false; partitions as usize];
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => {
                if let Some(flag) = at_end.get_mut(m.partition() as usize) {
                    *flag = false;
                }
                let headers = m
                    .headers()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| {
                                let v = h.value.map(|v| String::from_utf8_lossy(v).into_owned());
                                (h.key.to_owned(), v.unwrap_or_default())
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                records.push(Record {
                    topic: m.topic().to_owned(),
                    partition: m.partition(),
                    key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    value: serde_json::from_slice(m.payload().unwrap_or_default())
                        .expect("record value is JSON"),
                    headers,
                });
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                if let Some(flag) = at_end.get_mut(p as usize) {
                    *flag = true;
                }
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
        }
        if at_end.iter().all(|e| *e) && done(&records) {
            return records;
        }
    }
    panic!(
        "timed out reading {topic}; got {} record(s): {records:#?}",
        records.len()
    );
}

/// GitHub signature of `body` with `secret`, as GitHub computes it, for bodies that have no
/// published vector. (Tests also use GitHub's published vectors; see `tests/it/e2e.rs`.)
pub fn github_signature(secret: &str, body: &str) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
