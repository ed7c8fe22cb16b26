//! The snapshot reader's `iam/` files: typed, strict (file + JSON pointer errors), members the
//! AWS CLI omits absent rather than errors, and every answer `NotCollected` without `iam/`.

use std::path::Path;

use base64::Engine;
use phi_audit::snapshot::{Evidence, Snapshot, NOT_COLLECTED};
use serde_json::{json, Value};

use crate::support::fixtures::write_snapshot;

const REPORT_CSV: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-09-01T00:00:00+00:00,not_supported,not_supported,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
alice,arn:aws:iam::111122223333:user/alice,2024-01-01T00:00:00+00:00,true,no_information,N/A,N/A,true,true,2026-03-01T00:00:00+00:00,2026-09-30T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

fn details() -> Value {
    json!({"ok": {
        "UserDetailList": [{
            "UserName": "alice", "UserId": "AIDA1", "Path": "/",
            "Arn": "arn:aws:iam::111122223333:user/alice",
            "CreateDate": "2024-01-01T00:00:00+00:00",
            "GroupList": ["doctors"], "AttachedManagedPolicies": [],
            "UserPolicyList": [{"PolicyName": "own", "PolicyDocument":
                {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"}}}],
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/bound"}
        }],
        "GroupDetailList": [{"GroupName": "doctors", "Arn": "arn:aws:iam::111122223333:group/doctors",
            "GroupPolicyList": [], "AttachedManagedPolicies": [{"PolicyName": "bound", "PolicyArn": "arn:aws:iam::111122223333:policy/bound"}]}],
        "RoleDetailList": [{"RoleName": "export", "Arn": "arn:aws:iam::111122223333:role/export",
            "RolePolicyList": [], "AttachedManagedPolicies": [], "InstanceProfileList": [],
            "RoleLastUsed": {}},
            {"RoleName": "nightly", "Arn": "arn:aws:iam::111122223333:role/nightly",
             "RoleLastUsed": {"LastUsedDate": "2025-11-02T03:00:00+00:00", "Region": "us-east-1"}}],
        "Policies": [{"Arn": "arn:aws:iam::111122223333:policy/bound", "DefaultVersionId": "v1",
            "PolicyVersionList": [
                {"VersionId": "v2", "IsDefaultVersion": false, "Document": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}}
            ]}],
        "IsTruncated": false
    }})
}

fn report() -> Value {
    json!({"ok": {"Content": base64::engine::general_purpose::STANDARD.encode(REPORT_CSV),
        "ReportFormat": "text/csv", "GeneratedTime": "2026-10-01T05:00:00+00:00"}})
}

fn summary() -> Value {
    json!({"ok": {"SummaryMap": {"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1, "Users": 1}}})
}

fn snapshot_with(dir: &Path, files: &[(&str, Value)]) -> Result<Snapshot, String> {
    write_snapshot(
        dir,
        json!({"error": {"code": "NoSuchPublicAccessBlockConfiguration", "message": ""}}),
        &[],
    );
    std::fs::create_dir_all(dir.join("iam")).unwrap();
    for (name, value) in files {
        std::fs::write(
            dir.join(format!("iam/{name}.json")),
            serde_json::to_vec(value).unwrap(),
        )
        .unwrap();
    }
    Snapshot::load(dir).map_err(|e| e.to_string())
}

#[test]
fn identity_evidence_is_read_into_types() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = snapshot_with(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", details()),
            ("GetCredentialReport", report()),
            ("GetAccountSummary", summary()),
        ],
    )
    .unwrap();
    let details = snapshot.iam.authorization.found().unwrap();
    let alice = &details.users[0];
    assert_eq!(alice.groups, ["doctors"]);
    assert_eq!(alice.inline[0].name, "own");
    assert_eq!(
        alice.inline[0].document.statements[0].resources.patterns,
        ["arn:aws:s3:::phi/*"]
    );
    assert_eq!(
        alice.boundary.as_deref(),
        Some("arn:aws:iam::111122223333:policy/bound")
    );
    // An empty RoleLastUsed, and none at all, are "never used"; a date is read.
    assert_eq!(details.roles[0].last_used, None);
    assert_eq!(
        details.roles[1].last_used.as_ref().unwrap().as_str(),
        "2025-11-02T03:00:00+00:00"
    );
    // The default version is the one in force; the other is kept aside. No PolicyName is fine.
    let policy = &details.policies[0];
    assert_eq!(policy.name, None);
    assert_eq!(policy.document.statements[0].actions.patterns, ["s3:Get*"]);
    assert_eq!(policy.other_versions[0].name, "v2");

    let report = snapshot.iam.credential_report.found().unwrap();
    let root = report.root().unwrap();
    assert_eq!(root.password_enabled, None);
    assert!(!root.mfa_active);
    let alice = report.row("arn:aws:iam::111122223333:user/alice").unwrap();
    assert_eq!(alice.password_enabled, Some(true));
    assert_eq!(alice.password_last_used, None);
    assert!(alice.mfa_active && alice.keys[0].active && !alice.keys[1].active);
    assert_eq!(
        alice.keys[0].last_rotated.as_ref().unwrap().as_str(),
        "2026-03-01T00:00:00+00:00"
    );
    let summary = snapshot.iam.summary.found().unwrap();
    assert_eq!(summary.summary_map["AccountMFAEnabled"], 0);
}

#[test]
fn without_iam_every_answer_is_not_collected_and_errors_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(
        dir.path(),
        json!({"error": {"code": "NoSuchPublicAccessBlockConfiguration", "message": ""}}),
        &[],
    );
    let snapshot = Snapshot::load(dir.path()).unwrap();
    let why = snapshot.iam.authorization.unavailable().unwrap();
    assert_eq!(why.code, NOT_COLLECTED);
    assert!(snapshot.iam.credential_report.unavailable().is_some());

    let dir = tempfile::tempdir().unwrap();
    let denied = json!({"error": {"code": "AccessDenied", "message": "no"}});
    let snapshot = snapshot_with(dir.path(), &[("GetAccountSummary", denied)]).unwrap();
    match &snapshot.iam.summary {
        Evidence::Unavailable(why) => assert_eq!(why.code, "AccessDenied"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_identity_evidence_names_file_and_pointer() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "GetAccountAuthorizationDetails",
            {
                let mut d = details();
                d["ok"]["UserDetailList"][0]["UserPolicyList"][0]["PolicyDocument"]["Statement"]
                    ["Effect"] = json!("Perhaps");
                d
            },
            "GetAccountAuthorizationDetails.json: /ok/UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/0/Effect: must be \"Allow\" or \"Deny\"",
        ),
        (
            "GetAccountAuthorizationDetails",
            {
                let mut d = details();
                d["ok"]["RoleDetailList"][0]["roleName"] = json!("x");
                d
            },
            "GetAccountAuthorizationDetails.json: /ok/RoleDetailList/0/roleName: differs from the known member `RoleName` only by case",
        ),
        (
            "GetAccountAuthorizationDetails",
            {
                let mut d = details();
                d["ok"]["Policies"][0]["DefaultVersionId"] = json!("v3");
                d
            },
            "/ok/Policies/0/PolicyVersionList/1/IsDefaultVersion: is true but DefaultVersionId is v3",
        ),
        (
            "GetCredentialReport",
            json!({"ok": {"Content": "***"}}),
            "GetCredentialReport.json: /ok/Content: is not base64",
        ),
        (
            "GetCredentialReport",
            json!({"ok": {"Content": base64::engine::general_purpose::STANDARD.encode(REPORT_CSV.replace(",true,2026-03-01", ",maybe,2026-03-01"))}}),
            "/ok/Content: row 3 column `access_key_1_active`: \"maybe\" is not true, false or not_supported",
        ),
        (
            "GetAccountSummary",
            json!({"ok": {"SummaryMap": {"Users": "many"}}}),
            "GetAccountSummary.json: /ok/SummaryMap/Users: must be an integer",
        ),
        (
            "ListUsers",
            json!({"ok": {}}),
            "ListUsers.json: is not a file of an IAM operation phi-audit records",
        ),
    ];
    for (file, value, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let err = snapshot_with(dir.path(), &[(file, value)]).unwrap_err();
        assert!(
            err.contains(expected),
            "{file}: {err}\nexpected: {expected}"
        );
    }
}
