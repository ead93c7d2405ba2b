//! Deep nesting, built on purpose: byte-level mutation rarely stacks up thousands of brackets,
//! so this target takes a small description (how deep, which openers, what sits inside, how it
//! closes, how it arrives) and builds bodies up to 200,000 levels and the default body limit.
//! Each runs through intake, parsing (JSON body or a form's JSON field) and, when parsed, the
//! conversions and drop, on a thread with a runtime worker's stack. Re-introducing a parser
//! without the depth check makes this target abort on its first inputs.
#![no_main]

use std::io::Write;

use bytes::Bytes;
use hookgate::ingest::auth::Verifier;
use hookgate::ingest::auth::AuthConfig;
use hookgate::ingest::intake::{self, Limits};
use hookgate::base::json::{MAX_DEPTH_LIMIT, WORKER_STACK_BYTES};
use hookgate::ingest::payload;
use http::Request;
use http_body_util::Full;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// The default body limit.
const CAP: usize = 1024 * 1024;

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    /// Scaled to 0..=200,000 levels.
    depth: u16,
    depth_scale: u8,
    /// Each byte picks the opener at one level, cycling: `[`, `{"k":`, `[1,`, `{"":[`.
    openers: &'a [u8],
    inner: &'a [u8],
    /// Close every level, none, or stop halfway.
    closing: u8,
    form: bool,
    gzip: bool,
    max_depth: u8,
}

const OPENERS: [(&str, &str); 4] = [("[", "]"), ("{\"k\":", "}"), ("[1,", "]"), ("{\"\":[", "]}")];

fn build(input: &Input<'_>) -> Vec<u8> {
    let depth = (usize::from(input.depth) * (usize::from(input.depth_scale % 4) + 1)).min(200_000);
    let mut open = Vec::new();
    let mut close = Vec::new();
    for level in 0..depth {
        let pick = input
            .openers
            .get(level % input.openers.len().max(1))
            .copied()
            .unwrap_or(0);
        let (o, c) = OPENERS[usize::from(pick) % OPENERS.len()];
        if open.len() + o.len() + close.len() + c.len() > CAP {
            break;
        }
        open.extend_from_slice(o.as_bytes());
        close.push(c);
    }
    let mut body = open;
    body.extend_from_slice(input.inner);
    let levels = match input.closing % 3 {
        0 => close.len(),
        1 => 0,
        _ => close.len() / 2,
    };
    for c in close.iter().rev().take(levels) {
        body.extend_from_slice(c.as_bytes());
    }
    body
}

fuzz_target!(|input: Input<'_>| {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(WORKER_STACK_BYTES)
            .spawn_scoped(scope, || run(&input))
            .expect("spawn a worker-sized thread");
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
});

fn run(input: &Input<'_>) {
    let json = build(input);
    let mut body = if input.form {
        let mut form = b"payload=".to_vec();
        form.extend(form_urlencoded::byte_serialize(&json).flat_map(str::bytes));
        form
    } else {
        json
    };
    if input.gzip {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if e.write_all(&body).is_err() {
            return;
        }
        let Ok(packed) = e.finish() else { return };
        body = packed;
    }
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
    let Ok(request) = request.body(Full::new(Bytes::from(body))) else {
        return;
    };
    let limits = Limits {
        max_body_bytes: CAP,
        body_timeout: std::time::Duration::from_secs(5),
    };
    let Ok(inbound) = runtime.block_on(intake::read(request, limits, None)) else {
        return;
    };
    let Ok(verifier) = Verifier::new(&AuthConfig::None, Vec::new(), None) else {
        return;
    };
    let Ok(verified) = verifier.verify_sync(inbound, 0) else {
        return;
    };
    let max_depth = usize::from(input.max_depth) % MAX_DEPTH_LIMIT + 1;
    let field = input.form.then_some("payload");
    if let Ok(parsed) = payload::parse(&verified, field, max_depth) {
        let value = hookgate::base::json::to_serde(&parsed.value);
        drop(hookgate::base::json::from_serde(&value));
    }
}
