//! `auditlog import`: bulk-load records into a running server or straight
//! into a data directory, with a progress bar and totals at the end.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use auditlog_model::json;
use auditlog_server::Ingested;

use crate::client::{Client, DEFAULT_SERVER};
use crate::{input, progress, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories of JSON, JSON arrays or NDJSON; `-` reads stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Server to send to (default: AUDITLOG_SERVER, else http://127.0.0.1:8080).
    #[arg(long, env = "AUDITLOG_SERVER", conflicts_with = "data_dir")]
    server: Option<String>,
    /// Write into this data directory directly (no server may be running on it).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Records per request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// With --data-dir: strict or lenient validation (a server uses its own setting).
    #[arg(long, value_enum)]
    validation: Option<Validation>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Validation {
    Strict,
    Lenient,
}

/// Where records go.
enum Sink {
    Server(Client),
    Dir(auditlog_server::AppState),
}

/// One record on its way, with where it came from.
struct Pending {
    bytes: Vec<u8>,
    at: String,
}

#[derive(Default)]
struct Totals {
    accepted: u64,
    duplicates: u64,
    conflicts: u64,
    rejected: u64,
    /// reason -> (count, first location)
    reasons: BTreeMap<String, (u64, String)>,
}

impl Totals {
    fn reject(&mut self, reason: &str, at: &str) {
        self.rejected += 1;
        let key: String = reason.chars().take(160).collect();
        let e = self.reasons.entry(key).or_insert((0, at.to_owned()));
        e.0 += 1;
    }
}

pub fn run(args: Args, catalog: Option<&Path>) -> Result<Outcome> {
    let sink = match &args.data_dir {
        Some(dir) => {
            crate::cmd::serve::init_logging("warn");
            let mut overrides = auditlog_server::Overrides {
                data_dir: Some(dir.clone()),
                catalog: catalog.map(Path::to_path_buf),
                ..Default::default()
            };
            overrides.validation = args.validation.map(|v| match v {
                Validation::Strict => auditlog_server::Policy::Strict,
                Validation::Lenient => auditlog_server::Policy::Lenient,
            });
            Sink::Dir(auditlog_server::open(auditlog_server::Config::resolve(
                overrides, None,
            )?)?)
        }
        None => {
            if args.validation.is_some() {
                eprintln!("note: --validation applies to --data-dir imports; the server uses its own policy");
            }
            let c = Client::new(args.server.as_deref().unwrap_or(DEFAULT_SERVER));
            let r = c.get("/readyz")?;
            if r.status != 200 {
                bail!("the server is not ready: {}", r.detail());
            }
            Sink::Server(c)
        }
    };
    let files = input::expand(&args.paths)?;
    let total: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let bar = progress::bytes("importing");
    bar.set_length(total);
    let mut totals = Totals::default();
    let mut done = 0u64;
    let batch = args.batch.max(1);
    for path in &files {
        let origin = path.display().to_string();
        let mut pending: Vec<Pending> = Vec::with_capacity(batch);
        let flush = |pending: &mut Vec<Pending>, totals: &mut Totals| -> Result<()> {
            send(&sink, std::mem::take(pending), totals)?;
            bar.set_message(format!(
                "{} stored, {} rejected",
                totals.accepted, totals.rejected
            ));
            Ok(())
        };
        if looks_line_delimited(path)? {
            let reader: Box<dyn Read> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(std::fs::File::open(path)?)
            };
            let mut r = BufReader::with_capacity(1 << 20, reader);
            let mut line = Vec::new();
            let mut n = 0usize;
            loop {
                line.clear();
                let read = r
                    .read_until(b'\n', &mut line)
                    .with_context(|| format!("reading {origin}"))?;
                if read == 0 {
                    break;
                }
                n += 1;
                done += read as u64;
                let trimmed = line.strip_suffix(b"\n").unwrap_or(&line);
                let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
                if trimmed.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                pending.push(Pending {
                    bytes: trimmed.to_vec(),
                    at: format!("{origin}:{n}"),
                });
                if pending.len() >= batch {
                    flush(&mut pending, &mut totals)?;
                    bar.set_position(done);
                }
            }
        } else {
            let bytes = input::read_bytes(path)?;
            done += bytes.len() as u64;
            for f in input::records(&origin, &bytes) {
                let at = format!("{}:{} (record {})", f.origin, f.line, f.index);
                match f.value {
                    Ok(v) => pending.push(Pending {
                        bytes: json::to_canonical(&v),
                        at,
                    }),
                    Err(e) => totals.reject(&format!("not valid JSON: {}", e.kind), &at),
                }
                if pending.len() >= batch {
                    flush(&mut pending, &mut totals)?;
                }
            }
        }
        if !pending.is_empty() {
            flush(&mut pending, &mut totals)?;
        }
        bar.set_position(done);
    }
    bar.finish_and_clear();
    if let Sink::Dir(state) = sink {
        if let Ok(store) = std::sync::Arc::try_unwrap(state.store) {
            store.close();
        }
    }
    println!(
        "imported {} file(s): {} accepted, {} duplicates, {} conflicts, {} rejected",
        files.len(),
        totals.accepted,
        totals.duplicates,
        totals.conflicts,
        totals.rejected
    );
    for (reason, (n, at)) in totals.reasons.iter().take(20) {
        println!("  {n} refused: {reason} (first at {at})");
    }
    if totals.reasons.len() > 20 {
        println!("  … and {} other reasons", totals.reasons.len() - 20);
    }
    Ok(if totals.rejected + totals.conflicts > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// NDJSON files are streamed line by line; anything else is read whole.
fn looks_line_delimited(path: &Path) -> Result<bool> {
    if path.as_os_str() == "-" {
        return Ok(true);
    }
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "ndjson" | "jsonl"))
    {
        return Ok(true);
    }
    let mut r = BufReader::new(
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
    );
    let mut first = Vec::new();
    r.by_ref().take(8 << 20).read_until(b'\n', &mut first)?;
    let more = !r.fill_buf()?.is_empty();
    Ok(more && json::parse(&first).is_ok_and(|v| matches!(v, json::Json::Object(_))))
}

fn send(sink: &Sink, batch: Vec<Pending>, totals: &mut Totals) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    match sink {
        Sink::Dir(state) => {
            let values = batch.iter().map(|p| p.bytes.clone()).collect();
            let results = auditlog_server::ingest_values(state, values)
                .map_err(|p| anyhow::anyhow!("{}", p.detail))?;
            for (r, p) in results.into_iter().zip(&batch) {
                match r {
                    Ingested::Accepted { .. } => totals.accepted += 1,
                    Ingested::Duplicate { .. } => totals.duplicates += 1,
                    Ingested::Conflict { offset } => {
                        totals.conflicts += 1;
                        totals
                            .reasons
                            .entry(format!(
                                "id already stored with other content (e.g. offset {offset})"
                            ))
                            .or_insert((0, p.at.clone()))
                            .0 += 1;
                    }
                    Ingested::Rejected { detail, .. } => totals.reject(&detail, &p.at),
                }
            }
        }
        Sink::Server(c) => {
            let mut body = Vec::with_capacity(batch.iter().map(|p| p.bytes.len() + 1).sum());
            for p in &batch {
                body.extend_from_slice(&p.bytes);
                body.push(b'\n');
            }
            let r = c.post("/v1/events:batch", "application/x-ndjson", &body)?;
            if !matches!(r.status, 200 | 207 | 422) {
                bail!(
                    "the server refused a batch ({}): {}; nothing from it was stored",
                    r.status,
                    r.detail()
                );
            }
            let v: serde_json::Value =
                serde_json::from_slice(&r.body).context("reading the server's batch report")?;
            let items = v
                .get("items")
                .and_then(|i| i.as_array())
                .cloned()
                .unwrap_or_default();
            for (item, p) in items.iter().zip(&batch) {
                match item.get("status").and_then(|s| s.as_str()) {
                    Some("accepted") => totals.accepted += 1,
                    Some("duplicate") => totals.duplicates += 1,
                    Some("conflict") => {
                        totals.conflicts += 1;
                        let d = item
                            .get("detail")
                            .and_then(|d| d.as_str())
                            .unwrap_or("id conflict");
                        totals
                            .reasons
                            .entry(d.to_owned())
                            .or_insert((0, p.at.clone()))
                            .0 += 1;
                    }
                    _ => totals.reject(
                        item.get("detail")
                            .and_then(|d| d.as_str())
                            .unwrap_or("rejected"),
                        &p.at,
                    ),
                }
            }
        }
    }
    Ok(())
}
