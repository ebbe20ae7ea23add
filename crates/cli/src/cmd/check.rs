//! `auditlog check`: verify a data directory's integrity.

use std::path::PathBuf;

use anyhow::Result;
use serde::Serialize;

use crate::output::Style;
use crate::progress;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The data directory (default ./auditlog-data).
    #[arg(default_value = "auditlog-data")]
    data_dir: PathBuf,
    /// `text` or `json`.
    #[arg(long, short, value_enum, default_value_t = Fmt::Text)]
    output: Fmt,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Fmt {
    Text,
    Json,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    records: u64,
    segments: usize,
    bytes: u64,
    sealed_blocks: usize,
    problems: Vec<JsonProblem<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct JsonProblem<'a> {
    offset: Option<u64>,
    problem: &'a str,
}

pub fn run(args: Args) -> Result<Outcome> {
    let bar = progress::bytes("checking");
    let report = auditlog_store::check(&args.data_dir, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    match args.output {
        Fmt::Json => {
            let problems = report
                .problems
                .iter()
                .map(|p| JsonProblem {
                    offset: p.offset,
                    problem: &p.what,
                })
                .collect();
            let j = JsonReport {
                ok: report.ok(),
                records: report.records,
                segments: report.segments,
                bytes: report.bytes,
                sealed_blocks: report.sealed_blocks,
                problems,
                notes: &report.notes,
            };
            crate::output::write_json(&mut std::io::stdout().lock(), &j)?;
        }
        Fmt::Text => {
            let style = Style::stdout();
            for n in &report.notes {
                println!("note: {n}");
            }
            for p in &report.problems {
                match p.offset {
                    Some(o) => println!("{} offset {o}: {}", style.red("problem:"), p.what),
                    None => println!("{} {}", style.red("problem:"), p.what),
                }
            }
            let verdict = if report.ok() {
                style.bold("OK")
            } else {
                style.red("DAMAGED")
            };
            println!(
                "{verdict}: {} records in {} segments ({} bytes), {} sealed index blocks verified, {} problem(s)",
                report.records, report.segments, report.bytes, report.sealed_blocks, report.problems.len()
            );
        }
    }
    Ok(if report.ok() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}
