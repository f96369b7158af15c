//! Rendering of [`Rec`]s to Entra ID diagnostic-setting records, one JSON object per line,
//! as Azure Monitor writes them to a storage account: `time, resourceId
//! (/tenants/<id>/providers/Microsoft.aadiam), operationName, category (SignInLogs,
//! NonInteractiveUserSignInLogs, ServicePrincipalSignInLogs, AuditLogs), tenantId,
//! resultType, callerIpAddress, correlationId, properties{…}` with the Graph `signIn` or
//! `directoryAudit` object in `properties` (Microsoft Learn, "Azure Monitor resource log
//! schema" and the Graph `signIn` / `directoryAudit` resources). Times carry seven fraction
//! digits, `properties` times an explicit `+00:00`, as Entra writes them.

use chrono::DateTime;

use super::super::rng::{hash, mix, uuid_string, Rng};
use super::activity::{Body, DirAudit, Ip, Rec, SignInKind, Who};
use super::json::Obj;
use super::people::{self, Policy, Tenant, OFFICES, TENANT_ID};
use super::records::Render;

/// An application people sign in to, and the resource the token is for.
pub(crate) struct App {
    pub name: &'static str,
    pub id: &'static str,
    pub resource: &'static str,
    pub resource_id: &'static str,
    pub client: &'static str,
}

/// Applications in sign-ins (first-party ids as Entra logs them); the last two stand for
/// the tenant's own backup and flow apps, whose ids come from [`Tenant`].
#[rustfmt::skip]
pub(crate) const APPS: &[App] = &[
    App { name: "OfficeHome", id: "4765445b-32c6-49b0-83e6-1d93765276ca", resource: "Microsoft Graph", resource_id: "00000003-0000-0000-c000-000000000000", client: "Browser" },
    App { name: "Microsoft Teams", id: "1fec8e78-bce4-4aaf-ab1b-5451cc387264", resource: "Microsoft Teams Services", resource_id: "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", client: "Mobile Apps and Desktop clients" },
    App { name: "Office 365 SharePoint Online", id: "00000003-0000-0ff1-ce00-000000000000", resource: "Office 365 SharePoint Online", resource_id: "00000003-0000-0ff1-ce00-000000000000", client: "Browser" },
    App { name: "One Outlook Web", id: "9199bf20-a13f-4107-85dc-02114787ef48", resource: "Office 365 Exchange Online", resource_id: "00000002-0000-0ff1-ce00-000000000000", client: "Browser" },
    App { name: "Microsoft Office", id: "d3590ed6-52b3-4102-aeff-aad2292ab01c", resource: "Microsoft Graph", resource_id: "00000003-0000-0000-c000-000000000000", client: "Mobile Apps and Desktop clients" },
    App { name: "Azure Portal", id: "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", resource: "Windows Azure Service Management API", resource_id: "797f4846-ba00-4fd7-ba43-dac1f8f63013", client: "Browser" },
    App { name: "Microsoft Exchange REST API Based Powershell", id: "fb78d390-0c51-40cd-8e17-fdbfab77341b", resource: "Office 365 Exchange Online", resource_id: "00000002-0000-0ff1-ce00-000000000000", client: "Mobile Apps and Desktop clients" },
    App { name: "SiftVault Backup", id: "", resource: "Office 365 SharePoint Online", resource_id: "00000003-0000-0ff1-ce00-000000000000", client: "" },
    App { name: "Invoice Intake (Power Automate)", id: "", resource: "Office 365 SharePoint Online", resource_id: "00000003-0000-0ff1-ce00-000000000000", client: "" },
];
pub(crate) const APP_PORTAL: u8 = 5;
pub(crate) const APP_EXO_POWERSHELL: u8 = 6;
pub(crate) const APP_BACKUP: u8 = 7;
pub(crate) const APP_FLOW: u8 = 8;

const SUBSTRATE_APP: &str = "Microsoft Substrate Management";
const SUBSTRATE_SP: &str = "0e3b1b1c-2a69-4d7c-86d5-6f2c1a0f3b7e";

/// `2024-03-04T09:15:22.1234567` + `suffix` (`Z` or `+00:00`). `fraction` (0..10^7) stands
/// in for the sub-second part of planned records, which are set to whole seconds.
fn entra_time(t_us: i64, fraction: u64, suffix: &str) -> String {
    let secs = t_us.div_euclid(1_000_000);
    let micros = t_us.rem_euclid(1_000_000) as u64;
    let ticks = if micros == 0 {
        fraction % 10_000_000
    } else {
        micros * 10 + fraction % 10
    };
    let base = DateTime::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S");
    format!("{base}.{ticks:07}{suffix}")
}

/// The `conditionalAccessPolicy` object as Entra logs it in `modifiedProperties` values.
pub(crate) fn policy_json(p: &Policy, modified: &str) -> String {
    let mut v = Vec::new();
    let mut o = Obj::open(&mut v);
    let list = |o: &mut Obj<'_>, k: &str, xs: &[&str]| {
        o.a(k, |a| {
            for x in xs {
                a.s(x);
            }
        });
    };
    o.s("id", &p.id)
        .s("displayName", p.name)
        .s("createdDateTime", &p.created);
    if !modified.is_empty() {
        o.s("modifiedDateTime", modified);
    }
    o.s("state", p.state);
    o.o("conditions", |c| {
        c.o("applications", |a| {
            list(a, "includeApplications", &p.include_apps);
            a.empty("excludeApplications")
                .empty("includeUserActions")
                .empty("includeAuthenticationContextClassReferences")
                .null("applicationFilter");
        });
        c.o("users", |u| {
            let inc: Vec<&str> = p.include_users.iter().map(String::as_str).collect();
            let exc: Vec<&str> = p.exclude_users.iter().map(String::as_str).collect();
            list(u, "includeUsers", &inc);
            list(u, "excludeUsers", &exc);
            u.empty("includeGroups").empty("excludeGroups");
            list(u, "includeRoles", &p.include_roles);
            u.empty("excludeRoles");
        });
        c.empty("userRiskLevels").empty("signInRiskLevels");
        list(c, "clientAppTypes", &p.client_app_types);
        c.empty("servicePrincipalRiskLevels");
    });
    o.o("grantControls", |g| {
        g.s("operator", "OR");
        list(g, "builtInControls", &p.controls);
        g.empty("customAuthenticationFactors").empty("termsOfUse");
    });
    o.close();
    String::from_utf8(v).expect("JSON is UTF-8")
}

impl Render<'_> {
    /// (city, state, country) of a record's address.
    fn location(&self, r: &Rec) -> (&'static str, &'static str, &'static str) {
        match r.ip {
            Ip::Office(o) => (
                OFFICES[o as usize].city,
                OFFICES[o as usize].state,
                OFFICES[o as usize].country,
            ),
            Ip::Home(i) => {
                let o = &OFFICES[self.t.people[i as usize].office as usize];
                (o.city, o.state, o.country)
            }
            Ip::Fixed(s) => people::fixed_location(s),
        }
    }

    /// Appends the diagnostic record of `r` (an Entra body) and a newline to `out`.
    pub(crate) fn entra(&self, out: &mut Vec<u8>, r: &Rec, id: &str, rng: &mut Rng) {
        match &r.body {
            Body::SignIn { kind, app, error } => self.signin(out, r, id, *kind, *app, *error, rng),
            Body::Audit(a) => self.audit(out, r, id, a, rng),
            _ => unreachable!("M365 bodies are not Entra records"),
        }
        out.push(b'\n');
    }

    #[allow(clippy::too_many_arguments)]
    fn signin(
        &self,
        out: &mut Vec<u8>,
        r: &Rec,
        id: &str,
        kind: SignInKind,
        app: u8,
        error: u32,
        rng: &mut Rng,
    ) {
        let t: &Tenant = self.t;
        let fraction = rng.below(10_000_000);
        let corr = uuid_string(rng.next_u64(), rng.next_u64());
        let a = &APPS[app as usize];
        let (app_id, sp_id, sp_name) = match r.who {
            Who::Backup => (t.backup_app.as_str(), t.backup_sp.as_str(), a.name),
            Who::Flow => (t.flow_app.as_str(), t.flow_sp.as_str(), a.name),
            _ => (a.id, "", a.name),
        };
        let category = match kind {
            SignInKind::Interactive => "SignInLogs",
            SignInKind::NonInteractive => "NonInteractiveUserSignInLogs",
            SignInKind::ServicePrincipal => "ServicePrincipalSignInLogs",
        };
        let (reason, description) = match error {
            0 => ("", ""),
            50126 => (
                "Error validating credentials due to invalid username or password.",
                "Error validating credentials due to invalid username or password.",
            ),
            _ => (
                "Strong Authentication is required.",
                "Strong Authentication is required.",
            ),
        };
        let ip = self.ip(r.ip);
        let (city, state, country) = self.location(r);
        let person = match r.who {
            Who::Person(i) => Some(&t.people[i as usize]),
            _ => None,
        };
        let mut o = Obj::open(out);
        o.s("time", &entra_time(r.t_us, fraction, "Z")).s(
            "resourceId",
            &format!("/tenants/{TENANT_ID}/providers/Microsoft.aadiam"),
        );
        o.s("operationName", "Sign-in activity")
            .s("operationVersion", "1.0")
            .s("category", category)
            .s("tenantId", TENANT_ID);
        o.s("resultType", &error.to_string())
            .s("resultSignature", "None")
            .s("resultDescription", description)
            .n("durationMs", 0);
        o.s("callerIpAddress", ip)
            .s("correlationId", &corr)
            .s("identity", person.map_or(sp_name, |p| p.name.as_str()))
            .n("Level", 4)
            .s("location", country);
        o.o("properties", |pr| {
            pr.s("id", id)
                .s("createdDateTime", &entra_time(r.t_us, fraction, "+00:00"));
            if let Some(p) = person {
                pr.s("userDisplayName", &p.name)
                    .s("userPrincipalName", &p.upn)
                    .s("userId", &p.object_id);
            } else {
                pr.s("servicePrincipalId", sp_id)
                    .s("servicePrincipalName", sp_name);
            }
            pr.s("appId", app_id)
                .s("appDisplayName", sp_name)
                .s("ipAddress", ip);
            pr.o("status", |s| {
                s.n("errorCode", error as i64);
                if error != 0 {
                    s.s("failureReason", reason);
                }
            });
            if person.is_some() {
                let ua = self.ua(r);
                pr.s("clientAppUsed", a.client).s("userAgent", ua);
                pr.o("deviceDetail", |d| {
                    let os = if ua.contains("Macintosh") {
                        "MacOs"
                    } else if ua.contains("Linux") {
                        "Linux"
                    } else if ua.starts_with("Mozilla") {
                        "Windows10"
                    } else {
                        ""
                    };
                    d.s("deviceId", "")
                        .s("displayName", "")
                        .s("operatingSystem", os)
                        .s("browser", &browser(ua));
                    d.b("isCompliant", matches!(r.ip, Ip::Office(_)))
                        .b("isManaged", matches!(r.ip, Ip::Office(_)))
                        .s("trustType", "");
                });
            }
            pr.o("location", |l| {
                l.s("city", city)
                    .s("state", state)
                    .s("countryOrRegion", country)
                    .o("geoCoordinates", |_| {});
            });
            pr.s("correlationId", &corr);
            let ca = if error == 50126 {
                "notApplied"
            } else if error != 0 {
                "failure"
            } else {
                "success"
            };
            pr.s("conditionalAccessStatus", ca)
                .b("isInteractive", kind == SignInKind::Interactive);
            pr.s("tokenIssuerType", "AzureAD");
            if person.is_some() {
                let mfa = kind == SignInKind::Interactive && error == 0;
                pr.s(
                    "authenticationRequirement",
                    if mfa {
                        "multiFactorAuthentication"
                    } else {
                        "singleFactorAuthentication"
                    },
                );
                pr.s("userType", "Member").s("homeTenantId", TENANT_ID);
                // One session per person and day (the browser keeps its session cookie).
                let who = if let Who::Person(i) = r.who {
                    i as u64
                } else {
                    0
                };
                let h = hash(&[
                    t.seed,
                    0x5e55,
                    who,
                    r.t_us.div_euclid(86_400_000_000) as u64,
                ]);
                pr.s("sessionId", &uuid_string(h, mix(h)));
            } else {
                pr.s("clientCredentialType", "clientSecret");
            }
            pr.s("resourceDisplayName", a.resource)
                .s("resourceId", a.resource_id)
                .s("resourceTenantId", TENANT_ID);
            pr.s("riskDetail", "none")
                .s("riskLevelAggregated", "none")
                .s("riskLevelDuringSignIn", "none")
                .s("riskState", "none");
        });
        o.close();
    }

    fn audit(&self, out: &mut Vec<u8>, r: &Rec, id: &str, a: &DirAudit, rng: &mut Rng) {
        let t = self.t;
        let fraction = rng.below(10_000_000);
        let corr = uuid_string(rng.next_u64(), rng.next_u64());
        let ip = self.ip(r.ip);
        let mut o = Obj::open(out);
        o.s("time", &entra_time(r.t_us, fraction, "Z")).s(
            "resourceId",
            &format!("/tenants/{TENANT_ID}/providers/Microsoft.aadiam"),
        );
        o.s("operationName", a.activity)
            .s("operationVersion", "1.0")
            .s("category", "AuditLogs")
            .s("tenantId", TENANT_ID);
        o.s("resultSignature", "None").n("durationMs", 0);
        if !ip.is_empty() {
            o.s("callerIpAddress", ip);
        }
        o.s("correlationId", &corr).s("Level", "4");
        o.o("properties", |p| {
            p.s("id", id)
                .s("category", a.category)
                .s("correlationId", &corr)
                .s("result", "success")
                .null("resultReason");
            p.s("activityDisplayName", a.activity)
                .s("activityDateTime", &entra_time(r.t_us, fraction, "+00:00"));
            p.s("loggedByService", a.service)
                .s("operationType", a.op_type)
                .null("userAgent");
            p.o("initiatedBy", |i| match r.who {
                Who::Person(k) => {
                    let person = &t.people[k as usize];
                    i.o("user", |u| {
                        u.s("id", &person.object_id)
                            .null("displayName")
                            .s("userPrincipalName", &person.upn);
                        u.opt("ipAddress", (!ip.is_empty()).then_some(ip))
                            .empty("roles");
                    });
                }
                _ => {
                    i.o("app", |u| {
                        u.null("appId")
                            .s("displayName", SUBSTRATE_APP)
                            .s("servicePrincipalId", SUBSTRATE_SP)
                            .null("servicePrincipalName");
                    });
                }
            });
            p.a("targetResources", |ts| {
                ts.o(|tr| {
                    tr.s("id", &a.target_id)
                        .opt(
                            "displayName",
                            (a.target_type == "Policy").then_some(a.target_name.as_str()),
                        )
                        .s("type", a.target_type);
                    if let Some(upn) = &a.target_upn {
                        tr.s("userPrincipalName", upn);
                    }
                    tr.a("modifiedProperties", |mp| {
                        for (name, old, new) in &a.props {
                            mp.o(|m| {
                                m.s("displayName", name)
                                    .opt("oldValue", old.as_deref())
                                    .opt("newValue", new.as_deref());
                            });
                        }
                    });
                    tr.empty("administrativeUnits");
                });
            });
            p.a("additionalDetails", |d| {
                let category = if a.service == "Conditional Access" {
                    "Conditional Access"
                } else {
                    "UserManagement"
                };
                d.o(|kv| {
                    kv.s("key", "Category").s("value", category);
                });
            });
        });
        o.close();
    }
}

/// Entra's browser label (`Edge 122.0.0`) of a user agent.
fn browser(ua: &str) -> String {
    let version = |key: &str| {
        ua.split(key)
            .nth(1)
            .and_then(|r| r.split([' ', '.']).next())
            .unwrap_or("0")
            .to_string()
    };
    if ua.contains("Edg/") {
        format!("Edge {}.0.0", version("Edg/"))
    } else if ua.contains("Teams/") {
        "Rich Client 5.2.1".to_string()
    } else if ua.contains("Firefox/") {
        format!("Firefox {}.0", version("Firefox/"))
    } else if ua.contains("Chrome/") {
        format!("Chrome {}.0.0", version("Chrome/"))
    } else if ua.contains("Safari/") {
        format!("Safari {}.3", version("Version/"))
    } else if ua.is_empty() {
        String::new()
    } else {
        ua.split('/').next().unwrap_or_default().to_string()
    }
}
