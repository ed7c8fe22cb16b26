//! Command-line options of `phi-audit collect` (and the collect half of `phi-audit run`).
//!
//! Kept in the library so `main.rs` / `cli.rs` only flatten this struct into their subcommands.

use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

/// Default number of AWS API requests in flight at once. S3 control-plane calls are cheap for AWS
/// and each bucket needs ~13 of them, so 16 keeps a 2,000-bucket account to minutes without
/// provoking SlowDown throttling (which the SDK's retry would absorb anyway).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// Options of `phi-audit collect`.
#[derive(Debug, Clone, clap::Args)]
pub struct CollectArgs {
    /// Directory to write the snapshot to (must not exist, or be empty).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or the default credential chain).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,

    /// Region to collect (repeatable). Default: the regions the scope file names, else every
    /// region that holds a bucket, plus the profile's region. Buckets elsewhere are listed as out
    /// of scope.
    #[arg(long = "region", value_name = "R")]
    pub regions: Vec<String>,

    /// Send all requests to this endpoint (a local S3/CloudTrail emulator, a VPC endpoint).
    /// The standard AWS_ENDPOINT_URL variable works too. Implies path-style S3 addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Scope file (YAML): include/exclude bucket globs, tag selectors, regions.
    #[arg(long, value_name = "FILE")]
    pub scope: Option<PathBuf>,

    /// Start of the review period for CloudTrail configuration changes (RFC 3339 or YYYY-MM-DD).
    /// Default: 90 days before --until.
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<DateTime<Utc>>,

    /// End of the review period (RFC 3339, or YYYY-MM-DD meaning the end of that day, UTC).
    /// Default: the collection time.
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub until: Option<DateTime<Utc>>,

    /// Maximum number of AWS API requests in flight.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub concurrency: usize,

    /// Collection time to record instead of the clock (RFC 3339); for reproducible tests. Read by
    /// the command line only: the library takes the collection time as a value.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub collected_at: Option<DateTime<Utc>>,

    /// Organisation name to record in the snapshot (shown on the report).
    #[arg(long, value_name = "NAME")]
    pub organization: Option<String>,

    /// Whole-organisation collection (`--org` and the options that need it).
    #[command(flatten)]
    pub org: OrgArgs,
}

/// The role `collect --org` assumes in each member account unless `--role-name` says otherwise:
/// the one AWS Organizations creates in every account it creates.
pub const DEFAULT_ORG_ROLE: &str = "OrganizationAccountAccessRole";

/// Options of `collect --org` (docs/organizations.md).
#[derive(Debug, Clone, clap::Args)]
pub struct OrgArgs {
    /// Collect every active account of the AWS Organization (run with the management or a
    /// delegated-administrator account's credentials) into one snapshot, `accounts/<id>/` each.
    #[arg(long)]
    pub org: bool,

    /// The role to assume in each member account.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_ORG_ROLE, requires = "org",
          value_parser = parse_role_name)]
    pub role_name: String,

    /// External id to pass to AssumeRole (never written anywhere; the snapshot records only
    /// that one was used).
    #[arg(long, value_name = "ID", requires = "org")]
    pub external_id: Option<String>,

    /// Collect only these accounts (12-digit ids; comma-separated and/or repeated).
    #[arg(long, value_name = "ID,...", value_delimiter = ',', requires = "org",
          value_parser = parse_account_id)]
    pub accounts: Vec<String>,

    /// Leave these accounts out (12-digit ids; comma-separated and/or repeated).
    #[arg(long, value_name = "ID,...", value_delimiter = ',', requires = "org",
          value_parser = parse_account_id)]
    pub exclude_accounts: Vec<String>,

    /// Collect only shard K of N (1 ≤ K ≤ N): the selected account ids, sorted, dealt
    /// round-robin. Run N jobs with the same options and `--until`, then `phi-audit merge`.
    #[arg(long, value_name = "K/N", requires_all = ["org", "until"], value_parser = parse_shard)]
    pub shard: Option<Shard>,
}

impl Default for OrgArgs {
    fn default() -> Self {
        Self {
            org: false,
            role_name: DEFAULT_ORG_ROLE.to_owned(),
            external_id: None,
            accounts: Vec::new(),
            exclude_accounts: Vec::new(),
            shard: None,
        }
    }
}

/// `--shard K/N`: this job's 1-based index and the number of jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the account at 0-based `position` of the sorted selection is this shard's
    /// (round-robin, so shard sizes differ by at most one).
    pub fn holds(&self, position: usize) -> bool {
        position % self.count + 1 == self.index
    }
}

/// Parses `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("expected K/N with 1 <= K <= N, like 2/4 (got {text:?})");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let index: usize = k.trim().parse().map_err(|_| bad())?;
    let count: usize = n.trim().parse().map_err(|_| bad())?;
    if index == 0 || count == 0 || index > count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

/// An AWS account id: exactly 12 digits.
pub fn parse_account_id(text: &str) -> Result<String, String> {
    let id = text.trim();
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(format!("{text:?} is not an AWS account id (12 digits)"))
    }
}

/// An IAM role name (1-64 of letters, digits and `+=,.@_-`); a path is not accepted, so the
/// role ARN built from it always names a role of the target account.
fn parse_role_name(text: &str) -> Result<String, String> {
    let valid = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    if valid {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an IAM role name (1-64 letters, digits or +=,.@_-)"
        ))
    }
}

impl CollectArgs {
    /// Options with defaults for everything but the output directory (for library callers).
    pub fn new(out: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            profile: None,
            regions: Vec::new(),
            endpoint_url: None,
            scope: None,
            since: None,
            until: None,
            concurrency: DEFAULT_CONCURRENCY,
            collected_at: None,
            organization: None,
            org: OrgArgs::default(),
        }
    }
}

fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected an RFC 3339 time like 2026-01-31T00:00:00Z ({e})"))
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// `YYYY-MM-DD` means the start of that day (UTC).
pub fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    match parse_date(text) {
        Some(d) => Ok(d.and_time(NaiveTime::MIN).and_utc()),
        None => parse_rfc3339(text),
    }
}

/// `YYYY-MM-DD` means the end of that day (UTC), so `--until 2026-03-31` includes the 31st.
pub fn parse_until(text: &str) -> Result<DateTime<Utc>, String> {
    match parse_date(text) {
        Some(d) => Ok(d
            .and_hms_opt(23, 59, 59)
            .expect("valid time of day")
            .and_utc()),
        None => parse_rfc3339(text),
    }
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err("expected a number from 1 to 256".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days() {
        assert_eq!(
            parse_since("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_until("2026-03-31").unwrap().to_rfc3339(),
            "2026-03-31T23:59:59+00:00"
        );
        assert!(parse_until("31/03/2026").is_err());
        assert!(parse_concurrency("0").is_err());
    }

    #[test]
    fn shards_and_account_ids_are_validated() {
        assert_eq!(parse_shard("2/4"), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "4", "a/b", "-1/2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let shard = parse_shard("2/3").unwrap();
        let held: Vec<usize> = (0..7).filter(|&i| shard.holds(i)).collect();
        assert_eq!(held, [1, 4]);
        assert_eq!(parse_account_id("111122223333").unwrap(), "111122223333");
        for bad in [
            "11112222333",
            "1111222233334",
            "11112222333x",
            "../111122223",
        ] {
            assert!(parse_account_id(bad).is_err(), "{bad}");
        }
        assert!(parse_role_name("OrganizationAccountAccessRole").is_ok());
        assert!(parse_role_name("a/b").is_err() && parse_role_name("").is_err());
    }
}
