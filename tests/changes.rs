//! Issue 16, changes people can read: what `check`, `diff`, `update` and
//! `update --dry-run` print, as text and as `--format json`, and what `why`
//! says of a package that is not in the closure. Small archives generated
//! here; every output is snapshotted.
//! <https://github.com/debclosure/debclosure/issues/16>

mod common;

use std::path::PathBuf;

use common::cli::{Cli, Reports, Run};
use common::repo::{self, Archive, Deb, Suite};

fn debs() -> Vec<Deb> {
    vec![
        Deb::new("app", "1.0-1", "Depends: libfoo (>= 1), oldlib, awk\nPre-Depends: base"),
        Deb::new("base", "3", ""),
        Deb::new("libfoo", "1.2-1", ""),
        Deb::new("oldlib", "1", ""),
        Deb::new("mawk", "1.3.4~rc1-1", "Provides: awk"),
        Deb::new("gawk", "5.2-1", "Provides: awk"),
        Deb::new("original-awk", "2012-12-20-6", "Provides: awk"),
        Deb::new("tool", "2", "Depends: libfoo"),
    ]
}

/// The archive moved on: app 1.1-1 needs libbar instead of oldlib, libbar
/// needs libfoo (now at 1.3-1), and base went back to 2.
fn later_debs() -> Vec<Deb> {
    let mut debs = debs();
    for d in &mut debs {
        match d.name.as_str() {
            "app" => *d = Deb::new("app", "1.1-1", "Depends: libbar, awk\nPre-Depends: base"),
            "libfoo" => d.version = "1.3-1".into(),
            "base" => d.version = "2".into(),
            _ => {}
        }
    }
    debs.push(Deb::new("libbar", "0.9-1", "Depends: libfoo (>= 1)"));
    debs
}

struct Project {
    archive: Archive,
}

impl Project {
    /// A locked project requesting `app`.
    fn locked() -> Project {
        let p = Project { archive: Archive::new(&[Suite::new("stable", debs())]) };
        p.archive.write_spec(&["app"], "", "");
        p.run(&["lock", "-q"]).assert_exit(0);
        p
    }

    fn cli(&self) -> Cli {
        self.archive.cli().current_dir(self.archive.proj()).env("DEBCLOSURE_RETRIES", "0")
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cli().run(args)
    }

    fn lock_path(&self) -> PathBuf {
        self.archive.proj().join("debclosure.lock")
    }

    /// Publishes [`later_debs`].
    fn move_archive_on(&self) {
        let mut suite = Suite::new("stable", later_debs());
        suite.date = repo::now() - 60;
        self.archive.write(&suite, &[&self.archive.key]);
    }
}

#[test]
fn check_shows_request_changes_as_items() {
    let p = Project::locked();
    let mut reports = Reports::default();
    p.archive.write_spec(&["app", "tool"], "", "");
    for args in [&["check", "-q"][..], &["check", "-q", "--format", "json"][..]] {
        let out = p.run(args);
        out.assert_exit(1);
        reports.add(&args.join(" "), &out);
    }
    p.archive.write_spec(&["app"], "", "");
    let out = p.run(&["check", "-q", "--format", "json"]);
    out.assert_exit(0);
    reports.add("check -q --format json (current)", &out);
    insta::assert_snapshot!(reports.text());
}

#[test]
fn update_dry_run_and_diff_read_as_one_line_per_change() {
    let p = Project::locked();
    let before = std::fs::read_to_string(p.lock_path()).unwrap();
    p.move_archive_on();
    let mut reports = Reports::default();
    for args in [
        &["update", "-q", "--dry-run"][..],
        &["update", "-q", "--dry-run", "--reasons"][..],
        &["update", "-q", "--dry-run", "--format=json"][..],
    ] {
        let out = p.run(args);
        out.assert_exit(1);
        reports.add(&args.join(" "), &out);
    }
    assert_eq!(std::fs::read_to_string(p.lock_path()).unwrap(), before, "--dry-run wrote the lock");
    let out = p.run(&["update", "-q"]);
    out.assert_exit(0);
    reports.add("update -q", &out);
    std::fs::write(p.archive.proj().join("old.lock"), &before).unwrap();
    for args in [
        &["diff", "old.lock", "debclosure.lock"][..],
        &["diff", "--format", "json", "old.lock", "debclosure.lock"][..],
        &["diff", "--format", "json", "old.lock", "old.lock"][..],
        &["diff", "old.lock", "old.lock"][..],
    ] {
        let out = p.run(args);
        reports.add(&args.join(" "), &out);
    }
    insta::assert_snapshot!(reports.text());
}

#[test]
fn colour_only_on_request_of_the_environment_and_never_with_no_color() {
    let p = Project::locked();
    let before = std::fs::read_to_string(p.lock_path()).unwrap();
    p.move_archive_on();
    p.run(&["update", "-q"]).assert_exit(0);
    std::fs::write(p.archive.proj().join("old.lock"), &before).unwrap();
    let diff = ["diff", "old.lock", "debclosure.lock"];
    // Not a terminal: plain.
    assert!(!p.run(&diff).stdout().contains('\u{1b}'));
    let forced = p.cli().env("CLICOLOR_FORCE", "1").run(&diff);
    assert!(forced.stdout().contains("\u{1b}["), "{:?}", forced.stdout());
    let no_color = p.cli().env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1").run(&diff);
    assert!(!no_color.stdout().contains('\u{1b}'), "{:?}", no_color.stdout());
    assert_eq!(no_color.stdout(), p.run(&diff).stdout());
}

#[test]
fn why_says_what_became_of_a_package_not_in_the_closure() {
    let p = Project::locked();
    let mut reports = Reports::default();
    // `why` reads the pinned indices from the cache the lock filled.
    let cache = p.archive.cache().display().to_string();
    for args in [
        &["why", "original-awk"][..],
        &["why", "original-awk", "--format=json"][..],
        &["why", "gawk"][..],
        &["why", "tool"][..],
        &["why", "nosuch"][..],
    ] {
        let out = p.run(&[args, &["--cache-dir", &cache][..]].concat());
        reports.add(&args.join(" "), &out);
    }
    // Without the indices, only what the lock itself records.
    for args in [&["why", "original-awk"][..], &["why", "gawk"][..]] {
        let out = p.run(&[args, &["--cache-dir", "empty-cache"][..]].concat());
        reports.add(&format!("{} (no cached indices)", args.join(" ")), &out);
    }
    insta::assert_snapshot!(reports.text());
}

#[test]
fn why_names_an_exclusion_and_what_it_stood_for() {
    let p = Project { archive: Archive::new(&[Suite::new("stable", debs())]) };
    p.archive.write_spec(&["app"], "exclude = [\"oldlib\"]", "");
    p.run(&["lock", "-q"]).assert_exit(0);
    let mut reports = Reports::default();
    for args in [&["why", "oldlib"][..], &["why", "oldlib", "--format", "json"][..]] {
        let out = p.run(args);
        out.assert_exit(0);
        reports.add(&args.join(" "), &out);
    }
    insta::assert_snapshot!(reports.text());
}
