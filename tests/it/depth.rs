//! Deeply nested JSON: no body, file or record can overflow a stack. Black-box through the
//! binary: deliveries just under and over the nesting limit, 10^5-deep arrays and objects in
//! JSON bodies, form `payload=` fields and gzip bodies, the admin API's JSON and an
//! unauthenticated body that a body-signed provider reads; then the gateway still serves. In
//! process: the deepest document a source may allow runs every stage on a thread with a
//! runtime worker's stack, and the shipped fixtures nest far less than the default allows.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use hmac::Mac;
use hookgate::base::json::{DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT, WORKER_STACK_BYTES};

use crate::common::{post, read_topic, repo_path, send, Answer, Broker, Gateway};

const SECRET: &str = "depth-secret";
const STORE_KEY: &str = "8f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
const ADMIN_KEY: &str = "depth-admin-key-0123456789";
/// Deep enough to overflow any thread's stack in a recursive parser (100-200 KB of text).
const VERY_DEEP: usize = 100_000;

fn config(bootstrap: &str, store_dir: &Path) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
delivery_timeout_ms = 10000

[schemas]
dir = "{{schemas}}"

[admin]
listen = "127.0.0.1:0"
keys = [{{ name = "ci", secret = {{ insecure_dev_value = "{ADMIN_KEY}" }}, scopes = ["webhooks:read", "webhooks:write"] }}]
store = {{ path = "{store}", encryption_key = {{ env = "TEST_STORE_KEY" }} }}

# Dead-letters what it cannot take (the default).
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]

[sources.strict]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
on_invalid = "reject"

[sources.shallow]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
on_invalid = "reject"
max_json_depth = 8

[sources.adyen]
provider = "adyen"
secrets = [{{ insecure_dev_value = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056" }}]
"#,
        store = store_dir.display()
    )
}

fn sign(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `depth` arrays inside each other around `1`.
fn arrays(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// `depth` objects inside each other: `{"a":{"a":…{"a":1}…}}`.
fn objects(depth: usize) -> String {
    format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("write");
    e.finish().expect("finish")
}

/// A signed GitHub delivery of `body` (as the signed, uncompressed bytes) to `source`.
async fn deliver(gw: &Gateway, source: &str, content_type: &str, body: &[u8]) -> Answer {
    deliver_encoded(gw, source, content_type, body, None).await
}

async fn deliver_encoded(
    gw: &Gateway,
    source: &str,
    content_type: &str,
    body: &[u8],
    encoding: Option<&str>,
) -> Answer {
    let sig = sign(body);
    let delivery = uuid::Uuid::now_v7().to_string();
    let mut headers = vec![
        ("content-type", content_type),
        ("x-github-event", "star"),
        ("x-github-delivery", delivery.as_str()),
        ("x-hub-signature-256", sig.as_str()),
    ];
    let sent = match encoding {
        Some(e) => {
            headers.push(("content-encoding", e));
            gzip(body)
        }
        None => body.to_vec(),
    };
    send(
        gw.addr,
        "POST",
        &format!("/webhooks/{source}"),
        &headers,
        sent,
    )
    .await
}

fn assert_too_deep(answer: &Answer, what: &str) {
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (422, "too_deep"),
        "{what}: {answer:?}"
    );
    let message = answer.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("levels deep") && message.contains("max_json_depth"),
        "{what}: {message}"
    );
}

fn assert_alive(gw: &mut Gateway) {
    let exited = gw
        .child
        .as_mut()
        .and_then(|c| c.try_wait().expect("try_wait"));
    assert!(
        exited.is_none(),
        "the gateway exited: {exited:?}\n{}",
        gw.logs()
    );
}

#[tokio::test]
async fn deep_json_is_refused_before_parsing_and_the_gateway_keeps_serving() {
    let broker = Broker::start();
    let store = tempfile::tempdir().expect("tempdir");
    let mut gw = Gateway::start_env(
        &config(&broker.bootstrap, store.path()),
        &[("TEST_STORE_KEY", STORE_KEY)],
    );
    let json = "application/json";

    // Just under and at the limit: accepted. One over: refused, with its own code.
    for (source, limit) in [("strict", DEFAULT_MAX_DEPTH), ("shallow", 8)] {
        for body in [arrays(limit - 1), arrays(limit), objects(limit)] {
            let answer = deliver(&gw, source, json, body.as_bytes()).await;
            assert_eq!(answer.status, 202, "{source} {body}: {answer:?}");
        }
        for body in [arrays(limit + 1), objects(limit + 1)] {
            let answer = deliver(&gw, source, json, body.as_bytes()).await;
            assert_too_deep(&answer, &format!("{source} at {}", limit + 1));
        }
    }

    // 10^5 deep, every way a body can arrive: JSON, a form's JSON field (objects half as deep:
    // percent-encoded they would pass the 1 MiB body limit), gzip, and unclosed.
    let form = |inner: &str| {
        format!(
            "payload={}",
            form_urlencoded::byte_serialize(inner.as_bytes()).collect::<String>()
        )
    };
    let form_type = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, &str, Vec<u8>, Option<&str>)> = vec![
        ("arrays", json, arrays(VERY_DEEP).into_bytes(), None),
        ("objects", json, objects(VERY_DEEP).into_bytes(), None),
        ("unclosed", json, "[".repeat(VERY_DEEP).into_bytes(), None),
        (
            "form arrays",
            form_type,
            form(&arrays(VERY_DEEP)).into_bytes(),
            None,
        ),
        (
            "form objects",
            form_type,
            form(&objects(VERY_DEEP / 2)).into_bytes(),
            None,
        ),
        (
            "gzip arrays",
            json,
            arrays(VERY_DEEP).into_bytes(),
            Some("gzip"),
        ),
        (
            "gzip objects",
            json,
            objects(VERY_DEEP).into_bytes(),
            Some("gzip"),
        ),
    ];
    for (what, content_type, body, encoding) in &cases {
        let answer = deliver_encoded(&gw, "strict", content_type, body, *encoding).await;
        assert_too_deep(&answer, what);
    }
    assert_alive(&mut gw);

    // A source that dead-letters (the default) keeps the delivery, body intact, as `too_deep`.
    let deep = objects(VERY_DEEP);
    let answer = deliver(&gw, "gh", json, deep.as_bytes()).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(answer.headers["hookgate-dead-letter"], "too_deep");
    let id = answer.json()["id"].as_str().expect("id").to_owned();
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.dead-letter",
        Duration::from_secs(30),
        |r| r.iter().any(|r| r.value["id"] == id.as_str()),
    );
    let record = records
        .iter()
        .find(|r| r.value["id"] == id.as_str())
        .expect("dead letter");
    assert_eq!(record.value["reason"], "too_deep");
    assert_eq!(
        record.value["body"].as_str().map(str::len),
        Some(deep.len())
    );

    // Many at once, deep and ordinary mixed: every ordinary one is accepted.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let body = if i % 2 == 0 {
            arrays(VERY_DEEP)
        } else {
            r#"{"action":"created"}"#.to_owned()
        };
        let addr = gw.addr;
        let sig = sign(body.as_bytes());
        tasks.push(tokio::spawn(async move {
            let delivery = uuid::Uuid::now_v7().to_string();
            let headers = [
                ("content-type", "application/json"),
                ("x-github-event", "star"),
                ("x-github-delivery", delivery.as_str()),
                ("x-hub-signature-256", sig.as_str()),
            ];
            (i, post(addr, "/webhooks/strict", &headers, &body).await)
        }));
    }
    for task in tasks {
        let (i, answer) = task.await.expect("task");
        let expected = if i % 2 == 0 { 422 } else { 202 };
        assert_eq!(answer.status, expected, "{i}: {answer:?}");
    }

    // The admin API's JSON, and a body an unauthenticated sender gets a body-signed provider
    // to read before its signature is checked: refused, not a crash.
    let admin = gw.admin_addr.expect("admin listener");
    let auth = format!("Bearer {ADMIN_KEY}");
    let admin_headers = [
        ("content-type", "application/json"),
        ("authorization", auth.as_str()),
    ];
    // Under the admin API's 64 KB body limit, and far deeper than any parser's stack allows.
    for body in [objects(10_000), arrays(30_000)] {
        let answer = send(
            admin,
            "POST",
            "/v1/webhooks",
            &admin_headers,
            Bytes::from(body),
        )
        .await;
        assert_eq!(answer.status, 400, "{answer:?}");
    }
    let adyen_body = format!(
        r#"{{"live":"false","notificationItems":{}}}"#,
        arrays(VERY_DEEP)
    );
    let answer = post(
        gw.addr,
        "/webhooks/adyen",
        &[("content-type", "application/json")],
        &adyen_body,
    )
    .await;
    assert_eq!(answer.status, 401, "{answer:?}");

    // Still serving: an ordinary delivery goes through, and the refusals are counted.
    assert_alive(&mut gw);
    let answer = deliver(&gw, "strict", json, br#"{"action":"created"}"#).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    let metrics = send(gw.addr, "GET", "/metrics", &[], Bytes::new()).await;
    let refused: f64 = metrics
        .body
        .lines()
        .filter(|l| {
            l.starts_with("hookgate_webhooks_total{")
                && l.contains("outcome=\"too_deep\"")
                && l.contains("source=\"strict\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    // 2 over the limit, 7 very deep cases, 20 of the 40 at once (`shallow` counts its own).
    assert_eq!(refused, 2.0 + 7.0 + 20.0, "{}", metrics.body);
    assert!(
        metrics
            .body
            .contains("hookgate_dead_letters_total{reason=\"too_deep\",source=\"gh\"} 1"),
        "{}",
        metrics.body
    );
}

/// Files an operator hands the binary: a deep config, schema or payload is an error message,
/// never a crash.
#[test]
fn deep_files_are_errors_not_crashes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_hookgate");
    let base = format!(
        r#"
[kafka]
brokers = "127.0.0.1:9"
[schemas]
dir = "{schemas}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
"#,
        schemas = dir.path().join("schemas").display()
    );
    std::fs::create_dir_all(dir.path().join("schemas/github")).expect("mkdir");
    let config = dir.path().join("hookgate.toml");
    std::fs::write(&config, &base).expect("write");
    let run = |args: &[&str]| {
        let out = Command::new(bin)
            .arg("--config")
            .arg(&config)
            .args(args)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // Exited with a code of its own: no signal (an abort on stack overflow is SIGABRT).
        assert!(out.status.code().is_some(), "{args:?} died: {stderr}");
        (out.status.success(), stderr)
    };

    // `validate` with a payload deeper than the source allows.
    let payload = dir.path().join("deep.json");
    std::fs::write(&payload, objects(VERY_DEEP)).expect("write");
    let payload_arg = payload.to_string_lossy().into_owned();
    let (ok, stderr) = run(&[
        "validate",
        "--source",
        "gh",
        "--event-type",
        "push",
        &payload_arg,
    ]);
    assert!(!ok && stderr.contains("levels deep"), "{stderr}");

    // A schema file nested 10^5 deep stops start-up with a message naming the file.
    std::fs::write(
        dir.path().join("schemas/github/push.json"),
        objects(VERY_DEEP).replace("\"a\"", "\"not\""),
    )
    .expect("write");
    let (ok, stderr) = run(&["check-config"]);
    assert!(!ok && stderr.contains("push.json"), "{stderr}");
    std::fs::remove_file(dir.path().join("schemas/github/push.json")).expect("rm");

    // A config with a 10^5-deep inline array.
    std::fs::write(
        &config,
        format!(
            "{base}allow_ips = {}\n",
            arrays(VERY_DEEP).replace('1', "\"x\"")
        ),
    )
    .expect("write");
    let (ok, stderr) = run(&["check-config"]);
    assert!(!ok && stderr.contains("recursion"), "{stderr}");
}

/// The deepest document a config may allow goes through every stage that recurses over it
/// (parse, handshake check, identification, a recursive schema that fails at the innermost
/// level, the envelope, conversions, drop) on a thread with a runtime worker's stack.
#[test]
fn the_deepest_allowed_document_fits_a_worker_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(WORKER_STACK_BYTES)
        .spawn(run_every_stage_at_the_limit)
        .expect("spawn");
    worker
        .join()
        .expect("the stages ran within a worker's stack");
}

fn run_every_stage_at_the_limit() {
    use hookgate::ingest::intake::Inbound;
    use hookgate::ingest::pipeline::{prepare, Origin};

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("deep")).expect("mkdir");
    // Every level is checked against the same definition: leaves must be strings.
    let schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/$defs/node",
        "$defs": {"node": {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"$ref": "#/$defs/node"}},
                {"type": "object", "additionalProperties": {"$ref": "#/$defs/node"},
                 "properties": {"kind": {"type": "string"}}}
            ]
        }}
    });
    std::fs::write(dir.path().join("deep/deep.event.json"), schema.to_string()).expect("write");
    let schemas = hookgate::ingest::schema::SchemaRegistry::load(dir.path()).expect("schemas");
    let config = format!(
        r#"
[sources.deep]
provider = "deep"
auth = {{ type = "none" }}
event_type = {{ pointer = "/kind" }}
on_missing_schema = "reject"
max_json_depth = {MAX_DEPTH_LIMIT}
"#
    );
    let settings = hookgate::config::parse(&config, &|_| None).expect("config");
    let budget = hookgate::delivery::topic::TopicBudget::new(10);
    let source = settings.sources.get("deep").expect("source");

    // Objects and arrays alternating down to the limit, a number at the bottom.
    let mut body = String::from("1");
    for level in (1..=MAX_DEPTH_LIMIT).rev() {
        body = if level == 1 {
            format!(r#"{{"kind":"deep.event","x":{body}}}"#)
        } else if level % 2 == 0 {
            format!("[{body}]")
        } else {
            format!(r#"{{"x":{body}}}"#)
        };
    }
    assert!(hookgate::base::json::check_depth(body.as_bytes(), MAX_DEPTH_LIMIT).is_ok());
    assert!(hookgate::base::json::check_depth(body.as_bytes(), MAX_DEPTH_LIMIT - 1).is_err());

    let verifier = hookgate::ingest::auth::Verifier::new(
        &hookgate::ingest::auth::AuthConfig::None,
        Vec::new(),
        None,
    )
    .expect("verifier");
    let inbound = Inbound::new(hyper::HeaderMap::new(), Bytes::from(body.clone()), None);
    let verified = verifier.verify_sync(inbound, 0).expect("verified");
    let payload =
        hookgate::ingest::payload::parse(&verified, None, source.max_json_depth).expect("parsed");
    let event = source
        .event
        .identify(&hyper::HeaderMap::new(), &payload.value)
        .expect("identified");
    let serde = hookgate::base::json::to_serde(&payload.value);
    let back = hookgate::base::json::from_serde(&serde);
    assert_eq!(hookgate::base::json::to_serde(&back), serde);
    let origin = Origin {
        id: uuid::Uuid::now_v7(),
        received_at: time::OffsetDateTime::now_utc(),
        remote_addr: None,
        client_ip: None,
        verified: verified.verification(),
    };
    let err = prepare(&schemas, &budget, source, &payload, &event, origin)
        .expect_err("the leaf is a number");
    assert_eq!(err.code(), "schema_violation", "{err}");

    // The same document with a string at the bottom passes and becomes a record.
    let good = body.replacen("[1]", "[\"1\"]", 1);
    let inbound = Inbound::new(hyper::HeaderMap::new(), Bytes::from(good), None);
    let verified = verifier.verify_sync(inbound, 0).expect("verified");
    let payload =
        hookgate::ingest::payload::parse(&verified, None, source.max_json_depth).expect("parsed");
    let prepared = prepare(&schemas, &budget, source, &payload, &event, origin).expect("prepared");
    let record: serde_json::Value = serde_json::from_slice(&prepared.value).expect("record");
    assert_eq!(record["event_type"], "deep.event");

    // And as a form field.
    let form = format!(
        "payload={}",
        form_urlencoded::byte_serialize(body.as_bytes()).collect::<String>()
    );
    let mut headers = hyper::HeaderMap::new();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    let verified = verifier
        .verify_sync(Inbound::new(headers, Bytes::from(form), None), 0)
        .expect("verified");
    let payload =
        hookgate::ingest::payload::parse(&verified, Some("payload"), source.max_json_depth)
            .expect("form");
    assert!(prepare(&schemas, &budget, source, &payload, &event, origin).is_err());
}

/// The default leaves several times the nesting of every payload we ship as a fixture or
/// schema example.
#[test]
fn shipped_payloads_nest_far_less_than_the_default() {
    fn depth(value: &serde_json::Value) -> usize {
        match value {
            serde_json::Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            serde_json::Value::Object(members) => {
                1 + members.values().map(depth).max().unwrap_or(0)
            }
            _ => 0,
        }
    }
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_path("tests/fixtures"), &mut files);
    let mut deepest = (0, String::new());
    for file in &files {
        let Ok(value) =
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(file).expect("read"))
        else {
            continue;
        };
        let d = depth(&value);
        if d > deepest.0 {
            deepest = (d, file.display().to_string());
        }
    }
    println!(
        "{} fixtures; deepest: {} levels ({})",
        files.len(),
        deepest.0,
        deepest.1
    );
    assert!(files.len() > 20, "fixtures found: {}", files.len());
    assert!(
        deepest.0 * 4 <= DEFAULT_MAX_DEPTH,
        "a fixture nests {} levels: revisit json::DEFAULT_MAX_DEPTH",
        deepest.0
    );
}
