//! Per resource type: which resource a method acts on, its scope chain and
//! CRN, and request/result bodies shaped like the reference examples
//! (connector configs with masked secrets, compute pool spec and status, …).

use auditlog_catalog::Method;
use auditlog_model::json::{Json, Object};

use crate::obj;
use crate::rng::Rng;
use crate::world::{Connector, Org};

/// The resource types this generator can shape.
pub fn supports(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "CONNECTOR"
            | "FLINK_REGION"
            | "COMPUTE_POOL"
            | "FLINK_WORKSPACE"
            | "STATEMENT"
            | "IDENTITY_PROVIDER"
            | "IDENTITY_POOL"
    )
}

/// What a record is about.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub crn: String,
    pub cloud_resource: Json,
    pub env: String,
    pub region: String,
    /// The resource's id or name.
    pub name: String,
    pub connector: Option<Connector>,
    pub pool: String,
    pub provider: String,
}

fn is_list(m: &Method) -> bool {
    m.name.starts_with("List") || m.name == "GetConnectors"
}

fn rref(ty: &str, id: &str) -> Json {
    obj([("type", Json::from(ty)), ("resourceId", Json::from(id))])
}

fn entry(scope: Vec<Json>, resource: Json) -> Json {
    if scope.is_empty() {
        obj([("resource", resource)])
    } else {
        obj([
            ("scope", obj([("resources", Json::Array(scope))])),
            ("resource", resource),
        ])
    }
}

/// Choose the resource `m` acts on within `org`.
pub fn target(rng: &mut Rng, org: &Org, m: &Method) -> Target {
    let o = format!("crn://confluent.cloud/organization={}", org.id);
    let org_ref = rref("ORGANIZATION", &org.id);
    let list = is_list(m);
    let env = rng.pick(&org.envs).cloned();
    let mut t = Target::default();
    match (m.resource_type.as_str(), env) {
        ("CONNECTOR", Some(env)) => {
            let cl = rng.pick(&env.clusters).cloned();
            let cl_id = cl.as_ref().map(|c| c.id.clone()).unwrap_or_default();
            let e = format!("{o}/environment={}/cloud-cluster={cl_id}", env.id);
            let scope = vec![org_ref, rref("ENVIRONMENT", &env.id)];
            t.env = env.id.clone();
            if list {
                t.crn = e;
                t.cloud_resource = entry(scope, rref("CLOUD_CLUSTER", &cl_id));
                t.name = cl_id;
            } else {
                let c = cl.and_then(|c| rng.pick(&c.connectors).cloned());
                let cid = c.as_ref().map(|c| c.id.clone()).unwrap_or_default();
                t.crn = format!("{e}/connector={cid}");
                let mut s = scope;
                s.push(rref("CLOUD_CLUSTER", &cl_id));
                t.cloud_resource = entry(s, rref("CONNECTOR", &cid));
                t.name = cid;
                t.connector = c;
            }
        }
        ("FLINK_REGION", _) => {
            t.crn = o;
            t.cloud_resource = entry(vec![], org_ref);
            t.name = org.id.clone();
        }
        ("COMPUTE_POOL" | "FLINK_WORKSPACE" | "STATEMENT", Some(env)) => {
            let region = rng.pick(&env.regions).cloned();
            let rid = region.as_ref().map(|r| r.id.clone()).unwrap_or_default();
            t.env = env.id.clone();
            t.region = rid.clone();
            let pools = region.as_ref().map(|r| r.pools.clone()).unwrap_or_default();
            t.pool = rng.pick(&pools).cloned().unwrap_or_default();
            let env_crn = format!("{o}/environment={}", env.id);
            let region_crn = format!("{env_crn}/flink-region={rid}");
            let scope = vec![
                org_ref.clone(),
                rref("ENVIRONMENT", &env.id),
                rref("FLINK_REGION", &rid),
            ];
            let (key, ty, names) = match m.resource_type.as_str() {
                "COMPUTE_POOL" => ("compute-pool", "COMPUTE_POOL", pools),
                "FLINK_WORKSPACE" => (
                    "flink-workspace",
                    "FLINK_WORKSPACE",
                    region.map(|r| r.workspaces).unwrap_or_default(),
                ),
                _ => (
                    "statement",
                    "STATEMENT",
                    region.map(|r| r.statements).unwrap_or_default(),
                ),
            };
            if list && ty == "COMPUTE_POOL" {
                t.crn = env_crn;
                t.cloud_resource = entry(vec![org_ref], rref("ENVIRONMENT", &env.id));
                t.name = env.id;
            } else if list {
                t.crn = region_crn;
                t.cloud_resource = entry(
                    vec![org_ref, rref("ENVIRONMENT", &env.id)],
                    rref("FLINK_REGION", &rid),
                );
                t.name = rid;
            } else {
                let name = rng.pick(&names).cloned().unwrap_or_default();
                t.crn = format!("{region_crn}/{key}={name}");
                t.cloud_resource = entry(scope, rref(ty, &name));
                t.name = name;
            }
        }
        ("IDENTITY_PROVIDER", _) => {
            let p = rng.pick(&org.providers).cloned();
            let pid = p.map(|p| p.id).unwrap_or_default();
            if list {
                t.crn = o;
                t.cloud_resource = entry(vec![], org_ref);
                t.name = org.id.clone();
            } else {
                t.crn = format!("{o}/identity-provider={pid}");
                t.cloud_resource = entry(vec![org_ref], rref("IDENTITY_PROVIDER", &pid));
                t.name = pid.clone();
            }
            t.provider = pid;
        }
        ("IDENTITY_POOL", _) => {
            let p = rng.pick(&org.providers).cloned();
            let pid = p.as_ref().map(|p| p.id.clone()).unwrap_or_default();
            let pool = p
                .and_then(|p| rng.pick(&p.pools).cloned())
                .unwrap_or_default();
            let prov = format!("{o}/identity-provider={pid}");
            if list {
                t.crn = prov;
                t.cloud_resource = entry(vec![org_ref], rref("IDENTITY_PROVIDER", &pid));
                t.name = pid.clone();
            } else {
                t.crn = format!("{prov}/identity-pool={pool}");
                t.cloud_resource = entry(
                    vec![org_ref, rref("IDENTITY_PROVIDER", &pid)],
                    rref("IDENTITY_POOL", &pool),
                );
                t.name = pool;
            }
            t.provider = pid;
        }
        _ => {
            t.crn = o;
            t.cloud_resource = entry(vec![], org_ref);
        }
    }
    t
}

const MASK: &str = "****************";

fn s(v: &str) -> Json {
    Json::from(v)
}

fn connector_configs(rng: &mut Rng, c: &Connector) -> Json {
    let mut o = Object::new();
    let region = ["us-west-2", "us-east-1", "eu-west-1"][rng.below(3)];
    let pairs: Vec<(&str, String)> = vec![
        ("connector.class", c.class.to_owned()),
        ("name", c.name.clone()),
        ("kafka.api.key", MASK.into()),
        ("kafka.api.secret", MASK.into()),
        (
            "kafka.endpoint",
            format!(
                "SASL_SSL://pkc-{}.{region}.aws.confluent.cloud:9092",
                rng.id(5)
            ),
        ),
        ("kafka.region", region.into()),
        ("kafka.dedicated", "false".into()),
        ("cloud.provider", "aws".into()),
        ("cloud.environment", "prod".into()),
        ("tasks.max", (1 + rng.below(4)).to_string()),
        ("topics", format!("orders-{}", rng.id(4))),
        (
            "input.data.format",
            ["AVRO", "JSON", "PROTOBUF"][rng.below(3)].into(),
        ),
        ("valid.kafka.api.key", "true".into()),
        ("aws.access.key.id", MASK.into()),
        ("aws.secret.access.key", MASK.into()),
        ("s3.bucket.name", format!("audit-sink-{}", rng.id(5))),
        ("s3.region", region.into()),
        ("time.interval", "HOURLY".into()),
        ("output.data.format", "JSON".into()),
        (
            "internal.kafka.endpoint",
            format!(
                "PLAINTEXT://kafka-0.kafka.pkc-{}.svc.cluster.local:9071",
                rng.id(5)
            ),
        ),
    ];
    for (k, v) in pairs {
        o.insert(k, Json::String(v));
    }
    Json::Object(o)
}

/// Request and result bodies for a successful call.
pub fn bodies(rng: &mut Rng, m: &Method, t: &Target, org: &Org) -> (Option<Json>, Option<Json>) {
    let name = m.name.as_str();
    let list = is_list(m);
    match m.resource_type.as_str() {
        "CONNECTOR" => {
            let Some(c) = &t.connector else {
                return (None, None);
            };
            let req = Some(obj([("name", s(&c.name))]));
            let res = matches!(
                name,
                "CreateConnector" | "CreateOrUpdateConnector" | "GetConnector"
            )
            .then(|| {
                obj([
                    ("name", s(&c.name)),
                    ("type", Json::from(2u64)),
                    ("user_configs", connector_configs(rng, c)),
                ])
            });
            (req, res)
        }
        "FLINK_REGION" => {
            let req = obj([
                ("BypassCache", Json::Bool(false)),
                ("Cloud", Json::from(0u64)),
                ("PageSize", Json::from(10u64)),
                ("PageToken", s("")),
                ("RegionName", s("")),
            ]);
            let regions = [
                "aws.us-east-1",
                "aws.us-west-2",
                "aws.eu-west-1",
                "gcp.us-central1",
                "azure.uksouth",
            ];
            let elements = regions
                .iter()
                .map(|r| {
                    obj([(
                        "fcpm_v_2_region",
                        obj([("id", s(r)), ("metadata", Json::Null)]),
                    )])
                })
                .collect();
            (Some(req), Some(obj([("elements", Json::Array(elements))])))
        }
        "COMPUTE_POOL" => {
            if list {
                let req = obj([
                    ("EnvironmentId", s(&t.env)),
                    ("PageSize", Json::from(10u64)),
                    ("PageToken", s("")),
                ]);
                let res = obj([("elements", Json::Array(vec![obj([("id", s(&t.pool))])]))]);
                return (Some(req), Some(res));
            }
            let max_cfu = Json::from([5u64, 10, 20, 50][rng.below(4)]);
            let cloud = t.region.split('.').next().unwrap_or("aws").to_uppercase();
            let spec = obj([
                (
                    "display_name",
                    s(&format!("{}.{}.{}", cloud, t.region, t.env)),
                ),
                ("environment", obj([("id", s(&t.env))])),
                ("max_cfu", max_cfu),
                ("region", s(t.region.split('.').nth(1).unwrap_or(""))),
            ]);
            let req = match name {
                "DeleteComputePool" | "GetComputePool" => {
                    obj([("environment_id", s(&t.env)), ("id", s(&t.name))])
                }
                _ => obj([("spec", spec.clone())]),
            };
            let res = (name != "DeleteComputePool").then(|| {
                let when = format!(
                    "2026-01-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                    1 + rng.below(28),
                    rng.below(24),
                    rng.below(60),
                    rng.below(60),
                    rng.below(1_000_000)
                );
                obj([
                    ("id", s(&t.name)),
                    (
                        "metadata",
                        obj([
                            ("resource_name", s(&t.crn)),
                            ("created_at", s(&when)),
                            ("updated_at", s(&when)),
                            ("deleted_at", Json::Null),
                        ]),
                    ),
                    ("spec", spec),
                    (
                        "status",
                        obj([
                            ("current_cfu", Json::from(rng.below(5) as u64)),
                            ("phase", s(["PROVISIONING", "PROVISIONED"][rng.below(2)])),
                        ]),
                    ),
                ])
            });
            (Some(req), res)
        }
        "FLINK_WORKSPACE" => {
            let mut req = Object::new();
            if !list {
                req.insert("workspace_name", s(&t.name));
            }
            req.insert("environment_id", s(&t.env));
            req.insert("org_resource_id", s(&org.id));
            if list {
                req.insert("page_size", Json::from(100u64));
            }
            let spec = obj([
                ("compute_pool", obj([("id", s(&t.pool))])),
                ("service_account", Json::Null),
            ]);
            if matches!(name, "CreateWorkspace" | "UpdateWorkspace") {
                req.insert("spec", spec.clone());
            }
            let one = |n: &str| {
                obj([
                    ("environment_id", s(&t.env)),
                    ("name", s(n)),
                    ("org_id", s(&org.id)),
                    ("spec", spec.clone()),
                ])
            };
            let res = match name {
                "DeleteWorkspace" => None,
                _ if list => Some(obj([(
                    "data",
                    Json::Array(vec![one(&format!("workspace-{}", rng.id(6)))]),
                )])),
                _ => Some(one(&t.name)),
            };
            (Some(Json::Object(req)), res)
        }
        "STATEMENT" => {
            let spec = obj([
                ("compute_pool_id", s(&t.pool)),
                ("name", s(&t.name)),
                ("principal", s(&format!("sa-{}", rng.id(6)))),
            ]);
            let mut req = Object::new();
            req.insert("environment_id", s(&t.env));
            req.insert("org_resource_id", s(&org.id));
            match name {
                "CreateStatement" | "UpdateStatement" => {
                    req.insert("spec", spec.clone());
                }
                "ListStatements" => {
                    req.insert("page_size", Json::from(100u64));
                }
                _ => {
                    req.insert("statement_name", s(&t.name));
                }
            }
            let one = obj([
                ("metadata", obj([("environment_id", s(&t.env))])),
                ("spec", spec),
            ]);
            let res = match name {
                "DeleteStatement" | "PatchStatement" => None,
                "ListStatements" => Some(obj([("data", Json::Array(vec![one]))])),
                _ => Some(one),
            };
            (Some(Json::Object(req)), res)
        }
        "IDENTITY_PROVIDER" | "IDENTITY_POOL" => {
            let display = if m.resource_type == "IDENTITY_POOL" {
                "identity-pools"
            } else {
                "identity-providers"
            };
            (
                Some(obj([
                    ("api_version", s("iam/v2")),
                    ("display_name", s(display)),
                    ("kind", s(name)),
                ])),
                None,
            )
        }
        _ => (None, None),
    }
}

/// An HTTP status and detail for a failed call, plausible for the method.
pub fn failure(rng: &mut Rng, m: &Method) -> (&'static str, &'static str) {
    let creates = m.name.starts_with("Create");
    let options: &[(&str, &str)] = if creates {
        &[
            ("400", "You have already used 3 task(s) of available 32 on your kafka cluster. To add more available tasks, contact your Confluent account manager."),
            ("409", "a resource with this name already exists"),
            ("403", "Forbidden Access"),
            ("500", "failed to set up the resource: internal error"),
        ]
    } else if m.name.starts_with("List") || m.name == "GetConnectors" {
        &[
            ("403", "Forbidden Access"),
            ("500", "unable to list resources: upstream unavailable"),
        ]
    } else {
        &[
            ("404", "resource not found"),
            ("403", "Forbidden Access"),
            ("400", "invalid request: field is read-only"),
            ("500", "internal error"),
        ]
    };
    options
        .get(rng.below(options.len()))
        .copied()
        .unwrap_or(("500", "internal error"))
}
