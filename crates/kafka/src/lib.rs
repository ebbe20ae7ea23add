//! Kafka as the audit log's backbone: records are written to a topic (by
//! default `confluent-audit-log-events`, as Confluent Cloud names it) and
//! indexers consume it into queryable stores.
//!
//! - [`KafkaConfig`]: brokers, topic, SASL_SSL/PLAIN credentials.
//! - [`produce::Producer`]: idempotent, `acks=all`, keyed by organization,
//!   structured-mode CloudEvents (`content-type: application/cloudevents+json`).
//! - [`decode`]: one Kafka message (structured or binary mode) to record
//!   bytes, or the reason it goes to quarantine. Pure.
//! - [`index::Indexer`]: a consumer-group member that hands batches to a
//!   [`index::Sink`] and commits offsets only after the sink has stored them.
//! - [`transport::KafkaTransport`]: the SDK's `Transport` over the producer.
//!
//! The crate knows nothing about the store or the server: the sink decides
//! what storing and quarantining mean. Everything but [`decode`] and
//! [`partition`] needs the default `client` feature (rdkafka).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// Pure: no I/O, built with or without the client.
pub mod decode;
pub mod partition;

#[cfg(feature = "client")]
pub mod config;
#[cfg(feature = "client")]
pub mod index;
#[cfg(feature = "client")]
pub mod produce;
#[cfg(feature = "client")]
mod topic;
#[cfg(feature = "client")]
pub mod transport;
#[cfg(feature = "client")]
mod watch;

#[cfg(feature = "client")]
pub use config::{KafkaConfig, Sasl, DEFAULT_TOPIC};

/// Why a Kafka operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// The client could not be created (bad settings).
    #[error("kafka client settings are not valid: {0}")]
    Config(String),
    /// The broker did not acknowledge in time, or refused.
    #[error(
        "the Kafka broker did not acknowledge: {0}; is it reachable at the bootstrap address?"
    )]
    Unavailable(String),
    /// Anything else librdkafka reports.
    #[cfg(feature = "client")]
    #[error("kafka: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
}
