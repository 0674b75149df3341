//! `debclosure image`: a bootable, byte-reproducible disk image from a lock.

use anyhow::Result;

use debclosure::image::{self, DiskFormat, ImageOptions};
use debclosure::rootfs::{self, RootfsReporter, Tools};

use super::args::{ImageArgs, ImageFormatArg};
use super::load::{download_flags, read_lock, refuse, release_flags, suite_flags};
use super::progress::Steps;
use super::rootfs::{install_options, locked_packages};
use super::ExitStatus;

pub fn run(args: ImageArgs) -> Result<ExitStatus> {
    let steps = Steps::new("image", args.online.quiet);
    let o = &args.online;
    let given: Vec<_> = suite_flags(o).into_iter().chain(release_flags(o)).collect();
    let hint = "drop them; --mirror and --source say where to download the lock's archives from";
    refuse(&given, "image", "the lock names its suites and snapshot, and each .deb is checked against its SHA256", hint)?;
    if args.debs_from.is_some() {
        refuse(&download_flags(o), "image --debs-from", "nothing is downloaded", "drop them, or --debs-from")?;
    }
    let lock_bytes = std::fs::read(&args.lock).unwrap_or_default();
    let lock = read_lock(&args.lock)?;
    // Before anything is downloaded or built.
    image::check_bootable(lock.packages.iter().map(|p| p.name.as_str()))?;
    let tools = Tools::find()?;
    image::check_mke2fs()?;
    // As for rootfs: the rest runs again in mount and PID namespaces of its
    // own, which nothing it mounts or starts outlives.
    if !rootfs::in_namespaces() {
        std::process::exit(rootfs::run_in_namespaces()?);
    }
    let before_build = rootfs::prepare_inside();
    let base = install_options(&lock)?;
    let packages = locked_packages(&lock, &args.lock, &args.online, args.debs_from.as_deref(), &steps)?;
    let qcow2_name = args.output.extension().is_some_and(|e| e == "qcow2");
    let format = match args.format {
        Some(ImageFormatArg::Qcow2) => DiskFormat::Qcow2,
        Some(ImageFormatArg::Raw) => DiskFormat::Raw,
        None if qcow2_name => DiskFormat::Qcow2,
        None => DiskFormat::Raw,
    };
    let options = ImageOptions { size_mib: args.size, format, seed: lock_bytes, ..ImageOptions::default() };
    // Until here an interrupt has nothing to clean up, and ends the process.
    before_build.store(false, std::sync::atomic::Ordering::SeqCst);
    let cancel = rootfs::cancel_on_signals();
    let built = image::build_image(&args.output, &packages, &base, &options, &tools, &steps, cancel)?;
    steps.step(&format!(
        "wrote {} ({}, {} MiB, {} packages) and {}",
        built.image.display(),
        format.name(),
        built.size_mib,
        built.packages,
        built.manifest.display()
    ));
    Ok(ExitStatus::Success)
}
