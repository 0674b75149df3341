//! OpenPGP signatures of a suite's Release file (RFC 9580), checked against
//! an explicit keyring: the clearsigned `InRelease`, or `Release` with its
//! detached `Release.gpg`.
//!
//! A file passes when at least one of its signatures is good and made by a
//! key of the keyring that could sign at the signature's creation time:
//!
//! - the signing key is the primary key, or a subkey bound to it: its
//!   newest valid binding signature allows signing and carries the subkey's
//!   back-signature (so a key cannot adopt someone else's subkey);
//! - the primary key has a valid self-signature; neither key was created
//!   after the signature, nor had expired by then (according to the newest
//!   valid self- or binding signature);
//! - neither key is revoked by a valid revocation signature of the primary
//!   key. A revocation "superseded" or "retired" applies from its creation
//!   on; any other (compromised, no reason) applies to all signatures.
//!
//! Signatures must be of a document (binary or text) with a digest stronger
//! than SHA-1. Expiry is judged at signature time, not against the clock:
//! freshness is the job of `Valid-Until:` (see [`crate::release`]).
//!
//! Only the signed part of an `InRelease` is ever returned. What surrounds
//! the signed block is ignored, and the text is rebuilt from what the
//! signatures cover, so trailing white space that the cleartext framework
//! leaves out of the hash cannot slip into the result.

use std::fmt;
use std::path::{Path, PathBuf};

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{RevocationCode, Signature, SignatureType, SubpacketData};
use pgp::types::{Fingerprint, KeyDetails, KeyId, Tag};

/// Where Debian and Ubuntu install their archive keyrings.
const DEFAULT_KEYRINGS: [&str; 2] =
    ["/usr/share/keyrings/debian-archive-keyring.gpg", "/usr/share/keyrings/ubuntu-archive-keyring.gpg"];

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
    },
}

impl VerifyError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
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

/// Public keys to verify signatures with, read from keyring files.
#[derive(Clone)]
pub struct Keyring {
    /// One entry per primary key; copies of a key from several files are
    /// merged, so that a revocation in any of them counts.
    keys: Vec<SignedPublicKey>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring").field("keys", &self.fingerprints()).finish()
    }
}

impl Keyring {
    /// Reads all public keys from the keyring files at `paths` (binary, like
    /// `/usr/share/keyrings/*.gpg`, or ASCII-armored). Each file must hold at
    /// least one key.
    pub fn load(paths: &[PathBuf]) -> Result<Keyring, VerifyError> {
        let mut keyring = Keyring { keys: Vec::new() };
        for path in paths {
            let label = path.display().to_string();
            let data =
                std::fs::read(path).map_err(|source| VerifyError::ReadKeyring { path: label.clone(), source })?;
            for key in Keyring::from_bytes(&data, &label)?.keys {
                keyring.add(key);
            }
        }
        if keyring.keys.is_empty() {
            // Each file holds a key, so there was no file.
            return Err(VerifyError::NoKeyring);
        }
        Ok(keyring)
    }

    /// Reads all public keys from the contents of one keyring file; `label`
    /// names it in errors.
    pub fn from_bytes(data: &[u8], label: &str) -> Result<Keyring, VerifyError> {
        let bad = |source| VerifyError::BadKeyring { file: label.into(), source: Box::new(source) };
        let armored = data.trim_ascii_start().starts_with(b"-----BEGIN PGP");
        let keys = if armored {
            SignedPublicKey::from_armor_many(data).map_err(bad)?.0
        } else {
            SignedPublicKey::from_bytes_many(data).map_err(bad)?
        };
        let mut keyring = Keyring { keys: Vec::new() };
        for key in keys {
            keyring.add(key.map_err(bad)?);
        }
        if keyring.keys.is_empty() {
            return Err(VerifyError::EmptyKeyring { file: label.into() });
        }
        Ok(keyring)
    }

    /// The archive keyrings that are installed: Debian's and Ubuntu's. When
    /// neither is, Debian's path, so that loading it names the missing file.
    /// Never a `*-removed-keys.gpg` file: those keys are retired.
    pub fn default_paths() -> Vec<PathBuf> {
        let present: Vec<PathBuf> =
            DEFAULT_KEYRINGS.iter().map(PathBuf::from).filter(|p| Path::new(p).is_file()).collect();
        if present.is_empty() {
            vec![PathBuf::from(DEFAULT_KEYRINGS[0])]
        } else {
            present
        }
    }

    /// Fingerprints of the primary keys (upper-case hex), in file order.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys.iter().map(|k| hex_fingerprint(&k.primary_key.fingerprint())).collect()
    }

    /// Adds `key`, merging it into an earlier copy of the same primary key.
    fn add(&mut self, key: SignedPublicKey) {
        let fingerprint = key.primary_key.fingerprint();
        let Some(old) = self.keys.iter_mut().find(|k| k.primary_key.fingerprint() == fingerprint) else {
            self.keys.push(key);
            return;
        };
        old.details.revocation_signatures.extend(key.details.revocation_signatures);
        old.details.direct_signatures.extend(key.details.direct_signatures);
        old.details.users.extend(key.details.users);
        for subkey in key.public_subkeys {
            let fingerprint = subkey.key.fingerprint();
            match old.public_subkeys.iter_mut().find(|s| s.key.fingerprint() == fingerprint) {
                Some(known) => known.signatures.extend(subkey.signatures),
                None => old.public_subkeys.push(subkey),
            }
        }
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

/// Reads the signature packets of an armored or binary signature file.
fn read_signatures(data: &[u8], label: &str) -> Result<Vec<Signature>, VerifyError> {
    let malformed = |source| VerifyError::Malformed {
        file: label.into(),
        problem: "cannot read the OpenPGP signature".into(),
        source: Some(Box::new(source)),
    };
    let armored = data.trim_ascii_start().starts_with(b"-----BEGIN PGP");
    let parsed = if armored {
        DetachedSignature::from_armor_many(data).map_err(malformed)?.0
    } else {
        DetachedSignature::from_bytes_many(data).map_err(malformed)?
    };
    parsed.map(|s| s.map(|s| s.signature)).collect::<Result<Vec<_>, _>>().map_err(malformed)
}

const BEGIN_MESSAGE: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const BEGIN_SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";

/// The parts of a clearsigned message (RFC 9580 §7).
struct Cleartext<'a> {
    /// The signed lines, without dash-escapes, line breaks and the trailing
    /// blanks that the signature does not cover.
    lines: Vec<&'a str>,
    signatures: Vec<Signature>,
}

impl Cleartext<'_> {
    /// The bytes the signatures cover: the lines joined by CRLF.
    fn signed_data(&self) -> String {
        self.lines.join("\r\n")
    }

    /// The Release text: the lines, each ended by `\n`.
    fn text(&self) -> String {
        let mut text = String::with_capacity(self.lines.iter().map(|l| l.len() + 1).sum());
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// Splits the one clearsigned message of `inrelease` into signed lines and
/// signatures, ignoring anything before its first line and after its last.
///
/// rPGP's own parser is not used because it is quadratic in the length of
/// the text (tens of milliseconds for Debian's 150 KB InRelease).
fn parse_cleartext<'a>(inrelease: &'a str, label: &str) -> Result<Cleartext<'a>, VerifyError> {
    let malformed = |line: usize, problem: String| VerifyError::Malformed {
        file: label.into(),
        problem: if line == 0 { problem } else { format!("line {line}: {problem}") },
        source: None,
    };
    let mut lines = inrelease.split_inclusive('\n').map(|l| l.strip_suffix('\n').unwrap_or(l));
    let Some(begin) = lines.position(|l| l.trim_end() == BEGIN_MESSAGE) else {
        return Err(malformed(0, format!("not a clearsigned file (no {BEGIN_MESSAGE} line)")));
    };
    let mut number = begin + 1;
    let mut next = || {
        number += 1;
        lines.next().map(|l| (number, l))
    };

    // Armor headers: only `Hash:` is allowed, and it need not match the
    // signatures, which name their own digest.
    loop {
        match next() {
            None => return Err(malformed(0, "clearsigned message ends in its header".into())),
            Some((_, line)) if line.trim_end().is_empty() => break,
            Some((_, line)) if line.starts_with("Hash:") => {}
            Some((n, line)) => return Err(malformed(n, format!("unexpected armor header {:?}", truncate(line)))),
        }
    }

    let mut signed = Vec::new();
    let signature_start = loop {
        let Some((n, line)) = next() else {
            return Err(malformed(0, format!("signed text is not followed by a {BEGIN_SIGNATURE} line")));
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_end() == BEGIN_SIGNATURE {
            break n;
        }
        let content = match line.strip_prefix("- ") {
            Some(escaped) => escaped,
            None if line.starts_with('-') => {
                return Err(malformed(n, format!("unescaped line {:?} in the signed text", truncate(line))));
            }
            None => line,
        };
        // A bare CR would be a line break to the signature but not to us.
        if content.contains('\r') {
            return Err(malformed(n, "carriage return inside a line".into()));
        }
        signed.push(content.trim_end_matches([' ', '\t']));
    };

    // The signature armor, up to its end line; what follows is ignored.
    let mut armor = format!("{BEGIN_SIGNATURE}\n");
    loop {
        let Some((_, line)) = next() else {
            return Err(malformed(0, format!("signature has no {END_SIGNATURE} line")));
        };
        armor.push_str(line);
        armor.push('\n');
        if line.trim_end() == END_SIGNATURE {
            break;
        }
        if line.trim_end() == BEGIN_MESSAGE {
            return Err(malformed(signature_start, "signature is not closed".into()));
        }
    }
    if lines.any(|l| l.trim_end() == BEGIN_MESSAGE) {
        return Err(malformed(0, "more than one signed message in the file".into()));
    }
    Ok(Cleartext { lines: signed, signatures: read_signatures(armor.as_bytes(), label)? })
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Checks `signatures` over `data`; returns the signers of the good ones.
fn check_signatures(
    keyring: &Keyring,
    signatures: &[Signature],
    data: &[u8],
    label: &str,
) -> Result<Vec<String>, VerifyError> {
    if signatures.is_empty() {
        return Err(VerifyError::Unsigned { file: label.into() });
    }
    let mut signers = Vec::new();
    let mut issuers = Vec::new();
    let mut reasons = Vec::new();
    for signature in signatures {
        match check_signature(keyring, signature, data) {
            Ok(signer) => {
                if !signers.contains(&signer) {
                    signers.push(signer);
                }
            }
            Err(reason) => {
                issuers.push(issuer(signature));
                reasons.push(reason);
            }
        }
    }
    if signers.is_empty() {
        return Err(VerifyError::NoGoodSignature { file: label.into(), issuers, reasons });
    }
    Ok(signers)
}

/// The signing key a signature names, for messages.
fn issuer(signature: &Signature) -> String {
    if let Some(fingerprint) = signature.issuer_fingerprint().first() {
        hex_fingerprint(fingerprint)
    } else if let Some(key_id) = signature.issuer_key_id().first() {
        hex_key_id(key_id)
    } else {
        "unknown issuer".into()
    }
}

fn hex_fingerprint(fingerprint: &Fingerprint) -> String {
    format!("{fingerprint:X}")
}

fn hex_key_id(key_id: &KeyId) -> String {
    key_id.to_string().to_ascii_uppercase()
}

/// A key that may have made a signature: a primary key, or one of its
/// subkeys.
struct Candidate<'k> {
    key: &'k SignedPublicKey,
    subkey: Option<&'k SignedPublicSubKey>,
}

impl Candidate<'_> {
    fn fingerprint(&self) -> Fingerprint {
        match self.subkey {
            Some(subkey) => subkey.key.fingerprint(),
            None => self.key.primary_key.fingerprint(),
        }
    }
}

/// Whether `signature` names `key` as its issuer (or names no issuer).
fn names(signature: &Signature, key: &impl KeyDetails) -> bool {
    let fingerprints = signature.issuer_fingerprint();
    let key_ids = signature.issuer_key_id();
    if fingerprints.is_empty() && key_ids.is_empty() {
        return true;
    }
    fingerprints.iter().any(|f| **f == key.fingerprint()) || key_ids.iter().any(|k| **k == key.legacy_key_id())
}

/// Checks one signature over `data`; returns the signer's fingerprint, or
/// why the signature is not accepted.
fn check_signature(keyring: &Keyring, signature: &Signature, data: &[u8]) -> Result<String, String> {
    match signature.typ() {
        Some(SignatureType::Binary | SignatureType::Text) => {}
        other => return Err(format!("not a document signature (type {other:?})")),
    }
    match signature.hash_alg() {
        Some(weak @ (HashAlgorithm::Md5 | HashAlgorithm::Sha1 | HashAlgorithm::Ripemd160)) => {
            return Err(format!("weak digest {weak}"));
        }
        Some(_) => {}
        None => return Err("unsupported signature version".into()),
    }
    let created = signature.created().ok_or("signature has no creation time")?.as_secs();

    let mut candidates = Vec::new();
    for key in &keyring.keys {
        if names(signature, &key.primary_key) {
            candidates.push(Candidate { key, subkey: None });
        }
        for subkey in &key.public_subkeys {
            if names(signature, &subkey.key) {
                candidates.push(Candidate { key, subkey: Some(subkey) });
            }
        }
    }
    if candidates.is_empty() {
        return Err("key not in the keyring".into());
    }
    let mut reason = String::new();
    for candidate in &candidates {
        let verified = match candidate.subkey {
            Some(subkey) => signature.verify(&subkey.key, data),
            None => signature.verify(&candidate.key.primary_key, data),
        };
        if verified.is_err() {
            reason = "bad signature: the signed text was changed or the signature is corrupt".into();
            continue;
        }
        match usable(candidate, created) {
            Ok(()) => return Ok(hex_fingerprint(&candidate.fingerprint())),
            Err(why) => reason = why,
        }
    }
    Err(reason)
}

/// Checks that `candidate` could make a signature at time `at` (seconds
/// since the epoch): bound, not revoked, not expired.
fn usable(candidate: &Candidate<'_>, at: u32) -> Result<(), String> {
    let key = candidate.key;
    let primary = &key.primary_key;
    let primary_hex = hex_fingerprint(&primary.fingerprint());

    for revocation in &key.details.revocation_signatures {
        if revocation.typ() == Some(SignatureType::KeyRevocation)
            && revokes_at(revocation, at)
            && revocation.verify_key(primary).is_ok()
        {
            return Err(format!("primary key {primary_hex} is revoked"));
        }
    }
    let self_signature =
        self_signature(key).ok_or_else(|| format!("primary key {primary_hex} has no valid self-signature"))?;
    check_lifetime(primary.created_at().as_secs(), self_signature, at, &primary_hex)?;

    let Some(subkey) = candidate.subkey else {
        if has_key_flags(self_signature) && !self_signature.key_flags().sign() {
            return Err(format!("primary key {primary_hex} is not for signing"));
        }
        return Ok(());
    };
    let sub = &subkey.key;
    let sub_hex = hex_fingerprint(&sub.fingerprint());
    for revocation in &subkey.signatures {
        if revocation.typ() == Some(SignatureType::SubkeyRevocation)
            && revokes_at(revocation, at)
            && revocation.verify_subkey_binding(primary, sub).is_ok()
        {
            return Err(format!("subkey {sub_hex} is revoked"));
        }
    }
    // The newest valid binding decides; one for signing must carry the
    // subkey's back-signature.
    let bindings = subkey.signatures.iter().filter(|s| s.typ() == Some(SignatureType::SubkeyBinding));
    let (binding, ()) = newest_valid(bindings.map(|s| (s, ())), |(s, ())| {
        s.verify_subkey_binding(primary, sub).is_ok()
            && (!s.key_flags().sign()
                || s.embedded_signature().is_some_and(|back| back.verify_primary_key_binding(sub, primary).is_ok()))
    })
    .ok_or_else(|| format!("subkey {sub_hex} is not bound to primary key {primary_hex}"))?;
    if !binding.key_flags().sign() {
        return Err(format!("subkey {sub_hex} is not for signing"));
    }
    check_lifetime(sub.created_at().as_secs(), binding, at, &sub_hex)
}

/// The primary key's newest valid self-signature: a direct-key signature or
/// a certification of one of its user IDs.
fn self_signature(key: &SignedPublicKey) -> Option<&Signature> {
    let primary = &key.primary_key;
    let direct =
        key.details.direct_signatures.iter().filter(|s| s.typ() == Some(SignatureType::Key)).map(|s| (s, None));
    let certifications = key.details.users.iter().flat_map(|user| {
        user.signatures
            .iter()
            .filter(|s| s.is_certification() && s.typ() != Some(SignatureType::CertRevocation))
            .map(move |s| (s, Some(&user.id)))
    });
    newest_valid(direct.chain(certifications).filter(|(s, _)| names(s, primary)), |(s, user)| match user {
        None => s.verify_key(primary).is_ok(),
        Some(id) => s.verify_certification(primary, Tag::UserId, id).is_ok(),
    })
    .map(|(s, _)| s)
}

/// The newest of `signatures` (by creation time) that passes `valid`.
/// Checking newest first saves work: Debian's keys carry several
/// self-signatures, and each check is an RSA-4096 verification.
fn newest_valid<'s, T: Copy + 's>(
    signatures: impl Iterator<Item = (&'s Signature, T)>,
    valid: impl Fn((&'s Signature, T)) -> bool,
) -> Option<(&'s Signature, T)> {
    let mut signatures: Vec<_> = signatures.collect();
    signatures.sort_by_key(|(s, _)| std::cmp::Reverse(s.created().map_or(0, |t| t.as_secs())));
    signatures.into_iter().find(|&item| valid(item))
}

/// Whether a revocation counts for a signature made at `at`: "superseded"
/// and "retired" only from their own creation on, any other always.
fn revokes_at(revocation: &Signature, at: u32) -> bool {
    let soft = matches!(
        revocation.revocation_reason_code(),
        Some(RevocationCode::KeySuperseded | RevocationCode::KeyRetired | RevocationCode::CertUserIdInvalid)
    );
    !soft || revocation.created().is_some_and(|t| t.as_secs() <= at)
}

/// Checks that a key created at `created`, whose expiry `self_signature`
/// states, was valid at `at`.
fn check_lifetime(created: u32, self_signature: &Signature, at: u32, hex: &str) -> Result<(), String> {
    if created > at {
        return Err(format!("key {hex} was created after the signature"));
    }
    let lifetime = self_signature.key_expiration_time().map_or(0, |d| d.as_secs());
    if lifetime != 0 && u64::from(created) + u64::from(lifetime) <= u64::from(at) {
        return Err(format!("key {hex} had expired when the signature was made"));
    }
    Ok(())
}

fn has_key_flags(signature: &Signature) -> bool {
    signature.config().is_some_and(|c| c.hashed_subpackets().any(|p| matches!(p.data, SubpacketData::KeyFlags(_))))
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime, UNIX_EPOCH};

    use pgp::bytes::Bytes;
    use pgp::composed::{
        ArmorOptions, CleartextSignedMessage, EncryptionCaps, KeyType, SecretKeyParamsBuilder, SignedSecretKey,
        SubkeyParamsBuilder,
    };
    use pgp::packet::{KeyFlags, PacketTrait, SecretKey, SignatureConfig, Subpacket};
    use pgp::ser::Serialize;
    use pgp::types::{Duration, Password, SigningKey, Timestamp};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release");
    const RESIGNED: &str = include_str!("../tests/fixtures/release/bookworm-resigned-InRelease");
    const RESIGNED_DETACHED: &[u8] = include_bytes!("../tests/fixtures/release/bookworm-resigned-Release.gpg");
    const TEST_KEYRING: &[u8] = include_bytes!("../tests/fixtures/release/test-keyring.gpg");
    // Fingerprints printed by tests/fixtures/release/make-fixtures.sh.
    const ARCHIVE_KEY: &str = "0D16E7ABA89712D8E8F3FA1432636BA5DCE8FFAD";
    const ARCHIVE_SUBKEY: &str = "5046EB653878A7A2B5681395F67BE853969F5439";
    const RELEASE_KEY: &str = "A377AF4F7586FCA87147A0B31172544FA4EA5239";
    const UNKNOWN_KEY: &str = "01EC89FADC34206EDFD9C1E0057221473803293A";
    const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

    /// The text between the armor headers and the signature of a
    /// clearsigned file whose lines need no dash-escaping, with its final
    /// newline.
    fn signed_part(inrelease: &str) -> &str {
        let start = inrelease.find("\n\n").expect("armor headers end") + 2;
        let end = inrelease.find("\n-----BEGIN PGP SIGNATURE-----").expect("signature") + 1;
        &inrelease[start..end]
    }

    fn test_keyring() -> Keyring {
        Keyring::from_bytes(TEST_KEYRING, "test-keyring.gpg").unwrap()
    }

    fn no_good(result: Result<Verified, VerifyError>) -> (Vec<String>, Vec<String>, String) {
        match result {
            Err(e @ VerifyError::NoGoodSignature { .. }) => {
                let shown = e.to_string();
                let VerifyError::NoGoodSignature { issuers, reasons, .. } = e else { unreachable!() };
                (issuers, reasons, shown)
            }
            other => panic!("expected NoGoodSignature, got {other:?}"),
        }
    }

    /// The Debian keyring, or `None` (with a notice) where it is not
    /// installed; on CI it must be.
    fn debian_keyring() -> Option<Keyring> {
        if !Path::new(DEBIAN_KEYRING).is_file() {
            assert!(std::env::var_os("CI").is_none(), "{DEBIAN_KEYRING} is missing on CI");
            eprintln!("notice: skipped, {DEBIAN_KEYRING} is not installed");
            return None;
        }
        Some(Keyring::load(&[PathBuf::from(DEBIAN_KEYRING)]).unwrap())
    }

    #[test]
    fn debian_keyring_loads() {
        let Some(keyring) = debian_keyring() else { return };
        // Debian Archive Automatic Signing Key (12/bookworm).
        assert!(keyring.fingerprints().contains(&"B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8".to_string()));
    }

    /// A real InRelease cannot be committed: bookworm's names a host in its
    /// `Changelogs:` field, and the signature covers it. Point
    /// `DEBCLOSURE_REAL_INRELEASE` at one (e.g. a bookworm InRelease) to run
    /// this test.
    #[test]
    fn real_inrelease_with_debian_keyring() {
        let Some(path) = std::env::var_os("DEBCLOSURE_REAL_INRELEASE") else {
            eprintln!("notice: skipped, DEBCLOSURE_REAL_INRELEASE is not set");
            return;
        };
        let Some(keyring) = debian_keyring() else { return };
        let inrelease = std::fs::read_to_string(&path).unwrap();
        let start = Instant::now();
        let verified = verify_inrelease(&keyring, &inrelease, "InRelease").unwrap();
        eprintln!("real InRelease: {:?}, signers {:?}", start.elapsed(), verified.signers);
        assert_eq!(verified.text, signed_part(&inrelease));
        assert!(!verified.signers.is_empty());

        let digit = inrelease.find("SHA256:\n ").unwrap() + 9;
        let mut tampered = inrelease.clone().into_bytes();
        tampered[digit] = if tampered[digit] == b'0' { b'1' } else { b'0' };
        let (_, reasons, _) = no_good(verify_inrelease(&keyring, std::str::from_utf8(&tampered).unwrap(), "x"));
        assert!(reasons.iter().any(|r| r.starts_with("bad signature")), "{reasons:?}");
    }

    #[test]
    fn resigned_bookworm_verifies() {
        let keyring = test_keyring();
        assert_eq!(keyring.fingerprints(), [ARCHIVE_KEY, RELEASE_KEY]);
        let start = Instant::now();
        let verified = verify_inrelease(&keyring, RESIGNED, "bookworm/InRelease").unwrap();
        eprintln!("verify_inrelease, 3 signatures (RSA-4096, unknown, Ed25519): {:?}", start.elapsed());
        // The signature by the key that is not in the keyring is skipped.
        assert_eq!(verified.signers, [ARCHIVE_SUBKEY, RELEASE_KEY]);
        assert_eq!(verified.text, signed_part(RESIGNED));
        assert!(verified.text.starts_with("Origin: Debian\n") && verified.text.ends_with("/Sources.xz\n"));
        assert_eq!(inrelease_text(RESIGNED, "x").unwrap(), verified.text);

        // gpg signed the Release text, final newline included, separately:
        // the text returned must be that text byte for byte.
        let start = Instant::now();
        let detached =
            verify_detached(&keyring, verified.text.as_bytes(), RESIGNED_DETACHED, "bookworm/Release").unwrap();
        eprintln!("verify_detached, 1 signature (RSA-4096): {:?}", start.elapsed());
        assert_eq!(detached, Verified { text: verified.text.clone(), signers: vec![ARCHIVE_SUBKEY.into()] });
        let mut changed = verified.text.clone().into_bytes();
        changed.pop();
        let (issuers, reasons, _) = no_good(verify_detached(&keyring, &changed, RESIGNED_DETACHED, "x"));
        assert_eq!(issuers, [ARCHIVE_SUBKEY]);
        assert!(reasons[0].starts_with("bad signature"), "{reasons:?}");
    }

    #[test]
    fn one_byte_tamper_fails() {
        let keyring = test_keyring();
        // The last digit of a size in the SHA256 table.
        let at = RESIGNED.rfind(" main/binary-amd64/Packages.xz").unwrap() - 1;
        let mut tampered = RESIGNED.to_string().into_bytes();
        assert!(tampered[at].is_ascii_digit(), "a size digit");
        tampered[at] = if tampered[at] == b'9' { b'8' } else { b'9' };
        let tampered = String::from_utf8(tampered).unwrap();
        let (issuers, reasons, shown) = no_good(verify_inrelease(&keyring, &tampered, "dists/bookworm/InRelease"));
        assert_eq!(issuers, [ARCHIVE_SUBKEY, UNKNOWN_KEY, RELEASE_KEY]);
        assert!(reasons[0].starts_with("bad signature") && reasons[2].starts_with("bad signature"), "{reasons:?}");
        assert_eq!(reasons[1], "key not in the keyring");
        assert!(shown.starts_with("dists/bookworm/InRelease: no good signature by a key in the keyring"), "{shown}");
        // The unchecked text still reads the tampered content.
        assert_ne!(inrelease_text(&tampered, "x").unwrap(), signed_part(RESIGNED));
    }

    #[test]
    fn keyring_without_the_signers() {
        let other = generate("other", now());
        let keyring = Keyring::from_bytes(&public_bytes(&[&other]), "other.gpg").unwrap();
        let err = verify_inrelease(&keyring, RESIGNED, "bookworm/InRelease").unwrap_err();
        let shown = err.to_string();
        for key in [ARCHIVE_SUBKEY, RELEASE_KEY, UNKNOWN_KEY] {
            // Key IDs are the last 16 digits of a v4 fingerprint.
            assert!(shown.contains(&key[24..]), "{shown}");
        }
        assert!(err.hint().unwrap().contains("--keyring"));
    }

    // Generated keys: Ed25519, which is fast even in debug builds.

    const TEXT: &str = "Origin: Test\nSuite: stable\nSHA256:\n 0000 1 main/binary-all/Packages";

    fn now() -> u32 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as u32
    }

    /// A key like an archive key: a primary key that certifies and signs,
    /// with one signing subkey, both created at `created`.
    fn generate(name: &str, created: u32) -> SignedSecretKey {
        let created = Timestamp::from_secs(created);
        SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .created_at(created)
            .primary_user_id(name.into())
            .subkeys(vec![SubkeyParamsBuilder::default()
                .key_type(KeyType::Ed25519Legacy)
                .can_sign(true)
                .created_at(created)
                .build()
                .unwrap()])
            .build()
            .unwrap()
            .generate(rand::thread_rng())
            .unwrap()
    }

    fn public_bytes(keys: &[&SignedSecretKey]) -> Vec<u8> {
        let mut out = Vec::new();
        for key in keys {
            key.to_public_key().to_writer(&mut out).unwrap();
        }
        out
    }

    fn keyring_of(keys: &[&SignedPublicKey]) -> Keyring {
        let mut out = Vec::new();
        for key in keys {
            key.to_writer(&mut out).unwrap();
        }
        Keyring::from_bytes(&out, "generated").unwrap()
    }

    /// The subpackets every test signature gets: creation time and issuer.
    fn subpackets(key: &impl KeyDetails, at: u32) -> Vec<Subpacket> {
        vec![
            Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(at))).unwrap(),
            Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint())).unwrap(),
        ]
    }

    /// A document signature of `typ` over `data`, made at `at`.
    fn sign_at(key: &impl SigningKey, typ: SignatureType, hash: HashAlgorithm, at: u32, data: &[u8]) -> Signature {
        let mut config = SignatureConfig::v4(typ, key.algorithm(), hash);
        config.hashed_subpackets = subpackets(key, at);
        config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::IssuerKeyId(key.legacy_key_id())).unwrap()];
        config.sign(key, &Password::empty(), data).unwrap()
    }

    /// `text` clearsigned by each of `signers` (a subkey, made now).
    fn clearsign(text: &str, signers: &[&SignedSecretKey]) -> String {
        clearsign_with(text, |data| {
            signers
                .iter()
                .map(|k| sign_at(&k.secret_subkeys[0].key, SignatureType::Text, HashAlgorithm::Sha256, now(), data))
                .collect()
        })
    }

    fn clearsign_with(text: &str, sign: impl FnOnce(&[u8]) -> Vec<Signature>) -> String {
        CleartextSignedMessage::new_many(text, |normalized| Ok(sign(normalized.as_bytes())))
            .unwrap()
            .to_armored_string(ArmorOptions::default())
            .unwrap()
    }

    fn subkey_hex(key: &SignedSecretKey) -> String {
        hex_fingerprint(&key.secret_subkeys[0].key.fingerprint())
    }

    #[test]
    fn good_signature() {
        let key = generate("archive", now());
        let keyring = keyring_of(&[&key.to_public_key()]);
        let inrelease = clearsign(TEXT, &[&key]);
        let verified = verify_inrelease(&keyring, &inrelease, "InRelease").unwrap();
        assert_eq!(verified, Verified { text: format!("{TEXT}\n"), signers: vec![subkey_hex(&key)] });

        // The primary key may sign too, when its flags allow it.
        let by_primary = clearsign_with(TEXT, |data| {
            vec![sign_at(&key.primary_key, SignatureType::Binary, HashAlgorithm::Sha512, now(), data)]
        });
        let verified = verify_inrelease(&keyring, &by_primary, "InRelease").unwrap();
        assert_eq!(verified.signers, [hex_fingerprint(&key.primary_key.fingerprint())]);
    }

    #[test]
    fn dash_escaped_and_trailing_blanks() {
        let key = generate("archive", now());
        let keyring = keyring_of(&[&key.to_public_key()]);
        let text = "A: b\n-----BEGIN PGP SIGNATURE-----\n- x\nFrom here\nC: d";
        let inrelease = clearsign(text, &[&key]);
        assert!(inrelease.contains("\n- -----BEGIN PGP SIGNATURE-----\n- - x\n"), "{inrelease}");
        let want = format!("{text}\n");
        assert_eq!(verify_inrelease(&keyring, &inrelease, "x").unwrap().text, want);
        assert_eq!(inrelease_text(&inrelease, "x").unwrap(), want);
        // Trailing blanks are not covered by the signature, so they are not
        // returned either.
        let padded = inrelease.replace("\nFrom here\n", "\nFrom here \t \n").replace("\nA: b\n", "\nA: b  \n");
        assert_ne!(padded, inrelease);
        assert_eq!(verify_inrelease(&keyring, &padded, "x").unwrap().text, want);
        assert_eq!(inrelease_text(&padded, "x").unwrap(), want);
    }

    #[test]
    fn unknown_key_is_named() {
        let known = generate("known", now());
        let stranger = generate("stranger", now());
        let keyring = keyring_of(&[&known.to_public_key()]);
        let inrelease = clearsign(TEXT, &[&stranger]);
        let (issuers, reasons, shown) = no_good(verify_inrelease(&keyring, &inrelease, "dists/x/InRelease"));
        let id = subkey_hex(&stranger);
        assert_eq!(issuers, std::slice::from_ref(&id));
        assert_eq!(reasons, ["key not in the keyring"]);
        assert_eq!(
            shown,
            format!(
                "dists/x/InRelease: no good signature by a key in the keyring; signatures seen: {id} (key not in the keyring)"
            )
        );
        assert!(shown.contains(&id[24..]));

        // A signature that names only a key ID is reported by it.
        let by_id = clearsign_with(TEXT, |data| {
            let key = &stranger.secret_subkeys[0].key;
            let mut config = SignatureConfig::v4(SignatureType::Text, key.algorithm(), HashAlgorithm::Sha256);
            config.hashed_subpackets =
                vec![Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(now()))).unwrap()];
            config.unhashed_subpackets =
                vec![Subpacket::regular(SubpacketData::IssuerKeyId(key.legacy_key_id())).unwrap()];
            vec![config.sign(key, &Password::empty(), data).unwrap()]
        });
        let (issuers, _, _) = no_good(verify_inrelease(&keyring, &by_id, "x"));
        assert_eq!(issuers, [id[24..].to_string()]);
    }

    #[test]
    fn one_good_signature_is_enough() {
        let known = generate("known", now());
        let stranger = generate("stranger", now());
        let keyring = keyring_of(&[&known.to_public_key()]);
        for signers in [[&stranger, &known], [&known, &stranger]] {
            let inrelease = clearsign(TEXT, &signers);
            let verified = verify_inrelease(&keyring, &inrelease, "x").unwrap();
            assert_eq!(verified.signers, [subkey_hex(&known)]);
        }
        // A bad signature by a known key next to a good one is no harm.
        let inrelease = clearsign_with(TEXT, |data| {
            let key = &known.secret_subkeys[0].key;
            vec![
                sign_at(key, SignatureType::Text, HashAlgorithm::Sha256, now(), b"other text"),
                sign_at(key, SignatureType::Text, HashAlgorithm::Sha256, now(), data),
            ]
        });
        assert_eq!(verify_inrelease(&keyring, &inrelease, "x").unwrap().signers, [subkey_hex(&known)]);
    }

    #[test]
    fn weak_digest_and_wrong_type() {
        let key = generate("archive", now());
        let keyring = keyring_of(&[&key.to_public_key()]);
        let sub = &key.secret_subkeys[0].key;
        let inrelease = clearsign_with(TEXT, |data| {
            // Only RSA and DSA keys make SHA-1 signatures, and generating
            // those is slow in debug builds; a signature that claims SHA-1
            // is enough, since the digest is checked first. Likewise for the
            // type, which rPGP does not sign data with.
            let good = sign_at(sub, SignatureType::Text, HashAlgorithm::Sha256, now(), data);
            vec![
                forged(&good, |c| c.hash_alg = HashAlgorithm::Sha1),
                forged(&good, |c| c.typ = SignatureType::Timestamp),
            ]
        });
        let (_, reasons, _) = no_good(verify_inrelease(&keyring, &inrelease, "x"));
        assert_eq!(reasons[0], "weak digest SHA1");
        assert!(reasons[1].starts_with("not a document signature"), "{reasons:?}");
    }

    #[test]
    fn only_the_signed_block_counts() {
        let key = generate("archive", now());
        let keyring = keyring_of(&[&key.to_public_key()]);
        let inrelease = clearsign(TEXT, &[&key]);
        let wrapped = format!("Origin: Evil\nSHA256:\n\n{inrelease}\nOrigin: Evil\n {0} 1 x\n", "f".repeat(64));
        let verified = verify_inrelease(&keyring, &wrapped, "x").unwrap();
        assert_eq!(verified.text, format!("{TEXT}\n"));
        assert_eq!(inrelease_text(&wrapped, "x").unwrap(), verified.text);

        let twice = format!("{inrelease}\n{inrelease}");
        let err = verify_inrelease(&keyring, &twice, "x").unwrap_err();
        assert!(matches!(err, VerifyError::Malformed { .. }), "{err}");
        assert_eq!(err.to_string(), "x: more than one signed message in the file");

        for text in [TEXT, "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: b\n"] {
            let err = verify_inrelease(&keyring, text, "x").unwrap_err();
            assert!(matches!(err, VerifyError::Malformed { .. }), "{err}");
            assert!(inrelease_text(text, "x").is_err());
        }
        let cut = &inrelease[..inrelease.len() - 40];
        assert!(matches!(verify_inrelease(&keyring, cut, "x"), Err(VerifyError::Malformed { .. })));
    }

    #[test]
    fn malformed_cleartext() {
        let key = generate("archive", now());
        let inrelease = clearsign("A: b\nC: d", &[&key]);
        assert!(
            inrelease.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nA: b\nC: d\n"),
            "{inrelease}"
        );
        let cases = [
            (inrelease.replace("Hash: SHA256\n", "Hash: SHA256\nComment: hi\n"), "line 3: unexpected armor header"),
            (format!("junk\n{}", inrelease.replace("C: d\n", "-C: d\n")), "line 6: unescaped line \"-C: d\""),
            (inrelease.replace("A: b\n", "A: b\rB: c\n"), "line 4: carriage return inside a line"),
            (inrelease.replace("-----BEGIN PGP SIGNATURE-----", "-----BEGIN PGP SIGNATURE"), "line 6: unescaped line"),
            (inrelease[..inrelease.find("-----BEGIN PGP SIGNATURE").unwrap()].into(), "not followed by a -----BEGIN"),
            (inrelease.replace("-----END PGP SIGNATURE-----", ""), "has no -----END PGP SIGNATURE----- line"),
            (inrelease.replace("\n\nA: b", "\nA: b"), "unexpected armor header \"A: b\""),
            (
                inrelease.replace("-----BEGIN PGP SIGNED MESSAGE-----", "-----BEGIN PGP MESSAGE-----"),
                "not a clearsigned",
            ),
        ];
        for (text, message) in cases {
            let err = inrelease_text(&text, "dists/x/InRelease").unwrap_err();
            assert!(matches!(err, VerifyError::Malformed { .. }), "{err:?}");
            let shown = err.to_string();
            assert!(shown.starts_with("dists/x/InRelease: ") && shown.contains(message), "{shown}");
        }
        // CRLF line breaks are line breaks.
        let crlf = inrelease.replace('\n', "\r\n");
        let keyring = keyring_of(&[&key.to_public_key()]);
        assert_eq!(verify_inrelease(&keyring, &crlf, "x").unwrap().text, "A: b\nC: d\n");
    }

    #[test]
    fn detached_signatures() {
        let key = generate("archive", now());
        let stranger = generate("stranger", now());
        let keyring = keyring_of(&[&key.to_public_key()]);
        let release = format!("{TEXT}\n");
        let sub = &key.secret_subkeys[0].key;
        let binary = DetachedSignature::sign_binary_data(
            rand::thread_rng(),
            sub,
            &Password::empty(),
            HashAlgorithm::Sha256,
            release.as_bytes(),
        )
        .unwrap();
        let mut bytes = Vec::new();
        binary.to_writer(&mut bytes).unwrap();
        let armored = binary.to_armored_bytes(ArmorOptions::default()).unwrap();
        for signature in [&bytes, &armored] {
            let verified = verify_detached(&keyring, release.as_bytes(), signature, "Release").unwrap();
            assert_eq!(verified, Verified { text: release.clone(), signers: vec![subkey_hex(&key)] });
            let tampered = release.replace("stable", "stablE");
            let (_, reasons, _) = no_good(verify_detached(&keyring, tampered.as_bytes(), signature, "Release"));
            assert!(reasons[0].starts_with("bad signature"), "{reasons:?}");
        }

        // Two signatures, one by a key not in the keyring.
        let mut both = Vec::new();
        for signer in [&stranger, &key] {
            let s = &signer.secret_subkeys[0].key;
            sign_at(s, SignatureType::Binary, HashAlgorithm::Sha256, now(), release.as_bytes())
                .to_writer_with_header(&mut both)
                .unwrap();
        }
        let verified = verify_detached(&keyring, release.as_bytes(), &both, "Release").unwrap();
        assert_eq!(verified.signers, [subkey_hex(&key)]);

        // A text signature covers the text whatever its line endings.
        let text_sig = sign_at(sub, SignatureType::Text, HashAlgorithm::Sha256, now(), release.as_bytes());
        let mut bytes = Vec::new();
        text_sig.to_writer_with_header(&mut bytes).unwrap();
        let crlf = release.replace('\n', "\r\n");
        assert!(verify_detached(&keyring, crlf.as_bytes(), &bytes, "Release").is_ok());

        assert!(matches!(verify_detached(&keyring, release.as_bytes(), b"", "R"), Err(VerifyError::Unsigned { .. })));
        assert!(matches!(
            verify_detached(&keyring, release.as_bytes(), b"\x88garbage", "R"),
            Err(VerifyError::Malformed { .. })
        ));
        assert!(matches!(verify_detached(&keyring, b"\xff\xfe", &bytes, "R"), Err(VerifyError::NotText { .. })));
    }

    /// A subkey binding signature for `key`'s subkey, made at `at`, that
    /// states `expires` (seconds after the subkey's creation) and carries the
    /// subkey's back-signature.
    fn binding(key: &SignedSecretKey, at: u32, expires: Option<u32>) -> Signature {
        binding_by(key, &key.primary_key, at, expires, true)
    }

    /// Like [`binding`], but made by `signer`'s key, and allowing signing
    /// only with `sign`.
    fn binding_by(key: &SignedSecretKey, signer: &SecretKey, at: u32, expires: Option<u32>, sign: bool) -> Signature {
        let primary = key.primary_key.public_key();
        let sub = &key.secret_subkeys[0].key;
        let back = sub.sign_primary_key_binding(rand::thread_rng(), primary, &Password::empty()).unwrap();
        let mut flags = KeyFlags::default();
        flags.set_sign(sign);
        flags.set_encrypt_comms(!sign);
        let mut config = SignatureConfig::v4(SignatureType::SubkeyBinding, signer.algorithm(), HashAlgorithm::Sha256);
        config.hashed_subpackets = subpackets(signer, at);
        config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
        if let Some(expires) = expires {
            config
                .hashed_subpackets
                .push(Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(expires))).unwrap());
        }
        config.hashed_subpackets.push(Subpacket::regular(SubpacketData::EmbeddedSignature(Box::new(back))).unwrap());
        config.sign_subkey_binding(signer, primary, &Password::empty(), sub.public_key()).unwrap()
    }

    /// A revocation of `key`'s subkey (or, with `primary`, of the primary
    /// key), made at `at` for `reason`.
    fn revocation(key: &SignedSecretKey, primary: bool, at: u32, reason: RevocationCode) -> Signature {
        let signer = &key.primary_key;
        let typ = if primary { SignatureType::KeyRevocation } else { SignatureType::SubkeyRevocation };
        let mut config = SignatureConfig::v4(typ, signer.algorithm(), HashAlgorithm::Sha256);
        config.hashed_subpackets = subpackets(signer, at);
        config
            .hashed_subpackets
            .push(Subpacket::regular(SubpacketData::RevocationReason(reason, Bytes::from_static(b"test"))).unwrap());
        if primary {
            config.sign_key(signer, &Password::empty(), signer.public_key()).unwrap()
        } else {
            let sub = key.secret_subkeys[0].key.public_key();
            config.sign_subkey_binding(signer, signer.public_key(), &Password::empty(), sub).unwrap()
        }
    }

    /// `TEXT` clearsigned by `key`'s subkey at `at`.
    fn signed_at(key: &SignedSecretKey, at: u32) -> String {
        clearsign_with(TEXT, |data| {
            vec![sign_at(&key.secret_subkeys[0].key, SignatureType::Text, HashAlgorithm::Sha256, at, data)]
        })
    }

    fn reason(keyring: &Keyring, inrelease: &str) -> String {
        let (_, reasons, _) = no_good(verify_inrelease(keyring, inrelease, "x"));
        reasons.join("; ")
    }

    #[test]
    fn unbound_subkey_is_rejected() {
        let owner = generate("owner", now());
        let victim = generate("victim", now());
        // The owner's certificate claims the victim's subkey, with the
        // victim's binding, which does not verify against the owner's key.
        let mut forged = owner.to_public_key();
        forged.public_subkeys = victim.to_public_key().public_subkeys;
        let keyring = keyring_of(&[&forged]);
        assert!(reason(&keyring, &clearsign(TEXT, &[&victim])).contains("is not bound to primary key"));

        // The same with a binding made by the owner, but without the
        // victim's back-signature.
        let mut flags = KeyFlags::default();
        flags.set_sign(true);
        let primary = &owner.primary_key;
        let mut config = SignatureConfig::v4(SignatureType::SubkeyBinding, primary.algorithm(), HashAlgorithm::Sha256);
        config.hashed_subpackets = subpackets(primary, now());
        config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
        let victim_sub = victim.secret_subkeys[0].key.public_key();
        forged.public_subkeys[0].signatures =
            vec![config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), victim_sub).unwrap()];
        let keyring = keyring_of(&[&forged]);
        assert!(reason(&keyring, &clearsign(TEXT, &[&victim])).contains("is not bound to primary key"));

        // With a binding and back-signature it is the owner's key.
        let mut bound = owner.to_public_key();
        bound.public_subkeys[0].signatures = vec![binding(&owner, now(), None)];
        let inrelease = clearsign(TEXT, &[&owner]);
        assert!(verify_inrelease(&keyring_of(&[&bound]), &inrelease, "x").is_ok());
        // But not when someone else made the binding: the back-signature
        // alone does not bind.
        bound.public_subkeys[0].signatures = vec![binding_by(&owner, &victim.primary_key, now(), None, true)];
        assert!(reason(&keyring_of(&[&bound]), &inrelease).contains("is not bound to primary key"));
        // Nor when the binding does not allow signing.
        bound.public_subkeys[0].signatures = vec![binding_by(&owner, &owner.primary_key, now(), None, false)];
        assert!(reason(&keyring_of(&[&bound]), &inrelease).ends_with("is not for signing"));
        // A newer binding for encryption only takes signing away.
        bound.public_subkeys[0].signatures =
            vec![binding(&owner, now() - 10, None), binding_by(&owner, &owner.primary_key, now() - 5, None, false)];
        assert!(reason(&keyring_of(&[&bound]), &inrelease).ends_with("is not for signing"));
    }

    /// `signature` with its hashed data changed by `change`, and so no
    /// longer valid.
    fn forged(signature: &Signature, change: impl Fn(&mut SignatureConfig)) -> Signature {
        let mut config = signature.config().unwrap().clone();
        change(&mut config);
        Signature::from_config(config, [0, 0], signature.signature().unwrap().clone()).unwrap()
    }

    #[test]
    fn self_signatures_are_checked() {
        let now = now();
        let key = generate("archive", now - 1000);
        let inrelease = signed_at(&key, now);
        let primary = &key.primary_key;

        // A direct-key signature newer than the user ID's self-signature
        // makes the key expire 100 s after its creation.
        let mut config = SignatureConfig::v4(SignatureType::Key, primary.algorithm(), HashAlgorithm::Sha256);
        config.hashed_subpackets = subpackets(primary, now + 1);
        config
            .hashed_subpackets
            .push(Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(100))).unwrap());
        let direct = config.sign_key(primary, &Password::empty(), primary.public_key()).unwrap();
        let mut public = key.to_public_key();
        public.details.direct_signatures.push(direct.clone());
        assert!(reason(&keyring_of(&[&public]), &inrelease).ends_with("had expired when the signature was made"));
        // Unless that signature is forged.
        public.details.direct_signatures = vec![forged(&direct, |c| {
            c.hashed_subpackets[2] =
                Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(101))).unwrap()
        })];
        assert!(verify_inrelease(&keyring_of(&[&public]), &inrelease, "x").is_ok());

        // A user ID whose self-signature is forged leaves the key without
        // one.
        let mut public = key.to_public_key();
        let user = &mut public.details.users[0];
        user.signatures = user
            .signatures
            .iter()
            .map(|s| {
                forged(s, |c| {
                    c.hashed_subpackets
                        .push(Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(1))).unwrap())
                })
            })
            .collect();
        assert!(reason(&keyring_of(&[&public]), &inrelease).ends_with("has no valid self-signature"));
    }

    #[test]
    fn primary_key_that_only_certifies() {
        let key = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(false)
            .primary_user_id("certifies only".into())
            .build()
            .unwrap()
            .generate(rand::thread_rng())
            .unwrap();
        let keyring = keyring_of(&[&key.to_public_key()]);
        let inrelease = clearsign_with(TEXT, |data| {
            vec![sign_at(&key.primary_key, SignatureType::Text, HashAlgorithm::Sha256, now(), data)]
        });
        assert!(reason(&keyring, &inrelease).ends_with("is not for signing"));
    }

    #[test]
    fn expired_subkey() {
        let now = now();
        let created = now - 1000;
        let key = generate("archive", created);
        let mut public = key.to_public_key();
        // Expires 100 s after creation; a newer binding decides.
        public.public_subkeys[0].signatures = vec![binding(&key, created, None), binding(&key, created + 1, Some(100))];
        let keyring = keyring_of(&[&public]);
        assert!(verify_inrelease(&keyring, &signed_at(&key, created + 50), "x").is_ok());
        assert!(reason(&keyring, &signed_at(&key, created + 100)).contains("had expired when the signature was made"));
        assert!(reason(&keyring, &signed_at(&key, now)).contains("had expired"));
        assert!(reason(&keyring, &signed_at(&key, created - 1)).contains("was created after the signature"));
    }

    #[test]
    fn revoked_keys() {
        let now = now();
        let created = now - 1000;
        let key = generate("archive", created);
        let early = signed_at(&key, created + 10);
        let late = signed_at(&key, created + 500);

        // A compromised subkey is refused for every signature.
        let mut public = key.to_public_key();
        public.public_subkeys[0].signatures.push(revocation(
            &key,
            false,
            created + 100,
            RevocationCode::KeyCompromised,
        ));
        let keyring = keyring_of(&[&public]);
        assert!(reason(&keyring, &early).contains("is revoked"));
        assert!(reason(&keyring, &late).contains("is revoked"));

        // A retired one only for signatures made after it was retired.
        let mut public = key.to_public_key();
        public.public_subkeys[0].signatures.push(revocation(&key, false, created + 100, RevocationCode::KeyRetired));
        let keyring = keyring_of(&[&public]);
        assert!(verify_inrelease(&keyring, &early, "x").is_ok());
        assert!(reason(&keyring, &late).contains("is revoked"));

        // A revoked primary key takes its subkeys with it.
        let mut public = key.to_public_key();
        public.details.revocation_signatures.push(revocation(&key, true, created + 100, RevocationCode::NoReason));
        let keyring = keyring_of(&[&public]);
        assert!(reason(&keyring, &early)
            .contains(&format!("primary key {} is revoked", hex_fingerprint(&key.primary_key.fingerprint()))));

        // A revocation in a second keyring file counts too.
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("plain.gpg");
        let revoked = dir.path().join("revoked.gpg");
        std::fs::write(&plain, public_bytes(&[&key])).unwrap();
        let mut out = Vec::new();
        public.to_writer(&mut out).unwrap();
        std::fs::write(&revoked, out).unwrap();
        let keyring = Keyring::load(std::slice::from_ref(&plain)).unwrap();
        assert!(verify_inrelease(&keyring, &early, "x").is_ok());
        let keyring = Keyring::load(&[plain, revoked]).unwrap();
        assert_eq!(keyring.fingerprints().len(), 1);
        assert!(reason(&keyring, &early).contains("is revoked"));
    }

    #[test]
    fn keyring_files() {
        let a = generate("a", now());
        let b = generate("b", now());
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("a.gpg");
        std::fs::write(&binary, public_bytes(&[&a])).unwrap();
        let armored = dir.path().join("b.asc");
        std::fs::write(&armored, b.to_public_key().to_armored_bytes(ArmorOptions::default()).unwrap()).unwrap();
        let keyring = Keyring::load(&[binary.clone(), armored.clone()]).unwrap();
        let hex = |k: &SignedSecretKey| hex_fingerprint(&k.primary_key.fingerprint());
        assert_eq!(keyring.fingerprints(), [hex(&a), hex(&b)]);
        assert!(verify_inrelease(&keyring, &clearsign(TEXT, &[&b]), "x").is_ok());

        let missing = dir.path().join("missing.gpg");
        let err = Keyring::load(&[binary.clone(), missing.clone()]).unwrap_err();
        assert_eq!(err.to_string(), format!("cannot read keyring {}", missing.display()));
        assert!(err.hint().unwrap().contains("--keyring"));

        let empty = dir.path().join("empty.gpg");
        std::fs::write(&empty, b"").unwrap();
        let err = Keyring::load(&[binary.clone(), empty.clone()]).unwrap_err();
        assert_eq!(err.to_string(), format!("{}: keyring holds no public key", empty.display()));
        assert!(matches!(Keyring::load(&[]), Err(VerifyError::NoKeyring)));

        let garbage = Keyring::from_bytes(b"\x99\x00\x03abc", "garbage.gpg").unwrap_err();
        assert!(garbage.to_string().starts_with("garbage.gpg: "), "{garbage}");
        let text = Keyring::from_bytes(RESIGNED.as_bytes(), "InRelease").unwrap_err();
        assert!(matches!(text, VerifyError::BadKeyring { .. } | VerifyError::EmptyKeyring { .. }), "{text:?}");
        assert!(Keyring::load(&[PathBuf::from(FIXTURES).join("test-keyring.gpg")]).is_ok());
    }

    #[test]
    fn default_paths_are_archive_keyrings() {
        let paths = Keyring::default_paths();
        assert!(!paths.is_empty());
        for path in &paths {
            let name = path.file_name().unwrap().to_str().unwrap();
            assert!(name.ends_with("-archive-keyring.gpg") && !name.contains("removed"), "{name}");
        }
    }
}
