//! The library's error type, split by whose fault it is, so that `main` can map each kind
//! to an exit code a scheduler can act on (DESIGN.md "Running it": 2 usage/config error,
//! 4 storage or internal error). Bad *records* are not errors: they are quarantined and
//! counted (see [`crate::sources`]); `Input` is for input that stops a whole command.

use std::path::PathBuf;

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user's configuration or arguments are wrong (exit code 2). `key` names the
    /// setting (`pipeline.toml: analytics.secret_access_volume.min_history_days`).
    #[error("configuration error in {key}: {message}")]
    Config { key: String, message: String },

    /// A file the user named cannot be read as what it claims to be (exit code 2).
    #[error("cannot read {path}: {message}")]
    Input { path: String, message: String },

    /// Object store or filesystem failure (exit code 4). `url` is the object or prefix.
    #[error("storage error at {url}: {source}")]
    Storage {
        url: String,
        #[source]
        source: object_store::Error,
    },

    /// Local I/O failure (exit code 4).
    #[error("I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Parquet, Arrow or polars failure while reading or writing the lake (exit code 4).
    #[error("lake error at {path}: {message}")]
    Lake { path: String, message: String },

    /// Another run holds the lake's lock (exit code 4: the scheduler should retry later).
    #[error("the lake {lake} is locked by run {owner} (on {host}, until {expires}); another cloudsift run is writing it. Retry after it ends, or delete {lake}/state/lock.json if that run is known to be dead")]
    Locked { lake: String, owner: String, host: String, expires: String },

    /// The reader of stdout went away (`| head`): not a failure, the run ends quietly with
    /// exit code 0 after releasing what it holds (the lake lock).
    #[error("stdout was closed by its reader")]
    ClosedOutput,

    /// A bug: an invariant the code relies on does not hold (exit code 4).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Shorthand for [`Error::Config`].
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config { key: key.into(), message: message.into() }
    }

    /// Shorthand for [`Error::Lake`].
    pub fn lake(path: impl Into<String>, message: impl std::fmt::Display) -> Self {
        Error::Lake { path: path.into(), message: message.to_string() }
    }

    /// Shorthand for [`Error::Storage`].
    pub fn storage(url: impl Into<String>, source: object_store::Error) -> Self {
        Error::Storage { url: url.into(), source }
    }

    /// The process exit code DESIGN.md assigns to this kind of failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::ClosedOutput => 0,
            Error::Config { .. } | Error::Input { .. } => 2,
            Error::Storage { .. } | Error::Io { .. } | Error::Lake { .. } | Error::Locked { .. } | Error::Internal(_) => 4,
        }
    }
}
