//! The SDK's costs: `emit()` on the caller's thread (ns per event, p50/p99)
//! and the latency from `emit()` until the event is visible to a query
//! (`/v1/tail` of a real `auditlog serve`), at a paced rate. Same-run
//! baselines: a bare `sync_channel` hand-off (the floor of any non-blocking
//! emit), serialising the event on the caller (`to_canonical`, what a
//! synchronous client pays before any I/O) and a blocking one-event HTTP
//! POST per call (a naive client; its reply also marks visibility).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use auditlog_model::json::to_canonical;
use auditlog_sdk::methods::{CreateConnector, GetConnector, PatchStatement};
use auditlog_sdk::{AuditClient, ClientConfig, Event, Policy, Principal};

use crate::ingest::{auditlog_bin, start_server};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Events emitted in the paced run.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Paced rate, events per second.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Events in the unpaced (burst) run.
    #[arg(long, default_value_t = 200_000)]
    burst: usize,
    /// Events sent one per blocking POST for the naive-client baseline.
    #[arg(long, default_value_t = 2_000)]
    naive: usize,
    /// The `auditlog` binary (default: next to this one).
    #[arg(long)]
    auditlog: Option<PathBuf>,
}

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let p = Principal::user(format!("u-{}", i % 13), ORG).with_email("someone@example.com");
            let b = match i % 3 {
                0 => CreateConnector::on(ORG, "env-abc123", "lkc-12j2w5", format!("lcc-{i}")),
                1 => GetConnector::on(ORG, "env-abc123", "lkc-12j2w5", format!("lcc-{i}")),
                _ => PatchStatement::on(ORG, "env-abc123", "aws.us-east-2", format!("st-{i}")),
            };
            b.principal(p)
                .client_ip("10.1.2.3")
                .build()
                .map_err(anyhow::Error::from)
        })
        .collect::<Result<_>>()
        .unwrap_or_default()
}

fn pct(xs: &mut [u64], p: f64) -> u64 {
    xs.sort_unstable();
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(i).copied().unwrap_or(0)
}

fn summary(name: &str, xs: &mut [u64], unit: &str, div: f64) -> (f64, f64) {
    let p50 = pct(xs, 0.50) as f64 / div;
    let p99 = pct(xs, 0.99) as f64 / div;
    let p999 = pct(xs, 0.999) as f64 / div;
    let max = xs.last().copied().unwrap_or(0) as f64 / div;
    println!("{name:<44} p50 {p50:>10.1} {unit}  p99 {p99:>10.1} {unit}  p99.9 {p999:>10.1} {unit}  max {max:>10.1} {unit}");
    (p50, p99)
}

/// Follow `/v1/tail` and note when each record id arrives.
fn follow(url: String, seen: Arc<Mutex<HashMap<String, Instant>>>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let Ok(mut r) = agent.get(&format!("{url}/v1/tail")).call() else {
        return;
    };
    let reader = std::io::BufReader::new(r.body_mut().as_reader());
    for line in reader.lines() {
        let Ok(line) = line else { return };
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let now = Instant::now();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(data) {
            if let Some(id) = v.get("id").and_then(|i| i.as_str()) {
                if let Ok(mut s) = seen.lock() {
                    s.insert(id.to_owned(), now);
                }
            }
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let bin = auditlog_bin(args.auditlog.clone())?;
    let dir = tempfile::tempdir()?;
    let spool = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let _server = start_server(&bin, dir.path(), port, &[])?;
    let url = format!("http://127.0.0.1:{port}");
    println!("auditlog serve: {}, release build, fsync on; client and server share this machine's 2 cores", bin.display());

    // Baselines on the caller's thread, on the same events. The channel
    // hand-off is paced like the SDK run, with a consumer blocked in recv
    // (the naive way to hand work to a thread).
    let gap = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let evs = events(args.events);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Event>(65_536);
    let drain = std::thread::spawn(move || rx.into_iter().count());
    let mut chan = Vec::with_capacity(evs.len());
    let start = Instant::now();
    for (i, e) in evs.into_iter().enumerate() {
        let due = start + gap * i as u32;
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let t = Instant::now();
        let _ = tx.send(e);
        chan.push(t.elapsed().as_nanos() as u64);
    }
    drop(tx);
    let _ = drain.join();
    let evs = events(args.burst);
    let mut ser = Vec::with_capacity(evs.len());
    let mut bytes = 0usize;
    for e in &evs {
        let t = Instant::now();
        let b = to_canonical(&e.record);
        ser.push(t.elapsed().as_nanos() as u64);
        bytes += b.len();
    }
    println!(
        "events: {} B average (canonical JSON)",
        bytes / evs.len().max(1)
    );

    // Burst: emit as fast as one thread can.
    let cfg = || ClientConfig {
        policy: Policy::FailClosed,
        spool_dir: Some(spool.path().to_owned()),
        ..ClientConfig::default()
    };
    let client = AuditClient::http(&url, cfg())?;
    let mut burst = Vec::with_capacity(evs.len());
    let started = Instant::now();
    for e in evs {
        let t = Instant::now();
        client.emit(e)?;
        burst.push(t.elapsed().as_nanos() as u64);
    }
    let emitted_in = started.elapsed();
    let c = client
        .flush(Duration::from_secs(300))
        .map_err(|c| anyhow::anyhow!("burst not delivered: {c:?}"))?;
    let delivered_in = started.elapsed();
    drop(client);
    println!(
        "burst: {} events emitted in {:.2} s, delivered in {:.2} s ({:.0} events/s end to end), counters {c:?}",
        args.burst,
        emitted_in.as_secs_f64(),
        delivered_in.as_secs_f64(),
        args.burst as f64 / delivered_in.as_secs_f64()
    );

    // Paced: emit at `rate`, note visibility on the tail.
    let seen = Arc::new(Mutex::new(HashMap::new()));
    {
        let (u, s) = (url.clone(), seen.clone());
        std::thread::spawn(move || follow(u, s));
    }
    std::thread::sleep(Duration::from_millis(300));
    let client = AuditClient::http(&url, cfg())?;
    let evs = events(args.events);
    let mut paced = Vec::with_capacity(evs.len());
    let mut sent = Vec::with_capacity(evs.len());
    let start = Instant::now();
    for (i, e) in evs.into_iter().enumerate() {
        let due = start + gap * i as u32;
        while Instant::now() < due {
            std::hint::spin_loop();
        }
        let id = e.id.clone();
        let t = Instant::now();
        client.emit(e)?;
        let after = Instant::now();
        paced.push((after - t).as_nanos() as u64);
        sent.push((id, t));
    }
    let rate = args.events as f64 / start.elapsed().as_secs_f64();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = seen
            .lock()
            .map(|s| sent.iter().filter(|(id, _)| s.contains_key(id)).count())
            .unwrap_or(0);
        if n == sent.len() {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "only {n} of {} events became visible within 120 s",
                sent.len()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut lat: Vec<u64> = {
        let s = seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
        sent.iter()
            .filter_map(|(id, t)| s.get(id).map(|v| v.duration_since(*t).as_nanos() as u64))
            .collect()
    };
    drop(client);

    // Naive client: one blocking POST per event; its 201 means stored.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut naive = Vec::with_capacity(args.naive);
    for e in events(args.naive) {
        let t = Instant::now();
        let body = to_canonical(&e.record);
        let r = agent
            .post(&format!("{url}/v1/events"))
            .header("content-type", "application/cloudevents+json")
            .send(&body[..])
            .context("naive POST")?;
        if r.status() != 201 {
            bail!("naive POST answered {}", r.status());
        }
        naive.push(t.elapsed().as_nanos() as u64);
    }

    println!();
    println!("cost on the caller's thread (ns per event):");
    let (c50, c99) = summary(
        &format!("emit(), paced at {rate:.0}/s"),
        &mut paced,
        "ns",
        1.0,
    );
    let (b50, b99) = summary(
        "emit(), burst (one thread, no pacing)",
        &mut burst,
        "ns",
        1.0,
    );
    let (h50, h99) = summary(
        &format!("baseline: sync_channel send, paced at {}/s", args.rate),
        &mut chan,
        "ns",
        1.0,
    );
    let (s50, s99) = summary("baseline: to_canonical (serialise)", &mut ser, "ns", 1.0);
    let (n50, n99) = summary("baseline: blocking POST per event", &mut naive, "ns", 1.0);
    println!();
    println!("emit until visible on /v1/tail (ms):");
    let (l50, l99) = summary(&format!("SDK, paced at {rate:.0}/s"), &mut lat, "ms", 1e6);
    println!();
    println!("ratios (ours / baseline, p50 and p99):");
    println!(
        "  emit paced vs sync_channel:  {:.2}x  {:.2}x",
        c50 / h50,
        c99 / h99
    );
    println!(
        "  emit burst vs sync_channel:  {:.2}x  {:.2}x",
        b50 / h50,
        b99 / h99
    );
    println!(
        "  emit paced vs serialise:     {:.2}x  {:.2}x",
        c50 / s50,
        c99 / s99
    );
    println!(
        "  emit paced vs blocking POST: {:.4}x  {:.4}x",
        c50 / n50,
        c99 / n99
    );
    println!(
        "  visible (SDK) vs blocking POST reply: {:.2}x  {:.2}x",
        l50 * 1e6 / n50,
        l99 * 1e6 / n99
    );
    println!();
    println!(
        "goals: emit p99 < 5 µs on the caller: {} ({:.0} ns); visible p99 < 1 s at {rate:.0}/s: {} ({l99:.1} ms)",
        if c99 < 5_000.0 { "met" } else { "MISSED" },
        c99,
        if l99 < 1_000.0 { "met" } else { "MISSED" }
    );
    Ok(())
}
