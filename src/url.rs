//! URLs with rules, and URLs as debclosure shows them.
//!
//! Two kinds are written into a lock and the generated Nix, and so must be
//! the same on every machine and safe to publish: a [`UrlPrefix`] that Nix
//! downloads `.deb` files from, and the [`SnapshotBase`] a lock records. A
//! [`MirrorUrl`] is one debclosure downloads from itself (a spec's `mirror`
//! or `snapshot-base`); it may carry credentials, which never reach a lock,
//! and which its `Display` and `Debug` leave out. Every message and log shows
//! URLs through [`redact_url`] (as rattler redacts its HTTP errors).

use std::fmt;

use crate::deb822::cut;

/// Removes the user and password from a URL, for messages and logs.
///
/// Works on the text, so it also redacts URLs that do not parse.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..authority_start], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Which rules a [`UrlError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlKind {
    /// A [`UrlPrefix`].
    UrlPrefix,
    /// A [`SnapshotBase`].
    SnapshotBase,
    /// A [`MirrorUrl`].
    Mirror,
}

/// What is wrong with a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not one of the schemes its kind allows.
    Scheme,
    /// A character that cannot be in it.
    Character(char),
    /// White space or a control character (a [`MirrorUrl`]).
    SpaceOrControl,
    /// No host after the scheme.
    NoHost,
    /// A user or password, which a lock must not hold.
    Credentials,
}

/// A URL that breaks the rules of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct UrlError {
    /// Which rules.
    pub kind: UrlKind,
    /// The URL without credentials, cut to 60 characters.
    pub shown: String,
    /// What is wrong.
    pub problem: UrlProblem,
}

impl UrlError {
    /// What the user can do about it: nothing beyond what the message
    /// says (the URL, redacted, and the rule).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

impl UrlError {
    fn new(kind: UrlKind, url: &str, problem: UrlProblem) -> Self {
        UrlError { kind, shown: cut(&redact_url(url)).into_owned(), problem }
    }

    fn render(&self) -> String {
        let shown = &self.shown;
        let subject = match self.kind {
            UrlKind::UrlPrefix => format!("URL prefix {shown:?}"),
            UrlKind::SnapshotBase => format!("snapshot base {shown:?}"),
            UrlKind::Mirror => format!("{shown:?}"),
        };
        let schemes = match self.kind {
            UrlKind::UrlPrefix => "a mirror://, http:// or https://",
            UrlKind::SnapshotBase | UrlKind::Mirror => "an http:// or https://",
        };
        match self.problem {
            UrlProblem::Scheme => format!("{subject} is not {schemes} URL"),
            UrlProblem::Character(c) => format!("{subject} contains the character {c:?}"),
            UrlProblem::SpaceOrControl => format!("{subject} contains white space or a control character"),
            UrlProblem::NoHost => format!("{subject} has no host"),
            UrlProblem::Credentials => {
                format!("{subject} holds credentials, which would be written into the lock and the Nix store")
            }
        }
    }
}

/// The rules of a URL written into a lock: one of `schemes`, with a host,
/// no credentials (they would be written to the lock and to the
/// world-readable Nix store), and no white space, control character, quote,
/// backslash, query or fragment (a file name is appended after a `/`).
fn check_lock_url(kind: UrlKind, url: &str, schemes: &[&str]) -> Result<(), UrlError> {
    let error = |problem| Err(UrlError::new(kind, url, problem));
    let Some(rest) = schemes.iter().find_map(|s| url.strip_prefix(s)) else {
        return error(UrlProblem::Scheme);
    };
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '?' | '#')) {
        return error(UrlProblem::Character(c));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return error(UrlProblem::NoHost);
    }
    if authority.contains('@') {
        return error(UrlProblem::Credentials);
    }
    Ok(())
}

macro_rules! url_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $schemes:expr) => {
        crate::checked::checked_string!($(#[$doc])* $name, UrlError, |url| check_lock_url($kind, url, $schemes));
    };
}

url_type!(
    /// A URL prefix the generated Nix downloads `.deb` files from:
    /// `mirror://` (nixpkgs' mirror lists), `http://` or `https://`, with a
    /// host and without credentials, query or fragment.
    ///
    /// Not `file:`: a lock must give the same fetches on every machine, and
    /// a `file:` URL makes Nix's fetcher read a path on whatever machine
    /// builds, outside the project. (Apt's own source lists may name `file:`
    /// archives; those are local repositories for apt, not URLs to write
    /// into a lock.)
    UrlPrefix,
    UrlKind::UrlPrefix,
    &["mirror://", "http://", "https://"]
);

url_type!(
    /// The snapshot archive's base URL as a lock records it: by the rules of
    /// a [`UrlPrefix`], but `http://` or `https://` only, since debclosure
    /// downloads from it itself.
    SnapshotBase,
    UrlKind::SnapshotBase,
    &["http://", "https://"]
);

/// A URL debclosure downloads from itself (a spec's `mirror`, its
/// `snapshot-base`): `http://` or `https://` with a host, and no white space
/// or control character. Not `file:`: the downloader speaks HTTP only, and a
/// spec is shared with everyone who runs `lock` or `check` on it, so it must
/// not make them read files of their own machine.
///
/// Credentials are allowed: a mirror is never written to a lock. `Display`
/// and `Debug` leave them out; [`MirrorUrl::expose`] gives the whole URL, for
/// requests.
#[derive(Clone, PartialEq, Eq)]
pub struct MirrorUrl(String);

impl MirrorUrl {
    /// Checks `url` and takes it.
    pub fn new(url: impl Into<String>) -> Result<Self, UrlError> {
        let url = url.into();
        let error = |problem| Err(UrlError::new(UrlKind::Mirror, &url, problem));
        let Some(rest) = ["http://", "https://"].iter().find_map(|s| url.strip_prefix(s)) else {
            return error(UrlProblem::Scheme);
        };
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return error(UrlProblem::SpaceOrControl);
        }
        if rest.split('/').next().unwrap_or_default().rsplit('@').next().unwrap_or_default().is_empty() {
            return error(UrlProblem::NoHost);
        }
        Ok(MirrorUrl(url))
    }

    /// The whole URL, credentials included: for requests only, never for
    /// messages, logs or a lock.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl fmt::Debug for MirrorUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MirrorUrl({:?})", redact_url(&self.0))
    }
}

impl TryFrom<String> for MirrorUrl {
    type Error = UrlError;

    fn try_from(url: String) -> Result<Self, UrlError> {
        MirrorUrl::new(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_only() {
        let cases = [
            ("http://user:secret@127.0.0.1:8080/debian/dists", "http://127.0.0.1:8080/debian/dists"),
            ("https://token@127.0.0.1/a?b=c@d", "https://127.0.0.1/a?b=c@d"),
            ("http://a:b@c@127.0.0.1#x", "http://127.0.0.1#x"),
            ("http://127.0.0.1/pool/a@b.deb", "http://127.0.0.1/pool/a@b.deb"),
            ("http://127.0.0.1", "http://127.0.0.1"),
            ("not a url @ all", "not a url @ all"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
    #[test]
    fn lock_urls_keep_their_rules() {
        assert!(UrlPrefix::new("mirror://debian").is_ok() && UrlPrefix::new("https://h.invalid:8443/debian/").is_ok());
        assert!(SnapshotBase::new("https://snapshot.invalid").is_ok());
        let cases = [
            (UrlPrefix::new("file:///etc").unwrap_err(), "URL prefix \"file:///etc\" is not a mirror://, http:// or https:// URL"),
            (UrlPrefix::new("https:///debian").unwrap_err(), "URL prefix \"https:///debian\" has no host"),
            (UrlPrefix::new("http://h.invalid/debian?x=").unwrap_err(), "URL prefix \"http://h.invalid/debian?x=\" contains the character '?'"),
            (
                UrlPrefix::new("http://user:secret@h.invalid/debian").unwrap_err(),
                "URL prefix \"http://h.invalid/debian\" holds credentials, which would be written into the lock and the Nix store",
            ),
            (SnapshotBase::new("mirror://debian").unwrap_err(), "snapshot base \"mirror://debian\" is not an http:// or https:// URL"),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
    }

    #[test]
    fn mirror_urls_never_show_their_credentials() {
        let mirror = MirrorUrl::new("https://u:secret@h.invalid:8443/debian/").unwrap();
        assert_eq!(mirror.expose(), "https://u:secret@h.invalid:8443/debian/");
        assert_eq!(mirror.to_string(), "https://h.invalid:8443/debian/");
        assert!(!format!("{mirror:?}").contains("secret"));
        let cases = [
            ("file:///srv/mirror", "\"file:///srv/mirror\" is not an http:// or https:// URL"),
            ("http://h.invalid/a b", "\"http://h.invalid/a b\" contains white space or a control character"),
            ("http://u:secret@/x", "\"http:///x\" has no host"),
        ];
        for (url, want) in cases {
            assert_eq!(MirrorUrl::new(url).unwrap_err().to_string(), want);
        }
    }
}
