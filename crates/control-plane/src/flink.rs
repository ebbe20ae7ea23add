//! Flink regions and compute pools (`/fcpm/v2/environments/{env}/…`):
//! ListFlinkRegions and the compute pool lifecycle, PROVISIONING →
//! PROVISIONED, with a `max_cfu` limit.

use auditlog_sdk::layer::AuditInfo;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::audit::{descend, handle, Reply};
use crate::body;
use crate::errors::ApiError;
use crate::scope::environment;
use crate::state::{crn, now, Env};
use crate::ControlPlane;

/// A cloud provider, as the API spells it and as records number it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cloud {
    Aws,
    Gcp,
    Azure,
}

impl Cloud {
    fn parse(s: &str) -> Result<Cloud, ApiError> {
        match s.to_ascii_lowercase().as_str() {
            "aws" => Ok(Cloud::Aws),
            "gcp" => Ok(Cloud::Gcp),
            "azure" => Ok(Cloud::Azure),
            _ => Err(ApiError::bad_request(format!(
                "unknown cloud {s:?}: use AWS, GCP or AZURE"
            ))),
        }
    }

    /// The enum value Confluent's records carry (0 is "unspecified").
    fn code(self) -> u8 {
        match self {
            Cloud::Aws => 1,
            Cloud::Gcp => 2,
            Cloud::Azure => 3,
        }
    }

    fn upper(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Gcp => "GCP",
            Cloud::Azure => "AZURE",
        }
    }

    fn lower(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

/// One compute pool (`lfcp-…`).
#[derive(Debug, Clone)]
pub(crate) struct ComputePool {
    pub id: String,
    pub display_name: String,
    pub cloud: Cloud,
    /// The provider's region, `us-west-2`.
    pub region: String,
    pub max_cfu: u32,
    pub created_at: String,
    pub updated_at: String,
    /// Provisioning finishes by the time anyone looks again: creation
    /// answers PROVISIONING, every later read PROVISIONED.
    pub provisioned: bool,
}

impl ComputePool {
    /// The Flink region id, `aws.us-west-2`.
    pub fn flink_region(&self) -> String {
        format!("{}.{}", self.cloud.lower(), self.region)
    }

    fn phase(&self) -> &'static str {
        if self.provisioned {
            "PROVISIONED"
        } else {
            "PROVISIONING"
        }
    }

    fn self_url(&self) -> String {
        format!("/fcpm/v2/compute-pools/{}", self.id)
    }

    /// `result.data` in the shape of Confluent's records.
    fn audit_view(&self, org: &str, env: &str) -> Value {
        let region = self.flink_region();
        json!({
            "id": self.id,
            "metadata": {
                "resource_name": crn(&[("organization", org), ("environment", env), ("flink-region", &region), ("compute-pool", &self.id)]),
                "self": self.self_url(),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "deleted_at": null,
            },
            "spec": {
                "display_name": self.display_name,
                "environment": {
                    "id": env,
                    "related": self.self_url(),
                    "resource_name": crn(&[("organization", org), ("environment", env)]),
                },
                "flink_region": region,
                "max_cfu": self.max_cfu,
                "region": self.region,
                "cloud": self.cloud.code(),
                "config": {"default_compute_pool": false},
            },
            "status": {"current_cfu": 0, "phase": self.phase()},
        })
    }

    /// What the caller sees (the fcpm/v2 REST form).
    fn wire_view(&self, org: &str, env: &str) -> Value {
        json!({
            "api_version": "fcpm/v2",
            "kind": "ComputePool",
            "id": self.id,
            "metadata": {
                "self": self.self_url(),
                "resource_name": crn(&[("organization", org), ("environment", env), ("flink-region", &self.flink_region()), ("compute-pool", &self.id)]),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            },
            "spec": {
                "display_name": self.display_name,
                "cloud": self.cloud.upper(),
                "region": self.region,
                "max_cfu": self.max_cfu,
                "environment": {"id": env},
            },
            "status": {"phase": self.phase(), "current_cfu": 0},
        })
    }
}

/// GET /fcpm/v2/environments/{env}/regions[?cloud=AWS]: ListFlinkRegions.
pub(crate) async fn list_regions(
    State(cp): State<ControlPlane>,
    Path(env): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let cloud = body::query(q.as_deref(), "cloud");
        let region_name = body::query(q.as_deref(), "region_name").unwrap_or_default();
        audit.request_data = Some(json!({
            "BypassCache": false,
            "Cloud": 0,
            "PageSize": 100,
            "PageToken": "",
            "RegionName": region_name,
        }));
        let regions = store.regions.clone();
        environment(store, caller, audit, &env)?;
        let cloud = cloud.as_deref().map(Cloud::parse).transpose()?;
        if let (Some(c), Some(data)) = (cloud, audit.request_data.as_mut()) {
            data["Cloud"] = Value::from(c.code());
        }
        let chosen: Vec<(&str, &str)> = regions
            .iter()
            .filter_map(|r| r.split_once('.'))
            .filter(|(c, _)| cloud.is_none_or(|want| want.lower() == *c))
            .filter(|(_, name)| region_name.is_empty() || *name == region_name)
            .collect();
        let elements: Vec<Value> = chosen
            .iter()
            .map(|(c, n)| json!({"fcpm_v_2_region": {"id": format!("{c}.{n}"), "metadata": null}}))
            .collect();
        audit.result_data = Some(json!({ "elements": elements }));
        let data: Vec<Value> = chosen
            .iter()
            .map(|(c, n)| {
                json!({
                    "api_version": "fcpm/v2",
                    "kind": "Region",
                    "id": format!("{c}.{n}"),
                    "cloud": c.to_ascii_uppercase(),
                    "region_name": n,
                })
            })
            .collect();
        Ok(Reply::ok(
            json!({"api_version": "fcpm/v2", "kind": "RegionList", "data": data}),
        ))
    })
}

/// The environment's compute pool `id`, chain extended to it.
fn pool<'e>(
    env: &'e mut Env,
    audit: &mut AuditInfo,
    id: &str,
) -> Result<&'e mut ComputePool, ApiError> {
    let p = env
        .pools
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(format!("compute pool {id} not found")))?;
    descend(audit, "FLINK_REGION", &p.flink_region());
    descend(audit, "COMPUTE_POOL", &p.id);
    Ok(p)
}

/// 400 unless `id` is a compute pool of this environment in Flink region
/// `region` (statements and workspaces name the pool they run on).
pub(crate) fn check_pool(env: &Env, region: &str, id: &str) -> Result<(), ApiError> {
    match env.pools.get(id) {
        Some(p) if p.flink_region() == region => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "compute pool {id} not found in {region}"
        ))),
    }
}

fn check_max_cfu(n: u32, limit: u32) -> Result<(), ApiError> {
    if n == 0 || n > limit {
        return Err(ApiError::bad_request(format!(
            "max_cfu {n} is outside the allowed range 1..={limit} CFUs for a compute pool; \
             to raise the limit, contact your Confluent account manager"
        )));
    }
    Ok(())
}

/// POST …/compute-pools `{"spec": {display_name, cloud, region, max_cfu}}`:
/// CreateComputePool.
pub(crate) async fn create_pool(
    State(cp): State<ControlPlane>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let limit = store.limits.max_cfu;
        let regions = store.regions.clone();
        let id = store.fresh_id("lfcp-", 6, false);
        let org = caller.org().to_owned();
        let env = environment(store, caller, audit, &env_id)?;
        let req = body::object(&bytes)?;
        audit.request_data = Some(Value::Object(req.clone()));
        let spec = body::req_obj(&req, "spec")?;
        let display_name = body::req_str(spec, "display_name")?;
        let cloud = Cloud::parse(body::req_str(spec, "cloud")?)?;
        let region = body::req_str(spec, "region")?;
        let max_cfu = body::opt_u32(spec, "max_cfu")?
            .ok_or_else(|| ApiError::bad_request("missing required field `max_cfu`"))?;
        if let Some(e) = body::opt_obj(spec, "environment")? {
            if body::opt_str(e, "id")?.is_some_and(|e| e != env_id) {
                return Err(ApiError::bad_request(
                    "spec.environment.id does not match the path",
                ));
            }
        }
        audit.request_data = Some(json!({"spec": {
            "config": {"default_compute_pool": false},
            "display_name": display_name,
            "environment": {"id": env_id},
            "max_cfu": max_cfu,
            "region": region,
            "cloud": cloud.code(),
        }}));
        let flink_region = format!("{}.{region}", cloud.lower());
        if !regions.contains(&flink_region) {
            return Err(ApiError::bad_request(format!(
                "Flink is not offered in {flink_region}"
            )));
        }
        check_max_cfu(max_cfu, limit)?;
        if env.pools.values().any(|p| p.display_name == display_name) {
            return Err(ApiError::conflict(format!(
                "a compute pool named {display_name:?} already exists in {env_id}"
            )));
        }
        let at = now();
        let p = ComputePool {
            id,
            display_name: display_name.to_owned(),
            cloud,
            region: region.to_owned(),
            max_cfu,
            created_at: at.clone(),
            updated_at: at,
            provisioned: false,
        };
        descend(audit, "FLINK_REGION", &flink_region);
        descend(audit, "COMPUTE_POOL", &p.id);
        audit.result_data = Some(p.audit_view(&org, &env_id));
        let out = p.wire_view(&org, &env_id);
        env.pools.insert(p.id.clone(), p);
        Ok(Reply::created(out))
    })
}

/// GET …/compute-pools: ListComputePools.
pub(crate) async fn list_pools(
    State(cp): State<ControlPlane>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(json!({
            "EnvironmentId": env_id,
            "Region": "",
            "NetworkId": "",
            "PageToken": "",
            "PageSize": 100,
            "OrgResourceId": org,
        }));
        let env = environment(store, caller, audit, &env_id)?;
        for p in env.pools.values_mut() {
            p.provisioned = true;
        }
        let audit_list: Vec<Value> = env
            .pools
            .values()
            .map(|p| p.audit_view(&org, &env_id))
            .collect();
        // Confluent's records carry `null`, not `[]`, for no pools.
        audit.result_data = Some(json!({
            "elements": if audit_list.is_empty() { Value::Null } else { Value::from(audit_list) }
        }));
        let data: Vec<Value> = env
            .pools
            .values()
            .map(|p| p.wire_view(&org, &env_id))
            .collect();
        Ok(Reply::ok(
            json!({"api_version": "fcpm/v2", "kind": "ComputePoolList", "data": data}),
        ))
    })
}

/// GET …/compute-pools/{id}: GetComputePool.
pub(crate) async fn get_pool(
    State(cp): State<ControlPlane>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let org = caller.org().to_owned();
        audit.request_data = Some(json!({
            "OrgResourceId": org,
            "Id": id,
            "EnvironmentId": env_id,
            "FlinkRegion": "",
            "IncludeDeactivated": false,
        }));
        let env = environment(store, caller, audit, &env_id)?;
        let p = pool(env, audit, &id)?;
        p.provisioned = true;
        if let Some(d) = audit.request_data.as_mut() {
            d["FlinkRegion"] = Value::from(p.flink_region());
        }
        audit.result_data = Some(p.audit_view(&org, &env_id));
        Ok(Reply::ok(p.wire_view(&org, &env_id)))
    })
}

/// PATCH …/compute-pools/{id} `{"spec": {display_name?, max_cfu?}}`:
/// UpdateComputePool. `max_cfu` may grow, never shrink (as in Confluent).
pub(crate) async fn update_pool(
    State(cp): State<ControlPlane>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let limit = store.limits.max_cfu;
        let org = caller.org().to_owned();
        let env = environment(store, caller, audit, &env_id)?;
        let taken: Vec<(String, String)> = env
            .pools
            .values()
            .map(|p| (p.id.clone(), p.display_name.clone()))
            .collect();
        let p = pool(env, audit, &id)?;
        let req = body::object(&bytes)?;
        let spec = body::req_obj(&req, "spec")?;
        let display_name = body::opt_str(spec, "display_name")?;
        let max_cfu = body::opt_u32(spec, "max_cfu")?;
        audit.request_data = Some(json!({"spec": {
            "cloud": 0,
            "display_name": display_name.unwrap_or(""),
            "environment": {"id": env_id},
            "max_cfu": max_cfu.unwrap_or(0),
            "region": "",
        }}));
        if display_name.is_none() && max_cfu.is_none() {
            return Err(ApiError::bad_request(
                "nothing to update: send spec.display_name or spec.max_cfu",
            ));
        }
        if let Some(n) = max_cfu {
            if n < p.max_cfu {
                return Err(ApiError::bad_request(
                    "Reducing the max_cfu of a compute pool is currently unsupported.",
                ));
            }
            check_max_cfu(n, limit)?;
        }
        if let Some(d) = display_name {
            if d.trim().is_empty() {
                return Err(ApiError::bad_request("spec.display_name must not be empty"));
            }
            if taken.iter().any(|(other, name)| *other != id && name == d) {
                return Err(ApiError::conflict(format!(
                    "a compute pool named {d:?} already exists in {env_id}"
                )));
            }
            p.display_name = d.to_owned();
        }
        if let Some(n) = max_cfu {
            p.max_cfu = n;
        }
        p.updated_at = now();
        p.provisioned = true;
        audit.result_data = Some(p.audit_view(&org, &env_id));
        Ok(Reply::ok(p.wire_view(&org, &env_id)))
    })
}

/// DELETE …/compute-pools/{id}: DeleteComputePool; 409 while statements
/// still run on it.
pub(crate) async fn delete_pool(
    State(cp): State<ControlPlane>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = Some(json!({"environment_id": env_id, "id": id}));
        let env = environment(store, caller, audit, &env_id)?;
        let in_use = env
            .statements
            .values()
            .filter(|s| s.compute_pool_id == id)
            .count();
        pool(env, audit, &id)?;
        if in_use > 0 {
            return Err(ApiError::conflict(format!(
                "compute pool {id} still runs {in_use} statement(s); delete them first"
            )));
        }
        env.pools.remove(&id);
        Ok(Reply::no_content())
    })
}
