#!/usr/bin/env python3
"""Writes a synthetic phi-audit snapshot (docs/snapshot-format.md) with N buckets, for benchmarks.

    python3 scripts/gen-fleet.py --buckets 10000 --out /tmp/fleet [--seed 1] [--accounts-prefix acme]
                                 [--account-id 111122223333] [--templates samples/snapshot]

The buckets are copies of the sample snapshot's bucket files (samples/snapshot), used as templates and
renamed: the bucket's name is rewritten everywhere it occurs in its file (policy resources, ARNs, logging
target prefix, access-log keys). Four infrastructure buckets (the access-log targets, the CloudTrail bucket,
the DR replica) are kept once; the rest are drawn with fixed weights, roughly:
30% PHI buckets done right, 20% PHI buckets with gaps, 6% public ACLs, 11% public or latent-public policies,
17% ordinary internal buckets, 6% AccessDenied (whole or partial), 2% names with an MRN, 3% out of scope, and
one template with a call missing. The CloudTrail files are the sample's, with the multi-region trail's data
selectors pointed at (up to 250 of) the generated well-run PHI buckets.

--accounts-prefix replaces the "riverside" prefix of every bucket name (and trail names); --account-id
replaces the sample's account id everywhere. Deterministic for a seed; stdlib only. Prints what it wrote.

--accounts N writes an organisation snapshot (docs/organizations.md) instead: the org header and one
snapshot of --buckets buckets per account under accounts/<id>/. The first account is --account-id (the
management account), the others count up from it; every account has its own prefix (<prefix>-aNN) and
seed. --errored-accounts K (default: 1, or N // 10 for ten or more) of the member accounts, the last ones,
are recorded with an AssumeRole AccessDenied error and have no sub-tree.
"""
import argparse
import json
import os
import random
import re
import shutil
import sys
import time

SAMPLE_PREFIX = "riverside"
SAMPLE_ACCOUNT = "111122223333"

# Infrastructure buckets, written once, under their (prefix-renamed) sample names.
INFRA = ["riverside-s3-access-logs", "riverside-s3-access-logs-usw2", "riverside-cloudtrail-logs",
         "riverside-phi-backup-dr"]

# template bucket -> (weight, category, covered by the multi-region trail's data selectors?)
TEMPLATES = {
    "riverside-phi-ehr-exports": (12, "phi-good", "all"),
    "riverside-phi-imaging-dicom": (9, "phi-good", "all"),
    "riverside-phi-datalake-curated": (9, "phi-good", "all"),
    "riverside-phi-claims-837": (5, "phi-gaps", None),
    "riverside-phi-datalake-raw": (5, "phi-gaps", "writes"),
    "riverside-phi-lab-results": (5, "phi-gaps", "all"),
    "riverside-phi-portal-uploads": (3, "phi-gaps", None),
    "riverside-legacy-scans-2015": (2, "phi-gaps", None),
    "riverside-legacy-fax-archive": (2, "public-acl", None),
    "riverside-scanner-dropbox": (2, "public-acl", None),
    "riverside-partner-referrals": (2, "public-acl", None),
    "riverside-www": (2, "public-policy", None),
    "riverside-patient-education": (2, "public-policy", None),
    "riverside-fax-gateway-inbox": (2, "public-policy", None),
    "riverside-it-temp-transfer": (1, "public-policy", None),
    "riverside-marketing-assets": (2, "public-policy", None),
    "riverside-research-deid": (2, "public-policy", None),
    "riverside-analytics-shared": (8, "internal", None),
    "riverside-terraform-state": (9, "internal", None),
    "riverside-finance-restricted": (3, "access-denied", None),
    "riverside-hr-documents": (3, "access-denied", None),
    "riverside-export-mrn-00482913": (2, "name-phi", None),
    "sandbox-dev-scratch": (3, "out-of-scope", None),
}
MAX_SELECTOR_VALUES = 250
NAME_TOKEN = "@@BUCKET_NAME@@"
TIME_TOKEN = "@@COLLECTED_AT@@"


def letters(i, width):
    """0 -> 'aaaa': a bucket-name suffix with no digits (digit runs look like identifiers)."""
    out = []
    for _ in range(width):
        i, r = divmod(i, 26)
        out.append(chr(97 + r))
    return "".join(reversed(out))


def bounded(name):
    """A regex for `name` as a whole bucket name (not a prefix of a longer one)."""
    return re.compile(r"(?<![a-z0-9.-])" + re.escape(name) + r"(?![a-z0-9-])")


class Fleet:
    def __init__(self, templates_dir, prefix, account):
        self.dir = templates_dir
        self.prefix = prefix
        self.account = account

    def rename_all(self, text):
        """Sample prefix and account -> the fleet's."""
        if self.prefix != SAMPLE_PREFIX:
            text = text.replace(SAMPLE_PREFIX + "-", self.prefix + "-")
        if self.account != SAMPLE_ACCOUNT:
            text = text.replace(SAMPLE_ACCOUNT, self.account)
        return text

    def fleet_name(self, sample_name):
        if sample_name.startswith(SAMPLE_PREFIX + "-"):
            return self.prefix + sample_name[len(SAMPLE_PREFIX):]
        return sample_name

    def read(self, *parts):
        with open(os.path.join(self.dir, *parts), encoding="utf-8") as f:
            return f.read()

    def template(self, sample_name):
        """(bucket text, access-log text or None) with the name and collection time as tokens."""
        name = self.fleet_name(sample_name)
        text = self.rename_all(self.read("buckets", sample_name + ".json"))
        text = bounded(name).sub(NAME_TOKEN, text)
        text = re.sub(r'"collected_at": "[^"]*"', f'"collected_at": "{TIME_TOKEN}"', text, count=1)
        log_path = os.path.join(self.dir, "access-logs", sample_name + ".json")
        logs = None
        if os.path.exists(log_path):
            logs = bounded(name).sub(NAME_TOKEN, self.rename_all(self.read("access-logs", sample_name + ".json")))
        return text, logs


def collected_at(i):
    s = 5 + i // 25  # a collector at ~25 buckets a second
    return f"2026-10-01T{6 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z"


def parse_args(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--buckets", type=int, required=True, help="number of buckets to write (>= 1)")
    p.add_argument("--out", required=True, help="output snapshot directory (created; a previous snapshot "
                                                "there is replaced)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--accounts-prefix", default=SAMPLE_PREFIX,
                   help="bucket-name prefix replacing 'riverside' (lowercase letters, digits, hyphens)")
    p.add_argument("--account-id", default=SAMPLE_ACCOUNT, help="12-digit account id of the snapshot")
    p.add_argument("--accounts", type=int, help="write an organisation snapshot of this many accounts, "
                                                "each with --buckets buckets")
    p.add_argument("--errored-accounts", type=int,
                   help="member accounts recorded as not collected (AssumeRole AccessDenied)")
    p.add_argument("--templates", default=os.path.join(here, "..", "samples", "snapshot"),
                   help="snapshot whose bucket files are the templates (default: samples/snapshot)")
    a = p.parse_args(argv)
    if a.buckets < 1:
        p.error("--buckets must be at least 1")
    if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?", a.accounts_prefix) or "--" in a.accounts_prefix:
        p.error("--accounts-prefix must be 1-24 lowercase letters, digits or single hyphens")
    if not re.fullmatch(r"\d{12}", a.account_id):
        p.error("--account-id must be 12 digits")
    if not os.path.isfile(os.path.join(a.templates, "snapshot.json")):
        p.error(f"--templates {a.templates}: no snapshot.json there")
    if a.accounts is not None and a.accounts < 1:
        p.error("--accounts must be at least 1")
    if a.accounts is not None and int(a.account_id) + a.accounts > 10 ** 12:
        p.error("--account-id leaves no room for --accounts ids")
    if a.errored_accounts is not None and (a.accounts is None or not 0 <= a.errored_accounts < a.accounts):
        p.error("--errored-accounts needs --accounts and must be below it (the management account is collected)")
    return a


def prepare_out(out):
    if os.path.exists(out):
        entries = os.listdir(out)
        if entries and "snapshot.json" not in entries:
            sys.exit(f"gen-fleet: {out} exists, is not empty and is not a snapshot; refusing to write there")
        for sub in ("buckets", "access-logs", "cloudtrail"):
            shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    for sub in ("buckets", "access-logs", "cloudtrail"):
        os.makedirs(os.path.join(out, sub), exist_ok=True)


ORG_FORMAT = "phi-audit-org-snapshot/1"


def main_org(args, argv):
    """An organisation: one single-account fleet per collected account, then the org header."""
    started = time.perf_counter()
    out = args.out
    if os.path.exists(out):
        entries = os.listdir(out)
        if entries and "snapshot.json" not in entries:
            sys.exit(f"gen-fleet: {out} exists, is not empty and is not a snapshot; refusing to write there")
        for sub in ("accounts", "buckets", "access-logs", "cloudtrail"):
            shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    os.makedirs(os.path.join(out, "accounts"), exist_ok=True)
    errored = args.errored_accounts
    if errored is None:
        errored = 0 if args.accounts < 2 else max(1, args.accounts // 10)
    ids = [f"{int(args.account_id) + k:012d}" for k in range(args.accounts)]
    failing = set(ids[len(ids) - errored:]) if errored else set()
    sample = json.loads(Fleet(args.templates, SAMPLE_PREFIX, SAMPLE_ACCOUNT).read("snapshot.json"))
    accounts = {}
    for k, account in enumerate(ids):
        name = "Management" if k == 0 else f"Member {k:02d}"
        if account in failing:
            accounts[account] = {"name": name, "AssumeRole": {"error": {
                "code": "AccessDenied",
                "message": f"User: arn:aws:iam::{ids[0]}:user/auditor is not authorized to perform: "
                           f"sts:AssumeRole on resource: arn:aws:iam::{account}:role/OrganizationAccountAccessRole"}}}
            continue
        arn = (f"arn:aws:iam::{ids[0]}:user/auditor" if k == 0 else
               f"arn:aws:sts::{account}:assumed-role/OrganizationAccountAccessRole/phi-audit")
        accounts[account] = {"name": name, "AssumeRole": {"ok": {"AssumedRoleUser": {"Arn": arn}}}}
        sub = ["--buckets", str(args.buckets), "--out", os.path.join(out, "accounts", account),
               "--seed", str(args.seed + k), "--accounts-prefix", f"{args.accounts_prefix}-a{k:02d}",
               "--account-id", account, "--templates", args.templates]
        main(sub)
    header = {
        "format": ORG_FORMAT,
        "collected_at": sample["collected_at"],
        "tool_version": sample.get("tool_version", "0.1.0"),
        "partition": "aws",
        "organization": {"id": "o-synthetic" + f"{args.seed:04d}", "management_account_id": ids[0],
                         "name": f"Synthetic organisation '{args.accounts_prefix}' ({args.accounts} accounts)"},
        "role_name": "OrganizationAccountAccessRole",
        "external_id": False,
        "selection": {"accounts": [], "exclude_accounts": []},
        "review_period": sample.get("review_period"),
        "scope": sample.get("scope"),
        "selected_accounts": ids,
        "accounts": accounts,
    }
    with open(os.path.join(out, "snapshot.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(header, indent=2) + "\n")
    print(f"gen-fleet: organisation of {args.accounts} accounts ({errored} not collected) in {out} "
          f"in {time.perf_counter() - started:.2f}s")
    return 0


def main(argv):
    args = parse_args(argv)
    if args.accounts is not None:
        return main_org(args, argv)
    started = time.perf_counter()
    fleet = Fleet(args.templates, args.accounts_prefix, args.account_id)
    rng = random.Random(args.seed)

    missing = [t for t in list(TEMPLATES) + INFRA
               if not os.path.exists(os.path.join(args.templates, "buckets", t + ".json"))]
    if missing:
        sys.exit(f"gen-fleet: templates missing from {args.templates}/buckets: {', '.join(missing)}")
    templates = {t: fleet.template(t) for t in TEMPLATES}

    n_infra = len(INFRA) if args.buckets >= 2 * len(INFRA) else 0
    n_generated = args.buckets - n_infra
    names = list(TEMPLATES)
    picks = rng.choices(names, weights=[TEMPLATES[t][0] for t in names], k=n_generated)
    width = 4
    while 26 ** width < n_generated:
        width += 1

    prepare_out(args.out)
    files = 0
    written = 0

    def put(rel, text):
        nonlocal files, written
        data = text.encode("utf-8")
        with open(os.path.join(args.out, rel), "wb") as f:
            f.write(data)
        files += 1
        written += len(data)

    counts = {}
    covered_all, covered_writes = [], []
    index = 0
    for sample_name in INFRA[:n_infra]:
        name = fleet.fleet_name(sample_name)
        text = fleet.rename_all(fleet.read("buckets", sample_name + ".json"))
        text = re.sub(r'"collected_at": "[^"]*"', f'"collected_at": "{collected_at(index)}"', text, count=1)
        put(f"buckets/{name}.json", text)
        log_path = os.path.join(args.templates, "access-logs", sample_name + ".json")
        if os.path.exists(log_path):
            put(f"access-logs/{name}.json", fleet.rename_all(fleet.read("access-logs", sample_name + ".json")))
        counts["infrastructure"] = counts.get("infrastructure", 0) + 1
        index += 1

    for i, sample_name in enumerate(picks):
        _, category, coverage = TEMPLATES[sample_name]
        suffix = letters(i, width)
        if sample_name.startswith("sandbox-"):
            name = f"sandbox-dev-{suffix}"
        elif category == "name-phi":
            name = f"{args.accounts_prefix}-export-mrn-{rng.randrange(10 ** 7, 10 ** 8):08d}-{suffix}"
        else:
            name = f"{fleet.fleet_name(sample_name)}-{suffix}"
        text, logs = templates[sample_name]
        put(f"buckets/{name}.json", text.replace(NAME_TOKEN, name).replace(TIME_TOKEN, collected_at(index)))
        if logs is not None:
            put(f"access-logs/{name}.json", logs.replace(NAME_TOKEN, name))
        if coverage == "all":
            covered_all.append(name)
        elif coverage == "writes":
            covered_writes.append(name)
        counts[category] = counts.get(category, 0) + 1
        index += 1

    # CloudTrail: the sample's files, with the multi-region trail's data selectors on generated buckets.
    phi_values = [f"arn:aws:s3:::{n}/" for n in covered_all[:MAX_SELECTOR_VALUES]]
    raw_values = [f"arn:aws:s3:::{n}/" for n in covered_writes[:MAX_SELECTOR_VALUES - len(phi_values)]]
    ct_dir = os.path.join(args.templates, "cloudtrail")
    for f in sorted(os.listdir(ct_dir)):
        doc = json.loads(fleet.rename_all(fleet.read("cloudtrail", f)))
        for trail in doc.get("trails", {}).values():
            selectors = trail.get("GetEventSelectors", {}).get("ok", {}).get("AdvancedEventSelectors")
            for selector in selectors or []:
                for field in selector.get("FieldSelectors", []):
                    if field.get("Field") != "resources.ARN":
                        continue
                    writes_only = any(x.get("Field") == "readOnly" for x in selector["FieldSelectors"])
                    values = raw_values if writes_only else phi_values
                    if values:
                        field["StartsWith"] = values
        put(f"cloudtrail/{f}", json.dumps(doc, indent=2) + "\n")

    meta = json.loads(fleet.rename_all(fleet.read("snapshot.json")))
    meta["organization"] = f"Synthetic fleet '{args.accounts_prefix}' ({args.buckets} buckets, seed {args.seed})"
    meta["tool_version"] = meta.get("tool_version", "0.1.0")
    put("snapshot.json", json.dumps(meta, indent=2) + "\n")

    elapsed = time.perf_counter() - started
    mix = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    print(f"gen-fleet: wrote {files} files, {written} bytes ({written / 1e6:.1f} MB) to {args.out} "
          f"in {elapsed:.2f}s")
    print(f"gen-fleet: {args.buckets} buckets (seed {args.seed}): {mix}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
