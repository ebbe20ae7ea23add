//! `/readyz` and `/metrics` through the real router: a Kafka-mode node
//! whose indexer stopped says so instead of looking healthy.
#![cfg(feature = "kafka")]

use std::sync::Arc;

mod common;

use auditlog_server::app;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(state: &auditlog_server::AppState, path: &str) -> (StatusCode, String) {
    let resp = app(state.clone())
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_stopped_indexer_makes_the_node_not_ready() {
    let (mut state, _dir) = common::fresh_state();
    let stats = Arc::new(auditlog_kafka::index::IndexStats::default());
    state.kafka.index = Some(stats.clone());
    assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);
    assert!(get(&state, "/metrics")
        .await
        .1
        .contains("auditlog_kafka_indexer_up 1"));

    *stats.failure.lock().unwrap() = Some("kafka client settings are not valid: x".into());
    let (status, body) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("the Kafka indexer stopped"), "{body}");
    assert!(body.contains("restart the server"), "{body}");
    assert!(get(&state, "/metrics")
        .await
        .1
        .contains("auditlog_kafka_indexer_up 0"));
}
