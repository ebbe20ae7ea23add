//! The oracle: hundreds of random filters over a generated store of 100k+
//! records; every answer (listing in both orders, paginated, and counts by
//! group) must equal brute-force evaluation of the same filter over the
//! records in memory.

use std::collections::BTreeMap;

use auditlog_filter::{parse_at, Filter, Subject};
use auditlog_gen::{Config, Generator};
use auditlog_model::fields::{extract, Field, Fields};
use auditlog_model::{parse_record, Record};
use auditlog_query::{search, stats, Order, SearchRequest, StatsRequest};
use auditlog_store::{ConflictPolicy, Options, Prepared, Store};

const RECORDS: usize = 100_000;
const FILTERS: usize = 240;

struct Rec {
    bytes: Vec<u8>,
    fields: Fields,
    id: Option<String>,
}

/// Deterministic SplitMix64, so a failure names a reproducible filter.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Values seen in the data, per field, to build filters that match something.
struct Pool {
    values: BTreeMap<Field, Vec<String>>,
    words: Vec<String>,
    ids: Vec<String>,
    times: Vec<i64>,
}

fn pool(recs: &[Rec], rng: &mut Rng) -> Pool {
    let mut values: BTreeMap<Field, Vec<String>> = BTreeMap::new();
    let mut words = Vec::new();
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for _ in 0..400 {
        let r = &recs[rng.below(recs.len())];
        for (f, v) in r.fields.terms() {
            values.entry(f).or_default().push(v.to_owned());
        }
        let mut w = Vec::new();
        auditlog_model::words::json_words(std::str::from_utf8(&r.bytes).unwrap(), |x| {
            w.push(x.to_owned())
        });
        if !w.is_empty() {
            words.push(w[rng.below(w.len())].clone());
        }
        ids.extend(r.id.clone());
        times.extend(r.fields.time);
    }
    Pool {
        values,
        words,
        ids,
        times,
    }
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn name(rng: &mut Rng, f: Field) -> &'static str {
    let names: &[&str] = match f {
        Field::EventType => &["type", "eventType", "event_type"],
        Field::Service => &["service", "serviceName", "service_name"],
        Field::Method => &["method", "methodName", "method_name"],
        Field::Principal => &["principal", "user", "email", "identity"],
        Field::Organization => &["organization", "org", "organizationId"],
        Field::Environment => &["environment", "env", "environment_id"],
        Field::Resource => &["resource", "crn", "resourceName"],
        Field::ResourceType => &["resource_type", "resourceType"],
        Field::ResourceId => &["resource_id", "resourceId"],
        Field::Status => &["status"],
        Field::Access => &["access_type", "accessType"],
        Field::ClientIp => &["client_ip", "clientIp", "ip"],
        Field::ErrorCode => &["error_code", "errorCode"],
        Field::Source => &["source"],
        _ => &["wire_form"],
    };
    names[rng.below(names.len())]
}

fn glob_of(rng: &mut Rng, v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let cut = rng.below(chars.len().max(1));
    let head: String = chars[..cut.min(chars.len())].iter().collect();
    match rng.below(3) {
        0 => format!("{head}*"),
        1 => format!(
            "*{}",
            chars[cut.min(chars.len())..]
                .iter()
                .collect::<String>()
                .to_uppercase()
        ),
        _ => v.to_uppercase(),
    }
}

fn leaf(rng: &mut Rng, p: &Pool) -> String {
    let fields: Vec<Field> = p
        .values
        .keys()
        .copied()
        .filter(|f| *f != Field::Scope && *f != Field::WireForm)
        .collect();
    match rng.below(14) {
        0 => {
            let scopes = &p.values[&Field::Scope];
            format!("crn within {}", rng.pick(scopes))
        }
        1 => quote(rng.pick::<String>(&p.words)),
        2 => {
            let t = *rng.pick(&p.times);
            let op = *rng.pick(&[">", ">=", "<", "<="]);
            let ts = auditlog_model::Timestamp::from_unix_nanos(i128::from(t)).to_rfc3339_nanos();
            format!("time {op} {ts}")
        }
        3 => format!("time > -{}m", 1 + rng.below(90)),
        4 => {
            let ips = p.values.get(&Field::ClientIp).cloned().unwrap_or_default();
            let ip = rng.pick(&ips).clone();
            match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(v4)) => {
                    let o = v4.octets();
                    format!("{} = {}.{}.0.0/16", name(rng, Field::ClientIp), o[0], o[1])
                }
                _ => format!("{} = {}", name(rng, Field::ClientIp), quote(&ip)),
            }
        }
        5 => format!(
            "error_code {} {}",
            *rng.pick(&[">=", "<", ">"]),
            *rng.pick(&[400, 403, 404, 500])
        ),
        6 => format!("id = {}", quote(rng.pick::<String>(&p.ids))),
        7 => {
            let f = *rng.pick(&fields);
            let vals = &p.values[&f];
            let n = 2 + rng.below(3);
            let list: Vec<String> = (0..n).map(|_| quote(rng.pick::<String>(vals))).collect();
            let not = if rng.below(4) == 0 { "NOT " } else { "" };
            format!("{} {not}IN ({})", name(rng, f), list.join(", "))
        }
        8 | 9 => {
            let f = *rng.pick(&fields);
            let v = rng.pick(&p.values[&f]).clone();
            format!("{}:{}", name(rng, f), quote(&glob_of(rng, &v)))
        }
        10 => {
            let f = *rng.pick(&fields);
            let v = rng.pick(&p.values[&f]).clone();
            format!("{} != {}", name(rng, f), quote(&v))
        }
        _ => {
            let f = *rng.pick(&fields);
            let v = rng.pick(&p.values[&f]).clone();
            format!("{} = {}", name(rng, f), quote(&v))
        }
    }
}

fn expr(rng: &mut Rng, p: &Pool, depth: usize) -> String {
    if depth == 0 || rng.below(3) == 0 {
        return leaf(rng, p);
    }
    let a = expr(rng, p, depth - 1);
    let b = expr(rng, p, depth - 1);
    match rng.below(5) {
        0 => format!("({a} OR {b})"),
        1 => format!("NOT ({a})"),
        2 => format!("{a} {b}"),
        _ => format!("({a}) AND ({b})"),
    }
}

fn brute(f: &Filter, recs: &[Rec]) -> Vec<u64> {
    recs.iter()
        .enumerate()
        .filter(|(_, r)| {
            f.matches(&Subject {
                fields: &r.fields,
                id: r.id.as_deref(),
                canonical: &r.bytes,
            })
        })
        .map(|(i, _)| i as u64)
        .collect()
}

fn listed(store: &Store, f: &Filter, order: Order, limit: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = search(
            store,
            &SearchRequest {
                filter: f.clone(),
                order,
                limit,
                cursor,
                from_offset: 0,
            },
        )
        .unwrap();
        for (off, bytes) in &page.records {
            assert_eq!(store.get(*off).unwrap().as_deref(), Some(&bytes[..]));
        }
        out.extend(page.records.iter().map(|r| r.0));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    if order == Order::Desc {
        out.reverse();
    }
    out
}

#[test]
fn random_filters_equal_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    // Small blocks: the store then holds sealed, frozen and active blocks.
    let store = Store::open(
        dir.path(),
        Options {
            block_records: 8192,
            ..Options::default()
        },
    )
    .unwrap();
    let mut recs = Vec::with_capacity(RECORDS);
    let mut gen = Generator::new(Config {
        seed: 7,
        ..Config::default()
    });
    while recs.len() < RECORDS {
        let batch: Vec<Prepared> = (0..2000)
            .map(|_| {
                Prepared::new(
                    parse_record(&gen.next_bytes()).unwrap(),
                    ConflictPolicy::Store,
                )
            })
            .collect();
        for p in &batch {
            let r = Record::parse(&p.canonical).unwrap();
            recs.push(Rec {
                bytes: p.canonical.clone(),
                fields: extract(&r),
                id: r.id.clone(),
            });
        }
        store.append(batch).unwrap();
    }
    assert_eq!(store.committed(), RECORDS as u64);
    let now = recs.iter().filter_map(|r| r.fields.time).max().unwrap() + 60_000_000_000;
    let mut rng = Rng(42);
    let pool = pool(&recs, &mut rng);
    let mut nonempty = 0;
    for i in 0..FILTERS {
        let src = expr(&mut rng, &pool, 3);
        if i % 40 == 0 {
            eprintln!("filter {i}: {src}");
        }
        let f = parse_at(&src, now)
            .unwrap_or_else(|e| panic!("filter {i} `{src}` does not parse: {e}"));
        let expected = brute(&f, &recs);
        nonempty += usize::from(!expected.is_empty());
        let limit = [7, 500, 100_000][i % 3];
        let order = if i % 2 == 0 { Order::Asc } else { Order::Desc };
        let got = listed(&store, &f, order, limit);
        assert_eq!(
            got.len(),
            expected.len(),
            "filter {i} `{src}`: count differs"
        );
        assert_eq!(got, expected, "filter {i} `{src}`: offsets differ");
        if i % 4 == 0 {
            let s = stats(
                &store,
                &StatsRequest {
                    filter: f.clone(),
                    group_by: Some(Field::Method),
                    interval: Some(3_600_000_000_000),
                    top: None,
                    failures: true,
                },
            )
            .unwrap();
            assert_eq!(
                s.total,
                expected.len() as u64,
                "filter {i} `{src}`: stats total"
            );
            let mut by: BTreeMap<Option<String>, (u64, u64)> = BTreeMap::new();
            for o in &expected {
                let r = &recs[*o as usize];
                let e = by
                    .entry(r.fields.values(Field::Method).next().map(str::to_owned))
                    .or_default();
                e.0 += 1;
                e.1 += u64::from(r.fields.values(Field::Status).next() == Some("FAILURE"));
            }
            let got: BTreeMap<Option<String>, (u64, u64)> = s
                .groups
                .iter()
                .map(|g| (g.key.clone(), (g.count, g.failures.unwrap())))
                .collect();
            assert_eq!(got, by, "filter {i} `{src}`: counts by method");
            assert_eq!(
                s.histogram.iter().map(|h| h.1).sum::<u64>(),
                expected.len() as u64
            );
        }
    }
    // The generated filters must exercise matches, not just empty answers.
    assert!(
        nonempty > FILTERS / 3,
        "only {nonempty} of {FILTERS} filters matched anything"
    );
}
