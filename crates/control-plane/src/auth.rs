//! Who is calling: bearer tokens mapped to a principal and a role, used by
//! the handlers (to decide) and by the AuditLayer (to name the actor).

use std::collections::HashMap;

use auditlog_sdk::layer::PrincipalResolver;
use auditlog_sdk::Principal;
use axum::http::{header, request::Parts, HeaderMap};

use crate::errors::ApiError;
use crate::seed::{PrincipalSeed, Role};

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who; `principal.organization` is the organization the call acts in.
    pub principal: Principal,
    /// What they may do there.
    pub role: Role,
}

impl Caller {
    /// The caller's organization id.
    pub fn org(&self) -> &str {
        &self.principal.organization
    }

    /// 403 unless the caller may act in environment `env`.
    pub fn check_environment(&self, env: &str) -> Result<(), ApiError> {
        if self.role.covers_environment(env) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Forbidden Access: {} has no role in environment {env}",
                self.principal.id
            )))
        }
    }

    /// 403 unless the caller administers the organization.
    pub fn check_org_admin(&self) -> Result<(), ApiError> {
        if self.role.is_org_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "Forbidden Access: {} is not an OrganizationAdmin of {}",
                self.principal.id,
                self.org()
            )))
        }
    }
}

/// Token → caller. Also the AuditLayer's [`PrincipalResolver`], so the
/// record names exactly the principal the handler authorized.
#[derive(Debug, Clone, Default)]
pub struct Principals {
    by_token: HashMap<String, Caller>,
}

impl Principals {
    /// The table for these seeded principals.
    pub fn new(seeds: &[PrincipalSeed]) -> Principals {
        Principals {
            by_token: seeds
                .iter()
                .map(|s| {
                    let caller = Caller {
                        principal: s.principal.clone(),
                        role: s.role.clone(),
                    };
                    (s.token.clone(), caller)
                })
                .collect(),
        }
    }

    /// The caller a request's `Authorization: Bearer …` header names.
    pub fn caller(&self, headers: &HeaderMap) -> Option<&Caller> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        self.by_token.get(token.trim())
    }
}

impl PrincipalResolver for Principals {
    fn principal(&self, parts: &Parts) -> Option<Principal> {
        self.caller(&parts.headers).map(|c| c.principal.clone())
    }
}
