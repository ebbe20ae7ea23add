//! Listing matching records, a page at a time, byte for byte as stored.

use auditlog_filter::{Cmp, Expr, Filter, Leaf};
use auditlog_store::Store;

use crate::cursor::Cursor;
use crate::exec::{run, snapshot, Flow, Needs, Order, Work};
use crate::QueryError;

/// What to list.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub filter: Filter,
    pub order: Order,
    /// Records per page (at least 1).
    pub limit: usize,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<Cursor>,
    /// Only offsets at or past this one (live tail resumes here).
    pub from_offset: u64,
}

/// One page of results.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// `(offset, stored bytes)` in the requested order.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Present when more records match.
    pub next_cursor: Option<Cursor>,
    /// Snapshot end: the listing covers offsets below it.
    pub end: u64,
    pub work: Work,
}

/// `filter AND time >= from AND time < to`, for the API's `from`/`to`.
pub fn with_time_range(filter: Filter, from: Option<i64>, to: Option<i64>) -> Filter {
    let mut parts = Vec::new();
    if let Some(f) = from {
        parts.push(Expr::Leaf(Leaf::Time {
            op: Cmp::Ge,
            nanos: f,
        }));
    }
    if let Some(t) = to {
        parts.push(Expr::Leaf(Leaf::Time {
            op: Cmp::Lt,
            nanos: t,
        }));
    }
    if parts.is_empty() {
        return filter;
    }
    if !filter.is_trivially_true() {
        parts.insert(0, filter.expr);
    }
    let expr = if parts.len() == 1 {
        parts.remove(0)
    } else {
        Expr::And(parts)
    };
    Filter::from_expr(expr)
}

/// One page of records matching the request.
pub fn search(store: &Store, req: &SearchRequest) -> Result<Page, QueryError> {
    let limit = req.limit.max(1);
    let (mut lo, mut hi) = (req.from_offset, u64::MAX);
    if let Some(c) = req.cursor {
        hi = c.end;
        match req.order {
            Order::Asc => lo = lo.max(c.last + 1),
            Order::Desc => hi = c.last,
        }
    }
    let (snap, dict) = snapshot(store, &req.filter, lo, &Needs::default())?;
    let end = req.cursor.map_or(snap.end, |c| c.end.min(snap.end));
    let mut offsets: Vec<u64> = Vec::new();
    let mut work = Work::default();
    run(
        store,
        &snap,
        &dict,
        &req.filter,
        lo,
        hi.min(end),
        req.order,
        &mut work,
        |mut m| {
            let cand = m.candidates();
            let it: Box<dyn Iterator<Item = usize>> = match req.order {
                Order::Asc => Box::new(cand.iter()),
                Order::Desc => Box::new(cand.iter().rev()),
            };
            for i in it {
                // Maybes are verified lazily, in result order, up to the limit.
                if !m.check(i)? {
                    continue;
                }
                offsets.push(m.first + i as u64);
                if offsets.len() > limit {
                    return Ok(Flow::Break(()));
                }
            }
            Ok(Flow::Continue(()))
        },
    )?;
    let more = offsets.len() > limit;
    offsets.truncate(limit);
    let mut records = Vec::with_capacity(offsets.len());
    for off in &offsets {
        if let Some(b) = store.get(*off)? {
            records.push((*off, b));
        }
    }
    let next_cursor = match (more, offsets.last()) {
        (true, Some(&last)) => Some(Cursor { end, last }),
        _ => None,
    };
    Ok(Page {
        records,
        next_cursor,
        end,
        work,
    })
}
