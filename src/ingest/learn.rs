//! Keeping a secret a handshake taught (Asana's `X-Hook-Secret`).
//!
//! Owns: the [`SecretKeeper`] contract and its errors. The pipeline knows only this trait; the
//! app layer provides the one implementation, over the admin store (`control::store`), which
//! seals the secret and saves it (fsynced file, or the compacted topic every replica reads)
//! before it returns. So ingest never imports `control`, and a `200` to the handshake means the
//! secret is durable and in force.

use std::future::Future;
use std::pin::Pin;

use hyper::StatusCode;

use crate::base::live::Live;
use crate::base::secret::Secret;
use crate::ingest::source::Routes;

/// Why a learned secret was not kept. The handshake is refused with it, and nothing changes.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    /// The gateway runs without `[admin.store]`: there is nowhere to keep the secret.
    #[error(
        "this gateway has no admin store, so it cannot keep a secret learned at the handshake; \
         configure [admin] with [admin.store] and create the webhook through the admin API"
    )]
    NoStore,
    /// A config-file source, or a webhook deleted meanwhile: only API-created webhooks learn.
    #[error(
        "only webhooks created through the admin API learn their secret at the handshake; \
         a config-file source takes it in `secrets`"
    )]
    NotLearnable,
    /// Another handshake (on this replica or one whose change arrived first) set it.
    #[error(
        "this source already has a secret, so a handshake cannot set another; an operator \
         clears it first (DELETE /v1/webhooks/{{id}}/secret)"
    )]
    Exists,
    /// The store did not take the change; the provider may retry the handshake.
    #[error("the learned secret could not be saved: {0}")]
    Failed(String),
}

impl KeepError {
    pub fn status(&self) -> StatusCode {
        match self {
            KeepError::NoStore | KeepError::NotLearnable | KeepError::Exists => {
                StatusCode::CONFLICT
            }
            KeepError::Failed(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            KeepError::NoStore | KeepError::NotLearnable => "secret_not_learnable",
            KeepError::Exists => "secret_exists",
            KeepError::Failed(_) => "secret_not_saved",
        }
    }
}

/// The future [`SecretKeeper::keep`] returns.
pub type Keeping<'a> = Pin<Box<dyn Future<Output = Result<(), KeepError>> + Send + 'a>>;

/// Keeps the secret a handshake brought for `source`, if the source has none yet, and puts the
/// source with it in force in `routes`. Returns only once the secret is saved for good.
pub trait SecretKeeper: Send + Sync + std::fmt::Debug {
    fn keep<'a>(
        &'a self,
        routes: &'a Live<Routes>,
        source: &'a str,
        secret: &'a Secret,
    ) -> Keeping<'a>;
}
