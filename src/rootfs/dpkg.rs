//! The `.deb` files and dpkg: the local files matched to the lock by
//! SHA256, unpacking without dpkg for the first install, one `dpkg
//! --install` per install group with its failures read from dpkg's output,
//! the `start-stop-daemon` path to divert, and the manifest compared with
//! the lock.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;

use crate::hash::Sha256;

use super::error::io_error;
use super::process::{check_cancel, describe, in_chroot, output_file, read_output, run_cancellable};
use super::{InstallFailure, InstallMode, RootfsError, RootfsOptions, RootfsPackage, Tools};

/// Where the `.deb` files of a group are put inside the tree while dpkg
/// installs them.
pub(super) const DEB_DIR: &str = "var/cache/debclosure";

/// `policy-rc.d` (Debian Policy's invoke-rc.d interface): 101 means "action
/// forbidden", so no maintainer script starts a service in the tree.
pub(super) const POLICY_RC_D: &str = "#!/bin/sh\n# Written by debclosure rootfs while it installs packages; removed afterwards.\nexit 101\n";

/// Stands in for `start-stop-daemon`, which some maintainer scripts call
/// directly rather than through invoke-rc.d.
pub(super) const START_STOP_DAEMON: &str =
    "#!/bin/sh\n# Written by debclosure rootfs while it installs packages; removed afterwards.\necho \"debclosure rootfs: not starting a daemon: start-stop-daemon $*\" >&2\nexit 0\n";

/// The files listed in `list` (one path per line; blank lines ignored),
/// each with its SHA256, for [`match_local_debs`].
pub fn read_local_debs(list: &Path) -> Result<Vec<(PathBuf, Sha256)>, RootfsError> {
    let text = fs::read_to_string(list).map_err(io_error("read", list))?;
    let mut files = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let path = PathBuf::from(line);
        let sha256 = File::open(&path).and_then(Sha256::of_reader).map_err(io_error("read", &path))?;
        files.push((path, sha256));
    }
    Ok(files)
}

/// The `.deb` of each package among local files, matched by SHA256: for
/// `rootfs --debs-from LIST`, where the files come from elsewhere (the Nix
/// store) and their names say nothing the lock can check. `files` holds
/// (path, SHA256) pairs; `list` names where they were listed, for errors.
pub fn match_local_debs<'p>(
    packages: impl IntoIterator<Item = (&'p str, &'p str, &'p str, Sha256)>,
    files: &[(PathBuf, Sha256)],
    list: &Path,
) -> Result<Vec<PathBuf>, RootfsError> {
    let by_hash: std::collections::BTreeMap<Sha256, &Path> =
        files.iter().map(|(path, sha256)| (*sha256, path.as_path())).collect();
    packages
        .into_iter()
        .map(|(name, version, filename, sha256)| {
            by_hash.get(&sha256).map(|p| p.to_path_buf()).ok_or_else(|| RootfsError::MissingLocalDeb {
                package: name.to_owned(),
                version: version.to_owned(),
                filename: filename.to_owned(),
                sha256,
                list: list.into(),
            })
        })
        .collect()
}

/// The manifest from `dpkg-query -W` output: lines sorted bytewise, no
/// empty lines, a trailing newline.
pub fn render_manifest(dpkg_query_output: &str) -> String {
    let mut lines: Vec<&str> = dpkg_query_output.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    lines.dedup();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Unpacks the data of `deb` into `root`, keeping existing symbolic links
/// to directories (merged `/usr`), with the numeric owners of the archive
/// rather than the host's idea of its user names.
pub(super) fn extract(tools: &Tools, deb: &Path, root: &Path, cancel: &AtomicBool) -> Result<(), RootfsError> {
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
pub(super) fn compare_with_lock(manifest: &str, packages: &[RootfsPackage]) -> Result<(), RootfsError> {
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
pub(super) fn start_stop_daemon_path(tools: &Tools, dpkg_deb: &Path) -> Result<Option<String>, RootfsError> {
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

/// Links (or copies) a verified `.deb` to `dest`.
fn place_deb(deb: &Path, dest: &Path) -> Result<(), RootfsError> {
    if fs::hard_link(deb, dest).is_ok() {
        return Ok(());
    }
    fs::copy(deb, dest).map(drop).map_err(io_error("copy a package to", dest))
}

/// Runs `dpkg --install` on one group's packages, placed in [`DEB_DIR`] for
/// the run; returns what failed, if anything did.
pub(super) fn install_group(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_debs_are_matched_by_hash_whatever_their_names() {
        let (a, b) = (Sha256::of(b"a"), Sha256::of(b"b"));
        let files = vec![(PathBuf::from("/store/x-whatever.deb"), b), (PathBuf::from("/store/y"), a)];
        let list = Path::new("debs.list");
        let got = match_local_debs(
            [("dash", "0.5.12-2", "pool/main/d/dash/dash_0.5.12-2_amd64.deb", a), ("sed", "4.9-1", "pool/s.deb", b)],
            &files,
            list,
        )
        .unwrap();
        assert_eq!(got, [PathBuf::from("/store/y"), PathBuf::from("/store/x-whatever.deb")]);
        let c = Sha256::of(b"c");
        let err = match_local_debs([("grep", "3.8-5", "pool/g.deb", c)], &files, list).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("grep 3.8-5 (pool/g.deb): none of the files listed in debs.list has its sha256 {c}")
        );
        assert!(err.hint().unwrap().contains("--debs-from"));
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
}
