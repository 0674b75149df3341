//! Whether a signature counts: a document signature with a digest
//! stronger than SHA-1, good over the data, by a key of the keyring that
//! could sign at the signature's creation time (bound, not revoked, not
//! expired), as the [module documentation](super) sets out.

use pgp::composed::{SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{RevocationCode, Signature, SignatureType, SubpacketData};
use pgp::types::{Fingerprint, KeyDetails, Tag};

use super::keyring::{hex_fingerprint, hex_key_id};
use super::{Keyring, VerifyError};

/// Checks `signatures` over `data`; returns the signers of the good ones.
pub(super) fn check_signatures(
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
    use pgp::bytes::Bytes;
    use pgp::composed::{KeyType, SecretKeyParamsBuilder, SignedSecretKey};
    use pgp::packet::{KeyFlags, SecretKey, SignatureConfig, Subpacket};
    use pgp::ser::Serialize;
    use pgp::types::{Duration, Password, Timestamp};

    use crate::signature::tests::{
        clearsign, clearsign_with, generate, keyring_of, no_good, now, public_bytes, sign_at, subkey_hex, subpackets, TEXT,
    };
    use crate::signature::{verify_inrelease, Verified};
    use super::*;

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
}
