//! A reference control plane: a small REST service holding real in-memory
//! state for Confluent-Cloud-like resources — connectors, Flink regions,
//! compute pools, workspaces and statements, identity providers and pools —
//! with every call audited through the SDK's [`AuditLayer`].
//!
//! - [`ControlPlane`]: the state (behind one lock) and the principals.
//! - [`app`]: the axum router, built with the layer from one route table
//!   ([`routes`]); [`serve`] runs it with client addresses.
//! - [`workload`]: drives a running control plane over HTTP through every
//!   audited method, succeeding and failing.
//!
//! Calls authenticate with `Authorization: Bearer <token>` ([`Seed`] maps
//! tokens to principals and roles); failures answer
//! `{"errors":[{"status","detail"}]}` with 400, 401, 403, 404 or 409, and
//! every answer carries the `AuditInfo` the layer turns into a record.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod audit;
mod auth;
mod body;
mod connectors;
mod errors;
mod flink;
mod identity;
mod mask;
mod routes;
mod scope;
mod seed;
mod state;
mod statements;
pub mod workload;
mod workspaces;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use auditlog_sdk::layer::{AuditLayer, EventSink, PrincipalResolver};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodFilter;
use axum::Router;

pub use auth::{Caller, Principals};
pub use errors::{ApiError, AppError, WorkloadError};
pub use routes::{method_for, routes};
pub use seed::{EnvSeed, Limits, OrgSeed, PrincipalSeed, Role, Seed, ACME_ORG, GLOBEX_ORG};

use state::Store;

/// The control plane: seeded state behind one lock, and the token table.
/// Cheap to clone (an `Arc` inside); clones share state.
#[derive(Debug, Clone)]
pub struct ControlPlane {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    seed: Seed,
    principals: Arc<Principals>,
    store: Mutex<Store>,
}

impl ControlPlane {
    /// A control plane holding `seed`'s estate.
    pub fn new(seed: Seed) -> ControlPlane {
        ControlPlane {
            inner: Arc::new(Inner {
                principals: Arc::new(Principals::new(&seed.principals)),
                store: Mutex::new(Store::new(&seed)),
                seed,
            }),
        }
    }

    /// A control plane holding [`Seed::demo`].
    pub fn demo() -> ControlPlane {
        ControlPlane::new(Seed::demo())
    }

    /// What it was started with.
    pub fn seed(&self) -> &Seed {
        &self.inner.seed
    }

    /// The token table.
    pub fn principals(&self) -> &Principals {
        &self.inner.principals
    }

    /// The token table as the AuditLayer's principal resolver.
    pub fn resolver(&self) -> Arc<dyn PrincipalResolver> {
        self.inner.principals.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        // Handlers never panic while holding the lock, so a poisoned lock
        // still guards consistent state.
        self.inner
            .store
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The router with every audited route and the [`AuditLayer`] sending to
/// `sink`. Fails only if the route table is wrong, which the tests rule out.
pub fn try_app(cp: ControlPlane, sink: Arc<dyn EventSink>) -> Result<Router, AppError> {
    let mut router: Router<ControlPlane> = Router::new();
    let mut layer = AuditLayer::new(sink, cp.resolver());
    for r in routes::TABLE {
        let bad = || AppError::Method {
            template: r.template,
            method: r.method,
        };
        let method = Method::from_bytes(r.method.as_bytes()).map_err(|_| bad())?;
        let filter = MethodFilter::try_from(method.clone()).map_err(|_| bad())?;
        router = router.route(r.template, (r.handler)(filter));
        layer = layer
            .route(method, r.template, r.audit)
            .map_err(|source| AppError::Audit {
                template: r.template,
                source,
            })?;
    }
    Ok(router.fallback(no_route).layer(layer).with_state(cp))
}

/// [`try_app`] for the built-in route table, which is fixed at compile time
/// and checked by the tests (every row routes and names a catalog method).
pub fn app(cp: ControlPlane, sink: Arc<dyn EventSink>) -> Router {
    match try_app(cp, sink) {
        Ok(r) => r,
        // Not reachable from outside data: only an edit to the static route
        // table can get here, and `tests/routes.rs` fails on it first.
        #[allow(clippy::panic)]
        Err(e) => panic!("the control plane's route table is broken: {e}"),
    }
}

async fn no_route(method: Method, uri: axum::http::Uri) -> Response {
    let detail = format!("no route for {method} {}", uri.path());
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"errors": [{"status": "404", "detail": detail}]})),
    )
        .into_response()
}

/// Serve `app` on `listener` until `shutdown` completes, giving handlers
/// (and the AuditLayer) each connection's peer address.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
