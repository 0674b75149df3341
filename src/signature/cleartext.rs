//! The clearsigned framework of an `InRelease` (RFC 9580 §7): armor
//! headers, dash-escaped signed lines and the signature armor, read without
//! rPGP's parser; and the signature packets of a detached `Release.gpg`.

use pgp::composed::{Deserializable, DetachedSignature};
use pgp::packet::Signature;

use super::VerifyError;

/// Reads the signature packets of an armored or binary signature file.
pub(super) fn read_signatures(data: &[u8], label: &str) -> Result<Vec<Signature>, VerifyError> {
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
pub(super) struct Cleartext<'a> {
    /// The signed lines, without dash-escapes, line breaks and the trailing
    /// blanks that the signature does not cover.
    lines: Vec<&'a str>,
    pub(super) signatures: Vec<Signature>,
}

impl Cleartext<'_> {
    /// The bytes the signatures cover: the lines joined by CRLF.
    pub(super) fn signed_data(&self) -> String {
        self.lines.join("\r\n")
    }

    /// The Release text: the lines, each ended by `\n`.
    pub(super) fn text(&self) -> String {
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
pub(super) fn parse_cleartext<'a>(inrelease: &'a str, label: &str) -> Result<Cleartext<'a>, VerifyError> {
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

#[cfg(test)]
mod tests {
    use crate::signature::tests::{clearsign, generate, keyring_of, now, TEXT};
    use crate::signature::{inrelease_text, verify_inrelease};
    use super::*;

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
}
