//! A static `/dev`, made after the bind mount of the host's is gone, as
//! debootstrap makes it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use super::error::io_error;
use super::process::run_host;
use super::{RootfsError, Tools};

/// The device nodes of a static `/dev` (Linux's numbers, as debootstrap
/// makes them), so that programs run with a plain `chroot TARGET` find
/// `/dev/null`; a booted system or a container mounts its own `/dev` over
/// them. (name, mode, major, minor)
const DEVICES: [(&str, &str, u32, u32); 8] = [
    ("null", "666", 1, 3),
    ("zero", "666", 1, 5),
    ("full", "666", 1, 7),
    ("random", "666", 1, 8),
    ("urandom", "666", 1, 9),
    ("tty", "666", 5, 0),
    ("console", "600", 5, 1),
    ("ptmx", "666", 5, 2),
];

/// The symbolic links of a static `/dev`.
const DEVICE_LINKS: [(&str, &str); 4] =
    [("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")];

/// Creates the static `/dev` ([`DEVICES`], [`DEVICE_LINKS`], `pts/`,
/// `shm/`), leaving alone whatever a package put there.
pub(super) fn populate_dev(tools: &Tools, root: &Path) -> Result<(), RootfsError> {
    let dev = root.join("dev");
    match fs::symlink_metadata(&dev) {
        Ok(m) if !m.file_type().is_dir() => {
            return Err(RootfsError::MountPoint { path: dev, reason: "not a directory (a symbolic link or a file)".into() })
        }
        Ok(_) => {}
        Err(_) => fs::create_dir(&dev).map_err(io_error("create", &dev))?,
    }
    let absent = |name: &str| fs::symlink_metadata(dev.join(name)).is_err();
    for (name, mode, major, minor) in DEVICES {
        if absent(name) {
            run_host(Command::new(&tools.mknod).args(["-m", mode]).arg(dev.join(name)).args(["c", &major.to_string(), &minor.to_string()]))?;
        }
    }
    for (name, target) in DEVICE_LINKS {
        if absent(name) {
            std::os::unix::fs::symlink(target, dev.join(name)).map_err(io_error("create", &dev.join(name)))?;
        }
    }
    for (name, mode) in [("pts", 0o755), ("shm", 0o1777)] {
        if absent(name) {
            let path = dev.join(name);
            fs::create_dir(&path)
                .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(mode)))
                .map_err(io_error("create", &path))?;
        }
    }
    Ok(())
}
