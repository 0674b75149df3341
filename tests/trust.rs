//! Issue 15, part 1: each archive is verified with its own keys, named by a
//! `[[source]] keyring`, a `--source "[signed-by=…] …"`, `--keyring`, the
//! machine's apt sources or the distribution's default, never a pool of
//! them; the lock records which keys signed each Release, and `update` says
//! when they change. Two archives on 127.0.0.1, each signed by its own key
//! made at test time.

mod common;

use std::path::PathBuf;

use common::cli::{Cli, Run};
use common::repo::{now, write_suite, Archive, Deb, Key, Suite};

/// `debian` (stable, signed by the archive's key) and `debian-security`
/// (stable-security, signed by a key of its own), served together.
struct Two {
    a: Archive,
    security: Key,
    security_keyring: PathBuf,
}

impl Two {
    fn new() -> Two {
        let main = Suite::new("stable", vec![Deb::new("app", "1.0-1", "Depends: fix"), Deb::new("fix", "1-1", "")]);
        let a = Archive::new(&[main]);
        let security = Key::generate("security");
        let fixed = Suite::new("stable-security", vec![Deb::new("fix", "1-1+deb1", "")]);
        write_suite(&a.path("www/debian-security"), &fixed, &[&security]);
        let security_keyring = security.write_keyring(&a.path("security.gpg"));
        Two { a, security, security_keyring }
    }

    /// Writes the spec: both archives, with `keyrings` (TOML lines) for the
    /// main and security sources, and `top` at the top.
    fn spec(&self, top: &str, main_keyring: &str, security_keyring: &str) {
        let spec = format!(
            "architecture = \"amd64\"\npackages = [\"app\"]\n{top}\n\
             [[source]]\nsuites = [\"stable\"]\nmirror = {:?}\n{main_keyring}\n\
             [[source]]\narchive = \"debian-security\"\nsuites = [\"stable-security\"]\nmirror = {:?}\n{security_keyring}\n",
            self.a.mirror(),
            self.a.server.url("/debian-security"),
        );
        std::fs::write(self.a.proj().join("debclosure.toml"), spec).unwrap();
    }

    /// One keyring file with both archives' keys.
    fn both_keyrings(&self) -> PathBuf {
        let both = self.a.path("both.gpg");
        let mut bytes = std::fs::read(&self.a.keyring).unwrap();
        bytes.extend(std::fs::read(&self.security_keyring).unwrap());
        std::fs::write(&both, bytes).unwrap();
        both
    }

    fn cli(&self) -> Cli {
        self.a.cli().current_dir(self.a.proj())
    }

    fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        self.cli().run(args)
    }

    fn lock(&self) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(self.a.proj().join("debclosure.lock")).unwrap()).unwrap()
    }
}

/// `keyring = [PATH]`.
fn keyring_line(path: &std::path::Path) -> String {
    format!("keyring = [{:?}]", path.display().to_string())
}

#[test]
fn each_source_is_verified_with_its_own_keyring_and_the_lock_records_the_signers() {
    let t = Two::new();
    // A relative path is relative to the spec's directory.
    t.spec("", "keyring = [\"../archive.gpg\"]", &keyring_line(&t.security_keyring));
    t.run(&["lock", "-q"]).assert_exit(0);
    let lock = t.lock();
    assert_eq!(lock["version"], 3, "signers need format version 3");
    let signers: Vec<(String, serde_json::Value)> = lock["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["archive"].as_str().unwrap().to_owned(), r["signed_by"].clone()))
        .collect();
    assert_eq!(
        signers,
        [
            ("debian".to_owned(), serde_json::json!([t.a.key.signing_fingerprint()])),
            ("debian-security".to_owned(), serde_json::json!([t.security.signing_fingerprint()])),
        ]
    );
    let fix = lock["packages"].as_array().unwrap().iter().find(|p| p["name"] == "fix").unwrap().clone();
    assert_eq!(fix["archive"], "debian-security");
    t.run(&["check", "-q"]).assert_exit(0);
}

#[test]
fn a_key_of_another_archive_does_not_vouch() {
    let t = Two::new();
    // Both keyrings exist and are good, but each names the other archive's key.
    t.spec("", &keyring_line(&t.security_keyring), &keyring_line(&t.a.keyring));
    let out = t.run(&["lock", "-q"]);
    out.fails_with(&["dists/stable", "InRelease", "no good signature", "from the spec's [[source]] keyring of"]);
    let err = out.stderr();
    let wrong = [&t.security_keyring, &t.a.keyring].map(|k| format!("trusts: {} (from", k.display()));
    assert!(wrong.iter().any(|w| err.contains(w)), "{err}");
    assert!(!t.a.proj().join("debclosure.lock").exists(), "a lock was written");
    // A top-level keyring with one key is every archive's that has none of
    // its own: the security archive is not signed by it.
    t.spec(&keyring_line(&t.a.keyring), "", "");
    t.run(&["lock", "-q"]).fails_with(&["archive debian-security trusts:", "(from the spec's keyring)"]);
    // With its own keyring, it is.
    t.spec(&keyring_line(&t.a.keyring), "", &keyring_line(&t.security_keyring));
    t.run(&["lock", "-q"]).assert_exit(0);
}

#[test]
fn signed_by_in_source_flags() {
    let t = Two::new();
    let source = |keyring: &std::path::Path, path: &str, suite: &str| {
        format!("[signed-by={}] {} {suite} main", keyring.display(), t.a.server.url(path))
    };
    let good = [source(&t.a.keyring, "/debian", "stable"), source(&t.security_keyring, "/debian-security", "stable-security")];
    let args = |sources: &[String]| {
        let mut args = vec!["resolve".to_owned(), "-q".into(), "--arch=amd64".into(), "--format=json".into()];
        for s in sources {
            args.extend(["--source".to_owned(), s.clone()]);
        }
        args.push("app".into());
        args
    };
    let out = t.run(&args(&good));
    out.assert_exit(0);
    let releases = out.json()["releases"].clone();
    assert_eq!(releases[1]["signed_by"], serde_json::json!([t.security.signing_fingerprint()]));
    let bad = [source(&t.a.keyring, "/debian", "stable"), source(&t.a.keyring, "/debian-security", "stable-security")];
    t.run(&args(&bad)).fails_with(&["dists/stable-security/InRelease", "archive debian-security trusts:", "(from --source)"]);
    // A fingerprint selects a key of the keyring; `!` only that very key,
    // not its subkeys (the test keys sign with a subkey).
    let both = t.both_keyrings();
    let subkey = t.security.signing_fingerprint();
    let with = |signed_by: &str| {
        vec![
            source(&t.a.keyring, "/debian", "stable"),
            format!("[signed-by={},{signed_by}] {} stable-security main", both.display(), t.a.server.url("/debian-security")),
        ]
    };
    t.run(&args(&with(&subkey))).assert_exit(0);
    t.run(&args(&with(&format!("{subkey}!")))).assert_exit(0);
    let other = t.a.key.signing_fingerprint();
    t.run(&args(&with(&other))).fails_with(&["archive debian-security trusts:", &format!("key {other}")]);
    t.run(&args(&["[signed-by=keys.gpg] http://127.0.0.1:9/debian stable main".to_owned()]))
        .fails_with(&["--source:1: Signed-By: \"keys.gpg\" is neither an absolute keyring path nor a key fingerprint"]);
}

/// Without a keyring named anywhere, an archive is verified with its
/// distribution's archive keyring alone: never the other distribution's.
#[test]
fn the_default_keyring_follows_the_distribution() {
    let t = Two::new();
    write_suite(&t.a.path("www/ubuntu"), &Suite::new("stable", vec![Deb::new("app", "1.0-1", "")]), &[&t.a.key]);
    let spec = format!(
        "distribution = \"ubuntu\"\narchitecture = \"amd64\"\npackages = [\"app\"]\n\n[[source]]\nsuites = [\"stable\"]\nmirror = {:?}\n",
        t.a.server.url("/ubuntu")
    );
    std::fs::write(t.a.proj().join("debclosure.toml"), spec).unwrap();
    let out = t.run(&["lock", "-q"]);
    out.fails_with(&["/usr/share/keyrings/ubuntu-archive-keyring.gpg", "(from the default for Ubuntu)"]);
    assert!(!out.stderr().contains("debian-archive-keyring"), "{}", out.stderr());
    // A Debian archive: the machine's apt source for `debian` may name its
    // keyring (Signed-By), else Debian's default; never Ubuntu's.
    t.spec("", "", "");
    let out = t.run(&["lock", "-q"]);
    out.fails_with(&["debian-archive-keyring.gpg"]);
    assert!(!out.stderr().contains("ubuntu-archive-keyring"), "{}", out.stderr());
}

#[test]
fn update_says_when_the_signing_keys_change() {
    let t = Two::new();
    let both = t.both_keyrings();
    t.spec(&keyring_line(&both), "", "");
    t.run(&["lock", "-q"]).assert_exit(0);
    // The main archive is now signed by the other key (a key rotation).
    let mut suite = Suite::new("stable", vec![Deb::new("app", "1.0-1", "Depends: fix"), Deb::new("fix", "1-1", "")]);
    suite.date = now() - 60;
    t.a.write(&suite, &[&t.security]);
    let (old, new) = (t.a.key.signing_fingerprint(), t.security.signing_fingerprint());
    let want = format!("signing keys of debian stable: {old} -> {new}");
    let out = t.run(&["update", "-q", "--dry-run"]);
    out.assert_exit(1);
    assert!(out.stdout().contains(&want), "{}", out.stdout());
    let out = t.run(&["update", "-q", "--format=json"]);
    out.assert_exit(0);
    let v = out.json();
    assert_eq!(v["signers"][0]["from"], serde_json::json!([old]));
    assert_eq!(v["summary"]["signing_keys"], 1);
    assert_eq!(t.lock()["releases"][0]["signed_by"], serde_json::json!([new]));
    t.run(&["check", "-q"]).assert_exit(0);
}
