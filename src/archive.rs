//! From archives to verified indices: the chain of trust.
//!
//! For each suite: download `InRelease` (or `Release` + `Release.gpg`),
//! verify its signature against its archive's own keyring (see
//! [`Trust`]), check `Date` and `Valid-Until`;
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
use crate::index::{CompactIndex, IndexContent, IndexSource, COMPACT_FORMAT_VERSION};
use crate::release::{parse_release, Release};
use crate::report::Reporter;
use crate::signature::{self, Trust, TrustError, Verified};
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
    /// Fingerprints (upper-case hex, sorted) of the keys that made good
    /// signatures of it: the subkey's when a subkey signed. Empty when
    /// signatures were not checked (`--insecure-no-verify`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signed_by: Vec<String>,
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
    /// The keys of each archive; `None` skips signature checks
    /// (`--insecure-no-verify`).
    pub trust: Option<Trust>,
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
    /// A Release file is not clearsigned (`--insecure-no-verify` still
    /// reads the framework).
    #[error(transparent)]
    Verify(#[from] signature::VerifyError),
    /// A Release file is not signed by its archive's keys, or they cannot
    /// be read.
    #[error(transparent)]
    Trust(#[from] TrustError),
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
            ArchiveError::Trust(e) => e.hint(),
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

/// Fingerprints in a stable order, for records.
fn sorted(mut fingerprints: Vec<String>) -> Vec<String> {
    fingerprints.sort();
    fingerprints.dedup();
    fingerprints
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
        let Verified { text: release_text, signers } = match &options.trust {
            Some(trust) => trust.verify_inrelease(&name, &text, &shown)?,
            None => Verified { text: signature::inrelease_text(&text, &shown)?, signers: Vec::new() },
        };
        let release = parse_release(&release_text, &shown)?;
        release.check_dates(options.now, &shown)?;
        // Only a verified, well-formed, current Release is cached.
        if let Some(validators) = fresh {
            cache.put_url(Bucket::Release, &key, &bytes, &validators)?;
        }
        let (path, sha256) = (inrelease_path, Sha256::of(&bytes));
        let date = release.date.as_ref().map(|d| d.text.clone()).unwrap_or_default();
        let record = ReleaseRecord { archive: name, suite: suite.to_owned(), path, sha256, date, signed_by: sorted(signers) };
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
                (Some(release), None) if options.trust.is_none() => (release, Vec::new()),
                _ => {
                    let inrelease = format!("{}/dists/{suite}/InRelease", archive.uri);
                    return Err(FetchError::Offline { url: redact_url(&inrelease) }.into());
                }
            }
        } else {
            let release = fetcher.get(&url, reporter).await?;
            let signature = match &options.trust {
                Some(_) => fetcher.get(&format!("{url}.gpg"), reporter).await?,
                None => Vec::new(),
            };
            (release, signature)
        };
        let shown = redact_url(&url);
        let Verified { text, signers } = match &options.trust {
            Some(trust) => trust.verify_detached(&name, &bytes, &signature, &shown)?,
            None => Verified { text: String::from_utf8_lossy(&bytes).into_owned(), signers: Vec::new() },
        };
        let release = parse_release(&text, &shown)?;
        release.check_dates(options.now, &shown)?;
        if !offline {
            let none = Default::default();
            cache.put_url(Bucket::Release, &key, &bytes, &none)?;
            if options.trust.is_some() {
                cache.put_url(Bucket::Release, &format!("{key}.gpg"), &signature, &none)?;
            }
        }
        let date = release.date.as_ref().map(|d| d.text.clone()).unwrap_or_default();
        let sha256 = Sha256::of(&bytes);
        let record = ReleaseRecord { archive: name, suite: suite.to_owned(), path, sha256, date, signed_by: sorted(signers) };
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
        let arch = &options.architecture;
        if let Some((compact, h)) = content.and_then(|h| Some((cached_compact(cache, &h, arch, reporter)?, h))) {
            return Ok(self.source_and_record(component, release, entry, path, label, IndexContent::Compact(compact), h));
        }
        // One read: the cache checks the hash of the bytes it returns.
        let cached = content.and_then(|h| cache.get(Bucket::Packages, &h, reporter));
        // (text, its hash, whether it was just downloaded)
        let (text, content_sha256, downloaded) = match (cached, options.mode) {
            (Some(bytes), _) => {
                let text = decompress::bytes_to_text(bytes, &label, options.max_index_size)?;
                (text, content.expect("cached entries are keyed by content hash"), false)
            }
            (None, CacheMode::Offline) => {
                return Err(FetchError::Offline { url: redact_url(&url) }.into());
            }
            (None, _) => {
                let hash = if release.acquire_by_hash { ByHash::First } else { ByHash::No };
                // Decompressed while it downloads, and hashed and staged for
                // the cache while it decompresses; used, and cached, only
                // once verified.
                let decoder = EarlyText(decompress::StreamingDecoder::new(
                    release.file(&plain).map(|f| f.size),
                    options.max_index_size,
                    TextCheck::sinks(cache, content),
                ));
                let bytes = fetch_index_file(fetcher, &archive.uri, &path, entry.size, &entry.sha256, hash, Some(&decoder), reporter)
                    .await
                    .map_err(|source| ArchiveError::Index { archive: archive.archive(), path: path.clone(), source })?;
                let (text, checks) = decoder.0.finish(&bytes, &redact_url(&url))?;
                drop(bytes);
                let mismatch = |expected, actual| ArchiveError::ContentMismatch { url: redact_url(&url), path: plain.clone(), expected, actual };
                let content_sha256 = match (content, checks.map(TextCheck::conclude)) {
                    // The staged entry becomes the entry only if the text is
                    // the one the Release lists; else it is removed.
                    (Some(expected), Some((actual, Some(staged)))) => {
                        if actual != expected {
                            return Err(mismatch(expected, actual));
                        }
                        staged.publish()?;
                        expected
                    }
                    (None, Some((actual, _))) => actual,
                    // The cache checks the hash before it writes: one pass.
                    (Some(expected), _) => match cache.put(Bucket::Packages, &expected, text.as_bytes()) {
                        Err(CacheError::HashMismatch { actual, .. }) => return Err(mismatch(expected, actual)),
                        stored => stored.map(|_| expected)?,
                    },
                    (None, None) => Sha256::of(text.as_bytes()),
                };
                (text, content_sha256, true)
            }
        };
        // A download is answered from the text: its compact form is built by
        // the first run that reads the text from the cache, off the path of
        // the cold fetch.
        let text = match content {
            Some(_) if !downloaded => compact_content(cache, &content_sha256, arch, &label, text, reporter),
            _ => IndexContent::Text(text),
        };
        Ok(self.source_and_record(component, release, entry, path, label, text, content_sha256))
    }

    #[allow(clippy::too_many_arguments)]
    fn source_and_record(
        &self,
        component: &str,
        release: &Release,
        entry: &crate::release::ReleaseFile,
        path: String,
        label: String,
        content: IndexContent,
        content_sha256: Sha256,
    ) -> (IndexSource, IndexRecord) {
        let SuiteFetch { archive, suite, .. } = *self;
        let automatic = !release.not_automatic;
        let source = IndexSource {
            label,
            archive: Some(archive.archive()),
            suite: Some(suite.to_owned()),
            automatic,
            content,
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
        (source, record)
    }
}

/// The cache key of the compact form, for `architecture`, of the index
/// text with SHA256 `content`, in this debclosure's format version: two
/// versions sharing a cache keep an entry each rather than replacing each
/// other's on every run. The version is inside the entry too, and checked.
fn compact_key(content: &Sha256, architecture: &str) -> String {
    format!("{content}/{architecture}/{COMPACT_FORMAT_VERSION}")
}

/// The compact form, for `architecture`, of the index text with SHA256
/// `content`, if the cache holds it intact; a corrupt, truncated or
/// other-version entry is removed with a warning, and the caller rebuilds it.
pub fn cached_compact(cache: &Cache, content: &Sha256, architecture: &str, reporter: &dyn Reporter) -> Option<CompactIndex> {
    let key = compact_key(content, architecture);
    let bytes = cache.get_derived(Bucket::Compact, &key, reporter)?;
    match CompactIndex::from_bytes(bytes, content, architecture) {
        Ok(compact) => Some(compact),
        Err(e) => {
            cache.discard_derived(Bucket::Compact, &key, &e.to_string(), reporter);
            None
        }
    }
}

/// The verified index `text` (with SHA256 `content`) in compact form for
/// `architecture`: written to the cache as it is made, then mapped from
/// there. The text itself when it has no compact form
/// ([`crate::index::Index::build`] on it says why) or the cache cannot
/// store one (a warning; the caller then builds the index from the text).
pub fn compact_content(
    cache: &Cache,
    content: &Sha256,
    architecture: &str,
    label: &str,
    text: String,
    reporter: &dyn Reporter,
) -> IndexContent {
    let key = compact_key(content, architecture);
    let (text, stored) = CompactIndex::write_text(text, label, architecture, content, |write| {
        cache.put_derived(Bucket::Compact, &key, |file| write(file))
    });
    match stored {
        Some(Ok(())) => match cached_compact(cache, content, architecture, reporter) {
            Some(compact) => IndexContent::Compact(compact),
            None => IndexContent::Text(text),
        },
        Some(Err(e)) => {
            reporter.warning(&format!("cannot cache the compact form of {label}: {}", crate::fetch::error_chain(&e)));
            IndexContent::Text(text)
        }
        None => IndexContent::Text(text),
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
struct EarlyText(decompress::StreamingDecoder<TextCheck>);

impl BodyObserver for EarlyText {
    fn begin(&self) {
        self.0.restart();
    }

    fn bytes(&self, bytes: &[u8]) {
        self.0.push(bytes);
    }
}

/// What is done with a downloaded index's text while it decodes, so that
/// little is left once it is: hashing it and, when the Release lists its
/// SHA256, writing it to a [`crate::fetch::StagedEntry`], which becomes its
/// cache entry only if that is the text's SHA256. (One sink each: they run
/// in parallel.)
enum TextCheck {
    Hash(crate::hash::Sha256Hasher),
    Stage(crate::fetch::StagedEntry),
}

impl TextCheck {
    /// The sinks for an index whose text has SHA256 `content`, when the
    /// Release lists it.
    fn sinks(cache: &Cache, content: Option<Sha256>) -> Vec<TextCheck> {
        let stage = content.map(|sha256| TextCheck::Stage(crate::fetch::StagedEntry::new(cache, Bucket::Packages, &sha256)));
        std::iter::once(TextCheck::Hash(crate::hash::Sha256Hasher::new())).chain(stage).collect()
    }

    /// The text's SHA256, and its staged entry if there is one, from sinks
    /// made by [`TextCheck::sinks`] and fed the whole text.
    fn conclude(sinks: Vec<TextCheck>) -> (Sha256, Option<crate::fetch::StagedEntry>) {
        let mut sha256 = None;
        let mut staged = None;
        for sink in sinks {
            match sink {
                TextCheck::Hash(hasher) => sha256 = Some(hasher.finish()),
                TextCheck::Stage(entry) => staged = Some(entry),
            }
        }
        (sha256.expect("the sinks include a hasher"), staged)
    }
}

impl decompress::TextSink for TextCheck {
    fn text(&mut self, piece: &[u8]) {
        match self {
            TextCheck::Hash(hasher) => hasher.update(piece),
            TextCheck::Stage(entry) => entry.write(piece),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Index, RelationField};
    use crate::report::Warnings;

    const ARCH: &str = "amd64";

    /// The real bookworm cut, plus a stanza whose Depends does not parse,
    /// so that the lines of lazily parsed fields are compared too.
    fn text() -> String {
        let fixture = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bookworm-amd64/Packages")).unwrap();
        let sha = "ab".repeat(32);
        format!("{fixture}\nPackage: zz-bad\nVersion: 1\nArchitecture: all\nFilename: pool/z.deb\nSize: 1\nSHA256: {sha}\nDepends: a (>= )\n")
    }

    fn source(label: &str, automatic: bool, content: IndexContent) -> IndexSource {
        IndexSource { label: label.into(), archive: None, suite: Some(label.into()), automatic, content }
    }

    /// Everything the resolver and the output can read of an index, in an
    /// order that does not depend on the ids.
    fn summary(sources: &[IndexSource]) -> Vec<String> {
        let index = Index::build(sources, ARCH).unwrap();
        let fields = [RelationField::PreDepends, RelationField::Depends, RelationField::Recommends, RelationField::Conflicts, RelationField::Breaks];
        let mut out: Vec<String> = index
            .ids()
            .map(|id| {
                let p = index.package(id);
                let relations: Vec<_> = fields.map(|f| (p.relation_text(f), index.relations(id, f).map_err(|e| e.to_string()).err())).into();
                let versions: Vec<_> = index.versions(p.name).iter().map(|v| (index.package(*v).version, index.package(*v).source)).collect();
                let providers: Vec<_> = index.provides(id).iter().map(|d| {
                    let by: Vec<_> = index.providers(d.name).iter().map(|(v, pv)| (index.package(*v).name, index.package(*v).version, *pv)).collect();
                    (d.to_string(), by)
                }).collect();
                format!(
                    "{} {} {} {:?} {:?} {} {} {} {} {} {} {:?} {:?} {:?} {:?}",
                    p.name, p.version, p.architecture, p.multi_arch, p.priority, p.essential, p.filename, p.sha256, p.size,
                    p.line, sources[p.source].label, index.candidate(p.name).map(|c| index.package(c).version), versions, providers, relations
                )
            })
            .collect();
        out.sort();
        out
    }

    fn compact(text: &str) -> CompactIndex {
        CompactIndex::from_text(text.to_owned(), "f", ARCH).unwrap()
    }

    #[test]
    fn compact_sources_read_like_their_texts() {
        let text = text();
        let other = text.replace("Version: 1\n", "Version: 2\n");
        let as_text = [source("a", true, text.clone().into()), source("b", false, other.clone().into())];
        let content_sha = Sha256::of(text.as_bytes());
        let round_trip = CompactIndex::from_bytes(compact(&text).to_bytes(&content_sha).to_vec(), &content_sha, ARCH).unwrap();
        let as_compact = [
            source("a", true, IndexContent::Compact(round_trip)),
            source("b", false, IndexContent::Compact(compact(&other))),
        ];
        let want = summary(&as_text);
        assert!(want.len() > 500 && want.iter().any(|p| p.contains("field Depends: column")), "{}", want.len());
        assert_eq!(summary(&as_compact), want);
        let mixed = [source("a", true, text.clone().into()), as_compact[1].clone()];
        assert_eq!(summary(&mixed), want);

        // Sources of every size, in every position, as texts and compact:
        // a name found in several is merged into one list, best first, and
        // a full tie (the same stanza twice in one suite) goes to the
        // earlier source, as the texts give it.
        let small: String = text.split("\n\n").step_by(40).map(|s| format!("{s}\n\n")).collect();
        let newer = small.replace("Version: ", "Version: 9:");
        let texts = [("a", true, &small), ("a", true, &text), ("c", true, &newer), ("a", true, &small), ("d", false, &other)];
        let as_text: Vec<_> = texts.iter().map(|(l, auto, t)| source(l, *auto, (*t).clone().into())).collect();
        let as_compact: Vec<_> = texts.iter().map(|(l, auto, t)| source(l, *auto, IndexContent::Compact(compact(t)))).collect();
        let want = summary(&as_text);
        // Each name of `small` is in sources 0 to 4; the tie of 0, 1 and 3
        // (one stanza three times in suite "a") is broken by source order.
        let tied: Vec<_> = want.iter().filter(|p| p.contains(", 0), (")).collect();
        assert!(tied.len() > 10, "{}", tied.len());
        for p in tied {
            let at = |k: usize| p.find(&format!(", {k}), (")).unwrap_or(usize::MAX);
            assert!(at(2) < at(0) && at(0) < at(1) && at(1) < at(3) && at(3) < usize::MAX, "{p}");
        }
        assert_eq!(summary(&as_compact), want);
        for k in 0..texts.len() {
            let mut mixed = as_compact.clone();
            mixed[k] = as_text[k].clone();
            assert_eq!(summary(&mixed), want, "text at {k}");
        }
    }

    /// Issue 12: a compact entry that is corrupt, truncated, of another
    /// format version or of another index is reported, removed and rebuilt
    /// from the text, and the rebuilt one reads as the text does.
    #[test]
    fn damaged_compact_entries_are_rebuilt_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let text = text();
        let sha = Sha256::of(text.as_bytes());
        let warnings = Warnings::default();
        assert!(cached_compact(&cache, &sha, ARCH, &warnings).is_none());
        assert!(warnings.take().is_empty(), "a missing entry is no warning");
        let content = compact_content(&cache, &sha, ARCH, "f", text.clone(), &warnings);
        assert!(matches!(content, IndexContent::Compact(_)));
        let want = summary(&[source("f", true, text.clone().into())]);
        let path = cache.key_path(Bucket::Compact, &compact_key(&sha, ARCH));
        let good = std::fs::read(&path).unwrap();
        let cached = cached_compact(&cache, &sha, ARCH, &warnings).expect("an intact entry");
        assert_eq!(summary(&[source("f", true, IndexContent::Compact(cached))]), want);
        assert!(warnings.take().is_empty());

        // Another format version's entry has a key of its own: two versions
        // sharing a cache leave each other's alone.
        let other_version = cache.key_path(Bucket::Compact, &format!("{sha}/{ARCH}/{}", COMPACT_FORMAT_VERSION - 1));
        assert_ne!(other_version, path);
        std::fs::create_dir_all(other_version.parent().unwrap()).unwrap();
        std::fs::write(&other_version, b"debclidx of an older debclosure").unwrap();
        assert!(cached_compact(&cache, &sha, ARCH, &warnings).is_some());
        assert!(other_version.exists() && warnings.take().is_empty());

        let flip = |at: usize| {
            let mut bytes = good.clone();
            bytes[at] ^= 0x10;
            bytes
        };
        let mut old_version = good.clone();
        old_version[8..12].copy_from_slice(&(COMPACT_FORMAT_VERSION - 1).to_le_bytes());
        let damaged = [
            ("a flipped byte in the header", flip(40), "checksum"),
            ("a flipped byte in a record", flip(good.len() / 4), "checksum"),
            ("a flipped byte in the strings", flip(good.len() - 10), "checksum"),
            ("a flipped magic byte", flip(0), "not a compact index"),
            ("an older format version", old_version, "format version"),
            ("a truncated file", good[..good.len() - 100].to_vec(), "bytes, its header says"),
            ("a file cut in its header", good[..20].to_vec(), "not a compact index"),
            ("an empty file", Vec::new(), "not a compact index"),
        ];
        for (what, bytes, why) in damaged {
            std::fs::write(&path, &bytes).unwrap();
            assert!(cached_compact(&cache, &sha, ARCH, &warnings).is_none(), "{what}");
            let w = warnings.take();
            assert!(w.len() == 1 && w[0].contains(why) && w[0].contains("will rebuild"), "{what}: {w:?}");
            assert!(!path.exists(), "{what}: not removed");
            let IndexContent::Compact(rebuilt) = compact_content(&cache, &sha, ARCH, "f", text.clone(), &warnings) else {
                panic!("{what}: not rebuilt");
            };
            assert_eq!(summary(&[source("f", true, IndexContent::Compact(rebuilt))]), want, "{what}");
            assert_eq!(std::fs::read(&path).unwrap(), good, "{what}: the rebuilt entry differs");
        }
        // An entry is only used for its own text and architecture.
        let other = Sha256::of(b"another text");
        let foreign = cache.key_path(Bucket::Compact, &compact_key(&other, ARCH));
        std::fs::create_dir_all(foreign.parent().unwrap()).unwrap();
        std::fs::copy(&path, &foreign).unwrap();
        assert!(cached_compact(&cache, &other, ARCH, &warnings).is_none());
        assert!(warnings.take()[0].contains("another index"));
        // A text that does not build stays text, and nothing is stored.
        let bad = "Package: x\n".to_owned();
        let bad_sha = Sha256::of(bad.as_bytes());
        assert!(matches!(compact_content(&cache, &bad_sha, ARCH, "f", bad, &warnings), IndexContent::Text(_)));
        assert!(!cache.key_path(Bucket::Compact, &compact_key(&bad_sha, ARCH)).exists());
    }

    /// Issue 12: runs that write the same entry at once never leave a
    /// partial one; every reader gets a whole index or none.
    #[test]
    fn concurrent_writers_leave_whole_entries() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let text = text();
        let sha = Sha256::of(text.as_bytes());
        let want = summary(&[source("f", true, text.clone().into())]);
        let read = std::sync::Mutex::new(Vec::new());
        let writing = std::sync::atomic::AtomicUsize::new(4);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..5 {
                        let warnings = Warnings::default();
                        assert!(matches!(compact_content(&cache, &sha, ARCH, "f", text.clone(), &warnings), IndexContent::Compact(_)));
                        assert!(warnings.take().is_empty());
                    }
                    writing.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                });
            }
            for _ in 0..2 {
                scope.spawn(|| {
                    // Until the writers are done, and once more after.
                    let mut last = false;
                    while !last {
                        last = writing.load(std::sync::atomic::Ordering::SeqCst) == 0;
                        let warnings = Warnings::default();
                        if let Some(compact) = cached_compact(&cache, &sha, ARCH, &warnings) {
                            read.lock().unwrap().push(compact);
                        }
                        assert_eq!(warnings.take(), Vec::<String>::new(), "a reader saw a partial entry");
                    }
                });
            }
        });
        let read = read.into_inner().unwrap();
        assert!(!read.is_empty(), "no reader found an entry");
        for compact in read.into_iter().take(5) {
            assert_eq!(summary(&[source("f", true, IndexContent::Compact(compact))]), want);
        }
        let fan = cache.key_path(Bucket::Compact, &compact_key(&sha, ARCH));
        let names: Vec<_> = std::fs::read_dir(fan.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "temporary files are left: {names:?}");
    }
}
