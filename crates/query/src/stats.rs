//! Aggregations: counts by a field, a time histogram, top-N and failure
//! rates. Blocks the filter keeps whole are answered from per-block rollups
//! written at seal time, so "count by method over everything" reads one
//! small row per block instead of every record.

use std::collections::BTreeMap;

use auditlog_filter::Filter;
use auditlog_model::fields::{Field, DENSE};
use auditlog_store::block::NO_TIME;
use auditlog_store::Store;
use rustc_hash::FxHashMap;

use crate::access::dense_index;
use crate::exec::{run, snapshot, Flow, Needs, Order, Work};
use crate::QueryError;

/// What to aggregate.
#[derive(Debug, Clone)]
pub struct StatsRequest {
    pub filter: Filter,
    /// Count per value of this field (one of [`DENSE`]).
    pub group_by: Option<Field>,
    /// Histogram bucket width, nanoseconds.
    pub interval: Option<i64>,
    /// Keep the N largest groups.
    pub top: Option<usize>,
    /// Also count `FAILURE` records per group.
    pub failures: bool,
}

/// One group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The value; `None` for records without one.
    pub key: Option<String>,
    pub count: u64,
    /// `FAILURE` records in the group, when asked for.
    pub failures: Option<u64>,
}

/// The answer.
#[derive(Debug, Clone, Default)]
pub struct StatsResult {
    /// Matching records.
    pub total: u64,
    /// Groups, largest first.
    pub groups: Vec<Group>,
    /// Groups before `top` was applied.
    pub group_count: usize,
    /// `(bucket start nanos, count)`, ascending.
    pub histogram: Vec<(i64, u64)>,
    /// Snapshot end.
    pub end: u64,
    /// Blocks answered from rollups alone.
    pub rollup_blocks: u64,
    pub work: Work,
}

/// Fields that can be grouped by, by name.
pub fn groupable() -> Vec<&'static str> {
    DENSE.iter().map(|f| f.name()).collect()
}

/// The field a `group_by` name means: a dense field by its name, camelCase
/// or snake_case, or a common alias.
pub fn group_field(name: &str) -> Result<Field, QueryError> {
    let key: String = name
        .chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    let key = match key.as_str() {
        "eventtype" => "type",
        "servicename" => "service",
        "methodname" => "method",
        "org" | "organizationid" => "organization",
        "env" | "environmentid" => "environment",
        "resultstatus" => "status",
        other => other,
    };
    DENSE
        .iter()
        .copied()
        .find(|f| f.name().replace('_', "") == key)
        .ok_or_else(|| QueryError::GroupBy(name.to_owned(), groupable().join(", ")))
}

/// Parse an interval such as `30s`, `5m`, `1h`, `1d`, `1w` into nanoseconds.
pub fn parse_interval(s: &str) -> Result<i64, QueryError> {
    let bad = || QueryError::Interval(s.to_owned());
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let secs: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(secs)
        .and_then(|x| x.checked_mul(1_000_000_000))
        .filter(|x| *x > 0)
        .ok_or_else(bad)
}

/// Aggregate the records matching the request.
pub fn stats(store: &Store, req: &StatsRequest) -> Result<StatsResult, QueryError> {
    let group_col = match req.group_by {
        Some(f) => Some(
            dense_index(f)
                .ok_or_else(|| QueryError::GroupBy(f.name().into(), groupable().join(", ")))?,
        ),
        None => None,
    };
    let status_col = dense_index(Field::Status);
    let mut needs = Needs {
        times: req.interval.is_some(),
        dense: group_col.into_iter().collect(),
    };
    if req.failures {
        needs.dense.extend(status_col);
    }
    let (snap, dict) = snapshot(store, &req.filter, 0, &needs)?;
    let failure_id = dict.id(Field::Status, "FAILURE");
    let mut counts: FxHashMap<u32, (u64, u64)> = FxHashMap::default();
    let mut hist: BTreeMap<i64, u64> = BTreeMap::new();
    let mut out = StatsResult {
        end: snap.end,
        ..Default::default()
    };
    let mut work = Work::default();
    run(
        store,
        &snap,
        &dict,
        &req.filter,
        0,
        u64::MAX,
        Order::Asc,
        &mut work,
        |mut m| {
            let bits = m.verified()?;
            let n = bits.count() as u64;
            out.total += n;
            if n == 0 {
                return Ok(Flow::Continue(()));
            }
            let whole = bits.is_full();
            if let Some(i) = group_col {
                if whole && !req.failures {
                    out.rollup_blocks += 1;
                    for (id, c) in m.access.counts(i)? {
                        counts.entry(id).or_default().0 += u64::from(c);
                    }
                } else {
                    let col = m.access.dense(i)?;
                    let status = match (req.failures, status_col) {
                        (true, Some(s)) => m.access.dense(s)?,
                        _ => Vec::new(),
                    };
                    for r in bits.iter() {
                        let e = counts.entry(col.get(r).copied().unwrap_or(0)).or_default();
                        e.0 += 1;
                        if failure_id.is_some() && status.get(r).copied() == failure_id {
                            e.1 += 1;
                        }
                    }
                }
            }
            if let Some(w) = req.interval {
                let times = m.access.times()?;
                for r in bits.iter() {
                    if let Some(&t) = times.get(r).filter(|t| **t != NO_TIME) {
                        *hist.entry(t.div_euclid(w) * w).or_default() += 1;
                    }
                }
            }
            Ok(Flow::Continue(()))
        },
    )?;
    if let Some(f) = req.group_by {
        let mut groups: Vec<Group> = counts
            .into_iter()
            .map(|(id, (c, fl))| Group {
                key: (id != 0).then(|| dict.value(f, id).unwrap_or("").to_owned()),
                count: c,
                failures: req.failures.then_some(fl),
            })
            .collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        out.group_count = groups.len();
        if let Some(t) = req.top {
            groups.truncate(t);
        }
        out.groups = groups;
    }
    out.histogram = hist.into_iter().collect();
    out.work = work;
    Ok(out)
}
