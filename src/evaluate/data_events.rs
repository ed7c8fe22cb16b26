//! Which trails record a bucket's object-level reads and writes (S3 data events).
//!
//! A bucket is covered only when trails that are logging, and that reach the bucket's region,
//! select every object for reads and for writes; coverage is the union over trails and
//! selectors. Selector values are string prefixes, so `arn:aws:s3:::logs` also selects
//! `logs-archive`. Partial selection (a prefix, some event names, one object) is not coverage.
//! Sources: CloudTrail User Guide "Logging data events"; API Reference PutEventSelectors,
//! AdvancedFieldSelector.

use crate::snapshot::cloudtrail::{
    AdvancedSelector, ClassicSelector, EventSelectors, FieldSelector,
};

/// Whether a set of selectors records all reads and all writes of a bucket's objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Coverage {
    pub read: bool,
    pub write: bool,
}

impl Coverage {
    pub fn union(self, other: Coverage) -> Coverage {
        Coverage {
            read: self.read || other.read,
            write: self.write || other.write,
        }
    }

    pub fn complete(self) -> bool {
        self.read && self.write
    }

    pub fn describe(self) -> &'static str {
        match (self.read, self.write) {
            (true, true) => "reads and writes",
            (true, false) => "reads only",
            (false, true) => "writes only",
            (false, false) => "nothing",
        }
    }
}

/// The coverage a trail's selectors give the objects of `bucket` (in `partition`).
pub fn coverage(selectors: &EventSelectors, partition: &str, bucket: &str) -> Coverage {
    let objects = format!("arn:{partition}:s3:::{bucket}/");
    let classic = selectors
        .event_selectors
        .iter()
        .map(|s| classic_coverage(s, partition, &objects));
    let advanced = selectors
        .advanced_event_selectors
        .iter()
        .map(|s| advanced_coverage(s, &objects));
    classic
        .chain(advanced)
        .fold(Coverage::default(), Coverage::union)
}

fn classic_coverage(selector: &ClassicSelector, partition: &str, objects: &str) -> Coverage {
    let all_objects = selector
        .data_resources
        .iter()
        .filter(|r| r.kind == "AWS::S3::Object")
        .flat_map(|r| &r.values)
        .any(|value| {
            // `arn:aws:s3` and `arn:aws:s3:::` mean every bucket; otherwise a value selects the
            // objects whose ARN starts with it, so it covers the bucket if it is a prefix of
            // `arn:aws:s3:::bucket/`.
            value.starts_with(&format!("arn:{partition}:s3")) && objects.starts_with(value.as_str())
        });
    if !all_objects {
        return Coverage::default();
    }
    match selector.read_write_type.as_str() {
        "ReadOnly" => Coverage {
            read: true,
            write: false,
        },
        "WriteOnly" => Coverage {
            read: false,
            write: true,
        },
        _ => Coverage {
            read: true,
            write: true,
        },
    }
}

fn advanced_coverage(selector: &AdvancedSelector, objects: &str) -> Coverage {
    let mut data = false;
    let mut s3_objects = false;
    let mut read = true;
    let mut write = true;
    for field in &selector.field_selectors {
        match field.field.as_str() {
            "eventCategory" => {
                data = positive_only(field) && field.equals.iter().any(|v| v == "Data")
            }
            "resources.type" => {
                s3_objects =
                    positive_only(field) && field.equals.iter().any(|v| v == "AWS::S3::Object")
            }
            "resources.ARN" => {
                if !arn_covers_all(field, objects) {
                    return Coverage::default();
                }
            }
            "readOnly" => {
                // Equals ["true"] keeps reads, ["false"] keeps writes; NotEquals the reverse.
                let keeps = |value: &str| {
                    let equals_ok =
                        field.equals.is_empty() || field.equals.iter().any(|v| v == value);
                    let not_ok = !field.not_equals.iter().any(|v| v == value);
                    equals_ok
                        && not_ok
                        && field.starts_with.is_empty()
                        && field.ends_with.is_empty()
                };
                read &= keeps("true");
                write &= keeps("false");
            }
            "eventSource" => {
                let only_s3 = positive_only(field)
                    && field.starts_with.is_empty()
                    && (field.equals.is_empty()
                        || field.equals.iter().any(|v| v == "s3.amazonaws.com"));
                if !only_s3 {
                    return Coverage::default();
                }
            }
            // eventName, userIdentity.arn, errorCode, vpcEndpointId, ...: any other filter
            // selects only some of the bucket's events.
            _ => return Coverage::default(),
        }
    }
    if data && s3_objects {
        Coverage { read, write }
    } else {
        Coverage::default()
    }
}

fn positive_only(field: &FieldSelector) -> bool {
    field.not_equals.is_empty()
        && field.not_starts_with.is_empty()
        && field.not_ends_with.is_empty()
}

/// Does a `resources.ARN` field selector select every object ARN that starts with `objects`?
/// Operators in one field selector are read as AND (the stricter reading).
fn arn_covers_all(field: &FieldSelector, objects: &str) -> bool {
    if !field.equals.is_empty() || !field.ends_with.is_empty() {
        return false; // single objects or suffixes: never every object
    }
    if !field.starts_with.is_empty()
        && !field
            .starts_with
            .iter()
            .any(|v| objects.starts_with(v.as_str()))
    {
        return false;
    }
    let may_exclude = |v: &String| objects.starts_with(v.as_str()) || v.starts_with(objects);
    if field.not_starts_with.iter().any(may_exclude) {
        return false;
    }
    if field.not_equals.iter().any(|v| v.starts_with(objects)) {
        return false;
    }
    field.not_ends_with.is_empty()
}
