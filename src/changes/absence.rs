//! Why a package is not in a closure (`debclosure why NAME` for a name the
//! lock does not hold): the choices between providers or alternatives that
//! passed it over, and its exclusion with the relations assumed met in its
//! place. Everything comes from the lock's `choices`, `assumed` and
//! `request.exclude`, and, when the indices the lock pins are at hand (in
//! the cache), from them: whether the name is known at all, and which
//! virtual packages it provides were met by another package
//! ([`add_index_facts`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::index::Index;
use crate::resolve::{Assumed, Choice, ClosurePackage, Preferences, Rule};

/// How a choice that passed a package over was between candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChoiceKind {
    /// Packages that provide one name (`awk`: mawk, gawk, original-awk).
    Providers,
    /// The alternatives of a relation (`mawk | gawk`).
    Alternatives,
}

/// A choice, made once or for several packages alike, that passed a package
/// over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassedOver {
    /// The relation as written (`awk`, `mawk | gawk`).
    pub relation: String,
    /// Providers of one name, or alternatives.
    pub kind: ChoiceKind,
    /// The package taken.
    pub chosen: String,
    /// The rule that took it.
    pub rule: Rule,
    /// The packages whose relation it was, sorted; empty for the request.
    pub required_by: Vec<String>,
    /// The candidates not taken, in the order they were considered.
    pub passed_over: Vec<String>,
}

/// An exclusion that stood for a package: a relation assumed met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssumedFor {
    /// The package whose relation it is.
    pub required_by: String,
    /// The relation as written.
    pub relation: String,
}

/// What became of a package that is not in a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Absence {
    /// The package.
    pub package: String,
    /// Always `false`: tells this shape from an [`Explanation`].
    pub in_closure: bool,
    /// Whether the request excludes it.
    pub excluded: bool,
    /// Relations assumed met although only it would meet them (it is
    /// excluded), sorted.
    pub assumed: Vec<AssumedFor>,
    /// Choices that took another candidate, sorted by relation, then the
    /// package taken.
    pub choices: Vec<PassedOver>,
    /// What the pinned indices say; `null` when they were not at hand.
    pub indices: Option<IndexFacts>,
}

/// What the indices a lock pins say of a package not in its closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexFacts {
    /// Whether any package of the indices has the name.
    pub known: bool,
    /// The virtual packages it provides that a package of the closure
    /// provides (or is), sorted by name; choices already in
    /// [`Absence::choices`] are left out.
    pub provides: Vec<PassedOver>,
}

impl Absence {
    /// Whether anything is known about the package: the lock names it, or
    /// the pinned indices hold it.
    pub fn is_known(&self) -> bool {
        self.excluded
            || !self.assumed.is_empty()
            || !self.choices.is_empty()
            || self.indices.as_ref().is_some_and(|i| i.known)
    }
}

/// Adds to `absence` what `index` (the lock's pinned indices) says: whether
/// the name is known, and for each virtual package it provides, which
/// package of the `closure` meets it and by which rule (the `preferences`
/// table, a real package of that name, or a provider that is in the closure
/// anyway).
pub fn add_index_facts(absence: &mut Absence, index: &Index, preferences: &Preferences, closure: &[ClosurePackage]) {
    let name = absence.package.as_str();
    let versions = index.versions(name);
    let in_closure: BTreeSet<&str> = closure.iter().map(|p| p.name.as_str()).collect();
    let virtuals: BTreeSet<&str> =
        versions.iter().flat_map(|id| index.provides(*id).iter().map(|d| d.name)).collect();
    let mut provides = Vec::new();
    for v in virtuals {
        let named = |relation: &str| relation.split('|').any(|a| a.split_whitespace().next() == Some(v));
        if absence.choices.iter().any(|c| named(&c.relation)) {
            continue;
        }
        let providers: BTreeSet<&str> = index.providers(v).iter().map(|(id, _)| index.package(*id).name).collect();
        let preferred = preferences.get(v).filter(|p| in_closure.contains(p));
        let (chosen, rule) = match preferred {
            Some(p) => (p, Rule::Preference),
            None if in_closure.contains(v) => (v, Rule::RealPackage),
            None => match providers.iter().find(|p| in_closure.contains(*p)) {
                Some(p) => (*p, Rule::AlreadyChosen),
                None => continue,
            },
        };
        provides.push(PassedOver {
            relation: v.to_owned(),
            kind: ChoiceKind::Providers,
            chosen: chosen.to_owned(),
            rule,
            required_by: Vec::new(),
            passed_over: providers.iter().filter(|p| **p != chosen).map(|p| p.to_string()).collect(),
        });
    }
    absence.indices = Some(IndexFacts { known: !versions.is_empty(), provides });
}

/// The rule in a few words, for `why` and for change reports.
pub fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::Requested => "requested",
        Rule::AlreadyChosen => "already in the closure",
        Rule::Preference => "preference table",
        Rule::FirstAlternative => "first alternative with a candidate",
        Rule::RealPackage => "a real package before providers",
        Rule::Priority => "highest Priority",
        Rule::Name => "first by name",
        Rule::EarlierCandidatesFailed => "earlier candidates failed",
    }
}

/// What became of `name`, which is not among a closure's packages: the
/// `choices` that passed it over, grouped when several packages made the
/// same choice, and the `assumed` relations it stood for when the request
/// `exclude`s it.
pub fn explain_absence(choices: &[Choice], assumed: &[Assumed], exclude: &[&str], name: &str) -> Absence {
    let mut grouped: BTreeMap<(String, String, ChoiceKind), PassedOver> = BTreeMap::new();
    for c in choices.iter().filter(|c| c.chosen != name && c.candidates.iter().any(|n| n == name)) {
        let kind = if c.relation.contains('|') { ChoiceKind::Alternatives } else { ChoiceKind::Providers };
        let entry = grouped.entry((c.relation.clone(), c.chosen.clone(), kind)).or_insert_with(|| PassedOver {
            relation: c.relation.clone(),
            kind,
            chosen: c.chosen.clone(),
            rule: c.rule,
            required_by: Vec::new(),
            passed_over: c.candidates.iter().filter(|n| **n != c.chosen).cloned().collect(),
        });
        entry.required_by.extend(c.required_by.clone());
    }
    let mut choices: Vec<PassedOver> = grouped.into_values().collect();
    for c in &mut choices {
        c.required_by.sort();
        c.required_by.dedup();
    }
    let mut assumed: Vec<AssumedFor> = assumed
        .iter()
        .filter(|a| a.name == name)
        .map(|a| AssumedFor { required_by: a.required_by.clone(), relation: a.relation.clone() })
        .collect();
    assumed.sort_by(|a, b| (&a.required_by, &a.relation).cmp(&(&b.required_by, &b.relation)));
    Absence { package: name.to_owned(), in_closure: false, excluded: exclude.contains(&name), assumed, choices, indices: None }
}

impl std::fmt::Display for Absence {
    /// One line: `original-awk: not chosen; awk was met by mawk (preference
    /// table); gawk and original-awk were passed over`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use super::and_list;
        let mut parts = Vec::new();
        if self.excluded {
            let mut part = "excluded by the request".to_owned();
            if !self.assumed.is_empty() {
                let by: Vec<String> = self.assumed.iter().map(|a| format!("{} ({})", a.required_by, a.relation)).collect();
                part.push_str(&format!(", and assumed present for {}", and_list(&by)));
            }
            parts.push(part);
        }
        let provides = self.indices.as_ref().map_or(&[][..], |i| &i.provides[..]);
        if !self.choices.is_empty() || !provides.is_empty() {
            parts.push("not chosen".to_owned());
        }
        let all: Vec<&PassedOver> = self.choices.iter().chain(provides).collect();
        // One short line: the first choices, and a count of the rest.
        const SHOWN: usize = 2;
        for c in all.iter().take(SHOWN) {
            let what = match c.kind {
                ChoiceKind::Providers => c.relation.clone(),
                ChoiceKind::Alternatives => format!("the relation {}", c.relation),
            };
            let verb = if c.passed_over.len() == 1 { "was" } else { "were" };
            parts.push(format!(
                "{what} was met by {} ({}); {} {verb} passed over",
                c.chosen,
                rule_words(c.rule),
                and_list(&c.passed_over)
            ));
        }
        if all.len() > SHOWN {
            parts.push(format!("and {} more choices (--format json lists them)", all.len() - SHOWN));
        }
        if parts.is_empty() {
            parts.push(
                match &self.indices {
                    None => "not in the closure, and nothing in the lock names it",
                    Some(i) if i.known => "in the indices, but nothing in the closure needs it",
                    Some(_) => "unknown: no package of the indices the lock pins has this name",
                }
                .to_owned(),
            );
        }
        write!(f, "{}: {}", self.package, parts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_package_names_the_choice_that_passed_it_over() {
        let choice = |by: &str, relation: &str, candidates: &[&str], chosen: &str, rule| Choice {
            required_by: Some(by.into()),
            relation: relation.into(),
            candidates: candidates.iter().map(|c| c.to_string()).collect(),
            chosen: chosen.into(),
            rule,
        };
        let providers = ["gawk", "mawk", "original-awk"];
        let choices = [
            choice("base-files", "awk", &providers, "mawk", Rule::Preference),
            choice("app", "awk", &providers, "mawk", Rule::Preference),
            choice("app", "foo | bar", &["foo", "bar"], "foo", Rule::FirstAlternative),
        ];
        let a = explain_absence(&choices, &[], &[], "original-awk");
        assert_eq!(a.choices[0].required_by, ["app", "base-files"]);
        assert_eq!(
            a.to_string(),
            "original-awk: not chosen; awk was met by mawk (preference table); gawk and original-awk were passed over"
        );
        let a = explain_absence(&choices, &[], &[], "bar");
        assert_eq!(
            a.to_string(),
            "bar: not chosen; the relation foo | bar was met by foo (first alternative with a candidate); bar was passed over"
        );
        let assumed = [Assumed { name: "perl".into(), required_by: "app".into(), relation: "perl (>= 5)".into() }];
        let a = explain_absence(&choices, &assumed, &["perl"], "perl");
        assert_eq!(a.to_string(), "perl: excluded by the request, and assumed present for app (perl (>= 5))");
        let a = explain_absence(&choices, &assumed, &["perl"], "nope");
        assert!(!a.is_known());
        assert_eq!(a.to_string(), "nope: not in the closure, and nothing in the lock names it");
    }
}
