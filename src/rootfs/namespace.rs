//! Issue 15: `rootfs` in mount and PID namespaces of its own, so that
//! nothing it mounts or starts outlives it, however it ends.
//!
//! [`run_in_namespaces`] runs the same command line again under util-linux
//! `unshare --mount --propagation private --pid --fork --kill-child`:
//!
//! - the mounts of `/proc`, `/sys` and `/dev` are made in a private copy of
//!   the mount table, which the host never sees, and which the kernel drops
//!   with the last process in it;
//! - the copy runs as PID 1 of a new PID namespace: when it ends, the kernel
//!   kills every process left in the namespace (a daemon a maintainer
//!   script started, a stuck `dpkg`), and before the tree is unmounted and
//!   removed it kills them itself ([`kill_strays`]);
//! - the copy's standard input is a pipe whose other end only the caller
//!   holds: when the caller dies (SIGKILL, a crash), the copy reads
//!   end-of-file and exits, and the kernel takes down the namespace
//!   ([`prepare_inside`]); if `unshare` dies, `--kill-child` kills the copy.
//!
//! The caller stays outside, forwards SIGINT, SIGTERM and SIGHUP to the copy
//! (PID 1 receives only the signals it handles: [`prepare_inside`]
//! and [`cancel_on_signals`](super::cancel_on_signals)) and exits as it
//! exits. Namespaces nest, so this works where the caller is already in one
//! (the Nix builds of `diskImageFromLock`, their test doubles).

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use super::host::find_program;
use super::process::cancel_on_signals;
use super::RootfsError;

/// Set in the environment of the copy that runs inside the namespaces.
pub const INSIDE_ENV: &str = "DEBCLOSURE_ROOTFS_NAMESPACES";

/// How long the copy gets, after a forwarded signal, to clean up before it
/// and its namespace are killed (it gives a running child 5 s).
const CLEANUP: Duration = Duration::from_secs(60);

/// Whether this process is the copy [`run_in_namespaces`] started: the
/// marker in its environment, and PID 1 of its PID namespace.
pub fn in_namespaces() -> bool {
    std::env::var_os(INSIDE_ENV).is_some() && rustix::process::getpid().is_init()
}

/// Runs this program again, with the same arguments, in new mount and PID
/// namespaces (the module documentation says how), waits for it while
/// forwarding SIGINT, SIGTERM and SIGHUP, and returns its exit code (128 +
/// the signal when it was killed).
pub fn run_in_namespaces() -> Result<i32, RootfsError> {
    let unshare = find_program("unshare").ok_or_else(|| RootfsError::MissingTools { tools: vec!["unshare".into()] })?;
    let exe = std::env::current_exe().map_err(|source| RootfsError::Spawn { program: "/proc/self/exe".into(), source })?;
    let cancel = cancel_on_signals();
    let mut cmd = Command::new(&unshare);
    cmd.args(["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--"])
        .arg(&exe)
        .args(std::env::args_os().skip(1))
        .env(INSIDE_ENV, "1");
    // The copy's standard input is a pipe that only we can write to: when
    // we die, however we die, it reads end-of-file and ends the namespace.
    let (watch, alive) = std::io::pipe().map_err(|source| RootfsError::Spawn { program: "pipe".into(), source })?;
    cmd.stdin(watch);
    let program = describe_unshare(&unshare, &exe);
    let mut child = cmd.spawn().map_err(|source| RootfsError::Spawn { program: program.clone(), source })?;
    let mut forwarded: Option<Instant> = None;
    let status = loop {
        let _ = &alive;
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(source) => return Err(RootfsError::Spawn { program, source }),
        }
        if cancel.load(Ordering::SeqCst) {
            match forwarded {
                None => {
                    forwarded = Some(Instant::now());
                    if !signal_copy(&child) {
                        let _ = child.kill();
                    }
                }
                Some(at) if at.elapsed() > CLEANUP => {
                    let _ = child.kill();
                }
                Some(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    use std::os::unix::process::ExitStatusExt;
    Ok(status.code().or_else(|| status.signal().map(|s| 128 + s)).unwrap_or(2))
}

fn describe_unshare(unshare: &std::path::Path, exe: &std::path::Path) -> String {
    format!("{} --mount --propagation private --pid --fork --kill-child {}", unshare.display(), exe.display())
}

/// Sends SIGTERM to the copy, `unshare`'s child (`unshare` itself blocks
/// SIGINT and SIGTERM); false when it cannot be found.
fn signal_copy(unshare: &std::process::Child) -> bool {
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", unshare.id())).unwrap_or_default();
    let Some(copy) = children.split_whitespace().next().and_then(|p| p.parse().ok()).and_then(Pid::from_raw) else {
        return false;
    };
    rustix::process::kill_process(copy, Signal::TERM).is_ok()
}

/// Prepares the copy inside the namespaces:
///
/// - PID 1 would ignore SIGINT, SIGTERM and SIGHUP: until the returned flag
///   is cleared (when the build starts), they end the process at once with
///   status 130, as they end a process outside; from then on they only set
///   [`cancel_on_signals`]'s flag, whose handlers this installs too;
/// - a thread waits for end-of-file on standard input, the pipe from the
///   caller, and ends the process (and so the namespace) when the caller
///   dies without waiting for it (SIGKILL, a crash).
pub fn prepare_inside() -> &'static AtomicBool {
    static BEFORE_BUILD: AtomicBool = AtomicBool::new(true);
    cancel_on_signals();
    for signal in [SIGINT, SIGTERM, SIGHUP] {
        // Fails only for signals that cannot be caught.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, &BEFORE_BUILD);
    }
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        loop {
            match std::io::Read::read(&mut std::io::stdin().lock(), &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        // The kernel kills the rest of the namespace when PID 1 exits.
        kill_strays();
        std::process::exit(137);
    });
    &BEFORE_BUILD
}

/// Inside the namespaces, kills every other process of the PID namespace
/// (what maintainer scripts left running), so that nothing holds the mounts
/// or writes into the tree while it is unmounted and removed. Outside them,
/// does nothing: `kill(-1)` there would reach the whole machine.
pub(super) fn kill_strays() {
    if in_namespaces() {
        // kill(-1, SIGKILL) from PID 1: every process of its namespace but itself.
        let _ = rustix::process::kill_process_group(Pid::INIT, Signal::KILL);
    }
}
