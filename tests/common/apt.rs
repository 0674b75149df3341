//! The reference the resolver is compared with: the bookworm fixture and
//! its requests, stanzas, an offline apt root that answers "what would apt
//! install", and dose-distcheck runs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::cli::debclosure;
use super::missing;

/// `name version` pairs: what a closure is compared by.
pub type PackageSet = BTreeSet<(String, String)>;

/// The target architecture of the fixture.
pub const ARCH: &str = "amd64";

/// The fixture directory `tests/fixtures/bookworm-amd64`.
pub fn fixture_dir() -> PathBuf {
    super::fixture("bookworm-amd64")
}

/// The fixture's `Packages` file.
pub fn fixture_packages() -> PathBuf {
    fixture_dir().join("Packages")
}

/// One line of `requests.txt`.
#[derive(Debug, Clone)]
pub struct Request {
    /// Line number in requests.txt, for messages.
    pub line: usize,
    /// The packages to install.
    pub packages: Vec<String>,
    /// Marked with `!`: debclosure is known to choose differently from apt.
    pub known_difference: bool,
}

impl Request {
    /// The request as typed on a command line.
    pub fn label(&self) -> String {
        self.packages.join(" ")
    }
}

/// Reads `requests.txt`: one request per line, `#` starts a comment, a
/// leading `!` marks a known difference from apt.
pub fn read_requests() -> Vec<Request> {
    let path = fixture_dir().join("requests.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (known_difference, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        let packages: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
        assert!(!packages.is_empty(), "{}:{}: '!' without packages", path.display(), n + 1);
        out.push(Request { line: n + 1, packages, known_difference });
    }
    assert!(out.len() >= 6, "{} lists {} requests; expected the main one and at least five others", path.display(), out.len());
    assert!(!out[0].known_difference, "the first (main) request must not be a known difference");
    out
}

/// Splits a Packages text into whole stanzas, verbatim (without the blank
/// separator lines).
pub fn split_stanzas(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push_str(line);
        }
    }
    if !current.is_empty() {
        if !current.ends_with('\n') {
            current.push('\n');
        }
        out.push(current);
    }
    out
}

/// The value of a single-line field of a stanza.
pub fn field<'s>(stanza: &'s str, name: &str) -> Option<&'s str> {
    stanza.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (!l.starts_with([' ', '\t']) && k.eq_ignore_ascii_case(name)).then(|| v.trim())
    })
}

/// Stanzas of the target architecture (and `all`) by `(name, version)`.
pub fn stanzas_by_key(text: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for s in split_stanzas(text) {
        let arch = field(&s, "Architecture").unwrap_or("");
        if arch != ARCH && arch != "all" {
            continue;
        }
        let name = field(&s, "Package").expect("stanza has a Package field").to_owned();
        let version = field(&s, "Version").expect("stanza has a Version field").to_owned();
        out.insert((name, version), s);
    }
    out
}

/// Whether `program` can be run (`program --version` starts).
fn available(program: &str) -> bool {
    match Command::new(program).arg("--version").output() {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

/// Panics unless apt-get is installed: the comparison with apt is the point
/// of these tests, so it never skips.
pub fn require_apt() {
    if !available("apt-get") {
        panic!("apt-get is not installed; it is the reference these tests compare with (install apt; scripts/test does)");
    }
}

/// Whether dose-distcheck is installed. Under CI a missing one fails the test;
/// elsewhere the caller skips, after this prints a notice.
pub fn dose_available(test: &str) -> bool {
    if available("dose-distcheck") {
        return true;
    }
    missing("dose-distcheck", &format!("the dose checks of {test}"), "install the Debian package dose-distcheck");
    false
}

/// The `name version` set of a `--format json` closure.
pub fn json_package_set(json: &str) -> PackageSet {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("output is not JSON ({e}):\n{json}"));
    let packages = value["packages"].as_array().expect("the JSON output has a packages array");
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().expect("package has a name");
            let version = p["version"].as_str().expect("package has a version");
            (name.to_owned(), version.to_owned())
        })
        .collect()
}

/// debclosure's closure of `request` over `packages_files`, as a set.
pub fn debclosure_set(packages_files: &[&Path], request: &[String]) -> Result<PackageSet, String> {
    let mut args: Vec<String> = vec!["resolve".into()];
    for f in packages_files {
        args.push("--packages-file".into());
        args.push(f.display().to_string());
    }
    args.extend(["--arch".into(), ARCH.into(), "--format".into(), "json".into()]);
    args.extend(request.iter().cloned());
    let run = debclosure(&args);
    if run.code() != Some(0) {
        return Err(format!("debclosure {} failed ({}):\n{}", args.join(" "), run.output.status, run.stderr()));
    }
    Ok(json_package_set(&String::from_utf8(run.output.stdout).expect("output is UTF-8")))
}

/// A readable difference between apt's set and ours, empty when equal.
pub fn set_diff(apt: &PackageSet, ours: &PackageSet) -> String {
    let mut out = String::new();
    for (n, v) in apt.difference(ours) {
        let _ = writeln!(out, "  - {n} {v}  (apt only)");
    }
    for (n, v) in ours.difference(apt) {
        let _ = writeln!(out, "  + {n} {v}  (debclosure only)");
    }
    out
}

/// A throw-away apt root whose only source is one Packages file, with an empty
/// dpkg status, read without the host's apt configuration.
pub struct AptRoot {
    dir: tempfile::TempDir,
}

impl AptRoot {
    /// Builds the root around `packages` (plain, `.xz` or `.gz`; linked, not
    /// copied) and runs `apt-get update` on it.
    pub fn new(packages: &Path) -> AptRoot {
        let dir = tempfile::Builder::new().prefix("debclosure-apt-").tempdir().expect("temporary directory");
        let root = dir.path().join("root");
        let repo = dir.path().join("repo");
        for d in [
            "etc/apt/apt.conf.d",
            "etc/apt/preferences.d",
            "etc/apt/sources.list.d",
            "etc/apt/trusted.gpg.d",
            "var/lib/dpkg",
            "var/lib/apt/lists/partial",
            "var/cache/apt/archives/partial",
            "var/log/apt",
        ] {
            std::fs::create_dir_all(root.join(d)).expect("create the apt root");
        }
        std::fs::create_dir_all(&repo).expect("create the repository directory");
        let packages = std::fs::canonicalize(packages)
            .unwrap_or_else(|e| panic!("cannot find {}: {e}", packages.display()));
        let name = match packages.extension().and_then(|e| e.to_str()) {
            Some("xz") => "Packages.xz",
            Some("gz") => "Packages.gz",
            _ => "Packages",
        };
        std::os::unix::fs::symlink(&packages, repo.join(name)).expect("link the Packages file");
        std::fs::write(root.join("var/lib/dpkg/status"), "").expect("write the dpkg status");
        std::fs::write(
            root.join("etc/apt/sources.list"),
            format!("deb [trusted=yes] file:{} ./\n", repo.display()),
        )
        .expect("write sources.list");
        // APT_CONFIG is read first: it points apt's configuration directories
        // into the root, so no hook, proxy or Install-Recommends of the host
        // applies.
        std::fs::write(
            root.join("apt.conf"),
            format!(
                "Dir \"{r}/\";\nDir::Etc::Parts \"{r}/etc/apt/apt.conf.d\";\nDir::Etc::Main \"{r}/etc/apt/apt.conf\";\n",
                r = root.display()
            ),
        )
        .expect("write apt.conf");
        let apt = AptRoot { dir };
        let out = apt.apt_get(&["update"]);
        assert!(
            out.status.success(),
            "apt-get update on {} failed:\n{}{}",
            packages.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        apt
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn apt_get(&self, args: &[&str]) -> Output {
        let root = self.root();
        let r = root.display();
        let options = [
            format!("Dir={r}"),
            format!("Dir::State::status={r}/var/lib/dpkg/status"),
            format!("Dir::Etc::SourceParts={r}/etc/apt/sources.list.d"),
            format!("APT::Architecture={ARCH}"),
            format!("APT::Architectures={ARCH}"),
            "Debug::NoLocking=1".to_owned(),
        ];
        let mut cmd = Command::new("apt-get");
        for o in &options {
            cmd.arg("-o").arg(o);
        }
        cmd.args(args)
            .env("APT_CONFIG", root.join("apt.conf"))
            .env("LC_ALL", "C")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .expect("apt-get runs")
    }

    /// What `apt-get install -s --no-install-recommends` installs from an
    /// empty system: the `Inst` lines, as a set.
    pub fn install_set(&self, request: &[String]) -> Result<PackageSet, String> {
        let mut args = vec!["install", "-s", "--no-install-recommends"];
        args.extend(request.iter().map(String::as_str));
        let out = self.apt_get(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "apt-get install -s {} failed:\n{stdout}{}",
                request.join(" "),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let set: PackageSet = stdout
            .lines()
            .filter_map(|l| {
                // Inst NAME [OLD] (VERSION ORIGIN [ARCH])
                let rest = l.strip_prefix("Inst ")?;
                let (name, rest) = rest.split_once(' ')?;
                let rest = rest.split_once('(')?.1;
                let version = rest.split_whitespace().next()?;
                Some((name.split(':').next()?.to_owned(), version.to_owned()))
            })
            .collect();
        if set.is_empty() {
            return Err(format!("apt-get installs nothing for {}:\n{stdout}", request.join(" ")));
        }
        Ok(set)
    }
}

/// The outcome of dose-distcheck on one closure.
pub struct DoseReport {
    /// The command lines run, for the report.
    pub commands: Vec<String>,
}

/// Runs dose-distcheck in `dir` on a Packages file holding exactly the
/// stanzas of `set` (from `stanzas`): every package must be installable from
/// that file alone, and the whole set must be co-installable.
pub fn dose_check(
    dir: &Path,
    stanzas: &BTreeMap<(String, String), String>,
    set: &PackageSet,
) -> Result<DoseReport, String> {
    let mut text = String::new();
    for key in set {
        let s = stanzas
            .get(key)
            .ok_or_else(|| format!("{} {} is not in the index", key.0, key.1))?;
        text.push_str(s);
        text.push('\n');
    }
    let file = dir.join("closure.Packages");
    std::fs::write(&file, text).expect("write the closure's Packages file");
    let source = format!("deb://{}", file.display());
    let native = format!("--deb-native-arch={ARCH}");
    let mut commands = Vec::new();

    // Each package installable using only the file.
    let args = [native.as_str(), "-f", "-e", source.as_str()];
    commands.push(format!("dose-distcheck {}", args.join(" ")));
    let out = Command::new("dose-distcheck").args(args).output().expect("dose-distcheck runs");
    let report = String::from_utf8_lossy(&out.stdout);
    let total = report_number(&report, "total-packages");
    let broken = report_number(&report, "broken-packages");
    if !out.status.success() || broken != Some(0) || total != Some(set.len()) {
        return Err(format!(
            "{} exited with {} (total-packages {total:?}, broken-packages {broken:?}, want {} and 0):\n{report}{}",
            commands[0],
            out.status,
            set.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    // The whole set co-installable: one tuple of exact versions. dose wants
    // the architecture on every name, `all` packages included.
    let tuple: Vec<String> = set.iter().map(|(n, v)| format!("{n}:{ARCH} (= {v})")).collect();
    let coinst = format!("--coinst={}", tuple.join(","));
    let args = [native.as_str(), "-f", "-e", coinst.as_str(), source.as_str()];
    commands.push(format!(
        "dose-distcheck {native} -f -e --coinst='NAME:{ARCH} (= VERSION),...' {source}"
    ));
    let out = Command::new("dose-distcheck").args(args).output().expect("dose-distcheck runs");
    let report = String::from_utf8_lossy(&out.stdout);
    let tuples = report_number(&report, "total-tuples");
    let broken = report_number(&report, "broken-tuples");
    if !out.status.success() || tuples != Some(1) || broken != Some(0) {
        return Err(format!(
            "{} exited with {} (total-tuples {tuples:?}, broken-tuples {broken:?}, want 1 and 0):\n{report}{}",
            commands[1],
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(DoseReport { commands })
}

/// A `key: N` line of a dose report.
fn report_number(report: &str, key: &str) -> Option<usize> {
    report.lines().find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':')?.trim().parse().ok())
}
