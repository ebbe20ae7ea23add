//! The one authentication seam. Every route resolves a [`Caller`] here before
//! doing anything, and every read is filtered by the caller's tenant scope.
//! Today the only authenticator lets everyone act as an administrator (a
//! local, single-tenant deployment); API keys scoped to an organization plug
//! in behind the same trait.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::problem::Problem;
use crate::AppState;

/// Whose records a caller may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every organization.
    All,
    /// Only records whose organization is this one.
    Organization(String),
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// A name for the audit trail of reads (an API key id, or `anonymous`).
    pub id: String,
    pub scope: Scope,
}

impl Caller {
    /// Whether this caller may read a record of `organization`.
    pub fn may_read(&self, organization: Option<&str>) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Organization(o) => organization == Some(o.as_str()),
        }
    }
}

/// Turns request headers into a caller.
pub trait Authenticator: Send + Sync + std::fmt::Debug {
    /// The caller, or a 401/403 problem.
    fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Problem>;
}

/// No authentication: everyone is an administrator. For local use only.
#[derive(Debug, Default)]
pub struct Open;

impl Authenticator for Open {
    fn authenticate(&self, _: &HeaderMap) -> Result<Caller, Problem> {
        Ok(Caller {
            id: "anonymous".into(),
            scope: Scope::All,
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let State(s): State<AppState> = State(state.clone());
        s.auth.authenticate(&parts.headers)
    }
}
