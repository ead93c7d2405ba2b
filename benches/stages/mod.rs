//! The per-request stages of the gateway as benchmark cases, without sockets or Kafka. Shared by
//! `benches/pipeline.rs` (criterion: wall time) and `benches/stages_callgrind.rs` (instruction
//! counts under valgrind's callgrind, run by `scripts/bench-callgrind`), so both measure the
//! same work on the same inputs.
//!
//! A case is `setup` (makes one input, not measured) and `routine` (the measured work, taking
//! that input); the routine's output is dropped outside the measurement. Case ids are
//! `group/function[/size]`, e.g. `signature/github_hmac_sha256_hex/1KB`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use hmac::Mac;
use hookgate::base::secret::Secret;
use hookgate::delivery::publish::Record;
use hookgate::delivery::topic::TopicTemplate;
use hookgate::ingest::access;
use hookgate::ingest::auth::AuthConfig;
use hookgate::ingest::auth::{Verified, Verifier};
use hookgate::ingest::dedup::{Check, Dedup};
use hookgate::ingest::envelope::{self, Context, RecordFormat};
use hookgate::ingest::event::Identified;
use hookgate::ingest::intake::Inbound;
use hookgate::ingest::payload::{self, Payload};
use hookgate::ingest::pipeline::{self, Origin, Prepared};
use hookgate::ingest::schema::MissingSchema;
use hookgate::ingest::schema::SchemaRegistry;
use hookgate::ingest::source::Source;
use hookgate::providers as provider;
use hookgate::providers::build::{SourceConfig, SourceDefaults};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use rdkafka::producer::FutureRecord;
use time::OffsetDateTime;
use uuid::Uuid;

/// The shared secret of every HMAC and API-key case.
pub const SECRET: &str = "bench-secret";
/// The receive time of every signed case (Unix seconds); signatures are made for it.
pub const NOW: i64 = 1_800_000_000;
const REMOTE: &str = "127.0.0.1:4000";
const DELIVERY_ID: &str = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

/// Receives each case; `wants` lets a runner skip the setup of cases it will not run.
pub trait Visitor {
    fn wants(&self, _group: &str, _function: &str, _size: Option<&str>) -> bool {
        true
    }

    /// `bytes`: the request body the case works on, for throughput figures.
    fn case<I, O>(
        &mut self,
        group: &str,
        function: &str,
        size: Option<&str>,
        bytes: Option<usize>,
        setup: impl FnMut() -> I,
        routine: impl FnMut(I) -> O,
    );
}

/// `group/function[/size]`.
#[allow(dead_code)] // stages_callgrind's
pub fn case_id(group: &str, function: &str, size: Option<&str>) -> String {
    match size {
        Some(size) => format!("{group}/{function}/{size}"),
        None => format!("{group}/{function}"),
    }
}

/// The body sizes of the size-dependent cases: a GitHub push with as many commits as it takes.
pub const SIZES: [(&str, usize); 2] = [("1KB", 1024), ("64KB", 64 * 1024)];

/// A signed request for one verification scheme.
struct Scheme {
    name: &'static str,
    verifier: Verifier,
    headers: HeaderMap,
    body: Bytes,
    /// The body size label (`1KB`, `64KB`).
    size: &'static str,
}

/// A GitHub push body, its request, and the request already verified (for the later stages).
struct Push {
    size: &'static str,
    headers: HeaderMap,
    body: Bytes,
    verified: Verified,
}

/// Everything the cases need, built once.
pub struct Fixtures {
    schemas: OnceLock<SchemaRegistry>,
    /// `github` preset, envelope records, default topic template.
    github: Source,
    /// The same with a per-event topic for `push`.
    github_override: Source,
    dedup: Dedup,
    client_ip: access::ClientIpRule,
    pushes: Vec<Push>,
    /// GitHub's form mode: `payload=<JSON>`, 1 KB of JSON.
    form: Push,
    schemes: Vec<Scheme>,
    remote: SocketAddr,
}

impl Default for Fixtures {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixtures {
    pub fn new() -> Self {
        let github = github_source("github", "");
        let github_override = github_source("github", "[topics]\npush = \"git.pushes.{source}\"\n");
        let remote: SocketAddr = REMOTE.parse().expect("addr");
        let verify = |headers: &HeaderMap, body: &Bytes| {
            github
                .verifier
                .verify_sync(
                    Inbound::new(headers.clone(), body.clone(), Some(remote)),
                    NOW,
                )
                .expect("verified")
        };
        let pushes = SIZES
            .iter()
            .map(|(size, target)| {
                let body = Bytes::from(push_body(*target));
                let headers = github_headers(&body, "application/json");
                let verified = verify(&headers, &body);
                Push {
                    size,
                    headers,
                    body,
                    verified,
                }
            })
            .collect();
        let form_body = Bytes::from(format!(
            "payload={}",
            form_urlencoded::byte_serialize(push_body(1024).as_bytes()).collect::<String>()
        ));
        let form_headers = github_headers(&form_body, "application/x-www-form-urlencoded");
        let form = Push {
            size: "1KB",
            verified: verify(&form_headers, &form_body),
            headers: form_headers,
            body: form_body,
        };
        Fixtures {
            schemas: OnceLock::new(),
            github,
            github_override,
            dedup: Dedup::open(86_400, 100_000, None, NOW * 1000).expect("dedup"),
            client_ip: access::ClientIpRule::default(),
            pushes,
            form,
            schemes: schemes(),
            remote,
        }
    }

    /// The shipped `schemas/` directory, compiled on first use.
    fn schemas(&self) -> &SchemaRegistry {
        self.schemas.get_or_init(|| {
            SchemaRegistry::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas"))
                .expect("schemas")
        })
    }

    /// What identification finds in a push (done here once for the later stages).
    fn identified<'a>(&self, push: &'a Push) -> (Payload<'a>, Identified) {
        let parsed = payload::parse(&push.verified, None, DEPTH).expect("parsed");
        let event = self
            .github
            .event
            .identify(&push.headers, &parsed.value)
            .expect("identified");
        (parsed, event)
    }

    fn inbound(&self, headers: &HeaderMap, body: &Bytes) -> Inbound {
        Inbound::new(headers.clone(), body.clone(), Some(self.remote))
    }
}

/// Every case, in report order.
pub fn visit<V: Visitor>(fx: &Fixtures, v: &mut V) {
    signature(fx, v);
    parse(fx, v);
    identify(fx, v);
    schema(fx, v);
    envelope_cases(fx, v);
    route(fx, v);
    pipeline(fx, v);
}

/// `signature`: `Verifier::verify` per scheme (a fresh `Inbound` per call is setup).
fn signature<V: Visitor>(fx: &Fixtures, v: &mut V) {
    for s in &fx.schemes {
        v.case(
            "signature",
            s.name,
            Some(s.size),
            Some(s.body.len()),
            || fx.inbound(&s.headers, &s.body),
            |inbound| s.verifier.verify_sync(inbound, NOW).expect("verified"),
        );
    }
}

/// `parse`: `payload::parse` of a verified JSON body, and of GitHub's form mode.
fn parse<V: Visitor>(fx: &Fixtures, v: &mut V) {
    for p in &fx.pushes {
        v.case(
            "parse",
            "json",
            Some(p.size),
            Some(p.body.len()),
            || (),
            |()| payload::parse(&p.verified, None, DEPTH).expect("parsed"),
        );
    }
    let p = &fx.form;
    v.case(
        "parse",
        "github_form_payload",
        Some(p.size),
        Some(p.body.len()),
        || (),
        |()| payload::parse(&p.verified, Some("payload"), DEPTH).expect("parsed"),
    );
}

/// `identify`: the event type and delivery id (GitHub: headers), and the dedup reservation.
fn identify<V: Visitor>(fx: &Fixtures, v: &mut V) {
    let p = &fx.pushes[0];
    if v.wants("identify", "github_headers", None) {
        let parsed = payload::parse(&p.verified, None, DEPTH).expect("parsed");
        v.case(
            "identify",
            "github_headers",
            None,
            None,
            || (),
            |()| {
                fx.github
                    .event
                    .identify(&p.headers, &parsed.value)
                    .expect("identified")
            },
        );
    }
    // In memory, no journal; the reservation is released, as after a failed delivery, so every
    // call finds the delivery new.
    v.case(
        "identify",
        "dedup_check",
        None,
        None,
        || (),
        |()| match fx.dedup.check("github", DELIVERY_ID, NOW * 1000) {
            Check::New(guard) => drop(guard),
            other => panic!("{other:?}"),
        },
    );
}

/// `schema`: `SchemaRegistry::check` of a push against the shipped `github/push.json`.
fn schema<V: Visitor>(fx: &Fixtures, v: &mut V) {
    for p in &fx.pushes {
        if !v.wants("schema", "github_push", Some(p.size)) {
            continue;
        }
        let parsed = payload::parse(&p.verified, None, DEPTH).expect("parsed");
        let schemas = fx.schemas();
        v.case(
            "schema",
            "github_push",
            Some(p.size),
            Some(p.body.len()),
            || (),
            |()| {
                schemas
                    .check("github", "push", &parsed.value, MissingSchema::Reject)
                    .expect("valid")
                    .expect("a schema")
            },
        );
    }
}

/// `envelope`: `envelope::build` + `envelope::serialize`, as the envelope and as a CloudEvent.
fn envelope_cases<V: Visitor>(fx: &Fixtures, v: &mut V) {
    let received_at = OffsetDateTime::from_unix_timestamp(NOW).expect("time");
    let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    for p in &fx.pushes {
        for (function, format) in [
            ("envelope", RecordFormat::Envelope),
            ("cloudevents", RecordFormat::CloudEvents),
        ] {
            if !v.wants("envelope", function, Some(p.size)) {
                continue;
            }
            let (parsed, event) = fx.identified(p);
            let verification = p.verified.verification();
            v.case(
                "envelope",
                function,
                Some(p.size),
                Some(p.body.len()),
                || (),
                |()| {
                    let env = envelope::build(
                        Context {
                            id,
                            received_at,
                            source: "github",
                            provider: "github",
                            content_type: parsed.content_type.as_deref(),
                            remote_addr: Some(fx.remote),
                            client_ip: Some(fx.remote.ip()),
                            verified: verification,
                            schema: Some("github/push.json"),
                        },
                        &event,
                        &parsed.raw,
                    );
                    envelope::serialize(&env, format, "/webhooks/github").expect("json")
                },
            );
        }
    }
}

/// `route`: the topic (template rendered, or a per-event override), and the whole Kafka
/// record: topic, key, the CloudEvents headers and the `FutureRecord`.
fn route<V: Visitor>(fx: &Fixtures, v: &mut V) {
    v.case(
        "route",
        "topic_template",
        None,
        None,
        || (),
        |()| fx.github.topics.route("push", budget()),
    );
    v.case(
        "route",
        "topic_per_event",
        None,
        None,
        || (),
        |()| fx.github_override.topics.route("push", budget()),
    );
    if !v.wants("route", "kafka_record", None) {
        return;
    }
    let p = &fx.pushes[0];
    let (parsed, event) = fx.identified(p);
    let id = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);
    let prepared = prepare(fx, &fx.github, p, &parsed, &event, id);
    let source = &fx.github;
    v.case(
        "route",
        "kafka_record",
        None,
        None,
        || (),
        |()| {
            let topic = source.topics.route(&event.event_type, budget()).topic;
            let key = event.delivery_id.clone().unwrap_or_else(|| id.to_string());
            let id_text = id.to_string();
            let record = Record {
                topic: &topic,
                key: &key,
                value: &prepared.value,
                ce_id: &id_text,
                ce_source: &source.ce_source,
                ce_type: &prepared.event_type,
                ce_time: &prepared.event_time,
                content_type: prepared.content_type,
            };
            kafka_record(&record);
        },
    );
}

/// `pipeline`: one GitHub push from a read request to the Kafka record, in the order of
/// `ingest::pipeline`: client address and allow-list, verify, parse, handshake, identify,
/// event-type rule, dedup, then `pipeline::prepare` (schema, envelope, topic, key) and the
/// record with its headers. Not included: reading the socket (`intake::read`), the rate
/// limiter (none configured), publishing, and the HTTP answer.
fn pipeline<V: Visitor>(fx: &Fixtures, v: &mut V) {
    for p in &fx.pushes {
        if !v.wants("pipeline", "github_push", Some(p.size)) {
            continue;
        }
        let schemas = fx.schemas();
        v.case(
            "pipeline",
            "github_push",
            Some(p.size),
            Some(p.body.len()),
            || fx.inbound(&p.headers, &p.body),
            |inbound| webhook_once(fx, schemas, &fx.github, inbound),
        );
    }
}

fn webhook_once(
    fx: &Fixtures,
    schemas: &SchemaRegistry,
    source: &Source,
    inbound: Inbound,
) -> Prepared {
    let received_at = OffsetDateTime::now_utc();
    let now_ms = i64::try_from(received_at.unix_timestamp_nanos() / 1_000_000).expect("ms");
    let remote = inbound.remote_addr;
    let client_ip = remote.map(|peer| fx.client_ip.client_ip(peer.ip(), &inbound.headers));
    if let Some(ip) = client_ip {
        source.allow_ips.check(ip).expect("allowed");
    }
    let verified = source
        .verifier
        .verify_sync(inbound, received_at.unix_timestamp())
        .expect("verified");
    let parsed = payload::parse(
        &verified,
        source.form_json_field.as_deref(),
        source.max_json_depth,
    )
    .expect("parsed");
    if let Some(h) = &source.handshake {
        let answer = h.answer(&verified.inbound().headers, &parsed.value);
        assert!(answer.expect("answered").is_none(), "not a handshake");
    }
    let event = source
        .event
        .identify(&verified.inbound().headers, &parsed.value)
        .expect("identified");
    source.check_event_type(&event.event_type).expect("allowed");
    let guard = match &event.delivery_id {
        Some(delivery_id) => match fx.dedup.check(&source.name, delivery_id, now_ms) {
            Check::New(guard) => Some(guard),
            other => panic!("{other:?}"),
        },
        None => None,
    };
    let id = Uuid::now_v7();
    let prepared = pipeline::prepare(
        schemas,
        budget(),
        source,
        &parsed,
        &event,
        Origin {
            id,
            received_at,
            remote_addr: remote,
            client_ip,
            verified: verified.verification(),
        },
    )
    .expect("prepared");
    let id_text = id.to_string();
    kafka_record(&prepared.record(&id_text, &source.ce_source));
    // Released, not committed, so the next iteration is a new delivery again.
    drop(guard);
    prepared
}

fn prepare(
    fx: &Fixtures,
    source: &Source,
    push: &Push,
    parsed: &Payload<'_>,
    event: &Identified,
    id: Uuid,
) -> Prepared {
    pipeline::prepare(
        fx.schemas(),
        budget(),
        source,
        parsed,
        event,
        Origin {
            id,
            received_at: OffsetDateTime::from_unix_timestamp(NOW).expect("time"),
            remote_addr: Some(fx.remote),
            client_ip: Some(fx.remote.ip()),
            verified: push.verified.verification(),
        },
    )
    .expect("prepared")
}

/// The record as the publisher hands it to librdkafka: the CloudEvents Kafka-binding headers
/// (`Record::headers`, the publisher's own) and the `FutureRecord`, minus the send.
fn kafka_record(record: &Record<'_>) {
    let fr = FutureRecord::to(record.topic)
        .key(record.key)
        .payload(record.value)
        .headers(record.headers());
    std::hint::black_box(&fr);
}

// ---------------------------------------------------------------------------------------------
// Inputs.
// ---------------------------------------------------------------------------------------------

/// The gateway's bound on event-type topics, as `Gateway` holds it.
fn budget() -> &'static hookgate::delivery::topic::TopicBudget {
    static BUDGET: std::sync::LazyLock<hookgate::delivery::topic::TopicBudget> =
        std::sync::LazyLock::new(|| hookgate::delivery::topic::TopicBudget::new(1_000));
    &BUDGET
}

/// The default nesting limit, as a source without `max_json_depth` has.
const DEPTH: usize = hookgate::base::json::DEFAULT_MAX_DEPTH;

fn github_source(name: &str, extra: &str) -> Source {
    let raw: SourceConfig =
        toml::from_str(&format!("provider = \"github\"\n{extra}")).expect("source config");
    let defaults = SourceDefaults {
        fetcher: hookgate::ingest::fetch::Fetcher::default_shared(),
        topic: TopicTemplate::parse("webhooks.{provider}.{event_type}").expect("template"),
        dead_letter_topic: "webhooks.dead-letter".to_owned(),
        max_body_bytes: 1 << 20,
        max_json_depth: DEPTH,
        max_topics_per_source: 100,
        body_timeout: Duration::from_secs(10),
    };
    hookgate::providers::build::build_source(
        name,
        raw,
        secrets(SECRET),
        None,
        &defaults,
        &mut Vec::new(),
    )
    .expect("source")
}

fn secrets(secret: &str) -> Vec<Secret> {
    vec![Secret::new(secret.as_bytes().to_vec())]
}

/// A GitHub push with enough commits for its body to reach `target` bytes.
pub fn push_body(target: usize) -> String {
    let commit = r#"{"id":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","tree_id":"f9d2a07e9488b91af2641b26b9407fe22a451433","distinct":true,"message":"Update README.md with a reasonably long commit message","timestamp":"2026-11-23T12:00:00Z","author":{"name":"Octo Cat","email":"octo@example.com","username":"octocat"},"added":[],"removed":[],"modified":["README.md"]}"#;
    let mut commits = Vec::new();
    loop {
        let body = format!(
            r#"{{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5","created":false,"deleted":false,"forced":false,"repository":{{"id":35129377,"name":"hello-world","full_name":"octo-org/hello-world","private":false,"owner":{{"login":"octo-org","id":6811672}}}},"pusher":{{"name":"octocat","email":"octo@example.com"}},"sender":{{"login":"octocat","id":583231}},"commits":[{}]}}"#,
            commits.join(",")
        );
        if body.len() >= target {
            return body;
        }
        commits.push(commit);
    }
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    map
}

fn github_headers(body: &[u8], content_type: &str) -> HeaderMap {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    header_map(&[
        ("content-type".into(), content_type.into()),
        ("x-github-event".into(), "push".into()),
        ("x-github-delivery".into(), DELIVERY_ID.into()),
        (
            "x-hub-signature-256".into(),
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        ),
    ])
}

/// `make(pad)` with `pad` as long as it takes for the result to reach `target` bytes.
fn padded(target: usize, make: impl Fn(&str) -> String) -> String {
    let short = make("").len();
    make(&"x".repeat(target.saturating_sub(short)))
}

fn preset_auth(name: &str) -> AuthConfig {
    provider::preset(name)
        .and_then(|p| p.auth)
        .expect("preset signs")
}

/// A scheme whose `Verifier::sign` makes the headers (HMAC and API keys).
fn signed(
    name: &'static str,
    auth: &AuthConfig,
    secret: &str,
    public_url: Option<&str>,
    body: &[u8],
    content_type: &str,
) -> Scheme {
    let verifier = Verifier::new(auth, secrets(secret), public_url).expect("verifier");
    let mut pairs = verifier.sign(body, NOW, &[]).expect("sign");
    pairs.push(("content-type".into(), content_type.into()));
    Scheme {
        name,
        verifier,
        headers: header_map(&pairs),
        body: Bytes::copy_from_slice(body),
        size: "1KB",
    }
}

/// One case per verification scheme the gateway has, each on a body of about 1 KB (GitHub's
/// also on 64 KB).
fn schemes() -> Vec<Scheme> {
    let json = push_body(1024);
    let body = json.as_bytes();
    let b64 = base64::engine::general_purpose::STANDARD;
    let ct = "application/json";
    let mut out = vec![
        signed(
            "github_hmac_sha256_hex",
            &preset_auth("github"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed(
            "github_sha1_hmac_sha1_hex",
            &preset_auth("github-sha1"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed(
            "paystack_hmac_sha512_hex",
            &preset_auth("paystack"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed(
            "stripe_timestamped_fields",
            &preset_auth("stripe"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed(
            "standard_webhooks_base64",
            &preset_auth("standard-webhooks"),
            &format!("whsec_{}", b64.encode(SECRET)),
            None,
            body,
            ct,
        ),
        signed(
            "shopify_base64_body",
            &preset_auth("shopify"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed("slack_v0", &preset_auth("slack"), SECRET, None, body, ct),
        signed(
            "hubspot_v3_method_url_ms",
            &preset_auth("hubspot"),
            SECRET,
            Some("https://hooks.example.com/webhooks/hubspot"),
            body,
            ct,
        ),
        signed(
            "linear_body_timestamp",
            &preset_auth("linear"),
            SECRET,
            None,
            json.replacen('{', &format!("{{\"webhookTimestamp\":{},", NOW * 1000), 1)
                .as_bytes(),
            ct,
        ),
        signed(
            "twilio_url_form_params_sha1",
            &preset_auth("twilio"),
            SECRET,
            Some("https://hooks.example.com/webhooks/twilio"),
            twilio_form(1024).as_bytes(),
            "application/x-www-form-urlencoded",
        ),
        signed(
            "gitlab_api_key_header",
            &preset_auth("gitlab"),
            SECRET,
            None,
            body,
            ct,
        ),
        signed(
            "api_key_bearer",
            &AuthConfig::ApiKey { header: None },
            SECRET,
            None,
            body,
            ct,
        ),
        discord_ed25519(body),
        sendgrid_ecdsa_p256(body),
        adyen(),
        mailgun(),
    ];
    let mut large = signed(
        "github_hmac_sha256_hex",
        &preset_auth("github"),
        SECRET,
        None,
        push_body(64 * 1024).as_bytes(),
        ct,
    );
    large.size = "64KB";
    out.insert(1, large);
    out
}

fn twilio_form(target: usize) -> String {
    padded(target, |pad| {
        format!(
            "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01&Body=Hello+{pad}\
             &From=%2B14155550100&MessageSid=SM0123456789abcdef0123456789abcdef\
             &MessageStatus=delivered&NumMedia=0&SmsStatus=delivered&To=%2B14155550199"
        )
    })
}

/// Discord's preset: Ed25519 over `{timestamp}{body}`, hex signature, hex public key.
fn discord_ed25519(body: &[u8]) -> Scheme {
    use ed25519_dalek::Signer as _;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let ts = NOW.to_string();
    let signature = key.sign(&[ts.as_bytes(), body].concat());
    let public = hex::encode(key.verifying_key().to_bytes());
    Scheme {
        name: "discord_ed25519_hex",
        verifier: Verifier::new(&preset_auth("discord"), secrets(&public), None).expect("verifier"),
        headers: header_map(&[
            ("content-type".into(), "application/json".into()),
            ("x-signature-timestamp".into(), ts),
            (
                "x-signature-ed25519".into(),
                hex::encode(signature.to_bytes()),
            ),
        ]),
        body: Bytes::copy_from_slice(body),
        size: "1KB",
    }
}

/// SendGrid's preset: ECDSA P-256 / SHA-256 over `{timestamp}{body}`, base64 DER signature,
/// base64 DER public key.
fn sendgrid_ecdsa_p256(body: &[u8]) -> Scheme {
    use p256::ecdsa::signature::Signer as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("key");
    let ts = NOW.to_string();
    let signature: p256::ecdsa::Signature = key.sign(&[ts.as_bytes(), body].concat());
    // DER SubjectPublicKeyInfo: the fixed header of an uncompressed P-256 key, then the point.
    let mut public =
        hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").expect("hex");
    public.extend_from_slice(key.verifying_key().to_encoded_point(false).as_bytes());
    Scheme {
        name: "sendgrid_ecdsa_p256",
        verifier: Verifier::new(
            &preset_auth("sendgrid"),
            secrets(&b64.encode(&public)),
            None,
        )
        .expect("verifier"),
        headers: header_map(&[
            ("content-type".into(), "application/json".into()),
            ("x-twilio-email-event-webhook-timestamp".into(), ts),
            (
                "x-twilio-email-event-webhook-signature".into(),
                b64.encode(signature.to_der().as_bytes()),
            ),
        ]),
        body: Bytes::copy_from_slice(body),
        size: "1KB",
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("key");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// Adyen's preset: an HMAC (hex key) per notification item inside the JSON body.
fn adyen() -> Scheme {
    let key_hex = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056";
    let signing =
        "7914073381342284::TestMerchant:TestPayment-1407325143704:1130:EUR:AUTHORISATION:true";
    let signature = base64::engine::general_purpose::STANDARD.encode(hmac_sha256(
        &hex::decode(key_hex).expect("hex"),
        signing.as_bytes(),
    ));
    let body = padded(1024, |pad| {
        format!(
            r#"{{"live":"false","notificationItems":[{{"NotificationRequestItem":{{"pspReference":"7914073381342284","merchantReference":"TestPayment-1407325143704","merchantAccountCode":"TestMerchant","amount":{{"value":1130,"currency":"EUR"}},"eventCode":"AUTHORISATION","success":"true","eventDate":"2026-11-23T12:00:00+01:00","paymentMethod":"visa","operations":["CANCEL","CAPTURE","REFUND"],"reason":"{pad}","additionalData":{{"hmacSignature":"{signature}","authCode":"058705","cardSummary":"0008","expiryDate":"03/2030"}}}}}}]}}"#
        )
    });
    Scheme {
        name: "adyen_body_hmac",
        verifier: Verifier::new(&AuthConfig::AdyenHmac, secrets(key_hex), None).expect("verifier"),
        headers: header_map(&[("content-type".into(), "application/json".into())]),
        body: Bytes::from(body),
        size: "1KB",
    }
}

/// Mailgun's preset: `signature {timestamp, token, signature}` inside the JSON body.
fn mailgun() -> Scheme {
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef01";
    let signature = hex::encode(hmac_sha256(
        SECRET.as_bytes(),
        format!("{NOW}{token}").as_bytes(),
    ));
    let body = padded(1024, |pad| {
        format!(
            r#"{{"signature":{{"timestamp":"{NOW}","token":"{token}","signature":"{signature}"}},"event-data":{{"event":"delivered","timestamp":{NOW}.5,"id":"CPgfbmQMTCKtHW6uIWtuVe","recipient":"alice@example.com","message":{{"headers":{{"to":"Alice <alice@example.com>","message-id":"20260101000000.1.2@example.com","from":"Bob <bob@example.com>","subject":"{pad}"}}}}}}}}"#
        )
    });
    Scheme {
        name: "mailgun_body_hmac",
        verifier: Verifier::new(&AuthConfig::Mailgun, secrets(SECRET), None).expect("verifier"),
        headers: header_map(&[("content-type".into(), "application/json".into())]),
        body: Bytes::from(body),
        size: "1KB",
    }
}
