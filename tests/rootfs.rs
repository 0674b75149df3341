//! `debclosure rootfs`. The argument checks run always and need neither
//! root nor a network. The builds are opt-in (`DEBCLOSURE_TEST_ROOTFS=1`, as
//! root): they lock a small essential closure of bookworm amd64 from the
//! machine's Debian mirror (its apt sources, or `DEBCLOSURE_MIRROR`; about
//! 40 MB, kept in `DEBCLOSURE_TEST_ROOTFS_CACHE` if set), build it, run
//! programs in the tree, and drive the failure paths: a maintainer script
//! that fails, `--keep-failed`, `--keep-going` and SIGINT. The messages of
//! the argument checks are snapshotted.

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::cli::{Cli, Run, NETWORK_ENV};
use common::server::TestServer;
use common::{is_root, text};

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const SAMPLE_LOCK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/golden/sample.lock");
const FAILING: &str = "debclosure-test-fails";

/// Entries of `dir` whose names start with `prefix`.
fn entries_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// Reads `child`'s stderr on a thread until a line contains `needle` (at
/// most five minutes); the thread then keeps reading, and returns all of
/// stderr when the child closes it.
fn read_until(child: &mut std::process::Child, needle: &str) -> std::thread::JoinHandle<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let line: String = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("rootfs never printed {needle:?}"));
        if line.contains(needle) {
            return reader;
        }
    }
}

#[test]
fn a_non_empty_target_is_refused_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tree");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("precious"), "x").unwrap();
    let cli = Cli::new().current_dir(dir.path());
    let out = cli.run(&[OsStr::new("rootfs"), OsStr::new("--lock"), OsStr::new(SAMPLE_LOCK), target.as_os_str()]);
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exists and is not empty") && stderr.contains("hint:"), "{stderr}");
    insta::assert_snapshot!("non_empty_target", out.report());
    assert_eq!(std::fs::read_to_string(target.join("precious")).unwrap(), "x");
    assert!(entries_starting(dir.path(), ".tree.debclosure-").is_empty());
    // A file is no directory either.
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let out = cli.run(&[OsStr::new("rootfs"), OsStr::new("--lock"), OsStr::new(SAMPLE_LOCK), file.as_os_str()]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("not a directory"), "{}", out.stderr());
    insta::assert_snapshot!("file_target", out.report());
}

#[test]
fn a_user_other_than_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Readable by anyone, so that the check that fails is the one for root.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let target = dir.path().join("tree");
    let mut cli = Cli::new().current_dir(dir.path());
    if is_root() {
        // As root, run the binary as nobody; setpriv is in util-linux.
        if Command::new("setpriv").arg("--version").output().is_err() {
            eprintln!("skipped: running as root and setpriv is missing");
            return;
        }
        cli = cli.via("setpriv", &["--reuid=65534", "--regid=65534", "--clear-groups"].map(OsStr::new));
    }
    let out = cli.run(&[OsStr::new("rootfs"), OsStr::new("--lock"), OsStr::new(SAMPLE_LOCK), target.as_os_str()]);
    let stderr = out.stderr();
    if stderr.contains("Permission denied") && stderr.contains("debclosure") && out.code() != Some(2) {
        eprintln!("skipped: nobody cannot run the test binary here: {stderr}");
        return;
    }
    assert_eq!(out.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must run as root"), "{stderr}");
    // The user it ran as: nobody, or the one running the tests.
    let uid = if is_root() { 65534 } else { rustix::process::geteuid().as_raw() };
    insta::assert_snapshot!(out.report().replace(&format!("user id is {uid}"), "user id is [UID]"));
    assert!(!target.exists() && entries_starting(dir.path(), ".tree.").is_empty());
}

#[test]
fn flags_that_the_lock_settles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Cli::new().current_dir(dir.path()).run(&["rootfs", "--lock", SAMPLE_LOCK, "--suite", "trixie", "tree"]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("do not apply to rootfs"), "{}", out.stderr());
    insta::assert_snapshot!(out.report());
}

/// Mount points under `dir`, from /proc/mounts.
fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
    std::fs::read_to_string("/proc/mounts")
        .unwrap()
        .lines()
        .filter_map(|l| l.split(' ').nth(1))
        .map(|p| p.replace("\\040", " "))
        .filter(|p| Path::new(p).starts_with(&dir))
        .collect()
}

/// The opt-in builds share one lock and one cache.
struct Fixture {
    dir: tempfile::TempDir,
    cli: Cli,
    lock: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let cache = std::env::var_os("DEBCLOSURE_TEST_ROOTFS_CACHE").map_or_else(|| dir.path().join("cache"), PathBuf::from);
        let cli = Cli::new().cache_dir(cache).inherit(&NETWORK_ENV);
        let lock = dir.path().join("essential.lock");
        let started = Instant::now();
        let out = cli.run(&[
            "lock",
            "--quiet",
            "--suite",
            "bookworm",
            "--arch",
            "amd64",
            "--base",
            "essential",
            "--keyring",
            KEYRING,
            "bash",
            "coreutils",
            "mawk",
            "perl-base",
            "dpkg",
            "apt",
            "-o",
            lock.to_str().unwrap(),
        ]);
        assert_eq!(out.code(), Some(0), "lock: {}", out.stderr());
        eprintln!("lock: {:.1}s", started.elapsed().as_secs_f64());
        Fixture { dir, cli, lock }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn args<'a>(lock: &'a Path, target: &'a Path, extra: &[&'a str]) -> Vec<&'a OsStr> {
        let mut args = ["rootfs", "--lock"].map(OsStr::new).to_vec();
        args.push(lock.as_os_str());
        args.extend(extra.iter().map(|e| OsStr::new(*e)));
        args.push(target.as_os_str());
        args
    }

    fn rootfs(&self, lock: &Path, target: &Path, extra: &[&str]) -> Command {
        self.cli.command(&Fixture::args(lock, target, extra))
    }

    fn run(&self, lock: &Path, target: &Path, extra: &[&str]) -> Run {
        let started = Instant::now();
        let out = self.cli.run(&Fixture::args(lock, target, extra));
        eprintln!(
            "rootfs {} {extra:?}: exit {:?} in {:.1}s",
            target.file_name().unwrap().to_string_lossy(),
            out.code(),
            started.elapsed().as_secs_f64()
        );
        out
    }

    /// Asserts that nothing of a failed build into `target` is left: no
    /// target, no staging tree, no mounts.
    fn assert_clean(&self, target: &Path) {
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!target.exists(), "{} exists after a failure", target.display());
        assert!(!self.path(&format!("{name}.manifest")).exists());
        assert_eq!(entries_starting(self.dir.path(), &format!(".{name}.debclosure-")), Vec::<String>::new());
        assert_eq!(mounts_under(self.dir.path()), Vec::<String>::new());
    }

    /// A copy of the lock with one more group: a package whose postinst
    /// exits 1, from an archive named `local` served on 127.0.0.1. Returns
    /// the lock, the new group, the server (keep it alive) and the
    /// `--source` for it.
    fn failing_lock(&self) -> (PathBuf, u64, TestServer, String) {
        let deb = common::host_debs::failing_deb(FAILING, self.dir.path());
        let filename = format!("pool/main/d/{FAILING}/{FAILING}_1_all.deb");
        let www = self.path("www");
        let file = www.join("local").join(&filename);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &deb.content).unwrap();
        let bytes = deb.content;

        let mut lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&self.lock).unwrap()).unwrap();
        let packages = lock["packages"].as_array_mut().unwrap();
        let group = packages.iter().map(|p| p["group"].as_u64().unwrap()).max().unwrap() + 1;
        packages.push(serde_json::json!({
            "name": FAILING,
            "version": "1",
            "architecture": "all",
            "archive": "local",
            "filename": filename,
            "sha256": debclosure::hash::Sha256::of(&bytes).to_string(),
            "size": bytes.len(),
            "group": group,
            "why": {"kind": "requested"},
        }));
        lock["request"]["sources"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"archive": "local", "suites": ["test"], "components": ["main"]}));
        let path = self.path("failing.lock");
        std::fs::write(&path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
        let server = TestServer::serve_dir(&www);
        let source = format!("{} test main", server.url("/local"));
        (path, group, server, source)
    }
}

/// Runs `args` in the tree with a fixed environment.
fn in_tree(root: &Path, args: &[&str]) -> Output {
    Command::new("chroot").arg(root).args(args).env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").output().unwrap()
}

#[test]
fn rootfs_builds_an_essential_closure_and_cleans_up_after_failures() {
    if !common::opt_in("DEBCLOSURE_TEST_ROOTFS", "build root filesystems from the machine's Debian mirror (as root)") {
        return;
    }
    assert!(is_root(), "DEBCLOSURE_TEST_ROOTFS=1 needs root: rootfs runs chroot and mount");
    let f = Fixture::new();

    // The lock installs, and the tree works.
    let target = f.path("tree");
    let tar = f.path("tree.tar");
    let out = f.run(&f.lock, &target, &["--tar", tar.to_str().unwrap()]);
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(0), "{stderr}");
    assert!(stderr.contains("installing group 0 (") && stderr.contains("dpkg --audit"), "{stderr}");
    for (args, expected) in [
        (&["awk", "BEGIN{print 1+1}"][..], "2\n"),
        (&["perl", "-e", "print 1"][..], "1"),
        (&["dpkg", "--audit"][..], ""),
    ] {
        let out = in_tree(&target, args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), expected, "{args:?}");
    }
    let apt = in_tree(&target, &["apt-get", "--version"]);
    assert!(apt.status.success() && text(&apt.stdout).starts_with("apt "), "{}", text(&apt.stderr));
    for link in ["bin", "sbin", "lib", "lib64"] {
        assert_eq!(std::fs::read_link(target.join(link)).unwrap(), Path::new("usr").join(link));
    }
    let null = std::fs::symlink_metadata(target.join("dev/null")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(&null.file_type()), "/dev/null is no device");
    assert_eq!(std::os::unix::fs::MetadataExt::rdev(&null), (1 << 8) | 3);
    assert!(!target.join("usr/sbin/policy-rc.d").exists(), "policy-rc.d was left in the tree");
    assert!(!target.join("var/cache/debclosure").exists());
    let ssd = std::fs::read(target.join("usr/sbin/start-stop-daemon")).unwrap();
    assert!(ssd.starts_with(b"\x7fELF"), "start-stop-daemon is still the stand-in");
    let diversions = std::fs::read_to_string(target.join("var/lib/dpkg/diversions")).unwrap_or_default();
    assert!(!diversions.contains("start-stop-daemon"), "{diversions}");
    let manifest = std::fs::read_to_string(f.path("tree.manifest")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f.lock).unwrap()).unwrap();
    assert_eq!(manifest.lines().count(), lock["packages"].as_array().unwrap().len());
    assert!(manifest.lines().any(|l| l.starts_with("mawk\t")) && manifest.lines().any(|l| l.starts_with("apt\t")), "{manifest}");
    let mut sorted: Vec<&str> = manifest.lines().collect();
    sorted.sort_unstable();
    assert_eq!(sorted, manifest.lines().collect::<Vec<_>>());
    assert_eq!(mounts_under(f.dir.path()), Vec::<String>::new());

    // Two runs on one lock give the same manifest and the same tar.
    let again = f.path("again");
    let again_tar = f.path("again.tar");
    let out = f.run(&f.lock, &again, &["--quiet", "--tar", again_tar.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert_eq!(std::fs::read_to_string(f.path("again.manifest")).unwrap(), manifest);
    assert!(std::fs::read(&tar).unwrap() == std::fs::read(&again_tar).unwrap(), "two runs gave different tars");
    // A second build into a finished tree is refused.
    let out = f.run(&f.lock, &target, &[]);
    assert_eq!(out.code(), Some(2));
    assert!(out.stderr().contains("exists and is not empty"));
    for tree in [&target, &again] {
        std::fs::remove_dir_all(tree).unwrap();
    }

    // A failing postinst stops the run, names the package and the group, and
    // leaves nothing behind.
    let (failing, group, _server, source) = f.failing_lock();
    let target = f.path("broken");
    let out = f.run(&failing, &target, &["--source", &source]);
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("group {group}: dpkg --install failed (exit status: 1) on {FAILING}")), "{stderr}");
    assert!(stderr.contains("fails on purpose"), "the tail of dpkg's output is missing: {stderr}");
    f.assert_clean(&target);

    // --keep-failed keeps the tree, unmounted, and says where.
    let out = f.run(&failing, &target, &["--source", &source, "--keep-failed"]);
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(2), "{stderr}");
    let kept = stderr.lines().find_map(|l| l.strip_prefix("kept the failed tree at ")).expect("the kept path is printed");
    let kept = PathBuf::from(kept);
    assert!(kept.join("usr/sbin/policy-rc.d").is_file() && kept.starts_with(f.dir.path().canonicalize().unwrap()));
    assert_eq!(mounts_under(f.dir.path()), Vec::<String>::new());
    std::fs::remove_dir_all(&kept).unwrap();

    // --keep-going installs the rest as nixpkgs would, and still fails.
    let out = f.run(&failing, &target, &["--source", &source, "--keep-going"]);
    let stderr = out.stderr();
    assert_eq!(out.code(), Some(2), "{stderr}");
    let summary = format!("1 of {} install groups failed\n  group {group}: dpkg --install failed", group + 1);
    assert!(stderr.contains(&summary) && stderr.contains(FAILING), "{stderr}");
    f.assert_clean(&target);

    // SIGINT in the middle of a group: the child is stopped, the mounts and
    // the staging tree removed.
    let target = f.path("interrupted");
    let started = Instant::now();
    let mut child = f.rootfs(&f.lock, &target, &[]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let reader = read_until(&mut child, "installing group 1 (");
    std::thread::sleep(Duration::from_secs(2));
    // The mounts are in the build's own mount namespace (issue 15): in the
    // table of the copy that `unshare` runs, not in the host's.
    let copy = first_child(child.id()).and_then(first_child).expect("the copy inside the namespaces");
    let dir = f.dir.path().canonicalize().unwrap();
    assert!(!mounts_of(copy, &dir).is_empty(), "nothing was mounted in the middle of a group");
    assert_eq!(mounts_under(f.dir.path()), Vec::<String>::new(), "the build's mounts reached the host");
    // Our own child, not waited for yet, so its id is still its own.
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's id is positive");
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    eprintln!("rootfs interrupted: exit {:?} in {:.1}s", status.code(), started.elapsed().as_secs_f64());
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: interrupted"), "{stderr}");
    f.assert_clean(&target);
}

/// The processes of the host whose PID namespace is `ns` (an inode number,
/// as `readlink /proc/PID/ns/pid` shows it).
fn processes_in_pid_namespace(ns: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|l| l.to_string_lossy() == ns))
        .collect()
}

/// The first child of `pid`, if any.
fn first_child(pid: u32) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?.split_whitespace().next()?.parse().ok()
}

/// Mount points under `dir` in the mount table of process `pid`.
fn mounts_of(pid: u32, dir: &Path) -> Vec<String> {
    std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|p| Path::new(p).starts_with(dir))
        .map(str::to_owned)
        .collect()
}

/// Issue 15, part 4: SIGKILL of `debclosure rootfs` in the middle of an
/// install leaves no mount in the host and no process of the build alive.
/// The build runs in mount and PID namespaces of its own: its mounts are
/// never in the host's table, and its processes die with it. The lock is
/// this machine's essential packages rebuilt as `.deb` files (as in
/// `tests/nix_image.rs`), installed with `--debs-from`: no network. Needs
/// root (CI runs as root).
// https://github.com/debclosure/debclosure/issues/15
#[test]
fn issue_15_sigkill_mid_install_leaves_no_mount_and_no_process() {
    if !is_root() {
        assert!(!common::in_ci(), "CI must run this test as root");
        common::notice("skipped issue_15_sigkill_mid_install_leaves_no_mount_and_no_process: needs root");
        return;
    }
    use common::repo::{Archive, Suite};
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().canonicalize().unwrap();
    let arch = text(&Command::new("dpkg").arg("--print-architecture").output().unwrap().stdout).trim().to_owned();
    let status = dir_path.join("status-Packages");
    std::fs::write(&status, common::host_debs::status_index()).unwrap();
    let cli = Cli::new().cache_dir(dir_path.join("cache"));
    let closure = cli
        .run(&["resolve", "--arch", &arch, "--packages-file", status.to_str().unwrap(), "--base", "essential", "--format", "json", "dpkg"])
        .json();
    let names: Vec<String> = closure["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    let built = dir_path.join("built");
    std::fs::create_dir_all(&built).unwrap();
    let debs = common::host_debs::rebuild_all(&names, &built);
    let list: String = debs
        .iter()
        .map(|d| {
            let path = built.join(format!("{}.listed.deb", d.name));
            std::fs::write(&path, &d.content).unwrap();
            format!("{}\n", path.display())
        })
        .collect();
    let list_file = dir_path.join("debs.list");
    std::fs::write(&list_file, list).unwrap();
    let mut debs = debs;
    let daemon = daemon_deb(&built);
    std::fs::write(built.join("daemon.listed.deb"), &daemon.content).unwrap();
    std::fs::write(&list_file, format!("{}{}\n", std::fs::read_to_string(&list_file).unwrap(), built.join("daemon.listed.deb").display())).unwrap();
    debs.push(daemon);
    let mut suite = Suite::new("stable", debs);
    suite.arch = arch.clone();
    let archive = Archive::new(&[suite]);
    let spec = dir_path.join("debclosure.toml");
    std::fs::write(
        &spec,
        format!(
            "architecture = {arch:?}\npackages = [\"dpkg\", \"{DAEMON}\"]\nbase = \"essential\"\nkeyring = [{:?}]\n\n[[source]]\nsuites = [\"stable\"]\nmirror = {:?}\n",
            archive.keyring.display().to_string(),
            archive.mirror()
        ),
    )
    .unwrap();
    let lock = dir_path.join("debclosure.lock");
    cli.run(&["lock", "-q", "--spec", spec.to_str().unwrap(), "-o", lock.to_str().unwrap()]).success();

    let target = dir_path.join("tree");
    let mut child = cli
        .command(&["rootfs", "--lock", lock.to_str().unwrap(), "--debs-from", list_file.to_str().unwrap(), target.to_str().unwrap()])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let reader = read_until(&mut child, "installing group 0 (");
    // debclosure runs `unshare`, whose child is the copy inside the namespaces.
    let copy = first_child(child.id()).and_then(first_child).expect("the copy inside the namespaces");
    let ns = std::fs::read_link(format!("/proc/{copy}/ns/pid")).unwrap().to_string_lossy().into_owned();
    assert_ne!(ns, std::fs::read_link("/proc/self/ns/pid").unwrap().to_string_lossy(), "the build has a PID namespace of its own");
    assert!(!mounts_of(copy, &dir_path).is_empty(), "nothing is mounted in the build's namespace");
    assert_eq!(mounts_of(std::process::id(), &dir_path), Vec::<String>::new(), "the build's mounts reached the host");

    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's id is positive");
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let deadline = Instant::now() + Duration::from_secs(15);
    while !processes_in_pid_namespace(&ns).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let stderr = reader.join().unwrap();
    assert_eq!(processes_in_pid_namespace(&ns), Vec::<u32>::new(), "processes of the build outlived it:\n{stderr}");
    assert_eq!(mounts_of(std::process::id(), &dir_path), Vec::<String>::new(), "{stderr}");
    assert_eq!(mounts_under(&dir_path), Vec::<String>::new());

    // Undisturbed, the same build succeeds through the namespaces.
    let again = dir_path.join("again");
    let out = cli.run(&["rootfs", "-q", "--lock", lock.to_str().unwrap(), "--debs-from", list_file.to_str().unwrap(), again.to_str().unwrap()]);
    assert_eq!(out.code(), Some(0), "{}", out.stderr());
    assert!(again.join("var/lib/dpkg/status").is_file() && dir_path.join("again.manifest").is_file());
    assert!(std::fs::read_to_string(dir_path.join("again.manifest")).unwrap().contains(DAEMON));
    assert_eq!(mounts_under(&dir_path), Vec::<String>::new());
    // The daemon the postinst started was killed with the namespace.
    assert_eq!(processes_rooted_under(&dir_path), Vec::<u32>::new(), "a process of the build lives on in the tree");
}

/// A package whose postinst leaves a process running.
const DAEMON: &str = "leaves-a-daemon";

/// [`DAEMON`], built with `dpkg-deb` in `dir`.
fn daemon_deb(dir: &Path) -> common::repo::Deb {
    use std::os::unix::fs::PermissionsExt;
    let pkg = dir.join(format!("{DAEMON}.tree"));
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        format!("Package: {DAEMON}\nVersion: 1\nArchitecture: all\nMaintainer: debclosure tests <tests@invalid>\nDescription: leaves a process running\n"),
    )
    .unwrap();
    std::fs::write(pkg.join("DEBIAN/postinst"), "#!/bin/sh\nsleep 600 </dev/null >/dev/null 2>&1 &\nexit 0\n").unwrap();
    std::fs::set_permissions(pkg.join("DEBIAN/postinst"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.join(format!("{DAEMON}.deb"));
    let out = Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&pkg).arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    common::repo::Deb { name: DAEMON.into(), version: "1".into(), arch: "all".into(), fields: String::new(), content: std::fs::read(&file).unwrap() }
}

/// The processes whose root directory is under `dir` (chrooted there).
fn processes_rooted_under(dir: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/root")).is_ok_and(|r| r.starts_with(dir)))
        .collect()
}
