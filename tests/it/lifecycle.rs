//! The binary as an operator meets it: the default config on the embedded broker, the `sign`
//! and `check-config` commands, operational endpoints, broker outages and graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use crate::common::{
    free_port, github_signature, post, read_topic, repo_path, send, Broker, Gateway,
};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

fn hookgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run hookgate")
}

/// Runs `hookgate tail` (without --follow) on `topics`; its JSON lines, once it has exited 0.
fn tail(bootstrap: &str, topics: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["tail", "--brokers", bootstrap];
    for topic in topics {
        args.extend(["--topic", topic]);
    }
    let out = hookgate(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// Runs `hookgate sign` and turns the printed curl command back into headers.
fn signed_headers(source: &str, file: &str, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec![
        "--config",
        "config/default.toml",
        "sign",
        "--source",
        source,
        "--file",
        file,
    ];
    args.extend_from_slice(extra);
    let out = hookgate(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("curl -sS -X POST "), "{text}");
    assert!(text.contains(&format!("--data-binary @'{file}'")), "{text}");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("-H '"))
        .filter_map(|l| l.trim_end_matches(" \\").strip_suffix('\''))
        .filter_map(|h| h.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test]
async fn default_config_runs_on_the_embedded_broker_with_signed_examples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start_with(&repo_path("config/default.toml"), dir, &[]);
    let bootstrap = gw
        .embedded_bootstrap
        .clone()
        .expect("embedded bootstrap printed");

    for (source, file, extra, topic) in [
        (
            "github",
            "examples/github-push.json",
            vec!["--event-type", "push"],
            "webhooks.github.push",
        ),
        (
            "payments",
            "examples/payment-succeeded.json",
            vec![],
            "webhooks.payments.payment.succeeded",
        ),
        (
            "identity",
            "examples/cidaas-user-created.json",
            vec![],
            "identity.USER_CREATED",
        ),
    ] {
        let headers = signed_headers(source, file, &extra);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = std::fs::read_to_string(repo_path(file)).expect("example");
        let answer = post(gw.addr, &format!("/webhooks/{source}"), &headers, &body).await;
        assert_eq!(answer.status, 202, "{source}: {answer:?}");
        let id = answer.json()["id"].as_str().expect("id").to_owned();
        // Any Kafka client can read the embedded broker.
        let records = read_topic(&bootstrap, topic, READ_TIMEOUT, |r| !r.is_empty());
        assert_eq!(records.len(), 1, "{topic}");
        assert_eq!(records[0].value["id"], id.as_str());
        assert_eq!(records[0].value["source"], source);
    }

    let ready = send(gw.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 200, "{ready:?}");

    // `hookgate tail` shows what was published, one JSON line per record.
    let lines = tail(&bootstrap, &["identity.USER_CREATED"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["topic"], "identity.USER_CREATED");
    assert_eq!(lines[0]["headers"]["ce_type"], "USER_CREATED");
    assert_eq!(lines[0]["value"]["current_context"]["tenant_key"], "acme");

    // Several topics at once: it stops once each partition reached the end it had at start.
    let mut topics: Vec<String> = tail(
        &bootstrap,
        &[
            "webhooks.github.push",
            "webhooks.payments.payment.succeeded",
        ],
    )
    .iter()
    .map(|l| l["topic"].as_str().expect("topic").to_owned())
    .collect();
    topics.sort();
    assert_eq!(
        topics,
        [
            "webhooks.github.push",
            "webhooks.payments.payment.succeeded"
        ]
    );

    let out = hookgate(&["tail", "--brokers", &bootstrap, "--topic", "no.such.topic"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("`no.such.topic` does not exist"),
        "{stderr}"
    );
}

#[test]
fn sign_explains_what_it_needs() {
    let out = hookgate(&[
        "sign",
        "--source",
        "github",
        "--file",
        "examples/github-push.json",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pass --event-type"), "{err}");
    let out = hookgate(&[
        "sign",
        "--source",
        "nope",
        "--file",
        "examples/github-push.json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no source `nope`") && err.contains("github"),
        "{err}"
    );
}

#[test]
fn check_config_accepts_the_default_and_names_what_is_wrong() {
    let out = hookgate(&["--config", "config/default.toml", "check-config"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("ok: 3 source(s), ") && stdout.contains(" schema(s), brokers embedded"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning: [sources.github] secret #0 is written in the config"),
        "{stdout}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    let check = |text: &str| {
        std::fs::write(&bad, text).expect("write");
        let out = hookgate(&["--config", bad.to_str().expect("path"), "check-config"]);
        assert!(!out.status.success(), "{text} should be refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = check(
        "[sources.gh]\nprovider = \"github\"\nsecrets = [{ env = \"HOOKGATE_TEST_UNSET\" }]\n",
    );
    assert!(
        err.contains(
            "[sources.gh] secret #0: environment variable `HOOKGATE_TEST_UNSET` is not set"
        ),
        "{err}"
    );
    let err = check("[server]\nlisten_port = 1\n");
    assert!(err.contains("unknown field `listen_port`"), "{err}");

    // The example configs are valid.
    let check_example = |path: &str, env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
            .args(["--config", path, "check-config"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(env.iter().copied())
            .output()
            .expect("run");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{path}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    let seeds = [
        "IDENTITY_WEBHOOK_API_KEY",
        "CRYPTLEX_WEBHOOK_TOKEN",
        "ROAMINGIQ_WEBHOOK_SECRET",
        "NEXUDUS_WEBHOOK_SECRET",
        "RECURRING_PAYMENTS_WEBHOOK_TOKEN",
    ]
    .map(|k| (k, "example"));
    let stdout = check_example("config/examples/seed-providers.toml", &seeds);
    assert!(stdout.contains("ok: 6 source(s)"), "{stdout}");
    let store_key = "ab".repeat(32);
    let stdout = check_example(
        "config/examples/admin.toml",
        &[
            ("HOOKGATE_ADMIN_KEY_CI", "0123456789abcdef0123456789abcdef"),
            (
                "HOOKGATE_ADMIN_KEY_READ",
                "fedcba9876543210fedcba9876543210",
            ),
            ("HOOKGATE_STORE_KEY", &store_key),
            ("GITHUB_WEBHOOK_SECRET", "example"),
        ],
    );
    assert!(
        stdout.contains("admin API on 127.0.0.1:8081 with 2 key(s); store: local, data/admin"),
        "{stdout}"
    );

    // A broken schema stops start-up, naming the file.
    let schemas = dir.path().join("schemas/acme");
    std::fs::create_dir_all(&schemas).expect("mkdir");
    std::fs::write(schemas.join("thing.created.json"), r#"{"type": "objekt"}"#).expect("write");
    std::fs::write(
        &bad,
        format!(
            "[schemas]\ndir = \"{}\"\n",
            dir.path().join("schemas").display()
        ),
    )
    .expect("write");
    let out = hookgate(&[
        "--config",
        bad.to_str().expect("path"),
        "run",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("acme/thing.created.json") && err.contains("not a valid JSON Schema"),
        "{err}"
    );
}

fn unreachable_broker_config(create_topics: bool) -> String {
    format!(
        r#"
[kafka]
brokers = "127.0.0.1:{port}"
create_topics = {create_topics}
delivery_timeout_ms = 1500
retry_after_secs = 7

[schemas]
dir = "{{schemas}}"

[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#,
        port = free_port()
    )
}

#[tokio::test]
async fn broker_outage_answers_503_with_retry_after() {
    for (create_topics, code) in [(false, "broker_unavailable"), (true, "topic_unavailable")] {
        let gw = Gateway::start(&unreachable_broker_config(create_topics));
        let body = r#"{"zen":"x","hook_id":1}"#;
        let sig = github_signature("s", body);
        let headers = [
            ("content-type", "application/json"),
            ("x-github-event", "ping"),
            ("x-hub-signature-256", sig.as_str()),
        ];
        let answer = post(gw.addr, "/webhooks/gh", &headers, body).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (503, code),
            "{answer:?}"
        );
        assert_eq!(answer.headers["retry-after"], "7");

        let ready = send(gw.addr, "GET", "/readyz", &[], "").await;
        assert_eq!(ready.status, 503, "{ready:?}");
        let health = send(gw.addr, "GET", "/healthz", &[], "").await;
        assert_eq!(health.status, 200, "alive even when Kafka is not");
        let metrics = send(gw.addr, "GET", "/metrics", &[], "").await.body;
        assert!(
            metrics.contains("hookgate_kafka_delivery_errors_total"),
            "{metrics}"
        );
    }
}

#[tokio::test]
async fn operational_endpoints_answer() {
    let gw = Gateway::start(&unreachable_broker_config(false));
    let health = send(gw.addr, "GET", "/healthz", &[], "").await;
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("ok"))
    );
    let metrics = send(gw.addr, "GET", "/metrics", &[], "").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/plain"));
    assert!(metrics
        .body
        .contains(r#"hookgate_webhooks_total{outcome="accepted",source="gh"} 0"#));
    let missing = send(gw.addr, "GET", "/nope", &[], "").await;
    assert_eq!(
        (missing.status, missing.code().as_str()),
        (404, "not_found")
    );
    let slash = post(
        gw.addr,
        "/webhooks/gh/",
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(
        slash.code(),
        "missing_signature",
        "a trailing slash still reaches the source"
    );
    let catalogs = send(gw.addr, "GET", "/v1/event-types", &[], "").await;
    assert_eq!(catalogs.status, 200);
    assert!(catalogs.json()["providers"]["cidaas"]
        .as_array()
        .is_some_and(|a| a.len() > 80));
    let one = send(
        gw.addr,
        "GET",
        "/v1/event-types?provider=recurring-payments",
        &[],
        "",
    )
    .await;
    assert_eq!(
        one.json(),
        serde_json::json!([
            "RecurringPayments.charge.paid",
            "RecurringPayments.charge.failed"
        ])
    );
    let none = send(gw.addr, "GET", "/v1/event-types?provider=nope", &[], "").await;
    assert_eq!(
        (none.status, none.code().as_str()),
        (404, "unknown_catalog")
    );
    let wrong = send(gw.addr, "POST", "/metrics", &[], "").await;
    assert_eq!(
        (wrong.status, wrong.code().as_str()),
        (405, "method_not_allowed")
    );
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let broker = Broker::start();
    let config = format!(
        r#"
[server]
shutdown_grace_ms = 20000
[kafka]
brokers = "{}"
[schemas]
dir = "{{schemas}}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#,
        broker.bootstrap
    );
    let mut gw = Gateway::start(&config);
    let body = r#"{"action":"created","starred_at":null}"#;
    let sig = github_signature("s", body);
    let head = format!(
        "POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: star\r\nX-GitHub-Delivery: in-flight-1\r\nX-Hub-Signature-256: {sig}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    // Start a request and send only half its body: it is in flight.
    let mut stream = TcpStream::connect(gw.addr).expect("connect");
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(first.as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(300));

    gw.terminate();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        TcpStream::connect(gw.addr).is_err(),
        "no new connections after SIGTERM"
    );

    // The in-flight request completes and is published.
    stream.write_all(rest.as_bytes()).expect("write rest");
    let mut answer = String::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(
        gw.wait(Duration::from_secs(20)),
        "clean exit after draining"
    );
    let logs = gw.logs();
    assert!(
        logs.contains("SIGTERM received") && logs.contains("flushing the Kafka producer"),
        "{logs}"
    );

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.star",
        READ_TIMEOUT,
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].key.as_deref(), Some("in-flight-1"));
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_without_secrets() {
    let gw = Gateway::start_env(
        &unreachable_broker_config(false),
        &[("HOOKGATE_LOG_FORMAT", "json")],
    );
    let body = r#"{"zen":"x","hook_id":1}"#;
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-hub-signature-256", "sha256=00"),
    ];
    let answer = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(answer.status, 401);
    // The rejection is logged with its code and no payload.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !gw.logs().contains("invalid_signature") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let logs = gw.logs();
    let mut saw_rejection = false;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
        if v["code"] == "invalid_signature" {
            saw_rejection = true;
            assert_eq!(v["source"], "gh");
        }
    }
    assert!(saw_rejection, "{logs}");
    assert!(
        !logs.contains("hook_id"),
        "payload leaked into logs: {logs}"
    );
}
