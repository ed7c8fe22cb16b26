//! Typed views of the S3 API answers the snapshot records, in the shape `aws s3api` prints them,
//! each with its [`Shape`]: every member the AWS API reference documents for the structure, and
//! which of them are required (AWS always sends them and phi-audit reads them). The shapes are
//! checked by [`super::strict`] before an answer is deserialised, so a serde `default` here only
//! ever fills a member that is optional in the API.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::strict::{Kind, Member, Shape};

/// A recorded answer (the `ok` of a RESULT) and the shape it is checked against.
pub trait Answer: DeserializeOwned {
    fn shape() -> &'static Shape;
}

/// Implements [`Answer`] for types whose `SHAPE` describes a whole answer.
macro_rules! answers {
    ($($ty:ty),* $(,)?) => {
        $(impl $crate::snapshot::aws::Answer for $ty {
            fn shape() -> &'static $crate::snapshot::strict::Shape {
                &<$ty>::SHAPE
            }
        })*
    };
}
pub(crate) use answers;

/// The status of a lifecycle or replication rule.
const RULE_STATUS: &[&str] = &["Enabled", "Disabled"];

answers!(
    Acl,
    PolicyResponse,
    PolicyStatusResponse,
    PublicAccessBlockResponse,
    OwnershipControlsResponse,
    Versioning,
    EncryptionResponse,
    Logging,
    ObjectLockResponse,
    Lifecycle,
    ReplicationResponse,
    Tagging,
    Location,
);

/// The two grantee groups that make an ACL grant public, and the one that is not.
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Acl {
    pub owner: AclOwner,
    pub grants: Vec<Grant>,
}

impl Acl {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketAclOutput",
        members: &[
            Member::required("Owner", Kind::Object(&AclOwner::SHAPE)),
            Member::required("Grants", Kind::ListOf(&Grant::SHAPE)),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclOwner {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

impl AclOwner {
    pub const SHAPE: Shape = Shape {
        name: "Owner",
        members: &[
            Member::optional("DisplayName", Kind::String),
            Member::required("ID", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub const SHAPE: Shape = Shape {
        name: "Grant",
        members: &[
            Member::required("Grantee", Kind::Object(&Grantee::SHAPE)),
            Member::required("Permission", Kind::OneOf(Permission::NAMES)),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Grantee {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default, rename = "URI")]
    pub uri: Option<String>,
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub email_address: Option<String>,
}

impl Grantee {
    pub const SHAPE: Shape = Shape {
        name: "Grantee",
        members: &[
            Member::optional("DisplayName", Kind::String),
            Member::optional("EmailAddress", Kind::String),
            Member::optional("ID", Kind::String),
            Member::required(
                "Type",
                Kind::OneOf(&["CanonicalUser", "AmazonCustomerByEmail", "Group"]),
            ),
            Member::optional("URI", Kind::String),
        ],
    };
}

/// Who an ACL grant reaches, classified the way S3 Block Public Access classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GranteeClass {
    /// The AllUsers group: anyone on the internet, unauthenticated.
    Anyone,
    /// The AuthenticatedUsers group: anyone holding any AWS account.
    AnyAwsAccount,
    /// The S3 log delivery group: not public.
    LogDelivery,
    /// A specific account (canonical user or e-mail grantee).
    Account,
    /// A group URI S3 does not document; treated as not public but shown to the auditor.
    OtherGroup,
}

impl Grantee {
    pub fn class(&self) -> GranteeClass {
        match (self.kind.as_str(), self.uri.as_deref()) {
            ("Group", Some(ALL_USERS_URI)) => GranteeClass::Anyone,
            ("Group", Some(AUTHENTICATED_USERS_URI)) => GranteeClass::AnyAwsAccount,
            ("Group", Some(LOG_DELIVERY_URI)) => GranteeClass::LogDelivery,
            ("Group", _) => GranteeClass::OtherGroup,
            _ => GranteeClass::Account,
        }
    }

    /// A short label for reasons: the group name or the account's display name / id.
    pub fn label(&self) -> String {
        match self.class() {
            GranteeClass::Anyone => "AllUsers".to_string(),
            GranteeClass::AnyAwsAccount => "AuthenticatedUsers".to_string(),
            GranteeClass::LogDelivery => "LogDelivery".to_string(),
            GranteeClass::OtherGroup => self.uri.clone().unwrap_or_default(),
            GranteeClass::Account => self
                .display_name
                .clone()
                .or_else(|| self.email_address.clone())
                .or_else(|| self.id.clone())
                .unwrap_or_else(|| "unnamed account".to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    /// The permissions an ACL grant may give, as S3 spells them.
    pub const NAMES: &'static [&'static str] =
        &["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyResponse {
    /// The policy document exactly as AWS returns it: a JSON string.
    pub policy: String,
}

impl PolicyResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketPolicyOutput",
        members: &[Member::required("Policy", Kind::String)],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatusResponse {
    pub policy_status: PolicyStatus,
}

impl PolicyStatusResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketPolicyStatusOutput",
        members: &[Member::required(
            "PolicyStatus",
            Kind::Object(&PolicyStatus::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatus {
    pub is_public: bool,
}

impl PolicyStatus {
    pub const SHAPE: Shape = Shape {
        name: "PolicyStatus",
        members: &[Member::required("IsPublic", Kind::Bool)],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockResponse {
    pub public_access_block_configuration: PublicAccessBlock,
}

impl PublicAccessBlockResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetPublicAccessBlockOutput",
        members: &[Member::required(
            "PublicAccessBlockConfiguration",
            Kind::Object(&PublicAccessBlock::SHAPE),
        )],
    };
}

/// The four Block Public Access switches. At bucket and account level alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// All four switches, at bucket and account level alike.
    pub const SHAPE: Shape = Shape {
        name: "PublicAccessBlockConfiguration",
        members: &[
            Member::required("BlockPublicAcls", Kind::Bool),
            Member::required("IgnorePublicAcls", Kind::Bool),
            Member::required("BlockPublicPolicy", Kind::Bool),
            Member::required("RestrictPublicBuckets", Kind::Bool),
        ],
    };

    pub fn all_on(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }

    /// The names of the switches that are off, in the order the console shows them.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut off = Vec::new();
        if !self.block_public_acls {
            off.push("BlockPublicAcls");
        }
        if !self.ignore_public_acls {
            off.push("IgnorePublicAcls");
        }
        if !self.block_public_policy {
            off.push("BlockPublicPolicy");
        }
        if !self.restrict_public_buckets {
            off.push("RestrictPublicBuckets");
        }
        off
    }

    /// The most restrictive combination of two levels (bucket and account): each switch applies
    /// if either level sets it.
    pub fn union(&self, other: &PublicAccessBlock) -> PublicAccessBlock {
        PublicAccessBlock {
            block_public_acls: self.block_public_acls || other.block_public_acls,
            ignore_public_acls: self.ignore_public_acls || other.ignore_public_acls,
            block_public_policy: self.block_public_policy || other.block_public_policy,
            restrict_public_buckets: self.restrict_public_buckets || other.restrict_public_buckets,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControlsResponse {
    pub ownership_controls: OwnershipControls,
}

impl OwnershipControlsResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketOwnershipControlsOutput",
        members: &[Member::required(
            "OwnershipControls",
            Kind::Object(&OwnershipControls::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    pub rules: Vec<OwnershipRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    pub object_ownership: String,
}

impl OwnershipRule {
    pub const SHAPE: Shape = Shape {
        name: "OwnershipControlsRule",
        members: &[Member::required("ObjectOwnership", Kind::String)],
    };
}

impl OwnershipControls {
    pub const SHAPE: Shape = Shape {
        name: "OwnershipControls",
        members: &[Member::required(
            "Rules",
            Kind::ListOf(&OwnershipRule::SHAPE),
        )],
    };

    /// BucketOwnerEnforced disables ACLs entirely; every other setting honours them.
    pub fn acls_disabled(&self) -> bool {
        self.rules
            .iter()
            .any(|rule| rule.object_ownership == "BucketOwnerEnforced")
    }

    pub fn setting(&self) -> String {
        self.rules
            .first()
            .map(|rule| rule.object_ownership.clone())
            .unwrap_or_else(|| "ObjectWriter".to_string())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versioning {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, rename = "MFADelete")]
    pub mfa_delete: Option<String>,
}

impl Versioning {
    /// Both members are absent for a bucket whose versioning was never configured.
    pub const SHAPE: Shape = Shape {
        name: "GetBucketVersioningOutput",
        members: &[
            Member::optional("Status", Kind::OneOf(&["Enabled", "Suspended"])),
            Member::optional("MFADelete", Kind::OneOf(&["Enabled", "Disabled"])),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionResponse {
    pub server_side_encryption_configuration: EncryptionConfiguration,
}

impl EncryptionResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketEncryptionOutput",
        members: &[Member::required(
            "ServerSideEncryptionConfiguration",
            Kind::Object(&EncryptionConfiguration::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    pub rules: Vec<EncryptionRule>,
}

impl EncryptionConfiguration {
    pub const SHAPE: Shape = Shape {
        name: "ServerSideEncryptionConfiguration",
        members: &[Member::required(
            "Rules",
            Kind::ListOf(&EncryptionRule::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    #[serde(default)]
    pub apply_server_side_encryption_by_default: Option<EncryptionDefault>,
    #[serde(default)]
    pub bucket_key_enabled: Option<bool>,
}

impl EncryptionRule {
    pub const SHAPE: Shape = Shape {
        name: "ServerSideEncryptionRule",
        members: &[
            Member::optional(
                "ApplyServerSideEncryptionByDefault",
                Kind::Object(&EncryptionDefault::SHAPE),
            ),
            Member::optional("BucketKeyEnabled", Kind::Bool),
            Member::optional("BlockedEncryptionTypes", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
    #[serde(default, rename = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<String>,
}

impl EncryptionDefault {
    pub const SHAPE: Shape = Shape {
        name: "ServerSideEncryptionByDefault",
        members: &[
            Member::required("SSEAlgorithm", Kind::String),
            Member::optional("KMSMasterKeyID", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Logging {
    #[serde(default)]
    pub logging_enabled: Option<LoggingEnabled>,
}

impl Logging {
    /// `LoggingEnabled` is absent when server access logging is off.
    pub const SHAPE: Shape = Shape {
        name: "GetBucketLoggingOutput",
        members: &[Member::optional(
            "LoggingEnabled",
            Kind::Object(&LoggingEnabled::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingEnabled {
    pub target_bucket: String,
    pub target_prefix: String,
}

impl LoggingEnabled {
    pub const SHAPE: Shape = Shape {
        name: "LoggingEnabled",
        members: &[
            Member::required("TargetBucket", Kind::String),
            Member::optional("TargetGrants", Kind::Any),
            Member::required("TargetPrefix", Kind::String),
            Member::optional("TargetObjectKeyFormat", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockResponse {
    pub object_lock_configuration: ObjectLockConfiguration,
}

impl ObjectLockResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetObjectLockConfigurationOutput",
        members: &[Member::required(
            "ObjectLockConfiguration",
            Kind::Object(&ObjectLockConfiguration::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockConfiguration {
    #[serde(default)]
    pub object_lock_enabled: Option<String>,
    #[serde(default)]
    pub rule: Option<ObjectLockRule>,
}

impl ObjectLockConfiguration {
    pub const SHAPE: Shape = Shape {
        name: "ObjectLockConfiguration",
        members: &[
            Member::optional("ObjectLockEnabled", Kind::String),
            Member::optional("Rule", Kind::Object(&ObjectLockRule::SHAPE)),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockRule {
    #[serde(default)]
    pub default_retention: Option<DefaultRetention>,
}

impl ObjectLockRule {
    pub const SHAPE: Shape = Shape {
        name: "ObjectLockRule",
        members: &[Member::optional(
            "DefaultRetention",
            Kind::Object(&DefaultRetention::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultRetention {
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub days: Option<u32>,
    #[serde(default)]
    pub years: Option<u32>,
}

impl DefaultRetention {
    pub const SHAPE: Shape = Shape {
        name: "DefaultRetention",
        members: &[
            Member::optional("Mode", Kind::String),
            Member::optional("Days", Kind::Integer),
            Member::optional("Years", Kind::Integer),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    pub rules: Vec<LifecycleRule>,
}

impl Lifecycle {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketLifecycleConfigurationOutput",
        members: &[
            Member::required("Rules", Kind::ListOf(&LifecycleRule::SHAPE)),
            Member::optional("TransitionDefaultMinimumObjectSize", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    pub status: String,
}

impl LifecycleRule {
    pub const SHAPE: Shape = Shape {
        name: "LifecycleRule",
        members: &[
            Member::optional("Expiration", Kind::Any),
            Member::optional("ID", Kind::String),
            Member::optional("Prefix", Kind::String),
            Member::optional("Filter", Kind::Any),
            Member::required("Status", Kind::OneOf(RULE_STATUS)),
            Member::optional("Transitions", Kind::Any),
            Member::optional("NoncurrentVersionTransitions", Kind::Any),
            Member::optional("NoncurrentVersionExpiration", Kind::Any),
            Member::optional("AbortIncompleteMultipartUpload", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationResponse {
    pub replication_configuration: ReplicationConfiguration,
}

impl ReplicationResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketReplicationOutput",
        members: &[Member::required(
            "ReplicationConfiguration",
            Kind::Object(&ReplicationConfiguration::SHAPE),
        )],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationConfiguration {
    pub role: String,
    pub rules: Vec<ReplicationRule>,
}

impl ReplicationConfiguration {
    pub const SHAPE: Shape = Shape {
        name: "ReplicationConfiguration",
        members: &[
            Member::required("Role", Kind::String),
            Member::required("Rules", Kind::ListOf(&ReplicationRule::SHAPE)),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationRule {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    pub status: String,
    pub destination: ReplicationDestination,
}

impl ReplicationRule {
    pub const SHAPE: Shape = Shape {
        name: "ReplicationRule",
        members: &[
            Member::optional("ID", Kind::String),
            Member::optional("Priority", Kind::Integer),
            Member::optional("Prefix", Kind::String),
            Member::optional("Filter", Kind::Any),
            Member::required("Status", Kind::OneOf(RULE_STATUS)),
            Member::optional("SourceSelectionCriteria", Kind::Any),
            Member::optional("ExistingObjectReplication", Kind::Any),
            Member::required("Destination", Kind::Object(&ReplicationDestination::SHAPE)),
            Member::optional("DeleteMarkerReplication", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationDestination {
    pub bucket: String,
}

impl ReplicationDestination {
    pub const SHAPE: Shape = Shape {
        name: "Destination",
        members: &[
            Member::required("Bucket", Kind::String),
            Member::optional("Account", Kind::String),
            Member::optional("StorageClass", Kind::String),
            Member::optional("AccessControlTranslation", Kind::Any),
            Member::optional("EncryptionConfiguration", Kind::Any),
            Member::optional("ReplicationTime", Kind::Any),
            Member::optional("Metrics", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tagging {
    pub tag_set: Vec<Tag>,
}

impl Tagging {
    pub const SHAPE: Shape = Shape {
        name: "GetBucketTaggingOutput",
        members: &[Member::required("TagSet", Kind::ListOf(&Tag::SHAPE))],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub const SHAPE: Shape = Shape {
        name: "Tag",
        members: &[
            Member::required("Key", Kind::String),
            Member::required("Value", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    /// `null` (or empty) means us-east-1; `EU` is the legacy name of eu-west-1.
    #[serde(default)]
    pub location_constraint: Option<String>,
}

impl Location {
    /// The AWS CLI prints `"LocationConstraint": null` for us-east-1, never leaves it out.
    pub const SHAPE: Shape = Shape {
        name: "GetBucketLocationOutput",
        members: &[Member::required("LocationConstraint", Kind::NullableString)],
    };

    pub fn region(&self) -> String {
        match self.location_constraint.as_deref() {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(region) => region.to_string(),
        }
    }
}
