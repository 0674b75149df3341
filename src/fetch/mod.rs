//! Downloading archive files, and keeping them in a local cache.
//!
//! This is the only module that touches the network. [`Fetcher`] does HTTP:
//! one shared client, stall timeouts, retries with backoff, size and SHA256
//! checks while the body streams in, conditional requests. [`Cache`] keeps
//! what was downloaded, keyed by SHA256 where the hash is known from a
//! verified Release file, and by a mirror-independent key (with `ETag` and
//! `Last-Modified`) for the Release files themselves. [`CacheMode`] decides
//! how the two meet; [`Fetcher::get_cached`], [`Fetcher::get_cached_path`]
//! and [`Fetcher::get_keyed`] combine them. A [`StagedEntry`] is an entry
//! written while its content is still being checked.
//!
//! Nothing here checks signatures: the caller verifies an InRelease file
//! before trusting the hashes it lists (see [`crate::signature`]).

mod cache;
mod http;
mod staged;

pub use cache::{Bucket, Cache, CacheError};
pub use staged::StagedEntry;
pub(crate) use http::error_chain;
pub use http::{
    map_bounded, BodyObserver, Conditional, EnvError, FetchError, FetchOptions, Fetcher, Validators,
    DEFAULT_MAX_BODY_SIZE, ENV_BACKOFF_MS, ENV_CONCURRENCY, ENV_CONNECT_TIMEOUT_MS, ENV_READ_TIMEOUT_MS, ENV_RETRIES,
};

use std::path::PathBuf;

use crate::hash::Sha256;
use crate::report::Reporter;
use crate::url::redact_url;

/// How downloads use the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheMode {
    /// Use intact cached content; revalidate Release files with a
    /// conditional request.
    #[default]
    Use,
    /// Download Release files again without a conditional request (their
    /// cached validators are ignored); content whose hash the Release pins
    /// (indices, `.deb` files) is still taken from the cache when intact,
    /// since the hash makes a fresh copy the same bytes.
    Refresh,
    /// Never touch the network; content missing from the cache is a
    /// [`FetchError::Offline`] naming its URL.
    Offline,
}

impl Fetcher {
    /// Content whose size and SHA256 are known (a Packages file, a `.deb`):
    /// from the cache if it is there and intact, else downloaded, verified
    /// and stored. Failing to store is a warning, not an error.
    ///
    /// The cache is read and written synchronously on the calling task.
    #[allow(clippy::too_many_arguments)]
    pub async fn get_cached(
        &self,
        cache: &Cache,
        mode: CacheMode,
        bucket: Bucket,
        url: &str,
        expected_size: Option<u64>,
        expected_sha256: &Sha256,
        reporter: &dyn Reporter,
    ) -> Result<Vec<u8>, FetchError> {
        let cached = || {
            cache
                .get(bucket, expected_sha256, reporter)
                .filter(|bytes| expected_size.is_none_or(|size| size == bytes.len() as u64))
        };
        let content = KnownContent { url, size: expected_size, sha256: *expected_sha256 };
        match self.cached_or_verified(mode, &content, reporter, cached).await? {
            Entry::Cached(bytes) => Ok(bytes),
            Entry::Downloaded(bytes) => {
                if let Err(e) = cache.put(bucket, expected_sha256, &bytes) {
                    warn_not_cached(url, &e, reporter);
                }
                Ok(bytes)
            }
        }
    }

    /// Like [`Fetcher::get_cached`], but leaves the content in the cache and
    /// returns the entry's path, for files used by path (`.deb` files,
    /// which can be large). A cached entry's hash is checked without reading
    /// it into memory. Failing to store is an error here: without the entry
    /// there is no path.
    pub async fn get_cached_path(
        &self,
        cache: &Cache,
        mode: CacheMode,
        bucket: Bucket,
        content: &KnownContent<'_>,
        reporter: &dyn Reporter,
    ) -> Result<PathBuf, CachedFetchError> {
        let cached = || cache.get_path(bucket, &content.sha256, reporter);
        match self.cached_or_verified(mode, content, reporter, cached).await? {
            Entry::Cached(path) => Ok(path),
            Entry::Downloaded(bytes) => Ok(cache.put(bucket, &content.sha256, &bytes)?),
        }
    }

    /// What `cached` finds unless `mode` is [`CacheMode::Refresh`]; else,
    /// unless offline, the download, verified.
    async fn cached_or_verified<T>(
        &self,
        mode: CacheMode,
        content: &KnownContent<'_>,
        reporter: &dyn Reporter,
        cached: impl FnOnce() -> Option<T>,
    ) -> Result<Entry<T>, FetchError> {
        if mode != CacheMode::Refresh {
            if let Some(found) = cached() {
                return Ok(Entry::Cached(found));
            }
        }
        if mode == CacheMode::Offline {
            return Err(FetchError::Offline { url: redact_url(content.url) });
        }
        Ok(Entry::Downloaded(self.get_verified(content.url, content.size, &content.sha256, reporter).await?))
    }

    /// A file whose hash is not known in advance (Release, InRelease), cached
    /// under `key`, a name for it that does not depend on the mirror. With
    /// [`CacheMode::Use`] a cached copy is revalidated with a conditional
    /// request, and kept if the server answers 304.
    ///
    /// The result is unverified: check its signature before trusting it.
    pub async fn get_keyed(
        &self,
        cache: &Cache,
        mode: CacheMode,
        bucket: Bucket,
        url: &str,
        key: &str,
        reporter: &dyn Reporter,
    ) -> Result<Vec<u8>, FetchError> {
        let cached = match mode {
            CacheMode::Refresh => None,
            CacheMode::Use | CacheMode::Offline => cache.get_url(bucket, key, reporter),
        };
        if mode == CacheMode::Offline {
            return cached.map(|(bytes, _)| bytes).ok_or_else(|| FetchError::Offline { url: redact_url(url) });
        }
        let (cached_bytes, validators) = cached.unzip();
        match self.get_conditional(url, validators.as_ref(), reporter).await? {
            Conditional::NotModified => Ok(cached_bytes.expect("a conditional request is only sent for a cached body")),
            Conditional::Body { bytes, validators } => {
                if let Err(e) = cache.put_url(bucket, key, &bytes, &validators) {
                    warn_not_cached(url, &e, reporter);
                }
                Ok(bytes)
            }
        }
    }
}

/// Content whose SHA256 is known, and where to download it.
#[derive(Debug, Clone, Copy)]
pub struct KnownContent<'a> {
    /// Where to download it.
    pub url: &'a str,
    /// Its size in bytes, if known.
    pub size: Option<u64>,
    /// Its SHA256; also its cache key.
    pub sha256: Sha256,
}

/// A cache entry found, or content just downloaded and verified.
enum Entry<T> {
    Cached(T),
    Downloaded(Vec<u8>),
}

/// Why [`Fetcher::get_cached_path`] failed.
#[derive(Debug, thiserror::Error)]
pub enum CachedFetchError {
    /// The download failed or did not verify.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The verified content could not be stored.
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl CachedFetchError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            CachedFetchError::Fetch(e) => e.hint(),
            CachedFetchError::Cache(e) => e.hint(),
        }
    }
}

fn warn_not_cached(url: &str, e: &CacheError, reporter: &dyn Reporter) {
    reporter.warning(&format!("cannot cache {}: {}", redact_url(url), http::error_chain(e)));
}
