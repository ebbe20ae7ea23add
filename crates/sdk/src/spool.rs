//! The disk spool: batches that could not be delivered, one file per batch,
//! oldest first, so an outage or a restart of the service loses nothing.
//!
//! A batch file is written to `NNNNNNNNNNNNNNNN.tmp`, synced, renamed to
//! `NNNNNNNNNNNNNNNN.ndjson` and the directory synced: a crash leaves either
//! the whole batch or none of it (stray `.tmp` files are removed on open). A
//! file is deleted only after its batch was delivered; a crash between the
//! two re-sends it, which the server recognises by id.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One spooled batch.
#[derive(Debug)]
struct Entry {
    seq: u64,
    bytes: u64,
    records: usize,
    /// Kept in memory when the spool has no directory.
    held: Option<Vec<Vec<u8>>>,
}

/// A queue of undelivered batches, bounded in bytes.
#[derive(Debug)]
pub struct Spool {
    dir: Option<PathBuf>,
    entries: VecDeque<Entry>,
    bytes: u64,
    records: usize,
    max_bytes: u64,
    next_seq: u64,
}

fn name(seq: u64) -> String {
    format!("{seq:016}.ndjson")
}

impl Spool {
    /// Open the spool in `dir` (created if missing), picking up batches a
    /// previous process left; `None` keeps batches in memory only.
    pub fn open(dir: Option<&Path>, max_bytes: u64) -> io::Result<Spool> {
        let mut s = Spool {
            dir: dir.map(Path::to_path_buf),
            entries: VecDeque::new(),
            bytes: 0,
            records: 0,
            max_bytes,
            next_seq: 0,
        };
        let Some(dir) = dir else {
            return Ok(s);
        };
        fs::create_dir_all(dir)?;
        let mut found = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = e?;
            let file = e.file_name();
            let Some(file) = file.to_str() else { continue };
            if file.ends_with(".tmp") {
                fs::remove_file(e.path())?;
            } else if let Some(seq) = file
                .strip_suffix(".ndjson")
                .and_then(|n| n.parse::<u64>().ok())
            {
                let data = fs::read(e.path())?;
                let records = data.iter().filter(|&&b| b == b'\n').count();
                found.push(Entry {
                    seq,
                    bytes: data.len() as u64,
                    records,
                    held: None,
                });
            }
        }
        found.sort_by_key(|e| e.seq);
        for e in found {
            s.bytes += e.bytes;
            s.records += e.records;
            s.next_seq = e.seq + 1;
            s.entries.push_back(e);
        }
        Ok(s)
    }

    /// No batches waiting.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes waiting.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Records waiting.
    pub fn records(&self) -> usize {
        self.records
    }

    /// Whether a batch of `bytes` fits under the limit.
    pub fn has_room(&self, bytes: u64) -> bool {
        self.bytes + bytes <= self.max_bytes
    }

    /// Add a batch at the back. Durable (on disk) when this returns.
    pub fn push(&mut self, batch: &[Vec<u8>]) -> io::Result<()> {
        let bytes: u64 = batch.iter().map(|r| r.len() as u64 + 1).sum();
        let n = batch.len();
        let seq = self.next_seq;
        let held = match &self.dir {
            None => Some(batch.to_vec()),
            Some(dir) => {
                let tmp = dir.join(format!("{seq:016}.tmp"));
                let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
                let mut buf = Vec::with_capacity(bytes as usize);
                for r in batch {
                    buf.extend_from_slice(r);
                    buf.push(b'\n');
                }
                f.write_all(&buf)?;
                f.sync_all()?;
                fs::rename(&tmp, dir.join(name(seq)))?;
                File::open(dir)?.sync_all()?;
                None
            }
        };
        self.next_seq += 1;
        self.bytes += bytes;
        self.records += n;
        self.entries.push_back(Entry {
            seq,
            bytes,
            records: n,
            held,
        });
        Ok(())
    }

    /// The oldest batch, without removing it.
    pub fn peek(&self) -> io::Result<Option<Vec<Vec<u8>>>> {
        let Some(e) = self.entries.front() else {
            return Ok(None);
        };
        if let Some(h) = &e.held {
            return Ok(Some(h.clone()));
        }
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        let data = fs::read(dir.join(name(e.seq)))?;
        Ok(Some(
            data.split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec)
                .collect(),
        ))
    }

    /// Remove the oldest batch (after it was delivered).
    pub fn pop(&mut self) -> io::Result<()> {
        let Some(e) = self.entries.pop_front() else {
            return Ok(());
        };
        self.bytes -= e.bytes;
        self.records -= e.records;
        if let (Some(dir), None) = (&self.dir, &e.held) {
            fs::remove_file(dir.join(name(e.seq)))?;
        }
        Ok(())
    }

    /// Append rejected records to `rejected.ndjson` beside the spool (or
    /// nowhere in memory mode), so a refused record is kept for an operator.
    pub fn dead_letter(&self, lines: &[Vec<u8>]) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("rejected.ndjson"))?;
        for l in lines {
            f.write_all(l)?;
            f.write_all(b"\n")?;
        }
        f.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_survive_reopen_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::open(Some(dir.path()), 1 << 20).unwrap();
        s.push(&[b"{\"a\":1}".to_vec(), b"{\"a\":2}".to_vec()])
            .unwrap();
        s.push(&[b"{\"a\":3}".to_vec()]).unwrap();
        fs::write(dir.path().join("0000000000000009.tmp"), b"torn").unwrap();
        drop(s);
        let mut s = Spool::open(Some(dir.path()), 1 << 20).unwrap();
        assert_eq!(s.records(), 3);
        assert!(!dir.path().join("0000000000000009.tmp").exists());
        assert_eq!(s.peek().unwrap().unwrap().len(), 2);
        s.pop().unwrap();
        assert_eq!(s.peek().unwrap().unwrap(), vec![b"{\"a\":3}".to_vec()]);
        s.pop().unwrap();
        assert!(s.is_empty() && s.bytes() == 0 && s.records() == 0);
    }

    #[test]
    fn room_is_bounded_in_bytes() {
        let mut s = Spool::open(None, 20).unwrap();
        assert!(s.has_room(20));
        s.push(&[b"0123456789".to_vec()]).unwrap();
        assert!(!s.has_room(10));
        assert_eq!(s.records(), 1);
    }
}
