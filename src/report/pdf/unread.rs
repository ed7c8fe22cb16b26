//! Evidence that could not be read, said once: when the same subjects are `error` for the same
//! unreadable API answers under several controls (a denied GetBucketAcl leaves nine access
//! controls unassessed), the PDF lists that once, with every control it leaves unassessed, and
//! each control's table gives a one-line row pointing to it instead of repeating the evidence.

use crate::findings::Text;
use std::collections::BTreeMap;

use super::*;

/// The anchor of the "Evidence that could not be read" list.
pub(super) const ANCHOR: &str = "unreadable-evidence";

/// An error repeated under this many controls or more is listed once.
const REPEATED: usize = 3;

/// The subjects of a row: the first [`PDF_GROUP_LIMIT`], and how many more.
fn named(subjects: &[Text]) -> String {
    match subjects.len().checked_sub(PDF_GROUP_LIMIT) {
        Some(more) if more > 0 => format!(
            "{} and {} more (report.html and findings.csv list each)",
            subjects[..PDF_GROUP_LIMIT].join(", "),
            thousands(more)
        ),
        _ => subjects.join(", "),
    }
}

/// One repeated cause: the subjects, the unreadable answers, why, and the controls.
struct Entry {
    subjects: Vec<Text>,
    evidence: String,
    causes: Vec<String>,
    controls: Vec<String>,
}

/// The repeated error groups of the report, keyed by (subjects, evidence).
#[derive(Default)]
pub(super) struct Unread {
    entries: BTreeMap<(String, String), Entry>,
}

/// "GetBucketAcl failed with AccessDenied (Access Denied)" and "X was not collected" phrases.
fn causes_in(reason: &str) -> Vec<String> {
    static CAUSE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = CAUSE.get_or_init(|| {
        regex::Regex::new(
            r"[A-Z][A-Za-z]+ (?:failed with [A-Za-z.]+(?: \([^)]*\))?|was not collected)",
        )
        .expect("a valid pattern")
    });
    re.find_iter(reason)
        .map(|m| m.as_str().to_string())
        .collect()
}

impl Unread {
    pub(super) fn of(safeguards: &[SafeguardSection]) -> Unread {
        let mut all: BTreeMap<(String, String), Entry> = BTreeMap::new();
        for detail in safeguards.iter().flat_map(|s| &s.details) {
            for g in detail.groups.iter().filter(|g| g.status == "error") {
                let entry = all
                    .entry((g.subjects(g.len()), g.evidence.clone()))
                    .or_insert_with(|| Entry {
                        subjects: g.members.iter().map(|m| m.subject.clone()).collect(),
                        evidence: g.evidence.clone(),
                        causes: Vec::new(),
                        controls: Vec::new(),
                    });
                for cause in causes_in(&g.reason) {
                    if !entry.causes.contains(&cause) {
                        entry.causes.push(cause);
                    }
                }
                if !entry.controls.contains(&detail.id) {
                    entry.controls.push(detail.id.clone());
                }
            }
        }
        all.retain(|_, e| e.controls.len() >= REPEATED && !e.causes.is_empty());
        Unread { entries: all }
    }

    /// The one-line row for `g` when its error is listed once, else `None`.
    pub(super) fn row(&self, g: &FindingGroup) -> Option<Vec<Cell>> {
        if g.status != "error" {
            return None;
        }
        let e = self
            .entries
            .get(&(g.subjects(g.len()), g.evidence.clone()))?;
        Some(vec![
            styled("ERROR", status_style("error")),
            cell(named(&e.subjects)),
            cell(format!("Not assessed: {}.", e.causes.join("; "))),
            linked(
                format!(
                    "see \"Evidence that could not be read\" (the same answers leave {} controls unassessed)",
                    e.controls.len()
                ),
                ANCHOR,
            ),
        ])
    }

    /// The list, under the executive summary (nothing when no error repeats).
    pub(super) fn section(&self, flow: &mut Flow) {
        if self.entries.is_empty() {
            return;
        }
        flow.heading("Evidence that could not be read", 2);
        let page = flow.page_index();
        flow.anchors.insert(ANCHOR.to_string(), page);
        flow.paragraph(
            "These API answers could not be read, so every control that rests on them is error (not assessed, never counted as a pass) for these subjects. They are listed here once; each control's findings point here.",
            BODY,
        );
        let cols = columns(&[
            ("Subjects", 20.0, CELL_MONO, false),
            ("Why", 34.0, CELL, false),
            ("Evidence", 26.0, CELL_MONO, false),
            ("Controls not assessed", 20.0, CELL_MONO, false),
        ]);
        let rows: Vec<Vec<Cell>> = self
            .entries
            .values()
            .map(|e| {
                vec![
                    cell(named(&e.subjects)),
                    cell(e.causes.join("; ")),
                    cell(e.evidence.clone()),
                    cell(e.controls.join(", ")),
                ]
            })
            .collect();
        flow.table(&cols, &rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_the_failed_calls() {
        assert_eq!(
            causes_in("Not assessed: whether anyone can list is unknown because GetBucketAcl failed with AccessDenied (Access Denied); GetBucketPolicy failed with AccessDenied (Access Denied)."),
            [
                "GetBucketAcl failed with AccessDenied (Access Denied)",
                "GetBucketPolicy failed with AccessDenied (Access Denied)"
            ]
        );
        assert_eq!(
            causes_in(
                "Not assessed: GetBucketEncryption was not collected, so the key is unknown."
            ),
            ["GetBucketEncryption was not collected"]
        );
    }
}
