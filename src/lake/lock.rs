//! The run lock: one writer per lake at a time. Two scheduled runs that overlap (a slow
//! cron run and the next one) would otherwise both read the same new objects and write
//! their events twice, inflating every volume baseline.
//!
//! The lock is `state/lock.json`, created atomically (`PutMode::Create`) with its owner and
//! an expiry; a lock past its expiry (a run that was killed) is taken over, and so is a lock
//! whose owner ran on this host under a process id that no longer exists (a cron run killed
//! by the OOM killer or a reboot need not block the next runs for the whole TTL). It is
//! deleted when the run ends.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::storage::Location;
use crate::{Error, Result};

const LOCK: &str = "state/lock.json";

#[derive(Debug, Serialize, Deserialize)]
struct Owner {
    run_uid: String,
    host: String,
    pid: u32,
    expires: DateTime<Utc>,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LakeLock {
    lake: Location,
}

impl LakeLock {
    /// Takes the lake's lock for `ttl` (a run longer than that can be overtaken).
    ///
    /// # Errors
    /// [`Error::Locked`] naming the owner when another live run holds it; storage errors.
    pub fn acquire(lake: &Location, run_uid: &str, ttl: Duration) -> Result<LakeLock> {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "unknown".into());
        let me = Owner { run_uid: run_uid.to_string(), host, pid: std::process::id(), expires: Utc::now() + ttl };
        let body = Bytes::from(serde_json::to_vec(&me).expect("lock owner serialises"));
        for _ in 0..2 {
            if lake.put_new(LOCK, body.clone())? {
                return Ok(LakeLock { lake: lake.clone() });
            }
            let held: Option<Owner> = lake.get_rel(LOCK)?.and_then(|b| serde_json::from_slice(&b).ok());
            match held {
                Some(o) if o.expires > Utc::now() && (o.host != me.host || process_alive(o.pid)) => {
                    return Err(Error::Locked { lake: lake.to_string(), owner: o.run_uid, host: o.host, expires: o.expires.to_rfc3339() });
                }
                // Expired, its process gone, or unreadable: the run that wrote it is gone.
                _ => {
                    tracing::warn!(lake = %lake, "taking over a lake lock whose run is gone (expired, process ended, or unreadable)");
                    lake.delete(LOCK)?;
                }
            }
        }
        Err(Error::Locked { lake: lake.to_string(), owner: "unknown".into(), host: "unknown".into(), expires: "unknown".into() })
    }
}

/// True when process `pid` exists on this machine. Where `/proc` is missing (not Linux)
/// every process counts as alive, so only the expiry frees a lock there.
fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

impl Drop for LakeLock {
    fn drop(&mut self) {
        if let Err(e) = self.lake.delete(LOCK) {
            tracing::warn!(error = %e, "could not release the lake lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_release_and_expired_locks_are_taken_over() {
        let lake = Location::memory();
        let first = LakeLock::acquire(&lake, "run-1", Duration::hours(1)).unwrap();
        let err = LakeLock::acquire(&lake, "run-2", Duration::hours(1)).unwrap_err();
        assert!(matches!(&err, Error::Locked { owner, .. } if owner == "run-1"), "{err}");
        assert_eq!(err.exit_code(), 4);
        drop(first);
        let second = LakeLock::acquire(&lake, "run-2", Duration::seconds(-1)).unwrap();
        std::mem::forget(second); // a killed run: its lock stays, already expired
        let third = LakeLock::acquire(&lake, "run-3", Duration::hours(1));
        assert!(third.is_ok());
    }

    /// A live lock of this host whose process is gone (a SIGKILLed run) is taken over at
    /// once; one of another host, or of a live process here, is not.
    #[test]
    fn a_lock_of_a_dead_process_on_this_host_is_taken_over() {
        let lake = Location::memory();
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "unknown".into());
        let until = Utc::now() + Duration::hours(1);
        let write = |host: &str, pid: u32| {
            let o = Owner { run_uid: "killed".into(), host: host.into(), pid, expires: until };
            lake.put(LOCK, Bytes::from(serde_json::to_vec(&o).unwrap())).unwrap();
        };
        // The parent of this test process is alive; pid u32::MAX never exists.
        let live = std::os::unix::process::parent_id();
        write(&host, live);
        let err = LakeLock::acquire(&lake, "next", Duration::hours(1)).unwrap_err().to_string();
        assert!(err.contains("locked by run killed") && err.contains(&until.to_rfc3339()), "{err}");
        write("another-host", u32::MAX);
        assert!(LakeLock::acquire(&lake, "next", Duration::hours(1)).is_err());
        write(&host, u32::MAX);
        let taken = LakeLock::acquire(&lake, "next", Duration::hours(1)).unwrap();
        let held: Owner = serde_json::from_slice(&lake.get_rel(LOCK).unwrap().unwrap()).unwrap();
        assert_eq!((held.run_uid.as_str(), held.pid), ("next", std::process::id()));
        drop(taken);
        assert_eq!(lake.get_rel(LOCK).unwrap(), None);
    }
}
