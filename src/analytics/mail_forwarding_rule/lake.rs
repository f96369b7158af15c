//! Reading the lake: the tagged rows of the window and its history, and each tenant's
//! mail domains (module docs, "Tenant domains").

use std::collections::{BTreeSet, HashMap};

use polars::prelude::*;

use super::parse::{self, Kind};
use super::tenant::{self, TenantDomains};
use super::Row;
use crate::analytics::DetectContext;
use crate::profiles;
use crate::schema as s;
use crate::Result;

/// The tagged rows of history and window, parsed.
pub(super) fn read_rows(
    ctx: &DetectContext,
    lf: LazyFrame,
    ops: &[profiles::TaggedOperation],
) -> Result<Vec<Row>> {
    let cols = [
        s::EVENT_UID,
        s::PROVIDER,
        s::ACCOUNT_UID,
        s::ACTOR_UID,
        s::SRC_IP,
        s::USER_AGENT,
        s::SERVICE,
        s::OPERATION,
        s::STATUS,
        s::RESOURCE_UID,
        s::REQUEST_PARAMS,
        s::RAW_EVENT,
    ];
    let records = profiles::tagged_records(ctx.lake_root, lf, ops, &cols)?;
    let mut rows = Vec::with_capacity(records.len());
    for mut r in records {
        let t = r.t;
        let mut take = |n: &str| r.take(n);
        let operation = take(s::OPERATION).unwrap_or_default();
        let Some(kind) = Kind::of(&operation) else {
            continue;
        };
        let (request, resource, raw) = (
            take(s::REQUEST_PARAMS),
            take(s::RESOURCE_UID),
            take(s::RAW_EVENT),
        );
        let change = parse::parse(
            kind,
            request.as_deref(),
            resource.as_deref(),
            raw.as_deref(),
        );
        rows.push(Row {
            t,
            event_uid: take(s::EVENT_UID).unwrap_or_default(),
            provider: take(s::PROVIDER).unwrap_or_default(),
            account: take(s::ACCOUNT_UID).unwrap_or_default(),
            actor: take(s::ACTOR_UID),
            src_ip: take(s::SRC_IP),
            user_agent: take(s::USER_AGENT),
            service: take(s::SERVICE).unwrap_or_default(),
            operation,
            status: take(s::STATUS).unwrap_or_default(),
            kind,
            change,
        });
    }
    rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    Ok(rows)
}

/// Configured plus learned tenant domains of each account (module docs).
pub(super) fn tenant_domains(
    ctx: &DetectContext,
    lf: LazyFrame,
    rows: &[Row],
    accounts: &BTreeSet<&str>,
) -> Result<HashMap<String, TenantDomains>> {
    let cfg = &ctx.config.mail_forwarding_rule;
    let mut out: HashMap<String, TenantDomains> = HashMap::new();
    for a in accounts {
        let t = out.entry((*a).to_string()).or_default();
        for d in &cfg.tenant_domains {
            t.add(d, "configured");
        }
    }
    if !cfg.learn_tenant_domains {
        return Ok(out);
    }
    // Only Microsoft rows share the tenant id as their account.
    let microsoft = col(s::PROVIDER)
        .eq(lit(s::Provider::M365.as_str()))
        .or(col(s::PROVIDER).eq(lit(s::Provider::Entra.as_str())));
    let people = lf
        .filter(microsoft)
        .filter(
            col(s::ACTOR_TYPE)
                .eq(lit(s::ActorType::User.as_str()))
                .and(col(s::ACTOR_UID).is_not_null()),
        )
        .group_by([
            col(s::ACCOUNT_UID),
            col(s::ACTOR_UID),
            col(s::ACTOR_ACCOUNT_UID),
        ])
        .agg([len().alias("n")]);
    let df = profiles::collect(ctx.lake_root, people)?;
    let (acc, uid, home) = (
        profiles::strings(&df, s::ACCOUNT_UID)?,
        profiles::strings(&df, s::ACTOR_UID)?,
        profiles::strings(&df, s::ACTOR_ACCOUNT_UID)?,
    );
    for ((a, u), h) in acc.into_iter().zip(uid).zip(home) {
        let (Some(a), Some(u)) = (a, u) else { continue };
        // A guest signing in from its home tenant teaches that tenant's domain, not ours.
        if h.is_some_and(|h| !h.eq_ignore_ascii_case(&a)) {
            continue;
        }
        if let (Some(t), Some(d)) = (out.get_mut(&a), tenant::domain_of_upn(&u)) {
            t.add(&d, "user UPNs");
        }
    }
    for r in rows.iter().filter(|r| !r.failed()) {
        let Some(t) = out.get_mut(&r.account) else {
            continue;
        };
        for text in [r.change.mailbox.as_deref(), r.change.rule_name.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(d) = tenant::hosted_org_domain(text) {
                t.add(&d, "Exchange DN");
            }
        }
        // A mailbox a cmdlet changed successfully is one of the tenant's, and Exchange
        // gives mailboxes addresses in accepted domains only.
        let mailbox_cmdlet = matches!(
            r.kind,
            Kind::MailboxForwarding | Kind::InboxRule | Kind::ClientRule
        );
        if let Some(d) = r
            .change
            .mailbox
            .as_deref()
            .filter(|_| mailbox_cmdlet)
            .and_then(tenant::domain_of_upn)
        {
            t.add(&d, "mailbox UPNs");
        }
    }
    Ok(out)
}
