//! In-memory fixtures: a bucket's calls as JSON, parsed by the same reader as real snapshots.

use phi_audit::snapshot::{parse_bucket, parse_meta, Bucket, SnapshotMeta};
use serde_json::{json, Value};
use std::path::Path;

pub const ACCOUNT: &str = "111122223333";
pub const OWNER_ID: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
pub const OTHER_ID: &str = "be32da5fbd0a1c6c2e8cd2b3be2c6b8dcf7f4b1e6fa0cd1d5d0fa5c6a7b8c9d0";

pub fn denied() -> Value {
    json!({"error": {"code": "AccessDenied", "message": "Access Denied"}})
}

pub fn ok(value: Value) -> Value {
    json!({ "ok": value })
}

pub fn not_configured(code: &str) -> Value {
    json!({"error": {"code": code, "message": "not configured"}})
}

/// Block Public Access answer: `None` = not configured, or the names of the switches that are on.
pub fn bpa(on: &[&str]) -> Value {
    let flag = |name: &str| on.contains(&name);
    ok(json!({"PublicAccessBlockConfiguration": {
        "BlockPublicAcls": flag("BlockPublicAcls"),
        "IgnorePublicAcls": flag("IgnorePublicAcls"),
        "BlockPublicPolicy": flag("BlockPublicPolicy"),
        "RestrictPublicBuckets": flag("RestrictPublicBuckets"),
    }}))
}

pub const ALL_BPA: &[&str] = &[
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// An ACL with the owner's FULL_CONTROL plus `grants` of (grantee, permission); grantee is
/// `AllUsers`, `AuthenticatedUsers`, `LogDelivery`, `other` (another account) or `owner`.
pub fn acl(grants: &[(&str, &str)]) -> Value {
    let mut list = vec![
        json!({"Grantee": {"Type": "CanonicalUser", "ID": OWNER_ID, "DisplayName": "owner"}, "Permission": "FULL_CONTROL"}),
    ];
    for (grantee, permission) in grants {
        let grantee = match *grantee {
            "AllUsers" => {
                json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"})
            }
            "AuthenticatedUsers" => {
                json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"})
            }
            "LogDelivery" => {
                json!({"Type": "Group", "URI": "http://acs.amazonaws.com/groups/s3/LogDelivery"})
            }
            "other" => json!({"Type": "CanonicalUser", "ID": OTHER_ID, "DisplayName": "vendor"}),
            "owner" => json!({"Type": "CanonicalUser", "ID": OWNER_ID}),
            other => panic!("unknown grantee {other}"),
        };
        list.push(json!({"Grantee": grantee, "Permission": permission}));
    }
    ok(json!({"Owner": {"DisplayName": "owner", "ID": OWNER_ID}, "Grants": list}))
}

pub fn policy(document: &str) -> Value {
    ok(json!({ "Policy": document }))
}

pub fn ownership(setting: &str) -> Value {
    ok(json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": setting}]}}))
}

/// A bucket named `name` configured the way a careful team would (private, all BPA on, ACLs
/// disabled, KMS, versioning + MFA delete, logging, lock, lifecycle, replication, TLS-only
/// policy), with `overrides` replacing individual calls (`Value::Null` removes a call).
pub fn bucket_with(name: &str, overrides: &[(&str, Value)]) -> Value {
    let tls_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::{name}","arn:aws:s3:::{name}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    );
    let mut calls = json!({
        "GetBucketLocation": ok(json!({"LocationConstraint": null})),
        "GetBucketAcl": acl(&[]),
        "GetBucketPolicy": policy(&tls_policy),
        "GetBucketPolicyStatus": ok(json!({"PolicyStatus": {"IsPublic": false}})),
        "GetPublicAccessBlock": bpa(ALL_BPA),
        "GetBucketOwnershipControls": ownership("BucketOwnerEnforced"),
        "GetBucketVersioning": ok(json!({"Status": "Enabled", "MFADelete": "Enabled"})),
        "GetBucketEncryption": ok(json!({"ServerSideEncryptionConfiguration": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "arn:aws:kms:us-east-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}, "BucketKeyEnabled": true}]}})),
        "GetBucketLogging": ok(json!({"LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": format!("{name}/")}})),
        "GetObjectLockConfiguration": ok(json!({"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2190}}}})),
        "GetBucketLifecycleConfiguration": ok(json!({"Rules": [{"ID": "archive", "Filter": {"Prefix": ""}, "Status": "Enabled"}]})),
        "GetBucketReplication": ok(json!({"ReplicationConfiguration": {"Role": "arn:aws:iam::111122223333:role/replication", "Rules": [{"ID": "dr", "Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::dr-copy"}}]}})),
        "GetBucketTagging": ok(json!({"TagSet": [{"Key": "phi", "Value": "true"}]})),
    });
    for (op, value) in overrides {
        if value.is_null() {
            calls.as_object_mut().unwrap().remove(*op);
        } else {
            calls[*op] = value.clone();
        }
    }
    json!({"name": name, "region": "us-east-1", "collected_at": "2026-10-01T06:00:00Z", "calls": calls})
}

pub fn parse(bucket: &Value) -> Bucket {
    let name = bucket["name"].as_str().unwrap();
    parse_bucket(
        Path::new("fixture.json"),
        name,
        serde_json::to_vec(bucket).unwrap().as_slice(),
    )
    .expect("fixture parses")
}

/// Account metadata with the given account-level Block Public Access answer.
pub fn meta(account_bpa: Value) -> SnapshotMeta {
    let meta = json!({
        "format": "phi-audit-snapshot/1",
        "collected_at": "2026-10-01T06:00:00Z",
        "tool_version": "test",
        "account_id": ACCOUNT,
        "partition": "aws",
        "regions": ["us-east-1"],
        "account": {"GetPublicAccessBlock": account_bpa},
    });
    parse_meta(
        Path::new("snapshot.json"),
        serde_json::to_vec(&meta).unwrap().as_slice(),
    )
    .expect("meta parses")
}

/// Writes a snapshot directory with the given account BPA answer and buckets.
pub fn write_snapshot(dir: &Path, account_bpa: Value, buckets: &[Value]) {
    std::fs::create_dir_all(dir.join("buckets")).unwrap();
    let meta = json!({
        "format": "phi-audit-snapshot/1",
        "collected_at": "2026-10-01T06:00:00Z",
        "tool_version": "test",
        "account_id": ACCOUNT,
        "partition": "aws",
        "regions": ["us-east-1"],
        "scope": {},
        "account": {"GetPublicAccessBlock": account_bpa},
    });
    std::fs::write(
        dir.join("snapshot.json"),
        serde_json::to_vec_pretty(&meta).unwrap(),
    )
    .unwrap();
    for bucket in buckets {
        let name = bucket["name"].as_str().unwrap();
        std::fs::write(
            dir.join("buckets").join(format!("{name}.json")),
            serde_json::to_vec_pretty(bucket).unwrap(),
        )
        .unwrap();
        // Fresh server access logs for every bucket that logs.
        if let Some(target) =
            bucket["calls"]["GetBucketLogging"]["ok"]["LoggingEnabled"].as_object()
        {
            std::fs::create_dir_all(dir.join("access-logs")).unwrap();
            let listing = json!({
                "target_bucket": target["TargetBucket"],
                "target_prefix": target["TargetPrefix"],
                "ListObjectsV2": ok(json!({"Contents": [{"Key": format!("{name}/2026-10-01-05-00-00-ABC"), "LastModified": "2026-10-01T05:00:00Z"}]})),
            });
            std::fs::write(
                dir.join("access-logs").join(format!("{name}.json")),
                serde_json::to_vec_pretty(&listing).unwrap(),
            )
            .unwrap();
        }
    }
    std::fs::create_dir_all(dir.join("cloudtrail")).unwrap();
    std::fs::write(
        dir.join("cloudtrail/us-east-1.json"),
        serde_json::to_vec_pretty(&good_trail_region()).unwrap(),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("kms/us-east-1")).unwrap();
    for key_id in GOOD_KEYS {
        std::fs::write(
            dir.join(format!("kms/us-east-1/{key_id}.json")),
            serde_json::to_vec_pretty(&good_key(key_id)).unwrap(),
        )
        .unwrap();
    }
}

/// The keys of the good bucket's default encryption and of the good trail.
pub const GOOD_KEYS: [&str; 2] = ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "1234"];

/// A key file (`kms/us-east-1/<id>.json`) of an Enabled, rotated customer managed key with the
/// default key policy and no grants.
pub fn good_key(key_id: &str) -> Value {
    let arn = format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{key_id}");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    json!({
        "key_id": key_id, "key_arn": arn, "region": "us-east-1",
        "collected_at": "2026-10-01T06:00:00Z",
        "calls": {
            "DescribeKey": ok(json!({"KeyMetadata": {"AWSAccountId": ACCOUNT, "KeyId": key_id, "Arn": arn,
                "KeyState": "Enabled", "Enabled": true, "KeyManager": "CUSTOMER", "KeySpec": "SYMMETRIC_DEFAULT",
                "Origin": "AWS_KMS", "KeyUsage": "ENCRYPT_DECRYPT"}})),
            "GetKeyRotationStatus": ok(json!({"KeyRotationEnabled": true, "RotationPeriodInDays": 365})),
            "GetKeyPolicy": ok(json!({"Policy": policy, "PolicyName": "default"})),
            "ListGrants": ok(json!({"Grants": [], "Truncated": false})),
        },
    })
}

pub const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/audit";

/// A multi-region trail that is logging, validated, KMS-encrypted, and records data events of
/// every bucket.
pub fn good_trail_region() -> Value {
    json!({
        "DescribeTrails": ok(json!({"trailList": [{
            "Name": "audit", "TrailARN": TRAIL_ARN, "HomeRegion": "us-east-1",
            "IsMultiRegionTrail": true, "IsOrganizationTrail": false,
            "LogFileValidationEnabled": true,
            "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234",
            "S3BucketName": "trail-logs"
        }]})),
        "trails": {TRAIL_ARN: {
            "GetTrailStatus": ok(json!({"IsLogging": true, "LatestDeliveryTime": "2026-10-01T05:55:00Z"})),
            "GetEventSelectors": ok(json!({"TrailARN": TRAIL_ARN, "EventSelectors": [{
                "ReadWriteType": "All", "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]
            }]})),
        }},
        "LookupEvents": ok(json!({"Events": []})),
    })
}

/// `scripts/gen-fleet.py ARGS --out OUT` with the sample's templates: a generated snapshot
/// (`--buckets N`, `--accounts N` for an organisation, `--seed N`).
pub fn gen_fleet(out: &std::path::Path, args: &[&str]) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = std::process::Command::new("python3")
        .arg(root.join("scripts/gen-fleet.py"))
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--templates")
        .arg(root.join("samples/snapshot"))
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3 runs");
    assert!(status.success(), "gen-fleet.py {args:?} failed");
}
