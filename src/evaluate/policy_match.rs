//! The one policy-matching module, for bucket policies and identity policies alike: does a
//! statement cover an action (wildcards, `NotAction`, case-insensitive) and reach a bucket or
//! its objects (wildcards, `NotResource`, an Allow on part of the objects), does it name a
//! principal, and — for the access review — what one IAM principal may do to one bucket under
//! AWS's "Policy evaluation logic" for a same-account request ([`decide`]).
//!
//! The direction that matters is never missing access: where a reading is uncertain, an Allow
//! is read as reaching and a Deny as not removing (it makes the answer `conditional` at most).

use super::wildcard::{
    matches, matches_all_with_prefix, matches_some_with_prefix, widen_variables,
};
use crate::findings::Access;
use crate::snapshot::policy::{Condition, Effect, Matcher, PrincipalSpec, Statement};

/// Whether an action applies to the bucket ARN or to object ARNs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Bucket,
    Objects,
}

pub fn covers_action(matcher: &Matcher, action: &str) -> bool {
    let hit = matcher.patterns.iter().any(|p| matches(p, action, true));
    hit != matcher.negated
}

/// Does an Allow's Resource reach the target? Reading generously: variables may match anything
/// and a NotResource excludes only what it certainly covers.
pub fn allow_reaches(resources: &Matcher, target: Target, bucket_arn: &str) -> bool {
    match (target, resources.negated) {
        (Target::Bucket, false) => resources
            .patterns
            .iter()
            .any(|p| matches(&widen_variables(p), bucket_arn, false)),
        (Target::Bucket, true) => !resources
            .patterns
            .iter()
            .any(|p| matches(p, bucket_arn, false)),
        (Target::Objects, false) => {
            let objects = format!("{bucket_arn}/");
            resources
                .patterns
                .iter()
                .any(|p| matches_some_with_prefix(&widen_variables(p), &objects, false))
        }
        (Target::Objects, true) => {
            let objects = format!("{bucket_arn}/");
            !resources
                .patterns
                .iter()
                .any(|p| matches_all_with_prefix(p, &objects, false))
        }
    }
}

/// Does a Deny's Resource cover the whole target? Reading strictly: it must certainly cover
/// every object (or the bucket), or it does not take the access away.
pub fn deny_covers(resources: &Matcher, target: Target, bucket_arn: &str) -> bool {
    match (target, resources.negated) {
        (Target::Bucket, false) => resources
            .patterns
            .iter()
            .any(|p| matches(p, bucket_arn, false)),
        (Target::Bucket, true) => !resources
            .patterns
            .iter()
            .any(|p| matches(&widen_variables(p), bucket_arn, false)),
        (Target::Objects, false) => {
            let objects = format!("{bucket_arn}/");
            resources
                .patterns
                .iter()
                .any(|p| matches_all_with_prefix(p, &objects, false))
        }
        (Target::Objects, true) => {
            let objects = format!("{bucket_arn}/");
            !resources
                .patterns
                .iter()
                .any(|p| matches_some_with_prefix(&widen_variables(p), &objects, false))
        }
    }
}

/// A statement and where it came from (the `via` of an access-review entry, without the
/// `#/Statement/<i>` that [`Sourced::reference`] adds).
#[derive(Debug, Clone, Copy)]
pub struct Sourced<'a> {
    pub source: &'a str,
    pub statement: &'a Statement,
}

impl Sourced<'_> {
    pub fn reference(&self) -> String {
        format!("{}#/Statement/{}", self.source, self.statement.index)
    }
}

/// A principal's permissions boundary.
#[derive(Debug, Clone)]
pub enum Boundary<'a> {
    None,
    Known(Vec<Sourced<'a>>),
    /// Set, but its document is not in the evidence (named by ARN): it may allow anything or
    /// nothing, so what it would limit is `conditional`.
    Unknown(&'a str),
}

/// The IAM user or role whose access is decided.
#[derive(Debug, Clone)]
pub struct Principal<'a> {
    pub arn: &'a str,
    pub account: &'a str,
    pub is_user: bool,
    /// Every statement of its identity policies (its own and, for a user, its groups').
    pub identity: Vec<Sourced<'a>>,
    pub boundary: Boundary<'a>,
    /// Policies it has that the evidence does not hold (attached but not listed): they may allow
    /// anything, so every capability is at least `conditional`.
    pub unknown_policies: Vec<&'a str>,
}

/// What is asked: any of `actions` on the bucket or its objects.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub actions: &'a [&'a str],
    pub target: Target,
    pub bucket_arn: &'a str,
}

/// The answer, with the statements that decided it and notes on why it is conditional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub access: Access,
    pub via: Vec<String>,
    pub notes: Vec<String>,
}

/// An Allow found for one action: conditional or not, and by which statements.
#[derive(Debug, Clone)]
struct Allowed {
    conditional: bool,
    via: Vec<String>,
}

/// The best Allow among `statements` for `action`: an unconditional one if any.
fn allowed<'a>(
    statements: impl Iterator<Item = &'a Sourced<'a>>,
    action: &str,
    request: &Request,
) -> Option<Allowed> {
    let (mut firm, mut conditional) = (Vec::new(), Vec::new());
    for s in statements {
        let st = s.statement;
        if st.effect == Effect::Allow
            && covers_action(&st.actions, action)
            && allow_reaches(&st.resources, request.target, request.bucket_arn)
        {
            if st.conditions.is_empty() {
                firm.push(s.reference());
            } else {
                conditional.push(s.reference());
            }
        }
    }
    match (firm.is_empty(), conditional.is_empty()) {
        (false, _) => Some(Allowed {
            conditional: false,
            via: firm,
        }),
        (true, false) => Some(Allowed {
            conditional: true,
            via: conditional,
        }),
        (true, true) => None,
    }
}

/// Both needed: the path is as conditional as its weaker part.
fn both(a: Option<Allowed>, b: Option<Allowed>) -> Option<Allowed> {
    let (a, b) = (a?, b?);
    let mut via = a.via;
    via.extend(b.via);
    Some(Allowed {
        conditional: a.conditional || b.conditional,
        via,
    })
}

/// Either suffices: the firmer one (both when equally firm).
fn either(a: Option<Allowed>, b: Option<Allowed>) -> Option<Allowed> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(a), Some(b)) if a.conditional == b.conditional => {
            let mut via = a.via;
            via.extend(b.via);
            Some(Allowed {
                conditional: a.conditional,
                via,
            })
        }
        (Some(a), Some(b)) => Some(if a.conditional { b } else { a }),
    }
}

/// A Deny whose only condition demands TLS (`aws:SecureTransport` = false): it shuts out plain
/// HTTP, which changes nobody's access.
fn only_demands_tls(conditions: &[Condition]) -> bool {
    !conditions.is_empty()
        && conditions.iter().all(|c| {
            let operator = c.operator.to_ascii_lowercase();
            (operator == "bool" || operator == "boolifexists")
                && c.key.eq_ignore_ascii_case("aws:SecureTransport")
                && c.values.iter().all(|v| v.eq_ignore_ascii_case("false"))
        })
}

/// Does a bucket-policy Allow grant to this principal? `"*"` includes every principal of the
/// account; an ARN must be the principal's own (or a session of the role); the account
/// (`arn:aws:iam::<id>:root` or the bare id) delegates to IAM and grants nothing by itself.
pub fn allow_names(spec: &PrincipalSpec, principal: &Principal) -> bool {
    match spec {
        PrincipalSpec::Principal(p) => p.everyone || p.aws.iter().any(|id| names(id, principal)),
        // An Allow with NotPrincipal reaches everyone not listed.
        PrincipalSpec::NotPrincipal(p) => !p.aws.iter().any(|id| names(id, principal)),
        PrincipalSpec::Missing => false,
    }
}

/// Does a bucket-policy Deny apply to this principal? `"*"`, its ARN, or its account (a Deny
/// to the account applies to everyone in it); NotPrincipal applies unless it lists the
/// principal or its account.
pub fn deny_names(spec: &PrincipalSpec, principal: &Principal) -> bool {
    let root = format!(":iam::{}:root", principal.account);
    let account =
        |id: &str| id == principal.account || (id.starts_with("arn:") && id.ends_with(&root));
    match spec {
        PrincipalSpec::Principal(p) => {
            p.everyone || p.aws.iter().any(|id| names(id, principal) || account(id))
        }
        PrincipalSpec::NotPrincipal(p) => {
            !p.aws.iter().any(|id| names(id, principal) || account(id))
        }
        PrincipalSpec::Missing => false,
    }
}

/// True when `id` (from a Principal element) is this user or role, or a session of the role.
fn names(id: &str, principal: &Principal) -> bool {
    if id == principal.arn {
        return true;
    }
    // arn:aws:iam::<acct>:role/<path/>name → arn:aws:sts::<acct>:assumed-role/name/<session>
    if principal.is_user {
        return false;
    }
    let name = principal.arn.rsplit('/').next().unwrap_or_default();
    let session = format!(":sts::{}:assumed-role/{name}/", principal.account);
    id.starts_with("arn:") && id.contains(&session)
}

/// Every explicit Deny that applies to the principal and covers `action` on the whole target,
/// split into firm ones and conditional ones (a TLS-only Deny counts as neither).
fn denies<'a>(
    principal: &'a Principal<'a>,
    bucket_policy: &'a [Sourced<'a>],
    action: &str,
    request: &Request,
) -> (Vec<String>, Vec<String>) {
    let boundary: &[Sourced] = match &principal.boundary {
        Boundary::Known(statements) => statements,
        _ => &[],
    };
    let own = principal.identity.iter().chain(boundary);
    let resource = bucket_policy
        .iter()
        .filter(|s| deny_names(&s.statement.principal, principal));
    let (mut firm, mut conditional) = (Vec::new(), Vec::new());
    for s in own.chain(resource) {
        let st = s.statement;
        if st.effect != Effect::Deny
            || !covers_action(&st.actions, action)
            || !deny_covers(&st.resources, request.target, request.bucket_arn)
            || only_demands_tls(&st.conditions)
        {
            continue;
        }
        if st.conditions.is_empty() {
            firm.push(s.reference());
        } else {
            conditional.push(s.reference());
        }
    }
    (firm, conditional)
}

/// What `principal` may do: any of the request's actions, same-account evaluation as in AWS's
/// "Policy evaluation logic" — an explicit Deny anywhere wins; else an identity-policy Allow
/// (within the permissions boundary, if one is set) or a bucket-policy Allow naming the
/// principal (within a role's boundary; a user named by ARN is not limited by its boundary).
pub fn decide(principal: &Principal, bucket_policy: &[Sourced], request: &Request) -> Decision {
    let mut out = Decision::default();
    for action in request.actions {
        let boundary = match &principal.boundary {
            Boundary::None => Some(Allowed {
                conditional: false,
                via: Vec::new(),
            }),
            Boundary::Known(statements) => allowed(statements.iter(), action, request),
            Boundary::Unknown(arn) => {
                out.notes.push(format!(
                    "the permissions boundary {arn} is not in the evidence, so what it allows is unknown"
                ));
                Some(Allowed {
                    conditional: true,
                    via: vec![arn.to_string()],
                })
            }
        };
        let identity = allowed(principal.identity.iter(), action, request);
        let named = bucket_policy
            .iter()
            .filter(|s| allow_names(&s.statement.principal, principal));
        let resource = allowed(named, action, request);
        let resource = if principal.is_user {
            resource
        } else {
            both(resource, boundary.clone())
        };
        let mut allow = either(both(identity, boundary), resource);
        if !principal.unknown_policies.is_empty() {
            let unknown = Some(Allowed {
                conditional: true,
                via: principal
                    .unknown_policies
                    .iter()
                    .map(|a| a.to_string())
                    .collect(),
            });
            allow = either(allow, unknown);
        }
        let Some(mut allow) = allow else {
            continue;
        };
        let (firm_denies, conditional_denies) = denies(principal, bucket_policy, action, request);
        if !firm_denies.is_empty() {
            continue;
        }
        if !conditional_denies.is_empty() {
            allow.conditional = true;
            allow.via.extend(conditional_denies);
        }
        let access = if allow.conditional {
            Access::Conditional
        } else {
            Access::Yes
        };
        if access > out.access {
            out.access = access;
        }
        out.via.extend(allow.via);
    }
    out.via.sort();
    out.via.dedup();
    out.notes.sort();
    out.notes.dedup();
    if principal
        .unknown_policies
        .iter()
        .any(|_| out.access != Access::No)
    {
        out.notes.push(format!(
            "{} not in the evidence: may allow anything",
            principal.unknown_policies.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    //! Each case cites the AWS documentation it comes from:
    //! [PEL] IAM User Guide, "Policy evaluation logic" (and "Determining whether a request is
    //! allowed or denied within an account"); [PB] IAM User Guide, "Permissions boundaries for
    //! IAM entities"; [S3A] Amazon S3 User Guide, "How Amazon S3 authorizes a request" (and "for
    //! a bucket operation" / "for an object operation").
    use super::*;
    use crate::snapshot::policy::PolicyDocument;
    use serde_json::{json, Value};

    const ACCOUNT: &str = "111122223333";
    const USER: &str = "arn:aws:iam::111122223333:user/alice";
    const ROLE: &str = "arn:aws:iam::111122223333:role/export";
    const BUCKET: &str = "arn:aws:s3:::phi";
    const READ: &[&str] = &["s3:GetObject"];
    const WRITE: &[&str] = &["s3:PutObject", "s3:DeleteObject"];
    const MANAGE: &[&str] = &[
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketAcl",
    ];

    fn doc(statements: Value) -> PolicyDocument {
        PolicyDocument::from_value(&json!({"Version": "2012-10-17", "Statement": statements}))
            .unwrap()
    }

    fn allow(action: &str, resource: &str) -> Value {
        json!({"Effect": "Allow", "Action": action, "Resource": resource})
    }

    fn deny(action: &str, resource: &str) -> Value {
        json!({"Effect": "Deny", "Action": action, "Resource": resource})
    }

    /// One case: the principal's identity statements, its boundary (`Some(None)` = set but not
    /// in the evidence), the bucket policy's statements.
    struct Case {
        role: bool,
        identity: Vec<Value>,
        boundary: Option<Option<Vec<Value>>>,
        bucket: Vec<Value>,
        unknown: bool,
    }

    fn user(identity: Vec<Value>) -> Case {
        Case {
            role: false,
            identity,
            boundary: None,
            bucket: vec![],
            unknown: false,
        }
    }

    fn role(identity: Vec<Value>) -> Case {
        Case {
            role: true,
            ..user(identity)
        }
    }

    impl Case {
        fn boundary(mut self, statements: Vec<Value>) -> Case {
            self.boundary = Some(Some(statements));
            self
        }
        fn bucket(mut self, statements: Vec<Value>) -> Case {
            self.bucket = statements;
            self
        }
        fn decide(&self, actions: &[&str], target: Target) -> Decision {
            let identity = doc(Value::Array(self.identity.clone()));
            let boundary_doc = match &self.boundary {
                Some(Some(b)) => Some(doc(Value::Array(b.clone()))),
                _ => None,
            };
            let bucket = doc(Value::Array(self.bucket.clone()));
            let sourced = |source: &'static str, d: &'static PolicyDocument| {
                d.statements
                    .iter()
                    .map(|statement| Sourced { source, statement })
                    .collect::<Vec<_>>()
            };
            // Leaked for the 'static borrows of this test only.
            let identity: &'static PolicyDocument = Box::leak(Box::new(identity));
            let bucket: &'static PolicyDocument = Box::leak(Box::new(bucket));
            let boundary = match (&self.boundary, boundary_doc) {
                (None, _) => Boundary::None,
                (Some(None), _) => Boundary::Unknown("arn:aws:iam::aws:policy/Unlisted"),
                (Some(Some(_)), Some(d)) => {
                    Boundary::Known(sourced("boundary", Box::leak(Box::new(d))))
                }
                (Some(Some(_)), None) => unreachable!(),
            };
            let principal = Principal {
                arn: if self.role { ROLE } else { USER },
                account: ACCOUNT,
                is_user: !self.role,
                identity: sourced("identity", identity),
                boundary,
                unknown_policies: if self.unknown {
                    vec!["arn:aws:iam::aws:policy/Gone"]
                } else {
                    vec![]
                },
            };
            let request = Request {
                actions,
                target,
                bucket_arn: BUCKET,
            };
            decide(&principal, &sourced("s3://phi", bucket), &request)
        }
        fn read(&self) -> Access {
            self.decide(READ, Target::Objects).access
        }
    }

    use Access::{Conditional, No, Yes};

    #[test]
    fn identity_policies_as_in_policy_evaluation_logic() {
        let cases: Vec<(Case, Access)> = vec![
            // [PEL] "By default, all requests are implicitly denied".
            (user(vec![]), No),
            // [PEL] An identity-based policy allow grants the request within the account.
            (user(vec![allow("s3:GetObject", "arn:aws:s3:::phi/*")]), Yes),
            // [PEL] The Allow must match the requested resource.
            (
                user(vec![allow("s3:GetObject", "arn:aws:s3:::other/*")]),
                No,
            ),
            // [PEL] "An explicit deny in any policy overrides any allows".
            (
                user(vec![
                    allow("s3:GetObject", "arn:aws:s3:::phi/*"),
                    deny("s3:GetObject", "*"),
                ]),
                No,
            ),
            // [PEL] Action wildcards: s3:* covers every S3 action.
            (user(vec![allow("s3:*", "*")]), Yes),
            // [PEL] (IAM JSON policy elements: Action) action names are case-insensitive.
            (user(vec![allow("S3:getobject", "arn:aws:s3:::phi/*")]), Yes),
            // [PEL] (Action) a trailing wildcard: s3:Get* covers s3:GetObject.
            (user(vec![allow("s3:Get*", "arn:aws:s3:::phi/*")]), Yes),
            // [PEL] (Action) `?` matches one character.
            (user(vec![allow("s3:Get?bject", "arn:aws:s3:::phi/*")]), Yes),
            // [PEL] (NotAction) Allow with NotAction allows every action not listed.
            (
                user(vec![
                    json!({"Effect": "Allow", "NotAction": "s3:PutObject", "Resource": "*"}),
                ]),
                Yes,
            ),
            // [PEL] (NotAction) ... and not the ones listed.
            (
                user(vec![
                    json!({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
                ]),
                No,
            ),
            // [PEL] (NotResource) Allow with NotResource reaches every resource not listed.
            (
                user(vec![
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::other/*"}),
                ]),
                Yes,
            ),
            // [PEL] (NotResource) ... and not the listed ones.
            (
                user(vec![
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::phi/*"}),
                ]),
                No,
            ),
            // [S3A] An object operation is authorised per object: an Allow on a prefix reads
            // those objects, so the principal can read ePHI.
            (
                user(vec![allow("s3:GetObject", "arn:aws:s3:::phi/records/*")]),
                Yes,
            ),
            // [PEL] A Condition decides per request: the answer depends on the request.
            (
                user(vec![
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
                ]),
                Conditional,
            ),
            // [PEL] Any one matching Allow suffices: an unconditional one decides.
            (
                user(vec![
                    json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
                    allow("s3:GetObject", "arn:aws:s3:::phi/*"),
                ]),
                Yes,
            ),
            // [PEL] A conditional explicit Deny removes access only when it matches.
            (
                user(vec![
                    allow("s3:GetObject", "*"),
                    json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}),
                ]),
                Conditional,
            ),
            // [S3A] A Deny of plain HTTP (aws:SecureTransport false) only demands TLS.
            (
                user(vec![
                    allow("s3:GetObject", "*"),
                    json!({"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
                ]),
                Yes,
            ),
            // [S3A] A Deny on some objects leaves the others readable.
            (
                user(vec![
                    allow("s3:GetObject", "arn:aws:s3:::phi/*"),
                    deny("s3:GetObject", "arn:aws:s3:::phi/secret/*"),
                ]),
                Yes,
            ),
            // [PEL] (NotAction) a Deny with NotAction denies only what it does not list.
            (
                user(vec![
                    allow("s3:*", "*"),
                    json!({"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}),
                ]),
                Yes,
            ),
            // [PEL] Deny * on * overrides everything.
            (user(vec![allow("s3:*", "*"), deny("*", "*")]), No),
            // [S3A] GetObject needs the object ARN: an Allow on the bucket ARN alone reads nothing.
            (user(vec![allow("s3:GetObject", "arn:aws:s3:::phi")]), No),
            // [PEL] A policy the evidence lacks may allow anything: never "no".
            (
                Case {
                    unknown: true,
                    ..user(vec![])
                },
                Conditional,
            ),
        ];
        for (i, (case, expected)) in cases.iter().enumerate() {
            assert_eq!(case.read(), *expected, "case {i}");
        }
    }

    #[test]
    fn permissions_boundaries() {
        let read_phi = || vec![allow("s3:GetObject", "arn:aws:s3:::phi/*")];
        let cases: Vec<(Case, Access)> = vec![
            // [PB] Effective permissions are the intersection of the identity policy and the boundary.
            (user(read_phi()).boundary(vec![allow("s3:*", "*")]), Yes),
            // [PB] An action the boundary does not allow is denied although the identity policy allows it.
            (user(read_phi()).boundary(vec![allow("ec2:*", "*")]), No),
            // [PB] "A permissions boundary alone does not grant permissions".
            (user(vec![]).boundary(vec![allow("s3:*", "*")]), No),
            // [PB] An explicit Deny in the boundary overrides.
            (user(vec![allow("s3:*", "*")]).boundary(vec![allow("*", "*"), deny("s3:GetObject", "*")]), No),
            // [PB] A boundary Allow under a condition makes the intersection conditional.
            (user(read_phi()).boundary(vec![json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}})]), Conditional),
            // [PB] A boundary whose document is not in the evidence: what it limits is unknown.
            (Case { boundary: Some(None), ..user(read_phi()) }, Conditional),
            // [PB] "Resource-based policies that specify the user ARN as the principal are not
            // limited by the boundary" (same account).
            (user(vec![]).boundary(vec![allow("ec2:*", "*")]).bucket(vec![json!({"Effect": "Allow",
                "Principal": {"AWS": USER}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})]), Yes),
            // [PB] For a role, a resource-based policy grant to the role ARN is limited by its boundary.
            (role(vec![]).boundary(vec![allow("ec2:*", "*")]).bucket(vec![json!({"Effect": "Allow",
                "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})]), No),
            // [PB] ... and allowed when the boundary allows it.
            (role(vec![]).boundary(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Allow",
                "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})]), Yes),
            // [PB] A role's identity policy is limited by its boundary too.
            (role(read_phi()).boundary(vec![allow("s3:PutObject", "*")]), No),
        ];
        for (i, (case, expected)) in cases.iter().enumerate() {
            assert_eq!(case.read(), *expected, "case {i}");
        }
    }

    #[test]
    fn bucket_policies_as_s3_authorizes_a_request() {
        let grant = |principal: Value| {
            json!({"Effect": "Allow", "Principal": principal,
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})
        };
        let cases: Vec<(Case, Access)> = vec![
            // [S3A] Within the account, either the user policy or the bucket policy may allow:
            // Principal "*" includes every principal of the account.
            (user(vec![]).bucket(vec![grant(json!("*"))]), Yes),
            // [S3A] {"AWS": "*"} is the same as "*".
            (role(vec![]).bucket(vec![grant(json!({"AWS": "*"}))]), Yes),
            // [S3A] A grant to the account delegates to the account's IAM policies: alone it
            // allows no user.
            (user(vec![]).bucket(vec![grant(json!({"AWS": "arn:aws:iam::111122223333:root"}))]), No),
            // [S3A] ... also when the account is named by its bare id.
            (user(vec![]).bucket(vec![grant(json!({"AWS": ACCOUNT}))]), No),
            // [S3A] ... while the account's identity policy then allows.
            (user(vec![allow("s3:GetObject", "*")]).bucket(vec![grant(json!({"AWS": ACCOUNT}))]), Yes),
            // [S3A] A grant to another user is not a grant to this one.
            (user(vec![]).bucket(vec![grant(json!({"AWS": "arn:aws:iam::111122223333:user/bob"}))]), No),
            // [S3A] A bucket-policy Deny to everyone overrides the user policy's Allow.
            (user(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Deny", "Principal": "*",
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})]), No),
            // [S3A] A Deny to the account applies to every principal in it.
            (user(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*", "Resource": "arn:aws:s3:::phi/*"})]), No),
            // [PEL] (NotPrincipal) a Deny with NotPrincipal spares the listed principals.
            (user(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Deny",
                "NotPrincipal": {"AWS": USER}, "Action": "s3:*", "Resource": "arn:aws:s3:::phi/*"})]), Yes),
            // [PEL] (NotPrincipal) ... and denies everyone else.
            (user(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Deny",
                "NotPrincipal": {"AWS": ROLE}, "Action": "s3:*", "Resource": "arn:aws:s3:::phi/*"})]), No),
            // [S3A] A grant to a session of the role reaches the role's sessions.
            (role(vec![]).bucket(vec![grant(json!({"AWS": "arn:aws:sts::111122223333:assumed-role/export/job"}))]), Yes),
            // [S3A] A bucket-policy Deny outside a VPC endpoint: allowed from inside only.
            (user(vec![allow("s3:*", "*")]).bucket(vec![json!({"Effect": "Deny", "Principal": "*",
                "Action": "s3:*", "Resource": ["arn:aws:s3:::phi", "arn:aws:s3:::phi/*"],
                "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}})]), Conditional),
        ];
        for (i, (case, expected)) in cases.iter().enumerate() {
            assert_eq!(case.read(), *expected, "case {i}");
        }
    }

    #[test]
    fn write_and_manage_and_via() {
        // [S3A] Bucket operations are authorised on the bucket ARN: PutBucketPolicy on it manages.
        let c = user(vec![allow("s3:PutBucketPolicy", BUCKET)]);
        assert_eq!(c.decide(MANAGE, Target::Bucket).access, Yes);
        // [S3A] ... an Allow on the objects only does not.
        let c = user(vec![allow("s3:*", "arn:aws:s3:::phi/*")]);
        assert_eq!(c.decide(MANAGE, Target::Bucket).access, No);
        // [PEL] Any one of the write actions allowed is write access.
        let c = user(vec![allow("s3:DeleteObject", "arn:aws:s3:::phi/*")]);
        assert_eq!(c.decide(WRITE, Target::Objects).access, Yes);
        // [PEL] s3:* on arn:aws:s3:::* reaches the bucket, but no object (objects need `/`).
        let c = user(vec![allow("s3:*", "arn:aws:s3:::*")]);
        assert_eq!(c.decide(MANAGE, Target::Bucket).access, Yes);
        assert_eq!(c.read(), Yes, "arn:aws:s3:::* also matches phi/any-key");
        // The deciding statements are named.
        let c = user(vec![allow("s3:Get*", "*"), allow("s3:GetObject", "arn:aws:s3:::phi/*")])
            .bucket(vec![json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::phi/*"})]);
        assert_eq!(
            c.decide(READ, Target::Objects).via,
            [
                "identity#/Statement/0",
                "identity#/Statement/1",
                "s3://phi#/Statement/0"
            ]
        );
    }
}
