//! `relation::parse_relations` and `parse_provides` over arbitrary UTF-8:
//! never panic; what they accept holds only valid names, architectures and
//! versions, and Debian's way of writing it parses back to the same groups;
//! an error points inside the text.
#![no_main]

use debclosure::relation::{self, ArchQualifier, Dependency, VersionOp};
use debclosure::version;
use libfuzzer_sys::fuzz_target;

fn is_arch(a: &str) -> bool {
    !a.is_empty() && a.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// What survives `display_group`: restrictions and build profiles do not.
fn key<'a>(d: &Dependency<'a>) -> (&'a str, ArchQualifier<'a>, Option<(VersionOp, &'a str)>) {
    (d.name, d.arch, d.constraint)
}

fuzz_target!(|text: &str| {
    let columns = text.chars().count() + 1;
    match relation::parse_relations(text) {
        Ok(groups) => {
            for group in &groups {
                assert!(!group.is_empty());
                for d in group {
                    assert!(relation::is_valid_package_name(d.name), "{:?}", d.name);
                    if let ArchQualifier::Named(a) = d.arch {
                        assert!(is_arch(a) && a != "any" && a != "native", "{a:?}");
                    }
                    if let Some((_, v)) = d.constraint {
                        assert_eq!(version::validate(v), Ok(()), "{v:?}");
                    }
                    for (negated, a) in &d.restriction {
                        assert!(is_arch(a), "{a:?}");
                        assert_eq!(*negated, d.restriction[0].0, "mixed negation");
                    }
                }
            }
            let shown: Vec<String> = groups.iter().map(|g| relation::display_group(g)).collect();
            let shown = shown.join(", ");
            let again = relation::parse_relations(&shown).unwrap_or_else(|e| panic!("{shown:?} does not parse: {e}"));
            let keys = |gs: &[Vec<Dependency<'_>>]| -> Vec<Vec<String>> {
                gs.iter().map(|g| g.iter().map(|d| format!("{:?}", key(d))).collect()).collect()
            };
            assert_eq!(keys(&groups), keys(&again), "{shown:?}");
        }
        Err(e) => {
            assert!(e.column >= 1 && e.column <= columns, "column {} of {columns}", e.column);
        }
    }
    if let Ok(provides) = relation::parse_provides(text) {
        let groups = relation::parse_relations(text).expect("what Provides accepts is a relation field");
        assert_eq!(groups.len(), provides.len());
        for (g, p) in groups.iter().zip(&provides) {
            assert_eq!(g.len(), 1);
            assert_eq!(&g[0], p);
            assert!(p.constraint.is_none_or(|(op, _)| op == VersionOp::Equal));
        }
    }
});
