//! Bad input gets the right 4xx and a message that names the problem; none of
//! it changes the store or crashes the server. One running server, many cases.

mod common;
use common::root;
use common::server::{committed, get, json, post, Server};

fn seed(name: &str) -> Vec<u8> {
    std::fs::read(root().join("tests/data/seed-examples").join(name)).unwrap()
}

fn edit(name: &str, f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&seed(name)).unwrap();
    f(&mut v);
    serde_json::to_vec(&v).unwrap()
}

const CE: &str = "application/cloudevents+json";
const BATCH: &str = "application/cloudevents-batch+json";
const GOOD: &str = "connector-01-CreateConnector-success.json";

struct Case {
    name: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    status: u16,
    says: &'static str,
}

fn cases() -> Vec<Case> {
    let good = seed(GOOD);
    let half = good[..good.len() / 2].to_vec();
    let bomb = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000)).into_bytes();
    let mut bad_utf8 = good.clone();
    let at = bad_utf8
        .windows(9)
        .position(|w| w == b"awsuser\",")
        .unwrap();
    bad_utf8[at + 2] = 0xff;
    let big_record = edit(GOOD, |v| {
        v["data"]["request"]["data"]["pad"] = serde_json::Value::String("x".repeat(20_000))
    });
    let huge_body = vec![b' '; 70_000];
    let too_many = format!("[{}]", vec!["{}"; 51].join(",")).into_bytes();
    let c = |name, path, ct, body, status, says| Case {
        name,
        path,
        content_type: ct,
        body,
        status,
        says,
    };
    vec![
        c(
            "invalid JSON",
            "/v1/events",
            Some(CE),
            b"{".to_vec(),
            400,
            "unexpected end of input",
        ),
        c(
            "truncated body",
            "/v1/events",
            Some(CE),
            half,
            400,
            "unexpected end of input",
        ),
        c(
            "trailing garbage",
            "/v1/events",
            Some(CE),
            b"{} x".to_vec(),
            400,
            "unexpected characters after the JSON value",
        ),
        c(
            "empty body",
            "/v1/events",
            Some(CE),
            Vec::new(),
            400,
            "no JSON value",
        ),
        c(
            "null",
            "/v1/events",
            Some(CE),
            b"null".to_vec(),
            400,
            "must be a JSON object, found null",
        ),
        c(
            "number",
            "/v1/events",
            Some(CE),
            b"42".to_vec(),
            400,
            "must be a JSON object, found number",
        ),
        c(
            "array to the single endpoint",
            "/v1/events",
            Some(CE),
            b"[{}]".to_vec(),
            400,
            "post several records to /v1/events:batch",
        ),
        c(
            "wrong type: time",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["time"] = 5.into()),
            422,
            "$.time",
        ),
        c(
            "wrong type: data",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["data"] = "x".into()),
            422,
            "$.data",
        ),
        c(
            "wrong type: cloudResources entry",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["data"]["cloudResources"][0] = 1.into()),
            422,
            "$.data.cloudResources[0]",
        ),
        c(
            "missing id",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| drop(v.as_object_mut().unwrap().remove("id"))),
            422,
            "\"id\" is missing",
        ),
        c(
            "empty id",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["id"] = "".into()),
            422,
            "\"id\" must be a non-empty string",
        ),
        c(
            "bad time",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["time"] = "yesterday".into()),
            422,
            "not an RFC 3339 date-time",
        ),
        c(
            "bad specversion",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["specversion"] = "0.3".into()),
            422,
            "specversion is \"0.3\"",
        ),
        c(
            "malformed CRN",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| {
                v["data"]["resourceName"] = "crn://confluent.cloud/organization".into()
            }),
            422,
            "segment has no '='",
        ),
        c(
            "invalid status",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| v["data"]["result"]["status"] = "OK".into()),
            422,
            "expected SUCCESS or FAILURE",
        ),
        c(
            "access type contradicts catalog",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| {
                v["data"]["request"]["accessType"] = "READ_ONLY".into()
            }),
            422,
            "CreateConnector is MODIFICATION",
        ),
        c(
            "method of another event type",
            "/v1/events",
            Some(CE),
            edit(GOOD, |v| {
                v["type"] = "io.confluent.kafka.server/authorization".into()
            }),
            422,
            "CreateConnector records have type",
        ),
        c(
            "deep nesting bomb",
            "/v1/events",
            Some(CE),
            bomb,
            400,
            "nesting deeper than 128",
        ),
        c(
            "invalid UTF-8 byte",
            "/v1/events",
            Some(CE),
            bad_utf8,
            400,
            "invalid UTF-8",
        ),
        c(
            "lone surrogate",
            "/v1/events",
            Some(CE),
            br#"{"id":"\ud800"}"#.to_vec(),
            400,
            "unpaired UTF-16 surrogate",
        ),
        c(
            "duplicate member",
            "/v1/events",
            Some(CE),
            br#"{"id":"a","id":"b"}"#.to_vec(),
            400,
            "duplicate member name",
        ),
        c(
            "control character",
            "/v1/events",
            Some(CE),
            b"{\"id\":\"a\nb\"}".to_vec(),
            400,
            "control character",
        ),
        c(
            "byte-order mark",
            "/v1/events",
            Some(CE),
            [&[0xEF, 0xBB, 0xBF][..], &good].concat(),
            400,
            "byte-order mark",
        ),
        c(
            "oversize record",
            "/v1/events",
            Some(CE),
            big_record,
            413,
            "the limit is 16384 bytes per record",
        ),
        c(
            "oversize body",
            "/v1/events",
            Some(CE),
            huge_body,
            413,
            "larger than the limit of 65536 bytes",
        ),
        c(
            "too many records in a batch",
            "/v1/events:batch",
            Some(BATCH),
            too_many,
            413,
            "the limit is 50 per request",
        ),
        c(
            "text/plain",
            "/v1/events",
            Some("text/plain"),
            good.clone(),
            415,
            "is not accepted here",
        ),
        c(
            "no content type",
            "/v1/events",
            None,
            good.clone(),
            415,
            "no Content-Type",
        ),
        c(
            "xml",
            "/v1/events:batch",
            Some("application/xml"),
            good.clone(),
            415,
            "application/x-ndjson",
        ),
        c(
            "latin-1",
            "/v1/events",
            Some("application/json; charset=iso-8859-1"),
            good.clone(),
            415,
            "charset",
        ),
        c(
            "object to the batch endpoint",
            "/v1/events:batch",
            Some(BATCH),
            good.clone(),
            400,
            "must be a JSON array",
        ),
        c(
            "broken batch array",
            "/v1/events:batch",
            Some(BATCH),
            b"[{},".to_vec(),
            400,
            "nothing was stored",
        ),
        c(
            "empty batch",
            "/v1/events:batch",
            Some(BATCH),
            b"[]".to_vec(),
            400,
            "holds no records",
        ),
        c(
            "unknown route",
            "/v2/whatever",
            Some(CE),
            good,
            404,
            "is not a route",
        ),
    ]
}

#[test]
fn every_bad_input_gets_a_clear_4xx_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--max-body-bytes",
            "65536",
            "--max-record-bytes",
            "16384",
            "--max-batch-records",
            "50",
        ],
    );
    let (s, _) = post(&format!("{}/v1/events", server.url), CE, &seed(GOOD)).unwrap();
    assert_eq!(s, 201);
    let cases = cases();
    assert!(cases.len() >= 30);
    for case in cases {
        let url = format!("{}{}", server.url, case.path);
        let mut req = common::server::agent().post(&url);
        if let Some(ct) = case.content_type {
            req = req.header("content-type", ct);
        }
        let mut r = match req.send(&case.body[..]) {
            Ok(r) => r,
            // A server may close the connection on a body it refuses early.
            Err(e) if case.status == 413 => panic!("{}: {e}", case.name),
            Err(e) => panic!("{}: {e}", case.name),
        };
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, case.status, "{}: {body}", case.name);
        assert_eq!(ct, "application/problem+json", "{}", case.name);
        let v = json(body.as_bytes());
        let mut text = v["detail"].as_str().unwrap_or_default().to_owned();
        for e in v["errors"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                " | {} {}",
                e["path"].as_str().unwrap_or_default(),
                e["message"].as_str().unwrap_or_default()
            ));
        }
        assert!(
            text.contains(case.says),
            "{}: expected {:?} in {text}",
            case.name,
            case.says
        );
        assert_eq!(committed(&server.url), 1, "{} changed the store", case.name);
        assert_eq!(
            get(&format!("{}/healthz", server.url)).0,
            200,
            "{} crashed the server",
            case.name
        );
    }
    // Read-back errors too.
    let (s, b) = get(&format!("{}/v1/events/abc", server.url));
    assert!(s == 400 && String::from_utf8_lossy(&b).contains("not a non-negative integer"));
    let (s, b) = get(&format!("{}/v1/events/99", server.url));
    assert!(s == 404 && String::from_utf8_lossy(&b).contains("the log holds offsets 0 to 0"));
    server.stop();
}

#[test]
fn a_bad_item_never_drops_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--max-record-bytes", "16384"]);
    let good: Vec<String> = auditlog_gen::Generator::new(Default::default())
        .take(3)
        .map(|b| String::from_utf8(b).unwrap())
        .collect();
    let oversize = String::from_utf8(edit(GOOD, |v| {
        v["data"]["request"]["data"]["pad"] = "y".repeat(20_000).into()
    }))
    .unwrap();
    let body = format!(
        "{}\n{{\"id\": \n{}\n{}\n\n{}\n",
        good[0], good[1], oversize, good[2]
    );
    let (s, b) = post(
        &format!("{}/v1/events:batch", server.url),
        "application/x-ndjson",
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(s, 207, "{}", String::from_utf8_lossy(&b));
    let v = json(&b);
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(3), Some(2))
    );
    let items = v["items"].as_array().unwrap();
    assert_eq!(items[1]["status"], "rejected");
    assert_eq!(items[1]["line"], 2);
    assert_eq!(items[3]["http_status"], 413);
    assert_eq!(items[4]["offset"], 2);
    // What was accepted is exactly what was sent.
    for (i, g) in good.iter().enumerate() {
        let (_, stored) = get(&format!("{}/v1/events/{i}", server.url));
        assert_eq!(stored, g.as_bytes());
    }
}

#[test]
fn snake_case_and_binary_mode_are_accepted_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--validation", "lenient"]);
    // A seed in the snake_case AuditLog.v2 form.
    let snake = seed("flink-03-DeleteComputePool-success.json");
    let (s, b) = post(
        &format!("{}/v1/events", server.url),
        "application/json",
        &snake,
    )
    .unwrap();
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    let (_, stored) = get(&format!("{}/v1/events/0", server.url));
    let canonical =
        auditlog_model::json::to_canonical(&auditlog_model::json::parse(&snake).unwrap());
    assert_eq!(
        stored, canonical,
        "stored bytes are the canonical form of exactly what was sent"
    );
    // Binary mode: attributes in ce-* headers, data in the body.
    let data = serde_json::to_vec(&json(&seed(GOOD))["data"]).unwrap();
    let mut r = common::server::agent()
        .post(&format!("{}/v1/events", server.url))
        .header("content-type", "application/json")
        .header("ce-specversion", "1.0")
        .header("ce-id", "binary-1")
        .header("ce-source", "crn://confluent.cloud/")
        .header("ce-type", "io.confluent.cloud/request")
        .header("ce-time", "2021-10-20T20:00:56.417826232Z")
        .header("ce-subject", "crn://confluent.cloud/organization=3bd538c6-caa8-42ec-b60b-00bbf2e749f1/environment=env-abc123/cloud-cluster=lkc-12j2w5/connector=lcc-pkdrjy")
        .send(&data[..])
        .unwrap();
    assert_eq!(
        r.status(),
        201,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
    let (s, b) = get(&format!("{}/v1/events?id=binary-1", server.url));
    assert_eq!(s, 200);
    let v = json(&b);
    assert_eq!(v["datacontenttype"], "application/json");
    assert_eq!(v["data"]["methodName"], "CreateConnector");
}
