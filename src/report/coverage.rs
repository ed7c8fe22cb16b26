//! The coverage table: every standard and implementation specification of 45 CFR 164.312
//! (`controls::SPECIFICATIONS`), marked Required or Addressable, with what covers it — the
//! technical controls mapped to it and their counts, the Dash policies whose attestation
//! addresses it and their state, or "not assessed by this tool" with the evidence to request
//! instead — and a one-line conclusion computed from the findings.
//!
//! Never a false pass: a conclusion says "Met" only when no finding under the specification,
//! technical or administrative, is `fail` or `error` ([`Verdict::of`]).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::model::{
    anchor, control_row, is_admin, thousands, ControlInfo, ControlRow, ORGANISATION_ANCHOR,
};
use crate::audit::Audit;
use crate::controls::specs::{Reach, Specification, SPECIFICATIONS};
use crate::findings::{FindingRef, Status};

/// The anchor of the section.
pub const COVERAGE_ANCHOR: &str = "coverage";

/// The anchor of a specification's row.
pub fn row_anchor(id: &str) -> String {
    anchor("coverage", id)
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageView {
    pub anchor: String,
    pub note: String,
    pub rows: Vec<CoverageRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    pub id: String,
    pub title: String,
    /// `Required`, `Addressable` or `Required (standard)`.
    pub marking: String,
    pub anchor: String,
    /// The technical controls mapped to it, with their counts and why each is mapped.
    pub controls: Vec<ControlRow>,
    /// The policies whose attestation addresses it: `Data Integrity Policy: review overdue`.
    pub attestations: Vec<AttestationCell>,
    /// Nothing this tool collects shows it.
    pub not_assessed: bool,
    /// What an auditor should request instead of (or beyond) this tool's evidence.
    pub request: String,
    /// `Not met`, `Not assessed`, `Met`, `Met with exceptions`, `Attested`, `Not assessed by
    /// this tool`: the conclusion's first words.
    pub verdict: String,
    /// The verdict as a CSS class name: `not-met`, `met-with-exceptions` ...
    pub verdict_class: String,
    /// The one-line conclusion, starting with the verdict.
    pub conclusion: String,
    /// The worst status under it (`fail`, `error`, `excepted`, `pass`), for the report's
    /// filters; empty when no technical finding is under it.
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttestationCell {
    pub policy: String,
    pub anchor: String,
    pub state: String,
    /// The state is a lapse (no attestation, review overdue, document changed or unverified).
    pub lapsed: bool,
}

/// A conclusion's verdict. The order is the precedence: the first that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A technical finding fails, or an attestation of a policy addressing it has lapsed.
    NotMet,
    /// A technical finding is `error` and none fails.
    NotAssessed,
    /// Technical findings pass, some failures are excepted.
    MetWithExceptions,
    Met,
    /// No technical finding; a policy addressing it is attested (current or not).
    Attested,
    /// Neither a technical finding nor an attestation on file.
    NotAssessedByTool,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::NotMet => "Not met",
            Verdict::NotAssessed => "Not assessed",
            Verdict::MetWithExceptions => "Met with exceptions",
            Verdict::Met => "Met",
            Verdict::Attested => "Attested",
            Verdict::NotAssessedByTool => "Not assessed by this tool",
        }
    }

    /// The verdict of a specification from its findings: `technical` are the findings of the
    /// controls mapped to it, `administrative` those of the policies addressing it. "Met" is
    /// impossible while any of them is `fail` or `error`.
    pub fn of(technical: &[FindingRef<'_>], administrative: &[FindingRef<'_>]) -> Verdict {
        let any =
            |list: &[FindingRef<'_>], status: Status| list.iter().any(|f| f.status() == status);
        let admin_lapsed = any(administrative, Status::Fail) || any(administrative, Status::Error);
        let judged = technical
            .iter()
            .any(|f| matches!(f.status(), Status::Pass | Status::Excepted));
        if any(technical, Status::Fail) {
            Verdict::NotMet
        } else if any(technical, Status::Error) {
            Verdict::NotAssessed
        } else if judged && admin_lapsed {
            Verdict::NotMet
        } else if judged && any(technical, Status::Excepted) {
            Verdict::MetWithExceptions
        } else if judged {
            Verdict::Met
        } else if administrative.iter().any(|f| {
            f.control().as_str() == "admin.attestation-missing" && f.status() == Status::Pass
        }) {
            Verdict::Attested
        } else {
            Verdict::NotAssessedByTool
        }
    }
}

/// The ePHI buckets of the audit, by (account, `s3://name`).
fn ephi_subjects(audit: &Audit) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for account in &audit.scope.accounts {
        for bucket in account.buckets.iter().filter(|b| b.in_scope) {
            if bucket.holds_ephi() {
                out.insert((account.id.clone(), format!("s3://{}", bucket.name)));
            }
        }
    }
    out
}

/// A policy's attestation state, from its administrative findings (`policy:<name>`).
fn attestation_state(findings: &[FindingRef<'_>]) -> (String, bool) {
    let failing = |control: &str, status: Status| {
        findings
            .iter()
            .any(|f| f.control().as_str() == control && f.status() == status)
    };
    if findings.is_empty() {
        ("not judged (no attestations file given)".to_string(), true)
    } else if failing("admin.attestation-missing", Status::Fail) {
        ("no attestation on file".to_string(), true)
    } else if failing("admin.attestation-expired", Status::Fail) {
        ("attested, review overdue".to_string(), true)
    } else if failing("admin.attestation-document-changed", Status::Fail) {
        (
            "attested, document changed since approval".to_string(),
            true,
        )
    } else if findings.iter().any(|f| f.status() == Status::Error) {
        ("attested, approval could not be verified".to_string(), true)
    } else {
        ("attested, current".to_string(), false)
    }
}

impl CoverageView {
    /// The table of an audit; `controls` are the report's controls with their findings.
    pub(crate) fn build(audit: &Audit, controls: &[ControlInfo]) -> CoverageView {
        let ephi = ephi_subjects(audit);
        let findings = &audit.findings.findings;
        let admin_of = |policy: &str| -> Vec<FindingRef<'_>> {
            let subject = format!("policy:{policy}");
            findings
                .iter()
                .filter(|f| **f.subject() == *subject)
                .collect()
        };
        let rows = SPECIFICATIONS
            .iter()
            .map(|spec| {
                let judged = |f: &FindingRef<'_>| {
                    !f.control().starts_with("admin.")
                        && f.safeguards().iter().any(|s| s == spec.id)
                };
                // Sized first: at 100 x 1,000 a specification can have 2 million findings.
                let mut technical = Vec::with_capacity(findings.iter().filter(judged).count());
                technical.extend(findings.iter().filter(judged));
                let policies: Vec<(String, Vec<FindingRef<'_>>)> = audit
                    .catalog
                    .policies
                    .iter()
                    .filter(|p| p.safeguards.iter().any(|s| s == spec.id))
                    .map(|p| (p.name.clone(), admin_of(&p.name)))
                    .collect();
                let mut row = coverage_row(spec, controls, &technical, &policies, &ephi);
                if audit.scope.organisation.is_some() {
                    // The details are per account; the organisation summary leads to them.
                    for c in &mut row.controls {
                        c.detail_in = "each account".to_string();
                        c.detail_anchor = ORGANISATION_ANCHOR.to_string();
                    }
                }
                row
            })
            .collect();
        CoverageView {
            anchor: COVERAGE_ANCHOR.to_string(),
            note: "Every standard and implementation specification of 45 CFR 164.312, as the rule marks it. Covered by: the technical controls mapped to it (with their findings: fail, error, excepted, pass), the Dash policies whose attestation addresses it, or nothing this tool collects, with the evidence to request instead. The conclusion is computed from the findings: it never says Met while any finding under the specification fails or could not be assessed.".to_string(),
            rows,
        }
    }
}

fn coverage_row(
    spec: &Specification,
    controls: &[ControlInfo],
    technical: &[FindingRef<'_>],
    policies: &[(String, Vec<FindingRef<'_>>)],
    ephi: &BTreeSet<(String, String)>,
) -> CoverageRow {
    let mapped: Vec<ControlRow> = controls
        .iter()
        .filter(|c| !is_admin(c) && c.safeguards.iter().any(|s| s == spec.id))
        .map(|c| {
            let mut row = control_row(c, "");
            row.rationale = c.rationale_for(spec.id);
            row
        })
        .collect();
    let attestations: Vec<AttestationCell> = policies
        .iter()
        .map(|(name, findings)| {
            let (state, lapsed) = attestation_state(findings);
            AttestationCell {
                policy: name.clone(),
                anchor: anchor("policy", name),
                state,
                lapsed,
            }
        })
        .collect();
    let administrative: Vec<FindingRef<'_>> = policies
        .iter()
        .flat_map(|(_, f)| f.iter().copied())
        .collect();
    let verdict = Verdict::of(technical, &administrative);
    let conclusion = conclusion(verdict, technical, &attestations, ephi, spec);
    let worst = [Status::Fail, Status::Error, Status::Excepted, Status::Pass]
        .into_iter()
        .find(|s| technical.iter().any(|f| f.status() == *s));
    CoverageRow {
        id: spec.id.to_string(),
        title: spec.title.to_string(),
        marking: spec.marking_label(),
        anchor: row_anchor(spec.id),
        controls: mapped,
        attestations,
        not_assessed: matches!(spec.reach, Reach::NotAssessed(_)),
        request: spec.request().unwrap_or_default().to_string(),
        verdict: verdict.label().to_string(),
        verdict_class: verdict.label().to_lowercase().replace(' ', "-"),
        conclusion,
        status: worst.map(|s| s.as_str().to_string()).unwrap_or_default(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// The distinct subjects of `findings` with `status`. A subject's findings come one after
/// another, so each is set aside once per run of them, not once per finding.
fn subjects_with<'a>(findings: &[FindingRef<'a>], status: Status) -> BTreeSet<(&'a str, &'a str)> {
    let mut subjects: Vec<(&str, &str)> = Vec::new();
    for f in findings.iter().filter(|f| f.status() == status) {
        let subject = (f.account().as_str(), f.subject().as_str());
        if subjects.last() != Some(&subject) {
            subjects.push(subject);
        }
    }
    subjects.into_iter().collect()
}

/// The one-line conclusion: the verdict, then the numbers it rests on.
fn conclusion(
    verdict: Verdict,
    technical: &[FindingRef<'_>],
    attestations: &[AttestationCell],
    ephi: &BTreeSet<(String, String)>,
    spec: &Specification,
) -> String {
    let lapses: Vec<String> = attestations
        .iter()
        .filter(|a| a.lapsed)
        .map(|a| format!("{}: {}", a.policy, a.state.trim_start_matches("attested, ")))
        .collect();
    let count = |status: Status| technical.iter().filter(|f| f.status() == status).count();
    let passing = subjects_with(technical, Status::Pass);
    let controls: BTreeSet<&str> = technical.iter().map(|f| f.control().as_str()).collect();
    let errors = subjects_with(technical, Status::Error);
    let mut line = match verdict {
        Verdict::NotMet if count(Status::Fail) == 0 => format!(
            "Not met: {} pass on {}, but the attestation has lapsed",
            plural(controls.len(), "control", "controls"),
            plural(passing.len(), "subject", "subjects")
        ),
        Verdict::NotMet => not_met(technical, ephi),
        Verdict::NotAssessed => format!(
            "Not assessed: {} could not be read; {} pass",
            plural(errors.len(), "subject", "subjects"),
            plural(passing.len(), "subject", "subjects")
        ),
        Verdict::MetWithExceptions => format!(
            "Met with exceptions: {} pass on {}; {} excepted (Appendix B)",
            plural(controls.len(), "control", "controls"),
            plural(passing.len(), "subject", "subjects"),
            plural(
                count(Status::Excepted),
                "failing finding is",
                "failing findings are"
            )
        ),
        Verdict::Met => format!(
            "Met: {} pass on {}",
            plural(controls.len(), "control", "controls"),
            plural(passing.len(), "subject", "subjects")
        ),
        Verdict::Attested => {
            let names: Vec<&str> = attestations.iter().map(|a| a.policy.as_str()).collect();
            let states: BTreeSet<&str> = attestations
                .iter()
                .map(|a| a.state.trim_start_matches("attested, "))
                .collect();
            format!(
                "Attested ({}), {}",
                names.join(", "),
                states.into_iter().collect::<Vec<_>>().join("; ")
            )
        }
        Verdict::NotAssessedByTool => {
            "Not assessed by this tool: no technical control covers it; request the evidence listed"
                .to_string()
        }
    };
    if verdict == Verdict::NotMet && !errors.is_empty() {
        line.push_str(&format!(
            "; {} could not be assessed",
            plural(errors.len(), "subject", "subjects")
        ));
    }
    if verdict != Verdict::Attested && !lapses.is_empty() {
        line.push_str(&format!("; {}", lapses.join("; ")));
    }
    if verdict == Verdict::Attested && matches!(spec.reach, Reach::NotAssessed(_)) {
        line.push_str("; not assessed by this tool");
    }
    line.push('.');
    line
}

/// "Not met: 55 failing findings on 20 subjects, 9 of them ePHI buckets; worst: <title> (3)".
fn not_met(technical: &[FindingRef<'_>], ephi: &BTreeSet<(String, String)>) -> String {
    let failing: Vec<FindingRef<'_>> = technical
        .iter()
        .copied()
        .filter(|f| f.status() == Status::Fail)
        .collect();
    let subjects = subjects_with(&failing, Status::Fail);
    let ephi_count = subjects
        .iter()
        .filter(|(a, s)| ephi.contains(&(a.to_string(), s.to_string())))
        .count();
    // The worst control: highest severity, then most failing subjects, then its id.
    let mut per_control: BTreeMap<&str, (crate::findings::Severity, usize)> = BTreeMap::new();
    for f in &failing {
        let entry = per_control.entry(f.control()).or_insert((f.severity(), 0));
        entry.1 += 1;
    }
    let worst = per_control
        .iter()
        .min_by(|a, b| {
            a.1 .0
                .cmp(&b.1 .0)
                .then(b.1 .1.cmp(&a.1 .1))
                .then(a.0.cmp(b.0))
        })
        .map(|(control, (severity, n))| {
            format!(
                "worst: {control}, {} ({})",
                severity.as_str(),
                plural(*n, "subject", "subjects")
            )
        })
        .unwrap_or_default();
    let ephi_part = if ephi_count > 0 {
        format!(
            ", {} of them ePHI {}",
            thousands(ephi_count),
            if ephi_count == 1 { "bucket" } else { "buckets" }
        )
    } else {
        String::new()
    };
    format!(
        "Not met: {} on {}{ephi_part}; {worst}",
        plural(failing.len(), "failing finding", "failing findings"),
        plural(subjects.len(), "subject", "subjects"),
    )
}
