//! Query execution over the embedded store: the filter language planned
//! against each index block, inexact candidates verified against record
//! bytes, stable cursors over an immutable log, and aggregations that use
//! per-block rollups when they can.
//!
//! Threads and SQLite reads, no HTTP: the server and the CLI are thin layers
//! over [`search`], [`stats`] and [`explain`].
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod access;
pub mod bits;
pub mod cursor;
pub mod eval;
pub mod exec;
pub mod explain;
pub mod search;
pub mod stats;

pub use cursor::Cursor;
pub use exec::{Order, Work};
pub use explain::explain;
pub use search::{search, Page, SearchRequest};
pub use stats::{stats, Group, StatsRequest, StatsResult};

/// Query failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    #[error(transparent)]
    Store(#[from] auditlog_store::StoreError),
    #[error(transparent)]
    Meta(#[from] auditlog_store::meta::MetaError),
    #[error("index: {0}")]
    Index(String),
    #[error("bad cursor `{0}`: pass the `next_cursor` of the previous page unchanged")]
    Cursor(String),
    #[error("cannot group by `{0}`; group by one of: {1}")]
    GroupBy(String, String),
    #[error("bad interval `{0}`: use a number and a unit, e.g. 30s, 5m, 1h, 1d")]
    Interval(String),
}
