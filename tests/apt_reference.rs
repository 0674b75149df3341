//! debclosure against the reference: for each request of
//! `tests/fixtures/bookworm-amd64/requests.txt`, the closure the binary prints
//! must be the set apt installs from an empty system (computed here, offline,
//! on the same fixture), and dose-distcheck must find every package of it
//! installable from the closure alone and the closure co-installable.
//!
//! `DEBCLOSURE_REAL_INDEX=/path/to/Packages[.xz]` also runs the comparison for
//! the main request on a full index.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use common::apt::{
    self, debclosure_set, dose_available, dose_check, fixture_packages, read_requests, require_apt, set_diff,
    split_stanzas, stanzas_by_key, AptRoot, PackageSet,
};
use common::cli::debclosure;
use common::notice;

#[test]
fn closures_equal_apt_on_the_fixture() {
    require_apt();
    let started = Instant::now();
    let fixture = fixture_packages();
    let apt = AptRoot::new(&fixture);
    let mut failures = String::new();
    for request in read_requests() {
        let label = request.label();
        let apt_set = match apt.install_set(&request.packages) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(failures, "requests.txt:{}: {label}: {e}", request.line);
                continue;
            }
        };
        let ours = match debclosure_set(&[fixture.as_path()], &request.packages) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(failures, "requests.txt:{}: {label}: {e}", request.line);
                continue;
            }
        };
        let diff = set_diff(&apt_set, &ours);
        match (request.known_difference, diff.is_empty()) {
            (false, true) => eprintln!("{label}: {} packages, same as apt", ours.len()),
            (false, false) => {
                let _ = writeln!(
                    failures,
                    "requests.txt:{}: {label}: apt installs {} packages, debclosure gives {}:\n{diff}",
                    request.line,
                    apt_set.len(),
                    ours.len()
                );
            }
            (true, false) => eprintln!("{label}: known difference from apt, still there:\n{diff}"),
            (true, true) => {
                let _ = writeln!(
                    failures,
                    "requests.txt:{}: {label} is marked '!' (known difference) but debclosure now agrees with apt ({} packages): drop the '!'",
                    request.line,
                    ours.len()
                );
            }
        }
    }
    eprintln!("compared with apt in {:.1?}", started.elapsed());
    assert!(failures.is_empty(), "debclosure and apt disagree:\n{failures}");
}

#[test]
fn closures_pass_dose_distcheck() {
    if !dose_available("closures_pass_dose_distcheck") {
        return;
    }
    let started = Instant::now();
    let fixture = fixture_packages();
    let text = std::fs::read_to_string(&fixture).expect("read the fixture");
    let stanzas = stanzas_by_key(&text);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut failures = String::new();
    let mut commands = Vec::new();
    for request in read_requests() {
        let label = request.label();
        let result = debclosure_set(&[fixture.as_path()], &request.packages)
            .and_then(|set| dose_check(tmp.path(), &stanzas, &set).map(|r| (set.len(), r)));
        match result {
            Ok((n, report)) => {
                eprintln!("{label}: {n} packages installable and co-installable");
                commands = report.commands;
            }
            Err(e) => {
                let _ = writeln!(failures, "requests.txt:{}: {label}: {e}", request.line);
            }
        }
    }
    eprintln!("dose-distcheck runs:\n  {}", commands.join("\n  "));
    eprintln!("checked with dose-distcheck in {:.1?}", started.elapsed());
    assert!(failures.is_empty(), "dose-distcheck rejects closures:\n{failures}");
}

/// The dose checks above must be able to fail: a missing dependency, a
/// conflict inside the set, and an `Architecture: all` package in the tuple.
#[test]
fn dose_check_catches_broken_sets() {
    if !dose_available("dose_check_catches_broken_sets") {
        return;
    }
    let stanza = |name: &str, arch: &str, extra: &str| {
        format!(
            "Package: {name}\nVersion: 1.0-1\nArchitecture: {arch}\nFilename: pool/main/x/{name}_1.0-1_{arch}.deb\nSize: 1\n{extra}"
        )
    };
    let stanzas: BTreeMap<(String, String), String> = [
        stanza("app", "amd64", "Depends: lib (>= 1.0), data\n"),
        stanza("lib", "amd64", ""),
        stanza("data", "all", "Depends: lib\n"),
        stanza("rival", "amd64", "Conflicts: lib\n"),
    ]
    .into_iter()
    .map(|s| ((apt::field(&s, "Package").unwrap().to_owned(), "1.0-1".to_owned()), s))
    .collect();
    let set = |names: &[&str]| -> PackageSet { names.iter().map(|n| (n.to_string(), "1.0-1".to_string())).collect() };
    let tmp = tempfile::tempdir().expect("temporary directory");

    dose_check(tmp.path(), &stanzas, &set(&["app", "lib", "data"])).expect("a complete set passes");
    let err = dose_check(tmp.path(), &stanzas, &set(&["app", "data"])).err().expect("a missing dependency is caught");
    assert!(err.contains("broken-packages"), "{err}");
    let err = dose_check(tmp.path(), &stanzas, &set(&["app", "lib", "data", "rival"]))
        .err()
        .expect("a conflict inside the set is caught");
    assert!(err.contains("broken-tuples"), "{err}");
}

/// Opt-in: the main request on a full index, and, when the fixture was cut
/// from that index, the fixture's faithfulness for every request, e.g.
/// `DEBCLOSURE_REAL_INDEX=/path/to/Packages.xz cargo test --test apt_reference real_index`.
#[test]
fn real_index_main_request_equals_apt() {
    let Some(path) = std::env::var_os("DEBCLOSURE_REAL_INDEX").filter(|p| !p.is_empty()) else {
        notice("real_index_main_request_equals_apt skipped: set DEBCLOSURE_REAL_INDEX=/path/to/Packages[.xz] to run it");
        return;
    };
    require_apt();
    let started = Instant::now();
    let index = Path::new(&path);
    let main = read_requests().remove(0);
    let apt = AptRoot::new(index);
    let apt_set = apt.install_set(&main.packages).unwrap_or_else(|e| panic!("{e}"));
    let ours = debclosure_set(&[index], &main.packages).unwrap_or_else(|e| panic!("{e}"));
    let diff = set_diff(&apt_set, &ours);
    assert!(
        diff.is_empty(),
        "on {}: apt installs {} packages, debclosure gives {}:\n{diff}",
        index.display(),
        apt_set.len(),
        ours.len()
    );
    eprintln!("{}: {} packages, same as apt ({:.1?})", main.label(), ours.len(), started.elapsed());
    let text = debclosure::decompress::read_text(index, debclosure::decompress::DEFAULT_LIMIT)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", index.display()));
    if dose_available("real_index_main_request_equals_apt") {
        let stanzas = stanzas_by_key(&text);
        let tmp = tempfile::tempdir().expect("temporary directory");
        dose_check(tmp.path(), &stanzas, &ours).unwrap_or_else(|e| panic!("{e}"));
    }

    // When the fixture was cut from this very index, the fixture must also
    // be faithful for debclosure: the same output, choices included, for
    // every request.
    let real: std::collections::HashSet<String> = split_stanzas(&text).into_iter().collect();
    let fixture = fixture_packages();
    let fixture_text = std::fs::read_to_string(&fixture).expect("read the fixture");
    let foreign = split_stanzas(&fixture_text).into_iter().filter(|s| !real.contains(s)).count();
    if foreign > 0 {
        notice(&format!("{foreign} fixture stanzas are not in {}: another snapshot; not comparing the fixture with it", index.display()));
        return;
    }
    let mut failures = String::new();
    for request in read_requests() {
        let run = |file: &Path| {
            let mut args = vec!["resolve".to_owned(), "--packages-file".to_owned(), file.display().to_string()];
            args.extend(["--arch", apt::ARCH, "--format", "json"].map(str::to_owned));
            args.extend(request.packages.iter().cloned());
            let out = debclosure(&args);
            out.success();
            String::from_utf8(out.output.stdout).expect("UTF-8 output")
        };
        if run(index) != run(&fixture) {
            let _ = writeln!(failures, "requests.txt:{}: {}: output differs between the fixture and {}", request.line, request.label(), index.display());
        }
    }
    assert!(failures.is_empty(), "the fixture is not faithful to the index it was cut from:\n{failures}");
    eprintln!("every request gives the same output on the fixture as on the full index ({:.1?})", started.elapsed());
}
