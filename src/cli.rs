//! The command line (docs/cli.md): each command parses its arguments ([`args`]), calls the
//! library, and prints what the library returns — the outputs, the closing message and the
//! warnings. Nothing here decides anything about the evidence; `main` turns the outcome into an
//! exit code through [`Outcome`] and [`ErrorKind`].

pub mod args;

use chrono::{DateTime, SecondsFormat, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use args::*;

use crate::audit::{Audit, AuditError, Judgement, Warning};
use crate::bundle::sign::{PublicKey, SecretKey, SignError};
use crate::bundle::timestamp::{TimestampError, Timestamper, TsaClient, TsaTrust};
use crate::bundle::verify::VerifyError;
use crate::collect::{self, CollectArgs, CollectError};
use crate::diff::previous::{PreviousBundle, PreviousError};
use crate::diff::DiffError;
use crate::evaluate::EvaluateOptions;
use crate::package::{BundleError, Options};
use crate::parallel::Threads;
use crate::report;

/// Why a command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error("--generated-at: \"{0}\" is not an RFC 3339 time (e.g. 2026-10-01T12:00:00Z)")]
    GeneratedAt(String),
    #[error("writing to standard output: {0}")]
    Output(#[source] std::io::Error),
    #[error("starting the collector's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error(transparent)]
    Report(#[from] report::ReportError),
    #[error(transparent)]
    Previous(#[from] PreviousError),
    #[error(transparent)]
    Timestamp(#[from] TimestampError),
    #[error(transparent)]
    Merge(#[from] collect::merge::MergeError),
}

/// What kind of failure an error is: `main` gives each its exit code (docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad usage or bad input: the user has something to fix (exit 2).
    Input,
    /// The disk, the network or a time-stamping authority failed (exit 74).
    Environment,
    /// A fault of phi-audit's own, such as a report that cannot be rendered (exit 70).
    Internal,
    /// Interrupted by the user (exit 130).
    Interrupted,
}

impl CliError {
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind::*;
        match self {
            CliError::Output(_) | CliError::Runtime(_) => Environment,
            CliError::Audit(AuditError::Output(_)) => Environment,
            CliError::Report(_) => Internal,
            CliError::Bundle(err) => match err {
                BundleError::Io { .. } | BundleError::Zip { .. } => Environment,
                BundleError::Report(_) => Internal,
                BundleError::Timestamp(err) => timestamp_kind(err),
                BundleError::EvidenceChanged { .. } | BundleError::Input(_) => Input,
            },
            CliError::Timestamp(err) => timestamp_kind(err),
            CliError::Sign(SignError::Random(_)) => Internal,
            CliError::Collect(err) => match err {
                CollectError::Interrupted => Interrupted,
                CollectError::Internal(_) => Internal,
                CollectError::Unreachable { .. } => Environment,
                CollectError::Write(collect::writer::WriteError::Io { .. }) => Environment,
                _ => Input,
            },
            CliError::Merge(collect::merge::MergeError::Write(
                collect::writer::WriteError::Io { .. },
            )) => Environment,
            _ => Input,
        }
    }
}

fn timestamp_kind(err: &TimestampError) -> ErrorKind {
    match err {
        TimestampError::Url { .. } | TimestampError::TsaCert { .. } => ErrorKind::Input,
        TimestampError::Random(_) => ErrorKind::Internal,
        _ => ErrorKind::Environment,
    }
}

/// The process exit status of a command that ran to completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Done,
    /// Exit 1: the `--fail-on` threshold was reached.
    ThresholdReached,
    /// Exit 1: `verify` or `diff` found a bundle changed, incomplete or wrongly signed.
    Tampered,
}

/// Runs a parsed command. `now` is the only clock reading, taken by `main`.
pub fn run(cli: Cli, now: DateTime<Utc>, out: &mut dyn Write) -> Result<Outcome, CliError> {
    let mut out = Stdout(out);
    match cli.command {
        Command::Evaluate(args) => run_evaluate(&args, now, &mut out),
        Command::Report(args) => run_report(&args, None, now, &mut out),
        Command::Verify(args) => run_verify(&args, &mut out),
        Command::Diff(args) => run_diff(&args, &mut out),
        Command::Keygen(args) => run_keygen(&args, &mut out),
        Command::Collect(args) => collect_into(&args, now).map(|_| Outcome::Done),
        Command::Run(args) => run_collect_then_report(*args, now, &mut out),
        Command::Merge(args) => run_merge(&args, &mut out),
    }
}

/// Standard output, whose write errors are [`CliError::Output`].
struct Stdout<'a>(&'a mut dyn Write);

impl Stdout<'_> {
    fn write(&mut self, text: &str) -> Result<(), CliError> {
        self.0.write_all(text.as_bytes()).map_err(CliError::Output)
    }

    fn flush(&mut self) -> Result<(), CliError> {
        self.0.flush().map_err(CliError::Output)
    }
}

/// Says which temporaries of killed runs were removed (on stderr, beside the summary line).
fn report_stale(removed: &[PathBuf]) {
    for path in removed {
        eprintln!("{}", crate::tempfiles::removal_notice(path));
    }
}

fn warn(warnings: &[Warning]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
}

fn generated_at(given: Option<&str>, now: DateTime<Utc>) -> Result<String, CliError> {
    match given {
        None => Ok(now.to_rfc3339_opts(SecondsFormat::Secs, true)),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|t| {
                t.with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            })
            .map_err(|_| CliError::GeneratedAt(text.to_string())),
    }
}

/// The library's judgement options from the command line's.
fn judgement(args: &JudgementArgs, generated_at: String) -> Judgement {
    Judgement {
        controls: args.controls.clone(),
        evaluate: EvaluateOptions {
            access_log_max_age_hours: args.access_log_max_age,
            threads: threads(args),
        },
        attestations: args.admin.attestations.clone(),
        exceptions: args.admin.exceptions.clone(),
        as_of: args.admin.as_of,
        generated_at,
    }
}

/// `--threads N`, else every core.
fn threads(args: &JudgementArgs) -> Threads {
    threads_or_every_core(args.threads)
}

fn threads_or_every_core(threads: Option<u16>) -> Threads {
    threads.map_or_else(Threads::available, |n| Threads::new(n.into()))
}

/// Builds the audit and prints its warnings (on stderr, so they never corrupt JSON or CSV).
fn audit(snapshot: &Path, args: &JudgementArgs, generated_at: String) -> Result<Audit, CliError> {
    let audit = Audit::build(snapshot, &judgement(args, generated_at))?;
    warn(&audit.warnings);
    Ok(audit)
}

/// `evaluate` writes its findings to standard output in writes of this size: a 10,000-bucket
/// fleet's findings.json is 175 MB, which a default 8 KiB buffer (behind standard output's line
/// buffer) had written in 42,000 system calls. Larger saves no time measurably.
const OUTPUT_BUFFER: usize = 256 << 10;

fn run_evaluate(
    args: &EvaluateArgs,
    now: DateTime<Utc>,
    out: &mut Stdout,
) -> Result<Outcome, CliError> {
    let generated_at = generated_at(args.generated_at.as_deref(), now)?;
    let mut buffered = std::io::BufWriter::with_capacity(OUTPUT_BUFFER, &mut *out.0);
    let audit = match args.format {
        // Streamed as the buckets are judged: no finding is held.
        OutputFormat::Json => {
            let judgement = judgement(&args.judgement, generated_at.clone());
            let mut json = report::json::FindingsJson::new(&mut buffered, generated_at);
            let audit = Audit::judge(&args.snapshot, &judgement, &mut json)
                .inspect_err(|_| incomplete("findings.json", json.written()))?;
            json.finish(&audit.findings).map_err(CliError::Output)?;
            warn(&audit.warnings);
            audit
        }
        OutputFormat::Table => {
            let audit = audit(&args.snapshot, &args.judgement, generated_at)?;
            report::table::write_table(&audit.findings, &mut buffered).map_err(CliError::Output)?;
            audit
        }
        // Streamed as the buckets are judged.
        OutputFormat::Csv => {
            let judgement = judgement(&args.judgement, generated_at);
            let mut csv = report::csv::FindingsCsv::new(&mut buffered);
            let audit = match Audit::judge(&args.snapshot, &judgement, &mut csv) {
                Ok(audit) => audit,
                Err(e) => {
                    incomplete("findings.csv", csv.written());
                    // Its last row says so too; an output that fails here has failed already.
                    let _ = csv.abandon();
                    return Err(e.into());
                }
            };
            csv.finish().map_err(CliError::Output)?;
            warn(&audit.warnings);
            audit
        }
    };
    buffered.flush().map_err(CliError::Output)?;
    match args.fail_on {
        Some(threshold) if audit.gate.reaches(threshold.into()) => Ok(Outcome::ThresholdReached),
        _ => Ok(Outcome::Done),
    }
}

/// Says that a streamed document stopped by an error (only an organisation's later account can
/// fail that late, docs/cli.md) is not to be used.
fn incomplete(document: &str, written: usize) {
    if written > 0 {
        eprintln!(
            "phi-audit: standard output holds an incomplete {document} ({written} findings before the error): discard it"
        );
    }
}

/// `report`. `previous` is `--previous` when `run` has already verified and read it.
fn run_report(
    args: &ReportArgs,
    previous: Option<PreviousBundle>,
    now: DateTime<Utc>,
    out: &mut Stdout,
) -> Result<Outcome, CliError> {
    let generated_at = generated_at(args.generated_at.as_deref(), now)?;
    // The key, the TSA address and the previous bundle are checked before minutes of work.
    let key = args.sign_key.as_deref().map(SecretKey::load).transpose()?;
    let tsa = args
        .timestamp_url
        .as_deref()
        .map(TsaClient::new)
        .transpose()?;
    let previous = match previous {
        Some(previous) => Some(previous),
        None => args
            .previous
            .as_deref()
            .map(|path| PreviousBundle::load(path, threads(&args.judgement)))
            .transpose()?,
    };
    let audit = audit(&args.snapshot, &args.judgement, generated_at)?;
    let mut previous = previous;
    let changes = previous
        .as_mut()
        .map(|p| p.changes_until(&args.out, &audit))
        .transpose()?;
    if let Some(diff) = changes.as_ref().map(|c| &c.diff) {
        if !diff.same_account {
            eprintln!(
                "warning: --previous is of another account ({}) than this report ({})",
                diff.old.account_id, diff.new.account_id
            );
        }
    }
    let options = Options {
        sign_key: key.as_ref(),
        previous: changes.as_ref(),
        timestamper: tsa.as_ref().map(|t| t as &dyn Timestamper),
        threads: threads(&args.judgement),
        ..Options::default()
    };
    let summary = crate::package::write(&audit, &options, &args.out)?;
    report_stale(&summary.stale_removed);
    out.write(&format!(
        "wrote {}: {} files, {} bytes; report.pdf {} pages\nMANIFEST.sha256 sha256 {}\n",
        summary.path.display(),
        summary.entries,
        summary.bytes,
        summary.pdf_pages,
        summary.manifest_sha256,
    ))?;
    if let Some(key) = &summary.signed_by {
        out.write(&format!("signed with minisign key {key}\n"))?;
    }
    if let Some(attested) = &summary.timestamp {
        out.write(&format!(
            "timestamped {} by {} (token serial {})\n",
            attested.gen_time, attested.tsa, attested.serial
        ))?;
    }
    Ok(Outcome::Done)
}

/// Collects into `args.out`. The tokio runtime lives only for the collection: everything else
/// in phi-audit is synchronous.
fn collect_into(args: &CollectArgs, now: DateTime<Utc>) -> Result<PathBuf, CliError> {
    // The clock is read once, in main; everything in the snapshot uses this instant.
    let collected_at = args.collected_at.unwrap_or(now);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let progress = collect::progress::for_stderr();
    if args.org.org {
        let summary = runtime.block_on(collect::org::run_org_collect(
            args,
            collected_at,
            progress.as_ref(),
        ))?;
        report_stale(&summary.stale_removed);
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
        summary
            .warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
        return Ok(summary.out);
    }
    let summary = runtime.block_on(collect::run_collect(args, collected_at, progress.as_ref()))?;
    report_stale(&summary.stale_removed);
    summary
        .warnings
        .iter()
        .for_each(|w| eprintln!("warning: {w}"));
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

/// `run`: `--previous` is verified first (a bad one fails before minutes of collection), then
/// collect, then report on the new snapshot.
fn run_collect_then_report(
    args: RunArgs,
    now: DateTime<Utc>,
    out: &mut Stdout,
) -> Result<Outcome, CliError> {
    let previous = args
        .previous
        .as_deref()
        .map(|path| PreviousBundle::load(path, threads(&args.judgement)))
        .transpose()?;
    let snapshot = collect_into(&args.collect, now)?;
    let report = ReportArgs {
        snapshot,
        out: args.bundle,
        generated_at: args.generated_at,
        judgement: args.judgement,
        sign_key: args.sign_key,
        previous: args.previous,
        timestamp_url: args.timestamp_url,
    };
    run_report(&report, previous, now, out)
}

fn run_verify(args: &VerifyArgs, out: &mut Stdout) -> Result<Outcome, CliError> {
    let key = args
        .public_key
        .as_deref()
        .map(PublicKey::load)
        .transpose()?;
    let tsa = args.tsa_cert.as_deref().map(TsaTrust::load).transpose()?;
    let report = crate::bundle::verify::verify_with_timestamp(
        &args.bundle,
        key.as_ref(),
        tsa.as_ref(),
        threads_or_every_core(args.threads),
    )?;
    out.write(&report.render())?;
    out.flush()?;
    Ok(if report.intact() {
        Outcome::Done
    } else {
        Outcome::Tampered
    })
}

/// `diff`: verifies both bundles, at once, each on one core (a tampered one is refused with its
/// verify listing, exit 1), then compares them.
fn run_diff(args: &DiffArgs, out: &mut Stdout) -> Result<Outcome, CliError> {
    let mut tampered = false;
    let paths = [&args.old, &args.new];
    let verified = crate::parallel::map(&paths, Threads::available(), |path| {
        crate::bundle::verify::verify(path, None, Threads::ONE)
    });
    for (path, report) in paths.into_iter().zip(verified) {
        let report = report?;
        if !report.intact() {
            out.write(&format!(
                "{}: refusing to compare a bundle that does not verify\n",
                path.display()
            ))?;
            out.write(&report.render())?;
            tampered = true;
        }
    }
    if tampered {
        out.flush()?;
        return Ok(Outcome::Tampered);
    }
    let mut old = crate::diff::OldSide::read(&args.old, &args.old.display().to_string())?;
    let new_label = args.new.display().to_string();
    let mut new = crate::diff::Bundle::open(&args.new)?;
    let diff = crate::diff::compare(
        &mut old,
        crate::diff::NewSide::Bundle {
            label: &new_label,
            bundle: &mut new,
        },
    )?;
    if !diff.same_account {
        eprintln!(
            "warning: the bundles are of different accounts ({} and {})",
            diff.old.account_id, diff.new.account_id
        );
    }
    let text = match args.format {
        DiffFormat::Table => report::diff::table(&diff),
        DiffFormat::Json => diff.json(),
        DiffFormat::Html => report::diff::html(&diff)?,
    };
    out.write(&text)?;
    out.flush()?;
    Ok(Outcome::Done)
}

fn run_merge(args: &MergeArgs, out: &mut Stdout) -> Result<Outcome, CliError> {
    let summary = collect::merge::merge(&args.shards, &args.out)?;
    report_stale(&summary.stale_removed);
    out.write(&format!(
        "merged {} shards ({} accounts) into {}\n",
        summary.shards,
        summary.accounts,
        summary.out.display()
    ))?;
    Ok(Outcome::Done)
}

fn run_keygen(args: &KeygenArgs, out: &mut Stdout) -> Result<Outcome, CliError> {
    let (secret, public, key) = crate::bundle::sign::keygen(&args.out)?;
    out.write(&format!(
        "wrote {} (secret key, keep it private) and {} (public key, give it to the auditor)\nkey id {}\n",
        secret.display(),
        public.display(),
        key.key_id_hex()
    ))?;
    Ok(Outcome::Done)
}
