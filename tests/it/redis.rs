//! Real Redis servers for the `[dedup] backend = "redis"` tests: `redis-server` (Debian's,
//! installed by `scripts/install-redis`) on free loopback ports, each in its own temp dir,
//! without persistence, killed when dropped. [`Redis::stop`] and [`Redis::restart`] simulate an
//! outage (the port stays the same, so a gateway's URL stays valid).
//!
//! Beyond one plain server: [`RedisTls`] (TLS with a CA and client certificates made here),
//! [`RedisCluster`] (three masters) and [`RedisSentinel`] (a master, a replica and a sentinel,
//! with [`RedisSentinel::failover`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::free_port;

pub struct Redis {
    pub port: u16,
    /// Arguments after the usual ones (TLS, cluster, replication).
    args: Vec<String>,
    /// `Some(config file)`: a sentinel (`redis-server FILE --sentinel`).
    sentinel_conf: Option<PathBuf>,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl Redis {
    /// Starts a server and waits until it answers PING.
    pub fn start() -> Redis {
        Redis::start_in(tempfile::tempdir().expect("tempdir"), Vec::new())
    }

    /// Starts a server in `dir` with `args` added to the usual ones.
    fn start_in(dir: tempfile::TempDir, args: Vec<String>) -> Redis {
        let mut redis = Redis {
            port: free_port(),
            args,
            sentinel_conf: None,
            child: None,
            dir,
        };
        redis.spawn();
        redis
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (the port goes quiet) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server's process (SIGSTOP): connections stay open and nothing answers, as
    /// with an overloaded or partitioned server. [`Redis::resume`] continues it.
    pub fn pause(&self) {
        self.signal(nix::sys::signal::Signal::SIGSTOP);
    }

    pub fn resume(&self) {
        self.signal(nix::sys::signal::Signal::SIGCONT);
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let child = self.child.as_ref().expect("redis-server is running");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("signal redis-server");
    }

    /// Starts the server again on the same port (with nothing in it).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let binary =
            std::env::var("HOOKGATE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let mut command = Command::new(&binary);
        if let Some(conf) = &self.sentinel_conf {
            command.arg(conf).arg("--sentinel");
        }
        let child = command
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{binary}` ({e}): run scripts/install-redis"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} does not answer PING after 10 s",
            self.port
        );
    }

    /// Whether the server answers `PING` with `+PONG`.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        // A paused server would not die of SIGKILL any later, but resume it anyway so that
        // nothing is left stopped.
        if self.child.is_some() {
            self.resume();
        }
        self.stop();
    }
}

/// `redis-cli -p PORT ARGS...`: its standard output (an error reply is text there too).
pub fn cli(port: u16, args: &[&str]) -> String {
    let binary = std::env::var("HOOKGATE_REDIS_CLI").unwrap_or_else(|_| "redis-cli".into());
    let out = Command::new(&binary)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{binary}` ({e}): run scripts/install-redis"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls `done` every 50 ms until it holds; panics with `what` after `secs` seconds.
fn wait_until(secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "{what} after {secs} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server that takes TLS (with client certificates) on `tls_port`, and plain TCP on `port`
/// for the harness. The CA and both certificates are made here: the server's names
/// `127.0.0.1` and `localhost`.
pub struct RedisTls {
    pub redis: Redis,
    pub tls_port: u16,
    /// PEM of the CA that signed the server and client certificates.
    pub ca_file: PathBuf,
    pub client_cert_file: PathBuf,
    pub client_key_file: PathBuf,
}

impl RedisTls {
    pub fn start() -> RedisTls {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str| dir.path().join(name);
        let ca_key = rcgen::KeyPair::generate().expect("key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hookgate test Redis CA");
        let ca = ca_params.self_signed(&ca_key).expect("CA");
        let issue = |names: Vec<String>, file: &str| {
            let key = rcgen::KeyPair::generate().expect("key");
            let cert = rcgen::CertificateParams::new(names)
                .expect("params")
                .signed_by(&key, &ca, &ca_key)
                .expect("certificate");
            std::fs::write(path(&format!("{file}.pem")), cert.pem()).expect("write");
            std::fs::write(path(&format!("{file}.key")), key.serialize_pem()).expect("write");
        };
        issue(vec!["127.0.0.1".into(), "localhost".into()], "server");
        issue(vec!["hookgate".into()], "client");
        std::fs::write(path("ca.pem"), ca.pem()).expect("write");

        let tls_port = free_port();
        let display = |name: &str| path(name).display().to_string();
        let args = vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            display("server.pem"),
            "--tls-key-file".into(),
            display("server.key"),
            "--tls-ca-cert-file".into(),
            display("ca.pem"),
            "--tls-auth-clients".into(),
            "yes".into(),
        ];
        let (ca_file, client_cert_file, client_key_file) =
            (path("ca.pem"), path("client.pem"), path("client.key"));
        let redis = Redis::start_in(dir, args);
        wait_until(10, "the TLS port is not open", || {
            TcpStream::connect(("127.0.0.1", tls_port)).is_ok()
        });
        RedisTls {
            redis,
            tls_port,
            ca_file,
            client_cert_file,
            client_key_file,
        }
    }

    /// `rediss://127.0.0.1:TLS_PORT`.
    pub fn url(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.tls_port)
    }
}

/// A Redis Cluster of three masters (no replicas), every slot covered.
pub struct RedisCluster {
    pub nodes: Vec<Redis>,
}

impl RedisCluster {
    pub fn start() -> RedisCluster {
        let nodes: Vec<Redis> = (0..3)
            .map(|_| {
                let args = vec![
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-config-file".into(),
                    "nodes.conf".into(),
                    // The bus port is port + 10000 unless set: make it a free one too.
                    "--cluster-port".into(),
                    free_port().to_string(),
                ];
                Redis::start_in(tempfile::tempdir().expect("tempdir"), args)
            })
            .collect();
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut args = vec!["--cluster", "create"];
        args.extend(addrs.iter().map(String::as_str));
        args.extend(["--cluster-replicas", "0", "--cluster-yes"]);
        let out = cli(nodes[0].port, &args);
        assert!(out.contains("[OK] All 16384 slots covered"), "{out}");
        for node in &nodes {
            wait_until(20, "the cluster is not ok", || {
                cli(node.port, &["CLUSTER", "INFO"]).contains("cluster_state:ok")
            });
        }
        RedisCluster { nodes }
    }

    /// The nodes' URLs, comma-separated (the seed list of `redis_mode = "cluster"`).
    pub fn urls(&self) -> String {
        let urls: Vec<String> = self.nodes.iter().map(Redis::url).collect();
        urls.join(",")
    }
}

/// A master, its replica and one sentinel monitoring them as `mymaster` (quorum 1), quick to
/// declare a master down.
pub struct RedisSentinel {
    /// The master at start; after [`RedisSentinel::failover`] a replica.
    pub first: Redis,
    /// The replica at start; after a failover the master.
    pub second: Redis,
    pub sentinel: Redis,
}

impl RedisSentinel {
    pub const MASTER: &'static str = "mymaster";

    pub fn start() -> RedisSentinel {
        let first = Redis::start();
        let second = Redis::start_in(
            tempfile::tempdir().expect("tempdir"),
            vec![
                "--replicaof".into(),
                "127.0.0.1".into(),
                first.port.to_string(),
            ],
        );
        wait_until(20, "the replica is not in sync", || {
            cli(second.port, &["INFO", "replication"]).contains("master_link_status:up")
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "sentinel monitor {m} 127.0.0.1 {port} 1\n\
                 sentinel down-after-milliseconds {m} 1000\n\
                 sentinel failover-timeout {m} 5000\n",
                m = Self::MASTER,
                port = first.port
            ),
        )
        .expect("write sentinel.conf");
        let mut sentinel = Redis {
            port: free_port(),
            args: Vec::new(),
            sentinel_conf: Some(conf),
            child: None,
            dir,
        };
        sentinel.spawn();
        let set = RedisSentinel {
            first,
            second,
            sentinel,
        };
        // A failover needs the sentinel to know the replica.
        wait_until(20, "the sentinel does not know the replica", || {
            cli(set.sentinel.port, &["SENTINEL", "REPLICAS", Self::MASTER])
                .contains(&set.second.port.to_string())
        });
        set
    }

    /// `redis://127.0.0.1:SENTINEL_PORT` (the sentinel, not a data node).
    pub fn url(&self) -> String {
        self.sentinel.url()
    }

    /// The port of the master the sentinel names now.
    pub fn master_port(&self) -> Option<u16> {
        let out = cli(
            self.sentinel.port,
            &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", Self::MASTER],
        );
        out.lines().nth(1).and_then(|p| p.trim().parse().ok())
    }

    /// Waits until the replica holds as many keys as the master (replication is asynchronous).
    pub fn wait_for_replication(&self) {
        let keys = |port| cli(port, &["DBSIZE"]).trim().to_owned();
        wait_until(20, "the replica does not catch up", || {
            keys(self.first.port) == keys(self.second.port)
        });
    }

    /// `SENTINEL FAILOVER`: the replica becomes the master. Waits until the sentinel names it,
    /// it takes writes, and the old master is its replica (the sentinel reconfigures it a
    /// moment later; until then the old master takes writes too).
    pub fn failover(&self) {
        wait_until(30, "SENTINEL FAILOVER is refused", || {
            cli(self.sentinel.port, &["SENTINEL", "FAILOVER", Self::MASTER]).starts_with("OK")
        });
        wait_until(30, "the sentinel does not name the new master", || {
            self.master_port() == Some(self.second.port)
        });
        wait_until(30, "the new master does not say it is one", || {
            cli(self.second.port, &["ROLE"]).starts_with("master")
        });
        wait_until(30, "the old master is not the new one's replica", || {
            let info = cli(self.first.port, &["INFO", "replication"]);
            info.contains("role:slave")
                && info.contains(&format!("master_port:{}", self.second.port))
                && info.contains("master_link_status:up")
        });
    }
}

#[test]
fn the_harness_starts_stops_and_restarts_redis() {
    let mut redis = Redis::start();
    assert!(redis.ping());
    redis.stop();
    assert!(!redis.ping());
    redis.restart();
    assert!(redis.ping());
}

#[test]
fn the_harness_starts_a_tls_server_a_cluster_and_a_sentinel_set() {
    let tls = RedisTls::start();
    assert!(tls.redis.ping() && tls.ca_file.exists());
    let cluster = RedisCluster::start();
    assert_eq!(cluster.urls().split(',').count(), 3);
    let set = RedisSentinel::start();
    assert_eq!(set.master_port(), Some(set.first.port));
    set.failover();
    assert_eq!(set.master_port(), Some(set.second.port));
}
