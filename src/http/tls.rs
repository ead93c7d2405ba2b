//! HTTPS: the server certificate, and its reload without a restart.
//!
//! Owns: the certificate and private key read from `[server.tls]` and the rustls acceptor built
//! on them. Every handshake asks `Reloading` for the current certificate, so a background task
//! ([`Tls::watch`]) can swap in a renewed one (cert-manager, certbot and the like rewrite the
//! files in place) while connections are open. A file that does not parse, or a key that does
//! not match its certificate, is refused: the old pair keeps serving and the error is logged and
//! counted. Private keys never appear in logs or errors.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::ring::sign::any_supported_type;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

use crate::base::metrics::Metrics;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("TLS certificate file {path}: {reason}")]
    Certificate { path: PathBuf, reason: String },
    #[error("TLS key file {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("TLS set-up: {0}")]
    Setup(String),
}

/// The HTTPS side of the listener.
pub struct Tls {
    acceptor: TlsAcceptor,
    resolver: Arc<Reloading>,
    config: TlsConfig,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("cert_file", &self.config.cert_file)
            .finish_non_exhaustive()
    }
}

impl Tls {
    /// Reads the certificate chain and key; fails (naming the file, never the key's content)
    /// if either is missing, unreadable, or they do not belong together.
    pub fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        let loaded = Loaded::read(config)?;
        tracing::info!(
            cert_file = %config.cert_file.display(),
            sha256 = %loaded.fingerprint,
            "TLS certificate loaded"
        );
        let resolver = Arc::new(Reloading {
            current: RwLock::new(loaded),
        });
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(resolver.clone());
        server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            resolver,
            config: config.clone(),
        })
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }

    /// SHA-256 of the certificate being served (hex), for logs and tests.
    pub fn fingerprint(&self) -> String {
        self.resolver.read().fingerprint.clone()
    }

    /// Checks the files every `reload_interval_secs` and swaps in a changed pair once it
    /// loads. Runs until `stop` turns true.
    pub async fn watch(&self, metrics: &Metrics, mut stop: tokio::sync::watch::Receiver<bool>) {
        let every = Duration::from_secs(self.config.reload_interval_secs.max(1));
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                _ = stop.changed() => return,
            }
            let stamp = FileStamp::of(&self.config);
            if stamp == self.resolver.read().stamp {
                continue;
            }
            match Loaded::read(&self.config) {
                Ok(loaded) => {
                    tracing::info!(
                        cert_file = %self.config.cert_file.display(),
                        sha256 = %loaded.fingerprint,
                        "TLS certificate reloaded"
                    );
                    *self
                        .resolver
                        .current
                        .write()
                        .unwrap_or_else(|e| e.into_inner()) = loaded;
                    metrics.tls_reload(true);
                }
                Err(e) => {
                    tracing::error!(error = %e, "TLS certificate not reloaded; still serving the previous one");
                    // Remember the stamp so one bad write is reported once, not every tick.
                    self.resolver
                        .current
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .stamp = stamp;
                    metrics.tls_reload(false);
                }
            }
        }
    }
}

/// Size and modification time of both files: a change in either triggers a reload.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp(Option<(u64, SystemTime)>, Option<(u64, SystemTime)>);

impl FileStamp {
    fn of(config: &TlsConfig) -> Self {
        let stat = |p: &Path| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        };
        FileStamp(stat(&config.cert_file), stat(&config.key_file))
    }
}

struct Loaded {
    key: Arc<CertifiedKey>,
    fingerprint: String,
    stamp: FileStamp,
}

impl Loaded {
    fn read(config: &TlsConfig) -> Result<Self, TlsError> {
        // Stamp first: a write landing between stamp and read is then seen on the next tick.
        let stamp = FileStamp::of(config);
        let cert_err = |reason: String| TlsError::Certificate {
            path: config.cert_file.clone(),
            reason,
        };
        let key_err = |reason: &str| TlsError::Key {
            path: config.key_file.clone(),
            reason: reason.to_owned(),
        };
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&config.cert_file)
            .map_err(|e| cert_err(e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| cert_err(e.to_string()))?;
        let Some(leaf) = chain.first() else {
            return Err(cert_err("no PEM certificate in the file".to_owned()));
        };
        let fingerprint = hex::encode(Sha256::digest(leaf.as_ref()));
        // The key's own parse errors could quote key material; report only what failed.
        let key = PrivateKeyDer::from_pem_file(&config.key_file)
            .map_err(|_| key_err("no readable PEM private key (PKCS#8, PKCS#1 or SEC1)"))?;
        let signing = any_supported_type(&key)
            .map_err(|_| key_err("the private key's type is not supported"))?;
        let certified = CertifiedKey::new(chain, signing);
        certified
            .keys_match()
            .map_err(|_| key_err("the private key does not belong to the certificate"))?;
        Ok(Loaded {
            key: Arc::new(certified),
            fingerprint,
            stamp,
        })
    }
}

/// Hands every handshake the current certificate.
struct Reloading {
    current: RwLock<Loaded>,
}

impl Reloading {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Reloading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.read().key.clone())
    }
}

/// `[server.tls]`: the certificate (PEM chain, leaf first) and its private key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    /// How often the files are checked for a renewed certificate.
    #[serde(default = "TlsConfig::default_reload_interval_secs")]
    pub reload_interval_secs: u64,
}

impl TlsConfig {
    const fn default_reload_interval_secs() -> u64 {
        30
    }
}
