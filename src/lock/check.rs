//! `check`: re-resolve a lock's request from the very indices it pins and
//! compare the result, and the request a spec stands for, with the lock.
//!
//! Pinned files are trusted by their hashes alone: no Release file is read,
//! so the answer does not depend on the clock or on the archive having moved
//! on.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::archive::{cached_compact, compact_content, fetch_index_file, ByHash, IndexRecord};
use crate::decompress::{self, DecompressError};
use crate::diff::{diff_closures, diff_requests, diff_signers, LockDiff, RequestChange};
use crate::fetch::{Bucket, Cache, CacheError, FetchError, Fetcher};
use crate::hash::Sha256;
use crate::index::{Index, IndexContent, IndexSource};
use crate::report::Reporter;
use crate::resolve::resolve_closure;
use crate::sources::{LocateError, Locator};
use crate::url::redact_url;

use super::{LockFile, LockingError, Request};

/// Why a pinned index could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PinnedError {
    /// A local file could not be read.
    #[error("cannot read {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A local file, or a decompressed one, is larger than allowed.
    #[error("{label}: more than the limit of {limit} bytes (DEBCLOSURE_MAX_INDEX_SIZE)")]
    TooLarge {
        /// The file or index.
        label: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file named by a pinned hash in `--index-dir` has another hash.
    #[error("{}: does not have the pinned SHA256 {sha256}", .path.display())]
    WrongFile {
        /// The file.
        path: PathBuf,
        /// The hash it is named by.
        sha256: Sha256,
    },
    /// The file has the pinned hash, but not the pinned content.
    #[error("{label}: decompressed content does not match the lock's content_sha256")]
    ContentMismatch {
        /// The index.
        label: String,
    },
    /// An uncompressed index that is not text.
    #[error("{label}: not UTF-8")]
    NotText {
        /// The index.
        label: String,
    },
    /// It does not decompress.
    #[error(transparent)]
    Decompress(#[from] DecompressError),
    /// Offline, and in none of the places tried.
    #[error("pinned index {label} ({sha256}) is not available offline")]
    Offline {
        /// The index.
        label: String,
        /// Its pinned SHA256.
        sha256: Sha256,
    },
    /// Not found locally, and nothing says where to download it from.
    #[error("pinned index {label} ({sha256}) is not in the cache, and there is no mirror to download it from")]
    Nowhere {
        /// The index.
        label: String,
        /// Its pinned SHA256.
        sha256: Sha256,
        /// Why no mirror is known.
        #[source]
        source: LocateError,
    },
    /// The download failed or did not match the pinned hash.
    #[error("cannot fetch the pinned index {label} from {base}")]
    Fetch {
        /// The index.
        label: String,
        /// The archive's base URL, redacted.
        base: String,
        /// What went wrong (boxed: a [`FetchError`] is large, and this
        /// error is returned often).
        #[source]
        source: Box<FetchError>,
    },
    /// The cache could not be written.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl PinnedError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            PinnedError::Offline { .. } => {
                Some("pass --index-dir DIR or --packages-file FILE, or run without --offline".into())
            }
            PinnedError::Nowhere { source, .. } => source.hint(),
            PinnedError::Fetch { source, .. } => source.hint(),
            PinnedError::TooLarge { .. } => Some("raise DEBCLOSURE_MAX_INDEX_SIZE if the index is genuine".into()),
            _ => None,
        }
    }
}

/// Where the indices a lock pins may be found, tried in this order: the
/// `index_dir`, the `files`, the cache, then a download. Each is checked
/// against the lock's hashes.
#[derive(Debug, Default)]
pub struct PinnedIndices {
    /// A directory of index files named by their SHA256 as downloaded
    /// (`--index-dir`).
    pub index_dir: Option<PathBuf>,
    /// Index files as downloaded or decompressed (`--packages-file`), read
    /// with [`read_bounded`].
    pub files: Vec<Vec<u8>>,
    /// The cache, holding decompressed indices by their content hash.
    pub cache: Option<Cache>,
    /// Where to download from; `None` makes no request (`--offline`).
    pub locator: Option<Locator>,
    /// The largest index accepted, compressed or not, in bytes.
    pub max_index_size: u64,
}

/// Reads a local index file, at most `limit` bytes of it.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, PinnedError> {
    let read = |source| PinnedError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > limit {
        return Err(PinnedError::TooLarge { label: path.display().to_string(), limit });
    }
    Ok(bytes)
}

impl PinnedIndices {
    /// The text of `record` if `bytes` are its file, as downloaded or
    /// decompressed; `None` if they are another file.
    fn text_of(&self, record: &IndexRecord, label: &str, bytes: &[u8]) -> Result<Option<String>, PinnedError> {
        let limit = self.max_index_size;
        let hash = Sha256::of(bytes);
        if hash == record.sha256 {
            let text = decompress::decompress_text(bytes, label, limit)?;
            if Sha256::of(text.as_bytes()) != record.content_sha256 {
                return Err(PinnedError::ContentMismatch { label: label.to_owned() });
            }
            return Ok(Some(text));
        }
        if hash == record.content_sha256 {
            if bytes.len() as u64 > limit {
                return Err(PinnedError::TooLarge { label: label.to_owned(), limit });
            }
            let text = String::from_utf8(bytes.to_vec()).map_err(|_| PinnedError::NotText { label: label.to_owned() })?;
            return Ok(Some(text));
        }
        Ok(None)
    }

    /// The index `record` of a lock of `request`: its compact form from the
    /// cache, else its text, which is then stored in compact form when there
    /// is a cache.
    async fn content(
        &self,
        request: &Request,
        record: &IndexRecord,
        fetcher: &Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<IndexContent, PinnedError> {
        let text = self.text(request, record, fetcher, reporter).await?;
        Ok(match (text, &self.cache) {
            (Text::Compact(compact), _) => IndexContent::Compact(compact),
            (Text::Text(text), Some(cache)) => {
                let label = format!("{}/{}", record.archive, record.path);
                compact_content(cache, &record.content_sha256, &request.architecture, &label, text, reporter)
            }
            (Text::Text(text), None) => IndexContent::Text(text),
        })
    }

    async fn text(
        &self,
        request: &Request,
        record: &IndexRecord,
        fetcher: &Fetcher,
        reporter: &dyn Reporter,
    ) -> Result<Text, PinnedError> {
        let label = format!("{}/{}", record.archive, record.path);
        if let Some(dir) = &self.index_dir {
            let path = dir.join(record.sha256.to_string());
            if path.is_file() {
                let bytes = read_bounded(&path, self.max_index_size)?;
                let text = self.text_of(record, &label, &bytes)?;
                return text.map(Text::Text).ok_or(PinnedError::WrongFile { path, sha256: record.sha256 });
            }
        }
        for bytes in &self.files {
            if let Some(text) = self.text_of(record, &label, bytes)? {
                return Ok(Text::Text(text));
            }
        }
        if let Some(cache) = &self.cache {
            if let Some(compact) = cached_compact(cache, &record.content_sha256, &request.architecture, reporter) {
                return Ok(Text::Compact(compact));
            }
            if let Some(bytes) = cache.get(Bucket::Packages, &record.content_sha256, reporter) {
                return Ok(Text::Text(decompress::bytes_to_text(bytes, &label, self.max_index_size)?));
            }
        }
        let Some(locator) = &self.locator else {
            return Err(PinnedError::Offline { label, sha256: record.sha256 });
        };
        let base = match locator.archive_uri(&record.archive, request.distribution.main_archive(), request.snapshot_ref()) {
            Ok(base) => base,
            Err(source) => return Err(PinnedError::Nowhere { label, sha256: record.sha256, source }),
        };
        let bytes = fetch_index_file(fetcher, &base, &record.path, record.size, &record.sha256, ByHash::First, None, reporter)
            .await
            .map_err(|source| PinnedError::Fetch { label: label.clone(), base: redact_url(&base), source: source.into() })?;
        let text = self.text_of(record, &label, &bytes)?.expect("the bytes were verified against the pinned hash");
        if let Some(cache) = &self.cache {
            cache.put(Bucket::Packages, &record.content_sha256, text.as_bytes())?;
        }
        Ok(Text::Text(text))
    }
}

/// A pinned index as found: its text, or its compact form from the cache.
enum Text {
    Text(String),
    Compact(crate::index::CompactIndex),
}

/// Re-resolves the request of `lock` from the indices it pins (found through
/// `pinned`) and returns what differs: the closure and choices, a request
/// edited after locking, and, given `wanted` (the request a spec stands for,
/// see [`crate::spec::Spec::request_for_lock`]), the request itself.
pub async fn check(
    lock: &LockFile,
    wanted: Option<&Request>,
    pinned: &PinnedIndices,
    fetcher: &Fetcher,
    reporter: &dyn Reporter,
) -> Result<LockDiff, LockingError> {
    let mut diff = LockDiff::default();
    if lock.request.digest() != lock.request_sha256 {
        diff.request.push(RequestChange::Note {
            field: "request_sha256".into(),
            note: "the request was edited after the lock was written".into(),
        });
    }
    if let Some(wanted) = wanted {
        diff.request.extend(diff_requests(&lock.request, wanted));
    }
    let mut sources = Vec::new();
    for record in &lock.indices {
        sources.push(IndexSource {
            label: format!("{}/{}", record.archive, record.path),
            archive: Some(record.archive.clone()),
            suite: Some(record.suite.clone()),
            automatic: record.automatic,
            content: pinned.content(&lock.request, record, fetcher, reporter).await?,
        });
    }
    let index = Index::build(&sources, &lock.request.architecture)?;
    let closure = resolve_closure(&index, &lock.request.requested()?, &lock.request.options())?;
    diff_closures(&mut diff, &lock.packages, &closure.packages, &lock.choices, &closure.choices);
    if lock.assumed != closure.assumed {
        let note = "the packages assumed present (excluded, but depended on) differ".into();
        diff.request.push(RequestChange::Note { field: "assumed".into(), note });
    }
    Ok(diff)
}

/// The indices `lock` pins, as the cache holds them (decompressed, by their
/// content hash), with no download; `None` when one of them is not there or
/// does not read. For answers that are worth more with the indices but do
/// not need them (`why` for a name not in the closure).
pub fn cached_sources(lock: &LockFile, cache: &Cache, max_index_size: u64, reporter: &dyn Reporter) -> Option<Vec<IndexSource>> {
    lock.indices
        .iter()
        .map(|record| {
            let label = format!("{}/{}", record.archive, record.path);
            let arch = &lock.request.architecture;
            let content = match cached_compact(cache, &record.content_sha256, arch, reporter) {
                Some(compact) => IndexContent::Compact(compact),
                None => {
                    let bytes = cache.get(Bucket::Packages, &record.content_sha256, reporter)?;
                    let text = decompress::bytes_to_text(bytes, &label, max_index_size).ok()?;
                    compact_content(cache, &record.content_sha256, arch, &label, text, reporter)
                }
            };
            Some(IndexSource {
                content,
                label,
                archive: Some(record.archive.clone()),
                suite: Some(record.suite.clone()),
                automatic: record.automatic,
            })
        })
        .collect()
}

/// What changed from the lock `old` to the lock `new`, the keys that signed
/// each suite's Release included.
pub fn diff_locks(old: &LockFile, new: &LockFile) -> LockDiff {
    let mut diff = LockDiff { request: diff_requests(&old.request, &new.request), ..LockDiff::default() };
    diff_closures(&mut diff, &old.packages, &new.packages, &old.choices, &new.choices);
    diff.signers = diff_signers(&old.releases, &new.releases);
    diff
}
