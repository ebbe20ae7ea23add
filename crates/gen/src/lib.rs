//! The workload generator: realistic, valid and varied audit-log records,
//! modelled on the reference examples. Every catalog method appears, with
//! successes and failures, across several organizations, environments and
//! principals, with realistic time spacing, in both wire forms. The same seed
//! always gives the same records.

mod payloads;
mod rng;
mod world;

use auditlog_catalog::{AccessType, Catalog, Method};
use auditlog_model::json::{to_canonical, Json, Object};
use auditlog_model::record::Form;
use auditlog_model::{Record, Timestamp};

pub use rng::Rng;
use world::{Org, World};

/// Tunables for a generated workload.
#[derive(Debug, Clone)]
pub struct Config {
    /// Deterministic seed.
    pub seed: u64,
    /// Organizations (tenants) in the simulated estate.
    pub organizations: usize,
    /// Share of failed requests.
    pub failure_rate: f64,
    /// Share of records written in the snake_case `AuditLog.v2` form.
    pub snake_rate: f64,
    /// Time of the first record, nanoseconds since the epoch.
    pub start_nanos: i128,
    /// Mean gap between records, in milliseconds (exponentially distributed).
    pub mean_gap_ms: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 1,
            organizations: 5,
            failure_rate: 0.12,
            snake_rate: 0.1,
            // 2026-01-01T00:00:00Z
            start_nanos: 1_767_225_600_000_000_000,
            mean_gap_ms: 50.0,
        }
    }
}

/// An endless, deterministic stream of records.
#[derive(Debug)]
pub struct Generator {
    cfg: Config,
    rng: Rng,
    world: World,
    methods: Vec<Method>,
    now: i128,
    count: u64,
}

impl Generator {
    /// A generator over the built-in catalog.
    pub fn new(cfg: Config) -> Generator {
        Generator::with_catalog(cfg, Catalog::builtin())
    }

    /// A generator over `catalog`'s methods that this generator can shape
    /// (the Confluent Cloud request methods).
    pub fn with_catalog(cfg: Config, catalog: &Catalog) -> Generator {
        let mut rng = Rng::new(cfg.seed);
        let world = World::new(&mut rng, cfg.organizations);
        let methods = catalog
            .methods()
            .iter()
            .filter(|m| payloads::supports(&m.resource_type))
            .cloned()
            .collect();
        let now = cfg.start_nanos;
        Generator {
            cfg,
            rng,
            world,
            methods,
            now,
            count: 0,
        }
    }

    /// The next record as a JSON value.
    pub fn next_value(&mut self) -> Json {
        // Cycle through every method first so even tiny workloads cover the
        // catalog, then pick at random.
        let n = self.methods.len().max(1);
        let i = if (self.count as usize) < n {
            self.count as usize
        } else {
            self.rng.below(n)
        };
        self.count += 1;
        let gap = -self.cfg.mean_gap_ms * (1.0 - self.rng.unit()).ln();
        self.now += (gap * 1e6) as i128;
        let org_i = self.rng.below(self.world.orgs.len());
        let fail = self.rng.chance(self.cfg.failure_rate);
        // Borrow the method and organization; only the rng is mutated.
        let (Some(method), Some(org)) = (self.methods.get(i), self.world.orgs.get(org_i)) else {
            return Json::Null;
        };
        let v = record(&mut self.rng, self.now, method, org, fail);
        if self.rng.chance(self.cfg.snake_rate) {
            if let Ok(mut r) = Record::from_json_value(v.clone()) {
                r.dataschema = Some("https://confluent.io/internal/events/AuditLog.v2".into());
                return r.with_form(Form::Snake).to_json_value(Form::Snake);
            }
        }
        v
    }

    /// The next record in canonical bytes.
    pub fn next_bytes(&mut self) -> Vec<u8> {
        to_canonical(&self.next_value())
    }
}

/// Build one record.
fn record(rng: &mut Rng, now: i128, m: &Method, org: &Org, fail: bool) -> Json {
    {
        let target = payloads::target(rng, org, m);
        let (principal, principal_id, ip) = if rng.chance(0.7) {
            let u = rng
                .pick(&org.users)
                .cloned()
                .unwrap_or_else(|| world::User {
                    id: "u-000000".into(),
                    email: "a@example.com".into(),
                });
            let p = obj([
                ("email", Json::from(u.email.as_str())),
                (
                    "confluentUser",
                    obj([("resourceId", Json::from(u.id.as_str()))]),
                ),
            ]);
            let ip = format!(
                "{}.{}.{}.{}",
                20 + rng.below(180),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            );
            (p, u.id, ip)
        } else {
            let sa = rng
                .pick(&org.service_accounts)
                .cloned()
                .unwrap_or_else(|| "sa-000000".into());
            let p = obj([(
                "confluentServiceAccount",
                obj([("resourceId", Json::from(sa.as_str()))]),
            )]);
            let ip = if rng.chance(0.1) {
                format!(
                    "2001:db8:{:x}::{:x}",
                    rng.below(65536),
                    1 + rng.below(65535)
                )
            } else {
                format!(
                    "10.{}.{}.{}",
                    rng.below(256),
                    rng.below(256),
                    1 + rng.below(254)
                )
            };
            (p, sa, ip)
        };
        let request_id = rng.hex(32);
        let time = Timestamp::from_unix_nanos(now).to_rfc3339_nanos();
        let (req_data, res_data) = payloads::bodies(rng, m, &target, org);
        let result = if fail {
            let (status, detail) = payloads::failure(rng, m);
            obj([
                ("status", Json::from("FAILURE")),
                (
                    "data",
                    obj([(
                        "errors",
                        Json::Array(vec![obj([
                            ("id", Json::from(request_id.as_str())),
                            ("status", Json::from(status)),
                            ("detail", Json::from(detail)),
                            ("source", Json::Object(Object::new())),
                        ])]),
                    )]),
                ),
            ])
        } else {
            let mut r = Object::new();
            r.insert("status", Json::from("SUCCESS"));
            if let Some(d) = res_data {
                r.insert("data", d);
            }
            Json::Object(r)
        };
        let mut request = Object::new();
        request.insert(
            "accessType",
            Json::from(if m.access_type == AccessType::ReadOnly {
                "READ_ONLY"
            } else {
                "MODIFICATION"
            }),
        );
        if let Some(d) = req_data {
            request.insert("data", d);
        }
        let crn = target.crn.clone();
        let identity = format!("crn://confluent.cloud/organization={}/identity-provider=Confluent/identity={principal_id}", org.id);
        let data = obj([
            ("serviceName", Json::from("crn://confluent.cloud/")),
            ("methodName", Json::from(m.name.as_str())),
            (
                "cloudResources",
                Json::Array(vec![target.cloud_resource.clone()]),
            ),
            (
                "authenticationInfo",
                obj([
                    ("principal", principal),
                    ("result", Json::from("SUCCESS")),
                    ("identity", Json::from(identity.as_str())),
                ]),
            ),
            (
                "requestMetadata",
                obj([
                    (
                        "requestId",
                        Json::Array(vec![Json::from(request_id.as_str())]),
                    ),
                    (
                        "clientAddress",
                        Json::Array(vec![obj([("ip", Json::from(ip.as_str()))])]),
                    ),
                ]),
            ),
            ("request", Json::Object(request)),
            ("result", result),
            ("resourceName", Json::from(crn.as_str())),
        ]);
        obj([
            ("specversion", Json::from("1.0")),
            ("id", Json::from(rng.uuid().as_str())),
            ("source", Json::from("crn://confluent.cloud/")),
            ("type", Json::from(m.event_type.as_str())),
            ("datacontenttype", Json::from("application/json")),
            ("subject", Json::from(crn.as_str())),
            ("time", Json::from(time.as_str())),
            ("data", data),
        ])
    }
}

impl Iterator for Generator {
    type Item = Vec<u8>;
    fn next(&mut self) -> Option<Vec<u8>> {
        Some(self.next_bytes())
    }
}

/// An object from `(key, value)` pairs.
pub(crate) fn obj<const N: usize>(pairs: [(&str, Json); N]) -> Json {
    let mut o = Object::with_capacity(N);
    for (k, v) in pairs {
        o.insert(k, v);
    }
    Json::Object(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a: Vec<_> = Generator::new(Config::default()).take(50).collect();
        let b: Vec<_> = Generator::new(Config::default()).take(50).collect();
        assert_eq!(a, b);
        let c: Vec<_> = Generator::new(Config {
            seed: 2,
            ..Config::default()
        })
        .take(50)
        .collect();
        assert_ne!(a, c);
    }
}
