//! Minisign-compatible Ed25519 keys and detached signatures for the bundle's manifest.
//!
//! An auditor must be able to check a signature without phi-audit, so the files follow the
//! minisign format (<https://jedisct1.github.io/minisign/>) exactly:
//!
//! * public key: `untrusted comment: ...` then base64(`"Ed"` ‖ key id (8) ‖ Ed25519 public key (32));
//! * secret key: `untrusted comment: ...` then base64(`"Ed"` ‖ kdf `00 00` (not encrypted, as
//!   `minisign -G -W` writes) ‖ `"B2"` ‖ salt (32) ‖ opslimit (8) ‖ memlimit (8) ‖ key id (8) ‖
//!   secret key (64) ‖ BLAKE2b-256 checksum of `"Ed"` ‖ key id ‖ secret key (32));
//! * signature: `untrusted comment: ...`, base64(`"ED"` ‖ key id ‖ Ed25519(BLAKE2b-512(file))),
//!   `trusted comment: ...`, base64(Ed25519(signature ‖ trusted comment)).
//!
//! We sign in the prehashed `ED` form, the default of current minisign; verification accepts the
//! legacy `Ed` form too. Ed25519 signatures are deterministic, so a signed bundle is still
//! byte-for-byte reproducible.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Blake2b512, Digest};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use std::path::{Path, PathBuf};

const PUBLIC_KEY_LEN: usize = 2 + 8 + 32;
const SECRET_KEY_LEN: usize = 2 + 2 + 2 + 32 + 8 + 8 + 8 + 64 + 32;
const SIGNATURE_LEN: usize = 2 + 8 + 64;
const UNTRUSTED_PREFIX: &str = "untrusted comment: ";
const TRUSTED_PREFIX: &str = "trusted comment: ";

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {message}")]
    Format { what: String, message: String },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

fn format_error(what: &str, message: impl Into<String>) -> SignError {
    SignError::Format {
        what: what.to_string(),
        message: message.into(),
    }
}

/// A minisign secret key (unencrypted).
pub struct SecretKey {
    pub key_id: [u8; 8],
    signing: SigningKey,
}

/// A minisign public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: [u8; 8],
    pub key: [u8; 32],
}

impl PublicKey {
    /// The key id as minisign prints it (hex of the little-endian 64-bit number).
    pub fn key_id_hex(&self) -> String {
        format!("{:016X}", u64::from_le_bytes(self.key_id))
    }

    /// The file minisign reads with `-p`.
    pub fn to_file(&self) -> String {
        let mut bytes = Vec::with_capacity(PUBLIC_KEY_LEN);
        bytes.extend_from_slice(b"Ed");
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&self.key);
        format!(
            "{UNTRUSTED_PREFIX}minisign public key {}\n{}\n",
            self.key_id_hex(),
            BASE64.encode(bytes)
        )
    }

    /// Reads a public key file, or the bare base64 line (`minisign -P` form).
    pub fn parse(text: &str, what: &str) -> Result<PublicKey, SignError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with(UNTRUSTED_PREFIX))
            .ok_or_else(|| format_error(what, "no key line found"))?;
        let bytes = BASE64
            .decode(line)
            .map_err(|e| format_error(what, format!("the key line is not base64: {e}")))?;
        if bytes.len() != PUBLIC_KEY_LEN || &bytes[..2] != b"Ed" {
            return Err(format_error(what, "not a minisign Ed25519 public key"));
        }
        Ok(PublicKey {
            key_id: bytes[2..10].try_into().expect("length checked"),
            key: bytes[10..42].try_into().expect("length checked"),
        })
    }

    pub fn load(path: &Path) -> Result<PublicKey, SignError> {
        let text = read_text(path)?;
        PublicKey::parse(&text, &path.display().to_string())
    }
}

fn read_text(path: &Path) -> Result<String, SignError> {
    std::fs::read_to_string(path).map_err(|source| SignError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn checksum(key_id: &[u8; 8], secret: &[u8; 64]) -> [u8; 32] {
    let mut hasher = Blake2b::<U32>::new();
    hasher.update(b"Ed");
    hasher.update(key_id);
    hasher.update(secret);
    hasher.finalize().into()
}

impl SecretKey {
    /// A new key pair from the operating system's random number generator.
    pub fn generate() -> Result<SecretKey, SignError> {
        let mut seed = [0u8; 32];
        let mut key_id = [0u8; 8];
        getrandom::fill(&mut seed).map_err(|e| SignError::Random(e.to_string()))?;
        getrandom::fill(&mut key_id).map_err(|e| SignError::Random(e.to_string()))?;
        Ok(SecretKey::from_seed(seed, key_id))
    }

    /// A key pair from fixed bytes (tests and reproducible fixtures).
    pub fn from_seed(seed: [u8; 32], key_id: [u8; 8]) -> SecretKey {
        SecretKey {
            key_id,
            signing: SigningKey::from_bytes(&seed),
        }
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            key_id: self.key_id,
            key: self.signing.verifying_key().to_bytes(),
        }
    }

    /// The unencrypted secret key file (minisign reads it without asking for a password).
    pub fn to_file(&self) -> String {
        let secret = self.signing.to_keypair_bytes();
        let mut bytes = Vec::with_capacity(SECRET_KEY_LEN);
        bytes.extend_from_slice(b"Ed");
        bytes.extend_from_slice(&[0, 0]);
        bytes.extend_from_slice(b"B2");
        bytes.extend_from_slice(&[0u8; 32 + 8 + 8]);
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&secret);
        bytes.extend_from_slice(&checksum(&self.key_id, &secret));
        format!(
            "{UNTRUSTED_PREFIX}minisign secret key {} (not encrypted: keep this file private)\n{}\n",
            self.public().key_id_hex(),
            BASE64.encode(bytes)
        )
    }

    pub fn parse(text: &str, what: &str) -> Result<SecretKey, SignError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with(UNTRUSTED_PREFIX))
            .ok_or_else(|| format_error(what, "no key line found"))?;
        let bytes = BASE64
            .decode(line)
            .map_err(|e| format_error(what, format!("the key line is not base64: {e}")))?;
        if bytes.len() != SECRET_KEY_LEN || &bytes[..2] != b"Ed" || &bytes[4..6] != b"B2" {
            return Err(format_error(what, "not a minisign Ed25519 secret key"));
        }
        if bytes[2..4] != [0, 0] {
            return Err(format_error(
                what,
                "the secret key is encrypted with a password; phi-audit reads unencrypted keys \
                 (make one with `phi-audit keygen` or `minisign -G -W`, or remove the password \
                 with `minisign -C -W`)",
            ));
        }
        let key_id: [u8; 8] = bytes[54..62].try_into().expect("length checked");
        let secret: [u8; 64] = bytes[62..126].try_into().expect("length checked");
        let stored: [u8; 32] = bytes[126..158].try_into().expect("length checked");
        // minisign 0.11 leaves the checksum of an unencrypted (-W) key all zero; the keypair
        // consistency check below still catches a damaged key.
        if stored != [0u8; 32] && checksum(&key_id, &secret) != stored {
            return Err(format_error(
                what,
                "the secret key's checksum does not match (damaged file?)",
            ));
        }
        let signing = SigningKey::from_keypair_bytes(&secret).map_err(|_| {
            format_error(what, "the secret and public halves of the key do not match")
        })?;
        Ok(SecretKey { key_id, signing })
    }

    pub fn load(path: &Path) -> Result<SecretKey, SignError> {
        let text = read_text(path)?;
        SecretKey::parse(&text, &path.display().to_string())
    }

    /// A detached minisign signature (`.minisig` text) of `data` with a trusted comment.
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> String {
        // A line break would end the comment line early and make the file unreadable.
        let trusted_comment = trusted_comment.replace(['\r', '\n'], " ");
        let signature = self.signing.sign(&Blake2b512::digest(data));
        let mut first = Vec::with_capacity(SIGNATURE_LEN);
        first.extend_from_slice(b"ED");
        first.extend_from_slice(&self.key_id);
        first.extend_from_slice(&signature.to_bytes());
        let mut global_message = signature.to_bytes().to_vec();
        global_message.extend_from_slice(trusted_comment.as_bytes());
        let global = self.signing.sign(&global_message);
        format!(
            "{UNTRUSTED_PREFIX}signature from phi-audit secret key {}\n{}\n{TRUSTED_PREFIX}{trusted_comment}\n{}\n",
            self.public().key_id_hex(),
            BASE64.encode(first),
            BASE64.encode(global.to_bytes())
        )
    }
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSignature {
    #[error("the signature file is malformed: {0}")]
    Malformed(String),
    #[error("the signature was made with key {signed_by}, not the given key {given}")]
    WrongKey { signed_by: String, given: String },
    #[error("the signature does not match the signed file")]
    Invalid,
    #[error("the trusted comment has been altered")]
    TrustedCommentAltered,
}

/// Checks a minisign signature of `data`; returns the trusted comment.
pub fn verify(data: &[u8], signature_file: &str, key: &PublicKey) -> Result<String, BadSignature> {
    let lines: Vec<&str> = signature_file
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let malformed = |m: &str| BadSignature::Malformed(m.to_string());
    if lines.len() < 4 || !lines[0].starts_with(UNTRUSTED_PREFIX) {
        return Err(malformed(
            "expected four lines starting with an untrusted comment",
        ));
    }
    let first = BASE64
        .decode(lines[1].trim())
        .map_err(|_| malformed("the signature line is not base64"))?;
    if first.len() != SIGNATURE_LEN {
        return Err(malformed("the signature line has the wrong length"));
    }
    let prehashed = match &first[..2] {
        b"ED" => true,
        b"Ed" => false,
        _ => return Err(malformed("unknown signature algorithm")),
    };
    let key_id: [u8; 8] = first[2..10].try_into().expect("length checked");
    if key_id != key.key_id {
        return Err(BadSignature::WrongKey {
            signed_by: format!("{:016X}", u64::from_le_bytes(key_id)),
            given: key.key_id_hex(),
        });
    }
    let trusted = lines[2]
        .strip_prefix(TRUSTED_PREFIX)
        .ok_or_else(|| malformed("the third line is not a trusted comment"))?;
    let global = BASE64
        .decode(lines[3].trim())
        .map_err(|_| malformed("the global signature line is not base64"))?;
    let global: [u8; 64] = global
        .try_into()
        .map_err(|_| malformed("the global signature has the wrong length"))?;
    let verifying = VerifyingKey::from_bytes(&key.key)
        .map_err(|_| malformed("the public key is not a valid Ed25519 point"))?;
    let signature_bytes: [u8; 64] = first[10..74].try_into().expect("length checked");
    let signature = Signature::from_bytes(&signature_bytes);
    let ok = if prehashed {
        verifying.verify(&Blake2b512::digest(data), &signature)
    } else {
        verifying.verify(data, &signature)
    };
    ok.map_err(|_| BadSignature::Invalid)?;
    let mut global_message = signature_bytes.to_vec();
    global_message.extend_from_slice(trusted.as_bytes());
    verifying
        .verify(&global_message, &Signature::from_bytes(&global))
        .map_err(|_| BadSignature::TrustedCommentAltered)?;
    Ok(trusted.to_string())
}

/// Writes `PREFIX.key` (mode 0600) and `PREFIX.pub`; refuses to overwrite either.
pub fn keygen(prefix: &Path) -> Result<(PathBuf, PathBuf, PublicKey), SignError> {
    let key = SecretKey::generate()?;
    let secret_path = with_suffix(prefix, ".key");
    let public_path = with_suffix(prefix, ".pub");
    write_new(&secret_path, key.to_file().as_bytes(), 0o600)?;
    if let Err(err) = write_new(&public_path, key.public().to_file().as_bytes(), 0o644) {
        let _ = std::fs::remove_file(&secret_path);
        return Err(err);
    }
    Ok((secret_path, public_path, key.public()))
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SignError> {
    use std::io::Write;
    let io = |source| SignError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Created with the final mode, so the secret is never readable by others, even briefly.
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_seed([7u8; 32], [1, 2, 3, 4, 5, 6, 7, 8])
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let key = key();
        let sig = key.sign(b"hello", "phi-audit test");
        assert_eq!(
            verify(b"hello", &sig, &key.public()),
            Ok("phi-audit test".to_string())
        );
        assert_eq!(
            verify(b"hellO", &sig, &key.public()),
            Err(BadSignature::Invalid)
        );
        let altered = sig.replace("phi-audit test", "phi-audit tesT");
        assert_eq!(
            verify(b"hello", &altered, &key.public()),
            Err(BadSignature::TrustedCommentAltered)
        );
        let other = SecretKey::from_seed([9u8; 32], [8, 7, 6, 5, 4, 3, 2, 1]);
        assert!(matches!(
            verify(b"hello", &sig, &other.public()),
            Err(BadSignature::WrongKey { .. })
        ));
    }

    #[test]
    fn key_files_round_trip() {
        let key = key();
        let parsed = SecretKey::parse(&key.to_file(), "k").unwrap();
        assert_eq!(parsed.public(), key.public());
        assert_eq!(
            PublicKey::parse(&key.public().to_file(), "p").unwrap(),
            key.public()
        );
        let mut damaged = key.to_file().into_bytes();
        let at = damaged.len() - 10;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        assert!(SecretKey::parse(std::str::from_utf8(&damaged).unwrap(), "k").is_err());
    }

    #[test]
    fn signatures_are_deterministic() {
        assert_eq!(key().sign(b"x", "c"), key().sign(b"x", "c"));
    }
}
