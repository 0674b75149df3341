//! From archives to verified indices: the chain of trust.
//!
//! For each suite: download `InRelease` (or `Release` + `Release.gpg`),
//! verify its signature against the keyring, check `Date` and `Valid-Until`;
//! then for each component take `Packages.xz`, `.gz`, `.bz2` or plain, as the Release
//! lists them (through `by-hash` when it says `Acquire-By-Hash: yes`), check
//! size and SHA256 against the Release, decompress, and check the SHA256 of
//! the content where the Release lists it. Nothing unverified is used or
//! cached: an `.xz` index is decoded while it downloads (see
//! [`decompress::StreamingDecoder`]), but that work is kept only if it is
//! the verified file's. Decompressed indices are cached by content hash, so
//! a warm run does not decompress again.
//!
//! Records name files by archive-relative paths, never by mirror, so the
//! same inputs give the same records whichever mirror served them.

use serde::{Deserialize, Serialize};

use crate::decompress;
use crate::hash::Sha256;
use crate::fetch::{BodyObserver, Bucket, Cache, CacheError, CacheMode, Conditional, FetchError, Fetcher};
use crate::index::IndexSource;
use crate::release::{parse_release, Release};
use crate::report::Reporter;
use crate::signature::{self, Keyring};
use crate::sources::ArchiveSource;
use crate::url::redact_url;

/// The largest `InRelease`, `Release` or `Release.gpg` accepted, in bytes. A
/// Release file is downloaded whole before its signature can be checked, so
/// anyone on the path to an `http://` mirror could otherwise make us buffer
/// gigabytes (issue 8). Debian's and Ubuntu's are a few hundred KiB; apt's
/// own bound (`Acquire::MaxReleaseFileSize`) is 10 MB.
pub const MAX_RELEASE_SIZE: u64 = 32 << 20;

/// A Release file as used: where it is in its archive and what it was.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReleaseRecord {
    /// The archive's name (last segment of its URL path), e.g. `debian`.
    pub archive: String,
    /// The suite as requested (`bookworm`).
    pub suite: String,
    /// Archive-relative path: `dists/bookworm/InRelease`.
    pub path: String,
    /// SHA256 of the file as downloaded.
    pub sha256: Sha256,
    /// Its `Date:` field as written.
    pub date: String,
}

/// A Packages index as used.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct IndexRecord {
    /// The archive's name.
    pub archive: String,
    /// The suite as requested.
    pub suite: String,
    /// The component.
    pub component: String,
    /// Archive-relative canonical path (never the by-hash path):
    /// `dists/bookworm/main/binary-amd64/Packages.xz`.
    pub path: String,
    /// SHA256 of the file as downloaded.
    pub sha256: Sha256,
    /// Size of the file as downloaded.
    pub size: u64,
    /// SHA256 of the decompressed content.
    pub content_sha256: Sha256,
    /// False for a NotAutomatic suite.
    pub automatic: bool,
}

/// Where and how to fetch.
#[derive(Debug, Clone)]
pub struct ArchiveOptions {
    /// Target architecture.
    pub architecture: String,
    /// `None` skips signature checks (`--insecure-no-verify`).
    pub keyring: Option<Keyring>,
    /// Use the cache, refresh it, or stay offline.
    pub mode: CacheMode,
    /// The current time, for `Date` and `Valid-Until`.
    pub now: i64,
    /// The largest decompressed index accepted, in bytes (usually
    /// [`decompress::DEFAULT_LIMIT`]); checked while decompressing.
    pub max_index_size: u64,
}

/// Verified indices, their texts and their records, in the order of the
/// archives, suites and components given.
#[derive(Debug, Default)]
pub struct FetchedIndices {
    /// The texts, ready for [`crate::index::Index::build`].
    pub sources: Vec<IndexSource>,
    /// One record per Release file.
    pub releases: Vec<ReleaseRecord>,
    /// One record per index, parallel to `sources`.
    pub indices: Vec<IndexRecord>,
}

/// Why indices could not be fetched or trusted.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A download failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A signature did not verify.
    #[error(transparent)]
    Verify(#[from] signature::VerifyError),
    /// A Release file is malformed, expired or from the future.
    #[error(transparent)]
    Release(#[from] crate::release::ReleaseError),
    /// A downloaded index does not decompress.
    #[error(transparent)]
    Decompress(#[from] decompress::DecompressError),
    /// The cache could not be written.
    #[error(transparent)]
    Cache(#[from] crate::fetch::CacheError),
    /// An index could not be downloaded or failed its check.
    #[error("cannot fetch index {archive}/{path}")]
    Index {
        /// The archive.
        archive: String,
        /// Archive-relative canonical path of the index.
        path: String,
        /// What went wrong.
        #[source]
        source: FetchError,
    },
    /// The Release lists no Packages index for a component.
    #[error("{release}: no Packages index for {component}/binary-{architecture} (the Release lists none); check the component and --arch")]
    NoIndex {
        /// The Release file's URL.
        release: String,
        /// The component.
        component: String,
        /// The architecture.
        architecture: String,
    },
    /// The decompressed content does not match the Release.
    #[error("{url}: decompressed content has SHA256 {actual}, but the Release lists {expected} for {path}")]
    ContentMismatch {
        /// The index URL.
        url: String,
        /// The Release entry.
        path: String,
        /// From the Release.
        expected: Sha256,
        /// Computed.
        actual: Sha256,
    },
}

impl ArchiveError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            ArchiveError::Fetch(e) | ArchiveError::Index { source: e, .. } => e.hint(),
            ArchiveError::Verify(e) => e.hint(),
            ArchiveError::Release(e) => e.hint(),
            ArchiveError::Decompress(_) | ArchiveError::ContentMismatch { .. } => {
                Some("the mirror serves a damaged index; try again later or use another mirror".into())
            }
            _ => None,
        }
    }
}

/// Fetches, verifies and decompresses every index of `archives`.
pub async fn fetch_indices(
    fetcher: &Fetcher,
    cache: &Cache,
    archives: &[ArchiveSource],
    options: &ArchiveOptions,
    reporter: &dyn Reporter,
) -> Result<FetchedIndices, ArchiveError> {
    let suites: Vec<(&ArchiveSource, &str)> = archives
        .iter()
        .flat_map(|a| a.suites.iter().map(move |s| (a, s.as_str())))
        .collect();
    let suites: Vec<SuiteFetch> = suites
        .into_iter()
        .map(|(archive, suite)| SuiteFetch { fetcher, cache, archive, suite, options, reporter })
        .collect();
    let releases = futures_util::future::try_join_all(suites.iter().map(SuiteFetch::release)).await?;
    let mut jobs = Vec::new();
    for (suite, (release, record)) in suites.iter().zip(&releases) {
        for component in &suite.archive.components {
            jobs.push((suite, component.as_str(), release, record));
        }
    }
    let fetched = futures_util::future::try_join_all(
        jobs.iter().map(|(suite, component, release, record)| suite.packages(component, release, record)),
    )
    .await?;
    let mut out = FetchedIndices {
        releases: releases.into_iter().map(|(_, r)| r).collect(),
        ..Default::default()
    };
    for (source, record) in fetched {
        out.sources.push(source);
        out.indices.push(record);
    }
    Ok(out)
}

/// One suite of one archive, and what fetching its files needs.
#[derive(Clone, Copy)]
struct SuiteFetch<'a> {
    fetcher: &'a Fetcher,
    cache: &'a Cache,
    archive: &'a ArchiveSource,
    suite: &'a str,
    options: &'a ArchiveOptions,
    reporter: &'a dyn Reporter,
}

/// A Release file of a suite: where it is in the archive, its URL, and its
/// cache key (which names no mirror).
struct ReleaseFile {
    path: String,
    url: String,
    key: String,
}

impl SuiteFetch<'_> {
    /// `dists/SUITE/<file>`, and a fetcher bounded for Release files.
    fn release_file(&self, file: &str) -> (ReleaseFile, Fetcher) {
        let path = format!("dists/{}/{file}", self.suite);
        let url = format!("{}/{path}", self.archive.uri);
        let key = format!("{}/{path}", self.archive.archive());
        (ReleaseFile { path, url, key }, self.fetcher.with_max_body_size(MAX_RELEASE_SIZE))
    }

    /// Downloads and verifies the suite's Release.
    async fn release(&self) -> Result<(Release, ReleaseRecord), ArchiveError> {
        let SuiteFetch { cache, archive, suite, options, reporter, .. } = *self;
        let (ReleaseFile { path: inrelease_path, url, key }, fetcher) = self.release_file("InRelease");
        let name = archive.archive();
        let cached = cache.get_url(Bucket::Release, &key, reporter);
        // (body, validators to store when it is new)
        let body = match options.mode {
            CacheMode::Offline => cached.map(|(bytes, _)| (bytes, None)),
            mode => {
                let validators = cached.as_ref().filter(|_| mode == CacheMode::Use).map(|(_, v)| v);
                match fetcher.get_conditional(&url, validators, reporter).await {
                    Ok(Conditional::NotModified) => cached.map(|(bytes, _)| (bytes, None)),
                    Ok(Conditional::Body { bytes, validators }) => Some((bytes, Some(validators))),
                    Err(FetchError::NotFound { .. }) => None,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let Some((bytes, fresh)) = body else {
            return self.detached_release().await;
        };
        let text = String::from_utf8_lossy(&bytes);
        // Messages name the file by its URL, without credentials.
        let shown = redact_url(&url);
        let release_text = match &options.keyring {
            Some(keyring) => signature::verify_inrelease(keyring, &text, &shown)?.text,
            None => signature::inrelease_text(&text, &shown)?,
        };
        let release = parse_release(&release_text, &shown)?;
        release.check_dates(options.now, &shown)?;
        // Only a verified, well-formed, current Release is cached.
        if let Some(validators) = fresh {
            cache.put_url(Bucket::Release, &key, &bytes, &validators)?;
        }
        let (path, sha256) = (inrelease_path, Sha256::of(&bytes));
        let date = release.date.as_ref().map(|d| d.text.clone()).unwrap_or_default();
        let record = ReleaseRecord { archive: name, suite: suite.to_owned(), path, sha256, date };
        Ok((release, record))
    }

    /// The fallback when a suite has no InRelease: `Release` + `Release.gpg`.
    async fn detached_release(&self) -> Result<(Release, ReleaseRecord), ArchiveError> {
        let SuiteFetch { cache, archive, suite, options, reporter, .. } = *self;
        let (ReleaseFile { path, url, key }, fetcher) = self.release_file("Release");
        let name = archive.archive();
        let offline = options.mode == CacheMode::Offline;
        let (bytes, signature) = if offline {
            let get = |k: &str| cache.get_url(Bucket::Release, k, reporter).map(|(b, _)| b);
            match (get(&key), get(&format!("{key}.gpg"))) {
                (Some(release), Some(signature)) => (release, signature),
                (Some(release), None) if options.keyring.is_none() => (release, Vec::new()),
                _ => {
                    let inrelease = format!("{}/dists/{suite}/InRelease", archive.uri);
                    return Err(FetchError::Offline { url: redact_url(&inrelease) }.into());
                }
            }
        } else {
            let release = fetcher.get(&url, reporter).await?;
            let signature = match &options.keyring {
                Some(_) => fetcher.get(&format!("{url}.gpg"), reporter).await?,
                None => Vec::new(),
            };
            (release, signature)
        };
        let shown = redact_url(&url);
        let text = match &options.keyring {
            Some(keyring) => signature::verify_detached(keyring, &bytes, &signature, &shown)?.text,
            None => String::from_utf8_lossy(&bytes).into_owned(),
        };
        let release = parse_release(&text, &shown)?;
        release.check_dates(options.now, &shown)?;
        if !offline {
            let none = Default::default();
            cache.put_url(Bucket::Release, &key, &bytes, &none)?;
            if options.keyring.is_some() {
                cache.put_url(Bucket::Release, &format!("{key}.gpg"), &signature, &none)?;
            }
        }
        let date = release.date.as_ref().map(|d| d.text.clone()).unwrap_or_default();
        let record = ReleaseRecord { archive: name, suite: suite.to_owned(), path, sha256: Sha256::of(&bytes), date };
        Ok((release, record))
    }

    /// Downloads, verifies and decompresses one component's Packages index.
    async fn packages(
        &self,
        component: &str,
        release: &Release,
        release_record: &ReleaseRecord,
    ) -> Result<(IndexSource, IndexRecord), ArchiveError> {
        let SuiteFetch { fetcher, cache, archive, suite, options, reporter } = *self;
        let dir = format!("{component}/binary-{}", options.architecture);
        let plain = format!("{dir}/Packages");
        let release_url = format!("{}/{}", archive.uri, release_record.path);
        let entry = ["Packages.xz", "Packages.gz", "Packages.bz2", "Packages"]
            .iter()
            .find_map(|f| release.file(&format!("{dir}/{f}")))
            .ok_or_else(|| ArchiveError::NoIndex {
                release: redact_url(&release_url),
                component: component.to_owned(),
                architecture: options.architecture.clone(),
            })?;
        let content = release.file(&plain).map(|f| f.sha256);
        let path = format!("dists/{suite}/{}", entry.path);
        let url = format!("{}/{path}", archive.uri);
        let label = format!("{}/{path}", archive.archive());
        // One read: the cache checks the hash of the bytes it returns.
        let cached = content.and_then(|h| cache.get(Bucket::Packages, &h, reporter));
        let (text, content_sha256) = match (cached, options.mode) {
            (Some(bytes), _) => {
                let text = decompress::bytes_to_text(bytes, &label, options.max_index_size)?;
                (text, content.expect("cached entries are keyed by content hash"))
            }
            (None, CacheMode::Offline) => {
                return Err(FetchError::Offline { url: redact_url(&url) }.into());
            }
            (None, _) => {
                let hash = if release.acquire_by_hash { ByHash::First } else { ByHash::No };
                // Decompressed while it downloads; used only once verified.
                let decoder = EarlyText(decompress::StreamingDecoder::new(
                    release.file(&plain).map(|f| f.size),
                    options.max_index_size,
                ));
                let bytes = fetch_index_file(fetcher, &archive.uri, &path, entry.size, &entry.sha256, hash, Some(&decoder), reporter)
                    .await
                    .map_err(|source| ArchiveError::Index { archive: archive.archive(), path: path.clone(), source })?;
                let text = decoder.0.finish(&bytes, &redact_url(&url))?;
                drop(bytes);
                let content_sha256 = match content {
                    // The cache checks the hash before it writes: one pass.
                    Some(expected) => match cache.put(Bucket::Packages, &expected, text.as_bytes()) {
                        Err(CacheError::HashMismatch { actual, .. }) => {
                            return Err(ArchiveError::ContentMismatch { url: redact_url(&url), path: plain, expected, actual });
                        }
                        stored => stored.map(|_| expected)?,
                    },
                    None => Sha256::of(text.as_bytes()),
                };
                (text, content_sha256)
            }
        };
        let automatic = !release.not_automatic;
        let source = IndexSource {
            label,
            archive: Some(archive.archive()),
            suite: Some(suite.to_owned()),
            automatic,
            text,
        };
        let record = IndexRecord {
            archive: archive.archive(),
            suite: suite.to_owned(),
            component: component.to_owned(),
            path,
            sha256: entry.sha256,
            size: entry.size,
            content_sha256,
            automatic,
        };
        Ok((source, record))
    }
}

/// Whether to ask for an index by its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByHash {
    /// Only the canonical path.
    No,
    /// `DIR/by-hash/SHA256/<sha256>` first, then the canonical path.
    First,
}

/// Downloads the index file at `path` (archive-relative) of the archive at
/// `archive_uri`, checking its size and SHA256 while it streams in. With
/// [`ByHash::First`] it asks for `DIR/by-hash/SHA256/<sha256>` first, as the
/// Release's `Acquire-By-Hash: yes` invites (and as a lock's pinned hash
/// always allows); mirrors may lag behind with by-hash, so a 404 there falls
/// back to the canonical path, checked against the same hash.
#[allow(clippy::too_many_arguments)]
pub async fn fetch_index_file(
    fetcher: &Fetcher,
    archive_uri: &str,
    path: &str,
    size: u64,
    sha256: &Sha256,
    by_hash: ByHash,
    observer: Option<&dyn BodyObserver>,
    reporter: &dyn Reporter,
) -> Result<Vec<u8>, FetchError> {
    if by_hash == ByHash::First {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let url = format!("{archive_uri}/{dir}/by-hash/SHA256/{sha256}");
        match fetcher.get_verified_observed(&url, Some(size), sha256, observer, reporter).await {
            Err(FetchError::NotFound { .. }) => {}
            other => return other,
        }
    }
    fetcher.get_verified_observed(&format!("{archive_uri}/{path}"), Some(size), sha256, observer, reporter).await
}

/// A [`decompress::StreamingDecoder`] fed by a download.
struct EarlyText(decompress::StreamingDecoder);

impl BodyObserver for EarlyText {
    fn begin(&self) {
        self.0.restart();
    }

    fn bytes(&self, bytes: &[u8]) {
        self.0.push(bytes);
    }
}
