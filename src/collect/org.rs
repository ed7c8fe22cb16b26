//! `phi-audit collect --org`: every active account of an AWS Organization in one snapshot
//! (docs/organizations.md).
//!
//! This module owns the organisation layer only: the member list (DescribeOrganization,
//! ListAccounts), the selection (`--accounts`, `--exclude-accounts`, `--shard`), one AssumeRole
//! per member account, and the organisation header. Each account is collected by the
//! single-account collector (`super::AccountRun`) into `accounts/<id>/`, one account after
//! another, so memory is bounded by one account's buckets in flight, not by the organisation.
//!
//! Only failures that make the whole run meaningless stop it (no credentials, Organizations
//! refused or not in use, an `--accounts` id that is not an active member). An account whose role
//! cannot be assumed, or whose buckets cannot be listed with the assumed role, is recorded in the
//! header and the run goes on.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{AccountState, AccountStatus};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::args::Shard;
use super::clients::Clients;
use super::limit::Limiter;
use super::writer::{self, SnapshotWriter};
use super::{
    endpoint_text, fatal, identify, list_buckets, result, rfc3339, AccountRun, CollectArgs,
    CollectError, Identity, Plan, Progress,
};
use crate::schema::{CallerIdentity, Operation, ACCOUNTS_DIR, META_FILE, ORG_SNAPSHOT_FORMAT};

/// The member of an account's header entry that records AssumeRole's answer.
const ASSUME_ROLE: &str = Operation::AssumeRole.aws_name();

/// ListAccounts page size (the API's maximum).
const LIST_ACCOUNTS_PAGE: i32 = 20;

/// What a finished organisation collection produced.
#[derive(Debug, Clone)]
pub struct OrgCollectSummary {
    pub out: PathBuf,
    pub organization_id: String,
    /// Accounts of this snapshot (this shard's, or all selected).
    pub accounts: usize,
    /// Accounts without a sub-tree, with the reason (AssumeRole or ListBuckets refused).
    pub not_collected: Vec<(String, String)>,
    pub buckets: usize,
    pub buckets_in_scope: usize,
    pub api_calls: u64,
    /// Calls recorded as errors inside the account sub-trees.
    pub failed_calls: usize,
    pub elapsed: Duration,
    /// Temporaries of killed runs into the same `--out`, removed before writing.
    pub stale_removed: Vec<PathBuf>,
    /// What the user should read (scope exclusions without justification or approver).
    pub warnings: Vec<String>,
}

/// An organisation member as ListAccounts describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub name: String,
    pub active: bool,
}

/// Collects the organisation into `args.out` (atomically, like a single-account snapshot),
/// recording `collected_at` as the collection time of every account.
pub async fn run_org_collect(
    args: &CollectArgs,
    collected_at: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<OrgCollectSummary, CollectError> {
    let work = collect_org(args, collected_at, progress);
    super::until_interrupted(&args.out, progress, work).await
}

async fn collect_org(
    args: &CollectArgs,
    collected_at: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<OrgCollectSummary, CollectError> {
    let started = Instant::now();
    let plan = Plan::from_args(args, collected_at)?;
    writer::check_output(&args.out)?;

    let clients = Clients::load(args).await;
    let endpoint = endpoint_text(&clients);
    let limiter = Limiter::new(args.concurrency);

    progress.phase("identity", 0);
    let caller = identify(&limiter, &clients, &endpoint).await?;

    progress.phase("organization", 0);
    let organizations = clients.organizations();
    let described = limiter
        .call(organizations.describe_organization().send())
        .await
        .map_err(|e| fatal("organizations:DescribeOrganization", &endpoint, &e))?;
    let organization = described.organization();
    let organization_id = organization
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_owned();
    let management_account_id = organization
        .and_then(|o| o.master_account_id())
        .unwrap_or_default()
        .to_owned();
    let members = list_members(&limiter, &organizations, &endpoint).await?;

    let selected = select(&members, &args.org.accounts, &args.org.exclude_accounts)
        .map_err(|e| CollectError::Usage(format!("{e} (organization {organization_id})")))?;
    let mine = shard_of(&selected, args.org.shard);

    let org_writer = SnapshotWriter::create_org(&args.out)?;
    let session_name = session_name(plan.collected_at);
    let names: BTreeMap<&str, &str> = members
        .iter()
        .map(|m| (m.id.as_str(), m.name.as_str()))
        .collect();

    let mut entries = Map::new();
    let mut summary = OrgCollectSummary {
        out: args.out.clone(),
        organization_id: organization_id.clone(),
        accounts: mine.len(),
        not_collected: Vec::new(),
        buckets: 0,
        buckets_in_scope: 0,
        api_calls: 0,
        failed_calls: 0,
        elapsed: Duration::ZERO,
        stale_removed: org_writer.stale_removed().to_vec(),
        warnings: plan.scope.warnings(),
    };
    for (position, account_id) in mine.iter().enumerate() {
        progress.phase(
            &format!("account {account_id} ({}/{})", position + 1, mine.len()),
            0,
        );
        let mut entry = json!({ "name": names.get(account_id.as_str()).copied().unwrap_or("") });
        let (account_clients, principal) =
            match enter_account(args, &limiter, &clients, &caller, account_id, &session_name).await
            {
                Ok((assumed, account_clients, principal)) => {
                    entry[ASSUME_ROLE] = assumed;
                    (account_clients, principal)
                }
                Err(refusal) => {
                    summary
                        .not_collected
                        .push((account_id.clone(), reason(&refusal)));
                    entry[ASSUME_ROLE] = refusal;
                    entries.insert(account_id.clone(), entry);
                    continue;
                }
            };

        let account_limiter = Limiter::new(args.concurrency);
        let buckets = match list_buckets(&account_limiter, &account_clients, &endpoint).await {
            Ok(buckets) => buckets,
            Err(err) => {
                let (code, message) = match err {
                    CollectError::Aws { code, message, .. } => (code, message),
                    other => ("RequestFailed".to_owned(), other.to_string()),
                };
                let failure = result::error(&code, &format!("s3:ListBuckets: {message}"));
                summary
                    .not_collected
                    .push((account_id.clone(), reason(&failure)));
                entry["collection"] = failure;
                summary.api_calls += account_limiter.calls();
                entries.insert(account_id.clone(), entry);
                continue;
            }
        };
        let account_writer =
            SnapshotWriter::nested(&org_writer.temp_dir().join(ACCOUNTS_DIR).join(account_id))?;
        let run = AccountRun {
            args,
            plan: &plan,
            clients: &account_clients,
            account_id,
            partition: &caller.partition,
            caller: &principal,
        };
        let totals = run
            .collect(account_limiter, account_writer, buckets, progress)
            .await?;
        summary.buckets += totals.buckets;
        summary.buckets_in_scope += totals.buckets_in_scope;
        summary.api_calls += totals.api_calls;
        summary.failed_calls += totals.failed_calls;
        entries.insert(account_id.clone(), entry);
    }

    let organization =
        json!({ "id": organization_id, "management_account_id": management_account_id });
    let mut header = org_header(
        args,
        &plan,
        &caller.partition,
        organization,
        &selected,
        entries,
    );
    header["collector"] = plan.collector_json(args, &clients, &caller.caller());
    org_writer.write_json(META_FILE, &header)?;
    summary.out = org_writer.commit()?;
    summary.api_calls += limiter.calls();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Into one member account: the caller's own needs no role (its credentials are already that
/// account's); any other is entered by AssumeRole. The AssumeRole RESULT to record, the
/// clients for the account and the principal they act as (what GetCallerIdentity answers for
/// them), or the refusal to record.
async fn enter_account(
    args: &CollectArgs,
    limiter: &Limiter,
    clients: &Clients,
    caller: &Identity,
    account_id: &str,
    session_name: &str,
) -> Result<(Value, Clients, CallerIdentity), Value> {
    if account_id == caller.account_id {
        let assumed = result::ok(json!({"AssumedRoleUser": {"Arn": caller.arn}}));
        return Ok((assumed, clients.clone(), caller.caller()));
    }
    let role_arn = format!(
        "arn:{}:iam::{account_id}:role/{}",
        caller.partition, args.org.role_name
    );
    let (assumed_arn, assumed_id, credentials) = assume_role(
        limiter,
        clients,
        &role_arn,
        session_name,
        args.org.external_id.as_deref(),
    )
    .await?;
    let assumed = result::ok(json!({"AssumedRoleUser": {"Arn": assumed_arn}}));
    // GetCallerIdentity with the assumed credentials answers exactly this; asking would be one
    // more call per account and one more way to fail.
    let principal = CallerIdentity {
        user_id: assumed_id,
        account: account_id.to_owned(),
        arn: assumed_arn,
    };
    Ok((assumed, clients.with_credentials(credentials), principal))
}

/// The organisation snapshot's header (docs/organizations.md).
fn org_header(
    args: &CollectArgs,
    plan: &Plan,
    partition: &str,
    mut org: Value,
    selected: &[String],
    entries: Map<String, Value>,
) -> Value {
    if let Some(name) = &args.organization {
        org["name"] = Value::String(name.clone());
    }
    let sorted_unique = |ids: &[String]| -> Vec<String> {
        ids.iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    let mut header = json!({
        "format": ORG_SNAPSHOT_FORMAT,
        "collected_at": rfc3339(plan.collected_at),
        "tool_version": env!("CARGO_PKG_VERSION"),
        "partition": partition,
        "organization": org,
        "role_name": args.org.role_name,
        "external_id": args.org.external_id.is_some(),
        "selection": {
            "accounts": sorted_unique(&args.org.accounts),
            "exclude_accounts": sorted_unique(&args.org.exclude_accounts),
        },
        "review_period": { "since": rfc3339(plan.since), "until": rfc3339(plan.until) },
        "scope": plan.scope.to_json(),
        "selected_accounts": selected,
        "accounts": Value::Object(entries),
    });
    if let Some(shard) = args.org.shard {
        header["shard"] = json!({ "index": shard.index, "count": shard.count });
    }
    header
}

/// ListAccounts, every page; a refusal stops the run.
async fn list_members(
    limiter: &Limiter,
    client: &aws_sdk_organizations::Client,
    endpoint: &str,
) -> Result<Vec<Member>, CollectError> {
    let mut members = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = client.list_accounts().max_results(LIST_ACCOUNTS_PAGE);
        if let Some(t) = &token {
            request = request.next_token(t);
        }
        let page = limiter
            .call(request.send())
            .await
            .map_err(|e| fatal("organizations:ListAccounts", endpoint, &e))?;
        for account in page.accounts() {
            let Some(id) = account.id() else { continue };
            // `State` replaces the deprecated `Status`; older answers carry only `Status`.
            let active = match (account.state(), account.status()) {
                (Some(state), _) => *state == AccountState::Active,
                (None, Some(status)) => *status == AccountStatus::Active,
                (None, None) => false,
            };
            members.push(Member {
                id: id.to_owned(),
                name: account.name().unwrap_or_default().to_owned(),
                active,
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() && token.as_deref() != Some(t) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    Ok(members)
}

/// The selected account ids, sorted: the active members, narrowed to `accounts` when given,
/// minus `exclude`. An id in `accounts` that is not an active member is an error naming it.
pub fn select(
    members: &[Member],
    accounts: &[String],
    exclude: &[String],
) -> Result<Vec<String>, String> {
    let active: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.active)
        .map(|m| m.id.as_str())
        .collect();
    let wanted: BTreeSet<&str> = accounts.iter().map(String::as_str).collect();
    let unknown: Vec<String> = wanted
        .iter()
        .filter(|id| !active.contains(*id))
        .map(|id| match members.iter().find(|m| m.id == *id) {
            Some(_) => format!("{id} (not active)"),
            None => format!("{id} (not a member)"),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "--accounts names accounts that are not active members of the organization: {}",
            unknown.join(", ")
        ));
    }
    let excluded: BTreeSet<&str> = exclude.iter().map(String::as_str).collect();
    let selected: Vec<String> = active
        .into_iter()
        .filter(|id| wanted.is_empty() || wanted.contains(id))
        .filter(|id| !excluded.contains(id))
        .map(str::to_owned)
        .collect();
    if selected.is_empty() {
        return Err(
            "no active account is left to collect after --accounts / --exclude-accounts".to_owned(),
        );
    }
    Ok(selected)
}

/// The accounts of `shard` (all of them when unsharded): round-robin over the sorted selection.
pub fn shard_of(selected: &[String], shard: Option<Shard>) -> Vec<String> {
    selected
        .iter()
        .enumerate()
        .filter(|(position, _)| shard.is_none_or(|s| s.holds(*position)))
        .map(|(_, id)| id.clone())
        .collect()
}

/// AssumeRole into a member account: the assumed role's ARN and its session credentials, or the
/// refusal as an error RESULT.
async fn assume_role(
    limiter: &Limiter,
    clients: &Clients,
    role_arn: &str,
    session_name: &str,
    external_id: Option<&str>,
) -> Result<(String, String, aws_sdk_sts::config::Credentials), Value> {
    let mut request = clients
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session_name);
    if let Some(id) = external_id {
        request = request.external_id(id);
    }
    let output = limiter.call(request.send()).await.map_err(|err| {
        let (code, message) = result::describe(&err);
        result::error(&code, &message)
    })?;
    let Some(creds) = output.credentials() else {
        return Err(result::error(
            "InvalidResponse",
            "AssumeRole answered without credentials",
        ));
    };
    let expiry = std::time::SystemTime::try_from(*creds.expiration()).ok();
    let credentials = aws_sdk_sts::config::Credentials::new(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_owned()),
        expiry,
        "phi-audit-assume-role",
    );
    let arn = output
        .assumed_role_user()
        .map(|u| u.arn().to_owned())
        .unwrap_or_else(|| role_arn.to_owned());
    let assumed_id = output
        .assumed_role_user()
        .map(|u| u.assumed_role_id().to_owned())
        .unwrap_or_default();
    Ok((arn, assumed_id, credentials))
}

/// "code: message" of an error RESULT, for the summary line.
fn reason(failure: &Value) -> String {
    format!(
        "{}: {}",
        failure["error"]["code"].as_str().unwrap_or("?"),
        failure["error"]["message"].as_str().unwrap_or("")
    )
}

/// The collection time as it appears in the role session name (`phi-audit-20260131T120000Z`).
pub fn session_name(collected_at: DateTime<Utc>) -> String {
    format!("phi-audit-{}", collected_at.format("%Y%m%dT%H%M%SZ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, active: bool) -> Member {
        Member {
            id: id.to_owned(),
            name: format!("n{id}"),
            active,
        }
    }

    #[test]
    fn selection_is_active_sorted_and_narrowed() {
        let members = [
            member("333333333333", true),
            member("111111111111", true),
            member("222222222222", false),
            member("444444444444", true),
        ];
        assert_eq!(
            select(&members, &[], &[]).unwrap(),
            ["111111111111", "333333333333", "444444444444"]
        );
        assert_eq!(
            select(&members, &["444444444444".into()], &[]).unwrap(),
            ["444444444444"]
        );
        assert_eq!(
            select(&members, &[], &["111111111111".into()]).unwrap(),
            ["333333333333", "444444444444"]
        );
        let err = select(
            &members,
            &["222222222222".into(), "999999999999".into()],
            &[],
        )
        .unwrap_err();
        assert!(err.contains("222222222222 (not active)"), "{err}");
        assert!(err.contains("999999999999 (not a member)"), "{err}");
        assert!(select(&members, &["111111111111".into()], &["111111111111".into()]).is_err());
    }

    #[test]
    fn shards_partition_the_selection() {
        let ids: Vec<String> = (1..=7).map(|i| format!("{i:012}")).collect();
        let mut seen = Vec::new();
        for index in 1..=3 {
            let part = shard_of(&ids, Some(Shard { index, count: 3 }));
            assert!(part.len() == 2 || part.len() == 3);
            seen.extend(part);
        }
        seen.sort();
        assert_eq!(seen, ids);
        assert_eq!(shard_of(&ids, None), ids);
        assert_eq!(
            session_name("2026-01-31T12:00:00Z".parse().unwrap()),
            "phi-audit-20260131T120000Z"
        );
    }
}
