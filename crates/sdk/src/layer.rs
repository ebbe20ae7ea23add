//! `AuditLayer`: tower middleware for axum services that turns every call to
//! an audited route into an event — method name from the route, principal
//! from a resolver, client address, request id, access type from the catalog
//! and the outcome from the response status.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use auditlog_catalog::{Catalog, Method};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::{HeaderValue, Request};
use axum::response::Response;
use tower::{Layer, Service};

use crate::convert::from_serde;
use crate::event::{new_request_id, BuildError, Event, EventBuilder, Principal};

/// The header a request id is read from and echoed in.
pub const REQUEST_ID: &str = "x-request-id";

/// Largest error body read to find a failure's detail.
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// What a handler tells the layer about the call. Insert it into the
/// response's extensions, on success and on failure.
#[derive(Debug, Clone, Default)]
pub struct AuditInfo {
    /// (resource type, id) from `ORGANIZATION` down to the most specific
    /// resource the call touched. For a call on a collection, or one that
    /// failed before its resource existed, end at the parent.
    pub chain: Vec<(String, String)>,
    /// `request.data`.
    pub request_data: Option<serde_json::Value>,
    /// `result.data` on success.
    pub result_data: Option<serde_json::Value>,
    /// The detail of a failure (read from the response body otherwise).
    pub error: Option<String>,
    /// Write the whole chain as scope, with no `resource`.
    pub scope_only: bool,
}

/// Finds who is calling.
pub trait PrincipalResolver: Send + Sync + 'static {
    /// The principal, or `None` for an unauthenticated call (no event is
    /// emitted: without a principal there is no organization to file it under).
    fn principal(&self, parts: &http::request::Parts) -> Option<Principal>;
}

impl<F> PrincipalResolver for F
where
    F: Fn(&http::request::Parts) -> Option<Principal> + Send + Sync + 'static,
{
    fn principal(&self, parts: &http::request::Parts) -> Option<Principal> {
        self(parts)
    }
}

/// Where the layer sends events.
///
/// Events arrive as the handler described them, secrets included:
/// [`crate::AuditClient`] redacts on its worker thread before anything leaves
/// the process, and any other sink must run an `auditlog_redact::Redactor`
/// itself before storing or forwarding.
pub trait EventSink: Send + Sync + 'static {
    /// Take one event; must not block for long.
    fn submit(&self, event: Event);
}

/// Keeps events in memory, for tests of services that use the layer.
#[derive(Debug, Default)]
pub struct MemorySink {
    events: Mutex<Vec<Event>>,
}

impl MemorySink {
    /// Everything submitted so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for MemorySink {
    fn submit(&self, event: Event) {
        if let Ok(mut e) = self.events.lock() {
            e.push(event);
        }
    }
}

struct Shared {
    sink: Arc<dyn EventSink>,
    principals: Arc<dyn PrincipalResolver>,
    routes: HashMap<(http::Method, String), &'static Method>,
}

/// The middleware. Apply with `Router::layer` after the routes, so each
/// route's template is known (`MatchedPath`).
#[derive(Clone)]
pub struct AuditLayer {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AuditLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLayer")
            .field("routes", &self.shared.routes.len())
            .finish()
    }
}

impl AuditLayer {
    /// A layer with no audited routes yet.
    pub fn new(sink: Arc<dyn EventSink>, principals: Arc<dyn PrincipalResolver>) -> AuditLayer {
        AuditLayer {
            shared: Arc::new(Shared {
                sink,
                principals,
                routes: HashMap::new(),
            }),
        }
    }

    /// Audit calls of `method` on the route `template` (as given to
    /// `Router::route`) as the catalog method `audit_method`.
    pub fn route(
        self,
        method: http::Method,
        template: &str,
        audit_method: &str,
    ) -> Result<AuditLayer, BuildError> {
        let m = Catalog::builtin()
            .method(audit_method)
            .ok_or_else(|| BuildError::UnknownMethod(audit_method.to_owned()))?
            .method;
        let mut shared = match Arc::try_unwrap(self.shared) {
            Ok(s) => s,
            Err(a) => Shared {
                sink: a.sink.clone(),
                principals: a.principals.clone(),
                routes: a.routes.clone(),
            },
        };
        shared.routes.insert((method, template.to_owned()), m);
        Ok(AuditLayer {
            shared: Arc::new(shared),
        })
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> AuditService<S> {
        AuditService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service [`AuditLayer`] wraps routes in.
#[derive(Clone)]
pub struct AuditService<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> std::fmt::Debug for AuditService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditService")
    }
}

/// What is known about a call before the handler runs.
struct Pending {
    method: &'static Method,
    principal: Principal,
    request_id: String,
    client_ip: Option<String>,
}

impl<S> Service<Request<Body>> for AuditService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        // The ready service is the one that must be called (tower's contract).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        let (mut parts, body) = req.into_parts();
        let pending = prepare(&shared, &mut parts);
        let req = Request::from_parts(parts, body);
        Box::pin(async move {
            let mut resp = inner.call(req).await?;
            let Some(p) = pending else {
                return Ok(resp);
            };
            if let Ok(v) = HeaderValue::from_str(&p.request_id) {
                resp.headers_mut().insert(REQUEST_ID, v);
            }
            let info = resp
                .extensions_mut()
                .remove::<AuditInfo>()
                .unwrap_or_default();
            let status = resp.status().as_u16();
            let (resp, detail) = if status >= 400 && info.error.is_none() {
                error_detail(resp).await
            } else {
                (resp, info.error.clone())
            };
            let fallback = info.clone();
            match event(&p, info, status, detail.clone()) {
                Ok(e) => shared.sink.submit(e),
                // A handler gave a chain that does not fit the catalog. The
                // call still happened: file it under the organization alone
                // rather than lose it, and say so loudly.
                Err(e) => {
                    tracing::error!(error = %e, method = %p.method.name, "audit chain does not fit the catalog; recording the event at the organization");
                    let org_only = AuditInfo {
                        chain: Vec::new(),
                        scope_only: false,
                        ..fallback
                    };
                    match event(&p, org_only, status, detail) {
                        Ok(e) => shared.sink.submit(e),
                        Err(e) => {
                            tracing::error!(error = %e, method = %p.method.name, "audit event not built")
                        }
                    }
                }
            }
            Ok(resp)
        })
    }
}

fn prepare(shared: &Shared, parts: &mut http::request::Parts) -> Option<Pending> {
    let template = parts.extensions.get::<MatchedPath>()?.as_str();
    let method = *shared
        .routes
        .get(&(parts.method.clone(), template.to_owned()))?;
    let principal = shared.principals.principal(parts)?;
    let request_id = parts
        .headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let id = new_request_id();
            // Handlers see the id the record will carry.
            if let Ok(v) = HeaderValue::from_str(&id) {
                parts.headers.insert(REQUEST_ID, v);
            }
            id
        });
    let forwarded = parts
        .headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|ip| ip.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_owned);
    let client_ip = forwarded.or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
    });
    Some(Pending {
        method,
        principal,
        request_id,
        client_ip,
    })
}

fn event(
    p: &Pending,
    info: AuditInfo,
    status: u16,
    detail: Option<String>,
) -> Result<Event, BuildError> {
    let chain = if info.chain.is_empty() {
        vec![("ORGANIZATION".to_owned(), p.principal.organization.clone())]
    } else {
        info.chain
    };
    let mut b = EventBuilder::with_method(p.method)
        .chain(chain)?
        .principal(p.principal.clone())
        .request_id(p.request_id.clone());
    if info.scope_only {
        b = b.scope_only();
    }
    if let Some(ip) = &p.client_ip {
        b = b.client_ip(ip.clone());
    }
    if let Some(d) = &info.request_data {
        b = b.request_data(from_serde(d));
    }
    b = if status >= 400 {
        let detail = detail.unwrap_or_else(|| {
            http::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("error")
                .to_owned()
        });
        b.failure(status, detail)
    } else {
        b.success(info.result_data.as_ref().map(from_serde))
    };
    b.build()
}

/// Read a failure's detail from its body (`errors[0].detail`, `detail` or
/// `message`, else the text), and give the response back intact.
async fn error_detail(resp: Response) -> (Response, Option<String>) {
    use axum::body::HttpBody as _;
    // Only bodies known to be small are read, so none is ever cut short.
    let small = resp
        .body()
        .size_hint()
        .upper()
        .is_some_and(|n| n <= ERROR_BODY_LIMIT as u64);
    if !small {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY_LIMIT).await else {
        return (Response::from_parts(parts, Body::empty()), None);
    };
    let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            let s = v
                .pointer("/errors/0/detail")
                .or_else(|| v.get("detail"))
                .or_else(|| v.get("message"))?;
            s.as_str().map(str::to_owned)
        })
        .or_else(|| {
            let t = String::from_utf8_lossy(&bytes).trim().to_owned();
            (!t.is_empty()).then(|| t.chars().take(512).collect())
        });
    (Response::from_parts(parts, Body::from(bytes)), detail)
}
