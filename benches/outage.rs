//! Outage and crash under load: counts what was acknowledged against what reached Kafka.
//! Run: `scripts/outage` (or `cargo bench --bench outage`). Prints sent / acknowledged /
//! consumed / lost / duplicated; lost must be 0.
//!
//! A Tansu broker and the release gateway with a spool; `HOOKGATE_OUTAGE_CONNECTIONS` (default
//! 16) senders post signed webhooks with unique delivery ids for `HOOKGATE_OUTAGE_SECONDS`
//! (default 30). A third of the way in, the broker is frozen (SIGSTOP) for 5 s: it answers
//! nothing, as a hung or partitioned broker would; at two thirds, the gateway is killed with
//! SIGKILL and restarted on the same spool. Then the spool drains and the topic is read back.
//! (Tansu 0.6.0 cannot be killed and restarted under load: its SQLite engine panics after the
//! restart, and its memory engine forgets; `HOOKGATE_OUTAGE_ENGINE` picks the engine.)

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

mod support;
use std::time::{Duration, Instant};
use support::{env_or, free_port, start_tansu};

use bytes::Bytes;
use hmac::Mac;
use http_body_util::{BodyExt, Full};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;

const SECRET: &str = "outage-secret";
const TOPIC: &str = "webhooks.github.star";

fn start_broker(dir: &Path, port: u16) -> Child {
    let engine =
        std::env::var("HOOKGATE_OUTAGE_ENGINE").unwrap_or_else(|_| "memory://tansu/".to_owned());
    start_tansu(dir, port, &engine, Some(&dir.join("tansu.log")))
}

fn start_gateway(config: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(config)
        .args(["run", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(
            config
                .parent()
                .and_then(|d| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(d.join("gateway.log"))
                        .ok()
                })
                .map(Stdio::from)
                .unwrap_or_else(Stdio::null),
        )
        .spawn()
        .expect("hookgate");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        if line
            .map(|l| l.starts_with("hookgate listening"))
            .unwrap_or(false)
        {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    child
}

fn signal(child: &Child, signal: nix::sys::signal::Signal) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let _ = nix::sys::signal::kill(pid, signal);
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[derive(Default)]
struct Tally {
    sent: u64,
    acked: HashSet<String>,
    refused: HashMap<u16, u64>,
    errors: u64,
}

async fn sender(addr: SocketAddr, worker: usize, until: Instant, tally: Arc<Mutex<Tally>>) {
    let mut n = 0u64;
    while Instant::now() < until {
        let Ok(stream) = tokio::net::TcpStream::connect(addr).await else {
            tally.lock().expect("tally").errors += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok((mut tx, conn)) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await
        else {
            continue;
        };
        tokio::spawn(conn);
        while Instant::now() < until {
            n += 1;
            let id = format!("w{worker}-{n}");
            let body = format!(r#"{{"action":"created","n":"{id}"}}"#);
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
            mac.update(body.as_bytes());
            let sig = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            let req = hyper::Request::post("/webhooks/gh")
                .header("host", "outage")
                .header("content-type", "application/json")
                .header("x-github-event", "star")
                .header("x-github-delivery", &id)
                .header("x-hub-signature-256", sig)
                .body(Full::new(Bytes::from(body)))
                .expect("request");
            tally.lock().expect("tally").sent += 1;
            match tx.send_request(req).await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let _ = resp.into_body().collect().await;
                    let mut t = tally.lock().expect("tally");
                    if (200..300).contains(&status) {
                        t.acked.insert(id);
                    } else {
                        *t.refused.entry(status).or_default() += 1;
                    }
                }
                Err(_) => {
                    tally.lock().expect("tally").errors += 1;
                    break; // reconnect
                }
            }
        }
    }
}

/// `hookgate_spool_records` from the gateway's /metrics.
fn spool_records(addr: SocketAddr) -> Option<u64> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: outage\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("hookgate_spool_records "))
        .and_then(|v| v.trim().parse().ok())
}

fn consume(bootstrap: &str) -> Vec<String> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", format!("outage-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    let partitions = consumer
        .fetch_metadata(Some(TOPIC), Duration::from_secs(10))
        .map(|m| {
            m.topics()
                .first()
                .map(|t| t.partitions().len())
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..partitions as i32 {
        let _ = tpl.add_partition_offset(TOPIC, p, rdkafka::Offset::Beginning);
    }
    consumer.assign(&tpl).expect("assign");
    println!("reading {TOPIC} back ({partitions} partitions)");
    let mut keys = Vec::new();
    let mut idle = Instant::now();
    // The first fetch from a large topic can take a while; after that, 5 s of silence ends it.
    let quiet = |got: usize| Duration::from_secs(if got == 0 { 60 } else { 5 });
    while idle.elapsed() < quiet(keys.len()) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                keys.push(String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned());
                idle = Instant::now();
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
    keys
}

fn main() {
    let connections: usize = env_or("HOOKGATE_OUTAGE_CONNECTIONS", 16);
    let seconds: u64 = env_or("HOOKGATE_OUTAGE_SECONDS", 30);
    let partitions: u32 = env_or("HOOKGATE_OUTAGE_PARTITIONS", 3);
    let dir = tempfile::tempdir().expect("tempdir");
    println!(
        "broker and gateway logs: {}/tansu.log, gateway.log",
        dir.path().display()
    );
    let broker_port = free_port();
    let gateway_port = free_port();
    let bootstrap = format!("127.0.0.1:{broker_port}");
    let config = dir.path().join("outage.toml");
    std::fs::write(
        &config,
        format!(
            "[kafka]\nbrokers = \"{bootstrap}\"\ndelivery_timeout_ms = 2000\ntopic_partitions = {partitions}\n[schemas]\ndir = \"{}\"\n\
             [spool]\ndir = \"{}\"\n[dedup]\nenabled = false\n\
             [sources.gh]\nprovider = \"github\"\nsecrets = [{{ insecure_dev_value = \"{SECRET}\" }}]\n",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas-min").display(),
            dir.path().join("spool").display()
        ),
    )
    .expect("config");

    let mut broker = start_broker(dir.path(), broker_port);
    let mut gateway = start_gateway(&config, gateway_port);
    let addr: SocketAddr = format!("127.0.0.1:{gateway_port}").parse().expect("addr");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|w| runtime.spawn(sender(addr, w, until, tally.clone())))
        .collect();

    let kill_broker = env_or("HOOKGATE_OUTAGE_KILL_BROKER", 1) == 1;
    let kill_gateway = env_or("HOOKGATE_OUTAGE_KILL_GATEWAY", 1) == 1;
    let broker_mode: String = env_or("HOOKGATE_OUTAGE_BROKER", "freeze".to_owned());
    std::thread::sleep(Duration::from_secs(seconds / 3));
    if kill_broker && (broker_mode == "restart" || broker_mode == "stop") {
        // A real outage: the broker process is killed (`restart`: SIGKILL) or stopped
        // (`stop`: SIGTERM), stays down 5 s, and starts again on the same storage (needs a
        // durable engine: HOOKGATE_OUTAGE_ENGINE=sqlite://tansu.db).
        println!(
            "t={:?}: {broker_mode} the broker; down for 5 s",
            started.elapsed()
        );
        if broker_mode == "stop" {
            signal(&broker, nix::sys::signal::Signal::SIGTERM);
            let _ = broker.wait();
        } else {
            kill(&mut broker);
        }
        std::thread::sleep(Duration::from_secs(5));
        broker = start_broker(dir.path(), broker_port);
        println!("t={:?}: broker restarted", started.elapsed());
    } else if kill_broker {
        // The default: a frozen broker (SIGSTOP): connections hang, nothing is answered, as a
        // hung or partitioned broker would; its (memory) state survives for the count.
        println!(
            "t={:?}: freezing the broker (SIGSTOP) for 5 s",
            started.elapsed()
        );
        signal(&broker, nix::sys::signal::Signal::SIGSTOP);
        std::thread::sleep(Duration::from_secs(5));
        signal(&broker, nix::sys::signal::Signal::SIGCONT);
        println!("t={:?}: broker resumed", started.elapsed());
    }
    std::thread::sleep(Duration::from_secs(seconds / 3).saturating_sub(Duration::from_secs(5)));
    if kill_gateway {
        println!("t={:?}: kill -9 the gateway", started.elapsed());
        kill(&mut gateway);
        gateway = start_gateway(&config, gateway_port);
        println!(
            "t={:?}: gateway restarted on the same spool",
            started.elapsed()
        );
    }
    runtime.block_on(async {
        for w in workers {
            let _ = w.await;
        }
    });

    // Let the spool drain (the gateway's spool_records metric reaches 0), then read back.
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline && spool_records(addr) != Some(0) {
        std::thread::sleep(Duration::from_millis(500));
    }
    println!("t={:?}: spool drained; reading back", started.elapsed());
    let consumed = consume(&bootstrap);
    if let Ok(log) = std::fs::read_to_string(dir.path().join("tansu.log")) {
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("panicked") || l.contains("rror"))
            .take(6)
            .collect();
        println!("broker log tail: {tail:?}");
    }
    println!(
        "broker still running: {}",
        matches!(broker.try_wait(), Ok(None))
    );
    kill(&mut gateway);
    kill(&mut broker);

    let t = tally.lock().expect("tally");
    let unique: HashSet<&String> = consumed.iter().collect();
    let lost = t.acked.iter().filter(|k| !unique.contains(k)).count();
    let duplicated = consumed.len() - unique.len();
    println!(
        "hookgate outage run: {connections} connections, {seconds}s, broker outage 5 s ({broker_mode}): {kill_broker}, gateway kill -9'd and restarted: {kill_gateway}"
    );
    println!(
        "sent {} / acknowledged {} / consumed {} (unique {}) / lost {lost} / duplicated {duplicated}; refused {:?}; connection errors {}",
        t.sent,
        t.acked.len(),
        consumed.len(),
        unique.len(),
        t.refused,
        t.errors
    );
    if lost > 0 {
        eprintln!("LOST {lost} acknowledged events");
        std::process::exit(1);
    }
}
