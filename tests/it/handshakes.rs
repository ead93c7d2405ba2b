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

const MORE: &str = r#"
[kafka]
brokers = "BOOTSTRAP"
[sources.meta]
provider = "meta"
secrets = [{ insecure_dev_value = "meta-app-secret" }]
verify_token = { insecure_dev_value = "meatyhamhock" }
[sources.x]
provider = "x"
secrets = [{ insecure_dev_value = "x-consumer-secret" }]
[sources.twitch]
provider = "twitch"
secrets = [{ insecure_dev_value = "twitch-secret-0123" }]
[sources.nylas]
provider = "nylas"
secrets = [{ insecure_dev_value = "nylas-secret" }]
[sources.dropbox]
provider = "dropbox"
secrets = [{ insecure_dev_value = "dropbox-secret" }]
[sources.trello]
provider = "trello"
secrets = [{ insecure_dev_value = "trello-secret" }]
public_url = "https://hooks.example.com/webhooks/trello"
[sources.front]
provider = "front"
secrets = [{ insecure_dev_value = "front-secret" }]
[sources.linkedin]
provider = "linkedin"
secrets = [{ insecure_dev_value = "linkedin-secret" }]
[sources.monday]
provider = "monday"
secrets = [{ insecure_dev_value = "monday-signing-secret" }]
"#;

/// Headers of a signed Twitch EventSub message of `kind`.
fn twitch_headers(kind: &str, id: &str, body: &str) -> Vec<(String, String)> {
    let ts = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .expect("timestamp");
    let sig = format!(
        "sha256={}",
        hex_hmac("twitch-secret-0123", &format!("{id}{ts}{body}"))
    );
    [
        ("content-type", "application/json"),
        ("twitch-eventsub-message-id", id),
        ("twitch-eventsub-message-timestamp", ts.as_str()),
        ("twitch-eventsub-message-signature", sig.as_str()),
        ("twitch-eventsub-message-type", kind),
        ("twitch-eventsub-subscription-type", "channel.follow"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn borrowed(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The request and answer of one handshake, for the table below.
struct Case<'a> {
    method: &'a str,
    path: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a str,
    status: u16,
    /// The text answer, or the JSON answer's `code` for refusals.
    answer: &'a str,
}

async fn run_cases(gw: &Gateway, cases: &[Case<'_>]) {
    for c in cases {
        let got = send(gw.addr, c.method, c.path, c.headers, c.body.to_owned()).await;
        let ctx = format!("{} {}: {got:?}", c.method, c.path);
        assert_eq!(got.status, c.status, "{ctx}");
        if c.status == 200 {
            assert_eq!(got.body, c.answer, "{ctx}");
            if !c.answer.is_empty() && !c.answer.starts_with('{') {
                assert_eq!(
                    got.headers["content-type"], "text/plain; charset=utf-8",
                    "{ctx}"
                );
                assert_eq!(got.headers["x-content-type-options"], "nosniff", "{ctx}");
            }
        } else {
            assert_eq!(got.code(), c.answer, "{ctx}");
        }
    }
}

#[tokio::test]
async fn more_handshakes_are_answered_and_never_published() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&MORE.replace("BOOTSTRAP", &broker.bootstrap));

    // Meta: the subscription check is answered only with the configured verify token.
    run_cases(
        &gw,
        &[
            Case {
                method: "GET",
                path: "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock",
                headers: &[],
                body: "",
                status: 200,
                answer: "1158201444",
            },
            Case {
                method: "GET",
                path: "/webhooks/meta?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess",
                headers: &[],
                body: "",
                status: 403,
                answer: "invalid_verify_token",
            },
            Case {
                method: "GET",
                path: "/webhooks/meta?hub.mode=subscribe&hub.challenge=%3Cb%3E&hub.verify_token=meatyhamhock",
                headers: &[],
                body: "",
                status: 400,
                answer: "invalid_handshake",
            },
        ],
    )
    .await;
    // A signed WhatsApp delivery is published, and it is the only record.
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"messages": [{"id": "wamid.1", "type": "text"}]}}]}]}).to_string();
    let sig = format!("sha256={}", hex_hmac("meta-app-secret", &body));
    let headers = [
        ("content-type", "application/json"),
        ("x-hub-signature-256", sig.as_str()),
    ];
    assert_eq!(
        post(gw.addr, "/webhooks/meta", &headers, &body)
            .await
            .status,
        202
    );
    let forged = [headers[0], ("x-hub-signature-256", "sha256=00")];
    assert_eq!(
        post(gw.addr, "/webhooks/meta", &forged, &body).await.status,
        401
    );
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.meta.messages",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value["delivery_id"], "wamid.1");

    // X: the CRC answer for a token is the signature of a body equal to that token; such a
    // body (here a form naming an event type) is refused before it is verified.
    let crc = send(
        gw.addr,
        "GET",
        "/webhooks/x?crc_token=event_type%3Dtweet_create_events",
        &[],
        "",
    )
    .await;
    let token = crc.json()["response_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let forged = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-twitter-webhooks-signature", token.as_str()),
    ];
    let answer = post(
        gw.addr,
        "/webhooks/x",
        &forged,
        "event_type=tweet_create_events",
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "token_shaped_body")
    );

    // Twitch: the signed verification is answered with its challenge, a revocation with an
    // empty 200; neither is published. An unsigned verification is refused.
    let sub = json!({"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "status": "webhook_callback_verification_pending", "type": "channel.follow", "version": "2"});
    let body =
        json!({"challenge": "pogchamp-kappa-360noscope-vohiyo", "subscription": sub}).to_string();
    let headers = twitch_headers("webhook_callback_verification", "m-1", &body);
    let answer = post(gw.addr, "/webhooks/twitch", &borrowed(&headers), &body).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (200, "pogchamp-kappa-360noscope-vohiyo")
    );
    assert_eq!(answer.headers["content-type"], "text/plain; charset=utf-8");
    let mut unsigned = borrowed(&headers);
    unsigned.retain(|(k, _)| *k != "twitch-eventsub-message-signature");
    let answer = post(gw.addr, "/webhooks/twitch", &unsigned, &body).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "missing_signature")
    );
    let body =
        json!({"subscription": {"type": "channel.follow", "status": "authorization_revoked"}})
            .to_string();
    let headers = twitch_headers("revocation", "m-2", &body);
    let answer = post(gw.addr, "/webhooks/twitch", &borrowed(&headers), &body).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, ""));
    // A notification as Twitch sends it: the subscription's id, type and version are always
    // there (schemas/twitch/_envelope.json requires them).
    let body = json!({
        "subscription": {"id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4", "type": "channel.follow", "version": "2", "status": "enabled"},
        "event": {"user_id": "1234", "user_login": "cool_user"}
    })
    .to_string();
    let headers = twitch_headers("notification", "m-3", &body);
    let answer = post(gw.addr, "/webhooks/twitch", &borrowed(&headers), &body).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.twitch.channel.follow",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "only the notification");
    assert_eq!(records[0].value["delivery_id"], "m-3");

    // Nylas and Dropbox echo a safe challenge as text; Trello's HEAD gets an empty 200.
    let get = |path: &'static str, status, answer: &'static str| Case {
        method: "GET",
        path,
        headers: &[],
        body: "",
        status,
        answer,
    };
    run_cases(
        &gw,
        &[
            get("/webhooks/nylas?challenge=Hj7xYq2Lm9", 200, "Hj7xYq2Lm9"),
            get(
                "/webhooks/nylas?challenge=%3Cscript%3Ealert(1)%3C/script%3E",
                400,
                "invalid_handshake",
            ),
            get("/webhooks/nylas", 400, "invalid_handshake"),
            get(
                "/webhooks/dropbox?challenge=d7b1-5f0e_A.9~",
                200,
                "d7b1-5f0e_A.9~",
            ),
            Case {
                method: "HEAD",
                ..get("/webhooks/trello", 200, "")
            },
        ],
    )
    .await;
    assert_eq!(
        send(gw.addr, "HEAD", "/webhooks/nylas", &[], "")
            .await
            .status,
        405,
        "HEAD is answered only where the provider sends it"
    );

    // LinkedIn: the HMAC of a UUID challenge code; anything else is refused.
    let code = "890e4bb2-8f7d-4f3e-a2b5-0c0dd5b3e2a1";
    let answer = send(
        gw.addr,
        "GET",
        &format!("/webhooks/linkedin?challengeCode={code}"),
        &[],
        "",
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (
            200,
            json!({"challengeCode": code, "challengeResponse": hex_hmac("linkedin-secret", code)})
        )
    );
    let answer = send(
        gw.addr,
        "GET",
        "/webhooks/linkedin?challengeCode=abc",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (400, "invalid_handshake")
    );

    // Front: the signed `sync` request is answered with its challenge; unsigned, refused.
    let body = json!({"type": "sync", "authorization": {"id": "cmp_abc"}}).to_string();
    let ts = (unix_now() * 1000).to_string();
    let mac = {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"front-secret").expect("key");
        m.update(format!("{ts}:{body}").as_bytes());
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            m.finalize().into_bytes(),
        )
    };
    let headers = [
        ("content-type", "application/json"),
        ("x-front-request-timestamp", ts.as_str()),
        ("x-front-signature", mac.as_str()),
        ("x-front-challenge", "fr0nt-ch4llenge"),
    ];
    let answer = post(gw.addr, "/webhooks/front", &headers, &body).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({"challenge": "fr0nt-ch4llenge"}))
    );
    let unsigned = [headers[0], headers[1], headers[3]];
    let answer = post(gw.addr, "/webhooks/front", &unsigned, &body).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "missing_signature")
    );

    // monday.com: the challenge sent when a webhook is created is echoed once its JWT
    // (`Authorization`, HS256 with the app's signing secret) verifies; unsigned, refused.
    let now = unix_now();
    let jwt = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"accountId": 1, "userId": 2, "iat": now, "exp": now + 300}),
        &jsonwebtoken::EncodingKey::from_secret(b"monday-signing-secret"),
    )
    .expect("jwt");
    let challenge =
        "YQIn0dCoBu2zspb4TpQTXz8WKRpZOjXi9r7_7__BBA9HoPDHPrzKBKXUIquIoNL0BiTJzobUQ2uQD0wq0yDYHg";
    let body = json!({ "challenge": challenge }).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("authorization", jwt.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/monday", &headers, &body).await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, json!({ "challenge": challenge }))
    );
    let answer = post(gw.addr, "/webhooks/monday", &headers[..1], &body).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "missing_signature")
    );

    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    for (source, n) in [
        ("nylas", 1),
        ("dropbox", 1),
        ("trello", 1),
        ("linkedin", 1),
        ("front", 1),
        ("monday", 1),
    ] {
        assert!(
            metrics.contains(&format!(
                r#"hookgate_webhooks_total{{outcome="handshake",source="{source}"}} {n}"#
            )),
            "{source}: {metrics}"
        );
        let accepted =
            format!(r#"hookgate_webhooks_total{{outcome="accepted",source="{source}"}}"#);
        assert!(
            metrics
                .lines()
                .filter(|l| l.starts_with(&accepted))
                .all(|l| l.ends_with(" 0")),
            "{source} published nothing"
        );
    }
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="handshake",source="twitch"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="handshake",source="meta"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"hookgate_webhooks_total{outcome="invalid_verify_token",source="meta"} 1"#),
        "{metrics}"
    );
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

const TOKENS: &str = r#"
[kafka]
brokers = "BOOTSTRAP"
[schemas]
dir = "{schemas}"
[sources.ringcentral]
provider = "ringcentral"
secrets = [{ insecure_dev_value = "rc-verification-token" }]
topic = "tokens.ringcentral"
[sources.graph]
provider = "microsoft-graph"
secrets = [{ insecure_dev_value = "graph-client-state" }]
topic = "tokens.graph"
[sources.grid]
provider = "azure-event-grid"
secrets = [{ insecure_dev_value = "grid-code" }]
topic = "tokens.grid"
"#;

#[tokio::test]
async fn token_handshakes_are_answered_and_never_published() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&TOKENS.replace("BOOTSTRAP", &broker.bootstrap));

    // RingCentral: the subscription check's Validation-Token comes back in the header, with
    // nothing published; deliveries are checked by their Verification-Token.
    let check = send(
        gw.addr,
        "POST",
        "/webhooks/ringcentral",
        &[("validation-token", "0b1d9a3e-7f2c-4e58-9a61-3c4d5e6f7a8b")],
        "",
    )
    .await;
    assert_eq!((check.status, check.body.as_str()), (200, ""), "{check:?}");
    assert_eq!(
        check.headers["validation-token"],
        "0b1d9a3e-7f2c-4e58-9a61-3c4d5e6f7a8b"
    );
    let unsafe_token = send(
        gw.addr,
        "POST",
        "/webhooks/ringcentral",
        &[("validation-token", "<script>")],
        "",
    )
    .await;
    assert_eq!(
        (unsafe_token.status, unsafe_token.code().as_str()),
        (400, "invalid_handshake")
    );
    let body = json!({"uuid": "rc-1", "event": "/restapi/v1.0/account/~/extension/~/message-store", "timestamp": "2026-12-03T10:00:00.000Z", "subscriptionId": "s-1", "body": {"changes": []}}).to_string();
    let delivery = |token: &'static str| {
        let body = body.clone();
        let gw = &gw;
        async move {
            post(
                gw.addr,
                "/webhooks/ringcentral",
                &[
                    ("content-type", "application/json"),
                    ("verification-token", token),
                ],
                &body,
            )
            .await
        }
    };
    assert_eq!(delivery("rc-verification-token").await.status, 202);
    let wrong = delivery("guess").await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (401, "invalid_credentials")
    );
    let records = read_topic(
        &broker.bootstrap,
        "tokens.ringcentral",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "only the delivery");
    assert_eq!(records[0].value["delivery_id"], "rc-1");

    // Microsoft Graph: the subscription check's validationToken comes back as text, with
    // nothing published; notifications are checked by the clientState of every item.
    let check = send(
        gw.addr,
        "POST",
        "/webhooks/graph?validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+522a8e7e-096a-494c-aaf1-ac0dcfca45b7",
        &[("content-type", "text/plain")],
        "",
    )
    .await;
    assert_eq!(
        (check.status, check.body.as_str()),
        (
            200,
            "Validation: Testing client application reachability for subscription Request-Id: 522a8e7e-096a-494c-aaf1-ac0dcfca45b7"
        ),
        "{check:?}"
    );
    assert_eq!(check.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(check.headers["x-content-type-options"], "nosniff");
    let item = |state: &str| json!({"subscriptionId": "s-1", "clientState": state, "changeType": "created", "resource": "Users/1/Messages/2", "tenantId": "t-1"});
    let notify = |items: Vec<serde_json::Value>| {
        let body = json!({"value": items}).to_string();
        let gw = &gw;
        async move {
            post(
                gw.addr,
                "/webhooks/graph",
                &[("content-type", "application/json")],
                &body,
            )
            .await
        }
    };
    let accepted = notify(vec![item("graph-client-state"), item("graph-client-state")]).await;
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let forged = notify(vec![item("graph-client-state"), item("guess")]).await;
    assert_eq!(
        (forged.status, forged.code().as_str()),
        (401, "invalid_credentials")
    );
    let records = read_topic(
        &broker.bootstrap,
        "tokens.graph",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "only the genuine notification");
    assert_eq!(records[0].value["event_type"], "created");

    // Azure Event Grid: the validation event, authenticated by the code in the URL, gets its
    // validation code back; events are published; a wrong code is refused.
    let validation = json!([{"id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66", "topic": "/subscriptions/x", "subject": "", "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}, "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent", "eventTime": "2026-12-03T10:00:00Z", "metadataVersion": "1", "dataVersion": "1"}]).to_string();
    let grid = [
        ("content-type", "application/json"),
        ("aeg-event-type", "SubscriptionValidation"),
    ];
    let answer = post(gw.addr, "/webhooks/grid?code=grid-code", &grid, &validation).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.json(),
        json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
    );
    let unauthenticated = post(gw.addr, "/webhooks/grid?code=guess", &grid, &validation).await;
    assert_eq!(
        (unauthenticated.status, unauthenticated.code().as_str()),
        (401, "invalid_credentials")
    );
    let event = json!([{"id": "ev-1", "topic": "/subscriptions/x", "subject": "/blobServices/default/containers/c/blobs/b", "data": {"api": "PutBlob"}, "eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-12-03T10:00:00Z", "dataVersion": "1"}]).to_string();
    let notification = [
        ("content-type", "application/json"),
        ("aeg-event-type", "Notification"),
    ];
    let accepted = post(
        gw.addr,
        "/webhooks/grid?code=grid-code",
        &notification,
        &event,
    )
    .await;
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let missing = post(gw.addr, "/webhooks/grid", &notification, &event).await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (401, "missing_credentials")
    );
    let records = read_topic(
        &broker.bootstrap,
        "tokens.grid",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "only the event");
    assert_eq!(records[0].value["delivery_id"], "ev-1");
    assert_eq!(
        records[0].value["event_type"],
        "Microsoft.Storage.BlobCreated"
    );
}
