//! The small SQLite files the server keeps beside the store
//! (`checkpoints.db`, `quarantine.db`): opened the same way, durable on
//! every commit.

use auditlog_store::rusqlite::{Connection, Result};

/// Open (or create) `path` in WAL mode with `synchronous = full`: a row
/// written is on disk when the transaction returns.
pub(crate) fn open(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch("pragma journal_mode = wal; pragma synchronous = full;")?;
    Ok(conn)
}
