//! The one way the tests start the binary under test.
//!
//! [`Cli`] runs `debclosure` (the build's `CARGO_BIN_EXE_debclosure`) the
//! way a user on a clean machine would: the environment cleared but for
//! `PATH`, a temporary `HOME` and `XDG_CACHE_HOME`, `NO_PROXY=127.0.0.1` for
//! the test servers, an explicit `--cache-dir` where the command uses a
//! cache, and nothing else unless the test passes it ([`Cli::env`],
//! [`Cli::inherit`]). A [`Run`] holds what came back, with the assertions
//! the tests share and [`Run::report`], the text that error snapshots hold:
//! exit code, stdout and stderr with temporary paths and ports replaced by
//! placeholders, so that a snapshot is the same on every run.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::text;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_debclosure");

/// What the opt-in tests that reach the real network pass on from the
/// test's environment ([`Cli::inherit`]): the mirror to use, proxies and
/// certificates.
pub const NETWORK_ENV: [&str; 9] = [
    "DEBCLOSURE_MIRROR",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// How `debclosure` is run; build it with the `#[must_use]` methods, then
/// [`Cli::run`] (or [`Cli::command`] to spawn it yourself).
pub struct Cli {
    home: tempfile::TempDir,
    cache: Option<PathBuf>,
    dir: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
    path_only: bool,
    wrapper: Option<(OsString, Vec<OsString>)>,
    redactions: Vec<(String, String)>,
}

impl Default for Cli {
    fn default() -> Self {
        Cli::new()
    }
}

impl Cli {
    /// A run with a new temporary home, which is also the working directory
    /// and holds the cache, until the test says otherwise.
    pub fn new() -> Cli {
        Cli {
            home: tempfile::Builder::new().prefix("debclosure-home-").tempdir().expect("a temporary home"),
            cache: None,
            dir: None,
            env: Vec::new(),
            path_only: false,
            wrapper: None,
            redactions: Vec::new(),
        }
    }

    /// The cache for the commands that use one (default: one in the
    /// temporary home).
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.cache = Some(dir.into());
        self
    }

    /// The working directory (default: the temporary home).
    #[must_use]
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.dir = Some(dir.into());
        self
    }

    /// One more environment variable.
    #[must_use]
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Cli {
        self.env.push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Environment variables, as pairs.
    #[must_use]
    pub fn envs(self, vars: &[(&str, &str)]) -> Cli {
        vars.iter().fold(self, |cli, (k, v)| cli.env(k, v))
    }

    /// The test process's own values of `names`, where set: for the opt-in
    /// tests that reach the real network (a mirror, a proxy).
    #[must_use]
    pub fn inherit(self, names: &[&str]) -> Cli {
        names.iter().filter_map(|n| Some((n, std::env::var_os(n)?))).fold(self, |cli, (n, v)| cli.env(n, v))
    }

    /// The environment `env -i PATH="$PATH"` gives: `PATH` and what
    /// [`Cli::env`] adds, no home, no `NO_PROXY` (as in Nix's build
    /// sandbox).
    #[must_use]
    pub fn path_only(mut self) -> Cli {
        self.path_only = true;
        self
    }

    /// Runs the binary through `program ARGS... debclosure ...`
    /// (`/usr/bin/time`, `setpriv`).
    #[must_use]
    pub fn via(mut self, program: impl AsRef<OsStr>, args: &[&OsStr]) -> Cli {
        self.wrapper = Some((program.as_ref().to_owned(), args.iter().map(|a| (*a).to_owned()).collect()));
        self
    }

    /// Replaces `value` by `placeholder` in [`Run::report`] (a temporary
    /// path, a server's URL, a date made from the clock).
    #[must_use]
    pub fn redact(mut self, value: impl AsRef<OsStr>, placeholder: &str) -> Cli {
        self.redactions.push((value.as_ref().to_string_lossy().into_owned(), placeholder.to_owned()));
        self
    }

    /// The temporary home.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    fn cache(&self) -> PathBuf {
        self.cache.clone().unwrap_or_else(|| self.home().join(".cache/debclosure"))
    }

    fn dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| self.home().to_owned())
    }

    /// The command for `debclosure ARGS`, to spawn or wrap; keep the `Cli`
    /// until the process ends, since it owns the temporary home.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
        let mut cmd = match &self.wrapper {
            Some((program, wrapper_args)) => {
                let mut c = Command::new(program);
                c.args(wrapper_args).arg(BIN);
                c
            }
            None => Command::new(BIN),
        };
        let (first, rest) = args.split_first().map_or((&[][..], &[][..]), |(f, r)| (std::slice::from_ref(f), r));
        cmd.args(first);
        if wants_cache_dir(&args) {
            // Right after the subcommand, before any `--`.
            cmd.arg("--cache-dir").arg(self.cache());
        }
        cmd.args(rest).current_dir(self.dir()).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        if !self.path_only {
            cmd.env("HOME", self.home()).env("XDG_CACHE_HOME", self.home().join(".cache")).env("NO_PROXY", "127.0.0.1");
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs `debclosure ARGS` to its end.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        let output = self.command(args).output().unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        let mut redactions = self.redactions.clone();
        let named = [
            (self.cache(), "[CACHE]"),
            (self.dir(), "[DIR]"),
            (self.home().to_owned(), "[HOME]"),
            (super::repo_root(), "[REPO]"),
        ];
        for (path, placeholder) in named {
            redactions.push((path.display().to_string(), placeholder.to_owned()));
        }
        // The longest first, so that a path inside another keeps its own name.
        redactions.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        redactions.retain(|(value, _)| !value.is_empty());
        let argv = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        Run { output, argv, redactions }
    }
}

/// Whether `debclosure ARGS` gets `--cache-dir`: the commands that download,
/// unless they read only local files (`--packages-file`, `--not-automatic`,
/// `--debs-from`), print help, or were given one.
fn wants_cache_dir(args: &[OsString]) -> bool {
    let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let given = |flag: &str| args.iter().any(|a| a == flag || a.starts_with(&format!("{flag}=")));
    let downloads = matches!(
        args.first().map(String::as_str),
        Some("resolve" | "stats" | "lock" | "update" | "check" | "fetch-debs" | "rootfs" | "image")
    );
    downloads && !["--cache-dir", "--packages-file", "--not-automatic", "--debs-from", "--help", "-h"].into_iter().any(given)
}

/// `debclosure ARGS` with the defaults of [`Cli::new`].
pub fn debclosure<S: AsRef<OsStr>>(args: &[S]) -> Run {
    Cli::new().run(args)
}

/// A finished run.
pub struct Run {
    /// What the process returned.
    pub output: Output,
    argv: String,
    redactions: Vec<(String, String)>,
}

impl Run {
    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Standard output, as text.
    pub fn stdout(&self) -> String {
        text(&self.output.stdout)
    }

    /// Standard error, as text.
    pub fn stderr(&self) -> String {
        text(&self.output.stderr)
    }

    /// Asserts the exit code, and that nothing panicked.
    pub fn assert_exit(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            Some(code),
            "debclosure {}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.argv,
            self.stdout(),
            self.stderr()
        );
        assert!(!self.stderr().contains("panicked"), "debclosure {}:\n{}", self.argv, self.stderr());
        self
    }

    /// Asserts exit code 0.
    pub fn success(&self) -> &Run {
        self.assert_exit(0)
    }

    /// Asserts exit code 2 and a message containing every one of `needles`.
    pub fn fails_with(&self, needles: &[&str]) -> &Run {
        self.assert_exit(2);
        let err = self.stderr();
        for n in needles {
            assert!(err.contains(n), "debclosure {}: stderr does not mention {n:?}:\n{err}", self.argv);
        }
        self
    }

    /// Standard output of a successful run, as JSON.
    pub fn json(&self) -> serde_json::Value {
        self.success();
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|e| panic!("debclosure {}: output is not JSON ({e}):\n{}", self.argv, self.stdout()))
    }

    /// What a user saw, for a snapshot: the exit code, stdout (when there
    /// is any) and stderr, with the redactions of the [`Cli`], then any
    /// other temporary directory (`[TMP]`) and ephemeral port (`[PORT]`)
    /// replaced.
    pub fn report(&self) -> String {
        let code = self.code().map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
        let mut out = format!("exit: {code}\n");
        let stdout = self.stdout();
        if !stdout.is_empty() {
            out.push_str("--- stdout\n");
            out.push_str(&stdout);
            if !stdout.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push_str("--- stderr\n");
        out.push_str(&self.stderr());
        redact(&out, &self.redactions)
    }
}

/// The reports of several runs for one snapshot, each under a `## LABEL`
/// line: for the tests that provoke many messages in a loop.
#[derive(Default)]
pub struct Reports(String);

impl Reports {
    /// Adds `run`'s report under `label`, redacted as the report is.
    pub fn add(&mut self, label: &str, run: &Run) {
        if !self.0.is_empty() {
            self.0.push('\n');
        }
        self.0.push_str(&format!("## {}\n{}", redact(label, &run.redactions), run.report()));
    }

    /// All of them.
    pub fn text(&self) -> &str {
        &self.0
    }
}

/// `text` with each `(value, placeholder)` replaced, then temporary files
/// and directories (`.tmpXXXXXX`, the names `tempfile` makes, and the
/// binary's own `.tmp-XXXXXX`) and ephemeral ports.
pub fn redact(text: &str, redactions: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    for (value, placeholder) in redactions {
        text = text.replace(value.as_str(), placeholder);
    }
    // In the system's temporary directory, the whole path is `[TMP]`.
    let system = std::env::temp_dir().display().to_string();
    let text = text.replace(&format!("{}/.tmp", system.trim_end_matches('/')), "/.tmp");
    let text = replace_after(&text, "/.tmp", |rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c)).count(), "/[TMP]", 6);
    replace_after(&text, "127.0.0.1:", |rest| rest.chars().take_while(char::is_ascii_digit).count(), "127.0.0.1:[PORT]", 4)
}

/// Replaces each `marker` and what follows it (as long as `span` says, when
/// at least `min` bytes) by `replacement`.
fn replace_after(text: &str, marker: &str, span: impl Fn(&str) -> usize, replacement: &str, min: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let after = &rest[at + marker.len()..];
        let n = span(after);
        if n < min {
            out.push_str(&rest[..at + marker.len()]);
        } else {
            out.push_str(&rest[..at]);
            out.push_str(replacement);
        }
        rest = &after[if n < min { 0 } else { n }..];
    }
    out.push_str(rest);
    out
}
