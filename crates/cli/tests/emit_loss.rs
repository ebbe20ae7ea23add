//! No audit event is lost between a service and the server: the real
//! `auditlog serve` is killed with SIGKILL while SDK clients emit 100k events
//! under fail_closed; after restarts every event is stored exactly once.
//! Under fail_open with a tiny spool, drops are counted so that
//! delivered + dropped = emitted, and the server holds exactly the delivered.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditlog_sdk::methods::{CreateConnector, GetConnector};
use auditlog_sdk::{AuditClient, ClientConfig, EmitError, Event, Policy, Principal};
use common::server::{committed, get, Server};

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

fn event(i: usize) -> Event {
    let p = Principal::user(format!("u-{}", i % 7), ORG);
    let b = if i.is_multiple_of(2) {
        CreateConnector::on(ORG, "env-1", "lkc-1", format!("lcc-{i}"))
    } else {
        GetConnector::on(ORG, "env-1", "lkc-1", format!("lcc-{i}"))
    };
    b.principal(p).client_ip("10.0.0.1").build().unwrap()
}

/// Every stored record's id, in offset order.
fn stored_ids(url: &str) -> Vec<String> {
    let (status, body) = get(&format!("{url}/v1/events?format=ndjson&order=asc"));
    assert_eq!(status, 200);
    body.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            let r = v.get("record").unwrap_or(&v);
            r["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Emit `per` events from each of `threads` threads, pausing `pace` after
/// every 100 (none when zero). Returns the ids emit took and how many it
/// refused.
fn emit_from_threads(
    client: &Arc<AuditClient>,
    threads: usize,
    per: usize,
    pace: Duration,
) -> (Vec<String>, u64) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let c = client.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::with_capacity(per);
                let mut dropped = 0u64;
                for i in 0..per {
                    if !pace.is_zero() && i % 100 == 99 {
                        std::thread::sleep(pace);
                    }
                    let e = event(t * per + i);
                    let id = e.id.clone();
                    match c.emit(e) {
                        Ok(()) => ids.push(id),
                        Err(EmitError::Dropped) => dropped += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
                (ids, dropped)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut dropped = 0;
    for h in handles {
        let (ids, d) = h.join().unwrap();
        all.extend(ids);
        dropped += d;
    }
    (all, dropped)
}

#[test]
fn kill_dash_nine_during_100k_emits_loses_nothing_and_duplicates_nothing() {
    let data = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[]);
    let client = Arc::new(
        AuditClient::http(
            &server.url,
            ClientConfig {
                policy: Policy::FailClosed,
                spool_dir: Some(spool.path().to_owned()),
                backoff_min: Duration::from_millis(20),
                backoff_max: Duration::from_millis(500),
                ..ClientConfig::default()
            },
        )
        .unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        let c = client.clone();
        std::thread::spawn(move || {
            let mut kills = 0;
            // Kill at 20%, 50% and 80% of the way, and stay down a while each
            // time so the spool fills.
            for at in [20_000u64, 50_000, 80_000] {
                while c.counters().delivered < at && !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if done.load(Ordering::Relaxed) {
                    break;
                }
                server.child.kill().unwrap();
                server.child.wait().unwrap();
                std::thread::sleep(Duration::from_millis(700));
                server.crash_and_restart_after_kill();
                kills += 1;
            }
            (server, kills)
        })
    };
    let (ids, dropped) = emit_from_threads(&client, 4, 25_000, Duration::ZERO);
    assert_eq!((ids.len(), dropped), (100_000, 0));
    let c = client
        .flush(Duration::from_secs(300))
        .unwrap_or_else(|c| panic!("not delivered in time: {c:?}"));
    done.store(true, Ordering::Relaxed);
    let (server, kills) = killer.join().unwrap();
    assert!(kills >= 2, "the server was killed only {kills} times");
    assert!(
        c.spooled > 0 && c.retried > 0,
        "the kills did not force a retry: {c:?}"
    );
    assert_eq!(
        (c.emitted, c.delivered, c.dropped, c.rejected),
        (100_000, 100_000, 0, 0),
        "{c:?}"
    );

    let stored = stored_ids(&server.url);
    let set: HashSet<&String> = stored.iter().collect();
    assert_eq!(set.len(), stored.len(), "duplicates stored");
    assert_eq!(stored.len(), 100_000);
    let want: HashSet<&String> = ids.iter().collect();
    assert_eq!(set, want);
    assert_eq!(committed(&server.url), 100_000);
    eprintln!("kills: {kills}, counters: {c:?}");
}

#[test]
fn fail_open_with_a_tiny_spool_accounts_for_every_event() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Server::start(data.path(), &[]);
    let client = Arc::new(
        AuditClient::http(
            &server.url,
            ClientConfig {
                policy: Policy::FailOpen,
                spool_dir: None,
                spool_max_bytes: 64 << 10,
                queue_capacity: 256,
                backoff_min: Duration::from_millis(20),
                backoff_max: Duration::from_millis(200),
                ..ClientConfig::default()
            },
        )
        .unwrap(),
    );
    // Down for a while in the middle of the run.
    let outage = {
        let c = client.clone();
        std::thread::spawn(move || {
            // Some events delivered first, so both sides of the count matter.
            let started = Instant::now();
            while c.counters().delivered < 1_000 && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(1));
            }
            server.child.kill().unwrap();
            server.child.wait().unwrap();
            let started = Instant::now();
            while c.counters().dropped == 0 && started.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(300));
            server.crash_and_restart_after_kill();
            server
        })
    };
    // Paced (~0.4 s per thread), so deliveries happen before the outage.
    let (ids, refused) = emit_from_threads(&client, 2, 20_000, Duration::from_millis(2));
    let server = outage.join().unwrap();
    let c = client
        .flush(Duration::from_secs(120))
        .unwrap_or_else(|c| panic!("{c:?}"));
    assert!(
        c.dropped > 0,
        "nothing was dropped; the outage was too short: {c:?}"
    );
    assert!(c.delivered >= 1_000, "{c:?}");
    assert_eq!(c.emitted, 40_000);
    assert_eq!(c.delivered + c.dropped, c.emitted, "{c:?}");
    assert_eq!(ids.len() as u64 + refused, 40_000);
    let stored = stored_ids(&server.url);
    let set: HashSet<&String> = stored.iter().collect();
    assert_eq!(set.len(), stored.len(), "duplicates stored");
    // Every delivered event is stored. A few more may be: the batch in
    // flight when the server was killed can be durable although its answer
    // never came, and fail_open then gave it up (counted as dropped) once
    // the memory spool was full. At most one batch (1,000 events) is in
    // flight, and everything stored was emitted.
    let extra = (stored.len() as u64).checked_sub(c.delivered);
    assert!(
        extra.is_some_and(|x| x <= 1_000 && x <= c.dropped),
        "{} stored, {c:?}",
        stored.len()
    );
    let emitted: HashSet<&String> = ids.iter().collect();
    assert!(
        set.iter().all(|i| emitted.contains(i)),
        "a stored id nobody emitted"
    );
    eprintln!("counters: {c:?}, stored {}", stored.len());
}
