//! `debclosure why`: the chain from a requested package to a package of a
//! lock, and the alternatives passed over on the way.

use anyhow::{bail, Result};

use debclosure::output::render_json;
use debclosure::resolve::explain;

use super::args::{ReportFormat, WhyArgs};
use super::load::read_lock;
use super::ExitStatus;

pub fn run(args: WhyArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let Some(explanation) = explain(&lock.packages, &lock.choices, &args.package) else {
        bail!("{} is not in the closure of {}", args.package, args.lock.display());
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
