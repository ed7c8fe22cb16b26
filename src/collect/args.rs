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

    /// Collection time to record instead of the clock (RFC 3339); for reproducible tests.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339)]
    pub collected_at: Option<DateTime<Utc>>,

    /// Organisation name to record in the snapshot (shown on the report).
    #[arg(long, value_name = "NAME")]
    pub organization: Option<String>,
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
}
