//! `debclosure fetch-debs`: the `.deb` files of a closure, verified, in a
//! directory, for users who want the files without Nix.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use debclosure::fetch::{Bucket, FetchOptions, Fetcher};
use debclosure::index::check_filename;
use debclosure::resolve::ClosurePackage;

use super::args::FetchDebsArgs;
use super::load::{archives, cache, runtime};
use super::progress::Progress;
use super::ExitStatus;

/// The part of a lock or a `resolve --format json` output that is needed.
#[derive(Deserialize)]
struct Packages {
    packages: Vec<ClosurePackage>,
}

pub fn run(args: FetchDebsArgs) -> Result<ExitStatus> {
    let text = std::fs::read_to_string(&args.from).with_context(|| format!("cannot read {}", args.from.display()))?;
    let closure: Packages = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a lock file or `resolve --format json` output", args.from.display()))?;
    for p in &closure.packages {
        check_filename(&p.filename).map_err(|e| anyhow::anyhow!("{}: package {}: {e}", args.from.display(), p.name))?;
    }
    let uris: BTreeMap<String, String> = archives(&args.online)?.into_iter().map(|a| (a.archive(), a.uri)).collect();
    let default_uri = uris.values().next().cloned().context("no archive configured")?;
    let mut jobs = Vec::new();
    for p in &closure.packages {
        let base = match &p.archive {
            Some(name) => uris.get(name).with_context(|| {
                format!("package {} is from archive {name}, which is not configured: add it with --source", p.name)
            })?,
            None => &default_uri,
        };
        jobs.push((p, format!("{base}/{}", p.filename)));
    }
    let cache = cache(&args.online)?;
    let fetcher = Fetcher::new(FetchOptions::from_env()?)?;
    let progress = Progress::new(args.online.quiet);
    let results = runtime()?.block_on(fetcher.map_concurrent(jobs.iter(), |(p, url)| {
        let (cache, fetcher, progress) = (&cache, &fetcher, &progress);
        async move {
            if let Some(path) = cache.get_path(Bucket::Debs, &p.sha256, progress) {
                return Ok(path);
            }
            if args.online.offline {
                bail!("offline, and {} is not in the cache", debclosure::fetch::redact_url(url));
            }
            let bytes = fetcher.get_verified(url, Some(p.size), &p.sha256, progress).await?;
            Ok(cache.put(Bucket::Debs, &p.sha256, &bytes)?)
        }
    }));
    progress.finish();
    // Every file verified before any is placed: on an error the directory
    // stays as it was.
    let cached: Vec<_> = results.into_iter().collect::<Result<_>>()?;
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("cannot create {}", args.output_dir.display()))?;
    let mut total = 0;
    for ((p, _), cached) in jobs.iter().zip(cached) {
        let name = p.filename.rsplit('/').next().expect("split yields at least one part");
        place(&cached, &args.output_dir.join(name))?;
        total += p.size;
    }
    eprintln!("{} files ({total} bytes) in {}", jobs.len(), args.output_dir.display());
    Ok(ExitStatus::Success)
}

/// Puts a verified cache entry at `dest`: a hard link where the file system
/// allows, else a copy, through a temporary name so `dest` is never partial.
fn place(cached: &Path, dest: &Path) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?.into_temp_path();
    std::fs::remove_file(&tmp)?;
    if std::fs::hard_link(cached, &tmp).is_err() {
        std::fs::copy(cached, &tmp).with_context(|| format!("cannot copy to {}", dest.display()))?;
    }
    tmp.persist(dest).with_context(|| format!("cannot write {}", dest.display()))?;
    Ok(())
}
