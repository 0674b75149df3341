//! The Nix side: `flake.nix` and the `nix/` library, evaluated and built by
//! the Nix on this machine against a stub package set
//! (`tests/fixtures/nix/stub-pkgs.nix`; nixpkgs is not available offline).
//!
//! Every Nix command gets its own temporary store (`--store DIR`), no
//! substituters, and the host's `/bin`, `/usr` and `/lib` as sandbox paths
//! (the stub's derivations are `/bin/sh` scripts), so the tests neither need
//! nor touch `/nix/store`. Downloads come from a server on 127.0.0.1.
//!
//! The flake tests use the checkout itself; in a git checkout a flake sees
//! only tracked files, so commit new files (or `git add` them) first.
//!
//! Without `nix-instantiate` the tests print a notice and pass, unless `CI` is
//! set, in which case they fail.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::nix::{current_system, fixture, tool_dir, Nix};
use common::repo::sha256;
use common::server::TestServer;
use common::{repo_root, sample, text};
use debclosure::lock::LockFile;
use debclosure::nix::{join_url, render_fetchurl_groups, store_name, UrlStyle};
use serde_json::{json, Value};

/// One package of a test lock.
struct Deb {
    name: String,
    archive: Option<String>,
    filename: String,
    sha256: String,
    group: u32,
}

impl Deb {
    fn new(name: &str, archive: Option<&str>, filename: &str, sha256: &str, group: u32) -> Deb {
        Deb {
            name: name.into(),
            archive: archive.map(Into::into),
            filename: filename.into(),
            sha256: sha256.into(),
            group,
        }
    }
}

/// A valid lock (checked by [`LockFile::validate`]) in canonical form.
fn lock_text(distribution: &str, url_prefixes: Value, debs: &[Deb], indices: Value) -> String {
    let packages: Vec<Value> = debs
        .iter()
        .map(|d| {
            let mut p = json!({
                "name": d.name, "version": "1.0-1", "architecture": "amd64",
                "filename": d.filename, "sha256": d.sha256, "size": 1, "group": d.group,
                "why": {"kind": "requested"},
            });
            if let Some(a) = &d.archive {
                p["archive"] = json!(a);
            }
            p
        })
        .collect();
    let value = json!({
        "version": 1,
        "request": {
            "distribution": distribution, "architecture": "amd64",
            "sources": [{"archive": distribution, "suites": ["stable"], "components": ["main"]}],
            "packages": debs.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
            "preferences": {"awk": "mawk"}, "exclude": [], "recommends": false, "strict": false,
            "base": "none", "url_prefixes": url_prefixes,
        },
        // Replaced by the digest below; deserializing needs a well-formed one.
        "request_sha256": "0".repeat(64),
        "releases": [], "indices": indices, "packages": packages, "choices": [], "assumed": [],
    });
    let mut lock: LockFile = serde_json::from_value(value).expect("lock shape");
    lock.request_sha256 = lock.request.digest();
    let text = lock.render();
    // A hand-written lock may hold values debclosure itself refuses (such as
    // a prefix with `${` in it); the Nix library must still carry them as
    // data. A lock debclosure accepts must read back unchanged.
    if lock.validate().is_ok() {
        assert_eq!(LockFile::parse(&text).expect("the lock reads back"), lock);
    }
    text
}

/// What `debsFromLock` must give for a lock, computed on the Rust side:
/// per group, `{ name, sha256, urls }` of each package in lock order.
fn expected_fetches(lock: &LockFile) -> Value {
    let distribution = lock.request.distribution;
    let mut groups: Vec<Vec<Value>> = Vec::new();
    for p in &lock.packages {
        let archive = p.archive.as_deref().unwrap_or(distribution.main_archive());
        let prefixes = lock.request.url_prefixes.get(archive).cloned().unwrap_or_else(|| {
            assert_eq!(archive, distribution.main_archive(), "test lock without prefixes for {archive}");
            vec![distribution.mirror_scheme().to_owned()]
        });
        let urls: Vec<String> = prefixes.iter().map(|prefix| join_url(prefix, &p.filename)).collect();
        if groups.len() <= p.group as usize {
            groups.push(Vec::new());
        }
        groups[p.group as usize].push(json!({"name": store_name(&p.filename), "sha256": p.sha256, "urls": urls}));
    }
    json!(groups)
}

/// Drops the stub's marker so results compare with [`expected_fetches`].
fn without_stub_marker(mut value: Value) -> Value {
    for group in value.as_array_mut().expect("a list of groups") {
        for fetch in group.as_array_mut().expect("a group is a list") {
            assert_eq!(fetch["stub"], "fetchurl", "each element is a fetchurl call: {fetch}");
            fetch.as_object_mut().unwrap().remove("stub");
        }
    }
    value
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path.to_str().unwrap().to_owned()
}

fn hex(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn list_nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                list_nix_files(&path, out);
            }
        } else if name.ends_with(".nix") {
            out.push(path);
        }
    }
}

#[test]
fn every_nix_file_parses() {
    let Some(nix) = Nix::find("every_nix_file_parses") else { return };
    let mut files = Vec::new();
    list_nix_files(&repo_root(), &mut files);
    files.sort();
    for required in ["flake.nix", "nix/default.nix", "examples/flake/flake.nix"] {
        assert!(files.contains(&repo_root().join(required)), "{required} is missing: {files:?}");
    }
    for file in &files {
        let out = nix.command("nix-instantiate").arg("--parse").arg(file).output().unwrap();
        assert!(out.status.success(), "{} does not parse:\n{}", file.display(), text(&out.stderr));
    }
}

#[test]
fn flake_lock_pins_nixpkgs() {
    let lock: Value = serde_json::from_slice(&fs::read(repo_root().join("flake.lock")).unwrap()).unwrap();
    assert_eq!(lock["version"], 7);
    assert_eq!(lock["root"], "root");
    assert_eq!(lock["nodes"]["root"]["inputs"], json!({"nixpkgs": "nixpkgs"}));
    let node = &lock["nodes"]["nixpkgs"];
    assert_eq!(
        node["locked"],
        json!({
            "lastModified": 1779796641_u64,
            "narHash": "sha256-ZsIrKmhp4vbBXoXXmR/tBXA/UCsAQiJL9vsgZEduhVY=",
            "owner": "NixOS", "repo": "nixpkgs",
            "rev": "25f538306313eae3927264466c70d7001dcea1df", "type": "github",
        })
    );
    assert_eq!(node["original"], json!({"owner": "NixOS", "ref": "nixos-25.11", "repo": "nixpkgs", "type": "github"}));
}

#[test]
fn store_names_agree_with_rust() {
    let Some(nix) = Nix::find("store_names_agree_with_rust") else { return };
    let names = [
        "pool/main/u/usr-is-merged/usr-is-merged_37~deb12u1_all.deb".to_owned(),
        "pool/main/x/x/.hidden%3a1.deb".to_owned(),
        "pool/main/n/non-ascii/é~ü_1_all.deb".to_owned(),
        "pool/main/q/q/a\"${b}'c`d$(e)_1_all.deb".to_owned(),
        "pool/main/s/space/with space;1.deb".to_owned(),
        "plain.deb".to_owned(),
        format!("pool/main/l/long/{}_1_amd64.deb", "l".repeat(300)),
        format!("pool/main/l/long/{}ü~.deb", "l".repeat(209)),
        // Cut to 211 characters, the kept end starts with `.`.
        format!("pool/main/d/dot/{}.{}", "x".repeat(40), "y".repeat(210)),
    ];
    let list = serde_json::to_string(&names).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "names.json", &list);
    let got = nix
        .eval("map lib.storeName (builtins.fromJSON (builtins.readFile (path names)))", "args", &[("names", &file)])
        .unwrap();
    let want: Vec<String> = names.iter().map(|n| store_name(n)).collect();
    assert_eq!(got, json!(want));
}

#[test]
fn debs_from_lock_follows_the_lock() {
    let Some(nix) = Nix::find("debs_from_lock_follows_the_lock") else { return };
    let dir = tempfile::tempdir().unwrap();
    // Three groups, two archives, a package without an archive (the main
    // archive), a prefix with a trailing slash, names Nix refuses as they are.
    let debs = [
        Deb::new("a", Some("debian"), "pool/main/a/a/a_1.0-1_amd64.deb", &hex(1), 0),
        Deb::new("b", None, "pool/main/b/b/b_1.0~rc1-1_amd64.deb", &hex(2), 0),
        Deb::new("c", Some("debian-security"), "pool/updates/main/c/c/c_1.0-1+deb12u1_amd64.deb", &hex(3), 1),
        Deb::new("d", Some("debian"), "pool/main/d/d/d_1%3a1.0-1_all.deb", &hex(4), 2),
        Deb::new("e", Some("debian"), "pool/main/e/e/e_1.0-1_all.deb", &hex(5), 2),
    ];
    let prefixes = json!({
        "debian": ["mirror://debian", "http://127.0.0.1:9/debian/"],
        "debian-security": ["http://127.0.0.1:9/debian-security"],
    });
    let lock = lock_text("debian", prefixes, &debs, json!([]));
    let file = write(dir.path(), "debclosure.lock", &lock);
    let want = expected_fetches(&LockFile::parse(&lock).unwrap());

    let got = nix.eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", &file)]).unwrap();
    assert_eq!(without_stub_marker(got), want);
    assert_eq!(want.as_array().unwrap().len(), 3);

    // The same from the parsed lock, and from a string naming the file.
    let got = nix
        .eval(
            "lib.debsFromLock { lock = builtins.fromJSON (builtins.readFile (path lock)); }",
            "args",
            &[("lock", &file)],
        )
        .unwrap();
    assert_eq!(without_stub_marker(got), want);
    let got = nix.eval("lib.debsFromLock { inherit lock; }", "args", &[("lock", &file)]).unwrap();
    assert_eq!(without_stub_marker(got), want);

    // The fixture lock (one archive, no index for it here) too.
    let fixture_lock = fixture("bookworm.lock");
    let want = expected_fetches(&LockFile::parse(&fs::read_to_string(&fixture_lock).unwrap()).unwrap());
    let got = nix
        .eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", fixture_lock.to_str().unwrap())])
        .unwrap();
    assert_eq!(without_stub_marker(got), want);

    // Ubuntu's main archive defaults to mirror://ubuntu.
    let debs = [Deb::new("u", None, "pool/main/u/u/u_1.0-1_amd64.deb", &hex(6), 0)];
    let lock = lock_text("ubuntu", json!({}), &debs, json!([]));
    let file = write(dir.path(), "ubuntu.lock", &lock);
    let got = nix.eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", &file)]).unwrap();
    assert_eq!(
        without_stub_marker(got),
        json!([[{"name": "u_1.0-1_amd64.deb", "sha256": hex(6), "urls": ["mirror://ubuntu/pool/main/u/u/u_1.0-1_amd64.deb"]}]])
    );
}

#[test]
fn lock_strings_are_data() {
    let Some(nix) = Nix::find("lock_strings_are_data") else { return };
    let dir = tempfile::tempdir().unwrap();
    // Were any of this spliced into Nix code, evaluation would abort, or the
    // strings would change.
    let filename = r#"pool/main/q/q"${builtins.abort "interpolated"}/q"${x}${y}~$(touch z)'_1_all.deb"#;
    let prefix = r#"http://127.0.0.1:9/${builtins.abort "interpolated"}"#;
    let debs = [Deb::new("q", Some("debian"), filename, &hex(7), 0)];
    let index = json!([{
        "archive": "debian", "suite": "stable", "component": "main",
        "path": r#"dists/stable/${builtins.abort "x"}"/binary-amd64/Packages.xz"#,
        "sha256": hex(8), "size": 1, "content_sha256": hex(9), "automatic": true,
    }]);
    let lock = lock_text("debian", json!({"debian": [prefix]}), &debs, index);
    let file = write(dir.path(), "debclosure.lock", &lock);

    let got = nix.eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", &file)]).unwrap();
    let url = format!("{prefix}/{filename}");
    assert_eq!(without_stub_marker(got), json!([[{"name": store_name(filename), "sha256": hex(7), "urls": [url]}]]));
    assert_eq!(store_name(filename), "q___x___y____touch_z___1_all.deb");

    let got = nix.eval("(lib.checkLock { lock = path lock; }).indexFiles", "args", &[("lock", &file)]).unwrap();
    let dir_of = r#"dists/stable/${builtins.abort "x"}"/binary-amd64"#;
    assert_eq!(
        got[0]["urls"],
        json!([format!("{prefix}/{dir_of}/by-hash/SHA256/{}", hex(8)), format!("{prefix}/{dir_of}/Packages.xz"),])
    );
}

#[test]
fn bad_locks_are_refused_with_a_reason() {
    let Some(nix) = Nix::find("bad_locks_are_refused_with_a_reason") else { return };
    let dir = tempfile::tempdir().unwrap();
    let good = lock_text(
        "debian",
        json!({"debian": ["mirror://debian"]}),
        &[Deb::new("a", Some("debian"), "pool/main/a/a/a_1_all.deb", &hex(1), 0)],
        json!([]),
    );
    let good: Value = serde_json::from_str(&good).unwrap();
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "newer",
            Box::new(|v| v["version"] = json!(4)),
            "lock format version 4 is newer than this nix/ library reads (3)",
        ),
        ("zero", Box::new(|v| v["version"] = json!(0)), "unsupported lock format version 0"),
        (
            "none",
            Box::new(|v| drop(v.as_object_mut().unwrap().remove("version"))),
            "unsupported lock format version null",
        ),
        (
            "hash",
            Box::new(|v| v["packages"][0]["sha256"] = json!("ABC")),
            "sha256 \"ABC\" is not 64 lower-case hex digits",
        ),
        (
            "dotdot",
            Box::new(|v| v["packages"][0]["filename"] = json!("pool/../etc/x.deb")),
            "has an empty, '.' or '..' component",
        ),
        ("absolute", Box::new(|v| v["packages"][0]["filename"] = json!("/etc/x.deb")), "is absolute"),
        ("group", Box::new(|v| v["packages"][0]["group"] = json!(1)), "the first package is not in group 0"),
        (
            "archive",
            Box::new(|v| v["packages"][0]["archive"] = json!("elsewhere")),
            "no URL prefix for archive \"elsewhere\"",
        ),
        (
            "distribution",
            Box::new(|v| v["request"]["distribution"] = json!("gentoo")),
            "request.distribution is \"gentoo\"",
        ),
    ];
    for (name, edit, message) in cases {
        let mut lock = good.clone();
        edit(&mut lock);
        let file = write(dir.path(), &format!("{name}.lock"), &lock.to_string());
        let err = nix
            .eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", &file)])
            .expect_err(&format!("{name}: the lock is refused"));
        assert!(err.contains(message), "{name}: expected {message:?} in:\n{err}");
        if name != "archive" {
            assert!(err.contains(&format!("debclosure lock {file}:")), "{name}: the message names the lock:\n{err}");
        }
    }
    // Groups with a gap.
    let mut lock = good.clone();
    let mut second = lock["packages"][0].clone();
    second["name"] = json!("b");
    second["group"] = json!(2);
    lock["packages"].as_array_mut().unwrap().push(second);
    let file = write(dir.path(), "gap.lock", &lock.to_string());
    let err = nix.eval("lib.debsFromLock { lock = path lock; }", "args", &[("lock", &file)]).unwrap_err();
    assert!(err.contains("group 2 follows group 0"), "{err}");
}

#[test]
fn debs_from_lock_downloads_and_verifies() {
    let Some(nix) = Nix::find("debs_from_lock_downloads_and_verifies") else { return };
    let server = TestServer::start();
    // Fresh bytes on every run, so nothing can come from an earlier run.
    let nonce: u8 =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 251) as u8;
    let files = [
        ("pool/main/a/a/a_1.0-1_amd64.deb", 0, 3000),
        ("pool/main/b/b/b_2.0~rc1-1_all.deb", 0, 5000),
        ("pool/main/c/c/c_1:3.0-1_amd64.deb", 1, 7000),
    ];
    let mut debs = Vec::new();
    let mut bodies = Vec::new();
    for (i, (filename, group, len)) in files.iter().enumerate() {
        let body = sample(*len, nonce.wrapping_add(i as u8 * 40));
        server.put(&format!("/debian/{filename}"), &body);
        let name = ["a", "b", "c"][i];
        debs.push(Deb::new(name, Some("debian"), filename, &sha256(&body), *group));
        bodies.push(body);
    }
    let prefixes = json!({"debian": [server.url("/debian")]});
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "debclosure.lock", &lock_text("debian", prefixes.clone(), &debs, json!([])));

    let outs = nix
        .build("builtins.concatLists (lib.debsFromLock { lock = path lock; })", "builtin", &[("lock", &file)])
        .unwrap();
    assert_eq!(outs.len(), 3, "{outs:?}");
    for (i, out) in outs.iter().enumerate() {
        assert!(out.ends_with(&format!("-{}", store_name(files[i].0))), "{out}");
        assert_eq!(fs::read(nix.real(out)).unwrap(), bodies[i], "{out} holds what the server sent");
    }
    for (filename, _, _) in &files {
        assert_eq!(server.count(&format!("/debian/{filename}")), 1, "{filename} fetched once");
    }

    // One wrong hash: the build fails and names the mismatch.
    debs[1].sha256 = sha256(b"something else");
    let file = write(dir.path(), "wrong.lock", &lock_text("debian", prefixes, &debs, json!([])));
    let err = nix
        .build("builtins.concatLists (lib.debsFromLock { lock = path lock; })", "builtin", &[("lock", &file)])
        .unwrap_err();
    assert!(err.contains("hash mismatch"), "{err}");
    assert!(err.contains(&store_name(files[1].0)), "{err}");
}

#[test]
fn disk_image_from_lock_passes_arguments_through() {
    let Some(nix) = Nix::find("disk_image_from_lock_passes_arguments_through") else { return };
    let lock = fixture("bookworm.lock");
    let lock = lock.to_str().unwrap();
    // With the nixpkgs doubles: the derivation runInLinuxVM makes, its
    // attributes as the builder sees them.
    let got = nix
        .eval(
            r#"let
                 image = lib.diskImageFromLock {
                   lock = path lock; name = "img"; fullName = "Image"; size = 8192;
                   memSize = 1024; QEMU_OPTS = "-smp 2"; postInstall = "echo done"; extra = "kept";
                 };
                 # As `derivation` passes a nested list: flattened.
                 flatten = x: if builtins.isList x then builtins.concatMap flatten x else [ x ];
                 names = xs: map (d: if builtins.isString d then d else d.name) (flatten xs);
                 lenient = lib.diskImageFromLock { lock = path lock; name = "l"; fullName = "L"; installer = "vmtools"; };
               in {
                 inherit (image.drvAttrs) name memSize QEMU_OPTS postInstall extra requiredSystemFeatures;
                 inherit (image) fullName;
                 debs = names image.drvAttrs.debs;
                 groups = map names (lib.debsFromLock { lock = path lock; });
                 preVM = image.drvAttrs.preVM;
                 buildCommand = image.drvAttrs.origArgs != [ ] && builtins.isString image.drvAttrs.buildCommand;
                 usesRootfs = builtins.match ".*debclosure rootfs --in-place.*" image.drvAttrs.buildCommand != null;
                 lenientDebs = names lenient.drvAttrs.debs;
                 lenientName = lenient.drvAttrs.name;
               }"#,
            "drv",
            &[("lock", lock)],
        )
        .unwrap();
    assert_eq!(got["name"], "img");
    assert_eq!(got["fullName"], "Image");
    assert_eq!(got["memSize"], 1024);
    assert_eq!(got["QEMU_OPTS"], "-smp 2 -m 1024", "runInLinuxVM adds the memory size");
    assert_eq!(got["postInstall"], "echo done");
    assert_eq!(got["extra"], "kept", "other arguments reach the derivation");
    assert_eq!(got["requiredSystemFeatures"], json!(["kvm"]));
    assert!(got["preVM"].as_str().unwrap().contains("echo 8192 >"), "the size reaches createEmptyImage: {}", got["preVM"]);
    assert!(got["preVM"].as_str().unwrap().contains("Image"), "{}", got["preVM"]);
    assert_eq!(got["buildCommand"], true);
    assert_eq!(got["usesRootfs"], true);
    let groups: Vec<Vec<Value>> = serde_json::from_value(got["groups"].clone()).unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(got["debs"], json!(groups.concat()), "every .deb, for --debs-from");
    // The lenient path: nixpkgs' `|`-separated groups survive its `// args`.
    let mut interspersed = groups[0].clone();
    interspersed.push(json!("|"));
    interspersed.extend(groups[1].clone());
    assert_eq!(got["lenientDebs"], json!(interspersed));
    assert_eq!(got["lenientName"], "l");

    for (body, message) in [
        (r#"lib.diskImageFromLock { lock = path lock; name = "i"; fullName = "I"; debs = [ ]; }"#, "give `lock`, not `debs`"),
        (r#"lib.diskImageFromLock { lock = path lock; name = "i"; fullName = "I"; installer = "dpkg"; }"#, "installer must be"),
        (r#"lib.diskImageFromLock { lock = path lock; name = "i"; }"#, "fullName"),
    ] {
        let err = nix.eval(body, "drv", &[("lock", lock)]).unwrap_err();
        assert!(err.contains(message), "{body}: {err}");
    }
}

/// A stand-in for `debclosure check` that checks its arguments and the index
/// directory, then exits with `exit`.
fn fake_check(lock_sha256: &str, spec_sha256: &str, index_hashes: &[String], exit: u8) -> String {
    let mut entries = index_hashes.to_vec();
    entries.sort();
    let entries = entries.join(" ");
    format!(
        r#"#!/bin/sh
fail() {{ echo "fake debclosure: $*" >&2; exit 3; }}
[ "$1" = check ] || fail "expected check, got $1"
shift
offline= lock= spec= dir=
while [ $# -gt 0 ]; do
  case $1 in
    --offline) offline=1 ;;
    --lock) lock=$2; shift ;;
    --spec) spec=$2; shift ;;
    --index-dir) dir=$2; shift ;;
    *) fail "unexpected argument $1" ;;
  esac
  shift
done
[ -n "$offline" ] || fail "no --offline"
[ "$(sha256sum < "$lock" | cut -d' ' -f1)" = {lock_sha256} ] || fail "--lock $lock is not the lock"
[ "$(sha256sum < "$spec" | cut -d' ' -f1)" = {spec_sha256} ] || fail "--spec $spec is not the spec"
[ "$(ls "$dir" | sort | tr '\n' ' ')" = "{entries} " ] || fail "the index dir holds $(ls "$dir")"
for h in $(ls "$dir"); do
  [ "$(sha256sum < "$dir/$h" | cut -d' ' -f1)" = "$h" ] || fail "$dir/$h has another hash"
done
echo "fake debclosure: all good, exiting with {exit}" >&2
exit {exit}
"#
    )
}

#[test]
fn check_lock_fetches_pinned_indices_and_runs_check() {
    let Some(mut nix) = Nix::find("check_lock_fetches_pinned_indices_and_runs_check") else { return };
    let server = TestServer::start();
    let nonce = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() % 251) as u8;
    let mut indices = Vec::new();
    let mut hashes = Vec::new();
    for (i, (archive, suite)) in [("debian", "bookworm"), ("debian-security", "bookworm-security")].iter().enumerate() {
        let body = sample(2000 + i * 100, nonce.wrapping_add(i as u8));
        let h = sha256(&body);
        let path = format!("dists/{suite}/main/binary-amd64/Packages.xz");
        // Only the by-hash URL is served: it is the one tried first.
        server.put(&format!("/{archive}/dists/{suite}/main/binary-amd64/by-hash/SHA256/{h}"), &body);
        indices.push(json!({
            "archive": archive, "suite": suite, "component": "main", "path": path,
            "sha256": h, "size": body.len(), "content_sha256": hex(9), "automatic": true,
        }));
        hashes.push(h);
    }
    let prefixes = json!({
        "debian": [server.url("/debian"), "mirror://debian"],
        "debian-security": [server.url("/debian-security")],
    });
    let debs = [Deb::new("a", Some("debian"), "pool/main/a/a/a_1_all.deb", &hex(1), 0)];
    let dir = tempfile::tempdir().unwrap();
    let lock = lock_text("debian", prefixes, &debs, json!(indices));
    let lock_file = write(dir.path(), "debclosure.lock", &lock);
    let spec_file = write(dir.path(), "debclosure.toml", "distribution = \"debian\"\n");

    // What it fetches, from where.
    let got = nix
        .eval(
            "let c = lib.checkLock { lock = path lock; spec = path spec; }; in { inherit (c) indexFiles indexHashes; }",
            "args",
            &[("lock", &lock_file), ("spec", &spec_file)],
        )
        .unwrap();
    assert_eq!(got["indexHashes"], json!(hashes));
    let by_hash = |archive: &str, suite: &str, h: &str| {
        format!("{}/dists/{suite}/main/binary-amd64/by-hash/SHA256/{h}", server.url(&format!("/{archive}")))
    };
    assert_eq!(
        got["indexFiles"][0],
        json!({
            "name": "debian_dists_bookworm_main_binary-amd64_Packages.xz",
            "sha256": hashes[0],
            "stub": "fetchurl",
            "urls": [
                by_hash("debian", "bookworm", &hashes[0]),
                server.url("/debian/dists/bookworm/main/binary-amd64/Packages.xz"),
                format!("mirror://debian/dists/bookworm/main/binary-amd64/by-hash/SHA256/{}", hashes[0]),
                "mirror://debian/dists/bookworm/main/binary-amd64/Packages.xz",
            ],
        })
    );
    assert_eq!(
        got["indexFiles"][1]["urls"],
        json!([
            by_hash("debian-security", "bookworm-security", &hashes[1]),
            server.url("/debian-security/dists/bookworm-security/main/binary-amd64/Packages.xz"),
        ])
    );

    // Built with a stand-in for `debclosure check`: 0 passes, 1 and 2 fail.
    nix.allow_in_builds(dir.path());
    let lock_sha = sha256(lock.as_bytes());
    let spec_sha = sha256(b"distribution = \"debian\"\n");
    let expr = r#"(import (path repo + "/nix") { inherit pkgs; debclosure = tool; }).checkLock { lock = path lock; spec = path spec; }"#;
    for (exit, message) in [(0, ""), (1, "debclosure.lock is stale"), (2, "debclosure check failed with exit code 2")] {
        let tool =
            tool_dir(dir.path(), &format!("tool-{exit}"), Some(&fake_check(&lock_sha, &spec_sha, &hashes, exit)));
        let args = [("tool", tool.to_str().unwrap()), ("lock", lock_file.as_str()), ("spec", spec_file.as_str())];
        let result = nix.build(expr, "builtin", &args);
        match exit {
            0 => {
                let outs = result.unwrap();
                assert!(outs[0].ends_with("-debclosure-check-lock"), "{outs:?}");
            }
            _ => {
                let err = result.expect_err("the check fails");
                assert!(err.contains(message), "exit {exit}: expected {message:?} in:\n{err}");
                assert!(err.contains(&format!("all good, exiting with {exit}")), "the stand-in ran:\n{err}");
            }
        }
    }
    for (i, (archive, suite)) in [("debian", "bookworm"), ("debian-security", "bookworm-security")].iter().enumerate() {
        let path = format!("/{archive}/dists/{suite}/main/binary-amd64/by-hash/SHA256/{}", hashes[i]);
        assert_eq!(server.count(&path), 1, "{path} fetched once, then taken from the store");
    }

    // A parsed lock cannot be checked: the command needs the file.
    let err = nix
        .eval(
            "(lib.checkLock { lock = builtins.fromJSON (builtins.readFile (path lock)); }).name",
            "args",
            &[("lock", &lock_file)],
        )
        .unwrap_err();
    assert!(err.contains("must be the lock file itself"), "{err}");

    // Nor can a lock made from local files, which pins no index.
    let local = write(dir.path(), "local.lock", &lock_text("debian", json!({}), &debs, json!([])));
    let err = nix.eval("(lib.checkLock { lock = path lock; }).name", "args", &[("lock", &local)]).unwrap_err();
    assert!(err.contains("pins no Packages index"), "{err}");
}

#[test]
fn expected_rendering_matches_the_rust_generator() {
    // The flake check compares nix/'s rendering of the fixture lock with
    // this file; here the file is compared with the Rust generator, so the
    // two sides cannot drift apart.
    let text = fs::read_to_string(fixture("bookworm.lock")).unwrap();
    let lock = LockFile::parse(&text).unwrap();
    assert_eq!(lock.render(), text, "the fixture lock is in canonical form");
    assert_eq!(lock.request.digest(), lock.request_sha256);
    let prefixes = &lock.request.url_prefixes["debian"];
    let rendered = render_fetchurl_groups(&lock.packages, |_| Ok(prefixes.clone()), UrlStyle::Mirrors, &[]).unwrap();
    let expected = fs::read_to_string(fixture("bookworm.expected.nix")).unwrap();
    assert_eq!(rendered, expected);
}

/// A flake that stands in for nixpkgs, in a new directory.
fn stub_nixpkgs(parent: &Path) -> PathBuf {
    let dir = parent.join("nixpkgs");
    fs::create_dir_all(&dir).unwrap();
    fs::copy(fixture("stub-pkgs.nix"), dir.join("stub-pkgs.nix")).unwrap();
    fs::write(
        dir.join("flake.nix"),
        r#"{
  outputs = { self }: {
    legacyPackages = builtins.listToAttrs (map
      (system: { name = system; value = import ./stub-pkgs.nix { inherit system; fetchurl = "drv"; }; })
      [ "x86_64-linux" "aarch64-linux" ]);
  };
}
"#,
    )
    .unwrap();
    dir
}

fn run_flake(nix: &Nix, args: &[&str], flake: &str, stub: &Path) -> Output {
    nix.flake()
        .args(args)
        .arg(flake)
        .args(["--override-input", "nixpkgs"])
        .arg(format!("path:{}", stub.display()))
        .arg("--no-write-lock-file")
        .output()
        .expect("run nix")
}

#[test]
fn flake_metadata_and_show_leave_the_lock_alone() {
    let Some(nix) = Nix::find("flake_metadata_and_show_leave_the_lock_alone") else { return };
    let dir = tempfile::tempdir().unwrap();
    let stub = stub_nixpkgs(dir.path());
    let lock_path = repo_root().join("flake.lock");
    let before = fs::read(&lock_path).unwrap();
    let flake = repo_root().to_str().unwrap().to_owned();

    let out = run_flake(&nix, &["flake", "metadata", "--json"], &flake, &stub);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(meta["description"].as_str().unwrap().starts_with("debclosure"), "{meta}");
    assert_eq!(meta["locks"]["nodes"]["nixpkgs"]["locked"]["type"], "path", "{meta}");

    let out = run_flake(&nix, &["flake", "show", "--json"], &flake, &stub);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    for system in ["x86_64-linux", "aarch64-linux"] {
        assert_eq!(show["packages"][system]["default"]["name"], "debclosure-0.1.0", "{show}");
        assert_eq!(show["apps"][system]["default"]["type"], "app", "{show}");
        assert_eq!(show["devShells"][system]["default"]["type"], "derivation", "{show}");
        assert_eq!(show["checks"][system]["debsFromLock"]["name"], "debclosure-check-debs-from-lock", "{show}");
        assert_eq!(show["checks"][system]["package"]["name"], "debclosure-0.1.0", "{show}");
    }
    assert_eq!(show["overlays"]["default"]["type"], "nixpkgs-overlay", "{show}");
    assert!(show.get("lib").is_some(), "{show}");

    assert_eq!(fs::read(&lock_path).unwrap(), before, "flake.lock is unchanged");
}

/// `nix flake check --no-build` on `flake`, with the doubles as nixpkgs
/// (for the example flake, as its debclosure input's nixpkgs, which it
/// follows, and this checkout as debclosure).
fn flake_check(nix: &Nix, flake: &Path, stub: &Path, example: bool) -> Output {
    let mut c = nix.flake();
    c.args(["flake", "check", "--no-build"]).arg(flake);
    if example {
        // git+file: only the tracked files (path: would copy target/ too).
        c.args(["--override-input", "debclosure"]).arg(format!("git+file://{}", repo_root().display()));
        c.args(["--override-input", "debclosure/nixpkgs"]).arg(format!("path:{}", stub.display()));
    } else {
        c.args(["--override-input", "nixpkgs"]).arg(format!("path:{}", stub.display()));
    }
    c.arg("--no-write-lock-file").output().expect("run nix")
}

#[test]
fn flakes_pass_flake_check_with_the_doubles() {
    let Some(nix) = Nix::find("flakes_pass_flake_check_with_the_doubles") else { return };
    let dir = tempfile::tempdir().unwrap();
    let stub = stub_nixpkgs(dir.path());
    let out = flake_check(&nix, &repo_root(), &stub, false);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = flake_check(&nix, &repo_root().join("examples/flake"), &stub, true);
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The doubles fail where nixpkgs fails: runInLinuxImage without
    // diskImageFormat, as the example first had it.
    let copy = dir.path().join("examples");
    for sub in ["flake", "bookworm"] {
        fs::create_dir_all(copy.join(sub)).unwrap();
        for entry in fs::read_dir(repo_root().join("examples").join(sub)).unwrap() {
            let entry = entry.unwrap();
            fs::copy(entry.path(), copy.join(sub).join(entry.file_name())).unwrap();
        }
    }
    // A git repository, so that the flake in flake/ may read ../bookworm.
    let git = |args: &[&str]| {
        let out = Command::new("git").args(args).current_dir(&copy).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
    };
    git(&["init", "-q"]);
    let flake = copy.join("flake/flake.nix");
    let original = fs::read_to_string(&flake).unwrap();
    let edited = original.replace("diskImageFormat = \"qcow2\";", "");
    assert_ne!(edited, original);
    fs::write(&flake, edited).unwrap();
    git(&["add", "-A"]);
    let out = flake_check(&nix, &copy.join("flake"), &stub, true);
    assert!(!out.status.success(), "flake check passed without diskImageFormat");
    assert!(text(&out.stderr).contains("diskImageFormat"), "{}", text(&out.stderr));
}

/// The files a flake copy needs (the tool's sources only for `package`).
fn copy_flake(to: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.path().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    fs::create_dir_all(to).unwrap();
    for file in ["flake.nix", "flake.lock", "Cargo.toml", "Cargo.lock"] {
        fs::copy(repo_root().join(file), to.join(file)).unwrap();
    }
    copy_dir(&repo_root().join("nix"), &to.join("nix"));
    copy_dir(&repo_root().join("tests/fixtures/nix"), &to.join("tests/fixtures/nix"));
}

#[test]
fn flake_check_renders_the_fixture_lock() {
    let Some(nix) = Nix::find("flake_check_renders_the_fixture_lock") else { return };
    let dir = tempfile::tempdir().unwrap();
    let stub = stub_nixpkgs(dir.path());
    let check = format!("#checks.{}.debsFromLock", current_system());

    let out = run_flake(&nix, &["build", "--no-link", "--json"], &format!("{}{check}", repo_root().display()), &stub);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let built: Value = serde_json::from_slice(&out.stdout).unwrap();
    let path = built[0]["outputs"]["out"].as_str().unwrap();
    assert!(path.ends_with("-debclosure-check-debs-from-lock"), "{built}");
    assert!(nix.real(path).is_file(), "{path} was built");

    // A copy whose expected file differs by one character fails, with a diff.
    let copy = dir.path().join("copy");
    copy_flake(&copy);
    let expected = copy.join("tests/fixtures/nix/bookworm.expected.nix");
    let edited = fs::read_to_string(&expected).unwrap().replacen("dash_0.5.12-2", "dash_0.5.12-3", 1);
    fs::write(&expected, edited).unwrap();
    let out = run_flake(&nix, &["build", "--no-link"], &format!("path:{}{check}", copy.display()), &stub);
    assert!(!out.status.success(), "the check must fail");
    let err = text(&out.stderr);
    assert!(err.contains("renders differently"), "{err}");
    assert!(err.contains("dash_0.5.12-3"), "the diff is shown:\n{err}");
}

#[test]
fn flake_outputs_wire_the_library() {
    let Some(nix) = Nix::find("flake_outputs_wire_the_library") else { return };
    // flake.nix's outputs function, called by hand with the stub as nixpkgs.
    let expr = r#"
      let
        stubFor = system: import (path repo + "/tests/fixtures/nix/stub-pkgs.nix") { inherit system; };
        nixpkgs.legacyPackages = { x86_64-linux = stubFor "x86_64-linux"; aarch64-linux = stubFor "aarch64-linux"; };
        flake = (import (path repo + "/flake.nix")).outputs { self = flake; inherit nixpkgs; };
        base = stubFor "x86_64-linux";
        final = base // flake.overlays.default final base;
        other = stubFor "riscv64-linux";
        x86 = flake.lib (stubFor "x86_64-linux");
      in {
        overlayTool = final.debclosure.name;
        overlayLibUsesIt = final.debclosureLib.debclosure.drvPath == final.debclosure.drvPath;
        overlayDebs = map (map (f: f.name)) (final.debclosureLib.debsFromLock { lock = path lock; });
        libUsesFlakeTool = x86.debclosure.drvPath == flake.packages.x86_64-linux.default.drvPath;
        libOtherSystem = (flake.lib other).debclosure.system;
        app = flake.apps.aarch64-linux.default.program == "${flake.packages.aarch64-linux.default}/bin/debclosure";
      }"#;
    let lock = fixture("bookworm.lock");
    let got = nix.eval(expr, "args", &[("lock", lock.to_str().unwrap())]).unwrap();
    assert_eq!(got["overlayTool"], "debclosure-0.1.0");
    assert_eq!(got["overlayLibUsesIt"], true);
    assert_eq!(got["libUsesFlakeTool"], true);
    assert_eq!(got["libOtherSystem"], "riscv64-linux");
    assert_eq!(got["app"], true);
    let groups = got["overlayDebs"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0][0], "base-passwd_3.6.1_amd64.deb");

    // The package's sources: Cargo.toml, Cargo.lock and src/ only.
    let got = nix
        .eval(
            r#"let
                 p = import (path repo + "/nix/package.nix") {
                   lib = pkgs.lib;
                   rustPlatform.buildRustPackage = args: args;
                 };
               in { src = builtins.readDir p.src; lockFile = toString p.cargoLock.lockFile; inherit (p) doCheck version; }"#,
            "args",
            &[],
        )
        .unwrap();
    assert_eq!(got["src"], json!({"Cargo.lock": "regular", "Cargo.toml": "regular", "src": "directory"}));
    assert!(got["lockFile"].as_str().unwrap().ends_with("/Cargo.lock"));
    assert_eq!(got["doCheck"], false);
    assert_eq!(got["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn examples_are_well_formed() {
    // The specs are TOML of the agreed shape; the example flake uses the
    // library as documented. (The locks come later, from the owner.)
    for (name, distribution, archive, suites, components) in [
        ("bookworm", "debian", "debian", vec!["bookworm", "bookworm-updates"], vec!["main"]),
        ("trixie", "debian", "debian", vec!["trixie", "trixie-updates"], vec!["main"]),
        ("noble", "ubuntu", "ubuntu", vec!["noble", "noble-updates", "noble-security"], vec!["main", "universe"]),
    ] {
        let path = repo_root().join(format!("examples/{name}/debclosure.toml"));
        let spec: toml::Value = toml::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(spec["distribution"].as_str(), Some(distribution), "{name}");
        assert_eq!(spec["architecture"].as_str(), Some("amd64"), "{name}");
        let source = &spec["source"][0];
        assert_eq!(source["archive"].as_str(), Some(archive), "{name}");
        let strings =
            |v: &toml::Value| v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(strings(&source["suites"]), suites, "{name}");
        assert_eq!(strings(&source["components"]), components, "{name}");
        assert_eq!(strings(&spec["url-prefixes"][archive]), [format!("mirror://{archive}")], "{name}");
        let packages = strings(&spec["packages"]);
        let mut common: Vec<String> = fs::read_to_string(repo_root().join("examples/common-debian.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(str::to_owned)
            .collect();
        if distribution == "ubuntu" {
            // nixpkgs' Ubuntu images: commonDebPackages ++ [ diffutils libc-bin ],
            // where commonDebianPackages adds sysvinit-core and diffutils.
            common.retain(|p| p != "sysvinit-core" && p != "diffutils");
            common.extend(["diffutils".to_owned(), "libc-bin".to_owned()]);
        }
        assert_eq!(packages, common, "{name}: the request is nixpkgs' package list");
    }
    let flake = fs::read_to_string(repo_root().join("examples/flake/flake.nix")).unwrap();
    for needle in ["diskImageFromLock", "checkLock", "../bookworm/debclosure.lock", "../bookworm/debclosure.toml"] {
        assert!(flake.contains(needle), "examples/flake/flake.nix uses {needle}");
    }
}
