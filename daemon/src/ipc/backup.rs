//! `backup` and `restore`. A backup is a directory of consistent copies
//! (one read snapshot per database, taken while writers go on) with a
//! manifest (`syncdb_core::backup`). A restore checks each copy (size,
//! checksum, the engine's integrity check), gives it a new site id — a
//! restored copy must not be taken for the replica it was copied from,
//! whose later writes it lacks — and puts it in place under the database's
//! own lock. When history was cleaned up since, the hub finds the new
//! replica behind its horizon and it rebuilds, keeping its own writes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use syncdb_core::backup;
use syncdb_core::ipc::*;
use syncdb_core::{Database, Name};

use super::errors::{bad_input, not_found, replica_error};
use super::handlers::{one_or_all, replica};
use crate::state::State;

/// Where a backup writes its copies before they are whole (inside DEST).
const STAGING: &str = ".syncdb-partial";

fn storage(message: String) -> RpcError {
    RpcError::new(ErrorCode::Storage, message)
}

/// Blocking: copies whole databases. Run it off the async workers.
pub fn backup(state: &Arc<State>, p: BackupParams) -> Result<BackupOutput, RpcError> {
    let folder = state.resolve(&p.folder)?;
    super::errors::files_only(&folder, "backup")?;
    let dest = &p.dest;
    if !dest.is_absolute() {
        return Err(bad_input(format!(
            "backup directory {} must be an absolute path",
            dest.display()
        )));
    }
    // Inside a folder, the copies would sit among the databases they copy
    // (and a restore from there would restore the folder into itself).
    let real = real_path(dest);
    if let Some(inside) = state
        .config()
        .folders
        .iter()
        .find(|f| real.starts_with(real_path(&f.path)))
    {
        return Err(bad_input(format!(
            "backup directory {} is inside the folder {}; give a directory outside every folder",
            dest.display(),
            inside.path.display()
        )));
    }
    // Every database is opened before anything is written: a name that is
    // not there, or a damaged file, leaves no directory behind.
    let mut replicas = Vec::new();
    for db in one_or_all(state, &folder, p.db.as_ref())? {
        replicas.push((replica(state, &folder, &db)?, db));
    }
    let staging = dest.join(STAGING);
    let created = match std::fs::read_dir(dest) {
        Ok(entries) => {
            // Only what a killed backup left may be there.
            let debris = |e: &std::fs::DirEntry| e.file_name() == STAGING;
            if entries.flatten().any(|e| !debris(&e)) {
                return Err(bad_input(format!(
                    "backup directory {} is not empty; give a new or empty directory",
                    dest.display()
                )));
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(_) if dest.is_file() => {
            return Err(bad_input(format!(
                "{} is a file; give a new or empty directory",
                dest.display()
            )));
        }
        Err(e) => return Err(storage(format!("{}: {e}", dest.display()))),
    };
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| storage(format!("cannot create {}: {e}", staging.display())))?;
    let started = Instant::now();
    // Copies are made in the staging directory and moved beside the
    // manifest only once all are whole: a backup killed midway leaves only
    // the staging directory, which the next backup into DEST clears.
    let written = copy_all(&staging, replicas).and_then(|databases| {
        let manifest = Manifest {
            format: backup::FORMAT,
            syncdb: crate::VERSION.into(),
            folder: folder.settings.id.clone(),
            created_ms: state.now_ms(),
            databases,
        };
        for entry in &manifest.databases {
            std::fs::rename(staging.join(&entry.file), dest.join(&entry.file))
                .map_err(|e| storage(format!("cannot move {} into place: {e}", entry.file)))?;
        }
        backup::write_manifest(dest, &manifest).map_err(|e| {
            storage(format!(
                "cannot write the manifest in {}: {e}",
                dest.display()
            ))
        })?;
        Ok(manifest)
    });
    let _ = std::fs::remove_dir_all(&staging);
    let manifest = match written {
        Ok(manifest) => manifest,
        Err(e) => {
            // Half a backup is no backup: what was moved goes too.
            if let Ok(entries) = std::fs::read_dir(dest) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            if created {
                let _ = std::fs::remove_dir(dest);
            }
            return Err(e);
        }
    };
    Ok(BackupOutput {
        dir: dest.clone(),
        manifest,
        ms: started.elapsed().as_millis() as u64,
    })
}

/// `path` with its symlinks resolved, as far as it exists (a backup
/// directory may not exist yet).
fn real_path(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = std::fs::canonicalize(at) {
            return missing.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_owned());
                at = parent;
            }
            _ => return path.to_owned(),
        }
    }
}

/// Copies each database into `dir`.
fn copy_all(
    dir: &Path,
    replicas: Vec<(Arc<crate::replicas::Replica>, Name)>,
) -> Result<Vec<ManifestEntry>, RpcError> {
    let mut databases = Vec::new();
    for (replica, db) in replicas {
        let file = format!("{db}.{}", replica.reader.kind().extension());
        let path = dir.join(&file);
        replica
            .reader
            .backup_to(&path)
            .map_err(|e| replica_error(replica.store_error(e)))?;
        let entry = describe(&db, &file, &path).map_err(storage)?;
        tracing::info!(db = %db, seq = entry.seq, bytes = entry.bytes, "backed up");
        databases.push(entry);
    }
    Ok(databases)
}

/// Reads a copy for its manifest entry, after making it durable.
fn describe(db: &Name, file: &str, path: &Path) -> Result<ManifestEntry, String> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let kind = syncdb_core::EngineKind::from_extension(
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
    )
    .expect("named by its engine");
    let (seq, site, records, schema_version) = {
        let copy = Database::open(kind, path).map_err(|e| format!("{}: {e}", path.display()))?;
        let reader = copy.reader();
        let records = reader.record_count().map_err(|e| e.to_string())?;
        let version = copy.schema().schema().map_or(0, |s| s.version);
        (copy.high_seq(), copy.site(), records, version)
    };
    // SQLite's copy is one file once closed; redb's always is.
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    Ok(ManifestEntry {
        db: db.clone(),
        file: file.to_owned(),
        engine: kind,
        site: site.to_hex(),
        seq,
        records,
        schema_version,
        bytes,
        sha256: backup::sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?,
    })
}

/// Blocking: copies and checks whole databases. Run it off the async workers.
pub fn restore(state: &Arc<State>, p: RestoreParams) -> Result<RestoreOutput, RpcError> {
    let folder = state.resolve_writable(&p.folder)?;
    super::errors::files_only(&folder, "restore")?;
    let manifest = backup::read_manifest(&p.src).map_err(|e| match e {
        backup::ManifestError::Missing(why) => not_found(why),
        backup::ManifestError::Bad(why) => bad_input(why),
    })?;
    let entries: Vec<&ManifestEntry> = match &p.db {
        Some(db) => {
            let one = manifest.databases.iter().find(|e| &e.db == db);
            vec![one.ok_or_else(|| {
                not_found(format!(
                    "the backup in {} holds no database {db} (it holds: {})",
                    p.src.display(),
                    names(&manifest)
                ))
            })?]
        }
        None => manifest.databases.iter().collect(),
    };
    let from_folder = (manifest.folder != folder.settings.id).then(|| manifest.folder.clone());
    if let Some(from) = &from_folder {
        tracing::warn!(from = %from, to = %folder.settings.id, "restoring a backup of another folder");
    }
    // Everything is checked before anything is put in place.
    for entry in &entries {
        if !p.force && folder.database_file(&entry.db).ok().flatten().is_some() {
            return Err(bad_input(format!(
                "database {} exists in {}; restore --force moves it aside first, or `syncdb drop {}` it",
                entry.db,
                folder.path.display(),
                entry.db
            )));
        }
        backup::check_copy(&p.src.join(&entry.file), entry).map_err(bad_input)?;
    }
    let mut databases = Vec::new();
    let mut failed = None;
    for entry in &entries {
        match restore_one(state, &folder, &p.src, entry) {
            Ok(info) => databases.push(info),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    // Those put in place before a failure are restored all the same.
    let replaced: Vec<&Name> = databases.iter().map(|d| &d.db).collect();
    super::repair::reconnect(state, &folder, &replaced);
    if let Some(e) = failed {
        return Err(e);
    }
    Ok(RestoreOutput {
        databases,
        from_folder,
    })
}

fn names(manifest: &Manifest) -> String {
    let all: Vec<&str> = manifest.databases.iter().map(|e| e.db.as_str()).collect();
    all.join(", ")
}

fn restore_one(
    state: &Arc<State>,
    folder: &syncdb_core::folder::Folder,
    src: &Path,
    entry: &ManifestEntry,
) -> Result<RestoredInfo, RpcError> {
    let target = folder.path.join(&entry.file);
    let staging = folder.path.join(format!(".{}.restoring", entry.file));
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(src.join(&entry.file), &staging)
        .map_err(|e| storage(format!("cannot copy {} into the folder: {e}", entry.file)))?;
    let checked = (|| {
        backup::check_copy(&staging, entry)?;
        entry
            .engine
            .check_file(&staging)
            .map_err(|e| format!("{} fails the integrity check: {e}", entry.file))?;
        let mut db = Database::open(entry.engine, &staging).map_err(|e| e.to_string())?;
        let site = db.take_new_site().map_err(|e| e.to_string())?;
        let records = db.reader().record_count().map_err(|e| e.to_string())?;
        Ok::<_, String>((site, records, db.high_seq()))
    })();
    let (site, records, seq) = match checked {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(bad_input(e));
        }
    };
    let stamp = super::repair::utc_stamp(syncdb_core::version::wall_clock_ms() / 1000);
    let replaced = state
        .replicas
        .with_closed(folder, &entry.db, || -> std::io::Result<Option<PathBuf>> {
            let old = match folder.database_file(&entry.db) {
                Ok(Some((kind, path))) => Some(super::repair::move_aside(
                    &path,
                    kind,
                    &format!("replaced-{stamp}"),
                )?),
                _ => None,
            };
            std::fs::rename(&staging, &target)?;
            // SQLite leaves no side files once closed, unless it could not
            // fold its log back in: then they go with the file.
            for side in ["-wal", "-shm"] {
                let from = PathBuf::from(format!("{}{side}", staging.display()));
                if from.exists() {
                    std::fs::rename(&from, format!("{}{side}", target.display()))?;
                }
            }
            std::fs::File::open(&folder.path)?.sync_all()?;
            Ok(old.map(|moved| moved[0].1.clone()))
        })
        .map_err(|e| storage(format!("cannot put {} in place: {e}", target.display())))?;
    tracing::warn!(db = %entry.db, from = %src.display(), site = %site.to_hex(), "restored a database");
    Ok(RestoredInfo {
        db: entry.db.clone(),
        records,
        seq,
        site: site.to_hex(),
        former_site: entry.site.clone(),
        replaced,
    })
}

/// A restore killed midway leaves its staged copy (`.NAME.EXT.restoring`)
/// in the folder; at start no restore runs, so any there is debris.
pub fn sweep_staging(state: &State) {
    for folder in &state.config().folders {
        let Ok(entries) = std::fs::read_dir(&folder.path) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let staged = name.starts_with('.')
                && [".restoring", ".restoring-wal", ".restoring-shm"]
                    .iter()
                    .any(|end| name.ends_with(end));
            if staged {
                match std::fs::remove_file(entry.path()) {
                    Ok(()) => {
                        tracing::info!(file = %entry.path().display(), "removed a restore's staged copy left by a kill")
                    }
                    Err(e) => {
                        tracing::warn!(file = %entry.path().display(), error = %e, "cannot remove a restore's staged copy")
                    }
                }
            }
        }
    }
}
