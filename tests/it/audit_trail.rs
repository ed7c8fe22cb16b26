//! Audit-trail evidence (#7): data-event selector coverage, the trail controls, access-log
//! delivery and the change timeline, on fixtures.

use crate::support::fixtures::*;
use phi_audit::evaluate::data_events::{coverage, Coverage};
use phi_audit::evaluate::{check_bucket_in, check_trail, AccountContext, EvaluateOptions};
use phi_audit::findings::Status;
use phi_audit::snapshot::cloudtrail::EventSelectors;
use phi_audit::snapshot::Snapshot;
use serde_json::{json, Value};

const NONE: Coverage = Coverage {
    read: false,
    write: false,
};
const BOTH: Coverage = Coverage {
    read: true,
    write: true,
};
const READ: Coverage = Coverage {
    read: true,
    write: false,
};
const WRITE: Coverage = Coverage {
    read: false,
    write: true,
};

fn classic(rw: &str, values: &[&str]) -> Value {
    json!({"ReadWriteType": rw, "IncludeManagementEvents": true,
           "DataResources": [{"Type": "AWS::S3::Object", "Values": values}]})
}

fn advanced(fields: Value) -> Value {
    json!({"Name": "s", "FieldSelectors": fields})
}

fn data_s3(extra: Value) -> Value {
    let mut fields = vec![
        json!({"Field": "eventCategory", "Equals": ["Data"]}),
        json!({"Field": "resources.type", "Equals": ["AWS::S3::Object"]}),
    ];
    fields.extend(extra.as_array().unwrap().iter().cloned());
    advanced(Value::Array(fields))
}

fn selectors(classic_list: Vec<Value>, advanced_list: Vec<Value>) -> EventSelectors {
    serde_json::from_value(
        json!({"EventSelectors": classic_list, "AdvancedEventSelectors": advanced_list}),
    )
    .unwrap()
}

#[test]
fn selector_coverage_table() {
    let arn_starts = |v: &[&str]| json!([{"Field": "resources.ARN", "StartsWith": v}]);
    let cases: Vec<(&str, EventSelectors, Coverage)> = vec![
        (
            "classic: all buckets (arn:aws:s3)",
            selectors(vec![classic("All", &["arn:aws:s3"])], vec![]),
            BOTH,
        ),
        (
            "classic: all buckets (arn:aws:s3:::)",
            selectors(vec![classic("All", &["arn:aws:s3:::"])], vec![]),
            BOTH,
        ),
        (
            "classic: the bucket with slash",
            selectors(vec![classic("All", &["arn:aws:s3:::phi/"])], vec![]),
            BOTH,
        ),
        (
            "classic: a prefix of the bucket name also selects it",
            selectors(vec![classic("All", &["arn:aws:s3:::ph"])], vec![]),
            BOTH,
        ),
        (
            "classic: a prefix inside the bucket is partial",
            selectors(vec![classic("All", &["arn:aws:s3:::phi/inbound/"])], vec![]),
            NONE,
        ),
        (
            "classic: another bucket",
            selectors(vec![classic("All", &["arn:aws:s3:::other/"])], vec![]),
            NONE,
        ),
        (
            "classic: a longer bucket name does not select this one",
            selectors(vec![classic("All", &["arn:aws:s3:::phi-archive/"])], vec![]),
            NONE,
        ),
        (
            "classic: ReadOnly",
            selectors(vec![classic("ReadOnly", &["arn:aws:s3:::phi/"])], vec![]),
            READ,
        ),
        (
            "classic: WriteOnly",
            selectors(vec![classic("WriteOnly", &["arn:aws:s3:::phi/"])], vec![]),
            WRITE,
        ),
        (
            "classic: ReadOnly + WriteOnly selectors add up",
            selectors(
                vec![
                    classic("ReadOnly", &["arn:aws:s3:::phi/"]),
                    classic("WriteOnly", &["arn:aws:s3"]),
                ],
                vec![],
            ),
            BOTH,
        ),
        (
            "classic: a Lambda data resource is not S3",
            selectors(
                vec![
                    json!({"ReadWriteType": "All", "DataResources": [{"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}),
                ],
                vec![],
            ),
            NONE,
        ),
        (
            "classic: management events only",
            selectors(
                vec![
                    json!({"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": []}),
                ],
                vec![],
            ),
            NONE,
        ),
        (
            "advanced: all S3 objects",
            selectors(vec![], vec![data_s3(json!([]))]),
            BOTH,
        ),
        (
            "advanced: StartsWith the bucket",
            selectors(vec![], vec![data_s3(arn_starts(&["arn:aws:s3:::phi/"]))]),
            BOTH,
        ),
        (
            "advanced: StartsWith one of several values",
            selectors(
                vec![],
                vec![data_s3(arn_starts(&[
                    "arn:aws:s3:::x/",
                    "arn:aws:s3:::phi/",
                ]))],
            ),
            BOTH,
        ),
        (
            "advanced: StartsWith without slash is over-broad but covers",
            selectors(vec![], vec![data_s3(arn_starts(&["arn:aws:s3:::ph"]))]),
            BOTH,
        ),
        (
            "advanced: StartsWith a prefix inside",
            selectors(
                vec![],
                vec![data_s3(arn_starts(&["arn:aws:s3:::phi/inbound/"]))],
            ),
            NONE,
        ),
        (
            "advanced: Equals one object",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "Equals": ["arn:aws:s3:::phi/a.txt"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: EndsWith a suffix",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "EndsWith": [".dcm"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: NotStartsWith another bucket keeps this one",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::logs/"]}]),
                )],
            ),
            BOTH,
        ),
        (
            "advanced: NotStartsWith this bucket excludes it",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::phi/"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: NotStartsWith a prefix of it excludes part",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::phi/tmp/"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: NotStartsWith a shorter prefix excludes it",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::p"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: NotEquals one of its objects",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::phi/x"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: NotEquals another bucket's object",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotEquals": ["arn:aws:s3:::other/x"]}]),
                )],
            ),
            BOTH,
        ),
        (
            "advanced: NotEndsWith excludes some objects",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "resources.ARN", "NotEndsWith": [".tmp"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: readOnly true",
            selectors(
                vec![],
                vec![data_s3(json!([{"Field": "readOnly", "Equals": ["true"]}]))],
            ),
            READ,
        ),
        (
            "advanced: readOnly false",
            selectors(
                vec![],
                vec![data_s3(json!([{"Field": "readOnly", "Equals": ["false"]}]))],
            ),
            WRITE,
        ),
        (
            "advanced: readOnly NotEquals true",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "readOnly", "NotEquals": ["true"]}]),
                )],
            ),
            WRITE,
        ),
        (
            "advanced: read and write selectors add up",
            selectors(
                vec![],
                vec![
                    data_s3(json!([{"Field": "readOnly", "Equals": ["true"]}])),
                    data_s3(json!([{"Field": "readOnly", "Equals": ["false"]}])),
                ],
            ),
            BOTH,
        ),
        (
            "advanced: eventName narrows to some events",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "eventName", "Equals": ["GetObject", "PutObject"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: userIdentity filter narrows",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "userIdentity.arn", "NotStartsWith": ["arn:aws:sts::1:assumed-role/etl"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: eventSource s3 is fine",
            selectors(
                vec![],
                vec![data_s3(
                    json!([{"Field": "eventSource", "Equals": ["s3.amazonaws.com"]}]),
                )],
            ),
            BOTH,
        ),
        (
            "advanced: management category",
            selectors(
                vec![],
                vec![advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Management"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: data of another resource type",
            selectors(
                vec![],
                vec![advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]}]),
                )],
            ),
            NONE,
        ),
        (
            "advanced: S3 access points are not the bucket's objects",
            selectors(
                vec![],
                vec![advanced(
                    json!([{"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::AccessPoint"]}]),
                )],
            ),
            NONE,
        ),
        (
            "mixed: classic writes plus advanced reads",
            selectors(
                vec![classic("WriteOnly", &["arn:aws:s3:::phi/"])],
                vec![data_s3(json!([{"Field": "readOnly", "Equals": ["true"]}]))],
            ),
            BOTH,
        ),
        ("no selectors at all", selectors(vec![], vec![]), NONE),
    ];
    assert!(cases.len() >= 25);
    let mut mismatches = Vec::new();
    for (name, selectors, expected) in &cases {
        let got = coverage(selectors, "aws", "phi");
        if got != *expected {
            mismatches.push(format!("{name}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A region file with one trail.
fn region_with(trail: Value, status: Value, event_selectors: Value) -> Value {
    let arn = trail["TrailARN"].as_str().unwrap().to_string();
    json!({
        "DescribeTrails": ok(json!({"trailList": [trail]})),
        "trails": {arn: {"GetTrailStatus": status, "GetEventSelectors": event_selectors}},
        "LookupEvents": ok(json!({"Events": []})),
    })
}

fn trail(name: &str, home: &str, multi: bool) -> Value {
    json!({"Name": name, "TrailARN": format!("arn:aws:cloudtrail:{home}:111122223333:trail/{name}"), "HomeRegion": home,
           "IsMultiRegionTrail": multi, "LogFileValidationEnabled": true, "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k"})
}

fn logging(on: bool) -> Value {
    ok(json!({"IsLogging": on, "LatestDeliveryTime": "2026-10-01T05:00:00Z"}))
}

fn all_objects() -> Value {
    ok(json!({"EventSelectors": [classic("All", &["arn:aws:s3"])]}))
}

/// Loads a snapshot made of `buckets` and the given region files.
fn snapshot(buckets: &[Value], regions: &[(&str, Value)]) -> (tempfile::TempDir, Snapshot) {
    let temp = tempfile::tempdir().unwrap();
    write_snapshot(temp.path(), bpa(ALL_BPA), buckets);
    std::fs::remove_file(temp.path().join("cloudtrail/us-east-1.json")).unwrap();
    for (region, file) in regions {
        std::fs::write(
            temp.path().join(format!("cloudtrail/{region}.json")),
            serde_json::to_vec(file).unwrap(),
        )
        .unwrap();
    }
    let snapshot = Snapshot::load(temp.path()).unwrap();
    (temp, snapshot)
}

fn verdict(snapshot: &Snapshot, control: &str, bucket: &str) -> phi_audit::evaluate::Verdict {
    let account = AccountContext::new(snapshot, EvaluateOptions::default());
    let bucket = snapshot.buckets.iter().find(|b| b.name == bucket).unwrap();
    check_bucket_in(control, bucket, &account).unwrap()
}

fn in_region(name: &str, region: &str) -> Value {
    let mut bucket = bucket_with(name, &[]);
    bucket["region"] = json!(region);
    bucket
}

#[test]
fn data_event_coverage_depends_on_logging_region_and_union() {
    let de = "s3.data-events-not-logged";
    // A multi-region trail that is logging covers a bucket in any region.
    let (_t, s) = snapshot(
        &[in_region("phi", "eu-west-1")],
        &[(
            "us-east-1",
            region_with(
                trail("org", "us-east-1", true),
                logging(true),
                all_objects(),
            ),
        )],
    );
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Pass, "{}", v.reason);
    assert!(v.reason.contains("org (reads and writes)"), "{}", v.reason);

    // A single-region trail covers only its own region.
    let (_t, s) = snapshot(
        &[in_region("phi", "eu-west-1")],
        &[(
            "us-east-1",
            region_with(
                trail("local", "us-east-1", false),
                logging(true),
                all_objects(),
            ),
        )],
    );
    assert_eq!(verdict(&s, de, "phi").status, Status::Fail);
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[(
            "us-east-1",
            region_with(
                trail("local", "us-east-1", false),
                logging(true),
                all_objects(),
            ),
        )],
    );
    assert_eq!(verdict(&s, de, "phi").status, Status::Pass);

    // A stopped trail covers nothing, and the reason says it would have.
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[(
            "us-east-1",
            region_with(
                trail("stopped", "us-east-1", true),
                logging(false),
                all_objects(),
            ),
        )],
    );
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Fail);
    assert!(
        v.reason
            .contains("stopped selects reads and writes but is not logging"),
        "{}",
        v.reason
    );

    // A read-only trail and a write-only trail cover the bucket together.
    let read_only = ok(json!({"EventSelectors": [classic("ReadOnly", &["arn:aws:s3:::phi/"])]}));
    let write_only = ok(json!({"EventSelectors": [classic("WriteOnly", &["arn:aws:s3:::phi/"])]}));
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[
            (
                "us-east-1",
                region_with(
                    trail("reads", "us-east-1", true),
                    logging(true),
                    read_only.clone(),
                ),
            ),
            (
                "us-west-2",
                region_with(
                    trail("writes", "us-west-2", true),
                    logging(true),
                    write_only,
                ),
            ),
        ],
    );
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Pass, "{}", v.reason);
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[(
            "us-east-1",
            region_with(trail("reads", "us-east-1", true), logging(true), read_only),
        )],
    );
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Fail);
    assert!(v.reason.contains("writes are not recorded"), "{}", v.reason);

    // Unreadable selectors make the answer unknown, never a pass.
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[(
            "us-east-1",
            region_with(trail("org", "us-east-1", true), logging(true), denied()),
        )],
    );
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Error, "{}", v.reason);
    // ... unless another trail already covers the bucket.
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[
            (
                "us-east-1",
                region_with(trail("org", "us-east-1", true), logging(true), denied()),
            ),
            (
                "us-west-2",
                region_with(
                    trail("other", "us-west-2", true),
                    logging(true),
                    all_objects(),
                ),
            ),
        ],
    );
    assert_eq!(verdict(&s, de, "phi").status, Status::Pass);
    // A region whose trails could not be listed may hide a covering trail.
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[(
            "us-east-1",
            json!({"DescribeTrails": denied(), "LookupEvents": denied()}),
        )],
    );
    assert_eq!(verdict(&s, de, "phi").status, Status::Error);
    // No CloudTrail evidence at all.
    let (_t, s) = snapshot(&[in_region("phi", "us-east-1")], &[]);
    let v = verdict(&s, de, "phi");
    assert_eq!(v.status, Status::Error);
    assert!(
        v.reason.contains("no CloudTrail evidence was collected"),
        "{}",
        v.reason
    );
}

#[test]
fn multi_region_trails_listed_in_every_region_are_judged_once() {
    let org = trail("org", "us-east-1", true);
    let (_t, s) = snapshot(
        &[in_region("phi", "us-east-1")],
        &[
            (
                "us-east-1",
                region_with(org.clone(), logging(true), all_objects()),
            ),
            (
                "us-west-2",
                json!({"DescribeTrails": ok(json!({"trailList": [org]})), "LookupEvents": ok(json!({"Events": []}))}),
            ),
        ],
    );
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    let findings = phi_audit::evaluate::evaluate(&s, &catalog);
    let trail_findings: Vec<_> = findings
        .iter()
        .filter(|f| f.control == "cloudtrail.not-logging")
        .collect();
    assert_eq!(trail_findings.len(), 1);
    assert_eq!(
        trail_findings[0].status,
        Status::Pass,
        "{}",
        trail_findings[0].reason
    );
}

#[test]
fn trail_controls() {
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-west-2",
            region_with(
                json!({"Name": "dr", "TrailARN": "arn:aws:cloudtrail:us-west-2:111122223333:trail/dr", "HomeRegion": "us-west-2",
                       "IsMultiRegionTrail": false, "LogFileValidationEnabled": false}),
                ok(
                    json!({"IsLogging": false, "StopLoggingTime": "2026-07-20T19:33:48Z", "LatestDeliveryTime": "2026-07-20T19:38:02Z",
                          "LatestDeliveryError": "AccessDenied"}),
                ),
                all_objects(),
            ),
        )],
    );
    let trails = s.trails.trails();
    let dr = &trails[0];
    let cases = [
        (
            "cloudtrail.not-logging",
            Status::Fail,
            "stopped 2026-07-20T19:33:48Z",
        ),
        (
            "cloudtrail.log-validation-disabled",
            Status::Fail,
            "cannot be detected",
        ),
        ("cloudtrail.not-kms-encrypted", Status::Fail, "SSE-S3"),
        (
            "cloudtrail.not-multi-region",
            Status::Fail,
            "only us-west-2",
        ),
    ];
    for (control, status, says) in cases {
        let v = check_trail(control, dr).unwrap();
        assert_eq!(v.status, status, "{control}: {}", v.reason);
        assert!(v.reason.contains(says), "{control}: {}", v.reason);
        assert!(
            v.reason.contains(
                "Latest log delivery 2026-07-20T19:38:02Z; latest delivery error: AccessDenied"
            ),
            "{control}: {}",
            v.reason
        );
    }
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-east-1",
            region_with(
                trail("org", "us-east-1", true),
                logging(true),
                all_objects(),
            ),
        )],
    );
    for control in [
        "cloudtrail.not-logging",
        "cloudtrail.log-validation-disabled",
        "cloudtrail.not-kms-encrypted",
        "cloudtrail.not-multi-region",
    ] {
        assert_eq!(
            check_trail(control, &s.trails.trails()[0]).unwrap().status,
            Status::Pass,
            "{control}"
        );
    }
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-east-1",
            region_with(trail("org", "us-east-1", true), denied(), all_objects()),
        )],
    );
    assert_eq!(
        check_trail("cloudtrail.not-logging", &s.trails.trails()[0])
            .unwrap()
            .status,
        Status::Error
    );
}

#[test]
fn an_account_without_trails_fails_and_an_unlisted_region_is_unknown() {
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    let account_finding = |s: &Snapshot| {
        phi_audit::evaluate::evaluate(s, &catalog)
            .into_iter()
            .find(|f| f.subject == "account:111122223333")
    };
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-east-1",
            json!({"DescribeTrails": ok(json!({"trailList": []})), "LookupEvents": ok(json!({"Events": []}))}),
        )],
    );
    let f = account_finding(&s).expect("an account finding");
    assert_eq!(
        (f.control.as_str(), f.status),
        ("cloudtrail.not-logging", Status::Fail)
    );
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-east-1",
            json!({"DescribeTrails": denied(), "LookupEvents": denied()}),
        )],
    );
    assert_eq!(account_finding(&s).unwrap().status, Status::Error);
    let (_t, s) = snapshot(
        &[bucket_with("b", &[])],
        &[(
            "us-east-1",
            region_with(
                trail("org", "us-east-1", true),
                logging(true),
                all_objects(),
            ),
        )],
    );
    assert!(account_finding(&s).is_none(), "trails judge themselves");
}

fn log_listing(target: &str, prefix: &str, newest: Option<&str>) -> Value {
    let contents: Vec<Value> = newest
        .map(|t| vec![json!({"Key": format!("{prefix}2026-x"), "LastModified": t})])
        .unwrap_or_default();
    json!({"target_bucket": target, "target_prefix": prefix, "ListObjectsV2": ok(json!({"Contents": contents}))})
}

fn logs_to(target: &str) -> Value {
    ok(json!({"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "src/"}}))
}

fn log_bucket_policy(source_arn: &str) -> Value {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"logging.s3.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/*","Condition":{{"ArnLike":{{"aws:SourceArn":"{source_arn}"}},"StringEquals":{{"aws:SourceAccount":"111122223333"}}}}}}]}}"#
    ))
}

#[test]
fn access_log_delivery() {
    let ldm = "s3.access-log-delivery-missing";
    let run = |source: Value, target: Option<Value>, listing: Option<Value>| {
        let mut buckets = vec![source];
        buckets.extend(target);
        let (t, s) = snapshot(&buckets, &[("us-east-1", good_trail_region())]);
        let logs = t.path().join("access-logs/src.json");
        match &listing {
            Some(listing) => std::fs::write(&logs, serde_json::to_vec(listing).unwrap()).unwrap(),
            None => {
                let _ = std::fs::remove_file(&logs);
            }
        }
        let s = Snapshot::load(t.path()).unwrap_or(s);
        verdict(&s, ldm, "src")
    };
    let target_ok = bucket_with(
        "logs",
        &[("GetBucketPolicy", log_bucket_policy("arn:aws:s3:::src"))],
    );
    let fresh = Some(log_listing("logs", "src/", Some("2026-09-30T12:00:00Z")));

    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("logs"))]),
        Some(target_ok.clone()),
        fresh.clone(),
    );
    assert_eq!(v.status, Status::Pass, "{}", v.reason);

    // The period end is the collection time here (2026-10-01T06:00Z): 48 h before is 09-29T06:00Z.
    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("logs"))]),
        Some(target_ok.clone()),
        Some(log_listing("logs", "src/", Some("2026-09-29T05:59:00Z"))),
    );
    assert_eq!(v.status, Status::Fail, "{}", v.reason);
    assert!(v.reason.contains("more than 48 h"), "{}", v.reason);

    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("logs"))]),
        Some(target_ok.clone()),
        Some(log_listing("logs", "src/", None)),
    );
    assert_eq!(v.status, Status::Fail);
    assert!(v.reason.contains("ever been delivered"), "{}", v.reason);

    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("src"))]),
        None,
        fresh.clone(),
    );
    assert_eq!(v.status, Status::Fail);
    assert!(v.reason.contains("into the bucket itself"), "{}", v.reason);

    // The target's policy lets the logging service write only for another source bucket.
    let other_source = bucket_with(
        "logs",
        &[(
            "GetBucketPolicy",
            log_bucket_policy("arn:aws:s3:::someone-else"),
        )],
    );
    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("logs"))]),
        Some(other_source),
        fresh.clone(),
    );
    assert_eq!(v.status, Status::Fail);
    assert!(
        v.reason.contains("neither allows logging.s3.amazonaws.com"),
        "{}",
        v.reason
    );

    // Legacy ACL-based delivery still works where ACLs are enabled.
    let acl_target = bucket_with(
        "logs",
        &[
            ("GetBucketPolicy", not_configured("NoSuchBucketPolicy")),
            (
                "GetBucketOwnershipControls",
                ownership("BucketOwnerPreferred"),
            ),
            (
                "GetBucketAcl",
                acl(&[("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")]),
            ),
        ],
    );
    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("logs"))]),
        Some(acl_target),
        fresh.clone(),
    );
    assert_eq!(v.status, Status::Pass, "{}", v.reason);

    let missing = json!({"target_bucket": "gone", "target_prefix": "src/", "ListObjectsV2": {"error": {"code": "NoSuchBucket", "message": "The specified bucket does not exist"}}});
    let v = run(
        bucket_with("src", &[("GetBucketLogging", logs_to("gone"))]),
        None,
        Some(missing),
    );
    assert_eq!(v.status, Status::Fail);
    assert!(v.reason.contains("does not exist"), "{}", v.reason);

    let unreadable =
        json!({"target_bucket": "x", "target_prefix": "src/", "ListObjectsV2": denied()});
    assert_eq!(
        run(
            bucket_with("src", &[("GetBucketLogging", logs_to("x"))]),
            None,
            Some(unreadable)
        )
        .status,
        Status::Error
    );
    assert_eq!(
        run(
            bucket_with("src", &[("GetBucketLogging", logs_to("x"))]),
            None,
            None
        )
        .status,
        Status::Error
    );
    assert_eq!(
        run(
            bucket_with("src", &[("GetBucketLogging", ok(json!({})))]),
            None,
            None
        )
        .status,
        Status::NotApplicable
    );
    assert_eq!(
        run(
            bucket_with("src", &[("GetBucketLogging", denied())]),
            None,
            None
        )
        .status,
        Status::Error
    );
}

#[test]
fn the_change_timeline_flags_root_and_unidentified_callers_and_redacts_keys() {
    let event = |id: &str, name: &str, time: &str, identity: Value| {
        json!({"EventId": id, "EventName": name, "EventTime": time, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
               "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "phi"}],
               "CloudTrailEvent": json!({"userIdentity": identity, "sourceIPAddress": "192.0.2.1",
                                         "requestParameters": {"bucketName": "phi"}}).to_string()})
    };
    let events = json!([
        event(
            "1",
            "PutBucketPolicy",
            "2026-10-01T01:00:00Z",
            json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root"})
        ),
        event("2", "PutBucketAcl", "2026-09-30T01:00:00Z", json!({})),
        event(
            "3",
            "GetObject",
            "2026-09-30T02:00:00Z",
            json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"})
        ),
        event(
            "4",
            "DeleteBucketEncryption",
            "2026-09-30T03:00:00Z",
            json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"})
        ),
    ]);
    let mut region = good_trail_region();
    region["LookupEvents"] = ok(json!({ "Events": events }));
    let mut other = region.clone();
    other["DescribeTrails"] = ok(json!({"trailList": []}));
    other["trails"] = json!({});
    let (_t, s) = snapshot(
        &[bucket_with("phi", &[])],
        &[("us-east-1", region), ("us-west-2", other)],
    );
    let timeline = phi_audit::evaluate::changes::timeline(&s);
    // Event 3 is not a configuration change; the same events seen in two regions count once.
    let events: Vec<&str> = timeline.changes.iter().map(|c| c.event.as_str()).collect();
    assert_eq!(
        events,
        vec!["PutBucketAcl", "DeleteBucketEncryption", "PutBucketPolicy"]
    );
    assert_eq!(timeline.changes[0].flags, vec!["unidentified"]);
    assert_eq!(timeline.changes[2].flags, vec!["root"]);
    assert!(timeline.changes[1].flags.is_empty());
    for change in &timeline.changes {
        assert_eq!(change.access_key.as_deref(), Some("…MPLE"));
        assert_eq!(change.source_ip.as_deref(), Some("192.0.2.1"));
    }
    let json = serde_json::to_string(&timeline).unwrap();
    assert!(
        !json.contains("AKIAIOSFODNN7EXAMPLE"),
        "no full access key id in the findings"
    );

    let mut broken = good_trail_region();
    broken["LookupEvents"] =
        json!({"error": {"code": "InternalFailure", "message": "not implemented"}});
    let (_t, s) = snapshot(&[bucket_with("phi", &[])], &[("us-east-1", broken)]);
    let timeline = phi_audit::evaluate::changes::timeline(&s);
    assert!(timeline.changes.is_empty());
    assert_eq!(timeline.not_collected.len(), 1);
    assert!(timeline.not_collected[0].contains("InternalFailure"));
}
