//! Parse + validate throughput on the seed corpus, repeated to ≥ 100 MB,
//! against plain `serde_json::from_slice::<serde_json::Value>` on the same bytes.

use std::path::PathBuf;

use anyhow::{Context, Result};
use auditlog_model::record::parse_record;
use auditlog_validate::Validator;

use crate::stats::{mb_per_s, median, per_s, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of seed records.
    #[arg(long, default_value = "tests/data/seed-examples")]
    corpus: PathBuf,
    /// Repeat the corpus until at least this many megabytes.
    #[arg(long, default_value_t = 100)]
    megabytes: usize,
    /// Alternating rounds per contender; medians are reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

pub fn run(args: Args) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.corpus)
        .with_context(|| {
            format!(
                "reading {}; run from the repository root",
                args.corpus.display()
            )
        })?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let records: Vec<Vec<u8>> = files.iter().map(std::fs::read).collect::<Result<_, _>>()?;
    let one: usize = records.iter().map(Vec::len).sum();
    let copies = (args.megabytes * 1_000_000).div_ceil(one);
    // One contiguous buffer, as a log segment would hold them.
    let mut buf = Vec::with_capacity(one * copies);
    let mut spans = Vec::with_capacity(records.len() * copies);
    for _ in 0..copies {
        for r in &records {
            spans.push((buf.len(), buf.len() + r.len()));
            buf.extend_from_slice(r);
        }
    }
    let bytes = buf.len();
    let n = spans.len();
    let slices: Vec<&[u8]> = spans.iter().filter_map(|&(a, b)| buf.get(a..b)).collect();
    let validator = Validator::default();

    let ours_full = || {
        let mut diags = 0usize;
        for s in &slices {
            if let Ok(p) = parse_record(s) {
                diags += validator.validate(&p.record).len();
            }
        }
        diags
    };
    let ours_parse = || {
        let mut ok = 0usize;
        for s in &slices {
            ok += usize::from(parse_record(s).is_ok());
        }
        ok
    };
    let baseline = || {
        let mut ok = 0usize;
        for s in &slices {
            ok += usize::from(serde_json::from_slice::<serde_json::Value>(s).is_ok());
        }
        ok
    };

    let (mut t_full, mut t_parse, mut t_base) = (Vec::new(), Vec::new(), Vec::new());
    let mut diag_count = 0;
    for _ in 0..args.rounds {
        let (d, c) = time(ours_full);
        t_full.push(d);
        diag_count = c;
        let (d, ok) = time(ours_parse);
        t_parse.push(d);
        anyhow::ensure!(ok == n, "every record must parse");
        let (d, ok) = time(baseline);
        t_base.push(d);
        anyhow::ensure!(ok == n, "serde_json must parse every record");
    }
    let (full, parse, base) = (
        median(&mut t_full),
        median(&mut t_parse),
        median(&mut t_base),
    );
    println!(
        "input: {n} records, {:.1} MB ({} seed files x {copies}); {} rounds, medians",
        bytes as f64 / 1e6,
        records.len(),
        args.rounds
    );
    println!("diagnostics per pass: {diag_count}");
    println!();
    println!("| contender | time | MB/s | records/s | ratio to baseline |");
    println!("|---|---:|---:|---:|---:|");
    let row = |name: &str, d: std::time::Duration| {
        println!(
            "| {name} | {:.3} s | {:.0} | {:.0} | {:.2}x |",
            d.as_secs_f64(),
            mb_per_s(bytes, d),
            per_s(n, d),
            base.as_secs_f64() / d.as_secs_f64()
        );
    };
    row("auditlog parse + validate", full);
    row(
        "auditlog parse only (lossless tree + typed record + canonical bytes)",
        parse,
    );
    row("baseline: serde_json::from_slice::<Value>", base);
    Ok(())
}
