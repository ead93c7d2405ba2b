//! Keys that live at a URL: fetched through the gateway's [`Fetcher`], parsed once, cached.
//!
//! Owns: [`RemoteDocs`], a cache of parsed documents (a certificate's public key, a key set)
//! by URL, shared by every request of a source. It is the one place in `auth` that does I/O
//! and reads a clock (the monotonic one, for expiry); the checks themselves stay pure.
//!
//! Invariants: one fetch per URL at a time (concurrent requests wait for it and share its
//! result); a URL is fetched again only after `ttl`, or on [`RemoteDocs::refresh`] (an unknown
//! key id), and never more often than once per `min_refetch`, failures included, so a flood
//! of forged requests cannot turn into a flood of outbound calls; at most `max_entries` URLs
//! are kept (the least recently fetched goes first). The last good document of a URL stays in
//! use while fetching it again fails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use crate::ingest::fetch::{FetchError, Fetcher};

/// Why no document is available for a URL.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RemoteError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("the document from {host} is not usable: {reason}")]
    Parse { host: String, reason: String },
}

/// How long documents are kept and how often they may be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    pub ttl: Duration,
    pub min_refetch: Duration,
    pub max_entries: usize,
}

impl Default for CachePolicy {
    fn default() -> Self {
        CachePolicy {
            ttl: Duration::from_secs(3600),
            min_refetch: Duration::from_secs(10),
            max_entries: 64,
        }
    }
}

type Parse<T> = fn(&[u8]) -> Result<T, String>;

enum State<T> {
    Empty,
    Ready {
        value: Arc<T>,
        fetched: Instant,
        tried: Instant,
    },
    Failed {
        error: RemoteError,
        tried: Instant,
    },
}

struct Slot<T> {
    state: tokio::sync::Mutex<State<T>>,
    /// When the slot was last fetched, for eviction (read without the async lock).
    touched: Mutex<Instant>,
}

/// Parsed documents by URL.
pub struct RemoteDocs<T> {
    fetcher: Arc<Fetcher>,
    parse: Parse<T>,
    policy: CachePolicy,
    slots: Mutex<HashMap<String, Arc<Slot<T>>>>,
}

impl<T> std::fmt::Debug for RemoteDocs<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteDocs")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl<T> RemoteDocs<T> {
    pub fn new(fetcher: Arc<Fetcher>, parse: Parse<T>, policy: CachePolicy) -> Self {
        RemoteDocs {
            fetcher,
            parse,
            policy,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The document at `url`, from the cache while it is fresh.
    pub async fn get(&self, url: &Url) -> Result<Arc<T>, RemoteError> {
        self.load(url, false).await
    }

    /// The document at `url` fetched again (a key id it did not hold was asked for), unless
    /// it was fetched less than `min_refetch` ago: then the cached one.
    pub async fn refresh(&self, url: &Url) -> Result<Arc<T>, RemoteError> {
        self.load(url, true).await
    }

    async fn load(&self, url: &Url, force: bool) -> Result<Arc<T>, RemoteError> {
        let slot = self.slot(url);
        let mut state = slot.state.lock().await;
        let now = Instant::now();
        match &*state {
            State::Ready {
                value,
                fetched,
                tried,
            } => {
                let fresh = !force && now.duration_since(*fetched) < self.policy.ttl;
                if fresh || now.duration_since(*tried) < self.policy.min_refetch {
                    return Ok(value.clone());
                }
            }
            State::Failed { error, tried } => {
                if now.duration_since(*tried) < self.policy.min_refetch {
                    return Err(error.clone());
                }
            }
            State::Empty => {}
        }
        let fetched = self.fetcher.get(url).await.map_err(RemoteError::from);
        let parsed = fetched.and_then(|bytes| {
            (self.parse)(&bytes).map_err(|reason| RemoteError::Parse {
                host: url.host_str().unwrap_or_default().to_owned(),
                reason,
            })
        });
        let at = Instant::now();
        if let Ok(mut touched) = slot.touched.lock() {
            *touched = at;
        }
        match (parsed, &mut *state) {
            (Ok(value), state) => {
                let value = Arc::new(value);
                *state = State::Ready {
                    value: value.clone(),
                    fetched: at,
                    tried: at,
                };
                Ok(value)
            }
            // The last good document stays in use while fetching fails.
            (Err(_), State::Ready { value, tried, .. }) => {
                *tried = at;
                Ok(value.clone())
            }
            (Err(error), state) => {
                *state = State::Failed {
                    error: error.clone(),
                    tried: at,
                };
                Err(error)
            }
        }
    }

    fn slot(&self, url: &Url) -> Arc<Slot<T>> {
        let mut slots = match self.slots.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(slot) = slots.get(url.as_str()) {
            return slot.clone();
        }
        if slots.len() >= self.policy.max_entries {
            let oldest = slots
                .iter()
                .min_by_key(|(_, s)| {
                    s.touched
                        .lock()
                        .map(|t| *t)
                        .unwrap_or_else(|_| Instant::now())
                })
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                slots.remove(&k);
            }
        }
        let slot = Arc::new(Slot {
            state: tokio::sync::Mutex::new(State::Empty),
            touched: Mutex::new(Instant::now()),
        });
        slots.insert(url.as_str().to_owned(), slot.clone());
        slot
    }
}
