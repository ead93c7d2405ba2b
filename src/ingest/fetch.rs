//! Outbound HTTPS GET, for the few verification kinds that need a document the request only
//! names: a signing certificate at a URL in the delivery (AWS SNS, PayPal), a JSON Web Key Set
//! at a configured URL (Google Pub/Sub, Saleor, Kinde).
//!
//! Owns: [`Fetcher`] (one per gateway, built at start-up from `[outbound]`) and
//! [`HostPattern`], the allow-list syntax for hosts a URL in a request may name.
//!
//! Invariants: HTTPS only, with the server's certificate checked against the Mozilla roots
//! (plus `[outbound] ca_file`); no redirect is followed; every fetch is bounded in time
//! (`timeout_ms`, connect to last byte) and size (`max_bytes`); only status `200` counts. The
//! caller checks the host against its allow-list *before* asking, so a request can never
//! make the gateway call a host its config does not name. Errors name the host, never a
//! query string (which may carry tokens).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper::header::{HeaderValue, HOST, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use tokio_rustls::TlsConnector;
use url::Url;

/// `[outbound]`: how the gateway fetches certificates and key sets.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Extra trust anchors (PEM), added to the Mozilla roots: a private CA, or a test's.
    pub ca_file: Option<PathBuf>,
    /// Connect to last byte, per fetch.
    #[serde(default = "OutboundConfig::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Largest document accepted.
    #[serde(default = "OutboundConfig::default_max_bytes")]
    pub max_bytes: usize,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            ca_file: None,
            timeout_ms: Self::default_timeout_ms(),
            max_bytes: Self::default_max_bytes(),
        }
    }
}

impl OutboundConfig {
    const fn default_timeout_ms() -> u64 {
        5_000
    }
    const fn default_max_bytes() -> usize {
        256 * 1024
    }
}

/// Why a fetcher could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FetcherConfigError {
    #[error("cannot read `ca_file` {path}: {reason}")]
    CaFile { path: PathBuf, reason: String },
    #[error("`ca_file` {0} holds no certificate")]
    CaFileEmpty(PathBuf),
    #[error("`timeout_ms` and `max_bytes` must be above 0")]
    Zero,
}

/// Why a fetch failed. Messages name the host, never the path or query.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("only https URLs are fetched")]
    NotHttps,
    #[error("the URL has no host")]
    NoHost,
    #[error("connecting to {host} failed: {reason}")]
    Connect { host: String, reason: String },
    #[error("TLS with {host} failed: {reason}")]
    Tls { host: String, reason: String },
    #[error("{host} answered {status}")]
    Status { host: String, status: u16 },
    #[error("{host} sent more than {max} bytes")]
    TooLarge { host: String, max: usize },
    #[error("{host} did not answer within {ms} ms")]
    Timeout { host: String, ms: u64 },
    #[error("reading from {host} failed: {reason}")]
    Read { host: String, reason: String },
}

/// An HTTPS GET client with fixed limits. Cheap to share (`Arc`).
pub struct Fetcher {
    config: OutboundConfig,
    tls: TlsConnector,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Fetcher {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}
impl Eq for Fetcher {}

impl Fetcher {
    pub fn new(config: &OutboundConfig) -> Result<Arc<Self>, FetcherConfigError> {
        if config.timeout_ms == 0 || config.max_bytes == 0 {
            return Err(FetcherConfigError::Zero);
        }
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = &config.ca_file {
            for cert in read_pem_certs(path)? {
                roots.add(cert).map_err(|e| FetcherConfigError::CaFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FetcherConfigError::CaFile {
                path: PathBuf::new(),
                reason: e.to_string(),
            })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(Fetcher {
            config: config.clone(),
            tls: TlsConnector::from(Arc::new(tls)),
        }))
    }

    /// A fetcher with the defaults and the Mozilla roots only (tests, commands).
    pub fn default_shared() -> Arc<Self> {
        // The defaults name no file, so building cannot fail; keep a fallback anyway.
        match Fetcher::new(&OutboundConfig::default()) {
            Ok(f) => f,
            Err(_) => unreachable!("the default outbound config builds"),
        }
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// GETs `url` (HTTPS only) and returns its body.
    pub async fn get(&self, url: &Url) -> Result<Bytes, FetchError> {
        let host = url.host_str().ok_or(FetchError::NoHost)?.to_owned();
        let ms = self.config.timeout_ms;
        match tokio::time::timeout(Duration::from_millis(ms), self.get_inner(url, &host)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout { host, ms }),
        }
    }

    async fn get_inner(&self, url: &Url, host: &str) -> Result<Bytes, FetchError> {
        if url.scheme() != "https" {
            return Err(FetchError::NotHttps);
        }
        let port = url.port_or_known_default().unwrap_or(443);
        // `host_str` keeps IPv6 brackets; the socket and SNI want the bare address.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let tcp = tokio::net::TcpStream::connect((bare, port))
            .await
            .map_err(|e| FetchError::Connect {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(bare.to_owned()).map_err(|e| FetchError::Tls {
            host: host.to_owned(),
            reason: e.to_string(),
        })?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| FetchError::Tls {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| FetchError::Connect {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        let connection = tokio::spawn(conn);
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let mut request = Request::new(Empty::<Bytes>::new());
        *request.uri_mut() = path.parse().map_err(|_| FetchError::NoHost)?;
        let headers = request.headers_mut();
        headers.insert(
            HOST,
            HeaderValue::from_str(&authority).map_err(|_| FetchError::NoHost)?,
        );
        headers.insert(USER_AGENT, HeaderValue::from_static("hookgate"));
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| FetchError::Read {
                host: host.to_owned(),
                reason: e.to_string(),
            })?;
        if response.status() != StatusCode::OK {
            connection.abort();
            return Err(FetchError::Status {
                host: host.to_owned(),
                status: response.status().as_u16(),
            });
        }
        let max = self.config.max_bytes;
        let body = Limited::new(response.into_body(), max)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    FetchError::TooLarge {
                        host: host.to_owned(),
                        max,
                    }
                } else {
                    FetchError::Read {
                        host: host.to_owned(),
                        reason: e.to_string(),
                    }
                }
            })?;
        connection.abort();
        Ok(body.to_bytes())
    }
}

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, FetcherConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| FetcherConfigError::CaFile {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(FetcherConfigError::CaFileEmpty(path.to_owned()));
    }
    Ok(certs)
}

/// A host a URL in a request may name: DNS labels where `*` stands for exactly one label
/// (`sns.*.amazonaws.com`), optionally `:port` (any port when absent, 443 being what
/// providers use). Compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    labels: Vec<String>,
    port: Option<u16>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("host pattern `{pattern}`: {reason}")]
pub struct HostPatternError {
    pattern: String,
    reason: &'static str,
}

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<Self, HostPatternError> {
        let err = |reason| HostPatternError {
            pattern: pattern.to_owned(),
            reason,
        };
        let (host, port) = match pattern.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().map_err(|_| err("bad port"))?)),
            None => (pattern, None),
        };
        let labels: Vec<String> = host.split('.').map(str::to_ascii_lowercase).collect();
        if labels.iter().any(|l| l.is_empty()) {
            return Err(err("empty label"));
        }
        let valid = |l: &String| {
            l == "*"
                || l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !labels.iter().all(valid) {
            return Err(err("labels are letters, digits, `-`, or a whole `*`"));
        }
        // The registrable part must be spelled out: `*.com` or `*` would allow anyone.
        let fixed_tail = labels.iter().rev().take_while(|l| *l != "*").count();
        if fixed_tail < 2 && labels.len() > 1 || labels.iter().all(|l| l == "*") {
            return Err(err("name at least the last two labels (`*.example.com`)"));
        }
        Ok(HostPattern { labels, port })
    }

    /// Whether `url`'s host and port match.
    pub fn matches(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        if let Some(port) = self.port {
            if url.port_or_known_default() != Some(port) {
                return false;
            }
        }
        self.matches_name(host)
    }

    /// Whether a DNS name (a certificate's, say) matches, the port aside.
    pub fn matches_name(&self, host: &str) -> bool {
        let mut labels = host.split('.');
        let mut n = 0;
        for want in &self.labels {
            let Some(got) = labels.next() else {
                return false;
            };
            n += 1;
            if want != "*" && !got.eq_ignore_ascii_case(want) {
                return false;
            }
            if want == "*" && got.is_empty() {
                return false;
            }
        }
        labels.next().is_none() && n == self.labels.len()
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.labels.join("."))?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// An allow-list: a URL passes when any pattern matches it and it is `https`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostAllowList(Vec<HostPattern>);

impl HostAllowList {
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, HostPatternError> {
        patterns
            .iter()
            .map(|p| HostPattern::parse(p.as_ref()))
            .collect::<Result<_, _>>()
            .map(HostAllowList)
    }

    pub fn allows(&self, url: &Url) -> bool {
        url.scheme() == "https" && self.0.iter().any(|p| p.matches(url))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn patterns_match_one_label_per_star_and_the_port_when_named() {
        let sns = HostPattern::parse("sns.*.amazonaws.com").expect("pattern");
        assert!(sns.matches(&url("https://sns.eu-west-1.amazonaws.com/cert.pem")));
        assert!(sns.matches(&url("https://SNS.us-east-1.AmazonAWS.com/x")));
        assert!(!sns.matches(&url("https://sns.a.b.amazonaws.com/x")));
        assert!(!sns.matches(&url("https://sns.amazonaws.com/x")));
        assert!(!sns.matches(&url("https://sns.eu-west-1.amazonaws.com.evil.io/x")));
        assert!(!sns.matches(&url("https://evil.io/sns.eu-west-1.amazonaws.com")));
        let local = HostPattern::parse("localhost:8443").expect("pattern");
        assert!(local.matches(&url("https://localhost:8443/k")));
        assert!(!local.matches(&url("https://localhost:9443/k")));
        let any_port = HostPattern::parse("api.paypal.com").expect("pattern");
        assert!(any_port.matches(&url("https://api.paypal.com/v1/certs/1")));
    }

    #[test]
    fn patterns_must_name_the_registrable_domain() {
        for bad in ["*", "*.com", "*.*", "a..b", "exa mple.com", "x.com:99999"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
        assert!(HostPattern::parse("localhost").is_ok());
        assert!(HostPattern::parse("*.paypal.com").is_ok());
    }

    #[test]
    fn the_allow_list_wants_https() {
        let list = HostAllowList::parse(&["*.paypal.com"]).expect("list");
        assert!(list.allows(&url("https://api.paypal.com/c")));
        assert!(!list.allows(&url("http://api.paypal.com/c")));
        assert!(!list.allows(&url("https://paypal.com.evil/c")));
    }

    #[tokio::test]
    async fn plain_http_and_unreachable_hosts_are_errors_naming_only_the_host() {
        let f = Fetcher::default_shared();
        assert_eq!(
            f.get(&url("http://127.0.0.1:1/x?token=s3cret")).await,
            Err(FetchError::NotHttps)
        );
        let err = f
            .get(&url("https://127.0.0.1:1/x?token=s3cret"))
            .await
            .expect_err("refused");
        assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
        assert!(!err.to_string().contains("s3cret"));
    }
}
