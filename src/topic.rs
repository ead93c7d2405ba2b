//! Topic routing: which Kafka topic an event goes to.
//!
//! Owns: topic templates (`webhooks.{provider}.{event_type}`), per-source and per-event
//! overrides, and making names legal for Kafka. Source and provider are substituted when the
//! config loads and per-event overrides are rendered then too, so the hot path only fills in
//! the event type.

use std::collections::BTreeMap;
use std::sync::Arc;

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

/// A source's routing table.
#[derive(Debug, Clone)]
pub struct TopicRouter {
    /// The source's template with source and provider substituted.
    default: TopicTemplate,
    /// Fully rendered topics for event types that have their own template.
    per_event: BTreeMap<String, Arc<str>>,
}

impl TopicRouter {
    pub fn new(
        source: &str,
        provider: &str,
        default: TopicTemplate,
        per_event: BTreeMap<String, TopicTemplate>,
    ) -> Self {
        let per_event = per_event
            .into_iter()
            .map(|(event, t)| {
                let rendered = t.bind(source, provider, Some(&event)).render_event(&event);
                (event, Arc::from(rendered))
            })
            .collect();
        TopicRouter {
            default: default.bind(source, provider, None),
            per_event,
        }
    }

    /// The topic for `event_type`.
    pub fn route(&self, event_type: &str) -> Arc<str> {
        match self.per_event.get(event_type) {
            Some(topic) => topic.clone(),
            None => Arc::from(self.default.render_event(event_type)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(template: &str, event: &str) -> String {
        let t = TopicTemplate::parse(template).expect("template");
        TopicRouter::new("gh-main", "github", t, BTreeMap::new())
            .route(event)
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
        );
        assert_eq!(&*router.route("push"), "git.pushes.gh");
        assert_eq!(&*router.route("issues"), "webhooks.github.issues");
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
