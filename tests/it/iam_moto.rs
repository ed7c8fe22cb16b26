//! Identity evidence against the local moto server, through the real SDK: users, groups, roles,
//! inline and managed policies (with versions) and the credential report collected into `iam/`
//! as the AWS CLI prints them; AccessDenied on each IAM call recorded, never hidden. IAM is one
//! namespace per account on the shared server, so every name carries the test's prefix.

use crate::support::collect as common;

use aws_sdk_iam::Client as Iam;
use base64::Engine;
use chrono::Utc;
use common::{code, ok, read_json};
use phi_audit::collect::{run_collect, CollectArgs, NoProgress};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

fn doc(statements: Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The prefix's users, groups, roles and policies: what the test creates.
async fn create_identities(iam: &Iam, p: &str) {
    let read_phi = doc(json!([{"Effect": "Allow", "Action": "s3:GetObject",
        "Resource": format!("arn:aws:s3:::{p}-phi/*")}]));
    iam.create_group()
        .group_name(format!("{p}-doctors"))
        .send()
        .await
        .unwrap();
    iam.put_group_policy()
        .group_name(format!("{p}-doctors"))
        .policy_name("read-phi")
        .policy_document(&read_phi)
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name(format!("{p}-doctor"))
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name(format!("{p}-doctors"))
        .user_name(format!("{p}-doctor"))
        .send()
        .await
        .unwrap();
    iam.create_access_key()
        .user_name(format!("{p}-doctor"))
        .send()
        .await
        .unwrap();
    // A managed policy whose non-default version would grant more.
    let billing = iam
        .create_policy()
        .policy_name(format!("{p}-billing"))
        .policy_document(doc(json!([{"Effect": "Allow", "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{p}-claims/*")}])))
        .send()
        .await
        .unwrap();
    let billing_arn = billing.policy().unwrap().arn().unwrap().to_string();
    iam.create_policy_version()
        .policy_arn(&billing_arn)
        .policy_document(doc(
            json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
        ))
        .set_as_default(false)
        .send()
        .await
        .unwrap();
    iam.create_user()
        .user_name(format!("{p}-billing"))
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name(format!("{p}-billing"))
        .policy_arn(&billing_arn)
        .send()
        .await
        .unwrap();
    // A role with an inline policy and a permissions boundary.
    iam.create_role()
        .role_name(format!("{p}-export"))
        .assume_role_policy_document(doc(json!([{"Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}])))
        .permissions_boundary(&billing_arn)
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name(format!("{p}-export"))
        .policy_name("export")
        .policy_document(doc(json!([{"Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": format!("arn:aws:s3:::{p}-phi/*")}])))
        .send()
        .await
        .unwrap();
}

fn named<'a>(list: &'a Value, member: &str, name: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|item| item[member] == name)
        .unwrap_or_else(|| panic!("no {member} {name} in {list}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_records_identity_evidence_as_the_cli_prints_it() {
    let endpoint = common::endpoint();
    let p = common::unique_prefix("iam");
    let clients = common::clients(&endpoint, "us-east-1").await;
    create_identities(&clients.iam(), &p).await;
    // The ePHI bucket the doctors' group reads.
    let s3 = clients.s3("us-east-1");
    let phi = format!("{p}-phi");
    s3.create_bucket().bucket(&phi).send().await.unwrap();
    s3.put_bucket_tagging()
        .bucket(&phi)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("phi")
                        .value("true")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let scope = dir.path().join("scope.yaml");
    std::fs::write(&scope, format!("include: [\"{p}-*\"]\n")).unwrap();
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(endpoint.clone());
    args.regions = vec!["us-east-1".into()];
    args.scope = Some(scope);
    run_collect(&args, Utc::now(), &NoProgress).await.unwrap();

    let details = read_json(&out.join("iam/GetAccountAuthorizationDetails.json"));
    let details = ok(&details);
    assert_eq!(details["IsTruncated"], false);
    let doctor = named(
        &details["UserDetailList"],
        "UserName",
        &format!("{p}-doctor"),
    );
    assert_eq!(
        doctor["Arn"],
        format!("arn:aws:iam::{ACCOUNT}:user/{p}-doctor")
    );
    assert_eq!(doctor["GroupList"], json!([format!("{p}-doctors")]));
    let group = named(
        &details["GroupDetailList"],
        "GroupName",
        &format!("{p}-doctors"),
    );
    // Policy documents are JSON objects, decoded, as the CLI prints them.
    assert_eq!(
        group["GroupPolicyList"][0]["PolicyDocument"]["Statement"][0]["Resource"],
        format!("arn:aws:s3:::{p}-phi/*")
    );
    let role = named(
        &details["RoleDetailList"],
        "RoleName",
        &format!("{p}-export"),
    );
    assert_eq!(
        role["AssumeRolePolicyDocument"]["Statement"][0]["Action"],
        "sts:AssumeRole"
    );
    assert_eq!(role["RolePolicyList"][0]["PolicyName"], "export");
    assert_eq!(
        role["PermissionsBoundary"]["PermissionsBoundaryArn"],
        format!("arn:aws:iam::{ACCOUNT}:policy/{p}-billing"),
        "moto 5.2.5 keeps a boundary passed to CreateRole"
    );
    let billing = named(
        &details["Policies"],
        "Arn",
        &format!("arn:aws:iam::{ACCOUNT}:policy/{p}-billing"),
    );
    assert_eq!(billing["DefaultVersionId"], "v1");
    let versions = billing["PolicyVersionList"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{billing}");
    let v2 = versions.iter().find(|v| v["VersionId"] == "v2").unwrap();
    assert_eq!(v2["IsDefaultVersion"], false);
    assert_eq!(v2["Document"]["Statement"][0]["Action"], "s3:*");

    let report = read_json(&out.join("iam/GetCredentialReport.json"));
    let report = ok(&report);
    assert_eq!(report["ReportFormat"], "text/csv");
    let csv = base64::engine::general_purpose::STANDARD
        .decode(report["Content"].as_str().unwrap())
        .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("user,arn,user_creation_time,"), "{csv}");
    assert!(csv.contains(&format!("\n{p}-doctor,")), "{csv}");

    let summary = read_json(&out.join("iam/GetAccountSummary.json"));
    let map = &ok(&summary)["SummaryMap"];
    assert!(map["AccountMFAEnabled"].is_i64(), "{map}");
    assert!(map["Users"].as_i64().unwrap() >= 2, "{map}");

    // The reader takes what moto and the collector wrote.
    let snapshot = phi_audit::snapshot::Snapshot::load(&out).unwrap();
    let details = snapshot.iam.authorization.found().unwrap();
    let doctor_arn = format!("arn:aws:iam::{ACCOUNT}:user/{p}-doctor");
    assert!(details.users.iter().any(|u| u.arn == doctor_arn));
    let row = (snapshot.iam.credential_report.found().unwrap())
        .row(&doctor_arn)
        .unwrap();
    assert!(row.keys[0].active, "{row:?}");
    assert!(snapshot.iam.summary.found().is_some());

    // Evaluated end to end: the doctor reads the ePHI bucket through the group; the export
    // role's own policy would read and write it, but its boundary (the billing policy) does not
    // allow that bucket, so it has no access at all.
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    let (findings, review) = phi_audit::evaluate::evaluate_account(
        &snapshot,
        &catalog,
        phi_audit::evaluate::EvaluateOptions::default(),
    );
    let doctor = (review.entries.iter())
        .find(|e| e.principal == doctor_arn && e.bucket == format!("s3://{phi}"))
        .unwrap_or_else(|| panic!("{:?}", review.entries));
    assert_eq!(doctor.read, phi_audit::findings::Access::Yes);
    assert_eq!(doctor.write, phi_audit::findings::Access::No);
    assert_eq!(
        doctor.via,
        [format!("group/{p}-doctors/inline/read-phi#/Statement/0")]
    );
    let export_arn = format!("arn:aws:iam::{ACCOUNT}:role/{p}-export");
    assert!(review.entries.iter().all(|e| e.principal != export_arn));
    let mfa = (findings.iter())
        .find(|f| f.subject == doctor_arn && f.control == "iam.ephi-user-without-mfa")
        .unwrap();
    assert_eq!(
        mfa.status,
        phi_audit::findings::Status::Pass,
        "{}",
        mfa.reason
    );
    let unused = (findings.iter())
        .find(|f| f.subject == doctor_arn && f.control == "iam.ephi-access-unused")
        .unwrap();
    assert_eq!(
        unused.status,
        phi_audit::findings::Status::Fail,
        "never used: {}",
        unused.reason
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_on_each_iam_call_is_recorded() {
    let endpoint = common::endpoint();
    let upstream: std::net::SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("PHI_AUDIT_TEST_ENDPOINT is http://127.0.0.1:PORT");
    let proxy = common::proxy::start(
        upstream,
        common::proxy::ProxyConfig {
            deny_actions: vec![
                "GetAccountAuthorizationDetails".into(),
                "GenerateCredentialReport".into(),
                "GetAccountSummary".into(),
            ],
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let mut args = CollectArgs::new(&out);
    args.endpoint_url = Some(format!("http://{proxy}"));
    args.regions = vec!["us-east-1".into()];
    let summary = run_collect(&args, Utc::now(), &NoProgress).await.unwrap();
    assert!(summary.failed_calls >= 3, "{summary:?}");
    for op in [
        "GetAccountAuthorizationDetails",
        "GetCredentialReport",
        "GetAccountSummary",
    ] {
        let result = read_json(&out.join(format!("iam/{op}.json")));
        assert_eq!(code(&result), "AccessDenied", "{op}: {result}");
    }
    let report = read_json(&out.join("iam/GetCredentialReport.json"));
    assert!(
        report["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("GenerateCredentialReport: "),
        "{report}"
    );

    // Evaluated: every identity control is an error on the account, the review not assessed.
    let snapshot = phi_audit::snapshot::Snapshot::load(&out).unwrap();
    let catalog = phi_audit::audit::builtin_catalog().unwrap();
    let (findings, review) = phi_audit::evaluate::evaluate_account(
        &snapshot,
        &catalog,
        phi_audit::evaluate::EvaluateOptions::default(),
    );
    let identity: Vec<_> = findings
        .iter()
        .filter(|f| f.control.starts_with("iam."))
        .collect();
    assert_eq!(identity.len(), 6, "{identity:?}");
    for f in identity {
        assert_eq!(
            f.status,
            phi_audit::findings::Status::Error,
            "{}",
            f.control
        );
        assert_eq!(f.subject, format!("account:{ACCOUNT}"));
    }
    assert!(review.entries.is_empty());
    assert!(review.not_assessed[&format!("account:{ACCOUNT}")].contains("AccessDenied"));
}
