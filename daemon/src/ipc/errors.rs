//! How daemon-side failures become JSON-RPC errors, in one place, so each
//! kind of failure gets the same code (and so the same exit code) everywhere.

use syncdb_core::ipc::{ErrorCode, RpcError};

use crate::replicas::ReplicaError;

pub fn bad_input(message: impl Into<String>) -> RpcError {
    RpcError::new(ErrorCode::BadInput, message)
}

pub fn not_found(message: impl Into<String>) -> RpcError {
    RpcError::new(ErrorCode::NotFound, message)
}

/// Refuses `command` on a folder whose databases are kept in the hub's
/// store: it works on database files, and those have none.
pub fn files_only(folder: &syncdb_core::folder::Folder, command: &str) -> Result<(), RpcError> {
    if !folder.settings.stored {
        return Ok(());
    }
    Err(bad_input(format!(
        "`syncdb {command}` works on database files, and folder {} keeps its databases in the hub's store (serve.store), shared with the hubs that use it: back the store up with the server's own tools (pg_dump), which also restore it",
        folder.settings.id
    )))
}

pub fn replica_error(e: ReplicaError) -> RpcError {
    match &e {
        ReplicaError::Store {
            source: syncdb_core::store::StoreError::Refused(_),
            ..
        } => RpcError::new(ErrorCode::BadInput, e.to_string()),
        ReplicaError::Store {
            source: syncdb_core::store::StoreError::Precondition(p),
            ..
        } => RpcError::new(ErrorCode::Conflict, p.to_string()),
        ReplicaError::Store { source, .. } if source.is_disk_full() => {
            RpcError::new(ErrorCode::Storage, format!("disk full: {e}"))
        }
        ReplicaError::Stopped
        | ReplicaError::Shared(_)
        | ReplicaError::Store {
            source:
                syncdb_core::store::StoreError::Closed | syncdb_core::store::StoreError::Server(_),
            ..
        } => RpcError::new(ErrorCode::Unavailable, e.to_string()),
        ReplicaError::Folder(f) => RpcError::new(ErrorCode::Storage, f.to_string()),
        ReplicaError::Store { .. } => RpcError::new(ErrorCode::Storage, e.to_string()),
    }
}
