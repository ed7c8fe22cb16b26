#!/usr/bin/env python3
"""Local S3 + s3control + STS + CloudTrail + Organizations test server for phi-audit.

Wraps moto's WSGI application (moto[server], version pinned in requirements.txt) and corrects the
responses that aws-sdk-rust cannot parse. Each correction is listed in README.md beside this file.

Usage: server.py [--host 127.0.0.1] [--port 0] [--port-file FILE] [--verbose]
With --port 0 the OS picks a free port; the chosen port is written to --port-file (and stdout)
once the server accepts connections, so a caller can wait for that file.
"""

import argparse
import os
import re
import sys

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

# moto 5.2.5 serialises GetBucketVersioning with the root element <GetBucketVersioningResponse>;
# S3 (and therefore aws-sdk-rust's parser) uses <VersioningConfiguration>.
_VERSIONING_ROOT = re.compile(rb"<(/?)GetBucketVersioningResponse\b")


# moto 5.2.5 answers GetObjectLockConfiguration with both <Days> and <Years>, the unset one as 0;
# S3 returns only the one that was configured (they are mutually exclusive).
_ZERO_RETENTION = re.compile(rb"<(Days|Years)>0</\1>")


def _fix_versioning(body):
    return _VERSIONING_ROOT.sub(rb"<\1VersioningConfiguration", body)


def _fix_object_lock(body):
    return _ZERO_RETENTION.sub(b"", body)


_FIXES = {"versioning": _fix_versioning, "object-lock": _fix_object_lock}


def _wants_fix(environ):
    """The correction for this request's response, if any (a cheap check: no body buffering for
    everything else)."""
    if environ.get("REQUEST_METHOD") != "GET":
        return None
    query = environ.get("QUERY_STRING", "")
    for part in query.split("&"):
        fix = _FIXES.get(part.split("=", 1)[0])
        if fix:
            return fix
    return None


_BUCKET_BLOCK = re.compile(rb"<Bucket>.*?</Bucket>", re.S)
_BUCKET_NAME = re.compile(rb"<Name>(.*?)</Name>")
_BUCKETS_ELEMENT = re.compile(rb"<Buckets>.*</Buckets>|<Buckets/>", re.S)


def _is_paged_list_buckets(environ):
    """ListBuckets with MaxBuckets / ContinuationToken (moto 5.2.5 truncates to MaxBuckets and
    never returns a ContinuationToken, so a paging client would miss buckets)."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO", "") not in ("", "/"):
        return False
    if "/s3/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
        return False
    query = environ.get("QUERY_STRING", "")
    keys = {part.split("=", 1)[0] for part in query.split("&") if part}
    return bool(keys & {"max-buckets", "continuation-token"})


def _page_list_buckets(app, environ, start_response):
    from urllib.parse import parse_qsl, urlencode

    params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    opts = dict(params)
    rest = [(k, v) for (k, v) in params if k not in ("max-buckets", "continuation-token")]
    inner = dict(environ)
    inner["QUERY_STRING"] = urlencode(rest)
    captured = {}

    def capture(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    chunks = app(inner, capture)
    body = b"".join(chunks)
    if not captured["status"].startswith("200"):
        start_response(captured["status"], captured["headers"])
        return [body]
    blocks = _BUCKET_BLOCK.findall(body)
    named = sorted(((_BUCKET_NAME.search(b).group(1), b) for b in blocks), key=lambda t: t[0])
    token = opts.get("continuation-token", "").encode()
    if token:
        named = [t for t in named if t[0] > token]
    limit = int(opts.get("max-buckets") or 10000)
    page, more = named[:limit], len(named) > limit
    buckets = b"<Buckets>" + b"".join(b for (_, b) in page) + b"</Buckets>"
    body = _BUCKETS_ELEMENT.sub(lambda _m: buckets, body, count=1)
    if more:
        tail = b"<ContinuationToken>" + page[-1][0] + b"</ContinuationToken>"
        body = body.replace(b"</ListAllMyBucketsResult>", tail + b"</ListAllMyBucketsResult>")
    headers = [(k, v) for (k, v) in captured["headers"] if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    start_response(captured["status"], headers)
    return [body]


def _refuse_assume_role_without_role():
    """moto 5.2.5's AssumeRole succeeds for any role ARN, even one that does not exist. AWS answers
    AccessDenied. Refuse, like AWS, when the target account belongs to a moto organisation (created
    by CreateAccount, which also creates the account's access role) and has no role of that name;
    an account moto knows nothing about keeps moto's permissive default, so tests can still assume
    into a fresh account to make it an organisation's management account."""
    from moto.iam.models import iam_backends
    from moto.organizations.models import organizations_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    original = STSBackend.assume_role

    def assume_role(self, region_name, role_session_name, role_arn, *args, **kwargs):
        parts = role_arn.split(":")
        account_id = parts[4] if len(parts) > 5 else ""
        if account_id in organizations_backends.master_accounts:
            known = [role.arn for role in iam_backends[account_id]["global"].get_roles()]
            if role_arn not in known:
                raise STSClientError(
                    "AccessDenied",
                    f"User: {self.account_id} is not authorized to perform: sts:AssumeRole "
                    f"on resource: {role_arn}",
                )
        return original(self, region_name, role_session_name, role_arn, *args, **kwargs)

    STSBackend.assume_role = assume_role


_refuse_assume_role_without_role()


def _stable_assumed_role_id():
    """moto 5.2.5 answers an assumed role's AssumedRoleId (GetCallerIdentity's UserId) with a
    random `AROA...` on every call when the role does not exist in moto's IAM (tests step into a
    fresh account through a role moto never created). AWS answers `<the role's unique id>:<session
    name>`, the same on every call: collect records it as the collecting principal, and shards of
    one organisation collection must record the same bytes. For such a role the id is derived
    from the role ARN instead."""
    import base64
    import hashlib

    from moto.sts.models import AssumedRole

    original = AssumedRole.user_id

    def user_id(self):
        answer = original.fget(self)
        role_id, _, session = answer.partition(":")
        if role_id.startswith("AROA") and self._known_role():
            return answer
        digest = base64.b32encode(hashlib.sha256(self.role_arn.encode()).digest()).decode()
        return "AROA" + digest[:17] + ":" + session

    def known_role(self):
        from moto.iam.models import iam_backends

        try:
            iam_backends[self.account_id][self.partition].get_role_by_arn(arn=self.role_arn)
            return True
        except Exception:
            return False

    AssumedRole._known_role = known_role
    AssumedRole.user_id = property(user_id)


_stable_assumed_role_id()


def _grant_every_permission():
    """moto 5.2.5 keeps a canned ACL's grant of several permissions as one grant (log-delivery-write:
    LogDelivery READ_ACP and WRITE; public-read-write: AllUsers READ and WRITE) and a header grant
    naming several grantees as one grant, but serialises only the first grantee and the first
    permission of each: GetBucketAcl (and GetObjectAcl) drop the rest, e.g. the LogDelivery WRITE
    that server access log delivery needs. S3 answers one Grant per grantee and permission."""
    from moto.s3.models import FakeAcl, FakeGrant
    from moto.s3.responses import S3Response

    original = S3Response._acl_to_dict

    def acl_to_dict(acl):
        grants = [
            FakeGrant([grantee], [permission])
            for grant in acl.grants
            for grantee in grant.grantees
            for permission in grant.permissions
        ]
        return original(FakeAcl(grants=grants))

    S3Response._acl_to_dict = staticmethod(acl_to_dict)


_grant_every_permission()


def _aws_managed_keys_exist():
    """moto 5.2.5 lists the AWS managed aliases (alias/aws/s3, ...) with TargetKeyIds of keys that
    do not exist (DescribeKey answers NotFoundException: the key would look deleted), and creates
    such a key, as a customer managed one, only when the alias itself is used. AWS creates an AWS
    managed key on first use and lists it with KeyManager AWS: the launcher creates each one when
    the aliases are listed, with KeyManager AWS, so ListAliases names keys that exist."""
    from moto.kms.responses import KmsResponse
    from moto.kms.utils import RESERVED_ALIASES

    original = KmsResponse.list_aliases

    def list_aliases(self):
        for alias in RESERVED_ALIASES:
            key_id = self.kms_backend.get_key_id_from_alias(alias)
            self.kms_backend.keys[key_id].key_manager = "AWS"
        return original(self)

    KmsResponse.list_aliases = list_aliases


_aws_managed_keys_exist()


class QuietRequestHandler(MotoRequestHandler):
    """Drops werkzeug's one-line-per-request log: the benchmark sends tens of thousands."""

    def log_request(self, *args, **kwargs):
        pass


class FixupMiddleware:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target.endswith(".LookupEvents"):
            # moto 5.2.5 does not implement CloudTrail LookupEvents (HTTP 500 after a traceback).
            # Answer an empty, final page so a collect run completes without retrying a 500;
            # collect's real paging, filtering and pacing are tested with aws-smithy-mocks.
            body = b'{"Events": []}'
            start_response(
                "200 OK",
                [
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("Content-Length", str(len(body))),
                ],
            )
            return [body]
        if _is_paged_list_buckets(environ):
            return _page_list_buckets(self.app, environ, start_response)
        fix = _wants_fix(environ)
        if fix is None:
            return self.app(environ, start_response)

        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            captured["exc_info"] = exc_info
            return lambda data: None  # the legacy write() callable is not used by moto

        chunks = self.app(environ, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        if captured["status"].startswith("200"):
            body = fix(body)
        headers = [(k, v) for (k, v) in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers, captured.get("exc_info"))
        return [body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args()

    app = FixupMiddleware(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler if args.verbose else QuietRequestHandler,
    )
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"phi-audit moto server listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
