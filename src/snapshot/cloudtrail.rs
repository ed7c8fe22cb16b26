//! Typed views of the audit-trail evidence: `cloudtrail/<region>.json` (DescribeTrails,
//! GetTrailStatus, GetEventSelectors, LookupEvents) and `access-logs/<bucket>.json` (the newest
//! server access log objects).
//!
//! A multi-region trail appears in DescribeTrails of every region; [`CloudTrail::trails`] merges
//! them by ARN, keeping the first status and selectors that were read.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

use super::{typed_call, Evidence, SnapshotError};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DescribeTrails {
    #[serde(rename = "trailList", default)]
    pub trail_list: Vec<Trail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Trail {
    pub name: String,
    #[serde(rename = "TrailARN")]
    pub trail_arn: String,
    #[serde(default)]
    pub home_region: Option<String>,
    #[serde(default)]
    pub is_multi_region_trail: bool,
    #[serde(default)]
    pub is_organization_trail: bool,
    #[serde(default)]
    pub log_file_validation_enabled: bool,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub s3_bucket_name: Option<String>,
}

impl Trail {
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
    #[serde(default)]
    pub is_logging: bool,
    #[serde(default)]
    pub latest_delivery_time: Option<String>,
    #[serde(default)]
    pub latest_delivery_error: Option<String>,
    #[serde(default)]
    pub stop_logging_time: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSelectors {
    #[serde(default)]
    pub event_selectors: Vec<ClassicSelector>,
    #[serde(default)]
    pub advanced_event_selectors: Vec<AdvancedSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicSelector {
    /// `ReadOnly`, `WriteOnly` or `All` (the default).
    #[serde(default)]
    pub read_write_type: Option<String>,
    #[serde(default)]
    pub data_resources: Vec<DataResource>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DataResource {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedSelector {
    #[serde(default)]
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvents {
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Event {
    pub event_id: String,
    pub event_name: String,
    pub event_time: String,
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

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventResource {
    #[serde(default)]
    pub resource_type: Option<String>,
    #[serde(default)]
    pub resource_name: Option<String>,
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
    pub fn evidence_ref(&self, operation: &str) -> String {
        format!(
            "cloudtrail/{}.json#/trails/{}/{operation}",
            self.region,
            self.trail.trail_arn.replace('~', "~0").replace('/', "~1")
        )
    }
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
                let missing = |operation| super::Unavailable {
                    operation,
                    code: "NotCollected".to_string(),
                    message: String::new(),
                };
                let (status, selectors) = region
                    .details
                    .get(&trail.trail_arn)
                    .cloned()
                    .unwrap_or_else(|| {
                        (
                            Evidence::Unavailable(missing("GetTrailStatus")),
                            Evidence::Unavailable(missing("GetEventSelectors")),
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

    /// Regions whose DescribeTrails could not be read: a trail there may exist unseen.
    pub fn unreadable_regions(&self) -> Vec<(&str, &super::Unavailable)> {
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
) -> Result<RegionTrails, SnapshotError> {
    let describe = typed_call::<DescribeTrails>(path, "", value, "DescribeTrails", &[])?;
    let lookup_events = typed_call::<LookupEvents>(path, "", value, "LookupEvents", &[])?;
    let mut details = BTreeMap::new();
    if let Some(trails) = value.get("trails") {
        let trails = trails.as_object().ok_or_else(|| SnapshotError::Invalid {
            path: path.to_path_buf(),
            pointer: "/trails".to_string(),
            message: "must be an object keyed by trail ARN".to_string(),
        })?;
        for (arn, calls) in trails {
            let base = format!("/trails/{}", arn.replace('~', "~0").replace('/', "~1"));
            let status = typed_call::<TrailStatus>(path, &base, calls, "GetTrailStatus", &[])?;
            let selectors =
                typed_call::<EventSelectors>(path, &base, calls, "GetEventSelectors", &[])?;
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
    #[serde(default)]
    pub contents: Vec<LogObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogObject {
    pub key: String,
    pub last_modified: String,
}

impl Listing {
    /// The most recently written object, by LastModified.
    pub fn newest(&self) -> Option<&LogObject> {
        self.contents
            .iter()
            .max_by(|a, b| a.last_modified.cmp(&b.last_modified))
    }
}

pub(super) fn parse_access_log(
    path: &Path,
    value: &Value,
) -> Result<AccessLogEvidence, SnapshotError> {
    let text = |member: &str| {
        value
            .get(member)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| SnapshotError::Invalid {
                path: path.to_path_buf(),
                pointer: format!("/{member}"),
                message: "is missing or not a string".to_string(),
            })
    };
    Ok(AccessLogEvidence {
        target_bucket: text("target_bucket")?,
        target_prefix: value
            .get("target_prefix")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        listing: typed_call::<Listing>(path, "", value, "ListObjectsV2", &[])?,
    })
}
