//! What the user asks for and how ties are broken: requested packages
//! (`name`, `name=version`, `name/suite`), the provider-preference table, the
//! base set and the other resolver options.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::relation;
use crate::version;

/// Built-in provider preferences: what Debian itself installs where several
/// packages provide one virtual name. `awk` goes to `mawk` (Priority:
/// required), not `original-awk`, which breaks live-build.
pub const DEFAULT_PREFERENCES: &[(&str, &str)] = &[("awk", "mawk")];

/// Why a request, preference or option is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A requested package does not parse.
    #[error("bad package request {0:?}: {1}")]
    BadRequest(String, String),
    /// A `--prefer` entry does not parse.
    #[error("bad preference {0:?}: expected NAME=PACKAGE or \"a | b\"=PACKAGE")]
    BadPreference(String),
    /// A preferences file does not parse.
    #[error("{file}: {problem}")]
    BadPreferencesFile {
        /// The file.
        file: String,
        /// What is wrong, with its line where known.
        problem: String,
    },
}

impl PolicyError {
    /// What the user can do about it: nothing beyond what the message says
    /// is expected.
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// A requested package: `name`, `name=version` or `name/suite`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestedPackage {
    /// The package (or virtual package) name.
    pub name: String,
    /// An exact version (`name=version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A suite to take it from (`name/suite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
}

impl RequestedPackage {
    /// Parses `name`, `name=version` or `name/suite`.
    pub fn parse(s: &str) -> Result<Self, PolicyError> {
        let bad = |why: String| PolicyError::BadRequest(s.to_owned(), why);
        let (name, version, suite) = if let Some((n, v)) = s.split_once('=') {
            version::validate(v).map_err(|e| bad(e.to_string()))?;
            (n, Some(v.to_owned()), None)
        } else if let Some((n, suite)) = s.split_once('/') {
            if suite.is_empty() || suite.contains(char::is_whitespace) {
                return Err(bad("expected a suite name after '/'".into()));
            }
            (n, None, Some(suite.to_owned()))
        } else {
            (s, None, None)
        };
        if !relation::is_valid_package_name(name) {
            return Err(bad(format!("{name:?} is not a valid package name")));
        }
        Ok(RequestedPackage {
            name: name.to_owned(),
            version,
            suite,
        })
    }
}

impl fmt::Display for RequestedPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(v) = &self.version {
            write!(f, "={v}")?;
        }
        if let Some(s) = &self.suite {
            write!(f, "/{s}")?;
        }
        Ok(())
    }
}

/// Which packages are added besides the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Base {
    /// Only the request (what deb-closure.pl does).
    #[default]
    None,
    /// Every `Essential: yes` package.
    Essential,
    /// Every `Essential: yes` and every `Priority: required` package.
    Required,
}

/// The provider-preference table: a virtual name, or a group of alternatives
/// written `a | b`, mapped to the package to take.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Preferences(BTreeMap<String, String>);

impl Preferences {
    /// The built-in table ([`DEFAULT_PREFERENCES`]).
    pub fn builtin() -> Self {
        let mut p = Preferences::default();
        for (k, v) in DEFAULT_PREFERENCES {
            p.0.insert((*k).to_owned(), (*v).to_owned());
        }
        p
    }

    /// Adds or replaces an entry; the key is normalized (`a|b` becomes `a | b`).
    pub fn insert(&mut self, key: &str, package: &str) {
        self.0.insert(normalize_key(key), package.to_owned());
    }

    /// Parses a `NAME=PACKAGE` command-line entry into the table.
    pub fn insert_arg(&mut self, arg: &str) -> Result<(), PolicyError> {
        let (k, v) = arg
            .rsplit_once('=')
            .ok_or_else(|| PolicyError::BadPreference(arg.to_owned()))?;
        let key = normalize_key(k);
        let valid = !key.is_empty()
            && key.split(" | ").all(relation::is_valid_package_name)
            && relation::is_valid_package_name(v.trim());
        if !valid {
            return Err(PolicyError::BadPreference(arg.to_owned()));
        }
        self.0.insert(key, v.trim().to_owned());
        Ok(())
    }

    /// Merges a TOML table of `name = "package"` entries (keys may be
    /// `"a | b"`); `file` names it in errors.
    pub fn merge_toml(&mut self, text: &str, file: &str) -> Result<(), PolicyError> {
        let table: BTreeMap<String, toml::Value> =
            toml::from_str(text).map_err(|e| PolicyError::BadPreferencesFile {
                file: file.to_owned(),
                problem: e.to_string().trim_end().to_owned(),
            })?;
        for (k, v) in table {
            let toml::Value::String(v) = v else {
                return Err(PolicyError::BadPreferencesFile {
                    file: file.to_owned(),
                    problem: format!("value of {k:?} must be a package name in quotes"),
                });
            };
            self.insert_arg(&format!("{k}={v}")).map_err(|e| PolicyError::BadPreferencesFile {
                file: file.to_owned(),
                problem: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// The preferred package for a virtual name or a normalized group key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// `a|b` and `a | b` name the same group.
fn normalize_key(key: &str) -> String {
    key.split('|').map(str::trim).collect::<Vec<_>>().join(" | ")
}

/// Everything that steers the resolver besides the index and the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Provider preferences (defaults, then file, then command line).
    pub preferences: Preferences,
    /// Packages never added; a dependency only they satisfy is assumed met.
    pub exclude: BTreeSet<String>,
    /// Follow Recommends too.
    pub with_recommends: bool,
    /// Fail rather than pick a provider by Priority or name.
    pub strict: bool,
    /// Packages added besides the request.
    pub base: Base,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        let r = RequestedPackage::parse("libc6=2.36-9").unwrap();
        assert_eq!((r.name.as_str(), r.version.as_deref()), ("libc6", Some("2.36-9")));
        let r = RequestedPackage::parse("git/bookworm-backports").unwrap();
        assert_eq!(r.suite.as_deref(), Some("bookworm-backports"));
        assert_eq!(r.to_string(), "git/bookworm-backports");
        for bad in ["", "Git", "a=", "a=1 2", "a/", "-x"] {
            assert!(RequestedPackage::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn preferences_layer() {
        let mut p = Preferences::builtin();
        assert_eq!(p.get("awk"), Some("mawk"));
        p.merge_toml("awk = \"gawk\"\n\"mail-transport-agent|default-mta\" = \"exim4\"\n", "f.toml")
            .unwrap();
        assert_eq!(p.get("awk"), Some("gawk"));
        assert_eq!(p.get("mail-transport-agent | default-mta"), Some("exim4"));
        p.insert_arg("awk=original-awk").unwrap();
        assert_eq!(p.get("awk"), Some("original-awk"));
        assert!(p.insert_arg("awk").is_err());
        assert!(p.insert_arg("=mawk").is_err());
        let err = p.merge_toml("awk = 1\n", "f.toml").unwrap_err();
        assert!(err.to_string().starts_with("f.toml: value of \"awk\""), "{err}");
        let err = p.merge_toml("awk = \n", "f.toml").unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
