//! A bootable disk image from a lock, byte for byte the same on every run.
//!
//! [`build_image`] installs the lock with [`rootfs`](crate::rootfs) (the
//! same code, checks and reproducible tar as `debclosure rootfs --tar`),
//! then makes one ext4 file system of the whole disk from that tar with
//! `mke2fs -d TARBALL` (e2fsprogs 1.47.1 or later): no loop device, no
//! mount, and every input of the file system fixed, so that two runs on one
//! lock give the same bytes:
//!
//! - the tar's entries are sorted and every mtime is the lock's
//!   `SOURCE_DATE_EPOCH`, which mke2fs also takes for every other time
//!   (`SOURCE_DATE_EPOCH`, `E2FSPROGS_FAKE_TIME`);
//! - the file system UUID and the directory hash seed are derived from the
//!   lock's SHA256 instead of drawn at random;
//! - the size is given, or derived from the tar's size.
//!
//! The disk has no partition table: it boots with its own kernel and initrd
//! given to the machine directly (QEMU's `-kernel`), as `debclosure
//! boot-test` does. `qcow2` output is the raw image converted with
//! `qemu-img convert`. The image is written to a temporary file beside the
//! destination and renamed into place, so an interrupted run leaves nothing
//! half-written.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use sha2::{Digest, Sha256};

use crate::command::{run, CommandError};
use crate::rootfs::{self, Failure, Placement, RootfsError, RootfsOptions, RootfsPackage, RootfsReporter, Tools};

/// Packages that make `/sbin/init`, any of which makes a lock bootable.
const INITS: [&str; 3] = ["systemd-sysv", "sysvinit-core", "runit-init"];

/// The oldest e2fsprogs whose mke2fs reads a tarball (`-d FILE.tar`).
const MKE2FS_TAR: (u32, u32, u32) = (1, 47, 1);

/// The image's format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DiskFormat {
    /// A plain disk image (sparse where the file system is empty).
    #[default]
    Raw,
    /// QEMU's copy-on-write format.
    Qcow2,
}

impl DiskFormat {
    /// `raw` or `qcow2`, as QEMU names them.
    pub fn name(self) -> &'static str {
        match self {
            DiskFormat::Raw => "raw",
            DiskFormat::Qcow2 => "qcow2",
        }
    }
}

/// How to make the image.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    /// The disk's size in MiB; `None`: the tree's size and a quarter, and
    /// 256 MiB, in steps of 64 MiB.
    pub size_mib: Option<u64>,
    /// Raw or qcow2.
    pub format: DiskFormat,
    /// The file system's label.
    pub label: String,
    /// What the file system's UUID and hash seed are derived from: the
    /// lock's bytes.
    pub seed: Vec<u8>,
}

impl Default for ImageOptions {
    fn default() -> ImageOptions {
        ImageOptions { size_mib: None, format: DiskFormat::Raw, label: "root".to_owned(), seed: Vec::new() }
    }
}

/// Why an image could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The lock has no kernel or no init.
    #[error("the lock cannot boot: it has no {}", .missing.join(" and no "))]
    NotBootable {
        /// What is missing, with an example package.
        missing: Vec<String>,
    },
    /// mke2fs cannot read a tarball.
    #[error("mke2fs {found} cannot build a file system from a tar; e2fsprogs 1.47.1 or later can")]
    OldMke2fs {
        /// The version found.
        found: String,
    },
    /// The size given is too small for the tree.
    #[error("--size {given} MiB is too small for the tree ({needed} MiB of files)")]
    TooSmall {
        /// The size asked for.
        given: u64,
        /// What the files take.
        needed: u64,
    },
    /// Installing the lock failed.
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    /// A program (`mke2fs`, `qemu-img`) failed or could not be started.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A file operation failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl ImageError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ImageError::NotBootable { .. } => {
                "add the packages to the spec's `packages` (e.g. linux-image-cloud-amd64 and systemd-sysv) and lock again".into()
            }
            ImageError::OldMke2fs { .. } => "install e2fsprogs 1.47.1 or later (on Debian 12: from bookworm-backports)".into(),
            ImageError::TooSmall { .. } => "give a larger --size, or leave it out to have it derived from the tree".into(),
            ImageError::Command(CommandError::Spawn { .. }) => "install e2fsprogs (mke2fs) and, for qcow2, qemu-utils".into(),
            ImageError::Rootfs(e) => return e.hint(),
            _ => return None,
        })
    }
}

fn io_error<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> ImageError + 'p {
    move |source| ImageError::Io { action, path: path.to_owned(), source }
}

/// Checks that the lock holds a kernel (`linux-image-*`) and an init.
pub fn check_bootable<'n>(names: impl IntoIterator<Item = &'n str>) -> Result<(), ImageError> {
    let names: Vec<&str> = names.into_iter().collect();
    let mut missing = Vec::new();
    if !names.iter().any(|n| n.starts_with("linux-image-")) {
        missing.push("kernel (e.g. linux-image-cloud-amd64)".to_owned());
    }
    if !names.iter().any(|n| INITS.contains(n)) {
        missing.push(format!("init ({})", INITS.join(", ")));
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ImageError::NotBootable { missing })
}

/// The file system's UUID and directory hash seed, derived from `seed`
/// (the lock's bytes): random-looking, version-4-shaped, and the same on
/// every run.
pub fn filesystem_ids(seed: &[u8]) -> (String, String) {
    let uuid = |purpose: &str| {
        let mut hash = Sha256::new();
        hash.update(b"debclosure image ");
        hash.update(purpose.as_bytes());
        hash.update(seed);
        let mut b: [u8; 16] = hash.finalize()[..16].try_into().expect("SHA256 is 32 bytes");
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    };
    (uuid("uuid"), uuid("hash seed"))
}

/// The size for a tree whose tar takes `tar_bytes`: a quarter more and
/// 256 MiB, rounded up to 64 MiB.
pub fn default_size_mib(tar_bytes: u64) -> u64 {
    let mib = tar_bytes.div_ceil(1 << 20);
    (mib + mib / 4 + 256).div_ceil(64) * 64
}

/// `(major, minor, patch)` from `mke2fs -V`'s first line
/// (`mke2fs 1.47.2 (1-Jan-2025)`).
pub fn parse_mke2fs_version(text: &str) -> Option<(u32, u32, u32)> {
    let version = text.lines().next()?.split_whitespace().nth(1)?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next().flatten().unwrap_or(0)))
}

/// Checks that mke2fs reads tarballs.
pub fn check_mke2fs() -> Result<(), ImageError> {
    let out = Command::new("mke2fs")
        .arg("-V")
        .output()
        .map_err(|source| CommandError::Spawn { program: "mke2fs".into(), source })?;
    let text = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    match parse_mke2fs_version(&text) {
        Some(v) if v >= MKE2FS_TAR => Ok(()),
        _ => Err(ImageError::OldMke2fs { found: text.lines().next().unwrap_or("").trim().to_owned() }),
    }
}

/// Makes the raw image `dest` (which must not exist) of one ext4 file
/// system holding the tar's tree.
pub fn make_filesystem(tar: &Path, dest: &Path, size_mib: u64, epoch: i64, seed: &[u8], label: &str) -> Result<(), ImageError> {
    let (uuid, hash_seed) = filesystem_ids(seed);
    let file = fs::File::create_new(dest).map_err(io_error("create", dest))?;
    file.set_len(size_mib << 20).map_err(io_error("size", dest))?;
    drop(file);
    run(Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-L", label, "-U", &uuid])
        .arg("-E")
        .arg(format!("hash_seed={hash_seed},root_owner=0:0"))
        .arg("-d")
        .arg(tar)
        .arg(dest)
        .env("SOURCE_DATE_EPOCH", epoch.to_string())
        .env("E2FSPROGS_FAKE_TIME", epoch.to_string())
        .env("LC_ALL", "C"))?;
    Ok(())
}

/// What [`build_image`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The image.
    pub image: PathBuf,
    /// The manifest beside it (`IMAGE.manifest`).
    pub manifest: PathBuf,
    /// Its size in MiB.
    pub size_mib: u64,
    /// How many packages are installed.
    pub packages: usize,
}

/// Installs `packages` (the lock, verified) and writes the image to
/// `output`, as the module documentation describes. `rootfs_options` say
/// how to install (its `tar`, `placement` and `manifest` are set here).
pub fn build_image(
    output: &Path,
    packages: &[RootfsPackage],
    rootfs_options: &RootfsOptions,
    options: &ImageOptions,
    tools: &Tools,
    reporter: &dyn RootfsReporter,
    cancel: &AtomicBool,
) -> Result<BuiltImage, ImageError> {
    check_bootable(packages.iter().map(|p| p.name.as_str()))?;
    check_mke2fs()?;
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let work = tempfile::Builder::new()
        .prefix(".debclosure-image-")
        .tempdir_in(&parent)
        .map_err(io_error("create a temporary directory in", &parent))?;
    let tree = work.path().join("tree");
    let tar = work.path().join("tree.tar");
    let manifest = work.path().join("manifest");
    let install = RootfsOptions {
        tar: Some(tar.clone()),
        placement: Placement::Staging,
        manifest: Some(manifest.clone()),
        ..rootfs_options.clone()
    };
    rootfs::build_rootfs(&tree, packages, &install, tools, reporter, cancel).map_err(|Failure { error, .. }| error)?;
    // The tar holds it all; the tree is no longer needed.
    fs::remove_dir_all(&tree).map_err(io_error("remove", &tree))?;

    let tar_bytes = fs::metadata(&tar).map_err(io_error("read", &tar))?.len();
    let needed = tar_bytes.div_ceil(1 << 20);
    let size_mib = match options.size_mib {
        Some(given) if given < needed + needed / 10 + 16 => return Err(ImageError::TooSmall { given, needed }),
        Some(given) => given,
        None => default_size_mib(tar_bytes),
    };
    reporter.step(&format!("making a {size_mib} MiB ext4 file system from the tree"));
    let raw = work.path().join("image.raw");
    make_filesystem(&tar, &raw, size_mib, rootfs_options.source_date_epoch, &options.seed, &options.label)?;
    let image = match options.format {
        DiskFormat::Raw => raw,
        DiskFormat::Qcow2 => {
            reporter.step("converting to qcow2");
            let qcow2 = work.path().join("image.qcow2");
            run(Command::new("qemu-img").args(["convert", "-f", "raw", "-O", "qcow2"]).arg(&raw).arg(&qcow2))?;
            qcow2
        }
    };
    let manifest_dest = rootfs::manifest_path(output);
    fs::rename(&manifest, &manifest_dest).map_err(io_error("write", &manifest_dest))?;
    fs::set_permissions(&image, std::os::unix::fs::PermissionsExt::from_mode(0o644)).map_err(io_error("set the mode of", &image))?;
    fs::rename(&image, output).map_err(io_error("write", output))?;
    Ok(BuiltImage { image: output.to_owned(), manifest: manifest_dest, size_mib, packages: packages.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_without_kernel_or_init_says_what_to_add() {
        check_bootable(["linux-image-cloud-amd64", "systemd-sysv", "dpkg"]).unwrap();
        check_bootable(["linux-image-6.1.0-9-amd64", "sysvinit-core"]).unwrap();
        let err = check_bootable(["dpkg", "bash"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the lock cannot boot: it has no kernel (e.g. linux-image-cloud-amd64) and no init (systemd-sysv, sysvinit-core, runit-init)"
        );
        assert!(err.hint().unwrap().contains("linux-image-cloud-amd64"));
        let err = check_bootable(["linux-image-cloud-amd64"]).unwrap_err();
        assert!(matches!(&err, ImageError::NotBootable { missing } if missing.len() == 1 && missing[0].starts_with("init")), "{err}");
    }

    #[test]
    fn identifiers_are_derived_from_the_lock() {
        let (uuid, seed) = filesystem_ids(b"lock");
        assert_eq!((uuid.clone(), seed.clone()), filesystem_ids(b"lock"));
        assert_ne!(uuid, seed);
        assert_ne!(uuid, filesystem_ids(b"other lock").0);
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4", "version 4 shape: {uuid}");
        assert!("89ab".contains(&uuid[19..20]), "variant: {uuid}");
    }

    #[test]
    fn sizes_leave_room_and_come_in_steps() {
        assert_eq!(default_size_mib(0), 256);
        assert_eq!(default_size_mib(400 << 20), 768);
        assert_eq!(default_size_mib((400 << 20) + 1) % 64, 0);
    }

    #[test]
    fn mke2fs_versions_are_read_from_its_banner() {
        assert_eq!(parse_mke2fs_version("mke2fs 1.47.2 (1-Jan-2025)\n\tUsing EXT2FS Library version 1.47.2\n"), Some((1, 47, 2)));
        assert_eq!(parse_mke2fs_version("mke2fs 1.47.0 (5-Feb-2023)"), Some((1, 47, 0)));
        assert!(parse_mke2fs_version("mke2fs 1.47.0 (5-Feb-2023)").unwrap() < MKE2FS_TAR);
        assert_eq!(parse_mke2fs_version(""), None);
    }
}
