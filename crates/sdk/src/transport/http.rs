//! The HTTP transport: NDJSON batches to `POST /v1/events:batch` of
//! `auditlog serve`, reading the per-record report it answers with.

use std::time::Duration;

use serde::Deserialize;

use super::{Delivery, Transport, TransportError};

/// Talks to one `auditlog serve`.
#[derive(Debug)]
pub struct HttpTransport {
    url: String,
    agent: ureq::Agent,
}

impl HttpTransport {
    /// A transport for the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str) -> HttpTransport {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        HttpTransport {
            url: format!("{}/v1/events:batch", base.trim_end_matches('/')),
            agent,
        }
    }
}

#[derive(Deserialize)]
struct Report {
    items: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    status: String,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    detail: Option<String>,
}

fn retry_after(r: &http::Response<ureq::Body>) -> Option<Duration> {
    r.headers()
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

impl Transport for HttpTransport {
    fn send(&mut self, batch: &[Vec<u8>]) -> Result<Vec<Delivery>, TransportError> {
        let mut body = Vec::with_capacity(batch.iter().map(|r| r.len() + 1).sum());
        for r in batch {
            body.extend_from_slice(r);
            body.push(b'\n');
        }
        let mut resp = self
            .agent
            .post(&self.url)
            .header("content-type", "application/x-ndjson")
            .send(&body[..])
            .map_err(|e| TransportError::Unavailable {
                detail: format!("POST {}: {e}", self.url),
                retry_after: None,
            })?;
        let status = resp.status().as_u16();
        let wait = retry_after(&resp);
        let text = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_vec()
            .map_err(|e| TransportError::Unavailable {
                detail: format!("reading the answer of {}: {e}", self.url),
                retry_after: None,
            })?;
        match status {
            200 | 207 | 422 => {}
            429 | 500..=599 => {
                return Err(TransportError::Unavailable {
                    detail: format!("{status}: {}", String::from_utf8_lossy(&text).trim()),
                    retry_after: wait,
                })
            }
            _ => {
                return Err(TransportError::Refused {
                    status,
                    detail: String::from_utf8_lossy(&text).trim().to_owned(),
                })
            }
        }
        let report: Report =
            serde_json::from_slice(&text).map_err(|e| TransportError::Refused {
                status,
                detail: format!(
                    "the answer is not a batch report ({e}); is {} an auditlog server?",
                    self.url
                ),
            })?;
        if report.items.len() != batch.len() {
            return Err(TransportError::Refused {
                status,
                detail: format!(
                    "the server reported {} items for {} records",
                    report.items.len(),
                    batch.len()
                ),
            });
        }
        Ok(report
            .items
            .into_iter()
            .map(|i| match i.status.as_str() {
                "accepted" | "duplicate" => Delivery::Stored,
                _ => Delivery::Rejected {
                    status: i.http_status.unwrap_or(422),
                    detail: i.detail.unwrap_or_else(|| i.status.clone()),
                },
            })
            .collect())
    }
}
