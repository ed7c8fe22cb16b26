//! The snapshot format contract, in one place: the format identifiers, the file layout, every
//! AWS call a snapshot records ([`Operation`], with the error codes that mean "not configured"),
//! the CloudTrail event names of S3 configuration changes, and the [`Timestamp`] type every time
//! in a snapshot is read into.
//!
//! This is the bottom layer: it imports nothing from the crate, so the collector (which writes
//! the format) and the snapshot reader (which reads it) both build on it without knowing each
//! other.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// `format` of a single-account snapshot's `snapshot.json`.
pub const SNAPSHOT_FORMAT: &str = "phi-audit-snapshot/1";

/// `format` of an organisation snapshot's `snapshot.json`.
pub const ORG_SNAPSHOT_FORMAT: &str = "phi-audit-org-snapshot/1";

/// Who, when, where: at the root of every snapshot (and of each `accounts/<id>/`).
pub const META_FILE: &str = "snapshot.json";
/// One file per bucket: `buckets/<bucket>.json`, the bucket's calls by [`Operation`] name.
pub const BUCKETS_DIR: &str = "buckets";
/// One file per region: `cloudtrail/<region>.json`.
pub const CLOUDTRAIL_DIR: &str = "cloudtrail";
/// One file per logging bucket: `access-logs/<bucket>.json`, the newest log objects.
pub const ACCESS_LOGS_DIR: &str = "access-logs";
/// The KMS keys that protect in-scope buckets and trails: `kms/<region>/<key-id>.json`, one file
/// per key, and `kms/<region>/aliases.json` (ListAliases) where an alias had to be resolved.
pub const KMS_DIR: &str = "kms";
/// The stem of a region's alias listing in [`KMS_DIR`] (no key id is spelt like this).
pub const KMS_ALIASES_STEM: &str = "aliases";
/// The account's identity evidence: `iam/<Operation>.json`, one RESULT each
/// ([`Operation::IAM`]).
pub const IAM_DIR: &str = "iam";
/// The stem of `iam/policies.json`: the managed policies (attached or set as a boundary) that
/// GetAccountAuthorizationDetails did not list, each read with GetPolicy and GetPolicyVersion
/// (`#/policies/<i>/calls/<name>`); present only when there were any.
pub const IAM_POLICIES_STEM: &str = "policies";
/// The sub-directories of a single-account snapshot.
pub const SNAPSHOT_DIRS: [&str; 5] = [
    BUCKETS_DIR,
    CLOUDTRAIL_DIR,
    ACCESS_LOGS_DIR,
    KMS_DIR,
    IAM_DIR,
];
/// An organisation snapshot's one directory: `accounts/<id>/`, a single-account snapshot each.
pub const ACCOUNTS_DIR: &str = "accounts";

/// The AWS service an [`Operation`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    S3,
    S3Control,
    CloudTrail,
    Sts,
    Kms,
    Iam,
}

impl Service {
    /// The service's name in IAM actions and `aws <service>` commands.
    pub const fn name(self) -> &'static str {
        match self {
            Service::S3 => "s3",
            Service::S3Control => "s3control",
            Service::CloudTrail => "cloudtrail",
            Service::Sts => "sts",
            Service::Kms => "kms",
            Service::Iam => "iam",
        }
    }
}

/// Every AWS call whose answer a snapshot records, as a RESULT (`{"ok": ...}` or
/// `{"error": {"code", "message"}}`) under the call's AWS name:
///
/// * the 13 bucket operations: `buckets/<bucket>.json#/calls/<name>`;
/// * s3control GetPublicAccessBlock (account level): `snapshot.json#/account/GetPublicAccessBlock`;
/// * DescribeTrails and LookupEvents: `cloudtrail/<region>.json#/<name>`;
/// * GetTrailStatus and GetEventSelectors: `cloudtrail/<region>.json#/trails/<ARN>/<name>`;
/// * ListObjectsV2 (the access-log probe): `access-logs/<bucket>.json#/ListObjectsV2`;
/// * AssumeRole (organisations): `snapshot.json#/accounts/<id>/AssumeRole` of the org header;
/// * DescribeKey, GetKeyRotationStatus, GetKeyPolicy and ListGrants:
///   `kms/<region>/<key-id>.json#/calls/<name>`;
/// * ListAliases: `kms/<region>/aliases.json#/calls/ListAliases`.
/// * the IAM operations ([`Operation::IAM`]): the whole file `iam/<name>.json` is the RESULT;
/// * GetPolicy and GetPolicyVersion ([`Operation::POLICY`]):
///   `iam/policies.json#/policies/<i>/calls/<name>`.
///
/// New services (IAM, KMS) add variants here and nowhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    GetBucketLocation,
    GetBucketAcl,
    GetBucketPolicy,
    GetBucketPolicyStatus,
    GetPublicAccessBlock,
    GetBucketOwnershipControls,
    GetBucketVersioning,
    GetBucketEncryption,
    GetBucketLogging,
    GetObjectLockConfiguration,
    GetBucketLifecycleConfiguration,
    GetBucketReplication,
    GetBucketTagging,
    /// s3control GetPublicAccessBlock: Block Public Access of the whole account.
    S3ControlGetPublicAccessBlock,
    DescribeTrails,
    GetTrailStatus,
    GetEventSelectors,
    LookupEvents,
    ListObjectsV2,
    AssumeRole,
    DescribeKey,
    GetKeyRotationStatus,
    GetKeyPolicy,
    ListGrants,
    ListAliases,
    /// IAM: every user, group, role and managed policy (all pages merged).
    GetAccountAuthorizationDetails,
    /// IAM: the credential report (after GenerateCredentialReport).
    GetCredentialReport,
    /// IAM: account-wide counts, the root user's MFA and access keys among them.
    GetAccountSummary,
    /// IAM: a managed policy the authorization details did not list (its default version id).
    GetPolicy,
    /// IAM: that policy's default version (its document).
    GetPolicyVersion,
}

impl Operation {
    /// The operations recorded for every bucket, in the order the controls' catalog lists them.
    pub const BUCKET: [Operation; 13] = [
        Operation::GetBucketLocation,
        Operation::GetBucketAcl,
        Operation::GetBucketPolicy,
        Operation::GetBucketPolicyStatus,
        Operation::GetPublicAccessBlock,
        Operation::GetBucketOwnershipControls,
        Operation::GetBucketVersioning,
        Operation::GetBucketEncryption,
        Operation::GetBucketLogging,
        Operation::GetObjectLockConfiguration,
        Operation::GetBucketLifecycleConfiguration,
        Operation::GetBucketReplication,
        Operation::GetBucketTagging,
    ];

    /// The operations recorded for every KMS key, in the order a key file lists them.
    pub const KEY: [Operation; 4] = [
        Operation::DescribeKey,
        Operation::GetKeyRotationStatus,
        Operation::GetKeyPolicy,
        Operation::ListGrants,
    ];

    /// The IAM operations, each recorded as a whole file `iam/<name>.json`.
    pub const IAM: [Operation; 3] = [
        Operation::GetAccountAuthorizationDetails,
        Operation::GetCredentialReport,
        Operation::GetAccountSummary,
    ];

    /// The calls recorded per policy in `iam/policies.json`, in the order they are made.
    pub const POLICY: [Operation; 2] = [Operation::GetPolicy, Operation::GetPolicyVersion];

    /// Every recorded operation.
    pub const ALL: [Operation; 30] = [
        Operation::GetBucketLocation,
        Operation::GetBucketAcl,
        Operation::GetBucketPolicy,
        Operation::GetBucketPolicyStatus,
        Operation::GetPublicAccessBlock,
        Operation::GetBucketOwnershipControls,
        Operation::GetBucketVersioning,
        Operation::GetBucketEncryption,
        Operation::GetBucketLogging,
        Operation::GetObjectLockConfiguration,
        Operation::GetBucketLifecycleConfiguration,
        Operation::GetBucketReplication,
        Operation::GetBucketTagging,
        Operation::S3ControlGetPublicAccessBlock,
        Operation::DescribeTrails,
        Operation::GetTrailStatus,
        Operation::GetEventSelectors,
        Operation::LookupEvents,
        Operation::ListObjectsV2,
        Operation::AssumeRole,
        Operation::DescribeKey,
        Operation::GetKeyRotationStatus,
        Operation::GetKeyPolicy,
        Operation::ListGrants,
        Operation::ListAliases,
        Operation::GetAccountAuthorizationDetails,
        Operation::GetCredentialReport,
        Operation::GetAccountSummary,
        Operation::GetPolicy,
        Operation::GetPolicyVersion,
    ];

    /// The operation's name in the AWS API: the member a snapshot records it under.
    pub const fn aws_name(self) -> &'static str {
        match self {
            Operation::GetBucketLocation => "GetBucketLocation",
            Operation::GetBucketAcl => "GetBucketAcl",
            Operation::GetBucketPolicy => "GetBucketPolicy",
            Operation::GetBucketPolicyStatus => "GetBucketPolicyStatus",
            Operation::GetPublicAccessBlock | Operation::S3ControlGetPublicAccessBlock => {
                "GetPublicAccessBlock"
            }
            Operation::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            Operation::GetBucketVersioning => "GetBucketVersioning",
            Operation::GetBucketEncryption => "GetBucketEncryption",
            Operation::GetBucketLogging => "GetBucketLogging",
            Operation::GetObjectLockConfiguration => "GetObjectLockConfiguration",
            Operation::GetBucketLifecycleConfiguration => "GetBucketLifecycleConfiguration",
            Operation::GetBucketReplication => "GetBucketReplication",
            Operation::GetBucketTagging => "GetBucketTagging",
            Operation::DescribeTrails => "DescribeTrails",
            Operation::GetTrailStatus => "GetTrailStatus",
            Operation::GetEventSelectors => "GetEventSelectors",
            Operation::LookupEvents => "LookupEvents",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::AssumeRole => "AssumeRole",
            Operation::DescribeKey => "DescribeKey",
            Operation::GetKeyRotationStatus => "GetKeyRotationStatus",
            Operation::GetKeyPolicy => "GetKeyPolicy",
            Operation::ListGrants => "ListGrants",
            Operation::ListAliases => "ListAliases",
            Operation::GetAccountAuthorizationDetails => "GetAccountAuthorizationDetails",
            Operation::GetCredentialReport => "GetCredentialReport",
            Operation::GetAccountSummary => "GetAccountSummary",
            Operation::GetPolicy => "GetPolicy",
            Operation::GetPolicyVersion => "GetPolicyVersion",
        }
    }

    pub const fn service(self) -> Service {
        match self {
            Operation::S3ControlGetPublicAccessBlock => Service::S3Control,
            Operation::DescribeTrails
            | Operation::GetTrailStatus
            | Operation::GetEventSelectors
            | Operation::LookupEvents => Service::CloudTrail,
            Operation::AssumeRole => Service::Sts,
            Operation::DescribeKey
            | Operation::GetKeyRotationStatus
            | Operation::GetKeyPolicy
            | Operation::ListGrants
            | Operation::ListAliases => Service::Kms,
            Operation::GetAccountAuthorizationDetails
            | Operation::GetCredentialReport
            | Operation::GetAccountSummary
            | Operation::GetPolicy
            | Operation::GetPolicyVersion => Service::Iam,
            _ => Service::S3,
        }
    }

    /// The error codes with which AWS answers "nothing is configured": evidence of absence,
    /// not a failed call.
    pub const fn not_configured(self) -> &'static [&'static str] {
        match self {
            Operation::GetBucketPolicy | Operation::GetBucketPolicyStatus => {
                &["NoSuchBucketPolicy"]
            }
            Operation::GetPublicAccessBlock | Operation::S3ControlGetPublicAccessBlock => {
                &["NoSuchPublicAccessBlockConfiguration"]
            }
            Operation::GetBucketOwnershipControls => &["OwnershipControlsNotFoundError"],
            Operation::GetBucketEncryption => &["ServerSideEncryptionConfigurationNotFoundError"],
            Operation::GetObjectLockConfiguration => &["ObjectLockConfigurationNotFoundError"],
            Operation::GetBucketLifecycleConfiguration => &["NoSuchLifecycleConfiguration"],
            Operation::GetBucketReplication => &["ReplicationConfigurationNotFoundError"],
            Operation::GetBucketTagging => &["NoSuchTagSet"],
            _ => &[],
        }
    }

    /// True when `code` is one of this operation's "not configured" answers.
    pub fn means_not_configured(self, code: &str) -> bool {
        self.not_configured().contains(&code)
    }

    /// The bucket operation recorded under `name` in a bucket file's `calls`.
    pub fn bucket_operation(name: &str) -> Option<Operation> {
        Operation::BUCKET
            .into_iter()
            .find(|op| op.aws_name() == name)
    }

    /// The key operation recorded under `name` in a key file's `calls`.
    pub fn key_operation(name: &str) -> Option<Operation> {
        Operation::KEY.into_iter().find(|op| op.aws_name() == name)
    }

    /// The file of an IAM operation's RESULT, e.g. `iam/GetAccountSummary.json` (`None` for
    /// operations recorded elsewhere).
    pub fn iam_file(self) -> Option<String> {
        Operation::IAM
            .contains(&self)
            .then(|| format!("{IAM_DIR}/{}.json", self.aws_name()))
    }

    /// `iam/policies.json`.
    pub fn iam_policies_file() -> String {
        format!("{IAM_DIR}/{IAM_POLICIES_STEM}.json")
    }

    /// True when some recorded operation has this AWS name (for the catalog's evidence lists).
    pub fn is_recorded_name(name: &str) -> bool {
        Operation::ALL.iter().any(|op| op.aws_name() == name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.aws_name())
    }
}

/// The CloudTrail event names (event source `s3.amazonaws.com`) of the S3 configuration changes
/// the review period's change timeline covers: collect asks LookupEvents for each, and the
/// evaluator keeps exactly these.
///
/// CloudTrail names some events differently from the API operation: PutBucketLifecycleConfiguration
/// is logged as `PutBucketLifecycle`, a bucket's PutPublicAccessBlock as
/// `PutBucketPublicAccessBlock` and s3control's (account-level) PutPublicAccessBlock as
/// `PutAccountPublicAccessBlock`. The list holds the logged names, and also the API names
/// `PutBucketLifecycleConfiguration`, `PutPublicAccessBlock` and `DeletePublicAccessBlock`: a
/// change logged under either name is found, at the cost of one LookupEvents query each. (The
/// two lists this one replaces differed exactly there: collect's had the account-level names,
/// the evaluator's had `PutBucketLifecycleConfiguration`.) Account-level events name no bucket,
/// so they are recorded as evidence but appear in no bucket's timeline.
pub const CONFIG_CHANGE_EVENTS: &[&str] = &[
    "CreateBucket",
    "DeleteBucket",
    "PutBucketPolicy",
    "DeleteBucketPolicy",
    "PutBucketAcl",
    "PutBucketEncryption",
    "DeleteBucketEncryption",
    "PutBucketVersioning",
    "PutBucketLogging",
    "PutBucketPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutPublicAccessBlock",
    "DeletePublicAccessBlock",
    "PutAccountPublicAccessBlock",
    "DeleteAccountPublicAccessBlock",
    "PutBucketOwnershipControls",
    "DeleteBucketOwnershipControls",
    "PutBucketLifecycle",
    "PutBucketLifecycleConfiguration",
    "DeleteBucketLifecycle",
    "PutBucketReplication",
    "DeleteBucketReplication",
    "PutObjectLockConfiguration",
    "PutBucketTagging",
    "DeleteBucketTagging",
];

/// `collector` of `snapshot.json` (and of an organisation header): who collected the evidence
/// and how: the chain of custody. A snapshot written before it was recorded has none, and the
/// report says "collector not recorded".
///
/// Written by collect, read strictly by the snapshot reader: every member is required (`null`
/// where an option was not given), a member spelt differently is bad input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Collector {
    /// The collecting principal, exactly as `aws sts get-caller-identity` prints it. In an
    /// organisation's `accounts/<id>/`, the role assumed in that account.
    #[serde(rename = "GetCallerIdentity")]
    pub caller: CallerIdentity,
    /// The options of the `collect` run.
    pub options: CollectionOptions,
}

/// The member of [`Collector`] that records sts:GetCallerIdentity (one definition for the writer,
/// the reader and its shape).
pub const CALLER_IDENTITY_MEMBER: &str = "GetCallerIdentity";

/// sts:GetCallerIdentity's answer as the AWS CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CallerIdentity {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

/// The `collect` options that shaped a snapshot, as given (`null`: not given, the default
/// applied; the effective review period is `review_period`, the effective scope `scope`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CollectionOptions {
    /// `--region` values (empty: the default, see docs/collect.md).
    pub regions: Vec<String>,
    /// `--scope`: the file as given and the SHA-256 of its bytes; its normalised content is
    /// snapshot.json's `scope`.
    pub scope_file: Option<ScopeFileRef>,
    /// `--since` and `--until` as RFC 3339 UTC.
    pub since: Option<String>,
    pub until: Option<String>,
    /// `--concurrency`.
    pub concurrency: u64,
    /// The endpoint in effect (`--endpoint-url` or `AWS_ENDPOINT_URL`: an emulator or a VPC
    /// endpoint instead of AWS's public endpoints).
    pub endpoint_url: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--org`: a whole-organisation collection.
    pub organization_mode: bool,
}

/// The scope file a snapshot was collected with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeFileRef {
    pub path: String,
    pub sha256: String,
}

/// One `exclude` entry of a snapshot's `scope`: the bucket name glob, and who decided to leave
/// the buckets it matches out of the audit and why. Older snapshots (and scope files) give the
/// bare glob; an exclusion without justification or approver is reported, never silently
/// accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeExclusion {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
}

impl ScopeExclusion {
    /// What the exclusion lacks (`justification`, `approver`), in that order.
    pub fn missing(&self) -> Vec<&'static str> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|t| t.trim().is_empty());
        [
            ("justification", blank(&self.justification)),
            ("approver", blank(&self.approver)),
        ]
        .into_iter()
        .filter_map(|(name, lacking)| lacking.then_some(name))
        .collect()
    }

    /// The warning an undocumented exclusion gives (`None` when documented).
    pub fn warning(&self) -> Option<String> {
        let missing = self.missing();
        (!missing.is_empty()).then(|| {
            format!(
                "scope exclusion {:?} has no {}: buckets it matches were left out of the audit without a recorded reason",
                self.pattern,
                missing.join(" or ")
            )
        })
    }
}

/// A time read from a snapshot: the UTC instant, and the text shown wherever the time is
/// displayed (reports print what was recorded, byte for byte).
///
/// Read from RFC 3339 text (`2026-10-01T06:00:00Z`, `2026-10-01T06:00:00.000+00:00`: ISO 8601
/// with a UTC offset, as the AWS CLI prints times), the text is kept as recorded. Read from a
/// number of seconds since 1970-01-01T00:00:00Z (what AWS CLI v1 prints for JSON-protocol
/// services such as CloudTrail unless `cli_timestamp_format = iso8601`), the text is the RFC 3339
/// UTC form of the instant, with milliseconds when there are any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    utc: DateTime<Utc>,
    text: String,
}

impl Timestamp {
    /// Parses RFC 3339 text; the error says why, for a message that also names file and pointer.
    pub fn parse(text: &str) -> Result<Timestamp, String> {
        DateTime::parse_from_rfc3339(text)
            .map(|time| Timestamp {
                utc: time.with_timezone(&Utc),
                text: text.to_string(),
            })
            .map_err(|err| format!("\"{text}\" is not an RFC 3339 time: {err}"))
    }

    /// A time given as seconds since the Unix epoch (fractions kept to the millisecond).
    pub fn from_epoch_seconds(seconds: f64) -> Result<Timestamp, String> {
        let invalid = || format!("{seconds} is not a time in seconds since 1970-01-01T00:00:00Z");
        if !seconds.is_finite() {
            return Err(invalid());
        }
        let millis = (seconds * 1000.0).round();
        if millis.abs() > i64::MAX as f64 {
            return Err(invalid());
        }
        let utc = DateTime::from_timestamp_millis(millis as i64).ok_or_else(invalid)?;
        Ok(Timestamp::from_utc(utc))
    }

    /// A time known as a value (e.g. the collection time), shown as RFC 3339 UTC.
    pub fn from_utc(utc: DateTime<Utc>) -> Timestamp {
        Timestamp {
            utc,
            text: utc.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }

    pub fn utc(&self) -> DateTime<Utc> {
        self.utc
    }

    /// The text as recorded.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// By instant; two spellings of one instant by their text, so the order is total.
impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.utc, &self.text).cmp(&(other.utc, &other.text))
    }
}

/// From RFC 3339 text, or from a number of seconds since the epoch (see [`Timestamp`]). Which
/// of the two a given member may hold is the snapshot reader's rule, checked before this runs.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Seconds(f64),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Text(text) => Timestamp::parse(&text),
            Raw::Seconds(seconds) => Timestamp::from_epoch_seconds(seconds),
        }
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_text_is_kept_and_parsed_once() {
        let t = Timestamp::parse("2026-10-01T06:00:00.000+00:00").unwrap();
        assert_eq!(t.to_string(), "2026-10-01T06:00:00.000+00:00");
        assert_eq!(
            t.utc(),
            Timestamp::parse("2026-10-01T06:00:00Z").unwrap().utc()
        );
        let err = Timestamp::parse("2026-10-01 06:00").unwrap_err();
        assert!(
            err.starts_with("\"2026-10-01 06:00\" is not an RFC 3339 time"),
            "{err}"
        );
    }

    #[test]
    fn epoch_seconds_read_as_aws_cli_v1_prints_them() {
        let whole = Timestamp::from_epoch_seconds(1_727_539_491.0).unwrap();
        assert_eq!(whole.as_str(), "2024-09-28T16:04:51Z");
        let fraction = Timestamp::from_epoch_seconds(1_727_539_491.25).unwrap();
        assert_eq!(fraction.as_str(), "2024-09-28T16:04:51.250Z");
        assert!(whole < fraction);
        assert!(Timestamp::from_epoch_seconds(f64::NAN).is_err());
        assert!(Timestamp::from_epoch_seconds(1e300).is_err());
    }

    #[test]
    fn operations_have_one_name_and_their_not_configured_codes() {
        assert_eq!(Operation::BUCKET.len(), 13);
        // The two lists agree: every bucket operation is among all of them, each once.
        assert!(Operation::BUCKET
            .iter()
            .all(|op| Operation::ALL.contains(op)));
        let mut all = Operation::ALL.to_vec();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), Operation::ALL.len());
        for op in Operation::ALL {
            assert_eq!(op.to_string(), op.aws_name());
        }
        assert_eq!(
            Operation::bucket_operation("GetPublicAccessBlock"),
            Some(Operation::GetPublicAccessBlock)
        );
        assert_eq!(Operation::bucket_operation("DescribeTrails"), None);
        assert_eq!(
            Operation::GetAccountSummary.iam_file().as_deref(),
            Some("iam/GetAccountSummary.json")
        );
        assert_eq!(Operation::GetBucketAcl.iam_file(), None);
        assert_eq!(Operation::GetCredentialReport.service().name(), "iam");
        assert!(Operation::GetBucketTagging.means_not_configured("NoSuchTagSet"));
        assert!(!Operation::GetBucketAcl.means_not_configured("NoSuchBucketPolicy"));
        assert_eq!(
            Operation::S3ControlGetPublicAccessBlock.service().name(),
            "s3control"
        );
        // Every API name of a change event's operation appears once.
        let mut names = CONFIG_CHANGE_EVENTS.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), CONFIG_CHANGE_EVENTS.len());
    }
}
