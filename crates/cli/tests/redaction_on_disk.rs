//! No planted secret reaches any stored byte: secrets under 20 key spellings
//! and nesting depths go through the SDK (which masks before sending) and,
//! raw, straight to `auditlog serve` (which masks on ingest). Every file in
//! the data directory is then searched for every secret value; a planted
//! non-secret marker proves the search sees record bytes at all.

mod common;

use std::time::Duration;

use auditlog_model::json::parse;
use auditlog_sdk::methods::CreateConnector;
use auditlog_sdk::{AuditClient, ClientConfig, Principal};
use common::server::{get, post, Server};

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

/// (key path inside request.data, as nested JSON) — 20 spellings, depths 1..6.
const PLANTS: &[&str] = &[
    r#"{"kafka.api.secret": "%"}"#,
    r#"{"aws.secret.access.key": "%"}"#,
    r#"{"aws.redshift.password": "%"}"#,
    r#"{"kafka.api.key": "%"}"#,
    r#"{"clientSecret": "%"}"#,
    r#"{"API_KEY": "%"}"#,
    r#"{"x-auth-token": "%"}"#,
    r#"{"Private-Key": "%"}"#,
    r#"{"db_passwords": ["%"]}"#,
    r#"{"config": {"connection.password": "%"}}"#,
    r#"{"spec": {"auth": {"bearerToken": "%"}}}"#,
    r#"{"items": [{"creds": {"credential": "%"}}]}"#,
    r#"{"a": {"b": {"c": {"d": {"SECRET": "%"}}}}}"#,
    r#"{"a": [{"b": [{"c": {"oauth_token": "%"}}]}]}"#,
    r#"{"sasl.jaas.config.password": "%"}"#,
    r#"{"ssl.key.password": "%"}"#,
    r#"{"AccessKey": "%"}"#,
    r#"{"apikey": "%"}"#,
    r#"{"user": {"Passwd": "%"}}"#,
    r#"{"deep": {"er": {"still": {"deeper": {"deepest": {"private_key": "%"}}}}}}"#,
];

fn secret(via: &str, i: usize) -> String {
    format!("Sekr1t{via}{i:02}zQ")
}

fn data_with_secrets(via: &str) -> String {
    let parts: Vec<String> = PLANTS
        .iter()
        .enumerate()
        .map(|(i, p)| format!(r#""p{i}": {}"#, p.replace('%', &secret(via, i))))
        .collect();
    format!(
        r#"{{"name": "marker-{via}-visible", {}}}"#,
        parts.join(", ")
    )
}

#[test]
fn no_planted_secret_is_in_any_stored_byte() {
    let data = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);

    // Through the SDK.
    let client = AuditClient::http(
        &server.url,
        ClientConfig {
            spool_dir: Some(spool.path().to_owned()),
            ..ClientConfig::default()
        },
    )
    .unwrap();
    let sdk_data = parse(data_with_secrets("sdk").as_bytes()).unwrap();
    let e = CreateConnector::on(ORG, "env-1", "lkc-1", "lcc-1")
        .principal(Principal::user("u-1", ORG))
        .request_data(sdk_data.clone())
        .success(Some(sdk_data))
        .build()
        .unwrap();
    client.emit(e).unwrap();
    let c = client.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(c.delivered, 1);
    assert_eq!(c.redacted, 2 * PLANTS.len() as u64, "{c:?}");

    // Raw to the server: its ingest rules are the second line.
    let raw = std::fs::read_to_string(
        common::root().join("tests/data/seed-examples/connector-01-CreateConnector-success.json"),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let planted: serde_json::Value = serde_json::from_str(&data_with_secrets("raw")).unwrap();
    v["id"] = "raw-secrets-1".into();
    v["data"]["request"]["data"] = planted.clone();
    v["data"]["result"]["data"] = planted;
    let (status, body) = post(
        &format!("{}/v1/events", server.url),
        "application/cloudevents+json",
        serde_json::to_string(&v).unwrap().as_bytes(),
    )
    .unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let redacted = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "redacted")
        .count();
    assert_eq!(redacted, 2 * PLANTS.len(), "{report}");

    // Both are readable, masked.
    let (_, all) = get(&format!("{}/v1/events?format=ndjson", server.url));
    let all = String::from_utf8(all).unwrap();
    assert_eq!(all.lines().count(), 2);
    assert!(all.contains("****************"));
    drop(client);
    server.stop();

    for via in ["sdk", "raw"] {
        let marker = format!("marker-{via}-visible");
        assert!(
            !common::files_containing(data.path(), marker.as_bytes()).is_empty(),
            "the search cannot see record bytes (marker {marker} not found)"
        );
        for (i, plant) in PLANTS.iter().enumerate() {
            let s = secret(via, i);
            let hits = common::files_containing(data.path(), s.as_bytes());
            assert!(
                hits.is_empty(),
                "secret {s} (plant {plant}) found in {hits:?}"
            );
        }
    }
    // Nor in the client's spool directory.
    for i in 0..PLANTS.len() {
        assert!(common::files_containing(spool.path(), secret("sdk", i).as_bytes()).is_empty());
    }
}

#[test]
fn reject_on_ingest_from_the_command_line_refuses_and_names_the_path() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--redaction-on-ingest", "reject"]);
    let raw = std::fs::read_to_string(
        common::root().join("tests/data/seed-examples/connector-01-CreateConnector-success.json"),
    )
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    v["data"]["request"]["data"]["db_password"] = "hunter2hunter2".into();
    let (status, body) = post(
        &format!("{}/v1/events", server.url),
        "application/cloudevents+json",
        serde_json::to_string(&v).unwrap().as_bytes(),
    )
    .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("$.data.request.data.db_password"), "{text}");
    let (_, all) = get(&format!("{}/v1/events?format=ndjson", server.url));
    assert!(all.is_empty(), "a refused record was stored");
}
