//! `.xz` files decoded block by block, in parallel, straight into one buffer
//! of their exact size (the [xz file format]).
//!
//! The index at the end of each stream lists every block's compressed and
//! uncompressed size, so the whole layout, and with it the size of the
//! output, is known before anything is decoded: a file that claims more
//! than the limit is refused before a byte is allocated for it. Each block
//! is then decoded by liblzma's single-threaded stream decoder, fed the
//! block between its stream's own header and a one-record index and footer
//! made for it, so liblzma checks the block's integrity check (CRC64 for
//! Debian) and both of its sizes; our parse checks the headers', footers'
//! and indices' CRC32s and that the blocks fill the space the index gives
//! them. liblzma's multi-threaded decoder would decode into buffers of its
//! own and copy out of them, which doubles the peak memory of a 50 MB index.
//!
//! [xz file format]: https://tukaani.org/xz/xz-file-format.txt

use std::io;
use std::sync::{mpsc, Mutex};

use liblzma::stream::{Action, Status, Stream};

use super::TextSink;

const HEADER_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0];
const FOOTER_MAGIC: [u8; 2] = *b"YZ";
/// Stream header and stream footer are both this long.
const HEADER_SIZE: usize = 12;

/// Why an xz file could not be laid out or decoded.
#[derive(Debug)]
pub(super) enum XzError {
    /// Its content (as its indices claim, or as decoded) exceeds the limit.
    TooLarge,
    /// It is not a well-formed xz file.
    Corrupt(io::Error),
}

fn corrupt(msg: impl Into<String>) -> XzError {
    XzError::Corrupt(io::Error::new(io::ErrorKind::InvalidData, msg.into()))
}

/// One block: where it is, what surrounds it, what it decodes to.
#[derive(Debug, Clone, Copy)]
struct Block<'a> {
    /// Its stream's header (magic, flags, CRC32), checked.
    stream_header: &'a [u8],
    /// The block: header, compressed data, padding and check.
    data: &'a [u8],
    /// Its offset in the file, for messages.
    offset: usize,
    /// From the index: the block's size without its padding.
    unpadded: u64,
    /// From the index: the size of its content.
    uncompressed: u64,
}

/// Decodes the xz file `data` (one or more streams, with zero padding
/// between and after them) into a buffer of exactly its content's size, at
/// most `limit` bytes.
pub(super) fn decode(data: &[u8], limit: u64) -> Result<Vec<u8>, XzError> {
    let (blocks, total) = layout(data, limit)?;
    let total = usize::try_from(total).map_err(|_| XzError::TooLarge)?;
    // Zeroed pages are mapped lazily: a block that fails to decode leaves
    // the rest of the buffer untouched.
    let mut out = vec![0u8; total];
    decode_blocks(&blocks, &mut out)?;
    Ok(out)
}

/// Decodes `blocks` in parallel, one after the other into `out`, which is
/// the sum of their sizes.
fn decode_blocks(blocks: &[Block<'_>], out: &mut [u8]) -> Result<(), XzError> {
    let mut jobs = Vec::with_capacity(blocks.len());
    let mut rest = out;
    for block in blocks {
        let (slice, tail) = std::mem::take(&mut rest).split_at_mut(block.uncompressed as usize);
        jobs.push((block, slice));
        rest = tail;
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().try_for_each(|(block, slice)| decode_block(block, slice));
    }
    // Blocks in file order, each taken by the next idle thread; the first
    // error (in file order among those seen) is reported.
    let queue = Mutex::new(jobs.into_iter());
    let next = || queue.lock().expect("no thread panics holding the queue").next();
    let failures: Vec<(usize, XzError)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    while let Some((block, slice)) = next() {
                        if let Err(e) = decode_block(block, slice) {
                            return Some((block.offset, e));
                        }
                    }
                    None
                })
            })
            .collect();
        workers.into_iter().filter_map(|w| w.join().expect("decoding does not panic")).collect()
    });
    match failures.into_iter().min_by_key(|(offset, _)| *offset) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// The blocks of every stream of `data`, in file order, and the sum of
/// their uncompressed sizes; refused as soon as that sum passes `limit`.
fn layout(data: &[u8], limit: u64) -> Result<(Vec<Block<'_>>, u64), XzError> {
    let mut streams: Vec<Vec<Block<'_>>> = Vec::new();
    let mut total: u64 = 0;
    let mut end = data.len();
    loop {
        // Stream padding, after the last stream or between two.
        end -= data[..end].iter().rev().take_while(|b| **b == 0).count();
        if end == 0 {
            break;
        }
        let (blocks, start) = stream_layout(data, end, limit, &mut total)?;
        streams.push(blocks);
        end = start;
    }
    if streams.is_empty() {
        return Err(corrupt("no xz stream"));
    }
    Ok((streams.into_iter().rev().flatten().collect(), total))
}

/// Lays out the stream that ends at `end` (its footer's last byte), adding
/// its content's size to `total`; returns its blocks and where it starts.
fn stream_layout<'a>(
    data: &'a [u8],
    end: usize,
    limit: u64,
    total: &mut u64,
) -> Result<(Vec<Block<'a>>, usize), XzError> {
    let at = |what: &str| format!("{what} of the stream ending at byte {end}");
    if end < 2 * HEADER_SIZE {
        return Err(corrupt(format!("truncated: {} bytes cannot hold an xz stream", end)));
    }
    let footer = &data[end - HEADER_SIZE..end];
    if footer[10..] != FOOTER_MAGIC {
        return Err(corrupt("no xz stream footer at the end: the file is truncated or has trailing data"));
    }
    if crc32(&footer[4..10]) != le32(&footer[..4]) {
        return Err(corrupt(at("bad CRC32 in the footer")));
    }
    let flags = &footer[8..10];
    let index_size = (u64::from(le32(&footer[4..8])) + 1) * 4;
    let index_end = end - HEADER_SIZE;
    let index_start = usize::try_from(index_size)
        .ok()
        .and_then(|size| index_end.checked_sub(size))
        .ok_or_else(|| corrupt(at("index larger than the file")))?;
    let records = parse_index(&data[index_start..index_end]).map_err(|why| corrupt(at(why)))?;
    // Each block takes its unpadded size rounded up to four bytes.
    let mut blocks_size: u64 = 0;
    for &(unpadded, uncompressed) in &records {
        blocks_size = blocks_size
            .checked_add(unpadded.div_ceil(4) * 4)
            .filter(|&size| size <= index_start as u64)
            .ok_or_else(|| corrupt(at("index lists more blocks than the file holds")))?;
        *total = total.saturating_add(uncompressed);
        if *total > limit {
            return Err(XzError::TooLarge);
        }
    }
    let start = (index_start - blocks_size as usize)
        .checked_sub(HEADER_SIZE)
        .ok_or_else(|| corrupt(at("no room for the stream header")))?;
    let header = &data[start..start + HEADER_SIZE];
    if header[..6] != HEADER_MAGIC {
        return Err(corrupt(at("no stream header where the index puts it")));
    }
    if header[6..8] != *flags || crc32(&header[6..8]) != le32(&header[8..12]) {
        return Err(corrupt(at("stream header does not match its footer")));
    }
    let mut offset = start + HEADER_SIZE;
    let blocks = records
        .into_iter()
        .map(|(unpadded, uncompressed)| {
            let size = (unpadded.div_ceil(4) * 4) as usize;
            let block = Block { stream_header: header, data: &data[offset..offset + size], offset, unpadded, uncompressed };
            offset += size;
            block
        })
        .collect();
    Ok((blocks, start))
}

/// The (unpadded size, uncompressed size) records of an index, whose
/// indicator, padding and CRC32 are checked.
fn parse_index(index: &[u8]) -> Result<Vec<(u64, u64)>, &'static str> {
    if index.len() < 8 || index[0] != 0 {
        return Err("no index where the footer puts it");
    }
    let (body, crc) = index.split_at(index.len() - 4);
    if crc32(body) != le32(crc) {
        return Err("bad CRC32 in the index");
    }
    let mut pos = 1;
    let count = varint(body, &mut pos).ok_or("bad index")?;
    // Each record takes at least two bytes: the count cannot be believed
    // beyond that, so it never sizes an allocation.
    let mut records = Vec::new();
    for _ in 0..count {
        let unpadded = varint(body, &mut pos).ok_or("bad index record")?;
        let uncompressed = varint(body, &mut pos).ok_or("bad index record")?;
        // liblzma's smallest valid unpadded size.
        if unpadded < 5 {
            return Err("bad index record");
        }
        records.push((unpadded, uncompressed));
    }
    let padding = &body[pos.min(body.len())..];
    if padding.len() >= 4 || padding.iter().any(|b| *b != 0) || (pos + padding.len()) % 4 != 0 {
        return Err("bad index padding");
    }
    Ok(records)
}

/// An xz multibyte integer: seven bits a byte, least significant first, at
/// most nine bytes, with no superfluous zero byte at the end.
fn varint(data: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value: u64 = 0;
    for i in 0..9 {
        let byte = *data.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (i == 0 || byte != 0).then_some(value);
        }
    }
    None
}

fn le32(bytes: &[u8]) -> u32 {
    u32::from_le_bytes(bytes[..4].try_into().expect("four bytes"))
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

/// The index (one record: the block's unpadded and uncompressed sizes)
/// and footer that close a stream, with header `stream_header`, made of
/// one block.
fn one_block_tail(stream_header: &[u8], unpadded: u64, uncompressed: u64) -> Vec<u8> {
    let mut index = vec![0u8, 1];
    for mut n in [unpadded, uncompressed] {
        while n >= 0x80 {
            index.push((n as u8) | 0x80);
            n >>= 7;
        }
        index.push(n as u8);
    }
    index.resize(index.len().div_ceil(4) * 4, 0);
    let crc = crc32(&index);
    index.extend_from_slice(&crc.to_le_bytes());
    let backward = (index.len() / 4 - 1) as u32;
    let mut footer = backward.to_le_bytes().to_vec();
    footer.extend_from_slice(&stream_header[6..8]);
    let crc = crc32(&footer);
    index.extend_from_slice(&crc.to_le_bytes());
    index.extend_from_slice(&footer);
    index.extend_from_slice(&FOOTER_MAGIC);
    index
}

/// Decodes one block into `out`, which is exactly its uncompressed size.
fn decode_block(block: &Block<'_>, out: &mut [u8]) -> Result<(), XzError> {
    let mut decoder = BlockDecoder::new(block.offset, block.stream_header, out)?;
    decoder.feed(block.data)?;
    decoder.end(&one_block_tail(block.stream_header, block.unpadded, block.uncompressed))
}

/// One block as a stream of its own, fed as its bytes come; what it has
/// decoded can be taken (see [`BlockDecoder::take_decoded`]) before the rest.
struct BlockDecoder<'o> {
    stream: Stream,
    /// The block's output from the first byte not taken yet.
    out: &'o mut [u8],
    /// How many bytes at the start of `out` are decoded.
    decoded: usize,
    ended: bool,
    /// Where the block is in the file, for messages.
    offset: usize,
}

impl<'o> BlockDecoder<'o> {
    /// A decoder into `out` (the block's size), fed its stream's header.
    fn new(offset: usize, stream_header: &[u8], out: &'o mut [u8]) -> Result<Self, XzError> {
        let stream = Stream::new_stream_decoder(u64::MAX, 0).map_err(|e| block_error(offset, io::Error::from(e).to_string()))?;
        let mut decoder = BlockDecoder { stream, out, decoded: 0, ended: false, offset };
        decoder.feed(stream_header)?;
        Ok(decoder)
    }

    /// The next bytes of the block.
    fn feed(&mut self, mut input: &[u8]) -> Result<(), XzError> {
        while !input.is_empty() && !self.ended {
            let stream = &mut self.stream;
            let (read_before, written_before) = (stream.total_in(), stream.total_out());
            let status = stream
                .process(input, &mut self.out[self.decoded..], Action::Run)
                .map_err(|e| block_error(self.offset, io::Error::from(e).to_string()))?;
            let read = (stream.total_in() - read_before) as usize;
            let wrote = (stream.total_out() - written_before) as usize;
            input = &input[read..];
            self.decoded += wrote;
            self.ended = status == Status::StreamEnd;
            if read == 0 && wrote == 0 && !self.ended {
                // The output is full and the decoder has more.
                return Err(block_error(self.offset, "decodes to more than the index says"));
            }
        }
        Ok(())
    }

    /// The output decoded since the last call, which the decoder no longer
    /// writes to.
    fn take_decoded(&mut self) -> &'o [u8] {
        let (done, rest) = std::mem::take(&mut self.out).split_at_mut(self.decoded);
        self.out = rest;
        self.decoded = 0;
        done
    }

    /// Feeds the index and footer that close the block's stream (see
    /// [`one_block_tail`]) and checks that the block filled its output.
    fn end(&mut self, tail: &[u8]) -> Result<(), XzError> {
        self.feed(tail)?;
        if !self.ended || self.decoded != self.out.len() {
            return Err(block_error(self.offset, "decodes to less than the index says"));
        }
        Ok(())
    }
}

fn block_error(offset: usize, why: impl std::fmt::Display) -> XzError {
    corrupt(format!("block at byte {offset}: {why}"))
}

/// Decodes an xz file while it arrives, each block from its header on, as
/// its bytes come, into one buffer of the size the caller expects (from a
/// verified Release). Nothing decoded here is used unless [`Pipeline::finish`] finds
/// that the file as finally given (verified by then) has the same blocks,
/// byte for byte; else it decodes that file from scratch. Only blocks whose
/// headers give both of their sizes (as `xz -T` writes them) are decoded
/// early: the others' ends are not known before they are decoded.
///
/// Each of its sinks gets the text decoded early, in order, on a thread of
/// its own, as soon as `finish` is called (the file is verified by then)
/// and the text is decoded, so that their work overlaps the decoding.
pub(super) struct Pipeline<S> {
    sender: Option<mpsc::Sender<Message>>,
    thread: Option<std::thread::JoinHandle<Early<S>>>,
}

enum Message {
    Bytes(Vec<u8>),
    /// The download starts again from its first byte.
    Restart,
    /// The file is whole and verified: the sinks may have its text.
    Verified,
}

/// What the pipeline decoded before the end: the buffer, each block
/// decoded into it (its bytes, the stream header before it, where it was
/// and whether it decoded), in file order, none if it gave up at once; and
/// the sinks, fed the output of those blocks in order.
struct Early<S> {
    out: Vec<u8>,
    blocks: Vec<EarlyBlock>,
    sinks: Vec<S>,
}

struct EarlyBlock {
    offset: usize,
    /// Its bytes, in the pieces they came in.
    data: Vec<Vec<u8>>,
    stream_header: [u8; HEADER_SIZE],
    unpadded: u64,
    uncompressed: u64,
    result: Result<(), XzError>,
}

impl<S: TextSink> Pipeline<S> {
    /// A pipeline for a file whose content is `size` bytes.
    pub(super) fn start(size: usize, sinks: Vec<S>) -> Pipeline<S> {
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::spawn(move || decode_early(&receiver, size, sinks));
        Pipeline { sender: Some(sender), thread: Some(thread) }
    }

    /// The next piece of the file.
    pub(super) fn push(&self, bytes: &[u8]) {
        if let Some(sender) = &self.sender {
            // A pipeline that has stopped listening has given up early
            // decoding; `finish` decodes from scratch.
            let _ = sender.send(Message::Bytes(bytes.to_vec()));
        }
    }

    /// The file starts again (a retried download).
    pub(super) fn restart(&self) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(Message::Restart);
        }
    }

    /// Decodes `data`, the whole file, verified, at most `limit` bytes of
    /// content, taking each block decoded early whose bytes are those of
    /// `data`. The sinks come back if every block was, and so they were
    /// fed exactly the content.
    pub(super) fn finish(mut self, data: &[u8], limit: u64) -> Result<(Vec<u8>, Option<Vec<S>>), XzError> {
        if let Some(sender) = self.sender.take() {
            let _ = sender.send(Message::Verified);
        }
        let early = self.thread.take().map(|t| t.join().expect("early decoding does not panic"));
        let Some(mut early) = early.filter(|e| !e.blocks.is_empty()) else { return Ok((decode(data, limit)?, None)) };
        let (blocks, total) = layout(data, limit)?;
        let same = |b: &Block<'_>, e: &EarlyBlock| {
            b.offset == e.offset
                && is_made_of(b.data, &e.data)
                && b.stream_header == &e.stream_header[..]
                && (b.unpadded, b.uncompressed) == (e.unpadded, e.uncompressed)
        };
        let matches = total == early.out.len() as u64
            && early.blocks.len() <= blocks.len()
            && blocks.iter().zip(&early.blocks).all(|(b, e)| same(b, e));
        if !matches {
            drop(early);
            return Ok((decode(data, limit)?, None));
        }
        let done = early.blocks.len();
        // A block that failed early fails now: its bytes are the file's.
        if let Some(e) = early.blocks.into_iter().find_map(|e| e.result.err()) {
            return Err(e);
        }
        if done == blocks.len() {
            return Ok((early.out, Some(early.sinks)));
        }
        let start: u64 = blocks[..done].iter().map(|b| b.uncompressed).sum();
        decode_blocks(&blocks[done..], &mut early.out[start as usize..])?;
        Ok((early.out, None))
    }
}

/// Whether `pieces`, one after the other, are `whole`.
fn is_made_of(whole: &[u8], pieces: &[Vec<u8>]) -> bool {
    let mut rest = whole;
    let all_there = pieces.iter().all(|piece| match rest.strip_prefix(&piece[..]) {
        Some(after) => {
            rest = after;
            true
        }
        None => false,
    });
    all_there && rest.is_empty()
}

impl<S> Drop for Pipeline<S> {
    fn drop(&mut self) {
        // Dropping the sender ends the thread once its blocks are decoded;
        // it is not waited for, and the sinks get nothing.
        drop(self.sender.take());
    }
}

/// A block to decode: how its header describes it, where its bytes come
/// from, where its output goes, and where that output is passed on.
type Job<'s> = (BlockStart, mpsc::Receiver<Vec<u8>>, &'s mut [u8], Vec<mpsc::Sender<&'s [u8]>>);

/// The pipeline's thread: reads the stream header and each block header as
/// they arrive, and hands every block whose header gives its sizes to a
/// decoding thread at once, which decodes it as its bytes arrive. Stops
/// decoding early (and only collects what it started) at anything else.
fn decode_early<S: TextSink>(receiver: &mpsc::Receiver<Message>, size: usize, sinks: Vec<S>) -> Early<S> {
    let mut out = vec![0u8; size];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (blocks, sinks) = std::thread::scope(|s| {
        let (jobs, queue) = mpsc::channel::<Job<'_>>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let queue = queue.clone();
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let job = queue.lock().expect("no thread panics holding the queue").recv();
                        let Ok((start, pieces, out, text)) = job else { break };
                        done.push(decode_arriving(start, &pieces, out, &text));
                    }
                    done
                })
            })
            .collect();
        let (mut routes, feeders) = TextRoutes::new(s, sinks);
        let mut scan = Scan::default();
        let mut rest: &mut [u8] = &mut out[..];
        // The block being received: where its pieces go, how many bytes
        // it still has.
        let mut current: Option<(mpsc::Sender<Vec<u8>>, usize)> = None;
        while let Ok(message) = receiver.recv() {
            let bytes = match message {
                Message::Verified => {
                    routes.open();
                    continue;
                }
                // Nothing received yet: the first response begins.
                Message::Restart if scan.base == 0 && scan.data.is_empty() && current.is_none() => continue,
                Message::Restart => {
                    scan.failed = true;
                    current = None;
                    continue;
                }
                Message::Bytes(_) if scan.failed => continue,
                Message::Bytes(bytes) => bytes,
            };
            if scan.data.is_empty() {
                scan.data = bytes;
            } else {
                scan.data.extend_from_slice(&bytes);
            }
            loop {
                if let Some((pieces, remaining)) = &mut current {
                    let n = (*remaining).min(scan.data.len());
                    if n > 0 {
                        let piece = if n == scan.data.len() { std::mem::take(&mut scan.data) } else { scan.data.drain(..n).collect() };
                        let _ = pieces.send(piece);
                        scan.base += n;
                        *remaining -= n;
                    }
                    if *remaining > 0 {
                        break;
                    }
                    current = None;
                }
                let Some(start) = scan.next_block() else { break };
                let Some(size) = usize::try_from(start.uncompressed).ok().filter(|&n| n <= rest.len()) else {
                    scan.failed = true;
                    break;
                };
                let (slice, tail) = std::mem::take(&mut rest).split_at_mut(size);
                rest = tail;
                let (sender, pieces) = mpsc::channel();
                current = Some((sender, start.size));
                if jobs.send((start, pieces, slice, routes.block())).is_err() {
                    scan.failed = true;
                    break;
                }
            }
        }
        drop((jobs, current, routes));
        let mut blocks: Vec<EarlyBlock> =
            workers.into_iter().flat_map(|w| w.join().expect("decoding does not panic")).collect();
        blocks.sort_by_key(|b| b.offset);
        let sinks = feeders.into_iter().map(|f| f.join().expect("sinks do not panic")).collect();
        (blocks, sinks)
    });
    Early { out, blocks, sinks }
}

/// Decoded text on its way to the sinks: each block's output, block after
/// block in file order, goes to every sink's thread; held back until the
/// file is verified.
struct TextRoutes<'s> {
    /// Per sink: where each block's output is announced.
    sinks: Vec<mpsc::Sender<mpsc::Receiver<&'s [u8]>>>,
    /// Per block started before the file was verified, per sink: its output.
    held: Vec<Vec<mpsc::Receiver<&'s [u8]>>>,
    verified: bool,
}

impl<'s> TextRoutes<'s> {
    /// Routes to `sinks`, each fed by a thread of scope `s`, which gives the
    /// sink back when the routes are dropped and it has had all of its text.
    fn new<'env, S: TextSink>(
        s: &'s std::thread::Scope<'s, 'env>,
        sinks: Vec<S>,
    ) -> (TextRoutes<'s>, Vec<std::thread::ScopedJoinHandle<'s, S>>) {
        let (senders, feeders) = sinks
            .into_iter()
            .map(|mut sink| {
                let (sender, blocks) = mpsc::channel::<mpsc::Receiver<&'s [u8]>>();
                let feeder = s.spawn(move || {
                    for block in blocks {
                        for piece in block {
                            sink.text(piece);
                        }
                    }
                    sink
                });
                (sender, feeder)
            })
            .unzip();
        (TextRoutes { sinks: senders, held: Vec::new(), verified: false }, feeders)
    }

    /// Where the output of the next block goes, one sender per sink.
    fn block(&mut self) -> Vec<mpsc::Sender<&'s [u8]>> {
        let (senders, receivers): (Vec<_>, Vec<_>) = self.sinks.iter().map(|_| mpsc::channel()).unzip();
        self.held.push(receivers);
        if self.verified {
            self.release();
        }
        senders
    }

    /// The file is verified: the text flows from now on.
    fn open(&mut self) {
        self.verified = true;
        self.release();
    }

    fn release(&mut self) {
        for block in self.held.drain(..) {
            for (sink, text) in self.sinks.iter().zip(block) {
                let _ = sink.send(text);
            }
        }
    }
}

/// A block as its header describes it.
struct BlockStart {
    offset: usize,
    stream_header: [u8; HEADER_SIZE],
    unpadded: u64,
    uncompressed: u64,
    /// Its size in the file, padding and check included.
    size: usize,
}

/// How much decoded text is passed on at a time: large enough that the
/// sinks (hashing, writing a file) work in long runs.
const TEXT_PIECE: usize = 1 << 20;

/// Decodes a block from its bytes as they arrive, keeping them in the
/// pieces they come in (the header's claim of their size is not checked
/// yet: it bounds nothing), and passes its output on to `text` as it is
/// decoded.
fn decode_arriving<'o>(
    start: BlockStart,
    pieces: &mpsc::Receiver<Vec<u8>>,
    out: &'o mut [u8],
    text: &[mpsc::Sender<&'o [u8]>],
) -> EarlyBlock {
    let pass_on = |decoder: &mut BlockDecoder<'o>| {
        let piece = decoder.take_decoded();
        for sink in text {
            let _ = sink.send(piece);
        }
    };
    let mut data = Vec::new();
    let mut received = 0;
    let mut decoder = BlockDecoder::new(start.offset, &start.stream_header, out);
    for piece in pieces {
        if let Ok(d) = &mut decoder {
            match d.feed(&piece) {
                Err(e) => decoder = Err(e),
                Ok(()) if d.decoded >= TEXT_PIECE => pass_on(d),
                Ok(()) => {}
            }
        }
        received += piece.len();
        data.push(piece);
    }
    let result = if received != start.size {
        // Cut short (a restart, or the end): `finish` sees the bytes differ.
        Err(block_error(start.offset, "incomplete"))
    } else {
        decoder.and_then(|mut d| {
            d.end(&one_block_tail(&start.stream_header, start.unpadded, start.uncompressed))?;
            pass_on(&mut d);
            Ok(())
        })
    };
    let BlockStart { offset, stream_header, unpadded, uncompressed, .. } = start;
    EarlyBlock { offset, data, stream_header, unpadded, uncompressed, result }
}

/// The forward reading of a stream as it arrives.
#[derive(Default)]
struct Scan {
    /// The bytes from `base` on that are not yet handed out.
    data: Vec<u8>,
    base: usize,
    stream_header: Option<[u8; HEADER_SIZE]>,
    failed: bool,
}

impl Scan {
    /// The next block, once its header is there and if it gives the
    /// block's sizes; sets `failed` at anything else than a header that is
    /// not complete yet (the index, a block without sizes, a bad header).
    fn next_block(&mut self) -> Option<BlockStart> {
        if self.failed {
            return None;
        }
        match self.try_next_block() {
            Ok(block) => block,
            Err(()) => {
                self.failed = true;
                None
            }
        }
    }

    fn try_next_block(&mut self) -> Result<Option<BlockStart>, ()> {
        let stream_header = match self.stream_header {
            Some(header) => header,
            None => {
                let Some(header) = self.data.get(..HEADER_SIZE) else { return Ok(None) };
                let header: [u8; HEADER_SIZE] = header.try_into().expect("twelve bytes");
                if header[..6] != HEADER_MAGIC || crc32(&header[6..8]) != le32(&header[8..]) {
                    return Err(());
                }
                self.data.drain(..HEADER_SIZE);
                self.base = HEADER_SIZE;
                *self.stream_header.insert(header)
            }
        };
        let Some(&first) = self.data.first() else { return Ok(None) };
        if first == 0 {
            // The index: decoding early ends with the first stream.
            return Err(());
        }
        let header_size = (usize::from(first) + 1) * 4;
        let Some(header) = self.data.get(..header_size) else { return Ok(None) };
        let (fields, crc) = header.split_at(header_size - 4);
        // Both sizes present (flags 0xc0), and no reserved bit.
        if crc32(fields) != le32(crc) || fields[1] & 0xfc != 0xc0 {
            return Err(());
        }
        let mut pos = 2;
        let compressed = varint(fields, &mut pos).ok_or(())?;
        let uncompressed = varint(fields, &mut pos).ok_or(())?;
        let check = match stream_header[7] & 0x0f {
            0 => 0,
            1..=3 => 4,
            4..=6 => 8,
            7..=9 => 16,
            10..=12 => 32,
            _ => 64,
        };
        let unpadded = compressed.checked_add(header_size as u64 + check).ok_or(())?;
        let size = usize::try_from(unpadded.div_ceil(4) * 4).map_err(|_| ())?;
        Ok(Some(BlockStart { offset: self.base, stream_header, unpadded, uncompressed, size }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decompress::tests::xz as one_block;

    fn text() -> Vec<u8> {
        (0..20_000).flat_map(|i| format!("Package: p{i}\nVersion: {i}\n\n").into_bytes()).collect()
    }

    /// `packed` (one block) closed by an index and footer that say the
    /// block decodes to `uncompressed` bytes; every CRC is right.
    fn with_claimed_size(packed: &[u8], uncompressed: u64) -> Vec<u8> {
        let (blocks, _) = layout(packed, u64::MAX).unwrap();
        let [block] = blocks[..] else { panic!("one block") };
        let mut lie = packed[..block.offset + block.data.len()].to_vec();
        lie.extend(one_block_tail(block.stream_header, block.unpadded, uncompressed));
        lie
    }

    #[test]
    fn a_synthesized_tail_is_the_encoders_own() {
        let packed = one_block(&text());
        let (blocks, total) = layout(&packed, u64::MAX).unwrap();
        assert_eq!(with_claimed_size(&packed, total), packed);
        assert_eq!(blocks.len(), 1);
    }

    /// The index's sizes are checked against what the block decodes to,
    /// and a claimed size over the limit is refused before any allocation
    /// (2^50 bytes here would abort the test if it were allocated).
    #[test]
    fn an_index_that_lies_about_a_size_is_refused() {
        let text = text();
        let packed = one_block(&text);
        let n = text.len() as u64;
        for claim in [n - 1, 1, n + 1, 2 * n] {
            let err = decode(&with_claimed_size(&packed, claim), u64::MAX).unwrap_err();
            assert!(matches!(err, XzError::Corrupt(_)), "claimed {claim}: {err:?}");
        }
        let err = decode(&with_claimed_size(&packed, 1 << 50), 512 << 20).unwrap_err();
        assert!(matches!(err, XzError::TooLarge), "{err:?}");
        assert_eq!(decode(&with_claimed_size(&packed, n), n).unwrap(), text);
        assert!(matches!(decode(&packed, n - 1), Err(XzError::TooLarge)));
    }

    #[test]
    fn damaged_structures_are_named() {
        let packed = one_block(&text());
        let why = |data: &[u8]| match decode(data, u64::MAX) {
            Err(XzError::Corrupt(e)) => e.to_string(),
            other => panic!("{other:?}"),
        };
        let mut footer = packed.clone();
        let at = footer.len() - 7;
        footer[at] ^= 1;
        assert!(why(&footer).starts_with("bad CRC32 in the footer"), "{}", why(&footer));
        let mut index = packed.clone();
        let at = index.len() - 14;
        index[at] ^= 1;
        assert!(why(&index).starts_with("bad CRC32 in the index"), "{}", why(&index));
        let mut block = packed.clone();
        block[HEADER_SIZE + 40] ^= 1;
        assert!(why(&block).starts_with("block at byte 12: "), "{}", why(&block));
        assert_eq!(why(&packed[..packed.len() - 1]), "no xz stream footer at the end: the file is truncated or has trailing data");
        assert!(why(&packed[..20]).starts_with("truncated"), "{}", why(&packed[..20]));
        let mut junk = packed.clone();
        junk.extend_from_slice(b"junk");
        assert!(why(&junk).starts_with("no xz stream footer"), "{}", why(&junk));
    }

    #[test]
    fn varints_round_trip_and_reject_overlong_forms() {
        for (bytes, value) in [(&[0u8][..], 0u64), (&[0x7f], 127), (&[0x80, 0x01], 128), (&[0xff, 0xff, 0x03], 65535)] {
            let mut pos = 0;
            assert_eq!(varint(bytes, &mut pos), Some(value), "{bytes:?}");
            assert_eq!(pos, bytes.len());
        }
        for bad in [&[0x80u8][..], &[0x80, 0x00], &[0xff; 10]] {
            assert_eq!(varint(bad, &mut 0), None, "{bad:?}");
        }
    }

    /// Blocks of `block_size` with both sizes in their headers, as xz -T
    /// (and Debian's archive) writes them.
    fn sized_blocks(data: &[u8], block_size: u64) -> Vec<u8> {
        let mut stream =
            liblzma::stream::MtStreamBuilder::new().threads(2).block_size(block_size).preset(6).encoder().unwrap();
        let mut out = Vec::new();
        loop {
            out.reserve(1 << 16);
            let done = stream.total_in() as usize;
            if stream.process_vec(&data[done..], &mut out, Action::Finish).unwrap() == Status::StreamEnd {
                return out;
            }
        }
    }

    /// A sink that keeps what it is fed.
    #[derive(Debug, Default, PartialEq)]
    struct Kept(Vec<u8>);

    impl TextSink for Kept {
        fn text(&mut self, piece: &[u8]) {
            self.0.extend_from_slice(piece);
        }
    }

    /// What the pipeline's thread decodes of `data` given in `chunk`-byte
    /// pieces, for content of `size` bytes, with two sinks; `verified`
    /// says whether the file is then said to be verified.
    fn early(data: &[u8], chunk: usize, size: usize, verified: bool) -> Early<Kept> {
        let (sender, receiver) = mpsc::channel();
        for piece in data.chunks(chunk) {
            sender.send(Message::Bytes(piece.to_vec())).unwrap();
        }
        if verified {
            sender.send(Message::Verified).unwrap();
        }
        drop(sender);
        decode_early(&receiver, size, vec![Kept::default(), Kept::default()])
    }

    fn pipeline(pieces: &[&[u8]], size: usize) -> Pipeline<Kept> {
        let pipeline = Pipeline::start(size, vec![Kept::default(), Kept::default()]);
        for piece in pieces {
            pipeline.push(piece);
        }
        pipeline
    }

    /// The content `finish` gives, and whether its sinks came back.
    fn finished(pipeline: Pipeline<Kept>, data: &[u8], limit: u64) -> Result<(Vec<u8>, bool), XzError> {
        pipeline.finish(data, limit).map(|(text, sinks)| (text, sinks.is_some()))
    }

    /// Issue 12: blocks whose headers give their sizes are decoded while
    /// the file arrives, however it is cut into pieces; each sink is fed
    /// their text, in order, once the file is verified.
    #[test]
    fn sized_blocks_decode_as_they_arrive() {
        let text = text();
        let packed = sized_blocks(&text, 100_000);
        let (blocks, _) = layout(&packed, u64::MAX).unwrap();
        assert!(blocks.len() >= 4, "{} blocks", blocks.len());
        for chunk in [1, 1000, 65536, packed.len()] {
            let early = early(&packed, chunk, text.len(), true);
            assert_eq!(early.blocks.len(), blocks.len(), "chunks of {chunk}");
            assert!(early.blocks.iter().all(|b| b.result.is_ok()), "chunks of {chunk}");
            assert_eq!(early.out, text, "chunks of {chunk}");
            assert_eq!(early.sinks, [Kept(text.clone()), Kept(text.clone())], "chunks of {chunk}");
            let pieces: Vec<&[u8]> = packed.chunks(chunk).collect();
            let (out, sinks) = pipeline(&pieces, text.len()).finish(&packed, u64::MAX).unwrap();
            assert_eq!(out, text);
            assert_eq!(sinks.unwrap(), [Kept(text.clone()), Kept(text.clone())], "chunks of {chunk}");
        }
        // Not verified (the download failed): the sinks get nothing.
        assert_eq!(early(&packed, 1000, text.len(), false).sinks, [Kept::default(), Kept::default()]);
        // Without sizes in the block headers nothing is decoded early;
        // the end result is the same, and the sinks are not given back.
        let plain_headers = one_block(&text);
        assert!(early(&plain_headers, 1000, text.len(), true).blocks.is_empty());
        assert_eq!(finished(pipeline(&[&plain_headers], text.len()), &plain_headers, u64::MAX).unwrap(), (text.clone(), false));
        // Early decoding ends with the first stream: the rest is decoded
        // at the end, and the sinks, which saw only a part, are not given back.
        let mut two = packed.clone();
        two.extend(sized_blocks(&text, 100_000));
        let twice = [&text[..], &text[..]].concat();
        assert_eq!(finished(pipeline(&[&two], twice.len()), &two, u64::MAX).unwrap(), (twice, false));
    }

    /// What was decoded early is used only if it is the file finally
    /// given, verified by then; anything else is decoded from scratch, and
    /// the sinks, fed what was decoded early, are not given back.
    #[test]
    fn early_blocks_count_only_if_they_are_the_final_files() {
        let text = text();
        let packed = sized_blocks(&text, 100_000);
        let other_text: Vec<u8> = text.iter().map(|b| if *b == b'p' { b'q' } else { *b }).collect();
        let other = sized_blocks(&other_text, 100_000);
        assert_eq!(finished(pipeline(&[&other], text.len()), &packed, u64::MAX).unwrap(), (text.clone(), false));
        // A retried download: what came before the restart is not used.
        let p = pipeline(&[&other[..other.len() / 2]], text.len());
        p.restart();
        p.push(&packed);
        assert_eq!(finished(p, &packed, u64::MAX).unwrap(), (text.clone(), false));
        // A Release that gives the wrong content size: the file decides.
        for size in [text.len() - 1, text.len() + 1, 10] {
            assert_eq!(finished(pipeline(&[&packed], size), &packed, u64::MAX).unwrap(), (text.clone(), false), "size {size}");
        }
        assert!(matches!(pipeline(&[&packed], text.len()).finish(&packed, 1000), Err(XzError::TooLarge)));
        // A damaged block fails, early or not, and names the block.
        let (blocks, _) = layout(&packed, u64::MAX).unwrap();
        let mut damaged = packed.clone();
        damaged[blocks[2].offset + 30] ^= 0x10;
        let err = pipeline(&[&damaged], text.len()).finish(&damaged, u64::MAX).unwrap_err();
        let XzError::Corrupt(e) = err else { panic!("{err:?}") };
        assert!(e.to_string().starts_with(&format!("block at byte {}: ", blocks[2].offset)), "{e}");
        // Truncated: the end decides.
        let cut = &packed[..packed.len() - 10];
        assert!(matches!(pipeline(&[cut], text.len()).finish(cut, u64::MAX), Err(XzError::Corrupt(_))));
    }

    #[test]
    fn pieces_make_a_whole_only_in_order_and_in_full() {
        let v = |s: &[&str]| s.iter().map(|p| p.as_bytes().to_vec()).collect::<Vec<_>>();
        assert!(is_made_of(b"abcdef", &v(&["ab", "", "cde", "f"])));
        assert!(is_made_of(b"", &v(&[])));
        for pieces in [v(&["ab", "cde"]), v(&["ab", "cdef", "g"]), v(&["cd", "ab", "ef"]), v(&["abcdeg"]), v(&[])] {
            assert!(!is_made_of(b"abcdef", &pieces), "{pieces:?}");
        }
    }

    /// A block header's sizes are unverified input: one that claims a
    /// petabyte of compressed data neither allocates it nor stops the file
    /// from deciding.
    #[test]
    fn a_block_header_claiming_huge_sizes_allocates_nothing() {
        let packed = one_block(b"Package: a\n");
        let mut crafted = packed[..HEADER_SIZE].to_vec();
        let mut fields = vec![0u8, 0xc0];
        for mut n in [1u64 << 50, 10] {
            while n >= 0x80 {
                fields.push((n as u8) | 0x80);
                n >>= 7;
            }
            fields.push(n as u8);
        }
        fields.extend_from_slice(&[0x21, 1, 0x16]);
        fields.resize((fields.len() + 4).div_ceil(4) * 4 - 4, 0);
        fields[0] = ((fields.len() + 4) / 4 - 1) as u8;
        let crc = crc32(&fields);
        crafted.extend(fields);
        crafted.extend(crc.to_le_bytes());
        crafted.extend_from_slice(&[7; 1000]);
        let early = early(&crafted, 100, 1000, true);
        assert_eq!(early.blocks.len(), 1, "the block was started");
        assert!(early.blocks[0].result.is_err(), "and found incomplete");
        assert!(matches!(pipeline(&[&crafted], 1000).finish(&crafted, u64::MAX), Err(XzError::Corrupt(_))));
    }
}
