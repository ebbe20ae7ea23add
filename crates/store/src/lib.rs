//! The embedded store. The segment log (`log/`) is the durable source of
//! truth; a record is acknowledged once its frame is fsync'd. The index
//! (`block/`, `meta.rs`) is derived from the log: the newest block lives in
//! memory, full blocks are sealed into SQLite, and everything unsealed is
//! rebuilt from the log when the store opens.
//!
//! Threads, not async: one writer (group commit, dedup, indexing), one
//! sealer, and any number of readers. No HTTP here.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod block;
mod bloom;
mod check;
pub mod dict;
mod error;
pub mod fields;
mod lock;
pub mod log;
pub mod meta;
mod store;

pub use check::{check, CheckReport, Problem};
pub use error::StoreError;
pub use fields::{extract, extract_with_target, id_hash, ConflictPolicy, Field, Fields, Prepared};
pub use store::{CommitObserver, Options, Outcome, Stats, Store, FORMAT};
