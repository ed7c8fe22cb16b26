//! `phi-audit merge SHARD... --out DIR`: the shards of a `collect --org --shard K/N` run combined
//! into the organisation snapshot an unsharded run would have written (docs/organizations.md).
//!
//! This module owns the checks that the shards belong together (same organisation, options and
//! selection; each index of 1..N exactly once; every account in exactly the shard the round-robin
//! deal gives it) and the atomic write of the merged directory. Account sub-trees are copied
//! byte for byte, so a merge of shards collected with the same `--collected-at` is identical to
//! the unsharded collection.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::args::{parse_account_id, Shard};
use super::org::shard_of;
use super::writer::{SnapshotWriter, WriteError};
use crate::schema::{Operation, Timestamp, ACCOUNTS_DIR, META_FILE, ORG_SNAPSHOT_FORMAT};

/// Header members that must be equal in every shard (`shard.count` is compared separately).
const SAME_IN_EVERY_SHARD: [&str; 10] = [
    "format",
    "tool_version",
    "partition",
    "organization",
    "role_name",
    "external_id",
    "selection",
    "review_period",
    "scope",
    "selected_accounts",
];

/// Why the shards were not merged. Every message names the directories and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{}: not an organisation snapshot: {detail}", dir.display())]
    NotOrgSnapshot { dir: PathBuf, detail: String },
    #[error("{} and {} differ in `{field}` ({left} vs {right}); they are not shards of the same collection", a.display(), b.display())]
    Differ {
        a: PathBuf,
        b: PathBuf,
        field: String,
        left: String,
        right: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What `merge` wrote.
#[derive(Debug, Clone)]
pub struct MergeSummary {
    pub out: PathBuf,
    pub shards: usize,
    pub accounts: usize,
    /// Temporaries of killed runs into the same `--out`, removed before writing.
    pub stale_removed: Vec<PathBuf>,
}

/// One input, read and checked on its own.
struct Input {
    dir: PathBuf,
    header: Map<String, Value>,
    shard: Option<Shard>,
    /// Account ids of this input, sorted.
    accounts: Vec<String>,
    collected_at: Timestamp,
}

/// Merges `shards` into `out` (which must not exist, or be empty).
pub fn merge(shards: &[PathBuf], out: &Path) -> Result<MergeSummary, MergeError> {
    if shards.is_empty() {
        return Err(MergeError::Refused("no shard directories given".to_owned()));
    }
    super::writer::check_output(out)?;
    let inputs = shards
        .iter()
        .map(|dir| read_input(dir))
        .collect::<Result<Vec<_>, _>>()?;
    check_together(&inputs)?;

    let writer = SnapshotWriter::create_org(out)?;
    let stale_removed = writer.stale_removed().to_vec();
    let mut accounts = Map::new();
    let mut collected_at: Option<&Timestamp> = None;
    for input in &inputs {
        let entries = input.header["accounts"].as_object().expect("checked");
        for id in &input.accounts {
            accounts.insert(id.clone(), entries[id].clone());
            let tree = input.dir.join(ACCOUNTS_DIR).join(id);
            if tree.exists() {
                copy_tree(&tree, &writer.temp_dir().join(ACCOUNTS_DIR).join(id))?;
            }
        }
        if collected_at.is_none_or(|earliest| input.collected_at < *earliest) {
            collected_at = Some(&input.collected_at);
        }
    }
    let collected_at = collected_at.expect("at least one shard").to_string();
    let mut header = inputs[0].header.clone();
    header.remove("shard");
    header.insert("accounts".to_owned(), Value::Object(accounts));
    header.insert("collected_at".to_owned(), Value::String(collected_at));
    let total = header["accounts"].as_object().map_or(0, Map::len);
    writer.write_json(META_FILE, &Value::Object(header))?;
    let out = writer.commit()?;
    Ok(MergeSummary {
        out,
        shards: inputs.len(),
        accounts: total,
        stale_removed,
    })
}

/// Reads one directory's header and checks it against its own `accounts/`.
fn read_input(dir: &Path) -> Result<Input, MergeError> {
    let not_org = |detail: String| MergeError::NotOrgSnapshot {
        dir: dir.to_owned(),
        detail,
    };
    let path = dir.join(META_FILE);
    let text = fs::read_to_string(&path).map_err(|e| not_org(format!("snapshot.json: {e}")))?;
    let header: Map<String, Value> =
        serde_json::from_str(&text).map_err(|e| not_org(format!("snapshot.json: {e}")))?;
    match header.get("format").and_then(Value::as_str) {
        Some(ORG_SNAPSHOT_FORMAT) => {}
        other => {
            return Err(not_org(format!(
                "`format` is {}, not {ORG_SNAPSHOT_FORMAT} (a single-account snapshot cannot \
                 be merged)",
                other.map_or("missing".to_owned(), |f| format!("{f:?}"))
            )))
        }
    }
    let collected_at = header
        .get("collected_at")
        .and_then(Value::as_str)
        .ok_or_else(|| "is missing or not a string".to_owned())
        .and_then(Timestamp::parse)
        .map_err(|e| not_org(format!("`collected_at`: {e}")))?;
    let shard = match header.get("shard") {
        None => None,
        Some(value) => {
            let index = value["index"].as_u64().unwrap_or(0) as usize;
            let count = value["count"].as_u64().unwrap_or(0) as usize;
            if index == 0 || count == 0 || index > count {
                return Err(not_org(format!(
                    "`shard` {value} is not 1 <= index <= count"
                )));
            }
            Some(Shard { index, count })
        }
    };
    let selected = string_list(&header, "selected_accounts").map_err(&not_org)?;
    let entries = header
        .get("accounts")
        .and_then(Value::as_object)
        .ok_or_else(|| not_org("`accounts` is missing or not an object".to_owned()))?;
    let mut accounts = Vec::new();
    for (id, entry) in entries {
        // Ids become paths below: only 12-digit ids, so nothing can point outside the tree.
        parse_account_id(id).map_err(|e| not_org(format!("`accounts`: {e}")))?;
        if !selected.contains(id) {
            return Err(not_org(format!(
                "account {id} is in `accounts` but not in `selected_accounts`"
            )));
        }
        let collected = entry[Operation::AssumeRole.aws_name()].get("ok").is_some()
            && entry.get("collection").is_none();
        let tree = dir.join(ACCOUNTS_DIR).join(id);
        if collected && !tree.join(META_FILE).is_file() {
            return Err(not_org(format!(
                "account {id} was collected but accounts/{id}/snapshot.json is missing"
            )));
        }
        if !collected && tree.exists() {
            return Err(not_org(format!(
                "account {id} was not collected but accounts/{id}/ exists"
            )));
        }
        accounts.push(id.clone());
    }
    if let Ok(listing) = fs::read_dir(dir.join(ACCOUNTS_DIR)) {
        for entry in listing.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !entries.contains_key(&name) {
                return Err(not_org(format!(
                    "accounts/{name} is not listed in snapshot.json's `accounts`"
                )));
            }
        }
    }
    Ok(Input {
        dir: dir.to_owned(),
        header,
        shard,
        accounts,
        collected_at,
    })
}

fn string_list(header: &Map<String, Value>, field: &str) -> Result<Vec<String>, String> {
    header
        .get(field)
        .and_then(Value::as_array)
        .and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| format!("`{field}` is missing or not a list of account ids"))
}

/// The refusals of docs/organizations.md, in the order that gives the most useful message.
fn check_together(inputs: &[Input]) -> Result<(), MergeError> {
    let first = &inputs[0];
    for input in &inputs[1..] {
        for field in SAME_IN_EVERY_SHARD {
            let (left, right) = (&first.header.get(field), &input.header.get(field));
            if left != right {
                return Err(MergeError::Differ {
                    a: first.dir.clone(),
                    b: input.dir.clone(),
                    field: field.to_owned(),
                    left: brief(*left),
                    right: brief(*right),
                });
            }
        }
    }
    if let Some(unsharded) = inputs.iter().find(|i| i.shard.is_none()) {
        if inputs.len() == 1 {
            return Ok(());
        }
        return Err(MergeError::Refused(format!(
            "{}: an unsharded snapshot cannot be merged with other snapshots (merge combines \
             the shards of one `collect --org --shard K/N` run)",
            unsharded.dir.display()
        )));
    }
    let shard = |i: &Input| i.shard.expect("all sharded");
    let count = shard(first).count;
    for input in &inputs[1..] {
        if shard(input).count != count {
            return Err(MergeError::Differ {
                a: first.dir.clone(),
                b: input.dir.clone(),
                field: "shard.count".to_owned(),
                left: count.to_string(),
                right: shard(input).count.to_string(),
            });
        }
    }
    let mut by_index: BTreeMap<usize, &Input> = BTreeMap::new();
    for input in inputs {
        if let Some(other) = by_index.insert(shard(input).index, input) {
            return Err(MergeError::Refused(format!(
                "{} and {} are both shard {}/{count}",
                other.dir.display(),
                input.dir.display(),
                shard(input).index
            )));
        }
    }
    let mut holder: BTreeMap<&str, &Input> = BTreeMap::new();
    for input in inputs {
        for id in &input.accounts {
            if let Some(other) = holder.insert(id, input) {
                return Err(MergeError::Refused(format!(
                    "{} and {} both hold account {id}; shards must not overlap",
                    other.dir.display(),
                    input.dir.display()
                )));
            }
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Refused(format!(
            "shard {} missing (given: {})",
            missing.join(", "),
            inputs
                .iter()
                .map(|i| format!("{} = {}/{count}", i.dir.display(), shard(i).index))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let selected = string_list(&first.header, "selected_accounts").map_err(MergeError::Refused)?;
    for input in inputs {
        let expected = shard_of(&selected, input.shard);
        if expected != input.accounts {
            return Err(MergeError::Refused(format!(
                "{}: shard {}/{count} holds accounts [{}] but the round-robin deal of \
                 `selected_accounts` gives it [{}]",
                input.dir.display(),
                shard(input).index,
                input.accounts.join(", "),
                expected.join(", ")
            )));
        }
    }
    Ok(())
}

/// A header value for a message, cut to a readable length.
fn brief(value: Option<&Value>) -> String {
    let text = value.map_or("absent".to_owned(), Value::to_string);
    if text.chars().count() > 120 {
        format!("{}...", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

/// Copies a directory tree byte for byte. Anything but plain files and directories (a symlink
/// could point anywhere) is refused.
fn copy_tree(from: &Path, to: &Path) -> Result<(), MergeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MergeError::Write(WriteError::Io { path, source })
    };
    fs::create_dir(to).map_err(io(to))?;
    for entry in fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = fs::symlink_metadata(&source)
            .map_err(io(&source))?
            .file_type();
        if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else if kind.is_file() {
            fs::copy(&source, &target).map_err(io(&source))?;
        } else {
            return Err(MergeError::Refused(format!(
                "{}: not a regular file or directory; refusing to copy it",
                source.display()
            )));
        }
    }
    Ok(())
}
