#!/usr/bin/env python3
"""Fleet generator for scripts/bench-collect: creates N buckets with varied configurations in the
moto server at PHI_AUDIT_TEST_ENDPOINT (boto3 from the same virtualenv as moto).

Usage: fleet.py N PREFIX

Every bucket gets a deterministic mix (by index) of: versioning Enabled / Suspended / never,
SSE-S3 / SSE-KMS / none, a public-read ACL, a public policy, bucket Block Public Access,
tags (phi=true on two thirds), ownership controls, and server access logging to a shared log
bucket (every fourth bucket) with a few log objects, so collect meets every code path.
"""

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main():
    n = int(sys.argv[1])
    prefix = sys.argv[2]
    endpoint = os.environ["PHI_AUDIT_TEST_ENDPOINT"]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=16, s3={"addressing_style": "path"}),
    )
    logs = f"{prefix}-logs"
    s3.create_bucket(Bucket=logs)
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")

    def make(i):
        name = f"{prefix}-{i:05d}"
        s3.create_bucket(Bucket=name)
        if i % 3 == 0:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        elif i % 3 == 1:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
        if i % 4 == 0:
            rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/phi"}
        elif i % 4 == 1:
            rule = {"SSEAlgorithm": "AES256"}
        else:
            rule = None
        if rule:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": rule}]
                },
            )
        if i % 10 == 0:
            s3.put_bucket_acl(Bucket=name, ACL="public-read")
        if i % 10 == 5:
            s3.put_bucket_policy(
                Bucket=name,
                Policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": f"arn:aws:s3:::{name}/*",
                            }
                        ],
                    }
                ),
            )
        if i % 5 == 2:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True,
                    "RestrictPublicBuckets": True,
                },
            )
        if i % 3 != 2:
            s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": "phi", "Value": "true"}]}
            )
        if i % 7 == 0:
            s3.put_bucket_ownership_controls(
                Bucket=name,
                OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            )
        if i % 4 == 3:
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": f"{name}/"}
                },
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in pool.map(make, range(n)):
            pass
    print(f"fleet: {n} buckets with prefix {prefix} (+ {logs})", file=sys.stderr)


if __name__ == "__main__":
    main()
