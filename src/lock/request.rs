//! Building a [`Request`]: a spec ([`crate::spec::Spec::request`]) and the
//! command line's flags both go through [`Request::from_options`], so a
//! request has one canonical form whoever wrote it; and where its archives
//! are downloaded from ([`Request::locate`]), which stays out of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::name::SnapshotTimestamp;
use crate::resolve::ResolveOptions;
use crate::sources::{snapshot_uri, ArchiveSource, LocateError, Locator, SnapshotRef};
use crate::url::{redact_url, SnapshotBase};

use super::{wire, Distribution, LockError, Request};

/// One archive of a request as a spec or the flags name it, before its
/// names are checked (see [`super::LockedSource`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    /// The archive's name.
    pub archive: String,
    /// Suites, in order.
    pub suites: Vec<String>,
    /// Components, in order.
    pub components: Vec<String>,
}

/// What a request is made of, as a spec or the flags say it, before it is
/// put in canonical form.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// Debian or Ubuntu.
    pub distribution: Distribution,
    /// Target architecture.
    pub architecture: String,
    /// Archives, suites and components, in order.
    pub sources: Vec<SourceOptions>,
    /// A snapshot timestamp.
    pub snapshot: Option<String>,
    /// The snapshot archive's base URL in use; recorded, without credentials
    /// or a trailing `/`, only with a snapshot.
    pub snapshot_base: Option<String>,
    /// The requested packages, in request order.
    pub packages: Vec<String>,
    /// Preferences (the whole table, built-in entries included), exclusions,
    /// Recommends, strictness and the base set.
    pub resolve: ResolveOptions,
    /// URL prefixes for the generated Nix, by archive, as given; when empty,
    /// the distribution's mirror scheme for its main archive, then (with a
    /// snapshot and its base) each archive's snapshot URL.
    pub url_prefixes: BTreeMap<String, Vec<String>>,
}

impl RequestOptions {
    /// Options for `archives` as the flags name them: the sources, named as
    /// the archives are; `distribution`, else the one their names suggest
    /// ([`Distribution::of_archives`]); and `url_prefixes`, when given, for
    /// every archive, as `resolve --url-prefix` is every package's. The rest
    /// is left default.
    pub fn of_archives(archives: &[ArchiveSource], distribution: Option<Distribution>, url_prefixes: &[String]) -> RequestOptions {
        let sources: Vec<SourceOptions> = archives
            .iter()
            .map(|a| SourceOptions { archive: a.archive(), suites: a.suites.clone(), components: a.components.clone() })
            .collect();
        let url_prefixes = match url_prefixes {
            [] => BTreeMap::new(),
            given => sources.iter().map(|s| (s.archive.clone(), given.to_vec())).collect(),
        };
        RequestOptions {
            distribution: distribution.unwrap_or_else(|| Distribution::of_archives(sources.iter().map(|s| s.archive.as_str()))),
            sources,
            url_prefixes,
            ..RequestOptions::default()
        }
    }
}

impl Request {
    /// The canonical request for `options`: exclusions sorted, the snapshot
    /// base canonical and kept only with a snapshot, and the default URL
    /// prefixes when none are given; then checked as a lock's request is
    /// (errors name the field, `request.architecture: …`).
    pub fn from_options(options: RequestOptions) -> Result<Request, LockError> {
        let RequestOptions { distribution, architecture, sources, snapshot, snapshot_base, packages, resolve, url_prefixes } = options;
        // The base as recorded: credentials stay out of the lock, and so out
        // of the default URL prefixes made from it.
        let snapshot_base = snapshot.as_ref().and(snapshot_base.as_deref()).map(canonical_snapshot_base);
        let url_prefixes = if url_prefixes.is_empty() {
            default_url_prefixes(distribution, &sources, snapshot.as_deref(), snapshot_base.as_deref())
        } else {
            url_prefixes
        };
        let request = wire::Request {
            distribution,
            architecture,
            sources,
            snapshot_base,
            snapshot,
            packages,
            preferences: resolve.preferences,
            // A BTreeSet: sorted, no duplicates.
            exclude: resolve.exclude.into_iter().collect(),
            recommends: resolve.with_recommends,
            strict: resolve.strict,
            base: resolve.base,
            url_prefixes,
        };
        Request::try_from(request)
    }

    /// Where to download each archive of the request from, in the order of
    /// its sources, named as the request names them whatever the URL ends in
    /// (a snapshot's timestamp, a mirror's own path).
    pub fn locate(&self, locator: &Locator) -> Result<Vec<ArchiveSource>, LocateError> {
        let main = self.distribution.main_archive();
        self.sources
            .iter()
            .map(|s| {
                Ok(ArchiveSource {
                    uri: locator.archive_uri(&s.archive, main, self.snapshot_ref())?,
                    suites: s.suites.iter().map(|x| x.to_string()).collect(),
                    components: s.components.iter().map(|x| x.to_string()).collect(),
                    signed_by: None,
                    name: Some(s.archive.to_string()),
                })
            })
            .collect()
    }

    /// The request's snapshot, with the base it recorded.
    pub fn snapshot_ref(&self) -> Option<SnapshotRef<'_>> {
        self.snapshot.as_deref().map(|timestamp| SnapshotRef { timestamp, recorded_base: self.snapshot_base.as_deref() })
    }

    /// The request read at snapshot `timestamp` instead (`update
    /// --snapshot`), keeping the base; with no base recorded (a new
    /// snapshot, or a lock of format version 1), `base` is recorded, as
    /// `lock` would. URL prefixes that pointed at the old snapshot point at
    /// the new one. The timestamp and the base are checked as
    /// [`Request::from_options`] checks them.
    pub fn with_snapshot(&self, timestamp: Option<&str>, base: Option<&str>) -> Result<Request, LockError> {
        let mut request = self.clone();
        if let Some(ts) = timestamp {
            let snapshot = SnapshotTimestamp::new(ts).map_err(|error| LockError::Name { at: "request.snapshot".into(), error })?;
            request.snapshot = Some(snapshot);
        }
        if request.snapshot.is_some() && request.snapshot_base.is_none() {
            let url = |error| LockError::Url { at: "request.snapshot_base".into(), error };
            request.snapshot_base = base.map(|b| SnapshotBase::new(canonical_snapshot_base(b))).transpose().map_err(url)?;
        }
        if let (Some(base), Some(old_ts), Some(ts)) = (&request.snapshot_base, &self.snapshot, &request.snapshot) {
            for (archive, prefixes) in &mut request.url_prefixes {
                let old_url = snapshot_uri(base, archive, old_ts);
                for p in prefixes.iter_mut().filter(|p| **p == old_url) {
                    *p = snapshot_uri(base, archive, ts);
                }
            }
        }
        Ok(request)
    }
}

impl Distribution {
    /// The distribution of a request that names none: Ubuntu when an
    /// archive is named `ubuntu` or `ubuntu-ports`, else Debian.
    pub fn of_archives<'a>(mut archives: impl Iterator<Item = &'a str>) -> Distribution {
        if archives.any(|a| a == "ubuntu" || a == "ubuntu-ports") {
            Distribution::Ubuntu
        } else {
            Distribution::Debian
        }
    }
}

/// A snapshot base as a lock records it: without credentials (the lock is
/// shared; they stay in the spec or the environment) or a trailing `/`.
fn canonical_snapshot_base(url: &str) -> String {
    redact_url(url).trim_end_matches('/').to_owned()
}

/// nixpkgs' mirror scheme for the distribution's main archive, then the
/// snapshot archive when a snapshot and its base URL are known.
fn default_url_prefixes(
    distribution: Distribution,
    sources: &[SourceOptions],
    snapshot: Option<&str>,
    snapshot_base: Option<&str>,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    out.insert(distribution.main_archive().to_owned(), vec![distribution.mirror_scheme().to_owned()]);
    if let (Some(ts), Some(base)) = (snapshot, snapshot_base) {
        for s in sources {
            let url = snapshot_uri(base, &s.archive, ts);
            let list = out.entry(s.archive.clone()).or_default();
            if !list.contains(&url) {
                list.push(url);
            }
        }
    }
    out
}
