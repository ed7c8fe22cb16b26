//! The risk-first summary: what an auditor must know before any count, in the order they ask —
//! ePHI exposed to the internet or to other accounts, ePHI unencrypted, untracked or
//! unversioned (each a catalog `risk`), subjects that could not be assessed, administrative
//! lapses, and security changes made by the root user or by principals CloudTrail could not
//! identify. Every item names its subjects and links to where the report details them; an item
//! with nothing to report says so, so an empty list is never mistaken for an unexamined one.
//!
//! The summary is read in minutes at any size: an item names at most [`NAMED`] subjects, the
//! most severe first, and says how many more there are and where every one of them is listed.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::model::{anchor, thousands};
use crate::attest::ExceptionState;
use crate::audit::{Audit, Scope};
use crate::controls::{Catalog, Risk};
use crate::findings::{FindingRef, Severity, Status};
use crate::snapshot::EphiBasis;

/// The most subjects an item names; the rest are counted, with where to find them.
pub const NAMED: usize = 20;

/// Anchors of the appendices the items link to (the report's own section ids).
pub const EXCEPTIONS_ANCHOR: &str = "appendix-exceptions";
pub const CHANGES_ANCHOR: &str = "appendix-changes";

#[derive(Debug, Clone, Serialize)]
pub struct RiskView {
    /// Which buckets count as ePHI, and why.
    pub ephi_note: String,
    pub items: Vec<RiskItem>,
}

/// One question of the summary and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct RiskItem {
    pub title: String,
    /// "None found." or how many subjects, in one sentence.
    pub verdict: String,
    /// Nothing to report.
    pub clear: bool,
    /// At most [`NAMED`], the most severe first.
    pub entries: Vec<RiskEntry>,
    /// When more than [`NAMED`]: how many more, and where every one is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<String>,
}

/// One subject of an item: what is wrong with it, and where the report details it.
#[derive(Debug, Clone, Serialize)]
pub struct RiskEntry {
    pub subject: String,
    pub detail: String,
    pub anchor: String,
}

impl RiskView {
    pub fn build(audit: &Audit) -> RiskView {
        let ephi = EphiBuckets::of(&audit.scope);
        let mut items: Vec<RiskItem> = Risk::ALL
            .into_iter()
            .map(|risk| risk_item(risk, audit, &ephi))
            .collect();
        items.push(not_assessed(audit));
        items.push(administrative_lapses(audit));
        items.push(unattributed_changes(audit));
        RiskView {
            ephi_note: ephi.note,
            items,
        }
    }
}

/// The ePHI buckets, by (account, `s3://name`).
struct EphiBuckets {
    subjects: BTreeSet<(String, String)>,
    note: String,
}

impl EphiBuckets {
    fn of(scope: &Scope) -> EphiBuckets {
        let mut subjects = BTreeSet::new();
        let (mut tagged, mut untagged, mut unreadable, mut in_scope) = (0, 0, 0, 0);
        for account in &scope.accounts {
            for bucket in account.buckets.iter().filter(|b| b.in_scope) {
                in_scope += 1;
                let Some(designation) = bucket.ephi.as_ref().filter(|d| d.ephi) else {
                    continue;
                };
                match designation.basis {
                    EphiBasis::Tag { .. } => tagged += 1,
                    EphiBasis::TagsUnreadable => unreadable += 1,
                    EphiBasis::NoBucketDesignated | EphiBasis::NotDesignated => untagged += 1,
                }
                subjects.insert((account.id.clone(), format!("s3://{}", bucket.name)));
            }
        }
        let mut note = if untagged > 0 && tagged == 0 {
            format!(
                "No in-scope bucket carries an ePHI designation tag, so all {} in-scope buckets count as holding ePHI.",
                thousands(untagged)
            )
        } else {
            format!(
                "{} of {} in-scope buckets hold ePHI by their tags.",
                thousands(tagged),
                thousands(in_scope)
            )
        };
        match unreadable {
            0 => {}
            1 => note.push_str(" 1 more counts as ePHI because its tags could not be read."),
            n => note.push_str(&format!(
                " {} more count as ePHI because their tags could not be read.",
                thousands(n)
            )),
        }
        note.push_str(" The items below concern those buckets; the inventory shows each bucket's designation.");
        EphiBuckets { subjects, note }
    }

    fn holds(&self, finding: FindingRef<'_>) -> bool {
        self.subjects
            .contains(&(finding.account().to_string(), finding.subject().to_string()))
    }
}

/// Where a finding's control is detailed: its own anchor, per account in an organisation.
fn control_anchor(scope: &Scope, finding: FindingRef<'_>) -> String {
    let own = anchor("control", finding.control());
    match scope.organisation {
        Some(_) => format!("account-{}-{own}", finding.account()),
        None => own,
    }
}

/// How a subject is named: prefixed with its account in an organisation.
fn subject_name(scope: &Scope, finding: FindingRef<'_>) -> String {
    match scope.organisation {
        Some(_) => format!("{} {}", finding.account(), finding.subject()),
        None => finding.subject().to_string(),
    }
}

fn title_of<'a>(catalog: &'a Catalog, control: &'a str) -> &'a str {
    catalog.get(control).map_or(control, |c| c.title.as_str())
}

/// The failing findings of `risk`'s controls on ePHI buckets, one entry per bucket.
fn risk_item(risk: Risk, audit: &Audit, ephi: &EphiBuckets) -> RiskItem {
    let mut per_subject: BTreeMap<String, (Vec<&str>, String, Severity)> = BTreeMap::new();
    for finding in &audit.findings.findings {
        let risky = audit
            .catalog
            .get(finding.control())
            .is_some_and(|c| c.risk == Some(risk));
        if !risky || finding.status() != Status::Fail || !ephi.holds(finding) {
            continue;
        }
        let entry = per_subject
            .entry(subject_name(&audit.scope, finding))
            .or_insert_with(|| {
                let anchor = control_anchor(&audit.scope, finding);
                (Vec::new(), anchor, finding.severity())
            });
        entry.0.push(title_of(&audit.catalog, finding.control()));
        entry.2 = entry.2.min(finding.severity());
    }
    let mut ranked: Vec<(Severity, RiskEntry)> = per_subject
        .into_iter()
        .map(|(subject, (titles, anchor, worst))| {
            let detail = titles.join("; ");
            (
                worst,
                RiskEntry {
                    subject,
                    detail,
                    anchor,
                },
            )
        })
        .collect();
    // Most severe first; by name within a severity (the map's order, kept by a stable sort).
    ranked.sort_by_key(|(worst, _)| *worst);
    let entries = ranked.into_iter().map(|(_, entry)| entry).collect();
    let whereabouts = "each is listed under its control in the safeguard sections, and in \
                       findings.csv (ephi = true, status = fail)";
    item(risk.title(), "ePHI bucket", entries, whereabouts)
}

/// An item from all its entries: the verdict counts them all, the list names the first
/// [`NAMED`], and `whereabouts` says where the rest are.
fn item(title: &str, what: &str, mut entries: Vec<RiskEntry>, whereabouts: &str) -> RiskItem {
    let plural = |n: usize| match n {
        1 => format!("1 {what}"),
        n => format!("{} {what}s", thousands(n)),
    };
    let verdict = match entries.len() {
        0 => "None found.".to_string(),
        n => format!("{}.", plural(n)),
    };
    let more = entries
        .len()
        .checked_sub(NAMED)
        .filter(|n| *n > 0)
        .map(|n| {
            let (count, verb) = match n {
                1 => (format!("1 more {what}"), "is"),
                n => (format!("{} more {what}s", thousands(n)), "are"),
            };
            format!("{count} {verb} not named here: {whereabouts}.")
        });
    entries.truncate(NAMED);
    RiskItem {
        title: title.to_string(),
        clear: entries.is_empty(),
        verdict,
        entries,
        more,
    }
}

/// Subjects with findings that could not be assessed: nothing is known of those controls.
fn not_assessed(audit: &Audit) -> RiskItem {
    let mut per_subject: BTreeMap<String, (Vec<FindingRef<'_>>, String)> = BTreeMap::new();
    for finding in audit
        .findings
        .findings
        .iter()
        .filter(|f| f.status() == Status::Error)
    {
        let entry = per_subject
            .entry(subject_name(&audit.scope, finding))
            .or_insert_with(|| (Vec::new(), control_anchor(&audit.scope, finding)));
        entry.0.push(finding);
    }
    let entries = per_subject
        .into_iter()
        .map(|(subject, (findings, anchor))| RiskEntry {
            // Every listed subject has at least one finding.
            detail: match findings.len() {
                1 => findings[0].reason().to_string(),
                n => format!("{n} controls not assessed, e.g. {}", findings[0].reason()),
            },
            subject,
            anchor,
        })
        .collect();
    let whereabouts = "each is listed under 'Evidence that could not be read' after the coverage \
                       table, and in findings.csv (status = error)";
    item(
        "Subjects that could not be assessed",
        "subject",
        entries,
        whereabouts,
    )
}

/// Missing, overdue or changed attestations; expired exceptions and exceptions that matched
/// nothing.
fn administrative_lapses(audit: &Audit) -> RiskItem {
    let mut entries: Vec<RiskEntry> = audit
        .findings
        .findings
        .iter()
        .filter(|f| f.control().starts_with("admin.") && f.status() == Status::Fail)
        .map(|f| RiskEntry {
            subject: f.subject().to_string(),
            detail: title_of(&audit.catalog, f.control()).to_string(),
            anchor: anchor("policy", f.subject().trim_start_matches("policy:")),
        })
        .collect();
    for used in &audit.exceptions {
        let e = &used.exception;
        let detail = if used.matched.is_empty() {
            format!("exception for {} matched nothing", e.control)
        } else if used.state == ExceptionState::Expired {
            format!("exception for {} expired on {}", e.control, e.expires)
        } else {
            continue;
        };
        entries.push(RiskEntry {
            subject: e.subject.clone(),
            detail,
            anchor: EXCEPTIONS_ANCHOR.to_string(),
        });
    }
    let whereabouts = "each is on its policy's page and in Appendix B";
    item("Administrative lapses", "lapse", entries, whereabouts)
}

/// Bucket security changes in the period made by the root user or by an unidentified caller.
fn unattributed_changes(audit: &Audit) -> RiskItem {
    let entries = audit
        .findings
        .changes
        .changes
        .iter()
        .filter(|c| !c.flags.is_empty())
        .map(|c| RiskEntry {
            subject: match (&audit.scope.organisation, &c.account) {
                (Some(_), Some(account)) => format!("{account} s3://{}", c.bucket),
                _ => format!("s3://{}", c.bucket),
            },
            detail: format!("{} at {} ({})", c.event, c.time, c.flags.join(", ")),
            anchor: CHANGES_ANCHOR.to_string(),
        })
        .collect();
    item(
        "Security changes by the root user or unidentified principals",
        "change",
        entries,
        "each is in Appendix C",
    )
}
