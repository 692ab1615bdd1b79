//! One run at a time: a lock file in the storage directory. A lock left by a process that is no
//! longer running (on this host) is stale and taken over.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub run_id: String,
    pub started_at: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "run {} (pid {} on {}, started {})", self.run_id, self.pid, self.host, self.started_at)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another run holds the lock {path}: {holder}")]
    Held { path: PathBuf, holder: Holder },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// Held while a run works; released on drop.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    /// A lock taken over from a dead process.
    pub took_over: Option<Holder>,
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

impl RunLock {
    pub const FILE: &'static str = ".scrutiny.lock";

    /// Takes the lock in `dir`, or says who holds it.
    pub fn acquire(dir: &Path, run_id: &str) -> Result<Self, LockError> {
        crate::fs::create_private_dir(dir).map_err(|source| LockError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(Self::FILE);
        let me = Holder {
            pid: std::process::id(),
            host: hostname(),
            run_id: run_id.into(),
            started_at: chrono::Utc::now().to_rfc3339(),
        };
        let mut took_over = None;
        for _ in 0..2 {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            match o.open(&path) {
                Ok(mut f) => {
                    let text = serde_json::to_string(&me).expect("serialises");
                    f.write_all(text.as_bytes()).map_err(|source| LockError::Io { path: path.clone(), source })?;
                    return Ok(Self { path, took_over });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder: Option<Holder> =
                        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
                    match holder {
                        // A live process, or one on another host we cannot see: respect it.
                        Some(h) if h.host != me.host || alive(h.pid) => {
                            return Err(LockError::Held { path, holder: h });
                        }
                        stale => {
                            tracing::warn!(lock = %path.display(), holder = ?stale, "taking over a stale lock");
                            took_over = stale;
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(LockError::Io { path, source }),
            }
        }
        Err(LockError::Io { path, source: std::io::Error::other("the lock could not be taken") })
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "run-a").unwrap();
        let e = RunLock::acquire(dir.path(), "run-b").unwrap_err().to_string();
        assert!(e.contains("run run-a") && e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(first);
        assert!(RunLock::acquire(dir.path(), "run-b").is_ok());
    }

    #[test]
    fn a_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // A pid that is not running: past the kernel's pid_max.
        let dead = Holder {
            pid: 4_194_305,
            host: hostname(),
            run_id: "dead".into(),
            started_at: "2022-02-01T06:00:00Z".into(),
        };
        std::fs::write(dir.path().join(RunLock::FILE), serde_json::to_string(&dead).unwrap()).unwrap();
        let lock = RunLock::acquire(dir.path(), "new").unwrap();
        assert_eq!(lock.took_over, Some(dead));
    }
}
