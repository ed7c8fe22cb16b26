//! CloudTrail LookupEvents (not implemented by moto), tested with aws-smithy-mocks: pages are
//! followed, only S3 configuration-change events are kept, and requests in one region are spaced
//! at least 500 ms apart (AWS allows 2 per second). Time is tokio's paused clock, so the spacing
//! is measured exactly and the test takes no real time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudtrail::error::ErrorMetadata;
use aws_sdk_cloudtrail::operation::lookup_events::{LookupEventsError, LookupEventsOutput};
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::error::InvalidLookupAttributesException;
use aws_sdk_cloudtrail::types::{Event, Resource};
use aws_sdk_cloudtrail::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use phi_audit::collect::cloudtrail::lookup_config_changes;
use phi_audit::collect::limit::{Limiter, Pacer};
use phi_audit::schema::CONFIG_CHANGE_EVENTS;
use tokio::time::Instant;

fn event(id: &str, name: &str, source: &str, secs: i64) -> Event {
    Event::builder()
        .event_id(id)
        .event_name(name)
        .event_source(source)
        .event_time(DateTime::from_secs(secs))
        .username("alice")
        .read_only("false")
        .resources(
            Resource::builder()
                .resource_type("AWS::S3::Bucket")
                .resource_name("phi-claims")
                .build(),
        )
        .cloud_trail_event(format!("{{\"eventName\":\"{name}\"}}"))
        .build()
}

fn period() -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    (
        "2026-01-01T00:00:00Z".parse().unwrap(),
        "2026-03-31T23:59:59Z".parse().unwrap(),
    )
}

#[tokio::test(start_paused = true)]
async fn lookup_events_pages_filters_and_paces() {
    let times: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = Arc::clone(&times);
    let rule = mock!(Client::lookup_events)
        .match_requests(move |req| {
            seen.lock().unwrap().push(Instant::now());
            // The period is passed through.
            req.start_time() == Some(&DateTime::from_secs(1_767_225_600))
                && req.end_time() == Some(&DateTime::from_secs(1_775_001_599))
        })
        .then_compute_output(|req| {
            let name = req.lookup_attributes()[0].attribute_value();
            let token = req.next_token();
            let mut out = LookupEventsOutput::builder();
            match (name, token) {
                ("PutBucketPolicy", None) => {
                    out = out
                        .events(event(
                            "e1",
                            "PutBucketPolicy",
                            "s3.amazonaws.com",
                            1_770_000_000,
                        ))
                        // Same name, another service: not an S3 configuration change.
                        .events(event(
                            "x1",
                            "PutBucketPolicy",
                            "example.amazonaws.com",
                            1_770_000_001,
                        ))
                        .next_token("page-2");
                }
                ("PutBucketPolicy", Some("page-2")) => {
                    out = out
                        .events(event(
                            "e2",
                            "PutBucketPolicy",
                            "s3.amazonaws.com",
                            1_769_000_000,
                        ))
                        // A read event the service returned anyway: filtered out.
                        .events(event(
                            "x2",
                            "GetBucketPolicy",
                            "s3.amazonaws.com",
                            1_769_000_001,
                        ))
                        .next_token("page-3");
                }
                ("PutBucketPolicy", Some("page-3")) => {
                    out = out.events(event(
                        "e3",
                        "PutBucketPolicy",
                        "s3.amazonaws.com",
                        1_768_000_000,
                    ));
                }
                ("DeletePublicAccessBlock" | "DeleteBucketPublicAccessBlock", None) => {
                    out = out.events(event("e4", name, "s3.amazonaws.com", 1_771_000_000));
                }
                _ => {}
            }
            out.build()
        });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&rule]);
    let limiter = Limiter::new(4);
    let pacer = Pacer::new(Pacer::LOOKUP_EVENTS_INTERVAL);
    let (since, until) = period();

    let result = lookup_config_changes(&limiter, &pacer, &client, since, until).await;

    // One request per event name, plus the two follow-up pages.
    let expected_requests = CONFIG_CHANGE_EVENTS.len() + 2;
    assert_eq!(rule.num_calls(), expected_requests);
    let events = result["ok"]["Events"]
        .as_array()
        .expect("ok RESULT")
        .clone();
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    // Sorted by time; foreign and read-only events dropped.
    // (e4 is returned under two event names and kept once.)
    assert_eq!(ids, ["e3", "e2", "e1", "e4"]);
    let e1 = events.iter().find(|e| e["EventId"] == "e1").unwrap();
    assert_eq!(e1["EventName"], "PutBucketPolicy");
    assert_eq!(e1["EventTime"], "2026-02-02T02:40:00Z");
    assert_eq!(e1["Username"], "alice");
    assert_eq!(e1["Resources"][0]["ResourceName"], "phi-claims");
    assert!(e1["CloudTrailEvent"]
        .as_str()
        .unwrap()
        .contains("PutBucketPolicy"));

    // Pacing: every request at least 500 ms after the previous one, and no slower than needed.
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), expected_requests);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(500), "requests {gap:?} apart");
        assert!(gap < Duration::from_millis(600), "requests {gap:?} apart");
    }
    let total = *times.last().unwrap() - times[0];
    assert!(total >= Duration::from_millis(500) * (expected_requests as u32 - 1));
}

#[tokio::test(start_paused = true)]
async fn lookup_events_error_is_recorded_with_its_code() {
    let rule = mock!(Client::lookup_events).then_error(|| {
        LookupEventsError::InvalidLookupAttributesException(
            // A deserialised service error carries its code in the metadata; so does this one.
            InvalidLookupAttributesException::builder()
                .message("bad attribute")
                .meta(
                    ErrorMetadata::builder()
                        .code("InvalidLookupAttributesException")
                        .message("bad attribute")
                        .build(),
                )
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&rule]);
    let (since, until) = period();
    let result = lookup_config_changes(
        &Limiter::new(1),
        &Pacer::new(Pacer::LOOKUP_EVENTS_INTERVAL),
        &client,
        since,
        until,
    )
    .await;
    assert_eq!(result["error"]["code"], "InvalidLookupAttributesException");
    assert_eq!(result["error"]["message"], "bad attribute");
    assert!(result.get("ok").is_none());
}

/// The change timeline end to end: LookupEvents answers (mocked, as moto lacks them) go through
/// the collector into a snapshot file, and from there into the per-bucket timeline of
/// findings.json, with the root user flagged and access keys cut to four characters.
#[tokio::test(start_paused = true)]
async fn lookup_events_become_the_change_timeline() {
    let record = |identity: &str| {
        format!(
            r#"{{"userIdentity":{identity},"sourceIPAddress":"203.0.113.9","requestParameters":{{"bucketName":"phi-claims"}}}}"#
        )
    };
    let rule = mock!(Client::lookup_events).then_compute_output(move |req| {
        let name = req.lookup_attributes()[0].attribute_value();
        let mut out = LookupEventsOutput::builder();
        if name == "PutBucketEncryption" {
            out = out.events(
                Event::builder()
                    .event_id("root-1")
                    .event_name("PutBucketEncryption")
                    .event_source("s3.amazonaws.com")
                    .event_time(DateTime::from_secs(1_770_000_000))
                    .username("root")
                    .access_key_id("ASIAEXAMPLEKEY12WXYZ")
                    .resources(
                        Resource::builder()
                            .resource_type("AWS::S3::Bucket")
                            .resource_name("phi-claims")
                            .build(),
                    )
                    .cloud_trail_event(record(
                        r#"{"type":"Root","arn":"arn:aws:iam::111122223333:root","accessKeyId":"ASIAEXAMPLEKEY12WXYZ"}"#,
                    ))
                    .build(),
            );
        }
        if name == "PutBucketPolicy" {
            out = out.events(
                Event::builder()
                    .event_id("user-1")
                    .event_name("PutBucketPolicy")
                    .event_source("s3.amazonaws.com")
                    .event_time(DateTime::from_secs(1_769_000_000))
                    .username("alice")
                    .resources(
                        Resource::builder()
                            .resource_type("AWS::S3::Bucket")
                            .resource_name("phi-claims")
                            .build(),
                    )
                    .cloud_trail_event(record(
                        r#"{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice"}"#,
                    ))
                    .build(),
            );
        }
        out.build()
    });
    let client = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, [&rule]);
    let (since, until) = period();
    let result = lookup_config_changes(
        &Limiter::new(4),
        &Pacer::new(Pacer::LOOKUP_EVENTS_INTERVAL),
        &client,
        since,
        until,
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("cloudtrail")).unwrap();
    std::fs::create_dir_all(dir.path().join("buckets")).unwrap();
    let meta = serde_json::json!({
        "format": "phi-audit-snapshot/1", "collected_at": "2026-04-01T00:00:00Z", "account_id": "111122223333",
        "review_period": {"since": "2026-01-01T00:00:00Z", "until": "2026-03-31T23:59:59Z"},
        "account": {"GetPublicAccessBlock": {"error": {"code": "NoSuchPublicAccessBlockConfiguration", "message": ""}}}
    });
    std::fs::write(dir.path().join("snapshot.json"), meta.to_string()).unwrap();
    let region = serde_json::json!({"DescribeTrails": {"ok": {"trailList": []}}, "trails": {}, "LookupEvents": result});
    std::fs::write(
        dir.path().join("cloudtrail/us-east-1.json"),
        region.to_string(),
    )
    .unwrap();
    let snapshot = phi_audit::snapshot::Snapshot::load(dir.path()).unwrap();
    let timeline = phi_audit::evaluate::changes::timeline(&snapshot);

    let events: Vec<(&str, &str)> = timeline
        .changes
        .iter()
        .map(|c| (c.bucket.as_str(), c.event.as_str()))
        .collect();
    assert_eq!(
        events,
        [
            ("phi-claims", "PutBucketPolicy"),
            ("phi-claims", "PutBucketEncryption")
        ]
    );
    let root = &timeline.changes[1];
    assert_eq!(root.flags, ["root"]);
    assert_eq!(
        root.principal.as_deref(),
        Some("arn:aws:iam::111122223333:root")
    );
    assert_eq!(root.access_key.as_deref(), Some("…WXYZ"));
    assert_eq!(root.source_ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(timeline.changes[0].user_name.as_deref(), Some("alice"));
    assert!(timeline.changes[0].flags.is_empty());
    assert!(timeline.not_collected.is_empty());
}
