//! The run lock: one writer per lake at a time. Two scheduled runs that overlap (a slow
//! cron run and the next one) would otherwise both read the same new objects and write
//! their events twice, inflating every volume baseline.
//!
//! The lock is `state/lock.json`, created atomically (`PutMode::Create`) with its owner and
//! an expiry; a lock past its expiry (a run that was killed) is taken over. It is deleted
//! when the run ends.

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
                Some(o) if o.expires > Utc::now() => {
                    return Err(Error::Locked { lake: lake.to_string(), owner: o.run_uid, host: o.host, expires: o.expires.to_rfc3339() });
                }
                // Expired or unreadable: the run that wrote it is gone.
                _ => {
                    tracing::warn!(lake = %lake, "taking over an expired or unreadable lake lock");
                    lake.delete(LOCK)?;
                }
            }
        }
        Err(Error::Locked { lake: lake.to_string(), owner: "unknown".into(), host: "unknown".into(), expires: "unknown".into() })
    }
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
}
