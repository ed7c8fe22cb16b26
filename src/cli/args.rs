//! The command line's arguments (docs/cli.md): what clap parses, and nothing else. The
//! commands themselves are in [`super`].

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use crate::collect::CollectArgs;
use crate::findings::Severity;

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
    /// Threads to read, judge and write on (default: every core). The output is the same
    /// bytes on any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
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
    /// Threads to hash the entries on (default: every core). The listing is the same on any
    /// number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
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
