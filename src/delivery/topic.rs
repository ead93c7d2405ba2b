//! Topic routing: which Kafka topic an event goes to.
//!
//! Owns: topic templates (`webhooks.{provider}.{event_type}`), per-source and per-event
//! overrides, and making names legal for Kafka. Source and provider are substituted when the
//! config loads and per-event overrides are rendered then too, so the hot path only fills in
//! the event type.
//!
//! Also owns the bound on how many topics senders can make the gateway use (and so create):
//! an event type gets a topic of its own only if it is in the provider's catalog (when one
//! ships), among the first `max_topics_per_source` of its source, and within the process-wide
//! [`TopicBudget`]; every other event goes to the source's fallback topic, never a new one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use sha2::{Digest, Sha256};

/// Kafka's limit on topic name length.
pub const MAX_TOPIC_LEN: usize = 249;

#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    #[error("topic template is empty")]
    Empty,
    #[error("unknown placeholder `{{{0}}}` (use {{source}}, {{provider}} or {{event_type}})")]
    UnknownPlaceholder(String),
    #[error("a `{{` is never closed")]
    Unclosed,
    #[error("`{0}` is not allowed in Kafka topic names (letters, digits, '.', '_', '-')")]
    IllegalChar(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Source,
    Provider,
    EventType,
}

/// A parsed topic template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTemplate {
    parts: Vec<Part>,
}

impl TopicTemplate {
    pub fn parse(template: &str) -> Result<Self, TopicError> {
        if template.is_empty() {
            return Err(TopicError::Empty);
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(literal(&rest[..open])?);
            }
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or(TopicError::Unclosed)?;
            parts.push(match &after[..close] {
                "source" => Part::Source,
                "provider" => Part::Provider,
                "event_type" => Part::EventType,
                other => return Err(TopicError::UnknownPlaceholder(other.to_owned())),
            });
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(literal(rest)?);
        }
        Ok(TopicTemplate { parts })
    }

    /// Substitutes what is known; event type stays a placeholder if `event_type` is `None`.
    fn bind(&self, source: &str, provider: &str, event_type: Option<&str>) -> TopicTemplate {
        let mut parts: Vec<Part> = Vec::new();
        for part in &self.parts {
            let text = match part {
                Part::Literal(s) => s.clone(),
                Part::Source => sanitize(source),
                Part::Provider => sanitize(provider),
                Part::EventType => match event_type {
                    Some(e) => sanitize(e),
                    None => {
                        parts.push(Part::EventType);
                        continue;
                    }
                },
            };
            match parts.last_mut() {
                Some(Part::Literal(prev)) => prev.push_str(&text),
                _ => parts.push(Part::Literal(text)),
            }
        }
        TopicTemplate { parts }
    }

    /// Whether the template renders event types into the name.
    fn has_event_type(&self) -> bool {
        self.parts.contains(&Part::EventType)
    }

    /// Whether `name` is a name this template can make: placeholders stand for one or more
    /// legal characters, literals for themselves.
    pub fn matches(&self, name: &str) -> bool {
        fn from(parts: &[Part], name: &str) -> bool {
            match parts.split_first() {
                None => name.is_empty(),
                Some((Part::Literal(l), rest)) => {
                    name.strip_prefix(l.as_str()).is_some_and(|n| from(rest, n))
                }
                Some((_, rest)) => (1..=name.len())
                    .filter(|&i| name.is_char_boundary(i))
                    .take_while(|&i| name[..i].chars().all(is_legal))
                    .any(|i| from(rest, &name[i..])),
            }
        }
        // Templates have a handful of parts: the recursion is as deep as that, no deeper.
        from(&self.parts, name)
    }

    fn render_event(&self, event_type: &str) -> String {
        let mut out = String::with_capacity(64);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::EventType => out.push_str(&sanitize(event_type)),
                // `bind` already replaced these.
                Part::Source | Part::Provider => {}
            }
        }
        finish(out)
    }
}

fn literal(s: &str) -> Result<Part, TopicError> {
    match s.chars().find(|c| !is_legal(*c)) {
        Some(c) => Err(TopicError::IllegalChar(c)),
        None => Ok(Part::Literal(s.to_owned())),
    }
}

fn is_legal(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Whether `name` is a topic name Kafka accepts as it is.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TOPIC_LEN
        && name != "."
        && name != ".."
        && name.chars().all(is_legal)
}

/// Replaces every character Kafka forbids in topic names with `_`.
pub fn sanitize(value: &str) -> String {
    value
        .chars()
        .map(|c| if is_legal(c) { c } else { '_' })
        .collect()
}

/// Caps the length (keeping names distinct with a hash suffix) and avoids `.`/`..`.
fn finish(mut name: String) -> String {
    if name == "." || name == ".." {
        name = name.replace('.', "_");
    }
    if name.len() > MAX_TOPIC_LEN {
        let hash = hex::encode(&Sha256::digest(name.as_bytes())[..4]);
        name.truncate(MAX_TOPIC_LEN - hash.len() - 1);
        name.push('-');
        name.push_str(&hash);
    }
    name
}

/// The event type whose rendering of a source's template is its default fallback topic
/// (`webhooks.github._other`).
pub const FALLBACK_EVENT_TYPE: &str = "_other";

/// The distinct event-type topics the gateway routes to, across all sources, for the life of
/// the process (it outlives config reloads): at most `max_topics`. Topics named in the config
/// (per-event overrides, templates without `{event_type}`, fallback and dead-letter topics) are
/// outside it: the config bounds those.
#[derive(Debug)]
pub struct TopicBudget {
    max_topics: usize,
    topics: Mutex<HashSet<Arc<str>>>,
    /// Set once the cap was first met (it is logged once).
    full: AtomicBool,
}

impl TopicBudget {
    pub fn new(max_topics: usize) -> Self {
        TopicBudget {
            max_topics,
            topics: Mutex::new(HashSet::new()),
            full: AtomicBool::new(false),
        }
    }

    /// Takes `topic` into the budget (a topic already in it costs nothing); `false` when the
    /// budget is spent.
    fn admit(&self, topic: &Arc<str>) -> bool {
        let Ok(mut topics) = self.topics.lock() else {
            return false;
        };
        if topics.contains(topic) {
            return true;
        }
        if topics.len() >= self.max_topics {
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    max_topics = self.max_topics,
                    "kafka.max_topics reached: events of further new event types go to their source's fallback topic"
                );
            }
            return false;
        }
        topics.insert(topic.clone());
        true
    }

    /// Event-type topics routed to so far.
    pub fn len(&self) -> usize {
        self.topics.lock().map(|t| t.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where an event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub topic: Arc<str>,
    /// Why the event went to the fallback topic instead of one of its own (a metric label).
    pub fallback: Option<&'static str>,
}

/// How a source routes event types it has no per-event topic for.
#[derive(Debug, Clone)]
pub struct RouteLimits {
    /// The provider's catalog: other event types take the fallback topic. `None`: no catalog.
    pub catalog: Option<HashSet<String>>,
    /// Distinct event-type topics this source may route to.
    pub max_topics_per_source: usize,
    /// The fallback topic as configured (a template without `{event_type}`); `None`: the
    /// source's template rendered for [`FALLBACK_EVENT_TYPE`].
    pub fallback: Option<TopicTemplate>,
}

/// A source's routing table.
#[derive(Debug)]
pub struct TopicRouter {
    source: String,
    /// The source's template with source and provider substituted.
    default: TopicTemplate,
    /// The one topic of a template without `{event_type}`.
    fixed: Option<Arc<str>>,
    /// Fully rendered topics for event types that have their own template.
    per_event: BTreeMap<String, Arc<str>>,
    catalog: Option<HashSet<String>>,
    fallback: Arc<str>,
    max_topics: usize,
    /// Event types given a topic of their own so far (at most `max_topics` entries).
    admitted: RwLock<HashMap<String, Arc<str>>>,
    /// Set once the source's limit was first met (it is logged once).
    full: AtomicBool,
}

impl TopicRouter {
    pub fn new(
        source: &str,
        provider: &str,
        default: TopicTemplate,
        per_event: BTreeMap<String, TopicTemplate>,
        limits: RouteLimits,
    ) -> Self {
        let per_event = per_event
            .into_iter()
            .map(|(event, t)| {
                let rendered = t.bind(source, provider, Some(&event)).render_event(&event);
                (event, Arc::from(rendered))
            })
            .collect();
        let default = default.bind(source, provider, None);
        let fixed = (!default.has_event_type()).then(|| Arc::from(default.render_event("")));
        let fallback = match &limits.fallback {
            Some(t) => t.bind(source, provider, None).render_event(""),
            None => default.render_event(FALLBACK_EVENT_TYPE),
        };
        TopicRouter {
            source: source.to_owned(),
            default,
            fixed,
            per_event,
            catalog: limits.catalog,
            fallback: Arc::from(fallback),
            max_topics: limits.max_topics_per_source,
            admitted: RwLock::new(HashMap::new()),
            full: AtomicBool::new(false),
        }
    }

    /// The topic for `event_type`: its per-event topic, the source's one topic, a topic of its
    /// own while the bounds allow, else the fallback topic.
    pub fn route(&self, event_type: &str, budget: &TopicBudget) -> Route {
        let own = |topic: &Arc<str>| Route {
            topic: topic.clone(),
            fallback: None,
        };
        if let Some(topic) = self.per_event.get(event_type).or(self.fixed.as_ref()) {
            return own(topic);
        }
        if let Some(topic) = self
            .admitted
            .read()
            .ok()
            .and_then(|a| a.get(event_type).cloned())
        {
            return own(&topic);
        }
        if self
            .catalog
            .as_ref()
            .is_some_and(|c| !c.contains(event_type))
        {
            return self.fallback("not_in_catalog");
        }
        let Ok(mut admitted) = self.admitted.write() else {
            return self.fallback("source_topic_limit");
        };
        if let Some(topic) = admitted.get(event_type) {
            return own(topic);
        }
        if admitted.len() >= self.max_topics {
            if !self.full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    source = %self.source,
                    max_topics_per_source = self.max_topics,
                    fallback = %self.fallback,
                    "the source's limit of event-type topics is reached: events of further new event types go to its fallback topic"
                );
            }
            return self.fallback("source_topic_limit");
        }
        let topic: Arc<str> = Arc::from(self.default.render_event(event_type));
        if !budget.admit(&topic) {
            return self.fallback("topic_limit");
        }
        admitted.insert(event_type.to_owned(), topic.clone());
        own(&topic)
    }

    fn fallback(&self, reason: &'static str) -> Route {
        Route {
            topic: self.fallback.clone(),
            fallback: Some(reason),
        }
    }

    /// The topic events go to when they cannot have one of their own.
    pub fn fallback_topic(&self) -> &str {
        &self.fallback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unbounded() -> RouteLimits {
        RouteLimits {
            catalog: None,
            max_topics_per_source: 1000,
            fallback: None,
        }
    }

    fn route(template: &str, event: &str) -> String {
        let t = TopicTemplate::parse(template).expect("template");
        TopicRouter::new("gh-main", "github", t, BTreeMap::new(), unbounded())
            .route(event, &TopicBudget::new(10))
            .topic
            .to_string()
    }

    #[test]
    fn default_template_renders() {
        let cases = [
            (
                "webhooks.{provider}.{event_type}",
                "push",
                "webhooks.github.push",
            ),
            ("{source}-events", "push", "gh-main-events"),
            (
                "webhooks.{provider}.{event_type}",
                "pull request/opened",
                "webhooks.github.pull_request_opened",
            ),
            ("w.{event_type}", "USER_CREATED", "w.USER_CREATED"),
            ("w.{event_type}", "ünï", "w._n_"),
            ("{event_type}", "..", "__"),
        ];
        for (template, event, expected) in cases {
            assert_eq!(route(template, event), expected, "{template} / {event}");
        }
    }

    #[test]
    fn long_names_are_capped_but_stay_distinct() {
        let a = route("w.{event_type}", &"a".repeat(300));
        let b = route("w.{event_type}", &format!("{}b", "a".repeat(299)));
        assert_eq!(a.len(), MAX_TOPIC_LEN);
        assert_eq!(b.len(), MAX_TOPIC_LEN);
        assert_ne!(a, b);
    }

    #[test]
    fn per_event_overrides_win() {
        let mut per_event = BTreeMap::new();
        per_event.insert(
            "push".to_owned(),
            TopicTemplate::parse("git.pushes.{source}").expect("template"),
        );
        let router = TopicRouter::new(
            "gh",
            "github",
            TopicTemplate::parse("webhooks.{provider}.{event_type}").expect("template"),
            per_event,
            unbounded(),
        );
        let budget = TopicBudget::new(10);
        assert_eq!(&*router.route("push", &budget).topic, "git.pushes.gh");
        assert_eq!(
            &*router.route("issues", &budget).topic,
            "webhooks.github.issues"
        );
    }

    #[test]
    fn senders_cannot_make_topics_beyond_the_bounds() {
        let template = || TopicTemplate::parse("webhooks.{provider}.{event_type}").expect("t");
        let limits = RouteLimits {
            catalog: None,
            max_topics_per_source: 3,
            fallback: None,
        };
        let budget = TopicBudget::new(5);
        let a = TopicRouter::new("a", "acme", template(), BTreeMap::new(), limits.clone());
        let mut topics = HashSet::new();
        for i in 0..1000 {
            let route = a.route(&format!("evil_{i}"), &budget);
            assert_eq!(route.fallback.is_some(), i >= 3, "{i}: {route:?}");
            topics.insert(route.topic);
        }
        // Three of its own, then the fallback; a known event type keeps its topic.
        assert_eq!(topics.len(), 4);
        assert_eq!(a.fallback_topic(), "webhooks.acme._other");
        assert_eq!(a.route("evil_1", &budget).fallback, None);
        assert_eq!(budget.len(), 3);

        // The process-wide budget (5) runs out for the next source after two topics.
        let b = TopicRouter::new("b", "bcme", template(), BTreeMap::new(), limits);
        let routes: Vec<Route> = (0..3).map(|i| b.route(&format!("e{i}"), &budget)).collect();
        assert_eq!(routes[0].fallback, None);
        assert_eq!(routes[1].fallback, None);
        assert_eq!(routes[2].fallback, Some("topic_limit"));
        assert_eq!(&*routes[2].topic, "webhooks.bcme._other");
        assert_eq!(budget.len(), 5);

        // With a catalog, event types outside it never get a topic.
        let catalog = RouteLimits {
            catalog: Some(["push".to_owned()].into_iter().collect()),
            max_topics_per_source: 100,
            fallback: Some(TopicTemplate::parse("{source}.unrouted").expect("t")),
        };
        let gh = TopicRouter::new("gh", "github", template(), BTreeMap::new(), catalog);
        let budget = TopicBudget::new(100);
        assert_eq!(&*gh.route("push", &budget).topic, "webhooks.github.push");
        let other = gh.route("made_up", &budget);
        assert_eq!(
            (&*other.topic, other.fallback),
            ("gh.unrouted", Some("not_in_catalog"))
        );
        assert_eq!(budget.len(), 1);

        // A template without `{event_type}` is one topic, whatever arrives.
        let one = TopicRouter::new(
            "s",
            "p",
            TopicTemplate::parse("{source}-events").expect("t"),
            BTreeMap::new(),
            unbounded(),
        );
        assert_eq!(&*one.route("anything", &budget).topic, "s-events");
        assert_eq!(budget.len(), 1);
    }

    #[test]
    fn templates_match_the_names_they_make() {
        let t = TopicTemplate::parse("webhooks.{provider}.{event_type}").expect("t");
        assert!(t.matches("webhooks.github.push"));
        assert!(t.matches("webhooks.a.b.c"));
        assert!(!t.matches("webhooks.github."));
        assert!(!t.matches("other.github.push"));
        assert!(!t.matches("webhooks.github"));
        let fixed = TopicTemplate::parse("webhooks.dead-letter").expect("t");
        assert!(fixed.matches("webhooks.dead-letter"));
        assert!(!fixed.matches("webhooks.dead-letters"));
    }

    #[test]
    fn bad_templates_are_rejected() {
        assert!(matches!(TopicTemplate::parse(""), Err(TopicError::Empty)));
        assert!(matches!(
            TopicTemplate::parse("a.{x}"),
            Err(TopicError::UnknownPlaceholder(_))
        ));
        assert!(matches!(
            TopicTemplate::parse("a.{source"),
            Err(TopicError::Unclosed)
        ));
        assert!(matches!(
            TopicTemplate::parse("a b"),
            Err(TopicError::IllegalChar(' '))
        ));
    }
}
