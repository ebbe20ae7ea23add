//! The route table: one row per audited call (HTTP method, axum route
//! template, catalog method, handler). Both the router and the AuditLayer's
//! route → method mapping are built from it, so they cannot drift.

use std::sync::LazyLock;

use axum::routing::{on, MethodFilter, MethodRouter};

use crate::{connectors, flink, identity, statements, workspaces, ControlPlane};

/// One audited route.
pub(crate) struct Route {
    pub method: &'static str,
    pub template: &'static str,
    pub audit: &'static str,
    pub handler: fn(MethodFilter) -> MethodRouter<ControlPlane>,
}

macro_rules! connectors {
    ($rest:literal) => {
        concat!(
            "/connect/v1/environments/{env}/clusters/{cluster}/connectors",
            $rest
        )
    };
}
macro_rules! pools {
    ($rest:literal) => {
        concat!("/fcpm/v2/environments/{env}/compute-pools", $rest)
    };
}
macro_rules! workspaces {
    ($rest:literal) => {
        concat!(
            "/ws/v1/environments/{env}/regions/{region}/workspaces",
            $rest
        )
    };
}
macro_rules! statements {
    ($rest:literal) => {
        concat!(
            "/sql/v1/environments/{env}/regions/{region}/statements",
            $rest
        )
    };
}
macro_rules! idps {
    ($rest:literal) => {
        concat!("/iam/v2/identity-providers", $rest)
    };
}

macro_rules! route {
    ($method:literal, $template:expr, $audit:literal, $handler:path) => {
        Route {
            method: $method,
            template: $template,
            audit: $audit,
            handler: |f| on(f, $handler),
        }
    };
}

/// Every audited route, in the order the API reference lists them.
pub(crate) static TABLE: &[Route] = &[
    route!(
        "POST",
        connectors!(""),
        "CreateConnector",
        connectors::create
    ),
    route!("GET", connectors!(""), "GetConnectors", connectors::list),
    route!(
        "GET",
        connectors!("/{name}"),
        "GetConnector",
        connectors::get
    ),
    route!(
        "PUT",
        connectors!("/{name}/config"),
        "CreateOrUpdateConnector",
        connectors::put_config
    ),
    route!(
        "DELETE",
        connectors!("/{name}"),
        "DeleteConnector",
        connectors::delete
    ),
    route!(
        "PUT",
        connectors!("/{name}/pause"),
        "PauseConnector",
        connectors::pause
    ),
    route!(
        "PUT",
        connectors!("/{name}/resume"),
        "ResumeConnector",
        connectors::resume
    ),
    route!(
        "GET",
        "/fcpm/v2/environments/{env}/regions",
        "ListFlinkRegions",
        flink::list_regions
    ),
    route!("POST", pools!(""), "CreateComputePool", flink::create_pool),
    route!("GET", pools!(""), "ListComputePools", flink::list_pools),
    route!("GET", pools!("/{id}"), "GetComputePool", flink::get_pool),
    route!(
        "PATCH",
        pools!("/{id}"),
        "UpdateComputePool",
        flink::update_pool
    ),
    route!(
        "DELETE",
        pools!("/{id}"),
        "DeleteComputePool",
        flink::delete_pool
    ),
    route!(
        "POST",
        workspaces!(""),
        "CreateWorkspace",
        workspaces::create
    ),
    route!("GET", workspaces!(""), "ListWorkspaces", workspaces::list),
    route!(
        "GET",
        workspaces!("/{name}"),
        "GetWorkspace",
        workspaces::get
    ),
    route!(
        "PUT",
        workspaces!("/{name}"),
        "UpdateWorkspace",
        workspaces::update
    ),
    route!(
        "DELETE",
        workspaces!("/{name}"),
        "DeleteWorkspace",
        workspaces::delete
    ),
    route!(
        "POST",
        statements!(""),
        "CreateStatement",
        statements::create
    ),
    route!("GET", statements!(""), "ListStatements", statements::list),
    route!(
        "GET",
        statements!("/{name}"),
        "GetStatement",
        statements::get
    ),
    route!(
        "PUT",
        statements!("/{name}"),
        "UpdateStatement",
        statements::update
    ),
    route!(
        "PATCH",
        statements!("/{name}"),
        "PatchStatement",
        statements::patch
    ),
    route!(
        "DELETE",
        statements!("/{name}"),
        "DeleteStatement",
        statements::delete
    ),
    route!(
        "POST",
        idps!(""),
        "CreateIdentityProvider",
        identity::create_provider
    ),
    route!(
        "GET",
        idps!(""),
        "ListIdentityProvider",
        identity::list_providers
    ),
    route!(
        "GET",
        idps!("/{id}"),
        "GetIdentityProvider",
        identity::get_provider
    ),
    route!(
        "PATCH",
        idps!("/{id}"),
        "UpdateIdentityProvider",
        identity::update_provider
    ),
    route!(
        "DELETE",
        idps!("/{id}"),
        "DeleteIdentityProvider",
        identity::delete_provider
    ),
    route!(
        "POST",
        idps!("/{idp}/identity-pools"),
        "CreateIdentityPool",
        identity::create_pool
    ),
    route!(
        "GET",
        idps!("/{idp}/identity-pools"),
        "ListIdentityPool",
        identity::list_pools
    ),
    route!(
        "GET",
        idps!("/{idp}/identity-pools/{id}"),
        "GetIdentityPool",
        identity::get_pool
    ),
    route!(
        "PATCH",
        idps!("/{idp}/identity-pools/{id}"),
        "UpdateIdentityPool",
        identity::update_pool
    ),
    route!(
        "DELETE",
        idps!("/{idp}/identity-pools/{id}"),
        "DeleteIdentityPool",
        identity::delete_pool
    ),
];

static PUBLIC: LazyLock<Vec<(&'static str, &'static str, &'static str)>> = LazyLock::new(|| {
    TABLE
        .iter()
        .map(|r| (r.method, r.template, r.audit))
        .collect()
});

/// The route table as (HTTP method, route template, catalog method name).
pub fn routes() -> &'static [(&'static str, &'static str, &'static str)] {
    &PUBLIC
}

/// The catalog method a concrete request (`"GET"`, `/connect/v1/…/connectors/x`)
/// is audited as, by the same table the router uses; `None` if no route
/// matches. A query string is ignored.
pub fn method_for(http_method: &str, path: &str) -> Option<&'static str> {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let segs: Vec<&str> = path.split('/').collect();
    TABLE
        .iter()
        .filter(|r| r.method.eq_ignore_ascii_case(http_method))
        .find(|r| {
            let tpl: Vec<&str> = r.template.split('/').collect();
            tpl.len() == segs.len()
                && tpl.iter().zip(&segs).all(|(t, s)| {
                    if t.starts_with('{') && t.ends_with('}') {
                        !s.is_empty()
                    } else {
                        t == s
                    }
                })
        })
        .map(|r| r.audit)
}
