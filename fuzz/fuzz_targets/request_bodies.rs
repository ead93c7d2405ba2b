//! Request intake (identity or gzip, with a cap on the inflated size) and body parsing (JSON,
//! form-encoded, a form field holding JSON) on arbitrary bytes: refusals, never panics, and
//! never more than the cap in memory. JSON bodies are also read by both JSON readers the
//! gateway uses (sonic-rs to parse, serde_json to embed the body as received): they must agree
//! on what is JSON. Each input runs on a thread with a runtime worker's stack, so a recursion
//! that would overflow a worker in the gateway overflows here too.
#![no_main]

use bytes::Bytes;
use hookgate::ingest::auth::Verifier;
use hookgate::ingest::auth::AuthConfig;
use hookgate::ingest::intake::{self, Limits};
use hookgate::ingest::payload;
use http::Request;
use http_body_util::Full;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    gzip: bool,
    form: bool,
    json_field: bool,
    body: &'a [u8],
}

/// The default body limit (`server.max_body_bytes`); `scripts/fuzz` lets inputs grow to it.
const CAP: usize = 1024 * 1024;

fuzz_target!(|input: Input<'_>| {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(hookgate::base::json::WORKER_STACK_BYTES)
            .spawn_scoped(scope, || run(&input))
            .expect("spawn a worker-sized thread");
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
});

fn run(input: &Input<'_>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let mut request = Request::post("/webhooks/s").header(
        "content-type",
        if input.form {
            "application/x-www-form-urlencoded"
        } else {
            "application/json"
        },
    );
    if input.gzip {
        request = request.header("content-encoding", "gzip");
    }
    let Ok(request) = request.body(Full::new(Bytes::copy_from_slice(input.body))) else {
        return;
    };
    let limits = Limits {
        max_body_bytes: CAP,
        body_timeout: std::time::Duration::from_secs(5),
    };
    let Ok(inbound) = runtime.block_on(intake::read(request, limits, None)) else {
        return;
    };
    assert!(inbound.body.len() <= CAP, "the inflated body exceeds the cap");
    let Ok(verifier) = Verifier::new(&AuthConfig::None, Vec::new(), None) else {
        return;
    };
    let Ok(verified) = verifier.verify_sync(inbound, 0) else {
        return;
    };
    if !input.form {
        let body = verified.inbound().body.trim_ascii();
        let sonic = hookgate::base::json::parse(body, hookgate::base::json::MAX_DEPTH_LIMIT).is_ok();
        // `Value`, not `IgnoredAny`: skipping a string does not check that it is UTF-8.
        // serde_json stops at 127 levels; the gateway at 100 (json::MAX_DEPTH_LIMIT).
        let serde = hookgate::base::json::check_depth(body, hookgate::base::json::MAX_DEPTH_LIMIT).is_ok()
            && serde_json::from_slice::<serde_json::Value>(body).is_ok();
        assert_eq!(sonic, serde, "the JSON readers disagree");
    }
    let field = input.json_field.then_some("payload");
    let _ = payload::parse(&verified, field, hookgate::base::json::MAX_DEPTH_LIMIT);
}
