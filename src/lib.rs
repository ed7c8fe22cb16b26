//! phi-audit: HIPAA Security Rule evidence from an AWS account's S3 configuration.
//!
//! The module tree is the pipeline, data flowing one way (docs/architecture.md; the layering is
//! enforced by tests/it/architecture.rs):
//!
//! - [`findings`]: the findings contract every stage shares; [`schema`]: the snapshot format's.
//! - [`collect`] writes a snapshot; [`snapshot`] reads one into typed evidence.
//! - [`controls`]: the control catalog; [`evaluate`]: the pure, table-driven evaluator.
//! - [`attest`]: attestations and risk exceptions, judged after the evaluator.
//! - [`audit`]: the judged evidence of one account or an organisation — what every output reads.
//! - [`diff`]: the comparison of two bundles (or a bundle and an audit).
//! - [`report`]: the documents (table, CSV, JSON, HTML, PDF, OSCAL) rendered from an audit.
//! - [`bundle`]: the evidence bundle's format, its verification, signing and time-stamping;
//!   [`package`] writes it.
//! - [`tempfiles`]: the names of in-progress outputs, and the sweep of those a killed run left.
//! - [`parallel`]: work spread over threads with results kept in input order.
//! - [`cli`]: the thin command-line layer over them.

pub mod attest;
pub mod audit;
pub mod bundle;
pub mod cli;
pub mod collect;
pub mod controls;
pub mod diff;
pub mod evaluate;
pub mod findings;
pub mod package;
pub mod parallel;
pub mod report;
pub mod schema;
pub mod snapshot;
pub mod tempfiles;
