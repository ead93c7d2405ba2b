//! `[dedup] backend = "redis"` beyond one plain server: TLS with a private CA and a client
//! certificate, Redis Cluster, and Redis Sentinel across a failover. Each test runs two
//! gateways sharing the Redis set-up and a broker: a delivery sent to both is accepted once,
//! answered as a duplicate with the same id by the other, and on Kafka once.

use std::time::{Duration, Instant};

use crate::common::{read_topic, Broker, Gateway};
use crate::dedup::{redis_config_with, star};
use crate::redis::{RedisCluster, RedisSentinel, RedisTls};

/// A `backend = "redis"` gateway config on `bootstrap`, the URL(s) read from
/// `HOOKGATE_TEST_REDIS_URL`, with `extra` `[dedup]` lines (TLS handshakes and failovers get
/// 500 ms).
fn config(bootstrap: &str, on_unavailable: &str, extra: &str) -> String {
    redis_config_with(
        bootstrap,
        on_unavailable,
        &format!("timeout_ms = 500\n{extra}"),
    )
}

/// Sends `delivery_id` to `a`, then to `b`: `a` accepts it (202) and `b` answers it as a
/// duplicate with the same id. Returns the id.
async fn accepted_once(a: &Gateway, b: &Gateway, delivery_id: &str) -> String {
    let first = star(a, delivery_id).await;
    assert_eq!(first.status, 202, "{delivery_id}: {first:?}");
    let id = first.json()["id"].as_str().expect("id").to_owned();
    let again = star(b, delivery_id).await;
    assert_eq!(
        (again.status, again.json()),
        (200, serde_json::json!({"id": id, "duplicate": true})),
        "{delivery_id}: {again:?}"
    );
    id
}

/// Waits until every one of `expected` is on `webhooks.github.star`; returns all record keys
/// (sorted).
fn star_keys(bootstrap: &str, expected: &[String]) -> Vec<String> {
    let records = read_topic(
        bootstrap,
        "webhooks.github.star",
        Duration::from_secs(30),
        |r| {
            expected
                .iter()
                .all(|e| r.iter().any(|r| r.key.as_deref() == Some(e.as_str())))
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
async fn two_gateways_share_a_tls_redis_with_a_private_ca_and_client_certificates() {
    let redis = RedisTls::start();
    let broker = Broker::start();
    let url = redis.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    let files = format!(
        "redis_ca_file = {:?}\nredis_client_cert_file = {:?}\nredis_client_key_file = {:?}",
        redis.ca_file, redis.client_cert_file, redis.client_key_file
    );
    let a = Gateway::in_process_env(&config(&broker.bootstrap, "reject", &files), &env);
    let b = Gateway::in_process_env(&config(&broker.bootstrap, "reject", &files), &env);
    let mut expected = Vec::new();
    for n in 0..3 {
        let delivery = format!("tls-{n}");
        accepted_once(&a, &b, &delivery).await;
        expected.push(delivery);
    }

    // Without the private CA the server's certificate is not trusted: Redis is unavailable.
    let untrusting = Gateway::in_process_env(&config(&broker.bootstrap, "reject", ""), &env);
    let refused = star(&untrusting, "tls-untrusted").await;
    assert_eq!(
        (refused.status, refused.code()),
        (503, "dedup_unavailable".to_owned()),
        "{refused:?}"
    );

    let keys = star_keys(&broker.bootstrap, &expected);
    assert_eq!(keys, expected, "each delivery once on Kafka");
}

#[tokio::test]
async fn two_gateways_share_a_redis_cluster() {
    let cluster = RedisCluster::start();
    let broker = Broker::start();
    let urls = cluster.urls();
    // The second gateway lists the seeds in another order (and with spaces): same key space.
    let mut reversed: Vec<&str> = urls.split(',').collect();
    reversed.reverse();
    let reversed = reversed.join(" , ");
    let cfg = config(&broker.bootstrap, "reject", "redis_mode = \"cluster\"");
    let a = Gateway::in_process_env(&cfg, &[("HOOKGATE_TEST_REDIS_URL", urls.as_str())]);
    let b = Gateway::in_process_env(&cfg, &[("HOOKGATE_TEST_REDIS_URL", reversed.as_str())]);

    // Enough deliveries that their keys land on every master (all but surely).
    let mut expected = Vec::new();
    for n in 0..30 {
        let delivery = format!("cluster-{n:02}");
        if n % 2 == 0 {
            accepted_once(&a, &b, &delivery).await;
        } else {
            accepted_once(&b, &a, &delivery).await;
        }
        expected.push(delivery);
    }
    for node in &cluster.nodes {
        let keys = crate::redis::cli(node.port, &["DBSIZE"]);
        assert_ne!(keys.trim(), "0", "no key on the master at {}", node.port);
    }

    let keys = star_keys(&broker.bootstrap, &expected);
    assert_eq!(keys, expected, "each delivery once on Kafka");
}

#[tokio::test]
async fn two_gateways_share_redis_through_a_sentinel_and_follow_a_failover() {
    let set = RedisSentinel::start();
    let broker = Broker::start();
    let url = set.url();
    let env = [("HOOKGATE_TEST_REDIS_URL", url.as_str())];
    let extra = format!(
        "redis_mode = \"sentinel\"\nsentinel_master = \"{}\"",
        RedisSentinel::MASTER
    );
    let accept = Gateway::in_process_env(&config(&broker.bootstrap, "accept", &extra), &env);
    let reject = Gateway::in_process_env(&config(&broker.bootstrap, "reject", &extra), &env);
    let before = accepted_once(&accept, &reject, "sentinel-before").await;
    let mut published = vec!["sentinel-before".to_owned()];

    set.wait_for_replication();
    set.failover();

    // During the switch a delivery is processed unchecked (accept) or answered 503 (reject);
    // each probe is a new delivery, until both gateways deduplicate on the new master.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0;
    loop {
        assert!(Instant::now() < deadline, "dedup does not work again");
        n += 1;
        let probe = format!("sentinel-probe-{n}");
        let first = star(&accept, &probe).await;
        assert!((200..300).contains(&first.status), "accept: {first:?}");
        if first.status == 202 {
            published.push(probe.clone());
        }
        let again = star(&reject, &probe).await;
        match again.status {
            200 if again.json()["id"] == first.json()["id"] => break,
            202 => published.push(probe.clone()),
            503 => assert_eq!(again.code(), "dedup_unavailable", "{again:?}"),
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = accepted_once(&reject, &accept, "sentinel-after").await;
    published.push("sentinel-after".to_owned());
    assert_ne!(after, before);
    // What the old master held was replicated before the failover: still a duplicate.
    let old = star(&accept, "sentinel-before").await;
    assert_eq!(
        (old.status, old.json()["id"].as_str()),
        (200, Some(before.as_str())),
        "{old:?}"
    );

    // Every 2xx that published is on Kafka.
    let keys = star_keys(&broker.bootstrap, &published);
    for p in &published {
        assert!(keys.contains(p), "{p} answered 202 but is not on Kafka");
    }
    assert_eq!(
        keys.iter().filter(|k| *k == "sentinel-after").count(),
        1,
        "{keys:?}"
    );
}
