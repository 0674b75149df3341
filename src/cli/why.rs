//! `debclosure why`: the chain from a requested package to a package of a
//! lock, and the alternatives passed over on the way; for a package not in
//! the lock, what became of it.

use anyhow::Result;

use debclosure::changes::explain_absence;
use debclosure::output::render_json;
use debclosure::resolve::explain;

use super::args::{ReportFormat, WhyArgs};
use super::load::read_lock;
use super::{ExitStatus, Usage};

pub fn run(args: WhyArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let Some(explanation) = explain(&lock.packages, &lock.choices, &args.package) else {
        let exclude: Vec<&str> = lock.request.exclude.iter().map(|n| n.as_str()).collect();
        let absence = explain_absence(&lock.choices, &lock.assumed, &exclude, &args.package);
        if !absence.is_known() {
            return Err(Usage {
                message: format!("{} is not in the closure of {}, and nothing in the lock names it", args.package, args.lock.display()),
                hint: "check the name; no package of the closure depends on it, and no choice passed it over".into(),
            }
            .into());
        }
        match args.format {
            ReportFormat::Json => print!("{}", render_json(&absence)),
            ReportFormat::Text => println!("{absence}"),
        }
        return Ok(ExitStatus::Success);
    };
    if args.format == ReportFormat::Json {
        print!("{}", render_json(&explanation));
        return Ok(ExitStatus::Success);
    }
    for link in &explanation.chain {
        match (&link.required_by, &link.field, &link.relation) {
            (Some(by), Some(field), Some(relation)) => {
                print!("{} {} <- {by} {field}: {relation}", link.package, link.version);
                if !link.passed_over.is_empty() {
                    print!(" (passed over: {})", link.passed_over.join(", "));
                }
                println!();
            }
            _ => println!("{} {} {}", link.package, link.version, explanation.root),
        }
    }
    Ok(ExitStatus::Success)
}
