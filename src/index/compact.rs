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

use std::io::{self, Seek, SeekFrom, Write};
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
    /// The compact form of `text` for `architecture`, in memory; the text
    /// back when it has none (see [`CompactIndex::write_text`]).
    pub fn from_text(text: String, label: &str, architecture: &str) -> Result<CompactIndex, String> {
        let mut bytes = Vec::new();
        let unknown = Sha256::from_bytes([0; 32]);
        let (text, written) = Self::write_text(text, label, architecture, &unknown, |write| {
            let mut cursor = io::Cursor::new(&mut bytes);
            write(&mut cursor)
        });
        match written {
            // Read back as the cache's copy is, which also finds its tables.
            Some(Ok(())) => Ok(CompactIndex::from_bytes(bytes, &unknown, architecture).expect("its own bytes read back")),
            _ => Err(text),
        }
    }

    /// Builds the index of `text` for `architecture` and gives `store` the
    /// function that writes its compact form, for the text with SHA256
    /// `content`, to a file (from its start, in one pass, then its first 32
    /// bytes again). Returns the text, and what `store` returned; `None`
    /// when the text has no compact form: it does not build (then
    /// [`Index::build`] on it says why), is too large for 32-bit offsets or
    /// has a Provides with an `[arch]` restriction, which the form does not
    /// hold.
    ///
    /// Nothing of the size of the file is held in memory: the first run
    /// that compacts a 50 MB index peaks with the text and its index alone
    /// (issue 12).
    pub fn write_text<R>(
        text: String,
        label: &str,
        architecture: &str,
        content: &Sha256,
        store: impl FnOnce(&mut dyn FnMut(&mut dyn WriteSeek) -> io::Result<()>) -> R,
    ) -> (String, Option<R>) {
        if u32::try_from(text.len()).is_err() {
            return (text, None);
        }
        let [source] = [IndexSource {
            label: label.to_owned(),
            archive: None,
            suite: None,
            automatic: true,
            content: IndexContent::Text(text),
        }];
        let stored = match Index::build(std::slice::from_ref(&source), architecture) {
            Ok(index) if index.provides.iter().all(|d| d.restriction.is_empty()) => {
                Some(store(&mut |file: &mut dyn WriteSeek| write(&index, content, file)))
            }
            _ => None,
        };
        match source.content {
            IndexContent::Text(text) => (text, stored),
            IndexContent::Compact(_) => unreachable!("the source holds text"),
        }
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

/// A file, or bytes in memory, that the compact form is written to.
pub trait WriteSeek: Write + Seek {}

impl<T: Write + Seek> WriteSeek for T {}

/// Writes the compact form of a one-source index to `file`, from its
/// start: everything but the first 32 bytes in one pass, strings last, their
/// spans counted ahead by a first pass over the records that writes the
/// records, then the first 32 bytes (with the checksum of the rest).
fn write(index: &Index<'_>, content: &Sha256, file: &mut dyn WriteSeek) -> io::Result<()> {
    let arch = index.architecture.as_bytes();
    let mut names: Vec<&str> = index.provides.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    let mut out = io::BufWriter::with_capacity(1 << 20, &mut *file);
    out.write_all(&[0; 32])?;
    let mut sum = Checksum::default();
    let mut put = |bytes: &[u8]| {
        sum.update(bytes);
        out.write_all(bytes)
    };
    put(content.as_bytes())?;
    for n in [index.provides.len(), names.len(), arch.len()] {
        put(&(n as u32).to_le_bytes())?;
    }
    put(arch)?;
    // First pass: spans counted as the second will write the strings.
    let mut strings_len = 0u32;
    let mut entries = Vec::with_capacity(index.provides.len() * PROVIDES_LEN);
    // Each Provides entry: its name and that name's span, its record and
    // its number.
    let mut provided = Vec::with_capacity(index.provides.len());
    visit(
        index,
        &mut |s: &str| {
            let start = strings_len;
            strings_len += s.len() as u32;
            Ok((start, strings_len))
        },
        &mut |n, piece| match piece {
            Piece::Record(record) => put(record),
            Piece::Provided { name, span, entry } => {
                provided.push((name, span, n as u32, (entries.len() / PROVIDES_LEN) as u32));
                entries.extend_from_slice(entry);
                Ok(())
            }
        },
    )?;
    put(&entries)?;
    drop(entries);
    // The providers of each name, in record order.
    provided.sort_unstable_by(|a, b| (a.0, a.2, a.3).cmp(&(b.0, b.2, b.3)));
    let mut slot = 0u32;
    for group in provided.chunk_by(|a, b| a.0 == b.0) {
        let (_, (start, end), ..) = group[0];
        let next = slot + group.len() as u32;
        for word in [start, end, slot, next] {
            put(&word.to_le_bytes())?;
        }
        slot = next;
    }
    for (.., record, entry) in &provided {
        put(&record.to_le_bytes())?;
        put(&entry.to_le_bytes())?;
    }
    // Second pass: the strings, in the order the first counted them.
    visit(index, &mut |s: &str| put(s.as_bytes()).map(|()| (0, 0)), &mut |_, _| Ok(()))?;
    out.flush()?;
    drop(out);
    let mut head = Vec::with_capacity(32);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    head.extend_from_slice(&(index.len() as u32).to_le_bytes());
    head.extend_from_slice(&u64::from(strings_len).to_le_bytes());
    head.extend_from_slice(&sum.finish().to_le_bytes());
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&head)?;
    file.flush()
}

/// What [`visit`] gives of a record.
enum Piece<'i, 'b> {
    /// The record's bytes.
    Record(&'b [u8]),
    /// One of its Provides entries: the name, its span and the entry's bytes.
    Provided { name: &'i str, span: (u32, u32), entry: &'b [u8] },
}

/// Goes through a one-source index's packages in name order: pushes each
/// one's strings through `push` in string-table order (an architecture only
/// the first time), and gives `record` its number and pieces, its Provides
/// entries first.
fn visit<'i>(
    index: &Index<'i>,
    push: &mut dyn FnMut(&str) -> io::Result<(u32, u32)>,
    record: &mut dyn FnMut(usize, Piece<'i, '_>) -> io::Result<()>,
) -> io::Result<()> {
    let mut arches: Vec<(&str, (u32, u32))> = Vec::new();
    let mut bytes = Vec::with_capacity(RECORD_LEN);
    let mut entries = 0u32;
    for (n, id) in index.by_name.iter().enumerate() {
        let p = index.package(*id);
        let arch = match arches.iter().find(|(a, _)| *a == p.architecture) {
            Some((_, span)) => *span,
            None => {
                let span = push(p.architecture)?;
                arches.push((p.architecture, span));
                span
            }
        };
        let mut spans = [(0, 0); SPANS];
        spans[0] = push(p.name)?;
        spans[1] = push(p.version)?;
        spans[2] = arch;
        spans[3] = push(p.filename)?;
        let first = entries;
        for d in index.provides(*id) {
            let (arch_code, arch_span) = match d.arch {
                ArchQualifier::None => (0, (0, 0)),
                ArchQualifier::Any => (1, (0, 0)),
                ArchQualifier::Native => (2, (0, 0)),
                ArchQualifier::Named(a) => (3, push(a)?),
            };
            let name = push(d.name)?;
            let (versioned, version) = match d.constraint {
                Some((_, v)) => (1, push(v)?),
                None => (0, (0, 0)),
            };
            let mut entry = [0; PROVIDES_LEN];
            for (i, (start, end)) in [name, arch_span, version].into_iter().enumerate() {
                entry[i * 8..i * 8 + 4].copy_from_slice(&start.to_le_bytes());
                entry[i * 8 + 4..i * 8 + 8].copy_from_slice(&end.to_le_bytes());
            }
            entry[24] = arch_code;
            entry[25] = versioned;
            record(n, Piece::Provided { name: d.name, span: name, entry: &entry })?;
            entries += 1;
        }
        spans[PROVIDES] = (first, entries);
        for (span, text) in spans[5..].iter_mut().zip(p.relations) {
            *span = push(text)?;
        }
        bytes.clear();
        for (start, end) in spans {
            bytes.extend_from_slice(&start.to_le_bytes());
            bytes.extend_from_slice(&end.to_le_bytes());
        }
        for line in std::iter::once(p.line).chain(p.relation_lines) {
            bytes.extend_from_slice(&(line as u32).to_le_bytes());
        }
        bytes.extend_from_slice(p.sha256.as_bytes());
        bytes.extend_from_slice(&p.size.to_le_bytes());
        bytes.extend_from_slice(&[multi_arch_code(p.multi_arch), p.priority as u8, p.essential as u8]);
        record(n, Piece::Record(&bytes))?;
    }
    Ok(())
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
    let mut sum = Checksum::default();
    sum.update(bytes);
    sum.finish()
}

const K: u64 = 0x9e37_79b9_7f4a_7c15;

fn step(lane: u64, word: u64) -> u64 {
    (lane.rotate_left(23) ^ word).wrapping_mul(K)
}

/// [`checksum`] of bytes given in pieces, as a file is written.
struct Checksum {
    lanes: [u64; 4],
    /// The bytes of a 32-byte chunk not yet complete.
    pending: [u8; 32],
    pending_len: usize,
    len: u64,
}

impl Default for Checksum {
    fn default() -> Self {
        Checksum { lanes: [1, 2, 3, 4], pending: [0; 32], pending_len: 0, len: 0 }
    }
}

impl Checksum {
    fn chunk(&mut self, chunk: &[u8]) {
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            *lane = step(*lane, u64::from_le_bytes(chunk[i * 8..i * 8 + 8].try_into().expect("8 bytes")));
        }
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.pending_len > 0 {
            let take = bytes.len().min(32 - self.pending_len);
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&bytes[..take]);
            self.pending_len += take;
            bytes = &bytes[take..];
            if self.pending_len < 32 {
                return;
            }
            let chunk = self.pending;
            self.chunk(&chunk);
            self.pending_len = 0;
        }
        let mut chunks = bytes.chunks_exact(32);
        for chunk in &mut chunks {
            self.chunk(chunk);
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.pending_len = rest.len();
    }

    fn finish(mut self) -> u64 {
        let mut tail = [0u8; 32];
        tail[..self.pending_len].copy_from_slice(&self.pending[..self.pending_len]);
        self.chunk(&tail);
        self.lanes.into_iter().fold(self.len, step)
    }
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
        // Given in pieces, as the file is written, of every size around a
        // chunk's.
        for piece in [1, 5, 31, 32, 33, 64, 100] {
            let mut streamed = Checksum::default();
            bytes.chunks(piece).for_each(|p| streamed.update(p));
            assert_eq!(streamed.finish(), sum, "pieces of {piece}");
        }
    }
}
