//! The findings an audit holds, compact: what every document of a bundle reads, sometimes more
//! than once, so their size is the size of a report (2.1 million findings in an organisation of
//! 100 accounts × 1,000 buckets).
//!
//! A finding is a [`Record`] of 32 bytes: indices into one table of distinct texts (its account,
//! subject, reason and the parts of its evidence references), the index of its control's names,
//! its status, severity and ePHI flag, and where its references and facts are. Each distinct
//! text is held once for the whole audit: a reason shared by ten thousand passes, a bucket's
//! evidence file named by its two dozen findings. An evidence reference is two texts, its file
//! and its pointer (`accounts/<id>/buckets/b.json` and `#/calls/GetBucketAcl`): the files are
//! a bucket's own, the pointers a few hundred for the whole audit. The records and references
//! are kept in fixed-size chunks, so the store never copies itself as it grows.
//!
//! A finding is read through a [`FindingRef`], a copyable handle whose methods give what
//! [`Finding`]'s fields hold, and which serialises exactly as the [`Finding`] it was made from.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::{Facts, FastMap, Finding, FindingId, Names, Severity, Status, Text};

/// Records and references per chunk.
const CHUNK: usize = 1 << 16;

/// "None" for an optional index.
const NONE: u32 = u32::MAX;

/// One finding, in indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    account: u32,
    subject: u32,
    reason: u32,
    /// The first of its references in [`Store::references`].
    evidence: u32,
    /// Its facts in [`Store::facts`], or [`NONE`] when it has none.
    facts: u32,
    /// Its ePHI basis text, or [`NONE`].
    ephi_basis: u32,
    control: u16,
    /// How many references it has, from `evidence` on.
    evidence_len: u8,
    status: Status,
    severity: Severity,
    ephi: Option<bool>,
}

/// An evidence reference: its file and its pointer (with the `#`, or empty), as text indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts {
    file: u32,
    pointer: u32,
}

/// A control's id and names, shared by its findings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ControlNames {
    id: Text,
    safeguards: Names,
    policies: Names,
}

/// A vector kept in chunks of [`CHUNK`] items: it grows without moving what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunked<T>(Vec<Vec<T>>);

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked(Vec::new())
    }
}

impl<T> Chunked<T> {
    fn len(&self) -> usize {
        self.0
            .last()
            .map_or(0, |last| (self.0.len() - 1) * CHUNK + last.len())
    }

    fn push(&mut self, item: T) {
        if self.0.last().is_none_or(|last| last.len() == CHUNK) {
            self.0.push(Vec::with_capacity(CHUNK));
        }
        self.0.last_mut().expect("a chunk with room").push(item);
    }

    fn get(&self, i: usize) -> &T {
        &self.0[i / CHUNK][i % CHUNK]
    }

    /// The last chunk without its unused room.
    fn shrink(&mut self) {
        if let Some(last) = self.0.last_mut() {
            last.shrink_to_fit();
        }
    }
}

/// The findings of an audit, in their final order. Built with [`Store::push`]; read with
/// [`Store::iter`] and [`Store::get`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Store {
    records: Chunked<Record>,
    references: Chunked<Parts>,
    texts: Vec<Text>,
    controls: Vec<ControlNames>,
    facts: Vec<Facts>,
    /// Each text's index while the store is built (empty once [`Store::finish`]ed).
    text_index: FastMap<Text, u32>,
}

impl Store {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The finding at `i`, in the store's order.
    pub fn get(&self, i: usize) -> FindingRef<'_> {
        assert!(i < self.len(), "finding {i} of {}", self.len());
        FindingRef {
            store: self,
            index: i as u32,
        }
    }

    /// Every finding, in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            store: self,
            next: 0,
            len: index(self.len()),
        }
    }

    /// Adds `finding` after the others.
    pub fn push(&mut self, finding: Finding) {
        let evidence = self.references.len();
        assert!(
            finding.evidence.len() <= u8::MAX as usize,
            "a finding cites at most 255 references"
        );
        for reference in &finding.evidence {
            let (file, pointer) = match reference.find('#') {
                Some(at) => reference.split_at(at),
                None => (reference.as_str(), ""),
            };
            let parts = Parts {
                file: self.text(file),
                pointer: self.text(pointer),
            };
            self.references.push(parts);
        }
        let record = Record {
            account: self.shared(finding.account),
            subject: self.shared(finding.subject),
            reason: self.shared(finding.reason),
            evidence: index(evidence),
            facts: if finding.facts.is_empty() {
                NONE
            } else {
                // A copy made here, for the reason `shared` copies.
                self.facts.push(finding.facts.clone());
                index(self.facts.len() - 1)
            },
            ephi_basis: finding.ephi_basis.map_or(NONE, |basis| self.shared(basis)),
            control: self.control(finding.control, finding.safeguards, finding.policies),
            evidence_len: finding.evidence.len() as u8,
            status: finding.status,
            severity: finding.severity,
            ephi: finding.ephi,
        };
        self.records.push(record);
    }

    /// Done adding: the lookup tables used to share texts are dropped.
    pub fn finish(&mut self) {
        self.text_index = FastMap::default();
        self.records.shrink();
        self.references.shrink();
        self.texts.shrink_to_fit();
        self.facts.shrink_to_fit();
    }

    /// The index of `text`, added on first use.
    fn text(&mut self, text: &str) -> u32 {
        if let Some(&i) = self.text_index.get(text) {
            return i;
        }
        let i = index(self.texts.len());
        let text = Text::from(text);
        self.texts.push(text.clone());
        self.text_index.insert(text, i);
        i
    }

    /// The index of `text`'s string, copied on first use. Not `text` itself: it was made on
    /// the judging thread among the evidence it read, and kept there it would hold on to memory
    /// the rest of which is freed.
    fn shared(&mut self, text: Text) -> u32 {
        match self.text_index.get(&text) {
            Some(&i) => i,
            None => self.text(&text),
        }
    }

    /// The index of the control `id`; its names are the first finding's (a control's findings
    /// all carry the catalog's).
    fn control(&mut self, id: Text, safeguards: Names, policies: Names) -> u16 {
        let found = (self.controls.iter())
            .position(|c| c.id == id && c.safeguards == safeguards && c.policies == policies);
        let i = found.unwrap_or_else(|| {
            self.controls.push(ControlNames {
                id,
                safeguards,
                policies,
            });
            self.controls.len() - 1
        });
        u16::try_from(i).expect("fewer than 65,536 controls")
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .filter(|i| *i != NONE)
        .expect("fewer than 4,294,967,295 findings, references and texts")
}

impl<'a> IntoIterator for &'a Store {
    type Item = FindingRef<'a>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// A [`Store`]'s findings in order.
#[derive(Clone)]
pub struct Iter<'a> {
    store: &'a Store,
    next: u32,
    len: u32,
}

impl<'a> Iterator for Iter<'a> {
    type Item = FindingRef<'a>;

    fn next(&mut self) -> Option<FindingRef<'a>> {
        if self.next == self.len {
            return None;
        }
        self.next += 1;
        Some(FindingRef {
            store: self.store,
            index: self.next - 1,
        })
    }
}

impl FromIterator<Finding> for Store {
    fn from_iter<I: IntoIterator<Item = Finding>>(findings: I) -> Self {
        let mut store = Store::default();
        for finding in findings {
            store.push(finding);
        }
        store.finish();
        store
    }
}

impl Serialize for Store {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Store {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Finding>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// One finding of a [`Store`]: what its fields hold, read through methods.
#[derive(Clone, Copy)]
pub struct FindingRef<'a> {
    store: &'a Store,
    index: u32,
}

static NO_FACTS: Facts = Facts {
    neutralised_by: Vec::new(),
    exception: None,
    key: None,
};

impl<'a> FindingRef<'a> {
    fn record(&self) -> &'a Record {
        self.store.records.get(self.index as usize)
    }

    /// Its place in the store ([`Store::get`]).
    pub fn index(&self) -> usize {
        self.index as usize
    }

    fn text(&self, i: u32) -> &'a Text {
        &self.store.texts[i as usize]
    }

    fn names(&self) -> &'a ControlNames {
        &self.store.controls[self.record().control as usize]
    }

    /// `s3://bucket`, `account:<id>`, a trail or key ARN or `policy:<name>`.
    pub fn subject(&self) -> &'a Text {
        self.text(self.record().subject)
    }

    pub fn account(&self) -> &'a Text {
        self.text(self.record().account)
    }

    pub fn control(&self) -> &'a Text {
        &self.names().id
    }

    pub fn status(&self) -> Status {
        self.record().status
    }

    pub fn severity(&self) -> Severity {
        self.record().severity
    }

    pub fn safeguards(&self) -> &'a Names {
        &self.names().safeguards
    }

    pub fn policies(&self) -> &'a Names {
        &self.names().policies
    }

    pub fn reason(&self) -> &'a Text {
        self.text(self.record().reason)
    }

    /// Its evidence references, in order.
    pub fn evidence(&self) -> impl ExactSizeIterator<Item = Reference<'a>> + Clone + 'a {
        let (store, start) = (self.store, self.record().evidence as usize);
        (start..start + self.record().evidence_len as usize).map(move |i| {
            let parts = store.references.get(i);
            Reference {
                file: &store.texts[parts.file as usize],
                pointer: &store.texts[parts.pointer as usize],
            }
        })
    }

    pub fn facts(&self) -> &'a Facts {
        match self.record().facts {
            NONE => &NO_FACTS,
            i => &self.store.facts[i as usize],
        }
    }

    pub fn ephi(&self) -> Option<bool> {
        self.record().ephi
    }

    pub fn ephi_basis(&self) -> Option<&'a Text> {
        match self.record().ephi_basis {
            NONE => None,
            i => Some(self.text(i)),
        }
    }

    /// The stable id ([`super::finding_id`]).
    pub fn id(&self) -> String {
        self.id_number().to_string()
    }

    /// The stable id as its number.
    pub fn id_number(&self) -> FindingId {
        FindingId::of(self.account(), self.subject(), self.control())
    }

    /// A pass that is one setting away from a failure.
    pub fn is_latent(&self) -> bool {
        self.status() == Status::Pass && !self.facts().neutralised_by.is_empty()
    }

    /// The finding as an owned value.
    pub fn to_finding(&self) -> Finding {
        Finding {
            subject: self.subject().clone(),
            account: self.account().clone(),
            control: self.control().clone(),
            status: self.status(),
            severity: self.severity(),
            safeguards: self.safeguards().clone(),
            policies: self.policies().clone(),
            reason: self.reason().clone(),
            evidence: self.evidence().map(|r| r.to_text()).collect(),
            facts: self.facts().clone(),
            ephi: self.ephi(),
            ephi_basis: self.ephi_basis().cloned(),
        }
    }
}

impl fmt::Debug for FindingRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_finding(), f)
    }
}

impl Serialize for FindingRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        super::FindingView::from(*self).serialize(serializer)
    }
}

/// One evidence reference of a stored finding: its file and its pointer (`#/calls/X`, or empty
/// when the reference names a whole file). Displays as the reference it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    pub file: &'a Text,
    pub pointer: &'a Text,
}

impl Reference<'_> {
    /// The reference as one string.
    pub fn to_text(self) -> Text {
        Text::from(self.to_string())
    }

    /// Whether the reference, as one string, starts with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.file.starts_with(prefix)
            || (prefix.starts_with(self.file.as_str())
                && self.pointer.starts_with(&prefix[self.file.len()..]))
    }
}

impl fmt::Display for Reference<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file)?;
        f.write_str(self.pointer)
    }
}

impl Serialize for Reference<'_> {
    /// As one string, in one call: a serialiser that writes a string in parts would cut a
    /// deflated findings.json's input elsewhere, and its compressed bytes would change.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const ON_STACK: usize = 256;
        let (file, pointer) = (self.file.as_bytes(), self.pointer.as_bytes());
        let len = file.len() + pointer.len();
        if len > ON_STACK {
            return serializer.serialize_str(&self.to_string());
        }
        let mut joined = [0; ON_STACK];
        joined[..file.len()].copy_from_slice(file);
        joined[file.len()..len].copy_from_slice(pointer);
        serializer.serialize_str(std::str::from_utf8(&joined[..len]).expect("two strings joined"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{AppliedException, ExceptionState, Neutraliser};

    fn finding(subject: &str, control: &str, evidence: &[&str]) -> Finding {
        Finding {
            subject: Text::from(subject),
            account: Text::from("111122223333"),
            control: Text::from(control),
            status: Status::Fail,
            severity: Severity::High,
            safeguards: vec!["164.312(a)(1)".to_string()].into(),
            policies: vec!["Access Control Policy".to_string()].into(),
            reason: Text::from("Anyone can read it."),
            evidence: evidence.iter().map(|e| Text::from(*e)).collect(),
            facts: Facts::default(),
            ephi: Some(true),
            ephi_basis: Some(Text::from("tag:phi=true")),
        }
    }

    #[test]
    fn a_stored_finding_reads_and_serialises_as_the_finding_it_was() {
        let mut with_facts = finding("s3://b", "s3.world-readable", &["b.json"]);
        with_facts.status = Status::Excepted;
        with_facts.ephi = None;
        with_facts.ephi_basis = None;
        with_facts.facts.neutralised_by = vec![Neutraliser::IgnorePublicAcls];
        with_facts.facts.exception = Some(Box::new(AppliedException {
            entry: "exceptions.yaml#/exceptions/0".to_string(),
            state: ExceptionState::Active,
            approver: "a".to_string(),
            expires: "2027-01-01".to_string(),
        }));
        let findings = vec![
            finding(
                "s3://a",
                "s3.world-readable",
                &[
                    "buckets/a.json#/calls/GetBucketAcl",
                    "buckets/a.json#/x#y",
                    "",
                ],
            ),
            with_facts,
            finding("s3://a", "s3.encryption", &[]),
        ];
        let store: Store = findings.iter().cloned().collect();
        assert_eq!(store.len(), 3);
        let read: Vec<Finding> = store.iter().map(|f| f.to_finding()).collect();
        assert_eq!(read, findings);
        assert_eq!(
            serde_json::to_string_pretty(&store).unwrap(),
            serde_json::to_string_pretty(&findings).unwrap()
        );
        let back: Store = serde_json::from_str(&serde_json::to_string(&findings).unwrap()).unwrap();
        assert_eq!(back, store);
        assert_eq!(store.get(1).id(), findings[1].id());
        assert!(store.get(2).evidence().next().is_none());
    }

    #[test]
    fn texts_are_held_once_and_records_span_chunks() {
        let mut store = Store::default();
        for i in 0..CHUNK + 10 {
            let name = format!("s3://b{}", i % 3);
            store.push(finding(
                &name,
                "s3.c",
                &["accounts/1/buckets/b.json#/calls/A"],
            ));
        }
        store.finish();
        assert_eq!(store.len(), CHUNK + 10);
        // Three subjects, one account, one reason, one basis, one file and one pointer.
        assert_eq!(store.texts.len(), 8);
        assert_eq!(store.controls.len(), 1);
        let last = store.get(CHUNK + 9);
        assert_eq!(last.subject(), &format!("s3://b{}", (CHUNK + 9) % 3));
        let reference = last.evidence().next().unwrap();
        assert_eq!(reference.to_string(), "accounts/1/buckets/b.json#/calls/A");
        assert!(reference.starts_with("accounts/1/buckets/b.json#/ca"));
        assert!(reference.starts_with("accounts/"));
        assert!(!reference.starts_with("accounts/1/buckets/b.json#/x"));
    }
}
