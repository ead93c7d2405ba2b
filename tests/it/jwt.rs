//! JWT sources end to end: tokens made or checked by the providers' official SDKs (through
//! `tests/sdk/oracle.py`, and `@kinde/webhooks` through `oracle.mjs`) against the running
//! gateway, a key set served by [`DocServer`] (a local HTTPS host with its own CA, given as
//! `[outbound] ca_file`), records read back from Kafka. Also the key set's cache at the
//! verifier: a rotated key is fetched once, unknown key ids cannot make the gateway call out
//! more than once per interval.

use std::sync::Arc;
use std::time::Duration;

use hookgate::base::secret::Secret;
use hookgate::ingest::auth::jwt::{JwtAlgorithm, JwtConfig};
use hookgate::ingest::auth::{AuthConfig, Verifier};
use hookgate::ingest::fetch::{Fetcher, OutboundConfig};
use hookgate::ingest::intake::Inbound;
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::common::{post, read_topic, repo_path, unix_now, Broker, Gateway};
use crate::docserver::DocServer;
use crate::sdk::oracle;

const READ_TIMEOUT: Duration = Duration::from_secs(30);
const PUSH_ACCOUNT: &str = "push@hookgate-test.iam.gserviceaccount.com";
const PUBSUB_URL: &str = "https://hooks.example.com/webhooks/pubsub";
const MESSAGEBIRD_URL: &str = "https://hooks.example.com/webhooks/messagebird";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("tests/fixtures/{name}"))).expect("fixture")
}

/// Test data that is not a webhook payload (key sets), from tests/data.
fn data(name: &str) -> String {
    std::fs::read_to_string(repo_path(&format!("tests/data/{name}"))).expect("test data")
}

fn oracle_tokens(requests: Vec<Value>) -> Vec<(String, bool, String)> {
    let out = oracle(&json!({"op": "jwt", "requests": requests}));
    out["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["token"].as_str().expect("token").to_owned(),
                r["sdk_accepts"].as_bool().expect("verdict"),
                r["sdk"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// A Google-signed OIDC token as Pub/Sub sends it, made by google-auth with the test key
/// `kid`; `tweak` changes the claims.
fn pubsub_request(kid: &str, private: &str, public: &str, tweak: impl Fn(&mut Value)) -> Value {
    let now = unix_now();
    let mut claims = json!({
        "iss": "https://accounts.google.com",
        "aud": PUBSUB_URL,
        "azp": "1234567890",
        "sub": "1234567890",
        "email": PUSH_ACCOUNT,
        "email_verified": true,
        "iat": now,
        "exp": now + 3600,
    });
    tweak(&mut claims);
    json!({"provider": "google-pubsub", "claims": claims, "kid": kid, "private": private,
        "public": public, "audience": PUBSUB_URL, "email": PUSH_ACCOUNT})
}

fn pubsub_body(id: &str) -> String {
    json!({
        "message": {
            "attributes": {"origin": "test"},
            "data": "SGVsbG8gQ2xvdWQgUHViL1N1YiEgSGVyZSBpcyBteSBtZXNzYWdlIQ==",
            "messageId": id,
            "message_id": id,
            "publishTime": "2026-01-02T03:04:05.678Z",
            "publish_time": "2026-01-02T03:04:05.678Z"
        },
        "subscription": "projects/hookgate-test/subscriptions/push"
    })
    .to_string()
}

#[tokio::test]
async fn jwt_sources_accept_what_the_official_sdks_accept_and_publish_it() {
    let broker = Broker::start();
    let keys = DocServer::start().await;
    keys.put("/oauth2/v3/certs", data("jwt/jwks-1.json"));
    let run = uuid::Uuid::now_v7().simple().to_string();
    let topic = |p: &str| format!("jwt-{p}-{run}");
    let config = format!(
        r#"
[kafka]
brokers = "{bootstrap}"

[schemas]
dir = "{{schemas}}"

[outbound]
ca_file = "{ca}"

[sources.pubsub]
provider = "google-pubsub"
public_url = "{PUBSUB_URL}"
jwt = {{ jwks_url = "{jwks}", claims = {{ email = "{PUSH_ACCOUNT}" }} }}
topic = "{t_pubsub}"
on_invalid = "reject"

[sources.pubsub-down]
provider = "google-pubsub"
public_url = "{PUBSUB_URL}"
jwt = {{ jwks_url = "https://127.0.0.1:1/oauth2/v3/certs", claims = {{ email = "{PUSH_ACCOUNT}" }} }}
topic = "{t_pubsub}"

[sources.vonage]
provider = "vonage"
secrets = [{{ insecure_dev_value = "vonage-signature-secret-0123456789" }}]
topic = "{t_vonage}"

[sources.qstash]
provider = "upstash-qstash"
secrets = [{{ insecure_dev_value = "sig_current_key" }}, {{ insecure_dev_value = "sig_next_key" }}]
jwt = {{ claims = {{ sub = "{{public_url}}" }} }}
public_url = "https://hooks.example.com/webhooks/qstash"
topic = "{t_qstash}"

[sources.messagebird]
provider = "messagebird"
secrets = [{{ insecure_dev_value = "messagebird-signing-key" }}]
public_url = "{MESSAGEBIRD_URL}"
topic = "{t_messagebird}"
"#,
        bootstrap = broker.bootstrap,
        ca = keys.ca_file.display(),
        jwks = keys.url("/oauth2/v3/certs"),
        t_pubsub = topic("pubsub"),
        t_vonage = topic("vonage"),
        t_qstash = topic("qstash"),
        t_messagebird = topic("messagebird"),
    );
    let gw = Gateway::in_process(&config);

    // Google Pub/Sub: google-auth signs the tokens and checks them with the key set's key.
    let (private, public) = (
        fixture("jwt/rsa-private.pem"),
        fixture("jwt/rsa-public.pem"),
    );
    let (private2, public2) = (
        fixture("jwt/rsa2-private.pem"),
        fixture("jwt/rsa2-public.pem"),
    );
    let now = unix_now();
    let tokens = oracle_tokens(vec![
        pubsub_request("test-key-1", &private, &public, |_| {}),
        pubsub_request("test-key-1", &private, &public, |c| {
            c["aud"] = json!("https://hooks.example.com/other")
        }),
        pubsub_request("test-key-1", &private, &public, |c| {
            c["iat"] = json!(now - 7200);
            c["exp"] = json!(now - 3600);
        }),
        pubsub_request("test-key-1", &private, &public, |c| {
            c["email"] = json!("someone@else.iam.gserviceaccount.com")
        }),
        // Signed by a key the set does not hold, under a kid it does not name.
        pubsub_request("test-key-2", &private2, &public2, |_| {}),
    ]);
    let (good, ok, sdk) = &tokens[0];
    assert!(ok, "{sdk} refused its own token");
    for (i, (_, ok, _)) in tokens.iter().enumerate().skip(1) {
        assert!(!ok || i == 4, "case {i}: google-auth must refuse it");
    }
    let push = |token: &str| {
        let h = format!("Bearer {token}");
        let id = format!("m-{}", uuid::Uuid::now_v7().simple());
        (h, id)
    };
    let (h, id) = push(good);
    let headers = [
        ("content-type", "application/json"),
        ("authorization", h.as_str()),
    ];
    let answer = post(gw.addr, "/webhooks/pubsub", &headers, &pubsub_body(&id)).await;
    assert_eq!(answer.status, 202, "{answer:?}");
    assert_eq!(keys.hits("/oauth2/v3/certs"), 1);
    let accepted_id = answer.json()["id"].as_str().expect("id").to_owned();

    let mut tampered = good.clone();
    let at = tampered.rfind('.').expect("dot") + 5;
    let flipped = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, flipped);
    let refusals = [
        (tokens[1].0.clone(), "invalid_claim"),
        (tokens[2].0.clone(), "expired_token"),
        (tokens[3].0.clone(), "invalid_claim"),
        (tokens[4].0.clone(), "unknown_key"),
        (tampered, "invalid_signature"),
        ("not-a-jwt".to_owned(), "malformed_signature"),
    ];
    for (token, code) in &refusals {
        let (h, id) = push(token);
        let headers = [
            ("content-type", "application/json"),
            ("authorization", h.as_str()),
        ];
        let answer = post(gw.addr, "/webhooks/pubsub", &headers, &pubsub_body(&id)).await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, (*code).to_owned()),
            "{answer:?}"
        );
        assert!(
            !answer.body.contains(&token[..token.len().min(20)]),
            "{answer:?}"
        );
    }
    // The unknown kid could not make the gateway fetch again within the refetch interval.
    assert_eq!(
        keys.hits("/oauth2/v3/certs"),
        1,
        "unknown key ids are bounded"
    );
    // No token at all.
    let answer = post(gw.addr, "/webhooks/pubsub", &[], &pubsub_body("x")).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "missing_signature")
    );
    // The key host is down: 503, so Pub/Sub retries.
    let headers = [
        ("content-type", "application/json"),
        ("authorization", h.as_str()),
    ];
    let answer = post(
        gw.addr,
        "/webhooks/pubsub-down",
        &headers,
        &pubsub_body("y"),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (503, "key_unavailable"),
        "{answer:?}"
    );

    let records = read_topic(&broker.bootstrap, &topic("pubsub"), READ_TIMEOUT, |r| {
        !r.is_empty()
    });
    assert_eq!(records.len(), 1, "only the accepted push: {records:#?}");
    let v = &records[0].value;
    assert_eq!(v["id"], accepted_id.as_str());
    assert_eq!(v["provider"], "google-pubsub");
    assert_eq!(v["event_type"], "message");
    assert_eq!(v["delivery_id"], id.as_str());
    assert_eq!(v["data"]["message"]["attributes"]["origin"], "test");
    assert_eq!(v["meta"]["verified"]["method"], "jwt:authorization");

    // HMAC-signed JWTs: PyJWT signs (as the SDKs' own tests do), the official SDK verifies.
    let body =
        json!({"type": "message.created", "message_type": "text", "text": "hi", "channel": "sms",
        "message_uuid": run, "timestamp": "2026-01-02T03:04:05Z"})
        .to_string();
    let sha = |s: &str| sha2::Sha256::digest(s.as_bytes());
    let b64url = |d: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d)
    };
    let qstash_url = "https://hooks.example.com/webhooks/qstash";
    let mb_url = format!("{MESSAGEBIRD_URL}?channel=sms");
    let now = unix_now();
    let hmac_requests = vec![
        json!({"provider": "vonage", "secret": "vonage-signature-secret-0123456789", "body": body,
            "claims": {"iat": now, "jti": run, "iss": "Vonage", "api_key": "abc123",
                "application_id": "app", "payload_hash": hex::encode(sha(&body))}}),
        json!({"provider": "upstash-qstash", "secrets": ["sig_current_key", "sig_next_key"],
            "secret": "sig_next_key", "body": body, "url": qstash_url,
            "claims": {"aud": "", "body": b64url(&sha(&body)), "exp": now + 300, "iat": now,
                "iss": "Upstash", "jti": run, "nbf": now, "sub": qstash_url}}),
        json!({"provider": "messagebird", "secret": "messagebird-signing-key", "body": body,
            "url": mb_url,
            "claims": {"iss": "MessageBird", "nbf": now, "exp": now + 300, "jti": run,
                "url_hash": hex::encode(sha(&mb_url)), "payload_hash": hex::encode(sha(&body))}}),
    ];
    let tokens = oracle_tokens(hmac_requests);
    let cases = [
        (
            "vonage",
            "/webhooks/vonage",
            "authorization",
            "Bearer ",
            "vonage",
        ),
        (
            "upstash-qstash",
            "/webhooks/qstash",
            "upstash-signature",
            "",
            "qstash",
        ),
        (
            "messagebird",
            "/webhooks/messagebird?channel=sms",
            "messagebird-signature-jwt",
            "",
            "messagebird",
        ),
    ];
    for ((provider, path, header, scheme, t), (token, ok, sdk)) in cases.iter().zip(&tokens) {
        assert!(ok, "{provider}: {sdk} refused the token");
        let value = format!("{scheme}{token}");
        let headers = [
            ("content-type", "application/json"),
            (*header, value.as_str()),
        ];
        let tampered = body.replacen("\"hi\"", "\"ho\"", 1);
        let refused = post(gw.addr, path, &headers, &tampered).await;
        assert_eq!(
            (refused.status, refused.code().as_str()),
            (401, "invalid_claim"),
            "{provider}: {refused:?}"
        );
        let answer = post(gw.addr, path, &headers, &body).await;
        assert_eq!(answer.status, 202, "{provider} ({sdk}): {answer:?}");
        let id = answer.json()["id"].as_str().expect("id").to_owned();
        let records = read_topic(&broker.bootstrap, &topic(t), READ_TIMEOUT, |r| {
            !r.is_empty()
        });
        assert_eq!(records.len(), 1, "{provider}: {records:#?}");
        assert_eq!(records[0].value["id"], id.as_str());
        assert_eq!(records[0].value["provider"], *provider);
    }
    // MessageBird signs the URL: the same token on another query string is refused.
    let value = tokens[2].0.clone();
    let headers = [
        ("content-type", "application/json"),
        ("messagebird-signature-jwt", value.as_str()),
    ];
    let answer = post(
        gw.addr,
        "/webhooks/messagebird?channel=email",
        &headers,
        &body,
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (401, "invalid_claim")
    );
}

fn fetcher(server: &DocServer) -> Arc<Fetcher> {
    Fetcher::new(&OutboundConfig {
        ca_file: Some(server.ca_file.clone()),
        ..OutboundConfig::default()
    })
    .expect("fetcher")
}

fn inbound(headers: &[(&str, &str)], body: &str) -> Inbound {
    let mut map = hyper::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            hyper::header::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            v.parse().expect("value"),
        );
    }
    Inbound::new(map, bytes::Bytes::copy_from_slice(body.as_bytes()), None)
}

#[tokio::test]
async fn saleor_real_signature_verifies_against_its_fetched_key_set() {
    // saleor/app-sdk src/auth/verify-signature.test.ts: a real Saleor signature, its JWKS
    // (served here as Saleor serves `/.well-known/jwks.json`) and body.
    let server = DocServer::start().await;
    server.put("/.well-known/jwks.json", data("saleor/jwks.json"));
    let Some(AuthConfig::Jwt(mut c)) = hookgate::providers::preset("saleor").and_then(|p| p.auth)
    else {
        panic!("saleor is a JWT preset");
    };
    c.jwks_url = Some(server.url("/.well-known/jwks.json"));
    let v = Verifier::with_fetcher(&AuthConfig::Jwt(c), vec![], None, &fetcher(&server))
        .expect("verifier");
    let signature = fixture("saleor/signature.txt");
    let body = r#"{"__typename": "OrderCreated"}"#;
    let headers = [("saleor-signature", signature.as_str())];
    let ok = v
        .verify(inbound(&headers, body), 0)
        .await
        .expect("verified");
    assert_eq!(&*ok.verification().method, "jws-detached:saleor-signature");
    let err = v
        .verify(inbound(&headers, r#"{"forged": "payload"}"#), 0)
        .await
        .expect_err("forged");
    assert_eq!(err.code(), "invalid_signature");
    assert_eq!(server.hits("/.well-known/jwks.json"), 1, "cached");
    // Outside a server (a command), a fetched key set is not available.
    let err = v.verify_sync(inbound(&headers, body), 0).expect_err("sync");
    assert_eq!(err.code(), "key_unavailable");
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_unknown_key_ids_stay_bounded() {
    let server = DocServer::start().await;
    server.put("/certs", data("jwt/jwks-1.json"));
    let mut c = JwtConfig::bearer(&[JwtAlgorithm::RS256]);
    c.jwks_url = Some(server.url("/certs"));
    c.jwks_min_refetch_secs = 1;
    let v = Verifier::with_fetcher(
        &AuthConfig::Jwt(c),
        Vec::<Secret>::new(),
        None,
        &fetcher(&server),
    )
    .expect("verifier");
    let sign = |kid: &str, private: &str| {
        let mut header = jsonwebtoken::Header::new(JwtAlgorithm::RS256);
        header.kid = Some(kid.to_owned());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private.as_bytes()).expect("key");
        let token = jsonwebtoken::encode(&header, &json!({"sub": "x"}), &key).expect("token");
        format!("Bearer {token}")
    };
    let first = sign("test-key-1", &fixture("jwt/rsa-private.pem"));
    let second = sign("test-key-2", &fixture("jwt/rsa2-private.pem"));
    let check = |h: &str| v.verify(inbound(&[("authorization", h)], "{}"), 0);
    assert!(check(&first).await.is_ok());
    assert_eq!(
        check(&second).await.expect_err("unknown").code(),
        "unknown_key"
    );
    assert_eq!(server.hits("/certs"), 1, "too soon to fetch again");

    // The provider rotates in its second key; past the interval one token naming it fetches
    // the set once, and both keys verify from the cache afterwards.
    server.put("/certs", data("jwt/jwks-both.json"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(check(&second).await.is_ok());
    assert_eq!(server.hits("/certs"), 2);
    for _ in 0..5 {
        assert!(check(&first).await.is_ok());
        assert!(check(&second).await.is_ok());
    }
    // A flood of unknown key ids: at most one fetch per interval.
    let bogus = sign("nobody", &fixture("jwt/rsa2-private.pem"));
    for _ in 0..20 {
        assert_eq!(
            check(&bogus).await.expect_err("unknown").code(),
            "unknown_key"
        );
    }
    assert!(
        server.hits("/certs") <= 3,
        "{} fetches",
        server.hits("/certs")
    );
}

#[tokio::test]
async fn kinde_tokens_pass_exactly_when_the_kinde_sdk_accepts_them() {
    // @kinde/webhooks `decodeWebhook` and the gateway both fetch the same key set, served as
    // Kinde serves `https://<subdomain>.kinde.com/.well-known/jwks.json`.
    let server = DocServer::start().await;
    server.put("/.well-known/jwks.json", data("jwt/jwks-1.json"));
    let domain = server.url("");
    let (private, private2) = (
        fixture("jwt/rsa-private.pem"),
        fixture("jwt/rsa2-private.pem"),
    );
    let event = |kind: &str| {
        json!({"type": kind, "event_id": format!("event_{}", uuid::Uuid::now_v7().simple()),
            "timestamp": "2026-01-02T03:04:05.678+00:00", "source": "admin",
            "data": {"user": {"id": "kp_0195b2b4c3d5", "email": "someone@example.com"}}})
    };
    let now = unix_now();
    let mut expired = event("user.deleted");
    expired["exp"] = json!(now - 3600);
    let requests = json!({"op": "jwt", "requests": [
        {"provider": "kinde", "claims": event("user.created"), "private": private,
            "kid": "test-key-1", "domain": domain},
        {"provider": "kinde", "claims": event("organization.updated"), "private": private,
            "kid": "test-key-1", "domain": domain},
        // Another key under the set's kid, and an expired token: both refused.
        {"provider": "kinde", "claims": event("user.updated"), "private": private2,
            "kid": "test-key-1", "domain": domain},
        {"provider": "kinde", "claims": expired, "private": private,
            "kid": "test-key-1", "domain": domain},
    ]});
    let ca = server.ca_file.clone();
    let out = tokio::task::spawn_blocking(move || {
        crate::sdk::node_oracle_with(&requests, &[("NODE_EXTRA_CA_CERTS", ca.as_path())])
    })
    .await
    .expect("oracle");
    let results = out["results"].as_array().expect("results");
    let verdicts: Vec<bool> = results
        .iter()
        .map(|r| r["sdk_accepts"].as_bool().expect("verdict"))
        .collect();
    assert_eq!(verdicts, [true, true, false, false], "{out}");

    let Some(AuthConfig::Jwt(mut c)) = hookgate::providers::preset("kinde").and_then(|p| p.auth)
    else {
        panic!("kinde is a JWT preset");
    };
    c.jwks_url = Some(server.url("/.well-known/jwks.json"));
    let v = Verifier::with_fetcher(&AuthConfig::Jwt(c), vec![], None, &fetcher(&server))
        .expect("verifier");
    let sdk_fetches = server.hits("/.well-known/jwks.json");
    assert!(sdk_fetches > 0, "the SDK fetched the served key set");
    for (r, sdk_accepts) in results.iter().zip(&verdicts) {
        let token = r["token"].as_str().expect("token");
        let verdict = v
            .verify(inbound(&[("content-type", "application/jwt")], token), now)
            .await;
        match verdict {
            Ok(ok) => {
                assert!(sdk_accepts, "the gateway accepted what the SDK refused");
                let event: Value = serde_json::from_slice(&ok.inbound().body).expect("event");
                let claims = token.split('.').nth(1).expect("payload");
                let claims: Value = serde_json::from_slice(
                    &base64::Engine::decode(
                        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                        claims,
                    )
                    .expect("base64url"),
                )
                .expect("claims");
                assert_eq!(event, claims, "the claims are the event");
            }
            Err(e) => assert!(
                !sdk_accepts,
                "the SDK accepted what the gateway refused: {e}"
            ),
        }
    }
    assert_eq!(
        server.hits("/.well-known/jwks.json"),
        sdk_fetches + 1,
        "the gateway fetched once (cached)"
    );
}

#[tokio::test]
async fn wix_tokens_pass_exactly_when_the_wix_sdk_accepts_them() {
    // @wix/sdk `AppStrategy({publicKey})` + `webhooks.parseJWT`, offline with the app's key.
    let (private, public) = (
        fixture("jwt/rsa-private.pem"),
        fixture("jwt/rsa-public.pem"),
    );
    let private2 = fixture("jwt/rsa2-private.pem");
    let now = unix_now();
    let claims = |event_type: &str, exp: i64| {
        let inner = json!({
            "eventType": event_type,
            "instanceId": "4f9c1b2a-3d4e-5f60-7182-93a4b5c6d7e8",
            "data": json!({"id": uuid::Uuid::now_v7().to_string(), "entityId": "c-1",
                "slug": "created", "createdEvent": {"entity": {"id": "c-1"}}}).to_string(),
            "identity": json!({"identityType": "APP"}).to_string(),
        });
        json!({"data": inner.to_string(), "iat": now - 5, "exp": exp})
    };
    let request = |claims: Value, private: &str| json!({"provider": "wix", "claims": claims, "private": private, "public": public});
    let requests = json!({"op": "jwt", "requests": [
        request(claims("wix.contacts.v4.contact_created", now + 3600), &private),
        request(claims("wix.ecom.v1.order_approved", now + 3600), &private),
        request(claims("wix.contacts.v4.contact_deleted", now + 3600), &private2),
        request(claims("wix.contacts.v4.contact_updated", now - 3600), &private),
    ]});
    let out = tokio::task::spawn_blocking(move || crate::sdk::node_oracle_with(&requests, &[]))
        .await
        .expect("oracle");
    let results = out["results"].as_array().expect("results");
    let verdicts: Vec<bool> = results
        .iter()
        .map(|r| r["sdk_accepts"].as_bool().expect("verdict"))
        .collect();
    assert_eq!(verdicts, [true, true, false, false], "{out}");

    let Some(auth) = hookgate::providers::preset("wix").and_then(|p| p.auth) else {
        panic!("wix has auth");
    };
    let v = Verifier::new(&auth, vec![Secret::new(public.into_bytes())], None).expect("verifier");
    for (r, sdk_accepts) in results.iter().zip(&verdicts) {
        let token = r["token"].as_str().expect("token");
        match v.verify_sync(inbound(&[], token), now) {
            Ok(ok) => {
                assert!(sdk_accepts, "the gateway accepted what the SDK refused");
                let event: Value = serde_json::from_slice(&ok.inbound().body).expect("event");
                assert!(event["eventType"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("wix.")));
            }
            Err(e) => assert!(
                !sdk_accepts,
                "the SDK accepted what the gateway refused: {e}"
            ),
        }
    }
}
