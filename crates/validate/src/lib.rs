//! The validator: turns a parsed [`Record`] into a list of [`Diagnostic`]s,
//! each with a JSON path, a stable code, a severity and a message.
//!
//! Parsing never fails on a well-formed JSON object; this crate is where a
//! record's problems are named. It reads the catalog but does no I/O.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod batch;
mod data_scope;
mod diagnostic;
mod envelope;
mod payload;
mod resources;

pub use batch::DuplicateTracker;
pub use diagnostic::{Code, Diagnostic, Severity};

use auditlog_catalog::Catalog;
use auditlog_model::Record;

/// Validates records against the CloudEvents envelope rules and a catalog.
#[derive(Debug, Clone, Copy)]
pub struct Validator<'c> {
    catalog: &'c Catalog,
}

impl Default for Validator<'static> {
    fn default() -> Self {
        Validator {
            catalog: Catalog::builtin(),
        }
    }
}

impl<'c> Validator<'c> {
    /// A validator that knows the methods in `catalog`.
    pub fn new(catalog: &'c Catalog) -> Self {
        Validator { catalog }
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &'c Catalog {
        self.catalog
    }

    /// Every finding about `record`, in a stable order.
    pub fn validate(&self, record: &Record) -> Vec<Diagnostic> {
        self.validate_with_target(record).0
    }

    /// [`Validator::validate`], also returning the record's target CRN
    /// (`resourceName`, else `subject`) as parsed along the way, so callers
    /// that index the record need not parse it again.
    pub fn validate_with_target(
        &self,
        record: &Record,
    ) -> (Vec<Diagnostic>, Option<auditlog_model::Crn>) {
        let mut out = Vec::new();
        envelope::check(record, &mut out);
        payload::check(record, self.catalog, &mut out);
        let target = resources::check(record, self.catalog, &mut out);
        (out, target)
    }
}

/// Validate with the built-in catalog.
pub fn validate(record: &Record) -> Vec<Diagnostic> {
    Validator::default().validate(record)
}

/// The worst severity in `diags`, if any.
pub fn worst(diags: &[Diagnostic]) -> Option<Severity> {
    diags.iter().map(|d| d.severity).max()
}

/// The path of the member `camel` of an object at `base`, spelled as the record spells it.
pub(crate) fn at(base: &str, key: &str) -> String {
    auditlog_model::path::key(base, key)
}
