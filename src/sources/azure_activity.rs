//! `azure_activity` normaliser (not yet built: records are quarantined as `format_not_supported`).

use super::{not_supported, NormaliseOptions, Normaliser, Reject};
use crate::event::Event;
use crate::schema::LogFormat;

/// Normaliser for `LogFormat::AzureActivity`.
pub struct AzureActivity;

impl Normaliser for AzureActivity {
    fn format(&self) -> LogFormat {
        LogFormat::AzureActivity
    }

    fn normalise<'a>(&self, _record: &'a str, _opts: &NormaliseOptions, _out: &mut Vec<Event<'a>>) -> Result<(), Reject> {
        Err(not_supported(self.format()))
    }
}
