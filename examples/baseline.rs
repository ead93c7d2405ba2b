//! A bare hyper server, the yardstick for `scripts/bench-load`: it answers every request
//! `202 {"id":…}` (the same shape and size as the gateway's answer) after reading and discarding
//! the request body, and does nothing else: no routing, no verification, no parsing, no Kafka.
//!
//! It uses the same HTTP stack as the gateway (tokio multi-thread runtime, hyper-util's auto
//! builder, one task per connection) and the same allocator (mimalloc), so the gateway's CPU per
//! request divided by this server's, measured in the same run, is the gateway's own work in
//! units of "a trivial HTTP exchange on this machine".
//!
//! Run: `cargo build --release --example baseline && target/release/examples/baseline
//! 127.0.0.1:0` (prints `listening on ADDR`).

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The answer: as long as the gateway's `{"id":"<UUIDv7>"}`.
const BODY: &[u8] = br#"{"id":"00000000-0000-7000-8000-000000000000"}"#;

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    // Read the whole body, frame by frame, keeping none of it.
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        if frame.is_err() {
            break;
        }
    }
    let mut response = Response::new(Full::new(Bytes::from_static(BODY)));
    *response.status_mut() = StatusCode::ACCEPTED;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        let local = listener.local_addr().expect("local address");
        println!("listening on {local}");
        let _ = std::io::stdout().flush();
        let builder = auto::Builder::new(TokioExecutor::new());
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(pair) => pair,
                Err(_) => {
                    // Out of file descriptors, usually: back off rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let builder = builder.clone();
            tokio::spawn(async move {
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
}
