//! Bytes that are either owned or a file mapped read-only into memory.
//!
//! The one place of the library that uses `unsafe`: mapping a file is
//! unsafe because the mapped bytes change if someone writes the file, and
//! reading past its end after someone truncates it stops the process with
//! `SIGBUS`. Only the cache's derived entries are mapped (compact indices,
//! issue 12), and the cache never writes an entry in place: every entry is
//! written to a temporary file and renamed over the old one, so a mapped
//! entry keeps its bytes even when another run replaces it. Only someone
//! writing into the private cache directory by hand could change them, and
//! such a person can already change what the cache answers.
//!
//! Mapping a 25 MB entry instead of reading it saves the kernel's copy and
//! the page faults of a fresh buffer: a third of a warm `resolve`.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::sync::Arc;

/// Bytes read into memory, or mapped from a file the cache owns.
#[derive(Clone)]
pub enum Bytes {
    /// Read or built in memory.
    Owned(Vec<u8>),
    /// A cache entry mapped read-only.
    Mapped(Arc<memmap2::Mmap>),
}

impl Bytes {
    /// Maps `file`, an entry the cache wrote by renaming it into place and
    /// will never write again (see the module's documentation). An empty
    /// file, which cannot be mapped, is read as empty bytes.
    pub fn map_cache_entry(file: &File) -> io::Result<Bytes> {
        if file.metadata()?.len() == 0 {
            return Ok(Bytes::Owned(Vec::new()));
        }
        // SAFETY: the file is a cache entry, replaced only by renaming a new
        // file over it, never written or truncated in place (see above).
        let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
        Ok(Bytes::Mapped(Arc::new(map)))
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Bytes::Owned(_) => "owned",
            Bytes::Mapped(_) => "mapped",
        };
        write!(f, "Bytes({kind}, {} bytes)", self.len())
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes::Owned(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_mapped_file_reads_as_its_bytes() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"debclidx and more").unwrap();
        let mapped = Bytes::map_cache_entry(&file).unwrap();
        assert!(matches!(mapped, Bytes::Mapped(_)));
        assert_eq!(&*mapped, b"debclidx and more");
        let empty = Bytes::map_cache_entry(&tempfile::tempfile().unwrap()).unwrap();
        assert!(empty.is_empty());
    }
}
