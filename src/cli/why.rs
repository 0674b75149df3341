//! `debclosure why`: the chain from a requested package to a package of a
//! lock, and the alternatives passed over on the way; for a package not in
//! the lock, what became of it.

use anyhow::Result;

use debclosure::changes::{add_index_facts, explain_absence, Absence};
use debclosure::fetch::Cache;
use debclosure::index::Index;
use debclosure::lock::{cached_sources, LockFile};
use debclosure::output::render_json;
use debclosure::report::NoReporter;
use debclosure::resolve::explain;

use super::args::{ReportFormat, WhyArgs};
use super::load::{max_index_size, read_lock};
use super::{ExitStatus, Usage};

pub fn run(args: WhyArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let Some(explanation) = explain(&lock.packages, &lock.choices, &args.package) else {
        return absent(&args, &lock);
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

/// What became of a package that is not in the closure: from the lock, and
/// from the pinned indices when the cache holds them (never downloaded).
fn absent(args: &WhyArgs, lock: &LockFile) -> Result<ExitStatus> {
    let exclude: Vec<&str> = lock.request.exclude.iter().map(|n| n.as_str()).collect();
    let mut absence = explain_absence(&lock.choices, &lock.assumed, &exclude, &args.package);
    let cache = match &args.cache_dir {
        Some(dir) => Some(Cache::open(dir)?),
        None => Cache::default_dir().ok().and_then(|dir| Cache::open(dir).ok()),
    };
    if let Some(sources) = cache.and_then(|c| cached_sources(lock, &c, max_index_size().ok()?, &NoReporter)) {
        // A pinned index that does not build is no answer, but no error
        // either: `check` reports it.
        if let Ok(index) = Index::build(&sources, &lock.request.architecture) {
            add_index_facts(&mut absence, &index, &lock.request.preferences, &lock.packages);
        }
    }
    if !absence.is_known() {
        return Err(unknown(args, &absence).into());
    }
    match args.format {
        ReportFormat::Json => print!("{}", render_json(&absence)),
        ReportFormat::Text => println!("{absence}"),
    }
    Ok(ExitStatus::Success)
}

fn unknown(args: &WhyArgs, absence: &Absence) -> Usage {
    let (name, lock) = (&args.package, args.lock.display());
    match absence.indices {
        Some(_) => Usage {
            message: format!("{name} is not in the closure of {lock}, nor in the indices it pins"),
            hint: "check the name (`apt-cache search` on a machine of the same release)".into(),
        },
        None => Usage {
            message: format!("{name} is not in the closure of {lock}, and nothing in the lock names it"),
            hint: "run `debclosure check` once to cache the pinned indices: then `why` can say whether any package has this name".into(),
        },
    }
}
