//! `GET /v1/export/bundle`: a verifiable export (`auditlog-bundle/1`, see
//! `auditlog_tlog::bundle`) of the records a filter matches: a checkpoint
//! signed for this export, then each record with its offset and inclusion
//! proof against it. `auditlog verify BUNDLE --key …` checks it offline.

use auditlog_query::{search, Order, SearchRequest};
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::query::effective_filter;
use crate::read::blocking;
use crate::stream::channel;
use crate::AppState;

/// Records fetched per search page while collecting offsets.
const PAGE: usize = 5_000;

#[derive(Debug, Deserialize)]
pub(crate) struct BundleParams {
    filter: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Stream the bundle. The header needs the count, so matching offsets are
/// collected first (8 bytes each), then records and proofs are streamed.
pub(crate) async fn export(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    Query(p): Query<BundleParams>,
) -> Result<Response, Problem> {
    let filter = effective_filter(
        &caller,
        p.filter.as_deref(),
        p.from.as_deref(),
        p.to.as_deref(),
    )?;
    // Several nodes: the bundle comes from (and is signed by) a node whose
    // store holds everything the filter can match.
    #[cfg(feature = "kafka")]
    if let Some(r) = crate::cluster::route_read(&state, &filter, &uri, &headers).await? {
        return Ok(r);
    }
    #[cfg(not(feature = "kafka"))]
    let _ = (headers, uri);
    // A checkpoint covering everything committed now.
    let (cps, store) = (state.checkpoints.clone(), state.store.clone());
    let kept = blocking(move || {
        cps.publish(&store)
            .map_err(|e| Problem::unavailable(format!("signing a checkpoint for the export: {e}")))?
            .ok_or_else(|| Problem::unavailable("no checkpoint could be made"))
    })
    .await?;
    let store = state.store.clone();
    let size = kept.size;
    let offsets = blocking(move || {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = search(
                &store,
                &SearchRequest {
                    filter: filter.clone(),
                    order: Order::Asc,
                    limit: PAGE,
                    cursor,
                    from_offset: 0,
                },
            )
            .map_err(|e| Problem::bad_request("bad-filter", e.to_string()))?;
            out.extend(page.records.iter().map(|(o, _)| *o).filter(|o| *o < size));
            match page.next_cursor {
                Some(c) if page.records.last().is_some_and(|(o, _)| *o < size) => cursor = Some(c),
                _ => break,
            }
        }
        Ok(out)
    })
    .await?;
    let (tx, body) = channel();
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let header = auditlog_tlog::bundle::header_line(&kept.note, offsets.len() as u64);
        if tx.blocking_send(Bytes::from(header)).is_err() {
            return;
        }
        let mut chunk = Vec::with_capacity(1 << 20);
        for o in offsets {
            let line = match (store.get(o), store.inclusion_proof(o, size)) {
                (Ok(Some(bytes)), Ok(proof)) => {
                    auditlog_tlog::bundle::entry_line(o, &proof, &bytes)
                }
                (r, p) => {
                    // Headers are gone: end the body early; the count in
                    // the header makes the bundle fail verification.
                    tracing::error!(offset = o, record = ?r.err(), proof = ?p.err(), "bundle export stopped");
                    break;
                }
            };
            chunk.extend_from_slice(&line);
            if chunk.len() >= 1 << 20 {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(1 << 20));
                if tx.blocking_send(Bytes::from(full)).is_err() {
                    return;
                }
            }
        }
        let _ = tx.blocking_send(Bytes::from(chunk));
    });
    let mut r = Response::new(axum::body::Body::new(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    Ok(r.into_response())
}
