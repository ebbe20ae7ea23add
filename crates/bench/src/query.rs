//! Query latency at scale: the 8 representative questions over N generated
//! records in the embedded store, p50/p99, against DuckDB (NDJSON and
//! Parquet) and jq answering the same questions over the same bytes in the
//! same run (`scripts/query_baselines.py`). Answers are compared, not just
//! timed: a fast wrong answer is a failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use auditlog_filter::Filter;
use auditlog_gen::{Config, Generator};
use auditlog_model::fields::Field;
use auditlog_model::{parse_record, Record, Timestamp};
use auditlog_query::search::with_time_range;
use auditlog_query::{search, stats, Order, SearchRequest, StatsRequest};
use auditlog_store::{ConflictPolicy, Options, Prepared, Store};
use serde_json::{json, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the store.
    #[arg(long, default_value_t = 10_000_000)]
    records: usize,
    /// Timed rounds per query for our engine (after one warm-up).
    #[arg(long, default_value_t = 21)]
    rounds: usize,
    /// Rounds per query for DuckDB.
    #[arg(long, default_value_t = 3)]
    duckdb_rounds: usize,
    /// jq runs over this many records (every k-th line) and is scaled up.
    #[arg(long, default_value_t = 1_000_000)]
    jq_subset: usize,
    /// Skip the baselines (our engine only).
    #[arg(long)]
    no_baselines: bool,
    /// Organizations (tenants) in the generated estate. The generator gives
    /// each one 18 principals and a few environments, so at 10M records the
    /// default of 200 makes a principal or an environment a realistic
    /// slice (~3k records), not 1/90th of the log.
    #[arg(long, default_value_t = 200)]
    orgs: usize,
    /// Where to keep the generated data (default: $CARGO_TARGET_DIR/bench-data).
    #[arg(long)]
    data: Option<PathBuf>,
}

fn data_root(args: &Args) -> PathBuf {
    args.data.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"))
            .join("bench-data")
    })
}

/// Build (once) the store and the NDJSON file of its exact stored bytes.
fn build(dir: &Path, ndjson: &Path, n: usize, orgs: usize) -> Result<()> {
    if ndjson.exists() && dir.join("FORMAT").exists() {
        let s = Store::open_read_only(dir)?;
        if s.committed() == n as u64 {
            return Ok(());
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    eprintln!(
        "building a {n}-record store in {} (one-time)",
        dir.display()
    );
    let store = Store::open(dir, Options::default())?;
    let tmp = ndjson.with_extension("tmp");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut gen = Generator::new(Config {
        seed: 3,
        organizations: orgs,
        ..Config::default()
    });
    let started = Instant::now();
    let mut done = 0;
    while done < n {
        let k = (n - done).min(4096);
        // Prepare on two threads: the store's writer is a third.
        let raw: Vec<Vec<u8>> = (0..k).map(|_| gen.next_bytes()).collect();
        let (a, b) = raw.split_at(k / 2);
        let prep = |xs: &[Vec<u8>]| -> Result<Vec<Prepared>> {
            xs.iter()
                .map(|r| Ok(Prepared::new(parse_record(r)?, ConflictPolicy::Store)))
                .collect()
        };
        let (pa, pb) = std::thread::scope(|s| {
            let h = s.spawn(|| prep(a));
            (h.join(), prep(b))
        });
        let mut items = pa.map_err(|_| anyhow::anyhow!("prepare thread panicked"))??;
        items.extend(pb?);
        for p in &items {
            w.write_all(&p.canonical)?;
            w.write_all(b"\n")?;
        }
        store.append(items)?;
        done += k;
        if done % 500_000 < 4096 {
            eprintln!(
                "  {done} records, {:.0}/s",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    w.flush()?;
    std::fs::rename(&tmp, ndjson)?;
    store.close();
    Ok(())
}

/// FNV-1a 64 of an id, summed over a result: the baseline script's answer digest.
fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn rfc(n: i64) -> String {
    Timestamp::from_unix_nanos(i128::from(n)).to_rfc3339_nanos()
}

/// Parameters chosen from the data, so every selective question has a real, small answer.
fn params(store: &Store, n: usize) -> Result<Value> {
    let rec = |o: u64| -> Result<Record> {
        let b = store.get(o)?.context("missing record")?;
        Ok(Record::parse(&b)?)
    };
    // A record from the middle of the log whose target sits at least four
    // levels deep in an environment and whose principal is a service account.
    let mut o = n as u64 / 2;
    let r = loop {
        let r = rec(o)?;
        let crn = r.resource_crn();
        if crn
            .as_ref()
            .is_some_and(|c| c.depth() >= 4 && c.environment().is_some())
            && r.principal().id.is_some_and(|p| p.starts_with("sa-"))
        {
            break r;
        }
        o += 1;
    };
    let t = r.timestamp().context("no time")?.unix_nanos as i64;
    let crn = r.resource_crn().context("no crn")?;
    let leaf = crn.leaf().map(|l| l.value.to_owned()).unwrap_or_default();
    let text = leaf.rsplit('-').next().unwrap_or(&leaf).to_lowercase();
    let last = rec(n as u64 - 1)?
        .timestamp()
        .context("no time")?
        .unix_nanos as i64;
    let hour = 3_600_000_000_000i64;
    Ok(json!({
        "method": r.method_name(),
        "t_from": rfc(t - hour / 2), "t_to": rfc(t + hour / 2),
        "scope": crn.parent().context("no parent")?.to_string(),
        "principal": r.principal().id,
        "env": crn.environment(),
        "day_from": rfc(last - 24 * hour), "day_to": rfc(last + 1),
        "text": text,
        "r_from": rfc(t - 12 * hour), "r_to": rfc(t + 12 * hour),
    }))
}

enum Ask {
    List(Filter),
    Count(Filter, Field, Option<usize>),
}

fn questions(p: &Value) -> Result<Vec<(&'static str, &'static str, Ask)>> {
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
    let t = |k: &str| auditlog_filter::parse_time(&s(k)).map_err(|m| anyhow::anyhow!(m));
    let f = |src: String| auditlog_filter::parse(&src).map_err(|e| anyhow::anyhow!("{src}: {e}"));
    Ok(vec![
        (
            "q1",
            "method X in a 1-hour window",
            Ask::List(with_time_range(
                f(format!("method = {}", s("method")))?,
                Some(t("t_from")?),
                Some(t("t_to")?),
            )),
        ),
        (
            "q2",
            "CRN scope: the parent of one resource",
            Ask::List(f(format!("crn within {}", s("scope")))?),
        ),
        (
            "q3",
            "one service account",
            Ask::List(f(format!("principal = {}", s("principal")))?),
        ),
        (
            "q4",
            "failures in an env, last day",
            Ask::List(with_time_range(
                f(format!("status = FAILURE AND environment = {}", s("env")))?,
                Some(t("day_from")?),
                Some(t("day_to")?),
            )),
        ),
        (
            "q5",
            "free text: one resource id",
            Ask::List(f(format!("\"{}\"", s("text")))?),
        ),
        (
            "q6",
            "count by method, everything",
            Ask::Count(
                Filter::from_expr(auditlog_filter::Expr::True),
                Field::Method,
                None,
            ),
        ),
        (
            "q7",
            "count by status, 1-day range",
            Ask::Count(
                with_time_range(
                    Filter::from_expr(auditlog_filter::Expr::True),
                    Some(t("r_from")?),
                    Some(t("r_to")?),
                ),
                Field::Status,
                None,
            ),
        ),
        (
            "q8",
            "top 10 principals",
            Ask::Count(
                Filter::from_expr(auditlog_filter::Expr::True),
                Field::Principal,
                Some(10),
            ),
        ),
    ])
}

/// Run one question fully: every matching record's bytes, or the groups.
fn answer(store: &Store, ask: &Ask) -> Result<Value> {
    match ask {
        Ask::List(f) => {
            let mut cursor = None;
            let (mut rows, mut sum) = (0u64, 0u64);
            loop {
                let page = search(
                    store,
                    &SearchRequest {
                        filter: f.clone(),
                        order: Order::Asc,
                        limit: 10_000,
                        cursor,
                        from_offset: 0,
                    },
                )?;
                for (_, b) in &page.records {
                    rows += 1;
                    // The id digest, read from the returned bytes.
                    let id = Record::parse(b)?.id.unwrap_or_default();
                    sum = sum.wrapping_add(fnv(&id));
                }
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            Ok(json!({"rows": rows, "ids_fnv1a64_sum": format!("{sum:016x}")}))
        }
        Ask::Count(f, field, top) => {
            let r = stats(
                store,
                &StatsRequest {
                    filter: f.clone(),
                    group_by: Some(*field),
                    interval: None,
                    top: *top,
                    failures: false,
                },
            )?;
            let groups: Vec<Value> = r.groups.iter().map(|g| json!([g.key, g.count])).collect();
            Ok(json!({"rows": groups.len(), "groups": groups}))
        }
    }
}

fn pct(xs: &mut [Duration], p: f64) -> f64 {
    xs.sort();
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

pub fn run(args: Args) -> Result<()> {
    let root = data_root(&args);
    std::fs::create_dir_all(&root)?;
    let tag = format!("{}-orgs{}", args.records, args.orgs);
    let dir = root.join(format!("query-store-{tag}"));
    let ndjson = root.join(format!("query-{tag}.ndjson"));
    build(&dir, &ndjson, args.records, args.orgs)?;
    let store = Store::open_read_only(&dir)?;
    let p = params(&store, args.records)?;
    let params_path = root.join(format!("query-{tag}-params.json"));
    std::fs::write(&params_path, serde_json::to_vec_pretty(&p)?)?;
    eprintln!("parameters: {p}");
    let qs = questions(&p)?;
    let mut ours = serde_json::Map::new();
    for (name, what, ask) in &qs {
        let first = answer(&store, ask)?;
        let mut times = Vec::with_capacity(args.rounds);
        for _ in 0..args.rounds {
            let t = Instant::now();
            let a = answer(&store, ask)?;
            times.push(t.elapsed());
            if a != first {
                bail!("{name}: answers differ between rounds");
            }
        }
        let (p50, p99) = (pct(&mut times, 0.5), pct(&mut times, 0.99));
        eprintln!(
            "ours {name} ({what}): p50 {p50:.2} ms, p99 {p99:.2} ms, {} rows",
            first["rows"]
        );
        ours.insert(
            (*name).into(),
            json!({"what": what, "p50_ms": p50, "p99_ms": p99, "answer": first}),
        );
    }
    let mut report =
        json!({"records": args.records, "organizations": args.orgs, "ours": ours, "params": p});
    if !args.no_baselines {
        let parquet = root.join(format!("query-{tag}.parquet"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/query_baselines.py");
        eprintln!("running DuckDB and jq baselines (this takes a while at 10M records)");
        let out = Command::new("python3")
            .arg(&script)
            .args(["--ndjson", ndjson.to_str().unwrap_or_default(), "--parquet", parquet.to_str().unwrap_or_default()])
            .args(["--params", params_path.to_str().unwrap_or_default()])
            .args(["--rounds", &args.duckdb_rounds.to_string(), "--jq-subset", &args.jq_subset.to_string(), "--jq-subset-mode", "stride"])
            .stderr(std::process::Stdio::inherit())
            .output()
            .context("running scripts/query_baselines.py (pip install -r scripts/requirements-bench.txt; apt-get install jq)")?;
        let base: Value = serde_json::from_slice(&out.stdout).with_context(|| {
            format!("baseline output: {}", String::from_utf8_lossy(&out.stdout))
        })?;
        for (name, _, _) in &qs {
            let o = &report["ours"][*name];
            let b = &base["queries"][*name];
            let ours_ans = &o["answer"];
            let agree_ndjson = compare(ours_ans, &b["ndjson"]);
            let agree_parquet = compare(ours_ans, &b["parquet"]);
            let ours_p50 = o["p50_ms"].as_f64().unwrap_or(f64::NAN);
            let ratio = |x: &Value| x.as_f64().map(|v| v / ours_p50);
            eprintln!(
                "{name}: ours {ours_p50:.2} ms | duckdb ndjson {:?} ms ({:.0}x) agree={agree_ndjson} | parquet {:?} ms ({:.1}x) agree={agree_parquet} | jq scaled {:?} ms ({:.0}x)",
                b["ndjson"]["p50_ms"].as_f64(),
                ratio(&b["ndjson"]["p50_ms"]).unwrap_or(f64::NAN),
                b["parquet"]["p50_ms"].as_f64(),
                ratio(&b["parquet"]["p50_ms"]).unwrap_or(f64::NAN),
                b["jq"]["scaled_ms"].as_f64(),
                ratio(&b["jq"]["scaled_ms"]).unwrap_or(f64::NAN),
            );
        }
        report["baselines"] = base;
    }
    let out_path = root.join(format!("query-{tag}-report.json"));
    std::fs::write(&out_path, serde_json::to_vec_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!("report written to {}", out_path.display());
    Ok(())
}

/// Whether a baseline's answer equals ours.
fn compare(ours: &Value, base: &Value) -> bool {
    if let Some(g) = base.get("groups") {
        return ours.get("groups") == Some(g);
    }
    ours["rows"] == base["rows"] && ours["ids_fnv1a64_sum"] == base["ids_fnv1a64_sum"]
}
