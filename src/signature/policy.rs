//! Whether a signature counts: a document signature with a digest
//! stronger than SHA-1, not past its own expiration time, good over the
//! data, by a key of the keyring that apt's algorithm policy accepts and
//! that could sign at the signature's creation time (bound, not revoked,
//! not expired), as the [module documentation](super) sets out.

use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{SignedPublicKey, SignedPublicSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{RevocationCode, Signature, SignatureType, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{Fingerprint, KeyDetails, PublicParams, Tag};

use super::keyring::{hex_fingerprint, hex_key_id};
use super::{Keyring, VerifyError};

/// The smallest RSA modulus apt (sqv with Debian's policy) accepts.
const MIN_RSA_BITS: u16 = 2048;

/// Why one signature is not accepted.
struct Refusal {
    reason: String,
    /// Whether the algorithm policy refused it (a weak key or digest),
    /// rather than the signature being bad or the key unusable.
    policy: bool,
}

impl From<String> for Refusal {
    fn from(reason: String) -> Refusal {
        Refusal { reason, policy: false }
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Refusal {
        Refusal { reason: reason.into(), policy: false }
    }
}

/// A refusal by the algorithm policy.
fn refused(reason: String) -> Refusal {
    Refusal { reason, policy: true }
}

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
    // A signature's own expiration time is judged against the clock, as
    // apt does; everything about its key at the signature's creation time.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut signers = Vec::new();
    let mut issuers = Vec::new();
    let mut reasons = Vec::new();
    let mut policy = false;
    // Each signature costs a few RSA verifications (the signature, the
    // key's self-signature and binding): on all cores when there are
    // several, as an archive's usually are (issue 12). The results stay in
    // the file's order.
    let checked: Vec<Result<String, Refusal>> = if signatures.len() > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                signatures.iter().map(|s| scope.spawn(move || check_signature(keyring, s, data, now))).collect();
            handles.into_iter().map(|h| h.join().expect("checking a signature does not panic")).collect()
        })
    } else {
        signatures.iter().map(|s| check_signature(keyring, s, data, now)).collect()
    };
    for (signature, checked) in signatures.iter().zip(checked) {
        match checked {
            Ok(signer) => {
                if !signers.contains(&signer) {
                    signers.push(signer);
                }
            }
            Err(refusal) => {
                issuers.push(issuer(signature));
                reasons.push(refusal.reason);
                policy |= refusal.policy;
            }
        }
    }
    if signers.is_empty() {
        return Err(VerifyError::NoGoodSignature { file: label.into(), issuers, reasons, policy });
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

/// Whether a digest is too weak for a signature or a key binding: MD5,
/// SHA-1 and RIPEMD-160 are refused, as by apt.
fn weak_digest(signature: &Signature) -> Option<HashAlgorithm> {
    match signature.hash_alg() {
        Some(weak @ (HashAlgorithm::Md5 | HashAlgorithm::Sha1 | HashAlgorithm::Ripemd160)) => Some(weak),
        _ => None,
    }
}

/// Checks one signature over `data`; returns the signer's fingerprint, or
/// why the signature is not accepted. `now` is the clock, in seconds since
/// the epoch.
fn check_signature(keyring: &Keyring, signature: &Signature, data: &[u8], now: u64) -> Result<String, Refusal> {
    match signature.typ() {
        Some(SignatureType::Binary | SignatureType::Text) => {}
        other => return Err(format!("not a document signature (type {other:?})").into()),
    }
    if signature.hash_alg().is_none() {
        return Err("unsupported signature version".into());
    }
    if let Some(weak) = weak_digest(signature) {
        return Err(refused(format!("weak digest {weak}")));
    }
    let created = signature.created().ok_or("signature has no creation time")?.as_secs();
    let lifetime = signature.signature_expiration_time().map_or(0, |d| d.as_secs());
    if lifetime != 0 && u64::from(created) + u64::from(lifetime) <= now {
        let expired = u64::from(created) + u64::from(lifetime);
        return Err(format!("signature expired at {}", utc(expired)).into());
    }

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
    let mut refusal = Refusal::from("");
    for candidate in &candidates {
        // The primary key makes the bindings, so it must be strong too.
        let strong = match candidate.subkey {
            Some(subkey) => strong_key(&candidate.key.primary_key, "primary key")
                .and_then(|()| strong_key(&subkey.key, "subkey")),
            None => strong_key(&candidate.key.primary_key, "primary key"),
        };
        if let Err(why) = strong {
            refusal = why;
            continue;
        }
        let verified = match candidate.subkey {
            Some(subkey) => signature.verify(&subkey.key, data),
            None => signature.verify(&candidate.key.primary_key, data),
        };
        if verified.is_err() {
            refusal = "bad signature: the signed text was changed or the signature is corrupt".into();
            continue;
        }
        match usable(candidate, created) {
            Ok(()) => return Ok(hex_fingerprint(&candidate.fingerprint())),
            Err(why) => refusal = why,
        }
    }
    Err(refusal)
}

/// Checks a key's algorithm against apt's policy: RSA of at least 2048
/// bits, no DSA. `role` ("primary key" or "subkey") names it.
fn strong_key(key: &impl KeyDetails, role: &str) -> Result<(), Refusal> {
    let hex = || hex_fingerprint(&key.fingerprint());
    match key.public_params() {
        PublicParams::RSA(params) => {
            // The modulus is the first MPI, whose two-byte header is its
            // length in bits.
            let mut mpis = Vec::new();
            let bits = match params.to_writer(&mut mpis) {
                Ok(()) if mpis.len() >= 2 => u16::from_be_bytes([mpis[0], mpis[1]]),
                _ => 0,
            };
            if bits < MIN_RSA_BITS {
                return Err(refused(format!(
                    "{role} {} is RSA-{bits}: RSA keys need at least {MIN_RSA_BITS} bits",
                    hex()
                )));
            }
            Ok(())
        }
        PublicParams::DSA(_) => Err(refused(format!("{role} {} is DSA: DSA keys are refused", hex()))),
        _ => Ok(()),
    }
}

/// Checks that `candidate` could make a signature at time `at` (seconds
/// since the epoch): bound, not revoked, not expired, each judged by the
/// self- and binding signatures in force at `at`.
fn usable(candidate: &Candidate<'_>, at: u32) -> Result<(), Refusal> {
    let key = candidate.key;
    let primary = &key.primary_key;
    let primary_hex = hex_fingerprint(&primary.fingerprint());

    for revocation in &key.details.revocation_signatures {
        if revocation.typ() == Some(SignatureType::KeyRevocation)
            && revokes_at(revocation, at)
            && revocation.verify_key(primary).is_ok()
        {
            return Err(format!("primary key {primary_hex} is revoked").into());
        }
    }
    created_by(primary.created_at().as_secs(), at, &primary_hex)?;
    let self_signature = self_signature(key, at, &primary_hex)?;
    check_lifetime(primary.created_at().as_secs(), self_signature, at, &primary_hex)?;

    let Some(subkey) = candidate.subkey else {
        if has_key_flags(self_signature) && !self_signature.key_flags().sign() {
            return Err(format!("primary key {primary_hex} is not for signing").into());
        }
        return Ok(());
    };
    let sub = &subkey.key;
    let sub_hex = hex_fingerprint(&sub.fingerprint());
    created_by(sub.created_at().as_secs(), at, &sub_hex)?;
    for revocation in &subkey.signatures {
        if revocation.typ() == Some(SignatureType::SubkeyRevocation)
            && revokes_at(revocation, at)
            && revocation.verify_subkey_binding(primary, sub).is_ok()
        {
            return Err(format!("subkey {sub_hex} is revoked").into());
        }
    }
    // The newest binding in force decides; one for signing must carry the
    // subkey's back-signature, itself with a strong digest.
    let bindings: Vec<_> =
        subkey.signatures.iter().filter(|s| s.typ() == Some(SignatureType::SubkeyBinding)).map(|s| (s, ())).collect();
    let valid = |(s, ()): (&Signature, ())| {
        s.verify_subkey_binding(primary, sub).is_ok()
            && (!s.key_flags().sign()
                || s.embedded_signature().is_some_and(|back| {
                    weak_digest(back).is_none() && back.verify_primary_key_binding(sub, primary).is_ok()
                }))
    };
    let (binding, ()) = in_force(&bindings, at, valid).map_err(|missing| match missing {
        Missing::OnlyWeak => refused(format!(
            "subkey {sub_hex} is bound only by SHA-1 (or weaker) signatures: SHA-1 is refused in key bindings"
        )),
        Missing::NotYet => {
            format!("subkey {sub_hex} has no binding signature in force when the signature was made").into()
        }
        Missing::None => format!("subkey {sub_hex} is not bound to primary key {primary_hex}").into(),
    })?;
    if !binding.key_flags().sign() {
        return Err(format!("subkey {sub_hex} is not for signing").into());
    }
    // The back-signature is part of the binding, and judged as of `at` too.
    if !binding.embedded_signature().is_some_and(|back| alive_at(back, at)) {
        return Err(format!("subkey {sub_hex} has no back-signature in force when the signature was made").into());
    }
    check_lifetime(sub.created_at().as_secs(), binding, at, &sub_hex)
}

/// The primary key's self-signature in force at `at`: the newest valid
/// direct-key signature or certification of one of its user IDs made by
/// then and not expired by then.
fn self_signature<'k>(key: &'k SignedPublicKey, at: u32, primary_hex: &str) -> Result<&'k Signature, Refusal> {
    let primary = &key.primary_key;
    let direct =
        key.details.direct_signatures.iter().filter(|s| s.typ() == Some(SignatureType::Key)).map(|s| (s, None));
    let certifications = key.details.users.iter().flat_map(|user| {
        user.signatures
            .iter()
            .filter(|s| s.is_certification() && s.typ() != Some(SignatureType::CertRevocation))
            .map(move |s| (s, Some(&user.id)))
    });
    let signatures: Vec<_> = direct.chain(certifications).filter(|(s, _)| names(s, primary)).collect();
    let valid = |(s, user): (&Signature, Option<_>)| match user {
        None => s.verify_key(primary).is_ok(),
        Some(id) => s.verify_certification(primary, Tag::UserId, id).is_ok(),
    };
    in_force(&signatures, at, valid).map(|(s, _)| s).map_err(|missing| match missing {
        Missing::OnlyWeak => refused(format!(
            "primary key {primary_hex} has only SHA-1 (or weaker) self-signatures: SHA-1 is refused in key bindings"
        )),
        Missing::NotYet => {
            format!("primary key {primary_hex} has no self-signature in force when the signature was made").into()
        }
        Missing::None => format!("primary key {primary_hex} has no valid self-signature").into(),
    })
}

/// Why [`in_force`] found no signature.
enum Missing {
    /// Valid ones exist and were in force, but all with a weak digest.
    OnlyWeak,
    /// Valid ones exist, but none was in force at the time: all are newer,
    /// or had expired.
    NotYet,
    /// No valid one.
    None,
}

/// The newest of `signatures` (by creation time) that was in force at `at`
/// (made by then, not expired by then), has a strong digest and passes
/// `valid`. Checking newest first saves work: Debian's keys carry several
/// self-signatures, and each check is an RSA-4096 verification.
fn in_force<'s, T: Copy>(
    signatures: &[(&'s Signature, T)],
    at: u32,
    valid: impl Fn((&'s Signature, T)) -> bool,
) -> Result<(&'s Signature, T), Missing> {
    let mut sorted = signatures.to_vec();
    sorted.sort_by_key(|(s, _)| std::cmp::Reverse(s.created().map_or(0, |t| t.as_secs())));
    let alive = |s: &Signature| alive_at(s, at);
    if let Some(found) = sorted.iter().copied().find(|&(s, t)| alive(s) && weak_digest(s).is_none() && valid((s, t))) {
        return Ok(found);
    }
    // Only to explain the refusal.
    if sorted.iter().copied().any(|(s, t)| alive(s) && valid((s, t))) {
        Err(Missing::OnlyWeak)
    } else if sorted.iter().copied().any(|(s, t)| weak_digest(s).is_none() && valid((s, t))) {
        Err(Missing::NotYet)
    } else {
        Err(Missing::None)
    }
}

/// Whether a self- or binding signature was in force at `at`: made by then
/// and, if it has an expiration time, not expired by then.
fn alive_at(signature: &Signature, at: u32) -> bool {
    let Some(created) = signature.created().map(|t| t.as_secs()) else { return false };
    let lifetime = signature.signature_expiration_time().map_or(0, |d| d.as_secs());
    created <= at && (lifetime == 0 || u64::from(created) + u64::from(lifetime) > u64::from(at))
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

/// Checks that a key created at `created` existed at `at`.
fn created_by(created: u32, at: u32, hex: &str) -> Result<(), Refusal> {
    if created > at {
        return Err(format!("key {hex} was created after the signature").into());
    }
    Ok(())
}

/// Checks that a key created at `created`, whose expiry `self_signature`
/// states, had not expired at `at`.
fn check_lifetime(created: u32, self_signature: &Signature, at: u32, hex: &str) -> Result<(), Refusal> {
    let lifetime = self_signature.key_expiration_time().map_or(0, |d| d.as_secs());
    if lifetime != 0 && u64::from(created) + u64::from(lifetime) <= u64::from(at) {
        return Err(format!("key {hex} had expired when the signature was made").into());
    }
    Ok(())
}

fn has_key_flags(signature: &Signature) -> bool {
    signature.config().is_some_and(|c| c.hashed_subpackets().any(|p| matches!(p.data, SubpacketData::KeyFlags(_))))
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = crate::release::civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
}

#[cfg(test)]
mod tests {
    use pgp::bytes::Bytes;
    use pgp::composed::{DsaKeySize, KeyType, SecretKeyParamsBuilder, SignedSecretKey};
    use pgp::packet::{KeyFlags, SecretKey, SignatureConfig, Subpacket};
    use pgp::ser::Serialize;
    use pgp::types::{Duration, Password, Timestamp};

    use crate::signature::tests::{
        back_signature, clearsign, clearsign_with, generate, keyring_of, no_good, now, public_bytes, sign_at,
        subkey_hex, subpackets, with_primary, TEXT,
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
        let back = back_signature(sub, primary, at);
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
        // Bindings are made before the signature, so that they are in force.
        let t = now();
        let owner = generate("owner", t - 100);
        let victim = generate("victim", t - 100);
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
        config.hashed_subpackets = subpackets(primary, t - 20);
        config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
        let victim_sub = victim.secret_subkeys[0].key.public_key();
        forged.public_subkeys[0].signatures =
            vec![config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), victim_sub).unwrap()];
        let keyring = keyring_of(&[&forged]);
        assert!(reason(&keyring, &clearsign(TEXT, &[&victim])).contains("is not bound to primary key"));

        // With a binding and back-signature it is the owner's key.
        let mut bound = owner.to_public_key();
        bound.public_subkeys[0].signatures = vec![binding(&owner, t - 20, None)];
        let inrelease = clearsign(TEXT, &[&owner]);
        assert!(verify_inrelease(&keyring_of(&[&bound]), &inrelease, "x").is_ok());
        // But not when someone else made the binding: the back-signature
        // alone does not bind.
        bound.public_subkeys[0].signatures = vec![binding_by(&owner, &victim.primary_key, t - 20, None, true)];
        assert!(reason(&keyring_of(&[&bound]), &inrelease).contains("is not bound to primary key"));
        // Nor when the binding does not allow signing.
        bound.public_subkeys[0].signatures = vec![binding_by(&owner, &owner.primary_key, t - 20, None, false)];
        assert!(reason(&keyring_of(&[&bound]), &inrelease).ends_with("is not for signing"));
        // A newer binding for encryption only takes signing away.
        bound.public_subkeys[0].signatures =
            vec![binding(&owner, t - 10, None), binding_by(&owner, &owner.primary_key, t - 5, None, false)];
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
        let direct_at = |at: u32| {
            let mut config = SignatureConfig::v4(SignatureType::Key, primary.algorithm(), HashAlgorithm::Sha256);
            config.hashed_subpackets = subpackets(primary, at);
            config
                .hashed_subpackets
                .push(Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(100))).unwrap());
            config.sign_key(primary, &Password::empty(), primary.public_key()).unwrap()
        };
        let direct = direct_at(now - 1);
        let mut public = key.to_public_key();
        public.details.direct_signatures.push(direct.clone());
        assert!(reason(&keyring_of(&[&public]), &inrelease).ends_with("had expired when the signature was made"));
        // But not for a signature made before it: each is judged by the
        // self-signature in force when it was made.
        assert!(verify_inrelease(&keyring_of(&[&public]), &signed_at(&key, now - 2), "x").is_ok());
        let mut later = key.to_public_key();
        later.details.direct_signatures.push(direct_at(now + 1));
        assert!(verify_inrelease(&keyring_of(&[&later]), &inrelease, "x").is_ok());
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

    /// `key` (as [`generate`] makes it) with its self- and binding
    /// signatures made with `hash` instead.
    fn bound_with(key: &SignedSecretKey, self_hash: HashAlgorithm, binding_hash: HashAlgorithm) -> SignedPublicKey {
        let primary = &key.primary_key;
        let mut public = key.to_public_key();
        let user = &mut public.details.users[0];
        let mut config = user.signatures[0].config().unwrap().clone();
        config.hash_alg = self_hash;
        let certification =
            config.sign_certification(primary, primary.public_key(), &Password::empty(), Tag::UserId, &user.id);
        user.signatures = vec![certification.unwrap()];
        let mut config = public.public_subkeys[0].signatures[0].config().unwrap().clone();
        config.hash_alg = binding_hash;
        let sub = key.secret_subkeys[0].key.public_key();
        public.public_subkeys[0].signatures =
            vec![config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), sub).unwrap()];
        public
    }

    #[test]
    fn sha1_in_key_bindings_is_refused() {
        // Ed25519 keys cannot make SHA-1 signatures.
        let key = with_primary(generate("archive", now() - 10), KeyType::Rsa(2048), now() - 10);
        let inrelease = clearsign(TEXT, &[&key]);
        let primary_hex = hex_fingerprint(&key.primary_key.fingerprint());
        let sub_hex = subkey_hex(&key);
        let strong = bound_with(&key, HashAlgorithm::Sha512, HashAlgorithm::Sha256);
        assert!(verify_inrelease(&keyring_of(&[&strong]), &inrelease, "x").is_ok());

        let weak_binding = bound_with(&key, HashAlgorithm::Sha256, HashAlgorithm::Sha1);
        let err = verify_inrelease(&keyring_of(&[&weak_binding]), &inrelease, "x").unwrap_err();
        assert!(err.hint().unwrap().starts_with("apt refuses these too"), "{err}");
        let (_, reasons, _) = no_good(Err(err));
        let refusal = "is bound only by SHA-1 (or weaker) signatures: SHA-1 is refused in key bindings";
        assert_eq!(reasons, [format!("subkey {sub_hex} {refusal}")]);

        let weak_self = bound_with(&key, HashAlgorithm::Sha1, HashAlgorithm::Sha256);
        assert_eq!(
            reason(&keyring_of(&[&weak_self]), &inrelease),
            format!(
                "primary key {primary_hex} has only SHA-1 (or weaker) self-signatures: SHA-1 is refused in key bindings"
            )
        );
        // A SHA-1 self-signature next to a strong one is skipped.
        let mut both = weak_self.clone();
        both.details.users[0].signatures.extend(strong.details.users[0].signatures.clone());
        assert!(verify_inrelease(&keyring_of(&[&both]), &inrelease, "x").is_ok());
    }

    #[test]
    fn weak_keys_are_refused() {
        let at = now() - 10;
        let by_primary = |key: &SignedSecretKey| {
            clearsign_with(TEXT, |data| {
                vec![sign_at(&key.primary_key, SignatureType::Text, HashAlgorithm::Sha256, now(), data)]
            })
        };
        let cases = [
            (KeyType::Rsa(1024), "is RSA-1024: RSA keys need at least 2048 bits"),
            (KeyType::Dsa(DsaKeySize::B1024), "is DSA: DSA keys are refused"),
        ];
        for (typ, message) in cases {
            let weak = with_primary(generate("weak", at), typ, at);
            let hex = hex_fingerprint(&weak.primary_key.fingerprint());
            let keyring = keyring_of(&[&weak.to_public_key()]);
            // By the primary key itself, or by a subkey it binds.
            for inrelease in [by_primary(&weak), clearsign(TEXT, &[&weak])] {
                let err = verify_inrelease(&keyring, &inrelease, "x").unwrap_err();
                assert!(err.hint().unwrap().contains("at least 2048 bits"), "{err}");
                let (_, reasons, _) = no_good(Err(err));
                assert_eq!(reasons, [format!("primary key {hex} {message}")]);
            }
        }
        let strong = with_primary(generate("strong", at), KeyType::Rsa(2048), at);
        let keyring = keyring_of(&[&strong.to_public_key()]);
        assert!(verify_inrelease(&keyring, &by_primary(&strong), "x").is_ok());
        assert!(verify_inrelease(&keyring, &clearsign(TEXT, &[&strong]), "x").is_ok());
    }

    #[test]
    fn signature_expiration_time() {
        let key = generate("archive", now() - 1000);
        let keyring = keyring_of(&[&key.to_public_key()]);
        let signed = |made: u32, lifetime: u32| {
            clearsign_with(TEXT, |data| {
                let sub = &key.secret_subkeys[0].key;
                let mut config = SignatureConfig::v4(SignatureType::Text, sub.algorithm(), HashAlgorithm::Sha256);
                config.hashed_subpackets = subpackets(sub, made);
                config.hashed_subpackets.push(
                    Subpacket::regular(SubpacketData::SignatureExpirationTime(Duration::from_secs(lifetime))).unwrap(),
                );
                vec![config.sign(sub, &Password::empty(), data).unwrap()]
            })
        };
        // Judged against the clock, unlike the key's expiry.
        assert!(verify_inrelease(&keyring, &signed(now() - 500, 10_000), "x").is_ok());
        assert!(verify_inrelease(&keyring, &signed(now() - 500, 0), "x").is_ok());
        let expired = reason(&keyring, &signed(86_400 * 365 * 40, 1));
        assert!(expired.starts_with("signature expired at 2009-12-"), "{expired}");
        assert!(reason(&keyring, &signed(now() - 500, 100)).starts_with("signature expired at "));
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400 + 3661), "2000-02-29 01:01:01 UTC");

        // A self-signature that had expired by the time of the signature is
        // not in force.
        let primary = &key.primary_key;
        let mut public = key.to_public_key();
        let user = &mut public.details.users[0];
        let mut config = user.signatures[0].config().unwrap().clone();
        config
            .hashed_subpackets
            .push(Subpacket::regular(SubpacketData::SignatureExpirationTime(Duration::from_secs(100))).unwrap());
        let certification =
            config.sign_certification(primary, primary.public_key(), &Password::empty(), Tag::UserId, &user.id);
        user.signatures = vec![certification.unwrap()];
        let keyring = keyring_of(&[&public]);
        assert!(verify_inrelease(&keyring, &signed(now() - 950, 0), "x").is_ok());
        let refusal = reason(&keyring, &signed(now() - 500, 0));
        assert!(refusal.ends_with("has no self-signature in force when the signature was made"), "{refusal}");
    }

    #[test]
    fn back_signature_is_judged_as_of_the_signature() {
        let t = now();
        let key = generate("archive", t - 1000);
        let primary = &key.primary_key;
        let sub = &key.secret_subkeys[0].key;
        let bound_with_back_at = |back_at: u32| {
            let mut flags = KeyFlags::default();
            flags.set_sign(true);
            let mut config =
                SignatureConfig::v4(SignatureType::SubkeyBinding, primary.algorithm(), HashAlgorithm::Sha256);
            config.hashed_subpackets = subpackets(primary, t - 1000);
            config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
            let back = back_signature(sub, primary.public_key(), back_at);
            let embedded = SubpacketData::EmbeddedSignature(Box::new(back));
            config.hashed_subpackets.push(Subpacket::regular(embedded).unwrap());
            let binding =
                config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), sub.public_key());
            let mut public = key.to_public_key();
            public.public_subkeys[0].signatures = vec![binding.unwrap()];
            keyring_of(&[&public])
        };
        let inrelease = signed_at(&key, t - 500);
        assert!(verify_inrelease(&bound_with_back_at(t - 1000), &inrelease, "x").is_ok());
        assert_eq!(
            reason(&bound_with_back_at(t - 10), &inrelease),
            format!("subkey {} has no back-signature in force when the signature was made", subkey_hex(&key))
        );
    }
}
