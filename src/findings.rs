//! The findings contract (docs/findings-format.md): what the evaluator produces and every report renders.
//!
//! These are plain domain types with no I/O. Their serialised form is `findings.json`, so field
//! names and enum spellings here are part of the public contract.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

pub mod store;

pub use store::{FindingRef, Reference, Store};

/// A list of names that every finding of a control carries alike (its safeguards, its
/// policies): shared with the catalog's control, so a finding holds a reference-counted pointer
/// instead of its own copy of each name.
pub type Names = Arc<[String]>;

/// A finding's text (its subject, account, control, reason and evidence references): shared,
/// not copied, by every finding that says the same thing. A bucket's two dozen findings share
/// its subject and most of its evidence references, and ten thousand buckets' passes share a
/// few hundred reasons ([`Interner`]). Reads, compares and serialises as the string it holds.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Text(Arc<str>);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::from("")
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Arc::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.as_str())
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// The verdict of one control on one subject. The declaration order is the one order of
/// statuses, worst first: reports sort and group by it (`Ord`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The control failed: the subject is misconfigured.
    Fail,
    /// The evidence could not be collected or read, so nothing is known. Never a pass.
    Error,
    /// A failure covered by a documented, unexpired exception.
    Excepted,
    /// The control passed on the evidence collected.
    Pass,
    /// The control does not apply to this subject.
    NotApplicable,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Fail,
        Status::Error,
        Status::Excepted,
        Status::Pass,
        Status::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Excepted => "excepted",
            Status::Pass => "pass",
            Status::NotApplicable => "not_applicable",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much a failure of a control matters. Ordered from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// True when `self` is as severe as `threshold` or more.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One control's verdict on one subject, with the evidence that decided it. Serialised with
/// its [`Finding::id`] first (findings.json's `id`); reading ignores `id` and derives it again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Finding {
    /// `s3://bucket`, `account:<id>`, a trail ARN or `policy:<name>`.
    pub subject: Text,
    /// The 12-digit AWS account the subject belongs to (docs/organizations.md); `policy:`
    /// findings carry the management (or the single) account. Absent in findings.json written
    /// before organisations, hence the default.
    #[serde(default = "no_account")]
    pub account: Text,
    pub control: Text,
    pub status: Status,
    pub severity: Severity,
    pub safeguards: Names,
    pub policies: Names,
    /// One sentence an auditor understands.
    pub reason: Text,
    /// JSON-pointer references into the snapshot, e.g. `buckets/b.json#/calls/GetBucketAcl`.
    pub evidence: Vec<Text>,
    /// What the reason says, as typed facts; absent from findings.json when there are none.
    #[serde(default, skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
    /// For a bucket subject: whether the bucket holds ePHI (DESIGN §8, `evaluate::ephi`);
    /// absent for other subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephi: Option<bool>,
    /// On what grounds [`Finding::ephi`] was decided: `tag:<key>=<value>`, `not_designated`,
    /// `no_bucket_designated` or `tags_unreadable` (docs/findings-format.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ephi_basis: Option<Text>,
}

/// A hash map looked up once or more per finding (a quarter of a million at 10,000 buckets):
/// hashed with foldhash, several times faster than the standard SipHash on short strings. Never
/// iterated into an output in its own order, which differs from run to run.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// A [`FastMap`]'s set.
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

/// Hands out one shared [`Text`] per distinct string it is given.
#[derive(Debug, Default)]
pub struct Interner(FastSet<Text>);

impl Interner {
    /// An interner that takes `capacity` distinct strings before it grows.
    pub fn with_capacity(capacity: usize) -> Self {
        Interner(FastSet::with_capacity_and_hasher(
            capacity,
            Default::default(),
        ))
    }

    /// The shared copy of `s`, made on first use.
    pub fn text(&mut self, s: &str) -> Text {
        if let Some(shared) = self.0.get(s) {
            return shared.clone();
        }
        let shared = Text::from(s);
        self.0.insert(shared.clone());
        shared
    }

    /// The shared copy of `text`'s string: `text` itself when it is the first.
    pub fn share(&mut self, text: Text) -> Text {
        if let Some(shared) = self.0.get(&text) {
            return shared.clone();
        }
        self.0.insert(text.clone());
        text
    }
}

/// findings.json written before organisations has no `account`.
fn no_account() -> Text {
    Text::default()
}

/// A finding's stable id: `f-` and the first 16 hex digits of the SHA-256 of its account,
/// subject and control joined by a NUL byte (docs/findings-format.md). The same finding has the
/// same id in every run, every bundle and every document (findings.json and .csv, OSCAL, the
/// HTML anchors); a different account, subject or control gives another.
pub fn finding_id(account: &str, subject: &str, control: &str) -> String {
    FindingId::of(account, subject, control).to_string()
}

/// A [`finding_id`] as its number: what a report keeps for each of hundreds of thousands of
/// findings, written as the id (`f-` and 16 hex digits) where it is shown or serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingId(u64);

impl FindingId {
    pub fn of(account: &str, subject: &str, control: &str) -> FindingId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(account.as_bytes())
            .chain_update([0])
            .chain_update(subject.as_bytes())
            .chain_update([0])
            .chain_update(control.as_bytes())
            .finalize();
        let mut first = [0; 8];
        first.copy_from_slice(&digest[..8]);
        FindingId(u64::from_be_bytes(first))
    }
}

impl fmt::Display for FindingId {
    /// Sixteen hex digits, leading zeros kept: the first eight bytes, most significant first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "f-{:016x}", self.0)
    }
}

impl Serialize for FindingId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One finding's fields, borrowed from an owned [`Finding`] or a stored one ([`FindingRef`]):
/// what findings.json, findings.csv and `diff` read of a finding, neither copied. Serialises as
/// findings.json's finding.
#[derive(Clone, Copy)]
pub struct FindingView<'a> {
    pub subject: &'a Text,
    pub account: &'a Text,
    pub control: &'a Text,
    pub status: Status,
    pub severity: Severity,
    pub safeguards: &'a [String],
    pub policies: &'a [String],
    pub reason: &'a Text,
    pub evidence: Evidence<'a>,
    pub facts: &'a Facts,
    pub ephi: Option<bool>,
    pub ephi_basis: Option<&'a Text>,
}

/// A finding's evidence references: an owned finding's, whole, or a stored one's, in parts.
#[derive(Clone, Copy)]
pub enum Evidence<'a> {
    Whole(&'a [Text]),
    Stored(FindingRef<'a>),
}

impl Evidence<'_> {
    /// `each` applied to every reference, as one string, in order.
    pub fn map<T>(&self, mut each: impl FnMut(&str) -> T) -> Vec<T> {
        match self {
            Evidence::Whole(all) => all.iter().map(|r| each(r)).collect(),
            Evidence::Stored(f) => f.evidence().map(|r| each(&r.to_string())).collect(),
        }
    }
}

impl Serialize for Evidence<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Evidence::Whole(all) => all.serialize(serializer),
            Evidence::Stored(f) => serializer.collect_seq(f.evidence()),
        }
    }
}

impl<'a> From<&'a Finding> for FindingView<'a> {
    fn from(f: &'a Finding) -> Self {
        FindingView {
            subject: &f.subject,
            account: &f.account,
            control: &f.control,
            status: f.status,
            severity: f.severity,
            safeguards: &f.safeguards,
            policies: &f.policies,
            reason: &f.reason,
            evidence: Evidence::Whole(&f.evidence),
            facts: &f.facts,
            ephi: f.ephi,
            ephi_basis: f.ephi_basis.as_ref(),
        }
    }
}

impl<'a> From<FindingRef<'a>> for FindingView<'a> {
    fn from(f: FindingRef<'a>) -> Self {
        FindingView {
            subject: f.subject(),
            account: f.account(),
            control: f.control(),
            status: f.status(),
            severity: f.severity(),
            safeguards: f.safeguards(),
            policies: f.policies(),
            reason: f.reason(),
            evidence: Evidence::Stored(f),
            facts: f.facts(),
            ephi: f.ephi(),
            ephi_basis: f.ephi_basis(),
        }
    }
}

impl FindingView<'_> {
    /// The stable id ([`finding_id`]).
    pub fn id(&self) -> FindingId {
        FindingId::of(self.account, self.subject, self.control)
    }
}

impl Serialize for FindingView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// findings.json's member order: `id`, then the fields as declared.
        #[derive(Serialize)]
        struct Wire<'a> {
            id: String,
            subject: &'a str,
            account: &'a str,
            control: &'a str,
            status: Status,
            severity: Severity,
            safeguards: &'a [String],
            policies: &'a [String],
            reason: &'a str,
            evidence: Evidence<'a>,
            #[serde(skip_serializing_if = "Facts::is_empty")]
            facts: &'a Facts,
            #[serde(skip_serializing_if = "Option::is_none")]
            ephi: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ephi_basis: Option<&'a str>,
        }
        Wire {
            id: self.id().to_string(),
            subject: self.subject,
            account: self.account,
            control: self.control,
            status: self.status,
            severity: self.severity,
            safeguards: self.safeguards,
            policies: self.policies,
            reason: self.reason,
            evidence: self.evidence,
            facts: self.facts,
            ephi: self.ephi,
            ephi_basis: self.ephi_basis.map(Text::as_str),
        }
        .serialize(serializer)
    }
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FindingView::from(self).serialize(serializer)
    }
}

impl Finding {
    /// The stable id ([`finding_id`]).
    pub fn id(&self) -> String {
        finding_id(&self.account, &self.subject, &self.control)
    }

    /// A pass that is one setting away from a failure.
    pub fn is_latent(&self) -> bool {
        self.status == Status::Pass && !self.facts.neutralised_by.is_empty()
    }
}

/// Typed facts behind a finding's reason: what reports and `diff` read instead of parsing the
/// sentence (docs/findings-format.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// A grant to the public exists but these settings neutralise it (a latent exposure: one
    /// setting away from a failure). In order, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neutralised_by: Vec<Neutraliser>,
    /// The risk exception that matched this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Box<AppliedException>>,
    /// A KMS key finding's summary of the key (the same on each of the key's findings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Box<KeyFacts>>,
}

impl Facts {
    pub fn is_empty(&self) -> bool {
        self.neutralised_by.is_empty() && self.exception.is_none() && self.key.is_none()
    }
}

/// What the report's Keys part shows of a KMS key, in words (`unknown` where the evidence
/// could not be read).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFacts {
    /// `Enabled`, `Disabled`, `PendingDeletion (deleted on <date>)`, `deleted (NotFoundException)`, ...
    pub state: String,
    /// `on`, `on (every N days)`, `off`, `automatic (AWS managed key)`, `not applicable (...)`.
    pub rotation: String,
    /// `public`, `other accounts`, `this account only`, or `unknown`.
    pub decrypt: String,
    /// The subjects the key protects: ePHI buckets (`s3://...`) first, then the other in-scope
    /// buckets, then trail ARNs.
    pub protects: Vec<String>,
}

/// A setting that neutralises a public grant, named as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Neutraliser {
    /// Object Ownership `BucketOwnerEnforced`: ACLs are disabled.
    BucketOwnerEnforced,
    /// Block Public Access `IgnorePublicAcls` (bucket or account level).
    IgnorePublicAcls,
    /// Block Public Access `RestrictPublicBuckets` (bucket or account level).
    RestrictPublicBuckets,
}

/// Whether a risk exception still covers failures at the end of the review period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionState {
    /// Valid through its expiry date, which is on or after the period end: the failure is
    /// `excepted`.
    Active,
    /// Expired before the end of the review period: the failure stands.
    Expired,
}

/// A risk exception that matched a failing finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedException {
    /// The exception entry, e.g. `exceptions.yaml#/exceptions/2`.
    pub entry: String,
    pub state: ExceptionState,
    pub approver: String,
    /// The last day it is valid (YYYY-MM-DD).
    pub expires: String,
}

/// Where the findings came from: enough to tie a report to one exact snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRef {
    pub collected_at: String,
    /// For an organisation snapshot: its management account.
    pub account_id: String,
    /// SHA-256 over the snapshot's files (see `snapshot::digest`).
    pub digest: String,
    /// The AWS Organizations id (`o-...`), for organisation snapshots only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

/// Counts that let a reader see the state of the account at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub subjects: usize,
    pub findings: usize,
    pub by_status: BTreeMap<String, usize>,
    /// Failures (not excepted) by severity.
    pub failures_by_severity: BTreeMap<String, usize>,
    /// Per control id: counts by status.
    pub by_control: BTreeMap<String, BTreeMap<String, usize>>,
    /// Organisation snapshots only: per account id, counts by status (zeros kept).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, BTreeMap<String, usize>>,
}

/// The counts of a [`Summary`], kept as findings pass by (`evaluate` writes findings.json as it
/// judges, holding none of them), and whether any failure or unknown reached each severity.
/// Counted in arrays indexed by status and severity: hundreds of thousands of findings should
/// not mean as many string allocations.
#[derive(Debug, Default)]
pub struct Tally {
    findings: usize,
    by_status: [usize; 5],
    failures_by_severity: [usize; 5],
    /// Failures and errors by severity (what [`Gate::reaches`] asks).
    unresolved_by_severity: [usize; 5],
    by_control: BTreeMap<Text, [usize; 5]>,
    by_account: BTreeMap<Text, [usize; 5]>,
    /// The same bucket name may be a subject in two accounts of an organisation.
    subjects: FastSet<(Text, Text)>,
}

fn status_index(status: Status) -> usize {
    Status::ALL
        .iter()
        .position(|s| *s == status)
        .expect("listed")
}

fn severity_index(severity: Severity) -> usize {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .expect("listed")
}

impl Tally {
    pub fn add(&mut self, findings: &[Finding]) {
        // A batch is one bucket's findings, or a run of each trail's and key's: a subject is
        // looked up once per run, not once per finding.
        let mut last: Option<(&Text, &Text)> = None;
        for finding in findings {
            let subject = (&finding.account, &finding.subject);
            if last != Some(subject) {
                (self.subjects).insert((finding.account.clone(), finding.subject.clone()));
                last = Some(subject);
            }
            self.findings += 1;
            let status = status_index(finding.status);
            let severity = severity_index(finding.severity);
            self.by_status[status] += 1;
            if finding.status == Status::Fail {
                self.failures_by_severity[severity] += 1;
            }
            if matches!(finding.status, Status::Fail | Status::Error) {
                self.unresolved_by_severity[severity] += 1;
            }
            self.by_control.entry(finding.control.clone()).or_default()[status] += 1;
            self.by_account.entry(finding.account.clone()).or_default()[status] += 1;
        }
    }

    /// What a `--fail-on` gate needs of the findings counted.
    pub fn gate(&self) -> Gate {
        Gate {
            unresolved_by_severity: self.unresolved_by_severity,
        }
    }

    /// The summary; `accounts` (per account counts) only for an organisation.
    pub fn summary(&self, organisation: bool) -> Summary {
        let named = |counts: &[usize; 5], names: [&str; 5], keep_zero: bool| {
            names
                .iter()
                .zip(counts)
                .filter(|(_, n)| keep_zero || **n > 0)
                .map(|(name, n)| (name.to_string(), *n))
                .collect::<BTreeMap<String, usize>>()
        };
        let status_names = Status::ALL.map(Status::as_str);
        let by = |counts: &BTreeMap<Text, [usize; 5]>, keep_zero: bool| {
            (counts.iter())
                .map(|(key, counts)| (key.to_string(), named(counts, status_names, keep_zero)))
                .collect()
        };
        Summary {
            subjects: self.subjects.len(),
            findings: self.findings,
            by_status: named(&self.by_status, status_names, true),
            failures_by_severity: named(
                &self.failures_by_severity,
                Severity::ALL.map(Severity::as_str),
                true,
            ),
            by_control: by(&self.by_control, false),
            accounts: if organisation {
                by(&self.by_account, true)
            } else {
                BTreeMap::new()
            },
        }
    }
}

/// How many findings failed or could not be assessed, by severity: enough to tell whether a
/// `--fail-on` threshold is reached once the findings themselves are gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gate {
    unresolved_by_severity: [usize; 5],
}

impl Gate {
    /// True when some finding at or above `threshold` failed, or could not be assessed: an
    /// unknown is not allowed to slip through a gate that a failure would stop.
    pub fn reaches(&self, threshold: Severity) -> bool {
        (Severity::ALL.iter().zip(self.unresolved_by_severity))
            .any(|(severity, n)| n > 0 && severity.at_least(threshold))
    }
}

/// One security-relevant configuration change to a bucket, from CloudTrail (issue #7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The account of the bucket, in an organisation's timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub bucket: String,
    pub time: String,
    pub event: String,
    pub region: String,
    /// The caller's ARN (userIdentity.arn), when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `…WXYZ`: the last four characters of the access key id only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    /// The error code when the call was refused (an attempt, not a change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `root` (made by the account's root user) and/or `unidentified` (no principal recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    pub event_id: String,
    /// The event as recorded: `cloudtrail/<region>.json#/LookupEvents/ok/Events/<i>` (absent in
    /// findings.json written before it was added).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence: String,
}

/// The timeline, plus the regions whose events could not be read (so an empty timeline is
/// never mistaken for "no changes").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeline {
    pub changes: Vec<Change>,
    pub not_collected: Vec<String>,
}

/// The document `evaluate --format json` prints and every bundle holds as `findings.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingsReport {
    pub format: String,
    pub generated_at: String,
    pub snapshot: SnapshotRef,
    /// Every finding, compact ([`Store`]); serialised as the list of findings.
    pub findings: Store,
    pub summary: Summary,
    /// Who changed bucket security in the review period (docs/findings-format.md, `changes`).
    #[serde(default)]
    pub changes: Timeline,
    /// Who can read, write or manage each ePHI bucket (docs/findings-format.md,
    /// `access_review`).
    #[serde(default, skip_serializing_if = "AccessReview::is_empty")]
    pub access_review: AccessReview,
}

pub const FINDINGS_FORMAT: &str = "phi-audit-findings/1";

impl FindingsReport {
    pub fn new(generated_at: String, snapshot: SnapshotRef, findings: Vec<Finding>) -> Self {
        let mut tally = Tally::default();
        tally.add(&findings);
        let mut report = FindingsReport::counted(generated_at, snapshot, &tally);
        report.findings = findings.into_iter().collect();
        report
    }

    /// The document without its findings, its summary from `tally` (what a streamed
    /// findings.json holds besides the findings it wrote).
    pub fn counted(generated_at: String, snapshot: SnapshotRef, tally: &Tally) -> Self {
        let summary = tally.summary(snapshot.organization_id.is_some());
        FindingsReport {
            format: FINDINGS_FORMAT.to_string(),
            generated_at,
            snapshot,
            findings: Store::default(),
            summary,
            changes: Timeline::default(),
            access_review: AccessReview::default(),
        }
    }
}

/// Whether a principal can do something to an ePHI bucket.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// No policy allows it, or an explicit Deny takes it away.
    #[default]
    No,
    /// Allowed only under a condition (on the Allow, on a Deny that would remove it, or a
    /// policy phi-audit could not read).
    Conditional,
    Yes,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::No => "no",
            Access::Conditional => "conditional",
            Access::Yes => "yes",
        }
    }
}

/// One (ePHI bucket, IAM user or role) that can read, write or manage the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    pub account: String,
    /// `s3://bucket`.
    pub bucket: String,
    /// The user's or role's ARN.
    pub principal: String,
    /// `user` or `role`.
    #[serde(rename = "type")]
    pub kind: String,
    pub read: Access,
    pub write: Access,
    pub manage: Access,
    /// The deciding statements: `<policy ARN or user|group|role/<name>/inline/<policy>>#/Statement/<i>`,
    /// or `s3://bucket#/Statement/<i>` for the bucket policy.
    pub via: Vec<String>,
    /// Where each `via` statement is recorded, in the same order: the policy document in
    /// `iam/GetAccountAuthorizationDetails.json` (`…#/ok/Policies/3/PolicyVersionList/1/Document/Statement/0`),
    /// or the bucket's recorded GetBucketPolicy (whose policy is one string).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Why an answer is conditional, in words (an unreadable policy, a condition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The access review of an audit: assessed (with its entries) or not, per account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReview {
    /// Accounts whose identity evidence could not be read, with why: their review is
    /// "not assessed", never empty-and-clean.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_assessed: BTreeMap<String, String>,
    /// Accounts where no in-scope bucket carries an ePHI designation tag, so every in-scope
    /// bucket was reviewed as ePHI.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub every_bucket_counted: Vec<String>,
    /// In (account, bucket, principal) order.
    #[serde(default)]
    pub entries: Vec<AccessEntry>,
}

impl AccessReview {
    pub fn is_empty(&self) -> bool {
        self.not_assessed.is_empty()
            && self.every_bucket_counted.is_empty()
            && self.entries.is_empty()
    }
}
