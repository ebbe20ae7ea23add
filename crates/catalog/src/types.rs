//! Catalog entries, in the shape of the TOML file.

use serde::{Deserialize, Serialize};

/// The file format (`version = 1`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CatalogFile {
    pub version: u32,
    #[serde(default)]
    pub event_type: Vec<EventType>,
    #[serde(default)]
    pub category: Vec<Category>,
    #[serde(default)]
    pub resource_type: Vec<ResourceType>,
    #[serde(default)]
    pub method: Vec<Method>,
}

/// A CloudEvents `type`, e.g. `io.confluent.cloud/request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventType {
    /// The `type` value.
    pub name: String,
    /// The service(s) that emit it, as the reference table writes them.
    pub service: String,
    /// What it records.
    pub description: String,
}

/// A row of a category or subcategory table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// The table it belongs to, e.g. `Kafka cluster`.
    pub group: String,
    /// The category or subcategory name.
    pub name: String,
    /// Its event type.
    pub event_type: String,
    /// Resource types as the table writes them; empty for "n/a".
    pub resource_types: Vec<String>,
    /// What it covers.
    pub description: String,
}

/// A resource type and where it sits in the CRN hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceType {
    /// e.g. `CONNECTOR`.
    pub name: String,
    /// The CRN segment key, e.g. `connector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crn_key: Option<String>,
    /// Enclosing resource types, outermost first.
    #[serde(default)]
    pub scope: Vec<String>,
    /// The prefix well-formed ids carry, e.g. `lkc-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_prefix: Option<String>,
    /// A named id format: `uuid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_format: Option<IdFormat>,
    /// Where the CRN key comes from: `seed`, `doc` or `assumed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// What it is.
    pub description: String,
}

/// A named id shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdFormat {
    /// 8-4-4-4-12 hexadecimal.
    Uuid,
}

impl ResourceType {
    /// Whether `id` has the shape this type's ids have (true when none is declared).
    pub fn id_is_well_formed(&self, id: &str) -> bool {
        let prefix_ok = self
            .id_prefix
            .as_deref()
            .is_none_or(|p| id.starts_with(p) && id.len() > p.len());
        let format_ok = match self.id_format {
            None => true,
            Some(IdFormat::Uuid) => is_uuid(id),
        };
        prefix_ok && format_ok
    }

    /// Describe the expected id shape, e.g. `"lkc-…"` or `"a UUID"`.
    pub fn id_shape(&self) -> String {
        match (&self.id_prefix, self.id_format) {
            (Some(p), _) => format!("{p}…"),
            (None, Some(IdFormat::Uuid)) => "a UUID".into(),
            (None, None) => "any".into(),
        }
    }
}

/// `8-4-4-4-12` hex digits. Checked byte by byte: it runs for most
/// resource ids of every ingested record.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether a method reads or changes state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccessType {
    /// Reads only.
    ReadOnly,
    /// Changes something.
    Modification,
}

impl AccessType {
    /// `READ_ONLY` or `MODIFICATION`, as records write it.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::ReadOnly => "READ_ONLY",
            AccessType::Modification => "MODIFICATION",
        }
    }
}

/// An auditable event method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Method {
    /// e.g. `CreateConnector`.
    pub name: String,
    /// The resource type the method's table belongs to.
    pub resource_type: String,
    /// The CloudEvents type of its records.
    pub event_type: String,
    /// READ_ONLY or MODIFICATION.
    pub access_type: AccessType,
    /// The 004 category or subcategory it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Reference pages that list it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<String>,
    /// Other names records use for it.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The operation that triggers it.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::is_uuid;

    #[test]
    fn uuids_are_8_4_4_4_12_hex_digits() {
        assert!(is_uuid("0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d9e0f"));
        assert!(is_uuid("0F3C6F6E-2B1A-4C8E-9D3F-5A6B7C8D9E0F"));
        for bad in [
            "",
            "0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d9e0",
            "0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d9e0f0",
            "0f3c6f6e2b1a-4c8e-9d3f-5a6b7c8d9e0f-",
            "0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d9e0g",
            "0f3c6f6e-2b1a-4c8e-9d3f_5a6b7c8d9e0f",
            "0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d9eé",
            "sa-0f3c6f6e-2b1a-4c8e-9d3f-5a6b7c8d",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }
}
