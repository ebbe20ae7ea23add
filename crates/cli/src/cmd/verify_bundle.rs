//! `auditlog verify BUNDLE --key VKEY`: check a verifiable export fully
//! offline — the checkpoint's signature, then every record's inclusion
//! proof against it — and say which line is wrong if one is.

use std::fs::File;
use std::io::Read as _;
use std::path::Path;
use std::sync::mpsc;

use anyhow::{Context, Result};
use auditlog_tlog::bundle::{BundleError, Verified, Verifier};
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
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = std::time::Instant::now();
    let result = verify_file(bundle, &verifier, threads)?;
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

/// Bytes read per piece. The file is streamed, not read whole: a 1M-record
/// bundle is 2.5 GB, and reading it into one buffer cost as much time as
/// verifying it (page faults on fresh memory, then a copy), all before the
/// first record was checked. With pieces of this size a reader thread
/// fills the next one while the verifier's threads check this one, and the
/// same four buffers are reused throughout.
const PIECE: u64 = 16 << 20;

/// Verify the bundle at `path` as it is read. The outer error is an I/O
/// failure (exit 2); the inner result is the verdict.
fn verify_file(
    path: &Path,
    verifier: &NoteVerifier,
    threads: usize,
) -> Result<Result<Verified, BundleError>> {
    verify_in_pieces(path, verifier, threads, PIECE)
}

fn verify_in_pieces(
    path: &Path,
    verifier: &NoteVerifier,
    threads: usize,
    piece: u64,
) -> Result<Result<Verified, BundleError>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // Two pieces may wait while one is read and one is verified.
    let (pieces, received) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
    let (give_back, spare) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|s| {
        s.spawn(move || read_pieces(file, piece, &pieces, &spare));
        // Owned here, so returning early drops it and the reader's next
        // send fails instead of blocking the scope's join.
        let received = received;
        let next = || -> Result<Option<Vec<u8>>> {
            match received.recv() {
                Ok(piece) => Ok(Some(
                    piece.with_context(|| format!("reading {}", path.display()))?,
                )),
                Err(_) => Ok(None),
            }
        };
        let first = next()?.unwrap_or_default();
        let header_end = first
            .iter()
            .position(|b| *b == b'\n')
            .map_or(first.len(), |i| i + 1);
        let (header, records) = first.split_at(header_end);
        let mut v = match Verifier::new(header, verifier, threads) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(e) = v.feed(records) {
            return Ok(Err(e));
        }
        let _ = give_back.send(first);
        while let Some(piece) = next()? {
            if let Err(e) = v.feed(&piece) {
                // Returning drops the receiver, which stops the reader.
                return Ok(Err(e));
            }
            let _ = give_back.send(piece);
        }
        Ok(v.finish())
    })
}

/// The reader thread: pieces of whole lines (each ending with a newline,
/// except a last line without one), in file order, until the end of the
/// file, an error, or the receiver hanging up.
fn read_pieces(
    mut file: File,
    piece: u64,
    pieces: &mpsc::SyncSender<std::io::Result<Vec<u8>>>,
    spare: &mpsc::Receiver<Vec<u8>>,
) {
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let mut buf = spare.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&carry);
        carry.clear();
        let read = match (&mut file).take(piece).read_to_end(&mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = pieces.send(Err(e));
                return;
            }
        };
        if read == 0 {
            // The end: whatever is left, a last line without its newline.
            if !buf.is_empty() {
                let _ = pieces.send(Ok(buf));
            }
            return;
        }
        match buf.iter().rposition(|b| *b == b'\n') {
            Some(i) => {
                carry.extend_from_slice(buf.get(i + 1..).unwrap_or_default());
                buf.truncate(i + 1);
                if pieces.send(Ok(buf)).is_err() {
                    return;
                }
            }
            // A line longer than a piece: read on.
            None => carry = buf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of any size — smaller than a line, cutting lines anywhere —
    /// give the verdict of the whole, and a bad line is still named.
    #[test]
    fn any_piece_size_gives_the_same_verdict() {
        let signer = auditlog_tlog::NoteSigner::from_seed("test/log", [3; 32]).unwrap();
        let records: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("{{\"id\":\"r{i}\",\"pad\":\"{}\"}}", "x".repeat(i * 7)).into_bytes())
            .collect();
        let mut tree = auditlog_merkle::Tree::new();
        records.iter().for_each(|r| {
            tree.push(r);
        });
        let note = auditlog_tlog::Checkpoint {
            origin: "test/log".into(),
            size: tree.size(),
            root: tree.root(),
            extensions: Vec::new(),
        }
        .sign(&signer)
        .unwrap();
        let mut good = auditlog_tlog::bundle::header_line(&note, 50).into_bytes();
        for (i, r) in records.iter().enumerate() {
            let proof = tree.inclusion_proof(i as u64, 50).unwrap();
            good.extend(auditlog_tlog::bundle::entry_line(i as u64, &proof, r));
        }
        let bad = String::from_utf8(good.clone())
            .unwrap()
            .replace("\"r41\"", "\"r4!\"")
            .into_bytes();
        let dir = tempfile::tempdir().unwrap();
        let (good_path, bad_path) = (dir.path().join("good"), dir.path().join("bad"));
        std::fs::write(&good_path, &good).unwrap();
        std::fs::write(&bad_path, &bad).unwrap();
        let v = signer.verifier();
        for piece in [1, 7, 100, 1_000, 4_096, 1 << 20] {
            for threads in [1, 2] {
                let ok = verify_in_pieces(&good_path, &v, threads, piece).unwrap();
                assert_eq!(ok.unwrap().records, 50, "piece {piece}");
                let e = verify_in_pieces(&bad_path, &v, threads, piece)
                    .unwrap()
                    .unwrap_err()
                    .to_string();
                assert!(e.starts_with("line 43 (offset 41)"), "piece {piece}: {e}");
            }
        }
        // Cut short, and empty.
        std::fs::write(&bad_path, &good[..good.len() - 1]).unwrap();
        assert!(verify_file(&bad_path, &v, 2).unwrap().is_err());
        std::fs::write(&bad_path, b"").unwrap();
        let e = verify_file(&bad_path, &v, 2)
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
    }
}
