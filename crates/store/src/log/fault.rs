//! Fault injection for crash-consistency tests: a hook consulted before every
//! log and tree write and sync that can make it fail, or write only part of it.

use std::sync::Arc;

/// The operation about to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Appending `bytes` bytes of frames.
    Write { bytes: usize },
    /// fdatasync.
    Sync,
    /// Writing `bytes` bytes of Merkle tree hashes (after the log's sync).
    TreeWrite { bytes: usize },
    /// fdatasync of the tree file (before an index block is sealed).
    TreeSync,
}

/// What the hook wants to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Do it.
    Proceed,
    /// Fail without touching the file.
    Fail,
    /// Write only the first `n` bytes, then fail (a torn write).
    Partial(usize),
}

/// The hook type.
pub type FaultHook = Arc<dyn Fn(Fault) -> FaultAction + Send + Sync>;
