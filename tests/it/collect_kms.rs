//! `collect` of the KMS keys behind in-scope buckets, against the local moto server through the
//! real SDK (run under `scripts/with-moto`), and what the key controls make of the evidence:
//! each key state, rotation on and off, a public key policy, a grant to another account, an
//! alias reference, the AWS managed `aws/s3` key, and AccessDenied on GetKeyPolicy.

use crate::support::collect as common;

use std::collections::BTreeMap;

use aws_sdk_kms::types::GrantOperation;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use chrono::Utc;
use common::{code, ok, read_json};
use phi_audit::collect::{run_collect, CollectArgs, NoProgress};
use phi_audit::findings::{Finding, Status};
use phi_audit::snapshot::Snapshot;

const ACCOUNT: &str = "123456789012";

/// Default encryption with `aws:kms` and `key` (none: the AWS managed aws/s3 key).
async fn encrypt(s3: &aws_sdk_s3::Client, bucket: &str, key: Option<&str>) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .set_kms_master_key_id(key.map(str::to_owned))
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(default)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

async fn new_key(kms: &aws_sdk_kms::Client, description: &str) -> (String, String) {
    let key = kms
        .create_key()
        .description(description)
        .send()
        .await
        .unwrap();
    let metadata = key.key_metadata().unwrap();
    (
        metadata.key_id().to_owned(),
        metadata.arn().unwrap().to_owned(),
    )
}

fn public_policy() -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    ]})
    .to_string()
}

/// The key findings by (key ARN, control).
fn key_findings(out: &std::path::Path) -> BTreeMap<(String, String), Finding> {
    let snapshot = Snapshot::load(out).expect("the collected snapshot loads");
    assert_eq!(
        snapshot.warnings,
        Vec::new(),
        "collect writes only known members"
    );
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    phi_audit::evaluate::evaluate(&snapshot, &catalog)
        .into_iter()
        .filter(|f| f.control.starts_with("kms."))
        .map(|f| ((f.subject.to_string(), f.control.to_string()), f))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_collected_and_judged() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("kms");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let s3 = clients.s3("us-east-1");
    let kms = clients.kms("us-east-1");

    // Good key, named by an alias; rotation on.
    let (good, good_arn) = new_key(&kms, "good").await;
    kms.enable_key_rotation()
        .key_id(&good)
        .send()
        .await
        .unwrap();
    let alias = format!("alias/{p}-good");
    kms.create_alias()
        .alias_name(&alias)
        .target_key_id(&good)
        .send()
        .await
        .unwrap();
    encrypt(&s3, &format!("{p}-good"), Some(&alias)).await;
    // Rotation off, named by its bare key id.
    let (norotate, norotate_arn) = new_key(&kms, "no rotation").await;
    encrypt(&s3, &format!("{p}-norotate"), Some(&norotate)).await;
    // Scheduled for deletion; and disabled.
    let (deleting, deleting_arn) = new_key(&kms, "deleting").await;
    kms.schedule_key_deletion()
        .key_id(&deleting)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    encrypt(&s3, &format!("{p}-deleting"), Some(&deleting_arn)).await;
    let (disabled, disabled_arn) = new_key(&kms, "disabled").await;
    kms.disable_key().key_id(&disabled).send().await.unwrap();
    encrypt(&s3, &format!("{p}-disabled"), Some(&disabled_arn)).await;
    // A public key policy; a grant to another account.
    let (public, public_arn) = new_key(&kms, "public").await;
    kms.put_key_policy()
        .key_id(&public)
        .policy_name("default")
        .policy(public_policy())
        .send()
        .await
        .unwrap();
    encrypt(&s3, &format!("{p}-public"), Some(&public_arn)).await;
    let (granted, granted_arn) = new_key(&kms, "granted").await;
    kms.create_grant()
        .key_id(&granted)
        .grantee_principal("arn:aws:iam::444455556666:role/partner")
        .operations(GrantOperation::Decrypt)
        .send()
        .await
        .unwrap();
    encrypt(&s3, &format!("{p}-granted"), Some(&granted_arn)).await;
    // The caller may not read this key's policy (the proxy refuses GetKeyPolicy for it).
    let (locked, locked_arn) = new_key(&kms, "locked").await;
    encrypt(&s3, &format!("{p}-locked"), Some(&locked_arn)).await;
    // The AWS managed aws/s3 key.
    encrypt(&s3, &format!("{p}-managed"), None).await;

    let upstream: std::net::SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("PHI_AUDIT_TEST_ENDPOINT is http://127.0.0.1:PORT");
    let proxy = common::proxy::start(
        upstream,
        common::proxy::ProxyConfig {
            deny_json: Some(("GetKeyPolicy".into(), locked.clone())),
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let scope = dir.path().join("scope.yaml");
    std::fs::write(&scope, format!("include: [\"{p}-*\"]\n")).unwrap();
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(format!("http://{proxy}"));
    args.regions = vec!["us-east-1".into()];
    args.scope = Some(scope);
    let summary = run_collect(&args, Utc::now(), &NoProgress).await.unwrap();
    assert!(summary.failed_calls >= 1, "{summary:?}");

    // The recorded answers, as the AWS CLI prints them.
    let key_file = |id: &str| read_json(&out.join(format!("kms/us-east-1/{id}.json")));
    let file = key_file(&good);
    assert_eq!(file["key_arn"], good_arn.as_str());
    assert_eq!(
        ok(&file["calls"]["DescribeKey"])["KeyMetadata"]["KeyState"],
        "Enabled"
    );
    assert_eq!(
        ok(&file["calls"]["GetKeyRotationStatus"])["KeyRotationEnabled"],
        true
    );
    let policy = ok(&file["calls"]["GetKeyPolicy"])["Policy"]
        .as_str()
        .expect("the policy stays a JSON string");
    assert!(policy.contains("kms:*"), "{policy}");
    let aliases = read_json(&out.join("kms/us-east-1/aliases.json"));
    assert!(ok(&aliases["calls"]["ListAliases"])["Aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["AliasName"] == alias.as_str() && a["TargetKeyId"] == good.as_str()));
    let grants = ok(&key_file(&granted)["calls"]["ListGrants"]).clone();
    assert_eq!(
        grants["Grants"][0]["GranteePrincipal"],
        "arn:aws:iam::444455556666:role/partner"
    );
    assert_eq!(
        code(&key_file(&locked)["calls"]["GetKeyPolicy"]),
        "AccessDeniedException"
    );

    let findings = key_findings(&out);
    let status = |arn: &str, control: &str| {
        let f = findings
            .get(&(arn.to_string(), control.to_string()))
            .unwrap_or_else(|| panic!("no {control} finding for {arn}"));
        (f.status, f.reason.clone())
    };
    let expect = |arn: &str, control: &str, want: Status| {
        let (got, reason) = status(arn, control);
        assert_eq!(got, want, "{arn} {control}: {reason}");
    };
    for control in [
        "kms.key-not-usable",
        "kms.key-rotation-disabled",
        "kms.key-policy-public",
        "kms.key-cross-account",
    ] {
        expect(&good_arn, control, Status::Pass);
    }
    let (_, reason) = status(&good_arn, "kms.key-not-usable");
    assert!(reason.contains(&format!("s3://{p}-good")), "{reason}");
    expect(&norotate_arn, "kms.key-rotation-disabled", Status::Fail);
    expect(&norotate_arn, "kms.key-not-usable", Status::Pass);
    let (got, reason) = status(&deleting_arn, "kms.key-not-usable");
    assert_eq!(got, Status::Fail);
    assert!(reason.contains("scheduled for deletion on"), "{reason}");
    expect(&disabled_arn, "kms.key-not-usable", Status::Fail);
    expect(&public_arn, "kms.key-policy-public", Status::Fail);
    expect(&public_arn, "kms.key-cross-account", Status::Pass);
    expect(&granted_arn, "kms.key-cross-account", Status::Fail);
    expect(&granted_arn, "kms.key-policy-public", Status::Pass);
    // Unreadable evidence is never a pass.
    for control in ["kms.key-policy-public", "kms.key-cross-account"] {
        let (got, reason) = status(&locked_arn, control);
        assert_eq!(got, Status::Error, "{control}: {reason}");
        assert!(reason.contains("AccessDeniedException"), "{reason}");
    }
    expect(&locked_arn, "kms.key-not-usable", Status::Pass);
    // The aws/s3 key: resolved through ListAliases, AWS managed (rotated by AWS).
    let managed = findings
        .iter()
        .find(|((_, control), f)| {
            control == "kms.key-rotation-disabled"
                && f.facts
                    .key
                    .as_ref()
                    .is_some_and(|k| k.protects == vec![format!("s3://{p}-managed")])
        })
        .map(|(_, f)| f)
        .expect("a finding for the aws/s3 key");
    assert_eq!(managed.status, Status::Pass, "{}", managed.reason);
    assert!(managed.reason.contains("AWS managed"), "{}", managed.reason);
}
