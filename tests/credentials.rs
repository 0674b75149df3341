//! Issue 15, part 6: credentials in a mirror URL (`http://user:secret@...`)
//! are never printed. Every command that takes a mirror runs with one
//! against a signed archive served on 127.0.0.1 (which ignores them), on
//! its success and failure paths, and nothing it prints (stdout, stderr,
//! the progress bar on a terminal) or writes (the lock, JSON, Nix, the
//! downloaded files' names) holds the password.

mod common;

use std::path::{Path, PathBuf};

use common::cli::{Cli, Run};
use common::repo::{Archive, Deb, Suite};
use common::{is_root, text};

const SECRET: &str = "s3cr3t-pass";

/// Fetch settings of every run: no retries, short timeouts.
const FETCH: [(&str, &str); 3] =
    [("DEBCLOSURE_RETRIES", "0"), ("DEBCLOSURE_CONNECT_TIMEOUT_MS", "2000"), ("DEBCLOSURE_READ_TIMEOUT_MS", "5000")];

/// `url` with `user:SECRET@` after its scheme.
fn with_credentials(url: &str) -> String {
    url.replacen("http://", &format!("http://user:{SECRET}@"), 1)
}

/// Asserts that the secret appears nowhere in the run's output or in the
/// files under `dir`, and returns the run.
fn clean(label: &str, run: Run, dir: &Path) -> Run {
    let all = format!("{}\n{}", run.stdout(), run.stderr());
    assert!(!all.contains(SECRET), "{label}: the password was printed:\n{all}");
    assert!(!all.contains("user:"), "{label}: the user was printed:\n{all}");
    // The spec holds the password by the user's choice.
    for (path, bytes) in common::tree(dir).into_iter().filter(|(p, _)| !p.ends_with("debclosure.toml")) {
        assert!(!text(&bytes).contains(SECRET), "{label}: the password was written to {}", path.display());
        assert!(!path.to_string_lossy().contains(SECRET), "{label}: the password is in a file name: {}", path.display());
    }
    run
}

struct Setup {
    archive: Archive,
    cli: Cli,
    mirror: String,
    out: PathBuf,
}

fn setup() -> Setup {
    let debs = vec![Deb::new("app", "1", "Depends: lib\n"), Deb::new("lib", "2", "")];
    let archive = Archive::new(&[Suite::new("stable", debs)]);
    let out = archive.path("out");
    std::fs::create_dir_all(&out).unwrap();
    let cli = archive.cli().current_dir(&out).envs(&FETCH);
    let mirror = with_credentials(&archive.mirror());
    Setup { archive, cli, mirror, out }
}

#[test]
fn issue_15_mirror_credentials_are_never_printed_or_written() {
    let s = setup();
    let keyring = s.archive.keyring.to_str().unwrap().to_owned();
    let m = s.mirror.as_str();
    let out = &s.out;
    let base = ["--arch", "amd64", "--suite", "stable", "--keyring", &keyring];
    let with = |cmd: &str, extra: &[&str]| -> Vec<String> {
        let mut v = vec![cmd.to_owned()];
        v.extend(base.iter().map(|a| (*a).to_owned()));
        v.extend(extra.iter().map(|a| (*a).to_owned()));
        v
    };

    // Successes.
    let run = clean("resolve", s.cli.run(&with("resolve", &["--mirror", m, "--format", "json", "app"])), out);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(run.stdout().contains("\"lib\""), "{}", run.stdout());
    let run = clean("resolve nix", s.cli.run(&with("resolve", &["--mirror", m, "--format", "nix", "app"])), out);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let source = format!("{m} stable main");
    let run = clean(
        "resolve --source",
        s.cli.run(&["resolve", "--arch", "amd64", "--keyring", &keyring, "--source", &source, "--format", "json", "app"]),
        out,
    );
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    let run = clean("lock", s.cli.run(&with("lock", &["--mirror", m, "-o", "debclosure.lock", "app"])), out);
    assert_eq!(run.code(), Some(0), "{}", run.stderr());
    assert!(out.join("debclosure.lock").is_file());
    for (label, args) in [
        ("check", vec!["check", "--lock", "debclosure.lock", "--mirror", m]),
        ("check --format json", vec!["check", "--lock", "debclosure.lock", "--mirror", m, "--format", "json"]),
        ("update --dry-run", vec!["update", "--lock", "debclosure.lock", "--mirror", m, "--keyring", &keyring, "--dry-run"]),
        ("update", vec!["update", "--lock", "debclosure.lock", "--mirror", m, "--keyring", &keyring]),
        ("fetch-debs", vec!["fetch-debs", "--from", "debclosure.lock", "--suite", "stable", "--mirror", m, "-o", "debs"]),
        ("why", vec!["why", "--lock", "debclosure.lock", "lib"]),
        ("nix", vec!["nix", "--lock", "debclosure.lock", "-o", "debs.nix"]),
    ] {
        let run = clean(label, s.cli.run(&args), out);
        assert!(matches!(run.code(), Some(0 | 1)), "{label}: {}", run.stderr());
    }
    assert!(out.join("debs").read_dir().unwrap().count() >= 2);

    // A spec with the mirror.
    let spec = format!("architecture = \"amd64\"\npackages = [\"app\"]\nkeyring = [{keyring:?}]\n\n[[source]]\nsuites = [\"stable\"]\nmirror = {m:?}\n");
    let proj = s.archive.proj();
    std::fs::write(proj.join("debclosure.toml"), &spec).unwrap();
    let cli = s.archive.cli().current_dir(&proj).envs(&FETCH);
    for (label, args) in [("lock --spec", &["lock"][..]), ("check --spec", &["check"]), ("update --spec", &["update"])] {
        let run = clean(label, cli.run(args), &proj);
        assert_eq!(run.code(), Some(0), "{label}: {}", run.stderr());
    }
    assert!(proj.join("debclosure.lock").is_file());

    // Failures: a missing suite (404), a closed port, a missing package, a
    // broken keyring, a tampered archive.
    let owned = |a: &[&str]| -> Vec<String> { a.iter().map(|x| (*x).to_owned()).collect() };
    let closed = with_credentials("http://127.0.0.1:9/debian");
    let closed_source = format!("{closed} stable main");
    let cold = s.archive.cli().cache_dir(s.archive.path("cold-cache")).current_dir(out).envs(&FETCH);
    for (label, args) in [
        ("resolve, missing suite", owned(&["resolve", "--arch", "amd64", "--suite", "nosuch", "--keyring", &keyring, "--mirror", m, "app"])),
        ("resolve, closed port", with("resolve", &["--mirror", &closed, "app"])),
        ("resolve, missing package", with("resolve", &["--mirror", m, "nosuch"])),
        ("resolve, no keyring", owned(&["resolve", "--arch", "amd64", "--suite", "stable", "--mirror", m, "--keyring", "/nonexistent", "app"])),
        ("lock, closed port", with("lock", &["--mirror", &closed, "-o", "other.lock", "app"])),
        ("check, closed port", owned(&["check", "--lock", "debclosure.lock", "--mirror", &closed])),
        ("update, closed port", owned(&["update", "--lock", "debclosure.lock", "--mirror", &closed, "--keyring", &keyring, "--refresh"])),
        ("fetch-debs, closed port", owned(&["fetch-debs", "--from", "debclosure.lock", "--suite", "stable", "--mirror", &closed, "-o", "debs2"])),
        ("rootfs, closed port", owned(&["rootfs", "--lock", "debclosure.lock", "--source", &closed_source, "tree"])),
        ("rootfs", owned(&["rootfs", "--lock", "debclosure.lock", "--source", &source, "tree"])),
        ("rootfs, bad flag", owned(&["rootfs", "--lock", "debclosure.lock", "--mirror", m, "--suite", "x", "tree"])),
        ("resolve, snapshot base", with("resolve", &["--snapshot", "20250101T000000Z", "--snapshot-base", m, "app"])),
    ] {
        // With nothing cached, so that the closed port is reached.
        let cli = if label.contains("closed port") { &cold } else { &s.cli };
        let run = clean(label, cli.run(&args), out);
        assert_eq!(run.code(), Some(2), "{label}: {}\n{}", run.stdout(), run.stderr());
        if label.contains("port") || label.contains("suite") {
            assert!(run.stderr().contains("http://127.0.0.1:"), "{label}: the URL is not shown: {}", run.stderr());
        }
    }
    // The archive disappears behind the mirror: the downloads of the .debs fail.
    std::fs::remove_dir_all(s.archive.root().join("pool")).unwrap();
    let cold = s.archive.cli().cache_dir(s.archive.path("cold-404")).current_dir(out).envs(&FETCH);
    let run = clean("fetch-debs, 404", cold.run(&["fetch-debs", "--from", "debclosure.lock", "--suite", "stable", "--mirror", m, "-o", "debs3"]), out);
    assert_eq!(run.code(), Some(2), "{}", run.stderr());
    if is_root() {
        let run = clean("rootfs, 404", cold.run(&["rootfs", "--lock", "debclosure.lock", "--source", &source, "tree"]), out);
        assert_eq!(run.code(), Some(2), "{}", run.stderr());
    }
}

/// The progress bar, drawn only on a terminal: the runs go through
/// `script` (util-linux), which gives them one.
#[test]
fn issue_15_the_progress_bar_shows_no_credentials() {
    if !common::runs("script", "--version") {
        common::missing("script", "the progress bar check", "apt-get install bsdutils");
        return;
    }
    let s = setup();
    let keyring = s.archive.keyring.to_str().unwrap().to_owned();
    let exe = env!("CARGO_BIN_EXE_debclosure");
    let cache = s.archive.cache();
    let cache = cache.to_str().unwrap();
    let fetch = FETCH.map(|(k, v)| format!("{k}={v}")).join(" ");
    for args in [
        format!("lock --cache-dir {cache} --arch amd64 --suite stable --keyring {keyring} --mirror '{}' -o t.lock app", s.mirror),
        format!("fetch-debs --cache-dir {cache} --from t.lock --suite stable --mirror '{}' -o debs", s.mirror),
        format!("resolve --cache-dir {cache} --arch amd64 --suite nosuch --keyring {keyring} --mirror '{}' app", s.mirror),
    ] {
        let typescript = s.out.join("typescript");
        let out = std::process::Command::new("script")
            .args(["-qefc", &format!("env {fetch} {exe} {args}")])
            .arg(&typescript)
            .current_dir(&s.out)
            .env("NO_PROXY", "127.0.0.1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        // `script` writes the command line itself into the first and last lines.
        let shown: String = text(&std::fs::read(&typescript).unwrap())
            .lines()
            .filter(|l| !l.starts_with("Script started") && !l.starts_with("Script done"))
            .map(|l| format!("{l}\n"))
            .collect();
        let all = format!("{shown}{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(SECRET), "{args}: the terminal showed the password:\n{all}");
        let drawn = if args.contains("nosuch") { "error: http://127.0.0.1:" } else { "downloading" };
        assert!(shown.contains(drawn), "{args}: {drawn:?} was not shown:\n{shown}");
        std::fs::remove_file(&typescript).unwrap();
    }
    assert!(s.out.join("t.lock").is_file() && s.out.join("debs").is_dir(), "the runs under a terminal did their work");
}
