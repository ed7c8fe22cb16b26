//! The "Changes since last review" section of report.html and report.pdf (`report --previous`):
//! the [`ChangesSincePrevious`] as plain strings, so both renderers show the same content.
//!
//! A changed API answer is shown compactly, as the JSON pointers that differ with the value
//! before and after (the lines of `diff --format table`, uncut here); the HTML adds both answers
//! in full, the PDF cuts long lines and long lists, and `changes-since-previous.json` in the
//! bundle always has everything.

use serde::Serialize;

use super::diff::{differences, present};
use super::model::Count;
use crate::diff::previous::ChangesSincePrevious;
use crate::diff::{BucketRef, StatusChange};

/// What is counted, in the order shown: the titles of the lists.
pub const CATEGORIES: [&str; 8] = [
    "New failures",
    "Fixed failures",
    "Newly unassessable",
    "Exceptions expired",
    "New buckets",
    "Removed buckets",
    "Changed configurations",
    "Access to ePHI gained or lost",
];

#[derive(Debug, Clone, Serialize)]
pub struct PreviousView {
    /// The previous bundle's file name.
    pub bundle: String,
    pub account_id: String,
    pub generated_at: String,
    pub collected_at: String,
    pub digest: String,
    /// The SHA-256 of the previous bundle's MANIFEST.sha256.
    pub manifest_sha256: String,
    /// Empty unless the previous bundle is of another account.
    pub warning: String,
    /// One per [`CATEGORIES`], in that order.
    pub counts: Vec<Count>,
    pub status_sections: Vec<StatusSection>,
    pub bucket_sections: Vec<BucketSection>,
    pub configurations: Vec<ConfigRow>,
    /// Who was added to or removed from which ePHI bucket, and whose rights changed.
    pub access: Vec<AccessChangeRow>,
    /// What of the access review could not be compared, and why.
    pub access_not_compared: Vec<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessChangeRow {
    /// `added`, `removed` or `changed`.
    pub change: String,
    pub bucket: String,
    pub principal: String,
    pub kind: String,
    /// `read: no -> yes; write: no -> conditional`.
    pub gained: String,
    pub lost: String,
    /// The deciding statements, short: `AdministratorAccess, statement 0`.
    pub via: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusSection {
    pub title: String,
    pub items: Vec<StatusRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusRow {
    pub subject: String,
    pub control: String,
    pub severity: String,
    /// `pass -> fail`, or `new subject -> fail`.
    pub change: String,
    /// The finding's reason in this report.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketSection {
    pub title: String,
    pub items: Vec<BucketRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketRow {
    pub name: String,
    pub region: String,
    pub scope: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigRow {
    pub bucket: String,
    pub operation: String,
    /// One line per JSON pointer that differs: `/ok/Status: absent -> "Enabled"`.
    pub differences: Vec<String>,
    /// Both answers in full, pretty-printed (`null`: not recorded).
    pub before: String,
    pub after: String,
}

fn status_rows(changes: &[StatusChange]) -> Vec<StatusRow> {
    changes
        .iter()
        .map(|c| StatusRow {
            subject: c.subject.clone(),
            control: c.control.clone(),
            severity: c.severity.as_str().to_string(),
            change: match c.before {
                Some(before) => format!("{before} -> {}", c.after),
                None => format!("new subject -> {}", c.after),
            },
            reason: c.reason.clone(),
        })
        .collect()
}

fn bucket_rows(buckets: &[BucketRef]) -> Vec<BucketRow> {
    buckets
        .iter()
        .map(|b| BucketRow {
            name: b.name.clone(),
            region: b
                .region
                .clone()
                .unwrap_or_else(|| "region unknown".to_string()),
            scope: if b.in_scope {
                "in scope"
            } else {
                "out of scope"
            }
            .to_string(),
        })
        .collect()
}

impl PreviousView {
    pub fn build(changes: &ChangesSincePrevious) -> PreviousView {
        let diff = &changes.diff;
        let pretty =
            |v: &serde_json::Value| serde_json::to_string_pretty(v).expect("JSON values serialise");
        let status_lists = [
            &diff.new_failures,
            &diff.fixed_failures,
            &diff.newly_unassessable,
            &diff.expired_exceptions,
        ];
        let status_sections: Vec<StatusSection> = CATEGORIES[..4]
            .iter()
            .zip(status_lists)
            .map(|(title, items)| StatusSection {
                title: title.to_string(),
                items: status_rows(items),
            })
            .collect();
        let bucket_sections: Vec<BucketSection> = CATEGORIES[4..6]
            .iter()
            .zip([&diff.new_buckets, &diff.removed_buckets])
            .map(|(title, items)| BucketSection {
                title: title.to_string(),
                items: bucket_rows(items),
            })
            .collect();
        let configurations: Vec<ConfigRow> = diff
            .changed_configurations
            .iter()
            .map(|c| {
                let mut lines = Vec::new();
                differences("", present(&c.before), present(&c.after), &mut lines);
                ConfigRow {
                    bucket: c.bucket.clone(),
                    operation: c.operation.clone(),
                    differences: lines,
                    before: pretty(&c.before),
                    after: pretty(&c.after),
                }
            })
            .collect();
        let sizes = status_sections
            .iter()
            .map(|s| s.items.len())
            .chain(bucket_sections.iter().map(|s| s.items.len()))
            .chain([configurations.len(), diff.access_changes.changes.len()]);
        let counts: Vec<Count> = CATEGORIES
            .iter()
            .zip(sizes)
            .map(|(label, count)| Count {
                label: label.to_string(),
                count,
            })
            .collect();
        PreviousView {
            bundle: diff.old.bundle.clone(),
            account_id: diff.old.account_id.clone(),
            generated_at: diff.old.generated_at.clone(),
            collected_at: diff.old.collected_at.clone(),
            digest: diff.old.digest.clone(),
            manifest_sha256: changes.previous_manifest_sha256.clone(),
            warning: if diff.same_account {
                String::new()
            } else {
                format!(
                    "The previous bundle is of another account ({}): this comparison is of unrelated buckets.",
                    diff.old.account_id
                )
            },
            counts,
            status_sections,
            bucket_sections,
            configurations,
            access: (diff.access_changes.changes.iter())
                .map(|c| AccessChangeRow {
                    change: c.change.clone(),
                    bucket: c.bucket.clone(),
                    principal: c.principal.clone(),
                    kind: c.kind.clone(),
                    gained: c.gained.join("; "),
                    lost: c.lost.join("; "),
                    via: (c.via.iter())
                        .map(|v| super::access::via_label(v))
                        .collect::<Vec<_>>()
                        .join("; "),
                })
                .collect(),
            access_not_compared: (diff.access_changes.not_compared.iter())
                .map(|(key, why)| format!("Not compared: {key}: {why}."))
                .collect(),
            note: format!(
                "The previous bundle was verified intact (every file against its MANIFEST.sha256) before the comparison. \
                 Findings are compared by subject and control; API answers as parsed JSON, bucket policies as parsed documents. \
                 The full comparison, with every changed answer before and after, is {} in this bundle (phi-audit diff {} {} --format json gives the same).",
                crate::bundle::format::CHANGES,
                diff.old.bundle,
                diff.new.bundle
            ),
        }
    }
}
