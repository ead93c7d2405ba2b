//! Live reload: SIGHUP puts a changed config and schemas in force without a restart, under load
//! and without losing a request; a broken config is refused and the old one keeps serving.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{github_signature, post, read_topic, send, Broker, Gateway};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

const SECRET: &str = "reload-secret";
const BODY: &str = r#"{"zen":"Approachable is better than simple.","hook_id":1}"#;

fn config(bootstrap: &str, extra: &str) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
topic_partitions = 1

[schemas]
dir = "{{schemas}}"

[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
{extra}"#
    )
}

fn hangup(gw: &Gateway) {
    let pid = gw.child.as_ref().expect("child").id();
    kill(Pid::from_raw(pid as i32), Signal::SIGHUP).expect("SIGHUP");
}

/// The value of a metric line starting with `name` (labels included).
async fn metric(gw: &Gateway, name: &str) -> f64 {
    send(gw.addr, "GET", "/metrics", &[], "")
        .await
        .body
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

async fn deliver(gw: &Gateway, source: &str, delivery: &str) -> u16 {
    let sig = github_signature(SECRET, BODY);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-github-delivery", delivery),
        ("x-hub-signature-256", sig.as_str()),
    ];
    post(gw.addr, &format!("/webhooks/{source}"), &headers, BODY)
        .await
        .status
}

#[tokio::test]
async fn sighup_reloads_sources_under_load_and_refuses_a_broken_config() {
    let broker = Broker::start();
    let gw = Gateway::start(&config(&broker.bootstrap, ""));
    let path = gw.dir.path().join("gateway.toml");
    let schemas = crate::common::repo_path("tests/schemas-min")
        .display()
        .to_string();
    let write =
        |text: &str| std::fs::write(&path, text.replace("{schemas}", &schemas)).expect("write");
    assert_eq!(deliver(&gw, "added", "before").await, 404);

    // Load on `gh` while the config is reloaded several times.
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for worker in 0..4 {
        let (addr, stop) = (gw.addr, stop.clone());
        senders.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let sig = github_signature(SECRET, BODY);
                let delivery = format!("load-{worker}-{n}");
                let headers = [
                    ("content-type", "application/json"),
                    ("x-github-event", "ping"),
                    ("x-github-delivery", delivery.as_str()),
                    ("x-hub-signature-256", sig.as_str()),
                ];
                statuses.push(post(addr, "/webhooks/gh", &headers, BODY).await.status);
                n += 1;
            }
            statuses
        }));
    }
    let added = "[sources.added]\nprovider = \"github\"\nsecrets = [{ insecure_dev_value = \"reload-secret\" }]\n";
    write(&config(&broker.bootstrap, added));
    for _ in 0..3 {
        hangup(&gw);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliver(&gw, "added", "after").await != 202 {
        assert!(
            Instant::now() < deadline,
            "the added source never came into force"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut sent = 0;
    for s in senders {
        let statuses = s.await.expect("sender");
        assert!(
            statuses.iter().all(|s| *s == 202),
            "a request failed during reloads: {statuses:?}"
        );
        sent += statuses.len();
    }
    assert!(sent > 0);
    // Signals arriving during a reload may coalesce into one.
    let ok = metric(&gw, r#"hookgate_config_reloads_total{result="ok"}"#).await;
    assert!((1.0..=3.0).contains(&ok), "{ok} reloads");

    // A broken config is refused; the one in force keeps serving, `added` included.
    write("[sources.gh\nprovider = ");
    hangup(&gw);
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&gw, r#"hookgate_config_reloads_total{result="error"}"#).await < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the broken config was not reported"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(deliver(&gw, "added", "still-there").await, 202);
    assert!(gw
        .logs()
        .contains("config reload refused; the previous config keeps serving"));

    // Every accepted request is on Kafka, none lost across the reloads.
    let expected = sent + 2;
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.ping",
        Duration::from_secs(30),
        |r| r.len() >= expected,
    );
    assert_eq!(records.len(), expected);
}
