//! `debclosure boot-test`: boots an image under QEMU and waits for a
//! marker on its console.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use debclosure::boot::{self, Accel, BootOptions};
use debclosure::rootfs;

use super::args::{AccelArg, BootTestArgs};
use super::ExitStatus;

pub fn run(args: BootTestArgs) -> Result<ExitStatus> {
    let log = args.log.clone().unwrap_or_else(|| {
        let mut name = args.image.clone().into_os_string();
        name.push(".console.log");
        PathBuf::from(name)
    });
    let options = BootOptions {
        timeout: Duration::from_secs(args.timeout),
        expect: args.expect.clone(),
        command: args.command.clone(),
        accel: match args.accel {
            AccelArg::Auto => Accel::Auto,
            AccelArg::Kvm => Accel::Kvm,
            AccelArg::Tcg => Accel::Tcg,
        },
        kvm_probe: Duration::from_secs(args.kvm_probe),
        memory_mib: args.memory,
        log: log.clone(),
    };
    let cancel = rootfs::cancel_on_signals();
    let booted = boot::boot_image(&args.image, &options, cancel)?;
    let fallback = booted.fallback.map(|why| format!(" (KVM not used: {why})")).unwrap_or_default();
    eprintln!(
        "boot-test: {} booted with {} in {:.1}s; the console ({}) shows {:?}{fallback}",
        args.image.display(),
        booted.accel,
        booted.elapsed.as_secs_f64(),
        log.display(),
        args.expect
    );
    Ok(ExitStatus::Success)
}
