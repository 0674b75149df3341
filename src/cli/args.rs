//! Argument definitions (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Deterministic dependency closures of Debian and Ubuntu package lists.
#[derive(Debug, Parser)]
#[command(name = "debclosure", version, about)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the closure of PACKAGE... from Packages indices.
    Resolve(ResolveArgs),
    /// Resolve a spec (or flags) and write the pinned closure to a lock file.
    Lock(LockArgs),
    /// Re-resolve a lock's request against the current archives and rewrite it.
    Update(UpdateArgs),
    /// Check that a lock is current: exit 0 if so, 1 with a diff if not.
    Check(CheckArgs),
    /// Compare two locks: exit 1 when they differ.
    Diff(DiffArgs),
    /// Explain why a package is in a lock.
    Why(WhyArgs),
    /// Write the Nix expression (fetchurl groups) for a lock.
    Nix(NixArgs),
    /// Download the .deb files of a closure into a directory, verifying each SHA256.
    FetchDebs(FetchDebsArgs),
    /// Parse and index Packages files and print counts (for benchmarks and checks).
    Stats(IndexArgs),
    /// Build a root filesystem from a lock with dpkg in a chroot (needs root).
    Rootfs(RootfsArgs),
    /// Build a bootable, byte-reproducible disk image from a lock (needs root).
    Image(ImageArgs),
    /// Boot a disk image under QEMU and wait for a marker on its console.
    BootTest(BootTestArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The lock. It must hold a kernel (linux-image-*) and an init
    /// (systemd-sysv, sysvinit-core or runit-init).
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// The image to write (atomically). IMAGE.manifest is written beside it.
    #[arg(short, long, value_name = "IMAGE")]
    pub output: PathBuf,
    /// The disk's size: MiB, or a number with M or G (default: the tree's
    /// size and a quarter, and 256 MiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_mib)]
    pub size: Option<u64>,
    /// raw or qcow2 (default: qcow2 when IMAGE ends in .qcow2, else raw).
    #[arg(long, value_enum)]
    pub format: Option<ImageFormatArg>,
    /// Take the .deb files from the local paths listed in FILE (one per
    /// line), matched by SHA256, instead of downloading them.
    #[arg(long, value_name = "FILE")]
    pub debs_from: Option<PathBuf>,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImageFormatArg {
    Raw,
    Qcow2,
}

/// `1536`, `1536M` or `2G` as MiB.
fn parse_size_mib(text: &str) -> Result<u64, String> {
    let (digits, factor) = match text.strip_suffix(['G', 'g']) {
        Some(d) => (d, 1024),
        None => (text.strip_suffix(['M', 'm']).unwrap_or(text), 1),
    };
    match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(factor)) {
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a size (MiB, or a number with M or G)")),
    }
}

#[derive(Debug, clap::Args)]
pub struct BootTestArgs {
    /// The image (raw or qcow2), as `debclosure image` writes it.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Fail when QEMU has not exited after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout: u64,
    /// The text the console must show.
    #[arg(long, value_name = "TEXT", default_value = debclosure::boot::DEFAULT_MARKER)]
    pub expect: String,
    /// A shell command the booted system runs; the marker is printed only
    /// when it succeeds.
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,
    /// The accelerator: auto uses KVM when a KVM guest starts, else TCG.
    #[arg(long, value_enum, default_value_t = AccelArg::Auto)]
    pub accel: AccelArg,
    /// With --accel auto: seconds a KVM guest may stay silent before the
    /// boot is retried with TCG.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub kvm_probe: u64,
    /// The guest's memory in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 1024)]
    pub memory: u32,
    /// Where the serial console goes (default: IMAGE.console.log).
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// An accelerator for QEMU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccelArg {
    Auto,
    Kvm,
    Tcg,
}

#[derive(Debug, clap::Args)]
pub struct FetchDebsArgs {
    /// A lock file, or the output of `resolve --format json`.
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// Directory to put the files in (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// Where the indices come from.
#[derive(Debug, clap::Args)]
pub struct IndexArgs {
    /// A Packages file (plain, .xz, .gz or .bz2); repeatable. A path under
    /// `dists/SUITE/` names its suite for `NAME/SUITE` requests.
    #[arg(long = "packages-file", value_name = "FILE")]
    pub packages_files: Vec<PathBuf>,
    /// A Packages file of a NotAutomatic suite (e.g. backports): used only for
    /// packages requested from it by NAME/SUITE or NAME=VERSION; repeatable.
    #[arg(long = "not-automatic", value_name = "FILE")]
    pub not_automatic: Vec<PathBuf>,
    /// Target architecture [default: with --packages-file, the one the
    /// files' Architecture fields name besides `all` (an error if several or
    /// none); else the host's dpkg architecture].
    #[arg(long)]
    pub arch: Option<String>,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// Where to download indices from, when no --packages-file is given. With
/// neither --source nor --suite, the machine's apt sources are read.
#[derive(Debug, Clone, clap::Args)]
pub struct OnlineArgs {
    /// Base URL of the distribution's main archive: read with --suite and
    /// --component, and downloaded from instead of a spec's or lock's mirror
    /// for it [default: $DEBCLOSURE_MIRROR, else the machine's apt sources].
    #[arg(long, value_name = "URL")]
    pub mirror: Option<String>,
    /// A suite of --mirror (bookworm, bookworm-updates); repeatable.
    #[arg(long = "suite", value_name = "NAME")]
    pub suites: Vec<String>,
    /// A component (main, universe); repeatable [default: main].
    #[arg(long = "component", value_name = "NAME")]
    pub components: Vec<String>,
    /// "[signed-by=KEYRING] URL SUITE COMPONENT..." for one more archive
    /// (e.g. a security archive), as a sources.list line without `deb`; for
    /// a spec or lock, where to download the archive the URL names; its
    /// signed-by (keyring paths and fingerprints) is that archive's keys;
    /// repeatable.
    #[arg(long = "source", value_name = "\"URL SUITE COMPONENT...\"")]
    pub sources: Vec<String>,
    /// An OpenPGP keyring to verify the Release files of every archive of
    /// this run with, except a --source's own signed-by; repeatable
    /// [default, per archive: the spec's keyring for it, the Signed-By of
    /// the machine's apt source for it, else the distribution's archive
    /// keyring].
    #[arg(long = "keyring", value_name = "FILE")]
    pub keyrings: Vec<PathBuf>,
    /// Skip signature checks. Hashes are still checked, but nothing proves
    /// the Release files came from the archive.
    #[arg(long)]
    pub insecure_no_verify: bool,
    /// Cache directory [default: $XDG_CACHE_HOME/debclosure].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Make no network request; fail naming the first file not in the cache.
    #[arg(long, conflicts_with = "refresh")]
    pub offline: bool,
    /// Download Release files again even when the cache has them.
    #[arg(long)]
    pub refresh: bool,
    /// Read the archives as they were at TIMESTAMP (e.g. 20250520T000000Z)
    /// from a snapshot archive (see --snapshot-base).
    #[arg(long, value_name = "TIMESTAMP")]
    pub snapshot: Option<String>,
    /// Base URL of a snapshot archive; files are read from
    /// BASE/archive/ARCHIVE/TIMESTAMP/ [default: $DEBCLOSURE_SNAPSHOT_BASE].
    #[arg(long, value_name = "URL")]
    pub snapshot_base: Option<String>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per package, then one per choice.
    Text,
    /// The closure as JSON.
    Json,
    /// A deb-closure.pl-compatible Nix expression.
    Nix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BaseArg {
    /// Only the request.
    None,
    /// Add every Essential: yes package.
    Essential,
    /// Add every Essential: yes and Priority: required package.
    Required,
}

/// What to resolve: packages and the options that steer the choices.
#[derive(Debug, Clone, clap::Args)]
pub struct RequestArgs {
    /// Packages to install: NAME, NAME=VERSION or NAME/SUITE.
    #[arg(value_name = "PACKAGE")]
    pub packages: Vec<String>,
    /// Read more packages from FILE: one per line, `#` starts a comment;
    /// repeatable.
    #[arg(long = "request-file", value_name = "FILE")]
    pub request_files: Vec<PathBuf>,
    /// Take PACKAGE for a virtual NAME or a group "a | b"; repeatable,
    /// overrides --preferences and the built-in table (awk=mawk).
    #[arg(long = "prefer", value_name = "NAME=PACKAGE")]
    pub prefer: Vec<String>,
    /// A TOML file of preferences: `awk = "mawk"`, `"a | b" = "b"`.
    #[arg(long, value_name = "FILE")]
    pub preferences: Option<PathBuf>,
    /// Never add PACKAGE; a dependency only it meets is assumed present;
    /// repeatable.
    #[arg(long, value_name = "PACKAGE")]
    pub exclude: Vec<String>,
    /// Follow Recommends too.
    #[arg(long)]
    pub with_recommends: bool,
    /// Fail instead of picking a provider by Priority or name.
    #[arg(long)]
    pub strict: bool,
    /// Packages added besides the request [default: none].
    #[arg(long, value_enum)]
    pub base: Option<BaseArg>,
}

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    #[command(flatten)]
    pub index: IndexArgs,
    #[command(flatten)]
    pub request: RequestArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// URL prefix for the Nix output; repeatable, the first is used
    /// [default: mirror://debian].
    #[arg(long = "url-prefix", value_name = "URL")]
    pub url_prefixes: Vec<String>,
    /// Write the output to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DistributionArg {
    /// Debian (mirror://debian).
    Debian,
    /// Ubuntu (mirror://ubuntu).
    Ubuntu,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "With a spec, the spec is the request, and `check` compares the lock with it: \
PACKAGE, --request-file, --prefer, --preferences, --exclude, --with-recommends, --strict, --base, \
--distribution, --suite, --component, --source, --snapshot and --url-prefix are errors (exit 2). \
--arch fills in a spec that names no architecture and must agree with one that does. \
--mirror (for the main archive), --snapshot-base and --keyring replace the spec's for this run; \
they are not written to the lock.")]
pub struct LockArgs {
    /// The spec file [default: debclosure.toml, when it exists and no
    /// PACKAGE or --request-file is given]. Without one, the request comes
    /// from the flags and PACKAGE arguments.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Where to write the lock [default: debclosure.lock beside the spec].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Distribution, without a spec [default: ubuntu when an archive is named
    /// ubuntu or ubuntu-ports, else debian].
    #[arg(long, value_enum)]
    pub distribution: Option<DistributionArg>,
    /// Target architecture: without a spec, or for a spec that names none
    /// [default: the host's].
    #[arg(long)]
    pub arch: Option<String>,
    /// URL prefix of every archive for the generated Nix, without a spec;
    /// repeatable, tried in order [default: mirror://debian (or
    /// mirror://ubuntu) for the main archive, then the snapshot archive].
    #[arg(long = "url-prefix", value_name = "URL")]
    pub url_prefixes: Vec<String>,
    #[command(flatten)]
    pub online: OnlineArgs,
    #[command(flatten)]
    pub request: RequestArgs,
}

impl LockArgs {
    /// The flags that make a request without a spec, each with whether it
    /// is given.
    pub fn request_flags(&self) -> [(&'static str, bool); 14] {
        let (r, o) = (&self.request, &self.online);
        [
            ("PACKAGE", !r.packages.is_empty()),
            ("--request-file", !r.request_files.is_empty()),
            ("--prefer", !r.prefer.is_empty()),
            ("--preferences", r.preferences.is_some()),
            ("--exclude", !r.exclude.is_empty()),
            ("--with-recommends", r.with_recommends),
            ("--strict", r.strict),
            ("--base", r.base.is_some()),
            ("--distribution", self.distribution.is_some()),
            ("--suite", !o.suites.is_empty()),
            ("--component", !o.components.is_empty()),
            ("--source", !o.sources.is_empty()),
            ("--snapshot", o.snapshot.is_some()),
            ("--url-prefix", !self.url_prefixes.is_empty()),
        ]
    }
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The lock.
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// Print what would change and exit 1 if anything would; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub changes: ChangesArgs,
    #[command(flatten)]
    pub online: OnlineArgs,
}

/// How `check`, `diff` and `update` print the changes.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// Output format of the changes (json: see README, "Pinned closures").
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// List packages now pulled in by another package (otherwise only
    /// counted, unless nothing else changed).
    #[arg(long)]
    pub reasons: bool,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The lock.
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// A spec to compare the lock's request with [default: debclosure.toml
    /// beside the lock, when it exists].
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A directory holding the pinned indices, each named by its SHA256.
    #[arg(long, value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
    /// A pinned index file (as downloaded, or decompressed); repeatable.
    #[arg(long = "packages-file", value_name = "FILE")]
    pub packages_files: Vec<PathBuf>,
    #[command(flatten)]
    pub changes: ChangesArgs,
    #[command(flatten)]
    pub online: OnlineArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Lines for people.
    Text,
    /// JSON.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old lock.
    pub old: PathBuf,
    /// The new lock.
    pub new: PathBuf,
    #[command(flatten)]
    pub changes: ChangesArgs,
}

#[derive(Debug, clap::Args)]
pub struct WhyArgs {
    /// The package to explain.
    pub package: String,
    /// The lock.
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// The cache whose copies of the pinned indices say more about a name
    /// not in the closure (read only; nothing is downloaded) [default: the
    /// user's cache].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, clap::Args)]
pub struct NixArgs {
    /// The lock.
    #[arg(long, value_name = "FILE", default_value = "debclosure.lock")]
    pub lock: PathBuf,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

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
