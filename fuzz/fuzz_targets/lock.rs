//! `lock::LockFile::parse` over arbitrary UTF-8: never panics; a lock that
//! parses renders to text that parses back equal and renders to the same
//! bytes, its request yields resolver input, and its Nix renders.
#![no_main]

use debclosure::lock::LockFile;
use debclosure::nix::{render_fetchurl_groups, UrlStyle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let Ok(lock) = LockFile::parse(text) else { return };
    let rendered = lock.render();
    let again = LockFile::parse(&rendered).unwrap_or_else(|e| panic!("a rendered lock does not parse: {e}\n{rendered}"));
    assert_eq!(again, lock, "the lock changed on a round trip");
    assert_eq!(again.render(), rendered, "rendering is not stable");
    let _ = lock.request.digest();
    let _ = lock.request.options();
    let _ = lock.request.requested();
    let prefixes = |p: &debclosure::resolve::ClosurePackage| {
        let archive = p.archive.as_deref().unwrap_or(lock.request.distribution.main_archive());
        Ok(lock.request.url_prefixes.get(archive).cloned().unwrap_or_else(|| vec!["mirror://debian".into()]))
    };
    render_fetchurl_groups(&lock.packages, prefixes, UrlStyle::Mirrors, &["fuzz".into()])
        .unwrap_or_else(|e| panic!("a valid lock does not render as Nix: {e}"));
});
