//! Replacing a file in one step: the new content goes to a temporary file in
//! the same directory, which is then renamed over the old name, so a reader
//! (or a run that is killed half-way) sees the old file or the new one,
//! never a part of it. Renaming also replaces a symbolic link at the name
//! rather than writing through it.
//!
//! Used for everything debclosure writes under a name someone relies on:
//! locks and Nix files, rootfs manifests, cache entries, fetched `.deb`
//! files.

use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

/// Temporary files start with this, so that a directory's leftovers from
/// interrupted runs can be told from its real files.
pub const TEMP_PREFIX: &str = ".tmp-";

/// The mode of the new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Readable by the owner only (0600, a temporary file's mode).
    Private,
    /// The mode of the file replaced, or this one when there is none.
    KeepOr(u32),
    /// This mode, whatever the file replaced had.
    Fixed(u32),
}

/// Whether the content reaches the disk before the rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` before the rename: after a crash the name holds the old
    /// content or the whole new one. For files a person keeps (a lock).
    Synced,
    /// No `fsync`: after a crash the name may hold a torn file. Only for
    /// content that is checked on every read (cache entries, by hash).
    Unsynced,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AtomicWriteError {
    /// No temporary file could be created beside the target.
    #[error("cannot create a temporary file in {}", .dir.display())]
    TempFile {
        /// The target's directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Writing, syncing or renaming failed.
    #[error("cannot write {}", .path.display())]
    Write {
        /// The target.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

impl AtomicWriteError {
    /// What the user can do about it: nothing beyond what the message
    /// says (the path and the I/O error).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

impl AtomicWriteError {
    /// The I/O error underneath.
    pub fn into_io(self) -> io::Error {
        match self {
            AtomicWriteError::TempFile { source, .. } | AtomicWriteError::Write { source, .. } => source,
        }
    }
}

/// The directory a relative or absolute `path` is in (`.` for a bare name).
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn temp_in(dir: &Path) -> Result<tempfile::NamedTempFile, AtomicWriteError> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|source| AtomicWriteError::TempFile { dir: dir.to_owned(), source })
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: Mode, durability: Durability) -> Result<(), AtomicWriteError> {
    write_atomically_with(path, mode, durability, |file| file.write_all(bytes))
}

/// Like [`write_atomically`], the content written by `write` to the
/// temporary file (which may seek in it).
pub fn write_atomically_with(
    path: &Path,
    mode: Mode,
    durability: Durability,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), AtomicWriteError> {
    let write_error = |source| AtomicWriteError::Write { path: path.to_owned(), source };
    let mut tmp = temp_in(dir_of(path))?;
    write(tmp.as_file_mut()).map_err(write_error)?;
    let mode = match mode {
        Mode::Private => None,
        Mode::KeepOr(default) => Some(fs::metadata(path).map_or(default, |m| m.permissions().mode())),
        Mode::Fixed(mode) => Some(mode),
    };
    if let Some(mode) = mode {
        tmp.as_file().set_permissions(fs::Permissions::from_mode(mode)).map_err(write_error)?;
    }
    if durability == Durability::Synced {
        tmp.as_file().sync_all().map_err(write_error)?;
    }
    tmp.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}

/// Puts the file `source` at `dest`: a hard link where the file system
/// allows, else a copy, through a temporary name so that `dest` is never
/// partial.
pub fn place_file(source: &Path, dest: &Path) -> Result<(), AtomicWriteError> {
    let write_error = |source| AtomicWriteError::Write { path: dest.to_owned(), source };
    let tmp = temp_in(dir_of(dest))?.into_temp_path();
    // The name is ours (created with O_EXCL); free it for the link.
    fs::remove_file(&tmp).map_err(write_error)?;
    if fs::hard_link(source, &tmp).is_err() {
        fs::copy(source, &tmp).map_err(write_error)?;
    }
    tmp.persist(dest).map_err(|e| write_error(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn writes_replace_whole_files_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        write_atomically(&path, b"one", Mode::KeepOr(0o644), Durability::Synced).unwrap();
        assert_eq!((fs::read(&path).unwrap(), mode_of(&path)), (b"one".to_vec(), 0o644));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&path, b"two", Mode::KeepOr(0o644), Durability::Synced).unwrap();
        assert_eq!((fs::read(&path).unwrap(), mode_of(&path)), (b"two".to_vec(), 0o600), "the mode is kept");
        write_atomically(&path, b"3", Mode::Fixed(0o640), Durability::Unsynced).unwrap();
        assert_eq!(mode_of(&path), 0o640);
        write_atomically(&path, b"4", Mode::Private, Durability::Unsynced).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["out"], "no temporary file is left");
    }

    #[test]
    fn a_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomically(&link, b"new", Mode::Private, Durability::Unsynced).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn placed_files_are_whole_and_errors_name_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        fs::write(&source, b"deb").unwrap();
        let dest = dir.path().join("dest.deb");
        place_file(&source, &dest).unwrap();
        place_file(&source, &dest).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"deb");
        let err = place_file(&dir.path().join("missing"), &dest).unwrap_err();
        assert!(err.to_string().starts_with("cannot write ") && err.to_string().ends_with("dest.deb"), "{err}");
        let err = write_atomically(&dir.path().join("no/such/dir/x"), b"", Mode::Private, Durability::Unsynced).unwrap_err();
        assert!(matches!(err, AtomicWriteError::TempFile { .. }), "{err}");
    }
}
