//! The access-family controls: public exposure for each capability and audience, cross-account
//! sharing, and the guard rails (Block Public Access, ACLs disabled, TLS enforcement).

use super::access::{
    covers_action, covers_bucket_and_objects, foreign_principals, Audience, Capability, Exposure,
};
use super::{BucketContext, Verdict};
use crate::schema::Operation;
use crate::snapshot::aws::GranteeClass;
use crate::snapshot::policy::{Effect, PrincipalSpec};
use crate::snapshot::{Evidence, ACCOUNT_PUBLIC_ACCESS_BLOCK_REF};

fn judge(ctx: &BucketContext, capability: Capability, audience: Audience) -> Verdict {
    verdict_of(
        ctx.access.exposure(capability, audience),
        capability,
        audience,
    )
}

/// Turns an exposure analysis into one sentence and a status: in force → fail; unknown →
/// error; neutralised → pass, saying it is latent.
pub fn verdict_of(exposure: Exposure, capability: Capability, audience: Audience) -> Verdict {
    let who = audience.describe();
    let what = capability.describe();
    let evidence: Vec<String> = exposure.evidence.iter().cloned().collect();
    let capitalised = {
        let mut chars = who.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
            .unwrap_or_default()
    };
    if !exposure.granted_by.is_empty() {
        return Verdict::fail(
            format!(
                "{capitalised} can {what}: {}.",
                exposure.granted_by.join("; ")
            ),
            evidence,
        );
    }
    if !exposure.unknown.is_empty() {
        return Verdict::error(
            format!(
                "Not assessed: whether {who} can {what} is unknown because {}.",
                exposure.unknown.join("; ")
            ),
            evidence,
        );
    }
    let notes = if exposure.notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", exposure.notes.join("; "))
    };
    if !exposure.latent.is_empty() {
        let mut verdict = Verdict::pass(
            format!(
                "Blocked today, but the exposure is latent, one setting away from letting {who} {what}: {}{notes}.",
                exposure.latent.join("; ")
            ),
            evidence,
        );
        verdict.facts.neutralised_by = exposure.neutralised_by.into_iter().collect();
        return verdict;
    }
    Verdict::pass(
        format!("No ACL grant or bucket policy statement lets {who} {what}{notes}."),
        evidence,
    )
}

pub fn world_readable_anonymous(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::ReadObjects, Audience::Anyone)
}
pub fn world_listable_anonymous(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::List, Audience::Anyone)
}
pub fn world_writable_anonymous(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::WriteObjects, Audience::Anyone)
}
pub fn permissions_world_readable_anonymous(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::ReadPermissions, Audience::Anyone)
}
pub fn permissions_world_writable_anonymous(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::WritePermissions, Audience::Anyone)
}
pub fn world_listable(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::List, Audience::AnyAwsAccount)
}
pub fn world_writable(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::WriteObjects, Audience::AnyAwsAccount)
}
pub fn permissions_world_readable(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::ReadPermissions, Audience::AnyAwsAccount)
}
pub fn permissions_world_writable(ctx: &BucketContext) -> Verdict {
    judge(ctx, Capability::WritePermissions, Audience::AnyAwsAccount)
}

pub fn cross_account_access(ctx: &BucketContext) -> Verdict {
    let bucket = ctx.bucket;
    let evidence = vec![
        bucket.evidence_ref(Operation::GetBucketPolicy),
        bucket.evidence_ref(Operation::GetBucketAcl),
        bucket.evidence_ref(Operation::GetBucketOwnershipControls),
    ];
    let own = ctx.meta.account_id.as_str();
    let mut shared_with = Vec::new();
    let mut unknown = Vec::new();
    match &bucket.policy {
        Evidence::Found(document) => {
            for statement in document
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                for principal in foreign_principals(statement, own) {
                    shared_with.push(format!(
                        "the policy's {} allows {principal}",
                        statement.label()
                    ));
                }
            }
        }
        Evidence::NotConfigured => {}
        Evidence::Unavailable(why) => unknown.push(why.to_string()),
    }
    let acls_disabled = match &bucket.ownership {
        Evidence::Found(controls) => Some(controls.acls_disabled()),
        Evidence::NotConfigured => Some(false),
        Evidence::Unavailable(_) => None,
    };
    if acls_disabled != Some(true) {
        match &bucket.acl {
            Evidence::Found(acl) => {
                let owner = Some(acl.owner.id.clone());
                for grant in &acl.grants {
                    let foreign = grant.grantee.class() == GranteeClass::Account
                        && (grant.grantee.id.is_none() || grant.grantee.id != owner);
                    if foreign {
                        shared_with.push(format!(
                            "the ACL grants {} to account {}",
                            grant.permission.as_str(),
                            grant.grantee.label()
                        ));
                    }
                }
            }
            Evidence::NotConfigured => {}
            Evidence::Unavailable(why) => unknown.push(why.to_string()),
        }
    }
    if !shared_with.is_empty() {
        return Verdict::fail(
            format!(
                "The bucket is shared with other AWS accounts: {}.",
                shared_with.join("; ")
            ),
            evidence,
        );
    }
    if !unknown.is_empty() {
        return Verdict::error(
            format!(
                "Not assessed: {}, so sharing with other accounts is unknown.",
                unknown.join("; ")
            ),
            evidence,
        );
    }
    Verdict::pass(
        "Neither the bucket policy nor the ACL grants access to another AWS account.",
        evidence,
    )
}

pub fn public_access_block_incomplete(ctx: &BucketContext) -> Verdict {
    let bucket = ctx.bucket;
    let evidence = vec![
        bucket.evidence_ref(Operation::GetPublicAccessBlock),
        ACCOUNT_PUBLIC_ACCESS_BLOCK_REF.to_string(),
    ];
    let level = |e: &Evidence<crate::snapshot::aws::PublicAccessBlock>| match e {
        Evidence::Found(block) => Ok(*block),
        Evidence::NotConfigured => Ok(Default::default()),
        Evidence::Unavailable(why) => Err(why.to_string()),
    };
    match (
        level(&bucket.public_access_block),
        level(&ctx.meta.account_public_access_block),
    ) {
        (Ok(b), Ok(a)) => {
            let effective = b.union(&a);
            if effective.all_on() {
                Verdict::pass(
                    format!(
                        "All four Block Public Access settings are in force ({}).",
                        if a.all_on() {
                            "account level"
                        } else {
                            "bucket level"
                        }
                    ),
                    evidence,
                )
            } else {
                Verdict::fail(
                    format!(
                        "Block Public Access is incomplete: {} off at both bucket and account level.",
                        effective.missing().join(", ")
                    ),
                    evidence,
                )
            }
        }
        (Ok(known), Err(why)) | (Err(why), Ok(known)) if known.all_on() => Verdict::pass(
            format!(
                "All four Block Public Access settings are on at one level ({why} at the other)."
            ),
            evidence,
        ),
        (Err(why), _) | (_, Err(why)) => Verdict::error(
            format!(
                "Not assessed: {why}, so the effective Block Public Access settings are unknown."
            ),
            evidence,
        ),
    }
}

pub fn acls_enabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx
        .bucket
        .evidence_ref(Operation::GetBucketOwnershipControls)];
    match ctx.require(&ctx.bucket.ownership, Operation::GetBucketOwnershipControls, "whether ACLs are disabled") {
        Err(verdict) => verdict,
        Ok(Some(controls)) if controls.acls_disabled() => Verdict::pass(
            "Object Ownership is BucketOwnerEnforced: ACLs are disabled and only the policy grants access.",
            evidence,
        ),
        Ok(Some(controls)) => Verdict::fail(
            format!("Object Ownership is {}, so ACLs still grant access.", controls.setting()),
            evidence,
        ),
        Ok(None) => Verdict::fail(
            "No Object Ownership setting exists, so the bucket behaves as ObjectWriter and ACLs still grant access.",
            evidence,
        ),
    }
}

/// Enforced only by a Deny for everyone, on all S3 actions, covering the bucket and all its
/// objects, whose only condition is aws:SecureTransport = false (Bool or BoolIfExists).
pub fn tls_not_enforced(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketPolicy)];
    let document = match ctx.require(
        &ctx.bucket.policy,
        Operation::GetBucketPolicy,
        "whether plain HTTP is denied",
    ) {
        Err(verdict) => return verdict,
        Ok(None) => {
            return Verdict::fail(
                "The bucket has no policy, so nothing denies requests over plain HTTP.",
                evidence,
            )
        }
        Ok(Some(document)) => document,
    };
    let arn = ctx.access.bucket_arn();
    let (mut bucket_covered, mut objects_covered) = (false, false);
    let mut near_misses = Vec::new();
    for statement in document
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny)
    {
        let insecure_only = !statement.conditions.is_empty()
            && statement.conditions.iter().all(|c| {
                let op = c.operator.to_ascii_lowercase();
                (op == "bool" || op == "boolifexists")
                    && c.key.eq_ignore_ascii_case("aws:SecureTransport")
                    && c.values.iter().all(|v| v.eq_ignore_ascii_case("false"))
            });
        if !insecure_only {
            continue;
        }
        let everyone = matches!(&statement.principal, PrincipalSpec::Principal(p) if p.everyone);
        // "All S3 actions" means the patterns cover the whole s3: namespace, including actions
        // AWS adds later: checked with a name no list of specific actions can contain.
        let all_actions = covers_action(&statement.actions, "s3:AnyFutureAction")
            && covers_action(&statement.actions, "s3:GetObject")
            && covers_action(&statement.actions, "s3:ListBucket");
        let (bucket, objects) = covers_bucket_and_objects(&statement.resources, arn);
        if everyone && all_actions {
            bucket_covered |= bucket;
            objects_covered |= objects;
            if !(bucket && objects) {
                near_misses.push(format!(
                    "{} covers only {}",
                    statement.label(),
                    if bucket {
                        "the bucket, not its objects"
                    } else if objects {
                        "the objects, not the bucket"
                    } else {
                        "other resources"
                    }
                ));
            }
        } else {
            near_misses.push(format!(
                "{} denies plain HTTP only {}",
                statement.label(),
                if !everyone {
                    "for some principals"
                } else {
                    "for some actions"
                }
            ));
        }
    }
    if bucket_covered && objects_covered {
        return Verdict::pass(
            "The bucket policy denies every S3 action on the bucket and its objects when aws:SecureTransport is false.",
            evidence,
        );
    }
    let detail = if near_misses.is_empty() {
        "no statement denies requests when aws:SecureTransport is false".to_string()
    } else {
        near_misses.join("; ")
    };
    Verdict::fail(
        format!("Plain-HTTP requests are not fully denied: {detail}."),
        evidence,
    )
}
