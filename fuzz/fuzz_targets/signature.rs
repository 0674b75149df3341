//! The OpenPGP side of a Release: an arbitrary keyring file, and an
//! arbitrary InRelease checked against the test keyring. Never panics;
//! whatever verifies is signed by a key of the keyring and is text the
//! InRelease holds.
#![no_main]

use debclosure::signature::{inrelease_text, verify_detached, verify_inrelease, Keyring};
use libfuzzer_sys::fuzz_target;

const KEYRING: &[u8] = include_bytes!("../../tests/fixtures/release/test-keyring.gpg");

fuzz_target!(|data: &[u8]| {
    // The first byte picks what the rest is.
    let Some((&what, rest)) = data.split_first() else { return };
    let keyring = Keyring::from_bytes(KEYRING, "test-keyring.gpg").expect("the fixture keyring loads");
    match what % 3 {
        0 => {
            if let Ok(k) = Keyring::from_bytes(rest, "fuzz.gpg") {
                assert!(!k.fingerprints().is_empty(), "an empty keyring was accepted");
            }
        }
        1 => {
            let text = String::from_utf8_lossy(rest);
            let plain = inrelease_text(&text, "fuzz/InRelease");
            if let Ok(verified) = verify_inrelease(&keyring, &text, "fuzz/InRelease") {
                assert_eq!(Some(&verified.text), plain.as_ref().ok(), "verified text differs from the signed part");
            }
        }
        _ => {
            // Release text, then the signature, split at the first NUL.
            let (release, signature) = match rest.iter().position(|&b| b == 0) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            let _ = verify_detached(&keyring, release, signature, "fuzz/Release");
        }
    }
});
