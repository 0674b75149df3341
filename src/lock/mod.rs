//! The lock file (`debclosure.lock`): a pinned closure and the whole request
//! that produced it, in canonical form, so that `check`, `update`, `nix` and
//! `fetch-debs` need nothing else.
//!
//! Format: JSON with a leading `version`, fields in a fixed order, one line
//! per package, choice and record (see [`crate::output::render_json`]) and a
//! trailing newline. It names no mirror it was downloaded from: sources are
//! archives (`debian`, `debian-security`) and files are archive-relative
//! paths, so the same inputs give the same bytes on any machine and from any
//! mirror. The only URLs are the ones the request chose for the generated Nix
//! (`url_prefixes`) and the snapshot archive's base (`snapshot_base`), which
//! are recorded because they may come from the environment, and `check` must
//! not depend on it.
//!
//! Reading goes through a wire form of plain strings (`wire.rs`): the
//! request's names become checked values ([`Architecture`], [`ArchiveName`],
//! [`Suite`], [`Component`], [`SnapshotTimestamp`], [`SnapshotBase`],
//! [`PackageName`]) with an error that names the field, and
//! [`LockFile::validate`] rejects what no type can: newer format versions, a
//! version older than the fields in the lock need, duplicate packages,
//! unsafe paths, groups out of order, reasons that name no package, control
//! characters, and URL prefixes that are not [`UrlPrefix`]es. Hashes are
//! [`Sha256`] values from the start.
//!
//! The steps on a lock live beside it: [`Request::from_options`] builds a
//! canonical request from a spec or flags, [`create()`] resolves it into a lock,
//! [`check()`] re-resolves a lock from the indices it pins and compares, and
//! [`LockFile::render_nix`] writes it for Nix.

mod check;
mod create;
mod nix;
mod request;
pub(crate) mod wire;

pub use check::{cached_sources, check, diff_locks, read_bounded, PinnedError, PinnedIndices};
pub use create::{create, LockingError};
pub use request::{RequestOptions, SourceOptions};

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::archive::{IndexRecord, ReleaseRecord};
use crate::deb822::cut;
use crate::hash::Sha256;
use crate::index::check_filename;
use crate::name::{Architecture, ArchiveName, Component, NameError, PackageName, SnapshotTimestamp, Suite};
use crate::output::render_json;
use crate::relation::is_valid_package_name;
use crate::signature::{is_fingerprint, SignedBy, TrustAnchor};
use crate::resolve::{Assumed, Base, Choice, ClosurePackage, PolicyError, Preferences, RequestedPackage, ResolveOptions, Why};
use crate::url::{SnapshotBase, UrlError, UrlPrefix};
use crate::version::VersionError;

/// The newest format version this build reads.
///
/// A lock is written with the oldest version that can hold it
/// ([`Request::format_version`]): readers refuse unknown fields, so a field
/// that older readers do not know needs a new version, but a lock without it
/// stays readable by them (and keeps its bytes).
///
/// - 1: the first format.
/// - 2: `request.snapshot_base`, the snapshot archive's base URL, with a
///   snapshot.
/// - 3: `releases[].signed_by`, the keys that signed each Release file.
pub const LOCK_VERSION: u32 = 3;

/// Which distribution's conventions apply (default URL prefixes, keyrings).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Debian: `mirror://debian`.
    #[default]
    Debian,
    /// Ubuntu: `mirror://ubuntu`.
    Ubuntu,
}

impl Distribution {
    /// nixpkgs' mirror scheme for the distribution's main archive.
    pub fn mirror_scheme(self) -> &'static str {
        match self {
            Distribution::Debian => "mirror://debian",
            Distribution::Ubuntu => "mirror://ubuntu",
        }
    }

    /// Whether [`Distribution::mirror_scheme`] carries `.deb` files of
    /// `architecture`: Ubuntu's main archive has amd64 and i386 only; its
    /// other architectures are in a separate ports archive.
    pub fn mirror_serves(self, architecture: &str) -> bool {
        match self {
            Distribution::Debian => true,
            Distribution::Ubuntu => matches!(architecture, "amd64" | "i386" | "all"),
        }
    }

    /// The distribution's archive keyring, where its keyring package
    /// (debian-archive-keyring, ubuntu-keyring) installs it: what its
    /// archives are verified with when nothing names their keys.
    pub fn archive_keyring(self) -> TrustAnchor {
        let (file, origin) = match self {
            Distribution::Debian => ("/usr/share/keyrings/debian-archive-keyring.gpg", "the default for Debian"),
            Distribution::Ubuntu => ("/usr/share/keyrings/ubuntu-archive-keyring.gpg", "the default for Ubuntu"),
        };
        TrustAnchor { signed_by: SignedBy::files(vec![file.into()]), origin: origin.into() }
    }

    /// The name of the distribution's main archive.
    pub fn main_archive(self) -> &'static str {
        match self {
            Distribution::Debian => "debian",
            Distribution::Ubuntu => "ubuntu",
        }
    }
}

/// One archive of a request, named without its host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedSource {
    /// The archive's name (`debian`, `debian-security`, `ubuntu`).
    pub archive: ArchiveName,
    /// Suites, in the order given; at least one.
    pub suites: Vec<Suite>,
    /// Components, in the order given; at least one.
    pub components: Vec<Component>,
}

impl TryFrom<SourceOptions> for LockedSource {
    type Error = LockError;

    /// Checks the names of one source; errors name it as
    /// `request.sources: archive NAME`.
    fn try_from(source: SourceOptions) -> Result<Self, LockError> {
        let at = format!("request.sources: archive {}", cut(&source.archive));
        let name = |error| LockError::Name { at: at.clone(), error };
        let archive = ArchiveName::new(source.archive).map_err(name)?;
        if source.suites.is_empty() || source.components.is_empty() {
            return Err(LockError::EmptySource { archive: cut(&archive).into_owned() });
        }
        let suites = source.suites.into_iter().map(Suite::new).collect::<Result<_, _>>().map_err(name)?;
        let components = source.components.into_iter().map(Component::new).collect::<Result<_, _>>().map_err(name)?;
        Ok(LockedSource { archive, suites, components })
    }
}

/// Everything a spec or the command line said, in canonical form.
///
/// Deserializing checks the names; [`Request::validate`] checks the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Debian or Ubuntu.
    pub distribution: Distribution,
    /// Target architecture.
    pub architecture: Architecture,
    /// Archives, suites and components; at least one.
    pub sources: Vec<LockedSource>,
    /// A snapshot timestamp, when the archives are read as of a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotTimestamp>,
    /// The base URL of the snapshot archive the snapshot is read from, as
    /// resolved when locking (from the spec, `--snapshot-base` or
    /// `$DEBCLOSURE_SNAPSHOT_BASE`), without credentials or a trailing `/`.
    /// Only with `snapshot`; absent from locks of format version 1, which did
    /// not record it. `check` takes it when the spec names none, so that it
    /// needs no environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_base: Option<SnapshotBase>,
    /// The requested packages (`name`, `name=version`, `name/suite`), in
    /// request order (it matters to the walk).
    pub packages: Vec<String>,
    /// The whole preference table in effect, built-in entries included.
    pub preferences: Preferences,
    /// Excluded packages, sorted.
    pub exclude: Vec<PackageName>,
    /// Whether Recommends are followed.
    pub recommends: bool,
    /// Whether `--strict` was given.
    pub strict: bool,
    /// The base set.
    pub base: Base,
    /// URL prefixes for the generated Nix, by archive, tried in order; each
    /// key an [`ArchiveName`] and each prefix a [`UrlPrefix`] (see
    /// [`Request::validate`]). Plain strings, so that a hand-written lock
    /// whose prefixes debclosure refuses can still be read as data (the Nix
    /// library's tests do).
    pub url_prefixes: BTreeMap<String, Vec<String>>,
}

impl TryFrom<wire::Request> for Request {
    type Error = LockError;

    /// Checks a request as read, in the order of its fields; errors name the
    /// field (`request.architecture: …`).
    fn try_from(w: wire::Request) -> Result<Self, LockError> {
        if w.sources.is_empty() {
            return Err(LockError::NoSources);
        }
        let name = |at: &'static str| move |error| LockError::Name { at: at.to_owned(), error };
        let architecture = Architecture::new(w.architecture).map_err(name("request.architecture"))?;
        let sources = w.sources.into_iter().map(LockedSource::try_from).collect::<Result<_, _>>()?;
        let snapshot = w.snapshot.map(SnapshotTimestamp::new).transpose().map_err(name("request.snapshot"))?;
        let snapshot_base = match w.snapshot_base {
            Some(_) if snapshot.is_none() => return Err(LockError::SnapshotBaseWithoutSnapshot),
            Some(base) => {
                Some(SnapshotBase::new(base).map_err(|error| LockError::Url { at: "request.snapshot_base".into(), error })?)
            }
            None => None,
        };
        requested(&w.packages)?;
        check_preferences(&w.preferences)?;
        let exclude = w.exclude.into_iter().map(PackageName::new).collect::<Result<_, _>>().map_err(name("request.exclude"))?;
        check_url_prefixes(&w.url_prefixes)?;
        Ok(Request {
            distribution: w.distribution,
            architecture,
            sources,
            snapshot,
            snapshot_base,
            packages: w.packages,
            preferences: w.preferences,
            exclude,
            recommends: w.recommends,
            strict: w.strict,
            base: w.base,
            url_prefixes: w.url_prefixes,
        })
    }
}

impl Request {
    /// Refuses an Ubuntu request for an architecture that `mirror://ubuntu`
    /// does not carry (all but amd64 and i386 are in Ubuntu's separate ports
    /// archive) when one of its archives has no URL prefix in `explicit` (the
    /// spec's `[url-prefixes]`, or the flags'): the default would write URLs
    /// that cannot serve the request's `.deb` files.
    pub fn check_ports<K: Borrow<str> + Ord, V>(&self, explicit: &BTreeMap<K, Vec<V>>) -> Result<(), LockError> {
        if self.distribution.mirror_serves(&self.architecture) {
            return Ok(());
        }
        let mut archives: Vec<String> = Vec::new();
        for s in &self.sources {
            let given = explicit.get(s.archive.as_str()).is_some_and(|l| !l.is_empty());
            if !given && !archives.iter().any(|a| s.archive == *a) {
                archives.push(s.archive.to_string());
            }
        }
        if archives.is_empty() {
            return Ok(());
        }
        Err(LockError::PortsArchitecture {
            mirror: self.distribution.mirror_scheme(),
            architecture: self.architecture.to_string(),
            archives,
        })
    }

    /// SHA256 of the request's canonical JSON.
    pub fn digest(&self) -> Sha256 {
        Sha256::of(render_json(self).as_bytes())
    }

    /// The requested packages, parsed.
    pub fn requested(&self) -> Result<Vec<RequestedPackage>, LockError> {
        requested(&self.packages)
    }

    /// The resolver options the request stands for.
    pub fn options(&self) -> ResolveOptions {
        ResolveOptions {
            preferences: self.preferences.clone(),
            exclude: self.exclude.iter().map(|n| n.to_string()).collect(),
            with_recommends: self.recommends,
            strict: self.strict,
            base: self.base,
        }
    }

    /// Checks what the names' types cannot: at least one source, each with
    /// a suite and a component; a snapshot base only with a snapshot; the
    /// requested packages and preferences; and the URL prefixes. Every value
    /// becomes part of a URL, a resolver input or the generated Nix. Locks
    /// are checked with it when read, requests before they are locked.
    pub fn validate(&self) -> Result<(), LockError> {
        if self.sources.is_empty() {
            return Err(LockError::NoSources);
        }
        if let Some(s) = self.sources.iter().find(|s| s.suites.is_empty() || s.components.is_empty()) {
            return Err(LockError::EmptySource { archive: cut(&s.archive).into_owned() });
        }
        if self.snapshot_base.is_some() && self.snapshot.is_none() {
            return Err(LockError::SnapshotBaseWithoutSnapshot);
        }
        self.requested()?;
        check_preferences(&self.preferences)?;
        check_url_prefixes(&self.url_prefixes)
    }
}

/// Parses each requested package.
fn requested(packages: &[String]) -> Result<Vec<RequestedPackage>, LockError> {
    packages.iter().map(|p| RequestedPackage::parse(p).map_err(LockError::BadRequest)).collect()
}

/// Each preference maps a name (or `a | b`) to a package name.
fn check_preferences(preferences: &Preferences) -> Result<(), LockError> {
    for (key, package) in preferences.iter() {
        let valid = key.split(" | ").all(is_valid_package_name) && is_valid_package_name(package);
        if !valid {
            return Err(LockError::BadPreference { key: cut(key).into_owned(), package: cut(package).into_owned() });
        }
    }
    Ok(())
}

/// Each key is an [`ArchiveName`], each prefix a [`UrlPrefix`].
fn check_url_prefixes(url_prefixes: &BTreeMap<String, Vec<String>>) -> Result<(), LockError> {
    for (archive, prefixes) in url_prefixes {
        let at = format!("request.url_prefixes: {}", cut(archive));
        ArchiveName::new(archive.as_str()).map_err(|error| LockError::Name { at: at.clone(), error })?;
        for prefix in prefixes {
            UrlPrefix::new(prefix.as_str()).map_err(|error| LockError::Url { at: at.clone(), error })?;
        }
    }
    Ok(())
}

/// A lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockFile {
    /// Format version ([`LOCK_VERSION`]).
    pub version: u32,
    /// The request.
    pub request: Request,
    /// [`Request::digest`] when the lock was written.
    pub request_sha256: Sha256,
    /// Release files used.
    pub releases: Vec<ReleaseRecord>,
    /// Indices used.
    pub indices: Vec<IndexRecord>,
    /// The closure, sorted by group then name.
    pub packages: Vec<ClosurePackage>,
    /// Choices between several candidates.
    pub choices: Vec<Choice>,
    /// Dependencies assumed met (excluded packages).
    pub assumed: Vec<Assumed>,
}

/// Why a lock file cannot be used, or a request cannot be locked. Values
/// from the input are cut to 60 characters.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Not JSON, or not the lock's shape.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        column: usize,
        /// What serde said.
        message: String,
    },
    /// Written by a newer debclosure.
    #[error("lock format version {found} is newer than this debclosure reads ({LOCK_VERSION})")]
    NewerVersion {
        /// The version in the file.
        found: u32,
    },
    /// No `version` field (or version 0).
    #[error("no format version (expected \"version\": 1)")]
    NoVersion,
    /// The lock holds a field that needs a newer format version than it
    /// says.
    #[error("{field} needs lock format version {needed}, but the lock says version {found}")]
    VersionTooOld {
        /// The field that needs it.
        field: &'static str,
        /// The version the lock's fields need.
        needed: u32,
        /// The version it says.
        found: u32,
    },
    /// A string holds a control character (`why` and `diff` print the
    /// lock's strings to a terminal, and none is ever written).
    #[error("{value:?} contains the control character {character:?}")]
    ControlCharacter {
        /// The string.
        value: String,
        /// The first control character in it.
        character: char,
    },
    /// The request names no source.
    #[error("request.sources is empty")]
    NoSources,
    /// A source has no suite or no component.
    #[error("request.sources: archive {archive}: needs at least one suite and one component")]
    EmptySource {
        /// The source's archive.
        archive: String,
    },
    /// A name breaks the rules of its kind.
    #[error("{at}: {error}")]
    Name {
        /// Where: `request.architecture`, `release PATH`, `package NAME`.
        at: String,
        /// The name and its kind.
        error: NameError,
    },
    /// A URL breaks the rules of its kind.
    #[error("{at}: {error}")]
    Url {
        /// Where: `request.snapshot_base`, `request.url_prefixes: ARCHIVE`.
        at: String,
        /// The URL (redacted) and what is wrong.
        error: UrlError,
    },
    /// A snapshot base without a snapshot.
    #[error("request.snapshot_base is given without request.snapshot")]
    SnapshotBaseWithoutSnapshot,
    /// A Release's `signed_by` holds something other than fingerprints in
    /// upper-case hex, sorted and unique.
    #[error("{at}: signed_by: {value:?} is not an upper-case hex key fingerprint")]
    BadFingerprint {
        /// `release PATH`.
        at: String,
        /// The value, cut.
        value: String,
    },
    /// A requested package does not parse.
    #[error("{}", cut_message(.0.to_string()))]
    BadRequest(PolicyError),
    /// A preference does not map a name to a package.
    #[error("request.preferences: {key:?} = {package:?} is not a name and a package")]
    BadPreference {
        /// The name, or `a | b`.
        key: String,
        /// The package.
        package: String,
    },
    /// A file name is not a safe archive-relative path.
    #[error("{at}: {problem}")]
    UnsafePath {
        /// Where: `release path`, `index path`, `package NAME`.
        at: String,
        /// What is wrong (see [`check_filename`]).
        problem: String,
    },
    /// A package's name is not a package name.
    #[error("package {package}: not a valid package name")]
    BadPackageName {
        /// The name.
        package: String,
    },
    /// A package (of one architecture) is listed twice.
    #[error("package {package}: listed twice")]
    DuplicatePackage {
        /// The package.
        package: String,
    },
    /// A package's version is not a Debian version.
    #[error("package {package}: {error}")]
    BadVersion {
        /// The package.
        package: String,
        /// What is wrong with the version.
        error: VersionError,
    },
    /// The first package is not in group 0.
    #[error("package {package}: groups must start at 0")]
    FirstGroup {
        /// The package.
        package: String,
    },
    /// A group is missing.
    #[error("package {package}: group {group} skips group {skipped}")]
    SkippedGroup {
        /// The package.
        package: String,
        /// Its group.
        group: u32,
        /// The group that no package is in.
        skipped: u32,
    },
    /// Packages are out of order.
    #[error("package {package}: packages are not sorted by group, then name")]
    Unsorted {
        /// The first package out of order.
        package: String,
    },
    /// A package's reason names a package that is not in the lock.
    #[error("package {package}: pulled in by {pulled_by}, which is not in the lock")]
    DanglingReason {
        /// The package.
        package: String,
        /// The package its reason names.
        pulled_by: String,
    },
    /// An Ubuntu request for a ports architecture with archives that have no
    /// URL prefix of their own (see [`Request::check_ports`]).
    #[error(
        "architecture {architecture}: {mirror} serves amd64 and i386 only, and no [url-prefixes] entry names where to download archive{} {} from",
        if .archives.len() == 1 { "" } else { "s" },
        .archives.join(", ")
    )]
    PortsArchitecture {
        /// The distribution's mirror scheme.
        mirror: &'static str,
        /// The request's architecture.
        architecture: String,
        /// The archives without a URL prefix.
        archives: Vec<String>,
    },
    /// The lock cannot be written as Nix (an archive without URL prefixes).
    #[error(transparent)]
    Nix(#[from] crate::nix::NixError),
}

impl LockError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LockError::NewerVersion { .. } => "upgrade debclosure, or write the lock again with this version (`debclosure lock`)".into(),
            LockError::PortsArchitecture { archives, .. } => format!(
                "Ubuntu keeps other architectures in a separate ports archive: give [url-prefixes] in the spec (debclosure.toml) with the URL of your Ubuntu ports mirror for each archive, e.g. {} = [\"URL of your Ubuntu ports mirror\"], and run `debclosure lock` again",
                archives[0]
            ),
            LockError::Nix(e @ crate::nix::NixError::NoPrefix { .. }) => return e.hint(),
            _ => "the lock was edited by hand or damaged; restore it from version control or write it again with `debclosure lock`".into(),
        })
    }
}

impl LockFile {
    /// The oldest format version that holds this lock (see [`LOCK_VERSION`]).
    pub fn format_version(&self) -> u32 {
        self.needed_version().0
    }

    /// [`LockFile::format_version`], and the newest field that needs it.
    fn needed_version(&self) -> (u32, &'static str) {
        if self.releases.iter().any(|r| !r.signed_by.is_empty()) {
            (3, "releases[].signed_by")
        } else if self.request.snapshot_base.is_some() {
            (2, "request.snapshot_base")
        } else {
            (1, "")
        }
    }

    /// Parses and validates a lock.
    pub fn parse(text: &str) -> Result<LockFile, LockError> {
        #[derive(Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        // serde quotes offending values and keys, which may be huge.
        let syntax =
            |e: serde_json::Error| LockError::Syntax { line: e.line(), column: e.column(), message: cut_message(e.to_string()) };
        // The version first, so that a newer format is named as such rather
        // than as an unknown field.
        let probe: Version = serde_json::from_str(text).map_err(syntax)?;
        match probe.version {
            Some(v) if v > LOCK_VERSION => return Err(LockError::NewerVersion { found: v }),
            Some(0) | None => return Err(LockError::NoVersion),
            _ => {}
        }
        let wire: wire::LockFile = serde_json::from_str(text).map_err(syntax)?;
        check_strings(&serde_json::to_value(&wire).expect("a lock serializes to JSON"))?;
        let lock = LockFile {
            version: wire.version,
            request: Request::try_from(wire.request)?,
            request_sha256: wire.request_sha256,
            releases: wire.releases,
            indices: wire.indices,
            packages: wire.packages,
            choices: wire.choices,
            assumed: wire.assumed,
        };
        lock.validate_content()?;
        Ok(lock)
    }

    /// The lock as written to disk.
    pub fn render(&self) -> String {
        render_json(self)
    }

    /// Checks the rules no type can (see the module documentation).
    pub fn validate(&self) -> Result<(), LockError> {
        check_strings(&serde_json::to_value(self).expect("a lock serializes to JSON"))?;
        self.validate_content()
    }

    /// [`LockFile::validate`] but for control characters.
    fn validate_content(&self) -> Result<(), LockError> {
        self.request.validate()?;
        let (needed, field) = self.needed_version();
        if self.version < needed {
            return Err(LockError::VersionTooOld { field, needed, found: self.version });
        }
        let name = |at: &str| {
            let at = at.to_owned();
            move |error| LockError::Name { at, error }
        };
        let path = |at: &str, file: &str| {
            check_filename(file).map_err(|problem| LockError::UnsafePath { at: at.to_owned(), problem })
        };
        for r in &self.releases {
            let at = format!("release {}", cut(&r.path));
            path("release path", &r.path)?;
            ArchiveName::new(r.archive.as_str()).map_err(name(&at))?;
            Suite::new(r.suite.as_str()).map_err(name(&at))?;
            if let Some(bad) = r.signed_by.iter().find(|f| !is_fingerprint(f)) {
                return Err(LockError::BadFingerprint { at, value: cut(bad).into_owned() });
            }
            if r.signed_by.windows(2).any(|w| w[0] >= w[1]) {
                return Err(LockError::BadFingerprint { at, value: "(not sorted and unique)".into() });
            }
        }
        for i in &self.indices {
            let at = format!("index {}", cut(&i.path));
            path("index path", &i.path)?;
            ArchiveName::new(i.archive.as_str()).map_err(name(&at))?;
            Suite::new(i.suite.as_str()).map_err(name(&at))?;
            Component::new(i.component.as_str()).map_err(name(&at))?;
        }
        let mut names = BTreeSet::new();
        let mut previous: Option<(u32, &str)> = None;
        for p in &self.packages {
            let package = cut(&p.name).into_owned();
            let at = format!("package {package}");
            if !is_valid_package_name(&p.name) {
                return Err(LockError::BadPackageName { package });
            }
            if !names.insert((p.name.as_str(), p.architecture.as_str())) {
                return Err(LockError::DuplicatePackage { package });
            }
            crate::version::validate(&p.version).map_err(|error| LockError::BadVersion { package: package.clone(), error })?;
            Architecture::new(p.architecture.as_str()).map_err(name(&at))?;
            if let Some(archive) = &p.archive {
                ArchiveName::new(archive.as_str()).map_err(name(&at))?;
            }
            path(&at, &p.filename)?;
            let key = (p.group, p.name.as_str());
            match previous {
                None if p.group != 0 => return Err(LockError::FirstGroup { package }),
                Some((g, _)) if p.group > g + 1 => {
                    return Err(LockError::SkippedGroup { package, group: p.group, skipped: g + 1 })
                }
                Some(prev) if key <= prev => return Err(LockError::Unsorted { package }),
                _ => {}
            }
            previous = Some(key);
        }
        let present: BTreeSet<&str> = self.packages.iter().map(|p| p.name.as_str()).collect();
        for p in &self.packages {
            if let Why::Dependency { package, .. } = &p.why {
                if !present.contains(package.as_str()) {
                    return Err(LockError::DanglingReason { package: p.name.clone(), pulled_by: cut(package).into_owned() });
                }
            }
        }
        Ok(())
    }
}

/// A message that quotes input, cut to 300 characters.
fn cut_message(mut message: String) -> String {
    if let Some((i, _)) = message.char_indices().nth(300) {
        message.truncate(i);
        message.push('…');
    }
    message
}

/// Refuses a control character in any string of a lock: none is ever
/// written, and `why` and `diff` print these strings to a terminal.
fn check_strings(value: &serde_json::Value) -> Result<(), LockError> {
    use serde_json::Value;
    let check = |s: &str| match s.chars().find(|c| c.is_control()) {
        Some(character) => Err(LockError::ControlCharacter { value: cut(s).into_owned(), character }),
        None => Ok(()),
    };
    match value {
        Value::String(s) => check(s),
        Value::Array(items) => items.iter().try_for_each(check_strings),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| check(k).and_then(|()| check_strings(v))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::{render_fetchurl_groups, UrlStyle};
    use crate::resolve::Rule;

    /// A small lock with every kind of entry, built from fixed data.
    fn sample() -> LockFile {
        let request = Request {
            distribution: Distribution::Debian,
            architecture: "amd64".parse().unwrap(),
            sources: vec![LockedSource {
                archive: "debian".parse().unwrap(),
                suites: vec!["bookworm".parse().unwrap()],
                components: vec!["main".parse().unwrap()],
            }],
            snapshot: None,
            snapshot_base: None,
            packages: vec!["usr-is-merged".into(), "mawk".into()],
            preferences: Preferences::builtin(),
            exclude: vec![],
            recommends: false,
            strict: false,
            base: Base::None,
            url_prefixes: [("debian".to_owned(), vec!["mirror://debian".to_owned()])].into(),
        };
        let pkg = |name: &str, version: &str, file: &str, group: u32, why: Why| ClosurePackage {
            name: name.into(),
            version: version.into(),
            architecture: "amd64".into(),
            archive: Some("debian".into()),
            filename: file.into(),
            sha256: Sha256::of(name.as_bytes()),
            size: 1000 + u64::from(group),
            group,
            why,
        };
        LockFile {
            version: 1,
            request_sha256: request.digest(),
            request,
            releases: vec![ReleaseRecord {
                archive: "debian".into(),
                suite: "bookworm".into(),
                path: "dists/bookworm/InRelease".into(),
                sha256: "1".repeat(64).parse().unwrap(),
                date: "Sat, 10 May 2025 08:47:39 UTC".into(),
                signed_by: vec![],
            }],
            indices: vec![IndexRecord {
                archive: "debian".into(),
                suite: "bookworm".into(),
                component: "main".into(),
                path: "dists/bookworm/main/binary-amd64/Packages.xz".into(),
                sha256: "2".repeat(64).parse().unwrap(),
                size: 8790396,
                content_sha256: "3".repeat(64).parse().unwrap(),
                automatic: true,
            }],
            packages: vec![
                pkg("libc6", "2.36-9+deb12u10", "pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb", 0, Why::Dependency {
                    package: "mawk".into(),
                    field: "Depends".into(),
                    relation: "libc6 (>= 2.34)".into(),
                }),
                pkg("mawk", "1.3.4.20200120-3.1", "pool/main/m/mawk/mawk_1.3.4.20200120-3.1_amd64.deb", 0, Why::Requested),
                pkg("usr-is-merged", "37~deb12u1", "pool/main/u/usrmerge/usr-is-merged_37~deb12u1_all.deb", 1, Why::Requested),
            ],
            choices: vec![Choice {
                required_by: Some("base-files".into()),
                relation: "awk".into(),
                candidates: vec!["mawk".into(), "gawk".into(), "original-awk".into()],
                chosen: "mawk".into(),
                rule: Rule::Preference,
            }],
            assumed: vec![],
        }
    }

    #[test]
    fn format_is_pinned_and_round_trips() {
        let lock = sample();
        let text = lock.render();
        insta::assert_snapshot!("sample.lock", text);
        assert_eq!(LockFile::parse(&text).unwrap(), lock);
        let nix = render_fetchurl_groups(&lock.packages, |_| Ok(vec!["mirror://debian".into()]), UrlStyle::Mirrors, &["header".into()]).unwrap();
        insta::assert_snapshot!("sample.nix", nix);
    }

    /// The keys that signed each Release need format version 3; they are
    /// upper-case hex fingerprints, sorted.
    #[test]
    fn signed_by_needs_format_version_3() {
        let mut lock = sample();
        let (a, b) = ("A".repeat(40), "0123456789ABCDEF".repeat(4));
        lock.releases[0].signed_by = vec![b.clone(), a.clone()];
        lock.releases[0].signed_by.sort();
        lock.version = lock.format_version();
        assert_eq!(lock.version, 3);
        let text = lock.render();
        assert!(text.contains(&format!("\"signed_by\": [\"{b}\", \"{a}\"]")), "{text}");
        assert_eq!(LockFile::parse(&text).unwrap(), lock);
        let cases = [
            (text.replace("\"version\": 3,", "\"version\": 2,"), "releases[].signed_by needs lock format version 3"),
            (text.replace(&a, &a.to_lowercase()), "is not an upper-case hex key fingerprint"),
            (text.replace(&a, "AAAA"), "\"AAAA\" is not an upper-case hex"),
            (text.replace(&a, &b), "not sorted and unique"),
        ];
        for (text, needle) in cases {
            let err = LockFile::parse(&text).expect_err(needle).to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
        // Without signatures checked, nothing is recorded and the version
        // stays the oldest.
        assert!(sample().render().starts_with("{\n  \"version\": 1,\n") && !sample().render().contains("signed_by"));
    }

    /// A lock with a snapshot records the snapshot base, which needs format
    /// version 2; a lock without one is still written as version 1.
    #[test]
    fn snapshot_base_needs_format_version_2() {
        assert_eq!(sample().format_version(), 1);
        let mut lock = sample();
        lock.request.snapshot = Some("20250520T000000Z".parse().unwrap());
        lock.request.snapshot_base = Some(SnapshotBase::new("https://snapshot.invalid").unwrap());
        lock.request.url_prefixes.get_mut("debian").unwrap().push("https://snapshot.invalid/archive/debian/20250520T000000Z".into());
        lock.request_sha256 = lock.request.digest();
        lock.version = lock.format_version();
        assert_eq!(lock.version, 2);
        let text = lock.render();
        insta::assert_snapshot!("snapshot.lock", text);
        assert_eq!(LockFile::parse(&text).unwrap(), lock);
        let cases = [
            (text.replace("\"version\": 2,", "\"version\": 1,"), "needs lock format version 2"),
            (text.replace("\"version\": 2,", "\"version\": 4,"), "newer"),
            (text.replace("\"snapshot\": \"20250520T000000Z\",", ""), "without request.snapshot"),
            (text.replace("\"https://snapshot.invalid\"", "\"mirror://debian\""), "snapshot base \"mirror://debian\" is not an http"),
            (text.replace("\"https://snapshot.invalid\"", "\"file:///srv\""), "is not an http:// or https:// URL"),
            (text.replace("\"https://snapshot.invalid\"", "\"https://u:secret@snapshot.invalid\""), "credentials"),
            (text.replace("\"https://snapshot.invalid\"", "\"https://snapshot.invalid/?x\""), "character '?'"),
        ];
        for (text, needle) in cases {
            let err = LockError::to_string(&LockFile::parse(&text).expect_err(needle));
            assert!(err.contains(needle) && !err.contains("secret"), "{needle}: {err}");
        }
        // An older reader of format version 1 refuses the field; a version 2
        // lock says so as a newer version instead.
        assert!(text.starts_with("{\n  \"version\": 2,\n"), "{text}");
    }

    #[test]
    fn ubuntu_ports_architectures_need_their_own_url_prefixes() {
        let mut request = sample().request;
        request.distribution = Distribution::Ubuntu;
        request.sources[0].archive = "ubuntu".parse().unwrap();
        request.url_prefixes = [("ubuntu".to_owned(), vec!["mirror://ubuntu".to_owned()])].into();
        let none: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for arch in ["amd64", "i386"] {
            request.architecture = arch.parse().unwrap();
            assert!(request.check_ports(&none).is_ok(), "{arch}");
        }
        request.architecture = "arm64".parse().unwrap();
        let err = request.check_ports(&none).unwrap_err();
        assert_eq!(
            err.to_string(),
            "architecture arm64: mirror://ubuntu serves amd64 and i386 only, and no [url-prefixes] entry names where to download archive ubuntu from"
        );
        let hint = err.hint().unwrap();
        assert!(hint.contains("[url-prefixes]") && hint.contains("your Ubuntu ports mirror"), "{hint}");
        let explicit = [("ubuntu".to_owned(), vec!["https://ports.invalid/ubuntu-ports".to_owned()])].into();
        assert!(request.check_ports(&explicit).is_ok());
        // Every archive needs one.
        request.sources.push(LockedSource {
            archive: "extra".parse().unwrap(),
            suites: vec!["noble".parse().unwrap()],
            components: vec!["main".parse().unwrap()],
        });
        assert!(request.check_ports(&explicit).unwrap_err().to_string().ends_with("archive extra from"));
        // Debian's mirror scheme carries every architecture.
        request.distribution = Distribution::Debian;
        assert!(request.check_ports(&none).is_ok());
    }

    #[test]
    fn validation_rejects_what_serde_accepts() {
        let good = sample().render();
        let cases = [
            (good.replace("\"version\": 1,", "\"version\": 4,"), "newer"),
            (good.replace("\"version\": 1,", ""), "version"),
            (good.replace("\"name\": \"mawk\"", "\"name\": \"libc6\""), "listed twice"),
            (good.replace("\"group\": 1", "\"group\": 3"), "skips group"),
            (good.replace("\"name\": \"mawk\"", "\"name\": \"a-mawk\""), "not sorted"),
            (good.replace("pool/main/m/mawk/", "/pool/"), "absolute"),
            (good.replace("\"package\": \"mawk\"", "\"package\": \"nobody\""), "not in the lock"),
            (good.replace("\"recommends\": false", "\"recommends\": false, \"extra\": 1"), "unknown field"),
            (good.replace(&"2".repeat(64), "2"), "hex"),
            (good[..good.len() - 3].to_owned(), "line"),
            // Issue 8: what the request names becomes URLs, Nix and terminal output.
            (good.replace("\"mirror://debian\"", "\"file:///etc\""), "not a mirror://, http:// or https:// URL"),
            (good.replace("\"mirror://debian\"", "\"http://user:secret@host.invalid/debian\""), "credentials"),
            (good.replace("\"mirror://debian\"", "\"https:///debian\""), "no host"),
            (good.replace("\"mirror://debian\"", "\"http://h.invalid/debian?x=\""), "character '?'"),
            (good.replace("\"mirror://debian\"", "\"http://h.invalid/a b\""), "character ' '"),
            (good.replace("\"relation\": \"awk\"", "\"relation\": \"awk\\u001b]0;owned\\u0007\""), "control character"),
            (good.replace("\"suites\": [\"bookworm\"]", "\"suites\": [\"../../x\"]"), "not a suite name"),
            (good.replace("\"components\": [\"main\"]", "\"components\": [\"main/\"]"), "not a component name"),
            (good.replacen("\"archive\": \"debian\"", "\"archive\": \"de/bian\"", 1), "not an archive name"),
            (good.replace("\"debian\": [", "\"..\": ["), "not an archive name"),
            (good.replacen("\"architecture\": \"amd64\"", "\"architecture\": \"amd64/../x\"", 1), "not an architecture"),
            (good.replace("\"exclude\": []", "\"exclude\": [\"Bad\"]"), "request.exclude"),
            (good.replace("\"awk\": \"mawk\"", "\"awk\": \"../mawk\""), "request.preferences"),
            (good.replace("\"base\": \"none\",", "\"base\": \"none\", \"snapshot\": \"yesterday\","), "timestamp"),
            (good.replace("\"usr-is-merged\",", "\"usr-is-merged=1 2\","), "usr-is-merged"),
        ];
        for (text, needle) in cases {
            let err = LockFile::parse(&text).expect_err(needle).to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
        let https = good.replace("\"mirror://debian\"", "\"mirror://debian\", \"https://h.invalid:8443/debian/\"");
        assert!(LockFile::parse(&https).is_ok());
    }

    /// Issue 8: a huge value in a lock is cut in the message.
    #[test]
    fn messages_cut_huge_values() {
        let good = sample().render();
        let huge = "x".repeat(10_000_000);
        for text in [
            good.replace("\"name\": \"mawk\"", &format!("\"name\": \"{huge}\"")),
            good.replace(&"2".repeat(64), &huge),
            good.replace("\"group\": 1", &format!("\"group\": \"{huge}\"")),
            good.replace("\"recommends\": false", &format!("\"recommends\": false, \"{huge}\": 1")),
            good.replace("pool/main/m/mawk/", &format!("/{huge}/")),
            good.replace("\"mirror://debian\"", &format!("\"file://{huge}\"")),
        ] {
            let err = LockFile::parse(&text).unwrap_err().to_string();
            assert!(err.len() < 500, "{} bytes: {}…", err.len(), &err[..200]);
        }
    }
}
