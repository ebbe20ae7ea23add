//! The embedded store. The segment log (`log/`) is the durable source of
//! truth; a record is acknowledged once its frame is fsync'd. The index
//! (`block/`, `meta.rs`) is derived from the log: the newest block lives in
//! memory, full blocks are sealed into SQLite, and everything unsealed is
//! rebuilt from the log when the store opens. So is the Merkle tree
//! (`tree/`): its hashes are synced in the same commit, before the
//! acknowledgement, and extended or repaired from the log on open.
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
mod lock;
pub mod log;
pub mod meta;
pub mod prepared;
mod store;
pub mod tree;

pub use auditlog_model::fields::{extract, extract_with_target, id_hash, Field, FieldKind, Fields};
pub use check::{check, CheckReport, Problem};
pub use error::StoreError;
pub use meta::BlockMeta;
pub use prepared::{ConflictPolicy, Prepared};
/// The SQLite binding the index database uses, for readers of `meta`.
pub use rusqlite;
pub use store::{
    CommitObserver, Options, Outcome, Snapshot, Stats, Store, FORMAT, WITHOUT_TREE_ENV,
};
pub use tree::verify::{verify_tree, TreeCheck};
pub use tree::{TreeFileError, TreeReader, TreeWriter};
