//! Rendering of [`Rec`]s to Office 365 Management Activity API audit records (the content
//! blobs' JSON objects), in the shapes Microsoft documents for each workload:
//! SharePoint/OneDrive file operations (`RecordType` 6), `TeamsSessionStarted` (25),
//! Exchange `MailItemsAccessed` (50) and admin cmdlets (1), Azure AD logons (15).
//!
//! Actors: people log their UPN (Exchange logs the capitalised form, Azure AD logons
//! sometimes do too); the backup app logs `app@sharepoint` (normalised as `application`),
//! the flow `ServicePrincipal_<app id>` (`service_principal`), Exchange's own account
//! `NT AUTHORITY\SYSTEM (Microsoft.Exchange.ServiceHost)` with `UserType` 3 (`system`).
//! `ClientIP` varies as in real logs: plain, `ip:port`, `[v6]:port`.

use chrono::{DateTime, Offset, TimeZone};

use super::super::rng::{hash, hash_str, hex_id, mix, push_alnum, uuid_string, Rng};
use super::activity::{Body, FileOp, FileRef, Ip, Rec, Ua, Who};
use super::json::{Arr, Obj};
use super::people::{self, File, Tenant, OFFICES, ONMICROSOFT, TENANT_ID};

/// The Management Activity API content types the tenant's records go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Content {
    SharePoint,
    Exchange,
    General,
    AzureAd,
}

impl Content {
    /// `contentType` (`Audit.SharePoint`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Content::SharePoint => "Audit.SharePoint",
            Content::Exchange => "Audit.Exchange",
            Content::General => "Audit.General",
            Content::AzureAd => "Audit.AzureActiveDirectory",
        }
    }
}

/// Where a record goes: a Management API content type, or the Entra diagnostic stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sink {
    M365(Content),
    Entra,
}

pub(crate) fn sink(body: &Body) -> Sink {
    match body {
        Body::SignIn { .. } | Body::Audit(_) => Sink::Entra,
        Body::UserLoggedIn { .. } => Sink::M365(Content::AzureAd),
        Body::Teams => Sink::M365(Content::General),
        Body::File { .. } => Sink::M365(Content::SharePoint),
        Body::Mail { .. } | Body::Cmdlet { .. } => Sink::M365(Content::Exchange),
    }
}

/// A new record id in the form its service uses: a GUID, Entra's `IPCGraph_…` for
/// Conditional Access audits and `Directory_<correlation>_<5>_<n>` for Core Directory.
pub(crate) fn new_id(body: &Body, rng: &mut Rng) -> String {
    let guid = uuid_string(rng.next_u64(), rng.next_u64());
    match body {
        Body::Audit(a) if a.service == "Conditional Access" => format!("IPCGraph_{guid}"),
        Body::Audit(_) => {
            let mut tag = Vec::new();
            push_alnum(&mut tag, rng, 5);
            let tag = String::from_utf8(tag)
                .expect("alnum is ASCII")
                .to_uppercase();
            format!(
                "Directory_{guid}_{tag}_{}",
                10_000_000 + rng.below(90_000_000)
            )
        }
        _ => guid,
    }
}

/// `YYYY-MM-DDTHH:MM:SS` (the API's zone-less UTC `CreationTime`).
pub(crate) fn creation_time(t_us: i64) -> String {
    DateTime::from_timestamp(t_us.div_euclid(1_000_000), 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// Renders records of one day.
pub(crate) struct Render<'a> {
    pub t: &'a Tenant,
}

impl Render<'_> {
    /// The address text of `ip` (empty for none).
    pub(crate) fn ip(&self, ip: Ip) -> &str {
        match ip {
            Ip::Office(o) => OFFICES[o as usize].egress,
            Ip::Home(i) => &self.t.people[i as usize].home_ip,
            Ip::Fixed(s) => s,
        }
    }

    /// `ip:port`, `[v6]:port` (Exchange cmdlets, some mail access) or plain.
    fn ip_with_port(&self, ip: Ip, rng: &mut Rng) -> String {
        let text = self.ip(ip);
        let port = 1024 + rng.below(64_000);
        if text.contains(':') {
            format!("[{text}]:{port}")
        } else {
            format!("{text}:{port}")
        }
    }

    pub(crate) fn ua(&self, r: &Rec) -> &'static str {
        let person = match r.who {
            Who::Person(i) => Some(&self.t.people[i as usize]),
            _ => None,
        };
        match (r.ua, person) {
            (Ua::Fixed(s), _) => s,
            (Ua::Browser, Some(p)) => p.browser,
            (Ua::Teams, Some(p)) => p.teams_ua,
            (Ua::Sync, _) => people::UA_SYNC,
            _ => "",
        }
    }

    /// Appends the audit record of `r` (an M365 body) to `out`.
    pub(crate) fn m365(&self, out: &mut Vec<u8>, r: &Rec, id: &str, rng: &mut Rng) {
        let mut o = Obj::open(out);
        let op = match &r.body {
            Body::File { op, .. } => op.name(),
            Body::Teams => "TeamsSessionStarted",
            Body::Mail { .. } => "MailItemsAccessed",
            Body::UserLoggedIn { error: 0, .. } => "UserLoggedIn",
            Body::UserLoggedIn { .. } => "UserLoginFailed",
            Body::Cmdlet { op, .. } => op,
            Body::SignIn { .. } | Body::Audit(_) => {
                unreachable!("Entra bodies are not M365 records")
            }
        };
        o.s("CreationTime", &creation_time(r.t_us))
            .s("Id", id)
            .s("Operation", op)
            .s("OrganizationId", TENANT_ID);
        match &r.body {
            Body::File { op, file } => self.file(&mut o, r, *op, *file, rng),
            Body::Teams => self.teams(&mut o, r),
            Body::Mail { items } => self.mail(&mut o, r, *items, rng),
            Body::UserLoggedIn { app, error } => self.logon(&mut o, r, *app, *error, rng),
            Body::Cmdlet {
                object_id, params, ..
            } => self.cmdlet(&mut o, r, object_id, params, rng),
            _ => {}
        }
        o.close();
    }

    fn user_id(&self, r: &Rec, cased: bool) -> (String, String) {
        match r.who {
            Who::Person(i) => {
                let p = &self.t.people[i as usize];
                (
                    if cased {
                        p.cased.clone()
                    } else {
                        p.upn.clone()
                    },
                    p.puid.clone(),
                )
            }
            Who::Backup => (
                "app@sharepoint".into(),
                format!("i:0i.t|ms.sp.ext|{}@{TENANT_ID}", self.t.backup_app),
            ),
            Who::Flow => (
                format!("ServicePrincipal_{}", self.t.flow_sp),
                self.t.flow_sp.clone(),
            ),
            Who::ExchangeSystem | Who::Substrate => {
                let s = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)".to_string();
                (s.clone(), s)
            }
        }
    }

    fn file(&self, o: &mut Obj<'_>, r: &Rec, op: FileOp, file: FileRef, rng: &mut Rng) {
        let (f, workload, site_key): (File, &str, u64) = match file {
            FileRef::Site(s, k) => (self.t.site_file(s as usize, k), "SharePoint", s as u64),
            FileRef::OneDrive(owner, k) => (
                self.t.onedrive_file(owner, k),
                "OneDrive",
                1000 + owner as u64,
            ),
        };
        let (user, puid) = self.user_id(r, false);
        let user_key = match r.who {
            Who::Person(_) => format!("i:0h.f|membership|{}@live.com", puid.to_lowercase()),
            _ => puid,
        };
        let user_type = if r.who == Who::Flow { 6 } else { 0 };
        let g = |tag: u64, k: u64| {
            let h = hash(&[self.t.seed, tag, site_key, k]);
            uuid_string(h, mix(h))
        };
        let file_key = hash_str(&f.name);
        o.n("RecordType", 6)
            .s("UserKey", &user_key)
            .n("UserType", user_type)
            .n("Version", 1)
            .s("Workload", workload);
        o.s("ClientIP", self.ip(r.ip))
            .s("ObjectId", &f.url())
            .s("UserId", &user);
        o.s(
            "CorrelationId",
            &uuid_string(rng.next_u64(), rng.next_u64()),
        );
        o.s("EventSource", "SharePoint").s("ItemType", "File");
        o.s("ListId", &g(0x11, 0))
            .s("ListItemUniqueId", &g(0x12, file_key))
            .s("Site", &g(0x13, 0));
        o.s("UserAgent", self.ua(r)).s("WebId", &g(0x14, 0));
        if matches!(r.who, Who::Backup | Who::Flow) {
            let (app, name) = if r.who == Who::Backup {
                (&self.t.backup_app, "SiftVault Backup")
            } else {
                (&self.t.flow_app, "Invoice Intake (Power Automate)")
            };
            o.s("ApplicationId", app).s("ApplicationDisplayName", name);
            o.o("AppAccessContext", |c| {
                c.s("ClientAppId", app).s("ClientAppName", name);
            });
        } else {
            let platform = if self.ua(r).contains("Macintosh") {
                "MacDesktop"
            } else {
                "WinDesktop"
            };
            o.b("IsManagedDevice", matches!(r.ip, Ip::Office(_)))
                .s("Platform", platform);
        }
        if op == FileOp::SyncDownloadedFull {
            o.s("DeviceDisplayName", self.ip(r.ip))
                .s("MachineDomainInfo", "FABRIKAMSIFT");
        }
        o.s("SourceFileExtension", f.ext)
            .s("SiteUrl", &f.site_url)
            .s("SourceFileName", &f.name)
            .s("SourceRelativeUrl", &f.folder);
    }

    fn teams(&self, o: &mut Obj<'_>, r: &Rec) {
        let Who::Person(i) = r.who else { return };
        let p = &self.t.people[i as usize];
        let tz = p.tz();
        let utc = DateTime::from_timestamp(r.t_us / 1_000_000, 0)
            .unwrap_or_default()
            .naive_utc();
        let offset = tz.offset_from_utc_datetime(&utc).fix().local_minus_utc();
        let country = match r.ip {
            Ip::Fixed(s) => people::fixed_location(s).2,
            _ => OFFICES[p.office as usize].country,
        };
        let mac = self.ua(r).contains("Macintosh");
        o.n("RecordType", 25)
            .s("UserKey", &p.object_id)
            .n("UserType", 0)
            .n("Version", 1)
            .s("Workload", "MicrosoftTeams");
        let (user, _) = self.user_id(r, false);
        o.s("ClientIP", self.ip(r.ip))
            .s("UserId", &user)
            .s("UserAgent", self.ua(r));
        o.a("ExtraProperties", |a| {
            let kv = |a: &mut Arr<'_>, k: &str, v: &str| {
                a.o(|e| {
                    e.s("Key", k).s("Value", v);
                });
            };
            kv(a, "TimeZone", tz.name());
            kv(a, "OsName", if mac { "macOS" } else { "Windows" });
            kv(a, "OsVersion", if mac { "14.3.1" } else { "10.0.19045" });
            kv(a, "Country", &country.to_lowercase());
            kv(a, "ClientName", "skypeteams");
            kv(a, "ClientVersion", "24033.813.2773.520");
            kv(a, "ClientUtcOffsetSeconds", &offset.to_string());
        });
    }

    fn mail(&self, o: &mut Obj<'_>, r: &Rec, items: u32, rng: &mut Rng) {
        let Who::Person(i) = r.who else { return };
        let p = &self.t.people[i as usize];
        let (user, puid) = self.user_id(r, true);
        let sid = format!(
            "S-1-5-21-3425091271-2160553841-1620443922-{}",
            20_000 + i as u32
        );
        let server = if OFFICES[p.office as usize].country == "US" {
            "BN8PR06MB6228"
        } else {
            "AM6PR02MB4321"
        };
        let ip = if rng.chance(0.5) {
            self.ip(r.ip).to_string()
        } else {
            self.ip_with_port(r.ip, rng)
        };
        o.n("RecordType", 50)
            .s("ResultStatus", "Succeeded")
            .s("UserKey", &puid)
            .n("UserType", 0)
            .n("Version", 1)
            .s("Workload", "Exchange");
        o.s("UserId", &user)
            .s("AppId", "00000002-0000-0ff1-ce00-000000000000")
            .s("ClientAppId", "9199bf20-a13f-4107-85dc-02114787ef48");
        o.s("ClientIPAddress", &ip)
            .s("ClientInfoString", "Client=OWA;Action=ViewConversation")
            .b("ExternalAccess", false);
        o.n("InternalLogonType", 0)
            .n("LogonType", 0)
            .s("LogonUserSid", &sid);
        let h = hash(&[self.t.seed, 0xb0c5, i as u64]);
        o.s("MailboxGuid", &uuid_string(h, mix(h)))
            .s("MailboxOwnerSid", &sid)
            .s("MailboxOwnerUPN", &p.upn);
        o.a("OperationProperties", |a| {
            a.nv("MailAccessType", "Bind").nv("IsThrottled", "False");
        });
        o.s("OrganizationName", ONMICROSOFT)
            .s("OriginatingServer", &format!("{server} (15.20.7409.026)"));
        o.s(
            "SessionId",
            &uuid_string(hash(&[h, r.t_us.div_euclid(3_600_000_000) as u64]), h),
        );
        o.a("Folders", |a| {
            a.o(|f| {
                f.a("FolderItems", |items_arr| {
                    for _ in 0..items {
                        let region = if server.starts_with("BN") {
                            "namprd06"
                        } else {
                            "eurprd02"
                        };
                        let mid = format!(
                            "<{}@{server}.{region}.prod.outlook.com>",
                            hex_id(rng.next_u64(), 24).to_uppercase()
                        );
                        items_arr.o(|it| {
                            it.s("InternetMessageId", &mid);
                        });
                    }
                });
                f.s(
                    "Id",
                    "LgAAAAAM7KyTTmWeRac2KXBEz/7aAQARGHK+grzLTpRJraC1QR6kAAAAAAEMAAAB",
                )
                .s("Path", "\\Inbox");
            });
        });
        o.n("OperationCount", items as i64);
    }

    fn logon(&self, o: &mut Obj<'_>, r: &Rec, app: u8, error: u32, rng: &mut Rng) {
        let Who::Person(i) = r.who else { return };
        let p = &self.t.people[i as usize];
        let a = &super::entra::APPS[app as usize];
        let (user, _) = self.user_id(r, rng.chance(0.2));
        let ip = self.ip(r.ip);
        let ua = self.ua(r);
        o.n("RecordType", 15).s(
            "ResultStatus",
            if error == 0 { "Success" } else { "Failed" },
        );
        o.s("UserKey", &p.object_id)
            .n("UserType", 0)
            .n("Version", 1)
            .s("Workload", "AzureActiveDirectory");
        o.s("ClientIP", ip)
            .s("ObjectId", a.resource_id)
            .s("UserId", &user)
            .n("AzureActiveDirectoryEventType", 1);
        o.a("ExtendedProperties", |x| {
            x.nv(
                "ResultStatusDetail",
                if error == 0 { "Redirect" } else { "UserError" },
            );
            x.nv("UserAgent", ua).nv("RequestType", "OAuth2:Authorize");
        });
        o.empty("ModifiedProperties");
        o.a("Actor", |x| {
            x.o(|e| {
                e.s("ID", &p.object_id).n("Type", 0);
            })
            .o(|e| {
                e.s("ID", &p.upn).n("Type", 5);
            });
        });
        o.s("ActorContextId", TENANT_ID).s("ActorIpAddress", ip);
        o.s(
            "InterSystemsId",
            &uuid_string(rng.next_u64(), rng.next_u64()),
        )
        .s(
            "IntraSystemId",
            &uuid_string(rng.next_u64(), rng.next_u64()),
        );
        o.s("SupportTicketId", "");
        o.a("Target", |x| {
            x.o(|e| {
                e.s("ID", a.resource_id).n("Type", 0);
            });
        });
        o.s("TargetContextId", TENANT_ID).s("ApplicationId", a.id);
        o.a("DeviceProperties", |x| {
            let mac = ua.contains("Macintosh");
            x.nv("OS", if mac { "MacOs" } else { "Windows 10" }).nv(
                "BrowserType",
                if ua.contains("Edg/") {
                    "Edge"
                } else if ua.contains("Chrome") {
                    "Chrome"
                } else if ua.contains("Firefox") {
                    "Firefox"
                } else {
                    "Safari"
                },
            );
            x.nv("IsCompliantAndManaged", "False").nv(
                "SessionId",
                &uuid_string(
                    hash(&[i as u64, r.t_us.div_euclid(86_400_000_000) as u64]),
                    7,
                ),
            );
        });
        o.s("ErrorNumber", &error.to_string());
        if error != 0 {
            o.s(
                "LogonError",
                if error == 50126 {
                    "InvalidUserNameOrPassword"
                } else {
                    "UserStrongAuthClientAuthNRequired"
                },
            );
        }
    }

    fn cmdlet(
        &self,
        o: &mut Obj<'_>,
        r: &Rec,
        object_id: &str,
        params: &[(&'static str, String)],
        rng: &mut Rng,
    ) {
        let (user, puid) = self.user_id(r, false);
        let user_type = match r.who {
            Who::ExchangeSystem | Who::Substrate => 3,
            Who::Person(i) if self.t.people[i as usize].admin => 2,
            _ => 0,
        };
        let system = user_type == 3;
        o.n("RecordType", 1)
            .s("ResultStatus", "True")
            .s("UserKey", &puid)
            .n("UserType", user_type)
            .n("Version", 1)
            .s("Workload", "Exchange");
        if !self.ip(r.ip).is_empty() {
            let ip = self.ip_with_port(r.ip, rng);
            o.s("ClientIP", &ip);
        }
        o.s("ObjectId", object_id)
            .s("UserId", &user)
            .s("AppId", "")
            .s("ClientAppId", "")
            .b("ExternalAccess", system);
        o.s("OrganizationName", ONMICROSOFT)
            .s("OriginatingServer", "AM6PR02MB4321 (15.20.7409.026)");
        o.a("Parameters", |a| {
            for (k, v) in params {
                a.nv(k, v);
            }
        });
        if !system {
            o.s("SessionId", &uuid_string(rng.next_u64(), rng.next_u64()));
        }
    }
}
