//! Folders on disk: a directory of database files (`crm.redb`,
//! `notes.sqlite`) plus `.syncdb/folder.toml` with the folder's id and default
//! engine. The marker directory is what makes a directory a folder: without
//! it nothing is read, so a missing or unmounted disk is an error, never
//! "everything was deleted".

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::names::Name;
use crate::store::EngineKind;

pub const MARKER_DIR: &str = ".syncdb";
const SETTINGS_FILE: &str = "folder.toml";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSettings {
    /// The same on every machine that shares the folder.
    pub id: String,
    /// Engine for databases created in this folder.
    pub engine: EngineKind,
    /// Its databases are not files here but tables of the store its hub
    /// serves from (`serve.store`, shared with other hubs): this directory
    /// only says which folder it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stored: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folder {
    pub path: PathBuf,
    pub settings: FolderSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{0} is not a syncdb folder (no {MARKER_DIR}/{SETTINGS_FILE}); run `syncdb init {0}`")]
    NotAFolder(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadSettings { path: PathBuf, message: String },
    #[error("database {name} exists twice in {folder} (as .redb and .sqlite); remove one")]
    Ambiguous { name: String, folder: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Refuses an engine that keeps no files, for a folder's databases.
fn file_engine(dir: &Path, engine: EngineKind) -> Result<(), FolderError> {
    engine
        .check_file_engine()
        .map_err(|message| FolderError::BadSettings {
            path: dir.to_owned(),
            message,
        })
}

impl Folder {
    /// Makes `dir` a folder (creating it if needed), or opens it if it is one.
    /// Returns the folder and whether it was created now.
    pub fn create(dir: &Path, engine: EngineKind) -> Result<(Folder, bool), FolderError> {
        file_engine(dir, engine)?;
        match Folder::open(dir) {
            Ok(f) => return Ok((f, false)),
            Err(FolderError::NotAFolder(_)) => {}
            Err(e) => return Err(e),
        }
        let settings = FolderSettings {
            id: uuid::Uuid::new_v4().to_string(),
            engine,
            stored: false,
        };
        Ok((Folder::write_new(dir, settings)?, true))
    }

    /// Makes `dir` the folder `id` (a copy of a folder from elsewhere), or
    /// opens it if it already is that folder.
    pub fn create_with_id(dir: &Path, id: &str, engine: EngineKind) -> Result<Folder, FolderError> {
        Folder::create_as(dir, id, engine, false)
    }

    /// [`Folder::create_with_id`] for a folder whose databases are kept in
    /// its hub's store (`stored`), or in files here.
    pub fn create_as(
        dir: &Path,
        id: &str,
        engine: EngineKind,
        stored: bool,
    ) -> Result<Folder, FolderError> {
        file_engine(dir, engine)?;
        match Folder::open(dir) {
            Ok(f) if f.settings.id == id && f.settings.stored == stored => return Ok(f),
            Ok(f) => {
                let message = match f.settings.id == id {
                    true => format!(
                        "already folder {id}, with its databases {}",
                        if f.settings.stored {
                            "in a hub's store"
                        } else {
                            "in files here"
                        }
                    ),
                    false => format!("already a folder with another id ({})", f.settings.id),
                };
                return Err(FolderError::BadSettings {
                    path: dir.to_owned(),
                    message,
                });
            }
            Err(FolderError::NotAFolder(_)) => {}
            Err(e) => return Err(e),
        }
        let settings = FolderSettings {
            id: id.to_owned(),
            engine,
            stored,
        };
        Folder::write_new(dir, settings)
    }

    /// Writes the settings of a new folder at `dir`.
    fn write_new(dir: &Path, settings: FolderSettings) -> Result<Folder, FolderError> {
        let marker = dir.join(MARKER_DIR);
        std::fs::create_dir_all(&marker).map_err(io_err(&marker))?;
        let text = toml::to_string(&settings).expect("settings serialize");
        let file = marker.join(SETTINGS_FILE);
        write_atomic(&file, text.as_bytes()).map_err(io_err(&file))?;
        let path = std::fs::canonicalize(dir).map_err(io_err(dir))?;
        Ok(Folder { path, settings })
    }

    pub fn open(dir: &Path) -> Result<Folder, FolderError> {
        let file = dir.join(MARKER_DIR).join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(FolderError::NotAFolder(dir.to_owned()));
            }
            Err(e) => return Err(io_err(&file)(e)),
        };
        let settings: FolderSettings =
            toml::from_str(&text).map_err(|e| FolderError::BadSettings {
                path: file.clone(),
                message: e.message().to_owned(),
            })?;
        file_engine(&file, settings.engine)?;
        let path = std::fs::canonicalize(dir).map_err(io_err(dir))?;
        Ok(Folder { path, settings })
    }

    /// The engine its databases are kept with: its hub's store for a
    /// stored folder, else the one its new databases get.
    pub fn engine(&self) -> EngineKind {
        match self.settings.stored {
            true => EngineKind::Postgres,
            false => self.settings.engine,
        }
    }

    /// The nearest folder at or above `start`, as git finds a repository.
    pub fn find_upwards(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .find(|d| d.join(MARKER_DIR).join(SETTINGS_FILE).is_file())
            .map(Path::to_owned)
    }

    /// The file of database `name` and its engine, if it exists.
    pub fn database_file(&self, name: &Name) -> Result<Option<(EngineKind, PathBuf)>, FolderError> {
        let mut found = None;
        for kind in EngineKind::ALL {
            let path = self.path.join(format!("{name}.{}", kind.extension()));
            // Whatever is there counts, a dangling symlink too: it is then
            // refused when opened, never "missing" and created through.
            if std::fs::symlink_metadata(&path).is_ok() {
                if found.is_some() {
                    return Err(FolderError::Ambiguous {
                        name: name.to_string(),
                        folder: self.path.clone(),
                    });
                }
                found = Some((kind, path));
            }
        }
        Ok(found)
    }

    /// Where a new database `name` goes, with the folder's engine.
    pub fn new_database_file(&self, name: &Name) -> (EngineKind, PathBuf) {
        let kind = self.settings.engine;
        let path = self.path.join(format!("{name}.{}", kind.extension()));
        (kind, path)
    }

    /// The databases in the folder, by name.
    pub fn databases(&self) -> Result<Vec<(Name, EngineKind)>, FolderError> {
        let mut out = Vec::new();
        let entries = std::fs::read_dir(&self.path).map_err(io_err(&self.path))?;
        for entry in entries {
            let entry = entry.map_err(io_err(&self.path))?;
            let path = entry.path();
            let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
                continue;
            };
            let (Some(stem), Some(ext)) = (stem.to_str(), ext.to_str()) else {
                continue;
            };
            if let (Ok(name), Some(kind)) = (
                Name::parse_as("database", stem),
                EngineKind::from_extension(ext),
            ) {
                out.push((name, kind));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Writes a file so that readers see the old or the new content, never a mix:
/// temp file, fsync, rename, fsync the directory. Files are 0600.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file"),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_is_idempotent_and_found_from_below() {
        let dir = tempfile::tempdir().unwrap();
        let (f1, created) = Folder::create(dir.path(), EngineKind::Sqlite).unwrap();
        assert!(created);
        let (f2, created) = Folder::create(dir.path(), EngineKind::Redb).unwrap();
        assert!(!created);
        assert_eq!(f1, f2, "an existing folder keeps its id and engine");
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(Folder::find_upwards(&deep).unwrap(), dir.path());
    }

    #[test]
    fn plain_directory_is_not_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = Folder::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("syncdb init"), "{err}");
    }

    #[test]
    fn databases_are_found_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let (f, _) = Folder::create(dir.path(), EngineKind::Redb).unwrap();
        std::fs::write(dir.path().join("crm.redb"), b"").unwrap();
        std::fs::write(dir.path().join("notes.sqlite"), b"").unwrap();
        std::fs::write(dir.path().join("readme.txt"), b"").unwrap();
        let names: Vec<_> = f
            .databases()
            .unwrap()
            .into_iter()
            .map(|(n, k)| format!("{n}.{k}"))
            .collect();
        assert_eq!(names, ["crm.redb", "notes.sqlite"]);
        std::fs::write(dir.path().join("crm.sqlite"), b"").unwrap();
        let crm = Name::parse_as("db", "crm").unwrap();
        assert!(matches!(
            f.database_file(&crm),
            Err(FolderError::Ambiguous { .. })
        ));
    }
}
