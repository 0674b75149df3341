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
//! that nothing is mounted under it. The `rootfs` command runs all of this
//! in mount and PID namespaces of its own (`namespace`), so that even
//! SIGKILL or a crash leaves no mount in the host and no process running,
//! and stray processes are killed before the tree is unmounted.
//!
//! This file holds the options and [`build_rootfs`], which runs the steps
//! in order; the parts live beside it: `host` (the checks of the machine and
//! the programs), `placement` (staging or in place, the target checks),
//! `process` (children, cancellation, signals), `mounts` (the guard and
//! `mountinfo`), `namespace` (the namespaces), `dpkg` (unpacking, install groups, the manifest), `dev`
//! (the static `/dev`), `tar` (the reproducible tar) and `error`.

mod dev;
mod dpkg;
mod error;
mod host;
mod mounts;
mod namespace;
mod placement;
mod process;
mod tar;

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use crate::archive::ReleaseRecord;
use crate::release::parse_date;

pub use dpkg::{match_local_debs, read_local_debs, render_manifest};
pub use error::{InstallFailure, RootfsError};
pub use host::{check_architecture, check_host, Tools};
pub use mounts::mounts_under;
pub use namespace::{prepare_inside, in_namespaces, run_in_namespaces, INSIDE_ENV};
pub use placement::{check_in_place_target, check_target, manifest_path, staging_location};
pub use process::cancel_on_signals;

use dev::populate_dev;
use dpkg::{compare_with_lock, extract, install_group, start_stop_daemon_path, DEB_DIR, POLICY_RC_D, START_STOP_DAEMON};
use error::io_error;
use mounts::Mounts;
use placement::Staging;
use process::{check_cancel, run_host, run_in_chroot};
use tar::write_tar;

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
#[allow(clippy::result_large_err, reason = "a build fails once, at its end; the CLI reads Failure's fields")]
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

/// Writes `bytes` to `path` (0644) through a temporary file in the same
/// directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RootfsError> {
    use crate::atomic::{AtomicWriteError, Durability, Mode};
    crate::atomic::write_atomically(path, bytes, Mode::Fixed(0o644), Durability::Synced).map_err(|e| match e {
        AtomicWriteError::TempFile { dir, source } => RootfsError::Io { action: "create a temporary file in", path: dir, source },
        AtomicWriteError::Write { path, source } => RootfsError::Io { action: "write", path, source },
    })
}

fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), RootfsError> {
    fs::write(path, text)
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(io_error("write", path))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_is_the_newest_release_date() {
        let rec = |path: &str, date: &str| ReleaseRecord {
            archive: "debian".into(),
            suite: "s".into(),
            path: path.into(),
            sha256: crate::hash::Sha256::of(path.as_bytes()),
            date: date.into(),
            signed_by: vec![],
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
}
