//! The data directory lock: one writer process per directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{io, StoreError};

/// Holds an exclusive lock on `DIR/LOCK` until dropped (or the process dies,
/// which releases it, so a crash never leaves the directory locked).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Take the lock, or say which process holds it.
pub fn lock(dir: &Path) -> Result<DirLock, StoreError> {
    let path = dir.join("LOCK");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io("opening LOCK"))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut s = String::new();
            let _ = f.read_to_string(&mut s);
            return Err(StoreError::Locked {
                dir: dir.display().to_string(),
                pid: s.trim().parse().ok(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io("locking LOCK")(e)),
    }
    f.set_len(0).map_err(io("writing LOCK"))?;
    f.rewind().map_err(io("writing LOCK"))?;
    writeln!(f, "{}", std::process::id()).map_err(io("writing LOCK"))?;
    Ok(DirLock { _file: f })
}

/// Whether a writer holds the lock of `dir` right now (`None` when that
/// cannot be told). Takes and drops a shared lock, so it never blocks a
/// writer for longer than the check itself.
pub fn writer_running(dir: &Path) -> Option<bool> {
    let f = File::open(dir.join("LOCK")).ok()?;
    match f.try_lock_shared() {
        Ok(()) => Some(false),
        Err(TryLockError::WouldBlock) => Some(true),
        Err(TryLockError::Error(_)) => None,
    }
}
