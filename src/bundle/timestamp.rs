//! RFC 3161 trusted timestamps for the evidence bundle: owns the time-stamp request, the HTTP
//! exchange with a time-stamping authority (TSA), the checks a reply must pass before it is
//! stored as `MANIFEST.sha256.tsr`, and the verification of a stored token.
//!
//! The token is the TSA's signed statement "this SHA-256 existed at this time". It is stored as
//! the whole `TimeStampResp` DER, which is what `openssl ts -verify -in` reads, so an auditor can
//! check it without phi-audit.
//!
//! Verification ([`check_token`]) performs, in order, and names the one that failed:
//! 1. format: a granted `TimeStampResp` holding CMS `SignedData` over an `id-ct-TSTInfo`;
//! 2. message imprint: the token's hash is the SHA-256 of the bundle's `MANIFEST.sha256`;
//! 3. signature: the signed attributes carry content-type `id-ct-TSTInfo` and the digest of the
//!    TSTInfo, and the signer certificate's key verifies the signature over them;
//! 4. certificate chain: the signer certificate is, or is issued (through certificates carried
//!    in the token) by, a certificate of `--tsa-cert`;
//! 5. extended key usage: the signer certificate has a critical EKU with `id-kp-timeStamping`;
//! 6. validity: the token's time lies within the signer certificate's validity.
//!
//! Steps 4 to 6 need the TSA's certificate from outside the bundle; without it the token's time
//! is reported as unchecked. Revocation (CRL/OCSP) is not checked.
//!
//! Signatures: RSA PKCS #1 v1.5 with SHA-256/384/512 (what `openssl ts` and the public TSAs
//! use). The HTTP client speaks plain `http://` only: a token is self-authenticating, so TLS
//! would add a second TLS stack to phi-audit for no extra assurance.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{Any, Int, OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode, Sequence, Tag, Tagged};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::Certificate;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion};

/// How long the whole exchange with the TSA may take.
pub const TSA_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest reply read from a TSA (a real one is a few kilobytes).
const REPLY_LIMIT: usize = 1 << 20;

const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ID_KP_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

/// Why a timestamp could not be obtained, or the TSA certificate could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    #[error("--timestamp-url {url}: {why}")]
    Url { url: String, why: String },
    #[error("time-stamping authority {url}: {why}; no bundle was written")]
    Exchange { url: String, why: String },
    #[error(
        "time-stamping authority {url} did not grant a timestamp: {why}; no bundle was written"
    )]
    Refused { url: String, why: String },
    #[error("time-stamping authority {url}: the reply is not a usable RFC 3161 token: {why}; no bundle was written")]
    BadReply { url: String, why: String },
    #[error("--tsa-cert {path}: {why}")]
    TsaCert { path: PathBuf, why: String },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// A token check that failed: which check, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {why}")]
pub struct BadToken {
    pub check: &'static str,
    pub why: String,
}

fn bad(check: &'static str, why: impl Into<String>) -> BadToken {
    BadToken {
        check,
        why: why.into(),
    }
}

/// What a token attests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attested {
    /// The token's genTime, RFC 3339 UTC.
    pub gen_time: String,
    /// The signer certificate's subject (RFC 4514), or the token's `tsa` name when the
    /// certificate is not at hand.
    pub tsa: String,
    /// The token's serial number, hex.
    pub serial: String,
}

/// A token obtained from a TSA, checked against the request, ready to store.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The whole `TimeStampResp` DER: the bytes of `MANIFEST.sha256.tsr`.
    pub response_der: Vec<u8>,
    pub attested: Attested,
}

/// Something that can timestamp the manifest bytes (the HTTP client; tests may substitute).
pub trait Timestamper {
    fn stamp(&self, manifest: &[u8]) -> Result<Stamp, TimestampError>;
    /// Where timestamps come from, for the bundle's README.
    fn source(&self) -> &str;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// x509-tsp's `TstInfo` with genTime kept raw: der 0.7's `GeneralizedTime` refuses fractional
/// seconds, which RFC 3161 allows and several public TSAs send.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct TstInfo {
    version: TspVersion,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: Any,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(default = "Default::default")]
    ordering: bool,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<x509_cert::ext::pkix::name::GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<x509_cert::ext::Extensions>,
}

/// A token taken apart.
struct Token {
    tst_info: TstInfo,
    /// The eContent octets: what the message-digest attribute covers.
    tst_der: Vec<u8>,
    gen_time: DateTime<Utc>,
    signer: SignerInfo,
    certificates: Vec<Certificate>,
}

/// The status of a reply, with the TSA's own words when it refused.
fn granted(response: &TimeStampResp<'_>) -> Result<(), String> {
    use cmpv2::status::PkiStatus;
    let status = response.status.status;
    if matches!(status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
        return Ok(());
    }
    let text: Vec<String> = response
        .status
        .status_string
        .iter()
        .flatten()
        .map(|s| s.as_str().to_string())
        .collect();
    let fail: Vec<String> = response
        .status
        .fail_info
        .iter()
        .flat_map(|flags| flags.into_iter())
        .map(|flag| format!("{flag:?}"))
        .collect();
    let mut why = format!("status {status:?}");
    if !text.is_empty() {
        why.push_str(&format!(", \"{}\"", text.join("; ")));
    }
    if !fail.is_empty() {
        why.push_str(&format!(", failure {}", fail.join(", ")));
    }
    Err(why)
}

/// Parses a `TimeStampResp` (status must be granted) down to its TSTInfo and signer.
fn parse_response(response_der: &[u8]) -> Result<Token, BadToken> {
    let format = |why: String| bad("format", why);
    let response = TimeStampResp::from_der(response_der)
        .map_err(|e| format(format!("not a DER TimeStampResp ({e})")))?;
    granted(&response).map_err(|why| format(format!("the TSA did not grant it: {why}")))?;
    let token = response
        .time_stamp_token
        .ok_or_else(|| format("the response holds no timeStampToken".into()))?;
    parse_token(&token)
}

fn parse_token(token: &ContentInfo) -> Result<Token, BadToken> {
    let format = |why: String| bad("format", why);
    if token.content_type != ID_SIGNED_DATA {
        return Err(format(format!(
            "the token is {}, not CMS SignedData",
            token.content_type
        )));
    }
    let signed: SignedData = token
        .content
        .decode_as()
        .map_err(|e| format(format!("the SignedData cannot be read ({e})")))?;
    if signed.encap_content_info.econtent_type != ID_CT_TST_INFO {
        return Err(format(format!(
            "the signed content is {}, not id-ct-TSTInfo",
            signed.encap_content_info.econtent_type
        )));
    }
    let econtent = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| format("the TSTInfo is missing (detached content)".into()))?;
    let tst_der = econtent
        .decode_as::<OctetString>()
        .map_err(|e| format(format!("the eContent is not an OCTET STRING ({e})")))?
        .into_bytes();
    let tst_info = TstInfo::from_der(&tst_der)
        .map_err(|e| format(format!("the TSTInfo cannot be read ({e})")))?;
    let gen_time = parse_generalized_time(&tst_info.gen_time).map_err(format)?;
    let mut signers = signed.signer_infos.0.into_vec();
    if signers.len() != 1 {
        return Err(format(format!(
            "a time-stamp token has exactly one signer, this one has {}",
            signers.len()
        )));
    }
    let certificates = signed
        .certificates
        .map(|set| set.0.into_vec())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    Ok(Token {
        tst_info,
        tst_der,
        gen_time,
        signer: signers.remove(0),
        certificates,
    })
}

/// `YYYYMMDDHHMMSS[.f*]Z`, the only GeneralizedTime form RFC 3161 allows.
fn parse_generalized_time(value: &Any) -> Result<DateTime<Utc>, String> {
    if value.tag() != Tag::GeneralizedTime {
        return Err(format!(
            "genTime is a {}, not a GeneralizedTime",
            value.tag()
        ));
    }
    let text =
        std::str::from_utf8(value.value()).map_err(|_| "genTime is not ASCII".to_string())?;
    let body = text
        .strip_suffix('Z')
        .ok_or_else(|| format!("genTime {text:?} is not in UTC (no trailing Z)"))?;
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.len() != 14 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("genTime {text:?} is not YYYYMMDDHHMMSS[.fff]Z"));
    }
    let seconds = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S")
        .map_err(|_| format!("genTime {text:?} is not a valid time"))?;
    let nanos: u32 = if fraction.is_empty() {
        0
    } else {
        let digits: String = fraction
            .chars()
            .chain("000000000".chars())
            .take(9)
            .collect();
        digits.parse().unwrap_or(0)
    };
    Ok(seconds.and_utc() + chrono::Duration::nanoseconds(i64::from(nanos)))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Signatures

fn digest_with(algorithm: &ObjectIdentifier, data: &[u8]) -> Result<Vec<u8>, String> {
    Ok(match *algorithm {
        ID_SHA256 => Sha256::digest(data).to_vec(),
        ID_SHA384 => Sha384::digest(data).to_vec(),
        ID_SHA512 => Sha512::digest(data).to_vec(),
        other => return Err(format!("digest algorithm {other} is not supported")),
    })
}

/// Verifies `signature` over `message` with the key in `spki`. `digest` is the digest algorithm
/// when the signature algorithm does not name one (CMS `rsaEncryption`).
fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    signature_algorithm: &AlgorithmIdentifierOwned,
    digest: Option<&ObjectIdentifier>,
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::{Pkcs1v15Sign, RsaPublicKey};
    let digest = match signature_algorithm.oid {
        SHA256_WITH_RSA => ID_SHA256,
        SHA384_WITH_RSA => ID_SHA384,
        SHA512_WITH_RSA => ID_SHA512,
        RSA_ENCRYPTION => *digest.ok_or("rsaEncryption without a digest algorithm")?,
        other => {
            return Err(format!(
                "signature algorithm {other} is not supported (phi-audit checks RSA PKCS #1 v1.5)"
            ))
        }
    };
    if spki.algorithm.oid != RSA_ENCRYPTION {
        return Err(format!(
            "the signer's key is {}, not an RSA key",
            spki.algorithm.oid
        ));
    }
    let key = RsaPublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes())
        .map_err(|e| format!("the signer's RSA key cannot be read ({e})"))?;
    let hashed = digest_with(&digest, message)?;
    let scheme = match digest {
        ID_SHA256 => Pkcs1v15Sign::new::<Sha256>(),
        ID_SHA384 => Pkcs1v15Sign::new::<Sha384>(),
        _ => Pkcs1v15Sign::new::<Sha512>(),
    };
    key.verify(scheme, &hashed, signature)
        .map_err(|_| "the signature does not verify with the signer's key".to_string())
}

/// Whether `cert` is the signer `sid` names.
fn is_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(id) => {
            id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => matches!(
            tbs.get::<SubjectKeyIdentifier>(),
            Ok(Some((_, own))) if own == *ski
        ),
    }
}

/// The value of the one signed attribute `oid`.
fn signed_attribute<'a>(
    attributes: &'a SetOfVec<x509_cert::attr::Attribute>,
    oid: ObjectIdentifier,
    name: &str,
) -> Result<&'a Any, BadToken> {
    let mut found = attributes.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(attribute), None) if attribute.values.len() == 1 => {
            Ok(attribute.values.iter().next().expect("length checked"))
        }
        (None, _) => Err(bad("signature", format!("the {name} attribute is missing"))),
        _ => Err(bad(
            "signature",
            format!("the {name} attribute appears more than once"),
        )),
    }
}

/// Step 3: the signed attributes bind the TSTInfo, and the signer's key signed them.
fn check_signature(token: &Token, signer_cert: &Certificate) -> Result<(), BadToken> {
    let signer = &token.signer;
    let attributes = signer.signed_attrs.as_ref().ok_or_else(|| {
        bad(
            "signature",
            "the token has no signed attributes (RFC 3161 requires them)",
        )
    })?;
    let content_type: ObjectIdentifier =
        signed_attribute(attributes, ID_CONTENT_TYPE, "content-type")?
            .decode_as()
            .map_err(|e| bad("signature", format!("content-type attribute ({e})")))?;
    if content_type != ID_CT_TST_INFO {
        return Err(bad(
            "signature",
            format!("the signed content-type is {content_type}, not id-ct-TSTInfo"),
        ));
    }
    let signed_digest: OctetString =
        signed_attribute(attributes, ID_MESSAGE_DIGEST, "message-digest")?
            .decode_as()
            .map_err(|e| bad("signature", format!("message-digest attribute ({e})")))?;
    let actual =
        digest_with(&signer.digest_alg.oid, &token.tst_der).map_err(|why| bad("signature", why))?;
    if signed_digest.as_bytes() != actual.as_slice() {
        return Err(bad(
            "signature",
            "the signed message-digest is not the digest of the TSTInfo (the token was altered)",
        ));
    }
    // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
    let signed_bytes = attributes.to_der().map_err(|e| {
        bad(
            "signature",
            format!("the signed attributes cannot be encoded ({e})"),
        )
    })?;
    verify_signature(
        &signer_cert.tbs_certificate.subject_public_key_info,
        &signer.signature_algorithm,
        Some(&signer.digest_alg.oid),
        &signed_bytes,
        signer.signature.as_bytes(),
    )
    .map_err(|why| bad("signature", why))
}

/// Whether `issuer` signed `cert`.
fn issued_by(cert: &Certificate, issuer: &Certificate) -> bool {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let (Ok(tbs), Some(signature)) = (cert.tbs_certificate.to_der(), cert.signature.as_bytes())
    else {
        return false;
    };
    verify_signature(
        &issuer.tbs_certificate.subject_public_key_info,
        &cert.signature_algorithm,
        None,
        &tbs,
        signature,
    )
    .is_ok()
}

/// Step 4: from the signer certificate up to a trusted one, through the token's certificates.
fn check_chain(
    signer: &Certificate,
    token_certs: &[Certificate],
    trust: &TsaTrust,
) -> Result<(), BadToken> {
    let mut current = signer.clone();
    // A TSA chain is short; the bound also stops a loop of certificates naming each other.
    for _ in 0..8 {
        if trust.certificates.contains(&current) {
            return Ok(());
        }
        if trust.certificates.iter().any(|t| issued_by(&current, t)) {
            return Ok(());
        }
        match token_certs
            .iter()
            .find(|c| **c != current && issued_by(&current, c))
        {
            Some(next) => current = next.clone(),
            None => break,
        }
    }
    Err(bad(
        "certificate chain",
        format!(
            "the TSA certificate {} (issued by {}) is not, and is not issued by, a certificate in {}",
            signer.tbs_certificate.subject,
            signer.tbs_certificate.issuer,
            trust.source.display()
        ),
    ))
}

/// Step 5: a critical EKU that allows time stamping.
fn check_key_usage(signer: &Certificate) -> Result<(), BadToken> {
    match signer.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((critical, usage))) => {
            if !usage.0.contains(&ID_KP_TIME_STAMPING) {
                Err(bad(
                    "extended key usage",
                    "the TSA certificate's extended key usage does not include timeStamping",
                ))
            } else if !critical {
                Err(bad(
                    "extended key usage",
                    "the TSA certificate's extended key usage is not critical (RFC 3161 §2.3)",
                ))
            } else {
                Ok(())
            }
        }
        Ok(None) => Err(bad(
            "extended key usage",
            "the TSA certificate has no extended key usage (timeStamping is required)",
        )),
        Err(e) => Err(bad(
            "extended key usage",
            format!("the extension cannot be read ({e})"),
        )),
    }
}

/// Step 6: the token's time within the signer certificate's validity.
fn check_validity(signer: &Certificate, gen_time: DateTime<Utc>) -> Result<(), BadToken> {
    let validity = &signer.tbs_certificate.validity;
    let to_utc = |t: &x509_cert::time::Time| {
        let d = t.to_unix_duration();
        DateTime::<Utc>::from_timestamp(d.as_secs() as i64, 0).unwrap_or_default()
    };
    let (from, until) = (to_utc(&validity.not_before), to_utc(&validity.not_after));
    if gen_time < from || gen_time > until {
        return Err(bad(
            "validity",
            format!(
                "the token's time {} is outside the TSA certificate's validity {} to {}",
                rfc3339(gen_time),
                rfc3339(from),
                rfc3339(until)
            ),
        ));
    }
    Ok(())
}

/// The TSA certificates `--tsa-cert` names: the TSA's own certificate or its issuing CA.
#[derive(Debug, Clone)]
pub struct TsaTrust {
    pub certificates: Vec<Certificate>,
    pub source: PathBuf,
}

impl TsaTrust {
    /// Reads PEM (one or more certificates) or a single DER certificate.
    pub fn load(path: &Path) -> Result<TsaTrust, TimestampError> {
        let cert_error = |why: String| TimestampError::TsaCert {
            path: path.to_path_buf(),
            why,
        };
        let bytes = std::fs::read(path).map_err(|e| cert_error(e.to_string()))?;
        let certificates =
            if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
                Certificate::load_pem_chain(&bytes)
                    .map_err(|e| cert_error(format!("not a PEM certificate file ({e})")))?
            } else {
                vec![Certificate::from_der(&bytes)
                    .map_err(|e| cert_error(format!("neither PEM nor a DER certificate ({e})")))?]
            };
        if certificates.is_empty() {
            return Err(cert_error("holds no certificate".to_string()));
        }
        Ok(TsaTrust {
            certificates,
            source: path.to_path_buf(),
        })
    }
}

/// Checks a stored token (the whole `TimeStampResp` DER) against the manifest bytes. With
/// `trust`, every check of the module documentation runs; without it, only format, imprint and
/// (when the token carries its signer certificate) signature, and the result is not trusted.
pub fn check_token(
    response_der: &[u8],
    manifest: &[u8],
    trust: Option<&TsaTrust>,
) -> Result<Attested, BadToken> {
    let token = parse_response(response_der)?;
    let imprint = &token.tst_info.message_imprint;
    let expected = digest_with(&imprint.hash_algorithm.oid, manifest)
        .map_err(|why| bad("message imprint", why))?;
    if imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err(bad(
            "message imprint",
            "the token is over a different MANIFEST.sha256 (its hash is not the manifest's)",
        ));
    }
    let trusted_certs: &[Certificate] = trust.map(|t| t.certificates.as_slice()).unwrap_or(&[]);
    let signer_cert = token
        .certificates
        .iter()
        .chain(trusted_certs)
        .find(|c| is_signer(c, &token.signer.sid))
        .cloned();
    let mut tsa = token
        .tst_info
        .tsa
        .as_ref()
        .map(|name| match name {
            x509_cert::ext::pkix::name::GeneralName::DirectoryName(dn) => dn.to_string(),
            other => format!("{other:?}"),
        })
        .unwrap_or_else(|| "an unnamed TSA".to_string());
    match (&signer_cert, trust) {
        (Some(cert), _) => {
            check_signature(&token, cert)?;
            tsa = cert.tbs_certificate.subject.to_string();
        }
        (None, Some(_)) => {
            return Err(bad(
                "certificate chain",
                "the token does not carry its signer certificate and --tsa-cert is not it; give the TSA's own certificate",
            ))
        }
        (None, None) => {}
    }
    if let (Some(cert), Some(trust)) = (&signer_cert, trust) {
        check_chain(cert, &token.certificates, trust)?;
        check_key_usage(cert)?;
        check_validity(cert, token.gen_time)?;
    }
    Ok(Attested {
        gen_time: rfc3339(token.gen_time),
        tsa,
        serial: hex_upper(token.tst_info.serial_number.as_bytes()),
    })
}

// ---------------------------------------------------------------------------------------------
// Request and exchange

/// The DER of a TimeStampReq v1 for the SHA-256 `digest`, with `nonce` and certReq TRUE.
pub fn request_der(digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let request = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: MessageImprint {
            // NULL parameters, as `openssl ts -query` writes: every TSA accepts that form.
            hash_algorithm: spki::AlgorithmIdentifier {
                oid: ID_SHA256,
                parameters: Some(Any::null()),
            },
            hashed_message: OctetString::new(digest.to_vec()).expect("32 bytes fit"),
        },
        req_policy: None,
        nonce: Some(nonce_int(nonce)),
        cert_req: true,
        extensions: None,
    };
    request.to_der().expect("a fixed-shape request encodes")
}

/// A positive INTEGER in its minimal (DER) form: leading zero bytes dropped, one kept where the
/// first remaining byte's high bit would otherwise read as negative.
fn nonce_int(nonce: u64) -> Int {
    let bytes = nonce.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut minimal = Vec::with_capacity(9);
    if bytes[first] & 0x80 != 0 {
        minimal.push(0);
    }
    minimal.extend_from_slice(&bytes[first..]);
    Int::new(&minimal).expect("nine bytes fit")
}

/// The value of a positive INTEGER's bytes, ignoring leading zero bytes.
fn int_value(int: &Int) -> &[u8] {
    let bytes = int.as_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Checks a TSA's reply to the request for `digest` with `nonce`: granted, over that digest,
/// with that nonce, and (when the token carries its certificate) correctly signed.
pub fn check_reply(
    response_der: &[u8],
    manifest: &[u8],
    nonce: u64,
) -> Result<Attested, (bool, String)> {
    // `(true, why)`: the TSA refused; `(false, why)`: the reply is unusable.
    if let Ok(response) = TimeStampResp::from_der(response_der) {
        granted(&response).map_err(|why| (true, why))?;
    }
    let token = parse_response(response_der).map_err(|e| (false, e.to_string()))?;
    let sent = nonce_int(nonce);
    match &token.tst_info.nonce {
        Some(got) if int_value(got) == int_value(&sent) => {}
        Some(_) => {
            return Err((
                false,
                "the token's nonce is not the request's (a replayed or misdirected reply)"
                    .to_string(),
            ))
        }
        None => {
            return Err((
                false,
                "the token has no nonce, though the request had one".to_string(),
            ))
        }
    }
    check_token(response_der, manifest, None).map_err(|e| (false, e.to_string()))
}

/// An RFC 3161 client over plain HTTP/1.1.
#[derive(Debug, Clone)]
pub struct TsaClient {
    url: String,
    host: String,
    port: u16,
    path: String,
    timeout: Duration,
}

impl TsaClient {
    /// Parses `http://host[:port][/path]`; `https://` is refused with the reason.
    pub fn new(url: &str) -> Result<TsaClient, TimestampError> {
        let url_error = |why: &str| TimestampError::Url {
            url: url.to_string(),
            why: why.to_string(),
        };
        if url.len() >= 8 && url[..8].eq_ignore_ascii_case("https://") {
            return Err(url_error(
                "https is not supported: RFC 3161 tokens are signed by the TSA and checked on their own, \
                 so phi-audit speaks plain http (most TSAs serve it) rather than carry a second TLS stack; \
                 use the TSA's http:// address",
            ));
        }
        let rest = url
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])
            .ok_or_else(|| url_error("not an http:// URL"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) if rest.as_bytes()[at] == b'/' => (&rest[..at], rest[at..].to_string()),
            Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
            None => (rest, "/".to_string()),
        };
        if authority.contains('@') {
            return Err(url_error("credentials in the URL are not supported"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| url_error("the port is not a number from 1 to 65535"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        if host.is_empty() || path.contains(char::is_whitespace) {
            return Err(url_error("no host, or a space in the URL"));
        }
        Ok(TsaClient {
            url: url.to_string(),
            host: host.to_string(),
            port,
            path,
            timeout: TSA_TIMEOUT,
        })
    }

    /// The same client with another deadline for the whole exchange.
    pub fn with_timeout(mut self, timeout: Duration) -> TsaClient {
        self.timeout = timeout;
        self
    }

    fn exchange_error(&self, why: impl Into<String>) -> TimestampError {
        TimestampError::Exchange {
            url: self.url.clone(),
            why: why.into(),
        }
    }

    /// POSTs `body` as `application/timestamp-query`; returns the 200 reply's body.
    fn post(&self, body: &[u8]) -> Result<Vec<u8>, TimestampError> {
        let deadline = Instant::now() + self.timeout;
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<_> = (host, self.port)
            .to_socket_addrs()
            .map_err(|e| self.exchange_error(format!("cannot resolve {host}: {e}")))?
            .collect();
        let mut stream = None;
        let mut last_error = None;
        for address in &addresses {
            match TcpStream::connect_timeout(address, self.timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let mut stream = stream.ok_or_else(|| {
            self.exchange_error(format!(
                "cannot connect: {}",
                last_error
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "no address".into())
            ))
        })?;
        let remaining = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        };
        let io = |e: std::io::Error| {
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) {
                self.exchange_error(format!("no answer within {} s", self.timeout.as_secs()))
            } else {
                self.exchange_error(e.to_string())
            }
        };
        stream.set_write_timeout(Some(remaining())).map_err(io)?;
        let host_header = if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: phi-audit/{}\r\n\
             Content-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut reply = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            if Instant::now() >= deadline {
                return Err(self.exchange_error(format!(
                    "no complete answer within {} s",
                    self.timeout.as_secs()
                )));
            }
            stream.set_read_timeout(Some(remaining())).map_err(io)?;
            let n = stream.read(&mut buffer).map_err(io)?;
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buffer[..n]);
            if reply.len() > REPLY_LIMIT {
                return Err(self.exchange_error("the answer is larger than 1 MiB"));
            }
        }
        parse_http_reply(&reply).map_err(|why| self.exchange_error(why))
    }
}

/// The body of a `200` HTTP/1.1 reply read to the end of the connection.
fn parse_http_reply(reply: &[u8]) -> Result<Vec<u8>, String> {
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not an HTTP reply (no end of headers)")?;
    let head = String::from_utf8_lossy(&reply[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let (version, code, reason) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    if !version.is_some_and(|v| v.starts_with("HTTP/1.")) {
        return Err(format!("the answer is not HTTP/1.x: {status_line:?}"));
    }
    if code != Some("200") {
        let redirect = if code.is_some_and(|c| c.starts_with('3')) {
            " (redirects are not followed: give the final http:// address)"
        } else {
            ""
        };
        return Err(format!(
            "HTTP {} {}{redirect}",
            code.unwrap_or("?"),
            reason.trim()
        ));
    }
    let mut content_length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length {value:?}"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = &reply[end + 4..];
    if chunked {
        return dechunk(body);
    }
    match content_length {
        Some(length) if body.len() < length => Err(format!(
            "the answer ended after {} of {length} bytes",
            body.len()
        )),
        Some(length) => Ok(body[..length].to_vec()),
        None => Ok(body.to_vec()),
    }
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunked answer ended early")?;
        let size_text = String::from_utf8_lossy(&body[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size + 2 {
            return Err("a chunked answer ended early".to_string());
        }
        out.extend_from_slice(&body[..size]);
        body = &body[size + 2..];
    }
}

impl Timestamper for TsaClient {
    fn stamp(&self, manifest: &[u8]) -> Result<Stamp, TimestampError> {
        let digest: [u8; 32] = Sha256::digest(manifest).into();
        let mut nonce_bytes = [0u8; 8];
        getrandom::fill(&mut nonce_bytes).map_err(|e| TimestampError::Random(e.to_string()))?;
        let nonce = u64::from_be_bytes(nonce_bytes);
        let response_der = self.post(&request_der(&digest, nonce))?;
        match check_reply(&response_der, manifest, nonce) {
            Ok(attested) => Ok(Stamp {
                response_der,
                attested,
            }),
            Err((true, why)) => Err(TimestampError::Refused {
                url: self.url.clone(),
                why,
            }),
            Err((false, why)) => Err(TimestampError::BadReply {
                url: self.url.clone(),
                why,
            }),
        }
    }

    fn source(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::DecodePem;

    #[test]
    fn urls_are_parsed_and_https_is_refused_with_the_reason() {
        let client = TsaClient::new("http://127.0.0.1:3180/tsa?x=1").unwrap();
        assert_eq!(
            (client.host.as_str(), client.port, client.path.as_str()),
            ("127.0.0.1", 3180, "/tsa?x=1")
        );
        let client = TsaClient::new("http://timestamp.example").unwrap();
        assert_eq!((client.port, client.path.as_str()), (80, "/"));
        let err = TsaClient::new("https://tsa.example/")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("https is not supported") && err.contains("http://"),
            "{err}"
        );
        assert!(TsaClient::new("ftp://x").is_err());
        assert!(TsaClient::new("http://host:99999/").is_err());
    }

    #[test]
    fn the_request_matches_what_openssl_writes() {
        // `openssl ts -query -digest <sha256 of "abc"> -sha256 -cert` with nonce 0x314CFCE4E0651827
        // gives this DER (x509-tsp's test vector, with certReq TRUE added).
        let digest: [u8; 32] = Sha256::digest(b"abc").into();
        let der = request_der(&digest, 0x314C_FCE4_E065_1827);
        let parsed = TimeStampReq::from_der(&der).unwrap();
        assert!(parsed.cert_req);
        assert_eq!(parsed.message_imprint.hashed_message.as_bytes(), digest);
        assert_eq!(
            int_value(parsed.nonce.as_ref().unwrap()),
            [0x31, 0x4C, 0xFC, 0xE4, 0xE0, 0x65, 0x18, 0x27]
        );
        // A nonce with the high bit set stays positive.
        let der = request_der(&digest, u64::MAX);
        let parsed = TimeStampReq::from_der(&der).unwrap();
        assert_eq!(
            parsed.nonce.unwrap().as_bytes(),
            [0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        // Small nonces are minimal too (DER refuses redundant leading zeros).
        let der = request_der(&digest, 5);
        assert_eq!(
            TimeStampReq::from_der(&der)
                .unwrap()
                .nonce
                .unwrap()
                .as_bytes(),
            [5]
        );
    }

    #[test]
    fn generalized_time_accepts_fractions_and_refuses_local_time() {
        let time = |s: &str| {
            parse_generalized_time(&Any::new(Tag::GeneralizedTime, s.as_bytes()).unwrap())
        };
        assert_eq!(
            rfc3339(time("20261002090000Z").unwrap()),
            "2026-10-02T09:00:00Z"
        );
        assert_eq!(
            rfc3339(time("20261002090000.25Z").unwrap()),
            "2026-10-02T09:00:00.250Z"
        );
        assert!(time("20261002090000").is_err());
        assert!(time("20261302090000Z").is_err());
    }

    #[test]
    fn http_replies_are_read_with_length_or_chunks_and_errors_name_the_status() {
        assert_eq!(
            parse_http_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef").unwrap(),
            b"abc"
        );
        assert_eq!(
            parse_http_reply(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
                .unwrap(),
            b"abc"
        );
        let err = parse_http_reply(b"HTTP/1.1 500 Internal Server Error\r\n\r\n").unwrap_err();
        assert_eq!(err, "HTTP 500 Internal Server Error");
        assert!(parse_http_reply(b"HTTP/1.1 301 Moved\r\n\r\n")
            .unwrap_err()
            .contains("redirects"));
        assert!(
            parse_http_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
                .unwrap_err()
                .contains("3 of 9")
        );
    }

    #[test]
    fn a_silent_tsa_times_out_with_a_clear_message() {
        // The kernel completes the connection from the backlog; nobody ever answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let client = TsaClient::new(&url)
            .unwrap()
            .with_timeout(Duration::from_millis(300));
        let err = client.stamp(b"manifest").unwrap_err().to_string();
        assert!(
            err.contains("no answer within") || err.contains("no complete answer"),
            "{err}"
        );
        assert!(err.contains("no bundle was written"), "{err}");
        drop(listener);
    }

    #[test]
    fn garbage_is_a_format_error() {
        let err = check_token(b"not der", b"manifest", None).unwrap_err();
        assert_eq!(err.check, "format");
    }

    /// Self-signed P-256 certificates (`openssl req -x509 -addext extendedKeyUsage=...`): only
    /// their extensions matter here. `openssl ts -reply` refuses to sign with the first two, so
    /// the integration tests cannot make such tokens.
    const EKU_SERVER_AUTH: &str = "-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIUX8u0rZM6N3sJZY7CHNMZh3U+nyswCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOZWt1IHNlcnZlckF1dGgwIBcNMjYxMjAxMjAyNDU1WhgPMjEy
NjExMDcyMDI0NTVaMBkxFzAVBgNVBAMMDmVrdSBzZXJ2ZXJBdXRoMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEHFgzO2bfDd//K+iSY45KxMYM2QG2SDfEbhYF3XVH
tTjoLGDZamN+e2oEOCfROjBL52O7qQ/etiaKW8zXQxd4zKNoMGYwHQYDVR0OBBYE
FCwfPstybdaqh0mD0D0Hb3cx47+nMB8GA1UdIwQYMBaAFCwfPstybdaqh0mD0D0H
b3cx47+nMA8GA1UdEwEB/wQFMAMBAf8wEwYDVR0lBAwwCgYIKwYBBQUHAwEwCgYI
KoZIzj0EAwIDSAAwRQIhAPgLcsj8Ea2tAL9D2jOi1/1SUPgrbHiTlDrVu2EOqUvq
AiAEASpyuSthtyhOvSddJxduYl/f7ag+PAVo1qTLSXW3hw==
-----END CERTIFICATE-----\n";
    const EKU_NON_CRITICAL: &str = "-----BEGIN CERTIFICATE-----
MIIBoTCCAUigAwIBAgIUBItUgMpqRS1PLlRE/CdvV9PrGPkwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZWt1IHRpbWVTdGFtcGluZzAgFw0yNjEyMDEyMDI0NTVaGA8y
MTI2MTEwNzIwMjQ1NVowGzEZMBcGA1UEAwwQZWt1IHRpbWVTdGFtcGluZzBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABBxYMztm3w3f/yvokmOOSsTGDNkBtkg3xG4W
Bd11R7U46Cxg2WpjfntqBDgn0TowS+dju6kP3rYmilvM10MXeMyjaDBmMB0GA1Ud
DgQWBBQsHz7Lcm3WqodJg9A9B293MeO/pzAfBgNVHSMEGDAWgBQsHz7Lcm3WqodJ
g9A9B293MeO/pzAPBgNVHRMBAf8EBTADAQH/MBMGA1UdJQQMMAoGCCsGAQUFBwMI
MAoGCCqGSM49BAMCA0cAMEQCIDfOJoaQ9mIeJdv/BPYJhzoxL7zQN4edXd8hWAQ1
HoRnAiAPATdHlEahZphStxnjhtER/A2S8fniCCTckwbXmqN/3g==
-----END CERTIFICATE-----\n";
    const EKU_CRITICAL: &str = "-----BEGIN CERTIFICATE-----
MIIBtzCCAV2gAwIBAgIUXTU7DTeFNUFzEat9MXxY26oBBCcwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZZWt1IGNyaXRpY2FsLHRpbWVTdGFtcGluZzAgFw0yNjEyMDEy
MDI0NTVaGA8yMTI2MTEwNzIwMjQ1NVowJDEiMCAGA1UEAwwZZWt1IGNyaXRpY2Fs
LHRpbWVTdGFtcGluZzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBxYMztm3w3f
/yvokmOOSsTGDNkBtkg3xG4WBd11R7U46Cxg2WpjfntqBDgn0TowS+dju6kP3rYm
ilvM10MXeMyjazBpMB0GA1UdDgQWBBQsHz7Lcm3WqodJg9A9B293MeO/pzAfBgNV
HSMEGDAWgBQsHz7Lcm3WqodJg9A9B293MeO/pzAPBgNVHRMBAf8EBTADAQH/MBYG
A1UdJQEB/wQMMAoGCCsGAQUFBwMIMAoGCCqGSM49BAMCA0gAMEUCIQCJFwpNYLkk
BzwyMJ+pUQw80s0sOVZTFaYq6Hx5yQaY1gIgAIBiipO/v3HW99s/zTKDiXlAsnjz
jM7bIwPST5w2jtc=
-----END CERTIFICATE-----\n";

    #[test]
    fn the_signer_needs_a_critical_time_stamping_usage() {
        let check = |pem: &str| check_key_usage(&Certificate::from_pem(pem.as_bytes()).unwrap());
        assert_eq!(check(EKU_CRITICAL), Ok(()));
        let err = check(EKU_NON_CRITICAL).unwrap_err();
        assert_eq!(err.check, "extended key usage");
        assert!(err.why.contains("not critical"), "{err}");
        let err = check(EKU_SERVER_AUTH).unwrap_err();
        assert!(err.why.contains("does not include timeStamping"), "{err}");
    }
}
