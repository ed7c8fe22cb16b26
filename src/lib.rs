//! phi-audit: HIPAA Security Rule evidence from an AWS account's S3 configuration.

pub mod collect;
