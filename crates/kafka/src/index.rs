//! The indexer: a consumer-group member that reads the audit-log topic in
//! batches, hands records to a [`Sink`] (the embedded store) and commits
//! offsets only after the sink says they are stored. A crash re-reads at
//! most the uncommitted batch, which the sink deduplicates by `(source, id)`.
//! Messages that cannot be records are quarantined with their raw bytes,
//! partition, offset and reason — never dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::message::{Headers, Message};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use crate::config::KafkaConfig;
use crate::decode::decode;
use crate::watch::{self, Signals, Watcher};
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
    /// Per partition, the next offset this sink holds everything before
    /// (what [`Sink::record_progress`] last recorded). Used by
    /// [`Resume::Store`]; a sink that keeps nothing returns an empty map.
    fn progress(&self) -> Result<BTreeMap<i32, i64>, String> {
        Ok(BTreeMap::new())
    }
    /// Remember, after a batch is stored, how far each partition is held.
    fn record_progress(&mut self, next: &BTreeMap<i32, i64>) -> Result<(), String> {
        let _ = next;
        Ok(())
    }
}

/// Where a partition starts when this member is assigned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resume {
    /// At the group's committed offset (else per `from_beginning`): the
    /// group reads each record once, wherever it is stored.
    #[default]
    Group,
    /// Where this sink's own progress says (from the oldest record if it
    /// never held the partition): a node that takes a partition over after
    /// a rebalance first backfills what other nodes indexed, so its store
    /// holds every record of every partition it owns.
    Store,
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
    /// Skip, per partition, the messages before the first one whose Kafka
    /// timestamp (milliseconds since the epoch) is at or after this — what
    /// `offsetsForTimes` would seek to. Skipped messages are committed, so a
    /// restart does not read them again.
    pub from_time: Option<i64>,
    /// Rejoin the group when a partition has had records waiting and no
    /// progress for this long: one owned elsewhere whose committed offset
    /// has not moved (a wedged group, e.g. after members died
    /// mid-rebalance), or one this member owns but no longer receives (a
    /// fetcher stuck after a broker restart).
    pub stall_rejoin: Duration,
    /// Where an assigned partition starts.
    pub resume: Resume,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            group: "auditlog-indexer".into(),
            from_beginning: true,
            batch_max: 2_000,
            batch_wait: Duration::from_millis(50),
            from_time: None,
            stall_rejoin: Duration::from_secs(20),
            resume: Resume::Group,
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
    /// Messages before `from_time`, skipped.
    pub skipped: AtomicU64,
    /// Times this member left and rejoined a wedged group.
    pub rejoins: AtomicU64,
    /// The partitions this member is assigned now.
    pub assigned: Mutex<BTreeSet<i32>>,
    /// Messages the whole group has yet to commit, over every partition of
    /// the topic (`None` until first measured).
    pub group_behind: Mutex<Option<i64>>,
    /// Per partition, the next offset the sink holds everything before
    /// (partitions this member ever stored; kept across reassignments).
    pub progress: Mutex<BTreeMap<i32, i64>>,
    /// Why the indexer stopped consuming, if it stopped other than on
    /// request (set by whoever runs [`Indexer::run`]).
    pub failure: Mutex<Option<String>>,
}

impl IndexStats {
    /// The next offset of `partition` the sink holds everything before.
    pub fn held(&self, partition: i32) -> Option<i64> {
        self.progress.lock().ok()?.get(&partition).copied()
    }
}

/// librdkafka callbacks: on assignment, start each partition where
/// [`Resume`] says, and track what is assigned.
struct Rebalance {
    resume: Resume,
    stats: Arc<IndexStats>,
}

impl ClientContext for Rebalance {}

impl ConsumerContext for Rebalance {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if self.resume == Resume::Store {
                    let held = self
                        .stats
                        .progress
                        .lock()
                        .map(|p| p.clone())
                        .unwrap_or_default();
                    let parts: Vec<(String, i32)> = tpl
                        .elements()
                        .iter()
                        .map(|e| (e.topic().to_owned(), e.partition()))
                        .collect();
                    for (topic, p) in parts {
                        let start = held
                            .get(&p)
                            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
                        let _ = tpl.set_partition_offset(&topic, p, start);
                    }
                }
                if let Err(e) = consumer.assign(tpl) {
                    tracing::error!(error = %e, "kafka: taking the assigned partitions");
                }
                if let Ok(mut a) = self.stats.assigned.lock() {
                    *a = tpl.elements().iter().map(|e| e.partition()).collect();
                }
                tracing::info!(partitions = ?tpl.elements().iter().map(|e| e.partition()).collect::<Vec<_>>(), "kafka: partitions assigned");
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if let Err(e) = consumer.unassign() {
                    tracing::error!(error = %e, "kafka: giving partitions back");
                }
                if let Ok(mut a) = self.stats.assigned.lock() {
                    a.clear();
                }
                if let Ok(mut l) = self.stats.lag.lock() {
                    l.clear();
                }
                tracing::info!("kafka: partitions revoked");
            }
            other => tracing::error!(error = ?other, "kafka: rebalance failed"),
        }
    }
}

impl IndexStats {
    /// Total lag over assigned partitions.
    pub fn total_lag(&self) -> i64 {
        self.lag.lock().map(|l| l.values().sum()).unwrap_or(0)
    }
}

/// A consumer-group member feeding a sink.
pub struct Indexer {
    consumer: BaseConsumer<Rebalance>,
    cfg: KafkaConfig,
    topic: String,
    options: IndexOptions,
    stats: Arc<IndexStats>,
    /// Partitions that have reached `from_time` (see [`IndexOptions::from_time`]).
    started: BTreeMap<i32, bool>,
    /// Offsets stored but not yet committed (a commit failed, e.g. while
    /// the broker was away): retried with the next commit.
    uncommitted: BTreeMap<i32, i64>,
    /// Shared with the watcher.
    signals: Arc<Signals>,
    /// Measures lag and watches for a stuck group; stops when dropped.
    _watcher: Watcher,
    /// Consume errors not logged yet (one line per [`QUIET`]).
    errors: Quiet,
}

/// Least time between two log lines about the same kind of Kafka trouble:
/// an outage would otherwise log one line per failed fetch.
const QUIET: Duration = Duration::from_secs(10);

/// Counts repeated errors and says when to log the next one.
#[derive(Debug)]
struct Quiet {
    last: Option<Instant>,
    suppressed: u64,
}

impl Quiet {
    /// `Some(n)` (errors not logged since the last line) when this one
    /// should be logged.
    fn log_now(&mut self) -> Option<u64> {
        if self.last.is_some_and(|t| t.elapsed() < QUIET) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(Instant::now());
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Whether a message of `partition` with this timestamp is at or past
/// `from` (once one is, every later one of the partition is).
fn reached_from_time(
    from: Option<i64>,
    started: &mut BTreeMap<i32, bool>,
    partition: i32,
    timestamp: Option<i64>,
) -> bool {
    let Some(from) = from else {
        return true;
    };
    let started = started.entry(partition).or_insert(false);
    if !*started && timestamp.is_some_and(|t| t >= from) {
        *started = true;
    }
    *started
}

/// A consumer in `options.group`, subscribed to the topic.
fn join(
    cfg: &KafkaConfig,
    options: &IndexOptions,
    stats: &Arc<IndexStats>,
) -> Result<BaseConsumer<Rebalance>, KafkaError> {
    let mut c = cfg.client(&[
        (
            "auto.offset.reset",
            if options.from_beginning || options.from_time.is_some() {
                "earliest"
            } else {
                "latest"
            },
        ),
        // A killed member is noticed after this long; Kafka's minimum.
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "1000"),
    ]);
    c.set("group.id", &options.group)
        // Offsets are committed by hand, after the store commit.
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false");
    let consumer: BaseConsumer<Rebalance> = c
        .create_with_context(Rebalance {
            resume: options.resume,
            stats: stats.clone(),
        })
        .map_err(|e| KafkaError::Config(e.to_string()))?;
    consumer.subscribe(&[&cfg.topic])?;
    Ok(consumer)
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
    /// `held` is the sink's own progress ([`Sink::progress`]), used when
    /// `options.resume` is [`Resume::Store`].
    pub fn new(
        cfg: &KafkaConfig,
        options: IndexOptions,
        held: BTreeMap<i32, i64>,
    ) -> Result<Indexer, KafkaError> {
        let stats = Arc::new(IndexStats {
            progress: Mutex::new(held),
            ..IndexStats::default()
        });
        let signals = Arc::new(Signals::default());
        let watcher = watch::start(
            cfg,
            &options.group,
            options.stall_rejoin,
            stats.clone(),
            signals.clone(),
        )?;
        Ok(Indexer {
            consumer: join(cfg, &options, &stats)?,
            cfg: cfg.clone(),
            topic: cfg.topic.clone(),
            options,
            stats,
            started: BTreeMap::new(),
            uncommitted: BTreeMap::new(),
            signals,
            _watcher: watcher,
            errors: Quiet {
                last: None,
                suppressed: 0,
            },
        })
    }

    /// The live counters.
    pub fn stats(&self) -> Arc<IndexStats> {
        self.stats.clone()
    }

    /// Consume until `stop` is set. Broker outages and sink failures are
    /// waited out: when the sink cannot store a batch, nothing of it is
    /// committed, and after a pause (doubling up to 30 s) the member rejoins
    /// the group, which starts each partition again where it was stored.
    /// Returns an error only when the consumer cannot be created again.
    pub fn run(&mut self, sink: &mut dyn Sink, stop: &AtomicBool) -> Result<(), KafkaError> {
        let mut pause = Duration::from_millis(500);
        while !stop.load(Ordering::Relaxed) {
            if self.signals.rejoin.swap(false, Ordering::Relaxed) {
                self.rejoin()?;
            }
            match self.batch(sink) {
                Ok(_) => pause = Duration::from_millis(500),
                Err(KafkaError::Unavailable(why)) => {
                    tracing::warn!(
                        error = %why,
                        seconds = pause.as_secs_f32(),
                        "kafka indexer: the store did not take a batch; nothing of it is committed, retrying"
                    );
                    let until = Instant::now() + pause;
                    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    pause = (pause * 2).min(Duration::from_secs(30));
                    // The consumer's position is past the failed batch.
                    self.rejoin()?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Leave the group and join again with a fresh member: each assigned
    /// partition starts where [`Resume`] says.
    fn rejoin(&mut self) -> Result<(), KafkaError> {
        self.consumer = join(&self.cfg, &self.options, &self.stats)?;
        self.stats.rejoins.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Read, store and commit one batch (possibly empty).
    pub fn batch(&mut self, sink: &mut dyn Sink) -> Result<usize, KafkaError> {
        self.signals.turns.fetch_add(1, Ordering::Relaxed);
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
                    if let Some(more) = self.errors.log_now() {
                        tracing::warn!(error = %e, "kafka consume ({more} more like it not logged)");
                    }
                    continue;
                }
            };
            n += 1;
            let (partition, offset) = (m.partition(), m.offset());
            next.insert(partition, offset + 1);
            let timestamp = m.timestamp().to_millis();
            if !reached_from_time(
                self.options.from_time,
                &mut self.started,
                partition,
                timestamp,
            ) {
                self.stats.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
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
        sink.record_progress(&next)
            .map_err(KafkaError::Unavailable)?;
        if let Ok(mut p) = self.stats.progress.lock() {
            p.extend(next.iter().map(|(k, v)| (*k, *v)));
        }
        // Only now, with everything stored or quarantined, move the group on.
        self.uncommitted.extend(next);
        self.commit();
        Ok(n)
    }

    /// Commit what is stored. A failed commit is retried with the next
    /// batch: until then a crash re-reads those records, which the sink
    /// deduplicates. Partitions no longer assigned are not committed (the
    /// broker would refuse the stale generation); their new owner starts
    /// where the group or its own store says.
    fn commit(&mut self) {
        if let Ok(a) = self.stats.assigned.lock() {
            self.uncommitted.retain(|p, _| a.contains(p));
        }
        if self.uncommitted.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &self.uncommitted {
            if let Err(e) = tpl.add_partition_offset(&self.topic, *p, Offset::Offset(*o)) {
                tracing::error!(error = %e, partition = p, "kafka: an offset that cannot be committed");
            }
        }
        match self.consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) => {
                self.uncommitted.clear();
                self.stats.commits.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                if let Some(more) = self.errors.log_now() {
                    tracing::warn!(error = %e, "kafka: committing offsets failed; retried with the next batch ({more} more errors not logged)");
                }
            }
        }
    }
}
