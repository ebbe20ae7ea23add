//! The SDK's Kafka transport: batches go straight to the audit-log topic,
//! with the same spool, retries and no-loss accounting as HTTP (the client's
//! worker does all of that; this only writes and waits for acks).

use std::time::Duration;

use auditlog_sdk::transport::{Delivery, Transport, TransportError};

use crate::config::KafkaConfig;
use crate::produce::Producer;
use crate::KafkaError;

/// Writes SDK batches to the topic.
#[derive(Debug)]
pub struct KafkaTransport {
    producer: Producer,
}

impl KafkaTransport {
    /// A transport for `cfg`'s topic.
    pub fn new(cfg: &KafkaConfig) -> Result<KafkaTransport, KafkaError> {
        Ok(KafkaTransport {
            producer: Producer::new(cfg, Duration::from_secs(10))?,
        })
    }
}

impl Transport for KafkaTransport {
    fn send(&mut self, batch: &[Vec<u8>]) -> Result<Vec<Delivery>, TransportError> {
        // The topic stores what it is given; validation happens in the
        // indexers, which quarantine what they cannot store.
        match self.producer.send_all_blocking(batch) {
            Ok(landed) => Ok(landed.iter().map(|_| Delivery::Stored).collect()),
            Err(e) => Err(TransportError::Unavailable {
                detail: e.to_string(),
                retry_after: None,
            }),
        }
    }
}
