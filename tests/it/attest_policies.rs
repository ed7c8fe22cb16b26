//! `controls/policies.yaml`: the four Dash policies, kept consistent with the controls that name
//! them; mistakes are reported with file, line and field.

use phi_audit::audit::{builtin_catalog, control_ids};
use phi_audit::controls::{Catalog, POLICIES, SAFEGUARDS};
use std::path::{Path, PathBuf};

fn catalog_copy(dir: &Path) -> PathBuf {
    let controls = dir.join("controls");
    std::fs::create_dir_all(&controls).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/controls")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, controls.join(path.file_name().unwrap())).unwrap();
    }
    controls
}

/// Replaces the first occurrence of `from` in a copy of the catalog; returns the load error and
/// the line the replacement is on.
fn error_after(file: &str, from: &str, to: &str) -> (String, usize) {
    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    let path = controls.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let at = text
        .find(from)
        .unwrap_or_else(|| panic!("{file} lacks {from:?}"));
    let line = text[..at].matches('\n').count() + 1;
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    match Catalog::load_dir(&controls, &control_ids()) {
        Ok(_) => panic!("accepted {from:?} -> {to:?}"),
        Err(err) => (err.to_string(), line),
    }
}

#[test]
fn the_builtin_catalog_defines_the_four_dash_policies() {
    let catalog = builtin_catalog().unwrap();
    let names: Vec<&str> = catalog.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, POLICIES);
    for policy in &catalog.policies {
        assert!(!policy.must_state.is_empty(), "{}", policy.name);
        assert!(!policy.controls.is_empty(), "{}", policy.name);
        assert_eq!(policy.review_interval_months, 12, "{}", policy.name);
        for safeguard in &policy.safeguards {
            assert!(
                SAFEGUARDS.iter().any(|(s, _)| s == safeguard),
                "{safeguard}"
            );
        }
        // Exactly the technical controls whose catalog entry names the policy (the organisation
        // control says whether an account was examined at all, not how it is configured).
        let naming: Vec<&str> = catalog
            .controls
            .iter()
            .filter(|c| {
                c.family != "administrative"
                    && c.family != "organization"
                    && c.policies.contains(&policy.name)
            })
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(policy.controls, naming, "{}", policy.name);
    }
    assert_eq!(
        catalog
            .policy("System Access Policy")
            .unwrap()
            .controls
            .len(),
        21
    );
    // The administrative controls are in the catalog too.
    for id in phi_audit::attest::ADMIN_CONTROLS {
        let control = catalog.get(id).unwrap_or_else(|| panic!("{id}"));
        assert_eq!(control.family, "administrative");
    }
}

#[test]
fn a_catalog_directory_reads_its_own_policies_file() {
    let temp = tempfile::tempdir().unwrap();
    let controls = catalog_copy(temp.path());
    let path = controls.join("policies.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("review_interval_months: 12", "review_interval_months: 6"),
    )
    .unwrap();
    let catalog = Catalog::load_dir(&controls, &control_ids()).unwrap();
    assert!(catalog
        .policies
        .iter()
        .all(|p| p.review_interval_months == 6));
}

#[test]
fn an_unknown_policy_name_is_rejected() {
    let (err, line) = error_after(
        "policies.yaml",
        "name: Auditing Policy",
        "name: Audit Policy",
    );
    assert!(err.contains(&format!("policies.yaml:{line}:")), "{err}");
    assert!(err.contains("policies[2].name"), "{err}");
}

#[test]
fn a_control_that_does_not_name_the_policy_is_rejected() {
    let (err, line) = error_after(
        "policies.yaml",
        "      - s3.access-logging-disabled",
        "      - s3.versioning-disabled",
    );
    assert!(err.contains(&format!("policies.yaml:{line}:")), "{err}");
    assert!(err.contains("policies[2].controls[0]"), "{err}");
    assert!(err.contains("s3.versioning-disabled"), "{err}");
}

#[test]
fn a_control_naming_the_policy_but_not_listed_is_rejected() {
    let (err, _) = error_after("policies.yaml", "      - s3.acls-enabled\n", "");
    assert!(err.contains("policies.yaml:"), "{err}");
    assert!(err.contains("policies[1].controls"), "{err}");
    assert!(err.contains("s3.acls-enabled"), "{err}");
}

#[test]
fn a_safeguard_a_covered_control_cites_must_be_listed() {
    let (err, _) = error_after(
        "policies.yaml",
        r#"safeguards: ["164.312(a)(2)(iv)", "164.312(b)", "164.312(c)(2)"]"#,
        r#"safeguards: ["164.312(a)(2)(iv)", "164.312(c)(2)"]"#,
    );
    assert!(err.contains("policies[2].controls[0]"), "{err}");
    assert!(err.contains("164.312(b)"), "{err}");
}

#[test]
fn a_yaml_error_in_the_policies_file_names_file_and_line() {
    let (err, line) = error_after(
        "policies.yaml",
        "    review_interval_months: 12\n\n  - name: Configuration",
        "    review_interval_months: twelve\n\n  - name: Configuration",
    );
    assert!(err.contains(&format!("policies.yaml:{line}:")), "{err}");
}
