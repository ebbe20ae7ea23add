//! `auditlog witness`: fetch a server's newest signed checkpoint, check it
//! against the last one this witness accepted (same log, never smaller, and
//! a consistency proof from the old tree to the new one), and only then
//! remember it. A forked or rewritten log is refused and the state is left
//! as it was, so every later run keeps refusing. Anyone can run it; running
//! it from cron somewhere the operator does not control is the point.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use auditlog_merkle::{verify_consistency, Hash};
use auditlog_tlog::{Checkpoint, NoteVerifier};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::output::Format;
use crate::Outcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server whose log to witness.
    #[arg(long, env = "AUDITLOG_SERVER", value_name = "URL")]
    server: String,
    /// Where this witness keeps the last checkpoint it accepted (created on
    /// the first run).
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// The log's verifier key (`GET /v1/checkpoint/key` prints it; get it
    /// out of band). Needed on the first run; later runs use the state's.
    #[arg(long, env = "AUDITLOG_LOG_KEY", value_name = "VKEY")]
    key: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    output: Format,
}

/// What a witness remembers.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    /// The log's verifier key.
    key: String,
    /// The last accepted signed checkpoint.
    checkpoint: String,
}

#[derive(Debug, Deserialize)]
struct ConsistencyProof {
    proof: Vec<String>,
}

pub fn run(args: Args) -> Result<Outcome> {
    let old = read_state(&args.state)?;
    let key = match (&args.key, &old) {
        (Some(k), Some(s)) if k.trim() != s.key => bail!(
            "--key differs from the key in {}; a log's key does not change — if it really did, start a new state file",
            args.state.display()
        ),
        (Some(k), _) => k.trim().to_owned(),
        (None, Some(s)) => s.key.clone(),
        (None, None) => bail!(
            "the first run needs the log's key: --key VKEY (ask the operator, or fetch {}/v1/checkpoint/key over a channel you trust)",
            args.server.trim_end_matches('/')
        ),
    };
    let verifier = NoteVerifier::from_encoded(&key).context("--key")?;
    let client = Client::new(&args.server);
    let note = String::from_utf8(client.get_ok("/v1/checkpoint")?.body)
        .context("the checkpoint is not text")?;
    let new = Checkpoint::open(&note, &verifier)
        .context("the server's checkpoint does not verify with the log's key")?;
    let mut verdict = Verdict {
        origin: new.origin.clone(),
        size: new.size,
        root: B64.encode(new.root),
        previous_size: None,
        ok: true,
        detail: String::new(),
    };
    if let Some(s) = &old {
        let prev = Checkpoint::open(&s.checkpoint, &verifier).with_context(|| {
            format!("the checkpoint in {} does not verify", args.state.display())
        })?;
        verdict.previous_size = Some(prev.size);
        if let Err(why) = check_growth(&client, &prev, &new) {
            verdict.ok = false;
            verdict.detail = why;
        }
    }
    if verdict.ok {
        write_state(
            &args.state,
            &State {
                key,
                checkpoint: note,
            },
        )?;
        verdict.detail = match verdict.previous_size {
            None => "first checkpoint recorded".into(),
            Some(p) if p == new.size => "unchanged".into(),
            Some(p) => format!("grew from {p} records, consistent"),
        };
    }
    print(&verdict, args.output)?;
    Ok(if verdict.ok {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// Whether `new` extends `prev`: the reason if not.
fn check_growth(client: &Client, prev: &Checkpoint, new: &Checkpoint) -> Result<(), String> {
    if new.origin != prev.origin {
        return Err(format!(
            "the log's name changed from {:?} to {:?}",
            prev.origin, new.origin
        ));
    }
    if new.size < prev.size {
        return Err(format!(
            "the log shrank: {} records now, {} at the last checkpoint — records were removed",
            new.size, prev.size
        ));
    }
    if new.size == prev.size {
        return if new.root == prev.root {
            Ok(())
        } else {
            Err(format!(
                "fork: two different roots for the same size {} — the log was rewritten",
                new.size
            ))
        };
    }
    let reply = client
        .get_ok(&format!(
            "/v1/proof/consistency?from={}&to={}",
            prev.size, new.size
        ))
        .map_err(|e| format!("cannot get a consistency proof: {e:#}"))?;
    let p: ConsistencyProof = serde_json::from_slice(&reply.body)
        .map_err(|e| format!("the consistency proof is malformed: {e}"))?;
    let proof: Vec<Hash> = p
        .proof
        .iter()
        .map(|h| B64.decode(h).ok().and_then(|v| v.try_into().ok()))
        .collect::<Option<_>>()
        .ok_or("the consistency proof holds something that is not a hash")?;
    verify_consistency(prev.size, new.size, &proof, &prev.root, &new.root).map_err(|e| {
        format!(
            "the new tree ({} records) does not extend the one checkpointed at {} records — the log was forked or rewritten: {e}",
            new.size, prev.size
        )
    })
}

#[derive(Debug, Serialize)]
struct Verdict {
    origin: String,
    size: u64,
    root: String,
    previous_size: Option<u64>,
    ok: bool,
    detail: String,
}

fn print(v: &Verdict, format: Format) -> Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string(v)?),
        Format::Csv => {
            let mut t = crate::output::Table::new(&[
                "ok",
                "origin",
                "size",
                "previous_size",
                "root",
                "detail",
            ]);
            t.push(vec![
                v.ok.to_string(),
                v.origin.clone(),
                v.size.to_string(),
                v.previous_size.map(|p| p.to_string()).unwrap_or_default(),
                v.root.clone(),
                v.detail.clone(),
            ]);
            t.write_csv(&mut std::io::stdout().lock())?;
        }
        Format::Table => {
            let mark = if v.ok { "ok" } else { "REFUSED" };
            println!(
                "{mark}: {} at {} records, root {} — {}",
                v.origin, v.size, v.root, v.detail
            );
        }
    }
    Ok(())
}

fn read_state(path: &Path) -> Result<Option<State>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(serde_json::from_slice(&b).with_context(|| {
            format!("{} is not a witness state file", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Replace the state atomically: a crash leaves the old or the new one.
fn write_state(path: &Path, s: &State) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(s)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
