//! The user directory (time zone and peer group per user) and local time in a user's zone.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use crate::{Error, Result};

/// The directory settings of one analytic's table (borrowed from its config).
#[derive(Debug, Clone, Copy)]
pub struct DirectorySettings<'a> {
    /// `directory`: CSV file `user_principal_name,time_zone,peer_group` (already resolved).
    pub directory: Option<&'a Path>,
    /// `time_zones`: UPN → IANA zone; wins over the file.
    pub time_zones: &'a BTreeMap<String, String>,
    /// `default_time_zone`: IANA zone for users without one; `None` is UTC.
    pub default_time_zone: Option<&'a str>,
}

impl DirectorySettings<'_> {
    /// Checks the zone names of `time_zones` and `default_time_zone` (not the file, which
    /// is read at run time). `prefix` is the table, e.g. `analytics.session_anomaly`.
    ///
    /// # Errors
    /// [`Error::Config`] naming `<prefix>.time_zones."<upn>"` or `<prefix>.default_time_zone`.
    pub fn validate(&self, prefix: &str) -> Result<()> {
        if let Some(z) = self.default_time_zone {
            parse_zone(z).map_err(|m| Error::config(format!("{prefix}.default_time_zone"), m))?;
        }
        for (user, z) in self.time_zones {
            parse_zone(z).map_err(|m| Error::config(format!("{prefix}.time_zones.\"{user}\""), m))?;
        }
        Ok(())
    }
}

fn parse_zone(name: &str) -> std::result::Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("'{name}' is not an IANA time zone name (such as America/New_York or UTC)"))
}

/// Where a user's zone came from (said in findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// `time_zones` or the directory file names the user.
    User,
    /// `default_time_zone`.
    Default,
    /// Nothing configured: UTC.
    Utc,
}

/// A user's zone and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserZone {
    /// The IANA zone hours are computed in.
    pub tz: Tz,
    /// Where it came from.
    pub source: ZoneSource,
}

impl UserZone {
    /// "America/New_York (the user's zone)", "UTC (no time zone configured for this user)".
    pub fn describe(&self) -> String {
        match self.source {
            ZoneSource::User => format!("{} (the user's zone)", self.tz.name()),
            ZoneSource::Default => format!("{} (default_time_zone)", self.tz.name()),
            ZoneSource::Utc => "UTC (no time zone configured for this user)".to_string(),
        }
    }
}

/// Time zones and peer groups by lower-cased UPN.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    zones: HashMap<String, Tz>,
    groups: HashMap<String, String>,
    default: Option<Tz>,
}

impl Directory {
    /// Reads the settings: the CSV file first, then `time_zones` over it, then the default.
    ///
    /// # Errors
    /// [`Error::Config`] with key `<prefix>.directory` naming the file (unreadable, no
    /// `user_principal_name` column, bad CSV) or the row (empty UPN, unknown zone, the
    /// same user twice); the zone keys as [`DirectorySettings::validate`].
    pub fn load(settings: &DirectorySettings, prefix: &str) -> Result<Directory> {
        settings.validate(prefix)?;
        let mut d = Directory::default();
        if let Some(path) = settings.directory {
            d.read_file(path, &format!("{prefix}.directory"))?;
        }
        for (user, z) in settings.time_zones {
            let tz = parse_zone(z).map_err(|m| Error::config(format!("{prefix}.time_zones.\"{user}\""), m))?;
            d.zones.insert(user.trim().to_lowercase(), tz);
        }
        d.default = match settings.default_time_zone {
            Some(z) => Some(parse_zone(z).map_err(|m| Error::config(format!("{prefix}.default_time_zone"), m))?),
            None => None,
        };
        Ok(d)
    }

    fn read_file(&mut self, path: &Path, key: &str) -> Result<()> {
        let shown = path.display();
        let err = |m: String| Error::config(key, m);
        let mut rd = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_path(path)
            .map_err(|e| err(format!("cannot read {shown}: {e}")))?;
        let headers = rd.headers().map_err(|e| err(format!("{shown}: {e}")))?.clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
        };
        let Some(upn_col) = find("user_principal_name") else {
            return Err(err(format!(
                "{shown}: the header must name user_principal_name (and time_zone, peer_group); got {:?}",
                headers.iter().collect::<Vec<_>>()
            )));
        };
        let (tz_col, group_col) = (find("time_zone"), find("peer_group"));
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, rec) in rd.records().enumerate() {
            let row = i + 2;
            let rec = rec.map_err(|e| err(format!("{shown} row {row}: {e}")))?;
            let upn = rec.get(upn_col).unwrap_or("").to_lowercase();
            if upn.is_empty() {
                if rec.iter().all(str::is_empty) {
                    continue;
                }
                return Err(err(format!("{shown} row {row}: empty user_principal_name")));
            }
            if let Some(first) = seen.insert(upn.clone(), row) {
                return Err(err(format!("{shown} row {row}: {upn} is already listed on row {first}")));
            }
            if let Some(z) = tz_col.and_then(|c| rec.get(c)).filter(|z| !z.is_empty()) {
                let tz = parse_zone(z).map_err(|m| err(format!("{shown} row {row} ({upn}): {m}")))?;
                self.zones.insert(upn.clone(), tz);
            }
            if let Some(g) = group_col.and_then(|c| rec.get(c)).filter(|g| !g.is_empty()) {
                self.groups.insert(upn, g.to_string());
            }
        }
        Ok(())
    }

    /// The zone hours of `user` (lower-cased UPN) are computed in.
    pub fn zone(&self, user: &str) -> UserZone {
        if let Some(&tz) = self.zones.get(user) {
            return UserZone { tz, source: ZoneSource::User };
        }
        match self.default {
            Some(tz) => UserZone { tz, source: ZoneSource::Default },
            None => UserZone { tz: Tz::UTC, source: ZoneSource::Utc },
        }
    }

    /// The directory's peer group of `user`, if any.
    pub fn peer_group(&self, user: &str) -> Option<&str> {
        self.groups.get(user).map(String::as_str)
    }
}

/// Local calendar position of an instant in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalSlot {
    /// 0..24, wall-clock hour in the zone (DST applied).
    pub hour: u8,
    /// 0..7, Monday = 0.
    pub weekday: u8,
    /// Saturday or Sunday in the zone.
    pub weekend: bool,
}

/// Wall-clock hour and weekday of the UTC instant `t_us` (µs) in `tz`, with the zone's
/// DST rules of that date (chrono-tz's IANA database), never a fixed offset: 13:00Z is
/// 08:00 in New York in January and 09:00 in March after the change.
pub fn local_slot(t_us: i64, tz: Tz) -> LocalSlot {
    let t = DateTime::<Utc>::from_timestamp_micros(t_us)
        .unwrap_or_default()
        .with_timezone(&tz);
    let weekday = t.weekday().num_days_from_monday() as u8;
    LocalSlot { hour: t.hour() as u8, weekday, weekend: weekday >= 5 }
}
