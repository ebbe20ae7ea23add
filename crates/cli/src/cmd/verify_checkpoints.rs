//! `auditlog verify --data-dir` checks that build on a verified tree: every
//! checkpoint kept in `checkpoints.db` is signed by the log's key and its
//! root is the root of the log's first SIZE records (so all of them are
//! mutually consistent: each is a prefix of one verified log), and with
//! `--since FILE` the same for a checkpoint an auditor saved.

use std::path::Path;

use anyhow::{Context, Result};
use auditlog_store::rusqlite::{Connection, OpenFlags};
use auditlog_tlog::{Checkpoint, NoteVerifier};

use crate::cmd::verify::{JsonProblem, Section};

/// Whether `c` describes a prefix of the store's (verified) tree.
fn matches_log(store: &auditlog_store::Store, c: &Checkpoint) -> Result<(), String> {
    let size = store.tree_size();
    if c.size > size {
        return Err(format!(
            "it covers {} records but the log has {size} — records were removed after it was signed",
            c.size
        ));
    }
    let root = store.root_at(c.size).map_err(|e| e.to_string())?;
    if root != c.root {
        return Err(format!(
            "its root is not the root of the log's first {} records — the log was rewritten after it was signed",
            c.size
        ));
    }
    Ok(())
}

/// Every stored checkpoint.
pub(crate) fn stored(dir: &Path, key: &NoteVerifier) -> Result<Section> {
    let mut s = Section {
        check: "checkpoints",
        ok: true,
        summary: String::new(),
        facts: serde_json::Map::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let db = dir.join("checkpoints.db");
    if !db.exists() {
        s.summary = "no checkpoints are kept in this directory".into();
        return Ok(s);
    }
    // Checkpoints first, then the store: a server may sign a new one
    // meanwhile, and every checkpoint read must be older than the tree.
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", db.display()))?;
    let mut st = conn.prepare("select size, note from checkpoints order by size")?;
    let rows: Vec<(i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    drop(st);
    drop(conn);
    let store = auditlog_store::Store::open_read_only(dir)?;
    let mut good = 0u64;
    for (size, note) in &rows {
        let why = match Checkpoint::open(note, key) {
            Err(e) => Some(format!("its signature does not verify: {e}")),
            Ok(c) if c.size != *size as u64 => {
                Some(format!("it is filed under size {size} but says {}", c.size))
            }
            Ok(c) => matches_log(&store, &c).err(),
        };
        match why {
            None => good += 1,
            Some(w) => s.problems.push(JsonProblem {
                offset: None,
                problem: format!("checkpoint at size {size}: {w}"),
            }),
        }
    }
    s.ok = s.problems.is_empty();
    s.facts.insert("checkpoints".into(), rows.len().into());
    s.facts.insert("key".into(), key.encoded().into());
    s.summary = match s.problems.first() {
        None => format!("{good} signed checkpoint(s) verify and are prefixes of the log"),
        Some(p) => p.problem.clone(),
    };
    Ok(s)
}

/// A checkpoint saved earlier: the log only grew since.
pub(crate) fn since(dir: &Path, key: &NoteVerifier, file: &Path) -> Result<Section> {
    let note =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let store = auditlog_store::Store::open_read_only(dir)?;
    let mut s = Section {
        check: "since",
        ok: true,
        summary: String::new(),
        facts: serde_json::Map::new(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    let why = match Checkpoint::open(&note, key) {
        Err(e) => Err(format!(
            "{}: the checkpoint does not verify: {e}",
            file.display()
        )),
        Ok(c) => {
            s.facts.insert("since_size".into(), c.size.into());
            matches_log(&store, &c).map_err(|w| format!("{}: {w}", file.display()))
        }
    };
    match why {
        Ok(()) => {
            s.summary = format!(
                "the log only grew since {} (now {} records)",
                file.display(),
                store.tree_size()
            )
        }
        Err(w) => {
            s.ok = false;
            s.summary = w.clone();
            s.problems.push(JsonProblem {
                offset: None,
                problem: w,
            });
        }
    }
    Ok(s)
}
