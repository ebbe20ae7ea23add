//! The ceiling of an HTTP front for the producer on this machine: serve's
//! HTTP stack (axum on a multi-thread tokio runtime, a blocking thread per
//! request) and our `Producer`, with serve's checks taken out — no record
//! parsing, validation, redaction or indexer. Each NDJSON line goes to the
//! topic as it came and the answer lists where each landed, as serve's
//! does. No product should ship this (it accepts anything); it measures how
//! close to a raw producer *any* validating HTTP ingest could get here, so
//! the gap between serve and the raw producer can be split into "HTTP in
//! front" and "checks". Two rungs add the least a front that answers bad
//! JSON with a 4xx must do: a syntax check (serde_json into a borrowed
//! `RawValue`, no allocation), and a parse into `serde_json::Value`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use auditlog_kafka::produce::Producer;
use auditlog_kafka::KafkaConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;

use super::broker::Broker;
use super::produce::{Meter, Produced};
use crate::ingest::{ndjson_bodies, post_batches};

/// Time both sides give their clients to connect before the clock starts.
const SETTLE: Duration = Duration::from_secs(1);

/// What the front checks of each line before producing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checks {
    /// Nothing.
    None,
    /// That it is one JSON value (serde_json, borrowed `RawValue`).
    Syntax,
    /// That it parses into a `serde_json::Value` object.
    Value,
}

impl Checks {
    pub fn label(self) -> &'static str {
        match self {
            Checks::None => "ref: HTTP + Producer, no checks",
            Checks::Syntax => "ref: same + JSON syntax check",
            Checks::Value => "ref: same + serde_json Value parse",
        }
    }

    /// Whether `line` passes.
    fn pass(self, line: &[u8]) -> bool {
        match self {
            Checks::None => true,
            Checks::Syntax => serde_json::from_slice::<&serde_json::value::RawValue>(line).is_ok(),
            Checks::Value => {
                serde_json::from_slice::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
            }
        }
    }
}

/// `POST /v1/events:batch`: every non-blank line that passes the check to
/// the topic, then the per-item report serve would give for an
/// all-accepted batch (a line that fails fails the whole request here).
async fn batch(
    State((p, checks)): State<(Arc<Producer>, Checks)>,
    body: Bytes,
) -> (StatusCode, String) {
    let sent = tokio::task::spawn_blocking(move || {
        let lines: Vec<Vec<u8>> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| checks.pass(l).then(|| l.to_vec()))
            .collect::<Option<_>>()?;
        Some(p.send_all_blocking(&lines))
    })
    .await;
    match sent {
        Ok(None) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "a line failed the check".into(),
        ),
        Ok(Some(Ok(landed))) => {
            let mut out = format!(
                "{{\"accepted\":{},\"duplicates\":0,\"rejected\":0,\"conflicts\":0,\"items\":[",
                landed.len()
            );
            for (i, l) in landed.iter().enumerate() {
                let comma = if i > 0 { "," } else { "" };
                let _ = write!(
                    out,
                    "{comma}{{\"index\":{i},\"status\":\"accepted\",\"partition\":{},\"kafka_offset\":{}}}",
                    l.partition, l.offset
                );
            }
            out.push_str("]}");
            (StatusCode::OK, out)
        }
        Ok(Some(Err(e))) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

/// POST `events` in `batch`-record NDJSON bodies over `connections`
/// connections to the check-free front, which runs in this process (its
/// CPU is in `bench_cpu`).
pub fn http_front(
    broker: &Broker,
    topic: &str,
    events: &[Vec<u8>],
    batch_size: usize,
    connections: usize,
    checks: Checks,
) -> Result<Produced> {
    let mut cfg = KafkaConfig::new(broker.bootstrap());
    cfg.topic = topic.to_owned();
    // The delivery timeout serve uses.
    let producer = Arc::new(Producer::new(&cfg, Duration::from_secs(10))?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ceiling-http")
        .build()
        .context("starting the ceiling's runtime")?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let port = listener.local_addr()?.port();
    let app = axum::Router::new()
        .route("/v1/events:batch", post(batch))
        // serve's body limit is larger than any batch here; so is this one.
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
        .with_state((producer, checks));
    rt.spawn(async move { axum::serve(listener, app).await });
    let bodies = ndjson_bodies(events, batch_size);
    std::thread::sleep(SETTLE);
    let meter = Meter::start(broker);
    let posted = post_batches(
        &format!("http://127.0.0.1:{port}/v1/events:batch"),
        bodies,
        connections,
    )?;
    let measured = meter.finish(broker, topic, posted.accepted, posted.latencies);
    rt.shutdown_timeout(Duration::from_secs(1));
    measured
}
