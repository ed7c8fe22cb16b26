//! The filter facets of a report row (issue #18 item 2): what report.html's filter script reads
//! from a row's data attributes (`data-status`, `data-severity`, `data-spec`, `data-account`,
//! `data-ephi`, `data-bucket`; docs/bundle-layout.md "Pictures and filters in the report"). Each
//! facet is a space-separated list of the values that apply to the row. The template leaves
//! `data-ephi` and `data-bucket` off rows about no bucket (a row without an attribute is not
//! narrowed by that facet); an inventory row always carries every facet.

use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

use crate::audit::Scope;
use crate::findings::FindingRef;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RowFacets {
    pub status: String,
    pub severity: String,
    pub spec: String,
    pub account: String,
    /// `yes`, `no`, or both for a row of several buckets.
    pub ephi: String,
    /// Bucket names without `s3://`.
    pub bucket: String,
}

/// Sorted, once each, space-separated.
fn list<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = values.filter(|v| !v.is_empty()).collect();
    set.into_iter().collect::<Vec<_>>().join(" ")
}

impl RowFacets {
    /// The facets of a row listing `findings` (one finding group, or one bucket's findings);
    /// `ephi` is left for [`EphiIndex::facet`].
    pub fn of(findings: &[FindingRef<'_>]) -> RowFacets {
        RowFacets {
            status: list(findings.iter().map(|f| f.status().as_str())),
            severity: list(findings.iter().map(|f| f.severity().as_str())),
            spec: list(
                findings
                    .iter()
                    .flat_map(|f| f.safeguards().iter().map(String::as_str)),
            ),
            account: list(findings.iter().map(|f| f.account().as_str())),
            ephi: String::new(),
            bucket: list(
                findings
                    .iter()
                    .filter_map(|f| f.subject().strip_prefix("s3://")),
            ),
        }
    }
}

/// Which bucket holds ePHI (`evaluate::ephi`), by account and bucket name.
pub struct EphiIndex<'a>(HashMap<(&'a str, &'a str), bool>);

impl<'a> EphiIndex<'a> {
    pub fn of(scope: &'a Scope) -> EphiIndex<'a> {
        let mut map = HashMap::new();
        for account in &scope.accounts {
            for b in &account.buckets {
                map.insert((account.id.as_str(), b.name.as_str()), b.holds_ephi());
            }
        }
        EphiIndex(map)
    }

    pub fn holds(&self, account: &str, bucket: &str) -> bool {
        self.0.get(&(account, bucket)).copied().unwrap_or(false)
    }

    /// `yes`/`no` for the row's buckets (in any of its accounts); empty for a row of no bucket.
    pub fn facet(&self, facets: &RowFacets) -> String {
        let mut values = BTreeSet::new();
        for bucket in facets.bucket.split(' ').filter(|b| !b.is_empty()) {
            let ephi = facets
                .account
                .split(' ')
                .any(|account| self.holds(account, bucket));
            values.insert(if ephi { "yes" } else { "no" });
        }
        // "no" sorts before "yes": the order is fixed either way.
        values.into_iter().collect::<Vec<_>>().join(" ")
    }
}
