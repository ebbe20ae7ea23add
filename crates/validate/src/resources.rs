//! Resource consistency: CRNs parse; `subject` agrees with `resourceName`;
//! `cloudResources` scope chains agree with the CRNs and follow the catalog's
//! hierarchy; ids have their type's shape; the identity matches the principal
//! and organization.
//!
//! This runs on every ingested record, so JSON paths are only rendered when a
//! finding is reported.

use auditlog_catalog::Catalog;
use auditlog_model::path::Lazy;
use auditlog_model::record::{AuditData, CloudResource, Principal, Record, ResourceRef};
use auditlog_model::Crn;

use crate::diagnostic::{Code, Diagnostic};

/// Parse a CRN member, reporting `invalid_crn` (at `path()`) when it does not parse.
fn crn_at(
    value: Option<&str>,
    path: impl Fn() -> String,
    out: &mut Vec<Diagnostic>,
) -> Option<Crn> {
    match Crn::parse(value?) {
        Ok(c) => Some(c),
        Err(e) => {
            out.push(Diagnostic::new(Code::InvalidCrn, path(), e.to_string()));
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
    for (sa, sb) in a.segments().zip(b.segments()) {
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
    if a.depth() < b.depth() {
        format!("{a_name} names the scope {a}, {b_name} names {b} inside it")
    } else {
        format!("{b_name} names the scope {b}, {a_name} names {a} inside it")
    }
}

/// Returns the target CRN: `resourceName` if it parses, else `subject`.
pub(crate) fn check(r: &Record, catalog: &Catalog, out: &mut Vec<Diagnostic>) -> Option<Crn> {
    let subject_text = r.subject.as_deref().filter(|s| s.starts_with("crn:"));
    let subject = crn_at(subject_text, || "$.subject".into(), out);
    let Some(d) = r.data.as_ref() else {
        return subject;
    };
    let data = Lazy::ROOT.key("data");
    let rn_path = || data.key(d.key("resourceName")).render();
    // subject and resourceName are usually the same string: parse it once.
    let resource = if d.resource_name.is_some() && d.resource_name.as_deref() == subject_text {
        subject.clone()
    } else {
        crn_at(d.resource_name.as_deref(), rn_path, out)
    };
    if d.resource_name.is_none()
        && !d.extra.contains_key("resourceName")
        && !d.extra.contains_key("resource_name")
    {
        out.push(Diagnostic::new(
            Code::MissingResourceName,
            rn_path(),
            "no resourceName: the record does not name its target as a CRN",
        ));
    }
    for (camel, value) in [
        ("serviceName", d.service_name.as_deref()),
        ("internalServiceName", d.internal_service_name.as_deref()),
    ] {
        crn_at(
            value.filter(|v| v.starts_with("crn:")),
            || data.key(d.key(camel)).render(),
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
    let mut targets: Vec<(&str, &Crn)> = Vec::with_capacity(2);
    if let Some(rn) = &resource {
        targets.push(("resourceName", rn));
    }
    if let Some(s) = &subject {
        if resource.as_ref() != Some(s) {
            targets.push(("subject", s));
        }
    }
    check_cloud_resources(d, catalog, &targets, &data, out);
    check_id_shapes(d, resource.as_ref(), &rn_path, catalog, out);
    let target = resource.as_ref().or(subject.as_ref());
    check_principal(d, target, &data, out);
    crate::data_scope::check(r, d, target, out);
    resource.or(subject)
}

/// One entry of a scope chain: where it sits and what it names.
struct Link<'r> {
    /// Index within `scope.resources`, or `None` for the entry's `resource`.
    scope_index: Option<usize>,
    r: &'r ResourceRef,
}

fn chain(c: &CloudResource) -> Vec<Link<'_>> {
    let scoped = c
        .scope
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .into_iter()
        .flatten();
    let mut v: Vec<Link<'_>> = scoped
        .enumerate()
        .map(|(j, r)| Link {
            scope_index: Some(j),
            r,
        })
        .collect();
    if let Some(r) = c.resource.as_ref() {
        v.push(Link {
            scope_index: None,
            r,
        });
    }
    v
}

/// The path of a link's object within `entry`.
fn link_path(entry: &Lazy<'_>, l: &Link<'_>) -> String {
    match l.scope_index {
        Some(j) => entry.key("scope").key("resources").index(j).render(),
        None => entry.key("resource").render(),
    }
}

fn check_cloud_resources(
    d: &AuditData,
    catalog: &Catalog,
    targets: &[(&str, &Crn)],
    data: &Lazy<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(list) = d.cloud_resources.as_ref() else {
        return;
    };
    let base = data.key(d.key("cloudResources"));
    for (i, c) in list.iter().enumerate() {
        let entry = base.index(i);
        if c.resource.is_none() && c.scope.is_some() && !c.extra.contains_key("resource") {
            out.push(Diagnostic::new(
                Code::MissingResource,
                entry.render(),
                "this entry has a scope but no resource; name the target (for a failed create, the scope it was created in)",
            ));
        }
        let links = chain(c);
        for l in &links {
            let (Some(ty), Some(id)) = (l.r.resource_type.as_deref(), l.r.resource_id.as_deref())
            else {
                continue;
            };
            let Some(key) = catalog.resource_type(ty).and_then(|t| t.crn_key.as_deref()) else {
                continue;
            };
            for (name, crn) in targets {
                if let Some(v) = crn.get(key).filter(|v| *v != id) {
                    out.push(Diagnostic::new(
                        Code::ScopeMismatch,
                        auditlog_model::path::key(&link_path(&entry, l), l.r.key("resourceId")),
                        format!("{ty} {id} here, but {name} says {key}={v}"),
                    ));
                }
            }
        }
        // Hierarchy order: each entry must be inside the one before it.
        for pair in links.windows(2) {
            let [outer, inner] = pair else { continue };
            let (Some(o), Some(i_ty)) = (
                outer.r.resource_type.as_deref(),
                inner.r.resource_type.as_deref(),
            ) else {
                continue;
            };
            let Some(inner_t) = catalog.resource_type(i_ty) else {
                continue;
            };
            if catalog.resource_type(o).is_some() && !inner_t.scope.iter().any(|s| s == o) {
                out.push(Diagnostic::new(
                    Code::ScopeOrder,
                    auditlog_model::path::key(&link_path(&entry, inner), "type"),
                    format!("{i_ty} does not live inside {o}; scope chains list enclosing resources outermost first"),
                ));
            }
        }
        if let Some(j) = list.iter().take(i).position(|earlier| earlier == c) {
            out.push(Diagnostic::new(
                Code::DuplicateCloudResource,
                entry.render(),
                format!("this entry repeats {}[{j}]", d.key("cloudResources")),
            ));
        }
    }
}

/// Ids must have the shape the catalog declares for their type. Each
/// distinct (type, id) is reported once, at its first occurrence.
fn check_id_shapes(
    d: &AuditData,
    resource: Option<&Crn>,
    rn_path: &dyn Fn() -> String,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    // (type, id, expected shape, path) of each distinct malformed id.
    let mut found: Vec<(String, String, String, String)> = Vec::new();
    let mut consider = |ty: &str, id: &str, path: &dyn Fn() -> String| {
        let Some(t) = catalog.resource_type(ty) else {
            return;
        };
        if t.id_is_well_formed(id) || found.iter().any(|(a, b, _, _)| a == ty && b == id) {
            return;
        }
        found.push((ty.to_owned(), id.to_owned(), t.id_shape(), path()));
    };
    let list = Lazy::ROOT.key("data");
    let list = list.key(d.key("cloudResources"));
    for (i, c) in d.cloud_resources.iter().flatten().enumerate() {
        for l in chain(c) {
            let (Some(ty), Some(id)) = (l.r.resource_type.as_deref(), l.r.resource_id.as_deref())
            else {
                continue;
            };
            consider(ty, id, &|| {
                auditlog_model::path::key(&link_path(&list.index(i), &l), l.r.key("resourceId"))
            });
        }
    }
    for seg in resource.into_iter().flat_map(Crn::segments) {
        if let Some(t) = catalog.resource_type_for_crn_key(seg.key) {
            consider(&t.name, seg.value, rn_path);
        }
    }
    for (ty, id, shape, path) in found {
        out.push(Diagnostic::new(
            Code::UnexpectedIdFormat,
            path,
            format!("{ty} id {id:?} does not look like {ty} ids ({shape})"),
        ));
    }
}

fn check_principal(
    d: &AuditData,
    target: Option<&Crn>,
    data: &Lazy<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(auth) = d.authentication_info.as_ref() else {
        return;
    };
    let auth_path = data.key(d.key("authenticationInfo"));
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
                    auth_path.key("principal").key(p.key(camel)).key(r.key("resourceId")).render(),
                    format!(
                        "{id:?} carries a Kafka-style \"User:\" prefix; other records write the bare id {:?}, so per-principal queries split this user in two",
                        id.trim_start_matches("User:")
                    ),
                ));
            }
        }
    }
    let path = || auth_path.key("identity").render();
    let Some(identity) = crn_at(auth.identity.as_deref(), path, out) else {
        return;
    };
    if let (Some(io), Some(to)) = (identity.organization(), target.and_then(Crn::organization)) {
        if io != to {
            out.push(Diagnostic::new(
                Code::IdentityMismatch,
                path(),
                format!("identity is in organization {io}, but the record's resource is in organization {to}"),
            ));
        }
    }
    // Confluent-issued identities name the principal's own id; SSO and
    // external identities (group mapping) name the person, e.g. an email.
    let principal_id = auth.principal.as_ref().and_then(|p| p.id());
    let confluent_issued = identity.get("identity-provider") == Some("Confluent");
    if let (Some(iid), Some(pid), true) = (identity.get("identity"), principal_id, confluent_issued)
    {
        if iid != pid {
            out.push(Diagnostic::new(
                Code::IdentityMismatch,
                path(),
                format!("identity names {iid}, but the principal is {pid}"),
            ));
        }
    }
}
