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
//!
//! [preferences]
//! awk = "mawk"
//!
//! [url-prefixes]
//! debian = ["mirror://debian"]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::lock::{
    check_architecture, check_archive_name, check_snapshot, check_suites_and_components, check_url_prefix, Distribution,
    LockedSource, Request, RequestOptions,
};
use crate::resolve::{Base, PolicyError, Preferences, RequestedPackage, ResolveOptions};

/// Why a spec cannot be used.
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
    /// A value breaks a rule.
    #[error("{file}: {message}")]
    Invalid {
        /// The spec file.
        file: String,
        /// What is wrong.
        message: String,
    },
}

/// One `[[source]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecSource {
    /// The archive's name; default: the distribution's main archive.
    pub archive: Option<String>,
    /// Where to download it from; default: `$DEBCLOSURE_MIRROR` for the main
    /// archive, else the machine's apt sources. Not written to the lock.
    pub mirror: Option<String>,
    /// Suites.
    pub suites: Vec<String>,
    /// Components; default `["main"]`.
    #[serde(default = "main_component")]
    pub components: Vec<String>,
}

fn main_component() -> Vec<String> {
    vec!["main".to_owned()]
}

/// A parsed spec file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Spec {
    /// Debian or Ubuntu; default Debian.
    #[serde(default)]
    pub distribution: Distribution,
    /// Target architecture; default: the host's.
    pub architecture: Option<String>,
    /// Requested packages (`name`, `name=version`, `name/suite`), in order.
    pub packages: Vec<String>,
    /// The archives.
    #[serde(rename = "source")]
    pub sources: Vec<SpecSource>,
    /// Provider preferences, on top of the built-in ones.
    #[serde(default)]
    pub preferences: BTreeMap<String, String>,
    /// Packages never added.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Follow Recommends.
    #[serde(default)]
    pub recommends: bool,
    /// Fail rather than pick a provider by Priority or name.
    #[serde(default)]
    pub strict: bool,
    /// Packages added besides the request.
    #[serde(default)]
    pub base: Base,
    /// Read the archives as of this snapshot timestamp.
    pub snapshot: Option<String>,
    /// The snapshot archive's base URL (default `--snapshot-base` or
    /// `$DEBCLOSURE_SNAPSHOT_BASE`). Whichever is used, the lock records it.
    pub snapshot_base: Option<String>,
    /// Keyrings to verify Release files with; default: the system's.
    #[serde(default)]
    pub keyring: Vec<PathBuf>,
    /// URL prefixes for the generated Nix, by archive.
    #[serde(default)]
    pub url_prefixes: BTreeMap<String, Vec<String>>,
}

impl Spec {
    /// Parses a spec; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Spec, SpecError> {
        let spec: Spec = toml::from_str(text).map_err(|e| SpecError::Syntax {
            file: file.to_owned(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        let invalid = |message: String| SpecError::Invalid { file: file.to_owned(), message };
        if spec.packages.is_empty() {
            return Err(invalid("`packages` is empty: name at least one package".into()));
        }
        for p in &spec.packages {
            RequestedPackage::parse(p).map_err(|e| invalid(e.to_string()))?;
        }
        if spec.sources.is_empty() {
            return Err(invalid("no [[source]]: add one with `suites = [...]`".into()));
        }
        for s in &spec.sources {
            check_suites_and_components(&s.suites, &s.components)
                .map_err(|e| invalid(format!("[[source]]: {e}")))?;
            if let Some(archive) = &s.archive {
                check_archive_name(archive).map_err(|e| invalid(format!("[[source]] archive: {e}")))?;
            }
            if let Some(mirror) = &s.mirror {
                check_download_url(mirror).map_err(|e| invalid(format!("[[source]] mirror: {e}")))?;
            }
        }
        if let Some(arch) = &spec.architecture {
            check_architecture(arch).map_err(|e| invalid(format!("architecture: {e}")))?;
        }
        for name in &spec.exclude {
            if !crate::relation::is_valid_package_name(name) {
                return Err(invalid(format!("exclude: {:?} is not a valid package name", crate::deb822::cut(name))));
            }
        }
        if let Some(snapshot) = &spec.snapshot {
            check_snapshot(snapshot).map_err(|e| invalid(format!("snapshot: {e}")))?;
        }
        if let Some(base) = &spec.snapshot_base {
            check_download_url(base).map_err(|e| invalid(format!("snapshot-base: {e}")))?;
        }
        for (archive, prefixes) in &spec.url_prefixes {
            check_archive_name(archive).map_err(|e| invalid(format!("[url-prefixes]: {e}")))?;
            for prefix in prefixes {
                check_url_prefix(prefix).map_err(|e| invalid(format!("[url-prefixes] {archive}: {e}")))?;
            }
        }
        Ok(spec)
    }

    /// The mirrors the spec names, by archive, without a trailing `/`.
    pub fn mirrors(&self) -> BTreeMap<String, String> {
        self.sources
            .iter()
            .filter_map(|s| s.mirror.as_ref().map(|m| (self.archive_of(s), m.trim_end_matches('/').to_owned())))
            .collect()
    }

    /// The archive name of a source.
    pub fn archive_of(&self, source: &SpecSource) -> String {
        source.archive.clone().unwrap_or_else(|| self.distribution.main_archive().to_owned())
    }

    /// The canonical request. `host_architecture` is used when the spec
    /// names none; `snapshot_base` is used when the spec names none (the
    /// caller's choice: a flag or the environment when locking, the lock's
    /// own when checking). With a snapshot, the base is recorded in the
    /// request and, without `[url-prefixes]`, adds each archive's snapshot
    /// URL after the distribution's mirror scheme.
    pub fn request(&self, host_architecture: &str, snapshot_base: Option<&str>) -> Result<Request, PolicyError> {
        let mut preferences = Preferences::builtin();
        for (k, v) in &self.preferences {
            preferences.insert_arg(&format!("{k}={v}"))?;
        }
        let sources: Vec<LockedSource> = self
            .sources
            .iter()
            .map(|s| LockedSource {
                archive: self.archive_of(s),
                suites: s.suites.clone(),
                components: s.components.clone(),
            })
            .collect();
        Ok(Request::from_options(RequestOptions {
            distribution: self.distribution,
            architecture: self.architecture.clone().unwrap_or_else(|| host_architecture.to_owned()),
            sources,
            snapshot: self.snapshot.clone(),
            snapshot_base: self.snapshot_base.clone().or_else(|| snapshot_base.map(str::to_owned)),
            packages: self.packages.clone(),
            resolve: ResolveOptions {
                preferences,
                exclude: self.exclude.iter().cloned().collect(),
                with_recommends: self.recommends,
                strict: self.strict,
                base: self.base,
            },
            url_prefixes: self.url_prefixes.clone(),
        }))
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
    pub fn request_for_lock(&self, locked: &Request, snapshot_base: Option<&str>) -> Result<Request, PolicyError> {
        let recorded = locked.snapshot_base.as_deref();
        let mut wanted = self.request(&locked.architecture, recorded.or(snapshot_base))?;
        if recorded.is_none() {
            wanted.snapshot_base = None;
        }
        Ok(wanted)
    }
}

/// Checks a URL debclosure downloads from itself (a `mirror`, the
/// `snapshot-base`): `http://` or `https://` with a host, and no white space
/// or control character. Not `file:`: the downloader speaks HTTP only, and a
/// spec is shared with everyone who runs `lock` or `check` on it, so it must
/// not make them read files of their own machine. Credentials are allowed
/// here: the mirror is never written to the lock, and messages redact it.
pub fn check_download_url(url: &str) -> Result<(), String> {
    let shown = crate::url::redact_url(url);
    let shown = crate::deb822::cut(&shown);
    let Some(rest) = ["http://", "https://"].iter().find_map(|s| url.strip_prefix(s)) else {
        return Err(format!("{shown:?} is not an http:// or https:// URL"));
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{shown:?} contains white space or a control character"));
    }
    if rest.split('/').next().unwrap_or_default().rsplit('@').next().unwrap_or_default().is_empty() {
        return Err(format!("{shown:?} has no host"));
    }
    Ok(())
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
        let snap = Spec { snapshot: Some("20250101T000000Z".into()), ..spec };
        let r = snap.request("amd64", Some("http://snapshot.test/")).unwrap();
        assert_eq!(r.url_prefixes["debian"], ["mirror://debian", "http://snapshot.test/archive/debian/20250101T000000Z"]);
        assert_eq!(r.url_prefixes["debian-security"], ["http://snapshot.test/archive/debian-security/20250101T000000Z"]);
        // The base in use is recorded, canonical and without credentials.
        assert_eq!(r.snapshot_base.as_deref(), Some("http://snapshot.test"));
        let r = snap.request("amd64", Some("https://u:secret@snapshot.test//")).unwrap();
        assert_eq!(r.snapshot_base.as_deref(), Some("https://snapshot.test"));
        // The spec's own base comes before the caller's.
        let own = Spec { snapshot_base: Some("http://own.test/".into()), ..snap.clone() };
        let r = own.request("amd64", Some("http://snapshot.test")).unwrap();
        assert_eq!(r.snapshot_base.as_deref(), Some("http://own.test"));
        assert_eq!(r.url_prefixes["debian"], ["mirror://debian", "http://own.test/archive/debian/20250101T000000Z"]);
        // No snapshot, no base.
        let plain = Spec { snapshot: None, ..own };
        assert_eq!(plain.request("amd64", Some("http://snapshot.test")).unwrap().snapshot_base, None);
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
