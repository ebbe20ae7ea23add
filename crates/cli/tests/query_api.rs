//! The query API, live tail and query CLI against the real binary: stable
//! pages under concurrent ingest, NDJSON export, stats, errors with the
//! field and column, and tail resume with no gap and no duplicate.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use auditlog_gen::{Config, Generator};
use common::server::{get, json, post, Server};

fn records(seed: u64, n: usize) -> Vec<Vec<u8>> {
    Generator::new(Config {
        seed,
        ..Config::default()
    })
    .take(n)
    .collect()
}

fn post_batch(url: &str, recs: &[Vec<u8>]) {
    let body: Vec<u8> = recs
        .iter()
        .flat_map(|r| r.iter().copied().chain([b'\n']))
        .collect();
    let (status, b) = post(
        &format!("{url}/v1/events:batch"),
        "application/x-ndjson",
        &body,
    )
    .unwrap();
    assert!(
        status == 200 || status == 201,
        "{status}: {}",
        String::from_utf8_lossy(&b)
    );
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Every offset matching `filter`, by NDJSON export.
fn export(url: &str, filter: &str) -> Vec<(u64, serde_json::Value)> {
    let (s, body) = get(&format!(
        "{url}/v1/events?filter={}&format=ndjson&order=asc",
        enc(filter)
    ));
    assert_eq!(s, 200);
    body.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v = json(l);
            (v["offset"].as_u64().unwrap(), v["record"].clone())
        })
        .collect()
}

#[test]
fn pages_are_stable_under_ingest_and_match_export_and_stats() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path(), &[]);
    let url = srv.url.clone();
    let recs = records(11, 6000);
    post_batch(&url, &recs[..3000]);

    // Page through failures while the rest is ingested concurrently.
    let writer = {
        let url = url.clone();
        let rest = recs[3000..].to_vec();
        std::thread::spawn(move || {
            for chunk in rest.chunks(250) {
                post_batch(&url, chunk);
            }
        })
    };
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut end = None;
    loop {
        let mut path = format!(
            "{url}/v1/events?filter={}&limit=37&order=asc",
            enc("status = FAILURE")
        );
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, body) = get(&path);
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
        let v = json(&body);
        // Every page reads the first page's snapshot.
        let e = v["snapshot_end"].as_u64().unwrap();
        assert_eq!(*end.get_or_insert(e), e);
        for r in v["records"].as_array().unwrap() {
            assert_eq!(
                r["record"]["data"]["result"]["status"]
                    .as_str()
                    .or(r["record"]["data"]["result"]["status"].as_str()),
                Some("FAILURE")
            );
            seen.push(r["offset"].as_u64().unwrap());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    writer.join().unwrap();
    let end = end.unwrap();
    let sorted: Vec<u64> = seen
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(seen, sorted, "pages overlap or are out of order");
    let all: Vec<u64> = export(&url, "status = FAILURE")
        .into_iter()
        .map(|r| r.0)
        .collect();
    let expected: Vec<u64> = all.iter().copied().filter(|o| *o < end).collect();
    assert_eq!(
        seen, expected,
        "paged listing differs from the export at the same snapshot"
    );
    assert!(
        all.len() > expected.len(),
        "ingest during paging added failures"
    );

    // Listed bytes are the stored bytes.
    let (_, page) = get(&format!(
        "{url}/v1/events?filter={}&limit=3",
        enc("method:Create*")
    ));
    let raw = String::from_utf8(page).unwrap();
    for r in json(raw.as_bytes())["records"].as_array().unwrap() {
        let off = r["offset"].as_u64().unwrap();
        let (_, stored) = get(&format!("{url}/v1/events/{off}"));
        assert!(
            raw.contains(std::str::from_utf8(&stored).unwrap()),
            "record {off} not byte-for-byte"
        );
    }

    // Stats agree with the listing.
    let (s, body) = get(&format!(
        "{url}/v1/stats?filter={}&group_by=method&failures=true&interval=1m",
        enc("status = FAILURE")
    ));
    assert_eq!(s, 200);
    let st = json(&body);
    assert_eq!(st["total"].as_u64().unwrap(), all.len() as u64);
    let sum: u64 = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, all.len() as u64);
    for g in st["groups"].as_array().unwrap() {
        assert_eq!(g["failures"], g["count"], "every record here failed");
    }
    let hsum: u64 = st["histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_u64().unwrap())
        .sum();
    assert_eq!(hsum, all.len() as u64);
    let (_, body) = get(&format!("{url}/v1/stats?group_by=organization&top=2"));
    let st = json(&body);
    assert_eq!(st["total"].as_u64().unwrap(), 6000);
    assert_eq!(st["groups"].as_array().unwrap().len(), 2);

    // Errors name the parameter and the column.
    let (s, body) = get(&format!(
        "{url}/v1/events?filter={}",
        enc("methd = DeleteConnector")
    ));
    assert_eq!(s, 400);
    let p = json(&body);
    assert_eq!(p["errors"][0]["path"], "filter");
    let msg = p["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("column 1") && msg.contains("`method`"),
        "{msg}"
    );
    for (q, param) in [
        ("group_by=color", "group_by"),
        ("group_by=method&interval=fortnight", "interval"),
        ("filter=&from=yesterday-ish", "from"),
    ] {
        let (s, body) = get(&format!("{url}/v1/stats?{q}"));
        assert_eq!(s, 400, "{q}");
        assert_eq!(json(&body)["errors"][0]["path"], param, "{q}");
    }
    for (q, param) in [
        ("cursor=nonsense&filter=", "cursor"),
        ("order=sideways&filter=", "order"),
        ("limit=0&filter=", "limit"),
    ] {
        let (s, body) = get(&format!("{url}/v1/events?{q}"));
        assert_eq!(s, 400, "{q}");
        assert_eq!(json(&body)["errors"][0]["path"], param, "{q}");
    }

    // Query work shows in /metrics.
    let (_, m) = get(&format!("{url}/metrics"));
    let m = String::from_utf8(m).unwrap();
    let metric = |name: &str| -> u64 {
        m.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .parse()
            .unwrap()
    };
    assert!(metric("auditlog_queries_total") >= 5, "{m}");
    assert!(metric("auditlog_query_records_total") >= all.len() as u64);
    assert!(metric("auditlog_query_index_blocks_total") > 0);
    assert_eq!(metric("auditlog_tails_active"), 0);

    // The CLI answers the same, against the server and on the data directory.
    let out = common::run(
        &[
            "query",
            "status = FAILURE",
            "--server",
            &url,
            "-n",
            "100000",
            "--asc",
            "--output",
            "ndjson",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let cli: Vec<u64> = common::stdout(&out)
        .lines()
        .map(|l| json(l.as_bytes())["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(cli, all);
    let out = common::run(
        &[
            "query",
            "status = FAILURE",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "-n",
            "100000",
            "--asc",
            "--output",
            "csv",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", common::stderr(&out));
    let csv = common::stdout(&out);
    assert_eq!(csv.lines().count(), all.len() + 1);
    assert!(csv.starts_with("OFFSET,TIME,PRINCIPAL,METHOD,RESOURCE,STATUS,CLIENT IP"));
    let out = common::run(
        &[
            "stats",
            "--group-by",
            "status",
            "--server",
            &url,
            "--output",
            "json",
        ],
        b"",
    );
    assert_eq!(
        json(common::stdout(&out).as_bytes())["total"]
            .as_u64()
            .unwrap(),
        6000
    );
    let out = common::run(
        &[
            "stats",
            "--group-by",
            "status",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        common::stdout(&out).contains("FAILURE"),
        "{}",
        common::stdout(&out)
    );
    let out = common::run(
        &[
            "explain",
            "method = X AND crn within crn://confluent.cloud/organization=o",
        ],
        b"",
    );
    assert!(
        common::stdout(&out).contains("scope postings"),
        "{}",
        common::stdout(&out)
    );
    let out = common::run(
        &[
            "query",
            "status = (FAILURE",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains('^'),
        "{}",
        common::stderr(&out)
    );
}

/// Read SSE events `(id, data)` until `stop` says so, the stream ends, or
/// three seconds pass (the stream stays open after the last record). An
/// event counts only once its terminating blank line has arrived, so a
/// connection cut mid-event delivers nothing partial.
fn read_events(
    url: &str,
    last_id: Option<u64>,
    mut stop: impl FnMut(u64, &str) -> bool,
) -> Option<u64> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(3)))
        .build()
        .into();
    let mut req = agent.get(url);
    if let Some(l) = last_id {
        req = req.header("Last-Event-ID", l.to_string());
    }
    let mut r = req.call().unwrap();
    assert_eq!(r.status(), 200);
    let reader = BufReader::new(r.body_mut().as_reader());
    let (mut id, mut data) = (None, None::<String>);
    let mut last = last_id;
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if let Some(v) = line.strip_prefix("id: ") {
            id = v.parse::<u64>().ok();
        } else if let Some(d) = line.strip_prefix("data: ") {
            data = Some(d.to_owned());
        } else if line.is_empty() {
            if let (Some(off), Some(d)) = (id.take(), data.take()) {
                last = Some(off);
                if stop(off, &d) {
                    return last;
                }
            }
        }
    }
    last
}

fn agent_get_with_header(url: &str, name: &str, value: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent.get(url).header(name, value).call().unwrap();
    (r.status().as_u16(), r.body_mut().read_to_vec().unwrap())
}

#[test]
fn tail_resumes_without_gap_or_duplicate_under_concurrent_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path(), &[]);
    let url = srv.url.clone();
    let recs = records(23, 4000);
    post_batch(&url, &recs[..500]);
    let writer = {
        let url = url.clone();
        let rest = recs[500..].to_vec();
        std::thread::spawn(move || {
            for chunk in rest.chunks(100) {
                post_batch(&url, chunk);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let filter = enc("status = FAILURE OR method:Delete*");
    let tail = format!("{url}/v1/tail?filter={filter}&from_offset=0");
    let mut got: Vec<u64> = Vec::new();
    let mut last = None;
    // Disconnect after every 25 events and resume from Last-Event-ID.
    for _ in 0..1000 {
        let mut n = 0;
        last = read_events(&tail, last, |off, data| {
            let v = json(data.as_bytes());
            assert!(v["data"].is_object(), "event data is the record");
            got.push(off);
            n += 1;
            n == 25
        });
        if writer.is_finished() && got.len() >= 25 {
            let expected = export(&url, "status = FAILURE OR method:Delete*");
            if got.len() >= expected.len() {
                break;
            }
        }
    }
    writer.join().unwrap();
    let expected: Vec<u64> = export(&url, "status = FAILURE OR method:Delete*")
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert!(
        expected.len() > 200,
        "the workload must produce many matches"
    );
    assert_eq!(
        got, expected,
        "tail after reconnects differs from the matching records (gap or duplicate)"
    );

    // A Last-Event-ID the server could not have sent is a 400 naming it.
    for bad in ["18446744073709551615", "-1", "abc"] {
        let r = agent_get_with_header(&format!("{url}/v1/tail"), "Last-Event-ID", bad);
        assert_eq!(r.0, 400, "{bad}");
        assert_eq!(json(&r.1)["errors"][0]["path"], "Last-Event-ID", "{bad}");
    }

    // A newly accepted matching record arrives within a second.
    let (tx, rx) = std::sync::mpsc::channel();
    let from = last.unwrap() + 1;
    let tail_url = format!(
        "{url}/v1/tail?filter={}&from_offset={from}",
        enc("method = DeleteConnector AND status = FAILURE")
    );
    std::thread::spawn(move || {
        read_events(&tail_url, None, |off, _| {
            let _ = tx.send((off, Instant::now()));
            true
        });
    });
    std::thread::sleep(Duration::from_millis(300));
    let mut marker = recs
        .iter()
        .map(|r| json(r))
        .find(|v| {
            v["data"]["methodName"] == "DeleteConnector"
                && v["data"]["result"]["status"] == "FAILURE"
        })
        .expect("a failed DeleteConnector in the workload");
    marker["id"] = "tail-latency-marker".into();
    let accepted_at = {
        let (s, _) = post(
            &format!("{url}/v1/events"),
            "application/cloudevents+json",
            marker.to_string().as_bytes(),
        )
        .unwrap();
        assert_eq!(s, 201);
        Instant::now()
    };
    let (_, arrived) = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the tail delivers the new record");
    let latency = arrived.saturating_duration_since(accepted_at);
    eprintln!("tail latency from acknowledgement to delivery: {latency:?}");
    assert!(
        latency < Duration::from_secs(1),
        "delivered after {latency:?}"
    );
}
