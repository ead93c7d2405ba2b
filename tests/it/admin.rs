//! The management API on its own listener: keys and scopes, paging, one webhook, event types,
//! and the answers for what is not there.

use crate::common::{send, Gateway};

const READER: &str = "reader-key-0123456789";
const WRITER: &str = "writer-key-0123456789";

const OPERATOR: &str = "operator-key-0123456789";
const STORE_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// `store` is the directory of the admin store.
fn config(store: &std::path::Path) -> String {
    format!(
        r#"
[schemas]
dir = "{{schemas}}"

[admin]
listen = "127.0.0.1:0"
public_base_url = "https://hooks.example.com/"
keys = [
  {{ name = "dashboards", secret = {{ insecure_dev_value = "{READER}" }}, scopes = ["webhooks:read"] }},
  {{ name = "ci", secret = {{ insecure_dev_value = "{WRITER}" }}, scopes = ["webhooks:write"] }},
  {{ name = "operator", secret = {{ insecure_dev_value = "{OPERATOR}" }}, scopes = ["webhooks:read", "webhooks:write"] }},
]
store = {{ path = "{store}", encryption_key = {{ insecure_dev_value = "{STORE_KEY}" }} }}

[sources.github]
provider = "github"
secrets = [{{ insecure_dev_value = "gh-secret" }}]

[sources.identity]
provider = "cidaas"
secrets = [{{ insecure_dev_value = "id-key" }}]
auth = {{ type = "api_key", header = "X-API-Key" }}
allowed_events = ["USER_CREATED", "USER_DELETED"]

[sources.payments]
provider = "recurring-payments"
secrets = [{{ insecure_dev_value = "pay-token" }}]
auth = {{ type = "api_key" }}
event_type = {{ pointer = "/event" }}
"#,
        store = store.display()
    )
}

#[tokio::test]
async fn the_admin_api_lists_sources_to_keys_with_the_read_scope() {
    let store = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::start(&config(store.path()));
    let admin = gw.admin_addr.expect("admin listener");
    let read = format!("Bearer {READER}");
    let write = format!("Bearer {WRITER}");
    let get = |path: &'static str, auth: Option<String>| async move {
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        send(admin, "GET", path, &headers, "").await
    };

    let none = get("/v1/webhooks", None).await;
    assert_eq!(none.status, 401, "{none:?}");
    assert!(none.json()["error"]
        .as_str()
        .is_some_and(|e| e.contains("Bearer")));
    let wrong = get("/v1/webhooks", Some("Bearer not-a-key".into())).await;
    assert_eq!(wrong.status, 401);
    // A key with only `webhooks:write` may read too (it can change what it reads).
    let writer_reads = get("/v1/webhooks", Some(write.clone())).await;
    assert_eq!(writer_reads.status, 200);

    let page = get("/v1/webhooks?size=2&page=1", Some(read.clone())).await;
    assert_eq!(page.status, 200, "{page:?}");
    let body = page.json();
    assert_eq!(body["entities"], "Webhook");
    assert_eq!(body["count"], 3);
    assert_eq!(body["per_page"], 2);
    assert_eq!(body["pages"]["current"], 1);
    assert_eq!(body["pages"]["max"], 2);
    let ids: Vec<_> = body["elements"]
        .as_array()
        .expect("elements")
        .iter()
        .map(|e| e["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(ids, ["github", "identity"]);
    let second = get("/v1/webhooks?size=2&page=2", Some(read.clone()))
        .await
        .json();
    assert_eq!(second["elements"][0]["id"], "payments");

    for bad in [
        "/v1/webhooks?size=0",
        "/v1/webhooks?size=101",
        "/v1/webhooks?page=0",
        "/v1/webhooks?page=x",
    ] {
        let answer = get(bad, Some(read.clone())).await;
        assert_eq!(answer.status, 400, "{bad}: {answer:?}");
        assert!(
            answer.json()["error"]
                .as_str()
                .is_some_and(|e| e.contains("from 1 to")),
            "{answer:?}"
        );
    }

    let one = get("/v1/webhooks/identity", Some(read.clone()))
        .await
        .json();
    assert_eq!(one["url"], "https://hooks.example.com/webhooks/identity");
    assert_eq!(one["provider"], "cidaas");
    assert_eq!(
        one["events"],
        serde_json::json!(["USER_CREATED", "USER_DELETED"])
    );
    assert_eq!(one["token"], "redacted");
    assert_eq!(one["read_only"], true);
    let all = get("/v1/webhooks/github", Some(read.clone())).await.json();
    assert_eq!(all["events"], serde_json::json!(["*"]));
    assert!(
        !all.to_string().contains("gh-secret"),
        "secrets never leave"
    );
    let missing = get("/v1/webhooks/nope", Some(read.clone())).await;
    assert_eq!(
        (missing.status, missing.json()["error"].as_str()),
        (404, Some("Webhook not found."))
    );

    let types = get(
        "/v1/webhook-types?provider=recurring-payments",
        Some(read.clone()),
    )
    .await;
    assert_eq!(types.status, 200);
    assert!(types
        .json()
        .as_array()
        .is_some_and(|t| t.iter().any(|e| e == "RecurringPayments.charge.paid")));
    let unknown = get("/v1/webhook-types?provider=nope", Some(read.clone())).await;
    assert_eq!(unknown.status, 404);

    // Undeclared methods get 405 with `Allow`; changes need `webhooks:write`.
    for (method, path, allow) in [
        ("PUT", "/v1/webhooks/github", "GET, PATCH, DELETE"),
        ("DELETE", "/v1/webhooks", "GET, POST"),
        ("GET", "/v1/webhooks/github/rotate", "POST"),
        ("POST", "/v1/webhook-types", "GET"),
    ] {
        let answer = send(
            admin,
            method,
            path,
            &[("authorization", write.as_str())],
            "",
        )
        .await;
        assert_eq!(answer.status, 405, "{method} {path}: {answer:?}");
        assert_eq!(answer.headers["allow"], allow);
    }
    let reader_writes = send(
        admin,
        "DELETE",
        "/v1/webhooks/github",
        &[("authorization", read.as_str())],
        "",
    )
    .await;
    assert_eq!(reader_writes.status, 403, "{reader_writes:?}");
    assert!(reader_writes.body.contains("webhooks:write"));
    let config_source = send(
        admin,
        "DELETE",
        "/v1/webhooks/github",
        &[("authorization", write.as_str())],
        "",
    )
    .await;
    assert_eq!(config_source.status, 409, "{config_source:?}");
    assert!(config_source.body.contains("config file"));
    let huge = get("/v1/webhooks?page=1000001", Some(read.clone())).await;
    assert_eq!(huge.status, 400);

    // The admin API is not on the ingest listener, and webhooks are not on the admin one.
    let ingest = send(
        gw.addr,
        "GET",
        "/v1/webhooks",
        &[("authorization", read.as_str())],
        "",
    )
    .await;
    assert_eq!(ingest.status, 404);
    let elsewhere = send(
        admin,
        "POST",
        "/webhooks/github",
        &[("authorization", read.as_str())],
        "{}",
    )
    .await;
    assert_eq!(elsewhere.status, 404);
    assert!(
        !gw.logs().contains(READER) && !gw.logs().contains(WRITER),
        "keys never logged"
    );
}

/// schemathesis (installed by `scripts/install-sdks`) generates requests from the OpenAPI
/// document and checks every answer against it: no server error, no undocumented status or
/// shape, 405 for undeclared methods.
#[test]
fn schemathesis_finds_no_mismatch_with_the_openapi_document() {
    let st = std::env::var_os("HOOKGATE_SDK_PYTHON")
        .map(|p| std::path::PathBuf::from(p).with_file_name("st"))
        .unwrap_or_else(|| crate::common::repo_path("target/sdk-venv/bin/st"));
    assert!(
        st.exists(),
        "{} is missing: run scripts/install-sdks (the test command does)",
        st.display()
    );
    let store = tempfile::tempdir().expect("tempdir");
    let gw = Gateway::in_process(&config(store.path()));
    let admin = gw.admin_addr.expect("admin listener");
    // Clearing a learned secret needs a webhook that learns one, which no generated create
    // makes: one is created here and its id given to that operation (`schemathesis.toml`).
    let created = tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(send(
            admin,
            "POST",
            "/v1/webhooks",
            &[
                ("authorization", &format!("Bearer {OPERATOR}")),
                ("content-type", "application/json"),
            ],
            r#"{"webhook": {"name": "learns", "provider": "asana", "events": "*"}}"#,
        ));
    assert_eq!(created.status, 201, "{created:?}");
    let learning = created.json()["id"].as_str().expect("id").to_owned();
    std::fs::write(
        gw.dir.path().join("schemathesis.toml"),
        format!(
            "[[operations]]\ninclude-operation-id = \"clearLearnedSecret\"\nparameters = {{ id = \"{learning}\" }}\n"
        ),
    )
    .expect("schemathesis.toml");
    let out = std::process::Command::new(st)
        .args([
            "run",
            crate::common::repo_path("config/openapi/admin.json")
                .to_str()
                .expect("path"),
            "--url",
            &format!("http://{admin}"),
            "-H",
            &format!("Authorization: Bearer {OPERATOR}"),
            "--checks",
            "all",
            // Whether a schema-valid create is accepted depends on the provider's catalog and
            // on what each option means (a topic template, a JSON pointer), which a schema
            // cannot say; refusals of those are tested in tests/it/admin_write.rs.
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            "100",
            "--seed",
            "20261123",
        ])
        .env("SCHEMATHESIS_HOOKS", "")
        // schemathesis keeps state in `.schemathesis/` of its working directory.
        .current_dir(gw.dir.path())
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("No issues found"), "{report}");
}
