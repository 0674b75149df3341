//! Writing Nix from a closure: string literals that carry any text as data,
//! valid store names, and the `{ fetchurl }: [ [ ... ] ]` expression that
//! nixpkgs' `deb-closure.pl` produced, one inner list per install group.
//!
//! Pure functions: no clock, host name or temporary path reaches the output.

use std::fmt::Write as _;

use crate::resolve::ClosurePackage;

/// The longest store-path name Nix accepts.
const MAX_STORE_NAME: usize = 211;

/// Why a value cannot be written as Nix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NixError {
    /// Nix strings cannot hold a NUL byte.
    #[error("{0:?} contains a NUL byte, which a Nix string cannot hold")]
    Nul(String),
    /// A package's archive has no URL prefix to download it from.
    #[error("no URL prefix for archive {archive} (package {package})")]
    NoPrefix {
        /// The archive.
        archive: String,
        /// A package from it.
        package: String,
    },
}

impl NixError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            NixError::NoPrefix { archive, .. } => {
                Some(format!("add `{archive} = [\"URL\"]` under [url-prefixes] in the spec and run `debclosure lock`"))
            }
            NixError::Nul(_) => None,
        }
    }
}

/// Quotes `s` as a Nix string literal that evaluates to exactly `s`: `"`, `\`
/// and `$` are escaped (so `${` never starts an interpolation), as are
/// newline, carriage return and tab.
pub fn nix_string(s: &str) -> Result<String, NixError> {
    if s.contains('\0') {
        return Err(NixError::Nul(s.to_owned()));
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// A valid Nix store name for a `.deb`: its base name, with each character
/// Nix refuses (such as `~` or `%`) replaced by `_`, no leading `.`, and at
/// most 211 characters (the end is kept, so the name still ends in `.deb`).
pub fn store_name(filename: &str) -> String {
    let base = filename.rsplit('/').next().unwrap_or(filename);
    let mut name: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "+-._?=".contains(c) { c } else { '_' })
        .collect();
    if name.is_empty() {
        name.push_str("deb");
    }
    if name.len() > MAX_STORE_NAME {
        name.drain(..name.len() - MAX_STORE_NAME);
    }
    // After cutting: the end that is kept may start with a period.
    if name.starts_with('.') {
        name.replace_range(..1, "_");
    }
    name
}

/// How each `fetchurl` names its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// `url = "<first prefix>/<Filename>";`, as deb-closure.pl wrote it.
    Single,
    /// `urls = [ ... ];`, one per prefix, tried in order.
    Mirrors,
}

/// Joins a URL prefix and an archive-relative file name.
pub fn join_url(prefix: &str, filename: &str) -> String {
    format!("{}/{}", prefix.trim_end_matches('/'), filename)
}

/// Renders `{ fetchurl }: [ [ (fetchurl { ... }) ... ] ... ]` with one inner
/// list per group. `packages` must be sorted by group; `header` lines become
/// `#` comments at the top.
pub fn render_fetchurl_groups(
    packages: &[ClosurePackage],
    prefixes: impl Fn(&ClosurePackage) -> Result<Vec<String>, NixError>,
    style: UrlStyle,
    header: &[String],
) -> Result<String, NixError> {
    let mut out = String::new();
    for line in header {
        for part in line.lines() {
            let _ = writeln!(out, "# {part}");
        }
    }
    out.push_str("{ fetchurl }:\n[\n");
    let mut group = None;
    for p in packages {
        if group != Some(p.group) {
            if group.is_some() {
                out.push_str("  ]\n");
            }
            out.push_str("  [\n");
            group = Some(p.group);
        }
        out.push_str("    (fetchurl {\n");
        let prefixes = prefixes(p)?;
        match style {
            UrlStyle::Single => {
                let prefix = prefixes.first().map_or("", String::as_str);
                let _ = writeln!(out, "      url = {};", nix_string(&join_url(prefix, &p.filename))?);
            }
            UrlStyle::Mirrors => {
                out.push_str("      urls = [\n");
                for prefix in &prefixes {
                    let _ = writeln!(out, "        {}", nix_string(&join_url(prefix, &p.filename))?);
                }
                out.push_str("      ];\n");
            }
        }
        let _ = writeln!(out, "      sha256 = {};", nix_string(&p.sha256.to_string())?);
        let _ = writeln!(out, "      name = {};", nix_string(&store_name(&p.filename))?);
        out.push_str("    })\n");
    }
    if group.is_some() {
        out.push_str("  ]\n");
    }
    out.push_str("]\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_data() {
        assert_eq!(nix_string("a\"b\\c${d}$e\n").unwrap(), r#""a\"b\\c\${d}\$e\n""#);
        assert!(nix_string("a\0").is_err());
    }

    #[test]
    fn store_names_are_valid() {
        assert_eq!(store_name("pool/main/u/usr-is-merged/usr-is-merged_37~deb12u1_all.deb"), "usr-is-merged_37_deb12u1_all.deb");
        assert_eq!(store_name("pool/.hidden%3a1.deb"), "_hidden_3a1.deb");
        let long = format!("pool/{}.deb", "a".repeat(300));
        let name = store_name(&long);
        assert_eq!(name.len(), 211);
        assert!(name.ends_with(".deb"));
    }

    /// Issue 8 (found by the `nix` fuzz target): a name cut to its last 211
    /// characters started with the period that happened to be there.
    #[test]
    fn store_name_cut_at_a_period_does_not_start_with_one() {
        let name = store_name(&format!("pool/{}.{}.deb", "a".repeat(6), "b".repeat(206)));
        assert_eq!(name.len(), 211);
        assert_eq!(name, format!("_{}.deb", "b".repeat(206)));
    }
}
