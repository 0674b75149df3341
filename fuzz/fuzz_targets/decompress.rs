//! `decompress::decompress` over arbitrary bytes with a small limit: never
//! panics or hangs, never returns more than the limit, and returns plain
//! input as it is.
#![no_main]

use debclosure::decompress::{decompress, decompress_text, Compression, DecompressError};
use libfuzzer_sys::fuzz_target;

const LIMIT: u64 = 256 << 10;

fuzz_target!(|data: &[u8]| {
    match decompress(data, "fuzz", LIMIT) {
        Ok(out) => {
            assert!(out.len() as u64 <= LIMIT, "{} bytes out, limit {LIMIT}", out.len());
            if Compression::detect(data) == Compression::None {
                assert_eq!(out, data);
            }
            match decompress_text(data, "fuzz", LIMIT) {
                Ok(text) => assert_eq!(text.as_bytes(), out),
                Err(DecompressError::NotText { offset, .. }) => {
                    assert!(std::str::from_utf8(&out).is_err() && offset <= out.len())
                }
                Err(e) => panic!("decompress succeeded, decompress_text failed: {e}"),
            }
        }
        Err(DecompressError::TooLarge { limit, .. }) => assert_eq!(limit, LIMIT),
        Err(DecompressError::Corrupt { .. }) => assert_ne!(Compression::detect(data), Compression::None),
        Err(e) => panic!("unexpected error: {e}"),
    }
});
