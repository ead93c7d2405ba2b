//! Broker faults injected with librdkafka's mock cluster (started here, in the test process;
//! the gateway connects to it over loopback): a broker that is down, slow, or answering with
//! errors. Without a spool (a later issue), the gateway must never answer 2xx for an event the
//! broker did not acknowledge: it answers 503 with `Retry-After`, and serves again once the
//! broker is back.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, send, Gateway};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

const TOPIC: &str = "webhooks.github.star";

fn headers<'a>(delivery: &'a str, sig: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("content-type", "application/json"),
        ("x-github-event", "star"),
        ("x-github-delivery", delivery),
        ("x-hub-signature-256", sig),
    ]
}

#[tokio::test]
async fn broker_faults_answer_503_and_recovery_answers_202() {
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic(TOPIC, 1, 1).expect("topic");
    let bootstrap = mock.bootstrap_servers();
    let gw = Gateway::in_process(&format!(
        r#"
[kafka]
brokers = "{bootstrap}"
create_topics = false
delivery_timeout_ms = 1500
retry_after_secs = 3
[schemas]
dir = "{{schemas}}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#
    ));
    let body = r#"{"action":"created"}"#;
    let sig = github_signature("s", body);
    let accepted = |delivery: &'static str| {
        let h = headers(delivery, &sig);
        let addr = gw.addr;
        async move { post(addr, "/webhooks/gh", &h, body).await }
    };

    let ok = accepted("before-outage").await;
    assert_eq!(ok.status, 202, "{ok:?}");

    // Broker down: 503 with Retry-After, and /readyz says so.
    mock.broker_down(1).expect("down");
    let refused = accepted("during-outage").await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (503, "broker_unavailable"),
        "{refused:?}"
    );
    assert_eq!(refused.headers["retry-after"], "3");
    tokio::time::sleep(Duration::from_millis(1100)).await; // past the readiness cache
    assert_eq!(send(gw.addr, "GET", "/readyz", &[], "").await.status, 503);

    // Back up: accepted again.
    mock.broker_up(1).expect("up");
    let mut recovered = accepted("after-outage").await;
    for _ in 0..10 {
        if recovered.status == 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        recovered = accepted("after-outage").await;
    }
    assert_eq!(recovered.status, 202, "{recovered:?}");

    // Transient produce errors are retried by the producer within the delivery timeout.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 2],
    );
    let retried = accepted("after-transient-errors").await;
    assert_eq!(retried.status, 202, "{retried:?}");

    // A permanent refusal is not worth retrying: 413.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );
    let too_large = accepted("too-large").await;
    assert_eq!(
        (too_large.status, too_large.code().as_str()),
        (413, "event_too_large_for_broker"),
        "{too_large:?}"
    );
    mock.clear_request_errors(RDKafkaApiKey::Produce);

    // A broker slower than the delivery timeout: 503, then fine again.
    mock.broker_round_trip_time(1, Duration::from_secs(3))
        .expect("rtt");
    let slow = accepted("slow-broker").await;
    assert_eq!(
        (slow.status, slow.code().as_str()),
        (503, "broker_unavailable"),
        "{slow:?}"
    );
    mock.broker_round_trip_time(1, Duration::ZERO).expect("rtt");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fast = accepted("fast-again").await;
    assert_eq!(fast.status, 202, "{fast:?}");

    // Every 2xx'd event is on the broker; the one refused while it was down is not.
    let records = read_topic(&bootstrap, TOPIC, Duration::from_secs(30), |r| {
        [
            "before-outage",
            "after-outage",
            "after-transient-errors",
            "fast-again",
        ]
        .iter()
        .all(|k| r.iter().any(|rec| rec.key.as_deref() == Some(k)))
    });
    assert!(
        !records
            .iter()
            .any(|r| r.key.as_deref() == Some("during-outage")),
        "{records:#?}"
    );
    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.contains(r#"hookgate_kafka_delivery_errors_total{kind="too_large"} 1"#),
        "{metrics}"
    );
}
