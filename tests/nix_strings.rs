//! Issue 8: the Nix writer against Nix itself. Many strings made of the
//! pieces that matter to Nix's lexer (`"`, `\`, `${`, `$`, `''`, newlines,
//! tabs, carriage returns, control and non-ASCII characters) are written with
//! `nix::nix_string` into one Nix list per `nix-instantiate` call; the list
//! must parse (`--parse`) and evaluate (`--eval`) back to exactly the strings.
//! The store names `nix::store_name` makes are checked the same way, by
//! asking Nix for a store path with each name.
//!
//! Without `nix-instantiate` the test is skipped with a notice, except under
//! CI (`CI` set), where that is a failure.

mod common;

use std::io::Write;
use std::process::Command;

use debclosure::nix::{nix_string, store_name};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn nix_available() -> bool {
    let ok = common::runs("nix-instantiate", "--version");
    if !ok {
        common::missing("nix-instantiate", "the Nix string checks", "apt-get install nix-bin");
    }
    ok
}

/// The pieces strings are made of: everything with a meaning to Nix's
/// string lexers (both `"..."` and `''...''`), and any other character.
fn piece() -> impl Strategy<Value = String> {
    const SPECIAL: &[&str] = &[
        "\"", "\\", "${", "$", "$$", "$${", "\\${", "${x}", "{", "}", "''", "'''", "''$", "''\\", "'", "\n", "\t", "\r",
        "\r\n", "\u{b}", "\u{c}", "\u{1}", "\u{1b}[31m", "\u{7f}", "\u{85}", "\u{a0}", "é", "☃", "🦀", "\u{feff}",
        "\u{2028}", "#", "/*", "*/", "\\n", "\\\"",
    ];
    prop_oneof![
        3 => proptest::sample::select(SPECIAL).prop_map(str::to_owned),
        1 => "[a-z0-9 ._~:/-]{1,5}",
        1 => any::<char>().prop_filter("Nix strings hold no NUL", |c| *c != '\0').prop_map(String::from),
    ]
}

fn nix_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(piece(), 0..10).prop_map(|pieces| pieces.concat())
}

/// Runs `nix-instantiate ARGS FILE` on `expr` written to a temporary file,
/// and returns its standard output.
fn instantiate(args: &[&str], expr: &str) -> Result<Vec<u8>, String> {
    let mut file = tempfile::Builder::new().suffix(".nix").tempfile().unwrap();
    file.write_all(expr.as_bytes()).unwrap();
    let out = Command::new("nix-instantiate")
        .args(args)
        .arg(file.path())
        .output()
        .map_err(|e| format!("cannot run nix-instantiate: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nix-instantiate {args:?} failed:\n{}\nexpression:\n{expr}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// Writes `strings` as one Nix list and has Nix parse and evaluate it.
fn round_trip(strings: &[String]) -> Result<(), String> {
    let mut expr = String::from("[\n");
    for s in strings {
        expr.push_str("  ");
        expr.push_str(&nix_string(s).map_err(|e| e.to_string())?);
        expr.push('\n');
    }
    expr.push_str("]\n");
    instantiate(&["--parse"], &expr)?;
    let json = instantiate(&["--eval", "--strict", "--json"], &expr)?;
    let back: Vec<String> = serde_json::from_slice(&json).map_err(|e| format!("nix printed no JSON list: {e}"))?;
    if back.len() != strings.len() {
        return Err(format!("{} strings in, {} out", strings.len(), back.len()));
    }
    for (want, got) in strings.iter().zip(&back) {
        if want != got {
            return Err(format!("{want:?} came back from Nix as {got:?}\n(written as {})", nix_string(want).unwrap()));
        }
    }
    Ok(())
}

#[test]
fn nix_reads_back_every_string_as_written() {
    if !nix_available() {
        return;
    }
    // A fixed set first, so the worst cases run whatever proptest draws.
    let fixed: Vec<String> = [
        "", "\"", "\\", "${", "${x}", "$", "$$", "$${x}", "\\${x}", "''", "''${x}''", "'''", "''\\n", "a\nb", "a\r\nb",
        "\r", "\t", "\u{1}\u{1f}\u{7f}", "é☃🦀", "\u{feff}x", "pool/main/u/usrmerge/usr-is-merged_37~deb12u1_all.deb",
        "https://user:pa$$word@host.invalid/a b?c=${d}#e",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    round_trip(&fixed).unwrap();

    let config = Config { cases: 12, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    runner
        .run(&proptest::collection::vec(nix_text(), 150..250), |strings| {
            round_trip(&strings).map_err(TestCaseError::fail)
        })
        .unwrap();
}

#[test]
fn nul_is_refused_not_written() {
    assert!(nix_string("a\0b").is_err());
    assert!(nix_string("\0").is_err());
}

/// File names as an index may hold them (after `index::check_filename`,
/// which refuses control characters), and longer than a store name may be.
fn deb_filename() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        3 => "[a-z0-9+.~_-]{1,20}",
        1 => proptest::sample::select(&[".", "..", "%3a", "~", "é", "☃", " ", "'", "\"", "$", "{", "="][..]).prop_map(str::to_owned),
        1 => "[a-z.]{200,260}",
    ];
    (proptest::collection::vec(part, 1..6), proptest::bool::ANY).prop_map(|(parts, deb)| {
        let mut name = format!("pool/main/x/{}", parts.concat());
        if deb {
            name.push_str(".deb");
        }
        name
    })
}

#[test]
fn nix_accepts_every_store_name() {
    if !nix_available() {
        return;
    }
    let config = Config { cases: 8, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    runner
        .run(&proptest::collection::vec(deb_filename(), 100..200), |files| {
            let names: Vec<String> = files.iter().map(|f| store_name(f)).collect();
            let mut expr = String::from("map (n: builtins.toFile n \"\") [\n");
            for n in &names {
                expr.push_str(&format!("  {}\n", nix_string(n).unwrap()));
            }
            expr.push_str("]\n");
            let json = instantiate(&["--eval", "--strict", "--json", "--readonly-mode"], &expr).map_err(TestCaseError::fail)?;
            let paths: Vec<String> = serde_json::from_slice(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for ((file, name), path) in files.iter().zip(&names).zip(&paths) {
                prop_assert!(path.ends_with(&format!("-{name}")), "{file:?}: store path {path:?} for name {name:?}");
                prop_assert!(!name.starts_with('.'), "{file:?}: {name:?}");
                if file.ends_with(".deb") {
                    prop_assert!(name.ends_with(".deb"), "{file:?}: {name:?}");
                }
            }
            Ok(())
        })
        .unwrap();
}
