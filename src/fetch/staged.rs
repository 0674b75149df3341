//! A cache entry written while its content is still being checked.
//!
//! The content goes to a temporary file beside the entry, which becomes the
//! entry only when the caller, having checked the content, calls
//! [`StagedEntry::publish`]; dropped instead, it is removed. Until then no
//! lookup can see it: it has a temporary name (which [`Cache::open`]
//! removes once stale, should the run die), never the entry's. Errors are
//! those [`Cache::put`] gives for the same failures, reported at `publish`,
//! after the caller's own check.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::cache::{ensure_dir, Bucket, Cache, CacheError};
use crate::atomic::TEMP_PREFIX;
use crate::hash::Sha256;

/// The entry with a given SHA256, being written.
pub struct StagedEntry {
    path: PathBuf,
    /// The temporary file, created at the first write; or why it could not
    /// be created or written.
    file: Option<Result<tempfile::NamedTempFile, CacheError>>,
}

impl StagedEntry {
    /// The entry of `cache` with SHA256 `sha256`, in `bucket`; nothing is
    /// created before the first write.
    pub fn new(cache: &Cache, bucket: Bucket, sha256: &Sha256) -> StagedEntry {
        StagedEntry { path: cache.entry_path(bucket, sha256), file: None }
    }

    /// Appends `bytes`. A failure is kept for [`StagedEntry::publish`], and
    /// nothing more is written.
    pub fn write(&mut self, bytes: &[u8]) {
        let path = &self.path;
        let file = self.file.get_or_insert_with(|| temp_beside(path));
        if let Ok(f) = file {
            if let Err(source) = f.write_all(bytes) {
                *file = Err(CacheError::Write { path: path.clone(), source });
            }
        }
    }

    /// Makes what was written the entry, and returns its path. Only for
    /// content the caller has checked.
    pub fn publish(mut self) -> Result<PathBuf, CacheError> {
        let file = self.file.take().unwrap_or_else(|| temp_beside(&self.path))?;
        file.persist(&self.path).map_err(|e| CacheError::Write { path: self.path.clone(), source: e.error })?;
        Ok(self.path)
    }
}

/// A temporary file in the directory of the entry at `path`, which is
/// created if missing.
fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile, CacheError> {
    let dir = path.parent().expect("entry paths have a parent");
    ensure_dir(dir)?;
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|source| CacheError::Write { path: path.to_owned(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use crate::report::Warnings;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    /// A published entry is the entry `Cache::put` would write; one that is
    /// dropped leaves nothing, not even its temporary file.
    #[test]
    fn published_entries_are_whole_and_dropped_ones_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let text = b"Package: a\nVersion: 1\n".repeat(1000);
        let sha = Sha256::of(&text);
        let mut staged = StagedEntry::new(&cache, Bucket::Packages, &sha);
        let fan = cache.entry_path(Bucket::Packages, &sha).parent().unwrap().to_owned();
        assert!(!fan.exists(), "nothing is created before the first write");
        for piece in text.chunks(777) {
            staged.write(piece);
        }
        assert_eq!(names(&fan).len(), 1);
        assert!(names(&fan)[0].starts_with(TEMP_PREFIX), "{:?}", names(&fan));
        assert!(cache.get(Bucket::Packages, &sha, &Warnings::default()).is_none(), "not an entry before it is published");
        let path = staged.publish().unwrap();
        assert_eq!(path, cache.entry_path(Bucket::Packages, &sha));
        assert_eq!(cache.get(Bucket::Packages, &sha, &Warnings::default()).unwrap(), text);
        assert_eq!(names(&fan), [sha.to_string()]);

        let other = Sha256::of(b"other");
        let mut dropped = StagedEntry::new(&cache, Bucket::Packages, &other);
        dropped.write(b"other");
        let other_fan = cache.entry_path(Bucket::Packages, &other).parent().unwrap().to_owned();
        assert_eq!(names(&other_fan).len(), 1);
        drop(dropped);
        assert!(names(&other_fan).is_empty(), "{:?}", names(&other_fan));

        let empty = Sha256::of(b"");
        let path = StagedEntry::new(&cache, Bucket::Packages, &empty).publish().unwrap();
        assert_eq!(fs::read(path).unwrap(), b"");
    }

    /// Failures are those of `Cache::put`, at `publish`.
    #[test]
    fn failures_are_the_caches_own() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let text = b"Package: a\n";
        let sha = Sha256::of(text);
        let fan = cache.entry_path(Bucket::Packages, &sha).parent().unwrap().to_owned();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &fan).unwrap();
        let mut staged = StagedEntry::new(&cache, Bucket::Packages, &sha);
        staged.write(text);
        let err = staged.publish().unwrap_err();
        let put = cache.put(Bucket::Packages, &sha, text).unwrap_err();
        assert!(matches!(err, CacheError::NotADirectory { .. }), "{err}");
        assert_eq!(err.to_string(), put.to_string());
        assert!(names(&elsewhere).is_empty(), "the link was not followed");
    }
}
