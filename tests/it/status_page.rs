//! The status page on the admin listener, loaded in headless Chromium (Debian's package,
//! installed by `scripts/install-chromium`) after a few deliveries: the figures it shows are
//! the ones the gateway answered.

use crate::common::{github_signature, post, send, Gateway};

const STORE_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn config(store: &std::path::Path, spool: &std::path::Path, status_page: &str) -> String {
    format!(
        r#"
[schemas]
dir = "{{schemas}}"

[spool]
dir = "{spool}"

[admin]
listen = "127.0.0.1:0"
keys = [{{ name = "ops", secret = {{ insecure_dev_value = "ops-key-0123456789" }}, scopes = ["webhooks:read"] }}]
store = {{ path = "{store}", encryption_key = {{ insecure_dev_value = "{STORE_KEY}" }} }}
status_page = "{status_page}"

[sources.github]
provider = "github"
secrets = [{{ insecure_dev_value = "gh-secret" }}]

[sources.identity]
provider = "cidaas"
secrets = [{{ insecure_dev_value = "id-key" }}]
auth = {{ type = "api_key", header = "X-API-Key" }}
"#,
        spool = spool.display(),
        store = store.display(),
    )
}

/// The page as Chromium rendered it (`--dump-dom`).
fn load_in_chromium(url: &str) -> String {
    let chromium =
        std::env::var("HOOKGATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "{chromium} is missing: run scripts/install-chromium (the test command does)"
    );
    let profile = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("<h1>hookgate status</h1>"),
        "chromium did not render the page: {dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}

/// The `<tr>` of one source.
fn row<'a>(dom: &'a str, source: &str) -> &'a str {
    let start = dom
        .find(&format!("<tr data-source=\"{source}\">"))
        .unwrap_or_else(|| panic!("no row for {source}: {dom}"));
    let end = dom[start..].find("</tr>").expect("row end") + start;
    &dom[start..end]
}

fn cell(row: &str, outcome: &str) -> Option<u64> {
    let marker = format!("data-outcome=\"{outcome}\">");
    let at = row.find(&marker)? + marker.len();
    row[at..].split('<').next()?.trim().parse().ok()
}

async fn github(gw: &Gateway, delivery: &str, secret: &str) -> u16 {
    let body = r#"{"zen":"Keep it logically awesome.","hook_id":1}"#;
    let sig = github_signature(secret, body);
    post(
        gw.addr,
        "/webhooks/github",
        &[
            ("content-type", "application/json"),
            ("x-github-event", "star"),
            ("x-github-delivery", delivery),
            ("x-hub-signature-256", sig.as_str()),
        ],
        body,
    )
    .await
    .status
}

#[tokio::test]
async fn the_status_page_shows_each_sources_recent_deliveries() {
    let (store, spool) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let gw = Gateway::in_process(&config(store.path(), spool.path(), "open"));
    let admin = gw.admin_addr.expect("admin listener");

    assert_eq!(github(&gw, "d-1", "gh-secret").await, 202);
    assert_eq!(github(&gw, "d-2", "gh-secret").await, 202);
    assert_eq!(github(&gw, "d-2", "gh-secret").await, 200, "a duplicate");
    assert_eq!(github(&gw, "d-3", "wrong-secret").await, 401);

    // The probes answer on the admin port too, without a key.
    assert_eq!(send(admin, "GET", "/healthz", &[], "").await.status, 200);
    let ready = send(admin, "GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 200, "{ready:?}");

    let dom = load_in_chromium(&format!("http://{admin}/status"));
    let gh = row(&dom, "github");
    assert_eq!(cell(gh, "accepted"), Some(2), "{gh}");
    assert_eq!(cell(gh, "duplicate"), Some(1), "{gh}");
    assert_eq!(cell(gh, "invalid_signature"), Some(1), "{gh}");
    assert!(gh.contains(r#"data-code="invalid_signature""#), "{gh}");
    assert!(
        gh.contains("<td>github</td><td>github</td><td>config file</td>"),
        "source, provider, origin: {gh}"
    );
    let last_accepted = gh
        .split("data-field=\"last_accepted\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("last accepted");
    assert!(last_accepted.starts_with("20"), "a time: {last_accepted}");

    let id = row(&dom, "identity");
    assert!(id.contains(r#"data-field="last_accepted">never"#), "{id}");
    assert!(id.contains(r#"data-field="last_refused">never"#), "{id}");
    assert_eq!(cell(id, "accepted"), Some(0), "{id}");

    assert!(dom.contains(r#"data-field="kafka">reachable"#), "{dom}");
    assert!(
        dom.contains(r#"data-field="spool_records" class="n">0"#),
        "{dom}"
    );
    assert!(!dom.contains("gh-secret") && !dom.contains("ops-key"));
}

#[tokio::test]
async fn the_status_page_can_require_a_key_or_be_off() {
    let (store, spool) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let gw = Gateway::in_process(&config(store.path(), spool.path(), "key"));
    let admin = gw.admin_addr.expect("admin listener");
    assert_eq!(send(admin, "GET", "/status", &[], "").await.status, 401);
    let page = send(
        admin,
        "GET",
        "/status",
        &[("authorization", "Bearer ops-key-0123456789")],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(send(admin, "POST", "/status", &[], "").await.status, 405);
    drop(gw);

    let gw = Gateway::in_process(&config(store.path(), spool.path(), "off"));
    let admin = gw.admin_addr.expect("admin listener");
    assert_eq!(send(admin, "GET", "/status", &[], "").await.status, 404);
    assert_eq!(send(admin, "GET", "/healthz", &[], "").await.status, 200);
}
