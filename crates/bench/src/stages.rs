//! Where ingest CPU goes, stage by stage, on generated records (single
//! thread): parse, validate, extract index fields.

use anyhow::Result;
use auditlog_gen::{Config, Generator};
use auditlog_model::parse_record;
use auditlog_store::{ConflictPolicy, Prepared};
use auditlog_validate::Validator;

use crate::stats::time;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 200_000)]
    records: usize,
}

pub fn run(args: Args) -> Result<()> {
    let recs: Vec<Vec<u8>> = Generator::new(Config::default())
        .take(args.records)
        .collect();
    let n = recs.len() as f64;
    let v = Validator::default();
    let (t_serde, _) = time(|| {
        recs.iter()
            .filter(|r| serde_json::from_slice::<serde_json::Value>(r).is_ok())
            .count()
    });
    let (t_parse, parsed) = time(|| {
        recs.iter()
            .map(|r| parse_record(r))
            .collect::<Result<Vec<_>, _>>()
    });
    let parsed = parsed?;
    let (t_validate, _) = time(|| {
        parsed
            .iter()
            .map(|p| v.validate_with_target(&p.record).0.len())
            .sum::<usize>()
    });
    let targets: Vec<_> = parsed
        .iter()
        .map(|p| v.validate_with_target(&p.record).1)
        .collect();
    let (t_prepare, _) = time(|| {
        parsed
            .into_iter()
            .zip(targets)
            .map(|(p, t)| {
                Prepared::with_target(p, ConflictPolicy::Reject, t)
                    .fields
                    .terms()
                    .count()
            })
            .sum::<usize>()
    });
    let (t_words, _) = time(|| {
        recs.iter()
            .map(|r| {
                auditlog_model::words::json_word_hashes(std::str::from_utf8(r).unwrap_or("")).len()
            })
            .sum::<usize>()
    });
    let (t_scan, words) = time(|| {
        let mut n = 0usize;
        for r in &recs {
            auditlog_model::words::json_words(std::str::from_utf8(r).unwrap_or(""), |_| n += 1);
        }
        n
    });
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n;
    println!(
        "  words: scan only {:.2} µs ({:.0} words/record), scan+hash+dedup {:.2} µs",
        us(t_scan),
        words as f64 / n,
        us(t_words)
    );
    println!(
        "per record, one thread, {} generated records:",
        args.records
    );
    println!("  serde_json Value parse (baseline) {:.2} µs", us(t_serde));
    println!("  parse_record                      {:.2} µs", us(t_parse));
    println!(
        "  validate                          {:.2} µs",
        us(t_validate)
    );
    println!(
        "  extract index fields              {:.2} µs",
        us(t_prepare)
    );
    Ok(())
}
