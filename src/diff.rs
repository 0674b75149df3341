//! Differences between two locks (or a lock and a fresh resolution): the
//! request, the packages (added, removed, upgraded, downgraded, changed) and
//! the choices, in a stable order, as text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::lock::Request;
use crate::resolve::{Choice, ClosurePackage};
use crate::version;

/// How one package differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum PackageChange {
    /// Only in the new closure.
    Added {
        /// Package name.
        name: String,
        /// Its version.
        version: String,
    },
    /// Only in the old closure.
    Removed {
        /// Package name.
        name: String,
        /// Its version.
        version: String,
    },
    /// A higher version.
    Upgraded {
        /// Package name.
        name: String,
        /// Old version.
        from: String,
        /// New version.
        to: String,
    },
    /// A lower version.
    Downgraded {
        /// Package name.
        name: String,
        /// Old version.
        from: String,
        /// New version.
        to: String,
    },
    /// Same version, other file, hash, size, group or reason.
    Changed {
        /// Package name.
        name: String,
        /// The version.
        version: String,
        /// (field, old, new)
        fields: Vec<(String, String, String)>,
    },
}

/// A choice that came out differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceChange {
    /// The relation.
    pub relation: String,
    /// Who needed it (absent for the request).
    pub required_by: Option<String>,
    /// The old pick, if the choice was made before.
    pub from: Option<String>,
    /// The new pick, if the choice is still made.
    pub to: Option<String>,
}

/// Everything that differs, empty when the two agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockDiff {
    /// Request fields that differ, as `field: old -> new` lines.
    pub request: Vec<String>,
    /// Package changes, by name.
    pub packages: Vec<PackageChange>,
    /// Choice changes.
    pub choices: Vec<ChoiceChange>,
}

impl LockDiff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty() && self.packages.is_empty() && self.choices.is_empty()
    }

    /// One line per difference.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for r in &self.request {
            let _ = writeln!(out, "request {r}");
        }
        for p in &self.packages {
            let _ = match p {
                PackageChange::Added { name, version } => writeln!(out, "+ {name} {version}"),
                PackageChange::Removed { name, version } => writeln!(out, "- {name} {version}"),
                PackageChange::Upgraded { name, from, to } => writeln!(out, "^ {name} {from} -> {to}"),
                PackageChange::Downgraded { name, from, to } => writeln!(out, "v {name} {from} -> {to} (downgrade)"),
                PackageChange::Changed { name, version, fields } => {
                    let parts: Vec<String> = fields.iter().map(|(f, a, b)| format!("{f} {a} -> {b}")).collect();
                    writeln!(out, "~ {name} {version}: {}", parts.join(", "))
                }
            };
        }
        for c in &self.choices {
            let by = c.required_by.as_deref().unwrap_or("the request");
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(no choice)".into());
            let _ = writeln!(out, "choice {} (for {by}): {} -> {}", c.relation, show(&c.from), show(&c.to));
        }
        out
    }
}

/// Compares two requests field by field.
pub fn diff_requests(old: &Request, new: &Request) -> Vec<String> {
    let (a, b) = (serde_json::to_value(old), serde_json::to_value(new));
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (a, b) else {
        return vec!["cannot be compared".into()];
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let none = serde_json::Value::Null;
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = (a.get(k).unwrap_or(&none), b.get(k).unwrap_or(&none));
            (x != y).then(|| format!("{k}: {x} -> {y}"))
        })
        .collect()
}

/// Compares two closures and their choices.
pub fn diff_closures(
    old: &[ClosurePackage],
    new: &[ClosurePackage],
    old_choices: &[Choice],
    new_choices: &[Choice],
) -> (Vec<PackageChange>, Vec<ChoiceChange>) {
    let key = |p: &ClosurePackage| (p.name.clone(), p.architecture.clone());
    let a: BTreeMap<_, &ClosurePackage> = old.iter().map(|p| (key(p), p)).collect();
    let b: BTreeMap<_, &ClosurePackage> = new.iter().map(|p| (key(p), p)).collect();
    let mut keys: Vec<_> = a.keys().chain(b.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    let mut packages = Vec::new();
    for k in keys {
        let name = k.0.clone();
        match (a.get(&k), b.get(&k)) {
            (None, Some(n)) => packages.push(PackageChange::Added { name, version: n.version.clone() }),
            (Some(o), None) => packages.push(PackageChange::Removed { name, version: o.version.clone() }),
            (Some(o), Some(n)) => match version::compare(&o.version, &n.version) {
                std::cmp::Ordering::Less => {
                    packages.push(PackageChange::Upgraded { name, from: o.version.clone(), to: n.version.clone() })
                }
                std::cmp::Ordering::Greater => {
                    packages.push(PackageChange::Downgraded { name, from: o.version.clone(), to: n.version.clone() })
                }
                std::cmp::Ordering::Equal => {
                    let mut fields = Vec::new();
                    let mut field = |f: &str, x: String, y: String| {
                        if x != y {
                            fields.push((f.to_owned(), x, y));
                        }
                    };
                    field("filename", o.filename.clone(), n.filename.clone());
                    field("sha256", o.sha256.to_string(), n.sha256.to_string());
                    field("size", o.size.to_string(), n.size.to_string());
                    field("group", o.group.to_string(), n.group.to_string());
                    field("archive", format!("{:?}", o.archive), format!("{:?}", n.archive));
                    field("why", json(&o.why), json(&n.why));
                    if !fields.is_empty() {
                        packages.push(PackageChange::Changed { name, version: n.version.clone(), fields });
                    }
                }
            },
            (None, None) => unreachable!("keys come from one of the maps"),
        }
    }
    let ckey = |c: &Choice| (c.required_by.clone(), c.relation.clone());
    let ca: BTreeMap<_, &Choice> = old_choices.iter().map(|c| (ckey(c), c)).collect();
    let cb: BTreeMap<_, &Choice> = new_choices.iter().map(|c| (ckey(c), c)).collect();
    let mut ckeys: Vec<_> = ca.keys().chain(cb.keys()).cloned().collect();
    ckeys.sort();
    ckeys.dedup();
    let mut choices = Vec::new();
    for k in ckeys {
        let (from, to) = (ca.get(&k).map(|c| c.chosen.clone()), cb.get(&k).map(|c| c.chosen.clone()));
        let rules_differ = ca.get(&k).map(|c| c.rule) != cb.get(&k).map(|c| c.rule);
        if from != to || rules_differ {
            choices.push(ChoiceChange { relation: k.1, required_by: k.0, from, to });
        }
    }
    (packages, choices)
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::{Rule, Why};

    fn pkg(name: &str, version: &str, sha: char) -> ClosurePackage {
        ClosurePackage {
            name: name.into(),
            version: version.into(),
            architecture: "amd64".into(),
            archive: None,
            filename: format!("pool/{name}_{version}.deb"),
            sha256: sha.to_string().repeat(64).parse().unwrap(),
            size: 1,
            group: 0,
            why: Why::Requested,
        }
    }

    #[test]
    fn classifies_every_change() {
        let old = [pkg("a", "1", 'a'), pkg("b", "2", 'b'), pkg("c", "3", 'c'), pkg("d", "1", 'd')];
        let new = [pkg("b", "3", 'b'), pkg("c", "2", 'c'), pkg("d", "1", 'e'), pkg("e", "1", 'f')];
        let choice = |chosen: &str| Choice {
            required_by: Some("x".into()),
            relation: "awk".into(),
            candidates: vec!["gawk".into(), "mawk".into()],
            chosen: chosen.into(),
            rule: Rule::Preference,
        };
        let (p, c) = diff_closures(&old, &new, &[choice("mawk")], &[choice("gawk")]);
        let text = LockDiff { request: vec![], packages: p, choices: c }.render_text();
        let want = "- a 1\n^ b 2 -> 3\nv c 3 -> 2 (downgrade)\n~ d 1: sha256 dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd -> eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\n+ e 1\nchoice awk (for x): mawk -> gawk\n";
        assert_eq!(text, want);
        let (p, c) = diff_closures(&old, &old, &[choice("mawk")], &[choice("mawk")]);
        assert!(p.is_empty() && c.is_empty());
    }
}
