//! Real packages for tests that install: this machine's own installed
//! packages (its dpkg, libc, shell, ...), rebuilt as `.deb` files from
//! dpkg's database: the control fields, the maintainer scripts and the
//! files as installed. dpkg-repack does the same job but cannot rebuild
//! libc6 on a merged-`/usr` machine (it copies `/lib64/ld-linux-x86-64.so.2`
//! through the `/lib64` link), so this is done here, with `dpkg-query` and
//! `dpkg-deb`.
//!
//! The rebuilt packages are owned by root (`--root-owner-group`) and lack
//! files a container image left out (documentation); everything else is as
//! the machine has it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::repo::Deb;

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Control members copied as they are (dpkg's own bookkeeping, `list`,
/// `md5sums` and `conffiles`, is not).
const CONTROL_MEMBERS: [&str; 9] =
    ["preinst", "postinst", "prerm", "postrm", "config", "templates", "triggers", "shlibs", "symbols"];

/// Fields of dpkg's status that are not control fields.
const STATUS_ONLY: [&str; 3] = ["Status", "Conffiles", "Config-Version"];

/// The installed packages as a Packages index (stanzas from dpkg's status,
/// with a placeholder Filename, Size and SHA256), for resolving which of
/// them to rebuild.
pub fn status_index() -> String {
    let status = fs::read_to_string("/var/lib/dpkg/status").expect("dpkg's status file");
    let mut out = String::new();
    for stanza in status.split("\n\n").filter(|s| s.contains("\nStatus: install ok installed")) {
        let fields = control_fields(stanza);
        let get = |name: &str| {
            fields.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).unwrap_or_else(|| panic!("{name} in {stanza}"))
        };
        let (name, version, arch) = (get("Package"), get("Version"), get("Architecture"));
        out.push_str(&fields);
        out.push_str(&format!("Filename: pool/{name}_{}_{arch}.deb\nSize: 1\nSHA256: {}\n\n", version.replace(':', "%3a"), "0".repeat(64)));
    }
    out
}

/// A status stanza without the fields dpkg adds to it.
fn control_fields(stanza: &str) -> String {
    let mut out = String::new();
    let mut keep = true;
    for line in stanza.lines().filter(|l| !l.is_empty()) {
        if !line.starts_with([' ', '\t']) {
            let name = line.split(':').next().unwrap_or_default();
            keep = !STATUS_ONLY.contains(&name);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Rebuilds the installed package `name` into `dir`; returns it as a pool
/// entry (its stanza fields and bytes).
pub fn rebuild(name: &str, dir: &Path) -> Deb {
    let stanza = run(Command::new("dpkg-query").args(["-s", name]));
    let control = control_fields(&stanza);
    let get = |field: &str| control.lines().find_map(|l| l.strip_prefix(&format!("{field}: "))).unwrap().to_owned();
    let (version, arch) = (get("Version"), get("Architecture"));
    let root = dir.join(format!("{name}.tree"));
    let debian = root.join("DEBIAN");
    fs::create_dir_all(&debian).unwrap();

    for path in run(Command::new("dpkg-query").args(["-L", name])).lines() {
        // Skip "/." and the diversion notes dpkg-query mixes in.
        if !path.starts_with('/') || path == "/." {
            continue;
        }
        let host = Path::new(path);
        let copy = root.join(path.trim_start_matches('/'));
        let Ok(link) = fs::symlink_metadata(host) else { continue };
        if fs::metadata(host).is_ok_and(|m| m.is_dir()) {
            // A directory of the package, even where this machine made it
            // a link (`/lib64` -> `usr/lib64` on merged /usr).
            fs::create_dir_all(&copy).unwrap();
            continue;
        }
        fs::create_dir_all(copy.parent().unwrap()).unwrap();
        if link.file_type().is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(host).unwrap(), &copy).unwrap();
        } else if link.is_file() {
            fs::copy(host, &copy).unwrap();
        }
    }

    let conffiles: Vec<&str> = stanza
        .split("\nConffiles:\n")
        .nth(1)
        .map(|rest| rest.lines().take_while(|l| l.starts_with(' ')).collect())
        .unwrap_or_default();
    let conffiles: String = conffiles
        .iter()
        .filter(|l| !l.contains(" obsolete") && !l.contains(" remove-on-upgrade"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|p| root.join(p.trim_start_matches('/')).is_file())
        .map(|p| format!("{p}\n"))
        .collect();
    if !conffiles.is_empty() {
        fs::write(debian.join("conffiles"), conffiles).unwrap();
    }
    fs::write(debian.join("control"), &control).unwrap();
    for member in run(Command::new("dpkg-query").args(["--control-list", name])).split_whitespace() {
        if CONTROL_MEMBERS.contains(&member) {
            let from = run(Command::new("dpkg-query").args(["--control-path", name, member]));
            let to = debian.join(member);
            fs::copy(from.trim(), &to).unwrap();
            let mode = if ["preinst", "postinst", "prerm", "postrm", "config"].contains(&member) { 0o755 } else { 0o644 };
            fs::set_permissions(&to, fs::Permissions::from_mode(mode)).unwrap();
        }
    }

    let file = dir.join(format!("{name}.deb"));
    run(Command::new("dpkg-deb")
        .args(["--root-owner-group", "--nocheck", "-Zgzip", "-z1", "--build"])
        .arg(&root)
        .arg(&file));
    fs::remove_dir_all(&root).unwrap();
    // The index stanza: the one-line fields (repo::Deb writes lines as
    // they are, without continuations); Priority comes from repo::Deb.
    let fields: String = control
        .lines()
        .filter(|l| {
            let name = l.split(':').next().unwrap_or_default();
            !l.starts_with([' ', '\t']) && !["Package", "Version", "Architecture", "Priority", "Description"].contains(&name)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    Deb { name: name.to_owned(), version, arch, fields, content: fs::read(&file).unwrap() }
}

/// Rebuilds `names`, two at a time.
pub fn rebuild_all(names: &[String], dir: &Path) -> Vec<Deb> {
    let chunks: Vec<Vec<String>> = names.chunks(names.len().div_ceil(2).max(1)).map(<[String]>::to_vec).collect();
    let dir: PathBuf = dir.to_owned();
    let handles: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let dir = dir.clone();
            std::thread::spawn(move || chunk.iter().map(|n| rebuild(n, &dir)).collect::<Vec<Deb>>())
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().expect("rebuild thread")).collect()
}

/// A real package `NAME 1` (`Architecture: all`) whose postinst says so on
/// stderr and exits 1, built with `dpkg-deb` in `dir`.
pub fn failing_deb(name: &str, dir: &Path) -> Deb {
    let pkg = dir.join(format!("{name}.tree"));
    fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    fs::write(
        pkg.join("DEBIAN/control"),
        format!("Package: {name}\nVersion: 1\nArchitecture: all\nMaintainer: debclosure tests <tests@invalid>\nDescription: fails to configure\n"),
    )
    .unwrap();
    fs::write(pkg.join("DEBIAN/postinst"), "#!/bin/sh\necho 'the postinst of the test package fails on purpose' >&2\nexit 1\n").unwrap();
    fs::set_permissions(pkg.join("DEBIAN/postinst"), fs::Permissions::from_mode(0o755)).unwrap();
    let file = dir.join(format!("{name}.deb"));
    run(Command::new("dpkg-deb").args(["--root-owner-group", "--build"]).arg(&pkg).arg(&file));
    Deb { name: name.into(), version: "1".into(), arch: "all".into(), fields: String::new(), content: fs::read(&file).unwrap() }
}
