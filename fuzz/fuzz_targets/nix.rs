//! The Nix writers over arbitrary UTF-8: `nix_string` refuses NUL and
//! otherwise writes a literal that a model of Nix's string lexer reads back
//! as exactly the input, with no unescaped `"`, `${` or carriage return;
//! `store_name` always returns a name Nix accepts for a store path.
#![no_main]

use debclosure::nix::{nix_string, store_name};
use libfuzzer_sys::fuzz_target;

/// Reads a `"..."` literal the way Nix's lexer does, refusing anything that
/// would not be plain data: an interpolation, a bare `$` (so none can start
/// one), a closing quote before the end, a raw CR (Nix turns it into LF).
fn read_nix_string(lit: &str) -> Result<String, String> {
    let inner = lit
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("not quoted: {lit:?}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => return Err("the closing quote is escaped".into()),
            },
            '"' => return Err("unescaped quote inside".into()),
            '$' => return Err("unescaped $ (could start ${)".into()),
            '\r' => return Err("raw carriage return".into()),
            c => out.push(c),
        }
    }
    Ok(out)
}

fuzz_target!(|text: &str| {
    match nix_string(text) {
        Ok(lit) => {
            assert!(!text.contains('\0'));
            let back = read_nix_string(&lit).unwrap_or_else(|e| panic!("{lit:?}: {e}"));
            assert_eq!(back, text);
        }
        Err(_) => assert!(text.contains('\0'), "refused without a NUL"),
    }

    let name = store_name(text);
    assert!(!name.is_empty(), "empty store name for {text:?}");
    assert!(name.len() <= 211, "store name of {} bytes", name.len());
    assert!(!name.starts_with('.'), "store name {name:?} starts with a period");
    assert!(
        name.bytes().all(|c| c.is_ascii_alphanumeric() || b"+-._?=".contains(&c)),
        "store name {name:?} has a character Nix refuses"
    );
    let base = text.rsplit('/').next().unwrap_or(text);
    if base.len() > 4 && base.ends_with(".deb") {
        assert!(name.ends_with(".deb"), "{name:?} lost the .deb of {base:?}");
    }
});
