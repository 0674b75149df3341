//! `debclosure image` and `boot-test` on a real lock. The argument checks
//! run always. The build is opt-in (`DEBCLOSURE_TEST_IMAGE=1`, as root):
//! it locks a minimal bootable bookworm amd64 system (the cloud kernel,
//! initramfs-tools, sysvinit-core, and the essential set) from the
//! machine's Debian mirror (its apt sources, or `DEBCLOSURE_MIRROR`; about
//! 60 MB, kept in `DEBCLOSURE_TEST_IMAGE_CACHE` if set), builds the image
//! twice (the same bytes), boots it under QEMU and sees the marker, and
//! prints the time of each step.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::cli::{Cli, Run, NETWORK_ENV};

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Runs `debclosure ARGS` with `cache` (and the network settings of the
/// test's environment), printing how long it took.
fn timed(what: &str, cache: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let run = Cli::new().cache_dir(cache).inherit(&NETWORK_ENV).run(args);
    common::notice(&format!("{what}: exit {:?} in {:.1}s", run.code(), started.elapsed().as_secs_f64()));
    run
}

/// A lock with no kernel and no init is refused before anything is built,
/// naming what to add.
#[test]
fn a_lock_that_cannot_boot_is_refused_naming_what_to_add() {
    let dir = tempfile::tempdir().unwrap();
    let lock = common::fixture("nix/bookworm.lock");
    let out = Cli::new().run(&["image", "--lock", lock.to_str().unwrap(), "-o", dir.path().join("disk.raw").to_str().unwrap()]);
    let err = out.stderr();
    out.assert_exit(2);
    assert!(err.contains("it has no kernel (e.g. linux-image-cloud-amd64) and no init"), "{err}");
    assert!(err.contains("hint: add the packages"), "{err}");
    insta::assert_snapshot!(out.report());
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
}

fn lock_bootable(dir: &Path, cache: &Path) -> PathBuf {
    let lock = dir.join("boot.lock");
    let args = ["lock", "--quiet", "--suite", "bookworm", "--arch", "amd64", "--base", "essential", "--keyring", KEYRING];
    let packages = ["linux-image-cloud-amd64", "initramfs-tools", "sysvinit-core", "dpkg", "-o", lock.to_str().unwrap()];
    timed("lock", cache, &[&args[..], &packages[..]].concat()).success();
    lock
}

#[test]
fn a_locked_system_builds_into_the_same_image_twice_and_boots() {
    if !common::opt_in("DEBCLOSURE_TEST_IMAGE", "build and boot an image (as root, with qemu-system-x86 and e2fsprogs 1.47.1+)") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cache = std::env::var_os("DEBCLOSURE_TEST_IMAGE_CACHE").map_or_else(|| dir.path().join("cache"), PathBuf::from);
    let lock = lock_bootable(dir.path(), &cache);
    let build = |name: &str, extra: &[&str]| {
        let image = dir.path().join(name);
        let args = ["image", "--lock", lock.to_str().unwrap(), "-o", image.to_str().unwrap()];
        timed(&format!("image {name}"), &cache, &[&args[..], extra].concat()).success();
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
    let boot = |what: &str, image: &Path, extra: &[&str]| {
        let args = ["boot-test", image.to_str().unwrap(), "--log", log.to_str().unwrap(), "--timeout", "300"];
        timed(what, &cache, &[&args[..], extra].concat())
    };
    boot("boot-test", &first, &[]).success();
    assert!(fs::read_to_string(&log).unwrap().contains("debclosure-boot-ok"));

    // A command run in the booted system decides the marker.
    boot("boot-test --command", &first, &["--accel", "tcg", "--command", "dpkg-query -W linux-image-cloud-amd64"]).success();
    assert!(fs::read_to_string(&log).unwrap().contains("linux-image-cloud-amd64"));
    boot("boot-test --command (failing)", &first, &["--accel", "tcg", "--command", "test -e /no/such/file"]).assert_exit(2);

    let qcow2 = build("disk.qcow2", &["--format", "qcow2"]);
    let again = build("again.qcow2", &["--format", "qcow2"]);
    assert!(fs::read(&qcow2).unwrap() == fs::read(&again).unwrap(), "two qcow2 builds differ");
    boot("boot-test qcow2", &qcow2, &["--accel", "tcg"]).success();
}
