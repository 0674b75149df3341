//! The closure of a request over Pre-Depends and Depends (and Recommends when
//! asked), by Debian's rules, and its install order.
//!
//! The walk is depth-first in request order and marks a package before it
//! walks its dependencies, as apt does from an empty system. Choices between
//! several candidates follow a fixed rule list (see [`Rule`]); a choice that
//! leads to a conflict is undone and the next candidate tried. The result is
//! the same for the same index and request, whatever the order of files or
//! stanzas.

mod closure;
mod explain;
mod order;
mod policy;
mod unsat;

use serde::{Deserialize, Serialize};

pub use closure::resolve_closure;
pub use explain::{explain, Explanation, WhyLink, WhyRoot};
pub use policy::{Base, PolicyError, Preferences, RequestedPackage, ResolveOptions, DEFAULT_PREFERENCES};
pub use unsat::{Attempt, DeadEnd, ExhaustedChoice, PackageVersion, ReasonChain, Unsat, MAX_EXHAUSTED};

use crate::hash::Sha256;
use crate::index::IndexError;

/// A resolved closure, in install order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// The target architecture.
    pub architecture: String,
    /// The packages, sorted by group, then name.
    pub packages: Vec<ClosurePackage>,
    /// Each choice made between several candidates, in walk order.
    pub choices: Vec<Choice>,
    /// Dependencies taken as met because only an excluded package meets them.
    pub assumed: Vec<Assumed>,
}

impl Closure {
    /// The number of install groups.
    pub fn group_count(&self) -> usize {
        self.packages.last().map_or(0, |p| p.group as usize + 1)
    }
}

/// One package of a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosurePackage {
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Architecture (the target or `all`).
    pub architecture: String,
    /// The archive the `.deb` is in (absent for local index files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Archive-relative path of the `.deb`.
    pub filename: String,
    /// SHA256 of the `.deb`.
    pub sha256: Sha256,
    /// Size of the `.deb` in bytes.
    pub size: u64,
    /// Install group, from 0: Pre-Depends are in earlier groups.
    pub group: u32,
    /// Why it is in the closure.
    pub why: Why,
}

/// Why a package is in a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Why {
    /// Named in the request.
    Requested,
    /// Added by the base set (`--base`).
    Base,
    /// Pulled in by a relationship of another package.
    Dependency {
        /// The package whose field pulled it in.
        package: String,
        /// `Pre-Depends`, `Depends` or `Recommends`.
        field: String,
        /// The relation as written (`a | b (>= 1)`).
        relation: String,
    },
}

/// Which rule settled a choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// An alternative is itself requested.
    Requested,
    /// An alternative was already in the closure.
    AlreadyChosen,
    /// The preference table names it.
    Preference,
    /// The first alternative that has a candidate.
    FirstAlternative,
    /// A real package of the virtual name, before its providers.
    RealPackage,
    /// The provider with the most important Priority.
    Priority,
    /// The first provider by name, all else being equal.
    Name,
    /// Every candidate before it led to a conflict or an unmet dependency.
    EarlierCandidatesFailed,
}

/// A choice between several candidates for one relation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// The package whose relation this is; absent for a requested virtual name.
    pub required_by: Option<String>,
    /// The relation as written.
    pub relation: String,
    /// The candidates, in the order they were considered.
    pub candidates: Vec<String>,
    /// The one taken.
    pub chosen: String,
    /// Why it was taken.
    pub rule: Rule,
}

/// A dependency taken as met because only excluded packages meet it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Assumed {
    /// The excluded package that would meet it.
    pub name: String,
    /// The package that depends on it.
    pub required_by: String,
    /// The relation as written.
    pub relation: String,
}

/// Why a closure cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// A field of a package in the closure does not parse.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A requested name is neither a package nor provided by one.
    #[error("unknown package {name}")]
    UnknownPackage {
        /// The name.
        name: String,
        /// What to check.
        hint: String,
    },
    /// The request itself names an excluded package.
    #[error("package {0} is both requested and excluded")]
    RequestedAndExcluded(String),
    /// No assignment satisfies the request; `tree` explains it, and
    /// displays as an indented tree from the request to the failing
    /// relations.
    #[error("cannot satisfy the request:\n{tree}")]
    Unsatisfiable {
        /// The dead end and the choices that were exhausted.
        tree: Box<Unsat>,
    },
    /// `--strict` and several providers are left with no preference.
    #[error("{relation} (needed by {required_by}) has several providers and no preference: {}", .providers.join(", "))]
    Ambiguous {
        /// The relation.
        relation: String,
        /// Who needs it.
        required_by: String,
        /// The candidates.
        providers: Vec<String>,
    },
    /// A cycle that contains a Pre-Depends cannot be installed in any order.
    #[error("Pre-Depends cycle: {}", .packages.join(" -> "))]
    PreDependsCycle {
        /// The packages of the cycle, the first repeated at the end.
        packages: Vec<String>,
    },
    /// The search tried too many candidates.
    #[error("gave up after trying {0} candidates")]
    TooManySteps(usize),
}

impl ResolveError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            ResolveError::UnknownPackage { hint, .. } => Some(hint.clone()),
            ResolveError::Ambiguous { relation, providers, .. } => Some(format!(
                "add a preference, e.g. --prefer {}={}",
                relation.split([' ', ':']).next().unwrap_or(relation),
                providers[0]
            )),
            ResolveError::Unsatisfiable { .. } => Some(
                "exclude a package with --exclude, prefer another provider with --prefer, or request a version with NAME=VERSION".into(),
            ),
            _ => None,
        }
    }
}
