//! What a control plane starts with: organizations, environments, clusters,
//! Flink regions, principals and their roles, limits; and the demo estate.

use std::collections::BTreeSet;

use auditlog_sdk::Principal;

/// The starting estate and the principals that may act on it.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Organizations, each with its environments and clusters.
    pub organizations: Vec<OrgSeed>,
    /// Flink region ids (`aws.us-west-2`), offered in every environment.
    pub flink_regions: Vec<String>,
    /// Bearer tokens and whom they stand for.
    pub principals: Vec<PrincipalSeed>,
    /// Quotas.
    pub limits: Limits,
}

/// One organization.
#[derive(Debug, Clone)]
pub struct OrgSeed {
    /// A UUID, as Confluent's organization ids are.
    pub id: String,
    /// For people.
    pub name: String,
    /// Its environments.
    pub environments: Vec<EnvSeed>,
}

/// One environment.
#[derive(Debug, Clone)]
pub struct EnvSeed {
    /// `env-…`.
    pub id: String,
    /// For people.
    pub name: String,
    /// Kafka cluster ids (`lkc-…`) that connectors can be created on.
    pub clusters: Vec<String>,
}

/// A bearer token, the principal it authenticates and what it may do.
#[derive(Debug, Clone)]
pub struct PrincipalSeed {
    /// The bearer token (`demo-alice`).
    pub token: String,
    /// Who it is; `organization` says which organization it acts in.
    pub principal: Principal,
    /// What it may do there.
    pub role: Role,
}

/// What a principal may do in its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Everything, including organization-level identity resources.
    OrgAdmin,
    /// Connectors and Flink resources in these environments only.
    EnvironmentAdmin(BTreeSet<String>),
}

impl Role {
    /// Whether the role may act on resources in environment `env`.
    pub fn covers_environment(&self, env: &str) -> bool {
        match self {
            Role::OrgAdmin => true,
            Role::EnvironmentAdmin(envs) => envs.contains(env),
        }
    }

    /// Whether the role may manage organization-level resources.
    pub fn is_org_admin(&self) -> bool {
        matches!(self, Role::OrgAdmin)
    }
}

/// Quotas the control plane enforces (a breach is a 400, as Confluent's is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The sum of `tasks.max` over one cluster's connectors.
    pub tasks_per_cluster: u32,
    /// The largest `max_cfu` of one compute pool.
    pub max_cfu: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            tasks_per_cluster: 10,
            max_cfu: 50,
        }
    }
}

/// The demo organizations' ids.
pub const ACME_ORG: &str = "7c1f2a9e-4b3d-4e8a-9c61-2d5e8f0a1b37";
/// The second demo organization.
pub const GLOBEX_ORG: &str = "d4e6b8a0-2c1f-4a3b-8e5d-6f7a9b0c1d2e";

fn env(id: &str, name: &str, clusters: &[&str]) -> EnvSeed {
    EnvSeed {
        id: id.into(),
        name: name.into(),
        clusters: clusters.iter().map(|c| (*c).into()).collect(),
    }
}

fn envs(ids: &[&str]) -> Role {
    Role::EnvironmentAdmin(ids.iter().map(|e| (*e).into()).collect())
}

fn token(token: &str, principal: Principal, role: Role) -> PrincipalSeed {
    PrincipalSeed {
        token: token.into(),
        principal,
        role,
    }
}

impl Seed {
    /// Two organizations with two environments each, one or two clusters per
    /// environment, seven Flink regions and five principals:
    ///
    /// | token | principal | organization | role |
    /// |---|---|---|---|
    /// | `demo-alice` | user `u-al1ce7` alice@acme.example | Acme | OrgAdmin |
    /// | `demo-carol` | user `u-car0l4` carol@acme.example | Acme | EnvironmentAdmin of `env-acm3d2` |
    /// | `demo-ci-bot` | service account `sa-c1b0t5` | Acme | EnvironmentAdmin of both Acme environments |
    /// | `demo-bob` | user `u-b0b9x2` bob@globex.example | Globex | OrgAdmin |
    /// | `demo-deploy-bot` | service account `sa-dep10y` | Globex | EnvironmentAdmin of `env-gbx5s4` |
    pub fn demo() -> Seed {
        Seed {
            organizations: vec![
                OrgSeed {
                    id: ACME_ORG.into(),
                    name: "Acme".into(),
                    environments: vec![
                        env("env-acm3p1", "acme-prod", &["lkc-acp1x2", "lkc-acp7k9"]),
                        env("env-acm3d2", "acme-dev", &["lkc-acd4m8"]),
                    ],
                },
                OrgSeed {
                    id: GLOBEX_ORG.into(),
                    name: "Globex".into(),
                    environments: vec![
                        env("env-gbx5p3", "globex-prod", &["lkc-gbp2q6"]),
                        env(
                            "env-gbx5s4",
                            "globex-staging",
                            &["lkc-gbs8w1", "lkc-gbs3n5"],
                        ),
                    ],
                },
            ],
            flink_regions: [
                "aws.us-east-1",
                "aws.us-west-2",
                "aws.eu-west-1",
                "gcp.us-central1",
                "gcp.europe-west1",
                "azure.eastus",
                "azure.westeurope",
            ]
            .iter()
            .map(|r| (*r).into())
            .collect(),
            principals: vec![
                token(
                    "demo-alice",
                    Principal::user("u-al1ce7", ACME_ORG).with_email("alice@acme.example"),
                    Role::OrgAdmin,
                ),
                token(
                    "demo-carol",
                    Principal::user("u-car0l4", ACME_ORG).with_email("carol@acme.example"),
                    envs(&["env-acm3d2"]),
                ),
                token(
                    "demo-ci-bot",
                    Principal::service_account("sa-c1b0t5", ACME_ORG),
                    envs(&["env-acm3p1", "env-acm3d2"]),
                ),
                token(
                    "demo-bob",
                    Principal::user("u-b0b9x2", GLOBEX_ORG).with_email("bob@globex.example"),
                    Role::OrgAdmin,
                ),
                token(
                    "demo-deploy-bot",
                    Principal::service_account("sa-dep10y", GLOBEX_ORG),
                    envs(&["env-gbx5s4"]),
                ),
            ],
            limits: Limits::default(),
        }
    }
}
