//! The pure data model of auditlog: lossless JSON, typed CloudEvents audit
//! records in both wire forms, Confluent Resource Names and RFC 3339 time.
//!
//! This crate does no I/O, spawns nothing and knows nothing about storage,
//! HTTP or the catalog. Every parser here takes untrusted bytes and must
//! return an error rather than panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod binary;
pub mod crn;
pub mod fields;
pub mod json;
pub mod path;
pub mod record;
pub mod suggest;
pub mod time;
pub mod words;

pub use crn::{Crn, CrnError, CrnErrorKind};
pub use json::{Json, Object};
pub use record::{parse_record, ParsedRecord, Record, RecordError};
pub use time::{parse_rfc3339, Timestamp};
