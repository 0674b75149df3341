//! Why a package is in a closure: the chain of relations from a requested
//! (or base) package down to it, and at each step the alternatives that were
//! passed over (`debclosure why`). Why a package is not in a closure is
//! [`crate::changes::explain_absence`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Choice, ClosurePackage, Why};

/// One step of a chain: a package and the relation that pulled it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhyLink {
    /// The package.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The package whose relation pulled it in; `None` at the root.
    pub required_by: Option<String>,
    /// That relation's field (`Depends`, `Pre-Depends`, `Recommends`).
    pub field: Option<String>,
    /// The relation as written.
    pub relation: Option<String>,
    /// The other candidates of the choice that took this package, if any.
    pub passed_over: Vec<String>,
}

/// Why the last package of a chain is in the closure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WhyRoot {
    /// It is requested.
    #[serde(rename = "is requested")]
    Requested,
    /// It is in the base set (`--base`).
    #[serde(rename = "is in the base set")]
    Base,
}

impl std::fmt::Display for WhyRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WhyRoot::Requested => "is requested",
            WhyRoot::Base => "is in the base set",
        })
    }
}

/// The chain from a package up to the root that brought it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The package first, then the package that pulled it in, and so on.
    pub chain: Vec<WhyLink>,
    /// Why the last one is there.
    pub root: WhyRoot,
}

/// Explains why `name` is among `packages` (a closure, with its `choices`);
/// `None` if it is not. A cycle of reasons (which a valid closure does not
/// have) ends the chain where it repeats.
pub fn explain(packages: &[ClosurePackage], choices: &[Choice], name: &str) -> Option<Explanation> {
    let by_name: BTreeMap<&str, &ClosurePackage> = packages.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut p = *by_name.get(name)?;
    let mut chain = Vec::new();
    let mut seen = BTreeSet::new();
    let mut root = p;
    while seen.insert(p.name.as_str()) {
        root = p;
        let (required_by, field, relation) = match &p.why {
            Why::Dependency { package, field, relation } => (Some(package.clone()), Some(field.clone()), Some(relation.clone())),
            Why::Requested | Why::Base => (None, None, None),
        };
        let passed_over = choices
            .iter()
            .filter(|c| c.chosen == p.name && c.required_by == required_by && relation.as_ref() == Some(&c.relation))
            .flat_map(|c| c.candidates.iter().filter(|n| **n != p.name).cloned())
            .collect();
        let next = required_by.as_deref().and_then(|n| by_name.get(n)).copied();
        chain.push(WhyLink { package: p.name.clone(), version: p.version.clone(), required_by, field, relation, passed_over });
        match next {
            Some(next) => p = next,
            None => break,
        }
    }
    let root = match root.why {
        Why::Base => WhyRoot::Base,
        _ => WhyRoot::Requested,
    };
    Some(Explanation { chain, root })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Rule;

    fn package(name: &str, why: Why) -> ClosurePackage {
        ClosurePackage {
            name: name.into(),
            version: "1".into(),
            architecture: "amd64".into(),
            archive: None,
            filename: format!("pool/{name}_1_amd64.deb"),
            sha256: crate::hash::Sha256::of(name.as_bytes()),
            size: 1,
            group: 0,
            why,
        }
    }

    fn dependency(of: &str, relation: &str) -> Why {
        Why::Dependency { package: of.into(), field: "Depends".into(), relation: relation.into() }
    }

    #[test]
    fn chains_end_at_the_root_and_name_what_was_passed_over() {
        let packages = [
            package("app", Why::Requested),
            package("libfoo", dependency("app", "libfoo (>= 1)")),
            package("mawk", dependency("app", "awk")),
            package("base", Why::Base),
        ];
        let choices = [Choice {
            required_by: Some("app".into()),
            relation: "awk".into(),
            candidates: vec!["mawk".into(), "gawk".into()],
            chosen: "mawk".into(),
            rule: Rule::Preference,
        }];
        let e = explain(&packages, &choices, "mawk").unwrap();
        assert_eq!(e.chain.iter().map(|l| l.package.as_str()).collect::<Vec<_>>(), ["mawk", "app"]);
        assert_eq!(e.chain[0].passed_over, ["gawk"]);
        assert_eq!(e.root, WhyRoot::Requested);
        assert_eq!(explain(&packages, &choices, "base").unwrap().root, WhyRoot::Base);
        assert!(explain(&packages, &choices, "gawk").is_none());
        let json = crate::output::render_json(&explain(&packages, &choices, "libfoo").unwrap());
        assert!(json.contains("\"root\": \"is requested\""), "{json}");
    }

    #[test]
    fn a_cycle_of_reasons_ends_the_chain() {
        let packages = [package("a", dependency("b", "a")), package("b", dependency("a", "b"))];
        let e = explain(&packages, &[], "a").unwrap();
        assert_eq!(e.chain.len(), 2);
    }
}
