//! Relationship fields: `Depends`, `Pre-Depends`, `Recommends`, `Conflicts`,
//! `Breaks` and `Provides` (Debian Policy §7.1): comma-separated groups of
//! `|` alternatives, each `name[:arch] [(op version)] [[arch ...]] [<profile ...>]`.
//!
//! Parsed relations borrow from the field text; the index parses them lazily,
//! only for the packages a closure walks.

use std::fmt;

use crate::deb822::cut;
use crate::version;

/// A relation operator (Policy §7.1). The obsolete `<` and `>` mean `<=` and `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionOp {
    /// `<<`
    Less,
    /// `<=`
    LessEq,
    /// `=`
    Equal,
    /// `>=`
    GreaterEq,
    /// `>>`
    Greater,
}

impl VersionOp {
    /// Whether `version` (of a candidate) satisfies `op wanted`.
    pub fn matches(self, version: &str, wanted: &str) -> bool {
        let ord = version::compare(version, wanted);
        match self {
            VersionOp::Less => ord.is_lt(),
            VersionOp::LessEq => ord.is_le(),
            VersionOp::Equal => ord.is_eq(),
            VersionOp::GreaterEq => ord.is_ge(),
            VersionOp::Greater => ord.is_gt(),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            VersionOp::Less => "<<",
            VersionOp::LessEq => "<=",
            VersionOp::Equal => "=",
            VersionOp::GreaterEq => ">=",
            VersionOp::Greater => ">>",
        }
    }
}

/// The `:arch` qualifier of a relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArchQualifier<'a> {
    /// No qualifier: the package of the depending package's architecture (or `all`).
    None,
    /// `:any`: met only by a `Multi-Arch: allowed` package.
    Any,
    /// `:native`.
    Native,
    /// `:ARCH`, an explicit architecture.
    Named(&'a str),
}

/// One alternative of a relation: `name[:arch] [(op version)] [[arch...]]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dependency<'a> {
    /// The package (or virtual package) name.
    pub name: &'a str,
    /// The `:arch` qualifier.
    pub arch: ArchQualifier<'a>,
    /// The version constraint; the version is validated.
    pub constraint: Option<(VersionOp, &'a str)>,
    /// `[arch ...]` restriction as (negated, architecture); empty when absent.
    pub restriction: Vec<(bool, &'a str)>,
}

impl Dependency<'_> {
    /// Whether an `[arch ...]` restriction keeps this alternative on `arch`.
    pub fn applies_to(&self, arch: &str) -> bool {
        if self.restriction.is_empty() {
            return true;
        }
        let negated = self.restriction[0].0;
        let listed = self.restriction.iter().any(|(_, a)| *a == arch || *a == "any");
        if negated {
            !listed
        } else {
            listed
        }
    }

    /// Whether a package of `version` satisfies the version constraint.
    pub fn version_matches(&self, version: &str) -> bool {
        self.constraint
            .is_none_or(|(op, wanted)| op.matches(version, wanted))
    }
}

impl fmt::Display for Dependency<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)?;
        match self.arch {
            ArchQualifier::None => {}
            ArchQualifier::Any => f.write_str(":any")?,
            ArchQualifier::Native => f.write_str(":native")?,
            ArchQualifier::Named(a) => write!(f, ":{a}")?,
        }
        if let Some((op, v)) = self.constraint {
            write!(f, " ({} {v})", op.as_str())?;
        }
        Ok(())
    }
}

/// A group of alternatives (`a | b`), at least one.
pub type Alternatives<'a> = Vec<Dependency<'a>>;

/// Writes a group the way Debian writes it: `a | b (>= 1)`.
pub fn display_group(group: &[Dependency<'_>]) -> String {
    let parts: Vec<String> = group.iter().map(ToString::to_string).collect();
    parts.join(" | ")
}

/// Why a relationship field does not parse; `column` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {problem}")]
pub struct RelationError {
    /// Character position in the field value, from 1.
    pub column: usize,
    /// What is wrong.
    pub problem: String,
}

impl RelationError {
    /// What the user can do about it: nothing beyond what the message
    /// says; the caller names the file and field.
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// Whether `name` is a valid Debian package name (Policy §5.6.1): lower-case
/// letters, digits, `+`, `-`, `.`, starting with a letter or digit. Policy
/// also asks for two characters; dpkg accepts one, and so do we.
pub fn is_valid_package_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+-.".contains(c))
}

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn skip_space(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.as_bytes().get(self.pos).copied()
    }

    fn error(&self, problem: impl Into<String>) -> RelationError {
        RelationError {
            column: self.text[..self.pos.min(self.text.len())].chars().count() + 1,
            problem: problem.into(),
        }
    }

    /// Takes a run of bytes up to white space or one of `stops`.
    fn word(&mut self, stops: &[u8]) -> &'a str {
        self.skip_space();
        let rest = &self.text[self.pos..];
        let len = rest
            .bytes()
            .position(|c| c.is_ascii_whitespace() || stops.contains(&c))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn expect(&mut self, c: u8) -> Result<(), RelationError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {:?}", c as char)))
        }
    }

    fn dependency(&mut self) -> Result<Dependency<'a>, RelationError> {
        const STOPS: &[u8] = b",|:([<";
        let start = self.pos;
        let name = self.word(STOPS);
        if !is_valid_package_name(name) {
            self.pos = start;
            self.skip_space();
            return Err(self.error(if name.is_empty() {
                "expected a package name".to_owned()
            } else {
                format!("{:?} is not a valid package name", cut(name))
            }));
        }
        let arch = if self.peek() == Some(b':') {
            self.pos += 1;
            match self.word(STOPS) {
                "" => return Err(self.error("expected an architecture after ':'")),
                "any" => ArchQualifier::Any,
                "native" => ArchQualifier::Native,
                a if is_arch_name(a) => ArchQualifier::Named(a),
                a => return Err(self.error(format!("{:?} is not an architecture name", cut(a)))),
            }
        } else {
            ArchQualifier::None
        };
        let constraint = if self.peek() == Some(b'(') {
            self.pos += 1;
            self.skip_space();
            let rest = &self.text.as_bytes()[self.pos..];
            let (op, len) = match rest {
                [b'<', b'<', ..] => (VersionOp::Less, 2),
                [b'<', b'=', ..] => (VersionOp::LessEq, 2),
                [b'>', b'>', ..] => (VersionOp::Greater, 2),
                [b'>', b'=', ..] => (VersionOp::GreaterEq, 2),
                [b'=', ..] => (VersionOp::Equal, 1),
                [b'<', ..] => (VersionOp::LessEq, 1),
                [b'>', ..] => (VersionOp::GreaterEq, 1),
                _ => return Err(self.error("expected a version operator (<< <= = >= >>)")),
            };
            self.pos += len;
            self.skip_space();
            let at = self.pos;
            let ver = self.word(b")");
            version::validate(ver).map_err(|e| {
                let mut err = self.error(e.to_string());
                err.column = self.text[..at].chars().count() + 1;
                err
            })?;
            self.expect(b')')?;
            Some((op, ver))
        } else {
            None
        };
        let mut restriction = Vec::new();
        if self.peek() == Some(b'[') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c != b']') {
                let word = self.word(b"]");
                let (neg, arch) = match word.strip_prefix('!') {
                    Some(a) => (true, a),
                    None => (false, word),
                };
                if !is_arch_name(arch) {
                    return Err(self.error(format!("{:?} is not an architecture", cut(word))));
                }
                if restriction.first().is_some_and(|(n, _)| *n != neg) {
                    return Err(self.error("cannot mix negated and plain architectures"));
                }
                restriction.push((neg, arch));
            }
            self.expect(b']')?;
        }
        // Build profiles (`<!nocheck>`) only matter for build dependencies;
        // they are checked for shape and otherwise ignored.
        while self.peek() == Some(b'<') {
            self.pos += 1;
            while self.peek().is_some_and(|c| c != b'>') {
                let word = self.word(b">");
                if word.is_empty() {
                    return Err(self.error("bad build profile"));
                }
            }
            self.expect(b'>')?;
        }
        Ok(Dependency {
            name,
            arch,
            constraint,
            restriction,
        })
    }
}

fn is_arch_name(a: &str) -> bool {
    !a.is_empty()
        && a.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// Parses a relationship field into groups of alternatives. An empty or
/// all-white-space field gives no groups; a trailing comma is tolerated.
pub fn parse_relations(text: &str) -> Result<Vec<Alternatives<'_>>, RelationError> {
    let mut cur = Cursor { text, pos: 0 };
    let mut groups = Vec::new();
    while cur.peek().is_some() {
        let mut group = vec![cur.dependency()?];
        loop {
            match cur.peek() {
                Some(b'|') => {
                    cur.pos += 1;
                    group.push(cur.dependency()?);
                }
                Some(b',') => {
                    cur.pos += 1;
                    break;
                }
                None => break,
                Some(_) => return Err(cur.error("expected ',' or '|'")),
            }
        }
        groups.push(group);
    }
    Ok(groups)
}

/// Parses a `Provides` field: no alternatives, only `=` versions.
pub fn parse_provides(text: &str) -> Result<Vec<Dependency<'_>>, RelationError> {
    // The grammar of [`parse_relations`] without a list per group: every
    // stanza's Provides is read when an index loads (issue 12). A field
    // with alternatives, an error whatever follows, is read the long way
    // for the same message.
    let mut cur = Cursor { text, pos: 0 };
    let mut out = Vec::new();
    while cur.peek().is_some() {
        out.push(cur.dependency()?);
        match cur.peek() {
            Some(b',') => cur.pos += 1,
            None => {}
            Some(b'|') => return provides_of(parse_relations(text)?),
            Some(_) => return Err(cur.error("expected ',' or '|'")),
        }
    }
    out.iter().try_for_each(only_equal)?;
    Ok(out)
}

/// The Provides of parsed groups: one dependency each, with at most an `=`
/// version; the first group that is not says why.
fn provides_of(groups: Vec<Alternatives<'_>>) -> Result<Vec<Dependency<'_>>, RelationError> {
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        if group.len() > 1 {
            return Err(RelationError {
                column: 1,
                problem: format!("alternatives are not allowed in Provides: {}", cut(&display_group(&group))),
            });
        }
        let dep = group.into_iter().next().expect("a group holds at least one dependency");
        only_equal(&dep)?;
        out.push(dep);
    }
    Ok(out)
}

fn only_equal(dep: &Dependency<'_>) -> Result<(), RelationError> {
    match dep.constraint {
        Some((op, _)) if op != VersionOp::Equal => Err(RelationError {
            column: 1,
            problem: format!("Provides allows only '=' versions: {}", cut(&dep.to_string())),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(text: &str) -> String {
        parse_relations(text)
            .unwrap()
            .iter()
            .map(|g| display_group(g))
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn parses_real_fields() {
        let cases = [
            ("libc6 (>= 2.34)", "libc6 (>= 2.34)"),
            ("libc6(>=2.34),zlib1g", "libc6 (>= 2.34), zlib1g"),
            ("mawk | awk", "mawk | awk"),
            ("perl:any, python3:native", "perl:any, python3:native"),
            ("libc6-i386:x32", "libc6-i386:x32"),
            ("foo (< 1), bar (> 2)", "foo (<= 1), bar (>= 2)"),
            ("a [amd64 i386] | b [!amd64], c <!nocheck> <stage1>", "a | b, c"),
            ("  debconf (>= 0.5) |\n debconf-2.0 ,", "debconf (>= 0.5) | debconf-2.0"),
            ("", ""),
            ("   ", ""),
            ("libstdc++6 (>= 12), g++-12 (>= 12.2.0-1~)", "libstdc++6 (>= 12), g++-12 (>= 12.2.0-1~)"),
        ];
        for (input, want) in cases {
            assert_eq!(show(input), want, "{input:?}");
        }
    }

    #[test]
    fn arch_restrictions() {
        let g = parse_relations("a [amd64 i386], b [!amd64], c").unwrap();
        assert!(g[0][0].applies_to("amd64") && !g[0][0].applies_to("arm64"));
        assert!(!g[1][0].applies_to("amd64") && g[1][0].applies_to("arm64"));
        assert!(g[2][0].applies_to("amd64"));
    }

    #[test]
    fn rejects_bad_fields() {
        let cases = [
            ("libc6 (>= )", 11),
            ("libc6 (~ 1)", 8),
            ("Libc6", 1),
            ("a | , b", 5),
            ("a b", 3),
            ("a (>= 1", 8),
            ("a:", 3),
            ("a [amd64 !i386]", 15),
            ("-x", 1),
        ];
        for (input, column) in cases {
            let err = parse_relations(input).expect_err(input);
            assert_eq!(err.column, column, "{input:?}: {err}");
        }
    }

    #[test]
    fn provides() {
        let p = parse_provides("awk, libfoo (= 1.2)").unwrap();
        assert_eq!(p[1].constraint, Some((VersionOp::Equal, "1.2")));
        // The first problem in the order the whole field is read: its syntax
        // first, then each group's alternatives and version in turn.
        let error = |text: &str| parse_provides(text).unwrap_err().to_string();
        assert_eq!(error("a | b"), "column 1: alternatives are not allowed in Provides: a | b");
        assert_eq!(error("a (>= 1)"), "column 1: Provides allows only '=' versions: a (>= 1)");
        assert_eq!(error("a | b, c ("), "column 11: expected a version operator (<< <= = >= >>)");
        assert_eq!(error("a (>= 1), b | c"), error("a (>= 1)"));
        assert_eq!(error("a, b | c, d (>> 2)"), "column 1: alternatives are not allowed in Provides: b | c");
        assert_eq!(error("a, d (>> 2), b | c"), "column 1: Provides allows only '=' versions: d (>> 2)");
        assert_eq!(error("a b"), "column 3: expected ',' or '|'");
    }

    #[test]
    fn version_matching() {
        let g = parse_relations("a (>= 1.0), b (<< 2~), c").unwrap();
        assert!(g[0][0].version_matches("1.0") && !g[0][0].version_matches("0.9"));
        assert!(g[1][0].version_matches("2~~") && !g[1][0].version_matches("2"));
        assert!(g[2][0].version_matches("anything"));
    }
}
