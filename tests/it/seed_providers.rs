//! The seed providers end to end on a real broker: every fixture of cidaas, Cryptlex,
//! RoamingIQ, Nexudus and the recurring-payments platform, sent through the example sources of
//! `config/examples/seed-providers.toml` (authenticated as each source says), is accepted,
//! validated by its shipped schema, and published on its topic with `meta.schema` set.

use std::path::Path;
use std::time::Duration;

use crate::common::{post, read_topic, repo_path, unix_now, Broker, Gateway};

const SECRETS: &[(&str, &str)] = &[
    ("IDENTITY_WEBHOOK_API_KEY", "identity-key"),
    ("CRYPTLEX_WEBHOOK_TOKEN", "cryptlex-token"),
    ("ROAMINGIQ_WEBHOOK_SECRET", "roamingiq-secret"),
    ("NEXUDUS_WEBHOOK_SECRET", "nexudus-secret"),
    ("RECURRING_PAYMENTS_WEBHOOK_TOKEN", "payments-token"),
];

/// Nexudus sends one event type per webhook URL; the example config has two such sources,
/// the test adds one per other fixture.
const NEXUDUS_EXTRA: &[(&str, &str)] = &[
    ("nexudus-customers-updated", "Customers.Updated"),
    ("nexudus-proposals-created", "Proposals.Created"),
    ("nexudus-visitors-checkedin", "Visitors.CheckedIn"),
];

fn source_for(provider: &str, event: &str) -> String {
    match provider {
        "cidaas" => "identity".to_owned(),
        "nexudus" => match event {
            "Bookings.Created" => "nexudus-bookings-created".to_owned(),
            "Invoices.FullyPaid" => "nexudus-invoices-fully-paid".to_owned(),
            _ => NEXUDUS_EXTRA
                .iter()
                .find(|(_, e)| *e == event || event == "_envelope" && *e == "Visitors.CheckedIn")
                .map(|(s, _)| (*s).to_owned())
                .unwrap_or_else(|| panic!("no nexudus source for {event}")),
        },
        other => other.to_owned(),
    }
}

#[tokio::test]
async fn every_seed_fixture_is_routed_validated_and_published() {
    let broker = Broker::start();
    let mut config = std::fs::read_to_string(repo_path("config/examples/seed-providers.toml"))
        .expect("example config")
        .replace(
            "brokers = \"embedded\"",
            &format!("brokers = \"{}\"", broker.bootstrap),
        );
    for (name, event) in NEXUDUS_EXTRA {
        config.push_str(&format!(
            "\n[sources.{name}]\nprovider = \"nexudus\"\nsecrets = [{{ env = \"NEXUDUS_WEBHOOK_SECRET\" }}]\n\
             auth = {{ type = \"hmac\", header = \"X-Nexudus-Signature\", encoding = \"base64\" }}\n\
             event_type = {{ value = \"{event}\" }}\n"
        ));
    }
    let gw = Gateway::in_process_env(&config, SECRETS);
    // The same config, loaded here, signs each delivery as its source expects.
    for (k, v) in SECRETS {
        std::env::set_var(k, v);
    }
    let settings = hookgate::config::load(&gw.dir.path().join("gateway.toml")).expect("config");

    let mut sent = Vec::new();
    for provider in [
        "cidaas",
        "cryptlex",
        "roamingiq",
        "nexudus",
        "recurring-payments",
    ] {
        let dir = repo_path(&format!("tests/fixtures/{provider}"));
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for path in files {
            let event = path
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("name")
                .to_owned();
            let source_name = source_for(provider, &event);
            let source = &settings.sources[&source_name];
            let body = std::fs::read_to_string(&path).expect("fixture");
            let given = vec![("Content-Type".to_owned(), "application/json".to_owned())];
            let mut headers = source
                .verifier
                .sign(body.as_bytes(), unix_now(), &given)
                .expect("sign");
            headers.extend(given);
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let answer = post(gw.addr, &format!("/webhooks/{source_name}"), &h, &body).await;
            assert_eq!(answer.status, 202, "{}: {answer:?}", relative(&path));
            assert!(
                answer.headers.get("hookgate-dead-letter").is_none(),
                "{} was dead-lettered: {answer:?}",
                relative(&path)
            );
            let id = answer.json()["id"].as_str().expect("id").to_owned();
            sent.push((source_name, relative(&path), id));
        }
    }
    assert!(sent.len() >= 40, "{} fixtures sent", sent.len());

    // Each is on its topic, validated by a shipped schema.
    let budget = hookgate::delivery::topic::TopicBudget::new(1_000);
    let mut by_topic: std::collections::BTreeMap<String, Vec<(String, String)>> =
        Default::default();
    for (source, file, id) in &sent {
        let source = &settings.sources[source];
        let body = hookgate::base::json::parse(
            &std::fs::read(repo_path(file)).expect("read"),
            hookgate::base::json::DEFAULT_MAX_DEPTH,
        )
        .expect("json");
        let event_type = source
            .event
            .identify(&hyper::HeaderMap::new(), &body)
            .expect("event type")
            .event_type;
        by_topic
            .entry(source.topics.route(&event_type, &budget).topic.to_string())
            .or_default()
            .push((file.clone(), id.clone()));
    }
    for (topic, expected) in &by_topic {
        let records = read_topic(&broker.bootstrap, topic, Duration::from_secs(30), |r| {
            r.len() >= expected.len()
        });
        for (file, id) in expected {
            let record = records
                .iter()
                .find(|r| r.value["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{file}: not on {topic}"));
            assert!(
                record.value["meta"]["schema"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty()),
                "{file}: published without a schema: {}",
                record.value["meta"]
            );
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}
