//! How batches of events leave the process. The client's worker owns one
//! [`Transport`]; HTTP to `auditlog serve` is built in, and a Kafka producer
//! plugs in behind the same trait.

mod http;

use std::time::Duration;

pub use http::HttpTransport;

/// What became of one record of a delivered batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Stored now, or already stored earlier (a retry the server recognised
    /// by its id): either way it is in the log exactly once.
    Stored,
    /// Refused for good: the record itself is wrong. Retrying cannot help;
    /// the client keeps it in its dead-letter file.
    Rejected {
        /// HTTP-like status (422, 409, 413, …).
        status: u16,
        /// Why.
        detail: String,
    },
}

/// Why a batch was not delivered; every variant is retried, because an audit
/// event is never given up on for a problem outside the record itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The destination cannot be reached or is not accepting writes now.
    #[error("destination unavailable: {detail}")]
    Unavailable {
        /// What happened.
        detail: String,
        /// How long the destination asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The destination refused the whole request for a reason that needs an
    /// operator (bad credentials, wrong URL); retried with backoff meanwhile.
    #[error("destination refused the batch ({status}): {detail}")]
    Refused {
        /// HTTP-like status.
        status: u16,
        /// Why.
        detail: String,
    },
}

/// Delivers batches of canonical records (one JSON object each, no newline).
///
/// Contract: `Ok` carries exactly one [`Delivery`] per record, in order, and
/// means every `Stored` record is durable at the destination. `Err` means the
/// caller must assume nothing was stored; a retry is safe because records are
/// idempotent by `(source, id)`.
pub trait Transport: Send + 'static {
    /// Deliver one batch.
    fn send(&mut self, batch: &[Vec<u8>]) -> Result<Vec<Delivery>, TransportError>;
}
