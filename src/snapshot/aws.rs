//! Typed views of the S3 API answers the snapshot records, in the shape `aws s3api` prints them.
//!
//! Only the members the controls read are modelled; AWS adds members over time, so unknown ones
//! are ignored rather than rejected. Absent booleans mean `false`, as they do in the S3 API.

use serde::Deserialize;

/// The two grantee groups that make an ACL grant public, and the one that is not.
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Acl {
    #[serde(default)]
    pub owner: Option<AclOwner>,
    #[serde(default)]
    pub grants: Vec<Grant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AclOwner {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatusResponse {
    pub policy_status: PolicyStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyStatus {
    #[serde(default)]
    pub is_public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlockResponse {
    pub public_access_block_configuration: PublicAccessBlock,
}

/// The four Block Public Access switches. At bucket and account level alike.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicAccessBlock {
    #[serde(default)]
    pub block_public_acls: bool,
    #[serde(default)]
    pub ignore_public_acls: bool,
    #[serde(default)]
    pub block_public_policy: bool,
    #[serde(default)]
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipControls {
    #[serde(default)]
    pub rules: Vec<OwnershipRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OwnershipRule {
    pub object_ownership: String,
}

impl OwnershipControls {
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionResponse {
    pub server_side_encryption_configuration: EncryptionConfiguration,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionConfiguration {
    #[serde(default)]
    pub rules: Vec<EncryptionRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionRule {
    #[serde(default)]
    pub apply_server_side_encryption_by_default: Option<EncryptionDefault>,
    #[serde(default)]
    pub bucket_key_enabled: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EncryptionDefault {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: String,
    #[serde(default, rename = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Logging {
    #[serde(default)]
    pub logging_enabled: Option<LoggingEnabled>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingEnabled {
    pub target_bucket: String,
    #[serde(default)]
    pub target_prefix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockResponse {
    pub object_lock_configuration: ObjectLockConfiguration,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockConfiguration {
    #[serde(default)]
    pub object_lock_enabled: Option<String>,
    #[serde(default)]
    pub rule: Option<ObjectLockRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectLockRule {
    #[serde(default)]
    pub default_retention: Option<DefaultRetention>,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lifecycle {
    #[serde(default)]
    pub rules: Vec<LifecycleRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LifecycleRule {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationResponse {
    pub replication_configuration: ReplicationConfiguration,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationConfiguration {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub rules: Vec<ReplicationRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationRule {
    #[serde(default, rename = "ID")]
    pub id: Option<String>,
    pub status: String,
    #[serde(default)]
    pub destination: Option<ReplicationDestination>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationDestination {
    pub bucket: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tagging {
    #[serde(default)]
    pub tag_set: Vec<Tag>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Location {
    /// `null` (or empty) means us-east-1; `EU` is the legacy name of eu-west-1.
    #[serde(default)]
    pub location_constraint: Option<String>,
}

impl Location {
    pub fn region(&self) -> String {
        match self.location_constraint.as_deref() {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(region) => region.to_string(),
        }
    }
}
