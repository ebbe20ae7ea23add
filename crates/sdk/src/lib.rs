//! The auditlog SDK: what a service links to emit audit events.
//!
//! - [`methods`]: a typed entry point per catalog method
//!   (`CreateConnector::on(org, env, cluster, id)`), building on [`EventBuilder`].
//! - [`AuditClient`]: non-blocking `emit`, batching, retry with backoff and
//!   jitter, a disk spool, counters; delivery through a [`Transport`].
//! - [`layer::AuditLayer`] (feature `axum`): tower middleware that derives
//!   the event from each request and response.
//!
//! Secrets in `request.data` and `result.data` are redacted
//! (`auditlog-redact`) before an event leaves the process.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod client;
pub mod convert;
pub mod event;
pub mod methods;
pub mod spool;
pub mod transport;

#[cfg(feature = "axum")]
pub mod layer;

pub use client::{AuditClient, ClientConfig, Counters, EmitError, Policy};
pub use event::{BuildError, ErrorEntry, Event, EventBuilder, Principal, PrincipalKind};
pub use transport::{HttpTransport, Transport, TransportError};
