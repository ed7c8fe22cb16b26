//! The command line (DESIGN.md §5): argument parsing and the glue from arguments to the library.
//! Everything that decides anything lives in the pipeline modules; this file only wires them.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

use crate::attest::{self, Administrative, AttestError, ExceptionUse, Unmatched};
use crate::collect::{self, CollectArgs, CollectError};
use crate::controls::{Catalog, CatalogError};
use crate::evaluate::org::{evaluate_org, AccountResult};
use crate::evaluate::{builtin_catalog, evaluate_with, known_control_ids, EvaluateOptions};
use crate::findings::{FindingsReport, Severity, SnapshotRef};
use crate::report;
use crate::snapshot::org::{is_org_snapshot, OrgSnapshot};
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
    /// Write the evidence bundle (PDF, HTML, CSV, JSON, raw evidence, manifest) for a snapshot.
    Report(ReportArgs),
    /// Check that an evidence bundle is intact (and its signature, given the public key).
    Verify(VerifyArgs),
    /// Compare two evidence bundles (both verified first): new and fixed failures, new and
    /// removed buckets, changed API answers, expired exceptions.
    Diff(DiffArgs),
    /// Make a minisign-compatible Ed25519 key pair for signing bundles.
    Keygen(KeygenArgs),
    /// Collect S3 and CloudTrail evidence from an AWS account into a snapshot directory.
    Collect(CollectArgs),
    /// Collect, then write the evidence bundle from the new snapshot.
    Run(Box<RunArgs>),
    /// Combine the shards of a `collect --org --shard K/N` run into one organisation snapshot.
    Merge(MergeArgs),
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The shard directories (each written by `collect --org --shard K/N`), all N of them.
    #[arg(value_name = "SHARD", required = true)]
    pub shards: Vec<PathBuf>,
    /// Directory to write the merged snapshot to (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// `run`: the options of `collect` (whose `--out` is the snapshot directory) and of `report`
/// (whose bundle path is `--bundle`).
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// Where to write the evidence bundle (a .zip).
    #[arg(long, value_name = "BUNDLE.zip")]
    pub bundle: PathBuf,
    /// The generation time recorded in the bundle (RFC 3339); defaults to now.
    #[arg(long, value_name = "RFC3339")]
    pub generated_at: Option<String>,
    #[command(flatten)]
    pub judgement: JudgementArgs,
    /// Sign MANIFEST.sha256 with this minisign secret key (from `phi-audit keygen`).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// As for `report`: verified before collecting, so a bad one fails fast.
    #[arg(long, value_name = "OLD.zip")]
    pub previous: Option<PathBuf>,
    /// Add MANIFEST.sha256.tsr, an RFC 3161 time-stamp token over MANIFEST.sha256 from this
    /// time-stamping authority (http:// only); if the TSA fails, no bundle is written.
    #[arg(long, value_name = "URL")]
    pub timestamp_url: Option<String>,
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
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Exit 1 when a finding at or above this severity failed or could not be assessed.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<Threshold>,
    /// The generation time recorded in the output (RFC 3339); defaults to now.
    #[arg(long, value_name = "RFC3339")]
    pub generated_at: Option<String>,
    #[command(flatten)]
    pub judgement: JudgementArgs,
}

/// What decides the findings, shared by `evaluate`, `report` and `run`: the catalog, the
/// thresholds, and the administrative inputs.
#[derive(Debug, Clone, clap::Args)]
pub struct JudgementArgs {
    /// A control catalog directory to use instead of the built-in one.
    #[arg(long, value_name = "DIR")]
    pub controls: Option<PathBuf>,
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

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// The snapshot directory written by `phi-audit collect`.
    pub snapshot: PathBuf,
    /// Where to write the bundle (a .zip); written to a temp file beside it, then renamed.
    #[arg(long, value_name = "BUNDLE.zip")]
    pub out: PathBuf,
    /// The generation time recorded in the bundle (RFC 3339); defaults to now. The same
    /// snapshot and generation time give a byte-identical bundle.
    #[arg(long, value_name = "RFC3339")]
    pub generated_at: Option<String>,
    /// --attestations and --exceptions are evaluated as for `evaluate` and copied, as given,
    /// into the bundle's attestations/.
    #[command(flatten)]
    pub judgement: JudgementArgs,
    /// Sign MANIFEST.sha256 with this minisign secret key (from `phi-audit keygen`).
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// The previous evidence bundle (say last quarter's): verified as `diff` verifies it, then
    /// compared with this report, which gets a "Changes since last review" section and
    /// changes-since-previous.json. A bundle that does not verify is refused.
    #[arg(long, value_name = "OLD.zip")]
    pub previous: Option<PathBuf>,
    /// Add MANIFEST.sha256.tsr, an RFC 3161 time-stamp token over MANIFEST.sha256 from this
    /// time-stamping authority (http:// only); if the TSA fails, no bundle is written.
    #[arg(long, value_name = "URL")]
    pub timestamp_url: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle to check.
    pub bundle: PathBuf,
    /// The minisign public key that must have signed the manifest.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// The time-stamping authority's certificate or its issuing CA (PEM): checks the bundle's
    /// RFC 3161 token fully (imprint, signature, chain, timeStamping usage, validity).
    #[arg(long, value_name = "FILE")]
    pub tsa_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Json,
    Html,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier bundle.
    #[arg(value_name = "OLD.zip")]
    pub old: PathBuf,
    /// The later bundle.
    #[arg(value_name = "NEW.zip")]
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (secret, mode 0600) and PREFIX.pub; never overwrites.
    #[arg(long, value_name = "PREFIX", default_value = "phi-audit")]
    pub out: PathBuf,
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
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Previous(#[from] crate::diff::previous::PreviousError),
    #[error(transparent)]
    Timestamp(#[from] crate::timestamp::TimestampError),
    #[error(transparent)]
    Merge(#[from] collect::merge::MergeError),
}

impl CliError {
    /// The process exit code (DESIGN.md §5): 2 for bad usage or input; collect has its own
    /// (130 interrupted, 70 for an internal fault).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Collect(err) => err.exit_code(),
            _ => 2,
        }
    }
}

/// The process exit status of a command that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Done,
    /// Exit 1: the `--fail-on` threshold was reached.
    ThresholdReached,
    /// Exit 1: `verify` found the bundle changed, incomplete or wrongly signed.
    Tampered,
}

/// Runs a parsed command. `now` is the only clock reading, taken by `main`.
pub fn run(cli: Cli, now: DateTime<Utc>, out: &mut dyn Write) -> Result<Outcome, CliError> {
    match cli.command {
        Command::Evaluate(args) => run_evaluate(&args, now, out),
        Command::Report(args) => run_report(&args, now, out),
        Command::Verify(args) => run_verify(&args, out),
        Command::Diff(args) => run_diff(&args, out),
        Command::Keygen(args) => run_keygen(&args, out),
        Command::Collect(args) => run_collect_command(&args, now).map(|_| Outcome::Done),
        Command::Run(args) => run_collect_then_report(*args, now, out),
        Command::Merge(args) => run_merge(&args, out),
    }
}

/// Collects into `args.out`. The tokio runtime lives only for the collection: everything else
/// in phi-audit is synchronous.
fn run_collect_command(args: &CollectArgs, now: DateTime<Utc>) -> Result<PathBuf, CliError> {
    // The clock is read once, in main; everything in the snapshot uses this instant.
    let collected_at = args.collected_at.unwrap_or(now);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let progress = collect::progress::for_stderr();
    if args.org.org {
        let summary = runtime.block_on(collect::org::run_org_collect(
            args,
            collected_at,
            progress.as_ref(),
        ))?;
        eprintln!(
            "collected {} of organization {}'s accounts: {} buckets ({} in scope) in {:.1} s, {} API calls, {} recorded as errors; snapshot: {}",
            summary.accounts - summary.not_collected.len(),
            summary.organization_id,
            summary.buckets,
            summary.buckets_in_scope,
            summary.elapsed.as_secs_f64(),
            summary.api_calls,
            summary.failed_calls,
            summary.out.display()
        );
        for (account, reason) in &summary.not_collected {
            eprintln!("warning: account {account} was not collected: {reason}");
        }
        return Ok(summary.out);
    }
    let summary = runtime.block_on(collect::run_collect(args, collected_at, progress.as_ref()))?;
    eprintln!(
        "collected {} buckets ({} in scope) of account {} in {:.1} s: {} API calls, {} recorded as errors; snapshot: {}",
        summary.buckets,
        summary.buckets_in_scope,
        summary.account_id,
        summary.elapsed.as_secs_f64(),
        summary.api_calls,
        summary.failed_calls,
        summary.out.display()
    );
    Ok(summary.out)
}

fn run_collect_then_report(
    args: RunArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    // The previous bundle is checked before minutes of collection, not after.
    let previous = load_previous(args.previous.as_deref())?;
    let snapshot = run_collect_command(&args.collect, now)?;
    let report = ReportArgs {
        snapshot,
        out: args.bundle,
        generated_at: args.generated_at,
        judgement: args.judgement,
        sign_key: args.sign_key,
        previous: args.previous,
        timestamp_url: args.timestamp_url,
    };
    report_with_previous(&report, previous.as_ref(), now, out)
}

/// Verifies and reads `--previous` (refused when it does not verify), warning on stderr when
/// the comparison will not be of the same account.
fn load_previous(
    path: Option<&std::path::Path>,
) -> Result<Option<crate::diff::previous::PreviousBundle>, CliError> {
    path.map(crate::diff::previous::PreviousBundle::load)
        .transpose()
        .map_err(CliError::from)
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
    for warning in &snapshot.warnings {
        eprintln!("warning: {warning}");
    }
    let findings = evaluate_with(&snapshot, &catalog, options);
    let reference = SnapshotRef {
        collected_at: snapshot.meta.collected_at.to_string(),
        account_id: snapshot.meta.account_id.clone(),
        digest: snapshot.digest.clone(),
        organization_id: None,
    };
    let mut report = FindingsReport::new(generated_at, reference, findings);
    report.changes = crate::evaluate::changes::timeline(&snapshot);
    Ok((snapshot, catalog, report))
}

/// [`findings_with`] for an organisation snapshot (docs/organizations.md): the accounts are
/// evaluated one at a time; what the report needs of each is kept in its [`AccountResult`].
pub fn org_findings_with(
    org_dir: &std::path::Path,
    controls: Option<&PathBuf>,
    generated_at: String,
    options: EvaluateOptions,
) -> Result<(OrgSnapshot, Vec<AccountResult>, Catalog, FindingsReport), CliError> {
    let catalog = load_catalog(controls)?;
    let org = OrgSnapshot::load(org_dir)?;
    let evaluation = evaluate_org(&org, &catalog, options)?;
    let reference = SnapshotRef {
        collected_at: org.header.collected_at.to_string(),
        account_id: org.header.organization.management_account_id.clone(),
        digest: org.digest.clone(),
        organization_id: Some(org.header.organization.id.clone()),
    };
    let mut report = FindingsReport::new(generated_at, reference, evaluation.findings);
    report.changes = evaluation.changes;
    Ok((org, evaluation.accounts, catalog, report))
}

/// What `evaluate` and `report` judged: one account's snapshot, or an organisation's.
pub enum Evaluated {
    Account(Snapshot),
    Organization(OrgSnapshot, Vec<AccountResult>),
}

impl Evaluated {
    /// The evidence directory and its files (as hashed when read).
    pub fn evidence(&self) -> (&std::path::Path, &[crate::snapshot::SnapshotFile]) {
        match self {
            Evaluated::Account(snapshot) => (&snapshot.root, &snapshot.files),
            Evaluated::Organization(org, _) => (&org.root, &org.files),
        }
    }
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
    administer_at(report, period_end, catalog, args)
}

/// [`administer`] for an organisation: judged at the end of the header's review period (or
/// `--as-of`); the policy findings are the management account's.
pub fn administer_org(
    report: FindingsReport,
    org: &OrgSnapshot,
    catalog: &Catalog,
    args: &AdminArgs,
) -> Result<Administered, CliError> {
    let header = &org.header;
    let period_end = args.as_of.unwrap_or_else(|| {
        crate::evaluate::period_end_of(header.review_period.as_ref(), &header.collected_at)
            .date_naive()
    });
    administer_at(report, period_end, catalog, args)
}

fn administer_at(
    report: FindingsReport,
    period_end: NaiveDate,
    catalog: &Catalog,
    args: &AdminArgs,
) -> Result<Administered, CliError> {
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
        changes,
        ..
    } = report;
    // The policies are the snapshot's account's, or the organisation's management account's.
    let applied = attest::apply_for(findings, catalog, &admin, &reference.account_id);
    // The summary is recounted over the administered findings; the timeline is kept as it was.
    let mut report = FindingsReport::new(generated_at, reference, applied.findings);
    report.changes = changes;
    Ok(Administered {
        report,
        admin,
        exceptions: applied.exceptions,
        unmatched: applied.unmatched,
    })
}

/// Loads, evaluates and applies the administrative inputs: everything `evaluate` and `report`
/// share. Unmatched exceptions are warned about on stderr, so they never corrupt JSON or CSV on
/// stdout.
fn judge(
    snapshot_dir: &std::path::Path,
    judgement: &JudgementArgs,
    generated_at: String,
) -> Result<(Evaluated, Catalog, Administered), CliError> {
    let options = EvaluateOptions {
        access_log_max_age_hours: judgement.access_log_max_age,
    };
    let (evaluated, catalog, administered) = if is_org_snapshot(snapshot_dir) {
        let (org, accounts, catalog, report) = org_findings_with(
            snapshot_dir,
            judgement.controls.as_ref(),
            generated_at,
            options,
        )?;
        let administered = administer_org(report, &org, &catalog, &judgement.admin)?;
        (
            Evaluated::Organization(org, accounts),
            catalog,
            administered,
        )
    } else {
        let (snapshot, catalog, report) = findings_with(
            snapshot_dir,
            judgement.controls.as_ref(),
            generated_at,
            options,
        )?;
        let administered = administer(report, &snapshot, &catalog, &judgement.admin)?;
        (Evaluated::Account(snapshot), catalog, administered)
    };
    for unmatched in &administered.unmatched {
        eprintln!("warning: {unmatched}");
    }
    Ok((evaluated, catalog, administered))
}

fn run_evaluate(
    args: &EvaluateArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let generated_at = generated_at(args.generated_at.as_deref(), now)?;
    let (_, _, administered) = judge(&args.snapshot, &args.judgement, generated_at)?;
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

/// `report`: evaluates the snapshot and writes the bundle. Public so that `run` (collect, then
/// report) can call it on the directory collect has just written.
pub fn run_report(
    args: &ReportArgs,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let previous = load_previous(args.previous.as_deref())?;
    report_with_previous(args, previous.as_ref(), now, out)
}

/// `report` once `--previous` (if any) has been verified and read.
fn report_with_previous(
    args: &ReportArgs,
    previous: Option<&crate::diff::previous::PreviousBundle>,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<Outcome, CliError> {
    let generated_at = generated_at(args.generated_at.as_deref(), now)?;
    // Read the key first: a bad key should fail before minutes of rendering.
    let key = args
        .sign_key
        .as_deref()
        .map(crate::sign::SecretKey::load)
        .transpose()?;
    let tsa = args
        .timestamp_url
        .as_deref()
        .map(crate::timestamp::TsaClient::new)
        .transpose()?;
    let (evaluated, catalog, administered) = judge(&args.snapshot, &args.judgement, generated_at)?;
    let findings = administered.report;
    // Compared from memory: the findings after exceptions and the snapshot's bucket files.
    let changes = previous
        .map(|p| {
            let (root, files) = evaluated.evidence();
            p.changes_until(&args.out, &findings, root, files)
        })
        .transpose()?;
    if let Some(diff) = changes.as_ref().map(|c| &c.diff) {
        if !diff.same_account {
            eprintln!(
                "warning: --previous is of another account ({}) than this report ({})",
                diff.old.account_id, diff.new.account_id
            );
        }
    }
    let attestations: Vec<attest::Attestation> = administered
        .admin
        .attestations
        .iter()
        .flat_map(|file| file.entries.iter().map(|e| e.attestation.clone()))
        .collect();
    let exceptions: Vec<attest::RiskException> = administered
        .admin
        .exceptions
        .iter()
        .flat_map(|file| file.entries.iter().map(|e| e.exception.clone()))
        .collect();
    let admin = &args.judgement.admin;
    let files: Vec<PathBuf> = [&admin.attestations, &admin.exceptions]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    // The policy documents go into the bundle too, so the auditor can read what was approved;
    // one that could not be read is reported by its administrative finding instead.
    let documents: Vec<(String, PathBuf)> = administered
        .admin
        .attestations
        .iter()
        .flat_map(|file| file.entries.iter())
        .filter(|e| e.document_path.is_file())
        .filter_map(|e| {
            e.attestation
                .document
                .as_ref()
                .map(|d| (d.path.clone(), e.document_path.clone()))
        })
        .collect();
    let inputs = crate::bundle::BundleInputs {
        catalog: &catalog,
        findings: &findings,
        attestations: &attestations,
        exceptions: &exceptions,
        judged_at: Some(administered.admin.period_end),
        attestation_files: &files,
        attestation_documents: &documents,
        sign_key: key.as_ref(),
    };
    let extras = crate::bundle::Extras {
        previous: changes.as_ref(),
        timestamper: tsa
            .as_ref()
            .map(|t| t as &dyn crate::timestamp::Timestamper),
    };
    let summary = match &evaluated {
        Evaluated::Account(snapshot) => crate::bundle::write_with(
            &crate::bundle::BundleRequest {
                snapshot,
                catalog: inputs.catalog,
                findings: inputs.findings,
                attestations: inputs.attestations,
                exceptions: inputs.exceptions,
                judged_at: inputs.judged_at,
                attestation_files: inputs.attestation_files,
                attestation_documents: inputs.attestation_documents,
                sign_key: inputs.sign_key,
            },
            &extras,
            &args.out,
        )?,
        Evaluated::Organization(org, accounts) => crate::bundle::write_org(
            &crate::bundle::OrgBundleRequest {
                org,
                accounts,
                inputs,
            },
            &extras,
            &args.out,
        )?,
    };
    writeln!(
        out,
        "wrote {}: {} files, {} bytes; report.pdf {} pages\nMANIFEST.sha256 sha256 {}{}",
        summary.path.display(),
        summary.entries,
        summary.bytes,
        summary.pdf_pages,
        summary.manifest_sha256,
        summary
            .signed_by
            .map(|k| format!("\nsigned with minisign key {k}"))
            .unwrap_or_default()
    )?;
    if let Some(attested) = &summary.timestamp {
        writeln!(
            out,
            "timestamped {} by {} (token serial {})",
            attested.gen_time, attested.tsa, attested.serial
        )?;
    }
    Ok(Outcome::Done)
}

fn run_verify(args: &VerifyArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let key = args
        .public_key
        .as_deref()
        .map(crate::sign::PublicKey::load)
        .transpose()?;
    let tsa = args
        .tsa_cert
        .as_deref()
        .map(crate::timestamp::TsaTrust::load)
        .transpose()?;
    let report = crate::verify::verify_with_timestamp(&args.bundle, key.as_ref(), tsa.as_ref())?;
    out.write_all(report.render().as_bytes())?;
    out.flush()?;
    Ok(if report.intact() {
        Outcome::Done
    } else {
        Outcome::Tampered
    })
}

/// `diff`: verifies both bundles (a tampered one is refused with its verify listing, exit 1),
/// then compares them.
fn run_diff(args: &DiffArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut tampered = false;
    for path in [&args.old, &args.new] {
        let report = crate::verify::verify(path, None)?;
        if !report.intact() {
            writeln!(
                out,
                "{}: refusing to compare a bundle that does not verify",
                path.display()
            )?;
            out.write_all(report.render().as_bytes())?;
            tampered = true;
        }
    }
    if tampered {
        out.flush()?;
        return Ok(Outcome::Tampered);
    }
    let old = crate::diff::read_bundle(&args.old, &args.old.display().to_string())?;
    let new = crate::diff::read_bundle(&args.new, &args.new.display().to_string())?;
    let diff = crate::diff::compare(&old.side(), &new.side());
    if !diff.same_account {
        eprintln!(
            "warning: the bundles are of different accounts ({} and {})",
            diff.old.account_id, diff.new.account_id
        );
    }
    let text = match args.format {
        DiffFormat::Table => crate::diff::render::table(&diff),
        DiffFormat::Json => crate::diff::render::json(&diff),
        DiffFormat::Html => crate::diff::render::html(&diff)?,
    };
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Done)
}

fn run_merge(args: &MergeArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let summary = collect::merge::merge(&args.shards, &args.out)?;
    writeln!(
        out,
        "merged {} shards ({} accounts) into {}",
        summary.shards,
        summary.accounts,
        summary.out.display()
    )?;
    Ok(Outcome::Done)
}

fn run_keygen(args: &KeygenArgs, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let (secret, public, key) = crate::sign::keygen(&args.out)?;
    writeln!(
        out,
        "wrote {} (secret key, keep it private) and {} (public key, give it to the auditor)\nkey id {}",
        secret.display(),
        public.display(),
        key.key_id_hex()
    )?;
    Ok(Outcome::Done)
}
