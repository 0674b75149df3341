//! The walk: depth-first from the request, marking each package before its
//! dependencies, as apt does from an empty system.
//!
//! The walk is driven by an explicit agenda (a stack of relation groups still
//! to meet) rather than recursion, so that a choice made long ago can be
//! revisited: every group with several candidates is a choice point that
//! saves the state before its first try. When a package cannot be added (a
//! conflict, or nothing meets a relation), the failure names the choice points
//! that led to it (those on the reason chains of both sides), and the search
//! jumps back to the most recent of them and tries its next candidate
//! (conflict-directed backjumping). A Recommends group has one more
//! candidate, "skip", so a recommendation never makes a request fail.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::order::install_groups;
use super::unsat::{Attempt, DeadEnd, ExhaustedChoice, PackageVersion, ReasonChain, Unsat, MAX_EXHAUSTED};
use super::policy::{Base, RequestedPackage, ResolveOptions};
use super::{Assumed, Choice, Closure, ClosurePackage, ResolveError, Rule, Why};
use crate::index::{Index, MultiArch, PackageId, RelationField};
use crate::relation::{display_group, Alternatives, ArchQualifier, Dependency};

/// How many candidates the search may try before it gives up; far above
/// what any real request needs (the common request tries about 300).
const STEP_LIMIT: usize = 200_000;

/// Computes the closure of `request` in `index`.
pub fn resolve_closure(
    index: &Index<'_>,
    request: &[RequestedPackage],
    options: &ResolveOptions,
) -> Result<Closure, ResolveError> {
    let mut walker = Walker::new(index, options);
    let roots = walker.roots(request)?;
    walker.run(&roots)?;
    walker.finish()
}

/// Why a package was marked.
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

/// A marked package: why, and which choice point picked it (none when it
/// was the only candidate).
#[derive(Debug, Clone)]
struct Mark {
    reason: Reason,
    choice_point: Option<usize>,
}

/// A dead end: what went wrong, described while the state that caused it
/// is still in place, and the choice points that could change it.
#[derive(Debug)]
struct Failure {
    culprits: BTreeSet<usize>,
    /// Boxed: a dead end is large, and most steps end well.
    dead_end: Box<DeadEnd>,
}

/// How marking a package or meeting a relation group ended. Errors that
/// end the whole search (too many steps, an ambiguous choice under
/// `--strict`) are a [`ResolveError`] instead.
#[derive(Debug)]
enum Step {
    /// The package is marked, or the group is met.
    Done,
    /// A dead end, which backjumping may get out of.
    DeadEnd(Failure),
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

/// A candidate for a relation and why it stands where it does; `id` is
/// `None` for "skip this recommendation".
#[derive(Debug, Clone, Copy)]
struct Candidate {
    id: Option<PackageId>,
    rule: Rule,
}

/// Moves the first of `cands` that `pick` accepts to the front, where
/// `rule` explains it; the others keep their order.
fn put_first(cands: &mut Vec<Candidate>, rule: Rule, pick: impl Fn(&Candidate) -> bool) {
    if let Some(pos) = cands.iter().position(pick) {
        let mut c = cands.remove(pos);
        c.rule = rule;
        cands.insert(0, c);
    }
}

/// One relation group still to meet: group `index` of `from`'s relations.
#[derive(Debug, Clone, Copy)]
struct Task {
    from: PackageId,
    index: usize,
}

/// The state to return to when a choice point tries its next candidate.
#[derive(Debug)]
struct Save {
    trail: usize,
    edges: usize,
    choices: usize,
    assumed: usize,
    agenda: Vec<Task>,
}

/// A group with several candidates.
#[derive(Debug)]
struct ChoicePoint {
    task: Task,
    relation: String,
    candidates: Vec<Candidate>,
    /// The next candidate to try.
    next: usize,
    save: Save,
    /// Choice points blamed by failures under this one, besides itself.
    culprits: BTreeSet<usize>,
    /// Why each candidate tried so far failed, for the error.
    failures: Vec<DeadEnd>,
}

/// A package's relation groups in walk order.
type Relations<'a> = Rc<Vec<(RelationField, Alternatives<'a>)>>;

struct Walker<'i, 'a> {
    index: &'i Index<'a>,
    options: &'i ResolveOptions,
    /// Candidates fixed by the request (`name=version`, `name/suite`).
    pins: HashMap<&'a str, PackageId>,
    marked: HashMap<PackageId, Mark>,
    /// Marked packages in marking order, for undo.
    trail: Vec<PackageId>,
    /// Name (real or virtual) -> marked packages that satisfy it.
    holders: FxHashMap<&'a str, Vec<Holder<'a>>>,
    /// Name -> marked packages that conflict with or break it.
    conflicts: FxHashMap<&'a str, Vec<(PackageId, Dependency<'a>, RelationField)>>,
    /// Parsed relations, by package.
    relations: FxHashMap<PackageId, Relations<'a>>,
    agenda: Vec<Task>,
    choice_points: Vec<ChoicePoint>,
    /// (from, to, field) for install order.
    edges: Vec<(PackageId, PackageId, RelationField)>,
    choices: Vec<Choice>,
    assumed: Vec<Assumed>,
    /// Choice points that ran out of candidates, for the error.
    exhausted: Vec<ExhaustedChoice>,
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
            holders: FxHashMap::default(),
            conflicts: FxHashMap::default(),
            relations: FxHashMap::default(),
            agenda: Vec::new(),
            choice_points: Vec::new(),
            edges: Vec::new(),
            choices: Vec::new(),
            assumed: Vec::new(),
            exhausted: Vec::new(),
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
        // Real packages first, so that a requested virtual name can be met
        // by a package the request also names.
        let concrete: Vec<Option<PackageId>> = request.iter().map(|r| self.candidate(&r.name)).collect();
        for (r, real) in request.iter().zip(&concrete) {
            let id = match real {
                Some(id) => *id,
                None => {
                    let dep = Dependency {
                        name: &r.name,
                        arch: ArchQualifier::None,
                        constraint: None,
                        restriction: Vec::new(),
                    };
                    let mut cands = self.alternative_candidates(&dep);
                    put_first(&mut cands, Rule::Requested, |c| concrete.contains(&c.id));
                    let first = *cands.first().ok_or_else(|| unknown(index, r))?;
                    self.refuse_ambiguous(&r.name, "the request", &cands)?;
                    if cands.len() > 1 {
                        self.choices.push(Choice {
                            required_by: None,
                            relation: r.name.clone(),
                            candidates: cands.iter().map(|c| self.candidate_name(c).to_owned()).collect(),
                            chosen: self.candidate_name(&first).to_owned(),
                            rule: first.rule,
                        });
                    }
                    first.id.expect("alternative candidates are packages")
                }
            };
            roots.push((id, Reason::Requested));
        }
        // Base packages come first, then the request in its own order; a
        // package named twice keeps its first place, requested wins over base.
        let requested: HashSet<PackageId> =
            roots.iter().filter(|(_, r)| matches!(r, Reason::Requested)).map(|(id, _)| *id).collect();
        roots.retain(|(id, r)| matches!(r, Reason::Requested) || !requested.contains(id));
        let mut seen = HashSet::new();
        roots.retain(|(id, _)| seen.insert(*id));
        Ok(roots)
    }

    fn candidate_name(&self, c: &Candidate) -> &'a str {
        c.id.map_or("(skip)", |id| self.name(id))
    }

    /// With `--strict`, refuses a choice among `cands` (best first) that
    /// only Priority or name order made.
    fn refuse_ambiguous(&self, relation: &str, required_by: &str, cands: &[Candidate]) -> Result<(), ResolveError> {
        if !self.options.strict || cands.len() < 2 || !matches!(cands[0].rule, Rule::Priority | Rule::Name) {
            return Ok(());
        }
        Err(ResolveError::Ambiguous {
            relation: relation.to_owned(),
            required_by: required_by.to_owned(),
            providers: cands.iter().map(|c| self.candidate_name(c).to_owned()).collect(),
        })
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
            out.push(Candidate { id: Some(id), rule: Rule::RealPackage });
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
            out.push(Candidate { id: Some(*id), rule });
        }
        if out.len() == 1 && real.is_none() {
            out[0].rule = Rule::FirstAlternative;
        }
        self.prefer(dep.name, &mut out);
        out
    }

    /// Puts the package that the preference table names for `key` (a name,
    /// or alternatives joined by ` | `) first among `cands`.
    fn prefer(&self, key: &str, cands: &mut Vec<Candidate>) {
        if let Some(preferred) = self.options.preferences.get(key) {
            put_first(cands, Rule::Preference, |c| self.candidate_name(c) == preferred);
        }
    }

    /// A marked package that meets `dep`, if any.
    fn marked_holder(&self, dep: &Dependency<'_>) -> Option<PackageId> {
        self.holders
            .get(dep.name)?
            .iter()
            .find(|h| self.holder_meets(dep, **h))
            .map(|h| h.id())
    }

    /// Whether a Conflicts or Breaks relation `dep` hits `holder`. dpkg lets
    /// `:any` there match a package whatever its Multi-Arch.
    fn conflict_hits(&self, dep: &Dependency<'_>, holder: Holder<'_>) -> bool {
        if dep.arch == ArchQualifier::Any {
            let plain = Dependency { arch: ArchQualifier::None, ..dep.clone() };
            return self.holder_meets(&plain, holder);
        }
        self.holder_meets(dep, holder)
    }

    /// The relation groups of a package in walk order: Pre-Depends, Depends,
    /// then Recommends when they are followed. Parsed once.
    fn relations_of(&mut self, id: PackageId) -> Result<Relations<'a>, ResolveError> {
        if let Some(r) = self.relations.get(&id) {
            return Ok(Rc::clone(r));
        }
        let mut fields = vec![RelationField::PreDepends, RelationField::Depends];
        if self.options.with_recommends {
            fields.push(RelationField::Recommends);
        }
        let mut groups = Vec::new();
        for field in fields {
            groups.extend(self.index.relations(id, field)?.into_iter().map(|g| (field, g)));
        }
        let groups = Rc::new(groups);
        self.relations.insert(id, Rc::clone(&groups));
        Ok(groups)
    }

    /// The choice points on the reason chain of a marked package.
    fn blame(&self, mut id: PackageId, out: &mut BTreeSet<usize>) {
        let mut seen = HashSet::new();
        while seen.insert(id) {
            let Some(mark) = self.marked.get(&id) else { break };
            out.extend(mark.choice_point);
            match mark.reason {
                Reason::Dependency { from, .. } => id = from,
                Reason::Requested | Reason::Base => break,
            }
        }
    }

    /// The chain of reasons from the request to a marked package.
    fn chain(&self, mut id: PackageId) -> ReasonChain {
        let mut packages = vec![self.name(id).to_owned()];
        let mut from_base_set = false;
        let mut seen = HashSet::new();
        while seen.insert(id) {
            match self.marked.get(&id).map(|m| &m.reason) {
                Some(Reason::Dependency { from, .. }) => {
                    id = *from;
                    packages.push(self.name(id).to_owned());
                }
                Some(Reason::Base) => {
                    from_base_set = true;
                    break;
                }
                _ => break,
            }
        }
        packages.reverse();
        ReasonChain { from_base_set, packages }
    }

    fn describe(&self, id: PackageId) -> PackageVersion {
        let p = self.index.package(id);
        PackageVersion { name: p.name.to_owned(), version: p.version.to_owned() }
    }

    /// A marked package that `id`'s Conflicts or Breaks hits, or that hits
    /// `id`: (holder of the relation, its field, the relation, the other).
    /// Debian ignores a package's conflict with itself.
    fn find_conflict(&self, id: PackageId) -> Result<Option<(PackageId, RelationField, String, PackageId)>, ResolveError> {
        let arch = self.index.architecture();
        for field in [RelationField::Conflicts, RelationField::Breaks] {
            for group in self.index.relations(id, field)? {
                for dep in group.iter().filter(|d| d.applies_to(arch)) {
                    let hit = self.holders.get(dep.name).into_iter().flatten().find(|h| h.id() != id && self.conflict_hits(dep, **h));
                    if let Some(other) = hit {
                        return Ok(Some((id, field, dep.to_string(), other.id())));
                    }
                }
            }
        }
        let p = self.index.package(id);
        let names = std::iter::once((p.name, Holder::Real(id)))
            .chain(self.index.provides(id).iter().map(|d| (d.name, Holder::Provided(id, d.constraint.map(|c| c.1)))));
        for (name, holder) in names {
            for (other, dep, field) in self.conflicts.get(name).into_iter().flatten() {
                if *other != id && self.conflict_hits(dep, holder) {
                    return Ok(Some((*other, *field, dep.to_string(), *other)));
                }
            }
        }
        Ok(None)
    }

    /// Adds `id` to the closure (its dependencies go on the agenda), or
    /// explains why it cannot be: it conflicts with a marked package.
    fn mark(&mut self, id: PackageId, reason: Reason, choice_point: Option<usize>) -> Result<Step, ResolveError> {
        self.steps += 1;
        if self.steps > STEP_LIMIT {
            return Err(ResolveError::TooManySteps(STEP_LIMIT));
        }
        if let Some((holder, field, relation, other)) = self.find_conflict(id)? {
            let mut culprits = BTreeSet::new();
            culprits.extend(choice_point);
            self.blame(other, &mut culprits);
            let added_chain = match &reason {
                Reason::Dependency { from, .. } => {
                    self.blame(*from, &mut culprits);
                    let mut chain = self.chain(*from);
                    chain.packages.push(self.name(id).to_owned());
                    chain
                }
                _ => ReasonChain { from_base_set: false, packages: vec![self.name(id).to_owned()] },
            };
            let dead_end = DeadEnd::Conflict {
                holder: self.describe(holder),
                field,
                relation,
                present: self.describe(other),
                present_chain: self.chain(other),
                added: self.describe(id),
                added_chain,
            };
            return Ok(Step::DeadEnd(Failure { culprits, dead_end: Box::new(dead_end) }));
        }
        let arch = self.index.architecture();
        let p = self.index.package(id);
        let mut conflicts = Vec::new();
        for field in [RelationField::Conflicts, RelationField::Breaks] {
            for group in self.index.relations(id, field)? {
                conflicts.extend(group.into_iter().filter(|d| d.applies_to(arch)).map(|d| (d, field)));
            }
        }
        self.marked.insert(id, Mark { reason, choice_point });
        self.trail.push(id);
        self.holders.entry(p.name).or_default().push(Holder::Real(id));
        for d in self.index.provides(id) {
            let held = Holder::Provided(id, d.constraint.map(|c| c.1));
            self.holders.entry(d.name).or_default().push(held);
        }
        for (dep, field) in conflicts {
            self.conflicts.entry(dep.name).or_default().push((id, dep, field));
        }
        let groups = self.relations_of(id)?;
        self.agenda.extend((0..groups.len()).rev().map(|index| Task { from: id, index }));
        Ok(Step::Done)
    }

    /// Marks the roots (as apt marks the whole command line before any
    /// dependency), then meets relation groups until none is left,
    /// backjumping on failures.
    fn run(&mut self, roots: &[(PackageId, Reason)]) -> Result<(), ResolveError> {
        for (id, reason) in roots {
            if let Step::DeadEnd(failure) = self.mark(*id, reason.clone(), None)? {
                return Err(self.unsatisfiable(failure));
            }
        }
        // Marking put each root's groups on the agenda after the previous
        // root's; walk them in request order instead: first root on top.
        self.agenda.clear();
        for (id, _) in roots.iter().rev() {
            let groups = self.relations_of(*id)?;
            self.agenda.extend((0..groups.len()).rev().map(|index| Task { from: *id, index }));
        }
        while let Some(task) = self.agenda.pop() {
            if let Step::DeadEnd(failure) = self.step(task)? {
                self.backjump(failure)?;
            }
        }
        Ok(())
    }

    /// Meets one relation group.
    fn step(&mut self, task: Task) -> Result<Step, ResolveError> {
        let groups = self.relations_of(task.from)?;
        let (field, group) = &groups[task.index];
        let field = *field;
        let arch = self.index.architecture();
        let alts: Vec<&Dependency<'a>> = group.iter().filter(|d| d.applies_to(arch)).collect();
        if alts.is_empty() {
            return Ok(Step::Done);
        }
        let from = task.from;
        let relation = display_group(group);
        for dep in &alts {
            if let Some(holder) = self.marked_holder(dep) {
                self.edges.push((from, holder, field));
                if alts.len() > 1 {
                    let rule = match self.marked[&holder].reason {
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
                return Ok(Step::Done);
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
            self.prefer(&key.join(" | "), &mut cands);
        }
        let before = cands.len();
        cands.retain(|c| !self.options.exclude.contains(self.candidate_name(c)));
        if cands.is_empty() && before > 0 {
            let excluded: BTreeSet<&str> = alts
                .iter()
                .flat_map(|d| self.alternative_candidates(d))
                .map(|c| self.candidate_name(&c))
                .collect();
            for name in excluded {
                self.assumed.push(Assumed {
                    name: name.to_owned(),
                    required_by: self.name(from).to_owned(),
                    relation: relation.clone(),
                });
            }
            return Ok(Step::Done);
        }
        if field == RelationField::Recommends {
            // A recommendation that cannot be met, or that gets in the way,
            // is dropped, as apt does.
            if cands.is_empty() {
                return Ok(Step::Done);
            }
            cands.push(Candidate { id: None, rule: Rule::EarlierCandidatesFailed });
        }
        if cands.is_empty() {
            let mut culprits = BTreeSet::new();
            self.blame(from, &mut culprits);
            let dead_end = DeadEnd::NoCandidate {
                package: self.describe(from),
                field,
                relation,
                architecture: self.index.architecture().to_owned(),
                chain: self.chain(from),
            };
            return Ok(Step::DeadEnd(Failure { culprits, dead_end: Box::new(dead_end) }));
        }
        self.refuse_ambiguous(&relation, self.name(from), &cands)?;
        if cands.len() == 1 {
            let id = cands[0].id.expect("a lone candidate is a package");
            let reason = Reason::Dependency { from, field, relation };
            let result = self.mark(id, reason, None)?;
            if let Step::Done = result {
                self.edges.push((from, id, field));
            }
            return Ok(result);
        }
        let save = Save {
            trail: self.trail.len(),
            edges: self.edges.len(),
            choices: self.choices.len(),
            assumed: self.assumed.len(),
            agenda: self.agenda.clone(),
        };
        self.choice_points.push(ChoicePoint {
            task,
            relation,
            candidates: cands,
            next: 0,
            save,
            culprits: BTreeSet::new(),
            failures: Vec::new(),
        });
        self.try_next(self.choice_points.len() - 1)
    }

    /// Tries the next candidate of choice point `k` (the state is as saved).
    fn try_next(&mut self, k: usize) -> Result<Step, ResolveError> {
        let cp = &mut self.choice_points[k];
        let i = cp.next;
        cp.next += 1;
        let cand = cp.candidates[i];
        let (task, relation) = (cp.task, cp.relation.clone());
        let groups = self.relations_of(task.from)?;
        let field = groups[task.index].0;
        let cp = &self.choice_points[k];
        self.choices.push(Choice {
            required_by: Some(self.name(task.from).to_owned()),
            relation: relation.clone(),
            candidates: cp.candidates.iter().map(|c| self.candidate_name(c).to_owned()).collect(),
            chosen: self.candidate_name(&cand).to_owned(),
            rule: if i == 0 { cand.rule } else { Rule::EarlierCandidatesFailed },
        });
        let Some(id) = cand.id else {
            // Skipping a recommendation is not a choice worth reporting.
            self.choices.pop();
            return Ok(Step::Done);
        };
        let reason = Reason::Dependency { from: task.from, field, relation };
        let result = self.mark(id, reason, Some(k))?;
        if let Step::Done = result {
            self.edges.push((task.from, id, field));
        }
        Ok(result)
    }

    /// Returns to the state of choice point `k`.
    fn restore(&mut self, k: usize) {
        let save = &self.choice_points[k].save;
        let (trail, edges, choices, assumed) = (save.trail, save.edges, save.choices, save.assumed);
        self.agenda = save.agenda.clone();
        while self.trail.len() > trail {
            let id = self.trail.pop().expect("trail is longer than the save point");
            self.marked.remove(&id);
            let p = self.index.package(id);
            for name in std::iter::once(p.name).chain(self.index.provides(id).iter().map(|d| d.name)) {
                if let Some(list) = self.holders.get_mut(name) {
                    list.retain(|h| h.id() != id);
                }
            }
            for list in self.conflicts.values_mut() {
                if list.last().is_some_and(|c| c.0 == id) {
                    list.retain(|c| c.0 != id);
                }
            }
        }
        self.edges.truncate(edges);
        self.choices.truncate(choices);
        self.assumed.truncate(assumed);
    }

    /// Jumps back to the most recent choice point to blame that has a
    /// candidate left, and tries it; fails when none is left.
    fn backjump(&mut self, mut failure: Failure) -> Result<(), ResolveError> {
        loop {
            let Some(&k) = failure.culprits.iter().next_back() else {
                return Err(self.unsatisfiable(failure));
            };
            debug_assert!(k < self.choice_points.len(), "blamed choice points exist");
            self.choice_points.truncate(k + 1);
            self.restore(k);
            let cp = &mut self.choice_points[k];
            cp.culprits.extend(failure.culprits.iter().filter(|c| **c < k));
            cp.failures.push((*failure.dead_end).clone());
            if cp.next < cp.candidates.len() {
                match self.try_next(k)? {
                    Step::Done => return Ok(()),
                    Step::DeadEnd(f) => {
                        let mut culprits = f.culprits;
                        culprits.insert(k);
                        culprits.extend(self.choice_points[k].culprits.iter().copied());
                        failure = Failure { culprits, dead_end: f.dead_end };
                    }
                }
            } else {
                let cp = self.choice_points.pop().expect("k is the last choice point");
                let attempts = cp
                    .candidates
                    .iter()
                    .zip(cp.failures)
                    .map(|(c, reason)| Attempt { candidate: c.id.map(|id| self.describe(id)), reason })
                    .collect();
                self.exhausted.push(ExhaustedChoice { package: self.describe(cp.task.from), relation: cp.relation, attempts });
                failure = Failure { culprits: cp.culprits, dead_end: failure.dead_end };
            }
        }
    }

    fn unsatisfiable(&self, failure: Failure) -> ResolveError {
        let exhausted = self.exhausted.iter().rev().take(MAX_EXHAUSTED).cloned().collect();
        ResolveError::Unsatisfiable { tree: Box::new(Unsat { failure: *failure.dead_end, exhausted }) }
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
                let why = match &self.marked[id].reason {
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
                    archive: index.sources()[p.source].archive.clone(),
                    filename: p.filename.to_owned(),
                    sha256: p.sha256,
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
