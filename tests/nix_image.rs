//! `diskImageFromLock`, built by Nix against the vmTools test doubles
//! (`tests/fixtures/nix/stub-pkgs.nix`, written from nixpkgs' source), whose
//! "VM" runs the build on this machine in private mount and PID namespaces.
//!
//! The lock is real: this machine's own essential packages and dpkg, rebuilt
//! as `.deb` files from its dpkg database (`tests/host_debs`), in an archive
//! generated and signed here and served on 127.0.0.1, locked by
//! `debclosure lock`. The image must then hold exactly the lock, installed
//! group by group, with `dpkg --audit` clean; a package whose postinst fails
//! must fail the build; and nixpkgs' own fillDiskWithDebs, called the way
//! the first diskImageFromLock called it, must be seen to lose the groups.
//!
//! Needs root and Nix (as CI has); otherwise the tests print a notice and
//! pass, unless `CI` is set.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::cli::{Cli, Run};
use common::host_debs;
use common::nix::{library_expr, tool_dir, Nix};
use common::repo::{write_suite, Key, Suite};
use common::server::TestServer;
use common::{repo_root, text};
use serde_json::Value;

/// A package whose postinst fails.
const FAILING: &str = "fails-to-configure";

/// What the tests share: the archive, its server and two locks.
struct Archive {
    _server: TestServer,
    /// dpkg and the essential packages.
    good: PathBuf,
    /// The same and [`FAILING`].
    failing: PathBuf,
    tool: PathBuf,
}

fn debclosure(args: &[&str], dir: &Path) -> Run {
    Cli::new().cache_dir(dir.join("cache")).run(args)
}

fn host_architecture() -> String {
    let out = Command::new("dpkg").arg("--print-architecture").output().unwrap();
    text(&out.stdout).trim().to_owned()
}

/// Builds the archive and the locks once for all tests of this file.
fn archive() -> &'static Archive {
    static ARCHIVE: OnceLock<Archive> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let arch = host_architecture();

        // Which packages: dpkg and the essential set, resolved by debclosure
        // from what this machine has installed.
        let status = dir.join("status-Packages");
        fs::write(&status, host_debs::status_index()).unwrap();
        let out = debclosure(
            &["resolve", "--arch", &arch, "--packages-file", status.to_str().unwrap(), "--base", "essential", "--format", "json", "dpkg"],
            &dir,
        );
        let closure = out.json();
        let names: Vec<String> =
            closure["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
        assert!(names.len() > 20 && names.contains(&"libc6".to_owned()), "{names:?}");

        let built = dir.join("debs");
        fs::create_dir_all(&built).unwrap();
        let mut debs = host_debs::rebuild_all(&names, &built);
        debs.push(host_debs::failing_deb(FAILING, &dir));
        let key = Key::generate("archive");
        let keyring = key.write_keyring(&dir.join("archive.gpg"));
        let mut suite = Suite::new("stable", debs);
        suite.arch = arch.clone();
        write_suite(&dir.join("www/debian"), &suite, &[&key]);
        let server = TestServer::serve_dir(&dir.join("www"));
        let mirror = server.url("/debian");

        let lock = |name: &str, packages: &str| {
            let spec = dir.join(format!("{name}.toml"));
            fs::write(
                &spec,
                format!(
                    "architecture = {arch:?}\npackages = [{packages}]\nbase = \"essential\"\nkeyring = [{:?}]\n\n[[source]]\nsuites = [\"stable\"]\nmirror = {mirror:?}\n\n[url-prefixes]\ndebian = [{mirror:?}]\n",
                    keyring.display().to_string(),
                ),
            )
            .unwrap();
            let path = dir.join(format!("{name}.lock"));
            debclosure(&["lock", "-q", "--spec", spec.to_str().unwrap(), "-o", path.to_str().unwrap()], &dir).success();
            path
        };
        let good = lock("good", "\"dpkg\"");
        let failing = lock("failing", &format!("\"dpkg\", {FAILING:?}"));
        let tool = tool_dir(&dir, "tool", None);
        Archive { _server: server, good, failing, tool }
    })
}

/// (name, version, architecture, group) of each package of a lock.
fn locked(lock: &Path) -> Vec<(String, String, String, u64)> {
    let lock: Value = serde_json::from_str(&fs::read_to_string(lock).unwrap()).unwrap();
    lock["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            (s("name"), s("version"), s("architecture"), p["group"].as_u64().unwrap())
        })
        .collect()
}

/// nix-builds `body` with the library wired to the debclosure under test
/// and `lock` in scope; returns nix-build's output.
fn build(nix: &Nix, lock: &Path, body: &str) -> Output {
    let a = archive();
    let expr = library_expr(
        &format!("let lib' = import (path repo + \"/nix\") {{ inherit pkgs; debclosure = path tool; }}; in {body}"),
        &[("lock", ""), ("tool", "")],
    );
    nix.command("nix-build")
        .args(["--no-out-link", "--expr", &expr])
        .args(["--argstr", "repo", repo_root().to_str().unwrap(), "--argstr", "fetchurlMode", "builtin"])
        .args(["--argstr", "lock", lock.to_str().unwrap(), "--argstr", "tool", a.tool.to_str().unwrap()])
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap()
}

/// The double's disk image (a tar of the file system) unpacked.
fn unpack(image: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("tar")
        .args(["--numeric-owner", "-xpf"])
        .arg(image.join("disk-image.qcow2"))
        .arg("-C")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

fn in_tree(root: &Path, args: &[&str]) -> String {
    let out = Command::new("chroot").arg(root).args(args).env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").output().unwrap();
    assert!(out.status.success(), "{args:?} in {}: {}", root.display(), text(&out.stderr));
    text(&out.stdout)
}

fn installed(root: &Path) -> BTreeSet<(String, String, String)> {
    in_tree(root, &["dpkg-query", "-W", "-f=${Package}\\t${Version}\\t${Architecture}\\n"])
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .collect()
}

/// The `>>> INSTALLING COMPONENT` lines nixpkgs' script prints, one per
/// `dpkg --install` run.
fn components(log: &str) -> usize {
    log.lines().filter(|l| l.contains(">>> INSTALLING COMPONENT")).count()
}

#[test]
fn disk_image_from_lock_installs_the_lock_group_by_group() {
    let Some(nix) = Nix::find_as_root("disk_image_from_lock_installs_the_lock_group_by_group") else { return };
    let a = archive();
    let out = build(
        &nix,
        &a.good,
        r#"lib'.diskImageFromLock { lock = path lock; name = "image"; fullName = "Test image"; postInstall = "chroot /mnt dpkg-query -W dash > $out/post-install"; }"#,
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    let image = nix.real(text(&out.stdout).trim());
    let unpacked = unpack(&image);
    let root = unpacked.path();

    let lock = locked(&a.good);
    let want: BTreeSet<(String, String, String)> = lock.iter().map(|(n, v, a, _)| (n.clone(), v.clone(), a.clone())).collect();
    assert_eq!(installed(root), want, "the image holds exactly the lock");
    assert_eq!(in_tree(root, &["dpkg", "--audit"]), "", "dpkg --audit is clean");
    let manifest: String = want.iter().map(|(n, v, a)| format!("{n}\t{v}\t{a}\n")).collect();
    assert_eq!(fs::read_to_string(image.join("manifest")).unwrap(), manifest);
    assert_eq!(fs::read_to_string(image.join("nix-support/full-name")).unwrap(), "Test image\n");
    assert!(fs::read_to_string(image.join("post-install")).unwrap().starts_with("dash\t"), "postInstall ran in the tree");
    assert!(!root.join(".debug").exists(), "the debug marker is removed");
    assert!(fs::symlink_metadata(root.join("bin")).unwrap().file_type().is_symlink(), "merged /usr");

    // One dpkg --install per group, in the lock's order.
    let groups = lock.iter().map(|p| p.3).max().unwrap() + 1;
    assert!(groups >= 2, "the essential closure has Pre-Depends: {lock:?}");
    let order: Vec<u64> = log
        .lines()
        .filter_map(|l| l.split("installing group ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(order, (0..groups).collect::<Vec<_>>(), "{log}");
}

#[test]
fn a_failing_maintainer_script_fails_the_image_build() {
    let Some(nix) = Nix::find_as_root("a_failing_maintainer_script_fails_the_image_build") else { return };
    let a = archive();
    let out = build(&nix, &a.failing, r#"lib'.diskImageFromLock { lock = path lock; name = "image"; fullName = "Test image"; }"#);
    let log = text(&out.stderr);
    assert!(!out.status.success(), "the build must fail:\n{log}");
    let group = locked(&a.failing).iter().find(|p| p.0 == FAILING).unwrap().3;
    assert!(log.contains(&format!("group {group}: dpkg --install failed")), "{log}");
    assert!(log.contains(&format!("on {FAILING}")), "names the package:\n{log}");
    assert!(log.contains(&format!("Errors were encountered while processing:\n     {FAILING}")), "shows the end of dpkg's output:\n{log}");
}

#[test]
fn the_doubles_catch_fill_disk_with_debs_losing_the_groups() {
    let Some(nix) = Nix::find_as_root("the_doubles_catch_fill_disk_with_debs_losing_the_groups") else { return };
    let a = archive();
    let groups = locked(&a.good).iter().map(|p| p.3).max().unwrap() as usize + 1;

    // How the first diskImageFromLock called nixpkgs: the groups as `debs`,
    // which fillDiskWithDebs' `// args` puts back over its `|`-separated
    // list, so that everything goes into one forced dpkg run.
    let out = build(
        &nix,
        &a.good,
        r#"pkgs.vmTools.fillDiskWithDebs { name = "old"; fullName = "Old"; debs = lib'.debsFromLock { lock = path lock; }; }"#,
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "nixpkgs ignores dpkg's failures:\n{log}");
    assert_eq!(components(&log), 1, "{log}");

    // installer = "vmtools" keeps them.
    let out = build(
        &nix,
        &a.good,
        r#"lib'.diskImageFromLock { lock = path lock; name = "lenient"; fullName = "Lenient"; installer = "vmtools"; }"#,
    );
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(components(&log), groups, "{log}");
    let unpacked = unpack(&nix.real(text(&out.stdout).trim()));
    assert!(installed(unpacked.path()).iter().any(|p| p.0 == "dpkg"), "the lenient path installs too");
}
