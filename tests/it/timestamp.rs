//! RFC 3161 trusted timestamps end to end, against a real time-stamping authority: `openssl ts
//! -reply` behind a small HTTP server on 127.0.0.1, with a CA and TSA certificates made by the
//! `openssl` command line in a temp dir. `report --timestamp-url` stores the token, `verify
//! --tsa-cert` checks it (and so does `openssl ts -verify`), and every way it can be wrong is
//! refused with the check that failed named.

use crate::support::bundle::{
    self as bundle_support, entry, extract, require_tool, rewrite, write_snapshot,
};
use crate::support::phi_audit;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const TOKEN: &str = "MANIFEST.sha256.tsr";

/// Runs `openssl` in `dir`; panics with its stderr when it fails.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let tool = require_tool("openssl", "openssl");
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One config for the CA, the certificate profiles, `openssl ca` and `openssl ts -reply`.
fn config(dir: &Path) -> String {
    format!(
        r#"
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/caserial
certificate = $dir/ca.pem
private_key = $dir/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"#,
        dir = dir.display()
    )
}

/// A CA, a TSA certificate it issued, and the odd certificates the failure cases need.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("openssl.cnf"), config(d)).unwrap();
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("caserial"), "1000\n").unwrap();
        std::fs::write(d.join("tsaserial"), "01\n").unwrap();
        std::fs::create_dir(d.join("newcerts")).unwrap();
        for (name, subject) in [
            ("ca", "/CN=phi-audit test CA"),
            ("other-ca", "/CN=Some other CA"),
        ] {
            openssl(
                d,
                &[
                    "req",
                    "-x509",
                    "-new",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.pem"),
                    "-days",
                    "3650",
                    "-subj",
                    subject,
                    "-config",
                    "openssl.cnf",
                    "-extensions",
                    "v3_ca",
                ],
            );
        }
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "tsa.key",
                "-out",
                "tsa.csr",
                "-subj",
                "/CN=phi-audit test TSA/O=Test Time Authority",
                "-config",
                "openssl.cnf",
            ],
        );
        // The good TSA certificate and one whose validity ended in 2021: the same key, the same CA.
        for (out, extensions, dates) in [
            ("tsa.pem", "v3_tsa", ["-days", "365"]),
            (
                "tsa-expired.pem",
                "v3_tsa",
                ["-startdate", "20200101000000Z"],
            ),
        ] {
            let mut args = vec![
                "ca",
                "-batch",
                "-config",
                "openssl.cnf",
                "-in",
                "tsa.csr",
                "-out",
                out,
                "-extensions",
                extensions,
                "-notext",
            ];
            args.extend(dates);
            if out == "tsa-expired.pem" {
                args.extend(["-enddate", "20210101000000Z"]);
            }
            openssl(d, &args);
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// How the local TSA answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// `openssl ts -reply` signed with this certificate file (and tsa.key).
    Sign(&'static str),
    Http500,
    /// A granted-looking reply whose PKIStatus is rejection, with a status text.
    Rejection,
}

/// The TSA over HTTP on 127.0.0.1:<free port>. One thread, one request at a time; it lives as
/// long as the test process.
struct LocalTsa {
    url: String,
    answer: Arc<Mutex<Answer>>,
    requests: Arc<AtomicUsize>,
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    assert!(content.len() < 128, "short form only");
    let mut out = vec![tag, content.len() as u8];
    out.extend_from_slice(content);
    out
}

/// TimeStampResp { PKIStatusInfo { rejection, ["unaccepted policy"], badRequest } }.
fn rejection_der() -> Vec<u8> {
    let text = tlv(0x30, &tlv(0x0C, b"unaccepted policy"));
    let fail_info = tlv(0x03, &[0x05, 0x20]); // BIT STRING: bit 2, badRequest
    let status = [tlv(0x02, &[2]), text, fail_info].concat();
    tlv(0x30, &tlv(0x30, &status))
}

impl LocalTsa {
    fn start(pki: &Pki, answer: Answer) -> LocalTsa {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/tsa", listener.local_addr().unwrap());
        let answer = Arc::new(Mutex::new(answer));
        let requests = Arc::new(AtomicUsize::new(0));
        let dir = pki.dir.path().to_path_buf();
        let (answer_in, requests_in) = (answer.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = requests_in.fetch_add(1, Ordering::SeqCst);
                let mode = *answer_in.lock().unwrap();
                serve(stream, &dir, n, mode);
            }
        });
        LocalTsa {
            url,
            answer,
            requests,
        }
    }

    fn answer(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }
}

fn serve(mut stream: TcpStream, dir: &Path, n: usize, answer: Answer) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    let (head_end, length) = loop {
        let read = stream.read(&mut buffer).unwrap();
        assert!(read > 0, "the client closed before sending its request");
        request.extend_from_slice(&buffer[..read]);
        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
            assert!(head.starts_with("post /tsa http/1.1"), "{head}");
            assert!(
                head.contains("content-type: application/timestamp-query"),
                "{head}"
            );
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .expect("a Content-Length")
                .trim()
                .parse()
                .unwrap();
            break (end + 4, length);
        }
    };
    while request.len() < head_end + length {
        let read = stream.read(&mut buffer).unwrap();
        request.extend_from_slice(&buffer[..read]);
    }
    let (status, body) = match answer {
        Answer::Http500 => ("500 Internal Server Error", b"TSA down".to_vec()),
        Answer::Rejection => ("200 OK", rejection_der()),
        Answer::Sign(cert) => {
            let query = format!("query-{n}.tsq");
            let reply = format!("reply-{n}.tsr");
            std::fs::write(dir.join(&query), &request[head_end..]).unwrap();
            openssl(
                dir,
                &[
                    "ts",
                    "-reply",
                    "-config",
                    "openssl.cnf",
                    "-queryfile",
                    &query,
                    "-signer",
                    cert,
                    "-inkey",
                    "tsa.key",
                    "-out",
                    &reply,
                ],
            );
            ("200 OK", std::fs::read(dir.join(&reply)).unwrap())
        }
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body).unwrap();
}

/// A snapshot in its own temp dir.
fn snapshot() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot");
    write_snapshot(&snapshot);
    (dir, snapshot)
}

fn report(
    snapshot: &Path,
    out: &Path,
    generated_at: &str,
    tsa: &LocalTsa,
) -> (i32, String, String) {
    phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--generated-at",
        generated_at,
        "--timestamp-url",
        &tsa.url,
    ])
}

fn verify(bundle: &Path, tsa_cert: Option<&Path>) -> (i32, String, String) {
    let mut args = vec!["verify", bundle.to_str().unwrap()];
    if let Some(cert) = tsa_cert {
        args.extend(["--tsa-cert", cert.to_str().unwrap()]);
    }
    phi_audit(&args)
}

#[test]
fn a_token_round_trips_and_openssl_agrees() {
    let pki = Pki::new();
    let tsa = LocalTsa::start(&pki, Answer::Sign("tsa.pem"));
    let (dir, snapshot) = snapshot();
    let bundle = dir.path().join("bundle.zip");
    let (code, stdout, stderr) = report(&snapshot, &bundle, "2026-10-02T09:00:00Z", &tsa);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("timestamped 20"), "{stdout}");
    assert_eq!(tsa.requests.load(Ordering::SeqCst), 1);

    // The token is the last entry, after the manifest, and not listed in it.
    let names: Vec<String> = bundle_support::read_entries(&bundle)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names.last().map(String::as_str), Some(TOKEN), "{names:?}");
    let manifest = String::from_utf8(entry(&bundle, "MANIFEST.sha256")).unwrap();
    assert!(!manifest.contains(".tsr"), "{manifest}");
    let readme = String::from_utf8(entry(&bundle, "README.txt")).unwrap();
    assert!(
        readme.contains(
            "openssl ts -verify -in MANIFEST.sha256.tsr -data MANIFEST.sha256 -CAfile tsa-ca.pem"
        ),
        "{readme}"
    );

    let (code, stdout, stderr) = verify(&bundle, Some(&pki.path("ca.pem")));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.starts_with("timestamp: "))
        .unwrap_or_else(|| panic!("no timestamp line: {stdout}"));
    // The time the local TSA attested: now, give or take the test's own duration.
    let time = line["timestamp: ".len()..].split(' ').next().unwrap();
    let attested = chrono::DateTime::parse_from_rfc3339(time).expect("an RFC 3339 time");
    let age = chrono::Utc::now().signed_duration_since(attested);
    assert!(age.num_seconds().abs() < 600, "{line}");
    assert!(line.contains("by CN=phi-audit test TSA"), "{line}");
    assert!(stdout.contains("INTACT"), "{stdout}");

    // Given the TSA certificate itself instead of its CA: trusted too.
    let (code, stdout, _) = verify(&bundle, Some(&pki.path("tsa.pem")));
    assert_eq!(code, 0, "{stdout}");

    // Without --tsa-cert: the time is shown, but not claimed as trusted.
    let (code, stdout, _) = verify(&bundle, None);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("the TSA was not checked") && stdout.contains("--tsa-cert"),
        "{stdout}"
    );

    // The reference implementation accepts the same files.
    let files = dir.path().join("extracted");
    extract(&bundle, &files);
    std::fs::copy(pki.path("ca.pem"), files.join("tsa-ca.pem")).unwrap();
    let out = openssl(
        &files,
        &[
            "ts",
            "-verify",
            "-in",
            TOKEN,
            "-data",
            "MANIFEST.sha256",
            "-CAfile",
            "tsa-ca.pem",
        ],
    );
    assert!(out.contains("Verification: OK"), "{out}");
    let text = openssl(&files, &["ts", "-reply", "-in", TOKEN, "-text"]);
    assert!(text.contains("Time stamp:"), "{text}");

    // An unstamped bundle still verifies as before, and asking for the TSA check on it fails.
    let plain = dir.path().join("plain.zip");
    let (code, ..) = phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        plain.to_str().unwrap(),
        "--generated-at",
        "2026-10-02T09:00:00Z",
    ]);
    assert_eq!(code, 0);
    let (code, stdout, _) = verify(&plain, None);
    assert_eq!(code, 0, "{stdout}");
    assert!(!stdout.contains("timestamp"), "{stdout}");
    let (code, stdout, _) = verify(&plain, Some(&pki.path("ca.pem")));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("timestamp: MISSING"), "{stdout}");
}

#[test]
fn a_token_over_another_manifest_is_rejected() {
    let pki = Pki::new();
    let tsa = LocalTsa::start(&pki, Answer::Sign("tsa.pem"));
    let (dir, snapshot) = snapshot();
    let first = dir.path().join("first.zip");
    let second = dir.path().join("second.zip");
    assert_eq!(report(&snapshot, &first, "2026-10-02T09:00:00Z", &tsa).0, 0);
    assert_eq!(
        report(&snapshot, &second, "2026-10-03T09:00:00Z", &tsa).0,
        0
    );
    let other_token = entry(&second, TOKEN);
    let swapped = dir.path().join("swapped.zip");
    rewrite(&first, &swapped, |entries| {
        let token = entries.iter_mut().find(|e| e.name == TOKEN).unwrap();
        token.data = other_token.clone();
    });
    for cert in [Some(pki.path("ca.pem")), None] {
        let (code, stdout, _) = verify(&swapped, cert.as_deref());
        assert_eq!(code, 1, "{stdout}");
        assert!(
            stdout.contains("timestamp: INVALID: message imprint"),
            "{stdout}"
        );
        assert!(stdout.contains("TAMPERED"), "{stdout}");
    }

    // A token whose TSTInfo was altered after signing fails the signature check.
    let mut altered = entry(&first, TOKEN);
    let at = altered
        .windows(6)
        .position(|w| w == [0x06, 0x04, 0x2A, 0x03, 0x04, 0x01])
        .expect("the policy OID 1.2.3.4.1 is in the token");
    altered[at + 5] ^= 0x01; // the policy OID's last arc: 1.2.3.4.1 becomes 1.2.3.4.0
    let tampered = dir.path().join("altered.zip");
    rewrite(&first, &tampered, |entries| {
        entries.iter_mut().find(|e| e.name == TOKEN).unwrap().data = altered.clone();
    });
    let (code, stdout, _) = verify(&tampered, Some(&pki.path("ca.pem")));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("timestamp: INVALID: signature"), "{stdout}");
}

#[test]
fn a_wrong_or_expired_tsa_certificate_is_rejected() {
    let pki = Pki::new();
    let tsa = LocalTsa::start(&pki, Answer::Sign("tsa.pem"));
    let (dir, snapshot) = snapshot();
    let bundle = dir.path().join("bundle.zip");
    assert_eq!(
        report(&snapshot, &bundle, "2026-10-02T09:00:00Z", &tsa).0,
        0
    );
    let (code, stdout, _) = verify(&bundle, Some(&pki.path("other-ca.pem")));
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("timestamp: INVALID: certificate chain"),
        "{stdout}"
    );

    // Signed with a certificate whose validity ended before the token's time.
    tsa.answer(Answer::Sign("tsa-expired.pem"));
    let expired = dir.path().join("expired.zip");
    assert_eq!(
        report(&snapshot, &expired, "2026-10-02T09:00:00Z", &tsa).0,
        0
    );
    let (code, stdout, _) = verify(&expired, Some(&pki.path("ca.pem")));
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("timestamp: INVALID: validity"), "{stdout}");
    assert!(stdout.contains("2021-01-01T00:00:00Z"), "{stdout}");

    // (A certificate without the timeStamping usage: `openssl ts -reply` will not sign with one;
    // src/timestamp.rs tests that check.)
}

#[test]
fn a_failing_tsa_fails_the_report_and_leaves_no_bundle() {
    let pki = Pki::new();
    let tsa = LocalTsa::start(&pki, Answer::Http500);
    let (dir, snapshot) = snapshot();
    let bundle = dir.path().join("bundle.zip");
    let (code, stdout, stderr) = report(&snapshot, &bundle, "2026-10-02T09:00:00Z", &tsa);
    // A TSA that fails is the environment failing (exit 74), not bad input.
    assert_eq!(code, 74, "{stdout}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    assert!(stderr.contains("no bundle was written"), "{stderr}");

    tsa.answer(Answer::Rejection);
    let (code, _, stderr) = report(&snapshot, &bundle, "2026-10-02T09:00:00Z", &tsa);
    assert_eq!(code, 74);
    assert!(
        stderr.contains("did not grant") && stderr.contains("unaccepted policy"),
        "{stderr}"
    );

    // Nobody listening: a connection error, quickly.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/tsa", closed.local_addr().unwrap());
    drop(closed);
    let (code, _, stderr) = phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--timestamp-url",
        &url,
    ]);
    assert_eq!(code, 74);
    assert!(stderr.contains("cannot connect"), "{stderr}");

    // https is refused before any work, with the reason.
    let (code, _, stderr) = phi_audit(&[
        "report",
        snapshot.to_str().unwrap(),
        "--out",
        bundle.to_str().unwrap(),
        "--timestamp-url",
        "https://tsa.example/",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("https is not supported"), "{stderr}");

    // No bundle and no temp file was left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "snapshot")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
