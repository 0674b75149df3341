//! `release::parse_release` over arbitrary UTF-8: never panics; what it
//! accepts lists only safe, unique paths with 64-digit lower-case hashes, and
//! dates whose text parses to the time it recorded; the date checks take any
//! clock.
#![no_main]

use debclosure::index::check_filename;
use debclosure::release::{parse_date, parse_release};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    // The date parser on its own, on each line.
    for line in text.lines().take(8) {
        if let Some(unix) = parse_date(line) {
            assert!((-62_167_219_200 - 86_400..=253_402_300_800 + 86_400).contains(&unix), "{line:?} -> {unix}: not a 4-digit year");
        }
    }
    let release = match parse_release(text, "fuzz/InRelease") {
        Ok(release) => release,
        Err(e) => {
            let shown = e.to_string();
            assert!(shown.starts_with("fuzz/InRelease"), "{shown}");
            return;
        }
    };
    let mut seen = std::collections::BTreeSet::new();
    for f in &release.files {
        assert_eq!(check_filename(&f.path), Ok(()), "{:?}", f.path);
        assert!(seen.insert(f.path.as_str()), "{} twice", f.path);
        assert!(f.sha256.len() == 64 && f.sha256.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')), "{}", f.sha256);
        assert_eq!(release.file(&f.path), Some(f));
    }
    for stamp in [&release.date, &release.valid_until].into_iter().flatten() {
        assert_eq!(parse_date(&stamp.text), Some(stamp.unix));
    }
    for now in [i64::MIN, -1, 0, 1_750_000_000, i64::MAX] {
        let _ = release.check_dates(now, "fuzz/InRelease");
    }
});
