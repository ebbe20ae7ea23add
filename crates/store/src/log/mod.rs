//! The segment log: the durable source of truth. Records are appended as
//! checksummed frames with gap-free offsets; a batch is acknowledged only
//! after `sync`. Readers share the segment files and read by position.

mod fault;
pub mod frame;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use fault::{Fault, FaultAction, FaultHook};
use frame::{
    decode_frame, decode_header, encode_frame, encode_header, FrameError, FrameKind,
    FRAME_HEADER_LEN, HEADER_LEN,
};

/// Log failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// An operating-system error.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Bytes that should be a valid frame are not, somewhere other than the
    /// tail of the last segment (where a torn write is expected and repaired).
    #[error("log is corrupt in segment {segment} at byte {pos} (expected offset {expected}): {why}; run `auditlog check` and restore the segment from a backup")]
    Corrupt {
        segment: String,
        pos: u64,
        expected: u64,
        why: String,
    },
    /// A previous write or sync failed; the state of the file is unknown
    /// until the log is reopened (recovery then truncates anything torn).
    #[error("the log stopped accepting writes after an I/O failure; restart to recover")]
    Poisoned,
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> LogError {
    let context = context.into();
    move |source| LogError::Io { context, source }
}

/// Where a record's frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    /// Byte position of the frame within its segment.
    pub pos: u32,
}

/// A frame found while scanning.
#[derive(Debug)]
pub struct Scanned<'a> {
    pub offset: u64,
    pub segment_base: u64,
    pub pos: u64,
    pub payload: &'a [u8],
}

#[derive(Debug)]
struct Segment {
    base: u64,
    path: PathBuf,
    file: Arc<File>,
}

/// Shared, read-only access to the segments.
#[derive(Debug, Clone)]
pub struct LogReader {
    segments: Arc<RwLock<Vec<Arc<Segment>>>>,
}

/// Options for opening the log.
#[derive(Clone, Default)]
pub struct LogOptions {
    /// Start a new segment once the current one holds this many bytes.
    pub segment_bytes: u64,
    /// Test hook that can fail writes and syncs.
    pub fault: Option<FaultHook>,
    /// Offsets below this are known to have been made durable: the Merkle
    /// tree file holds their hashes, and the store writes those only after
    /// the frames' `fdatasync`. An invalid frame below it is damage, never a
    /// torn write, so recovery refuses instead of truncating it away.
    pub durable_floor: u64,
}

impl std::fmt::Debug for LogOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogOptions")
            .field("segment_bytes", &self.segment_bytes)
            .field("durable_floor", &self.durable_floor)
            .finish_non_exhaustive()
    }
}

/// The writer side of the log. There is exactly one per data directory.
#[derive(Debug)]
pub struct Log {
    dir: PathBuf,
    reader: LogReader,
    active: Arc<Segment>,
    active_len: u64,
    next_offset: u64,
    opts: LogOptions,
    buf: Vec<u8>,
    poisoned: bool,
}

pub(crate) fn segment_name(base: u64) -> String {
    format!("{base:020}.seg")
}

/// Segment files in `dir`, sorted by base offset.
pub fn list_segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, LogError> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(format!("listing {}", dir.display())))? {
        let p = e.map_err(io("listing segments"))?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if let Some(stem) = name.strip_suffix(".seg") {
            if let Ok(base) = stem.parse::<u64>() {
                v.push((base, p));
            }
        }
    }
    v.sort();
    Ok(v)
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(format!("syncing directory {}", dir.display())))
}

fn open_rw(path: &Path) -> Result<File, LogError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io(format!("opening {}", path.display())))
}

impl Log {
    /// Open (creating if needed) the log in `dir`, and scan every frame from
    /// `resume` — `(segment base, byte position, offset expected there)`, or
    /// the very start — to the end, calling `visit` for each. A torn frame at
    /// the end of the last segment is truncated away; an invalid frame
    /// anywhere else, or below [`LogOptions::durable_floor`], is
    /// [`LogError::Corrupt`].
    pub fn open(
        dir: &Path,
        opts: LogOptions,
        resume: Option<(u64, u64, u64)>,
        mut visit: impl FnMut(Scanned<'_>),
    ) -> Result<Log, LogError> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let mut listed = list_segments(dir)?;
        // A crash while starting a segment can leave an empty or header-less last file.
        while let Some((base, path)) = listed.last() {
            let len = std::fs::metadata(path)
                .map_err(io("reading segment size"))?
                .len();
            if listed.len() > 1 && len < HEADER_LEN as u64 {
                tracing::warn!(segment = %path.display(), base, "removing segment torn while being created");
                std::fs::remove_file(path).map_err(io("removing torn segment"))?;
                listed.pop();
            } else {
                break;
            }
        }
        if listed.is_empty() {
            let path = dir.join(segment_name(0));
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io("creating first segment"))?;
            f.write_all_at(&encode_header(0), 0)
                .map_err(io("writing segment header"))?;
            f.sync_all().map_err(io("syncing new segment"))?;
            sync_dir(dir)?;
            listed.push((0, path));
        }
        let mut segments = Vec::with_capacity(listed.len());
        for (base, path) in &listed {
            segments.push(Arc::new(Segment {
                base: *base,
                path: path.clone(),
                file: Arc::new(open_rw(path)?),
            }));
        }
        let (start_idx, mut pos, mut expected) = match resume {
            Some((base, pos, offset)) => {
                let i = segments
                    .iter()
                    .position(|s| s.base == base)
                    .ok_or_else(|| LogError::Corrupt {
                        segment: segment_name(base),
                        pos,
                        expected: offset,
                        why: "the index refers to a segment that is missing".into(),
                    })?;
                (i, pos, offset)
            }
            None => (0, HEADER_LEN as u64, segments.first().map_or(0, |s| s.base)),
        };
        let last_idx = segments.len() - 1;
        let mut active_len = 0;
        for (i, seg) in segments.iter().enumerate().skip(start_idx) {
            let is_last = i == last_idx;
            let bytes =
                std::fs::read(&seg.path).map_err(io(format!("reading {}", seg.path.display())))?;
            let corrupt = |pos: u64, expected: u64, why: String| LogError::Corrupt {
                segment: segment_name(seg.base),
                pos,
                expected,
                why,
            };
            match decode_header(&bytes) {
                Some(b) if b == seg.base => {}
                _ if is_last && bytes.len() < HEADER_LEN => {
                    // Torn while being created (the only segment): rewrite the header.
                    seg.file.set_len(0).map_err(io("truncating torn segment"))?;
                    seg.file
                        .write_all_at(&encode_header(seg.base), 0)
                        .map_err(io("writing segment header"))?;
                    seg.file.sync_all().map_err(io("syncing segment"))?;
                    active_len = HEADER_LEN as u64;
                    pos = HEADER_LEN as u64;
                    continue;
                }
                _ => return Err(corrupt(0, expected, "bad segment header".into())),
            }
            if i > start_idx {
                pos = HEADER_LEN as u64;
                if seg.base != expected {
                    return Err(corrupt(0, expected, format!("segment starts at offset {} but the previous one ended before {expected}", seg.base)));
                }
            }
            loop {
                let at = usize::try_from(pos).unwrap_or(usize::MAX);
                if at >= bytes.len() {
                    break;
                }
                match decode_frame(bytes.get(at..).unwrap_or(&[])) {
                    Ok((info, payload))
                        if info.offset == expected && info.kind == FrameKind::Record =>
                    {
                        visit(Scanned {
                            offset: expected,
                            segment_base: seg.base,
                            pos,
                            payload,
                        });
                        pos += info.total as u64;
                        expected += 1;
                    }
                    Ok((info, _)) => {
                        return Err(corrupt(
                            pos,
                            expected,
                            format!(
                                "frame holds offset {} where {expected} was expected",
                                info.offset
                            ),
                        ));
                    }
                    Err(e) if is_last && expected < opts.durable_floor => {
                        return Err(corrupt(
                            pos,
                            expected,
                            format!(
                                "{}; the Merkle tree holds this record's hash, which is written only after the frame was made durable, so this is damage, not a torn write",
                                describe(e)
                            ),
                        ));
                    }
                    Err(e) if is_last => {
                        // Only the tail of the last segment can be torn: a
                        // crash mid-batch. Nothing torn was ever acknowledged.
                        tracing::warn!(segment = %seg.path.display(), pos, dropped = bytes.len() as u64 - pos, error = ?e, "truncating torn tail of the log");
                        seg.file.set_len(pos).map_err(io("truncating torn tail"))?;
                        seg.file
                            .sync_all()
                            .map_err(io("syncing truncated segment"))?;
                        break;
                    }
                    Err(e) => return Err(corrupt(pos, expected, describe(e))),
                }
            }
            if is_last {
                active_len = pos;
            }
        }
        if start_idx == last_idx && active_len == 0 {
            active_len = pos;
        }
        let active = segments.last().cloned().ok_or_else(|| LogError::Corrupt {
            segment: "?".into(),
            pos: 0,
            expected,
            why: "no segments".into(),
        })?;
        let reader = LogReader {
            segments: Arc::new(RwLock::new(segments)),
        };
        Ok(Log {
            dir: dir.to_owned(),
            reader,
            active,
            active_len,
            next_offset: expected,
            opts,
            buf: Vec::new(),
            poisoned: false,
        })
    }

    /// A handle for concurrent readers.
    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }

    /// The offset the next record will get.
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// Bytes in all segments.
    pub fn size_bytes(&self) -> u64 {
        self.reader
            .segments
            .read()
            .map(|s| {
                s.iter()
                    .map(|x| x.file.metadata().map_or(0, |m| m.len()))
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Write `payloads` as consecutive records. They are not durable until
    /// [`Log::sync`] returns. Returns each record's position.
    pub fn append<'p>(
        &mut self,
        payloads: impl IntoIterator<Item = &'p [u8]>,
    ) -> Result<Vec<Position>, LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        if self.active_len >= self.opts.segment_bytes.max(HEADER_LEN as u64 + 1) {
            self.roll()?;
        }
        self.buf.clear();
        let mut positions = Vec::new();
        let mut offset = self.next_offset;
        for p in payloads {
            let pos = self.active_len + self.buf.len() as u64;
            positions.push(Position {
                offset,
                pos: u32::try_from(pos).unwrap_or(u32::MAX),
            });
            encode_frame(&mut self.buf, offset, FrameKind::Record, p);
            offset += 1;
        }
        let result = self.write_buf();
        if result.is_err() {
            self.poisoned = true;
        }
        result?;
        self.active_len += self.buf.len() as u64;
        self.next_offset = offset;
        Ok(positions)
    }

    fn write_buf(&self) -> Result<(), LogError> {
        let mut len = self.buf.len();
        if let Some(hook) = &self.opts.fault {
            match hook(Fault::Write { bytes: len }) {
                FaultAction::Proceed => {}
                FaultAction::Fail => return Err(injected("write")),
                FaultAction::Partial(n) => {
                    len = n.min(len);
                    let part = self.buf.get(..len).unwrap_or(&[]);
                    self.active
                        .file
                        .write_all_at(part, self.active_len)
                        .map_err(io("appending to the log"))?;
                    return Err(injected("partial write"));
                }
            }
        }
        self.active
            .file
            .write_all_at(&self.buf, self.active_len)
            .map_err(io("appending to the log"))
    }

    /// Make everything appended so far durable (fdatasync).
    pub fn sync(&mut self) -> Result<(), LogError> {
        if self.poisoned {
            return Err(LogError::Poisoned);
        }
        if let Some(hook) = &self.opts.fault {
            if !matches!(hook(Fault::Sync), FaultAction::Proceed) {
                self.poisoned = true;
                return Err(injected("sync"));
            }
        }
        let r = self.active.file.sync_data().map_err(io("syncing the log"));
        if r.is_err() {
            // fsync failure leaves the page cache state unknown (see "fsyncgate");
            // refuse further writes until a restart re-reads the file.
            self.poisoned = true;
        }
        r
    }

    fn roll(&mut self) -> Result<(), LogError> {
        let base = self.next_offset;
        let path = self.dir.join(segment_name(base));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io(format!("creating {}", path.display())))?;
        f.write_all_at(&encode_header(base), 0)
            .map_err(io("writing segment header"))?;
        f.sync_all().map_err(io("syncing new segment"))?;
        sync_dir(&self.dir)?;
        let seg = Arc::new(Segment {
            base,
            path,
            file: Arc::new(f),
        });
        if let Ok(mut segs) = self.reader.segments.write() {
            segs.push(seg.clone());
        }
        self.active = seg;
        self.active_len = HEADER_LEN as u64;
        Ok(())
    }

    /// The segment base and byte position where the next record will go.
    pub fn tail_position(&self) -> (u64, u64) {
        (self.active.base, self.active_len)
    }
}

fn injected(what: &str) -> LogError {
    LogError::Io {
        context: format!("injected {what} failure"),
        source: std::io::Error::other("fault injection"),
    }
}

fn describe(e: FrameError) -> String {
    match e {
        FrameError::Short => "frame is cut short".into(),
        FrameError::BadLength => "frame length is impossible".into(),
        FrameError::BadChecksum => "checksum mismatch".into(),
        FrameError::BadKind => "unknown frame kind".into(),
    }
}

/// Scan the log read-only, from `resume` (as in [`Log::open`]) to the first
/// frame that is missing or invalid, without repairing anything: another
/// process may be writing. Returns a reader and where the scan stopped.
pub fn scan(
    dir: &Path,
    resume: Option<(u64, u64, u64)>,
    mut visit: impl FnMut(Scanned<'_>),
) -> Result<(LogReader, (u64, u64)), LogError> {
    let listed = list_segments(dir)?;
    let mut segments = Vec::with_capacity(listed.len());
    for (base, path) in &listed {
        let file = File::open(path).map_err(io(format!("opening {}", path.display())))?;
        segments.push(Arc::new(Segment {
            base: *base,
            path: path.clone(),
            file: Arc::new(file),
        }));
    }
    let (start, mut pos, mut expected) = match resume {
        Some((base, pos, offset)) => (
            segments
                .iter()
                .position(|s| s.base == base)
                .unwrap_or(segments.len()),
            pos,
            offset,
        ),
        None => (0, HEADER_LEN as u64, segments.first().map_or(0, |s| s.base)),
    };
    let mut end = (segments.get(start).map_or(0, |s| s.base), pos);
    'segs: for (i, seg) in segments.iter().enumerate().skip(start) {
        if i > start {
            if seg.base != expected {
                break;
            }
            pos = HEADER_LEN as u64;
        }
        let bytes =
            std::fs::read(&seg.path).map_err(io(format!("reading {}", seg.path.display())))?;
        if decode_header(&bytes) != Some(seg.base) {
            break;
        }
        loop {
            let at = usize::try_from(pos).unwrap_or(usize::MAX);
            match bytes.get(at..).map(decode_frame) {
                Some(Ok((info, payload))) if info.offset == expected => {
                    visit(Scanned {
                        offset: expected,
                        segment_base: seg.base,
                        pos,
                        payload,
                    });
                    pos += info.total as u64;
                    expected += 1;
                    end = (seg.base, pos);
                }
                _ => {
                    if at < bytes.len() {
                        break 'segs;
                    }
                    break;
                }
            }
        }
    }
    Ok((
        LogReader {
            segments: Arc::new(RwLock::new(segments)),
        },
        end,
    ))
}

impl LogReader {
    /// The base offset of the segment holding `offset`.
    fn segment_for(&self, offset: u64) -> Option<Arc<Segment>> {
        let segs = self.segments.read().ok()?;
        let i = segs.partition_point(|s| s.base <= offset);
        segs.get(i.checked_sub(1)?).cloned()
    }

    /// Read the payload of the record at `offset`, whose frame starts at `pos`.
    /// The frame's checksum and offset are verified.
    pub fn read(&self, offset: u64, pos: u32) -> Result<Vec<u8>, LogError> {
        let seg = self.segment_for(offset).ok_or_else(|| LogError::Corrupt {
            segment: "?".into(),
            pos: u64::from(pos),
            expected: offset,
            why: "no segment holds this offset".into(),
        })?;
        let mut head = [0u8; FRAME_HEADER_LEN];
        seg.file
            .read_exact_at(&mut head, u64::from(pos))
            .map_err(io("reading a frame header"))?;
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len > frame::MAX_PAYLOAD {
            return Err(LogError::Corrupt {
                segment: segment_name(seg.base),
                pos: u64::from(pos),
                expected: offset,
                why: "frame length is impossible".into(),
            });
        }
        let mut buf = vec![0u8; FRAME_HEADER_LEN + len];
        seg.file
            .read_exact_at(&mut buf, u64::from(pos))
            .map_err(io("reading a frame"))?;
        let corrupt = |why: String| LogError::Corrupt {
            segment: segment_name(seg.base),
            pos: u64::from(pos),
            expected: offset,
            why,
        };
        let (info, _) = decode_frame(&buf).map_err(|e| corrupt(describe(e)))?;
        if info.offset != offset {
            return Err(corrupt(format!("frame holds offset {}", info.offset)));
        }
        buf.drain(..FRAME_HEADER_LEN);
        Ok(buf)
    }

    /// Segment bases and paths, oldest first.
    pub fn segments(&self) -> Vec<(u64, PathBuf)> {
        self.segments
            .read()
            .map(|s| s.iter().map(|x| (x.base, x.path.clone())).collect())
            .unwrap_or_default()
    }
}
