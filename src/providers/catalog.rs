//! Event catalogs: the event types each provider documents, as data shipped in the binary.
//!
//! Owns: `config/catalogs/{provider}.txt` (one event type per line, `#` comments), embedded at
//! build time so `GET /v1/event-types` and config checks work from any working directory.
//! Sources use them to refuse event types outside the provider's catalog
//! (`only_catalog_events`) and to catch typos in their own `allowed_events`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

const FILES: &[(&str, &str)] = &[
    ("cidaas", include_str!("../../config/catalogs/cidaas.txt")),
    (
        "cryptlex",
        include_str!("../../config/catalogs/cryptlex.txt"),
    ),
    ("github", include_str!("../../config/catalogs/github.txt")),
    ("nexudus", include_str!("../../config/catalogs/nexudus.txt")),
    (
        "recurring-payments",
        include_str!("../../config/catalogs/recurring-payments.txt"),
    ),
    (
        "roamingiq",
        include_str!("../../config/catalogs/roamingiq.txt"),
    ),
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
        assert!(events("nope").is_none());
        for (provider, events) in all() {
            let mut seen = std::collections::HashSet::new();
            for e in events {
                assert!(!e.contains(char::is_whitespace), "{provider}: `{e}`");
                assert!(seen.insert(e), "{provider}: `{e}` listed twice");
            }
        }
    }
}
