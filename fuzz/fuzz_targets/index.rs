//! `index::Index::build` over arbitrary text, cut into two sources at a
//! fuzzed point: never panics; every package it takes has a valid name,
//! version, file name, hash; relationship fields parse or fail with their
//! place; and the result does not depend on the order of the sources.
#![no_main]

use debclosure::index::{check_filename, Index, IndexSource, PackageId, RelationField};
use debclosure::relation::is_valid_package_name;
use debclosure::version;
use libfuzzer_sys::fuzz_target;

const FIELDS: [RelationField; 5] = [
    RelationField::PreDepends,
    RelationField::Depends,
    RelationField::Recommends,
    RelationField::Conflicts,
    RelationField::Breaks,
];

fn source(label: &str, text: &str, automatic: bool) -> IndexSource {
    IndexSource { label: label.into(), archive: None, suite: None, automatic, content: text.to_owned().into() }
}

/// Everything of a candidate that the resolver can see.
fn summary(index: &Index<'_>, id: PackageId) -> String {
    let p = index.package(id);
    let relations: Vec<&str> = FIELDS.iter().map(|f| p.relation_text(*f)).collect();
    format!(
        "{} {} {} {:?} {:?} {} {} {} {} {:?} {:?}",
        p.name, p.version, p.architecture, p.multi_arch, p.priority, p.essential, p.filename, p.sha256, p.size,
        index.provides(id), relations
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut at = text.len() * usize::from(cut) / 255;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (first, second) = text.split_at(at);
    let automatic = cut % 2 == 0;
    let forward = [source("a", first, true), source("b", second, automatic)];
    let backward = [source("b", second, automatic), source("a", first, true)];
    let Ok(index) = Index::build(&forward, "amd64") else {
        assert!(Index::build(&backward, "amd64").is_err(), "an error depends on the order of the sources");
        return;
    };
    let reversed = Index::build(&backward, "amd64").expect("the same sources in another order build");
    assert_eq!(index.len(), reversed.len());
    for id in index.ids() {
        let p = index.package(id);
        assert!(is_valid_package_name(p.name), "{:?}", p.name);
        assert_eq!(version::validate(p.version), Ok(()));
        assert_eq!(check_filename(p.filename), Ok(()));
        assert!(p.architecture == "amd64" || p.architecture == "all");
        assert_eq!(p.sha256.len(), 64);
        assert!(p.line >= 1);
        for field in FIELDS {
            if let Err(e) = index.relations(id, field) {
                let shown = e.to_string();
                assert!(shown.starts_with('a') || shown.starts_with('b'), "{shown}");
            }
        }
        for d in &p.provides {
            assert!(index.providers(d.name).iter().any(|(pid, _)| *pid == id));
        }
        let versions = index.versions(p.name);
        assert!(versions.contains(&id));
        for pair in versions.windows(2) {
            let (x, y) = (index.package(pair[0]), index.package(pair[1]));
            let (xa, ya) = (index.sources()[x.source].automatic, index.sources()[y.source].automatic);
            assert!(xa > ya || (xa == ya && version::compare(x.version, y.version).is_ge()), "versions out of order");
        }
        match (index.candidate(p.name), reversed.candidate(p.name)) {
            (Some(a), Some(b)) => assert_eq!(summary(&index, a), summary(&reversed, b), "candidate depends on source order"),
            (a, b) => assert_eq!(a.is_some(), b.is_some()),
        }
    }
});
