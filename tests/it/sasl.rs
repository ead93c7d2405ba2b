//! A cluster that needs a property: an Apache Kafka broker whose client listener requires
//! SASL_PLAINTEXT with mechanism PLAIN. The gateway publishes to it with `[kafka.properties]`
//! (the password a secret reference), and `hookgate tail` and `hookgate replay` reach it with
//! the same config file; without the properties `tail` fails in bounded time, saying what to
//! check. The password shows in no output.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{github_signature, post, repo_path, Gateway};
use crate::kafka::Kafka;

const USER: &str = "hookgate";
const PASSWORD: &str = "sasl-pw-4c1d9e";
const PASSWORD_VAR: &str = "HOOKGATE_TEST_KAFKA_PASSWORD";
const SECRET: &str = "sasl-test-webhook-secret";
/// Breaks tests/schemas-min/github/push.json: `ref` must be a string.
const BAD_PUSH: &str = r#"{"ref": 12345, "before": "x"}"#;
/// Longest a command may take here; the failing `tail` waits 10 s for metadata.
const BOUND: Duration = Duration::from_secs(40);

fn config(bootstrap: &str, properties: bool) -> String {
    let properties = if properties {
        format!(
            r#"
[kafka.properties]
"security.protocol" = "SASL_PLAINTEXT"
"sasl.mechanism" = "PLAIN"
"sasl.username" = "{USER}"
"sasl.password" = {{ env = "{PASSWORD_VAR}" }}
"#
        )
    } else {
        String::new()
    };
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
{properties}
[schemas]
dir = "{{schemas}}"

[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
"#
    )
}

/// Runs the binary with `args` (and the password in its environment when `password`), killing
/// it if it runs past [`BOUND`]; its output and how long it took.
fn hookgate(args: &[&str], password: bool) -> (Output, Duration) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookgate"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove(PASSWORD_VAR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if password {
        command.env(PASSWORD_VAR, PASSWORD);
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("run hookgate");
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > BOUND {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "hookgate {args:?} still ran after {BOUND:?}; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    (out, started.elapsed())
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `tail --config CONFIG --topic TOPIC`: its JSON lines, once it exited 0; no output shows the
/// password.
fn tail(config: &Path, topic: &str) -> Vec<serde_json::Value> {
    let config = config.to_str().expect("path");
    let (out, _) = hookgate(&["--config", config, "tail", "--topic", topic], true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn github(event: &str, delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-github-event", event.to_owned()),
        ("x-github-delivery", delivery.to_owned()),
        ("x-hub-signature-256", github_signature(SECRET, body)),
    ]
}

async fn deliver(gw: &Gateway, event: &str, delivery: &str, body: &str) -> serde_json::Value {
    let headers = github(event, delivery, body);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    answer.json()
}

#[tokio::test]
async fn gateway_tail_and_replay_reach_a_sasl_cluster_through_kafka_properties() {
    let kafka = Kafka::start_sasl_plain(USER, PASSWORD);
    let gw = Gateway::start_env(&config(&kafka.bootstrap, true), &[(PASSWORD_VAR, PASSWORD)]);
    let gw_config = gw.dir.path().join("gateway.toml");

    // The gateway publishes (and creates the topics) over SASL: an event and a dead letter.
    let push = std::fs::read_to_string(repo_path("examples/github-push.json")).expect("example");
    let event = deliver(&gw, "push", "good-push", &push).await;
    let dead = deliver(&gw, "push", "bad-push", BAD_PUSH).await;
    let dead_id = dead["id"].as_str().expect("id").to_owned();

    // `tail` with the same config reads them back.
    let events = tail(&gw_config, "webhooks.github.push");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["key"], "good-push");
    assert_eq!(events[0]["value"]["id"], event["id"]);
    let letters = tail(&gw_config, "webhooks.dead-letter");
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0]["value"]["id"], dead_id.as_str());
    assert_eq!(letters[0]["value"]["reason"], "schema_violation");

    // The schema is fixed (`ref` may be a number): `replay` reads the dead letter and
    // publishes it, both over SASL.
    let fixed_dir = tempfile::tempdir().expect("tempdir");
    let schemas = fixed_dir.path().join("schemas");
    std::fs::create_dir_all(schemas.join("github")).expect("mkdir");
    std::fs::write(
        schemas.join("github/push.json"),
        r#"{"type":"object","required":["ref"],"properties":{"ref":{"type":["string","integer"]}}}"#,
    )
    .expect("schema");
    let fixed = fixed_dir.path().join("fixed.toml");
    std::fs::write(
        &fixed,
        config(&kafka.bootstrap, true).replace("{schemas}", &schemas.display().to_string()),
    )
    .expect("config");
    let (out, took) = hookgate(&["--config", fixed.to_str().expect("path"), "replay"], true);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("1  republished to webhooks.github.push"),
        "{report}"
    );
    assert!(!report.contains(PASSWORD));
    eprintln!("replay took {took:?}");

    let events = tail(&gw_config, "webhooks.github.push");
    let ids: Vec<&str> = events
        .iter()
        .filter_map(|e| e["value"]["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{events:?}");
    assert!(
        ids.contains(&dead_id.as_str()),
        "replayed under its id: {ids:?}"
    );

    // The password's variable unset: a config error naming the variable, at once.
    let gw_config = gw_config.to_str().expect("path");
    let (out, _) = hookgate(
        &[
            "--config",
            gw_config,
            "tail",
            "--topic",
            "webhooks.github.push",
        ],
        false,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!(
            "[kafka.properties] `sasl.password`: environment variable `{PASSWORD_VAR}` is not set"
        )),
        "{}",
        text(&out)
    );

    // Without the properties the broker refuses the client: `tail` fails within bounded
    // time, pointing at the properties, instead of waiting forever.
    let plain_dir = tempfile::tempdir().expect("tempdir");
    let plain = plain_dir.path().join("plain.toml");
    std::fs::write(&plain, config(&kafka.bootstrap, false)).expect("config");
    let (out, took) = hookgate(
        &[
            "--config",
            plain.to_str().expect("path"),
            "tail",
            "--topic",
            "webhooks.github.push",
            "--idle-timeout",
            "5",
        ],
        true,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing read");
    assert!(
        stderr.contains("error: cannot read the metadata of topic `webhooks.github.push`")
            && stderr.contains("[kafka.properties]"),
        "{stderr}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");

    drop(kafka);
    let logs = gw.logs();
    assert!(!logs.contains(PASSWORD), "the gateway logged the password");
}
