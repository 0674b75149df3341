//! The resolver's rules, one scenario at a time, through the library API.
//!
//! Each scenario is written in a small package language that expands into
//! `Packages` stanzas:
//!
//! ```text
//! [main suite=bookworm]                  # starts a Packages file (label, suite, notautomatic)
//! a 1: Depends b | c; Provides v (= 2)   # name version: Field value; Field value
//! b 1:2.0-1: Priority required; Essential yes; Multi-Arch allowed; Architecture all
//! ```
//!
//! Lines before the first `[...]` header go to a file labelled `main`, with no
//! suite, automatic. `Architecture` defaults to `amd64` (the target of every
//! scenario); `Filename`, `Size` and `SHA256` are generated.
//!
//! Every resolution is done twice, the second time with the files and the
//! stanzas of each file in reverse order, and must give the same answer.
//! A failed check names the scenario and the request and prints the closure.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use debclosure::index::{Index, IndexError, IndexSource, MultiArch, RelationField};
use debclosure::relation::{display_group, parse_relations, ArchQualifier, Dependency};
use debclosure::resolve::{
    resolve_closure, Base, Closure, Preferences, RequestedPackage, ResolveError, ResolveOptions, Rule, Why,
};

const ARCH: &str = "amd64";

// ---------------------------------------------------------------------------
// The package language.

/// One `Packages` file of a scenario, stanza by stanza.
#[derive(Clone)]
struct File {
    label: String,
    suite: Option<String>,
    automatic: bool,
    stanzas: Vec<String>,
}

impl File {
    fn new(label: &str) -> Self {
        File {
            label: label.to_owned(),
            suite: None,
            automatic: true,
            stanzas: Vec::new(),
        }
    }

    fn source(&self, reversed: bool) -> IndexSource {
        let mut stanzas = self.stanzas.clone();
        if reversed {
            stanzas.reverse();
        }
        IndexSource {
            label: self.label.clone(),
            archive: None,
            suite: self.suite.clone(),
            automatic: self.automatic,
            content: stanzas.join("\n").into(),
        }
    }
}

/// FNV-1a, to derive stable fake hashes and sizes.
fn fnv(seed: u64, text: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Expands one package line into a stanza.
fn stanza(file: &str, line: &str) -> String {
    let (head, fields) = line.split_once(": ").unwrap_or((line, ""));
    let mut words = head.split_whitespace();
    let name = words.next().expect("a package line starts with a name");
    let version = words.next().unwrap_or_else(|| panic!("no version in {line:?}"));
    assert!(words.next().is_none(), "expected `name version: fields` in {line:?}");
    let mut arch = ARCH.to_owned();
    let mut out = format!("Package: {name}\nVersion: {version}\n");
    let mut rest = String::new();
    for field in fields.split(';').map(str::trim).filter(|f| !f.is_empty()) {
        let (key, value) = field.split_once(' ').unwrap_or((field, ""));
        if key == "Architecture" {
            arch = value.trim().to_owned();
        } else {
            writeln!(rest, "{key}: {}", value.trim()).unwrap();
        }
    }
    writeln!(out, "Architecture: {arch}").unwrap();
    out.push_str(&rest);
    let plain_version = version.split_once(':').map_or(version, |(_, v)| v);
    let initial = &name[..1];
    let id = format!("{file}/{name}/{version}/{arch}");
    let sha: String = (0..4).map(|k| format!("{:016x}", fnv(k, &id))).collect();
    writeln!(
        out,
        "Filename: pool/main/{initial}/{name}/{name}_{plain_version}_{arch}.deb"
    )
    .unwrap();
    writeln!(out, "Size: {}", 1000 + fnv(9, &id) % 100_000).unwrap();
    writeln!(out, "SHA256: {sha}").unwrap();
    out
}

fn parse_dsl(text: &str) -> Vec<File> {
    let mut files: Vec<File> = Vec::new();
    for raw in text.lines() {
        let line = raw.split_once('#').map_or(raw, |(l, _)| l).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let header = header.strip_suffix(']').expect("a file header ends with ]");
            let mut words = header.split_whitespace();
            let mut file = File::new(words.next().expect("a file header names the file"));
            for w in words {
                match w.split_once('=') {
                    Some(("suite", s)) => file.suite = Some(s.to_owned()),
                    None if w == "notautomatic" => file.automatic = false,
                    _ => panic!("unknown file option {w:?}"),
                }
            }
            files.push(file);
            continue;
        }
        if files.is_empty() {
            files.push(File::new("main"));
        }
        let file = files.last_mut().expect("there is a file");
        let s = stanza(&file.label, line);
        file.stanzas.push(s);
    }
    files
}

// ---------------------------------------------------------------------------
// An independent check of a closure: every Pre-Depends and Depends (and
// Recommends when followed, unless dropped) of every package is met inside
// it or listed as assumed, and no package conflicts with or breaks another.

/// One name a package of the closure answers to.
struct Held<'a> {
    package: &'a str,
    /// The version a dependency is checked against; `None` for an
    /// unversioned Provides.
    version: Option<&'a str>,
    multi_arch: MultiArch,
}

fn meets(dep: &Dependency<'_>, held: &Held<'_>) -> bool {
    let arch_ok = match dep.arch {
        ArchQualifier::None | ArchQualifier::Native => true,
        ArchQualifier::Named(a) => a == ARCH,
        ArchQualifier::Any => held.multi_arch == MultiArch::Allowed,
    };
    let version_ok = match (dep.constraint, held.version) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(_), Some(v)) => dep.version_matches(v),
    };
    arch_ok && version_ok
}

fn inconsistencies(index: &Index<'_>, closure: &Closure, recommends_followed: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut members = Vec::new();
    for cp in &closure.packages {
        let found = index.versions(&cp.name).iter().copied().find(|id| {
            let p = index.package(*id);
            p.version == cp.version && p.filename == cp.filename && p.sha256 == cp.sha256
        });
        match found {
            Some(id) => members.push((id, index.package(id))),
            None => problems.push(format!("{} {} is not a stanza of the index", cp.name, cp.version)),
        }
    }
    let mut held: std::collections::HashMap<&str, Vec<Held<'_>>> = std::collections::HashMap::new();
    for (id, p) in &members {
        held.entry(p.name).or_default().push(Held {
            package: p.name,
            version: Some(p.version),
            multi_arch: p.multi_arch,
        });
        for d in index.provides(*id) {
            held.entry(d.name).or_default().push(Held {
                package: p.name,
                version: d.constraint.map(|(_, v)| v),
                multi_arch: p.multi_arch,
            });
        }
    }
    let none = Vec::new();
    for (_, p) in &members {
        let mut fields = vec![RelationField::PreDepends, RelationField::Depends];
        if recommends_followed {
            fields.push(RelationField::Recommends);
        }
        for field in fields {
            let groups = parse_relations(p.relation_text(field)).expect("fields of the closure parse");
            for group in groups {
                let alts: Vec<&Dependency<'_>> = group.iter().filter(|d| d.applies_to(ARCH)).collect();
                if alts.is_empty() {
                    continue;
                }
                let met = alts
                    .iter()
                    .any(|d| held.get(d.name).unwrap_or(&none).iter().any(|h| meets(d, h)));
                let relation = display_group(&group);
                let assumed = closure
                    .assumed
                    .iter()
                    .any(|a| a.required_by == p.name && a.relation == relation);
                if !met && !assumed && field != RelationField::Recommends {
                    problems.push(format!("{} {field}: {relation} is not met", p.name));
                }
            }
        }
        for field in [RelationField::Conflicts, RelationField::Breaks] {
            let groups = parse_relations(p.relation_text(field)).expect("fields of the closure parse");
            for d in groups.iter().flatten().filter(|d| d.applies_to(ARCH)) {
                for h in held.get(d.name).unwrap_or(&none) {
                    if h.package != p.name && meets(d, h) {
                        problems.push(format!("{} {field}: {d}, and {} is in the closure", p.name, h.package));
                    }
                }
            }
        }
    }
    problems
}

// ---------------------------------------------------------------------------
// The harness.

struct Scenario {
    name: String,
    files: Vec<File>,
}

fn scenario(name: &str, text: &str) -> Scenario {
    Scenario {
        name: name.to_owned(),
        files: parse_dsl(text),
    }
}

/// Options with the built-in preference table, as the command line uses.
fn opts() -> ResolveOptions {
    ResolveOptions {
        preferences: Preferences::builtin(),
        ..ResolveOptions::default()
    }
}

fn with(f: impl FnOnce(&mut ResolveOptions)) -> ResolveOptions {
    let mut o = opts();
    f(&mut o);
    o
}

fn dump(c: &Closure) -> String {
    let mut out = String::from("  packages (group name version arch, why):\n");
    for p in &c.packages {
        let why = match &p.why {
            Why::Requested => "requested".to_owned(),
            Why::Base => "base".to_owned(),
            Why::Dependency {
                package,
                field,
                relation,
            } => format!("{package} {field}: {relation}"),
        };
        writeln!(
            out,
            "    {} {} {} {} <- {why}",
            p.group, p.name, p.version, p.architecture
        )
        .unwrap();
    }
    out.push_str("  choices:\n");
    for ch in &c.choices {
        writeln!(
            out,
            "    {}: {} -> {} [{:?}] from [{}]",
            ch.required_by.as_deref().unwrap_or("(request)"),
            ch.relation,
            ch.chosen,
            ch.rule,
            ch.candidates.join(", ")
        )
        .unwrap();
    }
    out.push_str("  assumed:\n");
    for a in &c.assumed {
        writeln!(out, "    {} for {}: {}", a.name, a.required_by, a.relation).unwrap();
    }
    out
}

fn show_result(r: &Result<Closure, ResolveError>) -> String {
    match r {
        Ok(c) => format!("closure:\n{}", dump(c)),
        Err(e) => format!("error: {e}"),
    }
}

impl Scenario {
    fn sources(&self, reversed: bool) -> Vec<IndexSource> {
        let mut files: Vec<IndexSource> = self.files.iter().map(|f| f.source(reversed)).collect();
        if reversed {
            files.reverse();
        }
        files
    }

    fn run(&self, request: &[&str], options: &ResolveOptions, reversed: bool) -> Result<Closure, ResolveError> {
        let sources = self.sources(reversed);
        let index = Index::build(&sources, ARCH)
            .unwrap_or_else(|e| panic!("[{}] the scenario's index does not load: {e}", self.name));
        let request: Vec<RequestedPackage> = request
            .iter()
            .map(|r| RequestedPackage::parse(r).unwrap_or_else(|e| panic!("[{}] {e}", self.name)))
            .collect();
        let result = resolve_closure(&index, &request, options);
        if let Ok(closure) = &result {
            let problems = inconsistencies(&index, closure, options.with_recommends);
            assert!(
                problems.is_empty(),
                "[{}] request {request:?}: the closure is not consistent:\n  {}\n{}",
                self.name,
                problems.join("\n  "),
                dump(closure)
            );
        }
        result
    }

    /// Resolves, and checks that reversing files and stanzas changes nothing.
    fn resolve(&self, request: &[&str], options: &ResolveOptions) -> Result<Closure, ResolveError> {
        let first = self.run(request, options, false);
        let second = self.run(request, options, true);
        let same = match (&first, &second) {
            (Ok(a), Ok(b)) => a == b,
            // Index errors name a line, which moves when stanzas are reversed.
            (Err(ResolveError::Index(_)), Err(ResolveError::Index(_))) => true,
            (Err(a), Err(b)) => a.to_string() == b.to_string(),
            _ => false,
        };
        assert!(
            same,
            "[{}] request {request:?}: the answer depends on the order of files and stanzas\n\
             files in order: {}\nfiles and stanzas reversed: {}",
            self.name,
            show_result(&first),
            show_result(&second)
        );
        first
    }

    fn ok(&self, request: &[&str], options: &ResolveOptions) -> Run {
        match self.resolve(request, options) {
            Ok(closure) => Run {
                scenario: self.name.clone(),
                request: format!("{request:?}"),
                closure,
            },
            Err(e) => panic!("[{}] request {request:?}: unexpected error: {e}", self.name),
        }
    }

    fn err(&self, request: &[&str], options: &ResolveOptions) -> ResolveError {
        match self.resolve(request, options) {
            Ok(c) => panic!(
                "[{}] request {request:?}: expected an error, got a closure:\n{}",
                self.name,
                dump(&c)
            ),
            Err(e) => e,
        }
    }

    /// Expects `Unsatisfiable` with a message that names every one of `names`.
    fn unsatisfiable(&self, request: &[&str], options: &ResolveOptions, names: &[&str]) {
        match self.err(request, options) {
            ResolveError::Unsatisfiable { tree } => {
                for n in names {
                    assert!(
                        tree.to_string().contains(n),
                        "[{}] request {request:?}: the message does not name {n:?}:\n{tree}",
                        self.name
                    );
                }
            }
            e => panic!("[{}] request {request:?}: expected Unsatisfiable, got: {e}", self.name),
        }
    }
}

/// A successful resolution, with checks that print it on failure.
struct Run {
    scenario: String,
    request: String,
    closure: Closure,
}

impl Run {
    fn fail(&self, what: String) -> ! {
        panic!(
            "[{}] request {}: {what}\n{}",
            self.scenario,
            self.request,
            dump(&self.closure)
        )
    }

    /// The closure is exactly these packages: `name` or `name=version`.
    fn exactly(&self, want: &[&str]) -> &Self {
        let got: BTreeSet<String> = self.closure.packages.iter().map(|p| p.name.clone()).collect();
        let names: BTreeSet<String> = want
            .iter()
            .map(|w| w.split_once('=').map_or(*w, |(n, _)| n).to_owned())
            .collect();
        if got != names || got.len() != self.closure.packages.len() {
            self.fail(format!("expected exactly {names:?}"));
        }
        for w in want {
            if let Some((n, v)) = w.split_once('=') {
                let p = self
                    .closure
                    .packages
                    .iter()
                    .find(|p| p.name == n)
                    .expect("checked above");
                if p.version != v {
                    self.fail(format!("expected {n} at version {v}, got {}", p.version));
                }
            }
        }
        self
    }

    /// The relation (as written) was decided for `chosen` by `rule`.
    fn choice(&self, relation: &str, chosen: &str, rule: Rule) -> &Self {
        let found = self
            .closure
            .choices
            .iter()
            .any(|c| c.relation == relation && c.chosen == chosen && c.rule == rule);
        if !found {
            self.fail(format!("expected the choice {relation} -> {chosen} by {rule:?}"));
        }
        self
    }

    /// The choice for a relation considered exactly these candidates, in order.
    fn candidates(&self, relation: &str, want: &[&str]) -> &Self {
        let c = self.closure.choices.iter().find(|c| c.relation == relation);
        match c {
            Some(c) if c.candidates == want => self,
            _ => self.fail(format!("expected the candidates {want:?} for {relation}")),
        }
    }

    fn group_of(&self, name: &str) -> u32 {
        match self.closure.packages.iter().find(|p| p.name == name) {
            Some(p) => p.group,
            None => self.fail(format!("{name} is not in the closure")),
        }
    }

    /// The packages, in the order of the closure, with their groups.
    fn order(&self, want: &[(&str, u32)]) -> &Self {
        let got: Vec<(&str, u32)> = self
            .closure
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.group))
            .collect();
        if got != want {
            self.fail(format!("expected the order {want:?}"));
        }
        self
    }

    /// The assumed dependencies, as (excluded package, required by).
    fn assumed(&self, want: &[(&str, &str)]) -> &Self {
        let got: Vec<(&str, &str)> = self
            .closure
            .assumed
            .iter()
            .map(|a| (a.name.as_str(), a.required_by.as_str()))
            .collect();
        if got != want {
            self.fail(format!("expected assumed {want:?}"));
        }
        self
    }

    fn why(&self, name: &str, want: &Why) -> &Self {
        match self.closure.packages.iter().find(|p| p.name == name) {
            Some(p) if &p.why == want => self,
            _ => self.fail(format!("expected {name} to be there because {want:?}")),
        }
    }

    fn architecture_of(&self, name: &str, arch: &str) -> &Self {
        match self.closure.packages.iter().find(|p| p.name == name) {
            Some(p) if p.architecture == arch => self,
            _ => self.fail(format!("expected {name} of architecture {arch}")),
        }
    }
}

// ---------------------------------------------------------------------------
// Versions.

/// Checks with dpkg, when it is installed, a version comparison a scenario
/// relies on (`tests/version_dpkg.rs` checks the comparison itself).
fn dpkg_premise(a: &str, op: &str, b: &str, holds: bool) {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let available = *AVAILABLE.get_or_init(|| {
        std::process::Command::new("dpkg")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !available {
        return;
    }
    let status = std::process::Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .status()
        .expect("run dpkg --compare-versions");
    assert_eq!(
        status.success(),
        holds,
        "premise of a scenario: dpkg --compare-versions {a} {op} {b}"
    );
}

#[test]
fn version_constraints_are_honoured() {
    let s = scenario(
        "version/operators",
        "
        a 1: Depends b (<< 2), c (<= 2), d (= 2), e (>= 2), f (>> 2), g (= 1.0)
        b 2~rc1
        c 2
        d 0:2
        e 2
        f 2+b1
        g 1.0-0
        ",
    );
    for (a, op, b) in [
        ("2~rc1", "lt", "2"),
        ("2", "le", "2"),
        ("0:2", "eq", "2"),
        ("2", "ge", "2"),
        ("2+b1", "gt", "2"),
        ("1.0-0", "eq", "1.0"),
    ] {
        dpkg_premise(a, op, b, true);
    }
    s.ok(&["a"], &opts()).exactly(&["a", "b", "c", "d", "e", "f", "g"]);

    // Each operator against a version just outside what it allows.
    for (dep, outside, op) in [
        ("b (<< 2)", "2", "lt"),
        ("b (<= 2)", "2.0", "le"),
        ("b (= 2)", "2-1", "eq"),
        ("b (>= 2)", "2~", "ge"),
        ("b (>> 2)", "2-0", "gt"),
    ] {
        dpkg_premise(outside, op, "2", false);
        let s = scenario(
            &format!("version/{dep} against b {outside}"),
            &format!("a 1: Depends {dep}\nb {outside}\n"),
        );
        s.unsatisfiable(&["a"], &opts(), &["a 1", dep]);
    }

    let s = scenario(
        "version/next alternative",
        "
        a 1: Depends b (>= 2) | c
        b 1
        c 1
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "c"]);

    let s = scenario(
        "version/epoch beats upstream",
        "
        a 1: Depends b (>= 1:0)
        b 9.9
        ",
    );
    dpkg_premise("9.9", "ge", "1:0", false);
    s.unsatisfiable(&["a"], &opts(), &["b (>= 1:0)"]);
}

#[test]
fn versioned_provides_meet_versioned_dependencies() {
    let s = scenario(
        "provides/versioned",
        "
        a 1: Depends v (>= 2)
        p 1: Provides v (= 1)
        q 1: Provides v (= 3)
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "q"]);

    let s = scenario(
        "provides/versioned equal",
        "
        a 1: Depends v (= 1)
        p 1: Provides v (= 1)
        q 1: Provides v (= 3)
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "p"]);

    let s = scenario(
        "provides/real package too old, provider new enough",
        "
        a 1: Depends v (>= 2)
        v 1
        p 1: Provides v (= 2)
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "p"]);

    let s = scenario(
        "provides/several meet the version",
        "
        a 1: Depends v (>= 1)
        q 1: Provides v (= 3); Priority optional
        p 1: Provides v (= 1); Priority optional
        r 1: Provides v (= 0.5); Priority required
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "p"])
        .choice("v (>= 1)", "p", Rule::Name)
        .candidates("v (>= 1)", &["p", "q"]);
}

#[test]
fn unversioned_provides_never_meet_versioned_dependencies() {
    let s = scenario(
        "provides/unversioned vs versioned",
        "
        a 1: Depends v (>= 1) | w
        b 1: Depends v
        c 1: Depends v (>= 1)
        p 1: Provides v
        w 1
        ",
    );
    // Control: an unversioned dependency is met by the unversioned Provides.
    s.ok(&["b"], &opts()).exactly(&["b", "p"]);
    s.ok(&["a"], &opts()).exactly(&["a", "w"]);
    // Even when the provider is already in the closure.
    s.ok(&["p", "a"], &opts()).exactly(&["a", "p", "w"]);
    s.unsatisfiable(&["c"], &opts(), &["c 1", "v (>= 1)"]);
    s.unsatisfiable(&["p", "c"], &opts(), &["c 1", "v (>= 1)"]);
}

#[test]
fn highest_version_wins_whatever_the_file_order() {
    let files = [
        ("one", "b 1"),
        ("two", "b 10"),
        ("three", "b 9.9"),
        ("four", "b 1:0.1~rc1"),
        ("five", "b 1:0.1~rc0"),
    ];
    for other in ["1", "10", "9.9", "1:0.1~rc0"] {
        dpkg_premise("1:0.1~rc1", "gt", other, true);
    }
    // Every rotation of the five files (and, through the harness, each reversed).
    for k in 0..files.len() {
        let mut text = String::new();
        for (label, line) in files.iter().cycle().skip(k).take(files.len()) {
            writeln!(text, "[{label}]\n{line}").unwrap();
        }
        text.push_str("a 1: Depends b (>= 10)\n");
        let s = scenario(&format!("highest/rotation {k}"), &text);
        s.ok(&["a"], &opts()).exactly(&["a", "b=1:0.1~rc1"]);
        s.ok(&["b"], &opts()).exactly(&["b=1:0.1~rc1"]);
    }
    let s = scenario(
        "highest/one file, several stanzas",
        "
        b 2.0~beta
        b 2.0
        b 2.0-1
        b 1.99
        a 1: Depends b
        ",
    );
    for other in ["2.0~beta", "2.0", "1.99"] {
        dpkg_premise("2.0-1", "gt", other, true);
    }
    s.ok(&["a"], &opts()).exactly(&["a", "b=2.0-1"]);
    // name=version takes an older stanza, for dependents too.
    s.ok(&["a", "b=2.0~beta"], &opts()).exactly(&["a", "b=2.0~beta"]);

    // The same version in two files: one of them, the same whatever the order.
    let s = scenario(
        "highest/tie",
        "
        [one]
        b 1
        a 1: Depends b
        [two]
        b 0:1
        ",
    );
    dpkg_premise("1", "eq", "0:1", true);
    s.ok(&["a"], &opts()).exactly(&["a", "b"]);
}

#[test]
fn not_automatic_sources_only_on_request() {
    let s = scenario(
        "notautomatic",
        "
        [main suite=bookworm]
        a 1: Depends b
        b 1
        d 1: Depends b (>= 2)
        e 1: Depends v
        [backports suite=bookworm-backports notautomatic]
        b 2
        c 2
        p 2: Provides v
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "b=1"]);
    s.ok(&["b"], &opts()).exactly(&["b=1"]);
    s.ok(&["b=1"], &opts()).exactly(&["b=1"]);
    s.ok(&["b/bookworm"], &opts()).exactly(&["b=1"]);
    s.ok(&["b/bookworm-backports"], &opts()).exactly(&["b=2"]);
    s.ok(&["b=2"], &opts()).exactly(&["b=2"]);
    s.ok(&["a", "b/bookworm-backports"], &opts()).exactly(&["a", "b=2"]);
    s.ok(&["c/bookworm-backports"], &opts()).exactly(&["c=2"]);
    s.ok(&["d", "b=2"], &opts()).exactly(&["d", "b=2"]);
    s.ok(&["e", "p/bookworm-backports"], &opts()).exactly(&["e", "p=2"]);
    // Without a request naming it, the backport is not used.
    s.unsatisfiable(&["d"], &opts(), &["d 1", "b (>= 2)"]);
    s.unsatisfiable(&["e"], &opts(), &["e 1", "v"]);
    for bad in ["c", "b/trixie", "b=3"] {
        match s.err(&[bad], &opts()) {
            ResolveError::UnknownPackage { name, .. } => assert_eq!(name, bad, "[notautomatic] request {bad}"),
            e => panic!("[notautomatic] request {bad}: expected UnknownPackage, got {e}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Architectures.

#[test]
fn only_the_target_architecture_and_all() {
    let s = scenario(
        "arch/target and all",
        "
        a 1: Depends b, c
        b 1: Architecture all
        c 2: Architecture i386
        c 1
        x 1: Architecture arm64
        y 1: Depends x
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "b", "c=1"])
        .architecture_of("b", "all")
        .architecture_of("c", ARCH);
    assert!(
        matches!(s.err(&["x"], &opts()), ResolveError::UnknownPackage { .. }),
        "[arch] x is arm64 only"
    );
    s.unsatisfiable(&["y"], &opts(), &["y 1", "x"]);
}

// ---------------------------------------------------------------------------
// The walk.

#[test]
fn depth_first_in_request_order_marking_before_walking() {
    // Depth-first: b's subtree (d, then x | y -> x) is done before c adds y.
    // Breadth-first would add y (from c) before looking at d's `x | y`, and
    // leave x out.
    let s = scenario(
        "walk/depth-first",
        "
        a 1: Depends b, c
        b 1: Depends d
        c 1: Depends y
        d 1: Depends x | y
        x 1
        y 1
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "b", "c", "d", "x", "y"])
        .choice("x | y", "x", Rule::FirstAlternative);

    // Swapping b and c in a's Depends lets y in first.
    let s = scenario(
        "walk/depth-first, other field order",
        "
        a 1: Depends c, b
        b 1: Depends d
        c 1: Depends y
        d 1: Depends x | y
        x 1
        y 1
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "b", "c", "d", "y"])
        .choice("x | y", "y", Rule::AlreadyChosen);

    let s = scenario(
        "walk/request order",
        "
        a 1: Depends x | y
        c 1: Depends y
        x 1
        y 1
        ",
    );
    s.ok(&["a", "c"], &opts()).exactly(&["a", "c", "x", "y"]);
    s.ok(&["c", "a"], &opts())
        .exactly(&["a", "c", "y"])
        .choice("x | y", "y", Rule::AlreadyChosen);

    // A package is marked before its dependencies are walked, so a cycle
    // back to it is met by it.
    let s = scenario(
        "walk/mark before walk",
        "
        r 1: Depends a
        a 1: Depends b
        b 1: Depends a | x
        x 1
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "b"])
        .choice("a | x", "a", Rule::Requested);
    s.ok(&["r"], &opts())
        .exactly(&["r", "a", "b"])
        .choice("a | x", "a", Rule::AlreadyChosen);
}

#[test]
fn alternatives() {
    let s = scenario(
        "alt",
        "
        a 1: Depends b | c
        d 1: Conflicts b
        e 1: Depends f, b | c
        f 1: Depends c
        g 1: Depends nothere | c
        b 1
        c 1
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "b"])
        .choice("b | c", "b", Rule::FirstAlternative)
        .candidates("b | c", &["b", "c"]);
    // A requested alternative meets the group even when it is not first.
    s.ok(&["a", "c"], &opts())
        .exactly(&["a", "c"])
        .choice("b | c", "c", Rule::Requested);
    s.ok(&["c", "a"], &opts())
        .exactly(&["a", "c"])
        .choice("b | c", "c", Rule::Requested);
    // So does one already marked by another dependency.
    s.ok(&["e"], &opts())
        .exactly(&["e", "f", "c"])
        .choice("b | c", "c", Rule::AlreadyChosen);
    // A preference for the group.
    for key in ["b | c=c", "b|c=c"] {
        let mut o = opts();
        o.preferences.insert_arg(key).unwrap();
        s.ok(&["a"], &o)
            .exactly(&["a", "c"])
            .choice("b | c", "c", Rule::Preference);
    }
    // The key names the packages only, without versions.
    let s2 = scenario(
        "alt/preference on a versioned group",
        "
        a 1: Depends b (>= 1) | c (>= 1)
        b 1
        c 1
        ",
    );
    let mut o = opts();
    o.preferences.insert_arg("b | c=c").unwrap();
    s2.ok(&["a"], &o)
        .exactly(&["a", "c"])
        .choice("b (>= 1) | c (>= 1)", "c", Rule::Preference);
    // The first alternative conflicts with something already chosen.
    s.ok(&["d", "a"], &opts())
        .exactly(&["a", "c", "d"])
        .choice("b | c", "c", Rule::EarlierCandidatesFailed);
    s.ok(&["a", "d"], &opts())
        .exactly(&["a", "c", "d"])
        .choice("b | c", "c", Rule::EarlierCandidatesFailed);
    // An alternative with no package at all is passed over.
    s.ok(&["g"], &opts()).exactly(&["g", "c"]);
}

// ---------------------------------------------------------------------------
// Virtual packages.

#[test]
fn virtual_packages() {
    let s = scenario(
        "virtual/awk",
        "
        a 1: Depends awk
        gawk 1: Provides awk; Priority optional
        mawk 1: Provides awk; Priority optional
        original-awk 1: Provides awk; Priority optional
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "mawk"])
        .choice("awk", "mawk", Rule::Preference);
    let mut o = opts();
    o.preferences.insert_arg("awk=original-awk").unwrap();
    s.ok(&["a"], &o)
        .exactly(&["a", "original-awk"])
        .choice("awk", "original-awk", Rule::Preference);
    // Without the table, the name decides.
    let o = ResolveOptions::default();
    s.ok(&["a"], &o)
        .exactly(&["a", "gawk"])
        .choice("awk", "gawk", Rule::Name);

    let s = scenario(
        "virtual/real package first",
        "
        a 1: Depends v
        p 1: Provides v; Priority required
        v 1: Priority extra
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "v"])
        .choice("v", "v", Rule::RealPackage)
        .candidates("v", &["v", "p"]);
    // A preference comes before the real package.
    let mut o = opts();
    o.preferences.insert_arg("v=p").unwrap();
    s.ok(&["a"], &o).exactly(&["a", "p"]).choice("v", "p", Rule::Preference);

    // Priority: required > important > standard > optional > extra, with
    // names that sort the other way round.
    let providers = [
        ("e-required", "required"),
        ("d-important", "important"),
        ("c-standard", "standard"),
        ("b-optional", "optional"),
        ("a-extra", "extra"),
    ];
    for k in 0..providers.len() - 1 {
        let mut text = String::from("x 1: Depends v\n");
        for (name, prio) in &providers[k..] {
            writeln!(text, "{name} 1: Provides v; Priority {prio}").unwrap();
        }
        let s = scenario(&format!("virtual/priority from {}", providers[k].1), &text);
        s.ok(&["x"], &opts())
            .exactly(&["x", providers[k].0])
            .choice("v", providers[k].0, Rule::Priority);
    }

    let s = scenario(
        "virtual/name among the most important",
        "
        x 1: Depends v
        a-opt 1: Provides v; Priority optional
        z-req 1: Provides v; Priority required
        m-req 1: Provides v; Priority required
        ",
    );
    s.ok(&["x"], &opts())
        .exactly(&["x", "m-req"])
        .choice("v", "m-req", Rule::Name)
        .candidates("v", &["m-req", "z-req", "a-opt"]);
}

// ---------------------------------------------------------------------------
// Conflicts and Breaks.

#[test]
fn conflicting_packages_never_together() {
    for field in ["Conflicts", "Breaks"] {
        let s = scenario(
            &format!("conflicts/{field} between requested packages"),
            &format!(
                "
                a 1: {field} b
                b 1
                c 1: Depends d
                d 1: {field} c
                "
            ),
        );
        s.unsatisfiable(&["a", "b"], &opts(), &["a 1", "b 1"]);
        s.unsatisfiable(&["b", "a"], &opts(), &["a 1", "b 1"]);
        // A dependency that conflicts with its dependent.
        s.unsatisfiable(&["c"], &opts(), &["c 1", "d 1"]);
    }

    let s = scenario(
        "conflicts/versioned",
        "
        a 1: Conflicts b (<< 2), c (<< 2)
        b 2
        c 1.9
        ",
    );
    s.ok(&["a", "b"], &opts()).exactly(&["a", "b"]);
    s.unsatisfiable(&["a", "c"], &opts(), &["a 1", "c 1.9"]);

    // A versioned Conflicts hits only a versioned Provides in range.
    let s = scenario(
        "conflicts/versioned against Provides",
        "
        a 1: Conflicts v (<< 2)
        p 1: Provides v (= 1)
        q 1: Provides v
        r 1: Provides v (= 3)
        ",
    );
    s.unsatisfiable(&["a", "p"], &opts(), &["a 1", "p 1"]);
    s.unsatisfiable(&["p", "a"], &opts(), &["a 1", "p 1"]);
    s.ok(&["a", "q", "r"], &opts()).exactly(&["a", "q", "r"]);

    let s = scenario(
        "conflicts/virtual",
        "
        a 1: Conflicts mta
        p 1: Provides mta
        ",
    );
    s.unsatisfiable(&["a", "p"], &opts(), &["a 1", "p 1"]);

    // A package's Conflicts against a name it provides itself is ignored,
    // but still holds against other providers.
    let s = scenario(
        "conflicts/self provided",
        "
        p 1: Provides mta; Conflicts mta; Priority required
        q 1: Provides mta; Conflicts mta
        x 1: Depends mta
        ",
    );
    s.ok(&["p"], &opts()).exactly(&["p"]);
    s.ok(&["x"], &opts()).exactly(&["x", "p"]);
    s.ok(&["p", "x"], &opts()).exactly(&["x", "p"]);
    s.unsatisfiable(&["p", "q"], &opts(), &["p 1", "q 1"]);
}

#[test]
fn a_choice_leading_to_a_conflict_is_undone() {
    for (field, conflicting, quiet) in [("Conflicts", "r", "z"), ("Breaks", "r", "z"), ("Conflicts", "z", "r")] {
        // The conflict is two levels below the choice of p1: p1 -> q -> r.
        let text = format!(
            "
            a 1: Depends v
            p1 1: Provides v; Priority required; Depends q
            p2 1: Provides v; Priority optional
            q 1: Depends r
            {conflicting} 1: {field} {quiet}
            {quiet} 1
            "
        );
        let s = scenario(&format!("undo/{conflicting} {field} {quiet}, deep"), &text);
        // Control: without z, p1 is taken by Priority.
        s.ok(&["a"], &opts())
            .exactly(&["a", "p1", "q", "r"])
            .choice("v", "p1", Rule::Priority);
        s.ok(&["a", "z"], &opts())
            .exactly(&["a", "p2", "z"])
            .choice("v", "p2", Rule::EarlierCandidatesFailed);
        s.ok(&["z", "a"], &opts())
            .exactly(&["a", "p2", "z"])
            .choice("v", "p2", Rule::EarlierCandidatesFailed);
    }

    let s = scenario(
        "undo/alternative, deep",
        "
        a 1: Depends b | c
        b 1: Depends q
        q 1: Depends r
        r 1: Breaks z
        c 1
        z 1
        ",
    );
    s.ok(&["a", "z"], &opts())
        .exactly(&["a", "c", "z"])
        .choice("b | c", "c", Rule::EarlierCandidatesFailed);

    // What an undone attempt added no longer meets, or conflicts with, anything.
    let s = scenario(
        "undo/undone packages leave no trace",
        "
        a 1: Depends b | c, d
        b 1: Depends q
        q 1: Depends r
        r 1: Conflicts z
        c 1
        d 1: Depends q | e
        e 1
        z 1
        ",
    );
    // b and q were added, then taken back when r failed.
    s.ok(&["a", "z"], &opts())
        .exactly(&["a", "c", "d", "e", "z"])
        .choice("q | e", "e", Rule::EarlierCandidatesFailed);
    let s = scenario(
        "undo/undone conflicts are forgotten",
        "
        a 1: Depends b | c, x
        b 1: Conflicts x; Depends nothere
        c 1
        x 1
        ",
    );
    s.ok(&["a"], &opts())
        .exactly(&["a", "c", "x"])
        .choice("b | c", "c", Rule::EarlierCandidatesFailed);

    let s = scenario(
        "undo/nothing works",
        "
        a 1: Depends b | c
        b 1: Depends q
        q 1: Conflicts z
        c 1
        z 1: Breaks c
        ",
    );
    s.unsatisfiable(&["a", "z"], &opts(), &["a 1", "b 1", "c 1", "q 1", "z 1"]);
}

/// The choice of p1 for `v` only turns out wrong when a's next dependency,
/// w, is added: w conflicts with p1. The request is satisfiable with p2.
#[test]
fn a_choice_undone_when_a_later_dependency_conflicts_with_it() {
    let s = scenario(
        "undo/later sibling conflicts with an earlier choice",
        "
        a 1: Depends v, w
        p1 1: Provides v; Priority required
        p2 1: Provides v; Priority optional
        w 1: Conflicts p1
        ",
    );
    // Control: with w requested first, p1 is never tried.
    s.ok(&["w", "a"], &opts()).exactly(&["a", "p2", "w"]);
    s.ok(&["a"], &opts()).exactly(&["a", "p2", "w"]);
}

/// The shape of libreoffice-writer in Debian 12 (which this resolver cannot
/// resolve today while apt can): the first alternative taken for a
/// dependency's `x | y` conflicts with what a later dependency needs.
#[test]
fn a_first_alternative_undone_when_a_later_dependency_needs_the_second() {
    // The shape of libreoffice-writer in Debian 12: libreoffice-base-core
    // takes `libreoffice-core-nogui | libreoffice-core`, then the writer
    // itself needs `libreoffice-core (= V)`, which conflicts with -nogui.
    let s = scenario(
        "undo/later sibling needs the second alternative of an earlier choice",
        "
        writer 1: Depends base-core (= 1), core (= 1)
        base-core 1: Depends core-nogui (= 1) | core (= 1)
        core 1: Conflicts core-nogui
        core-nogui 1: Conflicts core
        ",
    );
    // Control: requesting core first settles the group.
    s.ok(&["core", "writer"], &opts())
        .exactly(&["writer", "base-core", "core"]);
    s.ok(&["writer"], &opts()).exactly(&["writer", "base-core", "core"]);
}

/// The explanation of an unsatisfiable request must say which side of a
/// conflict was in the closure and how it got there, also when the conflict
/// happened inside an attempt that was later taken back.
#[test]
fn unsatisfiable_message_tells_which_side_was_in_the_closure() {
    // No alternatives anywhere: no resolver can satisfy `top`.
    let s = scenario(
        "message/conflict inside an undone attempt",
        "
        top 1: Depends mid
        mid 1: Depends lib, tool
        lib 1: Depends nogui
        tool 1: Depends core
        core 1: Conflicts nogui
        nogui 1
        ",
    );
    // Control: the conflict at the top level is explained right.
    match s.err(&["lib", "tool"], &opts()) {
        ResolveError::Unsatisfiable { tree } => assert!(
            tree.to_string().contains("nogui 1 is in the closure: lib -> nogui") && !tree.to_string().contains("core 1 is in the closure"),
            "[{}] request [lib, tool]:\n{tree}",
            s.name
        ),
        e => panic!("[{}] expected Unsatisfiable, got {e}", s.name),
    }
    match s.err(&["top"], &opts()) {
        ResolveError::Unsatisfiable { tree } => assert!(
            tree.to_string().contains("nogui 1 is in the closure: top -> mid -> lib -> nogui")
                && !tree.to_string().contains("core 1 is in the closure"),
            "[{}] request [top]: the message should say nogui (via top -> mid -> lib) was in the closure \
             when core was being added:\n{tree}",
            s.name
        ),
        e => panic!("[{}] expected Unsatisfiable, got {e}", s.name),
    }
}

// ---------------------------------------------------------------------------
// Multi-Arch qualifiers.

#[test]
fn arch_qualifiers() {
    let s = scenario(
        "multiarch",
        "
        a 1: Depends perl:any
        b 1: Depends tool:any
        c 1: Depends lib:any
        d 1: Depends v:any
        e 1: Depends lib:native, tool:amd64
        f 1: Depends lib:i386
        g 1: Depends lib:i386 | tool
        perl 1: Multi-Arch allowed
        tool 1: Multi-Arch foreign
        lib 1: Multi-Arch same
        p 1: Provides v; Multi-Arch allowed
        libc6-x32 1: Conflicts libc6-i386:x32
        libc6-i386 1
        h 1: Conflicts tool:amd64
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "perl"]);
    s.unsatisfiable(&["b"], &opts(), &["b 1", "tool:any"]);
    s.unsatisfiable(&["c"], &opts(), &["c 1", "lib:any"]);
    s.ok(&["d"], &opts()).exactly(&["d", "p"]);
    s.ok(&["e"], &opts()).exactly(&["e", "lib", "tool"]);
    s.unsatisfiable(&["f"], &opts(), &["f 1", "lib:i386"]);
    s.ok(&["g"], &opts()).exactly(&["g", "tool"]);
    s.ok(&["libc6-x32", "libc6-i386"], &opts())
        .exactly(&["libc6-x32", "libc6-i386"]);
    s.unsatisfiable(&["h", "tool"], &opts(), &["h 1", "tool 1"]);
}

#[test]
fn arch_restrictions_and_profiles() {
    let s = scenario(
        "restrictions",
        "
        a 1: Depends b [i386] | c
        d 1: Depends b [!amd64]
        e 1: Depends b [amd64 arm64]
        f 1: Depends b [!i386 !arm64]
        g 1: Depends b <!nocheck> <stage1 cross>
        h 1: Conflicts z [i386]
        i 1: Conflicts z [amd64]
        b 1
        c 1
        z 1
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "c"]);
    s.ok(&["d"], &opts()).exactly(&["d"]);
    s.ok(&["e"], &opts()).exactly(&["e", "b"]);
    s.ok(&["f"], &opts()).exactly(&["f", "b"]);
    s.ok(&["g"], &opts()).exactly(&["g", "b"]);
    s.ok(&["h", "z"], &opts()).exactly(&["h", "z"]);
    s.unsatisfiable(&["i", "z"], &opts(), &["i 1", "z 1"]);
}

// ---------------------------------------------------------------------------
// Options.

#[test]
fn exclude() {
    let s = scenario(
        "exclude",
        "
        a 1: Depends b, c
        b 1: Depends d
        c 1
        d 1
        e 1: Depends b | c
        f 1: Depends v
        p1 1: Provides v; Priority required
        p2 1: Provides v; Priority optional
        ess 1: Essential yes
        ",
    );
    let ex = |names: &[&str]| with(|o| o.exclude = names.iter().map(|n| (*n).to_owned()).collect());
    s.ok(&["a"], &ex(&["b"])).exactly(&["a", "c"]).assumed(&[("b", "a")]);
    s.ok(&["e"], &ex(&["b"])).exactly(&["e", "c"]).assumed(&[]);
    s.ok(&["f"], &ex(&["p1"])).exactly(&["f", "p2"]).assumed(&[]);
    s.ok(&["f"], &ex(&["p1", "p2"]))
        .exactly(&["f"])
        .assumed(&[("p1", "f"), ("p2", "f")]);
    let o = with(|o| {
        o.exclude.insert("ess".into());
        o.base = Base::Essential;
    });
    s.ok(&["c"], &o).exactly(&["c"]);
    assert!(
        matches!(s.err(&["b"], &ex(&["b"])), ResolveError::RequestedAndExcluded(n) if n == "b"),
        "[exclude] requesting an excluded package"
    );
}

#[test]
fn strict() {
    let s = scenario(
        "strict",
        "
        by-priority 1: Depends v
        by-name 1: Depends w
        by-real 1: Depends u
        single 1: Depends s
        alternatives 1: Depends x | y
        p1 1: Provides v, w; Priority required
        p2 1: Provides v, w, u; Priority optional
        p3 1: Provides w; Priority required
        p4 1: Provides s
        u 1
        x 1
        y 1
        ",
    );
    let strict = with(|o| o.strict = true);
    s.ok(&["by-priority"], &opts())
        .exactly(&["by-priority", "p1"])
        .choice("v", "p1", Rule::Priority);
    s.ok(&["by-name"], &opts())
        .exactly(&["by-name", "p1"])
        .choice("w", "p1", Rule::Name);
    for (req, relation) in [("by-priority", "v"), ("by-name", "w")] {
        match s.err(&[req], &strict) {
            ResolveError::Ambiguous {
                relation: r,
                required_by,
                providers,
            } => {
                assert_eq!((r.as_str(), required_by.as_str()), (relation, req), "[strict] {req}");
                assert!(
                    providers.contains(&"p1".to_owned()) && providers.contains(&"p2".to_owned()),
                    "[strict] {req}: {providers:?}"
                );
            }
            e => panic!("[strict] request {req}: expected Ambiguous, got {e}"),
        }
    }
    // A requested virtual name is held to the same rule.
    assert!(
        matches!(s.err(&["v"], &strict), ResolveError::Ambiguous { .. }),
        "[strict] request v"
    );
    // No error when a preference, a real package, a lone provider or the
    // order of alternatives decides.
    let mut o = strict.clone();
    o.preferences.insert_arg("v=p2").unwrap();
    s.ok(&["by-priority"], &o)
        .exactly(&["by-priority", "p2"])
        .choice("v", "p2", Rule::Preference);
    s.ok(&["by-real"], &strict).exactly(&["by-real", "u"]);
    s.ok(&["single"], &strict).exactly(&["single", "p4"]);
    s.ok(&["alternatives"], &strict).exactly(&["alternatives", "x"]);
}

#[test]
fn base_sets() {
    let s = scenario(
        "base",
        "
        e1 1: Essential yes; Priority required; Depends d1
        e2 1: Essential yes; Priority optional
        r1 1: Priority required; Depends d2
        i1 1: Priority important
        d1 1
        d2 1
        x 1
        ",
    );
    s.ok(&["x"], &opts()).exactly(&["x"]);
    s.ok(&["x"], &with(|o| o.base = Base::Essential))
        .exactly(&["x", "e1", "e2", "d1"])
        .why("e2", &Why::Base)
        .why("x", &Why::Requested);
    s.ok(&["x"], &with(|o| o.base = Base::Required))
        .exactly(&["x", "e1", "e2", "d1", "r1", "d2"])
        .why("r1", &Why::Base);
}

#[test]
fn recommends() {
    let s = scenario(
        "recommends",
        "
        a 1: Depends d; Recommends b, nothere, c | e, f, g
        b 1: Depends h
        c 1
        d 1
        e 1
        f 1: Conflicts a
        g 1: Depends nothere
        h 1
        ",
    );
    s.ok(&["a"], &opts()).exactly(&["a", "d"]);
    s.ok(&["a"], &with(|o| o.with_recommends = true))
        .exactly(&["a", "b", "c", "d", "h"])
        .why(
            "b",
            &Why::Dependency {
                package: "a".into(),
                field: "Recommends".into(),
                relation: "b".into(),
            },
        );
}

/// A recommended package is optional: when a later dependency conflicts with
/// it, the recommendation is dropped rather than the request failing.
#[test]
fn a_recommendation_never_makes_a_request_fail() {
    let s = scenario(
        "recommends/dropped for a later conflict",
        "
        a 1: Recommends r
        b 1: Depends s
        r 1
        s 1: Conflicts r
        ",
    );
    let o = with(|o| o.with_recommends = true);
    // Control: each alone.
    s.ok(&["a"], &o).exactly(&["a", "r"]);
    s.ok(&["b", "a"], &o).exactly(&["a", "b", "s"]);
    s.ok(&["a", "b"], &o).exactly(&["a", "b", "s"]);
}

// ---------------------------------------------------------------------------
// Install order.

#[test]
fn install_order() {
    let s = scenario(
        "order/pre-depends",
        "
        a 1: Pre-Depends b; Depends c
        b 1: Depends d
        c 1
        d 1: Pre-Depends e
        e 1
        ",
    );
    s.ok(&["a"], &opts())
        .order(&[("c", 0), ("e", 0), ("b", 1), ("d", 1), ("a", 2)]);

    // The same groups when the Pre-Depends target is itself requested, first or last.
    let s = scenario(
        "order/requested pre-dependency",
        "
        a 1: Pre-Depends b
        b 1: Pre-Depends c
        c 1
        ",
    );
    for req in [["a", "b"], ["b", "a"]] {
        s.ok(&req, &opts()).order(&[("c", 0), ("b", 1), ("a", 2)]);
    }

    // Recommends do not order: no cycle through them.
    let s = scenario(
        "order/recommends",
        "
        x 1: Pre-Depends y
        y 1: Recommends x
        ",
    );
    s.ok(&["x"], &with(|o| o.with_recommends = true))
        .order(&[("y", 0), ("x", 1)]);

    let s = scenario(
        "order/depends cycle",
        "
        x 1: Depends y; Pre-Depends z
        y 1: Depends x
        w 1: Depends x
        z 1
        ",
    );
    let run = s.ok(&["w"], &opts());
    run.order(&[("z", 0), ("w", 1), ("x", 1), ("y", 1)]);
    assert_eq!(
        run.group_of("x"),
        run.group_of("y"),
        "[order/depends cycle] x and y share a group"
    );

    let s = scenario(
        "order/pre-depends cycle",
        "
        p 1: Pre-Depends q
        q 1: Depends r
        r 1: Depends p
        ",
    );
    match s.err(&["p"], &opts()) {
        ResolveError::PreDependsCycle { packages } => {
            let set: BTreeSet<&str> = packages.iter().map(String::as_str).collect();
            assert_eq!(
                set,
                BTreeSet::from(["p", "q", "r"]),
                "[order/pre-depends cycle] {packages:?}"
            );
            assert_eq!(
                packages.first(),
                packages.last(),
                "[order/pre-depends cycle] {packages:?}"
            );
        }
        e => panic!("[order/pre-depends cycle] expected PreDependsCycle, got {e}"),
    }
}

// ---------------------------------------------------------------------------
// Requests and errors.

#[test]
fn requests() {
    let s = scenario(
        "request",
        "
        p1 1: Provides v; Priority important
        p2 1: Provides v; Priority required
        p3 1: Provides solo
        ",
    );
    match s.err(&["nothere"], &opts()) {
        ResolveError::UnknownPackage { name, .. } => assert_eq!(name, "nothere"),
        e => panic!("[request] nothere: expected UnknownPackage, got {e}"),
    }
    let run = s.ok(&["v"], &opts());
    run.exactly(&["p2"])
        .choice("v", "p2", Rule::Priority)
        .why("p2", &Why::Requested);
    assert!(
        run.closure
            .choices
            .iter()
            .any(|c| c.relation == "v" && c.required_by.is_none()),
        "[request] the choice for a requested virtual name has no required_by\n{}",
        dump(&run.closure)
    );
    s.ok(&["solo"], &opts()).exactly(&["p3"]);
}

/// The line (from 1) of the first line of `s`'s main file starting with
/// `prefix`, as the scenario writes it.
fn line_starting(s: &Scenario, prefix: &str) -> usize {
    let main = s.files[0].source(false);
    main.content.text().expect("a text source").lines().position(|l| l.starts_with(prefix)).expect("the bad line") + 1
}

/// The file, line, package and field of a `BadField` error.
fn bad_field(label: &str, err: ResolveError) -> (String, usize, String, String) {
    match err {
        ResolveError::Index(IndexError::BadField { file, line, package, field, .. }) => (file, line, package, field),
        e => panic!("[{label}] expected a BadField error, got {e}"),
    }
}

#[test]
fn bad_relation_fields_name_file_line_and_field() {
    let text = "
        a 1: Depends b
        b 1: Depends c (>= ); Priority optional
        c 1
        d 1: Depends c
        e 1: Depends c; Conflicts x (>> 
        unreached 1: Depends ((
        ";
    let s = scenario("bad field", text);
    // The line of b's Depends in the generated text.
    let want_line = line_starting(&s, "Depends: c (>= )");
    let (file, line, package, field) = bad_field("bad field", s.err(&["a"], &opts()));
    assert_eq!((file.as_str(), line, package.as_str(), field.as_str()), ("main", want_line, "b", "Depends"));
    let msg = s.err(&["a"], &opts()).to_string();
    assert!(
        msg.starts_with(&format!("main:{want_line}: ")) && msg.contains("Depends"),
        "[bad field] {msg}"
    );
    // Conflicts are read when the package is added.
    let (_, _, package, field) = bad_field("bad field, for e", s.err(&["e"], &opts()));
    assert_eq!((package.as_str(), field.as_str()), ("e", "Conflicts"));
    let s2 = scenario("bad field/Pre-Depends", "a 1: Pre-Depends b [amd64 !i386]\nb 1\n");
    let want_line = line_starting(&s2, "Pre-Depends:");
    let (file, line, package, field) = bad_field("bad field/Pre-Depends", s2.err(&["a"], &opts()));
    assert_eq!((file.as_str(), line, package.as_str(), field.as_str()), ("main", want_line, "a", "Pre-Depends"));
    // Fields of packages outside the closure are not read.
    s.ok(&["d"], &opts()).exactly(&["d", "c"]);
}
