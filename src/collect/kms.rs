//! KMS evidence: the keys that in-scope buckets' default encryption and trails' log encryption
//! name. Each reference (key id, key ARN, alias name or alias ARN; `aws:kms` without a key id is
//! the AWS managed `alias/aws/s3`) is resolved in the bucket's own account and region, aliases
//! through that region's ListAliases (`kms/<region>/aliases.json`). Every distinct key then gets
//! DescribeKey, GetKeyRotationStatus, GetKeyPolicy (`default`) and ListGrants, written as
//! `kms/<region>/<key-id>.json` in the shapes the AWS CLI prints. A key of another account is
//! asked like any other and recorded with whatever the caller may read (usually
//! AccessDeniedException). An alias that cannot be resolved is left to the evaluator, which
//! judges it `error` from the recorded ListAliases answer.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_kms::types::{AliasListEntry, GrantListEntry, KeyMetadata};
use aws_sdk_kms::Client;
use serde_json::{json, Value};

use super::limit::Limiter;
use super::result::{is_collection_failure, ok, record, Obj};
use super::writer::{SnapshotWriter, WriteError};
use crate::schema::{Operation, KMS_ALIASES_STEM, KMS_DIR};

/// The AWS managed key S3 uses for `aws:kms` without a key id.
pub const AWS_S3_ALIAS: &str = "alias/aws/s3";

/// Items per ListGrants / ListAliases page (the API's maximum).
const PAGE: i32 = 100;

/// A key reference as a bucket or trail names it, with the region it resolves in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyRef {
    pub reference: String,
    pub region: String,
}

/// The key reference of a GetBucketEncryption RESULT, when the default encryption uses KMS.
pub fn bucket_key_ref(encryption: &Value, region: &str) -> Option<KeyRef> {
    let rules = encryption
        .get("ok")?
        .get("ServerSideEncryptionConfiguration")?
        .get("Rules")?
        .as_array()?;
    rules.iter().find_map(|rule| {
        let default = rule.get("ApplyServerSideEncryptionByDefault")?;
        if !default
            .get("SSEAlgorithm")?
            .as_str()?
            .starts_with("aws:kms")
        {
            return None;
        }
        let reference = default
            .get("KMSMasterKeyID")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
            .unwrap_or(AWS_S3_ALIAS);
        Some(KeyRef {
            reference: reference.to_owned(),
            region: region.to_owned(),
        })
    })
}

/// The KmsKeyId of every trail a DescribeTrails RESULT lists, in the trail's home region.
pub fn trail_key_refs(described: &Value, region: &str) -> Vec<KeyRef> {
    let Some(trails) = described
        .get("ok")
        .and_then(|o| o.get("trailList"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    trails
        .iter()
        .filter_map(|t| {
            let key = t.get("KmsKeyId")?.as_str().filter(|k| !k.is_empty())?;
            let home = t
                .get("HomeRegion")
                .and_then(Value::as_str)
                .unwrap_or(region);
            Some(KeyRef {
                reference: key.to_owned(),
                region: home.to_owned(),
            })
        })
        .collect()
}

/// Where a reference points: a key (region, account, key id), or an alias of this account
/// (region, alias name) still to be resolved. `None`: an alias of another account.
enum Target {
    Key(String, String, String),
    Alias(String, String),
}

/// A region or key id that is safe as a file or directory name (and is what AWS uses: letters,
/// digits and hyphens). Anything else is not collected; the evaluator reports the key missing.
fn safe(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn target(key: &KeyRef, own_account: &str) -> Option<Target> {
    let (region, account, resource) = match key.reference.strip_prefix("arn:") {
        Some(rest) => match rest.splitn(5, ':').collect::<Vec<_>>()[..] {
            [_, "kms", region, account, resource] => {
                (region.to_owned(), account.to_owned(), resource.to_owned())
            }
            _ => return None,
        },
        None => (
            key.region.clone(),
            own_account.to_owned(),
            key.reference.clone(),
        ),
    };
    if !safe(&region) {
        return None;
    }
    if resource.starts_with("alias/") {
        return (account == own_account).then_some(Target::Alias(region, resource));
    }
    let key_id = resource
        .strip_prefix("key/")
        .unwrap_or(&resource)
        .to_owned();
    safe(&key_id).then_some(Target::Key(region, account, key_id))
}

/// What the key collection needs of the account.
pub struct KeyRun<'a> {
    pub limiter: &'a Limiter,
    pub writer: &'a SnapshotWriter,
    pub clients: &'a super::clients::Clients,
    pub account_id: &'a str,
    pub partition: &'a str,
    pub collected_at: &'a str,
}

impl KeyRun<'_> {
    /// Resolves `refs`, reads every key and writes the files. Returns the number of failed calls.
    pub async fn collect(&self, refs: BTreeSet<KeyRef>) -> Result<usize, WriteError> {
        let targets: Vec<Target> = refs
            .iter()
            .filter_map(|r| target(r, self.account_id))
            .collect();
        let alias_regions: BTreeSet<&str> = targets
            .iter()
            .filter_map(|t| match t {
                Target::Alias(region, _) => Some(region.as_str()),
                Target::Key(..) => None,
            })
            .collect();
        let mut failures = 0;
        let mut aliases: BTreeMap<String, Value> = BTreeMap::new();
        for region in alias_regions {
            let listing = list_aliases(self.limiter, &self.clients.kms(region)).await;
            failures += usize::from(is_collection_failure(&listing));
            let doc = json!({"region": region, "collected_at": self.collected_at,
                "calls": {Operation::ListAliases.aws_name(): listing}});
            self.writer
                .write_json(&format!("{KMS_DIR}/{region}/{KMS_ALIASES_STEM}.json"), &doc)?;
            aliases.insert(region.to_owned(), listing);
        }
        let mut keys: BTreeSet<(String, String, String)> = BTreeSet::new();
        for t in targets {
            match t {
                Target::Key(region, account, key_id) => {
                    keys.insert((region, account, key_id));
                }
                Target::Alias(region, alias) => {
                    if let Some(key_id) =
                        alias_target(&aliases[&region], &alias).filter(|k| safe(k))
                    {
                        keys.insert((region, self.account_id.to_owned(), key_id));
                    }
                }
            }
        }
        for (region, account, key_id) in keys {
            failures += self.collect_key(&region, &account, &key_id).await?;
        }
        Ok(failures)
    }

    async fn collect_key(
        &self,
        region: &str,
        account: &str,
        key_id: &str,
    ) -> Result<usize, WriteError> {
        let client = self.clients.kms(region);
        let arn = format!("arn:{}:kms:{region}:{account}:key/{key_id}", self.partition);
        let l = self.limiter;
        let described = record(
            l.call(client.describe_key().key_id(&arn).send()).await,
            |o| {
                Obj::new()
                    .val("KeyMetadata", o.key_metadata().map(key_metadata))
                    .build()
            },
        );
        let rotation = record(
            l.call(client.get_key_rotation_status().key_id(&arn).send())
                .await,
            |o| {
                Obj::new()
                    .bool("KeyRotationEnabled", Some(o.key_rotation_enabled()))
                    .str("KeyId", o.key_id())
                    .int(
                        "RotationPeriodInDays",
                        o.rotation_period_in_days().map(i64::from),
                    )
                    .time("NextRotationDate", o.next_rotation_date())
                    .time(
                        "OnDemandRotationStartDate",
                        o.on_demand_rotation_start_date(),
                    )
                    .build()
            },
        );
        let policy = record(
            l.call(
                client
                    .get_key_policy()
                    .key_id(&arn)
                    .policy_name("default")
                    .send(),
            )
            .await,
            |o| {
                Obj::new()
                    .str("Policy", o.policy())
                    .str("PolicyName", o.policy_name())
                    .build()
            },
        );
        let grants = list_grants(l, &client, &arn).await;
        let calls = [
            (Operation::DescribeKey, described),
            (Operation::GetKeyRotationStatus, rotation),
            (Operation::GetKeyPolicy, policy),
            (Operation::ListGrants, grants),
        ];
        let failures = calls
            .iter()
            .filter(|(_, r)| is_collection_failure(r))
            .count();
        let calls: serde_json::Map<String, Value> = calls
            .into_iter()
            .map(|(op, r)| (op.aws_name().to_owned(), r))
            .collect();
        let doc = json!({"key_id": key_id, "key_arn": arn, "region": region,
            "collected_at": self.collected_at, "calls": calls});
        self.writer
            .write_json(&format!("{KMS_DIR}/{region}/{key_id}.json"), &doc)?;
        Ok(failures)
    }
}

/// The key id an alias of a ListAliases RESULT targets.
fn alias_target(listing: &Value, alias: &str) -> Option<String> {
    listing
        .get("ok")?
        .get("Aliases")?
        .as_array()?
        .iter()
        .find(|a| a.get("AliasName").and_then(Value::as_str) == Some(alias))?
        .get("TargetKeyId")?
        .as_str()
        .map(str::to_owned)
}

/// Every alias of the region (all pages), as one ListAliases answer.
async fn list_aliases(limiter: &Limiter, client: &Client) -> Value {
    let mut all: Vec<Value> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let outcome = limiter
            .call(
                client
                    .list_aliases()
                    .limit(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await;
        let page = match outcome {
            Ok(page) => page,
            Err(err) => return record::<(), _>(Err(err), |_| Value::Null),
        };
        all.extend(page.aliases().iter().map(alias));
        match page.next_marker().filter(|_| page.truncated()) {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    ok(json!({"Aliases": all, "Truncated": false}))
}

/// Every grant of the key (all pages), as one ListGrants answer.
async fn list_grants(limiter: &Limiter, client: &Client, key: &str) -> Value {
    let mut all: Vec<Value> = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let outcome = limiter
            .call(
                client
                    .list_grants()
                    .key_id(key)
                    .limit(PAGE)
                    .set_marker(marker.clone())
                    .send(),
            )
            .await;
        let page = match outcome {
            Ok(page) => page,
            Err(err) => return record::<(), _>(Err(err), |_| Value::Null),
        };
        all.extend(page.grants().iter().map(grant));
        match page.next_marker().filter(|_| page.truncated()) {
            Some(next) => marker = Some(next.to_owned()),
            None => break,
        }
    }
    ok(json!({"Grants": all, "Truncated": false}))
}

fn alias(a: &AliasListEntry) -> Value {
    Obj::new()
        .str("AliasName", a.alias_name())
        .str("AliasArn", a.alias_arn())
        .str("TargetKeyId", a.target_key_id())
        .time("CreationDate", a.creation_date())
        .time("LastUpdatedDate", a.last_updated_date())
        .build()
}

fn grant(g: &GrantListEntry) -> Value {
    Obj::new()
        .str("KeyId", g.key_id())
        .str("GrantId", g.grant_id())
        .str("Name", g.name())
        .time("CreationDate", g.creation_date())
        .str("GranteePrincipal", g.grantee_principal())
        .str("RetiringPrincipal", g.retiring_principal())
        .str("IssuingAccount", g.issuing_account())
        .list("Operations", g.operations(), |op| json!(op.as_str()))
        .build()
}

// CustomerMasterKeySpec is deprecated in the model but still returned, and the CLI prints it.
#[allow(deprecated)]
fn key_metadata(m: &KeyMetadata) -> Value {
    Obj::new()
        .str("AWSAccountId", m.aws_account_id())
        .str("KeyId", Some(m.key_id()))
        .str("Arn", m.arn())
        .time("CreationDate", m.creation_date())
        .bool("Enabled", Some(m.enabled()))
        .str("Description", m.description())
        .str("KeyUsage", m.key_usage().map(|v| v.as_str()))
        .str("KeyState", m.key_state().map(|v| v.as_str()))
        .time("DeletionDate", m.deletion_date())
        .time("ValidTo", m.valid_to())
        .str("Origin", m.origin().map(|v| v.as_str()))
        .str("CustomKeyStoreId", m.custom_key_store_id())
        .str("CloudHsmClusterId", m.cloud_hsm_cluster_id())
        .str("ExpirationModel", m.expiration_model().map(|v| v.as_str()))
        .str("KeyManager", m.key_manager().map(|v| v.as_str()))
        .str(
            "CustomerMasterKeySpec",
            m.customer_master_key_spec().map(|v| v.as_str()),
        )
        .str("KeySpec", m.key_spec().map(|v| v.as_str()))
        .list("EncryptionAlgorithms", m.encryption_algorithms(), |v| {
            json!(v.as_str())
        })
        .list("SigningAlgorithms", m.signing_algorithms(), |v| {
            json!(v.as_str())
        })
        .list("MacAlgorithms", m.mac_algorithms(), |v| json!(v.as_str()))
        .bool("MultiRegion", m.multi_region())
        .int(
            "PendingDeletionWindowInDays",
            m.pending_deletion_window_in_days().map(i64::from),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_in_the_buckets_account_and_region() {
        let r = |reference: &str| KeyRef {
            reference: reference.into(),
            region: "eu-west-1".into(),
        };
        let own = "111122223333";
        assert!(matches!(target(&r("1234abcd"), own),
            Some(Target::Key(region, account, id)) if region == "eu-west-1" && account == own && id == "1234abcd"));
        assert!(
            matches!(target(&r("arn:aws:kms:us-east-2:444455556666:key/k1"), own),
            Some(Target::Key(region, account, id)) if region == "us-east-2" && account == "444455556666" && id == "k1")
        );
        assert!(matches!(target(&r("alias/aws/s3"), own),
            Some(Target::Alias(region, alias)) if region == "eu-west-1" && alias == "alias/aws/s3"));
        assert!(target(&r("arn:aws:kms:us-east-2:444455556666:alias/theirs"), own).is_none());
        assert!(target(&r("arn:aws:kms:../x:111122223333:key/k1"), own).is_none());
        assert!(target(&r("key/../../etc"), own).is_none());
        let encryption = json!({"ok": {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}}});
        assert_eq!(
            bucket_key_ref(&encryption, "eu-west-1").unwrap().reference,
            AWS_S3_ALIAS
        );
        let sse_s3 = json!({"ok": {"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}}});
        assert_eq!(bucket_key_ref(&sse_s3, "eu-west-1"), None);
    }
}
