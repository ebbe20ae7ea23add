//! Merkle tree benchmark (issue 7): roots and proofs at 10M leaves from the
//! store's tree file, written through `auditlog_store::TreeWriter` — the
//! code the store's writer runs, one append and one `fdatasync` per group
//! commit — and read by `pread` as `Store::inclusion_proof` does, against
//! the same proofs from hashes held in memory (`auditlog_merkle::Tree`), in
//! alternating rounds.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use auditlog_merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
use auditlog_store::{TreeReader, TreeWriter};

use crate::stats::median;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Leaves in the tree.
    #[arg(long, default_value_t = 10_000_000)]
    leaves: u64,
    /// Leaves per append + fdatasync (a group commit's worth).
    #[arg(long, default_value_t = 2_000)]
    batch: usize,
    /// Proofs timed per round, contender and kind.
    #[arg(long, default_value_t = 20_000)]
    proofs: usize,
    /// Rounds; the file and memory contenders alternate within each.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Also time this many inclusion proofs with the page cache dropped
    /// before each (writes /proc/sys/vm/drop_caches: needs root).
    #[arg(long, default_value_t = 0)]
    cold: usize,
    /// Directory for the tree file (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// SplitMix64: reproducible sample positions without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What is timed: a proof or root at the full size or at a random size.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Inclusion,
    InclusionAnySize,
    Consistency,
    Root,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Inclusion => "inclusion proof, random leaf, size = all",
            Kind::InclusionAnySize => "inclusion proof, random leaf and size",
            Kind::Consistency => "consistency proof, random old size to all",
            Kind::Root => "root at a random size",
        }
    }
}

/// Proofs and roots from either contender.
trait Source {
    fn inclusion(&self, i: u64, size: u64) -> Result<Vec<Hash>>;
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>>;
    fn root(&self, size: u64) -> Result<Hash>;
}

impl Source for TreeReader {
    fn inclusion(&self, i: u64, size: u64) -> Result<Vec<Hash>> {
        Ok(self.inclusion_proof(i, size)?)
    }
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        Ok(self.consistency_proof(old, new)?)
    }
    fn root(&self, size: u64) -> Result<Hash> {
        Ok(self.root_at(size)?)
    }
}

impl Source for Tree {
    fn inclusion(&self, i: u64, size: u64) -> Result<Vec<Hash>> {
        Ok(self.inclusion_proof(i, size)?)
    }
    fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        Ok(self.consistency_proof(old, new)?)
    }
    fn root(&self, size: u64) -> Result<Hash> {
        Ok(self.root_at(size)?)
    }
}

/// Time `n` operations of `kind` at positions drawn from `seed`.
fn sample(src: &dyn Source, kind: Kind, n: usize, size: u64, seed: u64) -> Result<Vec<Duration>> {
    let mut rng = Rng(seed);
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = match kind {
            Kind::Inclusion => (rng.below(size), size),
            Kind::InclusionAnySize => {
                let s = 1 + rng.below(size);
                (rng.below(s), s)
            }
            Kind::Consistency => (rng.below(size + 1), size),
            Kind::Root => (0, rng.below(size + 1)),
        };
        let t = Instant::now();
        let len = match kind {
            Kind::Inclusion | Kind::InclusionAnySize => src.inclusion(a, b)?.len(),
            Kind::Consistency => src.consistency(a, b)?.len(),
            Kind::Root => src.root(b).map(|_| 1)?,
        };
        out.push(t.elapsed());
        std::hint::black_box(len);
    }
    Ok(out)
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    let i = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted.get(i).copied().unwrap_or_default()
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

pub fn run(args: Args) -> Result<()> {
    let n = args.leaves;
    if n < 2 {
        bail!("--leaves must be at least 2");
    }
    let tmp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("tree");
    let _ = std::fs::remove_file(&path);

    eprintln!("hashing {n} synthetic leaves");
    let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect();

    // The file, as the store's writer builds it: one append and one
    // fdatasync per group commit.
    let mut writer = TreeWriter::create(&path)?;
    let mut commits = Vec::new();
    let started = Instant::now();
    for chunk in leaves.chunks(args.batch.max(1)) {
        let t = Instant::now();
        writer.append(chunk.iter().copied())?;
        writer.sync()?;
        commits.push(t.elapsed());
    }
    let write_time = started.elapsed();
    let file = writer.reader();
    let bytes = std::fs::metadata(&path)?.len();
    commits.sort();
    println!(
        "tree file: {n} leaves, {:.1} MB, written in {:.2} s through TreeWriter ({} commits of {} leaves, append + fdatasync: p50 {}, p99 {})",
        bytes as f64 / 1e6,
        write_time.as_secs_f64(),
        commits.len(),
        args.batch,
        us(pct(&commits, 50)),
        us(pct(&commits, 99)),
    );

    eprintln!("building the in-memory baseline");
    let mut memory = Tree::new();
    for l in &leaves {
        memory.push_leaf_hash(*l);
    }
    drop(leaves);
    if file.root_at(n)? != memory.root() {
        bail!("the file's root differs from the in-memory tree's");
    }
    check(&file, &memory, n)?;

    let kinds = [
        Kind::Inclusion,
        Kind::InclusionAnySize,
        Kind::Consistency,
        Kind::Root,
    ];
    println!(
        "{} rounds × {} per contender and kind, file and memory alternating; medians over rounds",
        args.rounds, args.proofs
    );
    println!(
        "| operation | file p50 | file p99 | file max | memory p50 | memory p99 | p99 ratio |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for kind in kinds {
        let (mut f50, mut f99, mut fmax, mut m50, mut m99) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for round in 0..args.rounds.max(1) {
            let seed = 7 + round as u64;
            let order = if round % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for is_file in order {
                let src: &dyn Source = if is_file { &file } else { &memory };
                let mut d = sample(src, kind, args.proofs, n, seed)?;
                d.sort();
                if is_file {
                    f50.push(pct(&d, 50));
                    f99.push(pct(&d, 99));
                    fmax.push(d.last().copied().unwrap_or_default());
                } else {
                    m50.push(pct(&d, 50));
                    m99.push(pct(&d, 99));
                }
            }
        }
        let (f99m, m99m) = (median(&mut f99), median(&mut m99));
        println!(
            "| {} | {} | **{}** | {} | {} | {} | {:.1}× |",
            kind.name(),
            us(median(&mut f50)),
            us(f99m),
            us(median(&mut fmax)),
            us(median(&mut m50)),
            us(m99m),
            f99m.as_secs_f64() / m99m.as_secs_f64().max(1e-12),
        );
    }

    if args.cold > 0 {
        // The file was synced, so dropping clean pages loses nothing.
        let drop_caches = || {
            std::fs::write("/proc/sys/vm/drop_caches", "1\n").map_err(|e| {
                anyhow::anyhow!("--cold needs root to write /proc/sys/vm/drop_caches: {e}")
            })
        };
        // The reader as the store's writer hands it out, with the tree's
        // upper levels in memory (a running server), and one that reads
        // every hash from the file (a store just opened, before it has
        // read its upper levels), alternating.
        let bare = file.without_upper_levels();
        let mut rng = Rng(99);
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for k in 0..args.cold {
            let i = rng.below(n);
            for upper in if k % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            } {
                drop_caches()?;
                let r = if upper { &file } else { &bare };
                let t = Instant::now();
                std::hint::black_box(r.inclusion_proof(i, n)?);
                if upper { &mut with } else { &mut without }.push(t.elapsed());
            }
        }
        for (name, d) in [
            ("upper levels (>= 8) in memory", &mut with),
            ("every hash from the file", &mut without),
        ] {
            d.sort();
            println!(
                "inclusion proof with the page cache dropped before each ({} samples), {name}: p50 {}, p99 {}, max {}",
                d.len(),
                us(pct(d, 50)),
                us(pct(d, 99)),
                us(d.last().copied().unwrap_or_default())
            );
        }
        drop_caches()?;
        let t = Instant::now();
        let filled = bare.with_upper_levels_from_file()?;
        println!(
            "reading the upper levels from the file after opening, page cache dropped: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        if filled.inclusion_proof(n / 3, n)? != memory.inclusion_proof(n / 3, n)? {
            bail!("a proof through the upper levels read from the file differs");
        }
    }
    Ok(())
}

/// Before timing anything: the file's proofs are the memory tree's, and
/// they verify.
fn check(file: &TreeReader, memory: &Tree, n: u64) -> Result<()> {
    let mut rng = Rng(3);
    let root = memory.root();
    for _ in 0..1_000 {
        let i = rng.below(n);
        let p = file.inclusion_proof(i, n)?;
        if p != memory.inclusion_proof(i, n)? {
            bail!("inclusion proof of {i} differs between file and memory");
        }
        verify_inclusion(&file.leaf_hash(i)?, i, n, &p, &root)?;
        let old = rng.below(n + 1);
        let c = file.consistency_proof(old, n)?;
        verify_consistency(old, n, &c, &file.root_at(old)?, &root)?;
    }
    Ok(())
}
