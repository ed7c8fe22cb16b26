//! The audit-trail controls: CloudTrail trails (logging, integrity validation, KMS, all
//! regions), S3 data-event coverage per bucket, and server access-log delivery.

use chrono::Duration;

use super::access::covers_action;
use super::data_events::{coverage, Coverage};
use super::wildcard::{matches, matches_some_with_prefix, widen_variables};
use super::{AccountContext, BucketContext, Verdict};
use crate::schema::{Operation, ACCESS_LOGS_DIR, CLOUDTRAIL_DIR};
use crate::snapshot::aws::GranteeClass;
use crate::snapshot::cloudtrail::{describe_ref, TrailEvidence};
use crate::snapshot::policy::{Effect, PrincipalSpec};
use crate::snapshot::{Bucket, Evidence};

/// "Latest delivery 2026-10-01T05:55:12Z; latest delivery error: AccessDenied." or nothing.
fn delivery(trail: &TrailEvidence) -> String {
    let Evidence::Found(status) = &trail.status else {
        return String::new();
    };
    let mut text = match &status.latest_delivery_time {
        Some(time) => format!(" Latest log delivery {time}"),
        _ => " No log delivery recorded".to_string(),
    };
    match status.latest_delivery_error.as_deref() {
        Some(error) if !error.is_empty() => {
            text.push_str(&format!("; latest delivery error: {error}."))
        }
        _ => text.push('.'),
    }
    text
}

fn trail_refs(trail: &TrailEvidence) -> Vec<String> {
    vec![
        trail.describe_ref(),
        trail.evidence_ref(Operation::GetTrailStatus),
    ]
}

pub fn not_logging(trail: &TrailEvidence) -> Verdict {
    let evidence = trail_refs(trail);
    match &trail.status {
        Evidence::Found(status) if status.is_logging => Verdict::pass(
            format!("The trail is logging.{}", delivery(trail)),
            evidence,
        ),
        Evidence::Found(status) => Verdict::fail(
            format!(
                "The trail is not logging{}.{}",
                status
                    .stop_logging_time
                    .as_ref()
                    .map(|t| format!(" (stopped {t})"))
                    .unwrap_or_default(),
                delivery(trail)
            ),
            evidence,
        ),
        Evidence::NotConfigured => {
            Verdict::error("Not assessed: the trail status is empty.", evidence)
        }
        Evidence::Unavailable(why) => Verdict::error(
            format!("Not assessed: {why}, so whether the trail is logging is unknown."),
            evidence,
        ),
    }
}

pub fn log_validation_disabled(trail: &TrailEvidence) -> Verdict {
    let evidence = trail_refs(trail);
    if trail.trail.log_file_validation_enabled {
        Verdict::pass(
            format!(
                "Log file integrity validation is enabled: digest files prove that delivered logs were not altered.{}",
                delivery(trail)
            ),
            evidence,
        )
    } else {
        Verdict::fail(
            format!(
                "Log file integrity validation is disabled, so altered or deleted log files cannot be detected.{}",
                delivery(trail)
            ),
            evidence,
        )
    }
}

pub fn not_kms_encrypted(trail: &TrailEvidence) -> Verdict {
    let evidence = trail_refs(trail);
    match trail.trail.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => Verdict::pass(
            format!("Log files are encrypted with the KMS key {key}.{}", delivery(trail)),
            evidence,
        ),
        None => Verdict::fail(
            format!(
                "Log files are encrypted only with SSE-S3, not a KMS key that controls who reads them.{}",
                delivery(trail)
            ),
            evidence,
        ),
    }
}

pub fn not_multi_region(trail: &TrailEvidence) -> Verdict {
    let evidence = trail_refs(trail);
    if trail.trail.is_multi_region_trail {
        Verdict::pass(
            format!(
                "The trail records every region{}.{}",
                if trail.trail.is_organization_trail {
                    " of every account of the organisation"
                } else {
                    ""
                },
                delivery(trail)
            ),
            evidence,
        )
    } else {
        Verdict::fail(
            format!(
                "The trail records only {}, so activity in other regions is not logged by it.{}",
                trail.trail.home(),
                delivery(trail)
            ),
            evidence,
        )
    }
}

/// An account-level `cloudtrail.not-logging` finding when there is no trail to judge: none
/// exists (fail), or a region's trails could not be listed (error). `None` when trails exist
/// and every region was read (the trails' own findings say it all).
pub fn account_trail_verdict(account: &AccountContext) -> Option<Verdict> {
    let evidence: Vec<String> = account
        .cloudtrail
        .regions
        .keys()
        .map(|r| describe_ref(r))
        .collect();
    if account.cloudtrail.regions.is_empty() {
        return Some(Verdict::error(
            "Not assessed: no CloudTrail evidence was collected, so whether any trail records activity is unknown.",
            vec![format!("{CLOUDTRAIL_DIR}/")],
        ));
    }
    let unreadable = account.cloudtrail.unreadable_regions();
    if !unreadable.is_empty() {
        let list: Vec<String> = unreadable
            .iter()
            .map(|(r, why)| format!("{r}: {why}"))
            .collect();
        return Some(Verdict::error(
            format!(
                "Not assessed: trails could not be listed in every region ({}).",
                list.join("; ")
            ),
            evidence,
        ));
    }
    if account.trails.is_empty() {
        return Some(Verdict::fail(
            "No CloudTrail trail exists in any collected region, so API activity is kept only 90 days in the event history.",
            evidence,
        ));
    }
    None
}

/// `s3.data-events-not-logged`: some logging trail that reaches the bucket's region must select
/// every object for reads and writes (the union over trails counts).
pub fn data_events_not_logged(ctx: &BucketContext) -> Verdict {
    let bucket = ctx.bucket;
    let account = ctx.account;
    let partition = &ctx.meta.partition;
    let mut evidence = Vec::new();
    let mut total = Coverage::default();
    let mut by: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut stopped: Vec<String> = Vec::new();
    for trail in &account.trails {
        let reaches = trail.trail.is_multi_region_trail || trail.trail.home() == bucket.region;
        if !reaches {
            continue;
        }
        let selected = match &trail.selectors {
            Evidence::Found(selectors) => coverage(selectors, partition, &bucket.name),
            Evidence::NotConfigured => Coverage::default(),
            Evidence::Unavailable(why) => {
                unknown.push(format!("{} ({why})", trail.trail.name));
                evidence.push(trail.evidence_ref(Operation::GetEventSelectors));
                continue;
            }
        };
        if selected == Coverage::default() {
            continue;
        }
        evidence.push(trail.evidence_ref(Operation::GetEventSelectors));
        evidence.push(trail.evidence_ref(Operation::GetTrailStatus));
        match &trail.status {
            Evidence::Found(status) if status.is_logging => {
                total = total.union(selected);
                by.push(format!("{} ({})", trail.trail.name, selected.describe()));
            }
            Evidence::Found(_) => stopped.push(format!(
                "{} selects {} but is not logging",
                trail.trail.name,
                selected.describe()
            )),
            _ => unknown.push(format!(
                "{} (its status could not be read)",
                trail.trail.name
            )),
        }
    }
    for (region, why) in account.cloudtrail.unreadable_regions() {
        unknown.push(format!("trails of {region} ({why})"));
        evidence.push(describe_ref(region));
    }
    if account.cloudtrail.regions.is_empty() {
        unknown.push("no CloudTrail evidence was collected".to_string());
        evidence.push(format!("{CLOUDTRAIL_DIR}/"));
    }
    // Every region's trail list was consulted, including where no trail reaches the bucket.
    evidence.extend(account.cloudtrail.regions.keys().map(|r| describe_ref(r)));
    evidence.sort();
    evidence.dedup();
    if total.complete() {
        return Verdict::pass(
            format!("Object reads and writes are recorded by {}.", by.join(", ")),
            evidence,
        );
    }
    if !unknown.is_empty() {
        return Verdict::error(
            format!(
                "Not assessed: object-level logging is {} so far, and the selectors of {} could not be read.",
                if by.is_empty() { "absent".to_string() } else { format!("partial ({})", by.join(", ")) },
                unknown.join(", ")
            ),
            evidence,
        );
    }
    let mut reason = match (total.read, total.write) {
        (false, false) => {
            "No logging trail records this bucket's object reads or writes".to_string()
        }
        (true, false) => format!(
            "Object writes are not recorded; reads only by {}",
            by.join(", ")
        ),
        (false, true) => format!(
            "Object reads are not recorded; writes only by {}",
            by.join(", ")
        ),
        (true, true) => unreachable!("complete coverage returned above"),
    };
    if !stopped.is_empty() {
        reason.push_str(&format!(" ({})", stopped.join("; ")));
    }
    reason.push('.');
    Verdict::fail(reason, evidence)
}

/// `s3.access-log-delivery-missing`: logging is on, and logs actually arrive.
pub fn access_log_delivery_missing(ctx: &BucketContext) -> Verdict {
    let bucket = ctx.bucket;
    let mut evidence = vec![bucket.evidence_ref(Operation::GetBucketLogging)];
    let target = match &bucket.logging {
        Evidence::Unavailable(why) => {
            return Verdict::error(
                format!("Not assessed: {why}, so where logs go is unknown."),
                evidence,
            )
        }
        Evidence::NotConfigured => None,
        Evidence::Found(logging) => logging.logging_enabled.as_ref(),
    };
    let Some(target) = target else {
        return Verdict::not_applicable(
            "Server access logging is off (see s3.access-logging-disabled), so there is no delivery to check.",
            evidence,
        );
    };
    let destination = format!("s3://{}/{}", target.target_bucket, target.target_prefix);
    if target.target_bucket == bucket.name {
        return Verdict::fail(
            format!("Access logs are delivered into the bucket itself ({destination}): every delivery is itself logged and log records mix with the data."),
            evidence,
        );
    }
    // The target's own permissions, when the target is in the snapshot.
    if let Some(target_bucket) = ctx.account.buckets.get(target.target_bucket.as_str()) {
        evidence.push(target_bucket.evidence_ref(Operation::GetBucketPolicy));
        if let Some(false) = logging_permitted(
            target_bucket,
            bucket,
            &target.target_prefix,
            &ctx.meta.account_id,
        ) {
            return Verdict::fail(
                format!(
                    "The target bucket {} neither allows logging.s3.amazonaws.com to write {destination} for this bucket in its policy nor grants LogDelivery WRITE in an enforced ACL, so logs cannot be delivered.",
                    target.target_bucket
                ),
                evidence,
            );
        }
    }
    let Some(delivered) = ctx.account.access_logs.get(&bucket.name) else {
        return Verdict::error(
            format!(
                "Not assessed: no listing of {destination} was collected, so delivery is unknown."
            ),
            evidence,
        );
    };
    evidence.push(format!(
        "{ACCESS_LOGS_DIR}/{}.json#/{}",
        bucket.name,
        Operation::ListObjectsV2
    ));
    let listing = match &delivered.listing {
        Evidence::Found(listing) => listing,
        Evidence::Unavailable(why) if why.code == "NoSuchBucket" => {
            return Verdict::fail(
                format!(
                    "The log target bucket {} does not exist, so no logs are delivered.",
                    target.target_bucket
                ),
                evidence,
            )
        }
        Evidence::Unavailable(why) => {
            return Verdict::error(
                format!("Not assessed: {why}, so delivery to {destination} is unknown."),
                evidence,
            )
        }
        Evidence::NotConfigured => {
            return Verdict::error(
                "Not assessed: the log listing is empty of any answer.",
                evidence,
            )
        }
    };
    let period_end = ctx.account.period_end;
    let max_age = ctx.account.options.access_log_max_age_hours;
    let cutoff = period_end - Duration::hours(max_age);
    match listing.newest() {
        None => Verdict::fail(
            format!("No access log object has ever been delivered to {destination}."),
            evidence,
        ),
        Some(newest) if newest.last_modified.utc() >= cutoff => Verdict::pass(
            format!(
                "Access logs arrive: the newest object in {destination} was written {}.",
                newest.last_modified
            ),
            evidence,
        ),
        Some(newest) => Verdict::fail(
            format!(
                "The newest access log object in {destination} was written {}, more than {max_age} h before the end of the period ({}).",
                newest.last_modified,
                period_end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            evidence,
        ),
    }
}

/// Does the target bucket let S3 deliver `source`'s access logs? `Some(true)` / `Some(false)`
/// when its policy and ACL say so; `None` when they could not be read.
fn logging_permitted(
    target: &Bucket,
    source: &Bucket,
    prefix: &str,
    own_account: &str,
) -> Option<bool> {
    let target_objects = format!("arn:aws:s3:::{}/{prefix}", target.name);
    let source_arn = format!("arn:aws:s3:::{}", source.name);
    let by_policy = match &target.policy {
        Evidence::Found(document) => Some(document.statements.iter().any(|s| {
            s.effect == Effect::Allow
                && matches!(&s.principal, PrincipalSpec::Principal(p) if p.service.iter().any(|x| x == "logging.s3.amazonaws.com"))
                && covers_action(&s.actions, "s3:PutObject")
                && !s.resources.negated
                && s.resources.patterns.iter().any(|p| matches_some_with_prefix(&widen_variables(p), &target_objects, false))
                && s.conditions.iter().all(|c| {
                    let key = c.key.to_ascii_lowercase();
                    match key.as_str() {
                        "aws:sourcearn" => c.values.iter().any(|v| matches(v, &source_arn, false)),
                        "aws:sourceaccount" => c.values.iter().any(|v| v == own_account),
                        _ => true,
                    }
                })
        })),
        Evidence::NotConfigured => Some(false),
        Evidence::Unavailable(_) => None,
    };
    let acls_enforced_off = match &target.ownership {
        Evidence::Found(o) => Some(!o.acls_disabled()),
        Evidence::NotConfigured => Some(true),
        Evidence::Unavailable(_) => None,
    };
    let by_acl = match (&target.acl, acls_enforced_off) {
        (_, Some(false)) => Some(false),
        (Evidence::Found(acl), Some(true)) => Some(acl.grants.iter().any(|g| {
            g.grantee.class() == GranteeClass::LogDelivery
                && matches!(
                    g.permission,
                    crate::snapshot::aws::Permission::Write
                        | crate::snapshot::aws::Permission::FullControl
                )
        })),
        _ => None,
    };
    match (by_policy, by_acl) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}
