//! `auditlog consume --server URL`: the indexer's sink is a running
//! `auditlog serve`. Records go through `POST /v1/events:batch` (the same
//! checks and deduplication as any client); what the server refuses, and
//! what is not a record at all, goes to its quarantine (`POST
//! /v1/quarantine`). A server that is down or overloaded is retried with
//! backoff, so offsets are committed only for records it acknowledged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use auditlog_kafka::index::{Incoming, Quarantined, Sink, Verdict};
use auditlog_sdk::transport::{Delivery, HttpTransport, Transport, TransportError};

/// Records per request (the SDK's batch size).
const CHUNK: usize = 1_000;

/// A sink into a running server.
pub struct ServerSink {
    base: String,
    transport: HttpTransport,
    agent: ureq::Agent,
    topic: String,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for ServerSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSink")
            .field("base", &self.base)
            .finish()
    }
}

impl ServerSink {
    /// Deliver to the server at `base`; give up retrying once `stop` is set.
    pub fn new(base: &str, topic: &str, stop: Arc<AtomicBool>) -> ServerSink {
        ServerSink {
            base: base.trim_end_matches('/').to_owned(),
            transport: HttpTransport::new(base),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(30)))
                .build()
                .into(),
            topic: topic.to_owned(),
            stop,
        }
    }

    /// Run `attempt` until it succeeds, backing off (honouring the server's
    /// `Retry-After`) — or until stopped, which fails the batch so nothing of
    /// it is committed.
    fn retry<T>(
        &mut self,
        mut attempt: impl FnMut(&mut Self) -> Result<T, TransportError>,
    ) -> Result<T, String> {
        let mut wait = Duration::from_millis(100);
        loop {
            match attempt(self) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    if self.stop.load(Ordering::Relaxed) {
                        return Err(format!("stopped while the server was not accepting: {e}"));
                    }
                    let pause = match &e {
                        TransportError::Unavailable {
                            retry_after: Some(r),
                            ..
                        } => *r,
                        _ => wait,
                    };
                    tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "the server did not take the batch; retrying");
                    std::thread::sleep(pause);
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sink for ServerSink {
    fn store(&mut self, batch: &[Incoming]) -> Result<Vec<Verdict>, String> {
        let mut out = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(CHUNK) {
            let records: Vec<Vec<u8>> = chunk.iter().map(|i| i.record.clone()).collect();
            let deliveries = self.retry(|s| s.transport.send(&records))?;
            if deliveries.len() != records.len() {
                return Err(format!(
                    "the server answered {} items for {} records",
                    deliveries.len(),
                    records.len()
                ));
            }
            out.extend(deliveries.into_iter().map(|d| match d {
                Delivery::Stored => Verdict::Stored,
                Delivery::Rejected { status, detail } => {
                    Verdict::Refused(format!("the server refused it ({status}): {detail}"))
                }
            }));
        }
        Ok(out)
    }

    fn quarantine(&mut self, items: &[Quarantined]) -> Result<(), String> {
        let body = serde_json::json!({
            "topic": self.topic,
            "items": items.iter().map(|q| serde_json::json!({
                "partition": q.partition,
                "offset": q.offset,
                "reason": q.reason,
                "raw_hex": hex(&q.raw),
            })).collect::<Vec<_>>(),
        })
        .to_string();
        let url = format!("{}/v1/quarantine", self.base);
        self.retry(|s| {
            let mut r = s
                .agent
                .post(&url)
                .header("content-type", "application/json")
                .send(body.as_bytes())
                .map_err(|e| TransportError::Unavailable {
                    detail: format!("{url}: {e}"),
                    retry_after: None,
                })?;
            let status = r.status().as_u16();
            if status == 200 {
                return Ok(());
            }
            let detail = r.body_mut().read_to_string().unwrap_or_default();
            Err(if status >= 500 || status == 429 {
                TransportError::Unavailable {
                    detail: format!("{url}: {status} {detail}"),
                    retry_after: None,
                }
            } else {
                TransportError::Refused { status, detail }
            })
        })
    }
}
