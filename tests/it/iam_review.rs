//! The access review and the identity controls end to end on a fixture snapshot: ePHI buckets
//! by tag, users through groups and managed policies (default version only), a permissions
//! boundary, an explicit Deny, a policy the evidence lacks; and unreadable evidence giving
//! `error` on exactly the controls that need it and a "not assessed" review, never a pass.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use phi_audit::evaluate::{evaluate_account, EvaluateOptions};
use phi_audit::findings::{Access, AccessEntry, Status};
use phi_audit::snapshot::Snapshot;
use serde_json::{json, Value};

use crate::support::fixtures::{bucket_with, ok, write_snapshot, ACCOUNT, ALL_BPA};

const A: &str = "arn:aws:iam::111122223333";

fn arn(kind: &str, name: &str) -> String {
    format!("{A}:{kind}/{name}")
}

fn tags(key: &str, value: &str) -> Value {
    ok(json!({"TagSet": [{"Key": key, "Value": value}]}))
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn managed(arn: &str, versions: &[(&str, bool, Value)]) -> Value {
    let default = versions.iter().find(|v| v.1).unwrap().0;
    json!({"Arn": arn, "DefaultVersionId": default, "PolicyVersionList": versions.iter()
        .map(|(id, d, document)| json!({"VersionId": id, "IsDefaultVersion": d, "Document": document}))
        .collect::<Vec<_>>()})
}

fn user(name: &str, groups: &[&str], attached: &[&str], inline: Option<Value>) -> Value {
    let mut u = json!({"UserName": name, "Arn": arn("user", name), "GroupList": groups,
        "AttachedManagedPolicies": attached.iter().map(|a| json!({"PolicyArn": a})).collect::<Vec<_>>()});
    if let Some(document) = inline {
        u["UserPolicyList"] = json!([{"PolicyName": "own", "PolicyDocument": document}]);
    }
    u
}

fn role(name: &str, inline: Value, boundary: Option<&str>, last_used: Option<&str>) -> Value {
    let mut r = json!({"RoleName": name, "Arn": arn("role", name),
        "RolePolicyList": [{"PolicyName": "job", "PolicyDocument": inline}],
        "AttachedManagedPolicies": [],
        "RoleLastUsed": last_used.map_or(json!({}), |t| json!({"LastUsedDate": t}))});
    if let Some(b) = boundary {
        r["PermissionsBoundary"] =
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": b});
    }
    r
}

fn details() -> Value {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let billing = format!("{A}:policy/billing");
    let bound = format!("{A}:policy/export-boundary");
    ok(json!({
        "UserDetailList": [
            user("doctor", &["doctors"], &[], None),
            user("billing", &[], &[&billing], None),
            user("admin", &[], &[admin], None),
            user("blocked", &[], &[], Some(doc(json!([
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::phi-*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::phi-b", "arn:aws:s3:::phi-b/*"]}])))),
            user("contractor", &[], &["arn:aws:iam::aws:policy/Gone"], None),
            user("nobody", &[], &[], None),
        ],
        "GroupDetailList": [{"GroupName": "doctors", "Arn": arn("group", "doctors"),
            "GroupPolicyList": [{"PolicyName": "read-phi", "PolicyDocument": doc(json!(
                [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi-a/*"}]))}],
            "AttachedManagedPolicies": []}],
        "RoleDetailList": [
            role("export", doc(json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": "arn:aws:s3:::phi-a/*"}])), Some(&bound), Some("2026-09-20T00:00:00Z")),
            role("old", doc(json!([{"Effect": "Allow", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::phi-a/*"}])), None, Some("2025-06-01T00:00:00Z")),
        ],
        "Policies": [
            managed(admin, &[("v1", true, doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}])))]),
            managed(&billing, &[
                ("v1", true, doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi-b/*"}]))),
                ("v2", false, doc(json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]))),
            ]),
            managed(&bound, &[("v1", true, doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])))]),
        ],
        "IsTruncated": false
    }))
}

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// A credential-report row: password (enabled, last used), MFA, key 1 (active, rotated, used).
fn row(name: &str, password: (bool, &str), mfa: bool, key: (bool, &str, &str)) -> String {
    let user_arn = if name == "<root_account>" {
        format!("{A}:root")
    } else {
        arn("user", name)
    };
    format!(
        "{name},{user_arn},2024-01-01T00:00:00+00:00,{},{},N/A,N/A,{mfa},{},{},{},N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        password.0, password.1, key.0, key.1, key.2
    )
}

fn report() -> Value {
    let rows = [
        HEADER.to_string(),
        row(
            "<root_account>",
            (false, "2026-09-01T00:00:00+00:00"),
            true,
            (false, "N/A", "N/A"),
        )
        .replacen(",false,", ",not_supported,", 1),
        row(
            "doctor",
            (true, "2026-09-29T00:00:00+00:00"),
            true,
            (false, "N/A", "N/A"),
        ),
        row(
            "billing",
            (false, "N/A"),
            false,
            (
                true,
                "2026-03-15T00:00:00+00:00",
                "2026-09-30T00:00:00+00:00",
            ),
        ),
        row(
            "admin",
            (true, "2026-09-30T00:00:00+00:00"),
            false,
            (false, "N/A", "N/A"),
        ),
        row("blocked", (false, "N/A"), false, (false, "N/A", "N/A")),
        row(
            "contractor",
            (false, "N/A"),
            false,
            (true, "2026-03-15T00:00:00+00:00", "N/A"),
        ),
        row("nobody", (false, "N/A"), false, (false, "N/A", "N/A")),
    ];
    let csv = rows.join("\n") + "\n";
    ok(
        json!({"Content": base64::engine::general_purpose::STANDARD.encode(csv), "ReportFormat": "text/csv"}),
    )
}

fn summary() -> Value {
    ok(json!({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}))
}

fn write(dir: &Path, iam: &[(&str, Value)]) {
    let buckets = [
        bucket_with("phi-a", &[("GetBucketTagging", tags("phi", "true"))]),
        bucket_with(
            "phi-b",
            &[("GetBucketTagging", tags("Data-Classification", "ePHI"))],
        ),
        bucket_with("www", &[("GetBucketTagging", tags("phi", "false"))]),
    ];
    write_snapshot(dir, crate::support::fixtures::bpa(ALL_BPA), &buckets);
    std::fs::create_dir_all(dir.join("iam")).unwrap();
    for (name, value) in iam {
        std::fs::write(
            dir.join(format!("iam/{name}.json")),
            serde_json::to_vec(value).unwrap(),
        )
        .unwrap();
    }
}

type Verdicts = BTreeMap<(String, String), Status>;

fn evaluate(dir: &Path) -> (Vec<AccessEntry>, BTreeMap<String, String>, Verdicts) {
    let snapshot = Snapshot::load(dir).unwrap();
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    let (findings, review) = evaluate_account(&snapshot, &catalog, EvaluateOptions::default());
    let verdicts = findings
        .iter()
        .filter(|f| f.control.starts_with("iam."))
        .map(|f| ((f.subject.to_string(), f.control.to_string()), f.status))
        .collect();
    (review.entries, review.not_assessed, verdicts)
}

fn entry<'a>(entries: &'a [AccessEntry], bucket: &str, principal: &str) -> Option<&'a AccessEntry> {
    entries
        .iter()
        .find(|e| e.bucket == format!("s3://{bucket}") && e.principal == principal)
}

fn rwm(e: Option<&AccessEntry>) -> Option<(Access, Access, Access)> {
    e.map(|e| (e.read, e.write, e.manage))
}

#[test]
fn the_review_names_who_can_reach_each_ephi_bucket_and_how() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", details()),
            ("GetCredentialReport", report()),
            ("GetAccountSummary", summary()),
        ],
    );
    let (entries, not_assessed, verdicts) = evaluate(dir.path());
    assert!(not_assessed.is_empty(), "{not_assessed:?}");
    use Access::{Conditional, No, Yes};
    // Through the group's inline policy.
    let doctor = entry(&entries, "phi-a", &arn("user", "doctor"));
    assert_eq!(rwm(doctor), Some((Yes, No, No)));
    assert_eq!(
        doctor.unwrap().via,
        ["group/doctors/inline/read-phi#/Statement/0"]
    );
    // The managed policy's default version only: v2 (s3:* on *) is not in force.
    assert_eq!(
        rwm(entry(&entries, "phi-b", &arn("user", "billing"))),
        Some((Yes, No, No))
    );
    assert_eq!(entry(&entries, "phi-a", &arn("user", "billing")), None);
    // AdministratorAccess: everything, everywhere.
    let admin = entry(&entries, "phi-a", &arn("user", "admin")).unwrap();
    assert_eq!((admin.read, admin.write, admin.manage), (Yes, Yes, Yes));
    assert_eq!(
        admin.via,
        ["arn:aws:iam::aws:policy/AdministratorAccess#/Statement/0"]
    );
    // The boundary allows only GetObject: the role reads but does not write.
    let export = entry(&entries, "phi-a", &arn("role", "export")).unwrap();
    assert_eq!((export.read, export.write, export.manage), (Yes, No, No));
    // An explicit Deny on phi-b: no entry there, an entry on phi-a.
    assert_eq!(entry(&entries, "phi-b", &arn("user", "blocked")), None);
    assert_eq!(
        rwm(entry(&entries, "phi-a", &arn("user", "blocked"))),
        Some((Yes, Yes, Yes))
    );
    // A policy the evidence lacks: conditional everywhere, with the reason.
    let contractor = entry(&entries, "phi-b", &arn("user", "contractor")).unwrap();
    assert_eq!(contractor.read, Conditional);
    assert!(
        contractor.notes[0].contains("Gone"),
        "{:?}",
        contractor.notes
    );
    // No access, no entry; the non-ePHI bucket is not reviewed.
    assert!(entries.iter().all(|e| e.principal != arn("user", "nobody")));
    assert!(entries.iter().all(|e| e.bucket != "s3://www"));

    let status = |subject: &str, control: &str| {
        verdicts
            .get(&(subject.to_string(), control.to_string()))
            .copied()
    };
    let account = format!("account:{ACCOUNT}");
    assert_eq!(
        status(&account, "iam.root-mfa-disabled"),
        Some(Status::Pass)
    );
    assert_eq!(status(&account, "iam.root-access-keys"), Some(Status::Pass));
    assert_eq!(
        status(&arn("user", "admin"), "iam.ephi-user-without-mfa"),
        Some(Status::Fail)
    );
    assert_eq!(
        status(&arn("user", "doctor"), "iam.ephi-user-without-mfa"),
        Some(Status::Pass)
    );
    assert_eq!(
        status(&arn("user", "billing"), "iam.ephi-access-key-not-rotated"),
        Some(Status::Fail)
    );
    assert_eq!(
        status(&arn("user", "doctor"), "iam.ephi-access-key-not-rotated"),
        Some(Status::Pass)
    );
    assert_eq!(
        status(&arn("user", "contractor"), "iam.ephi-access-unused"),
        Some(Status::Fail)
    );
    assert_eq!(
        status(&arn("user", "billing"), "iam.ephi-access-unused"),
        Some(Status::Pass)
    );
    assert_eq!(
        status(&arn("role", "old"), "iam.ephi-access-unused"),
        Some(Status::Fail)
    );
    assert_eq!(
        status(&arn("role", "export"), "iam.ephi-access-unused"),
        Some(Status::Pass)
    );
    assert_eq!(
        status(&arn("user", "admin"), "iam.ephi-access-unscoped"),
        Some(Status::Fail)
    );
    assert_eq!(
        status(&arn("user", "blocked"), "iam.ephi-access-unscoped"),
        Some(Status::Pass)
    );
    // Principals without ePHI access get no iam.ephi-* findings.
    assert!(verdicts.keys().all(|(s, _)| s != &arn("user", "nobody")));
}

#[test]
fn unreadable_identity_evidence_is_error_and_not_assessed_never_pass() {
    let denied = || json!({"error": {"code": "AccessDenied", "message": "not authorized"}});
    let account = format!("account:{ACCOUNT}");

    // No authorization details: the review is not assessed, every iam.ephi-* is an error.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", denied()),
            ("GetCredentialReport", report()),
            ("GetAccountSummary", summary()),
        ],
    );
    let (entries, not_assessed, verdicts) = evaluate(dir.path());
    assert!(entries.is_empty());
    assert!(
        not_assessed[&account].contains("AccessDenied"),
        "{not_assessed:?}"
    );
    for control in [
        "iam.ephi-user-without-mfa",
        "iam.ephi-access-key-not-rotated",
        "iam.ephi-access-unused",
        "iam.ephi-access-unscoped",
    ] {
        assert_eq!(
            verdicts[&(account.clone(), control.to_string())],
            Status::Error
        );
    }
    assert_eq!(
        verdicts[&(account.clone(), "iam.root-mfa-disabled".to_string())],
        Status::Pass
    );

    // No credential report: the user checks are errors; the role checks still judged.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", details()),
            ("GetCredentialReport", denied()),
            ("GetAccountSummary", summary()),
        ],
    );
    let (entries, _, verdicts) = evaluate(dir.path());
    assert!(!entries.is_empty());
    for control in [
        "iam.ephi-user-without-mfa",
        "iam.ephi-access-key-not-rotated",
        "iam.ephi-access-unused",
    ] {
        assert_eq!(
            verdicts[&(account.clone(), control.to_string())],
            Status::Error
        );
        assert!(!verdicts.contains_key(&(arn("user", "admin"), control.to_string())));
    }
    assert_eq!(
        verdicts[&(arn("role", "old"), "iam.ephi-access-unused".to_string())],
        Status::Fail
    );

    // No account summary: the root row of the credential report answers; without either, error.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", details()),
            ("GetCredentialReport", report()),
            ("GetAccountSummary", denied()),
        ],
    );
    let (_, _, verdicts) = evaluate(dir.path());
    assert_eq!(
        verdicts[&(account.clone(), "iam.root-mfa-disabled".to_string())],
        Status::Pass
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("GetAccountAuthorizationDetails", details()),
            ("GetCredentialReport", denied()),
            ("GetAccountSummary", denied()),
        ],
    );
    let (_, _, verdicts) = evaluate(dir.path());
    for control in ["iam.root-mfa-disabled", "iam.root-access-keys"] {
        assert_eq!(
            verdicts[&(account.clone(), control.to_string())],
            Status::Error
        );
    }
}
