//! The lock commands: `lock`, `update`, `check`, `diff`, `why` and `nix`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use debclosure::archive::IndexRecord;
use debclosure::decompress;
use debclosure::diff::{diff_closures, diff_requests, LockDiff};
use debclosure::fetch::{redact_url, sha256_hex, Bucket, Cache, FetchError, FetchOptions, Fetcher};
use debclosure::index::{Index, IndexSource};
use debclosure::lock::{Distribution, LockFile, LockedSource, Request};
use debclosure::nix::{render_fetchurl_groups, NixError, UrlStyle};
use debclosure::output::render_json;
use debclosure::resolve::{resolve_closure, Why};
use debclosure::sources::{self, ArchiveSource};
use debclosure::spec::{canonical_snapshot_base, default_url_prefixes, Spec};

use super::args::{CheckArgs, DiffArgs, DistributionArg, LockArgs, NixArgs, OnlineArgs, ReportFormat, UpdateArgs, WhyArgs};
use super::load::{archives, env, fetch, max_index_size, runtime, snapshot_base, snapshot_uri};
use super::progress::Progress;
use super::{write_output, ExitStatus};

pub(super) fn read_lock(path: &Path) -> Result<LockFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the lock {}; write one with `debclosure lock`", path.display()))?;
    LockFile::parse(&text).with_context(|| format!("{} is not a valid lock", path.display()))
}

fn read_spec(path: &Path) -> Result<Spec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the spec {}", path.display()))?;
    Ok(Spec::parse(&text, &path.display().to_string())?)
}

/// `debclosure.toml` beside `path` (a lock), if it exists.
fn spec_beside(lock: &Path) -> Option<PathBuf> {
    let spec = lock.parent().unwrap_or(Path::new("")).join("debclosure.toml");
    spec.is_file().then_some(spec)
}

fn spec_snapshot_base(spec: Option<&Spec>) -> Option<&str> {
    spec.and_then(|s| s.snapshot_base.as_deref())
}

/// Where to download each archive of `request` from: the spec's or the
/// flags' mirror for it, `$DEBCLOSURE_MIRROR` for the main archive, or the
/// machine's apt source of that archive; the snapshot archive when the
/// request has a snapshot (`--snapshot-base`, the spec's, the environment's,
/// then the one the lock recorded: the spec and environment may hold
/// credentials, which the lock does not).
fn locate(request: &Request, known: &BTreeMap<String, String>, online: &OnlineArgs, spec: Option<&Spec>) -> Result<Vec<ArchiveSource>> {
    let system = sources::system_sources(Path::new("/")).unwrap_or_default();
    let mut out = Vec::new();
    for s in &request.sources {
        let uri = if let Some(ts) = &request.snapshot {
            let base = snapshot_base(&[online.snapshot_base.as_deref(), spec_snapshot_base(spec)])
                .or_else(|| request.snapshot_base.clone())
                .context("the request has a snapshot: pass --snapshot-base URL or set DEBCLOSURE_SNAPSHOT_BASE")?;
            snapshot_uri(&base, &s.archive, ts)
        } else if let Some(uri) = known.get(&s.archive) {
            uri.clone()
        } else if let Some(uri) = env("DEBCLOSURE_MIRROR").filter(|_| s.archive == request.distribution.main_archive()) {
            uri.trim_end_matches('/').to_owned()
        } else if let Some(a) = system.iter().find(|a| a.archive() == s.archive) {
            a.uri.clone()
        } else {
            bail!(
                "no mirror for archive {}: add `mirror = \"URL\"` to its [[source]] in the spec, pass --source, or set DEBCLOSURE_MIRROR",
                s.archive
            );
        };
        // Named as the request names it, whatever the URL ends in (a
        // snapshot's timestamp, a mirror's own path).
        out.push(ArchiveSource {
            uri,
            suites: s.suites.clone(),
            components: s.components.clone(),
            signed_by: None,
            name: Some(s.archive.clone()),
        });
    }
    Ok(out)
}

/// The base URL of each archive of a lock's request, by archive name, found
/// as `locate` finds them: `--source`, `--mirror` (for the main archive) or
/// the spec beside the lock, then `$DEBCLOSURE_MIRROR`, then the machine's
/// apt sources; the snapshot archive when the request has a snapshot.
pub(super) fn archive_uris(lock: &LockFile, lock_path: &Path, online: &OnlineArgs) -> Result<BTreeMap<String, String>> {
    let spec = spec_beside(lock_path).map(|p| read_spec(&p)).transpose()?;
    let mut known = spec.as_ref().map(Spec::mirrors).unwrap_or_default();
    if let Some(mirror) = &online.mirror {
        known.insert(lock.request.distribution.main_archive().to_owned(), mirror.trim_end_matches('/').to_owned());
    }
    for s in &online.sources {
        let source = sources::parse_source_arg(s)?;
        known.insert(source.archive(), source.uri);
    }
    let located = locate(&lock.request, &known, online, spec.as_ref())?;
    Ok(lock.request.sources.iter().zip(located).map(|(s, a)| (s.archive.clone(), a.uri)).collect())
}

/// Downloads (or takes from the cache) the request's indices and resolves it.
fn compute(request: &Request, located: &[ArchiveSource], online: &OnlineArgs) -> Result<LockFile> {
    let fetched = fetch(located, &request.architecture, online)?;
    let index = Index::build(&fetched.sources, &request.architecture)?;
    let closure = resolve_closure(&index, &request.requested()?, &request.options())?;
    let lock = LockFile {
        version: request.format_version(),
        request: request.clone(),
        request_sha256: request.digest(),
        releases: fetched.releases,
        indices: fetched.indices,
        packages: closure.packages,
        choices: closure.choices,
        assumed: closure.assumed,
    };
    // Never write a lock that reading it back would refuse.
    lock.validate().context("the new lock would not be valid")?;
    Ok(lock)
}

pub fn lock(args: LockArgs) -> Result<ExitStatus> {
    let spec_path = args.spec.clone().or_else(|| {
        let default = PathBuf::from("debclosure.toml");
        (default.is_file() && args.request.packages.is_empty() && args.request.request_files.is_empty()).then_some(default)
    });
    let host = args.arch.clone().unwrap_or_else(super::load::host_architecture);
    let (request, known, spec, output) = match &spec_path {
        Some(path) => {
            let spec = read_spec(path)?;
            // The spec's own snapshot-base comes first; the lock records
            // whichever is used, so that `check` needs no environment.
            let base = snapshot_base(&[args.online.snapshot_base.as_deref()]);
            let request = spec.request(&host, base.as_deref())?;
            let known = spec.mirrors();
            let output = args.output.clone().unwrap_or_else(|| path.with_file_name("debclosure.lock"));
            (request, known, Some(spec), output)
        }
        None => {
            let mut online = args.online.clone();
            let snapshot = online.snapshot.take();
            let located = archives(&online)?;
            let names = super::resolve::request(&args.request)?;
            let options = super::resolve::options(&args.request)?;
            let sources: Vec<LockedSource> = located
                .iter()
                .map(|a| LockedSource { archive: a.archive(), suites: a.suites.clone(), components: a.components.clone() })
                .collect();
            let distribution = match args.distribution {
                Some(DistributionArg::Ubuntu) => Distribution::Ubuntu,
                Some(DistributionArg::Debian) => Distribution::Debian,
                None if sources.iter().any(|s| s.archive == "ubuntu" || s.archive == "ubuntu-ports") => Distribution::Ubuntu,
                None => Distribution::Debian,
            };
            let base = snapshot_base(&[args.online.snapshot_base.as_deref()]);
            let request = Request {
                distribution,
                architecture: host.clone(),
                url_prefixes: default_url_prefixes(distribution, &sources, snapshot.as_deref(), base.as_deref()),
                sources,
                snapshot_base: snapshot.as_ref().and(base.as_deref()).map(canonical_snapshot_base),
                snapshot,
                packages: names,
                preferences: options.preferences,
                exclude: options.exclude.into_iter().collect(),
                recommends: options.with_recommends,
                strict: options.strict,
                base: options.base,
            };
            let known = located.into_iter().map(|a| (a.archive(), a.uri)).collect();
            (request, known, None, args.output.clone().unwrap_or_else(|| PathBuf::from("debclosure.lock")))
        }
    };
    // Without a spec there is no [url-prefixes] to give.
    let no_prefixes = BTreeMap::new();
    request.check_ports(spec.as_ref().map_or(&no_prefixes, |s| &s.url_prefixes))?;
    let mut online = args.online.clone();
    if let Some(spec) = &spec {
        if online.keyrings.is_empty() {
            online.keyrings = spec.keyring.clone();
        }
    }
    let located = locate(&request, &known, &online, spec.as_ref())?;
    let lock = compute(&request, &located, &online)?;
    write_output(Some(&output), &lock.render())?;
    eprintln!("wrote {} ({} packages in {} groups)", output.display(), lock.packages.len(), group_count(&lock));
    Ok(ExitStatus::Success)
}

fn group_count(lock: &LockFile) -> u32 {
    lock.packages.last().map_or(0, |p| p.group + 1)
}

fn diff_locks(old: &LockFile, new: &LockFile) -> LockDiff {
    let (packages, choices) = diff_closures(&old.packages, &new.packages, &old.choices, &new.choices);
    LockDiff { request: diff_requests(&old.request, &new.request), packages, choices }
}

pub fn update(args: UpdateArgs) -> Result<ExitStatus> {
    let old = read_lock(&args.lock)?;
    let spec = spec_beside(&args.lock).map(|p| read_spec(&p)).transpose()?;
    let mut request = old.request.clone();
    if let Some(ts) = &args.online.snapshot {
        request.snapshot = Some(ts.clone());
    }
    if request.snapshot.is_some() && request.snapshot_base.is_none() {
        // A new snapshot, or a lock of format version 1, which did not
        // record its base: record the one in use, as `lock` would.
        let base = snapshot_base(&[spec_snapshot_base(spec.as_ref()), args.online.snapshot_base.as_deref()]);
        request.snapshot_base = base.as_deref().map(canonical_snapshot_base);
    }
    if let (Some(base), Some(old_ts), Some(ts)) = (&request.snapshot_base, &old.request.snapshot, &request.snapshot) {
        for (archive, prefixes) in &mut request.url_prefixes {
            let old_url = snapshot_uri(base, archive, old_ts);
            for p in prefixes.iter_mut().filter(|p| **p == old_url) {
                *p = snapshot_uri(base, archive, ts);
            }
        }
    }
    let known: BTreeMap<String, String> = spec.as_ref().map(Spec::mirrors).unwrap_or_default();
    let mut online = args.online.clone();
    if online.keyrings.is_empty() {
        if let Some(spec) = &spec {
            online.keyrings = spec.keyring.clone();
        }
    }
    let located = locate(&request, &known, &online, spec.as_ref())?;
    let new = compute(&request, &located, &online)?;
    let diff = diff_locks(&old, &new);
    print!("{}", diff.render_text());
    let same_bytes = new.render() == old.render();
    if args.dry_run {
        return Ok(if same_bytes { ExitStatus::Success } else { ExitStatus::Different });
    }
    if !same_bytes {
        write_output(Some(&args.lock), &new.render())?;
        eprintln!("updated {}", args.lock.display());
    } else {
        eprintln!("{} is up to date", args.lock.display());
    }
    Ok(ExitStatus::Success)
}

/// Finds a pinned index: in `--index-dir` (by its SHA256), among
/// `--packages-file`s, in the cache (by content hash), or, unless offline,
/// on the mirror. Everything is checked against the lock's hashes.
struct Pinned<'a> {
    args: &'a CheckArgs,
    cache: Option<Cache>,
    located: Vec<ArchiveSource>,
    /// (sha256 as read, sha256 of the decompressed content, path), lazily.
    files: Vec<(PathBuf, Vec<u8>)>,
    /// The bound on an index, compressed or not.
    limit: u64,
}

/// Reads a local index file, at most `limit` bytes of it.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > limit {
        bail!("{}: more than the limit of {limit} bytes (DEBCLOSURE_MAX_INDEX_SIZE)", path.display());
    }
    Ok(bytes)
}

impl Pinned<'_> {
    fn text(&self, record: &IndexRecord, fetcher: &Fetcher, rt: &tokio::runtime::Runtime) -> Result<String> {
        let label = format!("{}/{}", record.archive, record.path);
        let from_bytes = |bytes: &[u8]| -> Result<Option<String>> {
            let hash = sha256_hex(bytes);
            if hash == record.sha256 {
                let text = decompress::decompress_text(bytes, &label, self.limit)?;
                if sha256_hex(text.as_bytes()) != record.content_sha256 {
                    bail!("{label}: decompressed content does not match the lock's content_sha256");
                }
                return Ok(Some(text));
            }
            if hash == record.content_sha256 {
                if bytes.len() as u64 > self.limit {
                    bail!("{label}: {} bytes, more than the limit of {} (DEBCLOSURE_MAX_INDEX_SIZE)", bytes.len(), self.limit);
                }
                return Ok(Some(String::from_utf8(bytes.to_vec()).with_context(|| format!("{label}: not UTF-8"))?));
            }
            Ok(None)
        };
        if let Some(dir) = &self.args.index_dir {
            let path = dir.join(&record.sha256);
            if path.is_file() {
                let bytes = read_bounded(&path, self.limit)?;
                return from_bytes(&bytes)?
                    .with_context(|| format!("{}: does not have the pinned SHA256 {}", path.display(), record.sha256));
            }
        }
        for (_, bytes) in &self.files {
            if let Some(text) = from_bytes(bytes)? {
                return Ok(text);
            }
        }
        if let Some(cache) = &self.cache {
            if let Some(bytes) = cache.get(Bucket::Packages, &record.content_sha256, &Progress::new(true)) {
                return Ok(decompress::bytes_to_text(bytes, &label, self.limit)?);
            }
        }
        let base = self.located.iter().find(|a| a.archive() == record.archive).map(|a| a.uri.clone());
        let (Some(base), false) = (base, self.args.online.offline) else {
            bail!(
                "pinned index {label} ({}) is not available offline; pass --index-dir or --packages-file, or run without --offline",
                record.sha256
            );
        };
        let dir = record.path.rsplit_once('/').map_or("", |(d, _)| d);
        let by_hash = format!("{base}/{dir}/by-hash/SHA256/{}", record.sha256);
        let canonical = format!("{base}/{}", record.path);
        let progress = Progress::new(self.args.online.quiet);
        let result = rt.block_on(async {
            match fetcher.get_verified(&by_hash, Some(record.size), &record.sha256, &progress).await {
                Err(FetchError::NotFound { .. }) => {
                    fetcher.get_verified(&canonical, Some(record.size), &record.sha256, &progress).await
                }
                other => other,
            }
        });
        progress.finish();
        let bytes = result.with_context(|| format!("cannot fetch the pinned index {label} from {}", redact_url(&base)))?;
        let text = from_bytes(&bytes)?.expect("bytes were verified against the pinned hash");
        if let Some(cache) = &self.cache {
            cache.put(Bucket::Packages, &record.content_sha256, text.as_bytes())?;
        }
        Ok(text)
    }
}

pub fn check(args: CheckArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let spec_path = args.spec.clone().or_else(|| spec_beside(&args.lock));
    let spec = spec_path.as_deref().map(read_spec).transpose()?;
    let mut diff = LockDiff::default();
    if lock.request.digest() != lock.request_sha256 {
        diff.request.push("request_sha256: the request was edited after the lock was written".into());
    }
    if let Some(spec) = &spec {
        // What the spec leaves open, the lock says as it was resolved: a
        // snapshot base from the environment when locking is no difference,
        // and the environment `check` runs in (a build sandbox) does not
        // matter. A spec that names another base is a difference.
        let recorded = lock.request.snapshot_base.as_deref();
        let base = match recorded {
            Some(base) => Some(base.to_owned()),
            // Format version 1 did not record it: as before, the flag or environment.
            None => snapshot_base(&[args.online.snapshot_base.as_deref()]),
        };
        let mut wanted = spec.request(&lock.request.architecture, base.as_deref())?;
        if recorded.is_none() {
            wanted.snapshot_base = None;
        }
        diff.request.extend(diff_requests(&lock.request, &wanted));
    }
    // Pinned files are trusted by their hashes alone: no Release, no clock.
    let known: BTreeMap<String, String> = spec.as_ref().map(Spec::mirrors).unwrap_or_default();
    let located = if args.online.offline { Vec::new() } else { locate(&lock.request, &known, &args.online, spec.as_ref()).unwrap_or_default() };
    let limit = max_index_size()?;
    let files = args
        .packages_files
        .iter()
        .map(|p| Ok((p.clone(), read_bounded(p, limit)?)))
        .collect::<Result<Vec<_>>>()?;
    let cache = match (&args.online.cache_dir, Cache::default_dir()) {
        (Some(dir), _) => Some(Cache::open(dir)?),
        (None, Ok(dir)) => Cache::open(dir).ok(),
        (None, Err(_)) => None,
    };
    let pinned = Pinned { args: &args, cache, located, files, limit };
    let fetcher = Fetcher::new(FetchOptions::from_env()?)?;
    let rt = runtime()?;
    let mut sources = Vec::new();
    for record in &lock.indices {
        sources.push(IndexSource {
            label: format!("{}/{}", record.archive, record.path),
            archive: Some(record.archive.clone()),
            suite: Some(record.suite.clone()),
            automatic: record.automatic,
            text: pinned.text(record, &fetcher, &rt)?,
        });
    }
    let index = Index::build(&sources, &lock.request.architecture)?;
    let closure = resolve_closure(&index, &lock.request.requested()?, &lock.request.options())?;
    let (packages, choices) = diff_closures(&lock.packages, &closure.packages, &lock.choices, &closure.choices);
    diff.packages = packages;
    diff.choices = choices;
    if lock.assumed != closure.assumed {
        diff.request.push("assumed: the packages assumed present differ".into());
    }
    if diff.is_empty() {
        eprintln!("{} is up to date", args.lock.display());
        return Ok(ExitStatus::Success);
    }
    print!("{}", diff.render_text());
    eprintln!("{} is stale: run `debclosure lock` (after a spec change) or `debclosure update`", args.lock.display());
    Ok(ExitStatus::Different)
}

pub fn diff(args: DiffArgs) -> Result<ExitStatus> {
    let (old, new) = (read_lock(&args.old)?, read_lock(&args.new)?);
    let diff = diff_locks(&old, &new);
    match args.format {
        ReportFormat::Text => print!("{}", diff.render_text()),
        ReportFormat::Json => print!("{}", render_json(&diff)),
    }
    Ok(if diff.is_empty() { ExitStatus::Success } else { ExitStatus::Different })
}

#[derive(serde::Serialize)]
struct WhyLink {
    package: String,
    version: String,
    required_by: Option<String>,
    field: Option<String>,
    relation: Option<String>,
    passed_over: Vec<String>,
}

pub fn why(args: WhyArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let by_name: BTreeMap<&str, &debclosure::resolve::ClosurePackage> =
        lock.packages.iter().map(|p| (p.name.as_str(), p)).collect();
    let Some(mut p) = by_name.get(args.package.as_str()).copied() else {
        bail!("{} is not in the closure of {}", args.package, args.lock.display());
    };
    let mut chain = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    loop {
        if !seen.insert(p.name.clone()) {
            break;
        }
        let (required_by, field, relation) = match &p.why {
            Why::Dependency { package, field, relation } => (Some(package.clone()), Some(field.clone()), Some(relation.clone())),
            Why::Requested | Why::Base => (None, None, None),
        };
        let passed_over = lock
            .choices
            .iter()
            .filter(|c| c.chosen == p.name && c.required_by == required_by && relation.as_ref() == Some(&c.relation))
            .flat_map(|c| c.candidates.iter().filter(|n| **n != p.name).cloned())
            .collect();
        chain.push(WhyLink {
            package: p.name.clone(),
            version: p.version.clone(),
            required_by: required_by.clone(),
            field,
            relation,
            passed_over,
        });
        match required_by.as_deref().and_then(|n| by_name.get(n)) {
            Some(next) => p = next,
            None => break,
        }
    }
    let root = by_name[chain.last().expect("the chain starts with the package").package.as_str()];
    let root_why = match root.why {
        Why::Base => "is in the base set",
        _ => "is requested",
    };
    match args.format {
        ReportFormat::Json => print!("{}", render_json(&serde_json::json!({ "chain": chain, "root": root_why }))),
        ReportFormat::Text => {
            for link in &chain {
                match (&link.required_by, &link.field, &link.relation) {
                    (Some(by), Some(field), Some(relation)) => {
                        print!("{} {} <- {by} {field}: {relation}", link.package, link.version);
                        if !link.passed_over.is_empty() {
                            print!(" (passed over: {})", link.passed_over.join(", "));
                        }
                        println!();
                    }
                    _ => println!("{} {} {root_why}", link.package, link.version),
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

pub fn nix(args: NixArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    let main = lock.request.distribution.main_archive();
    let prefixes = |p: &debclosure::resolve::ClosurePackage| {
        let archive = p.archive.as_deref().unwrap_or(main);
        lock.request
            .url_prefixes
            .get(archive)
            .filter(|l| !l.is_empty())
            .cloned()
            .ok_or_else(|| NixError::NoPrefix { archive: archive.to_owned(), package: p.name.clone() })
    };
    let header = [
        "Generated by debclosure from a lock; do not edit.".to_owned(),
        format!("Closure for {} of: {}", lock.request.architecture, lock.request.packages.join(" ")),
    ];
    let text = render_fetchurl_groups(&lock.packages, prefixes, UrlStyle::Mirrors, &header)
        .map_err(anyhow::Error::from)
        .map_err(|e| match e.downcast_ref::<NixError>() {
            Some(NixError::NoPrefix { archive, .. }) => {
                let hint = format!("add `{archive} = [\"URL\"]` under [url-prefixes] in the spec and run `debclosure lock`");
                e.context(hint)
            }
            _ => e,
        })?;
    write_output(args.output.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}

