//! The KMS key controls: whether the keys behind in-scope buckets' default encryption and
//! behind trails' log encryption can be used, are rotated, and whom their key policy and grants
//! let decrypt. Subjects are key ARNs.
//!
//! Which keys: every key an in-scope bucket's default encryption names (a key id, key ARN, alias
//! name or alias ARN; `aws:kms` without a key id is the AWS managed `aws/s3` key), resolved in
//! the bucket's own account and region through the region's ListAliases, every trail's
//! KmsKeyId, and every key file of the snapshot. A reference that cannot be resolved, or a key
//! without evidence, is judged `error` by every control, never `pass`.
//!
//! "Decrypt" is any action that leads to plaintext or to the power to grant it
//! ([`DECRYPT_ACTIONS`]); the key policy is judged with the bucket-policy matching code
//! ([`super::access`]): wildcards and NotAction, an explicit Deny removing what it covers,
//! `kms:CallerAccount` (not `kms:ViaService`) pinning the caller.

use std::collections::BTreeMap;

use super::access::{account_of, allows_on, covers_action, foreign_principals, public_allows_on};
use super::{AccountContext, Verdict};
use crate::findings::KeyFacts;
use crate::schema::Operation;
use crate::snapshot::kms::{aliases_ref, KeyEvidence, KeyMetadata};
use crate::snapshot::{Evidence, Unavailable};

/// A key finding's reason names at most this many of the subjects the key protects per kind.
pub const NAMED_IN_REASON: usize = 10;

/// The actions that give plaintext of data under the key, or the power to grant that.
pub const DECRYPT_ACTIONS: [&str; 4] = [
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
];

/// The grant operations among [`DECRYPT_ACTIONS`] (a grant cannot give PutKeyPolicy).
const DECRYPT_GRANT_OPERATIONS: [&str; 3] = ["Decrypt", "ReEncryptFrom", "CreateGrant"];

/// Condition keys that pin the caller of a key policy statement besides the S3 ones.
/// `kms:ViaService` is not among them: it names the service a call comes through, not who calls.
pub const KMS_PINNING_KEYS: &[&str] = &["kms:calleraccount"];

/// The AWS managed key S3 uses for `aws:kms` without a key id.
pub const AWS_S3_ALIAS: &str = "alias/aws/s3";

/// One key as the controls see it.
pub struct KeyContext<'a> {
    /// The key ARN (the subject), or the alias ARN of an alias that could not be resolved.
    pub arn: String,
    pub key: Option<&'a KeyEvidence>,
    /// Why there is no key evidence, when there is none.
    pub missing: Option<(String, Vec<String>)>,
    /// The account that owns the snapshot.
    pub own_account: &'a str,
    /// ePHI buckets (`s3://...`) first, then the other in-scope buckets, then trail ARNs, each
    /// part in name order.
    pub protects: Vec<String>,
    /// How many of `protects` are ePHI buckets, and how many are buckets.
    ephi_buckets: usize,
    buckets: usize,
}

/// What relies on a key: ePHI buckets, other in-scope buckets, trails (the order they are named).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Use {
    EphiBucket,
    Bucket,
    Trail,
}

/// Where a reference led.
enum Resolved {
    Key {
        region: String,
        account: String,
        key_id: String,
    },
    /// Not resolvable: the subject to report, why, and the evidence consulted.
    Unresolved {
        subject: String,
        why: String,
        evidence: Vec<String>,
    },
}

/// Resolves a bucket's or trail's key reference in `region` of the snapshot's account.
fn resolve(reference: &str, region: &str, account: &AccountContext) -> Resolved {
    let own = account.meta.account_id.as_str();
    let partition = account.meta.partition.as_str();
    let (region, owner, resource) = match reference.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            match parts[..] {
                [_, "kms", r, a, resource] => (r.to_string(), a.to_string(), resource),
                _ => {
                    return Resolved::Unresolved {
                        subject: reference.to_string(),
                        why: format!("\"{reference}\" is not a KMS key or alias ARN"),
                        evidence: Vec::new(),
                    }
                }
            }
        }
        None => (region.to_string(), own.to_string(), reference),
    };
    if let Some(key_id) = resource.strip_prefix("key/") {
        return Resolved::Key {
            region,
            account: owner,
            key_id: key_id.to_string(),
        };
    }
    if !resource.starts_with("alias/") {
        return Resolved::Key {
            region,
            account: owner,
            key_id: resource.to_string(),
        };
    }
    let subject = format!("arn:{partition}:kms:{region}:{owner}:{resource}");
    let unresolved = |why: String, evidence: Vec<String>| Resolved::Unresolved {
        subject: subject.clone(),
        why,
        evidence,
    };
    if owner != own {
        return unresolved(
            format!(
                "the alias {resource} belongs to account {owner}, whose aliases cannot be listed"
            ),
            Vec::new(),
        );
    }
    let evidence = vec![aliases_ref(&region)];
    match account.kms.aliases.get(&region) {
        None => unresolved(
            format!("ListAliases of {region} was not collected"),
            evidence,
        ),
        Some(Evidence::Unavailable(why)) => unresolved(why.to_string(), evidence),
        Some(Evidence::NotConfigured) => {
            unresolved("ListAliases answered nothing".into(), evidence)
        }
        Some(Evidence::Found(aliases)) => {
            match aliases
                .iter()
                .find(|a| a.alias_name == resource)
                .and_then(|a| a.target_key_id.clone())
            {
                Some(key_id) => Resolved::Key {
                    region,
                    account: owner,
                    key_id,
                },
                None => unresolved(
                    format!("ListAliases of {region} has no key for {resource}"),
                    evidence,
                ),
            }
        }
    }
}

/// The key reference of a bucket's default encryption, if it uses KMS.
fn bucket_key_reference(bucket: &crate::snapshot::Bucket) -> Option<String> {
    let config = bucket.encryption.found()?;
    config.rules.iter().find_map(|rule| {
        let default = rule.apply_server_side_encryption_by_default.as_ref()?;
        if !default.sse_algorithm.starts_with("aws:kms") {
            return None;
        }
        Some(
            default
                .kms_master_key_id
                .clone()
                .filter(|k| !k.is_empty())
                .unwrap_or_else(|| AWS_S3_ALIAS.to_string()),
        )
    })
}

/// Every key subject of the account, in ARN order.
pub fn key_contexts<'a>(account: &'a AccountContext<'a>) -> Vec<KeyContext<'a>> {
    let own = account.meta.account_id.as_str();
    let partition = &account.meta.partition;
    let mut subjects: BTreeMap<String, KeyContext<'a>> = BTreeMap::new();
    let mut uses: BTreeMap<String, Vec<(Use, String)>> = BTreeMap::new();
    let mut add = |resolved: Resolved, user: Option<(Use, String)>| {
        let (arn, key, missing) = match resolved {
            Resolved::Key {
                region,
                account: owner,
                key_id,
            } => {
                let arn = format!("arn:{partition}:kms:{region}:{owner}:key/{key_id}");
                let key = account
                    .kms
                    .key(&region, &key_id)
                    .filter(|k| k.key_arn == arn);
                let missing = key.is_none().then(|| {
                    (
                        format!("kms/{region}/{key_id}.json is missing: the key was not collected"),
                        Vec::new(),
                    )
                });
                (arn, key, missing)
            }
            Resolved::Unresolved {
                subject,
                why,
                evidence,
            } => (
                subject,
                None,
                Some((format!("the key could not be resolved: {why}"), evidence)),
            ),
        };
        if let Some(user) = user {
            uses.entry(arn.clone()).or_default().push(user);
        }
        subjects.entry(arn.clone()).or_insert(KeyContext {
            arn,
            key,
            missing,
            own_account: own,
            protects: Vec::new(),
            ephi_buckets: 0,
            buckets: 0,
        });
    };
    let in_scope: Vec<&crate::snapshot::Bucket> = account
        .buckets
        .values()
        .copied()
        .filter(|b| b.in_scope)
        .collect();
    let tags: Vec<_> = in_scope.iter().map(|b| (true, &b.tags)).collect();
    let selectors = super::ephi::Selectors::new(&account.meta.ephi_selectors);
    let designations = super::ephi::designate_tags(&tags, &selectors);
    for (bucket, designation) in in_scope.iter().zip(designations) {
        if let Some(reference) = bucket_key_reference(bucket) {
            let ephi = designation.is_some_and(|d| d.ephi);
            let kind = if ephi { Use::EphiBucket } else { Use::Bucket };
            add(
                resolve(&reference, &bucket.region, account),
                Some((kind, bucket.subject())),
            );
        }
    }
    for trail in &account.trails {
        if let Some(reference) = trail.trail.kms_key_id.as_deref().filter(|k| !k.is_empty()) {
            let region = trail.trail.home_region.as_deref().unwrap_or(&trail.region);
            add(
                resolve(reference, region, account),
                Some((Use::Trail, trail.trail.trail_arn.clone())),
            );
        }
    }
    for key in account.kms.keys.values() {
        let owner = account_of(&key.key_arn).unwrap_or(own).to_string();
        add(
            Resolved::Key {
                region: key.region.clone(),
                account: owner,
                key_id: key.key_id.clone(),
            },
            None,
        );
    }
    for (arn, mut users) in uses {
        users.sort();
        users.dedup();
        let context = subjects.get_mut(&arn).expect("every use names a subject");
        context.ephi_buckets = users.iter().filter(|(u, _)| *u == Use::EphiBucket).count();
        context.buckets = users.iter().filter(|(u, _)| *u != Use::Trail).count();
        context.protects = users.into_iter().map(|(_, subject)| subject).collect();
    }
    subjects.into_values().collect()
}

impl KeyContext<'_> {
    /// The key's evidence, or the `error` verdict its absence calls for.
    fn evidence(&self) -> Result<&KeyEvidence, Verdict> {
        match (self.key, &self.missing) {
            (Some(key), _) => Ok(key),
            (None, Some((why, evidence))) => Err(Verdict::error(
                format!("Not assessed: {why}.{}", self.protects_text()),
                evidence.clone(),
            )),
            (None, None) => Err(Verdict::error("Not assessed: no key evidence.", Vec::new())),
        }
    }

    /// The key's metadata, or `error` (a key that no longer exists is `error` here: only
    /// kms.key-not-usable judges that).
    fn metadata(&self) -> Result<(&KeyEvidence, &KeyMetadata), Verdict> {
        let key = self.evidence()?;
        match &key.metadata {
            Evidence::Found(metadata) => Ok((key, metadata)),
            Evidence::Unavailable(why) => Err(self.unreadable(key, why, Operation::DescribeKey)),
            Evidence::NotConfigured => Err(self.unreadable(
                key,
                &not_collected(Operation::DescribeKey),
                Operation::DescribeKey,
            )),
        }
    }

    fn unreadable(&self, key: &KeyEvidence, why: &Unavailable, operation: Operation) -> Verdict {
        let gone = if is_gone(why) {
            " (the key no longer exists)"
        } else {
            ""
        };
        Verdict::error(
            format!("Not assessed: {why}{gone}.{}", self.protects_text()),
            vec![key.evidence_ref(operation)],
        )
    }

    /// ` It protects ePHI in s3://a; the bucket(s) s3://b; the log files of arn:...` (or a
    /// note that nothing in scope uses it). Each list names at most [`NAMED_IN_REASON`] and
    /// counts the rest: the finding's `facts.key.protects` lists every one.
    fn protects_text(&self) -> String {
        fn named(subjects: &[String], what: &str) -> String {
            match subjects.len().checked_sub(NAMED_IN_REASON) {
                Some(more) if more > 0 => format!(
                    "{} and {more} more {what}",
                    subjects[..NAMED_IN_REASON].join(", ")
                ),
                _ => subjects.join(", "),
            }
        }
        if self.protects.is_empty() {
            return " No in-scope bucket or trail in this snapshot uses it.".to_string();
        }
        let (ephi, rest) = self.protects.split_at(self.ephi_buckets);
        let (buckets, trails) = rest.split_at(self.buckets - self.ephi_buckets);
        let mut parts = Vec::new();
        if !ephi.is_empty() {
            parts.push(format!("ePHI in {}", named(ephi, "ePHI buckets")));
        }
        if !buckets.is_empty() {
            parts.push(format!("the bucket(s) {}", named(buckets, "buckets")));
        }
        if !trails.is_empty() {
            parts.push(format!("the log files of {}", named(trails, "trails")));
        }
        format!(" It protects {}.", parts.join("; "))
    }

    fn with_facts(&self, mut verdict: Verdict) -> Verdict {
        verdict.facts.key = Some(Box::new(self.facts()));
        verdict
    }

    /// The key's summary for the report.
    pub fn facts(&self) -> KeyFacts {
        let decrypt = if policy_public(self).status == crate::findings::Status::Fail {
            "public"
        } else {
            match cross_account(self).status {
                crate::findings::Status::Fail => "other accounts",
                crate::findings::Status::Pass => "this account only",
                _ => "unknown",
            }
        };
        KeyFacts {
            state: state_text(self),
            rotation: rotation_text(self),
            decrypt: decrypt.to_string(),
            protects: self.protects.clone(),
        }
    }
}

fn not_collected(operation: Operation) -> Unavailable {
    Unavailable {
        operation,
        code: crate::snapshot::NOT_COLLECTED.to_string(),
        message: String::new(),
    }
}

/// DescribeKey's NotFoundException: the key was deleted.
fn is_gone(why: &Unavailable) -> bool {
    why.operation == Operation::DescribeKey && why.code == "NotFoundException"
}

fn state_text(context: &KeyContext) -> String {
    match context.key.map(|k| &k.metadata) {
        Some(Evidence::Found(m)) => match (&*m.key_state, &m.deletion_date) {
            ("PendingDeletion", Some(date)) => format!("PendingDeletion (deleted on {date})"),
            (state, _) => state.to_string(),
        },
        Some(Evidence::Unavailable(why)) if is_gone(why) => "deleted (NotFoundException)".into(),
        _ => "unknown".into(),
    }
}

fn rotation_text(context: &KeyContext) -> String {
    let verdict = rotation_disabled(context);
    match verdict.status {
        crate::findings::Status::Fail => "off".into(),
        crate::findings::Status::Error => "unknown".into(),
        crate::findings::Status::NotApplicable => "not applicable".into(),
        _ => match context.key.and_then(|k| k.metadata.found()) {
            Some(m) if m.key_manager == "AWS" => "automatic (AWS managed key)".into(),
            _ => match context
                .key
                .and_then(|k| k.rotation.found())
                .and_then(|r| r.rotation_period_in_days)
            {
                Some(days) => format!("on (every {days} days)"),
                None => "on".into(),
            },
        },
    }
}

/// `kms.key-not-usable`: the key state is not Enabled, or the key no longer exists.
pub fn key_not_usable(context: &KeyContext) -> Verdict {
    context.with_facts(not_usable(context))
}

fn not_usable(context: &KeyContext) -> Verdict {
    let key = match context.evidence() {
        Ok(key) => key,
        Err(verdict) => return verdict,
    };
    let evidence = vec![key.evidence_ref(Operation::DescribeKey)];
    let protects = context.protects_text();
    let metadata = match &key.metadata {
        Evidence::Found(metadata) => metadata,
        Evidence::Unavailable(why) if is_gone(why) => {
            return Verdict::fail(
                format!("The key no longer exists (DescribeKey: NotFoundException): data encrypted under it cannot be decrypted again.{protects}"),
                evidence,
            )
        }
        Evidence::Unavailable(why) => return context.unreadable(key, why, Operation::DescribeKey),
        Evidence::NotConfigured => {
            return context.unreadable(
                key,
                &not_collected(Operation::DescribeKey),
                Operation::DescribeKey,
            )
        }
    };
    match (metadata.key_state.as_str(), &metadata.deletion_date) {
        ("Enabled", _) => Verdict::pass(format!("The key is Enabled.{protects}"), evidence),
        ("PendingDeletion", Some(date)) => Verdict::fail(
            format!("The key is scheduled for deletion on {date}; from then on data encrypted under it is unrecoverable.{protects}"),
            evidence,
        ),
        (state, _) => Verdict::fail(
            format!("The key is {state}, not Enabled: nothing encrypted under it can be read or written.{protects}"),
            evidence,
        ),
    }
}

/// `kms.key-rotation-disabled`: automatic rotation is off for a symmetric customer managed key
/// with key material generated by KMS.
pub fn key_rotation_disabled(context: &KeyContext) -> Verdict {
    context.with_facts(rotation_disabled(context))
}

fn rotation_disabled(context: &KeyContext) -> Verdict {
    let (key, metadata) = match context.metadata() {
        Ok(found) => found,
        Err(verdict) => return verdict,
    };
    let protects = context.protects_text();
    let mut evidence = vec![key.evidence_ref(Operation::DescribeKey)];
    if metadata.key_manager == "AWS" {
        return Verdict::pass(
            format!("An AWS managed key: AWS rotates it every year.{protects}"),
            evidence,
        );
    }
    let Some(spec) = metadata.spec() else {
        return Verdict::error(
            format!("Not assessed: DescribeKey names no KeySpec, so whether automatic rotation applies is unknown.{protects}"),
            evidence,
        );
    };
    if spec != "SYMMETRIC_DEFAULT" {
        return Verdict::not_applicable(
            format!(
                "A {spec} key: KMS rotates only symmetric encryption keys automatically.{protects}"
            ),
            evidence,
        );
    }
    match metadata.origin.as_deref() {
        None | Some("AWS_KMS") => {}
        Some(origin) => {
            return Verdict::not_applicable(
                format!("Key material from {origin}: KMS cannot rotate it automatically; rotation is the key owner's procedure.{protects}"),
                evidence,
            )
        }
    }
    evidence.push(key.evidence_ref(Operation::GetKeyRotationStatus));
    match &key.rotation {
        Evidence::Found(status) if status.key_rotation_enabled => Verdict::pass(
            format!(
                "Automatic rotation is on{}.{protects}",
                status
                    .rotation_period_in_days
                    .map(|d| format!(" (every {d} days)"))
                    .unwrap_or_default()
            ),
            evidence,
        ),
        Evidence::Found(_) => Verdict::fail(
            format!("Automatic rotation is off for this symmetric customer managed key.{protects}"),
            evidence,
        ),
        Evidence::Unavailable(why) => context.unreadable(key, why, Operation::GetKeyRotationStatus),
        Evidence::NotConfigured => context.unreadable(
            key,
            &not_collected(Operation::GetKeyRotationStatus),
            Operation::GetKeyRotationStatus,
        ),
    }
}

/// The key policy, or `error` (also when the key no longer exists).
fn policy_of<'k>(
    context: &KeyContext,
    key: &'k KeyEvidence,
) -> Result<&'k crate::snapshot::policy::PolicyDocument, Verdict> {
    if let Evidence::Unavailable(why) = &key.metadata {
        if is_gone(why) {
            return Err(context.unreadable(key, why, Operation::DescribeKey));
        }
    }
    match &key.policy {
        Evidence::Found(document) => Ok(document),
        Evidence::Unavailable(why) => Err(context.unreadable(key, why, Operation::GetKeyPolicy)),
        Evidence::NotConfigured => Err(context.unreadable(
            key,
            &not_collected(Operation::GetKeyPolicy),
            Operation::GetKeyPolicy,
        )),
    }
}

/// `kms.key-policy-public`: the key policy lets everyone decrypt.
pub fn key_policy_public(context: &KeyContext) -> Verdict {
    context.with_facts(policy_public(context))
}

fn policy_public(context: &KeyContext) -> Verdict {
    let key = match context.evidence() {
        Ok(key) => key,
        Err(verdict) => return verdict,
    };
    let document = match policy_of(context, key) {
        Ok(document) => document,
        Err(verdict) => return verdict,
    };
    let evidence = vec![key.evidence_ref(Operation::GetKeyPolicy)];
    let protects = context.protects_text();
    let public = public_decrypt(document, &key.key_arn);
    if public.is_empty() {
        Verdict::pass(
            format!("The key policy lets no one outside named principals decrypt.{protects}"),
            evidence,
        )
    } else {
        Verdict::fail(
            format!(
                "The key policy lets everyone decrypt: {}.{protects}",
                public.join("; ")
            ),
            evidence,
        )
    }
}

/// The key policy's statements that let everyone perform a decrypt action, described.
pub fn public_decrypt(
    document: &crate::snapshot::policy::PolicyDocument,
    key_arn: &str,
) -> Vec<String> {
    let mut found: Vec<(usize, String, Vec<&str>)> = Vec::new();
    for action in DECRYPT_ACTIONS {
        for statement in public_allows_on(document, action, key_arn, KMS_PINNING_KEYS) {
            match found.iter_mut().find(|(i, _, _)| *i == statement.index) {
                Some((_, _, actions)) => actions.push(action),
                None => found.push((statement.index, statement.label(), vec![action])),
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(_, label, actions)| format!("{label} allows {} to \"*\"", actions.join(", ")))
        .collect()
}

/// `kms.key-cross-account`: the key belongs to another account, or its policy or a grant lets
/// another account decrypt.
pub fn key_cross_account(context: &KeyContext) -> Verdict {
    context.with_facts(cross_account(context))
}

fn cross_account(context: &KeyContext) -> Verdict {
    let protects = context.protects_text();
    if let Some(owner) = account_of(&context.arn).filter(|a| *a != context.own_account) {
        return Verdict::fail(
            format!("The key belongs to account {owner}, not to this account ({}): its owner decides who decrypts.{protects}", context.own_account),
            context.key.map(|k| vec![k.evidence_ref(Operation::DescribeKey)]).unwrap_or_default(),
        );
    }
    let key = match context.evidence() {
        Ok(key) => key,
        Err(verdict) => return verdict,
    };
    let document = match policy_of(context, key) {
        Ok(document) => document,
        Err(verdict) => return verdict,
    };
    let grants = match &key.grants {
        Evidence::Found(listing) if !listing.truncated => &listing.grants[..],
        Evidence::Found(_) => {
            return Verdict::error(
                format!(
                    "Not assessed: ListGrants was truncated, so some grants are unknown.{protects}"
                ),
                vec![key.evidence_ref(Operation::ListGrants)],
            )
        }
        Evidence::Unavailable(why) => return context.unreadable(key, why, Operation::ListGrants),
        Evidence::NotConfigured => &[][..],
    };
    let mut foreign = foreign_decrypt(document, &key.key_arn, context.own_account);
    for grant in grants {
        let principal = grant.grantee_principal.as_deref().unwrap_or_default();
        let other = account_of(principal).is_some_and(|a| a != context.own_account);
        let ops: Vec<&str> = grant
            .operations
            .iter()
            .map(String::as_str)
            .filter(|op| DECRYPT_GRANT_OPERATIONS.contains(op))
            .collect();
        if other && !ops.is_empty() {
            foreign.push(format!(
                "grant {} gives {} {}",
                grant.grant_id.as_deref().unwrap_or("?"),
                principal,
                ops.join(", ")
            ));
        }
    }
    let evidence = vec![
        key.evidence_ref(Operation::GetKeyPolicy),
        key.evidence_ref(Operation::ListGrants),
    ];
    if foreign.is_empty() {
        Verdict::pass(
            format!("Only this account can decrypt: no key policy statement or grant reaches another account.{protects}"),
            evidence,
        )
    } else {
        Verdict::fail(
            format!(
                "Another account can decrypt: {}.{protects}",
                foreign.join("; ")
            ),
            evidence,
        )
    }
}

/// The key policy's statements that let principals of other accounts decrypt, described.
pub fn foreign_decrypt(
    document: &crate::snapshot::policy::PolicyDocument,
    key_arn: &str,
    own_account: &str,
) -> Vec<String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for action in DECRYPT_ACTIONS {
        for statement in allows_on(document, action, key_arn, KMS_PINNING_KEYS) {
            let foreign = foreign_principals(statement, own_account);
            if !foreign.is_empty() && !found.iter().any(|(i, _)| *i == statement.index) {
                let actions: Vec<&str> = DECRYPT_ACTIONS
                    .into_iter()
                    .filter(|a| covers_action(&statement.actions, a))
                    .collect();
                found.push((
                    statement.index,
                    format!(
                        "{} allows {} to {}",
                        statement.label(),
                        actions.join(", "),
                        foreign.join(", ")
                    ),
                ));
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, text)| text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::policy::PolicyDocument;

    const OWN: &str = "111122223333";
    const KEY: &str = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn judge(statements: &str) -> (Vec<String>, Vec<String>) {
        let document = PolicyDocument::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#
        ))
        .unwrap();
        (
            public_decrypt(&document, KEY),
            foreign_decrypt(&document, KEY, OWN),
        )
    }

    /// KMS Developer Guide, "Default key policy" ("Allows access to the AWS account and enables
    /// IAM policies"): the account principal of the key's own account with kms:*.
    #[test]
    fn the_default_key_policy_is_this_account_only() {
        let (public, foreign) = judge(
            r#"{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#,
        );
        assert!(
            public.is_empty() && foreign.is_empty(),
            "{public:?} {foreign:?}"
        );
    }

    /// KMS Developer Guide, "Key policies" / "Examining the key policy": do not set the principal
    /// to "*" in an Allow without conditions; it lets every identity in every AWS account use the
    /// key unless another statement denies it.
    #[test]
    fn principal_star_without_a_condition_is_public() {
        let (public, _) = judge(
            r#"{"Sid":"Open","Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Encrypt"],"Resource":"*"}"#,
        );
        assert_eq!(
            public,
            vec!["statement \"Open\" allows kms:Decrypt to \"*\""]
        );
        // Wildcards and NotAction that leave a decrypt action in.
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:De*","Resource":"*"}"#,
        );
        assert_eq!(public, vec!["statement 1 allows kms:Decrypt to \"*\""]);
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"NotAction":["kms:Decrypt","kms:ReEncrypt*"],"Resource":"*"}"#,
        );
        assert_eq!(
            public,
            vec!["statement 1 allows kms:CreateGrant, kms:PutKeyPolicy to \"*\""]
        );
        // Nothing that gives plaintext: Encrypt and GenerateDataKey for new data only.
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":"*","Action":["kms:Encrypt","kms:DescribeKey"],"Resource":"*"}"#,
        );
        assert!(public.is_empty(), "{public:?}");
    }

    /// KMS Developer Guide, "kms:CallerAccount" and the AWS managed key policies ("AWS managed
    /// keys"): Principal "*" limited by kms:CallerAccount (with kms:ViaService) is the account's
    /// own principals only; kms:ViaService alone names the service, not the caller.
    #[test]
    fn caller_account_pins_and_via_service_alone_does_not() {
        let (public, foreign) = judge(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
                "Condition":{"StringEquals":{"kms:CallerAccount":"111122223333","kms:ViaService":"s3.us-east-2.amazonaws.com"}}}"#,
        );
        assert!(
            public.is_empty() && foreign.is_empty(),
            "{public:?} {foreign:?}"
        );
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-2.amazonaws.com"}}}"#,
        );
        assert_eq!(public.len(), 1);
        // Pinned to another account: not public, but that account decrypts.
        let (public, foreign) = judge(
            r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*",
                "Condition":{"StringEquals":{"kms:CallerAccount":"444455556666"}}}"#,
        );
        assert!(public.is_empty());
        assert_eq!(
            foreign,
            vec!["statement 1 allows kms:Decrypt to account 444455556666"]
        );
    }

    /// An explicit Deny removes what it covers, as in a bucket policy: "Allow *, Deny everyone
    /// whose kms:CallerAccount is not ours" is not public.
    #[test]
    fn a_deny_outside_the_account_removes_the_public_allow() {
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
               {"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
                "Condition":{"StringNotEquals":{"kms:CallerAccount":"111122223333"}}}"#,
        );
        assert!(public.is_empty(), "{public:?}");
        // A Deny of Decrypt alone leaves CreateGrant and the rest public.
        let (public, _) = judge(
            r#"{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
               {"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}"#,
        );
        assert_eq!(
            public,
            vec![
                "statement 1 allows kms:ReEncryptFrom, kms:CreateGrant, kms:PutKeyPolicy to \"*\""
            ]
        );
    }

    /// KMS Developer Guide, "Allowing users in other accounts to use a KMS key": the key policy
    /// names the external account (its account principal) for the cryptographic operations and,
    /// for grants to AWS resources, kms:CreateGrant with kms:GrantIsForAWSResource.
    #[test]
    fn an_external_account_in_the_key_policy_is_cross_account() {
        let (public, foreign) = judge(
            r#"{"Sid":"Allow an external account to use this KMS key","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root","arn:aws:iam::111122223333:role/ExampleRole"]},
                "Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*"},
               {"Sid":"Allow attachment of persistent resources in an external account","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
                "Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":true}}}"#,
        );
        assert!(public.is_empty(), "{public:?}");
        assert_eq!(
            foreign,
            vec![
                "statement \"Allow an external account to use this KMS key\" allows kms:Decrypt, kms:ReEncryptFrom to arn:aws:iam::444455556666:root",
                "statement \"Allow attachment of persistent resources in an external account\" allows kms:CreateGrant to arn:aws:iam::444455556666:root",
            ]
        );
    }
}
