//! End-to-end tests of `collect` against a local moto server (S3, s3control, STS, CloudTrail).
//! Run them with `scripts/with-moto cargo test`; without PHI_AUDIT_TEST_ENDPOINT they fail and
//! say so. Every test uses its own bucket-name prefix and a scope that includes only its own
//! buckets, so tests run in parallel against one server.

use crate::support::collect as common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketCannedAcl, BucketLifecycleConfiguration, BucketLocationConstraint, BucketLoggingStatus,
    BucketVersioningStatus, CreateBucketConfiguration, DefaultRetention, DeleteMarkerReplication,
    DeleteMarkerReplicationStatus, Destination, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, LoggingEnabled, ObjectLockConfiguration, ObjectLockEnabled,
    ObjectLockRetentionMode, ObjectLockRule, ObjectOwnership, OwnershipControls,
    OwnershipControlsRule, PublicAccessBlockConfiguration, ReplicationConfiguration,
    ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use aws_sdk_s3::Client as S3;
use chrono::{Duration, Utc};
use common::{code, ok, read_json, temp_dirs_next_to};
use phi_audit::collect::{run_collect, CollectArgs, NoProgress};
use phi_audit::findings::Status;
use phi_audit::snapshot::Snapshot;
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";
const KMS_KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTH_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

async fn create(s3: &S3, name: &str) {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

fn policy(doc: Value) -> String {
    doc.to_string()
}

async fn versioning(s3: &S3, bucket: &str, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

async fn tag(s3: &S3, bucket: &str, key: &str, value: &str) {
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key(key).value(value).build().unwrap())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn write_scope(dir: &Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("scope.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Fixture buckets of the main test (suffixes after the test prefix), each with one
/// configuration to find in the snapshot.
struct Fleet {
    p: String,
}

impl Fleet {
    fn b(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.p)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_records_every_configuration_in_cli_shapes() {
    let endpoint = common::endpoint();
    let fleet = Fleet {
        p: common::unique_prefix("main"),
    };
    let clients = common::clients(&endpoint, "us-east-1").await;
    let s3 = clients.s3("us-east-1");
    let s3_eu = clients.s3("eu-west-1");

    // Plain bucket, never configured: every "not configured" answer.
    create(&s3, &fleet.b("plain")).await;

    // Public ACLs: AllUsers READ (world-listable-anonymous) and AuthenticatedUsers WRITE /
    // READ_ACP (world-writable, permissions-world-readable).
    create(&s3, &fleet.b("acl-public")).await;
    s3.put_bucket_acl()
        .bucket(fleet.b("acl-public"))
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    create(&s3, &fleet.b("acl-auth")).await;
    s3.put_bucket_acl()
        .bucket(fleet.b("acl-auth"))
        .grant_write(format!("uri=\"{AUTH_USERS}\""))
        .grant_read_acp(format!("uri=\"{AUTH_USERS}\""))
        .send()
        .await
        .unwrap();

    // Public policy: anyone may read objects; versioning suspended, SSE-S3.
    let pol = fleet.b("policy-public");
    create(&s3, &pol).await;
    let public_policy = policy(json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": format!("arn:aws:s3:::{pol}/*")}]
    }));
    s3.put_bucket_policy()
        .bucket(&pol)
        .policy(&public_policy)
        .send()
        .await
        .unwrap();
    versioning(&s3, &pol, BucketVersioningStatus::Enabled).await;
    versioning(&s3, &pol, BucketVersioningStatus::Suspended).await;
    s3.put_bucket_encryption()
        .bucket(&pol)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Public ACL neutralised by bucket-level Block Public Access (latent exposure).
    let bpa = fleet.b("acl-bpa");
    create(&s3, &bpa).await;
    // Explicit grants, one per grantee and permission (the form S3 itself answers with).
    s3.put_bucket_acl()
        .bucket(&bpa)
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .grant_write(format!("uri=\"{ALL_USERS}\""))
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(&bpa)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // ACLs disabled by BucketOwnerEnforced.
    let enforced = fleet.b("owner-enforced");
    create(&s3, &enforced).await;
    s3.put_bucket_ownership_controls()
        .bucket(&enforced)
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Log bucket (out of scope by an exclude pattern): grants the log delivery group.
    let logs = fleet.b("logs");
    create(&s3, &logs).await;
    s3.put_bucket_acl()
        .bucket(&logs)
        .acl(BucketCannedAcl::from("log-delivery-write"))
        .send()
        .await
        .unwrap();

    // Replica bucket for the replication rule.
    let replica = fleet.b("replica");
    create(&s3, &replica).await;
    versioning(&s3, &replica, BucketVersioningStatus::Enabled).await;

    // The well-configured PHI bucket: KMS, versioning, BPA, logging, object lock, lifecycle,
    // replication, TLS-only policy, tags.
    let secure = fleet.b("secure");
    s3.create_bucket()
        .bucket(&secure)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    versioning(&s3, &secure, BucketVersioningStatus::Enabled).await;
    s3.put_bucket_encryption()
        .bucket(&secure)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::AwsKms)
                                .kms_master_key_id(KMS_KEY)
                                .build()
                                .unwrap(),
                        )
                        .bucket_key_enabled(true)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_public_access_block()
        .bucket(&secure)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tls_policy = policy(json!({
        "Version": "2012-10-17",
        "Statement": [{"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [format!("arn:aws:s3:::{secure}"), format!("arn:aws:s3:::{secure}/*")],
                       "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    }));
    s3.put_bucket_policy()
        .bucket(&secure)
        .policy(&tls_policy)
        .send()
        .await
        .unwrap();
    s3.put_bucket_logging()
        .bucket(&secure)
        .bucket_logging_status(
            BucketLoggingStatus::builder()
                .logging_enabled(
                    LoggingEnabled::builder()
                        .target_bucket(&logs)
                        .target_prefix(format!("{secure}/"))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object_lock_configuration()
        .bucket(&secure)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(30)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_lifecycle_configuration()
        .bucket(&secure)
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(
                    LifecycleRule::builder()
                        .id("expire-tmp")
                        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
                        .status(ExpirationStatus::Enabled)
                        .expiration(LifecycleExpiration::builder().days(365).build())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_bucket_replication()
        .bucket(&secure)
        .replication_configuration(
            ReplicationConfiguration::builder()
                .role("arn:aws:iam::123456789012:role/replication")
                .rules(
                    ReplicationRule::builder()
                        .id("all")
                        .priority(1)
                        .status(ReplicationRuleStatus::Enabled)
                        .filter(ReplicationRuleFilter::builder().prefix("").build())
                        .delete_marker_replication(
                            DeleteMarkerReplication::builder()
                                .status(DeleteMarkerReplicationStatus::Disabled)
                                .build(),
                        )
                        .destination(
                            Destination::builder()
                                .bucket(format!("arn:aws:s3:::{replica}"))
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    tag(&s3, &secure, "phi", "true").await;

    // Access-log objects: an old one and a recent one (found through the one-day window).
    let now = Utc::now();
    let old_key = format!(
        "{secure}/{}-0000000000000001",
        (now - Duration::days(3)).format("%Y-%m-%d-%H-%M-%S")
    );
    let new_key = format!(
        "{secure}/{}-0000000000000002",
        (now - Duration::hours(2)).format("%Y-%m-%d-%H-%M-%S")
    );
    for key in [&old_key, &new_key] {
        s3.put_object()
            .bucket(&logs)
            .key(key)
            .body(ByteStream::from_static(b"log line\n"))
            .send()
            .await
            .unwrap();
    }

    // A bucket in another region: its calls must go to eu-west-1.
    let eu = fleet.b("eu");
    s3_eu
        .create_bucket()
        .bucket(&eu)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Account-level Block Public Access through s3control. It is account-wide on the shared
    // server, so it is set to "configured, nothing blocked": other tests' public fixtures stay
    // public whatever the order.
    clients
        .s3control()
        .put_public_access_block()
        .account_id(ACCOUNT)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(false)
                .ignore_public_acls(false)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // Trails: a multi-region one with classic data-event selectors for the secure bucket, and
    // a single-region one with advanced selectors for the public-policy bucket.
    let trail_bucket = fleet.b("trail");
    create(&s3, &trail_bucket).await;
    let ct = clients.cloudtrail("us-east-1");
    let classic = ct
        .create_trail()
        .name(fleet.b("classic"))
        .s3_bucket_name(&trail_bucket)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .send()
        .await
        .unwrap();
    let classic_arn = classic.trail_arn().unwrap().to_owned();
    ct.start_logging()
        .name(fleet.b("classic"))
        .send()
        .await
        .unwrap();
    use aws_sdk_cloudtrail::types::{
        AdvancedEventSelector, AdvancedFieldSelector, DataResource, EventSelector, ReadWriteType,
    };
    ct.put_event_selectors()
        .trail_name(fleet.b("classic"))
        .event_selectors(
            EventSelector::builder()
                .read_write_type(ReadWriteType::All)
                .include_management_events(true)
                .data_resources(
                    DataResource::builder()
                        .r#type("AWS::S3::Object")
                        .values(format!("arn:aws:s3:::{secure}/"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let advanced = ct
        .create_trail()
        .name(fleet.b("advanced"))
        .s3_bucket_name(&trail_bucket)
        .send()
        .await
        .unwrap();
    let advanced_arn = advanced.trail_arn().unwrap().to_owned();
    let field = |name: &str| AdvancedFieldSelector::builder().field(name);
    ct.put_event_selectors()
        .trail_name(fleet.b("advanced"))
        .advanced_event_selectors(
            AdvancedEventSelector::builder()
                .name("S3 data events of the public bucket")
                .field_selectors(field("eventCategory").equals("Data").build().unwrap())
                .field_selectors(
                    field("resources.type")
                        .equals("AWS::S3::Object")
                        .build()
                        .unwrap(),
                )
                .field_selectors(
                    field("resources.ARN")
                        .starts_with(format!("arn:aws:s3:::{pol}/"))
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // Collect.
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(
        dir.path(),
        &format!(
            "include: [\"{p}-*\"]\nexclude: [\"{p}-logs\", \"{p}-trail\"]\n",
            p = fleet.p
        ),
    );
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(endpoint.clone());
    args.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    args.scope = Some(scope.clone());
    args.concurrency = 8;
    args.organization = Some("Example Health".into());
    let summary = run_collect(&args, now, &NoProgress)
        .await
        .expect("collect succeeds");
    assert_eq!(summary.account_id, ACCOUNT);
    assert!(summary.api_calls > 0);
    assert!(temp_dirs_next_to(&out).is_empty());

    assert_findings(&out, &fleet);

    // snapshot.json
    let snap = read_json(&out.join("snapshot.json"));
    assert_eq!(snap["format"], "phi-audit-snapshot/1");
    assert_eq!(snap["account_id"], ACCOUNT);
    assert_eq!(snap["partition"], "aws");
    assert_eq!(snap["organization"], "Example Health");
    assert_eq!(snap["tool_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(snap["regions"], json!(["eu-west-1", "us-east-1"]));
    assert_eq!(snap["scope"]["include"], json!([format!("{}-*", fleet.p)]));
    assert_eq!(
        snap["collected_at"],
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(snap["review_period"]["until"], snap["collected_at"]);
    assert_eq!(
        ok(&snap["account"]["GetPublicAccessBlock"]),
        &json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": false,
               "IgnorePublicAcls": false, "BlockPublicPolicy": false, "RestrictPublicBuckets": false}})
    );

    let bucket = |suffix: &str| {
        read_json(
            &out.join("buckets")
                .join(format!("{}.json", fleet.b(suffix))),
        )
    };

    // The plain bucket: "not configured" everywhere, with the AWS error codes.
    let plain = bucket("plain");
    assert_eq!(plain["name"], fleet.b("plain"));
    assert_eq!(plain["region"], "us-east-1");
    assert_eq!(plain["in_scope"], true);
    assert!(plain.get("scope_reason").is_none());
    let calls = &plain["calls"];
    let names: BTreeSet<&str> = calls
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "GetBucketLocation",
            "GetBucketAcl",
            "GetBucketPolicy",
            "GetBucketPolicyStatus",
            "GetPublicAccessBlock",
            "GetBucketOwnershipControls",
            "GetBucketVersioning",
            "GetBucketEncryption",
            "GetBucketLogging",
            "GetObjectLockConfiguration",
            "GetBucketLifecycleConfiguration",
            "GetBucketReplication",
            "GetBucketTagging",
        ])
    );
    assert_eq!(
        ok(&calls["GetBucketLocation"]),
        &json!({"LocationConstraint": null})
    );
    assert_eq!(ok(&calls["GetBucketVersioning"]), &json!({}));
    assert_eq!(ok(&calls["GetBucketLogging"]), &json!({}));
    assert_eq!(code(&calls["GetBucketPolicy"]), "NoSuchBucketPolicy");
    assert_eq!(code(&calls["GetBucketPolicyStatus"]), "NoSuchBucketPolicy");
    assert_eq!(
        code(&calls["GetPublicAccessBlock"]),
        "NoSuchPublicAccessBlockConfiguration"
    );
    assert_eq!(
        code(&calls["GetBucketOwnershipControls"]),
        "OwnershipControlsNotFoundError"
    );
    assert_eq!(
        code(&calls["GetBucketEncryption"]),
        "ServerSideEncryptionConfigurationNotFoundError"
    );
    assert_eq!(
        code(&calls["GetObjectLockConfiguration"]),
        "ObjectLockConfigurationNotFoundError"
    );
    assert_eq!(
        code(&calls["GetBucketLifecycleConfiguration"]),
        "NoSuchLifecycleConfiguration"
    );
    assert_eq!(
        code(&calls["GetBucketReplication"]),
        "ReplicationConfigurationNotFoundError"
    );
    assert_eq!(code(&calls["GetBucketTagging"]), "NoSuchTagSet");
    assert!(calls["GetBucketPolicy"]["error"]["message"].is_string());
    let acl = ok(&calls["GetBucketAcl"]);
    assert!(acl["Owner"]["ID"].is_string());
    assert_eq!(acl["Grants"][0]["Grantee"]["Type"], "CanonicalUser");
    assert_eq!(acl["Grants"][0]["Permission"], "FULL_CONTROL");

    // Public ACLs: the group grants in CLI shape.
    let grants = |suffix: &str| ok(&bucket(suffix)["calls"]["GetBucketAcl"])["Grants"].clone();
    let public = grants("acl-public");
    assert!(
        public.as_array().unwrap().contains(
            &json!({"Grantee": {"Type": "Group", "URI": ALL_USERS}, "Permission": "READ"})
        ),
        "{public}"
    );
    let auth = grants("acl-auth");
    for perm in ["WRITE", "READ_ACP"] {
        assert!(
            auth.as_array().unwrap().contains(
                &json!({"Grantee": {"Type": "Group", "URI": AUTH_USERS}, "Permission": perm})
            ),
            "{auth}"
        );
    }

    // Public policy: the policy stays the JSON string; status public; versioning suspended;
    // SSE-S3.
    let p = bucket("policy-public");
    let policy_text = ok(&p["calls"]["GetBucketPolicy"])["Policy"]
        .as_str()
        .unwrap();
    let parsed: Value = serde_json::from_str(policy_text).unwrap();
    assert_eq!(parsed["Statement"][0]["Principal"], "*");
    assert_eq!(
        ok(&p["calls"]["GetBucketPolicyStatus"]),
        &json!({"PolicyStatus": {"IsPublic": true}})
    );
    assert_eq!(
        ok(&p["calls"]["GetBucketVersioning"]),
        &json!({"Status": "Suspended"})
    );
    assert_eq!(
        ok(&p["calls"]["GetBucketEncryption"])["ServerSideEncryptionConfiguration"]["Rules"][0]
            ["ApplyServerSideEncryptionByDefault"],
        json!({"SSEAlgorithm": "AES256"})
    );

    // Bucket-level BPA and the latent public ACL it neutralises.
    let b = bucket("acl-bpa");
    assert_eq!(
        ok(&b["calls"]["GetPublicAccessBlock"]),
        &json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true,
               "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}})
    );
    let bpa_grants = ok(&b["calls"]["GetBucketAcl"])["Grants"].clone();
    assert!(
        bpa_grants
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["Grantee"]["URI"] == ALL_USERS && g["Permission"] == "WRITE"),
        "{bpa_grants}"
    );

    // Ownership controls.
    assert_eq!(
        ok(&bucket("owner-enforced")["calls"]["GetBucketOwnershipControls"]),
        &json!({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}})
    );

    // The secure bucket.
    let s = bucket("secure");
    let c = &s["calls"];
    assert_eq!(ok(&c["GetBucketVersioning"]), &json!({"Status": "Enabled"}));
    assert_eq!(
        ok(&c["GetBucketEncryption"]),
        &json!({"ServerSideEncryptionConfiguration": {"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY},
            "BucketKeyEnabled": true}]}})
    );
    assert_eq!(
        ok(&c["GetBucketLogging"])["LoggingEnabled"]["TargetBucket"],
        json!(logs)
    );
    assert_eq!(
        ok(&c["GetBucketLogging"])["LoggingEnabled"]["TargetPrefix"],
        json!(format!("{secure}/"))
    );
    assert_eq!(
        ok(&c["GetObjectLockConfiguration"]),
        &json!({"ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled",
               "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 30}}}})
    );
    let rule = &ok(&c["GetBucketLifecycleConfiguration"])["Rules"][0];
    assert_eq!(rule["ID"], "expire-tmp");
    assert_eq!(rule["Status"], "Enabled");
    assert_eq!(rule["Expiration"]["Days"], 365);
    assert_eq!(rule["Filter"]["Prefix"], "tmp/");
    let repl = &ok(&c["GetBucketReplication"])["ReplicationConfiguration"];
    assert_eq!(repl["Role"], "arn:aws:iam::123456789012:role/replication");
    assert_eq!(repl["Rules"][0]["Status"], "Enabled");
    assert_eq!(
        repl["Rules"][0]["Destination"]["Bucket"],
        format!("arn:aws:s3:::{replica}")
    );
    assert_eq!(
        ok(&c["GetBucketTagging"]),
        &json!({"TagSet": [{"Key": "phi", "Value": "true"}]})
    );
    let tls: Value =
        serde_json::from_str(ok(&c["GetBucketPolicy"])["Policy"].as_str().unwrap()).unwrap();
    assert_eq!(
        tls["Statement"][0]["Condition"]["Bool"]["aws:SecureTransport"],
        "false"
    );

    // Access-log delivery evidence: the page holding the newest log object, listed with
    // StartAfter rather than from the start of the prefix.
    let al = read_json(&out.join("access-logs").join(format!("{secure}.json")));
    assert_eq!(al["target_bucket"], json!(logs));
    assert_eq!(al["target_prefix"], json!(format!("{secure}/")));
    let page = ok(&al["ListObjectsV2"]);
    let keys: Vec<&str> = page["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["Key"].as_str().unwrap())
        .collect();
    // moto itself delivers access logs for the requests above, so the newest objects may be
    // moto's (seconds old) rather than ours (two hours old); either way the listing starts near
    // --until and never at the start of the prefix.
    let start_after = page["StartAfter"].as_str().unwrap();
    assert!(
        start_after.starts_with(&format!("{secure}/")),
        "{start_after}"
    );
    assert!(start_after > old_key.as_str(), "{start_after}");
    assert!(!keys.is_empty());
    assert!(!keys.contains(&old_key.as_str()), "{keys:?}");
    assert!(keys
        .iter()
        .all(|k| *k > start_after && k.starts_with(&format!("{secure}/"))));
    assert!(*keys.iter().max().unwrap() >= new_key.as_str(), "{keys:?}");
    assert!(page["Contents"][0]["LastModified"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    // Only buckets with logging get access-log evidence.
    assert!(!out
        .join("access-logs")
        .join(format!("{}.json", fleet.b("plain")))
        .exists());

    // Region routing.
    let e = bucket("eu");
    assert_eq!(e["region"], "eu-west-1");
    assert_eq!(
        ok(&e["calls"]["GetBucketLocation"]),
        &json!({"LocationConstraint": "eu-west-1"})
    );
    assert_eq!(ok(&e["calls"]["GetBucketVersioning"]), &json!({}));

    // Out of scope: listed with the reason, only the calls that decide scope.
    let l = bucket("logs");
    assert_eq!(l["in_scope"], false);
    assert!(
        l["scope_reason"].as_str().unwrap().contains("excluded"),
        "{l}"
    );
    let names: BTreeSet<&str> = l["calls"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["GetBucketLocation", "GetBucketTagging"])
    );

    // CloudTrail.
    let ct_us = read_json(&out.join("cloudtrail/us-east-1.json"));
    let listed: Vec<&str> = ok(&ct_us["DescribeTrails"])["trailList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["TrailARN"].as_str())
        .collect();
    assert!(listed.contains(&classic_arn.as_str()) && listed.contains(&advanced_arn.as_str()));
    let classic_ev = &ct_us["trails"][&classic_arn];
    assert_eq!(ok(&classic_ev["GetTrailStatus"])["IsLogging"], true);
    assert_eq!(
        ok(&classic_ev["GetEventSelectors"])["EventSelectors"][0]["DataResources"],
        json!([{"Type": "AWS::S3::Object", "Values": [format!("arn:aws:s3:::{secure}/")]}])
    );
    assert_eq!(
        ok(&classic_ev["GetEventSelectors"])["EventSelectors"][0]["ReadWriteType"],
        "All"
    );
    let adv = ok(&ct_us["trails"][&advanced_arn]["GetEventSelectors"]);
    let fields = &adv["AdvancedEventSelectors"][0]["FieldSelectors"];
    assert!(fields.as_array().unwrap().contains(
        &json!({"Field": "resources.ARN", "StartsWith": [format!("arn:aws:s3:::{pol}/")]})
    ));
    assert_eq!(
        ok(&ct_us["trails"][&advanced_arn]["GetTrailStatus"])["IsLogging"],
        false
    );
    assert!(ok(&ct_us["LookupEvents"])["Events"].is_array());
    let trail_doc = ok(&ct_us["DescribeTrails"])["trailList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["TrailARN"] == classic_arn.as_str())
        .unwrap()
        .clone();
    assert_eq!(trail_doc["IsMultiRegionTrail"], true);
    assert_eq!(trail_doc["LogFileValidationEnabled"], true);
    assert_eq!(trail_doc["HomeRegion"], "us-east-1");
    // The eu-west-1 file exists; a multi-region trail shows there as a shadow trail.
    let ct_eu = read_json(&out.join("cloudtrail/eu-west-1.json"));
    let eu_trails: Vec<&str> = ok(&ct_eu["DescribeTrails"])["trailList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["TrailARN"].as_str())
        .collect();
    assert!(
        eu_trails.contains(&classic_arn.as_str()),
        "shadow trail listed: {eu_trails:?}"
    );
    assert!(
        !eu_trails.contains(&advanced_arn.as_str()),
        "single-region trail not in eu-west-1"
    );
    // Its status is asked of its home region, once, and recorded in both region files.
    assert_eq!(ct_eu["trails"][&classic_arn], ct_us["trails"][&classic_arn]);

    // A second collection of the same state differs only in timestamps.
    let out2 = dir.path().join("snap2");
    let mut args2 = args.clone();
    args2.out = out2.clone();
    run_collect(&args2, now, &NoProgress)
        .await
        .expect("second collect");
    for suffix in [
        "plain",
        "acl-public",
        "policy-public",
        "secure",
        "eu",
        "logs",
    ] {
        let f = format!("buckets/{}.json", fleet.b(suffix));
        assert_eq!(
            std::fs::read_to_string(out.join(&f)).unwrap(),
            std::fs::read_to_string(out2.join(&f)).unwrap(),
            "{f} differs between two collections"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("snapshot.json")).unwrap(),
        std::fs::read_to_string(out2.join("snapshot.json")).unwrap()
    );
}

/// Tag selectors decide scope, through the built binary.
#[test]
fn binary_collect_applies_tag_scope() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("tags");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clients = common::clients(&endpoint, "us-east-1").await;
        let s3 = clients.s3("us-east-1");
        for (suffix, value) in [
            ("phi", Some("true")),
            ("nophi", Some("false")),
            ("untagged", None),
        ] {
            let name = format!("{p}-{suffix}");
            create(&s3, &name).await;
            if let Some(v) = value {
                tag(&s3, &name, "phi", v).await;
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(
        dir.path(),
        // A bare exclusion (no justification, no approver) is applied, with a warning.
        &format!("include: [\"{p}-*\"]\nexclude: [\"{p}-gone-*\"]\ntags:\n  phi: \"true\"\n"),
    );
    let out = dir.path().join("snap");
    // The endpoint comes from the standard AWS_ENDPOINT_URL variable this time.
    let status = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .env("AWS_ENDPOINT_URL", &endpoint)
        .args(["collect", "--out"])
        .arg(&out)
        .args(["--region", "us-east-1", "--scope"])
        .arg(&scope)
        .args([
            "--since",
            "2026-01-01",
            "--until",
            "2026-03-31",
            "--collected-at",
            "2026-04-01T12:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(stderr.contains("collected"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: scope exclusion \"{p}-gone-*\" has no justification or approver"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("testing"),
        "credentials must not be printed: {stderr}"
    );

    let snap = read_json(&out.join("snapshot.json"));
    assert_eq!(snap["collected_at"], "2026-04-01T12:00:00Z");
    assert_eq!(
        snap["review_period"],
        json!({"since": "2026-01-01T00:00:00Z", "until": "2026-03-31T23:59:59Z"})
    );
    assert_eq!(snap["scope"]["tags"], json!({"phi": "true"}));
    assert_eq!(
        snap["scope"]["exclude"],
        json!([{"pattern": format!("{p}-gone-*")}])
    );
    // The chain of custody: who collected (moto's default identity), and how.
    let collector = &snap["collector"];
    let caller = &collector["GetCallerIdentity"];
    assert_eq!(caller["Account"], snap["account_id"], "{collector}");
    assert!(
        caller["Arn"].as_str().unwrap().starts_with("arn:aws:"),
        "{collector}"
    );
    assert!(
        !caller["UserId"].as_str().unwrap().is_empty(),
        "{collector}"
    );
    let scope_sha256: String = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(std::fs::read(&scope).unwrap());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(
        collector["options"],
        json!({
            "regions": ["us-east-1"],
            "scope_file": {"path": scope.display().to_string(), "sha256": scope_sha256},
            "since": "2026-01-01T00:00:00Z",
            "until": "2026-03-31T23:59:59Z",
            "concurrency": 16,
            "endpoint_url": endpoint,
            "profile": null,
            "organization_mode": false,
        })
    );
    let b = |s: &str| read_json(&out.join(format!("buckets/{p}-{s}.json")));
    assert_eq!(b("phi")["in_scope"], true);
    assert_eq!(b("phi")["calls"].as_object().unwrap().len(), 13);
    for s in ["nophi", "untagged"] {
        let doc = b(s);
        assert_eq!(doc["in_scope"], false, "{doc}");
        assert!(
            doc["scope_reason"].as_str().unwrap().contains("phi"),
            "{doc}"
        );
        assert_eq!(doc["calls"].as_object().unwrap().len(), 2);
    }
    // Buckets of other tests on the shared server are listed as out of scope, not evaluated.
    // No file holds the (dummy) secret key.
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(
            !text.contains("AWS_SECRET") && !text.contains("\"testing\""),
            "{}",
            entry.display()
        );
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

/// Evaluates a collected snapshot and returns each finding's status by (subject, control).
fn verdicts(out: &Path) -> std::collections::BTreeMap<(String, String), (Status, String)> {
    let snapshot = Snapshot::load(out).expect("the collected snapshot loads");
    // What collect writes is exactly what the strict reader knows: no unknown members.
    assert_eq!(snapshot.warnings, Vec::new());
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    phi_audit::evaluate::evaluate(&snapshot, &catalog)
        .into_iter()
        .map(|f| {
            (
                (f.subject.to_string(), f.control.to_string()),
                (f.status, f.reason.to_string()),
            )
        })
        .collect()
}

/// What `evaluate` draws from the collected fixtures: each misconfiguration made through the
/// API shows up as the failure it should, and the well-kept bucket passes.
fn assert_findings(out: &Path, fleet: &Fleet) {
    let verdicts = verdicts(out);
    let status = |suffix: &str, control: &str| {
        let key = (format!("s3://{}", fleet.b(suffix)), control.to_string());
        verdicts
            .get(&key)
            .unwrap_or_else(|| panic!("no finding {key:?}"))
            .clone()
    };
    let expect = |suffix: &str, control: &str, expected: Status| {
        let (got, reason) = status(suffix, control);
        assert_eq!(got, expected, "{suffix} {control}: {reason}");
    };
    for control in [
        "s3.versioning-disabled",
        "s3.default-encryption-disabled",
        "s3.access-logging-disabled",
        "s3.public-access-block-incomplete",
        "s3.acls-enabled",
        "s3.object-lock-disabled",
        "s3.replication-disabled",
        "s3.lifecycle-missing",
        "s3.tls-not-enforced",
        "s3.encryption-not-kms",
    ] {
        expect("plain", control, Status::Fail);
        expect("eu", control, Status::Fail);
    }
    for control in [
        "s3.world-readable-anonymous",
        "s3.world-listable-anonymous",
        "s3.world-writable-anonymous",
        "s3.world-listable",
        "s3.world-writable",
        "s3.permissions-world-readable",
        "s3.permissions-world-writable",
    ] {
        expect("plain", control, Status::Pass);
    }
    expect("acl-public", "s3.world-listable-anonymous", Status::Fail);
    expect("acl-public", "s3.world-listable", Status::Fail);
    expect("acl-public", "s3.world-writable-anonymous", Status::Pass);
    expect("acl-auth", "s3.world-writable", Status::Fail);
    expect("acl-auth", "s3.permissions-world-readable", Status::Fail);
    expect("acl-auth", "s3.world-writable-anonymous", Status::Pass);
    expect("policy-public", "s3.world-readable-anonymous", Status::Fail);
    expect("policy-public", "s3.versioning-disabled", Status::Fail);
    expect(
        "policy-public",
        "s3.default-encryption-disabled",
        Status::Pass,
    );
    expect("policy-public", "s3.encryption-not-kms", Status::Fail);
    // Block Public Access on the bucket neutralises its public ACL: latent, not failing.
    let (got, reason) = status("acl-bpa", "s3.world-listable-anonymous");
    assert_eq!(got, Status::Pass, "{reason}");
    assert!(reason.contains("latent"), "{reason}");
    expect("owner-enforced", "s3.acls-enabled", Status::Pass);
    for control in [
        "s3.versioning-disabled",
        "s3.encryption-not-kms",
        "s3.access-logging-disabled",
        "s3.tls-not-enforced",
        "s3.public-access-block-incomplete",
        "s3.object-lock-disabled",
        "s3.lifecycle-missing",
        "s3.replication-disabled",
        "s3.data-events-not-logged",
        "s3.world-readable-anonymous",
    ] {
        expect("secure", control, Status::Pass);
    }
    // Out-of-scope buckets are listed but not evaluated.
    assert!(!verdicts
        .keys()
        .any(|(s, _)| s == &format!("s3://{}", fleet.b("logs"))));
}

/// A bucket whose ACL and policy the caller may not read: the calls are recorded as
/// AccessDenied, the run completes, and the findings that needed them are `error`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_recorded_and_the_run_completes() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("denied");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let s3 = clients.s3("us-east-1");
    let denied = format!("{p}-locked");
    let fine = format!("{p}-fine");
    create(&s3, &denied).await;
    create(&s3, &fine).await;

    let upstream: std::net::SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("PHI_AUDIT_TEST_ENDPOINT is http://127.0.0.1:PORT");
    let proxy = common::proxy::start(
        upstream,
        common::proxy::ProxyConfig {
            deny_bucket: Some(denied.clone()),
            deny_queries: vec!["acl".into(), "policy".into()],
            ..Default::default()
        },
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(format!("http://{proxy}"));
    args.regions = vec!["us-east-1".into()];
    args.scope = Some(scope);
    let summary = run_collect(&args, Utc::now(), &NoProgress)
        .await
        .expect("the run completes");
    assert!(summary.failed_calls >= 2, "{summary:?}");

    let locked = read_json(&out.join(format!("buckets/{denied}.json")));
    assert_eq!(locked["in_scope"], true);
    for op in ["GetBucketAcl", "GetBucketPolicy"] {
        assert_eq!(
            code(&locked["calls"][op]),
            "AccessDenied",
            "{op}: {}",
            locked["calls"][op]
        );
        assert_eq!(locked["calls"][op]["error"]["message"], "Access Denied");
    }
    // The other calls of the same bucket, and the other bucket, are unaffected.
    assert_eq!(ok(&locked["calls"]["GetBucketVersioning"]), &json!({}));
    assert_eq!(
        code(&locked["calls"]["GetBucketPolicyStatus"]),
        "NoSuchBucketPolicy"
    );
    let other = read_json(&out.join(format!("buckets/{fine}.json")));
    assert!(ok(&other["calls"]["GetBucketAcl"])["Grants"].is_array());
    assert_eq!(
        code(&other["calls"]["GetBucketPolicy"]),
        "NoSuchBucketPolicy"
    );

    // Evidence that could not be read is never a pass.
    let verdicts = verdicts(&out);
    for control in [
        "s3.world-listable-anonymous",
        "s3.world-readable-anonymous",
        "s3.permissions-world-writable",
        "s3.tls-not-enforced",
        "s3.cross-account-access",
    ] {
        let (status, reason) = &verdicts[&(format!("s3://{denied}"), control.to_string())];
        assert_eq!(*status, Status::Error, "{control}: {reason}");
        assert!(reason.contains("AccessDenied"), "{reason}");
        let (status, reason) = &verdicts[&(format!("s3://{fine}"), control.to_string())];
        assert_ne!(*status, Status::Error, "{control}: {reason}");
    }
}

/// Ctrl-C in the middle of a run: exit 130, and neither the snapshot nor its temporary
/// directory is left behind.
#[test]
fn interrupted_run_leaves_no_snapshot() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("intr");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let upstream: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let proxy = rt.block_on(async {
        let clients = common::clients(&endpoint, "us-east-1").await;
        for i in 0..3 {
            create(&clients.s3("us-east-1"), &format!("{p}-{i}")).await;
        }
        // Slow responses keep the run going long enough to interrupt it.
        common::proxy::start(
            upstream,
            common::proxy::ProxyConfig {
                latency: std::time::Duration::from_millis(300),
                ..Default::default()
            },
        )
        .await
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    let mut child = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args(["collect", "--out"])
        .arg(&out)
        .args([
            "--endpoint-url",
            &format!("http://{proxy}"),
            "--region",
            "us-east-1",
            "--scope",
        ])
        .arg(&scope)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary snapshot exists, i.e. the run is writing.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while temp_dirs_next_to(&out).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary directory appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "collect ended before it was interrupted"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!out.exists());
    assert!(temp_dirs_next_to(&out).is_empty());
    drop(rt);
}

/// ListBuckets is followed page by page (the launcher gives moto real paging).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_buckets_follows_every_page() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("page");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let s3 = clients.s3("us-east-1");
    let ours: BTreeSet<String> = (0..5).map(|i| format!("{p}-{i}")).collect();
    for name in &ours {
        create(&s3, name).await;
    }
    let limiter = phi_audit::collect::limit::Limiter::new(2);
    let listed = phi_audit::collect::s3::list_buckets(&limiter, &s3, 2)
        .await
        .unwrap();
    let names: BTreeSet<String> = listed.iter().map(|(n, _)| n.clone()).collect();
    assert!(ours.is_subset(&names), "{names:?}");
    assert_eq!(names.len(), listed.len(), "no duplicates");
    // Two buckets a page: at least ceil(listed / 2) requests.
    assert!(limiter.calls() as usize >= listed.len().div_ceil(2));
}

/// A bucket asked of the wrong region's endpoint: S3 answers 301 with `x-amz-bucket-region`,
/// and collect asks that region instead (real S3 behaviour, played by the proxy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_region_redirect_is_followed() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("redir");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let bucket = format!("{p}-eu");
    clients
        .s3("eu-west-1")
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let upstream: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    let proxy = common::proxy::start(
        upstream,
        common::proxy::ProxyConfig {
            redirect: Some((bucket.clone(), "eu-west-1".into())),
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(format!("http://{proxy}"));
    args.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    args.scope = Some(scope);
    run_collect(&args, Utc::now(), &NoProgress).await.unwrap();
    let doc = read_json(&out.join(format!("buckets/{bucket}.json")));
    assert_eq!(doc["region"], "eu-west-1");
    assert_eq!(
        ok(&doc["calls"]["GetBucketLocation"]),
        &json!({"LocationConstraint": "eu-west-1"})
    );
    // Every later call went to eu-west-1 (the proxy would have answered 301 otherwise).
    for (op, result) in doc["calls"].as_object().unwrap() {
        assert_ne!(
            result["error"]["code"], "PermanentRedirect",
            "{op}: {result}"
        );
    }
    assert_eq!(ok(&doc["calls"]["GetBucketVersioning"]), &json!({}));
}

/// Throttling (503 SlowDown) is retried by the SDK with backoff: the evidence is complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("slow");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let bucket = format!("{p}-busy");
    create(&clients.s3("us-east-1"), &bucket).await;
    let upstream: std::net::SocketAddr = endpoint.trim_start_matches("http://").parse().unwrap();
    // Four throttled answers in a row: fewer than the SDK's five attempts per call.
    let remaining = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(4));
    let proxy = common::proxy::start(
        upstream,
        common::proxy::ProxyConfig {
            throttle: Some((bucket.clone(), remaining.clone())),
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(format!("http://{proxy}"));
    args.regions = vec!["us-east-1".into()];
    args.scope = Some(scope);
    let summary = run_collect(&args, Utc::now(), &NoProgress).await.unwrap();
    assert_eq!(
        remaining.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "503s were served"
    );
    let doc = read_json(&out.join(format!("buckets/{bucket}.json")));
    for (op, result) in doc["calls"].as_object().unwrap() {
        let code = result["error"]["code"].as_str().unwrap_or("");
        assert_ne!(code, "SlowDown", "{op} was not retried: {result}");
    }
    assert_eq!(ok(&doc["calls"]["GetBucketVersioning"]), &json!({}));
    assert_eq!(summary.failed_calls, 0, "{summary:?}");
}

/// `--profile` picks credentials and region from the AWS config files (no environment keys).
#[test]
fn binary_collect_uses_the_named_profile() {
    let endpoint = common::endpoint();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[profile audit]\nregion = eu-west-1\n").unwrap();
    std::fs::write(
        &credentials,
        "[audit]\naws_access_key_id = AKIAPROFILEEXAMPLE00\naws_secret_access_key = profile-secret-never-printed\n",
    )
    .unwrap();
    let scope = write_scope(dir.path(), "include: [\"no-such-prefix-*\"]\n");
    let out = dir.path().join("snap");
    let o = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "collect",
            "--profile",
            "audit",
            "--endpoint-url",
            &endpoint,
            "--out",
        ])
        .arg(&out)
        .arg("--scope")
        .arg(&scope)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(!stderr.contains("profile-secret"), "{stderr}");
    let snap = read_json(&out.join("snapshot.json"));
    // No --region and no bucket in scope: CloudTrail is read in the profile's region.
    assert_eq!(snap["regions"], json!(["eu-west-1"]));
    assert!(out.join("cloudtrail/eu-west-1.json").exists());
    for entry in walk(&out) {
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(!text.contains("profile-secret"), "{}", entry.display());
    }
}

/// `run` = collect then report: one command from a live endpoint to a verified bundle.
#[test]
fn binary_run_collects_and_writes_a_verifiable_bundle() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("run");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clients = common::clients(&endpoint, "us-east-1").await;
        let s3 = clients.s3("us-east-1");
        create(&s3, &format!("{p}-records")).await;
        create(&s3, &format!("{p}-public")).await;
        s3.put_bucket_acl()
            .bucket(format!("{p}-public"))
            .acl(BucketCannedAcl::PublicRead)
            .send()
            .await
            .unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let snapshot = dir.path().join("snap");
    let bundle = dir.path().join("evidence.zip");
    let output = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args([
            "run",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--out",
        ])
        .arg(&snapshot)
        .arg("--scope")
        .arg(&scope)
        .arg("--bundle")
        .arg(&bundle)
        .args([
            "--collected-at",
            "2026-04-01T12:00:00Z",
            "--generated-at",
            "2026-04-02T08:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(snapshot.join("snapshot.json").is_file());
    let verify = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .arg("verify")
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        verify.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    // The bundle's findings carry the public bucket's failure.
    let file = std::fs::File::open(&bundle).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("findings.json").unwrap(), &mut text).unwrap();
    let findings: Value = serde_json::from_str(&text).unwrap();
    assert!(findings["findings"].as_array().unwrap().iter().any(|f| {
        f["subject"] == format!("s3://{p}-public")
            && f["control"] == "s3.world-listable-anonymous"
            && f["status"] == "fail"
    }));
}

/// A collect run killed outright leaves `<out>.tmp-<pid>`; the next run into the same `--out`
/// removes it once its process is gone, says so on stderr, and writes the snapshot.
#[test]
fn binary_collect_removes_the_temporary_of_a_killed_run() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("stale");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let clients = common::clients(&endpoint, "us-east-1").await;
        create(&clients.s3("us-east-1"), &format!("{p}-b")).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    // A pid no process can have (above the kernel's limit) stands for the killed run.
    let pid_max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let dead = pid_max + 1;
    let stale = dir.path().join(format!("snap.tmp-{dead}"));
    std::fs::create_dir_all(stale.join("buckets")).unwrap();
    std::fs::write(stale.join("buckets/half.json"), "{").unwrap();
    // A live process's temporary (this test's own pid) is never touched.
    let live = dir.path().join(format!("snap.tmp-{}", std::process::id()));
    std::fs::create_dir(&live).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args([
            "collect",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--out",
        ])
        .arg(&out)
        .arg("--scope")
        .arg(&scope)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "removed stale temporary {} left by an interrupted run (pid {dead})",
            stale.display()
        )),
        "{stderr}"
    );
    assert!(!stale.exists());
    assert!(live.is_dir());
    assert!(out.join(format!("buckets/{p}-b.json")).is_file());
}

/// The canned ACL `log-delivery-write`, as AWS documents it: the owner keeps FULL_CONTROL and the
/// S3 log delivery group gets WRITE and READ_ACP. moto 5.2.5 drops the WRITE grant; the launcher
/// (scripts/moto/server.py) corrects it, and collect records both grants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_delivery_write_acl_records_both_log_delivery_grants() {
    const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
    let endpoint = common::endpoint();
    let p = common::unique_prefix("ldw");
    let clients = common::clients(&endpoint, "us-east-1").await;
    let s3 = clients.s3("us-east-1");
    let bucket = format!("{p}-logs");
    create(&s3, &bucket).await;
    s3.put_bucket_acl()
        .bucket(&bucket)
        .acl(BucketCannedAcl::from("log-delivery-write"))
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let scope = write_scope(dir.path(), &format!("include: [\"{p}-*\"]\n"));
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(endpoint.clone());
    args.regions = vec!["us-east-1".into()];
    args.scope = Some(scope);
    run_collect(&args, Utc::now(), &NoProgress).await.unwrap();

    let recorded = read_json(&out.join(format!("buckets/{bucket}.json")));
    let grants = ok(&recorded["calls"]["GetBucketAcl"])["Grants"]
        .as_array()
        .unwrap()
        .clone();
    let permissions_of = |uri: Option<&str>| -> BTreeSet<String> {
        grants
            .iter()
            .filter(|g| g["Grantee"]["URI"].as_str() == uri)
            .map(|g| g["Permission"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        permissions_of(Some(LOG_DELIVERY)),
        BTreeSet::from(["READ_ACP".to_owned(), "WRITE".to_owned()]),
        "{grants:?}"
    );
    assert_eq!(
        permissions_of(None),
        BTreeSet::from(["FULL_CONTROL".to_owned()]),
        "the owner's grant: {grants:?}"
    );
    assert_eq!(grants.len(), 3, "{grants:?}");
}
