//! The workload's script: per organization, the connector, Flink and
//! identity lifecycles with their failures, then random reads.

use serde_json::json;

use super::{Actor, Body, Driver, Options};
use crate::errors::WorkloadError;
use crate::seed::{EnvSeed, OrgSeed, Role, Seed};

pub(super) fn run(d: &mut Driver<'_>, seed: &Seed, options: &Options) -> Result<(), WorkloadError> {
    let actors: Vec<Actor> = seed
        .principals
        .iter()
        .map(|p| Actor {
            token: p.token.clone(),
            id: p.principal.id.clone(),
            org: p.principal.organization.clone(),
            role: p.role.clone(),
        })
        .collect();
    let mut forbidden_done = false;
    for (i, org) in seed.organizations.iter().enumerate() {
        let cast = Cast::of(d, org, &actors)?;
        let tag = d.rng.tag(6);
        connectors(d, seed, &cast, &tag)?;
        flink(d, seed, &cast, &tag, i % 2 == 0)?;
        identity(d, &cast, &tag)?;
        forbidden_done |= forbidden(d, org, &cast)?;
    }
    if !forbidden_done {
        return Err(WorkloadError::Seed(
            "no environment-scoped principal lacks an environment that has a cluster, so no 403 can be shown".into(),
        ));
    }
    reads(d, seed, &actors, options.rounds)
}

/// Who acts in one organization, and where.
struct Cast<'s> {
    admin: Actor,
    /// An environment-scoped principal (the admin if there is none).
    worker: Actor,
    /// An environment with a cluster that `worker` may act in.
    worker_env: &'s EnvSeed,
    /// Another environment with a cluster (or `worker_env`).
    other_env: &'s EnvSeed,
    /// Every principal of the organization.
    members: Vec<Actor>,
}

impl<'s> Cast<'s> {
    fn of(
        d: &mut Driver<'_>,
        org: &'s OrgSeed,
        actors: &[Actor],
    ) -> Result<Cast<'s>, WorkloadError> {
        let members: Vec<Actor> = actors.iter().filter(|a| a.org == org.id).cloned().collect();
        let admin = members
            .iter()
            .find(|a| a.role.is_org_admin())
            .cloned()
            .ok_or_else(|| {
                WorkloadError::Seed(format!("organization {} has no OrgAdmin principal", org.id))
            })?;
        let with_clusters: Vec<&EnvSeed> = org
            .environments
            .iter()
            .filter(|e| !e.clusters.is_empty())
            .collect();
        if with_clusters.is_empty() {
            return Err(WorkloadError::Seed(format!(
                "organization {} has no environment with a cluster",
                org.id
            )));
        }
        let scoped: Vec<(&Actor, Vec<&EnvSeed>)> = members
            .iter()
            .filter(|a| !a.role.is_org_admin())
            .map(|a| {
                let envs = with_clusters
                    .iter()
                    .copied()
                    .filter(|e| a.role.covers_environment(&e.id))
                    .collect();
                (a, envs)
            })
            .filter(|(_, envs): &(&Actor, Vec<&EnvSeed>)| !envs.is_empty())
            .collect();
        let (worker, worker_env) = match d.rng.pick(&scoped) {
            Some((a, envs)) => ((*a).clone(), *d.rng.pick(envs).unwrap_or(&with_clusters[0])),
            None => (
                admin.clone(),
                *d.rng.pick(&with_clusters).unwrap_or(&with_clusters[0]),
            ),
        };
        let others: Vec<&EnvSeed> = with_clusters
            .iter()
            .copied()
            .filter(|e| e.id != worker_env.id)
            .collect();
        let other_env = d.rng.pick(&others).copied().unwrap_or(worker_env);
        Ok(Cast {
            admin,
            worker,
            worker_env,
            other_env,
            members,
        })
    }
}

fn connector_config(name: &str, class: &str, tasks: u32) -> serde_json::Value {
    json!({
        "name": name,
        "connector.class": class,
        "tasks.max": tasks.to_string(),
        "kafka.auth.mode": "KAFKA_API_KEY",
        "kafka.api.key": "AKIAWORKLOAD00001",
        "kafka.api.secret": "workload-secret-do-not-log",
        "aws.access.key.id": "AKIAEXAMPLEKEY",
        "aws.secret.access.key": "workload-aws-secret",
        "topics": format!("orders-{name}"),
        "input.data.format": "JSON",
        "s3.bucket.name": "audit-sink",
        "time.interval": "HOURLY",
    })
}

/// Create, list, get, configure, pause, resume and delete connectors, with
/// 409, the task quota, a malformed body and 404s.
fn connectors(
    d: &mut Driver<'_>,
    seed: &Seed,
    c: &Cast<'_>,
    tag: &str,
) -> Result<(), WorkloadError> {
    let limit = seed.limits.tasks_per_cluster;
    let w = &c.worker;
    let cluster = d
        .rng
        .pick(&c.worker_env.clusters)
        .cloned()
        .unwrap_or_default();
    let base = format!(
        "/connect/v1/environments/{}/clusters/{cluster}/connectors",
        c.worker_env.id
    );
    let s3 = format!("s3-sink-{tag}");
    let datagen = format!("datagen-source-{tag}");
    let missing = format!("missing-{tag}");

    let body = json!({"name": s3, "config": connector_config(&s3, "S3_SINK", 2)});
    d.call(
        w,
        "CreateConnector",
        "POST",
        &base,
        Body::Json(body.clone()),
        201,
    )?;
    d.call(w, "CreateConnector", "POST", &base, Body::Json(body), 409)?;
    let over = format!("over-quota-{tag}");
    let body = json!({"name": over, "config": connector_config(&over, "S3_SINK", limit.saturating_sub(1))});
    d.call(w, "CreateConnector", "POST", &base, Body::Json(body), 400)?;
    d.call(
        w,
        "CreateConnector",
        "POST",
        &base,
        Body::Raw("{\"name\": \"broken\", "),
        400,
    )?;
    d.call(w, "GetConnectors", "GET", &base, Body::None, 200)?;
    d.call(
        w,
        "GetConnector",
        "GET",
        &format!("{base}/{s3}"),
        Body::None,
        200,
    )?;
    d.call(
        w,
        "GetConnector",
        "GET",
        &format!("{base}/{missing}"),
        Body::None,
        404,
    )?;

    let config = format!("{base}/{datagen}/config");
    let dg = |tasks| Body::Json(connector_config(&datagen, "DatagenSource", tasks));
    d.call(w, "CreateOrUpdateConnector", "PUT", &config, dg(1), 201)?;
    d.call(w, "CreateOrUpdateConnector", "PUT", &config, dg(3), 200)?;
    d.call(w, "CreateOrUpdateConnector", "PUT", &config, dg(limit), 400)?;

    d.call(
        w,
        "PauseConnector",
        "PUT",
        &format!("{base}/{s3}/pause"),
        Body::None,
        202,
    )?;
    d.call(
        w,
        "PauseConnector",
        "PUT",
        &format!("{base}/{missing}/pause"),
        Body::None,
        404,
    )?;
    d.call(
        w,
        "ResumeConnector",
        "PUT",
        &format!("{base}/{s3}/resume"),
        Body::None,
        202,
    )?;
    d.call(
        w,
        "ResumeConnector",
        "PUT",
        &format!("{base}/{missing}/resume"),
        Body::None,
        404,
    )?;
    let nowhere = format!(
        "/connect/v1/environments/{}/clusters/lkc-zz{tag}/connectors",
        c.worker_env.id
    );
    d.call(w, "GetConnectors", "GET", &nowhere, Body::None, 404)?;

    d.call(
        w,
        "DeleteConnector",
        "DELETE",
        &format!("{base}/{datagen}"),
        Body::None,
        204,
    )?;
    d.call(
        w,
        "DeleteConnector",
        "DELETE",
        &format!("{base}/{datagen}"),
        Body::None,
        404,
    )?;
    d.call(
        w,
        "GetConnector",
        "GET",
        &format!("{base}/{datagen}"),
        Body::None,
        404,
    )?;
    d.call(
        w,
        "DeleteConnector",
        "DELETE",
        &format!("{base}/{s3}"),
        Body::None,
        204,
    )?;

    // The administrator works in another environment too.
    let a = &c.admin;
    let cluster = d
        .rng
        .pick(&c.other_env.clusters)
        .cloned()
        .unwrap_or_default();
    let base = format!(
        "/connect/v1/environments/{}/clusters/{cluster}/connectors",
        c.other_env.id
    );
    let rs = format!("redshift-sink-{tag}");
    let mut config = connector_config(&rs, "RedshiftSink", 1);
    config["aws.redshift.password"] = json!("workload-redshift-password");
    d.call(
        a,
        "CreateConnector",
        "POST",
        &base,
        Body::Json(json!({"name": rs, "config": config})),
        201,
    )?;
    d.call(
        a,
        "GetConnector",
        "GET",
        &format!("{base}/{rs}"),
        Body::None,
        200,
    )?;
    d.call(
        a,
        "DeleteConnector",
        "DELETE",
        &format!("{base}/{rs}"),
        Body::None,
        204,
    )?;
    Ok(())
}

/// Regions, then a compute pool, a workspace and a statement through their
/// lifecycles, with 400s, 404s and 409s. By the administrator in another
/// environment when `by_admin`, else by the worker in theirs.
fn flink(
    d: &mut Driver<'_>,
    seed: &Seed,
    c: &Cast<'_>,
    tag: &str,
    by_admin: bool,
) -> Result<(), WorkloadError> {
    let (who, env) = if by_admin {
        (&c.admin, &c.other_env.id)
    } else {
        (&c.worker, &c.worker_env.id)
    };
    let limit = seed.limits.max_cfu;
    let region = d
        .rng
        .pick(&seed.flink_regions)
        .cloned()
        .ok_or_else(|| WorkloadError::Seed("no Flink regions".into()))?;
    let (cloud, region_name) = region.split_once('.').ok_or_else(|| {
        WorkloadError::Seed(format!("Flink region {region:?} is not cloud.region"))
    })?;
    if limit < 2 {
        return Err(WorkloadError::Seed(
            "max_cfu limit below 2 leaves no room to grow a pool".into(),
        ));
    }

    d.call(
        who,
        "ListFlinkRegions",
        "GET",
        &format!("/fcpm/v2/environments/{env}/regions"),
        Body::None,
        200,
    )?;
    d.call(
        who,
        "ListFlinkRegions",
        "GET",
        &format!("/fcpm/v2/environments/env-zz{tag}/regions"),
        Body::None,
        404,
    )?;

    let pools = format!("/fcpm/v2/environments/{env}/compute-pools");
    let initial = limit.min(10);
    let spec = |name: &str, cfu: u32| json!({"spec": {"display_name": name, "cloud": cloud, "region": region_name, "max_cfu": cfu, "environment": {"id": env}}});
    let pool_name = format!("pool-{tag}");
    let pool = d.create(who, "CreateComputePool", &pools, spec(&pool_name, initial))?;
    d.call(
        who,
        "CreateComputePool",
        "POST",
        &pools,
        Body::Json(spec(&pool_name, initial)),
        409,
    )?;
    d.call(
        who,
        "CreateComputePool",
        "POST",
        &pools,
        Body::Json(spec(&format!("big-{tag}"), limit + 1)),
        400,
    )?;
    let no_region =
        json!({"spec": {"display_name": format!("partial-{tag}"), "cloud": cloud, "max_cfu": 1}});
    d.call(
        who,
        "CreateComputePool",
        "POST",
        &pools,
        Body::Json(no_region),
        400,
    )?;
    d.call(who, "ListComputePools", "GET", &pools, Body::None, 200)?;
    let one = format!("{pools}/{pool}");
    let none = format!("{pools}/lfcp-zz{tag}");
    d.call(who, "GetComputePool", "GET", &one, Body::None, 200)?;
    d.call(who, "GetComputePool", "GET", &none, Body::None, 404)?;
    let grow = json!({"spec": {"max_cfu": limit.min(20).max(initial)}});
    d.call(
        who,
        "UpdateComputePool",
        "PATCH",
        &one,
        Body::Json(grow),
        200,
    )?;
    let shrink = json!({"spec": {"max_cfu": initial - 1}});
    d.call(
        who,
        "UpdateComputePool",
        "PATCH",
        &one,
        Body::Json(shrink),
        400,
    )?;
    d.call(
        who,
        "UpdateComputePool",
        "PATCH",
        &none,
        Body::Json(json!({"spec": {"display_name": "x"}})),
        404,
    )?;

    let ws = format!("/ws/v1/environments/{env}/regions/{region}/workspaces");
    let ws_name = format!("workspace-{tag}");
    let ws_body =
        json!({"name": ws_name, "spec": {"compute_pool": {"id": pool}, "service_account": null}});
    d.call(
        who,
        "CreateWorkspace",
        "POST",
        &ws,
        Body::Json(ws_body.clone()),
        201,
    )?;
    d.call(
        who,
        "CreateWorkspace",
        "POST",
        &ws,
        Body::Json(ws_body.clone()),
        409,
    )?;
    let ws_nowhere = format!("/ws/v1/environments/{env}/regions/{cloud}.nowhere-9/workspaces");
    d.call(
        who,
        "CreateWorkspace",
        "POST",
        &ws_nowhere,
        Body::Json(ws_body),
        404,
    )?;
    d.call(who, "ListWorkspaces", "GET", &ws, Body::None, 200)?;
    d.call(who, "ListWorkspaces", "GET", &ws_nowhere, Body::None, 404)?;
    let ws_one = format!("{ws}/{ws_name}");
    let ws_none = format!("{ws}/missing-{tag}");
    d.call(who, "GetWorkspace", "GET", &ws_one, Body::None, 200)?;
    d.call(who, "GetWorkspace", "GET", &ws_none, Body::None, 404)?;
    let detach = json!({"spec": {"compute_pool": null, "service_account": null}});
    d.call(
        who,
        "UpdateWorkspace",
        "PUT",
        &ws_one,
        Body::Json(detach.clone()),
        200,
    )?;
    d.call(
        who,
        "UpdateWorkspace",
        "PUT",
        &ws_none,
        Body::Json(detach),
        404,
    )?;

    let st = format!("/sql/v1/environments/{env}/regions/{region}/statements");
    let st_name = format!("statement-{tag}");
    let st_body = |pool: &str| json!({"name": st_name, "spec": {"statement": "SELECT * FROM orders WHERE amount > 100;", "compute_pool_id": pool}});
    d.call(
        who,
        "CreateStatement",
        "POST",
        &st,
        Body::Json(st_body(&pool)),
        201,
    )?;
    d.call(
        who,
        "CreateStatement",
        "POST",
        &st,
        Body::Json(st_body(&pool)),
        409,
    )?;
    d.call(
        who,
        "CreateStatement",
        "POST",
        &st,
        Body::Json(st_body(&format!("lfcp-zz{tag}"))),
        400,
    )?;
    d.call(who, "ListStatements", "GET", &st, Body::None, 200)?;
    let st_nowhere = format!("/sql/v1/environments/{env}/regions/{cloud}.nowhere-9/statements");
    d.call(who, "ListStatements", "GET", &st_nowhere, Body::None, 404)?;
    let st_one = format!("{st}/{st_name}");
    let st_none = format!("{st}/missing-{tag}");
    d.call(who, "GetStatement", "GET", &st_one, Body::None, 200)?;
    d.call(who, "GetStatement", "GET", &st_none, Body::None, 404)?;
    let update = json!({"spec": {"compute_pool_id": pool, "principal": who.id, "stopped": false}});
    d.call(
        who,
        "UpdateStatement",
        "PUT",
        &st_one,
        Body::Json(update.clone()),
        200,
    )?;
    d.call(
        who,
        "UpdateStatement",
        "PUT",
        &st_none,
        Body::Json(update),
        404,
    )?;
    let stop = json!([{"op": "replace", "path": "/spec/stopped", "value": true}]);
    d.call(
        who,
        "PatchStatement",
        "PATCH",
        &st_one,
        Body::Json(stop.clone()),
        200,
    )?;
    d.call(
        who,
        "PatchStatement",
        "PATCH",
        &st_none,
        Body::Json(stop),
        404,
    )?;

    // A pool still running a statement cannot go.
    d.call(who, "DeleteComputePool", "DELETE", &one, Body::None, 409)?;
    d.call(who, "DeleteStatement", "DELETE", &st_one, Body::None, 204)?;
    d.call(who, "DeleteStatement", "DELETE", &st_one, Body::None, 404)?;
    d.call(who, "DeleteWorkspace", "DELETE", &ws_one, Body::None, 204)?;
    d.call(who, "DeleteWorkspace", "DELETE", &ws_one, Body::None, 404)?;
    d.call(who, "DeleteComputePool", "DELETE", &one, Body::None, 204)?;
    d.call(who, "DeleteComputePool", "DELETE", &one, Body::None, 404)?;
    Ok(())
}

/// An identity provider and pool through their lifecycles, by the
/// administrator, with 400s, 404s and 409s.
fn identity(d: &mut Driver<'_>, c: &Cast<'_>, tag: &str) -> Result<(), WorkloadError> {
    let a = &c.admin;
    let idps = "/iam/v2/identity-providers";
    let idp_body = json!({
        "display_name": format!("okta-{tag}"),
        "description": "workforce SSO",
        "issuer": format!("https://{tag}.okta.example/oauth2/default"),
        "jwks_uri": format!("https://{tag}.okta.example/oauth2/default/v1/keys"),
    });
    let idp = d.create(a, "CreateIdentityProvider", idps, idp_body.clone())?;
    d.call(
        a,
        "CreateIdentityProvider",
        "POST",
        idps,
        Body::Json(idp_body),
        409,
    )?;
    let no_issuer =
        json!({"display_name": format!("broken-{tag}"), "jwks_uri": "https://x.example/keys"});
    d.call(
        a,
        "CreateIdentityProvider",
        "POST",
        idps,
        Body::Json(no_issuer),
        400,
    )?;
    d.call(a, "ListIdentityProvider", "GET", idps, Body::None, 200)?;
    let one = format!("{idps}/{idp}");
    let none = format!("{idps}/op-zz{tag}");
    d.call(a, "GetIdentityProvider", "GET", &one, Body::None, 200)?;
    d.call(a, "GetIdentityProvider", "GET", &none, Body::None, 404)?;
    let describe = json!({"description": "workforce SSO (rotated keys)"});
    d.call(
        a,
        "UpdateIdentityProvider",
        "PATCH",
        &one,
        Body::Json(describe.clone()),
        200,
    )?;
    d.call(
        a,
        "UpdateIdentityProvider",
        "PATCH",
        &none,
        Body::Json(describe),
        404,
    )?;

    let pools = format!("{one}/identity-pools");
    let pool_body = json!({"display_name": format!("engineering-{tag}"), "identity_claim": "claims.sub", "filter": "claims.group == \"eng\""});
    let pool = d.create(a, "CreateIdentityPool", &pools, pool_body.clone())?;
    let no_filter =
        json!({"display_name": format!("partial-{tag}"), "identity_claim": "claims.sub"});
    d.call(
        a,
        "CreateIdentityPool",
        "POST",
        &pools,
        Body::Json(no_filter),
        400,
    )?;
    d.call(
        a,
        "CreateIdentityPool",
        "POST",
        &format!("{none}/identity-pools"),
        Body::Json(pool_body),
        404,
    )?;
    d.call(a, "ListIdentityPool", "GET", &pools, Body::None, 200)?;
    d.call(
        a,
        "ListIdentityPool",
        "GET",
        &format!("{none}/identity-pools"),
        Body::None,
        404,
    )?;
    let p_one = format!("{pools}/{pool}");
    let p_none = format!("{pools}/pool-zz{tag}");
    d.call(a, "GetIdentityPool", "GET", &p_one, Body::None, 200)?;
    d.call(a, "GetIdentityPool", "GET", &p_none, Body::None, 404)?;
    let refilter = json!({"filter": "claims.group == \"eng\" && claims.email_verified"});
    d.call(
        a,
        "UpdateIdentityPool",
        "PATCH",
        &p_one,
        Body::Json(refilter.clone()),
        200,
    )?;
    d.call(
        a,
        "UpdateIdentityPool",
        "PATCH",
        &p_none,
        Body::Json(refilter),
        404,
    )?;
    d.call(a, "DeleteIdentityPool", "DELETE", &p_one, Body::None, 204)?;
    d.call(a, "DeleteIdentityPool", "DELETE", &p_one, Body::None, 404)?;
    d.call(a, "DeleteIdentityProvider", "DELETE", &one, Body::None, 204)?;
    d.call(a, "DeleteIdentityProvider", "DELETE", &one, Body::None, 404)?;
    Ok(())
}

/// 403s: an environment-scoped principal in an environment it lacks, and at
/// the organization's identity providers. Whether any could be shown.
fn forbidden(d: &mut Driver<'_>, org: &OrgSeed, c: &Cast<'_>) -> Result<bool, WorkloadError> {
    let mut shown = false;
    for who in c.members.iter().filter(|a| !a.role.is_org_admin()) {
        let Some(env) = org
            .environments
            .iter()
            .find(|e| !e.clusters.is_empty() && !who.role.covers_environment(&e.id))
        else {
            continue;
        };
        let cluster = d.rng.pick(&env.clusters).cloned().unwrap_or_default();
        let base = format!(
            "/connect/v1/environments/{}/clusters/{cluster}/connectors",
            env.id
        );
        let name = format!("sneaky-{}", d.rng.tag(4));
        let body = json!({"name": name, "config": connector_config(&name, "S3_SINK", 1)});
        d.call(who, "CreateConnector", "POST", &base, Body::Json(body), 403)?;
        d.call(who, "GetConnectors", "GET", &base, Body::None, 403)?;
        let pools = format!("/fcpm/v2/environments/{}/compute-pools", env.id);
        d.call(who, "ListComputePools", "GET", &pools, Body::None, 403)?;
        d.call(
            who,
            "ListIdentityProvider",
            "GET",
            "/iam/v2/identity-providers",
            Body::None,
            403,
        )?;
        shown = true;
        break;
    }
    Ok(shown)
}

/// Random reads by random principals, each expecting what its role allows.
fn reads(
    d: &mut Driver<'_>,
    seed: &Seed,
    actors: &[Actor],
    rounds: usize,
) -> Result<(), WorkloadError> {
    for _ in 0..rounds {
        let Some(who) = d.rng.pick(actors).cloned() else {
            return Ok(());
        };
        let Some(org) = seed.organizations.iter().find(|o| o.id == who.org) else {
            continue;
        };
        let Some(env) = d.rng.pick(&org.environments) else {
            continue;
        };
        let allowed = if who.role.covers_environment(&env.id) {
            200
        } else {
            403
        };
        let e = &env.id;
        match d.rng.below(6) {
            0 => match d.rng.pick(&env.clusters).cloned() {
                Some(cl) => {
                    let path = format!("/connect/v1/environments/{e}/clusters/{cl}/connectors");
                    d.call(&who, "GetConnectors", "GET", &path, Body::None, allowed)?
                }
                None => continue,
            },
            1 => d.call(
                &who,
                "ListFlinkRegions",
                "GET",
                &format!("/fcpm/v2/environments/{e}/regions"),
                Body::None,
                allowed,
            )?,
            2 => d.call(
                &who,
                "ListComputePools",
                "GET",
                &format!("/fcpm/v2/environments/{e}/compute-pools"),
                Body::None,
                allowed,
            )?,
            3 | 4 => {
                let Some(region) = d.rng.pick(&seed.flink_regions).cloned() else {
                    continue;
                };
                if d.rng.below(2) == 0 {
                    let path = format!("/ws/v1/environments/{e}/regions/{region}/workspaces");
                    d.call(&who, "ListWorkspaces", "GET", &path, Body::None, allowed)?
                } else {
                    let path = format!("/sql/v1/environments/{e}/regions/{region}/statements");
                    d.call(&who, "ListStatements", "GET", &path, Body::None, allowed)?
                }
            }
            _ => {
                let allowed = if matches!(who.role, Role::OrgAdmin) {
                    200
                } else {
                    403
                };
                d.call(
                    &who,
                    "ListIdentityProvider",
                    "GET",
                    "/iam/v2/identity-providers",
                    Body::None,
                    allowed,
                )?
            }
        };
    }
    Ok(())
}
