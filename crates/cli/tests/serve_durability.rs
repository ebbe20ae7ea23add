//! Durability through the real `auditlog serve` binary:
//! - idempotency: the same 10k events posted twice, concurrently, by 4 clients
//!   are stored exactly once;
//! - crashes: 4 clients post batches while the server is SIGKILLed at random
//!   points, 20+ times; afterwards every acknowledged event is present exactly
//!   once, offsets have no gaps, and `auditlog check` passes.

mod common;
use common::server::{committed, json, post, Server};

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditlog_gen::{Config, Generator};

/// id -> (bytes, acknowledged offset)
type Acked = HashMap<String, (Vec<u8>, u64)>;

fn ndjson(records: &[Vec<u8>]) -> Vec<u8> {
    let mut b = Vec::new();
    for r in records {
        b.extend_from_slice(r);
        b.push(b'\n');
    }
    b
}

fn id_of(r: &[u8]) -> String {
    json(r)["id"].as_str().unwrap().to_owned()
}

#[test]
fn the_same_events_twice_from_four_clients_are_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let events: Arc<Vec<Vec<u8>>> = Arc::new(
        Generator::new(Config {
            seed: 42,
            ..Config::default()
        })
        .take(10_000)
        .collect(),
    );
    let handles: Vec<_> = (0..4)
        .map(|c| {
            let (events, url) = (events.clone(), server.url.clone());
            std::thread::spawn(move || {
                // Clients 0 and 2 send the first half, 1 and 3 the second;
                // the pairs go in opposite orders so they collide mid-way.
                let half: Vec<&Vec<u8>> = events.iter().skip(c % 2).step_by(2).collect();
                let mut chunks: Vec<Vec<Vec<u8>>> = half
                    .chunks(250)
                    .map(|c| c.iter().map(|r| (*r).clone()).collect())
                    .collect();
                if c >= 2 {
                    chunks.reverse();
                }
                let (mut acc, mut dup) = (0, 0);
                for chunk in chunks {
                    let (s, b) = post(
                        &format!("{url}/v1/events:batch"),
                        "application/x-ndjson",
                        &ndjson(&chunk),
                    )
                    .unwrap();
                    assert_eq!(s, 200);
                    let v = json(&b);
                    acc += v["accepted"].as_u64().unwrap();
                    dup += v["duplicates"].as_u64().unwrap();
                }
                (acc, dup)
            })
        })
        .collect();
    let (mut acc, mut dup) = (0, 0);
    for h in handles {
        let (a, d) = h.join().unwrap();
        acc += a;
        dup += d;
    }
    assert_eq!((acc, dup), (10_000, 10_000));
    assert_eq!(committed(&server.url), 10_000);
    server.stop();
    let store = auditlog_store::Store::open_read_only(dir.path()).unwrap();
    for e in events.iter().step_by(97) {
        assert_eq!(store.find_by_id(&id_of(e), None).unwrap().len(), 1);
    }
}

#[test]
fn kill_dash_nine_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let url = server.url.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Acked>> = Arc::default();
    let clients: Vec<_> = (0..4u64)
        .map(|c| {
            let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut gen = Generator::new(Config {
                    seed: 1000 + c,
                    ..Config::default()
                });
                let mut pending: Vec<Vec<u8>> = Vec::new();
                let mut retries = 0u64;
                loop {
                    if pending.is_empty() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        pending = (0..100).map(|_| gen.next_bytes()).collect();
                    }
                    match post(
                        &format!("{url}/v1/events:batch"),
                        "application/x-ndjson",
                        &ndjson(&pending),
                    ) {
                        Ok((200, body)) => {
                            let v = json(&body);
                            let mut a = acked.lock().unwrap();
                            for (item, rec) in v["items"].as_array().unwrap().iter().zip(&pending) {
                                let st = item["status"].as_str().unwrap();
                                assert!(st == "accepted" || st == "duplicate", "{item}");
                                let off = item["offset"].as_u64().unwrap();
                                if let Some((_, prev)) = a.insert(id_of(rec), (rec.clone(), off)) {
                                    assert_eq!(prev, off, "an id acknowledged at two offsets");
                                }
                            }
                            pending.clear();
                        }
                        // The server is down or restarting: retry the same batch.
                        Ok((s, b)) => panic!("unexpected {s}: {}", String::from_utf8_lossy(&b)),
                        Err(_) => {
                            retries += 1;
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
                retries
            })
        })
        .collect();
    let mut rng = auditlog_gen::Rng::new(7);
    let kills = 22;
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(80 + rng.below(250) as u64));
        server.crash_and_restart();
    }
    stop.store(true, Ordering::SeqCst);
    let retries: u64 = clients.into_iter().map(|h| h.join().unwrap()).sum();
    assert!(
        retries > 0,
        "the kills should have interrupted some requests"
    );
    let acked = acked.lock().unwrap();
    let n = committed(&server.url);
    assert_eq!(
        n,
        acked.len() as u64,
        "every stored event was acknowledged once, and nothing else was stored"
    );
    let status = server.stop();
    assert!(status.success(), "clean shutdown on SIGTERM: {status}");

    let store = auditlog_store::Store::open_read_only(dir.path()).unwrap();
    assert_eq!(store.committed(), n);
    let mut seen = vec![false; n as usize];
    for (id, (bytes, off)) in acked.iter() {
        assert_eq!(
            store.get(*off).unwrap().as_deref(),
            Some(&bytes[..]),
            "acknowledged offset {off} lost or changed"
        );
        assert!(
            !std::mem::replace(&mut seen[*off as usize], true),
            "two ids at offset {off}"
        );
        let _ = id;
    }
    assert!(seen.iter().all(|s| *s), "offsets have no gaps");
    for (id, _) in acked.iter().take(500) {
        assert_eq!(
            store.find_by_id(id, None).unwrap().len(),
            1,
            "{id} stored more than once"
        );
    }
    drop(store);
    let o = common::run(&["check", dir.path().to_str().unwrap()], b"");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        common::stdout(&o),
        common::stderr(&o)
    );
    assert!(
        common::stdout(&o).contains(&format!("OK: {n} records")),
        "{}",
        common::stdout(&o)
    );
    eprintln!("{kills} kills, {retries} retried requests, {n} records stored exactly once");
}
