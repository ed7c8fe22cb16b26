//! The chain of custody a snapshot records (docs/snapshot-format.md, "Collector"): who collected
//! it (`collector.GetCallerIdentity`), with which options (`collector.options`), and the scope
//! exclusions with their justification and approver (`scope.exclude`).
//!
//! Read strictly ([`super::strict`]): these are phi-audit's own records, so every member of
//! `collector` is required (a misspelt one is reported as missing, a case variant as such) and
//! an unknown one is a warning. A snapshot written before the collector was recorded has none:
//! that is not an error, and the report says "collector not recorded".

use serde_json::Value;
use std::path::Path;

use super::strict::{self, Kind, Member, Shape, SnapshotWarning};
use super::{invalid, SnapshotError};
use crate::schema::{Collector, ScopeExclusion, CALLER_IDENTITY_MEMBER};

const CALLER: Shape = Shape {
    name: "GetCallerIdentity",
    members: &[
        Member::required("UserId", Kind::String),
        Member::required("Account", Kind::String),
        Member::required("Arn", Kind::String),
    ],
};

const SCOPE_FILE: Shape = Shape {
    name: concat!("phi-audit ", "scope_file"),
    members: &[
        Member::required("path", Kind::String),
        Member::required("sha256", Kind::String),
    ],
};

const OPTIONS: Shape = Shape {
    name: concat!("phi-audit ", "collector options"),
    members: &[
        Member::required("regions", Kind::Strings),
        Member::required("scope_file", Kind::Nullable(&Kind::Object(&SCOPE_FILE))),
        Member::required("since", Kind::Nullable(&Kind::Time)),
        Member::required("until", Kind::Nullable(&Kind::Time)),
        Member::required("concurrency", Kind::Integer),
        Member::required("endpoint_url", Kind::NullableString),
        Member::required("profile", Kind::NullableString),
        Member::required("organization_mode", Kind::Bool),
    ],
};

/// The shape of `collector` (its member names are [`Collector`]'s serde names; a unit test
/// checks that the two agree).
pub const COLLECTOR: Shape = Shape {
    name: concat!("phi-audit ", "collector"),
    members: &[
        Member::required(CALLER_IDENTITY_MEMBER, Kind::Object(&CALLER)),
        Member::required("options", Kind::Object(&OPTIONS)),
    ],
};

const EXCLUSION: Shape = Shape {
    name: concat!("phi-audit ", "scope exclusion"),
    members: &[
        Member::required("pattern", Kind::String),
        Member::optional("justification", Kind::String),
        Member::optional("approver", Kind::String),
    ],
};

/// `collector` of a snapshot.json or an organisation header: `None` when absent (older
/// snapshots).
pub fn collector(
    path: &Path,
    header: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Option<Collector>, SnapshotError> {
    let Some(value) = header.get("collector") else {
        return Ok(None);
    };
    strict::check(path, "/collector", value, &COLLECTOR, warnings)?;
    serde::Deserialize::deserialize(value)
        .map(Some)
        .map_err(|err: serde_json::Error| invalid(path, "/collector", err.to_string()))
}

/// `scope.exclude`: each entry a bare glob (older snapshots) or
/// `{"pattern", "justification", "approver"}`.
pub fn exclusions(
    path: &Path,
    header: &Value,
    warnings: &mut Vec<SnapshotWarning>,
) -> Result<Vec<ScopeExclusion>, SnapshotError> {
    let Some(entries) = header.get("scope").and_then(|scope| scope.get("exclude")) else {
        return Ok(Vec::new());
    };
    let items = entries
        .as_array()
        .ok_or_else(|| invalid(path, "/scope/exclude", "must be a list"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let pointer = format!("/scope/exclude/{i}");
        out.push(match item {
            Value::String(pattern) => ScopeExclusion {
                pattern: pattern.clone(),
                justification: None,
                approver: None,
            },
            _ => {
                strict::check(path, &pointer, item, &EXCLUSION, warnings)?;
                serde_json::from_value(item.clone())
                    .map_err(|e| invalid(path, &pointer, e.to_string()))?
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{CallerIdentity, CollectionOptions, ScopeFileRef};
    use serde_json::json;

    fn sample() -> Collector {
        Collector {
            caller: CallerIdentity {
                user_id: "AIDAEXAMPLE".into(),
                account: "111122223333".into(),
                arn: "arn:aws:iam::111122223333:user/auditor".into(),
            },
            options: CollectionOptions {
                regions: vec!["us-east-1".into()],
                scope_file: Some(ScopeFileRef {
                    path: "scope.yaml".into(),
                    sha256: "ab".into(),
                }),
                since: Some("2026-07-01T00:00:00Z".into()),
                until: None,
                concurrency: 16,
                endpoint_url: None,
                profile: None,
                organization_mode: false,
            },
        }
    }

    fn read(value: Value) -> Result<(Option<Collector>, Vec<SnapshotWarning>), String> {
        let mut warnings = Vec::new();
        collector(Path::new("snapshot.json"), &value, &mut warnings)
            .map(|c| (c, warnings))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn what_collect_writes_reads_back_without_warnings() {
        let written = serde_json::to_value(sample()).unwrap();
        let (read_back, warnings) = read(json!({ "collector": written })).unwrap();
        assert_eq!(read_back, Some(sample()));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(read(json!({})).unwrap().0, None);
    }

    #[test]
    fn a_misspelt_member_is_bad_input() {
        let mut written = serde_json::to_value(sample()).unwrap();
        let caller = written["GetCallerIdentity"].as_object_mut().unwrap();
        let arn = caller.remove("Arn").unwrap();
        caller.insert("arn".into(), arn);
        assert_eq!(
            read(json!({ "collector": written.clone() })).unwrap_err(),
            "snapshot.json: /collector/GetCallerIdentity/arn: differs from the known member `Arn` only by case"
        );
        let options = written["options"].as_object_mut().unwrap();
        let value = options.remove("concurrency").unwrap();
        options.insert("concurency".into(), value);
        written["GetCallerIdentity"] = serde_json::to_value(sample().caller).unwrap();
        assert_eq!(
            read(json!({ "collector": written })).unwrap_err(),
            "snapshot.json: /collector/options/concurrency: is missing; phi-audit always writes it in collector options"
        );
    }

    #[test]
    fn exclusions_read_bare_globs_and_documented_entries() {
        let header = json!({"scope": {"exclude": ["tmp-*", {"pattern": "sandbox-*",
            "justification": "no PHI by policy", "approver": "CISO"}]}});
        let mut warnings = Vec::new();
        let read = exclusions(Path::new("s.json"), &header, &mut warnings).unwrap();
        assert_eq!(read[0].missing(), ["justification", "approver"]);
        assert!(read[1].missing().is_empty());
        assert_eq!(read[1].approver.as_deref(), Some("CISO"));
        let bad = json!({"scope": {"exclude": [{"Pattern": "x"}]}});
        let err = exclusions(Path::new("s.json"), &bad, &mut warnings).unwrap_err();
        assert_eq!(
            err.to_string(),
            "s.json: /scope/exclude/0/Pattern: differs from the known member `pattern` only by case"
        );
    }
}
