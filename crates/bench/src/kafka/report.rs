//! The Kafka benchmark's output: each run's measurements as they come, then
//! a Markdown table of all runs (pasted into BENCHMARKS.md), medians and the goal.

use std::time::Duration;

use super::{Produced, Run};

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pct(xs: &mut [Duration], p: f64) -> Duration {
    xs.sort_unstable();
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs.get(i).copied().unwrap_or_default()
}

fn opt_s(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.2} s", d.as_secs_f64()))
        .unwrap_or_else(|| "-".into())
}

/// One produce contender's line.
fn produce_line(label: &str, p: &Produced, n: usize, bytes: usize) {
    let mut l = p.latencies.clone();
    let lat = if l.is_empty() {
        String::new()
    } else {
        format!(
            "; per batch p50 {:.0} ms p99 {:.0} ms max {:.0} ms",
            ms(pct(&mut l, 0.5)),
            ms(pct(&mut l, 0.99)),
            ms(pct(&mut l, 1.0))
        )
    };
    // tansu has reported fewer than it acknowledged (and then served all).
    let held = match p.held {
        Some(h) if h != p.acked => format!(" (high watermarks right after: {h})"),
        _ => String::new(),
    };
    let serve = if p.serve_cpu > 0.0 {
        format!("serve CPU {:.1} s, ", p.serve_cpu)
    } else {
        String::new()
    };
    println!(
        "  produce, {label:<34} {:>6.2} s {:>7.0} records/s {:>6.1} MB/s  {} acked{held}{lat}; {serve}bench CPU {:.1} s, broker CPU {:.1} s, other processes {:.1} s",
        p.elapsed.as_secs_f64(),
        rate(n, p.elapsed),
        bytes as f64 / 1e6 / p.elapsed.as_secs_f64(),
        p.acked,
        p.bench_cpu,
        p.broker_cpu,
        p.other_cpu,
    );
    if p.serve_cpu > 0.0 {
        let parts: Vec<String> = p
            .threads
            .iter()
            .filter(|(_, c)| *c >= 0.05)
            .map(|(t, c)| format!("{t} {c:.1} s"))
            .collect();
        println!("    serve CPU by thread: {}", parts.join(", "));
    }
    if let Some(i) = p.indexed {
        let h = p.acked;
        let done = if i.stored >= h {
            "had stored every record"
        } else {
            "gave up waiting for serve's indexer"
        };
        println!(
            "    {done} {:.2} s after the first request: {} of {h} stored ({:.0} records/s end to end)",
            i.at.as_secs_f64(),
            i.stored,
            rate(i.stored, i.at)
        );
    }
}

/// One run's details, as they are measured.
pub fn run(r: &Run, n: usize, bytes: usize) {
    for (label, p) in [
        ("serve --kafka", &r.serve),
        ("ref: serve --kafka --ingest-only", &r.ingest_only),
        ("raw rdkafka (send all, flush)", &r.raw_produce),
        ("ref: Producer, serve's batches", &r.batched),
        ("ref: serve without --kafka (store)", &r.plain),
    ] {
        if let Some(p) = p {
            produce_line(label, p, n, bytes);
        }
    }
    for (checks, p) in &r.fronts {
        produce_line(checks.label(), p, n, bytes);
    }
    if let (Some(s), Some(p)) = (&r.serve, &r.raw_produce) {
        println!(
            "  produce ratio (serve / raw): {:.2}x",
            p.elapsed.as_secs_f64() / s.elapsed.as_secs_f64()
        );
    }
    if let Some(p) = &r.raw_produce {
        for (checks, c) in &r.fronts {
            println!(
                "  {} / raw: {:.2}x",
                checks.label().trim_start_matches("ref: "),
                p.elapsed.as_secs_f64() / c.elapsed.as_secs_f64()
            );
        }
    }
    if let (Some(p), Some(h)) = (&r.raw_produce, r.held_later) {
        if p.held != Some(h) || h != p.acked {
            println!(
                "  the raw producer's topic: {} acknowledged, high watermarks {} right after, {h} after consuming",
                p.acked,
                p.held.map_or("-".into(), |x| x.to_string())
            );
        }
    }
    for (name, c) in [
        ("auditlog consume", &r.ours),
        ("raw rdkafka     ", &r.raw_consume),
    ] {
        if let Some(c) = c {
            println!(
                "  consume, {name}: {:>7.2} s to exit {:>9.0} records/s; first batch committed at {}, all at {} ({} records/s); client CPU {:.1} s, broker CPU {:.1} s, other processes {:.1} s; {}",
                c.elapsed.as_secs_f64(),
                rate(c.records, c.elapsed),
                opt_s(c.first_commit),
                opt_s(c.all_committed),
                c.all_committed.map(|d| format!("{:.0}", rate(c.records, d))).unwrap_or_else(|| "-".into()),
                c.client_cpu,
                c.broker_cpu,
                c.other_cpu,
                c.summary.lines().last().unwrap_or(""),
            );
        }
    }
    if let (Some(o), Some(b)) = (&r.ours, &r.raw_consume) {
        let to_commit = match (o.all_committed, b.all_committed) {
            (Some(o), Some(b)) => format!("{:.2}x", b.as_secs_f64() / o.as_secs_f64()),
            _ => "-".into(),
        };
        println!(
            "  consume ratio (ours / raw): {:.2}x to exit, {to_commit} to the last commit",
            b.elapsed.as_secs_f64() / o.elapsed.as_secs_f64()
        );
    }
}

fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    // An even count has two middles: their mean.
    let lo = xs.get(n.checked_sub(1)? / 2)?;
    let hi = xs.get(n / 2)?;
    Some((lo + hi) / 2.0)
}

/// A table of every run, then medians and the goal.
pub fn summary(runs: &[Run], n: usize) {
    println!();
    println!("| run | serve --kafka | raw producer | ratio | auditlog consume (to exit) | raw consumer | ratio | ratio to last commit | other processes' CPU |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let f = |x: Option<f64>| x.map(|x| format!("{x:.0}")).unwrap_or_else(|| "-".into());
    let g = |x: Option<f64>| x.map(|x| format!("{x:.2}×")).unwrap_or_else(|| "-".into());
    let (mut pr, mut cr) = (Vec::new(), Vec::new());
    for (i, r) in runs.iter().enumerate() {
        let s = r.serve.as_ref().map(|p| rate(n, p.elapsed));
        let p = r.raw_produce.as_ref().map(|p| rate(n, p.elapsed));
        let o = r.ours.as_ref().map(|c| rate(c.records, c.elapsed));
        let b = r.raw_consume.as_ref().map(|c| rate(c.records, c.elapsed));
        let oc = r.ours.as_ref().and_then(|c| c.all_committed);
        let bc = r.raw_consume.as_ref().and_then(|c| c.all_committed);
        let p_ratio = s.zip(p).map(|(s, p)| s / p);
        let c_ratio = o.zip(b).map(|(o, b)| o / b);
        let c_commit = oc.zip(bc).map(|(o, b)| b.as_secs_f64() / o.as_secs_f64());
        pr.extend(p_ratio);
        cr.extend(c_ratio);
        let other = r.other_cpu();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {other:.1} s |",
            i + 1,
            f(s),
            f(p),
            g(p_ratio),
            f(o),
            f(b),
            g(c_ratio),
            g(c_commit)
        );
    }
    println!("(records/s)");
    if runs
        .iter()
        .any(|r| r.batched.is_some() || r.plain.is_some() || !r.fronts.is_empty())
    {
        println!();
        println!("| run | serve --kafka acked | its indexer, stored end to end | ref: serve --kafka --ingest-only (ratio to raw) | ref: Producer in serve's batches (no HTTP) | ref: HTTP + Producer: no checks / JSON syntax / serde_json Value (ratios to raw) | ref: serve without --kafka |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
        for (i, r) in runs.iter().enumerate() {
            let e = |p: &Option<Produced>| f(p.as_ref().map(|p| rate(n, p.elapsed)));
            let idx = r
                .serve
                .as_ref()
                .and_then(|p| p.indexed.map(|i| rate(i.stored, i.at)));
            let raw = r.raw_produce.as_ref().map(|p| rate(n, p.elapsed));
            let with_ratio = |p: Option<&Produced>| {
                let x = p.map(|p| rate(n, p.elapsed));
                format!("{} ({})", f(x), g(x.zip(raw).map(|(x, raw)| x / raw)))
            };
            let fronts: Vec<String> = r.fronts.iter().map(|(_, p)| with_ratio(Some(p))).collect();
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                e(&r.serve),
                f(idx),
                with_ratio(r.ingest_only.as_ref()),
                e(&r.batched),
                fronts.join(" / "),
                e(&r.plain)
            );
        }
        println!("(records/s)");
    }
    if let Some(m) = median(pr) {
        println!(
            "produce: median ratio serve / raw producer {m:.2}×; goal ≥ 0.8×: {}",
            if m >= 0.8 { "met" } else { "MISSED" }
        );
    }
    if let Some(m) = median(cr) {
        println!("consume-and-store: median ratio auditlog consume / raw consumer {m:.2}× (start to exit)");
    }
}
