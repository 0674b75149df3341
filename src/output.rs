//! Rendering a closure for people (text) and programs (JSON).

use std::fmt::Write as _;

use crate::resolve::{Closure, Rule};

/// Stable JSON: fixed field order, two-space indent, trailing newline.
pub fn render_json<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("closure types serialize without error");
    s.push('\n');
    s
}

fn rule_text(rule: Rule) -> &'static str {
    match rule {
        Rule::Requested => "it is requested",
        Rule::AlreadyChosen => "it is already in the closure",
        Rule::Preference => "the preference table names it",
        Rule::FirstAlternative => "first alternative with a candidate",
        Rule::RealPackage => "a real package comes before providers",
        Rule::Priority => "highest Priority among providers",
        Rule::Name => "first provider by name",
        Rule::EarlierCandidatesFailed => "earlier candidates failed",
    }
}

/// One line per package (`group name version architecture filename`), then
/// one line per choice and per assumed package.
pub fn render_text(closure: &Closure) -> String {
    let mut out = String::new();
    for p in &closure.packages {
        let _ = writeln!(out, "{} {} {} {} {}", p.group, p.name, p.version, p.architecture, p.filename);
    }
    for c in &closure.choices {
        let by = c.required_by.as_deref().unwrap_or("the request");
        let _ = writeln!(
            out,
            "choice: {} (for {by}): {} of [{}]: {}",
            c.relation,
            c.chosen,
            c.candidates.join(", "),
            rule_text(c.rule)
        );
    }
    for a in &closure.assumed {
        let _ = writeln!(out, "assumed: {} (excluded) for {}: {}", a.name, a.required_by, a.relation);
    }
    out
}
