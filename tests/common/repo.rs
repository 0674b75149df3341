//! Builds a Debian-style repository in a directory for integration tests:
//! `pool/` files, `dists/SUITE/COMPONENT/binary-ARCH/Packages{,.xz,.gz}` with
//! `by-hash` copies, and a `Release` signed (InRelease and Release.gpg) with
//! OpenPGP keys generated at test time, since a committed signature would
//! expire with its `Valid-Until`. [`Archive`] serves one on `127.0.0.1`.

use std::io::Write;
use std::path::{Path, PathBuf};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, DetachedSignature, EncryptionCaps, KeyType, SecretKeyParamsBuilder,
    SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::ser::Serialize;
use pgp::types::Password;
use sha2::{Digest, Sha256};

use super::cli::Cli;
use super::server::TestServer;

/// Hex SHA256.
pub fn sha256(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// A signing key made for one test.
pub struct Key {
    secret: SignedSecretKey,
}

impl Key {
    /// An Ed25519 primary key with a signing subkey (fast to make).
    pub fn generate(name: &str) -> Key {
        let mut sub = SubkeyParamsBuilder::default();
        sub.key_type(KeyType::Ed25519Legacy)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .can_authenticate(false);
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .can_encrypt(EncryptionCaps::None)
            .primary_user_id(format!("{name} <{name}@example.invalid>"))
            .subkeys(vec![sub.build().unwrap()]);
        let secret = params.build().unwrap().generate(rand::thread_rng()).unwrap();
        Key { secret }
    }

    /// The public key as a binary keyring file.
    pub fn write_keyring(&self, path: &Path) -> PathBuf {
        let mut out = Vec::new();
        self.secret.to_public_key().to_writer(&mut out).unwrap();
        std::fs::write(path, out).unwrap();
        path.to_owned()
    }

    /// The signing subkey's fingerprint, upper-case hex as errors name it:
    /// to redact it from a snapshot.
    pub fn signing_fingerprint(&self) -> String {
        use pgp::types::KeyDetails as _;
        format!("{:X}", self.secret.secret_subkeys[0].key.fingerprint())
    }

    fn signature(&self, text: &str) -> pgp::packet::Signature {
        let msg = CleartextSignedMessage::sign(
            rand::thread_rng(),
            text,
            &self.secret.secret_subkeys[0].key,
            &Password::empty(),
        )
        .unwrap();
        msg.signatures()[0].clone()
    }

    /// A detached, armored signature (Release.gpg).
    pub fn sign_detached(&self, data: &[u8]) -> Vec<u8> {
        DetachedSignature::sign_binary_data(
            rand::thread_rng(),
            &self.secret.secret_subkeys[0].key,
            &Password::empty(),
            HashAlgorithm::Sha256,
            data,
        )
        .unwrap()
        .to_armored_bytes(ArmorOptions::default())
        .unwrap()
    }
}

/// An InRelease file: `release` signed by every key in `keys`.
pub fn inrelease(release: &str, keys: &[&Key]) -> String {
    let text = release.strip_suffix('\n').unwrap_or(release);
    let sigs: Vec<_> = keys.iter().map(|k| k.signature(text)).collect();
    CleartextSignedMessage::new_many(text, |_| Ok(sigs))
        .unwrap()
        .to_armored_string(ArmorOptions::default())
        .unwrap()
}

/// An RFC 2822 date as Release files write it.
pub fn release_date(unix: i64) -> String {
    super::date(unix, "UTC")
}

/// Now, in seconds since 1970.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A package to put in the pool and the index.
pub struct Deb {
    pub name: String,
    pub version: String,
    pub arch: String,
    /// Extra stanza lines (`Depends: x`).
    pub fields: String,
    /// The `.deb` file's bytes (any bytes do for resolving and fetching).
    pub content: Vec<u8>,
}

impl Deb {
    pub fn new(name: &str, version: &str, fields: &str) -> Deb {
        Deb {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            fields: fields.into(),
            content: format!("deb of {name} {version}").into_bytes(),
        }
    }

    pub fn filename(&self) -> String {
        let first = &self.name[..1];
        format!("pool/main/{first}/{}/{}_{}_{}.deb", self.name, self.name, self.version.replace(':', "%3a"), self.arch)
    }

    pub fn stanza(&self) -> String {
        let mut s = format!(
            "Package: {}\nVersion: {}\nArchitecture: {}\nPriority: optional\nFilename: {}\nSize: {}\nSHA256: {}\n",
            self.name,
            self.version,
            self.arch,
            self.filename(),
            self.content.len(),
            sha256(&self.content)
        );
        for line in self.fields.lines().filter(|l| !l.trim().is_empty()) {
            s.push_str(line.trim());
            s.push('\n');
        }
        s
    }
}

/// How one suite is laid out and signed.
pub struct Suite {
    pub name: String,
    pub components: Vec<(String, Vec<Deb>)>,
    pub arch: String,
    pub date: i64,
    pub valid_until: Option<i64>,
    pub by_hash: bool,
    pub not_automatic: bool,
    /// Which index files to write: any of "xz", "gz", "bz2", "plain".
    pub formats: Vec<&'static str>,
    /// Whether the Release lists the uncompressed Packages hash.
    pub list_plain: bool,
}

impl Suite {
    pub fn new(name: &str, debs: Vec<Deb>) -> Suite {
        Suite {
            name: name.into(),
            components: vec![("main".into(), debs)],
            arch: "amd64".into(),
            date: now() - 3600,
            valid_until: None,
            by_hash: true,
            formats: vec!["xz", "gz"],
            not_automatic: false,
            list_plain: true,
        }
    }
}

pub fn xz(data: &[u8]) -> Vec<u8> {
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

pub fn bz2(data: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}

/// Writes the suite's pool files, indices and Release files (signed by
/// `keys`) under `root`; returns the Release text.
pub fn write_suite(root: &Path, suite: &Suite, keys: &[&Key]) -> String {
    let dists = root.join("dists").join(&suite.name);
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for (component, debs) in &suite.components {
        let mut text = String::new();
        for deb in debs {
            write(&root.join(deb.filename()), &deb.content);
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&deb.stanza());
        }
        let dir = format!("{component}/binary-{}", suite.arch);
        let plain = text.into_bytes();
        for format in &suite.formats {
            let (name, data) = match *format {
                "xz" => ("Packages.xz", xz(&plain)),
                "gz" => ("Packages.gz", gz(&plain)),
                "bz2" => ("Packages.bz2", bz2(&plain)),
                _ => ("Packages", plain.clone()),
            };
            entries.push((format!("{dir}/{name}"), data));
        }
        if suite.list_plain && !suite.formats.contains(&"plain") {
            // Listed in the Release, not present on the mirror, as Debian does.
            entries.push((format!("{dir}/Packages"), plain.clone()));
        }
    }
    let mut release = format!(
        "Origin: Test\nLabel: Test\nSuite: {0}\nCodename: {0}\nDate: {1}\n",
        suite.name,
        release_date(suite.date)
    );
    if let Some(v) = suite.valid_until {
        release.push_str(&format!("Valid-Until: {}\n", release_date(v)));
    }
    if suite.not_automatic {
        release.push_str("NotAutomatic: yes\nButAutomaticUpgrades: yes\n");
    }
    if suite.by_hash {
        release.push_str("Acquire-By-Hash: yes\n");
    }
    release.push_str(&format!("Architectures: {}\nComponents: {}\nSHA256:\n", suite.arch,
        suite.components.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(" ")));
    for (path, data) in &entries {
        release.push_str(&format!(" {} {:>8} {path}\n", sha256(data), data.len()));
        let on_mirror = !path.ends_with("/Packages") || suite.formats.contains(&"plain");
        if on_mirror {
            write(&dists.join(path), data);
            if suite.by_hash {
                let dir = Path::new(path).parent().unwrap();
                write(&dists.join(dir).join("by-hash/SHA256").join(sha256(data)), data);
            }
        }
    }
    write(&dists.join("Release"), release.as_bytes());
    if !keys.is_empty() {
        write(&dists.join("InRelease"), inrelease(&release, keys).as_bytes());
        write(&dists.join("Release.gpg"), &keys[0].sign_detached(release.as_bytes()));
    }
    release
}

/// A signed archive served on `127.0.0.1`: `DIR/www/debian` holds the
/// suites, signed by one key, whose public key is `DIR/archive.gpg`. The
/// cache of the runs against it is `DIR/cache`; `DIR/proj` is a project
/// directory for a spec and a lock.
pub struct Archive {
    /// The directory that holds it all; the tests add their own files.
    pub dir: tempfile::TempDir,
    /// The archive's signing key.
    pub key: Key,
    /// The keyring with its public key.
    pub keyring: PathBuf,
    /// The server for `DIR/www`.
    pub server: TestServer,
}

impl Archive {
    /// An archive with `suites`, served.
    pub fn new(suites: &[Suite]) -> Archive {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::generate("archive");
        let keyring = key.write_keyring(&dir.path().join("archive.gpg"));
        for suite in suites {
            write_suite(&dir.path().join("www/debian"), suite, &[&key]);
        }
        let server = TestServer::serve_dir(&dir.path().join("www"));
        std::fs::create_dir_all(dir.path().join("proj")).unwrap();
        Archive { dir, key, keyring, server }
    }

    /// `DIR/NAME`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The archive's root on disk, `DIR/www/debian`.
    pub fn root(&self) -> PathBuf {
        self.path("www/debian")
    }

    /// The cache of the runs.
    pub fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    /// The archive's URL.
    pub fn mirror(&self) -> String {
        self.server.url("/debian")
    }

    /// The project directory, `DIR/proj`.
    pub fn proj(&self) -> PathBuf {
        self.path("proj")
    }

    /// A run against it: its cache, `DIR` shown as `[ARCHIVE]` in reports.
    pub fn cli(&self) -> Cli {
        Cli::new().cache_dir(self.cache()).redact(self.dir.path(), "[ARCHIVE]")
    }

    /// Writes the project's spec, `debclosure.toml`: amd64, `packages`, the
    /// archive's keyring and one source, its `stable` suite, with `top`
    /// (top-level keys) and `tail` (more of the `[[source]]` table, or
    /// tables after it) added.
    pub fn write_spec(&self, packages: &[&str], top: &str, tail: &str) {
        let list: Vec<String> = packages.iter().map(|p| format!("{p:?}")).collect();
        let spec = format!(
            "architecture = \"amd64\"\npackages = [{}]\nkeyring = [{:?}]\n{top}\n[[source]]\nsuites = [\"stable\"]\nmirror = {:?}\n{tail}",
            list.join(", "),
            self.keyring.display().to_string(),
            self.mirror()
        );
        std::fs::write(self.proj().join("debclosure.toml"), spec).unwrap();
    }

    /// Writes `suite` again (a newer state of the archive, or a suite
    /// signed by other keys).
    pub fn write(&self, suite: &Suite, keys: &[&Key]) -> String {
        write_suite(&self.root(), suite, keys)
    }

    /// Signs the suite's Release again after `edit`, which must change it;
    /// the plain Release is left as it was.
    pub fn resign(&self, suite: &str, edit: impl Fn(&str) -> String) {
        let dists = self.root().join("dists").join(suite);
        let release = std::fs::read_to_string(dists.join("Release")).unwrap();
        let changed = edit(&release);
        assert_ne!(changed, release, "the edit changed nothing");
        std::fs::write(dists.join("InRelease"), inrelease(&changed, &[&self.key])).unwrap();
    }
}
