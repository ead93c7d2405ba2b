//! "A 2xx is never lost", proven against Apache Kafka itself: broker and gateway faults under
//! continuous load, with senders that retry as providers do.
//!
//! Each scenario runs a private broker ([`Kafka`]: it gets stopped, killed and frozen) and a
//! gateway with a spool and a dedup journal on a fixed port (it gets killed and restarted on
//! the same files). Senders post signed GitHub deliveries, each with a new delivery id; any
//! answer other than 2xx, or none within 10 s, is retried with the same id after a backoff
//! (100 ms doubling to 2 s), as a provider redelivers. Once the faults are over and the spool
//! has drained, a consumer reads the topic back and the scenario prints
//! `sent / acknowledged / on Kafka / lost / duplicated`. Pass: lost 0.
//!
//! Duplicates are counted, not hidden: the gateway promises at least once. They come from a
//! record Kafka stored whose acknowledgement never reached the gateway (the broker died or
//! froze between the two), which the producer or the spool's drain then sends again.
//!
//! a–e run in the test command; the ten-minute random schedule (f) and the spool's drain rate
//! are `#[ignore]`d here and run by `scripts/outage`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};

use crate::common::{free_port, github_signature, read_topic, repo_path};
use crate::kafka::Kafka;

const TOPIC: &str = "webhooks.github.star";
const SECRET: &str = "outage-secret";
/// A provider gives up on an answer after about this long and retries.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The gateway process, restartable on the same port, config, spool and journal.
struct GatewayProcess {
    child: Option<Child>,
    addr: SocketAddr,
    config: PathBuf,
    log: PathBuf,
}

impl GatewayProcess {
    fn start(config: &Path, dir: &Path) -> GatewayProcess {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let mut gateway = GatewayProcess {
            child: None,
            addr,
            config: config.to_owned(),
            log: dir.join("gateway.log"),
        };
        gateway.launch();
        gateway
    }

    /// Starts the process and waits until it listens (the port may linger for a moment after
    /// a kill: retried).
    fn launch(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("gateway log");
            let mut child = Command::new(env!("CARGO_BIN_EXE_hookgate"))
                .arg("--config")
                .arg(&self.config)
                .args(["run", "--listen", &self.addr.to_string()])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .env("RUST_LOG", "warn")
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .expect("start hookgate");
            let stdout = child.stdout.take().expect("stdout");
            let mut lines = BufReader::new(stdout).lines();
            let listening = lines
                .by_ref()
                .map_while(Result::ok)
                .any(|l| l.starts_with("hookgate listening on"));
            if listening {
                std::thread::spawn(move || for _ in lines {});
                self.child = Some(child);
                return;
            }
            let _ = child.wait();
            assert!(
                Instant::now() < deadline,
                "hookgate did not start; its log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// SIGKILL: nothing is flushed, nothing is answered.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) {
        self.kill();
        self.launch();
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- hookgate log (last 40 lines, newest first) ---");
            for line in tail {
                eprintln!("{line}");
            }
        }
    }
}

/// What the senders did and saw.
#[derive(Default)]
struct Tally {
    /// Deliveries started (each with its own id).
    sent: AtomicU64,
    /// Requests, retries included.
    attempts: AtomicU64,
    acknowledged: Mutex<HashSet<String>>,
    /// Answers other than 2xx, by status ("none": no answer in time or no connection).
    refusals: Mutex<BTreeMap<String, u64>>,
    /// Deliveries the sender stopped retrying at the end of the run.
    abandoned: AtomicU64,
}

/// One POST on a fresh connection; its status, or `None` without an answer in time.
async fn post_once(addr: SocketAddr, id: &str, body: &str, signature: &str) -> Option<u16> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(conn);
        let request = hyper::Request::post("/webhooks/gh")
            .header("host", "outage")
            .header("content-type", "application/json")
            .header("x-github-event", "star")
            .header("x-github-delivery", id)
            .header("x-hub-signature-256", signature)
            .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
            .ok()?;
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        let _ = response.into_body().collect().await;
        Some(status)
    };
    tokio::time::timeout(ANSWER_TIMEOUT, exchange)
        .await
        .ok()
        .flatten()
}

/// A sender: a new delivery every `period` (or as soon as the last one is acknowledged, when
/// that takes longer) until `stop`; each retried until acknowledged or until `give_up`.
async fn sender(
    addr: SocketAddr,
    name: String,
    period: Duration,
    stop: Arc<AtomicBool>,
    give_up: Arc<Mutex<Option<Instant>>>,
    tally: Arc<Tally>,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    while !stop.load(Ordering::SeqCst) {
        ticks.tick().await;
        n += 1;
        let id = format!("{name}-{n}");
        let body = format!(r#"{{"action":"created","delivery":"{id}"}}"#);
        let signature = github_signature(SECRET, &body);
        tally.sent.fetch_add(1, Ordering::SeqCst);
        let mut backoff = Duration::from_millis(100);
        loop {
            tally.attempts.fetch_add(1, Ordering::SeqCst);
            let status = post_once(addr, &id, &body, &signature).await;
            if let Some(s @ 200..=299) = status {
                let _ = s;
                tally.acknowledged.lock().expect("tally").insert(id.clone());
                break;
            }
            let key = status.map_or_else(|| "none".to_owned(), |s| s.to_string());
            *tally
                .refusals
                .lock()
                .expect("tally")
                .entry(key)
                .or_default() += 1;
            let deadline = *give_up.lock().expect("give up");
            if deadline.is_some_and(|d| Instant::now() > d) {
                tally.abandoned.fetch_add(1, Ordering::SeqCst);
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// The value of an unlabelled metric on the gateway's /metrics, when it answers.
async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .ok()?;
        tokio::spawn(conn);
        let request = hyper::Request::get("/metrics")
            .header("host", "outage")
            .body(Full::new(Bytes::new()))
            .ok()?;
        let response = sender.send_request(request).await.ok()?;
        let body = response.into_body().collect().await.ok()?.to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        text.lines().find_map(|l| {
            l.strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .and_then(|v| v.trim().parse().ok())
        })
    };
    tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .ok()
        .flatten()
}

/// A fault, as the schedule applies it.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// a. SIGSTOP the broker for this long, then SIGCONT.
    FreezeBroker(Duration),
    /// b. SIGTERM the broker, start it again after this long.
    StopBroker(Duration),
    /// c. SIGKILL the broker, start it again after this long.
    KillBroker(Duration),
    /// d. SIGKILL the gateway, start it again at once on its spool and journal.
    KillGateway,
    /// e. SIGKILL both, `broker_first` or the gateway first, a second apart; the gateway comes
    ///    back first (on a broker that is down: it spools), the broker after this long.
    KillBoth { broker_first: bool, down: Duration },
}

/// The broker, the gateway, the senders.
struct Rig {
    name: String,
    kafka: Kafka,
    gateway: GatewayProcess,
    _dir: tempfile::TempDir,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
    give_up: Arc<Mutex<Option<Instant>>>,
    senders: Vec<tokio::task::JoinHandle<()>>,
    started: Instant,
    /// What happened when, as printed.
    history: Vec<String>,
}

/// What a run counted.
#[derive(Debug)]
struct Report {
    sent: u64,
    attempts: u64,
    acknowledged: usize,
    on_kafka: usize,
    records: usize,
    lost: Vec<String>,
    duplicated: usize,
    abandoned: u64,
    refusals: BTreeMap<String, u64>,
}

impl Rig {
    /// A broker, a gateway on it with a spool and a journal, and `senders` senders posting a
    /// delivery every `period` each.
    fn start(name: &str, senders: usize, period: Duration) -> Rig {
        let kafka = Kafka::start();
        kafka.create_topic(TOPIC, 3);
        let dir = tempfile::Builder::new()
            .prefix("outage-")
            .tempdir()
            .expect("tempdir");
        let config = dir.path().join("gateway.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[kafka]
brokers = "{bootstrap}"
create_topics = false
delivery_timeout_ms = 2000
retry_after_secs = 1
[schemas]
dir = "{schemas}"
[spool]
dir = "{spool}"
[dedup]
window_secs = 3600
journal = "{journal}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
"#,
                bootstrap = kafka.bootstrap,
                schemas = repo_path("tests/schemas-min").display(),
                spool = dir.path().join("spool").display(),
                journal = dir.path().join("dedup.jsonl").display(),
            ),
        )
        .expect("config");
        let gateway = GatewayProcess::start(&config, dir.path());
        let tally = Arc::new(Tally::default());
        let stop = Arc::new(AtomicBool::new(false));
        let give_up = Arc::new(Mutex::new(None));
        let senders = (0..senders)
            .map(|i| {
                tokio::spawn(sender(
                    gateway.addr,
                    format!("{name}-s{i}"),
                    period,
                    stop.clone(),
                    give_up.clone(),
                    tally.clone(),
                ))
            })
            .collect();
        println!(
            "{name}: broker {} (log {}), gateway {} (log {})",
            kafka.bootstrap,
            kafka.dir().join("broker.log").display(),
            gateway.addr,
            gateway.log.display()
        );
        Rig {
            name: name.to_owned(),
            kafka,
            gateway,
            _dir: dir,
            tally,
            stop,
            give_up,
            senders,
            started: Instant::now(),
            history: Vec::new(),
        }
    }

    fn say(&mut self, what: &str) {
        let line = format!(
            "{}: t={:.1}s {what}",
            self.name,
            self.started.elapsed().as_secs_f64()
        );
        println!("{line}");
        self.history.push(line);
    }

    /// Applies `fault` (blocking this thread while the senders go on).
    fn apply(&mut self, fault: Fault) {
        match fault {
            Fault::FreezeBroker(d) => {
                self.say(&format!("freeze the broker (SIGSTOP) for {d:?}"));
                self.kafka.freeze();
                std::thread::sleep(d);
                self.kafka.thaw();
                self.say("broker thawed (SIGCONT)");
            }
            Fault::StopBroker(d) | Fault::KillBroker(d) => {
                let clean = matches!(fault, Fault::StopBroker(_));
                let how = if clean {
                    "stop the broker (SIGTERM)"
                } else {
                    "kill -9 the broker"
                };
                self.say(&format!("{how}, down for {d:?}"));
                if clean {
                    self.kafka.stop();
                } else {
                    self.kafka.kill();
                }
                std::thread::sleep(d);
                self.kafka.restart();
                self.say("broker restarted");
            }
            Fault::KillGateway => {
                self.say("kill -9 the gateway");
                self.gateway.kill();
                self.gateway.restart();
                self.say("gateway restarted on its spool and journal");
            }
            Fault::KillBoth { broker_first, down } => {
                self.say(&format!(
                    "kill -9 both, {} first",
                    if broker_first { "broker" } else { "gateway" }
                ));
                if broker_first {
                    self.kafka.kill();
                    std::thread::sleep(Duration::from_secs(1));
                    self.gateway.kill();
                } else {
                    self.gateway.kill();
                    std::thread::sleep(Duration::from_secs(1));
                    self.kafka.kill();
                }
                self.gateway.restart();
                self.say("gateway restarted (broker still down)");
                std::thread::sleep(down);
                self.kafka.restart();
                self.say("broker restarted");
            }
        }
    }

    /// Stops new deliveries, lets the senders finish their retries, waits for the spool to
    /// drain, reads the topic back and counts.
    async fn finish(mut self) -> Report {
        self.say("no new deliveries; finishing retries");
        self.stop.store(true, Ordering::SeqCst);
        *self.give_up.lock().expect("give up") = Some(Instant::now() + Duration::from_secs(60));
        for s in std::mem::take(&mut self.senders) {
            let _ = s.await;
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let pending = metric(self.gateway.addr, "hookgate_spool_records").await;
            if pending == Some(0.0) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the spool did not drain in 120 s ({pending:?} records left)"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        self.say("spool drained; reading the topic back");
        let acknowledged = self.tally.acknowledged.lock().expect("tally").clone();
        let bootstrap = self.kafka.bootstrap.clone();
        let wanted = acknowledged.clone();
        let records = tokio::task::spawn_blocking(move || {
            read_topic(&bootstrap, TOPIC, Duration::from_secs(90), |records| {
                let keys: HashSet<&str> = records.iter().filter_map(|r| r.key.as_deref()).collect();
                wanted.iter().all(|k| keys.contains(k.as_str()))
            })
        })
        .await
        .unwrap_or_default();
        let mut per_key: HashMap<String, usize> = HashMap::new();
        for r in &records {
            *per_key
                .entry(r.key.clone().unwrap_or_default())
                .or_default() += 1;
        }
        let mut lost: Vec<String> = acknowledged
            .iter()
            .filter(|k| !per_key.contains_key(*k))
            .cloned()
            .collect();
        lost.sort();
        let report = Report {
            sent: self.tally.sent.load(Ordering::SeqCst),
            attempts: self.tally.attempts.load(Ordering::SeqCst),
            acknowledged: acknowledged.len(),
            on_kafka: per_key.len(),
            records: records.len(),
            lost,
            duplicated: records.len() - per_key.len(),
            abandoned: self.tally.abandoned.load(Ordering::SeqCst),
            refusals: self.tally.refusals.lock().expect("tally").clone(),
        };
        let line = format!(
            "{}: sent {} / acknowledged {} / on Kafka {} ({} records) / lost {} / duplicated {}; \
             attempts {}, refused or unanswered {:?}, abandoned {}",
            self.name,
            report.sent,
            report.acknowledged,
            report.on_kafka,
            report.records,
            report.lost.len(),
            report.duplicated,
            report.attempts,
            report.refusals,
            report.abandoned
        );
        println!("{line}");
        // The newest figures of each scenario, for the docs to quote (docs/src/benchmarks.md).
        let results = repo_path("target/outage-results");
        if std::fs::create_dir_all(&results).is_ok() {
            let _ = std::fs::write(
                results.join(format!("{}.txt", self.name)),
                format!("{}\n{line}\n", self.history.join("\n")),
            );
        }
        report
    }
}

/// Runs `faults` under load, `gap` of load before, between and after them; asserts nothing
/// acknowledged was lost.
async fn scenario(name: &str, faults: &[Fault]) -> Report {
    let mut rig = Rig::start(name, 4, Duration::from_millis(15));
    let gap = Duration::from_secs(3);
    std::thread::sleep(gap);
    for fault in faults {
        rig.apply(*fault);
        std::thread::sleep(gap);
    }
    let report = rig.finish().await;
    assert!(
        report.lost.is_empty(),
        "{name}: {} acknowledged deliveries are not on Kafka: {:?}",
        report.lost.len(),
        &report.lost[..report.lost.len().min(20)]
    );
    assert!(report.acknowledged > 0, "{name}: nothing was acknowledged");
    assert_eq!(report.abandoned, 0, "{name}: deliveries never acknowledged");
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_frozen_for_10_s_loses_nothing() {
    scenario("a-freeze", &[Fault::FreezeBroker(Duration::from_secs(10))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b_broker_stopped_for_10_s_and_restarted_loses_nothing() {
    scenario("b-stop", &[Fault::StopBroker(Duration::from_secs(10))]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_broker_killed_and_restarted_loses_nothing() {
    scenario(
        "c-kill-broker",
        &[Fault::KillBroker(Duration::from_secs(3))],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d_gateway_killed_and_restarted_on_its_spool_loses_nothing() {
    // Twice: once with the broker up, once while records wait in the spool.
    scenario(
        "d-kill-gateway",
        &[
            Fault::KillGateway,
            Fault::FreezeBroker(Duration::from_secs(4)),
            Fault::KillGateway,
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_broker_and_gateway_killed_in_either_order_lose_nothing() {
    scenario(
        "e-kill-both",
        &[
            Fault::KillBoth {
                broker_first: true,
                down: Duration::from_secs(3),
            },
            Fault::KillBoth {
                broker_first: false,
                down: Duration::from_secs(3),
            },
        ],
    )
    .await;
}

/// Reads a number from the environment, or `default`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The schedule a seed gives: (load before the fault, fault) pairs filling `total`.
fn random_schedule(seed: u64, total: Duration) -> Vec<(Duration, Fault)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut schedule = Vec::new();
    let mut planned = Duration::ZERO;
    while planned < total {
        let gap = Duration::from_secs(rng.u64(3..=20));
        let secs = |rng: &mut fastrand::Rng, range| Duration::from_secs(rng.u64(range));
        let fault = match rng.u8(0..5) {
            0 => Fault::FreezeBroker(secs(&mut rng, 2..=15)),
            1 => Fault::StopBroker(secs(&mut rng, 1..=15)),
            2 => Fault::KillBroker(secs(&mut rng, 0..=10)),
            3 => Fault::KillGateway,
            _ => Fault::KillBoth {
                broker_first: rng.bool(),
                down: secs(&mut rng, 0..=10),
            },
        };
        // What the fault itself takes, roughly (a broker restart is about 5 s).
        planned += gap
            + match fault {
                Fault::FreezeBroker(d) => d,
                Fault::StopBroker(d) | Fault::KillBroker(d) => d + Duration::from_secs(5),
                Fault::KillGateway => Duration::from_secs(1),
                Fault::KillBoth { down, .. } => down + Duration::from_secs(7),
            };
        schedule.push((gap, fault));
    }
    schedule
}

/// f. A random schedule of a–e for `HOOKGATE_OUTAGE_SECONDS` (600), seeded by
/// `HOOKGATE_OUTAGE_SEED` (default: the clock; printed, so a run can be replayed). Run by
/// `scripts/outage`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten minutes: scripts/outage runs it"]
async fn f_random_schedule_of_faults_loses_nothing() {
    let seconds: u64 = env_or("HOOKGATE_OUTAGE_SECONDS", 600);
    let seed: u64 = env_or(
        "HOOKGATE_OUTAGE_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    );
    let senders: usize = env_or("HOOKGATE_OUTAGE_SENDERS", 4);
    let schedule = random_schedule(seed, Duration::from_secs(seconds));
    println!(
        "f-random: seed {seed} (HOOKGATE_OUTAGE_SEED={seed} replays this schedule), {seconds} s, \
         {} faults, {senders} senders",
        schedule.len()
    );
    for (gap, fault) in &schedule {
        println!("f-random: after {gap:?} of load: {fault:?}");
    }
    let mut rig = Rig::start("f-random", senders, Duration::from_millis(15));
    rig.history.push(format!(
        "f-random: seed {seed}, {seconds} s, {senders} senders"
    ));
    let mut counts: BTreeMap<&str, u32> = BTreeMap::new();
    for (gap, fault) in schedule {
        std::thread::sleep(gap);
        rig.apply(fault);
        let kind = match fault {
            Fault::FreezeBroker(_) => "a freeze",
            Fault::StopBroker(_) => "b stop",
            Fault::KillBroker(_) => "c kill broker",
            Fault::KillGateway => "d kill gateway",
            Fault::KillBoth { .. } => "e kill both",
        };
        *counts.entry(kind).or_default() += 1;
    }
    std::thread::sleep(Duration::from_secs(5));
    rig.history
        .push(format!("f-random: seed {seed}, faults applied {counts:?}"));
    let report = rig.finish().await;
    println!("f-random: seed {seed}, faults applied {counts:?}");
    assert!(
        report.lost.is_empty(),
        "seed {seed}: {} acknowledged deliveries are not on Kafka: {:?}",
        report.lost.len(),
        &report.lost[..report.lost.len().min(20)]
    );
    assert_eq!(
        report.abandoned, 0,
        "seed {seed}: deliveries never acknowledged"
    );
}

/// The spool's drain under load: a steady `HOOKGATE_DRAIN_RATE` webhooks/s (default 1,000),
/// the broker stopped for `HOOKGATE_DRAIN_OUTAGE_SECONDS` (60), then back; prints how long the
/// spool took to empty while the load went on, and the rates. Run by `scripts/outage`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: scripts/outage runs it"]
async fn spool_drains_faster_than_traffic_arrives() {
    let rate: u64 = env_or("HOOKGATE_DRAIN_RATE", 1000);
    let outage = Duration::from_secs(env_or("HOOKGATE_DRAIN_OUTAGE_SECONDS", 60));
    let senders = 20usize;
    let period = Duration::from_secs_f64(senders as f64 / rate as f64);
    let mut rig = Rig::start("drain", senders, period);
    let addr = rig.gateway.addr;
    std::thread::sleep(Duration::from_secs(10));
    let acked = |rig: &Rig| rig.tally.acknowledged.lock().expect("tally").len();
    let before = (Instant::now(), acked(&rig));
    rig.say(&format!("stop the broker (SIGTERM) for {outage:?}"));
    rig.kafka.stop();
    std::thread::sleep(outage);
    let spooled = metric(addr, "hookgate_spool_records").await.unwrap_or(0.0);
    let drained_before = metric(addr, "hookgate_spool_drained_total")
        .await
        .unwrap_or(0.0);
    rig.kafka.restart();
    let back = Instant::now();
    let acked_back = acked(&rig);
    rig.say(&format!("broker back; {spooled} records in the spool"));
    let mut peak = spooled;
    let emptied = loop {
        let pending = metric(addr, "hookgate_spool_records").await;
        if let Some(p) = pending {
            peak = peak.max(p);
            if p == 0.0 {
                break Some(back.elapsed());
            }
        }
        if back.elapsed() > Duration::from_secs(600) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let drained = metric(addr, "hookgate_spool_drained_total")
        .await
        .unwrap_or(0.0)
        - drained_before;
    let during = back.elapsed().as_secs_f64();
    let ingest_outage =
        (acked_back - before.1) as f64 / back.duration_since(before.0).as_secs_f64();
    let ingest_drain = (acked(&rig) - acked_back) as f64 / during;
    match emptied {
        Some(t) => rig.say(&format!(
            "spool empty {:.1} s after the broker came back: {drained:.0} records drained \
             ({:.0}/s) while {ingest_drain:.0}/s arrived (target {rate}/s; {ingest_outage:.0}/s \
             acknowledged during the outage); peak {peak:.0} records",
            t.as_secs_f64(),
            drained / during
        )),
        None => rig.say(&format!(
            "spool NOT empty 600 s after the broker came back: {drained:.0} drained, \
             {ingest_drain:.0}/s arriving"
        )),
    }
    let report = rig.finish().await;
    assert!(report.lost.is_empty(), "lost {:?}", report.lost.len());
    assert!(emptied.is_some(), "the spool fell behind");
}
