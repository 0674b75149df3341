//! Keyring files: binary or ASCII-armored OpenPGP public keys, copies of a
//! key from several files merged into one.

use std::fmt;
use std::path::PathBuf;

use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::types::{Fingerprint, KeyDetails, KeyId};

use super::VerifyError;

/// Public keys to verify signatures with, read from keyring files.
#[derive(Clone)]
pub struct Keyring {
    /// One entry per primary key; copies of a key from several files are
    /// merged, so that a revocation in any of them counts.
    pub(super) keys: Vec<SignedPublicKey>,
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

    /// The primary key's fingerprint of the key whose primary key or
    /// subkey has `fingerprint` (upper-case hex).
    pub fn primary_of(&self, fingerprint: &str) -> Option<String> {
        let hex = |f: &Fingerprint| hex_fingerprint(f);
        self.keys
            .iter()
            .find(|k| hex(&k.primary_key.fingerprint()) == fingerprint || k.public_subkeys.iter().any(|s| hex(&s.key.fingerprint()) == fingerprint))
            .map(|k| hex(&k.primary_key.fingerprint()))
    }

    /// The keys whose primary key or a subkey has a fingerprint (upper-case
    /// hex) that `wanted` accepts; the whole key is kept, so that its
    /// revocations and bindings still count.
    pub fn select(self, wanted: impl Fn(&str) -> bool) -> Keyring {
        let keep = |k: &SignedPublicKey| {
            wanted(&hex_fingerprint(&k.primary_key.fingerprint()))
                || k.public_subkeys.iter().any(|s| wanted(&hex_fingerprint(&s.key.fingerprint())))
        };
        Keyring { keys: self.keys.into_iter().filter(keep).collect() }
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

/// A fingerprint as upper-case hex, as gpg prints it.
pub(super) fn hex_fingerprint(fingerprint: &Fingerprint) -> String {
    format!("{fingerprint:X}")
}

/// A 16-digit key ID as upper-case hex.
pub(super) fn hex_key_id(key_id: &KeyId) -> String {
    key_id.to_string().to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use pgp::composed::{ArmorOptions, SignedSecretKey};

    use crate::signature::tests::{clearsign, generate, keyring_of, now, public_bytes, subkey_hex, FIXTURES, RESIGNED, TEXT};
    use crate::signature::verify_inrelease;
    use super::*;

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
    fn primary_of_and_select_see_subkeys() {
        let (a, b) = (generate("a", now()), generate("b", now()));
        let keyring = keyring_of(&[&a.to_public_key(), &b.to_public_key()]);
        let a_primary = hex_fingerprint(&a.primary_key.fingerprint());
        assert_eq!(keyring.primary_of(&subkey_hex(&a)), Some(a_primary.clone()));
        assert_eq!(keyring.primary_of(&a_primary), Some(a_primary.clone()));
        assert_eq!(keyring.primary_of(&"0".repeat(40)), None);
        let by_subkey = keyring.clone().select(|f| f == subkey_hex(&b));
        assert_eq!(by_subkey.fingerprints(), vec![hex_fingerprint(&b.primary_key.fingerprint())]);
        assert_eq!(keyring.select(|f| f == a_primary).fingerprints(), vec![a_primary]);
    }
}
