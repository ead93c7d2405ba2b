//! Provider presets: what known providers send, as data.
//!
//! Owns: the table of presets. A preset is a value (how deliveries are signed and where the
//! event type, delivery id, event time and context live), never code of its own; the generic
//! machinery in `auth` and `event` does the work. A source's own keys override any of it.
//! Each arm cites where its facts come from (the provider's docs or official SDK).
//!
//! Adding a provider: add its name to [`NAMES`] and one arm to [`preset`], then a test below
//! with the provider's published vector (or one its official SDK produced).

pub mod build;
pub mod catalog;

use crate::ingest::auth::jwt::{HashClaim, JwtAlgorithm, JwtConfig};
use crate::ingest::auth::{Algorithm, Encoding, KeyEncoding, TimestampFormat};
use crate::ingest::auth::{AuthConfig, SignatureConfig};
use crate::ingest::auth::{CertificateUrlConfig, Chain, SignedFields};
use crate::ingest::event::FieldsConfig;
use crate::ingest::event::Locator;
use crate::ingest::handshake::HandshakeKind;
use crate::ingest::payload::MediaType;
use crate::ingest::source::SuccessReply;

/// Defaults a provider brings to a source.
#[derive(Debug, Clone)]
pub struct Preset {
    /// `None` when the provider's docs do not say how deliveries authenticate: the source
    /// must then set `auth` itself.
    pub auth: Option<AuthConfig>,
    pub event_type: Option<Locator>,
    pub delivery_id: Option<Locator>,
    pub event_time: Option<Locator>,
    pub context: Option<Locator>,
    /// How the provider checks the endpoint, if it does.
    pub handshake: Option<HandshakeKind>,
    /// Form field that carries the JSON payload in form-encoded deliveries.
    pub form_json_field: Option<&'static str>,
    /// What the provider must get back on success, when it is not the default `202`.
    pub success: Option<SuccessReply>,
    /// How bodies are read when the provider's `Content-Type` does not say (AWS SNS).
    pub media_type: Option<MediaType>,
}

/// Names of every preset.
pub const NAMES: &[&str] = &[
    "acuity",
    "adyen",
    "airtable",
    "airwallex",
    "anthropic",
    "asana",
    "auth0",
    "authorize-net",
    "aws-sns",
    "azure-event-grid",
    "bitbucket",
    "bitbucket-server",
    "box",
    "braintree",
    "brex",
    "buildkite",
    "calendly",
    "cashfree",
    "castle",
    "chargebee",
    "checkout-com",
    "chunkify",
    "cidaas",
    "circleci",
    "clerk",
    "clickup",
    "cloudinary",
    "coinbase-commerce",
    "composio",
    "contentful",
    "creem",
    "cronofy",
    "cryptlex",
    "customer-io",
    "discord",
    "docusign",
    "dodo-payments",
    "dropbox",
    "easypost",
    "elevenlabs",
    "finch",
    "fingerprint",
    "fireblocks",
    "front",
    "fusionauth",
    "gitea",
    "github",
    "github-sha1",
    "gitlab",
    "gitlab-signing-token",
    "gocardless",
    "google-pubsub",
    "heroku",
    "hookdeck",
    "hubspot",
    "hygraph",
    "imagekit",
    "incident-io",
    "increase",
    "intercom",
    "jira",
    "kinde",
    "kontent-ai",
    "launchdarkly",
    "lemonsqueezy",
    "line",
    "linear",
    "linkedin",
    "linq",
    "lithic",
    "liveblocks",
    "mailersend",
    "mailgun",
    "messagebird",
    "meta",
    "metronome",
    "microsoft-graph",
    "modern-treasury",
    "monday",
    "moralis",
    "mux",
    "nango",
    "netlify",
    "nylas",
    "okta",
    "onfido",
    "openai",
    "orb",
    "paddle",
    "pagerduty",
    "pandadoc",
    "paypal",
    "paystack",
    "plivo",
    "polar",
    "postmark",
    "privy",
    "pusher",
    "razorpay",
    "recharge",
    "recurly",
    "render",
    "replicate",
    "resend",
    "retell",
    "revolut",
    "ringcentral",
    "saleor",
    "sanity",
    "sendgrid",
    "sentry",
    "shopify",
    "signalwire",
    "sinch",
    "slack",
    "smartcar",
    "square",
    "standard-webhooks",
    "straddle",
    "stream",
    "stripe",
    "stytch",
    "surge",
    "svix",
    "telegram",
    "telnyx",
    "terra",
    "terraform-cloud",
    "trello",
    "trigger-dev",
    "twilio",
    "twitch",
    "typeform",
    "unit",
    "upstash-qstash",
    "vercel",
    "viber",
    "vonage",
    "webflow",
    "whop",
    "wise",
    "wix",
    "woocommerce",
    "workos",
    "worldline",
    "x",
    "xero",
    "zendesk",
    "zoom",
];

/// Presets whose providers let the user choose the secret (the webhook form has a field for
/// it), so the admin API may generate one; the others issue their own signing secret or key,
/// which must be passed in.
pub const USER_CHOSEN_SECRET: &[&str] = &[
    "auth0",
    "azure-event-grid",
    "bitbucket",
    "bitbucket-server",
    "buildkite",
    "calendly",
    "cidaas",
    "circleci",
    "easypost",
    "gitea",
    "github",
    "github-sha1",
    "gitlab",
    "jira",
    "launchdarkly",
    "lemonsqueezy",
    "microsoft-graph",
    "okta",
    "razorpay",
    "ringcentral",
    "telegram",
    "terraform-cloud",
    "typeform",
    "woocommerce",
];

/// HMAC-SHA256 of the raw body, hex, no prefix, in `header`: the starting point of most presets.
fn hmac(header: &str) -> SignatureConfig {
    SignatureConfig::body_hmac_sha256(header)
}

/// Standard Webhooks' scheme under a header prefix (`webhook` or `svix`): HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`, base64, space-separated `v1,<sig>` list, `whsec_` base64 keys,
/// ±5 minutes (standard-webhooks spec v1.0.0 and its reference libraries).
fn standard_webhooks(prefix: &str) -> SignatureConfig {
    SignatureConfig {
        encoding: Encoding::Base64,
        prefix: "v1,".to_owned(),
        separator: Some(" ".to_owned()),
        signed: format!("{{header:{prefix}-id}}.{{timestamp}}.{{body}}"),
        timestamp_header: Some(format!("{prefix}-timestamp")),
        key_encoding: KeyEncoding::Base64,
        key_prefix: "whsec_".to_owned(),
        ..hmac(&format!("{prefix}-signature"))
    }
}

/// Stripe's layout, which Mux, WorkOS, Calendly and Sanity share: `t=<ts>,v1=<sig>[,v1=…]`
/// fields in `header`, signing `{t}.{body}`.
fn t_v1_fields(header: &str) -> SignatureConfig {
    SignatureConfig {
        fields: Some(fields(",", "v1", "t")),
        signed: "{timestamp}.{body}".to_owned(),
        ..hmac(header)
    }
}

fn with(auth: SignatureConfig) -> Option<AuthConfig> {
    Some(AuthConfig::Hmac(auth))
}

fn ptr(p: &str) -> Option<Locator> {
    Some(Locator::pointer(p))
}

fn hdr(h: &str) -> Option<Locator> {
    Some(Locator::header(h))
}

fn base(auth: Option<AuthConfig>, event_type: Option<Locator>) -> Preset {
    Preset {
        auth,
        event_type,
        delivery_id: None,
        event_time: None,
        context: None,
        handshake: None,
        form_json_field: None,
        success: None,
        media_type: None,
    }
}

/// The preset for `provider`, if it is one we know.
pub fn preset(provider: &str) -> Option<Preset> {
    Some(match provider {
        // Acuity Scheduling (developers.acuityscheduling.com/docs/webhooks): form-encoded
        // notifications (`action`, `id`, `calendarID`, `appointmentTypeID`) signed in
        // `X-Acuity-Signature`, base64 HMAC-SHA256 of the body keyed with the API key
        // (acuityscheduling `verifyMessageSignature`). `id` names the appointment or order, not
        // the delivery.
        "acuity" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64,
                ..hmac("X-Acuity-Signature")
            }),
            ptr("/action"),
        ),
        // Adyen standard notifications: an HMAC per item inside the body (hex key); Adyen
        // requires `200` with the body `[accepted]`.
        "adyen" => Preset {
            success: Some(SuccessReply {
                status: 200,
                body: Some("[accepted]".to_owned()),
            }),
            ..base(
                Some(AuthConfig::AdyenHmac),
                ptr("/notificationItems/0/NotificationRequestItem/eventCode"),
            )
        },
        // Airtable (airtable.com/developers/web/api/webhooks-overview): `X-Airtable-Content-MAC:
        // hmac-sha256=<hex>` of the body, keyed with the base64-decoded `macSecretBase64`. A
        // notification only says that a base changed (the changes are fetched from the API), so
        // every one has the type `notification`.
        "airtable" => Preset {
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    prefix: "hmac-sha256=".to_owned(),
                    key_encoding: KeyEncoding::Base64,
                    ..hmac("X-Airtable-Content-MAC")
                }),
                Some(Locator::Value("notification".to_owned())),
            )
        },
        // Airwallex (airwallex.com/docs/developer-tools/webhooks/listen-for-webhook-events):
        // `x-signature`, hex HMAC-SHA256 of `{x-timestamp}{body}`, the timestamp in ms.
        // Asana: the secret arrives in the `X-Hook-Secret` handshake and is learned (API-created
        // webhooks); deliveries carry `X-Hook-Signature`, hex HMAC-SHA256 of the body with it
        // (developers.asana.com/docs/webhooks-guide). A delivery is a batch in `events`.
        "asana" => Preset {
            handshake: Some(HandshakeKind::HookSecret),
            ..base(with(hmac("X-Hook-Signature")), ptr("/events/0/action"))
        },
        // RingCentral: the subscription check brings `Validation-Token`, echoed in the answer;
        // deliveries carry `Verification-Token`, the token set on the subscription
        // (developers.ringcentral.com/guide/notifications/webhooks/creating-webhooks).
        "ringcentral" => Preset {
            delivery_id: ptr("/uuid"),
            handshake: Some(HandshakeKind::ValidationTokenEcho),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("Verification-Token".to_owned()),
                }),
                ptr("/event"),
            )
        },
        // Microsoft Graph change notifications: the subscription check is a POST with
        // `?validationToken=`, echoed as text; every item of `value` carries `clientState`, the
        // secret set on the subscription
        // (learn.microsoft.com/graph/change-notifications-delivery-webhooks). Lifecycle
        // notifications name a `lifecycleEvent` instead of a `changeType`.
        "microsoft-graph" => Preset {
            handshake: Some(HandshakeKind::ValidationTokenQuery),
            ..base(
                Some(AuthConfig::BodyToken {
                    pointer: "/value/*/clientState".to_owned(),
                }),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/value/0/changeType"),
                    Locator::pointer("/value/0/lifecycleEvent"),
                ])),
            )
        },
        // Azure Event Grid (Event Grid event schema): no payload signature; the secret goes in
        // the endpoint URL's query string, `?code=<secret>`
        // (learn.microsoft.com/azure/event-grid/security-authentication). A delivery is an
        // array of events; the subscription validation event is answered with its code.
        "azure-event-grid" => Preset {
            delivery_id: ptr("/0/id"),
            event_time: ptr("/0/eventTime"),
            handshake: Some(HandshakeKind::EventGridValidation),
            ..base(
                Some(AuthConfig::QueryToken {
                    param: "code".to_owned(),
                }),
                ptr("/0/eventType"),
            )
        },
        "airwallex" => Preset {
            delivery_id: ptr("/id"),
            ..base(
                with(SignatureConfig {
                    signed: "{timestamp}{body}".to_owned(),
                    timestamp_header: Some("x-timestamp".to_owned()),
                    timestamp_format: TimestampFormat::UnixMillis,
                    ..hmac("x-signature")
                }),
                ptr("/name"),
            )
        },
        // Anthropic (platform.claude.com/docs/en/managed-agents/webhooks): Standard Webhooks with
        // `whsec_` signing keys (anthropic `beta.webhooks.unwrap` checks them with
        // `standardwebhooks`); `{type: "event", id, created_at, data: {type, id, …}}`, the event
        // named in `data.type`.
        "anthropic" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(with(standard_webhooks("webhook")), ptr("/data/type"))
        },
        // Auth0 custom log streams (auth0.com/docs/customize/log-streams/custom-log-streams): the
        // `Authorization` value set on the stream arrives as is; a delivery is a batch of logs.
        "auth0" => Preset {
            delivery_id: ptr("/0/log_id"),
            event_time: ptr("/0/data/date"),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("Authorization".to_owned()),
                }),
                ptr("/0/data/type"),
            )
        },
        // Authorize.net (developer.authorize.net/api/reference/features/webhooks.html):
        // `X-ANET-Signature: sha512=<HEX>`, HMAC-SHA512 of the body keyed with the Signature
        // Key's text; the hex is upper-case (any case is read).
        "authorize-net" => Preset {
            delivery_id: ptr("/notificationId"),
            event_time: ptr("/eventDate"),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha512,
                    prefix: "sha512=".to_owned(),
                    ..hmac("X-ANET-Signature")
                }),
                ptr("/eventType"),
            )
        },
        // AWS SNS HTTP(S) subscriptions (docs.aws.amazon.com/sns/latest/dg/
        // sns-verify-signature-of-message.html; aws/aws-php-sns-message-validator and
        // aws-js-sns-message-validator): a JSON body labelled `text/plain`, signed with the
        // certificate at `SigningCertURL` (see `sns_auth`). The secrets are the topic ARNs the
        // source accepts. Subscription messages are answered, never published.
        "aws-sns" => Preset {
            delivery_id: ptr("/MessageId"),
            event_time: ptr("/Timestamp"),
            handshake: Some(HandshakeKind::SnsSubscription),
            media_type: Some(MediaType::Json),
            ..base(
                Some(AuthConfig::CertificateUrl(sns_auth())),
                Some(Locator::FirstOf(vec![
                    Locator::header("x-amz-sns-message-type"),
                    Locator::pointer("/Type"),
                ])),
            )
        },
        // Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>` of the body; event in `X-Event-Key`.
        "bitbucket" => base(
            with(SignatureConfig {
                prefix: "sha256=".to_owned(),
                ..hmac("X-Hub-Signature")
            }),
            hdr("X-Event-Key"),
        ),
        // Bitbucket Data Center / Server (confluence.atlassian.com/bitbucketserver, "Manage
        // webhooks"): `X-Hub-Signature: sha256=<hex>` of the body; `X-Event-Key`, and
        // `X-Request-Id` per request.
        "bitbucket-server" => Preset {
            delivery_id: hdr("X-Request-Id"),
            ..base(
                with(SignatureConfig {
                    prefix: "sha256=".to_owned(),
                    ..hmac("X-Hub-Signature")
                }),
                hdr("X-Event-Key"),
            )
        },
        // Box (box-sdk-gen `WebhooksManager.validate_message`): base64 HMAC-SHA256 of
        // `{body}{box-delivery-timestamp}` keyed with the secret's text, in
        // `box-signature-primary` (primary key) and `box-signature-secondary` (secondary key);
        // configure both keys as secrets. The timestamp is RFC 3339; the SDK allows 10 minutes.
        "box" => Preset {
            delivery_id: hdr("box-delivery-id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    also_headers: vec!["box-signature-secondary".to_owned()],
                    encoding: Encoding::Base64,
                    signed: "{body}{timestamp}".to_owned(),
                    timestamp_header: Some("box-delivery-timestamp".to_owned()),
                    timestamp_format: TimestampFormat::Rfc3339,
                    tolerance_secs: 600,
                    ..hmac("box-signature-primary")
                }),
                ptr("/trigger"),
            )
        },
        // Brex (developer.brex.com/docs/webhooks): Standard Webhooks headers; the secrets that
        // `GET /v1/webhooks/secrets` lists are base64 without `whsec_` (accepted either way),
        // two of them during a rotation.
        "brex" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/event_type"))
        },
        // Buildkite pipeline webhooks (buildkite.com/docs/apis/webhooks/pipelines), with the
        // token sent as a signature: `X-Buildkite-Signature: timestamp=<s>,signature=<hex>`,
        // HMAC-SHA256 of `{timestamp}.{body}`. (The plain `X-Buildkite-Token` mode is the
        // `api_key` auth.)
        "buildkite" => base(
            with(SignatureConfig {
                fields: Some(fields(",", "signature", "timestamp")),
                signed: "{timestamp}.{body}".to_owned(),
                ..hmac("X-Buildkite-Signature")
            }),
            hdr("X-Buildkite-Event"),
        ),
        // Braintree: form fields `bt_signature` and `bt_payload` (braintree
        // `WebhookNotificationGateway.parse`): the signature is `&`-joined
        // `<public key>|<hex HMAC-SHA1>` pairs, keyed with SHA-1 of the private key, over the
        // `bt_payload` text (base64 of the notification's XML), or that text and a newline (the
        // SDKs accept both, for senders or frameworks that drop the final newline of the
        // base64). The secret is the private key;
        // the public key only names the pair. The kind is inside the XML, which the gateway
        // does not parse: every notification is of type `notification` unless the source sets
        // `event_type` (e.g. a `value` per registered URL). No delivery id or signed time.
        "braintree" => base(
            with(SignatureConfig {
                form_field: Some("bt_signature".to_owned()),
                algorithm: Algorithm::Sha1,
                separator: Some("&".to_owned()),
                key_id_separator: Some("|".to_owned()),
                signed: "{form:bt_payload}".to_owned(),
                also_signed: vec!["{form:bt_payload}\n".to_owned()],
                key_encoding: KeyEncoding::Sha1,
                ..hmac("")
            }),
            Some(Locator::Value("notification".to_owned())),
        ),
        // Calendly: `Calendly-Webhook-Signature: t=<ts>,v1=<hex>` over `{t}.{body}`, ~3 min.
        "calendly" => Preset {
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    tolerance_secs: 180,
                    ..t_v1_fields("Calendly-Webhook-Signature")
                }),
                ptr("/event"),
            )
        },
        // Chargebee (chargebee.com/docs/2.0/webhook_settings.html): no signature; the webhook's
        // Basic-auth credentials arrive as `Authorization: Basic <base64(user:password)>`, so
        // the secret is that whole value.
        "chargebee" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/occurred_at"),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("Authorization".to_owned()),
                }),
                ptr("/event_type"),
            )
        },
        // Cashfree Payments: `x-webhook-signature`, base64 HMAC-SHA256 of
        // `{x-webhook-timestamp}{body}` with the client secret (cashfree-pg
        // `PGVerifyWebhookSignature`). The timestamp is signed but, as in the SDK, not checked
        // for age.
        "cashfree" => Preset {
            event_time: ptr("/event_time"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{header:x-webhook-timestamp}{body}".to_owned(),
                    ..hmac("x-webhook-signature")
                }),
                ptr("/type"),
            )
        },
        // Castle (docs.castle.io/docs/webhooks): `X-Castle-Signature`, base64 HMAC-SHA256 of the
        // body keyed with the API secret (castle `WebhooksVerify`); the event is in `type`
        // (`$policy.matched`, `$list_item.created`, …).
        "castle" => Preset {
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("X-Castle-Signature")
                }),
                ptr("/type"),
            )
        },
        // Checkout.com (checkout.com/docs/developer-resources/webhooks): `Cko-Signature`, hex
        // HMAC-SHA256 of the body with the webhook's secret key.
        "checkout-com" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_on"),
            ..base(with(hmac("Cko-Signature")), ptr("/type"))
        },
        // Chunkify (chunkify-sdk `webhooks.unwrap`, which checks deliveries with
        // `standardwebhooks`): Standard Webhooks with `whsec_` secrets; `{id, event, date, data}`.
        "chunkify" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/date"),
            ..base(with(standard_webhooks("webhook")), ptr("/event"))
        },
        // cidaas (seed 002): a pre-shared API key whose header the docs leave to the setup, so
        // `auth` must be given; body `{event_time, event_type, current_context, data}`.
        "cidaas" => Preset {
            event_time: ptr("/event_time"),
            context: ptr("/current_context"),
            ..base(
                None,
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/event_type"),
                    Locator::pointer("/eventtype"),
                ])),
            )
        },
        // CircleCI outbound webhooks (circleci.com/docs/webhooks): `circleci-signature:
        // v1=<hex>[,…]`, HMAC-SHA256 of the body with the secret token set on the webhook; the
        // event type in `circleci-event-type`.
        "circleci" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/happened_at"),
            ..base(
                with(SignatureConfig {
                    prefix: "v1=".to_owned(),
                    separator: Some(",".to_owned()),
                    ..hmac("circleci-signature")
                }),
                hdr("circleci-event-type"),
            )
        },
        // ClickUp (developer.clickup.com/docs/webhooksignature): `X-Signature`, hex HMAC-SHA256
        // of the body with the webhook's secret.
        "clickup" => Preset {
            delivery_id: ptr("/history_items/0/id"),
            ..base(with(hmac("X-Signature")), ptr("/event"))
        },
        // Clerk signs with Svix (Standard Webhooks under `svix-` headers).
        "clerk" | "resend" | "svix" => Preset {
            delivery_id: hdr("svix-id"),
            ..base(with(standard_webhooks("svix")), ptr("/type"))
        },
        // Cloudinary (cloudinary `utils.verify_notification_signature`): `X-Cld-Signature`, hex
        // SHA-1 (a plain hash, not HMAC) of `{body}{X-Cld-Timestamp}{api secret}`; the SDK
        // accepts timestamps up to 2 hours old and checks none ahead. Accounts set to SHA-256
        // signatures override `algorithm = "hash_sha256"`.
        "cloudinary" => base(
            with(SignatureConfig {
                algorithm: Algorithm::HashSha1,
                signed: "{body}{timestamp}{secret}".to_owned(),
                timestamp_header: Some("X-Cld-Timestamp".to_owned()),
                tolerance_secs: 7200,
                limit_future: false,
                ..hmac("X-Cld-Signature")
            }),
            ptr("/notification_type"),
        ),
        // Coinbase Commerce: `X-CC-Webhook-Signature`, hex HMAC-SHA256 of the body
        // (coinbase-commerce `Webhook.construct_event`); the event is wrapped in the delivery.
        "coinbase-commerce" => Preset {
            delivery_id: ptr("/event/id"),
            event_time: ptr("/event/created_at"),
            ..base(with(hmac("X-CC-Webhook-Signature")), ptr("/event/type"))
        },
        // Contentful request verification (@contentful/node-apps-toolkit `verifyRequest`):
        // `x-contentful-signature`, hex HMAC-SHA256 of the canonical request
        // `METHOD\n/path\n<signed headers>\nbody`, the signed headers being those named in
        // `x-contentful-signed-headers` (plus it and `x-contentful-timestamp`), `name:value`
        // sorted and joined by `;`. Timestamps in ms, at most 30 s old (the toolkit's TTL).
        "contentful" => base(
            with(SignatureConfig {
                signed: "{method}\n{path}\n{signed_headers:x-contentful-signed-headers}\n{body}"
                    .to_owned(),
                timestamp_header: Some("x-contentful-timestamp".to_owned()),
                timestamp_format: TimestampFormat::UnixMillis,
                tolerance_secs: 30,
                limit_future: false,
                ..hmac("x-contentful-signature")
            }),
            hdr("X-Contentful-Topic"),
        ),
        // Creem (docs.creem.io/code/webhooks): `creem-signature`, hex HMAC-SHA256 of the body with
        // the webhook secret's text (creem_io `webhooks.handleEvents`); `{id, eventType,
        // created_at, object}`.
        "creem" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(with(hmac("creem-signature")), ptr("/eventType"))
        },
        // Composio (docs.composio.dev/docs/webhook-verification): Standard Webhooks headers, the
        // HMAC keyed with the secret's text as issued (composio `triggers.verify_webhook`); V3
        // events `{id, timestamp, type, metadata, data}` (`composio.trigger.message`, …).
        "composio" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    key_encoding: KeyEncoding::Utf8,
                    key_prefix: String::new(),
                    ..standard_webhooks("webhook")
                }),
                ptr("/type"),
            )
        },
        // Cronofy push notifications (docs.cronofy.com/developers/api/push-notifications):
        // `Cronofy-HMAC-SHA256`, base64 HMAC-SHA256 of the body keyed with the OAuth client
        // secret, several comma-separated during a secret rotation (cronofy `hmacValid`).
        "cronofy" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64,
                separator: Some(",".to_owned()),
                ..hmac("Cronofy-HMAC-SHA256")
            }),
            ptr("/notification/type"),
        ),
        // Cryptlex: `Webhook-Signature`, base64 HMAC-SHA256 of the body; `{event, data,
        // triggeredAt}`.
        "cryptlex" => Preset {
            event_time: ptr("/triggeredAt"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("Webhook-Signature")
                }),
                ptr("/event"),
            )
        },
        // Customer.io reporting webhooks (customer.io/docs/api/webhooks): `x-cio-signature`, hex
        // HMAC-SHA256 of `v0:{x-cio-timestamp}:{body}`.
        "customer-io" => Preset {
            delivery_id: ptr("/event_id"),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    signed: "v0:{timestamp}:{body}".to_owned(),
                    timestamp_header: Some("x-cio-timestamp".to_owned()),
                    ..hmac("x-cio-signature")
                }),
                ptr("/metric"),
            )
        },
        // DocuSign Connect with HMAC (developers.docusign.com/platform/webhooks/connect/validate):
        // base64 HMAC-SHA256 of the body keyed with the secret's text, one header per active key:
        // `X-DocuSign-Signature-1`, `-2`… (checked up to `-100`). No signed time; the event
        // (`envelope-completed`…) is in the body.
        "docusign" => Preset {
            event_time: ptr("/generatedDateTime"),
            ..base(
                with(SignatureConfig {
                    also_headers: (2..=100)
                        .map(|n| format!("X-DocuSign-Signature-{n}"))
                        .collect(),
                    encoding: Encoding::Base64,
                    ..hmac("X-DocuSign-Signature-1")
                }),
                ptr("/event"),
            )
        },
        // Discord interactions: Ed25519 over `{timestamp}{body}`, hex signature and hex public
        // key (discord-interactions `verify_key`). The SDKs check no timestamp window; we keep
        // the usual 5 minutes against replays.
        "discord" => Preset {
            delivery_id: ptr("/id"),
            handshake: Some(HandshakeKind::DiscordPing),
            ..base(
                Some(AuthConfig::PublicKey(SignatureConfig {
                    algorithm: Algorithm::Ed25519,
                    signed: "{timestamp}{body}".to_owned(),
                    timestamp_header: Some("X-Signature-Timestamp".to_owned()),
                    key_encoding: KeyEncoding::Hex,
                    ..hmac("X-Signature-Ed25519")
                })),
                ptr("/type"),
            )
        },
        // Dodo Payments (docs.dodopayments.com/developer-resources/webhooks): Standard Webhooks
        // with `whsec_` secrets (dodopayments `webhooks.unwrap` checks them with
        // `standardwebhooks`); `{business_id, type, timestamp, data}`.
        "dodo-payments" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Dropbox (dropbox.com/developers/reference/webhooks): `X-Dropbox-Signature`, hex
        // HMAC-SHA256 of the body with the app secret. A notification only lists the accounts
        // whose files changed (the changes are fetched from the API), so every one is of type
        // `notification`. Dropbox checks the URL with `GET ?challenge=…`, echoed as text.
        "dropbox" => Preset {
            handshake: Some(HandshakeKind::ChallengeEcho),
            ..base(
                with(hmac("X-Dropbox-Signature")),
                Some(Locator::Value("notification".to_owned())),
            )
        },
        // EasyPost: `X-Hmac-Signature: hmac-sha256-hex=<hex>` of the body (easypost
        // `validate_webhook`, which NFKD-normalizes the secret: give it normalized).
        "easypost" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    prefix: "hmac-sha256-hex=".to_owned(),
                    ..hmac("X-Hmac-Signature")
                }),
                ptr("/description"),
            )
        },
        // ElevenLabs: `ElevenLabs-Signature: t=<s>,v0=<hex>` over `{t}.{body}`; its SDKs refuse
        // events older than 30 minutes and check no time ahead (elevenlabs
        // `webhooks.construct_event`).
        "elevenlabs" => Preset {
            event_time: ptr("/event_timestamp"),
            ..base(
                with(SignatureConfig {
                    fields: Some(fields(",", "v0", "t")),
                    signed: "{timestamp}.{body}".to_owned(),
                    tolerance_secs: 1800,
                    limit_future: false,
                    ..hmac("ElevenLabs-Signature")
                }),
                ptr("/type"),
            )
        },
        // Finch: Standard Webhooks' scheme under its own header names (`finch-event-id`,
        // `finch-timestamp`, `finch-signature`) and a base64 secret without prefix, ±5 minutes
        // (finch-api `webhooks.verify_signature`).
        "finch" => Preset {
            delivery_id: hdr("finch-event-id"),
            ..base(
                with(SignatureConfig {
                    signed: "{header:finch-event-id}.{timestamp}.{body}".to_owned(),
                    timestamp_header: Some("finch-timestamp".to_owned()),
                    key_prefix: String::new(),
                    ..standard_webhooks("finch")
                }),
                ptr("/event_type"),
            )
        },
        // FusionAuth (fusionauth.io/docs/extend/events-and-webhooks/signing): with "Sign
        // events" on, `X-FusionAuth-Signature-JWT` is a JWT whose `request_body_sha256` claim is
        // the base64 SHA-256 of the body, signed with a Key Master key the admin picks. The
        // preset takes an HMAC key as the secret; a source signed with an RSA, EC or Ed25519
        // key sets `jwt = { algorithms = ["RS256"], jwks_url = "https://<instance>/.well-known/
        // jwks.json" }` (or gives the PEM public key). Events are `{event: {type, id,
        // createInstant, …}}`.
        "fusionauth" => Preset {
            delivery_id: ptr("/event/id"),
            event_time: ptr("/event/createInstant"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    header: Some("X-FusionAuth-Signature-JWT".to_owned()),
                    scheme: None,
                    body_hash: Some(HashClaim {
                        claim: "request_body_sha256".to_owned(),
                        encoding: Encoding::Base64,
                    }),
                    ..JwtConfig::bearer(&[
                        JwtAlgorithm::HS256,
                        JwtAlgorithm::HS384,
                        JwtAlgorithm::HS512,
                    ])
                })),
                ptr("/event/type"),
            )
        },
        // Gitea (docs.gitea.com/usage/webhooks), and Forgejo, which sends the same header too:
        // `X-Gitea-Signature`, hex HMAC-SHA256 of the body; event and delivery in headers.
        "gitea" => Preset {
            delivery_id: hdr("X-Gitea-Delivery"),
            ..base(with(hmac("X-Gitea-Signature")), hdr("X-Gitea-Event"))
        },
        // Fireblocks webhooks v1: `Fireblocks-Signature`, base64 RSA-SHA512 (PKCS#1 v1.5) of the
        // body, checked with the public key Fireblocks publishes for the workspace's
        // environment (developers.fireblocks.com/reference/verify-requests: a 4096-bit
        // production key, a 2048-bit sandbox key). `{type, tenantId, timestamp (ms), data}`.
        // The v2 detached JWS (`Fireblocks-Webhook-Signature`, keys from a JWKS) is not covered.
        "fireblocks" => Preset {
            event_time: ptr("/timestamp"),
            ..base(
                Some(AuthConfig::PublicKey(SignatureConfig {
                    algorithm: Algorithm::RsaPkcs1Sha512,
                    encoding: Encoding::Base64,
                    key_encoding: KeyEncoding::Base64,
                    ..hmac("Fireblocks-Signature")
                })),
                ptr("/type"),
            )
        },
        // Fingerprint (docs.fingerprint.com/docs/webhooks): `fpjs-event-signature: v1=<hex>[,…]`,
        // HMAC-SHA256 of the body with the webhook secret (fingerprint-server-sdk
        // `WebhookValidation`); other versions in the list are ignored. A webhook reports one
        // identification event (`event_id`, or `requestId` in the legacy format, which a retry
        // repeats).
        "fingerprint" => Preset {
            delivery_id: Some(Locator::FirstOf(vec![
                Locator::pointer("/event_id"),
                Locator::pointer("/requestId"),
            ])),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    prefix: "v1=".to_owned(),
                    separator: Some(",".to_owned()),
                    ..hmac("fpjs-event-signature")
                }),
                Some(Locator::Value("identification".to_owned())),
            )
        },
        // Front application webhooks (dev.frontapp.com/docs/application-webhooks):
        // `X-Front-Signature`, base64 HMAC-SHA256 of `{X-Front-Request-Timestamp}:{body}` with
        // the app secret; the timestamp is in ms and Front recommends refusing it after 5
        // minutes. Saving the webhook sends a signed `sync` request with `X-Front-Challenge`.
        // (Rule webhooks sign base64 HMAC-SHA1 of the body with the API secret: set `auth`.)
        "front" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/emitted_at"),
            handshake: Some(HandshakeKind::FrontChallenge),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{timestamp}:{body}".to_owned(),
                    timestamp_header: Some("X-Front-Request-Timestamp".to_owned()),
                    timestamp_format: TimestampFormat::UnixMillis,
                    ..hmac("X-Front-Signature")
                }),
                ptr("/type"),
            )
        },
        // GitHub: "validating webhook deliveries": `X-Hub-Signature-256: sha256=<hex>` of the
        // body; event in `X-GitHub-Event`, delivery GUID in `X-GitHub-Delivery`. GitHub signs
        // no timestamp, so there is no replay window.
        "github" => Preset {
            delivery_id: hdr("X-GitHub-Delivery"),
            form_json_field: Some("payload"),
            ..base(
                with(SignatureConfig {
                    prefix: "sha256=".to_owned(),
                    ..hmac("X-Hub-Signature-256")
                }),
                hdr("X-GitHub-Event"),
            )
        },
        // GitHub's legacy SHA-1 header, for old GitHub Enterprise servers.
        "github-sha1" => Preset {
            delivery_id: hdr("X-GitHub-Delivery"),
            form_json_field: Some("payload"),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha1,
                    prefix: "sha1=".to_owned(),
                    ..hmac("X-Hub-Signature")
                }),
                hdr("X-GitHub-Event"),
            )
        },
        // GitLab: the secret token is sent as is in `X-Gitlab-Token`; `X-Gitlab-Event` is e.g.
        // `Push Hook`; `Idempotency-Key` (17.4+) is stable across retries.
        "gitlab" => Preset {
            delivery_id: gitlab_delivery_id(),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("X-Gitlab-Token".to_owned()),
                }),
                hdr("X-Gitlab-Event"),
            )
        },
        // GitLab's signing token: Standard Webhooks (`webhook-*` headers).
        "gitlab-signing-token" => Preset {
            delivery_id: gitlab_delivery_id(),
            ..base(with(standard_webhooks("webhook")), hdr("X-Gitlab-Event"))
        },
        // GoCardless: `Webhook-Signature`, hex HMAC-SHA256 of the body (gocardless_pro
        // `webhooks.parse`); a delivery carries a batch of events, the first names it.
        "gocardless" => Preset {
            delivery_id: ptr("/meta/webhook_id"),
            event_time: ptr("/events/0/created_at"),
            ..base(
                with(hmac("Webhook-Signature")),
                ptr("/events/0/resource_type"),
            )
        },
        // Google Cloud Pub/Sub push subscriptions with authentication
        // (cloud.google.com/pubsub/docs/authenticate-push-subscriptions): `Authorization: Bearer
        // <OIDC ID token>`, RS256 with Google's keys (JWKS at googleapis.com/oauth2/v3/certs),
        // `iss` `https://accounts.google.com` or `accounts.google.com`, `aud` the audience set
        // on the subscription (by default the push endpoint: the source's `public_url`), and
        // `email` the subscription's service account, which every source must set (any Google
        // account can mint tokens for any audience). The body is `{message: {data, messageId,
        // publishTime, attributes}, subscription}`; Pub/Sub has no event type, so every push
        // is a `message` (point `event_type` at an attribute to split them).
        "google-pubsub" => Preset {
            delivery_id: ptr("/message/messageId"),
            event_time: ptr("/message/publishTime"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    jwks_url: Some("https://www.googleapis.com/oauth2/v3/certs".to_owned()),
                    issuer: vec![
                        "https://accounts.google.com".to_owned(),
                        "accounts.google.com".to_owned(),
                    ],
                    audience: vec!["{public_url}".to_owned()],
                    claims: [
                        ("email".to_owned(), Vec::new()),
                        ("email_verified".to_owned(), vec!["true".to_owned()]),
                    ]
                    .into(),
                    require_exp: true,
                    ..JwtConfig::bearer(&[JwtAlgorithm::RS256])
                })),
                Some(Locator::Value("message".to_owned())),
            )
        },
        // Heroku app webhooks (devcenter.heroku.com/articles/app-webhooks):
        // `Heroku-Webhook-Hmac-SHA256`, base64 HMAC-SHA256 of the body; `{id, action, resource,
        // data, created_at}`, named by the resource (`release`, `build`, …).
        "heroku" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("Heroku-Webhook-Hmac-SHA256")
                }),
                ptr("/resource"),
            )
        },
        // Hookdeck Event Gateway (hookdeck.com/docs/authentication, "Hookdeck webhook signature
        // verification"): what a connection forwards carries `x-hookdeck-signature`, base64
        // HMAC-SHA256 of the body with the project's signing secret (@hookdeck/sdk
        // `verifyWebhookSignature`), and `x-hookdeck-eventid`, the same on every retry. The body
        // is the original provider's, so the event type is `event` unless the source sets it.
        "hookdeck" => Preset {
            delivery_id: hdr("x-hookdeck-eventid"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("x-hookdeck-signature")
                }),
                Some(Locator::Value("event".to_owned())),
            )
        },
        // HubSpot v3: base64 HMAC-SHA256 of method + URL + body + timestamp (ms), 5 minutes.
        // The body is a JSON array of events; the first one names the batch.
        "hubspot" => Preset {
            delivery_id: ptr("/0/eventId"),
            event_time: ptr("/0/occurredAt"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{method}{url}{body}{timestamp}".to_owned(),
                    timestamp_header: Some("X-HubSpot-Request-Timestamp".to_owned()),
                    timestamp_format: TimestampFormat::UnixMillis,
                    ..hmac("X-HubSpot-Signature-v3")
                }),
                ptr("/0/subscriptionType"),
            )
        },
        // Hygraph (@hygraph/utils `verifyWebhookSignature`): `gcms-signature: sign=<base64>,
        // env=<environment>, t=<ms>`, HMAC-SHA256 of the JSON text
        // `{"Body":<body as a JSON string>,"EnvironmentName":<env as a JSON string>,
        // "TimeStamp":<t>}`. The SDK checks no window; ours is the usual 5 minutes.
        "hygraph" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64,
                fields: Some(fields(",", "sign", "t")),
                signed: r#"{{"Body":{json:body},"EnvironmentName":{json:field:env},"TimeStamp":{timestamp}}}"#
                    .to_owned(),
                timestamp_format: TimestampFormat::UnixMillis,
                ..hmac("gcms-signature")
            }),
            ptr("/operation"),
        ),
        // ImageKit: Standard Webhooks headers, keyed with the secret's text (imagekitio
        // `webhooks.unwrap` base64-encodes the UTF-8 secret before handing it to
        // `standardwebhooks`, which decodes it again).
        "imagekit" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    key_encoding: KeyEncoding::Utf8,
                    key_prefix: String::new(),
                    ..standard_webhooks("webhook")
                }),
                ptr("/type"),
            )
        },
        // incident.io (api-docs.incident.io, "Webhooks"): sent through Svix under the
        // `webhook-*` header names, `whsec_` secrets; the body names its `event_type`.
        "incident-io" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/event_type"))
        },
        // Increase: Standard Webhooks headers, but its SDK keys the HMAC with the secret's text
        // (increase `events.unwrap` passes the UTF-8 bytes to `standardwebhooks`).
        "increase" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    key_encoding: KeyEncoding::Utf8,
                    key_prefix: String::new(),
                    ..standard_webhooks("webhook")
                }),
                ptr("/category"),
            )
        },
        // Intercom: `X-Hub-Signature: sha1=<hex>` of the body; `{type, id, topic, data}`.
        "intercom" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha1,
                    prefix: "sha1=".to_owned(),
                    ..hmac("X-Hub-Signature")
                }),
                ptr("/topic"),
            )
        },
        // Jira Cloud admin webhooks with a secret (developer.atlassian.com/cloud/jira/platform/
        // webhooks): `X-Hub-Signature: sha256=<hex>` of the body; `webhookEvent` such as
        // `jira:issue_created`, `X-Atlassian-Webhook-Identifier` stable across retries.
        "jira" => Preset {
            delivery_id: hdr("X-Atlassian-Webhook-Identifier"),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    prefix: "sha256=".to_owned(),
                    ..hmac("X-Hub-Signature")
                }),
                ptr("/webhookEvent"),
            )
        },
        // Kinde (docs.kinde.com/integrate/webhooks/about-webhooks; @kinde/webhooks
        // `decodeWebhook`, which checks with @kinde/jwt-validator): the body is a JWT, RS256,
        // signed with a key of the business's key set at `https://<subdomain>.kinde.com/
        // .well-known/jwks.json`, which each source sets as `jwt = { jwks_url = "…" }` (or it
        // gives the public key as its secret). The claims are the event: `{type, event_id,
        // timestamp, source, data}`.
        "kinde" => Preset {
            delivery_id: ptr("/event_id"),
            event_time: ptr("/timestamp"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    header: None,
                    scheme: None,
                    body: true,
                    ..JwtConfig::bearer(&[JwtAlgorithm::RS256])
                })),
                ptr("/type"),
            )
        },
        // Kontent.ai (kontent.ai/learn/docs/webhooks/webhooks/javascript):
        // `X-Kontent-ai-Signature`, base64 HMAC-SHA256 of the raw body keyed with the webhook's
        // secret (@kontent-ai/webhook-helper `signatureHelper`). A delivery batches
        // notifications; the first one's `message.action` (`published`, `changed`, …) names it.
        "kontent-ai" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64,
                ..hmac("X-Kontent-ai-Signature")
            }),
            ptr("/notifications/0/message/action"),
        ),
        // LaunchDarkly (launchdarkly.com/docs/home/infrastructure/webhooks): `X-LD-Signature`,
        // hex HMAC-SHA256 of the body with the webhook's secret; the body is an audit-log entry.
        "launchdarkly" => Preset {
            delivery_id: ptr("/_id"),
            event_time: ptr("/date"),
            ..base(with(hmac("X-LD-Signature")), ptr("/kind"))
        },
        // Lemon Squeezy: `X-Signature`, hex HMAC-SHA256 of the body; `meta.event_name`.
        "lemonsqueezy" => base(with(hmac("X-Signature")), ptr("/meta/event_name")),
        // LinkedIn (learn.microsoft.com/linkedin/shared/api-guide/webhook-validation):
        // `X-LI-Signature: hmacsha256=<hex>` HMAC-SHA256 of the body with the app's client
        // secret. LinkedIn validates the URL with `GET ?challengeCode=<uuid>` (and again every
        // few hours), answered with the HMAC of the code.
        "linkedin" => Preset {
            handshake: Some(HandshakeKind::LinkedinChallenge),
            ..base(
                with(SignatureConfig {
                    prefix: "hmacsha256=".to_owned(),
                    ..hmac("X-LI-Signature")
                }),
                ptr("/type"),
            )
        },
        // LINE Messaging API: `x-line-signature`, base64 HMAC-SHA256 of the body with the channel
        // secret (line-bot-sdk `SignatureValidator`, @line/bot-sdk `validateSignature`). A
        // delivery carries a batch of events; the console's "Verify" sends none, so it has no
        // event type and is refused.
        "line" => Preset {
            delivery_id: ptr("/events/0/webhookEventId"),
            event_time: ptr("/events/0/timestamp"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("x-line-signature")
                }),
                ptr("/events/0/type"),
            )
        },
        // Linear: `Linear-Signature`, hex HMAC-SHA256 of the body, and the signed body's
        // `webhookTimestamp` (ms) within 60 s (@linear/sdk `LinearWebhookClient.verify`).
        "linear" => Preset {
            delivery_id: hdr("Linear-Delivery"),
            event_time: ptr("/createdAt"),
            ..base(
                with(SignatureConfig {
                    timestamp_pointer: Some("/webhookTimestamp".to_owned()),
                    timestamp_format: TimestampFormat::UnixMillis,
                    tolerance_secs: 60,
                    ..hmac("Linear-Signature")
                }),
                ptr("/type"),
            )
        },
        // Liveblocks: Standard Webhooks (`webhook-*`, `whsec_` secrets, ±5 minutes;
        // @liveblocks/node `WebhookHandler.verifyRequest`).
        "liveblocks" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Linq (docs.linqapp.com/guides/webhooks): Standard Webhooks with `whsec_` signing
        // secrets (linq-python `webhooks.unwrap` checks them with `standardwebhooks`), sent next
        // to its deprecated `X-Webhook-*` headers; `{event_type, event_id, created_at, data, …}`.
        "linq" => Preset {
            delivery_id: ptr("/event_id"),
            event_time: ptr("/created_at"),
            ..base(with(standard_webhooks("webhook")), ptr("/event_type"))
        },
        // Lithic signs with Standard Webhooks (lithic `webhooks.verify_signature`).
        "lithic" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/event_type"))
        },
        // Mailgun: `signature {timestamp, token, signature}` in the body, 15 minutes (the
        // official `mailgun` SDK's `SecurityGuard.verify_webhook`). Only timestamp + token are
        // signed, not `event-data`, so the token is the delivery id: a captured signature
        // cannot carry a second event.
        "mailgun" => Preset {
            delivery_id: ptr("/signature/token"),
            event_time: ptr("/event-data/timestamp"),
            ..base(Some(AuthConfig::Mailgun), ptr("/event-data/event"))
        },
        // MailerSend (developers.mailersend.com/api/v1/webhooks.html, "Security"): `Signature`,
        // hex HMAC-SHA256 of the body with the webhook's signing secret (mailersend
        // `MailerSendUtils.verifyWebHook`; its README names the header `X-MailerSend-Signature`,
        // the API docs `Signature`, which we follow); `{type, created_at, data: {id, …}}`.
        "mailersend" => Preset {
            delivery_id: ptr("/data/id"),
            event_time: ptr("/created_at"),
            ..base(with(hmac("Signature")), ptr("/type"))
        },
        // Metronome (docs.metronome.com/developer-resources/use-api/webhooks):
        // `Metronome-Webhook-Signature`, hex HMAC-SHA256 of the `X-Metronome-Date` header, a
        // newline and the body (@metronome/sdk `webhooks.signPayload` / `verifySignature`). That
        // date is an HTTP date, which the replay window does not read: it is signed but its age
        // is not checked (the SDK allows ±5 minutes).
        "metronome" => Preset {
            delivery_id: ptr("/id"),
            ..base(
                with(SignatureConfig {
                    signed: "{header:X-Metronome-Date}\n{body}".to_owned(),
                    ..hmac("Metronome-Webhook-Signature")
                }),
                ptr("/type"),
            )
        },
        // MessageBird (developers.messagebird.com/docs/verify-http-requests; messagebird
        // `RequestValidator.validate_signature`): `MessageBird-Signature-JWT`, HS256/384/512
        // with the account's signing key, `iss` `MessageBird`, `nbf` and `exp`, `url_hash` the
        // hex SHA-256 of the URL called (the source's `public_url` plus the query string, so
        // it is required) and `payload_hash` that of the body.
        "messagebird" => base(
            Some(AuthConfig::Jwt(JwtConfig {
                header: Some("MessageBird-Signature-JWT".to_owned()),
                scheme: None,
                issuer: vec!["MessageBird".to_owned()],
                require_exp: true,
                body_hash: Some(HashClaim {
                    claim: "payload_hash".to_owned(),
                    encoding: Encoding::Hex,
                }),
                url_hash: Some(HashClaim {
                    claim: "url_hash".to_owned(),
                    encoding: Encoding::Hex,
                }),
                ..JwtConfig::bearer(&[
                    JwtAlgorithm::HS256,
                    JwtAlgorithm::HS384,
                    JwtAlgorithm::HS512,
                ])
            })),
            ptr("/type"),
        ),
        // Modern Treasury: `X-Signature`, hex HMAC-SHA256 of the body (modern-treasury
        // `webhooks.get_signature` / `validate_signature`). No delivery id is documented in
        // the body, so none is assumed (set `delivery_id` to dedup).
        "modern-treasury" => base(with(hmac("X-Signature")), ptr("/event")),
        // Moralis Streams (moralis `Streams.verifySignature`): `x-signature: 0x<hex>`,
        // Keccak-256 (a plain hash) of the JSON body followed by the streams secret. A stream
        // delivery has no event type of its own: `tag` is the stream's label.
        "moralis" => base(
            with(SignatureConfig {
                algorithm: Algorithm::HashKeccak256,
                prefix: "0x".to_owned(),
                signed: "{body}{secret}".to_owned(),
                ..hmac("x-signature")
            }),
            ptr("/tag"),
        ),
        // Meta webhooks (developers.facebook.com/docs/graph-api/webhooks/getting-started): one
        // scheme for WhatsApp, Facebook Pages, Instagram and Messenger. `X-Hub-Signature-256:
        // sha256=<hex>` HMAC-SHA256 of the body with the app secret; the subscription check is
        // a GET with `hub.mode`, `hub.verify_token`, `hub.challenge`. A delivery batches
        // `entry[]` items; the first one names the event: the `field` of a change (`messages`
        // for WhatsApp, `feed` for a Page), else the `object` (`page`, `instagram` for
        // Messenger-style `messaging` entries). Only a new WhatsApp message or Messenger
        // message has an id of its own (statuses repeat their message's id, so they have none).
        "meta" => Preset {
            delivery_id: Some(Locator::FirstOf(vec![
                Locator::pointer("/entry/0/changes/0/value/messages/0/id"),
                Locator::pointer("/entry/0/messaging/0/message/mid"),
            ])),
            handshake: Some(HandshakeKind::HubVerify),
            ..base(
                with(SignatureConfig {
                    prefix: "sha256=".to_owned(),
                    ..hmac("X-Hub-Signature-256")
                }),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/entry/0/changes/0/field"),
                    Locator::pointer("/object"),
                ])),
            )
        },
        // monday.com (developer.monday.com/apps/docs/authorization-header; webhooks in
        // developer.monday.com/api-reference/reference/webhooks): webhooks an app creates carry
        // `Authorization: <JWT>` (no scheme), HS256 with the app's signing secret, with `exp`;
        // the token does not cover the body. `aud` is the app's endpoint: require it with `jwt
        // = { audience = "{public_url}" }`. Events are `{event: {type, triggerUuid,
        // triggerTime, …}}`. A new webhook's URL is checked with a POST `{"challenge": …}`,
        // echoed as JSON once verified: monday.com says it signs every request an app's webhook
        // sends, which the check is taken to include.
        "monday" => Preset {
            delivery_id: ptr("/event/triggerUuid"),
            event_time: ptr("/event/triggerTime"),
            handshake: Some(HandshakeKind::ChallengeJson),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    scheme: None,
                    require_exp: true,
                    ..JwtConfig::bearer(&[JwtAlgorithm::HS256])
                })),
                ptr("/event/type"),
            )
        },
        // Mux: `mux-signature: t=<s>,v1=<hex>[,v1=…]` over `{t}.{body}`; @mux/mux-node allows
        // 300 s into the past and any time ahead.
        "mux" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    limit_future: false,
                    ..t_v1_fields("mux-signature")
                }),
                ptr("/type"),
            )
        },
        // Nango (nango.dev/docs/guides/platform/webhooks-from-nango): `X-Nango-Hmac-Sha256`, hex
        // HMAC-SHA256 of the body with the environment's webhook signing key (@nangohq/node
        // `verifyIncomingWebhookRequest`); `type` is `auth`, `sync`, `forward`, ….
        "nango" => base(with(hmac("X-Nango-Hmac-Sha256")), ptr("/type")),
        // Netlify deploy notifications (docs.netlify.com/site-deploys/deploy-notifications,
        // "Payload signature"): with a JWS secret set on the outgoing webhook,
        // `X-Webhook-Signature` is a JWT, HS256 with that secret, `iss` `netlify` and `sha256`
        // the hex SHA-256 of the body. The body is the deploy (`id`, `state`, …), one URL per
        // event, so the event is the deploy's `state`; its `id` repeats across states.
        "netlify" => base(
            Some(AuthConfig::Jwt(JwtConfig {
                header: Some("X-Webhook-Signature".to_owned()),
                scheme: None,
                issuer: vec!["netlify".to_owned()],
                body_hash: Some(HashClaim {
                    claim: "sha256".to_owned(),
                    encoding: Encoding::Hex,
                }),
                ..JwtConfig::bearer(&[JwtAlgorithm::HS256])
            })),
            ptr("/state"),
        ),
        // Nylas v3 (developer.nylas.com/docs/v3/notifications/webhooks): `X-Nylas-Signature`,
        // hex HMAC-SHA256 of the body with the webhook secret; CloudEvents-like `type`, `id`,
        // `time` (Unix seconds). Creating a webhook sends `GET ?challenge=…`, echoed as text.
        "nylas" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/time"),
            handshake: Some(HandshakeKind::ChallengeEcho),
            ..base(with(hmac("X-Nylas-Signature")), ptr("/type"))
        },
        // Okta event hooks: the secret configured in Okta arrives as the whole
        // `Authorization` header value.
        "okta" => Preset {
            delivery_id: ptr("/eventId"),
            handshake: Some(HandshakeKind::OktaVerification),
            event_time: ptr("/eventTime"),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("Authorization".to_owned()),
                }),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/data/events/0/eventType"),
                    Locator::pointer("/eventType"),
                ])),
            )
        },
        // Onfido: `X-SHA2-Signature`, hex HMAC-SHA256 of the body with the webhook token
        // (@onfido/api `WebhookEventVerifier`); `payload.action` such as `check.completed`.
        "onfido" => Preset {
            event_time: ptr("/payload/object/completed_at_iso8601"),
            ..base(with(hmac("X-SHA2-Signature")), ptr("/payload/action"))
        },
        // OpenAI signs with Standard Webhooks, `whsec_` secrets (openai `webhooks.unwrap`).
        "openai" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/created_at"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Orb (orb-billing `webhooks.verify_signature`): `X-Orb-Signature: v1=<hex>`, several
        // separated by spaces, HMAC-SHA256 of `v1:{X-Orb-Timestamp}:{body}` keyed with the
        // secret's text; the timestamp is ISO 8601 without an offset (UTC), ±5 minutes.
        "orb" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    prefix: "v1=".to_owned(),
                    separator: Some(" ".to_owned()),
                    signed: "v1:{timestamp}:{body}".to_owned(),
                    timestamp_header: Some("X-Orb-Timestamp".to_owned()),
                    timestamp_format: TimestampFormat::Rfc3339,
                    ..hmac("X-Orb-Signature")
                }),
                ptr("/type"),
            )
        },
        // Paddle Billing: `Paddle-Signature: ts=<ts>;h1=<hex>[;h1=…]` over `{ts}:{body}`; the
        // SDKs allow 5 seconds.
        "paddle" => Preset {
            delivery_id: ptr("/event_id"),
            event_time: ptr("/occurred_at"),
            ..base(
                with(SignatureConfig {
                    fields: Some(fields(";", "h1", "ts")),
                    signed: "{timestamp}:{body}".to_owned(),
                    tolerance_secs: 5,
                    ..hmac("Paddle-Signature")
                }),
                ptr("/event_type"),
            )
        },
        // PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]` of the body.
        "pagerduty" => Preset {
            delivery_id: hdr("X-Webhook-Id"),
            event_time: ptr("/event/occurred_at"),
            ..base(
                with(SignatureConfig {
                    prefix: "v1=".to_owned(),
                    separator: Some(",".to_owned()),
                    ..hmac("X-PagerDuty-Signature")
                }),
                ptr("/event/event_type"),
            )
        },
        // PandaDoc (developers.pandadoc.com/docs/webhook-verification): the signature is the
        // `signature` query parameter PandaDoc appends to the URL, hex HMAC-SHA256 of the body
        // keyed with the shared key. A delivery is an array of events.
        "pandadoc" => base(
            with(SignatureConfig {
                query_param: Some("signature".to_owned()),
                ..hmac("")
            }),
            ptr("/0/event"),
        ),
        // PayPal REST webhooks (developer.paypal.com/api/rest/webhooks/rest/; PyPI
        // `paypalrestsdk` `WebhookEvent.verify`): see `paypal_auth`. The secret is the
        // webhook's id; `/id` stays the same across retries.
        "paypal" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/create_time"),
            ..base(
                Some(AuthConfig::CertificateUrl(paypal_auth())),
                ptr("/event_type"),
            )
        },
        // Paystack: `x-paystack-signature`, hex HMAC-SHA512 of the body, keyed with the secret
        // API key.
        "paystack" => base(
            with(SignatureConfig {
                algorithm: Algorithm::Sha512,
                ..hmac("x-paystack-signature")
            }),
            ptr("/event"),
        ),
        // Plivo signature V3 (plivo `utils.signature_v3`): `X-Plivo-Signature-V3`, base64
        // HMAC-SHA256 keyed with the auth token, several separated by commas, over the URL
        // Plivo called, `?`, the form fields sorted by name (each name then value), `.` and
        // `X-Plivo-Signature-V3-Nonce`. Needs the source's `public_url`, without a query (Plivo
        // re-sorts a query into what it signs). No common event field: Messaging's `Status`,
        // Voice's `Event` or `CallStatus`.
        "plivo" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64,
                separator: Some(",".to_owned()),
                signed: "{url}?{form_params}.{header:X-Plivo-Signature-V3-Nonce}".to_owned(),
                ..hmac("X-Plivo-Signature-V3")
            }),
            Some(Locator::FirstOf(vec![
                Locator::pointer("/Event"),
                Locator::pointer("/CallStatus"),
                Locator::pointer("/Status"),
            ])),
        ),
        // Polar: Standard Webhooks headers, but the key is the whole secret's text, not a
        // base64 `whsec_` value (@polar-sh/sdk `validateEvent`).
        "polar" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    key_encoding: KeyEncoding::Utf8,
                    key_prefix: String::new(),
                    ..standard_webhooks("webhook")
                }),
                ptr("/type"),
            )
        },
        // Postmark (postmarkapp.com/developer/webhooks/webhooks-overview): no signature; the
        // Basic-auth credentials of the webhook URL arrive as `Authorization: Basic <…>`, so the
        // secret is that whole value.
        "postmark" => Preset {
            delivery_id: ptr("/MessageID"),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("Authorization".to_owned()),
                }),
                ptr("/RecordType"),
            )
        },
        // Privy (docs.privy.io, "Webhooks"): sent through Svix (`svix-*` headers, `whsec_`
        // secrets; @privy-io/node `webhooks().verify` checks them with `svix`).
        "privy" => Preset {
            delivery_id: hdr("svix-id"),
            ..base(with(standard_webhooks("svix")), ptr("/type"))
        },
        // Pusher Channels: `X-Pusher-Signature`, hex HMAC-SHA256 of the body with the app
        // secret (pusher `WebHook.isValid`); `X-Pusher-Key` names the app. A delivery carries a
        // batch of events, the first names it.
        "pusher" => Preset {
            event_time: ptr("/time_ms"),
            ..base(with(hmac("X-Pusher-Signature")), ptr("/events/0/name"))
        },
        // Revolut (developer.revolut.com, "Verify the payload signature"): `Revolut-Signature:
        // v1=<hex>[,v1=…]`, HMAC-SHA256 of `v1.{Revolut-Request-Timestamp}.{body}`, the timestamp
        // in ms, within 5 minutes.
        "revolut" => Preset {
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    prefix: "v1=".to_owned(),
                    separator: Some(",".to_owned()),
                    signed: "v1.{timestamp}.{body}".to_owned(),
                    timestamp_header: Some("Revolut-Request-Timestamp".to_owned()),
                    timestamp_format: TimestampFormat::UnixMillis,
                    ..hmac("Revolut-Signature")
                }),
                ptr("/event"),
            )
        },
        // Retell AI: `x-retell-signature: v=<ms>,d=<hex>`, HMAC-SHA256 of `{body}{v}` with the API
        // key, ±5 minutes (retell-sdk `webhook_auth` `sign` / `verify`).
        "retell" => base(
            with(SignatureConfig {
                fields: Some(fields(",", "d", "v")),
                signed: "{body}{timestamp}".to_owned(),
                timestamp_format: TimestampFormat::UnixMillis,
                ..hmac("x-retell-signature")
            }),
            ptr("/event"),
        ),
        // Razorpay: `X-Razorpay-Signature`, hex HMAC-SHA256 of the body; `x-razorpay-event-id`.
        "razorpay" => Preset {
            delivery_id: hdr("x-razorpay-event-id"),
            event_time: ptr("/created_at"),
            ..base(with(hmac("X-Razorpay-Signature")), ptr("/event"))
        },
        // Recharge (developer.rechargepayments.com/2021-11/webhooks_explained):
        // `X-Recharge-Hmac-Sha256`, hex SHA-256 (a plain hash, despite the name) of the API
        // client secret followed by the body; the topic is in `X-Recharge-Topic`.
        "recharge" => base(
            with(SignatureConfig {
                algorithm: Algorithm::HashSha256,
                signed: "{secret}{body}".to_owned(),
                ..hmac("X-Recharge-Hmac-Sha256")
            }),
            hdr("X-Recharge-Topic"),
        ),
        // Recurly (docs.recurly.com/recurly-subscriptions/docs/signature-verification): the
        // `recurly-signature` header is `<unix ms>,<hex>[,<hex>…]` (the timestamp first, then
        // one signature per active secret), HMAC-SHA256 of `{timestamp}.{body}`. JSON webhooks
        // only (XML ones are unsigned). The kind is `object_type` + `event_type`; `event_type`
        // alone is used (`created`, `renewed`…).
        "recurly" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/event_time"),
            ..base(
                with(SignatureConfig {
                    separator: Some(",".to_owned()),
                    timestamp_first: true,
                    signed: "{timestamp}.{body}".to_owned(),
                    timestamp_format: TimestampFormat::UnixMillis,
                    ..hmac("recurly-signature")
                }),
                ptr("/event_type"),
            )
        },
        // Render (render.com/docs/webhooks): Standard Webhooks headers and `whsec_` secrets;
        // `{type, timestamp, data}`.
        "render" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Replicate signs with Standard Webhooks (replicate `validateWebhook`); a delivery is
        // the prediction, named by its status.
        "replicate" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/status"))
        },
        // Saleor (docs.saleor.io/developer/extending/webhooks/payload-signature): `Saleor-
        // Signature` is a detached JWS `<protected>..<signature>`, RS256 with `b64: false`, over
        // the raw body; the keys are the JWKS at `<Saleor API origin>/.well-known/jwks.json`
        // (@saleor/app-sdk `verifySignatureWithJwks`), which each source sets as
        // `jwt = { jwks_url = "…" }` (or it gives the public key as its secret). The event is
        // named in `Saleor-Event`.
        "saleor" => base(
            Some(AuthConfig::Jwt(JwtConfig {
                header: Some("Saleor-Signature".to_owned()),
                scheme: None,
                detached: true,
                ..JwtConfig::bearer(&[JwtAlgorithm::RS256])
            })),
            hdr("Saleor-Event"),
        ),
        // Sanity GROQ webhooks: `sanity-webhook-signature: t=<ms>,v1=<base64url>` over
        // `{t}.{body}` (@sanity/webhook); the body is the projected document, named by `_type`.
        // The SDK checks no window; we keep 5 minutes against replays.
        "sanity" => base(
            with(SignatureConfig {
                encoding: Encoding::Base64Url,
                timestamp_format: TimestampFormat::UnixMillis,
                ..t_v1_fields("sanity-webhook-signature")
            }),
            ptr("/_type"),
        ),
        // SendGrid Event Webhook: ECDSA P-256/SHA-256 over `{timestamp}{body}`, base64 DER
        // signature, base64 DER public key. The body is a JSON array of events.
        "sendgrid" => Preset {
            delivery_id: ptr("/0/sg_event_id"),
            ..base(
                Some(AuthConfig::PublicKey(SignatureConfig {
                    algorithm: Algorithm::EcdsaP256Sha256,
                    encoding: Encoding::Base64,
                    signed: "{timestamp}{body}".to_owned(),
                    timestamp_header: Some("X-Twilio-Email-Event-Webhook-Timestamp".to_owned()),
                    key_encoding: KeyEncoding::Base64,
                    ..hmac("X-Twilio-Email-Event-Webhook-Signature")
                })),
                ptr("/0/event"),
            )
        },
        // Sentry integration platform (docs.sentry.io/integrations/integration-platform/
        // webhooks): `Sentry-Hook-Signature`, hex HMAC-SHA256 of the body with the integration's
        // client secret; the resource (`issue`, `error`, …) in `Sentry-Hook-Resource`.
        // `Sentry-Hook-Timestamp` is not signed, so it opens no replay window.
        "sentry" => Preset {
            delivery_id: hdr("Request-ID"),
            ..base(
                with(hmac("Sentry-Hook-Signature")),
                hdr("Sentry-Hook-Resource"),
            )
        },
        // Shopify: `X-Shopify-Hmac-Sha256`, base64 HMAC-SHA256 of the body; topic, webhook id
        // and trigger time in headers.
        "shopify" => Preset {
            delivery_id: hdr("X-Shopify-Webhook-Id"),
            event_time: hdr("X-Shopify-Triggered-At"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("X-Shopify-Hmac-Sha256")
                }),
                hdr("X-Shopify-Topic"),
            )
        },
        // SignalWire (signalwire.com/docs/server-sdks/reference/python/core/security): JSON
        // callbacks (RELAY, SWML) carry `X-SignalWire-Signature`, hex HMAC-SHA1 of the URL
        // SignalWire called followed by the raw body, keyed with the project's Signing Key
        // (signalwire-sdk `validate_webhook_signature`). Needs the source's `public_url`. Call
        // state callbacks name their event in `event_type` (`calling.call.state`). The
        // Compatibility (cXML) form callbacks are signed with Twilio's form algorithm instead,
        // which this preset does not cover.
        "signalwire" => base(
            with(SignatureConfig {
                algorithm: Algorithm::Sha1,
                signed: "{url}{body}".to_owned(),
                ..hmac("X-SignalWire-Signature")
            }),
            ptr("/event_type"),
        ),
        // Sinch Conversation API (developers.sinch.com/docs/conversation/callbacks, "Validating
        // callback requests"), and SMS events signed the same way: `x-sinch-webhook-signature`,
        // base64 HMAC-SHA256 of `{body}.{nonce}.{timestamp}` with the webhook's secret text, the
        // nonce and the Unix timestamp in their own headers (sinch `ConversationSinchEvent`
        // `validate_authentication_header`). The SDK checks no window; we keep 5 minutes. A
        // Conversation callback names its trigger by which field it carries (`message`,
        // `message_delivery_report`, …), not by a value, so it has the type `callback`; SMS
        // events carry `type`.
        "sinch" => Preset {
            event_time: ptr("/event_time"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{body}.{header:x-sinch-webhook-signature-nonce}.{timestamp}"
                        .to_owned(),
                    timestamp_header: Some("x-sinch-webhook-signature-timestamp".to_owned()),
                    ..hmac("x-sinch-webhook-signature")
                }),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/type"),
                    Locator::Value("callback".to_owned()),
                ])),
            )
        },
        // Slack: `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`, ±5 minutes. The
        // event type is the inner `event.type` of Events API callbacks, else the envelope's.
        "slack" => Preset {
            delivery_id: ptr("/event_id"),
            handshake: Some(HandshakeKind::SlackUrlVerification),
            form_json_field: Some("payload"),
            event_time: ptr("/event_time"),
            ..base(
                with(SignatureConfig {
                    prefix: "v0=".to_owned(),
                    signed: "v0:{timestamp}:{body}".to_owned(),
                    timestamp_header: Some("X-Slack-Request-Timestamp".to_owned()),
                    ..hmac("X-Slack-Signature")
                }),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/event/type"),
                    Locator::pointer("/type"),
                    Locator::pointer("/command"),
                ])),
            )
        },
        // Smartcar (smartcar.com/docs/integrations/webhooks/payload-verification): `SC-Signature`,
        // hex HMAC-SHA256 of the body keyed with the application management token (smartcar
        // `hash_challenge` / `verify_payload`). Webhooks v4 name the event `eventType`, v2
        // `eventName`; `eventId` stays the same on a retry. The VERIFY event is the handshake.
        "smartcar" => Preset {
            delivery_id: ptr("/eventId"),
            handshake: Some(HandshakeKind::SmartcarVerify),
            ..base(
                with(hmac("SC-Signature")),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/eventType"),
                    Locator::pointer("/eventName"),
                ])),
            )
        },
        // Square: `x-square-hmacsha256-signature`, base64 HMAC-SHA256 of notification URL +
        // body (square-python-sdk `verify_signature`); needs the source's `public_url`.
        "square" => Preset {
            delivery_id: ptr("/event_id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{url}{body}".to_owned(),
                    ..hmac("x-square-hmacsha256-signature")
                }),
                ptr("/type"),
            )
        },
        "standard-webhooks" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Straddle (docs.straddle.io/webhooks/security/sdks): delivered through Svix (`svix-*`
        // headers, `whsec_` secrets; the straddle SDK's `webhooks.unwrap` checks the same
        // signature with `standardwebhooks`); `{event_type, event_id, account_id, data}`.
        "straddle" => Preset {
            delivery_id: ptr("/event_id"),
            ..base(with(standard_webhooks("svix")), ptr("/event_type"))
        },
        // Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…]` over `{t}.{body}`, secret used as
        // text; the SDKs check only the age (300 s).
        "stripe" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created"),
            ..base(
                with(SignatureConfig {
                    limit_future: false,
                    ..t_v1_fields("Stripe-Signature")
                }),
                ptr("/type"),
            )
        },
        // Stream (GetStream) Chat: `X-Signature`, hex HMAC-SHA256 of the body with the API
        // secret (stream-chat `verify_webhook`); `X-Webhook-Id` names the delivery.
        "stream" => Preset {
            delivery_id: hdr("X-Webhook-Id"),
            event_time: ptr("/created_at"),
            ..base(with(hmac("X-Signature")), ptr("/type"))
        },
        // Stytch (stytch.com/docs/b2b/guides/webhooks): sent through Svix (`svix-*` headers).
        // The event's name is `source.object_type.action`, three body fields; the entity type
        // names the topic and `action` stays in the payload.
        "stytch" => Preset {
            delivery_id: hdr("svix-id"),
            event_time: ptr("/timestamp"),
            ..base(with(standard_webhooks("svix")), ptr("/object_type"))
        },
        // Surge (docs.surge.app/api-reference/webhooks/signature-validation): Standard Webhooks
        // with `whsec_` secrets (@surgeapi/node `webhooks.unwrap` checks them with
        // `standardwebhooks`); `{type, account_id, data}`.
        "surge" => Preset {
            delivery_id: hdr("webhook-id"),
            ..base(with(standard_webhooks("webhook")), ptr("/type"))
        },
        // Telegram Bot API (`setWebhook`'s `secret_token`): the token arrives in
        // `X-Telegram-Bot-Api-Secret-Token`. An update names its kind by which field it carries
        // (`message`, `callback_query`, …), not by a value, so every update has the type `update`.
        "telegram" => Preset {
            delivery_id: ptr("/update_id"),
            ..base(
                Some(AuthConfig::ApiKey {
                    header: Some("X-Telegram-Bot-Api-Secret-Token".to_owned()),
                }),
                Some(Locator::Value("update".to_owned())),
            )
        },
        // Telnyx: Ed25519 over `{timestamp}|{body}`, base64 signature in
        // `telnyx-signature-ed25519`, base64 public key, 5 minutes (telnyx
        // `verify_webhook_signature`).
        "telnyx" => Preset {
            delivery_id: ptr("/data/id"),
            event_time: ptr("/data/occurred_at"),
            ..base(
                Some(AuthConfig::PublicKey(SignatureConfig {
                    algorithm: Algorithm::Ed25519,
                    encoding: Encoding::Base64,
                    signed: "{timestamp}|{body}".to_owned(),
                    timestamp_header: Some("telnyx-timestamp".to_owned()),
                    key_encoding: KeyEncoding::Base64,
                    ..hmac("telnyx-signature-ed25519")
                })),
                ptr("/data/event_type"),
            )
        },
        // HCP Terraform / Terraform Enterprise notifications (developer.hashicorp.com/terraform/
        // cloud-docs/api-docs/notification-configurations): `X-TFE-Notification-Signature`, hex
        // HMAC-SHA512 of the body with the configuration's token; a delivery carries a list of
        // notifications, the first names it (`run:completed`, `verification`, …).
        "terraform-cloud" => base(
            with(SignatureConfig {
                algorithm: Algorithm::Sha512,
                ..hmac("X-TFE-Notification-Signature")
            }),
            ptr("/notifications/0/trigger"),
        ),
        // Terra: `terra-signature: t=<s>,v1=<hex>[,v1=…]` over `{t}.{body}`, ±300 s (terra-api
        // `verifyTerraWebhookSignature`).
        "terra" => base(with(t_v1_fields("terra-signature")), ptr("/type")),
        // Trello (developer.atlassian.com/cloud/trello/guides/rest-api/webhooks):
        // `X-Trello-Webhook`, base64 HMAC-SHA1 of the body followed by the webhook's
        // callbackURL, keyed with the app's secret: set the source's `public_url` to that URL.
        // Creating a webhook sends a `HEAD` that must get 200.
        "trello" => Preset {
            delivery_id: ptr("/action/id"),
            event_time: ptr("/action/date"),
            handshake: Some(HandshakeKind::HeadOk),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha1,
                    encoding: Encoding::Base64,
                    signed: "{body}{url}".to_owned(),
                    ..hmac("X-Trello-Webhook")
                }),
                ptr("/action/type"),
            )
        },
        // Trigger.dev alert webhooks (@trigger.dev/sdk `webhooks.constructEvent`):
        // `x-trigger-signature-hmacsha256`, hex HMAC-SHA256 of the body keyed with the secret's
        // text; `{id, created, webhookVersion, type, object}` (`alert.run.failed`, …).
        "trigger-dev" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created"),
            ..base(with(hmac("x-trigger-signature-hmacsha256")), ptr("/type"))
        },
        // Twilio: `X-Twilio-Signature`, base64 HMAC-SHA1 of the URL Twilio called followed by
        // the sorted form fields (twilio-python `RequestValidator`); JSON bodies are covered by
        // the URL's `bodySHA256`. Needs the source's `public_url`. Twilio has no common event
        // field; the status fields of Messaging and Voice are tried in turn.
        "twilio" => base(
            with(SignatureConfig {
                algorithm: Algorithm::Sha1,
                encoding: Encoding::Base64,
                signed: "{url}{form_params}".to_owned(),
                ..hmac("X-Twilio-Signature")
            }),
            Some(Locator::FirstOf(vec![
                Locator::pointer("/EventType"),
                Locator::pointer("/MessageStatus"),
                Locator::pointer("/SmsStatus"),
                Locator::pointer("/CallStatus"),
            ])),
        ),
        // Twitch EventSub (dev.twitch.tv/docs/eventsub/handling-webhook-events):
        // `Twitch-Eventsub-Message-Signature: sha256=<hex>` HMAC-SHA256 of message id +
        // timestamp + body with the subscription's secret; the timestamp is RFC 3339 (with
        // nanoseconds) and the docs say to refuse messages older than 10 minutes. The message id
        // is the same on a retry. Verification and revocation messages are the handshake.
        "twitch" => Preset {
            delivery_id: hdr("Twitch-Eventsub-Message-Id"),
            event_time: hdr("Twitch-Eventsub-Message-Timestamp"),
            handshake: Some(HandshakeKind::TwitchEventsub),
            ..base(
                with(SignatureConfig {
                    prefix: "sha256=".to_owned(),
                    signed: "{header:Twitch-Eventsub-Message-Id}{timestamp}{body}".to_owned(),
                    timestamp_header: Some("Twitch-Eventsub-Message-Timestamp".to_owned()),
                    timestamp_format: TimestampFormat::Rfc3339,
                    tolerance_secs: 600,
                    ..hmac("Twitch-Eventsub-Message-Signature")
                }),
                hdr("Twitch-Eventsub-Subscription-Type"),
            )
        },
        // Typeform: `Typeform-Signature: sha256=<base64>` of the body.
        "typeform" => Preset {
            delivery_id: ptr("/event_id"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    prefix: "sha256=".to_owned(),
                    ..hmac("Typeform-Signature")
                }),
                ptr("/event_type"),
            )
        },
        // Unit (docs.unit.co/webhooks, "Securing your webhooks"): `X-Unit-Signature`, base64
        // HMAC-SHA1 of the body with the webhook's secret token (@unit-finance/unit-node-sdk
        // `webhooks.verify`). A delivery is a JSON:API list of events; the first names it.
        "unit" => Preset {
            delivery_id: ptr("/data/0/id"),
            event_time: ptr("/data/0/attributes/createdAt"),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha1,
                    encoding: Encoding::Base64,
                    ..hmac("X-Unit-Signature")
                }),
                ptr("/data/0/type"),
            )
        },
        // Upstash QStash (upstash.com/docs/qstash/howto/signature): `Upstash-Signature` is a
        // JWT, HS256 with the current or the next signing key (two secrets), `iss` `Upstash`,
        // `exp` and `nbf`, and `body` the base64url SHA-256 of the body (qstash `Receiver.verify`;
        // `sub`, the URL called, can be required with `jwt = { claims = { sub = "…" } }`).
        // Messages are the publisher's own payload, so every one is a `message`.
        "upstash-qstash" => Preset {
            delivery_id: hdr("Upstash-Message-Id"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    header: Some("Upstash-Signature".to_owned()),
                    scheme: None,
                    issuer: vec!["Upstash".to_owned()],
                    require_exp: true,
                    body_hash: Some(HashClaim {
                        claim: "body".to_owned(),
                        encoding: Encoding::Base64Url,
                    }),
                    ..JwtConfig::bearer(&[JwtAlgorithm::HS256])
                })),
                Some(Locator::Value("message".to_owned())),
            )
        },
        // Vercel (vercel.com/docs/webhooks): `x-vercel-signature`, hex HMAC-SHA1 of the body with
        // the webhook's secret (or an integration's client secret).
        "vercel" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/createdAt"),
            ..base(
                with(SignatureConfig {
                    algorithm: Algorithm::Sha1,
                    ..hmac("x-vercel-signature")
                }),
                ptr("/type"),
            )
        },
        // Viber bots: `X-Viber-Content-Signature`, hex HMAC-SHA256 of the body with the bot's
        // auth token (viber-bot `MessageValidator`); `set_webhook`'s own `webhook` event is signed
        // too and is accepted like any other.
        "viber" => Preset {
            delivery_id: ptr("/message_token"),
            event_time: ptr("/timestamp"),
            ..base(with(hmac("X-Viber-Content-Signature")), ptr("/event"))
        },
        // Vonage signed webhooks (developer.vonage.com/en/getting-started/concepts/webhooks;
        // vonage-jwt `verify_signature`): `Authorization: Bearer <JWT>`, HS256 with the
        // account's signature secret, and `payload_hash` the hex SHA-256 of the body. Messages
        // API inbound messages carry `message_type`, status updates `status` (not a delivery
        // id: one message's statuses share its `message_uuid`).
        "vonage" => Preset {
            event_time: ptr("/timestamp"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    body_hash: Some(HashClaim {
                        claim: "payload_hash".to_owned(),
                        encoding: Encoding::Hex,
                    }),
                    ..JwtConfig::bearer(&[JwtAlgorithm::HS256])
                })),
                Some(Locator::FirstOf(vec![
                    Locator::pointer("/message_type"),
                    Locator::pointer("/status"),
                ])),
            )
        },
        // Webflow: `x-webflow-signature`, hex HMAC-SHA256 of `{x-webflow-timestamp}:{body}`, the
        // timestamp in ms (webflow-api `webhooks.verifySignature`); the docs reject requests
        // older than 5 minutes.
        "webflow" => base(
            with(SignatureConfig {
                signed: "{timestamp}:{body}".to_owned(),
                timestamp_header: Some("x-webflow-timestamp".to_owned()),
                timestamp_format: TimestampFormat::UnixMillis,
                ..hmac("x-webflow-signature")
            }),
            ptr("/triggerType"),
        ),
        // Whop (docs.whop.com/developer/guides/webhooks): Standard Webhooks headers, but the
        // key is the secret's text (`ws_…`) as issued, not a base64 `whsec_` value (whop-sdk
        // `lib.verify_webhook.unwrap`, which base64-encodes the secret for `standardwebhooks`).
        "whop" => Preset {
            delivery_id: hdr("webhook-id"),
            event_time: ptr("/timestamp"),
            ..base(
                with(SignatureConfig {
                    key_encoding: KeyEncoding::Utf8,
                    key_prefix: String::new(),
                    ..standard_webhooks("webhook")
                }),
                ptr("/type"),
            )
        },
        // Wix apps (dev.wix.com/docs/build-apps/develop-your-app/api-integrations/events-and-
        // webhooks/about-webhooks; payload in dev.wix.com/docs/rest/articles/get-started/
        // webhook-structure; @wix/sdk `AppStrategy({publicKey})` + `webhooks.parseJWT`): the
        // body is a JWT, RS256 with the app's public key (the source's secret, PEM), whose `data`
        // claim is a JSON string `{eventType, instanceId, data, identity}`; that string becomes
        // the event. Its `data` is itself a string, so the event id inside it is out of a
        // locator's reach.
        "wix" => Preset {
            context: ptr("/instanceId"),
            ..base(
                Some(AuthConfig::Jwt(JwtConfig {
                    header: None,
                    scheme: None,
                    body: true,
                    event_claim: Some("data".to_owned()),
                    ..JwtConfig::bearer(&[JwtAlgorithm::RS256])
                })),
                ptr("/eventType"),
            )
        },
        // WooCommerce (woocommerce.github.io/woocommerce-rest-api-docs/#webhooks):
        // `X-WC-Webhook-Signature`, base64 HMAC-SHA256 of the body with the secret set on the
        // webhook; topic and delivery id in headers.
        "woocommerce" => Preset {
            delivery_id: hdr("X-WC-Webhook-Delivery-ID"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("X-WC-Webhook-Signature")
                }),
                hdr("X-WC-Webhook-Topic"),
            )
        },
        // Wise: `X-Signature-SHA256`, base64 RSA-SHA256 (PKCS#1 v1.5) of the body, checked with
        // Wise's public key (sandbox and production differ; Wise's "event handling" docs point
        // to transferwise/digital-signatures-examples, which holds the sandbox key). A delivery
        // UUID in `X-Delivery-Id`; v2 events carry `event_type` and `data.occurred_at`. Wise
        // signs no timestamp, so there is no replay window.
        "wise" => Preset {
            delivery_id: hdr("X-Delivery-Id"),
            event_time: ptr("/data/occurred_at"),
            ..base(
                Some(AuthConfig::PublicKey(SignatureConfig {
                    algorithm: Algorithm::RsaPkcs1Sha256,
                    encoding: Encoding::Base64,
                    key_encoding: KeyEncoding::Base64,
                    ..hmac("X-Signature-SHA256")
                })),
                ptr("/event_type"),
            )
        },
        // WorkOS: `WorkOS-Signature: t=<ms>, v1=<hex>` over `{t}.{body}`; @workos-inc/node
        // allows 180 s into the past and any time ahead.
        "workos" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created_at"),
            ..base(
                with(SignatureConfig {
                    timestamp_format: TimestampFormat::UnixMillis,
                    tolerance_secs: 180,
                    limit_future: false,
                    ..t_v1_fields("WorkOS-Signature")
                }),
                ptr("/event"),
            )
        },
        // Worldline Direct / Online Payments (onlinepayments-sdk-python3 `SignatureValidator`):
        // `X-GCS-Signature`, base64 HMAC-SHA256 of the body keyed with the secret's text;
        // `X-GCS-KeyId` names the key, and every configured secret is tried, so it is not read.
        // The endpoint is checked with a `GET` whose `X-GCS-Webhooks-Endpoint-Verification`
        // value must come back as text.
        "worldline" => Preset {
            delivery_id: ptr("/id"),
            event_time: ptr("/created"),
            handshake: Some(HandshakeKind::WorldlineVerification),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("X-GCS-Signature")
                }),
                ptr("/type"),
            )
        },
        // X (Twitter): `x-twitter-webhooks-signature: sha256=<base64>` of the body, keyed with
        // the consumer secret; Activity API envelopes carry `event_type` and `event_uuid`.
        "x" => Preset {
            delivery_id: ptr("/event_uuid"),
            handshake: Some(HandshakeKind::XCrc),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    prefix: "sha256=".to_owned(),
                    ..hmac("x-twitter-webhooks-signature")
                }),
                ptr("/event_type"),
            )
        },
        // Xero: `x-xero-signature`, base64 HMAC-SHA256 of the body; events in a batch.
        "xero" => Preset {
            handshake: Some(HandshakeKind::XeroIntentToReceive),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    ..hmac("x-xero-signature")
                }),
                ptr("/events/0/eventCategory"),
            )
        },
        // Zendesk (developer.zendesk.com/documentation/webhooks/verifying):
        // `X-Zendesk-Webhook-Signature`, base64 HMAC-SHA256 of
        // `{X-Zendesk-Webhook-Signature-Timestamp}{body}`. That timestamp is RFC 3339, which the
        // replay window does not read: it is signed but not checked for age.
        "zendesk" => Preset {
            delivery_id: hdr("x-zendesk-webhook-invocation-id"),
            event_time: ptr("/time"),
            ..base(
                with(SignatureConfig {
                    encoding: Encoding::Base64,
                    signed: "{header:X-Zendesk-Webhook-Signature-Timestamp}{body}".to_owned(),
                    ..hmac("X-Zendesk-Webhook-Signature")
                }),
                ptr("/type"),
            )
        },
        // Zoom: `x-zm-signature: v0=<hex>` over `v0:{timestamp}:{body}` (zoom/webhook-sample);
        // `event`, `event_ts` in ms.
        "zoom" => Preset {
            event_time: ptr("/event_ts"),
            handshake: Some(HandshakeKind::ZoomUrlValidation),
            ..base(
                with(SignatureConfig {
                    prefix: "v0=".to_owned(),
                    signed: "v0:{timestamp}:{body}".to_owned(),
                    timestamp_header: Some("x-zm-request-timestamp".to_owned()),
                    ..hmac("x-zm-signature")
                }),
                ptr("/event"),
            )
        },
        _ => return None,
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// AWS SNS: base64 `Signature` (SignatureVersion `1`: SHA1withRSA, `2`: SHA256withRSA) over
/// `Name\nValue\n` lines of the fields listed for the message's `Type` (`Subject` only when
/// present), with the certificate at `SigningCertURL`, which must be an https `.pem` on
/// `sns.<region>.amazonaws.com` (`.com.cn` in China), as AWS's validators require. Like them,
/// the certificate's chain is not checked: HTTPS to an allowed host is the proof. `TopicArn`
/// must be one of the source's secrets.
pub fn sns_auth() -> CertificateUrlConfig {
    let confirmation = strings(&[
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ]);
    CertificateUrlConfig {
        cert_url: Locator::pointer("/SigningCertURL"),
        allowed_hosts: strings(crate::ingest::confirm::SNS_HOSTS),
        cert_path_suffix: ".pem".to_owned(),
        signature: Locator::pointer("/Signature"),
        algorithm: None,
        algorithm_from: Some(Locator::pointer("/SignatureVersion")),
        algorithms: [
            ("1".to_owned(), Algorithm::RsaPkcs1Sha1),
            ("2".to_owned(), Algorithm::RsaPkcs1Sha256),
        ]
        .into(),
        signed: None,
        signed_fields: Some(SignedFields {
            by: "Type".to_owned(),
            lists: [
                (
                    "Notification".to_owned(),
                    strings(&[
                        "Message",
                        "MessageId",
                        "Subject?",
                        "Timestamp",
                        "TopicArn",
                        "Type",
                    ]),
                ),
                ("SubscriptionConfirmation".to_owned(), confirmation.clone()),
                ("UnsubscribeConfirmation".to_owned(), confirmation),
            ]
            .into(),
        }),
        recipient_pointer: Some("/TopicArn".to_owned()),
        chain: Chain::None,
        cert_names: Vec::new(),
    }
}

/// PayPal: base64 `PAYPAL-TRANSMISSION-SIG`, SHA256withRSA (`PAYPAL-AUTH-ALGO`) over
/// `{transmission id}|{transmission time}|{webhook id}|{CRC-32 of the body, decimal}`, with
/// the certificate at `PAYPAL-CERT-URL` on PayPal's API hosts. As the SDK does, the
/// certificate must chain to a trusted root (intermediates sent after it) and be named for
/// `*.paypal.com`.
pub fn paypal_auth() -> CertificateUrlConfig {
    CertificateUrlConfig {
        cert_url: Locator::header("PAYPAL-CERT-URL"),
        allowed_hosts: strings(&[
            "api.paypal.com",
            "api-m.paypal.com",
            "api.sandbox.paypal.com",
            "api-m.sandbox.paypal.com",
        ]),
        cert_path_suffix: String::new(),
        signature: Locator::header("PAYPAL-TRANSMISSION-SIG"),
        algorithm: None,
        algorithm_from: Some(Locator::header("PAYPAL-AUTH-ALGO")),
        algorithms: [("SHA256withRSA".to_owned(), Algorithm::RsaPkcs1Sha256)].into(),
        signed: Some(
            "{header:paypal-transmission-id}|{header:paypal-transmission-time}|{secret}|{body_crc32}"
                .to_owned(),
        ),
        signed_fields: None,
        recipient_pointer: None,
        chain: Chain::Public,
        cert_names: strings(&["*.paypal.com"]),
    }
}

fn fields(separator: &str, signature: &str, timestamp: &str) -> FieldsConfig {
    FieldsConfig {
        separator: separator.to_owned(),
        signature: signature.to_owned(),
        timestamp: Some(timestamp.to_owned()),
    }
}

fn gitlab_delivery_id() -> Option<Locator> {
    Some(Locator::FirstOf(vec![
        Locator::header("Idempotency-Key"),
        Locator::header("X-Gitlab-Event-UUID"),
    ]))
}

#[cfg(test)]
mod tests;
