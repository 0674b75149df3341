//! The host: Linux, root, and the programs run outside the tree (`chroot`,
//! `dpkg-deb`, `tar`, `mount`, ...), found by absolute path before anything
//! starts.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::RootfsError;

/// The environment of every command run in the tree: nothing of the
/// caller's, so that two runs see the same.
pub(super) const CHROOT_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// The programs run on the host, by absolute path.
#[derive(Debug, Clone)]
pub struct Tools {
    pub(super) chroot: PathBuf,
    pub(super) dpkg_deb: PathBuf,
    pub(super) dpkg_query: PathBuf,
    pub(super) tar: PathBuf,
    pub(super) mount: PathBuf,
    pub(super) umount: PathBuf,
    pub(super) mknod: PathBuf,
}

/// The host programs [`Tools::find`] looks for.
const TOOL_NAMES: [&str; 7] = ["chroot", "dpkg-deb", "dpkg-query", "tar", "mount", "umount", "mknod"];

impl Tools {
    /// Checks that this is Linux and that we are root, and finds the
    /// programs needed.
    pub fn find() -> Result<Tools, RootfsError> {
        let found: Vec<Option<PathBuf>> = TOOL_NAMES.iter().map(|name| find_program(name)).collect();
        let missing: Vec<&str> = TOOL_NAMES.iter().zip(&found).filter(|(_, p)| p.is_none()).map(|(n, _)| *n).collect();
        check_host(std::env::consts::OS, rustix::process::geteuid().as_raw(), &missing)?;
        let mut found = found.into_iter().map(|p| p.expect("missing programs were reported"));
        let mut next = || found.next().expect("one path per tool name");
        Ok(Tools {
            chroot: next(),
            dpkg_deb: next(),
            dpkg_query: next(),
            tar: next(),
            mount: next(),
            umount: next(),
            mknod: next(),
        })
    }

    /// Tools found by name in `PATH` only, without the host checks: for
    /// tests of steps that need neither root nor a chroot.
    #[doc(hidden)]
    pub fn unchecked() -> Tools {
        let get = |n: &str| find_program(n).unwrap_or_else(|| PathBuf::from(n));
        Tools {
            chroot: get("chroot"),
            dpkg_deb: get("dpkg-deb"),
            dpkg_query: get("dpkg-query"),
            tar: get("tar"),
            mount: get("mount"),
            umount: get("umount"),
            mknod: get("mknod"),
        }
    }
}

/// The first problem with the host: not Linux, not root, missing programs.
pub fn check_host(os: &str, euid: u32, missing: &[&str]) -> Result<(), RootfsError> {
    if os != "linux" {
        return Err(RootfsError::NotLinux { os: os.to_owned() });
    }
    if euid != 0 {
        return Err(RootfsError::NotRoot { euid });
    }
    if !missing.is_empty() {
        return Err(RootfsError::MissingTools { tools: missing.iter().map(|s| (*s).to_owned()).collect() });
    }
    Ok(())
}

/// Refuses a lock whose architecture the host cannot run.
pub fn check_architecture(lock: &str, host: &str) -> Result<(), RootfsError> {
    if lock == host {
        return Ok(());
    }
    Err(RootfsError::ForeignArchitecture { lock: lock.to_owned(), host: host.to_owned() })
}

/// `name` in `PATH`, or in the system directories (root's programs are in
/// `sbin`, which a user's `PATH` may lack).
pub(super) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(std::env::split_paths(CHROOT_PATH))
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_checks_name_the_first_problem() {
        check_host("linux", 0, &[]).unwrap();
        let e = check_host("macos", 0, &["chroot"]).unwrap_err();
        assert!(matches!(e, RootfsError::NotLinux { .. }) && e.to_string().contains("macos"), "{e}");
        let e = check_host("linux", 1000, &[]).unwrap_err();
        assert!(matches!(e, RootfsError::NotRoot { euid: 1000 }), "{e}");
        assert!(e.to_string().contains("must run as root") && e.hint().unwrap().contains("root"));
        let e = check_host("linux", 0, &["chroot", "dpkg-deb"]).unwrap_err();
        assert_eq!(e.to_string(), "rootfs needs chroot, dpkg-deb, not found in PATH or /usr/sbin, /usr/bin, /sbin, /bin");
        check_architecture("amd64", "amd64").unwrap();
        assert!(check_architecture("arm64", "amd64").unwrap_err().to_string().contains("arm64"));
    }
}
