//! `phi-audit collect`: live evidence from an AWS account, written as the snapshot of docs/snapshot-format.md.
//!
//! This module owns the orchestration: identity (STS), the bucket list, per-bucket work under a
//! global bound on requests in flight, CloudTrail per region, and the atomic write. The service
//! modules own the calls and their conversion to AWS CLI JSON; `writer` owns the file layout.
//!
//! Only failures that make the whole snapshot meaningless stop a run (no credentials, endpoint
//! unreachable, ListBuckets refused); every other failed call is recorded as `{"error": ...}` and
//! the run goes on, so the evaluator can report it as an `error` finding.
//!
//! The format written is [`crate::schema`]'s, the only module of the crate `collect` uses. The
//! collector never reads the clock: the collection time comes in as a value.

pub mod args;
pub mod clients;
pub mod cloudtrail;
pub mod iam;
pub mod kms;
pub mod limit;
pub mod merge;
pub mod org;
pub mod progress;
pub mod result;
pub mod s3;
pub mod scope;
pub mod writer;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use args::CollectArgs;
pub use progress::{BarProgress, NoProgress, Progress};
pub use scope::{Scope, ScopeError};
pub use writer::WriteError;

use crate::schema::{
    CallerIdentity, CollectionOptions, Collector, Operation, ACCESS_LOGS_DIR, BUCKETS_DIR,
    CLOUDTRAIL_DIR, META_FILE, SNAPSHOT_FORMAT,
};
use clients::Clients;
use limit::{Limiter, Pacer};
use writer::SnapshotWriter;

/// Default review period when `--since` is not given.
const DEFAULT_REVIEW_DAYS: i64 = 90;

/// What a finished collection produced.
#[derive(Debug, Clone)]
pub struct CollectSummary {
    /// The snapshot directory.
    pub out: PathBuf,
    pub account_id: String,
    /// Buckets listed (in and out of scope).
    pub buckets: usize,
    pub buckets_in_scope: usize,
    /// Regions whose CloudTrail evidence was collected.
    pub regions: Vec<String>,
    /// API requests made (an SDK retry of a request counts once).
    pub api_calls: u64,
    /// Calls recorded as errors other than "not configured" answers.
    pub failed_calls: usize,
    pub elapsed: Duration,
    /// Temporaries of killed runs into the same `--out`, removed before writing.
    pub stale_removed: Vec<PathBuf>,
    /// What the user should read (scope exclusions without justification or approver).
    pub warnings: Vec<String>,
}

/// Why a collection produced no snapshot. Every variant says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Usage(String),
    #[error("scope file {0}")]
    Scope(#[from] ScopeError),
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error(
        "no usable AWS credentials ({detail}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
         pick a profile with --profile or AWS_PROFILE, or run `aws sso login`"
    )]
    NoCredentials { detail: String },
    #[error(
        "cannot reach AWS at {endpoint} ({detail}); check --endpoint-url / AWS_ENDPOINT_URL, the \
         network and any HTTPS proxy settings"
    )]
    Unreachable { endpoint: String, detail: String },
    #[error(
        "AWS refused {operation}: {code}: {message}; check that the credentials are valid and \
         allow the read-only permissions listed in docs/collect.md"
    )]
    Aws {
        operation: &'static str,
        code: String,
        message: String,
    },
    #[error("interrupted; no snapshot was written")]
    Interrupted,
    #[error("internal error: {0}")]
    Internal(String),
}

impl CollectError {
    /// Process exit code (docs/cli.md): 2 for anything the user has to fix, 130 when
    /// interrupted, 70 (sysexits' EX_SOFTWARE) for a bug of ours — never 1, which means "the
    /// threshold was reached" or "tampered" to scripts.
    pub fn exit_code(&self) -> u8 {
        match self {
            CollectError::Interrupted => 130,
            CollectError::Internal(_) => 70,
            _ => 2,
        }
    }
}

/// Classifies a failed account-level call (STS, ListBuckets) that stops the run.
pub(crate) fn fatal<E>(
    operation: &'static str,
    endpoint: &str,
    err: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> CollectError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = result::describe(err);
    match err {
        SdkError::ServiceError(_) => CollectError::Aws {
            operation,
            code,
            message,
        },
        _ => {
            let detail = result::sanitize(&result::context_text(err));
            // Identity resolution fails before any request is sent, and the SDK reports it as a
            // dispatch failure whose text names the credential providers.
            if detail.to_ascii_lowercase().contains("credential")
                && !detail.contains("Connection refused")
            {
                CollectError::NoCredentials { detail }
            } else {
                CollectError::Unreachable {
                    endpoint: endpoint.to_owned(),
                    detail: if message.is_empty() { detail } else { message },
                }
            }
        }
    }
}

/// Everything a bucket task needs, shared between tasks.
struct Shared {
    clients: Clients,
    limiter: Limiter,
    writer: SnapshotWriter,
    scope: Scope,
    selected_regions: Option<BTreeSet<String>>,
    account_id: String,
    collected_at: String,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// What the orchestration keeps of a bucket once its file is written.
struct BucketOutcome {
    region: String,
    in_scope: bool,
    failed_calls: usize,
    /// The KMS key its default encryption names (in scope only).
    key: Option<kms::KeyRef>,
}

/// Collects the account's evidence into `args.out`, recording `collected_at` as the collection
/// time (and the default end of the review period). `progress` receives one step per bucket.
pub async fn run_collect(
    args: &CollectArgs,
    collected_at: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<CollectSummary, CollectError> {
    until_interrupted(&args.out, progress, collect(args, collected_at, progress)).await
}

/// Runs a collection into `out`, stopping it on Ctrl-C (single accounts and organisations).
pub(crate) async fn until_interrupted<T>(
    out: &std::path::Path,
    progress: &dyn Progress,
    work: impl std::future::Future<Output = Result<T, CollectError>>,
) -> Result<T, CollectError> {
    let outcome = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => {
            // The writer's Drop would remove the temporary directory, but the aborted tasks
            // that share it may be dropped only after the process has exited: remove it here.
            let _ = std::fs::remove_dir_all(writer::temp_path_for(out));
            Err(CollectError::Interrupted)
        }
    };
    progress.finish();
    outcome
}

async fn collect(
    args: &CollectArgs,
    collected_at: DateTime<Utc>,
    progress: &dyn Progress,
) -> Result<CollectSummary, CollectError> {
    let started = Instant::now();
    let plan = Plan::from_args(args, collected_at)?;
    // Refuse a non-empty --out before spending any time on AWS.
    writer::check_output(&args.out)?;

    let clients = Clients::load(args).await;
    let endpoint = endpoint_text(&clients);
    let limiter = Limiter::new(args.concurrency);

    progress.phase("identity", 0);
    let identity = identify(&limiter, &clients, &endpoint).await?;

    progress.phase("listing buckets", 0);
    let buckets = list_buckets(&limiter, &clients, &endpoint).await?;

    let writer = SnapshotWriter::create(&args.out)?;
    let stale_removed = writer.stale_removed().to_vec();
    let account = AccountRun {
        args,
        plan: &plan,
        clients: &clients,
        account_id: &identity.account_id,
        partition: &identity.partition,
        caller: &identity.caller(),
    };
    let totals = account.collect(limiter, writer, buckets, progress).await?;
    Ok(CollectSummary {
        out: totals.out,
        account_id: identity.account_id,
        buckets: totals.buckets,
        buckets_in_scope: totals.buckets_in_scope,
        regions: totals.regions,
        api_calls: totals.api_calls,
        failed_calls: totals.failed_calls,
        elapsed: started.elapsed(),
        stale_removed,
        warnings: plan.scope.warnings(),
    })
}

/// The validated options every account of a run shares: times, scope, regions.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) collected_at: DateTime<Utc>,
    pub(crate) since: DateTime<Utc>,
    pub(crate) until: DateTime<Utc>,
    pub(crate) scope: Scope,
    pub(crate) selected_regions: Option<BTreeSet<String>>,
}

impl Plan {
    /// The `collector` member of a snapshot.json collected by `caller` through `clients` under
    /// this plan. The endpoint recorded is the one in effect (`--endpoint-url` or
    /// `AWS_ENDPOINT_URL`).
    pub(crate) fn collector_json(
        &self,
        args: &CollectArgs,
        clients: &Clients,
        caller: &CallerIdentity,
    ) -> Value {
        let mut collector = collector(args, caller);
        collector.options.scope_file = self.scope.file.clone();
        collector.options.endpoint_url = clients.endpoint().map(str::to_owned);
        serde_json::to_value(collector).expect("plain data")
    }

    /// Checks the dates, regions and scope file before anything is asked of AWS.
    pub(crate) fn from_args(
        args: &CollectArgs,
        collected_at: DateTime<Utc>,
    ) -> Result<Self, CollectError> {
        let until = args.until.unwrap_or(collected_at);
        let since = args
            .since
            .unwrap_or(until - chrono::Duration::days(DEFAULT_REVIEW_DAYS));
        if since >= until {
            return Err(CollectError::Usage(format!(
                "--since ({}) must be before --until ({})",
                rfc3339(since),
                rfc3339(until)
            )));
        }
        for r in &args.regions {
            if !scope::is_region_name(r) {
                return Err(CollectError::Usage(format!(
                    "--region {r:?} is not an AWS region name like us-east-1"
                )));
            }
        }
        let scope = match &args.scope {
            Some(path) => Scope::load(path)?,
            None => Scope::default(),
        };
        let selected_regions: Option<BTreeSet<String>> = if !args.regions.is_empty() {
            Some(args.regions.iter().cloned().collect())
        } else if !scope.regions.is_empty() {
            Some(scope.regions.iter().cloned().collect())
        } else {
            None
        };
        Ok(Self {
            collected_at,
            since,
            until,
            scope,
            selected_regions,
        })
    }
}

/// Where requests go, for messages.
pub(crate) fn endpoint_text(clients: &Clients) -> String {
    clients
        .endpoint()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("the AWS endpoints of {}", clients.home_region()))
}

/// Who the credentials belong to (sts:GetCallerIdentity).
pub(crate) struct Identity {
    pub(crate) account_id: String,
    pub(crate) partition: String,
    pub(crate) arn: String,
    pub(crate) user_id: String,
}

impl Identity {
    /// The answer as the snapshot's `collector` records it.
    pub(crate) fn caller(&self) -> CallerIdentity {
        CallerIdentity {
            user_id: self.user_id.clone(),
            account: self.account_id.clone(),
            arn: self.arn.clone(),
        }
    }
}

/// The chain-of-custody record of a run: who collected (`caller`) and with which options.
pub(crate) fn collector(args: &CollectArgs, caller: &CallerIdentity) -> Collector {
    Collector {
        caller: caller.clone(),
        options: CollectionOptions {
            regions: args.regions.clone(),
            scope_file: None,
            since: args.since.map(rfc3339),
            until: args.until.map(rfc3339),
            concurrency: args.concurrency as u64,
            endpoint_url: args.endpoint_url.clone(),
            profile: args.profile.clone(),
            organization_mode: args.org.org,
        },
    }
}

/// GetCallerIdentity; a failure stops the run (no credentials, endpoint unreachable).
pub(crate) async fn identify(
    limiter: &Limiter,
    clients: &Clients,
    endpoint: &str,
) -> Result<Identity, CollectError> {
    let identity = limiter
        .call(clients.sts().get_caller_identity().send())
        .await
        .map_err(|e| fatal("sts:GetCallerIdentity", endpoint, &e))?;
    let arn = identity.arn().unwrap_or_default().to_owned();
    let partition = arn.split(':').nth(1).unwrap_or("aws").to_owned();
    let partition = if partition.is_empty() {
        "aws".to_owned()
    } else {
        partition
    };
    Ok(Identity {
        account_id: identity.account().unwrap_or_default().to_owned(),
        partition,
        arn,
        user_id: identity.user_id().unwrap_or_default().to_owned(),
    })
}

/// What one account's collection produced.
pub(crate) struct AccountTotals {
    pub(crate) out: PathBuf,
    pub(crate) buckets: usize,
    pub(crate) buckets_in_scope: usize,
    pub(crate) regions: Vec<String>,
    pub(crate) api_calls: u64,
    pub(crate) failed_calls: usize,
}

/// One account's collection once its bucket list is known: the same code for a single-account
/// snapshot and for each `accounts/<id>/` of an organisation snapshot.
pub(crate) struct AccountRun<'a> {
    pub(crate) args: &'a CollectArgs,
    pub(crate) plan: &'a Plan,
    pub(crate) clients: &'a Clients,
    pub(crate) account_id: &'a str,
    pub(crate) partition: &'a str,
    /// The principal collecting this account (in an organisation, the role assumed in it).
    pub(crate) caller: &'a CallerIdentity,
}

impl AccountRun<'_> {
    /// Collects every bucket and CloudTrail region into `writer` and commits it. Each bucket's
    /// file is written as soon as that bucket is done, so memory holds only the buckets in flight
    /// (and a few counters per bucket), never the account's evidence.
    pub(crate) async fn collect(
        &self,
        limiter: Limiter,
        writer: SnapshotWriter,
        buckets: Vec<(String, Option<String>)>,
        progress: &dyn Progress,
    ) -> Result<AccountTotals, CollectError> {
        let (args, plan, clients) = (self.args, self.plan, self.clients);
        let account_pab =
            s3::account_public_access_block(&limiter, &clients.s3control(), self.account_id).await;
        let identity = iam::collect(&limiter, &clients.iam()).await;
        let details = (identity.iter())
            .find(|(op, _)| *op == Operation::GetAccountAuthorizationDetails)
            .map(|(_, result)| result);
        let looked_up = match details {
            Some(details) => iam::look_up_policies(&limiter, &clients.iam(), details).await,
            None => None,
        };

        let shared = Arc::new(Shared {
            clients: clients.clone(),
            limiter,
            writer,
            scope: plan.scope.clone(),
            selected_regions: plan.selected_regions.clone(),
            account_id: self.account_id.to_owned(),
            collected_at: rfc3339(plan.collected_at),
            since: plan.since,
            until: plan.until,
        });

        // CloudTrail runs alongside the buckets: LookupEvents is paced to 2 requests per second
        // and region, so it is the long pole of a small account. Regions known now start now;
        // regions discovered through buckets start when the buckets are done.
        let mut trail_runs = RegionRuns::default();
        match &shared.selected_regions {
            Some(set) => set.iter().for_each(|r| trail_runs.ensure(&shared, r)),
            None => trail_runs.ensure(&shared, clients.home_region()),
        }

        // Buckets: all tasks are spawned at once but only a bounded number run, enough to keep
        // every request slot busy while some buckets wait on their location or tags.
        progress.phase("buckets", buckets.len() as u64);
        let bucket_slots = Arc::new(Semaphore::new(args.concurrency * 2 + 4));
        let mut tasks = JoinSet::new();
        for (name, hint) in buckets {
            let shared = Arc::clone(&shared);
            let slots = Arc::clone(&bucket_slots);
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await.expect("semaphore never closed");
                collect_bucket(&shared, name, hint).await
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let outcome = joined
                .map_err(|e| CollectError::Internal(format!("collecting a bucket: {e}")))??;
            outcomes.push(outcome);
            progress.inc();
        }

        // CloudTrail: the chosen regions, else every region with an in-scope bucket plus the
        // home region (where a single-region trail of the account most likely lives).
        let regions: Vec<String> = match &shared.selected_regions {
            Some(set) => set.iter().cloned().collect(),
            None => {
                let mut set: BTreeSet<String> = outcomes
                    .iter()
                    .filter(|o| o.in_scope)
                    .map(|o| o.region.clone())
                    .collect();
                set.insert(clients.home_region().to_owned());
                set.into_iter().collect()
            }
        };
        regions.iter().for_each(|r| trail_runs.ensure(&shared, r));
        progress.phase("cloudtrail (2 lookups/s)", regions.len() as u64);
        let (trail_failures, trail_keys) = finish_cloudtrail(&shared, trail_runs, progress).await?;

        // The KMS keys behind the in-scope buckets and the trails.
        let key_refs: BTreeSet<kms::KeyRef> = outcomes
            .iter()
            .filter_map(|o| o.key.clone())
            .chain(trail_keys)
            .collect();
        let key_failures = kms::KeyRun {
            limiter: &shared.limiter,
            writer: &shared.writer,
            clients: &shared.clients,
            account_id: self.account_id,
            partition: self.partition,
            collected_at: &shared.collected_at,
        }
        .collect(key_refs)
        .await?;

        let mut snapshot = json!({
            "format": SNAPSHOT_FORMAT,
            "collected_at": shared.collected_at,
            "tool_version": env!("CARGO_PKG_VERSION"),
            "account_id": self.account_id,
            "partition": self.partition,
            "regions": regions,
            "scope": shared.scope.to_json(),
            "review_period": { "since": rfc3339(plan.since), "until": rfc3339(plan.until) },
        });
        snapshot["collector"] = plan.collector_json(args, clients, self.caller);
        let mut account = Map::new();
        account.insert(
            Operation::S3ControlGetPublicAccessBlock
                .aws_name()
                .to_owned(),
            account_pab,
        );
        snapshot["account"] = Value::Object(account);
        if let Some(org) = &args.organization {
            snapshot["organization"] = Value::String(org.clone());
        }
        let account_failed = usize::from(result::is_collection_failure(
            &snapshot["account"][Operation::S3ControlGetPublicAccessBlock.aws_name()],
        ));
        shared.writer.write_json(META_FILE, &snapshot)?;
        let mut iam_failed = 0;
        for (operation, result) in &identity {
            iam_failed += usize::from(result::is_collection_failure(result));
            let file = operation.iam_file().expect("an IAM operation");
            shared.writer.write_json(&file, result)?;
        }
        if let Some((policies, failed)) = looked_up {
            iam_failed += failed;
            (shared.writer).write_json(&Operation::iam_policies_file(), &policies)?;
        }

        // Every task has been joined, so nothing writes into the directory any more.
        let out = shared.writer.commit()?;
        Ok(AccountTotals {
            out,
            buckets: outcomes.len(),
            buckets_in_scope: outcomes.iter().filter(|o| o.in_scope).count(),
            regions,
            api_calls: shared.limiter.calls(),
            failed_calls: outcomes.iter().map(|o| o.failed_calls).sum::<usize>()
                + trail_failures
                + key_failures
                + account_failed
                + iam_failed,
        })
    }
}

pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// ListBuckets page size. S3 allows up to 10,000; unpaginated ListBuckets is only supported for
/// accounts at the default bucket quota, so collect always pages.
const LIST_BUCKETS_PAGE: i32 = 1000;

/// ListBuckets, all pages; a refusal stops the run.
pub(crate) async fn list_buckets(
    limiter: &Limiter,
    clients: &Clients,
    endpoint: &str,
) -> Result<Vec<(String, Option<String>)>, CollectError> {
    let client = clients.s3(clients.home_region());
    s3::list_buckets(limiter, &client, LIST_BUCKETS_PAGE)
        .await
        .map_err(|e| fatal("s3:ListBuckets", endpoint, &e))
}

/// One bucket: location and tags (always, they decide scope), then, in scope, every other
/// operation and the access-log probe. Writes `buckets/<name>.json` (and `access-logs/...`).
async fn collect_bucket(
    shared: &Shared,
    name: String,
    region_hint: Option<String>,
) -> Result<BucketOutcome, CollectError> {
    let l = &shared.limiter;
    let probe_region = region_hint
        .clone()
        .unwrap_or_else(|| shared.clients.home_region().to_owned());
    let (location, located) = s3::locate(l, &shared.clients, &probe_region, &name).await;
    // When the location cannot be read, the listing's region (or the home region) is the best
    // guess; the error stays in the evidence.
    let region = located.unwrap_or(probe_region);
    let client = shared.clients.s3(&region);
    let (tagging, tags) = s3::get_tagging(l, &client, &name).await;

    let mut decision = match &shared.selected_regions {
        Some(set) if !set.contains(&region) => {
            scope::Decision::Out(format!("region {region} was not selected for collection"))
        }
        _ => shared.scope.decide_by_name(&name, &region),
    };
    if decision == scope::Decision::In {
        decision = shared.scope.decide_by_tags(tags.as_ref());
    }

    let mut calls = BTreeMap::new();
    calls.insert(Operation::GetBucketLocation.aws_name().to_owned(), location);
    calls.insert(Operation::GetBucketTagging.aws_name().to_owned(), tagging);
    let mut doc = json!({
        "name": name,
        "region": region,
        "collected_at": shared.collected_at,
    });
    let in_scope = decision == scope::Decision::In;
    match decision {
        scope::Decision::In => {
            calls.extend(s3::get_configuration(l, &client, &name).await);
            doc["in_scope"] = Value::Bool(true);
        }
        scope::Decision::Out(reason) => {
            doc["in_scope"] = Value::Bool(false);
            doc["scope_reason"] = Value::String(reason);
        }
    }

    let mut failed_calls = calls
        .values()
        .filter(|r| result::is_collection_failure(r))
        .count();
    if in_scope {
        if let Some(target) = calls
            .get(Operation::GetBucketLogging.aws_name())
            .and_then(s3::LogTarget::from_result)
        {
            let page = s3::newest_log_page(
                l,
                &client,
                &target,
                &shared.account_id,
                &region,
                &name,
                shared.since,
                shared.until,
            )
            .await;
            failed_calls += usize::from(result::is_collection_failure(&page));
            let mut evidence = json!({
                "target_bucket": target.bucket,
                "target_prefix": target.prefix,
            });
            evidence[Operation::ListObjectsV2.aws_name()] = page;
            shared.writer.write_json(
                &format!("{ACCESS_LOGS_DIR}/{}", writer::file_name_for(&name)),
                &evidence,
            )?;
        }
    }
    let key = calls
        .get(Operation::GetBucketEncryption.aws_name())
        .filter(|_| in_scope)
        .and_then(|encryption| kms::bucket_key_ref(encryption, &region));
    doc["calls"] = serde_json::to_value(calls).expect("JSON map");
    shared.writer.write_json(
        &format!("{BUCKETS_DIR}/{}", writer::file_name_for(&name)),
        &doc,
    )?;
    Ok(BucketOutcome {
        region,
        in_scope,
        failed_calls,
        key,
    })
}

type RegionEvidence = (String, Value, Vec<cloudtrail::TrailRef>, Value);

/// The per-region CloudTrail tasks (DescribeTrails and LookupEvents), started at most once each.
#[derive(Default)]
struct RegionRuns {
    started: BTreeSet<String>,
    tasks: JoinSet<RegionEvidence>,
}

impl RegionRuns {
    fn ensure(&mut self, shared: &Arc<Shared>, region: &str) {
        if !self.started.insert(region.to_owned()) {
            return;
        }
        let shared = Arc::clone(shared);
        let region = region.to_owned();
        self.tasks.spawn(async move {
            let client = shared.clients.cloudtrail(&region);
            // LookupEvents is paced per region, so regions run side by side.
            let pacer = Pacer::new(Pacer::LOOKUP_EVENTS_INTERVAL);
            let ((described, trails), lookup) = tokio::join!(
                cloudtrail::describe_trails(&shared.limiter, &client),
                cloudtrail::lookup_config_changes(
                    &shared.limiter,
                    &pacer,
                    &client,
                    shared.since,
                    shared.until
                ),
            );
            (region, described, trails, lookup)
        });
    }
}

/// Waits for the region tasks, then asks GetTrailStatus and GetEventSelectors once per distinct
/// trail (of its home region) and writes `cloudtrail/<region>.json`. Returns the number of failed
/// calls and the trails' KMS keys.
async fn finish_cloudtrail(
    shared: &Arc<Shared>,
    runs: RegionRuns,
    progress: &dyn Progress,
) -> Result<(usize, Vec<kms::KeyRef>), CollectError> {
    let mut tasks = runs.tasks;
    let mut per_region = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        per_region.push(
            joined.map_err(|e| CollectError::Internal(format!("collecting CloudTrail: {e}")))?,
        );
    }

    // A multi-region trail appears in every region (as a shadow trail elsewhere): ask once.
    let distinct: BTreeSet<cloudtrail::TrailRef> = per_region
        .iter()
        .flat_map(|(_, _, trails, _)| trails.iter().cloned())
        .collect();
    let mut detail_tasks = JoinSet::new();
    for t in distinct {
        let shared = Arc::clone(shared);
        detail_tasks.spawn(async move {
            let home = t
                .home_region
                .clone()
                .unwrap_or_else(|| shared.clients.home_region().to_owned());
            let client = shared.clients.cloudtrail(&home);
            let details = cloudtrail::trail_details(&shared.limiter, &client, &t.arn).await;
            (t.arn, details)
        });
    }
    let mut details: BTreeMap<String, Value> = BTreeMap::new();
    while let Some(joined) = detail_tasks.join_next().await {
        let (arn, d) =
            joined.map_err(|e| CollectError::Internal(format!("collecting CloudTrail: {e}")))?;
        details.insert(arn, d);
    }

    let mut failures = 0;
    let mut keys = Vec::new();
    for (region, described, trails, lookup) in per_region {
        keys.extend(kms::trail_key_refs(&described, &region));
        let mut trail_map = serde_json::Map::new();
        for t in &trails {
            if let Some(d) = details.get(&t.arn) {
                trail_map.insert(t.arn.clone(), d.clone());
            }
        }
        failures += usize::from(result::is_collection_failure(&described))
            + usize::from(result::is_collection_failure(&lookup))
            + trail_map
                .values()
                .flat_map(|d| {
                    [Operation::GetTrailStatus, Operation::GetEventSelectors]
                        .map(|op| &d[op.aws_name()])
                })
                .filter(|r| result::is_collection_failure(r))
                .count();
        let mut doc = json!({ "trails": trail_map });
        doc[Operation::DescribeTrails.aws_name()] = described;
        doc[Operation::LookupEvents.aws_name()] = lookup;
        shared.writer.write_json(
            &format!("{CLOUDTRAIL_DIR}/{}", writer::file_name_for(&region)),
            &doc,
        )?;
        progress.inc();
    }
    Ok((failures, keys))
}
