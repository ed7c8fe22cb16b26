//! The risk-first summary (report::risk) on the sample clinic: each question answered with the
//! ePHI buckets the findings name, in the order an auditor asks, before any count.

use crate::support::bundle::entry;
use crate::support::bundle::samples;
use crate::support::phi_audit;
use phi_audit::audit::{Audit, Judgement};
use phi_audit::report::risk::RiskView;
use std::collections::BTreeSet;

fn sample_audit() -> Audit {
    let s = samples();
    let judgement = Judgement {
        attestations: Some(s.join("attestations.yaml")),
        exceptions: Some(s.join("exceptions.yaml")),
        generated_at: "2026-10-02T09:00:00Z".to_string(),
        ..Judgement::default()
    };
    Audit::build(&s.join("snapshot"), &judgement).expect("the sample evaluates")
}

fn subjects(view: &RiskView, title_start: &str) -> BTreeSet<String> {
    let item = view
        .items
        .iter()
        .find(|i| i.title.starts_with(title_start))
        .unwrap_or_else(|| panic!("no item {title_start}"));
    item.entries.iter().map(|e| e.subject.clone()).collect()
}

#[test]
fn the_sample_names_its_exposed_and_lapsed_ephi_first() {
    let audit = sample_audit();
    let view = RiskView::build(&audit);
    let titles: Vec<&str> = view.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "ePHI exposed to the internet",
            "ePHI open to other AWS accounts",
            "ePHI not encrypted at rest or in transit",
            "Access to ePHI not recorded",
            "ePHI that cannot be recovered after overwrite or deletion",
            "Subjects that could not be assessed",
            "Administrative lapses",
            "Security changes by the root user or unidentified principals",
        ]
    );
    let set = |names: &[&str]| -> BTreeSet<String> {
        names
            .iter()
            .map(|n| format!("s3://riverside-{n}"))
            .collect()
    };
    // samples/README.md: the fax and scanner buckets are public; the website is public but
    // holds no ePHI, so it is not listed.
    assert_eq!(
        subjects(&view, "ePHI exposed to the internet"),
        set(&["fax-gateway-inbox", "legacy-fax-archive", "scanner-dropbox"])
    );
    assert!(!subjects(&view, "ePHI open to other").contains("s3://riverside-www"));
    assert!(subjects(&view, "ePHI open to other").contains("s3://riverside-partner-referrals"));
    // Not assessed: the buckets whose answers were refused.
    assert!(subjects(&view, "Subjects that could not be assessed")
        .contains("s3://riverside-hr-documents"));
    // The lapses the sample's attestations and exceptions were written to show.
    let lapses = subjects(&view, "Administrative lapses");
    for expected in [
        "policy:Configuration Management Policy",
        "policy:Data Integrity Policy",
        "s3://riverside-it-temp-transfer",
        "s3://riverside-marketing-*",
    ] {
        assert!(
            lapses.contains(expected),
            "{expected} missing from {lapses:?}"
        );
    }
    assert_eq!(
        subjects(&view, "Security changes by the root user").len(),
        2,
        "the two root changes of the sample's timeline"
    );
}

/// Every entry of a risk item is an ePHI bucket with a failing finding of that risk's controls
/// in findings.json, and every such finding is listed: the summary and the findings agree.
#[test]
fn each_risk_item_lists_exactly_the_failing_ephi_buckets_of_its_controls() {
    let audit = sample_audit();
    let view = RiskView::build(&audit);
    let ephi: BTreeSet<String> = audit
        .scope
        .accounts
        .iter()
        .flat_map(|a| a.buckets.iter())
        .filter(|b| b.ephi.as_ref().is_some_and(|d| d.ephi))
        .map(|b| format!("s3://{}", b.name))
        .collect();
    for risk in phi_audit::controls::Risk::ALL {
        let expected: BTreeSet<String> = audit
            .findings
            .findings
            .iter()
            .filter(|f| f.status() == phi_audit::findings::Status::Fail)
            .filter(|f| audit.catalog.get(f.control()).and_then(|c| c.risk) == Some(risk))
            .filter(|f| ephi.contains(f.subject().as_str()))
            .map(|f| f.subject().to_string())
            .collect();
        assert_eq!(subjects(&view, risk.title()), expected, "{}", risk.title());
    }
}

#[test]
fn the_report_puts_the_risks_before_the_counts() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("riverside.zip");
    let s = samples();
    let (code, out, err) = phi_audit(&[
        "report",
        s.join("snapshot").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        "2026-10-02T09:00:00Z",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let html = String::from_utf8(entry(&bundle, "report.html")).unwrap();
    let risk = html
        .find("What needs attention first")
        .expect("the risk section");
    let counts = html.find("Findings by status").expect("the counts");
    assert!(risk < counts);
    assert!(html.contains("ePHI exposed to the internet: 3 ePHI buckets."));
}
