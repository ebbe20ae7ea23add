//! Consume-and-store throughput on a pre-filled topic: `auditlog consume
//! --until-caught-up` into a fresh data directory, and a bare rdkafka
//! consumer in this process with the indexer's group settings that appends
//! each batch's payloads to a file, fsyncs it and commits. A watcher reads
//! `auditlog consume`'s committed offsets, so it gets "first batch stored"
//! and "everything stored" times like the ones the bare consumer notes
//! itself, independent of how the process exits.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::broker::Broker;
use super::{machine_cpu, PARTITIONS};
use crate::ingest::cpu_seconds;

/// The indexer's batch: at most this many messages…
const BATCH_MAX: usize = 2_000;
/// …or whatever arrived within this long.
const BATCH_WAIT: Duration = Duration::from_millis(50);

/// One side's consume run.
#[derive(Debug, Default)]
pub struct Consumed {
    /// Records there were to read.
    pub records: usize,
    /// Start until the consumer is gone (process exit / consumer closed).
    pub elapsed: Duration,
    /// Start until the group's first commit (the first batch stored).
    pub first_commit: Option<Duration>,
    /// Start until the group's commits covered every record.
    pub all_committed: Option<Duration>,
    /// CPU seconds of the consuming process (`auditlog consume`, or this bench).
    pub client_cpu: f64,
    /// CPU seconds of the broker meanwhile.
    pub broker_cpu: f64,
    /// CPU seconds the rest of the machine used meanwhile (a shared machine).
    pub other_cpu: f64,
    /// What the consumer said it did.
    pub summary: String,
}

/// Polls a group's committed offsets every 20 ms.
struct Watch {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(Option<Duration>, Option<Duration>, f64)>,
}

impl Watch {
    /// Watch `group` on `topic` until it has committed `n` records, and
    /// `pid`'s CPU until it is gone (its last sample is what we get).
    fn start(
        broker: &Broker,
        topic: &str,
        group: &str,
        n: usize,
        started: Instant,
        pid: u32,
    ) -> Result<Watch> {
        // Only asks for offsets: with no subscribe it never joins the group.
        let c: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()?;
        let mut tpl = TopicPartitionList::new();
        for p in 0..PARTITIONS as i32 {
            tpl.add_partition(topic, p);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let (mut first, mut all, mut cpu) = (None, None, 0.0);
            // CPU is sampled until the process is reaped; offsets until all
            // are committed, with one more look after `stop`.
            let mut last = false;
            while !last {
                last = flag.load(Ordering::Relaxed);
                cpu = cpu_seconds(pid).unwrap_or(cpu);
                let offsets = match all {
                    None => c
                        .committed_offsets(tpl.clone(), Duration::from_secs(2))
                        .ok(),
                    Some(_) => None,
                };
                if let Some(l) = offsets {
                    let done: i64 = l
                        .elements()
                        .iter()
                        .map(|e| match e.offset() {
                            Offset::Offset(o) => o,
                            _ => 0,
                        })
                        .sum();
                    if done > 0 && first.is_none() {
                        first = Some(started.elapsed());
                    }
                    if done >= n as i64 {
                        all = Some(started.elapsed());
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (first, all, cpu)
        });
        Ok(Watch { stop, handle })
    }

    fn finish(self) -> (Option<Duration>, Option<Duration>, f64) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().unwrap_or((None, None, 0.0))
    }
}

/// `auditlog consume --from-beginning --until-caught-up` of `topic` into a
/// fresh data directory; timed from spawn to exit, nothing subtracted.
pub fn ours(
    bin: &Path,
    broker: &Broker,
    topic: &str,
    group: &str,
    n: usize,
    extra: &[(String, String)],
) -> Result<Consumed> {
    let data = tempfile::tempdir()?;
    let (b0, m0) = (cpu_seconds(broker.pid()).unwrap_or(0.0), machine_cpu());
    let started = Instant::now();
    let child = Command::new(bin)
        .args(["consume", "--bootstrap", &broker.bootstrap()])
        .args(["--topic", topic, "--group", group])
        .args(["--from-beginning", "--until-caught-up", "--log", "warn"])
        .args(
            extra
                .iter()
                .flat_map(|(k, v)| ["-X".to_owned(), format!("{k}={v}")]),
        )
        .arg("--data-dir")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {} consume", bin.display()))?;
    let watch = Watch::start(broker, topic, group, n, started, child.id())?;
    let out = child.wait_with_output()?;
    let elapsed = started.elapsed();
    let (b1, m1) = (cpu_seconds(broker.pid()).unwrap_or(0.0), machine_cpu());
    let (first_commit, all_committed, client_cpu) = watch.finish();
    let summary = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() {
        bail!(
            "auditlog consume failed ({}): {summary} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(Consumed {
        records: n,
        elapsed,
        first_commit,
        all_committed,
        client_cpu,
        broker_cpu: b1 - b0,
        // The watcher's own share (one small request per 20 ms) lands here.
        other_cpu: (m1 - m0 - client_cpu - (b1 - b0)).max(0.0),
        summary,
    })
}

/// The floor: join `group` with the indexer's settings (earliest, manual
/// commits), read batches of up to 2,000 messages or 50 ms, append each
/// batch's payloads (newline-separated) to one file, `fdatasync` it, then
/// commit the batch's offsets synchronously; stop after `n` messages (or
/// 5 s without one, should the broker hold fewer) and close the consumer.
/// No decoding, no checks, no index.
pub fn raw(
    broker: &Broker,
    topic: &str,
    group: &str,
    n: usize,
    extra: &[(String, String)],
) -> Result<Consumed> {
    let dir = tempfile::tempdir()?;
    let mut file = std::fs::File::create(dir.path().join("payloads.ndjson"))?;
    let me = std::process::id();
    let (b0, c0, m0) = (
        cpu_seconds(broker.pid()).unwrap_or(0.0),
        cpu_seconds(me).unwrap_or(0.0),
        machine_cpu(),
    );
    let started = Instant::now();
    let mut first_commit = None;
    let mut c = rdkafka::ClientConfig::new();
    c.set("bootstrap.servers", broker.bootstrap())
        .set("client.id", "auditlog")
        .set("socket.timeout.ms", "10000")
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "1000");
    // Applied last, as `auditlog consume -X` applies them.
    for (k, v) in extra {
        c.set(k, v);
    }
    let consumer: BaseConsumer = c.create()?;
    consumer.subscribe(&[topic])?;
    let mut total = 0usize;
    let mut buf = Vec::new();
    let mut last_read = Instant::now();
    while total < n {
        if last_read.elapsed() > Duration::from_secs(5) && first_commit.is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the raw consumer read {total} of {n} messages in 600 s");
        }
        let deadline = Instant::now() + BATCH_WAIT;
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut k = 0usize;
        buf.clear();
        while k < BATCH_MAX {
            let left = deadline.saturating_duration_since(Instant::now());
            let Some(m) = consumer.poll(left) else {
                break;
            };
            let Ok(m) = m else { continue };
            k += 1;
            next.insert(m.partition(), m.offset() + 1);
            buf.extend_from_slice(m.payload().unwrap_or_default());
            buf.push(b'\n');
            if Instant::now() >= deadline {
                break;
            }
        }
        if k == 0 {
            continue;
        }
        last_read = Instant::now();
        file.write_all(&buf)?;
        file.sync_data()?;
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &next {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*o))?;
        }
        consumer.commit(&tpl, CommitMode::Sync)?;
        total += k;
        first_commit.get_or_insert_with(|| started.elapsed());
    }
    let all_committed = (total >= n).then(|| started.elapsed());
    drop(consumer);
    let elapsed = started.elapsed();
    let (b1, c1, m1) = (
        cpu_seconds(broker.pid()).unwrap_or(0.0),
        cpu_seconds(me).unwrap_or(0.0),
        machine_cpu(),
    );
    Ok(Consumed {
        records: n,
        elapsed,
        first_commit,
        all_committed,
        client_cpu: c1 - c0,
        broker_cpu: b1 - b0,
        other_cpu: (m1 - m0 - (c1 - c0) - (b1 - b0)).max(0.0),
        summary: format!("read {total} messages; wrote and fsynced them in batches"),
    })
}
