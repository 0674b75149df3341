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

/// The first hint any error of the chain gives.
fn hint(e: &anyhow::Error) -> Option<String> {
    use debclosure::{archive, debs, fetch, index, lock, release, resolve, rootfs, signature, sources, spec};
    e.chain().find_map(|cause| {
        // Each error type with advice, and how to get it.
        macro_rules! first_hint {
            ($($error:ty => $hint:expr),* $(,)?) => {
                $(if let Some(e) = cause.downcast_ref::<$error>() {
                    let hint: fn(&$error) -> Option<String> = $hint;
                    return hint(e);
                })*
            };
        }
        first_hint! {
            Usage => |u| Some(u.hint.clone()),
            debclosure::image::ImageError => debclosure::image::ImageError::hint,
            debclosure::boot::BootError => debclosure::boot::BootError::hint,
            lock::LockingError => lock::LockingError::hint,
            sources::LocateError => sources::LocateError::hint,
            lock::PinnedError => lock::PinnedError::hint,
            debs::DebsError => debs::DebsError::hint,
            archive::ArchiveError => archive::ArchiveError::hint,
            resolve::ResolveError => resolve::ResolveError::hint,
            signature::VerifyError => signature::VerifyError::hint,
            release::ReleaseError => release::ReleaseError::hint,
            fetch::FetchError => |f| f.hint().map(str::to_owned),
            rootfs::RootfsError => rootfs::RootfsError::hint,
            lock::LockError => |l| Some(l.hint()),
            spec::SpecError => |_| Some("fix the spec; its keys are documented in the README (Pinned closures)".into()),
            index::ArchitectureError => |a| Some(a.hint()),
            index::IndexError => |_| Some(lock::INDEX_HINT.into()),
        }
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
