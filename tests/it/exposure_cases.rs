//! The exposure table: ACL / policy / Block Public Access / Object Ownership combinations, each
//! with the expected verdict of every one of the nine exposure controls.

use crate::support::fixtures::*;
use phi_audit::evaluate::check_bucket;
use phi_audit::findings::Status;
use serde_json::Value;

const CONTROLS: &[(&str, &str)] = &[
    ("wra", "s3.world-readable-anonymous"),
    ("wla", "s3.world-listable-anonymous"),
    ("wwa", "s3.world-writable-anonymous"),
    ("pra", "s3.permissions-world-readable-anonymous"),
    ("pwa", "s3.permissions-world-writable-anonymous"),
    ("wl", "s3.world-listable"),
    ("ww", "s3.world-writable"),
    ("pr", "s3.permissions-world-readable"),
    ("pw", "s3.permissions-world-writable"),
];

struct Case {
    name: &'static str,
    acl: Value,
    policy: Value,
    bucket_bpa: Value,
    account_bpa: Value,
    ownership: Value,
    /// Short codes (see CONTROLS) expected to fail / be error / pass with a latent note;
    /// every other exposure control must pass without one.
    fail: &'static str,
    error: &'static str,
    latent: &'static str,
}

fn no_bpa() -> Value {
    not_configured("NoSuchPublicAccessBlockConfiguration")
}

fn base(name: &'static str) -> Case {
    Case {
        name,
        acl: acl(&[]),
        policy: not_configured("NoSuchBucketPolicy"),
        bucket_bpa: no_bpa(),
        account_bpa: no_bpa(),
        ownership: not_configured("OwnershipControlsNotFoundError"),
        fail: "",
        error: "",
        latent: "",
    }
}

/// A policy document for bucket `b` with the given statements (JSON text, `%B%` = bucket ARN).
fn doc(statements: &str) -> Value {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.replace("%B%", "arn:aws:s3:::b")
    ))
}

fn allow_all(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Sid":"Open","Effect":"Allow","Principal":"*","Action":"{action}","Resource":{resource}}}"#
    )
}

fn allow_if(action: &str, condition: &str) -> Value {
    doc(&format!(
        r#"{{"Sid":"Cond","Effect":"Allow","Principal":"*","Action":"{action}","Resource":"%B%/*","Condition":{condition}}}"#
    ))
}

fn codes(list: &str) -> Vec<&'static str> {
    if list == "ALL" {
        return CONTROLS.iter().map(|(_, id)| *id).collect();
    }
    list.split_whitespace()
        .map(|code| {
            CONTROLS
                .iter()
                .find(|(c, _)| *c == code)
                .unwrap_or_else(|| panic!("unknown code {code}"))
                .1
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let get_objects = r#""%B%/*""#;
    let both = r#"["%B%","%B%/*"]"#;
    vec![
        // --- ACL grants ---
        Case {
            ..base("private bucket: owner only")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            fail: "wla wl",
            ..base("AllUsers READ lists")
        },
        Case {
            acl: acl(&[("AllUsers", "WRITE")]),
            fail: "wwa ww",
            ..base("AllUsers WRITE writes")
        },
        Case {
            acl: acl(&[("AllUsers", "READ_ACP")]),
            fail: "pra pr",
            ..base("AllUsers READ_ACP reads the ACL")
        },
        Case {
            acl: acl(&[("AllUsers", "WRITE_ACP")]),
            fail: "pwa pw",
            ..base("AllUsers WRITE_ACP changes the ACL")
        },
        Case {
            acl: acl(&[("AllUsers", "FULL_CONTROL")]),
            fail: "wla wwa pra pwa wl ww pr pw",
            ..base("AllUsers FULL_CONTROL is all four, but never object reads")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "READ")]),
            fail: "wl",
            ..base("AuthenticatedUsers READ: any account lists")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "WRITE")]),
            fail: "ww",
            ..base("AuthenticatedUsers WRITE")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "READ_ACP")]),
            fail: "pr",
            ..base("AuthenticatedUsers READ_ACP")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "WRITE_ACP")]),
            fail: "pw",
            ..base("AuthenticatedUsers WRITE_ACP")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "FULL_CONTROL")]),
            fail: "wl ww pr pw",
            ..base("AuthenticatedUsers FULL_CONTROL")
        },
        Case {
            acl: acl(&[("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")]),
            ..base("LogDelivery is not public")
        },
        Case {
            acl: acl(&[("other", "READ"), ("other", "WRITE")]),
            ..base("another account's canonical user is not public")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            bucket_bpa: bpa(&["IgnorePublicAcls"]),
            latent: "wla wl",
            ..base("bucket IgnorePublicAcls neutralises a public ACL (latent)")
        },
        Case {
            acl: acl(&[("AllUsers", "READ"), ("AuthenticatedUsers", "WRITE")]),
            account_bpa: bpa(&["IgnorePublicAcls"]),
            latent: "wla wl ww",
            ..base("account IgnorePublicAcls neutralises public ACLs (latent)")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            ownership: ownership("BucketOwnerEnforced"),
            latent: "wla wl",
            ..base("BucketOwnerEnforced disables ACLs (latent)")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            bucket_bpa: bpa(&["BlockPublicAcls"]),
            fail: "wla wl",
            ..base("BlockPublicAcls only blocks future grants")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            bucket_bpa: bpa(&["RestrictPublicBuckets", "BlockPublicPolicy"]),
            fail: "wla wl",
            ..base("RestrictPublicBuckets does nothing to ACLs")
        },
        Case {
            acl: acl(&[("AllUsers", "WRITE")]),
            ownership: ownership("BucketOwnerPreferred"),
            fail: "wwa ww",
            ..base("BucketOwnerPreferred honours ACLs")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            ownership: ownership("ObjectWriter"),
            fail: "wla wl",
            ..base("ObjectWriter honours ACLs")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            ownership: denied(),
            error: "wla wl",
            ..base("public ACL but ownership unreadable: unknown")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            bucket_bpa: denied(),
            error: "wla wl",
            ..base("public ACL but bucket BPA unreadable: unknown")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            bucket_bpa: denied(),
            account_bpa: bpa(&["IgnorePublicAcls"]),
            latent: "wla wl",
            ..base("bucket BPA unreadable but the account level ignores public ACLs")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            account_bpa: denied(),
            bucket_bpa: bpa(&["IgnorePublicAcls"]),
            latent: "wla wl",
            ..base("account BPA unreadable but the bucket level ignores public ACLs")
        },
        Case {
            account_bpa: denied(),
            ..base("account BPA unreadable, nothing public to neutralise")
        },
        Case {
            acl: denied(),
            error: "wla wwa pra pwa wl ww pr pw",
            ..base("ACL unreadable: every ACL-based verdict is unknown, object reads are not")
        },
        Case {
            acl: denied(),
            ownership: ownership("BucketOwnerEnforced"),
            ..base("ACL unreadable but ACLs are disabled")
        },
        Case {
            acl: denied(),
            account_bpa: bpa(&["IgnorePublicAcls"]),
            ..base("ACL unreadable but public ACLs are ignored")
        },
        // --- bucket policies ---
        Case {
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            fail: "wra",
            ..base("Principal * GetObject on objects")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"%B%/*"}"#,
            ),
            fail: "wra",
            ..base("Principal {AWS:*} is everyone")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","*"]},"Action":["s3:GetObject"],"Resource":["%B%/*"]}"#,
            ),
            fail: "wra",
            ..base("a principal list holding * is everyone")
        },
        Case {
            policy: doc(&allow_all("s3:*", both)),
            fail: "ALL",
            ..base("s3:* on bucket and objects")
        },
        Case {
            policy: doc(&allow_all("*", r#""*""#)),
            fail: "ALL",
            ..base("Action * on Resource *")
        },
        Case {
            policy: doc(&allow_all("s3:Get*", get_objects)),
            fail: "wra",
            ..base("s3:Get* on objects only reads objects")
        },
        Case {
            policy: doc(&allow_all("s3:Get*", both)),
            fail: "wra pra pr",
            ..base("s3:Get* on bucket too reads the policy and ACL")
        },
        Case {
            policy: doc(&allow_all("s3:ListBucket", r#""%B%""#)),
            fail: "wla wl",
            ..base("ListBucket on the bucket ARN")
        },
        Case {
            policy: doc(&allow_all("s3:ListBucket", get_objects)),
            ..base("ListBucket on object ARNs grants nothing")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", r#""%B%""#)),
            ..base("GetObject on the bucket ARN grants nothing")
        },
        Case {
            policy: doc(&allow_all("s3:PutObject", r#""%B%/uploads/*""#)),
            fail: "wwa ww",
            ..base("PutObject on a prefix still writes")
        },
        Case {
            policy: doc(&allow_all("s3:DeleteObject", get_objects)),
            fail: "wwa ww",
            ..base("DeleteObject is write")
        },
        Case {
            policy: doc(&allow_all("s3:PutBucketPolicy", r#""%B%""#)),
            fail: "pwa pw",
            ..base("PutBucketPolicy changes permissions")
        },
        Case {
            policy: doc(&allow_all("S3:GETOBJECT", get_objects)),
            fail: "wra",
            ..base("action names are case-insensitive")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", r#""arn:aws:s3:::b*""#)),
            fail: "wra",
            ..base("a resource wildcard reaching the bucket")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", r#""arn:aws:s3:::other/*""#)),
            ..base("another bucket's resource")
        },
        Case {
            policy: doc(&allow_all(
                "s3:GetObject",
                r#""arn:aws:s3:::b/${aws:username}/*""#,
            )),
            fail: "wra",
            ..base("a policy variable may match any key")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":["%B%","%B%/*"]}"#,
            ),
            fail: "ALL",
            ..base("NotAction GetObject still allows GetObjectVersion and everything else")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":"*","NotAction":["s3:Get*","s3:List*"],"Resource":["%B%","%B%/*"]}"#,
            ),
            fail: "wwa pwa ww pw",
            ..base("NotAction Get*/List* leaves writes")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotResource":"%B%/private/*"}"#,
            ),
            fail: "wra",
            ..base("NotResource excluding a prefix leaves other objects")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotResource":"%B%/*"}"#,
            ),
            ..base("NotResource excluding every object")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#,
            ),
            ..base("fixed aws:SourceVpce pins the caller")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            ),
            ..base("a /24 source range pins the caller")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"IpAddress":{"aws:SourceIp":["0.0.0.0/0"]}}"#,
            ),
            fail: "wra",
            ..base("0.0.0.0/0 is everyone")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/7"}}"#,
            ),
            fail: "wra",
            ..base("broader than /8 is public")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringLike":{"aws:Referer":"https://www.example.com/*"}}"#,
            ),
            fail: "wra",
            ..base("aws:Referer does not restrict the caller")
        },
        Case {
            policy: allow_if("s3:GetObject", r#"{"Bool":{"aws:SecureTransport":"true"}}"#),
            fail: "wra",
            ..base("SecureTransport does not restrict the caller")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}"#,
            ),
            ..base("PrincipalOrgID pins to the organisation")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#,
            ),
            ..base("SourceAccount pins the caller")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringLike":{"aws:SourceVpce":"vpce-*"}}"#,
            ),
            fail: "wra",
            ..base("a wildcard value is not fixed")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}"#,
            ),
            fail: "wra",
            ..base("IfExists passes for callers without the key")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}"#,
            ),
            fail: "wra",
            ..base("a negated Allow condition is not a pin")
        },
        Case {
            policy: allow_if(
                "s3:GetObject",
                r#"{"StringEquals":{"aws:Referer":"x"},"IpAddress":{"aws:SourceIp":"198.51.100.7"}}"#,
            ),
            ..base("one pinning condition among others is enough (conditions are AND'ed)")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Sid":"Block","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"%B%/*"}"#
            )),
            ..base("an explicit Deny removes the public Allow")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"%B%/private/*"}"#
            )),
            fail: "wra",
            ..base("a Deny on part of the objects leaves the rest public")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"%B%/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#
            )),
            fail: "wra",
            ..base("a Deny narrowed by a condition does not remove the access")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["%B%","%B%/*"],"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1a2b"}}}"#
            )),
            ..base("a Deny for everyone outside a fixed VPC endpoint shuts the public out")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:*","Resource":"%B%/*"}"#
            )),
            ..base("Deny with NotPrincipal own account shuts the public out")
        },
        Case {
            policy: doc(&format!(
                "{},{}",
                allow_all("s3:GetObject", get_objects),
                r#"{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"s3:*","Resource":"%B%/*"}"#
            )),
            fail: "wra",
            ..base("a Deny for one account does not remove public access")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            policy: doc(
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:List*","Resource":"%B%"}"#,
            ),
            ..base("a policy Deny overrides a public ACL grant")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            policy: doc(
                r#"{"Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"%B%"}"#,
            ),
            fail: "wla wl",
            ..base("a Deny on ListBucket alone leaves ListBucketVersions from the ACL")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:GetObject","Resource":"%B%/*"}"#,
            ),
            fail: "wra",
            ..base("Allow with NotPrincipal is treated as public")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"s3:*","Resource":["%B%","%B%/*"]}"#,
            ),
            ..base("a named foreign account is not public")
        },
        Case {
            policy: doc(
                r#"{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"%B%/*"}"#,
            ),
            ..base("a service principal is not public")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            bucket_bpa: bpa(&["RestrictPublicBuckets"]),
            latent: "wra",
            ..base("bucket RestrictPublicBuckets neutralises a public policy (latent)")
        },
        Case {
            policy: doc(&allow_all("s3:*", both)),
            account_bpa: bpa(&["RestrictPublicBuckets"]),
            latent: "ALL",
            ..base("account RestrictPublicBuckets neutralises a public policy (latent)")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            bucket_bpa: bpa(&["BlockPublicPolicy"]),
            fail: "wra",
            ..base("BlockPublicPolicy only refuses future policies")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            bucket_bpa: bpa(&["IgnorePublicAcls", "BlockPublicAcls"]),
            fail: "wra",
            ..base("ACL switches do nothing to policies")
        },
        Case {
            policy: denied(),
            error: "ALL",
            ..base("policy unreadable: every verdict is unknown")
        },
        Case {
            policy: denied(),
            bucket_bpa: bpa(&["RestrictPublicBuckets"]),
            ..base("policy unreadable but RestrictPublicBuckets cuts public policies")
        },
        Case {
            policy: denied(),
            acl: acl(&[("AllUsers", "READ")]),
            fail: "wla wl",
            error: "wra wwa pra pwa ww pr pw",
            ..base("policy unreadable, but the ACL alone already exposes listing")
        },
        Case {
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            bucket_bpa: denied(),
            error: "wra",
            ..base("public policy but BPA unreadable: unknown")
        },
        Case {
            acl: acl(&[("AuthenticatedUsers", "READ")]),
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            fail: "wra wl",
            ..base("ACL and policy exposures add up")
        },
        Case {
            acl: acl(&[("AllUsers", "READ"), ("AuthenticatedUsers", "WRITE_ACP")]),
            policy: doc(&allow_all("s3:PutObject", get_objects)),
            bucket_bpa: bpa(&["IgnorePublicAcls"]),
            fail: "wwa ww",
            latent: "wla wl pw",
            ..base("ACLs ignored, policy still in force")
        },
        Case {
            acl: acl(&[("AllUsers", "READ")]),
            policy: doc(&allow_all("s3:GetObject", get_objects)),
            bucket_bpa: bpa(ALL_BPA),
            latent: "wra wla wl",
            ..base("all four switches on: everything latent")
        },
    ]
}

#[test]
fn exposure_table() {
    let cases = cases();
    assert!(
        cases.len() >= 50,
        "the table must keep at least 50 cases, has {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let bucket = parse(&bucket_with(
            "b",
            &[
                ("GetBucketAcl", case.acl.clone()),
                ("GetBucketPolicy", case.policy.clone()),
                ("GetPublicAccessBlock", case.bucket_bpa.clone()),
                ("GetBucketOwnershipControls", case.ownership.clone()),
            ],
        ));
        let meta = meta(case.account_bpa.clone());
        let (fail, error, latent) = (codes(case.fail), codes(case.error), codes(case.latent));
        for (_, control) in CONTROLS {
            let verdict = check_bucket(control, &bucket, &meta).expect("control exists");
            let expected = if fail.contains(control) {
                Status::Fail
            } else if error.contains(control) {
                Status::Error
            } else {
                Status::Pass
            };
            let latent_expected = latent.contains(control);
            let latent_said = verdict.reason.contains("latent");
            if verdict.status != expected
                || (expected == Status::Pass && latent_expected != latent_said)
            {
                failures.push(format!(
                    "{}: {control}: expected {expected:?}{}, got {:?}: {}",
                    case.name,
                    if latent_expected { " (latent)" } else { "" },
                    verdict.status,
                    verdict.reason
                ));
            }
            assert!(!verdict.reason.is_empty() && !verdict.evidence.is_empty());
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn reasons_name_the_grant_and_the_neutraliser() {
    let bucket = parse(&bucket_with(
        "b",
        &[
            ("GetBucketAcl", acl(&[("AuthenticatedUsers", "READ")])),
            ("GetPublicAccessBlock", bpa(&["IgnorePublicAcls"])),
            (
                "GetBucketOwnershipControls",
                not_configured("OwnershipControlsNotFoundError"),
            ),
        ],
    ));
    let verdict = check_bucket("s3.world-listable", &bucket, &meta(no_bpa())).unwrap();
    assert_eq!(verdict.status, Status::Pass);
    assert!(
        verdict.reason.contains("READ to AuthenticatedUsers"),
        "{}",
        verdict.reason
    );
    assert!(
        verdict
            .reason
            .contains("IgnorePublicAcls is on (bucket level)"),
        "{}",
        verdict.reason
    );
    assert!(verdict
        .evidence
        .contains(&"buckets/b.json#/calls/GetBucketAcl".to_string()));
    assert!(verdict
        .evidence
        .contains(&"snapshot.json#/account/GetPublicAccessBlock".to_string()));

    let bucket = parse(&bucket_with("b", &[("GetBucketPolicy", denied())]));
    let verdict = check_bucket("s3.world-readable-anonymous", &bucket, &meta(no_bpa())).unwrap();
    // The bucket's own BPA has every switch on, so RestrictPublicBuckets makes this knowable.
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.reason);
    assert!(
        verdict
            .reason
            .contains("GetBucketPolicy failed with AccessDenied"),
        "{}",
        verdict.reason
    );
}

#[test]
fn aws_calling_a_policy_public_that_we_read_as_private_is_not_a_pass() {
    use serde_json::json;
    // A condition key AWS may not count as restricting: if AWS says public, we do not pass.
    let pinned = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
    let status = |public: bool| ok(json!({"PolicyStatus": {"IsPublic": public}}));
    let no_bpa = not_configured("NoSuchPublicAccessBlockConfiguration");
    let bucket = |public: bool, bpa_answer: Value| {
        parse(&bucket_with(
            "b",
            &[
                ("GetBucketPolicy", policy(pinned)),
                ("GetBucketPolicyStatus", status(public)),
                ("GetPublicAccessBlock", bpa_answer),
            ],
        ))
    };
    let meta = meta(no_bpa.clone());
    let verdict = check_bucket(
        "s3.world-readable-anonymous",
        &bucket(true, no_bpa.clone()),
        &meta,
    )
    .unwrap();
    assert_eq!(verdict.status, Status::Error, "{}", verdict.reason);
    assert!(
        verdict.reason.contains("GetBucketPolicyStatus"),
        "{}",
        verdict.reason
    );
    let verdict =
        check_bucket("s3.world-readable-anonymous", &bucket(false, no_bpa), &meta).unwrap();
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.reason);
    // With RestrictPublicBuckets on, a public policy cannot expose anything either way.
    let verdict = check_bucket(
        "s3.world-readable-anonymous",
        &bucket(true, bpa(&["RestrictPublicBuckets"])),
        &meta,
    )
    .unwrap();
    assert_eq!(verdict.status, Status::Pass, "{}", verdict.reason);
}
