//! Deduplication by delivery id, across a gateway restart, on a real broker: a redelivery is
//! answered as a duplicate with the first envelope id, and Kafka holds the event once.

use std::time::Duration;

use crate::common::{github_signature, post, read_topic, Broker, Gateway};
use crate::redis::Redis;

#[tokio::test]
async fn redeliveries_are_published_once_even_across_a_restart() {
    let broker = Broker::start();
    let state = tempfile::tempdir().expect("tempdir");
    let journal = state.path().join("dedup.jsonl");
    let config = format!(
        r#"
[kafka]
brokers = "{}"
[schemas]
dir = "{{schemas}}"
[dedup]
window_secs = 3600
journal = "{}"
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#,
        broker.bootstrap,
        journal.display()
    );
    let body = r#"{"action":"created","starred_at":null}"#;
    let sig = github_signature("s", body);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "star"),
        ("x-github-delivery", "dup-1"),
        ("x-hub-signature-256", sig.as_str()),
    ];

    let mut gw = Gateway::start(&config);
    let first = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(first.status, 202, "{first:?}");
    let id = first.json()["id"].as_str().expect("id").to_owned();
    let again = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(
        again.json(),
        serde_json::json!({"id": id, "duplicate": true})
    );
    // A different delivery id is a different event.
    let other = [
        headers[0],
        headers[1],
        ("x-github-delivery", "dup-2"),
        headers[3],
    ];
    assert_eq!(
        post(gw.addr, "/webhooks/gh", &other, body).await.status,
        202
    );

    gw.terminate();
    assert!(gw.wait(Duration::from_secs(20)));
    let gw = Gateway::start(&config);
    let after_restart = post(gw.addr, "/webhooks/gh", &headers, body).await;
    assert_eq!(
        (after_restart.status, after_restart.json()["id"].as_str()),
        (200, Some(id.as_str()))
    );

    let records = read_topic(
        &broker.bootstrap,
        "webhooks.github.star",
        Duration::from_secs(30),
        |r| r.len() >= 2,
    );
    let mut keys: Vec<_> = records
        .iter()
        .map(|r| r.key.clone().unwrap_or_default())
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["dup-1", "dup-2"], "each delivery once");
    let metrics = crate::common::send(gw.addr, "GET", "/metrics", &[], "")
        .await
        .body;
    assert!(
        metrics.contains(r#"hookgate_webhooks_total{outcome="duplicate",source="gh"} 1"#),
        "{metrics}"
    );
}

/// A `[dedup] backend = "redis"` gateway config on `broker`, reading the Redis URL from
/// `HOOKGATE_TEST_REDIS_URL`, with `timeout_ms = 200`.
fn redis_config(bootstrap: &str, on_unavailable: &str) -> String {
    redis_config_with(bootstrap, on_unavailable, "timeout_ms = 200")
}

/// [`redis_config`] with `dedup_lines` (at least `timeout_ms`) in `[dedup]`.
pub(crate) fn redis_config_with(
    bootstrap: &str,
    on_unavailable: &str,
    dedup_lines: &str,
) -> String {
    format!(
        r#"
[kafka]
brokers = "{bootstrap}"
[schemas]
dir = "{{schemas}}"
[dedup]
window_secs = 3600
backend = "redis"
redis_url = {{ env = "HOOKGATE_TEST_REDIS_URL" }}
on_unavailable = "{on_unavailable}"
{dedup_lines}
[sources.gh]
provider = "github"
secrets = [{{ insecure_dev_value = "s" }}]
"#
    )
}

const STAR: &str = r#"{"action":"created","starred_at":null}"#;

/// A signed GitHub star delivery with `delivery_id`, sent to `gw`.
pub(crate) async fn star(gw: &Gateway, delivery_id: &str) -> crate::common::Answer {
    star_to(gw.addr, delivery_id).await
}

/// [`star`] by address (for tasks that do not borrow the gateway).
async fn star_to(addr: std::net::SocketAddr, delivery_id: &str) -> crate::common::Answer {
    let sig = github_signature("s", STAR);
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "star"),
        ("x-github-delivery", delivery_id),
        ("x-hub-signature-256", sig.as_str()),
    ];
    post(addr, "/webhooks/gh", &headers, STAR).await
}

/// The delivery ids (record keys) on `webhooks.github.star`, once `done` holds.
fn star_keys(bootstrap: &str, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let records = read_topic(
        bootstrap,
        "webhooks.github.star",
        Duration::from_secs(30),
        |r| {
            let keys: Vec<String> = r
                .iter()
                .map(|r| r.key.clone().unwrap_or_default())
                .collect();
            done(&keys)
        },
    );
    let mut keys: Vec<String> = records
        .into_iter()
        .map(|r| r.key.unwrap_or_default())
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn three_replicas_sharing_redis_publish_each_delivery_once() {
    let redis = Redis::start();
    let broker = Broker::start();
    let config = redis_config(&broker.bootstrap, "accept");
    let url = redis.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    // Three gateway processes, as replicas behind a load balancer are: nothing but Redis and
    // Kafka is shared between them.
    let gws: Vec<Gateway> = (0..3).map(|_| Gateway::start_env(&config, &env)).collect();

    // Sequentially: the first replica accepts, the others answer with its id.
    let first = star(&gws[0], "seq-1").await;
    assert_eq!(first.status, 202, "{first:?}");
    let id = first.json()["id"].as_str().expect("id").to_owned();
    for gw in &gws[1..] {
        let again = star(gw, "seq-1").await;
        assert_eq!(
            (again.status, again.json()),
            (200, serde_json::json!({"id": id, "duplicate": true})),
            "{again:?}"
        );
    }

    // Concurrently: one accepts, the others are duplicates or in flight.
    let (a, b, c) = tokio::join!(
        star(&gws[0], "conc-1"),
        star(&gws[1], "conc-1"),
        star(&gws[2], "conc-1")
    );
    let answers = [a, b, c];
    let accepted: Vec<_> = answers.iter().filter(|a| a.status == 202).collect();
    assert_eq!(accepted.len(), 1, "{answers:?}");
    let conc_id = accepted[0].json()["id"].as_str().expect("id").to_owned();
    for a in answers.iter().filter(|a| a.status != 202) {
        match a.status {
            200 => assert_eq!(a.json()["id"].as_str(), Some(conc_id.as_str()), "{a:?}"),
            503 => assert_eq!(a.code(), "duplicate_in_flight", "{a:?}"),
            _ => panic!("unexpected answer {a:?}"),
        }
    }
    // The provider's retries of the in-flight copies: duplicates now.
    for gw in &gws {
        let again = star(gw, "conc-1").await;
        assert_eq!(
            (again.status, again.json()["id"].as_str()),
            (200, Some(conc_id.as_str())),
            "{again:?}"
        );
    }

    let keys = star_keys(&broker.bootstrap, |k| {
        k.iter().any(|k| k == "seq-1") && k.iter().any(|k| k == "conc-1")
    });
    assert_eq!(keys, vec!["conc-1", "seq-1"], "each delivery once on Kafka");
}

/// `hookgate_dedup_backend_up` on `gw`'s `/metrics`.
async fn backend_up(gw: &Gateway) -> Option<String> {
    let metrics = crate::common::send(gw.addr, "GET", "/metrics", &[], "")
        .await
        .body;
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("hookgate_dedup_backend_up "))
        .map(str::to_owned)
}

#[tokio::test]
async fn a_redis_outage_accepts_or_rejects_as_configured_and_dedup_resumes() {
    let mut redis = Redis::start();
    let broker = Broker::start();
    let url = redis.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    let accept = Gateway::in_process_env(&redis_config(&broker.bootstrap, "accept"), &env);
    let reject = Gateway::in_process_env(&redis_config(&broker.bootstrap, "reject"), &env);
    assert_eq!(star(&accept, "before-1").await.status, 202);
    assert_eq!(star(&reject, "before-1").await.status, 200, "shared");

    redis.stop();
    let mut accepted = vec!["before-1".to_owned()];
    for n in 0..5 {
        let delivery = format!("down-{n}");
        let a = star(&accept, &delivery).await;
        assert!(
            (200..300).contains(&a.status),
            "accept: a 2xx without Redis: {a:?}"
        );
        if a.status == 202 {
            accepted.push(delivery.clone());
        }
        let r = star(&reject, &format!("down-reject-{n}")).await;
        assert_eq!(
            (r.status, r.code()),
            (503, "dedup_unavailable".to_owned()),
            "{r:?}"
        );
    }
    assert_eq!(backend_up(&accept).await.as_deref(), Some("0"));
    assert_eq!(backend_up(&reject).await.as_deref(), Some("0"));

    redis.restart();
    // Both replicas reconnect by themselves; each probe is a new delivery.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    for gw in [&accept, &reject] {
        while backend_up(gw).await.as_deref() != Some("1") {
            assert!(
                std::time::Instant::now() < deadline,
                "no reconnect to Redis"
            );
            n += 1;
            let probe = format!("probe-{n}");
            if star(gw, &probe).await.status == 202 {
                accepted.push(probe);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let first = star(&accept, "after-1").await;
    assert_eq!(first.status, 202, "{first:?}");
    accepted.push("after-1".to_owned());
    let again = star(&reject, "after-1").await;
    assert_eq!(
        (again.status, again.json()["id"].as_str()),
        (200, first.json()["id"].as_str()),
        "deduplicated across replicas again: {again:?}"
    );

    // Every 2xx that published is on Kafka.
    accepted.sort();
    let keys = star_keys(&broker.bootstrap, |k| {
        accepted.iter().all(|a| k.contains(a))
    });
    for a in &accepted {
        assert!(
            keys.contains(a),
            "{a} answered 202 but is not on Kafka: {keys:?}"
        );
    }
}

#[tokio::test]
async fn a_redis_that_stops_answering_costs_at_most_timeout_ms() {
    let redis = Redis::start();
    let broker = Broker::start();
    let url = redis.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    let accept = Gateway::in_process_env(&redis_config(&broker.bootstrap, "accept"), &env);
    let reject = Gateway::in_process_env(&redis_config(&broker.bootstrap, "reject"), &env);
    let first = star(&accept, "slow-0").await;
    assert_eq!(first.status, 202, "{first:?}");
    assert_eq!(star(&reject, "slow-0").await.status, 200, "shared");

    // Connected, but nothing answers (timeout_ms = 200).
    redis.pause();
    let started = std::time::Instant::now();
    let a = star(&accept, "slow-1").await;
    assert_eq!(a.status, 202, "accepted unchecked: {a:?}");
    let r = star(&reject, "slow-2").await;
    assert_eq!(
        (r.status, r.code()),
        (503, "dedup_unavailable".to_owned()),
        "{r:?}"
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "two deliveries took {took:?} with Redis silent"
    );
    assert_eq!(backend_up(&reject).await.as_deref(), Some("0"));

    redis.resume();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut n = 0;
    while backend_up(&reject).await.as_deref() != Some("1") {
        assert!(
            std::time::Instant::now() < deadline,
            "Redis never answered again"
        );
        n += 1;
        star(&reject, &format!("slow-probe-{n}")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let again = star(&reject, "slow-0").await;
    assert_eq!(
        (again.status, again.json()["id"].as_str()),
        (200, first.json()["id"].as_str()),
        "{again:?}"
    );
}

/// A counter's value on `gw`'s `/metrics`, summed over its label sets.
async fn counter(gw: &Gateway, family: &str) -> u64 {
    let metrics = crate::common::send(gw.addr, "GET", "/metrics", &[], "")
        .await
        .body;
    metrics
        .lines()
        .filter(|l| {
            l.strip_prefix(family)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// One delivery sent to a replica, then once more to the next replica after the answer (a
/// provider's redelivery landing elsewhere), with the load's phase at its start and end.
#[derive(Debug)]
struct Pair {
    delivery: String,
    phases: (usize, usize),
    answers: [crate::common::Answer; 2],
}

/// Phases of the outage test, in order.
const BEFORE: usize = 0;
const DOWN: usize = 1;
const RESTARTED: usize = 2;
const AFTER: usize = 3;

#[tokio::test]
async fn redis_killed_mid_load_loses_no_2xx_and_the_duplicates_are_counted() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let mut redis = Redis::start();
    let broker = Broker::start();
    let config = redis_config(&broker.bootstrap, "accept");
    let url = redis.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    let gws: Vec<Gateway> = (0..3).map(|_| Gateway::start_env(&config, &env)).collect();
    let addrs: Vec<_> = gws.iter().map(|g| g.addr).collect();

    // Four providers' worth of load: each sender sends its deliveries one pair at a time.
    let phase = Arc::new(AtomicUsize::new(BEFORE));
    let started_after = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    const PAIRS_AFTER: usize = 120;
    let mut senders = Vec::new();
    for sender in 0..4 {
        let (addrs, phase, started_after, done) = (
            addrs.clone(),
            phase.clone(),
            started_after.clone(),
            done.clone(),
        );
        senders.push(tokio::spawn(async move {
            let mut pairs = Vec::new();
            for n in 0.. {
                let start = phase.load(Ordering::SeqCst);
                if start == AFTER && started_after.fetch_add(1, Ordering::SeqCst) >= PAIRS_AFTER {
                    break;
                }
                let delivery = format!("load-{sender}-{n}");
                let first = star_to(addrs[n % 3], &delivery).await;
                let again = star_to(addrs[(n + 1) % 3], &delivery).await;
                pairs.push(Pair {
                    delivery,
                    phases: (start, phase.load(Ordering::SeqCst)),
                    answers: [first, again],
                });
                done.fetch_add(1, Ordering::SeqCst);
            }
            pairs
        }));
    }
    let wait_for = |count: usize| {
        let done = done.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while done.load(Ordering::SeqCst) < count {
                assert!(std::time::Instant::now() < deadline, "the load stalled");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };

    // Under load: kill Redis, let the load run on without it, start it again (empty).
    wait_for(150).await;
    phase.store(DOWN, Ordering::SeqCst);
    redis.stop();
    let killed_at = done.load(Ordering::SeqCst);
    wait_for(killed_at + 150).await;
    phase.store(RESTARTED, Ordering::SeqCst);
    redis.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for gw in &gws {
        while backend_up(gw).await.as_deref() != Some("1") {
            assert!(
                std::time::Instant::now() < deadline,
                "no reconnect to Redis"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    phase.store(AFTER, Ordering::SeqCst);
    let mut pairs = Vec::new();
    for s in senders {
        pairs.extend(s.await.expect("sender"));
    }

    // Every answer is one a provider can act on, and every 2xx is on Kafka.
    let mut answered_2xx = Vec::new();
    for p in &pairs {
        for a in &p.answers {
            match a.status {
                202 | 200 => answered_2xx.push(p.delivery.clone()),
                503 => assert_eq!(a.code(), "duplicate_in_flight", "{p:?}"),
                _ => panic!("unexpected answer: {p:?}"),
            }
        }
    }
    answered_2xx.sort();
    answered_2xx.dedup();
    let keys = star_keys(&broker.bootstrap, |k| {
        let seen: std::collections::HashSet<&String> = k.iter().collect();
        answered_2xx.iter().all(|d| seen.contains(d))
    });
    let missing: Vec<_> = answered_2xx
        .iter()
        .filter(|d| keys.binary_search(d).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "answered 2xx, not on Kafka: {missing:?}"
    );

    // Duplicates: published more than once. Only deliveries that met the outage may be.
    let mut published = std::collections::HashMap::<&str, usize>::new();
    for k in &keys {
        *published.entry(k.as_str()).or_default() += 1;
    }
    let duplicates: Vec<&Pair> = pairs
        .iter()
        .filter(|p| published.get(p.delivery.as_str()).copied().unwrap_or(0) > 1)
        .collect();
    for p in &duplicates {
        assert!(
            p.phases.1 >= DOWN && p.phases.0 <= RESTARTED,
            "published twice outside the outage: {p:?}"
        );
    }
    // Outside it, the redelivery is a duplicate of the first acceptance, on any replica.
    let calm: Vec<&Pair> = pairs
        .iter()
        .filter(|p| p.phases == (BEFORE, BEFORE) || p.phases == (AFTER, AFTER))
        .collect();
    assert!(
        calm.iter().any(|p| p.phases.0 == AFTER),
        "no pair after Redis came back"
    );
    for p in &calm {
        let [first, again] = &p.answers;
        assert_eq!(first.status, 202, "{p:?}");
        assert_eq!(
            (again.status, again.json()["id"].as_str()),
            (200, first.json()["id"].as_str()),
            "{p:?}"
        );
        assert_eq!(published.get(p.delivery.as_str()), Some(&1), "{p:?}");
    }

    // What the replicas report about the outage.
    let mut unchecked = 0;
    let mut errors = 0;
    for gw in &gws {
        unchecked += counter(gw, "hookgate_dedup_unchecked_total").await;
        errors += counter(gw, "hookgate_dedup_backend_errors_total").await;
    }
    let outage = pairs
        .iter()
        .filter(|p| !calm.iter().any(|c| std::ptr::eq(*c, *p)))
        .count();
    println!(
        "redis killed mid-load: {} pairs ({} met the outage), {} deliveries answered 2xx, \
         {} records on Kafka, {} published twice; replicas report {} unchecked deliveries \
         and {} failed Redis calls",
        pairs.len(),
        outage,
        answered_2xx.len(),
        keys.len(),
        duplicates.len(),
        unchecked,
        errors
    );
    assert!(unchecked > 0, "the outage went unnoticed");
    assert!(
        duplicates.len() as u64 <= unchecked + errors,
        "a duplicate without a failed Redis call"
    );
}
