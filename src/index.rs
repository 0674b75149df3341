//! `Packages` indices merged into one view of the archive for one architecture.
//!
//! Each stanza of the target architecture or `all` becomes a [`Package`] that
//! borrows its text from the loaded file. Cheap fields are validated at load
//! (name, version, file name, hash, size, Provides), so that a bad index fails
//! at once with its file and line; relationship fields are parsed lazily, only
//! for the packages a closure walks.
//!
//! For each name the *candidate* is the highest version from an automatic
//! source; a not-automatic source (e.g. backports) is used only when a request
//! names it (`name/suite` or `name=version`). Ties are broken by file name and
//! hash, then by the other fields, never by the order of files or stanzas.
//!
//! [`detect_architecture`] reads the target architecture from the files
//! themselves, as deb-closure.pl implicitly did: the one architecture their
//! stanzas name besides `all`.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;


use crate::deb822::{self, cut, escaped, Deb822Error};
use crate::hash::Sha256;
use crate::relation::{self, Dependency};
use crate::version;
use rustc_hash::FxHashMap;

mod compact;

pub use compact::{CompactError, CompactIndex, FORMAT_VERSION as COMPACT_FORMAT_VERSION};

/// One loaded `Packages` file.
#[derive(Debug, Clone)]
pub struct IndexSource {
    /// Where it came from (a path or URL), for messages.
    pub label: String,
    /// The archive it belongs to (`debian`, `debian-security`), when it was
    /// downloaded; its packages' files are under that archive.
    pub archive: Option<String>,
    /// The suite it belongs to (`bookworm`, `bookworm-backports`), if known;
    /// requests may name it as `name/suite`.
    pub suite: Option<String>,
    /// False for a `NotAutomatic: yes` suite.
    pub automatic: bool,
    /// Its stanzas.
    pub content: IndexContent,
}

/// The stanzas of a `Packages` file: its text, or their compact form.
#[derive(Debug, Clone)]
pub enum IndexContent {
    /// The decompressed text, read when the index is built.
    Text(String),
    /// The stanzas of one architecture, read already (from the cache, or
    /// from the text by [`CompactIndex::from_text`]).
    Compact(CompactIndex),
}

impl From<String> for IndexContent {
    fn from(text: String) -> Self {
        IndexContent::Text(text)
    }
}

impl IndexContent {
    /// The text, unless only the compact form is here.
    pub fn text(&self) -> Option<&str> {
        match self {
            IndexContent::Text(text) => Some(text),
            IndexContent::Compact(_) => None,
        }
    }
}

/// Errors while building the index; each names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The text is not valid deb822.
    #[error("{file}:{}: {}", .error.line, .error.problem)]
    Syntax {
        /// The source label.
        file: String,
        /// The parse error with its line.
        error: Deb822Error,
    },
    /// A field that every package needs is missing.
    #[error("{file}:{line}: stanza has no {field} field")]
    MissingField {
        /// The source label.
        file: String,
        /// Line of the stanza.
        line: usize,
        /// The missing field.
        field: &'static str,
    },
    /// A field has a value that is not allowed.
    #[error("{file}:{line}: package {package}: field {field}: {problem}")]
    BadField {
        /// The source label.
        file: String,
        /// Line of the field.
        line: usize,
        /// The package of the stanza, as written (cut to 60 characters,
        /// control characters escaped).
        package: String,
        /// The field name.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

/// Why the target architecture cannot be read from the index files.
#[derive(Debug, thiserror::Error)]
pub enum ArchitectureError {
    /// The files name several architectures besides `all`.
    #[error("cannot tell the target architecture: the index files hold packages of several architectures: {}", several(.found))]
    Several {
        /// Each architecture (as written, escaped) with the files holding it
        /// and the line where it first appears there, sorted.
        found: BTreeMap<String, Vec<(String, usize)>>,
    },
    /// The files name no architecture besides `all`.
    #[error("cannot tell the target architecture: {}", nothing_but_all(.files, *.packages))]
    None {
        /// Every file read.
        files: Vec<String>,
        /// How many `Architecture: all` stanzas they hold.
        packages: usize,
    },
}

fn several(found: &BTreeMap<String, Vec<(String, usize)>>) -> String {
    let arches: Vec<String> = found
        .iter()
        .map(|(arch, files)| {
            let files: Vec<String> = files.iter().map(|(file, line)| format!("{file}:{line}")).collect();
            format!("{arch} ({})", files.join(", "))
        })
        .collect();
    arches.join(", ")
}

fn nothing_but_all(files: &[String], packages: usize) -> String {
    let verb = if files.len() == 1 { "holds" } else { "hold" };
    let what = if packages == 0 { "no packages" } else { "only `Architecture: all` packages" };
    format!("{} {verb} {what}", files.join(", "))
}

/// What to do about a file that is not a Packages index.
pub const INDEX_HINT: &str =
    "the file must be a Debian Packages index (plain, .xz, .gz or .bz2); fix or replace it, or fetch it again";

impl IndexError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(INDEX_HINT.into())
    }
}

impl ArchitectureError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ArchitectureError::Several { .. } => {
                "pass --arch ARCH to resolve for one of them (closureGenerator: `arch = \"ARCH\";`), or give only the lists of one architecture".into()
            }
            ArchitectureError::None { .. } => {
                "pass --arch ARCH (closureGenerator: `arch = \"ARCH\";`); `Architecture: all` packages are read for every architecture".into()
            }
        })
    }
}

/// The target architecture the sources agree on: the one value of their
/// `Architecture:` fields other than `all`. Read from the text alone, never
/// from the machine, so the same files give the same answer everywhere (an
/// i386 list on an amd64 builder resolves for i386).
///
/// A quick line scan rather than a parse: a field starts a line, and a line
/// that starts with `#` or blank space is a comment or a continuation.
/// Malformed stanzas are left for [`Index::build`] to report.
pub fn detect_architecture(sources: &[IndexSource]) -> Result<String, ArchitectureError> {
    let mut found: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    let mut all = 0;
    let scanned: Vec<(BTreeMap<&str, usize>, usize)> = if sources.len() > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = sources.iter().map(|s| scope.spawn(move || architectures_of(s))).collect();
            handles.into_iter().map(|h| h.join().expect("scanning does not panic")).collect()
        })
    } else {
        sources.iter().map(architectures_of).collect()
    };
    for (source, (arches, n_all)) in sources.iter().zip(scanned) {
        all += n_all;
        for (arch, line) in arches {
            found.entry(arch.to_owned()).or_default().push((source.label.clone(), line));
        }
    }
    match found.len() {
        1 => Ok(found.into_keys().next().expect("one entry")),
        0 => {
            let mut files: Vec<String> = sources.iter().map(|s| s.label.clone()).collect();
            files.sort();
            Err(ArchitectureError::None { files, packages: all })
        }
        _ => {
            let mut shown: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
            for (arch, files) in found {
                shown.entry(escaped(&arch)).or_default().extend(files);
            }
            for files in shown.values_mut() {
                files.sort();
            }
            Err(ArchitectureError::Several { found: shown })
        }
    }
}

fn architectures_of(source: &IndexSource) -> (BTreeMap<&str, usize>, usize) {
    match &source.content {
        IndexContent::Text(text) => architectures_in(text),
        // Only its own architecture and `all` were kept.
        IndexContent::Compact(c) => (BTreeMap::from([(c.architecture(), 1)]), 0),
    }
}

/// The `Architecture:` values of a text other than `all`, each with the line
/// where it first appears, and the number of `all` fields.
fn architectures_in(text: &str) -> (BTreeMap<&str, usize>, usize) {
    const FIELD: &str = "Architecture:";
    let mut arches = BTreeMap::new();
    let mut all = 0;
    let mut line = 1;
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut newlines = memchr::memchr_iter(b'\n', bytes);
    while start < bytes.len() {
        let end = newlines.next().unwrap_or(bytes.len());
        let l = &text[start..end];
        if l.len() > FIELD.len() && l.as_bytes()[..FIELD.len()].eq_ignore_ascii_case(FIELD.as_bytes()) {
            let value = l[FIELD.len()..].trim_matches([' ', '\t', '\r']);
            if value == "all" {
                all += 1;
            } else if !value.is_empty() {
                arches.entry(value).or_insert(line);
            }
        }
        start = end + 1;
        line += 1;
    }
    (arches, all)
}

/// `Priority:` of a package, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// `required`
    Required,
    /// `important`
    Important,
    /// `standard`
    Standard,
    /// `optional`
    Optional,
    /// `extra` (obsolete)
    Extra,
    /// Absent or unknown.
    Unknown,
}

impl Priority {
    fn parse(s: &str) -> Priority {
        match s {
            "required" => Priority::Required,
            "important" => Priority::Important,
            "standard" => Priority::Standard,
            "optional" => Priority::Optional,
            "extra" => Priority::Extra,
            _ => Priority::Unknown,
        }
    }
}

/// `Multi-Arch:` of a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MultiArch {
    /// Absent or `no`.
    No,
    /// `same`
    Same,
    /// `foreign`
    Foreign,
    /// `allowed`: may satisfy `name:any`.
    Allowed,
}

/// Identifies a package in an [`Index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackageId(pub u32);

/// A relationship field of a package, kept as text until needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelationField {
    /// `Pre-Depends`
    PreDepends,
    /// `Depends`
    Depends,
    /// `Recommends`
    Recommends,
    /// `Conflicts`
    Conflicts,
    /// `Breaks`
    Breaks,
}

impl RelationField {
    /// The field name as Debian writes it.
    pub fn name(self) -> &'static str {
        match self {
            RelationField::PreDepends => "Pre-Depends",
            RelationField::Depends => "Depends",
            RelationField::Recommends => "Recommends",
            RelationField::Conflicts => "Conflicts",
            RelationField::Breaks => "Breaks",
        }
    }
}

impl fmt::Display for RelationField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One binary package stanza of the target architecture or `all`.
#[derive(Debug, Clone)]
pub struct Package<'a> {
    /// `Package:`
    pub name: &'a str,
    /// `Version:`, validated.
    pub version: &'a str,
    /// `Architecture:` (the target or `all`).
    pub architecture: &'a str,
    /// `Multi-Arch:`
    pub multi_arch: MultiArch,
    /// `Priority:`
    pub priority: Priority,
    /// `Essential: yes`
    pub essential: bool,
    /// `Filename:`, archive-relative and checked to be safe.
    pub filename: &'a str,
    /// `SHA256:`, read from 64 lower-case hex digits.
    pub sha256: Sha256,
    /// `Size:`
    pub size: u64,
    /// `Provides:`, parsed, in [`Index::provides`].
    provides: Range<u32>,
    relations: [&'a str; 5],
    /// Line of each relationship field; 0 when absent.
    relation_lines: [usize; 5],
    /// Index of the [`IndexSource`] this stanza came from.
    pub source: usize,
    /// Line of the stanza in its source.
    pub line: usize,
}

impl<'a> Package<'a> {
    /// The raw text of a relationship field (empty when absent).
    pub fn relation_text(&self, field: RelationField) -> &'a str {
        self.relations[field as usize]
    }
}

/// The packages of several `Packages` files for one architecture.
///
/// Lookups are binary searches in sorted arrays. The packages of a compact
/// source are read where they lie, when asked for: building from compact
/// sources allocates a few arrays, nothing per stanza, and copies no
/// package (issue 12).
pub struct Index<'a> {
    sources: &'a [IndexSource],
    architecture: String,
    /// The packages read from texts.
    packages: Vec<Package<'a>>,
    /// Each source's ids, in source order; ids follow the order of sources.
    parts: Vec<Part<'a>>,
    /// Every package's `Provides`, parsed; each package has a range.
    provides: Vec<Dependency<'a>>,
    /// Every id, by name, then best first (automatic before not, then
    /// highest version).
    by_name: Vec<PackageId>,
    /// Every name provided by a text source's stanzas, with its range of
    /// `providers`; a compact source has this table stored.
    provided: FxHashMap<&'a str, Range<u32>>,
    /// The text sources' stanzas providing each name, one range a name,
    /// in id order, with the provided version.
    providers: Vec<Provider<'a>>,
}

/// A stanza providing a name, with the version it provides, if any.
type Provider<'a> = (PackageId, Option<&'a str>);

/// The packages of one source: the ids from the previous part's `end` to
/// this one's.
struct Part<'a> {
    end: u32,
    store: Store<'a>,
}

/// Where the packages of a source are.
enum Store<'a> {
    /// In [`Index::packages`], from this position.
    Text(usize),
    /// In a compact index, read in place.
    Compact(compact::View<'a>),
}

/// Checks that an archive-relative file name is safe to join to a URL or a
/// directory and to write into Nix: relative, no `.`/`..` or empty component,
/// no control character or backslash.
pub fn check_filename(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("file name is empty".into());
    }
    // Cut for the message only: this runs for every stanza of an index.
    let shown = || cut(name);
    if name.starts_with('/') {
        return Err(format!("file name {:?} is absolute", shown()));
    }
    // One pass over the bytes (issue 12): whether any is a control
    // character, a backslash or not ASCII (then judged by characters), and
    // whether a component is empty, `.` or `..`.
    let bytes = name.as_bytes();
    let mut suspect = false;
    let mut bad_component = false;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        suspect |= !(0x20..0x7f).contains(&b) || b == b'\\';
        if b == b'/' {
            bad_component |= matches!(&bytes[start..i], b"" | b"." | b"..");
            start = i + 1;
        }
    }
    bad_component |= matches!(&bytes[start..], b"" | b"." | b"..");
    if suspect {
        if let Some(c) = name.chars().find(|c| c.is_control() || *c == '\\') {
            return Err(format!("file name {:?} contains the character {c:?}", shown()));
        }
    }
    if bad_component {
        return Err(format!("file name {:?} has an empty, '.' or '..' component", shown()));
    }
    Ok(())
}

impl<'a> Index<'a> {
    /// Reads every source for `architecture` (plus `all`). Large texts are
    /// cut at stanza boundaries and parsed on all cores; the result does not
    /// depend on how they were cut, nor on the order of stanzas or files.
    pub fn build(sources: &'a [IndexSource], architecture: &str) -> Result<Self, IndexError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut chunks = Vec::new();
        for (n, source) in sources.iter().enumerate() {
            if let IndexContent::Text(text) = &source.content {
                // Below ~4 MB a second thread costs more than it saves.
                let parts = (text.len() >> 22).clamp(1, threads);
                chunks.extend(deb822::split_stanzas(text, parts).into_iter().map(|r| (n, text.as_str(), r)));
            }
        }
        let parsed: Vec<Result<Chunk<'a>, IndexError>> = if chunks.len() <= 1 {
            chunks.iter().map(|(n, text, r)| read_chunk(&sources[*n], *n, text, r.clone(), architecture)).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .iter()
                    .map(|(n, text, r)| scope.spawn(move || read_chunk(&sources[*n], *n, text, r.clone(), architecture)))
                    .collect();
                handles.into_iter().map(|h| h.join().expect("parsing does not panic")).collect()
            })
        };
        let texts = sources.iter().filter_map(|s| s.content.text()).map(|t| t.len() / 700);
        let mut packages = Vec::with_capacity(texts.sum());
        // Every package's Provides, parsed as the texts were read (where
        // they were checked), or stored so by a compact source.
        let mut provides = Vec::new();
        let mut parts = Vec::with_capacity(sources.len());
        let mut ids = 0;
        let mut parsed = chunks.iter().map(|(n, ..)| *n).zip(parsed).peekable();
        for (n, source) in sources.iter().enumerate() {
            let store = match &source.content {
                IndexContent::Compact(c) => {
                    ids += c.len();
                    Store::Compact(c.view(n, &mut provides))
                }
                IndexContent::Text(_) => {
                    let first = packages.len();
                    // Chunks were parsed from line 1; shift each by the lines before it.
                    let mut line_shift = 0;
                    while let Some((_, result)) = parsed.next_if(|(m, _)| *m == n) {
                        let (mut chunk, chunk_provides, lines) = result.map_err(|e| e.shifted(line_shift))?;
                        let provides_shift = provides.len() as u32;
                        provides.extend(chunk_provides);
                        for p in &mut chunk {
                            p.line += line_shift;
                            for line in p.relation_lines.iter_mut().filter(|l| **l != 0) {
                                *line += line_shift;
                            }
                            p.provides = p.provides.start + provides_shift..p.provides.end + provides_shift;
                        }
                        // The first chunk's array becomes the index's: growing
                        // a large allocation remaps it rather than copying.
                        if packages.is_empty() {
                            packages = chunk;
                        } else {
                            packages.append(&mut chunk);
                        }
                        line_shift += lines;
                    }
                    ids += packages.len() - first;
                    Store::Text(first)
                }
            };
            parts.push(Part { end: ids as u32, store });
        }
        let mut index = Index {
            sources,
            architecture: architecture.to_owned(),
            packages,
            parts,
            provides,
            by_name: Vec::new(),
            provided: FxHashMap::default(),
            providers: Vec::new(),
        };
        index.by_name = index.sorted_by_name();
        (index.provided, index.providers) = index.providers_by_name();
        Ok(index)
    }

    /// Every id, by name, then best first: each source's ids sorted (a
    /// compact source's are already), then merged.
    fn sorted_by_name(&self) -> Vec<PackageId> {
        let mut start = 0;
        let mut merged = Vec::new();
        for part in &self.parts {
            let ids = (start..part.end).map(PackageId);
            start = part.end;
            let sorted = match part.store {
                Store::Compact(_) => ids.collect(),
                Store::Text(_) => self.sort_by_name(ids.collect()),
            };
            merged = self.merge_by_name(merged, sorted);
        }
        merged
    }

    fn by_name_order(&self, a: PackageId, b: PackageId) -> std::cmp::Ordering {
        self.name(a).cmp(self.name(b)).then_with(|| self.rank(a, b))
    }

    fn sort_by_name(&self, mut ids: Vec<PackageId>) -> Vec<PackageId> {
        // Names compare by their first sixteen bytes first, which decides
        // most comparisons without a call to memcmp.
        let first = ids.first().map_or(0, |id| id.0);
        let prefixes: Vec<u128> = ids.iter().map(|id| name_prefix(self.name(*id))).collect();
        let prefix = |id: &PackageId| prefixes[(id.0 - first) as usize];
        ids.sort_by(|a, b| prefix(a).cmp(&prefix(b)).then_with(|| self.by_name_order(*a, *b)));
        ids
    }

    /// Two lists sorted by name merged, `earlier` holding the ids of
    /// earlier sources (first on a tie, as in a stable sort). Each of the
    /// shorter list's ids is placed by a binary search in the longer, so
    /// that a small source (an updates suite) costs a few comparisons, not
    /// a pass over a large one.
    fn merge_by_name(&self, earlier: Vec<PackageId>, later: Vec<PackageId>) -> Vec<PackageId> {
        let short_is_earlier = earlier.len() <= later.len();
        let (short, long) = if short_is_earlier { (earlier, later) } else { (later, earlier) };
        if short.is_empty() {
            return long;
        }
        let mut merged = Vec::with_capacity(short.len() + long.len());
        let mut rest = &long[..];
        for id in short {
            let before = rest.partition_point(|other| match self.by_name_order(*other, id) {
                std::cmp::Ordering::Equal => !short_is_earlier,
                order => order.is_lt(),
            });
            merged.extend_from_slice(&rest[..before]);
            merged.push(id);
            rest = &rest[before..];
        }
        merged.extend_from_slice(rest);
        merged
    }

    /// The text sources' providers by name: counted, then placed (one
    /// table and one array, rather than a list per name).
    fn providers_by_name(&self) -> (FxHashMap<&'a str, Range<u32>>, Vec<Provider<'a>>) {
        let mut start = 0;
        let mut texts = Vec::new();
        for part in &self.parts {
            if let Store::Text(first) = part.store {
                texts.extend((start..part.end).map(PackageId).zip(&self.packages[first..]));
            }
            start = part.end;
        }
        let of = |p: &Package<'a>| &self.provides[p.provides.start as usize..p.provides.end as usize];
        let mut provided: FxHashMap<&'a str, Range<u32>> = FxHashMap::default();
        for (_, p) in &texts {
            for d in of(p) {
                // The count, for now.
                provided.entry(d.name).or_insert(0..0).end += 1;
            }
        }
        let mut next = 0;
        for range in provided.values_mut() {
            let count = range.end;
            *range = next..next;
            next += count;
        }
        let mut providers = vec![(PackageId(0), None); next as usize];
        for (id, p) in texts {
            for d in of(p) {
                let range = provided.get_mut(d.name).expect("every provided name is counted");
                providers[range.end as usize] = (id, d.constraint.map(|(_, v)| v));
                range.end += 1;
            }
        }
        (provided, providers)
    }

    /// Orders two stanzas of one name best first: automatic sources first,
    /// then the highest version. Beyond that, one file is described twice
    /// (issue 8): the tie is broken by everything the resolver and the
    /// output read, so the order of files and stanzas never decides.
    fn rank(&self, a: PackageId, b: PackageId) -> std::cmp::Ordering {
        let first = |id: PackageId| (!self.sources[self.source(id)].automatic, std::cmp::Reverse(VersionKey(self.version(id))));
        first(a).cmp(&first(b)).then_with(|| {
            let rest = |id: PackageId| {
                let p = self.package(id);
                let s = &self.sources[p.source];
                (
                    (p.filename, p.sha256, p.size, p.architecture, p.essential, p.priority, p.multi_arch as u8),
                    (p.relations, self.provides(id), s.archive.as_deref(), s.suite.as_deref()),
                )
            };
            rest(a).cmp(&rest(b))
        })
    }

    /// The part holding `id`, and the package's position in it.
    fn locate(&self, id: PackageId) -> (&Part<'a>, usize) {
        let i = self.source(id);
        let start = if i == 0 { 0 } else { self.parts[i - 1].end };
        (&self.parts[i], (id.0 - start) as usize)
    }

    /// The target architecture.
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// The loaded sources.
    pub fn sources(&self) -> &'a [IndexSource] {
        self.sources
    }

    /// Number of stanzas taken.
    pub fn len(&self) -> usize {
        self.parts.last().map_or(0, |p| p.end as usize)
    }

    /// Whether no stanza was taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The package with this id.
    pub fn package(&self, id: PackageId) -> Package<'a> {
        match self.locate(id) {
            (Part { store: Store::Text(first), .. }, n) => self.packages[first + n].clone(),
            (Part { store: Store::Compact(view), .. }, n) => view.package(n),
        }
    }

    /// The name of the package with this id.
    pub fn name(&self, id: PackageId) -> &'a str {
        match self.locate(id) {
            (Part { store: Store::Text(first), .. }, n) => self.packages[first + n].name,
            (Part { store: Store::Compact(view), .. }, n) => view.name(n),
        }
    }

    fn version(&self, id: PackageId) -> &'a str {
        match self.locate(id) {
            (Part { store: Store::Text(first), .. }, n) => self.packages[first + n].version,
            (Part { store: Store::Compact(view), .. }, n) => view.version(n),
        }
    }

    /// The position of the package's source among the index's sources,
    /// which is that of its part (one part a source).
    fn source(&self, id: PackageId) -> usize {
        self.parts.partition_point(|p| p.end <= id.0)
    }

    /// The `Provides:` of a package, parsed.
    pub fn provides(&self, id: PackageId) -> &[Dependency<'a>] {
        let range = match self.locate(id) {
            (Part { store: Store::Text(first), .. }, n) => self.packages[first + n].provides.clone(),
            (Part { store: Store::Compact(view), .. }, n) => view.provides(n),
        };
        &self.provides[range.start as usize..range.end as usize]
    }

    /// All ids, in load order.
    pub fn ids(&self) -> impl Iterator<Item = PackageId> {
        (0..self.len() as u32).map(PackageId)
    }

    /// Every stanza of this name, best first: automatic sources before
    /// not-automatic ones, then by descending version.
    pub fn versions(&self, name: &str) -> &[PackageId] {
        let start = self.by_name.partition_point(|id| self.name(*id) < name);
        let len = self.by_name[start..].partition_point(|id| self.name(*id) == name);
        &self.by_name[start..start + len]
    }

    /// The default candidate for a name: the highest version from an
    /// automatic source.
    pub fn candidate(&self, name: &str) -> Option<PackageId> {
        self.versions(name)
            .first()
            .copied()
            .filter(|id| self.sources[self.package(*id).source].automatic)
    }

    /// Every stanza providing `name`, best first, with the provided version
    /// if any.
    pub fn providers(&self, name: &str) -> Vec<(PackageId, Option<&'a str>)> {
        let texts = self.provided.get(name).map_or(&[][..], |r| &self.providers[r.start as usize..r.end as usize]);
        let mut list = texts.to_vec();
        let mut start = 0;
        for part in &self.parts {
            if let Store::Compact(view) = &part.store {
                let version = |entry: usize| self.provides[entry].constraint.map(|(_, v)| v);
                list.extend(view.providers(name).map(|(record, entry)| (PackageId(start + record as u32), version(entry))));
            }
            start = part.end;
        }
        // The id last: one stanza may provide a name twice.
        list.sort_by(|a, b| self.rank(a.0, b.0).then(a.1.cmp(&b.1)).then(a.0.cmp(&b.0)));
        list
    }

    /// Parses a relationship field of a package, naming file and line on error.
    pub fn relations(
        &self,
        id: PackageId,
        field: RelationField,
    ) -> Result<Vec<relation::Alternatives<'a>>, IndexError> {
        let p = self.package(id);
        relation::parse_relations(p.relation_text(field)).map_err(|e| {
            let line = p.relation_lines[field as usize];
            IndexError::BadField {
                file: self.sources[p.source].label.clone(),
                line: if line == 0 { p.line } else { line },
                package: escaped(p.name),
                field: field.name().to_owned(),
                problem: e.to_string(),
            }
        })
    }
}

/// The first sixteen bytes of a name as a big-endian number, zero-padded:
/// it orders as the names' first sixteen bytes do. Eight were too few:
/// thousands of names start with `python3-` or `golang-g`.
fn name_prefix(name: &str) -> u128 {
    let mut bytes = [0; 16];
    let n = name.len().min(16);
    bytes[..n].copy_from_slice(&name.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

/// Orders version strings the dpkg way.
#[derive(PartialEq, Eq)]
struct VersionKey<'a>(&'a str);

impl Ord for VersionKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        version::compare(self.0, other.0)
    }
}

impl PartialOrd for VersionKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl IndexError {
    /// Moves a line number found in a chunk parsed from line 1.
    fn shifted(self, by: usize) -> Self {
        match self {
            IndexError::Syntax { file, mut error } => {
                error.line += by;
                IndexError::Syntax { file, error }
            }
            IndexError::MissingField { file, line, field } => IndexError::MissingField { file, line: line + by, field },
            IndexError::BadField { file, line, package, field, problem } => {
                IndexError::BadField { file, line: line + by, package, field, problem }
            }
        }
    }
}

/// Scans one chunk of a source; returns its packages and its line count,
/// with line numbers counted from the chunk's start.
///
/// A scanner rather than [`deb822::parse`]: lines are found with one
/// `memchr` pass over the chunk, and only the fields [`read_package`] uses
/// are kept, in a fixed array of slots, so no stanza is materialised as a
/// field list (issue 12). It checks what the parser checks, in the same
/// order and with the same messages: a syntax error anywhere in a stanza is
/// reported before that stanza's fields are read.
fn read_chunk<'a>(
    source: &IndexSource,
    n: usize,
    text: &'a str,
    range: Range<usize>,
    architecture: &str,
) -> Result<Chunk<'a>, IndexError> {
    let syntax = |line: usize, problem: String| IndexError::Syntax {
        file: source.label.clone(),
        error: Deb822Error { line, problem },
    };
    let bytes = &text.as_bytes()[..range.end];
    let mut packages = Vec::with_capacity(range.len() / 700);
    let mut provides = Vec::new();
    let mut slots = Slots::default();
    let mut newlines = memchr::memchr_iter(b'\n', &bytes[range.start..]);
    let mut start = range.start;
    let mut number = 0;
    // The open field: its slot (None for a field the index does not use).
    let mut open: Option<Option<usize>> = None;
    while start < bytes.len() {
        let end = newlines.next().map_or(bytes.len(), |i| range.start + i);
        let line = &bytes[start..end];
        let line_start = start;
        start = end + 1;
        number += 1;
        match line.first() {
            Some(b'#') => continue,
            Some(b' ' | b'\t') | Some(b'\r') | None if is_blank(line) => {
                if open.is_some() {
                    if let Some(p) = slots.finish(source, n, architecture, &mut provides)? {
                        packages.push(p);
                    }
                    open = None;
                }
                continue;
            }
            Some(b' ' | b'\t') => {
                match open {
                    Some(Some(i)) => slots.fields[i].1 = end,
                    Some(None) => {}
                    None => return Err(syntax(number, "continuation line outside a field".into())),
                }
                continue;
            }
            _ => {}
        }
        // The name ends at the colon; a blank, control or DEL byte before
        // it makes the line an error, told apart as the parser does.
        let colon = match line.iter().position(|&c| c == b':' || c <= b' ' || c == 0x7f) {
            Some(i) if line[i] == b':' && i > 0 => i,
            _ => {
                let Some(colon) = memchr::memchr(b':', line) else {
                    let line = &text[line_start..end];
                    return Err(syntax(number, format!("expected `Field: value`, found {:?}", cut(line))));
                };
                let name = &text[line_start..line_start + colon];
                return Err(syntax(number, format!("bad field name {:?}", cut(name))));
            }
        };
        let name = &text[line_start..line_start + colon];
        if open.is_none() {
            slots.start(number, text);
        }
        let slot = slot(name).filter(|&i| slots.put(i, name, line_start + colon + 1, end, number));
        open = Some(slot);
    }
    if open.is_some() {
        if let Some(p) = slots.finish(source, n, architecture, &mut provides)? {
            packages.push(p);
        }
    }
    Ok((packages, provides, number))
}

/// The packages of a chunk, their Provides (each package has a range) and
/// the chunk's line count.
type Chunk<'a> = (Vec<Package<'a>>, Vec<Dependency<'a>>, usize);

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&c| c == b' ' || c == b'\t' || c == b'\r')
}

/// The fields of the stanza being scanned that [`read_package`] uses.
#[derive(Default)]
struct Slots<'a> {
    /// Each slot's value span (untrimmed), name and line, when `present`
    /// has its bit.
    fields: [(usize, usize); 15],
    names: [&'a str; 15],
    lines: [usize; 15],
    present: u16,
    text: &'a str,
    /// Line of the stanza's first field.
    line: usize,
    /// The first field that appears twice: its line, name and the package
    /// named so far.
    duplicate: Option<(usize, &'a str, String)>,
}

impl<'a> Slots<'a> {
    fn start(&mut self, line: usize, text: &'a str) {
        self.text = text;
        self.present = 0;
        self.duplicate = None;
        self.line = line;
    }

    /// Keeps a field; false for a second one of its slot, which is
    /// reported when the stanza ends.
    fn put(&mut self, i: usize, name: &'a str, from: usize, to: usize, line: usize) -> bool {
        if self.present & (1 << i) != 0 {
            if self.duplicate.is_none() {
                let package = if self.present & 1 != 0 { self.value(0) } else { "" };
                self.duplicate = Some((line, name, escaped(package)));
            }
            return false;
        }
        self.present |= 1 << i;
        self.fields[i] = (from, to);
        self.names[i] = name;
        self.lines[i] = line;
        true
    }

    fn value(&self, i: usize) -> &'a str {
        let (from, to) = self.fields[i];
        let blank = |c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n';
        self.text[from..to].trim_matches(blank)
    }

    fn field(&self, i: usize) -> Option<deb822::Field<'a>> {
        (self.present & (1 << i) != 0).then(|| deb822::Field { name: self.names[i], value: self.value(i), line: self.lines[i] })
    }

    fn finish(
        &mut self,
        source: &IndexSource,
        n: usize,
        architecture: &str,
        provides: &mut Vec<Dependency<'a>>,
    ) -> Result<Option<Package<'a>>, IndexError> {
        if let Some((line, name, package)) = self.duplicate.take() {
            return Err(IndexError::BadField {
                file: source.label.clone(),
                line,
                package,
                field: name.to_owned(),
                problem: "the field appears twice in one stanza".into(),
            });
        }
        let f: [Option<deb822::Field<'a>>; 15] = std::array::from_fn(|i| self.field(i));
        read_package(source, n, self.line, &f, architecture, provides)
    }
}

/// Slot of a field [`read_package`] uses (field names are case-insensitive;
/// archives write them one way). Most fields of a stanza are none of these:
/// they are turned away by their length before any comparison (issue 12).
fn slot(name: &str) -> Option<usize> {
    let candidates: &[usize] = match name.len() {
        4 => &[8],
        6 => &[7, 14],
        7 => &[0, 1, 11],
        8 => &[4, 6, 9],
        9 => &[5, 13],
        10 => &[3, 12],
        11 => &[10],
        12 => &[2],
        _ => return None,
    };
    candidates.iter().copied().find(|&i| SLOT_NAMES[i].eq_ignore_ascii_case(name))
}

/// Field names as Debian writes them, by slot.
const SLOT_NAMES: [&str; 15] = [
    "Package", "Version", "Architecture", "Multi-Arch", "Priority", "Essential", "Filename", "SHA256",
    "Size", "Provides", "Pre-Depends", "Depends", "Recommends", "Conflicts", "Breaks",
];

fn read_package<'a>(
    source: &IndexSource,
    n: usize,
    stanza_line: usize,
    f: &[Option<deb822::Field<'a>>; 15],
    architecture: &str,
    provides: &mut Vec<Dependency<'a>>,
) -> Result<Option<Package<'a>>, IndexError> {
    let missing = |field: &'static str| IndexError::MissingField {
        file: source.label.clone(),
        line: stanza_line,
        field,
    };
    let arch = f[2].ok_or_else(|| missing("Architecture"))?.value;
    if arch != architecture && arch != "all" {
        return Ok(None);
    }
    let name_field = f[0].ok_or_else(|| missing("Package"))?;
    let name = name_field.value;
    let bad = |field: deb822::Field<'_>, problem: String| IndexError::BadField {
        file: source.label.clone(),
        line: field.line,
        package: escaped(name),
        field: field.name.to_owned(),
        problem,
    };
    if !relation::is_valid_package_name(name) {
        return Err(bad(name_field, format!("{:?} is not a valid package name", cut(name))));
    }
    let version_field = f[1].ok_or_else(|| missing("Version"))?;
    version::validate(version_field.value).map_err(|e| bad(version_field, e.to_string()))?;
    let filename_field = f[6].ok_or_else(|| missing("Filename"))?;
    check_filename(filename_field.value).map_err(|e| bad(filename_field, e))?;
    let sha_field = f[7].ok_or_else(|| missing("SHA256"))?;
    let sha256 = Sha256::parse(sha_field.value).map_err(|_| bad(sha_field, "expected 64 lower-case hex digits".into()))?;
    let size_field = f[8].ok_or_else(|| missing("Size"))?;
    let size = size_field
        .value
        .parse::<u64>()
        .map_err(|_| bad(size_field, format!("{:?} is not a size in bytes", cut(size_field.value))))?;
    // Parsed here, where the field's line is known.
    let start = provides.len() as u32;
    if let Some(field) = f[9] {
        provides.extend(relation::parse_provides(field.value).map_err(|e| bad(field, e.to_string()))?);
    }
    let multi_arch = match f[3].map(|f| f.value) {
        Some("same") => MultiArch::Same,
        Some("foreign") => MultiArch::Foreign,
        Some("allowed") => MultiArch::Allowed,
        _ => MultiArch::No,
    };
    let text = |i: usize| f[i].map_or("", |f| f.value);
    Ok(Some(Package {
        name,
        version: version_field.value,
        architecture: arch,
        multi_arch,
        priority: Priority::parse(text(4)),
        essential: text(5) == "yes",
        filename: filename_field.value,
        sha256,
        size,
        provides: start..provides.len() as u32,
        relations: [text(10), text(11), text(12), text(13), text(14)],
        relation_lines: [10, 11, 12, 13, 14].map(|i| f[i].map_or(0, |f| f.line)),
        source: n,
        line: stanza_line,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(label: &str, automatic: bool, text: &str) -> IndexSource {
        IndexSource {
            label: label.into(),
            archive: None,
            suite: None,
            automatic,
            content: IndexContent::Text(text.into()),
        }
    }

    fn stanza(name: &str, version: &str, arch: &str, extra: &str) -> String {
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\nFilename: pool/{name}_{version}.deb\nSize: 1\nSHA256: {}\n{extra}\n",
            "ab".repeat(32)
        )
    }

    #[test]
    fn highest_automatic_version_wins() {
        let a = src("a", true, &(stanza("x", "2", "amd64", "") + "\n" + &stanza("y", "1", "i386", "")));
        let b = src("b", true, &stanza("x", "10", "all", "Provides: v (= 3)"));
        let c = src("c", false, &stanza("x", "99", "amd64", ""));
        for order in [vec![a.clone(), b.clone(), c.clone()], vec![c, b, a]] {
            let idx = Index::build(&order, "amd64").unwrap();
            assert_eq!(idx.len(), 3, "i386 stanza is skipped");
            let cand = idx.package(idx.candidate("x").unwrap());
            assert_eq!((cand.version, cand.architecture), ("10", "all"));
            assert_eq!(idx.versions("x").len(), 3);
            assert_eq!(idx.providers("v")[0].1, Some("3"));
            assert!(idx.providers("x").is_empty() && idx.providers("w").is_empty());
            assert!(idx.candidate("y").is_none());
        }
    }

    /// Issue 8: Filenames that could leave the archive when joined to a URL
    /// or a directory, or break the Nix or terminal output, fail the load
    /// with the file, line, package and field.
    #[test]
    fn hostile_filenames_and_names_are_refused() {
        let with_file = |f: &str| stanza("x", "1", "amd64", "").replace("pool/x_1.deb", f);
        let files = [
            ("../../etc/passwd", "'..' component"),
            ("pool/../../x.deb", "'..' component"),
            ("pool/./x.deb", "'.' or '..' component"),
            ("pool//x.deb", "empty"),
            ("pool/x.deb/", "empty"),
            ("/etc/passwd", "absolute"),
            ("//host.invalid/x.deb", "absolute"),
            ("pool/x\0.deb", "'\\0'"),
            ("pool/x\u{1b}[2J.deb", "'\\u{1b}'"),
            ("pool/x\r.deb", "'\\r'"),
            ("pool/x\u{7f}.deb", "'\\u{7f}'"),
            ("pool/x\u{85}.deb", "'\\u{85}'"),
            ("pool\\..\\x.deb", "'\\\\'"),
            ("pool/x.deb\n ../../y", "'\\n'"),
        ];
        for (file, why) in files {
            let sources = [src("f", true, &with_file(file))];
            let err = Index::build(&sources, "amd64").err().expect(file).to_string();
            assert!(err.starts_with("f:4: package x: field Filename: file name"), "{file:?}: {err}");
            assert!(err.contains(why), "{file:?}: {err}");
        }
        let names = ["X", "-x", ".x", "x_y", "x y", "x/y", "../x", "x:amd64", "é", "x\u{0}"];
        for name in names {
            let sources = [src("f", true, &stanza("x", "1", "amd64", "").replacen("Package: x", &format!("Package: {name}"), 1))];
            let err = Index::build(&sources, "amd64").err().expect(name).to_string();
            assert!(err.contains("field Package") && err.contains("not a valid package name"), "{name:?}: {err}");
        }
    }

    /// Issue 8: a value of megabytes is cut in the message, not copied.
    #[test]
    fn messages_cut_huge_values() {
        let huge = "X".repeat(10_000_000);
        let cases = [
            stanza("x", "1", "amd64", "").replacen("Package: x", &format!("Package: {huge}"), 1),
            stanza("x", "1", "amd64", "").replace("Version: 1", &format!("Version: 1{huge}!")),
            stanza("x", "1", "amd64", "").replace("pool/x_1.deb", &format!("/{huge}")),
            stanza("x", "1", "amd64", "").replace("Size: 1", &format!("Size: {huge}")),
            stanza("x", "1", "amd64", &format!("Provides: {huge}")),
            stanza(&huge.to_lowercase(), "1 2", "amd64", ""),
            format!("{huge}\n"),
        ];
        for text in cases {
            let sources = [src("f", true, &text)];
            let err = Index::build(&sources, "amd64").err().expect("refused").to_string();
            assert!(err.len() < 400, "{} bytes: {}…", err.len(), &err[..200]);
        }
        let sources = [src("f", true, &stanza("x", "1", "amd64", &format!("Depends: {huge}")))];
        let idx = Index::build(&sources, "amd64").unwrap();
        let err = idx.relations(PackageId(0), RelationField::Depends).unwrap_err().to_string();
        assert!(err.len() < 400, "{} bytes", err.len());
    }

    /// Issue 8: two stanzas for the same file (name, version, Filename and
    /// SHA256) that differ in another field; which one is the candidate must
    /// not depend on the order of the files.
    #[test]
    fn one_file_described_twice_is_ranked_by_content_not_order() {
        let a = src("a", true, &stanza("x", "1", "amd64", "Depends: y"));
        let b = src("b", true, &stanza("x", "1", "amd64", "Depends: z"));
        let c = src("c", true, &stanza("x", "1", "amd64", "Depends: y").replace("Size: 1", "Size: 2"));
        let pick = |sources: &[IndexSource]| {
            let idx = Index::build(sources, "amd64").unwrap();
            let p = idx.package(idx.candidate("x").unwrap());
            (p.relation_text(RelationField::Depends).to_owned(), p.size)
        };
        let want = pick(&[a.clone(), b.clone(), c.clone()]);
        for order in [[b.clone(), a.clone(), c.clone()], [c.clone(), b.clone(), a.clone()], [a, c, b]] {
            assert_eq!(pick(&order), want);
        }
    }

    #[test]
    fn line_numbers_survive_parallel_chunks() {
        // Large enough to be cut into chunks parsed on several threads.
        let one = stanza("x", "1", "amd64", "Description: a\n more");
        let count = (12 << 20) / one.len();
        let mut text: String = (0..count).map(|i| one.replace("Package: x", &format!("Package: p{i}")) + "\n").collect();
        let bad_line = text.matches('\n').count() + 5;
        text.push_str(&stanza("y", "1", "amd64", "").replace("Size: 1", "Size: x"));
        let sources = [src("f", true, &text)];
        let err = Index::build(&sources, "amd64").err().unwrap().to_string();
        assert!(err.starts_with(&format!("f:{bad_line}: package y: field Size")), "{err}");
        let good = &text[..text.rfind("Package: y").unwrap()];
        let sources = [src("f", true, good)];
        let idx = Index::build(&sources, "amd64").unwrap();
        let last = idx.package(PackageId(idx.len() as u32 - 1));
        let start = good.rfind("Package: ").unwrap();
        assert_eq!(last.line, good[..start].matches('\n').count() + 1);
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            (stanza("x", "1", "amd64", "Provides: a |"), "f:7: package x: field Provides"),
            (stanza("X", "1", "amd64", ""), "f:1: package X: field Package"),
            (stanza("x", "1 2", "amd64", ""), "f:2: package x: field Version"),
            (stanza("x", "1", "amd64", "").replace("pool/", "/pool/"), "f:4: package x: field Filename"),
            (stanza("x", "1", "amd64", "").replace("pool/", "../"), "f:4: package x: field Filename"),
            (stanza("x", "1", "amd64", "").replace("Size: 1", "Size: -1"), "f:5: package x: field Size"),
            (stanza("x", "1", "amd64", "").replace("abab", "ABAB"), "f:6: package x: field SHA256"),
            ("Package: x\nArchitecture: amd64\n".into(), "f:1: stanza has no Version field"),
            (stanza("x", "1", "amd64", "Depends: a\ndepends: b"), "f:8: package x: field depends: the field appears twice"),
            ("Package: x\n bad\nnot a field\n".into(), "f:3: expected"),
        ];
        for (text, want) in cases {
            let sources = [src("f", true, &text)];
            let err = Index::build(&sources, "amd64").err().expect(&text).to_string();
            assert!(err.starts_with(want), "{err}");
        }
        let sources = [src("f", true, &stanza("x", "1", "amd64", "Depends: a,\n b (>= )"))];
        let idx = Index::build(&sources, "amd64").unwrap();
        let err = idx.relations(PackageId(0), RelationField::Depends).unwrap_err();
        assert!(err.to_string().starts_with("f:7: package x: field Depends: column"), "{err}");
    }

    /// Issue 12: the scanner reads what the deb822 parser reads (values
    /// with continuations, comments, `\r` and odd case) and reports the
    /// same first error, a syntax error of a stanza before its fields'.
    #[test]
    fn scanner_agrees_with_the_parser() {
        let odd = stanza("x", "1", "amd64", "depends: a,\n# note\n b (>= 1)\r\n\t| c\nX-Long: y\n z\nBreaks:\nprovides:  v  \r");
        let text = format!("# head\n\n \t\n{odd}\n\r\n{}", stanza("y", "2", "all", "Pre-Depends: x"));
        let sources = [src("f", true, &text)];
        let idx = Index::build(&sources, "amd64").unwrap();
        let parsed: Vec<_> = deb822::parse(&text).collect::<Result<_, _>>().unwrap();
        assert_eq!(idx.len(), parsed.len());
        for (id, stanza) in idx.ids().zip(&parsed) {
            let p = idx.package(id);
            assert_eq!((p.name, p.line), (stanza.get("Package").unwrap(), stanza.line));
            for field in [RelationField::PreDepends, RelationField::Depends, RelationField::Breaks] {
                let want = stanza.field(field.name());
                assert_eq!(p.relation_text(field), want.map_or("", |f| f.value), "{field}");
                assert_eq!(p.relation_lines[field as usize], want.map_or(0, |f| f.line), "{field}");
            }
            let provides = stanza.get("Provides").map(|t| relation::parse_provides(t).unwrap()).unwrap_or_default();
            assert_eq!(idx.provides(id), provides);
        }
        assert_eq!(idx.provides(PackageId(0))[0].name, "v");

        // Fields the index reads may appear twice in a stanza only as far as
        // its syntax goes: its first syntax error is reported instead.
        let cases = [
            ("Package: x\nDepends: a\nDepends: b\nno colon\n", "f:4: expected `Field: value`, found \"no colon\""),
            ("Package: x\nSize: 1\n\tSize: 2\n: v\n", "f:4: bad field name \"\""),
            ("Package: x\nSIZE: 1\nsize: 2\nBad Name: v\n", "f:4: bad field name \"Bad Name\""),
            ("# only a comment\n continuation\n", "f:2: continuation line outside a field"),
            ("Package: x\n\x7fName: v\n", "f:2: bad field name \"\\u{7f}Name\""),
            ("Package: x\nName\x01: v\n", "f:2: bad field name \"Name\\u{1}\""),
            ("Package: x\n\rName v\n", "f:2: expected `Field: value`, found \"\\rName v\""),
        ];
        for (text, want) in cases {
            let sources = [src("f", true, text)];
            let err = Index::build(&sources, "amd64").err().expect(text).to_string();
            assert_eq!(err, want, "{text:?}");
            let parsed = deb822::parse(text).find_map(Result::err).expect(text);
            if !parsed.problem.contains("twice") {
                assert_eq!(err, format!("f:{}: {}", parsed.line, parsed.problem), "{text:?}");
            }
        }
        let dup = "Package: x\nsize: 1\n more\nSize: 2\n more\nSize: 3\n";
        let err = Index::build(&[src("f", true, dup)], "amd64").err().unwrap().to_string();
        assert_eq!(err, "f:4: package x: field Size: the field appears twice in one stanza");
    }

    #[test]
    fn architecture_is_read_from_the_files() {
        let i386 = src("b/Packages", true, &(stanza("x", "1", "i386", "") + "\n" + &stanza("y", "1", "all", "")));
        let all = src("a/Packages", true, &stanza("z", "1", "all", ""));
        // Comments, continuations and field-name case as the parser reads them.
        let odd = src("c", false, "# Architecture: armhf\nPackage: w\nDescription: d\n Architecture: arm64\narchitecture:  i386 \r\n");
        for order in [vec![i386.clone(), all.clone(), odd.clone()], vec![odd, all.clone(), i386.clone()]] {
            assert_eq!(detect_architecture(&order).unwrap(), "i386");
        }

        let amd64 = src("a/Packages", true, &stanza("x", "1", "amd64", ""));
        let err = detect_architecture(&[i386.clone(), amd64, src("c", true, &stanza("q", "1", "amd64", ""))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot tell the target architecture: the index files hold packages of several architectures: \
             amd64 (a/Packages:3, c:3), i386 (b/Packages:3)"
        );
        let hint = err.hint().unwrap();
        assert!(hint.contains("--arch"), "{hint}");

        let err = detect_architecture(&[all.clone(), src("e", true, "")]).unwrap_err();
        assert_eq!(err.to_string(), "cannot tell the target architecture: a/Packages, e hold only `Architecture: all` packages");
        let err = detect_architecture(&[src("e", true, "\n")]).unwrap_err();
        assert_eq!(err.to_string(), "cannot tell the target architecture: e holds no packages");

        // Input reaches the message escaped.
        let evil = src("d", true, "Architecture: \x1b[2J\n");
        let err = detect_architecture(&[i386, evil]).unwrap_err();
        assert!(!err.to_string().contains('\x1b'), "{err}");
    }
}
