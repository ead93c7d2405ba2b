//! Secrets learned at the handshake (Asana's `X-Hook-Secret`), end to end on a real broker and
//! the Kafka-topic admin store: the first handshake is answered `200` with the secret echoed
//! only once it is saved; deliveries signed with it are published, others refused; a second
//! handshake is `409` until an operator clears the secret; a replica started later (a restart)
//! knows the secret from the store topic; the secret never reaches the log.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::common::{post, read_topic, send, Answer, Broker, Gateway};
use hmac::Mac;
use serde_json::{json, Value};

const WRITER: &str = "writer-key-0123456789";
const STORE_KEY: &str = "8f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";
const ENV: &[(&str, &str)] = &[("TEST_STORE_KEY", STORE_KEY)];
/// Asana's documented example secret, and another one.
const SECRET: &str = "b537207f20cbfa02357cf448134da559e8bd39d61597dcd5631b8012eae53e81";
const OTHER: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn config(bootstrap: &str) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
delivery_timeout_ms = 10000

[schemas]
dir = "{{schemas}}"

[admin]
listen = "127.0.0.1:0"
keys = [{{ name = "ci", secret = {{ insecure_dev_value = "{WRITER}" }}, scopes = ["webhooks:read", "webhooks:write"] }}]
store = {{ kind = "kafka", topic = "hookgate.admin.learned", encryption_key = {{ env = "TEST_STORE_KEY" }} }}

[sources.asana-by-hand]
provider = "asana"
secrets = [{{ insecure_dev_value = "{OTHER}" }}]
"#
    )
}

async fn call(admin: SocketAddr, method: &str, path: &str, body: &Value) -> Answer {
    let auth = format!("Bearer {WRITER}");
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(admin, method, path, &headers, body).await
}

async fn handshake(gw: &Gateway, id: &str, secret: &str) -> Answer {
    send(
        gw.addr,
        "POST",
        &format!("/webhooks/{id}"),
        &[("x-hook-secret", secret)],
        "",
    )
    .await
}

/// An Asana delivery of one `action` event, signed with `secret`.
async fn deliver(gw: &Gateway, id: &str, secret: &str, task: &str) -> Answer {
    let body = json!({"events": [{
        "action": "added",
        "resource": {"gid": task, "resource_type": "task"},
        "parent": {"gid": "8675309", "resource_type": "project"},
        "created_at": "2026-12-03T10:00:00.000Z",
    }]})
    .to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body.as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("x-hook-signature", sig.as_str()),
    ];
    post(gw.addr, &format!("/webhooks/{id}"), &headers, &body).await
}

fn code(answer: &Answer) -> String {
    answer.json()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn asana_secret_is_learned_once_kept_in_the_store_and_known_to_every_replica() {
    let broker = Broker::start();
    let text = config(&broker.bootstrap);
    let one = Gateway::start_env(&text, ENV);
    let admin = one.admin_addr.expect("admin listener");

    // Created without a secret: it learns it at the handshake.
    let created = call(
        admin,
        "POST",
        "/v1/webhooks",
        &json!({"webhook": {"name": "bugs", "provider": "asana", "events": "*"}}),
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.json()["has_secret"], false, "{created:?}");
    assert_eq!(created.json()["token"], "redacted");
    let id = created.json()["id"].as_str().expect("id").to_owned();

    // Before the handshake every delivery is refused.
    let early = deliver(&one, &id, SECRET, "1").await;
    assert_eq!((early.status, code(&early)), (401, "no_secret_yet".into()));

    // The handshake: 200, the secret echoed, nothing else.
    let answer = handshake(&one, &id, SECRET).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(
        answer.headers.get("x-hook-secret").map(|v| v.as_bytes()),
        Some(SECRET.as_bytes())
    );
    assert!(answer.body.is_empty(), "{answer:?}");
    let shown = call(admin, "GET", &format!("/v1/webhooks/{id}"), &Value::Null).await;
    assert_eq!(shown.json()["has_secret"], true, "{shown:?}");
    assert_eq!(shown.json()["token"], "redacted");

    // Deliveries signed with the learned secret are published; others are refused.
    let accepted = deliver(&one, &id, SECRET, "2").await;
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let forged = deliver(&one, &id, OTHER, "3").await;
    assert_eq!(
        (forged.status, code(&forged)),
        (401, "invalid_signature".into())
    );

    // Nobody can replace it: a second handshake is refused with its reason.
    let again = handshake(&one, &id, OTHER).await;
    assert_eq!((again.status, code(&again)), (409, "secret_exists".into()));
    assert!(again.headers.get("x-hook-secret").is_none());
    assert!(
        again.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("/secret")),
        "{again:?}"
    );
    assert_eq!(deliver(&one, &id, SECRET, "4").await.status, 202);

    // A config-file Asana source has its secret by hand: its handshake is refused too.
    let by_hand = handshake(&one, "asana-by-hand", SECRET).await;
    assert_eq!(
        (by_hand.status, code(&by_hand)),
        (409, "secret_exists".into())
    );

    // A replica started now (as after a restart) reads the secret from the store topic.
    let two = Gateway::start_env(&text, ENV);
    assert_eq!(deliver(&two, &id, SECRET, "5").await.status, 202);
    assert_eq!(deliver(&two, &id, OTHER, "6").await.status, 401);
    let again = handshake(&two, &id, OTHER).await;
    assert_eq!((again.status, code(&again)), (409, "secret_exists".into()));

    // An operator clears it; the next handshake (on the other replica) sets a new one, which
    // the first replica then follows.
    let cleared = call(
        admin,
        "DELETE",
        &format!("/v1/webhooks/{id}/secret"),
        &Value::Null,
    )
    .await;
    assert_eq!(cleared.status, 200, "{cleared:?}");
    assert_eq!(cleared.json()["has_secret"], false);
    assert_eq!(deliver(&one, &id, SECRET, "7").await.status, 401);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let answer = handshake(&two, &id, OTHER).await;
        if answer.status == 200 {
            break;
        }
        // The clearing reaches the second replica through the topic.
        assert_eq!(code(&answer), "secret_exists", "{answer:?}");
        assert!(Instant::now() < deadline, "the clearing never arrived");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while deliver(&one, &id, OTHER, "8").await.status != 202 {
        assert!(
            Instant::now() < deadline,
            "replica one never learned the new secret"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(deliver(&one, &id, SECRET, "9").await.status, 401);

    // Only the deliveries were published: tasks 2, 4, 5 and 8, no handshake.
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.asana.added",
        Duration::from_secs(30),
        |r| r.len() >= 4,
    );
    let mut tasks: Vec<String> = records
        .iter()
        .filter_map(|r| {
            r.value["data"]["events"][0]["resource"]["gid"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    tasks.sort();
    assert_eq!(tasks, ["2", "4", "5", "8"], "{records:?}");

    // The secrets never reach the log, nor the store topic in the clear.
    for log in [one.logs(), two.logs()] {
        assert!(!log.contains(SECRET) && !log.contains(OTHER), "{log}");
    }
    let stored = read_topic(
        &broker.bootstrap,
        "hookgate.admin.learned",
        Duration::from_secs(10),
        |r| !r.is_empty(),
    );
    for record in &stored {
        let text = record.value.to_string();
        assert!(!text.contains(SECRET) && !text.contains(OTHER), "{text}");
    }
}

#[test]
fn a_config_file_source_cannot_learn_and_must_have_its_secret() {
    // Without the admin API (and its store) nothing could keep a learned secret: a config-file
    // Asana source without `secrets` stops start-up with the reason.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("asana.toml");
    std::fs::write(&path, "[sources.asana]\nprovider = \"asana\"\n").expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .args(["--config", path.to_str().expect("path"), "check-config"])
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{said}");
    assert!(
        said.contains("sources.asana") && said.contains("admin API"),
        "{said}"
    );
}

#[tokio::test]
async fn a_secret_learned_into_the_local_store_survives_a_restart() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = format!(
        "store = {{ path = \"{}\", encryption_key",
        dir.path().display()
    );
    let text = config(&broker.bootstrap).replace(
        "store = { kind = \"kafka\", topic = \"hookgate.admin.learned\", encryption_key",
        &store,
    );
    assert!(text.contains(&store), "{text}");
    let id = {
        let gw = Gateway::in_process_env(&text, ENV);
        let admin = gw.admin_addr.expect("admin listener");
        let created = call(
            admin,
            "POST",
            "/v1/webhooks",
            &json!({"webhook": {"name": "local", "provider": "asana", "events": "*"}}),
        )
        .await;
        assert_eq!(created.status, 201, "{created:?}");
        let id = created.json()["id"].as_str().expect("id").to_owned();
        assert_eq!(handshake(&gw, &id, SECRET).await.status, 200);
        id
    };
    // The file holds the secret sealed, never in the clear.
    let file = std::fs::read_to_string(dir.path().join("webhooks.json")).expect("store file");
    assert!(!file.contains(SECRET), "{file}");
    let again = Gateway::in_process_env(&text, ENV);
    assert_eq!(deliver(&again, &id, SECRET, "10").await.status, 202);
    let refused = handshake(&again, &id, OTHER).await;
    assert_eq!(
        (refused.status, code(&refused)),
        (409, "secret_exists".into())
    );
}
