//! `debclosure resolve` and `debclosure stats`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use debclosure::decompress::{self, DEFAULT_LIMIT};
use debclosure::index::{Index, IndexSource};
use debclosure::nix::{render_fetchurl_groups, UrlStyle};
use debclosure::output::{render_json, render_text};
use debclosure::resolve::{resolve_closure, Base, Preferences, RequestedPackage, ResolveOptions};

use super::args::{BaseArg, Format, IndexArgs, ResolveArgs};
use super::{write_output, ExitStatus};

/// The suite a path names, from its `dists/SUITE/` component.
fn suite_of(path: &Path) -> Option<String> {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let at = parts.iter().position(|c| c == "dists")?;
    parts.get(at + 1).filter(|_| at + 2 < parts.len()).cloned()
}

/// Reads and decompresses every index file, in parallel.
fn load_sources(args: &IndexArgs) -> Result<Vec<IndexSource>> {
    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for f in &args.not_automatic {
        files.push((f.clone(), false));
    }
    for f in &args.packages_files {
        if !files.iter().any(|(p, _)| p == f) {
            files.push((f.clone(), true));
        }
    }
    if files.is_empty() {
        bail!("no index given: pass --packages-file FILE (a Packages, Packages.xz or Packages.gz file)");
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .map(|(path, automatic)| {
                s.spawn(move || -> Result<IndexSource> {
                    let text = decompress::read_text(path, DEFAULT_LIMIT)?;
                    Ok(IndexSource {
                        label: path.display().to_string(),
                        suite: suite_of(path),
                        automatic: *automatic,
                        text,
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("index loading does not panic"))
            .collect()
    })
}

/// The host's dpkg architecture, or a guess from the build target.
fn host_architecture() -> String {
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
        "riscv64" => "riscv64",
        "s390x" => "s390x",
        other => other,
    }
    .to_owned()
}

fn architecture(args: &IndexArgs) -> String {
    args.arch.clone().unwrap_or_else(host_architecture)
}

fn options(args: &ResolveArgs) -> Result<ResolveOptions> {
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
        base: match args.base {
            BaseArg::None => Base::None,
            BaseArg::Essential => Base::Essential,
            BaseArg::Required => Base::Required,
        },
    })
}

/// The request: packages from each `--request-file`, then the arguments.
fn request(args: &ResolveArgs) -> Result<Vec<String>> {
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

pub fn run(args: ResolveArgs) -> Result<ExitStatus> {
    let names = request(&args)?;
    let request = names
        .iter()
        .map(|p| RequestedPackage::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let options = options(&args)?;
    let arch = architecture(&args.index);
    let sources = load_sources(&args.index)?;
    let index = Index::build(&sources, &arch)?;
    let closure = resolve_closure(&index, &request, &options)?;
    let text = match args.format {
        Format::Text => render_text(&closure),
        Format::Json => render_json(&closure),
        Format::Nix => {
            let prefixes = if args.url_prefixes.is_empty() {
                vec!["mirror://debian".to_owned()]
            } else {
                args.url_prefixes.clone()
            };
            let header = [
                "Generated by debclosure; do not edit.".to_owned(),
                format!("Closure for {arch} of: {}", names.join(" ")),
            ];
            render_fetchurl_groups(&closure.packages, &prefixes, UrlStyle::Single, &header)?
        }
    };
    write_output(args.output.as_deref(), &text)?;
    Ok(ExitStatus::Success)
}

pub fn stats(args: IndexArgs) -> Result<ExitStatus> {
    let arch = architecture(&args);
    let sources = load_sources(&args)?;
    let index = Index::build(&sources, &arch)?;
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    println!("{} packages for {arch} from {} files ({bytes} bytes)", index.len(), sources.len());
    Ok(ExitStatus::Success)
}
