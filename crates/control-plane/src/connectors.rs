//! Connectors (`/connect/v1/environments/{env}/clusters/{cluster}/connectors`):
//! create, list, get, configure, pause, resume and delete, with a limit on
//! the tasks one cluster runs.

use std::collections::BTreeMap;

use auditlog_sdk::layer::AuditInfo;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{json, Value};

use crate::audit::{descend, handle, Reply};
use crate::auth::Caller;
use crate::body;
use crate::errors::ApiError;
use crate::mask::{is_secret_key, MASK};
use crate::scope::environment;
use crate::state::{Cluster, Store};
use crate::ControlPlane;

/// One connector. The API addresses it by name; audit records by id.
#[derive(Debug, Clone)]
pub(crate) struct Connector {
    /// `lcc-…`.
    pub id: String,
    pub name: String,
    /// The submitted configuration, secrets included (masked on the way out).
    pub config: BTreeMap<String, String>,
    pub paused: bool,
}

impl Connector {
    /// Tasks it may run; a stored config's `tasks.max` was checked on entry.
    fn tasks(&self) -> u32 {
        tasks_max(&self.config).unwrap_or(1)
    }

    fn is_source(&self) -> bool {
        self.config
            .get("connector.class")
            .is_some_and(|c| c.to_ascii_lowercase().contains("source"))
    }

    /// `result.data` as Confluent's records carry it: `type` 1 is a source,
    /// 2 a sink; `user_configs` in clear (the SDK redacts it).
    fn audit_view(&self) -> Value {
        json!({
            "name": self.name,
            "type": if self.is_source() { 1 } else { 2 },
            "user_configs": self.config,
        })
    }

    /// What the caller sees, secrets masked.
    fn wire_view(&self) -> Value {
        let config: BTreeMap<&str, &str> = self
            .config
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret_key(k) { MASK } else { v.as_str() }))
            .collect();
        let tasks: Vec<Value> = (0..self.tasks())
            .map(|t| json!({"connector": self.name, "task": t}))
            .collect();
        json!({
            "name": self.name,
            "id": self.id,
            "type": if self.is_source() { "source" } else { "sink" },
            "config": config,
            "tasks": tasks,
            "status": {"connector": {"state": if self.paused { "PAUSED" } else { "RUNNING" }}},
        })
    }
}

/// `tasks.max` (1 when absent): 400 unless a positive integer.
fn tasks_max(config: &BTreeMap<String, String>) -> Result<u32, ApiError> {
    match config.get("tasks.max") {
        None => Ok(1),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ApiError::bad_request(format!("tasks.max must be a positive integer, not {v:?}"))
            }),
    }
}

/// A config object of string values, with `name` set to the connector's.
fn config_map(o: &body::Object, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let mut config = BTreeMap::new();
    for (k, v) in o {
        let Value::String(s) = v else {
            return Err(ApiError::bad_request(format!(
                "config value of {k:?} must be a string"
            )));
        };
        config.insert(k.clone(), s.clone());
    }
    match config.get("name") {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "config name {n:?} does not match the connector name {name:?}"
            )))
        }
        _ => {}
    }
    if config
        .get("connector.class")
        .is_none_or(|c| c.trim().is_empty())
    {
        return Err(ApiError::bad_request(
            "missing required config `connector.class`",
        ));
    }
    tasks_max(&config)?;
    config.insert("name".into(), name.into());
    Ok(config)
}

/// 400 if `tasks` more tasks (beyond those of connector `except`) would take
/// the cluster over its limit.
fn check_tasks(
    cluster: &Cluster,
    id: &str,
    except: Option<&str>,
    tasks: u32,
    limit: u32,
) -> Result<(), ApiError> {
    let used: u32 = cluster
        .connectors
        .values()
        .filter(|c| Some(c.name.as_str()) != except)
        .map(Connector::tasks)
        .sum();
    if used.saturating_add(tasks) > limit {
        return Err(ApiError::bad_request(format!(
            "You have already used {used} task(s) of available {limit} on your kafka cluster {id}; \
             this connector asks for {tasks} more. To add more available tasks, contact your \
             Confluent account manager."
        )));
    }
    Ok(())
}

/// The environment's cluster, chain extended to it.
fn cluster<'s>(
    store: &'s mut Store,
    caller: &Caller,
    audit: &mut AuditInfo,
    env: &str,
    cluster: &str,
) -> Result<&'s mut Cluster, ApiError> {
    let e = environment(store, caller, audit, env)?;
    descend(audit, "CLOUD_CLUSTER", cluster);
    e.clusters.get_mut(cluster).ok_or_else(|| {
        ApiError::not_found(format!("cluster {cluster} not found in environment {env}"))
    })
}

/// The named connector, chain extended to its id.
fn connector<'c>(
    c: &'c mut Cluster,
    audit: &mut AuditInfo,
    name: &str,
) -> Result<&'c mut Connector, ApiError> {
    let found = c
        .connectors
        .get_mut(name)
        .ok_or_else(|| ApiError::not_found(format!("connector {name:?} not found")))?;
    descend(audit, "CONNECTOR", &found.id);
    Ok(found)
}

/// POST …/connectors `{"name", "config": {…}}`: CreateConnector.
pub(crate) async fn create(
    State(cp): State<ControlPlane>,
    Path((env, cl)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let limit = store.limits.tasks_per_cluster;
        let id = store.fresh_id("lcc-", 6, false);
        let c = cluster(store, caller, audit, &env, &cl)?;
        let req = body::object(&bytes)?;
        let name = body::req_str(&req, "name")?;
        audit.request_data = Some(json!({ "name": name }));
        body::check_name("connector", name, 64, true)?;
        let config = config_map(body::req_obj(&req, "config")?, name)?;
        if c.connectors.contains_key(name) {
            return Err(ApiError::conflict(format!(
                "connector {name:?} already exists on cluster {cl}"
            )));
        }
        check_tasks(c, &cl, None, tasks_max(&config)?, limit)?;
        let conn = Connector {
            id,
            name: name.to_owned(),
            config,
            paused: false,
        };
        descend(audit, "CONNECTOR", &conn.id);
        audit.result_data = Some(conn.audit_view());
        let out = conn.wire_view();
        c.connectors.insert(conn.name.clone(), conn);
        Ok(Reply::created(out))
    })
}

/// GET …/connectors: GetConnectors, the names on the cluster.
pub(crate) async fn list(
    State(cp): State<ControlPlane>,
    Path((env, cl)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        let c = cluster(store, caller, audit, &env, &cl)?;
        Ok(Reply::ok(json!(c.connectors.keys().collect::<Vec<_>>())))
    })
}

/// GET …/connectors/{name}: GetConnector.
pub(crate) async fn get(
    State(cp): State<ControlPlane>,
    Path((env, cl, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = Some(json!({ "name": name }));
        let c = cluster(store, caller, audit, &env, &cl)?;
        let conn = connector(c, audit, &name)?;
        audit.result_data = Some(conn.audit_view());
        Ok(Reply::ok(conn.wire_view()))
    })
}

/// PUT …/connectors/{name}/config `{…config…}`: CreateOrUpdateConnector.
pub(crate) async fn put_config(
    State(cp): State<ControlPlane>,
    Path((env, cl, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = Some(json!({ "name": name }));
        let limit = store.limits.tasks_per_cluster;
        let id = store.fresh_id("lcc-", 6, false);
        let c = cluster(store, caller, audit, &env, &cl)?;
        // An existing connector is named in the record even when the update
        // fails, as Confluent's records do.
        if let Some(conn) = c.connectors.get(&name) {
            descend(audit, "CONNECTOR", &conn.id);
        }
        body::check_name("connector", &name, 64, true)?;
        let config = config_map(&body::object(&bytes)?, &name)?;
        check_tasks(c, &cl, Some(&name), tasks_max(&config)?, limit)?;
        if let Some(conn) = c.connectors.get_mut(&name) {
            conn.config = config;
            audit.result_data = Some(conn.audit_view());
            return Ok(Reply::ok(conn.wire_view()));
        }
        let conn = Connector {
            id,
            name: name.clone(),
            config,
            paused: false,
        };
        descend(audit, "CONNECTOR", &conn.id);
        audit.result_data = Some(conn.audit_view());
        let out = conn.wire_view();
        c.connectors.insert(name.clone(), conn);
        Ok(Reply::created(out))
    })
}

/// PUT …/connectors/{name}/pause or /resume: PauseConnector, ResumeConnector.
fn set_paused(
    cp: &ControlPlane,
    headers: &HeaderMap,
    env: &str,
    cl: &str,
    name: &str,
    paused: bool,
) -> Response {
    handle(cp, headers, |store, caller, audit| {
        audit.request_data = Some(json!({ "name": name }));
        let c = cluster(store, caller, audit, env, cl)?;
        connector(c, audit, name)?.paused = paused;
        Ok(Reply::accepted())
    })
}

/// PUT …/connectors/{name}/pause: PauseConnector.
pub(crate) async fn pause(
    State(cp): State<ControlPlane>,
    Path((env, cl, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    set_paused(&cp, &headers, &env, &cl, &name, true)
}

/// PUT …/connectors/{name}/resume: ResumeConnector.
pub(crate) async fn resume(
    State(cp): State<ControlPlane>,
    Path((env, cl, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    set_paused(&cp, &headers, &env, &cl, &name, false)
}

/// DELETE …/connectors/{name}: DeleteConnector.
pub(crate) async fn delete(
    State(cp): State<ControlPlane>,
    Path((env, cl, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = Some(json!({ "name": name }));
        let c = cluster(store, caller, audit, &env, &cl)?;
        connector(c, audit, &name)?;
        c.connectors.remove(&name);
        Ok(Reply::no_content())
    })
}
