//! `oscal/assessment-results.json` (issue #9): the sample's and the hostile fixture's documents
//! validate against the official NIST OSCAL 1.1.2 schema shipped in tests/data/oscal/, say
//! what findings.json says, and link to evidence that exists in the bundle. Mutated documents
//! must fail the same validator, proving it is live (patterns with \p{..} included).

use crate::support::bundle::*;
use crate::support::phi_audit;
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
    let (code, out, err) = phi_audit(&[
        "report",
        s.join("snapshot").to_str().unwrap(),
        "--attestations",
        s.join("attestations.yaml").to_str().unwrap(),
        "--exceptions",
        s.join("exceptions.yaml").to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--generated-at",
        "2026-10-02T09:00:00Z",
    ]);
    assert_eq!(code, 0, "{out}{err}");
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

    let oscal_findings = result["findings"].as_array().unwrap();
    assert_eq!(
        oscal_findings.len(),
        findings.len(),
        "one per control and subject"
    );
    let observations: HashMap<&str, &Value> = result["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["uuid"].as_str().unwrap(), o))
        .collect();
    let mut uuids = HashSet::new();
    let mut seen_states = HashSet::new();
    for (ours, theirs) in findings.iter().zip(oscal_findings) {
        assert!(
            uuids.insert(theirs["uuid"].as_str().unwrap()),
            "unique uuids"
        );
        assert_eq!(theirs["target"]["type"], "objective-id");
        assert_eq!(theirs["target"]["target-id"], ours["control"]);
        assert!(objectives.contains_key(ours["control"].as_str().unwrap()));
        assert_eq!(prop(theirs, "subject"), [ours["subject"].as_str().unwrap()]);
        assert_eq!(prop(theirs, "status"), [ours["status"].as_str().unwrap()]);
        let safeguards: Vec<&str> = ours["safeguards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(prop(theirs, "hipaa-safeguard"), safeguards);
        assert_eq!(theirs["description"], ours["reason"]);
        let status = &theirs["target"]["status"];
        let expected = match ours["status"].as_str().unwrap() {
            "pass" => ("satisfied", "pass"),
            "not_applicable" => ("satisfied", "not-applicable"),
            "fail" => ("not-satisfied", "fail"),
            "error" => ("not-satisfied", "not-assessed"),
            "excepted" => ("not-satisfied", "risk-accepted"),
            other => panic!("unknown status {other}"),
        };
        assert_eq!(
            (
                status["state"].as_str().unwrap(),
                status["reason"].as_str().unwrap()
            ),
            expected,
            "{} on {}",
            ours["control"],
            ours["subject"]
        );
        seen_states.insert(expected.1);
        // Each evidence reference is one observation, linked from the finding.
        let related: Vec<&str> = theirs["related-observations"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|o| o["observation-uuid"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(related.len(), ours["evidence"].as_array().unwrap().len());
        for uuid in related {
            assert!(observations.contains_key(uuid), "observation {uuid} exists");
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
    assert!(into_evidence > 100, "{into_evidence} evidence links");
    assert!(observations
        .values()
        .any(|o| o["relevant-evidence"][0]["href"]
            .as_str()
            .is_some_and(|h| h.starts_with("../attestations/exceptions.yaml#/exceptions/"))));

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
    assert!(findings
        .iter()
        .any(|f| prop(f, "subject") == ["s3://denied-bucket"]
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
