//! `auditlog export`: the records a filter matches from a running server,
//! as NDJSON — or, with `--verifiable`, as a bundle (`auditlog-bundle/1`)
//! that carries a signed checkpoint and an inclusion proof per record, so
//! `auditlog verify BUNDLE --key …` can prove offline that every record in
//! it is a genuine, unaltered log entry.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::client::{encode, DEFAULT_SERVER};
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Filter (docs/filter-language.md); empty exports everything.
    #[arg(default_value = "")]
    filter: String,
    /// Write a verifiable bundle (records, proofs, signed checkpoint).
    #[arg(long)]
    verifiable: bool,
    /// Write here (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Only records at or after this time (RFC 3339, a date, or -7d).
    #[arg(long, allow_hyphen_values = true)]
    from: Option<String>,
    /// Only records before this time.
    #[arg(long, allow_hyphen_values = true)]
    to: Option<String>,
    /// The server.
    #[arg(long, env = "AUDITLOG_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
}

pub fn run(args: Args) -> Result<Outcome> {
    let mut q = format!("filter={}", encode(&args.filter));
    for (k, v) in [("from", &args.from), ("to", &args.to)] {
        if let Some(v) = v {
            q.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let path = if args.verifiable {
        format!("/v1/export/bundle?{q}")
    } else {
        format!("/v1/events?format=ndjson&order=asc&{q}")
    };
    let url = format!("{}{path}", args.server.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resp = agent
        .get(&url)
        .call()
        .with_context(|| format!("GET {url}; is `auditlog serve` running there?"))?;
    if resp.status() != 200 {
        let status = resp.status();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        anyhow::bail!("the server refused the export ({status}): {}", body.trim());
    }
    let mut reader = resp.into_body().into_reader();
    match &args.output {
        Some(f) => {
            // Write beside, then rename: a crash never leaves half a bundle.
            let tmp = f.with_extension("partial");
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(&tmp)
                    .with_context(|| format!("writing {}", tmp.display()))?,
            );
            let bar = crate::progress::bytes("exporting");
            let mut buf = vec![0u8; 1 << 16];
            let mut lines = 0usize;
            loop {
                let n = std::io::Read::read(&mut reader, &mut buf)?;
                if n == 0 {
                    break;
                }
                lines += buf[..n].iter().filter(|b| **b == b'\n').count();
                out.write_all(&buf[..n])?;
                bar.inc(n as u64);
            }
            bar.finish_and_clear();
            out.into_inner()?.sync_all()?;
            std::fs::rename(&tmp, f).with_context(|| format!("writing {}", f.display()))?;
            let records = if args.verifiable {
                lines.saturating_sub(1)
            } else {
                lines
            };
            eprintln!(
                "{records} record(s) written to {}{}",
                f.display(),
                if args.verifiable {
                    format!(
                        "; check it offline with: auditlog verify {} --key \"$(curl -s {}/v1/checkpoint/key)\"",
                        f.display(),
                        args.server.trim_end_matches('/')
                    )
                } else {
                    String::new()
                }
            );
        }
        None => {
            std::io::copy(&mut reader, &mut std::io::stdout().lock())?;
        }
    }
    Ok(Outcome::Ok)
}
