//! A root filesystem built from a pinned closure, the way nixpkgs' image
//! builds (`vmTools.fillDiskWithDebs`) install Debian: proof that a lock
//! installs, and a tree or tar to use.
//!
//! The steps, in a staging directory beside the target
//! (`.TARGET.debclosure-XXXX`), renamed to the target only when all of them
//! succeeded:
//!
//! 1. merged `/usr`: `bin`, `sbin`, `lib` (and `lib64` where the dynamic
//!    loader lives there) are symbolic links into `usr/`, as debootstrap lays
//!    them out from bookworm on;
//! 2. every `.deb` is unpacked with `dpkg-deb --fsys-tarfile | tar
//!    --keep-directory-symlink`, so that the first `dpkg --install` finds a
//!    shell, a C library and dpkg itself. `dpkg-deb --extract` would replace
//!    the merged-`/usr` links with directories, and `dpkg --root` would run
//!    the host's dpkg, whose version the lock does not pin;
//! 3. an empty dpkg database (`var/lib/dpkg/status`, `available`);
//! 4. `/proc`, `/sys` and `/dev` mounted for the maintainer scripts, a
//!    `policy-rc.d` that denies every service start, and `start-stop-daemon`
//!    diverted to a stand-in (a dpkg diversion, so that unpacking dpkg itself
//!    does not put the real one back);
//! 5. each install group of the lock, in order, with `chroot ROOT dpkg
//!    --install --force-unsafe-io` (no fsync per file: a failed tree is
//!    thrown away), without `--force-all`: the first failing group stops the
//!    run, naming its failed packages and the end of dpkg's output;
//! 6. the stand-ins removed, `dpkg --audit` (which must print nothing), the
//!    mounts removed, a static `/dev` (`null`, `zero`, `tty`, ...) made as
//!    debootstrap makes it, the records of the run (`dpkg.log`,
//!    `alternatives.log`, ldconfig's `aux-cache`) and random seeds removed,
//!    the installed packages compared with the lock, and the manifest
//!    (`TARGET.manifest`) and optionally a reproducible tar written.
//!
//! Mounts are undone on every way out: errors return through a guard whose
//! `Drop` unmounts, panics unwind through it, and signals only set a flag
//! ([`cancel_on_signals`]) that the steps poll, terminating a running child.
//! The staging tree is removed only after checking `/proc/self/mountinfo`
//! that nothing is mounted under it.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::archive::ReleaseRecord;
use crate::release::parse_date;

/// Where the `.deb` files of a group are put inside the tree while dpkg
/// installs them.
const DEB_DIR: &str = "var/cache/debclosure";

/// How many lines of a command's output an error shows.
const TAIL_LINES: usize = 25;

/// How often a running child is checked for exit and for cancellation.
const POLL: Duration = Duration::from_millis(50);

/// How long a cancelled child gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// The environment of every command run in the tree: nothing of the
/// caller's, so that two runs see the same.
const CHROOT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Files that record when and in which inodes the build ran rather than
/// what it installed, and random seeds, which every machine made from the
/// tree would otherwise share (the boot scripts write a new one); removed so
/// that two builds give the same tree.
const RUN_RECORDS: [&str; 5] = [
    "var/log/dpkg.log",
    "var/log/alternatives.log",
    "var/cache/ldconfig/aux-cache",
    "var/lib/urandom/random-seed",
    "var/lib/systemd/random-seed",
];

/// The device nodes of a static `/dev` (Linux's numbers, as debootstrap
/// makes them), so that programs run with a plain `chroot TARGET` find
/// `/dev/null`; a booted system or a container mounts its own `/dev` over
/// them. (name, mode, major, minor)
const DEVICES: [(&str, &str, u32, u32); 8] = [
    ("null", "666", 1, 3),
    ("zero", "666", 1, 5),
    ("full", "666", 1, 7),
    ("random", "666", 1, 8),
    ("urandom", "666", 1, 9),
    ("tty", "666", 5, 0),
    ("console", "600", 5, 1),
    ("ptmx", "666", 5, 2),
];

/// The symbolic links of a static `/dev`.
const DEVICE_LINKS: [(&str, &str); 4] =
    [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")];

/// `policy-rc.d` (Debian Policy's invoke-rc.d interface): 101 means "action
/// forbidden", so no maintainer script starts a service in the tree.
const POLICY_RC_D: &str = "#!/bin/sh\n# Written by debclosure rootfs while it installs packages; removed afterwards.\nexit 101\n";

/// Stands in for `start-stop-daemon`, which some maintainer scripts call
/// directly rather than through invoke-rc.d.
const START_STOP_DAEMON: &str =
    "#!/bin/sh\n# Written by debclosure rootfs while it installs packages; removed afterwards.\necho \"debclosure rootfs: not starting a daemon: start-stop-daemon $*\" >&2\nexit 0\n";

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
        sha256: String,
        /// The list of local files.
        list: PathBuf,
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

fn io_error<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> RootfsError + 'p {
    move |source| RootfsError::Io { action, path: path.to_owned(), source }
}

/// The programs run on the host, by absolute path.
#[derive(Debug, Clone)]
pub struct Tools {
    chroot: PathBuf,
    dpkg_deb: PathBuf,
    dpkg_query: PathBuf,
    tar: PathBuf,
    mount: PathBuf,
    umount: PathBuf,
    mknod: PathBuf,
}

/// The host programs [`Tools::find`] looks for.
const TOOL_NAMES: [&str; 7] = ["chroot", "dpkg-deb", "dpkg-query", "tar", "mount", "umount", "mknod"];

impl Tools {
    /// Checks that this is Linux and that we are root, and finds the
    /// programs needed.
    pub fn find() -> Result<Tools, RootfsError> {
        let found: Vec<Option<PathBuf>> = TOOL_NAMES.iter().map(|name| find_program(name)).collect();
        let missing: Vec<&str> = TOOL_NAMES.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(n, _)| *n).collect();
        check_host(std::env::consts::OS, sys::effective_uid(), &missing)?;
        let mut found = found.into_iter().map(|p| p.expect("missing programs were reported"));
        let mut next = || found.next().expect("one path per tool name");
        Ok(Tools {
            chroot: next(),
            dpkg_deb: next(),
            dpkg_query: next(),
            tar: next(),
            mount: next(),
            umount: next(),
            mknod: next(),
        })
    }

    /// Tools found by name in `PATH` only, without the host checks: for
    /// tests of steps that need neither root nor a chroot.
    #[doc(hidden)]
    pub fn unchecked() -> Tools {
        let get = |n: &str| find_program(n).unwrap_or_else(|| PathBuf::from(n));
        Tools {
            chroot: get("chroot"),
            dpkg_deb: get("dpkg-deb"),
            dpkg_query: get("dpkg-query"),
            tar: get("tar"),
            mount: get("mount"),
            umount: get("umount"),
            mknod: get("mknod"),
        }
    }
}

/// The first problem with the host: not Linux, not root, missing programs.
pub fn check_host(os: &str, euid: u32, missing: &[&str]) -> Result<(), RootfsError> {
    if os != "linux" {
        return Err(RootfsError::NotLinux { os: os.to_owned() });
    }
    if euid != 0 {
        return Err(RootfsError::NotRoot { euid });
    }
    if !missing.is_empty() {
        return Err(RootfsError::MissingTools { tools: missing.iter().map(|s| (*s).to_owned()).collect() });
    }
    Ok(())
}

/// Refuses a lock whose architecture the host cannot run.
pub fn check_architecture(lock: &str, host: &str) -> Result<(), RootfsError> {
    if lock == host {
        return Ok(());
    }
    Err(RootfsError::ForeignArchitecture { lock: lock.to_owned(), host: host.to_owned() })
}

/// `name` in `PATH`, or in the system directories (root's programs are in
/// `sbin`, which a user's `PATH` may lack).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::env::split_paths(CHROOT_PATH))
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// Checks that `target` names a directory that is absent or empty.
pub fn check_target(target: &Path) -> Result<(), RootfsError> {
    let bad = |reason: &str| RootfsError::BadTarget { path: target.to_owned(), reason: reason.to_owned() };
    if target.file_name().is_none() {
        return Err(bad("names no directory (it ends in `..` or is `/`)"));
    }
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RootfsError::Io { action: "examine", path: target.to_owned(), source: e }),
        Ok(m) if m.file_type().is_symlink() => Err(bad("is a symbolic link")),
        Ok(m) if !m.is_dir() => Err(bad("exists and is not a directory")),
        Ok(_) => {
            let mut entries = fs::read_dir(target).map_err(io_error("read", target))?;
            match entries.next() {
                None => Ok(()),
                Some(_) => Err(RootfsError::TargetNotEmpty { path: target.to_owned() }),
            }
        }
    }
}

/// What a file system made by an image builder may hold before `--in-place`
/// installs into it: `mkfs.ext4`'s `lost+found` and, from nixpkgs'
/// `vmTools.defaultCreateRootFS`, the `.debug` marker and the empty mount
/// points `proc`, `dev` and `sys`.
const FRESH_FILE_SYSTEM: [&str; 5] = ["lost+found", ".debug", "proc", "dev", "sys"];

/// Checks that `target` is an existing directory (a mounted file system,
/// typically) that holds nothing but [`FRESH_FILE_SYSTEM`], those
/// directories empty.
pub fn check_in_place_target(target: &Path) -> Result<(), RootfsError> {
    let bad = |reason: &str| RootfsError::BadTarget { path: target.to_owned(), reason: reason.to_owned() };
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(bad("does not exist (--in-place installs into an existing directory)")),
        Err(e) => return Err(RootfsError::Io { action: "examine", path: target.to_owned(), source: e }),
        Ok(m) if m.file_type().is_symlink() => return Err(bad("is a symbolic link")),
        Ok(m) if !m.is_dir() => return Err(bad("is not a directory")),
        Ok(_) => {}
    }
    let not_fresh = |entry: String| RootfsError::TargetNotFresh { path: target.to_owned(), entry };
    let mut names = Vec::new();
    for entry in fs::read_dir(target).map_err(io_error("read", target))? {
        names.push(entry.map_err(io_error("read", target))?.file_name());
    }
    names.sort();
    for name in names {
        let shown = name.to_string_lossy().into_owned();
        if !FRESH_FILE_SYSTEM.contains(&shown.as_str()) {
            return Err(not_fresh(shown));
        }
        let path = target.join(&name);
        let meta = fs::symlink_metadata(&path).map_err(io_error("examine", &path))?;
        if shown == ".debug" {
            if !meta.is_file() {
                return Err(not_fresh(shown));
            }
            continue;
        }
        if !meta.is_dir() {
            return Err(not_fresh(shown));
        }
        if let Some(inner) = fs::read_dir(&path).map_err(io_error("read", &path))?.next() {
            let inner = inner.map_err(io_error("read", &path))?;
            return Err(not_fresh(format!("{shown}/{}", inner.file_name().to_string_lossy())));
        }
    }
    Ok(())
}

/// The files listed in `list` (one path per line; blank lines ignored),
/// each with its SHA256, for [`match_local_debs`].
pub fn read_local_debs(list: &Path) -> Result<Vec<(PathBuf, String)>, RootfsError> {
    let text = fs::read_to_string(list).map_err(io_error("read", list))?;
    let mut files = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let path = PathBuf::from(line);
        let sha256 = File::open(&path).and_then(crate::fetch::hash_reader).map_err(io_error("read", &path))?;
        files.push((path, sha256));
    }
    Ok(files)
}

/// The `.deb` of each package among local files, matched by SHA256: for
/// `rootfs --debs-from LIST`, where the files come from elsewhere (the Nix
/// store) and their names say nothing the lock can check. `files` holds
/// (path, SHA256) pairs; `list` names where they were listed, for errors.
pub fn match_local_debs<'p>(
    packages: impl IntoIterator<Item = (&'p str, &'p str, &'p str, &'p str)>,
    files: &[(PathBuf, String)],
    list: &Path,
) -> Result<Vec<PathBuf>, RootfsError> {
    let by_hash: std::collections::BTreeMap<&str, &Path> =
        files.iter().map(|(path, sha256)| (sha256.as_str(), path.as_path())).collect();
    packages
        .into_iter()
        .map(|(name, version, filename, sha256)| {
            by_hash.get(sha256).map(|p| p.to_path_buf()).ok_or_else(|| RootfsError::MissingLocalDeb {
                package: name.to_owned(),
                version: version.to_owned(),
                filename: filename.to_owned(),
                sha256: sha256.to_owned(),
                list: list.to_owned(),
            })
        })
        .collect()
}

/// The directory the staging tree goes in (the target's parent) and the
/// prefix of its name: `.TARGET.debclosure-`.
pub fn staging_location(target: &Path) -> Result<(PathBuf, String), RootfsError> {
    let name = target.file_name().ok_or_else(|| RootfsError::BadTarget {
        path: target.to_owned(),
        reason: "names no directory (it ends in `..` or is `/`)".into(),
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((parent, format!(".{}.debclosure-", name.to_string_lossy())))
}

/// `TARGET.manifest`, beside the target.
pub fn manifest_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(OsString::from).unwrap_or_default();
    name.push(".manifest");
    target.with_file_name(name)
}

/// The manifest from `dpkg-query -W` output: lines sorted bytewise, no
/// empty lines, a trailing newline.
pub fn render_manifest(dpkg_query_output: &str) -> String {
    let mut lines: Vec<&str> = dpkg_query_output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `SOURCE_DATE_EPOCH` for a lock: the newest `Date` of its Release files.
pub fn source_date_epoch(releases: &[ReleaseRecord]) -> Result<i64, RootfsError> {
    let mut newest = None;
    for r in releases {
        let t = parse_date(&r.date).ok_or_else(|| RootfsError::BadReleaseDate { path: r.path.clone(), date: r.date.clone() })?;
        newest = newest.max(Some(t));
    }
    newest.ok_or(RootfsError::NoReleaseDate)
}

/// The top-level directories that are symbolic links into `usr/` on a
/// merged-`/usr` system of `architecture`: `bin`, `sbin`, `lib`, and `lib64`
/// where the architecture's dynamic loader is in `/lib64`.
pub fn merged_usr_links(architecture: &str) -> &'static [&'static str] {
    match architecture {
        "amd64" | "ppc64el" | "ppc64" | "sparc64" | "mips64el" | "loong64" | "x32" => &["bin", "sbin", "lib", "lib64"],
        _ => &["bin", "sbin", "lib"],
    }
}

/// One package to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsPackage {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Architecture (the target or `all`).
    pub architecture: String,
    /// Install group, from 0.
    pub group: u32,
    /// The `.deb`'s archive-relative path (its last component names the
    /// file inside the tree while dpkg installs it).
    pub filename: String,
    /// The verified `.deb`, on the host.
    pub deb: PathBuf,
}

/// What to do when a group fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InstallMode {
    /// Stop at the first failure (`dpkg --install`, no forcing).
    #[default]
    Strict,
    /// Go on as nixpkgs does (`dpkg --install --force-all ... || true`),
    /// and report every failure at the end.
    KeepGoing,
}

/// What to do with the staging tree of a failed run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// Remove it.
    #[default]
    Remove,
    /// Leave it for inspection.
    Keep,
}

/// Where the tree is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Placement {
    /// In a staging directory beside the target, renamed to it when done;
    /// the target must be absent or empty.
    #[default]
    Staging,
    /// Straight into the target, an existing directory that holds only what
    /// an image builder's fresh file system holds
    /// ([`check_in_place_target`]); for a file system mounted in a VM, where
    /// a rename from beside it is impossible. A failed tree is left as it is.
    InPlace,
}

/// How to build.
#[derive(Debug, Clone)]
pub struct RootfsOptions {
    /// The closure's architecture.
    pub architecture: String,
    /// `SOURCE_DATE_EPOCH` for the commands, and the mtime of tar entries.
    pub source_date_epoch: i64,
    /// Stop at the first failure or go on.
    pub mode: InstallMode,
    /// Remove or keep a failed tree.
    pub on_failure: OnFailure,
    /// Also write the tree as a tar here.
    pub tar: Option<PathBuf>,
    /// Staging beside the target, or in place.
    pub placement: Placement,
    /// Where the manifest goes; `None`: `TARGET.manifest` ([`manifest_path`]).
    pub manifest: Option<PathBuf>,
}

/// Receives one line per step.
pub trait RootfsReporter {
    /// A step starts. `message` is a lower-case fragment.
    fn step(&self, message: &str) {
        let _ = message;
    }
}

/// A [`RootfsReporter`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSteps;

impl RootfsReporter for NoSteps {}

/// What a successful build wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The tree.
    pub target: PathBuf,
    /// The manifest beside it.
    pub manifest: PathBuf,
    /// The tar, if asked for.
    pub tar: Option<PathBuf>,
    /// How many packages are installed.
    pub packages: usize,
}

/// A failed build.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong.
    pub error: RootfsError,
    /// The staging tree, when it was kept (`--keep-failed`, or removing it
    /// failed: see `cleanup`).
    pub kept: Option<PathBuf>,
    /// Why the staging tree could not be removed.
    pub cleanup: Option<Box<RootfsError>>,
}

impl From<RootfsError> for Failure {
    fn from(error: RootfsError) -> Failure {
        Failure { error, kept: None, cleanup: None }
    }
}

/// Builds the tree of `packages` at `target`, as the module documentation
/// describes: through a staging directory (the target absent or empty) or
/// in place ([`Placement`]). `cancel` is polled between steps and while
/// children run; when it is set, the running child is terminated and the
/// build fails with [`RootfsError::Interrupted`], cleaning up as for any
/// failure.
pub fn build_rootfs(
    target: &Path,
    packages: &[RootfsPackage],
    options: &RootfsOptions,
    tools: &Tools,
    reporter: &dyn RootfsReporter,
    cancel: &AtomicBool,
) -> Result<Built, Failure> {
    match options.placement {
        Placement::Staging => check_target(target)?,
        Placement::InPlace => check_in_place_target(target)?,
    }
    if !packages.iter().any(|p| p.name == "dpkg") {
        return Err(RootfsError::NoDpkg.into());
    }
    let manifest_file = options.manifest.clone().unwrap_or_else(|| manifest_path(target));
    let persist_tar = |tar: Option<tempfile::NamedTempFile>| match (tar, &options.tar) {
        (Some(tmp), Some(dest)) => {
            tmp.persist(dest).map_err(|e| RootfsError::Io { action: "write", path: dest.clone(), source: e.error })?;
            Ok(Some(dest.clone()))
        }
        _ => Ok(None),
    };
    if options.placement == Placement::InPlace {
        // Canonical, so that it compares with `/proc/self/mountinfo`.
        let root = target.canonicalize().map_err(|e| Failure::from(io_error("resolve", target)(e)))?;
        reporter.step(&format!("building in {}", root.display()));
        let outcome = install(&root, packages, options, tools, reporter, cancel).and_then(|(manifest, tar)| {
            check_cancel(cancel)?;
            write_atomically(&manifest_file, manifest.as_bytes())?;
            let tar = persist_tar(tar)?;
            Ok(Built { target: target.to_owned(), manifest: manifest_file.clone(), tar, packages: packages.len() })
        });
        return outcome.map_err(|error| Failure { error, kept: Some(root), cleanup: None });
    }
    let mut staging = Staging::create(target, options.on_failure)?;
    reporter.step(&format!("building in {}", staging.path.display()));
    let outcome = install(&staging.path, packages, options, tools, reporter, cancel).and_then(|(manifest, tar)| {
        check_cancel(cancel)?;
        write_atomically(&manifest_file, manifest.as_bytes())?;
        if let Err(source) = fs::rename(&staging.path, target) {
            let _ = fs::remove_file(&manifest_file);
            return Err(RootfsError::Io { action: "rename the finished tree to", path: target.to_owned(), source });
        }
        staging.disarm();
        let tar = persist_tar(tar)?;
        Ok(Built { target: target.to_owned(), manifest: manifest_file.clone(), tar, packages: packages.len() })
    });
    outcome.map_err(|error| {
        let (kept, cleanup) = staging.abandon();
        Failure { error, kept, cleanup }
    })
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), RootfsError> {
    if cancel.load(Ordering::SeqCst) {
        return Err(RootfsError::Interrupted);
    }
    Ok(())
}

/// The staging tree; removed when dropped unless kept or disarmed.
struct Staging {
    /// Canonical, so that it compares with `/proc/self/mountinfo`.
    path: PathBuf,
    on_failure: OnFailure,
    armed: bool,
}

impl Staging {
    fn create(target: &Path, on_failure: OnFailure) -> Result<Staging, RootfsError> {
        let (parent, prefix) = staging_location(target)?;
        fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(4)
            .tempdir_in(&parent)
            .map_err(io_error("create a staging directory in", &parent))?
            .keep();
        let path = dir.canonicalize().map_err(io_error("resolve", &dir))?;
        let staging = Staging { path, on_failure, armed: true };
        fs::set_permissions(&staging.path, fs::Permissions::from_mode(0o755)).map_err(io_error("set the mode of", &staging.path))?;
        Ok(staging)
    }

    fn disarm(&mut self) {
        self.armed = false;
    }

    /// After a failure: keeps or removes the tree. Returns the kept path and
    /// why removing failed, if it did.
    fn abandon(&mut self) -> (Option<PathBuf>, Option<Box<RootfsError>>) {
        self.armed = false;
        match self.on_failure {
            OnFailure::Keep => (Some(self.path.clone()), None),
            OnFailure::Remove => match remove_tree(&self.path) {
                Ok(()) => (None, None),
                Err(e) => (Some(self.path.clone()), Some(Box::new(e))),
            },
        }
    }
}

impl Drop for Staging {
    // Reached with `armed` only when a panic unwinds past the build.
    fn drop(&mut self) {
        if self.armed && self.on_failure == OnFailure::Remove {
            let _ = remove_tree(&self.path);
        }
    }
}

/// Removes `dir`, unless something is mounted under it: removing files
/// through a bind mount of `/dev` would remove the host's.
fn remove_tree(dir: &Path) -> Result<(), RootfsError> {
    let mounts = mounts_under(dir);
    if !mounts.is_empty() {
        return Err(RootfsError::StillMounted { dir: dir.to_owned(), mounts });
    }
    fs::remove_dir_all(dir).map_err(io_error("remove", dir))
}

/// The mount points at or under `dir` (canonical), from
/// `/proc/self/mountinfo`; if that cannot be read, `dir` itself, so that
/// nothing is removed blind.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    match fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => mount_points(&text).into_iter().filter(|p| p.starts_with(dir)).collect(),
        Err(_) => vec![dir.to_owned()],
    }
}

/// The mount point column of `/proc/self/mountinfo` text, unescaped (the
/// kernel writes space, tab, newline and backslash as `\ooo`).
fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| {
            let bytes = field.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let octal = bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
                match octal {
                    Some(d) => {
                        out.push(d.iter().fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')));
                        i += 4;
                    }
                    None => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            PathBuf::from(OsString::from_vec(out))
        })
        .collect()
}

/// Mounts made in the tree; unmounted, last first, when dropped.
struct Mounts<'t> {
    tools: &'t Tools,
    root: PathBuf,
    points: Vec<PathBuf>,
}

impl<'t> Mounts<'t> {
    fn new(tools: &'t Tools, root: &Path) -> Mounts<'t> {
        Mounts { tools, root: root.to_owned(), points: Vec::new() }
    }

    /// `mount ARGS... ROOT/DIR`, after checking that `ROOT/DIR` is a plain
    /// directory (a package could have made it a symbolic link out of the
    /// tree).
    fn mount(&mut self, dir: &str, args: &[&str]) -> Result<(), RootfsError> {
        let point = self.root.join(dir);
        match fs::symlink_metadata(&point) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&point).map_err(io_error("create", &point))?,
            Err(e) => return Err(RootfsError::Io { action: "examine", path: point, source: e }),
            Ok(m) if !m.file_type().is_dir() => {
                return Err(RootfsError::MountPoint { path: point, reason: "not a directory (a symbolic link or a file)".into() })
            }
            Ok(_) => {}
        }
        let mut cmd = Command::new(&self.tools.mount);
        cmd.args(args).arg(&point);
        run_host(&mut cmd)?;
        self.points.push(point);
        Ok(())
    }

    /// Unmounts everything, lazily where a plain unmount fails (a process
    /// left behind by a maintainer script), and checks that nothing is left.
    fn unmount_all(&mut self) -> Result<(), RootfsError> {
        let mut first_error = None;
        while let Some(point) = self.points.pop() {
            let plain = run_host(Command::new(&self.tools.umount).arg(&point));
            if plain.is_err() {
                if let Err(e) = run_host(Command::new(&self.tools.umount).arg("--lazy").arg(&point)) {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        // The root itself may be a mount point (--in-place on a mounted
        // file system); what this run mounted is under it.
        let left: Vec<PathBuf> = mounts_under(&self.root).into_iter().filter(|p| *p != self.root).collect();
        if !left.is_empty() {
            return Err(RootfsError::StillMounted { dir: self.root.clone(), mounts: left });
        }
        Ok(())
    }
}

impl Drop for Mounts<'_> {
    fn drop(&mut self) {
        let _ = self.unmount_all();
    }
}

/// How a command ended and what it printed.
struct Finished {
    status: ExitStatus,
    output: String,
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn output_file() -> Result<File, RootfsError> {
    tempfile::tempfile().map_err(io_error("create a temporary file in", &std::env::temp_dir()))
}

fn read_output(mut file: File) -> String {
    let mut bytes = Vec::new();
    let _ = file.rewind().and_then(|()| file.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs a short host command to completion; fails unless it exits 0.
fn run_host(cmd: &mut Command) -> Result<String, RootfsError> {
    let command = describe(cmd);
    let out = cmd
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| RootfsError::Spawn { program: command.clone(), source })?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(RootfsError::Command { command, status: out.status.to_string(), output });
    }
    Ok(output)
}

/// Runs `cmd` in its own process group, stdout and stderr to one file, and
/// waits, polling `cancel`: when it is set, the whole group gets SIGTERM,
/// then SIGKILL after [`GRACE`].
fn run_cancellable(cmd: &mut Command, cancel: &AtomicBool) -> Result<Finished, RootfsError> {
    let command = describe(cmd);
    let log = output_file()?;
    let clone = |f: &File| f.try_clone().map_err(|source| RootfsError::Spawn { program: command.clone(), source });
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(clone(&log)?)
        .stderr(clone(&log)?)
        .process_group(0)
        .spawn()
        .map_err(|source| RootfsError::Spawn { program: command.clone(), source })?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => return Err(RootfsError::Spawn { program: command, source }),
        }
        if cancel.load(Ordering::SeqCst) {
            terminate(&mut child);
            return Err(RootfsError::Interrupted);
        }
        std::thread::sleep(POLL);
    };
    Ok(Finished { status, output: read_output(log) })
}

/// Ends a child and everything in its process group.
fn terminate(child: &mut Child) {
    // The child is not reaped yet, so its id still names its group.
    sys::kill_group(child.id(), sys::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(POLL);
    }
    sys::kill_group(child.id(), sys::SIGKILL);
    let _ = child.wait();
}

/// A command run inside the tree, with a fixed environment.
fn in_chroot(tools: &Tools, root: &Path, epoch: i64, args: &[&str]) -> Command {
    let mut cmd = Command::new(&tools.chroot);
    cmd.arg(root)
        .args(args)
        .env_clear()
        .env("PATH", CHROOT_PATH)
        .env("HOME", "/root")
        .env("LC_ALL", "C")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("DEBCONF_NONINTERACTIVE_SEEN", "true")
        .env("SOURCE_DATE_EPOCH", epoch.to_string());
    cmd
}

/// Runs a command in the tree that must succeed.
fn run_in_chroot(tools: &Tools, root: &Path, epoch: i64, args: &[&str], cancel: &AtomicBool) -> Result<String, RootfsError> {
    let mut cmd = in_chroot(tools, root, epoch, args);
    let done = run_cancellable(&mut cmd, cancel)?;
    if !done.status.success() {
        return Err(RootfsError::Command { command: args.join(" "), status: done.status.to_string(), output: done.output });
    }
    Ok(done.output)
}

/// Unpacks the data of `deb` into `root`, keeping existing symbolic links
/// to directories (merged `/usr`), with the numeric owners of the archive
/// rather than the host's idea of its user names.
fn extract(tools: &Tools, deb: &Path, root: &Path, cancel: &AtomicBool) -> Result<(), RootfsError> {
    let log = output_file()?;
    let clone = |f: &File| f.try_clone().map_err(|source| RootfsError::Spawn { program: "dpkg-deb".into(), source });
    let mut reader = Command::new(&tools.dpkg_deb);
    reader.arg("--fsys-tarfile").arg(deb).env("LC_ALL", "C").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(clone(&log)?);
    let command = format!("{} | tar -x", describe(&reader));
    let spawn_error = |source| RootfsError::Spawn { program: command.clone(), source };
    let mut reader = reader.spawn().map_err(spawn_error)?;
    let data = reader.stdout.take().expect("stdout is piped");
    let tar = Command::new(&tools.tar)
        .args(["-x", "-p", "--same-owner", "--numeric-owner", "--keep-directory-symlink", "--warning=no-timestamp", "-f", "-", "-C"])
        .arg(root)
        .env("LC_ALL", "C")
        .stdin(data)
        .stdout(clone(&log)?)
        .stderr(clone(&log)?)
        .status();
    let read = reader.wait();
    let (tar, read) = (tar.map_err(spawn_error)?, read.map_err(spawn_error)?);
    check_cancel(cancel)?;
    if !tar.success() || !read.success() {
        let status = if read.success() { format!("tar: {tar}") } else { format!("dpkg-deb: {read}") };
        return Err(RootfsError::Command { command, status, output: read_output(log) });
    }
    Ok(())
}

/// Writes `root` as a tar that depends only on the tree's contents, owners
/// and modes: entries sorted by name, every mtime `epoch`, numeric owners,
/// pax headers without the times that change from run to run, file
/// capabilities kept (`security.capability`, set by some postinst scripts).
fn write_tar(tools: &Tools, root: &Path, epoch: i64, dest: &Path, cancel: &AtomicBool) -> Result<tempfile::NamedTempFile, RootfsError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io_error("create a temporary file in", dir))?;
    let mut cmd = Command::new(&tools.tar);
    cmd.args([
        "--create",
        "--format=posix",
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
        "--sort=name",
        &format!("--mtime=@{epoch}"),
        "--numeric-owner",
        "--one-file-system",
        "--xattrs",
        "--xattrs-include=security.capability",
        "--file",
    ])
    .arg(tmp.path())
    .arg("--directory")
    .arg(root)
    .arg(".")
    .env("LC_ALL", "C");
    let done = run_cancellable(&mut cmd, cancel)?;
    if !done.status.success() {
        return Err(RootfsError::Command { command: describe(&cmd), status: done.status.to_string(), output: done.output });
    }
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644)).map_err(io_error("set the mode of", tmp.path()))?;
    Ok(tmp)
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RootfsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io_error("create a temporary file in", dir))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(fs::Permissions::from_mode(0o644)))
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(io_error("write", path))?;
    tmp.persist(path).map_err(|e| RootfsError::Io { action: "write", path: path.to_owned(), source: e.error })?;
    Ok(())
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), RootfsError> {
    fs::write(path, text)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(io_error("write", path))
}

/// The packages a failed `dpkg --install` names: the list after "Errors
/// were encountered while processing:" (package names, or `.deb` paths when
/// unpacking failed), else its "error processing" lines. Each `(name, file)`
/// of `debs` maps a `.deb` file name back to its package.
fn failed_packages(output: &str, debs: &[(&str, &str)]) -> Vec<String> {
    let to_name = |token: &str| -> String {
        let token = token.trim();
        let file = token.rsplit('/').next().unwrap_or(token);
        if let Some((name, _)) = debs.iter().find(|(_, f)| *f == file) {
            return (*name).to_owned();
        }
        token.split(':').next().unwrap_or(token).to_owned()
    };
    let mut names: Vec<String> = Vec::new();
    let push = |names: &mut Vec<String>, n: String| {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    };
    let lines: Vec<&str> = output.lines().collect();
    if let Some(at) = lines.iter().rposition(|l| l.starts_with("Errors were encountered while processing:")) {
        for line in lines[at + 1..].iter().take_while(|l| l.starts_with(' ')) {
            push(&mut names, to_name(line));
        }
    }
    if names.is_empty() {
        for line in &lines {
            for marker in ["error processing package ", "error processing archive "] {
                if let Some(rest) = line.split_once(marker).map(|(_, r)| r) {
                    push(&mut names, to_name(rest.split(" (").next().unwrap_or(rest)));
                }
            }
        }
    }
    names
}

/// Compares the installed packages (manifest lines) with the lock's.
fn compare_with_lock(manifest: &str, packages: &[RootfsPackage]) -> Result<(), RootfsError> {
    let installed: BTreeSet<String> = manifest.lines().map(|l| l.replace('\t', " ")).collect();
    let wanted: BTreeSet<String> = packages.iter().map(|p| format!("{} {} {}", p.name, p.version, p.architecture)).collect();
    let missing: Vec<String> = wanted.difference(&installed).cloned().collect();
    let unexpected: Vec<String> = installed.difference(&wanted).cloned().collect();
    if missing.is_empty() && unexpected.is_empty() {
        return Ok(());
    }
    Err(RootfsError::Manifest { missing, unexpected })
}

/// The path, inside the tree, at which the `dpkg` package ships
/// `start-stop-daemon` (`/sbin/...` in bookworm, `/usr/sbin/...` later): a
/// diversion must name the path the package lists.
fn start_stop_daemon_path(tools: &Tools, dpkg_deb: &Path) -> Result<Option<String>, RootfsError> {
    let mut reader = Command::new(&tools.dpkg_deb);
    reader.arg("--fsys-tarfile").arg(dpkg_deb).stdout(Stdio::piped()).stderr(Stdio::null()).stdin(Stdio::null());
    let command = format!("{} | tar -t", describe(&reader));
    let spawn_error = |source| RootfsError::Spawn { program: command.clone(), source };
    let mut reader = reader.spawn().map_err(spawn_error)?;
    let data = reader.stdout.take().expect("stdout is piped");
    let listing = Command::new(&tools.tar).args(["-t", "-f", "-"]).env("LC_ALL", "C").stdin(data).output().map_err(spawn_error)?;
    let read = reader.wait().map_err(spawn_error)?;
    if !listing.status.success() || !read.success() {
        let output = String::from_utf8_lossy(&listing.stderr).into_owned();
        return Err(RootfsError::Command { command, status: format!("tar: {}, dpkg-deb: {read}", listing.status), output });
    }
    Ok(String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(|l| l.trim_start_matches('.'))
        .find(|l| l.ends_with("sbin/start-stop-daemon"))
        .map(str::to_owned))
}

/// Creates the static `/dev` ([`DEVICES`], [`DEVICE_LINKS`], `pts/`,
/// `shm/`), leaving alone whatever a package put there.
fn populate_dev(tools: &Tools, root: &Path) -> Result<(), RootfsError> {
    let dev = root.join("dev");
    match fs::symlink_metadata(&dev) {
        Ok(m) if !m.file_type().is_dir() => {
            return Err(RootfsError::MountPoint { path: dev, reason: "not a directory (a symbolic link or a file)".into() })
        }
        Ok(_) => {}
        Err(_) => fs::create_dir(&dev).map_err(io_error("create", &dev))?,
    }
    let absent = |name: &str| fs::symlink_metadata(dev.join(name)).is_err();
    for (name, mode, major, minor) in DEVICES {
        if absent(name) {
            run_host(Command::new(&tools.mknod).args(["-m", mode]).arg(dev.join(name)).args(["c", &major.to_string(), &minor.to_string()]))?;
        }
    }
    for (name, target) in DEVICE_LINKS {
        if absent(name) {
            std::os::unix::fs::symlink(target, dev.join(name)).map_err(io_error("create", &dev.join(name)))?;
        }
    }
    for (name, mode) in [("pts", 0o755), ("shm", 0o1777)] {
        if absent(name) {
            let path = dev.join(name);
            fs::create_dir(&path)
                .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(mode)))
                .map_err(io_error("create", &path))?;
        }
    }
    Ok(())
}

/// Links (or copies) a verified `.deb` to `dest`.
fn place_deb(deb: &Path, dest: &Path) -> Result<(), RootfsError> {
    if fs::hard_link(deb, dest).is_ok() {
        return Ok(());
    }
    fs::copy(deb, dest).map(drop).map_err(io_error("copy a package to", dest))
}

/// Runs `dpkg --install` on one group's packages, placed in [`DEB_DIR`] for
/// the run; returns what failed, if anything did.
fn install_group(
    root: &Path,
    group: u32,
    members: &[&RootfsPackage],
    options: &RootfsOptions,
    tools: &Tools,
    cancel: &AtomicBool,
) -> Result<Option<InstallFailure>, RootfsError> {
    let mut args = vec!["dpkg".to_owned(), "--install".to_owned()];
    // A tree is thrown away if anything fails, so an fsync per file buys
    // nothing.
    args.push("--force-unsafe-io".to_owned());
    if options.mode == InstallMode::KeepGoing {
        args.push("--force-all".to_owned());
    }
    let mut files = Vec::new();
    for p in members {
        let file = p.filename.rsplit('/').next().unwrap_or(&p.filename).to_owned();
        place_deb(&p.deb, &root.join(DEB_DIR).join(&file))?;
        args.push(format!("/{DEB_DIR}/{file}"));
        files.push((p.name.as_str(), file));
    }
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let done = run_cancellable(&mut in_chroot(tools, root, options.source_date_epoch, &argv), cancel)?;
    for (_, file) in &files {
        let path = root.join(DEB_DIR).join(file);
        fs::remove_file(&path).map_err(io_error("remove", &path))?;
    }
    if done.status.success() {
        return Ok(None);
    }
    let names: Vec<(&str, &str)> = files.iter().map(|(n, f)| (*n, f.as_str())).collect();
    let mut failed = failed_packages(&done.output, &names);
    if failed.is_empty() {
        failed = members.iter().map(|p| p.name.clone()).collect();
    }
    Ok(Some(InstallFailure { group, packages: failed, status: done.status.to_string(), output: done.output }))
}

/// Everything between the empty staging tree and the finished one; returns
/// the manifest and the tar's temporary file.
fn install(
    root: &Path,
    packages: &[RootfsPackage],
    options: &RootfsOptions,
    tools: &Tools,
    reporter: &dyn RootfsReporter,
    cancel: &AtomicBool,
) -> Result<(String, Option<tempfile::NamedTempFile>), RootfsError> {
    let epoch = options.source_date_epoch;
    let links = merged_usr_links(&options.architecture);
    for dir in links {
        let real = root.join("usr").join(dir);
        fs::create_dir_all(&real).map_err(io_error("create", &real))?;
        let link = root.join(dir);
        std::os::unix::fs::symlink(format!("usr/{dir}"), &link).map_err(io_error("create", &link))?;
    }

    reporter.step(&format!("unpacking {} packages", packages.len()));
    for p in packages {
        check_cancel(cancel)?;
        extract(tools, &p.deb, root, cancel)?;
    }
    for dir in links {
        if !fs::symlink_metadata(root.join(dir)).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(RootfsError::MergedUsr { dir: (*dir).to_owned() });
        }
    }

    let admin = root.join("var/lib/dpkg");
    for dir in [admin.clone(), admin.join("info"), admin.join("updates"), root.join(DEB_DIR)] {
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
    }
    for file in ["status", "available"] {
        let path = admin.join(file);
        if !path.exists() {
            write_file(&path, "", 0o644)?;
        }
    }

    let dpkg = packages.iter().find(|p| p.name == "dpkg").ok_or(RootfsError::NoDpkg)?;
    let ssd = start_stop_daemon_path(tools, &dpkg.deb)?;

    let mut mounts = Mounts::new(tools, root);
    mounts.mount("proc", &["-t", "proc", "-o", "nosuid,nodev,noexec", "proc"])?;
    mounts.mount("sys", &["-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs"])?;
    mounts.mount("dev", &["--bind", "/dev"])?;

    let policy = root.join("usr/sbin/policy-rc.d");
    write_file(&policy, POLICY_RC_D, 0o755)?;
    if let Some(ssd) = &ssd {
        let divert = format!("{ssd}.REAL");
        run_in_chroot(tools, root, epoch, &["dpkg-divert", "--local", "--rename", "--divert", &divert, "--add", ssd], cancel)?;
        write_file(&root.join(ssd.trim_start_matches('/')), START_STOP_DAEMON, 0o755)?;
    }

    let groups = packages.iter().map(|p| p.group + 1).max().unwrap_or(0);
    let mut failures = Vec::new();
    for group in 0..groups {
        check_cancel(cancel)?;
        let members: Vec<&RootfsPackage> = packages.iter().filter(|p| p.group == group).collect();
        let count = match members.len() {
            1 => "1 package".to_owned(),
            n => format!("{n} packages"),
        };
        reporter.step(&format!("installing group {group} ({count}, {} of {groups})", group + 1));
        if let Some(failure) = install_group(root, group, &members, options, tools, cancel)? {
            match options.mode {
                InstallMode::Strict => return Err(RootfsError::Install(failure)),
                InstallMode::KeepGoing => failures.push(failure),
            }
        }
    }

    check_cancel(cancel)?;
    reporter.step("removing the stand-ins and checking with dpkg --audit");
    if let Some(ssd) = &ssd {
        let path = root.join(ssd.trim_start_matches('/'));
        fs::remove_file(&path).map_err(io_error("remove", &path))?;
        run_in_chroot(tools, root, epoch, &["dpkg-divert", "--local", "--rename", "--remove", ssd], cancel)?;
    }
    fs::remove_file(&policy).map_err(io_error("remove", &policy))?;
    let deb_dir = root.join(DEB_DIR);
    fs::remove_dir(&deb_dir).map_err(io_error("remove", &deb_dir))?;
    let audit = run_in_chroot(tools, root, epoch, &["dpkg", "--audit"], cancel)?;
    if !audit.trim().is_empty() && options.mode == InstallMode::Strict {
        return Err(RootfsError::Audit { output: audit });
    }
    mounts.unmount_all()?;
    drop(mounts);
    populate_dev(tools, root)?;
    for file in RUN_RECORDS {
        let path = root.join(file);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(RootfsError::Io { action: "remove", path, source: e }),
            _ => {}
        }
    }

    let mut query = Command::new(&tools.dpkg_query);
    query
        .arg(format!("--admindir={}", admin.display()))
        .arg("-W")
        .arg("-f=${Package}\\t${Version}\\t${Architecture}\\n");
    let manifest = render_manifest(&run_host(&mut query)?);
    let compared = compare_with_lock(&manifest, packages);
    if !failures.is_empty() || !audit.trim().is_empty() {
        return Err(RootfsError::KeepGoing { failures, audit, groups: groups as usize });
    }
    compared?;

    let tar = match &options.tar {
        Some(dest) => {
            reporter.step(&format!("writing {}", dest.display()));
            Some(write_tar(tools, root, epoch, dest, cancel)?)
        }
        None => None,
    };
    Ok((manifest, tar))
}

/// A flag set by SIGINT, SIGTERM and SIGHUP, for [`build_rootfs`]'s
/// `cancel`. The first call installs the handlers; they only set the flag,
/// so the build can unmount and clean up before the process exits.
pub fn cancel_on_signals() -> &'static AtomicBool {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(sys::install_handlers);
    &sys::CANCELLED
}

/// The few C library calls std does not offer; libc is linked into every
/// Rust program on Linux, so declaring them costs no dependency.
mod sys {
    use std::sync::atomic::{AtomicBool, Ordering};

    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGKILL: i32 = 9;
    pub const SIGTERM: i32 = 15;

    pub static CANCELLED: AtomicBool = AtomicBool::new(false);

    extern "C" {
        fn geteuid() -> u32;
        fn kill(pid: i32, sig: i32) -> i32;
        fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    }

    /// Only async-signal-safe work: one atomic store.
    extern "C" fn on_signal(_: i32) {
        CANCELLED.store(true, Ordering::SeqCst);
    }

    pub fn install_handlers() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // SAFETY: `on_signal` only stores to an atomic. glibc's
            // `signal` installs it with BSD semantics (it stays installed,
            // interrupted calls restart).
            unsafe {
                signal(sig, on_signal);
            }
        }
    }

    pub fn effective_uid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { geteuid() }
    }

    /// Sends `sig` to the process group `pgid`.
    pub fn kill_group(pgid: u32, sig: i32) {
        let Ok(pgid) = i32::try_from(pgid) else { return };
        if pgid > 1 {
            // SAFETY: kill has no memory-safety preconditions; a negative
            // pid names a process group, here one we created.
            unsafe {
                kill(-pgid, sig);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_and_manifest_sit_beside_the_target() {
        let (parent, prefix) = staging_location(Path::new("/srv/images/rootfs")).unwrap();
        assert_eq!((parent.as_path(), prefix.as_str()), (Path::new("/srv/images"), ".rootfs.debclosure-"));
        let (parent, prefix) = staging_location(Path::new("out/")).unwrap();
        assert_eq!((parent.as_path(), prefix.as_str()), (Path::new("."), ".out.debclosure-"));
        assert!(matches!(staging_location(Path::new("/")), Err(RootfsError::BadTarget { .. })));
        assert!(matches!(staging_location(Path::new("a/..")), Err(RootfsError::BadTarget { .. })));
        assert_eq!(manifest_path(Path::new("/srv/rootfs")), Path::new("/srv/rootfs.manifest"));
        assert_eq!(manifest_path(Path::new("rootfs/")), Path::new("rootfs.manifest"));
    }

    #[test]
    fn staging_tree_is_created_beside_the_target_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tree");
        let path = {
            let mut staging = Staging::create(&target, OnFailure::Remove).unwrap();
            let name = staging.path.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(name.starts_with(".tree.debclosure-") && name.len() == ".tree.debclosure-".len() + 4, "{name}");
            assert_eq!(staging.path.parent().unwrap(), dir.path().canonicalize().unwrap());
            assert_eq!(fs::metadata(&staging.path).unwrap().permissions().mode() & 0o7777, 0o755);
            fs::write(staging.path.join("file"), "x").unwrap();
            let (kept, cleanup) = staging.abandon();
            assert!(kept.is_none() && cleanup.is_none());
            staging.path.clone()
        };
        assert!(!path.exists());
        let kept = {
            let mut staging = Staging::create(&target, OnFailure::Keep).unwrap();
            staging.abandon().0.unwrap()
        };
        assert!(kept.is_dir());
        // A panic unwinding past an armed staging tree removes it.
        let result = std::panic::catch_unwind(|| {
            let staging = Staging::create(&target, OnFailure::Remove).unwrap();
            fs::write(dir.path().join("panicked-in"), staging.path.to_str().unwrap()).unwrap();
            panic!("test panic");
        });
        assert!(result.is_err());
        let panicked_in = fs::read_to_string(dir.path().join("panicked-in")).unwrap();
        assert!(!Path::new(&panicked_in).exists());
    }

    #[test]
    fn target_must_be_absent_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("new");
        check_target(&absent).unwrap();
        fs::create_dir(&absent).unwrap();
        check_target(&absent).unwrap();
        fs::write(absent.join("x"), "").unwrap();
        let err = check_target(&absent).unwrap_err();
        assert!(matches!(err, RootfsError::TargetNotEmpty { .. }), "{err}");
        assert!(err.to_string().ends_with("exists and is not empty"), "{err}");
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(check_target(&file).unwrap_err().to_string().contains("not a directory"));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("new"), &link).unwrap();
        assert!(check_target(&link).unwrap_err().to_string().contains("symbolic link"));
        assert!(matches!(check_target(Path::new("/")), Err(RootfsError::BadTarget { .. })));
    }


    #[test]
    fn in_place_takes_only_what_a_fresh_image_file_system_holds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mnt");
        let err = check_in_place_target(&root).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        fs::create_dir(&root).unwrap();
        check_in_place_target(&root).unwrap();
        // What mkfs.ext4 and vmTools.defaultCreateRootFS leave.
        for d in ["lost+found", "proc", "dev", "sys"] {
            fs::create_dir(root.join(d)).unwrap();
        }
        fs::write(root.join(".debug"), "").unwrap();
        check_in_place_target(&root).unwrap();

        let refused = |setup: &dyn Fn(&Path), entry: &str| {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("mnt");
            fs::create_dir(&root).unwrap();
            setup(&root);
            let err = check_in_place_target(&root).unwrap_err();
            assert!(matches!(&err, RootfsError::TargetNotFresh { entry: e, .. } if e == entry), "{entry}: {err}");
            assert!(err.to_string().contains(&format!("holds {entry},")), "{err}");
            assert!(err.hint().unwrap().contains("--in-place"));
        };
        refused(&|r| fs::create_dir(r.join("etc")).unwrap(), "etc");
        refused(&|r| fs::write(r.join("proc"), "").unwrap(), "proc");
        refused(&|r| fs::create_dir(r.join(".debug")).unwrap(), ".debug");
        refused(
            &|r| {
                fs::create_dir(r.join("dev")).unwrap();
                fs::write(r.join("dev/null"), "").unwrap();
            },
            "dev/null",
        );
        refused(&|r| std::os::unix::fs::symlink("/", r.join("sys")).unwrap(), "sys");
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(check_in_place_target(&file).unwrap_err().to_string().contains("not a directory"));
    }

    #[test]
    fn local_debs_are_matched_by_hash_whatever_their_names() {
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        let files = vec![(PathBuf::from("/store/x-whatever.deb"), b.clone()), (PathBuf::from("/store/y"), a.clone())];
        let list = Path::new("debs.list");
        let got = match_local_debs(
            [("dash", "0.5.12-2", "pool/main/d/dash/dash_0.5.12-2_amd64.deb", a.as_str()), ("sed", "4.9-1", "pool/s.deb", b.as_str())],
            &files,
            list,
        )
        .unwrap();
        assert_eq!(got, [PathBuf::from("/store/y"), PathBuf::from("/store/x-whatever.deb")]);
        let c = "c".repeat(64);
        let err = match_local_debs([("grep", "3.8-5", "pool/g.deb", c.as_str())], &files, list).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("grep 3.8-5 (pool/g.deb): none of the files listed in debs.list has its sha256 {c}")
        );
        assert!(err.hint().unwrap().contains("--debs-from"));
    }
    #[test]
    fn host_checks_name_the_first_problem() {
        check_host("linux", 0, &[]).unwrap();
        let e = check_host("macos", 0, &["chroot"]).unwrap_err();
        assert!(matches!(e, RootfsError::NotLinux { .. }) && e.to_string().contains("macos"), "{e}");
        let e = check_host("linux", 1000, &[]).unwrap_err();
        assert!(matches!(e, RootfsError::NotRoot { euid: 1000 }), "{e}");
        assert!(e.to_string().contains("must run as root") && e.hint().unwrap().contains("root"));
        let e = check_host("linux", 0, &["chroot", "dpkg-deb"]).unwrap_err();
        assert_eq!(e.to_string(), "rootfs needs chroot, dpkg-deb, not found in PATH or /usr/sbin, /usr/bin, /sbin, /bin");
        check_architecture("amd64", "amd64").unwrap();
        assert!(check_architecture("arm64", "amd64").unwrap_err().to_string().contains("arm64"));
    }

    #[test]
    fn manifest_is_sorted_bytewise_with_a_trailing_newline() {
        let raw = "zlib1g\t1:1.2.13.dfsg-1\tamd64\nbase-files\t12.4+deb12u10\tamd64\n\nlibc6\t2.36-9\tamd64\nZ-upper\t1\tall";
        assert_eq!(
            render_manifest(raw),
            "Z-upper\t1\tall\nbase-files\t12.4+deb12u10\tamd64\nlibc6\t2.36-9\tamd64\nzlib1g\t1:1.2.13.dfsg-1\tamd64\n"
        );
        assert_eq!(render_manifest(""), "");
        let pkg = |name: &str, version: &str| RootfsPackage {
            name: name.into(),
            version: version.into(),
            architecture: "amd64".into(),
            group: 0,
            filename: String::new(),
            deb: PathBuf::new(),
        };
        compare_with_lock("libc6\t2.36-9\tamd64\n", &[pkg("libc6", "2.36-9")]).unwrap();
        let e = compare_with_lock("libc6\t2.36-9\tamd64\nextra\t1\tamd64\n", &[pkg("libc6", "2.36-8")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the installed packages differ from the lock: not installed: libc6 2.36-8 amd64; not in the lock: extra 1 amd64, libc6 2.36-9 amd64"
        );
    }

    #[test]
    fn source_date_epoch_is_the_newest_release_date() {
        let rec = |path: &str, date: &str| ReleaseRecord {
            archive: "debian".into(),
            suite: "s".into(),
            path: path.into(),
            sha256: String::new(),
            date: date.into(),
        };
        let releases = [rec("dists/a/InRelease", "Sat, 10 May 2025 08:47:39 UTC"), rec("dists/b/InRelease", "Sat, 17 May 2025 00:00:00 UTC")];
        assert_eq!(source_date_epoch(&releases).unwrap(), 1747440000);
        assert!(matches!(source_date_epoch(&[]), Err(RootfsError::NoReleaseDate)));
        let e = source_date_epoch(&[rec("dists/c/Release", "yesterday")]).unwrap_err();
        assert!(e.to_string().contains("dists/c/Release"), "{e}");
    }

    #[test]
    fn merged_usr_links_follow_debootstrap() {
        assert_eq!(merged_usr_links("amd64"), ["bin", "sbin", "lib", "lib64"]);
        assert_eq!(merged_usr_links("arm64"), ["bin", "sbin", "lib"]);
        assert_eq!(merged_usr_links("i386"), ["bin", "sbin", "lib"]);
    }

    #[test]
    fn failed_packages_come_from_dpkg_output() {
        let debs = [("fails", "fails_1_all.deb"), ("libc6", "libc6_2.36_amd64.deb")];
        let configure = "Setting up fails (1) ...\n\
            dpkg: error processing package fails (--install):\n \
            installed fails package post-installation script subprocess returned error exit status 1\n\
            Errors were encountered while processing:\n fails\n";
        assert_eq!(failed_packages(configure, &debs), ["fails"]);
        let unpack = "dpkg: error processing archive /var/cache/debclosure/libc6_2.36_amd64.deb (--install):\n \
            new libc6:amd64 package pre-installation script subprocess returned error exit status 1\n\
            Errors were encountered while processing:\n /var/cache/debclosure/libc6_2.36_amd64.deb\n";
        assert_eq!(failed_packages(unpack, &debs), ["libc6"]);
        let arch_qualified = "dpkg: error processing package libc6:amd64 (--install):\n dependency problems\n";
        assert_eq!(failed_packages(arch_qualified, &debs), ["libc6"]);
        assert!(failed_packages("dpkg: error: unknown option\n", &debs).is_empty());
    }

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

    #[test]
    fn mountinfo_mount_points_are_unescaped() {
        let info = "22 1 0:21 / /proc rw,relatime shared:5 - proc proc rw\n\
            100 22 8:1 /dir /srv/with\\040space/proc rw - ext4 /dev/sda1 rw\n\
            101 22 8:1 /dir /srv/back\\134slash rw - ext4 /dev/sda1 rw\n";
        assert_eq!(
            mount_points(info),
            [PathBuf::from("/proc"), PathBuf::from("/srv/with space/proc"), PathBuf::from("/srv/back\\slash")]
        );
        // `mounts_under` is component-wise: /proc is not under /pro.
        let under: Vec<PathBuf> = mount_points(info).into_iter().filter(|p| p.starts_with("/srv/with space")).collect();
        assert_eq!(under, [PathBuf::from("/srv/with space/proc")]);
        assert!(!PathBuf::from("/proc").starts_with("/pro"));
    }

    #[test]
    fn remove_tree_refuses_while_something_is_mounted() {
        if sys::effective_uid() != 0 {
            eprintln!("skipped: mounting needs root");
            return;
        }
        let tools = Tools::unchecked();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("root");
        let source = dir.path().join("source");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&source).unwrap();
        fs::write(source.join("precious"), "keep me").unwrap();
        let source_arg = source.to_str().unwrap().to_owned();
        // A panic with a mount in place: the guard unmounts while unwinding.
        let result = std::panic::catch_unwind(|| {
            let mut mounts = Mounts::new(&tools, &root);
            mounts.mount("bound", &["--bind", &source_arg]).unwrap();
            assert_eq!(mounts_under(&root), [root.join("bound")]);
            let err = remove_tree(&root).unwrap_err();
            assert!(matches!(err, RootfsError::StillMounted { .. }), "{err}");
            panic!("test panic with a mount");
        });
        assert!(result.is_err());
        assert!(mounts_under(&root).is_empty(), "the guard left a mount");
        remove_tree(&root).unwrap();
        assert_eq!(fs::read_to_string(source.join("precious")).unwrap(), "keep me");
        // A symbolic link where a mount point should be is refused.
        fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(&source, root.join("proc")).unwrap();
        let mut mounts = Mounts::new(&tools, &root);
        let err = mounts.mount("proc", &["-t", "proc", "proc"]).unwrap_err();
        assert!(matches!(err, RootfsError::MountPoint { .. }), "{err}");
        assert!(mounts_under(&root).is_empty());
    }

    #[test]
    fn cancellation_ends_the_whole_process_group() {
        let cancel = AtomicBool::new(false);
        let mut quick = Command::new("sh");
        quick.args(["-c", "echo out; echo err >&2; exit 3"]);
        let done = run_cancellable(&mut quick, &cancel).unwrap();
        assert_eq!((done.status.code(), done.output.as_str()), (Some(3), "out\nerr\n"));

        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let setter = {
            let cancel = std::sync::Arc::clone(&cancel);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::SeqCst);
            })
        };
        let started = Instant::now();
        let err = run_cancellable(Command::new("sh").args(["-c", &script]), &cancel).err().unwrap();
        setter.join().unwrap();
        assert!(matches!(err, RootfsError::Interrupted));
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "a process of the cancelled group lived on");
    }

    #[test]
    fn tar_depends_on_content_not_on_times() {
        if find_program("tar").is_none() {
            eprintln!("skipped: no tar");
            return;
        }
        let tools = Tools::unchecked();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        fs::write(root.join("usr/bin/b"), "b").unwrap();
        fs::write(root.join("a"), "a").unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        let cancel = AtomicBool::new(false);
        let first = write_tar(&tools, &root, 1_700_000_000, &dir.path().join("one.tar"), &cancel).unwrap();
        let one = fs::read(first.path()).unwrap();
        // New mtimes and a different creation order give the same bytes.
        fs::remove_file(root.join("a")).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        fs::write(root.join("a"), "a").unwrap();
        let second = write_tar(&tools, &root, 1_700_000_000, &dir.path().join("two.tar"), &cancel).unwrap();
        assert!(one == fs::read(second.path()).unwrap(), "the tar depends on more than the tree");
        let list = |flags: &[&str]| {
            let out = Command::new("tar").args(flags).arg("-f").arg(first.path()).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        let names = list(&["-t"]);
        assert_eq!(names, "./\n./a\n./bin\n./usr/\n./usr/bin/\n./usr/bin/b\n");
        let long = list(&["-tv", "--utc"]);
        assert!(long.lines().all(|l| l.contains("2023-11-14 22:13")), "{long}");
        // The same content with a different epoch differs.
        let third = write_tar(&tools, &root, 1_600_000_000, &dir.path().join("three.tar"), &cancel).unwrap();
        assert!(one != fs::read(third.path()).unwrap());
    }
}
