//! OpenPGP signatures of a suite's Release file (RFC 9580), checked against
//! an explicit keyring: the clearsigned `InRelease`, or `Release` with its
//! detached `Release.gpg`.
//!
//! A file passes when at least one of its signatures is good and made by a
//! key of the keyring that could sign at the signature's creation time:
//!
//! - the signing key is the primary key, or a subkey bound to it: its
//!   binding signature in force allows signing and carries the subkey's
//!   back-signature (so a key cannot adopt someone else's subkey);
//! - the primary key has a self-signature in force; neither key was created
//!   after the signature, nor had expired by then;
//! - neither key is revoked by a valid revocation signature of the primary
//!   key. A revocation "superseded" or "retired" applies from its creation
//!   on; any other (compromised, no reason) applies to all signatures.
//!
//! A self- or binding signature is in force at a time when it is the
//! newest valid one made by then and not yet expired (signature expiration
//! time); a newer self-signature never decides about an older signature.
//!
//! The algorithm policy is apt's (sqv's, with Debian's crypto policy):
//! both keys must be RSA of at least 2048 bits or elliptic-curve, never
//! DSA; the signature, the self-signatures and bindings in force, and the
//! back-signature must use a digest stronger than SHA-1 (MD5, SHA-1 and
//! RIPEMD-160 are refused). Signatures must be of a document (binary or
//! text). Key expiry is judged at signature time, not against the clock:
//! freshness is the job of `Valid-Until:` (see [`crate::release`]); but a
//! signature that states its own expiration time has expired once the
//! clock passes it, as for apt.
//!
//! Only the signed part of an `InRelease` is ever returned. What surrounds
//! the signed block is ignored, and the text is rebuilt from what the
//! signatures cover, so trailing white space that the cleartext framework
//! leaves out of the hash cannot slip into the result.
//!
//! The parts: `cleartext` reads the clearsigned framework of an `InRelease`
//! and the signature packets, `keyring` the keys, `policy` decides
//! whether a signature is good and its key could make it, as above, and
//! `trust` gives each archive its own keys, as apt's `Signed-By` does.

mod cleartext;
mod keyring;
mod policy;
#[cfg(test)]
mod tests;
mod trust;

use std::fmt;

pub use keyring::Keyring;
pub use trust::{apt_trusted_keyrings, is_fingerprint, KeySelector, SignedBy, Trust, TrustAnchor, TrustError};

use cleartext::{parse_cleartext, read_signatures};
use policy::check_signatures;

/// Why a keyring cannot be used or a Release file is not trusted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A keyring file cannot be read.
    #[error("cannot read keyring {path}")]
    ReadKeyring {
        /// The keyring file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A keyring file is not OpenPGP public key data.
    #[error("{file}: not an OpenPGP public keyring")]
    BadKeyring {
        /// The keyring file.
        file: String,
        /// The parser's error.
        #[source]
        source: Box<pgp::errors::Error>,
    },
    /// A keyring file holds no key: nothing could ever verify.
    #[error("{file}: keyring holds no public key")]
    EmptyKeyring {
        /// The keyring file.
        file: String,
    },
    /// [`Keyring::load`] was given no file.
    #[error("no keyring given")]
    NoKeyring,
    /// The file is not a clearsigned message or its signature data does not
    /// parse.
    #[error("{file}: {problem}")]
    Malformed {
        /// The InRelease or Release.gpg label.
        file: String,
        /// What is wrong.
        problem: String,
        /// The parser's error, if it found the problem.
        #[source]
        source: Option<Box<pgp::errors::Error>>,
    },
    /// A detached-signed Release is not UTF-8 text.
    #[error("{file}: Release is not UTF-8 text")]
    NotText {
        /// The Release label.
        file: String,
    },
    /// The file holds no signature at all.
    #[error("{file}: no signature found")]
    Unsigned {
        /// The InRelease or Release.gpg label.
        file: String,
    },
    /// No signature is good and made by a usable key of the keyring. Either
    /// the keyring lacks the archive's current key, or the file was changed
    /// or signed by someone else.
    #[error("{file}: no good signature by a key in the keyring; signatures seen: {}", SignatureList(.issuers, .reasons))]
    NoGoodSignature {
        /// The InRelease or Release.gpg label.
        file: String,
        /// Per signature, the issuer it names: the fingerprint if the
        /// signature carries one, else the 16-digit key ID (upper-case hex),
        /// or `unknown issuer`.
        issuers: Vec<String>,
        /// Per signature (same order as `issuers`), why it was not accepted.
        reasons: Vec<String>,
        /// Whether a key or digest was refused by the algorithm policy
        /// (RSA under 2048 bits, DSA, SHA-1 in a signature or key binding).
        policy: bool,
    },
}

impl VerifyError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            VerifyError::NoGoodSignature { policy: true, .. } => Some(
                "apt refuses these too: keys must be RSA of at least 2048 bits or elliptic-curve, and signatures and the self- and binding signatures of their keys need a digest stronger than SHA-1; the archive has to re-sign, or the keyring needs its current key (--keyring PATH)".into(),
            ),
            VerifyError::NoGoodSignature { .. } => Some(
                "check that the keyring holds the archive's current signing key (--keyring PATH); Debian's keys are in the debian-archive-keyring package, Ubuntu's in ubuntu-keyring".into(),
            ),
            VerifyError::ReadKeyring { .. }
            | VerifyError::BadKeyring { .. }
            | VerifyError::EmptyKeyring { .. }
            | VerifyError::NoKeyring => {
                Some("pass the archive's keyring (a binary or armored OpenPGP public keyring) with --keyring PATH".into())
            }
            _ => None,
        }
    }
}

/// Formats `issuer (reason), …` for [`VerifyError::NoGoodSignature`].
struct SignatureList<'a>(&'a [String], &'a [String]);

impl fmt::Display for SignatureList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (issuer, reason)) in self.0.iter().zip(self.1).enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{issuer} ({reason})")?;
        }
        Ok(())
    }
}

/// A Release text whose signature was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The Release text as signed: for an `InRelease`, the signed block
    /// without dash-escaping, with `\n` line endings and a final newline;
    /// for a detached signature, the Release file unchanged.
    pub text: String,
    /// Fingerprints (upper-case hex) of the keys that made good signatures,
    /// in signature order: the subkey's when a subkey signed.
    pub signers: Vec<String>,
}

/// Verifies a clearsigned `InRelease` file and returns its signed text;
/// `label` names the file in errors.
pub fn verify_inrelease(keyring: &Keyring, inrelease: &str, label: &str) -> Result<Verified, VerifyError> {
    let message = parse_cleartext(inrelease, label)?;
    let signers = check_signatures(keyring, &message.signatures, message.signed_data().as_bytes(), label)?;
    Ok(Verified { text: message.text(), signers })
}

/// Verifies a `Release` file against its detached signature (`Release.gpg`,
/// armored or binary); `label` names the pair in errors.
pub fn verify_detached(
    keyring: &Keyring,
    release: &[u8],
    signature: &[u8],
    label: &str,
) -> Result<Verified, VerifyError> {
    let signatures = read_signatures(signature, label)?;
    let text = std::str::from_utf8(release).map_err(|_| VerifyError::NotText { file: label.into() })?;
    let signers = check_signatures(keyring, &signatures, release, label)?;
    Ok(Verified { text: text.into(), signers })
}

/// The signed text of an `InRelease` file, as [`verify_inrelease`] would
/// return it, without checking any signature: for `--insecure-no-verify`.
pub fn inrelease_text(inrelease: &str, label: &str) -> Result<String, VerifyError> {
    Ok(parse_cleartext(inrelease, label)?.text())
}
