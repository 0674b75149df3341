//! Opt-in: fetches bookworm and bookworm-updates main amd64 from the
//! machine's Debian mirror (its apt sources, or `DEBCLOSURE_MIRROR`) and
//! verifies them with the real Debian archive keyring. Turned on by
//! `DEBCLOSURE_TEST_REAL_MIRROR=1`; it downloads about 9 MB.

use std::process::Command;

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

#[test]
fn bookworm_from_the_real_mirror_verifies_and_resolves() {
    if std::env::var_os("DEBCLOSURE_TEST_REAL_MIRROR").is_none() {
        eprintln!("skipped: set DEBCLOSURE_TEST_REAL_MIRROR=1 to fetch from the machine's Debian mirror");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_debclosure"));
        cmd.args(["resolve", "--format=json", "--arch=amd64", "--quiet", "--suite=bookworm", "--suite=bookworm-updates"])
            .arg(format!("--keyring={KEYRING}"))
            .arg(format!("--cache-dir={}", cache.path().display()))
            .arg(concat!("--request-file=", env!("CARGO_MANIFEST_DIR"), "/examples/common-debian.txt"))
            .args(extra);
        cmd.output().unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let paths: Vec<&str> = v["releases"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["dists/bookworm/InRelease", "dists/bookworm-updates/InRelease"]);
    assert_eq!(v["indices"].as_array().unwrap().len(), 2);
    for index in v["indices"].as_array().unwrap() {
        assert_eq!(index["content_sha256"].as_str().unwrap().len(), 64);
    }
    let names: Vec<&str> = v["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    for needed in ["dpkg", "libc6", "mawk", "perl-base", "g++"] {
        assert!(names.contains(&needed), "{needed} missing from {names:?}");
    }
    assert!(!names.contains(&"original-awk") && !names.contains(&"gawk"));
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!text.contains("http://") && !text.contains("https://"), "the output names a host");
    let offline = run(&["--offline"]);
    assert_eq!(offline.status.code(), Some(0), "{}", String::from_utf8_lossy(&offline.stderr));
    assert_eq!(offline.stdout, out.stdout, "the warm offline run differs");
}
