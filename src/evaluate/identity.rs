//! The six identity controls (`iam.*`, docs/findings-format.md): the root user's MFA and
//! access keys, and — for every user or role the access review found with ePHI access (yes or
//! conditional) — MFA, key rotation, use within 90 days and the scope of the granting policy.
//!
//! Unreadable evidence makes exactly the controls that need it `error` on `account:<id>`,
//! never a pass: GetAccountAuthorizationDetails → every `iam.ephi-*`; GetCredentialReport →
//! the user-based checks; GetAccountSummary → the two root controls, unless the credential
//! report's `<root_account>` row answers them.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

use super::access_review::{AccountReview, DETAILS_REF};
use super::Verdict;
use crate::findings::Access;
use crate::snapshot::iam::CredentialRow;
use crate::snapshot::{Evidence, Snapshot};

pub const ROOT_MFA: &str = "iam.root-mfa-disabled";
pub const ROOT_KEYS: &str = "iam.root-access-keys";
pub const USER_WITHOUT_MFA: &str = "iam.ephi-user-without-mfa";
pub const KEY_NOT_ROTATED: &str = "iam.ephi-access-key-not-rotated";
pub const ACCESS_UNUSED: &str = "iam.ephi-access-unused";
pub const ACCESS_UNSCOPED: &str = "iam.ephi-access-unscoped";

/// Every identity control, in catalog order.
pub const IAM_CONTROLS: [&str; 6] = [
    ROOT_MFA,
    ROOT_KEYS,
    USER_WITHOUT_MFA,
    KEY_NOT_ROTATED,
    ACCESS_UNUSED,
    ACCESS_UNSCOPED,
];

const REPORT_REF: &str = "iam/GetCredentialReport.json";
const SUMMARY_REF: &str = "iam/GetAccountSummary.json";

/// Days after which a key counts as not rotated, and access as unused.
const DAYS: i64 = 90;

/// (subject, control, verdict) for every identity control.
pub fn verdicts(
    snapshot: &Snapshot,
    review: &AccountReview,
    period_end: DateTime<Utc>,
) -> Vec<(String, &'static str, Verdict)> {
    let account = format!("account:{}", snapshot.meta.account_id);
    let mut out = root(snapshot, &account);
    let details = match &snapshot.iam.authorization {
        Evidence::Found(details) => details,
        other => {
            let why = other
                .unavailable()
                .map(|u| u.to_string())
                .unwrap_or_else(|| "GetAccountAuthorizationDetails answered nothing".to_string());
            for control in &IAM_CONTROLS[2..] {
                out.push((
                    account.clone(),
                    control,
                    Verdict::error(
                        format!("Not assessed: {why}, so who has ePHI access is unknown."),
                        vec![DETAILS_REF.to_string()],
                    ),
                ));
            }
            return out;
        }
    };
    // Principal → (is user, best access over every ePHI bucket, buckets).
    let mut holders: BTreeMap<&str, (bool, Vec<&str>)> = BTreeMap::new();
    for entry in &review.entries {
        if [entry.read, entry.write, entry.manage]
            .iter()
            .any(|a| *a != Access::No)
        {
            let holder = holders
                .entry(entry.principal.as_str())
                .or_insert((entry.kind == "user", Vec::new()));
            holder.1.push(entry.bucket.as_str());
        }
    }
    let report = &snapshot.iam.credential_report;
    let since = period_end - Duration::days(DAYS);
    if let Evidence::Unavailable(why) = report {
        if holders.values().any(|(user, _)| *user) {
            for control in [USER_WITHOUT_MFA, KEY_NOT_ROTATED, ACCESS_UNUSED] {
                out.push((
                    account.clone(),
                    control,
                    Verdict::error(
                        format!("Not assessed for users: {why}, so their sign-in, MFA and keys are unknown."),
                        vec![REPORT_REF.to_string()],
                    ),
                ));
            }
        }
    }
    for (arn, (is_user, buckets)) in &holders {
        let reach = match buckets.len() {
            1 => format!("has access to ePHI ({})", buckets[0]),
            n if n <= 3 => format!("has access to {n} ePHI buckets ({})", buckets.join(", ")),
            n => format!(
                "has access to {n} ePHI buckets ({} and {} more)",
                buckets[..3].join(", "),
                n - 3
            ),
        };
        if *is_user {
            if let Evidence::Found(report) = report {
                let row = report.row(arn);
                out.push((arn.to_string(), USER_WITHOUT_MFA, mfa(row, &reach)));
                out.push((
                    arn.to_string(),
                    KEY_NOT_ROTATED,
                    rotation(row, &reach, since),
                ));
                out.push((arn.to_string(), ACCESS_UNUSED, user_use(row, &reach, since)));
            }
        } else {
            let role = details.roles.iter().find(|r| r.arn == *arn);
            let last = role.and_then(|r| r.last_used.as_ref());
            let verdict = match last {
                Some(t) if t.utc() >= since => Verdict::pass(
                    format!("The role {reach} and was last used {t}, within {DAYS} days of the period end."),
                    vec![DETAILS_REF.to_string()],
                ),
                Some(t) => Verdict::fail(
                    format!("The role {reach} but was last used {t}, more than {DAYS} days before the period end: remove access it no longer needs."),
                    vec![DETAILS_REF.to_string()],
                ),
                None => Verdict::fail(
                    format!("The role {reach} but has no recorded use (RoleLastUsed is empty): remove access it does not need."),
                    vec![DETAILS_REF.to_string()],
                ),
            };
            out.push((arn.to_string(), ACCESS_UNUSED, verdict));
        }
        let verdict = match review.unscoped.get(*arn) {
            Some(statements) => Verdict::fail(
                format!(
                    "The principal {reach} through statements whose Resource is every bucket ({}): grant ePHI access on named buckets.",
                    statements.join(", ")
                ),
                vec![DETAILS_REF.to_string()],
            ),
            None => Verdict::pass(
                format!("The principal {reach} only through statements naming buckets or bucket patterns."),
                vec![DETAILS_REF.to_string()],
            ),
        };
        out.push((arn.to_string(), ACCESS_UNSCOPED, verdict));
    }
    out
}

fn row_missing(reach: &str) -> Verdict {
    Verdict::error(
        format!("The user {reach}, but the credential report has no row for it."),
        vec![REPORT_REF.to_string()],
    )
}

fn mfa(row: Option<&CredentialRow>, reach: &str) -> Verdict {
    let Some(row) = row else {
        return row_missing(reach);
    };
    let evidence = vec![REPORT_REF.to_string()];
    match (row.password_enabled, row.mfa_active) {
        (Some(true), false) => Verdict::fail(
            format!(
                "The user {reach} and signs in to the console with a password but no MFA device."
            ),
            evidence,
        ),
        (Some(true), true) => Verdict::pass(
            format!("The user {reach} and has an MFA device for console sign-in."),
            evidence,
        ),
        _ => Verdict::pass(
            format!("The user {reach} but has no console password."),
            evidence,
        ),
    }
}

fn rotation(row: Option<&CredentialRow>, reach: &str, since: DateTime<Utc>) -> Verdict {
    let Some(row) = row else {
        return row_missing(reach);
    };
    let evidence = vec![REPORT_REF.to_string()];
    let stale: Vec<String> = (row.keys.iter().enumerate())
        .filter(|(_, k)| k.active && k.last_rotated.as_ref().is_none_or(|t| t.utc() < since))
        .map(|(i, k)| match &k.last_rotated {
            Some(t) => format!("key {} last rotated {t}", i + 1),
            None => format!("key {} with no rotation date", i + 1),
        })
        .collect();
    if stale.is_empty() {
        Verdict::pass(
            format!("The user {reach}; every active access key was rotated within {DAYS} days of the period end."),
            evidence,
        )
    } else {
        Verdict::fail(
            format!(
                "The user {reach} and has an active access key older than {DAYS} days ({}).",
                stale.join(", ")
            ),
            evidence,
        )
    }
}

fn user_use(row: Option<&CredentialRow>, reach: &str, since: DateTime<Utc>) -> Verdict {
    let Some(row) = row else {
        return row_missing(reach);
    };
    let evidence = vec![REPORT_REF.to_string()];
    let last = [
        row.password_last_used.as_ref(),
        row.keys[0].last_used.as_ref(),
        row.keys[1].last_used.as_ref(),
    ]
    .into_iter()
    .flatten()
    .max();
    match last {
        Some(t) if t.utc() >= since => Verdict::pass(
            format!("The user {reach} and last signed in or used a key {t}, within {DAYS} days of the period end."),
            evidence,
        ),
        Some(t) => Verdict::fail(
            format!("The user {reach} but was last active {t}, more than {DAYS} days before the period end: remove access it no longer needs."),
            evidence,
        ),
        None => Verdict::fail(
            format!("The user {reach} but has never signed in or used an access key: remove access it does not need."),
            evidence,
        ),
    }
}

/// The two root-user controls, from the account summary or the credential report's root row.
fn root(snapshot: &Snapshot, account: &str) -> Vec<(String, &'static str, Verdict)> {
    let summary = snapshot.iam.summary.found().map(|s| &s.summary_map);
    let root_row = snapshot
        .iam
        .credential_report
        .found()
        .and_then(|r| r.root());
    let mut out = Vec::new();
    type RowFails = fn(&CredentialRow) -> bool;
    let checks: [(&'static str, &str, RowFails); 2] = [
        (ROOT_MFA, "AccountMFAEnabled", |r| !r.mfa_active),
        (ROOT_KEYS, "AccountAccessKeysPresent", |r| {
            r.keys.iter().any(|k| k.active)
        }),
    ];
    for (control, key, row_fails) in checks {
        let from_summary = summary.and_then(|m| m.get(key)).map(|v| {
            let fails = if control == ROOT_MFA {
                *v == 0
            } else {
                *v != 0
            };
            (
                fails,
                format!("{SUMMARY_REF}#/ok/SummaryMap/{key}"),
                format!("{key} is {v}"),
            )
        });
        let from_row = root_row.map(|r| {
            (
                row_fails(r),
                REPORT_REF.to_string(),
                "the credential report's root row".to_string(),
            )
        });
        let verdict = match from_summary.or(from_row) {
            Some((true, evidence, what)) => Verdict::fail(
                match control {
                    ROOT_MFA => format!("The root user has no MFA device ({what})."),
                    _ => format!("The root user has access keys ({what}): nobody should sign API calls as root."),
                },
                vec![evidence],
            ),
            Some((false, evidence, what)) => Verdict::pass(
                match control {
                    ROOT_MFA => format!("The root user has an MFA device ({what})."),
                    _ => format!("The root user has no access keys ({what})."),
                },
                vec![evidence],
            ),
            None => {
                let why = snapshot
                    .iam
                    .summary
                    .unavailable()
                    .map(|u| u.to_string())
                    .unwrap_or_else(|| "GetAccountSummary was not collected".to_string());
                Verdict::error(
                    format!("Not assessed: {why}, and the credential report does not answer it either."),
                    vec![SUMMARY_REF.to_string(), REPORT_REF.to_string()],
                )
            }
        };
        out.push((account.to_string(), control, verdict));
    }
    out
}
