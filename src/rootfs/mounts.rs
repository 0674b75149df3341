//! The mounts made in the tree for the maintainer scripts (`/proc`, `/sys`,
//! a bind of `/dev`), undone by a guard on every way out, and
//! `/proc/self/mountinfo`, read before anything under the tree is removed.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::error::io_error;
use super::process::run_host;
use super::{RootfsError, Tools};

/// Removes `dir`, unless something is mounted under it: removing files
/// through a bind mount of `/dev` would remove the host's.
pub(super) fn remove_tree(dir: &Path) -> Result<(), RootfsError> {
    let mounts = mounts_under(dir);
    if !mounts.is_empty() {
        return Err(RootfsError::StillMounted { dir: dir.to_owned(), mounts });
    }
    fs::remove_dir_all(dir).map_err(io_error("remove", dir))
}

/// The mount points at or under `dir` (canonical), from
/// `/proc/self/mountinfo`; if that cannot be read, `dir` itself, so that
/// nothing is removed blind.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    match fs::read_to_string("/proc/self/mountinfo") {
        Ok(text) => mount_points(&text).into_iter().filter(|p| p.starts_with(dir)).collect(),
        Err(_) => vec![dir.to_owned()],
    }
}

/// The mount point column of `/proc/self/mountinfo` text, unescaped (the
/// kernel writes space, tab, newline and backslash as `\ooo`).
fn mount_points(mountinfo: &str) -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| {
            let bytes = field.as_bytes();
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                let octal = bytes.get(i + 1..i + 4).filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
                match octal {
                    Some(d) => {
                        out.push(d.iter().fold(0u8, |v, c| v.wrapping_mul(8).wrapping_add(c - b'0')));
                        i += 4;
                    }
                    None => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            PathBuf::from(OsString::from_vec(out))
        })
        .collect()
}

/// Mounts made in the tree; unmounted, last first, when dropped.
pub(super) struct Mounts<'t> {
    tools: &'t Tools,
    root: PathBuf,
    points: Vec<PathBuf>,
}

impl<'t> Mounts<'t> {
    pub(super) fn new(tools: &'t Tools, root: &Path) -> Mounts<'t> {
        Mounts { tools, root: root.to_owned(), points: Vec::new() }
    }

    /// `mount ARGS... ROOT/DIR`, after checking that `ROOT/DIR` is a plain
    /// directory (a package could have made it a symbolic link out of the
    /// tree).
    pub(super) fn mount(&mut self, dir: &str, args: &[&str]) -> Result<(), RootfsError> {
        let point = self.root.join(dir);
        match fs::symlink_metadata(&point) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(&point).map_err(io_error("create", &point))?,
            Err(e) => return Err(RootfsError::Io { action: "examine", path: point, source: e }),
            Ok(m) if !m.file_type().is_dir() => {
                return Err(RootfsError::MountPoint { path: point, reason: "not a directory (a symbolic link or a file)".into() })
            }
            Ok(_) => {}
        }
        let mut cmd = Command::new(&self.tools.mount);
        cmd.args(args).arg(&point);
        run_host(&mut cmd)?;
        self.points.push(point);
        Ok(())
    }

    /// Unmounts everything, lazily where a plain unmount fails (a process
    /// left behind by a maintainer script), and checks that nothing is left.
    pub(super) fn unmount_all(&mut self) -> Result<(), RootfsError> {
        if !self.points.is_empty() {
            super::namespace::kill_strays();
        }
        let mut first_error = None;
        while let Some(point) = self.points.pop() {
            let plain = run_host(Command::new(&self.tools.umount).arg(&point));
            if plain.is_err() {
                if let Err(e) = run_host(Command::new(&self.tools.umount).arg("--lazy").arg(&point)) {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        // The root itself may be a mount point (--in-place on a mounted
        // file system); what this run mounted is under it.
        let left: Vec<PathBuf> = mounts_under(&self.root).into_iter().filter(|p| *p != self.root).collect();
        if !left.is_empty() {
            return Err(RootfsError::StillMounted { dir: self.root.clone(), mounts: left });
        }
        Ok(())
    }
}

impl Drop for Mounts<'_> {
    fn drop(&mut self) {
        let _ = self.unmount_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_mount_points_are_unescaped() {
        let info = "22 1 0:21 / /proc rw,relatime shared:5 - proc proc rw\n\
            100 22 8:1 /dir /srv/with\\040space/proc rw - ext4 /dev/sda1 rw\n\
            101 22 8:1 /dir /srv/back\\134slash rw - ext4 /dev/sda1 rw\n";
        assert_eq!(
            mount_points(info),
            [PathBuf::from("/proc"), PathBuf::from("/srv/with space/proc"), PathBuf::from("/srv/back\\slash")]
        );
        // `mounts_under` is component-wise: /proc is not under /pro.
        let under: Vec<PathBuf> = mount_points(info).into_iter().filter(|p| p.starts_with("/srv/with space")).collect();
        assert_eq!(under, [PathBuf::from("/srv/with space/proc")]);
        assert!(!PathBuf::from("/proc").starts_with("/pro"));
    }

    #[test]
    fn remove_tree_refuses_while_something_is_mounted() {
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: mounting needs root");
            return;
        }
        let tools = Tools::unchecked();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("root");
        let source = dir.path().join("source");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&source).unwrap();
        fs::write(source.join("precious"), "keep me").unwrap();
        let source_arg = source.to_str().unwrap().to_owned();
        // A panic with a mount in place: the guard unmounts while unwinding.
        let result = std::panic::catch_unwind(|| {
            let mut mounts = Mounts::new(&tools, &root);
            mounts.mount("bound", &["--bind", &source_arg]).unwrap();
            assert_eq!(mounts_under(&root), [root.join("bound")]);
            let err = remove_tree(&root).unwrap_err();
            assert!(matches!(err, RootfsError::StillMounted { .. }), "{err}");
            panic!("test panic with a mount");
        });
        assert!(result.is_err());
        assert!(mounts_under(&root).is_empty(), "the guard left a mount");
        remove_tree(&root).unwrap();
        assert_eq!(fs::read_to_string(source.join("precious")).unwrap(), "keep me");
        // A symbolic link where a mount point should be is refused.
        fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(&source, root.join("proc")).unwrap();
        let mut mounts = Mounts::new(&tools, &root);
        let err = mounts.mount("proc", &["-t", "proc", "proc"]).unwrap_err();
        assert!(matches!(err, RootfsError::MountPoint { .. }), "{err}");
        assert!(mounts_under(&root).is_empty());
    }
}
