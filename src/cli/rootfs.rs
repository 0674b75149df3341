//! `debclosure rootfs`: installs a lock into a directory with the closure's
//! own dpkg in a chroot, proving that the lock installs.

use std::path::Path;

use anyhow::Result;

use debclosure::debs::{self, DebSources};
use debclosure::lock::LockFile;
use debclosure::rootfs::{
    self, Failure, InstallMode, OnFailure, Placement, RootfsOptions, RootfsPackage, RootfsReporter, Tools,
};

use super::args::{OnlineArgs, RootfsArgs};
use super::progress::Steps;
use super::load::{cache_mode, download_flags, host_architecture, locator, read_lock, read_spec, refuse, release_flags};
use super::load::{spec_beside, suite_flags, Downloads};
use super::ExitStatus;

pub fn run(args: RootfsArgs) -> Result<ExitStatus> {
    let steps = Steps::new("rootfs", args.online.quiet);
    let o = &args.online;
    let given: Vec<_> = suite_flags(o).into_iter().chain(release_flags(o)).collect();
    let hint = "drop them; --mirror and --source say where to download the lock's archives from";
    refuse(&given, "rootfs", "the lock names its suites and snapshot, and each .deb is checked against its SHA256", hint)?;
    if args.debs_from.is_some() {
        refuse(&download_flags(o), "rootfs --debs-from", "nothing is downloaded", "drop them, or --debs-from")?;
    }
    let placement = if args.in_place { Placement::InPlace } else { Placement::Staging };
    match placement {
        Placement::Staging => rootfs::check_target(&args.target)?,
        Placement::InPlace => rootfs::check_in_place_target(&args.target)?,
    }
    let tools = Tools::find()?;
    // Issue 15: the rest runs again in mount and PID namespaces of its own,
    // which nothing it mounts or starts outlives.
    if !rootfs::in_namespaces() {
        std::process::exit(rootfs::run_in_namespaces()?);
    }
    let before_build = rootfs::prepare_inside();
    let lock = read_lock(&args.lock)?;
    let base = install_options(&lock)?;
    let packages = locked_packages(&lock, &args.lock, &args.online, args.debs_from.as_deref(), &steps)?;
    let options = RootfsOptions {
        mode: if args.keep_going { InstallMode::KeepGoing } else { InstallMode::Strict },
        on_failure: if args.keep_failed { OnFailure::Keep } else { OnFailure::Remove },
        tar: args.tar.clone(),
        placement,
        manifest: args.manifest.clone(),
        ..base
    };
    // Until here an interrupt has nothing to clean up, and ends the process.
    before_build.store(false, std::sync::atomic::Ordering::SeqCst);
    let cancel = rootfs::cancel_on_signals();
    match rootfs::build_rootfs(&args.target, &packages, &options, &tools, &steps, cancel) {
        Ok(built) => {
            steps.step(&format!(
                "wrote {} ({} packages) and {}{}",
                built.target.display(),
                built.packages,
                built.manifest.display(),
                built.tar.map(|t| format!(" and {}", t.display())).unwrap_or_default()
            ));
            Ok(ExitStatus::Success)
        }
        Err(Failure { error, kept, cleanup }) => {
            if let Some(e) = cleanup {
                eprintln!("warning: {e}");
            }
            if let Some(kept) = kept {
                eprintln!("kept the failed tree at {}", kept.display());
            }
            Err(error.into())
        }
    }
}

/// How a lock is installed: its architecture (which must be this
/// machine's) and `SOURCE_DATE_EPOCH`; the rest as the defaults.
pub(super) fn install_options(lock: &LockFile) -> Result<RootfsOptions> {
    rootfs::check_architecture(&lock.request.architecture, &host_architecture())?;
    Ok(RootfsOptions {
        architecture: lock.request.architecture.to_string(),
        source_date_epoch: rootfs::source_date_epoch(&lock.releases)?,
        mode: InstallMode::Strict,
        on_failure: OnFailure::Remove,
        tar: None,
        placement: Placement::Staging,
        manifest: None,
    })
}

/// The lock's packages with their verified `.deb` files: from the local
/// files listed in `debs_from`, or downloaded through the cache from each
/// archive's mirror.
pub(super) fn locked_packages(
    lock: &LockFile,
    lock_path: &Path,
    online: &OnlineArgs,
    debs_from: Option<&Path>,
    steps: &Steps,
) -> Result<Vec<RootfsPackage>> {
    let debs = match debs_from {
        Some(list) => {
            steps.step(&format!("checking the local files listed in {}", list.display()));
            let files = rootfs::read_local_debs(list)?;
            let packages = lock.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.filename.as_str(), p.sha256));
            rootfs::match_local_debs(packages, &files, list)?
        }
        None => {
            let spec = spec_beside(lock_path).map(|p| read_spec(&p)).transpose()?;
            let sources = DebSources::of_request(&lock.request, &locator(online, spec.as_ref())?)?;
            steps.step(&format!("fetching {} packages", lock.packages.len()));
            let downloads = Downloads::new(online)?;
            let cache = downloads.cache()?;
            let mode = cache_mode(online);
            downloads.block_on(debs::fetch(&lock.packages, &sources, &downloads.fetcher, &cache, mode, &downloads.progress))?
        }
    };
    Ok(lock
        .packages
        .iter()
        .zip(debs)
        .map(|(p, deb)| RootfsPackage {
            name: p.name.clone(),
            version: p.version.clone(),
            architecture: p.architecture.clone(),
            group: p.group,
            filename: p.filename.clone(),
            deb,
        })
        .collect())
}
