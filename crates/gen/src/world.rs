//! The simulated estate the generator draws from: organizations with their
//! environments, clusters, connectors, Flink resources, identity providers,
//! users and service accounts. Built once from the seed.

use crate::rng::Rng;

#[derive(Debug, Clone)]
pub struct World {
    pub orgs: Vec<Org>,
}

#[derive(Debug, Clone)]
pub struct Org {
    pub id: String,
    pub envs: Vec<Env>,
    pub providers: Vec<Provider>,
    pub users: Vec<User>,
    pub service_accounts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Env {
    pub id: String,
    pub clusters: Vec<Cluster>,
    pub regions: Vec<Region>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: String,
    pub connectors: Vec<Connector>,
}

#[derive(Debug, Clone)]
pub struct Connector {
    pub id: String,
    pub name: String,
    pub class: &'static str,
}

#[derive(Debug, Clone)]
pub struct Region {
    pub id: String,
    pub pools: Vec<String>,
    pub workspaces: Vec<String>,
    pub statements: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub pools: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
}

const REGIONS: &[&str] = &[
    "aws.us-east-1",
    "aws.us-west-2",
    "aws.eu-west-1",
    "gcp.us-central1",
    "azure.uksouth",
    "azure.eastus",
];
const CLASSES: &[&str] = &[
    "S3_SINK",
    "RedshiftSink",
    "DatagenSource",
    "PostgresCdcSource",
    "SnowflakeSink",
    "ElasticsearchSink",
];
const FIRST: &[&str] = &[
    "ana", "bo", "chen", "dara", "eli", "fatima", "gus", "hana", "ivan", "jo", "kai", "lena", "mo",
    "nia", "omar", "priya",
];
const DOMAINS: &[&str] = &["example.com", "acme.io", "globex.net", "initech.org"];

impl World {
    /// A world with `orgs` organizations.
    pub fn new(rng: &mut Rng, orgs: usize) -> World {
        let orgs = (0..orgs.max(1))
            .map(|_| {
                let domain = rng.pick(DOMAINS).copied().unwrap_or("example.com");
                Org {
                    id: rng.uuid(),
                    envs: (0..3).map(|_| Env::new(rng)).collect(),
                    providers: (0..2)
                        .map(|_| Provider {
                            id: format!("op-{}", rng.id(4)),
                            pools: (0..3).map(|_| format!("pool-{}", rng.id(4))).collect(),
                        })
                        .collect(),
                    users: (0..12)
                        .map(|_| {
                            let name = rng.pick(FIRST).copied().unwrap_or("user");
                            User {
                                id: format!("u-{}", rng.id(6)),
                                email: format!("{name}.{}@{domain}", rng.id(3)),
                            }
                        })
                        .collect(),
                    service_accounts: (0..6).map(|_| format!("sa-{}", rng.id(6))).collect(),
                }
            })
            .collect();
        World { orgs }
    }
}

impl Env {
    fn new(rng: &mut Rng) -> Env {
        Env {
            id: format!("env-{}", rng.id(6)),
            clusters: (0..2)
                .map(|_| Cluster {
                    id: format!("lkc-{}", rng.id(6)),
                    connectors: (0..8)
                        .map(|_| {
                            let class = rng.pick(CLASSES).copied().unwrap_or("S3_SINK");
                            Connector {
                                id: format!("lcc-{}", rng.id(6)),
                                name: format!(
                                    "{}-{}",
                                    class.to_lowercase().replace('_', "-"),
                                    rng.id(4)
                                ),
                                class,
                            }
                        })
                        .collect(),
                })
                .collect(),
            regions: (0..2)
                .map(|_| Region {
                    id: rng
                        .pick(REGIONS)
                        .copied()
                        .unwrap_or("aws.us-east-1")
                        .to_owned(),
                    pools: (0..3).map(|_| format!("lfcp-{}", rng.id(6))).collect(),
                    workspaces: (0..4)
                        .map(|_| {
                            format!(
                                "workspace-2026-01-{:02}-{:06}",
                                1 + rng.below(28),
                                rng.below(240_000)
                            )
                        })
                        .collect(),
                    statements: (0..10)
                        .map(|_| format!("{}-{}", rng.hex(8), rng.hex(4)))
                        .collect(),
                })
                .collect(),
        }
    }
}
