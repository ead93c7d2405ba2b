//! A `[sources.NAME]` section (from the config file or the admin API), with its provider's
//! preset filled in, checked and compiled into the [`Source`] the pipeline runs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::base::secret::Secret;
use crate::base::setting::{resolve_secret, ConfigError, EnvLookup, SecretRef};
use crate::delivery::topic::{RouteLimits, TopicError, TopicRouter, TopicTemplate};
use crate::ingest::access::{parse_nets, AllowList};
use crate::ingest::auth::jwt::JwtOverrides;
use crate::ingest::auth::{AuthConfig, Verifier};
use crate::ingest::confirm::Subscription;
use crate::ingest::envelope::RecordFormat;
use crate::ingest::event::{EventSpec, Locator};
use crate::ingest::fetch::Fetcher;
use crate::ingest::handshake::{Handshake, HandshakeKind};
use crate::ingest::intake::Limits;
use crate::ingest::payload::MediaType;
use crate::ingest::schema::MissingSchema;
use crate::ingest::source::{OnInvalid, Source, SuccessReply};
use crate::providers;

/// `[sources.NAME]`: one upstream provider account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A preset name (`github`) or any label of your own (`acme-billing`). It names the schema
    /// folder and the `{provider}` part of topics. Presets supply `auth` and the event locators.
    pub provider: String,
    /// Secrets (HMAC keys or API keys). Several entries = rotation: any one matching is enough.
    #[serde(default)]
    pub secrets: Vec<SecretRef>,
    /// How deliveries prove who sent them. Required unless the provider is a preset.
    pub auth: Option<AuthConfig>,
    /// This source's values for a JWT recipe (its own or its preset's): `jwks_url`,
    /// `algorithms`, `issuer`, `audience`, `claims` (Google Pub/Sub: the audience and the push
    /// service account's `email`; FusionAuth: an RSA key's algorithm and its instance's key set).
    pub jwt: Option<JwtOverrides>,
    /// Where the event type is: `{ header = "X-Event" }` or `{ pointer = "/type" }`.
    pub event_type: Option<Locator>,
    /// Where the provider's delivery id is (optional).
    pub delivery_id: Option<Locator>,
    /// Where the provider's event time is (optional; RFC 3339 string or Unix seconds/ms).
    pub event_time: Option<Locator>,
    /// Where the provider's context object is (optional; becomes `current_context`).
    pub context: Option<Locator>,
    /// What to do with an event type that has no schema file.
    #[serde(default)]
    pub on_missing_schema: MissingSchema,
    /// What to do with an authenticated delivery that cannot be parsed, has no usable or
    /// allowed event type, or fails its schema.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// Dead-letter topic of this source (overrides `kafka.dead_letter_topic`).
    pub dead_letter_topic: Option<String>,
    /// The shape of published records: the gateway's envelope, or CloudEvents.
    #[serde(default)]
    pub format: RecordFormat,
    /// Topic template for this source (overrides `kafka.topic_template`).
    pub topic: Option<String>,
    /// Topic template per event type (overrides `topic`).
    #[serde(default)]
    pub topics: BTreeMap<String, String>,
    /// Where events go that cannot have a topic of their own (outside the provider's catalog,
    /// or beyond `max_topics_per_source` / `kafka.max_topics`): a template without
    /// `{event_type}`. Default: the source's template rendered for the event type `_other`.
    pub fallback_topic: Option<String>,
    /// Overrides `kafka.max_topics_per_source`.
    pub max_topics_per_source: Option<usize>,
    /// Body limit for this source (overrides `server.max_body_bytes`).
    pub max_body_bytes: Option<usize>,
    /// Nesting limit for this source's JSON (overrides `server.max_json_depth`).
    pub max_json_depth: Option<usize>,
    /// The URL the provider calls, as configured at the provider (scheme, host, path; the
    /// request's query string is appended). Needed by providers that sign the URL, since the
    /// gateway may sit behind a proxy that changes it.
    pub public_url: Option<String>,
    /// Provider handshake to answer (presets set it): `slack_url_verification`,
    /// `zoom_url_validation`, `discord_ping`, `xero_intent_to_receive`, `okta_verification`,
    /// `x_crc`, `hub_verify`, `challenge_echo`, `head_ok`, `twitch_eventsub`,
    /// `smartcar_verify`, `front_challenge`, `challenge_json`, `linkedin_challenge`.
    pub handshake: Option<HandshakeKind>,
    /// The token a `hub_verify` handshake must carry (Meta's `hub.verify_token`, chosen when
    /// the webhook is set up at the provider): a secret reference, compared in constant time.
    /// Config file only: the admin API has no way to seal it yet.
    pub verify_token: Option<SecretRef>,
    /// With `handshake = "sns_subscription"`: confirm subscriptions by fetching their
    /// `SubscribeURL` (otherwise they are logged for the operator to confirm).
    #[serde(default)]
    pub confirm_subscriptions: bool,
    /// Hosts a `SubscribeURL` may name (default: SNS's, `sns.*.amazonaws.com` and
    /// `sns.*.amazonaws.com.cn`).
    pub confirm_hosts: Option<Vec<String>>,
    /// In form-encoded deliveries, the field whose value is the JSON payload (GitHub and
    /// Slack use `payload`).
    pub form_json_field: Option<String>,
    /// Read every body as `json` (or `form`) whatever its `Content-Type` says (AWS SNS labels
    /// its JSON `text/plain`; its preset sets this).
    pub media_type: Option<MediaType>,
    /// The answer on success, for providers that require a particular one (Adyen:
    /// `{ status = 200, body = "[accepted]" }`). Default: `202` with `{"id": …}`.
    pub success: Option<SuccessReply>,
    /// Only these event types are accepted (others: 422 `event_not_allowed`). When the provider
    /// has a catalog, every name must be in it.
    pub allowed_events: Option<Vec<String>>,
    /// Only event types of the provider's catalog are accepted.
    #[serde(default)]
    pub only_catalog_events: bool,
    /// Authenticated deliveries accepted per second, with bursts; more get 429 with
    /// `Retry-After`. Unset: no limit.
    pub rate_limit: Option<RateLimitConfig>,
    /// Client networks (CIDR) this source accepts; others get 403. Unset: all.
    #[serde(default)]
    pub allow_ips: Vec<String>,
}

/// `rate_limit = { per_second = 50, burst = 100 }`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub per_second: u32,
    /// Deliveries allowed at once after a quiet spell (default: `per_second`).
    pub burst: Option<u32>,
}

pub fn validate_source(
    name: &str,
    raw: SourceConfig,
    defaults: &SourceDefaults,
    env: EnvLookup<'_>,
    warnings: &mut Vec<String>,
) -> Result<Source, ConfigError> {
    let section = format!("sources.{name}");
    let mut secrets = Vec::with_capacity(raw.secrets.len());
    for (index, r) in raw.secrets.iter().enumerate() {
        let secret = resolve_secret(r, env).map_err(|reason| ConfigError::Secret {
            source_name: name.to_owned(),
            index,
            reason,
        })?;
        if matches!(r, SecretRef::InsecureDevValue(_)) {
            warnings.push(format!(
                "[{section}] secret #{index} is written in the config (insecure_dev_value): \
                 use env or file outside development"
            ));
        }
        secrets.push(secret);
    }
    let learns = raw
        .handshake
        .or_else(|| providers::preset(&raw.provider).and_then(|p| p.handshake))
        .is_some_and(|k| k.learns_secret());
    if learns && secrets.is_empty() {
        return Err(ConfigError::invalid(
            section,
            "secrets",
            "this provider teaches its secret at the handshake (`X-Hook-Secret`), which only \
             webhooks created through the admin API (with [admin.store]) can learn and keep; \
             for a config-file source, set the secret here and answer the handshake elsewhere",
        ));
    }
    let verify_token = match &raw.verify_token {
        Some(r) => Some(
            resolve_secret(r, env)
                .map_err(|reason| ConfigError::invalid(section.clone(), "verify_token", reason))?,
        ),
        None => None,
    };
    build_source(name, raw, secrets, verify_token, defaults, warnings)
}

/// What a source takes from the rest of the config when it does not set it itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDefaults {
    /// `[outbound]`: the client that fetches certificates and key sets.
    pub fetcher: Arc<Fetcher>,
    /// `kafka.topic_template`
    pub topic: TopicTemplate,
    /// `kafka.dead_letter_topic`
    pub dead_letter_topic: String,
    /// `server.max_body_bytes`
    pub max_body_bytes: usize,
    /// `server.max_json_depth`
    pub max_json_depth: usize,
    /// `kafka.max_topics_per_source`
    pub max_topics_per_source: usize,
    /// `server.body_read_timeout_ms`
    pub body_timeout: Duration,
}

/// Checks one source definition and compiles it for the hot path. `secrets` and
/// `verify_token` are already resolved (from the file's references, or decrypted from the
/// admin store); `raw.secrets` and `raw.verify_token` are not read. Errors name the section
/// `sources.{name}` and the key.
pub fn build_source(
    name: &str,
    raw: SourceConfig,
    secrets: Vec<Secret>,
    verify_token: Option<Secret>,
    defaults: &SourceDefaults,
    warnings: &mut Vec<String>,
) -> Result<Source, ConfigError> {
    let section = format!("sources.{name}");
    if !is_valid_source_name(name) {
        return Err(ConfigError::invalid(
            section,
            "name",
            "source names are URL path segments: use only letters, digits, '-', '_' and '.'",
        ));
    }
    if raw.provider.trim().is_empty() || raw.provider.contains(['/', '\\']) {
        return Err(ConfigError::invalid(
            section,
            "provider",
            "must be a non-empty name without '/' (it names a schema folder)",
        ));
    }
    let preset = providers::preset(&raw.provider);

    let mut auth = match (raw.auth, &preset) {
        (Some(auth), _) => auth,
        (None, Some(p)) => match &p.auth {
            Some(auth) => auth.clone(),
            None => {
                return Err(ConfigError::invalid(
                    section,
                    "auth",
                    format!(
                        "provider `{}` does not document how its deliveries authenticate, so \
                         `auth` must be set, e.g. auth = {{ type = \"api_key\", header = \"X-API-Key\" }}",
                        raw.provider
                    ),
                ));
            }
        },
        (None, None) => {
            return Err(ConfigError::invalid(
                section,
                "auth",
                format!(
                    "provider `{}` is not a preset ({}), so `auth` must be set \
                     (type = \"hmac\", \"api_key\" or \"none\")",
                    raw.provider,
                    providers::NAMES.join(", ")
                ),
            ))
        }
    };

    match (&mut auth, &raw.jwt) {
        (AuthConfig::Jwt(c), Some(overrides)) => c.apply(overrides),
        (_, Some(_)) => {
            return Err(ConfigError::invalid(
                section,
                "jwt",
                "only sources whose auth type is \"jwt\" take `jwt` values",
            ))
        }
        _ => {}
    }
    if matches!(auth, AuthConfig::Jwt(_)) && !auth.uses_secrets() {
        if !secrets.is_empty() {
            return Err(ConfigError::invalid(
                section,
                "secrets",
                "this source's keys come from its `jwt.jwks_url`: remove `secrets`",
            ));
        }
    } else if matches!(auth, AuthConfig::None) {
        if !secrets.is_empty() {
            return Err(ConfigError::invalid(
                section,
                "secrets",
                "auth type \"none\" takes no secrets; remove them or choose an auth type",
            ));
        }
        warnings.push(format!(
            "[{section}] auth type \"none\": ANYONE who can reach /webhooks/{name} can publish \
             events; use it only behind another authenticating layer"
        ));
    }
    let handshake_kind = raw
        .handshake
        .or_else(|| preset.as_ref().and_then(|p| p.handshake));
    // A source whose handshake teaches the secret starts without one (API-created webhooks;
    // `validate_source` refuses that for the config file, which cannot learn).
    let awaiting_secret = secrets.is_empty() && handshake_kind.is_some_and(|k| k.learns_secret());
    let keys_from_jwks = matches!(auth, AuthConfig::Jwt(_)) && !auth.uses_secrets();
    if secrets.is_empty()
        && !awaiting_secret
        && !keys_from_jwks
        && !matches!(auth, AuthConfig::None)
    {
        return Err(ConfigError::invalid(
            section,
            "secrets",
            "at least one secret is required (several = rotation)",
        ));
    }
    let uses_token = handshake_kind.is_some_and(|k| k.uses_verify_token());
    match (uses_token, &verify_token) {
        (true, None) => {
            return Err(ConfigError::invalid(
                section,
                "verify_token",
                "the `hub_verify` handshake needs the token set at the provider, e.g. \
                 verify_token = { env = \"META_VERIFY_TOKEN\" } (config file only)",
            ))
        }
        (false, Some(_)) => {
            return Err(ConfigError::invalid(
                section,
                "verify_token",
                "only the `hub_verify` handshake (Meta) uses a verify token; remove it",
            ))
        }
        _ => {}
    }
    let handshake = match handshake_kind {
        Some(kind) => Some(
            Handshake::new(kind, &secrets, verify_token.as_ref())
                .map_err(|e| ConfigError::invalid(section.clone(), "handshake", e))?,
        ),
        None => None,
    };
    let subscription = match handshake_kind {
        Some(HandshakeKind::SnsSubscription) => Some(
            Subscription::new(
                raw.confirm_subscriptions,
                raw.confirm_hosts.as_deref(),
                defaults.fetcher.clone(),
            )
            .map_err(|e| ConfigError::invalid(section.clone(), "confirm_hosts", e.to_string()))?,
        ),
        _ if raw.confirm_subscriptions || raw.confirm_hosts.is_some() => {
            return Err(ConfigError::invalid(
                section,
                "confirm_subscriptions",
                "only sources with handshake = \"sns_subscription\" confirm subscriptions",
            ));
        }
        _ => None,
    };
    let media_type = raw
        .media_type
        .or_else(|| preset.as_ref().and_then(|p| p.media_type));
    let form_json_field = raw.form_json_field.clone().or_else(|| {
        preset
            .as_ref()
            .and_then(|p| p.form_json_field.map(str::to_owned))
    });
    let success = raw
        .success
        .clone()
        .or_else(|| preset.as_ref().and_then(|p| p.success.clone()));
    if let Some(s) = &success {
        if !(200..300).contains(&s.status) {
            return Err(ConfigError::invalid(
                section,
                "success",
                "status must be 2xx",
            ));
        }
    }
    let catalog = crate::providers::catalog::events(&raw.provider);
    let allowed_events = match (&raw.allowed_events, raw.only_catalog_events, catalog) {
        (_, true, None) => {
            return Err(ConfigError::invalid(
                section,
                "only_catalog_events",
                format!("there is no event catalog for provider `{}`", raw.provider),
            ));
        }
        (Some(list), _, Some(catalog)) => {
            let unknown: Vec<&str> = list
                .iter()
                .map(String::as_str)
                .filter(|e| !catalog.contains(e))
                .collect();
            if !unknown.is_empty() {
                return Err(ConfigError::invalid(
                    section,
                    "allowed_events",
                    format!(
                        "some events are not in the `{}` catalog: {}",
                        raw.provider,
                        unknown.join(", ")
                    ),
                ));
            }
            Some((list.iter().cloned().collect(), "allowed_events"))
        }
        (Some(list), _, None) => Some((list.iter().cloned().collect(), "allowed_events")),
        (None, true, Some(catalog)) => Some((
            catalog.iter().map(|e| (*e).to_owned()).collect(),
            "only_catalog_events",
        )),
        (None, false, _) => None,
    };
    let verifier = if awaiting_secret {
        // Checked with a stand-in key, so a bad `auth` is refused now, not at the handshake.
        Verifier::with_fetcher(
            &auth,
            vec![Secret::new(b"stand-in for a learned secret".to_vec())],
            raw.public_url.as_deref(),
            &defaults.fetcher,
        )
        .map_err(|e| ConfigError::invalid(section.clone(), "auth", e.to_string()))?;
        Verifier::awaiting_secret()
    } else {
        Verifier::with_fetcher(&auth, secrets, raw.public_url.as_deref(), &defaults.fetcher)
            .map_err(|e| ConfigError::invalid(section.clone(), "auth", e.to_string()))?
    };

    let pick = |own: Option<Locator>, from_preset: fn(&providers::Preset) -> Option<Locator>| {
        own.or_else(|| preset.as_ref().and_then(from_preset))
    };
    let Some(event_type) = pick(raw.event_type, |p| p.event_type.clone()) else {
        return Err(ConfigError::invalid(
            section,
            "event_type",
            "required: where the event type is, e.g. { header = \"X-Event-Type\" } or \
             { pointer = \"/type\" }",
        ));
    };
    let event = EventSpec::new(
        event_type,
        pick(raw.delivery_id, |p| p.delivery_id.clone()),
        pick(raw.event_time, |p| p.event_time.clone()),
        pick(raw.context, |p| p.context.clone()),
    )
    .map_err(|e| ConfigError::invalid(section.clone(), "event_type", e.to_string()))?;

    let topic_error = |key: &'static str| {
        let section = section.clone();
        move |e: TopicError| ConfigError::invalid(section, key, e.to_string())
    };
    let default = match &raw.topic {
        Some(t) => TopicTemplate::parse(t).map_err(topic_error("topic"))?,
        None => defaults.topic.clone(),
    };
    let mut per_event = BTreeMap::new();
    for (event, template) in &raw.topics {
        per_event.insert(
            event.clone(),
            TopicTemplate::parse(template).map_err(topic_error("topics"))?,
        );
    }
    let fallback = raw
        .fallback_topic
        .as_deref()
        .map(TopicTemplate::parse)
        .transpose()
        .map_err(topic_error("fallback_topic"))?;
    if raw
        .fallback_topic
        .as_deref()
        .is_some_and(|t| t.contains("{event_type}"))
    {
        return Err(ConfigError::invalid(
            section,
            "fallback_topic",
            "must not contain {event_type}: it is the one topic for event types that get none of their own",
        ));
    }
    let max_topics_per_source = raw
        .max_topics_per_source
        .unwrap_or(defaults.max_topics_per_source);
    if max_topics_per_source == 0 {
        return Err(ConfigError::invalid(
            section,
            "max_topics_per_source",
            "must be >= 1",
        ));
    }
    let route_limits = RouteLimits {
        catalog: crate::providers::catalog::events(&raw.provider)
            .map(|events| events.iter().map(|e| (*e).to_owned()).collect()),
        max_topics_per_source,
        fallback,
    };

    let rate_limiter = match raw.rate_limit {
        None => None,
        Some(r) => {
            let per_second = std::num::NonZeroU32::new(r.per_second).ok_or_else(|| {
                ConfigError::invalid(section.clone(), "rate_limit", "per_second must be > 0")
            })?;
            let burst =
                std::num::NonZeroU32::new(r.burst.unwrap_or(r.per_second)).ok_or_else(|| {
                    ConfigError::invalid(section.clone(), "rate_limit", "burst must be > 0")
                })?;
            let quota = governor::Quota::per_second(per_second).allow_burst(burst);
            Some(governor::RateLimiter::direct(quota))
        }
    };
    let allow_ips = AllowList::new(
        parse_nets(&raw.allow_ips)
            .map_err(|e| ConfigError::invalid(section.clone(), "allow_ips", e.to_string()))?,
    );
    let max_body_bytes = raw.max_body_bytes.unwrap_or(defaults.max_body_bytes);
    if max_body_bytes == 0 {
        return Err(ConfigError::invalid(
            section,
            "max_body_bytes",
            "must be > 0",
        ));
    }

    let max_json_depth = raw.max_json_depth.unwrap_or(defaults.max_json_depth);
    check_json_depth(&section, max_json_depth)?;

    let dead_letter_topic: Arc<str> = match &raw.dead_letter_topic {
        Some(t) if !crate::delivery::topic::is_valid_name(t) => {
            return Err(ConfigError::invalid(
                section,
                "dead_letter_topic",
                "must be a Kafka topic name: 1 to 249 of `a-z A-Z 0-9 . _ -`",
            ))
        }
        Some(t) => t.as_str().into(),
        None => defaults.dead_letter_topic.as_str().into(),
    };
    Ok(Source {
        name: name.to_owned(),
        provider: raw.provider.clone(),
        topics: TopicRouter::new(name, &raw.provider, default, per_event, route_limits),
        verifier,
        event,
        on_missing_schema: raw.on_missing_schema,
        on_invalid: raw.on_invalid,
        format: raw.format,
        dead_letter_topic,
        ce_source: format!("/webhooks/{name}"),
        handshake,
        subscription,
        form_json_field,
        media_type,
        max_json_depth,
        success,
        allowed_events,
        limits: Limits {
            max_body_bytes,
            body_timeout: defaults.body_timeout,
        },
        rate_limiter,
        allow_ips,
    })
}

/// `max_json_depth` between 1 and the highest depth measured safe on a worker's stack.
pub fn check_json_depth(section: &str, depth: usize) -> Result<(), ConfigError> {
    let max = crate::base::json::MAX_DEPTH_LIMIT;
    if (1..=max).contains(&depth) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            section,
            "max_json_depth",
            format!(
                "must be between 1 and {max} (default {}); provider payloads nest 8 levels or fewer",
                crate::base::json::DEFAULT_MAX_DEPTH
            ),
        ))
    }
}

pub fn is_valid_source_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
