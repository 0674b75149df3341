//! `debclosure check`: exit 0 if a lock is current, 1 with the differences
//! if not.

use anyhow::Result;

use debclosure::lock::{self, read_bounded, PinnedIndices};

use super::args::CheckArgs;
use super::load::{locator, max_index_size, read_lock, read_spec, refuse, release_flags, spec_beside, suite_flags, Downloads};
use super::ExitStatus;

pub fn run(args: CheckArgs) -> Result<ExitStatus> {
    let o = &args.online;
    let given: Vec<_> = suite_flags(o).into_iter().chain(release_flags(o)).collect();
    let reason = "it re-resolves the lock's own request from the indices the lock pins, trusted by their hashes";
    refuse(&given, "check", reason, "edit the spec (debclosure.toml) and run `debclosure lock` or `debclosure update`")?;
    let lock = read_lock(&args.lock)?;
    let spec_path = args.spec.clone().or_else(|| spec_beside(&args.lock));
    let spec = spec_path.as_deref().map(read_spec).transpose()?;
    let locator = locator(o, spec.as_ref())?;
    let wanted = match &spec {
        Some(spec) => Some(spec.request_for_lock(&lock.request, locator.snapshot_base(None).as_deref())?),
        None => None,
    };
    let max_index_size = max_index_size()?;
    let files = args.packages_files.iter().map(|p| read_bounded(p, max_index_size)).collect::<Result<_, _>>()?;
    let downloads = Downloads::new(o)?;
    let pinned = PinnedIndices {
        index_dir: args.index_dir.clone(),
        files,
        cache: downloads.optional_cache()?,
        locator: (!o.offline).then_some(locator),
        max_index_size,
    };
    let diff = downloads.block_on(lock::check(&lock, wanted.as_ref(), &pinned, &downloads.fetcher, &downloads.progress))?;
    super::diff::print_changes(&diff, &args.changes)?;
    if diff.is_empty() {
        eprintln!("{} is up to date", args.lock.display());
        return Ok(ExitStatus::Success);
    }
    eprintln!("{} is stale: run `debclosure lock` (after a spec change) or `debclosure update`", args.lock.display());
    Ok(ExitStatus::Different)
}
