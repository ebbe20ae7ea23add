//! Fault injection for crash-consistency tests: a hook consulted before every
//! log write and sync that can make it fail, or write only part of it.

use std::sync::Arc;

/// The operation about to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Appending `bytes` bytes of frames.
    Write { bytes: usize },
    /// fdatasync.
    Sync,
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
