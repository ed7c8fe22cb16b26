//! The report's "Access review" section: per ePHI bucket, who (IAM user or role) can read, write
//! or manage it — yes or conditional — through which statements (each a bundle reference to
//! where the policy is recorded), with the principal's identity findings beside it (no MFA, an
//! old key, unused access): the quarterly access review an auditor asks for, from
//! findings.json's `access_review` and the `iam.*` findings.
//!
//! Size: a principal that reaches most of an account's ePHI buckets the same way (the same
//! rights through the same statements, e.g. AdministratorAccess) is listed once, above the
//! buckets, with the buckets it does not reach that way; each bucket then lists only its other
//! principals. A 2,000-bucket account with two administrators is two rows plus each bucket's
//! own grants, not 4,000 rows. An account or bucket whose review could not be made says so and
//! why, never an empty table that reads as "nobody".

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::model::ephi_cell;
use super::refs::{BundleRefs, EvidenceLink};
use crate::audit::Audit;
use crate::findings::{Access, AccessEntry, FindingRef, Status, Store};

/// The section's anchor.
pub const ACCESS_ANCHOR: &str = "access-review";
/// The safeguard the review evidences (each row's `data-spec`, with its identity findings').
const ACCESS_SPEC: &str = "164.312(a)(1)";
/// A principal is listed once for the account when one way of access covers at least this
/// many of its ePHI buckets, and more than half of them.
const FOLD_AT_LEAST: usize = 3;
/// A folded row names the buckets it does not cover up to this many.
const EXCEPTIONS_LISTED: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct AccessView {
    pub anchor: String,
    pub intro: String,
    pub accounts: Vec<AccountAccess>,
}

/// One account's review.
#[derive(Debug, Clone, Serialize)]
pub struct AccountAccess {
    pub account: String,
    /// "Account 111122223333" in an organisation report, empty otherwise.
    pub heading: String,
    /// Why the account's review was not made; when set, nothing else is shown for it.
    pub not_assessed: String,
    /// How many ePHI buckets, principals and rows; which buckets count as ePHI.
    pub note: String,
    /// Principals listed once for most (or every) ePHI bucket of the account.
    pub broad: Vec<AccessRow>,
    /// Buckets with principals of their own, or whose review is incomplete.
    pub buckets: Vec<BucketAccess>,
    /// ePHI buckets reached only by the principals in `broad`.
    pub only_broad: Vec<String>,
    /// ePHI buckets no IAM user or role of the account can read, write or manage.
    pub nobody: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BucketAccess {
    pub name: String,
    /// `yes (phi=true)`: why it counts as ePHI.
    pub ephi: String,
    /// Why part of the review is missing (its bucket policy could not be read), or empty.
    pub note: String,
    pub rows: Vec<AccessRow>,
    /// "Also: user/it-admin (listed above)", when broad principals reach it too.
    pub also: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessRow {
    pub principal: String,
    /// `user/dr-patel`, `role/service-role/ehr-export-job`.
    pub name: String,
    pub kind: String,
    pub read: String,
    pub write: String,
    pub manage: String,
    /// For a broad row: which buckets it covers ("every ePHI bucket (16)").
    pub reach: String,
    pub via: Vec<ViaLink>,
    /// Why an answer is conditional.
    pub notes: String,
    /// The principal's identity findings that are not passes, each linking to its row.
    pub identity: Vec<IdentityItem>,
    /// The same, as one line (the PDF).
    pub identity_text: String,
    /// The data attributes of shared-conventions.md.
    pub data_status: String,
    pub data_severity: String,
    pub data_spec: String,
    pub data_account: String,
    pub data_bucket: String,
}

/// One deciding statement and where it is recorded in the bundle.
#[derive(Debug, Clone, Serialize)]
pub struct ViaLink {
    pub via: String,
    /// The same, short: `AdministratorAccess, statement 0`, `bucket policy, statement 1`.
    pub label: String,
    pub evidence: EvidenceLink,
}

#[derive(Debug, Clone, Serialize)]
pub struct IdentityItem {
    pub text: String,
    /// The finding's id (its row's anchor in report.html).
    pub anchor: String,
}

/// A short name for an identity control's failure.
fn short_label(control: &str) -> &str {
    match control {
        "iam.ephi-user-without-mfa" => "no MFA",
        "iam.ephi-access-key-not-rotated" => "access key not rotated in 90 days",
        "iam.ephi-access-unused" => "unused for 90 days",
        "iam.ephi-access-unscoped" => "unscoped grant (Resource *)",
        other => other,
    }
}

/// `arn:aws:iam::1:user/x` → `user/x`.
fn short_name(arn: &str) -> String {
    for kind in ["user/", "role/"] {
        if let Some((_, rest)) = arn.split_once(&format!(":{kind}")) {
            return format!("{kind}{rest}");
        }
    }
    arn.to_string()
}

/// `arn:aws:iam::aws:policy/AdministratorAccess#/Statement/0` → `AdministratorAccess, statement 0`;
/// `group/doctors/inline/read#/Statement/1` → `group/doctors inline read, statement 1`;
/// `s3://b#/Statement/2` → `bucket policy, statement 2`.
pub(crate) fn via_label(via: &str) -> String {
    let (source, pointer) = via.split_once('#').unwrap_or((via, ""));
    let statement = pointer
        .strip_prefix("/Statement/")
        .map(|i| format!(", statement {i}"))
        .unwrap_or_default();
    let name = if source.starts_with("s3://") {
        "bucket policy".to_string()
    } else if let Some((_, policy)) = source.split_once(":policy/") {
        policy.rsplit('/').next().unwrap_or(policy).to_string()
    } else {
        source.replacen("/inline/", " inline ", 1)
    };
    format!("{name}{statement}")
}

/// The identity findings of each (account, principal).
struct Identity<'a> {
    by_principal: BTreeMap<(&'a str, &'a str), Vec<FindingRef<'a>>>,
    /// Accounts whose identity checks could not be made: the controls in error.
    unassessed: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Identity<'a> {
    fn of(findings: &'a Store) -> Identity<'a> {
        let mut by_principal: BTreeMap<_, Vec<FindingRef<'_>>> = BTreeMap::new();
        let mut unassessed: BTreeMap<_, Vec<&str>> = BTreeMap::new();
        for f in (findings.iter()).filter(|f| f.control().starts_with("iam.ephi-")) {
            if f.subject().starts_with("account:") {
                if f.status() == Status::Error {
                    unassessed
                        .entry(f.account().as_str())
                        .or_default()
                        .push(f.control());
                }
            } else {
                (by_principal.entry((f.account().as_str(), f.subject().as_str())))
                    .or_default()
                    .push(f);
            }
        }
        Identity {
            by_principal,
            unassessed,
        }
    }
}

fn access_word(access: Access) -> String {
    access.as_str().to_string()
}

/// Everything of a row but its place (bucket or reach).
fn row(entry: &AccessEntry, identity: &Identity, refs: &BundleRefs, buckets: &str) -> AccessRow {
    let findings = (identity.by_principal)
        .get(&(&*entry.account, entry.principal.as_str()))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut items: Vec<IdentityItem> = (findings.iter())
        .filter(|f| !matches!(f.status(), Status::Pass | Status::NotApplicable))
        .map(|f| IdentityItem {
            text: match f.status() {
                Status::Fail => short_label(f.control()).to_string(),
                other => format!("{} ({})", short_label(f.control()), other.as_str()),
            },
            anchor: f.id(),
        })
        .collect();
    if let Some(controls) = identity.unassessed.get(&*entry.account) {
        items.push(IdentityItem {
            text: format!("not assessed: {}", controls.join(", ")),
            anchor: String::new(),
        });
    }
    let worst = findings
        .iter()
        .map(|f| f.status())
        .min_by_key(|s| status_rank(*s));
    let severity = (findings.iter())
        .filter(|f| f.status() == Status::Fail)
        .map(|f| f.severity())
        .min();
    let mut specs: BTreeSet<&str> = BTreeSet::from([ACCESS_SPEC]);
    specs.extend(
        (findings.iter())
            .filter(|f| f.status() != Status::Pass)
            .flat_map(|f| f.safeguards().iter().map(String::as_str)),
    );
    AccessRow {
        principal: entry.principal.clone(),
        name: short_name(&entry.principal),
        kind: entry.kind.clone(),
        read: access_word(entry.read),
        write: access_word(entry.write),
        manage: access_word(entry.manage),
        reach: String::new(),
        via: (entry.via.iter().enumerate())
            .map(|(i, via)| ViaLink {
                via: via.clone(),
                label: via_label(via),
                evidence: refs.link(entry.evidence.get(i).map_or("", String::as_str)),
            })
            .collect(),
        notes: entry.notes.join("; "),
        identity_text: if items.is_empty() {
            "none".to_string()
        } else {
            (items.iter().map(|i| i.text.as_str()))
                .collect::<Vec<_>>()
                .join("; ")
        },
        identity: items,
        data_status: worst.map(|s| s.as_str().to_string()).unwrap_or_default(),
        data_severity: severity.map(|s| s.as_str().to_string()).unwrap_or_default(),
        data_spec: specs.into_iter().collect::<Vec<_>>().join(" "),
        data_account: entry.account.clone(),
        data_bucket: buckets.to_string(),
    }
}

/// Worst first: fail, error, excepted, pass, not applicable.
fn status_rank(status: Status) -> u8 {
    match status {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Excepted => 2,
        Status::Pass => 3,
        Status::NotApplicable => 4,
    }
}

/// How a principal reaches a bucket: rights, statements and notes.
type Way<'a> = (Access, Access, Access, &'a [String], &'a [String]);

fn way(entry: &AccessEntry) -> Way<'_> {
    (
        entry.read,
        entry.write,
        entry.manage,
        &entry.via,
        &entry.notes,
    )
}

impl AccessView {
    pub fn build(audit: &Audit) -> AccessView {
        let review = &audit.findings.access_review;
        let refs = BundleRefs::new(audit);
        let identity = Identity::of(&audit.findings.findings);
        let organisation = audit.scope.organisation.is_some();
        let mut accounts = Vec::new();
        for account in audit.scope.accounts.iter() {
            if account.not_collected.is_some() {
                continue;
            }
            let entries: Vec<&AccessEntry> = (review.entries.iter())
                .filter(|e| e.account == account.id)
                .collect();
            let ephi: Vec<(String, String)> = (account.buckets.iter())
                .filter(|b| b.in_scope)
                .filter_map(|b| {
                    let d = b.ephi.as_ref().filter(|d| d.ephi)?;
                    Some((b.name.clone(), ephi_cell(d)))
                })
                .collect();
            let not_assessed = review
                .not_assessed
                .get(&format!("account:{}", account.id))
                .cloned()
                .unwrap_or_default();
            let counted = review.every_bucket_counted.contains(&account.id);
            accounts.push(account_access(
                &account.id,
                organisation,
                not_assessed,
                counted,
                &ephi,
                &entries,
                &review.not_assessed,
                &identity,
                &refs,
            ));
        }
        AccessView {
            anchor: ACCESS_ANCHOR.to_string(),
            intro: "Who can reach each ePHI bucket: every IAM user and role of the account that can read its objects (s3:GetObject), write or delete them (s3:PutObject, s3:DeleteObject) or manage its permissions (s3:PutBucketPolicy, s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPublicAccessBlock), yes or conditional, through which statements (each named as findings.json's `via` and linked to where the policy is recorded under evidence/), with the principal's identity findings beside it. A principal that reaches most of the ePHI buckets the same way is listed once, above the buckets. What the review does not cover (SCPs, session policies, KMS key policies, ACL grants to IAM identities, other accounts' principals) is in the method appendix; access-review.csv has every row.".to_string(),
            accounts,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn account_access(
    account: &str,
    organisation: bool,
    not_assessed: String,
    counted: bool,
    ephi: &[(String, String)],
    entries: &[&AccessEntry],
    bucket_notes: &BTreeMap<String, String>,
    identity: &Identity,
    refs: &BundleRefs,
) -> AccountAccess {
    let heading = if organisation {
        format!("Account {account}")
    } else {
        String::new()
    };
    let mut out = AccountAccess {
        account: account.to_string(),
        heading,
        not_assessed,
        note: String::new(),
        broad: Vec::new(),
        buckets: Vec::new(),
        only_broad: Vec::new(),
        nobody: Vec::new(),
    };
    if !out.not_assessed.is_empty() {
        return out;
    }
    // Per principal, its most common way of reaching the buckets, when broad enough to fold.
    let mut ways: BTreeMap<&str, BTreeMap<Way, Vec<&str>>> = BTreeMap::new();
    for e in entries {
        (ways.entry(e.principal.as_str()).or_default())
            .entry(way(e))
            .or_default()
            .push(e.bucket.as_str());
    }
    let total = ephi.len();
    let mut folded: BTreeMap<&str, Way> = BTreeMap::new();
    for (principal, by_way) in &ways {
        let Some((w, buckets)) = by_way.iter().max_by_key(|(_, b)| b.len()) else {
            continue;
        };
        if buckets.len() >= FOLD_AT_LEAST && buckets.len() * 2 > total {
            folded.insert(principal, *w);
            let first = entries
                .iter()
                .find(|e| e.principal == *principal && way(e) == *w)
                .expect("the way came from an entry");
            let covered: BTreeSet<&str> = buckets.iter().copied().collect();
            let names: Vec<&str> = (ephi.iter())
                .map(|(n, _)| n.as_str())
                .filter(|n| covered.contains(format!("s3://{n}").as_str()))
                .collect();
            let mut r = row(first, identity, refs, &names.join(" "));
            let others: Vec<&str> = (ephi.iter())
                .map(|(n, _)| n.as_str())
                .filter(|n| !covered.contains(format!("s3://{n}").as_str()))
                .collect();
            r.reach = match others.len() {
                0 => format!("every ePHI bucket ({total})"),
                n if n <= EXCEPTIONS_LISTED => format!(
                    "{} of the {total} ePHI buckets: all but {} (listed under them)",
                    covered.len(),
                    others.join(", ")
                ),
                n => format!(
                    "{} of the {total} ePHI buckets; its access to the other {n} is listed under them",
                    covered.len()
                ),
            };
            out.broad.push(r);
        }
    }
    let mut by_bucket: BTreeMap<&str, Vec<&AccessEntry>> = BTreeMap::new();
    for e in entries {
        by_bucket.entry(e.bucket.as_str()).or_default().push(e);
    }
    let mut principals = BTreeSet::new();
    for (name, basis) in ephi {
        let subject = format!("s3://{name}");
        let here = by_bucket.get(subject.as_str()).cloned().unwrap_or_default();
        principals.extend(here.iter().map(|e| e.principal.as_str()));
        let (broad, own): (Vec<&AccessEntry>, Vec<&AccessEntry>) =
            (here.iter()).partition(|e| folded.get(e.principal.as_str()) == Some(&way(e)));
        // A sentence of its own: the bucket's "Also: …" follows it.
        let note = match bucket_notes.get(&subject) {
            Some(n) if !n.ends_with('.') => format!("{n}."),
            Some(n) => n.clone(),
            None => String::new(),
        };
        if own.is_empty() && note.is_empty() {
            if broad.is_empty() {
                out.nobody.push(name.clone());
            } else {
                out.only_broad.push(name.clone());
            }
            continue;
        }
        let also = if broad.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = broad.iter().map(|e| short_name(&e.principal)).collect();
            format!("Also: {} (listed above).", names.join(", "))
        };
        out.buckets.push(BucketAccess {
            name: name.clone(),
            ephi: basis.clone(),
            note,
            rows: own.iter().map(|e| row(e, identity, refs, name)).collect(),
            also,
        });
    }
    out.note = format!(
        "{} ePHI buckets{}: {} IAM users and roles can reach at least one of them ({} bucket-principal pairs).",
        super::model::thousands(total),
        if counted {
            " (no bucket carries an ePHI tag, so every in-scope bucket counts)"
        } else {
            ""
        },
        super::model::thousands(principals.len()),
        super::model::thousands(entries.len()),
    );
    out
}

/// The columns of `access-review.csv`.
pub const CSV_HEADER: [&str; 11] = [
    "account",
    "bucket",
    "ephi",
    "principal",
    "type",
    "read",
    "write",
    "manage",
    "via",
    "evidence",
    "notes",
];

/// What the CSV's read, write and manage cells say where the review could not be made.
pub const NOT_ASSESSED: &str = "not assessed";

/// `access-review.csv`: one row per access-review entry (findings.json's `access_review`),
/// in (account, bucket, principal) order, with the bucket's ePHI basis; then one row per
/// account or bucket whose review could not be made, its rights `not assessed` and `notes` saying
/// why, so that a missing review never reads as "nobody". Cells are neutralised as in
/// findings.csv.
pub fn write_access_csv(audit: &Audit, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use super::csv::neutralise;
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(out);
    writer.write_record(CSV_HEADER)?;
    let refs = BundleRefs::new(audit);
    let mut basis: BTreeMap<(&str, String), String> = BTreeMap::new();
    for account in &audit.scope.accounts {
        for b in &account.buckets {
            if let Some(d) = &b.ephi {
                basis.insert(
                    (account.id.as_str(), format!("s3://{}", b.name)),
                    ephi_cell(d),
                );
            }
        }
    }
    let review = &audit.findings.access_review;
    for e in &review.entries {
        let ephi = basis.get(&(&*e.account, e.bucket.clone()));
        let evidence: Vec<String> = e.evidence.iter().map(|r| refs.path(r)).collect();
        writer.write_record([
            neutralise(&e.account),
            neutralise(&e.bucket),
            neutralise(ephi.map_or("", String::as_str)),
            neutralise(&e.principal),
            neutralise(&e.kind),
            e.read.as_str().to_string(),
            e.write.as_str().to_string(),
            e.manage.as_str().to_string(),
            neutralise(&e.via.join(" ")),
            neutralise(&evidence.join(" ")),
            neutralise(&e.notes.join("; ")),
        ])?;
    }
    for (key, why) in &review.not_assessed {
        let (account, bucket) = match key.strip_prefix("account:") {
            Some(account) => (account.to_string(), String::new()),
            // A bucket key: its account is the one whose entries name it, or the only one.
            None => (
                (review.entries.iter())
                    .find(|e| &e.bucket == key)
                    .map(|e| e.account.clone())
                    .or_else(|| audit.scope.accounts.first().map(|a| a.id.clone()))
                    .unwrap_or_default(),
                key.clone(),
            ),
        };
        let ephi = basis.get(&(account.as_str(), bucket.clone()));
        writer.write_record([
            neutralise(&account),
            neutralise(&bucket),
            neutralise(ephi.map_or("", String::as_str)),
            String::new(),
            String::new(),
            NOT_ASSESSED.to_string(),
            NOT_ASSESSED.to_string(),
            NOT_ASSESSED.to_string(),
            String::new(),
            String::new(),
            neutralise(why),
        ])?;
    }
    writer.flush()
}
