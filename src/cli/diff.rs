//! `debclosure diff`: compare two locks; exit 1 when they differ. Also the
//! printer of changes that `check` and `update` share.

use anyhow::Result;

use debclosure::changes::{render_changes, render_changes_json, Colour, Reasons, RenderOptions};
use debclosure::diff::LockDiff;
use debclosure::lock::diff_locks;

use super::args::{ChangesArgs, DiffArgs, ReportFormat};
use super::load::read_lock;
use super::{write_output, ExitStatus};

pub fn run(args: DiffArgs) -> Result<ExitStatus> {
    let (old, new) = (read_lock(&args.old)?, read_lock(&args.new)?);
    let diff = diff_locks(&old, &new);
    print_changes(&diff, &args.changes)?;
    Ok(if diff.is_empty() { ExitStatus::Success } else { ExitStatus::Different })
}

/// Prints `diff` on stdout as `args` ask: JSON always (even when empty, so
/// that a bot always has a document), text only when something differs, in
/// colour only on a terminal without `NO_COLOR` (anstream's rules, which
/// also honour `CLICOLOR` and `CLICOLOR_FORCE`).
pub fn print_changes(diff: &LockDiff, args: &ChangesArgs) -> Result<()> {
    let text = match args.format {
        ReportFormat::Json => render_changes_json(diff),
        ReportFormat::Text => {
            let colour = match anstream::AutoStream::choice(&std::io::stdout()) {
                anstream::ColorChoice::Never => Colour::Never,
                _ => Colour::Always,
            };
            let reasons = if args.reasons { Reasons::Shown } else { Reasons::WhenAlone };
            render_changes(diff, &RenderOptions { colour, reasons })
        }
    };
    write_output(None, &text)
}
