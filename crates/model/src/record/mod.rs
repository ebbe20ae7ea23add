//! Typed audit-log records and their lossless conversion to and from JSON.

mod access;
pub(crate) mod fields;
mod types;

pub use access::PrincipalSummary;
pub use fields::{
    FieldName, Form, FromJson, Inspect, MemberIssue, OneOrMany, Spelling, SpellingTally, ToJson,
    WireForm,
};
pub use types::*;

use crate::json::{self, Json, ParseError};

/// Why bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// Not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] ParseError),
    /// Valid JSON, but not an object.
    #[error("a record must be a JSON object, found {0}")]
    NotAnObject(&'static str),
}

/// A record together with the canonical bytes of exactly what was parsed.
#[derive(Debug, Clone)]
pub struct ParsedRecord {
    /// The typed view.
    pub record: Record,
    /// RFC 8785 canonical form (numbers verbatim) of the input value.
    pub canonical: Vec<u8>,
}

/// Parse one record and compute its canonical bytes. When the input is
/// already canonical (as auditlog's own emitters write it) its bytes are
/// reused rather than written again.
///
/// Parsing is lenient: any JSON object is a record. Use the validator to learn
/// what is wrong with it.
pub fn parse_record(bytes: &[u8]) -> Result<ParsedRecord, RecordError> {
    let (v, canonical) = json::parse_noting_canonical(bytes)?;
    if !matches!(v, Json::Object(_)) {
        return Err(RecordError::NotAnObject(v.type_name()));
    }
    let canonical = match canonical.and_then(|r| bytes.get(r)) {
        Some(c) => c.to_vec(),
        None => json::to_canonical_sized(&v, bytes.len()),
    };
    let record = Record::from_json(v).map_err(|v| RecordError::NotAnObject(v.type_name()))?;
    Ok(ParsedRecord { record, canonical })
}

/// [`parse_record`] for an already parsed value.
pub fn from_value(v: Json) -> Result<ParsedRecord, RecordError> {
    if !matches!(v, Json::Object(_)) {
        return Err(RecordError::NotAnObject(v.type_name()));
    }
    let canonical = json::to_canonical(&v);
    let record = Record::from_json(v).map_err(|v| RecordError::NotAnObject(v.type_name()))?;
    Ok(ParsedRecord { record, canonical })
}

impl Record {
    /// Parse one record.
    pub fn parse(bytes: &[u8]) -> Result<Record, RecordError> {
        let v = json::parse(bytes)?;
        Record::from_json(v).map_err(|v| RecordError::NotAnObject(v.type_name()))
    }

    /// A record from an already parsed value; the value's type name when it is not an object.
    pub fn from_json_value(v: Json) -> Result<Record, &'static str> {
        Record::from_json(v).map_err(|v| v.type_name())
    }

    /// The record as JSON with member names in `form`.
    pub fn to_json_value(&self, form: Form) -> Json {
        ToJson::to_json(self, form)
    }

    /// The canonical bytes of the record as parsed.
    pub fn to_canonical(&self) -> Vec<u8> {
        json::to_canonical(&self.to_json_value(Form::AsParsed))
    }

    /// Which spelling the record uses.
    pub fn wire_form(&self) -> WireForm {
        let mut t = SpellingTally::default();
        ToJson::tally(self, &mut t);
        match (t.camel, t.snake) {
            (_, 0) => WireForm::Camel,
            (0, _) => WireForm::Snake,
            _ => WireForm::Mixed,
        }
    }

    /// Known members that could not be used: wrong JSON types and second
    /// spellings, with their JSON paths.
    pub fn member_issues(&self) -> Vec<MemberIssue> {
        let mut out = Vec::new();
        Inspect::member_issues(self, &crate::path::Lazy::ROOT, &mut out);
        out
    }

    /// A copy with every member spelled in `form`.
    pub fn with_form(&self, form: Form) -> Record {
        let mut r = self.clone();
        r.respell(form);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_and_second_spellings_are_kept_and_explained() {
        let src = br#"{"id":7,"time":"t","data":{"serviceName":"a","service_name":"b",
            "cloudResources":[{"resource":{"type":"X"}},"oops"],
            "requestMetadata":{"requestId":"r1"},
            "authenticationInfo":{"principal":42}}}"#;
        let p = parse_record(src).unwrap();
        assert_eq!(p.record.to_json(Form::AsParsed), json::parse(src).unwrap());
        assert_eq!(p.record.request_ids(), ["r1"]);
        let issues = p.record.member_issues();
        assert_eq!(
            issues,
            vec![
                MemberIssue::WrongType {
                    path: "$.id".into(),
                    expected: "a string".into(),
                    found: "number"
                },
                MemberIssue::ConflictingSpelling {
                    path: "$.data.service_name".into(),
                    used: "serviceName"
                },
                MemberIssue::WrongType {
                    path: "$.data.cloudResources[1]".into(),
                    expected: "an object".into(),
                    found: "string"
                },
                MemberIssue::WrongType {
                    path: "$.data.authenticationInfo.principal".into(),
                    expected: "a string or an object".into(),
                    found: "number"
                },
            ]
        );
    }
}
