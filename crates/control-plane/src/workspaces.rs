//! Flink SQL workspaces (`/ws/v1/environments/{env}/regions/{region}/workspaces`):
//! create, list, get, update and delete, named per region.

use auditlog_sdk::layer::AuditInfo;
use axum::body::Bytes;
use axum::extract::{Path, State};
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

/// One workspace.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    pub name: String,
    /// The compute pool its statements run on by default.
    pub compute_pool: Option<String>,
    /// The service account its statements run as, if not the user.
    pub service_account: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Workspace {
    fn spec(&self) -> Value {
        json!({
            "compute_pool": self.compute_pool.as_ref().map(|id| json!({ "id": id })),
            "service_account": self.service_account.as_ref().map(|id| json!({ "id": id })),
        })
    }

    /// `result.data` in the shape of Confluent's records.
    fn audit_view(&self, org: &str, env: &str) -> Value {
        json!({"environment_id": env, "name": self.name, "org_id": org, "spec": self.spec()})
    }

    /// What the caller sees.
    fn wire_view(&self, org: &str, env: &str, region: &str) -> Value {
        json!({
            "api_version": "ws/v1",
            "kind": "Workspace",
            "name": self.name,
            "organization_id": org,
            "environment_id": env,
            "flink_region": region,
            "spec": self.spec(),
            "metadata": {"created_at": self.created_at, "updated_at": self.updated_at},
        })
    }
}

/// `spec` of a create or update: (compute pool, service account), each
/// checked — the pool must exist in this environment and region.
fn parse_spec(
    env: &Env,
    region: &str,
    req: &body::Object,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let Some(spec) = body::opt_obj(req, "spec")? else {
        return Ok((None, None));
    };
    let pool = match body::opt_obj(spec, "compute_pool")? {
        Some(p) => Some(body::req_str(p, "id")?.to_owned()),
        None => None,
    };
    if let Some(id) = &pool {
        check_pool(env, region, id)?;
    }
    let sa = match body::opt_obj(spec, "service_account")? {
        Some(s) => Some(body::req_str(s, "id")?.to_owned()),
        None => None,
    };
    if let Some(id) = &sa {
        if !id.starts_with("sa-") {
            return Err(ApiError::bad_request(format!(
                "service_account.id {id:?} is not a service account (sa-…)"
            )));
        }
    }
    Ok((pool, sa))
}

/// The request data Confluent's records carry for a call on one workspace.
fn request_data(name: &str, env: &str, org: &str) -> Value {
    json!({"workspace_name": name, "environment_id": env, "org_resource_id": org})
}

fn find<'e>(
    env: &'e mut Env,
    audit: &mut AuditInfo,
    region: &str,
    name: &str,
) -> Result<&'e mut Workspace, ApiError> {
    // Workspaces are named by name: the record names the one asked for,
    // found or not.
    descend(audit, "FLINK_WORKSPACE", name);
    env.workspaces
        .get_mut(&(region.to_owned(), name.to_owned()))
        .ok_or_else(|| ApiError::not_found(format!("workspace {name:?} not found in {region}")))
}

/// POST …/workspaces `{"name", "spec": {"compute_pool": {"id"}, "service_account": {"id"}}}`:
/// CreateWorkspace.
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
        audit.request_data = Some(request_data(name, &env_id, &org));
        body::check_name("workspace", name, 100, false)?;
        let (compute_pool, service_account) = parse_spec(env, &region, &req)?;
        let key = (region.clone(), name.to_owned());
        if env.workspaces.contains_key(&key) {
            return Err(ApiError::conflict(format!(
                "workspace {name:?} already exists in {region}"
            )));
        }
        let at = now();
        let w = Workspace {
            name: name.to_owned(),
            compute_pool,
            service_account,
            created_at: at.clone(),
            updated_at: at,
        };
        if let Some(d) = audit.request_data.as_mut() {
            d["spec"] = w.spec();
        }
        descend(audit, "FLINK_WORKSPACE", name);
        audit.result_data = Some(w.audit_view(&org, &env_id));
        let out = w.wire_view(&org, &env_id, &region);
        env.workspaces.insert(key, w);
        Ok(Reply::created(out))
    })
}

/// GET …/workspaces: ListWorkspaces.
pub(crate) async fn list(
    State(cp): State<ControlPlane>,
    Path((env_id, region)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data =
            Some(json!({"environment_id": env_id, "org_resource_id": org, "page_size": 100}));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        let mine = env
            .workspaces
            .iter()
            .filter(|((r, _), _)| *r == region)
            .map(|(_, w)| w);
        let (a, w): (Vec<Value>, Vec<Value>) = mine
            .map(|w| {
                (
                    w.audit_view(&org, &env_id),
                    w.wire_view(&org, &env_id, &region),
                )
            })
            .unzip();
        audit.result_data = Some(json!({ "data": a }));
        Ok(Reply::ok(
            json!({"api_version": "ws/v1", "kind": "WorkspaceList", "data": w}),
        ))
    })
}

/// GET …/workspaces/{name}: GetWorkspace.
pub(crate) async fn get(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(request_data(&name, &env_id, &org));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        let w = find(env, audit, &region, &name)?;
        audit.result_data = Some(w.audit_view(&org, &env_id));
        Ok(Reply::ok(w.wire_view(&org, &env_id, &region)))
    })
}

/// PUT …/workspaces/{name} `{"spec": {…}}`: UpdateWorkspace (the spec is
/// replaced; absent members become null).
pub(crate) async fn update(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(request_data(&name, &env_id, &org));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        // A missing workspace is a 404 whatever the body; it is looked up
        // again after the spec check, which reads the environment's pools.
        find(env, audit, &region, &name)?;
        let req = body::object(&bytes)?;
        let (compute_pool, service_account) = parse_spec(env, &region, &req)?;
        let w = find(env, audit, &region, &name)?;
        w.compute_pool = compute_pool;
        w.service_account = service_account;
        w.updated_at = now();
        if let Some(d) = audit.request_data.as_mut() {
            d["spec"] = w.spec();
        }
        audit.result_data = Some(w.audit_view(&org, &env_id));
        Ok(Reply::ok(w.wire_view(&org, &env_id, &region)))
    })
}

/// DELETE …/workspaces/{name}: DeleteWorkspace.
pub(crate) async fn delete(
    State(cp): State<ControlPlane>,
    Path((env_id, region, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(request_data(&name, &env_id, &org));
        let env = flink_region(store, caller, audit, &env_id, &region)?;
        find(env, audit, &region, &name)?;
        env.workspaces.remove(&(region.clone(), name.clone()));
        Ok(Reply::no_content())
    })
}
