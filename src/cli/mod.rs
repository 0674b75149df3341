//! The command line: argument definitions, one function per subcommand, and
//! the one place where errors become messages and exit codes.

mod args;
mod boot_test;
mod check;
mod diff;
mod fetch_debs;
mod image;
mod load;
mod lock;
mod nix;
mod progress;
mod resolve;
mod rootfs;
mod update;
mod why;

use std::io::Write;
use std::path::Path;

use clap::Parser;

use args::{Args, Command};

/// Exit codes, as `diff` and `grep` use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Success.
    Success = 0,
    /// A comparison found a difference.
    Different = 1,
    /// Any error.
    Error = 2,
}

/// Runs the command line and returns the process exit code.
pub fn run() -> i32 {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitStatus::Error as i32 } else { 0 };
        }
    };
    let result = match args.command {
        Command::Resolve(a) => resolve::run(a),
        Command::FetchDebs(a) => fetch_debs::run(a),
        Command::Lock(a) => lock::run(a),
        Command::Update(a) => update::run(a),
        Command::Check(a) => check::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Why(a) => why::run(a),
        Command::Nix(a) => nix::run(a),
        Command::Stats(a) => resolve::stats(a),
        Command::Rootfs(a) => rootfs::run(a),
        Command::Image(a) => image::run(a),
        Command::BootTest(a) => boot_test::run(a),
    };
    match result {
        Ok(status) => status as i32,
        Err(e) => {
            report(&e);
            ExitStatus::Error as i32
        }
    }
}

/// Prints an error with its causes and any hint on stderr.
fn report(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "error: {e}");
    for cause in e.chain().skip(1) {
        let _ = writeln!(err, "  caused by: {cause}");
    }
    if let Some(hint) = hint(e) {
        let _ = writeln!(err, "hint: {hint}");
    }
}

/// A flag that the command does not take in this form: exit 2, with a hint.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Usage {
    pub message: String,
    pub hint: String,
}

impl Usage {
    fn hint(&self) -> Option<String> {
        Some(self.hint.clone())
    }
}

/// The first hint any error of the chain gives. Every error type has a
/// `hint() -> Option<String>`; those that can be in a chain are listed here.
fn hint(e: &anyhow::Error) -> Option<String> {
    use debclosure::{
        archive, atomic, boot, deb822, debs, decompress, fetch, hash, image, index, lock, name, nix, relation, release,
        resolve, rootfs, signature, sources, spec, url, version,
    };
    macro_rules! first_hint {
        ($cause:ident: $($error:ty),* $(,)?) => {
            $(if let Some(e) = $cause.downcast_ref::<$error>() {
                return e.hint();
            })*
        };
    }
    e.chain().find_map(|cause| {
        first_hint!(cause:
            Usage, image::ImageError, boot::BootError, lock::LockingError, lock::LockError, lock::PinnedError,
            sources::LocateError, sources::SourcesError, debs::DebsError, archive::ArchiveError, resolve::ResolveError,
            resolve::PolicyError, signature::VerifyError, spec::SpecRequestError, release::ReleaseError, fetch::FetchError,
            fetch::CachedFetchError, fetch::CacheError, fetch::EnvError, rootfs::RootfsError, spec::SpecError,
            index::ArchitectureError, index::IndexError, nix::NixError, decompress::DecompressError,
            atomic::AtomicWriteError, deb822::Deb822Error, relation::RelationError, version::VersionError,
            hash::ParseSha256Error, name::NameError, url::UrlError,
        );
        None
    })
}

/// Writes `text` to `path` atomically (a temporary file in the same
/// directory, renamed into place), or to stdout when `path` is `None`.
fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).context("cannot write to standard output")?;
            out.flush().context("cannot write to standard output")
        }
        Some(path) => {
            use debclosure::atomic::{write_atomically, Durability, Mode};
            // The mode of the file it replaces, or the usual 0644.
            Ok(write_atomically(path, text.as_bytes(), Mode::KeepOr(0o644), Durability::Synced)?)
        }
    }
}
