//! A sender cannot decide how many topics exist: a flood of distinct, made-up event types from
//! an authentic sender lands on a bounded set of topics on a real broker (read back with a
//! consumer), and nothing accepted is lost on the way.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{github_signature, post, read_topic, send, Broker, Gateway};

const SECRET: &str = "topics-secret";

fn config(bootstrap: &str) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
max_topics = 6
max_topics_per_source = 4
create_topics_only = ["webhooks.{{provider}}.{{event_type}}", "webhooks.dead-letter", "acme.unrouted"]

[schemas]
dir = "{{schemas}}"

# GitHub ships a catalog: made-up event types never get a topic.
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]

# No catalog: the first four event types get topics, the rest the fallback.
[sources.custom]
provider = "acme"
auth = {{ type = "hmac", header = "X-Signature", algorithm = "sha256", encoding = "hex" }}
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
event_type = {{ header = "X-Event" }}
fallback_topic = "acme.unrouted"

# Another source without a catalog: the process-wide bound (6: one GitHub topic, four of
# `custom`) leaves it one.
[sources.other]
provider = "bcme"
auth = {{ type = "hmac", header = "X-Signature", algorithm = "sha256", encoding = "hex" }}
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
event_type = {{ header = "X-Event" }}
"#
    )
}

fn topics_on(bootstrap: &str) -> BTreeSet<String> {
    crate::kafka::topics(bootstrap).into_iter().collect()
}

async fn deliver(gw: &Gateway, source: &str, event: &str) -> String {
    let body = format!(r#"{{"n":"{event}"}}"#);
    let sig = github_signature(SECRET, &body);
    let hex_sig = sig.trim_start_matches("sha256=").to_owned();
    let delivery = uuid::Uuid::now_v7().to_string();
    let headers: Vec<(&str, &str)> = if source == "gh" {
        vec![
            ("content-type", "application/json"),
            ("x-github-event", event),
            ("x-github-delivery", &delivery),
            ("x-hub-signature-256", &sig),
        ]
    } else {
        vec![
            ("content-type", "application/json"),
            ("x-event", event),
            ("x-signature", &hex_sig),
        ]
    };
    let answer = post(gw.addr, &format!("/webhooks/{source}"), &headers, &body).await;
    assert_eq!(answer.status, 202, "{source} {event}: {answer:?}");
    answer.json()["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_flood_of_made_up_event_types_creates_no_topic_beyond_the_bounds() {
    let broker = Broker::start();
    let gw = Gateway::start(&config(&broker.bootstrap));

    // GitHub: one real event type, then 30 made up.
    let mut sent_gh = vec![deliver(&gw, "gh", "star").await];
    for i in 0..30 {
        sent_gh.push(deliver(&gw, "gh", &format!("evil_{i}")).await);
    }
    // A source without a catalog: 30 distinct types; then another: 10.
    let mut sent_custom = Vec::new();
    for i in 0..30 {
        sent_custom.push(deliver(&gw, "custom", &format!("type_{i}")).await);
    }
    let mut sent_other = Vec::new();
    for i in 0..10 {
        sent_other.push(deliver(&gw, "other", &format!("kind_{i}")).await);
    }

    let expected: BTreeSet<String> = [
        "webhooks.github.star",
        "webhooks.github._other",
        "webhooks.acme.type_0",
        "webhooks.acme.type_1",
        "webhooks.acme.type_2",
        "webhooks.acme.type_3",
        "acme.unrouted",
        "webhooks.bcme.kind_0",
        "webhooks.bcme._other",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();

    // Every accepted event is on Kafka, each in its bounded topic.
    let read = |topic: &str, ids: &[String]| {
        let ids = ids.to_vec();
        read_topic(
            &broker.bootstrap,
            topic,
            Duration::from_secs(30),
            move |r| {
                ids.iter()
                    .all(|id| r.iter().any(|rec| rec.value["id"] == id.as_str()))
            },
        )
    };
    let gh_other = read("webhooks.github._other", &sent_gh[1..]);
    assert_eq!(gh_other.len(), 30);
    assert_eq!(
        gh_other[0].value["event_type"]
            .as_str()
            .map(|t| t.starts_with("evil_")),
        Some(true)
    );
    read("webhooks.github.star", &sent_gh[..1]);
    for (i, id) in sent_custom.iter().enumerate().take(4) {
        read(&format!("webhooks.acme.type_{i}"), std::slice::from_ref(id));
    }
    assert_eq!(read("acme.unrouted", &sent_custom[4..]).len(), 26);
    read("webhooks.bcme.kind_0", &sent_other[..1]);
    assert_eq!(read("webhooks.bcme._other", &sent_other[1..]).len(), 9);

    // And the broker has those topics and no other.
    let on_broker = topics_on(&broker.bootstrap);
    let unexpected: Vec<&String> = on_broker.difference(&expected).collect();
    assert!(
        unexpected.is_empty(),
        "topics beyond the bounds: {unexpected:?}"
    );

    // Counted, by reason.
    let metrics = send(gw.addr, "GET", "/metrics", &[], bytes::Bytes::new()).await;
    for line in [
        "hookgate_topic_fallbacks_total{reason=\"not_in_catalog\",source=\"gh\"} 30",
        "hookgate_topic_fallbacks_total{reason=\"source_topic_limit\",source=\"custom\"} 26",
        "hookgate_topic_fallbacks_total{reason=\"topic_limit\",source=\"other\"} 9",
    ] {
        assert!(metrics.body.contains(line), "{line}\n{}", metrics.body);
    }
    let logs = gw.logs();
    assert!(logs.contains("kafka.max_topics reached"), "{logs}");
    assert!(
        logs.contains("limit of event-type topics is reached"),
        "{logs}"
    );
}
