//! The configuration controls: versioning, MFA delete, Object Lock, replication, lifecycle,
//! default encryption and server access logging. Each reads one API answer.

use super::{BucketContext, Verdict};
use crate::schema::Operation;

pub fn versioning_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketVersioning)];
    match ctx.require(&ctx.bucket.versioning, Operation::GetBucketVersioning, "the versioning state") {
        Err(verdict) => verdict,
        Ok(v) => match v.and_then(|v| v.status.as_deref()) {
            Some("Enabled") => Verdict::pass("Versioning is Enabled.", evidence),
            Some(other) => Verdict::fail(
                format!("Versioning is {other}, so overwritten and deleted objects cannot be recovered."),
                evidence,
            ),
            None => Verdict::fail(
                "Versioning has never been enabled, so overwritten and deleted objects cannot be recovered.",
                evidence,
            ),
        },
    }
}

pub fn mfa_delete_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketVersioning)];
    match ctx.require(&ctx.bucket.versioning, Operation::GetBucketVersioning, "the MFA delete state") {
        Err(verdict) => verdict,
        Ok(v) => match v.and_then(|v| v.mfa_delete.as_deref()) {
            Some("Enabled") => Verdict::pass(
                "MFA delete is Enabled: deleting versions or suspending versioning needs the root user's MFA device.",
                evidence,
            ),
            Some(other) => Verdict::fail(
                format!("MFA delete is {other}: a single stolen key can permanently delete object versions."),
                evidence,
            ),
            None => Verdict::fail(
                "MFA delete has never been configured: a single stolen key can permanently delete object versions.",
                evidence,
            ),
        },
    }
}

pub fn object_lock_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx
        .bucket
        .evidence_ref(Operation::GetObjectLockConfiguration)];
    match ctx.require(&ctx.bucket.object_lock, Operation::GetObjectLockConfiguration, "the Object Lock state") {
        Err(verdict) => verdict,
        Ok(Some(lock)) if lock.object_lock_enabled.as_deref() == Some("Enabled") => {
            let retention = lock
                .rule
                .as_ref()
                .and_then(|r| r.default_retention.as_ref())
                .map(|r| {
                    let period = match (r.days, r.years) {
                        (Some(days), _) => format!("{days} days"),
                        (None, Some(years)) => format!("{years} years"),
                        (None, None) => "an unspecified period".to_string(),
                    };
                    format!(
                        " with default {} retention of {period}",
                        r.mode.as_deref().unwrap_or("unspecified")
                    )
                })
                .unwrap_or_else(|| " without a default retention (each object must set its own)".to_string());
            Verdict::pass(format!("Object Lock is enabled{retention}."), evidence)
        }
        Ok(_) => Verdict::fail(
            "Object Lock is not enabled, so objects can be deleted or overwritten before their retention ends.",
            evidence,
        ),
    }
}

pub fn replication_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketReplication)];
    match ctx.require(
        &ctx.bucket.replication,
        Operation::GetBucketReplication,
        "whether the bucket is replicated",
    ) {
        Err(verdict) => verdict,
        Ok(Some(config)) => {
            let destinations: Vec<&str> = config
                .rules
                .iter()
                .filter(|r| r.status == "Enabled")
                .map(|r| r.destination.bucket.as_str())
                .collect();
            if destinations.is_empty() {
                Verdict::fail(
                    "Replication is configured but no rule is enabled.",
                    evidence,
                )
            } else {
                Verdict::pass(
                    format!("Objects are replicated to {}.", destinations.join(", ")),
                    evidence,
                )
            }
        }
        Ok(None) => Verdict::fail(
            "No replication is configured: there is no second copy of the data.",
            evidence,
        ),
    }
}

pub fn lifecycle_missing(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx
        .bucket
        .evidence_ref(Operation::GetBucketLifecycleConfiguration)];
    match ctx.require(
        &ctx.bucket.lifecycle,
        Operation::GetBucketLifecycleConfiguration,
        "the lifecycle rules",
    ) {
        Err(verdict) => verdict,
        Ok(Some(lifecycle)) => {
            let enabled = lifecycle
                .rules
                .iter()
                .filter(|r| r.status == "Enabled")
                .count();
            if enabled == 0 {
                Verdict::fail(
                    format!(
                        "All {} lifecycle rules are disabled.",
                        lifecycle.rules.len()
                    ),
                    evidence,
                )
            } else {
                Verdict::pass(
                    format!("{enabled} lifecycle rule(s) are enabled."),
                    evidence,
                )
            }
        }
        Ok(None) => Verdict::fail(
            "No lifecycle configuration governs retention of objects or old versions.",
            evidence,
        ),
    }
}

/// The SSE algorithm of each default rule, e.g. `aws:kms`.
fn default_algorithms(
    rules: &[crate::snapshot::aws::EncryptionRule],
) -> Vec<&crate::snapshot::aws::EncryptionDefault> {
    rules
        .iter()
        .filter_map(|r| r.apply_server_side_encryption_by_default.as_ref())
        .collect()
}

pub fn default_encryption_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketEncryption)];
    match ctx.require(
        &ctx.bucket.encryption,
        Operation::GetBucketEncryption,
        "the default encryption",
    ) {
        Err(verdict) => verdict,
        Ok(Some(config)) => match default_algorithms(&config.rules).first() {
            Some(default) => Verdict::pass(
                format!(
                    "Default encryption is configured ({}).",
                    default.sse_algorithm
                ),
                evidence,
            ),
            None => Verdict::fail(
                "The encryption configuration has no default encryption rule.",
                evidence,
            ),
        },
        Ok(None) => Verdict::fail(
            "GetBucketEncryption answers that no default encryption rule exists.",
            evidence,
        ),
    }
}

pub fn encryption_not_kms(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketEncryption)];
    let config = match ctx.require(
        &ctx.bucket.encryption,
        Operation::GetBucketEncryption,
        "the encryption key",
    ) {
        Err(verdict) => return verdict,
        Ok(None) => {
            return Verdict::fail(
                "No default encryption rule exists, so no KMS key protects the data.",
                evidence,
            )
        }
        Ok(Some(config)) => config,
    };
    let defaults = default_algorithms(&config.rules);
    let Some(default) = defaults.first() else {
        return Verdict::fail(
            "The encryption configuration has no default rule.",
            evidence,
        );
    };
    match default.sse_algorithm.as_str() {
        "aws:kms" | "aws:kms:dsse" => match default.kms_master_key_id.as_deref() {
            Some(key) if !key.is_empty() && !key.ends_with("alias/aws/s3") => Verdict::pass(
                format!("Objects are encrypted with {} under the customer managed key {key}.", default.sse_algorithm),
                evidence,
            ),
            _ => Verdict::fail(
                "Objects are encrypted with the AWS managed key aws/s3, whose key policy cannot restrict who decrypts.",
                evidence,
            ),
        },
        other => Verdict::fail(
            format!("Default encryption is {other} (SSE-S3): no customer managed KMS key controls or logs decryption."),
            evidence,
        ),
    }
}

pub fn access_logging_disabled(ctx: &BucketContext) -> Verdict {
    let evidence = vec![ctx.bucket.evidence_ref(Operation::GetBucketLogging)];
    match ctx.require(&ctx.bucket.logging, Operation::GetBucketLogging, "whether access logging is on") {
        Err(verdict) => verdict,
        Ok(logging) => match logging.and_then(|l| l.logging_enabled.as_ref()) {
            Some(target) if target.target_bucket == ctx.bucket.name => Verdict::pass(
                format!(
                    "Server access logs are delivered to the bucket itself (prefix \"{}\"), which AWS advises against.",
                    target.target_prefix
                ),
                evidence,
            ),
            Some(target) => Verdict::pass(
                format!(
                    "Server access logs are delivered to s3://{}/{}.",
                    target.target_bucket, target.target_prefix
                ),
                evidence,
            ),
            None => Verdict::fail("Server access logging is off.", evidence),
        },
    }
}
