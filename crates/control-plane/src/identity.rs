//! Identity providers and their identity pools (`/iam/v2/identity-providers`),
//! organization-level resources only an OrganizationAdmin may touch.

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
use crate::state::{crn, now, Org, Store};
use crate::ControlPlane;

/// One OAuth/OIDC identity provider (`op-…`).
#[derive(Debug, Clone)]
pub(crate) struct IdentityProvider {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub issuer: String,
    pub jwks_uri: String,
    pub pools: BTreeMap<String, IdentityPool>,
    pub created_at: String,
    pub updated_at: String,
}

/// One identity pool (`pool-…`) of a provider.
#[derive(Debug, Clone)]
pub(crate) struct IdentityPool {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub identity_claim: String,
    pub filter: String,
    pub created_at: String,
    pub updated_at: String,
}

impl IdentityProvider {
    fn wire_view(&self, org: &str) -> Value {
        json!({
            "api_version": "iam/v2",
            "kind": "IdentityProvider",
            "id": self.id,
            "metadata": {
                "self": format!("/iam/v2/identity-providers/{}", self.id),
                "resource_name": crn(&[("organization", org), ("identity-provider", &self.id)]),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            },
            "display_name": self.display_name,
            "description": self.description,
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "state": "ENABLED",
        })
    }
}

impl IdentityPool {
    fn wire_view(&self, org: &str, provider: &str) -> Value {
        json!({
            "api_version": "iam/v2",
            "kind": "IdentityPool",
            "id": self.id,
            "metadata": {
                "self": format!("/iam/v2/identity-providers/{provider}/identity-pools/{}", self.id),
                "resource_name": crn(&[("organization", org), ("identity-provider", provider), ("identity-pool", &self.id)]),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
            },
            "display_name": self.display_name,
            "description": self.description,
            "identity_claim": self.identity_claim,
            "filter": self.filter,
        })
    }
}

/// `request.data` as Confluent's records carry it for identity calls: the
/// API version, the collection and the operation.
fn request_data(collection: &str, method: &str) -> Option<Value> {
    Some(json!({"api_version": "iam/v2", "display_name": collection, "kind": method}))
}

const PROVIDERS: &str = "identity-providers";
const POOLS: &str = "identity-pools";

/// The caller's organization, once they are known to administer it.
fn org<'s>(store: &'s mut Store, caller: &Caller) -> Result<&'s mut Org, ApiError> {
    caller.check_org_admin()?;
    store
        .orgs
        .get_mut(caller.org())
        .ok_or_else(|| ApiError::not_found(format!("organization {} not found", caller.org())))
}

/// Provider `id`, chain extended to it (named by id, found or not).
fn provider<'o>(
    org: &'o mut Org,
    audit: &mut AuditInfo,
    id: &str,
) -> Result<&'o mut IdentityProvider, ApiError> {
    descend(audit, "IDENTITY_PROVIDER", id);
    org.providers
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(format!("identity provider {id} not found")))
}

/// Pool `id` of a provider, chain extended to it.
fn pool<'p>(
    p: &'p mut IdentityProvider,
    audit: &mut AuditInfo,
    id: &str,
) -> Result<&'p mut IdentityPool, ApiError> {
    descend(audit, "IDENTITY_POOL", id);
    let provider = p.id.clone();
    p.pools
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(format!("identity pool {id} not found in {provider}")))
}

fn check_https(field: &str, v: &str) -> Result<(), ApiError> {
    if v.starts_with("https://") && v.len() > "https://".len() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{field}` must be an https:// URL"
        )))
    }
}

/// POST /iam/v2/identity-providers `{display_name, description?, issuer, jwks_uri}`:
/// CreateIdentityProvider.
pub(crate) async fn create_provider(
    State(cp): State<ControlPlane>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(PROVIDERS, "CreateIdentityProvider");
        let id = store.fresh_id("op-", 4, true);
        let o = org(store, caller)?;
        let req = body::object(&bytes)?;
        let display_name = body::req_str(&req, "display_name")?;
        let description = body::opt_str(&req, "description")?.unwrap_or_default();
        let issuer = body::req_str(&req, "issuer")?;
        let jwks_uri = body::req_str(&req, "jwks_uri")?;
        check_https("issuer", issuer)?;
        check_https("jwks_uri", jwks_uri)?;
        if o.providers.values().any(|p| p.display_name == display_name) {
            return Err(ApiError::conflict(format!(
                "an identity provider named {display_name:?} already exists"
            )));
        }
        let at = now();
        let p = IdentityProvider {
            id,
            display_name: display_name.to_owned(),
            description: description.to_owned(),
            issuer: issuer.to_owned(),
            jwks_uri: jwks_uri.to_owned(),
            pools: BTreeMap::new(),
            created_at: at.clone(),
            updated_at: at,
        };
        descend(audit, "IDENTITY_PROVIDER", &p.id);
        let out = p.wire_view(caller.org());
        o.providers.insert(p.id.clone(), p);
        Ok(Reply::created(out))
    })
}

/// GET /iam/v2/identity-providers: ListIdentityProvider.
pub(crate) async fn list_providers(State(cp): State<ControlPlane>, headers: HeaderMap) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(PROVIDERS, "ListIdentityProvider");
        let o = org(store, caller)?;
        let data: Vec<Value> = o
            .providers
            .values()
            .map(|p| p.wire_view(caller.org()))
            .collect();
        Ok(Reply::ok(json!({
            "api_version": "iam/v2",
            "kind": "IdentityProviderList",
            "metadata": {"total_size": data.len()},
            "data": data,
        })))
    })
}

/// GET /iam/v2/identity-providers/{id}: GetIdentityProvider.
pub(crate) async fn get_provider(
    State(cp): State<ControlPlane>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(PROVIDERS, "GetIdentityProvider");
        // Named in the record even when the caller may not see it.
        descend(audit, "IDENTITY_PROVIDER", &id);
        let o = org(store, caller)?;
        let p = provider(o, audit, &id)?;
        Ok(Reply::ok(p.wire_view(caller.org())))
    })
}

/// PATCH /iam/v2/identity-providers/{id} `{display_name?, description?, issuer?, jwks_uri?}`:
/// UpdateIdentityProvider.
pub(crate) async fn update_provider(
    State(cp): State<ControlPlane>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(PROVIDERS, "UpdateIdentityProvider");
        // Named in the record even when the caller may not see it.
        descend(audit, "IDENTITY_PROVIDER", &id);
        let o = org(store, caller)?;
        let taken: Vec<(String, String)> = o
            .providers
            .values()
            .map(|p| (p.id.clone(), p.display_name.clone()))
            .collect();
        let p = provider(o, audit, &id)?;
        let req = body::object(&bytes)?;
        let display_name = body::opt_str(&req, "display_name")?;
        let description = body::opt_str(&req, "description")?;
        let issuer = body::opt_str(&req, "issuer")?;
        let jwks_uri = body::opt_str(&req, "jwks_uri")?;
        if let Some(v) = issuer {
            check_https("issuer", v)?;
        }
        if let Some(v) = jwks_uri {
            check_https("jwks_uri", v)?;
        }
        if let Some(d) = display_name {
            if d.trim().is_empty() {
                return Err(ApiError::bad_request("`display_name` must not be empty"));
            }
            if taken.iter().any(|(other, name)| *other != id && name == d) {
                return Err(ApiError::conflict(format!(
                    "an identity provider named {d:?} already exists"
                )));
            }
            p.display_name = d.to_owned();
        }
        if let Some(v) = description {
            p.description = v.to_owned();
        }
        if let Some(v) = issuer {
            p.issuer = v.to_owned();
        }
        if let Some(v) = jwks_uri {
            p.jwks_uri = v.to_owned();
        }
        p.updated_at = now();
        Ok(Reply::ok(p.wire_view(caller.org())))
    })
}

/// DELETE /iam/v2/identity-providers/{id}: DeleteIdentityProvider (its
/// pools go with it).
pub(crate) async fn delete_provider(
    State(cp): State<ControlPlane>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(PROVIDERS, "DeleteIdentityProvider");
        // Named in the record even when the caller may not see it.
        descend(audit, "IDENTITY_PROVIDER", &id);
        let o = org(store, caller)?;
        provider(o, audit, &id)?;
        o.providers.remove(&id);
        Ok(Reply::no_content())
    })
}

/// POST …/{idp}/identity-pools `{display_name, description?, identity_claim, filter}`:
/// CreateIdentityPool.
pub(crate) async fn create_pool(
    State(cp): State<ControlPlane>,
    Path(idp): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(POOLS, "CreateIdentityPool");
        // Named in the record even when the caller may not see it.
        descend(audit, "IDENTITY_PROVIDER", &idp);
        let id = store.fresh_id("pool-", 4, true);
        let o = org(store, caller)?;
        let p = provider(o, audit, &idp)?;
        let req = body::object(&bytes)?;
        let display_name = body::req_str(&req, "display_name")?;
        let description = body::opt_str(&req, "description")?.unwrap_or_default();
        let identity_claim = body::req_str(&req, "identity_claim")?;
        let filter = body::req_str(&req, "filter")?;
        if p.pools.values().any(|x| x.display_name == display_name) {
            return Err(ApiError::conflict(format!(
                "an identity pool named {display_name:?} already exists in {idp}"
            )));
        }
        let at = now();
        let pool = IdentityPool {
            id,
            display_name: display_name.to_owned(),
            description: description.to_owned(),
            identity_claim: identity_claim.to_owned(),
            filter: filter.to_owned(),
            created_at: at.clone(),
            updated_at: at,
        };
        descend(audit, "IDENTITY_POOL", &pool.id);
        let out = pool.wire_view(caller.org(), &idp);
        p.pools.insert(pool.id.clone(), pool);
        Ok(Reply::created(out))
    })
}

/// GET …/{idp}/identity-pools: ListIdentityPool.
pub(crate) async fn list_pools(
    State(cp): State<ControlPlane>,
    Path(idp): Path<String>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(POOLS, "ListIdentityPool");
        // Named in the record even when the caller may not see it.
        descend(audit, "IDENTITY_PROVIDER", &idp);
        let o = org(store, caller)?;
        let p = provider(o, audit, &idp)?;
        let data: Vec<Value> = p
            .pools
            .values()
            .map(|x| x.wire_view(caller.org(), &idp))
            .collect();
        Ok(Reply::ok(json!({
            "api_version": "iam/v2",
            "kind": "IdentityPoolList",
            "metadata": {"total_size": data.len()},
            "data": data,
        })))
    })
}

/// GET …/{idp}/identity-pools/{id}: GetIdentityPool.
pub(crate) async fn get_pool(
    State(cp): State<ControlPlane>,
    Path((idp, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(POOLS, "GetIdentityPool");
        // Named in the record even when the caller may not see them.
        descend(audit, "IDENTITY_PROVIDER", &idp);
        descend(audit, "IDENTITY_POOL", &id);
        let o = org(store, caller)?;
        let x = pool(provider(o, audit, &idp)?, audit, &id)?;
        Ok(Reply::ok(x.wire_view(caller.org(), &idp)))
    })
}

/// PATCH …/{idp}/identity-pools/{id} `{display_name?, description?, identity_claim?, filter?}`:
/// UpdateIdentityPool.
pub(crate) async fn update_pool(
    State(cp): State<ControlPlane>,
    Path((idp, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(POOLS, "UpdateIdentityPool");
        // Named in the record even when the caller may not see them.
        descend(audit, "IDENTITY_PROVIDER", &idp);
        descend(audit, "IDENTITY_POOL", &id);
        let o = org(store, caller)?;
        let p = provider(o, audit, &idp)?;
        let taken: Vec<(String, String)> = p
            .pools
            .values()
            .map(|x| (x.id.clone(), x.display_name.clone()))
            .collect();
        let x = pool(p, audit, &id)?;
        let req = body::object(&bytes)?;
        let display_name = body::opt_str(&req, "display_name")?;
        let description = body::opt_str(&req, "description")?;
        let identity_claim = body::opt_str(&req, "identity_claim")?;
        let filter = body::opt_str(&req, "filter")?;
        for (field, v) in [
            ("identity_claim", identity_claim),
            ("filter", filter),
            ("display_name", display_name),
        ] {
            if v.is_some_and(|v| v.trim().is_empty()) {
                return Err(ApiError::bad_request(format!(
                    "`{field}` must not be empty"
                )));
            }
        }
        if let Some(d) = display_name {
            if taken.iter().any(|(other, name)| *other != id && name == d) {
                return Err(ApiError::conflict(format!(
                    "an identity pool named {d:?} already exists in {idp}"
                )));
            }
            x.display_name = d.to_owned();
        }
        if let Some(v) = description {
            x.description = v.to_owned();
        }
        if let Some(v) = identity_claim {
            x.identity_claim = v.to_owned();
        }
        if let Some(v) = filter {
            x.filter = v.to_owned();
        }
        x.updated_at = now();
        Ok(Reply::ok(x.wire_view(caller.org(), &idp)))
    })
}

/// DELETE …/{idp}/identity-pools/{id}: DeleteIdentityPool.
pub(crate) async fn delete_pool(
    State(cp): State<ControlPlane>,
    Path((idp, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    handle(&cp, &headers, |store, caller, audit| {
        audit.request_data = request_data(POOLS, "DeleteIdentityPool");
        // Named in the record even when the caller may not see them.
        descend(audit, "IDENTITY_PROVIDER", &idp);
        descend(audit, "IDENTITY_POOL", &id);
        let o = org(store, caller)?;
        let p = provider(o, audit, &idp)?;
        pool(p, audit, &id)?;
        p.pools.remove(&id);
        Ok(Reply::no_content())
    })
}
