//! The command line (DESIGN.md §5): argument parsing and the glue from arguments to the library.
//! Everything that decides anything lives in the pipeline modules; this file only wires them.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use crate::attest::{self, Administrative, AttestError, ExceptionUse, Unmatched};
use crate::controls::{Catalog, CatalogError};
use crate::evaluate::{builtin_catalog, evaluate_with, known_control_ids, EvaluateOptions};
use crate::findings::{FindingsReport, Severity, SnapshotRef};
use crate::report;
use crate::snapshot::{Snapshot, SnapshotError};

#[derive(Debug, Parser)]
#[command(
    name = "phi-audit",
    version,
    about = "HIPAA Security Rule evidence from an AWS account's S3 configuration"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate the controls against a snapshot and print the findings.
    Evaluate(EvaluateArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Threshold {
    Critical,
    High,
    Medium,
    Low,
}

impl From<Threshold> for Severity {
    fn from(t: Threshold) -> Severity {
        match t {
            Threshold::Critical => Severity::Critical,
            Threshold::High => Severity::High,
            Threshold::Medium => Severity::Medium,
            Threshold::Low => Severity::Low,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The snapshot directory written by `phi-audit collect`.
    pub snapshot: PathBuf,
    /// A control catalog directory to use instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub controls: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Exit 1 when a finding at or above this severity failed or could not be assessed.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Threshold>,
    /// The generation time recorded in the output (RFC 3339); defaults to now.
    #[arg(long, value_name = "RFC3339")]
    pub generated_at: Option<String>,
    /// Server access logs older than this many hours before the end of the review period
    /// count as not delivered.
    #[arg(long, value_name = "HOURS", default_value_t = 48, value_parser = clap::value_parser!(i64).range(1..=8760))]
    pub access_log_max_age: i64,
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// The administrative inputs, shared by `evaluate` and `report`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AdminArgs {
    /// Policy attestations (YAML): judges the administrative controls per Dash policy.
    #[arg(long, value_name = "FILE")]
    pub attestations: Option<PathBuf>,
    /// Risk exceptions (YAML): matching, unexpired exceptions turn failures into `excepted`.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Option<PathBuf>,
    /// Judge attestations and exceptions at this day instead of the end of the snapshot's
    /// review period (or its collection day when it has none).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<NaiveDate>,
}

/// Why a command could not do its job. All of these are bad usage or bad input: exit 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Attest(#[from] AttestError),
    #[error("--generated-at: \"{0}\" is not an RFC 3339 time (e.g. 2026-10-01T12:00:00Z)")]
    GeneratedAt(String),
    #[error("writing the output: {0}")]
    Output(#[from] std::io::Error),
}

/// The process exit status of a command that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Done,
    /// Exit 1: the `--fail-on` threshold was reached.
    ThresholdReached,
}

/// Runs a parsed command. `now` is the only clock reading, taken by `main`.
pub fn run(cli: Cli, now: DateTime<Utc>, out: &mut dyn Write) -> Result<Outcome, CliError> {
    match cli.command {
        Command::Evaluate(args) => run_evaluate(&args, now, out),
    }
}

pub fn load_catalog(dir: Option<&PathBuf>) -> Result<Catalog, CatalogError> {
    match dir {
        Some(dir) => Catalog::load_dir(dir, &known_control_ids()),
        None => builtin_catalog(),
    }
}

/// Normalises `--generated-at` (or the clock) to RFC 3339 UTC with seconds.
pub fn generated_at(option: Option<&str>, now: DateTime<Utc>) -> Result<String, CliError> {
    let time = match option {
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map_err(|_| CliError::GeneratedAt(text.to_string()))?
            .with_timezone(&Utc),
        None => now,
    };
    Ok(time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Loads the snapshot and catalog and evaluates: the shared first half of evaluate and report.
pub fn findings_for(
    snapshot_dir: &std::path::Path,
    controls: Option<&PathBuf>,
    generated_at: String,
) -> Result<(Snapshot, Catalog, FindingsReport), CliError> {
    findings_with(
        snapshot_dir,
        controls,
        generated_at,
        EvaluateOptions::default(),
    )
}

/// [`findings_for`] with explicit evaluation thresholds.
pub fn findings_with(
    snapshot_dir: &std::path::Path,
    controls: Option<&PathBuf>,
    generated_at: String,
    options: EvaluateOptions,
) -> Result<(Snapshot, Catalog, FindingsReport), CliError> {
    let catalog = load_catalog(controls)?;
    let snapshot = Snapshot::load(snapshot_dir)?;
    let findings = evaluate_with(&snapshot, &catalog, options);
    let reference = SnapshotRef {
        collected_at: snapshot.meta.collected_at.clone(),
        account_id: snapshot.meta.account_id.clone(),
        digest: snapshot.digest.clone(),
    };
    let mut report = FindingsReport::new(generated_at, reference, findings);
    report.changes = crate::evaluate::changes::timeline(&snapshot);
    Ok((snapshot, catalog, report))
}

/// The findings after the administrative step, with what it used and did.
#[derive(Debug, Clone)]
pub struct Administered {
    pub report: FindingsReport,
    pub admin: Administrative,
    /// Per exception: its state and the subjects it matched.
    pub exceptions: Vec<ExceptionUse>,
    /// Exceptions that matched no failing finding; print them as warnings.
    pub unmatched: Vec<Unmatched>,
}

/// Loads `--attestations` / `--exceptions` and applies them to an evaluated report: the step
/// right after [`findings_for`], shared by evaluate and report.
pub fn administer(
    report: FindingsReport,
    snapshot: &Snapshot,
    catalog: &Catalog,
    args: &AdminArgs,
) -> Result<Administered, CliError> {
    let period_end = attest::period_end(&snapshot.meta, args.as_of);
    let admin = Administrative::load(
        args.attestations.as_deref(),
        args.exceptions.as_deref(),
        catalog,
        period_end,
    )?;
    let FindingsReport {
        generated_at,
        snapshot: reference,
        findings,
        ..
    } = report;
    let applied = attest::apply(findings, catalog, &admin);
    Ok(Administered {
        report: FindingsReport::new(generated_at, reference, applied.findings),
        admin,
        exceptions: applied.exceptions,
        unmatched: applied.unmatched,
    })
}

fn run_evaluate(
    args: &EvaluateArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let generated_at = generated_at(args.generated_at.as_deref(), now)?;
    let options = EvaluateOptions {
        access_log_max_age_hours: args.access_log_max_age,
    };
    let (snapshot, catalog, report) = findings_with(
        &args.snapshot,
        args.controls.as_ref(),
        generated_at,
        options,
    )?;
    let administered = administer(report, &snapshot, &catalog, &args.admin)?;
    // Warnings go to stderr so they never corrupt JSON or CSV on stdout.
    for unmatched in &administered.unmatched {
        eprintln!("warning: {unmatched}");
    }
    let report = administered.report;
    let mut out = std::io::BufWriter::new(out);
    match args.format {
        OutputFormat::Table => report::table::write_table(&report, &mut out)?,
        // Streamed: for thousands of buckets the document is larger than the findings.
        OutputFormat::Json => report::write_findings_json(&report, &mut out)?,
        OutputFormat::Csv => report::csv::write_findings_csv(&report.findings, &mut out)?,
    }
    out.flush()?;
    match args.fail_on {
        Some(threshold) if report.reaches(threshold.into()) => Ok(Outcome::ThresholdReached),
        _ => Ok(Outcome::Done),
    }
}
