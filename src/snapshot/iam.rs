//! The identity evidence of an account (`iam/`, docs/snapshot-format.md), typed: every user,
//! group, role and managed policy with its policy documents parsed, the credential report's
//! rows, and the account summary. Read strictly like every recorded answer ([`super::strict`]);
//! members the AWS CLI omits (`Tags`, `PermissionsBoundary`, an empty `RoleLastUsed`, a policy's
//! `PolicyName` where an emulator leaves it out) are absent, not errors. A policy document that
//! is not a valid policy, a credential report that is not base64 CSV with the columns AWS
//! documents, or a time that does not parse is a [`SnapshotError`] naming file and pointer.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::aws::answers;
use super::policy::PolicyDocument;
use super::strict::{Kind, Member, Shape, SnapshotWarning};
use super::{invalid, typed_result, Evidence, SnapshotError, Unavailable, NOT_COLLECTED};
use crate::schema::{Operation, Timestamp};

/// The three `iam/` answers of one account.
#[derive(Debug, Clone)]
pub struct IamEvidence {
    /// False when the snapshot has no `iam/` at all (collected before identity evidence existed,
    /// or built without it): the identity controls are then not judged, and the access review
    /// says the evidence was not collected.
    pub collected: bool,
    pub authorization: Evidence<AuthorizationDetails>,
    pub credential_report: Evidence<CredentialReport>,
    pub summary: Evidence<AccountSummary>,
    /// `iam/policies.json`: managed policies the authorization details did not list, read with
    /// GetPolicy and GetPolicyVersion, by ARN: the default version, or why it could not be read.
    pub looked_up: BTreeMap<String, Evidence<ManagedPolicy>>,
}

impl Default for IamEvidence {
    /// Nothing collected (a snapshot without `iam/`).
    fn default() -> Self {
        fn absent<T>(operation: Operation) -> Evidence<T> {
            Evidence::Unavailable(Unavailable {
                operation,
                code: NOT_COLLECTED.to_string(),
                message: String::new(),
            })
        }
        IamEvidence {
            collected: false,
            authorization: absent(Operation::GetAccountAuthorizationDetails),
            credential_report: absent(Operation::GetCredentialReport),
            summary: absent(Operation::GetAccountSummary),
            looked_up: BTreeMap::new(),
        }
    }
}

/// An inline policy, or a version of a managed policy, parsed.
#[derive(Debug, Clone)]
pub struct NamedDocument {
    pub name: String,
    pub document: PolicyDocument,
    /// Where the document sits in its file (`/ok/UserDetailList/0/UserPolicyList/1/PolicyDocument`),
    /// so the access review can point at the statements it cites.
    pub pointer: String,
}

#[derive(Debug, Clone)]
pub struct AuthorizationDetails {
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub roles: Vec<Role>,
    pub policies: Vec<ManagedPolicy>,
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub inline: Vec<NamedDocument>,
    pub groups: Vec<String>,
    pub attached: Vec<String>,
    pub boundary: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub arn: String,
    pub inline: Vec<NamedDocument>,
    pub attached: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub arn: String,
    pub inline: Vec<NamedDocument>,
    pub attached: Vec<String>,
    pub boundary: Option<String>,
    /// `RoleLastUsed.LastUsedDate`: `None` when never used (or not in the answer).
    pub last_used: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: Option<String>,
    pub default_version: String,
    /// The default version's document (the only one in force).
    pub document: PolicyDocument,
    /// Where the default version's document sits: `<file>#<pointer>` relative to the snapshot
    /// root for a policy of `iam/policies.json`, a pointer into the authorization details
    /// otherwise.
    pub pointer: String,
    /// Non-default versions: not in force, kept so the review can say what they would grant.
    pub other_versions: Vec<NamedDocument>,
}

// ---- the recorded shapes ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawDetails {
    #[serde(default)]
    user_detail_list: Vec<RawUser>,
    #[serde(default)]
    group_detail_list: Vec<RawGroup>,
    #[serde(default)]
    role_detail_list: Vec<RawRole>,
    #[serde(default)]
    policies: Vec<RawPolicy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawInline {
    policy_name: String,
    policy_document: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAttached {
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawBoundary {
    permissions_boundary_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawUser {
    user_name: String,
    arn: String,
    #[serde(default)]
    user_policy_list: Vec<RawInline>,
    #[serde(default)]
    group_list: Vec<String>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    #[serde(default)]
    permissions_boundary: Option<RawBoundary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawGroup {
    group_name: String,
    arn: String,
    #[serde(default)]
    group_policy_list: Vec<RawInline>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRole {
    role_name: String,
    arn: String,
    #[serde(default)]
    role_policy_list: Vec<RawInline>,
    #[serde(default)]
    attached_managed_policies: Vec<RawAttached>,
    #[serde(default)]
    permissions_boundary: Option<RawBoundary>,
    #[serde(default)]
    role_last_used: Option<RawLastUsed>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawLastUsed {
    #[serde(default)]
    last_used_date: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicy {
    arn: String,
    #[serde(default)]
    policy_name: Option<String>,
    default_version_id: String,
    policy_version_list: Vec<RawVersion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawVersion {
    document: Value,
    version_id: String,
    is_default_version: bool,
}

const INLINE: Shape = Shape {
    name: "PolicyDetail",
    members: &[
        Member::required("PolicyName", Kind::String),
        Member::required("PolicyDocument", Kind::Any),
    ],
};
const ATTACHED: Shape = Shape {
    name: "AttachedPolicy",
    members: &[
        Member::optional("PolicyName", Kind::String),
        Member::required("PolicyArn", Kind::String),
    ],
};
const BOUNDARY: Shape = Shape {
    name: "AttachedPermissionsBoundary",
    members: &[
        Member::optional("PermissionsBoundaryType", Kind::String),
        Member::required("PermissionsBoundaryArn", Kind::String),
    ],
};
const TAG: Shape = Shape {
    name: "Tag",
    members: &[
        Member::required("Key", Kind::String),
        Member::required("Value", Kind::String),
    ],
};
const USER: Shape = Shape {
    name: "UserDetail",
    members: &[
        Member::optional("Path", Kind::String),
        Member::required("UserName", Kind::String),
        Member::optional("UserId", Kind::String),
        Member::required("Arn", Kind::String),
        Member::optional("CreateDate", Kind::Time),
        Member::optional("UserPolicyList", Kind::ListOf(&INLINE)),
        Member::optional("GroupList", Kind::Strings),
        Member::optional("AttachedManagedPolicies", Kind::ListOf(&ATTACHED)),
        Member::optional("PermissionsBoundary", Kind::Object(&BOUNDARY)),
        Member::optional("Tags", Kind::ListOf(&TAG)),
    ],
};
const GROUP: Shape = Shape {
    name: "GroupDetail",
    members: &[
        Member::optional("Path", Kind::String),
        Member::required("GroupName", Kind::String),
        Member::optional("GroupId", Kind::String),
        Member::required("Arn", Kind::String),
        Member::optional("CreateDate", Kind::Time),
        Member::optional("GroupPolicyList", Kind::ListOf(&INLINE)),
        Member::optional("AttachedManagedPolicies", Kind::ListOf(&ATTACHED)),
    ],
};
const LAST_USED: Shape = Shape {
    name: "RoleLastUsed",
    members: &[
        Member::optional("LastUsedDate", Kind::Time),
        Member::optional("Region", Kind::String),
    ],
};
const ROLE: Shape = Shape {
    name: "RoleDetail",
    members: &[
        Member::optional("Path", Kind::String),
        Member::required("RoleName", Kind::String),
        Member::optional("RoleId", Kind::String),
        Member::required("Arn", Kind::String),
        Member::optional("CreateDate", Kind::Time),
        Member::optional("AssumeRolePolicyDocument", Kind::Any),
        Member::optional("InstanceProfileList", Kind::Any),
        Member::optional("RolePolicyList", Kind::ListOf(&INLINE)),
        Member::optional("AttachedManagedPolicies", Kind::ListOf(&ATTACHED)),
        Member::optional("PermissionsBoundary", Kind::Object(&BOUNDARY)),
        Member::optional("Tags", Kind::ListOf(&TAG)),
        Member::optional("RoleLastUsed", Kind::Object(&LAST_USED)),
    ],
};
const VERSION: Shape = Shape {
    name: "PolicyVersion",
    members: &[
        Member::required("Document", Kind::Any),
        Member::required("VersionId", Kind::String),
        Member::required("IsDefaultVersion", Kind::Bool),
        Member::optional("CreateDate", Kind::Time),
    ],
};
const POLICY: Shape = Shape {
    name: "ManagedPolicyDetail",
    members: &[
        Member::optional("PolicyName", Kind::String),
        Member::optional("PolicyId", Kind::String),
        Member::required("Arn", Kind::String),
        Member::optional("Path", Kind::String),
        Member::required("DefaultVersionId", Kind::String),
        Member::optional("AttachmentCount", Kind::Integer),
        Member::optional("PermissionsBoundaryUsageCount", Kind::Integer),
        Member::optional("IsAttachable", Kind::Bool),
        Member::optional("Description", Kind::String),
        Member::optional("CreateDate", Kind::Time),
        Member::optional("UpdateDate", Kind::Time),
        Member::required("PolicyVersionList", Kind::ListOf(&VERSION)),
    ],
};

impl RawDetails {
    pub const SHAPE: Shape = Shape {
        name: "GetAccountAuthorizationDetailsResponse",
        members: &[
            Member::required("UserDetailList", Kind::ListOf(&USER)),
            Member::required("GroupDetailList", Kind::ListOf(&GROUP)),
            Member::required("RoleDetailList", Kind::ListOf(&ROLE)),
            Member::required("Policies", Kind::ListOf(&POLICY)),
            Member::optional("IsTruncated", Kind::Bool),
            Member::optional("Marker", Kind::String),
        ],
    };
}

/// `GetCredentialReport` as recorded: the CSV, base64.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawReport {
    content: String,
}

impl RawReport {
    pub const SHAPE: Shape = Shape {
        name: "GetCredentialReportResponse",
        members: &[
            Member::required("Content", Kind::String),
            Member::optional("ReportFormat", Kind::OneOf(&["text/csv"])),
            Member::optional("GeneratedTime", Kind::Time),
        ],
    };
}

/// `GetAccountSummary`: the counts by name.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountSummary {
    pub summary_map: BTreeMap<String, i64>,
}

impl AccountSummary {
    pub const SHAPE: Shape = Shape {
        name: "GetAccountSummaryResponse",
        members: &[Member::required("SummaryMap", Kind::Any)],
    };
}

answers!(
    RawDetails,
    RawReport,
    AccountSummary,
    RawGetPolicy,
    RawGetPolicyVersion
);

/// GetPolicy as recorded (`aws iam get-policy`): the policy's default version id.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawGetPolicy {
    policy: RawPolicySummary,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawPolicySummary {
    arn: String,
    #[serde(default)]
    policy_name: Option<String>,
    default_version_id: String,
}

const POLICY_SUMMARY: Shape = Shape {
    name: "Policy",
    members: &[
        Member::optional("PolicyName", Kind::String),
        Member::optional("PolicyId", Kind::String),
        Member::required("Arn", Kind::String),
        Member::optional("Path", Kind::String),
        Member::required("DefaultVersionId", Kind::String),
        Member::optional("AttachmentCount", Kind::Integer),
        Member::optional("PermissionsBoundaryUsageCount", Kind::Integer),
        Member::optional("IsAttachable", Kind::Bool),
        Member::optional("Description", Kind::String),
        Member::optional("CreateDate", Kind::Time),
        Member::optional("UpdateDate", Kind::Time),
        Member::optional("Tags", Kind::ListOf(&TAG)),
    ],
};

impl RawGetPolicy {
    pub const SHAPE: Shape = Shape {
        name: "GetPolicyResponse",
        members: &[Member::required("Policy", Kind::Object(&POLICY_SUMMARY))],
    };
}

/// GetPolicyVersion as recorded (`aws iam get-policy-version`): the document, decoded.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RawGetPolicyVersion {
    policy_version: RawVersion,
}

impl RawGetPolicyVersion {
    pub const SHAPE: Shape = Shape {
        name: "GetPolicyVersionResponse",
        members: &[Member::required("PolicyVersion", Kind::Object(&VERSION))],
    };
}

/// An answer that is not the policy: why it could not be read.
fn not_found<T>(evidence: Evidence<T>) -> Evidence<ManagedPolicy> {
    match evidence {
        Evidence::Unavailable(why) => Evidence::Unavailable(why),
        _ => Evidence::NotConfigured,
    }
}

/// `iam/policies.json`: `{"policies": [{"arn", "calls": {"GetPolicy", "GetPolicyVersion"}}]}`.
/// GetPolicyVersion is absent when GetPolicy failed (it needs the default version id).
pub fn read_policies(
    path: &Path,
    file: &str,
    value: &Value,
    iam: &mut IamEvidence,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<(), SnapshotError> {
    let list = (value.get("policies").and_then(Value::as_array))
        .ok_or_else(|| invalid(path, "/policies", "is missing or not a list"))?;
    for (i, item) in list.iter().enumerate() {
        let at = format!("/policies/{i}");
        let arn = (item.get("arn").and_then(Value::as_str))
            .ok_or_else(|| invalid(path, format!("{at}/arn"), "is missing or not a string"))?;
        let call = |op: Operation| item.get("calls").and_then(|c| c.get(op.aws_name()));
        let get = call(Operation::GetPolicy)
            .ok_or_else(|| invalid(path, format!("{at}/calls/GetPolicy"), "is missing"))?;
        let summary: Evidence<RawGetPolicy> = typed_result(
            path,
            &format!("{at}/calls/GetPolicy"),
            get,
            Operation::GetPolicy,
            warnings,
        )?;
        let summary = match summary {
            Evidence::Found(raw) => raw.policy,
            other => {
                iam.looked_up.insert(arn.to_string(), not_found(other));
                continue;
            }
        };
        if summary.arn != arn {
            let message = format!("is {}, not the policy's arn {arn}", summary.arn);
            return Err(invalid(
                path,
                format!("{at}/calls/GetPolicy/ok/Policy/Arn"),
                message,
            ));
        }
        let version_at = format!("{at}/calls/GetPolicyVersion");
        let version = call(Operation::GetPolicyVersion)
            .ok_or_else(|| invalid(path, &version_at, "is missing although GetPolicy answered"))?;
        let version: Evidence<RawGetPolicyVersion> = typed_result(
            path,
            &version_at,
            version,
            Operation::GetPolicyVersion,
            warnings,
        )?;
        let entry = match version {
            Evidence::Found(raw) => {
                let v = raw.policy_version;
                let pointer = format!("{version_at}/ok/PolicyVersion/Document");
                if !v.is_default_version || v.version_id != summary.default_version_id {
                    return Err(invalid(
                        path,
                        format!("{version_at}/ok/PolicyVersion/VersionId"),
                        format!(
                            "is {}, not the default version {}",
                            v.version_id, summary.default_version_id
                        ),
                    ));
                }
                Evidence::Found(ManagedPolicy {
                    arn: arn.to_string(),
                    name: summary.policy_name,
                    default_version: summary.default_version_id,
                    document: document(path, &pointer, &v.document)?,
                    pointer: format!("{file}#{pointer}"),
                    other_versions: Vec::new(),
                })
            }
            other => not_found(other),
        };
        iam.looked_up.insert(arn.to_string(), entry);
    }
    Ok(())
}

/// One row of the credential report (the columns phi-audit reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRow {
    /// `<root_account>` for the root user.
    pub user: String,
    pub arn: String,
    /// `None` for the root user (`not_supported`).
    pub password_enabled: Option<bool>,
    pub password_last_used: Option<Timestamp>,
    pub mfa_active: bool,
    pub keys: [AccessKey; 2],
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AccessKey {
    pub active: bool,
    pub last_rotated: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
}

/// The credential report's rows, by user ARN.
#[derive(Debug, Clone, Default)]
pub struct CredentialReport {
    pub rows: Vec<CredentialRow>,
}

impl CredentialReport {
    pub fn row(&self, arn: &str) -> Option<&CredentialRow> {
        self.rows.iter().find(|r| r.arn == arn)
    }

    /// The root user's row.
    pub fn root(&self) -> Option<&CredentialRow> {
        self.rows.iter().find(|r| r.user == "<root_account>")
    }
}

/// Reads the `iam/` file of `operation` (its whole content is a RESULT).
pub fn read(
    path: &Path,
    operation: Operation,
    value: &Value,
    iam: &mut IamEvidence,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<(), SnapshotError> {
    iam.collected = true;
    match operation {
        Operation::GetAccountAuthorizationDetails => {
            let raw: Evidence<RawDetails> = typed_result(path, "", value, operation, warnings)?;
            iam.authorization = match raw {
                Evidence::Found(raw) => Evidence::Found(details(path, raw)?),
                Evidence::NotConfigured => Evidence::NotConfigured,
                Evidence::Unavailable(why) => Evidence::Unavailable(why),
            };
        }
        Operation::GetCredentialReport => {
            let raw: Evidence<RawReport> = typed_result(path, "", value, operation, warnings)?;
            iam.credential_report = match raw {
                Evidence::Found(raw) => Evidence::Found(report(path, &raw.content)?),
                Evidence::NotConfigured => Evidence::NotConfigured,
                Evidence::Unavailable(why) => Evidence::Unavailable(why),
            };
        }
        Operation::GetAccountSummary => {
            if let Some(Value::Object(map)) = value.pointer("/ok/SummaryMap") {
                if let Some((key, _)) = map.iter().find(|(_, v)| !v.is_i64()) {
                    let pointer = format!("/ok/SummaryMap/{}", super::strict::escape(key));
                    return Err(invalid(path, pointer, "must be an integer"));
                }
            }
            iam.summary = typed_result(path, "", value, operation, warnings)?;
        }
        _ => {}
    }
    Ok(())
}

fn document(path: &Path, pointer: &str, value: &Value) -> Result<PolicyDocument, SnapshotError> {
    PolicyDocument::from_value(value)
        .map_err(|err| invalid(path, format!("{pointer}{}", err.pointer), err.message))
}

fn inline(
    path: &Path,
    pointer: &str,
    list: Vec<RawInline>,
) -> Result<Vec<NamedDocument>, SnapshotError> {
    (list.into_iter().enumerate())
        .map(|(i, p)| {
            let at = format!("{pointer}/{i}/PolicyDocument");
            Ok(NamedDocument {
                document: document(path, &at, &p.policy_document)?,
                name: p.policy_name,
                pointer: at,
            })
        })
        .collect()
}

fn details(path: &Path, raw: RawDetails) -> Result<AuthorizationDetails, SnapshotError> {
    let arns = |list: Vec<RawAttached>| list.into_iter().map(|a| a.policy_arn).collect();
    let mut out = AuthorizationDetails {
        users: Vec::new(),
        groups: Vec::new(),
        roles: Vec::new(),
        policies: Vec::new(),
    };
    for (i, u) in raw.user_detail_list.into_iter().enumerate() {
        out.users.push(User {
            inline: inline(
                path,
                &format!("/ok/UserDetailList/{i}/UserPolicyList"),
                u.user_policy_list,
            )?,
            name: u.user_name,
            arn: u.arn,
            groups: u.group_list,
            attached: arns(u.attached_managed_policies),
            boundary: u.permissions_boundary.map(|b| b.permissions_boundary_arn),
        });
    }
    for (i, g) in raw.group_detail_list.into_iter().enumerate() {
        out.groups.push(Group {
            inline: inline(
                path,
                &format!("/ok/GroupDetailList/{i}/GroupPolicyList"),
                g.group_policy_list,
            )?,
            name: g.group_name,
            arn: g.arn,
            attached: arns(g.attached_managed_policies),
        });
    }
    for (i, r) in raw.role_detail_list.into_iter().enumerate() {
        out.roles.push(Role {
            inline: inline(
                path,
                &format!("/ok/RoleDetailList/{i}/RolePolicyList"),
                r.role_policy_list,
            )?,
            name: r.role_name,
            arn: r.arn,
            attached: arns(r.attached_managed_policies),
            boundary: r.permissions_boundary.map(|b| b.permissions_boundary_arn),
            last_used: r.role_last_used.and_then(|l| l.last_used_date),
        });
    }
    for (i, p) in raw.policies.into_iter().enumerate() {
        out.policies.push(managed(path, i, p)?);
    }
    Ok(out)
}

fn managed(path: &Path, i: usize, p: RawPolicy) -> Result<ManagedPolicy, SnapshotError> {
    let at = format!("/ok/Policies/{i}");
    let mut default = None;
    let mut other_versions = Vec::new();
    for (v, version) in p.policy_version_list.into_iter().enumerate() {
        let pointer = format!("{at}/PolicyVersionList/{v}/Document");
        let doc = document(path, &pointer, &version.document)?;
        if version.is_default_version {
            if version.version_id != p.default_version_id {
                return Err(invalid(
                    path,
                    format!("{at}/PolicyVersionList/{v}/IsDefaultVersion"),
                    format!("is true but DefaultVersionId is {}", p.default_version_id),
                ));
            }
            default = Some((doc, pointer));
        } else {
            other_versions.push(NamedDocument {
                name: version.version_id,
                document: doc,
                pointer,
            });
        }
    }
    let (document, pointer) = default.ok_or_else(|| {
        invalid(
            path,
            format!("{at}/PolicyVersionList"),
            format!("holds no default version ({})", p.default_version_id),
        )
    })?;
    Ok(ManagedPolicy {
        arn: p.arn,
        name: p.policy_name,
        default_version: p.default_version_id,
        document,
        pointer,
        other_versions,
    })
}

/// The columns of the credential report phi-audit reads (all of them documented by AWS).
const COLUMNS: [&str; 12] = [
    "user",
    "arn",
    "password_enabled",
    "password_last_used",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "user_creation_time",
];

fn report(path: &Path, content: &str) -> Result<CredentialReport, SnapshotError> {
    const AT: &str = "/ok/Content";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|e| invalid(path, AT, format!("is not base64: {e}")))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader
        .headers()
        .map_err(|e| invalid(path, AT, format!("is not a CSV credential report: {e}")))?
        .clone();
    let mut index = [0usize; 12];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = headers.iter().position(|h| h == column).ok_or_else(|| {
            invalid(
                path,
                AT,
                format!("the credential report has no column `{column}`"),
            )
        })?;
    }
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(path, AT, format!("CSV: {e}")))?;
        let bad = |column: &str, value: &str, what: &str| {
            invalid(
                path,
                AT,
                format!(
                    "row {} column `{column}`: {value:?} is not {what}",
                    line + 2
                ),
            )
        };
        let field = |c: usize| record.get(index[c]).unwrap_or("");
        let flag = |c: usize| match field(c) {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "not_supported" => Ok(None),
            other => Err(bad(COLUMNS[c], other, "true, false or not_supported")),
        };
        let time = |c: usize| match field(c) {
            "N/A" | "no_information" | "not_supported" | "" => Ok(None),
            other => Timestamp::parse(other)
                .map(Some)
                .map_err(|_| bad(COLUMNS[c], other, "a time, N/A or no_information")),
        };
        let key = |first: usize| -> Result<AccessKey, SnapshotError> {
            Ok(AccessKey {
                active: flag(first)?.unwrap_or(false),
                last_rotated: time(first + 1)?,
                last_used: time(first + 2)?,
            })
        };
        rows.push(CredentialRow {
            user: field(0).to_string(),
            arn: field(1).to_string(),
            password_enabled: flag(2)?,
            password_last_used: time(3)?,
            mfa_active: flag(4)?.unwrap_or(false),
            keys: [key(5)?, key(8)?],
        });
    }
    Ok(CredentialReport { rows })
}
