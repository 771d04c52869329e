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
}

impl Paths {
    /// `SYNCDB_HOME` if set, else the OS's directories for "syncdb".
    pub fn from_env() -> Result<Self, PathsError> {
        match std::env::var_os(HOME_ENV) {
            Some(home) if !home.is_empty() => {
                let home = std::path::absolute(PathBuf::from(home)).map_err(PathsError::BadHome)?;
                Ok(Self::under(&home))
            }
            _ => Self::from_os(),
        }
    }

    /// Every directory under `home`.
    pub fn under(home: &Path) -> Self {
        Paths {
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
            config_dir: dirs.config_dir().to_owned(),
            data_dir: dirs.data_dir().to_owned(),
            state_dir,
            runtime_dir,
        })
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

    #[test]
    fn overlong_socket_path_is_refused_with_advice() {
        let p = Paths::under(&Path::new("/").join("x".repeat(120)));
        let err = p.socket().unwrap_err().to_string();
        assert!(err.contains("SYNCDB_HOME"), "{err}");
    }
}
