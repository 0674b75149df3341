//! The download cache: a directory of files that can be deleted at any time.
//!
//! ```text
//! <root>/CACHEDIR.TAG              marks the tree for backup tools to skip
//! <root>/release-v1/ab/<sha256(key)>       Release or InRelease body
//! <root>/release-v1/ab/<sha256(key)>.json  its key, SHA256, ETag, Last-Modified
//! <root>/packages-v1/cd/<sha256>           a Packages file, named by its hash
//! <root>/compact-v1/gh/<sha256(key)>       what is derived from one: a compact index
//! <root>/debs-v1/ef/<sha256>               a .deb, named by its hash
//! ```
//!
//! The two characters after the bucket are the first two of the file name,
//! to keep directories small. Bucket names carry a layout version, so a
//! future layout starts from empty buckets instead of misreading these.
//!
//! Entries are written to a temporary file in the same directory (not
//! synced: every read re-checks the hash), then renamed into place, so concurrent runs and interrupted ones never
//! leave a partial entry under a real name; leftover temporary files are
//! removed once they are an hour old. Every read re-checks the SHA256. A
//! corrupt entry is reported through [`Reporter::warning`], removed and
//! treated as missing, so the caller downloads it again. A symbolic link
//! where an entry or a fan-out directory should be counts as corrupt and is
//! never followed.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::http::{error_chain, Validators};
use crate::atomic::{self, Durability, Mode, TEMP_PREFIX};
use crate::hash::Sha256;
use crate::mapped::Bytes;
use crate::report::Reporter;

/// A kind of cached content, each in its own directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Release and InRelease files, keyed by a caller-given string.
    Release,
    /// Packages indices, keyed by SHA256.
    Packages,
    /// Binary packages, keyed by SHA256.
    Debs,
    /// Compact indices, derived from Packages indices and keyed by the
    /// SHA256 of a caller-given key; they check themselves.
    Compact,
}

impl Bucket {
    /// Every bucket.
    pub const ALL: [Bucket; 4] = [Bucket::Release, Bucket::Packages, Bucket::Debs, Bucket::Compact];

    /// The directory name, including the layout version.
    pub fn dir_name(self) -> &'static str {
        match self {
            Bucket::Release => "release-v1",
            Bucket::Packages => "packages-v1",
            Bucket::Debs => "debs-v1",
            Bucket::Compact => "compact-v1",
        }
    }
}

/// Why the cache could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// Neither `XDG_CACHE_HOME` nor `HOME` names a directory.
    #[error("no cache directory: neither XDG_CACHE_HOME nor HOME is set to an absolute path")]
    NoCacheDir,
    /// A directory could not be created or examined.
    #[error("cannot create cache directory {}", .path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Something other than a directory is where a directory should be.
    #[error("refusing to use {}: it is not a directory (a symbolic link or a file)", .path.display())]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// An entry could not be written.
    #[error("cannot write cache entry {}", .path.display())]
    Write {
        /// The entry.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The content to store does not have the hash it is stored under.
    #[error("refusing to cache content as {expected}: its sha256 is {actual}")]
    HashMismatch {
        /// The key it was to be stored under.
        expected: Sha256,
        /// Its real SHA256.
        actual: Sha256,
    },
}

impl CacheError {
    /// What the user can do about it: nothing beyond what the message
    /// says (the path and the I/O error).
    pub fn hint(&self) -> Option<String> {
        None
    }
}


/// Older temporary files belong to runs that died; younger ones may belong to
/// a run that is writing right now.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// The cache directory tag, as the Cache Directory Tagging Specification
/// describes it: the signature line is what backup tools look for.
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
    # This file is a cache directory tag created by debclosure.\n\
    # For information about cache directory tags, see the Cache Directory Tagging Specification.\n";

/// The sidecar of a key-addressed entry.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Sidecar {
    /// The key, so that a lookup can tell its entry from another's.
    key: String,
    /// SHA256 of the body.
    sha256: Sha256,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// An open cache directory. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Opens the cache at `dir`, creating it, its `CACHEDIR.TAG` and its
    /// buckets as needed, and removes stale temporary files.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = dir.into();
        fs::create_dir_all(&root).map_err(|source| CacheError::CreateDir { path: root.clone(), source })?;
        let cache = Cache { root };
        cache.write_tag()?;
        for bucket in Bucket::ALL {
            ensure_dir(&cache.bucket_dir(bucket))?;
        }
        cache.clean_temp(STALE_TEMP_AGE);
        Ok(cache)
    }

    /// `$XDG_CACHE_HOME/debclosure`, or `$HOME/.cache/debclosure`.
    pub fn default_dir() -> Result<PathBuf, CacheError> {
        default_dir_from(std::env::var_os("XDG_CACHE_HOME"), std::env::var_os("HOME"))
    }

    /// The cache's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of `bucket`.
    pub fn bucket_dir(&self, bucket: Bucket) -> PathBuf {
        self.root.join(bucket.dir_name())
    }

    /// Where the entry with SHA256 `sha256` lives, whether or not it exists.
    pub fn entry_path(&self, bucket: Bucket, sha256: &Sha256) -> PathBuf {
        self.path_of(bucket, sha256)
    }

    /// Where the entry stored under `key` (not content-addressed: a URL
    /// body or a derived entry) is, named by the key's SHA256.
    pub fn key_path(&self, bucket: Bucket, key: &str) -> PathBuf {
        self.path_of(bucket, &Sha256::of(key.as_bytes()))
    }

    /// Entries are named by a SHA256 (of their content, or of their key), so
    /// a name never holds a `/` or `..`.
    fn path_of(&self, bucket: Bucket, name: &Sha256) -> PathBuf {
        let name = name.to_string();
        self.bucket_dir(bucket).join(&name[..2]).join(name)
    }

    /// The content with SHA256 `sha256`, if cached and intact.
    pub fn get(&self, bucket: Bucket, sha256: &Sha256, reporter: &dyn Reporter) -> Option<Vec<u8>> {
        let path = self.path_of(bucket, sha256);
        let bytes = read_entry(&path, reporter)?;
        let actual = Sha256::of(&bytes);
        if actual != *sha256 {
            discard(&path, &format!("its sha256 is {actual}"), reporter);
            return None;
        }
        Some(bytes)
    }

    /// Like [`Cache::get`], but only checks the entry and returns its path.
    ///
    /// The path stays valid until something else removes the entry; another
    /// debclosure run would only replace it with the same bytes.
    pub fn get_path(&self, bucket: Bucket, sha256: &Sha256, reporter: &dyn Reporter) -> Option<PathBuf> {
        let path = self.path_of(bucket, sha256);
        let file = open_entry(&path, reporter)?;
        let actual = match Sha256::of_reader(file) {
            Ok(actual) => actual,
            Err(e) => {
                reporter.warning(&format!("cannot read cache entry {}: {}", path.display(), error_chain(&e)));
                return None;
            }
        };
        if actual != *sha256 {
            discard(&path, &format!("its sha256 is {actual}"), reporter);
            return None;
        }
        Some(path)
    }

    /// Stores `bytes` as the entry with SHA256 `sha256`, after checking that
    /// this is their hash, and returns the entry's path.
    pub fn put(&self, bucket: Bucket, sha256: &Sha256, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let actual = Sha256::of(bytes);
        if actual != *sha256 {
            return Err(CacheError::HashMismatch { expected: *sha256, actual });
        }
        let path = self.path_of(bucket, sha256);
        ensure_dir(path.parent().expect("entry paths have a parent"))?;
        write_atomically(&path, bytes)?;
        Ok(path)
    }

    /// The entry stored under `key` by [`Cache::put_derived`], mapped into
    /// memory and unchecked: the caller checks it, and
    /// [`Cache::discard_derived`]s it if corrupt.
    pub fn get_derived(&self, bucket: Bucket, key: &str, reporter: &dyn Reporter) -> Option<Bytes> {
        let path = self.key_path(bucket, key);
        let file = open_entry(&path, reporter)?;
        match Bytes::map_cache_entry(&file) {
            Ok(bytes) => Some(bytes),
            Err(e) => missing_or_warn(&path, e, reporter),
        }
    }

    /// Stores content derived from other entries that checks itself (a
    /// compact index) under `key`, as `write` writes it (it may seek) to
    /// the temporary file that then takes the entry's place.
    pub fn put_derived(
        &self,
        bucket: Bucket,
        key: &str,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<(), CacheError> {
        let path = self.key_path(bucket, key);
        ensure_dir(path.parent().expect("entry paths have a parent"))?;
        write_atomically_with(&path, write)
    }

    /// Removes the entry under `key` that [`Cache::get_derived`] returned
    /// and its caller found corrupt, and says so.
    pub fn discard_derived(&self, bucket: Bucket, key: &str, why: &str, reporter: &dyn Reporter) {
        let path = self.key_path(bucket, key);
        reporter.warning(&format!("corrupt cache entry {} ({why}); {}, will rebuild it", path.display(), remove(&path)));
    }

    /// The body and validators stored under `key`, if intact.
    ///
    /// `key` names the resource independently of the mirror (the archive path
    /// of an InRelease file, say), so a change of mirror keeps the entry.
    pub fn get_url(&self, bucket: Bucket, key: &str, reporter: &dyn Reporter) -> Option<(Vec<u8>, Validators)> {
        let body_path = self.key_path(bucket, key);
        let sidecar_path = sidecar_path(&body_path);
        let mut sidecar = read_sidecar(&sidecar_path, key, reporter)?;
        let body = read_entry(&body_path, reporter)?;
        let actual = Sha256::of(&body);
        if actual != sidecar.sha256 {
            // Another run may have replaced the body and not yet the
            // sidecar, or both between our two reads: look once more.
            sidecar = read_sidecar(&sidecar_path, key, reporter)?;
            if actual != sidecar.sha256 {
                let why = format!("its sha256 is {actual}, its sidecar says {}", sidecar.sha256);
                discard(&body_path, &why, reporter);
                let _ = fs::remove_file(&sidecar_path);
                return None;
            }
        }
        Some((body, Validators { etag: sidecar.etag, last_modified: sidecar.last_modified }))
    }

    /// Stores `bytes` and `validators` under `key` (see [`Cache::get_url`]).
    pub fn put_url(&self, bucket: Bucket, key: &str, bytes: &[u8], validators: &Validators) -> Result<(), CacheError> {
        let body_path = self.key_path(bucket, key);
        let sidecar = Sidecar {
            key: key.to_owned(),
            sha256: Sha256::of(bytes),
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
        };
        let json = serde_json::to_vec_pretty(&sidecar).expect("a struct of strings serializes");
        ensure_dir(body_path.parent().expect("entry paths have a parent"))?;
        // Body first: a reader that sees the new sidecar then finds its body.
        write_atomically(&body_path, bytes)?;
        write_atomically(&sidecar_path(&body_path), &json)
    }

    /// Removes temporary files older than `max_age` that interrupted runs
    /// left behind, and returns how many. Best effort: errors are ignored.
    pub fn clean_temp(&self, max_age: Duration) -> usize {
        let now = SystemTime::now();
        let mut removed = 0;
        for bucket in Bucket::ALL {
            let Ok(fans) = fs::read_dir(self.bucket_dir(bucket)) else {
                continue;
            };
            for fan in fans.flatten() {
                // DirEntry::file_type does not follow symbolic links.
                if !fan.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                removed += clean_dir_temp(&fan.path(), now, max_age);
            }
        }
        removed
    }

    fn write_tag(&self) -> Result<(), CacheError> {
        let path = self.root.join("CACHEDIR.TAG");
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => Ok(()),
            // Missing, or something odd in its place (renaming replaces a
            // link instead of writing through it).
            _ => write_atomically(&path, CACHEDIR_TAG.as_bytes()),
        }
    }
}

fn default_dir_from(
    xdg_cache_home: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Result<PathBuf, CacheError> {
    // The XDG base directory specification says relative paths are invalid
    // and are to be ignored.
    let absolute = |v: Option<std::ffi::OsString>| v.map(PathBuf::from).filter(|p| p.is_absolute());
    if let Some(dir) = absolute(xdg_cache_home) {
        return Ok(dir.join("debclosure"));
    }
    absolute(home).map(|home| home.join(".cache").join("debclosure")).ok_or(CacheError::NoCacheDir)
}

fn sidecar_path(body_path: &Path) -> PathBuf {
    let mut name = body_path.file_name().expect("entry paths end in a name").to_owned();
    name.push(".json");
    body_path.with_file_name(name)
}

/// Creates `dir` unless it exists as a real directory; a symbolic link is
/// refused rather than followed.
pub(super) fn ensure_dir(dir: &Path) -> Result<(), CacheError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(CacheError::NotADirectory { path: dir.to_owned() }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(dir) {
            Ok(()) => Ok(()),
            // Another run created it first.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => ensure_dir_exists_now(dir),
            Err(source) => Err(CacheError::CreateDir { path: dir.to_owned(), source }),
        },
        Err(source) => Err(CacheError::CreateDir { path: dir.to_owned(), source }),
    }
}

fn ensure_dir_exists_now(dir: &Path) -> Result<(), CacheError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(CacheError::NotADirectory { path: dir.to_owned() }),
        Err(source) => Err(CacheError::CreateDir { path: dir.to_owned(), source }),
    }
}

/// Writes an entry (see [`atomic::write_atomically`]), private to the
/// user, then removes stale temporary files beside it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

fn write_atomically_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), CacheError> {
    // No fsync: every read re-checks an entry's hash, so an entry torn by a
    // crash is discarded and fetched again. Syncing a 50 MB index costs
    // about a third of a cold run.
    atomic::write_atomically_with(path, Mode::Private, Durability::Unsynced, write)
        .map_err(|e| CacheError::Write { path: path.to_owned(), source: e.into_io() })?;
    clean_dir_temp(path.parent().expect("entry paths have a parent"), SystemTime::now(), STALE_TEMP_AGE);
    Ok(())
}

fn clean_dir_temp(dir: &Path, now: SystemTime, max_age: Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= max_age));
        if old && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Opens the regular file at `path` without following symbolic links: the
/// fan-out directory and the entry are checked with `lstat`, and the opened
/// file must be the very file that was checked. A link is discarded with a
/// warning; a missing entry is simply `None`.
fn open_entry(path: &Path, reporter: &dyn Reporter) -> Option<File> {
    let dir = path.parent().expect("entry paths have a parent");
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            discard(dir, "it is not a directory", reporter);
            return None;
        }
        Err(e) => return missing_or_warn(path, e, reporter),
    }
    let checked = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return missing_or_warn(path, e, reporter),
    };
    if checked.file_type().is_symlink() {
        discard(path, "it is a symbolic link", reporter);
        return None;
    }
    if !checked.is_file() {
        reporter.warning(&format!("ignoring cache entry {}: it is not a regular file", path.display()));
        return None;
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return missing_or_warn(path, e, reporter),
    };
    let opened = file.metadata().ok()?;
    // A different file means the entry was replaced in between, by another
    // run's rename or by someone planting a link; either way, not this one.
    (opened.dev() == checked.dev() && opened.ino() == checked.ino()).then_some(file)
}

fn read_entry(path: &Path, reporter: &dyn Reporter) -> Option<Vec<u8>> {
    let mut file = open_entry(path, reporter)?;
    let mut bytes = Vec::new();
    match file.read_to_end(&mut bytes) {
        Ok(_) => Some(bytes),
        Err(e) => missing_or_warn(path, e, reporter),
    }
}

fn read_sidecar(path: &Path, key: &str, reporter: &dyn Reporter) -> Option<Sidecar> {
    let json = read_entry(path, reporter)?;
    match serde_json::from_slice::<Sidecar>(&json) {
        Ok(sidecar) if sidecar.key == key => Some(sidecar),
        Ok(_) => {
            discard(path, "it belongs to another key", reporter);
            None
        }
        Err(e) => {
            discard(path, &format!("it is not valid JSON ({e})"), reporter);
            None
        }
    }
}

fn missing_or_warn<T>(path: &Path, e: io::Error, reporter: &dyn Reporter) -> Option<T> {
    if e.kind() != io::ErrorKind::NotFound {
        reporter.warning(&format!("cannot read cache entry {}: {}", path.display(), error_chain(&e)));
    }
    None
}

/// Removes a corrupt entry (or a link in its place) and says so.
fn discard(path: &Path, why: &str, reporter: &dyn Reporter) {
    reporter.warning(&format!("corrupt cache entry {} ({why}); {}, will download again", path.display(), remove(path)));
}

/// Removes an entry; says what became of it.
fn remove(path: &Path) -> String {
    match fs::remove_file(path) {
        Ok(()) => "removed it".to_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => "already gone".to_owned(),
        Err(e) => format!("cannot remove it: {}", error_chain(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Warnings;

    #[test]
    fn open_creates_layout_and_tag() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("nested/cache");
        let cache = Cache::open(&root).unwrap();
        assert_eq!(cache.root(), root);
        let tag = fs::read_to_string(root.join("CACHEDIR.TAG")).unwrap();
        assert!(tag.starts_with("Signature: 8a477f597d28d172789f06886806bc55"), "{tag}");
        for name in ["release-v1", "packages-v1", "debs-v1"] {
            assert!(root.join(name).is_dir(), "{name}");
        }
        // Opening again keeps what is there.
        let sha = Sha256::of(b"x");
        cache.put(Bucket::Debs, &sha, b"x").unwrap();
        let again = Cache::open(&root).unwrap();
        assert_eq!(again.get(Bucket::Debs, &sha, &crate::report::NoReporter).unwrap(), b"x");
    }

    #[test]
    fn bucket_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        let root = dir.path().join("cache");
        fs::create_dir(&root).unwrap();
        std::os::unix::fs::symlink(&elsewhere, root.join("debs-v1")).unwrap();
        let err = Cache::open(&root).unwrap_err();
        assert!(matches!(&err, CacheError::NotADirectory { path } if path.ends_with("debs-v1")), "{err}");
    }

    /// Issue 8: links planted where entries, sidecars, fan-out directories
    /// or the tag should be are never followed, for reading or writing; the
    /// files they point at stay as they were.
    #[test]
    fn planted_links_are_not_followed() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path().join("cache")).unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let secret = outside.join("secret");
        fs::write(&secret, b"good").unwrap();
        let sha = Sha256::of(b"good");
        let warnings = Warnings::default();

        // An entry that is a link to a file with the right content.
        let entry = cache.entry_path(Bucket::Debs, &sha);
        fs::create_dir_all(entry.parent().unwrap()).unwrap();
        symlink(&secret, &entry).unwrap();
        assert!(cache.get(Bucket::Debs, &sha, &warnings).is_none());
        assert!(cache.get_path(Bucket::Debs, &sha, &warnings).is_none());
        let w = warnings.take();
        assert!(w.iter().any(|w| w.contains("symbolic link")), "{w:?}");
        assert!(fs::symlink_metadata(&entry).is_err(), "the link is removed");
        assert_eq!(fs::read(&secret).unwrap(), b"good", "the target is untouched");

        // A fan-out directory that is a link elsewhere: not read, not written.
        let fan = cache.entry_path(Bucket::Packages, &sha).parent().unwrap().to_owned();
        symlink(&outside, &fan).unwrap();
        fs::copy(&secret, outside.join(sha.to_string())).unwrap();
        let err = cache.put(Bucket::Packages, &sha, b"good").unwrap_err();
        assert!(matches!(err, CacheError::NotADirectory { .. }), "{err}");
        assert!(cache.get(Bucket::Packages, &sha, &warnings).is_none());
        assert!(fs::symlink_metadata(&fan).is_err(), "reading removes the link");
        cache.put(Bucket::Packages, &sha, b"good").unwrap();
        assert!(fs::symlink_metadata(&fan).unwrap().is_dir());
        let listed: Vec<_> = fs::read_dir(&outside).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(listed.len(), 2, "something was written through the link: {listed:?}");
        warnings.take();

        // A FIFO where an entry should be: not opened (which would block).
        let fifo_sha = Sha256::of(b"fifo");
        let fifo = cache.entry_path(Bucket::Debs, &fifo_sha);
        fs::create_dir_all(fifo.parent().unwrap()).unwrap();
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(cache.get(Bucket::Debs, &fifo_sha, &warnings).is_none());
        assert!(cache.get_path(Bucket::Debs, &fifo_sha, &warnings).is_none());
        assert!(warnings.take().iter().all(|w| w.contains("not a regular file")));

        // Release entries: a linked body or sidecar is not read.
        let key = "debian/dists/bookworm/InRelease";
        let validators = Validators::default();
        cache.put_url(Bucket::Release, key, b"body", &validators).unwrap();
        let body = cache.key_path(Bucket::Release, key);
        fs::remove_file(&body).unwrap();
        symlink(&secret, &body).unwrap();
        assert!(cache.get_url(Bucket::Release, key, &warnings).is_none());
        assert_eq!(fs::read(&secret).unwrap(), b"good");
        cache.put_url(Bucket::Release, key, b"body", &validators).unwrap();
        assert!(!fs::symlink_metadata(&body).unwrap().file_type().is_symlink(), "the write replaced the link");
        assert_eq!(fs::read(&secret).unwrap(), b"good", "the write did not go through the link");

        // A linked tag is replaced, not written through.
        let tag = cache.root().join("CACHEDIR.TAG");
        fs::remove_file(&tag).unwrap();
        symlink(&secret, &tag).unwrap();
        Cache::open(cache.root()).unwrap();
        assert!(fs::symlink_metadata(&tag).unwrap().is_file());
        assert_eq!(fs::read(&secret).unwrap(), b"good");
    }

    #[test]
    fn default_dir_follows_xdg() {
        let dir = |x: Option<&str>, h: Option<&str>| default_dir_from(x.map(Into::into), h.map(Into::into)).ok();
        assert_eq!(dir(Some("/x/cache"), Some("/home/u")), Some(PathBuf::from("/x/cache/debclosure")));
        assert_eq!(dir(Some("relative"), Some("/home/u")), Some(PathBuf::from("/home/u/.cache/debclosure")));
        assert_eq!(dir(None, Some("/home/u")), Some(PathBuf::from("/home/u/.cache/debclosure")));
        assert_eq!(dir(None, None), None);
    }

    #[test]
    fn content_must_have_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let path = cache.put(Bucket::Debs, &Sha256::of(b"x"), b"x").unwrap();
        let name = Sha256::of(b"x").to_string();
        assert_eq!(path, cache.bucket_dir(Bucket::Debs).join(&name[..2]).join(&name));
        let err = cache.put(Bucket::Debs, &Sha256::of(b"y"), b"x").unwrap_err();
        assert!(matches!(err, CacheError::HashMismatch { .. }), "{err}");
        assert!(!cache.entry_path(Bucket::Debs, &Sha256::of(b"y")).exists(), "nothing written");
    }

    #[test]
    fn corrupt_entry_is_reported_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let sha = Sha256::of(b"good");
        let path = cache.put(Bucket::Packages, &sha, b"good").unwrap();
        fs::write(&path, b"evil").unwrap();
        let warnings = Warnings::default();
        assert!(cache.get_path(Bucket::Packages, &sha, &warnings).is_none());
        let w = warnings.take();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains(&Sha256::of(b"evil").to_string()), "{w:?}");
        assert!(!path.exists());
        assert!(cache.get(Bucket::Packages, &sha, &warnings).is_none());
        assert!(warnings.take().is_empty(), "a missing entry is no warning");
    }

    #[test]
    fn stale_temp_files_are_cleaned_young_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let fan = cache.bucket_dir(Bucket::Debs).join("ab");
        fs::create_dir(&fan).unwrap();
        fs::write(fan.join(".tmp-young"), b"partial").unwrap();
        assert_eq!(cache.clean_temp(STALE_TEMP_AGE), 0);
        assert_eq!(cache.clean_temp(Duration::ZERO), 1);
        assert!(!fan.join(".tmp-young").exists());
    }

    #[test]
    fn url_entries_round_trip_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let key = "debian/dists/bookworm/InRelease";
        let validators = Validators { etag: Some("\"abc\"".into()), last_modified: None };
        assert!(cache.get_url(Bucket::Release, key, &crate::report::NoReporter).is_none());
        cache.put_url(Bucket::Release, key, b"body", &validators).unwrap();
        let (body, got) = cache.get_url(Bucket::Release, key, &crate::report::NoReporter).unwrap();
        assert_eq!((body.as_slice(), &got), (&b"body"[..], &validators));
        assert!(cache.get_url(Bucket::Release, "other/key", &crate::report::NoReporter).is_none());

        let body_path = cache.key_path(Bucket::Release, key);
        fs::write(&body_path, b"tampered").unwrap();
        let warnings = Warnings::default();
        assert!(cache.get_url(Bucket::Release, key, &warnings).is_none());
        assert_eq!(warnings.take().len(), 1);
        assert!(!body_path.exists() && !sidecar_path(&body_path).exists());
    }
}
