//! The indexer's watcher: a thread with its own Kafka client that measures
//! the group's progress and each assigned partition's lag once a second,
//! and asks the consume thread to rejoin the group when consumption is
//! stuck.
//!
//! Why a thread and a client of its own: metadata, watermark and
//! committed-offset requests sent through the consuming client queue behind
//! its fetches, which a broker may hold for `fetch.wait.max.ms` (tansu holds
//! them even when records wait). On the consume thread they slowed
//! consumption tenfold and could stall it for good after a broker restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::KafkaConfig;
use crate::index::IndexStats;
use crate::KafkaError;

/// How often the watcher measures.
const EVERY: Duration = Duration::from_secs(1);
/// Consume-loop turns that must pass during a stall before it counts: a
/// thread blocked in its sink is slow, not stuck.
const TURNS: u64 = 10;

/// What the consume thread and the watcher share besides [`IndexStats`].
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Set by the watcher: leave and rejoin the group.
    pub rejoin: AtomicBool,
    /// Turns of the consume loop (one per batch, empty or not).
    pub turns: AtomicU64,
}

/// The running watcher; stops when dropped.
#[derive(Debug)]
pub(crate) struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start watching `cfg.topic` for `group`.
pub(crate) fn start(
    cfg: &KafkaConfig,
    group: &str,
    stall_rejoin: Duration,
    stats: Arc<IndexStats>,
    signals: Arc<Signals>,
) -> Result<Watcher, KafkaError> {
    // Not subscribed, so not a member: it only reads the group's offsets.
    let mut c = cfg.client(&[]);
    c.set("group.id", group).set("enable.auto.commit", "false");
    let client: BaseConsumer = c.create().map_err(|e| KafkaError::Config(e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut state = Watch {
        client,
        topic: cfg.topic.clone(),
        stall_rejoin,
        stats,
        signals,
        elsewhere: BTreeMap::new(),
        mine: BTreeMap::new(),
    };
    let thread = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("auditlog-kafka-watch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    state.once();
                    let until = Instant::now() + EVERY;
                    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
            .map_err(|e| KafkaError::Config(e.to_string()))?
    };
    Ok(Watcher {
        stop,
        thread: Some(thread),
    })
}

/// Per partition of the topic: the group's committed offset (or the low
/// watermark when none) and the high watermark.
struct Partition {
    id: i32,
    committed: i64,
    high: i64,
}

struct Watch {
    client: BaseConsumer,
    topic: String,
    stall_rejoin: Duration,
    stats: Arc<IndexStats>,
    signals: Arc<Signals>,
    /// Partitions owned elsewhere with records waiting: their committed
    /// offset and since when it has not moved.
    elsewhere: BTreeMap<i32, (i64, Instant)>,
    /// Partitions this member owns with records waiting: the sink's position
    /// in it, since when it has not moved, and the consume loop's turn then.
    mine: BTreeMap<i32, (i64, Instant, u64)>,
}

impl Watch {
    fn once(&mut self) {
        let Some(parts) = self.measure() else {
            // The broker is unreachable: nothing is stuck on our side, so
            // stalls are timed afresh once it answers again.
            self.elsewhere.clear();
            self.mine.clear();
            return;
        };
        if let Ok(mut b) = self.stats.group_behind.lock() {
            *b = Some(parts.iter().map(|p| (p.high - p.committed).max(0)).sum());
        }
        let assigned: BTreeSet<i32> = self
            .stats
            .assigned
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default();
        let mut lag = BTreeMap::new();
        for p in parts.iter().filter(|p| assigned.contains(&p.id)) {
            let at = self.stats.held(p.id).unwrap_or(p.committed);
            lag.insert(p.id, (p.high - at).max(0));
        }
        if let Ok(mut l) = self.stats.lag.lock() {
            *l = lag.clone();
        }
        if let Some(why) = self.stuck(&parts, &assigned, &lag) {
            tracing::warn!(topic = %self.topic, "{why}; rejoining the group");
            self.signals.rejoin.store(true, Ordering::Relaxed);
            self.elsewhere.clear();
            self.mine.clear();
        }
    }

    /// Why consumption is stuck, if it is:
    /// - a partition owned elsewhere has had records waiting and an unmoved
    ///   committed offset for `stall_rejoin` (a wedged group: tansu 0.6 can
    ///   end a rebalance with partitions given to members that died
    ///   mid-join; a fresh member id makes it rebalance again);
    /// - a partition this member owns has had records waiting and no
    ///   progress for `stall_rejoin` while the consume loop kept turning
    ///   (librdkafka can stop fetching a partition after a broker restart).
    ///
    /// A live member merely slow for that long also triggers it, which costs
    /// a rebalance and loses nothing.
    fn stuck(
        &mut self,
        parts: &[Partition],
        assigned: &BTreeSet<i32>,
        lag: &BTreeMap<i32, i64>,
    ) -> Option<String> {
        let turns = self.signals.turns.load(Ordering::Relaxed);
        let mut why = None;
        for p in parts {
            if assigned.contains(&p.id) {
                self.elsewhere.remove(&p.id);
                let at = self.stats.held(p.id).unwrap_or(p.committed);
                if lag.get(&p.id).copied().unwrap_or(0) == 0 {
                    self.mine.remove(&p.id);
                    continue;
                }
                match self.mine.get(&p.id) {
                    Some((was, since, turn)) if *was == at => {
                        if since.elapsed() >= self.stall_rejoin && turns >= turn + TURNS {
                            why = Some(format!(
                                "partition {} has had records waiting and no progress for {} s although this member owns it",
                                p.id,
                                since.elapsed().as_secs()
                            ));
                        }
                    }
                    _ => {
                        self.mine.insert(p.id, (at, Instant::now(), turns));
                    }
                }
            } else {
                self.mine.remove(&p.id);
                if p.high <= p.committed {
                    self.elsewhere.remove(&p.id);
                    continue;
                }
                match self.elsewhere.get(&p.id) {
                    // Compare committed offsets only: the high watermark may move.
                    Some((was, since)) if *was == p.committed => {
                        if since.elapsed() >= self.stall_rejoin {
                            why = Some(format!(
                                "partition {} has had records waiting and nobody committing for {} s",
                                p.id,
                                since.elapsed().as_secs()
                            ));
                        }
                    }
                    _ => {
                        self.elsewhere.insert(p.id, (p.committed, Instant::now()));
                    }
                }
            }
        }
        why
    }

    /// Every partition of the topic, or `None` when the broker does not answer.
    fn measure(&self) -> Option<Vec<Partition>> {
        let timeout = Duration::from_secs(2);
        let marks = crate::topic::watermarks(self.client.client(), &self.topic, timeout).ok()?;
        let mut tpl = TopicPartitionList::new();
        for p in marks.keys() {
            tpl.add_partition(&self.topic, *p);
        }
        let committed = self.client.committed_offsets(tpl, timeout).ok()?;
        let mut out = Vec::with_capacity(marks.len());
        for (id, (low, high)) in marks {
            let committed = committed
                .find_partition(&self.topic, id)
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                })
                .unwrap_or(low);
            out.push(Partition {
                id,
                committed,
                high,
            });
        }
        Some(out)
    }
}
