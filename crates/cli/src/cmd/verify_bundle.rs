//! `auditlog verify BUNDLE --key VKEY`: check a verifiable export fully
//! offline — the checkpoint's signature, then every record's inclusion
//! proof against it — and say which line is wrong if one is.

use std::path::Path;

use anyhow::{Context, Result};
use auditlog_tlog::NoteVerifier;

use crate::output::Style;
use crate::Outcome;

/// The verifier key from `--key` (text or a file holding it), else the
/// public half of the data directory's own signing key.
pub(crate) fn key(arg: Option<&str>, dir: &Path) -> Result<NoteVerifier> {
    if let Some(k) = arg {
        let text = if Path::new(k).is_file() {
            std::fs::read_to_string(k).with_context(|| format!("reading the key file {k}"))?
        } else {
            k.to_owned()
        };
        return NoteVerifier::from_encoded(&text)
            .context("--key is not a verifier key (name+id+key)");
    }
    let path = dir.join("signing.key");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no --key given and {} cannot be read; give the log's verifier key with --key",
            path.display()
        )
    })?;
    Ok(auditlog_tlog::NoteSigner::from_encoded(&text)
        .with_context(|| format!("{} is not a signing key", path.display()))?
        .verifier())
}

pub(crate) fn run(bundle: &Path, key: Option<&str>, json: bool) -> Result<Outcome> {
    let Some(key) = key else {
        anyhow::bail!(
            "verifying a bundle needs the log's key: --key VKEY (from GET /v1/checkpoint/key, obtained over a channel you trust)"
        );
    };
    let verifier = self::key(Some(key), Path::new("."))?;
    let bytes = std::fs::read(bundle).with_context(|| format!("reading {}", bundle.display()))?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    let result = auditlog_tlog::bundle::verify(&bytes, &verifier, threads);
    let secs = started.elapsed().as_secs_f64();
    let style = Style::stdout();
    match &result {
        Ok(v) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "records": v.records, "origin": v.checkpoint.origin,
                        "tree_size": v.checkpoint.size, "seconds": secs})
                );
            } else {
                println!(
                    "{} {} record(s) are in the log {} as signed at {} records (checked in {secs:.2} s)",
                    style.bold("OK"),
                    v.records,
                    v.checkpoint.origin,
                    v.checkpoint.size
                );
            }
            Ok(Outcome::Ok)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "problem": e.to_string()})
                );
            } else {
                println!("{} {}: {e}", style.red("FAILED"), bundle.display());
            }
            Ok(Outcome::Findings)
        }
    }
}
