//! Issue 8: hostile and broken input, end to end. Each test runs the real
//! binary on an input that crosses a trust boundary (an index, a Release
//! file, a lock, a spec, the cache directory, a path on the command line)
//! and checks what a user would see: exit code 2, a short message that says
//! what and where (snapshotted), no panic, bounded memory (peak RSS from
//! `/usr/bin/time`), and nothing written: the lock, the cache and any output
//! as they were.
//! docs/security.md lists the boundaries and which test covers each.

mod common;

use std::io::Write;
use std::path::Path;

use common::cli::{Cli, Reports, Run};
use common::repo::{self, Archive, Deb, Suite};
use common::{text, tree};

/// Fetch settings of every run here: no retries, a timeout for a stuck
/// connection. A test's own settings come after, and win.
const FETCH: [(&str, &str); 3] =
    [("DEBCLOSURE_RETRIES", "0"), ("DEBCLOSURE_CONNECT_TIMEOUT_MS", "2000"), ("DEBCLOSURE_READ_TIMEOUT_MS", "5000")];

/// A run of the binary and its peak resident memory in KiB, when
/// `/usr/bin/time` is there to measure it.
struct Measured {
    run: Run,
    peak_kib: Option<u64>,
}

fn time_available() -> bool {
    let ok = Path::new("/usr/bin/time").is_file();
    if !ok {
        common::missing("/usr/bin/time", "the memory bounds", "apt-get install time");
    }
    ok
}

/// Runs `cli` with `args` (and [`FETCH`] before the test's own settings),
/// measuring its memory.
fn measure(cli: Cli, args: &[&str]) -> Measured {
    let measured = time_available();
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let cli = if measured {
        let options = ["-f", "%M", "-o"].map(std::ffi::OsStr::new);
        cli.via("/usr/bin/time", &[options[0], options[1], options[2], rss_file.path().as_os_str()])
    } else {
        cli
    };
    let run = cli.run(args);
    let peak_kib = measured.then(|| {
        let text = std::fs::read_to_string(rss_file.path()).unwrap();
        text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or_else(|| panic!("no RSS in {text:?}"))
    });
    Measured { run, peak_kib }
}

/// Runs `debclosure ARGS` in `dir` with `env`, measuring its memory.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Measured {
    measure(Cli::new().current_dir(dir).envs(&FETCH).envs(env), args)
}

impl Measured {
    /// Exit 2, a message with `needles`, a hint or a location, no panic, and
    /// a message short enough to read.
    fn refused(&self, needles: &[&str]) -> &Self {
        let err = self.run.stderr();
        assert_eq!(self.run.code(), Some(2), "expected exit 2\nstdout:\n{}\nstderr:\n{err}", self.run.stdout());
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
        self.run.success();
        self
    }

    /// Peak RSS below `mib` MiB, when it could be measured.
    fn within(&self, mib: u64) -> &Self {
        if let Some(kib) = self.peak_kib {
            assert!(kib < mib * 1024, "peak RSS {} MiB, bound {mib} MiB", kib / 1024);
        }
        self
    }

    /// Adds the run's report to `reports`.
    fn report_to(&self, reports: &mut Reports, label: &str) -> &Self {
        reports.add(label, &self.run);
        self
    }
}

const SHA: &str = "abababababababababababababababababababababababababababababababab";

fn stanza(name: &str, filename: &str, extra: &str) -> String {
    format!("Package: {name}\nVersion: 1\nArchitecture: amd64\nFilename: {filename}\nSize: 1\nSHA256: {SHA}\n{extra}")
}

fn resolve_file(dir: &Path, index: &str, extra: &[&str]) -> Measured {
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
    let mut reports = Reports::default();
    for (filename, why) in files {
        std::fs::write(dir.path().join("Packages"), stanza("a", filename, "")).unwrap();
        resolve_file(dir.path(), "Packages", &[])
            .refused(&["Packages:4: package a: field Filename", why, "hint:"])
            .report_to(&mut reports, &format!("Filename: {filename:?}"));
        assert!(!dir.path().join("out.nix").exists(), "{filename:?}: output written");
    }
    for name in ["A", "../a", "a b", "-a", "a_b", "a\u{1b}[2J", "é"] {
        std::fs::write(dir.path().join("Packages"), stanza(name, "pool/a.deb", "")).unwrap();
        resolve_file(dir.path(), "Packages", &[])
            .refused(&["Packages:1: package", "field Package", "not a valid package name"])
            .report_to(&mut reports, &format!("Package: {name:?}"));
        assert!(!dir.path().join("out.nix").exists(), "{name:?}: output written");
    }
    insta::assert_snapshot!(reports.text());
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
    let mut reports = Reports::default();
    for (index, needle) in cases {
        std::fs::write(dir.path().join("Packages"), &index).unwrap();
        // 16 MiB of input: the index text, its parse, the binary.
        resolve_file(dir.path(), "Packages", &[]).refused(&[needle]).within(160).report_to(&mut reports, needle);
    }
    insta::assert_snapshot!(reports.text());
    // A huge line that breaks no rule is just data.
    let index = stanza("a", "pool/a.deb", &format!("Description: {huge}\n"));
    std::fs::write(dir.path().join("Packages"), index).unwrap();
    resolve_file(dir.path(), "Packages", &[]).succeeded().within(160);
}

#[test]
fn a_stanza_repeated_a_million_times_resolves_in_bounded_memory() {
    // A minute or more in a debug build: opt-in.
    if !common::opt_in("DEBCLOSURE_TEST_HUGE_INDEX", "resolve from a 1M-stanza index") {
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
    assert_eq!(text(&many.run.output.stdout), text(&single.succeeded().run.output.stdout), "a million copies change the answer");
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
    let mut reports = Reports::default();
    run(dir.path(), &args, &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)])
        .refused(&["Packages.xz: decompressed content exceeds 16777216 bytes"])
        .within(128)
        .report_to(&mut reports, "Packages.xz, a 16 MiB limit");
    assert!(!dir.path().join("out").exists());
    run(dir.path(), &args, &[("DEBCLOSURE_MAX_INDEX_SIZE", "lots")])
        .refused(&["DEBCLOSURE_MAX_INDEX_SIZE=\"lots\""])
        .report_to(&mut reports, "DEBCLOSURE_MAX_INDEX_SIZE=lots");

    // Larger than the default limit on disk: refused unread (a sparse file).
    std::fs::File::create(dir.path().join("Packages")).unwrap().set_len(3 << 30).unwrap();
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=Packages", "a"], &[])
        .refused(&["Packages: decompressed content exceeds 536870912 bytes"])
        .within(64)
        .report_to(&mut reports, "a sparse 3 GiB Packages");
    // An endless file is read up to the limit only.
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=/dev/zero", "a"], &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)])
        .refused(&["/dev/zero: decompressed content exceeds 16777216 bytes"])
        .within(96)
        .report_to(&mut reports, "/dev/zero, a 16 MiB limit");
    insta::assert_snapshot!(reports.text());
}

/// Issue 15, part 5: a 3 GiB bomb of each compression, and a plain index
/// (a sparse file) and `/dev/zero`, under the default limit (512 MiB), are
/// refused with the process under 1 GB; before, the 2 GiB limit let it
/// reach 2.1 GB first. The bombs are cheap: copies of one small stream
/// (xz, gzip: 3072 of 1 MiB of zeros; bzip2: 48 of 64 MiB).
// https://github.com/debclosure/debclosure/issues/15
#[test]
fn issue_15_a_3_gib_bomb_is_refused_under_the_default_limit_in_under_1_gb() {
    let dir = tempfile::tempdir().unwrap();
    let copies = |member: Vec<u8>, n: usize| -> Vec<u8> { (0..n).flat_map(|_| member.iter().copied()).collect() };
    let mib = vec![0u8; 1 << 20];
    // The gzip decoder (zlib-rs) takes about 100 s for 512 MiB in a debug
    // build, so gzip is checked at 64 MiB: the same bounded read (its peak
    // at the default limit, measured by hand, is that of the others, 527 MiB).
    let bombs = [
        ("Packages.xz", copies(repo::xz(&mib), 3072), None),
        ("Packages.bz2", copies(repo::bz2(&vec![0u8; 64 << 20]), 48), None),
        ("Packages.gz", copies(repo::gz(&mib), 3072), Some(64 << 20)),
    ];
    let mut reports = Reports::default();
    for (name, bomb, limit) in &bombs {
        assert!(bomb.len() < 8 << 20, "{name}: {} bytes", bomb.len());
        std::fs::write(dir.path().join(name), bomb).unwrap();
        let arg = format!("--packages-file={name}");
        let limit_text = limit.map(|l: u64| l.to_string());
        let env: Vec<(&str, &str)> = limit_text.iter().map(|l| ("DEBCLOSURE_MAX_INDEX_SIZE", l.as_str())).collect();
        let shown = limit.unwrap_or(512 << 20);
        run(dir.path(), &["resolve", "--arch=amd64", &arg, "-o", "out", "a"], &env)
            .refused(&[&format!("{name}: decompressed content exceeds {shown} bytes")])
            .within(1024)
            .report_to(&mut reports, &format!("a 3 GiB {name}, limit {shown}"));
        assert!(!dir.path().join("out").exists());
    }
    std::fs::File::create(dir.path().join("Packages")).unwrap().set_len(3 << 30).unwrap();
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=Packages", "a"], &[])
        .refused(&["Packages: decompressed content exceeds 536870912 bytes"])
        .within(64)
        .report_to(&mut reports, "a sparse 3 GiB Packages");
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=/dev/zero", "a"], &[])
        .refused(&["/dev/zero: decompressed content exceeds 536870912 bytes"])
        .within(1024)
        .report_to(&mut reports, "/dev/zero");
    // The limit stays overridable, upwards too.
    run(dir.path(), &["resolve", "--arch=amd64", "--packages-file=Packages.xz", "a"], &[("DEBCLOSURE_MAX_INDEX_SIZE", "600000000")])
        .refused(&["Packages.xz: decompressed content exceeds 600000000 bytes"]);
    insta::assert_snapshot!(reports.text());
}

/// A signed archive served on 127.0.0.1: one suite, `stable`, with only a
/// Packages.xz and no by-hash files.
fn archive(debs: Vec<Deb>) -> Archive {
    let mut suite = Suite::new("stable", debs);
    suite.formats = vec!["xz"];
    suite.by_hash = false;
    Archive::new(&[suite])
}

/// Replaces the suite's Packages.xz with `data`, listed with its real size
/// and hash in a Release signed again with the archive key.
fn replace_index(a: &Archive, data: &[u8]) {
    let dists = a.root().join("dists/stable");
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
    std::fs::write(dists.join("InRelease"), repo::inrelease(&release, &[&a.key])).unwrap();
}

/// Runs a command in the archive's project directory, with its cache for
/// the commands that use one.
fn run_in(a: &Archive, args: &[&str], env: &[(&str, &str)]) -> Measured {
    measure(a.cli().current_dir(a.proj()).envs(&FETCH).envs(env), args)
}

/// `resolve` from the archive.
fn resolve(a: &Archive, extra: &[&str], env: &[(&str, &str)]) -> Measured {
    let mirror = format!("--mirror={}", a.mirror());
    let keyring = format!("--keyring={}", a.keyring.display());
    let mut args = vec!["resolve", "--arch=amd64", "--quiet", "--suite=stable", &mirror, &keyring];
    args.extend(extra);
    run_in(a, &args, env)
}

fn debs() -> Vec<Deb> {
    vec![Deb::new("app", "1.0-1", "Depends: libfoo (>= 1)"), Deb::new("libfoo", "1.2-1", "")]
}

#[test]
fn a_signed_packages_bomb_over_http_stops_at_the_limit_and_caches_nothing() {
    let a = archive(debs());
    replace_index(&a, &xz_bomb());
    let limit = (16 << 20).to_string();
    let out = resolve(&a, &["app"], &[("DEBCLOSURE_MAX_INDEX_SIZE", &limit)]);
    out.refused(&["exceeds 16777216 bytes", "hint:"]).within(128);
    insta::assert_snapshot!(out.run.report());
    assert!(tree(&a.cache().join("packages-v1")).is_empty(), "an index was cached");
}

#[test]
fn an_oversized_release_is_refused_while_streaming() {
    let a = archive(debs());
    // Anyone between us and an http:// mirror can send this before any
    // signature is checked.
    let junk = "Origin: x\n".repeat(5 << 20);
    std::fs::write(a.root().join("dists/stable/InRelease"), &junk).unwrap();
    // The test server hashes the file for its ETag first: give it time.
    let slow = [("DEBCLOSURE_READ_TIMEOUT_MS", "120000")];
    let mut reports = Reports::default();
    resolve(&a, &["app"], &slow)
        .refused(&["dists/stable/InRelease", "exceeds 33554432 bytes"])
        .within(160)
        .report_to(&mut reports, "with Content-Length");
    a.server.without_length("/debian/dists/stable/InRelease");
    resolve(&a, &["app"], &slow)
        .refused(&["dists/stable/InRelease", "exceeds 33554432 bytes"])
        .within(160)
        .report_to(&mut reports, "without Content-Length");
    insta::assert_snapshot!(reports.text());
    assert!(tree(&a.cache().join("release-v1")).is_empty(), "something was cached");
}

/// Writes a lock for `a` with `lock` (from its spec) and returns its text.
fn locked(a: &Archive) -> String {
    a.write_spec(&["app"], "", "");
    run_in(a, &["lock", "-q"], &[]).succeeded();
    std::fs::read_to_string(a.proj().join("debclosure.lock")).unwrap()
}

#[test]
fn an_edited_lock_hash_is_caught_by_check_and_every_download() {
    let a = archive(debs());
    let lock = locked(&a);
    let libfoo = debs().into_iter().find(|d| d.name == "libfoo").unwrap();
    let real = repo::sha256(&libfoo.content);
    let forged = "0".repeat(64);
    let lock_path = a.proj().join("debclosure.lock");
    std::fs::write(&lock_path, lock.replace(&real, &forged)).unwrap();
    let edited = std::fs::read_to_string(&lock_path).unwrap();

    let out = run_in(&a, &["check", "-q", "--offline"], &[]);
    assert_eq!(out.run.code(), Some(1), "{}", out.run.stderr());
    assert!(out.run.stdout().contains("~ libfoo 1.2-1: sha256"), "{}", out.run.stdout());
    let mut reports = Reports::default();

    let cache_before = tree(&a.cache());
    let mirror = format!("--mirror={}", a.mirror());
    let out_dir = a.proj().join("debs");
    run_in(&a, &["fetch-debs", "-q", "--from", "debclosure.lock", "-o", "debs", "--suite=stable", &mirror], &[])
        .refused(&["libfoo", &forged, &real])
        .report_to(&mut reports, "fetch-debs with an edited package hash");
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
    run_in(&a, &["check", "-q", "--offline"], &[])
        .refused(&["pinned index", "not available offline"])
        .report_to(&mut reports, "check --offline with an edited index hash");
    run_in(&a, &["check", "-q"], &[])
        .refused(&["does not match the lock's content_sha256"])
        .report_to(&mut reports, "check with an edited index hash");
    insta::assert_snapshot!(reports.text());
}

#[test]
fn locks_and_specs_cannot_point_at_files_or_outside() {
    let a = archive(debs());
    let lock = locked(&a);
    let lock_path = a.proj().join("debclosure.lock");
    let outside = a.path("outside");
    std::fs::create_dir(&outside).unwrap();
    let mirror = format!("--mirror={}", a.mirror());
    let bad_locks = [
        (lock.replace("\"mirror://debian\"", "\"file:///etc\""), "not a mirror://, http:// or https:// URL"),
        (lock.replace("\"mirror://debian\"", "\"http://user:secret@h.invalid/debian\""), "credentials"),
        (lock.replace("pool/main/l/libfoo/", "../outside/"), "'..' component"),
        (lock.replace("pool/main/l/libfoo/", "/tmp/"), "absolute"),
        (lock.replace("\"suites\": [\"stable\"]", "\"suites\": [\"../../x\"]"), "not a suite name"),
    ];
    let mut reports = Reports::default();
    for (bad, needle) in &bad_locks {
        std::fs::write(&lock_path, bad).unwrap();
        let cache_before = tree(&a.cache());
        for args in [
            &["nix", "-o", "debs.nix"][..],
            &["check", "-q", "--offline"][..],
            &["update", "-q"][..],
            &["why", "libfoo"][..],
        ] {
            run_in(&a, args, &[]).refused(&["debclosure.lock", needle]).report_to(&mut reports, &format!("lock: {needle}; {}", args.join(" ")));
            assert_eq!(&std::fs::read_to_string(&lock_path).unwrap(), bad, "{args:?} touched the lock");
        }
        if needle.contains("component") || needle.contains("absolute") {
            run_in(&a, &["fetch-debs", "-q", "--from", "debclosure.lock", "-o", "debs", "--suite=stable", &mirror], &[])
                .refused(&[needle])
                .report_to(&mut reports, &format!("lock: {needle}; fetch-debs"));
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
        a.write_spec(&["app"], top, source);
        if !source.is_empty() {
            // The source's own mirror line comes first in the table; drop it.
            let spec = std::fs::read_to_string(a.proj().join("debclosure.toml")).unwrap();
            let spec = spec.replace(&format!("mirror = {:?}\n", a.mirror()), "");
            std::fs::write(a.proj().join("debclosure.toml"), spec).unwrap();
        }
        for args in [&["lock", "-q"][..], &["check", "-q", "--offline"][..]] {
            run_in(&a, args, &[]).refused(&["debclosure.toml", needle]).report_to(&mut reports, &format!("spec: {needle}; {}", args.join(" ")));
            assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), lock, "{args:?} touched the lock");
        }
    }
    insta::assert_snapshot!(reports.text());
}

#[test]
fn symlinks_planted_in_the_cache_are_not_followed() {
    let a = archive(debs());
    resolve(&a, &["app"], &[]).succeeded();
    let outside = a.path("outside");
    std::fs::create_dir(&outside).unwrap();
    // Replace every cached index, compact index and Release body by a link
    // to a copy outside the cache.
    let mut planted = Vec::new();
    for (path, bytes) in tree(&a.cache()) {
        let in_bucket = ["packages-v1", "compact-v1", "release-v1"].iter().any(|b| path.starts_with(a.cache().join(b)));
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

    let out = resolve(&a, &["app"], &[]);
    out.succeeded();
    assert!(out.run.stderr().contains("symbolic link"), "{}", out.run.stderr());
    let mirror = format!("--mirror={}", a.mirror());
    let json = resolve(&a, &["--format=json", "app"], &[]);
    std::fs::write(a.proj().join("closure.json"), &json.run.output.stdout).unwrap();
    run_in(&a, &["fetch-debs", "-q", "--from", "closure.json", "-o", "debs", "--suite=stable", &mirror], &[]).succeeded();
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
    let out = run(dir.path(), &args, &[]);
    out.refused(&["no/such/dir"]);
    insta::assert_snapshot!(out.run.report());
    assert!(!dir.path().join("no").exists());
}
