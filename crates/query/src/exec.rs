//! Run a filter over a store snapshot block by block: evaluate candidates
//! from the index, verify inexact ones against record bytes, and hand each
//! block's matches to a visitor in offset order (ascending or descending).

use std::sync::Arc;

use auditlog_filter::{Expr, Filter, Leaf, Subject};
use auditlog_model::fields::extract;
use auditlog_store::block::Block;
use auditlog_store::dict::Dict;
use auditlog_store::meta::MetaError;
use auditlog_store::{BlockMeta, Snapshot, Store};

use crate::access::{Access, Memory, Sealed};
use crate::bits::Bits;
use crate::eval::{eval, Candidates};
use crate::QueryError;

/// Offset order of results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// One block's matches: `sure` ones, and `maybe` ones that [`BlockMatches::check`]
/// verifies; the block's columns are available on demand.
pub struct BlockMatches<'a> {
    pub first: u64,
    pub sure: Bits,
    pub maybe: Bits,
    pub access: &'a mut dyn Access,
    verifier: &'a Verifier<'a>,
    work: &'a mut Work,
}

impl BlockMatches<'_> {
    /// Whether the record at block position `i` matches, verifying a maybe.
    pub fn check(&mut self, i: usize) -> Result<bool, QueryError> {
        if self.sure.get(i) {
            return Ok(true);
        }
        if !self.maybe.get(i) {
            return Ok(false);
        }
        self.work.verified += 1;
        self.verifier.check(self.first + i as u64)
    }

    /// Sure and maybe positions, to be passed through [`BlockMatches::check`].
    pub fn candidates(&self) -> Bits {
        let mut b = self.sure.clone();
        b.or(&self.maybe);
        b
    }

    /// Every match, verifying all maybes.
    pub fn verified(&mut self) -> Result<Bits, QueryError> {
        let mut bits = self.sure.clone();
        for i in self.maybe.clone().iter() {
            if self.check(i)? {
                bits.set(i);
            }
        }
        Ok(bits)
    }
}

impl std::fmt::Debug for BlockMatches<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockMatches")
            .field("first", &self.first)
            .field("sure", &self.sure.count())
            .field("maybe", &self.maybe.count())
            .finish()
    }
}

/// Work counters, for `explain` and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Blocks whose index was read.
    pub blocks: u64,
    /// Candidate records read and checked against the filter.
    pub verified: u64,
}

/// Whether to keep going after a block.
pub type Flow = std::ops::ControlFlow<()>;

/// The active block, evaluated under the index lock: its candidates and
/// copies of the columns the visitor will want. Copying the whole block
/// would cost more than most queries.
#[derive(Debug)]
pub struct ActiveEval {
    first: u64,
    len: usize,
    cand: Result<Candidates, String>,
    times: Vec<i64>,
    dense: Vec<(usize, Vec<u32>)>,
}

/// What the visitor will read from matched blocks.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    pub times: bool,
    pub dense: Vec<usize>,
}

/// Take a snapshot of the store for `filter` over offsets `lo..`.
pub fn snapshot(
    store: &Store,
    filter: &Filter,
    lo: u64,
    needs: &Needs,
) -> Result<(Snapshot<Option<ActiveEval>>, Dict), QueryError> {
    let snap = store.snapshot(|active, dict, end| {
        if !(active.first_offset < end && active.end_offset() > lo) {
            return None;
        }
        let len = usize::try_from(end.min(active.end_offset()) - active.first_offset).unwrap_or(0);
        let mut a = Memory {
            block: active,
            dict,
            len,
        };
        let cand = eval(&filter.expr, &mut a).map_err(|e| e.to_string());
        let times = if needs.times {
            a.times().unwrap_or_default()
        } else {
            Vec::new()
        };
        let dense = needs
            .dense
            .iter()
            .map(|i| (*i, a.dense(*i).unwrap_or_default()))
            .collect();
        Some(ActiveEval {
            first: active.first_offset,
            len,
            cand,
            times,
            dense,
        })
    })?;
    // A copy, so the writer is never blocked behind a long query.
    let dict = store.with_dict(|d| d.clone())?;
    Ok((snap, dict))
}

/// The copied columns of the active block, as an [`Access`] for visitors.
struct Copied<'a> {
    eval: &'a ActiveEval,
    dict: &'a Dict,
}

impl Access for Copied<'_> {
    fn first(&self) -> u64 {
        self.eval.first
    }
    fn len(&self) -> usize {
        self.eval.len
    }
    fn time_range(&self) -> (i64, i64) {
        (i64::MIN, i64::MAX)
    }
    fn dict(&self) -> &Dict {
        self.dict
    }
    fn postings(&mut self, _: auditlog_model::fields::Field, _: u32) -> Result<Bits, MetaError> {
        Ok(Bits::none(self.eval.len))
    }
    fn term(&mut self, _: auditlog_model::fields::Field, _: &str) -> Result<Bits, MetaError> {
        Ok(Bits::none(self.eval.len))
    }
    fn term_values(
        &mut self,
        _: auditlog_model::fields::Field,
    ) -> Result<Vec<(String, Bits)>, MetaError> {
        Ok(Vec::new())
    }
    fn times(&mut self) -> Result<Vec<i64>, MetaError> {
        Ok(self.eval.times.clone())
    }
    fn ips(&mut self) -> Result<Vec<u128>, MetaError> {
        Ok(Vec::new())
    }
    fn id_hashes(&mut self) -> Result<Vec<u64>, MetaError> {
        Ok(Vec::new())
    }
    fn dense(&mut self, i: usize) -> Result<Vec<u32>, MetaError> {
        Ok(self
            .eval
            .dense
            .iter()
            .find(|(j, _)| *j == i)
            .map(|(_, c)| c.clone())
            .unwrap_or_default())
    }
    fn word_groups(&mut self, _: u64) -> Result<Vec<usize>, MetaError> {
        Ok(Vec::new())
    }
}

enum Part<'s> {
    Sealed(BlockMeta),
    Memory(Arc<Block>),
    Active(&'s ActiveEval),
}

impl Part<'_> {
    fn range(&self) -> (u64, u64) {
        match self {
            Part::Sealed(m) => (m.first_offset, m.end_offset()),
            Part::Memory(b) => (b.first_offset, b.end_offset()),
            Part::Active(a) => (a.first, a.first + a.len as u64),
        }
    }
}

/// Visit the matches of `filter` among offsets `lo..hi` of the snapshot,
/// block by block in `order`. Stops when `visit` says so.
#[allow(clippy::too_many_arguments)]
pub fn run(
    store: &Store,
    snap: &Snapshot<Option<ActiveEval>>,
    dict: &Dict,
    filter: &Filter,
    lo: u64,
    hi: u64,
    order: Order,
    work: &mut Work,
    mut visit: impl FnMut(BlockMatches<'_>) -> Result<Flow, QueryError>,
) -> Result<(), QueryError> {
    let hi = hi.min(snap.end);
    let mut parts: Vec<Part> = snap.sealed.iter().map(|m| Part::Sealed(*m)).collect();
    parts.extend(snap.frozen.iter().map(|b| Part::Memory(b.clone())));
    if let Some(a) = &snap.active {
        parts.push(Part::Active(a));
    }
    parts.retain(|p| {
        let (a, b) = p.range();
        a < hi && b > lo
    });
    if order == Order::Desc {
        parts.reverse();
    }
    let verifier = Verifier::new(store, filter);
    store.with_index_db(|conn| {
        let mut outcome: Result<(), QueryError> = Ok(());
        for p in &parts {
            let (first, end) = p.range();
            let len = usize::try_from(end.min(hi) - first).unwrap_or(0);
            let step = match p {
                Part::Sealed(m) => {
                    let mut a = Sealed::new(conn, *m, dict, len);
                    block(&verifier, &mut a, lo, work, &mut visit)
                }
                Part::Memory(b) => {
                    let mut a = Memory {
                        block: b,
                        dict,
                        len,
                    };
                    block(&verifier, &mut a, lo, work, &mut visit)
                }
                Part::Active(e) => match &e.cand {
                    Ok(c) => {
                        work.blocks += 1;
                        let mut a = Copied { eval: e, dict };
                        let mut c = c.clone();
                        let n = c.sure.len();
                        let keep = Bits::range(n, 0, len);
                        c.sure.and(&keep);
                        c.maybe.and(&keep);
                        finish(&verifier, &mut a, lo, c, work, &mut visit)
                    }
                    Err(msg) => Err(QueryError::Index(msg.clone())),
                },
            };
            match step {
                Ok(Flow::Continue(())) => {}
                Ok(Flow::Break(())) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        Ok(outcome)
    })??;
    Ok(())
}

fn block(
    v: &Verifier<'_>,
    a: &mut dyn Access,
    lo: u64,
    work: &mut Work,
    visit: &mut impl FnMut(BlockMatches<'_>) -> Result<Flow, QueryError>,
) -> Result<Flow, QueryError> {
    work.blocks += 1;
    let c = eval(&v.filter.expr, a)?;
    finish(v, a, lo, c, work, visit)
}

fn finish(
    v: &Verifier<'_>,
    a: &mut dyn Access,
    lo: u64,
    c: Candidates,
    work: &mut Work,
    visit: &mut impl FnMut(BlockMatches<'_>) -> Result<Flow, QueryError>,
) -> Result<Flow, QueryError> {
    let first = a.first();
    let Candidates {
        mut sure,
        mut maybe,
    } = c;
    let n = sure.len();
    let skip = usize::try_from(lo.saturating_sub(first)).unwrap_or(n);
    if skip > 0 {
        let keep = Bits::range(n, skip, n);
        sure.and(&keep);
        maybe.and(&keep);
    }
    visit(BlockMatches {
        first,
        sure,
        maybe,
        access: a,
        verifier: v,
        work,
    })
}

/// Checks stored records against a filter (the reference semantics), with
/// what can be worked out once per query worked out once.
struct Verifier<'a> {
    store: &'a Store,
    filter: &'a Filter,
    /// ASCII words of free-text tests the filter requires (at the top, or
    /// under a top-level AND).
    required: Vec<&'a str>,
}

impl<'a> Verifier<'a> {
    fn new(store: &'a Store, filter: &'a Filter) -> Verifier<'a> {
        fn text(e: &Expr) -> &[String] {
            match e {
                Expr::Leaf(Leaf::Text { words }) => words,
                _ => &[],
            }
        }
        let words: Vec<&String> = match &filter.expr {
            Expr::And(cs) => cs.iter().flat_map(text).collect(),
            other => text(other).iter().collect(),
        };
        let required = words
            .into_iter()
            .map(String::as_str)
            .filter(|w| w.is_ascii())
            .collect();
        Verifier {
            store,
            filter,
            required,
        }
    }

    /// Whether the record at `offset` matches.
    fn check(&self, offset: u64) -> Result<bool, QueryError> {
        let Some(bytes) = self.store.get(offset)? else {
            return Ok(false);
        };
        if !self.required_words_present(&bytes) {
            return Ok(false);
        }
        Ok(matches_bytes(self.filter, &bytes))
    }

    /// A cheap necessary condition: every required word occurs in the bytes,
    /// ignoring ASCII case. Stored bytes are canonical JSON, which escapes
    /// only control characters, so a record containing the word contains it
    /// literally. Most candidates from word filters fail here unparsed.
    fn required_words_present(&self, bytes: &[u8]) -> bool {
        if self.required.is_empty() {
            return true;
        }
        let lower = bytes.to_ascii_lowercase();
        self.required
            .iter()
            .all(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
    }
}

/// The filter's verdict on stored bytes; records that no longer parse match
/// only the empty filter.
pub fn matches_bytes(filter: &Filter, bytes: &[u8]) -> bool {
    match auditlog_model::Record::parse(bytes) {
        Ok(r) => {
            let fields = extract(&r);
            filter.matches(&Subject {
                fields: &fields,
                id: r.id.as_deref(),
                canonical: bytes,
            })
        }
        Err(_) => filter.is_trivially_true(),
    }
}
