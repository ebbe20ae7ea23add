//! Evaluate a filter over one block's index: a candidate set per node, and
//! whether it is exact. Inexact candidates (hash or Bloom based leaves, and
//! complements of inexact sets) are later verified against record bytes with
//! the filter's own evaluator, so answers always equal brute force.

use auditlog_filter::{Expr, Leaf};
use auditlog_model::fields::{id_hash, ip_number, Field, FieldKind};
use auditlog_model::words::word_hash;
use auditlog_store::block::words::GROUP_RECORDS;
use auditlog_store::meta::MetaError;

use crate::access::Access;
use crate::bits::Bits;

/// Three-valued answer for one block: records that surely match, and
/// records that may match and must be verified. The two sets are disjoint.
#[derive(Debug, Clone)]
pub struct Candidates {
    pub sure: Bits,
    pub maybe: Bits,
}

impl Candidates {
    /// Whether no record needs verification.
    pub fn exact(&self) -> bool {
        self.maybe.is_empty()
    }

    /// Sure and maybe together.
    pub fn any(&self) -> Bits {
        let mut b = self.sure.clone();
        b.or(&self.maybe);
        b
    }
}

/// Evaluate `e` over the block behind `a`.
pub fn eval(e: &Expr, a: &mut dyn Access) -> Result<Candidates, MetaError> {
    let n = a.len();
    Ok(match e {
        Expr::True => exact(Bits::all(n)),
        Expr::Leaf(l) => leaf(l, a)?,
        Expr::Not(c) => {
            // Records outside the child's candidates surely fail the child,
            // so they surely match; the child's maybes stay maybes.
            let r = eval(c, a)?;
            let mut sure = r.any();
            sure.not();
            Candidates {
                sure,
                maybe: r.maybe,
            }
        }
        Expr::And(cs) => {
            // Cheap, often block-pruning tests first: time bounds use the
            // block's zone map and can empty the set before any posting read.
            let mut order: Vec<&Expr> = cs.iter().collect();
            order.sort_by_key(|c| cost(c));
            let mut sure = Bits::all(n);
            let mut any = Bits::all(n);
            for c in order {
                let r = eval(c, a)?;
                sure.and(&r.sure);
                any.and(&r.any());
                if any.is_empty() {
                    break;
                }
            }
            let mut maybe = any;
            maybe.and_not(&sure);
            Candidates { sure, maybe }
        }
        Expr::Or(cs) => {
            let mut sure = Bits::none(n);
            let mut maybe = Bits::none(n);
            for c in cs {
                let r = eval(c, a)?;
                sure.or(&r.sure);
                maybe.or(&r.maybe);
                if sure.is_full() {
                    break;
                }
            }
            maybe.and_not(&sure);
            Candidates { sure, maybe }
        }
    })
}

/// Rough evaluation cost, for ordering AND children.
fn cost(e: &Expr) -> u8 {
    match e {
        Expr::Leaf(Leaf::Time { .. }) => 0,
        Expr::Leaf(Leaf::Eq { .. } | Leaf::Within { .. }) => 1,
        Expr::Leaf(Leaf::Code { .. } | Leaf::Glob { .. }) => 2,
        Expr::Leaf(Leaf::Text { .. }) => 3,
        Expr::True => 0,
        _ => 4,
    }
}

fn exact(bits: Bits) -> Candidates {
    let n = bits.len();
    Candidates {
        sure: bits,
        maybe: Bits::none(n),
    }
}

fn inexact(bits: Bits) -> Candidates {
    let n = bits.len();
    Candidates {
        sure: Bits::none(n),
        maybe: bits,
    }
}

fn leaf(l: &Leaf, a: &mut dyn Access) -> Result<Candidates, MetaError> {
    let n = a.len();
    Ok(match l {
        Leaf::Eq { field, values } => {
            let mut bits = Bits::none(n);
            let mut is_exact = true;
            for v in values {
                let (b, e) = equal(*field, v, a)?;
                bits.or(&b);
                is_exact &= e;
            }
            if is_exact {
                exact(bits)
            } else {
                inexact(bits)
            }
        }
        Leaf::Glob { field, pattern } => match field.kind() {
            FieldKind::Dictionary => {
                let ids: Vec<u32> = a
                    .dict()
                    .entries(*field)
                    .filter(|(_, v)| pattern.matches(v))
                    .map(|(id, _)| id)
                    .collect();
                let mut bits = Bits::none(n);
                for id in ids {
                    bits.or(&a.postings(*field, id)?);
                }
                exact(bits)
            }
            FieldKind::Term => {
                let mut bits = Bits::none(n);
                for (v, b) in a.term_values(*field)? {
                    if pattern.matches(&v) {
                        bits.or(&b);
                    }
                }
                exact(bits)
            }
            // Addresses are kept as numbers; match their text on the record.
            FieldKind::Column => inexact(Bits::all(n)),
        },
        Leaf::Within { scope } => exact(a.term(Field::Scope, scope)?),
        Leaf::Cidr { net, prefix } => {
            let mask = if *prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from((*prefix).min(128)))
            };
            let mut bits = Bits::from_positions(
                n,
                a.ips()?
                    .iter()
                    .enumerate()
                    .filter(|(_, ip)| **ip != 0 && **ip & mask == *net)
                    .map(|(i, _)| i),
            );
            for (v, b) in a.term_values(Field::ClientIp)? {
                if ip_number(&v).is_some_and(|ip| ip & mask == *net) {
                    bits.or(&b);
                }
            }
            inexact(bits)
        }
        Leaf::Time { op, nanos } => {
            let (lo, hi) = a.time_range();
            // Zone map: the whole block passes or fails on its bounds alone
            // (`lo` is NO_TIME when some record has no time).
            if lo > hi || (!op.holds(lo, *nanos) && !op.holds(hi, *nanos)) {
                return Ok(exact(Bits::none(n)));
            }
            if lo != auditlog_store::block::NO_TIME && op.holds(lo, *nanos) && op.holds(hi, *nanos)
            {
                return Ok(exact(Bits::all(n)));
            }
            let times = a.times()?;
            exact(Bits::from_positions(
                n,
                times
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| **t != auditlog_store::block::NO_TIME && op.holds(**t, *nanos))
                    .map(|(i, _)| i),
            ))
        }
        Leaf::Code { op, value } => {
            let ids: Vec<u32> = a
                .dict()
                .entries(Field::ErrorCode)
                .filter(|(_, v)| v.trim().parse::<i64>().is_ok_and(|c| op.holds(c, *value)))
                .map(|(id, _)| id)
                .collect();
            let mut bits = Bits::none(n);
            for id in ids {
                bits.or(&a.postings(Field::ErrorCode, id)?);
            }
            exact(bits)
        }
        Leaf::Id { value } => {
            let h = id_hash(value);
            inexact(Bits::from_positions(
                n,
                a.id_hashes()?
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| **x == h)
                    .map(|(i, _)| i),
            ))
        }
        Leaf::Text { words } => {
            if words.is_empty() {
                return Ok(exact(Bits::all(n)));
            }
            let mut groups: Option<Vec<usize>> = None;
            for w in words {
                let g = a.word_groups(word_hash(w))?;
                groups = Some(match groups {
                    None => g,
                    Some(prev) => prev
                        .into_iter()
                        .filter(|x| g.binary_search(x).is_ok())
                        .collect(),
                });
            }
            let mut bits = Bits::none(n);
            for g in groups.unwrap_or_default() {
                for i in g * GROUP_RECORDS..(g + 1) * GROUP_RECORDS {
                    bits.set(i);
                }
            }
            inexact(bits)
        }
    })
}

/// Records where `field` has value `v`, and whether that is exact.
fn equal(field: Field, v: &str, a: &mut dyn Access) -> Result<(Bits, bool), MetaError> {
    let n = a.len();
    Ok(match field.kind() {
        FieldKind::Dictionary => match a.dict().id(field, v) {
            Some(id) => (a.postings(field, id)?, true),
            None => (Bits::none(n), true),
        },
        FieldKind::Term => (a.term(field, v)?, true),
        FieldKind::Column => {
            // The first address is a number in the column (other spellings of
            // the same address collide there, hence verification); further
            // addresses are terms by their text.
            let mut bits = match ip_number(v) {
                Some(x) => Bits::from_positions(
                    n,
                    a.ips()?
                        .iter()
                        .enumerate()
                        .filter(|(_, ip)| **ip == x)
                        .map(|(i, _)| i),
                ),
                None => Bits::none(n),
            };
            bits.or(&a.term(Field::ClientIp, v)?);
            (bits, false)
        }
    })
}

/// Whether a comparison is used, for callers that want to know if a filter
/// reads times (see `plan`).
pub fn uses_time(e: &Expr) -> bool {
    match e {
        Expr::Leaf(Leaf::Time { .. }) => true,
        Expr::And(cs) | Expr::Or(cs) => cs.iter().any(uses_time),
        Expr::Not(c) => uses_time(c),
        _ => false,
    }
}
