//! The chain of custody as the report shows it: who collected the evidence (the principal
//! GetCallerIdentity named, per account for an organisation), with which phi-audit and options,
//! what the scope left out and on whose authority (each exclusion's justification and
//! approver). An exclusion without them, or a snapshot that does not record its collector, is
//! said in the report as well as on stderr: never silently accepted.
//!
//! The cover's "Collected by" and "Scope" lines come from here too, so the cover and the
//! appendix cannot disagree.

use serde::Serialize;

use crate::audit::Scope;
use crate::evaluate::wildcard;
use crate::schema::{CollectionOptions, Collector, ScopeExclusion};

/// The appendix's anchor (the report's own section id).
pub const CUSTODY_ANCHOR: &str = "appendix-custody";

/// What the report says when the snapshot does not record its collector.
pub const NOT_RECORDED: &str = "collector not recorded";

#[derive(Debug, Clone, Serialize)]
pub struct CustodyView {
    /// The principals that collected: the collector, or for an organisation the
    /// management-side principal and the role assumed in each account.
    pub collectors: Vec<CollectorRow>,
    /// The `collect` options, one per row (label, value); empty when not recorded.
    pub options: Vec<OptionRow>,
    /// The normalised scope as recorded in snapshot.json (sorted JSON).
    pub scope: String,
    pub exclusions: Vec<ExclusionRow>,
    /// Collector not recorded, exclusions without justification or approver.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectorRow {
    /// `Collector`, `Management side`, or `Account <id>`.
    pub role: String,
    pub account: String,
    /// The principal's ARN, or [`NOT_RECORDED`].
    pub principal: String,
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionRow {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExclusionRow {
    pub pattern: String,
    /// The out-of-scope buckets the pattern matches, or `none`.
    pub buckets: String,
    /// The justification, or `MISSING`.
    pub justification: String,
    pub approver: String,
    /// Both justification and approver are given.
    pub documented: bool,
}

impl CustodyView {
    pub fn build(scope: &Scope) -> CustodyView {
        let mut collectors = vec![collector_row(
            if scope.organisation.is_some() {
                "Management side"
            } else {
                "Collector"
            },
            &scope.account_id,
            scope.collector.as_ref(),
        )];
        if scope.organisation.is_some() {
            for account in scope.accounts.iter().filter(|a| a.not_collected.is_none()) {
                collectors.push(collector_row(
                    &format!("Account {}", account.id),
                    &account.id,
                    account.collector.as_ref(),
                ));
            }
        }
        CustodyView {
            collectors,
            options: scope
                .collector
                .as_ref()
                .map(|c| option_rows(&c.options))
                .unwrap_or_default(),
            scope: scope.selection.to_string(),
            exclusions: scope
                .exclusions
                .iter()
                .map(|e| exclusion_row(scope, e))
                .collect(),
            warnings: scope.custody_warnings(),
        }
    }
}

/// The cover's "Collected by": the principal and its account, or [`NOT_RECORDED`].
pub fn collected_by(scope: &Scope) -> String {
    match &scope.collector {
        Some(c) => format!("{} (account {})", c.caller.arn, c.caller.account),
        None => NOT_RECORDED.to_string(),
    }
}

/// The cover's "Scope": the include and exclude rules, tag selectors and regions in words.
pub fn scope_summary(scope: &Scope) -> String {
    let list = |member: &str| -> Vec<String> {
        (scope.selection.get(member).and_then(|v| v.as_array()))
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let include = list("include");
    let mut parts = vec![format!(
        "include {}",
        if include.is_empty() {
            "every bucket".to_string()
        } else {
            include.join(", ")
        }
    )];
    if !scope.exclusions.is_empty() {
        let undocumented = scope
            .exclusions
            .iter()
            .filter(|e| !e.missing().is_empty())
            .count();
        let patterns: Vec<&str> = scope
            .exclusions
            .iter()
            .map(|e| e.pattern.as_str())
            .collect();
        parts.push(format!(
            "exclude {}{} (Appendix E)",
            patterns.join(", "),
            if undocumented > 0 {
                format!(", {undocumented} without justification or approver")
            } else {
                String::new()
            }
        ));
    }
    if let Some(tags) = scope.selection.get("tags").and_then(|t| t.as_object()) {
        if !tags.is_empty() {
            let selectors: Vec<String> = tags
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            parts.push(format!("tags {}", selectors.join(", ")));
        }
    }
    let regions = list("regions");
    parts.push(if regions.is_empty() {
        "any region".to_string()
    } else {
        format!("regions {}", regions.join(", "))
    });
    parts.join("; ")
}

fn collector_row(role: &str, account: &str, collector: Option<&Collector>) -> CollectorRow {
    match collector {
        Some(c) => CollectorRow {
            role: role.to_string(),
            account: c.caller.account.clone(),
            principal: c.caller.arn.clone(),
            user_id: c.caller.user_id.clone(),
        },
        None => CollectorRow {
            role: role.to_string(),
            account: account.to_string(),
            principal: NOT_RECORDED.to_string(),
            user_id: String::new(),
        },
    }
}

fn option_rows(options: &CollectionOptions) -> Vec<OptionRow> {
    let given = |value: &Option<String>, default: &str| {
        value.clone().unwrap_or_else(|| default.to_string())
    };
    let rows = [
        (
            "Regions (--region)",
            if options.regions.is_empty() {
                "not given: the scope's regions, else every region holding a bucket".to_string()
            } else {
                options.regions.join(", ")
            },
        ),
        (
            "Scope file (--scope)",
            match &options.scope_file {
                Some(f) => format!("{} (SHA-256 {})", f.path, f.sha256),
                None => "not given: every bucket".to_string(),
            },
        ),
        (
            "Since (--since)",
            given(&options.since, "not given: 90 days before --until"),
        ),
        (
            "Until (--until)",
            given(&options.until, "not given: the collection time"),
        ),
        (
            "Concurrency (--concurrency)",
            options.concurrency.to_string(),
        ),
        (
            "Endpoint (--endpoint-url)",
            given(&options.endpoint_url, "AWS's public endpoints"),
        ),
        (
            "Profile (--profile)",
            given(&options.profile, "not given: the default credential chain"),
        ),
        (
            "Organisation mode (--org)",
            if options.organization_mode {
                "yes"
            } else {
                "no"
            }
            .to_string(),
        ),
    ];
    rows.into_iter()
        .map(|(label, value)| OptionRow {
            label: label.to_string(),
            value,
        })
        .collect()
}

fn exclusion_row(scope: &Scope, exclusion: &ScopeExclusion) -> ExclusionRow {
    let prefix = scope.organisation.is_some();
    let buckets: Vec<String> = scope
        .accounts
        .iter()
        .flat_map(|a| a.buckets.iter().map(move |b| (a, b)))
        .filter(|(_, b)| !b.in_scope && wildcard::matches(&exclusion.pattern, &b.name, false))
        .map(|(a, b)| {
            if prefix {
                format!("{} / {}", a.id, b.name)
            } else {
                b.name.clone()
            }
        })
        .collect();
    let or_missing = |v: &Option<String>| {
        (v.as_deref().map(str::trim))
            .filter(|t| !t.is_empty())
            .unwrap_or("MISSING")
            .to_string()
    };
    ExclusionRow {
        pattern: exclusion.pattern.clone(),
        buckets: if buckets.is_empty() {
            "none".to_string()
        } else {
            buckets.join(", ")
        },
        justification: or_missing(&exclusion.justification),
        approver: or_missing(&exclusion.approver),
        documented: exclusion.missing().is_empty(),
    }
}
