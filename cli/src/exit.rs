//! Exit codes and the error type every command returns. One mapping from
//! failure to code, so `--help`, the README and the code agree.

use std::fmt;

use syncdb_core::ipc::{ErrorCode, RpcError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    /// Storage, I/O, or the daemon refused.
    Error = 1,
    /// Usage or bad input; nothing was written.
    Usage = 2,
    /// The record or database does not exist.
    NotFound = 3,
    /// The daemon could not be reached or started.
    Unreachable = 4,
}

#[derive(Debug)]
pub struct CliError {
    pub exit: Exit,
    pub message: String,
}

impl CliError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(Exit::Error, message)
    }

    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(Exit::Unreachable, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RpcError> for CliError {
    fn from(e: RpcError) -> Self {
        let exit = match e.code {
            ErrorCode::NotFound => Exit::NotFound,
            ErrorCode::BadInput | ErrorCode::InvalidParams => Exit::Usage,
            ErrorCode::Unavailable => Exit::Unreachable,
            _ => Exit::Error,
        };
        CliError::new(exit, e.message)
    }
}

impl From<syncdb_core::names::NameError> for CliError {
    fn from(e: syncdb_core::names::NameError) -> Self {
        CliError::usage(e.to_string())
    }
}

impl From<syncdb_core::doc::DocError> for CliError {
    fn from(e: syncdb_core::doc::DocError) -> Self {
        CliError::usage(e.to_string())
    }
}

/// Output errors: a closed pipe (`| head`) is not an error worth a message.
impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failed(e.to_string())
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;
