//! The KMS key controls on hand-made snapshots: the cases the sample does not show — a key that
//! no longer exists (DescribeKey NotFoundException), a key of another account, an alias that
//! cannot be resolved, a key that was not collected, keys rotation does not apply to — each
//! judged without a false pass.

use crate::support::fixtures::{good_key, ok, write_snapshot, ACCOUNT};

use phi_audit::findings::{Finding, Status};
use phi_audit::snapshot::Snapshot;
use serde_json::{json, Value};
use std::path::Path;

fn encrypted_bucket(name: &str, key: &str) -> Value {
    crate::support::fixtures::bucket_with(
        name,
        &[(
            "GetBucketEncryption",
            ok(json!({"ServerSideEncryptionConfiguration": {"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]}})),
        )],
    )
}

fn write(dir: &Path, rel: &str, value: &Value) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

fn findings(dir: &Path) -> Vec<Finding> {
    let snapshot = Snapshot::load(dir).unwrap();
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    phi_audit::evaluate::evaluate(&snapshot, &catalog)
        .into_iter()
        .filter(|f| f.control.starts_with("kms."))
        .collect()
}

fn verdict<'a>(findings: &'a [Finding], subject: &str, control: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.subject == subject && f.control == control)
        .unwrap_or_else(|| panic!("no {control} finding for {subject}"))
}

#[test]
fn a_deleted_key_fails_usability_and_leaves_the_rest_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/gone");
    write_snapshot(
        dir.path(),
        ok(
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        ),
        &[encrypted_bucket("ephi", &arn)],
    );
    let mut key = good_key("gone");
    for op in [
        "DescribeKey",
        "GetKeyRotationStatus",
        "GetKeyPolicy",
        "ListGrants",
    ] {
        key["calls"][op] = json!({"error": {"code": "NotFoundException",
            "message": format!("Key '{arn}' does not exist")}});
    }
    write(dir.path(), "kms/us-east-1/gone.json", &key);
    let findings = findings(dir.path());
    let usable = verdict(&findings, &arn, "kms.key-not-usable");
    assert_eq!(usable.status, Status::Fail, "{}", usable.reason);
    assert!(
        usable.reason.contains("no longer exists"),
        "{}",
        usable.reason
    );
    assert!(usable.reason.contains("s3://ephi"), "{}", usable.reason);
    assert_eq!(
        usable.facts.key.as_ref().unwrap().state,
        "deleted (NotFoundException)"
    );
    for control in [
        "kms.key-rotation-disabled",
        "kms.key-policy-public",
        "kms.key-cross-account",
    ] {
        let f = verdict(&findings, &arn, control);
        assert_eq!(f.status, Status::Error, "{control}: {}", f.reason);
    }
}

#[test]
fn keys_of_other_accounts_unresolved_aliases_and_missing_keys_are_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let theirs = "arn:aws:kms:us-east-1:444455556666:key/theirs";
    write_snapshot(
        dir.path(),
        ok(
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        ),
        &[
            encrypted_bucket("shared", theirs),
            encrypted_bucket("aliased", "alias/not-there"),
            encrypted_bucket("uncollected", "k-missing"),
        ],
    );
    // The other account's key: everything refused, as the caller may read nothing.
    let mut key = good_key("theirs");
    key["key_arn"] = json!(theirs);
    for op in [
        "DescribeKey",
        "GetKeyRotationStatus",
        "GetKeyPolicy",
        "ListGrants",
    ] {
        key["calls"][op] =
            json!({"error": {"code": "AccessDeniedException", "message": "not authorized"}});
    }
    write(dir.path(), "kms/us-east-1/theirs.json", &key);
    write(
        dir.path(),
        "kms/us-east-1/aliases.json",
        &json!({"region": "us-east-1", "calls": {"ListAliases": ok(json!({"Aliases": [{"AliasName": "alias/other", "TargetKeyId": "x"}]}))}}),
    );
    let findings = findings(dir.path());
    let cross = verdict(&findings, theirs, "kms.key-cross-account");
    assert_eq!(cross.status, Status::Fail, "{}", cross.reason);
    assert!(
        cross.reason.contains("belongs to account 444455556666"),
        "{}",
        cross.reason
    );
    let usable = verdict(&findings, theirs, "kms.key-not-usable");
    assert_eq!(usable.status, Status::Error, "{}", usable.reason);
    assert!(
        usable.reason.contains("AccessDeniedException"),
        "{}",
        usable.reason
    );

    let alias = format!("arn:aws:kms:us-east-1:{ACCOUNT}:alias/not-there");
    let missing = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k-missing");
    for control in [
        "kms.key-not-usable",
        "kms.key-rotation-disabled",
        "kms.key-policy-public",
        "kms.key-cross-account",
    ] {
        let f = verdict(&findings, &alias, control);
        assert_eq!(f.status, Status::Error, "{control}: {}", f.reason);
        assert!(
            f.reason.contains("has no key for alias/not-there"),
            "{}",
            f.reason
        );
        assert_eq!(
            f.evidence,
            vec!["kms/us-east-1/aliases.json#/calls/ListAliases"]
        );
        let f = verdict(&findings, &missing, control);
        assert_eq!(f.status, Status::Error, "{control}: {}", f.reason);
        assert!(f.reason.contains("was not collected"), "{}", f.reason);
    }
}

#[test]
fn rotation_applies_to_symmetric_keys_with_kms_key_material_only() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(
        dir.path(),
        ok(
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true,
            "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
        ),
        &[
            encrypted_bucket("imported", "imported"),
            encrypted_bucket("hmac", "hmac"),
            encrypted_bucket("off", "off"),
        ],
    );
    let mut imported = good_key("imported");
    imported["calls"]["DescribeKey"]["ok"]["KeyMetadata"]["Origin"] = json!("EXTERNAL");
    // Rotation's own answer does not decide applicability: DescribeKey does.
    imported["calls"]["GetKeyRotationStatus"] =
        json!({"error": {"code": "UnsupportedOperationException", "message": "imported"}});
    write(dir.path(), "kms/us-east-1/imported.json", &imported);
    let mut hmac = good_key("hmac");
    hmac["calls"]["DescribeKey"]["ok"]["KeyMetadata"]["KeySpec"] = json!("HMAC_256");
    write(dir.path(), "kms/us-east-1/hmac.json", &hmac);
    let mut off = good_key("off");
    off["calls"]["GetKeyRotationStatus"] = ok(json!({"KeyRotationEnabled": false}));
    write(dir.path(), "kms/us-east-1/off.json", &off);
    let findings = findings(dir.path());
    let key = |id: &str| format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{id}");
    for (id, want) in [
        ("imported", Status::NotApplicable),
        ("hmac", Status::NotApplicable),
        ("off", Status::Fail),
    ] {
        let f = verdict(&findings, &key(id), "kms.key-rotation-disabled");
        assert_eq!(f.status, want, "{id}: {}", f.reason);
    }
}
