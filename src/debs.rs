//! The `.deb` files of a closure, downloaded through the cache and checked
//! against the size and SHA256 the closure pins (`fetch-debs`, `rootfs`).
//!
//! A `.deb` is cached by its SHA256 (`debs-v1/`), so a verified cached file
//! is the file whatever mirror served it: [`CacheMode::Refresh`] does not
//! download it again.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::fetch::{Bucket, Cache, CacheMode, CachedFetchError, Fetcher, KnownContent};
use crate::lock::Request;
use crate::report::Reporter;
use crate::resolve::ClosurePackage;
use crate::sources::{ArchiveSource, LocateError, Locator};

/// Why the `.deb` files could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum DebsError {
    /// A package's archive has no URL.
    #[error("package {package} is from archive {archive}, which is not configured")]
    UnknownArchive {
        /// The package.
        package: String,
        /// Its archive.
        archive: String,
    },
    /// A package names no archive (it was resolved from local index files)
    /// and there is no default.
    #[error("package {package} names no archive, and no default archive is configured")]
    NoArchive {
        /// The package.
        package: String,
    },
    /// A download failed or did not verify, or the cache could not be written.
    #[error(transparent)]
    Fetch(#[from] CachedFetchError),
}

impl DebsError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            DebsError::UnknownArchive { archive, .. } => {
                Some(format!("add archive {archive} with --source \"URL SUITE COMPONENT...\""))
            }
            DebsError::NoArchive { .. } => Some("pass --mirror URL --suite NAME, or --source".into()),
            DebsError::Fetch(e) => e.hint(),
        }
    }
}

/// Where the `.deb` files are downloaded from.
#[derive(Debug, Clone, Default)]
pub struct DebSources {
    /// Each archive's base URL, by archive name.
    pub uris: BTreeMap<String, String>,
    /// The base URL for packages that name no archive.
    pub default: Option<String>,
}

impl DebSources {
    /// The archives of a lock's `request`, found by `locator`; packages that
    /// name no archive come from the distribution's main archive.
    pub fn of_request(request: &Request, locator: &Locator) -> Result<DebSources, LocateError> {
        let uris: BTreeMap<String, String> = request.locate(locator)?.into_iter().map(|a| (a.archive(), a.uri)).collect();
        Ok(DebSources { default: uris.get(request.distribution.main_archive()).cloned(), uris })
    }

    /// `archives` by name (the last of a name wins); packages that name no
    /// archive (resolved from local index files, which name none) come from
    /// the first archive by name.
    pub fn of_archives(archives: Vec<ArchiveSource>) -> DebSources {
        let uris: BTreeMap<String, String> = archives.into_iter().map(|a| (a.archive(), a.uri)).collect();
        DebSources { default: uris.values().next().cloned(), uris }
    }
}

/// Downloads the `.deb` of each package into the cache, or finds it there,
/// verified against its size and SHA256, and returns the cache entries in
/// the order of `packages`. Every URL is worked out before anything is
/// downloaded, so a package without one fails the call at once.
pub async fn fetch(
    packages: &[ClosurePackage],
    sources: &DebSources,
    fetcher: &Fetcher,
    cache: &Cache,
    mode: CacheMode,
    reporter: &dyn Reporter,
) -> Result<Vec<PathBuf>, DebsError> {
    let mode = if mode == CacheMode::Offline { CacheMode::Offline } else { CacheMode::Use };
    let mut jobs = Vec::new();
    for p in packages {
        let base = match &p.archive {
            Some(archive) => sources
                .uris
                .get(archive)
                .ok_or_else(|| DebsError::UnknownArchive { package: p.name.clone(), archive: archive.clone() })?,
            None => sources.default.as_ref().ok_or_else(|| DebsError::NoArchive { package: p.name.clone() })?,
        };
        jobs.push((p, format!("{base}/{}", p.filename)));
    }
    let results = fetcher
        .map_concurrent(jobs.iter(), |(p, url)| async move {
            let content = KnownContent { url, size: Some(p.size), sha256: p.sha256 };
            fetcher.get_cached_path(cache, mode, Bucket::Debs, &content, reporter).await
        })
        .await;
    Ok(results.into_iter().collect::<Result<Vec<_>, _>>()?)
}

