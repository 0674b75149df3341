//! Rendering a closure for people (text) and programs (JSON).

use std::fmt::Write as _;

use serde::Serialize;

use crate::archive::{IndexRecord, ReleaseRecord};
use crate::resolve::{Assumed, Choice, Closure, ClosurePackage, Rule};

/// What `resolve --format json` writes: the closure with the records of the
/// indices it was computed from (the same shape a lock holds).
#[derive(Debug, Serialize)]
pub struct ResolveReport<'a> {
    /// Target architecture.
    pub architecture: &'a str,
    /// Release files used (empty for local files).
    pub releases: &'a [ReleaseRecord],
    /// Indices used (empty for local files).
    pub indices: &'a [IndexRecord],
    /// The closure, sorted by group then name.
    pub packages: &'a [ClosurePackage],
    /// Choices between several candidates.
    pub choices: &'a [Choice],
    /// Dependencies assumed met (excluded packages).
    pub assumed: &'a [Assumed],
}

/// Stable, diff-friendly JSON: fields in declaration order, objects indented
/// by two spaces, except that an object inside an array is written on one
/// line, so a lock or closure has one line per package, choice or record.
/// Ends with a newline.
pub fn render_json<T: serde::Serialize>(value: &T) -> String {
    let value = serde_json::to_value(value).expect("closure and lock types serialize to JSON");
    let mut out = String::new();
    write_value(&value, 0, &mut out);
    out.push('\n');
    out
}

fn write_value(value: &serde_json::Value, depth: usize, out: &mut String) {
    use serde_json::Value;
    let pad = "  ".repeat(depth + 1);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in map.iter().enumerate() {
                let _ = write!(out, "{pad}{}: ", Value::String(k.clone()));
                write_value(v, depth + 1, out);
                out.push_str(if i + 1 < map.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}}}", "  ".repeat(depth));
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, v) in items.iter().enumerate() {
                let _ = write!(out, "{pad}{}", compact(v));
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            let _ = write!(out, "{}]", "  ".repeat(depth));
        }
        other => out.push_str(&compact(other)),
    }
}

/// One-line JSON with a space after `:` and `,`, for readability.
fn compact(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let parts: Vec<String> =
                map.iter().map(|(k, v)| format!("{}: {}", Value::String(k.clone()), compact(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_one_line_per_array_element_and_parses_back() {
        let value = serde_json::json!({
            "version": 1,
            "packages": [{"name": "a", "why": {"kind": "requested"}}, {"name": "b\"", "n": [1, 2]}],
            "empty": [],
            "nested": {"x": {}, "y": null}
        });
        let text = render_json(&value);
        let want = "{\n  \"version\": 1,\n  \"packages\": [\n    {\"name\": \"a\", \"why\": {\"kind\": \"requested\"}},\n    {\"name\": \"b\\\"\", \"n\": [1, 2]}\n  ],\n  \"empty\": [],\n  \"nested\": {\n    \"x\": {},\n    \"y\": null\n  }\n}\n";
        assert_eq!(text, want);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
