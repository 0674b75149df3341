//! `debclosure boot-test` and the image file system, without a network: the
//! guests are tiny multiboot kernels assembled here (`as`, `ld`), which QEMU
//! boots directly as it boots Linux. One prints the marker and powers the
//! machine off through ACPI, one prints something else, one never prints at
//! all. Each sits in `/boot` of an ext4 image made by
//! `debclosure::image::make_filesystem` from a tar, as `debclosure image`
//! makes it.
//!
//! The real thing (a locked Debian kernel and init, built twice into the
//! same bytes and booted) is the opt-in test in `tests/image.rs`.
//!
//! Needs qemu-system-x86_64, binutils and mke2fs 1.47.1 or later: without
//! them the tests print a notice and pass, unless `CI` is set.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cli::{Cli, Run};
use common::text;

fn tools_present(test: &str) -> bool {
    let mut absent = Vec::new();
    for (program, arg) in [("qemu-system-x86_64", "--version"), ("as", "--version"), ("ld", "--version")] {
        if !common::runs(program, arg) {
            absent.push(program);
        }
    }
    if debclosure::image::check_mke2fs().is_err() {
        absent.push("mke2fs 1.47.1+");
    }
    if std::env::consts::ARCH != "x86_64" {
        absent.push("an x86-64 machine");
    }
    if absent.is_empty() {
        return true;
    }
    common::missing(&absent.join(", "), test, "scripts/install-deps installs them (from backports on Debian 12)");
    false
}

/// A multiboot kernel that writes `message` to the first serial port and
/// then powers off (or, with `None`, spins without a word).
fn kernel(dir: &Path, name: &str, message: Option<&str>) -> PathBuf {
    let body = match message {
        Some(m) => format!(
            r#"
        mov $message, %esi
next:   lodsb
        test %al, %al
        jz off
        mov $0x3f8, %dx
        out %al, %dx
        jmp next
off:    mov $0x604, %dx         # q35's ACPI PM1a control: SLP_EN, S5
        mov $0x2000, %ax
        out %ax, %dx
halt:   hlt
        jmp halt
message: .asciz "{m}\n"
"#
        ),
        None => "spin:   jmp spin\n".to_owned(),
    };
    let source = format!(
        r#"        .code32
        .text
        .globl _start
        .align 4
        .long 0x1BADB002, 0, -0x1BADB002   # multiboot header: magic, flags, checksum
_start:
{body}"#
    );
    let s = dir.join(format!("{name}.S"));
    let o = dir.join(format!("{name}.o"));
    let elf = dir.join(name);
    fs::write(&s, source).unwrap();
    for (program, args) in [
        ("as", vec!["--32", "-o", o.to_str().unwrap(), s.to_str().unwrap()]),
        ("ld", vec!["-m", "elf_i386", "-Ttext=0x100000", "-e", "_start", "-o", elf.to_str().unwrap(), o.to_str().unwrap()]),
    ] {
        let out = Command::new(program).args(&args).output().unwrap();
        assert!(out.status.success(), "{program}: {}", text(&out.stderr));
    }
    elf
}

/// A raw ext4 image with `kernel` as `/boot/vmlinuz-1.0-test`.
fn image_with(dir: &Path, name: &str, kernel: &Path) -> PathBuf {
    let tree = dir.join(format!("{name}.tree"));
    fs::create_dir_all(tree.join("boot")).unwrap();
    fs::copy(kernel, tree.join("boot/vmlinuz-1.0-test")).unwrap();
    let tar = dir.join(format!("{name}.tar"));
    let out = Command::new("tar").arg("-cf").arg(&tar).arg("-C").arg(&tree).arg(".").output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let image = dir.join(format!("{name}.raw"));
    debclosure::image::make_filesystem(&tar, &image, 16, 1_700_000_000, name.as_bytes(), "test").unwrap();
    image
}

fn boot_test(image: &Path, log: &Path, args: &[&str]) -> Run {
    let mut all = vec!["boot-test", image.to_str().unwrap(), "--log", log.to_str().unwrap()];
    all.extend_from_slice(args);
    Cli::new().run(&all)
}

/// QEMU processes whose command line names `path`.
fn qemus_using(path: &Path) -> Vec<String> {
    let needle = path.to_str().unwrap();
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
        let cmdline = text(&cmdline).replace('\0', " ");
        if cmdline.contains("qemu-system") && cmdline.contains(needle) {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn a_guest_that_prints_the_marker_passes() {
    if !tools_present("a_guest_that_prints_the_marker_passes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ok = image_with(dir.path(), "ok", &kernel(dir.path(), "ok", Some("guest says debclosure-boot-ok")));
    let log = dir.path().join("console.log");
    let out = boot_test(&ok, &log, &["--accel", "tcg", "--timeout", "120"]);
    let err = out.stderr();
    out.success();
    assert!(err.contains("tcg"), "says which accelerator: {err}");
    assert!(fs::read_to_string(&log).unwrap().contains("debclosure-boot-ok"));
    assert_eq!(qemus_using(&ok), Vec::<String>::new());

    // Another marker is looked for when asked.
    boot_test(&ok, &log, &["--accel", "tcg", "--timeout", "120", "--expect", "guest says"]).success();

    // Auto: KVM where it works, else TCG with the reason.
    let out = boot_test(&ok, &log, &["--accel", "auto", "--kvm-probe", "3", "--timeout", "120"]);
    let err = out.stderr();
    out.success();
    assert!(err.contains("with kvm") || (err.contains("with tcg") && err.contains("KVM")), "{err}");
    assert_eq!(qemus_using(&ok), Vec::<String>::new());
}

#[test]
fn a_guest_without_the_marker_fails_with_the_console() {
    if !tools_present("a_guest_without_the_marker_fails_with_the_console") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let other = image_with(dir.path(), "other", &kernel(dir.path(), "other", Some("something else entirely")));
    let log = dir.path().join("console.log");
    let out = boot_test(&other, &log, &["--accel", "tcg", "--timeout", "120"]);
    let err = out.stderr();
    out.assert_exit(2);
    assert!(err.contains("without the marker \"debclosure-boot-ok\" on the console"), "{err}");
    assert!(err.contains("something else entirely"), "shows the console's end: {err}");
    assert!(err.contains("hint:"), "{err}");
    insta::assert_snapshot!(out.report());
}

#[test]
fn a_silent_guest_is_stopped_by_the_watchdog_and_nothing_is_left_running() {
    if !tools_present("a_silent_guest_is_stopped_by_the_watchdog_and_nothing_is_left_running") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let silent = image_with(dir.path(), "silent", &kernel(dir.path(), "silent", None));
    let log = dir.path().join("console.log");
    let started = Instant::now();
    let out = boot_test(&silent, &log, &["--accel", "tcg", "--timeout", "3"]);
    let err = out.stderr();
    out.assert_exit(2);
    assert!(err.contains("did not print the marker within 3s"), "{err}");
    insta::assert_snapshot!("watchdog", out.report());
    // The watchdog's own timeout: at least the 3 s it was given.
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(qemus_using(&silent), Vec::<String>::new(), "QEMU was ended");

    // SIGTERM and SIGINT end the boot and QEMU with it.
    for signal in ["-TERM", "-INT"] {
        let cli = Cli::new();
        let child = cli
            .command(&["boot-test", silent.to_str().unwrap(), "--log", log.to_str().unwrap(), "--accel", "tcg", "--timeout", "600"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until QEMU runs, then signal debclosure alone.
        let deadline = Instant::now() + Duration::from_secs(60);
        while qemus_using(&silent).is_empty() {
            assert!(Instant::now() < deadline, "QEMU never started");
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = Command::new("kill").arg(signal).arg(child.id().to_string()).status().unwrap();
        assert!(status.success());
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{signal}: {err}");
        assert_eq!(qemus_using(&silent), Vec::<String>::new(), "{signal}: QEMU was ended");
    }
}

#[test]
fn an_image_without_a_kernel_is_refused() {
    if !tools_present("an_image_without_a_kernel_is_refused") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("etc")).unwrap();
    let tar = dir.path().join("t.tar");
    assert!(Command::new("tar").arg("-cf").arg(&tar).arg("-C").arg(&tree).arg(".").status().unwrap().success());
    let image = dir.path().join("empty.raw");
    debclosure::image::make_filesystem(&tar, &image, 16, 0, b"x", "test").unwrap();
    let out = boot_test(&image, &dir.path().join("log"), &["--accel", "tcg"]);
    let err = out.stderr();
    out.assert_exit(2);
    assert!(err.contains("no /boot/vmlinuz-* in the image"), "{err}");
    assert!(err.contains("hint: lock a kernel"), "{err}");
    insta::assert_snapshot!(out.report());
}

#[test]
fn the_file_system_is_the_same_bytes_from_the_same_tar() {
    if !tools_present("the_file_system_is_the_same_bytes_from_the_same_tar") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    for d in ["etc", "usr/bin", "var/lib"] {
        fs::create_dir_all(tree.join(d)).unwrap();
    }
    fs::write(tree.join("etc/hostname"), "test\n").unwrap();
    fs::write(tree.join("usr/bin/tool"), vec![7u8; 100_000]).unwrap();
    let tar = dir.path().join("t.tar");
    let out = Command::new("tar")
        .args(["--sort=name", "--mtime=@1700000000", "--numeric-owner", "-cf"])
        .arg(&tar)
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let make = |name: &str, seed: &[u8]| {
        let path = dir.path().join(name);
        debclosure::image::make_filesystem(&tar, &path, 32, 1_700_000_000, seed, "root").unwrap();
        std::thread::sleep(Duration::from_millis(1100)); // a clock that moved must not show
        fs::read(path).unwrap()
    };
    let a = make("a.raw", b"lock");
    let b = make("b.raw", b"lock");
    assert!(a == b, "two runs differ");
    assert!(a != make("c.raw", b"another lock"), "the lock seeds the file system's identifiers");
    let fsck = Command::new("e2fsck").args(["-f", "-n"]).arg(dir.path().join("a.raw")).output().unwrap();
    assert!(fsck.status.success(), "{}{}", text(&fsck.stdout), text(&fsck.stderr));
    let cat = Command::new("debugfs").args(["-R", "cat /etc/hostname"]).arg(dir.path().join("a.raw")).output().unwrap();
    assert_eq!(text(&cat.stdout), "test\n");
    // Existing output is never overwritten.
    let err = debclosure::image::make_filesystem(&tar, &dir.path().join("a.raw"), 32, 0, b"", "root").unwrap_err();
    assert!(err.to_string().contains("cannot create"), "{err}");
}

/// nix/'s `bootTest` with nixpkgs' doubles (`tests/fixtures/nix/stub-pkgs.nix`:
/// `runCommand`, and this machine's QEMU and e2fsprogs): the same check in a
/// derivation, built in Nix's sandbox.
#[test]
fn boot_test_runs_as_a_nix_check() {
    if !tools_present("boot_test_runs_as_a_nix_check") {
        return;
    }
    let Some(mut nix) = common::nix::Nix::find("boot_test_runs_as_a_nix_check") else { return };
    let dir = tempfile::tempdir().unwrap();
    let ok = image_with(dir.path(), "ok", &kernel(dir.path(), "ok", Some("guest says debclosure-boot-ok")));
    let silent = image_with(dir.path(), "silent", &kernel(dir.path(), "silent", None));
    let tool = common::nix::tool_dir(dir.path(), "tool", None);
    nix.allow_in_builds(dir.path());
    nix.allow_in_builds(Path::new(env!("CARGO_BIN_EXE_debclosure")).parent().unwrap());
    let expr = r#"
      let l = import (path repo + "/nix") { inherit pkgs; debclosure = path tool; };
      in l.bootTest { image = path image; accel = "tcg"; timeout = 20; }"#;
    let args = |image: &Path| [("tool", tool.to_str().unwrap().to_owned()), ("image", image.to_str().unwrap().to_owned())];
    let run = |image: &Path| {
        let owned = args(image);
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
        nix.build(expr, "args", &pairs)
    };
    let outs = run(&ok).unwrap();
    let console = fs::read_to_string(nix.real(&outs[0]).join("console.log")).unwrap();
    assert!(console.contains("debclosure-boot-ok"), "{console}");
    let err = run(&silent).unwrap_err();
    assert!(err.contains("did not print the marker within 20s"), "{err}");
}
