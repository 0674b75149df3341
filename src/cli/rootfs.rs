//! `debclosure rootfs`: installs a lock into a directory with the closure's
//! own dpkg in a chroot, proving that the lock installs.

use anyhow::Result;

use debclosure::debs::{self, DebSources};
use debclosure::rootfs::{
    self, Failure, InstallMode, OnFailure, Placement, RootfsOptions, RootfsPackage, RootfsReporter, Tools,
};

use super::args::RootfsArgs;
use super::progress::Steps;
use super::load::{cache_mode, download_flags, host_architecture, locator, read_lock, read_spec, refuse, release_flags};
use super::load::{spec_beside, suite_flags, Downloads};
use super::ExitStatus;

pub fn run(args: RootfsArgs) -> Result<ExitStatus> {
    let steps = Steps::new(args.online.quiet);
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
    let lock = read_lock(&args.lock)?;
    rootfs::check_architecture(&lock.request.architecture, &host_architecture())?;
    let epoch = rootfs::source_date_epoch(&lock.releases)?;
    let debs = match &args.debs_from {
        Some(list) => {
            steps.step(&format!("checking the local files listed in {}", list.display()));
            let files = rootfs::read_local_debs(list)?;
            let packages = lock.packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.filename.as_str(), p.sha256.as_str()));
            rootfs::match_local_debs(packages, &files, list)?
        }
        None => {
            let spec = spec_beside(&args.lock).map(|p| read_spec(&p)).transpose()?;
            let sources = DebSources::of_request(&lock.request, &locator(&args.online, spec.as_ref())?)?;
            steps.step(&format!("fetching {} packages", lock.packages.len()));
            let downloads = Downloads::new(&args.online)?;
            let cache = downloads.cache()?;
            let mode = cache_mode(&args.online);
            downloads.block_on(debs::fetch(&lock.packages, &sources, &downloads.fetcher, &cache, mode, &downloads.progress))?
        }
    };
    let packages: Vec<RootfsPackage> = lock
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
        .collect();
    let options = RootfsOptions {
        architecture: lock.request.architecture.clone(),
        source_date_epoch: epoch,
        mode: if args.keep_going { InstallMode::KeepGoing } else { InstallMode::Strict },
        on_failure: if args.keep_failed { OnFailure::Keep } else { OnFailure::Remove },
        tar: args.tar.clone(),
        placement,
        manifest: args.manifest.clone(),
    };
    // Handlers only now: until here an interrupt has nothing to clean up.
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
