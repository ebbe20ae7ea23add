//! Store errors.

use crate::log::LogError;
use crate::meta::MetaError;
use crate::tree::TreeFileError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The log failed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The index database failed.
    #[error(transparent)]
    Meta(#[from] MetaError),
    /// The Merkle tree file failed, contradicts the log, or a root or proof
    /// was asked beyond it.
    #[error(transparent)]
    Tree(#[from] TreeFileError),
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the data directory.
    #[error("data directory {dir} is in use by another auditlog process{}; stop it, or talk to it with --server URL", .pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked { dir: String, pid: Option<u32> },
    /// The directory was written by an incompatible version.
    #[error("data directory {dir} has format {found:?}; this build reads {expected:?}")]
    Format {
        dir: String,
        found: String,
        expected: &'static str,
    },
    /// The writer has stopped (shutdown, or an earlier I/O failure).
    #[error("the store is not accepting writes: {0}")]
    Unavailable(String),
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Io { context, source }
}
