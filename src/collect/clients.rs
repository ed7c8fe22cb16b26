//! AWS SDK configuration and per-region clients.
//!
//! Credentials come from `aws-config`'s default chain (environment, profiles, SSO, IMDS), with
//! `--profile` and `--endpoint-url` (or `AWS_ENDPOINT_URL`) applied. With an endpoint, S3 uses
//! path-style addressing (emulators and VPC endpoints do not resolve bucket subdomains) and
//! s3control goes to the given URL as is: its endpoint rules would otherwise prefix the host with
//! the account id, which does not resolve for `127.0.0.1` or a private endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3control::config::endpoint::{Endpoint, EndpointFuture, Params, ResolveEndpoint};

use super::CollectArgs;

/// Region used for global calls when neither `--region` nor the profile names one.
const FALLBACK_REGION: &str = "us-east-1";

/// Attempts per call. The SDK's standard retry mode backs off exponentially (with jitter) on
/// throttling (SlowDown, Throttling, 503) and transient network errors; a large account may see
/// bursts of SlowDown, so this allows more than the default three attempts.
const MAX_ATTEMPTS: u32 = 5;

/// Shared SDK configuration plus a cache of per-region clients.
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    endpoint: Option<String>,
    home_region: String,
    s3: Arc<Mutex<HashMap<String, aws_sdk_s3::Client>>>,
    cloudtrail: Arc<Mutex<HashMap<String, aws_sdk_cloudtrail::Client>>>,
}

/// Resolves every s3control request to one fixed URL (see the module comment).
#[derive(Debug)]
struct FixedEndpoint(String);

impl ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(&'a self, _params: &'a Params) -> EndpointFuture<'a> {
        EndpointFuture::ready(Ok(Endpoint::builder().url(self.0.clone()).build()))
    }
}

impl Clients {
    /// Loads the SDK configuration. No network traffic happens here; credentials are resolved on
    /// the first call.
    pub async fn load(args: &CollectArgs) -> Self {
        let sdk = Self::loader(args, args.regions.first().cloned())
            .load()
            .await;
        let sdk = if sdk.region().is_none() {
            Self::loader(args, Some(FALLBACK_REGION.to_owned()))
                .load()
                .await
        } else {
            sdk
        };
        let home_region = sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| FALLBACK_REGION.to_owned());
        let endpoint = sdk.endpoint_url().map(str::to_owned);
        Self {
            sdk,
            endpoint,
            home_region,
            s3: Arc::default(),
            cloudtrail: Arc::default(),
        }
    }

    fn loader(args: &CollectArgs, region: Option<String>) -> aws_config::ConfigLoader {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(profile) = &args.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if let Some(url) = &args.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        loader
    }

    /// The region of the profile / first `--region`: global calls (STS, s3control, ListBuckets)
    /// go there.
    pub fn home_region(&self) -> &str {
        &self.home_region
    }

    /// The custom endpoint in effect, if any.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// An S3 client for `region` (bucket calls must go to the bucket's own region).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let mut cache = self.s3.lock().expect("client cache lock");
        cache
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_s3::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_owned()))
                    .force_path_style(self.endpoint.is_some())
                    .build();
                aws_sdk_s3::Client::from_conf(conf)
            })
            .clone()
    }

    /// A CloudTrail client for `region`.
    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let mut cache = self.cloudtrail.lock().expect("client cache lock");
        cache
            .entry(region.to_owned())
            .or_insert_with(|| {
                let conf = aws_sdk_cloudtrail::config::Builder::from(&self.sdk)
                    .region(Region::new(region.to_owned()))
                    .build();
                aws_sdk_cloudtrail::Client::from_conf(conf)
            })
            .clone()
    }

    /// A KMS client for `region` (a key is read in its own region). Few keys, so no cache.
    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let conf = aws_sdk_kms::config::Builder::from(&self.sdk)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_kms::Client::from_conf(conf)
    }

    /// The s3control client (account-level Block Public Access).
    pub fn s3control(&self) -> aws_sdk_s3control::Client {
        let mut conf = aws_sdk_s3control::config::Builder::from(&self.sdk);
        if let Some(url) = &self.endpoint {
            conf = conf.endpoint_resolver(FixedEndpoint(url.clone()));
        }
        aws_sdk_s3control::Client::from_conf(conf.build())
    }

    /// The STS client (caller identity, AssumeRole).
    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk)
    }

    /// The IAM client (a global service: its endpoint rules pick the partition's endpoint).
    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk)
    }

    /// The Organizations client (a global service: its endpoint rules pick the partition's one
    /// region, whatever the home region is).
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.sdk)
    }

    /// The same configuration (region, endpoint, retries, timeouts) with other credentials: an
    /// organisation member account's assumed-role session. The client caches start empty, so no
    /// client of one account is ever used for another.
    pub fn with_credentials(&self, credentials: aws_sdk_sts::config::Credentials) -> Self {
        let sdk = self
            .sdk
            .to_builder()
            .credentials_provider(aws_sdk_sts::config::SharedCredentialsProvider::new(
                credentials,
            ))
            .build();
        Self {
            sdk,
            endpoint: self.endpoint.clone(),
            home_region: self.home_region.clone(),
            s3: Arc::default(),
            cloudtrail: Arc::default(),
        }
    }
}
