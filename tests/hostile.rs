//! Issue 8: hostile and broken input, end to end. Each test runs the real
//! binary on an input that crosses a trust boundary (an index, a Release
//! file, a lock, a spec, the cache directory, a path on the command line)
//! and checks what a user would see: exit code 2, a short message that says
//! what and where, no panic, bounded memory (peak RSS from `/usr/bin/time`),
//! and nothing written: the lock, the cache and any output as they were.
//! docs/security.md lists the boundaries and which test covers each.

mod common;
mod repo;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::TestServer;
use repo::{write_suite, Deb, Key, Suite};

/// A run of the binary and its peak resident memory in KiB, when
/// `/usr/bin/time` is there to measure it.
struct Run {
    out: Output,
    peak_kib: Option<u64>,
}

fn time_available() -> bool {
    let ok = Path::new("/usr/bin/time").is_file();
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "/usr/bin/time is missing (apt-get install time)");
        eprintln!("notice: /usr/bin/time missing; memory bounds not checked");
    }
    ok
}

/// Runs `debclosure ARGS` in `dir` with `env`, measuring its memory.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let measured = time_available();
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let mut cmd = if measured {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-f").arg("%M").arg("-o").arg(rss_file.path()).arg(env!("CARGO_BIN_EXE_debclosure"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_debclosure"))
    };
    cmd.args(args)
        .current_dir(dir)
        .env_remove("DEBCLOSURE_MIRROR")
        .env_remove("DEBCLOSURE_MAX_INDEX_SIZE")
        .env("NO_PROXY", "127.0.0.1")
        .env("DEBCLOSURE_RETRIES", "0")
        .env("DEBCLOSURE_CONNECT_TIMEOUT_MS", "2000")
        .env("DEBCLOSURE_READ_TIMEOUT_MS", "5000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let peak_kib = measured.then(|| {
        let text = std::fs::read_to_string(rss_file.path()).unwrap();
        text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no RSS in {text:?}"))
    });
    Run { out, peak_kib }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Run {
    fn stderr(&self) -> String {
        text(&self.out.stderr)
    }

    /// Exit 2, a message with `needles`, a hint or a location, no panic, and
    /// a message short enough to read.
    fn refused(&self, needles: &[&str]) -> &Self {
        let err = self.stderr();
        assert_eq!(self.out.status.code(), Some(2), "expected exit 2\nstdout:\n{}\nstderr:\n{err}", text(&self.out.stdout));
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.len() < 4096, "a message of {} bytes:\n{}…", err.len(), &err[..1000]);
        assert!(!err.contains('\u{1b}'), "a raw escape character reached the terminal: {err:?}");
        for n in needles {
            assert!(err.contains(n), "stderr does not mention {n:?}:\n{err}");
        }
        self
    }

    fn succeeded(&self) -> &Self {
        assert_eq!(self.out.status.code(), Some(0), "stderr:\n{}", self.stderr());
        self
    }

    /// Peak RSS below `mib` MiB, when it could be measured.
    fn within(&self, mib: u64) -> &Self {
        if let Some(kib) = self.peak_kib {
            assert!(kib < mib * 1024, "peak RSS {} MiB, bound {mib} MiB", kib / 1024);
        }
        self
    }
}

/// Every file under `dir` with its bytes, temporary files left out: a
/// snapshot to compare before and after a refused run.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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

const SHA: &str = "abababababababababababababababababababababababababababababababab";

fn stanza(name: &str, filename: &str, extra: &str) -> String {
    format!("Package: {name}\nVersion: 1\nArchitecture: amd64\nFilename: {filename}\nSize: 1\nSHA256: {SHA}\n{extra}")
}

fn resolve_file(dir: &Path, index: &str, extra: &[&str]) -> Run {
    let mut args = vec!["resolve", "--arch=amd64", "--format=nix", "-o", "out.nix", "--packages-file", index];
    args.extend(extra);
    args.push("a");
    run(dir, &args, &[])
}

#[test]
fn hostile_filenames_and_names_in_an_index_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("../../../etc/passwd", "'..' component"),
        ("pool/a/../../../../outside.deb", "'..' component"),
        ("/etc/passwd", "absolute"),
        ("pool/a\0.deb", "'\\0'"),
        ("pool/a.deb\n ../../b.deb", "'\\n'"),
        ("pool/a\u{1b}]0;title\u{7}.deb", "'\\u{1b}'"),
        ("pool/a\r.deb", "'\\r'"),
        ("pool\\..\\a.deb", "'\\\\'"),
        ("pool//a.deb", "empty"),
    ];
    for (filename, why) in files {
        std::fs::write(dir.path().join("Packages"), stanza("a", filename, "")).unwrap();
        resolve_file(dir.path(), "Packages", &[]).refused(&["Packages:4: package a: field Filename", why, "hint:"]);
        assert!(!dir.path().join("out.nix").exists(), "{filename:?}: output written");
    }
    for name in ["A", "../a", "a b", "-a", "a_b", "a\u{1b}[2J", "é"] {
        std::fs::write(dir.path().join("Packages"), stanza(name, "pool/a.deb", "")).unwrap();
        resolve_file(dir.path(), "Packages", &[]).refused(&["Packages:1: package", "field Package", "not a valid package name"]);
        assert!(!dir.path().join("out.nix").exists(), "{name:?}: output written");
    }
    // The same index with a safe name resolves: the refusals above are the
    // checks, not a broken fixture.
    std::fs::write(dir.path().join("Packages"), stanza("a", "pool/main/a/a_1_amd64.deb", "")).unwrap();
    resolve_file(dir.path(), "Packages", &[]).succeeded();
    assert!(std::fs::read_to_string(dir.path().join("out.nix")).unwrap().contains("pool/main/a/a_1_amd64.deb"));
}

#[test]
fn huge_fields_and_lines_give_short_messages_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(16 << 20);
    let cases = [
        (stanza(&format!("a{}", huge.to_uppercase()), "pool/a.deb", ""), "field Package"),
        (stanza("a", "pool/a.deb", "").replace("Version: 1", &format!("Version: 1{huge}!")), "field Version"),
        (stanza("a", &format!("/{huge}"), ""), "field Filename"),
        (stanza("a", "pool/a.deb", "").replace("Size: 1", &format!("Size: {huge}")), "field Size"),
        (stanza("a", "pool/a.deb", &format!("Depends: {}\n", huge.to_uppercase())), "field Depends"),
        (stanza("a", "pool/a.deb", &format!("Provides: b | {huge}\n")), "field Provides"),
        (format!("{huge}\n"), "expected `Field: value`"),
        (format!("{huge}: 1\n{huge}: 2\n"), "Packages:1: stanza has no"),
    ];
    for (index, needle) in cases {
        std::fs::write(dir.path().join("Packages"), &index).unwrap();
        // 16 MiB of input: the index text, its parse, the binary.
        resolve_file(dir.path(), "Packages", &[]).refused(&[needle]).within(160);
    }
    // A huge line that breaks no rule is just data.
    let index = stanza("a", "pool/a.deb", &format!("Description: {huge}\n"));
    std::fs::write(dir.path().join("Packages"), index).unwrap();
    resolve_file(dir.path(), "Packages", &[]).succeeded().within(160);
}

#[test]
fn a_stanza_repeated_a_million_times_resolves_in_bounded_memory() {
    // A minute or more in a debug build: opt-in.
    if std::env::var_os("DEBCLOSURE_TEST_HUGE_INDEX").is_none() {
        eprintln!("NOTICE: set DEBCLOSURE_TEST_HUGE_INDEX=1 to resolve from a 1M-stanza index");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let one = stanza("a", "pool/main/a/a_1_amd64.deb", "Depends: b\n") + "\n" + &stanza("b", "pool/main/b/b_1_amd64.deb", "") + "\n";
    std::fs::write(dir.path().join("once"), &one).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join("million")).unwrap());
    for _ in 0..500_000 {
        file.write_all(one.as_bytes()).unwrap();
    }
    file.into_inner().unwrap();
    let size_mib = std::fs::metadata(dir.path().join("million")).unwrap().len() >> 20;
    let many = run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=million", "a"], &[]);
    many.succeeded().within(4 * size_mib + 128);
    let single = run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=once", "a"], &[]);
    assert_eq!(text(&many.out.stdout), text(&single.succeeded().out.stdout), "a million copies change the answer");
}

/// An xz file that expands to 4 GiB: 4096 streams of 1 MiB of zeros.
fn xz_bomb() -> Vec<u8> {
    let stream = repo::xz(&vec![0u8; 1 << 20]);
    (0..4096).flat_map(|_| stream.iter().copied()).collect()
}

#[test]
fn a_packages_bomb_stops_at_the_limit_while_streaming() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Packages.xz"), xz_bomb()).unwrap();
    let limit = (16 << 20).to_string();
    let args = ["resolve", "--arch=amd64", "--packages-file=Packages.xz", "-o", "out", "a"];
    run(dir.path(), &args, &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)])
        .refused(&["Packages.xz: decompressed content exceeds 16777216 bytes"])
        .within(128);
    assert!(!dir.path().join("out").exists());
    run(dir.path(), &args, &[("DEBCLOSURE_MAX_INDEX_SIZE", "lots")]).refused(&["DEBCLOSURE_MAX_INDEX_SIZE=\"lots\""]);

    // Larger than the default limit on disk: refused unread (a sparse file).
    std::fs::File::create(dir.path().join("Packages")).unwrap().set_len(3 << 30).unwrap();
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=Packages", "a"], &[])
        .refused(&["Packages: decompressed content exceeds 2147483648 bytes"])
        .within(64);
    // An endless file is read up to the limit only.
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=/dev/zero", "a"], &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)])
        .refused(&["/dev/zero: decompressed content exceeds 16777216 bytes"])
        .within(96);
}

/// A signed archive served on 127.0.0.1, a keyring for it and a cache.
struct Archive {
    dir: tempfile::TempDir,
    key: Key,
    keyring: PathBuf,
    server: TestServer,
}

impl Archive {
    fn new(debs: Vec<Deb>) -> Archive {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::generate("archive");
        let keyring = key.write_keyring(&dir.path().join("archive.gpg"));
        let mut suite = Suite::new("stable", debs);
        suite.formats = vec!["xz"];
        suite.by_hash = false;
        write_suite(&dir.path().join("www/debian"), &suite, &[&key]);
        let server = TestServer::serve_dir(&dir.path().join("www"));
        std::fs::create_dir_all(dir.path().join("proj")).unwrap();
        Archive { dir, key, keyring, server }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("www/debian")
    }

    fn proj(&self) -> PathBuf {
        self.dir.path().join("proj")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// Replaces the suite's Packages.xz with `data`, listed with its real
    /// size and hash in a Release signed again with the archive key.
    fn replace_index(&self, data: &[u8]) {
        let dists = self.root().join("dists/stable");
        let release = std::fs::read_to_string(dists.join("Release")).unwrap();
        let release: String = release
            .lines()
            .map(|l| {
                if l.ends_with(" main/binary-amd64/Packages.xz") {
                    format!(" {} {} main/binary-amd64/Packages.xz\n", repo::sha256(data), data.len())
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(dists.join("main/binary-amd64/Packages.xz"), data).unwrap();
        std::fs::write(dists.join("Release"), &release).unwrap();
        std::fs::write(dists.join("InRelease"), repo::inrelease(&release, &[&self.key])).unwrap();
    }

    /// Runs a command in the project directory, with the archive's cache
    /// for the commands that use one.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        if !matches!(args[0], "nix" | "why" | "diff") {
            all.push(format!("--cache-dir={}", self.cache().display()));
        }
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run(&self.proj(), &all, env)
    }

    fn resolve(&self, extra: &[&str]) -> Run {
        self.resolve_with(extra, &[])
    }

    fn resolve_with(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let mirror = format!("--mirror={}", self.server.url("/debian"));
        let keyring = format!("--keyring={}", self.keyring.display());
        let mut args = vec!["resolve", "--arch=amd64", "--quiet", "--suite=stable", &mirror, &keyring];
        args.extend(extra);
        self.run(&args, env)
    }

    fn write_spec(&self, extra_source: &str, extra: &str) {
        let spec = format!(
            "architecture = \"amd64\"\npackages = [\"app\"]\nkeyring = [{:?}]\n{extra}\n[[source]]\nsuites = [\"stable\"]\nmirror = {:?}\n{extra_source}\n",
            self.keyring.display().to_string(),
            self.server.url("/debian")
        );
        std::fs::write(self.proj().join("debclosure.toml"), spec).unwrap();
    }
}

fn debs() -> Vec<Deb> {
    vec![Deb::new("app", "1.0-1", "Depends: libfoo (>= 1)"), Deb::new("libfoo", "1.2-1", "")]
}

#[test]
fn a_signed_packages_bomb_over_http_stops_at_the_limit_and_caches_nothing() {
    let a = Archive::new(debs());
    a.replace_index(&xz_bomb());
    let limit = (16 << 20).to_string();
    a.resolve_with(&["app"], &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)])
        .refused(&["exceeds 16777216 bytes", "hint:"])
        .within(128);
    assert!(tree(&a.cache().join("packages-v1")).is_empty(), "an index was cached");
}

#[test]
fn an_oversized_release_is_refused_while_streaming() {
    let a = Archive::new(debs());
    // Anyone between us and an http:// mirror can send this before any
    // signature is checked.
    let junk = "Origin: x\n".repeat(5 << 20);
    std::fs::write(a.root().join("dists/stable/InRelease"), &junk).unwrap();
    // The test server hashes the file for its ETag first: give it time.
    let slow = [("DEBCLOSURE_READ_TIMEOUT_MS", "120000")];
    a.resolve_with(&["app"], &slow).refused(&["dists/stable/InRelease", "exceeds 33554432 bytes"]).within(160);
    a.server.without_length("/debian/dists/stable/InRelease");
    a.resolve_with(&["app"], &slow).refused(&["dists/stable/InRelease", "exceeds 33554432 bytes"]).within(160);
    assert!(tree(&a.cache().join("release-v1")).is_empty(), "something was cached");
}

/// Writes a lock for `a` with `lock` (from its spec) and returns its text.
fn locked(a: &Archive) -> String {
    a.write_spec("", "");
    a.run(&["lock", "-q"], &[]).succeeded();
    std::fs::read_to_string(a.proj().join("debclosure.lock")).unwrap()
}

#[test]
fn an_edited_lock_hash_is_caught_by_check_and_every_download() {
    let a = Archive::new(debs());
    let lock = locked(&a);
    let libfoo = debs().into_iter().find(|d| d.name == "libfoo").unwrap();
    let real = repo::sha256(&libfoo.content);
    let forged = "0".repeat(64);
    let lock_path = a.proj().join("debclosure.lock");
    std::fs::write(&lock_path, lock.replace(&real, &forged)).unwrap();
    let edited = std::fs::read_to_string(&lock_path).unwrap();

    let out = a.run(&["check", "-q", "--offline"], &[]);
    assert_eq!(out.out.status.code(), Some(1), "{}", out.stderr());
    assert!(text(&out.out.stdout).contains("~ libfoo 1.2-1: sha256"), "{}", text(&out.out.stdout));

    let cache_before = tree(&a.cache());
    let mirror = format!("--mirror={}", a.server.url("/debian"));
    let out_dir = a.proj().join("debs");
    a.run(&["fetch-debs", "-q", "--from", "debclosure.lock", "-o", "debs", "--suite=stable", &mirror], &[])
        .refused(&["libfoo", &forged, &real]);
    assert!(!out_dir.exists(), "the output directory was written");
    let cache_after = tree(&a.cache());
    for (path, bytes) in &cache_before {
        assert_eq!(cache_after.get(path), Some(bytes), "{} changed", path.display());
    }
    for (path, bytes) in &cache_after {
        if path.starts_with(a.cache().join("debs-v1")) {
            // Only content verified against the hash it is stored under.
            assert_eq!(path.file_name().unwrap().to_string_lossy(), repo::sha256(bytes));
            assert_ne!(repo::sha256(bytes), real, "the tampered package was cached");
        } else {
            assert_eq!(cache_before.get(path), Some(bytes), "{} changed", path.display());
        }
    }
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), edited, "the lock was touched");

    // An edited content hash of an index: check cannot find it offline, and
    // online the index it downloads does not match.
    let content = lock.split("\"content_sha256\": \"").nth(1).unwrap()[..64].to_owned();
    std::fs::write(&lock_path, lock.replace(&content, &"1".repeat(64))).unwrap();
    a.run(&["check", "-q", "--offline"], &[]).refused(&["pinned index", "not available offline"]);
    a.run(&["check", "-q"], &[]).refused(&["does not match the lock's content_sha256"]);
}

#[test]
fn locks_and_specs_cannot_point_at_files_or_outside() {
    let a = Archive::new(debs());
    let lock = locked(&a);
    let lock_path = a.proj().join("debclosure.lock");
    let outside = a.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mirror = format!("--mirror={}", a.server.url("/debian"));
    let bad_locks = [
        (lock.replace("\"mirror://debian\"", "\"file:///etc\""), "not a mirror://, http:// or https:// URL"),
        (lock.replace("\"mirror://debian\"", "\"http://user:secret@h.invalid/debian\""), "credentials"),
        (lock.replace("pool/main/l/libfoo/", "../outside/"), "'..' component"),
        (lock.replace("pool/main/l/libfoo/", "/tmp/"), "absolute"),
        (lock.replace("\"suites\": [\"stable\"]", "\"suites\": [\"../../x\"]"), "not a suite name"),
    ];
    for (bad, needle) in &bad_locks {
        std::fs::write(&lock_path, bad).unwrap();
        let cache_before = tree(&a.cache());
        for args in [
            &["nix", "-o", "debs.nix"][..],
            &["check", "-q", "--offline"][..],
            &["update", "-q"][..],
            &["why", "libfoo"][..],
        ] {
            a.run(args, &[]).refused(&["debclosure.lock", needle]);
            assert_eq!(&std::fs::read_to_string(&lock_path).unwrap(), bad, "{args:?} touched the lock");
        }
        if needle.contains("component") || needle.contains("absolute") {
            a.run(&["fetch-debs", "-q", "--from", "debclosure.lock", "-o", "debs", "--suite=stable", &mirror], &[])
                .refused(&[needle]);
        }
        assert!(!a.proj().join("debs.nix").exists() && !a.proj().join("debs").exists());
        assert!(tree(&outside).is_empty(), "something was written outside");
        assert_eq!(tree(&a.cache()), cache_before, "the cache changed");
    }

    // Specs: a file: mirror, a file: URL prefix, a file: snapshot base.
    std::fs::write(&lock_path, &lock).unwrap();
    let specs = [
        ("mirror = \"file:///srv/debian\"", "", "[[source]] mirror: \"file:///srv/debian\" is not an http:// or https:// URL"),
        ("", "[url-prefixes]\ndebian = [\"file:///nix/store\"]\n", "[url-prefixes] debian"),
        ("", "snapshot = \"20250520T000000Z\"\nsnapshot-base = \"file:///srv/snapshot\"\n", "snapshot-base"),
    ];
    for (source, top, needle) in specs {
        a.write_spec(source, top);
        if !source.is_empty() {
            // The source's own mirror line comes first in the table; drop it.
            let spec = std::fs::read_to_string(a.proj().join("debclosure.toml")).unwrap();
            let spec = spec.replace(&format!("mirror = {:?}\n", a.server.url("/debian")), "");
            std::fs::write(a.proj().join("debclosure.toml"), spec).unwrap();
        }
        for args in [&["lock", "-q"][..], &["check", "-q", "--offline"][..]] {
            a.run(args, &[]).refused(&["debclosure.toml", needle]);
            assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), lock, "{args:?} touched the lock");
        }
    }
}

#[test]
fn symlinks_planted_in_the_cache_are_not_followed() {
    let a = Archive::new(debs());
    a.resolve(&["app"]).succeeded();
    let outside = a.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    // Replace every cached index and Release body by a link to a copy
    // outside the cache.
    let mut planted = Vec::new();
    for (path, bytes) in tree(&a.cache()) {
        let in_bucket = ["packages-v1", "release-v1"].iter().any(|b| path.starts_with(a.cache().join(b)));
        if in_bucket && !path.to_string_lossy().ends_with(".json") {
            let copy = outside.join(path.file_name().unwrap());
            std::fs::write(&copy, &bytes).unwrap();
            std::fs::remove_file(&path).unwrap();
            std::os::unix::fs::symlink(&copy, &path).unwrap();
            planted.push(path);
        }
    }
    assert!(planted.len() >= 2, "{planted:?}");
    // A fan-out directory of the .deb bucket that links outside.
    let libfoo = debs().into_iter().find(|d| d.name == "libfoo").unwrap();
    let sha = repo::sha256(&libfoo.content);
    std::fs::create_dir_all(a.cache().join("debs-v1")).unwrap();
    let fan = a.cache().join("debs-v1").join(&sha[..2]);
    std::os::unix::fs::symlink(&outside, &fan).unwrap();
    let before_outside = tree(&outside);

    let out = a.resolve(&["app"]);
    out.succeeded();
    assert!(out.stderr().contains("symbolic link"), "{}", out.stderr());
    let mirror = format!("--mirror={}", a.server.url("/debian"));
    let json = a.resolve(&["--format=json", "app"]);
    std::fs::write(a.proj().join("closure.json"), &json.out.stdout).unwrap();
    a.run(&["fetch-debs", "-q", "--from", "closure.json", "-o", "debs", "--suite=stable", &mirror], &[]).succeeded();
    assert_eq!(std::fs::read(a.proj().join("debs/libfoo_1.2-1_amd64.deb")).unwrap(), libfoo.content);

    assert_eq!(tree(&outside), before_outside, "a file outside the cache changed");
    for path in planted {
        let kind = std::fs::symlink_metadata(&path).map(|m| m.file_type().is_symlink());
        assert!(!kind.unwrap_or(false), "{} is still a link", path.display());
    }
    assert!(std::fs::symlink_metadata(&fan).unwrap().is_dir(), "the fan-out link was not replaced");
}

#[test]
fn output_paths_are_replaced_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Packages"), stanza("a", "pool/main/a/a_1_amd64.deb", "")).unwrap();
    let target = dir.path().join("target");
    std::fs::write(&target, "keep").unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join("out.nix")).unwrap();
    resolve_file(dir.path(), "Packages", &[]).succeeded();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep", "written through the link");
    assert!(std::fs::symlink_metadata(dir.path().join("out.nix")).unwrap().is_file());
    // An output in a directory that does not exist: an error, nothing made.
    let args = ["resolve", "--arch=amd64", "--packages-file=Packages", "-o", "no/such/dir/out", "a"];
    run(dir.path(), &args, &[]).refused(&["no/such/dir"]);
    assert!(!dir.path().join("no").exists());
}
