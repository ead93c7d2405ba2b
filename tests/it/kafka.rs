//! Apache Kafka for the black-box tests: single-node KRaft brokers started from the jars
//! `scripts/install-kafka` fetched, through `scripts/kafka-broker` (one launcher for the tests
//! and the benches).
//!
//! - [`Kafka`] is one broker process on its own loopback ports and data dir, which a test can
//!   stop (SIGTERM), kill (SIGKILL), freeze (SIGSTOP), thaw and restart on the same data and
//!   ports. Its log is kept beside its data and printed when a test fails.
//! - [`Broker`] lends a test one broker of a small pool shared by the whole test binary (as
//!   many as tests run at once, `HOOKGATE_TEST_BROKERS`, default 2): a JVM starts in about 2 s
//!   and wants a core while it does, so tests do not each start one. A test has its broker to
//!   itself, and every topic the previous borrower left is deleted first, so each test starts
//!   on an empty cluster and may use any topic name.
//!
//! [`Kafka::start_sasl_plain`] starts a broker of its own whose client listener requires
//! SASL_PLAINTEXT with mechanism PLAIN; [`Kafka::client_config`] is how a test's clients reach
//! either kind.
//!
//! Every broker process dies with the test binary (it is started with a parent-death signal
//! from a thread that lives as long as the binary), so a failed or interrupted run leaves no
//! JVM behind.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Brokers' data dirs are temp dirs named `<TEMP_PREFIX><pid>-…`; a test binary removes those of
/// binaries no longer running (the pool's brokers live in a static, never dropped).
const TEMP_PREFIX: &str = "hookgate-kafka-";

/// How long a broker may take to serve metadata after its process starts.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// One Apache Kafka broker process (broker and controller in one node) on loopback.
pub struct Kafka {
    child: Option<Child>,
    /// `127.0.0.1:<port>`, the same across restarts.
    pub bootstrap: String,
    broker_port: u16,
    controller_port: u16,
    /// Removed on drop, unless a test failed: then kept for its log.
    dir: Option<tempfile::TempDir>,
    /// Where `dir` is, kept or not.
    path: std::path::PathBuf,
    starts: u32,
    /// SASL/PLAIN user and password the client listener requires; `None`: PLAINTEXT.
    sasl_plain: Option<(String, String)>,
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free loopback port: {e}"))
}

/// Spawns every broker from one thread that never ends, with SIGKILL as the parent-death
/// signal: Linux sends it when the spawning *thread* exits, so this thread outlives them all.
fn spawn(command: Command) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("kafka-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
                    unsafe {
                        command.pre_exec(|| {
                            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
                                .map_err(std::io::Error::from)
                        });
                    }
                    let _ = reply.send(command.spawn());
                }
                // The senders live in a static: never reached while the binary runs.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawner thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .map_err(|_| std::io::Error::other("spawner poisoned"))?
        .send((command, reply_tx))
        .map_err(|_| std::io::Error::other("spawner gone"))?;
    reply_rx
        .recv()
        .map_err(|_| std::io::Error::other("spawner gone"))?
}

impl Kafka {
    /// Starts a broker on free ports in a new data dir; panics with the cause when it cannot.
    pub fn start() -> Kafka {
        Self::try_start().unwrap_or_else(|e| panic!("cannot start Apache Kafka: {e}"))
    }

    /// Starts a broker whose client listener requires SASL_PLAINTEXT with mechanism PLAIN, for
    /// one user (`user` and `password`: letters, digits, `.`, `_`, `-`); panics with the cause
    /// when it cannot. Not from the pool: the test owns it.
    pub fn start_sasl_plain(user: &str, password: &str) -> Kafka {
        Self::try_start_with(Some((user.to_owned(), password.to_owned())))
            .unwrap_or_else(|e| panic!("cannot start Apache Kafka (SASL/PLAIN): {e}"))
    }

    /// Starts a broker on free ports in a new data dir. A port taken between choosing it and
    /// the broker binding it is retried with new ports.
    pub fn try_start() -> Result<Kafka, String> {
        Self::try_start_with(None)
    }

    fn try_start_with(sasl_plain: Option<(String, String)>) -> Result<Kafka, String> {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
                .tempdir()
                .map_err(|e| format!("temp dir: {e}"))?;
            let broker_port = free_port()?;
            let controller_port = free_port()?;
            if broker_port == controller_port {
                continue;
            }
            let mut kafka = Kafka {
                child: None,
                bootstrap: format!("127.0.0.1:{broker_port}"),
                broker_port,
                controller_port,
                path: dir.path().to_owned(),
                dir: Some(dir),
                starts: 0,
                sasl_plain: sasl_plain.clone(),
            };
            match kafka.launch() {
                Ok(()) => return Ok(kafka),
                Err(e) if e.contains("is busy") => last = e,
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// A client config that reaches this broker: its bootstrap address, and the SASL settings
    /// its client listener requires, if any.
    pub fn client_config(&self) -> ClientConfig {
        client_config(&self.bootstrap, self.sasl_plain.as_ref())
    }

    /// The broker's data dir and log (`broker.log`, appended by every start).
    pub fn dir(&self) -> &Path {
        self.path.as_path()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path.as_path().join("broker.log")).unwrap_or_default()
    }

    fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    pub fn pid(&self) -> Option<Pid> {
        self.child.as_ref().map(|c| Pid::from_raw(c.id() as i32))
    }

    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Starts the process (again) on this broker's dir and ports and waits until it serves
    /// metadata. After a kill the old port can stay busy for a moment: retried for 10 s.
    fn launch(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.launch_once() {
                Err(e) if e.contains("is busy") && self.starts > 0 && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                other => return other,
            }
        }
    }

    fn launch_once(&mut self) -> Result<(), String> {
        let log_path = self.path.as_path().join("broker.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let err_log = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(repo().join("scripts/kafka-broker"));
        command
            .arg(self.path.as_path())
            .arg(self.broker_port.to_string())
            .arg(self.controller_port.to_string())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err_log);
        match &self.sasl_plain {
            Some((user, password)) => {
                command.env("HOOKGATE_KAFKA_SASL_PLAIN", format!("{user}:{password}"))
            }
            None => command.env_remove("HOOKGATE_KAFKA_SASL_PLAIN"),
        };
        let child = spawn(command).map_err(|e| format!("scripts/kafka-broker: {e}"))?;
        self.child = Some(child);
        self.starts += 1;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let consumer: BaseConsumer = self
            .client_config()
            .set("log_level", "0")
            .create()
            .map_err(|e| format!("client: {e}"))?;
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let tail = self.log_tail(30);
                    return Err(if tail.contains("Address already in use") {
                        format!(
                            "port {} or {} on 127.0.0.1 is busy\n{tail}",
                            self.broker_port, self.controller_port
                        )
                    } else {
                        format!("the broker exited ({status}) while starting:\n{tail}")
                    });
                }
            }
            if consumer
                .fetch_metadata(None, Duration::from_millis(500))
                .is_ok_and(|m| !m.brokers().is_empty())
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the broker did not serve metadata on {} within {READY_TIMEOUT:?}:\n{}",
                    self.bootstrap,
                    self.log_tail(30)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn signal(&self, signal: Signal) {
        if let Some(pid) = self.pid() {
            let _ = kill(pid, signal);
        }
    }

    /// SIGTERM: a clean shutdown (Kafka's shutdown hook); SIGKILL after 30 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = Pid::from_raw(child.id() as i32);
            let _ = kill(pid, Signal::SIGCONT);
            let _ = kill(pid, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(30);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGKILL: the process dies at once, as in a crash or an OOM kill.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGSTOP: the process stays, holding its connections, and answers nothing (a hung or
    /// partitioned broker).
    pub fn freeze(&self) {
        self.signal(Signal::SIGSTOP);
    }

    /// SIGCONT after [`Kafka::freeze`].
    pub fn thaw(&self) {
        self.signal(Signal::SIGCONT);
    }

    /// Starts the broker again on the same data dir and ports (after stop or kill).
    pub fn restart(&mut self) {
        self.kill();
        self.launch()
            .unwrap_or_else(|e| panic!("cannot restart Apache Kafka: {e}"));
    }

    /// Creates `topic` with `partitions` partitions and waits until it has leaders.
    pub fn create_topic(&self, topic: &str, partitions: i32) {
        create_topic(self.client_config(), topic, partitions);
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        self.thaw();
        self.kill();
        if std::thread::panicking() {
            if let Some(dir) = self.dir.take() {
                let _ = dir.keep();
            }
            eprintln!(
                "--- Apache Kafka log (last 60 lines of {}, kept) ---\n{}",
                self.path.join("broker.log").display(),
                self.log_tail(60)
            );
        }
    }
}

/// A client config for `bootstrap`, with SASL/PLAIN as `user`/`password` when given.
fn client_config(bootstrap: &str, sasl_plain: Option<&(String, String)>) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    if let Some((user, password)) = sasl_plain {
        config
            .set("security.protocol", "SASL_PLAINTEXT")
            .set("sasl.mechanism", "PLAIN")
            .set("sasl.username", user)
            .set("sasl.password", password);
    }
    config
}

/// Runs an admin future to completion on a runtime of its own (callers may be inside one).
fn admin<T: Send + 'static>(
    config: ClientConfig,
    work: impl FnOnce(AdminClient<DefaultClientContext>) -> futures_util::future::BoxFuture<'static, T>
        + Send
        + 'static,
) -> T {
    std::thread::spawn(move || {
        let client: AdminClient<DefaultClientContext> = config.create().expect("admin client");
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work(client))
    })
    .join()
    .expect("admin thread")
}

/// Names of the topics on the cluster, internal ones (`__…`) left out.
pub fn topics(bootstrap: &str) -> Vec<String> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("consumer");
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata");
    metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|t| !t.starts_with("__"))
        .collect()
}

/// Creates `topic` with the client `config` and waits until every partition has a leader.
fn create_topic(config: ClientConfig, topic: &str, partitions: i32) {
    let name = topic.to_owned();
    admin(config.clone(), move |client| {
        Box::pin(async move {
            let new = NewTopic::new(&name, partitions, TopicReplication::Fixed(1));
            let result = client
                .create_topics([&new], &AdminOptions::new())
                .await
                .expect("create topics");
            for r in result {
                if let Err((t, e)) = r {
                    if e != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                        panic!("create topic {t}: {e}");
                    }
                }
            }
        })
    });
    let consumer: BaseConsumer = config.create().expect("consumer");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .ok()
            .and_then(|m| {
                m.topics().first().map(|t| {
                    t.error().is_none()
                        && t.partitions().len() == partitions as usize
                        && t.partitions().iter().all(|p| p.leader() >= 0)
                })
            })
            .unwrap_or(false);
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "topic {topic} has no leader");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Deletes every non-internal topic and waits until the cluster lists none.
fn delete_all_topics(bootstrap: &str) {
    let names = topics(bootstrap);
    if names.is_empty() {
        return;
    }
    let to_delete = names.clone();
    admin(client_config(bootstrap, None), move |client| {
        Box::pin(async move {
            let refs: Vec<&str> = to_delete.iter().map(String::as_str).collect();
            let _ = client.delete_topics(&refs, &AdminOptions::new()).await;
        })
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while !topics(bootstrap).is_empty() {
        assert!(
            Instant::now() < deadline,
            "topics not deleted: {:?}",
            topics(bootstrap)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pool of shared brokers: idle ones, and how many exist.
struct Pool {
    idle: Mutex<Vec<Kafka>>,
    returned: Condvar,
    started: AtomicUsize,
}

/// Removes broker dirs left by test binaries that are no longer running.
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(TEMP_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        remove_stale_dirs();
        Pool {
            idle: Mutex::new(Vec::new()),
            returned: Condvar::new(),
            started: AtomicUsize::new(0),
        }
    })
}

fn pool_size() -> usize {
    std::env::var("HOOKGATE_TEST_BROKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// A broker of the shared pool, lent to one test until dropped; it starts with no topics.
pub struct Broker {
    kafka: Option<Kafka>,
    pub bootstrap: String,
}

impl Broker {
    pub fn start() -> Broker {
        let pool = pool();
        let kafka = loop {
            let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(kafka) = idle.pop() {
                break kafka;
            }
            if pool.started.load(Ordering::SeqCst) < pool_size() {
                pool.started.fetch_add(1, Ordering::SeqCst);
                drop(idle);
                break Kafka::start();
            }
            let _unused = pool
                .returned
                .wait_timeout(idle, Duration::from_secs(1))
                .unwrap_or_else(|p| p.into_inner());
        };
        delete_all_topics(&kafka.bootstrap);
        Broker {
            bootstrap: kafka.bootstrap.clone(),
            kafka: Some(kafka),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let Some(mut kafka) = self.kafka.take() else {
            return;
        };
        let pool = pool();
        if kafka.is_running() {
            if std::thread::panicking() {
                eprintln!(
                    "--- Apache Kafka log (last 40 lines of {}) ---\n{}",
                    kafka.dir().join("broker.log").display(),
                    kafka.log_tail(40)
                );
            }
            pool.idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(kafka);
        } else {
            pool.started.fetch_sub(1, Ordering::SeqCst);
        }
        pool.returned.notify_one();
    }
}

#[cfg(test)]
mod harness_errors {
    //! Bad input to the harness gets an error naming its cause, not a hang or a stack trace.

    use std::process::Command;

    use super::repo;

    fn run(command: &mut Command) -> (i32, String) {
        let out = command.output().expect("run");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn launcher(dir: &std::path::Path, broker_port: u16, controller_port: u16) -> Command {
        let mut c = Command::new("/bin/bash");
        c.arg(repo().join("scripts/kafka-broker"))
            .arg(dir)
            .arg(broker_port.to_string())
            .arg(controller_port.to_string());
        c
    }

    #[test]
    fn a_busy_port_missing_java_or_jars_and_a_refused_download_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let busy_port = busy.local_addr().expect("addr").port();
        let free = super::free_port().expect("port");

        let (code, err) = run(&mut launcher(dir.path(), busy_port, free));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("port {busy_port} on 127.0.0.1 is busy")),
            "{err}"
        );

        let (code, err) = run(launcher(dir.path(), free, free + 1)
            .env("HOOKGATE_KAFKA_SASL_PLAIN", "user-without-password"));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("HOOKGATE_KAFKA_SASL_PLAIN must be USER:PASSWORD"),
            "{err}"
        );

        let (code, err) = run(launcher(dir.path(), free, free + 1).env("PATH", "/nonexistent"));
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("java is not installed"), "{err}");

        let (code, err) =
            run(launcher(dir.path(), free, free + 1).env("HOOKGATE_KAFKA_LIBS", "/nonexistent"));
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("no Apache Kafka jars in /nonexistent: run scripts/install-kafka"),
            "{err}"
        );

        // A version Maven Central does not have: the install fails, says so, and names the
        // fallback; an earlier install (none here) would be left in place.
        let home = tempfile::tempdir().expect("tempdir");
        let (code, err) = run(Command::new("bash")
            .arg(repo().join("scripts/install-kafka"))
            .env("HOOKGATE_KAFKA_HOME", home.path())
            .env("HOOKGATE_KAFKA_VERSION", "0.0.1"));
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("Maven could not fetch org.apache.kafka:kafka_2.13:0.0.1"),
            "{err}"
        );
        assert!(err.contains("HOOKGATE_KAFKA_VERSION=4.3.2"), "{err}");
        assert!(!home.path().join("libs").exists());
    }
}
