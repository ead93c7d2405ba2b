//! End to end: the real binary, a real Apache Kafka broker, records read back with a
//! Kafka consumer.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, send, unix_now, Broker, Gateway};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// GitHub's published vectors (octokit/webhooks-methods test/sign.test.ts): secret `mysecret`,
/// body `{"foo":"bar"}`.
const OCTOKIT_SECRET: &str = "mysecret";
const OCTOKIT_BODY: &str = r#"{"foo":"bar"}"#;
const OCTOKIT_SIG: &str = "sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f3484236bda3";

fn config(bootstrap: &str) -> String {
    r#"
[kafka]
brokers = "BOOTSTRAP"
topic_partitions = 2
delivery_timeout_ms = 10000

[schemas]
dir = "{schemas}"

[sources.gh]
provider = "github"
secrets = [{ env = "TEST_GH_OLD_SECRET" }, { env = "TEST_GH_SECRET" }]
max_body_bytes = 4096
# This file checks the precise answers; tests/it/deadletter.rs checks the default, dead-letter.
on_invalid = "reject"

[sources.payments]
provider = "payments"
secrets = [{ env = "TEST_PAY_SECRET" }]
event_type = { pointer = "/type" }
delivery_id = { pointer = "/id" }
event_time = { pointer = "/created" }
on_missing_schema = "reject"
on_invalid = "reject"
auth = { type = "hmac", header = "X-Signature", prefix = "v1=", signed = "{timestamp}.{body}", timestamp_header = "X-Timestamp", tolerance_secs = 300 }

[sources.identity]
provider = "cidaas"
secrets = [{ env = "TEST_ID_KEY" }]
auth = { type = "api_key", header = "X-API-Key" }
event_type = { pointer = "/event_type" }
event_time = { pointer = "/event_time" }
context = { pointer = "/current_context" }
topic = "identity.{event_type}"
"#
    .replace("BOOTSTRAP", bootstrap)
}

const ENV: &[(&str, &str)] = &[
    ("TEST_GH_OLD_SECRET", "an-old-secret-being-rotated-out"),
    ("TEST_GH_SECRET", OCTOKIT_SECRET),
    ("TEST_PAY_SECRET", "pay-secret"),
    ("TEST_ID_KEY", "identity-key"),
];

fn github_headers<'a>(event: &'a str, delivery: &'a str, sig: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("content-type", "application/json"),
        ("x-github-event", event),
        ("x-github-delivery", delivery),
        ("x-hub-signature-256", sig),
    ]
}

#[tokio::test]
async fn github_webhook_reaches_kafka_as_an_envelope() {
    let broker = Broker::start();
    let gw = Gateway::start_env(&config(&broker.bootstrap), ENV);
    let delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

    let answer = post(
        gw.addr,
        "/webhooks/gh",
        &github_headers("star", delivery, OCTOKIT_SIG),
        OCTOKIT_BODY,
    )
    .await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let id = answer.json()["id"].as_str().expect("id").to_owned();

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.star",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r.key.as_deref(), Some(delivery), "key is the delivery id");
    let v = &r.value;
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["envelope_version"], 1);
    assert_eq!(v["source"], "gh");
    assert_eq!(v["provider"], "github");
    assert_eq!(v["event_type"], "star");
    assert_eq!(v["delivery_id"], delivery);
    assert_eq!(v["data"], serde_json::json!({"foo": "bar"}));
    assert_eq!(v["current_context"], serde_json::json!({}));
    assert_eq!(v["event_time"], v["received_at"]);
    assert_eq!(v["meta"]["content_type"], "application/json");
    assert_eq!(
        v["meta"]["verified"]["method"],
        "hmac-sha256:x-hub-signature-256"
    );
    assert_eq!(
        v["meta"]["verified"]["key_index"], 1,
        "the second (rotated-in) secret matched"
    );
    assert_eq!(v["meta"]["schema"], serde_json::Value::Null);
    assert!(v["meta"]["remote_addr"]
        .as_str()
        .expect("addr")
        .starts_with("127.0.0.1:"));
    assert!(uuid::Uuid::parse_str(&id).expect("uuid").get_version_num() == 7);

    let h = &r.headers;
    assert_eq!(h["ce_specversion"], "1.0");
    assert_eq!(h["ce_id"], id);
    assert_eq!(h["ce_source"], "/webhooks/gh");
    assert_eq!(h["ce_type"], "star");
    assert_eq!(h["ce_time"], v["event_time"].as_str().expect("time"));
    assert_eq!(h["content-type"], "application/json");

    // A payload its schema accepts names the schema.
    let push = std::fs::read_to_string(crate::common::repo_path("examples/github-push.json"))
        .expect("example");
    let sig = github_signature(OCTOKIT_SECRET, &push);
    let answer = post(
        gw.addr,
        "/webhooks/gh",
        &github_headers("push", "d-push-1", &sig),
        &push,
    )
    .await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.push",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records[0].value["meta"]["schema"], "github/push.json");

    // Secrets never reach the logs.
    let logs = gw.logs();
    assert!(
        !logs.contains(OCTOKIT_SECRET) && !logs.contains("an-old-secret"),
        "{logs}"
    );
}

#[tokio::test]
async fn rejected_webhooks_get_precise_answers_and_never_reach_kafka() {
    let broker = Broker::start();
    let gw = Gateway::in_process_env(&config(&broker.bootstrap), ENV);
    let addr = gw.addr;
    let bad_push = r#"{"ref": 12345, "before": "x"}"#;
    let bad_push_sig = github_signature(OCTOKIT_SECRET, bad_push);
    let not_json = "{nope";
    let not_json_sig = github_signature(OCTOKIT_SECRET, not_json);
    let big = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5000));
    let big_sig = github_signature(OCTOKIT_SECRET, &big);
    let wrong = "sha256=0000000000000000000000000000000000000000000000000000000000000000";

    /// (status, code, headers, body)
    type Case<'a> = (u16, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            401,
            "invalid_signature",
            github_headers("star", "d1", wrong),
            OCTOKIT_BODY,
        ),
        (
            401,
            "invalid_signature",
            github_headers("star", "d1", OCTOKIT_SIG),
            r#"{"foo":"baz"}"#,
        ),
        (
            401,
            "malformed_signature",
            github_headers("star", "d1", "md5=abc"),
            OCTOKIT_BODY,
        ),
        (
            401,
            "missing_signature",
            vec![
                ("content-type", "application/json"),
                ("x-github-event", "star"),
            ],
            OCTOKIT_BODY,
        ),
        (
            422,
            "schema_violation",
            github_headers("push", "d2", &bad_push_sig),
            bad_push,
        ),
        (
            400,
            "invalid_json",
            github_headers("star", "d3", &not_json_sig),
            not_json,
        ),
        (
            413,
            "body_too_large",
            github_headers("star", "d4", &big_sig),
            &big,
        ),
        (
            415,
            "unsupported_media_type",
            vec![
                ("content-type", "text/plain"),
                ("x-github-event", "star"),
                ("x-hub-signature-256", OCTOKIT_SIG),
            ],
            OCTOKIT_BODY,
        ),
        (
            400,
            "missing_event_type",
            vec![
                ("content-type", "application/json"),
                ("x-hub-signature-256", OCTOKIT_SIG),
            ],
            OCTOKIT_BODY,
        ),
    ];
    for (status, code, headers, body) in &cases {
        let answer = post(addr, "/webhooks/gh", headers, body).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (*status, *code),
            "{answer:?}"
        );
        let message = answer.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!message.is_empty(), "error message missing: {answer:?}");
        assert!(
            !message.contains("4864d275"),
            "expected signature leaked: {message}"
        );
    }
    let unknown = post(
        addr,
        "/webhooks/nope",
        &github_headers("star", "d", OCTOKIT_SIG),
        OCTOKIT_BODY,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code().as_str()),
        (404, "unknown_source")
    );
    let wrong_method = send(addr, "GET", "/webhooks/gh", &[], "").await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.headers["allow"], "POST");
    assert_eq!(wrong_method.code(), "method_not_allowed");

    // Markers: one valid event per topic a rejected request aimed at. Only they may be there.
    let ok = post(
        addr,
        "/webhooks/gh",
        &github_headers("star", "marker-star", OCTOKIT_SIG),
        OCTOKIT_BODY,
    )
    .await;
    assert_eq!(ok.status, 202, "{ok:?}");
    let push = std::fs::read_to_string(crate::common::repo_path("examples/github-push.json"))
        .expect("example");
    let sig = github_signature(OCTOKIT_SECRET, &push);
    let ok = post(
        addr,
        "/webhooks/gh",
        &github_headers("push", "marker-push", &sig),
        &push,
    )
    .await;
    assert_eq!(ok.status, 202, "{ok:?}");
    for (topic, marker) in [
        ("webhooks.github.star", "marker-star"),
        ("webhooks.github.push", "marker-push"),
    ] {
        let records = read_topic(&broker.bootstrap, topic, READ_TIMEOUT, |r| !r.is_empty());
        let keys: Vec<_> = records
            .iter()
            .map(|r| r.key.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            keys,
            vec![marker.to_owned()],
            "{topic} holds only the marker"
        );
    }

    // Every outcome was counted.
    let metrics = send(addr, "GET", "/metrics", &[], "").await.body;
    for line in [
        r#"hookgate_webhooks_total{outcome="accepted",source="gh"} 2"#,
        r#"hookgate_webhooks_total{outcome="invalid_signature",source="gh"} 2"#,
        r#"hookgate_webhooks_total{outcome="schema_violation",source="gh"} 1"#,
        r#"hookgate_webhooks_total{outcome="unknown_source",source="_unknown"} 1"#,
    ] {
        assert!(metrics.contains(line), "missing {line}:\n{metrics}");
    }
}

#[tokio::test]
async fn generic_hmac_and_api_key_sources_are_verified_and_normalized() {
    let broker = Broker::start();
    let gw = Gateway::in_process_env(&config(&broker.bootstrap), ENV);
    let addr = gw.addr;

    // Generic HMAC: hex HMAC-SHA256 of "<timestamp>.<body>", prefixed "v1=".
    let body = std::fs::read_to_string(crate::common::repo_path("examples/payment-succeeded.json"))
        .expect("example");
    let sign = |ts: i64, body: &str| {
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"pay-secret").expect("key");
        mac.update(format!("{ts}.{body}").as_bytes());
        format!("v1={}", hex::encode(mac.finalize().into_bytes()))
    };
    let now = unix_now();
    let (ts, sig) = (now.to_string(), sign(now, &body));
    let headers = [
        ("content-type", "application/json"),
        ("x-timestamp", ts.as_str()),
        ("x-signature", sig.as_str()),
    ];
    let answer = post(addr, "/webhooks/payments", &headers, &body).await;
    assert_eq!(answer.status, 202, "{answer:?}");

    // Replays outside the window are refused, even with a valid signature.
    let old = now - 3600;
    let (old_ts, old_sig) = (old.to_string(), sign(old, &body));
    let stale = [
        ("content-type", "application/json"),
        ("x-timestamp", old_ts.as_str()),
        ("x-signature", old_sig.as_str()),
    ];
    let answer = post(addr, "/webhooks/payments", &stale, &body).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "stale_timestamp"),
        "{answer:?}"
    );
    // An event type without a schema is refused by this source's policy.
    let unknown = r#"{"id":"evt_2","type":"payment.refunded","created":1795435200,"data":{}}"#;
    let sig = sign(now, unknown);
    let headers = [
        ("content-type", "application/json"),
        ("x-timestamp", ts.as_str()),
        ("x-signature", sig.as_str()),
    ];
    let answer = post(addr, "/webhooks/payments", &headers, unknown).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (422, "no_schema"),
        "{answer:?}"
    );

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.payments.payment.succeeded",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1);
    let v = &records[0].value;
    assert_eq!(records[0].key.as_deref(), Some("evt_01HZX3"));
    assert_eq!(
        v["event_time"], "2026-11-23T12:00:00Z",
        "from the payload's `created`"
    );
    assert_eq!(v["meta"]["event_time_source"], "provider");
    assert_eq!(v["meta"]["schema"], "payments/payment.succeeded.json");
    assert_eq!(v["meta"]["verified"]["method"], "hmac-sha256:x-signature");

    // API key source with the identity platform's body: context and time come from the body.
    let body = std::fs::read_to_string(crate::common::repo_path(
        "examples/cidaas-user-created.json",
    ))
    .expect("example");
    let wrong = post(
        addr,
        "/webhooks/identity",
        &[("content-type", "application/json"), ("x-api-key", "guess")],
        &body,
    )
    .await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (401, "invalid_credentials")
    );
    let missing = post(
        addr,
        "/webhooks/identity",
        &[("content-type", "application/json")],
        &body,
    )
    .await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (401, "missing_credentials")
    );
    let ok = post(
        addr,
        "/webhooks/identity",
        &[
            ("content-type", "application/json"),
            ("x-api-key", "identity-key"),
        ],
        &body,
    )
    .await;
    assert_eq!(ok.status, 202, "{ok:?}");
    let records = read_topic(
        &broker.bootstrap,
        "identity.USER_CREATED",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "only the authenticated delivery");
    let v = &records[0].value;
    assert_eq!(
        v["current_context"],
        serde_json::json!({"tenant_key": "acme", "client_id": "web-portal"})
    );
    assert_eq!(v["event_time"], "2026-11-23T12:00:00Z");
    assert_eq!(v["delivery_id"], serde_json::Value::Null);
    assert_eq!(
        records[0].key.as_deref(),
        v["id"].as_str(),
        "no delivery id: keyed by envelope id"
    );
    assert_eq!(v["meta"]["verified"]["method"], "api_key:x-api-key");
}
