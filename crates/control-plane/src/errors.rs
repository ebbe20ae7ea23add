//! The crate's errors: a failed API call (status and detail, as the caller
//! and the audit record see it), a router that could not be built, and a
//! workload that could not run.

use axum::http::StatusCode;

/// Why an API call failed. The detail goes to the caller in
/// `{"errors":[{"status","detail"}]}` and to the audit record unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for a human.
    pub detail: String,
}

impl ApiError {
    fn new(status: StatusCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: detail.into(),
        }
    }

    /// 400: the request cannot be carried out as sent (bad body, quota).
    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 401: no or unknown bearer token.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing or unknown bearer token; send `Authorization: Bearer <token>`",
        )
    }

    /// 403: the principal may not act here.
    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }

    /// 404: a resource named in the path does not exist.
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    /// 409: the name is taken, or the resource is still in use.
    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, detail)
    }
}

/// Why [`crate::try_app`] could not build the router.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// A row of the route table names an HTTP method axum cannot route.
    #[error("route {template}: HTTP method {method:?} cannot be routed")]
    Method {
        /// The route template.
        template: &'static str,
        /// The method as written in the table.
        method: &'static str,
    },
    /// A row of the route table names a method the catalog does not know.
    #[error("route {template}: {source}")]
    Audit {
        /// The route template.
        template: &'static str,
        /// What the layer said.
        source: auditlog_sdk::BuildError,
    },
}

/// Why [`crate::workload::run`] stopped before the end of its script.
/// Calls that merely got an unexpected status do not stop it: they are
/// counted in [`crate::workload::Summary::unexpected`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// The service could not be reached, or the exchange broke off.
    #[error("{http_method} {path}: {source}; is the control plane running at that address?")]
    Http {
        /// GET, POST, …
        http_method: &'static str,
        /// The request path.
        path: String,
        /// What ureq said.
        source: Box<ureq::Error>,
    },
    /// A create answered 2xx without the id later steps need.
    #[error("{http_method} {path}: the response has no {field:?}: {body}")]
    Response {
        /// GET, POST, …
        http_method: &'static str,
        /// The request path.
        path: String,
        /// The member that was expected.
        field: &'static str,
        /// The response body, for diagnosis.
        body: String,
    },
    /// The seed lacks something the script needs (e.g. an organization
    /// administrator, or an environment with a cluster).
    #[error("the seed cannot drive the workload: {0}")]
    Seed(String),
    /// The script addressed a path the route table maps to another method
    /// (a bug in the script, caught before the call is made).
    #[error("{http_method} {path} is routed to {routed:?}, not {intended}")]
    Script {
        /// GET, POST, …
        http_method: &'static str,
        /// The request path.
        path: String,
        /// The method the script meant to call.
        intended: &'static str,
        /// What the route table says.
        routed: Option<&'static str>,
    },
}
