//! `[redaction]` on ingest, through the real router in process: secrets are
//! masked and reported (or refused), and Confluent's seed records are stored
//! exactly as sent.

use std::path::PathBuf;

use auditlog_model::json::{self, to_canonical};
use auditlog_server::{app, open, AppState, Config, Overrides};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SEED: &str = "connector-01-CreateConnector-success.json";

fn seed_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/seed-examples")
}

/// A seed record with `"password": "hunter2"` added to `result.data`.
fn with_password() -> Vec<u8> {
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(seed_dir().join(SEED)).unwrap()).unwrap();
    v["data"]["result"]["data"]["password"] = "hunter2".into();
    serde_json::to_vec(&v).unwrap()
}

/// Open a store in a fresh directory with `toml` as the config file.
fn open_with(toml: &str) -> (AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auditlog.toml");
    std::fs::write(&file, toml).unwrap();
    let overrides = Overrides {
        data_dir: Some(dir.path().join("data")),
        ..Default::default()
    };
    let state = open(Config::resolve(overrides, Some(&file)).unwrap()).unwrap();
    (state, dir)
}

async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, body)
}

async fn post(
    state: &AppState,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let (status, body) = call(state, req).await;
    (status, serde_json::from_slice(&body).unwrap())
}

async fn get(state: &AppState, path: &str) -> Vec<u8> {
    let (status, body) = call(state, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    body
}

async fn metric(state: &AppState, name: &str) -> String {
    let text = String::from_utf8(get(state, "/metrics").await).unwrap();
    text.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .to_owned()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn mask_by_default_stores_the_mask_and_says_so() {
    let (state, _dir) = open_with("");
    let (status, body) = post(
        &state,
        "/v1/events",
        "application/cloudevents+json",
        with_password(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let warnings = body["warnings"].as_array().unwrap();
    let redacted: Vec<_> = warnings
        .iter()
        .filter(|w| w["code"] == "redacted")
        .collect();
    assert_eq!(redacted.len(), 1, "{body}");
    assert_eq!(redacted[0]["path"], "$.data.result.data.password");
    assert_eq!(redacted[0]["severity"], "warning");

    let offset = body["offset"].as_u64().unwrap();
    let stored = get(&state, &format!("/v1/events/{offset}")).await;
    assert!(!contains(&stored, "hunter2"));
    assert!(contains(&stored, "\"password\":\"****************\""));
    // The stored bytes are the canonical form of the masked record.
    assert_eq!(stored, to_canonical(&json::parse(&stored).unwrap()));
    assert_eq!(
        metric(&state, "auditlog_ingest_redacted_total ").await,
        "auditlog_ingest_redacted_total 1"
    );

    // Sending it again is a duplicate of the masked record, not a second one.
    let (status, body) = post(
        &state,
        "/v1/events",
        "application/cloudevents+json",
        with_password(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "duplicate");
}

#[tokio::test]
async fn batches_report_redactions_per_item() {
    let (state, _dir) = open_with("[redaction]\ndeny_keys = [\"name\"]\n");
    let mut ndjson = with_password();
    ndjson.push(b'\n');
    ndjson.extend(
        std::fs::read(seed_dir().join("connector-03-CreateOrUpdateConnector-success.json"))
            .unwrap()
            .iter()
            .filter(|b| **b != b'\n'),
    );
    let (status, body) = post(&state, "/v1/events:batch", "application/x-ndjson", ndjson).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for item in body["items"].as_array().unwrap() {
        let paths: Vec<&str> = item["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["code"] == "redacted")
            .map(|w| w["path"].as_str().unwrap())
            .collect();
        assert!(paths.contains(&"$.data.request.data.name"), "{item}");
    }
}

#[tokio::test]
async fn reject_mode_refuses_with_every_path() {
    let (state, _dir) = open_with("[redaction]\non_ingest = \"reject\"\n");
    let (status, body) = post(
        &state,
        "/v1/events",
        "application/cloudevents+json",
        with_password(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["type"],
        "https://auditlog.dev/problems/secret-in-record"
    );
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("$.data.result.data.password")
            && detail.contains("SDK")
            && detail.contains("[redaction]"),
        "{detail}"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["path"], "$.data.result.data.password");
    assert_eq!(errors[0]["code"], "secret");
    assert!(
        !contains(&serde_json::to_vec(&body).unwrap(), "hunter2"),
        "the response must not echo the secret"
    );
    assert_eq!(state.store.committed(), 0);
    assert_eq!(
        metric(&state, "auditlog_events_rejected_total{reason=\"secret\"}").await,
        "auditlog_events_rejected_total{reason=\"secret\"} 1"
    );
}

#[tokio::test]
async fn off_stores_records_as_sent() {
    let (state, _dir) = open_with("[redaction]\non_ingest = \"off\"\n");
    let (status, body) = post(
        &state,
        "/v1/events",
        "application/cloudevents+json",
        with_password(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = get(&state, "/v1/events/0").await;
    assert!(contains(&stored, "hunter2"));
}

#[tokio::test]
async fn seed_examples_are_stored_unchanged_in_every_mode() {
    let mut seeds: Vec<_> = std::fs::read_dir(seed_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    seeds.sort();
    assert_eq!(seeds.len(), 58);
    let records: Vec<serde_json::Value> = seeds
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect();
    for mode in ["mask", "reject"] {
        // Lenient: strict validation refuses two seeds for reasons of their own.
        let (state, _dir) = open_with(&format!(
            "validation = \"lenient\"\n[redaction]\non_ingest = \"{mode}\"\n"
        ));
        let body = serde_json::to_vec(&records).unwrap();
        let (status, report) = post(
            &state,
            "/v1/events:batch",
            "application/cloudevents-batch+json",
            body,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{mode}: {report}");
        assert_eq!(report["accepted"], 58, "{mode}");
        for (i, path) in seeds.iter().enumerate() {
            let item = &report["items"][i];
            assert!(
                !item["warnings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|w| w["code"] == "redacted"),
                "{mode} {}: {item}",
                path.display()
            );
            let stored = get(&state, &format!("/v1/events/{}", item["offset"])).await;
            let want = to_canonical(&json::parse(&std::fs::read(path).unwrap()).unwrap());
            assert_eq!(stored, want, "{mode} {}", path.display());
        }
        assert_eq!(
            metric(&state, "auditlog_ingest_redacted_total ").await,
            "auditlog_ingest_redacted_total 0"
        );
    }
}

#[test]
fn the_documented_example_config_is_valid() {
    let doc = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/redaction.md"),
    )
    .unwrap();
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let len = doc[start..].find("```").unwrap();
    let (state, _dir) = open_with(&doc[start..start + len]);
    assert_eq!(
        state.config.redaction.on_ingest,
        auditlog_server::OnIngest::Mask
    );
}

#[tokio::test]
async fn hmac_replacement_in_a_json_array_batch() {
    let (state, _dir) = open_with(
        "[redaction]\nreplace = \"hmac\"\nhmac_key = \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"\n",
    );
    let mut body = b"[".to_vec();
    body.extend(with_password());
    body.push(b']');
    let (status, report) = post(
        &state,
        "/v1/events:batch",
        "application/cloudevents-batch+json",
        body,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let stored = get(&state, "/v1/events/0").await;
    // HMAC-SHA256(bytes 0..32, "hunter2"), from Python's hmac module (see
    // crates/redact/tests/config.rs).
    assert!(contains(
        &stored,
        "\"password\":\"hmac-sha256:8629d712da366318588317f3f98c728c71d4819f843d95db8803c019c561c1e7\""
    ));
    assert!(!contains(&stored, "hunter2"));
}
