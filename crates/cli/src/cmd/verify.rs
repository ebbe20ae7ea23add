//! `auditlog verify`: check a data directory's tamper evidence — every
//! stored record against the Merkle tree, every stored checkpoint's
//! signature and root, and optionally that the log only grew since a
//! checkpoint an auditor saved — without changing anything, and name the
//! first offset that does not match. `auditlog verify BUNDLE --key VKEY`
//! checks a verifiable export offline. Exit 0 when everything holds, 1 when
//! something does not, 2 for usage and I/O errors.
//!
//! The checks run in order and each adds a section to the report; checks
//! that build on a verified tree (stored checkpoints' signatures and
//! consistency, `--since CHECKPOINT_FILE`) append their own.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::output::Style;
use crate::progress;
use crate::Outcome;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "The data directory is only read: a damaged or tampered log is never repaired \
or truncated, so it stays as evidence. A server may be running on it; records it is writing \
right now are reported as not yet in the tree."
)]
pub struct Args {
    /// A verifiable export (`auditlog export --verifiable`) to check offline
    /// against the log's key.
    #[arg(value_name = "BUNDLE", conflicts_with_all = ["data_dir", "since"])]
    bundle: Option<PathBuf>,
    /// The data directory to verify.
    #[arg(long, value_name = "DIR", required_unless_present = "bundle")]
    data_dir: Option<PathBuf>,
    /// The log's verifier key (`name+id+key`, as `GET /v1/checkpoint/key`
    /// prints it), or a file holding it. Required for a bundle; for a data
    /// directory, checkpoints are otherwise checked with the key in the
    /// directory itself (give the key you trust instead).
    #[arg(long, value_name = "VKEY|FILE")]
    key: Option<String>,
    /// A signed checkpoint saved earlier (`GET /v1/checkpoint`): check the
    /// log only grew since — its root must be the root of the log's first
    /// SIZE records.
    #[arg(long, value_name = "CHECKPOINT_FILE")]
    since: Option<PathBuf>,
    /// `table` for people, `json` for programs.
    #[arg(long, short, value_enum, default_value_t = Fmt::Table)]
    output: Fmt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Fmt {
    Table,
    Json,
}

/// What one check found.
#[derive(Debug, Serialize)]
pub(crate) struct Section {
    pub(crate) check: &'static str,
    pub(crate) ok: bool,
    /// One line for people: what was verified, or the first thing wrong.
    pub(crate) summary: String,
    /// The check's own figures (tree size, root, …), in order.
    #[serde(flatten)]
    pub(crate) facts: serde_json::Map<String, serde_json::Value>,
    pub(crate) problems: Vec<JsonProblem>,
    pub(crate) notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct JsonProblem {
    pub(crate) offset: Option<u64>,
    pub(crate) problem: String,
}

/// Everything `verify` found. The tree's size and root are repeated at the
/// top: they are what an auditor compares with a checkpoint.
#[derive(Debug, Serialize)]
struct Report {
    ok: bool,
    data_dir: String,
    tree_size: u64,
    root: Option<String>,
    /// The same root as signed checkpoints and `/v1/checkpoint` write it.
    root_base64: Option<String>,
    first_bad_offset: Option<u64>,
    checks: Vec<Section>,
}

pub fn run(args: Args) -> Result<Outcome> {
    if let Some(b) = &args.bundle {
        return crate::cmd::verify_bundle::run(b, args.key.as_deref(), args.output == Fmt::Json);
    }
    let Some(dir) = args.data_dir.clone() else {
        anyhow::bail!("give --data-dir DIR, or a bundle file to verify");
    };
    let (tree, section) = tree_check(&dir)?;
    // Checks that need a verified tree go after it.
    let mut checks = vec![section];
    if tree.ok() {
        let key = crate::cmd::verify_bundle::key(args.key.as_deref(), &dir)?;
        checks.push(crate::cmd::verify_checkpoints::stored(&dir, &key)?);
        if let Some(f) = &args.since {
            checks.push(crate::cmd::verify_checkpoints::since(&dir, &key, f)?);
        }
    }
    let report = Report {
        ok: checks.iter().all(|c| c.ok),
        data_dir: dir.display().to_string(),
        tree_size: tree.tree_leaves,
        root: tree.root.as_ref().map(auditlog_store::tree::hex),
        root_base64: tree.root.as_ref().map(|r| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(r)
        }),
        first_bad_offset: tree.first_bad_offset(),
        checks,
    };
    match args.output {
        Fmt::Json => crate::output::write_json(&mut std::io::stdout().lock(), &report)?,
        Fmt::Table => print_table(&report),
    }
    Ok(if report.ok {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// Every record of the log against the tree file.
fn tree_check(dir: &Path) -> Result<(auditlog_store::TreeCheck, Section)> {
    let bar = progress::bytes("verifying");
    let t = auditlog_store::verify_tree(dir, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let summary = match (&t.root, t.problems.first()) {
        (Some(_), _) => format!(
            "the Merkle tree matches the log: {} record(s) verified",
            t.tree_leaves
        ),
        (None, Some(p)) => match t.first_bad_offset() {
            Some(o) => format!("first bad offset {o}: {}", first_at(&t, o)),
            None => p.what.clone(),
        },
        (None, None) => "the tree could not be verified".into(),
    };
    let mut facts = serde_json::Map::new();
    facts.insert("tree_size".into(), t.tree_leaves.into());
    facts.insert("log_records".into(), t.log_records.into());
    facts.insert(
        "root".into(),
        t.root.as_ref().map_or(serde_json::Value::Null, |r| {
            auditlog_store::tree::hex(r).into()
        }),
    );
    facts.insert(
        "first_bad_offset".into(),
        t.first_bad_offset()
            .map_or(serde_json::Value::Null, Into::into),
    );
    let section = Section {
        check: "tree",
        ok: t.ok(),
        summary,
        facts,
        problems: t
            .problems
            .iter()
            .map(|p| JsonProblem {
                offset: p.offset,
                problem: p.what.clone(),
            })
            .collect(),
        notes: t.notes.clone(),
    };
    Ok((t, section))
}

/// The first problem about offset `o`.
fn first_at(t: &auditlog_store::TreeCheck, o: u64) -> String {
    t.problems
        .iter()
        .find(|p| p.offset == Some(o))
        .map(|p| p.what.clone())
        .unwrap_or_default()
}

fn print_table(r: &Report) {
    let style = Style::stdout();
    for c in &r.checks {
        let verdict = if c.ok {
            style.bold("OK")
        } else {
            style.red("FAILED")
        };
        println!("{verdict} ({}): {}", c.check, c.summary);
        for p in c.problems.iter().skip(usize::from(!c.ok)) {
            println!("  {} {}", style.red("problem:"), p.problem);
        }
        for n in &c.notes {
            println!("  note: {n}");
        }
    }
    let root = r.root.as_deref().unwrap_or("(not verified)");
    println!("tree size  {}", r.tree_size);
    println!("root       {root}");
    if let Some(b) = &r.root_base64 {
        println!("root (b64) {b}   (as checkpoints write it)");
    }
}
