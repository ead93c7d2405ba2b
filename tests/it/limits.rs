//! Backpressure and limits, black-box: slow-loris headers and bodies, gzip bodies and bombs,
//! per-source rate limits, the in-flight limit. Every refusal has its status and JSON code.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{github_signature, post, send, Broker, Gateway};

const SECRET: &str = "limits-secret";

fn config(bootstrap: &str) -> String {
    format!(
        r#"
[server]
header_read_timeout_ms = 500
body_read_timeout_ms = 500
max_in_flight = 1
[kafka]
brokers = "{bootstrap}"
[schemas]
dir = "{{schemas}}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
max_body_bytes = 65536
[sources.limited]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
rate_limit = {{ per_second = 1, burst = 2 }}
"#
    )
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).expect("write");
    e.finish().expect("finish")
}

/// Reads whatever the server sends until it closes the connection (or `limit` passes).
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn slow_clients_are_cut_off() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));

    // Slow-loris: headers that never finish are dropped after header_read_timeout.
    let mut stream = TcpStream::connect(gw.addr).expect("connect");
    stream
        .write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("write");
    let (_, waited) = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(
        waited < Duration::from_secs(5),
        "connection held for {waited:?}"
    );

    // A body that never finishes gets 408.
    let mut stream = TcpStream::connect(gw.addr).expect("connect");
    stream
        .write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .expect("write");
    let (answer, waited) = read_until_closed(&mut stream, Duration::from_secs(10));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"body_timeout\""), "{answer}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn gzip_bodies_are_accepted_and_bombs_refused() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));
    let body = r#"{"zen":"Keep it logically awesome.","hook_id":7}"#;
    let sig = github_signature(SECRET, body);
    let packed = gzip(body.as_bytes());
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
        ("x-github-event", "ping"),
        ("x-hub-signature-256", sig.as_str()),
    ];
    let answer = send(gw.addr, "POST", "/webhooks/gh", &headers, packed).await;
    assert_eq!(answer.status, 202, "{answer:?}");

    // 100 MB of spaces packs into ~100 KB; the source allows 64 KB.
    let bomb = gzip(&vec![b' '; 100 * 1024 * 1024]);
    let answer = send(gw.addr, "POST", "/webhooks/gh", &headers, bomb).await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (413, "body_too_large"),
        "{answer:?}"
    );

    let headers = [
        headers[0],
        ("content-encoding", "br"),
        headers[2],
        headers[3],
    ];
    let answer = send(
        gw.addr,
        "POST",
        "/webhooks/gh",
        &headers,
        body.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (415, "unsupported_content_encoding")
    );
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));
    let body = r#"{"zen":"z","hook_id":1}"#;
    let sig = github_signature(SECRET, body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "ping"),
        ("x-hub-signature-256", sig.as_str()),
    ];
    // Unauthenticated requests do not spend the source's quota.
    let forged = [headers[0], headers[1], ("x-hub-signature-256", "sha256=00")];
    for _ in 0..5 {
        assert_eq!(
            post(gw.addr, "/webhooks/limited", &forged, body)
                .await
                .status,
            401
        );
    }
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(gw.addr, "/webhooks/limited", &headers, body).await);
    }
    assert_eq!(statuses[0].status, 202, "{:?}", statuses[0]);
    assert_eq!(statuses[1].status, 202, "{:?}", statuses[1]);
    let limited = &statuses[2];
    assert_eq!(
        (limited.status, limited.code().as_str()),
        (429, "rate_limited"),
        "{limited:?}"
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("secs");
    assert!((1..=2).contains(&retry), "{retry}");
}

#[tokio::test]
async fn beyond_max_in_flight_answers_503() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&config(&broker.bootstrap));
    // One request in flight (its body is still arriving)...
    let mut stream = TcpStream::connect(gw.addr).expect("connect");
    stream
        .write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    std::thread::sleep(Duration::from_millis(100));
    // ...so the next one is refused at once.
    let answer = post(
        gw.addr,
        "/webhooks/gh",
        &[("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(
        (answer.status, answer.code().as_str()),
        (503, "overloaded"),
        "{answer:?}"
    );
    assert!(answer.headers.contains_key("retry-after"));
    drop(stream);
}

#[tokio::test]
async fn allow_lists_use_the_client_behind_trusted_proxies() {
    let broker = Broker::start();
    let gw = Gateway::in_process(&format!(
        r#"
[server]
client_ip_header = "X-Forwarded-For"
trusted_proxies = ["127.0.0.1/32"]
[kafka]
brokers = "{}"
[schemas]
dir = "{{schemas}}"
[sources.github-only]
provider = "github"
secrets = [{{ insecure_dev_value = "{SECRET}" }}]
allow_ips = ["192.30.252.0/22", "2a0a:a440::/29"]
"#,
        broker.bootstrap
    ));
    let body = r#"{"zen":"z","hook_id":2}"#;
    let sig = github_signature(SECRET, body);
    let from = |client: &'static str| {
        [
            ("content-type", "application/json"),
            ("x-github-event", "ping"),
            ("x-github-delivery", client),
            ("x-hub-signature-256", sig.as_str()),
            ("x-forwarded-for", client),
        ]
    };
    let refused = post(gw.addr, "/webhooks/github-only", &from("8.8.8.8"), body).await;
    assert_eq!(
        (refused.status, refused.code().as_str()),
        (403, "ip_not_allowed"),
        "{refused:?}"
    );
    let accepted = post(
        gw.addr,
        "/webhooks/github-only",
        &from("192.30.252.5"),
        body,
    )
    .await;
    assert_eq!(accepted.status, 202, "{accepted:?}");
    let records = crate::common::read_topic(
        &broker.bootstrap,
        "webhooks.github.ping",
        Duration::from_secs(30),
        |r| !r.is_empty(),
    );
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value["meta"]["client_ip"], "192.30.252.5");
    assert!(records[0].value["meta"]["remote_addr"]
        .as_str()
        .unwrap_or_default()
        .starts_with("127.0.0.1:"));
}
