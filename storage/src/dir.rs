//! The data directory: its format marker and its lock.
//!
//! A data dir holds a `VIGIL` file naming the format and its version. Vigil
//! creates it in an empty (or new) directory, opens a directory whose marker
//! names this version, and refuses anything else without writing to it: a
//! directory with other files (another program's data, or a typo in
//! `--data-dir`) and one written by a newer format version. A lock on the
//! file `lock` keeps a second process out while one has the directory open.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const MARKER: &str = "VIGIL";
const MAGIC: &str = "vigil-tsdb";

/// Why a data dir cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// Reading or creating the dir failed.
    #[error("data dir {dir}: {source}")]
    Io {
        /// The data dir.
        dir: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    #[error(
        "data dir {dir} is not a Vigil data dir (it has other files, e.g. {example:?}, and no VIGIL marker); \
         refusing to write to it: pass an empty or new directory"
    )]
    /// The dir holds other files and no marker: not ours to write into.
    Foreign {
        /// The data dir.
        dir: PathBuf,
        /// One of the files found there.
        example: String,
    },
    /// The marker file is there but says something else.
    #[error("data dir {dir}: the VIGIL marker is not Vigil's ({found:?}); refusing to open it")]
    BadMarker {
        /// The data dir.
        dir: PathBuf,
        /// The marker's first line.
        found: String,
    },
    #[error(
        "data dir {dir} was written by format version {found}, newer than this Vigil's {FORMAT_VERSION}; \
         refusing to open it (run a newer Vigil)"
    )]
    /// A newer Vigil wrote the dir.
    FutureVersion {
        /// The data dir.
        dir: PathBuf,
        /// The format version the marker names.
        found: u32,
    },
    /// Another process holds the lock.
    #[error("data dir {dir} is in use by another Vigil process{pid} (lock held on {lock}); stop it or pick another --data-dir")]
    Locked {
        /// The data dir.
        dir: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// " (pid N)" when the lock file names the holder, else empty.
        pid: String,
    },
}

/// An open, locked data dir. The lock is released when this is dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Opens `path`, creating it and its marker when new or empty.
    pub fn open(path: &Path) -> Result<DataDir, DirError> {
        let io = |source| DirError::Io { dir: path.to_path_buf(), source };
        fs::create_dir_all(path).map_err(io)?;
        let marker = path.join(MARKER);
        match fs::read_to_string(&marker) {
            Ok(text) => check_marker(path, &text)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // A marker's temporary file is all a crash while creating one can leave.
                let tmp_name = format!("{MARKER}.tmp");
                let other = fs::read_dir(path).map_err(io)?.flatten().find(|e| e.file_name() != *tmp_name);
                if let Some(example) = other {
                    return Err(DirError::Foreign {
                        dir: path.to_path_buf(),
                        example: example.file_name().to_string_lossy().into_owned(),
                    });
                }
                write_atomically(&marker, format!("{MAGIC}\nformat {FORMAT_VERSION}\n").as_bytes()).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
        let lock_path = path.join("lock");
        let mut lock =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(io)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let pid = fs::read_to_string(&lock_path).unwrap_or_default();
                let pid = pid.trim();
                return Err(DirError::Locked {
                    dir: path.to_path_buf(),
                    lock: lock_path,
                    pid: if pid.is_empty() { String::new() } else { format!(" (pid {pid})") },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        lock.set_len(0).and_then(|()| write!(lock, "{}", std::process::id())).map_err(io)?;
        Ok(DataDir { path: path.to_path_buf(), _lock: lock })
    }

    /// The data dir's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn check_marker(dir: &Path, text: &str) -> Result<(), DirError> {
    let bad = || DirError::BadMarker { dir: dir.to_path_buf(), found: text.chars().take(40).collect() };
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(bad());
    }
    let version = lines.next().and_then(|l| l.strip_prefix("format ")).and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(v) if v <= FORMAT_VERSION => Ok(()),
        Some(v) => Err(DirError::FutureVersion { dir: dir.to_path_buf(), found: v }),
        None => Err(bad()),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash
/// leaves either the old file or the new one.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_dir_gets_a_marker_and_a_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        let d = DataDir::open(&dir).unwrap();
        assert!(fs::read_to_string(dir.join(MARKER)).unwrap().starts_with("vigil-tsdb\nformat 1"));
        let err = DataDir::open(&dir).unwrap_err();
        assert!(matches!(err, DirError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("in use by another Vigil process"), "{err}");
        drop(d);
        DataDir::open(&dir).unwrap();
    }

    #[test]
    fn foreign_and_future_dirs_are_refused_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("wal.db"), b"someone else's").unwrap();
        let err = DataDir::open(tmp.path()).unwrap_err();
        assert!(err.to_string().contains("not a Vigil data dir"), "{err}");
        assert!(!tmp.path().join(MARKER).exists() && !tmp.path().join("lock").exists());

        let future = tempfile::tempdir().unwrap();
        fs::write(future.path().join(MARKER), "vigil-tsdb\nformat 99\n").unwrap();
        let err = DataDir::open(future.path()).unwrap_err();
        assert!(err.to_string().contains("format version 99, newer than"), "{err}");
        assert_eq!(fs::read_to_string(future.path().join(MARKER)).unwrap(), "vigil-tsdb\nformat 99\n");

        let odd = tempfile::tempdir().unwrap();
        fs::write(odd.path().join(MARKER), "something\n").unwrap();
        assert!(matches!(DataDir::open(odd.path()).unwrap_err(), DirError::BadMarker { .. }));
    }
}
