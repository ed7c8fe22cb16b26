//! Typed views of the KMS evidence: `kms/<region>/<key-id>.json` (DescribeKey,
//! GetKeyRotationStatus, GetKeyPolicy, ListGrants of one key) and `kms/<region>/aliases.json`
//! (ListAliases, where a bucket named its key by alias or used the AWS managed `aws/s3` key).
//!
//! KMS is a JSON-protocol service: AWS CLI v1 prints its times as seconds since the epoch, v2 as
//! ISO 8601 text; both read into a [`Timestamp`]. GetKeyPolicy's `Policy` is the policy document
//! as a JSON string (what the CLI prints), parsed here into a [`PolicyDocument`].

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use super::aws::answers;
use super::policy::PolicyDocument;
use super::strict::{Kind, Member, Shape, SnapshotWarning};
use super::{invalid, typed_call, Evidence, SnapshotError};
use crate::schema::{Operation, Timestamp, KMS_DIR};

answers!(
    DescribeKey,
    RotationStatus,
    KeyPolicyResponse,
    ListGrants,
    ListAliases
);

/// Every key and alias listing of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Kms {
    /// By region, then key id.
    pub keys: BTreeMap<(String, String), KeyEvidence>,
    /// By region: the region's aliases, where they were listed.
    pub aliases: BTreeMap<String, Evidence<Vec<Alias>>>,
}

impl Kms {
    pub fn key(&self, region: &str, key_id: &str) -> Option<&KeyEvidence> {
        self.keys.get(&(region.to_string(), key_id.to_string()))
    }
}

/// One key's evidence.
#[derive(Debug, Clone)]
pub struct KeyEvidence {
    pub region: String,
    pub key_id: String,
    /// The key's ARN, as collect knew it (from the reference or DescribeKey).
    pub key_arn: String,
    pub metadata: Evidence<KeyMetadata>,
    pub rotation: Evidence<RotationStatus>,
    pub policy: Evidence<PolicyDocument>,
    /// The raw policy text, for the report and diff (`None` when not read).
    pub policy_text: Option<String>,
    pub grants: Evidence<ListGrants>,
}

impl KeyEvidence {
    /// `kms/<region>/<key-id>.json`.
    pub fn file(&self) -> String {
        format!("{KMS_DIR}/{}/{}.json", self.region, self.key_id)
    }

    /// The evidence reference of one call, e.g. `kms/us-east-1/k.json#/calls/DescribeKey`.
    pub fn evidence_ref(&self, operation: Operation) -> String {
        format!("{}#/calls/{operation}", self.file())
    }
}

/// The evidence reference of a region's ListAliases answer.
pub fn aliases_ref(region: &str) -> String {
    format!(
        "{KMS_DIR}/{region}/{}.json#/calls/ListAliases",
        crate::schema::KMS_ALIASES_STEM
    )
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DescribeKey {
    #[serde(rename = "KeyMetadata")]
    pub key_metadata: KeyMetadata,
}

impl DescribeKey {
    pub const SHAPE: Shape = Shape {
        name: "DescribeKeyResponse",
        members: &[Member::required(
            "KeyMetadata",
            Kind::Object(&KeyMetadata::SHAPE),
        )],
    };
}

/// The members of KeyMetadata the controls read. KeyState and KeyManager are always sent by
/// AWS; KeySpec (or its deprecated twin CustomerMasterKeySpec) and Origin decide whether
/// automatic rotation applies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyMetadata {
    #[serde(rename = "AWSAccountId", default)]
    pub aws_account_id: Option<String>,
    pub key_id: String,
    pub arn: String,
    pub key_state: String,
    pub key_manager: String,
    #[serde(default)]
    pub key_spec: Option<String>,
    #[serde(default)]
    pub customer_master_key_spec: Option<String>,
    #[serde(default)]
    pub origin: Option<String>,
    #[serde(default)]
    pub deletion_date: Option<Timestamp>,
    #[serde(default)]
    pub description: Option<String>,
}

impl KeyMetadata {
    pub const SHAPE: Shape = Shape {
        name: "KeyMetadata",
        members: &[
            Member::optional("AWSAccountId", Kind::String),
            Member::required("KeyId", Kind::String),
            Member::required("Arn", Kind::String),
            Member::optional("CreationDate", Kind::TimeOrEpoch),
            Member::optional("Enabled", Kind::Bool),
            Member::optional("Description", Kind::String),
            Member::optional("KeyUsage", Kind::String),
            Member::required("KeyState", Kind::String),
            Member::optional("DeletionDate", Kind::TimeOrEpoch),
            Member::optional("ValidTo", Kind::TimeOrEpoch),
            Member::optional("Origin", Kind::String),
            Member::optional("CustomKeyStoreId", Kind::String),
            Member::optional("CloudHsmClusterId", Kind::String),
            Member::optional("ExpirationModel", Kind::String),
            Member::required("KeyManager", Kind::OneOf(&["AWS", "CUSTOMER"])),
            Member::optional("CustomerMasterKeySpec", Kind::String),
            Member::optional("KeySpec", Kind::String),
            Member::optional("EncryptionAlgorithms", Kind::Strings),
            Member::optional("SigningAlgorithms", Kind::Strings),
            Member::optional("KeyAgreementAlgorithms", Kind::Strings),
            Member::optional("MultiRegion", Kind::Bool),
            Member::optional("MultiRegionConfiguration", Kind::Any),
            Member::optional("PendingDeletionWindowInDays", Kind::Integer),
            Member::optional("MacAlgorithms", Kind::Strings),
            Member::optional("XksKeyConfiguration", Kind::Any),
            Member::optional("CurrentKeyMaterialId", Kind::String),
        ],
    };

    /// KeySpec, else the deprecated CustomerMasterKeySpec.
    pub fn spec(&self) -> Option<&str> {
        self.key_spec
            .as_deref()
            .or(self.customer_master_key_spec.as_deref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationStatus {
    pub key_rotation_enabled: bool,
    #[serde(default)]
    pub rotation_period_in_days: Option<i64>,
}

impl RotationStatus {
    pub const SHAPE: Shape = Shape {
        name: "GetKeyRotationStatusResponse",
        members: &[
            Member::required("KeyRotationEnabled", Kind::Bool),
            Member::optional("KeyId", Kind::String),
            Member::optional("RotationPeriodInDays", Kind::Integer),
            Member::optional("NextRotationDate", Kind::TimeOrEpoch),
            Member::optional("OnDemandRotationStartDate", Kind::TimeOrEpoch),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyPolicyResponse {
    pub policy: String,
}

impl KeyPolicyResponse {
    pub const SHAPE: Shape = Shape {
        name: "GetKeyPolicyResponse",
        members: &[
            Member::required("Policy", Kind::String),
            Member::optional("PolicyName", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGrants {
    pub grants: Vec<KeyGrant>,
    /// True when the listing stopped before the last grant: the list is incomplete.
    #[serde(default)]
    pub truncated: bool,
}

impl ListGrants {
    pub const SHAPE: Shape = Shape {
        name: "ListGrantsResponse",
        members: &[
            Member::required("Grants", Kind::ListOf(&KeyGrant::SHAPE)),
            Member::optional("NextMarker", Kind::String),
            Member::optional("Truncated", Kind::Bool),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGrant {
    #[serde(default)]
    pub grant_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub grantee_principal: Option<String>,
    #[serde(default)]
    pub operations: Vec<String>,
}

impl KeyGrant {
    pub const SHAPE: Shape = Shape {
        name: "GrantListEntry",
        members: &[
            Member::optional("KeyId", Kind::String),
            Member::optional("GrantId", Kind::String),
            Member::optional("Name", Kind::String),
            Member::optional("CreationDate", Kind::TimeOrEpoch),
            Member::optional("GranteePrincipal", Kind::String),
            Member::optional("RetiringPrincipal", Kind::String),
            Member::optional("IssuingAccount", Kind::String),
            Member::optional("Operations", Kind::Strings),
            Member::optional("Constraints", Kind::Any),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAliases {
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub truncated: bool,
}

impl ListAliases {
    pub const SHAPE: Shape = Shape {
        name: "ListAliasesResponse",
        members: &[
            Member::required("Aliases", Kind::ListOf(&Alias::SHAPE)),
            Member::optional("NextMarker", Kind::String),
            Member::optional("Truncated", Kind::Bool),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alias {
    pub alias_name: String,
    /// Absent for an AWS managed alias whose key was never created.
    #[serde(default)]
    pub target_key_id: Option<String>,
}

impl Alias {
    pub const SHAPE: Shape = Shape {
        name: "AliasListEntry",
        members: &[
            Member::required("AliasName", Kind::String),
            Member::optional("AliasArn", Kind::String),
            Member::optional("TargetKeyId", Kind::String),
            Member::optional("CreationDate", Kind::TimeOrEpoch),
            Member::optional("LastUpdatedDate", Kind::TimeOrEpoch),
        ],
    };
}

fn text(path: &Path, value: &Value, member: &str) -> Result<String, SnapshotError> {
    value
        .get(member)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| invalid(path, format!("/{member}"), "is missing or not a string"))
}

/// The `calls` object of a KMS file, holding only the operations `allowed`.
fn calls<'v>(
    path: &Path,
    value: &'v Value,
    allowed: &[Operation],
) -> Result<&'v Value, SnapshotError> {
    let calls = match value.get("calls") {
        Some(calls @ Value::Object(_)) => calls,
        _ => return Err(invalid(path, "/calls", "is missing or not an object")),
    };
    let map = calls.as_object().expect("checked above");
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    if let Some(unknown) = names
        .into_iter()
        .find(|name| !allowed.iter().any(|op| op.aws_name() == name.as_str()))
    {
        return Err(invalid(
            path,
            format!("/calls/{}", super::strict::escape(unknown)),
            "is not a KMS operation phi-audit records in this file",
        ));
    }
    Ok(calls)
}

/// Parses `kms/<region>/<stem>.json`, a key file.
pub(super) fn parse_key(
    path: &Path,
    region: &str,
    stem: &str,
    value: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<KeyEvidence, SnapshotError> {
    let key_id = text(path, value, "key_id")?;
    if key_id != stem {
        return Err(invalid(
            path,
            "/key_id",
            format!("is \"{key_id}\" but the file is named for \"{stem}\""),
        ));
    }
    let file_region = text(path, value, "region")?;
    if file_region != region {
        return Err(invalid(
            path,
            "/region",
            format!("is \"{file_region}\" but the file is in the directory of \"{region}\""),
        ));
    }
    let key_arn = text(path, value, "key_arn")?;
    let calls = calls(path, value, &Operation::KEY)?;
    let metadata =
        typed_call::<DescribeKey>(path, "/calls", calls, Operation::DescribeKey, warnings)?
            .map(|d| d.key_metadata);
    if let Evidence::Found(metadata) = &metadata {
        if metadata.arn != key_arn {
            return Err(invalid(
                path,
                "/calls/DescribeKey/ok/KeyMetadata/Arn",
                format!("is \"{}\" but the file is for \"{key_arn}\"", metadata.arn),
            ));
        }
    }
    let (policy, policy_text) = match typed_call::<KeyPolicyResponse>(
        path,
        "/calls",
        calls,
        Operation::GetKeyPolicy,
        warnings,
    )? {
        Evidence::Found(KeyPolicyResponse { policy }) => {
            let document = PolicyDocument::parse(&policy).map_err(|err| {
                invalid(
                    path,
                    format!("/calls/GetKeyPolicy/ok/Policy{}", err.pointer),
                    err.message,
                )
            })?;
            (Evidence::Found(document), Some(policy))
        }
        Evidence::NotConfigured => (Evidence::NotConfigured, None),
        Evidence::Unavailable(why) => (Evidence::Unavailable(why), None),
    };
    Ok(KeyEvidence {
        region: region.to_string(),
        key_id,
        key_arn,
        metadata,
        rotation: typed_call(
            path,
            "/calls",
            calls,
            Operation::GetKeyRotationStatus,
            warnings,
        )?,
        policy,
        policy_text,
        grants: typed_call(path, "/calls", calls, Operation::ListGrants, warnings)?,
    })
}

/// Parses `kms/<region>/aliases.json`.
pub(super) fn parse_aliases(
    path: &Path,
    region: &str,
    value: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Evidence<Vec<Alias>>, SnapshotError> {
    let file_region = text(path, value, "region")?;
    if file_region != region {
        return Err(invalid(
            path,
            "/region",
            format!("is \"{file_region}\" but the file is in the directory of \"{region}\""),
        ));
    }
    let calls = calls(path, value, &[Operation::ListAliases])?;
    Ok(
        typed_call::<ListAliases>(path, "/calls", calls, Operation::ListAliases, warnings)?
            .map(|listing| listing.aliases),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(calls: Value) -> Result<KeyEvidence, String> {
        let value = json!({"key_id": "k1", "region": "us-east-1",
            "key_arn": "arn:aws:kms:us-east-1:111122223333:key/k1", "calls": calls});
        parse_key(
            Path::new("kms/us-east-1/k1.json"),
            "us-east-1",
            "k1",
            &value,
            &mut Vec::new(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn a_key_file_is_read_strictly_with_file_and_pointer() {
        let ok = key(json!({
            "DescribeKey": {"ok": {"KeyMetadata": {"KeyId": "k1", "Arn": "arn:aws:kms:us-east-1:111122223333:key/k1",
                "KeyState": "PendingDeletion", "KeyManager": "CUSTOMER", "DeletionDate": 1790000000,
                "KeySpec": "SYMMETRIC_DEFAULT", "Origin": "AWS_KMS"}}},
            "GetKeyPolicy": {"ok": {"Policy": "{\"Statement\":[]}", "PolicyName": "default"}},
            "GetKeyRotationStatus": {"error": {"code": "AccessDeniedException", "message": "no"}},
        }))
        .unwrap();
        let metadata = ok.metadata.found().unwrap();
        assert_eq!(metadata.key_state, "PendingDeletion");
        assert_eq!(
            metadata.deletion_date.as_ref().unwrap().as_str(),
            "2026-09-21T14:13:20Z"
        );
        assert!(ok.policy.found().is_some());
        assert_eq!(
            ok.rotation.unavailable().unwrap().to_string(),
            "GetKeyRotationStatus failed with AccessDeniedException (no)"
        );
        assert_eq!(
            ok.grants.unavailable().unwrap().to_string(),
            "ListGrants was not collected"
        );
        assert_eq!(
            key(json!({"DescribeKey": {"ok": {"KeyMetadata": {"keyId": "k1"}}}})).unwrap_err(),
            "kms/us-east-1/k1.json: /calls/DescribeKey/ok/KeyMetadata/keyId: differs from the known member `KeyId` only by case"
        );
        assert_eq!(
            key(json!({"GetKeyPolicy": {"ok": {"Policy": "{"}}})).unwrap_err(),
            "kms/us-east-1/k1.json: /calls/GetKeyPolicy/ok/Policy: the policy is not valid JSON: EOF while parsing an object at line 1 column 1"
        );
        assert_eq!(
            key(json!({"GetBucketAcl": {"ok": {}}})).unwrap_err(),
            "kms/us-east-1/k1.json: /calls/GetBucketAcl: is not a KMS operation phi-audit records in this file"
        );
        assert_eq!(
            key(json!({"DescribeKey": {"ok": {"KeyMetadata": {"KeyId": "k1", "Arn": "arn:aws:kms:us-east-1:1:key/k2",
                "KeyState": "Enabled", "KeyManager": "CUSTOMER"}}}})).unwrap_err(),
            "kms/us-east-1/k1.json: /calls/DescribeKey/ok/KeyMetadata/Arn: is \"arn:aws:kms:us-east-1:1:key/k2\" but the file is for \"arn:aws:kms:us-east-1:111122223333:key/k1\""
        );
    }

    #[test]
    fn aliases_are_read_with_their_targets() {
        let value = json!({"region": "eu-west-1", "calls": {"ListAliases": {"ok": {"Aliases": [
            {"AliasName": "alias/aws/s3", "TargetKeyId": "k9"}, {"AliasName": "alias/aws/ebs"}]}}}});
        let aliases = parse_aliases(
            Path::new("kms/eu-west-1/aliases.json"),
            "eu-west-1",
            &value,
            &mut Vec::new(),
        )
        .unwrap();
        let aliases = aliases.found().unwrap();
        assert_eq!(aliases[0].target_key_id.as_deref(), Some("k9"));
        assert_eq!(aliases[1].target_key_id, None);
    }
}
