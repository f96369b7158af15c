//! The tenant's automation and background services, on UTC schedules: the backup app's
//! nightly sweep of thousands of files, the Power Automate flow every 15 minutes on
//! weekdays, Exchange's system account and Microsoft's substrate app making a few routine
//! changes a day.

use super::super::rng::{hash, Rng};
use super::activity::{
    Body, Day, DirAudit, FileOp, FileRef, Ip, Rec, SignInKind, Ua, Who, NONE, STREAM_BACKUP,
    STREAM_FLOW, STREAM_SYSTEM,
};
use super::people::{Dept, Tenant, ONEDRIVE_FILES, SITES};

impl Day<'_> {
    /// The backup app: every night 01:00–03:30 UTC, about 2,400 × scale distinct files
    /// downloaded in a fixed walk of the tenant, after a service-principal sign-in.
    pub(super) fn backup(&mut self) {
        let t = self.t;
        let day = self.start / 86_400;
        let mut rng = Rng::new(hash(&[t.seed, 0xbac, day as u64]));
        let n = rng.poisson(2400.0 * t.scale).max(1);
        let begin = (self.start + 3600) * 1_000_000;
        let span = 9_000_000_000i64; // 2.5 h
        let seq = STREAM_BACKUP << 56;
        for k in 0..3u64 {
            self.push(Rec {
                t_us: begin + k as i64 * 3_600_000_000 - 40_000_000,
                seq: seq | k,
                who: Who::Backup,
                ip: Ip::Fixed(super::people::BACKUP_IP),
                ua: Ua::Fixed(super::people::UA_BACKUP),
                body: Body::SignIn {
                    kind: SignInKind::ServicePrincipal,
                    app: super::entra::APP_BACKUP,
                    error: 0,
                },
                fixed: NONE,
            });
        }
        let offset = (day as u64).wrapping_mul(2477) as u32;
        for k in 0..n {
            let file = walk_ref(t, offset.wrapping_add(k));
            self.push(Rec {
                t_us: begin + span * k as i64 / n as i64 + rng.below(500_000) as i64,
                seq: seq | 1 << 32 | k as u64,
                who: Who::Backup,
                ip: Ip::Fixed(super::people::BACKUP_IP),
                ua: Ua::Fixed(super::people::UA_BACKUP),
                body: Body::File {
                    op: FileOp::Downloaded,
                    file,
                },
                fixed: NONE,
            });
        }
    }

    /// The invoice-intake flow: every 15 minutes 06:00–19:45 UTC on weekdays it reads and
    /// updates a few Finance files.
    pub(super) fn flow(&mut self) {
        let t = self.t;
        let day = self.start / 86_400;
        if super::super::activity::weekday(day) >= 5 {
            return;
        }
        let mut rng = Rng::new(hash(&[t.seed, 0xf10, day as u64]));
        let seq = STREAM_FLOW << 56;
        let mut n = 0u64;
        for run in 0..56i64 {
            let t0 = (self.start + 6 * 3600 + run * 900) * 1_000_000 + rng.below(20_000_000) as i64;
            let mut push = |this: &mut Self, t_us: i64, body: Body| {
                n += 1;
                this.push(Rec {
                    t_us,
                    seq: seq | n,
                    who: Who::Flow,
                    ip: Ip::Fixed(super::people::FLOW_IP),
                    ua: Ua::Fixed(super::people::UA_FLOW),
                    body,
                    fixed: NONE,
                });
            };
            if run % 4 == 0 {
                push(
                    self,
                    t0 - 2_000_000,
                    Body::SignIn {
                        kind: SignInKind::ServicePrincipal,
                        app: super::entra::APP_FLOW,
                        error: 0,
                    },
                );
            }
            for j in 0..rng.poisson(0.6 + 3.0 * t.scale) {
                let file = FileRef::Site(Dept::Finance.site() as u8, rng.below(60) as u32);
                let op = if j % 2 == 0 {
                    FileOp::Accessed
                } else {
                    FileOp::Modified
                };
                push(self, t0 + j as i64 * 1_500_000, Body::File { op, file });
            }
        }
    }

    /// Exchange's system account and Microsoft's substrate app: a few routine changes a day
    /// (never forwarding).
    pub(super) fn system(&mut self) {
        let t = self.t;
        let day = self.start / 86_400;
        let mut rng = Rng::new(hash(&[t.seed, 0x5157, day as u64]));
        let seq = STREAM_SYSTEM << 56;
        for k in 0..rng.poisson(1.2) as u64 {
            let who = rng.below(t.people.len() as u64) as u16;
            let p = &t.people[who as usize];
            let at = (self.start + rng.range(0, 86_399)) * 1_000_000;
            let policy = *rng.pick(&["Default MRM Policy", "Fabrikam 7-year retention"]);
            self.push(Rec {
                t_us: at,
                seq: seq | k,
                who: Who::ExchangeSystem,
                ip: Ip::Fixed(""),
                ua: Ua::Fixed(""),
                body: Body::Cmdlet {
                    op: "Set-Mailbox",
                    object_id: p.mailbox_path(),
                    params: vec![
                        ("Identity", p.mailbox_path()),
                        ("RetentionPolicy", policy.to_string()),
                        ("DomainController", String::new()),
                    ],
                },
                fixed: NONE,
            });
        }
        for k in 0..rng.poisson(3.0) as u64 {
            let who = rng.below(t.people.len() as u64) as u16;
            if !t.is_active(who, day) {
                continue;
            }
            let p = &t.people[who as usize];
            let at = (self.start + rng.range(0, 86_399)) * 1_000_000;
            let (activity, props) = if rng.chance(0.5) {
                (
                    "Update user",
                    vec![(
                        "Included Updated Properties".to_string(),
                        None,
                        Some("\"\"".to_string()),
                    )],
                )
            } else {
                (
                    "Update StsRefreshTokenValidFrom Timestamp",
                    vec![(
                        "StsRefreshTokensValidFrom".to_string(),
                        Some("[]".to_string()),
                        Some(format!(
                            "[\"{}\"]",
                            chrono::DateTime::from_timestamp(at / 1_000_000, 0)
                                .unwrap_or_default()
                                .format("%Y-%m-%dT%H:%M:%SZ")
                        )),
                    )],
                )
            };
            self.push(Rec {
                t_us: at,
                seq: seq | 1 << 32 | k,
                who: Who::Substrate,
                ip: Ip::Fixed(""),
                ua: Ua::Fixed(""),
                body: Body::Audit(Box::new(DirAudit {
                    activity,
                    service: "Core Directory",
                    category: "UserManagement",
                    op_type: "Update",
                    target_id: p.object_id.clone(),
                    target_name: p.name.clone(),
                    target_type: "User",
                    target_upn: Some(p.upn.clone()),
                    props,
                })),
                fixed: NONE,
            });
        }
    }
}

/// The file at position `idx` of a fixed walk of the tenant (team sites, then every
/// OneDrive), modulo the number of files.
pub(crate) fn walk_ref(t: &Tenant, idx: u32) -> FileRef {
    let mut k = idx % t.file_count();
    for (si, s) in SITES.iter().enumerate() {
        if k < s.files {
            return FileRef::Site(si as u8, k);
        }
        k -= s.files;
    }
    FileRef::OneDrive((k / ONEDRIVE_FILES) as u16, k % ONEDRIVE_FILES)
}
