//! Our verifier against Debian's: `sqv` (Sequoia's verifier, which apt
//! runs) judges the same Release files and keyrings, and the two must agree
//! on every case, accept or reject (issue 15).
//!
//! The matrix is generated at test time with rPGP: RSA of 1024, 2048 and
//! 4096 bits, Ed25519, expired keys and signatures, a revoked subkey, SHA-1
//! in a signature, a binding or a self-signature, a self-signature newer
//! than the signature, the wrong keyring, and two signatures of which one is
//! bad. Each case is checked twice: `Release` with a detached `Release.gpg`,
//! and a clearsigned `InRelease`. `sqv` only reads detached signatures, so
//! for it the `InRelease` is split as apt splits it: the signed text, and
//! the signature block.

mod common;

use std::path::Path;
use std::process::Command;

use debclosure::signature::{inrelease_text, verify_detached, verify_inrelease, Keyring};
use pgp::composed::{KeyType, SignedPublicKey, SignedSecretKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{RevocationCode, Signature, SignatureType};
use pgp::types::SigningKey;

use common::pgp::{self as keys, binding, binding_with_back, certification, detached, generate, Signing};

const RELEASE: &str = "Origin: Test\nLabel: Test\nSuite: stable\nCodename: test\nSHA256:\n \
                       0000000000000000000000000000000000000000000000000000000000000000 1 main/binary-all/Packages\n";
const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// Whether `sqv` is installed; if not, fails under CI, else skips.
fn have_sqv() -> bool {
    if common::runs("sqv", "--version") {
        return true;
    }
    common::missing("sqv", "the cross-check with sqv", "apt-get install -y --no-install-recommends sqv");
    false
}

/// Whether `sqv` accepts `signature` over `data` with `keyring` (files).
fn sqv(keyring: &Path, signature: &Path, data: &Path) -> (bool, String) {
    let out = Command::new("sqv").arg("--keyring").arg(keyring).arg(signature).arg(data).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said.trim().replace('\n', " | "))
}

/// Splits a clearsigned file as apt does for sqv: the signed text (without
/// the line break before the signature, which it does not cover) and the
/// armored signature block.
fn split_inrelease(inrelease: &str) -> (String, String) {
    let text = inrelease_text(inrelease, "InRelease").unwrap();
    let start = inrelease.find("-----BEGIN PGP SIGNATURE-----").unwrap();
    let end = inrelease.find("-----END PGP SIGNATURE-----").unwrap() + "-----END PGP SIGNATURE-----".len();
    (text.strip_suffix('\n').unwrap().to_string(), format!("{}\n", &inrelease[start..end]))
}

/// How both verifiers judged one input.
struct Verdicts {
    debclosure: Result<(), String>,
    sqv: (bool, String),
}

/// Runs both verifiers on a detached signature and on the clearsigned
/// form, with `keyring`.
fn judge(dir: &Path, keyring: &[u8], release: &str, signature: &[u8], inrelease: &str) -> [Verdicts; 2] {
    let keyring_path = dir.join("keyring.gpg");
    std::fs::write(&keyring_path, keyring).unwrap();
    let ours = Keyring::load(std::slice::from_ref(&keyring_path)).unwrap();
    let explain = |e: debclosure::signature::VerifyError| format!("{e}");

    let release_path = dir.join("Release");
    let signature_path = dir.join("Release.gpg");
    std::fs::write(&release_path, release).unwrap();
    std::fs::write(&signature_path, signature).unwrap();
    let detached = Verdicts {
        debclosure: verify_detached(&ours, release.as_bytes(), signature, "Release").map(|_| ()).map_err(explain),
        sqv: sqv(&keyring_path, &signature_path, &release_path),
    };

    let (text, block) = split_inrelease(inrelease);
    let text_path = dir.join("InRelease.text");
    let block_path = dir.join("InRelease.sig");
    std::fs::write(&text_path, text).unwrap();
    std::fs::write(&block_path, block).unwrap();
    let clearsigned = Verdicts {
        debclosure: verify_inrelease(&ours, inrelease, "InRelease").map(|_| ()).map_err(explain),
        sqv: sqv(&keyring_path, &block_path, &text_path),
    };
    [detached, clearsigned]
}

/// Makes the signatures over some data, of a type (binary for Release.gpg,
/// text for InRelease).
type Signer<'k> = Box<dyn Fn(&[u8], SignatureType) -> Vec<Signature> + 'k>;

/// One case of the matrix.
struct Case<'k> {
    name: &'static str,
    keyring: Vec<SignedPublicKey>,
    sign: Signer<'k>,
    /// Whether the Release text is changed after signing.
    tampered: bool,
    /// What both should say.
    accept: bool,
}

fn case<'k>(
    name: &'static str,
    keyring: Vec<SignedPublicKey>,
    sign: impl Fn(&[u8], SignatureType) -> Vec<Signature> + 'k,
    accept: bool,
) -> Case<'k> {
    Case { name, keyring, sign: Box::new(sign), tampered: false, accept }
}

/// A case whose Release text is changed after signing.
fn tampered<'k>(
    name: &'static str,
    keyring: Vec<SignedPublicKey>,
    sign: impl Fn(&[u8], SignatureType) -> Vec<Signature> + 'k,
    accept: bool,
) -> Case<'k> {
    Case { tampered: true, ..case(name, keyring, sign, accept) }
}

fn by(signer: &impl SigningKey, how: Signing) -> impl Fn(&[u8], SignatureType) -> Vec<Signature> + '_ {
    move |data, typ| vec![keys::sign(signer, typ, how, data)]
}

fn sub(key: &SignedSecretKey) -> &impl SigningKey {
    &key.secret_subkeys[0].key
}

fn primary(key: &SignedSecretKey) -> &impl SigningKey {
    &key.primary_key
}

#[test]
fn sqv_agrees_on_the_matrix() {
    if !have_sqv() {
        return;
    }
    let t = keys::now();
    let created = t - 100_000;
    // RSA keys are slow to make in a debug build: make them side by side.
    let (rsa1024, rsa2048, rsa4096) = std::thread::scope(|s| {
        let rsa = |bits| s.spawn(move || generate("rsa", KeyType::Rsa(bits), created));
        let (a, b, c) = (rsa(1024), rsa(2048), rsa(4096));
        (a.join().unwrap(), b.join().unwrap(), c.join().unwrap())
    });
    let ed = generate("ed25519", KeyType::Ed25519Legacy, created);
    let stranger = generate("stranger", KeyType::Ed25519Legacy, created);

    let mut revoked = ed.to_public_key();
    let revocation = keys::subkey_revocation(&ed, t - 40_000, RevocationCode::KeyCompromised);
    revoked.public_subkeys[0].signatures.push(revocation);
    let mut sha1_binding = rsa2048.to_public_key();
    sha1_binding.public_subkeys[0].signatures = vec![binding(&rsa2048, created, HashAlgorithm::Sha1, None)];
    let mut sha1_self = rsa2048.to_public_key();
    sha1_self.details.users[0].signatures = vec![certification(&rsa2048, created, HashAlgorithm::Sha1, None)];
    // Self-signature and binding made after the signature (at t - 50000).
    let mut late = ed.to_public_key();
    late.details.users[0].signatures = vec![certification(&ed, t - 10, HashAlgorithm::Sha256, None)];
    late.public_subkeys[0].signatures = vec![binding(&ed, t - 10, HashAlgorithm::Sha256, None)];

    // A binding in force whose back-signature is newer than the signature.
    let mut late_back = ed.to_public_key();
    late_back.public_subkeys[0].signatures =
        vec![binding_with_back(&ed, created, HashAlgorithm::Sha256, None, keys::back_signature(&ed, t - 10))];
    let at = |at| Signing { at, ..Signing::now() };
    // The subkey expires 1000 s after its creation.
    let expiring_key = generate("expiring", KeyType::Ed25519Legacy, created);
    let mut expiring_public = expiring_key.to_public_key();
    expiring_public.public_subkeys[0].signatures =
        vec![binding(&expiring_key, created, HashAlgorithm::Sha256, Some(1000))];

    let ed_public = ed.to_public_key();
    let fresh = Signing::now();
    let young = at(created + 500);
    let past = at(t - 50_000);
    let expired = Signing { expires: Some(1000), ..past };
    let lasting = Signing { expires: Some(100_000), ..past };
    let sha1 = Signing { hash: HashAlgorithm::Sha1, ..fresh };
    let ring = |key: &SignedPublicKey| vec![key.clone()];
    let cases = vec![
        case("Ed25519 subkey", ring(&ed_public), by(sub(&ed), fresh), true),
        case("Ed25519 primary key", ring(&ed_public), by(primary(&ed), fresh), true),
        case("RSA-1024 primary key", ring(&rsa1024.to_public_key()), by(primary(&rsa1024), fresh), false),
        case("Ed25519 subkey, RSA-1024 primary", ring(&rsa1024.to_public_key()), by(sub(&rsa1024), fresh), false),
        case("RSA-2048 primary key", ring(&rsa2048.to_public_key()), by(primary(&rsa2048), fresh), true),
        case("RSA-4096 primary key", ring(&rsa4096.to_public_key()), by(primary(&rsa4096), fresh), true),
        case("Ed25519 subkey, RSA-4096 primary", ring(&rsa4096.to_public_key()), by(sub(&rsa4096), fresh), true),
        case("expired key, signed after expiry", ring(&expiring_public), by(sub(&expiring_key), fresh), false),
        case("expired key, signed before expiry", ring(&expiring_public), by(sub(&expiring_key), young), true),
        case("expired signature", ring(&ed_public), by(sub(&ed), expired), false),
        case("signature that expires later", ring(&ed_public), by(sub(&ed), lasting), true),
        case("revoked subkey (compromised)", vec![revoked.clone()], by(sub(&ed), past), false),
        case("SHA-1 subkey binding", vec![sha1_binding], by(sub(&rsa2048), fresh), false),
        case("SHA-1 self-signature", vec![sha1_self], by(primary(&rsa2048), fresh), false),
        case("SHA-1 signature", ring(&rsa2048.to_public_key()), by(primary(&rsa2048), sha1), false),
        case("self-signatures newer than the signature", vec![late], by(sub(&ed), past), false),
        case("back-signature newer than the signature", vec![late_back], by(sub(&ed), past), false),
        case("wrong keyring", vec![stranger.to_public_key()], by(sub(&ed), fresh), false),
        tampered("tampered Release", ring(&ed_public), by(sub(&ed), fresh), false),
        case(
            "two signatures, one bad",
            ring(&ed_public),
            |data, typ| {
                let other = keys::sign(sub(&ed), typ, fresh, b"other text");
                vec![other, keys::sign(sub(&ed), typ, fresh, data)]
            },
            true,
        ),
        case(
            "two signatures, one by an unknown key",
            ring(&ed_public),
            |data, typ| {
                let unknown = keys::sign(sub(&stranger), typ, fresh, data);
                vec![unknown, keys::sign(sub(&ed), typ, fresh, data)]
            },
            true,
        ),
        case(
            "two signatures, RSA-1024 and Ed25519",
            vec![rsa1024.to_public_key(), ed_public.clone()],
            |data, typ| {
                let weak = keys::sign(primary(&rsa1024), typ, fresh, data);
                vec![weak, keys::sign(sub(&ed), typ, fresh, data)]
            },
            true,
        ),
    ];

    let dir = tempfile::tempdir().unwrap();
    let mut table = String::from("case | form | expected | debclosure | sqv\n");
    let mut wrong = Vec::new();
    for case in &cases {
        let signature = detached(&(case.sign)(RELEASE.as_bytes(), SignatureType::Binary));
        let text = RELEASE.strip_suffix('\n').unwrap();
        let inrelease = keys::clearsign(text, |data| (case.sign)(data, SignatureType::Text));
        let (release, inrelease) = if case.tampered {
            (RELEASE.replace("stable", "stablE"), inrelease.replace("stable", "stablE"))
        } else {
            (RELEASE.to_string(), inrelease)
        };
        let public: Vec<&SignedPublicKey> = case.keyring.iter().collect();
        let verdicts = judge(dir.path(), &keys::keyring(&public), &release, &signature, &inrelease);
        for (form, verdict) in ["Release.gpg", "InRelease"].iter().zip(&verdicts) {
            let word = |ok: bool| if ok { "accept" } else { "reject" };
            let ours = verdict.debclosure.is_ok();
            table.push_str(&format!(
                "{} | {form} | {} | {} | {}\n",
                case.name,
                word(case.accept),
                word(ours),
                word(verdict.sqv.0)
            ));
            if ours != verdict.sqv.0 || ours != case.accept {
                wrong.push(format!(
                    "{} ({form}): expected {}, debclosure {:?}, sqv {}: {}",
                    case.name,
                    word(case.accept),
                    verdict.debclosure,
                    word(verdict.sqv.0),
                    verdict.sqv.1
                ));
            }
        }
    }
    eprintln!("{table}");
    assert!(wrong.is_empty(), "debclosure and sqv disagree, or both are wrong:\n{}", wrong.join("\n"));
}

/// A real InRelease (e.g. bookworm's, from /var/lib/apt/lists) with the
/// Debian keyring: both accept it, and both reject it with one digit
/// changed. Set `DEBCLOSURE_REAL_INRELEASE` to its path to run this test.
#[test]
fn sqv_agrees_on_a_real_inrelease() {
    let Some(path) = std::env::var_os("DEBCLOSURE_REAL_INRELEASE") else {
        common::notice("skipped: set DEBCLOSURE_REAL_INRELEASE to the path of a real InRelease to compare with sqv");
        return;
    };
    if !have_sqv() {
        return;
    }
    if !Path::new(DEBIAN_KEYRING).is_file() {
        common::missing("debian-archive-keyring", "the real InRelease", "apt-get install debian-archive-keyring");
        return;
    }
    let keyring = std::fs::read(DEBIAN_KEYRING).unwrap();
    let inrelease = std::fs::read_to_string(path).unwrap();
    let digit = inrelease.find("SHA256:\n ").unwrap() + 9;
    let mut tampered = inrelease.clone().into_bytes();
    tampered[digit] = if tampered[digit] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();

    let dir = tempfile::tempdir().unwrap();
    for (input, accept) in [(&inrelease, true), (&tampered, false)] {
        let (text, block) = split_inrelease(input);
        // The detached form: the text with its final newline, as a
        // Release file, cannot be checked, since the archive signs
        // Release.gpg separately; the clearsigned one is what apt uses.
        let [_, verdict] = judge(dir.path(), &keyring, &format!("{text}\n"), block.as_bytes(), input);
        assert_eq!(verdict.debclosure.is_ok(), accept, "debclosure: {:?}", verdict.debclosure);
        assert_eq!(verdict.sqv.0, accept, "sqv: {}", verdict.sqv.1);
    }
}
