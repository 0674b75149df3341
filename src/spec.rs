//! The spec file (`debclosure.toml`): one image's sources, request and
//! options, written by a person. [`Spec::request`] turns it into the
//! canonical [`Request`] a lock holds; mirrors stay out of it.
//!
//! ```toml
//! distribution = "debian"            # or "ubuntu"
//! architecture = "amd64"
//! packages = ["bash", "coreutils"]
//!
//! [[source]]
//! archive = "debian"                 # default: the distribution's main archive
//! suites = ["bookworm", "bookworm-updates"]
//! components = ["main"]              # default: ["main"]
//! # mirror = "http://..."            # default: $DEBCLOSURE_MIRROR or the machine's apt sources
//! # keyring = ["/usr/share/keyrings/debian-archive-keyring.gpg"]
//! #                                  # default: the apt source's Signed-By, else the distribution's
//!
//! [preferences]
//! awk = "mawk"
//!
//! [url-prefixes]
//! debian = ["mirror://debian"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lock::{Distribution, LockError, Request, RequestOptions, SourceOptions};
use crate::name::{Architecture, ArchiveName, Component, NameError, PackageName, SnapshotTimestamp, Suite};
use crate::resolve::{Base, PolicyError, Preferences, RequestedPackage, ResolveOptions};
use crate::url::{MirrorUrl, UrlError, UrlPrefix};

/// Why a spec cannot be used. Each names the spec file, and the key where a
/// value breaks a rule.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// Not TOML, or unknown or mistyped keys (the message has the line).
    #[error("{file}: {message}")]
    Syntax {
        /// The spec file.
        file: String,
        /// toml's message, with line and column.
        message: String,
    },
    /// `packages` is empty.
    #[error("{file}: `packages` is empty: name at least one package")]
    NoPackages {
        /// The spec file.
        file: String,
    },
    /// A requested package does not parse.
    #[error("{file}: {error}")]
    BadRequest {
        /// The spec file.
        file: String,
        /// What is wrong with it.
        error: PolicyError,
    },
    /// There is no `[[source]]`.
    #[error("{file}: no [[source]]: add one with `suites = [...]`")]
    NoSources {
        /// The spec file.
        file: String,
    },
    /// A `[[source]]` has no suite or no component.
    #[error("{file}: [[source]]: needs at least one suite and one component")]
    EmptySource {
        /// The spec file.
        file: String,
    },
    /// A name breaks the rules of its kind.
    #[error("{file}: {at}: {error}")]
    Name {
        /// The spec file.
        file: String,
        /// The key: `architecture`, `[[source]] archive`, `exclude`, …
        at: &'static str,
        /// The name and its kind.
        error: NameError,
    },
    /// A URL breaks the rules of its kind.
    #[error("{file}: {at}: {error}")]
    Url {
        /// The spec file.
        file: String,
        /// The key: `[[source]] mirror`, `snapshot-base`,
        /// `[url-prefixes] ARCHIVE`.
        at: String,
        /// The URL (redacted) and what is wrong.
        error: UrlError,
    },
}

impl SpecError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some("fix the spec; its keys are documented in the README (Pinned closures)".into())
    }
}

/// Why a spec does not make a request.
#[derive(Debug, thiserror::Error)]
pub enum SpecRequestError {
    /// A preference does not parse.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A value the spec left open (the host's architecture, a snapshot base
    /// from a flag or the environment) cannot be in a lock.
    #[error("the request cannot be locked")]
    Request(#[source] LockError),
}

impl SpecRequestError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            SpecRequestError::Policy(e) => e.hint(),
            SpecRequestError::Request(_) => Some("fix the value it names, in the spec or the flags".into()),
        }
    }
}

/// One `[[source]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    /// The archive's name; default: the distribution's main archive.
    pub archive: Option<ArchiveName>,
    /// Where to download it from; default: `$DEBCLOSURE_MIRROR` for the main
    /// archive, else the machine's apt sources. Not written to the lock.
    pub mirror: Option<MirrorUrl>,
    /// Suites; at least one.
    pub suites: Vec<Suite>,
    /// Components; at least one, default `["main"]`.
    pub components: Vec<Component>,
    /// The keyrings this archive's Release files must be signed by; default:
    /// the spec's `keyring`, else the machine's apt source's `Signed-By`,
    /// else the distribution's archive keyring.
    pub keyring: Vec<PathBuf>,
}

/// A parsed spec file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Debian or Ubuntu; default Debian.
    pub distribution: Distribution,
    /// Target architecture; default: the host's.
    pub architecture: Option<Architecture>,
    /// Requested packages (`name`, `name=version`, `name/suite`), in order;
    /// each parses as a [`RequestedPackage`].
    pub packages: Vec<String>,
    /// The archives; at least one.
    pub sources: Vec<SpecSource>,
    /// Provider preferences, on top of the built-in ones.
    pub preferences: BTreeMap<String, String>,
    /// Packages never added.
    pub exclude: Vec<PackageName>,
    /// Follow Recommends.
    pub recommends: bool,
    /// Fail rather than pick a provider by Priority or name.
    pub strict: bool,
    /// Packages added besides the request.
    pub base: Base,
    /// Read the archives as of this snapshot timestamp.
    pub snapshot: Option<SnapshotTimestamp>,
    /// The snapshot archive's base URL (default `--snapshot-base` or
    /// `$DEBCLOSURE_SNAPSHOT_BASE`). Whichever is used, the lock records it,
    /// without credentials.
    pub snapshot_base: Option<MirrorUrl>,
    /// Keyrings to verify the Release files of every archive without its
    /// own `keyring` with (see [`SpecSource::keyring`]).
    pub keyring: Vec<PathBuf>,
    /// URL prefixes for the generated Nix, by archive.
    pub url_prefixes: BTreeMap<ArchiveName, Vec<UrlPrefix>>,
}

fn strings<T: ToString>(values: &[T]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

/// A `[[source]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    archive: Option<String>,
    mirror: Option<String>,
    suites: Vec<String>,
    #[serde(default = "main_component")]
    components: Vec<String>,
    #[serde(default)]
    keyring: Vec<PathBuf>,
}

fn main_component() -> Vec<String> {
    vec!["main".to_owned()]
}

/// The spec as written, before its values are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SpecFile {
    #[serde(default)]
    distribution: Distribution,
    architecture: Option<String>,
    packages: Vec<String>,
    #[serde(rename = "source")]
    sources: Vec<SourceFile>,
    #[serde(default)]
    preferences: BTreeMap<String, String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    recommends: bool,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    base: Base,
    snapshot: Option<String>,
    snapshot_base: Option<String>,
    #[serde(default)]
    keyring: Vec<PathBuf>,
    #[serde(default)]
    url_prefixes: BTreeMap<String, Vec<String>>,
}

impl Spec {
    /// Parses a spec; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Spec, SpecError> {
        let spec: SpecFile = toml::from_str(text).map_err(|e| SpecError::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        let file = || file.to_owned();
        let name = |at: &'static str| move |error| SpecError::Name { file: file(), at, error };
        let url = |at: String| move |error| SpecError::Url { file: file(), at, error };
        if spec.packages.is_empty() {
            return Err(SpecError::NoPackages { file: file() });
        }
        for p in &spec.packages {
            RequestedPackage::parse(p).map_err(|error| SpecError::BadRequest { file: file(), error })?;
        }
        if spec.sources.is_empty() {
            return Err(SpecError::NoSources { file: file() });
        }
        let mut sources = Vec::new();
        for s in spec.sources {
            if s.suites.is_empty() || s.components.is_empty() {
                return Err(SpecError::EmptySource { file: file() });
            }
            let suites = s.suites.into_iter().map(Suite::new).collect::<Result<_, _>>().map_err(name("[[source]]"))?;
            let components = s.components.into_iter().map(Component::new).collect::<Result<_, _>>().map_err(name("[[source]]"))?;
            let archive = s.archive.map(ArchiveName::new).transpose().map_err(name("[[source]] archive"))?;
            let mirror = s.mirror.map(MirrorUrl::new).transpose().map_err(url("[[source]] mirror".into()))?;
            sources.push(SpecSource { archive, mirror, suites, components, keyring: s.keyring });
        }
        let architecture = spec.architecture.map(Architecture::new).transpose().map_err(name("architecture"))?;
        let exclude = spec.exclude.into_iter().map(PackageName::new).collect::<Result<_, _>>().map_err(name("exclude"))?;
        let snapshot = spec.snapshot.map(SnapshotTimestamp::new).transpose().map_err(name("snapshot"))?;
        let snapshot_base = spec.snapshot_base.map(MirrorUrl::new).transpose().map_err(url("snapshot-base".into()))?;
        let mut url_prefixes = BTreeMap::new();
        for (archive, prefixes) in spec.url_prefixes {
            let archive = ArchiveName::new(archive).map_err(name("[url-prefixes]"))?;
            let at = format!("[url-prefixes] {archive}");
            let prefixes = prefixes.into_iter().map(UrlPrefix::new).collect::<Result<_, _>>().map_err(url(at))?;
            url_prefixes.insert(archive, prefixes);
        }
        Ok(Spec {
            distribution: spec.distribution,
            architecture,
            packages: spec.packages,
            sources,
            preferences: spec.preferences,
            exclude,
            recommends: spec.recommends,
            strict: spec.strict,
            base: spec.base,
            snapshot,
            snapshot_base,
            keyring: spec.keyring,
            url_prefixes,
        })
    }

    /// The mirrors the spec names, by archive, without a trailing `/`. The
    /// URLs are whole, credentials included: they are for requests.
    pub fn mirrors(&self) -> BTreeMap<String, String> {
        self.sources
            .iter()
            .filter_map(|s| s.mirror.as_ref().map(|m| (self.archive_of(s), m.expose().trim_end_matches('/').to_owned())))
            .collect()
    }

    /// The `[[source]] keyring`s, by archive name (the first source of an
    /// archive that names one).
    pub fn source_keyrings(&self) -> BTreeMap<String, Vec<PathBuf>> {
        let mut out = BTreeMap::new();
        for s in self.sources.iter().filter(|s| !s.keyring.is_empty()) {
            out.entry(self.archive_of(s)).or_insert_with(|| s.keyring.clone());
        }
        out
    }

    /// Makes relative keyring paths relative to `dir`, the spec's directory,
    /// so that a spec means the same keys from any working directory.
    pub fn with_keyrings_under(mut self, dir: &Path) -> Spec {
        let rebase = |paths: &mut Vec<PathBuf>| paths.iter_mut().for_each(|p| *p = dir.join(&*p));
        rebase(&mut self.keyring);
        self.sources.iter_mut().for_each(|s| rebase(&mut s.keyring));
        self
    }

    /// The archive name of a source.
    pub fn archive_of(&self, source: &SpecSource) -> String {
        source.archive.as_ref().map_or_else(|| self.distribution.main_archive().to_owned(), |a| a.to_string())
    }

    /// The canonical request. `host_architecture` is used when the spec
    /// names none; `snapshot_base` is used when the spec names none (the
    /// caller's choice: a flag or the environment when locking, the lock's
    /// own when checking). With a snapshot, the base is recorded in the
    /// request and, without `[url-prefixes]`, adds each archive's snapshot
    /// URL after the distribution's mirror scheme. What the spec did not
    /// settle (the host architecture, a base from elsewhere) is checked
    /// here: [`SpecRequestError::Request`].
    pub fn request(&self, host_architecture: &str, snapshot_base: Option<&str>) -> Result<Request, SpecRequestError> {
        let mut preferences = Preferences::builtin();
        for (k, v) in &self.preferences {
            preferences.insert_arg(&format!("{k}={v}"))?;
        }
        let sources = self
            .sources
            .iter()
            .map(|s| SourceOptions { archive: self.archive_of(s), suites: strings(&s.suites), components: strings(&s.components) })
            .collect();
        let request = Request::from_options(RequestOptions {
            distribution: self.distribution,
            architecture: self.architecture.as_ref().map_or_else(|| host_architecture.to_owned(), |a| a.to_string()),
            sources,
            snapshot: self.snapshot.as_ref().map(|s| s.to_string()),
            snapshot_base: self.snapshot_base.as_ref().map(|m| m.expose().to_owned()).or_else(|| snapshot_base.map(str::to_owned)),
            packages: self.packages.clone(),
            resolve: ResolveOptions {
                preferences,
                exclude: self.exclude.iter().map(|n| n.to_string()).collect(),
                with_recommends: self.recommends,
                strict: self.strict,
                base: self.base,
            },
            url_prefixes: self.url_prefixes.iter().map(|(a, l)| (a.to_string(), strings(l))).collect(),
        });
        request.map_err(SpecRequestError::Request)
    }

    /// The request the spec stands for, to compare with the request of
    /// `locked` (`check`). What the spec leaves open, the lock says as it
    /// was resolved: its architecture, and its snapshot base (one taken from
    /// a flag or the environment when locking is no difference, and the
    /// environment `check` runs in, a build sandbox say, does not matter). A
    /// spec that names another base is a difference. A lock of format
    /// version 1 did not record the base: then `snapshot_base` (a flag or
    /// the environment) builds the URL prefixes, and the base is not
    /// compared.
    pub fn request_for_lock(&self, locked: &Request, snapshot_base: Option<&str>) -> Result<Request, SpecRequestError> {
        let recorded = locked.snapshot_base.as_deref();
        let mut wanted = self.request(&locked.architecture, recorded.or(snapshot_base))?;
        if recorded.is_none() {
            wanted.snapshot_base = None;
        }
        Ok(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
distribution = "debian"
architecture = "amd64"
packages = ["bash", "mawk"]
exclude = ["b", "a", "b"]

[[source]]
suites = ["bookworm", "bookworm-updates"]

[[source]]
archive = "debian-security"
suites = ["bookworm-security"]
components = ["main"]

[preferences]
"mail-transport-agent|default-mta" = "exim4"
"#;

    #[test]
    fn canonical_request() {
        let spec = Spec::parse(SPEC, "s.toml").unwrap();
        let r = spec.request("arm64", None).unwrap();
        assert_eq!(r.architecture, "amd64");
        assert_eq!(r.sources[0].archive, "debian");
        assert_eq!(r.sources[0].components, ["main"]);
        assert_eq!(r.sources[1].archive, "debian-security");
        assert_eq!(r.exclude, ["a", "b"]);
        assert_eq!(r.preferences.get("awk"), Some("mawk"));
        assert_eq!(r.preferences.get("mail-transport-agent | default-mta"), Some("exim4"));
        assert_eq!(r.url_prefixes["debian"], ["mirror://debian"]);
        let snap = Spec { snapshot: Some("20250101T000000Z".parse().unwrap()), ..spec };
        let r = snap.request("amd64", Some("http://snapshot.test/")).unwrap();
        assert_eq!(r.url_prefixes["debian"], ["mirror://debian", "http://snapshot.test/archive/debian/20250101T000000Z"]);
        assert_eq!(r.url_prefixes["debian-security"], ["http://snapshot.test/archive/debian-security/20250101T000000Z"]);
        // The base in use is recorded, canonical and without credentials.
        assert_eq!(r.snapshot_base.as_deref(), Some("http://snapshot.test"));
        let r = snap.request("amd64", Some("https://u:secret@snapshot.test//")).unwrap();
        assert_eq!(r.snapshot_base.as_deref(), Some("https://snapshot.test"));
        assert_eq!(r.url_prefixes["debian"][1], "https://snapshot.test/archive/debian/20250101T000000Z", "no credentials");
        // The spec's own base comes before the caller's.
        let own = Spec { snapshot_base: Some(MirrorUrl::new("http://own.test/").unwrap()), ..snap.clone() };
        let r = own.request("amd64", Some("http://snapshot.test")).unwrap();
        assert_eq!(r.snapshot_base.as_deref(), Some("http://own.test"));
        assert_eq!(r.url_prefixes["debian"], ["mirror://debian", "http://own.test/archive/debian/20250101T000000Z"]);
        // No snapshot, no base.
        let plain = Spec { snapshot: None, ..own };
        assert_eq!(plain.request("amd64", Some("http://snapshot.test")).unwrap().snapshot_base, None);
    }

    #[test]
    fn keyrings_per_source_relative_to_the_spec() {
        let text = SPEC.replace("components = [\"main\"]", "components = [\"main\"]\nkeyring = [\"keys/security.gpg\", \"/abs.gpg\"]")
            .replace("exclude =", "keyring = [\"all.gpg\"]\nexclude =");
        let spec = Spec::parse(&text, "s.toml").unwrap().with_keyrings_under(Path::new("/proj"));
        assert_eq!(spec.keyring, [PathBuf::from("/proj/all.gpg")]);
        let by_archive = spec.source_keyrings();
        assert_eq!(by_archive.keys().collect::<Vec<_>>(), ["debian-security"]);
        assert_eq!(by_archive["debian-security"], [PathBuf::from("/proj/keys/security.gpg"), PathBuf::from("/abs.gpg")]);
    }

    #[test]
    fn typos_are_errors_with_their_line() {
        let err = Spec::parse(&SPEC.replace("exclude", "exlcude"), "s.toml").unwrap_err().to_string();
        assert!(err.starts_with("s.toml: ") && err.contains("line 5") && err.contains("exlcude"), "{err}");
        let err = Spec::parse(&SPEC.replace("suites = [\"bookworm-security\"]", "suite = [\"x\"]"), "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("suite"), "{err}");
        for (bad, needle) in [
            (SPEC.replace("[\"bash\", \"mawk\"]", "[]"), "packages"),
            (SPEC.replace("\"bash\"", "\"Bash\""), "Bash"),
            // Issue 8: what a shared spec may point at.
            (SPEC.replace("components = [\"main\"]", "mirror = \"file:///srv/mirror\""), "mirror: \"file:///srv/mirror\" is not an http"),
            (SPEC.replace("components = [\"main\"]", "mirror = \"ftp://h.invalid/debian\""), "is not an http"),
            (SPEC.replace("components = [\"main\"]", "mirror = \"http://h.invalid/a b\""), "white space"),
            (SPEC.replace("components = [\"main\"]", "mirror = \"http://u:secret@/x\""), "no host"),
            (SPEC.to_owned() + "\n[url-prefixes]\ndebian = [\"file:///nix/store/x\"]\n", "[url-prefixes] debian"),
            (SPEC.to_owned() + "\n[url-prefixes]\n\"../x\" = [\"mirror://debian\"]\n", "not an archive name"),
            (SPEC.replace("exclude =", "snapshot-base = \"file:///srv\"\nexclude ="), "snapshot-base"),
            (SPEC.replace("exclude =", "snapshot = \"2025-05-20\"\nexclude ="), "timestamp"),
            (SPEC.replace("\"bookworm-security\"", "\"../../bookworm\""), "not a suite name"),
            (SPEC.replace("archive = \"debian-security\"", "archive = \"a/b\""), "not an archive name"),
            (SPEC.replace("\"amd64\"", "\"amd64 \""), "not an architecture"),
            (SPEC.replace("[\"b\", \"a\", \"b\"]", "[\"B\"]"), "exclude"),
        ] {
            let err = Spec::parse(&bad, "s.toml").unwrap_err().to_string();
            assert!(err.contains(needle), "{needle}: {err}");
            assert!(!err.contains("secret"), "{err}");
        }
        let ok = SPEC.replace("components = [\"main\"]", "mirror = \"https://u:secret@h.invalid:8443/debian/\"");
        assert!(Spec::parse(&ok, "s.toml").is_ok());
    }
}
