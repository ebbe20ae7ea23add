//! Produce throughput: the same records through `auditlog serve --kafka`
//! (HTTP batches, each answered only after the broker acknowledged every
//! record) and through a bare rdkafka producer with the same settings,
//! timed from the first send to the final flush. Two references explain the
//! gap: serve's Kafka path without HTTP or validation (our `Producer`, one
//! blocking batch per thread), and serve without `--kafka` (the store).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use auditlog_kafka::decode::{organization_key, STRUCTURED};
use auditlog_kafka::KafkaConfig;
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::ClientContext;

use super::broker::Broker;
use super::machine_cpu;
use crate::ingest::{cpu_by_thread, cpu_seconds, ndjson_bodies, post_batches, start_server};

/// Both sides give their client this long to connect (metadata, producer
/// id) before the clock starts, so neither pays connection set-up.
const SETTLE: Duration = Duration::from_secs(1);

/// One side's produce run.
#[derive(Debug, Default)]
pub struct Produced {
    pub elapsed: Duration,
    /// Records acknowledged (accepted by serve; delivered for the raw producer).
    pub acked: usize,
    /// The sum of the topic's high watermarks right afterwards (none for
    /// serve without Kafka). tansu has reported fewer than it acknowledged
    /// and then served them all, so this is reported, not relied on.
    pub held: Option<usize>,
    /// CPU seconds of the broker during the timed part.
    pub broker_cpu: f64,
    /// CPU seconds the rest of the machine used meanwhile (a shared machine).
    pub other_cpu: f64,
    /// CPU seconds of this bench process during it (HTTP clients, or the producer).
    pub bench_cpu: f64,
    /// serve only: its CPU seconds during it.
    pub serve_cpu: f64,
    /// serve and the batched producer: each request's (batch's) round trip.
    pub latencies: Vec<Duration>,
    /// serve only: CPU seconds per thread name when the last 2xx arrived.
    pub threads: Vec<(String, f64)>,
    /// serve only: from the first request until its indexer had stored every record.
    pub indexed: Option<Indexed>,
}

/// How far serve's own indexer got: records stored, and when (from the
/// first request) it had them all or the wait ended.
#[derive(Debug, Clone, Copy)]
pub struct Indexed {
    pub stored: usize,
    pub at: Duration,
}

/// serve's Kafka mode, as the benchmark runs it.
#[derive(Debug)]
pub struct KafkaMode<'a> {
    pub broker: &'a Broker,
    pub topic: &'a str,
    /// librdkafka settings passed as `-X` (consumer ones reach its indexer;
    /// its producer ignores them with a warning).
    pub set: &'a [(String, String)],
    /// How long after the first request to wait for its indexer.
    pub index_wait: Duration,
    /// `--ingest-only`: an ingest node, no indexer.
    pub ingest_only: bool,
}

/// POST `events` in `batch`-record NDJSON bodies over `connections`
/// connections to a fresh `auditlog serve`; with `kafka`, in Kafka mode
/// writing to that broker and topic, else storing as usual (fsync).
pub fn through_serve(
    bin: &Path,
    kafka: Option<&KafkaMode>,
    events: &[Vec<u8>],
    batch: usize,
    connections: usize,
) -> Result<Produced> {
    let data = tempfile::tempdir()?;
    let port = super::free_port()?;
    let mut extra = Vec::new();
    if let Some(k) = kafka {
        for a in [
            "--kafka",
            &k.broker.bootstrap(),
            "--topic",
            k.topic,
            "--group",
            "bench-serve-indexer",
        ] {
            extra.push(a.to_owned());
        }
        if k.ingest_only {
            extra.push("--ingest-only".to_owned());
        }
        for (key, v) in k.set {
            extra.push("-X".to_owned());
            extra.push(format!("{key}={v}"));
        }
    }
    let server = start_server(bin, data.path(), port, &extra)?;
    let bodies = ndjson_bodies(events, batch);
    std::thread::sleep(SETTLE);
    let broker_pid = kafka.map(|k| k.broker.pid());
    let me = std::process::id();
    let (b0, s0, c0, m0) = (
        cpu_of(broker_pid),
        cpu(server.pid()),
        cpu(me),
        machine_cpu(),
    );
    let started = Instant::now();
    let posted = post_batches(
        &format!("http://127.0.0.1:{port}/v1/events:batch"),
        bodies,
        connections,
    )?;
    let elapsed = started.elapsed();
    let (b1, s1, c1, m1) = (
        cpu_of(broker_pid),
        cpu(server.pid()),
        cpu(me),
        machine_cpu(),
    );
    let threads = cpu_by_thread(server.pid());
    let held = kafka.map(|k| k.broker.records_held(k.topic)).transpose()?;
    // The server's indexer consumes the topic while ingest produces to it;
    // how far behind it ends up is part of what serve does.
    let indexed = kafka
        .filter(|k| !k.ingest_only)
        .map(|k| wait_indexed(port, posted.accepted, started + k.index_wait, started));
    drop(server);
    Ok(Produced {
        elapsed,
        acked: posted.accepted,
        held,
        broker_cpu: b1 - b0,
        other_cpu: (m1 - m0 - (b1 - b0) - (c1 - c0) - (s1 - s0)).max(0.0),
        bench_cpu: c1 - c0,
        serve_cpu: s1 - s0,
        latencies: posted.latencies,
        threads,
        indexed,
    })
}

fn cpu_of(pid: Option<u32>) -> f64 {
    pid.map_or(0.0, cpu)
}

fn cpu(pid: u32) -> f64 {
    cpu_seconds(pid).unwrap_or(0.0)
}

/// Wall time and CPU (this process, the broker, the rest of the machine)
/// of a contender that runs inside this process.
pub struct Meter {
    me: u32,
    started: Instant,
    broker0: f64,
    me0: f64,
    machine0: f64,
}

impl Meter {
    /// Start the clock.
    pub fn start(broker: &Broker) -> Meter {
        let me = std::process::id();
        Meter {
            me,
            broker0: cpu(broker.pid()),
            me0: cpu(me),
            machine0: machine_cpu(),
            started: Instant::now(),
        }
    }

    /// Stop it: `acked` records of `topic` on `broker`, each batch's round trip in `latencies`.
    pub fn finish(
        self,
        broker: &Broker,
        topic: &str,
        acked: usize,
        latencies: Vec<Duration>,
    ) -> Result<Produced> {
        let elapsed = self.started.elapsed();
        let (b, c, m) = (
            cpu(broker.pid()) - self.broker0,
            cpu(self.me) - self.me0,
            machine_cpu() - self.machine0,
        );
        Ok(Produced {
            elapsed,
            acked,
            held: Some(broker.records_held(topic)?),
            broker_cpu: b,
            other_cpu: (m - b - c).max(0.0),
            bench_cpu: c,
            latencies,
            ..Produced::default()
        })
    }
}

/// Wait until serve's `/metrics` says its indexer stored `n` records, or
/// until `until`.
fn wait_indexed(port: u16, n: usize, until: Instant, started: Instant) -> Indexed {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    loop {
        let stored = agent
            .get(&format!("http://127.0.0.1:{port}/metrics"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("auditlog_kafka_stored_total "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
            })
            .unwrap_or(0);
        if stored >= n || Instant::now() >= until {
            return Indexed {
                stored,
                at: started.elapsed(),
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Counts delivery reports; librdkafka calls it from `poll`/`flush`.
#[derive(Debug, Default)]
struct Acks {
    ok: AtomicUsize,
    failed: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        match r {
            Ok(_) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err((e, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut f) = self.first_error.lock() {
                    f.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
}

/// Send `records` (the canonical bytes serve would write) to `topic` with
/// a bare `BaseProducer` configured as `auditlog_kafka::produce::Producer`
/// is: idempotent, acks=all, linger 2 ms, murmur2 partitioning, key =
/// organization, the same content-type header. One thread sends
/// everything, then flushes.
pub fn raw(broker: &Broker, topic: &str, records: &[Vec<u8>]) -> Result<Produced> {
    let keys: Vec<&str> = records
        .iter()
        .map(|r| organization_key(r).unwrap_or(""))
        .collect();
    let producer: BaseProducer<Acks> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .set("client.id", "auditlog")
        .set("socket.timeout.ms", "10000")
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "10000")
        .set("linger.ms", "2")
        .set("partitioner", "murmur2_random")
        .create_with_context(Acks::default())?;
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))?;
    std::thread::sleep(SETTLE);
    let meter = Meter::start(broker);
    for (i, (r, key)) in records.iter().zip(&keys).enumerate() {
        let headers = OwnedHeaders::new().insert(Header {
            key: "content-type",
            value: Some(STRUCTURED),
        });
        let mut rec = BaseRecord::to(topic)
            .payload(&r[..])
            .key(*key)
            .headers(headers);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                // librdkafka's queue is full: serve delivery reports, retry.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    rec = back;
                    producer.poll(Duration::from_millis(5));
                }
                Err((e, _)) => bail!("raw producer refused record {i}: {e}"),
            }
        }
        if i % 256 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer.flush(Duration::from_secs(120))?;
    let acks = producer.context();
    let measured = meter.finish(broker, topic, acks.ok.load(Ordering::Relaxed), Vec::new())?;
    let failed = acks.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let first = acks
            .first_error
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_default();
        bail!("raw producer: {failed} records not delivered (first: {first})");
    }
    Ok(measured)
}

/// serve's Kafka path alone: `connections` threads each hand `batch`
/// records to `auditlog_kafka`'s `Producer::send_all_blocking` (what ingest
/// calls per request) and wait for every acknowledgement before the next
/// batch. No HTTP, no parsing, no validation, no indexer.
pub fn producer_batched(
    broker: &Broker,
    topic: &str,
    records: &[Vec<u8>],
    batch: usize,
    connections: usize,
) -> Result<Produced> {
    let mut cfg = KafkaConfig::new(broker.bootstrap());
    cfg.topic = topic.to_owned();
    // The timeout serve uses.
    let producer = auditlog_kafka::produce::Producer::new(&cfg, Duration::from_secs(10))?;
    std::thread::sleep(SETTLE);
    let next = AtomicUsize::new(0);
    let batches: Vec<&[Vec<u8>]> = records.chunks(batch.max(1)).collect();
    let meter = Meter::start(broker);
    let (acked, latencies) = std::thread::scope(|s| -> Result<(usize, Vec<Duration>)> {
        let workers: Vec<_> = (0..connections.max(1))
            .map(|_| {
                s.spawn(|| -> Result<(usize, Vec<Duration>)> {
                    let mut acked = 0;
                    let mut lat = Vec::new();
                    while let Some(b) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let t = Instant::now();
                        acked += producer.send_all_blocking(b)?.len();
                        lat.push(t.elapsed());
                    }
                    Ok((acked, lat))
                })
            })
            .collect();
        let (mut acked, mut all) = (0, Vec::new());
        for w in workers {
            let (a, l) = w
                .join()
                .map_err(|_| anyhow::anyhow!("producer thread panicked"))??;
            acked += a;
            all.extend(l);
        }
        Ok((acked, all))
    })?;
    meter.finish(broker, topic, acked, latencies)
}
