//! `deb822::parse` over arbitrary UTF-8: never panics, every field it returns
//! is a well-formed slice of the input at the line it names, a stanza parsed
//! again from its offset is the same, and parsing in chunks (as the index
//! does on several cores) gives what parsing the whole text gives.
#![no_main]

use debclosure::deb822::{self, Stanza};
use libfuzzer_sys::fuzz_target;

fn offset_in(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    assert!(offset <= text.len() && offset + part.len() <= text.len(), "{part:?} is not a slice of the input");
    offset
}

fn check_stanza(text: &str, st: &Stanza<'_>, unique: bool) {
    assert!(!st.fields.is_empty(), "an empty stanza was returned");
    assert_eq!(st.fields[0].line, st.line);
    assert_eq!(offset_in(text, st.fields[0].name), st.offset);
    for (i, f) in st.fields.iter().enumerate() {
        assert!(!f.name.is_empty());
        assert!(!f.name.bytes().any(|c| c <= b' ' || c == 0x7f || c == b':'), "bad name {:?}", f.name);
        let blank = |c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n';
        assert_eq!(f.value, f.value.trim_matches(blank), "value not trimmed");
        let at = offset_in(text, f.name);
        assert!(at == 0 || text.as_bytes()[at - 1] == b'\n', "field name not at a line start");
        assert_eq!(f.line, 1 + text[..at].matches('\n').count(), "wrong line for {:?}", f.name);
        let value_at = offset_in(text, f.value);
        assert!(value_at > at);
        if unique {
            assert!(!st.fields[..i].iter().any(|g| g.name.eq_ignore_ascii_case(f.name)), "duplicate {:?}", f.name);
        }
        if i > 0 {
            assert!(f.line > st.fields[i - 1].line);
        }
    }
}

fuzz_target!(|text: &str| {
    let mut last_line = 0;
    for result in deb822::parse(text) {
        match result {
            Ok(st) => {
                check_stanza(text, &st, true);
                assert!(st.line > last_line, "stanzas out of order");
                last_line = st.fields.last().expect("checked non-empty").line;
                let again = deb822::parse_from(text, st.offset, st.line).next();
                assert_eq!(again, Some(Ok(st.clone())), "re-reading a stanza from its offset differs");
            }
            Err(e) => {
                assert!(e.line >= 1 && e.line <= text.matches('\n').count() + 1, "error line {} out of range", e.line);
                assert!(e.problem.len() < 400, "unbounded error message: {} bytes", e.problem.len());
            }
        }
    }

    // What Index::build does on a large text: cut after blank lines, parse
    // each piece from its first line on, stop at the first error.
    let whole: Vec<_> = deb822::parse(text).allow_duplicates().collect();
    for st in whole.iter().flatten() {
        check_stanza(text, st, false);
    }
    for parts in [2, 3, 5, 16] {
        let mut got = Vec::new();
        let mut line = 1;
        'chunks: for range in deb822::split_stanzas(text, parts) {
            for result in deb822::parse_from(text, range.start, line).until(range.end).allow_duplicates() {
                let failed = result.is_err();
                got.push(result);
                if failed {
                    break 'chunks;
                }
            }
            line += text[range].matches('\n').count();
        }
        assert_eq!(got, whole, "{parts} chunks parse differently from the whole");
    }
});
