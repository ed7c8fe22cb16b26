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
use phi_audit::collect::cloudtrail::{lookup_config_changes, CONFIG_CHANGE_EVENTS};
use phi_audit::collect::limit::{Limiter, Pacer};
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
