//! The certificate-URL kind end to end: the gateway fetches the signing certificate a delivery
//! names from a local HTTPS key host ([`DocServer`], trusted through `[outbound] ca_file`),
//! checks it and the signature, and publishes to a real Kafka broker; and AWS SNS's real
//! notifications checked through the same fetch path.

use std::time::Duration;

use hookgate::ingest::auth::{AuthConfig, Verifier};
use hookgate::ingest::fetch::{Fetcher, OutboundConfig};
use hookgate::ingest::intake::Inbound;
use serde_json::{json, Map, Value};

use crate::common::{post, read_topic, unix_now, Broker, Gateway};
use crate::docserver::DocServer;

/// A private key kept for these tests (tests/fixtures/rsa/README.md).
pub const SIGNING_KEY: &str = include_str!("../fixtures/rsa/signing-2048.key");

/// A certificate for [`SIGNING_KEY`], issued by the key host's CA, valid a day either side of
/// now, with `name` as common name and DNS name.
pub fn signing_certificate(server: &DocServer, name: &str) -> String {
    let key = rcgen::KeyPair::from_pem_and_sign_algo(SIGNING_KEY, &rcgen::PKCS_RSA_SHA256)
        .expect("rsa key");
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).expect("params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(1);
    params
        .signed_by(&key, &server.ca.cert, &server.ca.key_pair)
        .expect("leaf")
        .pem()
}

/// Base64 of an RSA PKCS#1 v1.5 SHA-256 signature of `message` with [`SIGNING_KEY`].
pub fn sign_sha256(message: &[u8]) -> String {
    use base64::Engine as _;
    use rustls_pki_types::pem::PemObject as _;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from_pem_slice(SIGNING_KEY.as_bytes())
        .expect("pkcs8");
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).expect("key");
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        message,
        &mut sig,
    )
    .expect("sign");
    base64::engine::general_purpose::STANDARD.encode(sig)
}

const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:123456789012:orders";

/// An SNS message of `kind` signed with SignatureVersion 2 as SNS does: `Name\nValue\n` over
/// the fields signed for its type.
fn sns_message(kind: &str, cert_url: &str, extra: &[(&str, &str)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("Type".into(), kind.into());
    m.insert("MessageId".into(), uuid::Uuid::now_v7().to_string().into());
    m.insert("TopicArn".into(), TOPIC_ARN.into());
    m.insert("Message".into(), json!({"order": 42}).to_string().into());
    m.insert("Timestamp".into(), "2026-12-01T10:00:00.000Z".into());
    m.insert("SignatureVersion".into(), "2".into());
    m.insert("SigningCertURL".into(), cert_url.into());
    for (k, v) in extra {
        m.insert((*k).into(), (*v).into());
    }
    let fields: &[&str] = if kind == "Notification" {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut signed = String::new();
    for f in fields {
        if let Some(v) = m.get(*f).and_then(Value::as_str) {
            signed.push_str(&format!("{f}\n{v}\n"));
        }
    }
    m.insert("Signature".into(), sign_sha256(signed.as_bytes()).into());
    m
}

/// The `aws-sns` preset's recipe with the key host allowed instead of SNS's hosts.
fn sns_source(name: &str, port: u16, confirm: bool) -> String {
    format!(
        r#"
[sources.{name}]
provider = "aws-sns"
secrets = [{{ insecure_dev_value = "{TOPIC_ARN}" }}]
confirm_subscriptions = {confirm}
confirm_hosts = ["localhost:{port}"]
on_invalid = "reject"
topic = "TOPIC"

[sources.{name}.auth]
type = "certificate_url"
cert_url = {{ pointer = "/SigningCertURL" }}
allowed_hosts = ["localhost:{port}"]
cert_path_suffix = ".pem"
signature = {{ pointer = "/Signature" }}
algorithm_from = {{ pointer = "/SignatureVersion" }}
algorithms = {{ "1" = "rsa_pkcs1_sha1", "2" = "rsa_pkcs1_sha256" }}
recipient_pointer = "/TopicArn"
chain = "none"

[sources.{name}.auth.signed_fields]
by = "Type"
lists.Notification = ["Message", "MessageId", "Subject?", "Timestamp", "TopicArn", "Type"]
lists.SubscriptionConfirmation = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
lists.UnsubscribeConfirmation = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
"#
    )
}

async fn post_sns(gw: &Gateway, source: &str, m: &Map<String, Value>) -> crate::common::Answer {
    let kind = m["Type"].as_str().unwrap_or_default().to_owned();
    post(
        gw.addr,
        &format!("/webhooks/{source}"),
        &[
            ("content-type", "text/plain; charset=UTF-8"),
            ("x-amz-sns-message-type", &kind),
        ],
        &Value::Object(m.clone()).to_string(),
    )
    .await
}

#[tokio::test]
async fn sns_notifications_are_verified_with_the_certificate_they_name_and_published() {
    let server = DocServer::start().await;
    server.put(
        "/sns/cert.pem",
        signing_certificate(&server, "sns.amazonaws.com"),
    );
    server.put(
        "/other/cert.pem",
        signing_certificate(&server, "sns.amazonaws.com"),
    );
    server.put("/confirm?Action=ConfirmSubscription&Token=t1", "<ok/>");
    server.put("/confirm?Action=ConfirmSubscription&Token=t2", "<ok/>");
    let broker = Broker::start();
    let topic = format!("sns-e2e-{}", uuid::Uuid::now_v7().simple());
    let config = format!(
        "[kafka]\nbrokers = \"{}\"\n\n[schemas]\ndir = \"{{schemas}}\"\n\n[outbound]\nca_file = \"{}\"\n{}{}",
        broker.bootstrap,
        server.ca_file.display(),
        sns_source("sns", server.port, true),
        sns_source("sns-manual", server.port, false),
    )
    .replace("TOPIC", &topic);
    let gw = Gateway::in_process(&config);
    let cert_url = server.url("/sns/cert.pem");

    // Two notifications: both accepted, the certificate fetched once.
    let first = sns_message("Notification", &cert_url, &[("Subject", "hello")]);
    let second = sns_message("Notification", &cert_url, &[]);
    for m in [&first, &second] {
        let answer = post_sns(&gw, "sns", m).await;
        assert_eq!(answer.status, 202, "{answer:?}");
    }
    assert_eq!(server.hits("/sns/cert.pem"), 1, "the certificate is cached");

    // A certificate URL off the allow-list is refused without any fetch, even though the
    // same host would serve a valid certificate there.
    let elsewhere = format!("https://127.0.0.1:{}/other/cert.pem", server.port);
    let answer = post_sns(&gw, "sns", &sns_message("Notification", &elsewhere, &[])).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.code(), "certificate_url_not_allowed");
    assert_eq!(server.hits("/other/cert.pem"), 0, "nothing fetched");

    // A tampered message, another topic's message, an unknown signature version.
    let mut tampered = sns_message("Notification", &cert_url, &[]);
    tampered.insert("Message".into(), "{\"order\": 43}".into());
    let mut other_topic = sns_message("Notification", &cert_url, &[]);
    other_topic.insert(
        "TopicArn".into(),
        "arn:aws:sns:us-east-1:999999999999:x".into(),
    );
    let mut version = sns_message("Notification", &cert_url, &[]);
    version.insert("SignatureVersion".into(), "1".into());
    for (m, code) in [
        (&tampered, "invalid_signature"),
        (&other_topic, "unknown_recipient"),
        (&version, "invalid_signature"),
    ] {
        let answer = post_sns(&gw, "sns", m).await;
        assert_eq!(
            (answer.status, answer.code().as_str()),
            (401, code),
            "{answer:?}"
        );
    }

    // A subscription confirmation: verified, its SubscribeURL fetched once, nothing
    // published; the manual source only logs it.
    let subscribe = server.url("/confirm?Action=ConfirmSubscription&Token=t1");
    let confirmation = sns_message(
        "SubscriptionConfirmation",
        &cert_url,
        &[("SubscribeURL", &subscribe), ("Token", "t1")],
    );
    let answer = post_sns(&gw, "sns", &confirmation).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["subscription"], "confirmed");
    assert_eq!(
        server.hits("/confirm?Action=ConfirmSubscription&Token=t1"),
        1
    );
    let manual = sns_message(
        "SubscriptionConfirmation",
        &cert_url,
        &[
            (
                "SubscribeURL",
                &server.url("/confirm?Action=ConfirmSubscription&Token=t2"),
            ),
            ("Token", "t2"),
        ],
    );
    let answer = post_sns(&gw, "sns-manual", &manual).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["subscription"], "pending");
    assert_eq!(
        server.hits("/confirm?Action=ConfirmSubscription&Token=t2"),
        0
    );
    // A confirmation whose signature does not hold is refused before anything is fetched.
    let mut forged = confirmation.clone();
    forged.insert(
        "SubscribeURL".into(),
        server
            .url("/confirm?Action=ConfirmSubscription&Token=t2")
            .into(),
    );
    let answer = post_sns(&gw, "sns", &forged).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(
        server.hits("/confirm?Action=ConfirmSubscription&Token=t2"),
        0
    );
    let unsubscribed = sns_message(
        "UnsubscribeConfirmation",
        &cert_url,
        &[("SubscribeURL", &subscribe), ("Token", "t3")],
    );
    let answer = post_sns(&gw, "sns", &unsubscribed).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json()["subscription"], "unsubscribed");

    // Exactly the two notifications reached Kafka, as envelopes keyed by MessageId.
    let records = read_topic(&broker.bootstrap, &topic, Duration::from_secs(30), |r| {
        r.len() >= 2
    });
    assert_eq!(records.len(), 2, "{records:#?}");
    for m in [&first, &second] {
        // Partitions may be read in any order.
        let r = records
            .iter()
            .find(|r| r.key.as_deref() == m["MessageId"].as_str())
            .expect("keyed by MessageId");
        assert_eq!(r.value["event_type"], "Notification");
        assert_eq!(r.value["data"]["Message"], m["Message"]);
        assert_eq!(r.value["meta"]["content_type"], "text/plain; charset=UTF-8");
        assert_eq!(
            r.value["meta"]["verified"]["method"],
            "certificate-url:body/Signature"
        );
    }
}

/// AWS's real notifications (tests/fixtures/aws-sns) through the fetch path: the certificate
/// served by the key host, the clock set inside its validity.
#[tokio::test]
async fn sns_real_notifications_verify_with_their_certificate_fetched_over_https() {
    let server = DocServer::start().await;
    server.put(
        "/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem",
        include_str!("../fixtures/aws-sns/signing-cert-2021.pem"),
    );
    let messages: Vec<Map<String, Value>> =
        serde_json::from_str(include_str!("../data/aws-sns/notifications.json")).expect("fixture");
    let fetcher = Fetcher::new(&OutboundConfig {
        ca_file: Some(server.ca_file.clone()),
        ..OutboundConfig::default()
    })
    .expect("fetcher");
    let Some(AuthConfig::CertificateUrl(mut recipe)) =
        hookgate::providers::preset("aws-sns").and_then(|p| p.auth)
    else {
        panic!("aws-sns is a certificate-URL preset");
    };
    recipe.allowed_hosts = vec![format!("localhost:{}", server.port)];
    let topics: Vec<hookgate::base::secret::Secret> = messages
        .iter()
        .map(|m| hookgate::base::secret::Secret::new(m["TopicArn"].as_str().expect("arn").into()))
        .collect();
    let verifier =
        Verifier::with_fetcher(&AuthConfig::CertificateUrl(recipe), topics, None, &fetcher)
            .expect("verifier");
    // 2022-07-29: inside the certificate's validity (2021-09-07 to 2022-08-17).
    let now = 1_659_052_800;
    for (i, m) in messages.iter().enumerate() {
        let mut m = m.clone();
        let path = url::Url::parse(m["SigningCertURL"].as_str().expect("url"))
            .expect("url")
            .path()
            .to_owned();
        m.insert("SigningCertURL".into(), server.url(&path).into());
        let inbound = |m: &Map<String, Value>| {
            Inbound::new(
                hyper::HeaderMap::new(),
                bytes::Bytes::from(Value::Object(m.clone()).to_string()),
                None,
            )
        };
        let verified = verifier.verify(inbound(&m), now).await.expect("verified");
        assert_eq!(verified.verification().key_index, Some(i));
        let err = verifier
            .verify(inbound(&m), unix_now())
            .await
            .expect_err("the certificate has expired since");
        assert_eq!(err.code(), "invalid_certificate");
        // Without a runtime's fetch, the kind refuses rather than guesses.
        assert_eq!(
            verifier
                .verify_sync(inbound(&m), now)
                .expect_err("sync")
                .code(),
            "key_unavailable"
        );
    }
    assert_eq!(
        server.hits("/SimpleNotificationService-7ff5318490ec183fbaddaa2a969abfda.pem"),
        1,
        "one fetch for all of them"
    );
}

/// The key host down: 503 `key_unavailable`, so the provider retries; nothing published.
#[tokio::test]
async fn an_unreachable_certificate_is_answered_503() {
    let server = DocServer::start().await;
    server.put_with("/down/cert.pem", 500, "", Duration::ZERO);
    let broker = Broker::start();
    let topic = format!("sns-down-{}", uuid::Uuid::now_v7().simple());
    let config = format!(
        "[kafka]\nbrokers = \"{}\"\n\n[schemas]\ndir = \"{{schemas}}\"\n\n[outbound]\nca_file = \"{}\"\n{}",
        broker.bootstrap,
        server.ca_file.display(),
        sns_source("sns", server.port, false),
    )
    .replace("TOPIC", &topic);
    let gw = Gateway::in_process(&config);
    let m = sns_message("Notification", &server.url("/down/cert.pem"), &[]);
    let answer = post_sns(&gw, "sns", &m).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.code(), "key_unavailable");
    assert!(answer.headers.contains_key("retry-after"));
}
