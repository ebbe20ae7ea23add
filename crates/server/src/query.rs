//! Query routes: `GET /v1/events` (filtered listing, JSON pages or streamed
//! NDJSON), `GET /v1/stats` (aggregations), `GET /v1/tail` (Server-Sent
//! Events) and `GET /v1/explain`. Every one goes through the auth seam, and
//! a tenant-scoped caller's filter is narrowed to its organization here, so
//! no route can forget it.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use auditlog_filter::{Expr, Filter, Leaf};
use auditlog_model::fields::Field;
use auditlog_query::search::with_time_range;
use auditlog_query::stats::{group_field, parse_interval};
use auditlog_query::{search, stats, Cursor, Order, SearchRequest, StatsRequest, StatsResult};

use crate::auth::{Caller, Scope};
use crate::problem::{Finding, Problem};
use crate::read::blocking;
use crate::stream::channel;
use crate::AppState;

/// Largest page of a JSON listing.
const MAX_PAGE: usize = 10_000;
/// Page size used internally by streamed exports and the tail.
const STREAM_PAGE: usize = 2_000;

fn param_problem(param: &str, code: &'static str, message: String) -> Problem {
    Problem::bad_request(code, format!("{param}: {message}")).with_errors(vec![Finding {
        path: param.to_owned(),
        code,
        severity: "error",
        message,
    }])
}

/// The caller's filter, with `from`/`to` and the caller's tenant scope applied.
pub(crate) fn effective_filter(
    caller: &Caller,
    filter: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Filter, Problem> {
    let f = auditlog_filter::parse(filter.unwrap_or(""))
        .map_err(|e| param_problem("filter", "bad-filter", e.to_string()))?;
    let time = |name: &str, v: Option<&str>| -> Result<Option<i64>, Problem> {
        v.filter(|s| !s.is_empty())
            .map(|s| auditlog_filter::parse_time(s).map_err(|m| param_problem(name, "bad-time", format!("{m}; use RFC 3339 (2026-11-22T10:00:00Z), a date (2026-11-22), now, or a relative time (-1h, -7d)"))))
            .transpose()
    };
    let f = with_time_range(f, time("from", from)?, time("to", to)?);
    Ok(match &caller.scope {
        Scope::All => f,
        Scope::Organization(o) => {
            let tenant = Expr::Leaf(Leaf::Eq {
                field: Field::Organization,
                values: vec![o.clone()],
            });
            Filter::from_expr(if f.is_trivially_true() {
                tenant
            } else {
                Expr::And(vec![tenant, f.expr])
            })
        }
    })
}

fn query_problem(e: auditlog_query::QueryError) -> Problem {
    match e {
        auditlog_query::QueryError::Cursor(_) => {
            param_problem("cursor", "bad-cursor", e.to_string())
        }
        auditlog_query::QueryError::GroupBy(..) => {
            param_problem("group_by", "bad-group-by", e.to_string())
        }
        auditlog_query::QueryError::Interval(_) => {
            param_problem("interval", "bad-interval", e.to_string())
        }
        other => Problem::unavailable(other.to_string()),
    }
}

/// Parameters of `GET /v1/events`.
#[derive(Debug, Deserialize)]
pub struct EventsParams {
    id: Option<String>,
    source: Option<String>,
    filter: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    order: Option<String>,
    format: Option<String>,
}

fn parse_order(v: Option<&str>) -> Result<Order, Problem> {
    match v.unwrap_or("desc") {
        "asc" => Ok(Order::Asc),
        "desc" => Ok(Order::Desc),
        other => Err(param_problem(
            "order",
            "bad-order",
            format!("`{other}` is not an order; use asc or desc"),
        )),
    }
}

fn parse_limit(v: Option<&str>) -> Result<Option<usize>, Problem> {
    v.filter(|s| !s.is_empty())
        .map(|s| match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(param_problem(
                "limit",
                "bad-limit",
                format!("`{s}` is not a positive integer"),
            )),
        })
        .transpose()
}

fn wants_ndjson(format: Option<&str>, headers: &HeaderMap) -> Result<bool, Problem> {
    match format {
        Some("ndjson") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(param_problem(
            "format",
            "bad-format",
            format!("`{other}` is not a format; use json or ndjson"),
        )),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/x-ndjson"))),
    }
}

/// One listed record: `{"offset":N,"record":<stored bytes>}`.
fn push_entry(out: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    out.extend_from_slice(b"{\"offset\":");
    out.extend_from_slice(offset.to_string().as_bytes());
    out.extend_from_slice(b",\"record\":");
    out.extend_from_slice(bytes);
    out.push(b'}');
}

/// `GET /v1/events`: by `id` (the oldest record with it), or a filtered listing.
pub async fn list_events(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(p): Query<EventsParams>,
) -> Result<Response, Problem> {
    #[cfg(not(feature = "kafka"))]
    let _ = &uri;
    #[cfg(feature = "kafka")]
    if p.id.is_some() {
        // A lookup by id can match any tenant's partition.
        let f = effective_filter(&caller, None, None, None)?;
        if let Some(r) = crate::cluster::route_read(&state, &f, &uri, &headers).await? {
            return Ok(r);
        }
    }
    if p.id.is_some()
        && p.filter.is_none()
        && p.from.is_none()
        && p.to.is_none()
        && p.cursor.is_none()
    {
        return crate::read::by_id(state, caller, p.id, p.source).await;
    }
    let filter = effective_filter(
        &caller,
        p.filter.as_deref(),
        p.from.as_deref(),
        p.to.as_deref(),
    )?;
    #[cfg(feature = "kafka")]
    if p.id.is_none() {
        if let Some(r) = crate::cluster::route_read(&state, &filter, &uri, &headers).await? {
            return Ok(r);
        }
    }
    let order = parse_order(p.order.as_deref())?;
    let limit = parse_limit(p.limit.as_deref())?;
    let cursor = p
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<Cursor>())
        .transpose()
        .map_err(query_problem)?;
    if wants_ndjson(p.format.as_deref(), &headers)? {
        return Ok(export(state, filter, order, limit, cursor));
    }
    let limit = limit.unwrap_or(100);
    if limit > MAX_PAGE {
        return Err(param_problem("limit", "bad-limit", format!("at most {MAX_PAGE} records per page; page with `cursor`, or stream everything with format=ndjson")));
    }
    let store = state.store.clone();
    let page = blocking(move || {
        search(
            &store,
            &SearchRequest {
                filter,
                order,
                limit,
                cursor,
                from_offset: 0,
            },
        )
        .map_err(query_problem)
    })
    .await?;
    crate::metrics::observe_query(&state.metrics, page.records.len(), page.work);
    let mut body =
        Vec::with_capacity(page.records.iter().map(|r| r.1.len() + 32).sum::<usize>() + 128);
    body.extend_from_slice(b"{\"records\":[");
    for (i, (off, bytes)) in page.records.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        push_entry(&mut body, *off, bytes);
    }
    body.extend_from_slice(b"],\"count\":");
    body.extend_from_slice(page.records.len().to_string().as_bytes());
    body.extend_from_slice(b",\"next_cursor\":");
    match page.next_cursor {
        Some(c) => body.extend_from_slice(format!("\"{c}\"").as_bytes()),
        None => body.extend_from_slice(b"null"),
    }
    body.extend_from_slice(format!(",\"snapshot_end\":{}}}", page.end).as_bytes());
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}

/// Stream every match as NDJSON, page by page from one snapshot.
fn export(
    state: AppState,
    filter: Filter,
    order: Order,
    limit: Option<usize>,
    cursor: Option<Cursor>,
) -> Response {
    let (tx, body) = channel();
    let store = state.store.clone();
    let metrics = state.metrics.clone();
    metrics
        .queries
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tokio::task::spawn_blocking(move || {
        let mut cursor = cursor;
        let mut left = limit.unwrap_or(usize::MAX);
        while left > 0 {
            let req = SearchRequest {
                filter: filter.clone(),
                order,
                limit: left.min(STREAM_PAGE),
                cursor,
                from_offset: 0,
            };
            let page = match search(&store, &req) {
                Ok(p) => p,
                Err(e) => {
                    // Headers are gone; say so in-band, as the last line.
                    let line = serde_json::json!({"error": e.to_string()}).to_string() + "\n";
                    let _ = tx.blocking_send(Bytes::from(line));
                    return;
                }
            };
            let mut chunk = Vec::new();
            for (off, bytes) in &page.records {
                push_entry(&mut chunk, *off, bytes);
                chunk.push(b'\n');
            }
            // One query for the whole export (counted above); its pages add work.
            let relaxed = std::sync::atomic::Ordering::Relaxed;
            metrics
                .query_records
                .fetch_add(page.records.len() as u64, relaxed);
            metrics.query_blocks.fetch_add(page.work.blocks, relaxed);
            metrics
                .query_verified
                .fetch_add(page.work.verified, relaxed);
            left = left.saturating_sub(page.records.len());
            if tx.blocking_send(Bytes::from(chunk)).is_err() {
                return; // the client went away
            }
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    });
    let mut r = Response::new(axum::body::Body::new(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    r
}

/// Parameters of `GET /v1/stats`.
#[derive(Debug, Deserialize)]
pub struct StatsParams {
    filter: Option<String>,
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    interval: Option<String>,
    top: Option<String>,
    failures: Option<String>,
}

/// `GET /v1/stats`: counts by group, a time histogram, top-N, failure rates.
pub async fn get_stats(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(p): Query<StatsParams>,
) -> Result<Response, Problem> {
    let filter = effective_filter(
        &caller,
        p.filter.as_deref(),
        p.from.as_deref(),
        p.to.as_deref(),
    )?;
    #[cfg(feature = "kafka")]
    if let Some(r) = crate::cluster::route_read(&state, &filter, &uri, &headers).await? {
        return Ok(r);
    }
    #[cfg(not(feature = "kafka"))]
    let _ = (headers, uri);
    let group_by = p
        .group_by
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(group_field)
        .transpose()
        .map_err(query_problem)?;
    let interval = p
        .interval
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(parse_interval)
        .transpose()
        .map_err(query_problem)?;
    let top = parse_limit(p.top.as_deref())
        .map_err(|_| param_problem("top", "bad-top", "give a positive integer".into()))?;
    let failures = match p.failures.as_deref() {
        None | Some("false" | "0" | "") => false,
        Some("true" | "1") => true,
        Some(o) => {
            return Err(param_problem(
                "failures",
                "bad-failures",
                format!("`{o}` is not a boolean; use true or false"),
            ))
        }
    };
    let store = state.store.clone();
    let req = StatsRequest {
        filter,
        group_by,
        interval,
        top,
        failures,
    };
    let res = blocking(move || stats(&store, &req).map_err(query_problem)).await?;
    crate::metrics::observe_query(&state.metrics, 0, res.work);
    let body = stats_json(&res, group_by, p.interval.as_deref());
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// The `/v1/stats` answer as JSON; `auditlog stats --data-dir` prints the same.
pub fn stats_json(
    res: &StatsResult,
    group_by: Option<Field>,
    interval: Option<&str>,
) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = res
        .groups
        .iter()
        .map(|g| {
            let mut v = serde_json::json!({"key": g.key, "count": g.count});
            if let Some(f) = g.failures {
                v["failures"] = f.into();
                v["failure_rate"] = serde_json::json!(if g.count == 0 {
                    0.0
                } else {
                    f as f64 / g.count as f64
                });
            }
            v
        })
        .collect();
    let histogram: Vec<serde_json::Value> = res
        .histogram
        .iter()
        .map(|(t, c)| serde_json::json!({"start": auditlog_model::Timestamp::from_unix_nanos(i128::from(*t)).to_rfc3339_nanos(), "count": c}))
        .collect();
    serde_json::json!({
        "total": res.total,
        "group_by": group_by.map(|f| f.name()),
        "groups": groups,
        "group_count": res.group_count,
        "interval": interval,
        "histogram": histogram,
        "snapshot_end": res.end,
    })
}

/// Parameters of `GET /v1/tail`.
#[derive(Debug, Deserialize)]
pub struct TailParams {
    filter: Option<String>,
    from_offset: Option<String>,
}

/// `GET /v1/tail`: matching records as Server-Sent Events, `id:` = offset.
/// Starts at `from_offset`, else after `Last-Event-ID`, else at the end.
pub async fn tail(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(p): Query<TailParams>,
) -> Result<Response, Problem> {
    let filter = effective_filter(&caller, p.filter.as_deref(), None, None)?;
    #[cfg(feature = "kafka")]
    if let Some(r) = crate::cluster::route_tail(&state, &filter, &uri, &headers).await? {
        return Ok(r);
    }
    #[cfg(not(feature = "kafka"))]
    let _ = uri;
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let start = match (last_id, p.from_offset.as_deref().filter(|s| !s.is_empty())) {
        (Some(id), _) => after_last_event(&state, id).await?,
        (None, Some(o)) => o.parse::<u64>().map_err(|_| {
            param_problem(
                "from_offset",
                "bad-offset",
                format!("`{o}` is not a non-negative integer"),
            )
        })?,
        (None, None) => state.store.committed(),
    };
    // In Kafka mode the tail may resume on another node: ids name records.
    #[cfg(feature = "kafka")]
    let named_ids = state.kafka.producer.is_some();
    #[cfg(not(feature = "kafka"))]
    let named_ids = false;
    let (tx, body) = channel();
    let store = state.store.clone();
    let metrics = state.metrics.clone();
    tokio::task::spawn_blocking(move || {
        // Counted while this thread streams; the guard also covers early returns.
        let _active = TailGauge::new(&metrics);
        let mut from = start;
        let mut idle = Duration::ZERO;
        let _ = tx.blocking_send(Bytes::from(format!(
            "retry: 1000\n: tailing from offset {from}\n\n"
        )));
        loop {
            let tick = Duration::from_millis(250);
            if store.wait_for(from, tick) <= from {
                idle += tick;
                // A comment now and then keeps proxies from closing an idle
                // stream, and tells us when the client has gone.
                if idle >= Duration::from_secs(15) {
                    idle = Duration::ZERO;
                    if tx
                        .blocking_send(Bytes::from_static(b": keep-alive\n\n"))
                        .is_err()
                    {
                        return;
                    }
                }
                if tx.is_closed() {
                    return;
                }
                continue;
            }
            idle = Duration::ZERO;
            let mut cursor = None;
            loop {
                let req = SearchRequest {
                    filter: filter.clone(),
                    order: Order::Asc,
                    limit: STREAM_PAGE,
                    cursor,
                    from_offset: from,
                };
                let page = match search(&store, &req) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.blocking_send(Bytes::from(format!(
                            "event: error\ndata: {}\n\n",
                            serde_json::json!({"error": e.to_string()})
                        )));
                        return;
                    }
                };
                metrics.query_records.fetch_add(
                    page.records.len() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                let mut chunk = Vec::new();
                for (off, bytes) in &page.records {
                    let id = if named_ids {
                        crate::tail_id::encode(*off, bytes)
                    } else {
                        off.to_string()
                    };
                    chunk.extend_from_slice(format!("id: {id}\nevent: record\ndata: ").as_bytes());
                    chunk.extend_from_slice(bytes);
                    chunk.extend_from_slice(b"\n\n");
                }
                if !chunk.is_empty() && tx.blocking_send(Bytes::from(chunk)).is_err() {
                    return;
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => {
                        from = page.end.max(from);
                        break;
                    }
                }
            }
        }
    });
    let mut r = Response::new(axum::body::Body::new(body));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// The offset after the record a `Last-Event-ID` names. A record named by
/// source and id (Kafka mode, see `tail_id`) is looked up in this store,
/// waiting up to 30 s for it: after a rebalance the tenant's new node may
/// still be catching up.
async fn after_last_event(state: &AppState, last: &str) -> Result<u64, Problem> {
    let bad = || {
        param_problem(
            "Last-Event-ID",
            "bad-event-id",
            format!("`{last}` is not an event id this server sent"),
        )
    };
    let (source, id) = match crate::tail_id::parse(last).ok_or_else(bad)? {
        crate::tail_id::LastId::Offset(o) => return o.checked_add(1).ok_or_else(bad),
        crate::tail_id::LastId::Record { source, id } => (source, id),
    };
    let started = std::time::Instant::now();
    loop {
        let store = state.store.clone();
        let (s, i) = (source.clone(), id.clone());
        let found = blocking(move || {
            store
                .find_by_id(&i, Some(&s))
                .map_err(|e| Problem::unavailable(e.to_string()))
        })
        .await?;
        if let Some(o) = found.iter().map(|(o, _)| *o).min() {
            return Ok(o + 1);
        }
        if started.elapsed() >= Duration::from_secs(30) {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                "resume-point-not-found",
                format!("the record this tail last delivered (source {source:?}, id {id:?}) is not in this node's store after 30 s, so it cannot resume after it; retry (the node may be catching up after a rebalance), or start again without Last-Event-ID"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Counts a live tail in `auditlog_tails_active` for as long as it lives.
struct TailGauge<'a>(&'a crate::metrics::Metrics);

impl<'a> TailGauge<'a> {
    fn new(m: &'a crate::metrics::Metrics) -> TailGauge<'a> {
        m.tails_active
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TailGauge(m)
    }
}

impl Drop for TailGauge<'_> {
    fn drop(&mut self) {
        self.0
            .tails_active
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Parameters of `GET /v1/explain`.
#[derive(Debug, Deserialize)]
pub struct ExplainParams {
    filter: Option<String>,
}

/// `GET /v1/explain`: how a filter parses and which index answers it.
pub async fn explain(caller: Caller, Query(p): Query<ExplainParams>) -> Result<Response, Problem> {
    let f = effective_filter(&caller, p.filter.as_deref(), None, None)?;
    Ok((StatusCode::OK, auditlog_query::explain(&f)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_filter::Subject;
    use auditlog_model::fields::extract;

    fn subject_matches(f: &Filter, path: &str) -> bool {
        let bytes = std::fs::read(format!(
            "{}/../../tests/data/seed-examples/{path}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let r = auditlog_model::Record::parse(&bytes).unwrap();
        let fields = extract(&r);
        f.matches(&Subject {
            fields: &fields,
            id: r.id.as_deref(),
            canonical: &bytes,
        })
    }

    #[test]
    fn a_tenant_scoped_caller_sees_only_its_organization() {
        let org = "3bd538c6-caa8-42ec-b60b-00bbf2e749f1";
        let mine = Caller {
            id: "k1".into(),
            scope: Scope::Organization(org.into()),
        };
        let other = Caller {
            id: "k2".into(),
            scope: Scope::Organization("someone-else".into()),
        };
        let file = "connector-05-DeleteConnector-success.json";
        for (filter, from) in [
            (None, None),
            (Some("method = DeleteConnector"), None),
            (Some("NOT organization = x"), Some("2000-01-01")),
        ] {
            assert!(
                subject_matches(&effective_filter(&mine, filter, from, None).unwrap(), file),
                "{filter:?}"
            );
            // An OR in the caller's filter cannot widen the scope.
            let widened = filter.map(|f| format!("{f} OR organization = {org}"));
            assert!(
                !subject_matches(
                    &effective_filter(&other, widened.as_deref(), from, None).unwrap(),
                    file
                ),
                "{filter:?}"
            );
        }
        let admin = Caller {
            id: "root".into(),
            scope: Scope::All,
        };
        assert!(subject_matches(
            &effective_filter(&admin, None, None, None).unwrap(),
            file
        ));
    }

    #[test]
    fn bad_parameters_name_the_parameter() {
        let c = Caller {
            id: "a".into(),
            scope: Scope::All,
        };
        let e = effective_filter(&c, Some("methd = X"), None, None).unwrap_err();
        assert_eq!(e.errors[0].path, "filter");
        assert!(
            e.errors[0].message.contains("did you mean `method`"),
            "{}",
            e.errors[0].message
        );
        let e = effective_filter(&c, None, Some("last tuesday"), None).unwrap_err();
        assert_eq!(e.errors[0].path, "from");
    }
}
