//! The indexer: a consumer-group member that reads the audit-log topic in
//! batches, hands records to a [`Sink`] (the embedded store) and commits
//! offsets only after the sink says they are stored. A crash re-reads at
//! most the uncommitted batch, which the sink deduplicates by `(source, id)`.
//! Messages that cannot be records are quarantined with their raw bytes,
//! partition, offset and reason — never dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::KafkaConfig;
use crate::decode::decode;
use crate::KafkaError;

/// A record read from the topic.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Partition.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
    /// The record to store (structured mode; binary mode folded in).
    pub record: Vec<u8>,
}

/// A message kept aside because it cannot be stored as a record.
#[derive(Debug, Clone)]
pub struct Quarantined {
    /// Partition.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
    /// The message value as read (empty for none).
    pub raw: Vec<u8>,
    /// Why.
    pub reason: String,
}

/// What the sink made of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored now or before (a replay).
    Stored,
    /// Refused for a reason in the record itself: quarantine it.
    Refused(String),
}

/// Where the indexer puts what it reads.
pub trait Sink {
    /// Store a batch durably; one verdict per record, in order. `Err` means
    /// nothing from the batch may be committed.
    fn store(&mut self, batch: &[Incoming]) -> Result<Vec<Verdict>, String>;
    /// Keep quarantined messages durably.
    fn quarantine(&mut self, items: &[Quarantined]) -> Result<(), String>;
}

/// How to consume.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// The consumer group.
    pub group: String,
    /// With no committed offset, start at the oldest record (else the newest).
    pub from_beginning: bool,
    /// Most messages per batch.
    pub batch_max: usize,
    /// Longest wait to fill a batch.
    pub batch_wait: Duration,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            group: "auditlog-indexer".into(),
            from_beginning: true,
            batch_max: 2_000,
            batch_wait: Duration::from_millis(50),
        }
    }
}

/// Counters and per-partition lag, readable while the indexer runs.
#[derive(Debug, Default)]
pub struct IndexStats {
    /// Messages read.
    pub consumed: AtomicU64,
    /// Records the sink stored (replays included).
    pub stored: AtomicU64,
    /// Messages quarantined.
    pub quarantined: AtomicU64,
    /// Batches committed.
    pub commits: AtomicU64,
    /// Partition -> messages behind the high watermark, for assigned partitions.
    pub lag: Mutex<BTreeMap<i32, i64>>,
}

impl IndexStats {
    /// Total lag over assigned partitions.
    pub fn total_lag(&self) -> i64 {
        self.lag.lock().map(|l| l.values().sum()).unwrap_or(0)
    }
}

/// A consumer-group member feeding a sink.
pub struct Indexer {
    consumer: BaseConsumer,
    topic: String,
    options: IndexOptions,
    stats: Arc<IndexStats>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("topic", &self.topic)
            .field("group", &self.options.group)
            .finish()
    }
}

impl Indexer {
    /// Join `options.group` on `cfg.topic`.
    pub fn new(cfg: &KafkaConfig, options: IndexOptions) -> Result<Indexer, KafkaError> {
        let mut c = cfg.client();
        c.set("group.id", &options.group)
            // Offsets are committed by hand, after the store commit.
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.offset.reset",
                if options.from_beginning {
                    "earliest"
                } else {
                    "latest"
                },
            )
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000");
        let consumer: BaseConsumer = c.create().map_err(|e| KafkaError::Config(e.to_string()))?;
        consumer.subscribe(&[&cfg.topic])?;
        Ok(Indexer {
            consumer,
            topic: cfg.topic.clone(),
            options,
            stats: Arc::new(IndexStats::default()),
        })
    }

    /// The live counters.
    pub fn stats(&self) -> Arc<IndexStats> {
        self.stats.clone()
    }

    /// Consume until `stop` is set. Returns an error when the sink cannot
    /// store (nothing of that batch is committed; restart to retry).
    pub fn run(&mut self, sink: &mut dyn Sink, stop: &AtomicBool) -> Result<(), KafkaError> {
        let mut lag_at = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            self.batch(sink)?;
            if lag_at.elapsed() >= Duration::from_millis(500) {
                self.update_lag();
                lag_at = Instant::now();
            }
        }
        self.update_lag();
        Ok(())
    }

    /// Read, store and commit one batch (possibly empty).
    pub fn batch(&mut self, sink: &mut dyn Sink) -> Result<usize, KafkaError> {
        let deadline = Instant::now() + self.options.batch_wait;
        let mut records = Vec::new();
        let mut quarantined = Vec::new();
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut n = 0usize;
        while n < self.options.batch_max {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = self.consumer.poll(left) else {
                break;
            };
            let m = match m {
                Ok(m) => m,
                // Broker hiccups are reported here and retried by librdkafka.
                Err(e) => {
                    tracing::warn!(error = %e, "kafka consume");
                    continue;
                }
            };
            n += 1;
            let (partition, offset) = (m.partition(), m.offset());
            next.insert(partition, offset + 1);
            let headers: Vec<(&str, Option<&[u8]>)> = m
                .headers()
                .map(|h| h.iter().map(|h| (h.key, h.value)).collect())
                .unwrap_or_default();
            match decode(m.payload(), &headers) {
                Ok(record) => records.push(Incoming {
                    partition,
                    offset,
                    record,
                }),
                Err(reason) => quarantined.push(Quarantined {
                    partition,
                    offset,
                    raw: m.payload().unwrap_or_default().to_vec(),
                    reason,
                }),
            }
            if Instant::now() >= deadline {
                break;
            }
        }
        if n == 0 {
            return Ok(0);
        }
        self.stats.consumed.fetch_add(n as u64, Ordering::Relaxed);
        if !records.is_empty() {
            let verdicts = sink.store(&records).map_err(KafkaError::Unavailable)?;
            for (r, v) in records.iter().zip(verdicts) {
                match v {
                    Verdict::Stored => {
                        self.stats.stored.fetch_add(1, Ordering::Relaxed);
                    }
                    Verdict::Refused(reason) => quarantined.push(Quarantined {
                        partition: r.partition,
                        offset: r.offset,
                        raw: r.record.clone(),
                        reason,
                    }),
                }
            }
        }
        if !quarantined.is_empty() {
            quarantined.sort_by_key(|q| (q.partition, q.offset));
            sink.quarantine(&quarantined)
                .map_err(KafkaError::Unavailable)?;
            self.stats
                .quarantined
                .fetch_add(quarantined.len() as u64, Ordering::Relaxed);
        }
        // Only now, with everything stored or quarantined, move the group on.
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &next {
            tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o))?;
        }
        self.consumer.commit(&tpl, CommitMode::Sync)?;
        self.stats.commits.fetch_add(1, Ordering::Relaxed);
        Ok(n)
    }

    /// Messages behind the high watermark, per assigned partition.
    fn update_lag(&self) {
        let Ok(assigned) = self.consumer.assignment() else {
            return;
        };
        let positions = self.consumer.position().ok();
        let mut lag = BTreeMap::new();
        for e in assigned.elements() {
            let p = e.partition();
            let Ok((low, high)) =
                self.consumer
                    .fetch_watermarks(&self.topic, p, Duration::from_secs(2))
            else {
                continue;
            };
            let pos = positions
                .as_ref()
                .and_then(|l| l.find_partition(&self.topic, p))
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                })
                .unwrap_or(low);
            lag.insert(p, (high - pos).max(0));
        }
        if let Ok(mut l) = self.stats.lag.lock() {
            *l = lag;
        }
    }
}
