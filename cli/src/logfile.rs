//! A log file that rotates at a size bound: `daemon.log` is renamed to
//! `daemon.log.1` (and older ones shifted, the oldest dropped) when it would
//! grow past `max_bytes`, so a long-running daemon never fills the disk.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    inner: Mutex<(File, u64)>,
}

/// 0600, never through a symlink: the log is private (see `paths`).
fn open(path: &Path) -> std::io::Result<(File, u64)> {
    let file = syncdb_core::paths::open_private_append(path)?;
    let len = file.metadata()?.len();
    Ok((file, len))
}

fn rotated(path: &Path, n: usize) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotatingFile {
    pub fn new(path: &Path, max_bytes: u64, keep: usize) -> std::io::Result<Arc<Self>> {
        if let Some(dir) = path.parent() {
            syncdb_core::paths::create_private_dir(dir)?;
        }
        Ok(Arc::new(RotatingFile {
            path: path.to_owned(),
            max_bytes,
            keep,
            inner: Mutex::new(open(path)?),
        }))
    }

    fn rotate(&self, state: &mut (File, u64)) -> std::io::Result<()> {
        for n in (1..self.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        *state = open(&self.path)?;
        Ok(())
    }

    fn write_line(&self, buf: &[u8]) -> std::io::Result<()> {
        let mut state = self.inner.lock().expect("log file");
        if state.1 > 0 && state.1 + buf.len() as u64 > self.max_bytes {
            // If rotation fails (a read-only dir), keep logging where we are.
            let _ = self.rotate(&mut state);
        }
        state.0.write_all(buf)?;
        state.1 += buf.len() as u64;
        Ok(())
    }
}

/// A handle `tracing_subscriber` writes one event through.
pub struct Handle(Arc<RotatingFile>);

impl Write for Handle {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for ArcFile {
    type Writer = Handle;
    fn make_writer(&'a self) -> Handle {
        Handle(self.0.clone())
    }
}

/// The writer factory for `tracing_subscriber::fmt().with_writer(..)`.
pub struct ArcFile(pub Arc<RotatingFile>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_at_the_bound_and_keeps_a_few() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.log");
        let f = RotatingFile::new(&path, 100, 2).unwrap();
        for i in 0..50 {
            f.write_line(format!("line {i:03} .........\n").as_bytes())
                .unwrap();
        }
        assert!(std::fs::metadata(&path).unwrap().len() <= 100);
        assert!(rotated(&path, 1).exists() && rotated(&path, 2).exists());
        assert!(!rotated(&path, 3).exists(), "only `keep` old files");
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(newest.contains("line 049"));
        #[cfg(unix)]
        for p in [path.clone(), rotated(&path, 1)] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is private", p.display());
        }
    }
}
