//! Typed views of the audit-trail evidence: `cloudtrail/<region>.json` (DescribeTrails,
//! GetTrailStatus, GetEventSelectors, LookupEvents) and `access-logs/<bucket>.json` (the newest
//! server access log objects).
//!
//! A multi-region trail appears in DescribeTrails of every region; [`CloudTrail::trails`] merges
//! them by ARN, keeping the first status and selectors that were read.
//!
//! CloudTrail times may be RFC 3339 text or seconds since the epoch (AWS CLI v1 prints numbers
//! for CloudTrail by default); both read into a [`Timestamp`]. S3 times (the access-log
//! listing's LastModified) are RFC 3339 text only, as every AWS CLI prints them.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use super::aws::answers;
use super::strict::{escape, Kind, Member, Shape, SnapshotWarning};
use super::{invalid, typed_call, Evidence, SnapshotError, Unavailable, NOT_COLLECTED};
use crate::schema::{Operation, Timestamp};

answers!(
    DescribeTrails,
    TrailStatus,
    EventSelectors,
    LookupEvents,
    Listing
);

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DescribeTrails {
    #[serde(rename = "trailList")]
    pub trail_list: Vec<Trail>,
}

impl DescribeTrails {
    pub const SHAPE: Shape = Shape {
        name: "DescribeTrailsResponse",
        members: &[Member::required("trailList", Kind::ListOf(&Trail::SHAPE))],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    pub name: String,
    #[serde(rename = "TrailARN")]
    pub trail_arn: String,
    #[serde(default)]
    pub home_region: Option<String>,
    pub is_multi_region_trail: bool,
    /// Changes only the wording of a pass, so its absence is read as `false`.
    #[serde(default)]
    pub is_organization_trail: bool,
    pub log_file_validation_enabled: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub s3_bucket_name: Option<String>,
}

impl Trail {
    /// The two booleans that decide controls are required: DescribeTrails always sends them,
    /// and reading their absence as `false` would be a guess. HomeRegion, when absent, is the
    /// region of the ARN (which is the home region).
    pub const SHAPE: Shape = Shape {
        name: "Trail",
        members: &[
            Member::required("Name", Kind::String),
            Member::optional("S3BucketName", Kind::String),
            Member::optional("S3KeyPrefix", Kind::String),
            Member::optional("SnsTopicName", Kind::String),
            Member::optional("SnsTopicARN", Kind::String),
            Member::optional("IncludeGlobalServiceEvents", Kind::Bool),
            Member::required("IsMultiRegionTrail", Kind::Bool),
            Member::optional("HomeRegion", Kind::String),
            Member::required("TrailARN", Kind::String),
            Member::required("LogFileValidationEnabled", Kind::Bool),
            Member::optional("CloudWatchLogsLogGroupArn", Kind::String),
            Member::optional("CloudWatchLogsRoleArn", Kind::String),
            Member::optional("KmsKeyId", Kind::String),
            Member::optional("HasCustomEventSelectors", Kind::Bool),
            Member::optional("HasInsightSelectors", Kind::Bool),
            Member::optional("IsOrganizationTrail", Kind::Bool),
        ],
    };

    /// The trail's home region: HomeRegion, or the region part of its ARN.
    pub fn home(&self) -> String {
        self.home_region
            .clone()
            .or_else(|| self.trail_arn.split(':').nth(3).map(str::to_string))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrailStatus {
    pub is_logging: bool,
    #[serde(default)]
    pub latest_delivery_time: Option<Timestamp>,
    #[serde(default)]
    pub latest_delivery_error: Option<String>,
    #[serde(default)]
    pub stop_logging_time: Option<Timestamp>,
}

impl TrailStatus {
    pub const SHAPE: Shape = Shape {
        name: "GetTrailStatusResponse",
        members: &[
            Member::required("IsLogging", Kind::Bool),
            Member::optional("LatestDeliveryError", Kind::String),
            Member::optional("LatestNotificationError", Kind::String),
            Member::optional("LatestDeliveryTime", Kind::TimeOrEpoch),
            Member::optional("LatestNotificationTime", Kind::TimeOrEpoch),
            Member::optional("StartLoggingTime", Kind::TimeOrEpoch),
            Member::optional("StopLoggingTime", Kind::TimeOrEpoch),
            Member::optional("LatestCloudWatchLogsDeliveryError", Kind::String),
            Member::optional("LatestCloudWatchLogsDeliveryTime", Kind::TimeOrEpoch),
            Member::optional("LatestDigestDeliveryTime", Kind::TimeOrEpoch),
            Member::optional("LatestDigestDeliveryError", Kind::String),
            // These five are strings in the CloudTrail API, not timestamps.
            Member::optional("LatestDeliveryAttemptTime", Kind::String),
            Member::optional("LatestNotificationAttemptTime", Kind::String),
            Member::optional("LatestNotificationAttemptSucceeded", Kind::String),
            Member::optional("LatestDeliveryAttemptSucceeded", Kind::String),
            Member::optional("TimeLoggingStarted", Kind::String),
            Member::optional("TimeLoggingStopped", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(default)]
    pub event_selectors: Vec<ClassicSelector>,
    #[serde(default)]
    pub advanced_event_selectors: Vec<AdvancedSelector>,
}

impl EventSelectors {
    /// A trail has classic or advanced selectors, so neither list is required.
    pub const SHAPE: Shape = Shape {
        name: "GetEventSelectorsResponse",
        members: &[
            Member::optional("TrailARN", Kind::String),
            Member::optional("EventSelectors", Kind::ListOf(&ClassicSelector::SHAPE)),
            Member::optional(
                "AdvancedEventSelectors",
                Kind::ListOf(&AdvancedSelector::SHAPE),
            ),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicSelector {
    /// `ReadOnly`, `WriteOnly` or `All`.
    pub read_write_type: String,
    pub data_resources: Vec<DataResource>,
}

impl ClassicSelector {
    pub const SHAPE: Shape = Shape {
        name: "EventSelector",
        members: &[
            Member::required(
                "ReadWriteType",
                Kind::OneOf(&["ReadOnly", "WriteOnly", "All"]),
            ),
            Member::optional("IncludeManagementEvents", Kind::Bool),
            Member::required("DataResources", Kind::ListOf(&DataResource::SHAPE)),
            Member::optional("ExcludeManagementEventSources", Kind::Strings),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(rename = "Type")]
    pub kind: String,
    pub values: Vec<String>,
}

impl DataResource {
    pub const SHAPE: Shape = Shape {
        name: "DataResource",
        members: &[
            Member::required("Type", Kind::String),
            Member::required("Values", Kind::Strings),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedSelector {
    #[serde(default)]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

impl AdvancedSelector {
    pub const SHAPE: Shape = Shape {
        name: "AdvancedEventSelector",
        members: &[
            Member::optional("Name", Kind::String),
            Member::required("FieldSelectors", Kind::ListOf(&FieldSelector::SHAPE)),
        ],
    };
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FieldSelector {
    pub field: String,
    #[serde(default)]
    pub equals: Vec<String>,
    #[serde(default)]
    pub starts_with: Vec<String>,
    #[serde(default)]
    pub ends_with: Vec<String>,
    #[serde(default)]
    pub not_equals: Vec<String>,
    #[serde(default)]
    pub not_starts_with: Vec<String>,
    #[serde(default)]
    pub not_ends_with: Vec<String>,
}

impl FieldSelector {
    pub const SHAPE: Shape = Shape {
        name: "AdvancedFieldSelector",
        members: &[
            Member::required("Field", Kind::String),
            Member::optional("Equals", Kind::Strings),
            Member::optional("StartsWith", Kind::Strings),
            Member::optional("EndsWith", Kind::Strings),
            Member::optional("NotEquals", Kind::Strings),
            Member::optional("NotStartsWith", Kind::Strings),
            Member::optional("NotEndsWith", Kind::Strings),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvents {
    pub events: Vec<Event>,
}

impl LookupEvents {
    pub const SHAPE: Shape = Shape {
        name: "LookupEventsResponse",
        members: &[
            Member::required("Events", Kind::ListOf(&Event::SHAPE)),
            Member::optional("NextToken", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    pub event_id: String,
    pub event_name: String,
    pub event_time: Timestamp,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub resources: Vec<EventResource>,
    /// The full CloudTrail record, as a JSON string.
    #[serde(default)]
    pub cloud_trail_event: Option<String>,
}

impl Event {
    pub const SHAPE: Shape = Shape {
        name: "Event",
        members: &[
            Member::required("EventId", Kind::String),
            Member::required("EventName", Kind::String),
            Member::optional("ReadOnly", Kind::String),
            Member::optional("AccessKeyId", Kind::String),
            Member::required("EventTime", Kind::TimeOrEpoch),
            Member::optional("EventSource", Kind::String),
            Member::optional("Username", Kind::String),
            Member::optional("Resources", Kind::ListOf(&EventResource::SHAPE)),
            Member::optional("CloudTrailEvent", Kind::String),
        ],
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventResource {
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
}

impl EventResource {
    pub const SHAPE: Shape = Shape {
        name: "Resource",
        members: &[
            Member::optional("ResourceType", Kind::String),
            Member::optional("ResourceName", Kind::String),
        ],
    };
}

/// One trail with what was read about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailEvidence {
    pub trail: Trail,
    /// The region file the details came from (for evidence references).
    pub region: String,
    pub status: Evidence<TrailStatus>,
    pub selectors: Evidence<EventSelectors>,
}

impl TrailEvidence {
    /// The reference of this trail's GetTrailStatus or GetEventSelectors answer.
    pub fn evidence_ref(&self, operation: Operation) -> String {
        format!(
            "{}/{}.json#/trails/{}/{operation}",
            crate::schema::CLOUDTRAIL_DIR,
            self.region,
            escape(&self.trail.trail_arn)
        )
    }

    /// The reference of the DescribeTrails answer that lists the trail.
    pub fn describe_ref(&self) -> String {
        describe_ref(&self.region)
    }
}

/// The reference of one region's DescribeTrails answer.
pub fn describe_ref(region: &str) -> String {
    format!(
        "{}/{region}.json#/{}",
        crate::schema::CLOUDTRAIL_DIR,
        Operation::DescribeTrails
    )
}

/// The reference of the `index`th event of one region's LookupEvents answer.
pub fn event_ref(region: &str, index: usize) -> String {
    format!(
        "{}/{region}.json#/{}/ok/Events/{index}",
        crate::schema::CLOUDTRAIL_DIR,
        Operation::LookupEvents
    )
}

/// One region's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionTrails {
    pub region: String,
    pub describe: Evidence<DescribeTrails>,
    pub details: BTreeMap<String, (Evidence<TrailStatus>, Evidence<EventSelectors>)>,
    pub lookup_events: Evidence<LookupEvents>,
}

/// All CloudTrail evidence of the snapshot, by region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudTrail {
    pub regions: BTreeMap<String, RegionTrails>,
}

impl CloudTrail {
    /// Every trail seen in any region, once, in ARN order, with the first status and selectors
    /// that were read for it (a shadow copy in another region may hold them).
    pub fn trails(&self) -> Vec<TrailEvidence> {
        let mut trails: BTreeMap<String, TrailEvidence> = BTreeMap::new();
        for region in self.regions.values() {
            let Evidence::Found(describe) = &region.describe else {
                continue;
            };
            for trail in &describe.trail_list {
                let missing = |operation| Unavailable {
                    operation,
                    code: NOT_COLLECTED.to_string(),
                    message: String::new(),
                };
                let (status, selectors) = region
                    .details
                    .get(&trail.trail_arn)
                    .cloned()
                    .unwrap_or_else(|| {
                        (
                            Evidence::Unavailable(missing(Operation::GetTrailStatus)),
                            Evidence::Unavailable(missing(Operation::GetEventSelectors)),
                        )
                    });
                let candidate = TrailEvidence {
                    trail: trail.clone(),
                    region: region.region.clone(),
                    status,
                    selectors,
                };
                match trails.get_mut(&trail.trail_arn) {
                    None => {
                        trails.insert(trail.trail_arn.clone(), candidate);
                    }
                    Some(existing) => {
                        if existing.status.found().is_none() && candidate.status.found().is_some()
                            || existing.selectors.found().is_none()
                                && candidate.selectors.found().is_some()
                        {
                            *existing = candidate;
                        }
                    }
                }
            }
        }
        trails.into_values().collect()
    }

    /// True when some region's file holds a LookupEvents answer (even a failed one): the
    /// change timeline was asked for.
    pub fn lookup_events_recorded(&self) -> bool {
        self.regions.values().any(|region| {
            !matches!(&region.lookup_events, Evidence::Unavailable(why) if why.code == NOT_COLLECTED)
        })
    }

    /// Regions whose DescribeTrails could not be read: a trail there may exist unseen.
    pub fn unreadable_regions(&self) -> Vec<(&str, &Unavailable)> {
        self.regions
            .values()
            .filter_map(|r| r.describe.unavailable().map(|why| (r.region.as_str(), why)))
            .collect()
    }
}

pub(super) fn parse_region(
    path: &Path,
    region: &str,
    value: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<RegionTrails, SnapshotError> {
    let describe =
        typed_call::<DescribeTrails>(path, "", value, Operation::DescribeTrails, warnings)?;
    let lookup_events =
        typed_call::<LookupEvents>(path, "", value, Operation::LookupEvents, warnings)?;
    let mut details = BTreeMap::new();
    if let Some(trails) = value.get("trails") {
        let trails = trails
            .as_object()
            .ok_or_else(|| invalid(path, "/trails", "must be an object keyed by trail ARN"))?;
        for (arn, calls) in trails {
            let base = format!("/trails/{}", escape(arn));
            let status =
                typed_call::<TrailStatus>(path, &base, calls, Operation::GetTrailStatus, warnings)?;
            let selectors = typed_call::<EventSelectors>(
                path,
                &base,
                calls,
                Operation::GetEventSelectors,
                warnings,
            )?;
            details.insert(arn.clone(), (status, selectors));
        }
    }
    Ok(RegionTrails {
        region: region.to_string(),
        describe,
        details,
        lookup_events,
    })
}

/// `access-logs/<bucket>.json`: where the bucket's server access logs go and the newest objects
/// found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLogEvidence {
    pub target_bucket: String,
    pub target_prefix: String,
    pub listing: Evidence<Listing>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Listing {
    /// Absent when the listing is empty.
    #[serde(default)]
    pub contents: Vec<LogObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogObject {
    pub key: String,
    pub last_modified: Timestamp,
}

impl Listing {
    pub const SHAPE: Shape = Shape {
        name: "ListObjectsV2Output",
        members: &[
            Member::optional("IsTruncated", Kind::Bool),
            Member::optional("Contents", Kind::ListOf(&LogObject::SHAPE)),
            Member::optional("Name", Kind::String),
            Member::optional("Prefix", Kind::String),
            Member::optional("Delimiter", Kind::String),
            Member::optional("MaxKeys", Kind::Integer),
            Member::optional("CommonPrefixes", Kind::Any),
            Member::optional("EncodingType", Kind::String),
            Member::optional("KeyCount", Kind::Integer),
            Member::optional("ContinuationToken", Kind::String),
            Member::optional("NextContinuationToken", Kind::String),
            Member::optional("StartAfter", Kind::String),
            Member::optional("RequestCharged", Kind::String),
        ],
    };

    /// The most recently written object, by LastModified.
    pub fn newest(&self) -> Option<&LogObject> {
        self.contents
            .iter()
            .max_by(|a, b| a.last_modified.cmp(&b.last_modified))
    }
}

impl LogObject {
    pub const SHAPE: Shape = Shape {
        name: "Object",
        members: &[
            Member::required("Key", Kind::String),
            Member::required("LastModified", Kind::Time),
            Member::optional("ETag", Kind::String),
            Member::optional("ChecksumAlgorithm", Kind::Any),
            Member::optional("ChecksumType", Kind::String),
            Member::optional("Size", Kind::Integer),
            Member::optional("StorageClass", Kind::String),
            Member::optional("Owner", Kind::Any),
            Member::optional("RestoreStatus", Kind::Any),
        ],
    };
}

pub(super) fn parse_access_log(
    path: &Path,
    value: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<AccessLogEvidence, SnapshotError> {
    let text = |member: &str| {
        value
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| invalid(path, format!("/{member}"), "is missing or not a string"))
    };
    Ok(AccessLogEvidence {
        target_bucket: text("target_bucket")?,
        target_prefix: value
            .get("target_prefix")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        listing: typed_call::<Listing>(path, "", value, Operation::ListObjectsV2, warnings)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every CloudTrail timestamp member of a region file, as AWS CLI v1 prints them by default:
    /// seconds since the epoch, as a JSON number.
    fn to_epoch(value: &mut Value) {
        const TIMES: &[&str] = &[
            "EventTime",
            "LatestDeliveryTime",
            "LatestNotificationTime",
            "StartLoggingTime",
            "StopLoggingTime",
            "LatestCloudWatchLogsDeliveryTime",
            "LatestDigestDeliveryTime",
        ];
        match value {
            Value::Object(map) => {
                for (key, item) in map.iter_mut() {
                    match item.as_str().map(Timestamp::parse) {
                        Some(Ok(time)) if TIMES.contains(&key.as_str()) => {
                            *item = serde_json::json!(time.utc().timestamp() as f64);
                        }
                        _ => to_epoch(item),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(to_epoch),
            _ => {}
        }
    }

    fn region(value: &Value) -> RegionTrails {
        parse_region(
            Path::new("us-east-1.json"),
            "us-east-1",
            value,
            &mut Vec::new(),
        )
        .unwrap()
    }

    #[test]
    fn cloudtrail_times_read_the_same_from_iso_8601_and_from_epoch_seconds() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/samples/snapshot/cloudtrail/us-east-1.json"
        );
        let iso: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let mut epoch = iso.clone();
        to_epoch(&mut epoch);
        assert!(epoch["LookupEvents"]["ok"]["Events"][0]["EventTime"].is_number());
        // The sample's times are whole seconds in UTC, so even the text is the same.
        let (from_iso, from_epoch) = (region(&iso), region(&epoch));
        assert!(!from_iso.lookup_events.found().unwrap().events.is_empty());
        let mut trails = CloudTrail::default();
        assert!(!trails.lookup_events_recorded());
        trails.regions.insert("us-east-1".into(), from_iso.clone());
        assert!(trails.lookup_events_recorded());
        assert_eq!(from_epoch, from_iso);

        // A fraction (CLI v1 prints milliseconds) is kept; a string that is no time is an error.
        let mut fraction = iso.clone();
        fraction["LookupEvents"]["ok"]["Events"][0]["EventTime"] =
            serde_json::json!(1_727_539_491.25);
        let event = &region(&fraction).lookup_events.found().unwrap().events[0].clone();
        assert_eq!(event.event_time.as_str(), "2024-09-28T16:04:51.250Z");
        let mut bad = iso;
        bad["LookupEvents"]["ok"]["Events"][0]["EventTime"] = serde_json::json!("last Tuesday");
        let err = parse_region(
            Path::new("us-east-1.json"),
            "us-east-1",
            &bad,
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "us-east-1.json: /LookupEvents/ok/Events/0/EventTime: \"last Tuesday\" is not an RFC 3339 time: premature end of input"
        );
    }
}
