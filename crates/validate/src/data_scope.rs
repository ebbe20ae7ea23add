//! Scope claims inside the free-form `request.data` and `result.data`:
//! organization and environment ids, and resource CRNs, that contradict the
//! record they sit in. These payloads carry no schema, so only members whose
//! name says what they hold are read.

use auditlog_model::record::{AuditData, Record};
use auditlog_model::{Crn, Json};

use crate::at;
use crate::diagnostic::{Code, Diagnostic};
use crate::payload::index;

/// What a member name claims to hold.
enum Claim {
    Organization,
    Environment,
    ResourceCrn,
}

fn claim_of(key: &str) -> Option<Claim> {
    let k: String = key
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    match k.as_str() {
        "orgid" | "orgresourceid" | "organizationid" => Some(Claim::Organization),
        "environmentid" | "envid" => Some(Claim::Environment),
        "resourcename" => Some(Claim::ResourceCrn),
        _ => None,
    }
}

pub(crate) fn check(r: &Record, d: &AuditData, target: Option<&Crn>, out: &mut Vec<Diagnostic>) {
    let org = r.organization();
    let env = r.environment();
    let ctx = Ctx {
        org: org.as_deref(),
        env: env.as_deref(),
        target,
    };
    if let Some(req) = d.request.as_ref() {
        if let Some(data) = req.data.as_ref() {
            walk(data, &at(&at("$.data", "request"), "data"), &ctx, 0, out);
        }
    }
    if let Some(res) = d.result.as_ref() {
        if let Some(data) = res.data.as_ref() {
            walk(data, &at(&at("$.data", "result"), "data"), &ctx, 0, out);
        }
    }
}

struct Ctx<'a> {
    org: Option<&'a str>,
    env: Option<&'a str>,
    target: Option<&'a Crn>,
}

/// Lists of other resources (list results) legitimately name other scopes;
/// depth is bounded so hostile payloads cannot make this expensive.
const MAX_DEPTH: usize = 8;

fn walk(v: &Json, path: &str, ctx: &Ctx<'_>, depth: usize, out: &mut Vec<Diagnostic>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Json::Object(o) => {
            for (k, child) in o.iter() {
                let p = at(path, k);
                if let (Some(claim), Json::String(s)) = (claim_of(k), child) {
                    if !s.is_empty() {
                        check_claim(&claim, s, &p, ctx, out);
                    }
                }
                walk(child, &p, ctx, depth + 1, out);
            }
        }
        Json::Array(items) => {
            // Elements of a list result describe other resources; skip them.
            let _ = items;
        }
        _ => {}
    }
    let _ = index;
}

fn check_claim(claim: &Claim, value: &str, path: &str, ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    match claim {
        Claim::Organization => {
            if let Some(org) = ctx.org.filter(|o| *o != value) {
                out.push(Diagnostic::new(
                    Code::DataScopeMismatch,
                    path,
                    format!("names organization {value}, but the record is in organization {org}"),
                ));
            }
        }
        Claim::Environment => {
            if let Some(env) = ctx.env.filter(|e| *e != value) {
                out.push(Diagnostic::new(
                    Code::DataScopeMismatch,
                    path,
                    format!("names environment {value}, but the record is in environment {env}"),
                ));
            }
        }
        Claim::ResourceCrn => {
            let (Ok(c), Some(t)) = (Crn::parse(value), ctx.target) else {
                return;
            };
            // Same resource (same innermost segment) reached by a different path.
            if c.leaf() == t.leaf() && c != *t {
                let diff = c
                    .segments()
                    .iter()
                    .zip(t.segments())
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| {
                        format!(
                            "{}={} where the record has {}={}",
                            a.key, a.value, b.key, b.value
                        )
                    })
                    .unwrap_or_else(|| format!("{c} where the record has {t}"));
                out.push(Diagnostic::new(
                    Code::DataScopeMismatch,
                    path,
                    format!("names the same resource with a different scope: {diff}"),
                ));
            }
        }
    }
}
