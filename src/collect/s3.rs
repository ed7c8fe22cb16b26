//! Per-bucket S3 calls and their conversion to the JSON `aws s3api <op> --output json` prints
//! (PascalCase members, absent members left out), plus the access-log delivery probe.

use std::collections::BTreeMap;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput;
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
use aws_sdk_s3::operation::get_bucket_lifecycle_configuration::GetBucketLifecycleConfigurationOutput;
use aws_sdk_s3::operation::get_bucket_logging::GetBucketLoggingOutput;
use aws_sdk_s3::operation::get_bucket_ownership_controls::GetBucketOwnershipControlsOutput;
use aws_sdk_s3::operation::get_bucket_policy::GetBucketPolicyOutput;
use aws_sdk_s3::operation::get_bucket_policy_status::GetBucketPolicyStatusOutput;
use aws_sdk_s3::operation::get_bucket_replication::GetBucketReplicationOutput;
use aws_sdk_s3::operation::get_bucket_versioning::GetBucketVersioningOutput;
use aws_sdk_s3::operation::get_object_lock_configuration::GetObjectLockConfigurationOutput;
use aws_sdk_s3::operation::get_public_access_block::GetPublicAccessBlockOutput;
use aws_sdk_s3::operation::list_buckets::ListBucketsError;
use aws_sdk_s3::types::{
    DefaultRetention, Destination, Grant, Grantee, LifecycleRule, LifecycleRuleFilter, Owner,
    ReplicationRule, ReplicationRuleFilter, ServerSideEncryptionRule, Tag, TargetGrant,
    TargetObjectKeyFormat,
};
use aws_sdk_s3::Client;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::limit::Limiter;
use super::result::{record, Obj};
use crate::schema::Operation;

/// The region a `LocationConstraint` stands for: absent / empty means us-east-1 and the legacy
/// `EU` means eu-west-1.
pub fn region_from_location(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(other) => other.to_owned(),
    }
}

/// ListBuckets, every page (`page_size` buckets each): each bucket's name and the region S3
/// reports for it, if any, sorted by name.
pub async fn list_buckets(
    limiter: &Limiter,
    client: &Client,
    page_size: i32,
) -> Result<Vec<(String, Option<String>)>, SdkError<ListBucketsError, HttpResponse>> {
    let mut buckets = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = client.list_buckets().max_buckets(page_size);
        if let Some(t) = &token {
            req = req.continuation_token(t);
        }
        let page = limiter.call(req.send()).await?;
        for b in page.buckets() {
            if let Some(name) = b.name() {
                buckets.push((name.to_owned(), b.bucket_region().map(str::to_owned)));
            }
        }
        match page.continuation_token() {
            // A token equal to the last one would loop forever: treat it as the end.
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    buckets.sort();
    buckets.dedup_by(|a, b| a.0 == b.0);
    Ok(buckets)
}

type LocationOutcome = Result<
    aws_sdk_s3::operation::get_bucket_location::GetBucketLocationOutput,
    SdkError<aws_sdk_s3::operation::get_bucket_location::GetBucketLocationError, HttpResponse>,
>;

/// The RESULT of a GetBucketLocation call and the region it gives (None when it failed).
fn location_result(outcome: LocationOutcome) -> (Value, Option<String>) {
    let region = outcome
        .as_ref()
        .ok()
        .map(|o| region_from_location(o.location_constraint().map(|c| c.as_str())));
    let result = record(outcome, |o| {
        // The CLI prints null for us-east-1 rather than leaving the member out.
        let constraint = o
            .location_constraint()
            .map(|c| c.as_str())
            .filter(|c| !c.is_empty());
        json!({ "LocationConstraint": constraint })
    });
    (result, region)
}

/// GetBucketLocation asked of `region`'s endpoint. When S3 answers that the bucket lives
/// elsewhere (a PermanentRedirect or AuthorizationHeaderMalformed error carrying the
/// `x-amz-bucket-region` header), it is asked again of that region.
pub async fn locate(
    limiter: &Limiter,
    clients: &super::clients::Clients,
    region: &str,
    bucket: &str,
) -> (Value, Option<String>) {
    let ask = |region: String| async move {
        limiter
            .call(
                clients
                    .s3(&region)
                    .get_bucket_location()
                    .bucket(bucket)
                    .send(),
            )
            .await
    };
    let outcome = ask(region.to_owned()).await;
    let redirect = outcome.as_ref().err().and_then(|e| {
        e.raw_response()
            .and_then(|r| r.headers().get("x-amz-bucket-region"))
            .filter(|other| *other != region)
            .map(str::to_owned)
    });
    match redirect {
        Some(other) => location_result(ask(other).await),
        None => location_result(outcome),
    }
}

/// GetBucketTagging: the RESULT and the tags (None when they could not be read; an empty map
/// for NoSuchTagSet, which is how S3 says "no tags").
pub async fn get_tagging(
    limiter: &Limiter,
    client: &Client,
    bucket: &str,
) -> (Value, Option<BTreeMap<String, String>>) {
    let outcome = limiter
        .call(client.get_bucket_tagging().bucket(bucket).send())
        .await;
    let tags = match &outcome {
        Ok(o) => Some(
            o.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        ),
        Err(e) if super::result::describe(e).0 == "NoSuchTagSet" => Some(BTreeMap::new()),
        Err(_) => None,
    };
    let result = record(outcome, |o| {
        Obj::new().list_always("TagSet", o.tag_set(), tag).build()
    });
    (result, tags)
}

/// Every other bucket operation of docs/snapshot-format.md, run concurrently (each still takes a slot of
/// the global limiter).
pub async fn get_configuration(limiter: &Limiter, c: &Client, b: &str) -> BTreeMap<String, Value> {
    let l = limiter;
    let (acl, policy, policy_status, pab, ownership, versioning) = tokio::join!(
        async { record(l.call(c.get_bucket_acl().bucket(b).send()).await, acl_json) },
        async {
            record(
                l.call(c.get_bucket_policy().bucket(b).send()).await,
                policy_json,
            )
        },
        async {
            let call = c.get_bucket_policy_status().bucket(b).send();
            record(l.call(call).await, policy_status_json)
        },
        async {
            let call = c.get_public_access_block().bucket(b).send();
            record(l.call(call).await, public_access_block_json)
        },
        async {
            let call = c.get_bucket_ownership_controls().bucket(b).send();
            record(l.call(call).await, ownership_json)
        },
        async {
            let call = c.get_bucket_versioning().bucket(b).send();
            record(l.call(call).await, versioning_json)
        },
    );
    let (encryption, logging, object_lock, lifecycle, replication) = tokio::join!(
        async {
            let call = c.get_bucket_encryption().bucket(b).send();
            record(l.call(call).await, encryption_json)
        },
        async {
            record(
                l.call(c.get_bucket_logging().bucket(b).send()).await,
                logging_json,
            )
        },
        async {
            let call = c.get_object_lock_configuration().bucket(b).send();
            record(l.call(call).await, object_lock_json)
        },
        async {
            let call = c.get_bucket_lifecycle_configuration().bucket(b).send();
            record(l.call(call).await, lifecycle_json)
        },
        async {
            let call = c.get_bucket_replication().bucket(b).send();
            record(l.call(call).await, replication_json)
        },
    );
    [
        (Operation::GetBucketAcl, acl),
        (Operation::GetBucketPolicy, policy),
        (Operation::GetBucketPolicyStatus, policy_status),
        (Operation::GetPublicAccessBlock, pab),
        (Operation::GetBucketOwnershipControls, ownership),
        (Operation::GetBucketVersioning, versioning),
        (Operation::GetBucketEncryption, encryption),
        (Operation::GetBucketLogging, logging),
        (Operation::GetObjectLockConfiguration, object_lock),
        (Operation::GetBucketLifecycleConfiguration, lifecycle),
        (Operation::GetBucketReplication, replication),
    ]
    .into_iter()
    .map(|(op, v)| (op.aws_name().to_owned(), v))
    .collect()
}

// Conversions, one per operation, to the CLI's JSON.

pub fn acl_json(o: &GetBucketAclOutput) -> Value {
    Obj::new()
        .val("Owner", o.owner().map(owner))
        .list_always("Grants", o.grants(), grant)
        .build()
}

/// The policy stays the JSON string S3 returns (docs/snapshot-format.md).
pub fn policy_json(o: &GetBucketPolicyOutput) -> Value {
    Obj::new().str("Policy", o.policy()).build()
}

pub fn policy_status_json(o: &GetBucketPolicyStatusOutput) -> Value {
    let status = o
        .policy_status()
        .map(|s| Obj::new().bool("IsPublic", s.is_public()).build());
    Obj::new().val("PolicyStatus", status).build()
}

pub fn public_access_block_json(o: &GetPublicAccessBlockOutput) -> Value {
    let conf = o.public_access_block_configuration().map(|p| {
        Obj::new()
            .bool("BlockPublicAcls", p.block_public_acls())
            .bool("IgnorePublicAcls", p.ignore_public_acls())
            .bool("BlockPublicPolicy", p.block_public_policy())
            .bool("RestrictPublicBuckets", p.restrict_public_buckets())
            .build()
    });
    Obj::new()
        .val("PublicAccessBlockConfiguration", conf)
        .build()
}

pub fn ownership_json(o: &GetBucketOwnershipControlsOutput) -> Value {
    let controls = o.ownership_controls().map(|oc| {
        Obj::new()
            .list_always(
                "Rules",
                oc.rules(),
                |r| json!({ "ObjectOwnership": r.object_ownership().as_str() }),
            )
            .build()
    });
    Obj::new().val("OwnershipControls", controls).build()
}

/// GetBucketVersioning: `{}` for a bucket never configured; MFADelete only when S3 reports it.
pub fn versioning_json(o: &GetBucketVersioningOutput) -> Value {
    Obj::new()
        .str("Status", o.status().map(|s| s.as_str()))
        .str("MFADelete", o.mfa_delete().map(|s| s.as_str()))
        .build()
}

pub fn encryption_json(o: &GetBucketEncryptionOutput) -> Value {
    let rule = |r: &ServerSideEncryptionRule| {
        let default = r.apply_server_side_encryption_by_default().map(|d| {
            Obj::new()
                .str("SSEAlgorithm", Some(d.sse_algorithm().as_str()))
                .str("KMSMasterKeyID", d.kms_master_key_id())
                .build()
        });
        Obj::new()
            .val("ApplyServerSideEncryptionByDefault", default)
            .bool("BucketKeyEnabled", r.bucket_key_enabled())
            .build()
    };
    let conf = o
        .server_side_encryption_configuration()
        .map(|conf| Obj::new().list_always("Rules", conf.rules(), rule).build());
    Obj::new()
        .val("ServerSideEncryptionConfiguration", conf)
        .build()
}

pub fn logging_json(o: &GetBucketLoggingOutput) -> Value {
    let key_format = |f: &TargetObjectKeyFormat| {
        let partitioned = f.partitioned_prefix().map(|p| {
            Obj::new()
                .str(
                    "PartitionDateSource",
                    p.partition_date_source().map(|s| s.as_str()),
                )
                .build()
        });
        Obj::new()
            .val("SimplePrefix", f.simple_prefix().map(|_| json!({})))
            .val("PartitionedPrefix", partitioned)
            .build()
    };
    let enabled = o.logging_enabled().map(|le| {
        Obj::new()
            .str("TargetBucket", Some(le.target_bucket()))
            .str("TargetPrefix", Some(le.target_prefix()))
            .list("TargetGrants", le.target_grants(), target_grant)
            .val(
                "TargetObjectKeyFormat",
                le.target_object_key_format().map(key_format),
            )
            .build()
    });
    Obj::new().val("LoggingEnabled", enabled).build()
}

pub fn object_lock_json(o: &GetObjectLockConfigurationOutput) -> Value {
    let retention = |d: &DefaultRetention| {
        Obj::new()
            .str("Mode", d.mode().map(|m| m.as_str()))
            .int("Days", d.days().map(i64::from))
            .int("Years", d.years().map(i64::from))
            .build()
    };
    let conf = o.object_lock_configuration().map(|conf| {
        let rule = conf.rule().map(|r| {
            Obj::new()
                .val("DefaultRetention", r.default_retention().map(retention))
                .build()
        });
        Obj::new()
            .str(
                "ObjectLockEnabled",
                conf.object_lock_enabled().map(|e| e.as_str()),
            )
            .val("Rule", rule)
            .build()
    });
    Obj::new().val("ObjectLockConfiguration", conf).build()
}

pub fn lifecycle_json(o: &GetBucketLifecycleConfigurationOutput) -> Value {
    Obj::new()
        .list_always("Rules", o.rules(), lifecycle_rule)
        .str(
            "TransitionDefaultMinimumObjectSize",
            o.transition_default_minimum_object_size()
                .map(|s| s.as_str()),
        )
        .build()
}

pub fn replication_json(o: &GetBucketReplicationOutput) -> Value {
    let conf = o.replication_configuration().map(|conf| {
        Obj::new()
            .str("Role", Some(conf.role()))
            .list_always("Rules", conf.rules(), replication_rule)
            .build()
    });
    Obj::new().val("ReplicationConfiguration", conf).build()
}

fn owner(o: &Owner) -> Value {
    Obj::new()
        .str("DisplayName", o.display_name())
        .str("ID", o.id())
        .build()
}

fn grantee(g: &Grantee) -> Value {
    Obj::new()
        .str("DisplayName", g.display_name())
        .str("EmailAddress", g.email_address())
        .str("ID", g.id())
        .str("Type", Some(g.r#type().as_str()))
        .str("URI", g.uri())
        .build()
}

fn grant(g: &Grant) -> Value {
    Obj::new()
        .val("Grantee", g.grantee().map(grantee))
        .str("Permission", g.permission().map(|p| p.as_str()))
        .build()
}

fn target_grant(g: &TargetGrant) -> Value {
    Obj::new()
        .val("Grantee", g.grantee().map(grantee))
        .str("Permission", g.permission().map(|p| p.as_str()))
        .build()
}

fn tag(t: &Tag) -> Value {
    json!({ "Key": t.key(), "Value": t.value() })
}

fn lifecycle_filter(f: &LifecycleRuleFilter) -> Value {
    Obj::new()
        .str("Prefix", f.prefix())
        .val("Tag", f.tag().map(tag))
        .int("ObjectSizeGreaterThan", f.object_size_greater_than())
        .int("ObjectSizeLessThan", f.object_size_less_than())
        .val(
            "And",
            f.and().map(|a| {
                Obj::new()
                    .str("Prefix", a.prefix())
                    .list("Tags", a.tags(), tag)
                    .int("ObjectSizeGreaterThan", a.object_size_greater_than())
                    .int("ObjectSizeLessThan", a.object_size_less_than())
                    .build()
            }),
        )
        .build()
}

// The rule-level Prefix is deprecated but older configurations still use it: it is evidence.
#[allow(deprecated)]
fn lifecycle_rule(r: &LifecycleRule) -> Value {
    Obj::new()
        .val(
            "Expiration",
            r.expiration().map(|e| {
                Obj::new()
                    .time("Date", e.date())
                    .int("Days", e.days().map(i64::from))
                    .bool(
                        "ExpiredObjectDeleteMarker",
                        e.expired_object_delete_marker(),
                    )
                    .build()
            }),
        )
        .str("ID", r.id())
        .str("Prefix", r.prefix())
        .val("Filter", r.filter().map(lifecycle_filter))
        .str("Status", Some(r.status().as_str()))
        .list("Transitions", r.transitions(), |t| {
            Obj::new()
                .time("Date", t.date())
                .int("Days", t.days().map(i64::from))
                .str("StorageClass", t.storage_class().map(|s| s.as_str()))
                .build()
        })
        .list(
            "NoncurrentVersionTransitions",
            r.noncurrent_version_transitions(),
            |t| {
                Obj::new()
                    .int("NoncurrentDays", t.noncurrent_days().map(i64::from))
                    .str("StorageClass", t.storage_class().map(|s| s.as_str()))
                    .int(
                        "NewerNoncurrentVersions",
                        t.newer_noncurrent_versions().map(i64::from),
                    )
                    .build()
            },
        )
        .val(
            "NoncurrentVersionExpiration",
            r.noncurrent_version_expiration().map(|e| {
                Obj::new()
                    .int("NoncurrentDays", e.noncurrent_days().map(i64::from))
                    .int(
                        "NewerNoncurrentVersions",
                        e.newer_noncurrent_versions().map(i64::from),
                    )
                    .build()
            }),
        )
        .val(
            "AbortIncompleteMultipartUpload",
            r.abort_incomplete_multipart_upload().map(|a| {
                Obj::new()
                    .int(
                        "DaysAfterInitiation",
                        a.days_after_initiation().map(i64::from),
                    )
                    .build()
            }),
        )
        .build()
}

fn replication_filter(f: &ReplicationRuleFilter) -> Value {
    Obj::new()
        .str("Prefix", f.prefix())
        .val("Tag", f.tag().map(tag))
        .val(
            "And",
            f.and().map(|a| {
                Obj::new()
                    .str("Prefix", a.prefix())
                    .list("Tags", a.tags(), tag)
                    .build()
            }),
        )
        .build()
}

fn status_obj(status: Option<&str>) -> Value {
    Obj::new().str("Status", status).build()
}

fn destination(d: &Destination) -> Value {
    Obj::new()
        .str("Bucket", Some(d.bucket()))
        .str("Account", d.account())
        .str("StorageClass", d.storage_class().map(|s| s.as_str()))
        .val(
            "AccessControlTranslation",
            d.access_control_translation()
                .map(|a| json!({ "Owner": a.owner().as_str() })),
        )
        .val(
            "EncryptionConfiguration",
            d.encryption_configuration().map(|e| {
                Obj::new()
                    .str("ReplicaKmsKeyID", e.replica_kms_key_id())
                    .build()
            }),
        )
        .val(
            "ReplicationTime",
            d.replication_time().map(|t| {
                Obj::new()
                    .str("Status", Some(t.status().as_str()))
                    .val(
                        "Time",
                        t.time().map(|v| {
                            Obj::new()
                                .int("Minutes", v.minutes().map(i64::from))
                                .build()
                        }),
                    )
                    .build()
            }),
        )
        .val(
            "Metrics",
            d.metrics().map(|m| {
                Obj::new()
                    .str("Status", Some(m.status().as_str()))
                    .val(
                        "EventThreshold",
                        m.event_threshold().map(|v| {
                            Obj::new()
                                .int("Minutes", v.minutes().map(i64::from))
                                .build()
                        }),
                    )
                    .build()
            }),
        )
        .build()
}

// As for lifecycle rules, the deprecated rule-level Prefix is still part of the evidence.
#[allow(deprecated)]
fn replication_rule(r: &ReplicationRule) -> Value {
    Obj::new()
        .str("ID", r.id())
        .int("Priority", r.priority().map(i64::from))
        .str("Prefix", r.prefix())
        .val("Filter", r.filter().map(replication_filter))
        .str("Status", Some(r.status().as_str()))
        .val(
            "SourceSelectionCriteria",
            r.source_selection_criteria().map(|s| {
                Obj::new()
                    .val(
                        "SseKmsEncryptedObjects",
                        s.sse_kms_encrypted_objects()
                            .map(|x| status_obj(Some(x.status().as_str()))),
                    )
                    .val(
                        "ReplicaModifications",
                        s.replica_modifications()
                            .map(|x| status_obj(Some(x.status().as_str()))),
                    )
                    .build()
            }),
        )
        .val(
            "ExistingObjectReplication",
            r.existing_object_replication()
                .map(|x| status_obj(Some(x.status().as_str()))),
        )
        .val("Destination", r.destination().map(destination))
        .val(
            "DeleteMarkerReplication",
            r.delete_marker_replication()
                .map(|x| status_obj(x.status().map(|s| s.as_str()))),
        )
        .build()
}

/// Account-level Block Public Access (s3control GetPublicAccessBlock), as
/// `aws s3control get-public-access-block` prints it.
pub async fn account_public_access_block(
    limiter: &Limiter,
    client: &aws_sdk_s3control::Client,
    account_id: &str,
) -> Value {
    let outcome = limiter
        .call(
            client
                .get_public_access_block()
                .account_id(account_id)
                .send(),
        )
        .await;
    record(outcome, |o| {
        Obj::new()
            .val(
                "PublicAccessBlockConfiguration",
                o.public_access_block_configuration().map(|p| {
                    Obj::new()
                        .bool("BlockPublicAcls", p.block_public_acls())
                        .bool("IgnorePublicAcls", p.ignore_public_acls())
                        .bool("BlockPublicPolicy", p.block_public_policy())
                        .bool("RestrictPublicBuckets", p.restrict_public_buckets())
                        .build()
                }),
            )
            .build()
    })
}

/// Where a bucket's server access logs go, read from its GetBucketLogging RESULT.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTarget {
    pub bucket: String,
    pub prefix: String,
    /// `Some(date source)` for the partitioned key format
    /// `prefix/account/region/bucket/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-...`.
    pub partitioned: bool,
}

impl LogTarget {
    /// The logging target of a GetBucketLogging RESULT, if logging is enabled.
    pub fn from_result(result: &Value) -> Option<Self> {
        let le = result.get("ok")?.get("LoggingEnabled")?;
        Some(Self {
            bucket: le.get("TargetBucket")?.as_str()?.to_owned(),
            prefix: le
                .get("TargetPrefix")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            partitioned: le
                .get("TargetObjectKeyFormat")
                .and_then(|f| f.get("PartitionedPrefix"))
                .is_some(),
        })
    }

    /// The key a log object delivered at `t` would sort at (without the unique suffix).
    fn key_at(&self, t: DateTime<Utc>, account: &str, region: &str, source: &str) -> String {
        if self.partitioned {
            format!(
                "{}{account}/{region}/{source}/{}/{}",
                self.prefix,
                t.format("%Y/%m/%d"),
                t.format("%Y-%m-%d-%H-%M-%S")
            )
        } else {
            format!("{}{}", self.prefix, t.format("%Y-%m-%d-%H-%M-%S"))
        }
    }
}

/// Keys per access-log listing page.
const LOG_PAGE: i32 = 100;
/// Pages followed inside one window before settling for the last page seen (which still proves
/// delivery, if not the very newest object).
const MAX_LOG_PAGES: usize = 20;

/// Finds the newest access-log object delivered for `source` at or before `until`, without
/// listing the whole prefix: log keys start with the delivery time, so it lists with StartAfter
/// at `until` minus a growing window (5 minutes, 1 hour, 1 day, 7 days, 30 days, then `since`)
/// and stops at the first window that holds a log object. Returns the ListObjectsV2 RESULT of
/// the page that holds the newest object (or of the last, widest probe when none was found).
/// Pages are small (LOG_PAGE keys) because the recorded page is evidence kept in the snapshot:
/// a busy bucket delivers many log objects an hour, and 2,000 buckets of 1,000-key pages would
/// make a snapshot of hundreds of megabytes.
#[allow(clippy::too_many_arguments)]
pub async fn newest_log_page(
    limiter: &Limiter,
    client: &Client,
    target: &LogTarget,
    account: &str,
    region: &str,
    source: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Value {
    // Keys delivered during the second `until` sort below this bound.
    let upper = target.key_at(until + Duration::seconds(1), account, region, source);
    let windows = [
        Duration::minutes(5),
        Duration::hours(1),
        Duration::days(1),
        Duration::days(7),
        Duration::days(30),
    ];
    let mut starts: Vec<DateTime<Utc>> = windows
        .iter()
        .map(|w| until - *w)
        .filter(|t| *t > since)
        .collect();
    starts.push(since);

    let mut last = Value::Null;
    for start in starts {
        let start_after = target.key_at(start, account, region, source);
        // Page forward inside the window (bounded, see MAX_LOG_PAGES).
        let mut token: Option<String> = None;
        let mut best: Option<Value> = None;
        for _ in 0..MAX_LOG_PAGES {
            let mut req = client
                .list_objects_v2()
                .bucket(&target.bucket)
                .prefix(&target.prefix)
                .start_after(&start_after)
                .max_keys(LOG_PAGE);
            if let Some(t) = &token {
                req = req.continuation_token(t);
            }
            let outcome = limiter.call(req.send()).await;
            let (in_window, beyond, next) = match &outcome {
                Ok(o) => (
                    o.contents()
                        .iter()
                        .any(|obj| obj.key().is_some_and(|k| k < upper.as_str())),
                    o.contents()
                        .iter()
                        .any(|obj| obj.key().is_some_and(|k| k >= upper.as_str())),
                    o.next_continuation_token().map(str::to_owned),
                ),
                Err(_) => (false, false, None),
            };
            let failed = outcome.is_err();
            let page = record(outcome, list_objects_json);
            if failed {
                return page;
            }
            if in_window {
                best = Some(page.clone());
            }
            last = page;
            if beyond || next.is_none() {
                break;
            }
            token = next;
        }
        if let Some(page) = best {
            return page;
        }
    }
    last
}

fn list_objects_json(o: &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output) -> Value {
    Obj::new()
        .list("Contents", o.contents(), |obj| {
            Obj::new()
                .str("Key", obj.key())
                .time("LastModified", obj.last_modified())
                .str("ETag", obj.e_tag())
                .int("Size", obj.size())
                .str("StorageClass", obj.storage_class().map(|s| s.as_str()))
                .build()
        })
        .bool("IsTruncated", o.is_truncated())
        .str("Name", o.name())
        .str("Prefix", o.prefix())
        .int("MaxKeys", o.max_keys().map(i64::from))
        .int("KeyCount", o.key_count().map(i64::from))
        .str("StartAfter", o.start_after())
        .str("ContinuationToken", o.continuation_token())
        .str("NextContinuationToken", o.next_continuation_token())
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_shapes() {
        use aws_sdk_s3::types::{BucketVersioningStatus, MfaDeleteStatus};
        let never = GetBucketVersioningOutput::builder().build();
        assert_eq!(versioning_json(&never), json!({}));
        // moto drops MFADelete, so this shape is checked here.
        let mfa = GetBucketVersioningOutput::builder()
            .status(BucketVersioningStatus::Enabled)
            .mfa_delete(MfaDeleteStatus::Enabled)
            .build();
        assert_eq!(
            versioning_json(&mfa),
            json!({"Status": "Enabled", "MFADelete": "Enabled"})
        );
    }

    #[test]
    fn location_regions() {
        assert_eq!(region_from_location(None), "us-east-1");
        assert_eq!(region_from_location(Some("")), "us-east-1");
        assert_eq!(region_from_location(Some("EU")), "eu-west-1");
        assert_eq!(region_from_location(Some("eu-central-1")), "eu-central-1");
    }

    #[test]
    fn log_keys_sort_by_time() {
        let t: DateTime<Utc> = "2026-03-01T10:20:30Z".parse().unwrap();
        let simple = LogTarget {
            bucket: "logs".into(),
            prefix: "b/".into(),
            partitioned: false,
        };
        assert_eq!(
            simple.key_at(t, "1", "us-east-1", "b"),
            "b/2026-03-01-10-20-30"
        );
        let part = LogTarget {
            partitioned: true,
            ..simple
        };
        assert_eq!(
            part.key_at(t, "123", "us-east-1", "src"),
            "b/123/us-east-1/src/2026/03/01/2026-03-01-10-20-30"
        );
    }
}
