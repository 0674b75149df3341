//! Booting a disk image under QEMU with a watchdog: proof that an image
//! built from a lock boots.
//!
//! The image's own kernel and initrd (the newest `/boot/vmlinuz-*` and its
//! `initrd.img-*`, read with `debugfs`, so nothing is mounted) are booted
//! directly (`-kernel`, `-initrd`) with the image as a virtio disk that the
//! guest sees as `/dev/vda`, opened with `snapshot=on` so that booting
//! never changes the image. The kernel's command line runs a shell as
//! init: it prints the marker (after `--command`, when one is given and
//! succeeds) and powers the machine off. The serial console goes to a log
//! file.
//!
//! QEMU runs in a process group of its own and is watched: the boot passes
//! when the console shows the marker and QEMU exits; it fails with the end
//! of the console log when the guest panics, QEMU dies, or the timeout
//! runs out. On every way out, cancellation (SIGINT, SIGTERM) included,
//! the group is ended (SIGTERM, then SIGKILL), so no QEMU is left behind.
//!
//! KVM is used when it works: with [`Accel::Auto`] a KVM guest that prints
//! nothing within the probe time (a KVM that hangs, as in some nested
//! setups) or whose QEMU fails is ended, and the boot is retried with TCG;
//! [`Booted::fallback`] says why.

use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use crate::command::{describe, run, CommandError};
use crate::version::Version;

/// The marker printed when nothing else is asked for.
pub const DEFAULT_MARKER: &str = "debclosure-boot-ok";

/// How many lines of the console log an error shows.
const TAIL_LINES: usize = 30;

/// How often QEMU and the console log are checked.
const POLL: Duration = Duration::from_millis(50);

/// How long an ended QEMU gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

/// The longest kernel command line x86 Linux takes (`COMMAND_LINE_SIZE`).
const MAX_CMDLINE: usize = 2048;

/// Which accelerator QEMU uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Accel {
    /// KVM when `/dev/kvm` can be opened and a KVM guest starts printing
    /// within the probe time; TCG otherwise.
    #[default]
    Auto,
    /// KVM only.
    Kvm,
    /// TCG (QEMU's emulator) only.
    Tcg,
}

impl Accel {
    fn name(self) -> &'static str {
        match self {
            Accel::Auto => "auto",
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How to boot.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// The whole boot, from starting QEMU to its exit.
    pub timeout: Duration,
    /// The text the console must show.
    pub expect: String,
    /// A shell command the guest runs first; the marker is printed only if
    /// it succeeds. It may not hold `"` or a line break (the kernel's
    /// command line cannot quote them).
    pub command: Option<String>,
    /// The accelerator.
    pub accel: Accel,
    /// With [`Accel::Auto`]: how long a KVM guest may stay silent before
    /// the boot is retried with TCG.
    pub kvm_probe: Duration,
    /// The guest's memory.
    pub memory_mib: u32,
    /// Where the serial console is written.
    pub log: PathBuf,
}

impl BootOptions {
    /// The defaults, with the console written to `log`.
    pub fn new(log: PathBuf) -> BootOptions {
        BootOptions {
            timeout: Duration::from_secs(300),
            expect: DEFAULT_MARKER.to_owned(),
            command: None,
            accel: Accel::Auto,
            kvm_probe: Duration::from_secs(10),
            memory_mib: 1024,
            log,
        }
    }
}

/// What QEMU boots: a kernel, maybe an initrd, a command line and a disk.
#[derive(Debug, Clone)]
pub struct Guest {
    /// The kernel (`-kernel`).
    pub kernel: PathBuf,
    /// The initrd (`-initrd`), if there is one.
    pub initrd: Option<PathBuf>,
    /// The kernel's command line (`-append`).
    pub append: String,
    /// The disk and its format (`raw` or `qcow2`), opened read-only in
    /// effect (`snapshot=on`).
    pub disk: Option<(PathBuf, &'static str)>,
}

/// A boot that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booted {
    /// The accelerator used (`kvm` or `tcg`).
    pub accel: Accel,
    /// Why KVM was not used, when [`Accel::Auto`] fell back to TCG.
    pub fallback: Option<String>,
    /// From QEMU's start to its exit, for the accelerator used.
    pub elapsed: Duration,
}

/// Why a boot failed.
#[derive(Debug, thiserror::Error)]
pub enum BootError {
    /// `qemu-system-x86_64` could not be started or watched.
    #[error("cannot run {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A helper (`debugfs`, `qemu-img`) failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A file could not be read or written.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The image has no kernel in `/boot`.
    #[error("{}: no /boot/vmlinuz-* in the image", .image.display())]
    NoKernel {
        /// The image.
        image: PathBuf,
    },
    /// The command cannot go on a kernel command line.
    #[error("--command cannot be passed on the kernel's command line: {reason}")]
    BadCommand {
        /// Why not.
        reason: String,
    },
    /// Only x86-64 guests are booted.
    #[error("boot-test boots x86-64 images only; this machine is {arch}")]
    UnsupportedHost {
        /// The host's architecture.
        arch: String,
    },
    /// The guest did not finish in time.
    #[error("the {accel} guest did not {} within {after:?}; {}", if *.marker_seen { "power off after printing the marker" } else { "print the marker" }, console(.log, .tail))]
    Timeout {
        /// The accelerator.
        accel: Accel,
        /// The timeout.
        after: Duration,
        /// Whether the marker had appeared.
        marker_seen: bool,
        /// The console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The guest's kernel panicked.
    #[error("the {accel} guest's kernel panicked; {}", console(.log, .tail))]
    Panic {
        /// The accelerator.
        accel: Accel,
        /// The console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// QEMU exited without the marker on the console.
    #[error("QEMU ({accel}) exited ({status}) without the marker {expect:?} on the console; {}{}", console(.log, .tail), stderr_block(.stderr))]
    NoMarker {
        /// The accelerator.
        accel: Accel,
        /// How QEMU ended.
        status: String,
        /// The marker looked for.
        expect: String,
        /// The console log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
        /// What QEMU itself printed.
        stderr: String,
    },
    /// KVM was asked for and does not work.
    #[error("KVM cannot be used: {reason}")]
    NoKvm {
        /// Why not.
        reason: String,
    },
    /// SIGINT, SIGTERM or SIGHUP arrived.
    #[error("interrupted")]
    Interrupted,
}

impl BootError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            BootError::Spawn { .. } | BootError::Command(CommandError::Spawn { .. }) => {
                "install qemu-system-x86 (and e2fsprogs for debugfs, qemu-utils for qcow2 images)".into()
            }
            BootError::NoKernel { .. } => "lock a kernel with the image, e.g. add linux-image-cloud-amd64 to the spec's packages".into(),
            BootError::BadCommand { .. } => "put the command in a script inside the image and pass its path".into(),
            BootError::Timeout { .. } => "raise --timeout if the machine is slow, or read the console log for where the boot stopped".into(),
            BootError::Panic { .. } | BootError::NoMarker { .. } => "read the console log for where the boot stopped".into(),
            BootError::NoKvm { .. } => "use --accel tcg (or auto, which falls back to TCG)".into(),
            _ => return None,
        })
    }
}

/// Where the console log is and how it ends (or that it is empty).
fn console(log: &Path, tail: &str) -> String {
    if tail.is_empty() {
        return format!("the console ({}) is empty", log.display());
    }
    format!("the console ({}) ends with:{tail}", log.display())
}

fn stderr_block(stderr: &str) -> String {
    match tail(stderr) {
        t if t.is_empty() => String::new(),
        t => format!("\nQEMU printed:{t}"),
    }
}

fn io_error<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(std::io::Error) -> BootError + 'p {
    move |source| BootError::Io { action, path: path.to_owned(), source }
}

/// The last [`TAIL_LINES`] lines of `text`, each on a new line and
/// indented; control characters other than tabs are shown escaped.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..]
        .iter()
        .map(|l| {
            let clean: String = l.trim_end_matches('\r').chars().flat_map(|c| if c.is_control() && c != '\t' { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect();
            format!("\n    {clean}")
        })
        .collect()
}

/// The shell command the guest's init runs: the user's command (if any),
/// then the marker, then power-off.
///
/// The kernel prints its command line on the console, so the marker is
/// printed in two pieces (`printf '%s%s'`): the whole marker appears on the
/// console only when the guest's shell ran and printed it.
pub fn init_script(expect: &str, command: Option<&str>) -> Result<String, BootError> {
    for (what, text) in [("the marker", Some(expect)), ("the command", command)] {
        let Some(text) = text else { continue };
        if text.contains('"') || text.contains('\n') || text.contains('\r') {
            return Err(BootError::BadCommand { reason: format!("{what} holds a double quote or a line break") });
        }
    }
    if expect.contains('\'') || expect.chars().count() < 2 {
        return Err(BootError::BadCommand { reason: "the marker must be two characters or more, without a single quote".into() });
    }
    let middle = expect.char_indices().nth(expect.chars().count() / 2).map_or(0, |(i, _)| i);
    let (head, rest) = expect.split_at(middle);
    let first = match command {
        Some(c) => format!("{c} && "),
        None => String::new(),
    };
    // /proc is mounted by the initramfs when there is one; without one it
    // is mounted here, for the power-off through sysrq.
    Ok(format!(
        "mount -t proc proc /proc 2>/dev/null; {first}printf '%s%s\\n' '{head}' '{rest}'; echo o > /proc/sysrq-trigger; sleep 30"
    ))
}

/// The kernel command line that boots from `/dev/vda` with `script` as
/// init.
pub fn kernel_cmdline(script: &str) -> Result<String, BootError> {
    let line = format!("root=/dev/vda rw console=ttyS0 panic=-1 init=/bin/sh -- -c \"{script}\"");
    if line.len() >= MAX_CMDLINE {
        return Err(BootError::BadCommand { reason: format!("the kernel's command line would be {} bytes; Linux takes {MAX_CMDLINE}", line.len()) });
    }
    Ok(line)
}

/// The newest kernel among `/boot`'s entries (`vmlinuz-VERSION`, newest by
/// Debian version order), and its initrd if `/boot` has one.
pub fn pick_kernel(boot_entries: &[String]) -> Option<(String, Option<String>)> {
    let kernels = boot_entries.iter().filter_map(|e| e.strip_prefix("vmlinuz-"));
    let newest = kernels.max_by(|a, b| match (Version::parse(a), Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    })?;
    let initrd = format!("initrd.img-{newest}");
    let initrd = boot_entries.contains(&initrd).then_some(initrd);
    Some((format!("vmlinuz-{newest}"), initrd))
}

/// Whether the file starts with qcow2's magic.
fn is_qcow2(path: &Path) -> Result<bool, BootError> {
    let mut magic = [0u8; 4];
    let mut file = File::open(path).map_err(io_error("open", path))?;
    let n = file.read(&mut magic).map_err(io_error("read", path))?;
    Ok(n == 4 && magic == *b"QFI\xfb")
}

/// Boots `image` (raw or qcow2, one ext4 file system with `/boot` in it, as
/// `debclosure image` writes it) and waits for the marker.
pub fn boot_image(image: &Path, options: &BootOptions, cancel: &AtomicBool) -> Result<Booted, BootError> {
    if std::env::consts::ARCH != "x86_64" {
        return Err(BootError::UnsupportedHost { arch: std::env::consts::ARCH.to_owned() });
    }
    let script = init_script(&options.expect, options.command.as_deref())?;
    let append = kernel_cmdline(&script)?;
    let work = tempfile::tempdir().map_err(io_error("create a temporary directory in", &std::env::temp_dir()))?;
    let format = if is_qcow2(image)? { "qcow2" } else { "raw" };
    // debugfs reads raw file systems only.
    let raw = if format == "qcow2" {
        let raw = work.path().join("image.raw");
        run(Command::new("qemu-img").args(["convert", "-f", "qcow2", "-O", "raw"]).arg(image).arg(&raw))?;
        raw
    } else {
        image.to_owned()
    };
    let listing = run(Command::new("debugfs").arg("-R").arg("ls -p /boot").arg(&raw))?;
    // `ls -p` lines: /inode/mode/uid/gid/name/size/
    let entries: Vec<String> = listing.lines().filter_map(|l| l.split('/').nth(5)).filter(|n| !n.is_empty()).map(str::to_owned).collect();
    let (kernel, initrd) = pick_kernel(&entries).ok_or_else(|| BootError::NoKernel { image: image.to_owned() })?;
    let dump = |name: &str| -> Result<PathBuf, BootError> {
        let dest = work.path().join(name);
        run(Command::new("debugfs").arg("-R").arg(format!("dump /boot/{name} {}", dest.display())).arg(&raw))?;
        match fs::metadata(&dest) {
            Ok(m) if m.len() > 0 => Ok(dest),
            _ => Err(BootError::NoKernel { image: image.to_owned() }),
        }
    };
    let guest = Guest {
        kernel: dump(&kernel)?,
        initrd: initrd.as_deref().map(dump).transpose()?,
        append,
        disk: Some((image.to_owned(), format)),
    };
    run_guest(&guest, options, cancel)
}

/// Runs `guest` under QEMU with the watchdog the module documentation
/// describes.
pub fn run_guest(guest: &Guest, options: &BootOptions, cancel: &AtomicBool) -> Result<Booted, BootError> {
    let fallback = match options.accel {
        Accel::Tcg => None,
        Accel::Kvm => {
            if let Some(reason) = kvm_unusable() {
                return Err(BootError::NoKvm { reason });
            }
            return attempt(guest, options, Accel::Kvm, None, cancel).map_err(Failed::into_error);
        }
        Accel::Auto => match kvm_unusable() {
            Some(reason) => Some(reason),
            None => match attempt(guest, options, Accel::Kvm, Some(options.kvm_probe), cancel) {
                Ok(booted) => return Ok(booted),
                Err(Failed::Boot(e)) => return Err(*e),
                Err(Failed::Probe(reason)) => Some(reason),
            },
        },
    };
    let booted = attempt(guest, options, Accel::Tcg, None, cancel).map_err(Failed::into_error)?;
    Ok(Booted { fallback, ..booted })
}

/// Why `/dev/kvm` cannot be used, if it cannot.
fn kvm_unusable() -> Option<String> {
    match fs::OpenOptions::new().read(true).write(true).open("/dev/kvm") {
        Ok(_) => None,
        Err(e) => Some(format!("/dev/kvm: {e}")),
    }
}

/// An attempt's failure: the KVM probe (try TCG) or the boot's.
enum Failed {
    Probe(String),
    Boot(Box<BootError>),
}

impl Failed {
    /// The error to report (a probe's reason as KVM's failure).
    fn into_error(self) -> BootError {
        match self {
            Failed::Boot(e) => *e,
            Failed::Probe(reason) => BootError::NoKvm { reason },
        }
    }
}

impl From<BootError> for Failed {
    fn from(e: BootError) -> Failed {
        Failed::Boot(Box::new(e))
    }
}

/// QEMU, ended with its process group when dropped.
struct Qemu {
    child: Child,
    done: bool,
}

impl Qemu {
    fn end(&mut self) {
        if self.done {
            return;
        }
        signal_group(&self.child, Signal::TERM);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.done = true;
                return;
            }
            std::thread::sleep(POLL);
        }
        signal_group(&self.child, Signal::KILL);
        let _ = self.child.wait();
        self.done = true;
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.end();
    }
}

fn signal_group(child: &Child, signal: Signal) {
    // The child is not reaped yet, so its id names its group; 0 and 1 would
    // name ours or init's.
    let Some(group) = i32::try_from(child.id()).ok().filter(|id| *id > 1).and_then(Pid::from_raw) else { return };
    let _ = rustix::process::kill_process_group(group, signal);
}

/// A QEMU path argument: commas doubled, as QEMU's option syntax wants.
fn qemu_path(path: &Path) -> String {
    path.to_string_lossy().replace(',', ",,")
}

fn attempt(guest: &Guest, options: &BootOptions, accel: Accel, probe: Option<Duration>, cancel: &AtomicBool) -> Result<Booted, Failed> {
    let log = &options.log;
    File::create(log).map_err(io_error("create", log))?;
    let stderr_path = log.with_extension("qemu-stderr");
    let stderr = File::create(&stderr_path).map_err(io_error("create", &stderr_path))?;
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(["-machine", &format!("q35,accel={}", accel.name())])
        .args(["-m", &options.memory_mib.to_string(), "-smp", "1"])
        .args(["-display", "none", "-monitor", "none", "-no-reboot", "-nodefaults"])
        .args(["-chardev", &format!("file,id=console,path={}", qemu_path(log)), "-serial", "chardev:console"])
        .arg("-kernel")
        .arg(&guest.kernel)
        .args(["-append", &guest.append]);
    if let Some(initrd) = &guest.initrd {
        cmd.arg("-initrd").arg(initrd);
    }
    if let Some((disk, format)) = &guest.disk {
        cmd.args(["-drive", &format!("file={},format={format},if=virtio,snapshot=on", qemu_path(disk))]);
    }
    let program = describe(&cmd);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|source| BootError::Spawn { program, source })?;
    let mut qemu = Qemu { child, done: false };
    let started = Instant::now();
    let mut console = Console::new(log)?;
    loop {
        let status = qemu.child.try_wait().map_err(|source| BootError::Spawn { program: "qemu-system-x86_64".into(), source })?;
        console.read_more()?;
        if let Some(status) = status {
            qemu.done = true;
            let elapsed = started.elapsed();
            if console.contains(&options.expect) {
                return Ok(Booted { accel, fallback: None, elapsed });
            }
            let stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
            if probe.is_some() && console.is_empty() {
                return Err(Failed::Probe(format!("QEMU with KVM exited ({status}) before the guest printed anything:{}", tail(&stderr))));
            }
            if console.contains("Kernel panic") {
                return Err(BootError::Panic { accel, log: log.clone(), tail: tail(console.text()) }.into());
            }
            return Err(BootError::NoMarker { accel, status: status.to_string(), expect: options.expect.clone(), log: log.clone(), tail: tail(console.text()), stderr }.into());
        }
        if cancel.load(Ordering::SeqCst) {
            qemu.end();
            return Err(BootError::Interrupted.into());
        }
        let elapsed = started.elapsed();
        if let Some(probe) = probe {
            if console.is_empty() && elapsed >= probe {
                qemu.end();
                return Err(Failed::Probe(format!("a KVM guest printed nothing in {probe:?}")));
            }
        }
        if elapsed >= options.timeout {
            qemu.end();
            console.read_more()?;
            return Err(BootError::Timeout {
                accel,
                after: options.timeout,
                marker_seen: console.contains(&options.expect),
                log: log.clone(),
                tail: tail(console.text()),
            }
            .into());
        }
        std::thread::sleep(POLL);
    }
}

/// The console log, read as it grows.
struct Console {
    file: File,
    text: String,
}

impl Console {
    fn new(path: &Path) -> Result<Console, BootError> {
        Ok(Console { file: File::open(path).map_err(io_error("open", path))?, text: String::new() })
    }

    fn read_more(&mut self) -> Result<(), BootError> {
        let mut bytes = Vec::new();
        let at = self.text.len() as u64;
        let _ = self.file.seek(SeekFrom::Start(at));
        let _ = self.file.read_to_end(&mut bytes);
        // The guest writes bytes; shown lossily, so offsets track `text`.
        self.text.push_str(&String::from_utf8_lossy(&bytes));
        Ok(())
    }

    fn contains(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }

    fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_script_prints_the_marker_after_the_command() {
        let s = init_script("ok-marker", None).unwrap();
        assert!(s.contains("printf '%s%s\\n' 'ok-m' 'arker'; echo o > /proc/sysrq-trigger"), "{s}");
        let s = init_script("ok-marker", Some("test -x /usr/bin/dpkg")).unwrap();
        assert!(s.contains("test -x /usr/bin/dpkg && printf"), "{s}");
        // The kernel echoes its command line: the marker must not be in it.
        for (marker, command) in [(DEFAULT_MARKER, None), ("ab", Some("true")), ("ünïcode-ok", None)] {
            let line = kernel_cmdline(&init_script(marker, command).unwrap()).unwrap();
            assert!(!line.contains(marker), "{line}");
        }
        for bad in ["echo \"x\"", "a\nb"] {
            let err = init_script("m1", Some(bad)).unwrap_err();
            assert!(matches!(err, BootError::BadCommand { .. }), "{err}");
            assert!(err.hint().is_some());
        }
        for bad in ["say \"hi\"", "it's", "x"] {
            assert!(init_script(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_boots_vda_with_a_shell_as_init() {
        let line = kernel_cmdline("echo hi").unwrap();
        assert_eq!(line, "root=/dev/vda rw console=ttyS0 panic=-1 init=/bin/sh -- -c \"echo hi\"");
        let err = kernel_cmdline(&"x".repeat(MAX_CMDLINE)).unwrap_err();
        assert!(err.to_string().contains("Linux takes 2048"), "{err}");
    }

    #[test]
    fn the_newest_kernel_is_booted_with_its_own_initrd() {
        let entries: Vec<String> = [
            "config-6.1.0-9-amd64",
            "vmlinuz-6.1.0-9-amd64",
            "initrd.img-6.1.0-9-amd64",
            "vmlinuz-6.1.0-10-amd64",
            "System.map-6.1.0-10-amd64",
        ]
        .map(String::from)
        .to_vec();
        // 10 > 9 as Debian versions compare, not as strings.
        assert_eq!(pick_kernel(&entries), Some(("vmlinuz-6.1.0-10-amd64".into(), None)));
        let with_initrd: Vec<String> = entries.iter().cloned().chain(["initrd.img-6.1.0-10-amd64".to_owned()]).collect();
        assert_eq!(
            pick_kernel(&with_initrd),
            Some(("vmlinuz-6.1.0-10-amd64".into(), Some("initrd.img-6.1.0-10-amd64".into())))
        );
        assert_eq!(pick_kernel(&["config-1".to_owned()]), None);
    }

    #[test]
    fn console_tails_are_short_and_escaped() {
        let text: String = (0..100).map(|i| format!("line {i}\r\n")).collect::<String>() + "bell \u{7}";
        let t = tail(&text);
        assert_eq!(t.lines().count(), TAIL_LINES + 1, "{t}");
        assert!(t.starts_with("\n    line 71"), "{t}");
        assert!(t.ends_with("bell \\u{7}"), "{t}");
    }

    #[test]
    fn commas_in_paths_are_doubled_for_qemu() {
        assert_eq!(qemu_path(Path::new("/tmp/a,b/log")), "/tmp/a,,b/log");
    }
}
