//! `debclosure rootfs`: installs a lock into a directory with the closure's
//! own dpkg in a chroot, proving that the lock installs.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};

use debclosure::rootfs::{
    self, Failure, InstallMode, OnFailure, Placement, RootfsOptions, RootfsPackage, RootfsReporter, Tools,
};

use super::args::OnlineArgs;
use super::fetch_debs::fetch_to_cache;
use super::load::host_architecture;
use super::lock::{archive_uris, read_lock};
use super::ExitStatus;

#[derive(Debug, clap::Args)]
pub struct RootfsArgs {
    /// The lock.
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// The directory to build: absent or empty (with --in-place: an existing
    /// directory, typically a mounted file system). TARGET_DIR.manifest is
    /// written beside it unless --manifest says where.
    #[arg(value_name = "TARGET_DIR")]
    pub target: PathBuf,
    /// Install straight into TARGET_DIR, an existing directory holding only
    /// what a fresh image file system holds (lost+found, .debug, empty proc,
    /// dev and sys), instead of building beside it and renaming; a failed
    /// tree is left in place.
    #[arg(long)]
    pub in_place: bool,
    /// Take the .deb files from the local paths listed in FILE (one per line,
    /// e.g. Nix store paths), each matched to its package by SHA256, instead
    /// of downloading them.
    #[arg(long, value_name = "FILE")]
    pub debs_from: Option<PathBuf>,
    /// Write the manifest here instead of beside TARGET_DIR.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Keep the tree of a failed run (and print where it is) instead of
    /// removing it.
    #[arg(long)]
    pub keep_failed: bool,
    /// Install every group even when one fails, forcing dpkg as nixpkgs does
    /// (--force-all); the run still fails if anything did.
    #[arg(long)]
    pub keep_going: bool,
    /// Also write the tree as a tar with sorted entries and every mtime set
    /// to the lock's newest Release date.
    #[arg(long, value_name = "FILE")]
    pub tar: Option<PathBuf>,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// One line per step on stderr, with the time since the start.
struct Steps {
    quiet: bool,
    started: Instant,
}

impl RootfsReporter for Steps {
    fn step(&self, message: &str) {
        if !self.quiet {
            eprintln!("rootfs [{:6.1}s] {message}", self.started.elapsed().as_secs_f64());
        }
    }
}

pub fn run(args: RootfsArgs) -> Result<ExitStatus> {
    let steps = Steps { quiet: args.online.quiet, started: Instant::now() };
    if !args.online.suites.is_empty() || !args.online.components.is_empty() || args.online.snapshot.is_some() {
        bail!("--suite, --component and --snapshot do not apply to rootfs: the lock names its suites and snapshot");
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
            let uris = archive_uris(&lock, &args.lock, &args.online)?;
            let main = uris.get(lock.request.distribution.main_archive()).cloned();
            steps.step(&format!("fetching {} packages", lock.packages.len()));
            fetch_to_cache(&lock.packages, &uris, main.as_deref(), &args.online)?
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
