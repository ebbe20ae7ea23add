//! Driving a running control plane over HTTP (blocking, ureq) through every
//! audited method, from several principals in both organizations: each
//! method succeeds at least once and, where it can meaningfully fail, fails
//! at least once (400, 403, 404, 409). The sequence is a function of the
//! seed and the options; ids the server hands out are read from its answers.

mod script;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

pub use crate::errors::WorkloadError;
use crate::routes::method_for;
use crate::seed::{Role, Seed};

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Seeds the choices (principals, environments, clusters, regions, names,
    /// request ids): the same seed gives the same sequence of calls.
    pub seed: u64,
    /// Extra rounds of random reads (lists) by random principals after the
    /// script, each expecting 200 or 403 from the principal's role.
    pub rounds: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seed: 1,
            rounds: 20,
        }
    }
}

/// One call the workload made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The catalog method the call is audited as (from the route table).
    pub method: &'static str,
    /// GET, POST, PUT, PATCH or DELETE.
    pub http_method: &'static str,
    /// The request path (and query).
    pub path: String,
    /// The acting principal's id (`u-…`, `sa-…`).
    pub principal: String,
    /// The principal's organization.
    pub organization: String,
    /// The HTTP status received.
    pub status: u16,
    /// The HTTP status the script expected.
    pub expected: u16,
    /// The `X-Request-Id` sent, which the audit record carries.
    pub request_id: String,
}

impl Call {
    /// Whether the status was 2xx.
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Calls, successes and failures of one method.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MethodCounts {
    /// Calls made.
    pub calls: usize,
    /// 2xx answers.
    pub successes: usize,
    /// Other answers, by status.
    pub failures: BTreeMap<u16, usize>,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Calls made.
    pub calls: usize,
    /// 2xx answers.
    pub successes: usize,
    /// Other answers, by status.
    pub failures: BTreeMap<u16, usize>,
    /// Per catalog method.
    pub by_method: BTreeMap<&'static str, MethodCounts>,
    /// Calls whose status was not the one expected (a fresh control plane
    /// gives none; leftovers of earlier runs can cause some).
    pub unexpected: Vec<Call>,
}

impl Summary {
    fn add(&mut self, c: &Call) {
        self.calls += 1;
        let m = self.by_method.entry(c.method).or_default();
        m.calls += 1;
        if c.succeeded() {
            self.successes += 1;
            m.successes += 1;
        } else {
            *self.failures.entry(c.status).or_default() += 1;
            *m.failures.entry(c.status).or_default() += 1;
        }
        if c.status != c.expected {
            self.unexpected.push(c.clone());
        }
    }
}

/// Run the workload against the control plane at `base_url`
/// (`http://127.0.0.1:8090`), started from `seed`. `report` sees each call
/// as it completes.
pub fn run(
    base_url: &str,
    seed: &Seed,
    options: &Options,
    mut report: impl FnMut(&Call),
) -> Result<Summary, WorkloadError> {
    let mut d = Driver {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            // A fresh connection per call: the script sends malformed and
            // refused requests on purpose, after which the server may close
            // a kept-alive connection that the pool would hand out again
            // (seen once in CI as "Peer disconnected" on the next call).
            .max_idle_connections(0)
            .build()
            .into(),
        base: base_url.trim_end_matches('/').to_owned(),
        rng: Rng(options.seed ^ 0x9e37_79b9_7f4a_7c15),
        summary: Summary::default(),
        report: &mut report,
    };
    script::run(&mut d, seed, options)?;
    Ok(d.summary)
}

/// Who makes a call.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub token: String,
    pub id: String,
    pub org: String,
    pub role: Role,
}

/// A request body.
pub(crate) enum Body {
    None,
    Json(Value),
    /// Sent as is (for malformed bodies).
    Raw(&'static str),
}

pub(crate) struct Driver<'r> {
    agent: ureq::Agent,
    base: String,
    pub rng: Rng,
    summary: Summary,
    report: &'r mut dyn FnMut(&Call),
}

impl Driver<'_> {
    /// Make one call as `who`, expecting `expected`; the JSON answer (or
    /// null). An unexpected status is recorded, not an error.
    pub fn call(
        &mut self,
        who: &Actor,
        method: &'static str,
        http_method: &'static str,
        path: &str,
        body: Body,
        expected: u16,
    ) -> Result<Value, WorkloadError> {
        let routed = method_for(http_method, path);
        if routed != Some(method) {
            return Err(WorkloadError::Script {
                http_method,
                path: path.to_owned(),
                intended: method,
                routed,
            });
        }
        let request_id = format!("{:016x}{:016x}", self.rng.next(), self.rng.next());
        let builder = ureq::http::Request::builder()
            .method(http_method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", who.token))
            .header("x-request-id", &request_id);
        let http_err = |e: ureq::Error| WorkloadError::Http {
            http_method,
            path: path.to_owned(),
            source: Box::new(e),
        };
        let built = match body {
            Body::None => builder.body(()).map(|r| self.agent.run(r)),
            Body::Json(v) => builder
                .header("content-type", "application/json")
                .body(v.to_string().into_bytes())
                .map(|r| self.agent.run(r)),
            Body::Raw(s) => builder
                .header("content-type", "application/json")
                .body(s.as_bytes().to_vec())
                .map(|r| self.agent.run(r)),
        };
        let mut resp = built
            .map_err(|e| http_err(ureq::Error::from(e)))?
            .map_err(http_err)?;
        let status = resp.status().as_u16();
        let bytes = resp.body_mut().read_to_vec().map_err(http_err)?;
        let call = Call {
            method,
            http_method,
            path: path.to_owned(),
            principal: who.id.clone(),
            organization: who.org.clone(),
            status,
            expected,
            request_id,
        };
        self.summary.add(&call);
        (self.report)(&call);
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    /// [`Driver::call`] for a create whose answer's `id` later steps need.
    pub fn create(
        &mut self,
        who: &Actor,
        method: &'static str,
        path: &str,
        body: Value,
    ) -> Result<String, WorkloadError> {
        let v = self.call(who, method, "POST", path, Body::Json(body), 201)?;
        match v.get("id").and_then(Value::as_str) {
            Some(id) => Ok(id.to_owned()),
            None => Err(WorkloadError::Response {
                http_method: "POST",
                path: path.to_owned(),
                field: "id",
                body: v.to_string(),
            }),
        }
    }
}

/// splitmix64: small, seedable, good enough to pick among a few options.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// An index below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next() % n as u64).unwrap_or(0)
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = self.below(items.len());
        items.get(i)
    }

    /// `n` lower-case letters and digits, for names.
    pub fn tag(&mut self, n: usize) -> String {
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| char::from(A.get(self.below(A.len())).copied().unwrap_or(b'a')))
            .collect()
    }
}
