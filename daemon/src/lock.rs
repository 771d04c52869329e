//! One daemon per `SYNCDB_HOME`: the runtime directory is made private and
//! checked, then an exclusive lock on `daemon.lock` is taken for the life of
//! the process. The lock, not the socket, decides who runs, so a stale socket
//! left by `kill -9` is never mistaken for a live daemon.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another syncdb daemon is already running for this home (pid {pid}, lock {path})")]
    AlreadyRunning { pid: String, path: PathBuf },
    #[error(
        "{0} is a symbolic link; syncdb never follows links in its runtime directory: remove it (`rm {0}`) and start again"
    )]
    Symlink(PathBuf),
    #[error("runtime directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "runtime directory {path} is not private (owner uid {owner}, mode {mode:o}); it must belong to you with mode 0700"
    )]
    NotPrivate {
        path: PathBuf,
        owner: u32,
        mode: u32,
    },
}

/// Held while the daemon runs; the OS releases it when the process dies.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
}

/// Creates `dir` with mode 0700 if needed and checks that only we can enter it.
pub fn private_dir(dir: &Path) -> Result<(), LockError> {
    let io = |source| LockError::Io {
        path: dir.to_owned(),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        let meta = std::fs::symlink_metadata(dir).map_err(io)?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        let mode = meta.mode() & 0o777;
        if meta.uid() != me || !meta.is_dir() {
            return Err(LockError::NotPrivate {
                path: dir.to_owned(),
                owner: meta.uid(),
                mode,
            });
        }
        if mode & 0o077 != 0 {
            // Ours but too open (made by an older version or by hand): tighten it.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(io)?;
    Ok(())
}

impl DaemonLock {
    /// Takes the lock or says who has it. Writes our pid into the file.
    pub fn acquire(path: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = open_no_follow(path, true).map_err(|e| {
            if is_symlink(path) {
                LockError::Symlink(path.to_owned())
            } else {
                io(e)
            }
        })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(LockError::AlreadyRunning {
                    pid: pid.trim().to_owned(),
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DaemonLock { _file: file })
    }
}

/// The pid written in a lock file, if a daemon holds it now.
pub fn running_pid(path: &Path) -> Option<u32> {
    let mut file = open_no_follow(path, false).ok()?;
    if file.try_lock().is_ok() {
        return None; // nobody holds it
    }
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Opens the lock file read-write, never through a symlink: one planted in
/// the runtime directory would make us truncate and write its target.
fn open_no_follow(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(create)
        .truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW).mode(0o600);
    }
    options.open(path)
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_pid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.lock");
        let _held = DaemonLock::acquire(&path).unwrap();
        let err = DaemonLock::acquire(&path).unwrap_err().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert_eq!(running_pid(&path), Some(std::process::id()));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_lock_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let path = dir.path().join("daemon.lock");
        std::os::unix::fs::symlink(&target, &path).unwrap();
        let err = DaemonLock::acquire(&path).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(running_pid(&path), None);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[cfg(unix)]
    #[test]
    fn private_dir_is_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        private_dir(&run).unwrap();
        let mode = std::fs::metadata(&run).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&run).unwrap();
        let mode = std::fs::metadata(&run).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "an open directory of ours is tightened");
    }
}
