//! Version comparison on fuzzed triples: `compare` is reflexive,
//! antisymmetric and transitive (also on strings that are not versions, which
//! it promises to order totally); on valid versions it agrees with `Version`'s
//! `Eq` and `Ord`, with an independent model of Debian Policy §5.6.12, and
//! `Version` displays as written.
//!
//! Input: up to three lines. Each line is used as written, and also with the
//! characters a version cannot hold dropped, so most inputs yield valid
//! versions.
#![no_main]

use std::cmp::Ordering;

use debclosure::version::{self, Version};
use libfuzzer_sys::fuzz_target;

/// Policy §5.6.12, written from its prose: split into alternating non-digit
/// and digit runs; non-digit runs compare character by character with `~`
/// before everything (even the end), then the end, then letters, then the
/// rest in ASCII order; digit runs compare as numbers.
fn model_fragment(a: &str, b: &str) -> Ordering {
    fn rank(c: Option<char>) -> (u8, u32) {
        match c {
            Some('~') => (0, 0),
            None => (1, 0),
            Some(c) if c.is_ascii_alphabetic() => (2, c as u32),
            Some(c) => (3, c as u32),
        }
    }
    let (mut a, mut b) = (a, b);
    loop {
        if a.is_empty() && b.is_empty() {
            return Ordering::Equal;
        }
        let split = |s: &str| s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        let (sa, ra) = a.split_at(split(a));
        let (sb, rb) = b.split_at(split(b));
        let (mut ca, mut cb) = (sa.chars(), sb.chars());
        loop {
            let (x, y) = (ca.next(), cb.next());
            if x.is_none() && y.is_none() {
                break;
            }
            match rank(x).cmp(&rank(y)) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (na, ra) = ra.split_at(digits(ra));
        let (nb, rb) = rb.split_at(digits(rb));
        let (na, nb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
        match na.len().cmp(&nb.len()).then(na.cmp(nb)) {
            Ordering::Equal => {}
            other => return other,
        }
        a = ra;
        b = rb;
    }
}

fn model(a: &str, b: &str) -> Ordering {
    fn parts(v: &str) -> (u64, &str, &str) {
        let (epoch, rest) = match v.split_once(':') {
            Some((e, rest)) => (e.parse().expect("valid epoch"), rest),
            None => (0, v),
        };
        match rest.rsplit_once('-') {
            Some((u, r)) => (epoch, u, r),
            None => (epoch, rest, ""),
        }
    }
    let (ea, ua, ra) = parts(a);
    let (eb, ub, rb) = parts(b);
    ea.cmp(&eb).then_with(|| model_fragment(ua, ub)).then_with(|| model_fragment(ra, rb))
}

fn check_total(vs: &[&str]) {
    for &a in vs {
        assert_eq!(version::compare(a, a), Ordering::Equal, "{a:?} vs itself");
        for &b in vs {
            let ab = version::compare(a, b);
            assert_eq!(ab, version::compare(b, a).reverse(), "{a:?} vs {b:?} is not antisymmetric");
            for &c in vs {
                let (bc, ac) = (version::compare(b, c), version::compare(a, c));
                if ab.is_le() && bc.is_le() {
                    assert!(ac.is_le(), "{a:?} <= {b:?} <= {c:?} but {a:?} > {c:?}");
                }
                if ab.is_eq() {
                    assert_eq!(ac, bc, "{a:?} == {b:?} but they compare differently with {c:?}");
                }
            }
        }
    }
}

fn usable(line: &str) -> String {
    line.chars().filter(|c| c.is_ascii_alphanumeric() || ".+~-:".contains(*c)).collect()
}

fuzz_target!(|text: &str| {
    let raw: Vec<&str> = text.split('\n').take(3).collect();
    check_total(&raw);

    let cleaned: Vec<String> = raw.iter().map(|l| usable(l)).collect();
    let valid: Vec<&str> = raw
        .iter()
        .copied()
        .chain(cleaned.iter().map(String::as_str))
        .filter(|v| version::validate(v).is_ok())
        .collect();
    check_total(&valid);
    for &a in &valid {
        let va = Version::parse(a).expect("validated");
        assert_eq!(va.to_string(), a);
        assert_eq!(va.as_str(), a);
        for &b in &valid {
            let vb = Version::parse(b).expect("validated");
            let ord = version::compare(a, b);
            assert_eq!(va == vb, ord.is_eq(), "{a:?} vs {b:?}: Eq disagrees with compare");
            assert_eq!(va.cmp(&vb), ord);
            assert_eq!(va.partial_cmp(&vb), Some(ord));
            assert_eq!(ord, model(a, b), "{a:?} vs {b:?}: differs from the Policy model");
        }
    }
    // An invalid string sorts after every valid one.
    for &bad in raw.iter().filter(|v| version::validate(v).is_err()) {
        for &good in &valid {
            assert_eq!(version::compare(good, bad), Ordering::Less, "{good:?} vs invalid {bad:?}");
        }
    }
});
