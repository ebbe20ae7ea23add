//! Bringing the tree file level with the log when a writable store opens:
//! extend it with records it lacks, repair hashes a crash left zeroed, and
//! refuse — changing nothing — when it contradicts the log or holds more
//! records than the log.
//!
//! What a crash can leave: the writer writes a commit's hashes only after
//! the log's `fdatasync`, and syncs them before acknowledging, so the file
//! is durable up to the last acknowledged record, and only the hashes of
//! the commit in flight can be torn. Hashes are 32-byte aligned, so a torn
//! write leaves each of them whole or all zeros (never a different hash).
//! And since a hash is written only after its record is durable, every
//! leaf the file has started is in the log — unless the log lost it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use auditlog_merkle::{leaf_hash, stored_hash_count, Frontier, Hash, HASH_SIZE};

use super::{
    create_file, hash_pos, header, io, leaves_started, leaves_within, TreeFileError, TreeReader,
    TreeWriter, TREE_FILE, TREE_HEADER_LEN,
};
use crate::error::StoreError;
use crate::log::{FaultHook, LogError};

const ZERO: Hash = [0; HASH_SIZE];
/// Stored hashes read or written per system call while rebuilding (2 MiB).
const CHUNK: u64 = 1 << 16;

/// The tree file as found on open.
#[derive(Debug)]
pub(crate) struct Opened {
    file: Arc<File>,
    /// Whole stored hashes in the file.
    slots: u64,
    created: bool,
}

impl Opened {
    /// Leaves whose every stored hash is in the file.
    pub(crate) fn leaves(&self) -> u64 {
        leaves_within(self.slots)
    }

    /// Leaves the file has started (at least their leaf hash is there).
    /// The log must hold at least these: they were durable in it before
    /// their hashes were written.
    pub(crate) fn floor(&self) -> u64 {
        leaves_started(self.slots)
    }
}

/// Open the tree file of a data directory for writing, creating it if it
/// does not exist or was torn while being created.
pub(crate) fn open_rw(dir: &Path) -> Result<Opened, TreeFileError> {
    let path = dir.join(TREE_FILE);
    let file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Opened {
                file: Arc::new(create_file(&path)?),
                slots: 0,
                created: true,
            });
        }
        Err(e) => return Err(io(format!("opening {}", path.display()))(e)),
    };
    let len = file
        .metadata()
        .map_err(io(format!("reading the size of {}", path.display())))?
        .len();
    let slots = check_header(&file, len, &path)?;
    if len < TREE_HEADER_LEN {
        // A crash between creating the file and syncing its header.
        file.set_len(0)
            .and_then(|()| file.write_all_at(&header(), 0))
            .and_then(|()| file.sync_all())
            .map_err(io(format!("rewriting the header of {}", path.display())))?;
    }
    Ok(Opened {
        file: Arc::new(file),
        slots,
        created: false,
    })
}

/// Open the tree file read-only: the file and its whole stored hashes, or
/// `None` when there is none.
pub(crate) fn open_ro(dir: &Path) -> Result<Option<(Arc<File>, u64)>, TreeFileError> {
    let path = dir.join(TREE_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(format!("opening {}", path.display()))(e)),
    };
    let len = file
        .metadata()
        .map_err(io(format!("reading the size of {}", path.display())))?
        .len();
    let slots = check_header(&file, len, &path)?;
    Ok(Some((Arc::new(file), slots)))
}

/// Checks the header and returns the whole stored hashes after it. A file
/// shorter than its header must be a prefix of it (torn while created).
pub(crate) fn check_header(file: &File, len: u64, path: &Path) -> Result<u64, TreeFileError> {
    let want = header();
    let n = usize::try_from(len.min(TREE_HEADER_LEN)).unwrap_or(0);
    let mut got = vec![0u8; n];
    file.read_exact_at(&mut got, 0)
        .map_err(io(format!("reading {}", path.display())))?;
    if want.get(..n) != Some(&got[..]) {
        return Err(TreeFileError::Header {
            path: path.display().to_string(),
            why: format!(
                "it starts with {:?}, not ALOGTRE1 and zeros",
                String::from_utf8_lossy(&got)
            ),
        });
    }
    Ok(len.saturating_sub(TREE_HEADER_LEN) / HASH_SIZE as u64)
}

/// Recomputes the tree from the log, leaf by leaf from a starting size,
/// comparing with what the file holds and writing what it lacks.
pub(crate) struct Rebuild {
    file: Arc<File>,
    frontier: Frontier,
    slots: u64,
    floor: u64,
    created: bool,
    fault: Option<FaultHook>,
    scratch: Vec<Hash>,
    // Stored hashes read ahead from the file, from `read_start` on.
    read_start: u64,
    read_buf: Vec<u8>,
    // Stored hashes to write, from `write_start` on. Once a write starts,
    // every later hash joins it, so it stays one contiguous run.
    write_start: u64,
    write_buf: Vec<u8>,
    writing: bool,
    repaired: u64,
    appended: u64,
}

impl std::fmt::Debug for Rebuild {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rebuild")
            .field("size", &self.frontier.size())
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
}

impl Rebuild {
    /// Start at `start` leaves, trusting the file below that: it must be
    /// at most `opened.leaves()`. Returns `None` when the file's hashes at
    /// the right edge of that tree are zeros (a torn region that a store
    /// without the tree sealed over), so the caller starts from 0 instead.
    pub(crate) fn new(
        opened: Opened,
        start: u64,
        fault: Option<FaultHook>,
    ) -> Result<Result<Rebuild, Opened>, TreeFileError> {
        let reader = TreeReader::from_file(opened.file.clone(), start);
        let frontier = Frontier::from_reader(start, &reader)?;
        if frontier.hashes().contains(&ZERO) {
            return Ok(Err(opened));
        }
        Ok(Ok(Rebuild {
            floor: opened.floor(),
            file: opened.file,
            frontier,
            slots: opened.slots,
            created: opened.created,
            fault,
            scratch: Vec::new(),
            read_start: 0,
            read_buf: Vec::new(),
            write_start: 0,
            write_buf: Vec::new(),
            writing: false,
            repaired: 0,
            appended: 0,
        }))
    }

    /// Leaves recomputed so far (the next offset expected).
    pub(crate) fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The next record, at offset [`Rebuild::size`], with its stored bytes.
    pub(crate) fn record(&mut self, offset: u64, bytes: &[u8]) -> Result<(), TreeFileError> {
        if offset != self.frontier.size() {
            return Err(TreeFileError::Unavailable(format!(
                "rebuilding the tree from the log: offset {offset} arrived where {} was expected",
                self.frontier.size()
            )));
        }
        let first = stored_hash_count(offset);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        self.frontier.append(leaf_hash(bytes), &mut scratch);
        let r = self.place(offset, first, &scratch);
        self.scratch = scratch;
        r
    }

    fn place(&mut self, offset: u64, first: u64, hashes: &[Hash]) -> Result<(), TreeFileError> {
        for (index, computed) in (first..).zip(hashes) {
            if index < self.slots {
                let stored = self.stored(index)?;
                if stored != *computed {
                    if stored != ZERO {
                        return Err(TreeFileError::Contradicts {
                            offset,
                            index,
                            stored,
                            computed: *computed,
                        });
                    }
                    self.repaired += 1;
                    self.push(index, computed)?;
                } else if self.writing {
                    self.push(index, computed)?;
                }
            } else {
                self.appended += 1;
                self.push(index, computed)?;
            }
        }
        Ok(())
    }

    fn stored(&mut self, index: u64) -> Result<Hash, TreeFileError> {
        let have = self.read_buf.len() as u64 / HASH_SIZE as u64;
        if index < self.read_start || index >= self.read_start + have {
            let n = CHUNK.min(self.slots - index);
            self.read_buf
                .resize(usize::try_from(n).unwrap_or(0) * HASH_SIZE, 0);
            self.file
                .read_exact_at(&mut self.read_buf, hash_pos(index))
                .map_err(io("reading the Merkle tree file"))?;
            self.read_start = index;
        }
        let at = usize::try_from(index - self.read_start).unwrap_or(usize::MAX) * HASH_SIZE;
        self.read_buf
            .get(at..at + HASH_SIZE)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| TreeFileError::Unavailable("tree read-ahead out of step".into()))
    }

    fn push(&mut self, index: u64, hash: &Hash) -> Result<(), TreeFileError> {
        if !self.writing {
            self.writing = true;
            self.write_start = index;
        }
        self.write_buf.extend_from_slice(hash);
        if self.write_buf.len() as u64 >= CHUNK * HASH_SIZE as u64 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TreeFileError> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        super::write_at(
            &self.file,
            hash_pos(self.write_start),
            &self.write_buf,
            self.fault.as_ref(),
        )?;
        self.write_start += self.write_buf.len() as u64 / HASH_SIZE as u64;
        self.write_buf.clear();
        Ok(())
    }

    /// The log holds `log_records` records and every one was passed to
    /// [`Rebuild::record`]: write what is left, cut anything past the log's
    /// end, sync, and hand over a writer. Refuses, before cutting anything,
    /// when the file has started leaves the log does not have.
    pub(crate) fn finish(mut self, log_records: u64) -> Result<TreeWriter, TreeFileError> {
        if self.floor > log_records {
            return Err(TreeFileError::LogShorter {
                log_records,
                tree_leaves: self.floor,
            });
        }
        if self.frontier.size() != log_records {
            return Err(TreeFileError::Unavailable(format!(
                "rebuilding the tree from the log stopped at {} of {log_records} records",
                self.frontier.size()
            )));
        }
        self.flush()?;
        let end = hash_pos(stored_hash_count(log_records));
        let len = self
            .file
            .metadata()
            .map_err(io("reading the tree file's size"))?
            .len();
        if len != end {
            // Only a torn part of a hash can be past the end here: a whole
            // leaf past it would have raised the floor above the log.
            tracing::warn!(
                dropped = len.saturating_sub(end),
                "truncating a torn tail of the Merkle tree file"
            );
            self.file
                .set_len(end)
                .map_err(io("truncating the tree file"))?;
        }
        if self.repaired > 0 {
            tracing::warn!(
                hashes = self.repaired,
                "repaired Merkle tree hashes zeroed by a crash, from the log"
            );
        }
        if self.appended > 0 && !self.created {
            tracing::info!(
                hashes = self.appended,
                leaves = log_records,
                "added the log's newest records to the Merkle tree"
            );
        }
        if self.repaired > 0 || self.appended > 0 || len != end {
            self.file
                .sync_data()
                .map_err(io("syncing the Merkle tree file"))?;
        }
        Ok(TreeWriter::resume(self.file, self.frontier, self.fault))
    }
}

/// Feed `rebuild` every record of the log from its size up to `until`, read
/// with the read-only scanner: the part of the log below the sealed index,
/// which the writable open does not scan.
pub(crate) fn replay_sealed(
    log_dir: &Path,
    until: u64,
    rebuild: &mut Rebuild,
) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let from = rebuild.size();
    let mut failed = None;
    let (_, end) = crate::log::scan(log_dir, None, |s| {
        if failed.is_none() && s.offset >= rebuild.size() && s.offset < until {
            if let Err(e) = rebuild.record(s.offset, s.payload) {
                failed = Some(e);
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    if rebuild.size() < until {
        return Err(LogError::Corrupt {
            segment: crate::log::segment_name(end.0),
            pos: end.1,
            expected: rebuild.size(),
            why: "the frame here cannot be read, inside the sealed index (found while rebuilding the Merkle tree from the start of the log); run `auditlog check`".into(),
        }
        .into());
    }
    tracing::info!(
        records = until - from,
        ms = started.elapsed().as_millis() as u64,
        "rebuilt the Merkle tree from the log"
    );
    Ok(())
}

/// Where to start recomputing: at the sealed index's end `first` when the
/// file reaches it (everything below was synced before it was sealed,
/// since a record is acknowledged only after its hashes are synced), else
/// from the start of the log.
pub(crate) fn start(
    opened: Opened,
    first: u64,
    fault: Option<FaultHook>,
) -> Result<Rebuild, TreeFileError> {
    let start = if opened.leaves() >= first { first } else { 0 };
    match Rebuild::new(opened, start, fault.clone())? {
        Ok(rb) => Ok(rb),
        Err(opened) => {
            tracing::warn!(
                leaves = start,
                "the Merkle tree file has zeroed hashes below the sealed index; recomputing it from the start of the log"
            );
            // The empty tree's frontier has no hashes, so this cannot be refused.
            Rebuild::new(opened, 0, fault)?.map_err(|_| {
                TreeFileError::Unavailable("cannot start the tree from zero leaves".into())
            })
        }
    }
}
