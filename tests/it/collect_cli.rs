//! `phi-audit collect` failures that need no server: bad input exits 2, an unreachable endpoint
//! 74, each with a message that says what to do, and leave neither the output directory nor a
//! temporary directory behind.

use crate::support::collect as common;

use std::process::{Command, Output};

use common::temp_dirs_next_to;

fn collect(args: &[&str], out: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .arg("collect")
        .arg("--out")
        .arg(out)
        .args(args)
        // Dummy credentials and no instance-metadata probing: nothing may reach a real account.
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap()
}

#[test]
fn unreachable_endpoint_exits_74_and_leaves_nothing() {
    // A port that was just free: connection refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let o = collect(&["--endpoint-url", &endpoint], &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // The network failing is not bad input: exit 74 (docs/cli.md).
    assert_eq!(o.status.code(), Some(74), "stderr: {stderr}");
    assert!(stderr.contains("cannot reach AWS"), "{stderr}");
    assert!(stderr.contains(&endpoint), "{stderr}");
    assert!(
        stderr.contains("--endpoint-url"),
        "says what to check: {stderr}"
    );
    assert!(
        !stderr.contains("wJalrXUtnFEMI"),
        "no secret in messages: {stderr}"
    );
    assert!(!out.exists());
    assert!(temp_dirs_next_to(&out).is_empty());
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "gives up in reasonable time"
    );
}

#[test]
fn non_empty_output_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "x").unwrap();
    // The check comes before any network call, so no endpoint is needed.
    let o = collect(&["--endpoint-url", "http://127.0.0.1:9"], &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not an empty directory"), "{stderr}");
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "x");
}

#[test]
fn bad_scope_file_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let scope = dir.path().join("scope.yaml");
    std::fs::write(&scope, "include: [\"phi-*\"]\nregions:\n  - Frankfurt\n").unwrap();
    let out = dir.path().join("snap");
    let o = collect(
        &[
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--scope",
            scope.to_str().unwrap(),
        ],
        &out,
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:", scope.display())),
        "{stderr}"
    );
    assert!(stderr.contains("regions"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn bad_dates_and_regions_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    let o = collect(&["--since", "2026-03-01", "--until", "2026-01-01"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--since"));
    let o = collect(&["--region", "Frankfurt"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("region"));
    let o = collect(&["--concurrency", "0"], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn missing_credentials_exit_2_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("snap");
    // An empty environment: no keys, no profile files (HOME is empty), no instance metadata.
    let o = Command::new(env!("CARGO_BIN_EXE_phi-audit"))
        .env_clear()
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .args(["collect", "--endpoint-url", "http://127.0.0.1:9", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no usable AWS credentials"), "{stderr}");
    assert!(stderr.contains("--profile"), "{stderr}");
    assert!(
        !stderr.contains("DispatchFailure("),
        "no debug dump: {stderr}"
    );
    assert!(!out.exists());
    assert!(temp_dirs_next_to(&out).is_empty());
}
