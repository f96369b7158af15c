//! # cloudsift
//!
//! A batch pipeline for cloud audit logs: raw AWS CloudTrail, Microsoft 365, Entra ID,
//! Azure Activity / Key Vault and GCP Cloud Audit Logs are normalised into one Parquet
//! schema ([`schema`]), profiled into per-principal baselines ([`profiles`]), and scored by
//! the analytics of the catalogue ([`analytics`], [`scoring`]) into findings ([`findings`])
//! mapped to MITRE ATT&CK.
//!
//! Stages talk through Parquet files in a lake reached through `object_store`
//! ([`storage`]), so the same job runs on a local folder or on S3 / Azure Blob / GCS.
//! The architecture is `DESIGN.md`'s; the command line is in [`cli`] and [`app`].

pub mod analytics;
pub mod app;
pub mod catalog;
pub mod cli;
pub mod error;
pub mod evaluate;
pub mod event;
pub mod export;
pub mod findings;
pub mod generate;
pub mod lake;
pub mod pipeline;
pub mod profiles;
pub mod progress;
pub mod schema;
pub mod scoring;
pub mod sources;
pub mod storage;
pub mod suppressions;

pub use error::{Error, Result};
