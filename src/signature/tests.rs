//! Tests of the entry points against committed fixtures (a bookworm
//! InRelease re-signed by test keys) and of detached signatures, and the
//! helpers that the tests of each part share: keys generated at test time,
//! clearsigning, signatures made with chosen subpackets.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, DetachedSignature, EncryptionCaps, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{
    KeyFlags, PacketTrait, PubKeyInner, PublicKey, SecretKey, SecretSubkey, Signature, SignatureConfig, SignatureType, Subpacket,
    SubpacketData,
};
use pgp::ser::Serialize;
use pgp::types::{KeyDetails, KeyVersion, Password, SigningKey, Tag, Timestamp};

use super::keyring::hex_fingerprint;
use super::*;

pub(super) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/release");
pub(super) const RESIGNED: &str = include_str!("../../tests/fixtures/release/bookworm-resigned-InRelease");
const RESIGNED_DETACHED: &[u8] = include_bytes!("../../tests/fixtures/release/bookworm-resigned-Release.gpg");
const TEST_KEYRING: &[u8] = include_bytes!("../../tests/fixtures/release/test-keyring.gpg");
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

pub(super) fn no_good(result: Result<Verified, VerifyError>) -> (Vec<String>, Vec<String>, String) {
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

pub(super) const TEXT: &str = "Origin: Test\nSuite: stable\nSHA256:\n 0000 1 main/binary-all/Packages";

pub(super) fn now() -> u32 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as u32
}

/// A key like an archive key: a primary key that certifies and signs,
/// with one signing subkey, both created at `created`.
pub(super) fn generate(name: &str, created: u32) -> SignedSecretKey {
    let created = Timestamp::from_secs(created);
    let mut key = SecretKeyParamsBuilder::default()
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
        .unwrap();
    // rPGP dates the self- and binding signatures now; an archive key's are
    // as old as the key, so that it can sign from its creation on.
    resign(&mut key, created.as_secs());
    key
}

/// The back-signature of subkey `sub` for `primary`, made at `at` (rPGP
/// dates its own now).
pub(super) fn back_signature(sub: &SecretSubkey, primary: &PublicKey, at: u32) -> Signature {
    let mut config = SignatureConfig::v4(SignatureType::KeyBinding, sub.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(sub, at);
    config.sign_primary_key_binding(sub, &sub.public_key(), &Password::empty(), primary).unwrap()
}

/// `key` (as [`generate`] makes it) with a new primary key of `typ`
/// created at `at`, and its self- and binding signatures remade at `at`.
pub(super) fn with_primary(mut key: SignedSecretKey, typ: KeyType, at: u32) -> SignedSecretKey {
    let (public_params, secret_params) = typ.generate(rand::thread_rng()).unwrap();
    let created = Timestamp::from_secs(at);
    let inner = PubKeyInner::new(KeyVersion::V4, typ.to_alg(), created, None, public_params).unwrap();
    key.primary_key = SecretKey::new(PublicKey::from_inner(inner).unwrap(), secret_params).unwrap();
    resign(&mut key, at);
    key
}

/// Replaces the user ID's self-signature and the subkey's binding of `key`
/// (as [`generate`] makes it) by ones made at `at`.
pub(super) fn resign(key: &mut SignedSecretKey, at: u32) {
    let primary = &key.primary_key;
    let mut flags = KeyFlags::default();
    flags.set_certify(true);
    flags.set_sign(true);
    let mut config = SignatureConfig::v4(SignatureType::CertPositive, primary.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(primary, at);
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
    let id = &key.details.users[0].id;
    let certification =
        config.sign_certification(primary, primary.public_key(), &Password::empty(), Tag::UserId, id).unwrap();

    let sub = &key.secret_subkeys[0].key;
    let back = back_signature(sub, primary.public_key(), at);
    let mut flags = KeyFlags::default();
    flags.set_sign(true);
    let mut config = SignatureConfig::v4(SignatureType::SubkeyBinding, primary.algorithm(), HashAlgorithm::Sha256);
    config.hashed_subpackets = subpackets(primary, at);
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::KeyFlags(flags)).unwrap());
    config.hashed_subpackets.push(Subpacket::regular(SubpacketData::EmbeddedSignature(Box::new(back))).unwrap());
    let binding =
        config.sign_subkey_binding(primary, primary.public_key(), &Password::empty(), sub.public_key()).unwrap();

    key.details.users[0].signatures = vec![certification];
    key.secret_subkeys[0].signatures = vec![binding];
}

pub(super) fn public_bytes(keys: &[&SignedSecretKey]) -> Vec<u8> {
    let mut out = Vec::new();
    for key in keys {
        key.to_public_key().to_writer(&mut out).unwrap();
    }
    out
}

pub(super) fn keyring_of(keys: &[&SignedPublicKey]) -> Keyring {
    let mut out = Vec::new();
    for key in keys {
        key.to_writer(&mut out).unwrap();
    }
    Keyring::from_bytes(&out, "generated").unwrap()
}

/// The subpackets every test signature gets: creation time and issuer.
pub(super) fn subpackets(key: &impl KeyDetails, at: u32) -> Vec<Subpacket> {
    vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(at))).unwrap(),
        Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint())).unwrap(),
    ]
}

/// A document signature of `typ` over `data`, made at `at`.
pub(super) fn sign_at(key: &impl SigningKey, typ: SignatureType, hash: HashAlgorithm, at: u32, data: &[u8]) -> Signature {
    let mut config = SignatureConfig::v4(typ, key.algorithm(), hash);
    config.hashed_subpackets = subpackets(key, at);
    config.unhashed_subpackets = vec![Subpacket::regular(SubpacketData::IssuerKeyId(key.legacy_key_id())).unwrap()];
    config.sign(key, &Password::empty(), data).unwrap()
}

/// `text` clearsigned by each of `signers` (a subkey, made now).
pub(super) fn clearsign(text: &str, signers: &[&SignedSecretKey]) -> String {
    clearsign_with(text, |data| {
        signers
            .iter()
            .map(|k| sign_at(&k.secret_subkeys[0].key, SignatureType::Text, HashAlgorithm::Sha256, now(), data))
            .collect()
    })
}

pub(super) fn clearsign_with(text: &str, sign: impl FnOnce(&[u8]) -> Vec<Signature>) -> String {
    CleartextSignedMessage::new_many(text, |normalized| Ok(sign(normalized.as_bytes())))
        .unwrap()
        .to_armored_string(ArmorOptions::default())
        .unwrap()
}

pub(super) fn subkey_hex(key: &SignedSecretKey) -> String {
    hex_fingerprint(&key.secret_subkeys[0].key.fingerprint())
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
