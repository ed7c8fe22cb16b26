//! Administrative safeguards: policy attestations and risk exceptions kept in YAML.
//!
//! (Domain types only so far; parsing and evaluation arrive with the attestations issue.)

use chrono::NaiveDate;

/// One Dash administrative policy's attestation: who owns and approved it, when, and which
/// document states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub policy: String,
    pub owner: String,
    pub approver: String,
    pub approved_on: NaiveDate,
    pub next_review: NaiveDate,
    pub statement: String,
    pub document: Option<AttestedDocument>,
}

/// The policy document an attestation names, with the SHA-256 it had when approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestedDocument {
    pub path: String,
    pub sha256: String,
}

/// A documented, approved acceptance of a failing control on matching subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskException {
    /// A glob over finding subjects, e.g. `s3://riverside-www` or `s3://*-public-*`.
    pub subject: String,
    pub control: String,
    pub justification: String,
    pub approver: String,
    pub approved_on: NaiveDate,
    pub expires: NaiveDate,
}
