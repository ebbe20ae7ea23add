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
//!
//! ```no_run
//! use auditlog_sdk::{methods::CreateConnector, AuditClient, ClientConfig, Principal};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let org = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";
//! let client = AuditClient::http("http://127.0.0.1:8080", ClientConfig {
//!     spool_dir: Some("/var/lib/myservice/audit-spool".into()),
//!     ..ClientConfig::default()
//! })?;
//! let body = auditlog_model::json::parse(br#"{"name":"s3-sink","kafka.api.secret":"s3cr3t"}"#)?;
//! let event = CreateConnector::on(org, "env-abc123", "lkc-12j2w5", "lcc-pkdrjy")
//!     .principal(Principal::user("u-4rxom7", org).with_email("someone@example.com"))
//!     .client_ip("1.2.3.4")
//!     .request_data(body)
//!     .success(None)
//!     .build()?;
//! client.emit(event)?;
//! # Ok(()) }
//! ```
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
