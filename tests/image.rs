//! `debclosure image` and `boot-test` on a real lock. The argument checks
//! run always. The build is opt-in (`DEBCLOSURE_TEST_IMAGE=1`, as root):
//! it locks a minimal bootable bookworm amd64 system (the cloud kernel,
//! initramfs-tools, sysvinit-core, and the essential set) from the
//! machine's Debian mirror (its apt sources, or `DEBCLOSURE_MIRROR`; about
//! 60 MB, kept in `DEBCLOSURE_TEST_IMAGE_CACHE` if set), builds the image
//! twice (the same bytes), boots it under QEMU and sees the marker, and
//! prints the time of each step.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

fn debclosure() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_debclosure"));
    cmd.env("NO_PROXY", "127.0.0.1");
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn timed(what: &str, cmd: &mut Command) -> Output {
    let started = Instant::now();
    let out = cmd.output().unwrap();
    eprintln!("{what}: exit {:?} in {:.1}s", out.status.code(), started.elapsed().as_secs_f64());
    out
}

/// A lock with no kernel and no init is refused before anything is built,
/// naming what to add.
#[test]
fn a_lock_that_cannot_boot_is_refused_naming_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let lock = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nix/bookworm.lock");
    let out = debclosure().arg("image").arg("--lock").arg(&lock).arg("-o").arg(dir.path().join("disk.raw")).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("it has no kernel (e.g. linux-image-cloud-amd64) and no init"), "{err}");
    assert!(err.contains("hint: add the packages"), "{err}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}

fn lock_bootable(dir: &Path, cache: &Path) -> PathBuf {
    let lock = dir.join("boot.lock");
    let out = timed(
        "lock",
        debclosure()
            .args(["lock", "--quiet", "--suite", "bookworm", "--arch", "amd64", "--base", "essential", "--keyring", KEYRING])
            .arg("--cache-dir")
            .arg(cache)
            .args(["linux-image-cloud-amd64", "initramfs-tools", "sysvinit-core", "dpkg", "-o"])
            .arg(&lock),
    );
    assert_eq!(out.status.code(), Some(0), "lock: {}", text(&out.stderr));
    lock
}

#[test]
fn a_locked_system_builds_into_the_same_image_twice_and_boots() {
    if std::env::var_os("DEBCLOSURE_TEST_IMAGE").is_none() {
        eprintln!("NOTICE: set DEBCLOSURE_TEST_IMAGE=1 (as root, with qemu-system-x86 and e2fsprogs 1.47.1+) to build and boot an image");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::var_os("DEBCLOSURE_TEST_IMAGE_CACHE").map_or_else(|| dir.path().join("cache"), PathBuf::from);
    let lock = lock_bootable(dir.path(), &cache);
    let build = |name: &str, extra: &[&str]| {
        let image = dir.path().join(name);
        let out = timed(
            &format!("image {name}"),
            debclosure().arg("image").arg("--lock").arg(&lock).arg("--cache-dir").arg(&cache).args(extra).arg("-o").arg(&image),
        );
        assert_eq!(out.status.code(), Some(0), "image: {}", text(&out.stderr));
        image
    };
    let first = build("first.raw", &[]);
    let second = build("second.raw", &[]);
    assert!(fs::read(&first).unwrap() == fs::read(&second).unwrap(), "two builds of one lock differ");
    assert_eq!(fs::read_to_string(dir.path().join("first.raw.manifest")).unwrap(), fs::read_to_string(dir.path().join("second.raw.manifest")).unwrap());
    let leftovers: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".debclosure-image-") || n.starts_with('.'))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new(), "no temporary files left");

    let log = dir.path().join("console.log");
    let out = timed("boot-test", debclosure().arg("boot-test").arg(&first).arg("--log").arg(&log).args(["--timeout", "300"]));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "boot-test: {err}\n{}", fs::read_to_string(&log).unwrap_or_default());
    assert!(fs::read_to_string(&log).unwrap().contains("debclosure-boot-ok"));

    // A command run in the booted system decides the marker.
    let out = timed(
        "boot-test --command",
        debclosure()
            .arg("boot-test")
            .arg(&first)
            .arg("--log")
            .arg(&log)
            .args(["--timeout", "300", "--accel", "tcg", "--command", "dpkg-query -W linux-image-cloud-amd64"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(fs::read_to_string(&log).unwrap().contains("linux-image-cloud-amd64"));
    let out = debclosure()
        .arg("boot-test")
        .arg(&first)
        .arg("--log")
        .arg(&log)
        .args(["--timeout", "300", "--accel", "tcg", "--command", "test -e /no/such/file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a failing command fails the boot test: {}", text(&out.stderr));

    let qcow2 = build("disk.qcow2", &["--format", "qcow2"]);
    let again = build("again.qcow2", &["--format", "qcow2"]);
    assert!(fs::read(&qcow2).unwrap() == fs::read(&again).unwrap(), "two qcow2 builds differ");
    let out = timed("boot-test qcow2", debclosure().arg("boot-test").arg(&qcow2).arg("--log").arg(&log).args(["--accel", "tcg"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}
