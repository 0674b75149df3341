//! The compact form of a `Packages` file: what [`Index`](super::Index) needs
//! of each stanza of one architecture, pre-read, so that a warm run loads it
//! with one read instead of reading, hashing and parsing 50 MB of text.
//!
//! The cache keeps it beside the text it was read from (see
//! [`crate::archive::cached_compact`]). Layout, all integers little-endian:
//!
//! ```text
//! 0   magic "debclidx"
//! 8   u32 format version (FORMAT_VERSION)
//! 12  u32 number of records
//! 16  u64 length of the string table
//! 24  u64 checksum of every byte from offset 32 to the end (see `checksum`)
//! 32  [u8; 32] SHA256 of the text it was read from
//! 64  u32 number of Provides entries
//! 68  u32 number of provided names
//! 72  u32 length of the architecture, then the architecture
//!     records, RECORD_LEN bytes each (see `Record`), by name, best first
//!     Provides entries, PROVIDES_LEN bytes each, parsed (see `Provided`)
//!     provided names, NAMED_LEN bytes each, sorted: the span of the name
//!       and the range of its providers in the next table
//!     providers, PROVIDER_LEN bytes each, one per Provides entry, by
//!       name, then record: the record and its Provides entry
//!     string table (UTF-8)
//! ```
//!
//! Mapped from the cache (see [`crate::mapped`]) and checked before use:
//! magic, version (a file of another format version is never read
//! further), length, checksum, then every record's spans and enumerations,
//! and the string table's UTF-8. It is then read in place: an
//! [`Index`](super::Index) reads each record when asked for it (a
//! [`View`]). The checksum catches corruption, not tampering: whoever can
//! write the cache can write a matching checksum.

use std::ops::Range;

use super::{Index, IndexContent, IndexSource, MultiArch, Package, Priority};
use crate::mapped::Bytes;
use crate::relation::{ArchQualifier, Dependency, VersionOp};
use crate::hash::Sha256;

/// Bumped whenever the layout or the meaning of a field changes.
pub const FORMAT_VERSION: u32 = 3;

const MAGIC: &[u8; 8] = b"debclidx";
const HEADER_LEN: usize = 76;
/// Text spans: Package, Version, Architecture, Filename, the range of the
/// package's Provides entries (not a text span), then the five relationship
/// fields in [`super::RelationField`] order.
const SPANS: usize = 10;
const RECORD_LEN: usize = SPANS * 8 + 6 * 4 + 32 + 8 + 3;
/// A provided name: spans of the name, the `:arch` qualifier and the `=`
/// version, and a code each for the qualifier and the version's presence.
const PROVIDES_LEN: usize = 3 * 8 + 2;
/// Index of the Provides range among a record's spans.
const PROVIDES: usize = 4;
/// A provided name: its span, then the range of its providers.
const NAMED_LEN: usize = 16;
/// A provider: record, then Provides entry.
const PROVIDER_LEN: usize = 8;

/// One stanza as stored: byte spans into the string table and the cheap
/// fields.
struct Record {
    /// (start, end) in the string table; at `PROVIDES`, the range of the
    /// package's Provides entries instead.
    spans: [(u32, u32); SPANS],
    /// The stanza's line, then each relationship field's (0 when absent).
    lines: [u32; 6],
    sha256: [u8; 32],
    size: u64,
    multi_arch: MultiArch,
    priority: Priority,
    essential: bool,
}

/// One provided name as stored: spans into the string table.
struct Provided {
    name: (u32, u32),
    /// The span of a named `:arch` qualifier.
    arch: Option<(u32, u32)>,
    /// 0 none, 1 `:any`, 2 `:native`, 3 named.
    arch_code: u8,
    /// The span of the `=` version.
    version: Option<(u32, u32)>,
}

/// The stanzas of one architecture (and `all`) of one `Packages` file, by
/// name, best first: the bytes of the file, checked, and read where used.
#[derive(Debug, Clone)]
pub struct CompactIndex {
    architecture: String,
    /// The file as [`CompactIndex::to_bytes`] writes it (but for the SHA256
    /// and the checksum when made from a text), mapped from the cache or
    /// in memory.
    bytes: Bytes,
    count: usize,
    records_at: usize,
    provides_at: usize,
    named_at: usize,
    providers_at: usize,
    strings_at: usize,
}

/// Why bytes are not a usable compact index. Never fatal: the caller reads
/// the text again and rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactError {
    /// No magic number.
    #[error("not a compact index")]
    NotCompact,
    /// Written by another version of debclosure.
    #[error("format version {found}, this debclosure reads version {FORMAT_VERSION}")]
    Version {
        /// The version in the file.
        found: u32,
    },
    /// Shorter or longer than its header says.
    #[error("{actual} bytes, its header says {expected}")]
    Length {
        /// From the header.
        expected: u64,
        /// The file's.
        actual: u64,
    },
    /// The checksum does not match.
    #[error("its checksum does not match")]
    Checksum,
    /// Made from another text or for another architecture.
    #[error("it belongs to another index or architecture")]
    Foreign,
    /// The string table is not UTF-8.
    #[error("its string table is not UTF-8")]
    Strings,
    /// A record points outside the string table or holds a bad value.
    #[error("record {0} is invalid")]
    Record(usize),
    /// A Provides entry points outside the string table or holds a bad
    /// value.
    #[error("Provides entry {0} is invalid")]
    Provides(usize),
    /// A provided name is out of order or points outside its tables.
    #[error("provided name {0} is invalid")]
    Named(usize),
    /// A provider points outside the records or the Provides entries.
    #[error("provider {0} is invalid")]
    Provider(usize),
}

impl CompactIndex {
    /// The compact form of `text` for `architecture`; the text back when it
    /// does not build (then [`Index::build`] on the text says why), is too
    /// large for 32-bit offsets or has a Provides with an `[arch]`
    /// restriction (which the compact form does not hold).
    pub fn from_text(text: String, label: &str, architecture: &str) -> Result<CompactIndex, String> {
        if u32::try_from(text.len()).is_err() {
            return Err(text);
        }
        let [source] = [IndexSource {
            label: label.to_owned(),
            archive: None,
            suite: None,
            automatic: true,
            content: IndexContent::Text(text),
        }];
        let compact = Index::build(std::slice::from_ref(&source), architecture).ok().and_then(|index| Self::of_index(&index));
        match (compact, source.content) {
            (Some(compact), _) => Ok(compact),
            (None, IndexContent::Text(text)) => Err(text),
            (None, IndexContent::Compact(_)) => unreachable!("the source holds text"),
        }
    }

    /// The packages of a one-source index, in its name order.
    fn of_index(index: &Index<'_>) -> Option<CompactIndex> {
        if index.provides.iter().any(|d| !d.restriction.is_empty()) {
            return None;
        }
        let arch = index.architecture.as_bytes();
        let mut names: Vec<&str> = index.provides.iter().map(|d| d.name).collect();
        names.sort_unstable();
        names.dedup();
        let records_at = HEADER_LEN + arch.len();
        let provides_at = records_at + index.len() * RECORD_LEN;
        let named_at = provides_at + index.provides.len() * PROVIDES_LEN;
        let providers_at = named_at + names.len() * NAMED_LEN;
        let strings_at = providers_at + index.provides.len() * PROVIDER_LEN;
        // Records are written in place, strings appended after them; the
        // size is known, so the buffer never grows (and never doubles).
        let strings_len: usize = index
            .ids()
            .map(|id| index.package(id))
            .map(|p| [p.name, p.version, p.filename].iter().chain(&p.relations).map(|s| s.len()).sum::<usize>())
            .sum::<usize>()
            + index.provides.iter().map(|d| d.name.len() + d.constraint.map_or(0, |(_, v)| v.len())).sum::<usize>();
        let mut out = Vec::with_capacity(strings_at + strings_len + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(index.len() as u32).to_le_bytes());
        out.extend_from_slice(&[0; 8 + 8 + 32]);
        out.extend_from_slice(&(index.provides.len() as u32).to_le_bytes());
        out.extend_from_slice(&(names.len() as u32).to_le_bytes());
        out.extend_from_slice(&(arch.len() as u32).to_le_bytes());
        out.extend_from_slice(arch);
        out.resize(strings_at, 0);
        let mut arches: Vec<(&str, (u32, u32))> = Vec::new();
        let push = |s: &str, out: &mut Vec<u8>| {
            let start = (out.len() - strings_at) as u32;
            out.extend_from_slice(s.as_bytes());
            (start, (out.len() - strings_at) as u32)
        };
        let mut record = Vec::with_capacity(RECORD_LEN);
        let mut entries = 0u32;
        // Each Provides entry: its name and that name's span, its record
        // and its number.
        let mut provided = Vec::with_capacity(index.provides.len());
        for (n, id) in index.by_name.iter().enumerate() {
            let p = index.package(*id);
            let arch = match arches.iter().find(|(a, _)| *a == p.architecture) {
                Some((_, span)) => *span,
                None => {
                    let span = push(p.architecture, &mut out);
                    arches.push((p.architecture, span));
                    span
                }
            };
            let mut spans = [(0, 0); SPANS];
            spans[0] = push(p.name, &mut out);
            spans[1] = push(p.version, &mut out);
            spans[2] = arch;
            spans[3] = push(p.filename, &mut out);
            let first = entries;
            for d in index.provides(*id) {
                let (arch_code, arch_span) = match d.arch {
                    ArchQualifier::None => (0, (0, 0)),
                    ArchQualifier::Any => (1, (0, 0)),
                    ArchQualifier::Native => (2, (0, 0)),
                    ArchQualifier::Named(a) => (3, push(a, &mut out)),
                };
                let name = push(d.name, &mut out);
                provided.push((d.name, name, n as u32, entries));
                let (versioned, version) = match d.constraint {
                    Some((_, v)) => (1, push(v, &mut out)),
                    None => (0, (0, 0)),
                };
                let at = provides_at + entries as usize * PROVIDES_LEN;
                let mut entry = [0; PROVIDES_LEN];
                for (i, (start, end)) in [name, arch_span, version].into_iter().enumerate() {
                    entry[i * 8..i * 8 + 4].copy_from_slice(&start.to_le_bytes());
                    entry[i * 8 + 4..i * 8 + 8].copy_from_slice(&end.to_le_bytes());
                }
                entry[24] = arch_code;
                entry[25] = versioned;
                out[at..at + PROVIDES_LEN].copy_from_slice(&entry);
                entries += 1;
            }
            spans[PROVIDES] = (first, entries);
            for (span, text) in spans[5..].iter_mut().zip(p.relations) {
                *span = push(text, &mut out);
            }
            record.clear();
            for (start, end) in spans {
                record.extend_from_slice(&start.to_le_bytes());
                record.extend_from_slice(&end.to_le_bytes());
            }
            for line in std::iter::once(p.line).chain(p.relation_lines) {
                record.extend_from_slice(&(line as u32).to_le_bytes());
            }
            record.extend_from_slice(p.sha256.as_bytes());
            record.extend_from_slice(&p.size.to_le_bytes());
            record.extend_from_slice(&[multi_arch_code(p.multi_arch), p.priority as u8, p.essential as u8]);
            let at = records_at + n * RECORD_LEN;
            out[at..at + RECORD_LEN].copy_from_slice(&record);
        }
        // The providers of each name, in record order.
        provided.sort_unstable_by(|a, b| (a.0, a.2, a.3).cmp(&(b.0, b.2, b.3)));
        let mut named = 0;
        for (i, group) in provided.chunk_by(|a, b| a.0 == b.0).enumerate() {
            let (_, (start, end), ..) = group[0];
            let range = (named as u32, (named + group.len()) as u32);
            let at = named_at + i * NAMED_LEN;
            for (k, word) in [start, end, range.0, range.1].into_iter().enumerate() {
                out[at + k * 4..at + k * 4 + 4].copy_from_slice(&word.to_le_bytes());
            }
            for (_, _, record, entry) in group {
                let at = providers_at + named * PROVIDER_LEN;
                out[at..at + 4].copy_from_slice(&record.to_le_bytes());
                out[at + 4..at + 8].copy_from_slice(&entry.to_le_bytes());
                named += 1;
            }
        }
        let strings_len = (out.len() - strings_at) as u64;
        out[16..24].copy_from_slice(&strings_len.to_le_bytes());
        Some(CompactIndex {
            architecture: index.architecture.clone(),
            bytes: out.into(),
            count: index.len(),
            records_at,
            provides_at,
            named_at,
            providers_at,
            strings_at,
        })
    }

    /// The architecture it was read for.
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// Number of stanzas.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds no stanza.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, read in place as source `source` of an index; their
    /// Provides are appended to `provides`, in record order.
    pub(super) fn view<'s>(&'s self, source: usize, provides: &mut Vec<Dependency<'s>>) -> View<'s> {
        // The table was checked when read or made, and every span to fall
        // on character boundaries.
        let strings = std::str::from_utf8(&self.bytes[self.strings_at..]).expect("the string table is UTF-8");
        let view = View { compact: self, strings, source, provides: provides.len() as u32 };
        let span = |(start, end): (u32, u32)| &strings[start as usize..end as usize];
        let entries = (self.named_at - self.provides_at) / PROVIDES_LEN;
        provides.reserve(entries);
        for e in 0..entries {
            let mut reader = Reader { bytes: &self.bytes, at: self.provides_at + e * PROVIDES_LEN };
            let entry = reader.provided().expect("entries were checked when read or made");
            provides.push(Dependency {
                name: span(entry.name),
                arch: match entry.arch {
                    Some(a) => ArchQualifier::Named(span(a)),
                    None if entry.arch_code == 1 => ArchQualifier::Any,
                    None if entry.arch_code == 2 => ArchQualifier::Native,
                    None => ArchQualifier::None,
                },
                constraint: entry.version.map(|v| (VersionOp::Equal, span(v))),
                restriction: Vec::new(),
            });
        }
        view
    }

    /// The bytes of the file, for the text with SHA256 `content`.
    pub fn to_bytes(&mut self, content: &Sha256) -> &[u8] {
        // Bytes read from the cache were checked to be so already.
        if let Bytes::Owned(bytes) = &mut self.bytes {
            bytes[32..64].copy_from_slice(content.as_bytes());
            let sum = checksum(&bytes[32..]);
            bytes[24..32].copy_from_slice(&sum.to_le_bytes());
        }
        &self.bytes
    }

    /// Reads the bytes [`CompactIndex::to_bytes`] wrote for the text with
    /// SHA256 `content` and `architecture`, checking everything.
    pub fn from_bytes(bytes: impl Into<Bytes>, content: &Sha256, architecture: &str) -> Result<CompactIndex, CompactError> {
        let bytes = bytes.into();
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(CompactError::NotCompact);
        }
        let mut header = Reader { bytes: &bytes, at: 8 };
        let version = header.u32();
        if version != FORMAT_VERSION {
            return Err(CompactError::Version { found: version });
        }
        let count = header.u32() as u64;
        let strings_len = header.u64();
        let sum = header.u64();
        header.at = 64;
        let provides_count = header.u32() as u64;
        let names_count = header.u32() as u64;
        let arch_len = header.u32() as u64;
        let expected = (HEADER_LEN as u64)
            .saturating_add(arch_len)
            .saturating_add(count.saturating_mul(RECORD_LEN as u64))
            .saturating_add(provides_count.saturating_mul((PROVIDES_LEN + PROVIDER_LEN) as u64))
            .saturating_add(names_count.saturating_mul(NAMED_LEN as u64))
            .saturating_add(strings_len);
        if expected != bytes.len() as u64 {
            return Err(CompactError::Length { expected, actual: bytes.len() as u64 });
        }
        if checksum(&bytes[32..]) != sum {
            return Err(CompactError::Checksum);
        }
        let records_at = HEADER_LEN + arch_len as usize;
        if &bytes[32..64] != content.as_bytes() || &bytes[HEADER_LEN..records_at] != architecture.as_bytes() {
            return Err(CompactError::Foreign);
        }
        let count = count as usize;
        let provides_at = records_at + count * RECORD_LEN;
        let named_at = provides_at + provides_count as usize * PROVIDES_LEN;
        let providers_at = named_at + names_count as usize * NAMED_LEN;
        let strings_at = providers_at + provides_count as usize * PROVIDER_LEN;
        let strings = &bytes[strings_at..];
        // A span must fall on character boundaries of the table, which is
        // checked to be UTF-8 on another thread meanwhile: in UTF-8, a
        // boundary is where no continuation byte (0b10xx_xxxx) starts.
        let boundary = |at: u32| strings.get(at as usize).map_or(at as usize == strings.len(), |&b| (b as i8) >= -0x40);
        let fits = |(start, end): (u32, u32)| start <= end && boundary(start) && boundary(end);
        let span = |b: &[u8], i: usize| {
            let word = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
            (word(i * 8), word(i * 8 + 4))
        };
        let records = || {
            let table = bytes[records_at..provides_at].chunks_exact(RECORD_LEN);
            for (n, r) in table.enumerate() {
                let (from, to) = span(r, PROVIDES);
                let spans = (0..SPANS).all(|i| i == PROVIDES || fits(span(r, i)));
                let [multi_arch, priority, essential]: [u8; 3] = r[RECORD_LEN - 3..].try_into().expect("3 bytes");
                let codes = multi_arch_of(multi_arch).is_some() && priority_of(priority).is_some() && essential <= 1;
                if !(spans && codes && from <= to && u64::from(to) <= provides_count) {
                    return Err(CompactError::Record(n));
                }
            }
            for (n, e) in bytes[provides_at..named_at].chunks_exact(PROVIDES_LEN).enumerate() {
                let [arch_code, versioned]: [u8; 2] = e[24..].try_into().expect("2 bytes");
                let named = arch_code == 3;
                let ok = fits(span(e, 0))
                    && arch_code <= 3
                    && versioned <= 1
                    && (!named || fits(span(e, 1)))
                    && (versioned == 0 || fits(span(e, 2)));
                if !ok {
                    return Err(CompactError::Provides(n));
                }
            }
            // Names in order, each with a range that follows the last;
            // providers within the records and entries.
            let mut next = 0;
            let mut last: Option<&[u8]> = None;
            for (n, e) in bytes[named_at..providers_at].chunks_exact(NAMED_LEN).enumerate() {
                let (name, (from, to)) = (span(e, 0), span(e, 1));
                let text = fits(name).then(|| strings.get(name.0 as usize..name.1 as usize)).flatten();
                let ordered = text.is_some_and(|t| last.is_none_or(|l| l < t));
                if !(ordered && from == next && from < to && u64::from(to) <= provides_count) {
                    return Err(CompactError::Named(n));
                }
                (next, last) = (to, text);
            }
            if u64::from(next) != provides_count {
                return Err(CompactError::Named(names_count as usize));
            }
            for (n, e) in bytes[providers_at..strings_at].chunks_exact(PROVIDER_LEN).enumerate() {
                let (record, entry) = span(e, 0);
                if record as usize >= count || u64::from(entry) >= provides_count {
                    return Err(CompactError::Provider(n));
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let utf8 = scope.spawn(|| std::str::from_utf8(strings).is_ok());
            let checked = records();
            if !utf8.join().expect("checking UTF-8 does not panic") {
                return Err(CompactError::Strings);
            }
            checked
        })?;
        Ok(CompactIndex {
            architecture: architecture.to_owned(),
            bytes,
            count,
            records_at,
            provides_at,
            named_at,
            providers_at,
            strings_at,
        })
    }
}

/// A compact index read in place as one source of an [`Index`]: its
/// records by number, each read when asked for.
#[derive(Clone, Copy)]
pub(super) struct View<'s> {
    compact: &'s CompactIndex,
    /// Its string table.
    strings: &'s str,
    /// Its position among the index's sources.
    source: usize,
    /// Where its Provides entries start in the index's list.
    provides: u32,
}

impl<'s> View<'s> {
    fn reader(&self, n: usize) -> Reader<'s> {
        Reader { bytes: &self.compact.bytes, at: self.compact.records_at + n * RECORD_LEN }
    }

    fn span(&self, (start, end): (u32, u32)) -> &'s str {
        &self.strings[start as usize..end as usize]
    }

    /// The name of record `n`.
    pub(super) fn name(&self, n: usize) -> &'s str {
        let mut reader = self.reader(n);
        self.span((reader.u32(), reader.u32()))
    }

    /// The version of record `n`.
    pub(super) fn version(&self, n: usize) -> &'s str {
        let mut reader = self.reader(n);
        reader.at += 8;
        self.span((reader.u32(), reader.u32()))
    }

    /// The range of record `n`'s Provides in the index's list.
    pub(super) fn provides(&self, n: usize) -> Range<u32> {
        let mut reader = self.reader(n);
        reader.at += PROVIDES * 8;
        let (from, to) = (reader.u32(), reader.u32());
        self.provides + from..self.provides + to
    }

    /// The providers of `name`: each one's record and the position of its
    /// Provides entry in the index's list.
    pub(super) fn providers(&self, name: &str) -> impl Iterator<Item = (usize, usize)> + 's {
        let c = self.compact;
        let word = move |at: usize| u32::from_le_bytes(c.bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let names = (c.providers_at - c.named_at) / NAMED_LEN;
        let name_of = |i: usize| &self.strings[word(c.named_at + i * NAMED_LEN)..word(c.named_at + i * NAMED_LEN + 4)];
        // A binary search of the sorted names.
        let (mut low, mut high, mut found) = (0, names, None);
        while low < high {
            let mid = low + (high - low) / 2;
            match name_of(mid).cmp(name) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    found = Some(mid);
                    break;
                }
            }
        }
        let range = found.map_or(0..0, |k| word(c.named_at + k * NAMED_LEN + 8)..word(c.named_at + k * NAMED_LEN + 12));
        let base = self.provides as usize;
        range.map(move |p| (word(c.providers_at + p * PROVIDER_LEN), base + word(c.providers_at + p * PROVIDER_LEN + 4)))
    }

    /// Record `n` as a package.
    pub(super) fn package(&self, n: usize) -> Package<'s> {
        let r = self.reader(n).record().expect("records were checked when read or made");
        let text = |i: usize| self.span(r.spans[i]);
        Package {
            name: text(0),
            version: text(1),
            architecture: text(2),
            multi_arch: r.multi_arch,
            priority: r.priority,
            essential: r.essential,
            filename: text(3),
            sha256: Sha256::from_bytes(r.sha256),
            size: r.size,
            provides: self.provides(n),
            relations: std::array::from_fn(|i| text(5 + i)),
            relation_lines: std::array::from_fn(|i| r.lines[1 + i] as usize),
            source: self.source,
            line: r.lines[0] as usize,
        }
    }
}

/// Reads little-endian values; the caller has checked the length.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let out = self.bytes[self.at..self.at + N].try_into().expect("N bytes");
        self.at += N;
        out
    }

    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }

    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }

    fn provided(&mut self) -> Option<Provided> {
        let mut spans = [(0, 0); 3];
        for span in &mut spans {
            *span = (self.u32(), self.u32());
        }
        let [arch_code, versioned] = self.take();
        let [name, arch, version] = spans;
        Some(Provided {
            name,
            arch: match arch_code {
                0..=2 => None,
                3 => Some(arch),
                _ => return None,
            },
            arch_code,
            version: match versioned {
                0 => None,
                1 => Some(version),
                _ => return None,
            },
        })
    }

    fn record(&mut self) -> Option<Record> {
        let mut spans = [(0, 0); SPANS];
        for span in &mut spans {
            *span = (self.u32(), self.u32());
        }
        let mut lines = [0; 6];
        for line in &mut lines {
            *line = self.u32();
        }
        let sha256 = self.take();
        let size = self.u64();
        let [multi_arch, priority, essential] = self.take();
        Some(Record {
            spans,
            lines,
            sha256,
            size,
            multi_arch: multi_arch_of(multi_arch)?,
            priority: priority_of(priority)?,
            essential: match essential {
                0 => false,
                1 => true,
                _ => return None,
            },
        })
    }
}

fn multi_arch_code(m: MultiArch) -> u8 {
    match m {
        MultiArch::No => 0,
        MultiArch::Same => 1,
        MultiArch::Foreign => 2,
        MultiArch::Allowed => 3,
    }
}

fn multi_arch_of(code: u8) -> Option<MultiArch> {
    Some(match code {
        0 => MultiArch::No,
        1 => MultiArch::Same,
        2 => MultiArch::Foreign,
        3 => MultiArch::Allowed,
        _ => return None,
    })
}

fn priority_of(code: u8) -> Option<Priority> {
    [Priority::Required, Priority::Important, Priority::Standard, Priority::Optional, Priority::Extra, Priority::Unknown]
        .into_iter()
        .find(|p| *p as u8 == code)
}

/// A fast checksum, not a cryptographic hash: four lanes of
/// xor-rotate-multiply over 64-bit words (about 8 GB/s, where SHA256 with the
/// CPU's SHA extensions does 2). Each step maps a word one-to-one to a new
/// lane state and every later step maps states one-to-one, so a change of
/// one word (a flipped byte) always changes the sum; the length is in the
/// header and checked first.
fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let step = |lane: u64, word: u64| (lane.rotate_left(23) ^ word).wrapping_mul(K);
    let mut lanes = [1u64, 2, 3, 4];
    let mut chunks = bytes.chunks_exact(32);
    for chunk in &mut chunks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            *lane = step(*lane, u64::from_le_bytes(chunk[i * 8..i * 8 + 8].try_into().expect("8 bytes")));
        }
    }
    let mut tail = [0u8; 32];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    for (i, lane) in lanes.iter_mut().enumerate() {
        *lane = step(*lane, u64::from_le_bytes(tail[i * 8..i * 8 + 8].try_into().expect("8 bytes")));
    }
    lanes.into_iter().fold(bytes.len() as u64, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(name: &str, provides: &str) -> String {
        let sha = "ab".repeat(32);
        format!("Package: {name}\nVersion: 1\nArchitecture: amd64\nFilename: pool/{name}.deb\nSize: 1\nSHA256: {sha}\nProvides: {provides}\n\n")
    }

    /// Issue 12: Provides are stored parsed and read back as the text
    /// gives them, qualifiers and versions included; what the form cannot
    /// hold stays text.
    #[test]
    fn provides_are_stored_parsed() {
        let text = stanza("x", "a, b (= 1), c:any, d:native (= 2:3~b), e:amd64, a") + &stanza("y", "b (=0)") + &stanza("z", "");
        let sha = Sha256::of(text.as_bytes());
        let mut compact = CompactIndex::from_text(text.clone(), "f", "amd64").unwrap();
        let bytes = compact.to_bytes(&sha).to_vec();
        let read = CompactIndex::from_bytes(bytes.clone(), &sha, "amd64").unwrap();
        let show = |sources: &[IndexSource]| {
            let index = Index::build(sources, "amd64").unwrap();
            let index = &index;
            let provides: Vec<String> = index
                .ids()
                .flat_map(|id| index.provides(id).iter().map(move |d| format!("{} {d:?}", index.package(id).name)))
                .collect();
            let providers: Vec<_> = ["0", "a", "b", "c", "bb", "d", "e", "zz"]
                .map(|n| index.providers(n).iter().map(|(id, v)| format!("{} {v:?}", index.package(*id).name)).collect::<Vec<_>>())
                .into();
            (provides, providers)
        };
        let source = |content| [IndexSource { label: "f".into(), archive: None, suite: None, automatic: true, content }];
        let want = show(&source(IndexContent::Text(text.clone())));
        assert_eq!(want.0.len(), 7, "{want:?}");
        assert_eq!(want.1.iter().map(Vec::len).collect::<Vec<_>>(), [0, 2, 2, 1, 0, 1, 1, 0], "{want:?}");
        assert_eq!(show(&source(IndexContent::Compact(read))), want);

        // A table entry out of place is refused, though the checksum matches.
        let patched = |at: usize, value: &[u8]| {
            let mut bad = bytes.clone();
            bad[at..at + value.len()].copy_from_slice(value);
            let sum = checksum(&bad[32..]);
            bad[24..32].copy_from_slice(&sum.to_le_bytes());
            CompactIndex::from_bytes(bad, &sha, "amd64").err()
        };
        let refused = |at: usize, value: u8| patched(at, &[value]);
        // The last Provides entry, with a bad code or a span past the table.
        let entry = compact.named_at - PROVIDES_LEN;
        for (offset, value) in [(24, 4), (25, 2), (0, 0xff)] {
            assert_eq!(refused(entry + offset, value), Some(CompactError::Provides(6)), "{offset}");
        }
        // Provided names: "a" to "e", each with a range of providers.
        let named = |i: usize, word: usize| compact.named_at + i * NAMED_LEN + word * 4;
        let span_of_a = &bytes[named(0, 0)..named(0, 2)];
        assert_eq!(patched(named(1, 0), span_of_a), Some(CompactError::Named(1)), "b's name made a's: out of order");
        assert_eq!(refused(named(0, 3), 3), Some(CompactError::Named(1)), "a's range runs into b's");
        assert_eq!(refused(named(4, 3), 9), Some(CompactError::Named(4)), "e's range runs past the providers");
        let provider = |i: usize, word: usize| compact.providers_at + i * PROVIDER_LEN + word * 4;
        assert_eq!(refused(provider(2, 0), 3), Some(CompactError::Provider(2)), "no record 3");
        assert_eq!(refused(provider(3, 1), 7), Some(CompactError::Provider(3)), "no entry 7");
        assert!(CompactIndex::from_text(stanza("x", "a [amd64]"), "f", "amd64").is_err());
    }

    #[test]
    fn every_flipped_byte_changes_the_checksum() {
        let bytes: Vec<u8> = (0..203u32).map(|i| (i * 7 + 3) as u8).collect();
        let sum = checksum(&bytes);
        for i in 0..bytes.len() {
            for bit in [0x01, 0x80] {
                let mut changed = bytes.clone();
                changed[i] ^= bit;
                assert_ne!(checksum(&changed), sum, "byte {i} bit {bit:#x}");
            }
        }
        assert_ne!(checksum(&bytes[..202]), sum);
    }
}
