//! Offline verification of a verifiable export (`auditlog-bundle/1`): a
//! bundle of N generated records with inclusion proofs against one signed
//! checkpoint, written to a file and checked by the real `auditlog verify
//! FILE --key …` (wall clock, file read included). Same-run baselines over
//! the same file: parsing every line with serde_json into a `Value` (what
//! any JSON consumer of the file pays, single thread) and SHA-256 of the
//! whole file (`sha256sum`, the floor for touching every byte once).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use auditlog_merkle::Tree;
use auditlog_tlog::{bundle, Checkpoint, NoteSigner};

use crate::ingest::auditlog_bin;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Records in the bundle (and in the log it was taken from).
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Timed runs of each side.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The `auditlog` binary (default: next to this one).
    #[arg(long)]
    auditlog: Option<PathBuf>,
    /// Write the bundle (`bundle.ndjson`) and its key (`bundle.key`) into
    /// this directory and keep them, to profile `auditlog verify` on the
    /// same file afterwards (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let bin = auditlog_bin(args.auditlog)?;
    let n = args.records;
    eprintln!("generating {n} records and the tree");
    let records: Vec<Vec<u8>> = auditlog_gen::Generator::new(auditlog_gen::Config {
        seed: 17,
        ..auditlog_gen::Config::default()
    })
    .take(n)
    .map(|r| {
        auditlog_model::json::parse(&r)
            .map(|v| auditlog_model::json::to_canonical(&v))
            .unwrap_or(r)
    })
    .collect();
    let mut tree = Tree::new();
    for r in &records {
        tree.push(r);
    }
    let signer =
        NoteSigner::from_seed("bench.auditlog/log", [5; 32]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let note = Checkpoint {
        origin: signer.name().to_owned(),
        size: tree.size(),
        root: tree.root(),
        extensions: Vec::new(),
    }
    .sign(&signer)
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bundle.ndjson");
    {
        use std::io::Write as _;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        f.write_all(bundle::header_line(&note, n as u64).as_bytes())?;
        for (i, r) in records.iter().enumerate() {
            let proof = tree
                .inclusion_proof(i as u64, tree.size())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            f.write_all(&bundle::entry_line(i as u64, &proof, r))?;
        }
        f.flush()?;
    }
    drop(records);
    let bytes = std::fs::metadata(&path)?.len();
    let key = signer.verifier().encoded();
    std::fs::write(dir.join("bundle.key"), &key)?;
    println!(
        "bundle: {n} records, {:.0} MB ({:.0} bytes/record incl. proof)",
        bytes as f64 / 1e6,
        bytes as f64 / n as f64
    );
    println!("| run | auditlog verify | records/s | serde_json parse (1 thread) | records/s | sha256sum | ours/parse |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for run in 1..=args.runs {
        let t = Instant::now();
        let out = std::process::Command::new(&bin)
            .args(["verify", path.to_str().unwrap_or_default(), "--key", &key])
            .output()
            .context("running auditlog verify")?;
        let ours = t.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "verification failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let t = Instant::now();
        let data = std::fs::read(&path)?;
        let mut parsed = 0usize;
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_slice(line)?;
            parsed += usize::from(v.is_object());
        }
        let parse = t.elapsed().as_secs_f64();
        drop(data);
        if parsed != n + 1 {
            bail!("parsed {parsed} lines, expected {}", n + 1);
        }
        let t = Instant::now();
        let sum = std::process::Command::new("sha256sum").arg(&path).output();
        let sha = match sum {
            Ok(o) if o.status.success() => format!("{:.2} s", t.elapsed().as_secs_f64()),
            _ => "n/a".into(),
        };
        println!(
            "| {run} | {ours:.2} s | {:.0} | {parse:.2} s | {:.0} | {sha} | {:.2}× |",
            n as f64 / ours,
            n as f64 / parse,
            parse / ours
        );
    }
    Ok(())
}
