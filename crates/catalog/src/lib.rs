//! The event catalog: which event types, categories, resource types and
//! auditable methods exist, kept as data (`data/confluent-cloud.toml`,
//! compiled in) and extensible from a user's own TOML file.
//!
//! The catalog knows nothing about records; the validator and the SDK read it.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod types;

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use types::CatalogFile;
pub use types::{AccessType, Category, EventType, IdFormat, Method, ResourceType};

/// The built-in catalog text.
pub const BUILTIN_TOML: &str = include_str!("../data/confluent-cloud.toml");

/// Why a catalog file cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file is not valid TOML or does not have the catalog's shape.
    #[error("catalog is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// The file declares a version this build does not read.
    #[error("catalog version {0} is not supported (this build reads version 1)")]
    Version(u32),
    /// A name is defined twice.
    #[error("{kind} {name:?} is defined twice (names and aliases must be unique)")]
    Duplicate {
        /// `method`, `event type`, …
        kind: &'static str,
        /// The name.
        name: String,
    },
    /// An entry refers to something the catalog does not define.
    #[error("{owner} refers to unknown {kind} {name:?}; define it in the same file or use a built-in name")]
    UnknownReference {
        /// What was referred to: `event type`, `resource type`.
        kind: &'static str,
        /// The unknown name.
        name: String,
        /// Who referred to it.
        owner: String,
    },
}

/// A resolved method lookup.
#[derive(Debug, Clone, Copy)]
pub struct MethodMatch<'a> {
    /// The catalog entry.
    pub method: &'a Method,
    /// The alias used, when the lookup went through one (e.g. `ListWorkspace`).
    pub alias: Option<&'a str>,
}

/// The event catalog.
///
/// Invariants: names of event types, resource types and methods (aliases
/// included) are unique, and every reference between entries resolves.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    event_types: Vec<EventType>,
    categories: Vec<Category>,
    resource_types: Vec<ResourceType>,
    methods: Vec<Method>,
    /// Method name or alias -> (index, is alias).
    method_index: HashMap<String, (usize, bool)>,
    /// Lookups used on every validated record.
    event_type_index: HashMap<String, usize>,
    resource_type_index: HashMap<String, usize>,
    crn_key_index: HashMap<String, usize>,
}

impl Catalog {
    /// The compiled-in Confluent Cloud catalog.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        // `tests::builtin_loads` guarantees the embedded file is valid; an
        // empty catalog is the no-panic fallback should that ever regress.
        BUILTIN.get_or_init(|| Catalog::from_toml_str(BUILTIN_TOML).unwrap_or_default())
    }

    /// Load a catalog from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Catalog, CatalogError> {
        let mut c = Catalog::default();
        c.merge_toml_str(text)?;
        Ok(c)
    }

    /// The built-in catalog plus the user's entries in `text`.
    pub fn builtin_with(text: &str) -> Result<Catalog, CatalogError> {
        let mut c = Catalog::builtin().clone();
        c.merge_toml_str(text)?;
        Ok(c)
    }

    /// Add the entries of a catalog file. Nothing is added if any entry is invalid.
    pub fn merge_toml_str(&mut self, text: &str) -> Result<(), CatalogError> {
        let file: CatalogFile = toml::from_str(text)?;
        if file.version != 1 {
            return Err(CatalogError::Version(file.version));
        }
        let mut next = self.clone();
        next.event_types.extend(file.event_type);
        next.categories.extend(file.category);
        next.resource_types.extend(file.resource_type);
        next.methods.extend(file.method);
        next.reindex()?;
        *self = next;
        Ok(())
    }

    fn reindex(&mut self) -> Result<(), CatalogError> {
        self.event_type_index = self
            .event_types
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        self.resource_type_index = self
            .resource_types
            .iter()
            .enumerate()
            .map(|(i, r)| (r.name.clone(), i))
            .collect();
        self.crn_key_index = HashMap::default();
        for (i, r) in self.resource_types.iter().enumerate() {
            if let Some(k) = &r.crn_key {
                // The first type defined for a key wins.
                self.crn_key_index.entry(k.clone()).or_insert(i);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for e in &self.event_types {
            if !seen.insert(e.name.as_str()) {
                return Err(CatalogError::Duplicate {
                    kind: "event type",
                    name: e.name.clone(),
                });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for r in &self.resource_types {
            if !seen.insert(r.name.as_str()) {
                return Err(CatalogError::Duplicate {
                    kind: "resource type",
                    name: r.name.clone(),
                });
            }
        }
        for r in &self.resource_types {
            for s in &r.scope {
                if self.resource_type(s).is_none() {
                    return Err(unknown(
                        "resource type",
                        s,
                        format!("resource type {}", r.name),
                    ));
                }
            }
        }
        for c in &self.categories {
            if self.event_type(&c.event_type).is_none() {
                return Err(unknown(
                    "event type",
                    &c.event_type,
                    format!("category {:?}", c.name),
                ));
            }
        }
        let mut index = HashMap::default();
        for (i, m) in self.methods.iter().enumerate() {
            if self.event_type(&m.event_type).is_none() {
                return Err(unknown(
                    "event type",
                    &m.event_type,
                    format!("method {}", m.name),
                ));
            }
            if self.resource_type(&m.resource_type).is_none() {
                return Err(unknown(
                    "resource type",
                    &m.resource_type,
                    format!("method {}", m.name),
                ));
            }
            let names =
                std::iter::once((&m.name, false)).chain(m.aliases.iter().map(|a| (a, true)));
            for (name, alias) in names {
                if index.insert(name.clone(), (i, alias)).is_some() {
                    return Err(CatalogError::Duplicate {
                        kind: "method",
                        name: name.clone(),
                    });
                }
            }
        }
        self.method_index = index;
        Ok(())
    }

    /// All event types.
    pub fn event_types(&self) -> &[EventType] {
        &self.event_types
    }

    /// All categories and subcategories.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// All resource types.
    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// All methods.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// An event type by exact name.
    pub fn event_type(&self, name: &str) -> Option<&EventType> {
        self.event_types.iter().find(|e| e.name == name)
    }

    /// A resource type by exact name.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types.iter().find(|r| r.name == name)
    }

    /// The resource type whose CRN segment key is `key` (the first defined).
    pub fn resource_type_for_crn_key(&self, key: &str) -> Option<&ResourceType> {
        self.resource_types
            .iter()
            .find(|r| r.crn_key.as_deref() == Some(key))
    }

    /// A method by name or alias.
    pub fn method(&self, name: &str) -> Option<MethodMatch<'_>> {
        let &(i, alias) = self.method_index.get(name)?;
        let method = self.methods.get(i)?;
        // Borrow the alias from the catalog so the match outlives `name`.
        let alias = if alias {
            method
                .aliases
                .iter()
                .find(|a| *a == name)
                .map(String::as_str)
        } else {
            None
        };
        Some(MethodMatch { method, alias })
    }

    /// Whether `ancestor` is in the scope chain of resource type `ty` (or is `ty`).
    pub fn is_same_or_ancestor(&self, ancestor: &str, ty: &str) -> bool {
        ancestor == ty
            || self
                .resource_type(ty)
                .is_some_and(|r| r.scope.iter().any(|s| s == ancestor))
    }

    /// Methods whose resource type is `resource_type`.
    pub fn methods_for_resource_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Method> {
        self.methods
            .iter()
            .filter(move |m| m.resource_type == resource_type)
    }
}

fn unknown(kind: &'static str, name: &str, owner: String) -> CatalogError {
    CatalogError::UnknownReference {
        kind,
        name: name.to_owned(),
        owner,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_loads() {
        let c = Catalog::from_toml_str(BUILTIN_TOML).unwrap();
        assert_eq!(c.event_types().len(), 13);
        assert_eq!(c.methods().len(), 34);
        assert_eq!(c.categories().len(), 47);
    }

    #[test]
    fn aliases_resolve() {
        let c = Catalog::builtin();
        let m = c.method("ListWorkspace").unwrap();
        assert_eq!(m.method.name, "ListWorkspaces");
        assert_eq!(m.alias, Some("ListWorkspace"));
        assert!(c.method("ListWorkspaces").unwrap().alias.is_none());
        assert!(c.method("listworkspaces").is_none());
    }

    #[test]
    fn the_example_extension_loads() {
        let text = include_str!("../../../examples/catalog/kafka-extras.toml");
        let c = Catalog::builtin_with(text).unwrap();
        assert_eq!(
            c.method("mds.Authorize").unwrap().method.access_type,
            AccessType::ReadOnly
        );
        assert_eq!(c.methods().len(), 39);
    }

    #[test]
    fn id_shapes() {
        let c = Catalog::builtin();
        let org = c.resource_type("ORGANIZATION").unwrap();
        assert!(org.id_is_well_formed("3bd538c6-caa8-42ec-b60b-00bbf2e749f1"));
        assert!(!org.id_is_well_formed("ffffffff-gggg-hhhh-iiii-jjjjjjjjjjjj"));
        let cl = c.resource_type("CLOUD_CLUSTER").unwrap();
        assert!(cl.id_is_well_formed("lkc-12j2w5") && !cl.id_is_well_formed("lkc-"));
        assert_eq!(cl.id_shape(), "lkc-…");
        assert!(c
            .resource_type("FLINK_REGION")
            .unwrap()
            .id_is_well_formed("aws.us-east-1"));
    }

    #[test]
    fn user_files_extend_and_are_checked() {
        let extra = r#"
            version = 1
            [[resource_type]]
            name = "WIDGET"
            crn_key = "widget"
            scope = ["ORGANIZATION", "ENVIRONMENT"]
            description = "A widget."
            [[method]]
            name = "CreateWidget"
            resource_type = "WIDGET"
            event_type = "io.confluent.cloud/request"
            access_type = "MODIFICATION"
            description = "A request to create a widget."
        "#;
        let c = Catalog::builtin_with(extra).unwrap();
        assert_eq!(
            c.method("CreateWidget").unwrap().method.access_type,
            AccessType::Modification
        );
        assert!(c.is_same_or_ancestor("ENVIRONMENT", "WIDGET"));

        let dup = extra.replace("CreateWidget", "CreateConnector");
        assert!(matches!(
            Catalog::builtin_with(&dup),
            Err(CatalogError::Duplicate { .. })
        ));
        let bad = extra.replace(
            "scope = [\"ORGANIZATION\", \"ENVIRONMENT\"]",
            "scope = [\"NOPE\"]",
        );
        let e = Catalog::builtin_with(&bad).unwrap_err();
        assert!(
            e.to_string().contains("unknown resource type \"NOPE\""),
            "{e}"
        );
        let typo = extra.replace("access_type", "acces_type");
        assert!(matches!(
            Catalog::builtin_with(&typo),
            Err(CatalogError::Parse(_))
        ));
    }
}
