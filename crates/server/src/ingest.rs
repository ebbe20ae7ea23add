//! Ingest, following the CloudEvents HTTP binding:
//! `POST /v1/events` takes one event (structured mode, plain JSON, or binary
//! mode with `ce-*` headers); `POST /v1/events:batch` takes a JSON array or
//! NDJSON. A 2xx is sent only after every stored record is fsync'd.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::Serialize;

use auditlog_model::json::{self, Json};
use auditlog_model::record::from_value;
use auditlog_store::{ConflictPolicy, Outcome, Prepared};
use auditlog_validate::{Severity, Validator};

use crate::auth::Caller;
use crate::config::{OnIngest, Redaction};
use crate::metrics::Rejection;
use crate::problem::{Finding, Problem};
use crate::AppState;

/// The media type of the request, lower-cased, without parameters.
fn media_type(headers: &HeaderMap) -> Result<String, Problem> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "no Content-Type; send application/cloudevents+json (or application/json) for one event, application/cloudevents-batch+json or application/x-ndjson for a batch"));
    };
    let v = v.to_str().unwrap_or("").to_ascii_lowercase();
    let mut parts = v.split(';');
    let essence = parts.next().unwrap_or("").trim().to_owned();
    for p in parts {
        if let Some(cs) = p.trim().strip_prefix("charset=") {
            let cs = cs.trim_matches('"');
            if cs != "utf-8" && cs != "utf8" {
                return Err(Problem::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported-charset",
                    format!("charset {cs:?} is not supported; send UTF-8"),
                ));
            }
        }
    }
    Ok(essence)
}

fn unsupported(got: &str, want: &str) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
        format!("Content-Type {got:?} is not accepted here; use {want}"),
    )
}

/// Read the whole body, refusing it with 413 as soon as it passes `limit`.
async fn read_body(headers: &HeaderMap, body: Body, limit: usize) -> Result<bytes::Bytes, Problem> {
    let too_big = || {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", format!("request body is larger than the limit of {limit} bytes; send fewer records per request"))
    };
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit {
            return Err(too_big());
        }
    }
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(too_big())
        }
        Err(e) => Err(Problem::bad_request(
            "unreadable-body",
            format!("the request body could not be read ({e}); it may have been cut short"),
        )),
    }
}

/// One submitted record: raw bytes (a single event or an NDJSON line), or a
/// value already parsed out of a JSON array.
pub(crate) enum Input {
    Bytes(bytes::Bytes),
    Parsed(Result<Json, json::ParseError>),
}

/// The problem type of a record refused for holding a secret.
const SECRET_IN_RECORD: &str = "secret-in-record";

/// The warning for one value masked on ingest.
fn redacted_finding(path: String) -> Finding {
    Finding {
        path,
        code: REDACTED,
        severity: "warning",
        message: "secret value replaced on ingest by the server's [redaction] rules; mask it in the client (the auditlog SDK does), or allow the key in [redaction] if it is not secret".into(),
    }
}

/// The warning code of a value masked on ingest.
const REDACTED: &str = "redacted";

/// What became of one submitted record before storage.
enum Item {
    Ready {
        // Boxed: a parsed record is ~2 KB, moved several times.
        parsed: Box<auditlog_model::ParsedRecord>,
        /// The target CRN, parsed once by validation and reused by the index.
        target: Option<auditlog_model::Crn>,
        warnings: Vec<Finding>,
    },
    Rejected {
        problem: Problem,
        why: Rejection,
    },
}

struct Checker<'a> {
    validator: Validator<'a>,
    redaction: &'a Redaction,
    strict: bool,
    conflicts: ConflictPolicy,
    max_record: usize,
}

impl Checker<'_> {
    /// Apply `[redaction]`: mask secrets and return their paths, or refuse
    /// the record. A record without secrets costs one walk of its
    /// `request.data` and `result.data` and no allocation.
    fn screen(&self, v: &mut Json) -> Result<Vec<String>, Problem> {
        let r = &self.redaction.redactor;
        match self.redaction.on_ingest {
            OnIngest::Off => Ok(Vec::new()),
            OnIngest::Mask => Ok(r.redact_record(v)),
            OnIngest::Reject => {
                let found = r.find_in_record(v);
                if found.is_empty() {
                    return Ok(found);
                }
                let detail = format!(
                    "the record holds {} secret value(s), first at {}; mask secrets in the client before sending (the auditlog SDK does), or, if the value is not secret, allow its key or path in the server's [redaction] table",
                    found.len(),
                    found.first().map_or("", String::as_str)
                );
                let errors = found
                    .into_iter()
                    .map(|path| Finding {
                        path,
                        code: "secret",
                        severity: "error",
                        message:
                            "a secret value in clear text; audit records must not hold secrets"
                                .into(),
                    })
                    .collect();
                Err(
                    Problem::new(StatusCode::UNPROCESSABLE_ENTITY, SECRET_IN_RECORD, detail)
                        .with_errors(errors),
                )
            }
        }
    }

    fn invalid_json(e: &json::ParseError) -> Item {
        let detail = format!(
            "not valid JSON: {} at line {} column {}",
            e.kind, e.line, e.column
        );
        let f = Finding {
            path: e.path.clone(),
            code: "invalid_json",
            severity: "error",
            message: e.kind.to_string(),
        };
        Item::Rejected {
            problem: Problem::bad_request("invalid-json", detail).with_errors(vec![f]),
            why: Rejection::InvalidJson,
        }
    }

    fn not_a_record(v: &Json) -> Item {
        let detail = match v {
            Json::Array(_) => "a record must be a JSON object, found an array; post several records to /v1/events:batch".to_owned(),
            other => format!("a record must be a JSON object, found {}", other.type_name()),
        };
        Item::Rejected {
            problem: Problem::bad_request("not-a-record", detail),
            why: Rejection::NotARecord,
        }
    }

    fn check(&self, input: Input) -> Item {
        // The value, and where its canonical bytes already are, if anywhere.
        let (mut v, canonical) = match input {
            Input::Bytes(b) => match json::parse_noting_canonical(&b) {
                Err(e) => return Self::invalid_json(&e),
                Ok((v, r)) => (v, r.map(|r| (b, r))),
            },
            Input::Parsed(Err(e)) => return Self::invalid_json(&e),
            Input::Parsed(Ok(v)) => (v, None),
        };
        if !matches!(v, Json::Object(_)) {
            return Self::not_a_record(&v);
        }
        let redacted = match self.screen(&mut v) {
            Ok(paths) => paths,
            Err(problem) => {
                return Item::Rejected {
                    problem,
                    why: Rejection::Secret,
                }
            }
        };
        // Reuse the bytes when they are already canonical and nothing was
        // redacted; otherwise write them from the (changed) tree.
        let reusable = canonical
            .filter(|_| redacted.is_empty())
            .and_then(|(b, r)| b.get(r).map(<[u8]>::to_vec));
        let parsed = match reusable {
            Some(canonical) => match auditlog_model::Record::from_json_value(v) {
                Ok(record) => auditlog_model::ParsedRecord { record, canonical },
                Err(t) => return Self::not_a_record(&Json::String(t.into())),
            },
            None => match from_value(v) {
                Ok(p) => p,
                Err(e) => {
                    return Item::Rejected {
                        problem: Problem::bad_request("not-a-record", e.to_string()),
                        why: Rejection::NotARecord,
                    }
                }
            },
        };
        if parsed.canonical.len() > self.max_record {
            let p = Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "record-too-large",
                format!(
                    "the record is {} bytes; the limit is {} bytes per record",
                    parsed.canonical.len(),
                    self.max_record
                ),
            );
            return Item::Rejected {
                problem: p,
                why: Rejection::TooLarge,
            };
        }
        let (diags, target) = self.validator.validate_with_target(&parsed.record);
        if self.strict && diags.iter().any(|d| d.severity == Severity::Error) {
            let errors: Vec<Finding> = diags.iter().map(Finding::from).collect();
            let n = diags
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let first = diags
                .iter()
                .find(|d| d.severity == Severity::Error)
                .map(|d| format!("{}: {}", d.path, d.message))
                .unwrap_or_default();
            let p = Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-record",
                format!("the record has {n} error(s), first {first}"),
            )
            .with_errors(errors);
            return Item::Rejected {
                problem: p,
                why: Rejection::Validation,
            };
        }
        let mut warnings: Vec<Finding> = redacted.into_iter().map(redacted_finding).collect();
        warnings.extend(diags.iter().map(Finding::from));
        Item::Ready {
            parsed: Box::new(parsed),
            target,
            warnings,
        }
    }
}

/// Per-item result in a batch response (and the body of a single one).
#[derive(Debug, Serialize)]
struct ItemReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conflicts_with: Option<u64>,
    /// Kafka mode: where the record landed in the audit-log topic.
    #[serde(skip_serializing_if = "Option::is_none")]
    partition: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kafka_offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<Finding>,
    /// The problem type for a single-event response, when the status alone
    /// does not say it.
    #[serde(skip)]
    slug: Option<&'static str>,
}

impl ItemReport {
    fn new(status: &'static str) -> ItemReport {
        ItemReport {
            index: None,
            line: None,
            status,
            offset: None,
            conflicts_with: None,
            partition: None,
            kafka_offset: None,
            http_status: None,
            detail: None,
            errors: Vec::new(),
            warnings: Vec::new(),
            slug: None,
        }
    }
}

/// The outcome of one record submitted through [`ingest_values`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    Accepted { offset: u64 },
    Duplicate { offset: u64 },
    Conflict { offset: u64 },
    Rejected { status: u16, detail: String },
}

/// Check and store values exactly as the HTTP ingest does (same policy,
/// limits and durability), for callers that hold the store in-process.
///
/// The checks of a large batch are spread over the machine's cores: the
/// Kafka indexer calls this from its one thread, whereas HTTP requests
/// already run side by side.
pub fn ingest_values(state: &AppState, values: Vec<Vec<u8>>) -> Result<Vec<Ingested>, Problem> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let reports = process(
        state,
        values
            .into_iter()
            .map(|v| (Input::Bytes(v.into()), None))
            .collect(),
        threads,
    )?;
    Ok(reports
        .into_iter()
        .map(|r| match r.status {
            "accepted" => Ingested::Accepted {
                offset: r.offset.unwrap_or(0),
            },
            "duplicate" => Ingested::Duplicate {
                offset: r.offset.unwrap_or(0),
            },
            "conflict" => Ingested::Conflict {
                offset: r.offset.unwrap_or(0),
            },
            _ => Ingested::Rejected {
                status: r.http_status.unwrap_or(400),
                detail: r.detail.unwrap_or_default(),
            },
        })
        .collect())
}

/// Fewest records per thread worth spreading checks over threads for
/// (a record's checks take ~20 µs; a thread ~30 µs to start).
const PER_THREAD: usize = 256;

/// `f` of every item, in order, over up to `threads` threads.
fn par_map<T: Send, U: Send>(
    items: Vec<T>,
    threads: usize,
    f: &(dyn Fn(T) -> U + Sync),
) -> Result<Vec<U>, Problem> {
    let threads = threads.min(items.len() / PER_THREAD).max(1);
    if threads == 1 {
        return Ok(items.into_iter().map(f).collect());
    }
    let per = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut rest = items.into_iter();
    loop {
        let chunk: Vec<T> = rest.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    let first = if chunks.is_empty() {
        Vec::new()
    } else {
        chunks.remove(0)
    };
    std::thread::scope(|s| {
        let others: Vec<_> = chunks
            .into_iter()
            .map(|c| s.spawn(move || c.into_iter().map(f).collect::<Vec<U>>()))
            .collect();
        // The calling thread takes the first chunk.
        let mut out: Vec<U> = first.into_iter().map(f).collect();
        for h in others {
            out.extend(h.join().map_err(|_| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "a record check failed unexpectedly; nothing from this batch was stored",
                )
            })?);
        }
        Ok(out)
    })
}

/// Check, store, and report each item, the checks over up to `threads`
/// threads. Runs on a blocking thread.
fn process(
    state: &AppState,
    items: Vec<(Input, Option<usize>)>,
    threads: usize,
) -> Result<Vec<ItemReport>, Problem> {
    let checker = Checker {
        validator: Validator::new(&state.catalog),
        redaction: &state.config.redaction,
        strict: state.config.policy == crate::config::Policy::Strict,
        conflicts: if state.config.store_id_conflicts {
            ConflictPolicy::Store
        } else {
            ConflictPolicy::Reject
        },
        max_record: state.config.max_record_bytes,
    };
    let mut reports = Vec::with_capacity(items.len());
    let mut ready = Vec::new();
    let mut ready_at = Vec::new();
    let mut warnings_of = Vec::new();
    let (inputs, lines): (Vec<Input>, Vec<Option<usize>>) = items.into_iter().unzip();
    let checked = par_map(inputs, threads, &|i| checker.check(i))?;
    for (i, (item, line)) in checked.into_iter().zip(lines).enumerate() {
        match item {
            Item::Ready {
                parsed,
                target,
                warnings,
            } => {
                ready_at.push(i);
                ready.push((parsed, target));
                warnings_of.push(warnings);
                reports.push(ItemReport::new("pending"));
            }
            Item::Rejected { problem, why } => {
                state.metrics.reject(why, 1);
                let mut r = ItemReport::new("rejected");
                if why == Rejection::Secret {
                    r.slug = Some(SECRET_IN_RECORD);
                }
                r.http_status = Some(problem.status);
                r.detail = Some(problem.detail);
                r.errors = problem.errors;
                reports.push(r);
            }
        }
        if let Some(r) = reports.last_mut() {
            r.line = line;
        }
    }
    #[cfg(feature = "kafka")]
    if let Some(producer) = &state.kafka.producer {
        if !ready.is_empty() {
            // Kafka mode: the topic is the log. Acknowledge only what the
            // broker acknowledged (acks=all); the indexer stores it.
            // Only the bytes: the index fields are the indexer's business.
            let bytes: Vec<Vec<u8>> = ready.into_iter().map(|(p, _)| p.canonical).collect();
            let landed = producer.send_all_blocking(&bytes).map_err(|e| {
                tracing::warn!(error = %e, "produce failed");
                Problem::unavailable(format!("the audit-log topic did not acknowledge ({e}); treat nothing from this request as accepted and retry later (retries are deduplicated by id)"))
            })?;
            for ((i, l), warnings) in ready_at.into_iter().zip(landed).zip(warnings_of) {
                let Some(r) = reports.get_mut(i) else {
                    continue;
                };
                state.metrics.accepted.fetch_add(1, Ordering::Relaxed);
                let masked = warnings.iter().filter(|w| w.code == REDACTED).count();
                state
                    .metrics
                    .redacted
                    .fetch_add(masked as u64, Ordering::Relaxed);
                r.warnings = warnings;
                r.status = "accepted";
                r.partition = Some(l.partition);
                r.kafka_offset = Some(l.offset);
            }
        }
        return Ok(reports);
    }
    if !ready.is_empty() {
        let conflicts = checker.conflicts;
        let ready = par_map(ready, threads, &|(p, t)| {
            Prepared::with_target(*p, conflicts, t)
        })?;
        let outcomes = state.store.append(ready).map_err(|e| {
            tracing::error!(error = %e, "append failed");
            Problem::unavailable(format!("the store cannot accept writes right now ({e}); nothing from this request was stored, retry later"))
        })?;
        for ((i, outcome), warnings) in ready_at.into_iter().zip(outcomes).zip(warnings_of) {
            let Some(r) = reports.get_mut(i) else {
                continue;
            };
            r.warnings = warnings;
            match outcome {
                Outcome::Stored {
                    offset,
                    conflicts_with,
                } => {
                    state.metrics.accepted.fetch_add(1, Ordering::Relaxed);
                    let masked = r.warnings.iter().filter(|w| w.code == REDACTED).count();
                    if masked > 0 {
                        state
                            .metrics
                            .redacted
                            .fetch_add(masked as u64, Ordering::Relaxed);
                    }
                    r.status = "accepted";
                    r.offset = Some(offset);
                    if let Some(c) = conflicts_with {
                        r.conflicts_with = Some(c);
                        r.warnings.push(Finding {
                            path: "$.id".into(),
                            code: "id_conflict",
                            severity: "warning",
                            message: format!("a different record with this (source, id) is stored at offset {c}; both are kept"),
                        });
                    }
                }
                Outcome::Duplicate { offset } => {
                    state.metrics.duplicates.fetch_add(1, Ordering::Relaxed);
                    r.status = "duplicate";
                    r.offset = Some(offset);
                    r.warnings.clear();
                }
                Outcome::Conflict { offset } => {
                    state.metrics.reject(Rejection::Conflict, 1);
                    r.status = "conflict";
                    r.offset = Some(offset);
                    r.http_status = Some(409);
                    r.detail = Some(format!("a different record with the same (source, id) is already stored at offset {offset}; CloudEvents ids must be unique per source"));
                }
            }
        }
    }
    Ok(reports)
}

async fn run_blocking(
    state: AppState,
    items: Vec<(Input, Option<usize>)>,
) -> Result<Vec<ItemReport>, Problem> {
    // One thread per request: concurrent requests already use the cores.
    tokio::task::spawn_blocking(move || process(&state, items, 1))
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("ingest task failed: {e}"),
            )
        })?
}

/// Percent-decode a binary-mode header value (CloudEvents HTTP binding §3.1.3.2).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            if let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Build a structured event from a binary-mode request.
fn from_binary(
    headers: &HeaderMap,
    content_type: &str,
    body: &[u8],
) -> Result<Json, json::ParseError> {
    let attributes = headers.iter().filter_map(|(name, value)| {
        let attr = name.as_str().strip_prefix("ce-")?;
        Some((attr, percent_decode(value.to_str().unwrap_or(""))))
    });
    auditlog_model::binary::structured_from_binary(attributes, Some(content_type), body)
}

/// `POST /v1/events`
pub async fn post_event(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    state.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let mt = media_type(&headers)?;
    let binary = headers.contains_key("ce-specversion");
    let structured = matches!(
        mt.as_str(),
        "application/cloudevents+json" | "application/json"
    );
    let accepted = structured || (binary && mt.ends_with("json"));
    if !accepted {
        return Err(unsupported(
            &mt,
            "application/cloudevents+json or application/json (batches go to /v1/events:batch)",
        ));
    }
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let input = if binary && mt != "application/cloudevents+json" {
        Input::Parsed(from_binary(&headers, &mt, &bytes))
    } else {
        Input::Bytes(bytes)
    };
    let mut reports = run_blocking(state, vec![(input, None)]).await?;
    let r = reports
        .pop()
        .ok_or_else(|| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "no result"))?;
    match r.status {
        "accepted" => {
            let mut resp = (StatusCode::CREATED, axum::Json(&r)).into_response();
            if let Some(o) = r.offset {
                if let Ok(v) = HeaderValue::from_str(&format!("/v1/events/{o}")) {
                    resp.headers_mut().insert(header::LOCATION, v);
                }
            }
            Ok(resp)
        }
        "duplicate" => Ok((StatusCode::OK, axum::Json(&r)).into_response()),
        "conflict" => Err(Problem::new(
            StatusCode::CONFLICT,
            "id-conflict",
            r.detail.unwrap_or_default(),
        )
        .with_offset(r.offset.unwrap_or(0))),
        _ => {
            let status = StatusCode::from_u16(r.http_status.unwrap_or(400))
                .unwrap_or(StatusCode::BAD_REQUEST);
            let slug = r.slug.unwrap_or(match status {
                StatusCode::PAYLOAD_TOO_LARGE => "record-too-large",
                StatusCode::UNPROCESSABLE_ENTITY => "invalid-record",
                _ => "invalid-json",
            });
            Err(Problem::new(status, slug, r.detail.unwrap_or_default()).with_errors(r.errors))
        }
    }
}

#[derive(Debug, Serialize)]
struct BatchReport {
    accepted: usize,
    duplicates: usize,
    rejected: usize,
    conflicts: usize,
    items: Vec<ItemReport>,
}

/// `POST /v1/events:batch`
pub async fn post_batch(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    state.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let mt = media_type(&headers)?;
    let ndjson = matches!(
        mt.as_str(),
        "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
    );
    if !ndjson
        && !matches!(
            mt.as_str(),
            "application/cloudevents-batch+json" | "application/json"
        )
    {
        return Err(unsupported(
            &mt,
            "application/cloudevents-batch+json (a JSON array) or application/x-ndjson",
        ));
    }
    let bytes = read_body(&headers, body, state.config.max_body_bytes).await?;
    let max = state.config.max_batch_records;
    let too_many = |n: usize| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            format!("the batch holds {n} records; the limit is {max} per request"),
        )
    };
    let items: Vec<(Input, Option<usize>)> = if ndjson {
        let mut v = Vec::new();
        // Lines are sliced out of the body without copying.
        let (mut start, mut n) = (0usize, 0usize);
        let ends = memchr::memchr_iter(b'\n', &bytes).chain(std::iter::once(bytes.len()));
        for end in ends {
            n += 1;
            let mut line = bytes.slice(start..end.min(bytes.len()));
            start = end + 1;
            if line.last() == Some(&b'\r') {
                line.truncate(line.len() - 1);
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            v.push((Input::Bytes(line), Some(n)));
            if v.len() > max {
                return Err(too_many(v.len()));
            }
        }
        v
    } else {
        match json::parse(&bytes) {
            Ok(Json::Array(a)) => {
                if a.len() > max {
                    return Err(too_many(a.len()));
                }
                a.into_iter().map(|v| (Input::Parsed(Ok(v)), None)).collect()
            }
            Ok(other) => {
                return Err(Problem::bad_request("not-a-batch", format!("a batch must be a JSON array of records, found {}; post a single record to /v1/events", other.type_name())))
            }
            Err(e) => {
                state.metrics.reject(Rejection::InvalidJson, 1);
                let f = Finding { path: e.path.clone(), code: "invalid_json", severity: "error", message: e.kind.to_string() };
                return Err(Problem::bad_request("invalid-json", format!("the batch is not valid JSON: {} at line {} column {}; nothing was stored", e.kind, e.line, e.column)).with_errors(vec![f]));
            }
        }
    };
    if items.is_empty() {
        return Err(Problem::bad_request(
            "empty-batch",
            "the batch holds no records",
        ));
    }
    let mut reports = run_blocking(state, items).await?;
    for (i, r) in reports.iter_mut().enumerate() {
        r.index = Some(i);
    }
    let count = |s: &str| reports.iter().filter(|r| r.status == s).count();
    let report = BatchReport {
        accepted: count("accepted"),
        duplicates: count("duplicate"),
        rejected: count("rejected"),
        conflicts: count("conflict"),
        items: reports,
    };
    let status = if report.rejected + report.conflicts == 0 {
        StatusCode::OK
    } else if report.accepted + report.duplicates == 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, axum::Json(report)).into_response())
}
