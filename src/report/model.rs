//! The report's view model: everything the HTML and PDF documents show, computed once, as plain
//! strings and counts. Both renderers read only this, so they cannot disagree on content.
//!
//! Size: an account of 10,000 buckets has ~220,000 findings. Listing each pass would bury the
//! failures, so each control lists its failing, error and excepted findings in full (grouped when
//! many subjects fail with the same reason and evidence), and counts its passes, naming the
//! passing subjects only up to [`PASS_LIST_LIMIT`]; the bucket inventory appendix gives every
//! bucket's counts. The method appendix says so.

use serde::Serialize;
use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::facets::{EphiIndex, RowFacets};
use super::refs::{BundleRefs, EvidenceLink};
use crate::attest::{Attestation, ExceptionUse};
use crate::audit::{Audit, Organisation, Scope};
use crate::controls::policies::ORGANIZATION_FAMILY;
use crate::controls::{placeholders_in, Catalog, POLICIES, SPECIFICATIONS};
use crate::evaluate::names::mask_identifiers;
use crate::findings::{
    FindingId, FindingRef, FindingsReport, Severity, Status, Store, Text, Timeline,
};

/// Passing subjects are named per control up to this many; above it they are only counted.
pub const PASS_LIST_LIMIT: usize = 50;

/// report.pdf names at most this many subjects of one group of findings (with their evidence);
/// it counts the rest, which report.html, findings.csv and findings.json list one by one.
pub const PDF_GROUP_LIMIT: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct ReportModel<'a> {
    pub cover: Cover,
    /// What needs attention first, before any count.
    pub risk: super::risk::RiskView,
    pub summary: SummaryView,
    /// Every 164.312 specification: how it is covered and what the findings conclude.
    pub coverage: super::coverage::CoverageView,
    /// Organisation snapshots only: per account, per safeguard counts.
    pub organisation: Option<OrganisationView>,
    /// Not in the page's template context: report.html renders each section with its own
    /// (`report::html`), and lists them in its contents from [`SafeguardSection::contents`].
    #[serde(skip)]
    pub safeguards: Vec<SafeguardSection>,
    pub policies: Vec<PolicySection>,
    /// Appendix A, a row per bucket, made as it is drawn (`report::buckets`). Not in the page's
    /// template context: report.html renders its rows a slice at a time (`report::html`).
    #[serde(skip)]
    pub inventory: super::buckets::BucketRows<'a>,
    /// Who can reach each ePHI bucket (the access review).
    pub access: super::access::AccessView,
    pub exceptions: Vec<ExceptionView>,
    pub changes: ChangesView,
    pub method: MethodView,
    /// "Changes since last review" (`report --previous`), right after the summary; `None`
    /// without a previous bundle, and the section is then absent.
    pub previous: Option<super::previous::PreviousView>,
    /// Who collected, how, and what the scope left out (Appendix E).
    pub custody: super::custody::CustodyView,
    /// The pictures (`report::charts`), drawn from the same counts as the tables. Not in the
    /// page's template context: report.html renders them a part at a time (`report::html`).
    #[serde(skip)]
    pub charts: super::charts::Charts<'a>,
    /// How the bundle names each evidence reference: report.html links a section's findings
    /// with it as it renders them (`report::html`), a slice at a time.
    #[serde(skip)]
    pub refs: BundleRefs,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cover {
    pub title: String,
    pub organisation: String,
    /// The single account, or an organisation's management account.
    pub account_id: String,
    /// What every page header names: `AWS account <id>`, or the organisation and its
    /// management account.
    pub header_subject: String,
    pub partition: String,
    pub regions: String,
    pub review_period: String,
    pub collected_at: String,
    pub generated_at: String,
    /// The phi-audit that rendered this report.
    pub tool_version: String,
    /// The phi-audit that collected the snapshot.
    pub collector_version: String,
    pub digest: String,
    pub buckets_total: usize,
    pub buckets_in_scope: usize,
    /// The scope's rules in words: include, exclude, tag selectors, regions.
    pub scope: String,
    /// The collecting principal's ARN and account, or "collector not recorded".
    pub collected_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub label: String,
    pub count: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusCounts {
    pub fail: usize,
    pub error: usize,
    pub excepted: usize,
    pub pass: usize,
    pub not_applicable: usize,
    pub total: usize,
}

impl StatusCounts {
    pub(crate) fn add(&mut self, status: Status) {
        match status {
            Status::Fail => self.fail += 1,
            Status::Error => self.error += 1,
            Status::Excepted => self.excepted += 1,
            Status::Pass => self.pass += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
        self.total += 1;
    }

    pub(crate) fn merge(&mut self, other: &StatusCounts) {
        self.fail += other.fail;
        self.error += other.error;
        self.excepted += other.excepted;
        self.pass += other.pass;
        self.not_applicable += other.not_applicable;
        self.total += other.total;
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryView {
    pub subjects: usize,
    pub findings: usize,
    pub by_status: Vec<Count>,
    pub failures_by_severity: Vec<Count>,
    /// Safeguard-by-status matrix: one row per 164.312 safeguard.
    pub matrix: Vec<MatrixRow>,
    /// The controls with the most failures, most first (severity breaks ties).
    pub top_controls: Vec<ControlRow>,
    pub verdict: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MatrixRow {
    pub id: String,
    pub title: String,
    pub anchor: String,
    pub controls: usize,
    pub counts: StatusCounts,
}

/// One control's line in a summary table.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub counts: StatusCounts,
    /// Where the control's findings are listed in full (a safeguard id).
    pub detail_in: String,
    pub detail_anchor: String,
    /// In a safeguard's section: why the control evidences that safeguard (the catalog's
    /// rationale); empty elsewhere.
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SafeguardSection {
    /// In an organisation report, set on the first section of each account: the sections that
    /// follow, up to the next heading, are that account's.
    pub account: Option<AccountHeading>,
    pub id: String,
    pub title: String,
    pub anchor: String,
    pub counts: StatusCounts,
    pub controls: Vec<ControlRow>,
    /// The controls whose findings are listed here (each control is detailed once, under the
    /// first safeguard it maps to). Not in the section's template context: report.html
    /// renders each on its own (`report::html`).
    #[serde(skip)]
    pub details: Vec<ControlDetail>,
    /// The encryption safeguard's "Keys" part: every KMS key judged, in ARN order (empty
    /// elsewhere).
    pub keys: Vec<KeyRow>,
}

/// What the contents list reads of a [`SafeguardSection`]: its heading and its controls'.
#[derive(Debug, Clone, Serialize)]
pub struct SectionContents<'a> {
    pub account: Option<&'a AccountHeading>,
    pub id: &'a str,
    pub title: &'a str,
    pub anchor: &'a str,
    pub details: Vec<DetailContents<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DetailContents<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub anchor: &'a str,
}

impl SafeguardSection {
    pub fn contents(&self) -> SectionContents<'_> {
        SectionContents {
            account: self.account.as_ref(),
            id: &self.id,
            title: &self.title,
            anchor: &self.anchor,
            details: (self.details.iter())
                .map(|d| DetailContents {
                    id: &d.id,
                    title: &d.title,
                    anchor: &d.anchor,
                })
                .collect(),
        }
    }
}

/// The safeguard whose section carries the Keys part.
pub const ENCRYPTION_SAFEGUARD: &str = "164.312(a)(2)(iv)";

/// One KMS key in the Keys part, from the key facts its findings carry.
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    pub arn: String,
    pub state: String,
    pub rotation: String,
    /// `public`, `other accounts`, `this account only` or `unknown`.
    pub decrypt: String,
    /// The buckets and trails that rely on it, or a note that none in scope does.
    pub protects: String,
}

/// The Keys part: one row per key subject, from the first key finding that carries its facts.
fn key_rows(controls: &[ControlInfo]) -> Vec<KeyRow> {
    let mut rows: BTreeMap<String, KeyRow> = BTreeMap::new();
    for finding in controls.iter().flat_map(|c| c.findings()) {
        let Some(key) = &finding.facts().key else {
            continue;
        };
        let subject = if finding.account().is_empty() {
            finding.subject().to_string()
        } else {
            format!("{} {}", finding.account(), finding.subject())
        };
        rows.entry(subject).or_insert_with(|| KeyRow {
            arn: finding.subject().to_string(),
            state: key.state.clone(),
            rotation: key.rotation.clone(),
            decrypt: key.decrypt.clone(),
            protects: if key.protects.is_empty() {
                "no in-scope bucket or trail".to_string()
            } else {
                key.protects.join(", ")
            },
        });
    }
    rows.into_values().collect()
}

/// The heading of one account's detail sections in an organisation report.
#[derive(Debug, Clone, Serialize)]
pub struct AccountHeading {
    pub id: String,
    pub name: String,
    pub anchor: String,
    /// "Collected: 500 buckets, 480 in scope." or why it was not.
    pub note: String,
}

/// The organisation summary: every account, and each account's counts per safeguard.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationView {
    pub id: String,
    pub name: String,
    pub management_account_id: String,
    pub anchor: String,
    pub note: String,
    pub accounts: Vec<OrgAccountRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgAccountRow {
    pub id: String,
    pub name: String,
    /// Where the account's detail sections start.
    pub anchor: String,
    /// `collected`, or `not collected: <the AssumeRole error>`.
    pub collected: String,
    pub buckets: usize,
    /// Every finding of the account (its policy findings too, for the management account).
    pub counts: StatusCounts,
    pub safeguards: Vec<OrgSafeguardCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgSafeguardCell {
    pub id: String,
    pub title: String,
    pub counts: StatusCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlDetail {
    pub id: String,
    pub anchor: String,
    pub title: String,
    pub severity: String,
    pub description: String,
    pub safeguards: String,
    /// Each safeguard the control maps to, with the catalog's reason for the mapping.
    pub mappings: Vec<MappingView>,
    pub policies: String,
    pub evidence: String,
    pub remediation_summary: String,
    pub remediation_cli: String,
    /// What to replace in the command: "AWS CLI (replace TRAIL_ARN with the trail's ARN):".
    pub remediation_cli_note: String,
    pub remediation_console: String,
    pub references: Vec<ReferenceView>,
    pub counts: StatusCounts,
    /// Failing, error and excepted findings, worst first. The control's template context has
    /// only whether there are any: report.html renders each group on its own (`report::html`).
    #[serde(serialize_with = "any")]
    pub groups: Vec<FindingGroup>,
    pub passed_subjects: Vec<String>,
    /// "All 12 passing subjects are listed" / "9,900 subjects passed; see Appendix A".
    pub passed_note: String,
}

/// Serialises a list as whether it has any item.
fn any<T, S: serde::Serializer>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bool(!items.is_empty())
}

/// One control → safeguard mapping and why it holds.
#[derive(Debug, Clone, Serialize)]
pub struct MappingView {
    pub safeguard: String,
    pub title: String,
    pub rationale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReferenceView {
    pub title: String,
    pub url: String,
}

/// Findings of one control that share status, reason and evidence, with every subject named.
#[derive(Debug, Clone, Serialize)]
pub struct FindingGroup {
    pub status: String,
    pub severity: String,
    pub control: String,
    pub reason: String,
    /// Evidence references as the bundle names them (`report::refs`), each file once: every
    /// subject's own, or for a group of more than [`PDF_GROUP_LIMIT`] subjects those of the
    /// ones report.pdf names (the first, in subject order), saying so. report.html links each
    /// finding's own (`GroupMember::references`).
    pub evidence: String,
    /// Each finding of the group, in subject order: its subject and id (the HTML anchor). Not
    /// in a template's context with the group: report.html renders them a slice at a time
    /// (`report::html`), and a policy page's with their links ([`PolicyGroup`]).
    #[serde(skip)]
    pub members: Vec<GroupMember>,
}

/// One finding of a [`FindingGroup`].
#[derive(Debug, Clone, Serialize)]
pub struct GroupMember {
    pub subject: Text,
    /// The finding's stable id (`Finding::id`), the anchor of its row.
    pub id: FindingId,
    /// Where it is in the audit's findings ([`Store::get`]): its references and facets are
    /// read from there when they are written.
    #[serde(skip)]
    pub finding: u32,
}

/// A policy page's row of findings: the group with its facets and each finding's references as
/// links. The page's context holds them all (a policy has a few administrative findings).
#[derive(Debug, Clone, Serialize)]
pub struct PolicyGroup {
    #[serde(flatten)]
    pub group: FindingGroup,
    pub facets: RowFacets,
    pub members: Vec<LinkedMember>,
}

/// A finding of a [`PolicyGroup`]: its id and its references as links.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedMember {
    pub id: FindingId,
    pub evidence: Vec<EvidenceLink>,
}

impl GroupMember {
    /// The references of the finding at `finding`, as links.
    pub fn links(finding: u32, refs: &BundleRefs, findings: &Store) -> Vec<EvidenceLink> {
        (findings.get(finding as usize).evidence())
            .map(|r| refs.link(&r.to_string()))
            .collect()
    }

    fn of(f: FindingRef<'_>) -> GroupMember {
        GroupMember {
            subject: f.subject().clone(),
            id: f.id_number(),
            finding: f.index() as u32,
        }
    }
}

impl FindingGroup {
    /// How many findings (subjects) the group has.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The first `n` subjects (every one when there are fewer), `, ` between them.
    pub fn subjects(&self, n: usize) -> String {
        let names: Vec<&str> = (self.members.iter().take(n))
            .map(|m| m.subject.as_str())
            .collect();
        names.join(", ")
    }

    /// What report.html's filters read from the group's row, from its findings in `store`.
    pub fn facets(&self, store: &Store, ephi: &EphiIndex<'_>) -> RowFacets {
        let findings: Vec<FindingRef<'_>> = (self.members.iter())
            .map(|m| store.get(m.finding as usize))
            .collect();
        let mut facets = RowFacets::of(&findings);
        facets.ephi = ephi.facet(&facets);
        facets
    }

    /// Names the group's references as the bundle does (its evidence cell and the PDF's).
    /// A group of ten thousand buckets would name ten thousand files: only the named ones' are
    /// written.
    fn link(&mut self, refs: &BundleRefs, findings: &Store) {
        let named = &self.members[..self.members.len().min(PDF_GROUP_LIMIT)];
        let references: Vec<String> = (named.iter())
            .flat_map(|m| findings.get(m.finding as usize).evidence())
            .map(|r| r.to_string())
            .collect();
        self.evidence = refs.compact(&references);
        if self.members.len() > PDF_GROUP_LIMIT {
            self.evidence
                .push_str(&format!(" (the first {PDF_GROUP_LIMIT})"));
        }
        self.evidence.shrink_to_fit();
    }
}

impl PolicyGroup {
    /// A policy page's row of `group`, linked as the bundle names its references.
    fn of(mut group: FindingGroup, refs: &BundleRefs, store: &Store, ephi: &EphiIndex<'_>) -> Self {
        group.link(refs, store);
        PolicyGroup {
            facets: group.facets(store, ephi),
            members: (group.members.iter())
                .map(|m| LinkedMember {
                    id: m.id,
                    evidence: GroupMember::links(m.finding, refs, store),
                })
                .collect(),
            group,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicySection {
    pub name: String,
    pub anchor: String,
    pub attestation: Option<AttestationView>,
    pub attestation_note: String,
    /// Administrative findings (`admin.*`) on this policy.
    pub admin_findings: Vec<PolicyGroup>,
    /// The technical controls that support this policy.
    pub controls: Vec<ControlRow>,
    pub counts: StatusCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttestationView {
    pub owner: String,
    pub approver: String,
    pub approved_on: String,
    pub next_review: String,
    pub statement: String,
    pub document: String,
    pub document_sha256: String,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketRow {
    pub name: String,
    pub region: String,
    pub in_scope: String,
    /// `yes` or `no` with its basis; `-` out of scope (not judged).
    pub ephi: String,
    pub tags: String,
    pub counts: StatusCounts,
    pub worst: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExceptionView {
    pub subject: String,
    pub control: String,
    pub justification: String,
    pub approver: String,
    pub approved_on: String,
    pub expires: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangesView {
    pub collected: bool,
    pub note: String,
    pub events: Vec<ChangeRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub time: String,
    pub region: String,
    pub event: String,
    pub user: String,
    /// The bucket changed.
    pub resources: String,
    /// Refused calls, root or unidentified callers, source address, access key suffix.
    pub notes: String,
    /// CloudTrail's id of the event.
    pub event_id: String,
    /// The event as recorded in evidence/ (LookupEvents), as a followable reference.
    pub evidence: EvidenceLink,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodView {
    pub notes: Vec<String>,
    pub controls: Vec<MethodRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodRow {
    pub id: String,
    pub title: String,
    pub severity: String,
    pub evidence: String,
    pub safeguards: String,
    pub policies: String,
}

/// A control as the report knows it: from the catalog, or reconstructed from its findings when
/// the catalog does not define it (administrative findings, newer evaluators).
pub(crate) struct ControlInfo<'a> {
    pub(crate) id: String,
    pub(crate) title: String,
    severity: Severity,
    description: String,
    pub(crate) safeguards: Vec<String>,
    /// The catalog's rationale per safeguard (empty for controls the catalog lacks).
    rationale: BTreeMap<String, String>,
    policies: Vec<String>,
    evidence: Vec<String>,
    remediation: (String, String, String),
    references: Vec<ReferenceView>,
    /// Its findings, as their places in `store` (4 bytes each: an organisation's controls list
    /// 2.1 million).
    findings: Vec<u32>,
    store: &'a Store,
    pub(crate) counts: StatusCounts,
}

impl<'a> ControlInfo<'a> {
    /// Its findings, in the store's order.
    fn findings(&self) -> impl Iterator<Item = FindingRef<'a>> + '_ {
        (self.findings.iter()).map(|&i| self.store.get(i as usize))
    }
}

pub fn anchor(prefix: &str, text: &str) -> String {
    let slug: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!("{prefix}-{}", slug.trim_matches('-'))
}

pub(crate) fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `text` with every whole occurrence of the bucket `name` replaced by `<bucket>`: a name inside
/// a longer name (`www` in `www-logs`) is left alone.
fn generalise(text: &str, name: &str) -> String {
    if name.is_empty() {
        return text.to_string();
    }
    let part_of_name = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at + name.len()..];
        // A '.' that ends a sentence (or `.json`) is not part of the name.
        let after_ok = match tail.chars().next() {
            None => true,
            Some('.') => {
                tail[1..].starts_with("json")
                    || tail[1..].chars().next().is_none_or(|c| !part_of_name(c))
            }
            Some(c) => !part_of_name(c),
        };
        out.push_str(&rest[..at]);
        if before.is_none_or(|c| !part_of_name(c)) && after_ok {
            out.push_str("<bucket>");
        } else {
            out.push_str(name);
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The finding's reason and evidence with its own bucket's name generalised to `<bucket>`, so
/// that findings of many buckets with the same reason group together.
fn generic_reason_and_evidence(finding: FindingRef<'_>) -> (String, String) {
    match finding.subject().strip_prefix("s3://") {
        Some(bucket) => {
            let refs: Vec<String> = (finding.evidence())
                .map(|e| generalise(&e.to_string(), bucket))
                .collect();
            (
                generalise(finding.reason(), bucket),
                compact_evidence(&refs),
            )
        }
        None => (
            finding.reason().to_string(),
            compact_evidence(&evidence_of(finding)),
        ),
    }
}

/// A finding's references, each as one string.
fn evidence_of(finding: FindingRef<'_>) -> Vec<String> {
    finding.evidence().map(|r| r.to_string()).collect()
}

/// `a.json#/calls/X a.json#/calls/Y b.json#/p` → `a.json #/calls/X #/calls/Y; b.json #/p`: the
/// same references, each file named once, so the evidence column stays readable.
pub fn compact_evidence<S: AsRef<str>>(refs: &[S]) -> String {
    let mut files: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in refs {
        let r = r.as_ref();
        let (file, pointer) = r.split_once('#').unwrap_or((r, ""));
        match files.iter_mut().find(|(f, _)| *f == file) {
            Some((_, pointers)) => pointers.push(pointer),
            None => files.push((file, vec![pointer])),
        }
    }
    files
        .iter()
        .map(|(file, pointers)| {
            let pointers: Vec<String> = pointers
                .iter()
                .filter(|p| !p.is_empty())
                .map(|p| format!("#{p}"))
                .collect();
            if pointers.is_empty() {
                file.to_string()
            } else {
                format!("{file} {}", pointers.join(" "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// (status rank, severity, control, reason and evidence with the bucket name generalised).
type GroupKey<'a> = (Status, Severity, &'a str, String, String);

fn group_findings(findings: &[FindingRef<'_>]) -> Vec<FindingGroup> {
    let mut groups: BTreeMap<GroupKey<'_>, (Vec<FindingRef<'_>>, Status)> = BTreeMap::new();
    for &f in findings {
        if matches!(f.status(), Status::Pass | Status::NotApplicable) {
            continue;
        }
        let (reason, evidence) = generic_reason_and_evidence(f);
        let key = (
            f.status(),
            f.severity(),
            f.control().as_str(),
            reason,
            evidence,
        );
        groups
            .entry(key)
            .or_insert_with(|| (Vec::new(), f.status()))
            .0
            .push(f);
    }
    groups
        .into_iter()
        .map(
            |((_, severity, control, generic_reason, generic_evidence), (members, status))| {
                // One subject: its own words. Several: `<bucket>` stands for each of them.
                let (reason, evidence) = if members.len() == 1 {
                    (
                        members[0].reason().to_string(),
                        compact_evidence(&evidence_of(members[0])),
                    )
                } else {
                    (generic_reason, generic_evidence)
                };
                let mut members: Vec<GroupMember> =
                    members.iter().map(|&f| GroupMember::of(f)).collect();
                members.sort_by(|a, b| a.subject.cmp(&b.subject));
                FindingGroup {
                    status: status.as_str().to_string(),
                    severity: severity.as_str().to_string(),
                    control: control.to_string(),
                    reason,
                    evidence,
                    members,
                }
            },
        )
        .collect()
}

/// `<prefix>-<anchor>`, or the anchor itself without a prefix (single-account reports).
fn prefixed(prefix: &str, anchor: String) -> String {
    if prefix.is_empty() {
        anchor
    } else {
        format!("{prefix}-{anchor}")
    }
}

impl ControlInfo<'_> {
    /// Why the control evidences `safeguard` (the catalog's rationale), or nothing.
    pub(crate) fn rationale_for(&self, safeguard: &str) -> String {
        self.rationale.get(safeguard).cloned().unwrap_or_default()
    }
}

pub(crate) fn is_admin(c: &ControlInfo) -> bool {
    c.id.starts_with("admin.")
}

/// Each technical control is detailed under its first safeguard.
fn primary(c: &ControlInfo) -> String {
    c.safeguards.first().cloned().unwrap_or_default()
}

/// Anchors get `prefix` (an account's, in an organisation report).
pub(crate) fn control_row(c: &ControlInfo, prefix: &str) -> ControlRow {
    ControlRow {
        id: c.id.clone(),
        title: c.title.clone(),
        severity: c.severity.as_str().to_string(),
        counts: c.counts.clone(),
        detail_in: primary(c),
        detail_anchor: prefixed(prefix, anchor("control", &c.id)),
        rationale: String::new(),
    }
}

/// The row of a control in the section of `safeguard`, with why it evidences that safeguard.
fn mapped_row(c: &ControlInfo, prefix: &str, safeguard: &str) -> ControlRow {
    ControlRow {
        rationale: c.rationale_for(safeguard),
        ..control_row(c, prefix)
    }
}

/// Controls: catalog order, then any control the findings name that the catalog lacks. The
/// organisation controls are left out of single-account reports, which they cannot concern.
pub(crate) fn control_infos<'a>(
    catalog: &Catalog,
    store: &'a Store,
    findings: impl Iterator<Item = FindingRef<'a>>,
    organisation: bool,
) -> Vec<ControlInfo<'a>> {
    let mut controls: Vec<ControlInfo> = catalog
        .controls
        .iter()
        .filter(|c| organisation || c.family != ORGANIZATION_FAMILY)
        .map(|c| ControlInfo {
            id: c.id.clone(),
            title: c.title.clone(),
            severity: c.severity,
            description: c.description.clone(),
            safeguards: c.safeguards.to_vec(),
            rationale: c.rationale.clone(),
            policies: c.policies.to_vec(),
            evidence: c.evidence.clone(),
            remediation: (
                c.remediation.summary.clone(),
                c.remediation.cli.clone(),
                c.remediation.console.clone(),
            ),
            references: c
                .references
                .iter()
                .map(|r| ReferenceView {
                    title: r.title.clone(),
                    url: r.url.clone(),
                })
                .collect(),
            findings: Vec::new(),
            store,
            counts: StatusCounts::default(),
        })
        .collect();
    let mut index: BTreeMap<String, usize> = controls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.clone(), i))
        .collect();
    for f in findings {
        let i = *index.entry(f.control().to_string()).or_insert_with(|| {
            controls.push(ControlInfo {
                id: f.control().to_string(),
                title: f.control().to_string(),
                severity: f.severity(),
                description: String::new(),
                safeguards: f.safeguards().to_vec(),
                rationale: BTreeMap::new(),
                policies: f.policies().to_vec(),
                evidence: Vec::new(),
                remediation: (String::new(), String::new(), String::new()),
                references: Vec::new(),
                findings: Vec::new(),
                store,
                counts: StatusCounts::default(),
            });
            controls.len() - 1
        });
        controls[i].findings.push(f.index() as u32);
        controls[i].counts.add(f.status());
    }
    controls
}

/// One section per 164.312 safeguard (plus one for unmapped controls, if any). Without
/// `with_details` only the counts and control rows are made (an organisation's totals, whose
/// findings are detailed per account).
fn safeguard_sections(
    controls: &[ControlInfo],
    prefix: &str,
    with_details: bool,
) -> Vec<SafeguardSection> {
    let mut safeguards = Vec::new();
    for spec in &SPECIFICATIONS {
        let (id, title) = (&spec.id, spec.title);
        let mapped: Vec<&ControlInfo> = controls
            .iter()
            .filter(|c| !is_admin(c) && c.safeguards.iter().any(|s| s == id))
            .collect();
        let mut counts = StatusCounts::default();
        for c in &mapped {
            counts.merge(&c.counts);
        }
        let details = mapped
            .iter()
            .filter(|c| with_details && primary(c) == *id)
            .map(|c| control_detail(c, prefix))
            .collect();
        safeguards.push(SafeguardSection {
            account: None,
            id: id.to_string(),
            title: title.to_string(),
            anchor: prefixed(prefix, anchor("safeguard", id)),
            counts,
            controls: mapped.iter().map(|c| mapped_row(c, prefix, id)).collect(),
            details,
            keys: if with_details && *id == ENCRYPTION_SAFEGUARD {
                key_rows(controls)
            } else {
                Vec::new()
            },
        });
    }
    // Technical controls mapped to no known safeguard still get listed somewhere.
    let orphans: Vec<&ControlInfo> = controls
        .iter()
        .filter(|c| {
            !is_admin(c)
                && !c
                    .safeguards
                    .iter()
                    .any(|s| SPECIFICATIONS.iter().any(|k| k.id == s))
        })
        .collect();
    if !orphans.is_empty() {
        let mut counts = StatusCounts::default();
        for c in &orphans {
            counts.merge(&c.counts);
        }
        safeguards.push(SafeguardSection {
            account: None,
            id: "Other".to_string(),
            title: "Controls not mapped to a 164.312 safeguard".to_string(),
            anchor: prefixed(prefix, anchor("safeguard", "other")),
            counts,
            controls: orphans.iter().map(|c| control_row(c, prefix)).collect(),
            details: orphans
                .iter()
                .filter(|_| with_details)
                .map(|c| control_detail(c, prefix))
                .collect(),
            keys: Vec::new(),
        });
    }
    safeguards
}

/// The sections that detail something: a safeguard whose controls are all detailed under
/// another safeguard would be a page that only points elsewhere; the coverage table lists its
/// controls instead. An account's heading moves to its first remaining section.
fn without_pointer_pages(sections: Vec<SafeguardSection>) -> Vec<SafeguardSection> {
    let mut kept: Vec<SafeguardSection> = Vec::new();
    let mut heading = None;
    for mut section in sections {
        if heading.is_none() {
            heading = section.account.take();
        }
        if section.details.is_empty() && section.keys.is_empty() {
            continue;
        }
        if section.account.is_none() {
            section.account = heading.take();
        }
        kept.push(section);
    }
    kept
}

/// The anchor of the organisation summary, where org-wide tables link to.
pub const ORGANISATION_ANCHOR: &str = "organisation";

impl<'a> ReportModel<'a> {
    /// The report of an audit: for an organisation, the organisation summary follows the
    /// executive summary and each account's safeguard sections follow in account-id order.
    pub fn build(audit: &'a Audit) -> ReportModel<'a> {
        let scope = &audit.scope;
        let report = &audit.findings;
        let organisation = scope.organisation.is_some();
        let judged_at = audit.admin.period_end;
        let controls = control_infos(
            &audit.catalog,
            &report.findings,
            report.findings.iter(),
            organisation,
        );
        let refs = BundleRefs::new(audit);
        // An organisation's safeguard sections are each account's, headed by the account.
        let (organisation_view, safeguards) = match &scope.organisation {
            Some(org) => {
                let (view, sections) = organisation_view(org, scope, &audit.catalog, report);
                (Some(view), sections)
            }
            None => (
                None,
                without_pointer_pages(safeguard_sections(&controls, "", true)),
            ),
        };
        let summary = summary_view(report, &controls, organisation);
        let inventory = super::buckets::BucketRows::of(audit);
        let charts =
            super::charts::Charts::build(&inventory, &summary.matrix, organisation_view.as_ref());
        let mut model = ReportModel {
            cover: cover(scope, report),
            risk: super::risk::RiskView::build(audit),
            custody: super::custody::CustodyView::build(&audit.scope),
            summary,
            coverage: super::coverage::CoverageView::build(audit, &controls),
            charts,
            organisation: organisation_view,
            safeguards,
            policies: policy_sections(&controls, audit, &refs, organisation),
            inventory,
            access: super::access::AccessView::build(audit),
            exceptions: exception_views(&audit.exceptions, judged_at),
            changes: changes(scope, &report.changes, &refs),
            method: method_view(&controls, organisation),
            previous: None,
            refs: refs.clone(),
        };
        let groups = (model.safeguards.iter_mut())
            .flat_map(|s| s.details.iter_mut())
            .flat_map(|d| d.groups.iter_mut());
        for group in groups {
            group.link(&refs, &report.findings);
        }
        model
    }
}

impl<'a> ReportModel<'a> {
    /// The audit the report was built from (its findings, its scope).
    pub fn audit(&self) -> &'a Audit {
        self.inventory.audit
    }
}

impl ReportModel<'_> {
    /// The cover of an audit's report, without building the rest (README.txt names it).
    pub fn cover_of(audit: &Audit) -> Cover {
        cover(&audit.scope, &audit.findings)
    }

    /// Adds "Changes since last review" (`report --previous`) and its picture.
    pub fn set_previous(&mut self, previous: super::previous::PreviousView) {
        let fail_now = (self.summary.by_status.iter())
            .find(|c| c.label == Status::Fail.as_str())
            .map_or(0, |c| c.count);
        self.charts.with_previous(&previous, fail_now);
        self.previous = Some(previous);
    }
}

fn cover(scope: &Scope, report: &FindingsReport) -> Cover {
    let buckets = || scope.accounts.iter().flat_map(|a| a.buckets.iter());
    Cover {
        title: "HIPAA Security Rule evidence: Amazon S3".to_string(),
        organisation: scope.organisation_name(),
        account_id: scope.account_id.clone(),
        header_subject: scope.header_subject(),
        partition: scope.partition.clone(),
        regions: if scope.regions.is_empty() {
            "(not recorded)".to_string()
        } else {
            scope.regions.join(", ")
        },
        review_period: scope
            .review_period
            .as_ref()
            .map(|p| format!("{} to {}", p.since, p.until))
            .unwrap_or_else(|| "(not recorded)".to_string()),
        collected_at: scope.collected_at.to_string(),
        generated_at: report.generated_at.clone(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        collector_version: scope.tool_version.clone(),
        digest: scope.digest.clone(),
        buckets_total: buckets().count(),
        buckets_in_scope: buckets().filter(|b| b.in_scope).count(),
        scope: super::custody::scope_summary(scope),
        collected_by: super::custody::collected_by(scope),
    }
}

fn summary_view(
    report: &FindingsReport,
    controls: &[ControlInfo],
    organisation: bool,
) -> SummaryView {
    let count = |status: Status| {
        report
            .findings
            .iter()
            .filter(|f| f.status() == status)
            .count()
    };
    let mut top: Vec<&ControlInfo> = controls.iter().filter(|c| c.counts.fail > 0).collect();
    // Most failures first; severity breaks ties.
    top.sort_by(|a, b| {
        b.counts
            .fail
            .cmp(&a.counts.fail)
            .then(a.severity.cmp(&b.severity))
            .then(a.id.cmp(&b.id))
    });
    // The organisation-wide counts per safeguard; the details are per account.
    let totals = safeguard_sections(controls, "", false);
    SummaryView {
        subjects: report.summary.subjects,
        findings: report.findings.len(),
        by_status: Status::ALL
            .iter()
            .map(|s| Count {
                label: s.as_str().to_string(),
                count: count(*s),
            })
            .collect(),
        failures_by_severity: Severity::ALL
            .iter()
            .map(|s| Count {
                label: s.as_str().to_string(),
                count: report
                    .findings
                    .iter()
                    .filter(|f| f.status() == Status::Fail && f.severity() == *s)
                    .count(),
            })
            .collect(),
        matrix: totals
            .iter()
            .map(|s| MatrixRow {
                id: s.id.clone(),
                title: s.title.clone(),
                // The coverage table says how each safeguard is covered and links onward.
                anchor: super::coverage::row_anchor(&s.id),
                controls: s.controls.len(),
                counts: s.counts.clone(),
            })
            .collect(),
        top_controls: top
            .iter()
            .take(10)
            .map(|c| {
                let mut row = control_row(c, "");
                if organisation {
                    // The details are per account; the organisation summary leads to them.
                    row.detail_in = "each account".to_string();
                    row.detail_anchor = ORGANISATION_ANCHOR.to_string();
                }
                row
            })
            .collect(),
        verdict: format!(
            "{} findings on {} subjects: {} failures and {} that could not be assessed (errors are never counted as passes).",
            thousands(report.findings.len()),
            thousands(report.summary.subjects),
            thousands(count(Status::Fail)),
            thousands(count(Status::Error))
        ),
    }
}

/// One page per Dash policy (catalog order, then any other policy a control names): its
/// attestation, its administrative findings and the technical controls that support it.
fn policy_sections(
    controls: &[ControlInfo],
    audit: &Audit,
    refs: &BundleRefs,
    organisation: bool,
) -> Vec<PolicySection> {
    let report = &audit.findings;
    let attestations = &audit.attestations();
    let judged_at = audit.admin.period_end;
    let ephi = &EphiIndex::of(&audit.scope);
    let mut policy_names: Vec<String> = POLICIES.iter().map(|p| p.to_string()).collect();
    for c in controls {
        for p in &c.policies {
            if !policy_names.contains(p) {
                policy_names.push(p.clone());
            }
        }
    }
    policy_names
        .iter()
        .map(|name| {
            let technical: Vec<&ControlInfo> = controls
                .iter()
                .filter(|c| !is_admin(c) && c.policies.iter().any(|p| p == name))
                .collect();
            let mut counts = StatusCounts::default();
            for c in &technical {
                counts.merge(&c.counts);
            }
            let subject = format!("policy:{name}");
            let admin: Vec<FindingRef<'_>> = report
                .findings
                .iter()
                .filter(|f| **f.subject() == *subject)
                .collect();
            let attestation = attestations
                .iter()
                .find(|a| a.policy == *name)
                .map(|a| attestation_view(a, judged_at));
            // The note never says more than the administrative findings below it.
            let failing: Vec<String> = (admin.iter())
                .filter(|f| matches!(f.status(), Status::Fail | Status::Error))
                .map(|f| format!("{} ({})", f.control(), f.status().as_str().to_uppercase()))
                .collect();
            let attestation_note = match &attestation {
                None => "No attestation on file for this policy.".to_string(),
                Some(a) if a.current && !failing.is_empty() => format!(
                    "Attested, next review due {}, but the attestation does not stand as evidence: {}; see below.",
                    a.next_review,
                    failing.join(", ")
                ),
                Some(a) if a.current => format!("Attested; next review due {}.", a.next_review),
                Some(a) => format!(
                    "The attestation's review date {} has passed: the attestation has expired.",
                    a.next_review
                ),
            };
            PolicySection {
                name: name.clone(),
                anchor: anchor("policy", name),
                attestation,
                attestation_note,
                admin_findings: group_findings(&admin)
                    .into_iter()
                    .chain(admin.iter().filter(|f| f.status() == Status::Pass).map(|&f| {
                        FindingGroup {
                            status: f.status().as_str().to_string(),
                            severity: f.severity().as_str().to_string(),
                            control: f.control().to_string(),
                            reason: f.reason().to_string(),
                            evidence: compact_evidence(&evidence_of(f)),
                            members: vec![GroupMember::of(f)],
                        }
                    }))
                    .map(|g| PolicyGroup::of(g, refs, &report.findings, ephi))
                    .collect(),
                controls: technical
                    .iter()
                    .map(|c| {
                        let mut row = control_row(c, "");
                        if organisation {
                            // The details are per account; the organisation summary leads there.
                            row.detail_in = "each account".to_string();
                            row.detail_anchor = ORGANISATION_ANCHOR.to_string();
                        }
                        row
                    })
                    .collect(),
                counts,
            }
        })
        .collect()
}

fn attestation_view(a: &Attestation, judged_at: NaiveDate) -> AttestationView {
    AttestationView {
        owner: a.owner.clone(),
        approver: a.approver.clone(),
        approved_on: a.approved_on.to_string(),
        next_review: a.next_review.to_string(),
        statement: a.statement.clone(),
        document: a
            .document
            .as_ref()
            .map(|d| d.path.clone())
            .unwrap_or_default(),
        document_sha256: a
            .document
            .as_ref()
            .map(|d| d.sha256.clone())
            .unwrap_or_default(),
        current: a.next_review >= judged_at,
    }
}

/// The inventory's ePHI cell: the designation, and on what basis.
pub(crate) fn ephi_cell(designation: &crate::snapshot::EphiDesignation) -> String {
    use crate::snapshot::EphiBasis;
    match &designation.basis {
        EphiBasis::Tag { key, value } if designation.ephi => {
            mask_identifiers(&format!("yes ({key}={value})")).into_owned()
        }
        EphiBasis::Tag { .. } | EphiBasis::NotDesignated => "no".to_string(),
        EphiBasis::NoBucketDesignated => "yes (no bucket is tagged)".to_string(),
        EphiBasis::TagsUnreadable => "yes (tags unreadable)".to_string(),
    }
}

/// Appendix B: every exception as given, with what it did at the end of the period: `in force`
/// or `expired`, and `matched nothing` when no failing finding matched it (stale or mistyped).
fn exception_views(uses: &[ExceptionUse], judged_at: NaiveDate) -> Vec<ExceptionView> {
    uses.iter()
        .map(|u| {
            let e = &u.exception;
            let expired = e.expires < judged_at;
            ExceptionView {
                subject: e.subject.clone(),
                control: e.control.clone(),
                justification: e.justification.clone(),
                approver: e.approver.clone(),
                approved_on: e.approved_on.to_string(),
                expires: e.expires.to_string(),
                state: match (u.matched.len(), expired) {
                    (0, false) => "matched nothing".to_string(),
                    (0, true) => "expired; matched nothing".to_string(),
                    (_, false) => "in force".to_string(),
                    (_, true) => "expired".to_string(),
                },
            }
        })
        .collect()
}

fn method_view(controls: &[ControlInfo], organisation: bool) -> MethodView {
    let mut notes = method_notes();
    if organisation {
        notes.push(ORGANISATION_NOTE.to_string());
    }
    MethodView {
        notes,
        controls: controls
            .iter()
            .map(|c| MethodRow {
                id: c.id.clone(),
                title: c.title.clone(),
                severity: c.severity.as_str().to_string(),
                evidence: if c.evidence.is_empty() {
                    "(see the finding's evidence references)".to_string()
                } else {
                    c.evidence.join(", ")
                },
                safeguards: c.safeguards.join(", "),
                policies: c.policies.join(", "),
            })
            .collect(),
    }
}

/// The line above a remediation command, naming exactly the placeholders it holds.
fn cli_note(cli: &str) -> String {
    let replace: Vec<String> = placeholders_in(cli)
        .iter()
        .map(|(token, with)| format!("{token} with {with}"))
        .collect();
    if replace.is_empty() {
        "AWS CLI:".to_string()
    } else {
        format!("AWS CLI (replace {}):", replace.join("; "))
    }
}

fn control_detail(c: &ControlInfo, prefix: &str) -> ControlDetail {
    let passes = || c.findings().filter(|f| f.status() == Status::Pass);
    let passed_count = passes().count();
    // Listed only up to the limit: beyond it they are counted.
    let mut passed: Vec<String> = match passed_count {
        n if n <= PASS_LIST_LIMIT => passes().map(|f| f.subject().to_string()).collect(),
        _ => Vec::new(),
    };
    passed.sort();
    let passed_note = match passed_count {
        0 => "No subject passed this control.".to_string(),
        n if n <= PASS_LIST_LIMIT => format!("Passed ({n}):"),
        n => format!(
            "{} subjects passed; they are not listed here (see the bucket inventory appendix and findings.csv).",
            thousands(n)
        ),
    };
    ControlDetail {
        id: c.id.clone(),
        anchor: prefixed(prefix, anchor("control", &c.id)),
        title: c.title.clone(),
        severity: c.severity.as_str().to_string(),
        description: c.description.clone(),
        safeguards: c.safeguards.join(", "),
        mappings: c
            .safeguards
            .iter()
            .map(|s| MappingView {
                safeguard: s.clone(),
                title: crate::controls::specification(s)
                    .map(|spec| spec.title.to_string())
                    .unwrap_or_default(),
                rationale: c.rationale.get(s).cloned().unwrap_or_default(),
            })
            .collect(),
        policies: c.policies.join(", "),
        evidence: c.evidence.join(", "),
        remediation_summary: c.remediation.0.clone(),
        remediation_cli: c.remediation.1.clone(),
        remediation_cli_note: cli_note(&c.remediation.1),
        remediation_console: c.remediation.2.clone(),
        references: c.references.clone(),
        counts: c.counts.clone(),
        groups: group_findings(&c.findings().collect::<Vec<_>>()),
        passed_subjects: passed,
        passed_note,
    }
}

const ORGANISATION_NOTE: &str = "Organisation: the snapshot holds one complete snapshot per member account under accounts/<id>/ (evidence references name that path). Each account is evaluated on its own, exactly as a single account; the organisation summary counts each account's findings per safeguard, and each account's safeguard sections follow in account-id order. An account whose role could not be assumed gives one error finding (org.account-not-collected), never a pass.";

/// The organisation summary, and every account's safeguard sections (the first one headed with
/// the account), built one account at a time from that account's findings.
fn organisation_view(
    organization: &Organisation,
    scope: &Scope,
    catalog: &Catalog,
    report: &FindingsReport,
) -> (OrganisationView, Vec<SafeguardSection>) {
    let accounts = &scope.accounts;
    let mut rows = Vec::with_capacity(accounts.len());
    let mut sections = Vec::new();
    // Each account's findings, found in one pass (not one pass per account).
    let mut by_account: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for f in &report.findings {
        (by_account.entry(f.account().as_str()).or_default()).push(f.index() as u32);
    }
    for account in accounts {
        let prefix = format!("account-{}", account.id);
        let own = by_account.remove(account.id.as_str()).unwrap_or_default();
        let findings = || own.iter().map(|&i| report.findings.get(i as usize));
        let mut counts = StatusCounts::default();
        for f in findings() {
            counts.add(f.status());
        }
        let controls = control_infos(catalog, &report.findings, findings(), true);
        let mut account_sections = safeguard_sections(&controls, &prefix, true);
        let name = account.name.clone().unwrap_or_default();
        let in_scope = account.buckets.iter().filter(|b| b.in_scope).count();
        let (collected, note) = match &account.not_collected {
            None => (
                "collected".to_string(),
                format!(
                    "Collected: {} buckets, {} in scope.",
                    thousands(account.buckets.len()),
                    thousands(in_scope)
                ),
            ),
            Some(reason) => (
                format!("not collected: {reason}"),
                format!("Not collected: {reason}. No evidence of this account was examined."),
            ),
        };
        let anchor = prefixed(&prefix, "start".to_string());
        rows.push(OrgAccountRow {
            id: account.id.clone(),
            name: name.clone(),
            anchor: anchor.clone(),
            collected,
            buckets: account.buckets.len(),
            counts,
            safeguards: account_sections
                .iter()
                .map(|s| OrgSafeguardCell {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    counts: s.counts.clone(),
                })
                .collect(),
        });
        if let Some(first) = account_sections.first_mut() {
            first.account = Some(AccountHeading {
                id: account.id.clone(),
                name,
                anchor,
                note,
            });
        }
        sections.extend(without_pointer_pages(account_sections));
    }
    let collected = accounts
        .iter()
        .filter(|a| a.not_collected.is_none())
        .count();
    let view = OrganisationView {
        id: organization.id.clone(),
        name: organization.name.clone().unwrap_or_default(),
        management_account_id: organization.management_account_id.clone(),
        anchor: ORGANISATION_ANCHOR.to_string(),
        note: format!(
            "{} accounts: {} collected, {} could not be collected (each gives an error finding, never a pass).",
            accounts.len(),
            collected,
            accounts.len() - collected
        ),
        accounts: rows,
    };
    (view, sections)
}

fn method_notes() -> Vec<String> {
    vec![
        "Evidence: every finding rests on recorded answers of the AWS APIs (the `aws s3api` JSON form), kept byte for byte under evidence/ in this bundle. Each evidence reference is a file of this bundle and a JSON pointer into it (in report.html, a link): evidence/buckets/, the bucket's name and .json#/calls/GetBucketAcl is the bucket's recorded ACL; attestations/ holds the attestation and exception files and the policy documents they name, catalog/policies.yaml the policy definitions used. findings.json names the same files relative to the input they belong to (the snapshot's without evidence/, see docs/findings-format.md).".to_string(),
        "Identifiers: what s3.name-may-contain-phi flags in tags (social security, medical record and phone numbers, dates of birth, e-mail addresses) is masked in this report, findings.csv, findings.json and oscal/ (e.g. ***-**-6789, 1984-**-**); bucket names are shown whole, as they are the subjects' names and their evidence files' names. The files under evidence/ are the API answers byte for byte and may hold such values in full: handle them as PHI.".to_string(),
        "Statuses: fail = misconfigured; error = the evidence could not be collected or read (never counted as a pass); excepted = a failure covered by a documented, unexpired risk exception; pass; not_applicable.".to_string(),
        "Public exposure is judged as AWS judges it: ACL grants and bucket policies together, with Block Public Access at bucket and account level and Object Ownership (BucketOwnerEnforced) applied; a grant that Block Public Access neutralises passes but is reported as latent.".to_string(),
        "Presentation: each control is described once, under the first 164.312 safeguard it supports; other safeguards it supports list it with its counts, and a safeguard whose controls are all described under another has no section of its own (the 164.312 coverage table lists them). Each control names, for every safeguard it supports, the catalog's one-sentence reason for the mapping. Failing, error and excepted findings are listed in full; subjects that fail with the same reason and evidence are listed together in one row. Passing subjects are named when a control has at most 50 of them, otherwise counted; the bucket inventory appendix and findings.csv give every subject's result.".to_string(),
        "Configuration changes (Appendix C) are the security-relevant S3 calls (bucket policy, ACL, encryption, versioning, logging, Block Public Access, ownership, replication, lifecycle, object lock, tagging and bucket creation or deletion) that CloudTrail LookupEvents recorded in the review period, as listed in findings.json under \"changes\"; refused calls are shown as attempts.".to_string(),
        "Identity: who can read, write or manage each ePHI bucket (findings.json \"access_review\"; the iam.* controls) is judged from the account's IAM users, groups, roles, their inline and managed policies (default versions only), permissions boundaries and the bucket policy, as AWS's policy evaluation logic judges a request from the same account; a condition on the deciding statement makes an answer conditional; a managed policy or boundary the account's authorization details do not list is read with GetPolicy and GetPolicyVersion (evidence/iam/policies.json), and one that could not be read makes the answer conditional, with the reason. The Access review section lists the answers per ePHI bucket, access-review.csv every row. Outside this review: service control policies (SCPs), session policies, KMS key policies, ACL grants to IAM identities, and principals of other accounts.".to_string(),
        "Integrity: MANIFEST.sha256 lists the SHA-256 of every file in the bundle; the snapshot digest on every page is the SHA-256 over the sorted \"<sha256>  <path>\" lines of the files under evidence/ (see README.txt).".to_string(),
    ]
}

/// The change timeline of findings.json (`evaluate::changes`), as a table.
fn changes(scope: &Scope, timeline: &Timeline, refs: &BundleRefs) -> ChangesView {
    let events: Vec<ChangeRow> = timeline
        .changes
        .iter()
        .map(|c| {
            let mut notes = Vec::new();
            if let Some(code) = &c.error_code {
                notes.push(format!("refused ({code})"));
            }
            notes.extend(c.flags.iter().cloned());
            if let Some(ip) = &c.source_ip {
                notes.push(format!("from {ip}"));
            }
            if let Some(key) = &c.access_key {
                notes.push(format!("key {key}"));
            }
            ChangeRow {
                time: c.time.clone(),
                region: c.region.clone(),
                event: c.event.clone(),
                user: c
                    .user_name
                    .clone()
                    .or_else(|| c.principal.clone())
                    .unwrap_or_else(|| "(not recorded)".to_string()),
                resources: match &c.account {
                    Some(account) if scope.organisation.is_some() => {
                        format!("{} (account {account})", c.bucket)
                    }
                    _ => c.bucket.clone(),
                },
                notes: notes.join("; "),
                event_id: c.event_id.clone(),
                evidence: refs.link(&c.evidence),
            }
        })
        .collect();
    let collected = scope.accounts.iter().any(|a| a.lookup_events_collected);
    let note = if !collected {
        "No configuration changes were collected for the review period (the snapshot has no CloudTrail LookupEvents).".to_string()
    } else if timeline.not_collected.is_empty() {
        format!(
            "{} changes to bucket security recorded by CloudTrail in the review period.",
            thousands(events.len())
        )
    } else {
        format!(
            "{} changes to bucket security recorded by CloudTrail in the review period. Not available: {}.",
            thousands(events.len()),
            timeline.not_collected.join("; ")
        )
    };
    ChangesView {
        collected,
        note,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::generalise;

    #[test]
    fn only_whole_bucket_names_are_generalised() {
        assert_eq!(
            generalise(
                "s3://logs/www/ for www; www-logs and awww stay. Ends with www.",
                "www"
            ),
            "s3://logs/<bucket>/ for <bucket>; www-logs and awww stay. Ends with <bucket>."
        );
        assert_eq!(
            generalise("buckets/a.b.json#/x", "a.b"),
            "buckets/<bucket>.json#/x"
        );
        assert_eq!(generalise("no match", "zzz"), "no match");
        assert_eq!(
            generalise("www.example.org is another bucket", "www"),
            "www.example.org is another bucket"
        );
    }
}
