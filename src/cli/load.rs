//! What the commands share: flags turned into library values (a
//! [`Locator`], a request's names and options, the download context), and
//! reading locks, specs and local index files.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use debclosure::archive::ArchiveOptions;
use debclosure::decompress::{self, DEFAULT_LIMIT};
use debclosure::fetch::{Cache, CacheMode, FetchOptions, Fetcher};
use debclosure::index::IndexSource;
use debclosure::lock::{Distribution, LockFile, Request};
use debclosure::resolve::{Base, Preferences, ResolveOptions};
use debclosure::signature::Trust;
use debclosure::sources::{self, ArchiveSource, Locator};
use debclosure::spec::Spec;

use super::args::{BaseArg, IndexArgs, OnlineArgs, RequestArgs};
use super::progress::Progress;
use super::Usage;

pub fn read_lock(path: &Path) -> Result<LockFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the lock {}; write one with `debclosure lock`", path.display()))?;
    LockFile::parse(&text).with_context(|| format!("{} is not a valid lock", path.display()))
}

/// Reads a spec; its relative keyring paths are relative to its directory.
pub fn read_spec(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the spec {}", path.display()))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(Spec::parse(&text, &path.display().to_string())?.with_keyrings_under(dir))
}

/// `debclosure.toml` beside `lock`, if it exists.
pub fn spec_beside(lock: &Path) -> Option<PathBuf> {
    let spec = lock.parent().unwrap_or(Path::new("")).join("debclosure.toml");
    spec.is_file().then_some(spec)
}

/// The locator for this run: the environment, the machine's apt sources,
/// the download flags, and the spec's mirrors, snapshot base and keyrings.
pub fn locator(o: &OnlineArgs, spec: Option<&Spec>) -> Result<Locator> {
    let mut locator = Locator::from_env();
    locator.sources = o.sources.iter().map(|s| sources::parse_source_arg(s)).collect::<Result<_, _>>()?;
    locator.mirror = o.mirror.clone();
    locator.snapshot_base = o.snapshot_base.clone();
    locator.keyrings = o.keyrings.clone();
    if let Some(spec) = spec {
        locator.spec_mirrors = spec.mirrors();
        locator.spec_snapshot_base = spec.snapshot_base.as_ref().map(|u| u.expose().to_owned());
        locator.spec_keyrings = spec.source_keyrings();
        locator.spec_default_keyrings = spec.keyring.clone();
    }
    Ok(locator)
}

/// Refuses the flags in `given` (name, whether given) that `command` does
/// not take, with why (`reason`) and what to do instead (`hint`).
pub fn refuse(given: &[(&str, bool)], command: &str, reason: &str, hint: &str) -> Result<()> {
    let names: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(n, _)| *n).collect();
    if names.is_empty() {
        return Ok(());
    }
    let message = format!("flags that do not apply to {command}: {} ({reason})", names.join(", "));
    Err(Usage { message, hint: hint.to_owned() }.into())
}

/// The request flags that only a command without a spec or lock takes.
pub fn suite_flags(o: &OnlineArgs) -> [(&'static str, bool); 3] {
    [("--suite", !o.suites.is_empty()), ("--component", !o.components.is_empty()), ("--snapshot", o.snapshot.is_some())]
}

/// The flags about Release files, for commands that read none.
pub fn release_flags(o: &OnlineArgs) -> [(&'static str, bool); 3] {
    [("--keyring", !o.keyrings.is_empty()), ("--insecure-no-verify", o.insecure_no_verify), ("--refresh", o.refresh)]
}

/// The flags about where and how to download, for runs that download nothing.
pub fn download_flags(o: &OnlineArgs) -> [(&'static str, bool); 5] {
    [
        ("--mirror", o.mirror.is_some()),
        ("--source", !o.sources.is_empty()),
        ("--snapshot-base", o.snapshot_base.is_some()),
        ("--cache-dir", o.cache_dir.is_some()),
        ("--offline", o.offline),
    ]
}

/// The requested packages: from each `--request-file`, then the arguments.
pub fn request_names(args: &RequestArgs) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for path in &args.request_files {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default();
            names.extend(line.split_whitespace().map(str::to_owned));
        }
    }
    names.extend(args.packages.iter().cloned());
    if names.is_empty() {
        bail!("the request is empty: name packages as arguments or in --request-file");
    }
    Ok(names)
}

/// The resolver options the flags give.
pub fn resolve_options(args: &RequestArgs) -> Result<ResolveOptions> {
    let mut preferences = Preferences::builtin();
    if let Some(path) = &args.preferences {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        preferences.merge_toml(&text, &path.display().to_string())?;
    }
    for p in &args.prefer {
        preferences.insert_arg(p)?;
    }
    Ok(ResolveOptions {
        preferences,
        exclude: args.exclude.iter().cloned().collect(),
        with_recommends: args.with_recommends,
        strict: args.strict,
        base: match args.base.unwrap_or(BaseArg::None) {
            BaseArg::None => Base::None,
            BaseArg::Essential => Base::Essential,
            BaseArg::Required => Base::Required,
        },
    })
}

/// Indices ready for [`debclosure::index::Index::build`], with the records
/// of what was downloaded (empty for local files).
pub struct Loaded {
    pub sources: Vec<IndexSource>,
    pub releases: Vec<debclosure::archive::ReleaseRecord>,
    pub indices: Vec<debclosure::archive::IndexRecord>,
}

pub fn load(args: &IndexArgs) -> Result<Loaded> {
    if args.packages_files.is_empty() && args.not_automatic.is_empty() {
        let o = &args.online;
        let locator = locator(o, None)?;
        let archives = locator.flag_archives(&o.suites, &o.components, o.snapshot.as_deref())?;
        let downloads = Downloads::new(o)?;
        let names: Vec<String> = archives.iter().map(ArchiveSource::archive).collect();
        let trust = trust(o, &archives, &locator, Distribution::of_archives(names.iter().map(String::as_str)))?;
        let options = downloads.options(o, &architecture(args), trust)?;
        let fetched = downloads.block_on(debclosure::archive::fetch_indices(
            &downloads.fetcher,
            &downloads.cache()?,
            &archives,
            &options,
            &downloads.progress,
        ))?;
        return Ok(Loaded { sources: fetched.sources, releases: fetched.releases, indices: fetched.indices });
    }
    Ok(Loaded { sources: load_files(args)?, releases: Vec::new(), indices: Vec::new() })
}

/// The suite a path names, from its `dists/SUITE/` component.
fn suite_of(path: &Path) -> Option<String> {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let at = parts.iter().position(|c| c == "dists")?;
    parts.get(at + 1).filter(|_| at + 2 < parts.len()).cloned()
}

/// The keys of each of `archives`, or none with `--insecure-no-verify`
/// (which warns). An archive without keys of its own is verified with
/// `distribution`'s archive keyring alone.
fn trust(o: &OnlineArgs, archives: &[ArchiveSource], locator: &Locator, distribution: Distribution) -> Result<Option<Trust>> {
    if o.insecure_no_verify {
        eprintln!("warning: --insecure-no-verify: Release signatures are NOT checked; anyone between you and the mirror can change what gets installed");
        return Ok(None);
    }
    let default = distribution.archive_keyring();
    let mut anchors = Vec::new();
    for archive in archives.iter().map(ArchiveSource::archive) {
        if !anchors.iter().any(|(a, _)| *a == archive) {
            let anchor = locator.trust_anchor(&archive, &default)?;
            anchors.push((archive, anchor));
        }
    }
    Ok(Some(Trust::load(&anchors, &locator.trusted_keyrings())?))
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
                        content: text.into(),
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

/// The bound on a decompressed index, in bytes: `DEBCLOSURE_MAX_INDEX_SIZE`,
/// else the library's default. Checked while decompressing, so a small file
/// that expands to gigabytes stops there.
pub fn max_index_size() -> Result<u64> {
    const NAME: &str = "DEBCLOSURE_MAX_INDEX_SIZE";
    let Some(value) = std::env::var(NAME).ok().filter(|v| !v.trim().is_empty()) else { return Ok(DEFAULT_LIMIT) };
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("environment variable {NAME}={value:?}: expected a size in bytes"))
}

/// The cache mode the flags ask for.
pub fn cache_mode(o: &OnlineArgs) -> CacheMode {
    if o.offline {
        CacheMode::Offline
    } else if o.refresh {
        CacheMode::Refresh
    } else {
        CacheMode::Use
    }
}

/// What downloads need: the HTTP client, a runtime, progress, and where the
/// cache is.
pub struct Downloads {
    pub fetcher: Fetcher,
    pub progress: Progress,
    cache_dir: Option<PathBuf>,
    runtime: tokio::runtime::Runtime,
}

impl Downloads {
    pub fn new(o: &OnlineArgs) -> Result<Downloads> {
        // The work is I/O and hashing: two workers suffice.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the download runtime")?;
        Ok(Downloads {
            fetcher: Fetcher::new(FetchOptions::from_env()?),
            progress: Progress::new(o.quiet),
            cache_dir: o.cache_dir.clone(),
            runtime,
        })
    }

    /// The cache: `--cache-dir`, else the default one.
    pub fn cache(&self) -> Result<Cache> {
        let dir = match &self.cache_dir {
            Some(d) => d.clone(),
            None => Cache::default_dir().context("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir")?,
        };
        Ok(Cache::open(&dir)?)
    }

    /// The cache if there is one to use: `--cache-dir` (which must open),
    /// else the default one when it opens.
    pub fn optional_cache(&self) -> Result<Option<Cache>> {
        match (&self.cache_dir, Cache::default_dir()) {
            (Some(dir), _) => Ok(Some(Cache::open(dir)?)),
            (None, Ok(dir)) => Ok(Cache::open(dir).ok()),
            (None, Err(_)) => Ok(None),
        }
    }

    /// How to fetch the indices of `request` from `archives`: each
    /// archive's keys (see [`Locator::trust_anchor`]), the cache mode, the
    /// clock.
    pub fn archive_options(&self, o: &OnlineArgs, request: &Request, archives: &[ArchiveSource], locator: &Locator) -> Result<ArchiveOptions> {
        let trust = trust(o, archives, locator, request.distribution)?;
        self.options(o, &request.architecture, trust)
    }

    fn options(&self, o: &OnlineArgs, architecture: &str, trust: Option<Trust>) -> Result<ArchiveOptions> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        Ok(ArchiveOptions { architecture: architecture.to_owned(), trust, mode: cache_mode(o), now, max_index_size: max_index_size()? })
    }

    /// Runs `future` to completion, then clears the progress bar.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let out = self.runtime.block_on(future);
        self.progress.finish();
        out
    }
}
