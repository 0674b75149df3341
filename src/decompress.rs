//! Reading index files that may be compressed: plain, `.xz`, `.gz` or `.bz2`,
//! told apart by their magic bytes rather than by their names.
//!
//! Output is bounded while streaming, so a small file that expands to
//! gigabytes fails early with a clear error instead of exhausting memory.

use std::io::{self, Read};
use std::path::Path;

mod xz;

/// The default bound on a decompressed index, 512 MiB: ten times bookworm's
/// main amd64 `Packages` (about 50 MB) and well above the largest real
/// Debian or Ubuntu index (under 200 MB), yet low enough that a bomb is
/// refused with the process under 1 GB (issue 15: at 2 GiB it took 2.1 GB).
/// `DEBCLOSURE_MAX_INDEX_SIZE` overrides it.
pub const DEFAULT_LIMIT: u64 = 512 << 20;

/// How a file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// xz (`.xz`).
    Xz,
    /// gzip (`.gz`).
    Gzip,
    /// bzip2 (`.bz2`), as older releases and some other archives publish it.
    Bzip2,
}

impl Compression {
    /// Detects the compression from the first bytes of a file.
    pub fn detect(data: &[u8]) -> Compression {
        if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else if data.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if data.len() >= 4 && data.starts_with(b"BZh") && (b'1'..=b'9').contains(&data[3]) {
            // "BZh" and the block size in hundreds of kB.
            Compression::Bzip2
        } else {
            Compression::None
        }
    }
}

/// Why a file could not be read or decompressed.
#[derive(Debug, thiserror::Error)]
pub enum DecompressError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The compressed data is corrupt or truncated.
    #[error("{path}: corrupt or truncated {kind} data")]
    Corrupt {
        /// The file.
        path: String,
        /// "xz", "gzip" or "bzip2".
        kind: &'static str,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// The content expands beyond the limit.
    #[error("{path}: decompressed content exceeds {limit} bytes")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The content is not UTF-8 text.
    #[error("{path}: not UTF-8 text (first bad byte at offset {offset})")]
    NotText {
        /// The file.
        path: String,
        /// Offset of the first invalid byte.
        offset: usize,
    },
}

impl DecompressError {
    /// What the user can do about it: nothing beyond what the message
    /// says; where the file came from, the caller advises.
    pub fn hint(&self) -> Option<String> {
        None
    }
}

/// Reads a file and decompresses it into text. A file larger than `limit`
/// is refused before it is read: compressed or not, its content would be.
pub fn read_text(path: &Path, limit: u64) -> Result<String, DecompressError> {
    let label = path.display().to_string();
    let read_error = |source| DecompressError::Read { path: label.clone(), source };
    if std::fs::metadata(path).map_err(read_error)?.len() > limit {
        return Err(DecompressError::TooLarge { path: label, limit });
    }
    let data = read_parallel(path, limit).map_err(read_error)?;
    if data.len() as u64 > limit {
        // A device or a pipe, whose size the metadata does not tell.
        return Err(DecompressError::TooLarge { path: label, limit });
    }
    bytes_to_text(data, &label, limit)
}

/// Turns file contents of any supported compression into text; plain text
/// is taken over without a copy.
pub fn bytes_to_text(data: Vec<u8>, label: &str, limit: u64) -> Result<String, DecompressError> {
    if Compression::detect(&data) == Compression::None {
        if data.len() as u64 > limit {
            return Err(DecompressError::TooLarge { path: label.to_owned(), limit });
        }
        return into_text(data, label);
    }
    decompress_text(&data, label, limit)
}

/// The least capacity of a buffer of compressed data, which is freed once
/// decoded, before the index is built. glibc's malloc raises its mmap
/// threshold to the size of any freed mapped block up to 32 MiB; after a
/// freed 9 MB `Packages.xz` had raised it, the index's multi-megabyte
/// vectors came from the heap, where growing one copies it, and the peak
/// of a `.xz` load was 15 MB above that of the plain file. A larger block
/// does not move the threshold; the capacity beyond the data is address
/// space, never touched.
pub(crate) const EARLY_FREED_CAPACITY: usize = (32 << 20) + 1;

/// Reads a whole file, large ones in parallel pieces: for a 50 MB index the
/// kernel's copy and the page faults of the new buffer are a large share of
/// the load time, and they spread over cores. Stops after `limit + 1` bytes
/// (`/dev/zero` never ends).
fn read_parallel(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len() as usize;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = (len >> 23).clamp(1, threads);
    if parts == 1 {
        let mut data = Vec::with_capacity((len + 1).max(EARLY_FREED_CAPACITY));
        (&file).take(limit.saturating_add(1)).read_to_end(&mut data)?;
        return Ok(data);
    }
    let mut data = if len >= EARLY_FREED_CAPACITY {
        vec![0u8; len]
    } else {
        let mut data = Vec::with_capacity(EARLY_FREED_CAPACITY);
        data.resize(len, 0);
        data
    };
    let piece = len.div_ceil(parts);
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks_mut(piece)
            .enumerate()
            .map(|(i, chunk)| {
                let file = &file;
                s.spawn(move || file.read_exact_at(chunk, (i * piece) as u64))
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().expect("reading does not panic"))
    })?;
    // The file may have grown since its size was read.
    let mut rest = &file;
    io::Seek::seek(&mut rest, io::SeekFrom::Start(len as u64))?;
    rest.take((limit.saturating_add(1)).saturating_sub(len as u64)).read_to_end(&mut data)?;
    Ok(data)
}

fn into_text(bytes: Vec<u8>, label: &str) -> Result<String, DecompressError> {
    String::from_utf8(bytes).map_err(|e| DecompressError::NotText {
        path: label.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Decompresses `data` (of any supported compression) into text; `label`
/// names it in errors.
pub fn decompress_text(data: &[u8], label: &str, limit: u64) -> Result<String, DecompressError> {
    into_text(decompress(data, label, limit)?, label)
}

/// Decompresses `data` into bytes, at most `limit` of them.
pub fn decompress(data: &[u8], label: &str, limit: u64) -> Result<Vec<u8>, DecompressError> {
    let too_large = || DecompressError::TooLarge {
        path: label.to_owned(),
        limit,
    };
    let corrupt = |kind: &'static str, source: io::Error| DecompressError::Corrupt {
        path: label.to_owned(),
        kind,
        source,
    };
    // Gzip and bzip2 do not tell their content's size up front.
    let capacity = || data.len().saturating_mul(6).min(limit as usize);
    let out = match Compression::detect(data) {
        Compression::None => {
            if data.len() as u64 > limit {
                return Err(too_large());
            }
            data.to_vec()
        }
        Compression::Gzip => {
            let mut out = Vec::with_capacity(capacity());
            flate2::read::MultiGzDecoder::new(data)
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| corrupt("gzip", e))?;
            out
        }
        Compression::Bzip2 => {
            // Several concatenated streams (as pbzip2 writes) are one file;
            // the decoder reports a truncated stream as an unexpected end.
            let mut out = Vec::with_capacity(capacity());
            bzip2::bufread::MultiBzDecoder::new(data)
                .take(limit.saturating_add(1))
                .read_to_end(&mut out)
                .map_err(|e| corrupt("bzip2", e))?;
            out
        }
        Compression::Xz => xz::decode(data, limit).map_err(|e| xz_error(e, label, limit))?,
    };
    if out.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(out)
}

/// Work on an index's text that [`StreamingDecoder`] lets start before the
/// whole text is decoded: hashing it, writing it to a file.
pub trait TextSink: Send + 'static {
    /// The next piece of the text.
    fn text(&mut self, piece: &[u8]);
}

/// Decompresses an index while it downloads: an `.xz` file's blocks are
/// decoded as they arrive (when their headers give their sizes, as Debian's
/// do), into one buffer of the content's size, which the caller knows from
/// a verified Release. Nothing decoded early is returned unless
/// [`StreamingDecoder::finish`], given the whole file once its size and
/// hash are checked, finds that the blocks decoded are that file's, byte
/// for byte; otherwise, or for other compressions, `finish` decompresses
/// the file as [`decompress_text`] does.
///
/// Once `finish` is called, each sink is fed the text decoded early, on a
/// thread of its own, while the last blocks are still decoding.
pub struct StreamingDecoder<S> {
    pipeline: Option<xz::Pipeline<S>>,
    limit: u64,
}

impl<S: TextSink> StreamingDecoder<S> {
    /// A decoder for content of `size` bytes, at most `limit`, with `sinks`
    /// for its text. Without a size, or past the limit, nothing is decoded
    /// early.
    pub fn new(size: Option<u64>, limit: u64, sinks: Vec<S>) -> StreamingDecoder<S> {
        let size = size.filter(|&s| s <= limit).and_then(|s| usize::try_from(s).ok());
        StreamingDecoder { pipeline: size.map(|size| xz::Pipeline::start(size, sinks)), limit }
    }

    /// The next bytes of the file.
    pub fn push(&self, bytes: &[u8]) {
        if let Some(pipeline) = &self.pipeline {
            pipeline.push(bytes);
        }
    }

    /// The file starts again from its first byte (a retried download).
    pub fn restart(&self) {
        if let Some(pipeline) = &self.pipeline {
            pipeline.restart();
        }
    }

    /// The text of `data`, the whole file, verified by now (`label` names it
    /// in errors), and the sinks if they were fed exactly that text, in
    /// order; if they were not (the text was not all decoded early), the
    /// caller does their work.
    pub fn finish(self, data: &[u8], label: &str) -> Result<(String, Option<Vec<S>>), DecompressError> {
        match self.pipeline {
            Some(pipeline) if Compression::detect(data) == Compression::Xz => {
                let (bytes, sinks) = pipeline.finish(data, self.limit).map_err(|e| xz_error(e, label, self.limit))?;
                Ok((into_text(bytes, label)?, sinks))
            }
            _ => Ok((decompress_text(data, label, self.limit)?, None)),
        }
    }
}

fn xz_error(e: xz::XzError, label: &str, limit: u64) -> DecompressError {
    match e {
        xz::XzError::TooLarge => DecompressError::TooLarge { path: label.to_owned(), limit },
        xz::XzError::Corrupt(source) => DecompressError::Corrupt { path: label.to_owned(), kind: "xz", source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// `data` as `.xz` in one block (also for `xz`'s tests).
    pub(super) fn xz(data: &[u8]) -> Vec<u8> {
        let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn bz2(data: &[u8]) -> Vec<u8> {
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// `parts`, one xz block each, in one stream: the single-threaded
    /// encoder ends a block at a full flush, and does not write the
    /// block's sizes into its header.
    fn xz_blocks(parts: &[&[u8]]) -> Vec<u8> {
        use liblzma::stream::{Check, Stream};
        let mut stream = Stream::new_easy_encoder(6, Check::Crc64).unwrap();
        encode(&mut stream, parts)
    }

    fn encode(stream: &mut liblzma::stream::Stream, parts: &[&[u8]]) -> Vec<u8> {
        use liblzma::stream::{Action, Status};
        let mut out = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let action = if i + 1 == parts.len() { Action::Finish } else { Action::FullFlush };
            let start = stream.total_in();
            loop {
                out.reserve(1 << 16);
                let done = (stream.total_in() - start) as usize;
                if stream.process_vec(&part[done..], &mut out, action).unwrap() == Status::StreamEnd {
                    break;
                }
            }
        }
        out
    }

    /// Blocks of `block_size` with their sizes in their headers, as xz -T
    /// writes them (Debian's `Packages.xz` has two of 24 MiB).
    fn xz_sized_blocks(data: &[u8], block_size: u64) -> Vec<u8> {
        let mut stream = liblzma::stream::MtStreamBuilder::new()
            .threads(2)
            .block_size(block_size)
            .preset(6)
            .encoder()
            .unwrap();
        encode(&mut stream, &[data])
    }

    /// Issue 12: blocks decode in parallel into their own slices of one
    /// buffer; however a file is cut into blocks and streams, the text is
    /// the same.
    #[test]
    fn multi_block_xz_decodes_like_single_block() {
        let text: String = (0..30_000).map(|i| format!("Package: p{i}\nVersion: {i}\n\n")).collect();
        let bytes = text.as_bytes();
        let single = xz(bytes);
        let thirds: Vec<&[u8]> = bytes.chunks(bytes.len().div_ceil(3)).collect();
        let many: Vec<&[u8]> = bytes.chunks(7000).collect();
        let sized = xz_sized_blocks(bytes, 50_000);
        let mut streams = xz_blocks(&thirds);
        streams.extend_from_slice(&[0; 4]);
        streams.extend(xz_sized_blocks(bytes, 100_000));
        streams.extend_from_slice(&[0; 8]);
        let twice = format!("{text}{text}");
        for (name, data, want) in [
            ("one block", single, &text),
            ("three blocks", xz_blocks(&thirds), &text),
            ("many blocks", xz_blocks(&many), &text),
            ("sized blocks", sized, &text),
            ("two streams", streams, &twice),
        ] {
            assert_eq!(&decompress_text(&data, name, DEFAULT_LIMIT).unwrap(), want, "{name}");
            let err = decompress(&data, name, want.len() as u64 - 1).unwrap_err();
            assert!(matches!(err, DecompressError::TooLarge { .. }), "{name}: {err}");
        }
        assert_eq!(decompress(&xz_blocks(&[b"", b"a\n", b""]), "f", 2).unwrap(), b"a\n");
    }

    /// A truncated or damaged `.xz`, wherever the damage is, is an error
    /// naming the file, never a panic or a short text.
    #[test]
    fn a_damaged_xz_names_the_file_wherever_it_is_cut() {
        let text: String = (0..20_000).map(|i| format!("Package: p{i}\nVersion: {i}\n\n")).collect();
        let packed = xz_sized_blocks(text.as_bytes(), 100_000);
        let step = packed.len() / 97;
        // Six bytes are the magic that makes it xz at all.
        for cut in (6..packed.len()).step_by(step).chain(packed.len() - 40..packed.len()) {
            let err = decompress(&packed[..cut], "dists/x/Packages.xz", DEFAULT_LIMIT).unwrap_err();
            assert!(matches!(err, DecompressError::Corrupt { kind: "xz", .. }), "cut at {cut}: {err}");
            assert_eq!(err.to_string(), "dists/x/Packages.xz: corrupt or truncated xz data");
        }
        for at in (6..packed.len()).step_by(step) {
            let mut flipped = packed.clone();
            flipped[at] ^= 0x20;
            let err = decompress(&flipped, "f", DEFAULT_LIMIT).unwrap_err();
            assert!(matches!(err, DecompressError::Corrupt { kind: "xz", .. }), "flipped at {at}: {err}");
        }
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(Compression::detect(&xz(b"a")), Compression::Xz);
        assert_eq!(Compression::detect(&gz(b"a")), Compression::Gzip);
        assert_eq!(Compression::detect(&bz2(b"a")), Compression::Bzip2);
        for plain in [&b"Package: a\n"[..], b"BZh", b"BZh0", b"BZhx", b""] {
            assert_eq!(Compression::detect(plain), Compression::None, "{plain:?}");
        }
    }

    #[test]
    fn round_trips_each_format() {
        let text = "Package: a\n".repeat(1000);
        for data in [text.as_bytes().to_vec(), xz(text.as_bytes()), gz(text.as_bytes()), bz2(text.as_bytes())] {
            assert_eq!(decompress_text(&data, "f", DEFAULT_LIMIT).unwrap(), text);
        }
        let mut two = gz(b"a\n");
        two.extend(gz(b"b\n"));
        assert_eq!(decompress_text(&two, "f", 100).unwrap(), "a\nb\n");
        let mut two = bz2(b"a\n");
        two.extend(bz2(b"b\n"));
        assert_eq!(decompress_text(&two, "f", 100).unwrap(), "a\nb\n");
    }

    /// A `.bz2` index read from disk, as `--packages-file` reads it.
    #[test]
    fn reads_a_bz2_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Packages.bz2");
        let text = "Package: a\nVersion: 1\n\n".repeat(100);
        std::fs::write(&path, bz2(text.as_bytes())).unwrap();
        assert_eq!(read_text(&path, DEFAULT_LIMIT).unwrap(), text);
        let err = read_text(&path, 100).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit: 100, .. }), "{err}");
    }

    #[test]
    fn large_files_read_in_pieces_are_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Packages");
        let text: String = (0..800_000).map(|i| format!("Package: p{i}\nVersion: 1\n\n")).collect();
        assert!(text.len() > 16 << 20, "large enough to be read in pieces");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_text(&path, DEFAULT_LIMIT).unwrap(), text);
        let err = read_text(&path, 1000).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit: 1000, .. }), "{err}");
    }

    /// A sink that keeps what it is fed.
    struct Kept(Vec<u8>);

    impl TextSink for Kept {
        fn text(&mut self, piece: &[u8]) {
            self.0.extend_from_slice(piece);
        }
    }

    /// What a streaming decoder fed `data` in pieces of `chunk` bytes
    /// gives: the text, and what its sink was fed if it gives it back.
    fn streamed(data: &[u8], chunk: usize, size: usize) -> (String, Option<Vec<u8>>) {
        let decoder = StreamingDecoder::new(Some(size as u64), DEFAULT_LIMIT, vec![Kept(Vec::new())]);
        decoder.restart();
        for piece in data.chunks(chunk) {
            decoder.push(piece);
        }
        let (text, sinks) = decoder.finish(data, "f").unwrap();
        (text, sinks.map(|mut s| s.remove(0).0))
    }

    /// Issue 12, goal (d): the sinks of a streaming decoder are given back,
    /// fed the text, only when all of it was decoded early; for anything
    /// else the caller does their work.
    #[test]
    fn streaming_decoders_give_back_sinks_fed_the_whole_text() {
        let text: String = (0..30_000).map(|i| format!("Package: p{i}\nVersion: {i}\n\n")).collect();
        let sized = xz_sized_blocks(text.as_bytes(), 50_000);
        for chunk in [1000, 1 << 20] {
            assert_eq!(streamed(&sized, chunk, text.len()), (text.clone(), Some(text.clone().into_bytes())), "chunks of {chunk}");
        }
        for (name, data) in [("one block", xz(text.as_bytes())), ("gzip", gz(text.as_bytes())), ("plain", text.clone().into_bytes())] {
            assert_eq!(streamed(&data, 1000, text.len()), (text.clone(), None), "{name}");
        }
        // Without a size, nothing is decoded early.
        let decoder = StreamingDecoder::new(None, DEFAULT_LIMIT, vec![Kept(Vec::new())]);
        decoder.push(&sized);
        assert!(decoder.finish(&sized, "f").unwrap().1.is_none());
    }

    /// Issue 8: a bomb (here 4096 xz streams of 1 MiB of zeros each, 4 GiB
    /// in all, concatenated into a file of about a MiB) stops at the
    /// limit while it streams: it neither decodes nor holds the 4 GiB.
    #[test]
    fn a_bomb_stops_at_the_limit() {
        let zeros = vec![0u8; 1 << 20];
        let stream = xz(&zeros);
        let bomb: Vec<u8> = (0..4096).flat_map(|_| stream.iter().copied()).collect();
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        let err = decompress(&bomb, "bomb", 8 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit, .. } if limit == 8 << 20), "{err}");
        let member = gz(&zeros);
        let bomb: Vec<u8> = (0..4096).flat_map(|_| member.iter().copied()).collect();
        let err = decompress(&bomb, "bomb.gz", 8 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { .. }), "{err}");
        // bzip2 compresses runs well (64 MiB of zeros in a few dozen bytes),
        // and one stream is decoded lazily: the limit stops it mid-stream.
        let member = bz2(&vec![0u8; 64 << 20]);
        assert!(member.len() < 1024, "{} bytes", member.len());
        let bomb: Vec<u8> = (0..64).flat_map(|_| member.iter().copied()).collect();
        let err = decompress(&bomb, "bomb.bz2", 8 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit, .. } if limit == 8 << 20), "{err}");
    }

    /// Issue 8: a file whose size the metadata does not tell (a device, a
    /// pipe) is read up to the limit only.
    #[test]
    fn an_endless_file_is_read_up_to_the_limit() {
        let err = read_text(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit, .. } if limit == 1 << 20), "{err}");
    }

    /// Issue 8: a file larger than the limit is refused before it is read
    /// (a sparse file of 3 GiB here, which takes no disk space).
    #[test]
    fn a_huge_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Packages");
        std::fs::File::create(&path).unwrap().set_len(3 << 30).unwrap();
        let err = read_text(&path, 1 << 20).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit, .. } if limit == 1 << 20), "{err}");
    }

    #[test]
    fn bad_data_is_an_error() {
        let text = "Package: a\n".repeat(1000);
        let packed = xz(text.as_bytes());
        let truncated = &packed[..packed.len() - 20];
        assert!(matches!(decompress(truncated, "f", DEFAULT_LIMIT), Err(DecompressError::Corrupt { .. })));
        let mut flipped = packed.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        assert!(matches!(decompress(&flipped, "f", DEFAULT_LIMIT), Err(DecompressError::Corrupt { .. })));
        let err = decompress(&packed, "f", 100).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit: 100, .. }), "{err}");
        let mut trailing = packed.clone();
        trailing.extend_from_slice(b"junk");
        assert!(matches!(decompress(&trailing, "f", DEFAULT_LIMIT), Err(DecompressError::Corrupt { .. })));
        let mut two = packed.clone();
        two.extend_from_slice(&[0; 8]);
        two.extend_from_slice(&packed);
        assert_eq!(decompress(&two, "f", DEFAULT_LIMIT).unwrap().len(), 2 * text.len());
        let err = decompress_text(&gz(b"a\xffb"), "f", 100).unwrap_err();
        assert!(matches!(err, DecompressError::NotText { offset: 1, .. }), "{err}");
    }

    #[test]
    fn bad_bz2_data_is_an_error() {
        let text: String = (0..2000).map(|i| format!("Package: p{i}\nVersion: {i}\n\n")).collect();
        let packed = bz2(text.as_bytes());
        for cut in [packed.len() - 1, packed.len() - 20, packed.len() / 2, 10] {
            let err = decompress(&packed[..cut], "Packages.bz2", DEFAULT_LIMIT).unwrap_err();
            assert!(matches!(err, DecompressError::Corrupt { kind: "bzip2", .. }), "cut at {cut}: {err}");
            assert_eq!(err.to_string(), "Packages.bz2: corrupt or truncated bzip2 data");
        }
        // The block CRC catches a changed byte.
        let mut flipped = packed.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        let err = decompress(&flipped, "f", DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(err, DecompressError::Corrupt { kind: "bzip2", .. }), "{err}");
        let mut trailing = packed.clone();
        trailing.extend_from_slice(b"junk");
        let err = decompress(&trailing, "f", DEFAULT_LIMIT).unwrap_err();
        assert!(matches!(err, DecompressError::Corrupt { kind: "bzip2", .. }), "{err}");
        let err = decompress(&packed, "f", 100).unwrap_err();
        assert!(matches!(err, DecompressError::TooLarge { limit: 100, .. }), "{err}");
        let err = decompress_text(&bz2(b"a\xffb"), "f", 100).unwrap_err();
        assert!(matches!(err, DecompressError::NotText { offset: 1, .. }), "{err}");
    }
}
