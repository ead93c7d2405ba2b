//! The management API's changes, end to end on a real broker: a source created by API takes
//! signed deliveries at once, is changed, rotated (the old token verifies through the grace
//! period only), removed; every refusal has its status and message; sources survive a restart;
//! two gateways sharing the Kafka-topic store see each other's changes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::{github_signature, post, read_topic, send, Answer, Broker, Gateway};
use serde_json::{json, Value};

const WRITER: &str = "writer-key-0123456789";
const READER: &str = "reader-key-0123456789";
const STORE_KEY: &str = "8f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A gateway on `bootstrap` with one config source and the admin API; `store` is the
/// `[admin.store]` table's contents.
fn config(bootstrap: &str, store: &str) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
delivery_timeout_ms = 10000

[schemas]
dir = "{{schemas}}"

[admin]
listen = "127.0.0.1:0"
keys = [
  {{ name = "ci", secret = {{ insecure_dev_value = "{WRITER}" }}, scopes = ["webhooks:read", "webhooks:write"] }},
  {{ name = "dashboards", secret = {{ insecure_dev_value = "{READER}" }}, scopes = ["webhooks:read"] }},
]
store = {{ {store}, encryption_key = {{ env = "TEST_STORE_KEY" }} }}

[sources.from-file]
provider = "github"
secrets = [{{ insecure_dev_value = "file-secret" }}]
"#
    )
}

fn local_store(dir: &std::path::Path) -> String {
    format!("path = \"{}\"", dir.display())
}

const ENV: &[(&str, &str)] = &[("TEST_STORE_KEY", STORE_KEY)];

async fn call(admin: SocketAddr, method: &str, path: &str, key: &str, body: &Value) -> Answer {
    let auth = format!("Bearer {key}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        admin,
        method,
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

/// A GitHub delivery signed with `token` to `/webhooks/{id}`.
async fn deliver(gw: &Gateway, id: &str, token: &str, event: &str, delivery: &str) -> Answer {
    let body = format!(r#"{{"zen":"created by API","hook_id":{}}}"#, delivery.len());
    let sig = github_signature(token, &body);
    post(
        gw.addr,
        &format!("/webhooks/{id}"),
        &[
            ("content-type", "application/json"),
            ("x-github-event", event),
            ("x-github-delivery", delivery),
            ("x-hub-signature-256", sig.as_str()),
        ],
        &body,
    )
    .await
}

/// `POST /v1/webhooks/{id}/rotate` with a grace period.
async fn rotate_token(admin: SocketAddr, id: &str, grace_seconds: u64) -> Answer {
    let path = format!("/v1/webhooks/{id}/rotate");
    call(
        admin,
        "POST",
        &path,
        WRITER,
        &json!({ "grace_seconds": grace_seconds }),
    )
    .await
}

fn error_of(answer: &Answer) -> String {
    answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_source_created_by_api_is_live_at_once_and_can_be_changed_rotated_and_removed() {
    let broker = Broker::start();
    let store = tempfile::tempdir().expect("tempdir");
    let text = config(&broker.bootstrap, &local_store(store.path()));
    let mut gw = Gateway::start_env(&text, ENV);
    let admin = gw.admin_addr.expect("admin listener");

    // Create: the gateway makes the token and shows it this once.
    let created = call(
        admin,
        "POST",
        "/v1/webhooks",
        WRITER,
        &json!({"webhook": {"name": "Org repos", "description": "pushes of acme/*",
            "provider": "github", "events": ["star", "watch"], "on_invalid": "reject"}}),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let w = created.json();
    let id = w["id"].as_str().expect("id").to_owned();
    let token = w["token"].as_str().expect("token").to_owned();
    assert!(id.starts_with("wh_") && id.len() == 35, "{id}");
    assert_eq!(token.len(), 64, "32 random bytes, hex");
    assert_eq!(created.headers["location"], format!("/v1/webhooks/{id}"));
    assert_eq!(w["url"], format!("/webhooks/{id}"));
    assert_eq!(w["events"], json!(["star", "watch"]));
    assert_eq!(w["read_only"], false);
    assert_eq!(w["on_invalid"], "reject");
    assert_eq!(w["options"], json!({"on_invalid": "reject"}));

    // At once on the ingest path, and on the broker.
    let accepted = deliver(&gw, &id, &token, "star", "d-1").await;
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.star",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records[0].value["source"], id.as_str());
    assert_eq!(records[0].value["delivery_id"], "d-1");
    let forged = deliver(&gw, &id, "not-the-token", "star", "d-2").await;
    assert_eq!(forged.status, 401, "{forged:?}");
    let not_subscribed = deliver(&gw, &id, &token, "issues", "d-3").await;
    assert_eq!(not_subscribed.status, 422, "{not_subscribed:?}");

    // Read back: the token is redacted from now on.
    let one = call(
        admin,
        "GET",
        &format!("/v1/webhooks/{id}"),
        READER,
        &Value::Null,
    )
    .await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["token"], "redacted");
    assert_eq!(one.json()["name"], "Org repos");
    let page = call(admin, "GET", "/v1/webhooks", READER, &Value::Null)
        .await
        .json();
    assert_eq!(
        page["count"], 2,
        "the config source and the API one: {page}"
    );
    assert_eq!(page["elements"][0]["id"], "from-file");
    assert_eq!(page["elements"][1]["id"], id.as_str());

    // Change: events and a name; `null` removes an option.
    let changed = call(
        admin,
        "PATCH",
        &format!("/v1/webhooks/{id}"),
        WRITER,
        &json!({"webhook": {"name": "Org repos and issues", "events": ["star", "issues"],
            "on_invalid": null}}),
    )
    .await;
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_eq!(changed.json()["events"], json!(["issues", "star"]));
    assert_eq!(changed.json()["options"], json!({}));
    assert_eq!(changed.json()["token"], "redacted");
    let now_subscribed = deliver(&gw, &id, &token, "issues", "d-4").await;
    assert_eq!(now_subscribed.status, 202, "{now_subscribed:?}");

    // Rotate with a 2 s grace: both tokens verify, then only the new one.
    let rotated = rotate_token(admin, &id, 2).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_token = rotated.json()["token"].as_str().expect("token").to_owned();
    assert_ne!(new_token, token);
    assert!(rotated.json()["previous_token_expires_at"].is_string());
    assert_eq!(deliver(&gw, &id, &token, "star", "d-5").await.status, 202);
    assert_eq!(
        deliver(&gw, &id, &new_token, "star", "d-6").await.status,
        202
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    for attempt in 0.. {
        let old = deliver(&gw, &id, &token, "star", &format!("d-7-{attempt}")).await;
        if old.status == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old token still verifies: {old:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        deliver(&gw, &id, &new_token, "star", "d-8").await.status,
        202
    );
    let after = call(
        admin,
        "GET",
        &format!("/v1/webhooks/{id}"),
        READER,
        &Value::Null,
    )
    .await;
    assert_eq!(after.json()["previous_token_expires_at"], Value::Null);

    // A provider that issues its own secret: it is passed in and never shown.
    let stripe = call(
        admin,
        "POST",
        "/v1/webhooks",
        WRITER,
        &json!({"webhook": {"name": "Billing", "provider": "stripe", "events": "*",
            "secret": "whsec_test_issued_by_stripe"}}),
    )
    .await;
    assert_eq!(stripe.status, 201, "{stripe:?}");
    assert_eq!(stripe.json()["token"], "redacted");
    assert_eq!(stripe.json()["events"], json!(["*"]));
    let stripe_id = stripe.json()["id"].as_str().expect("id").to_owned();

    // Every change left an audit line; no token or secret reached the log or the store file.
    let logs = gw.logs();
    for action in ["webhook.create", "webhook.update", "webhook.rotate"] {
        assert!(
            logs.lines()
                .any(|l| l.contains("hookgate::audit") && l.contains(action) && l.contains("ci")),
            "no audit line for {action}"
        );
    }
    let file = std::fs::read_to_string(store.path().join("webhooks.json")).expect("store file");
    for secret in [
        token.as_str(),
        new_token.as_str(),
        "whsec_test_issued_by_stripe",
    ] {
        assert!(!logs.contains(secret), "a secret in the log");
        assert!(
            !file.contains(secret),
            "a secret in the store file in clear"
        );
    }

    // Restart: the API-created sources are still there and still verify.
    gw.terminate();
    assert!(gw.wait(Duration::from_secs(20)));
    let gw = Gateway::start_env(&text, ENV);
    let admin = gw.admin_addr.expect("admin listener");
    let page = call(admin, "GET", "/v1/webhooks", READER, &Value::Null)
        .await
        .json();
    assert_eq!(page["count"], 3, "{page}");
    assert_eq!(
        deliver(&gw, &id, &new_token, "star", "d-9").await.status,
        202
    );
    assert_eq!(deliver(&gw, &id, &token, "star", "d-10").await.status, 401);

    // Remove: gone from the API and the ingest path.
    let deleted = call(
        admin,
        "DELETE",
        &format!("/v1/webhooks/{id}"),
        WRITER,
        &Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    assert_eq!(deleted.json(), json!({"id": id, "deleted": true}));
    assert_eq!(
        deliver(&gw, &id, &new_token, "star", "d-11").await.status,
        404
    );
    let again = call(
        admin,
        "DELETE",
        &format!("/v1/webhooks/{id}"),
        WRITER,
        &Value::Null,
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(
        error_of(&again),
        "Webhook not found. Unable to delete unknown resource"
    );
    let gone = call(
        admin,
        "GET",
        &format!("/v1/webhooks/{id}"),
        READER,
        &Value::Null,
    )
    .await;
    assert_eq!(
        (gone.status, error_of(&gone)),
        (404, "Webhook not found.".to_owned())
    );
    let left = call(admin, "GET", "/v1/webhooks", READER, &Value::Null)
        .await
        .json();
    assert_eq!(left["count"], 2);
    assert_eq!(left["elements"][1]["id"], stripe_id.as_str());
    assert!(gw.logs().contains("webhook.delete"));
}

#[tokio::test]
async fn every_refused_change_says_why() {
    let broker = Broker::start();
    let store = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_env(&config(&broker.bootstrap, &local_store(store.path())), ENV);
    let admin = gw.admin_addr.expect("admin listener");
    let create = |webhook: Value| async move {
        call(
            admin,
            "POST",
            "/v1/webhooks",
            WRITER,
            &json!({ "webhook": webhook }),
        )
        .await
    };

    let cases: Vec<(Value, &str)> = vec![
        (json!({"provider": "github", "events": "push"}), "\"name\""),
        (
            json!({"name": " ", "provider": "github", "events": "push"}),
            "\"name\"",
        ),
        (json!({"name": "x", "events": "push"}), "\"provider\""),
        (
            json!({"name": "x", "provider": "git/hub", "events": "push"}),
            "\"provider\"",
        ),
        (json!({"name": "x", "provider": "github"}), "\"events\""),
        (
            json!({"name": "x", "provider": "github", "events": []}),
            "\"events\"",
        ),
        (
            json!({"name": "x", "provider": "github", "events": [1]}),
            "\"events\"",
        ),
        (
            json!({"name": "x", "provider": "stripe", "events": "*"}),
            "issues its own signing secret",
        ),
        (
            json!({"name": "x", "provider": "github", "events": "*", "secret": ""}),
            "\"secret\"",
        ),
        (
            json!({"name": "x", "provider": "github", "events": "*", "colour": "red"}),
            "unknown field `colour`",
        ),
        (
            json!({"name": "x", "provider": "github", "events": "*", "allowed_events": ["push"]}),
            "`allowed_events` is not an option",
        ),
        (
            json!({"name": "x", "provider": "acme", "events": "*"}),
            "`auth` must be set",
        ),
        (
            json!({"name": "x", "provider": "acme", "events": "*", "auth": {"type": "none"},
                "event_type": {"pointer": "/type"}}),
            "not allowed for sources created through the API",
        ),
        (
            json!({"name": "x", "provider": "github", "events": "*", "topic": "bad topic {x}"}),
            "`topic`",
        ),
    ];
    for (webhook, expected) in cases {
        let answer = create(webhook.clone()).await;
        assert_eq!(answer.status, 400, "{webhook}: {answer:?}");
        assert!(
            error_of(&answer).contains(expected),
            "{webhook}: {answer:?}"
        );
    }

    let unknown = create(json!({"name": "x", "provider": "github",
        "events": ["push", "nonsense", "also.nonsense"]}))
    .await;
    assert_eq!(unknown.status, 400);
    assert!(error_of(&unknown).starts_with("Some events are not available"));
    assert_eq!(
        unknown.json()["unknown_events"],
        json!(["also.nonsense", "nonsense"])
    );

    // A provider without a catalog takes any event names; its own scheme needs `auth`.
    let custom = create(
        json!({"name": "Billing", "provider": "acme-billing", "events": "invoice.paid",
        "auth": {"type": "api_key", "header": "X-Api-Key"}, "event_type": {"pointer": "/type"}}),
    )
    .await;
    assert_eq!(custom.status, 201, "{custom:?}");
    let custom_id = custom.json()["id"].as_str().expect("id").to_owned();

    for (body, expected) in [
        ("{", "not valid JSON"),
        ("[]", "{\"webhook\""),
        ("{\"webhook\": 1}", "{\"webhook\""),
        ("", "{\"webhook\""),
        (" \n", "not valid JSON"),
    ] {
        let auth = format!("Bearer {WRITER}");
        let answer = send(
            admin,
            "POST",
            "/v1/webhooks",
            &[("authorization", auth.as_str())],
            body,
        )
        .await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert!(error_of(&answer).contains(expected), "{body}: {answer:?}");
    }
    // Whitespace alone is not JSON, where a body is optional too (rotate takes options).
    let auth = format!("Bearer {WRITER}");
    let blank = send(
        admin,
        "POST",
        &format!("/v1/webhooks/{custom_id}/rotate"),
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        " ",
    )
    .await;
    assert_eq!(blank.status, 400, "{blank:?}");
    assert!(error_of(&blank).contains("not valid JSON"), "{blank:?}");
    let form = send(
        admin,
        "POST",
        "/v1/webhooks",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        "name=x",
    )
    .await;
    assert_eq!(form.status, 415, "{form:?}");
    let huge = format!("{{\"webhook\": {{\"name\": \"{}\"}}}}", "x".repeat(70_000));
    let too_large = send(
        admin,
        "POST",
        "/v1/webhooks",
        &[("authorization", auth.as_str())],
        huge,
    )
    .await;
    assert_eq!(too_large.status, 413, "{too_large:?}");

    let reader = call(admin, "POST", "/v1/webhooks", READER, &json!({})).await;
    assert_eq!(reader.status, 403);
    let nobody = send(admin, "POST", "/v1/webhooks", &[], "{}").await;
    assert_eq!(nobody.status, 401);

    let patch =
        |path: String, body: Value| async move { call(admin, "PATCH", &path, WRITER, &body).await };
    let unknown_id = patch(
        "/v1/webhooks/wh_nope".into(),
        json!({"webhook": {"name": "y"}}),
    )
    .await;
    assert_eq!(
        (unknown_id.status, error_of(&unknown_id)),
        (404, "Webhook not found.".to_owned())
    );
    let read_only = patch(
        "/v1/webhooks/from-file".into(),
        json!({"webhook": {"name": "y"}}),
    )
    .await;
    assert_eq!(read_only.status, 409, "{read_only:?}");
    let path = format!("/v1/webhooks/{custom_id}");
    for (webhook, expected) in [
        (json!({"provider": "github"}), "\"provider\" cannot change"),
        (json!({"secret": "s"}), "rotate"),
        (json!({"events": []}), "\"events\""),
        (json!({"max_body_bytes": 0}), "`max_body_bytes`"),
    ] {
        let answer = patch(path.clone(), json!({ "webhook": webhook })).await;
        assert_eq!(answer.status, 400, "{webhook}: {answer:?}");
        assert!(
            error_of(&answer).contains(expected),
            "{webhook}: {answer:?}"
        );
    }
    let rotate =
        |path: String, body: Value| async move { call(admin, "POST", &path, WRITER, &body).await };
    let rotate_path = format!("/v1/webhooks/{custom_id}/rotate");
    for (body, expected) in [
        (json!({"grace_seconds": -1}), "\"grace_seconds\""),
        (json!({"grace_seconds": 604_801}), "\"grace_seconds\""),
        (json!({"grace": 5}), "unknown field `grace`"),
        (json!([1]), "the body must be empty"),
    ] {
        let answer = rotate(rotate_path.clone(), body.clone()).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert!(error_of(&answer).contains(expected), "{body}: {answer:?}");
    }
    let rotated = rotate(rotate_path, Value::Null).await;
    assert_eq!(
        rotated.status, 200,
        "an empty body rotates with the default grace: {rotated:?}"
    );
    let stripe = call(
        admin,
        "POST",
        "/v1/webhooks",
        WRITER,
        &json!({"webhook": {"name": "s", "provider": "stripe", "events": "*", "secret": "whsec_x"}}),
    )
    .await;
    let stripe_rotate = format!(
        "/v1/webhooks/{}/rotate",
        stripe.json()["id"].as_str().expect("id")
    );
    let no_secret = rotate(stripe_rotate, Value::Null).await;
    assert_eq!(no_secret.status, 400);
    assert!(error_of(&no_secret).contains("issued by the provider"));
    assert_eq!(
        rotate("/v1/webhooks/from-file/rotate".into(), Value::Null)
            .await
            .status,
        409
    );

    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    for line in [
        r#"hookgate_admin_changes_total{action="create",result="ok"} 2"#,
        r#"hookgate_admin_changes_total{action="rotate",result="ok"} 1"#,
        r#"hookgate_admin_changes_total{action="update",result="refused"} 6"#,
    ] {
        assert!(metrics.contains(line), "{line} not in:\n{metrics}");
    }
}

#[test]
fn offline_commands_see_api_sources_and_a_wrong_store_key_stops_start_up() {
    let store = tempfile::tempdir().expect("tempdir");
    let text = config("embedded", &local_store(store.path()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let id = {
        let gw = Gateway::in_process_env(&text, ENV);
        let admin = gw.admin_addr.expect("admin listener");
        let created = rt.block_on(call(
            admin,
            "POST",
            "/v1/webhooks",
            WRITER,
            &json!({"webhook": {"name": "x", "provider": "github", "events": "*"}}),
        ));
        assert_eq!(created.status, 201, "{created:?}");
        created.json()["id"].as_str().expect("id").to_owned()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("gateway.toml");
    std::fs::write(
        &path,
        text.replace(
            "{schemas}",
            &crate::common::repo_path("tests/schemas-min")
                .display()
                .to_string(),
        ),
    )
    .expect("write");

    // The offline commands know API-created sources too (here `validate`; `replay` shares it).
    let payload = dir.path().join("star.json");
    std::fs::write(&payload, r#"{"action": "created"}"#).expect("write");
    let validated = std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(&path)
        .args(["validate", "--source", &id, "--event-type", "star"])
        .arg(&payload)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TEST_STORE_KEY", STORE_KEY)
        .output()
        .expect("run");
    assert!(
        validated.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validated.stdout),
        String::from_utf8_lossy(&validated.stderr)
    );

    let other_key = "ff".repeat(32);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(&path)
        .args(["run", "--listen", "127.0.0.1:0"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TEST_STORE_KEY", &other_key)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not open with this encryption key"),
        "{stderr}"
    );
    assert!(!stderr.contains(&other_key) && !stderr.contains(STORE_KEY));
}

#[tokio::test]
async fn two_gateways_sharing_the_kafka_store_see_each_others_changes() {
    let broker = Broker::start();
    let shared = "kind = \"kafka\", topic = \"hookgate.admin.test\"";
    let text = config(&broker.bootstrap, shared);
    let one = Gateway::start_env(&text, ENV);
    let two = Gateway::start_env(&text, ENV);
    let (admin_one, admin_two) = (
        one.admin_addr.expect("admin listener"),
        two.admin_addr.expect("admin listener"),
    );

    let created = call(
        admin_one,
        "POST",
        "/v1/webhooks",
        WRITER,
        &json!({"webhook": {"name": "fleet", "provider": "github", "events": "*"}}),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let token = created.json()["token"].as_str().expect("token").to_owned();

    // The other replica learns of it from the topic and takes deliveries for it.
    let seen_by = |admin: SocketAddr, id: String, present: bool| async move {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let answer = call(
                admin,
                "GET",
                &format!("/v1/webhooks/{id}"),
                READER,
                &Value::Null,
            )
            .await;
            if (answer.status == 200) == present {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "replica never saw the change: {answer:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    seen_by(admin_two, id.clone(), true).await;
    assert_eq!(
        deliver(&two, &id, &token, "star", "fleet-1").await.status,
        202
    );

    // A change made on the second is seen by the first.
    let rotated = rotate_token(admin_two, &id, 0).await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    let new_token = rotated.json()["token"].as_str().expect("token").to_owned();
    let deadline = Instant::now() + Duration::from_secs(15);
    while deliver(&one, &id, &new_token, "star", "fleet-2")
        .await
        .status
        != 202
    {
        assert!(
            Instant::now() < deadline,
            "first replica never took the new token"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        deliver(&one, &id, &token, "star", "fleet-3").await.status,
        401
    );

    // A third replica started later reads the whole history; a deletion reaches everyone.
    let three = Gateway::start_env(&text, ENV);
    let admin_three = three.admin_addr.expect("admin listener");
    let listed = call(admin_three, "GET", "/v1/webhooks", READER, &Value::Null)
        .await
        .json();
    assert_eq!(listed["count"], 2, "{listed}");
    let deleted = call(
        admin_three,
        "DELETE",
        &format!("/v1/webhooks/{id}"),
        WRITER,
        &Value::Null,
    )
    .await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    seen_by(admin_one, id.clone(), false).await;
    seen_by(admin_two, id.clone(), false).await;
    assert_eq!(
        deliver(&one, &id, &new_token, "star", "fleet-4")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_change_the_store_cannot_save_is_refused_and_not_put_in_force() {
    let store = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::in_process_env(&config("embedded", &local_store(store.path())), ENV);
    let admin = gw.admin_addr.expect("admin listener");
    // The atomic replace writes this file first; a directory in its place makes it fail.
    let blocker = store.path().join("webhooks.json.tmp");
    std::fs::create_dir(&blocker).expect("mkdir");
    let webhook = json!({"webhook": {"name": "x", "provider": "github", "events": "*"}});
    let refused = call(admin, "POST", "/v1/webhooks", WRITER, &webhook).await;
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.headers["retry-after"], "5");
    assert!(
        error_of(&refused).starts_with("the change was not saved"),
        "{refused:?}"
    );
    let listed = call(admin, "GET", "/v1/webhooks", READER, &Value::Null)
        .await
        .json();
    assert_eq!(listed["count"], 1, "only the config source: {listed}");

    std::fs::remove_dir(&blocker).expect("rmdir");
    let created = call(admin, "POST", "/v1/webhooks", WRITER, &webhook).await;
    assert_eq!(created.status, 201, "{created:?}");
    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
    assert!(metrics.contains(r#"hookgate_admin_changes_total{action="create",result="error"} 1"#));
}

/// Like [`call`], with an `If-Match` header.
async fn call_if(
    admin: SocketAddr,
    method: &str,
    path: &str,
    if_match: &str,
    body: &Value,
) -> Answer {
    let auth = format!("Bearer {WRITER}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    send(
        admin,
        method,
        path,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("if-match", if_match),
        ],
        body,
    )
    .await
}

fn etag_of(answer: &Answer) -> String {
    answer.headers["etag"]
        .to_str()
        .expect("ETag is ASCII")
        .to_owned()
}

#[tokio::test]
async fn admin_changes_with_if_match_apply_only_to_the_version_read() {
    let broker = Broker::start();
    let store = tempfile::tempdir().expect("tempdir");
    let text = config(&broker.bootstrap, &local_store(store.path()));
    let gw = Gateway::start_env(&text, ENV);
    let admin = gw.admin_addr.expect("admin listener");

    let created = call(
        admin,
        "POST",
        "/v1/webhooks",
        WRITER,
        &json!({"webhook": {"name": "Tagged", "provider": "github", "events": ["push"]}}),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(etag_of(&created), "\"1\"");
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/webhooks/{id}");
    let rotate = format!("{path}/rotate");

    // GET gives the ETag; config-file sources have none (they have no revision).
    let read = call(admin, "GET", &path, READER, &Value::Null).await;
    assert_eq!(read.status, 200, "{read:?}");
    let v1 = etag_of(&read);
    assert_eq!(v1, "\"1\"");
    let file = call(admin, "GET", "/v1/webhooks/from-file", READER, &Value::Null).await;
    assert_eq!(file.status, 200, "{file:?}");
    assert!(file.headers.get("etag").is_none(), "{file:?}");

    // PATCH with the current ETag goes through and answers with the new one.
    let patched = call_if(
        admin,
        "PATCH",
        &path,
        &v1,
        &json!({"webhook": {"name": "Tagged twice"}}),
    )
    .await;
    assert_eq!(patched.status, 200, "{patched:?}");
    let v2 = etag_of(&patched);
    assert_eq!(v2, "\"2\"");
    assert_eq!(patched.json()["name"], "Tagged twice");

    // With the stale one, PATCH, rotate and DELETE are refused, naming the current revision,
    // and change nothing.
    let stale = call_if(
        admin,
        "PATCH",
        &path,
        &v1,
        &json!({"webhook": {"name": "lost update"}}),
    )
    .await;
    assert_eq!(stale.status, 412, "{stale:?}");
    assert_eq!(
        error_of(&stale),
        "the webhook changed since you read it (now revision 2): GET it again"
    );
    let stale = call_if(admin, "POST", &rotate, &v1, &json!({"grace_seconds": 0})).await;
    assert_eq!(stale.status, 412, "{stale:?}");
    let stale = call_if(admin, "DELETE", &path, &v1, &Value::Null).await;
    assert_eq!(stale.status, 412, "{stale:?}");
    // An unusable body is 400 whatever If-Match says.
    let unusable = call_if(
        admin,
        "PATCH",
        &path,
        &v1,
        &json!({"webhook": {"provider": "stripe"}}),
    )
    .await;
    assert_eq!(unusable.status, 400, "{unusable:?}");
    // Malformed or weak values cannot match either.
    for bad in ["2", "W/\"2\"", "\"2", "", "\"2\" junk"] {
        let refused = call_if(admin, "DELETE", &path, bad, &Value::Null).await;
        assert_eq!(refused.status, 412, "If-Match: {bad}: {refused:?}");
    }
    let now = call(admin, "GET", &path, READER, &Value::Null).await;
    assert_eq!(now.status, 200, "{now:?}");
    assert_eq!(etag_of(&now), v2);
    assert_eq!(now.json()["name"], "Tagged twice");
    assert_eq!(now.json()["previous_token_expires_at"], Value::Null);

    // A list naming the current tag matches; rotate answers with the next ETag.
    let rotated = call_if(
        admin,
        "POST",
        &rotate,
        &format!("\"7\", {v2}"),
        &json!({"grace_seconds": 60}),
    )
    .await;
    assert_eq!(rotated.status, 200, "{rotated:?}");
    assert_eq!(etag_of(&rotated), "\"3\"");

    // `*` matches any version of an existing webhook; a missing one stays 404.
    let any = call_if(
        admin,
        "PATCH",
        &path,
        "*",
        &json!({"webhook": {"description": "any version"}}),
    )
    .await;
    assert_eq!(any.status, 200, "{any:?}");
    assert_eq!(etag_of(&any), "\"4\"");
    // Without If-Match: last write wins, as before.
    let blind = call(
        admin,
        "PATCH",
        &path,
        WRITER,
        &json!({"webhook": {"description": "blind"}}),
    )
    .await;
    assert_eq!(blind.status, 200, "{blind:?}");
    assert_eq!(etag_of(&blind), "\"5\"");
    let deleted = call_if(admin, "DELETE", &path, "*", &Value::Null).await;
    assert_eq!(deleted.status, 200, "{deleted:?}");
    let gone = call_if(admin, "DELETE", &path, "*", &Value::Null).await;
    assert_eq!(gone.status, 404, "{gone:?}");
}

/// A GitHub `star` delivery of about `bytes` bytes, signed with `token`.
async fn deliver_sized(
    gw: &Gateway,
    id: &str,
    token: &str,
    delivery: &str,
    bytes: usize,
) -> Answer {
    let body = format!(
        r#"{{"zen":"{}","hook_id":1}}"#,
        "z".repeat(bytes.saturating_sub(24))
    );
    let sig = github_signature(token, &body);
    post(
        gw.addr,
        &format!("/webhooks/{id}"),
        &[
            ("content-type", "application/json"),
            ("x-github-event", "star"),
            ("x-github-delivery", delivery),
            ("x-hub-signature-256", sig.as_str()),
        ],
        &body,
    )
    .await
}

#[tokio::test]
async fn a_sighup_rebuilds_api_sources_with_the_new_server_and_kafka_defaults() {
    let broker = Broker::start();
    let store = tempfile::tempdir().expect("tempdir");
    let text = config(&broker.bootstrap, &local_store(store.path()));
    let gw = Gateway::start_env(&text, ENV);
    let admin = gw.admin_addr.expect("admin listener");
    let webhook = json!({"webhook": {"name": "x", "provider": "github", "events": ["star"]}});
    let created = call(admin, "POST", "/v1/webhooks", WRITER, &webhook).await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let token = created.json()["token"].as_str().expect("token").to_owned();
    let before = deliver_sized(&gw, &id, &token, "big-before", 4096).await;
    assert_eq!(before.status, 202, "{before:?}");

    // The same file with a smaller body limit and another topic template.
    let changed = format!(
        "[server]\nmax_body_bytes = 1024\n{}",
        text.replace(
            "delivery_timeout_ms = 10000",
            "delivery_timeout_ms = 10000\ntopic_template = \"reloaded.{provider}.{event_type}\""
        )
    );
    let schemas = crate::common::repo_path("tests/schemas-min");
    let changed = changed.replace("{schemas}", &schemas.display().to_string());
    std::fs::write(gw.dir.path().join("gateway.toml"), changed).expect("write config");
    let pid = gw.child.as_ref().expect("child").id();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .expect("SIGHUP");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
        if metrics.contains(r#"hookgate_config_reloads_total{result="ok"} 1"#) {
            break;
        }
        assert!(Instant::now() < deadline, "no reload: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The API-created source follows the file's new defaults, as the file's sources do.
    let big = deliver_sized(&gw, &id, &token, "big-after", 4096).await;
    assert_eq!(
        (big.status, error_of(&big).contains("1024")),
        (413, true),
        "{big:?}"
    );
    let small = deliver_sized(&gw, &id, &token, "small-after", 200).await;
    assert_eq!(small.status, 202, "{small:?}");
    let records = read_topic(
        &broker.bootstrap,
        "reloaded.github.star",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records[0].value["source"], id.as_str());
    assert_eq!(records[0].value["delivery_id"], "small-after");
    assert!(
        gw.logs().contains("api_sources_rebuilt=true"),
        "the reload line says the API sources were rebuilt: {}",
        gw.logs()
    );
}
