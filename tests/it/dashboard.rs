//! The Grafana dashboard (`config/grafana/hookgate.json`) and the Prometheus alert rules
//! (`config/prometheus/hookgate-alerts.yml`) against what the real binary exports: every
//! `hookgate_` metric they query is a family on `GET /metrics`, every family the gateway
//! exports is on the dashboard, and the outcome codes they select are the gateway's.
//!
//! The gateway runs with HTTPS, a spool, an admin listener and a broker that goes away for a
//! moment, and is sent accepted, forged, duplicate and invalid deliveries, a SIGHUP and a
//! certificate renewal, so that every family (labelled families appear only once used) is in
//! the scrape. The alert rules themselves are unit-tested by `scripts/check-alerts` (promtool).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{exchange, github_signature, repo_path, send, Answer, Gateway};
use bytes::Bytes;
use rdkafka::mocking::MockCluster;
use rustls::pki_types::{CertificateDer, ServerName};

const DASHBOARD: &str = "config/grafana/hookgate.json";
const ALERTS: &str = "config/prometheus/hookgate-alerts.yml";

const GITHUB_SECRET: &str = "dashboard-github-secret";
const ADMIN_KEY: &str = "dashboard-admin-key-0123456789";
const STORE_KEY: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

/// `outcome` codes of a failed signature, credential or timestamp check (`AuthError::code`).
const SIGNATURE_FAILURES: &[&str] = &[
    "invalid_signature",
    "missing_signature",
    "malformed_signature",
    "invalid_credentials",
    "missing_credentials",
    "stale_timestamp",
    "future_timestamp",
    "missing_timestamp",
    "malformed_timestamp",
    "missing_signed_header",
];

/// `outcome` codes answered with a 5xx status (`WebhookError::status`: all 503).
const SERVER_ERRORS: &[&str] = &[
    "overloaded",
    "duplicate_in_flight",
    "dedup_unavailable",
    "broker_unavailable",
    "topic_unavailable",
    "spool_full",
    "spool_unavailable",
];

/// What an operator must find on the dashboard: a topic and the metric family it needs.
const TOPICS: &[(&str, &str)] = &[
    (
        "request rate by source and outcome",
        "hookgate_webhooks_total",
    ),
    ("answer latency", "hookgate_webhook_duration_seconds"),
    ("requests in flight", "hookgate_http_requests_in_flight"),
    (
        "Kafka delivery latency",
        "hookgate_kafka_delivery_duration_seconds",
    ),
    (
        "Kafka delivery errors",
        "hookgate_kafka_delivery_errors_total",
    ),
    ("broker reachability", "hookgate_kafka_up"),
    (
        "Redis (shared dedup) reachability",
        "hookgate_dedup_backend_up",
    ),
    ("readiness", "hookgate_ready"),
    ("dead letters", "hookgate_dead_letters_total"),
    ("spool depth", "hookgate_spool_records"),
    ("spool size", "hookgate_spool_bytes"),
    ("spool age", "hookgate_spool_oldest_age_seconds"),
    ("spool drain rate", "hookgate_spool_drained_total"),
    ("config reloads", "hookgate_config_reloads_total"),
    ("admin changes", "hookgate_admin_changes_total"),
    ("TLS reloads", "hookgate_tls_reloads_total"),
    (
        "TLS handshake errors",
        "hookgate_tls_handshake_errors_total",
    ),
];

/// The alerts operators are promised, each with the metric family it watches.
const REQUIRED_ALERTS: &[(&str, &str)] = &[
    ("HookgateDown", r#"up{job="hookgate"}"#),
    ("HookgateNotReady", "hookgate_ready"),
    ("HookgateBrokerUnreachable", "hookgate_kafka_up"),
    ("HookgateSpoolGrowing", "hookgate_spool_records"),
    ("HookgateSpoolOld", "hookgate_spool_oldest_age_seconds"),
    ("HookgateSignatureFailureSpike", "hookgate_webhooks_total"),
    ("HookgateDeadLetterSpike", "hookgate_dead_letters_total"),
    ("HookgateHigh5xxRate", "hookgate_webhooks_total"),
];

fn config(certs: &Path, spool: &Path, store: &Path, bootstrap: &str) -> String {
    format!(
        r#"
[server.tls]
cert_file = "{certs}/cert.pem"
key_file = "{certs}/key.pem"
reload_interval_secs = 1

[kafka]
brokers = "{bootstrap}"
create_topics = false
delivery_timeout_ms = 1000

[schemas]
dir = "{{schemas}}"

[spool]
dir = "{spool}"

[admin]
listen = "127.0.0.1:0"
keys = [{{ name = "ops", secret = {{ insecure_dev_value = "{ADMIN_KEY}" }}, scopes = ["webhooks:read", "webhooks:write"] }}]
store = {{ path = "{store}", encryption_key = {{ insecure_dev_value = "{STORE_KEY}" }} }}

[sources.github]
provider = "github"
secrets = [{{ insecure_dev_value = "{GITHUB_SECRET}" }}]

[sources.payments]
provider = "recurring-payments"
secrets = [{{ insecure_dev_value = "payments-api-key" }}]
auth = {{ type = "api_key" }}
event_type = {{ pointer = "/event" }}
"#,
        certs = certs.display(),
        spool = spool.display(),
        store = store.display(),
    )
}

/// An HTTPS client trusting only the gateway's self-signed certificate.
struct Client {
    addr: SocketAddr,
    tls: tokio_rustls::TlsConnector,
}

impl Client {
    fn new(addr: SocketAddr, root: &CertificateDer<'static>) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(root.clone()).expect("root certificate");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        Client {
            addr,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
        }
    }

    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let tcp = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let stream = self
            .tls
            .connect(ServerName::try_from("localhost").expect("name"), tcp)
            .await
            .expect("TLS handshake");
        exchange(
            stream,
            "localhost",
            method,
            path,
            headers,
            Bytes::copy_from_slice(body.as_bytes()),
        )
        .await
    }

    async fn github(&self, delivery: &str, body: &str, secret: &str) -> Answer {
        let signature = github_signature(secret, body);
        let headers = [
            ("content-type", "application/json"),
            ("x-github-event", "push"),
            ("x-github-delivery", delivery),
            ("x-hub-signature-256", signature.as_str()),
        ];
        self.request("POST", "/webhooks/github", &headers, body)
            .await
    }

    async fn scrape(&self) -> String {
        let reply = self.request("GET", "/metrics", &[], "").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body
    }

    /// Scrapes until `line_start` begins a sample line (a labelled family appears once used).
    async fn wait_for_sample(&self, line_start: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.scrape().await;
            if text.lines().any(|l| l.starts_with(line_start)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: no `{line_start}` in\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn push_body(reference: &str) -> String {
    format!(
        r#"{{"ref":"{reference}","before":"{}","after":"{}","repository":{{"id":42,"full_name":"acme/app"}}}}"#,
        "a".repeat(40),
        "b".repeat(40)
    )
}

/// Metric families and their types, from the `# TYPE` lines of a scrape.
fn families(scrape: &str) -> BTreeMap<String, String> {
    scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

/// Every `hookgate_…` identifier in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("hookgate_") {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at..];
        let end = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
        if !before.is_some_and(is_ident) {
            names.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    names
}

/// The exported family a queried name belongs to: itself, or a histogram's (or summary's)
/// `_bucket`, `_sum` or `_count` series.
fn family_of(name: &str, families: &BTreeMap<String, String>) -> Option<String> {
    if families.contains_key(name) {
        return Some(name.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = name.strip_suffix(suffix)?;
        matches!(families.get(base)?.as_str(), "histogram" | "summary").then(|| base.to_owned())
    })
}

/// The alternatives of every `outcome=~"a|b|…"` matcher in `expr`.
fn outcome_sets(expr: &str) -> Vec<BTreeSet<String>> {
    expr.split("outcome=~\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|alternatives| alternatives.split('|').map(str::to_owned).collect())
        .collect()
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| (*c).to_owned()).collect()
}

/// A panel as the checks need it: where it is, what it is, and its queries.
struct Panel {
    title: String,
    kind: String,
    json: serde_json::Value,
    exprs: Vec<String>,
}

/// Every panel, including those nested in (collapsed) rows.
fn panels(list: &serde_json::Value, into: &mut Vec<Panel>) {
    for panel in list.as_array().into_iter().flatten() {
        let exprs = panel["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t["expr"].as_str().map(str::to_owned))
            .collect();
        into.push(Panel {
            title: panel["title"].as_str().unwrap_or_default().to_owned(),
            kind: panel["type"].as_str().unwrap_or_default().to_owned(),
            json: panel.clone(),
            exprs,
        });
        panels(&panel["panels"], into);
    }
}

/// One alerting rule as read from the rules file, by lines (the file is plain block YAML and
/// there is no YAML parser among the dependencies): its `expr` (one line, or a `>-` / `|`
/// block) and the other keys it sets.
#[derive(Default, Debug)]
struct Rule {
    name: String,
    expr: String,
    keys: BTreeMap<String, String>,
}

fn alert_rules(text: &str) -> Vec<Rule> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = text.lines().collect();
    let mut rules: Vec<Rule> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        i += 1;
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix("- alert:") {
            rules.push(Rule {
                name: name.trim().to_owned(),
                ..Rule::default()
            });
            continue;
        }
        let Some(rule) = rules.last_mut() else {
            continue;
        };
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if key == "expr" {
            if matches!(value, ">" | ">-" | "|" | "|-") {
                let mut block = Vec::new();
                while i < lines.len()
                    && (lines[i].trim().is_empty() || indent(lines[i]) > indent(line))
                {
                    block.push(lines[i].trim());
                    i += 1;
                }
                rule.expr = block.join(" ");
            } else {
                rule.expr = value.to_owned();
            }
        } else {
            rule.keys.insert(key.to_owned(), value.to_owned());
        }
    }
    rules
}

#[tokio::test]
async fn the_dashboard_and_the_alerts_use_only_exported_metrics() {
    // A broker in this process, so the test can take it away for a moment.
    let mock = MockCluster::new(1).expect("mock cluster");
    mock.create_topic("webhooks.github.push", 1, 1)
        .expect("topic");
    mock.create_topic("webhooks.dead-letter", 1, 1)
        .expect("topic");
    let bootstrap = mock.bootstrap_servers();

    let certs = tempfile::tempdir().expect("tempdir");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    let cert_pem = made.cert.pem();
    let key_pem = made.key_pair.serialize_pem();
    std::fs::write(certs.path().join("cert.pem"), &cert_pem).expect("cert");
    std::fs::write(certs.path().join("key.pem"), &key_pem).expect("key");
    let spool = tempfile::tempdir().expect("tempdir");
    let store = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start(&config(
        certs.path(),
        spool.path(),
        store.path(),
        &bootstrap,
    ));
    let client = Client::new(gw.addr, made.cert.der());

    // Accepted, then redelivered: a dedup hit.
    let body = push_body("refs/heads/main");
    let accepted = client.github("dash-1", &body, GITHUB_SECRET).await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let again = client.github("dash-1", &body, GITHUB_SECRET).await;
    assert_eq!(again.status, 200, "{}", again.body);
    // Forged: signed with another secret.
    let forged = client.github("dash-2", &body, "not-the-secret").await;
    assert_eq!(forged.status, 401, "{}", forged.body);
    assert!(forged.body.contains("invalid_signature"), "{}", forged.body);
    // Authentic but breaking the push schema: dead-lettered.
    let invalid = client.github("dash-3", r#"{"ref":5}"#, GITHUB_SECRET).await;
    assert_eq!(invalid.status, 202, "{}", invalid.body);
    assert_eq!(
        invalid
            .headers
            .get("hookgate-dead-letter")
            .map(|v| v.as_bytes()),
        Some(&b"schema_violation"[..])
    );
    // A wrong API key on the second source.
    let wrong_key = client
        .request(
            "POST",
            "/webhooks/payments",
            &[
                ("authorization", "Bearer wrong"),
                ("content-type", "application/json"),
            ],
            r#"{"event":"payment.succeeded"}"#,
        )
        .await;
    assert_eq!(wrong_key.status, 401, "{}", wrong_key.body);

    // The broker goes away: the next delivery waits out the delivery timeout and is spooled
    // (a Kafka delivery error); back up, the spool drains.
    mock.broker_down(1).expect("broker down");
    let spooled = client
        .github("dash-4", &push_body("refs/heads/spooled"), GITHUB_SECRET)
        .await;
    assert_eq!(spooled.status, 202, "{}", spooled.body);
    mock.broker_up(1).expect("broker up");
    client
        .wait_for_sample(
            "hookgate_kafka_delivery_errors_total{",
            "a Kafka delivery error",
        )
        .await;

    // An admin change (refused: no such webhook), a config reload, a certificate reload.
    let admin = gw.admin_addr.expect("admin listener");
    let auth = format!("Bearer {ADMIN_KEY}");
    let deleted = send(
        admin,
        "DELETE",
        "/v1/webhooks/wh_nope",
        &[("authorization", auth.as_str())],
        "",
    )
    .await;
    assert_eq!(deleted.status, 404, "{deleted:?}");
    let pid = nix::unistd::Pid::from_raw(gw.child.as_ref().expect("running").id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("SIGHUP");
    client
        .wait_for_sample("hookgate_config_reloads_total{", "a config reload")
        .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    std::fs::write(certs.path().join("cert.pem"), &cert_pem).expect("cert");
    std::fs::write(certs.path().join("key.pem"), &key_pem).expect("key");
    client
        .wait_for_sample("hookgate_tls_reloads_total{", "a certificate reload")
        .await;
    client
        .wait_for_sample("hookgate_admin_changes_total{", "an admin change")
        .await;

    let scrape = client.scrape().await;
    let exported = families(&scrape);
    assert!(
        exported.contains_key("hookgate_webhooks_total"),
        "not a scrape:\n{scrape}"
    );

    let mut problems: Vec<String> = Vec::new();
    check_dashboard(&exported, &mut problems);
    check_alerts(&exported, &mut problems);
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  - {}\n\nfamilies exported: {:?}",
        problems.len(),
        problems.join("\n  - "),
        exported.keys().collect::<Vec<_>>()
    );
}

fn check_dashboard(exported: &BTreeMap<String, String>, problems: &mut Vec<String>) {
    let text = std::fs::read_to_string(repo_path(DASHBOARD)).expect("dashboard file");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard is JSON");

    if dashboard["schemaVersion"].as_u64().unwrap_or(0) < 36 {
        problems.push(format!("{DASHBOARD}: schemaVersion below 36"));
    }

    // Template variables: a Prometheus data source, and the sources (several, or All).
    let variables = dashboard["templating"]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let variable = |name: &str| variables.iter().find(|v| v["name"] == name).cloned();
    match variable("datasource") {
        Some(v) if v["type"] == "datasource" && v["query"] == "prometheus" => {}
        other => problems.push(format!(
            "{DASHBOARD}: no Prometheus `datasource` variable: {other:?}"
        )),
    }
    let mut queried: Vec<(String, String)> = Vec::new();
    match variable("source") {
        Some(v) => {
            let definition = v["definition"].as_str().unwrap_or_default();
            if definition != "label_values(hookgate_webhooks_total, source)" {
                problems.push(format!("{DASHBOARD}: `source` variable is `{definition}`"));
            }
            if v["multi"] != true || v["includeAll"] != true {
                problems.push(format!(
                    "{DASHBOARD}: `source` variable must allow several values and All"
                ));
            }
            queried.push(("variable `source`".to_owned(), definition.to_owned()));
            if let Some(q) = v["query"]["query"].as_str() {
                queried.push(("variable `source`".to_owned(), q.to_owned()));
            }
        }
        None => problems.push(format!("{DASHBOARD}: no `source` variable")),
    }
    for annotation in dashboard["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(expr) = annotation["expr"].as_str() {
            let name = annotation["name"].as_str().unwrap_or_default();
            queried.push((format!("annotation `{name}`"), expr.to_owned()));
        }
    }

    let mut all = Vec::new();
    panels(&dashboard["panels"], &mut all);
    let mut ids = BTreeSet::new();
    for panel in &all {
        let id = panel.json["id"].as_u64();
        if !id.is_some_and(|id| ids.insert(id)) {
            problems.push(format!(
                "panel `{}`: missing or repeated id {id:?}",
                panel.title
            ));
        }
        if panel.title.is_empty() {
            problems.push(format!("a {} panel has no title", panel.kind));
        }
        if panel.kind == "row" {
            continue;
        }
        if panel.json["description"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
        {
            problems.push(format!("panel `{}` has no description", panel.title));
        }
        if panel.json["datasource"]["uid"] != "${datasource}" {
            problems.push(format!(
                "panel `{}` does not query the `$datasource` variable",
                panel.title
            ));
        }
        if matches!(panel.kind.as_str(), "timeseries" | "stat")
            && panel.json["fieldConfig"]["defaults"]["unit"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        {
            problems.push(format!("panel `{}` has no unit", panel.title));
        }
        if panel.exprs.is_empty() {
            problems.push(format!("panel `{}` has no query", panel.title));
        }
        for expr in &panel.exprs {
            queried.push((format!("panel `{}`", panel.title), expr.clone()));
        }
    }

    // Every queried hookgate_ name is exported.
    let mut used = BTreeSet::new();
    for (place, expr) in &queried {
        for name in metric_names(expr) {
            match family_of(&name, exported) {
                Some(family) => {
                    used.insert(family);
                }
                None => problems.push(format!(
                    "{DASHBOARD}: {place} queries `{name}`, which the gateway does not export"
                )),
            }
        }
    }
    // Every exported family is on the dashboard: a new metric needs a panel.
    for family in exported.keys().filter(|f| f.starts_with("hookgate_")) {
        if !used.contains(family) {
            problems.push(format!(
                "{DASHBOARD}: no panel shows `{family}` (add one, or a query to an existing one)"
            ));
        }
    }

    // The topics operators look at.
    let panel_exprs: Vec<&str> = all
        .iter()
        .flat_map(|p| p.exprs.iter().map(String::as_str))
        .collect();
    for (topic, family) in TOPICS {
        let shown = panel_exprs.iter().any(|e| {
            metric_names(e)
                .iter()
                .any(|n| family_of(n, exported).as_deref() == Some(family) || n == family)
        });
        if !shown {
            problems.push(format!("{DASHBOARD}: no panel for {topic} (`{family}`)"));
        }
    }
    let has = |needle: &str| panel_exprs.iter().any(|e| e.contains(needle));
    for (topic, needle) in [
        (
            "request rate by source and outcome",
            r#"sum by (source, outcome) (rate(hookgate_webhooks_total{source=~"$source"}[$__rate_interval]))"#,
        ),
        ("dedup hits", r#"outcome="duplicate""#),
        ("schema rejections", r#"outcome="schema_violation""#),
        ("schema dead letters", r#"reason="schema_violation""#),
        ("answer latency p50", "histogram_quantile(0.5, sum by (source, le) (rate(hookgate_webhook_duration_seconds_bucket"),
        ("answer latency p95", "histogram_quantile(0.95, sum by (source, le) (rate(hookgate_webhook_duration_seconds_bucket"),
        ("answer latency p99", "histogram_quantile(0.99, sum by (source, le) (rate(hookgate_webhook_duration_seconds_bucket"),
        ("Kafka latency p50", "histogram_quantile(0.5, sum by (result, le) (rate(hookgate_kafka_delivery_duration_seconds_bucket"),
        ("Kafka latency p99", "histogram_quantile(0.99, sum by (result, le) (rate(hookgate_kafka_delivery_duration_seconds_bucket"),
        ("Kafka errors by kind", "sum by (kind) (rate(hookgate_kafka_delivery_errors_total"),
        ("dead letters by source and reason", "sum by (source, reason) (rate(hookgate_dead_letters_total"),
        ("admin changes by action and result", "sum by (action, result)"),
    ] {
        if !has(needle) {
            problems.push(format!("{DASHBOARD}: no panel for {topic} (`{needle}`)"));
        }
    }
    let outcome_panels: Vec<BTreeSet<String>> =
        panel_exprs.iter().flat_map(|e| outcome_sets(e)).collect();
    for (topic, codes) in [
        ("signature failures", SIGNATURE_FAILURES),
        ("5xx answers", SERVER_ERRORS),
    ] {
        if !outcome_panels.contains(&set(codes)) {
            problems.push(format!(
                "{DASHBOARD}: no panel selects exactly the {topic}: outcome=~\"{}\"",
                codes.join("|")
            ));
        }
    }
    // Any outcome regex lists codes the gateway uses, spelled as it spells them.
    let known: BTreeSet<String> = set(SIGNATURE_FAILURES)
        .union(&set(SERVER_ERRORS))
        .cloned()
        .collect();
    for codes in &outcome_panels {
        if !codes.is_subset(&known) {
            problems.push(format!(
                "{DASHBOARD}: unknown outcome code(s) in {:?}",
                codes.difference(&known).collect::<Vec<_>>()
            ));
        }
    }
}

fn check_alerts(exported: &BTreeMap<String, String>, problems: &mut Vec<String>) {
    let text = std::fs::read_to_string(repo_path(ALERTS)).expect("alert rules file");
    if !text.contains("- name: hookgate") {
        problems.push(format!("{ALERTS}: no rule group `hookgate`"));
    }
    let rules = alert_rules(&text);
    for rule in &rules {
        if rule.expr.is_empty() {
            problems.push(format!("{ALERTS}: alert {} has no expr", rule.name));
        }
        for name in metric_names(&rule.expr) {
            if family_of(&name, exported).is_none() {
                problems.push(format!(
                    "{ALERTS}: alert {} queries `{name}`, which the gateway does not export",
                    rule.name
                ));
            }
        }
        for key in ["for", "severity", "summary", "description", "runbook"] {
            if rule.keys.get(key).is_none_or(|v| v.is_empty()) {
                problems.push(format!("{ALERTS}: alert {} has no `{key}`", rule.name));
            }
        }
        let known: BTreeSet<String> = set(SIGNATURE_FAILURES)
            .union(&set(SERVER_ERRORS))
            .cloned()
            .chain(["accepted".to_owned(), "dead_letter".to_owned()])
            .collect();
        for codes in outcome_sets(&rule.expr) {
            if !codes.is_subset(&known) {
                problems.push(format!(
                    "{ALERTS}: alert {} selects unknown outcome code(s) {:?}",
                    rule.name,
                    codes.difference(&known).collect::<Vec<_>>()
                ));
            }
        }
    }
    for (alert, family) in REQUIRED_ALERTS {
        match rules.iter().find(|r| r.name == *alert) {
            Some(rule) if rule.expr.contains(family) => {}
            Some(rule) => problems.push(format!(
                "{ALERTS}: alert {alert} does not watch `{family}`: {}",
                rule.expr
            )),
            None => problems.push(format!("{ALERTS}: no alert {alert}")),
        }
    }
    let selects = |alert: &str, codes: &[&str]| {
        rules
            .iter()
            .find(|r| r.name == alert)
            .is_some_and(|r| outcome_sets(&r.expr).contains(&set(codes)))
    };
    if !selects("HookgateSignatureFailureSpike", SIGNATURE_FAILURES) {
        problems.push(format!(
            "{ALERTS}: HookgateSignatureFailureSpike does not select exactly the signature failures"
        ));
    }
    if !selects("HookgateHigh5xxRate", SERVER_ERRORS) {
        problems.push(format!(
            "{ALERTS}: HookgateHigh5xxRate does not select exactly the 5xx outcomes"
        ));
    }
}

#[test]
fn metric_names_are_found_in_promql() {
    let expr = r#"histogram_quantile(0.99, sum by (le) (rate(hookgate_webhook_duration_seconds_bucket{source=~"$source"}[5m]))) / on() hookgate_ready and not_hookgate_x"#;
    assert_eq!(
        metric_names(expr).into_iter().collect::<Vec<_>>(),
        ["hookgate_ready", "hookgate_webhook_duration_seconds_bucket"]
    );
    let families: BTreeMap<String, String> = [
        ("hookgate_webhook_duration_seconds", "histogram"),
        ("hookgate_webhooks_total", "counter"),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_owned(), t.to_owned()))
    .collect();
    assert_eq!(
        family_of("hookgate_webhook_duration_seconds_bucket", &families).as_deref(),
        Some("hookgate_webhook_duration_seconds")
    );
    assert_eq!(family_of("hookgate_webhooks_total_count", &families), None);
    assert_eq!(
        outcome_sets(r#"x{outcome=~"a|b", source="s"} / y{outcome=~"c"}"#),
        vec![set(&["a", "b"]), set(&["c"])]
    );
}

#[test]
fn alert_rules_are_read_with_block_exprs() {
    let text = "groups:\n  - name: hookgate\n    rules:\n      - alert: One\n        expr: a == 0\n        for: 1m\n        labels:\n          severity: critical\n      - alert: Two\n        expr: >-\n          sum(b)\n          > 1\n        for: 5m\n";
    let rules = alert_rules(text);
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].expr, "a == 0");
    assert_eq!(rules[0].keys["severity"], "critical");
    assert_eq!(rules[1].name, "Two");
    assert_eq!(rules[1].expr, "sum(b) > 1");
    assert_eq!(rules[1].keys["for"], "5m");
}
