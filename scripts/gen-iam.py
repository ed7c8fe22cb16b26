#!/usr/bin/env python3
"""Writes a synthetic single-account snapshot for the access-review benchmark: B ePHI buckets
(tagged phi=true, otherwise configured well) and P IAM principals (three users to one role) with
about 20 policy statements each, in the iam/ files of docs/snapshot-format.md.

    python3 scripts/gen-iam.py --buckets 1000 --principals 2000 --out /tmp/iam-fleet [--seed 1]

Statement mix per principal: most name one to three buckets (read, write or manage actions,
objects or the bucket), some use a bucket-name pattern (phi-00*), one in fifty principals has an
unscoped Allow (Resource "*"); every tenth user is in one of 20 groups with their own inline
policies, every twentieth principal has a permissions boundary, and some statements are Denies or
carry conditions. A tenth of the buckets have a bucket policy granting two principals by ARN.
Deterministic for a seed; stdlib only.
"""
import argparse
import base64
import json
import os
import random

ACCOUNT = "111122223333"
READ = ["s3:GetObject", "s3:GetObjectVersion"]
WRITE = ["s3:PutObject", "s3:DeleteObject"]
MANAGE = ["s3:PutBucketPolicy", "s3:PutBucketAcl"]
OTHER = ["s3:ListBucket", "ec2:Describe*", "dynamodb:GetItem", "logs:PutLogEvents"]


def ok(value):
    return {"ok": value}


def bucket_file(name, policy):
    calls = {
        "GetBucketLocation": ok({"LocationConstraint": None}),
        "GetBucketAcl": ok({"Owner": {"ID": "o" * 64}, "Grants": []}),
        "GetBucketPolicy": ok({"Policy": json.dumps(policy)}) if policy else
        {"error": {"code": "NoSuchBucketPolicy", "message": ""}},
        "GetBucketPolicyStatus": ok({"PolicyStatus": {"IsPublic": False}}),
        "GetPublicAccessBlock": ok({"PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True}}),
        "GetBucketOwnershipControls": ok({"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}}),
        "GetBucketVersioning": ok({"Status": "Enabled"}),
        "GetBucketEncryption": ok({"ServerSideEncryptionConfiguration": {"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}}),
        "GetBucketLogging": ok({}),
        "GetObjectLockConfiguration": {"error": {"code": "ObjectLockConfigurationNotFoundError", "message": ""}},
        "GetBucketLifecycleConfiguration": {"error": {"code": "NoSuchLifecycleConfiguration", "message": ""}},
        "GetBucketReplication": {"error": {"code": "ReplicationConfigurationNotFoundError", "message": ""}},
        "GetBucketTagging": ok({"TagSet": [{"Key": "phi", "Value": "true"}]}),
    }
    return {"name": name, "region": "us-east-1", "collected_at": "2026-10-01T06:00:00Z", "calls": calls}


def statement(rng, buckets, unscoped):
    effect = "Deny" if rng.random() < 0.05 else "Allow"
    kind = rng.random()
    if kind < 0.2:
        return {"Effect": "Allow", "Action": rng.choice(OTHER), "Resource": "*"}
    actions = rng.choice([READ, WRITE, MANAGE, READ + WRITE])
    on_bucket = actions is MANAGE
    if unscoped:
        resources = ["*"]
    elif kind < 0.25:
        resources = ["arn:aws:s3:::phi-%02d*" % rng.randrange(100)]
    else:
        names = rng.sample(buckets, rng.randint(1, 3))
        resources = ["arn:aws:s3:::" + b if on_bucket else "arn:aws:s3:::%s/*" % b for b in names]
    s = {"Effect": effect, "Action": actions, "Resource": resources}
    if rng.random() < 0.05:
        s["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    return s


def document(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--buckets", type=int, default=1000)
    ap.add_argument("--principals", type=int, default=2000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    buckets = ["phi-%04d" % i for i in range(args.buckets)]
    os.makedirs(os.path.join(args.out, "buckets"))
    os.makedirs(os.path.join(args.out, "iam"))

    groups = []
    for g in range(20):
        groups.append({"GroupName": "team-%02d" % g, "Arn": "arn:aws:iam::%s:group/team-%02d" % (ACCOUNT, g),
                       "GroupPolicyList": [{"PolicyName": "team", "PolicyDocument": document(
                           [statement(rng, buckets, False) for _ in range(5)])}],
                       "AttachedManagedPolicies": []})
    boundary = "arn:aws:iam::%s:policy/boundary" % ACCOUNT
    policies = [{"Arn": boundary, "DefaultVersionId": "v1", "PolicyVersionList": [
        {"VersionId": "v1", "IsDefaultVersion": True,
         "Document": document([{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}])}]}]
    users, roles, arns = [], [], []
    csv_rows = ["user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
                "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
                "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
                "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
                "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
                "cert_1_last_rotated,cert_2_active,cert_2_last_rotated",
                "<root_account>,arn:aws:iam::%s:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,"
                "not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A" % ACCOUNT]
    for p in range(args.principals):
        is_role = p % 4 == 3
        name = "%s-%05d" % ("role" if is_role else "user", p)
        arn = "arn:aws:iam::%s:%s/%s" % (ACCOUNT, "role" if is_role else "user", name)
        arns.append(arn)
        unscoped = p % 50 == 0
        inline = [{"PolicyName": "access", "PolicyDocument": document(
            [statement(rng, buckets, unscoped and i == 0) for i in range(20)])}]
        entry = {"Arn": arn, "AttachedManagedPolicies": []}
        if p % 20 == 0:
            entry["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
        if is_role:
            entry.update({"RoleName": name, "RolePolicyList": inline,
                          "RoleLastUsed": {"LastUsedDate": "2026-0%d-15T00:00:00Z" % rng.randint(1, 9)}})
            roles.append(entry)
        else:
            entry.update({"UserName": name, "UserPolicyList": inline,
                          "GroupList": ["team-%02d" % rng.randrange(20)] if p % 10 == 0 else []})
            users.append(entry)
            csv_rows.append("%s,%s,2024-01-01T00:00:00+00:00,true,2026-09-01T00:00:00+00:00,N/A,N/A,%s,"
                            "true,2026-0%d-01T00:00:00+00:00,2026-09-20T00:00:00+00:00,us-east-1,s3,"
                            "false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
                            % (name, arn, "true" if p % 3 else "false", rng.randint(1, 9)))
    for i, b in enumerate(buckets):
        policy = None
        if i % 10 == 0:
            policy = document([{"Effect": "Allow", "Principal": {"AWS": rng.sample(arns, 2)},
                                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % b}])
        with open(os.path.join(args.out, "buckets", b + ".json"), "w") as f:
            json.dump(bucket_file(b, policy), f)
    details = ok({"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles,
                  "Policies": policies, "IsTruncated": False})
    files = {
        "GetAccountAuthorizationDetails": details,
        "GetCredentialReport": ok({"Content": base64.b64encode(("\n".join(csv_rows) + "\n").encode()).decode(),
                                   "ReportFormat": "text/csv"}),
        "GetAccountSummary": ok({"SummaryMap": {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}}),
    }
    for name, value in files.items():
        with open(os.path.join(args.out, "iam", name + ".json"), "w") as f:
            json.dump(value, f)
    meta = {"format": "phi-audit-snapshot/1", "collected_at": "2026-10-01T06:00:00Z", "tool_version": "gen-iam",
            "account_id": ACCOUNT, "partition": "aws", "regions": ["us-east-1"], "scope": {},
            "review_period": {"since": "2026-07-01T00:00:00Z", "until": "2026-09-30T23:59:59Z"},
            "account": {"GetPublicAccessBlock": {"error": {"code": "NoSuchPublicAccessBlockConfiguration", "message": ""}}}}
    with open(os.path.join(args.out, "snapshot.json"), "w") as f:
        json.dump(meta, f)
    print("wrote %s: %d ePHI buckets, %d users, %d roles, %d statements"
          % (args.out, len(buckets), len(users), len(roles), args.principals * 20 + 100))


if __name__ == "__main__":
    main()
