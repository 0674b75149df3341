//! `debclosure nix`: a lock as the Nix expression vmTools takes.

use anyhow::Result;

use super::args::NixArgs;
use super::load::read_lock;
use super::{write_output, ExitStatus};

pub fn run(args: NixArgs) -> Result<ExitStatus> {
    let lock = read_lock(&args.lock)?;
    write_output(args.output.as_deref(), &lock.render_nix()?)?;
    Ok(ExitStatus::Success)
}
