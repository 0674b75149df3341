//! Why a request cannot be satisfied, kept as data: the dead end the search
//! ended in, and the choices whose every candidate it tried, each candidate
//! with the dead end it led to. The walk builds the tree; [`fmt::Display`]
//! renders it as the indented text `debclosure` prints, at the edge (as
//! resolvo keeps its conflict graph apart from its reporter).

use std::fmt;

use crate::index::RelationField;

/// How many exhausted choices an [`Unsat`] keeps: the most recent ones are
/// the ones nearest the failure.
pub const MAX_EXHAUSTED: usize = 10;

/// A package at a version, as the tree names it (`libc6 2.36-9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageVersion {
    /// The package.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl fmt::Display for PackageVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// The chain of reasons from the request (or the base set) down to a
/// package: `app -> libfoo -> libc6`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonChain {
    /// Whether the first package is there because of the base set.
    pub from_base_set: bool,
    /// The packages, the requested (or base) one first.
    pub packages: Vec<String>,
}

impl fmt::Display for ReasonChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from_base_set {
            f.write_str("(base set) -> ")?;
        }
        f.write_str(&self.packages.join(" -> "))
    }
}

/// Where one line of the search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadEnd {
    /// A package conflicts with (or breaks) another: one was in the closure
    /// when the other was being added.
    Conflict {
        /// The package whose Conflicts or Breaks it is.
        holder: PackageVersion,
        /// `Conflicts` or `Breaks`.
        field: RelationField,
        /// The relation as written.
        relation: String,
        /// The package that was in the closure.
        present: PackageVersion,
        /// Why it was.
        present_chain: ReasonChain,
        /// The package that was being added.
        added: PackageVersion,
        /// Why it was, ending with it.
        added_chain: ReasonChain,
    },
    /// No package of the architecture meets a relation.
    NoCandidate {
        /// The package whose relation it is.
        package: PackageVersion,
        /// The relation's field.
        field: RelationField,
        /// The relation as written.
        relation: String,
        /// The target architecture.
        architecture: String,
        /// Why the package is in the closure.
        chain: ReasonChain,
    },
}

impl fmt::Display for DeadEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadEnd::Conflict { holder, field, relation, present, present_chain, added, added_chain } => {
                writeln!(f, "{holder} {field}: {relation}")?;
                writeln!(f, "  but {present} is in the closure: {present_chain}")?;
                write!(f, "  and {added} was being added: {added_chain}")
            }
            DeadEnd::NoCandidate { package, field, relation, architecture, chain } => {
                writeln!(f, "{package} {field}: {relation}: no package of architecture {architecture} or all satisfies it")?;
                write!(f, "  {} is in the closure: {chain}", package.name)
            }
        }
    }
}

/// One candidate of a choice, and the dead end it led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The candidate; `None` for skipping a recommendation.
    pub candidate: Option<PackageVersion>,
    /// Where trying it ended.
    pub reason: DeadEnd,
}

/// A relation with several candidates, every one of which failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExhaustedChoice {
    /// The package whose relation it is.
    pub package: PackageVersion,
    /// The relation as written.
    pub relation: String,
    /// Each candidate in the order tried.
    pub attempts: Vec<Attempt>,
}

impl fmt::Display for ExhaustedChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} needs {}:", self.package, self.relation)?;
        for attempt in &self.attempts {
            match &attempt.candidate {
                Some(candidate) => write!(f, "\n    {candidate} fails:")?,
                None => f.write_str("\n    (skip) fails:")?,
            }
            for line in attempt.reason.to_string().lines() {
                write!(f, "\n      {line}")?;
            }
        }
        Ok(())
    }
}

/// Why a request cannot be satisfied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsat {
    /// The dead end the search ended in, with no choice left to change.
    pub failure: DeadEnd,
    /// The choices whose every candidate was tried, most recent first, at
    /// most [`MAX_EXHAUSTED`].
    pub exhausted: Vec<ExhaustedChoice>,
}

impl fmt::Display for Unsat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.failure)?;
        if !self.exhausted.is_empty() {
            f.write_str("\nevery candidate was tried for:")?;
            for e in &self.exhausted {
                write!(f, "\n  {e}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pv(name: &str) -> PackageVersion {
        PackageVersion { name: name.into(), version: "1".into() }
    }

    fn chain(base: bool, names: &[&str]) -> ReasonChain {
        ReasonChain { from_base_set: base, packages: names.iter().map(|n| n.to_string()).collect() }
    }

    /// The text the CLI prints, pinned: the tree renders to it byte for byte.
    #[test]
    fn renders_the_indented_tree() {
        let conflict = DeadEnd::Conflict {
            holder: pv("core"),
            field: RelationField::Conflicts,
            relation: "nogui".into(),
            present: pv("nogui"),
            present_chain: chain(false, &["top", "lib", "nogui"]),
            added: pv("core"),
            added_chain: chain(true, &["tool", "core"]),
        };
        let none = DeadEnd::NoCandidate {
            package: pv("app"),
            field: RelationField::Depends,
            relation: "missing (>= 2)".into(),
            architecture: "amd64".into(),
            chain: chain(false, &["app"]),
        };
        let tree = Unsat {
            failure: none.clone(),
            exhausted: vec![ExhaustedChoice {
                package: pv("top"),
                relation: "a | b".into(),
                attempts: vec![
                    Attempt { candidate: Some(pv("a")), reason: conflict },
                    Attempt { candidate: None, reason: none },
                ],
            }],
        };
        assert_eq!(
            tree.to_string(),
            "app 1 Depends: missing (>= 2): no package of architecture amd64 or all satisfies it
  app is in the closure: app
every candidate was tried for:
  top 1 needs a | b:
    a 1 fails:
      core 1 Conflicts: nogui
        but nogui 1 is in the closure: top -> lib -> nogui
        and core 1 was being added: (base set) -> tool -> core
    (skip) fails:
      app 1 Depends: missing (>= 2): no package of architecture amd64 or all satisfies it
        app is in the closure: app"
        );
    }
}
