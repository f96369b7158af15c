//! The window's session rows, and the audit-log copies of sign-ins left out of them.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::{Row, DAY_US};
use crate::profiles::{self, T};
use crate::schema::{self as s, ActorType, Provider, Status};
use crate::{Error, Result};

/// Drops the unified audit log's `UserLoggedIn` rows of the (tenant, UTC day)s whose Entra
/// interactive sign-ins are in the lake: each is a copy of a sign-in (catalogue: "the
/// unified audit log's copy of an Entra ID sign-in"), and counting both would double
/// every user's sessions. Tenants or days without sign-in logs keep them.
pub(super) fn without_audit_copies(tagged: LazyFrame) -> Result<LazyFrame> {
    let day = col(T).floor_div(lit(DAY_US));
    let signin_day = col(s::PROVIDER)
        .eq(lit(Provider::Entra.as_str()))
        .cast(DataType::Int64)
        .sum()
        .over([col(s::ACCOUNT_UID), day])
        .map_err(|e| Error::Internal(format!("session_anomaly: window expression: {e}")))?
        .gt(lit(0i64));
    let copy = col(s::PROVIDER)
        .eq(lit(Provider::M365.as_str()))
        .and(col(s::OPERATION).eq(lit("UserLoggedIn")))
        .and(signin_day);
    Ok(tagged.filter(copy.not()))
}

pub(super) type WindowRows = BTreeMap<(String, String), (Vec<Row>, Vec<ActorType>)>;

/// The window's session rows per (tenant, user), in time order.
pub(super) fn window_rows(df: &DataFrame) -> Result<WindowRows> {
    let mut c: HashMap<&str, Vec<Option<String>>> = HashMap::new();
    for name in [s::EVENT_UID, s::PROVIDER, s::ACCOUNT_UID, s::ACTOR_UID, s::ACTOR_TYPE, s::SRC_IP, s::USER_AGENT, s::SERVICE, s::OPERATION, s::STATUS] {
        c.insert(name, profiles::strings(df, name)?);
    }
    let ts = profiles::ints(df, T)?;
    let mut get = |n: &str, i: usize| c.get_mut(n).and_then(|v| v[i].take());
    let mut out: WindowRows = BTreeMap::new();
    for (i, &t) in ts.iter().enumerate() {
        let (Some(account), Some(actor)) = (get(s::ACCOUNT_UID, i), get(s::ACTOR_UID, i)) else {
            continue;
        };
        let entry = out.entry((account, actor)).or_default();
        if let Some(at) = get(s::ACTOR_TYPE, i).as_deref().and_then(ActorType::parse) {
            entry.1.push(at);
        }
        entry.0.push(Row {
            t,
            event_uid: get(s::EVENT_UID, i).unwrap_or_default(),
            provider: get(s::PROVIDER, i).unwrap_or_default(),
            ip: get(s::SRC_IP, i),
            agent: get(s::USER_AGENT, i),
            service: get(s::SERVICE, i).unwrap_or_default(),
            operation: get(s::OPERATION, i).unwrap_or_default(),
            ok: get(s::STATUS, i).as_deref() != Some(Status::Failure.as_str()),
        });
    }
    for (rows, _) in out.values_mut() {
        rows.sort_by(|a, b| (a.t, &a.event_uid).cmp(&(b.t, &b.event_uid)));
    }
    Ok(out)
}
