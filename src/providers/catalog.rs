//! Event catalogs: the event types each provider documents, as data shipped in the binary.
//!
//! Owns: `config/catalogs/{provider}.txt` (one event type per line, `#` comments), embedded at
//! build time so `GET /v1/event-types` and config checks work from any working directory.
//! Sources use them to refuse event types outside the provider's catalog
//! (`only_catalog_events`) and to catch typos in their own `allowed_events`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// `(provider, file text)` of every catalog, each at `config/catalogs/{provider}.txt`.
macro_rules! catalogs {
    ($($provider:literal),* $(,)?) => {
        &[$(($provider, include_str!(concat!("../../config/catalogs/", $provider, ".txt")))),*]
    };
}

const FILES: &[(&str, &str)] = catalogs![
    "aws-sns",
    "box",
    "cidaas",
    "circleci",
    "cryptlex",
    "customer-io",
    "docusign",
    "github",
    "heroku",
    "jira",
    "nexudus",
    "postmark",
    "recurring-payments",
    "roamingiq",
    "sentry",
    "vercel",
    "woocommerce",
];

static CATALOGS: LazyLock<BTreeMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(provider, text)| {
            let events = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .collect();
            (*provider, events)
        })
        .collect()
});

/// The documented event types of `provider`, if we ship its catalog.
pub fn events(provider: &str) -> Option<&'static [&'static str]> {
    CATALOGS.get(provider).map(Vec::as_slice)
}

/// Every catalog, by provider.
pub fn all() -> &'static BTreeMap<&'static str, Vec<&'static str>> {
    &CATALOGS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_parse_and_hold_the_seed_events() {
        assert!(events("cidaas")
            .is_some_and(|e| e.contains(&"USER_CREATED") && e.contains(&"MFA_VERIFIED")));
        assert!(events("cidaas")
            .is_some_and(|e| e.contains(&"APP_CREATED") && e.contains(&"APP_MODIFIED")));
        assert!(events("cryptlex").is_some_and(|e| e.contains(&"productkey.updated")));
        assert!(events("roamingiq").is_some_and(|e| e.contains(&"VenueUnitAdded")));
        assert!(events("recurring-payments").is_some_and(|e| e
            == [
                "RecurringPayments.charge.paid",
                "RecurringPayments.charge.failed"
            ]));
        assert!(events("github").is_some_and(|e| e.contains(&"push")));
        assert!(events("sentry").is_some_and(|e| e.contains(&"metric_alert")));
        assert!(events("vercel").is_some_and(|e| e.contains(&"deployment.succeeded")));
        assert!(events("heroku").is_some_and(|e| e.contains(&"release")));
        assert!(events("circleci").is_some_and(|e| e == ["workflow-completed", "job-completed"]));
        assert!(events("jira").is_some_and(|e| e.contains(&"jira:issue_created")));
        assert!(events("postmark").is_some_and(|e| e.contains(&"SpamComplaint")));
        assert!(events("customer-io").is_some_and(|e| e.contains(&"undeliverable")));
        assert!(events("woocommerce").is_some_and(|e| e.contains(&"order.restored")));
        assert!(events("aws-sns").is_some_and(|e| e.contains(&"SubscriptionConfirmation")));
        assert!(events("box").is_some_and(|e| e.contains(&"SIGN_REQUEST.COMPLETED")));
        assert!(events("docusign").is_some_and(|e| e.contains(&"envelope-completed")));
        assert!(events("nope").is_none());
        for (provider, events) in all() {
            let mut seen = std::collections::HashSet::new();
            for e in events {
                assert!(!e.contains(char::is_whitespace), "{provider}: `{e}`");
                assert!(seen.insert(e), "{provider}: `{e}` listed twice");
            }
        }
    }

    #[test]
    fn every_catalog_file_is_built_in_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/catalogs");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("config/catalogs")
            .filter_map(|e| {
                let name = e.expect("entry").file_name().to_string_lossy().into_owned();
                name.strip_suffix(".txt").map(str::to_owned)
            })
            .collect();
        files.sort();
        let listed: Vec<&str> = FILES.iter().map(|(p, _)| *p).collect();
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "FILES is sorted");
        assert_eq!(listed, files, "config/catalogs and FILES differ");
        for (provider, events) in all() {
            assert!(!events.is_empty(), "{provider}: empty catalog");
        }
    }
}
