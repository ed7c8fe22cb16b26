//! The organisation snapshot reader (docs/organizations.md): the org header
//! (`"format": "phi-audit-org-snapshot/1"`), the digest over the whole tree, and the consistency
//! of the header with the `accounts/<id>/` sub-trees.
//!
//! Loading an organisation never parses a bucket: every file is hashed as it streams by and the
//! account sub-trees are loaded one at a time later ([`OrgSnapshot::account_dir`] and
//! [`crate::snapshot::Snapshot::load`]), so memory is bounded by one account, not the organisation.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::parallel::{self, Threads};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::strict::escape;
use super::{
    collect_files, digest_of, hex, invalid, parse_json, parse_meta, required_str, required_time,
    review_period, sorted_keys, ReviewPeriod, SnapshotError, SnapshotFile,
};
use crate::schema::{Operation, Timestamp, ACCOUNTS_DIR, META_FILE, ORG_SNAPSHOT_FORMAT};

/// `organization` of the org header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub management_account_id: String,
    pub name: Option<String>,
}

/// How the collector got into one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssumeRole {
    /// The role was assumed (or, for the management account, the caller's own credentials used).
    Ok { arn: Option<String> },
    /// The role could not be assumed: the account has no sub-tree.
    Error { code: String, message: String },
}

/// One entry of the header's `accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: Option<String>,
    pub assume_role: AssumeRole,
    /// `collection: {"error": ...}`: the role was assumed but the account could not be read
    /// (ListBuckets refused): `(code, message)`. Such an account has no sub-tree either.
    pub collection_error: Option<(String, String)>,
}

impl OrgAccount {
    pub fn collected(&self) -> bool {
        matches!(self.assume_role, AssumeRole::Ok { .. }) && self.collection_error.is_none()
    }

    /// The JSON pointer (in the org snapshot.json) of the answer that kept the account out.
    pub fn not_collected_evidence(&self) -> Option<String> {
        let member = match (&self.assume_role, &self.collection_error) {
            (AssumeRole::Error { .. }, _) => Operation::AssumeRole.aws_name(),
            (AssumeRole::Ok { .. }, Some(_)) => "collection",
            (AssumeRole::Ok { .. }, None) => return None,
        };
        Some(format!("{META_FILE}#/{ACCOUNTS_DIR}/{}/{member}", self.id))
    }

    /// Why the account was not collected, in words, for the `org.account-not-collected` finding.
    pub fn not_collected_reason(&self) -> Option<String> {
        match &self.assume_role {
            AssumeRole::Ok { .. } => self.collection_error.as_ref().map(|(code, message)| {
                if message.is_empty() {
                    format!("the role was assumed, but collection failed with {code}")
                } else {
                    format!("the role was assumed, but collection failed with {code} ({message})")
                }
            }),
            AssumeRole::Error { code, message } if message.is_empty() => {
                Some(format!("AssumeRole failed with {code}"))
            }
            AssumeRole::Error { code, message } => {
                Some(format!("AssumeRole failed with {code} ({message})"))
            }
        }
    }
}

/// The org `snapshot.json`, parsed and checked.
#[derive(Debug, Clone)]
pub struct OrgHeader {
    pub collected_at: Timestamp,
    pub tool_version: String,
    pub partition: String,
    pub organization: Organization,
    pub role_name: String,
    pub review_period: Option<ReviewPeriod>,
    pub scope: Value,
    /// `scope.exclude` with justification and approver.
    pub exclusions: Vec<crate::schema::ScopeExclusion>,
    /// The management-side principal that ran `collect --org`, and the options (`None` in
    /// older snapshots). Each account's own snapshot.json records the role assumed in it.
    pub collector: Option<crate::schema::Collector>,
    /// What the header held that phi-audit does not know (in `collector`).
    pub warnings: Vec<super::SnapshotWarning>,
    pub selected_accounts: Vec<String>,
    /// `(index, count)` of a shard; `None` when unsharded or merged.
    pub shard: Option<(u64, u64)>,
    /// By account id (so in id order).
    pub accounts: BTreeMap<String, OrgAccount>,
}

/// An organisation snapshot: its header, and the SHA-256 of every file under the root.
#[derive(Debug, Clone)]
pub struct OrgSnapshot {
    pub root: PathBuf,
    pub header: OrgHeader,
    /// Every file of the organisation, sorted by path (relative to the org root).
    pub files: Vec<SnapshotFile>,
    /// As docs/snapshot-format.md ("The digest"), over every file of the tree.
    pub digest: String,
}

/// True when `root/snapshot.json` declares the organisation format. A file that is not JSON,
/// or has no readable `format`, is left to the single-account loader to reject with its own
/// message.
pub fn is_org_snapshot(root: &Path) -> bool {
    let Ok(bytes) = std::fs::read(root.join(META_FILE)) else {
        return false;
    };
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(Value::as_str).map(str::to_string))
        .is_some_and(|f| f == ORG_SNAPSHOT_FORMAT)
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn account_id_at(path: &Path, pointer: &str, text: &str) -> Result<String, SnapshotError> {
    if is_account_id(text) {
        Ok(text.to_string())
    } else {
        Err(invalid(
            path,
            pointer,
            format!("\"{text}\" is not a 12-digit AWS account id"),
        ))
    }
}

fn string_list(path: &Path, value: &Value, member: &str) -> Result<Vec<String>, SnapshotError> {
    match value.get(member) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid(path, format!("/{member}"), "must be a list of strings")),
        _ => Err(invalid(
            path,
            format!("/{member}"),
            "is missing or not a list of strings",
        )),
    }
}

/// Parses an org `snapshot.json` (exposed for tests and tools).
pub fn parse_header(path: &Path, bytes: &[u8]) -> Result<OrgHeader, SnapshotError> {
    let value = parse_json(path, bytes)?;
    let format = required_str(path, &value, "format")?;
    if format != ORG_SNAPSHOT_FORMAT {
        return Err(invalid(
            path,
            "/format",
            format!("is \"{format}\"; an organisation snapshot is \"{ORG_SNAPSHOT_FORMAT}\""),
        ));
    }
    let collected_at = required_time(path, &value, "collected_at")?;
    let organization = match value.get("organization") {
        Some(org @ Value::Object(_)) => {
            let id = org
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid(path, "/organization/id", "is missing or not a string"))?;
            let management = org
                .get("management_account_id")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid(
                        path,
                        "/organization/management_account_id",
                        "is missing or not a string",
                    )
                })?;
            Organization {
                id: id.to_string(),
                management_account_id: account_id_at(
                    path,
                    "/organization/management_account_id",
                    management,
                )?,
                name: org.get("name").and_then(Value::as_str).map(str::to_string),
            }
        }
        _ => {
            return Err(invalid(
                path,
                "/organization",
                "is missing or not an object",
            ))
        }
    };
    let review_period: Option<ReviewPeriod> = review_period(path, &value)?;
    let selected_accounts = string_list(path, &value, "selected_accounts")?;
    for (i, id) in selected_accounts.iter().enumerate() {
        account_id_at(path, &format!("/selected_accounts/{i}"), id)?;
    }
    let shard = match value.get("shard") {
        None | Some(Value::Null) => None,
        Some(shard) => {
            let number = |member: &str| {
                shard.get(member).and_then(Value::as_u64).ok_or_else(|| {
                    invalid(
                        path,
                        format!("/shard/{member}"),
                        "is missing or not a positive integer",
                    )
                })
            };
            let (index, count) = (number("index")?, number("count")?);
            if index == 0 || index > count {
                return Err(invalid(
                    path,
                    "/shard",
                    format!("index {index} is not within 1..={count}"),
                ));
            }
            Some((index, count))
        }
    };
    let Some(Value::Object(entries)) = value.get("accounts") else {
        return Err(invalid(path, "/accounts", "is missing or not an object"));
    };
    let mut accounts = BTreeMap::new();
    for (id, entry) in entries {
        accounts.insert(id.clone(), parse_account(path, id, entry)?);
    }
    let mut warnings = Vec::new();
    Ok(OrgHeader {
        exclusions: super::custody::exclusions(path, &value, &mut warnings)?,
        collector: super::custody::collector(path, &value, &mut warnings)?,
        warnings,
        collected_at,
        tool_version: value
            .get("tool_version")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        partition: value
            .get("partition")
            .and_then(Value::as_str)
            .unwrap_or("aws")
            .to_string(),
        organization,
        role_name: value
            .get("role_name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        review_period,
        scope: sorted_keys(value.get("scope").cloned().unwrap_or(Value::Null)),
        selected_accounts,
        shard,
        accounts,
    })
}

/// One entry of the header's `accounts`: how the collector got in, and whether it could read.
fn parse_account(path: &Path, id: &str, entry: &Value) -> Result<OrgAccount, SnapshotError> {
    let at = format!("/accounts/{}", escape(id));
    account_id_at(path, &at, id)?;
    let name = entry
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string);
    let assume_role = match entry.get(Operation::AssumeRole.aws_name()) {
        Some(Value::Object(result)) if result.len() == 1 && result.contains_key("ok") => {
            AssumeRole::Ok {
                arn: result["ok"]
                    .pointer("/AssumedRoleUser/Arn")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        }
        Some(Value::Object(result)) if result.len() == 1 && result.contains_key("error") => {
            let error = &result["error"];
            AssumeRole::Error {
                code: error
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            path,
                            format!("{at}/AssumeRole/error/code"),
                            "is missing or not a string",
                        )
                    })?
                    .to_string(),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            }
        }
        _ => {
            return Err(invalid(
                path,
                format!("{at}/AssumeRole"),
                "must be {\"ok\": ...} or {\"error\": {\"code\": ..., \"message\": ...}}",
            ))
        }
    };
    let collection_error = match entry.get("collection") {
        None => None,
        Some(result) => match result.get("error") {
            Some(error) => Some((
                error
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        invalid(
                            path,
                            format!("{at}/collection/error/code"),
                            "is missing or not a string",
                        )
                    })?
                    .to_string(),
                error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            )),
            None => {
                return Err(invalid(
                    path,
                    format!("{at}/collection"),
                    "must be {\"error\": {\"code\": ..., \"message\": ...}} (present only when collection failed)",
                ))
            }
        },
    };
    Ok(OrgAccount {
        id: id.to_string(),
        name,
        assume_role,
        collection_error,
    })
}

/// SHA-256 of a file, streamed through the standard library's stack buffer: no file is held in
/// memory whole, and no buffer is allocated, zeroed and freed per file (an organisation of
/// 100 x 1,000 buckets has 150,000 files).
fn hash_file(path: &Path) -> Result<String, SnapshotError> {
    let io = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(io)?;
    Ok(hex(&hasher.finalize()))
}

impl OrgSnapshot {
    /// Loads the header, hashes every file, and checks that the tree is the one the header
    /// describes: every account whose role was assumed has `accounts/<id>/snapshot.json` of
    /// that account, and nothing else is there.
    pub fn load(root: &Path) -> Result<OrgSnapshot, SnapshotError> {
        OrgSnapshot::load_with(root, Threads::ONE)
    }

    /// [`OrgSnapshot::load`], hashing the files on up to `threads` threads (the same result and
    /// the same first error as one by one in path order).
    pub fn load_with(root: &Path, threads: Threads) -> Result<OrgSnapshot, SnapshotError> {
        let header_path = root.join(META_FILE);
        let bytes = std::fs::read(&header_path).map_err(|source| SnapshotError::Io {
            path: header_path.clone(),
            source,
        })?;
        let header = parse_header(&header_path, &bytes)?;

        let mut paths = Vec::new();
        collect_files(root, root, &mut paths)?;
        paths.sort();
        let hashes = parallel::map(&paths, threads, |relative| hash_file(&root.join(relative)));
        let mut files = Vec::with_capacity(paths.len());
        let mut present = BTreeSet::new();
        for (relative, sha256) in paths.iter().zip(hashes) {
            let path = root.join(relative);
            if relative != META_FILE {
                let account = relative
                    .strip_prefix(ACCOUNTS_DIR)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(id, _)| id);
                let Some(account) = account else {
                    return Err(invalid(
                        &path,
                        "",
                        "is not part of an organisation snapshot (only snapshot.json and accounts/<id>/ belong there)",
                    ));
                };
                match header.accounts.get(account) {
                    Some(entry) if entry.collected() => {}
                    Some(_) => {
                        return Err(invalid(
                            &path,
                            "",
                            format!(
                                "account {account} was not collected (see its entry in {}), so it must have no files",
                                header_path.display()
                            ),
                        ))
                    }
                    None => {
                        return Err(invalid(
                            &path,
                            "",
                            format!(
                                "account {account} is not listed under /accounts of {}",
                                header_path.display()
                            ),
                        ))
                    }
                }
                present.insert(account.to_string());
            }
            files.push(SnapshotFile {
                path: relative.clone(),
                sha256: sha256?,
            });
        }
        for account in header.accounts.values().filter(|a| a.collected()) {
            let meta_path = root.join(ACCOUNTS_DIR).join(&account.id).join(META_FILE);
            if !present.contains(&account.id) || !meta_path.is_file() {
                return Err(invalid(
                    &header_path,
                    format!("/accounts/{}", account.id),
                    format!(
                        "the role was assumed but {} is missing",
                        meta_path.display()
                    ),
                ));
            }
            let bytes = std::fs::read(&meta_path).map_err(|source| SnapshotError::Io {
                path: meta_path.clone(),
                source,
            })?;
            let meta = parse_meta(&meta_path, &bytes)?;
            if meta.account_id != account.id {
                return Err(invalid(
                    &meta_path,
                    "/account_id",
                    format!(
                        "is \"{}\" but the directory is accounts/{}",
                        meta.account_id, account.id
                    ),
                ));
            }
        }
        let digest = digest_of(&files);
        Ok(OrgSnapshot {
            root: root.to_path_buf(),
            header,
            files,
            digest,
        })
    }

    /// The single-account snapshot directory of one account.
    pub fn account_dir(&self, id: &str) -> PathBuf {
        self.root.join(ACCOUNTS_DIR).join(id)
    }

    /// The organisation as reports name it: its name when recorded, else its id.
    pub fn display_name(&self) -> String {
        let org = &self.header.organization;
        match &org.name {
            Some(name) => format!("{name} ({})", org.id),
            None => org.id.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(accounts: &str) -> Result<OrgHeader, String> {
        let text = format!(
            r#"{{"format": "{ORG_SNAPSHOT_FORMAT}", "collected_at": "2026-10-01T06:00:00Z",
                "organization": {{"id": "o-x", "management_account_id": "111122223333"}},
                "selected_accounts": ["111122223333"], "accounts": {accounts}}}"#
        );
        parse_header(Path::new("org/snapshot.json"), text.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn header_errors_name_the_file_and_the_pointer() {
        let ok = header(r#"{"111122223333": {"AssumeRole": {"ok": {}}}}"#).unwrap();
        assert!(ok.accounts["111122223333"].collected());
        let denied = header(
            r#"{"111122223333": {"AssumeRole": {"error": {"code": "AccessDenied", "message": "no"}}}}"#,
        )
        .unwrap();
        assert_eq!(
            denied.accounts["111122223333"]
                .not_collected_reason()
                .unwrap(),
            "AssumeRole failed with AccessDenied (no)"
        );
        assert_eq!(
            header(r#"{"1111": {"AssumeRole": {"ok": {}}}}"#).unwrap_err(),
            "org/snapshot.json: /accounts/1111: \"1111\" is not a 12-digit AWS account id"
        );
        assert_eq!(
            header(r#"{"111122223333": {"AssumeRole": {"error": {}}}}"#).unwrap_err(),
            "org/snapshot.json: /accounts/111122223333/AssumeRole/error/code: is missing or not a string"
        );
        assert!(header("[]").unwrap_err().contains("/accounts: is missing"));
        // The role was assumed but ListBuckets was refused: not collected, with its own pointer.
        let refused = header(
            r#"{"111122223333": {"AssumeRole": {"ok": {}},
                "collection": {"error": {"code": "AccessDenied", "message": "s3:ListBuckets: denied"}}}}"#,
        )
        .unwrap();
        let account = &refused.accounts["111122223333"];
        assert!(!account.collected());
        assert_eq!(
            account.not_collected_reason().unwrap(),
            "the role was assumed, but collection failed with AccessDenied (s3:ListBuckets: denied)"
        );
        assert_eq!(
            account.not_collected_evidence().unwrap(),
            "snapshot.json#/accounts/111122223333/collection"
        );
        assert_eq!(
            header(r#"{"111122223333": {"AssumeRole": {"ok": {}}, "collection": {"ok": {}}}}"#)
                .unwrap_err(),
            "org/snapshot.json: /accounts/111122223333/collection: must be {\"error\": {\"code\": ..., \"message\": ...}} (present only when collection failed)"
        );
        let ok = header(r#"{"111122223333": {"AssumeRole": {"ok": {}}}}"#).unwrap();
        assert_eq!(
            ok.collected_at.utc().to_rfc3339(),
            "2026-10-01T06:00:00+00:00"
        );
        let late = parse_header(
            Path::new("org/snapshot.json"),
            br#"{"format": "phi-audit-org-snapshot/1", "collected_at": "1 Oct 2026"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            late.starts_with(
                "org/snapshot.json: /collected_at: \"1 Oct 2026\" is not an RFC 3339 time"
            ),
            "{late}"
        );
        let single = parse_header(
            Path::new("s/snapshot.json"),
            br#"{"format": "phi-audit-snapshot/1"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(single.contains("/format"), "{single}");
    }
}
