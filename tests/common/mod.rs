//! The one helper module of the integration tests; each test file declares
//! `mod common;` and uses the parts it needs:
//!
//! - [`cli`]: runs the built `debclosure` in a cleared environment and
//!   snapshots what a user sees (exit code, stdout, stderr, redacted);
//! - [`server`]: an HTTP server on `127.0.0.1` with injected faults;
//! - [`repo`]: a Debian-style repository written and signed at test time,
//!   and [`repo::Archive`], one served on `127.0.0.1`;
//! - [`fetch`]: fetch options and a recording reporter for library tests;
//! - [`apt`]: the bookworm fixture, an offline apt root and dose-distcheck;
//! - [`nix`]: Nix commands with a temporary store and the stub package set;
//! - [`host_debs`]: this machine's installed packages rebuilt as `.deb` files.
//!
//! Each test file is its own crate and compiles all of this module while
//! using only a part of it, so dead code is allowed here, once, rather than
//! item by item.
#![allow(dead_code)]

pub mod apt;
pub mod cli;
pub mod fetch;
pub mod host_debs;
pub mod nix;
pub mod pgp;
pub mod repo;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;


/// The checkout (`CARGO_MANIFEST_DIR`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `tests/fixtures`.
pub fn fixture(path: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(path)
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bytes that are not all the same, so a truncated or shifted body differs.
pub fn sample(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// An RFC 2822 date (`Sun, 06 Nov 1994 08:49:37 GMT`) of `unix` seconds,
/// with `zone` (`GMT` for HTTP, `UTC` for Release files).
pub fn date(unix: i64, zone: &str) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = debclosure::release::civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} {zone}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Whether the tests run under CI (`CI` set and not empty).
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Prints a notice past the test harness's output capture, so that a skip is
/// seen even when the test passes.
pub fn notice(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "NOTICE: {text}");
}

/// Whether `program ARG` starts and succeeds.
pub fn runs(program: &str, arg: &str) -> bool {
    Command::new(program).arg(arg).output().is_ok_and(|o| o.status.success())
}

/// What a test does without a tool it needs: under CI, fail (`install` says
/// how to get it); elsewhere, print a notice that `skipped` is skipped. The
/// caller skips after it returns.
pub fn missing(tool: &str, skipped: &str, install: &str) {
    if in_ci() {
        panic!("{tool} is missing, and CI is set: {install}");
    }
    notice(&format!("{tool} is missing; skipping {skipped} ({install}; set CI to make this an error)"));
}

/// Whether the opt-in test that `variable` turns on should run; if not,
/// prints how to run it (`what`).
pub fn opt_in(variable: &str, what: &str) -> bool {
    let on = std::env::var_os(variable).is_some();
    if !on {
        notice(&format!("skipped: set {variable}=1 to {what}"));
    }
    on
}

/// Whether the tests run as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Every file under `dir` with its bytes (a link as `-> TARGET`, not
/// followed), temporary files (`.tmp*`) left out: a picture of a directory
/// to compare before and after a run.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for e in entries.flatten() {
            let path = e.path();
            let kind = e.file_type().unwrap();
            if kind.is_dir() {
                walk(&path, out);
            } else if kind.is_symlink() {
                out.insert(path.clone(), format!("-> {}", std::fs::read_link(&path).unwrap().display()).into_bytes());
            } else if !e.file_name().to_string_lossy().starts_with(".tmp") {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, &mut out);
    out
}
