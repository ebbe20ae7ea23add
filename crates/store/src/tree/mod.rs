//! The Merkle tree file (`DATA_DIR/tree`, `docs/format.md` §6): the RFC 6962
//! tree whose leaves are the log's records in offset order, kept as 32-byte
//! hashes in `auditlog-merkle`'s stored-hash order, so the root and proofs
//! at every committed size are a few `pread`s away.
//!
//! The tree is derived from the log, like the index: the writer appends a
//! commit's hashes after the log's `fdatasync` and syncs them before the
//! commit is acknowledged; `recover` extends and repairs the tree from the
//! log on open; `verify` checks it against the log without changing
//! anything.

pub(crate) mod recover;
pub(crate) mod upper;
pub mod verify;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{mpsc, Arc};

use auditlog_merkle::{stored_hash_count, Frontier, Hash, HashReader, NodeId, HASH_SIZE};

use self::upper::{UpperLevels, UPPER_LEVEL};

use crate::log::{Fault, FaultAction, FaultHook};

/// The tree file's name in the data directory.
pub const TREE_FILE: &str = "tree";
/// Magic at the start of the tree file; the trailing `1` is the format version.
pub const TREE_MAGIC: &[u8; 8] = b"ALOGTRE1";
/// Bytes before the first hash: the magic, then zeros up to 32 bytes, so
/// every hash starts at a multiple of 32 and none straddles a disk sector
/// or page: a write torn by a power failure leaves whole hashes or none.
pub const TREE_HEADER_LEN: u64 = 32;

const HASH_BYTES: u64 = HASH_SIZE as u64;

/// Byte position of stored hash `index` in the tree file.
pub const fn hash_pos(index: u64) -> u64 {
    TREE_HEADER_LEN + index * HASH_BYTES
}

/// The 32 header bytes.
pub fn header() -> [u8; TREE_HEADER_LEN as usize] {
    let mut h = [0u8; TREE_HEADER_LEN as usize];
    h.iter_mut()
        .zip(TREE_MAGIC)
        .for_each(|(dst, src)| *dst = *src);
    h
}

/// The most leaves whose stored hashes all fit in `slots`: the largest `n`
/// with `stored_hash_count(n) <= slots`.
pub fn leaves_within(slots: u64) -> u64 {
    // stored_hash_count(n) lies in [2n − 64, 2n], so the answer is at most
    // 32 steps past slots / 2.
    let mut n = slots / 2;
    while stored_hash_count(n + 1) <= slots {
        n += 1;
    }
    n
}

/// How many leaves have at least their leaf hash among the first `slots`
/// stored hashes (a leaf's hashes start with its own).
pub fn leaves_started(slots: u64) -> u64 {
    let n = leaves_within(slots);
    n + u64::from(stored_hash_count(n) < slots)
}

/// Lower-case hex, for messages and reports.
pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why the tree could not be read, written, or trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TreeFileError {
    /// An operating-system error.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the tree header.
    #[error("{path} is not a Merkle tree file ({why})")]
    Header { path: String, why: String },
    /// A hash in the tree file contradicts the log. A crash leaves hashes
    /// that are right or all zeros, never different ones, so the record or
    /// the tree was changed after it was written.
    #[error("the Merkle tree file disagrees with the log at offset {offset}: its stored hash {index} is {}, the log's record gives {}. The record or the tree was changed after it was written; nothing was modified. Run `auditlog verify` to see what differs; if the log is right after all, remove the tree file and the next start rebuilds it from the log", hex(.stored), hex(.computed))]
    Contradicts {
        offset: u64,
        index: u64,
        stored: Hash,
        computed: Hash,
    },
    /// The tree holds leaves the log does not: records that were durable
    /// (the tree is written only after the log's sync) are gone.
    #[error("the log ends at offset {log_records} but the Merkle tree has {tree_leaves} leaves: records the tree proves were durable are missing from the log (truncated, or a segment removed); nothing was modified. Restore the log from a backup; to accept the loss, remove the tree file and the next start rebuilds it from the log")]
    LogShorter { log_records: u64, tree_leaves: u64 },
    /// A size beyond the committed tree.
    #[error("tree size {size} is beyond the {tree_size} records in the tree")]
    Beyond { size: u64, tree_size: u64 },
    /// A leaf beyond the committed tree.
    #[error("offset {offset} is not in the tree of {tree_size} records")]
    NoLeaf { offset: u64, tree_size: u64 },
    /// This store has no tree to answer from.
    #[error("no Merkle tree: {0}")]
    Unavailable(String),
    /// A previous tree write or sync failed; the file's state is unknown
    /// until the store is reopened (recovery then repairs it from the log).
    #[error("the Merkle tree stopped accepting writes after an I/O failure; restart to recover")]
    Poisoned,
    /// Computing a root or proof failed.
    #[error(transparent)]
    Merkle(#[from] auditlog_merkle::TreeError<std::io::Error>),
}

pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> TreeFileError {
    let context = context.into();
    move |source| TreeFileError::Io { context, source }
}

fn injected(what: &str) -> TreeFileError {
    TreeFileError::Io {
        context: format!("injected {what} failure"),
        source: std::io::Error::other("fault injection"),
    }
}

/// Appends leaves to a tree file: the store's writer, and the benchmark,
/// which writes synthetic leaves through the same code.
pub struct TreeWriter {
    file: Arc<File>,
    frontier: Frontier,
    // Reused across appends: the stored hashes of one commit.
    scratch: Vec<Hash>,
    fault: Option<FaultHook>,
    poisoned: bool,
    // The thread behind `begin_sync`/`end_sync`, started on first use.
    syncer: Option<Syncer>,
    sync_in_flight: bool,
    // The tree's upper levels, shared with every reader made from this
    // writer (`upper.rs`), and those the current append completes.
    upper: Arc<UpperLevels>,
    upper_new: Vec<(NodeId, Hash)>,
}

/// A thread that `fdatasync`s the tree file on request, so the store's
/// writer can index a commit while the disk flushes the commit's hashes.
struct Syncer {
    request: mpsc::SyncSender<()>,
    done: mpsc::Receiver<std::io::Result<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Syncer {
    fn start(file: Arc<File>) -> Result<Syncer, TreeFileError> {
        let (request, requests) = mpsc::sync_channel::<()>(1);
        let (reply, done) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("auditlog-tree-sync".into())
            .spawn(move || {
                while requests.recv().is_ok() {
                    if reply.send(file.sync_data()).is_err() {
                        return;
                    }
                }
            })
            .map_err(io("starting the tree sync thread"))?;
        Ok(Syncer {
            request,
            done,
            thread: Some(thread),
        })
    }
}

impl Drop for TreeWriter {
    fn drop(&mut self) {
        if let Some(mut s) = self.syncer.take() {
            // Closing the request channel ends the thread.
            drop(s.request);
            if let Some(t) = s.thread.take() {
                let _ = t.join();
            }
        }
    }
}

impl std::fmt::Debug for TreeWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeWriter")
            .field("size", &self.frontier.size())
            .finish_non_exhaustive()
    }
}

impl TreeWriter {
    /// Create an empty tree file at `path`, which must not exist.
    pub fn create(path: &Path) -> Result<TreeWriter, TreeFileError> {
        let file = create_file(path)?;
        Ok(TreeWriter::resume(Arc::new(file), Frontier::new(), None))
    }

    pub(crate) fn resume(file: Arc<File>, frontier: Frontier, fault: Option<FaultHook>) -> Self {
        let upper = Arc::new(UpperLevels::default());
        let size = frontier.size();
        if size > 0 {
            if let Err(e) = upper::load_recent(&file, size, &upper) {
                tracing::warn!(error = %e, "could not read the Merkle tree's newest hashes into memory; proofs read them from the file");
            }
        }
        if size >> UPPER_LEVEL > 0 {
            // The upper levels of the tree as opened, read on a thread:
            // opening does not wait for it (proofs read the file until it
            // is done), and it stops once this writer's store is gone.
            let (file, weak) = (file.clone(), Arc::downgrade(&upper));
            let spawned = std::thread::Builder::new()
                .name("auditlog-tree-upper".into())
                .spawn(move || {
                    let started = std::time::Instant::now();
                    match upper::fill_from_file(&file, size, &weak) {
                        Ok(()) => tracing::debug!(
                            leaves = size,
                            ms = started.elapsed().as_millis() as u64,
                            "read the Merkle tree's upper levels into memory"
                        ),
                        Err(e) => tracing::warn!(
                            error = %e,
                            "could not read the Merkle tree's upper levels into memory; proofs read them from the file"
                        ),
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "could not start the tree's upper-level reader; proofs read the file");
            }
        }
        TreeWriter {
            file,
            frontier,
            scratch: Vec::new(),
            fault,
            poisoned: false,
            syncer: None,
            sync_in_flight: false,
            upper,
            upper_new: Vec::new(),
        }
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Append leaves (their [`auditlog_merkle::leaf_hash`]es) with one
    /// `pwrite` of every stored hash they add. Not durable until
    /// [`TreeWriter::sync`].
    pub fn append(&mut self, leaves: impl IntoIterator<Item = Hash>) -> Result<(), TreeFileError> {
        if self.poisoned {
            return Err(TreeFileError::Poisoned);
        }
        let first = stored_hash_count(self.frontier.size());
        self.scratch.clear();
        self.upper_new.clear();
        for leaf in leaves {
            let (j, before) = (self.frontier.size(), self.scratch.len());
            self.frontier.append(leaf, &mut self.scratch);
            // Leaf j's hashes are its own, then the subtrees (l, j >> l)
            // it completes, level by level: keep those of the upper levels.
            if let Some(completed) = self.scratch.get(before..) {
                for (l, h) in completed.iter().enumerate().skip(UPPER_LEVEL as usize) {
                    let node = u32::try_from(l).ok().and_then(|l| NodeId::new(l, j >> l));
                    if let Some(node) = node {
                        self.upper_new.push((node, *h));
                    }
                }
            }
        }
        let r = write_at(
            &self.file,
            hash_pos(first),
            self.scratch.as_flattened(),
            self.fault.as_ref(),
        );
        if r.is_ok() {
            self.upper.add(&self.upper_new, first, &self.scratch);
        }
        if r.is_err() {
            // The frontier is ahead of the file now: refuse everything
            // until a reopen recomputes the tail from the log.
            self.poisoned = true;
        }
        r
    }

    /// Make everything appended so far durable (fdatasync).
    pub fn sync(&mut self) -> Result<(), TreeFileError> {
        if self.poisoned {
            return Err(TreeFileError::Poisoned);
        }
        if let Some(hook) = &self.fault {
            if !matches!(hook(Fault::TreeSync), FaultAction::Proceed) {
                self.poisoned = true;
                return Err(injected("tree sync"));
            }
        }
        let r = self
            .file
            .sync_data()
            .map_err(io("syncing the Merkle tree file"));
        if r.is_err() {
            // As for the log: after a failed fsync the page cache's state
            // is unknown ("fsyncgate").
            self.poisoned = true;
        }
        r
    }

    /// Start making everything appended so far durable on the sync
    /// thread; [`TreeWriter::end_sync`] waits for it. Same guarantee as
    /// [`TreeWriter::sync`], but the caller can work meanwhile.
    pub(crate) fn begin_sync(&mut self) -> Result<(), TreeFileError> {
        if self.sync_in_flight {
            self.end_sync()?;
        }
        if self.poisoned {
            return Err(TreeFileError::Poisoned);
        }
        if let Some(hook) = &self.fault {
            if !matches!(hook(Fault::TreeSync), FaultAction::Proceed) {
                self.poisoned = true;
                return Err(injected("tree sync"));
            }
        }
        if self.syncer.is_none() {
            self.syncer = Some(Syncer::start(self.file.clone())?);
        }
        let sent = self.syncer.as_ref().map(|s| s.request.send(()).is_ok());
        if sent != Some(true) {
            self.poisoned = true;
            return Err(TreeFileError::Unavailable(
                "the tree sync thread has stopped".into(),
            ));
        }
        self.sync_in_flight = true;
        Ok(())
    }

    /// Wait for the sync [`TreeWriter::begin_sync`] started.
    pub(crate) fn end_sync(&mut self) -> Result<(), TreeFileError> {
        if !self.sync_in_flight {
            return Ok(());
        }
        self.sync_in_flight = false;
        let r = match self.syncer.as_ref().map(|s| s.done.recv()) {
            Some(Ok(r)) => r.map_err(io("syncing the Merkle tree file")),
            _ => Err(TreeFileError::Unavailable(
                "the tree sync thread has stopped".into(),
            )),
        };
        if r.is_err() {
            self.poisoned = true;
        }
        r
    }

    /// A reader of the tree as it is now, with the upper levels this
    /// writer keeps in memory.
    pub fn reader(&self) -> TreeReader {
        TreeReader {
            upper: Some(self.upper.clone()),
            ..TreeReader::from_file(self.file.clone(), self.size())
        }
    }

    /// A reader of every size this writer will reach: the store narrows it
    /// to the committed size before each use.
    pub(crate) fn live_reader(&self) -> TreeReader {
        TreeReader {
            upper: Some(self.upper.clone()),
            ..TreeReader::from_file(self.file.clone(), u64::MAX)
        }
    }
}

fn write_at(
    file: &File,
    pos: u64,
    bytes: &[u8],
    fault: Option<&FaultHook>,
) -> Result<(), TreeFileError> {
    if let Some(hook) = fault {
        match hook(Fault::TreeWrite { bytes: bytes.len() }) {
            FaultAction::Proceed => {}
            FaultAction::Fail => return Err(injected("tree write")),
            FaultAction::Partial(n) => {
                let part = bytes.get(..n.min(bytes.len())).unwrap_or(&[]);
                file.write_all_at(part, pos)
                    .map_err(io("appending to the Merkle tree file"))?;
                return Err(injected("partial tree write"));
            }
        }
    }
    file.write_all_at(bytes, pos)
        .map_err(io("appending to the Merkle tree file"))
}

pub(crate) fn create_file(path: &Path) -> Result<File, TreeFileError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(io(format!("creating {}", path.display())))?;
    file.write_all_at(&header(), 0)
        .map_err(io("writing the tree file header"))?;
    file.sync_all().map_err(io("syncing the new tree file"))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(format!("syncing directory {}", dir.display())))?;
    }
    Ok(file)
}

/// Read access to a tree of a fixed size: roots and proofs at any size up
/// to it. Cheap to clone.
///
/// Hashes come from the file by `pread` (a proof reads at most two per
/// level: 48 at 10 million leaves), except the upper levels a writer keeps
/// in memory (`upper.rs`: subtrees of 256 leaves and more, for readers
/// made by [`TreeWriter::reader`] and the store's), and, in a read-only
/// store, the stored hashes from `mem_start` on, which were recomputed
/// from the log at open and are held in memory.
#[derive(Clone, Debug)]
pub struct TreeReader {
    file: Arc<File>,
    size: u64,
    mem_start: u64,
    mem: Arc<Vec<Hash>>,
    upper: Option<Arc<UpperLevels>>,
}

impl TreeReader {
    pub(crate) fn from_file(file: Arc<File>, size: u64) -> Self {
        TreeReader {
            file,
            size,
            mem_start: u64::MAX,
            mem: Arc::new(Vec::new()),
            upper: None,
        }
    }

    pub(crate) fn with_memory_tail(
        file: Arc<File>,
        size: u64,
        mem_start: u64,
        mem: Vec<Hash>,
    ) -> Self {
        TreeReader {
            file,
            size,
            mem_start,
            mem: Arc::new(mem),
            upper: None,
        }
    }

    /// The same tree, seen at a smaller (or equal) size.
    pub(crate) fn at_size(&self, size: u64) -> Self {
        TreeReader {
            size: size.min(self.size),
            ..self.clone()
        }
    }

    /// Leaves in the tree.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The same tree read from the file alone, without the upper levels in
    /// memory (for benchmarks: a store right after opening, before its
    /// upper levels are read).
    pub fn without_upper_levels(&self) -> Self {
        TreeReader {
            upper: None,
            ..self.clone()
        }
    }

    /// The same tree with its upper levels read from the file now, on this
    /// thread (what a store does on a thread after opening).
    pub fn with_upper_levels_from_file(&self) -> Result<Self, TreeFileError> {
        let upper = Arc::new(UpperLevels::default());
        upper::load_recent(&self.file, self.size, &upper)
            .map_err(io("reading the Merkle tree's newest hashes"))?;
        upper::fill_from_file(&self.file, self.size, &Arc::downgrade(&upper))
            .map_err(io("reading the Merkle tree's upper levels"))?;
        Ok(TreeReader {
            upper: Some(upper),
            ..self.clone()
        })
    }

    fn check(&self, size: u64) -> Result<(), TreeFileError> {
        if size > self.size {
            return Err(TreeFileError::Beyond {
                size,
                tree_size: self.size,
            });
        }
        Ok(())
    }

    /// The root of the tree of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeFileError> {
        self.check(size)?;
        Ok(auditlog_merkle::tree_hash(size, self)?)
    }

    /// The inclusion proof of leaf `offset` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, offset: u64, size: u64) -> Result<Vec<Hash>, TreeFileError> {
        self.check(size)?;
        Ok(auditlog_merkle::inclusion_proof(offset, size, self)?)
    }

    /// The consistency proof from the tree of `old` leaves to that of `new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, TreeFileError> {
        self.check(new)?;
        Ok(auditlog_merkle::consistency_proof(old, new, self)?)
    }

    /// The stored leaf hash of `offset`.
    pub fn leaf_hash(&self, offset: u64) -> Result<Hash, TreeFileError> {
        if offset >= self.size {
            return Err(TreeFileError::NoLeaf {
                offset,
                tree_size: self.size,
            });
        }
        let hashes = self
            .read_hashes(&[stored_hash_count(offset)])
            .map_err(io("reading a leaf hash"))?;
        hashes
            .into_iter()
            .next()
            .ok_or_else(|| TreeFileError::Unavailable("a leaf hash read returned nothing".into()))
    }
}

/// File reads closer together than this are merged into one `pread`: a
/// 256-leaf block's stored hashes up to level 7 are 510 consecutive ones
/// (16,320 bytes), so a proof's hashes below the cached upper levels
/// (`upper.rs`) come in one read.
const READ_SPAN: u64 = 16 << 10;

impl HashReader for TreeReader {
    type Error = std::io::Error;

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, std::io::Error> {
        let limit = stored_hash_count(self.size);
        let mut out = vec![[0u8; HASH_SIZE]; indexes.len()];
        let mut cached = vec![false; indexes.len()];
        if let Some(upper) = &self.upper {
            upper.lookup(indexes, |k, h| {
                if let (Some(o), Some(c)) = (out.get_mut(k), cached.get_mut(k)) {
                    *o = h;
                    *c = true;
                }
            });
        }
        let mut from_file: Vec<(u64, usize)> = Vec::with_capacity(indexes.len());
        for (k, &index) in indexes.iter().enumerate() {
            if index >= limit {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "stored hash {index} is beyond the tree of {} leaves",
                        self.size
                    ),
                ));
            }
            if cached.get(k) == Some(&true) {
                continue;
            }
            if index >= self.mem_start {
                let i = usize::try_from(index - self.mem_start).unwrap_or(usize::MAX);
                let h = self.mem.get(i).ok_or_else(|| {
                    std::io::Error::other(format!("stored hash {index} is not in memory"))
                })?;
                if let Some(o) = out.get_mut(k) {
                    *o = *h;
                }
            } else {
                from_file.push((index, k));
            }
        }
        // In file order, neighbours merged: a proof's lower levels lie next
        // to its leaf (the hashes of a subtree follow its last leaf), so this
        // turns up to 48 reads into about half as many, in the ascending
        // order the kernel's readahead expects.
        from_file.sort_unstable();
        let mut buf = Vec::new();
        let mut rest = &from_file[..];
        while let Some(&(first, _)) = rest.first() {
            let n = rest
                .iter()
                .take_while(|(i, _)| hash_pos(*i) + HASH_BYTES - hash_pos(first) <= READ_SPAN)
                .count();
            let (run, tail) = rest.split_at(n);
            let last = run.last().map_or(first, |r| r.0);
            buf.resize(
                usize::try_from((last - first + 1) * HASH_BYTES).unwrap_or(0),
                0,
            );
            self.file.read_exact_at(&mut buf, hash_pos(first))?;
            for &(index, k) in run {
                let at = usize::try_from((index - first) * HASH_BYTES).unwrap_or(usize::MAX);
                if let (Some(o), Some(src)) = (out.get_mut(k), buf.get(at..at + HASH_SIZE)) {
                    o.copy_from_slice(src);
                }
            }
            rest = tail;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_within_and_started() {
        for n in 0..2_000u64 {
            let s = stored_hash_count(n);
            assert_eq!(leaves_within(s), n);
            assert_eq!(leaves_started(s), n);
            // One hash more starts leaf n, whose group is 1 + trailing_ones(n) long.
            assert_eq!(leaves_started(s + 1), n + 1);
            if n.trailing_ones() > 0 {
                assert_eq!(leaves_within(s + 1), n, "group of leaf {n} incomplete");
            }
        }
    }

    fn unhex(s: &str) -> Hash {
        let mut h = [0u8; 32];
        for (i, b) in h.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        h
    }

    /// The test vectors of `docs/format.md` §6 (computed independently with
    /// Python's hashlib): JSON → canonical bytes → leaf, and the file bytes.
    #[test]
    fn known_answers_of_the_format_doc() {
        let canonical = |json: &str| {
            auditlog_model::parse_record(json.as_bytes())
                .unwrap()
                .canonical
        };
        let recs = [
            canonical(r#"{ "b": 1, "a": "x" }"#),
            canonical(r#"{"id":"2"}"#),
            canonical("{}"),
        ];
        assert_eq!(recs[0], br#"{"a":"x","b":1}"#);
        let leaves = [
            "c0235d93be9f4512c5c6c08a3dfae0933d286453e0fc009f4b16c85afd719d7e",
            "1a4b94f61742bfc82aa5fdd9b2f016cfc45ebdde6177347466054b9c8a745b9a",
            "28a3a18f6cd6406b086e9ffda1f9b8a13dbcf44b0f3f32cb9031a11fd053acf9",
        ]
        .map(unhex);
        let node01 = unhex("9b38665a81d15b6acdab3d0a688751bf1125cf3b24f20d24cff2cf54261dd7d7");
        let root3 = unhex("88cfeac85a99a7f966c6ecad7d300f217f6fddf7c8e54393fb526c5165926bd0");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(TREE_FILE);
        let mut w = TreeWriter::create(&path).unwrap();
        w.append(recs.iter().map(|r| auditlog_merkle::leaf_hash(r)))
            .unwrap();
        w.sync().unwrap();
        assert_eq!(w.root(), root3);
        let mut want = header().to_vec();
        for h in [leaves[0], leaves[1], node01, leaves[2]] {
            want.extend_from_slice(&h);
        }
        assert_eq!(std::fs::read(&path).unwrap(), want);
        let r = w.reader();
        assert_eq!(r.root_at(2).unwrap(), node01);
        assert_eq!(r.root_at(3).unwrap(), root3);
        assert_eq!(r.leaf_hash(2).unwrap(), leaves[2]);
        assert_eq!(r.inclusion_proof(2, 3).unwrap(), vec![node01]);
        assert!(r.root_at(4).is_err());
    }

    /// Merged, reordered reads give each index its own hash, in the order
    /// asked, with duplicates and far-apart indexes mixed.
    #[test]
    fn reads_in_any_order_match_the_memory_tree() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TreeWriter::create(&dir.path().join(TREE_FILE)).unwrap();
        let mut t = auditlog_merkle::Tree::new();
        let leaves: Vec<Hash> = (0u64..3_000)
            .map(|i| auditlog_merkle::leaf_hash(&i.to_le_bytes()))
            .collect();
        for chunk in leaves.chunks(77) {
            w.append(chunk.iter().copied()).unwrap();
            chunk.iter().for_each(|l| {
                t.push_leaf_hash(*l);
            });
        }
        let r = w.reader();
        let n = stored_hash_count(3_000);
        let mut x = 12345u64;
        for len in [1usize, 2, 5, 48, 200] {
            let idx: Vec<u64> = (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    (x >> 33) % n
                })
                .chain([0, n - 1, 0])
                .collect();
            assert_eq!(
                r.read_hashes(&idx).unwrap(),
                t.store().read_hashes(&idx).unwrap()
            );
        }
        assert!(r.read_hashes(&[n]).is_err());
    }

    /// The upper levels a writer keeps and those read back from its file
    /// are the same hashes, proofs and roots through either equal the
    /// memory tree's at every size, and a reader still sees only its size
    /// while the writer (and the cache) grow past it.
    #[test]
    fn cached_upper_levels_give_the_memory_trees_answers() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = TreeWriter::create(&dir.path().join(TREE_FILE)).unwrap();
        let mut t = auditlog_merkle::Tree::new();
        let n = 200_003u64;
        let mut x = 777u64;
        let mut rnd = move |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m.max(1)
        };
        let mut leaf = 0u64;
        while leaf < n {
            let k = (1 + rnd(3_000)).min(n - leaf);
            let hashes: Vec<Hash> = (leaf..leaf + k)
                .map(|i| auditlog_merkle::leaf_hash(&i.to_le_bytes()))
                .collect();
            w.append(hashes.iter().copied()).unwrap();
            hashes.iter().for_each(|h| {
                t.push_leaf_hash(*h);
            });
            leaf += k;
        }
        let from_writer = w.reader();
        let filled = Arc::new(UpperLevels::default());
        upper::fill_from_file(&w.file, n, &Arc::downgrade(&filled)).unwrap();
        let from_file = TreeReader {
            upper: Some(filled.clone()),
            ..TreeReader::from_file(w.file.clone(), n)
        };
        // Every upper node, both ways.
        let nodes: Vec<u64> = (UPPER_LEVEL..18)
            .flat_map(|l| (0..n >> l).map(move |j| NodeId::new(l, j).unwrap().stored_index()))
            .collect();
        let want = t.store().read_hashes(&nodes).unwrap();
        for cache in [&w.upper, &filled] {
            let mut got = vec![None; nodes.len()];
            cache.lookup(&nodes, |k, h| got[k] = Some(h));
            assert_eq!(got, want.iter().copied().map(Some).collect::<Vec<_>>());
        }
        for _ in 0..2_000 {
            let size = 1 + rnd(n);
            let i = rnd(size);
            let old = rnd(size + 1);
            for r in [&from_writer, &from_file] {
                assert_eq!(
                    r.inclusion_proof(i, size).unwrap(),
                    t.inclusion_proof(i, size).unwrap()
                );
                assert_eq!(
                    r.consistency_proof(old, size).unwrap(),
                    t.consistency_proof(old, size).unwrap()
                );
                assert_eq!(r.root_at(size).unwrap(), t.root_at(size).unwrap());
            }
        }
        // The writer grows on: the old reader keeps its size, even for
        // hashes now in the cache; a new one sees the new size.
        let more: Vec<Hash> = (n..n + 70_000)
            .map(|i| auditlog_merkle::leaf_hash(&i.to_le_bytes()))
            .collect();
        w.append(more.iter().copied()).unwrap();
        more.iter().for_each(|h| {
            t.push_leaf_hash(*h);
        });
        let beyond = NodeId::new(16, (n + 70_000) / 65_536 - 1)
            .unwrap()
            .stored_index();
        assert!(beyond >= stored_hash_count(n));
        assert!(from_writer.read_hashes(&[beyond]).is_err());
        assert!(from_writer.root_at(n + 1).is_err());
        let grown = w.reader();
        assert_eq!(grown.root_at(n + 70_000).unwrap(), t.root());
        for _ in 0..500 {
            let i = rnd(n + 70_000);
            assert_eq!(
                grown.inclusion_proof(i, n + 70_000).unwrap(),
                t.inclusion_proof(i, n + 70_000).unwrap()
            );
        }
        // With the file emptied, a proof of one of the newest leaves comes
        // from memory alone (newest hashes, then upper levels); an older
        // leaf's lower levels need the file.
        w.file.set_len(TREE_HEADER_LEN).unwrap();
        let size = n + 70_000;
        for i in [size - 1, size - 2, size - 300, size - 60_000] {
            assert_eq!(
                grown.inclusion_proof(i, size).unwrap(),
                t.inclusion_proof(i, size).unwrap()
            );
        }
        assert_eq!(
            grown.root_at(size - 1_000).unwrap(),
            t.root_at(size - 1_000).unwrap()
        );
        assert!(grown.inclusion_proof(5, size).is_err());
    }

    #[test]
    fn header_layout() {
        let h = header();
        assert_eq!(&h[..8], b"ALOGTRE1");
        assert!(h[8..].iter().all(|b| *b == 0));
        assert_eq!(hash_pos(0), 32);
        assert_eq!(hash_pos(3), 128);
    }
}
