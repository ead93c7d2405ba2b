//! `format = "cloudevents"`: a source's events are published as CloudEvents 1.0 structured
//! JSON records, read back from a real broker.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, Broker, Gateway};

#[tokio::test]
async fn a_cloudevents_source_publishes_structured_cloudevents() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&format!(
        r#"
[kafka]
brokers = "{}"

[schemas]
dir = "{{schemas}}"

[sources.ce]
provider = "github"
format = "cloudevents"
secrets = [{{ insecure_dev_value = "ce-secret" }}]
"#,
        broker.bootstrap
    ));
    let body = r#"{"zen":"Mind your words, they are important.","hook_id":7}"#;
    let sig = github_signature("ce-secret", body);
    let answer = post(
        gw.addr,
        "/webhooks/ce",
        &[
            ("content-type", "application/json"),
            ("x-github-event", "ping"),
            ("x-github-delivery", "ce-delivery-1"),
            ("x-hub-signature-256", sig.as_str()),
        ],
        body,
    )
    .await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let id = answer.json()["id"].as_str().expect("id").to_owned();

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.ping",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1);
    let event = &records[0].value;
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["id"], id.as_str());
    assert_eq!(event["source"], "/webhooks/ce");
    assert_eq!(event["type"], "ping");
    assert_eq!(event["datacontenttype"], "application/json");
    assert_eq!(event["dataschema"], "schemas/github/ping.json");
    assert_eq!(event["provider"], "github");
    assert_eq!(event["deliveryid"], "ce-delivery-1");
    assert!(event["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert_eq!(event["data"]["hook_id"], 7);
    assert!(event.get("envelope_version").is_none());
    assert_eq!(
        records[0].headers["content-type"],
        "application/cloudevents+json"
    );
    assert_eq!(records[0].key.as_deref(), Some("ce-delivery-1"));
}
