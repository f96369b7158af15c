//! `entra` normaliser (not yet built: records are quarantined as `format_not_supported`).

use super::{not_supported, NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::LogFormat;

/// Normaliser for `LogFormat::EntraAudit`.
pub struct EntraAudit;

impl Normaliser for EntraAudit {
    fn format(&self) -> LogFormat {
        LogFormat::EntraAudit
    }

    fn normalise<'a>(&self, _record: &'a str, _opts: &NormaliseOptions, _out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        Err(not_supported(self.format()))
    }
}

/// Normaliser for `LogFormat::EntraSignin`.
pub struct EntraSignin;

impl Normaliser for EntraSignin {
    fn format(&self) -> LogFormat {
        LogFormat::EntraSignin
    }

    fn normalise<'a>(&self, _record: &'a str, _opts: &NormaliseOptions, _out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        Err(not_supported(self.format()))
    }
}
