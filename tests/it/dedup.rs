//! Deduplication by delivery id, across a gateway restart, on a real broker: a redelivery is
//! answered as a duplicate with the first envelope id, and Kafka holds the event once.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, Broker, Gateway};

#[tokio::test]
async fn redeliveries_are_published_once_even_across_a_restart() {
    let broker = Broker::start();
    let state = tempfile::tempdir().expect("tempdir");
    let journal = state.path().join("dedup.jsonl");
    let config = format!(
        r#"
[kafka]
brokers = "{}"
[schemas]
dir = "{{schemas}}"
[dedup]
window_secs = 3600
journal = "{}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#,
        broker.bootstrap,
        journal.display()
    );
    let body = r#"{"action":"created","starred_at":null}"#;
    let sig = github_signature("s", body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "star"),
        ("x-github-delivery", "dup-1"),
        ("x-hub-signature-256", sig.as_str()),
    ];

    let mut gw = Gateway::start(&config);
    let first = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(first.status, 202, "{first:?}");
    let id = first.json()["id"].as_str().expect("id").to_owned();
    let again = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(
        again.json(),
        serde_json::json!({"id": id, "duplicate": true})
    );
    // A different delivery id is a different event.
    let other = [
        headers[0],
        headers[1],
        ("x-github-delivery", "dup-2"),
        headers[3],
    ];
    assert_eq!(
        post(gw.addr, "/webhooks/gh", &other, body).await.status,
        202
    );

    gw.terminate();
    assert!(gw.wait(Duration::from_secs(20)));
    let gw = Gateway::start(&config);
    let after_restart = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(
        (after_restart.status, after_restart.json()["id"].as_str()),
        (200, Some(id.as_str()))
    );

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.star",
        Duration::from_secs(30),
        |r| r.len() >= 2,
    );
    let mut keys: Vec<_> = records
        .iter()
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["dup-1", "dup-2"], "each delivery once");
    let metrics = crate::common::send(gw.addr, "GET", "/metrics", &[], "")
        .await
        .body;
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="duplicate",source="gh"} 1"#),
        "{metrics}"
    );
}
