//! The seam between handlers and the AuditLayer: authenticate, run the
//! call against the store, and answer with the `AuditInfo` (scope chain,
//! request/result data, error detail) attached, on success and on failure.

use auditlog_catalog::Catalog;
use auditlog_sdk::layer::{AuditInfo, REQUEST_ID};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::Store;
use crate::ControlPlane;

/// A successful answer: status and optional JSON body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
}

impl Reply {
    pub fn ok(body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
        }
    }

    pub fn created(body: Value) -> Reply {
        Reply {
            status: StatusCode::CREATED,
            body: Some(body),
        }
    }

    /// 202 with no body: pause and resume are accepted, then carried out.
    pub fn accepted() -> Reply {
        Reply {
            status: StatusCode::ACCEPTED,
            body: None,
        }
    }

    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
        }
    }
}

pub(crate) type Outcome = Result<Reply, ApiError>;

/// Run one call: 401 without a known token; otherwise start the chain at the
/// caller's organization, run `f` under the store lock, and answer. The
/// `AuditInfo` goes into the response either way, so a failure is audited
/// with everything learnt before it happened.
pub(crate) fn handle(
    cp: &ControlPlane,
    headers: &HeaderMap,
    f: impl FnOnce(&mut Store, &Caller, &mut AuditInfo) -> Outcome,
) -> Response {
    let mut audit = AuditInfo::default();
    let outcome = match cp.principals().caller(headers) {
        None => Err(ApiError::unauthorized()),
        Some(caller) => {
            descend(&mut audit, "ORGANIZATION", caller.org());
            let mut store = cp.lock();
            f(&mut store, caller, &mut audit)
        }
    };
    let mut resp = match outcome {
        Ok(Reply { status, body }) => match body {
            Some(b) => (status, axum::Json(b)).into_response(),
            None => status.into_response(),
        },
        Err(e) => {
            let mut entry = json!({"status": e.status.as_str(), "detail": e.detail});
            // The layer puts the request id it records into the request
            // headers, so the caller's error names the record to look for.
            if let Some(id) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok()) {
                entry["id"] = Value::from(id);
            }
            audit.error = Some(e.detail);
            let mut r = (e.status, axum::Json(json!({"errors": [entry]}))).into_response();
            if e.status == StatusCode::UNAUTHORIZED {
                r.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            r
        }
    };
    resp.extensions_mut().insert(audit);
    resp
}

/// Extend the chain by (`ty`, `id`) when that keeps it a well-formed catalog
/// scope: `ty`'s scope is exactly the chain so far and `id` has the declared
/// shape and only CRN-safe characters. Otherwise leave the chain as it is, so
/// an id from the path that cannot be named (`env-a=b`, `../x`) ends the
/// chain at its parent instead of breaking the record.
pub(crate) fn descend(audit: &mut AuditInfo, ty: &str, id: &str) -> bool {
    let Some(rt) = Catalog::builtin().resource_type(ty) else {
        return false;
    };
    let fits = rt.scope.len() == audit.chain.len()
        && rt.scope.iter().zip(&audit.chain).all(|(s, (t, _))| s == t);
    if fits && rt.id_is_well_formed(id) && crn_safe(id) {
        audit.chain.push((ty.to_owned(), id.to_owned()));
        true
    } else {
        false
    }
}

/// Whether an id can sit in a CRN segment unescaped.
pub(crate) fn crn_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}
