//! Flink SQL statements (`/sql/v1/environments/{env}/regions/{region}/statements`):
//! create, list, get, update (PUT), patch (JSON Patch) and delete. A
//! statement runs on a compute pool of its region: PENDING → RUNNING, or
//! STOPPED when stopped.

use auditlog_sdk::layer::AuditInfo;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::audit::{descend, handle, Reply};
use crate::body;
use crate::errors::ApiError;
use crate::flink::check_pool;
use crate::scope::flink_region;
use crate::state::{now, Env};
use crate::ControlPlane;

/// One statement.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub name: String,
    /// The SQL text; fixed once created.
    pub sql: String,
    pub compute_pool_id: String,
    /// Who it runs as (`u-…` or `sa-…`).
    pub principal: String,
    pub stopped: bool,
    /// Like pools, a statement is running by the time anyone looks again.
    pub observed: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Statement {
    fn phase(&self) -> &'static str {
        match (self.stopped, self.observed) {
            (true, _) => "STOPPED",
            (false, true) => "RUNNING",
            (false, false) => "PENDING",
        }
    }

    fn audit_spec(&self) -> Value {
        json!({"compute_pool_id": self.compute_pool_id, "name": self.name, "principal": self.principal})
    }

    /// `result.data` in the shape of Confluent's records.
    fn audit_view(&self, env: &str) -> Value {
        json!({"metadata": {"environment_id": env}, "spec": self.audit_spec()})
    }

    /// What the caller sees (the sql/v1 REST form).
    fn wire_view(&self, org: &str, env: &str) -> Value {
        json!({
            "api_version": "sql/v1",
            "kind": "Statement",
            "name": self.name,
            "organization_id": org,
            "environment_id": env,
            "spec": {
                "statement": self.sql,
                "compute_pool_id": self.compute_pool_id,
                "principal": self.principal,
                "stopped": self.stopped,
            },
            "status": {"phase": self.phase()},
            "metadata": {"created_at": self.created_at, "updated_at": self.updated_at},
        })
    }
}

fn check_principal(p: &str) -> Result<(), ApiError> {
    if (p.starts_with("u-") || p.starts_with("sa-")) && p.len() > 3 {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "principal {p:?} is neither a user (u-…) nor a service account (sa-…)"
        )))
    }
}

fn key(region: &str, name: &str) -> (String, String) {
    (region.to_owned(), name.to_owned())
}

fn find<'e>(
    env: &'e mut Env,
    audit: &mut AuditInfo,
    region: &str,
    name: &str,
) -> Result<&'e mut Statement, ApiError> {
    // Statements are named by name: the record names the one asked for,
    // found or not.
    descend(audit, "STATEMENT", name);
    env.statements
        .get_mut(&key(region, name))
        .ok_or_else(|| ApiError::not_found(format!("statement {name:?} not found in {region}")))
}

/// POST …/statements `{"name", "spec": {"statement", "compute_pool_id", "principal"?, "stopped"?}}`:
/// CreateStatement.
pub(crate) async fn create(
    State(cp): State<ControlPlane>,
    Path((env_id, region)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        let req = body::object(&bytes)?;
        let name = body::req_str(&req, "name")?;
        let spec = body::req_obj(&req, "spec")?;
        let pool = body::req_str(spec, "compute_pool_id")?;
        let principal = body::opt_str(spec, "principal")?.unwrap_or(&caller.principal.id);
        audit.request_data = Some(json!({
            "environment_id": env_id,
            "org_resource_id": org,
            "spec": {"compute_pool_id": pool, "name": name, "principal": principal},
        }));
        body::check_name("statement", name, 100, false)?;
        let sql = body::req_str(spec, "statement")?;
        let stopped = body::opt_bool(spec, "stopped")?.unwrap_or(false);
        check_principal(principal)?;
        check_pool(env, &region, pool)?;
        if env.statements.contains_key(&key(&region, name)) {
            return Err(ApiError::conflict(format!(
                "statement {name:?} already exists in {region}"
            )));
        }
        let at = now();
        let s = Statement {
            name: name.to_owned(),
            sql: sql.to_owned(),
            compute_pool_id: pool.to_owned(),
            principal: principal.to_owned(),
            stopped,
            observed: false,
            created_at: at.clone(),
            updated_at: at,
        };
        descend(audit, "STATEMENT", name);
        audit.result_data = Some(s.audit_view(&env_id));
        let out = s.wire_view(&org, &env_id);
        env.statements.insert(key(&region, name), s);
        Ok(Reply::created(out))
    })
}

/// GET …/statements[?compute_pool_id=…]: ListStatements.
pub(crate) async fn list(
    State(cp): State<ControlPlane>,
    Path((env_id, region)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        let pool = body::query(q.as_deref(), "compute_pool_id").unwrap_or_default();
        audit.request_data =
            Some(json!({"compute_pool_id": pool, "environment_id": env_id, "page_size": 100}));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        let mut a = Vec::new();
        let mut w = Vec::new();
        for ((r, _), s) in env.statements.iter_mut() {
            if *r != region || !(pool.is_empty() || s.compute_pool_id == pool) {
                continue;
            }
            s.observed = true;
            a.push(s.audit_view(&env_id));
            w.push(s.wire_view(&org, &env_id));
        }
        audit.result_data = Some(json!({ "data": a }));
        Ok(Reply::ok(
            json!({"api_version": "sql/v1", "kind": "StatementList", "data": w}),
        ))
    })
}

/// GET …/statements/{name}: GetStatement.
pub(crate) async fn get(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(json!({"statement_name": name, "environment_id": env_id}));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        let s = find(env, audit, &region, &name)?;
        s.observed = true;
        audit.result_data = Some(s.audit_view(&env_id));
        Ok(Reply::ok(s.wire_view(&org, &env_id)))
    })
}

/// The changes an update or patch asks for.
#[derive(Default)]
struct Change {
    compute_pool_id: Option<String>,
    principal: Option<String>,
    stopped: Option<bool>,
}

/// Check and apply `c` to statement `name`.
fn apply(
    env: &mut Env,
    audit: &mut AuditInfo,
    region: &str,
    name: &str,
    c: Change,
) -> Result<(), ApiError> {
    if let Some(p) = &c.compute_pool_id {
        check_pool(env, region, p)?;
    }
    if let Some(p) = &c.principal {
        check_principal(p)?;
    }
    let s = find(env, audit, region, name)?;
    if let Some(p) = c.compute_pool_id {
        s.compute_pool_id = p;
    }
    if let Some(p) = c.principal {
        s.principal = p;
    }
    if let Some(b) = c.stopped {
        s.stopped = b;
    }
    s.observed = true;
    s.updated_at = now();
    Ok(())
}

/// PUT …/statements/{name} `{"spec": {compute_pool_id?, principal?, stopped?, statement?}}`:
/// UpdateStatement. The SQL text cannot change.
pub(crate) async fn update(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(json!({"environment_id": env_id, "org_resource_id": org}));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        // A missing statement is a 404 whatever the body.
        let sql = find(env, audit, &region, &name)?.sql.clone();
        let req = body::object(&bytes)?;
        let spec = body::req_obj(&req, "spec")?;
        if body::opt_str(spec, "statement")?.is_some_and(|s| s != sql) {
            return Err(ApiError::bad_request(
                "the SQL text of a statement cannot be changed; create a new statement",
            ));
        }
        let change = Change {
            compute_pool_id: body::opt_str(spec, "compute_pool_id")?.map(str::to_owned),
            principal: body::opt_str(spec, "principal")?.map(str::to_owned),
            stopped: body::opt_bool(spec, "stopped")?,
        };
        apply(env, audit, &region, &name, change)?;
        let s = find(env, audit, &region, &name)?;
        if let Some(d) = audit.request_data.as_mut() {
            d["spec"] = s.audit_spec();
        }
        audit.result_data = Some(s.audit_view(&env_id));
        Ok(Reply::ok(s.wire_view(&org, &env_id)))
    })
}

/// PATCH …/statements/{name} with a JSON Patch (RFC 6902) of `replace` (or
/// `add`) operations on `/spec/stopped`, `/spec/compute_pool_id` or
/// `/spec/principal`: PatchStatement.
pub(crate) async fn patch(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data =
            Some(json!({"environment_id": env_id, "org_resource_id": org, "statement_name": name}));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        find(env, audit, &region, &name)?;
        let change = parse_patch(&body::json(&bytes)?)?;
        apply(env, audit, &region, &name, change)?;
        let s = find(env, audit, &region, &name)?;
        Ok(Reply::ok(s.wire_view(&org, &env_id)))
    })
}

fn parse_patch(v: &Value) -> Result<Change, ApiError> {
    let ops = v.as_array().ok_or_else(|| {
        ApiError::bad_request("a statement patch is a JSON Patch array of operations")
    })?;
    let mut c = Change::default();
    for op in ops {
        let o = op
            .as_object()
            .ok_or_else(|| ApiError::bad_request("each JSON Patch operation must be an object"))?;
        let kind = body::req_str(o, "op")?;
        if kind != "replace" && kind != "add" {
            return Err(ApiError::bad_request(format!(
                "unsupported JSON Patch op {kind:?}: use replace"
            )));
        }
        let path = body::req_str(o, "path")?;
        let value = o.get("value").unwrap_or(&Value::Null);
        let text = || {
            value
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request(format!("{path} must be a string")))
        };
        match path {
            "/spec/stopped" => {
                c.stopped = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| ApiError::bad_request("/spec/stopped must be a boolean"))?,
                )
            }
            "/spec/compute_pool_id" => c.compute_pool_id = Some(text()?),
            "/spec/principal" => c.principal = Some(text()?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "{other} cannot be patched: only /spec/stopped, /spec/compute_pool_id and /spec/principal"
                )))
            }
        }
    }
    Ok(c)
}

/// DELETE …/statements/{name}: DeleteStatement.
pub(crate) async fn delete(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = Some(
            json!({"StatementName": name, "OrgResourceId": caller.org(), "EnvironmentId": env_id}),
        );
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        find(env, audit, &region, &name)?;
        env.statements.remove(&key(&region, &name));
        Ok(Reply::no_content())
    })
}
