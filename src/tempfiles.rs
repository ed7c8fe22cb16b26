//! Temporary names for atomic writes, and the sweep of temporaries that killed runs left behind.
//!
//! `collect` (and `merge`) write a snapshot into the directory `<out>.tmp-<pid>` beside `--out`,
//! `report` writes a bundle into the hidden file `.<bundle>.tmp-<pid>` beside `--out`; each is
//! renamed into place when complete, and removed when the run fails or is interrupted. A run
//! killed outright (SIGKILL, a power cut) cannot remove its temporary, so the next run into the
//! same place calls [`sweep_stale`], which removes the temporaries for that target whose process
//! no longer runs. This module owns both names (one definition of each) and the sweep.
//!
//! Whether a process runs is read from `/proc/<pid>` on Linux. Elsewhere it cannot be told
//! without a new dependency, so nothing is removed. A process that reused a dead run's pid keeps
//! that temporary alive (it is removed once that process ends too): the sweep errs on the side of
//! leaving files. A run in another PID namespace (another container writing the same target on a
//! shared volume) is invisible in `/proc` and would look gone; give such runs their own targets.
//!
//! Bottom layer: imports nothing from the crate, prints nothing, reads no clock.

use std::ffi::{OsStr, OsString};
use std::io;
use std::path::{Path, PathBuf};

/// How the temporary for a target is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempKind {
    /// `<name>.tmp-<pid>`: a snapshot directory (`collect`, `merge`).
    Directory,
    /// `.<name>.tmp-<pid>`: a bundle file (`report`), hidden from directory listings.
    HiddenFile,
}

/// What separates a target's name from the pid of the run writing it.
const MARK: &str = ".tmp-";

impl TempKind {
    /// The part of the temporary's name before the pid.
    fn prefix(self, name: &OsStr) -> OsString {
        let mut prefix = OsString::from(match self {
            TempKind::Directory => "",
            TempKind::HiddenFile => ".",
        });
        prefix.push(name);
        prefix.push(MARK);
        prefix
    }
}

/// The name of the temporary that process `pid` writes for a target named `name`.
pub fn temp_name(name: &OsStr, kind: TempKind, pid: u32) -> OsString {
    let mut temp = kind.prefix(name);
    temp.push(pid.to_string());
    temp
}

/// The temporary that process `pid` writes for `target`, beside it; `None` when `target` has no
/// file name (`/`, `..`).
pub fn temp_path(target: &Path, kind: TempKind, pid: u32) -> Option<PathBuf> {
    let name = target.file_name()?;
    Some(target.with_file_name(temp_name(name, kind, pid)))
}

/// The pid in a temporary's name (`snap.tmp-4242` → 4242).
pub fn pid_of(temp: &Path) -> Option<u32> {
    let name = temp.file_name()?.to_str()?;
    let (_, digits) = name.rsplit_once(MARK)?;
    parse_pid(digits.as_bytes())
}

/// The line a command prints for each temporary [`sweep_stale`] removed.
pub fn removal_notice(temp: &Path) -> String {
    match pid_of(temp) {
        Some(pid) => format!(
            "removed stale temporary {} left by an interrupted run (pid {pid})",
            temp.display()
        ),
        None => format!(
            "removed stale temporary {} left by an interrupted run",
            temp.display()
        ),
    }
}

/// The directory `target` is in (`.` for a bare file name): where its temporaries go.
pub fn dir_of(target: &Path) -> &Path {
    match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Removes, in `target`'s directory, the temporaries for `target` of `kind` whose process no
/// longer runs, and returns their paths (for the caller to report). The current process's own
/// temporary, a live process's, and anything that is not what such a run creates (a directory
/// for [`TempKind::Directory`], a regular file for [`TempKind::HiddenFile`]; never a symbolic
/// link) are left alone. A missing directory holds nothing to sweep.
pub fn sweep_stale(target: &Path, kind: TempKind) -> io::Result<Vec<PathBuf>> {
    let Some(name) = target.file_name() else {
        return Ok(Vec::new());
    };
    let dir = dir_of(target);
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(with_path(err, "reading", dir)),
    };
    let prefix = kind.prefix(name);
    let own = std::process::id();
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|err| with_path(err, "reading", dir))?;
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .as_encoded_bytes()
            .strip_prefix(prefix.as_encoded_bytes())
            .and_then(parse_pid)
        else {
            continue;
        };
        if pid == own || !process_gone(pid) {
            continue;
        }
        let path = entry.path();
        // Not followed: a symbolic link is never something a run of ours created.
        let file_type = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta.file_type(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(with_path(err, "reading", &path)),
        };
        let outcome = match kind {
            TempKind::Directory if file_type.is_dir() => std::fs::remove_dir_all(&path),
            TempKind::HiddenFile if file_type.is_file() => std::fs::remove_file(&path),
            _ => continue,
        };
        match outcome {
            Ok(()) => removed.push(path),
            // Another run swept it first.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(with_path(err, "removing stale temporary", &path)),
        }
    }
    removed.sort();
    Ok(removed)
}

/// A pid written in decimal, nothing else (`007` is not a name a run writes, but harmless).
fn parse_pid(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// True only when the process is known not to run: `/proc` is mounted (it shows this process)
/// but has no entry for `pid`.
#[cfg(target_os = "linux")]
fn process_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Without `/proc`, whether a process runs is unknown: nothing is swept.
#[cfg(not(target_os = "linux"))]
fn process_gone(_pid: u32) -> bool {
    false
}

fn with_path(err: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(err.kind(), format!("{doing} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_target_and_the_pid() {
        let name = OsStr::new("snap");
        assert_eq!(temp_name(name, TempKind::Directory, 42), "snap.tmp-42");
        assert_eq!(
            temp_name(OsStr::new("b.zip"), TempKind::HiddenFile, 42),
            ".b.zip.tmp-42"
        );
        assert_eq!(
            temp_path(Path::new("out/snap"), TempKind::Directory, 7),
            Some(PathBuf::from("out/snap.tmp-7"))
        );
        assert_eq!(
            temp_path(Path::new("b.zip"), TempKind::HiddenFile, 7),
            Some(PathBuf::from(".b.zip.tmp-7"))
        );
        assert_eq!(temp_path(Path::new("/"), TempKind::Directory, 7), None);
        assert_eq!(pid_of(Path::new("out/.b.tmp-x.zip.tmp-4242")), Some(4242));
        assert_eq!(pid_of(Path::new("out/snap.tmp-")), None);
        assert_eq!(pid_of(Path::new("out/snap.tmp-12a")), None);
        assert_eq!(
            removal_notice(Path::new("out/snap.tmp-4242")),
            "removed stale temporary out/snap.tmp-4242 left by an interrupted run (pid 4242)"
        );
    }

    /// A pid no process can have: above the kernel's limit.
    #[cfg(target_os = "linux")]
    fn dead_pid() -> u32 {
        let max: u32 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(!Path::new(&format!("/proc/{}", max + 1)).exists());
        max + 1
    }

    /// A process that certainly runs and is not this one: the test harness's parent.
    #[cfg(target_os = "linux")]
    fn live_pid() -> u32 {
        let parent = std::os::unix::process::parent_id();
        assert_ne!(parent, std::process::id());
        assert!(Path::new(&format!("/proc/{parent}")).exists());
        parent
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn directories_of_gone_runs_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("snap");
        let at = |name: String| dir.path().join(name);
        let (dead, live, own) = (dead_pid(), live_pid(), std::process::id());
        let stale = at(format!("snap.tmp-{dead}"));
        std::fs::create_dir_all(stale.join("buckets")).unwrap();
        std::fs::write(stale.join("buckets/b.json"), "{}").unwrap();
        let kept_dirs = [
            at(format!("snap.tmp-{own}")),
            at(format!("snap.tmp-{live}")),
            at(format!("snapx.tmp-{dead}")),
            at(format!("other.tmp-{dead}")),
            at(format!(".snap.tmp-{dead}")),
            at("snap.tmp-12ab".to_string()),
            at("snap".to_string()),
        ];
        for kept in &kept_dirs {
            std::fs::create_dir(kept).unwrap();
        }
        // A file where a directory would be is not a run's temporary.
        let file = at(format!("snap.tmp-{}", dead - 1));
        std::fs::write(&file, "not ours").unwrap();

        let removed = sweep_stale(&target, TempKind::Directory).unwrap();
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists());
        for kept in kept_dirs.iter().chain([&file]) {
            assert!(kept.exists(), "{} was removed", kept.display());
        }
        assert_eq!(
            removal_notice(&removed[0]),
            format!(
                "removed stale temporary {} left by an interrupted run (pid {dead})",
                stale.display()
            )
        );
        // Swept once, nothing is left to sweep.
        assert!(sweep_stale(&target, TempKind::Directory)
            .unwrap()
            .is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hidden_bundle_files_of_gone_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("evidence.zip");
        let (dead, live) = (dead_pid(), live_pid());
        let stale = dir.path().join(format!(".evidence.zip.tmp-{dead}"));
        let live_temp = dir.path().join(format!(".evidence.zip.tmp-{live}"));
        let not_hidden = dir.path().join(format!("evidence.zip.tmp-{dead}"));
        for path in [&stale, &live_temp, &not_hidden] {
            std::fs::write(path, "PK").unwrap();
        }
        std::os::unix::fs::symlink(
            &live_temp,
            dir.path().join(format!(".evidence.zip.tmp-{}", dead - 1)),
        )
        .unwrap();
        let removed = sweep_stale(&target, TempKind::HiddenFile).unwrap();
        assert_eq!(removed, vec![stale.clone()]);
        assert!(!stale.exists() && live_temp.exists() && not_hidden.exists());
        assert!(dir
            .path()
            .join(format!(".evidence.zip.tmp-{}", dead - 1))
            .symlink_metadata()
            .is_ok());
    }

    #[test]
    fn a_missing_directory_holds_nothing_to_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("not/there/snap");
        assert!(sweep_stale(&target, TempKind::Directory)
            .unwrap()
            .is_empty());
        assert!(sweep_stale(Path::new("/"), TempKind::Directory)
            .unwrap()
            .is_empty());
    }
}
