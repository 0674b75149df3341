//! Loading indices for a command: local `--packages-file`s, or verified
//! downloads from the configured archives.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use debclosure::archive::{fetch_indices, ArchiveOptions, FetchedIndices, IndexRecord, ReleaseRecord};
use debclosure::decompress::{self, DEFAULT_LIMIT};
use debclosure::fetch::{Cache, CacheMode, FetchOptions, Fetcher};
use debclosure::index::IndexSource;
use debclosure::signature::Keyring;
use debclosure::sources::{self, ArchiveSource};

use super::args::{IndexArgs, OnlineArgs};
use super::progress::Progress;

/// Indices ready for [`debclosure::index::Index::build`], with the records of
/// what was downloaded (empty for local files).
pub struct Loaded {
    pub sources: Vec<IndexSource>,
    pub releases: Vec<ReleaseRecord>,
    pub indices: Vec<IndexRecord>,
}

pub fn load(args: &IndexArgs) -> Result<Loaded> {
    if args.packages_files.is_empty() && args.not_automatic.is_empty() {
        return load_online(&args.online, &architecture(args));
    }
    Ok(Loaded { sources: load_files(args)?, releases: Vec::new(), indices: Vec::new() })
}

/// The suite a path names, from its `dists/SUITE/` component.
fn suite_of(path: &Path) -> Option<String> {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let at = parts.iter().position(|c| c == "dists")?;
    parts.get(at + 1).filter(|_| at + 2 < parts.len()).cloned()
}

/// Reads and decompresses every index file, in parallel.
fn load_files(args: &IndexArgs) -> Result<Vec<IndexSource>> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for f in &args.not_automatic {
        files.push((f.clone(), false));
    }
    for f in &args.packages_files {
        if !files.iter().any(|(p, _)| p == f) {
            files.push((f.clone(), true));
        }
    }
    let limit = max_index_size()?;
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|(path, automatic)| {
                s.spawn(move || -> Result<IndexSource> {
                    let text = decompress::read_text(path, limit)?;
                    Ok(IndexSource {
                        label: path.display().to_string(),
                        archive: None,
                        suite: suite_of(path),
                        automatic: *automatic,
                        text,
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("index loading does not panic")).collect()
    })
}

/// The host's dpkg architecture, or a guess from the build target.
pub fn host_architecture() -> String {
    if let Ok(out) = std::process::Command::new("dpkg").arg("--print-architecture").output() {
        let arch = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !arch.is_empty() {
            return arch;
        }
    }
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        other => other,
    }
    .to_owned()
}

pub fn architecture(args: &IndexArgs) -> String {
    args.arch.clone().unwrap_or_else(host_architecture)
}

/// An environment variable, when set to something other than white space.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The snapshot archive's base URL: the first of `given` (flag, spec or
/// lock, in the caller's order), else `$DEBCLOSURE_SNAPSHOT_BASE`.
pub fn snapshot_base(given: &[Option<&str>]) -> Option<String> {
    given.iter().flatten().next().map(|s| (*s).to_owned()).or_else(|| env("DEBCLOSURE_SNAPSHOT_BASE"))
}

/// The bound on a decompressed index, in bytes: `DEBCLOSURE_MAX_INDEX_SIZE`,
/// else the library's default. Checked while decompressing, so a small file
/// that expands to gigabytes stops there.
pub fn max_index_size() -> Result<u64> {
    const NAME: &str = "DEBCLOSURE_MAX_INDEX_SIZE";
    let Some(value) = env(NAME) else { return Ok(DEFAULT_LIMIT) };
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("environment variable {NAME}={value:?}: expected a size in bytes"))
}

/// The archives to read, from --source, --mirror/--suite/--component, or the
/// machine's apt sources; rewritten to a snapshot archive when asked.
pub fn archives(o: &OnlineArgs) -> Result<Vec<ArchiveSource>> {
    let mut out = Vec::new();
    for s in &o.sources {
        out.push(sources::parse_source_arg(s)?);
    }
    let system = || -> Result<Vec<ArchiveSource>> { Ok(sources::system_sources(Path::new("/"))?) };
    if !o.suites.is_empty() {
        let uri = match o.mirror.clone().or_else(|| env("DEBCLOSURE_MIRROR")) {
            Some(uri) => uri,
            None => match system()?.into_iter().next() {
                Some(s) => s.uri,
                None => bail!("no mirror: pass --mirror URL or set DEBCLOSURE_MIRROR"),
            },
        };
        let components = if o.components.is_empty() { vec!["main".to_owned()] } else { o.components.clone() };
        let line = format!("{uri} {} {}", o.suites[0], components.join(" "));
        let mut source = sources::parse_source_arg(&line)?;
        source.suites = o.suites.clone();
        out.insert(0, source);
    } else if o.mirror.is_some() || !o.components.is_empty() {
        bail!("--mirror and --component need at least one --suite");
    }
    if out.is_empty() {
        out = system()?;
        if out.is_empty() {
            bail!("no archive configured: the machine has no apt sources; pass --mirror URL --suite NAME, --source, or --packages-file");
        }
    }
    if let Some(ts) = &o.snapshot {
        let base = snapshot_base(&[o.snapshot_base.as_deref()]).with_context(|| {
            "--snapshot needs the snapshot archive's base URL: pass --snapshot-base URL or set DEBCLOSURE_SNAPSHOT_BASE"
        })?;
        for s in &mut out {
            // The snapshot's URL ends in the timestamp: keep the archive's name.
            let archive = s.archive();
            s.uri = snapshot_uri(&base, &archive, ts);
            s.name = Some(archive);
        }
    }
    Ok(out)
}

/// `BASE/archive/ARCHIVE/TIMESTAMP`, the layout of Debian's snapshot archive.
pub fn snapshot_uri(base: &str, archive: &str, timestamp: &str) -> String {
    format!("{}/archive/{archive}/{timestamp}", base.trim_end_matches('/'))
}

pub fn keyring(o: &OnlineArgs) -> Result<Option<Keyring>> {
    if o.insecure_no_verify {
        eprintln!("warning: --insecure-no-verify: Release signatures are NOT checked; anyone between you and the mirror can change what gets installed");
        return Ok(None);
    }
    let paths = if o.keyrings.is_empty() { Keyring::default_paths() } else { o.keyrings.clone() };
    if paths.is_empty() {
        bail!("no keyring to verify Release files with: install debian-archive-keyring (or ubuntu-keyring), or pass --keyring FILE");
    }
    Ok(Some(Keyring::load(&paths)?))
}

pub fn cache(o: &OnlineArgs) -> Result<Cache> {
    let dir = match &o.cache_dir {
        Some(d) => d.clone(),
        None => Cache::default_dir().context("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir")?,
    };
    Ok(Cache::open(&dir)?)
}

pub fn cache_mode(o: &OnlineArgs) -> CacheMode {
    if o.offline {
        CacheMode::Offline
    } else if o.refresh {
        CacheMode::Refresh
    } else {
        CacheMode::Use
    }
}

/// A runtime for the downloads: the work is I/O and hashing, two workers suffice.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the download runtime")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Fetches and verifies the indices of `archives` for `arch`, as the flags say.
pub fn fetch(archives: &[ArchiveSource], arch: &str, o: &OnlineArgs) -> Result<FetchedIndices> {
    let options = ArchiveOptions {
        architecture: arch.to_owned(),
        keyring: keyring(o)?,
        mode: cache_mode(o),
        now: now(),
        max_index_size: max_index_size()?,
    };
    let cache = cache(o)?;
    let fetcher = Fetcher::new(FetchOptions::from_env()?)?;
    let progress = Progress::new(o.quiet);
    let fetched = runtime()?.block_on(fetch_indices(&fetcher, &cache, archives, &options, &progress))?;
    progress.finish();
    Ok(fetched)
}

fn load_online(o: &OnlineArgs, arch: &str) -> Result<Loaded> {
    let fetched = fetch(&archives(o)?, arch, o)?;
    Ok(Loaded { sources: fetched.sources, releases: fetched.releases, indices: fetched.indices })
}
