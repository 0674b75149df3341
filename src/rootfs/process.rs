//! Running the host's programs and the tree's: a short host command to
//! completion, or a child in a process group of its own that is polled for
//! cancellation and ended, group and all, when [`cancel_on_signals`]'s flag
//! (or the caller's) is set.

use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

pub(super) use crate::command::describe;
use super::error::io_error;
use super::host::CHROOT_PATH;
use super::{RootfsError, Tools};

/// How often a running child is checked for exit and for cancellation.
const POLL: Duration = Duration::from_millis(50);

/// How long a cancelled child gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Fails with [`RootfsError::Interrupted`] once `cancel` is set.
pub(super) fn check_cancel(cancel: &AtomicBool) -> Result<(), RootfsError> {
    if cancel.load(Ordering::SeqCst) {
        return Err(RootfsError::Interrupted);
    }
    Ok(())
}

/// How a command ended and what it printed.
pub(super) struct Finished {
    pub(super) status: ExitStatus,
    pub(super) output: String,
}

pub(super) fn output_file() -> Result<File, RootfsError> {
    tempfile::tempfile().map_err(io_error("create a temporary file in", &std::env::temp_dir()))
}

pub(super) fn read_output(mut file: File) -> String {
    let mut bytes = Vec::new();
    let _ = file.rewind().and_then(|()| file.read_to_end(&mut bytes));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs a short host command to completion; fails unless it exits 0.
pub(super) fn run_host(cmd: &mut Command) -> Result<String, RootfsError> {
    let command = describe(cmd);
    let out = cmd
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| RootfsError::Spawn { program: command.clone(), source })?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(RootfsError::Command { command, status: out.status.to_string(), output });
    }
    Ok(output)
}

/// Runs `cmd` in its own process group, stdout and stderr to one file, and
/// waits, polling `cancel`: when it is set, the whole group gets SIGTERM,
/// then SIGKILL after [`GRACE`].
pub(super) fn run_cancellable(cmd: &mut Command, cancel: &AtomicBool) -> Result<Finished, RootfsError> {
    let command = describe(cmd);
    let log = output_file()?;
    let clone = |f: &File| f.try_clone().map_err(|source| RootfsError::Spawn { program: command.clone(), source });
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(clone(&log)?)
        .stderr(clone(&log)?)
        .process_group(0)
        .spawn()
        .map_err(|source| RootfsError::Spawn { program: command.clone(), source })?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => return Err(RootfsError::Spawn { program: command, source }),
        }
        if cancel.load(Ordering::SeqCst) {
            terminate(&mut child);
            return Err(RootfsError::Interrupted);
        }
        std::thread::sleep(POLL);
    };
    Ok(Finished { status, output: read_output(log) })
}

/// Ends a child and everything in its process group.
fn terminate(child: &mut Child) {
    signal_group(child, Signal::TERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(POLL);
    }
    signal_group(child, Signal::KILL);
    let _ = child.wait();
}

/// Sends `signal` to the process group that `child` leads
/// ([`run_cancellable`] starts it in a group of its own). The child is not
/// reaped yet, so its id still names its group; an id of 0 or 1 would name
/// our own group or init's, and is never sent to.
fn signal_group(child: &Child, signal: Signal) {
    let Some(group) = i32::try_from(child.id()).ok().filter(|id| *id > 1).and_then(Pid::from_raw) else { return };
    // It fails only if the group has already gone.
    let _ = rustix::process::kill_process_group(group, signal);
}

/// A command run inside the tree, with a fixed environment.
pub(super) fn in_chroot(tools: &Tools, root: &Path, epoch: i64, args: &[&str]) -> Command {
    let mut cmd = Command::new(&tools.chroot);
    cmd.arg(root)
        .args(args)
        .env_clear()
        .env("PATH", CHROOT_PATH)
        .env("HOME", "/root")
        .env("LC_ALL", "C")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .env("DEBCONF_NONINTERACTIVE_SEEN", "true")
        .env("SOURCE_DATE_EPOCH", epoch.to_string());
    cmd
}

/// Runs a command in the tree that must succeed.
pub(super) fn run_in_chroot(tools: &Tools, root: &Path, epoch: i64, args: &[&str], cancel: &AtomicBool) -> Result<String, RootfsError> {
    let mut cmd = in_chroot(tools, root, epoch, args);
    let done = run_cancellable(&mut cmd, cancel)?;
    if !done.status.success() {
        return Err(RootfsError::Command { command: args.join(" "), status: done.status.to_string(), output: done.output });
    }
    Ok(done.output)
}

/// A flag set by SIGINT, SIGTERM and SIGHUP, for the `cancel` of
/// [`build_rootfs`](super::build_rootfs). The first call installs the
/// handlers; they only set the flag, so the build can unmount and clean up
/// before the process exits.
pub fn cancel_on_signals() -> &'static AtomicBool {
    static CANCELLED: AtomicBool = AtomicBool::new(false);
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // signal-hook's handler only stores to the flag, and stays
            // installed with SA_RESTART. Registering fails only for signals
            // that cannot be caught, and these can.
            let _ = signal_hook::flag::register(signal, &CANCELLED);
        }
    });
    &CANCELLED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_ends_the_whole_process_group() {
        let cancel = AtomicBool::new(false);
        let mut quick = Command::new("sh");
        quick.args(["-c", "echo out; echo err >&2; exit 3"]);
        let done = run_cancellable(&mut quick, &cancel).unwrap();
        assert_eq!((done.status.code(), done.output.as_str()), (Some(3), "out\nerr\n"));

        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("grandchild-survived");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let cancel = std::sync::Arc::new(AtomicBool::new(false));
        let setter = {
            let cancel = std::sync::Arc::clone(&cancel);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::SeqCst);
            })
        };
        let started = Instant::now();
        let err = run_cancellable(Command::new("sh").args(["-c", &script]), &cancel).err().unwrap();
        setter.join().unwrap();
        assert!(matches!(err, RootfsError::Interrupted));
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "a process of the cancelled group lived on");
    }
}
