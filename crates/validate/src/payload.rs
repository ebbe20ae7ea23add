//! Payload checks against the catalog: method, event type, access type,
//! result status and errors, principal and client addresses.

use auditlog_catalog::{Catalog, Method};
use auditlog_model::record::{AuditData, Record};
use auditlog_model::suggest::nearest;
use auditlog_model::Json;

use crate::at;
use crate::diagnostic::{Code, Diagnostic};

pub(crate) fn check(r: &Record, catalog: &Catalog, out: &mut Vec<Diagnostic>) {
    let event_type = r.event_type.as_deref();
    if let Some(t) = event_type.filter(|t| !t.is_empty()) {
        if catalog.event_type(t).is_none() {
            let hint = nearest(t, catalog.event_types().iter().map(|e| e.name.as_str()))
                .map(|n| format!(" (did you mean {n:?}?)"))
                .unwrap_or_default();
            out.push(Diagnostic::new(
                Code::UnknownEventType,
                "$.type",
                format!("event type {t:?} is not in the catalog{hint}; add custom types with --catalog FILE"),
            ));
        }
    }
    let Some(d) = r.data.as_ref() else { return };
    let method = check_method(d, event_type, catalog, out);
    // What a record must carry depends on its kind: management requests say
    // how they accessed and whether they succeeded; authentications say
    // whether they succeeded; authorizations carry `granted` instead.
    let kind = method.map(|m| m.event_type.rsplit('/').next().unwrap_or(""));
    check_request(d, method.filter(|_| kind == Some("request")), out);
    check_result(
        d,
        method.filter(|_| matches!(kind, Some("request" | "authentication"))),
        out,
    );
    check_authentication(d, out);
    check_client_addresses(d, out);
}

fn check_method<'c>(
    d: &AuditData,
    event_type: Option<&str>,
    catalog: &'c Catalog,
    out: &mut Vec<Diagnostic>,
) -> Option<&'c Method> {
    let path = || at("$.data", d.key("methodName"));
    let Some(name) = d.method_name.as_deref() else {
        if !d.extra.contains_key("methodName") && !d.extra.contains_key("method_name") {
            out.push(Diagnostic::new(
                Code::MissingMethod,
                path(),
                "no methodName: the record does not say which operation it audits",
            ));
        }
        return None;
    };
    let Some(found) = catalog.method(name) else {
        let hint = nearest(name, catalog.methods().iter().map(|m| m.name.as_str()))
            .map(|n| format!(" (did you mean {n:?}?)"))
            .unwrap_or_default();
        out.push(Diagnostic::new(
            Code::UnknownMethod,
            path(),
            format!("method {name:?} is not in the catalog{hint}; add your own methods with --catalog FILE"),
        ));
        return None;
    };
    let m = found.method;
    if let Some(alias) = found.alias {
        out.push(Diagnostic::new(
            Code::MethodAlias,
            path(),
            format!(
                "{alias:?} is a documented alias: the method table names it {:?}",
                m.name
            ),
        ));
    }
    if let Some(t) = event_type.filter(|t| !t.is_empty() && *t != m.event_type) {
        out.push(Diagnostic::new(
            Code::MethodEventTypeMismatch,
            "$.type",
            format!(
                "{} records have type {:?}, but this record's type is {t:?}",
                m.name, m.event_type
            ),
        ));
    }
    // The target of a method is its own resource type or, for list methods
    // and failures, one of the scopes that contain it.
    for (i, c) in d.cloud_resources.iter().flatten().enumerate() {
        let Some(res) = c.resource.as_ref() else {
            continue;
        };
        let Some(ty) = res.resource_type.as_deref() else {
            continue;
        };
        if !catalog.is_same_or_ancestor(ty, &m.resource_type) {
            let base = at(
                &index(&at("$.data", d.key("cloudResources")), i),
                "resource",
            );
            out.push(Diagnostic::new(
                Code::UnexpectedResourceType,
                at(&base, "type"),
                format!(
                    "{} acts on {} resources, but this entry is a {ty}",
                    m.name, m.resource_type
                ),
            ));
        }
    }
    Some(m)
}

pub(crate) fn index(base: &str, i: usize) -> String {
    auditlog_model::path::index(base, i)
}

fn check_request(d: &AuditData, method: Option<&Method>, out: &mut Vec<Diagnostic>) {
    let access = d.request.as_ref().and_then(|r| r.access_type.as_deref());
    let path = || {
        at(
            &at("$.data", "request"),
            d.request
                .as_ref()
                .map_or("accessType", |r| r.key("accessType")),
        )
    };
    match (access, method) {
        (Some(a), _) if a != "READ_ONLY" && a != "MODIFICATION" => out.push(Diagnostic::new(
            Code::InvalidAccessType,
            path(),
            format!("accessType is {a:?}; expected READ_ONLY or MODIFICATION"),
        )),
        (Some(a), Some(m)) if a != m.access_type.as_str() => out.push(Diagnostic::new(
            Code::AccessTypeMismatch,
            path(),
            format!(
                "{} is {} in the catalog, but accessType is {a}",
                m.name,
                m.access_type.as_str()
            ),
        )),
        (None, Some(m)) => out.push(Diagnostic::new(
            Code::MissingAccessType,
            path(),
            format!("no accessType; {} is {}", m.name, m.access_type.as_str()),
        )),
        _ => {}
    }
}

fn is_http_status(s: &str) -> bool {
    s.len() == 3
        && s.bytes().all(|c| c.is_ascii_digit())
        && s.as_bytes()
            .first()
            .is_some_and(|c| (b'1'..=b'5').contains(c))
}

fn check_result(d: &AuditData, method: Option<&Method>, out: &mut Vec<Diagnostic>) {
    let base = || at("$.data", "result");
    let Some(result) = d.result.as_ref() else {
        if let Some(m) = method {
            out.push(Diagnostic::new(
                Code::MissingStatus,
                base(),
                format!(
                    "no result: {} records say whether the request succeeded",
                    m.name
                ),
            ));
        }
        return;
    };
    let status_path = || at(&base(), "status");
    let status = result.status.as_deref();
    match status {
        Some("SUCCESS" | "FAILURE") => {}
        Some(s) => out.push(Diagnostic::new(
            Code::InvalidStatus,
            status_path(),
            format!("result.status is {s:?}; expected SUCCESS or FAILURE"),
        )),
        None if method.is_some() => out.push(Diagnostic::new(
            Code::MissingStatus,
            status_path(),
            "no result.status: SUCCESS or FAILURE",
        )),
        None => {}
    }
    let errors = result.error_list();
    let count = errors.map_or(0, |(_, l)| l.len());
    if status == Some("FAILURE") && count == 0 {
        out.push(Diagnostic::new(
            Code::FailureWithoutErrors,
            base(),
            "result.status is FAILURE but result.data.errors is missing or empty; consumers cannot tell why it failed",
        ));
    }
    if status == Some("SUCCESS") && count > 0 {
        out.push(Diagnostic::new(
            Code::SuccessWithErrors,
            status_path(),
            format!("result.status is SUCCESS but {count} error(s) are listed"),
        ));
    }
    if let Some((where_, list)) = errors {
        let item = |i: usize| index(&where_.split('.').fold(base(), |p, k| at(&p, k)), i);
        for (i, e) in list.iter().enumerate() {
            match e.get("status") {
                Some(Json::String(s)) if is_http_status(s) => {}
                Some(Json::String(s)) => out.push(Diagnostic::new(
                    Code::InvalidErrorStatus,
                    at(&item(i), "status"),
                    format!("error status {s:?} is not an HTTP status code such as \"404\""),
                )),
                Some(other) => out.push(Diagnostic::new(
                    Code::InvalidErrorStatus,
                    at(&item(i), "status"),
                    format!(
                        "error status is a {}; Confluent writes it as a string such as \"404\"",
                        other.type_name()
                    ),
                )),
                None => out.push(Diagnostic::new(
                    Code::InvalidErrorStatus,
                    item(i),
                    "error has no status; give the HTTP status code as a string such as \"404\"",
                )),
            }
        }
    }
}

fn check_authentication(d: &AuditData, out: &mut Vec<Diagnostic>) {
    let base = || at("$.data", d.key("authenticationInfo"));
    let Some(auth) = d.authentication_info.as_ref() else {
        if !d.extra.contains_key("authenticationInfo")
            && !d.extra.contains_key("authentication_info")
        {
            out.push(Diagnostic::new(
                Code::MissingPrincipal,
                base(),
                "no authenticationInfo: the record does not say who acted",
            ));
        }
        return;
    };
    if auth.principal.is_none() && !auth.extra.contains_key("principal") {
        out.push(Diagnostic::new(
            Code::MissingPrincipal,
            at(&base(), "principal"),
            "no principal: the record does not say who acted",
        ));
    }
    if let Some(res) = auth
        .result
        .as_deref()
        .filter(|r| *r != "SUCCESS" && *r != "FAILURE")
    {
        out.push(Diagnostic::new(
            Code::UnknownAuthenticationResult,
            at(&base(), "result"),
            format!("authentication result is {res:?}; expected SUCCESS or FAILURE"),
        ));
    }
}

fn check_client_addresses(d: &AuditData, out: &mut Vec<Diagnostic>) {
    let Some(meta) = d.request_metadata.as_ref() else {
        return;
    };
    for (i, a) in meta.client_address.iter().flatten().enumerate() {
        if let Some(ip) = a.ip.as_deref() {
            if ip.parse::<std::net::IpAddr>().is_err() {
                let base = at(
                    &at("$.data", d.key("requestMetadata")),
                    meta.key("clientAddress"),
                );
                out.push(Diagnostic::new(
                    Code::InvalidIp,
                    at(&index(&base, i), "ip"),
                    format!("{ip:?} is not an IPv4 or IPv6 address"),
                ));
            }
        }
    }
}
