//! The snapshot reader (docs/snapshot-format.md): loads a snapshot directory into typed evidence.
//!
//! Every API answer becomes an [`Evidence`]: the parsed response, a documented "not configured"
//! answer (itself evidence), or `Unavailable` when the call failed (AccessDenied, throttling) or
//! was never recorded. The evaluator turns `Unavailable` into `error` findings, never a pass.
//!
//! A snapshot that is not what `collect` writes (bad JSON, a RESULT that is neither `ok` nor
//! `error`, a response of the wrong shape, a policy that is not valid JSON, a time that does not
//! parse) is rejected with a [`SnapshotError`] naming the file and the JSON pointer, because
//! guessing would be worse. Recorded AWS answers are read strictly ([`strict`]): a member that
//! differs from a known one only by case, or a missing required member, is such an error; an
//! unknown member is a [`SnapshotWarning`] kept on the [`Snapshot`].
//!
//! The format itself (names, layout, operations) is [`crate::schema`]'s; every time is read
//! once, here, into a [`Timestamp`].

pub mod aws;
pub mod cloudtrail;
pub mod custody;
pub mod iam;
pub mod kms;
pub mod org;
pub mod policy;
pub mod strict;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::parallel::{self, Threads};
use crate::schema::{
    Collector, Operation, ScopeExclusion, Timestamp, ACCESS_LOGS_DIR, BUCKETS_DIR, CLOUDTRAIL_DIR,
    IAM_DIR, IAM_POLICIES_STEM, KMS_ALIASES_STEM, KMS_DIR, META_FILE, SNAPSHOT_FORMAT,
};
use aws::*;
use policy::PolicyDocument;
pub use strict::SnapshotWarning;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON: {message} (line {line}, column {column})")]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {}{message}", at_pointer(pointer))]
    Invalid {
        path: PathBuf,
        pointer: String,
        message: String,
    },
}

fn at_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!("{pointer}: ")
    }
}

/// What one API call told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence<T> {
    /// The call answered with a configuration.
    Found(T),
    /// AWS answered that nothing is configured (NoSuchBucketPolicy, ...): evidence of absence.
    NotConfigured,
    /// The call failed or was never made: nothing is known.
    Unavailable(Unavailable),
}

/// Why evidence is missing, in words for a finding's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    pub operation: Operation,
    /// The AWS error code, or `NotCollected` when the call is absent from the snapshot.
    pub code: String,
    pub message: String,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code == NOT_COLLECTED {
            write!(f, "{} was not collected", self.operation)
        } else if self.message.is_empty() {
            write!(f, "{} failed with {}", self.operation, self.code)
        } else {
            write!(
                f,
                "{} failed with {} ({})",
                self.operation, self.code, self.message
            )
        }
    }
}

/// The error code of an answer that is absent from the snapshot (the call was never made).
pub const NOT_COLLECTED: &str = "NotCollected";

impl<T> Evidence<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Evidence::Found(value) => Some(value),
            _ => None,
        }
    }

    pub fn unavailable(&self) -> Option<&Unavailable> {
        match self {
            Evidence::Unavailable(why) => Some(why),
            _ => None,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Evidence<U> {
        match self {
            Evidence::Found(value) => Evidence::Found(f(value)),
            Evidence::NotConfigured => Evidence::NotConfigured,
            Evidence::Unavailable(why) => Evidence::Unavailable(why),
        }
    }
}

/// The review period the evidence covers (from `collect --since/--until`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewPeriod {
    pub since: Timestamp,
    pub until: Timestamp,
}

/// `snapshot.json`: who, when, where.
#[derive(Debug, Clone)]
pub struct SnapshotMeta {
    pub collected_at: Timestamp,
    pub tool_version: String,
    pub account_id: String,
    pub partition: String,
    pub regions: Vec<String>,
    pub organization: Option<String>,
    pub review_period: Option<ReviewPeriod>,
    /// The scope as collect recorded it (include/exclude globs, tag selectors, regions).
    pub scope: Value,
    /// `scope.exclude`: the exclusion globs with their justification and approver.
    pub exclusions: Vec<ScopeExclusion>,
    /// Who collected the snapshot, and how (`None`: not recorded, an older snapshot).
    pub collector: Option<Collector>,
    /// `scope.ephi`: tag key → values that designate a bucket as holding ePHI besides the
    /// defaults (evaluate::ephi decides).
    pub ephi_selectors: BTreeMap<String, Vec<String>>,
    /// Account-level Block Public Access (s3control GetPublicAccessBlock).
    pub account_public_access_block: Evidence<PublicAccessBlock>,
}

/// One bucket's evidence, typed.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    pub region: String,
    pub collected_at: Timestamp,
    pub in_scope: bool,
    pub scope_reason: Option<String>,
    pub location: Evidence<Location>,
    pub acl: Evidence<Acl>,
    pub policy: Evidence<PolicyDocument>,
    pub policy_status: Evidence<PolicyStatus>,
    pub public_access_block: Evidence<PublicAccessBlock>,
    pub ownership: Evidence<OwnershipControls>,
    pub versioning: Evidence<Versioning>,
    pub encryption: Evidence<EncryptionConfiguration>,
    pub logging: Evidence<Logging>,
    pub object_lock: Evidence<ObjectLockConfiguration>,
    pub lifecycle: Evidence<Lifecycle>,
    pub replication: Evidence<ReplicationConfiguration>,
    pub tags: Evidence<Vec<Tag>>,
}

impl Bucket {
    /// The evidence reference of one call, e.g. `buckets/b.json#/calls/GetBucketAcl`.
    pub fn evidence_ref(&self, operation: Operation) -> String {
        format!("{BUCKETS_DIR}/{}.json#/calls/{operation}", self.name)
    }

    pub fn subject(&self) -> String {
        format!("s3://{}", self.name)
    }
}

/// What the report's inventory shows of a bucket: kept for every bucket of an organisation
/// while the buckets' evidence itself is dropped account by account.
#[derive(Debug, Clone)]
pub struct BucketListing {
    pub name: String,
    pub region: String,
    pub in_scope: bool,
    pub scope_reason: Option<String>,
    pub tags: Evidence<Vec<Tag>>,
    /// Whether the bucket holds ePHI (`None` out of scope), as `evaluate::ephi` decided.
    pub ephi: Option<EphiDesignation>,
}

impl BucketListing {
    /// Whether the bucket is designated to hold ePHI (never when out of scope).
    pub fn holds_ephi(&self) -> bool {
        self.ephi.as_ref().is_some_and(|d| d.ephi)
    }
}

/// Whether a bucket holds ePHI, and on what grounds (decided by `evaluate::ephi`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EphiDesignation {
    pub ephi: bool,
    pub basis: EphiBasis,
}

/// The grounds of an [`EphiDesignation`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EphiBasis {
    /// A designating tag (`key`, `value` as recorded).
    Tag { key: String, value: String },
    /// Some in-scope bucket carries a designating tag key; this one has none with a designating
    /// value.
    NotDesignated,
    /// No in-scope bucket carries a designating tag key at all: every in-scope bucket counts.
    NoBucketDesignated,
    /// The bucket's tags could not be read: it counts as ePHI rather than be left out.
    TagsUnreadable,
}

impl EphiDesignation {
    /// The basis as findings.json's `ephi_basis` spells it: `tag:<key>=<value>`,
    /// `not_designated`, `no_bucket_designated` or `tags_unreadable`.
    pub fn basis_code(&self) -> String {
        match &self.basis {
            EphiBasis::Tag { key, value } if self.ephi => format!("tag:{key}={value}"),
            EphiBasis::Tag { .. } | EphiBasis::NotDesignated => "not_designated".to_string(),
            EphiBasis::NoBucketDesignated => "no_bucket_designated".to_string(),
            EphiBasis::TagsUnreadable => "tags_unreadable".to_string(),
        }
    }

    /// One sentence for the report.
    pub fn describe(&self) -> String {
        match &self.basis {
            EphiBasis::Tag { key, value } => format!("holds ePHI: tagged {key}={value}"),
            EphiBasis::NotDesignated => "not designated ePHI (no designating tag)".to_string(),
            EphiBasis::NoBucketDesignated => "counted as ePHI: no in-scope bucket carries an ePHI designation tag, so every in-scope bucket counts".to_string(),
            EphiBasis::TagsUnreadable => "counted as ePHI: its tags could not be read".to_string(),
        }
    }
}

impl Bucket {
    /// The listing, with the designation `evaluate::ephi` gave the bucket.
    pub fn listing(&self, ephi: Option<EphiDesignation>) -> BucketListing {
        BucketListing {
            name: self.name.clone(),
            region: self.region.clone(),
            in_scope: self.in_scope,
            scope_reason: self.scope_reason.clone(),
            tags: self.tags.clone(),
            ephi,
        }
    }
}

/// Evidence reference of the account-level Block Public Access answer (s3control
/// GetPublicAccessBlock, recorded in `snapshot.json`).
pub const ACCOUNT_PUBLIC_ACCESS_BLOCK_REF: &str = "snapshot.json#/account/GetPublicAccessBlock";

/// One file of the snapshot with its SHA-256, for the digest and the bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Path relative to the snapshot directory, with `/` separators.
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub root: PathBuf,
    pub meta: SnapshotMeta,
    /// In name order.
    pub buckets: Vec<Bucket>,
    /// The CloudTrail files (`cloudtrail/<region>.json`), typed.
    pub trails: cloudtrail::CloudTrail,
    /// The access-log files, typed, by the bucket whose logs they are.
    pub access_log_evidence: BTreeMap<String, cloudtrail::AccessLogEvidence>,
    /// The KMS keys (`kms/<region>/<key-id>.json`) and alias listings, typed.
    pub kms: kms::Kms,
    /// The identity evidence (`iam/`); every answer `NotCollected` when the directory is absent.
    pub iam: iam::IamEvidence,
    /// Unknown members of recorded answers, in file order: read past, changing no verdict.
    pub warnings: Vec<SnapshotWarning>,
    /// Every file, sorted by path.
    pub files: Vec<SnapshotFile>,
    /// SHA-256 of the lines `"<sha256>  <path>\n"` of every file in path order: the same as
    /// `find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum` run
    /// inside the directory.
    pub digest: String,
}

impl Snapshot {
    pub fn in_scope_buckets(&self) -> impl Iterator<Item = &Bucket> {
        self.buckets.iter().filter(|bucket| bucket.in_scope)
    }

    /// Loads and checks a snapshot directory, on the calling thread.
    pub fn load(root: &Path) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_with(root, Threads::ONE)
    }

    /// Loads and checks a snapshot directory, reading, hashing and parsing its files on up to
    /// `threads` threads. The result, its warnings and the first error are those of reading the
    /// files one by one in path order.
    pub fn load_with(root: &Path, threads: Threads) -> Result<Snapshot, SnapshotError> {
        let meta_path = root.join(META_FILE);
        if !meta_path.is_file() {
            return Err(SnapshotError::Invalid {
                path: root.to_path_buf(),
                pointer: String::new(),
                message: format!("not a snapshot directory: {META_FILE} is missing"),
            });
        }
        let mut files = Vec::new();
        collect_files(root, root, &mut files)?;
        files.sort();
        let read = parallel::map(&files, threads, |relative| read_file(root, relative));

        let mut hashed = Vec::with_capacity(files.len());
        let mut meta = None;
        // Sized once: ten thousand buckets are 9 MB, and a doubling vector holds up to twice that.
        let mut buckets = Vec::with_capacity(files.len());
        let mut trails = cloudtrail::CloudTrail::default();
        let mut access_log_evidence = BTreeMap::new();
        let mut keys = kms::Kms::default();
        let mut identity = iam::IamEvidence::default();
        let mut warnings = Vec::new();
        for (relative, file) in files.iter().zip(read) {
            let file = file?;
            hashed.push(SnapshotFile {
                path: relative.clone(),
                sha256: file.sha256,
            });
            let (bytes, path, stem, dir) = match file.content {
                Content::Other => continue,
                Content::Bucket(bucket, mut own) => {
                    warnings.append(&mut own);
                    buckets.push(*bucket);
                    continue;
                }
                Content::AccessLog(stem, evidence, mut own) => {
                    warnings.append(&mut own);
                    access_log_evidence.insert(stem, evidence);
                    continue;
                }
                Content::Json { bytes, stem, dir } => (bytes, root.join(relative), stem, dir),
            };
            let (stem, file) = (
                stem.as_str(),
                relative.rsplit('/').next().unwrap_or(relative),
            );
            match dir.as_str() {
                "" if file == META_FILE => meta = Some(read_meta(&path, &bytes, &mut warnings)?),
                CLOUDTRAIL_DIR => {
                    let value = parse_json(&path, &bytes)?;
                    trails.regions.insert(
                        stem.to_string(),
                        cloudtrail::parse_region(&path, stem, &value, &mut warnings)?,
                    );
                }
                IAM_DIR if stem == IAM_POLICIES_STEM => {
                    let value = parse_json(&path, &bytes)?;
                    let file = Operation::iam_policies_file();
                    iam::read_policies(&path, &file, &value, &mut identity, &mut warnings)?;
                }
                IAM_DIR => {
                    let operation = (Operation::IAM.into_iter())
                        .find(|op| op.aws_name() == stem)
                        .ok_or_else(|| {
                            invalid(
                                &path,
                                "",
                                "is not a file of an IAM operation phi-audit records",
                            )
                        })?;
                    let value = parse_json(&path, &bytes)?;
                    iam::read(&path, operation, &value, &mut identity, &mut warnings)?;
                }
                _ => {
                    if let Some(region) =
                        dir.strip_prefix(KMS_DIR).and_then(|r| r.strip_prefix('/'))
                    {
                        let value = parse_json(&path, &bytes)?;
                        if stem == KMS_ALIASES_STEM {
                            let aliases = kms::parse_aliases(&path, region, &value, &mut warnings)?;
                            keys.aliases.insert(region.to_string(), aliases);
                        } else {
                            let key = kms::parse_key(&path, region, stem, &value, &mut warnings)?;
                            keys.keys
                                .insert((region.to_string(), stem.to_string()), key);
                        }
                    }
                }
            }
        }
        let digest = digest_of(&hashed);
        Ok(Snapshot {
            root: root.to_path_buf(),
            meta: meta.expect("snapshot.json exists, checked above"),
            buckets,
            trails,
            access_log_evidence,
            kms: keys,
            iam: identity,
            warnings,
            files: hashed,
            digest,
        })
    }
}

/// One snapshot file as read on a worker thread: its hash, and a bucket or access-log file
/// already parsed (there is one of each per bucket).
struct ReadFile {
    sha256: String,
    content: Content,
}

enum Content {
    /// Not a `.json` file: hashed only.
    Other,
    /// A bucket file, parsed, with the warnings it gave.
    Bucket(Box<Bucket>, Vec<SnapshotWarning>),
    /// An access-log listing (its stem names the bucket), parsed, with the warnings it gave.
    AccessLog(String, cloudtrail::AccessLogEvidence, Vec<SnapshotWarning>),
    /// Any other JSON file, parsed in order on the calling thread.
    Json {
        bytes: Vec<u8>,
        stem: String,
        dir: String,
    },
}

/// Reads, hashes and (for a bucket or access-log file) parses the snapshot file at `relative`.
fn read_file(root: &Path, relative: &str) -> Result<ReadFile, SnapshotError> {
    let path = root.join(relative);
    let bytes = std::fs::read(&path).map_err(|source| SnapshotError::Io {
        path: path.clone(),
        source,
    })?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let (dir, file) = relative.rsplit_once('/').unwrap_or(("", relative));
    let content = match file.strip_suffix(".json") {
        None => Content::Other,
        Some(stem) if dir == BUCKETS_DIR => {
            let mut warnings = Vec::new();
            let bucket = read_bucket(&path, stem, &bytes, &mut warnings)?;
            Content::Bucket(Box::new(bucket), warnings)
        }
        Some(stem) if dir == ACCESS_LOGS_DIR => {
            let mut warnings = Vec::new();
            let value = parse_json(&path, &bytes)?;
            let evidence = cloudtrail::parse_access_log(&path, &value, &mut warnings)?;
            Content::AccessLog(stem.to_string(), evidence, warnings)
        }
        Some(stem) => Content::Json {
            bytes,
            stem: stem.to_string(),
            dir: dir.to_string(),
        },
    };
    Ok(ReadFile { sha256, content })
}

/// The snapshot digest over already hashed files (see [`Snapshot::digest`]).
pub fn digest_of(files: &[SnapshotFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(format!("{}  {}\n", file.sha256, file.path).as_bytes());
    }
    hex(&hasher.finalize())
}

/// Lower-case hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io)?;
        if kind.is_symlink() {
            return Err(SnapshotError::Invalid {
                path,
                pointer: String::new(),
                message: "symbolic links are not allowed in a snapshot".to_string(),
            });
        }
        if kind.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            let relative = path
                .strip_prefix(root)
                .expect("walked from root")
                .to_str()
                .ok_or_else(|| SnapshotError::Invalid {
                    path: path.clone(),
                    pointer: String::new(),
                    message: "file name is not UTF-8".to_string(),
                })?
                .replace('\\', "/");
            out.push(relative);
        }
    }
    Ok(())
}

fn parse_json(path: &Path, bytes: &[u8]) -> Result<Value, SnapshotError> {
    serde_json::from_slice(bytes).map_err(|err| SnapshotError::Json {
        path: path.to_path_buf(),
        line: err.line(),
        column: err.column(),
        message: err.to_string(),
    })
}

fn invalid(path: &Path, pointer: impl Into<String>, message: impl Into<String>) -> SnapshotError {
    SnapshotError::Invalid {
        path: path.to_path_buf(),
        pointer: pointer.into(),
        message: message.into(),
    }
}

fn required_str(path: &Path, object: &Value, member: &str) -> Result<String, SnapshotError> {
    object
        .get(member)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid(path, format!("/{member}"), "is missing or not a string"))
}

/// Parses `snapshot.json` (exposed for tests and tools; warnings are dropped here, kept by
/// [`Snapshot::load`]).
pub fn parse_meta(path: &Path, bytes: &[u8]) -> Result<SnapshotMeta, SnapshotError> {
    read_meta(path, bytes, &mut Vec::new())
}

fn read_meta(
    path: &Path,
    bytes: &[u8],
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<SnapshotMeta, SnapshotError> {
    let value = parse_json(path, bytes)?;
    let format = required_str(path, &value, "format")?;
    if format != SNAPSHOT_FORMAT {
        return Err(invalid(
            path,
            "/format",
            format!("is \"{format}\"; this version of phi-audit reads \"{SNAPSHOT_FORMAT}\""),
        ));
    }
    let collected_at = required_time(path, &value, "collected_at")?;
    let regions = match value.get("regions") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|r| r.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(path, "/regions", "must be a list of strings"))?,
        Some(_) => return Err(invalid(path, "/regions", "must be a list of strings")),
    };
    let review_period = review_period(path, &value)?;
    let account = value.get("account").unwrap_or(&Value::Null);
    let account_public_access_block = typed_call::<PublicAccessBlockResponse>(
        path,
        "/account",
        account,
        Operation::S3ControlGetPublicAccessBlock,
        warnings,
    )?
    .map(|response| response.public_access_block_configuration);
    Ok(SnapshotMeta {
        collected_at,
        tool_version: value
            .get("tool_version")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        account_id: required_str(path, &value, "account_id")?,
        partition: value
            .get("partition")
            .and_then(Value::as_str)
            .unwrap_or("aws")
            .to_string(),
        regions,
        organization: value
            .get("organization")
            .and_then(Value::as_str)
            .map(str::to_string),
        review_period,
        ephi_selectors: ephi_selectors(path, &value)?,
        exclusions: custody::exclusions(path, &value, warnings)?,
        collector: custody::collector(path, &value, warnings)?,
        scope: sorted_keys(value.get("scope").cloned().unwrap_or(Value::Null)),
        account_public_access_block,
    })
}

/// The same value with every object's keys in sorted order. serde_json keeps insertion order
/// when some dependency turns on its `preserve_order` feature (which differs between test and
/// release builds), so anything rendered from raw JSON is sorted first: the same snapshot must
/// give the same bytes whatever the build.
pub fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

/// `scope.ephi` of snapshot.json: absent, or an object of tag key → list of values.
fn ephi_selectors(
    path: &Path,
    value: &Value,
) -> Result<BTreeMap<String, Vec<String>>, SnapshotError> {
    let Some(selectors) = value.get("scope").and_then(|scope| scope.get("ephi")) else {
        return Ok(BTreeMap::new());
    };
    let object = selectors
        .as_object()
        .ok_or_else(|| invalid(path, "/scope/ephi", "must be an object of tag key → values"))?;
    let mut out = BTreeMap::new();
    for (key, values) in object {
        let pointer = format!("/scope/ephi/{}", strict::escape(key));
        let values = values
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .filter(|values| !values.is_empty())
            .ok_or_else(|| invalid(path, &pointer, "must be a non-empty list of strings"))?;
        out.insert(key.clone(), values);
    }
    Ok(out)
}

/// The RFC 3339 time at `/<member>` of `object`, which must be there.
fn required_time(path: &Path, object: &Value, member: &str) -> Result<Timestamp, SnapshotError> {
    let text = required_str(path, object, member)?;
    Timestamp::parse(&text).map_err(|message| invalid(path, format!("/{member}"), message))
}

/// `review_period` of a snapshot.json or an org header: absent, or both times.
fn review_period(path: &Path, value: &Value) -> Result<Option<ReviewPeriod>, SnapshotError> {
    let period = match value.get("review_period") {
        None | Some(Value::Null) => return Ok(None),
        Some(period) => period,
    };
    let part = |member: &str| {
        let pointer = format!("/review_period/{member}");
        let text = period
            .get(member)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(path, &pointer, "is missing or not a string"))?;
        Timestamp::parse(text).map_err(|message| invalid(path, &pointer, message))
    };
    Ok(Some(ReviewPeriod {
        since: part("since")?,
        until: part("until")?,
    }))
}

/// Parses one `buckets/<stem>.json` file (exposed for tests and tools that build buckets;
/// warnings are dropped here, kept by [`Snapshot::load`]).
pub fn parse_bucket(path: &Path, stem: &str, bytes: &[u8]) -> Result<Bucket, SnapshotError> {
    read_bucket(path, stem, bytes, &mut Vec::new())
}
/// The members of `calls`: a recorded bucket operation; one that differs from a known operation
/// only by case is bad input (a typo must not hide an answer); any other is an operation
/// phi-audit does not record, read past with a warning.
fn check_operations(
    path: &Path,
    calls: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<(), SnapshotError> {
    for name in calls.as_object().into_iter().flat_map(|calls| calls.keys()) {
        if Operation::bucket_operation(name).is_some() {
            continue;
        }
        let pointer = format!("/calls/{}", strict::escape(name));
        let near = Operation::BUCKET
            .iter()
            .find(|op| op.aws_name().eq_ignore_ascii_case(name));
        if let Some(known) = near {
            return Err(invalid(
                path,
                pointer,
                format!(
                    "differs from the known operation `{}` only by case",
                    known.aws_name()
                ),
            ));
        }
        warnings.push(SnapshotWarning {
            path: path.to_path_buf(),
            pointer,
            message: "is not an operation phi-audit records; it was ignored".to_string(),
        });
    }
    Ok(())
}

fn read_bucket(
    path: &Path,
    stem: &str,
    bytes: &[u8],
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Bucket, SnapshotError> {
    let value = parse_json(path, bytes)?;
    let name = required_str(path, &value, "name")?;
    if name != stem {
        return Err(invalid(
            path,
            "/name",
            format!("is \"{name}\" but the file is named for \"{stem}\""),
        ));
    }
    let calls = match value.get("calls") {
        Some(calls @ Value::Object(_)) => calls,
        _ => return Err(invalid(path, "/calls", "is missing or not an object")),
    };
    check_operations(path, calls, warnings)?;
    macro_rules! call {
        ($operation:ident) => {
            typed_call(path, "/calls", calls, Operation::$operation, warnings)?
        };
    }
    let policy = match call!(GetBucketPolicy) {
        Evidence::Found(PolicyResponse { policy }) => {
            let document = PolicyDocument::parse(&policy).map_err(|err| {
                invalid(
                    path,
                    format!("/calls/GetBucketPolicy/ok/Policy{}", err.pointer),
                    err.message,
                )
            })?;
            Evidence::Found(document)
        }
        Evidence::NotConfigured => Evidence::NotConfigured,
        Evidence::Unavailable(why) => Evidence::Unavailable(why),
    };
    let location: Evidence<Location> = call!(GetBucketLocation);
    let region = match (&location, value.get("region").and_then(Value::as_str)) {
        (_, Some(region)) => region.to_string(),
        (Evidence::Found(location), None) => location.region(),
        _ => String::new(),
    };
    Ok(Bucket {
        collected_at: required_time(path, &value, "collected_at")?,
        in_scope: match value.get("in_scope") {
            None => true,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(invalid(path, "/in_scope", "must be true or false")),
        },
        scope_reason: value
            .get("scope_reason")
            .and_then(Value::as_str)
            .map(str::to_string),
        region,
        location,
        acl: call!(GetBucketAcl),
        policy,
        policy_status: call!(GetBucketPolicyStatus).map(|r: PolicyStatusResponse| r.policy_status),
        public_access_block: call!(GetPublicAccessBlock)
            .map(|r: PublicAccessBlockResponse| r.public_access_block_configuration),
        ownership: call!(GetBucketOwnershipControls)
            .map(|r: OwnershipControlsResponse| r.ownership_controls),
        versioning: call!(GetBucketVersioning),
        encryption: call!(GetBucketEncryption)
            .map(|r: EncryptionResponse| r.server_side_encryption_configuration),
        logging: call!(GetBucketLogging),
        object_lock: call!(GetObjectLockConfiguration)
            .map(|r: ObjectLockResponse| r.object_lock_configuration),
        lifecycle: call!(GetBucketLifecycleConfiguration),
        replication: call!(GetBucketReplication)
            .map(|r: ReplicationResponse| r.replication_configuration),
        tags: call!(GetBucketTagging).map(|t: Tagging| t.tag_set),
        name,
    })
}

/// Reads one RESULT (`{"ok": ...}` or `{"error": {...}}`) from `calls[operation]`: an `ok`
/// answer is checked against its shape (strictly, see [`strict`]) and then deserialised; an
/// error is "not configured" when the operation says its code means so.
pub(crate) fn typed_call<T: Answer>(
    path: &Path,
    base: &str,
    calls: &Value,
    operation: Operation,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Evidence<T>, SnapshotError> {
    let pointer = format!("{base}/{operation}");
    let Some(result) = calls.get(operation.aws_name()) else {
        return Ok(Evidence::Unavailable(Unavailable {
            operation,
            code: NOT_COLLECTED.to_string(),
            message: String::new(),
        }));
    };
    typed_result(path, &pointer, result, operation, warnings)
}

/// Reads one RESULT found at `pointer` of `path` (`""` when the whole file is the RESULT).
pub(crate) fn typed_result<T: Answer>(
    path: &Path,
    pointer: &str,
    result: &Value,
    operation: Operation,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Evidence<T>, SnapshotError> {
    let object = result
        .as_object()
        .ok_or_else(|| invalid(path, pointer, "must be {\"ok\": ...} or {\"error\": ...}"))?;
    match (object.get("ok"), object.get("error"), object.len()) {
        (Some(ok), None, 1) => {
            let pointer = format!("{pointer}/ok");
            strict::check(path, &pointer, ok, T::shape(), warnings)?;
            Ok(Evidence::Found(shape(path, &pointer, ok)?))
        }
        (None, Some(error), 1) => {
            let code = error.get("code").and_then(Value::as_str).ok_or_else(|| {
                invalid(
                    path,
                    format!("{pointer}/error/code"),
                    "is missing or not a string",
                )
            })?;
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if operation.means_not_configured(code) {
                Ok(Evidence::NotConfigured)
            } else {
                Ok(Evidence::Unavailable(Unavailable {
                    operation,
                    code: code.to_string(),
                    message: message.to_string(),
                }))
            }
        }
        _ => Err(invalid(
            path,
            pointer,
            "must hold exactly one of \"ok\" or \"error\"",
        )),
    }
}

/// Reads a typed response from a borrowed JSON value (no copy of the tree).
fn shape<T: serde::de::DeserializeOwned>(
    path: &Path,
    pointer: &str,
    value: &Value,
) -> Result<T, SnapshotError> {
    T::deserialize(value).map_err(|err| {
        invalid(
            path,
            pointer,
            format!("does not have the shape `aws s3api` prints: {err}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_block_public_access_reference_names_the_recorded_member() {
        assert_eq!(
            ACCOUNT_PUBLIC_ACCESS_BLOCK_REF,
            format!(
                "{META_FILE}#/account/{}",
                Operation::S3ControlGetPublicAccessBlock
            )
        );
    }

    #[test]
    fn times_are_parsed_at_load_and_a_bad_one_names_file_and_pointer() {
        let bucket = |collected_at: &str| {
            format!(r#"{{"name":"b","region":"us-east-1",{collected_at}"calls":{{}}}}"#)
        };
        let path = Path::new("buckets/b.json");
        let ok = parse_bucket(
            path,
            "b",
            bucket(r#""collected_at":"2026-10-01T06:00:00+02:00","#).as_bytes(),
        )
        .unwrap();
        assert_eq!(ok.collected_at.to_string(), "2026-10-01T06:00:00+02:00");
        assert_eq!(
            ok.collected_at.utc().to_rfc3339(),
            "2026-10-01T04:00:00+00:00"
        );
        let err = |text: String| {
            parse_bucket(path, "b", text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(bucket(r#""collected_at":"2026-10-01","#)),
            "buckets/b.json: /collected_at: \"2026-10-01\" is not an RFC 3339 time: premature end of input"
        );
        assert_eq!(
            err(bucket("")),
            "buckets/b.json: /collected_at: is missing or not a string"
        );
        let meta = br#"{"format":"phi-audit-snapshot/1","collected_at":"2026-10-01T06:00:00Z","account_id":"1",
            "review_period":{"since":"2026-07-03T06:00:00Z","until":"2026-13-01T00:00:00Z"},"account":{}}"#;
        let err = parse_meta(Path::new("snapshot.json"), meta)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("snapshot.json: /review_period/until: \"2026-13-01T00:00:00Z\" is not an RFC 3339 time"),
            "{err}"
        );
    }

    #[test]
    fn an_operation_named_with_the_wrong_case_is_refused_and_an_unrecorded_one_is_a_warning() {
        let path = Path::new("buckets/b.json");
        let bucket = |call: &str| {
            format!(
                r#"{{"name":"b","region":"us-east-1","collected_at":"2026-10-01T06:00:00Z","calls":{{"{call}":{{"ok":{{}}}}}}}}"#
            )
        };
        // A typo must never hide an answer: the real GetBucketAcl would read as not collected.
        let err = parse_bucket(path, "b", bucket("getBucketAcl").as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "buckets/b.json: /calls/getBucketAcl: differs from the known operation `GetBucketAcl` only by case"
        );
        let mut warnings = Vec::new();
        let read = read_bucket(path, "b", bucket("GetBucketCors").as_bytes(), &mut warnings);
        let bucket = read.expect("an operation phi-audit does not record is read past");
        assert!(
            bucket.acl.unavailable().is_some(),
            "GetBucketAcl was never recorded"
        );
        assert_eq!(
            warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["buckets/b.json: /calls/GetBucketCors: is not an operation phi-audit records; it was ignored"]
        );
    }

    #[test]
    fn scope_is_kept_with_sorted_keys_whatever_the_map_order() {
        let meta = br#"{"format":"phi-audit-snapshot/1","collected_at":"2026-10-01T06:00:00Z","account_id":"1",
            "scope":{"include":["*"],"exclude":["sandbox-*"],"tags":{"z":"1","a":"2"}},"account":{}}"#;
        let meta = parse_meta(Path::new("snapshot.json"), meta).unwrap();
        assert_eq!(
            meta.scope.to_string(),
            r#"{"exclude":["sandbox-*"],"include":["*"],"tags":{"a":"2","z":"1"}}"#
        );
    }
}
