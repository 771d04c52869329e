//! Where syncdb keeps things: config, data, state (logs) and runtime (socket,
//! lock) directories, from the OS conventions (`directories`), or all under
//! `SYNCDB_HOME` when it is set (tests, CI, several instances on one machine).

use std::path::{Path, PathBuf};

/// The variable that moves every syncdb directory under one folder.
pub const HOME_ENV: &str = "SYNCDB_HOME";

/// Unix socket paths longer than this do not fit `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// `SYNCDB_HOME`, when set: checked like the directories under it.
    pub home: Option<PathBuf>,
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub runtime_dir: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum PathsError {
    #[error("cannot tell where the home directory is; set {HOME_ENV}=DIR")]
    NoHome,
    #[error("{HOME_ENV} is not usable: {0}")]
    BadHome(std::io::Error),
    #[error(
        "socket path {0} is too long for a Unix socket (over {MAX_SOCKET_PATH} bytes); set {HOME_ENV} to a shorter directory"
    )]
    SocketPathTooLong(PathBuf),
    /// A file or directory syncdb would trust that someone else controls.
    #[error("{path} {problem}, so syncdb does not trust what is in it; {fix}")]
    Untrusted {
        path: PathBuf,
        problem: String,
        fix: String,
    },
    #[error("cannot check {path}: {source}")]
    Check {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The effective uid of this process.
#[cfg(unix)]
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Checks, like ssh's StrictModes, that `path` is under this user's control:
/// owned by this user (or root) and not writable by group or others. Whoever
/// can write a config, a token store or a directory holding them can make
/// the daemon serve or send this user's data to them. Symlinks are followed
/// (a dotfile repository may link the config); what they point to is checked.
/// A missing path is fine (syncdb makes it, private); returns whether it exists.
pub fn check_trusted(path: &Path) -> Result<bool, PathsError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(PathsError::Check {
                path: path.to_owned(),
                source,
            });
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = euid();
        let untrusted = |problem: String, fix: String| PathsError::Untrusted {
            path: path.to_owned(),
            problem,
            fix,
        };
        // A link is followed, but only one of ours: whoever owns a link in
        // a shared place such as /tmp can point it elsewhere at any time.
        if let Ok(link) = std::fs::symlink_metadata(path)
            && link.file_type().is_symlink()
            && link.uid() != me
            && link.uid() != 0
        {
            return Err(untrusted(
                format!(
                    "is a symbolic link made by uid {}, not by you (uid {me})",
                    link.uid()
                ),
                format!(
                    "remove it (`rm {}`) and let syncdb make its own, or set {HOME_ENV} to a directory of yours",
                    path.display()
                ),
            ));
        }
        if meta.uid() != me && meta.uid() != 0 {
            return Err(untrusted(
                format!("belongs to uid {}, not to you (uid {me})", meta.uid()),
                format!(
                    "move it away and let syncdb make its own, or set {HOME_ENV} to a directory of yours"
                ),
            ));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            let (kind, private) = if meta.is_dir() {
                ("directory", "700")
            } else {
                ("file", "600")
            };
            return Err(untrusted(
                format!("is a {kind} writable by group or others (mode {mode:04o})"),
                format!("run `chmod {private} {}`", path.display()),
            ));
        }
    }
    Ok(true)
}

/// Creates `dir` (and missing parents) with mode 0700, and tightens an
/// existing one of ours that others may read: state and data are private.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::metadata(dir)?;
        if meta.uid() == euid() && meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// Opens a private file (a log) for appending: created 0600, never through
/// a symlink (one planted there would make us write into its target), and
/// an existing one of ours is tightened to 0600.
pub fn open_private_append(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let file = options.open(path)?;
        let meta = file.metadata()?;
        if meta.uid() != euid() && meta.uid() != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} belongs to uid {}, not to you",
                    path.display(),
                    meta.uid()
                ),
            ));
        }
        if meta.mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

impl Paths {
    /// `SYNCDB_HOME` if set, else the OS's directories for "syncdb".
    pub fn from_env() -> Result<Self, PathsError> {
        match std::env::var_os(HOME_ENV) {
            Some(home) if !home.is_empty() => {
                let home = std::path::absolute(PathBuf::from(home)).map_err(PathsError::BadHome)?;
                Ok(Paths {
                    home: Some(home.clone()),
                    ..Self::under(&home)
                })
            }
            _ => Self::from_os(),
        }
    }

    /// Every directory under `home`.
    pub fn under(home: &Path) -> Self {
        Paths {
            home: None,
            config_dir: home.join("config"),
            data_dir: home.join("data"),
            state_dir: home.join("state"),
            runtime_dir: home.join("run"),
        }
    }

    fn from_os() -> Result<Self, PathsError> {
        let dirs = directories::ProjectDirs::from("", "", "syncdb").ok_or(PathsError::NoHome)?;
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_owned();
        let runtime_dir = dirs
            .runtime_dir()
            .map(Path::to_owned)
            .unwrap_or_else(|| state_dir.join("run"));
        Ok(Paths {
            home: None,
            config_dir: dirs.config_dir().to_owned(),
            data_dir: dirs.data_dir().to_owned(),
            state_dir,
            runtime_dir,
        })
    }

    /// Checks every directory syncdb reads from that exists: the home, and
    /// the config, data and state directories, and the config file (see
    /// [`check_trusted`]). The
    /// runtime directory is checked, stricter, by the daemon that owns it;
    /// the command checks instead that the daemon behind the socket is ours.
    pub fn check(&self) -> Result<(), PathsError> {
        let config = self.config_file();
        let all = [&self.config_dir, &self.data_dir, &self.state_dir, &config];
        for path in self.home.iter().chain(all) {
            match check_trusted(path) {
                // What we may not even look at sits in a directory already
                // found trusted (its parent comes first, or is ours): no one
                // untrusted put it there, and we will not read it anyway.
                Err(PathsError::Check { source, .. })
                    if source.kind() == std::io::ErrorKind::PermissionDenied => {}
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn socket(&self) -> Result<PathBuf, PathsError> {
        let path = self.runtime_dir.join("daemon.sock");
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(PathsError::SocketPathTooLong(path));
        }
        Ok(path)
    }

    /// The HTTP API for the daemon's own user (`http.unix_socket`).
    pub fn http_socket(&self) -> Result<PathBuf, PathsError> {
        let path = self.runtime_dir.join("http.sock");
        if path.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(PathsError::SocketPathTooLong(path));
        }
        Ok(path)
    }

    /// Held (flock) by the running daemon; holds its pid.
    pub fn lock_file(&self) -> PathBuf {
        self.runtime_dir.join("daemon.lock")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("daemon.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_puts_everything_under_one_dir() {
        let p = Paths::under(Path::new("/h"));
        assert_eq!(p.config_file(), Path::new("/h/config/config.toml"));
        assert_eq!(p.socket().unwrap(), Path::new("/h/run/daemon.sock"));
        assert_eq!(p.log_file(), Path::new("/h/state/daemon.log"));
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_others_can_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        assert!(!check_trusted(&home).unwrap(), "missing is fine");
        create_private_dir(&home.join("state")).unwrap();
        for d in [&home, &home.join("state")] {
            let mode = std::fs::metadata(d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        assert!(check_trusted(&home).unwrap());
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = check_trusted(&home).unwrap_err().to_string();
        assert!(err.contains("writable by group or others"), "{err}");
        assert!(
            err.contains(&format!("chmod 700 {}", home.display())),
            "{err}"
        );
    }

    #[test]
    fn overlong_socket_path_is_refused_with_advice() {
        let p = Paths::under(&Path::new("/").join("x".repeat(120)));
        let err = p.socket().unwrap_err().to_string();
        assert!(err.contains("SYNCDB_HOME"), "{err}");
    }
}
