//! `index::Index::build` over arbitrary text, cut into two sources at a
//! fuzzed point: never panics; every package it takes has a valid name,
//! version, file name, hash; relationship fields parse or fail with their
//! place; the result does not depend on the order of the sources; and
//! the sources' compact forms (issue 12), written, read back and read in
//! place, give the same candidates and providers as their texts.
#![no_main]

use debclosure::hash::Sha256;
use debclosure::index::{check_filename, CompactIndex, Index, IndexContent, IndexSource, PackageId, RelationField};
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
        assert!(p.line >= 1);
        for field in FIELDS {
            if let Err(e) = index.relations(id, field) {
                let shown = e.to_string();
                assert!(shown.starts_with('a') || shown.starts_with('b'), "{shown}");
            }
        }
        for d in index.provides(id) {
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
    // The compact forms, through their bytes, read as the texts do.
    let compact = |s: &IndexSource| {
        let text = s.content.text().expect("a text source").to_owned();
        let sha = Sha256::of(text.as_bytes());
        let mut made = CompactIndex::from_text(text, &s.label, "amd64").ok()?;
        let read = CompactIndex::from_bytes(made.to_bytes(&sha).to_vec(), &sha, "amd64").expect("its own bytes read back");
        Some(IndexSource { content: IndexContent::Compact(read), ..s.clone() })
    };
    let Some(compacted) = forward.iter().map(compact).collect::<Option<Vec<_>>>() else { return };
    let from_compact = Index::build(&compacted, "amd64").expect("compact sources build");
    assert_eq!(from_compact.len(), index.len());
    for id in index.ids() {
        let name = index.package(id).name;
        let candidates = (index.candidate(name), from_compact.candidate(name));
        let (Some(a), Some(b)) = candidates else {
            assert_eq!(candidates.0.is_some(), candidates.1.is_some());
            continue;
        };
        assert_eq!(summary(&index, a), summary(&from_compact, b), "the compact candidate differs");
        for d in index.provides(a) {
            let names = |i: &Index<'_>| i.providers(d.name).iter().map(|(p, v)| summary(i, *p) + &format!("{v:?}")).collect::<Vec<_>>();
            assert_eq!(names(&index), names(&from_compact), "the compact providers differ");
        }
    }
});
