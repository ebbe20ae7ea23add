//! CloudEvents envelope checks: required attributes, specversion, time,
//! extension names, data content type, and member types and spellings.

use auditlog_model::record::{MemberIssue, Record, WireForm};
use auditlog_model::{parse_rfc3339, Crn};

use crate::at;
use crate::diagnostic::{Code, Diagnostic};

/// Whether member `key` is present but kept raw (it had the wrong type; that
/// is reported as `wrong_type`, not as missing).
fn raw(r: &Record, key: &str) -> bool {
    r.extra.contains_key(key)
}

pub(crate) fn check(r: &Record, out: &mut Vec<Diagnostic>) {
    let required = [
        (
            "id",
            r.id.as_deref(),
            "consumers deduplicate on (source, id); without it retries create duplicates",
        ),
        (
            "source",
            r.source.as_deref(),
            "it names where the event happened and scopes the id",
        ),
        (
            "specversion",
            r.specversion.as_deref(),
            "add \"specversion\": \"1.0\"",
        ),
        (
            "type",
            r.event_type.as_deref(),
            "consumers route on it, e.g. io.confluent.cloud/request",
        ),
    ];
    for (key, value, why) in required {
        match value {
            None if !raw(r, key) => out.push(Diagnostic::new(
                Code::MissingAttribute,
                at("$", key),
                format!("required CloudEvents attribute \"{key}\" is missing; {why}"),
            )),
            Some(v) if v.trim().is_empty() => out.push(Diagnostic::new(
                Code::EmptyAttribute,
                at("$", key),
                format!("CloudEvents attribute \"{key}\" must be a non-empty string"),
            )),
            _ => {}
        }
    }
    if let Some(v) = r
        .specversion
        .as_deref()
        .filter(|v| *v != "1.0" && !v.trim().is_empty())
    {
        out.push(Diagnostic::new(
            Code::InvalidSpecversion,
            "$.specversion",
            format!("specversion is {v:?}; this log reads CloudEvents 1.0, write \"1.0\""),
        ));
    }
    if let Some(src) = r.source.as_deref().filter(|s| s.starts_with("crn:")) {
        if let Err(e) = Crn::parse(src) {
            out.push(Diagnostic::new(Code::InvalidCrn, "$.source", e.to_string()));
        }
    }
    match r.time.as_deref() {
        None if !raw(r, "time") => out.push(Diagnostic::new(
            Code::MissingTime,
            "$.time",
            "no \"time\": the record cannot be placed on a timeline; emitters should set RFC 3339 time",
        )),
        Some(t) => {
            if let Err(e) = parse_rfc3339(t) {
                out.push(Diagnostic::new(Code::InvalidTime, "$.time", e.to_string()));
            }
        }
        None => {}
    }
    if r.subject.is_none() && !raw(r, "subject") {
        out.push(Diagnostic::new(
            Code::MissingSubject,
            "$.subject",
            "no \"subject\": Confluent records name the affected resource's CRN here",
        ));
    }
    if let Some(ct) = r.datacontenttype.as_deref() {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            out.push(Diagnostic::new(
                Code::UnexpectedDataContentType,
                "$.datacontenttype",
                format!("datacontenttype is {ct:?}, but data is JSON; use \"application/json\""),
            ));
        }
    }
    if r.data.is_none() && !raw(r, "data") {
        out.push(Diagnostic::new(
            Code::MissingData,
            "$.data",
            "no \"data\": an audit record carries its payload in data",
        ));
    }
    for key in r.extra.keys() {
        let known = Record::FIELDS.iter().any(|f| f.camel == key) || key == "data_base64";
        let valid = !key.is_empty()
            && key
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !known && !valid {
            out.push(Diagnostic::new(
                Code::InvalidExtensionName,
                at("$", key),
                format!(
                    "extension attribute {key:?} breaks CloudEvents naming: use only a-z and 0-9"
                ),
            ));
        }
    }
    for issue in r.member_issues() {
        out.push(match issue {
            MemberIssue::WrongType { path, expected, found } => {
                Diagnostic::new(Code::WrongType, path, format!("expected {expected}, found {found}"))
            }
            MemberIssue::ConflictingSpelling { path, used } => Diagnostic::new(
                Code::ConflictingSpelling,
                path,
                format!("the same member is also spelled {used:?}; keep one spelling (that one is used)"),
            ),
        });
    }
    if r.wire_form() == WireForm::Mixed {
        out.push(Diagnostic::new(
            Code::MixedWireForm,
            "$",
            "the record mixes camelCase and snake_case member names; `auditlog convert` writes one form",
        ));
    }
}
