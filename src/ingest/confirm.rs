//! Subscription handshakes that need an outbound call: AWS SNS asks a new endpoint to confirm
//! a subscription by fetching the `SubscribeURL` of a signed `SubscriptionConfirmation`.
//!
//! Owns: [`Subscription`], which answers SNS's `SubscriptionConfirmation` and
//! `UnsubscribeConfirmation` messages (after they were verified like any delivery; neither is
//! ever published). A confirmation is fetched only when the source says so
//! (`confirm_subscriptions = true`) and the URL is `https` on an allowed host (`confirm_hosts`,
//! by default SNS's own); otherwise the operator is told, in the answer and the log, what to do.
//! Fetches go through the gateway's [`Fetcher`] (bounded in time and size, no redirects).
//!
//! Does not: subscribe or unsubscribe on its own, or publish anything.

use std::sync::Arc;

use hyper::StatusCode;
use serde_json::json;
use sonic_rs::JsonValueTrait as _;
use url::Url;

use crate::base::json::Document;
use crate::ingest::fetch::{FetchError, Fetcher, HostAllowList, HostPatternError};
use crate::ingest::handshake::{Reply, ReplyBody};

/// Hosts SNS's `SubscribeURL`s use (the AWS SNS SDK validators' host rule, as patterns).
pub const SNS_HOSTS: &[&str] = &["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"];

/// Why a subscription message could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("the subscription confirmation has no `SubscribeURL`")]
    MissingUrl,
    #[error(
        "the `SubscribeURL` is not an https URL on a host of `confirm_hosts`; nothing was fetched"
    )]
    NotAllowed,
    /// Answered 503, so SNS sends the confirmation again.
    #[error("confirming the subscription failed: {0}")]
    Failed(FetchError),
}

impl ConfirmError {
    pub fn code(&self) -> &'static str {
        match self {
            ConfirmError::MissingUrl => "invalid_handshake",
            ConfirmError::NotAllowed => "subscribe_url_not_allowed",
            ConfirmError::Failed(_) => "subscription_confirm_failed",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ConfirmError::MissingUrl => StatusCode::BAD_REQUEST,
            ConfirmError::NotAllowed => StatusCode::UNPROCESSABLE_ENTITY,
            ConfirmError::Failed(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// A source's subscription handling, built at start-up.
pub struct Subscription {
    /// Whether `SubscriptionConfirmation`s are confirmed by fetching their URL.
    confirm: bool,
    hosts: HostAllowList,
    fetcher: Arc<Fetcher>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("confirm", &self.confirm)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// `hosts`: where a `SubscribeURL` may point (default [`SNS_HOSTS`]).
    pub fn new(
        confirm: bool,
        hosts: Option<&[String]>,
        fetcher: Arc<Fetcher>,
    ) -> Result<Self, HostPatternError> {
        let hosts = match hosts {
            Some(h) => HostAllowList::parse(h)?,
            None => HostAllowList::parse(SNS_HOSTS)?,
        };
        Ok(Subscription {
            confirm,
            hosts,
            fetcher,
        })
    }

    /// For a verified, parsed delivery: the answer when it is a subscription message, `None`
    /// for a notification.
    pub async fn answer(
        &self,
        source: &str,
        payload: &Document,
    ) -> Option<Result<Reply, ConfirmError>> {
        let text = |name: &str| payload.get(name).and_then(|v| v.as_str());
        let topic = text("TopicArn").unwrap_or_default();
        let ok = |body| {
            Some(Ok(Reply {
                status: StatusCode::OK,
                body: ReplyBody::Json(body),
                warning: None,
                header: None,
            }))
        };
        match text("Type")? {
            "SubscriptionConfirmation" => {
                let Some(raw) = text("SubscribeURL") else {
                    return Some(Err(ConfirmError::MissingUrl));
                };
                if !self.confirm {
                    // The URL carries a one-time token that only confirms this topic's
                    // subscription to this endpoint, which the operator asked for.
                    tracing::warn!(
                        source,
                        topic,
                        subscribe_url = raw,
                        "SNS subscription awaits confirmation: open its SubscribeURL, or set \
                         confirm_subscriptions = true on the source and resubscribe"
                    );
                    return ok(json!({
                        "subscription": "pending",
                        "message": "not confirmed: confirm_subscriptions is off; the \
                                    SubscribeURL is in the gateway's log"
                    }));
                }
                let url = match Url::parse(raw) {
                    Ok(url) if self.hosts.allows(&url) => url,
                    _ => {
                        tracing::warn!(
                            source,
                            topic,
                            "SNS SubscribeURL refused: not https on a host of confirm_hosts"
                        );
                        return Some(Err(ConfirmError::NotAllowed));
                    }
                };
                match self.fetcher.get(&url).await {
                    Ok(_) => {
                        tracing::info!(source, topic, "SNS subscription confirmed");
                        ok(json!({ "subscription": "confirmed" }))
                    }
                    Err(e) => Some(Err(ConfirmError::Failed(e))),
                }
            }
            "UnsubscribeConfirmation" => {
                tracing::info!(source, topic, "SNS subscription ended (not published)");
                ok(json!({ "subscription": "unsubscribed" }))
            }
            _ => None,
        }
    }
}
