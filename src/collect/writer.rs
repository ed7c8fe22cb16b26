//! Atomic snapshot writing: everything goes to `<out>.tmp-<pid>`, which is renamed to `<out>` only
//! when the whole snapshot is written. A failed or interrupted run removes the temporary directory
//! (or, if killed outright, leaves only that `.tmp-` directory, which the next writer for the same
//! `<out>` removes once its process is gone: [`crate::tempfiles`]). `<out>` never holds half a
//! snapshot.
//!
//! JSON is written pretty-printed with keys sorted at every level, so two collections of the same
//! account state differ only in their timestamps.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use crate::schema::{ACCOUNTS_DIR, SNAPSHOT_DIRS};
use crate::tempfiles::{self, TempKind};

/// Why the snapshot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}: already exists and is not an empty directory; choose a new --out or remove it", .0.display())]
    OutputExists(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Fails unless `out` is absent or an empty directory.
pub fn check_output(out: &Path) -> Result<(), WriteError> {
    match fs::read_dir(out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                Err(WriteError::OutputExists(out.to_owned()))
            } else {
                Ok(())
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => Err(WriteError::OutputExists(out.to_owned())),
    }
}

/// The temporary directory a snapshot for `out` is written to by this process.
pub fn temp_path_for(out: &Path) -> PathBuf {
    let name = out.file_name().unwrap_or("snapshot".as_ref());
    out.with_file_name(tempfiles::temp_name(
        name,
        TempKind::Directory,
        std::process::id(),
    ))
}

/// A snapshot being written. Dropping it without [`SnapshotWriter::commit`] removes the
/// temporary directory.
#[derive(Debug)]
pub struct SnapshotWriter {
    out: PathBuf,
    tmp: PathBuf,
    committed: AtomicBool,
    /// Written in place inside an enclosing writer's directory: commit renames nothing.
    nested: bool,
    /// Temporaries of earlier, killed runs for the same `out`, removed when this one was created.
    stale_removed: Vec<PathBuf>,
}

impl SnapshotWriter {
    /// Creates `<out>.tmp-<pid>` with the snapshot's subdirectories.
    pub fn create(out: &Path) -> Result<Self, WriteError> {
        Self::create_with(out, &SNAPSHOT_DIRS)
    }

    /// Creates `<out>.tmp-<pid>` for an organisation snapshot (docs/organizations.md): only
    /// `accounts/`, which [`SnapshotWriter::nested`] fills one account at a time.
    pub fn create_org(out: &Path) -> Result<Self, WriteError> {
        Self::create_with(out, &[ACCOUNTS_DIR])
    }

    fn create_with(out: &Path, subdirs: &[&str]) -> Result<Self, WriteError> {
        check_output(out)?;
        let stale_removed =
            tempfiles::sweep_stale(out, TempKind::Directory).map_err(io_err(out))?;
        let tmp = temp_path_for(out);
        if tmp.exists() {
            // Left by an earlier run with the same pid that was killed; it is ours to replace.
            fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
        }
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        let writer = Self {
            out: out.to_owned(),
            tmp,
            committed: AtomicBool::new(false),
            nested: false,
            stale_removed,
        };
        for sub in subdirs {
            let dir = writer.tmp.join(sub);
            fs::create_dir(&dir).map_err(io_err(&dir))?;
        }
        Ok(writer)
    }

    /// A single-account snapshot written straight into `dir`, a new directory inside another
    /// writer's temporary directory (an organisation's `accounts/<id>/`). The enclosing writer
    /// makes the whole tree atomic; [`SnapshotWriter::commit`] only marks this one finished, and
    /// dropping it unfinished removes `dir`, so a failed account leaves no half sub-tree.
    pub fn nested(dir: &Path) -> Result<Self, WriteError> {
        fs::create_dir(dir).map_err(io_err(dir))?;
        let writer = Self {
            out: dir.to_owned(),
            tmp: dir.to_owned(),
            committed: AtomicBool::new(false),
            nested: true,
            stale_removed: Vec::new(),
        };
        for sub in SNAPSHOT_DIRS {
            let sub = dir.join(sub);
            fs::create_dir(&sub).map_err(io_err(&sub))?;
        }
        Ok(writer)
    }

    /// The temporary directory (for tests and messages).
    pub fn temp_dir(&self) -> &Path {
        &self.tmp
    }

    /// The temporaries of killed runs for the same `out` that [`SnapshotWriter::create`] removed
    /// (for the command to report; see [`tempfiles::removal_notice`]).
    pub fn stale_removed(&self) -> &[PathBuf] {
        &self.stale_removed
    }

    /// Writes `value` as sorted, pretty JSON to `rel` inside the snapshot.
    pub fn write_json(&self, rel: &str, value: &Value) -> Result<(), WriteError> {
        let path = self.tmp.join(rel);
        // `kms/<region>/` is made on demand (the other directories exist from the start).
        if let Some(parent) = path.parent().filter(|p| !p.is_dir()) {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        let text = to_stable_json(value);
        let mut file = fs::File::create(&path).map_err(io_err(&path))?;
        file.write_all(text.as_bytes()).map_err(io_err(&path))?;
        Ok(())
    }

    /// Moves the finished snapshot into place. Takes `&self` so a writer shared with (finished)
    /// tasks can commit; nothing may be written after this.
    pub fn commit(&self) -> Result<PathBuf, WriteError> {
        if self.nested {
            self.committed.store(true, Ordering::SeqCst);
            return Ok(self.out.clone());
        }
        // An empty --out directory is allowed; rename(2) cannot replace it on every platform.
        if self.out.is_dir() {
            check_output(&self.out)?;
            fs::remove_dir(&self.out).map_err(io_err(&self.out))?;
        }
        fs::rename(&self.tmp, &self.out).map_err(io_err(&self.out))?;
        self.committed.store(true, Ordering::SeqCst);
        Ok(self.out.clone())
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if !self.committed.load(Ordering::SeqCst) {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// File name for a bucket's evidence. S3 bucket names are already file-name safe; anything else
/// (a hostile or broken endpoint) is escaped so it cannot leave the snapshot directory.
pub fn file_name_for(name: &str) -> String {
    let safe = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
    if safe {
        format!("{name}.json")
    } else {
        let escaped: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("{escaped}.json")
    }
}

/// Pretty JSON with object keys sorted recursively and a final newline.
pub fn to_stable_json(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(value)).expect("JSON values serialise");
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        let w = SnapshotWriter::create(&out).unwrap();
        w.write_json("snapshot.json", &json!({"b": 1, "a": {"d": 2, "c": 3}}))
            .unwrap();
        let tmp = w.temp_dir().to_owned();
        drop(w);
        assert!(!tmp.exists() && !out.exists());

        let w = SnapshotWriter::create(&out).unwrap();
        w.write_json("snapshot.json", &json!({"b": 1, "a": {"d": 2, "c": 3}}))
            .unwrap();
        w.commit().unwrap();
        let text = fs::read_to_string(out.join("snapshot.json")).unwrap();
        assert!(text.find("\"a\"").unwrap() < text.find("\"b\"").unwrap());
        assert!(text.find("\"c\"").unwrap() < text.find("\"d\"").unwrap());
        assert!(matches!(
            SnapshotWriter::create(&out),
            Err(WriteError::OutputExists(_))
        ));
    }

    #[test]
    fn nested_writer_commits_in_place_and_cleans_up_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let org = SnapshotWriter::create_org(&dir.path().join("org")).unwrap();
        let account = org.temp_dir().join("accounts/111122223333");
        let failed = SnapshotWriter::nested(&account).unwrap();
        assert!(account.join("buckets").is_dir());
        drop(failed);
        assert!(!account.exists());
        let done = SnapshotWriter::nested(&account).unwrap();
        done.write_json("snapshot.json", &json!({})).unwrap();
        assert_eq!(done.commit().unwrap(), account);
        drop(done);
        assert!(account.join("snapshot.json").is_file());
        org.commit().unwrap();
        assert!(dir
            .path()
            .join("org/accounts/111122223333/snapshot.json")
            .is_file());
    }

    /// A temporary of a run that is gone (its pid is above the kernel's limit) is removed and
    /// reported; the new run's own temporary is the only one left.
    #[cfg(target_os = "linux")]
    #[test]
    fn create_removes_temporaries_of_gone_runs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        let max: u32 = fs::read_to_string("/proc/sys/kernel/pid_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let stale = dir.path().join(format!("snap.tmp-{}", max + 1));
        fs::create_dir_all(stale.join("buckets")).unwrap();
        fs::write(stale.join("snapshot.json"), "{}").unwrap();
        let w = SnapshotWriter::create(&out).unwrap();
        assert_eq!(w.stale_removed(), std::slice::from_ref(&stale));
        assert!(!stale.exists());
        assert!(w.temp_dir().join("buckets").is_dir());
        w.commit().unwrap();
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["snap"]);
    }

    #[test]
    fn bucket_file_names_stay_inside() {
        assert_eq!(file_name_for("my.bucket-1"), "my.bucket-1.json");
        assert_eq!(file_name_for("../x"), "%2E%2E%2Fx.json");
    }
}
