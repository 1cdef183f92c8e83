//! One `run` per store (adapter): `run` holds an exclusive `flock` on `STORE.lock` beside the store, with its
//! pid written in it. The kernel releases the lock when the process ends, however it ends (`kill -9`
//! included), so a stale lock file never blocks a new `run`. Store-only commands take no lock.

use rustix::fs::{FlockOperation, flock};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a lock holder that has not written its pid yet is waited for (to name it).
const PID_WAIT: Duration = Duration::from_millis(500);

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another oewsprobe run (pid {pid}) is using this store: {store}")]
    Held { pid: String, store: String },
    #[error("cannot lock the store {store} (lock file {lock}): {source}")]
    Io {
        store: String,
        lock: String,
        source: std::io::Error,
    },
}

/// The lock file of `store`: `STORE.lock` beside it.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the run lock of `store`, or says which pid holds it.
pub fn lock_for_run(store: &Path) -> Result<RunLock, LockError> {
    let path = lock_path(store);
    let io = |source: std::io::Error| LockError::Io {
        store: store.display().to_string(),
        lock: path.display().to_string(),
        source,
    };
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            return Err(LockError::Held {
                pid: holder(&mut file),
                store: store.display().to_string(),
            });
        }
        Err(e) => return Err(io(e.into())),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(RunLock { _file: file })
}

/// The pid the holder wrote (it writes it right after locking: wait a moment for it), or `unknown`.
fn holder(file: &mut File) -> String {
    let deadline = Instant::now() + PID_WAIT;
    loop {
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let pid = text.trim();
        if read.is_ok() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
            return pid.to_string();
        }
        if Instant::now() >= deadline {
            return "unknown".to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_dropped_lock_is_free_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = dir.path().join("oewsprobe.sqlite");
        let held = lock_for_run(&store).expect("first lock");
        let second = lock_for_run(&store).expect_err("second lock");
        assert_eq!(
            second.to_string(),
            format!(
                "another oewsprobe run (pid {}) is using this store: {}",
                std::process::id(),
                store.display()
            )
        );
        drop(held);
        lock_for_run(&store).expect("free again");
        assert_eq!(lock_path(&store), dir.path().join("oewsprobe.sqlite.lock"));
    }
}
