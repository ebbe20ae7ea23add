//! Reading records back, byte for byte as stored:
//! `GET /v1/events/{offset}` and `GET /v1/events?id=…[&source=…]`.

struct ListParams {
    id: Option<String>,
    source: Option<String>,
}

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

fn record_response(offset: u64, bytes: Vec<u8>, matches: Option<usize>) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cloudevents+json"),
    );
    h.insert("x-auditlog-offset", HeaderValue::from(offset));
    if let Some(n) = matches {
        h.insert("x-auditlog-matches", HeaderValue::from(n as u64));
    }
    r
}

pub(crate) fn organization_of(bytes: &[u8]) -> Option<String> {
    auditlog_model::Record::parse(bytes).ok()?.organization()
}

/// Run blocking store work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
}

/// `GET /v1/events/{offset}`
pub async fn get_by_offset(
    State(state): State<AppState>,
    caller: Caller,
    Path(offset): Path<String>,
) -> Result<Response, Problem> {
    let offset: u64 = offset.parse().map_err(|_| {
        Problem::bad_request(
            "bad-offset",
            format!("offset {offset:?} is not a non-negative integer"),
        )
    })?;
    let store = state.store.clone();
    let bytes = blocking(move || {
        store
            .get(offset)
            .map_err(|e| Problem::unavailable(e.to_string()))
    })
    .await?;
    let committed = state.store.committed();
    match bytes {
        Some(b) if caller.may_read(organization_of(&b).as_deref()) => {
            Ok(record_response(offset, b, None))
        }
        _ => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "no record at offset {offset}; the log holds offsets 0 to {}",
                committed.saturating_sub(1)
            ),
        )),
    }
}

/// `GET /v1/events?id=…[&source=…]`: the oldest record with that id (and
/// source); `X-Auditlog-Matches` says how many there are.
pub async fn by_id(
    state: AppState,
    caller: Caller,
    id: Option<String>,
    source: Option<String>,
) -> Result<Response, Problem> {
    let p = ListParams { id, source };
    let Some(id) = p.id.filter(|i| !i.is_empty()) else {
        return Err(Problem::bad_request("missing-id", "give ?id=ID (and optionally &source=SOURCE), or read one offset with GET /v1/events/{offset}"));
    };
    let store = state.store.clone();
    let (id2, source) = (id.clone(), p.source.clone());
    let found = blocking(move || {
        store
            .find_by_id(&id2, source.as_deref())
            .map_err(|e| Problem::unavailable(e.to_string()))
    })
    .await?;
    let visible: Vec<_> = found
        .into_iter()
        .filter(|(_, b)| caller.may_read(organization_of(b).as_deref()))
        .collect();
    let n = visible.len();
    match visible.into_iter().next() {
        Some((off, b)) => Ok(record_response(off, b, Some(n))),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!(
                "no record has id {id:?}{}",
                p.source
                    .map(|s| format!(" and source {s:?}"))
                    .unwrap_or_default()
            ),
        )),
    }
}
