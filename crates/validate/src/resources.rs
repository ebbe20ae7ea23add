//! Resource consistency: CRNs parse; `subject` agrees with `resourceName`;
//! `cloudResources` scope chains agree with the CRNs and follow the catalog's
//! hierarchy; the identity matches the principal and organization.

use auditlog_catalog::Catalog;
use auditlog_model::record::Form;
use auditlog_model::record::{AuditData, Principal, Record, ToJson};
use auditlog_model::Crn;

use crate::at;
use crate::diagnostic::{Code, Diagnostic};
use crate::payload::index;

/// Parse a CRN member, reporting `invalid_crn` when it does not parse.
fn crn_at(value: Option<&str>, path: &str, out: &mut Vec<Diagnostic>) -> Option<Crn> {
    let v = value?;
    match Crn::parse(v) {
        Ok(c) => Some(c),
        Err(e) => {
            out.push(Diagnostic::new(Code::InvalidCrn, path, e.to_string()));
            None
        }
    }
}

/// Describe how two CRNs differ, naming the first segment that disagrees.
fn describe_difference(a_name: &str, a: &Crn, b_name: &str, b: &Crn) -> String {
    if a.authority() != b.authority() {
        return format!(
            "authority differs: {a_name} has {}, {b_name} has {}",
            a.authority(),
            b.authority()
        );
    }
    for (sa, sb) in a.segments().iter().zip(b.segments()) {
        if sa.key != sb.key {
            return format!(
                "{a_name} has {}={} where {b_name} has {}={}",
                sa.key, sa.value, sb.key, sb.value
            );
        }
        if sa.value != sb.value {
            return format!(
                "{} differs: {a_name} has {}, {b_name} has {}",
                sa.key, sa.value, sb.value
            );
        }
    }
    if a.segments().len() < b.segments().len() {
        format!("{a_name} names the scope {a}, {b_name} names {b} inside it")
    } else {
        format!("{b_name} names the scope {b}, {a_name} names {a} inside it")
    }
}

pub(crate) fn check(r: &Record, catalog: &Catalog, out: &mut Vec<Diagnostic>) {
    let subject = r.subject.as_deref().filter(|s| s.starts_with("crn:"));
    let subject = crn_at(subject, "$.subject", out);
    let Some(d) = r.data.as_ref() else { return };
    let rn_path = at("$.data", d.key("resourceName"));
    let resource = crn_at(d.resource_name.as_deref(), &rn_path, out);
    if d.resource_name.is_none()
        && !d.extra.contains_key("resourceName")
        && !d.extra.contains_key("resource_name")
    {
        out.push(Diagnostic::new(
            Code::MissingResourceName,
            rn_path.clone(),
            "no resourceName: the record does not name its target as a CRN",
        ));
    }
    for (camel, value) in [
        ("serviceName", d.service_name.as_deref()),
        ("internalServiceName", d.internal_service_name.as_deref()),
    ] {
        crn_at(
            value.filter(|v| v.starts_with("crn:")),
            &at("$.data", d.key(camel)),
            out,
        );
    }
    if let (Some(s), Some(rn)) = (&subject, &resource) {
        if s != rn {
            out.push(Diagnostic::new(
                Code::SubjectResourceMismatch,
                "$.subject",
                format!(
                    "subject and resourceName name different resources: {}",
                    describe_difference("subject", s, "resourceName", rn)
                ),
            ));
        }
    }
    check_scopes(d, catalog, &resource, &subject, out);
    check_id_shapes(d, resource.as_ref(), &rn_path, catalog, out);
    let target = resource.as_ref().or(subject.as_ref());
    check_identity(d, target, out);
    crate::data_scope::check(r, d, target, out);
}

/// Ids must have the shape the catalog declares for their type. Each
/// distinct (type, id) is reported once, at its first occurrence.
fn check_id_shapes(
    d: &AuditData,
    resource: Option<&Crn>,
    rn_path: &str,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    let mut reported: Vec<(String, String)> = Vec::new();
    let mut report = |ty: &str, id: &str, path: String, out: &mut Vec<Diagnostic>| {
        let Some(t) = catalog.resource_type(ty) else {
            return;
        };
        if t.id_is_well_formed(id) || reported.iter().any(|(a, b)| a == ty && b == id) {
            return;
        }
        reported.push((ty.to_owned(), id.to_owned()));
        out.push(Diagnostic::new(
            Code::UnexpectedIdFormat,
            path,
            format!(
                "{ty} id {id:?} does not look like {ty} ids ({})",
                t.id_shape()
            ),
        ));
    };
    let base = at("$.data", d.key("cloudResources"));
    for (i, c) in d.cloud_resources.iter().flatten().enumerate() {
        let entry = index(&base, i);
        let scope = c.scope.as_ref().and_then(|s| s.resources.as_ref());
        let scoped = scope
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(j, r)| (index(&at(&at(&entry, "scope"), "resources"), j), r));
        let leaf = c.resource.as_ref().map(|r| (at(&entry, "resource"), r));
        for (path, r) in scoped.chain(leaf) {
            if let (Some(ty), Some(id)) = (r.resource_type.as_deref(), r.resource_id.as_deref()) {
                report(ty, id, at(&path, r.key("resourceId")), out);
            }
        }
    }
    for seg in resource.map(Crn::segments).unwrap_or_default() {
        if let Some(t) = catalog.resource_type_for_crn_key(&seg.key) {
            report(&t.name, &seg.value, rn_path.to_owned(), out);
        }
    }
}

fn check_scopes(
    d: &AuditData,
    catalog: &Catalog,
    resource: &Option<Crn>,
    subject: &Option<Crn>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(list) = d.cloud_resources.as_ref() else {
        return;
    };
    let base = at("$.data", d.key("cloudResources"));
    // Compare against resourceName and, when it names something else, subject too.
    let mut targets: Vec<(&str, &Crn)> = Vec::new();
    if let Some(rn) = resource {
        targets.push(("resourceName", rn));
    }
    if let Some(s) = subject {
        if resource.as_ref() != Some(s) {
            targets.push(("subject", s));
        }
    }
    for (i, c) in list.iter().enumerate() {
        let entry_path = index(&base, i);
        let mut chain = Vec::new();
        if let Some(scope) = c.scope.as_ref() {
            let sp = at(&at(&entry_path, "scope"), "resources");
            for (j, r) in scope.resources.iter().flatten().enumerate() {
                chain.push((index(&sp, j), r));
            }
        }
        if let Some(r) = c.resource.as_ref() {
            chain.push((at(&entry_path, "resource"), r));
        } else if c.scope.is_some() && !c.extra.contains_key("resource") {
            out.push(Diagnostic::new(
                Code::MissingResource,
                entry_path.clone(),
                "this entry has a scope but no resource; name the target (for a failed create, the scope it was created in)",
            ));
        }
        for (path, r) in &chain {
            let (Some(ty), Some(id)) = (r.resource_type.as_deref(), r.resource_id.as_deref())
            else {
                continue;
            };
            let Some(key) = catalog.resource_type(ty).and_then(|t| t.crn_key.as_deref()) else {
                continue;
            };
            for (name, crn) in &targets {
                if let Some(v) = crn.get(key) {
                    if v != id {
                        out.push(Diagnostic::new(
                            Code::ScopeMismatch,
                            at(path, r.key("resourceId")),
                            format!("{ty} {id} here, but {name} says {key}={v}"),
                        ));
                    }
                }
            }
        }
        // Hierarchy order: each entry must be inside the one before it.
        for pair in chain.windows(2) {
            let [(_, outer), (path, inner)] = pair else {
                continue;
            };
            let (Some(o), Some(i_ty)) = (
                outer.resource_type.as_deref(),
                inner.resource_type.as_deref(),
            ) else {
                continue;
            };
            let Some(inner_t) = catalog.resource_type(i_ty) else {
                continue;
            };
            if catalog.resource_type(o).is_some() && !inner_t.scope.iter().any(|s| s == o) {
                out.push(Diagnostic::new(
                    Code::ScopeOrder,
                    at(path, "type"),
                    format!("{i_ty} does not live inside {o}; scope chains list enclosing resources outermost first"),
                ));
            }
        }
        for (j, earlier) in list.iter().enumerate().take(i) {
            if earlier.to_json(Form::Camel) == c.to_json(Form::Camel) {
                out.push(Diagnostic::new(
                    Code::DuplicateCloudResource,
                    entry_path.clone(),
                    format!("this entry repeats {}[{j}]", d.key("cloudResources")),
                ));
                break;
            }
        }
    }
}

fn check_identity(d: &AuditData, target: Option<&Crn>, out: &mut Vec<Diagnostic>) {
    let Some(auth) = d.authentication_info.as_ref() else {
        return;
    };
    let auth_path = at("$.data", d.key("authenticationInfo"));
    if let Some(Principal::Object(p)) = &auth.principal {
        let kinds = [
            ("confluentUser", &p.confluent_user),
            ("confluentServiceAccount", &p.confluent_service_account),
        ];
        for (camel, r) in kinds {
            let Some(r) = r else { continue };
            if let Some(id) = r
                .resource_id
                .as_deref()
                .filter(|id| id.starts_with("User:"))
            {
                out.push(Diagnostic::new(
                    Code::PrefixedPrincipalId,
                    at(&at(&at(&auth_path, "principal"), p.key(camel)), r.key("resourceId")),
                    format!(
                        "{id:?} carries a Kafka-style \"User:\" prefix; other records write the bare id {:?}, so per-principal queries split this user in two",
                        id.trim_start_matches("User:")
                    ),
                ));
            }
        }
    }
    let path = at(&auth_path, "identity");
    let Some(identity) = crn_at(auth.identity.as_deref(), &path, out) else {
        return;
    };
    if let (Some(io), Some(to)) = (identity.organization(), target.and_then(Crn::organization)) {
        if io != to {
            out.push(Diagnostic::new(
                Code::IdentityMismatch,
                path.clone(),
                format!("identity is in organization {io}, but the record's resource is in organization {to}"),
            ));
        }
    }
    let principal_id = auth.principal.as_ref().and_then(|p| p.id());
    if let (Some(iid), Some(pid)) = (identity.get("identity"), principal_id) {
        if iid != pid {
            out.push(Diagnostic::new(
                Code::IdentityMismatch,
                path,
                format!("identity names {iid}, but the principal is {pid}"),
            ));
        }
    }
}
