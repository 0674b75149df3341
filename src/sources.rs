//! Which archives to read: apt's own source lists (the one-line
//! `sources.list` format and the deb822 `.sources` format, see
//! sources.list(5)), a `--source "URL SUITE COMPONENT..."` argument, or a
//! mirror with suites and components.
//!
//! An archive is named by the last segment of its URL path (`debian`,
//! `debian-security`, `ubuntu`), so that records and locks can name it
//! without naming a host.
//!
//! [`Locator`] decides where each archive is downloaded from: every mirror
//! and snapshot choice of every command goes through it, in one order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::deb822;
use crate::signature::{apt_trusted_keyrings, SignedBy, TrustAnchor};
use crate::url::redact_url;

/// Why a source list or argument is invalid.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    /// A source file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line or stanza is malformed.
    #[error("{file}:{line}: {problem}")]
    Syntax {
        /// The file (or "--source").
        file: String,
        /// Line, from 1.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

impl SourcesError {
    /// What the user can do about it: nothing beyond what the message
    /// says (the file, the line and the problem).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// One archive and the suites and components to read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSource {
    /// Base URL of the archive (the directory holding `dists/` and `pool/`),
    /// without a trailing slash.
    pub uri: String,
    /// Suites (`bookworm`, `bookworm-updates`).
    pub suites: Vec<String>,
    /// Components (`main`, `universe`).
    pub components: Vec<String>,
    /// The keys `Signed-By` names, if any, and where.
    pub signed_by: Option<TrustAnchor>,
    /// The archive's name when it is not the last segment of `uri`: a
    /// snapshot archive's URL ends in its timestamp, and a spec names its
    /// archives whatever their mirror's URL.
    pub name: Option<String>,
}

impl ArchiveSource {
    /// The archive's name: [`ArchiveSource::name`], else the last segment of
    /// its URL path.
    pub fn archive(&self) -> String {
        self.name.clone().unwrap_or_else(|| archive_name(&self.uri))
    }
}

/// The last non-empty segment of a URL's path (`debian-security` for
/// `http://host/debian-security/`); what follows the scheme if it has no
/// path, without the credentials (the name appears in records and
/// messages).
pub fn archive_name(uri: &str) -> String {
    let uri = redact_url(uri);
    let without_scheme = uri.split_once("://").map_or(uri.as_str(), |(_, rest)| rest);
    let path = without_scheme.split_once('/').map_or("", |(_, p)| p);
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(without_scheme)
        .to_owned()
}

fn check_uri(uri: &str, file: &str, line: usize) -> Result<String, SourcesError> {
    let ok = ["http://", "https://", "file:/"].iter().any(|s| uri.starts_with(s));
    if !ok || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(SourcesError::Syntax {
            file: file.to_owned(),
            line,
            problem: format!("{uri:?} is not an http, https or file URL"),
        });
    }
    Ok(uri.trim_end_matches('/').to_owned())
}

/// A `Signed-By` value of `file` at `line` (`--source` for the flag).
fn signed_by(value: &str, file: &str, line: usize) -> Result<TrustAnchor, SourcesError> {
    let signed_by = SignedBy::parse(value).map_err(|problem| SourcesError::Syntax { file: file.to_owned(), line, problem })?;
    let origin = if file == "--source" { "--source".to_owned() } else { format!("Signed-By in {file}:{line}") };
    Ok(TrustAnchor { signed_by, origin })
}

fn check_suite(suite: &str, file: &str, line: usize) -> Result<(), SourcesError> {
    if suite.ends_with('/') || suite.is_empty() || suite.contains("..") {
        return Err(SourcesError::Syntax {
            file: file.to_owned(),
            line,
            problem: format!("suite {suite:?} is not supported (flat repositories are not)"),
        });
    }
    Ok(())
}

/// Parses the one-line format: `deb [option=value ...] URI SUITE COMPONENT...`.
/// `deb-src` lines and comments are skipped.
pub fn parse_sources_list(text: &str, file: &str) -> Result<Vec<ArchiveSource>, SourcesError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or_default().trim();
        if content.is_empty() {
            continue;
        }
        let syntax = |problem: String| SourcesError::Syntax { file: file.to_owned(), line, problem };
        let (kind, rest) = content.split_once(char::is_whitespace).unwrap_or((content, ""));
        match kind {
            "deb-src" => continue,
            "deb" => {}
            other => return Err(syntax(format!("expected `deb` or `deb-src`, found {other:?}"))),
        }
        let mut rest = rest.trim_start();
        let mut signed_by = None;
        if let Some(opts) = rest.strip_prefix('[') {
            let (opts, after) = opts.split_once(']').ok_or_else(|| syntax("unclosed `[`".into()))?;
            for opt in opts.split_whitespace() {
                if let Some(value) = opt.strip_prefix("signed-by=") {
                    signed_by = Some(self::signed_by(value, file, line)?);
                }
            }
            rest = after;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        if words.len() < 3 {
            return Err(syntax("expected URI, suite and at least one component".into()));
        }
        check_suite(words[1], file, line)?;
        out.push(ArchiveSource {
            uri: check_uri(words[0], file, line)?,
            suites: vec![words[1].to_owned()],
            components: words[2..].iter().map(|s| (*s).to_owned()).collect(),
            signed_by,
            name: None,
        });
    }
    Ok(out)
}

/// Parses the deb822 format (`Types:`, `URIs:`, `Suites:`, `Components:`,
/// `Signed-By:`, `Enabled:`). Stanzas without `deb` in `Types` or with
/// `Enabled: no` are skipped.
pub fn parse_deb822_sources(text: &str, file: &str) -> Result<Vec<ArchiveSource>, SourcesError> {
    let mut out = Vec::new();
    for stanza in deb822::parse(text) {
        let stanza = stanza.map_err(|e| SourcesError::Syntax { file: file.to_owned(), line: e.line, problem: e.problem })?;
        let words = |name: &str| -> Vec<String> {
            stanza.get(name).map(|v| v.split_whitespace().map(str::to_owned).collect()).unwrap_or_default()
        };
        if !words("Types").iter().any(|t| t == "deb") || stanza.get("Enabled") == Some("no") {
            continue;
        }
        let line = stanza.line;
        let missing = |what: &str| SourcesError::Syntax {
            file: file.to_owned(),
            line,
            problem: format!("stanza has no {what}"),
        };
        let (uris, suites, components) = (words("URIs"), words("Suites"), words("Components"));
        if uris.is_empty() {
            return Err(missing("URIs"));
        }
        if suites.is_empty() {
            return Err(missing("Suites"));
        }
        if components.is_empty() {
            return Err(missing("Components"));
        }
        for suite in &suites {
            check_suite(suite, file, line)?;
        }
        let signed_by = match stanza.field("Signed-By") {
            Some(field) => Some(self::signed_by(field.value, file, field.line)?),
            None => None,
        };
        for uri in &uris {
            out.push(ArchiveSource {
                uri: check_uri(uri, file, line)?,
                suites: suites.clone(),
                components: components.clone(),
                signed_by: signed_by.clone(),
                name: None,
            });
        }
    }
    Ok(out)
}

/// Parses a `--source "URI SUITE COMPONENT..."` argument.
pub fn parse_source_arg(arg: &str) -> Result<ArchiveSource, SourcesError> {
    let mut sources = parse_sources_list(&format!("deb {arg}"), "--source")?;
    Ok(sources.remove(0))
}

/// The machine's apt sources under `root` (normally `/`):
/// `etc/apt/sources.list`, then `etc/apt/sources.list.d/*.list` and
/// `*.sources` in file-name order. Entries for one URI are merged.
pub fn system_sources(root: &Path) -> Result<Vec<ArchiveSource>, SourcesError> {
    let etc = root.join("etc/apt");
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| SourcesError::Read { path: path.display().to_string(), source })
    };
    let mut out = Vec::new();
    let main = etc.join("sources.list");
    if main.is_file() {
        out.extend(parse_sources_list(&read(&main)?, &main.display().to_string())?);
    }
    let dir = etc.join("sources.list.d");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    for path in files {
        let label = path.display().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("list") => out.extend(parse_sources_list(&read(&path)?, &label)?),
            Some("sources") => out.extend(parse_deb822_sources(&read(&path)?, &label)?),
            _ => {}
        }
    }
    Ok(merge(out))
}

/// Merges entries with the same URI, keeping the first-seen order of suites
/// and components.
fn merge(sources: Vec<ArchiveSource>) -> Vec<ArchiveSource> {
    let mut out: Vec<ArchiveSource> = Vec::new();
    for s in sources {
        match out.iter_mut().find(|o| o.uri == s.uri) {
            Some(o) => {
                for suite in s.suites {
                    if !o.suites.contains(&suite) {
                        o.suites.push(suite);
                    }
                }
                for c in s.components {
                    if !o.components.contains(&c) {
                        o.components.push(c);
                    }
                }
                o.signed_by = o.signed_by.take().or(s.signed_by);
            }
            None => out.push(s),
        }
    }
    out
}

/// Why an archive has nowhere to be downloaded from.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    /// The machine's apt sources could not be read.
    #[error(transparent)]
    Sources(#[from] SourcesError),
    /// Nothing names a mirror for an archive.
    #[error("no mirror for archive {archive}")]
    NoMirror {
        /// The archive.
        archive: String,
        /// Whether it is the distribution's main archive (which `--mirror`
        /// and `$DEBCLOSURE_MIRROR` serve).
        main: bool,
    },
    /// `--suite` without a mirror, and no apt sources to take one from.
    #[error("no mirror for --suite")]
    NoSuiteMirror,
    /// `--mirror` or `--component` without a `--suite` to read.
    #[error("--mirror and --component need at least one --suite")]
    MirrorWithoutSuite,
    /// No flag names an archive, and the machine has no apt sources.
    #[error("no archive configured: the machine has no apt sources")]
    NoArchive,
    /// A snapshot, and no base URL of a snapshot archive to read it from.
    #[error("snapshot {timestamp} needs the snapshot archive's base URL")]
    NoSnapshotBase {
        /// The snapshot timestamp.
        timestamp: String,
    },
}

impl LocateError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LocateError::Sources(_) => return None,
            LocateError::NoMirror { archive, main: true } => format!(
                "pass --mirror URL or --source \"URL SUITE COMPONENT...\", add `mirror = \"URL\"` to the [[source]] of {archive} in the spec, or set DEBCLOSURE_MIRROR"
            ),
            LocateError::NoMirror { archive, main: false } => format!(
                "pass --source \"URL SUITE COMPONENT...\" for {archive}, or add `mirror = \"URL\"` to its [[source]] in the spec"
            ),
            LocateError::NoSuiteMirror => "pass --mirror URL or set DEBCLOSURE_MIRROR".into(),
            LocateError::MirrorWithoutSuite => "add --suite NAME (e.g. --suite bookworm)".into(),
            LocateError::NoArchive => "pass --mirror URL --suite NAME, --source, or --packages-file".into(),
            LocateError::NoSnapshotBase { .. } => "pass --snapshot-base URL or set DEBCLOSURE_SNAPSHOT_BASE".into(),
        })
    }
}

/// A request's snapshot, as [`Locator::archive_uri`] needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotRef<'a> {
    /// The timestamp (`20250520T000000Z`).
    pub timestamp: &'a str,
    /// The base URL a lock recorded, if any: the last resort.
    pub recorded_base: Option<&'a str>,
}

/// Where archives are downloaded from: every mirror and snapshot decision
/// goes through here, in one precedence order.
///
/// - With a snapshot, every archive is read from the snapshot archive,
///   [`snapshot_uri`]`(BASE, ARCHIVE, TIMESTAMP)`, with BASE the first of
///   `--snapshot-base`, the spec's `snapshot-base`,
///   `$DEBCLOSURE_SNAPSHOT_BASE` and the base the lock recorded.
/// - Otherwise an archive is read from the first of: a `--source` for that
///   archive; `--mirror` (the distribution's main archive only); the spec's
///   `mirror` for it; `$DEBCLOSURE_MIRROR` (the main archive only); the
///   machine's apt source for it.
///
/// Flags come first because they are about this run on this machine; the
/// spec is shared, and the environment is this machine's default. None of it
/// is written to a lock except a snapshot base (see
/// [`Locator::snapshot_base_to_record`]), so any mirror gives the same lock.
///
/// The keys an archive must be signed by follow the same order
/// ([`Locator::trust_anchor`]): they belong to the archive, whichever
/// mirror serves it.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    /// `--source` archives, each read from its own URL.
    pub sources: Vec<ArchiveSource>,
    /// `--mirror`: the main archive's URL.
    pub mirror: Option<String>,
    /// The spec's `[[source]] mirror`s, by archive name.
    pub spec_mirrors: BTreeMap<String, String>,
    /// `$DEBCLOSURE_MIRROR`: the main archive's URL.
    pub env_mirror: Option<String>,
    /// The root whose `etc/apt` sources are read (normally `/`); `None`
    /// reads none.
    pub apt_root: Option<PathBuf>,
    /// `--snapshot-base`.
    pub snapshot_base: Option<String>,
    /// The spec's `snapshot-base`.
    pub spec_snapshot_base: Option<String>,
    /// `$DEBCLOSURE_SNAPSHOT_BASE`.
    pub env_snapshot_base: Option<String>,
    /// `--keyring`: the keyrings of every archive of this run.
    pub keyrings: Vec<PathBuf>,
    /// The spec's `[[source]] keyring`s, by archive name.
    pub spec_keyrings: BTreeMap<String, Vec<PathBuf>>,
    /// The spec's top-level `keyring`: of every archive without its own.
    pub spec_default_keyrings: Vec<PathBuf>,
}

/// The mirror variable.
pub const ENV_MIRROR: &str = "DEBCLOSURE_MIRROR";
/// The snapshot base variable.
pub const ENV_SNAPSHOT_BASE: &str = "DEBCLOSURE_SNAPSHOT_BASE";

impl Locator {
    /// A locator with this process's environment and the machine's apt
    /// sources (under `/`), and no flags or spec yet.
    pub fn from_env() -> Locator {
        Locator::from_lookup(|name| std::env::var(name).ok(), Some(PathBuf::from("/")))
    }

    /// As [`Locator::from_env`], with variables from `lookup` (blank ones
    /// count as unset) and apt sources under `apt_root`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>, apt_root: Option<PathBuf>) -> Locator {
        let var = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        Locator { env_mirror: var(ENV_MIRROR), env_snapshot_base: var(ENV_SNAPSHOT_BASE), apt_root, ..Locator::default() }
    }

    /// The machine's apt sources, read now (none without an `apt_root`).
    fn apt_sources(&self) -> Result<Vec<ArchiveSource>, SourcesError> {
        self.apt_root.as_deref().map_or(Ok(Vec::new()), system_sources)
    }

    /// The snapshot archive's base URL to download from: `--snapshot-base`,
    /// the spec's, `$DEBCLOSURE_SNAPSHOT_BASE`, then `recorded` (a lock's).
    ///
    /// A lock records the spec's own base when it names one (the spec is
    /// the request), else this one without `recorded`.
    pub fn snapshot_base(&self, recorded: Option<&str>) -> Option<String> {
        [self.snapshot_base.as_deref(), self.spec_snapshot_base.as_deref(), self.env_snapshot_base.as_deref(), recorded]
            .into_iter()
            .flatten()
            .next()
            .map(str::to_owned)
    }

    /// The snapshot base a new lock records (`lock`, `update`): the spec's
    /// own, since the spec is the request and `check` compares with it;
    /// else [`Locator::snapshot_base`] (a flag or the environment).
    pub fn snapshot_base_to_record(&self) -> Option<String> {
        self.spec_snapshot_base.clone().or_else(|| self.snapshot_base(None))
    }

    /// The base URL to read `archive` from (see [`Locator`] for the order);
    /// `main` is the distribution's main archive.
    pub fn archive_uri(&self, archive: &str, main: &str, snapshot: Option<SnapshotRef<'_>>) -> Result<String, LocateError> {
        if let Some(s) = snapshot {
            let base = self
                .snapshot_base(s.recorded_base)
                .ok_or_else(|| LocateError::NoSnapshotBase { timestamp: s.timestamp.to_owned() })?;
            return Ok(snapshot_uri(&base, archive, s.timestamp));
        }
        let is_main = archive == main;
        let flag = self.sources.iter().find(|s| s.archive() == archive).map(|s| s.uri.clone());
        let mirror = [self.mirror.as_ref().filter(|_| is_main), self.spec_mirrors.get(archive), self.env_mirror.as_ref().filter(|_| is_main)]
            .into_iter()
            .flatten()
            .next()
            .map(|m| m.trim_end_matches('/').to_owned());
        if let Some(uri) = flag.or(mirror) {
            return Ok(uri);
        }
        match self.apt_sources()?.into_iter().find(|a| a.archive() == archive) {
            Some(a) => Ok(a.uri),
            None => Err(LocateError::NoMirror { archive: archive.to_owned(), main: is_main }),
        }
    }

    /// The keys `archive` must be signed by: the `Signed-By` of a
    /// `--source` for it; `--keyring`; the spec's `[[source]] keyring` for
    /// it, then its top-level `keyring`; the `Signed-By` of the machine's
    /// apt source for it; else `default`, the distribution's archive
    /// keyring. Never several of them merged.
    pub fn trust_anchor(&self, archive: &str, default: &TrustAnchor) -> Result<TrustAnchor, SourcesError> {
        let named = |s: &&ArchiveSource| s.archive() == archive && s.signed_by.is_some();
        if let Some(anchor) = self.sources.iter().find(named).and_then(|s| s.signed_by.clone()) {
            return Ok(anchor);
        }
        let files = |files: &[PathBuf], origin: &str| TrustAnchor { signed_by: SignedBy::files(files.to_vec()), origin: origin.to_owned() };
        if !self.keyrings.is_empty() {
            return Ok(files(&self.keyrings, "--keyring"));
        }
        if let Some(keyrings) = self.spec_keyrings.get(archive).filter(|k| !k.is_empty()) {
            return Ok(files(keyrings, &format!("the spec's [[source]] keyring of {archive}")));
        }
        if !self.spec_default_keyrings.is_empty() {
            return Ok(files(&self.spec_default_keyrings, "the spec's keyring"));
        }
        let apt = self.apt_sources()?;
        Ok(apt.iter().find(named).and_then(|s| s.signed_by.clone()).unwrap_or_else(|| default.clone()))
    }

    /// The keyring files apt trusts on this machine (under the apt root),
    /// from which `Signed-By` fingerprints without a keyring select.
    pub fn trusted_keyrings(&self) -> Vec<PathBuf> {
        apt_trusted_keyrings(self.apt_root.as_deref().unwrap_or(Path::new("/")))
    }

    /// The archives the flags name, for commands without a spec or lock:
    /// each `--source`, after the archive `--suite` and `--component` make
    /// of the main mirror (`--mirror`, else `$DEBCLOSURE_MIRROR`, else the
    /// first apt source; there is no archive name to look for yet); with
    /// neither, the machine's apt sources. With `snapshot`, each is read from
    /// the snapshot archive instead, keeping its name.
    pub fn flag_archives(
        &self,
        suites: &[String],
        components: &[String],
        snapshot: Option<&str>,
    ) -> Result<Vec<ArchiveSource>, LocateError> {
        let mut out = self.sources.clone();
        if let Some(first) = suites.first() {
            let uri = match self.mirror.clone().or_else(|| self.env_mirror.clone()) {
                Some(uri) => uri,
                None => self.apt_sources()?.into_iter().next().ok_or(LocateError::NoSuiteMirror)?.uri,
            };
            let components = if components.is_empty() { vec!["main".to_owned()] } else { components.to_vec() };
            let mut source = parse_source_arg(&format!("{uri} {first} {}", components.join(" ")))?;
            source.suites = suites.to_vec();
            out.insert(0, source);
        } else if self.mirror.is_some() || !components.is_empty() {
            return Err(LocateError::MirrorWithoutSuite);
        }
        if out.is_empty() {
            out = self.apt_sources()?;
            if out.is_empty() {
                return Err(LocateError::NoArchive);
            }
        }
        if let Some(timestamp) = snapshot {
            for s in &mut out {
                let archive = s.archive();
                s.uri = self.archive_uri(&archive, &archive, Some(SnapshotRef { timestamp, recorded_base: None }))?;
                // The snapshot's URL ends in the timestamp: keep the name.
                s.name = Some(archive);
            }
        }
        Ok(out)
    }
}

/// `BASE/archive/ARCHIVE/TIMESTAMP`, the layout of Debian's snapshot archive.
pub fn snapshot_uri(base: &str, archive: &str, timestamp: &str) -> String {
    format!("{}/archive/{archive}/{timestamp}", base.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "# comment\ndeb http://mirror.test/debian bookworm main contrib\n\
        deb-src http://mirror.test/debian bookworm main\n\
        deb [arch=amd64 signed-by=/k.gpg] https://mirror.test/debian-security/ bookworm-security main # tail\n";

    #[test]
    fn one_line_format() {
        let s = parse_sources_list(LIST, "l").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].components, ["main", "contrib"]);
        assert_eq!(s[1].uri, "https://mirror.test/debian-security");
        assert_eq!(s[1].archive(), "debian-security");
        let anchor = s[1].signed_by.as_ref().unwrap();
        assert_eq!((anchor.signed_by.files.as_slice(), anchor.origin.as_str()), ([PathBuf::from("/k.gpg")].as_slice(), "Signed-By in l:4"));
        let err = parse_sources_list("deb [signed-by=k.gpg] http://x/d a b\n", "l").unwrap_err();
        assert_eq!(err.to_string(), "l:1: Signed-By: \"k.gpg\" is neither an absolute keyring path nor a key fingerprint");
        for (bad, line) in [("deb http://x/d\n", 1), ("\nrpm http://x/d a b\n", 2), ("deb ftp://x/d a b\n", 1), ("deb http://x/d ./ \n", 1)] {
            match parse_sources_list(bad, "l") {
                Err(SourcesError::Syntax { line: l, .. }) => assert_eq!(l, line, "{bad:?}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn deb822_format() {
        let text = "Types: deb deb-src\nURIs: http://mirror.test/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/k.gpg\n\n\
            Types: deb-src\nURIs: http://mirror.test/debian\nSuites: bookworm\nComponents: main\n\n\
            Types: deb\nEnabled: no\nURIs: http://other.test/x\nSuites: a\nComponents: b\n";
        let s = parse_deb822_sources(text, "s").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].suites, ["bookworm", "bookworm-updates"]);
        assert_eq!(s[0].archive(), "debian");
        let anchor = s[0].signed_by.as_ref().unwrap();
        assert_eq!(anchor.signed_by.files, [PathBuf::from("/usr/share/keyrings/k.gpg")]);
        assert_eq!(anchor.origin, "Signed-By in s:5");
        let inline = "Types: deb\nURIs: http://x/d\nSuites: a\nComponents: b\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n AAAA\n -----END PGP PUBLIC KEY BLOCK-----\n";
        let s = parse_deb822_sources(inline, "s").unwrap();
        assert!(s[0].signed_by.as_ref().unwrap().signed_by.inline.as_ref().unwrap().contains("\n\nAAAA\n"));
        let err = parse_deb822_sources("\nTypes: deb\nURIs: http://x/d\nSuites: a\n", "s").unwrap_err();
        assert_eq!(err.to_string(), "s:2: stanza has no Components");
    }

    #[test]
    fn system_sources_merge_files_in_order() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("etc/apt/sources.list.d");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(root.path().join("etc/apt/sources.list"), "deb http://m.test/debian bookworm main\n").unwrap();
        std::fs::write(d.join("b.sources"), "Types: deb\nURIs: http://m.test/debian/\nSuites: bookworm-updates\nComponents: main\n").unwrap();
        std::fs::write(d.join("a.list"), "deb http://m.test/debian-security bookworm-security main\n").unwrap();
        std::fs::write(d.join("c.list.disabled"), "deb http://no.test/x a b\n").unwrap();
        let s = system_sources(root.path()).unwrap();
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].suites, ["bookworm", "bookworm-updates"]);
        assert_eq!(s[1].archive(), "debian-security");
        assert_eq!(parse_source_arg("http://m.test/ubuntu noble main universe").unwrap().components, ["main", "universe"]);
    }

    /// Takes a layer away from a locator.
    type TakeAway = fn(&mut Locator);

    /// A locator with every layer set: `--source`, `--mirror`, the spec,
    /// the environment and apt sources under `apt` (for `debian` and
    /// `debian-security`), and a snapshot base in each place that has one.
    fn full_locator(apt: &Path) -> Locator {
        std::fs::create_dir_all(apt.join("etc/apt")).unwrap();
        let list = "deb http://apt.test/debian bookworm main\ndeb http://apt.test/debian-security bookworm-security main\n";
        std::fs::write(apt.join("etc/apt/sources.list"), list).unwrap();
        Locator {
            sources: vec![parse_source_arg("http://source.test/debian bookworm main").unwrap()],
            mirror: Some("http://flag.test/debian/".into()),
            spec_mirrors: [("debian", "http://spec.test/debian"), ("debian-security", "http://spec.test/security/")]
                .map(|(a, m)| (a.to_owned(), m.to_owned()))
                .into(),
            env_mirror: Some("http://env.test/debian".into()),
            apt_root: Some(apt.to_owned()),
            snapshot_base: Some("http://flag.test/snap".into()),
            spec_snapshot_base: Some("http://spec.test/snap".into()),
            env_snapshot_base: Some("http://env.test/snap/".into()),
            keyrings: vec!["/flag.gpg".into()],
            spec_keyrings: [("debian".to_owned(), vec!["/spec-source.gpg".into()])].into(),
            spec_default_keyrings: vec!["/spec.gpg".into()],
        }
    }

    /// The keys of an archive follow the same order as its mirror, each
    /// layer whole: the `Signed-By` of a `--source`, `--keyring`, the spec's
    /// `[[source]] keyring`, its top-level `keyring`, the apt source's
    /// `Signed-By`, then the distribution's default.
    #[test]
    fn trust_precedence() {
        let apt = tempfile::tempdir().unwrap();
        let mut l = full_locator(apt.path());
        l.sources = vec![parse_source_arg("[signed-by=/source.gpg] http://source.test/debian bookworm main").unwrap()];
        let list = "deb [signed-by=/apt.gpg] http://apt.test/debian bookworm main\ndeb http://apt.test/debian-security bookworm-security main\n";
        std::fs::write(apt.path().join("etc/apt/sources.list"), list).unwrap();
        let default = TrustAnchor { signed_by: SignedBy::files(vec!["/default.gpg".into()]), origin: "default".into() };
        let rows: [(&str, TakeAway, &str, &str); 6] = [
            ("everything", |_| {}, "/source.gpg --source", "/flag.gpg --keyring"),
            ("no --source", |l| l.sources.clear(), "/flag.gpg --keyring", "/flag.gpg --keyring"),
            ("no --keyring", |l| l.keyrings.clear(), "/spec-source.gpg the spec's [[source]] keyring of debian", "/spec.gpg the spec's keyring"),
            ("no [[source]] keyring", |l| l.spec_keyrings.clear(), "/spec.gpg the spec's keyring", "/spec.gpg the spec's keyring"),
            ("no spec keyring", |l| l.spec_default_keyrings.clear(), "/apt.gpg Signed-By in ", "/default.gpg default"),
            ("no apt sources", |l| l.apt_root = None, "/default.gpg default", "/default.gpg default"),
        ];
        for (what, take_away, main, security) in rows {
            take_away(&mut l);
            for (archive, expected) in [("debian", main), ("debian-security", security)] {
                let anchor = l.trust_anchor(archive, &default).unwrap();
                let got = format!("{} {}", anchor.signed_by.files[0].display(), anchor.origin);
                assert!(got.starts_with(expected), "{what}: {archive}: {got}");
            }
        }
    }

    /// The one precedence order: each row takes away the layer that
    /// answered the row before, so the next one answers. `--mirror` and
    /// `$DEBCLOSURE_MIRROR` are the main archive's only.
    #[test]
    fn locator_precedence() {
        let apt = tempfile::tempdir().unwrap();
        let mut l = full_locator(apt.path());
        let rows: [(&str, TakeAway, &str, &str); 6] = [
            ("everything", |_| {}, "http://source.test/debian", "http://spec.test/security"),
            ("no --source", |l| l.sources.clear(), "http://flag.test/debian", "http://spec.test/security"),
            ("no --mirror", |l| l.mirror = None, "http://spec.test/debian", "http://spec.test/security"),
            ("no spec mirrors", |l| l.spec_mirrors.clear(), "http://env.test/debian", "http://apt.test/debian-security"),
            ("no $DEBCLOSURE_MIRROR", |l| l.env_mirror = None, "http://apt.test/debian", "http://apt.test/debian-security"),
            ("no apt sources", |l| l.apt_root = None, "", ""),
        ];
        for (what, take_away, main, security) in rows {
            take_away(&mut l);
            for (archive, expected) in [("debian", main), ("debian-security", security)] {
                let got = l.archive_uri(archive, "debian", None);
                match got {
                    Ok(uri) => assert_eq!(uri, expected, "{what}: {archive}"),
                    Err(LocateError::NoMirror { archive: a, main }) => {
                        assert_eq!((expected, a.as_str(), main), ("", archive, archive == "debian"), "{what}")
                    }
                    Err(e) => panic!("{what}: {archive}: {e}"),
                }
            }
        }
    }

    /// With a snapshot every archive comes from the snapshot archive, its
    /// base taken from `--snapshot-base`, the spec, the environment, then the
    /// lock, whatever mirrors are known.
    #[test]
    fn snapshot_base_precedence() {
        let apt = tempfile::tempdir().unwrap();
        let mut l = full_locator(apt.path());
        let rows: [(&str, TakeAway, Option<&str>); 5] = [
            ("everything", |_| {}, Some("http://flag.test/snap")),
            ("no --snapshot-base", |l| l.snapshot_base = None, Some("http://spec.test/snap")),
            ("no spec base", |l| l.spec_snapshot_base = None, Some("http://env.test/snap")),
            ("no $DEBCLOSURE_SNAPSHOT_BASE", |l| l.env_snapshot_base = None, Some("http://lock.test/snap")),
            ("nothing", |_| {}, None),
        ];
        for (what, take_away, expected) in rows {
            take_away(&mut l);
            let recorded = (what != "nothing").then_some("http://lock.test/snap");
            let snapshot = SnapshotRef { timestamp: "20250101T000000Z", recorded_base: recorded };
            match (l.archive_uri("debian-security", "debian", Some(snapshot)), expected) {
                (Ok(uri), Some(base)) => assert_eq!(uri, format!("{base}/archive/debian-security/20250101T000000Z"), "{what}"),
                (Err(LocateError::NoSnapshotBase { timestamp }), None) => assert_eq!(timestamp, "20250101T000000Z"),
                (got, _) => panic!("{what}: {got:?}"),
            }
        }
        // What a lock records: the spec's own base first (the spec is the
        // request), else the one downloads use, without the lock's.
        let l = full_locator(apt.path());
        assert_eq!(l.snapshot_base_to_record().as_deref(), Some("http://spec.test/snap"));
        let l = Locator { spec_snapshot_base: None, ..l };
        assert_eq!(l.snapshot_base_to_record().as_deref(), Some("http://flag.test/snap"));
    }

    /// Without a spec or lock, the flags name the archives.
    #[test]
    fn flag_archives() {
        let apt = tempfile::tempdir().unwrap();
        let full = full_locator(apt.path());
        let suites = ["bookworm".to_owned(), "bookworm-updates".to_owned()];
        let uris = |l: &Locator, components: &[String]| -> Vec<String> {
            l.flag_archives(&suites, components, None).unwrap().into_iter().map(|a| a.uri).collect()
        };
        // The --suite archive first, then each --source.
        assert_eq!(uris(&full, &[]), ["http://flag.test/debian", "http://source.test/debian"]);
        let l = Locator { mirror: None, sources: vec![], ..full.clone() };
        assert_eq!(uris(&l, &[]), ["http://env.test/debian"]);
        let l = Locator { env_mirror: None, ..l };
        assert_eq!(uris(&l, &["contrib".into()]), ["http://apt.test/debian"]);
        assert_eq!(l.flag_archives(&suites, &[], None).unwrap()[0].suites, suites);
        // Neither --suite nor --source: the apt sources.
        let archives = l.flag_archives(&[], &[], None).unwrap();
        assert_eq!(archives.iter().map(ArchiveSource::archive).collect::<Vec<_>>(), ["debian", "debian-security"]);
        // A snapshot keeps each archive's name.
        let snap = l.flag_archives(&[], &[], Some("20250101T000000Z")).unwrap();
        assert_eq!(snap[1].uri, "http://flag.test/snap/archive/debian-security/20250101T000000Z");
        assert_eq!(snap[1].archive(), "debian-security");
        let bare = Locator::default();
        assert!(matches!(bare.flag_archives(&suites, &[], None), Err(LocateError::NoSuiteMirror)));
        assert!(matches!(bare.flag_archives(&[], &["main".into()], None), Err(LocateError::MirrorWithoutSuite)));
        assert!(matches!(bare.flag_archives(&[], &[], None), Err(LocateError::NoArchive)));
        let no_base = Locator { mirror: Some("http://m.test/debian".into()), ..bare };
        assert!(matches!(no_base.flag_archives(&suites, &[], Some("20250101T000000Z")), Err(LocateError::NoSnapshotBase { .. })));
        // The environment: blank counts as unset.
        let env = Locator::from_lookup(|n| (n == ENV_MIRROR).then(|| "http://e.test/debian".to_owned()).or(Some(" ".into())), None);
        assert_eq!((env.env_mirror.as_deref(), env.env_snapshot_base), (Some("http://e.test/debian"), None));
    }

    /// An archive's name appears in records and messages: never with the
    /// credentials of its URL.
    #[test]
    fn archive_names_hold_no_credentials() {
        assert_eq!(archive_name("https://user:secret@mirror.test:8443/debian/"), "debian");
        assert_eq!(archive_name("https://user:secret@mirror.test:8443"), "mirror.test:8443");
    }
}
