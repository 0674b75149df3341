//! `closureGenerator` (nix/closure-generator.nix) as a drop-in for nixpkgs'
//! `vmTools.debClosureGenerator`, and what it relies on in `resolve`: the
//! architecture read from the lists (never the machine's) and `.bz2` lists.
//!
//! The i386 lists are made here from stanzas of the amd64 fixture
//! (`tests/fixtures/bookworm-amd64/Packages`) with their Architecture and
//! Filename rewritten, so that the test runs on an amd64 machine as nixpkgs'
//! i386 images build on x86_64 builders. The Nix tests use the shared harness
//! (`tests/common/nix.rs`): a temporary store, the stub package set, and the
//! debug binary as the library's `debclosure`. The messages of the refusals
//! are snapshotted.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::cli::{debclosure, Cli, Reports, Run};
use common::nix::Nix;
use common::repo;
use debclosure::nix::store_name;
use serde_json::{json, Value};

/// The request of these tests: an `Architecture: all` package among them.
const REQUEST: [&str; 3] = ["dash", "base-passwd", "sensible-utils"];

fn fixture() -> PathBuf {
    common::apt::fixture_packages()
}

/// The amd64 closure of [`REQUEST`] over the fixture, as `resolve --format json` gives it.
fn amd64_closure() -> Value {
    let fixture = fixture();
    let mut args = vec!["resolve", "--arch", "amd64", "--format", "json", "--packages-file", fixture.to_str().unwrap()];
    args.extend(REQUEST);
    debclosure(&args).json()
}

/// The fixture's stanzas of the packages of `closure`, arch-specific ones
/// rewritten to i386 (first) and `all` ones (second).
fn i386_stanzas(closure: &Value) -> (String, String) {
    let names: Vec<&str> = closure["packages"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    let fixture = fs::read_to_string(fixture()).unwrap();
    let (mut i386, mut all) = (String::new(), String::new());
    for stanza in fixture.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let name = stanza.lines().find_map(|l| l.strip_prefix("Package: ")).expect("a Package field");
        if !names.contains(&name) {
            continue;
        }
        if stanza.contains("\nArchitecture: all\n") {
            all.push_str(stanza);
            all.push_str("\n\n");
            continue;
        }
        assert!(stanza.contains("\nArchitecture: amd64\n"), "{stanza}");
        let rewritten: Vec<String> = stanza
            .lines()
            .map(|l| match l {
                "Architecture: amd64" => "Architecture: i386".to_owned(),
                l if l.starts_with("Filename: ") => l.replace("_amd64.deb", "_i386.deb"),
                l => l.to_owned(),
            })
            .collect();
        i386.push_str(&rewritten.join("\n"));
        i386.push_str("\n\n");
    }
    assert_eq!(i386.matches("Package: ").count() + all.matches("Package: ").count(), names.len());
    assert!(!all.is_empty() && !i386.contains("Architecture: amd64") && !i386.contains("_amd64"), "{i386}");
    (i386, all)
}

/// i386 lists in `dir`: `Packages.bz2` with the arch-specific stanzas and
/// `Packages-all.gz` with the `all` ones (names chosen so that nothing but
/// the content tells the compression).
struct Lists {
    closure: Value,
    bz2: PathBuf,
    all_gz: PathBuf,
}

fn i386_lists(dir: &Path) -> Lists {
    let closure = amd64_closure();
    let (i386, all) = i386_stanzas(&closure);
    let bz2_path = dir.join("Packages.bz2");
    fs::write(&bz2_path, repo::bz2(i386.as_bytes())).unwrap();
    let all_gz = dir.join("Packages-all.gz");
    fs::write(&all_gz, repo::gz(all.as_bytes())).unwrap();
    Lists { closure, bz2: bz2_path, all_gz }
}

/// `resolve` over the i386 lists, without `--arch`.
fn resolve_i386(lists: &Lists, format: &str) -> Run {
    let mut args = vec!["resolve", "--format", format];
    for f in [&lists.bz2, &lists.all_gz] {
        args.extend(["--packages-file", f.to_str().unwrap()]);
    }
    args.extend(["--url-prefix", "mirror://debian", "--"]);
    args.extend(REQUEST);
    debclosure(&args)
}

#[test]
fn an_i386_bz2_list_resolves_for_i386_on_any_machine() {
    let dir = tempfile::tempdir().unwrap();
    let lists = i386_lists(dir.path());
    let got = resolve_i386(&lists, "json").json();
    assert_eq!(got["architecture"], "i386", "{got}");

    // The same closure as for amd64, arch-specific packages now i386.
    let expected: Vec<Value> = lists.closure["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let mut p = p.clone();
            if p["architecture"] == "amd64" {
                p["architecture"] = json!("i386");
                p["filename"] = json!(p["filename"].as_str().unwrap().replace("_amd64.deb", "_i386.deb"));
            }
            p
        })
        .collect();
    assert_eq!(got["packages"], json!(expected));
    let arches: Vec<&str> = expected.iter().map(|p| p["architecture"].as_str().unwrap()).collect();
    assert!(arches.contains(&"i386") && arches.contains(&"all"), "{arches:?}");

    let stats = debclosure(&["stats", "--packages-file", lists.bz2.to_str().unwrap()]);
    stats.success();
    assert!(stats.stdout().contains("packages for i386 from 1 files"), "{}", stats.stdout());

    // --arch still decides when given: nothing of i386 for amd64.
    let out = debclosure(&["resolve", "--arch", "amd64", "--packages-file", lists.bz2.to_str().unwrap(), "dash"]);
    out.fails_with(&["dash"]);
    insta::assert_snapshot!(out.report());
}

#[test]
fn lists_of_several_architectures_or_none_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let lists = i386_lists(dir.path());
    let amd64 = fixture();
    let (bz2, all, amd64) = (lists.bz2.to_str().unwrap(), lists.all_gz.to_str().unwrap(), amd64.to_str().unwrap());

    let mut reports = Reports::default();
    let out = debclosure(&["resolve", "--packages-file", bz2, "--packages-file", amd64, "--packages-file", all, "dash"]);
    out.assert_exit(2);
    assert!(out.output.stdout.is_empty());
    reports.add("i386, amd64 and all lists", &out);
    let stderr = out.stderr();
    // Each architecture with the file (and line) where it was seen; `all` is no architecture here.
    let want = format!(
        "error: cannot tell the target architecture: the index files hold packages of several architectures: amd64 ({amd64}:"
    );
    assert!(stderr.starts_with(&want), "{stderr}");
    assert!(stderr.contains(&format!("), i386 ({bz2}:")), "{stderr}");
    assert!(!stderr.contains(all), "{stderr}");
    assert!(stderr.contains("\nhint: pass --arch ARCH"), "{stderr}");

    let out = debclosure(&["resolve", "--packages-file", all, "sensible-utils"]);
    out.assert_exit(2);
    reports.add("an all list", &out);
    insta::assert_snapshot!(reports.text());
    let stderr = out.stderr();
    assert!(
        stderr.starts_with(&format!("error: cannot tell the target architecture: {all} holds only `Architecture: all` packages\nhint: pass --arch ARCH")),
        "{stderr}"
    );
    // Given the architecture, the same list resolves.
    debclosure(&["resolve", "--arch", "arm64", "--packages-file", all, "sensible-utils"]).success();
}

#[test]
fn a_truncated_or_oversized_bz2_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lists = i386_lists(dir.path());
    let data = fs::read(&lists.bz2).unwrap();
    let truncated = dir.path().join("truncated.bz2");
    fs::write(&truncated, &data[..data.len() * 2 / 3]).unwrap();
    let out_file = dir.path().join("out.nix");
    let args = ["resolve", "--format", "nix", "-o", out_file.to_str().unwrap(), "--packages-file", truncated.to_str().unwrap(), "dash"];
    let mut reports = Reports::default();
    let out = debclosure(&args);
    out.assert_exit(2);
    reports.add("truncated", &out);
    let stderr = out.stderr();
    assert!(stderr.contains(&format!("{}: corrupt or truncated bzip2 data", truncated.display())), "{stderr}");
    assert!(!out_file.exists());

    let size = (fs::read_to_string(fixture()).unwrap().len() / 100).to_string();
    let args = ["resolve", "--format", "nix", "-o", out_file.to_str().unwrap(), "--packages-file", lists.bz2.to_str().unwrap(), "dash"];
    let out = Cli::new().env("DEBCLOSURE_MAX_INDEX_SIZE", &size).run(&args);
    out.assert_exit(2);
    reports.add("oversized", &out);
    insta::assert_snapshot!(reports.text());
    let stderr = out.stderr();
    assert!(stderr.contains(&format!("{}: decompressed content exceeds {size} bytes", lists.bz2.display())), "{stderr}");
    assert!(!out_file.exists());
}

/// Nix, for `test`, with the binary under test as `tool` in a new directory
/// (keep it); `None` when the test is skipped.
fn nix_with_tool(test: &str) -> Option<(Nix, tempfile::TempDir, PathBuf)> {
    let mut nix = Nix::find(test)?;
    let dir = tempfile::tempdir().unwrap();
    let tool = nix.debclosure_in_builds(dir.path());
    Some((nix, dir, tool))
}

/// `closureGenerator` with `args` (Nix attributes; `tool` and `list0`,
/// `list1`... are in scope, the lists as paths), built.
fn build_generator(nix: &Nix, tool: &Path, lists: &[&Path], args: &str) -> Result<Vec<String>, String> {
    let list_args: Vec<(String, &str)> = lists.iter().enumerate().map(|(i, p)| (format!("file{i}"), p.to_str().unwrap())).collect();
    let bindings: String = (0..lists.len()).map(|i| format!("list{i} = path file{i}; ")).collect();
    let expr = format!(
        r#"
      let
        l = import (path repo + "/nix") {{ inherit pkgs; debclosure = tool; }};
      in let {bindings}in l.closureGenerator {{ {args} }}"#
    );
    let mut all: Vec<(&str, &str)> = vec![("tool", tool.to_str().unwrap())];
    all.extend(list_args.iter().map(|(k, v)| (k.as_str(), *v)));
    nix.build(&expr, "args", &all)
}

/// The fetchurl calls a generated file makes, read back through `import`.
fn imported(nix: &Nix, out: &str) -> Value {
    nix.eval("import (path out) { fetchurl = args: args; }", "args", &[("out", nix.real(out).to_str().unwrap())]).unwrap()
}

/// nixpkgs' `makeImageFromDebDist` calls the generator with exactly these
/// arguments; an i386 `.bz2` list builds i386 on this (amd64) machine.
#[test]
fn closure_generator_takes_deb_closure_generator_arguments_and_reads_the_arch_from_the_lists() {
    let Some((nix, dir, tool)) = nix_with_tool("closure_generator_takes_deb_closure_generator_arguments_and_reads_the_arch_from_the_lists") else { return };
    let lists = i386_lists(dir.path());
    let request: String = REQUEST.iter().map(|p| format!("\"{p}\" ")).collect();
    let args = format!(
        r#"name = "debian-12-bookworm-i386"; packagesLists = [ list0 list1 ]; urlPrefix = "mirror://debian"; packages = [ {request}];"#
    );
    let outs = build_generator(&nix, &tool, &[&lists.bz2, &lists.all_gz], &args).unwrap();
    assert_eq!(outs.len(), 1);
    assert!(outs[0].ends_with("-debian-12-bookworm-i386.nix"), "{outs:?}");
    let built = fs::read_to_string(nix.real(&outs[0])).unwrap();

    // Byte for byte what the command writes when run directly, without --arch.
    let direct = resolve_i386(&lists, "nix");
    direct.success();
    assert_eq!(built, direct.stdout());
    assert!(built.contains("# Closure for i386 of: dash base-passwd sensible-utils\n"), "{built}");
    assert!(built.contains("url = \"mirror://debian/pool/main/d/dash/dash_0.5.12-2_i386.deb\";"), "{built}");
    assert!(built.contains("url = \"mirror://debian/pool/main/s/sensible-utils/sensible-utils_0.0.17+nmu1_all.deb\";"), "{built}");
    assert!(!built.contains("amd64"), "{built}");

    // It imports as deb-closure.pl's output did: `{ fetchurl }:` and a list
    // of install groups, each a list of fetchurl calls with url and sha256,
    // in the closure's order.
    let got = imported(&nix, &outs[0]);
    let groups = got.as_array().expect("a list of groups");
    let packages = lists.closure["packages"].as_array().unwrap();
    let group_count = packages.iter().map(|p| p["group"].as_u64().unwrap()).max().unwrap() + 1;
    assert_eq!(groups.len() as u64, group_count, "{got}");
    let mut urls = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for f in group.as_array().expect("a group is a list") {
            let url = f["url"].as_str().expect("url");
            let file = url.rsplit('/').next().unwrap();
            assert!(file.ends_with("_i386.deb") || file.ends_with("_all.deb"), "{url}");
            assert_eq!(f["sha256"].as_str().map(str::len), Some(64), "{f}");
            assert_eq!(f["name"].as_str(), Some(store_name(file).as_str()), "{f}");
            urls.push((g as u64, url.to_owned()));
        }
    }
    let expected: Vec<(u64, String)> = packages
        .iter()
        .map(|p| {
            let file = p["filename"].as_str().unwrap().replace("_amd64.deb", "_i386.deb");
            (p["group"].as_u64().unwrap(), format!("mirror://debian/{file}"))
        })
        .collect();
    assert_eq!(urls, expected);

    // A single list (not in a list) is taken too, as nixpkgs' `toString` did.
    let single = r#"name = "only-dash"; packagesLists = list0; urlPrefix = "mirror://debian"; packages = [ "dash" ];"#;
    let outs = build_generator(&nix, &tool, &[&lists.bz2], single).unwrap();
    let built = fs::read_to_string(nix.real(&outs[0])).unwrap();
    assert!(built.contains("dash_0.5.12-2_i386.deb"), "{built}");
}

/// Lists that disagree fail the build with the files named; `arch` decides.
#[test]
fn closure_generator_refuses_lists_of_several_architectures_unless_given_arch() {
    let Some((nix, dir, tool)) = nix_with_tool("closure_generator_refuses_lists_of_several_architectures_unless_given_arch") else { return };
    let lists = i386_lists(dir.path());
    let amd64 = fixture();
    let base = r#"name = "mixed"; packagesLists = [ list0 list1 ]; urlPrefix = "mirror://debian"; packages = [ "dash" ];"#;
    let err = build_generator(&nix, &tool, &[&lists.bz2, &amd64], base).unwrap_err();
    assert!(err.contains("cannot tell the target architecture: the index files hold packages of several architectures: amd64 ("), "{err}");
    assert!(err.contains("-Packages.bz2:"), "{err}");
    assert!(err.contains("hint: pass --arch ARCH") && err.contains("closureGenerator: `arch"), "{err}");

    for (arch, file) in [("i386", "dash_0.5.12-2_i386.deb"), ("amd64", "dash_0.5.12-2_amd64.deb")] {
        let args = format!("{base} arch = \"{arch}\";");
        let outs = build_generator(&nix, &tool, &[&lists.bz2, &amd64], &args).unwrap();
        let built = fs::read_to_string(nix.real(&outs[0])).unwrap();
        assert!(built.contains(&format!("# Closure for {arch} of: dash\n")), "{built}");
        assert!(built.contains(file), "{built}");
    }
}

#[test]
fn closure_generator_runs_resolve() {
    let Some((nix, _dir, tool)) = nix_with_tool("closure_generator_runs_resolve") else { return };
    let packages = fixture();
    let args = r#"
        name = "bookworm-small";
        packagesLists = [ list0 ];
        urlPrefixes = [ "mirror://debian" "http://127.0.0.1:9/unused" ];
        packages = [ "dash" "base-passwd" ];
        arch = "amd64";"#;
    let outs = build_generator(&nix, &tool, &[&packages], args).unwrap();
    assert_eq!(outs.len(), 1);
    assert!(outs[0].ends_with("-bookworm-small.nix"), "{outs:?}");
    let built = fs::read_to_string(nix.real(&outs[0])).unwrap();

    // Byte for byte what the command writes when run directly.
    let direct = debclosure(&[
        "resolve",
        "--packages-file",
        packages.to_str().unwrap(),
        "--arch",
        "amd64",
        "--url-prefix",
        "mirror://debian",
        "--format",
        "nix",
        "--",
        "dash",
        "base-passwd",
    ]);
    direct.success();
    assert_eq!(built, direct.stdout());
    assert!(built.contains("url = \"mirror://debian/pool/main/d/dash/dash_0.5.12-2_amd64.deb\";"), "{built}");

    // And it imports as deb-closure.pl's output did.
    let got = nix
        .eval(
            "map (map (f: f.name)) (import (path out) { fetchurl = args: args; })",
            "args",
            &[("out", nix.real(&outs[0]).to_str().unwrap())],
        )
        .unwrap();
    let groups = got.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{got}");
    assert!(groups[1].as_array().unwrap().contains(&json!("dash_0.5.12-2_amd64.deb")), "{got}");

    // Without a prefix it says what to give.
    let err = nix
        .eval(r#"lib.closureGenerator { name = "x"; packagesLists = [ ]; packages = [ "a" ]; }"#, "args", &[])
        .unwrap_err();
    assert!(err.contains("give urlPrefix"), "{err}");
}
