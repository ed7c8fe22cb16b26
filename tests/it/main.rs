//! The integration tests, as one test binary: each module is one area of phi-audit, tested from
//! outside the library (its public API, or the built `phi-audit` binary), and `support` holds the
//! helpers they share. One binary links the AWS SDK once instead of once per test file.
//!
//! Run one area with `cargo test --test it MODULE::` (e.g. `cargo test --test it oscal::`); the
//! tests that need the local moto server run under `scripts/with-moto`.

mod support;

mod access_report;
mod architecture;
mod attest_attestations;
mod attest_cli;
mod attest_exceptions;
mod attest_policies;
mod audit_trail;
mod auditor_reading;
mod bad_input;
mod bucket_controls;
mod bundle_report;
mod bundle_sample;
mod cli_evaluate;
mod collect_cli;
mod collect_kms;
mod collect_lookup_events;
mod collect_moto;
mod collect_org;
mod coverage;
mod custody;
mod diff_bundles;
mod diff_scale;
mod exposure_cases;
mod iam_moto;
mod iam_review;
mod iam_snapshot;
mod kms_controls;
mod org_evaluate;
mod oscal;
mod parallel_output;
mod pdf_archive;
mod report_browser;
mod report_charts;
mod report_risk;
mod report_slices;
mod sample;
mod timestamp;
mod verify_tamper;
