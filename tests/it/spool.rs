//! The spool, black-box, with faults injected through librdkafka's mock cluster: a broker
//! outage is absorbed (every webhook still answered 202), the spool drains in order once the
//! broker is back, a `kill -9` loses nothing that was acknowledged, and a full spool answers
//! 503 rather than dropping anything.

use std::time::{Duration, Instant};

use crate::common::{github_signature, post, read_topic, send, Gateway};
use rdkafka::mocking::MockCluster;

const TOPIC: &str = "webhooks.github.star";

fn config(bootstrap: &str, spool: &std::path::Path, max_bytes: u64) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
create_topics = false
delivery_timeout_ms = 1000
[schemas]
dir = "{{schemas}}"
[spool]
dir = "{}"
max_bytes = {max_bytes}
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#,
        spool.display()
    )
}

async fn deliver(gw: &Gateway, delivery: &str) -> crate::common::Answer {
    let body = format!(r#"{{"action":"created","n":"{delivery}"}}"#);
    let sig = github_signature("s", &body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "star"),
        ("x-github-delivery", delivery),
        ("x-hub-signature-256", sig.as_str()),
    ];
    post(gw.addr, "/webhooks/gh", &headers, &body).await
}

/// Keys on the topic, in partition order.
fn keys_on_kafka(bootstrap: &str, expected: &[&str]) -> Vec<String> {
    let records = read_topic(bootstrap, TOPIC, Duration::from_secs(60), |r| {
        r.len() >= expected.len()
    });
    records
        .into_iter()
        .map(|r| r.key.unwrap_or_default())
        .collect()
}

async fn metric(gw: &Gateway, name: &str) -> f64 {
    let text = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn an_outage_is_spooled_and_drained_in_order() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let bootstrap = mock.bootstrap_servers();
    let spool = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start(&config(&bootstrap, spool.path(), 1 << 30));

    assert_eq!(deliver(&gw, "a").await.status, 202);
    // On a loaded machine the very first publish can outlast the 1 s delivery timeout, and
    // then `a` itself is spooled; let it drain, and count from here.
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&gw, "hookgate_spool_records ").await != 0.0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained_before = metric(&gw, "hookgate_spool_drained_total ").await;
    mock.broker_down(1).expect("down");
    for key in ["b", "c", "d"] {
        let answer = deliver(&gw, key).await;
        assert_eq!(answer.status, 202, "{key}: {answer:?}");
    }
    let ready = send(gw.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(
        (ready.status, ready.json()["status"].as_str()),
        (200, Some("degraded")),
        "{ready:?}"
    );
    assert_eq!(metric(&gw, "hookgate_spool_records ").await, 3.0);

    mock.broker_up(1).expect("up");
    let keys = keys_on_kafka(&bootstrap, &["a", "b", "c", "d"]);
    assert_eq!(
        keys,
        ["a", "b", "c", "d"],
        "every 2xx'd event once, in order"
    );

    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&gw, "hookgate_spool_records ").await != 0.0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        metric(&gw, "hookgate_spool_drained_total ").await - drained_before,
        3.0,
        "the three spooled records were drained"
    );
    // Once drained, new webhooks go straight to Kafka again.
    assert_eq!(deliver(&gw, "e").await.status, 202);
    assert_eq!(
        keys_on_kafka(&bootstrap, &["a", "b", "c", "d", "e"]),
        ["a", "b", "c", "d", "e"]
    );
}

#[tokio::test]
async fn kill_9_loses_nothing_that_was_acknowledged() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let bootstrap = mock.bootstrap_servers();
    let spool = tempfile::tempdir().expect("tempdir");
    mock.broker_down(1).expect("down");
    {
        let gw = Gateway::start(&config(&bootstrap, spool.path(), 1 << 30));
        for key in ["x", "y"] {
            assert_eq!(deliver(&gw, key).await.status, 202);
        }
        // Dropping the gateway kills it with SIGKILL: no shutdown, no flush.
    }
    mock.broker_up(1).expect("up");
    let gw = Gateway::start(&config(&bootstrap, spool.path(), 1 << 30));
    assert!(gw.logs().contains("spool ready"), "{}", gw.logs());
    assert_eq!(keys_on_kafka(&bootstrap, &["x", "y"]), ["x", "y"]);
}

#[tokio::test]
async fn a_full_spool_answers_503_and_drops_nothing() {
    let mock = MockCluster::new(1).expect("mock");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let bootstrap = mock.bootstrap_servers();
    let spool = tempfile::tempdir().expect("tempdir");
    // Room for one record only.
    let gw = Gateway::start(&config(&bootstrap, spool.path(), 1));
    mock.broker_down(1).expect("down");
    assert_eq!(deliver(&gw, "first").await.status, 202);
    let full = deliver(&gw, "second").await;
    assert_eq!(
        (full.status, full.code().as_str()),
        (503, "spool_full"),
        "{full:?}"
    );
    assert!(full.headers.contains_key("retry-after"));
    mock.broker_up(1).expect("up");
    assert_eq!(keys_on_kafka(&bootstrap, &["first"]), ["first"]);
}
