//! Whom to trust for each archive, as apt decides it: every archive is
//! verified against its own keys only, never a pool of every keyring on the
//! machine.
//!
//! The keys of an archive are a [`SignedBy`]: keyring files, an embedded
//! public key block, and fingerprints that select keys from them, as apt's
//! `Signed-By` option says (sources.list(5)). A [`TrustAnchor`] adds where
//! that choice came from, for messages. [`Trust`] holds the loaded keyring of
//! each archive of a run and verifies that archive's Release files with it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{verify_detached, verify_inrelease, Keyring, Verified, VerifyError};

/// Whether `s` is a key fingerprint as debclosure writes them: upper-case
/// hex, 40 digits (OpenPGP v4) or 64 (v6).
pub fn is_fingerprint(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// A fingerprint that selects a key, as written in `Signed-By`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySelector {
    /// The fingerprint, upper-case hex.
    pub fingerprint: String,
    /// `FINGERPRINT!`: only that very key, not the subkeys of a primary key.
    pub exact: bool,
}

impl KeySelector {
    /// Whether a signature by `signer`, a key of `keyring`, is one this
    /// selector accepts: the key itself, or (unless exact) a subkey of it.
    fn accepts(&self, signer: &str, keyring: &Keyring) -> bool {
        self.fingerprint == signer || (!self.exact && keyring.primary_of(signer).as_deref() == Some(&*self.fingerprint))
    }
}

impl fmt::Display for KeySelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.fingerprint, if self.exact { "!" } else { "" })
    }
}

/// The keys an archive's Release files must be signed by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedBy {
    /// Keyring files (binary or ASCII-armored).
    pub files: Vec<PathBuf>,
    /// An ASCII-armored public key block given in place of files.
    pub inline: Option<String>,
    /// When not empty, only these keys of the keyrings are trusted.
    pub selectors: Vec<KeySelector>,
}

impl SignedBy {
    /// Trust every key of the keyring `files`.
    pub fn files(files: Vec<PathBuf>) -> SignedBy {
        SignedBy { files, ..SignedBy::default() }
    }

    /// Parses an apt `Signed-By` value: an embedded public key block (in a
    /// deb822 field, a line holding only `.` stands for an empty line), or
    /// a list, separated by commas or white space, of absolute keyring paths
    /// and fingerprints (`FINGERPRINT` or `FINGERPRINT!`). The error says
    /// which item is neither.
    pub fn parse(value: &str) -> Result<SignedBy, String> {
        let value = value.trim();
        if value.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            let lines: Vec<&str> = value.lines().map(|l| if l.trim() == "." { "" } else { l.trim() }).collect();
            return Ok(SignedBy { inline: Some(lines.join("\n") + "\n"), ..SignedBy::default() });
        }
        let mut out = SignedBy::default();
        for item in value.split(|c: char| c == ',' || c.is_whitespace()).filter(|i| !i.is_empty()) {
            if item.starts_with('/') {
                out.files.push(PathBuf::from(item));
                continue;
            }
            let (hex, exact) = item.strip_suffix('!').map_or((item, false), |h| (h, true));
            let fingerprint = hex.to_ascii_uppercase();
            if is_fingerprint(&fingerprint) {
                out.selectors.push(KeySelector { fingerprint, exact });
            } else {
                return Err(format!(
                    "Signed-By: {:?} is neither an absolute keyring path nor a key fingerprint",
                    crate::deb822::cut(item)
                ));
            }
        }
        if out.files.is_empty() && out.selectors.is_empty() {
            return Err("Signed-By is empty".into());
        }
        Ok(out)
    }

    /// Whether it names fingerprints only, which select from apt's trusted
    /// keyrings (`trusted.gpg` and `trusted.gpg.d/`).
    pub fn needs_trusted_keyrings(&self) -> bool {
        self.files.is_empty() && self.inline.is_none()
    }

    /// The keyrings for words: the files, or `an embedded key`, then the
    /// selected fingerprints.
    fn describe(&self) -> String {
        let mut parts: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
        if self.inline.is_some() {
            parts.push("an embedded key".into());
        }
        let mut out = parts.join(", ");
        if !self.selectors.is_empty() {
            let keys: Vec<String> = self.selectors.iter().map(ToString::to_string).collect();
            out = format!("{out}, key {}", keys.join(", "));
        }
        out
    }
}

/// An archive's keys and where that choice came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustAnchor {
    /// The keys.
    pub signed_by: SignedBy,
    /// Where they were named, for messages: `--keyring`, `Signed-By in
    /// FILE:LINE`, `the spec's [[source]] keyring`, `the default for Debian`.
    pub origin: String,
}

/// The keyring files apt trusts when a source names fingerprints but no
/// keyring: `etc/apt/trusted.gpg` and `etc/apt/trusted.gpg.d/*.gpg` and
/// `*.asc` under `root`, in file-name order.
pub fn apt_trusted_keyrings(root: &Path) -> Vec<PathBuf> {
    let etc = root.join("etc/apt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(etc.join("trusted.gpg.d"))
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("gpg" | "asc")));
    files.sort();
    let main = etc.join("trusted.gpg");
    if main.is_file() {
        files.insert(0, main);
    }
    files
}

/// Why an archive's keys cannot be loaded, or its Release is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The keyring could not be read.
    #[error("the keyring of archive {archive} (from {origin}) cannot be used")]
    Keyring {
        /// The archive.
        archive: String,
        /// Where the keyring was named.
        origin: String,
        /// Why (boxed: the error is returned often and is large).
        #[source]
        source: Box<VerifyError>,
    },
    /// Fingerprints only, and no trusted keyring holds one of them.
    #[error("archive {archive}: no keyring holds key {selector} (from {origin})")]
    NoSelectedKey {
        /// The archive.
        archive: String,
        /// The first selector that matched nothing.
        selector: String,
        /// Where it was named.
        origin: String,
    },
    /// The Release is not signed by the archive's keys.
    #[error("{file}: not signed by a key archive {archive} trusts: {keys} (from {origin})")]
    Untrusted {
        /// The Release label.
        file: String,
        /// The archive.
        archive: String,
        /// Its keyring in words.
        keys: String,
        /// Where the keyring was named.
        origin: String,
        /// What the verification said.
        #[source]
        source: Box<VerifyError>,
    },
    /// Good signatures, but none by a key the fingerprints select (a subkey
    /// of a key named `FINGERPRINT!`).
    #[error("{file}: signed by {signers}, which archive {archive} does not trust: it trusts {keys} (from {origin})")]
    NotSelected {
        /// The Release label.
        file: String,
        /// The archive.
        archive: String,
        /// The keys that made good signatures.
        signers: String,
        /// Its keyring in words.
        keys: String,
        /// Where the keyring was named.
        origin: String,
    },
    /// An archive of the run has no keyring (a caller's mistake).
    #[error("archive {archive} has no keyring")]
    NoAnchor {
        /// The archive.
        archive: String,
    },
}

impl TrustError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        let name_it = "name the archive's keyring: `keyring = [\"FILE\"]` in its [[source]] of the spec, `--keyring FILE`, or `--source \"[signed-by=FILE] URL SUITE COMPONENT...\"`";
        match self {
            TrustError::Keyring { source, .. } => {
                let install = match &**source {
                    VerifyError::ReadKeyring { path, .. } if path.ends_with("debian-archive-keyring.gpg") => {
                        "install debian-archive-keyring, or "
                    }
                    VerifyError::ReadKeyring { path, .. } if path.ends_with("ubuntu-archive-keyring.gpg") => {
                        "install ubuntu-keyring, or "
                    }
                    _ => "",
                };
                Some(format!("{install}{name_it}"))
            }
            TrustError::NoSelectedKey { .. } => {
                Some(format!("add the key to /etc/apt/trusted.gpg.d/ or give the keyring file in Signed-By; or {name_it}"))
            }
            TrustError::Untrusted { source, keys, .. } => match &**source {
                VerifyError::NoGoodSignature { policy: false, .. } => Some(format!(
                    "check that {keys} holds the archive's current signing key (Debian's keys are in debian-archive-keyring, Ubuntu's in ubuntu-keyring), or {name_it}"
                )),
                other => other.hint(),
            },
            TrustError::NotSelected { .. } => Some(name_it.to_owned()),
            TrustError::NoAnchor { .. } => None,
        }
    }
}

/// One archive's loaded keys.
#[derive(Debug, Clone)]
struct ArchiveKeys {
    keyring: Keyring,
    selectors: Vec<KeySelector>,
    keys: String,
    origin: String,
}

/// The keyring of each archive of a run.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    archives: BTreeMap<String, ArchiveKeys>,
}

impl Trust {
    /// Loads the keys of each archive. Fingerprints without a keyring
    /// select from `trusted` (apt's trusted keyrings, see
    /// [`apt_trusted_keyrings`]).
    pub fn load(anchors: &[(String, TrustAnchor)], trusted: &[PathBuf]) -> Result<Trust, TrustError> {
        let mut out = Trust::default();
        for (archive, anchor) in anchors {
            let failed = |source| TrustError::Keyring { archive: archive.clone(), origin: anchor.origin.clone(), source: Box::new(source) };
            let mut signed_by = anchor.signed_by.clone();
            if signed_by.needs_trusted_keyrings() {
                signed_by.files = trusted.to_vec();
            }
            let keyring = match &signed_by.inline {
                Some(block) => Keyring::from_bytes(block.as_bytes(), &format!("the Signed-By key of {}", anchor.origin)),
                None => Keyring::load(&signed_by.files),
            }
            .map_err(failed)?;
            let keyring = if signed_by.selectors.is_empty() {
                keyring
            } else {
                let missing = signed_by.selectors.iter().find(|s| keyring.primary_of(&s.fingerprint).is_none());
                if let Some(s) = missing {
                    return Err(TrustError::NoSelectedKey {
                        archive: archive.clone(),
                        selector: s.to_string(),
                        origin: anchor.origin.clone(),
                    });
                }
                keyring.select(|fingerprint| signed_by.selectors.iter().any(|s| s.fingerprint == fingerprint))
            };
            let keys = ArchiveKeys {
                keyring,
                selectors: signed_by.selectors.clone(),
                keys: anchor.signed_by.describe(),
                origin: anchor.origin.clone(),
            };
            out.archives.insert(archive.clone(), keys);
        }
        Ok(out)
    }

    /// Verifies a clearsigned `InRelease` of `archive` with its keys.
    pub fn verify_inrelease(&self, archive: &str, inrelease: &str, label: &str) -> Result<Verified, TrustError> {
        let keys = self.keys(archive)?;
        keys.accept(archive, label, verify_inrelease(&keys.keyring, inrelease, label))
    }

    /// Verifies a `Release` of `archive` against its detached signature.
    pub fn verify_detached(&self, archive: &str, release: &[u8], signature: &[u8], label: &str) -> Result<Verified, TrustError> {
        let keys = self.keys(archive)?;
        keys.accept(archive, label, verify_detached(&keys.keyring, release, signature, label))
    }

    fn keys(&self, archive: &str) -> Result<&ArchiveKeys, TrustError> {
        self.archives.get(archive).ok_or_else(|| TrustError::NoAnchor { archive: archive.to_owned() })
    }
}

impl ArchiveKeys {
    /// The verification's result, where at least one good signature must be
    /// by a selected key; the signers kept are those.
    fn accept(&self, archive: &str, label: &str, verified: Result<Verified, VerifyError>) -> Result<Verified, TrustError> {
        let mut verified = verified.map_err(|source| TrustError::Untrusted {
            file: label.to_owned(),
            archive: archive.to_owned(),
            keys: self.keys.clone(),
            origin: self.origin.clone(),
            source: Box::new(source),
        })?;
        if self.selectors.is_empty() {
            return Ok(verified);
        }
        let all = verified.signers.join(", ");
        verified.signers.retain(|signer| self.selectors.iter().any(|s| s.accepts(signer, &self.keyring)));
        if verified.signers.is_empty() {
            return Err(TrustError::NotSelected {
                file: label.to_owned(),
                archive: archive.to_owned(),
                signers: all,
                keys: self.keys.clone(),
                origin: self.origin.clone(),
            });
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use pgp::composed::ArmorOptions;

    use pgp::types::KeyDetails;

    use super::*;
    use crate::signature::keyring::hex_fingerprint;
    use crate::signature::tests::{clearsign, generate, now, public_bytes, subkey_hex, TEXT};

    fn anchor(signed_by: SignedBy) -> TrustAnchor {
        TrustAnchor { signed_by, origin: "the test".into() }
    }

    #[test]
    fn signed_by_values() {
        let fpr = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let parsed = SignedBy::parse(&format!(" /a.gpg,/b.asc {} {fpr}! ", fpr.to_lowercase())).unwrap();
        assert_eq!(parsed.files, [PathBuf::from("/a.gpg"), PathBuf::from("/b.asc")]);
        let selectors: Vec<String> = parsed.selectors.iter().map(ToString::to_string).collect();
        assert_eq!(selectors, [fpr.to_owned(), format!("{fpr}!")]);
        assert!(!parsed.needs_trusted_keyrings());
        assert!(SignedBy::parse(fpr).unwrap().needs_trusted_keyrings());

        // A deb822 value: continuation lines keep their leading space, and
        // ` .` stands for the empty line after the armor header.
        let block = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mDMEYCQjIxYJKwYBBAHaRw8BAQdA\n =IE0r\n -----END PGP PUBLIC KEY BLOCK-----";
        let inline = SignedBy::parse(block).unwrap().inline.unwrap();
        assert_eq!(inline, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEYCQjIxYJKwYBBAHaRw8BAQdA\n=IE0r\n-----END PGP PUBLIC KEY BLOCK-----\n");

        for bad in ["keys/debian.gpg", "ABCDEF", "", " , ", "-----BEGIN PGP PUBLIC KEY BLOCK"] {
            assert!(SignedBy::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(SignedBy::parse("k.gpg").unwrap_err(), "Signed-By: \"k.gpg\" is neither an absolute keyring path nor a key fingerprint");
    }

    #[test]
    fn each_archive_is_verified_with_its_own_keys_only() {
        let (debian, ubuntu) = (generate("debian", now()), generate("ubuntu", now()));
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, key| {
            let path = dir.path().join(name);
            std::fs::write(&path, public_bytes(&[key])).unwrap();
            path
        };
        let (debian_file, ubuntu_file) = (file("debian.gpg", &debian), file("ubuntu.gpg", &ubuntu));
        let anchors = [
            ("debian".to_owned(), anchor(SignedBy::files(vec![debian_file.clone()]))),
            ("ubuntu".to_owned(), anchor(SignedBy::files(vec![ubuntu_file.clone()]))),
        ];
        let trust = Trust::load(&anchors, &[]).unwrap();
        let by_debian = clearsign(TEXT, &[&debian]);
        let verified = trust.verify_inrelease("debian", &by_debian, "InRelease").unwrap();
        assert_eq!(verified.signers, [subkey_hex(&debian)]);
        // Ubuntu's keys do not vouch for Debian's archive, and the other way round.
        let err = trust.verify_inrelease("ubuntu", &by_debian, "InRelease").unwrap_err();
        let text = err.to_string();
        assert_eq!(text, format!("InRelease: not signed by a key archive ubuntu trusts: {} (from the test)", ubuntu_file.display()));
        assert!(trust.verify_inrelease("debian", &clearsign(TEXT, &[&ubuntu]), "x").is_err());
        assert!(matches!(trust.verify_inrelease("security", &by_debian, "x"), Err(TrustError::NoAnchor { .. })));

        let missing = [("debian".to_owned(), anchor(SignedBy::files(vec![dir.path().join("none.gpg")])))];
        let err = Trust::load(&missing, &[]).unwrap_err();
        assert_eq!(err.to_string(), "the keyring of archive debian (from the test) cannot be used");
    }

    #[test]
    fn fingerprints_select_keys_and_subkeys() {
        let (a, b) = (generate("a", now()), generate("b", now()));
        let dir = tempfile::tempdir().unwrap();
        let both = dir.path().join("both.gpg");
        std::fs::write(&both, public_bytes(&[&a, &b])).unwrap();
        let a_primary = hex_fingerprint(&a.primary_key.fingerprint());
        let signed = clearsign(TEXT, &[&a]); // by a's subkey
        let trust_with = |value: String, trusted: &[PathBuf]| {
            let anchors = [("x".to_owned(), anchor(SignedBy::parse(&value).unwrap()))];
            Trust::load(&anchors, trusted)
        };
        // A primary key's fingerprint accepts its subkeys' signatures…
        let trust = trust_with(format!("{} {a_primary}", both.display()), &[]).unwrap();
        assert_eq!(trust.verify_inrelease("x", &signed, "x").unwrap().signers, [subkey_hex(&a)]);
        // …unless it ends in `!`.
        let trust = trust_with(format!("{} {a_primary}!", both.display()), &[]).unwrap();
        let err = trust.verify_inrelease("x", &signed, "x").unwrap_err();
        assert!(matches!(err, TrustError::NotSelected { .. }), "{err}");
        // Another key's fingerprint leaves a's signature untrusted.
        let b_primary = hex_fingerprint(&b.primary_key.fingerprint());
        let trust = trust_with(format!("{} {b_primary}", both.display()), &[]).unwrap();
        assert!(matches!(trust.verify_inrelease("x", &signed, "x"), Err(TrustError::Untrusted { .. })));
        // Fingerprints alone select from the trusted keyrings.
        let trust = trust_with(subkey_hex(&a), std::slice::from_ref(&both)).unwrap();
        assert!(trust.verify_inrelease("x", &signed, "x").is_ok());
        let err = trust_with("0".repeat(40), std::slice::from_ref(&both)).unwrap_err();
        assert!(matches!(err, TrustError::NoSelectedKey { .. }), "{err}");
    }

    #[test]
    fn an_embedded_key_block() {
        let key = generate("k", now());
        let armored = key.to_public_key().to_armored_string(ArmorOptions::default()).unwrap();
        // As a deb822 continuation: every line indented, empty lines as ` .`.
        let value: Vec<String> =
            armored.lines().map(|l| if l.is_empty() { " .".to_owned() } else { format!(" {l}") }).collect();
        let signed_by = SignedBy::parse(&value.join("\n")).unwrap();
        let trust = Trust::load(&[("x".to_owned(), anchor(signed_by))], &[]).unwrap();
        assert!(trust.verify_inrelease("x", &clearsign(TEXT, &[&key]), "x").is_ok());
    }

    #[test]
    fn apt_trusted_keyrings_in_file_order() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("etc/apt/trusted.gpg.d");
        std::fs::create_dir_all(&d).unwrap();
        for name in ["b.gpg", "a.asc", "c.txt"] {
            std::fs::write(d.join(name), b"").unwrap();
        }
        std::fs::write(root.path().join("etc/apt/trusted.gpg"), b"").unwrap();
        let names: Vec<String> = apt_trusted_keyrings(root.path())
            .iter()
            .map(|p| p.strip_prefix(root.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["etc/apt/trusted.gpg", "etc/apt/trusted.gpg.d/a.asc", "etc/apt/trusted.gpg.d/b.gpg"]);
    }
}
