//! Kafka as the backbone, against a real Kafka-protocol broker (tansu):
//! POST → `serve --kafka` → topic → indexer → query, byte for byte; an
//! indexer (`auditlog consume`) SIGKILLed at random points while it consumes
//! 200k records; poison messages (invalid JSON, wrong types, an array, no
//! value, a value past the record limit) quarantined with reasons while consumption
//! goes on; binary-mode messages folded into structured records; a broker
//! restart during ingest and a failing store waited out without loss.

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auditlog_kafka::produce::Producer;
use auditlog_kafka::KafkaConfig;
use auditlog_model::json::{parse, to_canonical};
use common::broker::Broker;
use common::server::{committed, get, post, Server};

const TOPIC: &str = "confluent-audit-log-events";

fn generated(n: usize, seed: u64) -> Vec<Vec<u8>> {
    common::generated(n, seed, auditlog_gen::Config::default().organizations)
}

fn stored(url: &str) -> Vec<Vec<u8>> {
    let (status, body) = get(&format!("{url}/v1/events?format=ndjson&order=asc"));
    assert_eq!(status, 200);
    body.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            // Each line is {"offset":…,"record":…} with the record's stored
            // bytes embedded verbatim.
            #[derive(serde::Deserialize)]
            struct Line<'a> {
                #[serde(borrow)]
                record: &'a serde_json::value::RawValue,
            }
            let line: Line = serde_json::from_slice(l).unwrap();
            line.record.get().as_bytes().to_vec()
        })
        .collect()
}

fn wait_for(url: &str, n: u64, within: Duration) {
    let started = Instant::now();
    loop {
        let c = committed(url);
        if c >= n {
            assert_eq!(c, n, "more records than sent");
            return;
        }
        assert!(
            started.elapsed() < within,
            "only {c} of {n} records indexed"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn post_to_serve_kafka_comes_back_byte_for_byte_through_topic_and_indexer() {
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 3);
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--kafka", &broker.bootstrap()]);

    // The seed examples (two have no id and are refused, as without Kafka).
    let mut sent = Vec::new();
    let dir = common::root().join("tests/data/seed-examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut refused = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let (status, body) = post(
            &format!("{}/v1/events", server.url),
            "application/cloudevents+json",
            &bytes,
        )
        .unwrap();
        match status {
            201 => {
                let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert!(r["partition"].is_i64() && r["kafka_offset"].is_i64(), "{r}");
                sent.push(to_canonical(&parse(&bytes).unwrap()));
            }
            422 => refused += 1,
            other => panic!(
                "{}: {other} {}",
                f.display(),
                String::from_utf8_lossy(&body)
            ),
        }
    }
    assert_eq!(refused, 2);
    // 100k generated records in batches.
    let gen = generated(100_000, 7);
    for chunk in gen.chunks(2_000) {
        let mut body = Vec::new();
        for r in chunk {
            body.extend_from_slice(r);
            body.push(b'\n');
        }
        let (status, answer) = post(
            &format!("{}/v1/events:batch", server.url),
            "application/x-ndjson",
            &body,
        )
        .unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    }
    sent.extend(gen);
    // Seed examples that share an id with other content are stored once:
    // whichever the indexer reads first (their organizations may sit in
    // different partitions, so which one wins is not fixed); the other is
    // quarantined as a conflict. So: one stored record per distinct
    // (source, id), each byte-identical to one that was posted.
    let key = |r: &[u8]| {
        let v: serde_json::Value = serde_json::from_slice(r).unwrap();
        (v["source"].to_string(), v["id"].to_string())
    };
    let ids: HashSet<(String, String)> = sent.iter().map(|r| key(r)).collect();
    wait_for(&server.url, ids.len() as u64, Duration::from_secs(300));
    let got = stored(&server.url);
    let sent_bytes: HashSet<&Vec<u8>> = sent.iter().collect();
    assert!(
        got.iter().all(|r| sent_bytes.contains(r)),
        "stored bytes differ from what was posted"
    );
    let got_ids: HashSet<(String, String)> = got.iter().map(|r| key(r)).collect();
    assert_eq!(got_ids.len(), got.len(), "an id is stored twice");
    assert_eq!(got_ids, ids);
    let (_, m) = get(&format!("{}/metrics", server.url));
    let m = String::from_utf8(m).unwrap();
    assert!(m.contains("auditlog_kafka_lag{partition="), "{m}");
}

/// An `auditlog consume` process, SIGKILLed when dropped (a failing test
/// must not leave it running); its stderr goes to a log beside the data.
struct Consume {
    child: Option<Child>,
    log: tempfile::NamedTempFile,
}

impl Consume {
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Wait for it to exit; its stdout and success.
    fn finish(mut self) -> (bool, String) {
        let out = self.child.take().unwrap().wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Consume {
    fn drop(&mut self) {
        self.kill();
    }
}

fn consume(data: &std::path::Path, bootstrap: &str, until_caught_up: bool) -> Consume {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_auditlog"));
    c.args([
        "consume",
        "--bootstrap",
        bootstrap,
        "--from-beginning",
        "--group",
        "crash-test",
    ])
    // For debugging a failure, e.g. AUDITLOG_TEST_CONSUME_LOG=info,librdkafka=debug
    // and AUDITLOG_TEST_CONSUME_ARGS="-X debug=cgrp".
    .env(
        "AUDITLOG_LOG",
        std::env::var("AUDITLOG_TEST_CONSUME_LOG").unwrap_or_else(|_| "info".into()),
    )
    .args(
        std::env::var("AUDITLOG_TEST_CONSUME_ARGS")
            .unwrap_or_default()
            .split_whitespace(),
    )
    .arg("--data-dir")
    .arg(data)
    .stdout(Stdio::piped())
    .stderr(log.as_file().try_clone().unwrap());
    if until_caught_up {
        c.arg("--until-caught-up");
    }
    Consume {
        child: Some(c.spawn().unwrap()),
        log,
    }
}

/// Records in a data directory (read while an indexer may be writing it).
fn count_stored(data: &std::path::Path) -> u64 {
    let out = common::run(
        &[
            "stats",
            "--data-dir",
            data.to_str().unwrap(),
            "--output",
            "json",
        ],
        b"",
    );
    if !out.status.success() {
        return 0;
    }
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .and_then(|v| v["total"].as_u64().or_else(|| v["count"].as_u64()))
        .unwrap_or(0)
}

fn count_dir(data: &std::path::Path) -> Vec<String> {
    let out = common::run(
        &[
            "query",
            "--data-dir",
            data.to_str().unwrap(),
            "--output",
            "ndjson",
            "--limit",
            "1000000",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
        .lines()
        .map(|l| {
            let v = serde_json::from_str::<serde_json::Value>(l).unwrap();
            v["record"]["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn an_indexer_killed_ten_times_stores_every_record_exactly_once() {
    let broker = Broker::start("sqlite");
    broker.create_topic(TOPIC, 3);
    let records = generated(200_000, 11);
    let mut cfg = KafkaConfig::new(broker.bootstrap());
    cfg.extra = std::env::var("AUDITLOG_TEST_PRODUCER_X")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let producer = Producer::new(&cfg, Duration::from_secs(30)).unwrap();
    for chunk in records.chunks(10_000) {
        producer.send_all_blocking(chunk).unwrap();
    }
    // Every acknowledged record is in the topic before the test begins.
    let high = producer.high_watermarks(Duration::from_secs(10)).unwrap();
    assert_eq!(high.values().sum::<i64>(), 200_000, "{high:?}");
    let data = tempfile::tempdir().unwrap();
    // Run i is killed at a pseudo-random point past roughly i/11 of the
    // records (and past what the run before stored), so the kills spread
    // over the whole consumption; some land during a group join.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut kills = 0;
    let mut before = 0;
    for i in 1..=10u64 {
        let target = (i * 18_000).saturating_sub(next() % 6_000);
        let mut child = consume(data.path(), &broker.bootstrap(), false);
        let started = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let n = count_stored(data.path());
            if n > before && n >= target {
                before = n;
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the indexer made no progress in 120 s after {kills} kills ({n} stored); its log:\n{}",
                child.log()
            );
        }
        std::thread::sleep(Duration::from_millis(next() % 300));
        child.kill();
        kills += 1;
        eprintln!(
            "kill {kills}: {before} stored, after {:?}",
            started.elapsed()
        );
    }
    let (ok, summary) = consume(data.path(), &broker.bootstrap(), true).finish();
    assert!(ok, "{summary}");
    eprintln!("{kills} kills; last run: {summary}");
    let ids = count_dir(data.path());
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "a record is stored twice");
    if ids.len() != 200_000 {
        // Where the missing ones were produced: runs mean skipped offsets.
        let missing: Vec<(usize, i32)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let id = serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (!distinct.contains(&id)).then(|| {
                    let org = auditlog_kafka::decode::organization_key(r).unwrap_or("");
                    (
                        i,
                        auditlog_kafka::partition::partition_for_key(org.as_bytes(), 3),
                    )
                })
            })
            .collect();
        panic!(
            "{} of 200000 stored; missing (index, partition), first 50: {:?}; last: {:?}",
            ids.len(),
            &missing[..missing.len().min(50)],
            missing.last()
        );
    }
    let want: HashSet<String> = records
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(distinct.len(), want.len());
    assert!(ids.iter().all(|i| want.contains(i)));
}

#[test]
fn poison_messages_are_quarantined_with_reasons_and_consumption_goes_on() {
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 1);
    let cfg = KafkaConfig::new(broker.bootstrap());
    let good = generated(50, 3);
    let poison: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        br#"{"specversion":"1.0","id":5,"source":[],"type":"io.confluent.cloud/request"}"#.to_vec(),
        b"[1,2,3]".to_vec(),
        Vec::new(),
    ];
    // A huge value: a well-formed record past the 1 MiB record limit.
    let huge = {
        let mut v: serde_json::Value = serde_json::from_slice(&good[1]).unwrap();
        v["id"] = "huge-1".into();
        v["data"]["request"]["data"] = serde_json::json!({ "blob": "x".repeat(1_200_000) });
        serde_json::to_vec(&v).unwrap()
    };
    let mut big = cfg.clone();
    big.extra = vec![("message.max.bytes".into(), "4000000".into())];
    let producer = Producer::new(&big, Duration::from_secs(30)).unwrap();
    producer.send_all_blocking(&good[..20]).unwrap();
    producer.send_all_blocking(&poison).unwrap();
    producer.send_all_blocking(&[huge]).unwrap();
    producer.send_all_blocking(&good[20..]).unwrap();
    // A binary-mode message (attributes in ce_ headers).
    {
        use rdkafka::message::{Header, OwnedHeaders};
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
        let p: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap())
            .create()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&good[0]).unwrap();
        let mut h = OwnedHeaders::new();
        for k in ["specversion", "source", "type", "subject", "time"] {
            if let Some(s) = v[k].as_str() {
                h = h.insert(Header {
                    key: &format!("ce_{k}"),
                    value: Some(s),
                });
            }
        }
        h = h.insert(Header {
            key: "ce_id",
            value: Some("binary-mode-1"),
        });
        h = h.insert(Header {
            key: "content-type",
            value: Some("application/json"),
        });
        let data = serde_json::to_vec(&v["data"]).unwrap();
        p.send(BaseRecord::<(), _>::to(TOPIC).payload(&data).headers(h))
            .map_err(|(e, _)| e)
            .unwrap();
        p.flush(Duration::from_secs(10)).unwrap();
    }
    let data = tempfile::tempdir().unwrap();
    let (ok, summary) = consume(data.path(), &broker.bootstrap(), true).finish();
    assert!(ok, "{summary}");
    assert!(summary.contains("5 quarantined"), "{summary}");
    let ids = count_dir(data.path());
    assert_eq!(ids.len(), 51, "{summary}");
    assert!(ids.iter().any(|i| i == "binary-mode-1"));

    // The quarantine is queryable through a server on the same directory.
    let server = Server::start(data.path(), &[]);
    let (status, body) = get(&format!("{}/v1/quarantine", server.url));
    assert_eq!(status, 200);
    let q: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let items = q["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{q}");
    let reasons: Vec<&str> = items
        .iter()
        .map(|i| i["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("not valid JSON")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no value")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("array")), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("413") && r.contains("the limit is 1048576 bytes")),
        "{reasons:?}"
    );
    assert!(items
        .iter()
        .all(|i| i["partition"] == 0 && i["offset"].is_i64()));
    assert!(items.iter().any(|i| i["raw"] == "{not json"));
}

#[test]
fn a_broker_restart_during_ingest_loses_nothing_acknowledged() {
    // The persistent engine, so the restart keeps what was acknowledged.
    let mut broker = Broker::start("sqlite");
    broker.create_topic(TOPIC, 3);
    let data = tempfile::tempdir().unwrap();
    let spool = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &["--kafka", &broker.bootstrap()]);
    let client = std::sync::Arc::new(
        auditlog_sdk::AuditClient::http(
            &server.url,
            auditlog_sdk::ClientConfig {
                spool_dir: Some(spool.path().to_owned()),
                backoff_min: Duration::from_millis(50),
                backoff_max: Duration::from_millis(500),
                ..auditlog_sdk::ClientConfig::default()
            },
        )
        .unwrap(),
    );
    let org = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";
    let emitter = {
        let client = client.clone();
        std::thread::spawn(move || {
            let mut ids = Vec::new();
            for i in 0..20_000 {
                let e = auditlog_sdk::methods::GetConnector::on(
                    org,
                    "env-1",
                    "lkc-1",
                    format!("lcc-{i}"),
                )
                .principal(auditlog_sdk::Principal::user("u-1", org))
                .build()
                .unwrap();
                ids.push(e.id.clone());
                client.emit(e).unwrap();
            }
            ids
        })
    };
    // Mid-ingest, the broker goes away for longer than the server's
    // delivery timeout (10 s), so requests in flight get a 503.
    let started = Instant::now();
    while client.counters().delivered < 5_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "{:?}",
            client.counters()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    broker.restart_after(Duration::from_secs(12));
    let ids = emitter.join().unwrap();
    let c = client
        .flush(Duration::from_secs(300))
        .unwrap_or_else(|c| panic!("{c:?}"));
    assert_eq!(
        (c.delivered, c.dropped, c.rejected),
        (20_000, 0, 0),
        "{c:?}"
    );
    // The restart was felt: some requests got a 503 and were retried.
    assert!(c.retried > 0, "{c:?}");
    wait_for(&server.url, 20_000, Duration::from_secs(300));
    let got: HashSet<String> = stored(&server.url)
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(got.len(), 20_000);
    assert!(ids.iter().all(|i| got.contains(i)));
    eprintln!("counters across the broker restart: {c:?}");
}

#[test]
fn the_sdk_writes_straight_to_the_topic() {
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 3);
    let spool = tempfile::tempdir().unwrap();
    let transport =
        auditlog_kafka::transport::KafkaTransport::new(&KafkaConfig::new(broker.bootstrap()))
            .unwrap();
    let client = auditlog_sdk::AuditClient::start(
        auditlog_sdk::ClientConfig {
            spool_dir: Some(spool.path().to_owned()),
            ..auditlog_sdk::ClientConfig::default()
        },
        transport,
    )
    .unwrap();
    let org = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";
    for i in 0..1_000 {
        let e =
            auditlog_sdk::methods::CreateConnector::on(org, "env-1", "lkc-1", format!("lcc-{i}"))
                .principal(auditlog_sdk::Principal::user("u-1", org))
                .request_data(parse(br#"{"config":{"kafka.api.secret":"SekretValue"}}"#).unwrap())
                .build()
                .unwrap();
        client.emit(e).unwrap();
    }
    let c = client
        .flush(Duration::from_secs(60))
        .unwrap_or_else(|c| panic!("{c:?}"));
    assert_eq!(c.delivered, 1_000);
    let data = tempfile::tempdir().unwrap();
    let (ok, summary) = consume(data.path(), &broker.bootstrap(), true).finish();
    assert!(ok, "{summary}");
    assert_eq!(count_dir(data.path()).len(), 1_000);
    // Redacted before it left the process: not in any stored byte.
    let hits = common::files_containing(data.path(), b"SekretValue");
    assert!(hits.is_empty(), "{hits:?}");
}

#[test]
fn from_time_starts_each_partition_at_the_first_record_at_or_after_it() {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 2);
    let records = generated(60, 5);
    let p: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap())
        .create()
        .unwrap();
    // 40 records stamped a day ago, then 20 stamped now, over 2 partitions.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    for (i, r) in records.iter().enumerate() {
        let ts = if i < 40 { now_ms - 86_400_000 } else { now_ms };
        let key = format!("k{}", i % 2);
        p.send(
            BaseRecord::to(TOPIC)
                .payload(&r[..])
                .key(&key)
                .timestamp(ts),
        )
        .map_err(|(e, _)| e)
        .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = common::run(
        &[
            "consume",
            "--bootstrap",
            &broker.bootstrap(),
            "--group",
            "from-time",
            "--from-time",
            "-1h",
            "--until-caught-up",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let summary = common::stdout(&out);
    assert!(
        summary.contains("consumed 60 messages: 40 skipped"),
        "{summary}"
    );
    let want: HashSet<String> = records[40..]
        .iter()
        .map(|r| {
            serde_json::from_slice::<serde_json::Value>(r).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let got: HashSet<String> = count_dir(data.path()).into_iter().collect();
    assert_eq!(got, want);
    // --from-beginning and --from-time contradict each other.
    let out = common::run(
        &[
            "consume",
            "--bootstrap",
            &broker.bootstrap(),
            "--from-beginning",
            "--from-time",
            "-1h",
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("cannot be used with"));
}

#[test]
fn consume_into_a_running_server_with_its_quarantine() {
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 2);
    let good = generated(300, 9);
    let producer = Producer::new(
        &KafkaConfig::new(broker.bootstrap()),
        Duration::from_secs(30),
    )
    .unwrap();
    producer.send_all_blocking(&good[..150]).unwrap();
    producer
        .send_all_blocking(&[b"{not json".to_vec(), b"[]".to_vec()])
        .unwrap();
    producer.send_all_blocking(&good[150..]).unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &[]);
    let out = common::run(
        &[
            "consume",
            "--bootstrap",
            &broker.bootstrap(),
            "--group",
            "to-server",
            "--from-beginning",
            "--until-caught-up",
            "--server",
            &server.url,
        ],
        b"",
    );
    let summary = common::stdout(&out);
    assert!(out.status.success(), "{summary}{}", common::stderr(&out));
    assert!(summary.contains("300 stored"), "{summary}");
    assert!(summary.contains("2 quarantined"), "{summary}");
    let got: HashSet<Vec<u8>> = stored(&server.url).into_iter().collect();
    let want: HashSet<Vec<u8>> = good
        .iter()
        .map(|r| to_canonical(&parse(r).unwrap()))
        .collect();
    assert_eq!(got, want);
    let (status, body) = get(&format!("{}/v1/quarantine", server.url));
    assert_eq!(status, 200);
    let q: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(q["count"], 2, "{q}");
    assert!(q["items"].as_array().unwrap().iter().any(
        |i| i["raw"] == "{not json" && i["reason"].as_str().unwrap().contains("not valid JSON")
    ));
    // A bad quarantine body is a 400 that names the problem.
    let (status, body) = post(
        &format!("{}/v1/quarantine", server.url),
        "application/json",
        br#"{"topic":"t","items":[{"partition":0,"offset":1,"reason":"x","raw_hex":"zz"}]}"#,
    )
    .unwrap();
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("items[0].raw_hex"));
}

/// A sink that refuses its first `fail` batches, then keeps every record by
/// `(partition, offset)` and counts how often each was handed over.
struct Flaky {
    fail: usize,
    calls: usize,
    seen: std::collections::HashMap<(i32, i64), usize>,
}

impl auditlog_kafka::index::Sink for Flaky {
    fn store(
        &mut self,
        batch: &[auditlog_kafka::index::Incoming],
    ) -> Result<Vec<auditlog_kafka::index::Verdict>, String> {
        self.calls += 1;
        if self.calls <= self.fail {
            return Err(format!("disk full (refusal {})", self.calls));
        }
        for r in batch {
            *self.seen.entry((r.partition, r.offset)).or_default() += 1;
        }
        Ok(vec![auditlog_kafka::index::Verdict::Stored; batch.len()])
    }
    fn quarantine(&mut self, items: &[auditlog_kafka::index::Quarantined]) -> Result<(), String> {
        panic!("nothing should be quarantined: {items:?}");
    }
}

#[test]
fn a_store_that_fails_is_waited_out_and_nothing_is_skipped() {
    let broker = Broker::start("memory");
    broker.create_topic(TOPIC, 3);
    let cfg = KafkaConfig::new(broker.bootstrap());
    let producer = Producer::new(&cfg, Duration::from_secs(30)).unwrap();
    let landed = producer.send_all_blocking(&generated(3_000, 5)).unwrap();
    let options = auditlog_kafka::index::IndexOptions {
        group: "flaky".into(),
        batch_max: 500,
        ..Default::default()
    };
    let mut indexer =
        auditlog_kafka::index::Indexer::new(&cfg, options, Default::default()).unwrap();
    let stats = indexer.stats();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut sink = Flaky {
                fail: 3,
                calls: 0,
                seen: Default::default(),
            };
            let result = indexer.run(&mut sink, &stop);
            (result, sink)
        })
    };
    let started = Instant::now();
    while stats.stored.load(std::sync::atomic::Ordering::Relaxed) < 3_000 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "stored {stats:?} after 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (result, sink) = run.join().unwrap();
    result.expect("the indexer waits out a failing store instead of ending");
    // Three refusals, three rejoins; then every acknowledged record once
    // (a refused batch is read again, never committed past).
    assert!(sink.calls > 3, "{} store calls", sink.calls);
    assert!(stats.rejoins.load(std::sync::atomic::Ordering::Relaxed) >= 3);
    let want: HashSet<(i32, i64)> = landed.iter().map(|l| (l.partition, l.offset)).collect();
    let got: HashSet<(i32, i64)> = sink.seen.keys().copied().collect();
    assert_eq!(got, want);
    assert!(sink.seen.values().all(|&n| n == 1), "a record stored twice");
}
