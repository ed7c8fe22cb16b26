#!/usr/bin/env python3
"""Organisation generator for scripts/bench-org-collect: in the moto server at
PHI_AUDIT_TEST_ENDPOINT, makes a fresh account the management account of a new organisation with
ACCOUNTS member accounts (CreateAccount also creates their OrganizationAccountAccessRole), and
creates BUCKETS buckets in each member account with its assumed role.

Usage: org_fleet.py ACCOUNTS BUCKETS PREFIX CREDENTIALS_FILE

Buckets get a deterministic mix (by index) of versioning, SSE-S3 default encryption and a
phi=true tag, so collect reads both configured and "not configured" answers. The management
account's session credentials are written to CREDENTIALS_FILE as shell `export` lines (a file in
the benchmark's temporary directory: they are moto's made-up keys, valid only in this server).
"""

import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def client(service, endpoint, creds=None):
    keys = creds or {"AccessKeyId": "testing", "SecretAccessKey": "testing", "SessionToken": None}
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys.get("SessionToken"),
        config=Config(max_pool_connections=16, s3={"addressing_style": "path"}),
    )


def assume(sts, arn):
    return sts.assume_role(RoleArn=arn, RoleSessionName="bench-org-fleet")["Credentials"]


def main():
    accounts, buckets, prefix, creds_file = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        sys.argv[3],
        sys.argv[4],
    )
    endpoint = os.environ["PHI_AUDIT_TEST_ENDPOINT"]
    management = "9" + "".join(random.choice("0123456789") for _ in range(11))
    mgmt = assume(client("sts", endpoint), f"arn:aws:iam::{management}:role/Bootstrap")
    org = client("organizations", endpoint, mgmt)
    org.create_organization(FeatureSet="ALL")
    mgmt_sts = client("sts", endpoint, mgmt)

    def populate(a):
        account = org.create_account(
            AccountName=f"{prefix}-{a:02d}", Email=f"{prefix}-{a:02d}@example.com"
        )["CreateAccountStatus"]["AccountId"]
        creds = assume(mgmt_sts, f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole")
        s3 = client("s3", endpoint, creds)
        for i in range(buckets):
            name = f"{prefix}-{a:02d}-{i:04d}"
            s3.create_bucket(Bucket=name)
            if i % 2 == 0:
                s3.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": "Enabled"}
                )
            if i % 3 != 2:
                s3.put_bucket_tagging(
                    Bucket=name, Tagging={"TagSet": [{"Key": "phi", "Value": "true"}]}
                )
            if i % 4 == 0:
                s3.put_bucket_encryption(
                    Bucket=name,
                    ServerSideEncryptionConfiguration={
                        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                    },
                )
        return account

    # Four accounts at a time: moto serves requests on threads, and the generator is not measured.
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(populate, range(accounts)))
    with open(creds_file, "w") as f:
        f.write(f"export AWS_ACCESS_KEY_ID={mgmt['AccessKeyId']}\n")
        f.write(f"export AWS_SECRET_ACCESS_KEY={mgmt['SecretAccessKey']}\n")
        f.write(f"export AWS_SESSION_TOKEN={mgmt['SessionToken']}\n")
    print(f"organisation of {management}: {len(made)} member accounts x {buckets} buckets")


if __name__ == "__main__":
    main()
