//! The tree check behind `auditlog verify`: every frame of the log — read
//! without trusting its checksum, since a tampered frame is evidence — is
//! hashed as a leaf and compared with the tree file's leaf at the same
//! position; the tree file is checked against itself (every stored interior
//! hash is the hash of its two halves); and the first offset where anything
//! differs is named, with what went wrong. Reads only: nothing is repaired
//! or truncated, and a writer may be running.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use auditlog_merkle::{
    empty_root, leaf_hash, node_hash, stored_hash_count, Frontier, Hash, HashReader, NodeId,
    HASH_SIZE,
};

use super::recover::check_header;
use super::{leaves_started, leaves_within, TreeReader, TREE_FILE, TREE_HEADER_LEN};
use crate::check::Problem;
use crate::error::{io, StoreError};
use crate::log::frame::{decode_frame_raw, decode_header, FrameError, FrameKind, HEADER_LEN};
use crate::log::list_segments;

const ZERO: Hash = [0; HASH_SIZE];
/// Differing leaves kept for the diagnosis (which record went where).
const KEEP: usize = 4096;
/// Problems of one kind listed before the rest are only counted.
const LIST: usize = 20;

/// What the tree check found.
#[derive(Debug, Clone, Default)]
pub struct TreeCheck {
    /// Records in the log, counted in order (frames with a bad checksum included).
    pub log_records: u64,
    /// Leaves in the tree file.
    pub tree_leaves: u64,
    /// The root of the tree of `tree_leaves` leaves, when every check passed.
    pub root: Option<Hash>,
    /// What is wrong, by offset; the first names the first bad offset.
    pub problems: Vec<Problem>,
    /// What is worth knowing but not damage (a commit in progress).
    pub notes: Vec<String>,
}

impl TreeCheck {
    /// Whether the log and the tree agree.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first offset at which something is wrong, when one is known.
    pub fn first_bad_offset(&self) -> Option<u64> {
        self.problems.iter().find_map(|p| p.offset)
    }
}

/// Check the tree of the data directory `dir` against its log.
/// `progress` is called with (log bytes read, total log bytes).
pub fn verify_tree(
    dir: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<TreeCheck, StoreError> {
    let mut out = TreeCheck::default();
    match std::fs::read_to_string(dir.join("FORMAT")) {
        Ok(s) if s.trim() == crate::store::FORMAT => {}
        Ok(s) => {
            out.problems.push(Problem {
                offset: None,
                what: format!(
                    "FORMAT says {:?}; this build verifies {:?}",
                    s.trim(),
                    crate::store::FORMAT
                ),
            });
            return Ok(out);
        }
        Err(e) => {
            return Err(io(format!(
                "{} is not an auditlog data directory (no FORMAT file)",
                dir.display()
            ))(e))
        }
    }
    let path = dir.join(TREE_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.problems.push(Problem {
                offset: None,
                what: format!("there is no Merkle tree file ({}): the directory was written before the tree existed, or the file was removed. Opening it for writing (`auditlog serve`, `auditlog import --data-dir`) builds the tree from the log as it is now", path.display()),
            });
            return Ok(out);
        }
        Err(e) => return Err(io(format!("opening {}", path.display()))(e)),
    };
    let len = file
        .metadata()
        .map_err(io(format!("reading the size of {}", path.display())))?
        .len();
    let slots = match check_header(&file, len, &path) {
        Ok(s) if len >= TREE_HEADER_LEN => s,
        Ok(_) => {
            out.problems.push(Problem {
                offset: None,
                what: format!("{} is shorter than its header", path.display()),
            });
            return Ok(out);
        }
        Err(e) => {
            out.problems.push(Problem {
                offset: None,
                what: e.to_string(),
            });
            return Ok(out);
        }
    };
    let file = Arc::new(file);
    let mut tree = TreeSide::new(&file, slots)?;
    out.tree_leaves = tree.leaves;
    if leaves_started(slots) > tree.leaves
        || !(len - TREE_HEADER_LEN).is_multiple_of(HASH_SIZE as u64)
    {
        out.notes.push(format!(
            "the tree file ends part-way through the hashes of offset {} (a write cut short by a crash); they are not checked",
            tree.leaves
        ));
    }
    let mut log = LogSide::default();
    walk_log(dir, &mut tree, &mut log, progress)?;
    out.log_records = log.next;
    // The tree's leaves the log does not reach.
    while let Some((i, stored)) = tree.next_group()? {
        if log.tree_only.len() < KEEP {
            log.tree_only.push((i, stored));
        }
    }
    let random = TreeReader::from_file(file, tree.leaves);
    // Records past the tree's end are normal while a writer commits (the
    // log is synced before the tree is written), not once it has stopped.
    let writer = crate::lock::writer_running(dir).unwrap_or(false);
    finish(&mut out, &tree, &random, log, writer);
    Ok(out)
}

/// The tree file, read group by group in stored-hash order: leaf `i`'s hash
/// followed by the hashes of the subtrees it completes.
struct TreeSide {
    reader: BufReader<File>,
    leaves: u64,
    next: u64,
    // Recomputes interior hashes from the stored leaves.
    frontier: Frontier,
    expected: Vec<Hash>,
    bad_node: Option<Problem>,
}

impl TreeSide {
    fn new(file: &File, slots: u64) -> Result<Self, StoreError> {
        use std::io::Seek;
        let mut file = file
            .try_clone()
            .map_err(io("reading the Merkle tree file"))?;
        file.seek(std::io::SeekFrom::Start(TREE_HEADER_LEN))
            .map_err(io("reading the Merkle tree file"))?;
        Ok(TreeSide {
            reader: BufReader::with_capacity(1 << 20, file),
            leaves: leaves_within(slots),
            next: 0,
            frontier: Frontier::new(),
            expected: Vec::with_capacity(64),
            bad_node: None,
        })
    }

    /// The stored leaf hash of the next leaf, after checking the interior
    /// hashes stored with it; `None` past the tree's end.
    fn next_group(&mut self) -> Result<Option<(u64, Hash)>, StoreError> {
        if self.next >= self.leaves {
            return Ok(None);
        }
        let i = self.next;
        let leaf = self.read()?;
        let mut expected = std::mem::take(&mut self.expected);
        expected.clear();
        self.frontier.append(leaf, &mut expected);
        for (level, want) in (1u32..).zip(expected.iter().skip(1)) {
            let stored = self.read()?;
            if stored != *want && self.bad_node.is_none() {
                let node = NodeId::new(level, i >> level);
                let (a, b) = node.map_or((i, i), |n| (n.leaves().start, n.leaves().end - 1));
                self.bad_node = Some(Problem {
                    offset: Some(a),
                    what: format!(
                        "the tree file's hash of offsets {a}..={b} (stored hash {}) is not the hash of its two halves: the tree file itself was damaged or edited",
                        node.map_or(0, NodeId::stored_index)
                    ),
                });
            }
        }
        self.expected = expected;
        self.next += 1;
        Ok(Some((i, leaf)))
    }

    fn read(&mut self) -> Result<Hash, StoreError> {
        let mut h = ZERO;
        self.reader
            .read_exact(&mut h)
            .map_err(io("reading the Merkle tree file"))?;
        Ok(h)
    }
}

/// A leaf whose log bytes do not hash to the tree's leaf.
struct Mismatch {
    offset: u64,
    log: Hash,
    tree: Hash,
    crc_ok: bool,
}

#[derive(Default)]
struct LogSide {
    /// The next offset: records read so far.
    next: u64,
    mismatches: Vec<Mismatch>,
    mismatch_count: u64,
    /// Leaves past the tree's end, and the tree's leaves past the log's end.
    log_only: Vec<(u64, Hash)>,
    tree_only: Vec<(u64, Hash)>,
    log_only_bad_crc: Option<u64>,
    frame_problems: Vec<Problem>,
    frame_problem_count: u64,
    /// Consecutive frames whose offset field is off by the same amount.
    misnumbered: Option<Misnumbered>,
    problems: Vec<Problem>,
    notes: Vec<String>,
}

struct Misnumbered {
    first: u64,
    last: u64,
    claimed: u64,
    at: String,
}

impl LogSide {
    /// The frame read as offset `i` says it holds `claimed`. A cut-out or
    /// moved frame shifts every later one, so runs are reported as one.
    fn misnumbered(&mut self, i: u64, claimed: u64, at: String) {
        if let Some(r) = self.misnumbered.as_mut() {
            if r.last + 1 == i && r.claimed + (i - r.first) == claimed {
                r.last = i;
                return;
            }
        }
        self.end_misnumbered();
        self.misnumbered = Some(Misnumbered {
            first: i,
            last: i,
            claimed,
            at,
        });
    }

    fn end_misnumbered(&mut self) {
        let Some(r) = self.misnumbered.take() else {
            return;
        };
        let what = if r.first == r.last {
            format!(
                "offset {}: the frame at {} says it holds offset {}",
                r.first, r.at, r.claimed
            )
        } else {
            format!(
                "offsets {}..={}: their frames (the first at {}) say they hold offsets {}..={}",
                r.first,
                r.last,
                r.at,
                r.claimed,
                r.claimed + (r.last - r.first)
            )
        };
        self.frame_problem(r.first, what);
    }

    fn frame_problem(&mut self, offset: u64, what: String) {
        self.frame_problem_count += 1;
        if self.frame_problems.len() < LIST {
            self.frame_problems.push(Problem {
                offset: Some(offset),
                what,
            });
        }
    }
}

fn walk_log(
    dir: &Path,
    tree: &mut TreeSide,
    log: &mut LogSide,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), StoreError> {
    let segments = list_segments(&dir.join("log"))?;
    let total: u64 = segments
        .iter()
        .map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let mut done = 0u64;
    let last = segments.len().saturating_sub(1);
    for (n, (base, path)) in segments.iter().enumerate() {
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(path).map_err(io(format!("reading {}", path.display())))?;
        let i = log.next;
        match decode_header(&bytes) {
            Some(b) if b == *base => {}
            Some(b) => log.problems.push(Problem {
                offset: Some(i),
                what: format!(
                    "{name}, where offset {i} should be: its header says it starts at offset {b}"
                ),
            }),
            None => log.problems.push(Problem {
                offset: Some(i),
                what: format!("{name}, where offset {i} should be: bad segment header"),
            }),
        }
        if *base != i {
            log.problems.push(Problem {
                offset: Some(i),
                what: format!(
                    "{name} starts at offset {base}, but the log before it ends at offset {i}"
                ),
            });
        }
        let mut pos = HEADER_LEN;
        while pos < bytes.len() {
            match decode_frame_raw(bytes.get(pos..).unwrap_or(&[])) {
                Ok((frame, payload)) => {
                    let i = log.next;
                    if frame.offset != i {
                        log.misnumbered(i, frame.offset, format!("{name} byte {pos}"));
                    }
                    if frame.kind != FrameKind::Record as u8 {
                        log.frame_problem(
                            i,
                            format!(
                                "offset {i}: the frame at {name} byte {pos} has unknown kind {}",
                                frame.kind
                            ),
                        );
                    }
                    leaf(tree, log, i, leaf_hash(payload), frame.crc_ok)?;
                    log.next += 1;
                    pos += frame.total;
                }
                Err(e) => {
                    let i = log.next;
                    let rest = bytes.len() - pos;
                    if n == last && e == FrameError::Short && i >= tree.leaves {
                        log.notes.push(format!("{name} ends with {rest} bytes of a frame cut short at offset {i} (a write in progress, or one a crash interrupted; the next start truncates it)"));
                    } else {
                        let why = match e {
                            FrameError::Short => "it is cut short",
                            FrameError::BadLength => "its length is impossible",
                            _ => "it is invalid",
                        };
                        log.problems.push(Problem {
                            offset: Some(i),
                            what: format!("{name} byte {pos}: the frame of offset {i} cannot be read ({why}); the segment's last {rest} bytes are skipped"),
                        });
                        // Resume at the next segment's first offset; the
                        // tree's leaves in between go unchecked.
                        if let Some((next_base, _)) = segments.get(n + 1) {
                            while log.next < *next_base {
                                if tree.next_group()?.is_none() {
                                    log.next = *next_base;
                                    break;
                                }
                                log.next += 1;
                            }
                        }
                    }
                    break;
                }
            }
        }
        done += bytes.len() as u64;
        progress(done, total);
    }
    log.end_misnumbered();
    Ok(())
}

fn leaf(
    tree: &mut TreeSide,
    log: &mut LogSide,
    i: u64,
    hash: Hash,
    crc_ok: bool,
) -> Result<(), StoreError> {
    match tree.next_group()? {
        Some((_, stored)) if stored == hash => {
            if !crc_ok {
                log.frame_problem(i, format!("offset {i}: the frame's checksum fails, but the record's bytes match the tree's leaf: the frame header was damaged"));
            }
        }
        Some((_, stored)) if stored == ZERO => log.problems.push(Problem {
            offset: Some(i),
            what: format!("offset {i}: the tree's hash of this record is all zeros, a tree write torn by a power failure and not yet repaired (the next start rebuilds it from the log); the record cannot be checked until then"),
        }),
        Some((_, stored)) => {
            log.mismatch_count += 1;
            if log.mismatches.len() < KEEP {
                log.mismatches.push(Mismatch {
                    offset: i,
                    log: hash,
                    tree: stored,
                    crc_ok,
                });
            }
        }
        None => {
            if !crc_ok {
                log.log_only_bad_crc.get_or_insert(i);
            }
            if log.log_only.len() < KEEP {
                log.log_only.push((i, hash));
            }
        }
    }
    Ok(())
}

/// Turns what was seen into problems, diagnosing differing leaves: a
/// record moved (found at another offset of the tree), a run of records
/// shifted (one deleted or inserted), or bytes changed (found nowhere).
fn finish(
    out: &mut TreeCheck,
    tree: &TreeSide,
    random: &TreeReader,
    log: LogSide,
    writer_running: bool,
) {
    let (n, m) = (log.next, tree.leaves);
    let tree_at: HashMap<Hash, u64> = log
        .mismatches
        .iter()
        .map(|x| (x.tree, x.offset))
        .chain(log.tree_only.iter().map(|(i, h)| (*h, *i)))
        .collect();
    let log_at: HashMap<Hash, u64> = log
        .mismatches
        .iter()
        .map(|x| (x.log, x.offset))
        .chain(log.log_only.iter().map(|(i, h)| (*h, *i)))
        .collect();
    let mut problems = log.problems;
    let mut listed = 0usize;
    let mut swapped: Vec<u64> = Vec::new();
    let mut k = 0;
    let ms = &log.mismatches;
    while let Some(x) = ms.get(k) {
        let i = x.offset;
        if swapped.contains(&i) {
            k += 1;
            continue;
        }
        let here = tree_at.get(&x.log).copied(); // where the tree has this record
        let gone = log_at.get(&x.tree).copied(); // where the log has the tree's record
                                                 // A run: later offsets, one after another, moved by the same amount.
        let mut run = 1;
        if let Some(j) = here {
            while let Some(y) = ms.get(k + run) {
                let same = y.offset == i + run as u64
                    && tree_at.get(&y.log).copied() == Some(j + run as u64);
                if !same {
                    break;
                }
                run += 1;
            }
        }
        let what = match (here, gone) {
            (Some(j), Some(g)) if run == 1 && g == j && j != i => {
                swapped.push(j);
                format!("offsets {i} and {j} are swapped: offset {i} holds the record that the tree has at offset {j}, and offset {j} the one it has at offset {i} (records reordered)")
            }
            (Some(j), _) if run > 1 => {
                let b = i + run as u64 - 1;
                let shift = if j > i {
                    format!(
                        "each {} offset(s) lower than in the tree: record(s) before them are missing from the log",
                        j - i
                    )
                } else {
                    format!(
                        "each {} offset(s) higher than in the tree: record(s) the tree does not have were inserted before them",
                        i - j
                    )
                };
                let head = match gone {
                    Some(g) => format!("; the tree's record at offset {i} is at offset {g} of the log"),
                    None if j > i => format!("; the tree's record at offset {i} is not in the log (deleted?)"),
                    None => String::new(),
                };
                format!(
                    "offsets {i}..={b} hold the records that the tree has at offsets {}..={} ({shift}){head}",
                    j,
                    j + run as u64 - 1
                )
            }
            (Some(j), Some(g)) => format!("offset {i} holds the record that the tree has at offset {j}, and the tree's record at offset {i} is at offset {g} of the log (records reordered?)"),
            (Some(j), None) => format!("offset {i} holds the record that the tree has at offset {j} (records reordered?); the tree's record at offset {i} is not in the log (deleted?)"),
            (None, Some(g)) => format!("offset {i} holds a record the tree does not have; the tree's record at offset {i} is at offset {g} of the log (a record inserted?)"),
            (None, None) if leaf_was_changed(random, i, &x.log, &x.tree) == Some(true) => format!(
                "offset {i}: the tree's leaf hash was changed: the stored record matches the tree's hash above it, not its leaf"
            ),
            (None, None) => format!(
                "offset {i}: the stored record's bytes do not hash to the tree's leaf ({})",
                if x.crc_ok {
                    "the frame's checksum is valid: the record was rewritten along with its checksum"
                } else {
                    "frame checksum fails too"
                }
            ),
        };
        if listed < LIST {
            problems.push(Problem {
                offset: Some(i),
                what,
            });
        }
        listed += 1;
        k += run;
    }
    let kept = log.mismatches.len() as u64;
    if log.mismatch_count > kept || listed > LIST {
        problems.push(Problem {
            offset: None,
            what: format!(
                "{} offsets in all hold bytes that differ from the tree's leaves; only the first are described",
                log.mismatch_count
            ),
        });
    }
    problems.extend(log.frame_problems);
    if log.frame_problem_count > LIST as u64 {
        problems.push(Problem {
            offset: None,
            what: format!(
                "{} frame problems in all; only the first {LIST} are listed",
                log.frame_problem_count
            ),
        });
    }
    if n < m {
        problems.push(Problem {
            offset: Some(n),
            what: format!(
                "the log ends at offset {n} but the tree has {m} leaves: {} record(s) the tree holds are not in the log",
                m - n
            ),
        });
    }
    if n > m && !writer_running {
        let crc = log
            .log_only_bad_crc
            .map(|o| format!("; the frame of offset {o} fails its checksum"))
            .unwrap_or_default();
        problems.push(Problem {
            offset: Some(m),
            what: format!(
                "offsets {m}..={} are in the log but not in the tree, and no writer is running: the tree file was cut short, or a crash has not been recovered yet (opening the store for writing adds them){crc}",
                n - 1
            ),
        });
    }
    problems.extend(tree.bad_node.clone());
    problems.sort_by_key(|p| p.offset.unwrap_or(u64::MAX));
    out.problems = problems;
    out.notes.extend(log.notes);
    if n > m && writer_running {
        let crc = log
            .log_only_bad_crc
            .map(|o| format!("; the frame of offset {o} fails its checksum"))
            .unwrap_or_default();
        out.notes.push(format!(
            "the log holds {} record(s) past the tree's end (offsets {m}..={}): a commit in progress (a writer is running); they are not verified{crc}",
            n - m,
            n - 1
        ));
    }
    if out.problems.is_empty() {
        out.root = Some(if m == 0 {
            empty_root()
        } else {
            tree.frontier.root()
        });
    }
}

/// Which side of a differing leaf `i` was changed, judged by the stored
/// hash of the pair it belongs to (written when both were appended): if
/// the log's record joins with its stored sibling into that hash, the tree's
/// leaf was changed (`Some(true)`); if the stored leaf does, the record was
/// (`Some(false)`). `None` when the pair is not complete or neither fits.
fn leaf_was_changed(tree: &TreeReader, i: u64, log: &Hash, stored: &Hash) -> Option<bool> {
    let sibling = i ^ 1;
    if sibling >= tree.size() {
        return None;
    }
    let parent = NodeId::new(1, i >> 1)?.stored_index();
    let hashes = tree
        .read_hashes(&[parent, stored_hash_count(sibling)])
        .ok()?;
    let (parent, sib) = (hashes.first()?, hashes.get(1)?);
    let join = |h: &Hash| {
        if i & 1 == 0 {
            node_hash(h, sib)
        } else {
            node_hash(sib, h)
        }
    };
    if join(log) == *parent {
        Some(true)
    } else if join(stored) == *parent {
        Some(false)
    } else {
        None
    }
}
