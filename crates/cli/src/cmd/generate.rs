//! `auditlog generate`: a deterministic workload of realistic records, as NDJSON.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use auditlog_gen::{Config, Generator};

use crate::{progress, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many records.
    #[arg(long, short = 'n', default_value_t = 1000)]
    count: u64,
    /// The same seed always gives the same records.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Organizations (tenants).
    #[arg(long, default_value_t = 5)]
    orgs: usize,
    /// Share of failed requests, 0..1.
    #[arg(long, default_value_t = 0.12)]
    failure_rate: f64,
    /// Share of records in the snake_case AuditLog.v2 form, 0..1.
    #[arg(long, default_value_t = 0.1)]
    snake_rate: f64,
    /// Write here instead of stdout.
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

pub fn run(args: Args, catalog: &auditlog_catalog::Catalog) -> Result<Outcome> {
    let cfg = Config {
        seed: args.seed,
        organizations: args.orgs,
        failure_rate: args.failure_rate,
        snake_rate: args.snake_rate,
        ..Config::default()
    };
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 20,
            std::io::stdout().lock(),
        )),
    };
    let bar = if args.output.is_some() {
        progress::count("generating", args.count)
    } else {
        progress::hidden()
    };
    for (i, rec) in Generator::with_catalog(cfg, catalog)
        .take(usize::try_from(args.count).unwrap_or(usize::MAX))
        .enumerate()
    {
        out.write_all(&rec)?;
        out.write_all(b"\n")?;
        if i % 4096 == 0 {
            bar.set_position(i as u64);
        }
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(Outcome::Ok)
}
