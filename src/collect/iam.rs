//! Identity evidence of one account (docs/snapshot-format.md, `iam/`): who exists, what their
//! policies say, and how their credentials are used — GetAccountAuthorizationDetails (every page,
//! merged), the credential report (generated first, then fetched with a bounded wait) and
//! GetAccountSummary, each converted to what `aws iam <op> --output json` prints.
//!
//! The API returns policy documents URL-encoded; the AWS CLI prints them decoded, as JSON
//! objects, and so does the snapshot. A document that does not decode to JSON is kept as the
//! decoded text, for the reader to reject with its pointer.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, GroupDetail, ManagedPolicyDetail, PolicyDetail,
    PolicyVersion, RoleDetail, Tag, UserDetail,
};
use aws_sdk_iam::Client;
use base64::Engine;
use serde_json::{json, Value};

use super::limit::Limiter;
use super::result::{describe, error, ok, record, Obj};
use crate::schema::Operation;

/// Error code recorded when the credential report is still being generated after the wait.
pub const REPORT_NOT_READY: &str = "ReportInProgress";

/// How long to wait between GetCredentialReport attempts (doubling), and how many attempts.
const REPORT_FIRST_WAIT: Duration = Duration::from_millis(500);
const REPORT_ATTEMPTS: u32 = 7;

/// The three `iam/` files, as (operation, RESULT).
pub async fn collect(limiter: &Limiter, client: &Client) -> Vec<(Operation, Value)> {
    vec![
        (
            Operation::GetAccountAuthorizationDetails,
            authorization_details(limiter, client).await,
        ),
        (
            Operation::GetCredentialReport,
            credential_report(limiter, client).await,
        ),
        (
            Operation::GetAccountSummary,
            account_summary(limiter, client).await,
        ),
    ]
}

/// The managed policies the identities name (attached, or set as a permissions boundary) that
/// the authorization details do not list, in ARN order.
pub fn unlisted_policies(details: &Value) -> Vec<String> {
    let Some(ok) = details.get("ok") else {
        return Vec::new();
    };
    let listed: BTreeSet<&str> = (ok["Policies"].as_array().into_iter().flatten())
        .filter_map(|p| p["Arn"].as_str())
        .collect();
    let mut named = BTreeSet::new();
    for list in ["UserDetailList", "GroupDetailList", "RoleDetailList"] {
        for identity in ok[list].as_array().into_iter().flatten() {
            let attached = identity["AttachedManagedPolicies"]
                .as_array()
                .into_iter()
                .flatten();
            named.extend(attached.filter_map(|a| a["PolicyArn"].as_str()));
            named.extend(identity["PermissionsBoundary"]["PermissionsBoundaryArn"].as_str());
        }
    }
    (named.into_iter())
        .filter(|arn| !listed.contains(arn))
        .map(str::to_string)
        .collect()
}

/// `iam/policies.json` (docs/snapshot-format.md): each policy of [`unlisted_policies`] read
/// with GetPolicy, then GetPolicyVersion of its default version; `None` when the details list
/// every policy (or could not be read). Also the number of failed calls.
pub async fn look_up_policies(
    limiter: &Limiter,
    client: &Client,
    details: &Value,
) -> Option<(Value, usize)> {
    let arns = unlisted_policies(details);
    if arns.is_empty() {
        return None;
    }
    let (mut policies, mut failed) = (Vec::new(), 0);
    for arn in arns {
        let outcome = limiter
            .call(client.get_policy().policy_arn(&arn).send())
            .await;
        let default = (outcome.as_ref().ok())
            .and_then(|o| o.policy())
            .and_then(|p| p.default_version_id())
            .map(str::to_string);
        let mut calls = serde_json::Map::new();
        calls.insert(
            Operation::GetPolicy.aws_name().to_string(),
            record(
                outcome,
                |o| json!({"Policy": o.policy().map(policy_summary)}),
            ),
        );
        if let Some(default) = default {
            let outcome = limiter
                .call(
                    (client.get_policy_version())
                        .policy_arn(&arn)
                        .version_id(default)
                        .send(),
                )
                .await;
            calls.insert(
                Operation::GetPolicyVersion.aws_name().to_string(),
                record(
                    outcome,
                    |o| json!({"PolicyVersion": o.policy_version().map(version)}),
                ),
            );
        }
        failed += (calls.values())
            .filter(|r| super::result::is_collection_failure(r))
            .count();
        policies.push(json!({"arn": arn, "calls": calls}));
    }
    Some((json!({"policies": policies}), failed))
}

fn policy_summary(p: &aws_sdk_iam::types::Policy) -> Value {
    Obj::new()
        .str("PolicyName", p.policy_name())
        .str("PolicyId", p.policy_id())
        .str("Arn", p.arn())
        .str("Path", p.path())
        .str("DefaultVersionId", p.default_version_id())
        .int("AttachmentCount", p.attachment_count().map(i64::from))
        .int(
            "PermissionsBoundaryUsageCount",
            p.permissions_boundary_usage_count().map(i64::from),
        )
        .bool("IsAttachable", Some(p.is_attachable()))
        .str("Description", p.description())
        .time("CreateDate", p.create_date())
        .time("UpdateDate", p.update_date())
        .build()
}

/// Every page of GetAccountAuthorizationDetails, merged into one answer.
async fn authorization_details(limiter: &Limiter, client: &Client) -> Value {
    let (mut users, mut groups, mut roles, mut policies) = (vec![], vec![], vec![], vec![]);
    let mut marker: Option<String> = None;
    loop {
        let outcome = limiter
            .call(
                client
                    .get_account_authorization_details()
                    .set_marker(marker.clone())
                    .send(),
            )
            .await;
        let page = match outcome {
            Ok(page) => page,
            Err(err) => {
                let (code, message) = describe(&err);
                return error(&code, &message);
            }
        };
        users.extend(page.user_detail_list().iter().map(user));
        groups.extend(page.group_detail_list().iter().map(group));
        roles.extend(page.role_detail_list().iter().map(role));
        policies.extend(page.policies().iter().map(managed_policy));
        match page.marker() {
            Some(next) if page.is_truncated() && Some(next) != marker.as_deref() => {
                marker = Some(next.to_string());
            }
            _ => break,
        }
    }
    ok(json!({
        "UserDetailList": users,
        "GroupDetailList": groups,
        "RoleDetailList": roles,
        "Policies": policies,
        "IsTruncated": false,
    }))
}

/// GenerateCredentialReport, then GetCredentialReport until it is ready (bounded, backing off).
async fn credential_report(limiter: &Limiter, client: &Client) -> Value {
    if let Err(err) = limiter
        .call(client.generate_credential_report().send())
        .await
    {
        let (code, message) = describe(&err);
        return error(&code, &format!("GenerateCredentialReport: {message}"));
    }
    let mut wait = REPORT_FIRST_WAIT;
    for _ in 0..REPORT_ATTEMPTS {
        let outcome = limiter.call(client.get_credential_report().send()).await;
        match &outcome {
            Err(err) if not_ready(&describe(err).0) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            _ => {
                return record(outcome, |o| {
                    Obj::new()
                        .str(
                            "Content",
                            o.content()
                                .map(|b| base64::engine::general_purpose::STANDARD.encode(b))
                                .as_deref(),
                        )
                        .str("ReportFormat", o.report_format().map(|f| f.as_str()))
                        .time("GeneratedTime", o.generated_time())
                        .build()
                })
            }
        }
    }
    error(
        REPORT_NOT_READY,
        "the credential report was still being generated after the bounded wait (about 60 s)",
    )
}

/// The error codes of "the report is not ready yet".
fn not_ready(code: &str) -> bool {
    matches!(
        code,
        "ReportInProgress" | "ReportNotPresent" | "CredentialReportNotReadyException"
    )
}

async fn account_summary(limiter: &Limiter, client: &Client) -> Value {
    let outcome = limiter.call(client.get_account_summary().send()).await;
    record(outcome, |o| {
        let map: serde_json::Map<String, Value> = (o.summary_map().into_iter().flatten())
            .map(|(key, value)| (key.as_str().to_string(), Value::from(*value)))
            .collect();
        json!({ "SummaryMap": map })
    })
}

/// A policy document as the CLI prints it: URL-decoded, parsed as JSON (else the decoded text).
pub fn policy_document(encoded: &str) -> Value {
    let text = percent_decode(encoded);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// `%XX` decoding (IAM does not use `+` for spaces). Invalid escapes are kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn inline(p: &PolicyDetail) -> Value {
    Obj::new()
        .str("PolicyName", p.policy_name())
        .val("PolicyDocument", p.policy_document().map(policy_document))
        .build()
}

fn attached(p: &AttachedPolicy) -> Value {
    Obj::new()
        .str("PolicyName", p.policy_name())
        .str("PolicyArn", p.policy_arn())
        .build()
}

fn boundary(b: &AttachedPermissionsBoundary) -> Value {
    Obj::new()
        .str(
            "PermissionsBoundaryType",
            b.permissions_boundary_type().map(|t| t.as_str()),
        )
        .str("PermissionsBoundaryArn", b.permissions_boundary_arn())
        .build()
}

fn tag(t: &Tag) -> Value {
    json!({ "Key": t.key(), "Value": t.value() })
}

fn user(u: &UserDetail) -> Value {
    Obj::new()
        .str("Path", u.path())
        .str("UserName", u.user_name())
        .str("UserId", u.user_id())
        .str("Arn", u.arn())
        .time("CreateDate", u.create_date())
        .list("UserPolicyList", u.user_policy_list(), inline)
        .list_always("GroupList", u.group_list(), |g| Value::String(g.clone()))
        .list_always(
            "AttachedManagedPolicies",
            u.attached_managed_policies(),
            attached,
        )
        .val(
            "PermissionsBoundary",
            u.permissions_boundary().map(boundary),
        )
        .list("Tags", u.tags(), tag)
        .build()
}

fn group(g: &GroupDetail) -> Value {
    Obj::new()
        .str("Path", g.path())
        .str("GroupName", g.group_name())
        .str("GroupId", g.group_id())
        .str("Arn", g.arn())
        .time("CreateDate", g.create_date())
        .list_always("GroupPolicyList", g.group_policy_list(), inline)
        .list_always(
            "AttachedManagedPolicies",
            g.attached_managed_policies(),
            attached,
        )
        .build()
}

fn role(r: &RoleDetail) -> Value {
    let last_used = r.role_last_used().map(|l| {
        Obj::new()
            .time("LastUsedDate", l.last_used_date())
            .str("Region", l.region())
            .build()
    });
    Obj::new()
        .str("Path", r.path())
        .str("RoleName", r.role_name())
        .str("RoleId", r.role_id())
        .str("Arn", r.arn())
        .time("CreateDate", r.create_date())
        .val(
            "AssumeRolePolicyDocument",
            r.assume_role_policy_document().map(policy_document),
        )
        .list_always("InstanceProfileList", r.instance_profile_list(), |p| {
            Obj::new()
                .str("Path", Some(p.path()))
                .str("InstanceProfileName", Some(p.instance_profile_name()))
                .str("InstanceProfileId", Some(p.instance_profile_id()))
                .str("Arn", Some(p.arn()))
                .build()
        })
        .list_always("RolePolicyList", r.role_policy_list(), inline)
        .list_always(
            "AttachedManagedPolicies",
            r.attached_managed_policies(),
            attached,
        )
        .val(
            "PermissionsBoundary",
            r.permissions_boundary().map(boundary),
        )
        .list("Tags", r.tags(), tag)
        .val("RoleLastUsed", last_used)
        .build()
}

fn version(v: &PolicyVersion) -> Value {
    Obj::new()
        .val("Document", v.document().map(policy_document))
        .str("VersionId", v.version_id())
        .bool("IsDefaultVersion", Some(v.is_default_version()))
        .time("CreateDate", v.create_date())
        .build()
}

fn managed_policy(p: &ManagedPolicyDetail) -> Value {
    Obj::new()
        .str("PolicyName", p.policy_name())
        .str("PolicyId", p.policy_id())
        .str("Arn", p.arn())
        .str("Path", p.path())
        .str("DefaultVersionId", p.default_version_id())
        .int("AttachmentCount", p.attachment_count().map(i64::from))
        .int(
            "PermissionsBoundaryUsageCount",
            p.permissions_boundary_usage_count().map(i64::from),
        )
        .bool("IsAttachable", Some(p.is_attachable()))
        .str("Description", p.description())
        .time("CreateDate", p.create_date())
        .time("UpdateDate", p.update_date())
        .list_always("PolicyVersionList", p.policy_version_list(), version)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_named_but_not_listed_are_looked_up() {
        let details = json!({"ok": {
            "UserDetailList": [{"AttachedManagedPolicies": [{"PolicyArn": "arn:p/Listed"}, {"PolicyArn": "arn:p/Attached"}],
                                "PermissionsBoundary": {"PermissionsBoundaryArn": "arn:p/Boundary"}}],
            "GroupDetailList": [{"AttachedManagedPolicies": [{"PolicyArn": "arn:p/Attached"}]}],
            "RoleDetailList": [{"PermissionsBoundary": {"PermissionsBoundaryArn": "arn:p/Listed"}}],
            "Policies": [{"Arn": "arn:p/Listed"}]}});
        assert_eq!(
            unlisted_policies(&details),
            ["arn:p/Attached", "arn:p/Boundary"]
        );
        assert!(unlisted_policies(&json!({"error": {"code": "AccessDenied"}})).is_empty());
    }

    #[test]
    fn documents_are_url_decoded_into_json() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D";
        assert_eq!(
            policy_document(encoded),
            json!({"Version": "2012-10-17", "Statement": []})
        );
        // Already-decoded text (as some emulators send it) reads the same.
        assert_eq!(
            policy_document(r#"{"Statement": []}"#),
            json!({"Statement": []})
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("100%zz"), "100%zz");
        assert_eq!(percent_decode("%C3%A9"), "é");
        assert_eq!(policy_document("not json"), json!("not json"));
    }
}
