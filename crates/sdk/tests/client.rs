//! The client's delivery logic against a scripted destination: outages go
//! to the spool and come back in order, a restarted process picks up the
//! spool, fail_open accounts for every drop, fail_closed pushes back, and
//! refused records land in the dead-letter file. (The real server and a
//! kill -9 are exercised by the CLI's loss test.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auditlog_model::json::{parse, Json};
use auditlog_sdk::methods::CreateConnector;
use auditlog_sdk::transport::Delivery;
use auditlog_sdk::{
    AuditClient, ClientConfig, EmitError, Event, Policy, Principal, Transport, TransportError,
};

const ORG: &str = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";

#[derive(Default)]
struct Dest {
    up: bool,
    /// id -> times stored (a retry of a stored id is a duplicate, not a second copy)
    stored: HashMap<String, usize>,
    order: Vec<String>,
    bodies: Vec<Vec<u8>>,
    reject_name: Option<String>,
}

#[derive(Clone, Default)]
struct Scripted(Arc<Mutex<Dest>>);

impl Transport for Scripted {
    fn send(&mut self, batch: &[Vec<u8>]) -> Result<Vec<Delivery>, TransportError> {
        let mut d = self.0.lock().unwrap();
        if !d.up {
            return Err(TransportError::Unavailable {
                detail: "down".into(),
                retry_after: None,
            });
        }
        let mut out = Vec::new();
        for r in batch {
            let v = parse(r).unwrap();
            let id = v.get("id").unwrap().as_str().unwrap().to_owned();
            let name = v
                .get("data")
                .unwrap()
                .get("request")
                .unwrap()
                .get("data")
                .and_then(|d| d.get("name"))
                .and_then(Json::as_str)
                .map(str::to_owned);
            if name.is_some() && name == d.reject_name {
                out.push(Delivery::Rejected {
                    status: 422,
                    detail: "no".into(),
                });
                continue;
            }
            let n = d.stored.entry(id.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                d.order.push(id);
                d.bodies.push(r.clone());
            }
            out.push(Delivery::Stored);
        }
        Ok(out)
    }
}

fn event(name: &str) -> Event {
    CreateConnector::on(ORG, "env-1", "lkc-1", "lcc-1")
        .principal(Principal::user("u-1", ORG))
        .request_data(
            parse(
                format!(r#"{{"name":"{name}","config":{{"kafka.api.secret":"s3cr3t-{name}"}}}}"#)
                    .as_bytes(),
            )
            .unwrap(),
        )
        .build()
        .unwrap()
}

fn config(spool: Option<&std::path::Path>, policy: Policy) -> ClientConfig {
    ClientConfig {
        policy,
        spool_dir: spool.map(|p| p.to_path_buf()),
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..ClientConfig::default()
    }
}

#[test]
fn an_outage_is_spooled_and_delivered_in_order_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Scripted::default();
    let client =
        AuditClient::start(config(Some(dir.path()), Policy::FailClosed), dest.clone()).unwrap();
    let mut ids = Vec::new();
    for i in 0..5000 {
        let e = event(&format!("c{i}"));
        ids.push(e.id.clone());
        client.emit(e).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    let c = client.counters();
    assert!(c.spooled > 0 && c.retried > 0 && c.delivered == 0, "{c:?}");
    dest.0.lock().unwrap().up = true;
    let c = client.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(
        (c.emitted, c.delivered, c.dropped, c.rejected),
        (5000, 5000, 0, 0),
        "{c:?}"
    );
    assert_eq!(c.spool_records, 0);
    let d = dest.0.lock().unwrap();
    assert_eq!(d.order, ids, "delivered out of order");
    assert!(d.stored.values().all(|&n| n == 1));
    // Redacted before it left the process.
    let all: Vec<u8> = d.bodies.concat();
    assert!(!String::from_utf8_lossy(&all).contains("s3cr3t"));
    assert_eq!(c.redacted, 5000);
}

#[test]
fn a_restarted_process_delivers_what_the_last_one_spooled() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Scripted::default();
    let first =
        AuditClient::start(config(Some(dir.path()), Policy::FailClosed), dest.clone()).unwrap();
    let ids: Vec<String> = (0..300)
        .map(|i| {
            let e = event(&format!("r{i}"));
            let id = e.id.clone();
            first.emit(e).unwrap();
            id
        })
        .collect();
    let c = first.close(Duration::from_millis(50));
    assert_eq!(c.delivered, 0);
    assert_eq!(c.spool_records, 300, "{c:?}");

    dest.0.lock().unwrap().up = true;
    let second =
        AuditClient::start(config(Some(dir.path()), Policy::FailClosed), dest.clone()).unwrap();
    let c = second.flush(Duration::from_secs(10)).unwrap();
    assert_eq!((c.recovered, c.delivered), (300, 300), "{c:?}");
    assert_eq!(dest.0.lock().unwrap().order, ids);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "spool files left behind"
    );
}

#[test]
fn fail_open_counts_every_drop() {
    let dest = Scripted::default();
    let cfg = ClientConfig {
        spool_max_bytes: 20_000,
        queue_capacity: 64,
        ..config(None, Policy::FailOpen)
    };
    let client = AuditClient::start(cfg, dest.clone()).unwrap();
    let mut refused = 0;
    for i in 0..20_000 {
        if client.emit(event(&format!("o{i}"))) == Err(EmitError::Dropped) {
            refused += 1;
        }
    }
    dest.0.lock().unwrap().up = true;
    let c = client.flush(Duration::from_secs(30)).unwrap();
    assert!(c.dropped > 0 && refused > 0, "{c:?}");
    assert_eq!(c.delivered + c.dropped, c.emitted, "{c:?}");
    assert_eq!(c.emitted, 20_000);
    assert_eq!(dest.0.lock().unwrap().stored.len() as u64, c.delivered);
}

#[test]
fn fail_closed_pushes_back_instead_of_dropping() {
    let dest = Scripted::default();
    let cfg = ClientConfig {
        spool_max_bytes: 10_000,
        queue_capacity: 16,
        ..config(None, Policy::FailClosed)
    };
    let client = AuditClient::start(cfg, dest.clone()).unwrap();
    let mut taken = 0u64;
    let err = loop {
        match client.emit_timeout(event("x"), Duration::from_millis(200)) {
            Ok(()) => taken += 1,
            Err(e) => break e,
        }
        assert!(taken < 100_000, "never pushed back");
    };
    assert!(matches!(err, EmitError::Timeout(_)), "{err}");
    assert!(err.to_string().contains("is the audit server reachable?"));
    dest.0.lock().unwrap().up = true;
    let c = client.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(
        (c.emitted, c.delivered, c.dropped),
        (taken, taken, 0),
        "{c:?}"
    );
}

#[test]
fn refused_records_go_to_the_dead_letter_file() {
    let dir = tempfile::tempdir().unwrap();
    let dest = Scripted::default();
    {
        let mut d = dest.0.lock().unwrap();
        d.up = true;
        d.reject_name = Some("bad".into());
    }
    let client =
        AuditClient::start(config(Some(dir.path()), Policy::FailClosed), dest.clone()).unwrap();
    client.emit(event("good")).unwrap();
    client.emit(event("bad")).unwrap();
    let c = client.flush(Duration::from_secs(10)).unwrap();
    assert_eq!((c.delivered, c.rejected), (1, 1));
    let dead = std::fs::read_to_string(dir.path().join("rejected.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 1);
    assert!(dead.contains("\"bad\""));
}
