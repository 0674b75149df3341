//! Where the tree is built ([`Placement`](super::Placement)): a staging
//! directory beside the target (`.TARGET.debclosure-XXXX`) that is renamed
//! to it at the end, or straight into a fresh file system (`--in-place`);
//! the checks of the target for each, and the manifest's place beside it.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::error::io_error;
use super::mounts::remove_tree;
use super::{OnFailure, RootfsError};

/// Checks that `target` names a directory that is absent or empty.
pub fn check_target(target: &Path) -> Result<(), RootfsError> {
    let bad = |reason: &str| RootfsError::BadTarget { path: target.to_owned(), reason: reason.to_owned() };
    if target.file_name().is_none() {
        return Err(bad("names no directory (it ends in `..` or is `/`)"));
    }
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(RootfsError::Io { action: "examine", path: target.to_owned(), source: e }),
        Ok(m) if m.file_type().is_symlink() => Err(bad("is a symbolic link")),
        Ok(m) if !m.is_dir() => Err(bad("exists and is not a directory")),
        Ok(_) => {
            let mut entries = fs::read_dir(target).map_err(io_error("read", target))?;
            match entries.next() {
                None => Ok(()),
                Some(_) => Err(RootfsError::TargetNotEmpty { path: target.to_owned() }),
            }
        }
    }
}

/// What a file system made by an image builder may hold before `--in-place`
/// installs into it: `mkfs.ext4`'s `lost+found` and, from nixpkgs'
/// `vmTools.defaultCreateRootFS`, the `.debug` marker and the empty mount
/// points `proc`, `dev` and `sys`.
const FRESH_FILE_SYSTEM: [&str; 5] = ["lost+found", ".debug", "proc", "dev", "sys"];

/// Checks that `target` is an existing directory (a mounted file system,
/// typically) that holds nothing but `FRESH_FILE_SYSTEM` (`lost+found`,
/// `.debug`, and `proc`, `dev` and `sys`), those directories empty.
pub fn check_in_place_target(target: &Path) -> Result<(), RootfsError> {
    let bad = |reason: &str| RootfsError::BadTarget { path: target.to_owned(), reason: reason.to_owned() };
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(bad("does not exist (--in-place installs into an existing directory)")),
        Err(e) => return Err(RootfsError::Io { action: "examine", path: target.to_owned(), source: e }),
        Ok(m) if m.file_type().is_symlink() => return Err(bad("is a symbolic link")),
        Ok(m) if !m.is_dir() => return Err(bad("is not a directory")),
        Ok(_) => {}
    }
    let not_fresh = |entry: String| RootfsError::TargetNotFresh { path: target.to_owned(), entry };
    let mut names = Vec::new();
    for entry in fs::read_dir(target).map_err(io_error("read", target))? {
        names.push(entry.map_err(io_error("read", target))?.file_name());
    }
    names.sort();
    for name in names {
        let shown = name.to_string_lossy().into_owned();
        if !FRESH_FILE_SYSTEM.contains(&shown.as_str()) {
            return Err(not_fresh(shown));
        }
        let path = target.join(&name);
        let meta = fs::symlink_metadata(&path).map_err(io_error("examine", &path))?;
        if shown == ".debug" {
            if !meta.is_file() {
                return Err(not_fresh(shown));
            }
            continue;
        }
        if !meta.is_dir() {
            return Err(not_fresh(shown));
        }
        if let Some(inner) = fs::read_dir(&path).map_err(io_error("read", &path))?.next() {
            let inner = inner.map_err(io_error("read", &path))?;
            return Err(not_fresh(format!("{shown}/{}", inner.file_name().to_string_lossy())));
        }
    }
    Ok(())
}

/// The directory the staging tree goes in (the target's parent) and the
/// prefix of its name: `.TARGET.debclosure-`.
pub fn staging_location(target: &Path) -> Result<(PathBuf, String), RootfsError> {
    let name = target.file_name().ok_or_else(|| RootfsError::BadTarget {
        path: target.to_owned(),
        reason: "names no directory (it ends in `..` or is `/`)".into(),
    })?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((parent, format!(".{}.debclosure-", name.to_string_lossy())))
}

/// `TARGET.manifest`, beside the target.
pub fn manifest_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().map(OsString::from).unwrap_or_default();
    name.push(".manifest");
    target.with_file_name(name)
}

/// The staging tree; removed when dropped unless kept or disarmed.
pub(super) struct Staging {
    /// Canonical, so that it compares with `/proc/self/mountinfo`.
    pub(super) path: PathBuf,
    on_failure: OnFailure,
    armed: bool,
}

impl Staging {
    pub(super) fn create(target: &Path, on_failure: OnFailure) -> Result<Staging, RootfsError> {
        let (parent, prefix) = staging_location(target)?;
        fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(4)
            .tempdir_in(&parent)
            .map_err(io_error("create a staging directory in", &parent))?
            .keep();
        let path = dir.canonicalize().map_err(io_error("resolve", &dir))?;
        let staging = Staging { path, on_failure, armed: true };
        fs::set_permissions(&staging.path, fs::Permissions::from_mode(0o755)).map_err(io_error("set the mode of", &staging.path))?;
        Ok(staging)
    }

    pub(super) fn disarm(&mut self) {
        self.armed = false;
    }

    /// After a failure: keeps or removes the tree. Returns the kept path and
    /// why removing failed, if it did.
    pub(super) fn abandon(&mut self) -> (Option<PathBuf>, Option<Box<RootfsError>>) {
        self.armed = false;
        match self.on_failure {
            OnFailure::Keep => (Some(self.path.clone()), None),
            OnFailure::Remove => match remove_tree(&self.path) {
                Ok(()) => (None, None),
                Err(e) => (Some(self.path.clone()), Some(Box::new(e))),
            },
        }
    }
}

impl Drop for Staging {
    // Reached with `armed` only when a panic unwinds past the build.
    fn drop(&mut self) {
        if self.armed && self.on_failure == OnFailure::Remove {
            let _ = remove_tree(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_and_manifest_sit_beside_the_target() {
        let (parent, prefix) = staging_location(Path::new("/srv/images/rootfs")).unwrap();
        assert_eq!((parent.as_path(), prefix.as_str()), (Path::new("/srv/images"), ".rootfs.debclosure-"));
        let (parent, prefix) = staging_location(Path::new("out/")).unwrap();
        assert_eq!((parent.as_path(), prefix.as_str()), (Path::new("."), ".out.debclosure-"));
        assert!(matches!(staging_location(Path::new("/")), Err(RootfsError::BadTarget { .. })));
        assert!(matches!(staging_location(Path::new("a/..")), Err(RootfsError::BadTarget { .. })));
        assert_eq!(manifest_path(Path::new("/srv/rootfs")), Path::new("/srv/rootfs.manifest"));
        assert_eq!(manifest_path(Path::new("rootfs/")), Path::new("rootfs.manifest"));
    }

    #[test]
    fn staging_tree_is_created_beside_the_target_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tree");
        let path = {
            let mut staging = Staging::create(&target, OnFailure::Remove).unwrap();
            let name = staging.path.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(name.starts_with(".tree.debclosure-") && name.len() == ".tree.debclosure-".len() + 4, "{name}");
            assert_eq!(staging.path.parent().unwrap(), dir.path().canonicalize().unwrap());
            assert_eq!(fs::metadata(&staging.path).unwrap().permissions().mode() & 0o7777, 0o755);
            fs::write(staging.path.join("file"), "x").unwrap();
            let (kept, cleanup) = staging.abandon();
            assert!(kept.is_none() && cleanup.is_none());
            staging.path.clone()
        };
        assert!(!path.exists());
        let kept = {
            let mut staging = Staging::create(&target, OnFailure::Keep).unwrap();
            staging.abandon().0.unwrap()
        };
        assert!(kept.is_dir());
        // A panic unwinding past an armed staging tree removes it.
        let result = std::panic::catch_unwind(|| {
            let staging = Staging::create(&target, OnFailure::Remove).unwrap();
            fs::write(dir.path().join("panicked-in"), staging.path.to_str().unwrap()).unwrap();
            panic!("test panic");
        });
        assert!(result.is_err());
        let panicked_in = fs::read_to_string(dir.path().join("panicked-in")).unwrap();
        assert!(!Path::new(&panicked_in).exists());
    }

    #[test]
    fn target_must_be_absent_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        let absent = dir.path().join("new");
        check_target(&absent).unwrap();
        fs::create_dir(&absent).unwrap();
        check_target(&absent).unwrap();
        fs::write(absent.join("x"), "").unwrap();
        let err = check_target(&absent).unwrap_err();
        assert!(matches!(err, RootfsError::TargetNotEmpty { .. }), "{err}");
        assert!(err.to_string().ends_with("exists and is not empty"), "{err}");
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(check_target(&file).unwrap_err().to_string().contains("not a directory"));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("new"), &link).unwrap();
        assert!(check_target(&link).unwrap_err().to_string().contains("symbolic link"));
        assert!(matches!(check_target(Path::new("/")), Err(RootfsError::BadTarget { .. })));
    }


    #[test]
    fn in_place_takes_only_what_a_fresh_image_file_system_holds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mnt");
        let err = check_in_place_target(&root).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        fs::create_dir(&root).unwrap();
        check_in_place_target(&root).unwrap();
        // What mkfs.ext4 and vmTools.defaultCreateRootFS leave.
        for d in ["lost+found", "proc", "dev", "sys"] {
            fs::create_dir(root.join(d)).unwrap();
        }
        fs::write(root.join(".debug"), "").unwrap();
        check_in_place_target(&root).unwrap();

        let refused = |setup: &dyn Fn(&Path), entry: &str| {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("mnt");
            fs::create_dir(&root).unwrap();
            setup(&root);
            let err = check_in_place_target(&root).unwrap_err();
            assert!(matches!(&err, RootfsError::TargetNotFresh { entry: e, .. } if e == entry), "{entry}: {err}");
            assert!(err.to_string().contains(&format!("holds {entry},")), "{err}");
            assert!(err.hint().unwrap().contains("--in-place"));
        };
        refused(&|r| fs::create_dir(r.join("etc")).unwrap(), "etc");
        refused(&|r| fs::write(r.join("proc"), "").unwrap(), "proc");
        refused(&|r| fs::create_dir(r.join(".debug")).unwrap(), ".debug");
        refused(
            &|r| {
                fs::create_dir(r.join("dev")).unwrap();
                fs::write(r.join("dev/null"), "").unwrap();
            },
            "dev/null",
        );
        refused(&|r| std::os::unix::fs::symlink("/", r.join("sys")).unwrap(), "sys");
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(check_in_place_target(&file).unwrap_err().to_string().contains("not a directory"));
    }
}
