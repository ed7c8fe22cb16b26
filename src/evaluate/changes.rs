//! Who changed bucket security in the review period: a per-bucket timeline drawn from
//! CloudTrail LookupEvents, with changes by the root user or by unidentified principals flagged.
//!
//! Access key ids are cut to their last four characters: enough to match a key in IAM, not
//! enough to be a credential in an evidence bundle.

use serde_json::Value;
use std::collections::BTreeSet;

pub use crate::findings::{Change, Timeline};
use crate::schema::{Timestamp, CONFIG_CHANGE_EVENTS};
use crate::snapshot::{Evidence, Snapshot};

/// `…` plus the last four characters.
pub fn redact_key(key: &str) -> String {
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("…{tail}")
}

pub fn timeline(snapshot: &Snapshot) -> Timeline {
    let in_period = |time: &Timestamp| match &snapshot.meta.review_period {
        Some(period) => period.since.utc() <= time.utc() && time.utc() <= period.until.utc(),
        None => true,
    };
    let mut seen = BTreeSet::new();
    let mut timeline = Timeline::default();
    // Each change with its parsed time, to order by instant rather than by text.
    let mut changes: Vec<(Timestamp, Change)> = Vec::new();
    for (region, trails) in &snapshot.trails.regions {
        let events = match &trails.lookup_events {
            Evidence::Found(found) => &found.events,
            Evidence::NotConfigured => continue,
            Evidence::Unavailable(why) => {
                timeline.not_collected.push(format!("{region}: {why}"));
                continue;
            }
        };
        for (index, event) in events.iter().enumerate() {
            if !CONFIG_CHANGE_EVENTS.contains(&event.event_name.as_str())
                || !in_period(&event.event_time)
                || !seen.insert(event.event_id.clone())
            {
                continue;
            }
            let record: Value = event
                .cloud_trail_event
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or(Value::Null);
            let identity = &record["userIdentity"];
            let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
            let principal = text(&identity["arn"]);
            let user_name = event
                .username
                .clone()
                .filter(|u| !u.is_empty())
                .or_else(|| text(&identity["userName"]));
            let mut flags = Vec::new();
            if identity["type"] == "Root"
                || principal.as_deref().is_some_and(|a| a.ends_with(":root"))
            {
                flags.push("root".to_string());
            }
            if principal.is_none() && user_name.is_none() {
                flags.push("unidentified".to_string());
            }
            let buckets: BTreeSet<String> = event
                .resources
                .iter()
                .filter(|r| r.resource_type.as_deref() == Some("AWS::S3::Bucket"))
                .filter_map(|r| r.resource_name.clone())
                .chain(text(&record["requestParameters"]["bucketName"]))
                .collect();
            for bucket in buckets {
                let change = Change {
                    account: None,
                    bucket,
                    time: event.event_time.to_string(),
                    event: event.event_name.clone(),
                    region: region.clone(),
                    principal: principal.clone(),
                    user_name: user_name.clone(),
                    source_ip: text(&record["sourceIPAddress"]),
                    access_key: event
                        .access_key_id
                        .clone()
                        .or_else(|| text(&identity["accessKeyId"]))
                        .filter(|k| !k.is_empty())
                        .map(|k| redact_key(&k)),
                    error_code: text(&record["errorCode"]),
                    flags: flags.clone(),
                    event_id: event.event_id.clone(),
                    evidence: crate::snapshot::cloudtrail::event_ref(region, index),
                };
                changes.push((event.event_time.clone(), change));
            }
        }
    }
    changes.sort_by(|(at, a), (bt, b)| {
        (&a.bucket, at, &a.event_id).cmp(&(&b.bucket, bt, &b.event_id))
    });
    timeline.changes = changes.into_iter().map(|(_, change)| change).collect();
    timeline
}

#[cfg(test)]
mod tests {
    use super::redact_key;

    #[test]
    fn keys_keep_four_characters() {
        assert_eq!(redact_key("ASIA3XFRBF234F7CC2F6"), "…C2F6");
        assert_eq!(redact_key("AB"), "…AB");
    }
}
