//! Who can reach a bucket: ACL grants and the bucket policy judged together the way S3 judges
//! them, with Block Public Access (bucket and account level) and Object Ownership applied.
//!
//! The rules follow the S3 User Guide ("The meaning of public", "Block public access settings",
//! "Controlling ownership of objects"), summed up in the README ("How exposure is judged"). Where the
//! documentation leaves a case open, the reading that cannot produce a false pass is taken.

use std::collections::BTreeSet;

use super::policy_match::{allow_reaches, deny_covers};
pub use super::policy_match::{covers_action, Target};
use crate::findings::Neutraliser;
use crate::schema::Operation;
use crate::snapshot::aws::{Acl, GranteeClass, Permission, PublicAccessBlock};
use crate::snapshot::policy::{
    Condition, Effect, Matcher, PolicyDocument, PrincipalSpec, Statement,
};
use crate::snapshot::{Bucket, Evidence, SnapshotMeta, ACCOUNT_PUBLIC_ACCESS_BLOCK_REF};

/// What a caller could do, in the terms the exposure controls use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// List the objects (bucket ACL READ; s3:ListBucket and friends).
    List,
    /// Read objects (only through a policy: a bucket ACL never grants object reads).
    ReadObjects,
    /// Create, overwrite or delete objects.
    WriteObjects,
    /// Read the bucket's ACL or policy.
    ReadPermissions,
    /// Replace the bucket's ACL or policy.
    WritePermissions,
}

impl Capability {
    fn actions(self) -> &'static [&'static str] {
        match self {
            Capability::List => &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            Capability::ReadObjects => &["s3:GetObject", "s3:GetObjectVersion"],
            Capability::WriteObjects => {
                &["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
            }
            Capability::ReadPermissions => &["s3:GetBucketAcl", "s3:GetBucketPolicy"],
            Capability::WritePermissions => &[
                "s3:PutBucketAcl",
                "s3:PutBucketPolicy",
                "s3:DeleteBucketPolicy",
            ],
        }
    }

    fn target(self) -> Target {
        match self {
            Capability::ReadObjects | Capability::WriteObjects => Target::Objects,
            _ => Target::Bucket,
        }
    }

    /// The bucket-ACL permissions that grant this capability.
    fn acl_permissions(self) -> &'static [Permission] {
        match self {
            Capability::List => &[Permission::Read, Permission::FullControl],
            Capability::ReadObjects => &[],
            Capability::WriteObjects => &[Permission::Write, Permission::FullControl],
            Capability::ReadPermissions => &[Permission::ReadAcp, Permission::FullControl],
            Capability::WritePermissions => &[Permission::WriteAcp, Permission::FullControl],
        }
    }

    /// The S3 actions a bucket-ACL permission for this capability allows, so that a policy
    /// Deny (which overrides ACL grants too) can be weighed against them.
    fn acl_actions(self) -> &'static [&'static str] {
        match self {
            Capability::List => &[
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:ListBucketMultipartUploads",
            ],
            Capability::ReadObjects => &[],
            Capability::WriteObjects => &["s3:PutObject", "s3:DeleteObject"],
            Capability::ReadPermissions => &["s3:GetBucketAcl"],
            Capability::WritePermissions => &["s3:PutBucketAcl"],
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Capability::List => "list the objects",
            Capability::ReadObjects => "read objects",
            Capability::WriteObjects => "write or delete objects",
            Capability::ReadPermissions => "read the bucket's ACL or policy",
            Capability::WritePermissions => "change the bucket's ACL or policy",
        }
    }
}

/// The two public audiences S3 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone on the internet, without credentials (AllUsers, Principal "*").
    Anyone,
    /// Anyone holding any AWS account (AuthenticatedUsers) — which includes the above.
    AnyAwsAccount,
}

impl Audience {
    pub fn describe(self) -> &'static str {
        match self {
            Audience::Anyone => "anyone on the internet",
            Audience::AnyAwsAccount => "any AWS account",
        }
    }

    fn reached_by(self, class: GranteeClass) -> bool {
        match self {
            Audience::Anyone => class == GranteeClass::Anyone,
            Audience::AnyAwsAccount => {
                matches!(class, GranteeClass::Anyone | GranteeClass::AnyAwsAccount)
            }
        }
    }
}

/// The verdict on one capability for one audience.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposure {
    /// Grants that are in force: the bucket is exposed.
    pub granted_by: Vec<String>,
    /// Grants that exist but are neutralised, with what neutralises them.
    pub latent: Vec<String>,
    /// The settings that neutralise the latent grants.
    pub neutralised_by: BTreeSet<Neutraliser>,
    /// Why the answer cannot be known (evidence missing).
    pub unknown: Vec<String>,
    /// Evidence references consulted.
    pub evidence: BTreeSet<String>,
    /// Notes on inferences made despite missing evidence.
    pub notes: Vec<String>,
}

impl Exposure {
    /// A grant that exists but `by` neutralises.
    fn neutralise(&mut self, by: Neutraliser, grant: String) {
        self.latent.push(grant);
        self.neutralised_by.insert(by);
    }
}

/// A switch of Block Public Access, resolved across bucket and account level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switch {
    /// On, at the named level(s).
    On(&'static str),
    Off,
    /// Off where known, but one level could not be read.
    Unknown(String),
}

/// Bucket and account Block Public Access combined: a switch applies if either level sets it.
pub struct EffectiveBlock<'a> {
    bucket: &'a Evidence<PublicAccessBlock>,
    account: &'a Evidence<PublicAccessBlock>,
}

impl<'a> EffectiveBlock<'a> {
    pub fn new(bucket: &'a Bucket, meta: &'a SnapshotMeta) -> Self {
        EffectiveBlock {
            bucket: &bucket.public_access_block,
            account: &meta.account_public_access_block,
        }
    }

    pub fn switch(&self, pick: fn(&PublicAccessBlock) -> bool) -> Switch {
        let level = |e: &Evidence<PublicAccessBlock>| match e {
            Evidence::Found(block) => Ok(pick(block)),
            Evidence::NotConfigured => Ok(false),
            Evidence::Unavailable(why) => Err(why.to_string()),
        };
        match (level(self.bucket), level(self.account)) {
            (Ok(true), Ok(true)) => Switch::On("bucket and account level"),
            (Ok(true), _) => Switch::On("bucket level"),
            (_, Ok(true)) => Switch::On("account level"),
            (Ok(false), Ok(false)) => Switch::Off,
            (Err(why), _) | (_, Err(why)) => Switch::Unknown(why),
        }
    }
}

/// Everything needed to judge one bucket's exposure, resolved once.
pub struct AccessContext<'a> {
    bucket: &'a Bucket,
    bucket_arn: String,
    ignore_public_acls: Switch,
    restrict_public_buckets: Switch,
    /// The policy's public grants per capability (in `ALL_CAPABILITIES` order), computed once:
    /// nine exposure controls ask about five capabilities.
    policy_grants: [Vec<String>; 5],
}

impl<'a> AccessContext<'a> {
    pub fn new(bucket: &'a Bucket, meta: &'a SnapshotMeta) -> Self {
        let block = EffectiveBlock::new(bucket, meta);
        let bucket_arn = format!("arn:{}:s3:::{}", meta.partition, bucket.name);
        let policy_grants = match &bucket.policy {
            Evidence::Found(document) => {
                ALL_CAPABILITIES.map(|c| public_policy_grants(document, c, &bucket_arn))
            }
            _ => Default::default(),
        };
        AccessContext {
            bucket,
            bucket_arn,
            ignore_public_acls: block.switch(|b| b.ignore_public_acls),
            restrict_public_buckets: block.switch(|b| b.restrict_public_buckets),
            policy_grants,
        }
    }

    fn grants_of(&self, capability: Capability) -> &[String] {
        let index = ALL_CAPABILITIES
            .iter()
            .position(|c| *c == capability)
            .expect("every capability is listed");
        &self.policy_grants[index]
    }

    pub fn bucket_arn(&self) -> &str {
        &self.bucket_arn
    }

    pub fn exposure(&self, capability: Capability, audience: Audience) -> Exposure {
        let mut exposure = Exposure::default();
        self.judge_acl(capability, audience, &mut exposure);
        self.judge_policy(capability, &mut exposure);
        exposure
    }

    fn judge_acl(&self, capability: Capability, audience: Audience, out: &mut Exposure) {
        let permissions = capability.acl_permissions();
        if permissions.is_empty() {
            return; // a bucket ACL never grants this (object reads)
        }
        let bucket = self.bucket;
        out.evidence
            .insert(bucket.evidence_ref(Operation::GetBucketAcl));
        out.evidence
            .insert(bucket.evidence_ref(Operation::GetBucketOwnershipControls));
        let acls_disabled = match &bucket.ownership {
            Evidence::Found(controls) => Ok(controls.acls_disabled()),
            Evidence::NotConfigured => Ok(false),
            Evidence::Unavailable(why) => Err(why.to_string()),
        };
        let grants: Vec<String> = match &bucket.acl {
            Evidence::Found(acl) => public_grants(acl, permissions, audience),
            Evidence::NotConfigured => Vec::new(),
            Evidence::Unavailable(why) => {
                if acls_disabled == Ok(true) {
                    out.notes.push(format!(
                        "{why}, but ACLs are disabled by BucketOwnerEnforced, so no ACL grant applies"
                    ));
                } else if let Switch::On(level) = &self.ignore_public_acls {
                    self.note_block(out);
                    out.notes.push(format!(
                        "{why}, but IgnorePublicAcls ({level}) makes S3 ignore any public ACL grant"
                    ));
                } else {
                    out.unknown.push(why.to_string());
                }
                return;
            }
        };
        if grants.is_empty() {
            return;
        }
        // An explicit Deny in the bucket policy overrides ACL grants as well.
        if let Evidence::Found(document) = &self.bucket.policy {
            let target = capability.target();
            let denied = capability
                .acl_actions()
                .iter()
                .all(|action| public_deny_covers(document, action, target, &self.bucket_arn));
            if denied {
                out.notes.push(format!(
                    "{} is overridden by a Deny for everyone in the bucket policy",
                    grants.join("; ")
                ));
                return;
            }
        }
        for grant in grants {
            match (&acls_disabled, &self.ignore_public_acls) {
                (Ok(true), _) => out.neutralise(
                    Neutraliser::BucketOwnerEnforced,
                    format!("{grant}, disabled because Object Ownership is BucketOwnerEnforced"),
                ),
                (_, Switch::On(level)) => {
                    self.note_block(out);
                    out.neutralise(
                        Neutraliser::IgnorePublicAcls,
                        format!("{grant}, ignored because IgnorePublicAcls is on ({level})"),
                    )
                }
                (Err(why), _) => out.unknown.push(format!(
                    "{grant} exists, but whether ACLs are enforced is unknown: {why}"
                )),
                (_, Switch::Unknown(why)) => {
                    self.note_block(out);
                    out.unknown.push(format!(
                        "{grant} exists, but whether IgnorePublicAcls neutralises it is unknown: {why}"
                    ))
                }
                (Ok(false), Switch::Off) => {
                    self.note_block(out);
                    out.granted_by.push(grant)
                }
            }
        }
    }

    fn note_block(&self, out: &mut Exposure) {
        out.evidence
            .insert(self.bucket.evidence_ref(Operation::GetPublicAccessBlock));
        out.evidence
            .insert(ACCOUNT_PUBLIC_ACCESS_BLOCK_REF.to_string());
    }

    fn judge_policy(&self, capability: Capability, out: &mut Exposure) {
        out.evidence
            .insert(self.bucket.evidence_ref(Operation::GetBucketPolicy));
        // The policy's grants were worked out once in `new`; here only its availability matters.
        match &self.bucket.policy {
            Evidence::Found(_) => {}
            Evidence::NotConfigured => return,
            Evidence::Unavailable(why) => {
                if let Switch::On(level) = &self.restrict_public_buckets {
                    self.note_block(out);
                    out.notes.push(format!(
                        "{why}, but RestrictPublicBuckets ({level}) cuts off public access through any policy"
                    ));
                } else {
                    out.unknown.push(why.to_string());
                }
                return;
            }
        }
        let grants = self.grants_of(capability);
        if grants.is_empty() {
            self.check_against_policy_status(out);
            return;
        }
        self.note_block(out);
        for grant in grants {
            match &self.restrict_public_buckets {
                Switch::On(level) => out.neutralise(
                    Neutraliser::RestrictPublicBuckets,
                    format!("{grant}, restricted to the owner account and AWS services because RestrictPublicBuckets is on ({level})"),
                ),
                Switch::Unknown(why) => out.unknown.push(format!(
                    "{grant} exists, but whether RestrictPublicBuckets neutralises it is unknown: {why}"
                )),
                Switch::Off => out.granted_by.push(grant.clone()),
            }
        }
    }
}

impl AccessContext<'_> {
    /// AWS's own verdict (GetBucketPolicyStatus IsPublic) is a safety net: if AWS calls the
    /// policy public but no statement we analysed grants the public anything, our reading has
    /// missed something, and the answer is "not assessed" rather than a pass.
    fn check_against_policy_status(&self, out: &mut Exposure) {
        let aws_says_public =
            matches!(&self.bucket.policy_status, Evidence::Found(s) if s.is_public);
        if !aws_says_public || matches!(self.restrict_public_buckets, Switch::On(_)) {
            return;
        }
        let we_found_public = self.policy_grants.iter().any(|g| !g.is_empty());
        if !we_found_public {
            out.evidence
                .insert(self.bucket.evidence_ref(Operation::GetBucketPolicyStatus));
            out.unknown.push(
                "AWS reports the bucket policy as public (GetBucketPolicyStatus IsPublic) although no statement analysed grants the public any S3 access".to_string(),
            );
        }
    }
}

const ALL_CAPABILITIES: [Capability; 5] = [
    Capability::List,
    Capability::ReadObjects,
    Capability::WriteObjects,
    Capability::ReadPermissions,
    Capability::WritePermissions,
];

fn public_grants(acl: &Acl, permissions: &[Permission], audience: Audience) -> Vec<String> {
    acl.grants
        .iter()
        .filter(|grant| {
            audience.reached_by(grant.grantee.class()) && permissions.contains(&grant.permission)
        })
        .map(|grant| {
            format!(
                "the bucket ACL grants {} to {}",
                grant.permission.as_str(),
                grant.grantee.label()
            )
        })
        .collect()
}

/// The public Allow statements of a policy that give `capability` and that no Deny takes away,
/// described for a reason. Both public audiences are reached alike: `Principal "*"` includes
/// anonymous callers and every AWS account.
pub fn public_policy_grants(
    document: &PolicyDocument,
    capability: Capability,
    bucket_arn: &str,
) -> Vec<String> {
    let target = capability.target();
    // Statement index → the actions it grants, so each statement is named once.
    let mut granted: Vec<(&Statement, Vec<&str>)> = Vec::new();
    for action in capability.actions() {
        if public_deny_covers(document, action, target, bucket_arn) {
            continue;
        }
        let allows = document.statements.iter().filter(|s| {
            s.effect == Effect::Allow
                && allow_reaches_public(&s.principal)
                && covers_action(&s.actions, action)
                && allow_reaches(&s.resources, target, bucket_arn)
                && !s.conditions.iter().any(|c| is_pin(c, &[]))
        });
        for statement in allows {
            match granted.iter_mut().find(|(s, _)| s.index == statement.index) {
                Some((_, actions)) => actions.push(action),
                None => granted.push((statement, vec![action])),
            }
        }
    }
    granted.sort_by_key(|(s, _)| s.index);
    granted
        .into_iter()
        .map(|(statement, actions)| {
            format!(
                "the bucket policy's {} allows {} to everyone{}",
                statement.label(),
                join_and(&actions),
                if matches!(statement.principal, PrincipalSpec::NotPrincipal(_)) {
                    " (an Allow with NotPrincipal, which current IAM treats as public)"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// True when a Deny takes `action` on the whole target away from the public: it names
/// everyone, covers the action and every object (or the bucket), and has no condition that
/// would let a public caller escape it.
fn public_deny_covers(
    document: &PolicyDocument,
    action: &str,
    target: Target,
    bucket_arn: &str,
) -> bool {
    public_deny_covers_with(document, action, target, bucket_arn, &[])
}

/// [`public_deny_covers`] with condition keys that pin the caller in this kind of policy besides
/// [`RESTRICTING_KEYS`] (a key policy adds `kms:CallerAccount`).
fn public_deny_covers_with(
    document: &PolicyDocument,
    action: &str,
    target: Target,
    arn: &str,
    pins: &[&str],
) -> bool {
    document.statements.iter().any(|s| {
        s.effect == Effect::Deny
            && deny_covers_public(&s.principal)
            && covers_action(&s.actions, action)
            && deny_covers(&s.resources, target, arn)
            && s.conditions.iter().all(|c| is_negated_pin(c, pins))
    })
}

/// The Allow statements of a resource policy (such as a KMS key policy, whose one resource is
/// `arn`) that give `action` on `arn` to everyone without a condition in `pins` or
/// `RESTRICTING_KEYS` pinning the caller, unless a public Deny takes the action away. The
/// same rules as a bucket policy's public grants ([`public_policy_grants`]).
pub fn public_allows_on<'d>(
    document: &'d PolicyDocument,
    action: &str,
    arn: &str,
    pins: &[&str],
) -> Vec<&'d Statement> {
    if public_deny_covers_with(document, action, Target::Bucket, arn, pins) {
        return Vec::new();
    }
    document
        .statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Allow
                && allow_reaches_public(&s.principal)
                && covers_action(&s.actions, action)
                && allow_reaches(&s.resources, Target::Bucket, arn)
                && !s.conditions.iter().any(|c| is_pin(c, pins))
        })
        .collect()
}

/// The Allow statements of a resource policy that give `action` on `arn` to some principal
/// (any principal: callers decide whom they look for), unless a public Deny takes the action
/// away from everyone (with `pins` as in [`public_allows_on`]).
pub fn allows_on<'d>(
    document: &'d PolicyDocument,
    action: &str,
    arn: &str,
    pins: &[&str],
) -> Vec<&'d Statement> {
    if public_deny_covers_with(document, action, Target::Bucket, arn, pins) {
        return Vec::new();
    }
    document
        .statements
        .iter()
        .filter(|s| {
            s.effect == Effect::Allow
                && covers_action(&s.actions, action)
                && allow_reaches(&s.resources, Target::Bucket, arn)
        })
        .collect()
}

fn allow_reaches_public(principal: &PrincipalSpec) -> bool {
    match principal {
        PrincipalSpec::Principal(p) => p.everyone,
        // Allow with NotPrincipal is unsupported in current IAM: treated as public.
        PrincipalSpec::NotPrincipal(_) => true,
        PrincipalSpec::Missing => false,
    }
}

fn deny_covers_public(principal: &PrincipalSpec) -> bool {
    match principal {
        PrincipalSpec::Principal(p) => p.everyone,
        // "Deny everyone except these": the public is never among the exceptions.
        PrincipalSpec::NotPrincipal(p) => !p.everyone,
        PrincipalSpec::Missing => false,
    }
}

pub fn covers_bucket_and_objects(resources: &Matcher, bucket_arn: &str) -> (bool, bool) {
    (
        deny_covers(resources, Target::Bucket, bucket_arn),
        deny_covers(resources, Target::Objects, bucket_arn),
    )
}

/// Condition keys that, with fixed values, pin the caller down so that S3 does not count the
/// statement as public ("The meaning of public", S3 User Guide).
const RESTRICTING_KEYS: &[&str] = &[
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
];

const POSITIVE_OPERATORS: &[&str] = &[
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "ipaddress",
];

const NEGATED_OPERATORS: &[&str] = &[
    "stringnotequals",
    "stringnotequalsignorecase",
    "stringnotlike",
    "arnnotequals",
    "arnnotlike",
    "notipaddress",
];

/// An Allow condition that confines the statement to fixed callers: a positive operator (not
/// `...IfExists`, which passes when the key is absent, as it is for anonymous callers; not
/// `ForAllValues:`, which passes on an empty set) on a restricting key with fixed values.
/// `pins` names further restricting keys (lower case) of the policy's kind.
fn is_pin(condition: &Condition, pins: &[&str]) -> bool {
    let operator = condition.operator.to_ascii_lowercase();
    let operator = operator.strip_prefix("foranyvalue:").unwrap_or(&operator);
    POSITIVE_OPERATORS.contains(&operator) && fixed_restricting_values(condition, operator, pins)
}

/// A Deny condition that fires for everyone outside fixed callers (`StringNotEquals
/// aws:SourceVpce vpce-1`): such a Deny still shuts the public out. `IfExists` is fine here:
/// an absent key makes the Deny apply.
fn is_negated_pin(condition: &Condition, pins: &[&str]) -> bool {
    let operator = condition.operator.to_ascii_lowercase();
    let operator = operator.strip_suffix("ifexists").unwrap_or(&operator);
    NEGATED_OPERATORS.contains(&operator) && fixed_restricting_values(condition, operator, pins)
}

/// Whether every value of a restricting key names fixed callers, as `operator` (lower case,
/// without `ForAnyValue:` / `IfExists`) reads it. A policy variable is never fixed. `*` and `?`
/// are wildcards only for the `...Like` and `Arn...` operators; `StringEquals` and
/// `StringNotEquals` compare them as plain characters, so such a value still names one fixed
/// string (which no real caller has). The one documented exception to "no wildcards": an
/// `s3:DataAccessPointArn` whose account (and partition and region) are fixed may use a wildcard
/// in the access point name, since every such access point belongs to that account.
fn fixed_restricting_values(condition: &Condition, operator: &str, pins: &[&str]) -> bool {
    let key = condition.key.to_ascii_lowercase();
    let restricting = RESTRICTING_KEYS.contains(&key.as_str()) || pins.contains(&key.as_str());
    if !restricting || condition.values.is_empty() {
        return false;
    }
    let wildcards = operator.contains("like") || operator.starts_with("arn");
    condition.values.iter().all(|value| {
        let fixed = !value.contains("${")
            && (!wildcards
                || !has_wildcard(value)
                || (key == "s3:dataaccesspointarn" && access_points_of_one_account(value)));
        fixed && (key != "aws:sourceip" || narrow_cidr(value))
    })
}

fn has_wildcard(text: &str) -> bool {
    text.contains('*') || text.contains('?')
}

/// `arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME` with everything but NAME fixed and a
/// 12-digit account: whatever NAME matches, only that account's access points in that region.
fn access_points_of_one_account(pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let fixed = |part: &str| !part.is_empty() && !has_wildcard(part);
    arn == "arn"
        && fixed(partition)
        && service == "s3"
        && fixed(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.starts_with("accesspoint/")
}

/// A CIDR no broader than /8 (IPv4) or /32 (IPv6); a bare address is a single host.
fn narrow_cidr(value: &str) -> bool {
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => match prefix.parse::<u8>() {
            Ok(prefix) => (address, Some(prefix)),
            Err(_) => return false,
        },
        None => (value, None),
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => prefix.is_none_or(|p| (8..=32).contains(&p)),
        Ok(std::net::IpAddr::V6(_)) => prefix.is_none_or(|p| (32..=128).contains(&p)),
        Err(_) => false,
    }
}

/// How a statement's principal reaches other accounts, for the cross-account control.
pub fn foreign_principals(statement: &Statement, own_account: &str) -> Vec<String> {
    let PrincipalSpec::Principal(principals) = &statement.principal else {
        return Vec::new();
    };
    let mut foreign: Vec<String> = principals
        .aws
        .iter()
        .filter(|id| account_of(id).is_none_or(|account| account != own_account))
        .cloned()
        .collect();
    foreign.extend(
        principals
            .canonical_user
            .iter()
            .map(|id| format!("canonical user {id}")),
    );
    if principals.everyone {
        // A wildcard principal pinned to an organisation or to other accounts.
        for condition in &statement.conditions {
            let key = condition.key.to_ascii_lowercase();
            match key.as_str() {
                "aws:principalorgid" | "aws:principalorgpaths" | "aws:sourceorgid" => {
                    foreign.push(format!(
                        "every account of organisation {}",
                        condition.values.join(", ")
                    ));
                }
                "aws:principalaccount"
                | "aws:sourceaccount"
                | "aws:sourceowner"
                | "kms:calleraccount" => {
                    foreign.extend(
                        condition
                            .values
                            .iter()
                            .filter(|v| v.as_str() != own_account)
                            .map(|v| format!("account {v}")),
                    );
                }
                _ => {}
            }
        }
    }
    foreign
}

/// The account id in `arn:aws:iam::123456789012:root` or a bare 12-digit id.
pub fn account_of(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    let mut parts = principal.splitn(6, ':');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("arn"), Some(_), Some(_), Some(_), Some(account)) if !account.is_empty() => {
            Some(account)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(operator: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: operator.to_string(),
            key: key.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn pins_need_fixed_values_of_restricting_keys() {
        assert!(is_pin(
            &condition("StringEquals", "aws:SourceVpce", &["vpce-1a2b"]),
            &[]
        ));
        assert!(is_pin(
            &condition("IpAddress", "aws:SourceIp", &["10.0.0.0/8", "192.0.2.1"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("IpAddress", "aws:SourceIp", &["0.0.0.0/0"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("IpAddress", "aws:SourceIp", &["10.0.0.0/7"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("IpAddress", "aws:SourceIp", &["2001:db8::/31"]),
            &[]
        ));
        assert!(is_pin(
            &condition("IpAddress", "aws:SourceIp", &["2001:db8::/48"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("StringLike", "aws:SourceVpce", &["vpce-*"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("StringEquals", "aws:Referer", &["https://example.com"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("StringEqualsIfExists", "aws:SourceVpce", &["vpce-1"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("StringNotEquals", "aws:SourceVpce", &["vpce-1"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("ForAllValues:StringEquals", "aws:PrincipalOrgID", &["o-1"]),
            &[]
        ));
        assert!(is_pin(
            &condition("ForAnyValue:StringEquals", "aws:PrincipalOrgID", &["o-1"]),
            &[]
        ));
        assert!(!is_pin(
            &condition("StringEquals", "aws:SourceArn", &["arn:${aws:username}"]),
            &[]
        ));
    }

    /// The public grants of a policy letting everyone read objects under `condition`.
    fn read_grants_under(condition: &str) -> Vec<String> {
        let policy = format!(
            r#"{{"Statement":[{{"Sid":"ViaAccessPoints","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{condition}}}]}}"#
        );
        let document = PolicyDocument::parse(&policy).unwrap();
        public_policy_grants(&document, Capability::ReadObjects, "arn:aws:s3:::b")
    }

    #[test]
    fn access_points_of_a_fixed_account_are_not_public() {
        // AWS's documented exception: a wildcard access point name with a fixed account.
        for condition in [
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}"#,
            r#"{"ArnLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/team-*"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointArn":["arn:aws:s3:us-west-2:123456789012:accesspoint/*","arn:aws:s3:eu-west-1:123456789012:accesspoint/a?"]}}"#,
            // A fixed full ARN, however compared.
            r#"{"StringEquals":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/reports"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/reports"}}"#,
            // StringEquals reads * as a plain character: it names one string no access point has.
            r#"{"StringEquals":{"s3:DataAccessPointArn":"arn:aws:s3:*:*:accesspoint/*"}}"#,
            r#"{"StringEquals":{"s3:DataAccessPointAccount":"123456789012"}}"#,
        ] {
            assert_eq!(
                read_grants_under(condition),
                Vec::<String>::new(),
                "{condition}"
            );
        }
    }

    #[test]
    fn access_points_of_any_account_are_public() {
        for condition in [
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:*:*:accesspoint/*"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointArn":"*"}}"#,
            r#"{"ArnLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:*:accesspoint/*"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:1234567890??:accesspoint/*"}}"#,
            // Only the name may be a wildcard: not the region (strict reading of AWS's rule).
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:*:123456789012:accesspoint/*"}}"#,
            // One open value among fixed ones opens the statement.
            r#"{"StringLike":{"s3:DataAccessPointArn":["arn:aws:s3:us-west-2:123456789012:accesspoint/*","arn:aws:s3:us-west-2:*:accesspoint/*"]}}"#,
            // Not a pin at all: absent for a direct request, or a variable, or another key.
            r#"{"StringLikeIfExists":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:${aws:PrincipalAccount}:accesspoint/*"}}"#,
            r#"{"StringLike":{"s3:DataAccessPointAccount":"1234*"}}"#,
            r#"{"StringLike":{"aws:SourceArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}"#,
        ] {
            let grants = read_grants_under(condition);
            assert_eq!(grants.len(), 1, "{condition}");
            assert!(
                grants[0].contains("\"ViaAccessPoints\" allows s3:GetObject"),
                "{grants:?}"
            );
        }
    }

    #[test]
    fn a_deny_outside_one_accounts_access_points_shuts_the_public_out() {
        let grants = |deny_condition: &str| {
            let policy = format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}},
                   {{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{deny_condition}}}]}}"#
            );
            let document = PolicyDocument::parse(&policy).unwrap();
            public_policy_grants(&document, Capability::ReadObjects, "arn:aws:s3:::b")
        };
        assert!(grants(r#"{"StringNotLike":{"s3:DataAccessPointArn":"arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}"#).is_empty());
        assert!(grants(r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-*"}}"#).is_empty());
        assert_eq!(
            grants(r#"{"StringNotLike":{"s3:DataAccessPointArn":"arn:aws:s3:*:*:accesspoint/*"}}"#)
                .len(),
            1
        );
    }

    #[test]
    fn account_ids_are_read_from_arns() {
        assert_eq!(
            account_of("arn:aws:iam::444455556666:root"),
            Some("444455556666")
        );
        assert_eq!(account_of("444455556666"), Some("444455556666"));
        assert_eq!(
            account_of("arn:aws:iam::444455556666:role/x"),
            Some("444455556666")
        );
        assert_eq!(account_of("AIDAEXAMPLE"), None);
    }
}
