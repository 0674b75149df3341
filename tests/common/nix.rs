//! Nix for the tests: commands with a temporary store and no substituters,
//! and the stub package set (`tests/fixtures/nix/stub-pkgs.nix`) with the
//! library (`nix/`) in scope.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::cli::BIN;
use super::{is_root, missing, repo_root, runs, text};

/// A file of `tests/fixtures/nix`.
pub fn fixture(name: &str) -> PathBuf {
    super::fixture("nix").join(name)
}

/// The Nix system of this machine.
pub fn current_system() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "aarch64-linux",
        _ => "x86_64-linux",
    }
}

/// Nix commands with a temporary store and cache.
pub struct Nix {
    dir: tempfile::TempDir,
    sandbox_paths: Vec<PathBuf>,
    builds: Builds,
}

/// How builds run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Builds {
    /// In Nix's sandbox, with a chroot store at `DIR/store` whose paths
    /// read `/nix/store/...`.
    Sandboxed,
    /// As root on this machine, without the sandbox, in a store whose paths
    /// are its real paths (`DIR/s/...`): for the test doubles of vmTools,
    /// whose "VM" mounts and chroots.
    AsRoot,
}

impl Nix {
    /// `None` (after a notice) when Nix is not installed and `CI` is not set.
    pub fn find(test: &str) -> Option<Nix> {
        if !runs("nix-instantiate", "--version") {
            missing("nix-instantiate", test, "install Nix (the Debian package nix-bin)");
            return None;
        }
        Some(Nix { dir: tempfile::tempdir().expect("temporary directory"), sandbox_paths: Vec::new(), builds: Builds::Sandboxed })
    }

    /// Like [`Nix::find`], for builds that run vmTools' doubles: they need
    /// root (without it, a notice and `None`, or a failure when `CI` is set).
    pub fn find_as_root(test: &str) -> Option<Nix> {
        if !is_root() {
            missing("root", test, "run the tests as root: the build mounts and chroots");
            return None;
        }
        let mut nix = Nix::find(test)?;
        nix.builds = Builds::AsRoot;
        Some(nix)
    }

    /// A directory that builds may read (bind-mounted into the build's root).
    pub fn allow_in_builds(&mut self, path: &Path) {
        self.sandbox_paths.push(path.to_owned());
    }

    /// `PARENT/tool`, a [`tool_dir`] with the binary under test, for the
    /// library's `debclosure` argument; builds may read `parent` and the
    /// binary's directory.
    pub fn debclosure_in_builds(&mut self, parent: &Path) -> PathBuf {
        self.allow_in_builds(parent);
        self.allow_in_builds(Path::new(BIN).parent().expect("the binary is in a directory"));
        tool_dir(parent, "tool", None)
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// The real location of a store path of the temporary store.
    pub fn real(&self, store_path: &str) -> PathBuf {
        match self.builds {
            Builds::Sandboxed => self.store().join(store_path.trim_start_matches('/')),
            Builds::AsRoot => PathBuf::from(store_path),
        }
    }

    pub fn command(&self, program: &str) -> Command {
        let mut sandbox = String::from("/bin /usr /lib /lib64?");
        for p in &self.sandbox_paths {
            sandbox.push(' ');
            sandbox.push_str(p.to_str().expect("UTF-8 path"));
        }
        let mut c = Command::new(program);
        match self.builds {
            Builds::Sandboxed => {
                c.arg("--store").arg(self.store());
            }
            Builds::AsRoot => {
                let d = self.dir.path().display();
                c.arg("--store")
                    .arg(format!("local?store={d}/s&state={d}/state&log={d}/log"))
                    .args(["--option", "sandbox", "false"])
                    // A VM's dpkg makes setuid files, which Nix's seccomp
                    // filter would refuse.
                    .args(["--option", "filter-syscalls", "false"])
                    .args(["--option", "system-features", "kvm"]);
            }
        }
        c.args(["--option", "substituters", ""])
            // Builds run as the user running the tests: a fresh machine has
            // no `nixbld` group (the nix-bin package does not create it).
            .args(["--option", "build-users-group", ""])
            .args(["--option", "extra-sandbox-paths", &sandbox])
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("NIX_CONFIG", "experimental-features = nix-command flakes");
        c
    }

    pub fn flake(&self) -> Command {
        let mut c = self.command("nix");
        c.args(["--option", "eval-cache", "false"]);
        c
    }

    /// Evaluates `body` with `pkgs` (the stub, its fetchurl in `fetchurl`
    /// mode) and `lib` (nix/) in scope; `args` are strings, also in scope.
    pub fn eval(&self, body: &str, fetchurl: &str, args: &[(&str, &str)]) -> Result<Value, String> {
        let out = self
            .command("nix-instantiate")
            .args(["--eval", "--strict", "--json", "--read-write-mode", "--expr", &library_expr(body, args)])
            .args(["--argstr", "repo", repo_root().to_str().unwrap(), "--argstr", "fetchurlMode", fetchurl])
            .args(args.iter().flat_map(|(k, v)| ["--argstr", k, v]))
            .output()
            .expect("run nix-instantiate");
        if out.status.success() {
            Ok(serde_json::from_slice(&out.stdout).expect("nix-instantiate --json gives JSON"))
        } else {
            Err(text(&out.stderr))
        }
    }

    /// Builds `body` (as for [`Nix::eval`]), returning the output paths.
    pub fn build(&self, body: &str, fetchurl: &str, args: &[(&str, &str)]) -> Result<Vec<String>, String> {
        let out = self
            .command("nix-build")
            .args(["--no-out-link", "--expr", &library_expr(body, args)])
            .args(["--argstr", "repo", repo_root().to_str().unwrap(), "--argstr", "fetchurlMode", fetchurl])
            .args(args.iter().flat_map(|(k, v)| ["--argstr", k, v]))
            .output()
            .expect("run nix-build");
        if out.status.success() {
            Ok(text(&out.stdout).lines().map(str::to_owned).collect())
        } else {
            Err(text(&out.stderr))
        }
    }
}

impl Drop for Nix {
    fn drop(&mut self) {
        // Store paths are read-only; make them removable for the temporary
        // directory's own cleanup (which matters when not running as root).
        let _ = Command::new("chmod").arg("-R").arg("u+w").arg(self.dir.path()).status();
    }
}

/// A Nix function of the string arguments that evaluates `body` with the
/// stub package set and the library in scope; `path` turns a string argument
/// into a path.
pub fn library_expr(body: &str, args: &[(&str, &str)]) -> String {
    let names: String = args.iter().map(|(k, _)| format!(", {k}")).collect();
    format!(
        r#"{{ repo, fetchurlMode{names} }}:
let
  path = s: /. + s;
  pkgs = import (path repo + "/tests/fixtures/nix/stub-pkgs.nix") {{
    system = builtins.currentSystem;
    fetchurl = fetchurlMode;
  }};
  lib = import (path repo + "/nix") {{ inherit pkgs; }};
in
{body}"#
    )
}


/// A directory `DIR/bin/debclosure` for the library's `debclosure` argument:
/// the binary under test, or a script standing in for it.
pub fn tool_dir(parent: &Path, name: &str, script: Option<&str>) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let exe = dir.join("bin/debclosure");
    match script {
        Some(script) => {
            std::fs::write(&exe, script).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        None => std::os::unix::fs::symlink(BIN, &exe).unwrap(),
    }
    dir
}
