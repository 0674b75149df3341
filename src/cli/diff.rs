//! `debclosure diff`: compare two locks; exit 1 when they differ.

use anyhow::Result;

use debclosure::lock::diff_locks;
use debclosure::output::render_json;

use super::args::{DiffArgs, ReportFormat};
use super::load::read_lock;
use super::ExitStatus;

pub fn run(args: DiffArgs) -> Result<ExitStatus> {
    let (old, new) = (read_lock(&args.old)?, read_lock(&args.new)?);
    let diff = diff_locks(&old, &new);
    match args.format {
        ReportFormat::Text => print!("{}", diff.render_text()),
        ReportFormat::Json => print!("{}", render_json(&diff)),
    }
    Ok(if diff.is_empty() { ExitStatus::Success } else { ExitStatus::Different })
}
