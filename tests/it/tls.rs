//! HTTPS: a signed webhook over TLS reaches Kafka; a renewed certificate is picked up without a
//! restart; a broken file is refused while the old certificate keeps serving; `check-config`
//! names a key that does not belong to its certificate, without printing the key.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{exchange, github_signature, read_topic, Broker, Gateway};
use bytes::Bytes;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsConnector;

struct Pair {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

fn self_signed() -> Pair {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    Pair {
        cert_pem: made.cert.pem(),
        key_pem: made.key_pair.serialize_pem(),
        der: made.cert.der().clone(),
    }
}

fn write(dir: &Path, pair: &Pair) {
    std::fs::write(dir.join("key.pem"), &pair.key_pem).expect("key");
    std::fs::write(dir.join("cert.pem"), &pair.cert_pem).expect("cert");
}

struct Reply {
    status: u16,
    body: String,
    /// The certificate the server presented.
    served: CertificateDer<'static>,
}

/// One HTTPS request on a fresh connection, trusting `roots`.
async fn https(
    addr: SocketAddr,
    roots: &[&CertificateDer<'static>],
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut store = rustls::RootCertStore::empty();
    for r in roots {
        store.add((*r).clone()).expect("root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(store)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let tls = TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let served = tls.get_ref().1.peer_certificates().expect("peer")[0].clone();
    let answer = exchange(
        tls,
        "localhost",
        method,
        path,
        headers,
        Bytes::copy_from_slice(body.as_bytes()),
    )
    .await;
    Reply {
        status: answer.status,
        body: answer.body,
        served,
    }
}

fn config(broker: &str, certs: &Path) -> String {
    format!(
        r#"
[server.tls]
cert_file = "{dir}/cert.pem"
key_file = "{dir}/key.pem"
reload_interval_secs = 1

[kafka]
brokers = "{broker}"

[schemas]
dir = "{{schemas}}"

[sources.github]
provider = "github"
secrets = [{{ insecure_dev_value = "tls-secret" }}]
"#,
        dir = certs.display()
    )
}

#[tokio::test]
async fn webhooks_over_https_and_certificates_reload_in_place() {
    let broker = Broker::start();
    let certs = tempfile::tempdir().expect("tempdir");
    let first = self_signed();
    write(certs.path(), &first);
    let gw = Gateway::in_process(&config(&broker.bootstrap, certs.path()));

    // A signed delivery over HTTPS is accepted and published.
    let body = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let signature = github_signature("tls-secret", body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-github-delivery", "tls-delivery-1"),
        ("x-hub-signature-256", signature.as_str()),
    ];
    let reply = https(
        gw.addr,
        &[&first.der],
        "POST",
        "/webhooks/github",
        &headers,
        body,
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.served, first.der);
    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.ping",
        Duration::from_secs(30),
        |rs| !rs.is_empty(),
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value["delivery_id"], "tls-delivery-1");

    // A half-written or broken certificate is refused; the old one keeps serving.
    std::fs::write(
        certs.path().join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nnope\n",
    )
    .expect("break");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let metrics = https(gw.addr, &[&first.der], "GET", "/metrics", &[], "").await;
        assert_eq!(
            metrics.served, first.der,
            "the old certificate still serves"
        );
        if metrics
            .body
            .contains("hookgate_tls_reloads_total{result=\"error\"} 1")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the broken file was never reported"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A renewed pair is served from the next check on, without a restart.
    let second = self_signed();
    write(certs.path(), &second);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let reply = https(
            gw.addr,
            &[&first.der, &second.der],
            "GET",
            "/healthz",
            &[],
            "",
        )
        .await;
        assert_eq!(reply.status, 200);
        if reply.served == second.der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = https(gw.addr, &[&second.der], "GET", "/metrics", &[], "").await;
    assert!(
        metrics
            .body
            .contains("hookgate_tls_reloads_total{result=\"ok\"} 1"),
        "{}",
        metrics.body
    );

    // Plain HTTP on the TLS port gets no HTTP answer; the failed handshake is counted.
    let plain = tokio::time::timeout(
        Duration::from_secs(5),
        crate::common::try_send(gw.addr, "GET", "/healthz"),
    )
    .await;
    assert!(
        !matches!(plain, Ok(Some(200))),
        "plain HTTP must not be served"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let metrics = https(gw.addr, &[&second.der], "GET", "/metrics", &[], "").await;
        if metrics
            .body
            .lines()
            .any(|l| l.starts_with("hookgate_tls_handshake_errors_total") && !l.ends_with(" 0"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "{}", metrics.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_key_that_does_not_match_its_certificate_is_named_not_printed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cert = self_signed();
    let other = self_signed();
    std::fs::write(dir.path().join("cert.pem"), &cert.cert_pem).expect("cert");
    std::fs::write(dir.path().join("key.pem"), &other.key_pem).expect("key");
    let path = dir.path().join("gateway.toml");
    let schemas = crate::common::repo_path("tests/schemas-min")
        .display()
        .to_string();
    std::fs::write(
        &path,
        config("embedded", dir.path()).replace("{schemas}", &schemas),
    )
    .expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("[server] tls: TLS key file")
            && err.contains("does not belong to the certificate"),
        "{err}"
    );
    let key_body = other.key_pem.lines().nth(1).expect("key line");
    assert!(!err.contains(key_body), "the key must never be printed");

    std::fs::remove_file(dir.path().join("cert.pem")).expect("rm");
    let out = Command::new(env!("CARGO_BIN_EXE_hookgate"))
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("TLS certificate file") && err.contains("cert.pem"),
        "{err}"
    );
}
