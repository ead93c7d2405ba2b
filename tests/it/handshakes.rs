//! Provider handshakes and form-encoded deliveries, through the real binary and a real broker:
//! handshakes are answered as each provider requires and never published; form bodies arrive
//! in the envelope as objects.

use std::time::Duration;

use crate::common::{post, read_topic, send, unix_now, Broker, Gateway};
use hmac::Mac;
use serde_json::json;

fn hex_hmac(key: &str, message: &str) -> String {
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("key");
    m.update(message.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

const CONFIG: &str = r#"
[kafka]
brokers = "BOOTSTRAP"
[schemas]
dir = "{schemas}"
[sources.slack]
provider = "slack"
secrets = [{ insecure_dev_value = "slack-secret" }]
[sources.zoom]
provider = "zoom"
secrets = [{ insecure_dev_value = "zoom-secret" }]
[sources.okta]
provider = "okta"
secrets = [{ insecure_dev_value = "okta-secret" }]
[sources.x]
provider = "x"
secrets = [{ insecure_dev_value = "x-consumer-secret" }]
[sources.github]
provider = "github"
secrets = [{ insecure_dev_value = "gh-secret" }]
"#;

#[tokio::test]
async fn handshakes_are_answered_and_forms_published() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&CONFIG.replace("BOOTSTRAP", &broker.bootstrap));
    let now = unix_now().to_string();

    // Slack url_verification: signed like any delivery, answered with the challenge.
    let body = json!({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}).to_string();
    let sig = format!(
        "v0={}",
        hex_hmac("slack-secret", &format!("v0:{now}:{body}"))
    );
    let headers = [
        ("content-type", "application/json"),
        ("x-slack-request-timestamp", now.as_str()),
        ("x-slack-signature", sig.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/slack", &headers, &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    );
    // ...but not without a valid signature.
    let forged = [headers[0], headers[1], ("x-slack-signature", "v0=00")];
    assert_eq!(
        post(gw.addr, "/webhooks/slack", &forged, &body)
            .await
            .status,
        401
    );

    // Zoom endpoint.url_validation.
    let body = json!({"event": "endpoint.url_validation", "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}, "event_ts": 1}).to_string();
    let sig = format!(
        "v0={}",
        hex_hmac("zoom-secret", &format!("v0:{now}:{body}"))
    );
    let headers = [
        ("content-type", "application/json"),
        ("x-zm-request-timestamp", now.as_str()),
        ("x-zm-signature", sig.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/zoom", &headers, &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": hex_hmac("zoom-secret", "qgg8vlvZRS6UYooatFL8Aw")})
    );

    // Okta's one-time verification GET.
    let answer = send(
        gw.addr,
        "GET",
        "/webhooks/okta",
        &[("x-okta-verification-challenge", "okta-challenge-1")],
        "",
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"verification": "okta-challenge-1"}))
    );

    // X's CRC GET.
    let answer = send(gw.addr, "GET", "/webhooks/x?crc_token=abc", &[], "").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(answer.json()["response_token"]
        .as_str()
        .unwrap_or_default()
        .starts_with("sha256="));
    let answer = send(gw.addr, "GET", "/webhooks/x?crc_token=%7B%7D", &[], "").await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "invalid_handshake")
    );

    // Sources without a GET handshake still answer GET with 405.
    assert_eq!(
        send(gw.addr, "GET", "/webhooks/github", &[], "")
            .await
            .status,
        405
    );

    // Slack slash command (form) and a GitHub form-mode delivery reach Kafka as objects.
    let form = "token=t&team_id=T1&command=%2Fdeploy&text=prod+now&user_name=ada";
    let sig = format!(
        "v0={}",
        hex_hmac("slack-secret", &format!("v0:{now}:{form}"))
    );
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-slack-request-timestamp", now.as_str()),
        ("x-slack-signature", sig.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/slack", &headers, form).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.slack._deploy",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(
        records[0].value["data"],
        json!({"token": "t", "team_id": "T1", "command": "/deploy", "text": "prod now", "user_name": "ada"})
    );

    let form = "payload=%7B%22zen%22%3A%22Design+for+failure.%22%2C%22hook_id%22%3A42%7D";
    let sig = format!("sha256={}", hex_hmac("gh-secret", form));
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-github-event", "ping"),
        ("x-github-delivery", "d-form-1"),
        ("x-hub-signature-256", sig.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/github", &headers, form).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.ping",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(
        records[0].value["data"],
        json!({"zen": "Design for failure.", "hook_id": 42})
    );
    assert_eq!(records[0].value["meta"]["schema"], "github/ping.json");

    // Handshakes were counted, and nothing of them was published.
    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="handshake",source="slack"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="handshake",source="okta"} 1"#),
        "{metrics}"
    );
    let slack = read_topic(
        &broker.bootstrap,
        "webhooks.slack._deploy",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(slack.len(), 1, "only the slash command");
}

#[tokio::test]
async fn worldline_endpoint_verification_is_echoed_as_text() {
    // No delivery is published here; the broker address is never dialled.
    let gw = Gateway::in_process(
        r#"
[kafka]
brokers = "127.0.0.1:9"
[schemas]
dir = "{schemas}"
[sources.worldline]
provider = "worldline"
secrets = [{ insecure_dev_value = "worldline-secret" }]
"#,
    );
    let value = "3c1d5b2a-9f7e-4d8b-a1c2-5e6f7a8b9c0d";
    let answer = send(
        gw.addr,
        "GET",
        "/webhooks/worldline",
        &[("x-gcs-webhooks-endpoint-verification", value)],
        "",
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (200, value));
    assert_eq!(answer.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(answer.headers["x-content-type-options"], "nosniff");
    let answer = send(gw.addr, "GET", "/webhooks/worldline", &[], "").await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "invalid_handshake")
    );
}
