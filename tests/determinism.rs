//! The output depends on the packages in the indices, not on how they are laid
//! out: the fixture's stanzas shuffled and dealt into several files, given in
//! random order, must give byte-identical JSON, Nix and text output to the
//! fixture as it is.
//!
//! The property runs on the library (fast, every request of requests.txt);
//! a few cases run the binary too, with some parts compressed.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;

use debclosure::index::{Index, IndexSource};
use debclosure::nix::{render_fetchurl_groups, UrlStyle};
use debclosure::output::{render_json, render_text};
use debclosure::resolve::{resolve_closure, Preferences, RequestedPackage, ResolveOptions};

use common::apt::{fixture_packages, read_requests, split_stanzas, ARCH};
use common::cli::debclosure;
use common::repo;

/// The fixture as read, its stanzas, and the reference output of every
/// request on it.
struct Fixture {
    text: String,
    stanzas: Vec<String>,
    requests: Vec<Vec<RequestedPackage>>,
    expected: Vec<Rendered>,
}

/// One request's output in every format.
#[derive(Debug, PartialEq, Eq)]
struct Rendered {
    json: String,
    nix: String,
    text: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let text = std::fs::read_to_string(fixture_packages()).expect("read the fixture");
        let stanzas = split_stanzas(&text);
        assert!(stanzas.len() > 100, "the fixture has only {} stanzas", stanzas.len());
        let requests: Vec<Vec<RequestedPackage>> = read_requests()
            .iter()
            .map(|r| r.packages.iter().map(|p| RequestedPackage::parse(p).expect("valid request")).collect())
            .collect();
        let sources = [source("Packages", text.clone())];
        let expected = render_all(&sources, &requests);
        Fixture { text, stanzas, requests, expected }
    })
}

fn source(label: &str, text: String) -> IndexSource {
    IndexSource {
        label: label.to_owned(),
        archive: None,
        suite: None,
        automatic: true,
        content: text.into(),
    }
}

/// Resolves and renders every request, as `debclosure resolve` does by default.
fn render_all(sources: &[IndexSource], requests: &[Vec<RequestedPackage>]) -> Vec<Rendered> {
    let index = Index::build(sources, ARCH).expect("the index builds");
    let options = ResolveOptions {
        preferences: Preferences::builtin(),
        ..ResolveOptions::default()
    };
    requests
        .iter()
        .map(|request| {
            let closure = resolve_closure(&index, request, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", names(request)));
            let header = [format!("Closure of {}", names(request))];
            Rendered {
                json: render_json(&closure),
                nix: render_fetchurl_groups(&closure.packages, |_| Ok(vec!["mirror://debian".to_owned()]), UrlStyle::Single, &header)
                    .expect("the closure renders as Nix"),
                text: render_text(&closure),
            }
        })
        .collect()
}

fn names(request: &[RequestedPackage]) -> String {
    request.iter().map(ToString::to_string).collect::<Vec<_>>().join(" ")
}

/// A layout of the fixture: stanza order, which file each stanza goes to, and
/// the order of the files.
#[derive(Debug, Clone)]
struct Layout {
    order: Vec<usize>,
    part_of: Vec<usize>,
    file_order: Vec<usize>,
}

impl Layout {
    /// The texts of the files, in the order they are given.
    fn files(&self, stanzas: &[String]) -> Vec<String> {
        let mut parts = vec![String::new(); self.file_order.len()];
        for (pos, &i) in self.order.iter().enumerate() {
            let part = &mut parts[self.part_of[pos]];
            if !part.is_empty() {
                part.push('\n');
            }
            part.push_str(&stanzas[i]);
        }
        self.file_order.iter().map(|&p| std::mem::take(&mut parts[p])).collect()
    }
}

fn layout(stanzas: usize, max_files: usize) -> impl Strategy<Value = Layout> {
    (1..=max_files).prop_flat_map(move |files| {
        (
            Just((0..stanzas).collect::<Vec<_>>()).prop_shuffle(),
            prop::collection::vec(0..files, stanzas),
            Just((0..files).collect::<Vec<_>>()).prop_shuffle(),
        )
            .prop_map(|(order, part_of, file_order)| Layout { order, part_of, file_order })
    })
}

/// The first line where two outputs differ, for the failure message.
fn first_difference(want: &str, got: &str) -> String {
    for (n, (a, b)) in want.lines().zip(got.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  want: {a}\n  got:  {b}", n + 1);
        }
    }
    format!("lengths differ: {} vs {} lines", want.lines().count(), got.lines().count())
}

#[test]
fn layout_of_the_unshuffled_fixture_is_the_fixture() {
    // The splitter must keep every stanza whole, or the property below
    // would test less than it claims.
    let f = fixture();
    let identity = Layout {
        order: (0..f.stanzas.len()).collect(),
        part_of: vec![0; f.stanzas.len()],
        file_order: vec![0],
    };
    let files = identity.files(&f.stanzas);
    assert!(
        files[0].trim_end() == f.text.trim_end(),
        "the fixture rebuilt from its stanzas differs: {}",
        first_difference(&f.text, &files[0])
    );
    let sources = [source("one", files[0].clone())];
    assert!(render_all(&sources, &f.requests) == f.expected, "the rebuilt fixture resolves differently");
}

proptest! {
    #![proptest_config(Config { cases: 48, failure_persistence: None, max_shrink_iters: 200, ..Config::default() })]

    #[test]
    fn library_output_ignores_stanza_and_file_order(layout in layout(fixture().stanzas.len(), 6)) {
        let f = fixture();
        let sources: Vec<IndexSource> = layout
            .files(&f.stanzas)
            .into_iter()
            .enumerate()
            .map(|(n, text)| source(&format!("part{n}/Packages"), text))
            .collect();
        let got = render_all(&sources, &f.requests);
        for ((want, got), request) in f.expected.iter().zip(&got).zip(&f.requests) {
            for (format, w, g) in [("json", &want.json, &got.json), ("nix", &want.nix, &got.nix), ("text", &want.text, &got.text)] {
                prop_assert!(
                    w == g,
                    "{}: {format} output differs with {} files: {}",
                    names(request),
                    sources.len(),
                    first_difference(w, g)
                );
            }
        }
    }
}

/// How a part is written for the binary.
#[derive(Debug, Clone, Copy)]
enum Compression {
    Plain,
    Gzip,
    Xz,
}

fn write_part(dir: &std::path::Path, n: usize, text: &str, compression: Compression) -> PathBuf {
    let (name, data) = match compression {
        Compression::Plain => (format!("part{n}_Packages"), text.as_bytes().to_vec()),
        Compression::Gzip => (format!("part{n}_Packages.gz"), repo::gz(text.as_bytes())),
        Compression::Xz => (format!("part{n}_Packages.xz"), repo::xz(text.as_bytes())),
    };
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write a part");
    path
}

/// `debclosure resolve` output for the main request over `files`.
fn cli_output(files: &[PathBuf], format: &str, request: &[String]) -> String {
    let mut args: Vec<String> = vec!["resolve".into()];
    for f in files {
        args.extend(["--packages-file".into(), f.display().to_string()]);
    }
    args.extend(["--arch".into(), ARCH.into(), "--format".into(), format.into()]);
    args.extend(request.iter().cloned());
    let out = debclosure(&args);
    out.success();
    String::from_utf8(out.output.stdout).expect("output is UTF-8")
}

fn cli_reference(format: &str) -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    static NIX: OnceLock<String> = OnceLock::new();
    let cell = if format == "json" { &JSON } else { &NIX };
    cell.get_or_init(|| cli_output(&[fixture_packages()], format, &read_requests()[0].packages))
}

proptest! {
    #![proptest_config(Config { cases: 6, failure_persistence: None, max_shrink_iters: 20, ..Config::default() })]

    #[test]
    fn cli_output_ignores_stanza_and_file_order(
        layout in layout(fixture().stanzas.len(), 5),
        compressions in prop::collection::vec(prop_oneof![Just(Compression::Plain), Just(Compression::Gzip), Just(Compression::Xz)], 5),
    ) {
        let f = fixture();
        let main = &read_requests()[0].packages;
        let dir = tempfile::tempdir().expect("temporary directory");
        let files: Vec<PathBuf> = layout
            .files(&f.stanzas)
            .iter()
            .enumerate()
            .map(|(n, text)| write_part(dir.path(), n, text, compressions[n]))
            .collect();
        for format in ["json", "nix"] {
            let want = cli_reference(format);
            let got = cli_output(&files, format, main);
            prop_assert!(
                want == got,
                "{format} output differs with {} files: {}",
                files.len(),
                first_difference(want, &got)
            );
        }
    }
}
