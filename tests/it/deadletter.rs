//! Dead letters on a real broker: authentic deliveries that cannot become events (schema
//! violation, not JSON, no event type) are answered 2xx and land on the dead-letter topic with
//! the reason and the raw body, and nowhere else; unauthenticated ones never do; a source with
//! `on_invalid = "reject"` answers 422 with the violations instead.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, send, Broker, Gateway};
use bytes::Bytes;
use hmac::Mac;

const SECRET: &str = "dead-letter-secret";
const READ: Duration = Duration::from_secs(30);
/// Breaks schemas/github/push.json: `ref` must be a string.
const BAD_PUSH: &str = r#"{"ref": 12345, "before": "x"}"#;

fn config(bootstrap: &str) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"

[schemas]
dir = "{{schemas}}"

[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]

[sources.strict]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
on_invalid = "reject"

[sources.own]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
dead_letter_topic = "own.dead-letters"
"#
    )
}

fn headers<'a>(event: &'a str, delivery: &'a str, sig: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("content-type", "application/json"),
        ("x-github-event", event),
        ("x-github-delivery", delivery),
        ("x-hub-signature-256", sig),
    ]
}

fn sign_bytes(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn authentic_but_invalid_deliveries_are_dead_lettered_not_lost() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));
    let addr = gw.addr;

    // A schema violation: 202, marked, and its id is the dead letter's.
    let sig = github_signature(SECRET, BAD_PUSH);
    let bad = post(
        addr,
        "/webhooks/gh",
        &headers("push", "bad-push", &sig),
        BAD_PUSH,
    )
    .await;
    assert_eq!(bad.status, 202, "{bad:?}");
    assert_eq!(bad.headers["hookgate-dead-letter"], "schema_violation");
    let bad_id = bad.json()["id"].as_str().expect("id").to_owned();

    // Its redelivery is a duplicate, not a second dead letter.
    let again = post(
        addr,
        "/webhooks/gh",
        &headers("push", "bad-push", &sig),
        BAD_PUSH,
    )
    .await;
    assert_eq!(
        (again.status, again.json()["id"].as_str()),
        (200, Some(bad_id.as_str()))
    );

    // Bytes that are not JSON (nor UTF-8): kept, base64.
    let binary: &[u8] = &[0xff, 0xfe, b'{', 0x00];
    let binary_sig = sign_bytes(binary);
    let garbled = send(
        addr,
        "POST",
        "/webhooks/gh",
        &headers("star", "garbled", &binary_sig),
        Bytes::from_static(binary),
    )
    .await;
    assert_eq!(garbled.status, 202, "{garbled:?}");
    assert_eq!(garbled.headers["hookgate-dead-letter"], "invalid_json");

    // Unauthenticated garbage is refused and never dead-lettered.
    let forged = post(
        addr,
        "/webhooks/gh",
        &headers("push", "forged", "sha256=00"),
        BAD_PUSH,
    )
    .await;
    assert_eq!(forged.status, 401);

    // A valid event still goes to its own topic, and only there.
    let push = std::fs::read_to_string(crate::common::repo_path("examples/github-push.json"))
        .expect("example");
    let push_sig = github_signature(SECRET, &push);
    let ok = post(
        addr,
        "/webhooks/gh",
        &headers("push", "good-push", &push_sig),
        &push,
    )
    .await;
    assert_eq!(ok.status, 202, "{ok:?}");

    let dead = read_topic(&broker.bootstrap, "webhooks.dead-letter", READ, |r| {
        r.len() >= 2
    });
    assert_eq!(
        dead.len(),
        2,
        "exactly the two authentic invalid deliveries"
    );
    // Keyed by delivery id; partitions do not keep an order between the two.
    let by_key = |key: &str| {
        dead.iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("no dead letter keyed {key}"))
    };
    let schema = &by_key("bad-push").value;
    assert_eq!(schema["id"], bad_id.as_str());
    assert_eq!(schema["reason"], "schema_violation");
    assert_eq!(schema["source"], "gh");
    assert_eq!(schema["event_type"], "push");
    assert_eq!(schema["delivery_id"], "bad-push");
    assert_eq!(schema["schema"], "github/push.json");
    assert_eq!(schema["headers"]["x-github-event"], "push");
    assert_eq!(schema["body_encoding"], "utf8");
    assert_eq!(schema["body"], BAD_PUSH);
    let ref_error = schema["errors"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["instance_path"] == "/ref"))
        .expect("a violation at /ref");
    assert!(
        ref_error["schema_path"]
            .as_str()
            .is_some_and(|p| p.ends_with("/type")),
        "{ref_error}"
    );
    assert!(
        schema["headers"].get("x-hub-signature-256").is_none()
            && !schema.to_string().contains(&sig["sha256=".len()..]),
        "signature headers are not kept"
    );
    assert_eq!(
        by_key("bad-push").headers["ce_type"],
        "hookgate.dead-letter"
    );
    let garbled_record = &by_key("garbled").value;
    assert_eq!(garbled_record["reason"], "invalid_json");
    assert_eq!(garbled_record["body_encoding"], "base64");
    assert_eq!(garbled_record["body"], "//57AA==");

    let pushes = read_topic(&broker.bootstrap, "webhooks.github.push", READ, |r| {
        !r.is_empty()
    });
    let keys: Vec<_> = pushes
        .iter()
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        keys,
        ["good-push"],
        "the push topic holds only the valid event"
    );

    // A source that rejects instead: 422 with the violations listed, nothing dead-lettered.
    let strict = post(
        addr,
        "/webhooks/strict",
        &headers("push", "s-1", &sig),
        BAD_PUSH,
    )
    .await;
    assert_eq!(
        (strict.status, strict.code().as_str()),
        (422, "schema_violation")
    );
    let errors = &strict.json()["errors"];
    assert!(
        errors
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["instance_path"] == "/ref")),
        "{errors}"
    );

    // A source with its own dead-letter topic; no event type at all is kept too.
    let no_type = post(
        addr,
        "/webhooks/own",
        &[
            ("content-type", "application/json"),
            ("x-hub-signature-256", &sig),
        ],
        BAD_PUSH,
    )
    .await;
    assert_eq!(no_type.status, 202, "{no_type:?}");
    assert_eq!(
        no_type.headers["hookgate-dead-letter"],
        "missing_event_type"
    );
    let own = read_topic(&broker.bootstrap, "own.dead-letters", READ, |r| {
        !r.is_empty()
    });
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].value["reason"], "missing_event_type");
    assert_eq!(own[0].value["event_type"], serde_json::Value::Null);

    let dead = read_topic(&broker.bootstrap, "webhooks.dead-letter", READ, |r| {
        r.len() >= 2
    });
    assert_eq!(dead.len(), 2, "the strict source added nothing");

    let metrics = send(addr, "GET", "/metrics", &[], "").await.body;
    for line in [
        r#"hookgate_dead_letters_total{reason="schema_violation",source="gh"} 1"#,
        r#"hookgate_dead_letters_total{reason="invalid_json",source="gh"} 1"#,
        r#"hookgate_dead_letters_total{reason="missing_event_type",source="own"} 1"#,
        r#"hookgate_webhooks_total{outcome="dead_letter",source="gh"} 2"#,
        r#"hookgate_webhooks_total{outcome="schema_violation",source="strict"} 1"#,
    ] {
        assert!(metrics.contains(line), "missing {line}:\n{metrics}");
    }
}

fn hookgate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run hookgate")
}

#[tokio::test]
async fn replay_republishes_what_the_fixed_schema_now_accepts_once() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));
    let sig = github_signature(SECRET, BAD_PUSH);
    let bad = post(
        gw.addr,
        "/webhooks/gh",
        &headers("push", "replay-me", &sig),
        BAD_PUSH,
    )
    .await;
    assert_eq!(bad.headers["hookgate-dead-letter"], "schema_violation");
    let dead_id = bad.json()["id"].as_str().expect("id").to_owned();
    let not_json = "{nope";
    let not_json_sig = github_signature(SECRET, not_json);
    let broken = post(
        gw.addr,
        "/webhooks/gh",
        &headers("star", "never-json", &not_json_sig),
        not_json,
    )
    .await;
    assert_eq!(broken.headers["hookgate-dead-letter"], "invalid_json");
    read_topic(&broker.bootstrap, "webhooks.dead-letter", READ, |r| {
        r.len() >= 2
    });
    drop(gw);

    // The schema is fixed: `ref` may now be a number too.
    let dir = tempfile::tempdir().expect("tempdir");
    let schemas = dir.path().join("schemas/github");
    std::fs::create_dir_all(&schemas).expect("mkdir");
    std::fs::write(
        schemas.join("push.json"),
        r#"{"type":"object","required":["ref"],"properties":{"ref":{"type":["string","integer"]}}}"#,
    )
    .expect("schema");
    let fixed = dir.path().join("fixed.toml");
    std::fs::write(
        &fixed,
        config(&broker.bootstrap).replace(
            "{schemas}",
            &dir.path().join("schemas").display().to_string(),
        ),
    )
    .expect("config");
    let fixed = fixed.to_str().expect("path");

    let dry = hookgate(&["--config", fixed, "replay", "--dry-run"]);
    let report = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        report.contains("1  would be republished to webhooks.github.push"),
        "{report}"
    );

    let run = hookgate(&["--config", fixed, "replay", "--source", "gh"]);
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        report.contains("1  republished to webhooks.github.push"),
        "{report}"
    );
    assert!(
        report.contains("1  still refused: invalid_json"),
        "{report}"
    );

    let pushes = read_topic(&broker.bootstrap, "webhooks.github.push", READ, |r| {
        !r.is_empty()
    });
    assert_eq!(pushes.len(), 1, "exactly the now-valid dead letter");
    let event = &pushes[0].value;
    assert_eq!(
        event["id"],
        dead_id.as_str(),
        "replayed under its original id"
    );
    assert_eq!(event["delivery_id"], "replay-me");
    assert_eq!(event["data"]["ref"], 12345);
    assert_eq!(
        event["meta"]["verified"]["method"],
        "hmac-sha256:x-hub-signature-256"
    );
    assert_eq!(event["meta"]["schema"], "github/push.json");

    // Filters that match nothing publish nothing; an unknown source is an error.
    let none = hookgate(&["--config", fixed, "replay", "--event-type", "release"]);
    let report = String::from_utf8_lossy(&none.stdout);
    assert!(report.contains("2  skipped by the filters"), "{report}");
    let unknown = hookgate(&["--config", fixed, "replay", "--source", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no source `nope`"));
}

#[test]
fn validate_prints_what_the_gateway_would_decide() {
    let ok = hookgate(&[
        "validate",
        "--source",
        "github",
        "--event-type",
        "push",
        "examples/github-push.json",
    ]);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        out.contains("valid:") && out.contains("github/push.json"),
        "{out}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, BAD_PUSH).expect("write");
    let refused = hookgate(&[
        "validate",
        "--source",
        "github",
        "--event-type",
        "push",
        bad.to_str().expect("path"),
    ]);
    let out = String::from_utf8_lossy(&refused.stdout);
    assert!(!refused.status.success());
    assert!(
        out.contains("invalid:") && out.contains("at /ref:"),
        "{out}"
    );

    let no_type = hookgate(&[
        "validate",
        "--source",
        "github",
        "examples/github-push.json",
    ]);
    let err = String::from_utf8_lossy(&no_type.stderr);
    assert!(!no_type.status.success());
    assert!(
        err.contains("--event-type") && err.contains("x-github-event"),
        "{err}"
    );
}
