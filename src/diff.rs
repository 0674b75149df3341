//! Differences between two locks (or a lock and a fresh resolution): the
//! request, the packages (added, removed, and changed field by field) and the
//! choices, in a stable order. [`crate::changes`] renders them for people and
//! programs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::archive::ReleaseRecord;
use crate::lock::Request;
use crate::resolve::{Choice, ClosurePackage, Why};
use crate::version;

/// One difference of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RequestChange {
    /// A list or table (`packages`, `exclude`, `sources`, `preferences`,
    /// `url_prefixes`): the items only in the new one, and only in the old.
    List {
        /// The request field.
        field: String,
        /// Items only in the new request, in its order.
        added: Vec<String>,
        /// Items only in the old request, in its order.
        removed: Vec<String>,
    },
    /// A single value (`architecture`, `recommends`, `snapshot`, …), or a
    /// list whose items are the same in another order (`packages`, whose
    /// order matters to the walk).
    Value {
        /// The request field.
        field: String,
        /// The old value, as JSON text (`null` when absent).
        from: String,
        /// The new value, as JSON text.
        to: String,
    },
    /// Something that differs as a whole (`request_sha256`, `assumed`).
    Note {
        /// What it is about.
        field: String,
        /// What differs, in words.
        note: String,
    },
}

/// A package, as added or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageEntry {
    /// Package name.
    pub name: String,
    /// Architecture (the target or `all`).
    pub architecture: String,
    /// Version.
    pub version: String,
    /// Why it is (or was) in the closure, in words (see [`why_text`]).
    pub why: String,
    /// The reason itself, for the text renderer.
    #[serde(skip)]
    pub reason: Why,
}

/// What changed about a package in both closures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A higher version (Debian order).
    Upgraded,
    /// A lower version (Debian order).
    Downgraded,
    /// The version text, equal in Debian order (`1.0` and `0:1.0`).
    Version,
    /// Same version, another archive.
    Archive,
    /// Same version, another file name.
    Filename,
    /// Same version, another SHA256.
    Sha256,
    /// Same version, another size.
    Size,
    /// Another install group.
    Group,
    /// Pulled in for another reason.
    Reason,
}

/// One field of one package that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// Package name.
    pub name: String,
    /// Architecture.
    pub architecture: String,
    /// What changed.
    pub change: ChangeKind,
    /// The old value, as text (a reason as [`why_text`] writes it).
    pub from: String,
    /// The new value, as text.
    pub to: String,
    /// The version in the new closure.
    #[serde(skip)]
    pub version: String,
    /// For [`ChangeKind::Reason`]: the old and new reasons.
    #[serde(skip)]
    pub reasons: Option<(Why, Why)>,
}

/// A choice that came out differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceChange {
    /// The relation.
    pub relation: String,
    /// Who needed it (`null` for the request).
    pub required_by: Option<String>,
    /// The old pick, if the choice was made before.
    pub from: Option<String>,
    /// The new pick, if the choice is still made.
    pub to: Option<String>,
}

/// The keys that signed a suite's Release file, when they changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerChange {
    /// The archive.
    pub archive: String,
    /// The suite.
    pub suite: String,
    /// The old lock's fingerprints (empty: not recorded).
    pub from: Vec<String>,
    /// The new lock's fingerprints (empty: signatures not checked).
    pub to: Vec<String>,
}

/// Everything that differs, empty when the two agree. Each list is sorted:
/// requests by field, packages by (name, architecture), changes then by
/// [`ChangeKind`], choices by (required by, relation), signers by (archive,
/// suite).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LockDiff {
    /// Request differences.
    pub request: Vec<RequestChange>,
    /// Packages only in the new closure.
    pub added: Vec<PackageEntry>,
    /// Packages only in the old closure.
    pub removed: Vec<PackageEntry>,
    /// Fields of packages in both that differ.
    pub changed: Vec<FieldChange>,
    /// Choices that came out differently.
    pub choices: Vec<ChoiceChange>,
    /// Suites whose Release files were signed by other keys.
    pub signers: Vec<SignerChange>,
}

impl LockDiff {
    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.request.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.choices.is_empty()
            && self.signers.is_empty()
    }

    /// How many changes there are of `kind`.
    pub fn count(&self, kind: ChangeKind) -> usize {
        self.changed.iter().filter(|c| c.change == kind).count()
    }
}

/// The suites of `new` whose signing keys differ from `old`'s, in (archive,
/// suite) order; a suite only one of them has is a request change, not this.
pub fn diff_signers(old: &[ReleaseRecord], new: &[ReleaseRecord]) -> Vec<SignerChange> {
    let mut out: Vec<SignerChange> = new
        .iter()
        .filter_map(|n| {
            let o = old.iter().find(|o| (&o.archive, &o.suite) == (&n.archive, &n.suite))?;
            (o.signed_by != n.signed_by).then(|| SignerChange {
                archive: n.archive.clone(),
                suite: n.suite.clone(),
                from: o.signed_by.clone(),
                to: n.signed_by.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.archive, &a.suite).cmp(&(&b.archive, &b.suite)));
    out
}

/// A reason in words: `requested`, `base`, or `PACKAGE FIELD: RELATION`
/// (`htop Depends: libc6 (>= 2.34)`).
pub fn why_text(why: &Why) -> String {
    match why {
        Why::Requested => "requested".into(),
        Why::Base => "base".into(),
        Why::Dependency { package, field, relation } => format!("{package} {field}: {relation}"),
    }
}

/// Compares two requests field by field.
pub fn diff_requests(old: &Request, new: &Request) -> Vec<RequestChange> {
    let (a, b) = (serde_json::to_value(old), serde_json::to_value(new));
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) = (a, b) else {
        return vec![RequestChange::Note { field: "request".into(), note: "cannot be compared".into() }];
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let none = serde_json::Value::Null;
    let mut changes = Vec::new();
    for k in keys {
        let (x, y) = (a.get(k).unwrap_or(&none), b.get(k).unwrap_or(&none));
        if x == y {
            continue;
        }
        let field = k.clone();
        match (items(x), items(y)) {
            (Some(old), Some(new)) => {
                let added: Vec<String> = new.iter().filter(|i| !old.contains(i)).cloned().collect();
                let removed: Vec<String> = old.iter().filter(|i| !new.contains(i)).cloned().collect();
                if added.is_empty() && removed.is_empty() {
                    changes.push(RequestChange::Value { field, from: x.to_string(), to: y.to_string() });
                } else {
                    changes.push(RequestChange::List { field, added, removed });
                }
            }
            _ => changes.push(RequestChange::Value { field, from: x.to_string(), to: y.to_string() }),
        }
    }
    changes
}

/// The items of a list or table as text: strings as they are, other values
/// as JSON, table entries as `key = value`.
fn items(v: &serde_json::Value) -> Option<Vec<String>> {
    let item = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match v {
        serde_json::Value::Array(a) => Some(a.iter().map(item).collect()),
        serde_json::Value::Object(m) => Some(m.iter().map(|(k, v)| format!("{k} = {}", item(v))).collect()),
        _ => None,
    }
}

/// Compares two closures and their choices into `diff`.
pub fn diff_closures(
    diff: &mut LockDiff,
    old: &[ClosurePackage],
    new: &[ClosurePackage],
    old_choices: &[Choice],
    new_choices: &[Choice],
) {
    let key = |p: &ClosurePackage| (p.name.clone(), p.architecture.clone());
    let a: BTreeMap<_, &ClosurePackage> = old.iter().map(|p| (key(p), p)).collect();
    let b: BTreeMap<_, &ClosurePackage> = new.iter().map(|p| (key(p), p)).collect();
    let keys: BTreeSet<_> = a.keys().chain(b.keys()).cloned().collect();
    let entry = |p: &ClosurePackage| PackageEntry {
        name: p.name.clone(),
        architecture: p.architecture.clone(),
        version: p.version.clone(),
        why: why_text(&p.why),
        reason: p.why.clone(),
    };
    for k in keys {
        let (o, n) = match (a.get(&k), b.get(&k)) {
            (None, Some(n)) => {
                diff.added.push(entry(n));
                continue;
            }
            (Some(o), None) => {
                diff.removed.push(entry(o));
                continue;
            }
            (Some(o), Some(n)) => (*o, *n),
            (None, None) => unreachable!("keys come from one of the maps"),
        };
        let mut field = |change: ChangeKind, x: String, y: String| {
            if x != y {
                let reasons = (change == ChangeKind::Reason).then(|| (o.why.clone(), n.why.clone()));
                diff.changed.push(FieldChange {
                    name: k.0.clone(),
                    architecture: k.1.clone(),
                    change,
                    from: x,
                    to: y,
                    version: n.version.clone(),
                    reasons,
                });
            }
        };
        let version_change = match version::compare(&o.version, &n.version) {
            std::cmp::Ordering::Less => ChangeKind::Upgraded,
            std::cmp::Ordering::Greater => ChangeKind::Downgraded,
            std::cmp::Ordering::Equal => ChangeKind::Version,
        };
        field(version_change, o.version.clone(), n.version.clone());
        if version_change == ChangeKind::Version {
            // Another version brings another file; only the same version's
            // file, hash or size changing is news.
            field(ChangeKind::Archive, o.archive.clone().unwrap_or_default(), n.archive.clone().unwrap_or_default());
            field(ChangeKind::Filename, o.filename.clone(), n.filename.clone());
            field(ChangeKind::Sha256, o.sha256.to_string(), n.sha256.to_string());
            field(ChangeKind::Size, o.size.to_string(), n.size.to_string());
        }
        field(ChangeKind::Group, o.group.to_string(), n.group.to_string());
        field(ChangeKind::Reason, why_text(&o.why), why_text(&n.why));
    }
    let ckey = |c: &Choice| (c.required_by.clone(), c.relation.clone());
    let ca: BTreeMap<_, &Choice> = old_choices.iter().map(|c| (ckey(c), c)).collect();
    let cb: BTreeMap<_, &Choice> = new_choices.iter().map(|c| (ckey(c), c)).collect();
    let ckeys: BTreeSet<_> = ca.keys().chain(cb.keys()).cloned().collect();
    for k in ckeys {
        let (from, to) = (ca.get(&k).map(|c| c.chosen.clone()), cb.get(&k).map(|c| c.chosen.clone()));
        let rules_differ = ca.get(&k).map(|c| c.rule) != cb.get(&k).map(|c| c.rule);
        if from != to || rules_differ {
            diff.choices.push(ChoiceChange { relation: k.1, required_by: k.0, from, to });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Rule;

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
        let old = [pkg("a", "1", 'a'), pkg("b", "2", 'b'), pkg("c", "3", 'c'), pkg("d", "1", 'd'), pkg("f", "1.0", 'f')];
        let mut new = vec![pkg("b", "3", 'b'), pkg("c", "2", 'c'), pkg("d", "1", 'e'), pkg("e", "1", 'f')];
        new.push(ClosurePackage { group: 1, filename: "pool/f_1.0.deb".into(), ..pkg("f", "0:1.0", 'f') });
        new[0].why = Why::Dependency { package: "e".into(), field: "Depends".into(), relation: "b".into() };
        let choice = |chosen: &str| Choice {
            required_by: Some("x".into()),
            relation: "awk".into(),
            candidates: vec!["gawk".into(), "mawk".into()],
            chosen: chosen.into(),
            rule: Rule::Preference,
        };
        let mut diff = LockDiff::default();
        diff_closures(&mut diff, &old, &new, &[choice("mawk")], &[choice("gawk")]);
        let names = |v: &[PackageEntry]| v.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&diff.added), ["e"]);
        assert_eq!(names(&diff.removed), ["a"]);
        let changed: Vec<_> = diff.changed.iter().map(|c| (c.name.as_str(), c.change)).collect();
        use ChangeKind::*;
        assert_eq!(changed, [("b", Upgraded), ("b", Reason), ("c", Downgraded), ("d", Sha256), ("f", Version), ("f", Group)]);
        assert_eq!(diff.changed[1].to, "e Depends: b");
        assert_eq!(diff.choices.len(), 1);
        let mut same = LockDiff::default();
        diff_closures(&mut same, &old, &old, &[choice("mawk")], &[choice("mawk")]);
        assert!(same.is_empty());
    }

    #[test]
    fn request_lists_become_items_added_and_removed() {
        let json = |packages: &[&str]| {
            serde_json::json!({"packages": packages, "recommends": false})
        };
        let (a, b) = (json(&["bash", "mawk"]), json(&["bash", "htop"]));
        assert_eq!(items(&a["packages"]).unwrap(), ["bash", "mawk"]);
        let (x, y) = (items(&a["packages"]).unwrap(), items(&b["packages"]).unwrap());
        assert!(x.contains(&"mawk".to_owned()) && y.contains(&"htop".to_owned()));
        let table = serde_json::json!({"awk": "mawk"});
        assert_eq!(items(&table).unwrap(), ["awk = mawk"]);
    }
}
