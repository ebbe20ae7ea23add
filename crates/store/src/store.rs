//! The store: one writer thread appends to the log with group commit,
//! deduplicates by (source, id), appends the records' Merkle tree hashes and
//! indexes into the active block; a sealer thread writes full blocks to
//! SQLite; readers read concurrently, roots and proofs included.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use auditlog_merkle::{leaf_hash, stored_hash_count, Frontier, Hash};
use rusqlite::Connection;

use crate::block::{codec, Block, BLOCK_RECORDS};
use crate::bloom::Bloom;
use crate::dict::Dict;
use crate::error::{io, StoreError};
use crate::lock::{lock, DirLock};
use crate::log::{FaultHook, Log, LogOptions, LogReader, Scanned};
use crate::meta::{self, BlockMeta};
use crate::prepared::{ConflictPolicy, Prepared};
use crate::tree::{self, leaves_within, TreeFileError, TreeReader, TreeWriter};
use auditlog_model::fields::{extract, id_hash};

/// Sealed blocks whose frame positions are kept in memory.
const POSITIONS_CACHE_BLOCKS: usize = 512;

/// What `DATA_DIR/FORMAT` says for this version of the on-disk format.
pub const FORMAT: &str = "auditlog-store 1";

/// Set (to anything) in the environment, [`Options::default`] turns the
/// Merkle tree off. For the ingest benchmark's with/without comparison
/// only: a store opened so has no tamper evidence, and its tree file is
/// removed (the next open with the tree rebuilds it from the log).
pub const WITHOUT_TREE_ENV: &str = "AUDITLOG_BENCH_WITHOUT_TREE";

/// How to open a store.
#[derive(Clone)]
pub struct Options {
    /// Start a new log segment after this many bytes.
    pub segment_bytes: u64,
    /// Records per index block (tests use small blocks to exercise sealing).
    pub block_records: usize,
    /// Largest group commit, in payload bytes.
    pub max_commit_bytes: usize,
    /// Test hook that can fail log and tree writes and syncs.
    pub fault: Option<FaultHook>,
    /// Keep the Merkle tree (on unless [`WITHOUT_TREE_ENV`] is set). Off
    /// is for measuring what the tree costs: the tree file is removed.
    pub merkle: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            segment_bytes: 128 << 20,
            block_records: BLOCK_RECORDS,
            max_commit_bytes: 16 << 20,
            fault: None,
            merkle: std::env::var_os(WITHOUT_TREE_ENV).is_none(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("segment_bytes", &self.segment_bytes)
            .field("block_records", &self.block_records)
            .field("merkle", &self.merkle)
            .finish_non_exhaustive()
    }
}

/// The result of appending one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Stored at `offset`. `conflicts_with` is an earlier record with the same
    /// (source, id) and different content, stored under [`ConflictPolicy::Store`].
    Stored {
        offset: u64,
        conflicts_with: Option<u64>,
    },
    /// Identical to the record already at `offset`; not stored again.
    Duplicate { offset: u64 },
    /// Same (source, id) as the record at `offset` but different content;
    /// refused under [`ConflictPolicy::Reject`].
    Conflict { offset: u64 },
}

/// A consistent view of the index for one query: every record below `end`
/// is in exactly one of the sealed blocks, the frozen blocks, or the active
/// block (which the caller reads under the index lock, through `active`).
#[derive(Debug)]
pub struct Snapshot<T> {
    /// Records below this offset are committed and covered by the view.
    pub end: u64,
    /// Sealed blocks, in offset order.
    pub sealed: Vec<BlockMeta>,
    /// Full blocks not yet sealed, in offset order.
    pub frozen: Vec<Arc<Block>>,
    /// What the caller computed from the active block.
    pub active: T,
}

/// Counters and sizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records stored (the next offset).
    pub records: u64,
    /// Bytes in all log segments.
    pub log_bytes: u64,
    /// Records in sealed index blocks.
    pub sealed_records: u64,
    /// Sealed index blocks.
    pub sealed_blocks: u64,
}

/// Time spent in each group commit, for the latency histogram.
pub type CommitObserver = Arc<dyn Fn(Duration, usize) + Send + Sync>;

struct IndexState {
    sealed: Vec<BlockMeta>,
    frozen: Vec<Arc<Block>>,
    active: Block,
}

pub(crate) struct Shared {
    dir: PathBuf,
    reader: LogReader,
    dict: RwLock<Dict>,
    state: RwLock<IndexState>,
    /// Records with offsets below this are durable and visible.
    committed: AtomicU64,
    commit_signal: (Mutex<u64>, Condvar),
    readers: Mutex<Vec<Connection>>,
    positions_cache: Mutex<HashMap<i64, Arc<Vec<u32>>>>,
    failed: Mutex<Option<String>>,
    log_bytes: AtomicU64,
    observer: RwLock<Option<CommitObserver>>,
    read_only: bool,
    tree: TreeAccess,
}

/// Where roots and proofs come from.
enum TreeAccess {
    /// A writer's tree: the file holds the hashes of every committed record
    /// (the reader's size is unbounded; each use narrows it to `committed`).
    Live(TreeReader),
    /// A read-only store's tree, fixed at open.
    Fixed(TreeReader),
    /// No tree, and why.
    Off(String),
}

/// The outcomes, and the items handed back so the caller's thread frees
/// what it allocated (cross-thread frees are slow in most allocators).
type Reply = Result<(Vec<Outcome>, Vec<Prepared>), StoreError>;

enum Cmd {
    Append {
        items: Vec<Prepared>,
        reply: SyncSender<Reply>,
    },
}

/// An open store. Dropping it stops the writer after pending commits.
pub struct Store {
    shared: Arc<Shared>,
    tx: Option<Sender<Cmd>>,
    writer: Option<JoinHandle<()>>,
    sealer: Option<JoinHandle<()>>,
    _lock: Option<DirLock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

fn check_format(dir: &Path, create: bool) -> Result<(), StoreError> {
    let path = dir.join("FORMAT");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim() == FORMAT => Ok(()),
        Ok(s) => Err(StoreError::Format {
            dir: dir.display().to_string(),
            found: s.trim().to_owned(),
            expected: FORMAT,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            std::fs::write(&path, format!("{FORMAT}\n")).map_err(io("writing FORMAT"))?;
            Ok(())
        }
        Err(e) => Err(io(format!("reading {}", path.display()))(e)),
    }
}

/// Rebuild the index fields of a stored record from its bytes.
fn fields_of(payload: &[u8]) -> (auditlog_model::fields::Fields, u64) {
    match auditlog_model::Record::parse(payload) {
        Ok(r) => {
            let h = r.id.as_deref().map_or(0, id_hash);
            let mut f = extract(&r);
            f.tokens =
                auditlog_model::words::json_word_hashes(std::str::from_utf8(payload).unwrap_or(""));
            (f, h)
        }
        Err(e) => {
            tracing::warn!(error = %e, "a stored record no longer parses; indexing it without fields");
            (Default::default(), 0)
        }
    }
}

impl Store {
    /// Open the store in `dir` for writing, creating it if needed, and recover:
    /// a torn log tail is truncated and the unsealed part of the index is
    /// rebuilt from the log.
    pub fn open(dir: &Path, opts: Options) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let dir_lock = lock(dir)?;
        check_format(dir, true)?;
        let conn = meta::open_rw(&dir.join("index.db"))?;
        let mut dict = Dict::new();
        meta::load_dict(&conn, &mut dict)?;
        let sealed = meta::load_blocks(&conn)?;
        let resume = sealed.last().map(|b| (b.end.0, b.end.1, b.end_offset()));
        let first = resume.map_or(0, |r| r.2);
        let block_records = opts.block_records.clamp(1, BLOCK_RECORDS);
        let mut frozen = Vec::new();
        let mut active = Block::new(first, resume.map_or((0, 16), |r| (r.0, r.1)));
        let mut replay_hashes = Vec::new();
        let started = Instant::now();
        // The tree first: what it holds bounds what log recovery may cut
        // (durable_floor), and records below the sealed index that it lacks
        // are read here, since the log's own recovery starts at `first`.
        let mut rebuild = None;
        let mut durable_floor = 0;
        if opts.merkle {
            let opened = tree::recover::open_rw(dir)?;
            durable_floor = opened.floor();
            let mut rb = tree::recover::start(opened, first, opts.fault.clone())?;
            if rb.size() < first {
                tree::recover::replay_sealed(&dir.join("log"), first, &mut rb)?;
            }
            rebuild = Some(rb);
        } else {
            remove_tree(dir)?;
        }
        let mut tree_failed: Option<TreeFileError> = None;
        let log_opts = LogOptions {
            segment_bytes: opts.segment_bytes,
            fault: opts.fault.clone(),
            durable_floor,
        };
        let mut pending: Option<(u64, u32, auditlog_model::fields::Fields, u64)> = None;
        // Each record is indexed when the next one is seen, because a record's
        // block entry needs the position where the following frame starts.
        let flush = |rec: (u64, u32, auditlog_model::fields::Fields, u64),
                     end: (u64, u64),
                     active: &mut Block,
                     frozen: &mut Vec<Arc<Block>>,
                     dict: &mut Dict| {
            if active.len() >= block_records {
                let full = std::mem::replace(active, Block::new(rec.0, active.end));
                frozen.push(Arc::new(full));
            }
            active.push(rec.0, rec.1, end, &rec.2, rec.3, dict);
        };
        let log = Log::open(&dir.join("log"), log_opts, resume, |s: Scanned<'_>| {
            if let Some(p) = pending.take() {
                flush(
                    p,
                    (s.segment_base, s.pos),
                    &mut active,
                    &mut frozen,
                    &mut dict,
                );
            }
            if let Some(rb) = rebuild.as_mut() {
                if tree_failed.is_none() {
                    tree_failed = rb.record(s.offset, s.payload).err();
                }
            }
            let (fields, h) = fields_of(s.payload);
            if h != 0 {
                replay_hashes.push(h);
            }
            pending = Some((
                s.offset,
                u32::try_from(s.pos).unwrap_or(u32::MAX),
                fields,
                h,
            ));
        })?;
        if let Some(p) = pending.take() {
            flush(p, log.tail_position(), &mut active, &mut frozen, &mut dict);
        }
        let next = log.next_offset();
        if let Some(e) = tree_failed {
            return Err(e.into());
        }
        let tree_writer = rebuild.map(|rb| rb.finish(next)).transpose()?;
        let tree = match &tree_writer {
            Some(w) => TreeAccess::Live(w.live_reader()),
            None => TreeAccess::Off(format!(
                "the Merkle tree is off for this store ({WITHOUT_TREE_ENV} is set)"
            )),
        };
        if next > first {
            tracing::info!(
                records = next - first,
                ms = started.elapsed().as_millis() as u64,
                "rebuilt the unsealed index from the log"
            );
        }
        // The bloom filter covers every stored id.
        let total = usize::try_from(next).unwrap_or(usize::MAX);
        let mut bloom = Bloom::with_capacity((total * 2).max(1 << 20));
        meta::for_each_hash(&conn, |h| bloom.insert(h))?;
        replay_hashes.iter().for_each(|h| bloom.insert(*h));

        let reader = log.reader();
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            reader,
            dict: RwLock::new(dict),
            state: RwLock::new(IndexState {
                sealed,
                frozen: frozen.clone(),
                active,
            }),
            committed: AtomicU64::new(next),
            commit_signal: (Mutex::new(next), Condvar::new()),
            readers: Mutex::new(Vec::new()),
            positions_cache: Mutex::new(HashMap::new()),
            failed: Mutex::new(None),
            log_bytes: AtomicU64::new(log.size_bytes()),
            observer: RwLock::new(None),
            read_only: false,
            tree,
        });
        let (seal_tx, seal_rx) = mpsc::channel::<Arc<Block>>();
        for b in frozen {
            let _ = seal_tx.send(b);
        }
        let sealer = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("auditlog-sealer".into())
                .spawn(move || sealer_loop(shared, conn, seal_rx))
                .map_err(io("starting the sealer thread"))?
        };
        let (tx, rx) = mpsc::channel();
        let writer = {
            let shared = shared.clone();
            let w = Writer {
                shared,
                log,
                tree: tree_writer,
                bloom,
                seal_tx,
                block_records,
                max_commit_bytes: opts.max_commit_bytes,
            };
            std::thread::Builder::new()
                .name("auditlog-writer".into())
                .spawn(move || w.run(rx))
                .map_err(io("starting the writer thread"))?
        };
        Ok(Store {
            shared,
            tx: Some(tx),
            writer: Some(writer),
            sealer: Some(sealer),
            _lock: Some(dir_lock),
        })
    }

    /// Open a store for reading while another process may be writing it.
    /// Records appended after this call are not visible.
    pub fn open_read_only(dir: &Path) -> Result<Store, StoreError> {
        check_format(dir, false)?;
        let db = dir.join("index.db");
        let mut dict = Dict::new();
        let mut sealed = Vec::new();
        if db.exists() {
            let c = meta::open_ro(&db)?;
            meta::load_dict(&c, &mut dict)?;
            sealed = meta::load_blocks(&c)?;
        }
        let resume = sealed.last().map(|b| (b.end.0, b.end.1, b.end_offset()));
        let first = resume.map_or(0, |r| r.2);
        let mut frozen = Vec::new();
        let mut active = Block::new(first, resume.map_or((0, 16), |r| (r.0, r.1)));
        let mut tail = read_only_tree(dir, first);
        let mut pending: Option<(u64, u32, auditlog_model::fields::Fields, u64)> = None;
        let index = |p: (u64, u32, auditlog_model::fields::Fields, u64),
                     end: (u64, u64),
                     active: &mut Block,
                     frozen: &mut Vec<Arc<Block>>,
                     dict: &mut Dict| {
            if active.len() >= BLOCK_RECORDS {
                let full = std::mem::replace(active, Block::new(p.0, active.end));
                frozen.push(Arc::new(full));
            }
            active.push(p.0, p.1, end, &p.2, p.3, dict);
        };
        let (reader, end) = crate::log::scan(&dir.join("log"), resume, |s| {
            if let Some(p) = pending.take() {
                index(
                    p,
                    (s.segment_base, s.pos),
                    &mut active,
                    &mut frozen,
                    &mut dict,
                );
            }
            if let Ok((_, frontier, hashes)) = tail.as_mut() {
                frontier.append(leaf_hash(s.payload), hashes);
            }
            let (fields, h) = fields_of(s.payload);
            pending = Some((
                s.offset,
                u32::try_from(s.pos).unwrap_or(u32::MAX),
                fields,
                h,
            ));
        })?;
        if let Some(p) = pending.take() {
            index(p, end, &mut active, &mut frozen, &mut dict);
        }
        let next = active.end_offset();
        let tree = match tail {
            Ok((file, _, hashes)) => TreeAccess::Fixed(TreeReader::with_memory_tail(
                file,
                next,
                stored_hash_count(first),
                hashes,
            )),
            Err(why) => TreeAccess::Off(why),
        };
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            reader,
            dict: RwLock::new(dict),
            state: RwLock::new(IndexState {
                sealed,
                frozen,
                active,
            }),
            committed: AtomicU64::new(next),
            commit_signal: (Mutex::new(next), Condvar::new()),
            readers: Mutex::new(Vec::new()),
            positions_cache: Mutex::new(HashMap::new()),
            failed: Mutex::new(Some("opened read-only".into())),
            log_bytes: AtomicU64::new(0),
            observer: RwLock::new(None),
            read_only: true,
            tree,
        });
        Ok(Store {
            shared,
            tx: None,
            writer: None,
            sealer: None,
            _lock: None,
        })
    }

    /// Append records. Returns once every stored record is durable (fsync'd),
    /// with one outcome per input, in order. Concurrent callers share commits.
    pub fn append(&self, items: Vec<Prepared>) -> Result<Vec<Outcome>, StoreError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("opened read-only".into()))?;
        let (reply, wait) = mpsc::sync_channel(1);
        tx.send(Cmd::Append { items, reply })
            .map_err(|_| self.unavailable())?;
        let (outcomes, items) = wait.recv().map_err(|_| self.unavailable())??;
        drop(items);
        Ok(outcomes)
    }

    fn unavailable(&self) -> StoreError {
        let why = self
            .shared
            .failed
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_else(|| "the writer has stopped".into());
        StoreError::Unavailable(why)
    }

    /// Why the store stopped accepting writes, if it did.
    pub fn failure(&self) -> Option<String> {
        if self.shared.read_only {
            return None;
        }
        self.shared.failed.lock().ok().and_then(|f| f.clone())
    }

    /// Call `f` with the duration and record count of every group commit.
    pub fn set_commit_observer(&self, f: CommitObserver) {
        if let Ok(mut o) = self.shared.observer.write() {
            *o = Some(f);
        }
    }

    /// The offset the next record will get; every lower offset is readable.
    pub fn committed(&self) -> u64 {
        self.shared.committed.load(Ordering::Acquire)
    }

    /// Wait until offsets at or above `from` exist, or `timeout` passes.
    /// Returns the committed offset.
    pub fn wait_for(&self, from: u64, timeout: Duration) -> u64 {
        let (lock, cv) = &self.shared.commit_signal;
        let Ok(mut g) = lock.lock() else {
            return self.committed();
        };
        let deadline = Instant::now() + timeout;
        while *g <= from {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match cv.wait_timeout(g, left) {
                Ok((ng, _)) => g = ng,
                Err(_) => return self.committed(),
            }
        }
        *g
    }

    /// The record at `offset`, byte for byte as stored.
    pub fn get(&self, offset: u64) -> Result<Option<Vec<u8>>, StoreError> {
        if offset >= self.committed() {
            return Ok(None);
        }
        match self.shared.position(offset)? {
            Some(pos) => Ok(Some(self.shared.reader.read(offset, pos)?)),
            None => Ok(None),
        }
    }

    fn tree(&self) -> Result<TreeReader, StoreError> {
        match &self.shared.tree {
            TreeAccess::Live(r) => Ok(r.at_size(self.committed())),
            TreeAccess::Fixed(r) => Ok(r.clone()),
            TreeAccess::Off(why) => Err(TreeFileError::Unavailable(why.clone()).into()),
        }
    }

    /// Leaves in the Merkle tree: every committed record (for a writer,
    /// [`Store::committed`]); 0 when the store has no tree.
    pub fn tree_size(&self) -> u64 {
        self.tree().map_or(0, |t| t.size())
    }

    /// The RFC 6962 root of the tree of the first `size` records, for any
    /// size up to [`Store::tree_size`].
    pub fn root_at(&self, size: u64) -> Result<Hash, StoreError> {
        Ok(self.tree()?.root_at(size)?)
    }

    /// The inclusion proof of the record at `offset` in the tree of the
    /// first `size` records (RFC 9162 §2.1.3), leaf to root.
    pub fn inclusion_proof(&self, offset: u64, size: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.tree()?.inclusion_proof(offset, size)?)
    }

    /// The consistency proof from the tree of the first `old` records to
    /// that of the first `new` (RFC 9162 §2.1.4).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, StoreError> {
        Ok(self.tree()?.consistency_proof(old, new)?)
    }

    /// The tree's leaf hash of the record at `offset`:
    /// `SHA-256(0x00 || stored bytes)`, as stored when it was committed.
    pub fn leaf_hash(&self, offset: u64) -> Result<Hash, StoreError> {
        Ok(self.tree()?.leaf_hash(offset)?)
    }

    /// Take a [`Snapshot`]. `f` sees the active block, the dictionary and
    /// the snapshot's end while the index lock is held, so it must be quick:
    /// evaluate a filter over in-memory postings, copy a column.
    pub fn snapshot<T>(
        &self,
        f: impl FnOnce(&Block, &Dict, u64) -> T,
    ) -> Result<Snapshot<T>, StoreError> {
        let dict = self
            .shared
            .dict
            .read()
            .map_err(|_| StoreError::Unavailable("dictionary lock poisoned".into()))?;
        let st = self
            .shared
            .state
            .read()
            .map_err(|_| StoreError::Unavailable("index lock poisoned".into()))?;
        // Read under the lock: the writer indexes a commit before publishing
        // it, so everything below `end` is in these blocks.
        let end = self.committed();
        Ok(Snapshot {
            end,
            sealed: st.sealed.clone(),
            frozen: st.frozen.clone(),
            active: f(&st.active, &dict, end),
        })
    }

    /// Run `f` with a pooled read-only connection to the index database.
    pub fn with_index_db<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, meta::MetaError>,
    ) -> Result<T, StoreError> {
        self.shared.with_reader(|c| Ok(f(c)?))
    }

    /// Run `f` with the dictionary (read-locked).
    pub fn with_dict<T>(&self, f: impl FnOnce(&Dict) -> T) -> Result<T, StoreError> {
        let dict = self
            .shared
            .dict
            .read()
            .map_err(|_| StoreError::Unavailable("dictionary lock poisoned".into()))?;
        Ok(f(&dict))
    }

    /// Every stored record whose `id` is `id` (and `source`, when given), oldest first.
    pub fn find_by_id(
        &self,
        id: &str,
        source: Option<&str>,
    ) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for off in self.shared.candidates(id_hash(id))? {
            let Some(bytes) = self.get(off)? else {
                continue;
            };
            if let Ok(r) = auditlog_model::Record::parse(&bytes) {
                if r.id.as_deref() == Some(id)
                    && source.is_none_or(|s| r.source.as_deref() == Some(s))
                {
                    out.push((off, bytes));
                }
            }
        }
        Ok(out)
    }

    /// Sizes and counts.
    pub fn stats(&self) -> Stats {
        let (sealed_records, sealed_blocks) = self
            .shared
            .state
            .read()
            .map(|s| {
                (
                    s.sealed.last().map_or(0, |b| b.end_offset()),
                    s.sealed.len() as u64,
                )
            })
            .unwrap_or_default();
        Stats {
            records: self.committed(),
            log_bytes: self.shared.log_bytes.load(Ordering::Relaxed),
            sealed_records,
            sealed_blocks,
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Stop accepting writes, finish pending commits and sealing, and close.
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        drop(self.tx.take());
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some(s) = self.sealer.take() {
            let _ = s.join();
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Shared {
    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match conn {
            Some(c) => c,
            None => meta::open_ro(&self.dir.join("index.db"))?,
        };
        let r = f(&conn);
        if let Ok(mut p) = self.readers.lock() {
            if p.len() < 8 {
                p.push(conn);
            }
        }
        r
    }

    /// The frame position of a committed offset.
    fn position(&self, offset: u64) -> Result<Option<u32>, StoreError> {
        let block = {
            let st = self
                .state
                .read()
                .map_err(|_| StoreError::Unavailable("index lock poisoned".into()))?;
            if let Some(p) = st.active.position(offset) {
                return Ok(Some(p));
            }
            for b in &st.frozen {
                if let Some(p) = b.position(offset) {
                    return Ok(Some(p));
                }
            }
            let i = st.sealed.partition_point(|b| b.first_offset <= offset);
            match i.checked_sub(1).and_then(|i| st.sealed.get(i)) {
                Some(b) if offset < b.end_offset() => *b,
                _ => return Ok(None),
            }
        };
        let positions = self.positions(block.id)?;
        Ok(positions
            .get(usize::try_from(offset - block.first_offset).unwrap_or(usize::MAX))
            .copied())
    }

    fn positions(&self, block: i64) -> Result<Arc<Vec<u32>>, StoreError> {
        if let Some(p) = self
            .positions_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&block).cloned())
        {
            return Ok(p);
        }
        let blob = self
            .with_reader(|c| Ok(meta::column(c, block, codec::COL_POSITIONS)?))?
            .unwrap_or_default();
        let p = Arc::new(codec::decode_u32s(&blob));
        if let Ok(mut c) = self.positions_cache.lock() {
            // 4 bytes per record: 512 blocks (33M records) cost at most
            // 128 MB. A query that touches every block then finds them all
            // here the next time instead of re-reading 256 KB blobs.
            if c.len() >= POSITIONS_CACHE_BLOCKS {
                if let Some(k) = c.keys().next().copied() {
                    c.remove(&k);
                }
            }
            c.insert(block, p.clone());
        }
        Ok(p)
    }

    /// Offsets whose id hash is `h`, oldest first (may include hash collisions).
    fn candidates(&self, h: u64) -> Result<Vec<u64>, StoreError> {
        // In-memory blocks first, then SQLite: a block sealed in between is
        // then seen at least once (duplicates are removed below).
        let mut out: Vec<u64> = {
            let st = self
                .state
                .read()
                .map_err(|_| StoreError::Unavailable("index lock poisoned".into()))?;
            st.frozen
                .iter()
                .map(|b| &**b)
                .chain(std::iter::once(&st.active))
                .flat_map(|b| b.offsets_with_id_hash(h))
                .collect()
        };
        out.extend(self.with_reader(|c| Ok(meta::offsets_for_hash(c, h)?))?);
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

fn sealer_loop(shared: Arc<Shared>, mut conn: Connection, rx: Receiver<Arc<Block>>) {
    while let Ok(block) = rx.recv() {
        let started = Instant::now();
        let id = shared
            .state
            .read()
            .map(|s| s.sealed.len() as i64)
            .unwrap_or(0);
        let entries = shared.dict.read().map(|d| d.unsaved()).unwrap_or_default();
        match meta::seal(&mut conn, id, &block, &entries) {
            Ok(m) => {
                if let Ok(mut d) = shared.dict.write() {
                    d.mark_saved(&entries);
                }
                if let Ok(mut st) = shared.state.write() {
                    st.sealed.push(m);
                    st.frozen.retain(|b| b.first_offset != m.first_offset);
                }
                tracing::debug!(
                    first = m.first_offset,
                    records = m.count,
                    ms = started.elapsed().as_millis() as u64,
                    "sealed index block"
                );
                // Keep the WAL short: readers pay for every frame in it on
                // every page they read.
                meta::checkpoint(&conn, false);
            }
            Err(e) => {
                // The block stays in memory (frozen) and readable, and so do
                // all later ones: sealed blocks must stay contiguous, because
                // the next open replays the log from the last sealed block.
                tracing::error!(error = %e, first = block.first_offset, "sealing an index block failed; unsealed blocks stay in memory until restart");
                return;
            }
        }
    }
    // Leave a fully checkpointed database behind: the reader pool's
    // connections are read-only, so SQLite's own checkpoint-on-close, which
    // only the last connection runs, would not happen.
    meta::checkpoint(&conn, true);
}

struct Writer {
    shared: Arc<Shared>,
    log: Log,
    /// `None` when the tree is off.
    tree: Option<TreeWriter>,
    bloom: Bloom,
    seal_tx: Sender<Arc<Block>>,
    block_records: usize,
    max_commit_bytes: usize,
}

/// A record accepted into the current group commit.
struct Pending<'a> {
    item: &'a Prepared,
    hash: u64,
}

impl Writer {
    fn run(mut self, rx: Receiver<Cmd>) {
        while let Ok(first) = rx.recv() {
            let mut cmds = vec![first];
            let mut bytes: usize = cmds.iter().map(cmd_bytes).sum();
            while bytes < self.max_commit_bytes {
                match rx.try_recv() {
                    Ok(c) => {
                        bytes += cmd_bytes(&c);
                        cmds.push(c);
                    }
                    Err(_) => break,
                }
            }
            self.commit(cmds);
        }
    }

    fn commit(&mut self, cmds: Vec<Cmd>) {
        // After a failed write or sync the log's state is unknown until it is
        // reopened; answer nothing, not even duplicates, until then.
        if let Some(why) = self.shared.failed.lock().ok().and_then(|f| f.clone()) {
            for Cmd::Append { reply, .. } in cmds {
                let _ = reply.send(Err(StoreError::Unavailable(why.clone())));
            }
            return;
        }
        let started = Instant::now();
        let next = self.log.next_offset();
        let mut outcomes: Vec<Vec<Outcome>> = Vec::with_capacity(cmds.len());
        let mut pending: Vec<Pending<'_>> = Vec::new();
        // Ids stored earlier in this same commit: hash -> indexes into `pending`.
        let mut in_commit: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut error: Option<String> = None;
        for Cmd::Append { items, .. } in &cmds {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let hash = item.id_hash().unwrap_or(0);
                let decision = if hash == 0 {
                    Ok(None)
                } else {
                    self.existing(item, hash, &pending, &in_commit, next)
                };
                match decision {
                    Err(e) => {
                        error = Some(e.to_string());
                        out.push(Outcome::Stored {
                            offset: u64::MAX,
                            conflicts_with: None,
                        });
                    }
                    Ok(Some(Existing::Identical(off))) => {
                        out.push(Outcome::Duplicate { offset: off })
                    }
                    Ok(Some(Existing::Different(off)))
                        if item.on_conflict == ConflictPolicy::Reject =>
                    {
                        out.push(Outcome::Conflict { offset: off })
                    }
                    Ok(other) => {
                        let conflicts_with = match other {
                            Some(Existing::Different(off)) => Some(off),
                            _ => None,
                        };
                        let offset = next + pending.len() as u64;
                        if hash != 0 {
                            in_commit.entry(hash).or_default().push(pending.len());
                        }
                        pending.push(Pending { item, hash });
                        out.push(Outcome::Stored {
                            offset,
                            conflicts_with,
                        });
                    }
                }
            }
            outcomes.push(out);
        }
        if error.is_none() && !pending.is_empty() {
            if let Err(e) = self.write(&pending) {
                error = Some(e.to_string());
            }
        }
        if let Some(e) = &error {
            if let Ok(mut f) = self.shared.failed.lock() {
                f.get_or_insert_with(|| e.clone());
            }
            tracing::error!(error = %e, "commit failed; no record of it was acknowledged");
        }
        if let Some(obs) = self.shared.observer.read().ok().and_then(|o| o.clone()) {
            obs(started.elapsed(), pending.len());
        }
        drop(pending);
        drop(in_commit);
        for (Cmd::Append { reply, items }, out) in cmds.into_iter().zip(outcomes) {
            let msg = match &error {
                Some(e) => Err(StoreError::Unavailable(e.clone())),
                None => Ok((out, items)),
            };
            let _ = reply.send(msg);
        }
    }

    /// Append, sync, then index and publish.
    fn write(&mut self, pending: &[Pending<'_>]) -> Result<(), StoreError> {
        let positions = self
            .log
            .append(pending.iter().map(|p| p.item.canonical.as_slice()))?;
        self.log.sync()?;
        // The tree's hashes go after the log's sync, so the tree never holds
        // a record the log might lose, and are synced before anything is
        // acknowledged or sealed, so every acknowledged record is in the
        // tree on disk. The sync runs on its own thread while this one
        // indexes the commit.
        if let Some(t) = self.tree.as_mut() {
            t.append(pending.iter().map(|p| leaf_hash(&p.item.canonical)))?;
            t.begin_sync()?;
        }
        let (seg, tail) = self.log.tail_position();
        let mut frozen = Vec::new();
        {
            let mut dict = self
                .shared
                .dict
                .write()
                .map_err(|_| StoreError::Unavailable("dictionary lock poisoned".into()))?;
            let mut st = self
                .shared
                .state
                .write()
                .map_err(|_| StoreError::Unavailable("index lock poisoned".into()))?;
            for (i, (p, pos)) in pending.iter().zip(&positions).enumerate() {
                if st.active.len() >= self.block_records {
                    let end = st.active.end;
                    let full = std::mem::replace(&mut st.active, Block::new(pos.offset, end));
                    let full = Arc::new(full);
                    st.frozen.push(full.clone());
                    frozen.push(full);
                }
                let end = positions
                    .get(i + 1)
                    .map_or((seg, tail), |n| (seg, u64::from(n.pos)));
                st.active
                    .push(pos.offset, pos.pos, end, &p.item.fields, p.hash, &mut dict);
            }
        }
        if let Some(t) = self.tree.as_mut() {
            t.end_sync()?;
        }
        for p in pending {
            if p.hash != 0 {
                self.bloom.insert(p.hash);
            }
        }
        for b in frozen {
            let _ = self.seal_tx.send(b);
        }
        let next = self.log.next_offset();
        self.shared.committed.store(next, Ordering::Release);
        self.shared.log_bytes.fetch_add(
            pending
                .iter()
                .map(|p| p.item.canonical.len() as u64 + 17)
                .sum(),
            Ordering::Relaxed,
        );
        let (lock, cv) = &self.shared.commit_signal;
        if let Ok(mut g) = lock.lock() {
            *g = next;
        }
        cv.notify_all();
        if self.bloom.is_overfull() {
            self.rebuild_bloom();
        }
        Ok(())
    }

    fn rebuild_bloom(&mut self) {
        let started = Instant::now();
        let mut b = Bloom::with_capacity(self.bloom.count() * 4);
        let sealed = self
            .shared
            .with_reader(|c| Ok(meta::for_each_hash(c, |h| b.insert(h))?));
        if let Err(e) = sealed {
            tracing::error!(error = %e, "could not rebuild the id filter; keeping the old one");
            return;
        }
        if let Ok(st) = self.shared.state.read() {
            let sealed_end = st.sealed.last().map_or(0, |x| x.end_offset());
            for blk in st
                .frozen
                .iter()
                .map(|x| &**x)
                .chain(std::iter::once(&st.active))
            {
                for (i, h) in blk.id_hashes.iter().enumerate() {
                    if *h != 0 && blk.first_offset + i as u64 >= sealed_end {
                        b.insert(*h);
                    }
                }
            }
        }
        self.bloom = b;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "grew the id filter"
        );
    }

    /// Whether a record with this item's id is already stored.
    fn existing(
        &self,
        item: &Prepared,
        hash: u64,
        pending: &[Pending<'_>],
        in_commit: &HashMap<u64, Vec<usize>>,
        next: u64,
    ) -> Result<Option<Existing>, StoreError> {
        let mut different = None;
        // Earlier in this commit: compare bytes directly.
        for &i in in_commit.get(&hash).map(Vec::as_slice).unwrap_or(&[]) {
            if let Some(p) = pending.get(i) {
                if p.item.canonical == item.canonical {
                    return Ok(Some(Existing::Identical(next + i as u64)));
                }
                if p.item.id == item.id && p.item.source == item.source {
                    different.get_or_insert(next + i as u64);
                }
            }
        }
        if !self.bloom.may_contain(hash) {
            return Ok(different.map(Existing::Different));
        }
        for off in self.shared.candidates(hash)? {
            let Some(pos) = self.shared.position(off)? else {
                continue;
            };
            let bytes = self.shared.reader.read(off, pos)?;
            if bytes == item.canonical {
                return Ok(Some(Existing::Identical(off)));
            }
            if different.is_none() {
                if let Ok(r) = auditlog_model::Record::parse(&bytes) {
                    if r.id == item.id && r.source == item.source {
                        different = Some(off);
                    }
                }
            }
        }
        Ok(different.map(Existing::Different))
    }
}

enum Existing {
    Identical(u64),
    Different(u64),
}

fn cmd_bytes(c: &Cmd) -> usize {
    match c {
        Cmd::Append { items, .. } => items.iter().map(|i| i.canonical.len()).sum(),
    }
}

/// A store opened without the tree must not leave a stale one behind: the
/// tree's hashes are trusted below the sealed index, and blocks sealed
/// meanwhile would cover records the tree file never got.
fn remove_tree(dir: &Path) -> Result<(), StoreError> {
    let path = dir.join(tree::TREE_FILE);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            tracing::warn!(path = %path.display(), "the Merkle tree is off: removed the tree file (the next open with the tree rebuilds it from the log)");
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(format!("removing {}", path.display()))(e)),
    }
}

/// A read-only store trusts the tree file below the sealed index and
/// recomputes the rest from the log as it scans it (the file's tail may be
/// mid-write, or torn by a crash no writer has repaired yet). Returns what
/// the scan extends — the file, the frontier at `first` and the hashes
/// from there — or why there is no tree.
#[allow(clippy::type_complexity)]
fn read_only_tree(
    dir: &Path,
    first: u64,
) -> Result<(Arc<std::fs::File>, Frontier, Vec<Hash>), String> {
    match tree::recover::open_ro(dir) {
        Ok(Some((file, slots))) if leaves_within(slots) >= first => {
            match Frontier::from_reader(first, &TreeReader::from_file(file.clone(), first)) {
                Ok(f) if f.hashes().contains(&[0; 32]) => Err("the tree file has hashes zeroed by a crash; the next writable open repairs them".into()),
                Ok(f) => Ok((file, f, Vec::new())),
                Err(e) => Err(format!("reading the tree file: {e}")),
            }
        }
        Ok(Some((_, slots))) => Err(format!(
            "the tree file holds {} records, fewer than the {first} of the sealed index; the next writable open rebuilds it",
            leaves_within(slots)
        )),
        Ok(None) => Err("there is no tree file; the next writable open builds it from the log".into()),
        Err(e) => Err(e.to_string()),
    }
}
