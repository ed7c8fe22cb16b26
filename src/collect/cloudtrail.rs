//! Per-region CloudTrail evidence: trails (shadow trails included), their status and event
//! selectors (classic and advanced), and the S3 configuration changes in the review period from
//! LookupEvents, all converted to what `aws cloudtrail <op> --output json` prints.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_cloudtrail::primitives::DateTime as AwsDateTime;
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, Event, EventSelector, LookupAttribute, LookupAttributeKey, Trail,
};
use aws_sdk_cloudtrail::Client;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::limit::{Limiter, Pacer};
use super::result::{describe, error, ok, record, Obj};
use crate::schema::{Operation, CONFIG_CHANGE_EVENTS};

const S3_EVENT_SOURCE: &str = "s3.amazonaws.com";

/// A trail listed by DescribeTrails, with the region whose endpoint owns it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TrailRef {
    pub arn: String,
    pub home_region: Option<String>,
}

/// DescribeTrails (shadow trails included): the RESULT and the trails it lists.
pub async fn describe_trails(limiter: &Limiter, client: &Client) -> (Value, Vec<TrailRef>) {
    let outcome = limiter
        .call(client.describe_trails().include_shadow_trails(true).send())
        .await;
    let trails = outcome
        .as_ref()
        .map(|o| {
            o.trail_list()
                .iter()
                .filter_map(|t| {
                    Some(TrailRef {
                        arn: t.trail_arn()?.to_owned(),
                        home_region: t.home_region().map(str::to_owned),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let result = record(outcome, |o| {
        Obj::new()
            .list_always("trailList", o.trail_list(), trail)
            .build()
    });
    (result, trails)
}

// SnsTopicName is deprecated in the model but still returned, and the CLI still prints it.
#[allow(deprecated)]
fn trail(t: &Trail) -> Value {
    Obj::new()
        .str("Name", t.name())
        .str("S3BucketName", t.s3_bucket_name())
        .str("S3KeyPrefix", t.s3_key_prefix())
        .str("SnsTopicName", t.sns_topic_name())
        .str("SnsTopicARN", t.sns_topic_arn())
        .bool(
            "IncludeGlobalServiceEvents",
            t.include_global_service_events(),
        )
        .bool("IsMultiRegionTrail", t.is_multi_region_trail())
        .str("HomeRegion", t.home_region())
        .str("TrailARN", t.trail_arn())
        .bool("LogFileValidationEnabled", t.log_file_validation_enabled())
        .str(
            "CloudWatchLogsLogGroupArn",
            t.cloud_watch_logs_log_group_arn(),
        )
        .str("CloudWatchLogsRoleArn", t.cloud_watch_logs_role_arn())
        .str("KmsKeyId", t.kms_key_id())
        .bool("HasCustomEventSelectors", t.has_custom_event_selectors())
        .bool("HasInsightSelectors", t.has_insight_selectors())
        .bool("IsOrganizationTrail", t.is_organization_trail())
        .build()
}

/// GetTrailStatus and GetEventSelectors for one trail, asked of its home region (a shadow
/// trail's status is owned there).
pub async fn trail_details(limiter: &Limiter, client: &Client, arn: &str) -> Value {
    let (status, selectors) = tokio::join!(
        async {
            record(
                limiter
                    .call(client.get_trail_status().name(arn).send())
                    .await,
                |o| {
                    Obj::new()
                        .bool("IsLogging", o.is_logging())
                        .str("LatestDeliveryError", o.latest_delivery_error())
                        .str("LatestNotificationError", o.latest_notification_error())
                        .time("LatestDeliveryTime", o.latest_delivery_time())
                        .time("LatestNotificationTime", o.latest_notification_time())
                        .time("StartLoggingTime", o.start_logging_time())
                        .time("StopLoggingTime", o.stop_logging_time())
                        .str(
                            "LatestCloudWatchLogsDeliveryError",
                            o.latest_cloud_watch_logs_delivery_error(),
                        )
                        .time(
                            "LatestCloudWatchLogsDeliveryTime",
                            o.latest_cloud_watch_logs_delivery_time(),
                        )
                        .time("LatestDigestDeliveryTime", o.latest_digest_delivery_time())
                        .str(
                            "LatestDigestDeliveryError",
                            o.latest_digest_delivery_error(),
                        )
                        .str(
                            "LatestDeliveryAttemptTime",
                            o.latest_delivery_attempt_time(),
                        )
                        .str(
                            "LatestNotificationAttemptTime",
                            o.latest_notification_attempt_time(),
                        )
                        .str(
                            "LatestNotificationAttemptSucceeded",
                            o.latest_notification_attempt_succeeded(),
                        )
                        .str(
                            "LatestDeliveryAttemptSucceeded",
                            o.latest_delivery_attempt_succeeded(),
                        )
                        .str("TimeLoggingStarted", o.time_logging_started())
                        .str("TimeLoggingStopped", o.time_logging_stopped())
                        .build()
                },
            )
        },
        async {
            record(
                limiter
                    .call(client.get_event_selectors().trail_name(arn).send())
                    .await,
                |o| {
                    Obj::new()
                        .str("TrailARN", o.trail_arn())
                        .list("EventSelectors", o.event_selectors(), event_selector)
                        .list(
                            "AdvancedEventSelectors",
                            o.advanced_event_selectors(),
                            advanced_selector,
                        )
                        .build()
                },
            )
        },
    );
    let mut details = serde_json::Map::new();
    details.insert(Operation::GetTrailStatus.aws_name().to_owned(), status);
    details.insert(
        Operation::GetEventSelectors.aws_name().to_owned(),
        selectors,
    );
    Value::Object(details)
}

fn event_selector(s: &EventSelector) -> Value {
    Obj::new()
        .str("ReadWriteType", s.read_write_type().map(|r| r.as_str()))
        .bool("IncludeManagementEvents", s.include_management_events())
        .list_always("DataResources", s.data_resources(), |d| {
            Obj::new()
                .str("Type", d.r#type())
                .list_always("Values", d.values(), |v| Value::String(v.clone()))
                .build()
        })
        .strings(
            "ExcludeManagementEventSources",
            s.exclude_management_event_sources(),
        )
        .build()
}

fn advanced_selector(s: &AdvancedEventSelector) -> Value {
    Obj::new()
        .str("Name", s.name())
        .list_always("FieldSelectors", s.field_selectors(), |f| {
            Obj::new()
                .str("Field", Some(f.field()))
                .strings("Equals", f.equals())
                .strings("StartsWith", f.starts_with())
                .strings("EndsWith", f.ends_with())
                .strings("NotEquals", f.not_equals())
                .strings("NotStartsWith", f.not_starts_with())
                .strings("NotEndsWith", f.not_ends_with())
                .build()
        })
        .build()
}

fn event(e: &Event) -> Value {
    Obj::new()
        .str("EventId", e.event_id())
        .str("EventName", e.event_name())
        .str("ReadOnly", e.read_only())
        .time("EventTime", e.event_time())
        .str("EventSource", e.event_source())
        .str("Username", e.username())
        .list("Resources", e.resources(), |r| {
            Obj::new()
                .str("ResourceType", r.resource_type())
                .str("ResourceName", r.resource_name())
                .build()
        })
        .str("CloudTrailEvent", e.cloud_trail_event())
        .build()
}

fn aws_time(t: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_secs(t.timestamp())
}

/// LookupEvents for every S3 configuration-change event name in `[since, until]`, all pages
/// followed, requests spaced by `pacer` (2 per second per region). One query per event name
/// keeps the volume small: querying by event source would also page through every read-only
/// S3 call, including the thousands this very collection makes.
///
/// The RESULT is `{"ok":{"Events":[...]}}` sorted by time and id, or the first error met.
pub async fn lookup_config_changes(
    limiter: &Limiter,
    pacer: &Pacer,
    client: &Client,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Value {
    let wanted: BTreeSet<&str> = CONFIG_CHANGE_EVENTS.iter().copied().collect();
    // Keyed by (time, id) for a stable order; ids also deduplicate.
    let mut events: BTreeMap<(String, String), Value> = BTreeMap::new();
    for name in CONFIG_CHANGE_EVENTS {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(*name)
            .build()
            .expect("key and value are set");
        let mut token: Option<String> = None;
        loop {
            pacer.wait().await;
            let mut req = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .start_time(aws_time(since))
                .end_time(aws_time(until))
                .max_results(50);
            if let Some(t) = &token {
                req = req.next_token(t);
            }
            let page = match limiter.call(req.send()).await {
                Ok(page) => page,
                Err(e) => {
                    let (code, message) = describe(&e);
                    return error(&code, &message);
                }
            };
            for e in page.events() {
                let name_ok = e.event_name().is_some_and(|n| wanted.contains(n));
                let source_ok = e.event_source().is_none_or(|s| s == S3_EVENT_SOURCE);
                if name_ok && source_ok {
                    let v = event(e);
                    let time = v
                        .get("EventTime")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let id = e.event_id().unwrap_or_default().to_owned();
                    events.insert((time, id), v);
                }
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    ok(json!({ "Events": events.into_values().collect::<Vec<_>>() }))
}
