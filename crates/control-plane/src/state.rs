//! The in-memory estate: organizations › environments › clusters and Flink
//! resources, identity providers › pools; fresh ids and timestamps.

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use auditlog_model::Timestamp;

use crate::connectors::Connector;
use crate::flink::ComputePool;
use crate::identity::IdentityProvider;
use crate::seed::{Limits, Seed};
use crate::statements::Statement;
use crate::workspaces::Workspace;

/// Everything the control plane holds. One lock guards it all: calls are
/// short and never wait on I/O while holding it, and one lock keeps
/// cross-resource rules (task quotas, pools in use) trivially consistent.
#[derive(Debug)]
pub(crate) struct Store {
    pub orgs: BTreeMap<String, Org>,
    pub regions: Vec<String>,
    pub limits: Limits,
    /// Every id handed out, so a fresh id never repeats one (across types
    /// and organizations: audit records name resources by id).
    used_ids: HashSet<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Org {
    pub envs: BTreeMap<String, Env>,
    pub providers: BTreeMap<String, IdentityProvider>,
}

#[derive(Debug, Default)]
pub(crate) struct Env {
    pub clusters: BTreeMap<String, Cluster>,
    pub pools: BTreeMap<String, ComputePool>,
    /// Keyed by (Flink region, name): names are unique per region.
    pub workspaces: BTreeMap<(String, String), Workspace>,
    /// Keyed by (Flink region, name).
    pub statements: BTreeMap<(String, String), Statement>,
}

#[derive(Debug, Default)]
pub(crate) struct Cluster {
    /// Keyed by connector name, which is how the API addresses them.
    pub connectors: BTreeMap<String, Connector>,
}

impl Store {
    pub fn new(seed: &Seed) -> Store {
        let mut used_ids = HashSet::new();
        let mut orgs = BTreeMap::new();
        for o in &seed.organizations {
            let mut org = Org::default();
            for e in &o.environments {
                let mut env = Env::default();
                for c in &e.clusters {
                    env.clusters.insert(c.clone(), Cluster::default());
                    used_ids.insert(c.clone());
                }
                org.envs.insert(e.id.clone(), env);
                used_ids.insert(e.id.clone());
            }
            orgs.insert(o.id.clone(), org);
        }
        Store {
            orgs,
            regions: seed.flink_regions.clone(),
            limits: seed.limits,
            used_ids,
        }
    }

    /// A new id: `prefix` and `len` random characters, never handed out
    /// before. Identity ids mix case as Confluent's do (`op-V7vN`).
    pub fn fresh_id(&mut self, prefix: &str, len: usize, mixed_case: bool) -> String {
        const LOWER: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        const MIXED: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let alphabet = if mixed_case { MIXED } else { LOWER };
        loop {
            let mut bits = uuid::Uuid::new_v4().as_u128();
            let mut id = String::with_capacity(prefix.len() + len);
            id.push_str(prefix);
            for _ in 0..len {
                let radix = alphabet.len() as u128;
                let i = usize::try_from(bits % radix).unwrap_or(0);
                bits /= radix;
                id.push(char::from(alphabet.get(i).copied().unwrap_or(b'0')));
            }
            if self.used_ids.insert(id.clone()) {
                return id;
            }
        }
    }
}

/// Now, as RFC 3339 with nanoseconds (the `created_at` of resources).
pub(crate) fn now() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
        .unwrap_or(0);
    Timestamp::from_unix_nanos(nanos).to_rfc3339_nanos()
}

/// The CRN of a chain of (CRN key, id), as audit records name resources.
pub(crate) fn crn(parts: &[(&str, &str)]) -> String {
    let mut s = String::from("crn://confluent.cloud");
    for (k, v) in parts {
        s.push('/');
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}
