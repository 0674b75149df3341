//! `debclosure update`: re-resolve a lock's request against today's
//! archives, print what changed, and rewrite the lock.

use anyhow::Result;

use debclosure::lock::{self, diff_locks};

use super::args::UpdateArgs;
use super::load::{locator, read_lock, read_spec, refuse, spec_beside, suite_flags, Downloads};
use super::{write_output, ExitStatus};

pub fn run(args: UpdateArgs) -> Result<ExitStatus> {
    let o = &args.online;
    let request_flags = &suite_flags(o)[..2];
    let hint = "edit the spec (debclosure.toml) and run `debclosure lock`";
    refuse(request_flags, "update", "the lock names its suites and components", hint)?;
    let old = read_lock(&args.lock)?;
    let spec = spec_beside(&args.lock).map(|p| read_spec(&p)).transpose()?;
    let locator = locator(o, spec.as_ref())?;
    let request = old
        .request
        .with_snapshot(o.snapshot.as_deref(), locator.snapshot_base_to_record().as_deref())
        .map_err(lock::LockingError::Request)?;
    let archives = request.locate(&locator)?;
    let downloads = Downloads::new(o)?;
    let options = downloads.archive_options(o, &request, &archives, &locator)?;
    let (fetcher, cache) = (&downloads.fetcher, downloads.cache()?);
    let new = downloads.block_on(lock::create(&request, &archives, fetcher, &cache, &options, &downloads.progress))?;
    super::diff::print_changes(&diff_locks(&old, &new), &args.changes)?;
    let same_bytes = new.render() == old.render();
    if args.dry_run {
        return Ok(if same_bytes { ExitStatus::Success } else { ExitStatus::Different });
    }
    if same_bytes {
        eprintln!("{} is up to date", args.lock.display());
    } else {
        write_output(Some(&args.lock), &new.render())?;
        eprintln!("updated {}", args.lock.display());
    }
    Ok(ExitStatus::Success)
}
