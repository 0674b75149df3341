//! Why a root filesystem could not be built: [`RootfsError`], with a hint
//! per kind of failure, and the shape of the messages that quote a
//! command's output (its last lines, indented).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// How many lines of a command's output an error shows.
const TAIL_LINES: usize = 25;

/// Why a root filesystem could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// Not Linux: no chroot, mount or dpkg as needed.
    #[error("rootfs needs Linux (chroot, mount and dpkg); this system is {os}")]
    NotLinux {
        /// `std::env::consts::OS`.
        os: String,
    },
    /// Not root: chroot and mount need it.
    #[error("rootfs must run as root (it runs chroot and mount); the effective user id is {euid}")]
    NotRoot {
        /// The effective user id.
        euid: u32,
    },
    /// Host programs that are missing.
    #[error("rootfs needs {}, not found in PATH or /usr/sbin, /usr/bin, /sbin, /bin", .tools.join(", "))]
    MissingTools {
        /// Their names.
        tools: Vec<String>,
    },
    /// The lock's architecture cannot run here.
    #[error("the lock is for {lock}, but this machine is {host}: its maintainer scripts cannot run here")]
    ForeignArchitecture {
        /// The lock's architecture.
        lock: String,
        /// The host's dpkg architecture.
        host: String,
    },
    /// The target path cannot be used.
    #[error("{}: {reason}", .path.display())]
    BadTarget {
        /// The target.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// The target exists and has something in it.
    #[error("{}: exists and is not empty", .path.display())]
    TargetNotEmpty {
        /// The target.
        path: PathBuf,
    },
    /// An in-place target holds something other than what an image
    /// builder's `createRootFS` leaves.
    #[error("{}: holds {entry}, which debclosure would install over", .path.display())]
    TargetNotFresh {
        /// The target.
        path: PathBuf,
        /// The first unexpected entry (`etc`, or `dev/null`).
        entry: String,
    },
    /// No local file has the SHA256 the lock gives a package.
    #[error("{package} {version} ({filename}): none of the files listed in {} has its sha256 {sha256}", .list.display())]
    MissingLocalDeb {
        /// The package.
        package: String,
        /// Its version.
        version: String,
        /// Its archive-relative file name.
        filename: String,
        /// The SHA256 the lock records.
        sha256: crate::hash::Sha256,
        /// The list of local files.
        list: Box<Path>,
    },
    /// There is no `dpkg` package to install with.
    #[error("the closure has no dpkg package, so nothing in the tree could install it")]
    NoDpkg,
    /// No date to derive `SOURCE_DATE_EPOCH` from.
    #[error("the lock records no Release file, so there is no date for SOURCE_DATE_EPOCH")]
    NoReleaseDate,
    /// A Release date in the lock does not parse.
    #[error("release {path}: date {date:?} is not a Release file date")]
    BadReleaseDate {
        /// The Release file's archive-relative path.
        path: String,
        /// The date as written.
        date: String,
    },
    /// A file system operation failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done (`create`, `remove`, `write`).
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A program could not be started or waited for.
    #[error("cannot run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A helper command failed.
    #[error("{command} failed ({status}){}", tail_block(.output))]
    Command {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed, stdout and stderr interleaved.
        output: String,
    },
    /// An install group failed.
    #[error("{0}")]
    Install(InstallFailure),
    /// With `--keep-going`: everything that failed.
    #[error("{}", keep_going_summary(.failures, .audit, .groups))]
    KeepGoing {
        /// The groups that failed.
        failures: Vec<InstallFailure>,
        /// What `dpkg --audit` printed, if anything.
        audit: String,
        /// How many groups there were.
        groups: usize,
    },
    /// `dpkg --audit` printed something.
    #[error("dpkg --audit reports problems:{}", tail_lines(.output))]
    Audit {
        /// Its output.
        output: String,
    },
    /// What dpkg has installed is not what the lock says.
    #[error("the installed packages differ from the lock: {}", manifest_difference(.missing, .unexpected))]
    Manifest {
        /// In the lock, not installed (`name version arch`).
        missing: Vec<String>,
        /// Installed, not in the lock.
        unexpected: Vec<String>,
    },
    /// A package replaced a merged-`/usr` link with a directory.
    #[error("merged /usr: /{dir} is no longer a symbolic link to usr/{dir} after unpacking the packages")]
    MergedUsr {
        /// `bin`, `lib`, ...
        dir: String,
    },
    /// A mount point is not a plain directory inside the tree.
    #[error("{}: refusing to mount on it: {reason}", .path.display())]
    MountPoint {
        /// The path.
        path: PathBuf,
        /// Why not.
        reason: String,
    },
    /// Something is still mounted under a tree that was to be removed.
    #[error("{} still has mounts under it ({}); it was not removed", .dir.display(), join_paths(.mounts))]
    StillMounted {
        /// The tree.
        dir: PathBuf,
        /// The mount points.
        mounts: Vec<PathBuf>,
    },
    /// SIGINT, SIGTERM or SIGHUP arrived.
    #[error("interrupted")]
    Interrupted,
}

impl RootfsError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let inspect = "rerun with --keep-failed to inspect the tree (policy-rc.d and the start-stop-daemon stand-in stay in it), and with --keep-going to see every failing group";
        Some(match self {
            RootfsError::NotLinux { .. } => "build the tree on Linux, or in a Linux VM".into(),
            RootfsError::NotRoot { .. } => "run it as root (sudo, or a container where you are root)".into(),
            RootfsError::MissingTools { .. } => "install dpkg, tar, coreutils (chroot) and mount".into(),
            RootfsError::ForeignArchitecture { .. } => "build on a machine of the lock's architecture".into(),
            RootfsError::TargetNotEmpty { .. } | RootfsError::BadTarget { .. } => {
                "name a directory that does not exist yet, or an empty one".into()
            }
            RootfsError::TargetNotFresh { .. } => {
                "--in-place takes a freshly made file system: only lost+found, .debug and empty proc, dev and sys may be in it".into()
            }
            RootfsError::MissingLocalDeb { .. } => {
                "list every .deb of the lock (e.g. the fetchurl outputs of debsFromLock), or drop --debs-from to download them".into()
            }
            RootfsError::NoDpkg => "lock with `--base essential` (or request dpkg) so that the closure can install itself".into(),
            RootfsError::NoReleaseDate | RootfsError::BadReleaseDate { .. } => {
                "write the lock again with `debclosure lock` from an archive".into()
            }
            RootfsError::Install(_)
            | RootfsError::KeepGoing { .. }
            | RootfsError::Audit { .. }
            | RootfsError::Manifest { .. }
            | RootfsError::MergedUsr { .. } => inspect.into(),
            RootfsError::StillMounted { .. } => "unmount them (`umount -R PATH`), then remove the tree".into(),
            _ => return None,
        })
    }
}

/// One `dpkg --install` run that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallFailure {
    /// The group, from 0.
    pub group: u32,
    /// The packages dpkg named as failed; all of the group's if it named none.
    pub packages: Vec<String>,
    /// How dpkg ended (`exit status: 1`).
    pub status: String,
    /// dpkg's output, stdout and stderr interleaved.
    pub output: String,
}

impl fmt::Display for InstallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "group {}: dpkg --install failed ({}) on {}{}",
            self.group,
            self.status,
            self.packages.join(", "),
            tail_block(&self.output)
        )
    }
}

/// The last [`TAIL_LINES`] lines of `output`, each on a new line and
/// indented.
fn tail_lines(output: &str) -> String {
    let all: Vec<&str> = output.trim_end().lines().collect();
    all[all.len().saturating_sub(TAIL_LINES)..].iter().map(|l| format!("\n    {l}")).collect()
}

/// `; its output ends with:` and the tail of `output`; nothing if empty.
fn tail_block(output: &str) -> String {
    match tail_lines(output) {
        t if t.is_empty() => String::new(),
        t => format!("; its output ends with:{t}"),
    }
}

fn keep_going_summary(failures: &[InstallFailure], audit: &str, groups: &usize) -> String {
    let mut s = format!("{} of {groups} install groups failed", failures.len());
    for f in failures {
        s.push_str(&format!("\n  {f}"));
    }
    if !audit.trim().is_empty() {
        s.push_str(&format!("\n  dpkg --audit reports problems:{}", tail_lines(audit)));
    }
    s
}

fn manifest_difference(missing: &[String], unexpected: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("not installed: {}", missing.join(", ")));
    }
    if !unexpected.is_empty() {
        parts.push(format!("not in the lock: {}", unexpected.join(", ")));
    }
    parts.join("; ")
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

pub(super) fn io_error<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> RootfsError + 'p {
    move |source| RootfsError::Io { action, path: path.to_owned(), source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_failures_show_group_package_and_tail() {
        let output: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let f = InstallFailure { group: 3, packages: vec!["fails".into()], status: "exit status: 1".into(), output };
        let text = RootfsError::Install(f.clone()).to_string();
        assert!(text.starts_with("group 3: dpkg --install failed (exit status: 1) on fails; its output ends with:\n    line 16\n"), "{text}");
        assert!(text.ends_with("    line 40") && !text.contains("line 15\n"), "{text}");
        let summary = RootfsError::KeepGoing { failures: vec![f], audit: "x is half-configured\n".into(), groups: 5 }.to_string();
        assert!(summary.starts_with("1 of 5 install groups failed\n  group 3:"), "{summary}");
        assert!(summary.ends_with("\n  dpkg --audit reports problems:\n    x is half-configured"), "{summary}");
    }
}
