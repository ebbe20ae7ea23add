//! The server's side of Kafka (feature `kafka`): the indexer's sink (records
//! go through exactly the checks HTTP ingest applies, then the store), the
//! quarantine table for messages that cannot be records, and its route.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use auditlog_kafka::index::{Incoming, Quarantined, Sink, Verdict};
use auditlog_store::rusqlite::{self, params, Connection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::{Caller, Scope};
use crate::ingest::{ingest_values, Ingested};
use crate::problem::Problem;
use crate::read::blocking;
use crate::AppState;

/// What a server in Kafka mode holds: the producer ingest writes through,
/// the quarantine, and the indexer's counters.
#[derive(Debug, Clone, Default)]
pub struct KafkaState {
    /// Set by `serve --kafka`: ingest writes here before acknowledging.
    pub producer: Option<auditlog_kafka::produce::Producer>,
    /// Set when an indexer runs into this store.
    pub quarantine: Option<QuarantineStore>,
    /// The indexer's counters and lag.
    pub index: Option<Arc<auditlog_kafka::index::IndexStats>>,
    /// Other nodes of the same group (`serve --peer`), for reads this
    /// node's store cannot answer completely (see `cluster`).
    pub peers: Vec<String>,
    /// High watermarks shared by concurrent reads (see `cluster`).
    pub watermarks: Arc<crate::cluster::Watermarks>,
}

impl KafkaState {
    /// An ingest node (`serve --ingest-only`): it produces, indexes nothing,
    /// and its own store stays empty.
    pub fn ingest_only(&self) -> bool {
        self.producer.is_some() && self.index.is_none()
    }
}

/// The indexer's thread; it ends with the indexer's result.
pub type IndexerThread = std::thread::JoinHandle<Result<(), auditlog_kafka::KafkaError>>;

/// Start an indexer thread consuming `cfg.topic` into `state`'s store until
/// `stop` is set. Returns its counters and the thread.
pub fn spawn_indexer(
    state: AppState,
    quarantine: QuarantineStore,
    cfg: &auditlog_kafka::KafkaConfig,
    options: auditlog_kafka::index::IndexOptions,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Result<(Arc<auditlog_kafka::index::IndexStats>, IndexerThread), auditlog_kafka::KafkaError> {
    let held = quarantine
        .progress()
        .map_err(auditlog_kafka::KafkaError::Unavailable)?;
    let mut indexer = auditlog_kafka::index::Indexer::new(cfg, options, held)?;
    let stats = indexer.stats();
    let handle = std::thread::Builder::new()
        .name("auditlog-indexer".into())
        .spawn(move || {
            let mut sink = StoreSink::new(state, quarantine);
            let result = indexer.run(&mut sink, &stop);
            if let Err(e) = &result {
                // Seen by /readyz and /metrics: the node answers but no
                // longer indexes.
                tracing::error!(error = %e, "the Kafka indexer stopped");
                if let Ok(mut f) = indexer.stats().failure.lock() {
                    *f = Some(e.to_string());
                }
            }
            result
        })
        .map_err(|e| auditlog_kafka::KafkaError::Config(e.to_string()))?;
    Ok((stats, handle))
}

/// Prometheus lines for the indexer.
pub fn render_metrics(k: &KafkaState, out: &mut String) {
    use std::fmt::Write as _;
    use std::sync::atomic::Ordering::Relaxed;
    if let Some(s) = &k.index {
        let up = s.failure.lock().map(|f| f.is_none()).unwrap_or(false);
        let _ = writeln!(out, "# HELP auditlog_kafka_indexer_up Whether the indexer is consuming (0: it stopped; see /readyz).\n# TYPE auditlog_kafka_indexer_up gauge\nauditlog_kafka_indexer_up {}", u8::from(up));
        let _ = writeln!(out, "# HELP auditlog_kafka_consumed_total Messages the indexer read.\n# TYPE auditlog_kafka_consumed_total counter\nauditlog_kafka_consumed_total {}", s.consumed.load(Relaxed));
        let _ = writeln!(out, "# HELP auditlog_kafka_stored_total Records the indexer stored (replays included).\n# TYPE auditlog_kafka_stored_total counter\nauditlog_kafka_stored_total {}", s.stored.load(Relaxed));
        let _ = writeln!(out, "# HELP auditlog_kafka_quarantined_total Messages put in quarantine.\n# TYPE auditlog_kafka_quarantined_total counter\nauditlog_kafka_quarantined_total {}", s.quarantined.load(Relaxed));
        let _ = writeln!(out, "# HELP auditlog_kafka_lag Messages behind the high watermark, per assigned partition.\n# TYPE auditlog_kafka_lag gauge");
        if let Ok(l) = s.lag.lock() {
            for (p, n) in l.iter() {
                let _ = writeln!(out, "auditlog_kafka_lag{{partition=\"{p}\"}} {n}");
            }
        }
    }
}

/// Quarantined messages, in `quarantine.db` beside the store: raw bytes,
/// where they came from and why. Replays do not duplicate rows.
#[derive(Debug, Clone)]
pub struct QuarantineStore {
    conn: Arc<Mutex<Connection>>,
    topic: String,
}

impl QuarantineStore {
    /// Open (or create) the table in `data_dir` for `topic`.
    pub fn open(data_dir: &Path, topic: &str) -> Result<QuarantineStore, rusqlite::Error> {
        let conn = crate::side_db::open(&data_dir.join("quarantine.db"))?;
        conn.execute_batch(
            "create table if not exists quarantine (
               id integer primary key,
               topic text not null,
               partition integer not null,
               kafka_offset integer not null,
               reason text not null,
               raw blob not null,
               at_unix_ms integer not null,
               unique (topic, partition, kafka_offset)
             );
             -- The indexer's own progress: the store holds every record of
             -- (topic, partition) before next_offset.
             create table if not exists progress (
               topic text not null,
               partition integer not null,
               next_offset integer not null,
               primary key (topic, partition)
             );",
        )?;
        Ok(QuarantineStore {
            conn: Arc::new(Mutex::new(conn)),
            topic: topic.to_owned(),
        })
    }

    /// The quarantine of `data_dir` if an indexer ever wrote one, so a
    /// server without Kafka mode still shows it.
    pub fn open_existing(data_dir: &Path) -> Option<QuarantineStore> {
        if !data_dir.join("quarantine.db").exists() {
            return None;
        }
        QuarantineStore::open(data_dir, "")
            .map_err(|e| tracing::warn!(error = %e, "cannot open the quarantine table"))
            .ok()
    }

    /// Keep `items` durably (one transaction).
    pub fn add(&self, items: &[Quarantined]) -> Result<(), String> {
        let mut conn = self.conn.lock().map_err(|e| e.to_string())?;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        for q in items {
            tx.execute(
                "insert or ignore into quarantine (topic, partition, kafka_offset, reason, raw, at_unix_ms) values (?1, ?2, ?3, ?4, ?5, ?6)",
                params![self.topic, q.partition, q.offset, q.reason, q.raw, now],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// The newest `limit` entries, newest first.
    pub fn list(&self, limit: usize) -> Result<Vec<serde_json::Value>, String> {
        let conn = self.conn.lock().map_err(|e| e.to_string())?;
        let mut st = conn
            .prepare("select topic, partition, kafka_offset, reason, raw, at_unix_ms from quarantine order by id desc limit ?1")
            .map_err(|e| e.to_string())?;
        let rows = st
            .query_map(params![limit as i64], |r| {
                let raw: Vec<u8> = r.get(4)?;
                let mut v = serde_json::json!({
                    "topic": r.get::<_, String>(0)?,
                    "partition": r.get::<_, i64>(1)?,
                    "offset": r.get::<_, i64>(2)?,
                    "reason": r.get::<_, String>(3)?,
                    "bytes": raw.len(),
                    "quarantined_at_unix_ms": r.get::<_, i64>(5)?,
                });
                // Raw bytes as text when they are text, else hex.
                match String::from_utf8(raw) {
                    Ok(s) => v["raw"] = s.into(),
                    Err(e) => {
                        v["raw_hex"] = e
                            .as_bytes()
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect::<String>()
                            .into()
                    }
                }
                Ok(v)
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    /// Per partition of the topic, the next offset the store holds
    /// everything before.
    pub fn progress(&self) -> Result<BTreeMap<i32, i64>, String> {
        let conn = self.conn.lock().map_err(|e| e.to_string())?;
        let mut st = conn
            .prepare("select partition, next_offset from progress where topic = ?1")
            .map_err(|e| e.to_string())?;
        let rows = st
            .query_map(params![self.topic], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }

    /// Record that the store holds each partition up to `next` (never
    /// moves a partition backwards).
    pub fn record_progress(&self, next: &BTreeMap<i32, i64>) -> Result<(), String> {
        let mut conn = self.conn.lock().map_err(|e| e.to_string())?;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        for (p, o) in next {
            tx.execute(
                "insert into progress (topic, partition, next_offset) values (?1, ?2, ?3)
                 on conflict (topic, partition) do update set next_offset = max(next_offset, excluded.next_offset)",
                params![self.topic, p, o],
            )
            .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// How many entries there are.
    pub fn count(&self) -> u64 {
        self.conn
            .lock()
            .ok()
            .and_then(|c| {
                c.query_row("select count(*) from quarantine", [], |r| {
                    r.get::<_, i64>(0)
                })
                .ok()
            })
            .unwrap_or(0) as u64
    }
}

/// The indexer's sink: HTTP ingest's checks and policy, then the store.
#[derive(Debug, Clone)]
pub struct StoreSink {
    state: AppState,
    quarantine: QuarantineStore,
}

impl StoreSink {
    /// A sink into `state`'s store, quarantining into `quarantine`.
    pub fn new(state: AppState, quarantine: QuarantineStore) -> StoreSink {
        StoreSink { state, quarantine }
    }
}

impl Sink for StoreSink {
    fn store(&mut self, batch: &[Incoming]) -> Result<Vec<Verdict>, String> {
        let values = batch.iter().map(|i| i.record.clone()).collect();
        let out = ingest_values(&self.state, values).map_err(|p| p.detail)?;
        Ok(out
            .into_iter()
            .map(|o| match o {
                Ingested::Accepted { .. } | Ingested::Duplicate { .. } => Verdict::Stored,
                Ingested::Conflict { offset } => Verdict::Refused(format!(
                    "409: a different record with the same (source, id) is stored at offset {offset}"
                )),
                Ingested::Rejected { status, detail } => {
                    Verdict::Refused(format!("{status}: {detail}"))
                }
            })
            .collect())
    }

    fn quarantine(&mut self, items: &[Quarantined]) -> Result<(), String> {
        self.quarantine.add(items)
    }

    fn progress(&self) -> Result<BTreeMap<i32, i64>, String> {
        self.quarantine.progress()
    }

    fn record_progress(&mut self, next: &BTreeMap<i32, i64>) -> Result<(), String> {
        self.quarantine.record_progress(next)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct QuarantineParams {
    limit: Option<usize>,
}

/// `POST /v1/quarantine` body: messages another process's indexer could not
/// store here (`auditlog consume --server`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuarantineBatch {
    topic: String,
    items: Vec<QuarantineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuarantineItem {
    partition: i32,
    offset: i64,
    reason: String,
    /// The message value, hex-encoded (it may not be text).
    raw_hex: String,
}

fn admin_only(caller: &Caller) -> Result<(), Problem> {
    if caller.scope != Scope::All {
        return Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "the quarantine is for administrators only: its messages belong to no known organization",
        ));
    }
    Ok(())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `POST /v1/quarantine`: keep messages a remote indexer could not store.
pub(crate) async fn post_quarantine(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    admin_only(&caller)?;
    let batch: QuarantineBatch = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(
            "invalid-quarantine",
            format!("the body must be {{\"topic\": …, \"items\": [{{\"partition\", \"offset\", \"reason\", \"raw_hex\"}}]}}: {e}"),
        )
    })?;
    let mut items = Vec::with_capacity(batch.items.len());
    for (i, q) in batch.items.into_iter().enumerate() {
        let raw = unhex(&q.raw_hex).ok_or_else(|| {
            Problem::bad_request(
                "invalid-quarantine",
                format!("items[{i}].raw_hex is not hexadecimal bytes"),
            )
        })?;
        items.push(Quarantined {
            partition: q.partition,
            offset: q.offset,
            raw,
            reason: q.reason,
        });
    }
    let dir = state.config.data_dir.clone();
    let n = items.len();
    blocking(move || {
        QuarantineStore::open(&dir, &batch.topic)
            .map_err(|e| e.to_string())
            .and_then(|q| q.add(&items))
            .map_err(|e| Problem::unavailable(format!("writing the quarantine: {e}")))
    })
    .await?;
    Ok(axum::Json(serde_json::json!({"quarantined": n})).into_response())
}

/// `GET /v1/quarantine`: what the indexer could not store, newest first.
/// Administrators only: a poison message has no trustworthy tenant.
pub(crate) async fn list_quarantine(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<QuarantineParams>,
) -> Result<Response, Problem> {
    admin_only(&caller)?;
    // Also what `POST /v1/quarantine` wrote since this server started.
    let Some(q) = state
        .kafka
        .quarantine
        .clone()
        .or_else(|| QuarantineStore::open_existing(&state.config.data_dir))
    else {
        return Ok(axum::Json(serde_json::json!({"items": [], "count": 0})).into_response());
    };
    let limit = p.limit.unwrap_or(100).min(10_000);
    let items = blocking(move || {
        q.list(limit)
            .map_err(|e| Problem::unavailable(format!("reading the quarantine: {e}")))
    })
    .await?;
    let count = items.len();
    Ok(axum::Json(serde_json::json!({"items": items, "count": count})).into_response())
}
