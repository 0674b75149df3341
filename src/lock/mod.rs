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
//! Reading goes through the same types, then [`LockFile::validate`] rejects
//! what serde cannot: newer format versions, a version older than the fields
//! in the lock need, duplicate packages, bad hashes,
//! unsafe paths, groups out of order, reasons that name no package, names
//! that cannot be URL path segments, control characters, and URL prefixes
//! that are not `mirror://`, `http://` or `https://` (see [`check_url_prefix`]).
//!
//! The steps on a lock live beside it: [`Request::from_options`] builds a
//! canonical request from a spec or flags, [`create()`] resolves it into a lock,
//! [`check()`] re-resolves a lock from the indices it pins and compares, and
//! [`LockFile::render_nix`] writes it for Nix.

mod check;
mod create;
mod nix;
mod request;

pub use check::{check, diff_locks, read_bounded, PinnedError, PinnedIndices};
pub use create::{create, LockingError, INDEX_HINT};
pub use request::RequestOptions;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::archive::{IndexRecord, ReleaseRecord};
use crate::deb822::cut;
use crate::hash::Sha256;
use crate::index::check_filename;
use crate::output::render_json;
use crate::relation::is_valid_package_name;
use crate::resolve::{Assumed, Base, Choice, ClosurePackage, Preferences, RequestedPackage, ResolveOptions, Why};

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
pub const LOCK_VERSION: u32 = 2;

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
    pub archive: String,
    /// Suites, in the order given.
    pub suites: Vec<String>,
    /// Components, in the order given.
    pub components: Vec<String>,
}

/// Everything a spec or the command line said, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Debian or Ubuntu.
    pub distribution: Distribution,
    /// Target architecture.
    pub architecture: String,
    /// Archives, suites and components.
    pub sources: Vec<LockedSource>,
    /// A snapshot timestamp, when the archives are read as of a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The base URL of the snapshot archive the snapshot is read from, as
    /// resolved when locking (from the spec, `--snapshot-base` or
    /// `$DEBCLOSURE_SNAPSHOT_BASE`), without credentials or a trailing `/`.
    /// Only with `snapshot`; absent from locks of format version 1, which did
    /// not record it. `check` takes it when the spec names none, so that it
    /// needs no environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_base: Option<String>,
    /// The requested packages, in request order (it matters to the walk).
    pub packages: Vec<String>,
    /// The whole preference table in effect, built-in entries included.
    pub preferences: Preferences,
    /// Excluded packages, sorted.
    pub exclude: Vec<String>,
    /// Whether Recommends are followed.
    pub recommends: bool,
    /// Whether `--strict` was given.
    pub strict: bool,
    /// The base set.
    pub base: Base,
    /// URL prefixes for the generated Nix, by archive, tried in order.
    pub url_prefixes: BTreeMap<String, Vec<String>>,
}

impl Request {
    /// The oldest lock format version that holds this request (see
    /// [`LOCK_VERSION`]).
    pub fn format_version(&self) -> u32 {
        if self.snapshot_base.is_some() {
            2
        } else {
            1
        }
    }

    /// Refuses an Ubuntu request for an architecture that `mirror://ubuntu`
    /// does not carry (all but amd64 and i386 are in Ubuntu's separate ports
    /// archive) when one of its archives has no URL prefix in `explicit` (the
    /// spec's `[url-prefixes]`): the default would write URLs that cannot
    /// serve the request's `.deb` files.
    pub fn check_ports(&self, explicit: &BTreeMap<String, Vec<String>>) -> Result<(), LockError> {
        if self.distribution.mirror_serves(&self.architecture) {
            return Ok(());
        }
        let mut archives: Vec<String> = Vec::new();
        for s in &self.sources {
            let given = explicit.get(&s.archive).is_some_and(|l| !l.is_empty());
            if !given && !archives.contains(&s.archive) {
                archives.push(s.archive.clone());
            }
        }
        if archives.is_empty() {
            return Ok(());
        }
        Err(LockError::PortsArchitecture {
            mirror: self.distribution.mirror_scheme(),
            architecture: self.architecture.clone(),
            archives,
        })
    }

    /// SHA256 of the request's canonical JSON.
    pub fn digest(&self) -> Sha256 {
        Sha256::of(render_json(self).as_bytes())
    }

    /// The requested packages, parsed.
    pub fn requested(&self) -> Result<Vec<RequestedPackage>, LockError> {
        self.packages
            .iter()
            .map(|p| RequestedPackage::parse(p).map_err(|e| LockError::invalid(cut_message(e.to_string()))))
            .collect()
    }

    /// The resolver options the request stands for.
    pub fn options(&self) -> ResolveOptions {
        ResolveOptions {
            preferences: self.preferences.clone(),
            exclude: self.exclude.iter().cloned().collect(),
            with_recommends: self.recommends,
            strict: self.strict,
            base: self.base,
        }
    }
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

/// Why a lock file cannot be used, or a request cannot be locked.
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
    /// Parses, but breaks a rule.
    #[error("{0}")]
    Invalid(String),
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
    fn invalid(message: impl Into<String>) -> Self {
        LockError::Invalid(message.into())
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            LockError::NewerVersion { .. } => "upgrade debclosure, or write the lock again with this version (`debclosure lock`)".into(),
            LockError::PortsArchitecture { archives, .. } => format!(
                "Ubuntu keeps other architectures in a separate ports archive: give [url-prefixes] in the spec (debclosure.toml) with the URL of your Ubuntu ports mirror for each archive, e.g. {} = [\"URL of your Ubuntu ports mirror\"], and run `debclosure lock` again",
                archives[0]
            ),
            LockError::Nix(crate::nix::NixError::NoPrefix { archive, .. }) => {
                format!("add `{archive} = [\"URL\"]` under [url-prefixes] in the spec and run `debclosure lock`")
            }
            _ => "the lock was edited by hand or damaged; restore it from version control or write it again with `debclosure lock`".into(),
        }
    }
}

impl LockFile {
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
            Some(0) | None => return Err(LockError::invalid("no format version (expected \"version\": 1)")),
            _ => {}
        }
        let lock: LockFile = serde_json::from_str(text).map_err(syntax)?;
        lock.validate()?;
        Ok(lock)
    }

    /// The lock as written to disk.
    pub fn render(&self) -> String {
        render_json(self)
    }

    /// Checks the rules serde cannot.
    pub fn validate(&self) -> Result<(), LockError> {
        let bad = |m: String| Err(LockError::invalid(m));
        let invalid = LockError::invalid;
        check_strings(&serde_json::to_value(self).expect("a lock serializes to JSON")).map_err(invalid)?;
        self.request.validate()?;
        let needed = self.request.format_version();
        if self.version < needed {
            return bad(format!(
                "request.snapshot_base needs lock format version {needed}, but the lock says version {}",
                self.version
            ));
        }
        for r in &self.releases {
            let at = format!("release {}", cut(&r.path));
            check_filename(&r.path).map_err(|e| invalid(format!("release path: {e}")))?;
            check_archive_name(&r.archive).map_err(|e| invalid(format!("{at}: {e}")))?;
            check_suite_path("suite", &r.suite).map_err(|e| invalid(format!("{at}: {e}")))?;
        }
        for i in &self.indices {
            let at = format!("index {}", cut(&i.path));
            check_filename(&i.path).map_err(|e| invalid(format!("index path: {e}")))?;
            check_archive_name(&i.archive).map_err(|e| invalid(format!("{at}: {e}")))?;
            check_suite_path("suite", &i.suite).map_err(|e| invalid(format!("{at}: {e}")))?;
            check_suite_path("component", &i.component).map_err(|e| invalid(format!("{at}: {e}")))?;
        }
        let mut names = BTreeSet::new();
        let mut previous: Option<(u32, &str)> = None;
        for p in &self.packages {
            let at = format!("package {}", cut(&p.name));
            if !is_valid_package_name(&p.name) {
                return bad(format!("{at}: not a valid package name"));
            }
            if !names.insert((p.name.as_str(), p.architecture.as_str())) {
                return bad(format!("{at}: listed twice"));
            }
            crate::version::validate(&p.version).map_err(|e| invalid(format!("{at}: {e}")))?;
            check_architecture(&p.architecture).map_err(|e| invalid(format!("{at}: {e}")))?;
            if let Some(archive) = &p.archive {
                check_archive_name(archive).map_err(|e| invalid(format!("{at}: {e}")))?;
            }
            check_filename(&p.filename).map_err(|e| invalid(format!("{at}: {e}")))?;
            let key = (p.group, p.name.as_str());
            match previous {
                None if p.group != 0 => return bad(format!("{at}: groups must start at 0")),
                Some((g, _)) if p.group > g + 1 => return bad(format!("{at}: group {} skips group {}", p.group, g + 1)),
                Some(prev) if key <= prev => return bad(format!("{at}: packages are not sorted by group, then name")),
                _ => {}
            }
            previous = Some(key);
        }
        let present: BTreeSet<&str> = self.packages.iter().map(|p| p.name.as_str()).collect();
        for p in &self.packages {
            if let Why::Dependency { package, .. } = &p.why {
                if !present.contains(package.as_str()) {
                    return bad(format!("package {}: pulled in by {}, which is not in the lock", p.name, cut(package)));
                }
            }
        }
        Ok(())
    }
}

impl Request {
    /// Checks what the request names: every value becomes part of a URL, a
    /// resolver input or the generated Nix, so each must be what its kind of
    /// value can be. Locks are validated with it when read, specs when parsed.
    pub fn validate(&self) -> Result<(), LockError> {
        let invalid = LockError::invalid;
        if self.sources.is_empty() {
            return Err(invalid("request.sources is empty".into()));
        }
        check_architecture(&self.architecture).map_err(|e| invalid(format!("request.architecture: {e}")))?;
        for s in &self.sources {
            let at = format!("request.sources: archive {}", cut(&s.archive));
            check_archive_name(&s.archive).map_err(|e| invalid(format!("{at}: {e}")))?;
            check_suites_and_components(&s.suites, &s.components).map_err(|e| invalid(format!("{at}: {e}")))?;
        }
        if let Some(snapshot) = &self.snapshot {
            check_snapshot(snapshot).map_err(|e| invalid(format!("request.snapshot: {e}")))?;
        }
        if let Some(base) = &self.snapshot_base {
            if self.snapshot.is_none() {
                return Err(invalid("request.snapshot_base is given without request.snapshot".into()));
            }
            check_snapshot_base(base).map_err(|e| invalid(format!("request.snapshot_base: {e}")))?;
        }
        self.requested()?;
        for (key, package) in self.preferences.iter() {
            let valid = key.split(" | ").all(is_valid_package_name) && is_valid_package_name(package);
            if !valid {
                return Err(invalid(format!("request.preferences: {:?} = {:?} is not a name and a package", cut(key), cut(package))));
            }
        }
        for name in &self.exclude {
            if !is_valid_package_name(name) {
                return Err(invalid(format!("request.exclude: {:?} is not a valid package name", cut(name))));
            }
        }
        for (archive, prefixes) in &self.url_prefixes {
            let at = format!("request.url_prefixes: {}", cut(archive));
            check_archive_name(archive).map_err(|e| invalid(format!("{at}: {e}")))?;
            for prefix in prefixes {
                check_url_prefix(prefix).map_err(|e| invalid(format!("{at}: {e}")))?;
            }
        }
        Ok(())
    }
}

/// Checks a URL prefix that the generated Nix downloads `.deb` files from:
/// `mirror://` (nixpkgs' mirror lists), `http://` or `https://`, with a host,
/// no credentials (they would be written to the lock and to the world-readable
/// Nix store), and no white space, control character, quote, backslash, query
/// or fragment (the file name is appended after a `/`).
///
/// Not `file:`: a lock must give the same fetches on every machine, and a
/// `file:` URL makes Nix's fetcher read a path on whatever machine builds,
/// outside the project. (Apt's own source lists may name `file:` archives;
/// those are local repositories for apt, not URLs to write into a lock.)
pub fn check_url_prefix(url: &str) -> Result<(), String> {
    check_lock_url("URL prefix", url, &["mirror://", "http://", "https://"], "a mirror://, http:// or https://")
}

/// Checks a lock's snapshot base: as [`check_url_prefix`], but `http://` or
/// `https://` only, since debclosure downloads from it itself.
pub fn check_snapshot_base(url: &str) -> Result<(), String> {
    check_lock_url("snapshot base", url, &["http://", "https://"], "an http:// or https://")
}

/// The rules of a URL written into a lock; `what` names it in messages,
/// `schemes_text` lists `schemes` for them, with its article.
fn check_lock_url(what: &str, url: &str, schemes: &[&str], schemes_text: &str) -> Result<(), String> {
    // Credentials are refused below; they are not shown on the way.
    let shown = crate::url::redact_url(url);
    let shown = cut(&shown);
    let Some(rest) = schemes.iter().find_map(|s| url.strip_prefix(s)) else {
        return Err(format!("{what} {shown:?} is not {schemes_text} URL"));
    };
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '?' | '#')) {
        return Err(format!("{what} {shown:?} contains the character {c:?}"));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("{what} {shown:?} has no host"));
    }
    if authority.contains('@') {
        return Err(format!("{what} {shown:?} holds credentials, which would be written into the lock and the Nix store"));
    }
    Ok(())
}

/// Characters of one path segment of an archive, suite or component name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '-' | ':')
}

/// Checks an archive name (`debian`, `debian-security`): one URL path segment.
pub fn check_archive_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || !name.chars().all(is_name_char) {
        return Err(format!("{:?} is not an archive name (letters, digits and . _ + ~ - :)", cut(name)));
    }
    Ok(())
}

/// Checks the suites and components of one source: at least one of each,
/// each a safe URL path piece.
pub fn check_suites_and_components(suites: &[String], components: &[String]) -> Result<(), String> {
    if suites.is_empty() || components.is_empty() {
        return Err("needs at least one suite and one component".into());
    }
    for suite in suites {
        check_suite_path("suite", suite)?;
    }
    for component in components {
        check_suite_path("component", component)?;
    }
    Ok(())
}

/// Checks a suite or component (`bookworm`, `main`, `bookworm/updates`):
/// path segments of archive-name characters, none empty, `.` or `..`.
pub fn check_suite_path(what: &str, name: &str) -> Result<(), String> {
    let ok = name.split('/').all(|part| part != "." && part != ".." && !part.is_empty() && part.chars().all(is_name_char));
    if !ok {
        return Err(format!("{:?} is not a {what} name", cut(name)));
    }
    Ok(())
}

/// Checks a Debian architecture name (`amd64`, `arm64`, `all`).
pub fn check_architecture(arch: &str) -> Result<(), String> {
    if arch.is_empty() || !arch.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-') {
        return Err(format!("{:?} is not an architecture name", cut(arch)));
    }
    Ok(())
}

/// Checks a snapshot timestamp: `YYYYMMDDTHHMMSSZ`, as the snapshot archive
/// writes it.
pub fn check_snapshot(timestamp: &str) -> Result<(), String> {
    let b = timestamp.as_bytes();
    let ok = b.len() == 16
        && b[..8].iter().all(u8::is_ascii_digit)
        && b[8] == b'T'
        && b[9..15].iter().all(u8::is_ascii_digit)
        && b[15] == b'Z';
    if !ok {
        return Err(format!("{:?} is not a timestamp like 20250520T000000Z", cut(timestamp)));
    }
    Ok(())
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
fn check_strings(value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let check = |s: &str| match s.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!("{:?} contains the control character {c:?}", cut(s))),
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
            architecture: "amd64".into(),
            sources: vec![LockedSource { archive: "debian".into(), suites: vec!["bookworm".into()], components: vec!["main".into()] }],
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
            version: request.format_version(),
            request_sha256: request.digest(),
            request,
            releases: vec![ReleaseRecord {
                archive: "debian".into(),
                suite: "bookworm".into(),
                path: "dists/bookworm/InRelease".into(),
                sha256: "1".repeat(64).parse().unwrap(),
                date: "Sat, 10 May 2025 08:47:39 UTC".into(),
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

    /// A lock with a snapshot records the snapshot base, which needs format
    /// version 2; a lock without one is still written as version 1.
    #[test]
    fn snapshot_base_needs_format_version_2() {
        assert_eq!(sample().request.format_version(), 1);
        let mut lock = sample();
        lock.request.snapshot = Some("20250520T000000Z".into());
        lock.request.snapshot_base = Some("https://snapshot.invalid".into());
        lock.request.url_prefixes.get_mut("debian").unwrap().push("https://snapshot.invalid/archive/debian/20250520T000000Z".into());
        lock.request_sha256 = lock.request.digest();
        lock.version = lock.request.format_version();
        assert_eq!(lock.version, 2);
        let text = lock.render();
        insta::assert_snapshot!("snapshot.lock", text);
        assert_eq!(LockFile::parse(&text).unwrap(), lock);
        let cases = [
            (text.replace("\"version\": 2,", "\"version\": 1,"), "needs lock format version 2"),
            (text.replace("\"version\": 2,", "\"version\": 3,"), "newer"),
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
        request.sources[0].archive = "ubuntu".into();
        request.url_prefixes = [("ubuntu".to_owned(), vec!["mirror://ubuntu".to_owned()])].into();
        let none = BTreeMap::new();
        for arch in ["amd64", "i386"] {
            request.architecture = arch.into();
            assert!(request.check_ports(&none).is_ok(), "{arch}");
        }
        request.architecture = "arm64".into();
        let err = request.check_ports(&none).unwrap_err();
        assert_eq!(
            err.to_string(),
            "architecture arm64: mirror://ubuntu serves amd64 and i386 only, and no [url-prefixes] entry names where to download archive ubuntu from"
        );
        assert!(err.hint().contains("[url-prefixes]") && err.hint().contains("your Ubuntu ports mirror"), "{}", err.hint());
        let explicit = [("ubuntu".to_owned(), vec!["https://ports.invalid/ubuntu-ports".to_owned()])].into();
        assert!(request.check_ports(&explicit).is_ok());
        // Every archive needs one.
        request.sources.push(LockedSource { archive: "extra".into(), suites: vec!["noble".into()], components: vec!["main".into()] });
        assert!(request.check_ports(&explicit).unwrap_err().to_string().ends_with("archive extra from"));
        // Debian's mirror scheme carries every architecture.
        request.distribution = Distribution::Debian;
        assert!(request.check_ports(&none).is_ok());
    }

    #[test]
    fn validation_rejects_what_serde_accepts() {
        let good = sample().render();
        let cases = [
            (good.replace("\"version\": 1,", "\"version\": 3,"), "newer"),
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
