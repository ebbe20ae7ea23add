//! Kafka throughput (issue 6) against a real Kafka-protocol broker (tansu),
//! each side on a fresh broker, same records, same run, alternating order:
//! produce through `auditlog serve --kafka` vs a bare rdkafka producer, and
//! consume-and-store through `auditlog consume` vs a bare rdkafka consumer
//! that only appends and fsyncs. tansu is a test peer: its limits are
//! reported (broker CPU per side), not hidden in our numbers.

mod broker;
mod ceiling;
mod consume;
mod produce;
mod report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use auditlog_model::parse_record;

use crate::ingest::{auditlog_bin, workload};
use broker::{Broker, Engine};
use consume::Consumed;
use produce::Produced;

/// Partitions of every benchmark topic (as the integration tests use).
pub const PARTITIONS: u32 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records per side.
    #[arg(long, default_value_t = 200_000)]
    records: usize,
    /// The broker's storage engine.
    #[arg(long, value_enum, default_value_t = Engine::Memory)]
    engine: Engine,
    /// Runs; the order of the sides alternates between runs.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Records per HTTP request to serve.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Concurrent HTTP connections to serve.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Run only one of the two benchmarks (consume still pre-fills its
    /// topic with the raw producer, whose time is then reported too).
    #[arg(long, value_enum)]
    only: Option<Part>,
    /// The `auditlog` binary (default: next to this one).
    #[arg(long)]
    auditlog: Option<PathBuf>,
    /// The tansu binary (default: `AUDITLOG_TANSU`, else scripts/kafka-broker.sh's cache).
    #[arg(long)]
    tansu: Option<PathBuf>,
    /// Skip the two produce references (our `Producer` without HTTP, and
    /// serve without `--kafka`).
    #[arg(long)]
    no_references: bool,
    /// A librdkafka setting for every consumer, KEY=VALUE (repeatable;
    /// `auditlog consume` and `serve --kafka`, whose indexer consumes, get
    /// it as `-X`).
    #[arg(long, value_name = "KEY=VALUE")]
    consumer_set: Vec<String>,
    /// How long, from its first request, to wait for serve's own indexer to
    /// store everything (its progress is reported either way).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    index_wait: u64,
    /// On a shared machine: before each run, wait (up to 15 min) until other
    /// processes have used under 10 % of one core for 20 s, and repeat (up
    /// to 3 times) a run in which they used more than this many CPU seconds.
    #[arg(long, value_name = "SECONDS")]
    max_other_cpu: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    Produce,
    Consume,
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// CPU seconds the whole machine has spent busy (all cores, from
/// `/proc/stat`), to tell how much of a side's time went to other work.
pub fn machine_cpu() -> f64 {
    let Ok(s) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = s.lines().next() else {
        return 0.0;
    };
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    line.split_whitespace()
        .skip(1)
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .filter_map(|(_, v)| v.parse::<f64>().ok())
        .sum::<f64>()
        / 100.0
}

/// Wait until the machine has been nearly idle for 20 s (nothing of ours
/// runs between runs, so whatever is busy is someone else's work).
fn wait_for_quiet() {
    let (started, mut quiet) = (Instant::now(), 0);
    while quiet < 4 && started.elapsed() < Duration::from_secs(900) {
        let m0 = machine_cpu();
        std::thread::sleep(Duration::from_secs(5));
        quiet = if machine_cpu() - m0 < 0.5 {
            quiet + 1
        } else {
            0
        };
    }
    if quiet < 4 {
        println!("(the machine did not become quiet within 15 min; running anyway)");
    }
}

/// One run's measurements (absent when skipped).
#[derive(Debug, Default)]
pub struct Run {
    serve: Option<Produced>,
    raw_produce: Option<Produced>,
    /// Reference: our `Producer` in serve's pattern, no HTTP.
    batched: Option<Produced>,
    /// Reference: serve without `--kafka`.
    plain: Option<Produced>,
    /// References: serve's HTTP stack and `Producer` without serve's checks.
    fronts: Vec<(ceiling::Checks, Produced)>,
    /// Reference: an ingest node, `serve --kafka --ingest-only`.
    ingest_only: Option<Produced>,
    ours: Option<Consumed>,
    raw_consume: Option<Consumed>,
    /// The raw producer's topic's high watermarks, after both consumers.
    held_later: Option<usize>,
}

impl Run {
    /// CPU seconds other processes used during this run's timed parts.
    fn other_cpu(&self) -> f64 {
        let produced = [
            &self.serve,
            &self.raw_produce,
            &self.batched,
            &self.plain,
            &self.ingest_only,
        ];
        let consumed = [&self.ours, &self.raw_consume];
        produced
            .iter()
            .filter_map(|p| p.as_ref().map(|p| p.other_cpu))
            .chain(self.fronts.iter().map(|(_, p)| p.other_cpu))
            .chain(
                consumed
                    .iter()
                    .filter_map(|c| c.as_ref().map(|c| c.other_cpu)),
            )
            .sum()
    }
}

/// What every run shares.
struct Setup {
    args: Args,
    bin: PathBuf,
    tansu: PathBuf,
    events: Vec<Vec<u8>>,
    canonical: Vec<Vec<u8>>,
    consumer_set: Vec<(String, String)>,
}

impl Setup {
    /// A fresh broker with one topic.
    fn broker(&self, topic: &str) -> Result<Broker> {
        let b = Broker::start(&self.tansu, self.args.engine)?;
        b.create_topic(topic, PARTITIONS)?;
        Ok(b)
    }

    /// serve --kafka, then the two references.
    fn ours(&self, r: &mut Run) -> Result<()> {
        let a = &self.args;
        if a.only == Some(Part::Consume) {
            return Ok(());
        }
        // serve --kafka on a fresh broker, an ingest node or not.
        let serve = |topic: &str, ingest_only: bool| -> Result<Produced> {
            let b = self.broker(topic)?;
            let kafka = produce::KafkaMode {
                broker: &b,
                topic,
                set: &self.consumer_set,
                index_wait: Duration::from_secs(a.index_wait),
                ingest_only,
            };
            produce::through_serve(
                &self.bin,
                Some(&kafka),
                &self.events,
                a.batch,
                a.connections,
            )
        };
        r.serve = Some(serve("audit-serve", false)?);
        if a.no_references {
            return Ok(());
        }
        r.ingest_only = Some(serve("audit-ingest-only", true)?);
        let b = self.broker("audit-batched")?;
        r.batched = Some(produce::producer_batched(
            &b,
            "audit-batched",
            &self.canonical,
            a.batch,
            a.connections,
        )?);
        drop(b);
        for checks in [
            ceiling::Checks::None,
            ceiling::Checks::Syntax,
            ceiling::Checks::Value,
        ] {
            let b = self.broker("audit-front")?;
            let p = ceiling::http_front(
                &b,
                "audit-front",
                &self.events,
                a.batch,
                a.connections,
                checks,
            )?;
            r.fronts.push((checks, p));
        }
        r.plain = Some(produce::through_serve(
            &self.bin,
            None,
            &self.events,
            a.batch,
            a.connections,
        )?);
        Ok(())
    }

    /// The raw producer, then both consumers on the topic it filled, each
    /// as its own group, in the run's order.
    fn raw(&self, r: &mut Run, ours_first: bool) -> Result<()> {
        let b = self.broker("audit")?;
        let p = produce::raw(&b, "audit", &self.canonical)?;
        let n = p.acked;
        r.raw_produce = Some(p);
        if self.args.only == Some(Part::Produce) {
            return Ok(());
        }
        let x = &self.consumer_set;
        let ours = || consume::ours(&self.bin, &b, "audit", "bench-ours", n, x);
        let raw = || consume::raw(&b, "audit", "bench-raw", n, x);
        if ours_first {
            r.ours = Some(ours()?);
            r.raw_consume = Some(raw()?);
        } else {
            r.raw_consume = Some(raw()?);
            r.ours = Some(ours()?);
        }
        r.held_later = Some(b.records_held("audit")?);
        Ok(())
    }

    fn run(&self, ours_first: bool) -> Result<Run> {
        let mut r = Run::default();
        if ours_first {
            self.ours(&mut r)?;
            self.raw(&mut r, ours_first)?;
        } else {
            self.raw(&mut r, ours_first)?;
            self.ours(&mut r)?;
        }
        Ok(r)
    }
}

pub fn run(args: Args) -> Result<()> {
    let bin = auditlog_bin(args.auditlog.clone())?;
    let tansu = broker::tansu_bin(args.tansu.clone())?;
    let events = workload(args.records)?;
    // The raw producer sends exactly what serve writes: the canonical bytes.
    let canonical: Vec<Vec<u8>> = events
        .iter()
        .map(|e| parse_record(e).map(|p| p.canonical))
        .collect::<Result<_, _>>()
        .context("a generated record does not parse")?;
    let consumer_set = args
        .consumer_set
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("--consumer-set {kv}: expected KEY=VALUE"))
        })
        .collect::<Result<_>>()?;
    let n = events.len();
    let bytes: usize = canonical.iter().map(Vec::len).sum();
    println!(
        "kafka: {n} generated records ({:.1} MB, {} B average{}), tansu 0.6.0 {} engine, {PARTITIONS} partitions, a fresh broker per side; client, serve and broker share this machine's {} cores",
        bytes as f64 / 1e6,
        bytes / n.max(1),
        if canonical == events { ", already canonical" } else { "" },
        args.engine.name(),
        std::thread::available_parallelism().map(|p| p.get()).unwrap_or(0),
    );
    println!(
        "serve: {} records per request over {} connections; raw producer: one thread, send all then flush; consumers' extra settings: {:?}",
        args.batch, args.connections, args.consumer_set
    );
    let setup = Setup {
        bin,
        tansu,
        events,
        canonical,
        consumer_set,
        args,
    };
    let mut runs = Vec::new();
    for i in 0..setup.args.runs {
        let ours_first = i % 2 == 0;
        for attempt in 0.. {
            if setup.args.max_other_cpu.is_some() {
                wait_for_quiet();
            }
            let r = setup.run(ours_first)?;
            println!();
            println!(
                "run {} ({} first){}",
                i + 1,
                if ours_first { "ours" } else { "raw" },
                if attempt > 0 {
                    format!(", attempt {}", attempt + 1)
                } else {
                    String::new()
                }
            );
            report::run(&r, n, bytes);
            let disturbed = setup
                .args
                .max_other_cpu
                .is_some_and(|max| r.other_cpu() > max);
            if disturbed && attempt < 3 {
                println!(
                    "  disturbed: other processes used {:.1} CPU s; this run is done again",
                    r.other_cpu()
                );
                continue;
            }
            runs.push(r);
            break;
        }
    }
    report::summary(&runs, n);
    Ok(())
}
