//! The one filter language of auditlog: parser, canonical printer and
//! reference evaluator for expressions such as
//! `method = DeleteConnector AND resource_id = lcc-23orvm`.
//!
//! The HTTP query API, the CLI, the live tail and (later) routing and
//! retention rules all accept exactly this language, so a filter means the
//! same thing wherever it is typed. [`Filter::matches`] is the reference
//! semantics: it evaluates a filter by brute force over the fields that
//! `auditlog_model::fields::extract` gives a record, and any index-backed
//! evaluation must agree with it. The grammar and every field are described
//! in `docs/filter-language.md`.
//!
//! This crate is pure: no I/O and no threads. [`parse`] reads the system clock
//! once, to resolve relative times such as `-1h`; [`parse_at`] does not.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod display;
mod eval;
mod glob;
mod names;
mod parser;
mod when;

pub use auditlog_model::fields::Field;
pub use glob::Glob;
pub use names::field_names;

use auditlog_model::fields::Fields;
use auditlog_model::Crn;

/// Parse a filter, resolving relative times (`-1h`, `now`) against the
/// current system time.
pub fn parse(src: &str) -> Result<Filter, FilterError> {
    parse_at(src, when::system_now_nanos())
}

/// Parse a filter, resolving relative times against `now_nanos`
/// (nanoseconds since the Unix epoch). Deterministic, for tests and replays.
pub fn parse_at(src: &str, now_nanos: i64) -> Result<Filter, FilterError> {
    let expr = parser::parse(src, now_nanos)?;
    Ok(Filter::with_source(expr, src.to_owned()))
}

/// Parse a time as the filter language writes it (RFC 3339, a date, `now`,
/// or relative like `-1h`), for API parameters such as `from` and `to`.
/// Returns nanoseconds since the epoch, or a message saying what is accepted.
pub fn parse_time(v: &str) -> Result<i64, String> {
    when::parse(v.trim(), when::system_now_nanos())
}

/// A parsed filter: its expression tree and the text it was parsed from.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The expression. Relative times are already resolved to instants.
    pub expr: Expr,
    source: String,
    /// The `within` scopes of `expr`, parsed once here rather than once per
    /// record. A scope missing from this list (because `expr` was edited
    /// after parsing) is parsed when it is evaluated.
    scopes: Vec<(String, Crn)>,
}

impl Filter {
    /// A filter for an expression built in code. Its source is the
    /// expression's canonical text.
    pub fn from_expr(expr: Expr) -> Filter {
        let source = expr.to_string();
        Filter::with_source(expr, source)
    }

    fn with_source(expr: Expr, source: String) -> Filter {
        let mut scopes = Vec::new();
        eval::collect_scopes(&expr, &mut scopes);
        Filter {
            expr,
            source,
            scopes,
        }
    }

    /// The text the filter was parsed from, as given.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the record described by `s` satisfies the filter. This
    /// brute-force evaluation is the reference semantics of the language.
    pub fn matches(&self, s: &Subject<'_>) -> bool {
        eval::eval(&self.expr, s, &self.scopes)
    }

    /// Whether the filter accepts every record without looking at it: the
    /// empty filter, `*`, and conjunctions of those. Callers skip evaluation
    /// (and index lookups) entirely in that case.
    pub fn is_trivially_true(&self) -> bool {
        trivially_true(&self.expr)
    }

    /// The parse tree, one node per line, children indented by two spaces,
    /// e.g. `AND\n  method = "DeleteConnector"\n  time >= 2026-11-22T00:00:00Z`.
    pub fn explain(&self) -> String {
        display::explain(&self.expr)
    }
}

fn trivially_true(e: &Expr) -> bool {
    match e {
        Expr::True => true,
        Expr::And(xs) => xs.iter().all(trivially_true),
        Expr::Or(xs) => xs.iter().any(trivially_true),
        Expr::Not(_) | Expr::Leaf(_) => false,
    }
}

/// What a filter is evaluated against: one record's index fields, its id and
/// its canonical JSON bytes (for free text).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The record's fields, from `auditlog_model::fields::extract`.
    pub fields: &'a Fields,
    /// The record's CloudEvents `id`.
    pub id: Option<&'a str>,
    /// The record's canonical JSON bytes, as stored.
    pub canonical: &'a [u8],
}

/// A filter expression. The parser never produces `And` or `Or` with fewer
/// than two children, and keeps parenthesised groups as nested nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Every record: the empty filter or `*`.
    True,
    /// All children hold.
    And(Vec<Expr>),
    /// At least one child holds.
    Or(Vec<Expr>),
    /// The child does not hold.
    Not(Box<Expr>),
    /// A single test.
    Leaf(Leaf),
}

/// A single test on a record. Multi-valued fields use any-value semantics:
/// the test holds when at least one of the field's values passes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Leaf {
    /// The field has a value equal to one of `values` (exact, case-sensitive).
    /// `=` gives one value, `IN` gives several.
    Eq {
        /// The field tested.
        field: Field,
        /// Accepted values; for `Resource` and `Scope` in canonical CRN form.
        values: Vec<String>,
    },
    /// The field has a value matching the glob, case-insensitively (`:`).
    /// `*` matches any run, `?` one character; without wildcards this is
    /// case-insensitive equality.
    Glob {
        /// The field tested.
        field: Field,
        /// The pattern, lower-cased.
        pattern: Glob,
    },
    /// The record's target CRN (the `Field::Resource` value) lies within this
    /// scope, by `Crn::is_within`.
    Within {
        /// The scope, as canonical CRN text.
        scope: String,
    },
    /// Some client IP (a `Field::ClientIp` value) lies in the network.
    Cidr {
        /// The network address as `ip_number` gives it (IPv4 as
        /// `::ffff:a.b.c.d`), host bits cleared.
        net: u128,
        /// The prefix length in that 128-bit space (IPv4 prefixes + 96).
        prefix: u8,
    },
    /// The record's time compared with `nanos` (nanoseconds since the epoch).
    /// Records without a parseable time never match.
    Time {
        /// How the record's time must compare with `nanos`.
        op: Cmp,
        /// The bound.
        nanos: i64,
    },
    /// Some error code (a `Field::ErrorCode` value read as an integer)
    /// compares with `value`. `error_code = 404` is an [`Leaf::Eq`] on the text.
    Code {
        /// How the code must compare with `value`.
        op: Cmp,
        /// The bound.
        value: i64,
    },
    /// The record's id equals `value`.
    Id {
        /// The id.
        value: String,
    },
    /// Free text: the words occur consecutively among the record's words.
    Text {
        /// Lower-cased words, as `auditlog_model::fields::query_words` splits them.
        words: Vec<String>,
    },
}

/// An ordering comparison: `record_value op bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    /// Whether `lhs op rhs`.
    pub fn holds(self, lhs: i64, rhs: i64) -> bool {
        match self {
            Cmp::Lt => lhs < rhs,
            Cmp::Le => lhs <= rhs,
            Cmp::Gt => lhs > rhs,
            Cmp::Ge => lhs >= rhs,
        }
    }

    /// The operator as written: `<`, `<=`, `>` or `>=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// Why a filter does not parse: where (1-based column, counted in
/// characters), what, and when we can tell, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}{}", .hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
pub struct FilterError {
    /// 1-based column of the character where the mistake starts.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it, e.g. "did you mean `method`?".
    pub hint: Option<String>,
}
