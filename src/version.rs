//! Debian version numbers: `[epoch:]upstream[-revision]`, compared exactly as
//! `dpkg --compare-versions` does (Debian Policy §5.6.12).
//!
//! Comparison works on validated `&str` without allocating, because the index
//! compares versions of tens of thousands of stanzas; [`Version`] is the owned,
//! validated form for values that live on their own (requests, lock files).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a string is not a Debian version. Each variant holds the version,
/// cut to 60 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Nothing but white space.
    #[error("version is empty")]
    Empty,
    /// White space inside the version.
    #[error("version {0:?} contains white space")]
    Space(String),
    /// The part before `:` is not a number.
    #[error("epoch of version {0:?} is not a number")]
    BadEpoch(String),
    /// No upstream part (`1:` or `-1`).
    #[error("version {0:?} has an empty upstream part")]
    EmptyUpstream(String),
    /// A trailing `-` with nothing after it.
    #[error("version {0:?} has an empty revision")]
    EmptyRevision(String),
    /// A character dpkg does not allow in a version.
    #[error("version {0:?} contains the invalid character {1:?}")]
    BadChar(String, char),
}

impl VersionError {
    /// What the user can do about it: nothing beyond what the message
    /// says.
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// The three parts of a version string, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parts<'a> {
    epoch: u32,
    upstream: &'a str,
    revision: &'a str,
}

fn split(s: &str) -> Result<Parts<'_>, VersionError> {
    // Errors hold the version for their message: cut, as it may be huge.
    let owned = || crate::deb822::cut(s).into_owned();
    if s.is_empty() {
        return Err(VersionError::Empty);
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        let _ = c;
        return Err(VersionError::Space(owned()));
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) => {
            if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
                return Err(VersionError::BadEpoch(owned()));
            }
            (e.parse::<u32>().map_err(|_| VersionError::BadEpoch(owned()))?, rest)
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err(VersionError::EmptyRevision(owned())),
        Some((u, r)) => (u, r),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err(VersionError::EmptyUpstream(owned()));
    }
    if let Some(c) = upstream
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~' | '-' | ':')))
    {
        return Err(VersionError::BadChar(owned(), c));
    }
    if let Some(c) = revision
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')))
    {
        return Err(VersionError::BadChar(owned(), c));
    }
    Ok(Parts {
        epoch,
        upstream,
        revision,
    })
}

/// Checks that `s` is a version dpkg accepts.
pub fn validate(s: &str) -> Result<(), VersionError> {
    split(s).map(|_| ())
}

/// Compares two version strings as `dpkg --compare-versions` does.
///
/// Strings that fail [`validate`] compare as plain byte strings, after all
/// valid ones, so the order stays total even on bad input.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (split(a), split(b)) {
        (Ok(a), Ok(b)) => compare_parts(&a, &b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

fn compare_parts(a: &Parts<'_>, b: &Parts<'_>) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| compare_fragment(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| compare_fragment(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// dpkg's weight of a non-digit character: `~` sorts before the end of the
/// string, letters before other symbols.
fn weight(c: Option<&u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(*c),
        Some(b'~') => -1,
        Some(c) => i32::from(*c) + 256,
    }
}

/// Splits a leading run of digits, without its leading zeros, from the rest.
fn leading_number(s: &[u8]) -> (&[u8], &[u8]) {
    let s = &s[s.iter().take_while(|&&c| c == b'0').count()..];
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n)
}

/// dpkg's `verrevcmp`: alternating runs of non-digits (compared by weight)
/// and digits (compared as numbers of any length).
fn compare_fragment(mut a: &[u8], mut b: &[u8]) -> Ordering {
    let is_digit = |s: &[u8]| s.first().is_some_and(u8::is_ascii_digit);
    while !a.is_empty() || !b.is_empty() {
        while (!a.is_empty() && !is_digit(a)) || (!b.is_empty() && !is_digit(b)) {
            let (wa, wb) = (weight(a.first()), weight(b.first()));
            if wa != wb {
                return wa.cmp(&wb);
            }
            a = a.get(1..).unwrap_or_default();
            b = b.get(1..).unwrap_or_default();
        }
        let (na, rest_a) = leading_number(a);
        let (nb, rest_b) = leading_number(b);
        let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
        if ord != Ordering::Equal {
            return ord;
        }
        a = rest_a;
        b = rest_b;
    }
    Ordering::Equal
}

/// An owned, validated Debian version. Equality is dpkg's: `1.0` equals
/// `0:1.0` and `1.0-0`; [`Version::as_str`] keeps the text as written.
#[derive(Debug, Clone)]
pub struct Version(Box<str>);

impl Version {
    /// Parses and validates a version.
    pub fn parse(s: &str) -> Result<Self, VersionError> {
        validate(s)?;
        Ok(Version(s.into()))
    }

    /// The version as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dpkg_comparison_table() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "0:1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1.00", "1.0", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0~", "1.0", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0", "1.0.1", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0+", Less),
            ("1:0.1", "2.0", Greater),
            ("2.36-9+deb12u10", "2.36-9+deb12u9", Greater),
            ("2.36-9+deb12u4", "2.36-9", Greater),
            ("37~deb12u1", "37", Less),
            ("1.2.3-1", "1.2.3-1ubuntu1", Less),
            ("10", "9", Greater),
            ("0010", "10", Equal),
            ("1-1", "1-1.1", Less),
            ("a", "b", Less),
            ("1.0-a", "1.0-1", Greater),
            ("99999999999999999999", "1", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn rejects_bad_versions() {
        for bad in ["", " ", "1 0", "a:1", ":1", "1:", "1-", "-1", "1.0_1", "1-a-", "1!"] {
            assert!(validate(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["0", "1:2.3-4", "1.0~rc1+dfsg-2ubuntu0.1", "2:1.0-a-b", "1.0-1.1"] {
            assert_eq!(validate(good), Ok(()), "{good:?}");
        }
    }

    fn version() -> impl Strategy<Value = String> {
        let frag = "[0-9a-z.+~]{0,6}";
        (
            proptest::option::of(0u32..3),
            "[0-9][0-9a-z.+~]{0,6}",
            proptest::option::of(frag),
        )
            .prop_map(|(epoch, up, rev)| {
                let mut s = epoch.map(|e| format!("{e}:")).unwrap_or_default();
                s.push_str(&up);
                if let Some(rev) = rev.filter(|r| !r.is_empty()) {
                    s.push('-');
                    s.push_str(&rev);
                }
                s
            })
    }

    proptest! {
        #[test]
        fn order_is_total(a in version(), b in version(), c in version()) {
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
            if compare(&a, &b) != Ordering::Greater && compare(&b, &c) != Ordering::Greater {
                prop_assert_ne!(compare(&a, &c), Ordering::Greater);
            }
            let (va, vb) = (Version::parse(&a).unwrap(), Version::parse(&b).unwrap());
            prop_assert_eq!(va == vb, compare(&a, &b) == Ordering::Equal);
            let again = Version::parse(&va.to_string()).unwrap();
            prop_assert_eq!(again.as_str(), a.as_str());
        }
    }
}
