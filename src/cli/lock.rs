//! `debclosure lock`: a spec (or the flags) to a lock file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;

use debclosure::lock::{self, Distribution, LockedSource, Request, RequestOptions};
use debclosure::sources::ArchiveSource;

use super::args::{DistributionArg, LockArgs};
use super::load::{host_architecture, locator, read_spec, refuse, request_names, resolve_options, Downloads};
use super::{write_output, ExitStatus, Usage};

pub fn run(args: LockArgs) -> Result<ExitStatus> {
    let spec_path = args.spec.clone().or_else(|| {
        let default = PathBuf::from("debclosure.toml");
        (default.is_file() && args.request.packages.is_empty() && args.request.request_files.is_empty()).then_some(default)
    });
    let host = args.arch.clone().unwrap_or_else(host_architecture);
    let (request, archives, keyrings, output) = match &spec_path {
        Some(path) => {
            let spec = read_spec(path)?;
            refuse_request_flags(&args, &path.display().to_string())?;
            if let (Some(flag), Some(own)) = (&args.arch, &spec.architecture) {
                if flag != own {
                    let hint = format!("drop --arch, or change `architecture` in {}", path.display());
                    return Err(Usage { message: format!("--arch {flag}: the spec's architecture is {own}"), hint }.into());
                }
            }
            let locator = locator(&args.online, Some(&spec))?;
            let request = spec.request(&host, locator.snapshot_base_to_record().as_deref())?;
            request.check_ports(&spec.url_prefixes)?;
            let output = args.output.clone().unwrap_or_else(|| path.with_file_name("debclosure.lock"));
            let archives = request.locate(&locator)?;
            (request, archives, spec.keyring, output)
        }
        None => {
            let (request, archives) = request_from_flags(&args, host)?;
            (request, archives, Vec::new(), args.output.clone().unwrap_or_else(|| PathBuf::from("debclosure.lock")))
        }
    };
    let downloads = Downloads::new(&args.online)?;
    let options = downloads.archive_options(&args.online, &request.architecture, &keyrings)?;
    let (fetcher, cache) = (&downloads.fetcher, downloads.cache()?);
    let lock = downloads.block_on(lock::create(&request, &archives, fetcher, &cache, &options, &downloads.progress))?;
    write_output(Some(&output), &lock.render())?;
    let groups = lock.packages.last().map_or(0, |p| p.group + 1);
    eprintln!("wrote {} ({} packages in {groups} groups)", output.display(), lock.packages.len());
    Ok(ExitStatus::Success)
}

/// The request the flags and PACKAGE arguments make, as `resolve` reads
/// them, and the archives they name.
fn request_from_flags(args: &LockArgs, architecture: String) -> Result<(Request, Vec<ArchiveSource>)> {
    let o = &args.online;
    let locator = locator(o, None)?;
    let archives = locator.flag_archives(&o.suites, &o.components, o.snapshot.as_deref())?;
    let sources: Vec<LockedSource> = archives
        .iter()
        .map(|a| LockedSource { archive: a.archive(), suites: a.suites.clone(), components: a.components.clone() })
        .collect();
    // `--url-prefix` is every archive's, as `resolve` uses it for every package.
    let url_prefixes: BTreeMap<String, Vec<String>> = match args.url_prefixes.is_empty() {
        true => BTreeMap::new(),
        false => sources.iter().map(|s| (s.archive.clone(), args.url_prefixes.clone())).collect(),
    };
    let request = Request::from_options(RequestOptions {
        distribution: match args.distribution {
            Some(DistributionArg::Ubuntu) => Distribution::Ubuntu,
            Some(DistributionArg::Debian) => Distribution::Debian,
            None => Distribution::of_archives(&sources),
        },
        architecture,
        sources,
        snapshot: o.snapshot.clone(),
        snapshot_base: locator.snapshot_base_to_record(),
        packages: request_names(&args.request)?,
        resolve: resolve_options(&args.request)?,
        url_prefixes: url_prefixes.clone(),
    });
    request.check_ports(&url_prefixes)?;
    Ok((request, archives))
}

/// With a spec, the flags that make a request are errors: the spec is the
/// request, and `check` compares the lock with it.
fn refuse_request_flags(args: &LockArgs, spec: &str) -> Result<()> {
    let (r, o) = (&args.request, &args.online);
    let given = [
        ("PACKAGE", !r.packages.is_empty()),
        ("--request-file", !r.request_files.is_empty()),
        ("--prefer", !r.prefer.is_empty()),
        ("--preferences", r.preferences.is_some()),
        ("--exclude", !r.exclude.is_empty()),
        ("--with-recommends", r.with_recommends),
        ("--strict", r.strict),
        ("--base", r.base.is_some()),
        ("--distribution", args.distribution.is_some()),
        ("--suite", !o.suites.is_empty()),
        ("--component", !o.components.is_empty()),
        ("--source", !o.sources.is_empty()),
        ("--snapshot", o.snapshot.is_some()),
        ("--url-prefix", !args.url_prefixes.is_empty()),
    ];
    let reason = format!("{spec} is the request");
    let hint = format!("write it into {spec} (packages, [preferences], exclude, recommends, strict, base, distribution, [[source]], snapshot, [url-prefixes]), or lock without a spec: name the PACKAGEs and no --spec");
    refuse(&given, "lock with a spec", &reason, &hint)
}
