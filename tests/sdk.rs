//! Signatures made by the providers' own official SDKs, not by our code: each SDK (through
//! `tests/sdk/oracle.py`, installed by `scripts/install-sdks`) signs a fresh random payload,
//! the gateway must answer 202 and the event must be on Kafka; the same request with one byte
//! changed must be refused. For verify-only SDKs the oracle signs with a general crypto
//! library and the official verifier must accept what the gateway accepts.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{post, read_topic, repo_path, unix_now, Broker, Gateway};
use serde_json::{json, Value};

fn python() -> PathBuf {
    let path = std::env::var_os("HOOKGATE_SDK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("target/sdk-venv/bin/python"));
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-sdks (the test command does)",
        path.display()
    );
    path
}

/// Runs the Python oracle (`tests/sdk/oracle.py`), or the npm one (`tests/sdk/oracle.mjs`)
/// for the providers whose official SDK is on npm.
fn oracle(request: &Value) -> Value {
    run_oracle(python(), "tests/sdk/oracle.py", request)
}

fn node_oracle(request: &Value) -> Value {
    assert!(
        repo_path("tests/sdk/node_modules").exists(),
        "tests/sdk/node_modules is missing: run scripts/install-sdks (the test command does)"
    );
    run_oracle(PathBuf::from("node"), "tests/sdk/oracle.mjs", request)
}

const NODE_PROVIDERS: &[&str] = &["github", "shopify", "linear"];

fn run_oracle(program: PathBuf, script: &str, request: &Value) -> Value {
    let mut child = Command::new(program)
        .arg(repo_path(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start oracle");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("oracle");
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("oracle JSON")
}

fn random() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

struct Case {
    provider: &'static str,
    content_type: &'static str,
    secret: String,
    /// Extra config lines for the source.
    extra: String,
    body: String,
    /// Headers the provider sends besides the signature.
    headers: Vec<(&'static str, String)>,
    topic: String,
    private: Option<String>,
}

#[tokio::test]
async fn official_sdk_signatures_are_accepted_and_published() {
    let keys = oracle(&json!({"op": "keygen"}));
    let broker = Broker::start();
    let url = "https://hooks.example.com/webhooks/{source}";
    let n = random();
    let now = unix_now();
    let sw_secret = format!("whsec_{}", "c2RrLXRlc3Qtc2VjcmV0LWZvci1ob29rZ2F0ZQ==");

    let cases = vec![
        Case {
            content_type: "application/json",
            provider: "standard-webhooks",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "invoice.paid", "timestamp": "2026-11-23T12:00:00Z", "data": {"n": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.standard-webhooks.invoice.paid".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "gitlab-signing-token",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"object_kind": "push", "n": n}).to_string(),
            headers: vec![("X-Gitlab-Event", "Push Hook".into())],
            topic: "webhooks.gitlab-signing-token.Push_Hook".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "svix",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "message.attempt.exhausted", "data": {"n": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.svix.message.attempt.exhausted".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "clerk",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "user.created", "object": "event", "data": {"id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.clerk.user.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "resend",
            secret: sw_secret,
            extra: String::new(),
            body: json!({"type": "email.delivered", "created_at": "2026-11-23T12:00:00Z", "data": {"email_id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.resend.email.delivered".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "stripe",
            secret: format!("whsec_{}", random()),
            extra: String::new(),
            body: json!({"id": format!("evt_{n}"), "object": "event", "type": "payment_intent.succeeded", "created": now, "data": {"object": {}}}).to_string(),
            headers: vec![],
            topic: "webhooks.stripe.payment_intent.succeeded".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "slack",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "event_callback", "event_id": format!("Ev{n}"), "event_time": now, "event": {"type": "app_mention", "text": "hi"}}).to_string(),
            headers: vec![],
            topic: "webhooks.slack.app_mention".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "paddle",
            secret: format!("pdl_ntfset_{}", random()),
            // Paddle's SDKs allow 5 s; the test machine may be slower between signing and sending.
            extra: "auth = { type = \"hmac\", header = \"Paddle-Signature\", fields = { separator = \";\", signature = \"h1\", timestamp = \"ts\" }, signed = \"{timestamp}:{body}\", tolerance_secs = 60 }".into(),
            body: json!({"event_id": format!("evt_{n}"), "event_type": "transaction.completed", "occurred_at": "2026-11-23T12:00:00Z", "data": {}}).to_string(),
            headers: vec![],
            topic: "webhooks.paddle.transaction.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "hubspot",
            secret: random(),
            extra: format!("public_url = \"{}\"", url.replace("{source}", "hubspot")),
            body: json!([{"eventId": 1, "subscriptionType": "contact.creation", "occurredAt": now * 1000, "n": n}]).to_string(),
            headers: vec![],
            topic: "webhooks.hubspot.contact.creation".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "square",
            secret: random(),
            extra: format!("public_url = \"{}\"", url.replace("{source}", "square")),
            body: json!({"merchant_id": "M", "type": "payment.created", "event_id": n, "created_at": "2026-11-23T12:00:00Z", "data": {}}).to_string(),
            headers: vec![],
            topic: "webhooks.square.payment.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "sendgrid",
            secret: keys["sendgrid"]["public"].as_str().expect("key").to_owned(),
            extra: String::new(),
            body: format!("{}\r\n", json!([{"email": "a@example.com", "event": "delivered", "sg_event_id": n, "timestamp": now}])),
            headers: vec![],
            topic: "webhooks.sendgrid.delivered".into(),
            private: keys["sendgrid"]["private"].as_str().map(str::to_owned),
        },
        Case {
            content_type: "application/json",
            provider: "discord",
            secret: keys["discord"]["public"].as_str().expect("key").to_owned(),
            extra: String::new(),
            body: json!({"type": 2, "id": n, "data": {"name": "ping"}}).to_string(),
            headers: vec![],
            topic: "webhooks.discord.2".into(),
            private: keys["discord"]["private"].as_str().map(str::to_owned),
        },
        Case {
            content_type: "application/json",
            provider: "razorpay",
            secret: random(),
            extra: String::new(),
            body: json!({"entity": "event", "event": "payment.captured", "created_at": now, "payload": {"n": n}}).to_string(),
            headers: vec![("x-razorpay-event-id", n.clone())],
            topic: "webhooks.razorpay.payment.captured".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "github",
            secret: random(),
            extra: String::new(),
            body: json!({"action": "created", "starred_at": null, "repository": {"id": 1, "n": n}}).to_string(),
            headers: vec![("X-GitHub-Event", "star".into()), ("X-GitHub-Delivery", n.clone())],
            topic: "webhooks.github.star".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "shopify",
            secret: random(),
            extra: String::new(),
            body: json!({"id": 820982911946154508u64, "email": "jon@example.com", "n": n}).to_string(),
            headers: vec![
                ("X-Shopify-Topic", "orders/create".into()),
                ("X-Shopify-Webhook-Id", n.clone()),
                ("X-Shopify-Triggered-At", "2026-11-23T12:00:00Z".into()),
            ],
            topic: "webhooks.shopify.orders_create".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "linear",
            secret: random(),
            extra: String::new(),
            body: json!({"action": "create", "type": "Issue", "data": {"id": n}, "createdAt": "2026-11-23T12:00:00Z"}).to_string(),
            headers: vec![("Linear-Delivery", n.clone())],
            topic: "webhooks.linear.Issue".into(),
            private: None,
        },
        Case {
            content_type: "application/x-www-form-urlencoded",
            provider: "twilio",
            secret: random(),
            extra: format!("public_url = \"{}\"", url.replace("{source}", "twilio")),
            body: format!("MessageSid=SM{n}&MessageStatus=delivered&To=%2B15005550006&From=%2B15005550001&Body=hi+there"),
            headers: vec![],
            topic: "webhooks.twilio.delivered".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "adyen",
            secret: "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056".into(),
            extra: String::new(),
            body: json!({"live": "false", "notificationItems": [{"NotificationRequestItem": {
                "pspReference": n, "merchantReference": "order-1", "merchantAccountCode": "TestMerchant",
                "amount": {"value": 1130, "currency": "EUR"}, "eventCode": "AUTHORISATION", "success": "true"}}]})
            .to_string(),
            headers: vec![],
            topic: "webhooks.adyen.AUTHORISATION".into(),
            private: None,
        },
    ];

    let mut config = format!(
        "[kafka]\nbrokers = \"{}\"\n[schemas]\ndir = \"{{schemas}}\"\n",
        broker.bootstrap
    );
    for c in &cases {
        config.push_str(&format!(
            "[sources.{p}]\nprovider = \"{p}\"\nsecrets = [{{ insecure_dev_value = \"{s}\" }}]\n{e}\n",
            p = c.provider,
            s = c.secret,
            e = c.extra
        ));
    }
    let gw = Gateway::start(&config);

    let requests: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "provider": c.provider,
                "secret": c.secret,
                "body": c.body,
                "timestamp": now,
                "msg_id": format!("msg_{}", random()),
                "url": url.replace("{source}", c.provider),
                "private": c.private,
            })
        })
        .collect();
    let (node, python): (Vec<_>, Vec<_>) = requests
        .into_iter()
        .partition(|r| NODE_PROVIDERS.contains(&r["provider"].as_str().unwrap_or_default()));
    let from_python = oracle(&json!({"op": "sign", "requests": python}));
    let from_node = node_oracle(&json!({"op": "sign", "requests": node}));
    // Back in the order of `cases`.
    let mut python_results = from_python["results"].as_array().expect("results").iter();
    let mut node_results = from_node["results"].as_array().expect("results").iter();
    let results: Vec<&Value> = cases
        .iter()
        .map(|c| {
            let next = if NODE_PROVIDERS.contains(&c.provider) {
                node_results.next()
            } else {
                python_results.next()
            };
            next.expect("one result per request")
        })
        .collect();

    let mut summary = Vec::new();
    for (c, r) in cases.iter().zip(results) {
        let sdk = r["sdk"].as_str().unwrap_or_default();
        assert_eq!(
            r["sdk_accepts"], true,
            "{}: the official SDK refused its own signature",
            c.provider
        );
        let mut headers: Vec<(String, String)> =
            vec![("content-type".into(), c.content_type.into())];
        headers.extend(c.headers.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        for (k, v) in r["headers"].as_object().expect("headers") {
            headers.push((k.clone(), v.as_str().expect("header value").to_owned()));
        }
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let path = format!("/webhooks/{}", c.provider);

        // Adyen's SDK signs inside the body, so the oracle returns the signed body.
        let body = r["body"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| c.body.clone());
        let tampered = if c.content_type.ends_with("json") {
            body.replacen("{", "{ ", 1).replacen("1130", "1131", 1)
        } else {
            body.replacen("hi+there", "hi+therE", 1)
        };
        assert_ne!(tampered, body);
        let refused = post(gw.addr, &path, &h, &tampered).await;
        assert_eq!(
            refused.status, 401,
            "{} ({sdk}): a tampered body must be refused: {refused:?}",
            c.provider
        );

        let answer = post(gw.addr, &path, &h, &body).await;
        if c.provider == "adyen" {
            // Adyen requires `200` and `[accepted]`.
            assert_eq!(
                (answer.status, answer.body.as_str()),
                (200, "[accepted]"),
                "{answer:?}"
            );
        } else {
            assert_eq!(answer.status, 202, "{} ({sdk}): {answer:?}", c.provider);
        }
        let id = answer.headers["hookgate-id"]
            .to_str()
            .expect("id")
            .to_owned();
        let records = read_topic(&broker.bootstrap, &c.topic, Duration::from_secs(30), |rs| {
            rs.iter().any(|r| r.value["id"] == id.as_str())
        });
        assert_eq!(
            records.len(),
            1,
            "{}: exactly the one accepted event",
            c.provider
        );
        assert_eq!(records[0].value["provider"], c.provider);
        summary.push(format!("{} <- {sdk}", c.provider));
    }
    println!(
        "official SDK signatures accepted and published:\n  {}",
        summary.join("\n  ")
    );
}
