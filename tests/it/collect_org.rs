//! End-to-end tests of `collect --org`, `--shard` and `merge` against the local moto server
//! (Organizations, STS, S3). Run them with `scripts/with-moto cargo test --test it collect_org::`.
//!
//! Each test builds its own organisation: it assumes a role into a fresh account id (moto lets
//! a caller into an account it does not know yet), makes that account an organisation's
//! management account, and creates member accounts with CreateAccount (which creates their
//! access role). So tests share the server without seeing each other's accounts.

use crate::support::collect as common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_sdk_sts::config::Credentials;
use common::{clients, read_json};
use phi_audit::collect::clients::Clients;
use serde_json::{json, Value};

const COLLECTED_AT: &str = "2026-04-01T12:00:00Z";
const UNTIL: &str = "2026-03-31";
const ROLE: &str = "OrganizationAccountAccessRole";

/// An organisation on the moto server, as a test built it.
struct Org {
    /// The management account's session credentials (access key, secret, token).
    caller: (String, String, String),
    caller_arn: String,
    id: String,
    management: String,
    /// Member accounts whose access role exists, with their bucket names.
    members: BTreeMap<String, Vec<String>>,
    /// The member created with another role name: AssumeRole of the default role is refused.
    without_role: String,
    /// The management account's own buckets.
    management_buckets: Vec<String>,
}

fn fresh_account_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // 9xx... never collides with moto's default account or the ids CreateAccount makes up often.
    format!(
        "9{:011}",
        (nanos ^ u128::from(std::process::id()) << 20) % 100_000_000_000
    )
}

async fn assume(clients: &Clients, role_arn: &str) -> (Clients, (String, String, String), String) {
    let out = clients
        .sts()
        .assume_role()
        .role_arn(role_arn)
        .role_session_name("phi-audit-test")
        .send()
        .await
        .unwrap_or_else(|e| panic!("AssumeRole {role_arn}: {e:?}"));
    let c = out.credentials().unwrap();
    let keys = (
        c.access_key_id().to_owned(),
        c.secret_access_key().to_owned(),
        c.session_token().to_owned(),
    );
    let creds = Credentials::new(&keys.0, &keys.1, Some(keys.2.clone()), None, "test");
    let arn = out.assumed_role_user().unwrap().arn().to_owned();
    (clients.with_credentials(creds), keys, arn)
}

async fn create_buckets(clients: &Clients, names: &[String]) {
    let s3 = clients.s3("us-east-1");
    for name in names {
        s3.create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    }
}

/// An organisation with `members` member accounts holding two buckets each, one more member
/// whose access role has another name, and a management account with one bucket.
async fn build_org(tag: &str, members: usize) -> Org {
    let endpoint = common::endpoint();
    let p = common::unique_prefix(tag);
    let base = clients(&endpoint, "us-east-1").await;
    let management = fresh_account_id();
    let (mgmt, caller, caller_arn) =
        assume(&base, &format!("arn:aws:iam::{management}:role/Bootstrap")).await;
    let organizations = mgmt.organizations();
    let created = organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let id = created.organization().unwrap().id().unwrap().to_owned();

    let new_account = |name: String, role: &'static str| {
        let organizations = organizations.clone();
        async move {
            organizations
                .create_account()
                .account_name(&name)
                .email(format!("{name}@example.com"))
                .role_name(role)
                .send()
                .await
                .expect("CreateAccount")
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_owned()
        }
    };
    let mut member_buckets = BTreeMap::new();
    for i in 0..members {
        let account = new_account(format!("{p}-m{i}"), ROLE).await;
        let (member, _, _) = assume(&mgmt, &format!("arn:aws:iam::{account}:role/{ROLE}")).await;
        let names = vec![format!("{p}-m{i}-a"), format!("{p}-m{i}-b")];
        create_buckets(&member, &names).await;
        member_buckets.insert(account, names);
    }
    let without_role = new_account(format!("{p}-legacy"), "SomeOtherRole").await;
    let (legacy, _, _) = assume(
        &mgmt,
        &format!("arn:aws:iam::{without_role}:role/SomeOtherRole"),
    )
    .await;
    create_buckets(&legacy, &[format!("{p}-legacy")]).await;
    let management_buckets = vec![format!("{p}-mgmt")];
    create_buckets(&mgmt, &management_buckets).await;
    Org {
        caller,
        caller_arn,
        id,
        management,
        members: member_buckets,
        without_role,
        management_buckets,
    }
}

fn org(tag: &str, members: usize) -> Org {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(build_org(tag, members))
}

/// `phi-audit ARGS` with the management account's credentials.
fn phi_audit(org: &Org, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", &org.caller.0)
        .env("AWS_SECRET_ACCESS_KEY", &org.caller.1)
        .env("AWS_SESSION_TOKEN", &org.caller.2)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", common::endpoint())
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

/// `collect --org --out OUT` with fixed times, plus `extra`; asserts success.
fn collect(org: &Org, out: &Path, extra: &[&str]) {
    let o = run_collect(org, out, extra);
    assert!(
        o.status.success(),
        "collect {extra:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run_collect(org: &Org, out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "collect",
        "--org",
        "--out",
        out,
        "--region",
        "us-east-1",
        "--collected-at",
        COLLECTED_AT,
        "--until",
        UNTIL,
    ];
    args.extend_from_slice(extra);
    phi_audit(org, &args)
}

fn merge(org: &Org, shards: &[&Path], out: &Path) -> Output {
    let mut args = vec!["merge".to_owned()];
    args.extend(shards.iter().map(|s| s.to_str().unwrap().to_owned()));
    args.extend(["--out".to_owned(), out.to_str().unwrap().to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    phi_audit(org, &args)
}

/// Every file under `root` (relative path) with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.insert(path.strip_prefix(root).unwrap().to_owned(), bytes);
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

/// GetAccountAuthorizationDetails without the access role's `RoleLastUsed`.
fn without_access_role_use(bytes: &[u8]) -> Value {
    let mut value: Value = serde_json::from_slice(bytes).unwrap();
    if let Some(roles) = value["ok"]["RoleDetailList"].as_array_mut() {
        for role in roles.iter_mut().filter(|r| r["RoleName"] == ROLE) {
            role.as_object_mut().unwrap().remove("RoleLastUsed");
        }
    }
    value
}

fn assert_same_tree(expected: &Path, actual: &Path) {
    let (a, b) = (tree(expected), tree(actual));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "file lists of {} and {}",
        expected.display(),
        actual.display()
    );
    for (path, bytes) in &a {
        if path.ends_with("iam/GetAccountAuthorizationDetails.json") {
            // Assuming the access role is itself a use of it: its RoleLastUsed is the time
            // each run assumed it (on AWS as on moto). Everything else must be the same.
            assert_eq!(
                without_access_role_use(bytes),
                without_access_role_use(&b[path]),
                "{} differs between {} and {}",
                path.display(),
                expected.display(),
                actual.display()
            );
            continue;
        }
        assert!(
            bytes == &b[path],
            "{} differs between {} and {}",
            path.display(),
            expected.display(),
            actual.display()
        );
    }
}

fn refused(o: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
}

#[test]
fn org_collection_records_each_account_and_shards_merge_to_the_same_bytes() {
    let org = org("org", 4);
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    collect(&org, &whole, &[]);

    let header = read_json(&whole.join("snapshot.json"));
    assert_eq!(header["format"], "phi-audit-org-snapshot/1");
    assert_eq!(header["collected_at"], COLLECTED_AT);
    assert_eq!(
        header["organization"],
        json!({"id": org.id, "management_account_id": org.management})
    );
    assert_eq!(header["role_name"], ROLE);
    assert_eq!(header["external_id"], false);
    assert_eq!(
        header["selection"],
        json!({"accounts": [], "exclude_accounts": []})
    );
    assert!(header.get("shard").is_none());
    let mut all: Vec<String> = org.members.keys().cloned().collect();
    all.push(org.without_role.clone());
    all.push(org.management.clone());
    all.sort();
    assert_eq!(header["selected_accounts"], json!(all));
    let accounts = header["accounts"].as_object().unwrap();
    assert_eq!(accounts.keys().cloned().collect::<Vec<_>>(), all);

    // The account without the role: an error entry with AWS's reason, and no sub-tree.
    let legacy = &accounts[&org.without_role];
    assert_eq!(
        legacy["AssumeRole"]["error"]["code"], "AccessDenied",
        "{legacy}"
    );
    assert!(legacy["name"].as_str().unwrap().ends_with("-legacy"));
    assert!(!whole.join("accounts").join(&org.without_role).exists());

    // The management-side principal that ran the collection.
    assert_eq!(
        header["collector"]["GetCallerIdentity"]["Arn"],
        org.caller_arn.as_str()
    );
    assert_eq!(header["collector"]["options"]["organization_mode"], true);

    // The management account: the caller's own credentials, no role assumed.
    assert_eq!(
        accounts[&org.management]["AssumeRole"],
        json!({"ok": {"AssumedRoleUser": {"Arn": org.caller_arn}}})
    );
    let expect_buckets = org
        .members
        .iter()
        .map(|(id, b)| (id.clone(), b.clone()))
        .chain([(org.management.clone(), org.management_buckets.clone())]);
    for (id, buckets) in expect_buckets {
        let arn = accounts[&id]["AssumeRole"]["ok"]["AssumedRoleUser"]["Arn"]
            .as_str()
            .unwrap_or_else(|| panic!("{id}: {}", accounts[&id]));
        assert!(arn.contains(&format!("::{id}:")), "{arn}");
        let sub = whole.join("accounts").join(&id);
        let snap = read_json(&sub.join("snapshot.json"));
        assert_eq!(snap["format"], "phi-audit-snapshot/1");
        assert_eq!(snap["account_id"], id.as_str());
        // Each account records the principal that read it: the role assumed there.
        let caller = &snap["collector"]["GetCallerIdentity"];
        assert_eq!(caller["Arn"], arn, "{id}");
        assert_eq!(caller["Account"], id.as_str());
        assert!(!caller["UserId"].as_str().unwrap().is_empty(), "{caller}");
        assert_eq!(snap["collector"]["options"]["organization_mode"], true);
        let mut files: Vec<String> = std::fs::read_dir(sub.join("buckets"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let expected: Vec<String> = buckets.iter().map(|b| format!("{b}.json")).collect();
        assert_eq!(files, expected, "buckets of {id}");
        let bucket = read_json(&sub.join("buckets").join(&files[0]));
        assert_eq!(bucket["in_scope"], true);
        assert!(
            bucket["calls"]["GetBucketAcl"].get("ok").is_some(),
            "{bucket}"
        );
    }
    // No credentials in any file.
    for (path, bytes) in tree(&whole) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&org.caller.1) && !text.contains(&org.caller.2),
            "{}",
            path.display()
        );
    }

    // Two and three shards, merged, give the unsharded snapshot byte for byte.
    for count in [2usize, 3] {
        let shards: Vec<PathBuf> = (1..=count)
            .map(|k| {
                let out = dir.path().join(format!("shard-{k}-of-{count}"));
                collect(&org, &out, &["--shard", &format!("{k}/{count}")]);
                out
            })
            .collect();
        let first = read_json(&shards[0].join("snapshot.json"));
        assert_eq!(first["shard"], json!({"index": 1, "count": count}));
        assert_eq!(
            first["accounts"].as_object().unwrap().len(),
            all.len().div_ceil(count)
        );
        let merged = dir.path().join(format!("merged-{count}"));
        // Given in reverse order: the result must not depend on it.
        let refs: Vec<&Path> = shards.iter().rev().map(PathBuf::as_path).collect();
        let o = merge(&org, &refs, &merged);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_tree(&whole, &merged);
    }

    // What collect wrote is what evaluate and report read: every account's findings carry it,
    // the account without the role is one `error`, and the bundle of the organisation verifies.
    let o = phi_audit(
        &org,
        &["evaluate", whole.to_str().unwrap(), "--format", "json"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let findings: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings["snapshot"]["organization_id"], org.id.as_str());
    let findings = findings["findings"].as_array().unwrap();
    let legacy: Vec<&Value> = findings
        .iter()
        .filter(|f| f["account"] == org.without_role.as_str())
        .collect();
    assert_eq!(legacy.len(), 1, "{legacy:?}");
    assert_eq!(legacy[0]["control"], "org.account-not-collected");
    assert_eq!(legacy[0]["status"], "error");
    assert!(
        legacy[0]["reason"]
            .as_str()
            .unwrap()
            .contains("AccessDenied"),
        "{}",
        legacy[0]
    );
    for (id, buckets) in &org.members {
        for bucket in buckets {
            let subject = format!("s3://{bucket}");
            let of_bucket: Vec<&Value> = findings
                .iter()
                .filter(|f| f["subject"] == subject.as_str())
                .collect();
            assert!(!of_bucket.is_empty(), "no findings for {subject}");
            for f in of_bucket {
                assert_eq!(f["account"], id.as_str(), "{f}");
                for reference in f["evidence"].as_array().unwrap() {
                    let reference = reference.as_str().unwrap();
                    assert!(
                        reference.starts_with(&format!("accounts/{id}/"))
                            || reference.starts_with("snapshot.json#/accounts/"),
                        "{reference}"
                    );
                }
            }
        }
    }
    let bundle = dir.path().join("org.zip");
    let o = phi_audit(
        &org,
        &[
            "report",
            whole.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
            "--generated-at",
            "2026-10-02T09:00:00Z",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = phi_audit(&org, &["verify", bundle.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn merge_refuses_shards_that_do_not_belong_together() {
    let org = org("orgmerge", 2);
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name);
    collect(&org, &d("s1"), &["--shard", "1/2"]);
    collect(&org, &d("s2"), &["--shard", "2/2"]);
    collect(&org, &d("t2"), &["--shard", "2/3"]);
    collect(&org, &d("whole"), &[]);
    let first_member = org.members.keys().next().unwrap().clone();
    collect(
        &org,
        &d("x2"),
        &["--shard", "2/2", "--exclude-accounts", &first_member],
    );

    let (s1, s2) = (d("s1"), d("s2"));
    let cases: Vec<(Vec<PathBuf>, Vec<&str>)> = vec![
        (vec![s1.clone(), s1.clone()], vec!["both shard 1/2"]),
        (vec![s1.clone()], vec!["shard 2/2 missing"]),
        (vec![s1.clone(), d("t2")], vec!["shard.count", "s1", "t2"]),
        (vec![s1.clone(), d("x2")], vec!["`selection`", "s1", "x2"]),
        (vec![s1.clone(), d("whole")], vec!["unsharded", "whole"]),
        (
            vec![s1.clone(), d("whole").join("accounts").join(&first_member)],
            vec!["not an organisation snapshot", &first_member],
        ),
    ];
    for (i, (inputs, needles)) in cases.iter().enumerate() {
        let out = d(&format!("merged-{i}"));
        let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        refused(&merge(&org, &refs, &out), needles);
        assert!(!out.exists(), "no output after a refusal");
        assert!(common::temp_dirs_next_to(&out).is_empty());
    }

    // Overlap: shard 2 claims an account of shard 1 as well.
    let header1 = read_json(&s1.join("snapshot.json"));
    let (stolen, entry) = header1["accounts"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let mut header2 = read_json(&s2.join("snapshot.json"));
    header2["accounts"][&stolen] = entry;
    std::fs::write(
        s2.join("snapshot.json"),
        serde_json::to_string_pretty(&header2).unwrap(),
    )
    .unwrap();
    if s1.join("accounts").join(&stolen).exists() {
        let status = Command::new("cp")
            .arg("-r")
            .arg(s1.join("accounts").join(&stolen))
            .arg(s2.join("accounts"))
            .status()
            .unwrap();
        assert!(status.success());
    }
    let out = d("merged-overlap");
    refused(
        &merge(&org, &[&s1, &s2], &out),
        &["both hold account", &stolen, "s1", "s2"],
    );
    assert!(!out.exists());
}

#[test]
fn selection_flags_choose_accounts_and_unknown_ids_are_refused() {
    let mut org = org("orgsel", 3);
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = org.members.keys().cloned().collect();

    // A closed (suspended) account is not selected, and naming it is an error.
    let closed = ids[2].clone();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let base = clients(&common::endpoint(), "us-east-1").await;
        let creds = Credentials::new(
            &org.caller.0,
            &org.caller.1,
            Some(org.caller.2.clone()),
            None,
            "test",
        );
        base.with_credentials(creds)
            .organizations()
            .close_account()
            .account_id(&closed)
            .send()
            .await
            .expect("CloseAccount");
    });
    org.members.remove(&closed);

    let only = dir.path().join("only");
    let accounts_flag = format!("{},{}", ids[1], ids[0]);
    collect(
        &org,
        &only,
        &[
            "--accounts",
            &accounts_flag,
            "--external-id",
            "s3cr3t-ext-id",
        ],
    );
    let header = read_json(&only.join("snapshot.json"));
    assert_eq!(header["selected_accounts"], json!([ids[0], ids[1]]));
    assert_eq!(header["selection"]["accounts"], json!([ids[0], ids[1]]));
    assert_eq!(header["external_id"], true);
    for (path, bytes) in tree(&only) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("s3cr3t-ext-id"),
            "the external id is never written: {}",
            path.display()
        );
    }

    let excluded = dir.path().join("excluded");
    collect(
        &org,
        &excluded,
        &[
            "--exclude-accounts",
            &ids[0],
            "--exclude-accounts",
            &org.management,
        ],
    );
    let header = read_json(&excluded.join("snapshot.json"));
    let mut expected = vec![ids[1].clone(), org.without_role.clone()];
    expected.sort();
    assert_eq!(header["selected_accounts"], json!(expected));
    let mut given = vec![ids[0].clone(), org.management.clone()];
    given.sort();
    assert_eq!(header["selection"]["exclude_accounts"], json!(given));

    for (id, reason) in [
        ("999999999999".to_owned(), "not a member"),
        (closed.clone(), "not active"),
    ] {
        let out = dir.path().join(format!("bad-{id}"));
        let o = run_collect(&org, &out, &["--accounts", &format!("{},{id}", ids[0])]);
        refused(&o, &[&id, reason]);
        assert!(!out.exists());
        assert!(common::temp_dirs_next_to(&out).is_empty());
    }
}

#[test]
fn an_account_outside_any_organization_stops_the_run() {
    let endpoint = common::endpoint();
    let (caller, _) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let base = clients(&endpoint, "us-east-1").await;
        let account = fresh_account_id();
        let (_, keys, arn) = assume(&base, &format!("arn:aws:iam::{account}:role/Lonely")).await;
        (keys, arn)
    });
    let lonely = Org {
        caller,
        caller_arn: String::new(),
        id: String::new(),
        management: String::new(),
        members: BTreeMap::new(),
        without_role: String::new(),
        management_buckets: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let o = run_collect(&lonely, &out, &[]);
    refused(
        &o,
        &[
            "organizations:DescribeOrganization",
            "AWSOrganizationsNotInUse",
        ],
    );
    assert!(!out.exists());
}
