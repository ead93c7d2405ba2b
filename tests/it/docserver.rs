//! A local HTTPS server that stands in for a provider's key host (a certificate URL, a JWKS
//! endpoint): its own CA (written to a PEM file for `[outbound] ca_file`), a certificate for
//! `localhost` and `127.0.0.1`, documents set per path, hits counted per path. Nothing here
//! reaches the internet.
//!
//! Also the tests of the outbound client and its cache (`ingest::fetch`, `auth::remote`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

#[derive(Clone)]
struct Doc {
    status: u16,
    body: Bytes,
    delay: Duration,
}

/// The server; stops when dropped.
pub struct DocServer {
    pub port: u16,
    /// The CA that signed the server's certificate, as a PEM file.
    pub ca_file: PathBuf,
    /// The CA's certificate and key, to issue more certificates (e.g. signing certificates).
    pub ca: rcgen::CertifiedKey,
    docs: Arc<Mutex<HashMap<String, Doc>>>,
    hits: Arc<Mutex<HashMap<String, Arc<AtomicUsize>>>>,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DocServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DocServer {
    pub async fn start() -> DocServer {
        let ca_key = rcgen::KeyPair::generate().expect("ca key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "hookgate test key host CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("ca");
        let leaf_key = rcgen::KeyPair::generate().expect("leaf key");
        let leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("params");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca_cert, &ca_key)
            .expect("leaf");
        let dir = tempfile::tempdir().expect("dir");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).expect("write ca");

        let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server tls");
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let docs: Arc<Mutex<HashMap<String, Doc>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, Arc<AtomicUsize>>>> = Arc::default();
        let (d, h) = (docs.clone(), hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, d, h) = (acceptor.clone(), d.clone(), h.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (d, h) = (d.clone(), h.clone());
                        async move {
                            let path = req
                                .uri()
                                .path_and_query()
                                .map(|p| p.as_str().to_owned())
                                .unwrap_or_default();
                            h.lock()
                                .expect("hits")
                                .entry(path.clone())
                                .or_default()
                                .fetch_add(1, Ordering::SeqCst);
                            let doc = d.lock().expect("docs").get(&path).cloned();
                            let response = match doc {
                                Some(doc) => {
                                    tokio::time::sleep(doc.delay).await;
                                    let mut r = Response::new(Full::new(doc.body));
                                    *r.status_mut() =
                                        StatusCode::from_u16(doc.status).expect("status");
                                    r
                                }
                                None => {
                                    let mut r = Response::new(Full::new(Bytes::new()));
                                    *r.status_mut() = StatusCode::NOT_FOUND;
                                    r
                                }
                            };
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        DocServer {
            port,
            ca_file,
            ca: rcgen::CertifiedKey {
                cert: ca_cert,
                key_pair: ca_key,
            },
            docs,
            hits,
            _dir: dir,
            task,
        }
    }

    /// `https://localhost:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Serves `body` with status 200 at `path` (path and query, as requested).
    pub fn put(&self, path: &str, body: impl Into<Bytes>) {
        self.put_with(path, 200, body, Duration::ZERO);
    }

    pub fn put_with(&self, path: &str, status: u16, body: impl Into<Bytes>, delay: Duration) {
        self.docs.lock().expect("docs").insert(
            path.to_owned(),
            Doc {
                status,
                body: body.into(),
                delay,
            },
        );
    }

    /// How many requests `path` got.
    pub fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("hits")
            .get(path)
            .map(|c| c.load(Ordering::SeqCst))
            .unwrap_or(0)
    }
}

mod client {
    use super::*;
    use hookgate::ingest::auth::remote::{CachePolicy, RemoteDocs, RemoteError};
    use hookgate::ingest::fetch::{FetchError, Fetcher, OutboundConfig};
    use url::Url;

    fn fetcher(server: &DocServer, timeout_ms: u64, max_bytes: usize) -> Arc<Fetcher> {
        Fetcher::new(&OutboundConfig {
            ca_file: Some(server.ca_file.clone()),
            timeout_ms,
            max_bytes,
        })
        .expect("fetcher")
    }

    fn parse_text(bytes: &[u8]) -> Result<String, String> {
        String::from_utf8(bytes.to_vec()).map_err(|_| "not UTF-8".to_owned())
    }

    #[tokio::test]
    async fn the_fetcher_checks_the_certificate_and_bounds_size_and_time() {
        let server = DocServer::start().await;
        server.put("/k", "key");
        server.put("/big", vec![b'x'; 5000]);
        server.put_with("/slow", 200, "late", Duration::from_secs(3));
        server.put_with("/gone", 404, "", Duration::ZERO);
        let f = fetcher(&server, 1000, 4096);
        let url = |p: &str| Url::parse(&server.url(p)).expect("url");
        assert_eq!(f.get(&url("/k")).await.expect("fetched"), "key");
        assert!(matches!(
            f.get(&url("/big")).await,
            Err(FetchError::TooLarge { max: 4096, .. })
        ));
        assert!(matches!(
            f.get(&url("/slow")).await,
            Err(FetchError::Timeout { ms: 1000, .. })
        ));
        assert!(matches!(
            f.get(&url("/gone")).await,
            Err(FetchError::Status { status: 404, .. })
        ));
        // Without the test CA the server is a stranger.
        let strict = Fetcher::default_shared();
        assert!(matches!(
            strict.get(&url("/k")).await,
            Err(FetchError::Tls { .. })
        ));
    }

    #[tokio::test]
    async fn the_cache_fetches_once_for_concurrent_requests_and_refreshes_at_most_once_per_interval(
    ) {
        let server = DocServer::start().await;
        server.put_with("/jwks", 200, "v1", Duration::from_millis(200));
        let docs = Arc::new(RemoteDocs::new(
            fetcher(&server, 2000, 4096),
            parse_text,
            CachePolicy {
                ttl: Duration::from_secs(3600),
                min_refetch: Duration::from_millis(400),
                max_entries: 2,
            },
        ));
        let url = Url::parse(&server.url("/jwks")).expect("url");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (docs, url) = (docs.clone(), url.clone());
            tasks.push(tokio::spawn(async move { docs.get(&url).await }));
        }
        for t in tasks {
            assert_eq!(*t.await.expect("task").expect("doc"), "v1");
        }
        assert_eq!(server.hits("/jwks"), 1, "one fetch for eight requests");

        // A refresh right away is refused (too soon): the cached document answers.
        server.put("/jwks", "v2");
        assert_eq!(*docs.refresh(&url).await.expect("doc"), "v1");
        assert_eq!(server.hits("/jwks"), 1);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(*docs.refresh(&url).await.expect("doc"), "v2");
        assert_eq!(server.hits("/jwks"), 2);

        // When the host fails, the last good document stays in use.
        server.put_with("/jwks", 500, "", Duration::ZERO);
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert_eq!(*docs.refresh(&url).await.expect("doc"), "v2");
        assert_eq!(server.hits("/jwks"), 3);

        // A URL that never worked: the failure is remembered for `min_refetch`.
        let missing = Url::parse(&server.url("/missing")).expect("url");
        for _ in 0..5 {
            assert!(matches!(
                docs.get(&missing).await,
                Err(RemoteError::Fetch(FetchError::Status { status: 404, .. }))
            ));
        }
        assert_eq!(server.hits("/missing"), 1);
    }

    #[tokio::test]
    async fn unusable_documents_are_errors_naming_the_host() {
        let server = DocServer::start().await;
        server.put("/bin?sig=abc", vec![0xff, 0xfe]);
        let docs = RemoteDocs::new(
            fetcher(&server, 2000, 4096),
            parse_text,
            CachePolicy::default(),
        );
        let err = docs
            .get(&Url::parse(&server.url("/bin?sig=abc")).expect("url"))
            .await
            .expect_err("not text");
        assert_eq!(
            err.to_string(),
            "the document from localhost is not usable: not UTF-8"
        );
    }
}
