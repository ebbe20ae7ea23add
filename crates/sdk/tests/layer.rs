//! AuditLayer on a small axum app: the method from the route, the request
//! id taken from `X-Request-Id` or generated and echoed, the client address
//! from `X-Forwarded-For`, failures with their detail from the body, no
//! event for unaudited routes or unknown principals.

use std::sync::Arc;

use auditlog_sdk::layer::{AuditInfo, AuditLayer, MemorySink};
use auditlog_sdk::Principal;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower::ServiceExt;

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

async fn get_connector(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let chain = vec![
        ("ORGANIZATION".to_owned(), ORG.to_owned()),
        ("ENVIRONMENT".to_owned(), "env-1".to_owned()),
        ("CLOUD_CLUSTER".to_owned(), "lkc-1".to_owned()),
    ];
    if name == "missing" {
        let mut r = (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"errors": [{"status": "404", "detail": "connector missing not found"}]})),
        )
            .into_response();
        r.extensions_mut().insert(AuditInfo {
            chain,
            ..AuditInfo::default()
        });
        return r;
    }
    let mut chain = chain;
    chain.push(("CONNECTOR".to_owned(), format!("lcc-{name}")));
    let mut r = axum::Json(serde_json::json!({"name": name})).into_response();
    r.extensions_mut().insert(AuditInfo {
        chain,
        result_data: Some(
            serde_json::json!({"name": name, "config": {"kafka.api.secret": "s3cr3t"}}),
        ),
        ..AuditInfo::default()
    });
    r
}

fn app(sink: Arc<MemorySink>) -> Router {
    let principals = Arc::new(|parts: &http::request::Parts| {
        let token = parts.headers.get("authorization")?.to_str().ok()?;
        (token == "Bearer alice")
            .then(|| Principal::user("u-al1ce", ORG).with_email("alice@example.com"))
    });
    let layer = AuditLayer::new(sink, principals)
        .route(Method::GET, "/connectors/{name}", "GetConnector")
        .unwrap();
    Router::new()
        .route("/connectors/{name}", get(get_connector))
        .route("/healthz", get(|| async { "ok" }))
        .layer(layer)
}

async fn call(app: Router, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut b = Request::builder().uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    app.oneshot(b.body(Body::empty()).unwrap()).await.unwrap()
}

#[tokio::test]
async fn routes_become_events_with_request_ids_addresses_and_outcomes() {
    let sink = Arc::new(MemorySink::default());
    let a = app(sink.clone());

    let r = call(
        a.clone(),
        "/connectors/pkdrjy",
        &[
            ("authorization", "Bearer alice"),
            ("x-request-id", "585f36dd2933d0dda8273451476d2fd7"),
            ("x-forwarded-for", "1.2.3.4, 10.0.0.1"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-request-id"],
        "585f36dd2933d0dda8273451476d2fd7"
    );

    let r = call(
        a.clone(),
        "/connectors/missing",
        &[("authorization", "Bearer alice")],
    )
    .await;
    assert_eq!(r.status(), 404);
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 32);
    // The body still reaches the caller after the layer read the detail.
    let body = axum::body::to_bytes(r.into_body(), 1 << 16).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("connector missing not found"));

    // Not audited: unknown principal, unaudited route.
    assert_eq!(call(a.clone(), "/connectors/x", &[]).await.status(), 200);
    assert_eq!(
        call(a, "/healthz", &[("authorization", "Bearer alice")])
            .await
            .status(),
        200
    );

    let events: Vec<serde_json::Value> = sink
        .events()
        .iter()
        .map(|e| serde_json::from_slice(&e.to_canonical()).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    let ok = &events[0]["data"];
    assert_eq!(ok["methodName"].as_str(), Some("GetConnector"));
    assert_eq!(ok["request"]["accessType"].as_str(), Some("READ_ONLY"));
    assert_eq!(
        ok["requestMetadata"]["requestId"][0].as_str(),
        Some("585f36dd2933d0dda8273451476d2fd7")
    );
    assert_eq!(
        ok["requestMetadata"]["clientAddress"][0]["ip"].as_str(),
        Some("1.2.3.4")
    );
    assert_eq!(ok["result"]["status"].as_str(), Some("SUCCESS"));
    assert_eq!(
        ok["cloudResources"][0]["resource"]["type"].as_str(),
        Some("CONNECTOR")
    );
    assert!(ok["resourceName"]
        .as_str()
        .unwrap()
        .ends_with("/connector=lcc-pkdrjy"));

    let failed = &events[1]["data"];
    assert_eq!(failed["result"]["status"].as_str(), Some("FAILURE"));
    let e = &failed["result"]["data"]["errors"][0];
    assert_eq!(e["status"].as_str(), Some("404"));
    assert_eq!(e["id"].as_str(), Some(generated.as_str()));
    assert_eq!(e["detail"].as_str(), Some("connector missing not found"));
    assert_eq!(
        failed["cloudResources"][0]["resource"]["type"].as_str(),
        Some("CLOUD_CLUSTER")
    );
}

#[test]
fn unknown_methods_are_refused_when_the_layer_is_built() {
    let sink = Arc::new(MemorySink::default());
    let principals = Arc::new(|_: &http::request::Parts| None::<Principal>);
    let e = AuditLayer::new(sink, principals)
        .route(Method::GET, "/x", "GetWidget")
        .unwrap_err();
    assert!(e.to_string().contains("GetWidget"), "{e}");
}
