//! phi-audit: HIPAA Security Rule evidence from an AWS account's S3 configuration.
//!
//! The pipeline, one module per stage, data flowing one way:
//! [`collect`] → [`snapshot`] → [`evaluate`] (with the [`controls`] catalog) → [`findings`] →
//! [`report`] → bundle. [`cli`] is the thin command-line layer over them. [`tempfiles`] names the
//! temporaries of atomic writes and sweeps those that killed runs left behind.

pub mod attest;
pub mod bundle;
pub mod cli;
pub mod collect;
pub mod controls;
pub mod diff;
pub mod evaluate;
pub mod findings;
pub mod report;
pub mod sign;
pub mod snapshot;
pub mod tempfiles;
pub mod timestamp;
pub mod verify;
