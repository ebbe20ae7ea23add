//! Field names and their aliases. People type the names they see in the
//! JSON (camelCase or snake_case) or in the UI, so each field answers to
//! several; all of them resolve to one model [`Field`] or a pseudo-field.

use std::sync::OnceLock;

use auditlog_model::fields::Field;

/// What a field name in a filter refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An indexed model field.
    Field(Field),
    /// The record's CloudEvents `id`.
    Id,
    /// The record's `time`.
    Time,
    /// Free text.
    Text,
}

use Target::Field as F;

/// Every accepted name, canonical name first within each field. Matching is
/// ASCII case-insensitive.
const ALIASES: &[(&str, Target)] = &[
    ("type", F(Field::EventType)),
    ("event_type", F(Field::EventType)),
    ("eventType", F(Field::EventType)),
    ("service", F(Field::Service)),
    ("service_name", F(Field::Service)),
    ("serviceName", F(Field::Service)),
    ("method", F(Field::Method)),
    ("method_name", F(Field::Method)),
    ("methodName", F(Field::Method)),
    ("principal", F(Field::Principal)),
    ("user", F(Field::Principal)),
    ("user_id", F(Field::Principal)),
    ("userId", F(Field::Principal)),
    ("email", F(Field::Principal)),
    ("identity", F(Field::Principal)),
    ("service_account", F(Field::Principal)),
    ("serviceAccount", F(Field::Principal)),
    ("principal_id", F(Field::Principal)),
    ("organization", F(Field::Organization)),
    ("org", F(Field::Organization)),
    ("organization_id", F(Field::Organization)),
    ("organizationId", F(Field::Organization)),
    ("environment", F(Field::Environment)),
    ("env", F(Field::Environment)),
    ("environment_id", F(Field::Environment)),
    ("environmentId", F(Field::Environment)),
    ("resource_type", F(Field::ResourceType)),
    ("resourceType", F(Field::ResourceType)),
    ("resource_id", F(Field::ResourceId)),
    ("resourceId", F(Field::ResourceId)),
    ("resource", F(Field::Resource)),
    ("crn", F(Field::Resource)),
    ("resource_name", F(Field::Resource)),
    ("resourceName", F(Field::Resource)),
    ("subject", F(Field::Resource)),
    ("scope", F(Field::Scope)),
    ("status", F(Field::Status)),
    ("result_status", F(Field::Status)),
    ("resultStatus", F(Field::Status)),
    ("access_type", F(Field::Access)),
    ("accessType", F(Field::Access)),
    ("client_ip", F(Field::ClientIp)),
    ("clientIp", F(Field::ClientIp)),
    ("ip", F(Field::ClientIp)),
    ("client_address", F(Field::ClientIp)),
    ("clientAddress", F(Field::ClientIp)),
    ("error_code", F(Field::ErrorCode)),
    ("errorCode", F(Field::ErrorCode)),
    ("status_code", F(Field::ErrorCode)),
    ("statusCode", F(Field::ErrorCode)),
    ("code", F(Field::ErrorCode)),
    ("source", F(Field::Source)),
    ("wire_form", F(Field::WireForm)),
    ("wireForm", F(Field::WireForm)),
    ("id", Target::Id),
    ("time", Target::Time),
    ("timestamp", Target::Time),
    ("text", Target::Text),
    ("q", Target::Text),
];

/// Every field name the language accepts (aliases included), for
/// suggestions and docs.
pub fn field_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| ALIASES.iter().map(|(n, _)| *n).collect())
}

/// What `name` refers to, ignoring ASCII case.
pub(crate) fn lookup(name: &str) -> Option<Target> {
    ALIASES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
}

/// The name the printer writes for a target.
pub(crate) fn canonical(t: Target) -> &'static str {
    match t {
        Target::Field(f) => f.name(),
        Target::Id => "id",
        Target::Time => "time",
        Target::Text => "text",
    }
}

/// The canonical names, comma-separated, for error hints.
pub(crate) fn canonical_list() -> String {
    let mut out: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    out.extend(["id", "time", "text"]);
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names_resolve_to_themselves() {
        for f in Field::ALL {
            assert_eq!(lookup(f.name()), Some(Target::Field(f)), "{}", f.name());
        }
        for t in [Target::Id, Target::Time, Target::Text] {
            assert_eq!(lookup(canonical(t)), Some(t));
        }
        assert_eq!(field_names().len(), ALIASES.len());
        assert_eq!(lookup("METHODNAME"), Some(Target::Field(Field::Method)));
        assert_eq!(lookup("methd"), None);
    }
}
