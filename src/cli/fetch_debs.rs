//! `debclosure fetch-debs`: the `.deb` files of a closure, verified, in a
//! directory, for users who want the files without Nix.

use anyhow::{Context, Result};
use serde::Deserialize;

use debclosure::debs::{self, DebSources};
use debclosure::index::check_filename;
use debclosure::resolve::ClosurePackage;

use super::args::FetchDebsArgs;
use super::load::{cache_mode, locator, refuse, release_flags, Downloads};
use super::ExitStatus;

/// The part of a lock or a `resolve --format json` output that is needed.
#[derive(Deserialize)]
struct Packages {
    packages: Vec<ClosurePackage>,
}

pub fn run(args: FetchDebsArgs) -> Result<ExitStatus> {
    let o = &args.online;
    refuse(&release_flags(o), "fetch-debs", "it reads no Release file; each .deb is checked against its SHA256", "drop them")?;
    let text = std::fs::read_to_string(&args.from).with_context(|| format!("cannot read {}", args.from.display()))?;
    let closure: Packages = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a lock file or `resolve --format json` output", args.from.display()))?;
    for p in &closure.packages {
        check_filename(&p.filename).map_err(|e| anyhow::anyhow!("{}: package {}: {e}", args.from.display(), p.name))?;
    }
    let sources = DebSources::of_archives(locator(o, None)?.flag_archives(&o.suites, &o.components, o.snapshot.as_deref())?);
    let downloads = Downloads::new(o)?;
    let cache = downloads.cache()?;
    let fetched = debs::fetch(&closure.packages, &sources, &downloads.fetcher, &cache, cache_mode(o), &downloads.progress);
    let cached = downloads.block_on(fetched)?;
    std::fs::create_dir_all(&args.output_dir).with_context(|| format!("cannot create {}", args.output_dir.display()))?;
    for (p, cached) in closure.packages.iter().zip(cached) {
        let name = p.filename.rsplit('/').next().expect("split yields at least one part");
        debclosure::atomic::place_file(&cached, &args.output_dir.join(name))?;
    }
    let total: u64 = closure.packages.iter().map(|p| p.size).sum();
    eprintln!("{} files ({total} bytes) in {}", closure.packages.len(), args.output_dir.display());
    Ok(ExitStatus::Success)
}


