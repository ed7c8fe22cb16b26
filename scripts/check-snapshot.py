#!/usr/bin/env python3
"""Structural check of a phi-audit snapshot directory (docs/snapshot-format.md). Stdlib only.

    python3 scripts/check-snapshot.py samples/snapshot [--quiet]

Checks that every file parses; that every RESULT is exactly {"ok": ...} or {"error": {"code", "message"}};
that bucket files are named for their bucket, record only known operations and agree with
GetBucketLocation; that every Policy string is a JSON policy document; that the account id is consistent
(KMS keys, replication roles, trails, aws:SourceAccount, CloudTrail events); and that access-log and
CloudTrail files have the expected shape. Exits 1 if anything is wrong; prints a summary otherwise.
Accounts other than the snapshot's that appear in policies are listed, not rejected (sharing is legitimate).
"""
import json
import os
import re
import sys

FORMAT = "phi-audit-snapshot/1"
OPERATIONS = ["GetBucketLocation", "GetBucketAcl", "GetBucketPolicy", "GetBucketPolicyStatus",
              "GetPublicAccessBlock", "GetBucketOwnershipControls", "GetBucketVersioning",
              "GetBucketEncryption", "GetBucketLogging", "GetObjectLockConfiguration",
              "GetBucketLifecycleConfiguration", "GetBucketReplication", "GetBucketTagging"]
# The top-level member each successful answer must have (None: any object, e.g. {} for versioning).
OK_MEMBER = {"GetBucketLocation": "LocationConstraint", "GetBucketAcl": "Grants", "GetBucketPolicy": "Policy",
             "GetBucketPolicyStatus": "PolicyStatus", "GetPublicAccessBlock": "PublicAccessBlockConfiguration",
             "GetBucketOwnershipControls": "OwnershipControls", "GetBucketVersioning": None,
             "GetBucketEncryption": "ServerSideEncryptionConfiguration", "GetBucketLogging": None,
             "GetObjectLockConfiguration": "ObjectLockConfiguration", "GetBucketLifecycleConfiguration": "Rules",
             "GetBucketReplication": "ReplicationConfiguration", "GetBucketTagging": "TagSet"}
BPA_SWITCHES = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ARN_ACCOUNT = re.compile(r"arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}):")


class Checker:
    def __init__(self, root):
        self.root = root
        self.errors = []
        self.foreign = {}
        self.account = None
        self.partition = "aws"

    def err(self, where, message):
        self.errors.append(f"{where}: {message}")

    def load(self, rel):
        path = os.path.join(self.root, rel)
        try:
            with open(path, "rb") as f:
                return json.loads(f.read().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            self.err(rel, f"cannot be read as JSON: {e}")
            return None

    def result(self, where, value, ok_member=None):
        """Checks one RESULT; returns the ok value, or None."""
        if not isinstance(value, dict) or len(value) != 1 or not ({"ok", "error"} & set(value)):
            self.err(where, 'must be exactly {"ok": ...} or {"error": {...}}')
            return None
        if "error" in value:
            e = value["error"]
            if not (isinstance(e, dict) and isinstance(e.get("code"), str) and e["code"]
                    and isinstance(e.get("message"), str)):
                self.err(where + "/error", 'must be {"code": "<AWS error code>", "message": "..."}')
            return None
        ok = value["ok"]
        if not isinstance(ok, dict):
            self.err(where + "/ok", "must be an object (the response as the AWS CLI prints it)")
            return None
        if ok_member and ok_member not in ok:
            self.err(where + "/ok", f"has no {ok_member} member")
        return ok

    def arns(self, where, text, must_be_own=False):
        for m in ARN_ACCOUNT.finditer(text):
            partition, service, _region, account = m.groups()
            if partition != self.partition:
                self.err(where, f"ARN in partition {partition}, snapshot says {self.partition}")
            if account != self.account:
                if must_be_own:
                    self.err(where, f"account {account} in {service} ARN, snapshot account is {self.account}")
                else:
                    self.foreign.setdefault(account, set()).add(where.split("#")[0])

    def timestamp(self, where, value):
        if not isinstance(value, str) or not RFC3339.match(value):
            self.err(where, f"{value!r} is not an RFC 3339 time")

    # ------------------------------------------------------------------ files
    def snapshot(self):
        meta = self.load("snapshot.json")
        if meta is None:
            return None
        if meta.get("format") != FORMAT:
            self.err("snapshot.json#/format", f"is {meta.get('format')!r}, expected {FORMAT!r}")
        self.timestamp("snapshot.json#/collected_at", meta.get("collected_at"))
        self.account = meta.get("account_id")
        if not (isinstance(self.account, str) and re.fullmatch(r"\d{12}", self.account)):
            self.err("snapshot.json#/account_id", "must be a 12-digit string")
        self.partition = meta.get("partition", "aws")
        regions = meta.get("regions")
        if not (isinstance(regions, list) and all(isinstance(r, str) for r in regions)):
            self.err("snapshot.json#/regions", "must be a list of region names")
        period = meta.get("review_period")
        if period is not None:
            self.timestamp("snapshot.json#/review_period/since", period.get("since"))
            self.timestamp("snapshot.json#/review_period/until", period.get("until"))
        self.collector(meta.get("collector"))
        pab = self.result("snapshot.json#/account/GetPublicAccessBlock",
                          (meta.get("account") or {}).get("GetPublicAccessBlock"),
                          "PublicAccessBlockConfiguration")
        if pab:
            self.bpa("snapshot.json#/account/GetPublicAccessBlock/ok", pab)
        return meta

    def collector(self, collector):
        """The chain of custody (docs/snapshot-format.md, "collector"): absent in older snapshots."""
        where = "snapshot.json#/collector"
        if collector is None:
            print(f"{self.root}: warning: {where} is absent (collector not recorded)")
            return
        if not isinstance(collector, dict) or set(collector) != {"GetCallerIdentity", "options"}:
            self.err(where, "must hold exactly GetCallerIdentity and options")
            return
        caller = collector["GetCallerIdentity"]
        if not (isinstance(caller, dict) and set(caller) == {"UserId", "Account", "Arn"}
                and all(isinstance(v, str) for v in caller.values())):
            self.err(where + "/GetCallerIdentity", "must be what `aws sts get-caller-identity` prints: UserId, Account, Arn")
        options = collector["options"]
        expected = {"regions", "scope_file", "since", "until", "concurrency", "endpoint_url",
                    "profile", "organization_mode"}
        if not isinstance(options, dict) or set(options) != expected:
            self.err(where + "/options", f"must hold exactly {', '.join(sorted(expected))}")
            return
        for member in ("since", "until"):
            if options[member] is not None:
                self.timestamp(f"{where}/options/{member}", options[member])
        if not isinstance(options["concurrency"], int) or not isinstance(options["organization_mode"], bool):
            self.err(where + "/options", "concurrency must be an integer, organization_mode true or false")

    def bpa(self, where, ok):
        conf = ok.get("PublicAccessBlockConfiguration", {})
        for k, v in conf.items():
            if k not in BPA_SWITCHES or not isinstance(v, bool):
                self.err(where, f"PublicAccessBlockConfiguration.{k} must be one of the four boolean switches")

    def bucket(self, rel, stem, regions):
        doc = self.load(rel)
        if doc is None:
            return None
        if doc.get("name") != stem:
            self.err(rel + "#/name", f"is {doc.get('name')!r} but the file is named for {stem!r}")
        region = doc.get("region")
        if regions and region not in regions:
            self.err(rel + "#/region", f"{region!r} is not one of the snapshot's regions")
        if "collected_at" in doc:
            self.timestamp(rel + "#/collected_at", doc["collected_at"])
        if "in_scope" in doc and not isinstance(doc["in_scope"], bool):
            self.err(rel + "#/in_scope", "must be true or false")
        calls = doc.get("calls")
        if not isinstance(calls, dict):
            self.err(rel + "#/calls", "is missing or not an object")
            return doc
        for op, value in calls.items():
            where = f"{rel}#/calls/{op}"
            if op not in OK_MEMBER:
                self.err(where, "is not an operation phi-audit records")
                continue
            ok = self.result(where, value, OK_MEMBER[op])
            if ok is None:
                continue
            if op == "GetBucketLocation":
                lc = ok.get("LocationConstraint")
                actual = "us-east-1" if lc in (None, "") else ("eu-west-1" if lc == "EU" else lc)
                if actual != region:
                    self.err(where, f"says {actual}, the file's region is {region}")
            elif op == "GetBucketPolicy":
                self.policy(where + "/ok/Policy", ok.get("Policy"), stem)
            elif op == "GetPublicAccessBlock":
                self.bpa(where + "/ok", ok)
            elif op == "GetBucketAcl":
                for i, g in enumerate(ok.get("Grants", [])):
                    if g.get("Permission") not in ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"):
                        self.err(f"{where}/ok/Grants/{i}", f"unknown Permission {g.get('Permission')!r}")
                    if g.get("Grantee", {}).get("Type") not in ("CanonicalUser", "Group", "AmazonCustomerByEmail"):
                        self.err(f"{where}/ok/Grants/{i}", "Grantee.Type must be CanonicalUser, Group or "
                                                            "AmazonCustomerByEmail")
            elif op == "GetBucketEncryption":
                for rule in ok["ServerSideEncryptionConfiguration"].get("Rules", []):
                    key = rule.get("ApplyServerSideEncryptionByDefault", {}).get("KMSMasterKeyID")
                    if key and key.startswith("arn:"):
                        self.arns(where, key, must_be_own=True)
                        if f":kms:{region}:" not in key:
                            self.err(where, f"KMS key {key} is not in the bucket's region {region}")
            elif op == "GetBucketReplication":
                self.arns(where, ok["ReplicationConfiguration"].get("Role", ""), must_be_own=True)
            elif op == "GetBucketLogging":
                le = ok.get("LoggingEnabled")
                if le is not None and not isinstance(le.get("TargetBucket"), str):
                    self.err(where, "LoggingEnabled.TargetBucket must be a bucket name")
        return doc

    def policy(self, where, text, bucket):
        if not isinstance(text, str):
            self.err(where, "must be the policy document as a JSON string")
            return
        try:
            doc = json.loads(text)
        except ValueError as e:
            self.err(where, f"is not valid JSON: {e}")
            return
        if doc.get("Version") not in ("2012-10-17", "2008-10-17"):
            self.err(where, f"Version is {doc.get('Version')!r}")
        statements = doc.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list) or not statements:
            self.err(where, "has no Statement")
            return
        for i, s in enumerate(statements):
            w = f"{where}/Statement/{i}"
            if s.get("Effect") not in ("Allow", "Deny"):
                self.err(w, "Effect must be Allow or Deny")
            if not (("Principal" in s) ^ ("NotPrincipal" in s)):
                self.err(w, "a bucket policy statement needs exactly one of Principal / NotPrincipal")
            if not (("Action" in s) ^ ("NotAction" in s)):
                self.err(w, "needs exactly one of Action / NotAction")
            if not (("Resource" in s) ^ ("NotResource" in s)):
                self.err(w, "needs exactly one of Resource / NotResource")
            sid = s.get("Sid")
            if sid is not None and not re.fullmatch(r"[A-Za-z0-9]*", sid):
                self.err(w, f"Sid {sid!r} has characters IAM refuses")
            for r in (s.get("Resource") or s.get("NotResource") or []):
                if isinstance(r, str) and r.startswith("arn:aws:s3:::") and r != "arn:aws:s3:::*":
                    name = r[len("arn:aws:s3:::"):].split("/")[0]
                    if name != bucket and "*" not in name:
                        self.err(w, f"Resource {r} is another bucket's")
            for op, kv in (s.get("Condition") or {}).items():
                for k, v in kv.items():
                    if k.lower() == "aws:sourceaccount":
                        for acct in (v if isinstance(v, list) else [v]):
                            if acct != self.account:
                                self.foreign.setdefault(acct, set()).add(where.split("#")[0])
            self.arns(w, json.dumps(s.get("Principal", s.get("NotPrincipal"))))

    def cloudtrail(self, rel, region):
        doc = self.load(rel)
        if doc is None:
            return 0
        described = self.result(rel + "#/DescribeTrails", doc.get("DescribeTrails"), "trailList")
        listed = set()
        for i, t in enumerate((described or {}).get("trailList", [])):
            w = f"{rel}#/DescribeTrails/ok/trailList/{i}"
            for member in ("Name", "TrailARN", "HomeRegion", "IsMultiRegionTrail", "S3BucketName"):
                if member not in t:
                    self.err(w, f"has no {member}")
            self.arns(w, t.get("TrailARN", ""), must_be_own=not t.get("IsOrganizationTrail"))
            if t.get("KmsKeyId", "").startswith("arn:"):
                self.arns(w, t["KmsKeyId"], must_be_own=True)
            if not t.get("IsMultiRegionTrail") and t.get("HomeRegion") != region:
                self.err(w, f"a single-region trail of {t.get('HomeRegion')} cannot be listed in {region}")
            listed.add(t.get("TrailARN"))
        trails = doc.get("trails", {})
        for arn, t in trails.items():
            w = f"{rel}#/trails/{arn}"
            if described is not None and arn not in listed:
                self.err(w, "is not in DescribeTrails")
            status = self.result(w + "/GetTrailStatus", t.get("GetTrailStatus"), "IsLogging")
            selectors = self.result(w + "/GetEventSelectors", t.get("GetEventSelectors"), "TrailARN")
            if selectors is not None:
                if selectors.get("TrailARN") != arn:
                    self.err(w + "/GetEventSelectors/ok/TrailARN", "is another trail's")
                if not ("EventSelectors" in selectors or "AdvancedEventSelectors" in selectors):
                    self.err(w + "/GetEventSelectors/ok", "has neither EventSelectors nor AdvancedEventSelectors")
            if status is not None and not isinstance(status.get("IsLogging"), bool):
                self.err(w + "/GetTrailStatus/ok/IsLogging", "must be a boolean")
        events = self.result(rel + "#/LookupEvents", doc.get("LookupEvents"), "Events")
        for i, e in enumerate((events or {}).get("Events", [])):
            w = f"{rel}#/LookupEvents/ok/Events/{i}"
            self.timestamp(w + "/EventTime", e.get("EventTime"))
            try:
                ct = json.loads(e.get("CloudTrailEvent", ""))
            except ValueError as x:
                self.err(w + "/CloudTrailEvent", f"is not a JSON string: {x}")
                continue
            if ct.get("eventID") != e.get("EventId") or ct.get("eventName") != e.get("EventName"):
                self.err(w, "EventId/EventName disagree with the CloudTrailEvent")
            if ct.get("recipientAccountId") not in (None, self.account):
                self.err(w, f"recipientAccountId {ct.get('recipientAccountId')} is not the snapshot's account")
        return len(trails)

    def access_log(self, rel, stem, buckets):
        doc = self.load(rel)
        if doc is None:
            return
        b = buckets.get(stem)
        if b is None:
            self.err(rel, "names no bucket of the snapshot")
            return
        le = (((b.get("calls") or {}).get("GetBucketLogging") or {}).get("ok") or {}).get("LoggingEnabled")
        if not le:
            self.err(rel, "the bucket's GetBucketLogging does not show logging enabled")
        elif (doc.get("target_bucket"), doc.get("target_prefix")) != (le.get("TargetBucket"), le.get("TargetPrefix")):
            self.err(rel, "target_bucket/target_prefix differ from the bucket's LoggingEnabled")
        listing = self.result(rel + "#/ListObjectsV2", doc.get("ListObjectsV2"), "KeyCount")
        if listing is not None:
            contents = listing.get("Contents", [])
            if listing["KeyCount"] != len(contents):
                self.err(rel + "#/ListObjectsV2/ok/KeyCount", f"is {listing['KeyCount']}, Contents has {len(contents)}")
            for i, o in enumerate(contents):
                self.timestamp(f"{rel}#/ListObjectsV2/ok/Contents/{i}/LastModified", o.get("LastModified"))
                if not o.get("Key", "").startswith(doc.get("target_prefix", "")):
                    self.err(f"{rel}#/ListObjectsV2/ok/Contents/{i}/Key", "is outside target_prefix")

    def run(self):
        meta = self.snapshot()
        if meta is None:
            return 1
        regions = meta.get("regions") or []
        buckets = {}
        bdir = os.path.join(self.root, "buckets")
        names = sorted(f for f in os.listdir(bdir) if f.endswith(".json")) if os.path.isdir(bdir) else []
        stats = {"ok": 0, "error": 0, "absent": 0}
        codes = {}
        for f in names:
            stem = f[:-5]
            doc = self.bucket(f"buckets/{f}", stem, regions)
            if doc is None:
                continue
            buckets[stem] = doc
            calls = doc.get("calls") or {}
            for op in OPERATIONS:
                v = calls.get(op)
                if v is None:
                    stats["absent"] += 1
                elif "ok" in v:
                    stats["ok"] += 1
                else:
                    stats["error"] += 1
                    code = (v.get("error") or {}).get("code")
                    codes[code] = codes.get(code, 0) + 1
        trails = set()
        ctdir = os.path.join(self.root, "cloudtrail")
        for f in sorted(os.listdir(ctdir)) if os.path.isdir(ctdir) else []:
            if f.endswith(".json"):
                if f[:-5] not in regions:
                    self.err(f"cloudtrail/{f}", "is for a region the snapshot does not list")
                self.cloudtrail(f"cloudtrail/{f}", f[:-5])
                doc = self.load(f"cloudtrail/{f}") or {}
                trails.update(doc.get("trails", {}))
        aldir = os.path.join(self.root, "access-logs")
        al = sorted(f for f in os.listdir(aldir) if f.endswith(".json")) if os.path.isdir(aldir) else []
        for f in al:
            self.access_log(f"access-logs/{f}", f[:-5], buckets)
        for e in self.errors:
            print("ERROR", e)
        out_of_scope = sum(1 for b in buckets.values() if b.get("in_scope") is False)
        print(f"{self.root}: {len(buckets)} buckets ({out_of_scope} out of scope), "
              f"{stats['ok']} ok / {stats['error']} error / {stats['absent']} absent calls, "
              f"{len(trails)} trails, {len(al)} access-log files")
        if codes:
            print("  error codes: " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
        for acct, where in sorted(self.foreign.items()):
            shown = ", ".join(sorted(where)[:3]) + (" ..." if len(where) > 3 else "")
            print(f"  other account {acct} appears in {len(where)} file(s): {shown}")
        print(f"{len(self.errors)} problem(s)")
        return 1 if self.errors else 0


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("-")]
    if len(args) != 1 or "-h" in argv or "--help" in argv:
        print(__doc__.strip())
        return 2
    if not os.path.isfile(os.path.join(args[0], "snapshot.json")):
        print(f"{args[0]}: not a snapshot directory (no snapshot.json)")
        return 2
    return Checker(args[0]).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
