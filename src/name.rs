//! Names with rules: package names (Debian Policy §5.6.1), architectures,
//! archive names, suites and components (path pieces of an archive's URL,
//! as the Debian wiki's *DebianRepository/Format* lays them out), and
//! snapshot timestamps.
//!
//! Each is checked once, where it enters (a lock, a spec, the flags), and
//! is then a value that cannot break its rules: it joins to a URL or a path
//! and goes into Nix and onto a terminal as it is. Each dereferences to its
//! text and prints as it.


use crate::deb822::cut;

/// What kind of name a [`NameError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A package name.
    Package,
    /// An architecture.
    Architecture,
    /// An archive name.
    Archive,
    /// A suite.
    Suite,
    /// A component.
    Component,
    /// A snapshot timestamp.
    Snapshot,
}

impl NameKind {
    /// What a valid one is, for messages.
    fn described(self) -> &'static str {
        match self {
            NameKind::Package => "a valid package name",
            NameKind::Architecture => "an architecture name",
            NameKind::Archive => "an archive name (letters, digits and . _ + ~ - :)",
            NameKind::Suite => "a suite name",
            NameKind::Component => "a component name",
            NameKind::Snapshot => "a timestamp like 20250520T000000Z",
        }
    }
}

/// Text that is not a valid name of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not {}", .kind.described())]
pub struct NameError {
    /// The kind of name.
    pub kind: NameKind,
    /// The text, cut to 60 characters.
    pub value: String,
}

impl NameError {
    /// What the user can do about it: nothing beyond what the message
    /// says (the value and its kind).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

impl NameError {
    fn new(kind: NameKind, value: &str) -> Self {
        NameError { kind, value: cut(value).into_owned() }
    }
}

/// Characters of one path segment of an archive, suite or component name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '~' | '-' | ':')
}

/// A URL path of segments of name characters, none empty, `.` or `..`.
fn is_name_path(s: &str) -> bool {
    s.split('/').all(|part| part != "." && part != ".." && !part.is_empty() && part.chars().all(is_name_char))
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $valid:expr) => {
        crate::checked::checked_string!($(#[$doc])* $name, NameError, |text| {
            let valid: fn(&str) -> bool = $valid;
            if valid(text) {
                Ok(())
            } else {
                Err(NameError::new($kind, text))
            }
        });
    };
}

name_type!(
    /// A Debian package name (Policy §5.6.1): lower-case letters, digits,
    /// `+`, `-` and `.`, starting with a letter or digit.
    PackageName,
    NameKind::Package,
    crate::relation::is_valid_package_name
);

name_type!(
    /// A Debian architecture (`amd64`, `arm64`, `all`): lower-case letters,
    /// digits and `-`.
    Architecture,
    NameKind::Architecture,
    |s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
);

name_type!(
    /// An archive's name (`debian`, `debian-security`): one URL path
    /// segment of letters, digits and `. _ + ~ - :`, not `.` or `..`.
    ArchiveName,
    NameKind::Archive,
    |s| !s.is_empty() && s != "." && s != ".." && s.chars().all(is_name_char)
);

name_type!(
    /// A suite (`bookworm`, `bookworm/updates`): path segments of
    /// archive-name characters, none empty, `.` or `..`.
    Suite,
    NameKind::Suite,
    is_name_path
);

name_type!(
    /// A component (`main`, `non-free-firmware`), by the rules of a
    /// [`Suite`].
    Component,
    NameKind::Component,
    is_name_path
);

name_type!(
    /// A snapshot timestamp, `YYYYMMDDTHHMMSSZ`, as the snapshot archive
    /// writes it.
    SnapshotTimestamp,
    NameKind::Snapshot,
    |s| {
        let b = s.as_bytes();
        b.len() == 16
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'T'
            && b[9..15].iter().all(u8::is_ascii_digit)
            && b[15] == b'Z'
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_keeps_its_rules() {
        assert!(PackageName::new("libc6").is_ok() && PackageName::new("g++-12").is_ok());
        for bad in ["", "Bash", "-x", "a b", "a/b"] {
            assert!(PackageName::new(bad).is_err(), "{bad:?}");
        }
        assert!(Architecture::new("amd64").is_ok() && Architecture::new("kfreebsd-i386").is_ok());
        for bad in ["", "amd64 ", "amd64/../x", "AMD64"] {
            assert!(Architecture::new(bad).is_err(), "{bad:?}");
        }
        assert!(ArchiveName::new("debian-security").is_ok() && ArchiveName::new("a:b~c").is_ok());
        for bad in ["", ".", "..", "de/bian", "a b"] {
            assert!(ArchiveName::new(bad).is_err(), "{bad:?}");
        }
        assert!(Suite::new("bookworm/updates").is_ok() && Component::new("main").is_ok());
        for bad in ["", "../../x", "main/", "a//b", "./a", "a\u{1b}"] {
            assert!(Suite::new(bad).is_err() && Component::new(bad).is_err(), "{bad:?}");
        }
        assert!(SnapshotTimestamp::new("20250520T000000Z").is_ok());
        for bad in ["2025-05-20", "20250520T000000", "20250520X000000Z", "yesterday"] {
            assert!(SnapshotTimestamp::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn messages_name_the_kind_and_cut_the_value() {
        let cases = [
            (PackageName::new("Bad").unwrap_err(), "\"Bad\" is not a valid package name"),
            (Architecture::new("amd64 ").unwrap_err(), "\"amd64 \" is not an architecture name"),
            (ArchiveName::new("a/b").unwrap_err(), "\"a/b\" is not an archive name (letters, digits and . _ + ~ - :)"),
            (Suite::new("..").unwrap_err(), "\"..\" is not a suite name"),
            (Component::new("main/").unwrap_err(), "\"main/\" is not a component name"),
            (SnapshotTimestamp::new("yesterday").unwrap_err(), "\"yesterday\" is not a timestamp like 20250520T000000Z"),
        ];
        for (err, want) in cases {
            assert_eq!(err.to_string(), want);
        }
        let huge = Suite::new("x/".repeat(1_000_000)).unwrap_err().to_string();
        assert!(huge.len() < 100, "{huge}");
    }

    #[test]
    fn values_read_and_print_as_their_text() {
        let suite = Suite::new("bookworm").unwrap();
        assert_eq!(suite, "bookworm");
        assert_eq!(suite.to_string(), "bookworm");
        assert_eq!(format!("{suite:?}"), "\"bookworm\"");
        assert_eq!(serde_json::to_string(&suite).unwrap(), "\"bookworm\"");
        assert_eq!(serde_json::from_str::<Suite>("\"bookworm\"").unwrap(), suite);
        let err = serde_json::from_str::<Suite>("\"../x\"").unwrap_err().to_string();
        assert!(err.contains("is not a suite name"), "{err}");
        let map: std::collections::BTreeMap<ArchiveName, u8> = [(ArchiveName::new("debian").unwrap(), 1)].into();
        assert_eq!(map.get("debian"), Some(&1));
    }
}
