//! SHA256 digests, the one hash debclosure trusts: Release files list the
//! SHA256 of each index, indices the SHA256 of each `.deb`, and locks pin
//! both (the `SHA256` fields of the Debian wiki's *DebianRepository/Format*).
//!
//! A [`Sha256`] is parsed once, where it enters (a lock, a `Packages`
//! stanza, a Release's checksum table), and is then a value: it compares,
//! sorts and hashes as its 32 bytes, and prints as the 64 lower-case hex
//! digits that locks, Nix and the cache write. [`Sha256::of`] and
//! [`Sha256Hasher`] compute one.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::Digest as _;

/// A SHA256 digest. Displays (and serializes) as 64 lower-case hex digits.
/// Sorting by it sorts as its hex text does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256([u8; 32]);

/// Text that is not a SHA256 digest in the form asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{:?} is not 64 {}hex digits", crate::deb822::cut(.text), if *.any_case { "" } else { "lower-case " })]
pub struct ParseSha256Error {
    /// The text as given (a message cuts it).
    pub text: String,
    /// Whether upper-case digits were allowed.
    pub any_case: bool,
}

impl ParseSha256Error {
    /// What the user can do about it: nothing beyond what the message
    /// says.
    pub fn hint(&self) -> Option<String> {
        None
    }
}

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    /// The digest of everything `reader` gives, read in pieces.
    pub fn of_reader(mut reader: impl Read) -> io::Result<Sha256> {
        let mut hasher = Sha256Hasher::new();
        io::copy(&mut reader, &mut hasher)?;
        Ok(hasher.finish())
    }

    /// Parses 64 lower-case hex digits, the form locks and `Packages` files
    /// write (and the only one [`Sha256`] prints).
    pub fn parse(text: &str) -> Result<Sha256, ParseSha256Error> {
        decode(text, false).ok_or_else(|| ParseSha256Error { text: text.to_owned(), any_case: false })
    }

    /// Parses 64 hex digits of either case, as apt reads a Release file's
    /// checksum table.
    pub fn parse_any_case(text: &str) -> Result<Sha256, ParseSha256Error> {
        decode(text, true).ok_or_else(|| ParseSha256Error { text: text.to_owned(), any_case: true })
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest with these 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Sha256 {
        Sha256(bytes)
    }
}

/// The one hex decoder: `None` unless `text` is 64 hex digits (lower-case
/// unless `any_case`).
fn decode(text: &str, any_case: bool) -> Option<Sha256> {
    // A table rather than a match: every stanza of an index has a SHA256
    // (issue 12).
    let table = if any_case { &HEX_ANY_CASE } else { &HEX_LOWER };
    let text = text.as_bytes();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0;
    for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (high, low) = (table[pair[0] as usize], table[pair[1] as usize]);
        bad |= high | low;
        *byte = high << 4 | (low & 0xf);
    }
    (bad & 0x80 == 0).then_some(Sha256(out))
}

/// The value of each hex digit, 0x80 for any other byte.
const fn hex_table(any_case: bool) -> [u8; 256] {
    let mut table = [0x80; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        table[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' if any_case => b - b'A' + 10,
            _ => 0x80,
        };
        c += 1;
    }
    table
}

static HEX_LOWER: [u8; 256] = hex_table(false);
static HEX_ANY_CASE: [u8; 256] = hex_table(true);

impl fmt::LowerHex for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(self, f)
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({self:x})")
    }
}

impl FromStr for Sha256 {
    type Err = ParseSha256Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Sha256::parse(text)
    }
}

impl TryFrom<&str> for Sha256 {
    type Error = ParseSha256Error;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Sha256::parse(text)
    }
}

impl serde::Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Sha256;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sha256 as 64 lower-case hex digits")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Sha256, E> {
                Sha256::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A SHA256 computed piece by piece, for content that streams in (a
/// download, a file). Also an [`io::Write`], for [`io::copy`].
#[derive(Clone, Default)]
pub struct Sha256Hasher(sha2::Sha256);

impl Sha256Hasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Sha256 {
        Sha256(self.0.finalize().into())
    }
}

impl io::Write for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digests_print_as_lower_case_hex() {
        assert_eq!(Sha256::of(b"").to_string(), EMPTY);
        assert_eq!(format!("{:x}", Sha256::of(b"abc")), ABC);
        assert_eq!(Sha256::of_reader(&b"abc"[..]).unwrap(), Sha256::of(b"abc"));
        let mut hasher = Sha256Hasher::new();
        hasher.update(b"a");
        hasher.update(b"bc");
        assert_eq!(hasher.finish(), Sha256::of(b"abc"));
        assert_eq!(format!("{:?}", Sha256::of(b"abc")), format!("Sha256({ABC})"));
    }

    #[test]
    fn one_parser_round_trips() {
        let abc = Sha256::parse(ABC).unwrap();
        assert_eq!(abc, Sha256::of(b"abc"));
        assert_eq!(abc.to_string().parse::<Sha256>().unwrap(), abc);
        let upper = ABC.to_ascii_uppercase();
        assert!(Sha256::parse(&upper).is_err(), "the canonical form is lower-case");
        assert_eq!(Sha256::parse_any_case(&upper).unwrap(), abc);
        for bad in ["", "abc", &ABC[1..], &format!("{ABC}0"), &format!("g{}", &ABC[1..]), &format!("é{}", &ABC[2..])] {
            assert!(Sha256::parse(bad).is_err(), "{bad}");
            assert!(Sha256::parse_any_case(bad).is_err(), "{bad}");
        }
        let err = Sha256::parse(&"x".repeat(10_000)).unwrap_err().to_string();
        assert!(err.ends_with("is not 64 lower-case hex digits") && err.len() < 100, "{err}");
    }

    #[test]
    fn order_is_the_order_of_the_text() {
        let mut digests: Vec<Sha256> = (0..50u8).map(|i| Sha256::of(&[i])).collect();
        digests.sort();
        let texts: Vec<String> = digests.iter().map(Sha256::to_string).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }

    #[test]
    fn serde_is_the_hex_string() {
        let abc = Sha256::of(b"abc");
        assert_eq!(serde_json::to_string(&abc).unwrap(), format!("\"{ABC}\""));
        assert_eq!(serde_json::from_str::<Sha256>(&format!("\"{ABC}\"")).unwrap(), abc);
        let err = serde_json::from_str::<Sha256>(&format!("\"{}\"", ABC.to_ascii_uppercase())).unwrap_err();
        assert!(err.to_string().contains("lower-case hex"), "{err}");
        assert!(serde_json::from_str::<Sha256>("12").is_err());
    }
}
