//! Shared helpers of the bundle and verify tests: a small snapshot written to a temp dir (with
//! hostile tag values and policy Sids), bundle building, zip rewriting and a raw zip writer that
//! can produce what no honest zip library would (duplicates, `..`, symlinks).

use super::fixtures;
use phi_audit::audit::{Audit, Judgement};
use phi_audit::bundle::sign::SecretKey;
use phi_audit::package::{self as write, BundleError, BundleSummary, Options};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub const GENERATED_AT: &str = "2026-10-02T09:00:00Z";
pub const LONG_BUCKET: &str = "riverside-phi-imaging-archive-cardiology-2019-2026-west-replica1";
pub const EVIL_SID: &str = "=HYPERLINK(\"http://x.test\")<script>alert(1)</script>";
pub const EVIL_TAG_VALUE: &str = "=cmd|' /C calc'!A0 <img src=x onerror=alert(1)>";

/// The path of an external tool, or a panic that says how to install it: tests never skip.
/// The sample clinic: `samples/` (snapshot, attestations, exceptions).
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// The README's first command on `snapshot` (the sample's attestations and exceptions,
/// `--generated-at` [`GENERATED_AT`]), writing `zip`; panics with its output when it fails.
/// Returns its stderr (the warnings).
pub fn report_sample(snapshot: &Path, zip: &Path) -> String {
    let s = samples();
    let (code, out, err) = crate::support::phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--attestations",
        s.join("attestations.yaml").to_str().unwrap(),
        "--exceptions",
        s.join("exceptions.yaml").to_str().unwrap(),
        "--out",
        zip.to_str().unwrap(),
        "--generated-at",
        GENERATED_AT,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    err
}

pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("this test needs `{name}`, which is not installed: run `apt-get install -y {package}` (scripts/test does)")
    })
}

fn write_json(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// A snapshot of five buckets: one careful, one public through a policy whose Sid is hostile,
/// one with hostile tags and an SSN-like tag value, one whose policy could not be read, and one
/// with a 63-character name.
pub fn write_snapshot(dir: &Path) {
    write_json(
        &dir.join("snapshot.json"),
        &json!({
            "format": "phi-audit-snapshot/1",
            "collected_at": "2026-10-01T06:00:00Z",
            "tool_version": "0.1.0",
            "organization": "Riverside <Family> Clinic & Co",
            "account_id": fixtures::ACCOUNT,
            "partition": "aws",
            "regions": ["us-east-1"],
            "scope": {"include": ["*"], "exclude": []},
            "review_period": {"since": "2026-07-01T00:00:00Z", "until": "2026-09-30T23:59:59Z"},
            "account": {"GetPublicAccessBlock": fixtures::bpa(&[])},
        }),
    );
    let public_policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":{},"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-www/*"}}]}}"#,
        serde_json::to_string(EVIL_SID).unwrap()
    );
    let buckets = vec![
        fixtures::bucket_with("phi-good", &[]),
        fixtures::bucket_with(
            "public-www",
            &[
                ("GetBucketPolicy", fixtures::policy(&public_policy)),
                ("GetPublicAccessBlock", fixtures::bpa(&[])),
                (
                    "GetBucketTagging",
                    fixtures::ok(json!({"TagSet": [{"Key": "team", "Value": "web"}]})),
                ),
            ],
        ),
        fixtures::bucket_with(
            "tagged-export",
            &[(
                "GetBucketTagging",
                fixtures::ok(json!({"TagSet": [
                    {"Key": "contents", "Value": "chart copy pt 123-45-6789"},
                    {"Key": "<b>owner</b>", "Value": EVIL_TAG_VALUE},
                ]})),
            )],
        ),
        fixtures::bucket_with("denied-bucket", &[("GetBucketPolicy", fixtures::denied())]),
        fixtures::bucket_with(
            LONG_BUCKET,
            &[(
                "GetBucketVersioning",
                fixtures::ok(json!({"Status": "Suspended"})),
            )],
        ),
    ];
    for bucket in buckets {
        let name = bucket["name"].as_str().unwrap().to_string();
        write_json(&dir.join("buckets").join(format!("{name}.json")), &bucket);
    }
    write_json(
        &dir.join("cloudtrail/us-east-1.json"),
        &json!({
            "DescribeTrails": {"ok": {"trailList": []}},
            "trails": {},
            "LookupEvents": {"ok": {"Events": [
                {"EventId": "e1", "EventTime": "2026-09-28T16:04:51Z", "EventName": "PutBucketAcl", "Username": "m.alvarez",
                 "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "public-www"}],
                 "CloudTrailEvent": "{\"userIdentity\":{\"arn\":\"arn:aws:iam::111122223333:user/m.alvarez\"},\"sourceIPAddress\":\"198.51.100.23\",\"requestParameters\":{\"bucketName\":\"public-www\"}}"},
                {"EventId": "e2", "EventTime": "2026-08-02T10:00:00Z", "EventName": "DeleteBucketEncryption", "Username": "<svc>",
                 "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "tagged-export"}],
                 "CloudTrailEvent": "{\"userIdentity\":{\"arn\":\"arn:aws:iam::111122223333:user/svc\"},\"requestParameters\":{\"bucketName\":\"tagged-export\"}}"}
            ]}}
        }),
    );
}

pub fn test_key() -> SecretKey {
    SecretKey::from_seed([42u8; 32], *b"phiaudit")
}

/// The audit of the snapshot in `snapshot` with the built-in catalog, generated at `generated_at`,
/// with these attestations (none when `None`).
pub fn audit_of(snapshot: &Path, generated_at: &str, attestations: Option<&Path>) -> Audit {
    let judgement = Judgement {
        attestations: attestations.map(Path::to_path_buf),
        generated_at: generated_at.to_string(),
        ..Judgement::default()
    };
    Audit::build(snapshot, &judgement).expect("the snapshot evaluates")
}

/// Builds a bundle of the snapshot in `snapshot` into `out`.
pub fn build(
    snapshot: &Path,
    out: &Path,
    key: Option<&SecretKey>,
    attestations: Option<&Path>,
) -> Result<BundleSummary, BundleError> {
    let audit = audit_of(snapshot, GENERATED_AT, attestations);
    let options = Options {
        sign_key: key,
        ..Options::default()
    };
    write::write(&audit, &options, out)
}

/// A temp dir with a snapshot and its bundle (signed with [`test_key`] when `signed`).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub snapshot: PathBuf,
    pub bundle: PathBuf,
}

pub fn fixture(signed: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    let bundle = dir.path().join("bundle.zip");
    let key = test_key();
    build(&snapshot, &bundle, signed.then_some(&key), None).expect("bundle builds");
    Fixture {
        dir,
        snapshot,
        bundle,
    }
}

/// Every entry of a zip: (name, bytes), in order.
pub fn read_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            (String::from_utf8_lossy(file.name_raw()).into_owned(), bytes)
        })
        .collect()
}

pub fn entry(path: &Path, name: &str) -> Vec<u8> {
    read_entries(path)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} is not in the bundle"))
        .1
}

/// Extracts a bundle into a directory (names are ours, so they are safe).
pub fn extract(bundle: &Path, into: &Path) {
    for (name, bytes) in read_entries(bundle) {
        let path = into.join(&name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

/// One entry of a hand-made zip.
pub struct RawEntry {
    pub name: String,
    pub data: Vec<u8>,
    /// Unix mode (file type and permissions), e.g. 0o100644 or 0o120777 for a symlink.
    pub mode: u32,
}

pub fn raw(name: &str, data: &[u8]) -> RawEntry {
    RawEntry {
        name: name.to_string(),
        data: data.to_vec(),
        mode: 0o100644,
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Writes a stored (uncompressed) zip exactly as given: any names, duplicates, any modes.
pub fn write_raw_zip(path: &Path, entries: &[RawEntry]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = out.len() as u32;
        let crc = crc32(&e.data);
        let name = e.name.as_bytes();
        out.extend_from_slice(&0x04034b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x5341u16.to_le_bytes()); // date 2021-10-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&e.data);

        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x5341u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&(e.mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    std::fs::File::create(path)
        .unwrap()
        .write_all(&out)
        .unwrap();
}

/// The bundle's entries rewritten through [`write_raw_zip`] after `edit`.
pub fn rewrite(bundle: &Path, out: &Path, edit: impl FnOnce(&mut Vec<RawEntry>)) {
    let mut entries: Vec<RawEntry> = read_entries(bundle)
        .into_iter()
        .map(|(name, data)| RawEntry {
            name,
            data,
            mode: 0o100644,
        })
        .collect();
    edit(&mut entries);
    write_raw_zip(out, &entries);
}
