//! `debclosure::version::compare` against `dpkg --compare-versions`, on a
//! sample of real version strings (`tests/fixtures/versions.txt`).
//!
//! The pairs are: every pair of neighbours once the sample is sorted by
//! `compare` (if dpkg agrees on all of them, the whole order agrees with
//! dpkg's), pseudo-random pairs from a seeded generator, pairs that share a
//! prefix, and variants made from real versions by adding `~`, `+b1`, `.0`,
//! `-0`, an epoch or leading zeros. dpkg decides every expected result.
//!
//! Each pair costs one dpkg run: the run asks whether our own answer holds
//! (`lt`, `eq` or `gt`); only when it does not are more runs made, to name
//! dpkg's answer in the failure message.
//!
//! Without dpkg the comparison test is skipped with a notice, unless the
//! environment variable `CI` is set, where it fails.

mod common;

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use debclosure::version::{compare, validate};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/versions.txt");

fn load_versions() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(FIXTURE)).expect("read tests/fixtures/versions.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// splitmix64: small, seeded, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// The pairs to check, each with the kind of pair for messages.
fn build_pairs(versions: &[String]) -> Vec<(&'static str, String, String)> {
    let mut pairs = Vec::new();

    // Neighbours in our order.
    let mut sorted: Vec<&String> = versions.iter().collect();
    sorted.sort_by(|a, b| compare(a, b).then_with(|| a.cmp(b)));
    for w in sorted.windows(2) {
        pairs.push(("neighbours", w[0].clone(), w[1].clone()));
    }

    let mut rng = Rng(0x5eed_deb1_c105_u64);

    // Random pairs, in random direction.
    for _ in 0..1200 {
        let a = rng.below(versions.len());
        let b = rng.below(versions.len());
        pairs.push(("random", versions[a].clone(), versions[b].clone()));
    }

    // Pairs that share a prefix of at least three bytes: close in byte order.
    let mut bytewise: Vec<&String> = versions.iter().collect();
    bytewise.sort();
    let mut close = Vec::new();
    for i in 0..bytewise.len() {
        for j in i + 1..(i + 8).min(bytewise.len()) {
            if common_prefix(bytewise[i], bytewise[j]) >= 3 {
                close.push((bytewise[i], bytewise[j]));
            }
        }
    }
    for _ in 0..700.min(close.len()) {
        let (a, b) = close[rng.below(close.len())];
        if rng.next() & 1 == 0 {
            pairs.push(("shared prefix", a.clone(), b.clone()));
        } else {
            pairs.push(("shared prefix", b.clone(), a.clone()));
        }
    }

    // Variants of real versions around the edges of the rules.
    for _ in 0..400 {
        let v = &versions[rng.below(versions.len())];
        let (epoch, rest) = match v.split_once(':') {
            Some((e, r)) => (format!("{e}:"), r.to_owned()),
            None => (String::new(), v.clone()),
        };
        let variant = match rng.below(9) {
            0 => format!("{v}~"),
            1 => format!("{v}~~"),
            2 => format!("{v}+b1"),
            3 => format!("{v}.0"),
            4 => format!("{v}a"),
            5 if !rest.contains('-') => format!("{v}-0"),
            6 if epoch.is_empty() => format!("0:{v}"),
            7 => format!("{}{}", epoch, rest.replacen('.', ".0", 1)),
            _ => format!("{}{}", epoch, rest.replacen('-', "~-", 1)),
        };
        if validate(&variant).is_ok() {
            pairs.push(("variant", v.clone(), variant));
        }
    }
    pairs
}

fn dpkg_says(a: &str, op: &str, b: &str) -> bool {
    let status = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run dpkg --compare-versions");
    match status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!("dpkg --compare-versions {a:?} {op} {b:?} failed with {other:?}"),
    }
}

fn op_of(ord: Ordering) -> &'static str {
    match ord {
        Ordering::Less => "lt",
        Ordering::Equal => "eq",
        Ordering::Greater => "gt",
    }
}

/// dpkg's answer, asked in full (used only after a disagreement).
fn dpkg_order(a: &str, b: &str) -> Ordering {
    if dpkg_says(a, "lt", b) {
        Ordering::Less
    } else if dpkg_says(a, "eq", b) {
        Ordering::Equal
    } else {
        Ordering::Greater
    }
}

#[test]
fn fixture_is_a_varied_sample_of_valid_versions() {
    let versions = load_versions();
    assert!(versions.len() >= 3000, "only {} versions in {FIXTURE}", versions.len());
    let distinct: BTreeSet<&String> = versions.iter().collect();
    assert_eq!(distinct.len(), versions.len(), "{FIXTURE} repeats a version");
    for v in &versions {
        assert_eq!(validate(v), Ok(()), "{v:?} in {FIXTURE}");
    }
    let count = |pred: &dyn Fn(&str) -> bool| versions.iter().filter(|v| pred(v)).count();
    let kinds = [
        ("an epoch", count(&|v| v.contains(':'))),
        ("'~'", count(&|v| v.contains('~'))),
        ("'+'", count(&|v| v.contains('+'))),
        ("four or more dots", count(&|v| v.matches('.').count() >= 4)),
        ("a revision", count(&|v| v.contains('-'))),
        ("no revision", count(&|v| !v.contains('-'))),
    ];
    for (what, n) in kinds {
        assert!(n >= 100, "only {n} versions with {what} in {FIXTURE}");
    }
}

#[test]
fn compare_agrees_with_dpkg() {
    if !common::runs("dpkg", "--version") {
        common::missing("dpkg", "compare_agrees_with_dpkg", "install dpkg: the comparison with dpkg must run in CI");
        return;
    }
    let start = Instant::now();
    let versions = load_versions();
    let pairs = build_pairs(&versions);
    assert!(pairs.len() >= 3000, "only {} pairs", pairs.len());

    let threads = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(2, 8);
    let chunk = pairs.len().div_ceil(threads);
    let mut mismatches: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = pairs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for (kind, a, b) in part {
                        let ours = compare(a, b);
                        if !dpkg_says(a, op_of(ours), b) {
                            let theirs = dpkg_order(a, b);
                            bad.push(format!(
                                "{kind}: compare({a:?}, {b:?}) = {ours:?}, dpkg says {theirs:?}"
                            ));
                        }
                        // The order must be antisymmetric too; no dpkg run needed.
                        if compare(b, a) != ours.reverse() {
                            bad.push(format!("{kind}: compare is not antisymmetric on {a:?}, {b:?}"));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker panicked"))
            .collect()
    });
    mismatches.sort();
    mismatches.dedup();
    eprintln!(
        "checked {} pairs against dpkg with {threads} threads in {:.1?}",
        pairs.len(),
        start.elapsed()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {} pairs disagree with dpkg:\n{}",
        mismatches.len(),
        pairs.len(),
        mismatches.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}
