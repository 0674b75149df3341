//! OpenPGP keys and signatures with chosen algorithms, digests and times,
//! made at test time with rPGP: for checking the signature policy against
//! another verifier (`sqv`). [`super::repo::Key`] is the plain archive key.
//!
//! rPGP dates the self-signatures of a key it generates now and refuses to
//! generate RSA keys under 2048 bits; these helpers build the key packets
//! themselves and make every self- and binding signature at a chosen time.

use std::time::{SystemTime, UNIX_EPOCH};

use pgp::bytes::Bytes;
use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, EncryptionCaps, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{
    KeyFlags, PacketTrait, PubKeyInner, PublicKey, RevocationCode, SecretKey, Signature, SignatureConfig, SignatureType,
    Subpacket, SubpacketData,
};
use pgp::ser::Serialize;
use pgp::types::{Duration, KeyDetails, KeyVersion, Password, SigningKey, Tag, Timestamp};

/// Seconds since the epoch.
pub fn now() -> u32 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as u32
}

/// A primary key of `primary` (which certifies and signs) with an Ed25519
/// signing subkey, both created at `created`, with a user ID
/// self-signature and a subkey binding made at `created` with SHA-256.
pub fn generate(name: &str, primary: KeyType, created: u32) -> SignedSecretKey {
    let created_at = Timestamp::from_secs(created);
    let mut key = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .can_encrypt(EncryptionCaps::None)
        .created_at(created_at)
        .primary_user_id(format!("{name} <{name}@example.invalid>"))
        .subkeys(vec![SubkeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_sign(true)
            .created_at(created_at)
            .build()
            .unwrap()])
        .build()
        .unwrap()
        .generate(rand::thread_rng())
        .unwrap();
    if primary != KeyType::Ed25519Legacy {
        let (public_params, secret_params) = primary.generate(rand::thread_rng()).unwrap();
        let inner = PubKeyInner::new(KeyVersion::V4, primary.to_alg(), created_at, None, public_params).unwrap();
        key.primary_key = SecretKey::new(PublicKey::from_inner(inner).unwrap(), secret_params).unwrap();
    }
    key.details.users[0].signatures = vec![certification(&key, created, HashAlgorithm::Sha256, None)];
    key.secret_subkeys[0].signatures = vec![binding(&key, created, HashAlgorithm::Sha256, None)];
    key
}

/// The subpackets of every signature here: creation time and issuer.
fn subpackets(signer: &impl KeyDetails, at: u32) -> Vec<Subpacket> {
    vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(at))).unwrap(),
        Subpacket::regular(SubpacketData::IssuerFingerprint(signer.fingerprint())).unwrap(),
    ]
}

fn key_expiration(seconds: u32) -> Subpacket {
    Subpacket::regular(SubpacketData::KeyExpirationTime(Duration::from_secs(seconds))).unwrap()
}

/// A self-signature of `key`'s user ID made at `at` with `hash`; the key
/// expires `expires` seconds after its creation.
pub fn certification(key: &SignedSecretKey, at: u32, hash: HashAlgorithm, expires: Option<u32>) -> Signature {
    let primary = &key.primary_key;
    let mut flags = KeyFlags::default();
    flags.set_certify(true);
    flags.set_sign(true);
    let mut config = SignatureConfig::v4(SignatureType::CertPositive, primary.algorithm(), hash);
    config.hashed_subpackets = subpackets(primary, at);
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
    config.hashed_subpackets.extend(expires.map(key_expiration));
    let id = &key.details.users[0].id;
    config.sign_certification(primary, primary.public_key(), &Password::empty(), Tag::UserId, id).unwrap()
}

/// A binding of `key`'s subkey for signing, made at `at` with `hash`, with
/// the subkey's back-signature; the subkey expires `expires` seconds after
/// its creation.
pub fn binding(key: &SignedSecretKey, at: u32, hash: HashAlgorithm, expires: Option<u32>) -> Signature {
    binding_with_back(key, at, hash, expires, back_signature(key, at))
}

/// Like [`binding`], with the back-signature `back`.
pub fn binding_with_back(
    key: &SignedSecretKey,
    at: u32,
    hash: HashAlgorithm,
    expires: Option<u32>,
    back: Signature,
) -> Signature {
    let primary = &key.primary_key;
    let sub = &key.secret_subkeys[0].key;
    let mut flags = KeyFlags::default();
    flags.set_sign(true);
    let mut config = SignatureConfig::v4(SignatureType::SubkeyBinding, primary.algorithm(), hash);
    config.hashed_subpackets = subpackets(primary, at);
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
    config.hashed_subpackets.extend(expires.map(key_expiration));
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::EmbeddedSignature(Box::new(back))).unwrap());
    config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), sub.public_key()).unwrap()
}

/// The back-signature of `key`'s subkey, made at `at` (rPGP dates its own
/// now).
pub fn back_signature(key: &SignedSecretKey, at: u32) -> Signature {
    let sub = &key.secret_subkeys[0].key;
    let mut config = SignatureConfig::v4(SignatureType::KeyBinding, sub.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(sub, at);
    let primary = key.primary_key.public_key();
    config.sign_primary_key_binding(sub, &sub.public_key(), &Password::empty(), primary).unwrap()
}

/// A revocation of `key`'s subkey made at `at` for `reason`.
pub fn subkey_revocation(key: &SignedSecretKey, at: u32, reason: RevocationCode) -> Signature {
    let primary = &key.primary_key;
    let mut config = SignatureConfig::v4(SignatureType::SubkeyRevocation, primary.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(primary, at);
    config
        .hashed_subpackets
        .push(Subpacket::regular(SubpacketData::RevocationReason(reason, Bytes::from_static(b"test"))).unwrap());
    let sub = key.secret_subkeys[0].key.public_key();
    config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), sub).unwrap()
}

/// How a document signature is made.
#[derive(Clone, Copy)]
pub struct Signing {
    /// The digest.
    pub hash: HashAlgorithm,
    /// The creation time.
    pub at: u32,
    /// The signature expiration time, seconds after creation.
    pub expires: Option<u32>,
}

impl Signing {
    /// SHA-256, made now, not expiring.
    pub fn now() -> Signing {
        Signing { hash: HashAlgorithm::Sha256, at: now(), expires: None }
    }
}

/// A document signature of `typ` over `data` by `signer`.
pub fn sign(signer: &impl SigningKey, typ: SignatureType, how: Signing, data: &[u8]) -> Signature {
    let mut config = SignatureConfig::v4(typ, signer.algorithm(), how.hash);
    config.hashed_subpackets = subpackets(signer, how.at);
    if let Some(expires) = how.expires {
        config
            .hashed_subpackets
            .push(Subpacket::regular(SubpacketData::SignatureExpirationTime(Duration::from_secs(expires))).unwrap());
    }
    config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::IssuerKeyId(signer.legacy_key_id())).unwrap()];
    config.sign(signer, &Password::empty(), data).unwrap()
}

/// Signatures as a binary detached signature file (Release.gpg).
pub fn detached(signatures: &[Signature]) -> Vec<u8> {
    let mut out = Vec::new();
    for signature in signatures {
        signature.to_writer_with_header(&mut out).unwrap();
    }
    out
}

/// `text` (without its final newline) clearsigned with the signatures that
/// `sign` makes over the normalized text.
pub fn clearsign(text: &str, sign: impl FnOnce(&[u8]) -> Vec<Signature>) -> String {
    CleartextSignedMessage::new_many(text, |normalized| Ok(sign(normalized.as_bytes())))
        .unwrap()
        .to_armored_string(ArmorOptions::default())
        .unwrap()
}

/// Public keys as a binary keyring file.
pub fn keyring(keys: &[&SignedPublicKey]) -> Vec<u8> {
    let mut out = Vec::new();
    for key in keys {
        key.to_writer(&mut out).unwrap();
    }
    out
}
