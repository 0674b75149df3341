//! `debclosure lock`: a spec (or the flags) to a lock file.

use std::path::{Path, PathBuf};

use anyhow::Result;

use debclosure::lock::{self, Distribution, Request, RequestOptions};
use debclosure::sources::{ArchiveSource, Locator};

use super::args::{DistributionArg, LockArgs};
use super::load::{host_architecture, locator, read_spec, refuse, request_names, resolve_options, Downloads};
use super::{write_output, ExitStatus, Usage};

/// A request, where to download its archives, and whom to trust for them.
type Plan = (Request, Vec<ArchiveSource>, Locator);

pub fn run(args: LockArgs) -> Result<ExitStatus> {
    let spec_path = args.spec.clone().or_else(|| {
        let default = PathBuf::from("debclosure.toml");
        (default.is_file() && args.request.packages.is_empty() && args.request.request_files.is_empty()).then_some(default)
    });
    let ((request, archives, locator), output) = match &spec_path {
        Some(path) => (from_spec(&args, path)?, path.with_file_name("debclosure.lock")),
        None => (from_flags(&args)?, PathBuf::from("debclosure.lock")),
    };
    let output = args.output.clone().unwrap_or(output);
    let downloads = Downloads::new(&args.online)?;
    let options = downloads.archive_options(&args.online, &request, &archives, &locator)?;
    let (fetcher, cache) = (&downloads.fetcher, downloads.cache()?);
    let lock = downloads.block_on(lock::create(&request, &archives, fetcher, &cache, &options, &downloads.progress))?;
    write_output(Some(&output), &lock.render())?;
    let groups = lock.packages.last().map_or(0, |p| p.group + 1);
    eprintln!("wrote {} ({} packages in {groups} groups)", output.display(), lock.packages.len());
    Ok(ExitStatus::Success)
}

/// The spec is the request: flags that would change it are refused, and
/// `check` compares the lock with it.
fn from_spec(args: &LockArgs, path: &Path) -> Result<Plan> {
    let spec = read_spec(path)?;
    let shown = path.display();
    let hint = format!("write it into {shown} (packages, [preferences], exclude, recommends, strict, base, distribution, [[source]], snapshot, [url-prefixes]), or lock without a spec: name the PACKAGEs and no --spec");
    refuse(&args.request_flags(), "lock with a spec", &format!("{shown} is the request"), &hint)?;
    if let (Some(flag), Some(own)) = (&args.arch, &spec.architecture) {
        if own != flag {
            let hint = format!("drop --arch, or change `architecture` in {shown}");
            return Err(Usage { message: format!("--arch {flag}: the spec's architecture is {own}"), hint }.into());
        }
    }
    let locator = locator(&args.online, Some(&spec))?;
    let host = args.arch.clone().unwrap_or_else(host_architecture);
    let request = spec.request(&host, locator.snapshot_base_to_record().as_deref())?;
    request.check_ports(&spec.url_prefixes)?;
    let archives = request.locate(&locator)?;
    Ok((request, archives, locator))
}

/// The request the flags and PACKAGE arguments make, as `resolve` reads them.
fn from_flags(args: &LockArgs) -> Result<Plan> {
    let o = &args.online;
    let locator = locator(o, None)?;
    let archives = locator.flag_archives(&o.suites, &o.components, o.snapshot.as_deref())?;
    let distribution = args.distribution.map(|d| match d {
        DistributionArg::Ubuntu => Distribution::Ubuntu,
        DistributionArg::Debian => Distribution::Debian,
    });
    let options = RequestOptions {
        architecture: args.arch.clone().unwrap_or_else(host_architecture),
        snapshot: o.snapshot.clone(),
        snapshot_base: locator.snapshot_base_to_record(),
        packages: request_names(&args.request)?,
        resolve: resolve_options(&args.request)?,
        ..RequestOptions::of_archives(&archives, distribution, &args.url_prefixes)
    };
    let explicit = options.url_prefixes.clone();
    let request = Request::from_options(options).map_err(lock::LockingError::Request)?;
    request.check_ports(&explicit)?;
    Ok((request, archives, locator))
}
