//! The tree as a reproducible tar: GNU tar with sorted names, one mtime and
//! numeric owners, so that the same tree gives the same bytes.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use super::error::io_error;
use super::process::{describe, run_cancellable};
use super::{RootfsError, Tools};

/// Writes `root` as a tar that depends only on the tree's contents, owners
/// and modes: entries sorted by name, every mtime `epoch`, numeric owners,
/// pax headers without the times that change from run to run, file
/// capabilities kept (`security.capability`, set by some postinst scripts).
pub(super) fn write_tar(tools: &Tools, root: &Path, epoch: i64, dest: &Path, cancel: &AtomicBool) -> Result<tempfile::NamedTempFile, RootfsError> {
    let dir = match dest.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io_error("create a temporary file in", dir))?;
    let mut cmd = Command::new(&tools.tar);
    cmd.args([
        "--create",
        "--format=posix",
        "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
        "--sort=name",
        &format!("--mtime=@{epoch}"),
        "--numeric-owner",
        "--one-file-system",
        "--xattrs",
        "--xattrs-include=security.capability",
        "--file",
    ])
    .arg(tmp.path())
    .arg("--directory")
    .arg(root)
    .arg(".")
    .env("LC_ALL", "C");
    let done = run_cancellable(&mut cmd, cancel)?;
    if !done.status.success() {
        return Err(RootfsError::Command { command: describe(&cmd), status: done.status.to_string(), output: done.output });
    }
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o644)).map_err(io_error("set the mode of", tmp.path()))?;
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::rootfs::host::find_program;
    use super::*;

    #[test]
    fn tar_depends_on_content_not_on_times() {
        if find_program("tar").is_none() {
            eprintln!("skipped: no tar");
            return;
        }
        let tools = Tools::unchecked();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("usr/bin")).unwrap();
        fs::write(root.join("usr/bin/b"), "b").unwrap();
        fs::write(root.join("a"), "a").unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        let cancel = AtomicBool::new(false);
        let first = write_tar(&tools, &root, 1_700_000_000, &dir.path().join("one.tar"), &cancel).unwrap();
        let one = fs::read(first.path()).unwrap();
        // New mtimes and a different creation order give the same bytes.
        fs::remove_file(root.join("a")).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        fs::write(root.join("a"), "a").unwrap();
        let second = write_tar(&tools, &root, 1_700_000_000, &dir.path().join("two.tar"), &cancel).unwrap();
        assert!(one == fs::read(second.path()).unwrap(), "the tar depends on more than the tree");
        let list = |flags: &[&str]| {
            let out = Command::new("tar").args(flags).arg("-f").arg(first.path()).output().unwrap();
            String::from_utf8(out.stdout).unwrap()
        };
        let names = list(&["-t"]);
        assert_eq!(names, "./\n./a\n./bin\n./usr/\n./usr/bin/\n./usr/bin/b\n");
        let long = list(&["-tv", "--utc"]);
        assert!(long.lines().all(|l| l.contains("2023-11-14 22:13")), "{long}");
        // The same content with a different epoch differs.
        let third = write_tar(&tools, &root, 1_600_000_000, &dir.path().join("three.tar"), &cancel).unwrap();
        assert!(one != fs::read(third.path()).unwrap());
    }
}
