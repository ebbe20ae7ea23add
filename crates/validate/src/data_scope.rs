//! Scope claims inside the free-form `request.data` and `result.data`:
//! organization and environment ids, and resource CRNs, that contradict the
//! record they sit in. These payloads carry no schema, so only members whose
//! name says what they hold are read, and list elements (which describe
//! other resources) are skipped.

use auditlog_model::path::Lazy;
use auditlog_model::record::{AuditData, Record};
use auditlog_model::{Crn, Json};

use crate::diagnostic::{Code, Diagnostic};

/// What a member name claims to hold.
enum Claim {
    Organization,
    Environment,
    ResourceCrn,
}

fn claim_of(key: &str) -> Option<Claim> {
    // Cheap rejection first: every claim name contains an 'i' or 'e'.
    if key.len() > 16 {
        return None;
    }
    let mut buf = [0u8; 16];
    let mut n = 0;
    for b in key.bytes().filter(|b| *b != b'_') {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b.to_ascii_lowercase();
            n += 1;
        }
    }
    match buf.get(..n)? {
        b"orgid" | b"orgresourceid" | b"organizationid" => Some(Claim::Organization),
        b"environmentid" | b"envid" => Some(Claim::Environment),
        b"resourcename" => Some(Claim::ResourceCrn),
        _ => None,
    }
}

struct Ctx<'a> {
    org: Option<&'a str>,
    env: Option<&'a str>,
    target: Option<&'a Crn>,
}

pub(crate) fn check(r: &Record, d: &AuditData, target: Option<&Crn>, out: &mut Vec<Diagnostic>) {
    let has_data = d.request.as_ref().is_some_and(|q| q.data.is_some())
        || d.result.as_ref().is_some_and(|q| q.data.is_some());
    if !has_data {
        return;
    }
    // The record's own scope: from its CRN, else from cloudResources.
    let (org_owned, env_owned);
    let (org, env) = match target {
        Some(t) if t.organization().is_some() => (t.organization(), t.environment()),
        _ => {
            org_owned = r.organization();
            env_owned = r.environment();
            (org_owned.as_deref(), env_owned.as_deref())
        }
    };
    let ctx = Ctx { org, env, target };
    let data = Lazy::ROOT.key("data");
    if let Some(v) = d.request.as_ref().and_then(|q| q.data.as_ref()) {
        walk(v, &data.key("request").key("data"), &ctx, 0, out);
    }
    if let Some(v) = d.result.as_ref().and_then(|q| q.data.as_ref()) {
        walk(v, &data.key("result").key("data"), &ctx, 0, out);
    }
}

/// Depth is bounded so hostile payloads cannot make this expensive.
const MAX_DEPTH: usize = 8;

fn walk(v: &Json, path: &Lazy<'_>, ctx: &Ctx<'_>, depth: usize, out: &mut Vec<Diagnostic>) {
    let Json::Object(o) = v else { return };
    if depth > MAX_DEPTH {
        return;
    }
    for (k, child) in o.iter() {
        match child {
            Json::String(s) if !s.is_empty() => {
                if let Some(claim) = claim_of(k) {
                    check_claim(&claim, s, &path.key(k), ctx, out);
                }
            }
            Json::Object(_) => walk(child, &path.key(k), ctx, depth + 1, out),
            _ => {}
        }
    }
}

fn check_claim(
    claim: &Claim,
    value: &str,
    path: &Lazy<'_>,
    ctx: &Ctx<'_>,
    out: &mut Vec<Diagnostic>,
) {
    match claim {
        Claim::Organization => {
            if let Some(org) = ctx.org.filter(|o| *o != value) {
                out.push(Diagnostic::new(
                    Code::DataScopeMismatch,
                    path.render(),
                    format!("names organization {value}, but the record is in organization {org}"),
                ));
            }
        }
        Claim::Environment => {
            if let Some(env) = ctx.env.filter(|e| *e != value) {
                out.push(Diagnostic::new(
                    Code::DataScopeMismatch,
                    path.render(),
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
                    path.render(),
                    format!("names the same resource with a different scope: {diff}"),
                ));
            }
        }
    }
}
