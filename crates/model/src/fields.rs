//! The queryable fields of a record: its time, `(field, value)` terms and
//! free-text words. The store indexes exactly these and the filter language
//! evaluates exactly these, so an index answer and a brute-force answer agree.

use crate::crn::Crn;
use crate::record::Record;
pub use crate::words::{
    json_contains_phrase, json_word_hashes, json_words, query_words, word_hash, WordHasher,
};

/// An indexed field. The numbers are part of the on-disk format (`docs/format.md` §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Field {
    /// CloudEvents `type`.
    EventType = 1,
    /// `data.serviceName`.
    Service = 2,
    /// `data.methodName`, as written.
    Method = 3,
    /// Principal id, email and identity CRN (up to three values).
    Principal = 4,
    /// The organization (tenant).
    Organization = 5,
    /// The environment.
    Environment = 6,
    /// The target CRN in canonical form.
    Resource = 7,
    /// Every scope that contains the target CRN, itself included.
    Scope = 8,
    /// `cloudResources[].resource.type`.
    ResourceType = 9,
    /// `cloudResources[].resource.resourceId` and the CRN's innermost id.
    ResourceId = 10,
    /// `result.status`.
    Status = 11,
    /// `request.accessType`.
    Access = 12,
    /// Client IP addresses.
    ClientIp = 13,
    /// HTTP status codes of `result` errors.
    ErrorCode = 14,
    /// CloudEvents `source`.
    Source = 15,
    /// `camel`, `snake` or `mixed`.
    WireForm = 16,
}

impl Field {
    /// Every field, in code order.
    pub const ALL: [Field; 16] = [
        Field::EventType,
        Field::Service,
        Field::Method,
        Field::Principal,
        Field::Organization,
        Field::Environment,
        Field::Resource,
        Field::Scope,
        Field::ResourceType,
        Field::ResourceId,
        Field::Status,
        Field::Access,
        Field::ClientIp,
        Field::ErrorCode,
        Field::Source,
        Field::WireForm,
    ];

    /// The field with code `c`.
    pub fn from_code(c: u8) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| *f as u8 == c)
    }

    /// How the index keeps this field's values.
    pub fn kind(self) -> FieldKind {
        match self {
            Field::Resource | Field::Scope | Field::ResourceId => FieldKind::Term,
            Field::ClientIp => FieldKind::Column,
            _ => FieldKind::Dictionary,
        }
    }

    /// Lower-case name, as used in messages and the query language.
    pub fn name(self) -> &'static str {
        match self {
            Field::EventType => "type",
            Field::Service => "service",
            Field::Method => "method",
            Field::Principal => "principal",
            Field::Organization => "organization",
            Field::Environment => "environment",
            Field::Resource => "resource",
            Field::Scope => "scope",
            Field::ResourceType => "resource_type",
            Field::ResourceId => "resource_id",
            Field::Status => "status",
            Field::Access => "access_type",
            Field::ClientIp => "client_ip",
            Field::ErrorCode => "error_code",
            Field::Source => "source",
            Field::WireForm => "wire_form",
        }
    }
}

/// How a field is indexed. Low-cardinality fields get small integer ids from
/// a global dictionary; high-cardinality ones are indexed per block by their
/// text, so memory does not grow with every new resource; client addresses
/// live only in a dense column (scanned, which also serves CIDR matching).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Dictionary id postings (and a dense column for [`DENSE`] fields).
    Dictionary,
    /// Per-block postings keyed by the value's text.
    Term,
    /// A dense per-record column only.
    Column,
}

/// Fields kept as one value per record, in dense columns, for scans and
/// aggregations. The first term of each is the record's value.
pub const DENSE: [Field; 9] = [
    Field::EventType,
    Field::Service,
    Field::Method,
    Field::Principal,
    Field::Organization,
    Field::Environment,
    Field::ResourceType,
    Field::Status,
    Field::Access,
];

/// The index's view of one record.
///
/// The values live in one string buffer, so a record's fields cost two
/// allocations however many terms it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// `time` in nanoseconds since the epoch, when it parses.
    pub time: Option<i64>,
    text: String,
    terms: Vec<(Field, u32, u32)>,
    /// Hashes of the record's free-text words ([`word_hash`]), in order.
    pub tokens: Vec<u64>,
}

impl Fields {
    /// Add `(field, value)` unless it is empty or already present.
    pub fn push(&mut self, f: Field, v: Option<&str>) {
        let Some(v) = v.filter(|v| !v.is_empty()) else {
            return;
        };
        // A field's values are pushed together, so only the run at the end
        // can hold a duplicate.
        let dup = self
            .terms
            .iter()
            .rev()
            .take_while(|(g, _, _)| *g == f)
            .any(|(_, a, b)| self.text.get(*a as usize..*b as usize) == Some(v));
        if dup {
            return;
        }
        let start = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.text.push_str(v);
        let end = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        self.terms.push((f, start, end));
    }

    /// Every `(field, value)`, in the order they were added.
    pub fn terms(&self) -> impl Iterator<Item = (Field, &str)> {
        self.terms
            .iter()
            .map(|(f, a, b)| (*f, self.text.get(*a as usize..*b as usize).unwrap_or("")))
    }

    /// The values of `field`.
    pub fn values(&self, field: Field) -> impl Iterator<Item = &str> {
        self.terms()
            .filter(move |(f, _)| *f == field)
            .map(|(_, v)| v)
    }
}

/// A client address as the 128-bit number stored in the IP column: IPv6
/// as is, IPv4 as `::ffff:a.b.c.d`. `None` when it is not an address.
pub fn ip_number(s: &str) -> Option<u128> {
    match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(u128::from(v4.to_ipv6_mapped())),
        std::net::IpAddr::V6(v6) => Some(u128::from(v6)),
    }
}

/// Hash of a record id, the key of the id index. Stable across versions
/// (XXH3-64); never 0, which marks "no id".
pub fn id_hash(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes()).max(1)
}

/// Extract the index fields of a record.
pub fn extract(r: &Record) -> Fields {
    extract_with_target(r, r.resource_crn())
}

/// [`extract`], given the record's target CRN as [`Record::resource_crn`]
/// returns it (the validator parses it already).
pub fn extract_with_target(r: &Record, crn: Option<Crn>) -> Fields {
    let mut t = Fields {
        time: None,
        text: String::with_capacity(512),
        terms: Vec::with_capacity(24),
        tokens: Vec::new(),
    };
    t.push(Field::EventType, r.event_type.as_deref());
    t.push(Field::Service, r.service_name());
    t.push(Field::Method, r.method_name());
    let p = r.principal();
    t.push(Field::Principal, p.id);
    t.push(Field::Principal, p.email);
    t.push(Field::Principal, p.identity);
    // Organization, environment, resource and scopes all come from the one
    // parsed target CRN.
    let (org, env) = r.tenant(crn.as_ref());
    t.push(Field::Organization, org.as_deref());
    t.push(Field::Environment, env.as_deref());
    let resources = r.audit().and_then(|d| d.cloud_resources.as_ref());
    for c in resources.into_iter().flatten() {
        if let Some(res) = &c.resource {
            t.push(Field::ResourceType, res.resource_type.as_deref());
        }
    }
    if let Some(crn) = &crn {
        let mut last = String::new();
        crn.for_each_prefix(|s| {
            t.push(Field::Scope, Some(s));
            last.clear();
            last.push_str(s);
        });
        t.push(Field::Resource, Some(&last));
        t.push(Field::ResourceId, crn.leaf().map(|l| l.value));
    }
    for c in resources.into_iter().flatten() {
        if let Some(res) = &c.resource {
            t.push(Field::ResourceId, res.resource_id.as_deref());
        }
    }
    t.push(Field::Status, r.status());
    t.push(Field::Access, r.access_type());
    for ip in r.client_ips() {
        t.push(Field::ClientIp, Some(ip));
    }
    for code in r.error_codes() {
        t.push(Field::ErrorCode, Some(code));
    }
    t.push(Field::Source, r.source.as_deref());
    t.push(Field::WireForm, Some(r.wire_form().as_str()));
    t.time = r
        .timestamp()
        .and_then(|ts| i64::try_from(ts.unix_nanos).ok());
    t
}

/// The canonical form of a CRN string, for `Field::Resource` and scope lookups.
pub fn canonical_crn(s: &str) -> Option<String> {
    Crn::parse(s).ok().map(|c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(*f as u8 as usize, i + 1);
            assert_eq!(Field::from_code(*f as u8), Some(*f));
        }
    }

    #[test]
    fn extracts_seed_fields() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/seed-examples/connector-01-CreateConnector-success.json"
        ))
        .unwrap();
        let r = Record::parse(&bytes).unwrap();
        let f = extract(&r);
        assert_eq!(
            f.values(Field::Method).collect::<Vec<_>>(),
            ["CreateConnector"]
        );
        assert_eq!(
            f.values(Field::Principal).collect::<Vec<_>>(),
            ["u-4rxom7", "someone@example.com"]
        );
        assert_eq!(
            f.values(Field::Environment).collect::<Vec<_>>(),
            ["env-abc123"]
        );
        let scopes: Vec<_> = f.values(Field::Scope).collect();
        assert_eq!(scopes.len(), 5);
        assert_eq!(scopes[0], "crn://confluent.cloud/");
        assert!(scopes[4].ends_with("/connector=lcc-pkdrjy"));
        assert_eq!(
            f.values(Field::ResourceId).collect::<Vec<_>>(),
            ["lcc-pkdrjy"]
        );
        assert_eq!(f.values(Field::ClientIp).collect::<Vec<_>>(), ["1.2.3.4"]);
        assert_eq!(f.time, Some(1_634_760_056_417_826_232));
        assert_ne!(id_hash("x"), 0);
    }
}
