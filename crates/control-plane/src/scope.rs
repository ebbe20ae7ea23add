//! Resolving the path's environment (and Flink region) for a call: extend
//! the audit chain, then 404 for what does not exist and 403 for what the
//! caller may not touch — in that order, as each level is resolved.

use auditlog_sdk::layer::AuditInfo;

use crate::audit::descend;
use crate::auth::Caller;
use crate::errors::ApiError;
use crate::state::{Env, Store};

/// The caller's environment `env`: 404 if their organization has none by
/// that id, 403 if their role does not cover it.
pub(crate) fn environment<'s>(
    store: &'s mut Store,
    caller: &Caller,
    audit: &mut AuditInfo,
    env: &str,
) -> Result<&'s mut Env, ApiError> {
    descend(audit, "ENVIRONMENT", env);
    let found = store
        .orgs
        .get_mut(caller.org())
        .and_then(|o| o.envs.get_mut(env))
        .ok_or_else(|| ApiError::not_found(format!("environment {env} not found")))?;
    caller.check_environment(env)?;
    Ok(found)
}

/// [`environment`], then the Flink region `region` of it: 404 if Flink is
/// not offered there.
pub(crate) fn flink_region<'s>(
    store: &'s mut Store,
    caller: &Caller,
    audit: &mut AuditInfo,
    env: &str,
    region: &str,
) -> Result<&'s mut Env, ApiError> {
    let known = store.regions.iter().any(|r| r == region);
    let found = environment(store, caller, audit, env)?;
    descend(audit, "FLINK_REGION", region);
    if !known {
        return Err(ApiError::not_found(format!(
            "Flink region {region} not found"
        )));
    }
    Ok(found)
}
