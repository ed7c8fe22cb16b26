//! The access review (docs/findings-format.md, `access_review`): for every ePHI bucket, which
//! IAM users and roles of the account can read its objects, write or delete them, or manage its
//! permissions — yes, conditional or no, through which statements. The deciding is
//! [`super::policy_match::decide`]; this module gathers each principal's policies (its own, its
//! groups', the default version of each managed policy, its boundary) from the snapshot's
//! `iam/` evidence, and indexes the statements by the bucket their Resource names, so a
//! principal is only weighed against the buckets some statement of it (or a bucket policy) can
//! reach.
//!
//! Out of scope, as the report says: SCPs, session policies, KMS key policies, ACL grants.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::ephi::{designate, Selectors};
use super::policy_match::{covers_action, decide, Boundary, Principal, Request, Sourced, Target};
use super::wildcard::{matches, matches_some_with_prefix, widen_variables};
use crate::findings::{Access, AccessEntry};
use crate::snapshot::iam::{AuthorizationDetails, ManagedPolicy, NamedDocument};
use crate::snapshot::policy::{Effect, Matcher, PolicyDocument, PrincipalSpec, Statement};
use crate::snapshot::{Evidence, Snapshot};

/// Read: s3:GetObject on the objects.
pub const READ: &[&str] = &["s3:GetObject"];
/// Write: s3:PutObject or s3:DeleteObject on the objects.
pub const WRITE: &[&str] = &["s3:PutObject", "s3:DeleteObject"];
/// Manage: replace the bucket's policy, ACL or Block Public Access.
pub const MANAGE: &[&str] = &[
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPublicAccessBlock",
];

/// One account's access review.
#[derive(Debug, Clone, Default)]
pub struct AccountReview {
    pub entries: Vec<AccessEntry>,
    /// Why the review (or part of it) could not be made: key `account:<id>` for the whole
    /// account, `s3://bucket` for a bucket whose policy could not be read.
    pub not_assessed: BTreeMap<String, String>,
    /// No in-scope bucket carries a designating tag: every in-scope bucket was reviewed.
    pub every_bucket_counted: bool,
    /// Principal ARN → the identity-policy statements that give it ePHI access with an
    /// unscoped Resource (`*`, `arn:aws:s3:::*`, `arn:aws:s3:::*/*`, or a NotResource).
    pub unscoped: BTreeMap<String, Vec<String>>,
}

/// Where identity policies are recorded (the authorization details, `iam/policies.json`).
const IAM_PREFIX: &str = "iam/";

/// The evidence reference of the authorization details.
pub const DETAILS_REF: &str = "iam/GetAccountAuthorizationDetails.json";

/// A user or role with the statements that matter to S3 access.
struct Subject<'a> {
    arn: &'a str,
    is_user: bool,
    /// Statements whose Resource names one bucket: by bucket name.
    by_bucket: HashMap<&'a str, Vec<Sourced<'a>>>,
    /// Statements whose Resource may reach any bucket (wildcards, NotResource).
    wide: Vec<Sourced<'a>>,
    boundary: Boundary<'a>,
    unknown: Vec<&'a str>,
    /// True when some Allow may reach every bucket (so every bucket is a candidate).
    reaches_all: bool,
    /// The Resource patterns of Allows that name buckets by a pattern: the buckets they match
    /// are candidates.
    patterns: Vec<&'a str>,
}

fn relevant(statement: &Statement) -> bool {
    READ.iter()
        .chain(WRITE)
        .chain(MANAGE)
        .any(|a| covers_action(&statement.actions, a))
}

/// The bucket a Resource pattern names, when it names exactly one (`arn:aws:s3:::b` or
/// `arn:aws:s3:::b/...`); `Err(true)` when it may reach several buckets, `Err(false)` when it
/// reaches no S3 bucket at all.
fn named_bucket(pattern: &str) -> Result<&str, bool> {
    let Some((head, rest)) = pattern.split_once(":s3:::") else {
        // `*`, `arn:aws:s3:*`, ... may reach buckets; anything else (other services) cannot.
        return Err(pattern.starts_with('*') || pattern.contains("s3*") || pattern.contains(":*"));
    };
    if head.contains('*') || head.contains('?') || !head.starts_with("arn:") {
        return Err(true);
    }
    let name = rest.split('/').next().unwrap_or_default();
    if name.is_empty() || name.contains('*') || name.contains('?') || name.contains("${") {
        Err(true)
    } else {
        Ok(name)
    }
}

/// The Resource patterns of a statement when each is an S3 ARN whose bucket part starts with
/// a literal (`arn:aws:s3:::phi-*`), or names one bucket: matched against each bucket's ARN.
fn bucket_patterns(statement: &Statement) -> Option<Vec<&str>> {
    (statement.resources.patterns.iter())
        .map(|p| {
            let (head, rest) = p.split_once(":s3:::")?;
            let literal_head = head.starts_with("arn:") && !head.contains(['*', '?']);
            let literal_start = rest
                .chars()
                .next()
                .is_some_and(|c| c != '*' && c != '?' && c != '$');
            (literal_head && literal_start).then_some(p.as_str())
        })
        .collect()
}

/// An identity-policy Allow whose Resource reaches every bucket rather than named ones.
pub fn is_unscoped(resources: &Matcher) -> bool {
    resources.negated
        || resources.patterns.iter().any(|p| {
            matches!(
                p.as_str(),
                "*" | "arn:aws:s3:::*" | "arn:aws:s3:::*/*" | "arn:*:s3:::*" | "arn:*:s3:::*/*"
            )
        })
}

struct Builder<'a> {
    policies: HashMap<&'a str, &'a ManagedPolicy>,
}

impl<'a> Builder<'a> {
    fn add_document(
        &self,
        subject: &mut Subject<'a>,
        source: &'a str,
        document: &'a PolicyDocument,
    ) {
        for statement in document.statements.iter().filter(|s| relevant(s)) {
            let sourced = Sourced { source, statement };
            let mut buckets = Vec::new();
            let mut wide = statement.resources.negated;
            for pattern in &statement.resources.patterns {
                match named_bucket(pattern) {
                    Ok(name) => buckets.push(name),
                    Err(reaches) => wide |= reaches,
                }
            }
            if wide {
                if statement.effect == Effect::Allow {
                    // A bucket-name pattern (`arn:aws:s3:::phi-*`) reaches the buckets it
                    // matches; anything wider (`*`, NotResource) every bucket.
                    match (statement.resources.negated, bucket_patterns(statement)) {
                        (false, Some(patterns)) => subject.patterns.extend(patterns),
                        _ => subject.reaches_all = true,
                    }
                }
                subject.wide.push(sourced);
            } else {
                buckets.sort();
                buckets.dedup();
                for name in buckets {
                    subject.by_bucket.entry(name).or_default().push(sourced);
                }
            }
        }
    }

    fn add_inline(
        &self,
        subject: &mut Subject<'a>,
        sources: &'a [String],
        inline: &'a [NamedDocument],
    ) {
        for (source, policy) in sources.iter().zip(inline) {
            self.add_document(subject, source, &policy.document);
        }
    }

    fn add_attached(&self, subject: &mut Subject<'a>, attached: &'a [String]) {
        for arn in attached {
            match self.policies.get(arn.as_str()) {
                Some(policy) => self.add_document(subject, arn, &policy.document),
                None => {
                    subject.unknown.push(arn);
                    subject.reaches_all = true;
                }
            }
        }
    }

    fn boundary(&self, arn: Option<&'a String>) -> Boundary<'a> {
        match arn {
            None => Boundary::None,
            Some(arn) => match self.policies.get(arn.as_str()) {
                Some(policy) => Boundary::Known(
                    (policy.document.statements.iter())
                        .filter(|s| relevant(s))
                        .map(|statement| Sourced {
                            source: arn,
                            statement,
                        })
                        .collect(),
                ),
                None => Boundary::Unknown(arn),
            },
        }
    }
}

/// The `via` names of inline policies, kept alive while the review borrows them.
struct Names {
    users: Vec<Vec<String>>,
    groups: HashMap<String, Vec<String>>,
    roles: Vec<Vec<String>>,
}

fn names(details: &AuthorizationDetails) -> Names {
    let inline = |kind: &str, name: &str, list: &[NamedDocument]| {
        list.iter()
            .map(|p| format!("{kind}/{name}/inline/{}", p.name))
            .collect::<Vec<_>>()
    };
    Names {
        users: (details.users.iter())
            .map(|u| inline("user", &u.name, &u.inline))
            .collect(),
        groups: (details.groups.iter())
            .map(|g| (g.name.clone(), inline("group", &g.name, &g.inline)))
            .collect(),
        roles: (details.roles.iter())
            .map(|r| inline("role", &r.name, &r.inline))
            .collect(),
    }
}

fn subjects<'a>(
    details: &'a AuthorizationDetails,
    looked_up: &'a BTreeMap<String, Evidence<ManagedPolicy>>,
    names: &'a Names,
) -> Vec<Subject<'a>> {
    // The listed policies, and those read with GetPolicy because the listing lacked them.
    let builder = Builder {
        policies: (details.policies.iter())
            .chain(looked_up.values().filter_map(Evidence::found))
            .map(|p| (p.arn.as_str(), p))
            .collect(),
    };
    let groups: HashMap<&str, _> = details
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    let empty = |arn, is_user, boundary| Subject {
        arn,
        is_user,
        by_bucket: HashMap::new(),
        wide: Vec::new(),
        boundary,
        unknown: Vec::new(),
        reaches_all: false,
        patterns: Vec::new(),
    };
    let mut out = Vec::new();
    for (user, sources) in details.users.iter().zip(&names.users) {
        let mut subject = empty(&user.arn, true, builder.boundary(user.boundary.as_ref()));
        builder.add_inline(&mut subject, sources, &user.inline);
        builder.add_attached(&mut subject, &user.attached);
        for group in user.groups.iter().filter_map(|g| groups.get(g.as_str())) {
            builder.add_inline(&mut subject, &names.groups[&group.name], &group.inline);
            builder.add_attached(&mut subject, &group.attached);
        }
        out.push(subject);
    }
    for (role, sources) in details.roles.iter().zip(&names.roles) {
        let mut subject = empty(&role.arn, false, builder.boundary(role.boundary.as_ref()));
        builder.add_inline(&mut subject, sources, &role.inline);
        builder.add_attached(&mut subject, &role.attached);
        out.push(subject);
    }
    out
}

/// The access review of one account.
pub fn review(snapshot: &Snapshot) -> AccountReview {
    let meta = &snapshot.meta;
    let mut out = AccountReview::default();
    let designations = designate(&snapshot.buckets, &Selectors::new(&meta.ephi_selectors));
    out.every_bucket_counted = designations
        .iter()
        .flatten()
        .any(|d| d.basis == crate::snapshot::EphiBasis::NoBucketDesignated);
    let details = match &snapshot.iam.authorization {
        Evidence::Found(details) => details,
        _ if !snapshot.iam.collected => {
            out.not_assessed.insert(
                format!("account:{}", meta.account_id),
                "the snapshot holds no identity evidence (no iam/): collected without it, so who can reach ePHI was not reviewed".to_string(),
            );
            return out;
        }
        Evidence::Unavailable(why) => {
            out.not_assessed.insert(
                format!("account:{}", meta.account_id),
                format!("{why}: who can reach ePHI is unknown"),
            );
            return out;
        }
        Evidence::NotConfigured => return out,
    };
    let names = names(details);
    let subjects = subjects(details, &snapshot.iam.looked_up, &names);
    let mut sources = Vec::new();
    let mut buckets = Vec::new();
    for (bucket, ephi) in snapshot.buckets.iter().zip(&designations) {
        if !ephi.as_ref().is_some_and(|d| d.ephi) {
            continue;
        }
        sources.push((bucket, bucket.subject()));
    }
    for (bucket, subject) in &sources {
        let policy = match &bucket.policy {
            Evidence::Found(document) => (document.statements.iter())
                .filter(|s| relevant(s))
                .map(|statement| Sourced {
                    source: subject.as_str(),
                    statement,
                })
                .collect(),
            Evidence::NotConfigured => Vec::new(),
            Evidence::Unavailable(why) => {
                out.not_assessed.insert(
                    subject.clone(),
                    format!("{why}: grants the bucket policy makes are not shown"),
                );
                Vec::new()
            }
        };
        buckets.push(Reviewed {
            subject: subject.clone(),
            arn: format!("arn:{}:s3:::{}", meta.partition, bucket.name),
            policy,
        });
    }
    let places = Places::new(details, &snapshot.iam.looked_up, &names, &sources);
    let index: HashMap<&str, usize> = (sources.iter().enumerate())
        .map(|(i, (b, _))| (b.name.as_str(), i))
        .collect();
    let account = meta.account_id.as_str();
    let reach = PolicyReach::new(&buckets);
    let arns: Vec<&str> = buckets.iter().map(|b| b.arn.as_str()).collect();
    for subject in &subjects {
        let candidates = candidates(subject, &reach, &arns, &index);
        // Only wide statements can be unscoped (a statement naming a bucket is not).
        let unscoped: HashSet<String> = (subject.wide.iter())
            .filter(|s| s.statement.effect == Effect::Allow && is_unscoped(&s.statement.resources))
            .map(Sourced::reference)
            .collect();
        for i in candidates {
            let bucket = &buckets[i];
            let name = sources[i].0.name.as_str();
            let mut identity: Vec<Sourced> = subject.wide.clone();
            if let Some(named) = subject.by_bucket.get(name) {
                identity.extend(named.iter().copied());
            }
            let principal = Principal {
                arn: subject.arn,
                account,
                is_user: subject.is_user,
                identity,
                boundary: subject.boundary.clone(),
                unknown_policies: subject.unknown.clone(),
            };
            let ask = |actions, target| {
                decide(
                    &principal,
                    &bucket.policy,
                    &Request {
                        actions,
                        target,
                        bucket_arn: &bucket.arn,
                    },
                )
            };
            let (read, write, manage) = (
                ask(READ, Target::Objects),
                ask(WRITE, Target::Objects),
                ask(MANAGE, Target::Bucket),
            );
            if [&read, &write, &manage]
                .iter()
                .all(|d| d.access == Access::No)
            {
                continue;
            }
            let via = merged([&read.via, &write.via, &manage.via]);
            let mut notes = merged([&read.notes, &write.notes, &manage.notes]);
            notes.extend(lookup_notes(subject, &snapshot.iam.looked_up));
            let hits: Vec<String> = via
                .iter()
                .filter(|v| unscoped.contains(*v))
                .cloned()
                .collect();
            if !hits.is_empty() {
                let list = out.unscoped.entry(subject.arn.to_string()).or_default();
                list.extend(hits);
                list.sort();
                list.dedup();
            }
            let evidence = via.iter().map(|v| places.locate(v)).collect();
            out.entries.push(AccessEntry {
                account: account.to_string(),
                bucket: bucket.subject.clone(),
                principal: subject.arn.to_string(),
                kind: if subject.is_user { "user" } else { "role" }.to_string(),
                read: read.access,
                write: write.access,
                manage: manage.access,
                via,
                evidence,
                notes,
            });
        }
    }
    out.entries
        .sort_by(|a, b| (&a.bucket, &a.principal).cmp(&(&b.bucket, &b.principal)));
    out
}

/// Why a policy the review could not see is missing: GetPolicy or GetPolicyVersion failed, or
/// the snapshot holds no answer for it (collected before phi-audit looked policies up).
fn lookup_notes(
    subject: &Subject,
    looked_up: &BTreeMap<String, Evidence<ManagedPolicy>>,
) -> Vec<String> {
    let boundary = match &subject.boundary {
        Boundary::Unknown(arn) => Some(*arn),
        _ => None,
    };
    (subject.unknown.iter().copied().chain(boundary))
        .map(|arn| match looked_up.get(arn) {
            Some(Evidence::Unavailable(why)) => format!("{arn} could not be read: {why}"),
            _ => format!(
                "{arn} is neither listed by GetAccountAuthorizationDetails nor read with GetPolicy"
            ),
        })
        .collect()
}

/// The three lists as one, sorted, each item once.
fn merged(lists: [&Vec<String>; 3]) -> Vec<String> {
    let mut out: Vec<String> = lists.into_iter().flatten().cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// Where each policy a `via` names is recorded: `file#pointer` of its document (the bucket
/// policy: the recorded GetBucketPolicy, whose policy is one string).
struct Places(HashMap<String, String>);

impl Places {
    fn new(
        details: &AuthorizationDetails,
        looked_up: &BTreeMap<String, Evidence<ManagedPolicy>>,
        names: &Names,
        buckets: &[(&crate::snapshot::Bucket, String)],
    ) -> Places {
        let mut places = HashMap::new();
        let mut add = |sources: &[String], inline: &[NamedDocument]| {
            for (source, policy) in sources.iter().zip(inline) {
                places.insert(source.clone(), format!("{DETAILS_REF}#{}", policy.pointer));
            }
        };
        for (user, sources) in details.users.iter().zip(&names.users) {
            add(sources, &user.inline);
        }
        for group in &details.groups {
            add(&names.groups[&group.name], &group.inline);
        }
        for (role, sources) in details.roles.iter().zip(&names.roles) {
            add(sources, &role.inline);
        }
        for policy in &details.policies {
            places.insert(
                policy.arn.clone(),
                format!("{DETAILS_REF}#{}", policy.pointer),
            );
        }
        for policy in looked_up.values().filter_map(Evidence::found) {
            // Already `iam/policies.json#<pointer>`.
            places.insert(policy.arn.clone(), policy.pointer.clone());
        }
        for (bucket, subject) in buckets {
            places.insert(
                subject.clone(),
                bucket.evidence_ref(crate::schema::Operation::GetBucketPolicy),
            );
        }
        Places(places)
    }

    /// `policy#/Statement/<i>` → where that statement is recorded.
    fn locate(&self, via: &str) -> String {
        let (source, statement) = via.split_once('#').unwrap_or((via, ""));
        match self.0.get(source) {
            Some(place) if place.starts_with(IAM_PREFIX) => format!("{place}{statement}"),
            Some(place) => place.clone(),
            None => DETAILS_REF.to_string(),
        }
    }
}

/// An ePHI bucket under review: its subject, ARN and bucket-policy statements.
struct Reviewed<'a> {
    subject: String,
    arn: String,
    policy: Vec<Sourced<'a>>,
}

/// Which buckets' policies allow whom: the index of bucket-policy grants.
struct PolicyReach {
    /// Buckets whose policy allows everyone (`"*"`, NotPrincipal, a role session).
    open: Vec<usize>,
    /// Principal ARN → buckets whose policy allows it by name.
    named: HashMap<String, Vec<usize>>,
}

impl PolicyReach {
    fn new(buckets: &[Reviewed]) -> PolicyReach {
        let mut reach = PolicyReach {
            open: Vec::new(),
            named: HashMap::new(),
        };
        for (i, bucket) in buckets.iter().enumerate() {
            for s in bucket
                .policy
                .iter()
                .filter(|s| s.statement.effect == Effect::Allow)
            {
                match &s.statement.principal {
                    PrincipalSpec::Principal(p) if !p.everyone => {
                        for id in &p.aws {
                            if id.contains(":assumed-role/") {
                                reach.open.push(i);
                            } else {
                                reach.named.entry(id.clone()).or_default().push(i);
                            }
                        }
                    }
                    PrincipalSpec::Missing => {}
                    _ => reach.open.push(i),
                }
            }
        }
        reach
    }
}

/// The ePHI buckets (indices) one subject may reach: those its statements name, every one
/// when some Allow is wide, and those whose bucket policy allows it (or everyone).
fn candidates(
    subject: &Subject,
    reach: &PolicyReach,
    arns: &[&str],
    index: &HashMap<&str, usize>,
) -> Vec<usize> {
    let count = arns.len();
    if subject.reaches_all {
        return (0..count).collect();
    }
    let mut out: Vec<usize> = (subject.by_bucket.keys())
        .filter_map(|name| index.get(name).copied())
        .collect();
    if !subject.patterns.is_empty() {
        let patterns: Vec<String> = subject
            .patterns
            .iter()
            .map(|p| widen_variables(p))
            .collect();
        out.extend((0..count).filter(|&i| {
            let arn = arns[i];
            patterns.iter().any(|p| {
                matches(p, arn, false) || matches_some_with_prefix(p, &format!("{arn}/"), false)
            })
        }));
    }
    out.extend(&reach.open);
    if let Some(named) = reach.named.get(subject.arn) {
        out.extend(named);
    }
    out.sort_unstable();
    out.dedup();
    out
}
