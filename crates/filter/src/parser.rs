//! The recursive-descent parser. It works on characters, not bytes, so that
//! error columns match what a person counts in their terminal.
//!
//! Lexing is context-sensitive: after an operator, everything up to
//! whitespace, `)` or `,` is the value, so CRNs, times, CIDRs and e-mail
//! addresses need no quoting even though they contain `=`, `:` and `/`.

use auditlog_model::fields::{canonical_crn, query_words};
use auditlog_model::suggest::nearest;
use auditlog_model::Crn;

use crate::names::{self, Target};
use crate::{eval, when, Cmp, Expr, Field, FilterError, Glob, Leaf};

/// Nesting deeper than this (parentheses plus NOTs) is refused, so a hostile
/// filter cannot exhaust the stack of the parser or of anything that walks
/// the tree recursively afterwards.
const MAX_DEPTH: usize = 64;

/// A comparison or membership operator after a field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Colon,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Within,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Colon => ":",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::Within => "within",
        }
    }

    fn cmp(self) -> Option<Cmp> {
        match self {
            Op::Lt => Some(Cmp::Lt),
            Op::Le => Some(Cmp::Le),
            Op::Gt => Some(Cmp::Gt),
            Op::Ge => Some(Cmp::Ge),
            _ => None,
        }
    }

    /// `!=` and `NOT IN` are the negations of `=` and `IN`.
    fn negated(self) -> bool {
        matches!(self, Op::Ne | Op::NotIn)
    }
}

const STRING_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Colon, Op::In, Op::NotIn];
const CRN_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Colon, Op::In, Op::NotIn, Op::Within];
const CODE_OPS: &[Op] = &[
    Op::Eq,
    Op::Ne,
    Op::Colon,
    Op::In,
    Op::NotIn,
    Op::Lt,
    Op::Le,
    Op::Gt,
    Op::Ge,
];
const TIME_OPS: &[Op] = &[Op::Gt, Op::Ge, Op::Lt, Op::Le];
const ID_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::In, Op::NotIn];
const TEXT_OPS: &[Op] = &[Op::Eq, Op::Ne, Op::Colon];

fn allowed(t: Target) -> &'static [Op] {
    match t {
        Target::Field(Field::Resource | Field::Scope) => CRN_OPS,
        Target::Field(Field::ErrorCode) => CODE_OPS,
        Target::Field(_) => STRING_OPS,
        Target::Time => TIME_OPS,
        Target::Id => ID_OPS,
        Target::Text => TEXT_OPS,
    }
}

/// The boolean keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    And,
    Or,
    Not,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn err(index: usize, message: impl Into<String>, hint: Option<String>) -> FilterError {
    FilterError {
        column: index + 1,
        message: message.into(),
        hint,
    }
}

/// A value as written, with the index of its first character.
struct Value {
    at: usize,
    text: String,
}

pub(crate) fn parse(src: &str, now: i64) -> Result<Expr, FilterError> {
    let mut p = Parser {
        c: src.chars().collect(),
        i: 0,
        now,
        depth: 0,
    };
    p.skip_ws();
    if p.peek().is_none() {
        return Ok(Expr::True);
    }
    let e = p.or_expr()?;
    p.skip_ws();
    match p.peek() {
        None => Ok(e),
        Some(')') => Err(err(p.i, "unexpected `)`", Some("it closes no `(`".into()))),
        Some(c) => Err(p.unexpected(c)),
    }
}

struct Parser {
    c: Vec<char>,
    i: usize,
    now: i64,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }

    fn text(&self, from: usize, to: usize) -> String {
        self.c.get(from..to).unwrap_or(&[]).iter().collect()
    }

    fn skip_ws(&mut self) {
        self.i = self.ws_end(self.i);
    }

    fn ws_end(&self, mut i: usize) -> usize {
        while self.at(i).is_some_and(char::is_whitespace) {
            i += 1;
        }
        i
    }

    fn ident_end(&self, i: usize) -> usize {
        if !self.at(i).is_some_and(is_ident_start) {
            return i;
        }
        let mut j = i + 1;
        while self.at(j).is_some_and(is_ident) {
            j += 1;
        }
        j
    }

    fn starts_with(&self, i: usize, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    fn unexpected(&self, c: char) -> FilterError {
        let hint = match c {
            ',' => Some("commas separate values inside IN (…)".to_owned()),
            _ => Some("expected AND, OR, or another term".to_owned()),
        };
        err(self.i, format!("unexpected `{c}`"), hint)
    }

    /// The boolean keyword at `i`, and its length. Word keywords must end at
    /// a boundary, so `order` or `and-x` are free text.
    fn keyword(&self, i: usize) -> Option<(Kw, usize)> {
        if self.starts_with(i, "&&") {
            return Some((Kw::And, 2));
        }
        if self.starts_with(i, "||") {
            return Some((Kw::Or, 2));
        }
        if self.at(i) == Some('!') && self.at(i + 1) != Some('=') {
            return Some((Kw::Not, 1));
        }
        let end = self.ident_end(i);
        let boundary = match self.at(end) {
            None => true,
            Some(c) => c.is_whitespace() || matches!(c, '(' | ')' | '"' | '!'),
        };
        if !boundary {
            return None;
        }
        let w = self.text(i, end);
        let kw = if w.eq_ignore_ascii_case("and") {
            Kw::And
        } else if w.eq_ignore_ascii_case("or") {
            Kw::Or
        } else if w.eq_ignore_ascii_case("not") {
            Kw::Not
        } else {
            return None;
        };
        Some((kw, end - i))
    }

    /// Whether the next token can start a term (for implicit AND).
    fn at_term_start(&self) -> bool {
        match self.peek() {
            None | Some(')' | ',') => false,
            Some(_) => !matches!(self.keyword(self.i), Some((Kw::And | Kw::Or, _))),
        }
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut xs = vec![self.and_expr()?];
        loop {
            self.skip_ws();
            match self.keyword(self.i) {
                Some((Kw::Or, n)) => {
                    self.i += n;
                    xs.push(self.and_expr()?);
                }
                _ => break,
            }
        }
        Ok(if xs.len() == 1 {
            xs.pop().unwrap_or(Expr::True)
        } else {
            Expr::Or(xs)
        })
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut xs = vec![self.unary()?];
        loop {
            self.skip_ws();
            if let Some((Kw::And, n)) = self.keyword(self.i) {
                self.i += n;
                xs.push(self.unary()?);
            } else if self.at_term_start() {
                // Adjacent terms: `method=X status=FAILURE`.
                xs.push(self.unary()?);
            } else {
                break;
            }
        }
        Ok(if xs.len() == 1 {
            xs.pop().unwrap_or(Expr::True)
        } else {
            Expr::And(xs)
        })
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.i,
                format!("the filter nests more than {MAX_DEPTH} levels deep"),
                Some("remove redundant parentheses or NOTs".into()),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.skip_ws();
        match self.keyword(self.i) {
            Some((Kw::Not, n)) => {
                self.i += n;
                self.enter()?;
                let x = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(x)))
            }
            Some((_, n)) => {
                let word = self.text(self.i, self.i + n);
                Err(err(
                    self.i,
                    format!("expected a term before `{word}`"),
                    Some("AND and OR join two terms, as in `method = X AND status = FAILURE`; quote the word to search for it as text".into()),
                ))
            }
            None => self.primary(),
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        self.skip_ws();
        let start = self.i;
        match self.peek() {
            None => Err(err(
                start,
                "expected a term, found the end of the filter",
                Some("complete the expression after the last AND, OR or NOT".into()),
            )),
            Some('(') => {
                self.i += 1;
                self.enter()?;
                self.skip_ws();
                match self.peek() {
                    Some(')') => {
                        return Err(err(
                            start,
                            "empty parentheses",
                            Some("put a term inside, or remove them".into()),
                        ))
                    }
                    None => return Err(unclosed(start)),
                    _ => {}
                }
                let e = self.or_expr()?;
                self.skip_ws();
                match self.peek() {
                    Some(')') => self.i += 1,
                    None => return Err(unclosed(start)),
                    Some(c) => return Err(self.unexpected(c)),
                }
                self.depth -= 1;
                Ok(e)
            }
            Some(')') => Err(err(
                start,
                "expected a term before `)`",
                Some("complete the expression after the last AND, OR or NOT".into()),
            )),
            Some(c @ ',') => Err(self.unexpected(c)),
            Some('"') => {
                let s = self.quoted()?;
                text_leaf(&s, start)
            }
            Some(_) => self.term(),
        }
    }

    /// A field comparison, `*`, or a bare free-text word.
    fn term(&mut self) -> Result<Expr, FilterError> {
        let start = self.i;
        if self.peek() == Some('*')
            && self
                .at(start + 1)
                .is_none_or(|c| c.is_whitespace() || c == ')')
        {
            self.i += 1;
            return Ok(Expr::True);
        }
        let id_end = self.ident_end(start);
        // `word://…` is a URL typed as free text, not `word : //…`.
        if id_end > start && !self.starts_with(id_end, "://") {
            let op_at = self.ws_end(id_end);
            if let Some((op, len)) = self.operator(op_at) {
                let name = self.text(start, id_end);
                self.i = op_at + len;
                return self.field_term(&name, start, op, op_at);
            }
        }
        let mut end = start;
        while self
            .at(end)
            .is_some_and(|c| !c.is_whitespace() && c != '(' && c != ')')
        {
            end += 1;
        }
        self.i = end;
        text_leaf(&self.text(start, end), start)
    }

    /// The operator at `i`, and its length.
    fn operator(&self, i: usize) -> Option<(Op, usize)> {
        let two = (self.at(i), self.at(i + 1));
        match two {
            (Some('!'), Some('=')) => return Some((Op::Ne, 2)),
            // `==` is what programmers type; it means `=`.
            (Some('='), Some('=')) => return Some((Op::Eq, 2)),
            (Some('>'), Some('=')) => return Some((Op::Ge, 2)),
            (Some('<'), Some('=')) => return Some((Op::Le, 2)),
            (Some('>'), _) => return Some((Op::Gt, 1)),
            (Some('<'), _) => return Some((Op::Lt, 1)),
            (Some('='), _) => return Some((Op::Eq, 1)),
            (Some(':'), _) => return Some((Op::Colon, 1)),
            _ => {}
        }
        let end = self.ident_end(i);
        let w = self.text(i, end);
        if w.eq_ignore_ascii_case("in") {
            Some((Op::In, end - i))
        } else if w.eq_ignore_ascii_case("within") {
            Some((Op::Within, end - i))
        } else if w.eq_ignore_ascii_case("not") {
            let j = self.ws_end(end);
            if j == end {
                return None;
            }
            let k = self.ident_end(j);
            self.text(j, k)
                .eq_ignore_ascii_case("in")
                .then_some((Op::NotIn, k - i))
        } else {
            None
        }
    }

    fn field_term(
        &mut self,
        name: &str,
        name_at: usize,
        op: Op,
        op_at: usize,
    ) -> Result<Expr, FilterError> {
        let target = names::lookup(name).ok_or_else(|| unknown_field(name, name_at))?;
        if !allowed(target).contains(&op) {
            return Err(bad_operator(name, target, op, op_at));
        }
        let values = if matches!(op, Op::In | Op::NotIn) {
            self.list(op)?
        } else {
            vec![self.value(name, op)?]
        };
        let positive = self.build(target, op, values)?;
        Ok(if op.negated() {
            Expr::Not(Box::new(positive))
        } else {
            positive
        })
    }

    /// One value after an operator.
    fn value(&mut self, name: &str, op: Op) -> Result<Value, FilterError> {
        self.skip_ws();
        let at = self.i;
        match self.peek() {
            None | Some(')' | ',') => Err(err(
                at,
                format!("missing value after `{name} {}`", op.as_str()),
                Some(format!(
                    "write a value, e.g. `{name} {} …`; quote it if it is empty or has spaces",
                    op.as_str()
                )),
            )),
            Some('(') => Err(err(
                at,
                "unexpected `(`: a single value is expected here",
                Some(format!("for several values write `{name} IN (a, b)`")),
            )),
            Some(_) => self.scalar(),
        }
    }

    /// A quoted string or a bare run up to whitespace, `)` or `,`.
    fn scalar(&mut self) -> Result<Value, FilterError> {
        let at = self.i;
        if self.peek() == Some('"') {
            return Ok(Value {
                at,
                text: self.quoted()?,
            });
        }
        let mut end = at;
        while self
            .at(end)
            .is_some_and(|c| !c.is_whitespace() && c != ')' && c != ',')
        {
            end += 1;
        }
        self.i = end;
        Ok(Value {
            at,
            text: self.text(at, end),
        })
    }

    /// `"…"` with `\"` and `\\` escapes; any other backslash is kept as is.
    fn quoted(&mut self) -> Result<String, FilterError> {
        let start = self.i;
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(err(
                        start,
                        "unclosed string",
                        Some("add a closing `\"`; write `\\\"` for a quote inside".into()),
                    ))
                }
                Some('"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\\') => match self.at(self.i + 1) {
                    Some(c @ ('"' | '\\')) => {
                        out.push(c);
                        self.i += 2;
                    }
                    _ => {
                        out.push('\\');
                        self.i += 1;
                    }
                },
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `( value, value, … )` after IN.
    fn list(&mut self, op: Op) -> Result<Vec<Value>, FilterError> {
        self.skip_ws();
        let open = self.i;
        if self.peek() != Some('(') {
            return Err(err(
                open,
                format!("expected `(` after {}", op.as_str()),
                Some(format!(
                    "write a list, e.g. `method {} (CreateConnector, DeleteConnector)`",
                    op.as_str()
                )),
            ));
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Err(unclosed(open)),
                Some(')') if out.is_empty() => {
                    return Err(err(
                        self.i,
                        format!("empty list after {}", op.as_str()),
                        Some("give at least one value".into()),
                    ))
                }
                Some(')' | ',') => {
                    return Err(err(
                        self.i,
                        "missing value in list",
                        Some("remove the extra `,`".into()),
                    ))
                }
                Some('(') => {
                    return Err(err(
                        self.i,
                        "unexpected `(` in a list",
                        Some("lists do not nest; quote a value that starts with `(`".into()),
                    ))
                }
                Some(_) => out.push(self.scalar()?),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.i += 1,
                Some(')') => {
                    self.i += 1;
                    return Ok(out);
                }
                None => return Err(unclosed(open)),
                Some(c) => {
                    return Err(err(
                        self.i,
                        format!("expected `,` or `)` in the list, found `{c}`"),
                        Some("quote values that contain spaces".into()),
                    ))
                }
            }
        }
    }

    /// The leaf (or `OR` of leaves) an operator and its values stand for,
    /// before `!=` / `NOT IN` negation.
    fn build(&self, target: Target, op: Op, values: Vec<Value>) -> Result<Expr, FilterError> {
        let leaf = |l| Expr::Leaf(l);
        match target {
            Target::Time => {
                let v = single(values);
                let nanos = when::parse(&v.text, self.now)
                    .map_err(|m| err(v.at, m, Some(when::FORMS.into())))?;
                let op = op.cmp().unwrap_or(Cmp::Ge);
                Ok(leaf(Leaf::Time { op, nanos }))
            }
            Target::Id => Ok(any_of(
                values
                    .into_iter()
                    .map(|v| leaf(Leaf::Id { value: v.text }))
                    .collect(),
            )),
            Target::Text => {
                let v = single(values);
                text_leaf(&v.text, v.at)
            }
            Target::Field(field) => match op {
                Op::Colon => {
                    let v = single(values);
                    Ok(leaf(Leaf::Glob {
                        field,
                        pattern: Glob::new(&v.text),
                    }))
                }
                Op::Within => {
                    let v = single(values);
                    let scope = Crn::parse(&v.text).map_err(|e| {
                        err(
                            v.at,
                            e.to_string(),
                            Some("a scope is a CRN such as crn://confluent.cloud/organization=…/environment=env-abc123".into()),
                        )
                    })?;
                    Ok(leaf(Leaf::Within {
                        scope: scope.to_string(),
                    }))
                }
                Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                    let v = single(values);
                    let value = v.text.parse::<i64>().map_err(|_| {
                        err(
                            v.at,
                            format!("`{}` is not an integer", v.text),
                            Some(format!(
                                "`{}` compares error codes as numbers, e.g. `error_code >= 500`",
                                op.as_str()
                            )),
                        )
                    })?;
                    Ok(leaf(Leaf::Code {
                        op: op.cmp().unwrap_or(Cmp::Ge),
                        value,
                    }))
                }
                Op::Eq | Op::Ne | Op::In | Op::NotIn => eq_leaf(field, values),
            },
        }
    }
}

/// `=` / `IN` on a model field.
fn eq_leaf(field: Field, values: Vec<Value>) -> Result<Expr, FilterError> {
    match field {
        // Resource and scope values are canonical CRN text; so must the
        // compared value be, or `crn:///kafka=…` would never match.
        Field::Resource | Field::Scope => Ok(Expr::Leaf(Leaf::Eq {
            field,
            values: values
                .into_iter()
                .map(|v| canonical_crn(&v.text).unwrap_or(v.text))
                .collect(),
        })),
        Field::ClientIp => {
            let mut plain = Vec::new();
            let mut nets = Vec::new();
            for v in values {
                if v.text.contains('/') {
                    let (net, prefix) = cidr(&v.text).map_err(|m| {
                        err(
                            v.at,
                            format!("invalid CIDR `{}`: {m}", v.text),
                            Some("write a network as 10.0.0.0/8 or 2001:db8::/32".into()),
                        )
                    })?;
                    nets.push(Expr::Leaf(Leaf::Cidr { net, prefix }));
                } else {
                    plain.push(v.text);
                }
            }
            let mut xs = Vec::with_capacity(nets.len() + 1);
            if !plain.is_empty() {
                xs.push(Expr::Leaf(Leaf::Eq {
                    field,
                    values: plain,
                }));
            }
            xs.extend(nets);
            Ok(any_of(xs))
        }
        _ => Ok(Expr::Leaf(Leaf::Eq {
            field,
            values: values.into_iter().map(|v| v.text).collect(),
        })),
    }
}

/// The one value of a single-valued operator.
fn single(values: Vec<Value>) -> Value {
    values.into_iter().next().unwrap_or(Value {
        at: 0,
        text: String::new(),
    })
}

/// One expression, or the `OR` of several.
fn any_of(mut xs: Vec<Expr>) -> Expr {
    match xs.len() {
        0 => Expr::Not(Box::new(Expr::True)),
        1 => xs.pop().unwrap_or(Expr::True),
        _ => Expr::Or(xs),
    }
}

/// A network `addr/len` as the 128-bit prefix the IP column is compared with.
fn cidr(v: &str) -> Result<(u128, u8), String> {
    let (ip, len) = v.split_once('/').ok_or("missing `/prefix`")?;
    let addr: std::net::IpAddr = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an IP address"))?;
    let len: u8 = len
        .parse()
        .map_err(|_| format!("`{len}` is not a prefix length"))?;
    let (net, prefix) = match addr {
        std::net::IpAddr::V4(a) => {
            if len > 32 {
                return Err("an IPv4 prefix length is at most 32".into());
            }
            (u128::from(a.to_ipv6_mapped()), len + 96)
        }
        std::net::IpAddr::V6(a) => {
            if len > 128 {
                return Err("an IPv6 prefix length is at most 128".into());
            }
            (u128::from(a), len)
        }
    };
    Ok((net & eval::mask(prefix), prefix))
}

/// Free text: the phrase of `s`'s words.
fn text_leaf(s: &str, at: usize) -> Result<Expr, FilterError> {
    let words = query_words(s);
    if words.is_empty() {
        return Err(err(
            at,
            format!("no words to search for in `{s}`"),
            Some(
                "free text matches runs of letters and digits; `*` alone means every record".into(),
            ),
        ));
    }
    Ok(Expr::Leaf(Leaf::Text { words }))
}

fn unclosed(open: usize) -> FilterError {
    err(open, "unclosed `(`", Some("add a matching `)`".into()))
}

fn unknown_field(name: &str, at: usize) -> FilterError {
    let hint = match nearest(name, names::field_names().iter().copied()) {
        Some(n) => format!("did you mean `{n}`?"),
        None => format!(
            "fields are {}; to search for text, put it in double quotes",
            names::canonical_list()
        ),
    };
    err(at, format!("unknown field `{name}`"), Some(hint))
}

fn bad_operator(name: &str, target: Target, op: Op, at: usize) -> FilterError {
    let ops: Vec<&str> = allowed(target).iter().map(|o| o.as_str()).collect();
    let mut hint = format!("`{name}` takes {}", ops.join(", "));
    if target == Target::Time {
        hint.push_str(
            "; for a period write a range, e.g. `time >= 2026-11-22 AND time < 2026-11-23`",
        );
    } else if op == Op::Within {
        hint.push_str("; `within` works on resource and scope");
    } else if op.cmp().is_some() {
        hint.push_str("; only time and error_code compare by order");
    }
    err(
        at,
        format!("`{}` is not valid for `{name}`", op.as_str()),
        Some(hint),
    )
}
