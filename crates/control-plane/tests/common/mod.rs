//! Shared test helpers: the demo control plane behind the AuditLayer with a
//! MemorySink, one-shot requests, and the audit record of a request id.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use auditlog_control_plane::{app, ControlPlane};
use auditlog_sdk::layer::MemorySink;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

pub const ALICE: &str = "demo-alice";
pub const CAROL: &str = "demo-carol";
pub const CI_BOT: &str = "demo-ci-bot";
pub const BOB: &str = "demo-bob";
pub const DEPLOY_BOT: &str = "demo-deploy-bot";

/// Acme's production environment and its first cluster.
pub const PROD: &str = "env-acm3p1";
pub const PROD_CLUSTER: &str = "lkc-acp1x2";
/// Acme's development environment (Carol's) and its cluster.
pub const DEV: &str = "env-acm3d2";
pub const DEV_CLUSTER: &str = "lkc-acd4m8";

pub struct Harness {
    pub app: Router,
    pub sink: Arc<MemorySink>,
    pub cp: ControlPlane,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub request_id: String,
}

impl Harness {
    pub fn demo() -> Harness {
        let cp = ControlPlane::demo();
        let sink = Arc::new(MemorySink::default());
        Harness {
            app: app(cp.clone(), sink.clone()),
            sink,
            cp,
        }
    }

    /// Send a request with an optional token and raw body.
    pub async fn raw(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Reply {
        static N: AtomicU64 = AtomicU64::new(0);
        let request_id = format!("test{:028x}", N.fetch_add(1, Ordering::Relaxed));
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("x-request-id", &request_id)
            .header("x-forwarded-for", "203.0.113.7");
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let req = b.body(Body::from(body.unwrap_or("").to_owned())).unwrap();
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            request_id,
        }
    }

    /// Send a JSON body (or none) as `token`.
    pub async fn send(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let text = body.map(|b| b.to_string());
        self.raw(Some(token), method, path, text.as_deref()).await
    }

    /// The audit record of a request, as JSON.
    pub fn event(&self, request_id: &str) -> Option<Value> {
        let found: Vec<Value> = self
            .sink
            .events()
            .iter()
            .map(|e| serde_json::from_slice::<Value>(&e.to_canonical()).unwrap())
            .filter(|r| {
                r.pointer("/data/requestMetadata/requestId/0")
                    .and_then(Value::as_str)
                    == Some(request_id)
            })
            .collect();
        assert!(
            found.len() <= 1,
            "{} records for request {request_id}",
            found.len()
        );
        found.into_iter().next()
    }

    /// The audit record of a request; fails the test if there is none.
    pub fn record(&self, r: &Reply) -> Value {
        self.event(&r.request_id).unwrap_or_else(|| {
            panic!(
                "no audit record for request {} (status {})",
                r.request_id, r.status
            )
        })
    }
}

/// The record's scope chain as (type, id), resource last.
pub fn chain(record: &Value) -> Vec<(String, String)> {
    let entry = &record["data"]["cloudResources"][0];
    let mut out: Vec<(String, String)> = entry["scope"]["resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["type"].as_str().unwrap().to_owned(),
                        r["resourceId"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(r) = entry.get("resource") {
        out.push((
            r["type"].as_str().unwrap().to_owned(),
            r["resourceId"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

/// The types of a record's chain, `ORGANIZATION > … > CONNECTOR`.
pub fn chain_types(record: &Value) -> String {
    chain(record)
        .iter()
        .map(|(t, _)| t.as_str())
        .collect::<Vec<_>>()
        .join(" > ")
}

pub fn method(record: &Value) -> &str {
    record["data"]["methodName"].as_str().unwrap()
}

pub fn status(record: &Value) -> &str {
    record["data"]["result"]["status"].as_str().unwrap()
}

pub fn error_status(record: &Value) -> &str {
    record["data"]["result"]["data"]["errors"][0]["status"]
        .as_str()
        .unwrap()
}
