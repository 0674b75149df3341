//! The walk: depth-first from the request, marking each package before its
//! dependencies, with undo when a choice leads to a conflict.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use super::order::install_groups;
use super::policy::{Base, RequestedPackage, ResolveOptions};
use super::{Assumed, Choice, Closure, ClosurePackage, ResolveError, Rule, Why};
use crate::index::{Index, MultiArch, PackageId, RelationField};
use crate::relation::{display_group, ArchQualifier, Dependency};

/// How many packages the search may try to add before it gives up; far above
/// what any real request needs (the common request marks about 300).
const STEP_LIMIT: usize = 200_000;

/// Computes the closure of `request` in `index`.
pub fn resolve_closure(
    index: &Index<'_>,
    request: &[RequestedPackage],
    options: &ResolveOptions,
) -> Result<Closure, ResolveError> {
    let mut walker = Walker::new(index, options);
    let roots = walker.roots(request)?;
    for (id, why) in &roots {
        if !walker.marked.contains_key(id) {
            walker.mark(*id, why.clone()).map_err(|f| walker.unsatisfiable(*id, f))?;
        }
    }
    for (id, _) in &roots {
        walker.walk(*id).map_err(|f| walker.unsatisfiable(*id, f))?;
    }
    walker.finish()
}

/// Why a package was marked, by id.
#[derive(Debug, Clone)]
enum Reason {
    Requested,
    Base,
    Dependency {
        from: PackageId,
        field: RelationField,
        relation: String,
    },
}

/// A failed attempt, kept to explain an unsatisfiable request.
#[derive(Debug)]
enum Failure {
    /// Not recoverable by another choice (a bad field, too many steps).
    Fatal(ResolveError),
    /// Nothing can satisfy a relation.
    Missing { from: PackageId, field: RelationField, relation: String },
    /// `package` conflicts with `other`, already in the closure.
    Conflict { package: PackageId, other: PackageId, field: RelationField, relation: String },
    /// Every candidate for a relation failed.
    Exhausted { from: PackageId, field: RelationField, relation: String, tried: Vec<(PackageId, Failure)> },
}

impl From<ResolveError> for Failure {
    fn from(e: ResolveError) -> Self {
        Failure::Fatal(e)
    }
}

impl From<crate::index::IndexError> for Failure {
    fn from(e: crate::index::IndexError) -> Self {
        Failure::Fatal(e.into())
    }
}

/// What provides a name among the marked packages.
#[derive(Debug, Clone, Copy)]
enum Holder<'a> {
    /// The package of that name, at its version.
    Real(PackageId),
    /// A package that provides the name, with the provided version.
    Provided(PackageId, Option<&'a str>),
}

impl Holder<'_> {
    fn id(self) -> PackageId {
        match self {
            Holder::Real(id) | Holder::Provided(id, _) => id,
        }
    }
}

/// A candidate for a relation and why it stands where it does.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    id: PackageId,
    rule: Rule,
}

/// Lengths of the undo-able vectors at a choice point.
struct Save {
    trail: usize,
    edges: usize,
    choices: usize,
    assumed: usize,
}

struct Walker<'i, 'a> {
    index: &'i Index<'a>,
    options: &'i ResolveOptions,
    /// Candidates fixed by the request (`name=version`, `name/suite`).
    pins: HashMap<&'a str, PackageId>,
    marked: HashMap<PackageId, Reason>,
    /// Marked packages in marking order, for undo.
    trail: Vec<PackageId>,
    /// Name (real or virtual) -> marked packages that satisfy it.
    holders: HashMap<&'a str, Vec<Holder<'a>>>,
    /// Name -> marked packages that conflict with or break it.
    conflicts: HashMap<&'a str, Vec<(PackageId, Dependency<'a>, RelationField)>>,
    /// (from, to, field) for install order.
    edges: Vec<(PackageId, PackageId, RelationField)>,
    choices: Vec<Choice>,
    assumed: Vec<Assumed>,
    steps: usize,
}

impl<'i, 'a> Walker<'i, 'a> {
    fn new(index: &'i Index<'a>, options: &'i ResolveOptions) -> Self {
        Walker {
            index,
            options,
            pins: HashMap::new(),
            marked: HashMap::new(),
            trail: Vec::new(),
            holders: HashMap::new(),
            conflicts: HashMap::new(),
            edges: Vec::new(),
            choices: Vec::new(),
            assumed: Vec::new(),
            steps: 0,
        }
    }

    fn name(&self, id: PackageId) -> &'a str {
        self.index.package(id).name
    }

    /// The candidate of a real package name, honouring pins.
    fn candidate(&self, name: &str) -> Option<PackageId> {
        self.pins.get(name).copied().or_else(|| self.index.candidate(name))
    }

    /// Whether a package meets a relation's `:arch` qualifier.
    fn arch_ok(&self, dep: &Dependency<'_>, id: PackageId) -> bool {
        match dep.arch {
            ArchQualifier::None | ArchQualifier::Native => true,
            ArchQualifier::Named(a) => a == self.index.architecture(),
            ArchQualifier::Any => self.index.package(id).multi_arch == MultiArch::Allowed,
        }
    }

    /// Whether `holder` meets `dep` (name already matched). An unversioned
    /// Provides never meets a versioned relation.
    fn holder_meets(&self, dep: &Dependency<'_>, holder: Holder<'_>) -> bool {
        self.arch_ok(dep, holder.id())
            && match holder {
                Holder::Real(id) => dep.version_matches(self.index.package(id).version),
                Holder::Provided(_, provided) => match (dep.constraint, provided) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(_), Some(v)) => dep.version_matches(v),
                },
            }
    }

    /// Resolves the request (and base set) to package ids, in walk order.
    fn roots(&mut self, request: &[RequestedPackage]) -> Result<Vec<(PackageId, Reason)>, ResolveError> {
        let index = self.index;
        let mut roots: Vec<(PackageId, Reason)> = Vec::new();
        for r in request {
            if self.options.exclude.contains(&r.name) {
                return Err(ResolveError::RequestedAndExcluded(r.name.clone()));
            }
            let versions = index.versions(&r.name);
            let pinned = match (&r.version, &r.suite) {
                (Some(v), _) => Some(
                    versions
                        .iter()
                        .copied()
                        .find(|id| crate::version::compare(index.package(*id).version, v).is_eq())
                        .ok_or_else(|| unknown(index, r))?,
                ),
                (None, Some(s)) => Some(
                    versions
                        .iter()
                        .copied()
                        .find(|id| index.sources()[index.package(*id).source].suite.as_deref() == Some(s))
                        .ok_or_else(|| unknown(index, r))?,
                ),
                (None, None) => None,
            };
            if let Some(id) = pinned {
                self.pins.insert(index.package(id).name, id);
            }
        }
        if self.options.base != Base::None {
            let mut base: Vec<PackageId> = index
                .ids()
                .filter(|id| {
                    let p = index.package(*id);
                    (p.essential
                        || (self.options.base == Base::Required
                            && p.priority == crate::index::Priority::Required))
                        && self.candidate(p.name) == Some(*id)
                        && !self.options.exclude.contains(p.name)
                })
                .collect();
            base.sort_by_key(|id| index.package(*id).name);
            roots.extend(base.into_iter().map(|id| (id, Reason::Base)));
        }
        for r in request {
            let id = match self.candidate(&r.name) {
                Some(id) => id,
                None => {
                    let dep = Dependency {
                        name: &r.name,
                        arch: ArchQualifier::None,
                        constraint: None,
                        restriction: Vec::new(),
                    };
                    let cands = self.alternative_candidates(&dep);
                    let first = *cands.first().ok_or_else(|| unknown(index, r))?;
                    if self.options.strict && matches!(first.rule, Rule::Priority | Rule::Name) {
                        return Err(self.ambiguous(&r.name, "the request", &cands));
                    }
                    if cands.len() > 1 {
                        self.choices.push(Choice {
                            required_by: None,
                            relation: r.name.clone(),
                            candidates: cands.iter().map(|c| self.name(c.id).to_owned()).collect(),
                            chosen: self.name(first.id).to_owned(),
                            rule: first.rule,
                        });
                    }
                    first.id
                }
            };
            if let Some(pos) = roots.iter().position(|(r, _)| *r == id) {
                roots.remove(pos);
            }
            roots.push((id, Reason::Requested));
        }
        // Base packages come first, then the request in its own order; a
        // package named twice keeps its first place.
        let mut seen = HashSet::new();
        roots.retain(|(id, _)| seen.insert(*id));
        Ok(roots)
    }

    fn ambiguous(&self, relation: &str, required_by: &str, cands: &[Candidate]) -> ResolveError {
        ResolveError::Ambiguous {
            relation: relation.to_owned(),
            required_by: required_by.to_owned(),
            providers: cands.iter().map(|c| self.name(c.id).to_owned()).collect(),
        }
    }

    /// The candidates for one alternative, best first: the preferred
    /// provider, the real package, then providers by Priority and name.
    fn alternative_candidates(&self, dep: &Dependency<'_>) -> Vec<Candidate> {
        let index = self.index;
        let mut out = Vec::new();
        let real = self
            .candidate(dep.name)
            .filter(|id| self.holder_meets(dep, Holder::Real(*id)));
        if let Some(id) = real {
            out.push(Candidate { id, rule: Rule::RealPackage });
        }
        let mut providers: Vec<PackageId> = index
            .providers(dep.name)
            .iter()
            .filter(|(id, v)| {
                Some(*id) != real
                    && self.candidate(index.package(*id).name) == Some(*id)
                    && self.holder_meets(dep, Holder::Provided(*id, *v))
            })
            .map(|(id, _)| *id)
            .collect();
        providers.sort_by_key(|id| {
            let p = index.package(*id);
            (p.priority, p.name)
        });
        providers.dedup();
        for (i, id) in providers.iter().enumerate() {
            let rule = match providers.get(i + 1) {
                Some(next) if index.package(*next).priority > index.package(*id).priority => Rule::Priority,
                _ => Rule::Name,
            };
            out.push(Candidate { id: *id, rule });
        }
        if out.len() == 1 && real.is_none() {
            out[0].rule = Rule::FirstAlternative;
        }
        if let Some(preferred) = self.options.preferences.get(dep.name) {
            if let Some(pos) = out.iter().position(|c| self.name(c.id) == preferred) {
                let mut c = out.remove(pos);
                c.rule = Rule::Preference;
                out.insert(0, c);
            }
        }
        out
    }

    fn save(&self) -> Save {
        Save {
            trail: self.trail.len(),
            edges: self.edges.len(),
            choices: self.choices.len(),
            assumed: self.assumed.len(),
        }
    }

    fn undo(&mut self, save: &Save) {
        while self.trail.len() > save.trail {
            let id = self.trail.pop().expect("trail is longer than the save point");
            self.marked.remove(&id);
            for list in self.holders.values_mut() {
                if list.last().is_some_and(|h| h.id() == id) {
                    list.retain(|h| h.id() != id);
                }
            }
            for list in self.conflicts.values_mut() {
                if list.last().is_some_and(|c| c.0 == id) {
                    list.retain(|c| c.0 != id);
                }
            }
        }
        self.edges.truncate(save.edges);
        self.choices.truncate(save.choices);
        self.assumed.truncate(save.assumed);
    }

    /// A marked package that meets `dep`, if any.
    fn marked_holder(&self, dep: &Dependency<'_>) -> Option<PackageId> {
        self.holders
            .get(dep.name)?
            .iter()
            .find(|h| self.holder_meets(dep, **h))
            .map(|h| h.id())
    }

    /// A marked package, other than `id`, that `dep` (a Conflicts or Breaks
    /// of `id`) hits. Debian ignores a package's conflict with itself.
    fn conflict_target(&self, id: PackageId, dep: &Dependency<'_>) -> Option<PackageId> {
        self.holders
            .get(dep.name)?
            .iter()
            .find(|h| h.id() != id && self.holder_meets(dep, **h))
            .map(|h| h.id())
    }

    /// Checks `id` against the marked packages, both ways.
    fn check_conflicts(&self, id: PackageId) -> Result<(), Failure> {
        let arch = self.index.architecture();
        for field in [RelationField::Conflicts, RelationField::Breaks] {
            for group in self.index.relations(id, field)? {
                for dep in group.iter().filter(|d| d.applies_to(arch)) {
                    if let Some(other) = self.conflict_target(id, dep) {
                        return Err(Failure::Conflict { package: id, other, field, relation: dep.to_string() });
                    }
                }
            }
        }
        let p = self.index.package(id);
        let names = std::iter::once((p.name, Holder::Real(id)))
            .chain(p.provides.iter().map(|d| (d.name, Holder::Provided(id, d.constraint.map(|c| c.1)))));
        for (name, holder) in names {
            for (other, dep, field) in self.conflicts.get(name).into_iter().flatten() {
                if *other != id && self.holder_meets(dep, holder) {
                    return Err(Failure::Conflict { package: *other, other: id, field: *field, relation: dep.to_string() });
                }
            }
        }
        Ok(())
    }

    /// Adds `id` to the closure without walking its dependencies.
    fn mark(&mut self, id: PackageId, why: Reason) -> Result<(), Failure> {
        self.steps += 1;
        if self.steps > STEP_LIMIT {
            return Err(ResolveError::TooManySteps(STEP_LIMIT).into());
        }
        self.check_conflicts(id)?;
        let arch = self.index.architecture();
        let p = self.index.package(id);
        let mut conflicts = Vec::new();
        for field in [RelationField::Conflicts, RelationField::Breaks] {
            for group in self.index.relations(id, field)? {
                conflicts.extend(group.into_iter().filter(|d| d.applies_to(arch)).map(|d| (d, field)));
            }
        }
        self.marked.insert(id, why);
        self.trail.push(id);
        self.holders.entry(p.name).or_default().push(Holder::Real(id));
        for d in &p.provides {
            let held = Holder::Provided(id, d.constraint.map(|c| c.1));
            self.holders.entry(d.name).or_default().push(held);
        }
        for (dep, field) in conflicts {
            self.conflicts.entry(dep.name).or_default().push((id, dep, field));
        }
        Ok(())
    }

    /// Walks the dependencies of a marked package.
    fn walk(&mut self, id: PackageId) -> Result<(), Failure> {
        let mut fields = vec![RelationField::PreDepends, RelationField::Depends];
        if self.options.with_recommends {
            fields.push(RelationField::Recommends);
        }
        for field in fields {
            for group in self.index.relations(id, field)? {
                match self.satisfy(id, field, &group) {
                    // An unmet recommendation is skipped, as apt does.
                    Err(Failure::Fatal(e)) => return Err(Failure::Fatal(e)),
                    Err(_) if field == RelationField::Recommends => {}
                    other => other?,
                }
            }
        }
        Ok(())
    }

    /// Meets one relation group of `from`.
    fn satisfy(&mut self, from: PackageId, field: RelationField, group: &[Dependency<'a>]) -> Result<(), Failure> {
        let arch = self.index.architecture();
        let alts: Vec<&Dependency<'a>> = group.iter().filter(|d| d.applies_to(arch)).collect();
        if alts.is_empty() {
            return Ok(());
        }
        let relation = display_group(group);
        for dep in &alts {
            if let Some(holder) = self.marked_holder(dep) {
                self.edges.push((from, holder, field));
                if alts.len() > 1 {
                    let rule = match self.marked[&holder] {
                        Reason::Requested | Reason::Base => Rule::Requested,
                        Reason::Dependency { .. } => Rule::AlreadyChosen,
                    };
                    self.choices.push(Choice {
                        required_by: Some(self.name(from).to_owned()),
                        relation: relation.clone(),
                        candidates: alts.iter().map(|d| d.name.to_owned()).collect(),
                        chosen: self.name(holder).to_owned(),
                        rule,
                    });
                }
                return Ok(());
            }
        }
        let mut cands: Vec<Candidate> = Vec::new();
        for dep in &alts {
            for mut c in self.alternative_candidates(dep) {
                if cands.iter().all(|x| x.id != c.id) {
                    if alts.len() > 1 && !matches!(c.rule, Rule::Preference | Rule::Priority | Rule::Name) {
                        c.rule = Rule::FirstAlternative;
                    }
                    cands.push(c);
                }
            }
        }
        if alts.len() > 1 {
            let key: Vec<&str> = alts.iter().map(|d| d.name).collect();
            if let Some(preferred) = self.options.preferences.get(&key.join(" | ")) {
                if let Some(pos) = cands.iter().position(|c| self.name(c.id) == preferred) {
                    let mut c = cands.remove(pos);
                    c.rule = Rule::Preference;
                    cands.insert(0, c);
                }
            }
        }
        let before = cands.len();
        cands.retain(|c| !self.options.exclude.contains(self.name(c.id)));
        if cands.is_empty() {
            if before > 0 {
                let excluded: BTreeSet<&str> = alts
                    .iter()
                    .flat_map(|d| self.alternative_candidates(d))
                    .map(|c| self.name(c.id))
                    .collect();
                for name in excluded {
                    self.assumed.push(Assumed {
                        name: name.to_owned(),
                        required_by: self.name(from).to_owned(),
                        relation: relation.clone(),
                    });
                }
                return Ok(());
            }
            return Err(Failure::Missing { from, field, relation });
        }
        if self.options.strict && matches!(cands[0].rule, Rule::Priority | Rule::Name) && cands.len() > 1 {
            return Err(self.ambiguous(&relation, self.name(from), &cands).into());
        }
        let mut tried = Vec::new();
        for (k, cand) in cands.iter().enumerate() {
            let save = self.save();
            let slot = self.choices.len();
            if cands.len() > 1 {
                self.choices.push(Choice {
                    required_by: Some(self.name(from).to_owned()),
                    relation: relation.clone(),
                    candidates: cands.iter().map(|c| self.name(c.id).to_owned()).collect(),
                    chosen: self.name(cand.id).to_owned(),
                    rule: if k == 0 { cand.rule } else { Rule::EarlierCandidatesFailed },
                });
            }
            let why = Reason::Dependency { from, field, relation: relation.clone() };
            let result = self.mark(cand.id, why).and_then(|()| self.walk(cand.id));
            match result {
                Ok(()) => {
                    self.edges.push((from, cand.id, field));
                    return Ok(());
                }
                Err(Failure::Fatal(e)) => return Err(Failure::Fatal(e)),
                Err(f) => {
                    self.undo(&save);
                    debug_assert!(self.choices.len() <= slot);
                    tried.push((cand.id, f));
                }
            }
        }
        Err(Failure::Exhausted { from, field, relation, tried })
    }

    /// The chain of reasons from a marked package back to the request.
    fn chain(&self, mut id: PackageId) -> String {
        let mut parts = vec![self.name(id).to_owned()];
        let mut seen = HashSet::new();
        while seen.insert(id) {
            match self.marked.get(&id) {
                Some(Reason::Dependency { from, .. }) => {
                    id = *from;
                    parts.push(self.name(id).to_owned());
                }
                Some(Reason::Base) => {
                    parts.push("(base set)".into());
                    break;
                }
                _ => break,
            }
        }
        parts.reverse();
        parts.join(" -> ")
    }

    fn describe(&self, id: PackageId) -> String {
        let p = self.index.package(id);
        format!("{} {}", p.name, p.version)
    }

    fn render(&self, failure: &Failure, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        match failure {
            Failure::Fatal(e) => {
                let _ = writeln!(out, "{pad}{e}");
            }
            Failure::Missing { from, field, relation } => {
                let _ = writeln!(
                    out,
                    "{pad}{} {field}: {relation}: no package of architecture {} or all satisfies it",
                    self.describe(*from),
                    self.index.architecture()
                );
            }
            Failure::Conflict { package, other, field, relation } => {
                let _ = writeln!(out, "{pad}{} {field}: {relation}", self.describe(*package));
                let (marked, new) = if self.marked.contains_key(other) { (*other, *package) } else { (*package, *other) };
                let _ = writeln!(
                    out,
                    "{pad}  but {} is in the closure: {}",
                    self.describe(marked),
                    self.chain(marked)
                );
                if !self.marked.contains_key(&new) {
                    let _ = writeln!(out, "{pad}  and {} was being added", self.describe(new));
                }
            }
            Failure::Exhausted { from, field, relation, tried } => {
                let _ = writeln!(out, "{pad}{} {field}: {relation}", self.describe(*from));
                if depth > 12 {
                    let _ = writeln!(out, "{pad}  ...");
                    return;
                }
                for (id, f) in tried.iter().take(6) {
                    let _ = writeln!(out, "{pad}  - {} fails:", self.describe(*id));
                    self.render(f, depth + 2, out);
                }
                if tried.len() > 6 {
                    let _ = writeln!(out, "{pad}  - and {} more candidates", tried.len() - 6);
                }
            }
        }
    }

    fn unsatisfiable(&self, root: PackageId, failure: Failure) -> ResolveError {
        if let Failure::Fatal(e) = failure {
            return e;
        }
        let mut tree = format!("{} (requested)\n", self.describe(root));
        self.render(&failure, 1, &mut tree);
        ResolveError::Unsatisfiable { tree: tree.trim_end().to_owned() }
    }

    fn finish(self) -> Result<Closure, ResolveError> {
        let index = self.index;
        let mut ids: Vec<PackageId> = self.trail.clone();
        ids.sort_by_key(|id| index.package(*id).name);
        let order_edges: Vec<(PackageId, PackageId, bool)> = self
            .edges
            .iter()
            .filter(|(_, _, f)| *f != RelationField::Recommends)
            .map(|(a, b, f)| (*a, *b, *f == RelationField::PreDepends))
            .collect();
        let groups = install_groups(&ids, &order_edges, |id| index.package(id).name)?;
        let mut packages: Vec<ClosurePackage> = ids
            .iter()
            .map(|id| {
                let p = index.package(*id);
                let why = match &self.marked[id] {
                    Reason::Requested => Why::Requested,
                    Reason::Base => Why::Base,
                    Reason::Dependency { from, field, relation } => Why::Dependency {
                        package: index.package(*from).name.to_owned(),
                        field: field.name().to_owned(),
                        relation: relation.clone(),
                    },
                };
                ClosurePackage {
                    name: p.name.to_owned(),
                    version: p.version.to_owned(),
                    architecture: p.architecture.to_owned(),
                    filename: p.filename.to_owned(),
                    sha256: p.sha256.to_owned(),
                    size: p.size,
                    group: groups[id],
                    why,
                }
            })
            .collect();
        packages.sort_by(|a, b| (a.group, &a.name).cmp(&(b.group, &b.name)));
        // The same outcome for the same relation is reported once.
        let mut seen = HashSet::new();
        let choices = self
            .choices
            .into_iter()
            .filter(|c| seen.insert((c.relation.clone(), c.chosen.clone(), c.rule)))
            .collect();
        let mut assumed = self.assumed;
        assumed.sort();
        assumed.dedup();
        Ok(Closure {
            architecture: index.architecture().to_owned(),
            packages,
            choices,
            assumed,
        })
    }
}

fn unknown(index: &Index<'_>, r: &RequestedPackage) -> ResolveError {
    let versions: Vec<String> = index
        .versions(&r.name)
        .iter()
        .map(|id| {
            let p = index.package(*id);
            match &index.sources()[p.source].suite {
                Some(s) => format!("{} ({s})", p.version),
                None => p.version.to_owned(),
            }
        })
        .collect();
    let hint = if versions.is_empty() {
        format!(
            "no package of that name or providing it exists for architecture {} (or all) in the given indices; check the spelling, --arch and the list of indices",
            index.architecture()
        )
    } else if r.version.is_some() || r.suite.is_some() {
        format!("available versions: {}", versions.join(", "))
    } else {
        format!(
            "it is only in a NotAutomatic suite; request it explicitly as NAME/SUITE or NAME=VERSION (available: {})",
            versions.join(", ")
        )
    };
    ResolveError::UnknownPackage { name: r.to_string(), hint }
}
