//! Signatures made by the providers' own official SDKs, not by our code: each SDK (through
//! `tests/sdk/oracle.py`, installed by `scripts/install-sdks`) signs a fresh random payload,
//! the gateway must answer 202 and the event must be on Kafka; the same request with one byte
//! changed must be refused. For verify-only SDKs the oracle signs with a general crypto
//! library and the official verifier must accept what the gateway accepts.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::{post, read_topic, repo_path, unix_now, Broker, Gateway};
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
pub(crate) fn oracle(request: &Value) -> Value {
    run_oracle(python(), "tests/sdk/oracle.py", request, &[])
}

fn node_oracle(request: &Value) -> Value {
    node_oracle_with(request, &[])
}

/// The npm oracle with extra environment (`NODE_EXTRA_CA_CERTS` for a local key host).
pub(crate) fn node_oracle_with(request: &Value, env: &[(&str, &std::path::Path)]) -> Value {
    assert!(
        repo_path("tests/sdk/node_modules").exists(),
        "tests/sdk/node_modules is missing: run scripts/install-sdks (the test command does)"
    );
    run_oracle(PathBuf::from("node"), "tests/sdk/oracle.mjs", request, env)
}

const NODE_PROVIDERS: &[&str] = &[
    "github",
    "github-sha1",
    "shopify",
    "linear",
    "sanity",
    "workos",
    "pusher",
    "mux",
    "replicate",
    "polar",
    "onfido",
    "zoom",
    "liveblocks",
    "line",
    "webflow",
    "terra",
    "cashfree",
    "viber",
    "metronome",
    "unit",
    "privy",
    "nango",
    "hookdeck",
    "cronofy",
    "mailersend",
    "surge",
    "creem",
    "acuity",
    "kontent-ai",
    "trigger-dev",
    "moralis",
    "hygraph",
    "contentful",
];

fn run_oracle(
    program: PathBuf,
    script: &str,
    request: &Value,
    env: &[(&str, &std::path::Path)],
) -> Value {
    let mut child = Command::new(program)
        .arg(repo_path(script))
        .envs(env.iter().copied())
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
            secret: sw_secret.clone(),
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
        Case {
            content_type: "application/json",
            provider: "github-sha1",
            secret: random(),
            extra: String::new(),
            body: json!({"action": "created", "repository": {"id": 2, "n": n}}).to_string(),
            headers: vec![("X-GitHub-Event", "star".into()), ("X-GitHub-Delivery", random())],
            topic: "webhooks.github-sha1.star".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "sanity",
            secret: random(),
            extra: String::new(),
            body: json!({"_id": n, "_type": "post", "title": "Hello"}).to_string(),
            headers: vec![],
            topic: "webhooks.sanity.post".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "workos",
            secret: random(),
            extra: String::new(),
            body: json!({"id": format!("event_{n}"), "event": "user.created", "data": {"id": n}, "created_at": "2026-11-23T12:00:00.000Z"}).to_string(),
            headers: vec![],
            topic: "webhooks.workos.user.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "pusher",
            secret: random(),
            extra: String::new(),
            body: json!({"time_ms": now * 1000, "events": [{"name": "channel_occupied", "channel": n}]}).to_string(),
            headers: vec![],
            topic: "webhooks.pusher.channel_occupied".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "mux",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "video.asset.ready", "id": n, "object": {"type": "asset", "id": "a1"}, "data": {}, "created_at": "2026-11-23T12:00:00Z"}).to_string(),
            headers: vec![],
            topic: "webhooks.mux.video.asset.ready".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "replicate",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"id": n, "status": "succeeded", "output": "hi"}).to_string(),
            headers: vec![],
            topic: "webhooks.replicate.succeeded".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "polar",
            secret: format!("polar_whs_{}", random()),
            extra: String::new(),
            // Polar's SDK also validates the event against its schema.
            body: json!({"type": "customer.deleted", "timestamp": "2026-11-23T12:00:00Z", "data": {
                "id": n, "created_at": "2026-11-23T12:00:00Z", "modified_at": null, "metadata": {},
                "external_id": null, "email": "a@example.com", "email_verified": false, "type": "individual",
                "name": null, "billing_name": null, "billing_address": null, "tax_id": null,
                "organization_id": "o1", "deleted_at": null, "avatar_url": "https://example.com/a.png"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.polar.customer.deleted".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "onfido",
            secret: random(),
            extra: String::new(),
            body: json!({"payload": {"resource_type": "check", "action": "check.completed", "object": {
                "id": n, "status": "complete", "completed_at_iso8601": "2026-11-23T12:00:00Z",
                "href": "https://api.onfido.com/v3.6/checks/1"}}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.onfido.check.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "zoom",
            secret: random(),
            extra: String::new(),
            body: json!({"event": "meeting.started", "payload": {"account_id": "acc1", "object": {"id": n, "uuid": "u1"}}, "event_ts": now * 1000}).to_string(),
            headers: vec![],
            topic: "webhooks.zoom.meeting.started".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "openai",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"id": format!("evt_{n}"), "object": "event", "created_at": now, "type": "response.completed", "data": {"id": "resp_1"}}).to_string(),
            headers: vec![],
            topic: "webhooks.openai.response.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "lithic",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"event_type": "card.created", "card_token": n}).to_string(),
            headers: vec![],
            topic: "webhooks.lithic.card.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "easypost",
            secret: random(),
            extra: String::new(),
            body: json!({"id": format!("evt_{n}"), "object": "Event", "description": "tracker.updated", "mode": "test", "result": {"id": "trk_1", "object": "Tracker"}}).to_string(),
            headers: vec![],
            topic: "webhooks.easypost.tracker.updated".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "gocardless",
            secret: random(),
            extra: String::new(),
            body: json!({"events": [{"id": format!("EV{n}"), "created_at": "2026-11-23T12:00:00.000Z", "resource_type": "payments",
                "action": "confirmed", "links": {"payment": "PM1"}}], "meta": {"webhook_id": format!("WB{n}")}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.gocardless.payments".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "coinbase-commerce",
            secret: random(),
            extra: String::new(),
            body: json!({"id": 1, "scheduled_for": "2026-11-23T12:00:00Z", "attempt_number": 1, "event": {"id": n,
                "resource": "event", "type": "charge:created", "api_version": "2018-03-22",
                "created_at": "2026-11-23T12:00:00Z", "data": {"code": "66BEOV2A"}}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.coinbase-commerce.charge_created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "modern-treasury",
            secret: random(),
            extra: String::new(),
            body: json!({"event": "completed", "data": {"id": n, "object": "payment_order", "status": "completed"}}).to_string(),
            headers: vec![],
            topic: "webhooks.modern-treasury.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "telnyx",
            secret: keys["telnyx"]["public"].as_str().expect("key").to_owned(),
            extra: String::new(),
            body: json!({"data": {"event_type": "call.initiated", "id": n, "occurred_at": "2026-11-23T12:00:00.000000Z",
                "payload": {"call_control_id": "v3:abc"}, "record_type": "event"}, "meta": {"attempt": 1}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.telnyx.call.initiated".into(),
            private: keys["telnyx"]["private"].as_str().map(str::to_owned),
        },
        Case {
            content_type: "application/json",
            provider: "mailgun",
            secret: random(),
            extra: String::new(),
            // The oracle wraps this `event-data` with Mailgun's `signature` object.
            body: json!({"event": "delivered", "id": n, "timestamp": now, "recipient": "alice@example.com"}).to_string(),
            headers: vec![],
            topic: "webhooks.mailgun.delivered".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "brex",
            // Brex lists its secrets as bare base64, without `whsec_`.
            secret: "c2RrLXRlc3Qtc2VjcmV0LWZvci1ob29rZ2F0ZQ==".into(),
            extra: String::new(),
            body: json!({"event_type": "REFERRAL_CREATED", "referral_id": n}).to_string(),
            headers: vec![],
            topic: "webhooks.brex.REFERRAL_CREATED".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "render",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "deploy_ended", "timestamp": "2026-11-23T12:00:00Z", "data": {"id": n, "serviceId": "srv-1"}}).to_string(),
            headers: vec![],
            topic: "webhooks.render.deploy_ended".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "incident-io",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"event_type": "public_incident.incident_created_v2", "public_incident.incident_created_v2": {"id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.incident-io.public_incident.incident_created_v2".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "stytch",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"project_id": "project-test-1", "event_id": format!("event-test-{n}"), "action": "CREATE",
                "object_type": "organization", "source": "DIRECT", "id": n, "timestamp": "2026-11-23T12:00:00Z"})
            .to_string(),
            headers: vec![],
            topic: "webhooks.stytch.organization".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "increase",
            secret: random(),
            extra: String::new(),
            body: json!({"id": format!("event_{n}"), "category": "account.created", "created_at": "2026-11-23T12:00:00Z",
                "associated_object_id": "account_1", "associated_object_type": "account", "type": "event"})
            .to_string(),
            headers: vec![],
            topic: "webhooks.increase.account.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "finch",
            secret: "c2RrLXRlc3Qtc2VjcmV0LWZvci1ob29rZ2F0ZQ==".into(),
            extra: String::new(),
            body: json!({"event_type": "employment.updated", "company_id": "c1", "account_id": "a1", "data": {"individual_id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.finch.employment.updated".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "liveblocks",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "roomCreated", "data": {"projectId": "p1", "roomId": n, "createdAt": "2026-11-23T12:00:00Z"}}).to_string(),
            headers: vec![],
            topic: "webhooks.liveblocks.roomCreated".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "line",
            secret: random(),
            extra: String::new(),
            body: json!({"destination": "U1", "events": [{"type": "message", "webhookEventId": n, "timestamp": now * 1000,
                "message": {"type": "text", "id": "1", "text": "hi"}}]})
            .to_string(),
            headers: vec![],
            topic: "webhooks.line.message".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "webflow",
            secret: random(),
            extra: String::new(),
            body: json!({"triggerType": "form_submission", "payload": {"name": "Contact", "id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.webflow.form_submission".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "stream",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "message.new", "cid": "messaging:general", "message": {"id": n}, "created_at": "2026-11-23T12:00:00Z"}).to_string(),
            headers: vec![],
            topic: "webhooks.stream.message.new".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "elevenlabs",
            secret: format!("wsec_{}", random()),
            extra: String::new(),
            body: json!({"type": "post_call_transcription", "event_timestamp": now, "data": {"conversation_id": n}}).to_string(),
            headers: vec![],
            topic: "webhooks.elevenlabs.post_call_transcription".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "retell",
            secret: format!("key_{}", random()),
            extra: String::new(),
            body: json!({"event": "call_ended", "call": {"call_id": n, "call_status": "ended"}}).to_string(),
            headers: vec![],
            topic: "webhooks.retell.call_ended".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "smartcar",
            secret: random(),
            extra: String::new(),
            body: json!({"eventId": n, "eventType": "VEHICLE_STATE", "vehicleId": "v1",
                "data": {"signals": [{"code": "odometer-traveleddistance", "body": {"value": 1130}}]},
                "meta": {"version": "4.0", "deliveryId": "d1", "deliveredAt": "2026-11-23T12:00:00.000Z"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.smartcar.VEHICLE_STATE".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "imagekit",
            secret: format!("whsec_{}", random()),
            extra: String::new(),
            body: json!({"type": "video.transformation.ready", "id": n, "created_at": "2026-11-23T12:00:00.000Z",
                "data": {"asset": {"url": "https://ik.imagekit.io/x/v.mp4"}}, "request": {"x_request_id": "r1"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.imagekit.video.transformation.ready".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "terra",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "activity", "user": {"user_id": n, "provider": "GARMIN"}, "data": []}).to_string(),
            headers: vec![],
            topic: "webhooks.terra.activity".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "cashfree",
            secret: random(),
            extra: String::new(),
            body: json!({"data": {"order": {"order_id": n}, "payment": {"payment_status": "SUCCESS"}},
                "event_time": "2026-11-23T12:00:00+00:00", "type": "PAYMENT_SUCCESS_WEBHOOK"})
            .to_string(),
            headers: vec![],
            topic: "webhooks.cashfree.PAYMENT_SUCCESS_WEBHOOK".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "viber",
            secret: random(),
            extra: String::new(),
            body: json!({"event": "message", "timestamp": now * 1000, "message_token": n, "message": {"type": "text", "text": "hi"}}).to_string(),
            headers: vec![],
            topic: "webhooks.viber.message".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "orb",
            secret: random(),
            extra: String::new(),
            body: json!({"id": n, "created_at": "2026-11-23T12:00:00+00:00", "type": "invoice.issued", "properties": {}}).to_string(),
            headers: vec![],
            topic: "webhooks.orb.invoice.issued".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "box",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "webhook_event", "id": n, "created_at": "2026-11-23T12:00:00-07:00", "trigger": "FILE.UPLOADED",
                "webhook": {"id": "1"}, "source": {"id": "2", "type": "file", "name": "Test.txt"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.box.FILE.UPLOADED".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "cloudinary",
            secret: random(),
            extra: String::new(),
            body: json!({"notification_type": "upload", "public_id": n, "version": now}).to_string(),
            headers: vec![],
            topic: "webhooks.cloudinary.upload".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "moralis",
            secret: random(),
            extra: String::new(),
            // The SDK re-serializes the parsed body with JSON.stringify: this is that text.
            body: json!({"confirmed": true, "chainId": "0x1", "streamId": n, "tag": "transfers", "block": {"number": "1"}}).to_string(),
            headers: vec![],
            topic: "webhooks.moralis.transfers".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "worldline",
            secret: random(),
            extra: String::new(),
            body: json!({"apiVersion": "v1", "id": n, "created": "2026-11-23T12:00:00.000+0000", "merchantId": "1234",
                "type": "payment.captured", "payment": {"id": "3000001", "status": "CAPTURED"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.worldline.payment.captured".into(),
            private: None,
        },
        Case {
            content_type: "application/x-www-form-urlencoded",
            provider: "plivo",
            secret: random(),
            extra: format!("public_url = \"{}\"", url.replace("{source}", "plivo")),
            body: format!("MessageUUID={n}&Status=delivered&To=14155550199&From=14155550100&Text=hi+there&Type=sms"),
            headers: vec![],
            topic: "webhooks.plivo.delivered".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "hygraph",
            secret: random(),
            extra: String::new(),
            body: json!({"operation": "publish", "data": {"__typename": "Post", "id": n, "title": "Hé \"quoted\"\n"}}).to_string(),
            headers: vec![],
            topic: "webhooks.hygraph.publish".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "contentful",
            // The toolkit takes 64-character secrets.
            secret: format!("{}{}", random(), random()),
            // The toolkit's 30 s TTL is shorter than this test takes between signing and sending.
            extra: "auth = { type = \"hmac\", header = \"x-contentful-signature\", signed = \"{method}\\n{path}\\n{signed_headers:x-contentful-signed-headers}\\n{body}\", timestamp_header = \"x-contentful-timestamp\", timestamp_format = \"unix_ms\", tolerance_secs = 600 }".into(),
            body: json!({"sys": {"type": "Entry", "id": n}, "fields": {"title": {"en-US": "Hello"}}}).to_string(),
            headers: vec![],
            topic: "webhooks.contentful.ContentManagement.Entry.publish".into(),
            private: None,
        },
        Case {
            content_type: "application/x-www-form-urlencoded",
            provider: "braintree",
            secret: random(),
            extra: String::new(),
            // The subscription id; the oracle has the SDK sign a sample notification about it.
            body: format!("sub_{n}"),
            headers: vec![],
            topic: "webhooks.braintree.notification".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "dodo-payments",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"business_id": "bus_1", "type": "payment.succeeded", "timestamp": "2026-11-23T12:00:00Z",
                "data": {"payload_type": "Payment", "payment_id": n}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.dodo-payments.payment.succeeded".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "whop",
            secret: format!("ws_{}", random()),
            extra: String::new(),
            body: json!({"id": format!("evt_{n}"), "api_version": "v1", "timestamp": "2026-11-23T12:00:00Z",
                "type": "payment.succeeded", "data": {"id": n}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.whop.payment.succeeded".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "sinch",
            secret: random(),
            extra: String::new(),
            body: json!({"app_id": "01APP", "accepted_time": "2026-11-23T12:00:00Z", "event_time": "2026-11-23T12:00:00Z",
                "project_id": "p1", "message": {"id": n, "direction": "TO_APP", "contact_message": {"text_message": {"text": "hi"}}}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.sinch.callback".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "metronome",
            secret: random(),
            extra: String::new(),
            body: json!({"id": n, "type": "alerts.low_remaining_contract_credit_and_commit_balance_reached",
                "properties": {"customer_id": "c1"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.metronome.alerts.low_remaining_contract_credit_and_commit_balance_reached".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "unit",
            secret: random(),
            extra: String::new(),
            body: json!({"data": [{"id": n, "type": "customer.created", "attributes": {"createdAt": "2026-11-23T12:00:00.000Z"}}]}).to_string(),
            headers: vec![],
            topic: "webhooks.unit.customer.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "privy",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "user.created", "user": {"id": format!("did:privy:{n}"), "created_at": now, "linked_accounts": []}}).to_string(),
            headers: vec![],
            topic: "webhooks.privy.user.created".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "nango",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "sync", "connectionId": n, "providerConfigKey": "github", "syncName": "issues", "model": "Issue",
                "responseResults": {"added": 1, "updated": 0, "deleted": 0}, "success": true})
            .to_string(),
            headers: vec![],
            topic: "webhooks.nango.sync".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "hookdeck",
            secret: random(),
            extra: String::new(),
            body: json!({"id": n, "type": "order.created", "data": {"id": "ord_1"}}).to_string(),
            headers: vec![],
            topic: "webhooks.hookdeck.event".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "cronofy",
            secret: random(),
            extra: String::new(),
            body: json!({"notification": {"type": "change", "changes_since": "2026-11-23T12:00:00Z"},
                "channel": {"channel_id": n, "callback_url": "https://example.com/cronofy", "filters": {}}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.cronofy.change".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "mailersend",
            secret: random(),
            extra: String::new(),
            body: json!({"type": "activity.sent", "domain_id": "dom1", "created_at": "2026-11-23T12:00:00.000000Z",
                "webhook_id": "wh1", "data": {"object": "activity", "id": n, "type": "sent"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.mailersend.activity.sent".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "surge",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "message.received", "account_id": "acct_01", "data": {"id": n, "body": "hi"}}).to_string(),
            headers: vec![],
            topic: "webhooks.surge.message.received".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "creem",
            secret: format!("whsec_{}", random()),
            extra: String::new(),
            // The SDK also checks the event's shape (`object.object` names a known entity).
            body: json!({"id": format!("evt_{n}"), "eventType": "checkout.completed", "created_at": now * 1000,
                "object": {"id": n, "object": "checkout", "status": "completed"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.creem.checkout.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "anthropic",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"type": "event", "id": format!("wevt_{n}"), "created_at": "2026-11-23T12:00:00Z",
                "data": {"type": "session.status_idled", "id": "sesn_1", "organization_id": "org_1", "workspace_id": "wrkspc_1"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.anthropic.session.status_idled".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "chunkify",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"id": n, "event": "job.completed", "date": "2026-11-23T12:00:00Z", "data": {"job": {"id": "job_1"}, "files": []}})
                .to_string(),
            headers: vec![],
            topic: "webhooks.chunkify.job.completed".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "straddle",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"event_type": "charge.created.v1", "event_id": n, "account_id": "acct_1", "data": {"id": "ch_1"}}).to_string(),
            headers: vec![],
            topic: "webhooks.straddle.charge.created.v1".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "composio",
            secret: random(),
            extra: String::new(),
            // The SDK also checks the payload's shape (a V3 envelope).
            body: json!({"id": format!("evt_{n}"), "timestamp": "2026-11-23T12:00:00Z", "type": "composio.trigger.message",
                "metadata": {"log_id": "log_1", "trigger_slug": "GITHUB_COMMIT_EVENT", "trigger_id": "ti_1",
                    "connected_account_id": "ca_1", "auth_config_id": "ac_1", "user_id": "user_1"},
                "data": {"sha": n}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.composio.composio.trigger.message".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "fingerprint",
            secret: random(),
            extra: String::new(),
            body: json!({"requestId": format!("{}.{n}", now * 1000), "visitorId": "Ibk1527CUFmcnjLwIs4A9",
                "timestamp": now * 1000, "url": "https://example.com/login", "visitorFound": true})
            .to_string(),
            headers: vec![],
            topic: "webhooks.fingerprint.identification".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "castle",
            secret: random(),
            extra: String::new(),
            body: json!({"api_version": "v1", "app_id": "123456789", "type": "$policy.matched",
                "created_at": "2026-11-23T12:00:00.000Z", "data": {"id": n, "user_id": "u1"}})
            .to_string(),
            headers: vec![],
            // `$` is not allowed in Kafka topic names.
            topic: "webhooks.castle._policy.matched".into(),
            private: None,
        },
        Case {
            content_type: "application/x-www-form-urlencoded",
            provider: "acuity",
            secret: random(),
            extra: String::new(),
            body: format!("action=scheduled&id={n}&calendarID=1234&appointmentTypeID=5678"),
            headers: vec![],
            topic: "webhooks.acuity.scheduled".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "kontent-ai",
            secret: random(),
            extra: String::new(),
            body: json!({"notifications": [{"data": {"system": {"id": n, "codename": "home", "last_modified": "2026-11-23T12:00:00Z"}},
                "message": {"environment_id": "env_1", "object_type": "content_item", "action": "published", "delivery_slot": "published"}}]})
            .to_string(),
            headers: vec![],
            topic: "webhooks.kontent-ai.published".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "trigger-dev",
            secret: random(),
            extra: String::new(),
            // The SDK parses the alert against its schema: a complete deployment alert.
            body: json!({"id": format!("whk_{n}"), "created": "2026-11-23T12:00:00.000Z", "webhookVersion": "2025-01-01",
                "type": "alert.deployment.success", "object": {
                    "environment": {"id": "env_1", "type": "PRODUCTION", "slug": "prod"},
                    "organization": {"id": "org_1", "slug": "acme", "name": "Acme"},
                    "project": {"id": "proj_1", "ref": "proj_abc", "slug": "app", "name": "App"},
                    "deployment": {"id": "dep_1", "status": "DEPLOYED", "version": "20261123.1", "shortCode": "abc123",
                        "deployedAt": "2026-11-23T12:00:00.000Z"},
                    "tasks": []}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.trigger-dev.alert.deployment.success".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "signalwire",
            secret: format!("PSK{}", random()),
            extra: format!("public_url = \"{}\"", url.replace("{source}", "signalwire")),
            body: json!({"event_type": "calling.call.state", "event_channel": "swml:1", "timestamp": now,
                "project_id": "p1", "space_id": "s1",
                "params": {"call_id": n, "node_id": "n1", "call_state": "answered", "device": {"type": "phone"}}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.signalwire.calling.call.state".into(),
            private: None,
        },
        Case {
            content_type: "application/json",
            provider: "linq",
            secret: sw_secret.clone(),
            extra: String::new(),
            body: json!({"api_version": "v3", "webhook_version": "2026-02-03", "event_type": "message.received",
                "event_id": n, "created_at": "2026-11-23T12:00:00Z", "trace_id": "tr_1", "partner_id": "pt_1",
                "data": {"id": "msg_1", "direction": "inbound"}})
            .to_string(),
            headers: vec![],
            topic: "webhooks.linq.message.received".into(),
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
    let gw = Gateway::in_process(&config);

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
    // Each oracle loads its SDKs, then signs at its current time (loading takes longer than
    // Linear's and Paddle's windows on a busy machine); the quicker npm one goes last.
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

        // Adyen, Mailgun and Braintree sign inside the body, so the oracle returns the signed
        // body.
        let body = r["body"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| c.body.clone());
        let tampered = if c.provider == "mailgun" {
            // Mailgun signs the token and timestamp only.
            body.replacen("\"token\":\"msg_", "\"token\":\"msh_", 1)
        } else if c.provider == "braintree" {
            // One character of the base64 payload.
            body.replacen("bt_payload=CiAg", "bt_payload=CiAh", 1)
        } else if c.provider == "acuity" {
            body.replacen("action=scheduled", "action=scheduleD", 1)
        } else if c.content_type.ends_with("json") {
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
    // Smartcar's VERIFY event, signed by its SDK: the gateway's answer must be the SDK's own
    // `hash_challenge` of the challenge, and nothing is published.
    let smartcar = cases
        .iter()
        .find(|c| c.provider == "smartcar")
        .expect("smartcar case");
    let challenge = format!("chl-{}", random());
    let body = json!({"eventId": format!("verify-{n}"), "eventType": "VERIFY", "data": {"challenge": challenge},
        "meta": {"version": "4.0", "webhookId": "w1", "deliveryId": "d2"}})
    .to_string();
    let signed = oracle(
        &json!({"op": "sign", "requests": [{"provider": "smartcar", "secret": smartcar.secret, "body": body}]}),
    );
    let sig = signed["results"][0]["headers"]["SC-Signature"]
        .as_str()
        .expect("signature")
        .to_owned();
    let expected = oracle(
        &json!({"op": "smartcar_challenge", "secret": smartcar.secret, "challenge": challenge}),
    );
    let h = [
        ("content-type", "application/json"),
        ("sc-signature", sig.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/smartcar", &h, &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json(), json!({"challenge": expected["answer"]}));
    let unsigned = post(gw.addr, "/webhooks/smartcar", &h[..1], &body).await;
    assert_eq!(unsigned.status, 401, "an unsigned VERIFY is refused");
    let records = read_topic(
        &broker.bootstrap,
        &smartcar.topic,
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "the VERIFY event was not published");
    summary.push("smartcar VERIFY <- smartcar hash_challenge".to_owned());

    println!(
        "official SDK signatures accepted and published:\n  {}",
        summary.join("\n  ")
    );
}

/// PayPal's SDK lives in a venv of its own (tests/sdk/requirements-paypal.txt says why).
fn paypal_python() -> PathBuf {
    let path = repo_path("target/sdk-venv-paypal/bin/python");
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-sdks (the test command does)",
        path.display()
    );
    path
}

/// The certificate-URL presets: AWS's npm `sns-validator` and PayPal's `paypalrestsdk` fetch the
/// signing certificate themselves, from the test's key host (its CA trusted through
/// NODE_EXTRA_CA_CERTS and REQUESTS_CA_BUNDLE), and must accept what the gateway accepts; the
/// gateway fetches the same certificate through `[outbound] ca_file`. The presets' recipes are
/// used as they are, with the key host allowed instead of the providers' hosts.
// Two workers: the oracles block while the SDKs fetch from the key host this runtime serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_url_sdks_accept_what_the_gateway_accepts() {
    use crate::docserver::DocServer;
    use crate::remote_certs::{signing_certificate, SIGNING_KEY};

    let server = DocServer::start().await;
    server.put(
        "/sns/cert.pem",
        signing_certificate(&server, "sns.amazonaws.com"),
    );
    let paypal_cert = "/v1/notifications/certs/CERT-360caa42-test";
    server.put(
        paypal_cert,
        signing_certificate(&server, "messageverificationcerts.paypal.com"),
    );
    let broker = Broker::start();
    let n = random();
    let host = format!("localhost:{}", server.port);
    let topic_arn = format!("arn:aws:sns:eu-west-1:123456789012:sdk-{n}");
    let webhook_id = "8PT597110X687430LKGECATA";
    let config = format!(
        r#"
[kafka]
brokers = "{bootstrap}"

[schemas]
dir = "{{schemas}}"

[outbound]
ca_file = "{ca}"

[sources.sns]
provider = "aws-sns"
secrets = [{{ insecure_dev_value = "{topic_arn}" }}]
topic = "sdk-sns-{n}"

[sources.sns.auth]
type = "certificate_url"
cert_url = {{ pointer = "/SigningCertURL" }}
allowed_hosts = ["{host}"]
cert_path_suffix = ".pem"
signature = {{ pointer = "/Signature" }}
algorithm_from = {{ pointer = "/SignatureVersion" }}
algorithms = {{ "1" = "rsa_pkcs1_sha1", "2" = "rsa_pkcs1_sha256" }}
recipient_pointer = "/TopicArn"
chain = "none"
signed_fields = {{ by = "Type", lists = {{ Notification = ["Message", "MessageId", "Subject?", "Timestamp", "TopicArn", "Type"] }} }}

[sources.paypal]
provider = "paypal"
secrets = [{{ insecure_dev_value = "{webhook_id}" }}]
topic = "sdk-paypal-{n}"

[sources.paypal.auth]
type = "certificate_url"
cert_url = {{ header = "PAYPAL-CERT-URL" }}
allowed_hosts = ["{host}"]
signature = {{ header = "PAYPAL-TRANSMISSION-SIG" }}
algorithm_from = {{ header = "PAYPAL-AUTH-ALGO" }}
algorithms = {{ SHA256withRSA = "rsa_pkcs1_sha256" }}
signed = "{{header:paypal-transmission-id}}|{{header:paypal-transmission-time}}|{{secret}}|{{body_crc32}}"
chain = "public"
cert_names = ["*.paypal.com"]
"#,
        bootstrap = broker.bootstrap,
        ca = server.ca_file.display(),
    );
    let gw = Gateway::in_process(&config);

    // AWS SNS, both signature versions.
    let sns_requests: Vec<Value> = ["1", "2"]
        .iter()
        .map(|version| {
            json!({
                "provider": "aws-sns",
                "kind": "Notification",
                "msg_id": uuid::Uuid::now_v7().to_string(),
                "topic": topic_arn,
                "subject": format!("v{version}"),
                "body": json!({"order": n, "version": version}).to_string(),
                "timestamp": unix_now(),
                "version": version,
                "cert_url": server.url("/sns/cert.pem"),
                "host_pattern": format!("^{}$", host.replace('.', "\\.")),
                "private": SIGNING_KEY,
            })
        })
        .collect();
    let signed = run_oracle(
        PathBuf::from("node"),
        "tests/sdk/oracle.mjs",
        &json!({"op": "sign", "requests": sns_requests}),
        &[("NODE_EXTRA_CA_CERTS", &server.ca_file)],
    );
    let mut ids = Vec::new();
    for result in signed["results"].as_array().expect("results") {
        assert_eq!(
            result["sdk_accepts"], true,
            "sns-validator refused: {result}"
        );
        let body = result["body"].as_str().expect("body");
        let headers = [
            ("content-type", "text/plain; charset=UTF-8"),
            ("x-amz-sns-message-type", "Notification"),
        ];
        let answer = post(gw.addr, "/webhooks/sns", &headers, body).await;
        assert_eq!(answer.status, 202, "{answer:?}");
        let tampered = body.replacen("order", "ordex", 1);
        let answer = post(gw.addr, "/webhooks/sns", &headers, &tampered).await;
        assert_eq!(answer.status, 401, "{answer:?}");
        let message: Value = serde_json::from_str(body).expect("json");
        ids.push(message["MessageId"].as_str().expect("id").to_owned());
    }
    let records = read_topic(
        &broker.bootstrap,
        &format!("sdk-sns-{n}"),
        Duration::from_secs(30),
        |r| r.len() >= 2,
    );
    let mut keys: Vec<String> = records.iter().filter_map(|r| r.key.clone()).collect();
    keys.sort();
    ids.sort();
    assert_eq!(keys, ids);

    // PayPal.
    let body = json!({
        "id": format!("WH-{n}"),
        "event_version": "1.0",
        "create_time": "2026-12-01T10:00:00.000Z",
        "resource_type": "capture",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "summary": "Payment completed for $ 7.47 USD",
        "resource": {"id": n, "amount": {"value": "7.47", "currency_code": "USD"}},
    })
    .to_string();
    let request = json!({"op": "sign", "requests": [{
        "provider": "paypal",
        "secret": webhook_id,
        "body": body,
        "msg_id": uuid::Uuid::now_v7().to_string(),
        "transmission_time": "2026-12-01T10:00:01Z",
        "cert_url": server.url(paypal_cert),
        "ca_file": server.ca_file,
        "private": SIGNING_KEY,
    }]});
    let signed = run_oracle(
        paypal_python(),
        "tests/sdk/oracle.py",
        &request,
        &[("REQUESTS_CA_BUNDLE", &server.ca_file)],
    );
    let result = &signed["results"][0];
    assert_eq!(
        result["sdk_accepts"], true,
        "paypalrestsdk refused: {result}"
    );
    let headers: Vec<(String, String)> = result["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .chain([("content-type".to_owned(), "application/json".to_owned())])
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = post(gw.addr, "/webhooks/paypal", &headers, &body).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let answer = post(
        gw.addr,
        "/webhooks/paypal",
        &headers,
        &body.replacen("7.47", "7.48", 2),
    )
    .await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.code(), "invalid_signature");
    let records = read_topic(
        &broker.bootstrap,
        &format!("sdk-paypal-{n}"),
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].key.as_deref(), Some(format!("WH-{n}").as_str()));
    assert_eq!(records[0].value["event_type"], "PAYMENT.CAPTURE.COMPLETED");
    assert_eq!(
        server.hits(paypal_cert),
        2,
        "the SDK's fetch and the gateway's one"
    );
}
