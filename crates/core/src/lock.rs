//! One run at a time: an advisory lock (flock) on `<mart>/.scrutiny.lock`, held for the whole
//! run. The kernel releases it when the process dies, however it dies (SIGKILL, an OOM kill, a
//! node drained), so a killed run never blocks the next one, whatever its hostname.
//!
//! The file also says who holds it (pid, host, run id, start), for the message a second run
//! prints. Where the filesystem's locks cannot be trusted across hosts (NFS without a lock
//! manager, SMB, FUSE mounts), `storage.lock_ttl_secs` adds a lease: the holder renews an expiry
//! in the file while it lives, and a run finding an unexpired lease there waits for it to expire
//! even when the kernel lock was free.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub run_id: String,
    pub started_at: String,
    /// With a lease (`storage.lock_ttl_secs`): until when the holder is taken to be alive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

impl Holder {
    fn lease_expiry(&self) -> Option<DateTime<Utc>> {
        self.expires_at.as_deref().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "run {} (pid {} on {}, started {})", self.run_id, self.pid, self.host, self.started_at)?;
        if let Some(e) = &self.expires_at {
            write!(f, ", lease until {e}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another run holds the lock {path}: {}", holder.as_ref().map_or("a run that has not written its name yet".to_string(), ToString::to_string))]
    Held { path: PathBuf, holder: Option<Box<Holder>> },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: this filesystem does not support file locks ({source}); set `storage.lock_ttl_secs` to use a lease instead"
    )]
    Unsupported { path: PathBuf, source: std::io::Error },
}

/// How the previous holder left the lock, when it did not release it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeOver {
    /// The kernel lock was free but the file still named a holder: that run was killed.
    Died(Holder),
    /// The holder's lease had expired (a filesystem without working locks).
    LeaseExpired(Holder),
}

/// Held while a run works; released on drop, and by the kernel if the process dies.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
    /// Set when the previous holder died without releasing the lock.
    pub took_over: Option<TakeOver>,
    renewer: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// The machine's hostname: a new one for every pod or container.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

fn read_holder(file: &File) -> Option<Holder> {
    let mut text = String::new();
    (&*file).read_to_string(&mut text).ok()?;
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if text.is_empty() { None } else { serde_json::from_str(text).ok() }
}

fn write_holder(file: &File, holder: &Holder) -> std::io::Result<()> {
    let text = serde_json::to_string(holder).expect("serialises");
    // Overwrite in place, then cut to length: the file is never empty while held, and the
    // text's length does not change between renewals.
    file.write_all_at(text.as_bytes(), 0)?;
    file.set_len(text.len() as u64)?;
    file.sync_data()
}

/// Whether an error from `flock` means the filesystem has no locks, rather than a failure.
fn locks_unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(code) if code == 37 /* ENOLCK */ || code == 95 /* EOPNOTSUPP */ || code == 38 /* ENOSYS */)
}

fn expiry(ttl: Duration) -> String {
    (Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl RunLock {
    pub const FILE: &'static str = ".scrutiny.lock";

    /// Takes the lock in `dir`, or says who holds it. `lease`: `storage.lock_ttl_secs`.
    pub fn acquire(dir: &Path, run_id: &str, lease: Option<Duration>) -> Result<Self, LockError> {
        crate::fs::create_private_dir(dir).map_err(|source| LockError::Io { path: dir.to_path_buf(), source })?;
        let path = dir.join(Self::FILE);
        let io = |source| LockError::Io { path: path.clone(), source };
        let mut o = std::fs::OpenOptions::new();
        o.read(true).write(true).create(true).truncate(false);
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let file = o.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held { holder: read_holder(&file).map(Box::new), path });
            }
            Err(TryLockError::Error(e)) if locks_unsupported(&e) && lease.is_some() => {
                tracing::warn!(lock = %path.display(), error = %e, "no file locks on this filesystem: relying on the lease alone");
            }
            Err(TryLockError::Error(e)) if locks_unsupported(&e) => {
                return Err(LockError::Unsupported { path, source: e });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // The kernel lock is ours. What the file says is what the last holder left behind.
        let mut took_over = None;
        if let Some(previous) = read_holder(&file) {
            match (lease, previous.lease_expiry()) {
                // A lease that has not expired: on a filesystem whose locks do not reach other
                // hosts, the kernel lock proves nothing, so the lease is respected.
                (Some(_), Some(until)) if until > Utc::now() => {
                    return Err(LockError::Held { path, holder: Some(Box::new(previous)) });
                }
                (Some(_), Some(_)) => {
                    tracing::warn!(lock = %path.display(), holder = %previous, "the holder's lease has expired: taking the lock over");
                    took_over = Some(TakeOver::LeaseExpired(previous));
                }
                _ => {
                    tracing::warn!(lock = %path.display(), holder = %previous, "the previous run ended without releasing the lock (killed?): taking it over");
                    took_over = Some(TakeOver::Died(previous));
                }
            }
        }
        let me = Holder {
            pid: std::process::id(),
            host: hostname(),
            run_id: run_id.into(),
            started_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            expires_at: lease.map(expiry),
        };
        write_holder(&file, &me).map_err(io)?;
        let renewer = match lease {
            Some(ttl) => Some(Self::renew(file.try_clone().map_err(io)?, me, ttl, path.clone())),
            None => None,
        };
        Ok(Self { path, file, took_over, renewer })
    }

    /// Renews the lease every third of its length while the run lives.
    fn renew(
        file: File,
        mut me: Holder,
        ttl: Duration,
        path: PathBuf,
    ) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = (ttl / 3).max(Duration::from_millis(100));
        let handle = std::thread::spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                me.expires_at = Some(expiry(ttl));
                if let Err(e) = write_holder(&file, &me) {
                    tracing::warn!(lock = %path.display(), error = %e, "the lock's lease could not be renewed");
                }
            }
        });
        (stop, handle)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.renewer.take() {
            drop(stop);
            let _ = handle.join();
        }
        // An empty file is a lock released in good order. The file itself stays: removing it
        // would let a run that opened it a moment ago lock a file nobody else can see.
        let _ = self.file.set_len(0);
        let _ = self.file.sync_data();
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = RunLock::acquire(dir.path(), "run-a", None).unwrap();
        let e = RunLock::acquire(dir.path(), "run-b", None).unwrap_err().to_string();
        assert!(e.contains("run run-a") && e.contains(&format!("pid {}", std::process::id())), "{e}");
        drop(first);
        let again = RunLock::acquire(dir.path(), "run-b", None).unwrap();
        assert_eq!(again.took_over, None, "a lock released in good order is not a take-over");
    }

    #[test]
    fn a_lock_left_by_a_killed_run_on_another_host_is_taken_over_at_once() {
        let dir = tempfile::tempdir().unwrap();
        // What a killed run leaves: its name in the file, no kernel lock (the kernel dropped it).
        let dead = Holder {
            pid: std::process::id(), // a live pid, even: the kernel lock is what counts
            host: "pod-scrutiny-28123-abcde".into(),
            run_id: "dead".into(),
            started_at: "2022-02-01T06:00:00Z".into(),
            expires_at: None,
        };
        std::fs::write(dir.path().join(RunLock::FILE), serde_json::to_string(&dead).unwrap()).unwrap();
        let lock = RunLock::acquire(dir.path(), "new", None).unwrap();
        assert_eq!(lock.took_over, Some(TakeOver::Died(dead)));
    }

    #[test]
    fn an_unexpired_lease_is_respected_and_an_expired_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut other = Holder {
            pid: 1,
            host: "other-host".into(),
            run_id: "other".into(),
            started_at: "2022-02-01T06:00:00Z".into(),
            expires_at: Some(expiry(Duration::from_secs(600))),
        };
        let file = dir.path().join(RunLock::FILE);
        std::fs::write(&file, serde_json::to_string(&other).unwrap()).unwrap();
        let e = RunLock::acquire(dir.path(), "new", Some(Duration::from_secs(60))).unwrap_err();
        assert!(matches!(e, LockError::Held { .. }) && e.to_string().contains("lease until"), "{e}");
        // Without a lease the kernel lock alone decides.
        assert!(RunLock::acquire(dir.path(), "new", None).is_ok());

        other.expires_at = Some("2022-02-01T07:00:00Z".into());
        std::fs::write(&file, serde_json::to_string(&other).unwrap()).unwrap();
        let lock = RunLock::acquire(dir.path(), "new", Some(Duration::from_secs(60))).unwrap();
        assert_eq!(lock.took_over, Some(TakeOver::LeaseExpired(other)));
    }

    #[test]
    fn the_lease_is_renewed_while_the_run_lives() {
        let dir = tempfile::tempdir().unwrap();
        let ttl = Duration::from_secs(2);
        let lock = RunLock::acquire(dir.path(), "long", Some(ttl)).unwrap();
        let read = || -> Holder {
            serde_json::from_str(&std::fs::read_to_string(dir.path().join(RunLock::FILE)).unwrap()).unwrap()
        };
        let first = read().lease_expiry().unwrap();
        std::thread::sleep(Duration::from_millis(2500));
        let later = read().lease_expiry().unwrap();
        assert!(later > first && later > Utc::now(), "renewed: {first} -> {later}");
        drop(lock);
        assert_eq!(std::fs::read_to_string(dir.path().join(RunLock::FILE)).unwrap(), "", "released in good order");
    }
}
