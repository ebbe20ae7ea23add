//! `auditlog get`: one record, byte for byte, from a server or a data directory.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Result};
use auditlog_model::json;
use auditlog_store::Store;

use crate::client::{encode, Client, DEFAULT_SERVER};
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The record's offset.
    #[arg(required_unless_present = "id", conflicts_with = "id")]
    offset: Option<u64>,
    /// Find the record by its CloudEvents id instead.
    #[arg(long)]
    id: Option<String>,
    /// With --id: only the record from this source.
    #[arg(long, requires = "id")]
    source: Option<String>,
    /// Server to ask (default: AUDITLOG_SERVER, else http://127.0.0.1:8080).
    #[arg(long, env = "AUDITLOG_SERVER", conflicts_with = "data_dir")]
    server: Option<String>,
    /// Read a data directory directly instead (works while a server runs).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Indent the record instead of printing the stored bytes.
    #[arg(long)]
    pretty: bool,
}

pub fn run(args: Args) -> Result<Outcome> {
    let bytes = match &args.data_dir {
        Some(dir) => {
            let store = Store::open_read_only(dir)?;
            let found = match (&args.id, args.offset) {
                (Some(id), _) => store
                    .find_by_id(id, args.source.as_deref())?
                    .into_iter()
                    .next()
                    .map(|(_, b)| b),
                (None, Some(o)) => store.get(o)?,
                (None, None) => None,
            };
            match found {
                Some(b) => b,
                None => {
                    eprintln!(
                        "not found: no such record in {} (it holds offsets below {})",
                        dir.display(),
                        store.committed()
                    );
                    return Ok(Outcome::Findings);
                }
            }
        }
        None => {
            let client = Client::new(args.server.as_deref().unwrap_or(DEFAULT_SERVER));
            let path = match (&args.id, args.offset) {
                (Some(id), _) => format!(
                    "/v1/events?id={}{}",
                    encode(id),
                    args.source
                        .as_deref()
                        .map(|s| format!("&source={}", encode(s)))
                        .unwrap_or_default()
                ),
                (None, Some(o)) => format!("/v1/events/{o}"),
                (None, None) => bail!("give an OFFSET or --id ID"),
            };
            let r = client.get(&path)?;
            match r.status {
                200 => r.body,
                404 => {
                    eprintln!("not found: {}", r.detail());
                    return Ok(Outcome::Findings);
                }
                s => bail!("server answered {s}: {}", r.detail()),
            }
        }
    };
    let mut out = std::io::stdout().lock();
    if args.pretty {
        writeln!(out, "{}", json::to_pretty(&json::parse(&bytes)?))?;
    } else {
        out.write_all(&bytes)?;
        out.write_all(b"\n")?;
    }
    Ok(Outcome::Ok)
}
