//! `oscal/assessment-results.json` (issue #9): the sample's and the hostile fixture's documents
//! validate against the official NIST OSCAL 1.1.2 schema shipped in tests/data/oscal/, say
//! what findings.json says, and link to evidence that exists in the bundle. Mutated documents
//! must fail the same validator, proving it is live (patterns with \p{..} included).

use crate::support::bundle::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

const OSCAL_ENTRY: &str = "oscal/assessment-results.json";

fn validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/oscal/oscal_assessment-results_schema.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        schema["$id"], "http://csrc.nist.gov/ns/oscal/1.1.2/oscal-ar-schema.json",
        "the shipped schema is the 1.1.2 release"
    );
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the OSCAL schema compiles")
}

/// Every schema error, one per line (empty when the document is valid).
fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn sample_bundle(dir: &Path) -> PathBuf {
    let bundle = dir.join("riverside.zip");
    let s = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    crate::support::bundle::report_sample(&s.join("snapshot"), &bundle);
    bundle
}

fn oscal_of(bundle: &Path) -> Value {
    serde_json::from_slice(&entry(bundle, OSCAL_ENTRY)).expect("the OSCAL document is JSON")
}

fn prop<'v>(item: &'v Value, name: &str) -> Vec<&'v str> {
    item["props"]
        .as_array()
        .map(|props| {
            props
                .iter()
                .filter(|p| p["name"] == name)
                .map(|p| p["value"].as_str().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

/// Resolves a `relevant-evidence` href (relative to `oscal/`) against the bundle's entries:
/// the file must be there and the JSON pointer must name something in it.
fn resolve(href: &str, entries: &HashMap<String, Vec<u8>>) -> Result<(), String> {
    let (path, fragment) = href.split_once('#').unwrap_or((href, ""));
    let name = path
        .strip_prefix("../")
        .ok_or_else(|| format!("{href}: not relative to the bundle root"))?;
    let bytes = entries
        .get(name)
        .ok_or_else(|| format!("{href}: {name} is not in the bundle"))?;
    if name.ends_with(".json") && !fragment.is_empty() {
        let value: Value = serde_json::from_slice(bytes).unwrap();
        let pointer = fragment.replace("%20", " ");
        value
            .pointer(&pointer)
            .ok_or_else(|| format!("{href}: the pointer names nothing in {name}"))?;
    }
    Ok(())
}

#[test]
fn sample_oscal_validates_against_the_official_schema_and_matches_the_findings() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = sample_bundle(dir.path());
    let document = oscal_of(&bundle);
    let errors = schema_errors(&validator(), &document);
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));

    let findings: Value = serde_json::from_slice(&entry(&bundle, "findings.json")).unwrap();
    let findings = findings["findings"].as_array().unwrap();
    let ar = &document["assessment-results"];
    assert_eq!(ar["metadata"]["oscal-version"], "1.1.2");
    assert_eq!(ar["metadata"]["last-modified"], "2026-10-02T09:00:00Z");
    let results = ar["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "one result per run");
    let result = &results[0];
    assert_eq!(result["start"], "2026-07-01T00:00:00Z");
    assert_eq!(result["end"], "2026-10-01T06:00:00Z");
    assert_eq!(prop(result, "account-id"), ["111122223333"]);
    assert_eq!(prop(result, "snapshot-digest").len(), 1);

    // import-ap names a back-matter resource of this document.
    let plan = ar["import-ap"]["href"].as_str().unwrap();
    let resources = ar["back-matter"]["resources"].as_array().unwrap();
    assert!(resources
        .iter()
        .any(|r| format!("#{}", r["uuid"].as_str().unwrap()) == plan));

    // One objective per catalog control, with its text once; findings point at them.
    let objectives: HashMap<&str, &Value> = ar["local-definitions"]["objectives-and-methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["control-id"].as_str().unwrap(), o))
        .collect();
    let encryption = objectives["s3.encryption-not-kms"];
    assert_eq!(
        encryption["description"],
        "Not encrypted with a customer managed KMS key"
    );
    assert_eq!(
        prop(encryption, "hipaa-safeguard"),
        ["164.312(a)(2)(iv)", "164.312(b)"]
    );

    // Subjects are inventory items; each observation names one and links its evidence file.
    let subjects: HashMap<&str, &str> = result["local-definitions"]["inventory-items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["uuid"].as_str().unwrap(), prop(i, "subject")[0]))
        .collect();
    assert!(subjects.values().any(|s| *s == "s3://riverside-www"));
    assert!(subjects.values().any(|s| s.starts_with("policy:")));
    assert!(subjects.values().any(|s| s.contains(":trail/")));
    let observations: HashMap<&str, &Value> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["uuid"].as_str().unwrap(), o))
        .collect();
    let risks: HashMap<&str, &Value> = result["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["uuid"].as_str().unwrap(), r))
        .collect();

    // One OSCAL finding per control, status and reason; together they hold every finding.
    let oscal_findings = result["findings"].as_array().unwrap();
    let mut groups: HashMap<(&str, &str, &str), &Value> = HashMap::new();
    let mut held = 0;
    for theirs in oscal_findings {
        let key = (
            theirs["target"]["target-id"].as_str().unwrap(),
            prop(theirs, "status")[0],
            theirs["description"].as_str().unwrap(),
        );
        assert!(
            groups.insert(key, theirs).is_none(),
            "one finding per group: {key:?}"
        );
        assert!(objectives.contains_key(key.0));
        held += prop(theirs, "subjects")[0].parse::<usize>().unwrap();
    }
    assert_eq!(
        held,
        findings.len(),
        "every finding is held by one OSCAL finding"
    );
    assert!(
        oscal_findings.len() < findings.len(),
        "passes are summarised"
    );

    let mut uuids = HashSet::new();
    let mut seen_states = HashSet::new();
    for theirs in oscal_findings {
        assert!(
            uuids.insert(theirs["uuid"].as_str().unwrap()),
            "unique uuids"
        );
    }
    for ours in findings {
        let status = ours["status"].as_str().unwrap();
        let key = (
            ours["control"].as_str().unwrap(),
            status,
            ours["reason"].as_str().unwrap(),
        );
        let theirs = groups[&key];
        assert_eq!(theirs["target"]["type"], "objective-id");
        let expected = match status {
            "pass" => ("satisfied", "pass"),
            "not_applicable" => ("satisfied", "not-applicable"),
            "fail" => ("not-satisfied", "fail"),
            "error" => ("not-satisfied", "not-assessed"),
            "excepted" => ("not-satisfied", "risk-accepted"),
            other => panic!("unknown status {other}"),
        };
        let target = &theirs["target"]["status"];
        assert_eq!(
            (
                target["state"].as_str().unwrap(),
                target["reason"].as_str().unwrap()
            ),
            expected,
            "{key:?}"
        );
        seen_states.insert(expected.1);
        // Each evidence file of the finding is an observation of its subject, related.
        let related: Vec<&Value> = theirs["related-observations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| observations[o["observation-uuid"].as_str().unwrap()])
            .collect();
        let subject = ours["subject"].as_str().unwrap();
        for reference in ours["evidence"].as_array().unwrap() {
            let file = reference.as_str().unwrap().split('#').next().unwrap();
            // findings.json's `controls/policies.yaml` is the bundle's `catalog/policies.yaml`.
            let file = file.strip_prefix("controls/").unwrap_or(file);
            assert!(
                related.iter().any(|o| {
                    let href = o["relevant-evidence"][0]["href"].as_str().unwrap();
                    subjects[o["subjects"][0]["subject-uuid"].as_str().unwrap()] == subject
                        && href.split('#').next().unwrap().ends_with(file)
                }),
                "{key:?} on {subject}: no related observation of {file}"
            );
        }
        // What an auditor acts on keeps its id beside its subject, and failures their risk.
        if ["fail", "error", "excepted"].contains(&status) {
            let id = ours["id"].as_str().unwrap();
            assert!(
                theirs["props"].as_array().unwrap().iter().any(|p| {
                    p["name"] == "finding-id" && p["value"] == id && p["remarks"] == subject
                }),
                "{id}"
            );
        }
        if ["fail", "excepted"].contains(&status) {
            let risk = risks[theirs["related-risks"][0]["risk-uuid"].as_str().unwrap()];
            assert_eq!(prop(risk, "control-id"), [key.0]);
        }
    }
    for state in [
        "pass",
        "fail",
        "not-assessed",
        "risk-accepted",
        "not-applicable",
    ] {
        assert!(seen_states.contains(state), "the sample exercises {state}");
    }

    // The access review: one observation per ePHI bucket that someone can reach.
    let review: Value = serde_json::from_slice(&entry(&bundle, "findings.json")).unwrap();
    let reviewed: HashSet<&str> = review["access_review"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["bucket"].as_str().unwrap())
        .collect();
    assert!(!reviewed.is_empty());
    for bucket in &reviewed {
        assert!(
            observations.values().any(|o| o["description"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Access review of ePHI bucket {bucket}:"))),
            "{bucket}"
        );
    }

    // Every href into the bundle resolves, file and JSON pointer.
    let entries: HashMap<String, Vec<u8>> = read_entries(&bundle).into_iter().collect();
    let mut into_evidence = 0;
    for observation in observations.values() {
        for evidence in observation["relevant-evidence"].as_array().unwrap() {
            if let Some(href) = evidence["href"].as_str() {
                resolve(href, &entries).unwrap();
                into_evidence += href.starts_with("../evidence/") as usize;
            }
        }
    }
    assert!(into_evidence > 30, "{into_evidence} evidence links");
    assert!(observations
        .values()
        .any(|o| o["relevant-evidence"][0]["href"]
            .as_str()
            .is_some_and(|h| h == "../attestations/exceptions.yaml")));

    // Listed in the manifest like every other file.
    let manifest = String::from_utf8(entry(&bundle, "MANIFEST.sha256")).unwrap();
    assert!(manifest
        .lines()
        .any(|l| l.ends_with(&format!("  {OSCAL_ENTRY}"))));
    let readme = String::from_utf8(entry(&bundle, "README.txt")).unwrap();
    assert!(readme.contains("OSCAL 1.1.2"));
}

#[test]
fn hostile_fixture_oscal_validates_and_is_reproducible() {
    let f = fixture(false);
    let document = oscal_of(&f.bundle);
    let errors = schema_errors(&validator(), &document);
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
    // A bucket whose policy could not be read is never satisfied.
    let findings = document["assessment-results"]["results"][0]["findings"]
        .as_array()
        .unwrap();
    assert!(findings.iter().any(|f| f["props"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "finding-id" && p["remarks"] == "s3://denied-bucket")
        && f["target"]["status"]["reason"] == "not-assessed"
        && f["target"]["status"]["state"] == "not-satisfied"));

    let again = f.dir.path().join("again.zip");
    build(&f.snapshot, &again, None, None).unwrap();
    assert_eq!(
        entry(&f.bundle, OSCAL_ENTRY),
        entry(&again, OSCAL_ENTRY),
        "same inputs and --generated-at, same bytes"
    );
}

#[test]
fn the_validator_refuses_broken_documents() {
    let validator = validator();
    let dir = tempfile::tempdir().unwrap();
    let valid = oscal_of(&sample_bundle(dir.path()));
    assert!(schema_errors(&validator, &valid).is_empty());

    type Mutation = fn(&mut Value);
    let mutations: [(&str, Mutation); 6] = [
        ("required import-ap dropped", |d| {
            d["assessment-results"]
                .as_object_mut()
                .unwrap()
                .remove("import-ap");
        }),
        ("finding uuid of version 1", |d| {
            d["assessment-results"]["results"][0]["findings"][0]["uuid"] =
                "c232ab00-9414-11ec-b3c8-9f6bdeced846".into();
        }),
        ("target-id that is no NCName token", |d| {
            d["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] =
                "s3 world readable".into();
        }),
        ("state outside satisfied / not-satisfied", |d| {
            d["assessment-results"]["results"][0]["findings"][0]["target"]["status"]["state"] =
                "pass".into();
        }),
        ("collected without a time zone", |d| {
            d["assessment-results"]["results"][0]["observations"][0]["collected"] =
                "2026-10-01T06:00:00".into();
        }),
        ("prop value with surrounding whitespace", |d| {
            d["assessment-results"]["results"][0]["props"][0]["value"] = " padded ".into();
        }),
    ];
    for (what, mutate) in mutations {
        let mut broken = valid.clone();
        mutate(&mut broken);
        assert!(
            !schema_errors(&validator, &broken).is_empty(),
            "{what}: the schema should refuse it"
        );
    }

    // \p{L} is honoured: a token of non-ASCII letters is a valid target-id.
    let mut unicode = valid.clone();
    unicode["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] =
        "contrôle-é".into();
    assert!(schema_errors(&validator, &unicode).is_empty());
}
