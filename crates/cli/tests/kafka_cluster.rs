//! Two `serve --kafka` nodes in one consumer group: the partitions split
//! between them, and move when one leaves; a tenant's query to either node
//! returns every record acknowledged before it was sent, throughout; a live
//! tail and a verifiable export go to the node that owns the tenant; an
//! ingest node (`--ingest-only`) indexes nothing and sends reads to one that does.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use common::broker::Broker;
use common::server::{agent, free_port, ingest, Server};

const TOPIC: &str = "confluent-audit-log-events";

fn org_of(r: &[u8]) -> String {
    auditlog_kafka::decode::organization_key(r)
        .unwrap()
        .to_owned()
}

fn id_of(r: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// One tenant's records from a node: their ids, and which node answered.
fn tenant_query(url: &str, org: &str) -> (HashSet<String>, String) {
    let filter = format!("organization = {org}");
    let resp = agent()
        .get(&format!("{url}/v1/events"))
        .query("format", "ndjson")
        .query("filter", &filter)
        .call()
        .unwrap();
    let status = resp.status();
    let by = resp
        .headers()
        .get("x-auditlog-answered-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("local")
        .to_owned();
    let body = resp
        .into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let ids = body
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_slice(l).unwrap();
            v["record"]["id"].as_str().unwrap().to_owned()
        })
        .collect();
    (ids, by)
}

/// Partitions a node's indexer is assigned now.
fn assigned(url: &str) -> BTreeSet<i64> {
    let mut r = agent()
        .get(&format!("{url}/v1/kafka/progress"))
        .call()
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    v["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["assigned"] == true)
        .map(|p| p["partition"].as_i64().unwrap())
        .collect()
}

/// Two nodes of one group on the broker, each naming the other as its peer.
struct Pair {
    a: Server,
    b: Server,
    ua: String,
    ub: String,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

impl Pair {
    fn start(broker: &Broker, group: &str) -> Pair {
        let (pa, pb) = (free_port(), free_port());
        let (ua, ub) = (
            format!("http://127.0.0.1:{pa}"),
            format!("http://127.0.0.1:{pb}"),
        );
        let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let node = |dir: &std::path::Path, port: u16, peer: &str| {
            let args = [
                "--kafka",
                &broker.bootstrap(),
                "--group",
                group,
                "--peer",
                peer,
            ];
            Server::start_on(dir, port, &args)
        };
        let a = node(dirs.0.path(), pa, &ub);
        let b = node(dirs.1.path(), pb, &ua);
        Pair {
            a,
            b,
            ua,
            ub,
            _dirs: dirs,
        }
    }
}

/// Once the group has split the three partitions between the two nodes:
/// each one's share.
fn split(ua: &str, ub: &str) -> (BTreeSet<i64>, BTreeSet<i64>) {
    let started = Instant::now();
    loop {
        let (x, y) = (assigned(ua), assigned(ub));
        if !x.is_empty() && !y.is_empty() && x.union(&y).count() == 3 && x.is_disjoint(&y) {
            return (x, y);
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the partitions did not split: a {x:?}, b {y:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every tenant's answer from `url` holds every acknowledged record of the
/// tenant (and nothing else). Returns who answered each.
fn all_complete(url: &str, acked: &BTreeMap<String, HashSet<String>>) -> BTreeMap<String, String> {
    let mut by = BTreeMap::new();
    for (org, want) in acked {
        let (got, who) = tenant_query(url, org);
        assert_eq!(
            got.len(),
            want.len(),
            "{url}, organization {org} (answered by {who}): {} of {} acknowledged records",
            got.intersection(want).count(),
            want.len()
        );
        assert_eq!(&got, want, "{url}, organization {org}");
        by.insert(org.clone(), who);
    }
    by
}

#[test]
fn two_nodes_split_the_partitions_and_answer_tenant_queries_completely_throughout() {
    // The persistent engine: the memory one was seen losing acknowledged
    // records under bursts (../shared/notes/kafka-broker.md).
    let broker = Broker::start("sqlite");
    broker.create_topic(TOPIC, 3);
    let Pair {
        a,
        b,
        ua,
        ub,
        _dirs: _keep,
    } = Pair::start(&broker, "pair");

    // Eight tenants, so every partition has some.
    let records = common::generated(8_000, 21, 8);
    let mut acked: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut batches = records.chunks(250);
    let send = |to: &str, batch: &[Vec<u8>], acked: &mut BTreeMap<String, HashSet<String>>| {
        ingest(to, batch);
        for r in batch {
            acked.entry(org_of(r)).or_default().insert(id_of(r));
        }
    };
    for (i, batch) in batches.by_ref().take(12).enumerate() {
        send(if i % 2 == 0 { &ua } else { &ub }, batch, &mut acked);
    }
    assert!(acked.len() >= 6, "{} tenants", acked.len());

    // The group splits the three partitions between the two nodes.
    let (pa_set, pb_set) = split(&ua, &ub);
    eprintln!("split: a {pa_set:?}, b {pb_set:?}");

    // Both nodes answer every tenant completely; each forwards the tenants
    // whose partition the other holds.
    let by_a = all_complete(&ua, &acked);
    let by_b = all_complete(&ub, &acked);
    assert!(
        by_a.values().any(|w| w == &ub),
        "a never forwarded: {by_a:?}"
    );
    assert!(
        by_b.values().any(|w| w == &ua),
        "b never forwarded: {by_b:?}"
    );
    assert!(by_a.values().any(|w| w == "local"), "{by_a:?}");

    // b leaves (a clean stop: it leaves the group). Ingest goes on through
    // a; after every batch, every tenant's answer from a is complete —
    // while a takes b's partitions over and backfills them.
    assert!(b.stop().success());
    let rebalanced_at = Instant::now();
    for batch in batches.by_ref().take(8) {
        send(&ua, batch, &mut acked);
        all_complete(&ua, &acked);
    }
    let started = Instant::now();
    while assigned(&ua).len() != 3 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "a did not take every partition: {:?}",
            assigned(&ua)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for batch in batches {
        send(&ua, batch, &mut acked);
    }
    let by_a = all_complete(&ua, &acked);
    assert!(by_a.values().all(|w| w == "local"), "{by_a:?}");
    let total: usize = acked.values().map(HashSet::len).sum();
    assert_eq!(total, 8_000);
    eprintln!(
        "after b left: a took every partition within {:?}",
        rebalanced_at.elapsed()
    );
    drop(a);
}

/// Follow `GET /v1/tail` on `url` until a record with `id` arrives; returns
/// the node that answered. Runs on its own thread (the stream never ends).
fn tail_until(
    url: &str,
    filter: &str,
    id: &str,
) -> std::thread::JoinHandle<Result<String, String>> {
    let (url, filter, id) = (url.to_owned(), filter.to_owned(), id.to_owned());
    std::thread::spawn(move || {
        use std::io::BufRead;
        let resp = agent()
            .get(&format!("{url}/v1/tail"))
            .query("filter", &filter)
            .call()
            .map_err(|e| e.to_string())?;
        if resp.status() != 200 {
            return Err(format!("status {}", resp.status()));
        }
        let by = resp
            .headers()
            .get("x-auditlog-answered-by")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("local")
            .to_owned();
        let reader = std::io::BufReader::new(resp.into_body().into_reader());
        for line in reader.lines() {
            let line = line.map_err(|e| e.to_string())?;
            if line.starts_with("data:") && line.contains(&id) {
                return Ok(by);
            }
        }
        Err("the tail ended".into())
    })
}

/// The first `n` events of a tail answered by `url` itself (no routing),
/// from its oldest record or after `last_event_id`: (event id, record id).
fn first_events(
    url: &str,
    filter: &str,
    last_event_id: Option<&str>,
    n: usize,
) -> Vec<(String, String)> {
    use std::io::BufRead;
    let mut req = agent()
        .get(&format!("{url}/v1/tail"))
        .query("filter", filter)
        .header("x-auditlog-forwarded", "1");
    req = match last_event_id {
        Some(l) => req.header("last-event-id", l),
        None => req.query("from_offset", "0"),
    };
    let resp = req.call().unwrap();
    assert_eq!(resp.status(), 200);
    let mut out = Vec::new();
    let mut id = None;
    for line in std::io::BufReader::new(resp.into_body().into_reader()).lines() {
        let line = line.unwrap();
        if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.to_owned());
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((id.take().unwrap(), id_of(d.as_bytes())));
            if out.len() == n {
                return out;
            }
        }
    }
    panic!("the tail on {url} ended after {} events", out.len());
}

/// What a [`tail_until`] thread returned, within 60 s.
fn tail_answer(
    tail: std::thread::JoinHandle<Result<String, String>>,
    node: &str,
) -> Result<String, String> {
    let started = Instant::now();
    while !tail.is_finished() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the tail on {node} did not deliver the new record within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    tail.join().unwrap()
}

#[test]
fn a_tail_and_a_verifiable_export_go_to_the_node_that_owns_the_tenant() {
    let broker = Broker::start("sqlite");
    broker.create_topic(TOPIC, 3);
    let Pair {
        ua,
        ub,
        a: _a,
        b: _b,
        _dirs: _keep,
    } = Pair::start(&broker, "tail");
    let records = common::generated(2_000, 22, 8);
    ingest(&ua, &records);
    let (_, owned_by_b) = split(&ua, &ub);
    // A tenant whose partition b owns, asked of a.
    let (org, want): (String, usize) = {
        let mut by_org: BTreeMap<String, usize> = BTreeMap::new();
        for r in &records {
            *by_org.entry(org_of(r)).or_default() += 1;
        }
        by_org
            .into_iter()
            .find(|(o, _)| {
                let p = auditlog_kafka::partition::partition_for_key(o.as_bytes(), 3);
                owned_by_b.contains(&i64::from(p))
            })
            .expect("a tenant in b's partitions")
    };
    let filter = format!("organization = {org}");
    let copy_of_tenant_record = |id: &str| {
        let r = records.iter().find(|r| org_of(r) == org).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(r).unwrap();
        v["id"] = id.into();
        serde_json::to_vec(&v).unwrap()
    };
    // a indexed every partition before b joined, so it may still hold all
    // of the tenant; a record acknowledged after the split is indexed only
    // by b, and then only b's store is complete for the tenant.
    ingest(&ua, &[copy_of_tenant_record("after-the-split")]);
    let want = want + 1;

    // A verifiable export from a: b's store holds the tenant, so b makes
    // and signs the bundle; it verifies offline with b's key.
    let resp = agent()
        .get(&format!("{ua}/v1/export/bundle"))
        .query("filter", &filter)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let by = resp
        .headers()
        .get("x-auditlog-answered-by")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("local")
        .to_owned();
    assert_eq!(by, ub);
    let bundle = resp
        .into_body()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.bundle");
    std::fs::write(&path, &bundle).unwrap();
    let mut key = agent()
        .get(&format!("{ub}/v1/checkpoint/key"))
        .call()
        .unwrap();
    let key = String::from_utf8(key.body_mut().read_to_vec().unwrap()).unwrap();
    let out = common::run(
        &["verify", path.to_str().unwrap(), "--key", key.trim()],
        b"",
    );
    let text = common::stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", common::stderr(&out));
    assert!(text.contains(&format!("OK {want} record(s)")), "{text}");

    // A live tail of that tenant on a follows b, where its new records are
    // indexed: a record ingested through a arrives on it.
    let fresh = copy_of_tenant_record("tailed-after-the-split");
    let id = id_of(&fresh);
    let tail = tail_until(&ua, &filter, &id);
    std::thread::sleep(Duration::from_secs(1));
    ingest(&ua, &[fresh]);
    assert_eq!(tail_answer(tail, "a"), Ok(ub.clone()));

    // Event ids name records, so a tail resumes right on another node (as
    // after a rebalance moves a tenant): the tenant's first records as b
    // streams them; then c — a node of its own group, whose store holds
    // every partition at offsets of its own — resumed after the first of
    // them continues with the second (it waits for c to index it).
    let from_b = first_events(&ub, &filter, None, 2);
    assert!(
        from_b[0].0.contains('.'),
        "a named event id: {:?}",
        from_b[0]
    );
    let dir_c = tempfile::tempdir().unwrap();
    let port_c = free_port();
    let _c = Server::start_on(
        dir_c.path(),
        port_c,
        &["--kafka", &broker.bootstrap(), "--group", "solo"],
    );
    let uc = format!("http://127.0.0.1:{port_c}");
    let from_c = first_events(&uc, &filter, Some(&from_b[0].0), 1);
    assert_eq!(
        from_c[0].1, from_b[1].1,
        "resumed on c after b's first event"
    );
    // `auditlog tail -f` against a Kafka-mode node reads the named ids: a
    // record ingested after it started is printed.
    let (mut follow, rx) = common::spawn_lines(&[
        "tail", "-f", "-n", "0", "-o", "ndjson", "--server", &uc, &filter,
    ]);
    std::thread::sleep(Duration::from_secs(1));
    ingest(&ua, &[copy_of_tenant_record("followed-by-the-cli")]);
    let got = rx.recv_timeout(Duration::from_secs(60));
    let _ = follow.kill();
    let _ = follow.wait();
    let line = got.expect("auditlog tail -f printed nothing within 60 s");
    assert!(line.contains("followed-by-the-cli"), "{line}");
    assert!(line.starts_with("{\"offset\":"), "{line}");

    // A record this node does not hold: refused with what to do (after
    // waiting for it).
    let unknown = format!("0.{}.{}", "eA", "eQ");
    let resp = agent()
        .get(&format!("{ua}/v1/tail"))
        .header("x-auditlog-forwarded", "1")
        .header("last-event-id", &unknown)
        .call()
        .unwrap();
    assert_eq!(resp.status(), 409);
    let body = resp.into_body().read_to_string().unwrap();
    assert!(body.contains("resume-point-not-found"), "{body}");

    // A tail across every tenant spans both nodes' partitions: refused at
    // once with what to do, rather than silently showing half.
    let resp = agent().get(&format!("{ua}/v1/tail")).call().unwrap();
    assert_eq!(resp.status(), 503);
    let body = resp.into_body().read_to_string().unwrap();
    assert!(body.contains("no single node owns them all"), "{body}");
}

/// `GET url` → (status, body).
fn get(url: &str) -> (u16, String) {
    let resp = agent().get(url).call().unwrap();
    let status = resp.status().as_u16();
    (status, resp.into_body().read_to_string().unwrap())
}

#[test]
fn an_ingest_node_indexes_nothing_and_sends_every_read_to_an_indexing_node() {
    let broker = Broker::start("sqlite");
    broker.create_topic(TOPIC, 3);
    let dirs = [(); 3].map(|_| tempfile::tempdir().unwrap());
    let ports = [(); 3].map(|_| free_port());
    let [ux, ui, uj] = ports.map(|p| format!("http://127.0.0.1:{p}"));
    let bootstrap = broker.bootstrap();
    // x indexes; i and j only ingest, i naming x as its peer, j nobody.
    let _x = Server::start_on(
        dirs[0].path(),
        ports[0],
        &["--kafka", &bootstrap, "--group", "tiers"],
    );
    let _i = Server::start_on(
        dirs[1].path(),
        ports[1],
        &[
            "--kafka",
            &bootstrap,
            "--group",
            "tiers",
            "--ingest-only",
            "--peer",
            &ux,
        ],
    );
    let _j = Server::start_on(
        dirs[2].path(),
        ports[2],
        &["--kafka", &bootstrap, "--group", "tiers", "--ingest-only"],
    );

    let records = common::generated(1_500, 23, 6);
    let mut acked: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for (n, batch) in records.chunks(500).enumerate() {
        ingest(if n == 2 { &uj } else { &ui }, batch);
        for r in batch {
            acked.entry(org_of(r)).or_default().insert(id_of(r));
        }
    }

    // The ingest nodes joined no group: x indexes every partition.
    let (_, progress) = get(&format!("{ui}/v1/kafka/progress"));
    let progress: serde_json::Value = serde_json::from_str(&progress).unwrap();
    assert_eq!(progress["ingest_only"], true, "{progress}");
    assert_eq!(progress["partitions"], serde_json::json!([]));
    let started = Instant::now();
    while assigned(&ux).len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "x was not assigned every partition"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // Every tenant's query to i is complete, answered by x; so is a query
    // across tenants and a lookup by id.
    let by = all_complete(&ui, &acked);
    assert!(by.values().all(|w| w == &ux), "{by:?}");
    let (status, all) = get(&format!("{ui}/v1/events?format=ndjson&limit=10000"));
    assert_eq!(status, 200, "{all}");
    assert_eq!(all.lines().filter(|l| !l.is_empty()).count(), records.len());
    let some_id = id_of(&records[700]);
    let (status, one) = get(&format!("{ui}/v1/events?id={some_id}"));
    assert_eq!(status, 200, "{one}");
    assert!(one.contains(&some_id), "{one}");

    // Reads of i's own store are refused, saying where to read.
    for path in [
        "/v1/events/0",
        "/v1/checkpoint",
        "/v1/proof/inclusion?offset=0",
        "/v1/quarantine",
        "/v1/explain?filter=organization%20%3D%20x",
    ] {
        let (status, body) = get(&format!("{ui}{path}"));
        assert_eq!(status, 421, "{path}: {body}");
        assert!(
            body.contains("ingest-only-node") && body.contains(&ux),
            "{path}: {body}"
        );
    }
    // j has no peer to send reads to: it says so instead of answering
    // from its empty store.
    let (status, body) = get(&format!("{uj}/v1/events?filter=organization%20%3D%20x"));
    assert_eq!(status, 421, "{body}");
    assert!(body.contains("read from an indexing node"), "{body}");

    // A live tail on i follows x; a record ingested through i arrives.
    let org = acked.keys().next().unwrap().clone();
    let mut fresh: serde_json::Value =
        serde_json::from_slice(records.iter().find(|r| org_of(r) == org).unwrap()).unwrap();
    fresh["id"] = "tailed-through-an-ingest-node".into();
    let fresh = serde_json::to_vec(&fresh).unwrap();
    let tail = tail_until(
        &ui,
        &format!("organization = {org}"),
        "tailed-through-an-ingest-node",
    );
    std::thread::sleep(Duration::from_secs(1));
    ingest(&ui, &[fresh]);
    assert_eq!(tail_answer(tail, "i"), Ok(ux.clone()));

    // i has no indexer to report on, and is ready.
    let (_, metrics) = get(&format!("{ui}/metrics"));
    assert!(!metrics.contains("auditlog_kafka_lag"), "{metrics}");
    assert_eq!(get(&format!("{ui}/readyz")).0, 200);
}
