//! phi-audit: HIPAA Security Rule evidence from an AWS account's S3 configuration.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`collect`] → [`snapshot`] → [`evaluate`] (with the [`controls`] catalog) → [`findings`] →
//! [`report`] → bundle. [`cli`] is the thin command-line layer over them. [`schema`], the
//! snapshot format contract, sits below them all; [`collect`] builds on it alone.

pub mod attest;
pub mod bundle;
pub mod cli;
pub mod collect;
pub mod controls;
pub mod diff;
pub mod evaluate;
pub mod findings;
pub mod report;
pub mod schema;
pub mod sign;
pub mod snapshot;
pub mod timestamp;
pub mod verify;
