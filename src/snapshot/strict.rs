//! Strict reading of recorded AWS answers: one generic pass over an answer's JSON against the
//! [`Shape`] declared next to each serde type (in [`super::aws`] and [`super::cloudtrail`]),
//! run before the answer is deserialised.
//!
//! The rules, per object of a known shape:
//! * a member whose name differs from a known member only by case (`grants` for `Grants`) is
//!   bad input: serde would skip it and read the answer as if the member were absent;
//! * a required member (one AWS always sends and phi-audit reads) that is missing is bad input;
//! * a known member of the wrong JSON type (or a time that does not parse, or a value outside a
//!   closed set such as an ACL permission) is bad input;
//! * any other member is unknown (AWS adds members over time): a [`SnapshotWarning`], nothing
//!   more. `null` stands for an absent optional member.
//!
//! Bad input is a [`SnapshotError`] naming the file and the JSON pointer of the member.

use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

use super::SnapshotError;
use crate::schema::Timestamp;

/// The prefix of a [`Shape::name`] that is phi-audit's own record (the collector), not an AWS
/// answer: a missing member is then one phi-audit always writes.
pub const OWN_RECORD: &str = "phi-audit ";

/// The members one JSON object of an AWS answer may hold.
#[derive(Debug)]
pub struct Shape {
    /// The structure's name in the AWS API reference, for messages.
    pub name: &'static str,
    pub members: &'static [Member],
}

#[derive(Debug)]
pub struct Member {
    pub name: &'static str,
    pub required: bool,
    pub kind: Kind,
}

impl Member {
    /// A member AWS always sends and phi-audit reads.
    pub const fn required(name: &'static str, kind: Kind) -> Member {
        Member {
            name,
            required: true,
            kind,
        }
    }

    pub const fn optional(name: &'static str, kind: Kind) -> Member {
        Member {
            name,
            required: false,
            kind,
        }
    }
}

/// What a member's value must be.
#[derive(Debug)]
pub enum Kind {
    String,
    /// A string, or `null` (GetBucketLocation's `LocationConstraint` for us-east-1).
    NullableString,
    Bool,
    Integer,
    /// One of a closed set of strings.
    OneOf(&'static [&'static str]),
    /// RFC 3339 text (S3 answers: the AWS CLI prints ISO 8601 with an offset).
    Time,
    /// RFC 3339 text or seconds since the epoch (CloudTrail answers: AWS CLI v1 prints numbers).
    TimeOrEpoch,
    Strings,
    Object(&'static Shape),
    ListOf(&'static Shape),
    /// Not modelled: any value, not looked into.
    Any,
    /// `null`, or a value of the inner kind (phi-audit's own records: a required member that
    /// may be `null` must still be present, so a misspelt one is caught).
    Nullable(&'static Kind),
}

/// A member of a recorded answer that phi-audit does not know: read past, reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotWarning {
    pub path: PathBuf,
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for SnapshotWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.path.display(),
            self.pointer,
            self.message
        )
    }
}

/// Escapes a member name for a JSON pointer (RFC 6901).
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Checks `value` (found at `pointer` in `path`) against `shape`.
pub fn check(
    path: &Path,
    pointer: &str,
    value: &Value,
    shape: &Shape,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<(), SnapshotError> {
    Checker { path, warnings }.object(&At::Base(pointer), value, shape)
}

/// Where a value is: the pointer the check started from, then members and list elements. Made
/// into a JSON pointer only when a message needs one: most answers have no problem to report.
#[derive(Clone, Copy)]
enum At<'a> {
    Base(&'a str),
    Member(&'a At<'a>, &'a str),
    Element(&'a At<'a>, usize),
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Base(pointer) => f.write_str(pointer),
            At::Member(parent, name) => write!(f, "{parent}/{}", escape(name)),
            At::Element(parent, index) => write!(f, "{parent}/{index}"),
        }
    }
}

struct Checker<'a> {
    path: &'a Path,
    warnings: &'a mut Vec<SnapshotWarning>,
}

impl Checker<'_> {
    fn invalid(&self, at: &At, message: String) -> SnapshotError {
        SnapshotError::Invalid {
            path: self.path.to_path_buf(),
            pointer: at.to_string(),
            message,
        }
    }

    fn object(&mut self, pointer: &At, value: &Value, shape: &Shape) -> Result<(), SnapshotError> {
        let Value::Object(map) = value else {
            return Err(self.invalid(pointer, format!("must be an object ({})", shape.name)));
        };
        // Sorted, so the first problem reported does not depend on the map's order.
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        for name in names {
            let at = At::Member(pointer, name);
            if let Some(member) = shape.members.iter().find(|m| m.name == name) {
                self.member(&at, &map[name], member)?;
            } else if let Some(member) = shape
                .members
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(name))
            {
                return Err(self.invalid(
                    &at,
                    format!(
                        "differs from the known member `{}` only by case",
                        member.name
                    ),
                ));
            } else {
                self.warnings.push(SnapshotWarning {
                    path: self.path.to_path_buf(),
                    pointer: at.to_string(),
                    message: format!(
                        "`{name}` is not a member of {} that phi-audit knows; it was ignored",
                        shape.name.strip_prefix(OWN_RECORD).unwrap_or(shape.name)
                    ),
                });
            }
        }
        for member in shape.members.iter().filter(|m| m.required) {
            let present = map.get(member.name).is_some_and(|v| {
                !v.is_null() || matches!(member.kind, Kind::NullableString | Kind::Nullable(_))
            });
            if !present {
                return Err(self.invalid(
                    &At::Member(pointer, member.name),
                    match shape.name.strip_prefix(OWN_RECORD) {
                        Some(name) => format!("is missing; phi-audit always writes it in {name}"),
                        None => format!("is missing; AWS always sends it in {}", shape.name),
                    },
                ));
            }
        }
        Ok(())
    }

    fn member(
        &mut self,
        pointer: &At,
        value: &Value,
        member: &Member,
    ) -> Result<(), SnapshotError> {
        if value.is_null() && !member.required {
            return Ok(());
        }
        self.value(pointer, value, &member.kind)
    }

    fn value(&mut self, pointer: &At, value: &Value, kind: &Kind) -> Result<(), SnapshotError> {
        let wrong = |what: &str| self.invalid(pointer, format!("must be {what}"));
        match kind {
            Kind::Any => Ok(()),
            Kind::Nullable(_) if value.is_null() => Ok(()),
            Kind::Nullable(inner) => self.value(pointer, value, inner),
            Kind::String if value.is_string() => Ok(()),
            Kind::String => Err(wrong("a string")),
            Kind::NullableString if value.is_string() || value.is_null() => Ok(()),
            Kind::NullableString => Err(wrong("a string or null")),
            Kind::Bool if value.is_boolean() => Ok(()),
            Kind::Bool => Err(wrong("true or false")),
            Kind::Integer if value.is_i64() || value.is_u64() => Ok(()),
            Kind::Integer => Err(wrong("an integer")),
            Kind::OneOf(allowed) => match value.as_str() {
                Some(text) if allowed.contains(&text) => Ok(()),
                _ => Err(self.invalid(
                    pointer,
                    format!("is {value}; it must be one of {}", allowed.join(", ")),
                )),
            },
            Kind::Time => match value.as_str() {
                Some(text) => Timestamp::parse(text)
                    .map(|_| ())
                    .map_err(|message| self.invalid(pointer, message)),
                None => Err(wrong("an RFC 3339 time")),
            },
            Kind::TimeOrEpoch => match value {
                Value::String(text) => Timestamp::parse(text)
                    .map(|_| ())
                    .map_err(|message| self.invalid(pointer, message)),
                Value::Number(seconds) => seconds
                    .as_f64()
                    .ok_or_else(|| format!("{seconds} is not a number of seconds"))
                    .and_then(Timestamp::from_epoch_seconds)
                    .map(|_| ())
                    .map_err(|message| self.invalid(pointer, message)),
                _ => Err(wrong("an RFC 3339 time or seconds since the epoch")),
            },
            Kind::Strings => match value {
                Value::Array(items) => match items.iter().position(|item| !item.is_string()) {
                    None => Ok(()),
                    Some(i) => {
                        Err(self.invalid(&At::Element(pointer, i), "must be a string".into()))
                    }
                },
                _ => Err(wrong("a list of strings")),
            },
            Kind::Object(shape) => self.object(pointer, value, shape),
            Kind::ListOf(shape) => match value {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, item)| self.object(&At::Element(pointer, i), item, shape)),
                _ => Err(wrong(&format!("a list of {}", shape.name))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const INNER: Shape = Shape {
        name: "Inner",
        members: &[
            Member::required("Type", Kind::OneOf(&["A", "B"])),
            Member::optional("When", Kind::TimeOrEpoch),
        ],
    };
    const OUTER: Shape = Shape {
        name: "Outer",
        members: &[
            Member::required("Items", Kind::ListOf(&INNER)),
            Member::optional("Name", Kind::String),
            Member::required("Where", Kind::NullableString),
        ],
    };

    fn run(value: Value) -> Result<Vec<SnapshotWarning>, String> {
        let mut warnings = Vec::new();
        check(Path::new("f.json"), "/ok", &value, &OUTER, &mut warnings)
            .map(|()| warnings)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn case_variants_missing_members_and_wrong_types_are_errors() {
        assert_eq!(
            run(json!({"Items": [{"type": "A"}], "Where": null})).unwrap_err(),
            "f.json: /ok/Items/0/type: differs from the known member `Type` only by case"
        );
        assert_eq!(
            run(json!({"Items": [{"When": 1}], "Where": null})).unwrap_err(),
            "f.json: /ok/Items/0/Type: is missing; AWS always sends it in Inner"
        );
        assert_eq!(
            run(json!({"Items": []})).unwrap_err(),
            "f.json: /ok/Where: is missing; AWS always sends it in Outer"
        );
        assert_eq!(
            run(json!({"Items": [{"Type": "C"}], "Where": "x"})).unwrap_err(),
            "f.json: /ok/Items/0/Type: is \"C\"; it must be one of A, B"
        );
        assert!(
            run(json!({"Items": [{"Type": "A", "When": "yesterday"}], "Where": "x"}))
                .unwrap_err()
                .contains("/ok/Items/0/When: \"yesterday\" is not an RFC 3339 time")
        );
        assert_eq!(
            run(json!({"Items": {}, "Where": "x"})).unwrap_err(),
            "f.json: /ok/Items: must be a list of Inner"
        );
    }

    #[test]
    fn unknown_members_are_warnings_and_null_is_absent() {
        let warnings = run(json!({
            "Items": [{"Type": "B", "When": 1727539491.5, "Extra/1": true}],
            "Where": null, "Name": null
        }))
        .unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].pointer, "/ok/Items/0/Extra~11");
        assert_eq!(
            warnings[0].to_string(),
            "f.json: /ok/Items/0/Extra~11: `Extra/1` is not a member of Inner that phi-audit knows; it was ignored"
        );
    }
}
