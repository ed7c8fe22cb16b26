//! The report's rows of one bucket each: Appendix A's inventory ([`BucketRow`]) and the heat
//! map's lines (`charts`). There is one per bucket, and at 100 accounts × 1,000 buckets, kept as
//! strings for the whole run, they were a quarter of the report model's memory. So a bucket is
//! kept as its place in the audit, where its scope entry is and which of the store's findings
//! are its own ([`BucketIndex`], 4 bytes a finding), and its row is made when a renderer reaches
//! it, a slice at a time ([`BucketRows`]).
//!
//! Buckets are numbered in the scope's order: account by account, each account's buckets as
//! listed. A bucket's findings are those whose account is its account and whose subject is
//! `s3://` and its name, in the store's order.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::facets::RowFacets;
use super::model::{ephi_cell, BucketRow, StatusCounts};
use crate::audit::{AccountResult, Audit};
use crate::evaluate::names::mask_identifiers;
use crate::findings::{FindingRef, Severity, Status, Store};
use crate::snapshot::{BucketListing, Evidence};

/// Where each bucket is in the scope, and which findings are its own.
#[derive(Debug, Default)]
pub struct BucketIndex {
    /// The number of each account's first bucket, and one past the last bucket.
    account_starts: Vec<u32>,
    /// Bucket `i`'s findings are `findings[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    /// Indices into the audit's findings ([`Store::get`]), bucket by bucket.
    findings: Vec<u32>,
}

/// Marks a finding about no bucket of the scope.
const NO_BUCKET: u32 = u32::MAX;

impl BucketIndex {
    pub fn of(audit: &Audit) -> BucketIndex {
        let mut account_starts = vec![0u32];
        let mut numbers: HashMap<(&str, &str), u32> = HashMap::new();
        let mut count = 0u32;
        for account in &audit.scope.accounts {
            for b in &account.buckets {
                numbers.insert((account.id.as_str(), b.name.as_str()), count);
                count += 1;
            }
            account_starts.push(count);
        }
        // A bucket's findings come one after another: the last one's number is asked again.
        let store = &audit.findings.findings;
        let mut last: Option<(&str, &str, u32)> = None;
        let bucket_of: Vec<u32> = (store.iter())
            .map(|f| {
                let Some(name) = f.subject().strip_prefix("s3://") else {
                    return NO_BUCKET;
                };
                let account = f.account().as_str();
                match last {
                    Some((a, n, number)) if a == account && n == name => number,
                    _ => {
                        let number = numbers.get(&(account, name)).copied().unwrap_or(NO_BUCKET);
                        last = Some((account, name, number));
                        number
                    }
                }
            })
            .collect();
        let mut starts = vec![0u32; count as usize + 1];
        for &b in bucket_of.iter().filter(|&&b| b != NO_BUCKET) {
            starts[b as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut findings = vec![0u32; starts[count as usize] as usize];
        for (f, &b) in bucket_of
            .iter()
            .enumerate()
            .filter(|(_, &b)| b != NO_BUCKET)
        {
            findings[next[b as usize] as usize] = f as u32;
            next[b as usize] += 1;
        }
        BucketIndex {
            account_starts,
            starts,
            findings,
        }
    }

    /// How many buckets the scope lists.
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bucket `i`'s account and scope entry.
    pub fn bucket<'a>(&self, audit: &'a Audit, i: usize) -> (&'a AccountResult, &'a BucketListing) {
        let account = self.account_starts[1..].partition_point(|&start| start as usize <= i);
        let first = self.account_starts[account] as usize;
        let account = &audit.scope.accounts[account];
        (account, &account.buckets[i - first])
    }

    /// Bucket `i`'s findings, in the store's order.
    pub fn findings<'s>(
        &'s self,
        i: usize,
        store: &'s Store,
    ) -> impl Iterator<Item = FindingRef<'s>> + 's {
        let range = self.starts[i] as usize..self.starts[i + 1] as usize;
        self.findings[range].iter().map(|&f| store.get(f as usize))
    }
}

/// The audit with its bucket index: each bucket's row, made when asked for.
#[derive(Clone)]
pub struct BucketRows<'a> {
    pub audit: &'a Audit,
    pub index: Arc<BucketIndex>,
}

impl fmt::Debug for BucketRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BucketRows({} buckets)", self.index.len())
    }
}

impl<'a> BucketRows<'a> {
    pub fn of(audit: &'a Audit) -> BucketRows<'a> {
        BucketRows {
            audit,
            index: Arc::new(BucketIndex::of(audit)),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bucket `i`'s account and scope entry.
    pub fn bucket(&self, i: usize) -> (&'a AccountResult, &'a BucketListing) {
        self.index.bucket(self.audit, i)
    }

    /// Bucket `i`'s findings.
    pub fn findings(&self, i: usize) -> impl Iterator<Item = FindingRef<'_>> + '_ {
        self.index.findings(i, &self.audit.findings.findings)
    }

    /// How bucket `i` is named in a row: `<account> / <bucket>` in an organisation, else the
    /// bucket's name; as its parts, so that rows can be ordered by it without making it.
    pub fn label_parts(&self, i: usize) -> [&'a str; 3] {
        let (account, b) = self.bucket(i);
        match self.audit.scope.organisation {
            Some(_) => [&account.id, " / ", &b.name],
            None => ["", "", &b.name],
        }
    }

    /// [`BucketRows::label_parts`] as one string.
    pub fn label(&self, i: usize) -> String {
        self.label_parts(i).concat()
    }

    /// Every bucket's inventory row, in order (a clone starts again from the first).
    pub fn iter(&self) -> impl Iterator<Item = BucketRow> + Clone + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    /// Appendix A's row of bucket `i`: in scope or not, with its findings counted.
    pub fn row(&self, i: usize) -> BucketRow {
        let (_, b) = self.bucket(i);
        let mut counts = StatusCounts::default();
        let mut worst: Option<Severity> = None;
        for f in self.findings(i) {
            counts.add(f.status());
            if f.status() == Status::Fail {
                worst = Some(worst.map_or(f.severity(), |s| s.min(f.severity())));
            }
        }
        BucketRow {
            name: self.label(i),
            region: b.region.clone(),
            ephi: match &b.ephi {
                None => "-".to_string(),
                Some(d) => ephi_cell(d),
            },
            in_scope: in_scope_cell(b),
            tags: tags_cell(b),
            counts,
            worst: worst.map_or_else(|| "-".to_string(), |s| s.as_str().to_string()),
        }
    }

    /// What report.html's filters read from bucket `i`'s inventory row. A bucket without
    /// findings (out of scope) still names its bucket and account.
    pub fn facets(&self, i: usize) -> RowFacets {
        let (account, b) = self.bucket(i);
        let findings: Vec<FindingRef<'_>> = self.findings(i).collect();
        let mut facets = RowFacets::of(&findings);
        facets.bucket = b.name.clone();
        facets.account = account.id.clone();
        facets.ephi = if b.holds_ephi() { "yes" } else { "no" }.to_string();
        facets
    }
}

/// `yes`, or `no` with the reason the scope left it out.
fn in_scope_cell(b: &BucketListing) -> String {
    if b.in_scope {
        return "yes".to_string();
    }
    match &b.scope_reason {
        Some(reason) => format!("no ({reason})"),
        None => "no".to_string(),
    }
}

/// The tags as collected, `key=value; …`, with any identifier in them masked (evidence/ keeps
/// them whole).
fn tags_cell(b: &BucketListing) -> String {
    match &b.tags {
        Evidence::Found(tags) => {
            let shown = (tags.iter())
                .map(|t| format!("{}={}", t.key, t.value))
                .collect::<Vec<_>>()
                .join("; ");
            mask_identifiers(&shown).into_owned()
        }
        Evidence::NotConfigured => "(none)".to_string(),
        Evidence::Unavailable(why) => format!("(unknown: {why})"),
    }
}
