//! What changed between two closures, written for people and for programs:
//! the one renderer behind `check`, `diff`, `update` and `update --dry-run`.
//!
//! Text has one line per change, in words, the way cargo and uv report a
//! lock update (`Adding htop 3.2.2-2`, `Updating libc6 A -> B`), then a
//! summary line. Reason changes (a package now pulled in by another one) are
//! counted in the summary and listed only on request, or when nothing else
//! changed. JSON ([`render_changes_json`]) is a stable shape for CI bots,
//! documented in the README ("Pinned closures").
//!
//! Styling is [`anstyle`] escapes, asked for with [`Colour::Always`]; the
//! caller decides whether its output is a terminal that wants them.

mod absence;

pub use absence::{add_index_facts, explain_absence, rule_words, Absence, AssumedFor, ChoiceKind, IndexFacts, PassedOver};

use std::collections::BTreeSet;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::diff::{ChangeKind, FieldChange, LockDiff, PackageEntry, RequestChange};
use crate::output::render_json;
use crate::resolve::Why;

/// Whether to style the text with terminal escapes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Colour {
    /// Plain text.
    #[default]
    Never,
    /// ANSI escapes.
    Always,
}

/// When to list reason changes (a package now pulled in by another one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reasons {
    /// Only when nothing else changed; otherwise only counted.
    #[default]
    WhenAlone,
    /// Always (`--reasons`).
    Shown,
}

/// How to render the changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Styling.
    pub colour: Colour,
    /// Whether reason changes are listed.
    pub reasons: Reasons,
}

/// At most this many items of a list are written on one line; the rest are
/// counted (`and 12 more`).
pub const LIST_LIMIT: usize = 8;

/// The counts of the summary line, and of `summary` in the JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Packages only in the new closure.
    pub added: usize,
    /// Packages only in the old closure.
    pub removed: usize,
    /// Packages at a higher version.
    pub upgraded: usize,
    /// Packages at a lower version.
    pub downgraded: usize,
    /// Packages at the same version with another file, hash, size or
    /// archive (or the same version written another way).
    pub rebuilt: usize,
    /// Packages in another install group.
    pub moved: usize,
    /// Packages pulled in for another reason.
    pub reasons: usize,
    /// Choices that came out differently.
    pub choices: usize,
    /// Request fields that differ.
    pub request: usize,
    /// Suites whose Release files were signed by other keys.
    pub signing_keys: usize,
}

impl Summary {
    /// The counts of `diff`, each package counted once per kind.
    pub fn of(diff: &LockDiff) -> Summary {
        let packages = |kinds: &[ChangeKind]| {
            diff.changed
                .iter()
                .filter(|c| kinds.contains(&c.change))
                .map(|c| (&c.name, &c.architecture))
                .collect::<BTreeSet<_>>()
                .len()
        };
        use ChangeKind::*;
        Summary {
            added: diff.added.len(),
            removed: diff.removed.len(),
            upgraded: packages(&[Upgraded]),
            downgraded: packages(&[Downgraded]),
            rebuilt: packages(&[Version, Archive, Filename, Sha256, Size]),
            moved: packages(&[Group]),
            reasons: packages(&[Reason]),
            choices: diff.choices.len(),
            request: diff.request.len(),
            signing_keys: diff.signers.len(),
        }
    }

    /// Whether only reasons changed (or nothing did).
    fn only_reasons(&self) -> bool {
        Summary { reasons: 0, ..*self } == Summary::default()
    }
}

/// What `--format json` writes for `check`, `diff` and `update`.
#[derive(Debug, Serialize)]
pub struct ChangesReport<'a> {
    /// The version of this shape; a field is only ever added, and a change
    /// of meaning gets a new version.
    pub format: u32,
    /// Whether anything differs (exit code 1).
    pub differs: bool,
    /// Request differences.
    pub request: &'a [RequestChange],
    /// Packages only in the new closure.
    pub added: &'a [PackageEntry],
    /// Packages only in the old closure.
    pub removed: &'a [PackageEntry],
    /// Fields of packages in both that differ.
    pub changed: &'a [FieldChange],
    /// Choices that came out differently.
    pub choices: &'a [crate::diff::ChoiceChange],
    /// Suites whose Release files were signed by other keys.
    pub signers: &'a [crate::diff::SignerChange],
    /// The counts.
    pub summary: Summary,
}

/// The version of [`ChangesReport`]'s shape.
pub const CHANGES_FORMAT: u32 = 1;

/// The changes as stable JSON (see [`ChangesReport`]).
pub fn render_changes_json(diff: &LockDiff) -> String {
    render_json(&ChangesReport {
        format: CHANGES_FORMAT,
        differs: !diff.is_empty(),
        request: &diff.request,
        added: &diff.added,
        removed: &diff.removed,
        changed: &diff.changed,
        choices: &diff.choices,
        signers: &diff.signers,
        summary: Summary::of(diff),
    })
}

/// Paints text when asked to.
struct Painter(Colour);

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        match self.0 {
            Colour::Never => text.to_owned(),
            Colour::Always => format!("{}{text}{}", style.render(), style.render_reset()),
        }
    }
}

fn fg(colour: AnsiColor) -> Style {
    Style::new().fg_color(Some(colour.into()))
}

/// `items` joined by `, `, the ones past [`LIST_LIMIT`] counted.
pub fn cut_list(items: &[String]) -> String {
    let mut shown = items.iter().take(LIST_LIMIT).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > LIST_LIMIT {
        let _ = write!(shown, ", and {} more", items.len() - LIST_LIMIT);
    }
    shown
}

/// `a`, `a and b`, `a, b and c`, the ones past [`LIST_LIMIT`] counted.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        _ if items.len() > LIST_LIMIT => {
            format!("{}, and {} more", items[..LIST_LIMIT].join(", "), items.len() - LIST_LIMIT)
        }
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A reason, after `needed by` / `now` / `before`.
fn reason_words(why: &Why, with_relation: bool) -> String {
    match why {
        Why::Requested => "requested".into(),
        Why::Base => "in the base set".into(),
        Why::Dependency { package, field, relation } if with_relation => {
            format!("needed by {package} ({field}: {relation})")
        }
        Why::Dependency { package, .. } => format!("needed by {package}"),
    }
}

/// `libc6: now needed by htop (Depends: libc6 (>= 2.34)), before by base-passwd`.
fn reason_line(name: &str, old: &Why, new: &Why) -> String {
    let before = match (old, new) {
        (Why::Dependency { .. }, Why::Dependency { .. }) => {
            reason_words(old, false).trim_start_matches("needed ").to_owned()
        }
        _ => reason_words(old, false),
    };
    format!("{name}: now {}, before {before}", reason_words(new, true))
}

/// Orders package lines: name, architecture, then the kind of change.
type LineKey<'a> = (&'a str, &'a str, u8);

/// One line per change, then a summary line; empty when nothing differs.
pub fn render_changes(diff: &LockDiff, options: &RenderOptions) -> String {
    let p = Painter(options.colour);
    let mut out = String::new();
    for change in &diff.request {
        let line = match change {
            RequestChange::List { field, added, removed } => {
                let items: Vec<String> =
                    added.iter().map(|i| format!("+ {i}")).chain(removed.iter().map(|i| format!("- {i}"))).collect();
                format!("request {field}: {}", cut_list(&items))
            }
            RequestChange::Value { field, from, to } => format!("request {field}: {from} -> {to}"),
            RequestChange::Note { field, note } => format!("request {field}: {note}"),
        };
        let _ = writeln!(out, "{}", p.paint(fg(AnsiColor::Magenta), &line));
    }
    let summary = Summary::of(diff);
    let show_reasons = options.reasons == Reasons::Shown || summary.only_reasons();
    // Every package line in (name, architecture) order, whatever its kind.
    let mut lines: Vec<(LineKey, String)> = Vec::new();
    for e in &diff.added {
        let why = reason_words(&e.reason, false);
        let line = format!("{} {} {} ({why})", p.paint(fg(AnsiColor::Green), "Adding"), e.name, e.version);
        lines.push(((&e.name, &e.architecture, 0), line));
    }
    for e in &diff.removed {
        let line = format!("{} {} {}", p.paint(fg(AnsiColor::Red), "Removing"), e.name, e.version);
        lines.push(((&e.name, &e.architecture, 0), line));
    }
    // Per package: its key, the `field old -> new` parts, its version.
    let mut rebuilt: Vec<(LineKey, Vec<String>, &str)> = Vec::new();
    for c in &diff.changed {
        let key = (c.name.as_str(), c.architecture.as_str(), c.change as u8);
        match c.change {
            ChangeKind::Upgraded => {
                let line = format!("{} {} {} -> {}", p.paint(fg(AnsiColor::Cyan), "Updating"), c.name, c.from, c.to);
                lines.push((key, line));
            }
            ChangeKind::Downgraded => {
                let verb = p.paint(fg(AnsiColor::Yellow), "Downgrading");
                lines.push((key, format!("{verb} {} {} -> {}", c.name, c.from, c.to)));
            }
            ChangeKind::Version | ChangeKind::Archive | ChangeKind::Filename | ChangeKind::Sha256 | ChangeKind::Size => {
                let field = match c.change {
                    ChangeKind::Version => "version",
                    ChangeKind::Archive => "archive",
                    ChangeKind::Filename => "filename",
                    ChangeKind::Sha256 => "sha256",
                    _ => "size",
                };
                let part = format!("{field} {} -> {}", c.from, c.to);
                match rebuilt.last_mut() {
                    Some((k, parts, _)) if (k.0, k.1) == (key.0, key.1) => parts.push(part),
                    _ => rebuilt.push(((key.0, key.1, ChangeKind::Version as u8), vec![part], &c.version)),
                }
            }
            ChangeKind::Group => {
                let verb = p.paint(fg(AnsiColor::Blue), "Moving");
                lines.push((key, format!("{verb} {} {} to install group {} (was {})", c.name, c.version, c.to, c.from)));
            }
            ChangeKind::Reason => {
                if let (true, Some((old, new))) = (show_reasons, &c.reasons) {
                    lines.push((key, p.paint(Style::new().dimmed(), &reason_line(&c.name, old, new))));
                }
            }
        }
    }
    for (key, parts, version) in rebuilt {
        // Same version, other bytes: `~` as hostile-input reports expect it.
        let line = format!("{} {} {version}: {}", p.paint(fg(AnsiColor::Yellow), "~"), key.0, parts.join(", "));
        lines.push((key, line));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, line) in lines {
        let _ = writeln!(out, "{line}");
    }
    for c in &diff.choices {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "nothing (no choice made)".into());
        let by = c.required_by.as_deref().map_or_else(|| "the request".to_owned(), |b| b.to_owned());
        let _ = writeln!(out, "choice {} for {by}: now {}, before {}", c.relation, show(&c.to), show(&c.from));
    }
    for c in &diff.signers {
        let keys = |k: &[String], none: &str| if k.is_empty() { none.to_owned() } else { k.join(", ") };
        let (from, to) = (keys(&c.from, "not recorded"), keys(&c.to, "not checked (--insecure-no-verify)"));
        let line = format!("signing keys of {} {}: {from} -> {to}", c.archive, c.suite);
        let _ = writeln!(out, "{}", p.paint(fg(AnsiColor::Magenta), &line));
    }
    if diff.is_empty() {
        return out;
    }
    let _ = writeln!(out, "{}", p.paint(Style::new().bold(), &summary_line(&summary, show_reasons)));
    out
}

/// `4 added, 0 removed, 1 upgraded; 2 now pulled in by another package`;
/// when only the request differs, that no package did.
fn summary_line(s: &Summary, reasons_shown: bool) -> String {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if (Summary { request: 0, signing_keys: 0, ..*s }) == Summary::default() {
        let mut parts = Vec::new();
        if s.request > 0 {
            parts.push(count(s.request, "request field differs", "request fields differ"));
        }
        if s.signing_keys > 0 {
            parts.push(count(s.signing_keys, "suite's signing keys changed", "suites' signing keys changed"));
        }
        return format!("{}; the pinned packages are unchanged", parts.join(", "));
    }
    let mut parts = vec![format!("{} added", s.added), format!("{} removed", s.removed), format!("{} upgraded", s.upgraded)];
    let optional = [
        (s.downgraded, count(s.downgraded, "downgraded", "downgraded")),
        (s.rebuilt, count(s.rebuilt, "rebuilt (same version, other file)", "rebuilt (same version, other file)")),
        (s.moved, count(s.moved, "moved to another install group", "moved to another install group")),
        (s.choices, count(s.choices, "choice changed", "choices changed")),
        (s.request, count(s.request, "request field changed", "request fields changed")),
        (s.signing_keys, count(s.signing_keys, "suite's signing keys changed", "suites' signing keys changed")),
    ];
    parts.extend(optional.into_iter().filter(|(n, _)| *n > 0).map(|(_, text)| text));
    let mut line = parts.join(", ");
    if s.reasons > 0 {
        let _ = write!(line, "; {} now pulled in by another package", s.reasons);
        if !reasons_shown {
            line.push_str(" (--reasons lists them)");
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff_closures;
    use crate::resolve::ClosurePackage;

    fn pkg(name: &str, version: &str, why: Why) -> ClosurePackage {
        ClosurePackage {
            name: name.into(),
            version: version.into(),
            architecture: "amd64".into(),
            archive: None,
            filename: format!("pool/{name}_{version}.deb"),
            sha256: crate::hash::Sha256::of(format!("{name}{version}").as_bytes()),
            size: 1,
            group: 0,
            why,
        }
    }

    fn dep(of: &str, relation: &str) -> Why {
        Why::Dependency { package: of.into(), field: "Depends".into(), relation: relation.into() }
    }

    fn diff(old: &[ClosurePackage], new: &[ClosurePackage]) -> LockDiff {
        let mut d = LockDiff::default();
        diff_closures(&mut d, old, new, &[], &[]);
        d
    }

    #[test]
    fn one_line_per_change_and_a_summary() {
        let old = [pkg("base-passwd", "1", Why::Requested), pkg("libc6", "2.36-9+deb12u13", dep("base-passwd", "libc6"))];
        let new = [
            pkg("base-passwd", "1", Why::Requested),
            pkg("htop", "3.2.2-2", Why::Requested),
            pkg("libc6", "2.36-9+deb12u14", dep("htop", "libc6 (>= 2.34)")),
        ];
        let d = diff(&old, &new);
        let text = render_changes(&d, &RenderOptions::default());
        insta::assert_snapshot!(text, @r"
        Adding htop 3.2.2-2 (requested)
        Updating libc6 2.36-9+deb12u13 -> 2.36-9+deb12u14
        1 added, 0 removed, 1 upgraded; 1 now pulled in by another package (--reasons lists them)
        ");
        let text = render_changes(&d, &RenderOptions { reasons: Reasons::Shown, ..Default::default() });
        assert!(text.contains("libc6: now needed by htop (Depends: libc6 (>= 2.34)), before by base-passwd\n"), "{text}");
    }

    #[test]
    fn rebuilt_moved_and_chosen_otherwise() {
        let old = [pkg("a", "1", Why::Requested), pkg("b", "1", dep("a", "awk"))];
        let mut new = old.clone();
        new[0].sha256 = crate::hash::Sha256::of(b"rebuilt");
        new[0].size = 2;
        new[1].group = 1;
        let choice = |chosen: &str| crate::resolve::Choice {
            required_by: Some("a".into()),
            relation: "awk".into(),
            candidates: vec!["b".into(), "c".into()],
            chosen: chosen.into(),
            rule: crate::resolve::Rule::Preference,
        };
        let mut d = LockDiff::default();
        diff_closures(&mut d, &old, &new, &[choice("c")], &[choice("b")]);
        let text = render_changes(&d, &RenderOptions::default());
        let sha = new[0].sha256;
        let want = format!(
            "~ a 1: sha256 {} -> {sha}, size 1 -> 2\nMoving b 1 to install group 1 (was 0)\nchoice awk for a: now b, before c\n\
             0 added, 0 removed, 0 upgraded, 1 rebuilt (same version, other file), 1 moved to another install group, 1 choice changed\n",
            old[0].sha256
        );
        assert_eq!(text, want);
    }

    #[test]
    fn signing_keys_that_changed() {
        let record = |suite: &str, keys: &[&str]| crate::archive::ReleaseRecord {
            archive: "debian".into(),
            suite: suite.into(),
            path: format!("dists/{suite}/InRelease"),
            sha256: crate::hash::Sha256::of(suite.as_bytes()),
            date: String::new(),
            signed_by: keys.iter().map(|k| k.repeat(40)).collect(),
        };
        let old = [record("bookworm", &["A", "B"]), record("bookworm-updates", &["A"]), record("gone", &["A"])];
        let new = [record("bookworm-updates", &["A"]), record("bookworm", &["B", "C"]), record("new", &[])];
        let d = LockDiff { signers: crate::diff::diff_signers(&old, &new), ..LockDiff::default() };
        let (a, b, c) = ("A".repeat(40), "B".repeat(40), "C".repeat(40));
        let text = render_changes(&d, &RenderOptions::default());
        let want = format!("signing keys of debian bookworm: {a}, {b} -> {b}, {c}\n1 suite's signing keys changed; the pinned packages are unchanged\n");
        assert_eq!(text, want);
        let unchecked = crate::diff::diff_signers(&new[1..2], &[record("bookworm", &[])]);
        let text = render_changes(&LockDiff { signers: unchecked, ..LockDiff::default() }, &RenderOptions::default());
        assert!(text.starts_with(&format!("signing keys of debian bookworm: {b}, {c} -> not checked (--insecure-no-verify)\n")), "{text}");
        let json: serde_json::Value = serde_json::from_str(&render_changes_json(&d)).unwrap();
        assert_eq!(json["signers"][0]["to"], serde_json::json!([b, c]));
        assert_eq!((json["differs"].as_bool(), json["summary"]["signing_keys"].as_u64()), (Some(true), Some(1)));
    }

    #[test]
    fn reasons_alone_are_listed() {
        let old = [pkg("a", "1", Why::Requested), pkg("b", "1", Why::Requested), pkg("c", "1", dep("a", "c"))];
        let new = [pkg("a", "1", Why::Requested), pkg("b", "1", Why::Requested), pkg("c", "1", dep("b", "c"))];
        let text = render_changes(&diff(&old, &new), &RenderOptions::default());
        insta::assert_snapshot!(text, @r"
        c: now needed by b (Depends: c), before by a
        0 added, 0 removed, 0 upgraded; 1 now pulled in by another package
        ");
        assert_eq!(render_changes(&LockDiff::default(), &RenderOptions::default()), "");
    }

    #[test]
    fn colour_only_when_asked() {
        let d = diff(&[], &[pkg("a", "1", Why::Requested)]);
        let plain = render_changes(&d, &RenderOptions::default());
        assert!(!plain.contains('\u{1b}'));
        let styled = render_changes(&d, &RenderOptions { colour: Colour::Always, ..Default::default() });
        assert!(styled.contains("\u{1b}["), "{styled:?}");
    }

    #[test]
    fn long_lists_are_cut_with_a_count() {
        let items: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
        assert_eq!(cut_list(&items), "p0, p1, p2, p3, p4, p5, p6, p7, and 4 more");
        assert_eq!(and_list(&items[..3]), "p0, p1 and p2");
        assert_eq!(and_list(&items[..1]), "p0");
    }
}
