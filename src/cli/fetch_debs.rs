//! `debclosure fetch-debs`: the `.deb` files of a closure, verified, in a
//! directory, for users who want the files without Nix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use debclosure::fetch::{Bucket, FetchOptions, Fetcher};
use debclosure::index::check_filename;
use debclosure::resolve::ClosurePackage;

use super::args::{FetchDebsArgs, OnlineArgs};
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
    let cached = fetch_to_cache(&closure.packages, &uris, Some(&default_uri), &args.online)?;
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("cannot create {}", args.output_dir.display()))?;
    let mut total = 0;
    for (p, cached) in closure.packages.iter().zip(cached) {
        let name = p.filename.rsplit('/').next().expect("split yields at least one part");
        place(&cached, &args.output_dir.join(name))?;
        total += p.size;
    }
    eprintln!("{} files ({total} bytes) in {}", closure.packages.len(), args.output_dir.display());
    Ok(ExitStatus::Success)
}

/// Downloads the `.deb` of each package into the cache, or finds it there,
/// verified against its size and SHA256, and returns the cache entries in the
/// order of `packages`. `uris` maps archive names to base URLs; a package
/// that names no archive (resolved from local index files) comes from
/// `default`.
pub(super) fn fetch_to_cache(
    packages: &[ClosurePackage],
    uris: &BTreeMap<String, String>,
    default: Option<&str>,
    online: &OnlineArgs,
) -> Result<Vec<PathBuf>> {
    let mut jobs = Vec::new();
    for p in packages {
        let base = match &p.archive {
            Some(name) => uris.get(name).map(String::as_str).with_context(|| {
                format!("package {} is from archive {name}, which is not configured: add it with --source", p.name)
            })?,
            None => default.with_context(|| format!("package {} names no archive and no default archive is configured", p.name))?,
        };
        jobs.push((p, format!("{base}/{}", p.filename)));
    }
    let cache = cache(online)?;
    let fetcher = Fetcher::new(FetchOptions::from_env()?)?;
    let progress = Progress::new(online.quiet);
    let results = runtime()?.block_on(fetcher.map_concurrent(jobs.iter(), |(p, url)| {
        let (cache, fetcher, progress) = (&cache, &fetcher, &progress);
        async move {
            if let Some(path) = cache.get_path(Bucket::Debs, &p.sha256, progress) {
                return Ok(path);
            }
            if online.offline {
                bail!("offline, and {} is not in the cache", debclosure::fetch::redact_url(url));
            }
            let bytes = fetcher.get_verified(url, Some(p.size), &p.sha256, progress).await?;
            Ok(cache.put(Bucket::Debs, &p.sha256, &bytes)?)
        }
    }));
    progress.finish();
    results.into_iter().collect()
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
