//! Backups: a directory of consistent database copies with a manifest
//! (`manifest.json`: database, file, seq, site, records, schema version,
//! size, SHA-256), written by `syncdb backup` and checked by `restore`.

use std::io::Read;
use std::path::Path;

use sha2::Digest;

use crate::ipc::{Manifest, ManifestEntry};

/// The manifest's file name in a backup directory.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format this syncdb writes and reads.
pub const FORMAT: u32 = 1;

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes the manifest durably: a temporary file, fsynced, renamed.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(manifest).expect("manifest serializes");
    let tmp = dir.join(format!(".{MANIFEST}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, dir.join(MANIFEST))?;
    std::fs::File::open(dir)?.sync_all()
}

/// Reads and checks a backup's manifest: its format, and that every file
/// it names is a plain `DB.EXT` file of the right engine beside it.
pub fn read_manifest(dir: &Path) -> Result<Manifest, ManifestError> {
    let path = dir.join(MANIFEST);
    let bad = |why: String| ManifestError::Bad(format!("{}: {why}", path.display()));
    let missing = |e: std::io::Error| {
        ManifestError::Missing(format!(
            "{}: {e} (a backup directory holds the {MANIFEST} that `syncdb backup` writes)",
            path.display()
        ))
    };
    let len = std::fs::metadata(&path).map_err(missing)?.len();
    if len > MAX_MANIFEST_BYTES {
        return Err(bad(format!(
            "{len} bytes is more than a manifest holds (at most {MAX_MANIFEST_BYTES}); not a syncdb backup"
        )));
    }
    let text = std::fs::read(&path).map_err(missing)?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("not a syncdb backup manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(bad(format!(
            "manifest format {} is not {FORMAT}; this syncdb cannot restore it",
            manifest.format
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    for entry in &manifest.databases {
        let expected = format!("{}.{}", entry.db, entry.engine.extension());
        if entry.file != expected {
            return Err(bad(format!(
                "database {} names file {:?}; expected {expected}",
                entry.db, entry.file
            )));
        }
        if !seen.insert(&entry.db) {
            return Err(bad(format!(
                "database {} is listed twice; a backup holds each database once",
                entry.db
            )));
        }
    }
    Ok(manifest)
}

/// A manifest lists databases, a few hundred bytes each: anything larger
/// than this is not one, and is not read into memory.
pub const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// Why a backup directory's manifest cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// There is none (or it cannot be read).
    #[error("{0}")]
    Missing(String),
    /// It is there, and not a manifest this syncdb restores.
    #[error("{0}")]
    Bad(String),
}

/// Checks a copy against its manifest entry: size and SHA-256.
pub fn check_copy(path: &Path, entry: &ManifestEntry) -> Result<(), String> {
    let bytes = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if bytes != entry.bytes {
        return Err(format!(
            "{} is {bytes} bytes; the manifest says {}: the backup is damaged or incomplete",
            path.display(),
            entry.bytes
        ));
    }
    let sum = sha256_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if sum != entry.sha256 {
        return Err(format!(
            "{}: checksum {sum} is not the manifest's {}: the backup is damaged",
            path.display(),
            entry.sha256
        ));
    }
    Ok(())
}
