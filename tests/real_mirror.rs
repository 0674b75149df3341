//! Opt-in: fetches bookworm and bookworm-updates main amd64 from the
//! machine's Debian mirror (its apt sources, or `DEBCLOSURE_MIRROR`) and
//! verifies them with the real Debian archive keyring. Turned on by
//! `DEBCLOSURE_TEST_REAL_MIRROR=1`; it downloads about 9 MB.

mod common;

use common::cli::{Cli, NETWORK_ENV};

const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

#[test]
fn bookworm_from_the_real_mirror_verifies_and_resolves() {
    if !common::opt_in("DEBCLOSURE_TEST_REAL_MIRROR", "fetch from the machine's Debian mirror") {
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let cli = Cli::new().cache_dir(cache.path()).inherit(&NETWORK_ENV);
    let run = |extra: &[&str]| {
        let mut args = vec!["resolve", "--format=json", "--arch=amd64", "--quiet", "--suite=bookworm", "--suite=bookworm-updates"];
        let keyring = format!("--keyring={KEYRING}");
        let request = concat!("--request-file=", env!("CARGO_MANIFEST_DIR"), "/examples/common-debian.txt");
        args.extend([keyring.as_str(), request]);
        args.extend(extra);
        cli.run(&args)
    };
    let out = run(&[]);
    let v = out.json();
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
    let text = String::from_utf8(out.output.stdout.clone()).unwrap();
    assert!(!text.contains("http://") && !text.contains("https://"), "the output names a host");
    let offline = run(&["--offline"]);
    offline.success();
    assert_eq!(offline.output.stdout, out.output.stdout, "the warm offline run differs");
}
