//! Running a host program to completion, for the steps that shell out
//! (`mke2fs`, `debugfs`, `qemu-img`): its standard output, or a typed
//! failure naming the command line and what the program printed.

use std::process::{Command, Stdio};

/// Why a program did not do its job.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// It could not be started (not installed, not executable).
    #[error("cannot run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// It exited unsuccessfully.
    #[error("{command} failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed, stdout then stderr.
        output: String,
    },
}

/// The command line, for messages.
pub fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program()).chain(cmd.get_args()).map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
}

/// Runs `cmd` with no input; its standard output when it exits 0.
pub fn run(cmd: &mut Command) -> Result<String, CommandError> {
    let command = describe(cmd);
    let out = cmd.stdin(Stdio::null()).output().map_err(|source| CommandError::Spawn { program: command.clone(), source })?;
    if !out.status.success() {
        let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        return Err(CommandError::Failed { command, status: out.status.to_string(), output: output.trim().to_owned() });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_name_the_command_and_what_it_printed() {
        assert_eq!(run(Command::new("sh").args(["-c", "echo out"])).unwrap(), "out\n");
        let err = run(Command::new("sh").args(["-c", "echo oops >&2; exit 3"])).unwrap_err();
        assert_eq!(err.to_string(), "sh -c echo oops >&2; exit 3 failed (exit status: 3): oops");
        let err = run(&mut Command::new("/nonexistent/program")).unwrap_err();
        assert!(matches!(err, CommandError::Spawn { .. }), "{err}");
    }
}
