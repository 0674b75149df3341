//! `Release` files: the signed index of a suite (the text inside `InRelease`,
//! or the file that `Release.gpg` signs), as the Debian wiki page
//! *DebianRepository/Format* describes them.
//!
//! Only parsing happens here; [`crate::signature`] checks the signature first.
//! The checksum table is taken from the `SHA256` field alone: `MD5Sum` and
//! `SHA1` are ignored, and a file without `SHA256` is refused rather than
//! trusted on a weaker hash. Every path in the table is checked to be safe to
//! join to a URL or a directory. Dates are parsed here too, without a date
//! library: Release files write them in the RFC 2822 form
//! `Sat, 10 May 2025 08:47:39 UTC`.

use crate::deb822::{self, cut, Deb822Error, Field, Stanza};
use crate::hash::Sha256;
use crate::index::check_filename;

/// How far `Date:` may lie in the future before [`Release::check_dates`]
/// refuses it: one day, so that a machine whose clock is off by some hours
/// (or whose time zone is set wrongly) still works, while a Release that was
/// dated ahead on purpose, to stay "fresh" for longer, does not.
pub const DATE_SKEW_TOLERANCE: i64 = 24 * 60 * 60;

/// A point in time read from a Release field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub unix: i64,
    /// The value exactly as written in the file.
    pub text: String,
}

/// One entry of the `SHA256` checksum table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    /// Path relative to the directory of the Release file, checked to be
    /// safe (see [`check_filename`]).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA256 of the file.
    pub sha256: Sha256,
}

/// The fields of a Release file that debclosure uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// `Origin:`
    pub origin: Option<String>,
    /// `Label:`
    pub label: Option<String>,
    /// `Suite:` (`stable`, `bookworm-updates`, …).
    pub suite: Option<String>,
    /// `Codename:` (`bookworm`).
    pub codename: Option<String>,
    /// `Date:`, when the file was generated.
    pub date: Option<Timestamp>,
    /// `Valid-Until:`; absent for suites that do not expire (e.g. Debian's
    /// stable releases), set for security and update suites.
    pub valid_until: Option<Timestamp>,
    /// `Architectures:`, in file order.
    pub architectures: Vec<String>,
    /// `Components:`, in file order.
    pub components: Vec<String>,
    /// `Acquire-By-Hash: yes`: files can also be fetched from
    /// `…/by-hash/SHA256/<hash>`, which does not change while a mirror
    /// updates.
    pub acquire_by_hash: bool,
    /// `NotAutomatic: yes` (e.g. experimental, backports): packages are used
    /// only when asked for by name.
    pub not_automatic: bool,
    /// `ButAutomaticUpgrades: yes` (backports): installed packages follow
    /// upgrades from the suite.
    pub but_automatic_upgrades: bool,
    /// The `SHA256` table, in file order; paths are unique.
    pub files: Vec<ReleaseFile>,
}

/// Why a Release file is refused; each names the file and, where there is
/// one, the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// The text is not valid deb822.
    #[error("{file}:{}: {}", .error.line, .error.problem)]
    Syntax {
        /// The Release label (path or URL).
        file: String,
        /// The parse error with its line.
        error: Deb822Error,
    },
    /// The text has no fields at all.
    #[error("{file}: empty Release file")]
    Empty {
        /// The Release label.
        file: String,
    },
    /// A Release file is one stanza; this one has more.
    #[error("{file}:{line}: unexpected second stanza in a Release file")]
    ExtraStanza {
        /// The Release label.
        file: String,
        /// Line of the second stanza.
        line: usize,
    },
    /// There is no `SHA256` field, so no file can be checked.
    #[error("{file}:{line}: Release has no SHA256 field")]
    MissingSha256 {
        /// The Release label.
        file: String,
        /// Line of the stanza.
        line: usize,
    },
    /// An entry of the `SHA256` table is not `hash size path`.
    #[error("{file}:{line}: bad SHA256 entry: {problem}")]
    BadChecksumLine {
        /// The Release label.
        file: String,
        /// Line of the entry.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// A path in the `SHA256` table could escape the repository.
    #[error("{file}:{line}: unsafe path in SHA256 entry: {problem}")]
    UnsafePath {
        /// The Release label.
        file: String,
        /// Line of the entry.
        line: usize,
        /// What is wrong with the path.
        problem: String,
    },
    /// A path appears twice in the `SHA256` table.
    #[error("{file}:{line}: {path} appears twice in the SHA256 field")]
    DuplicateFile {
        /// The Release label.
        file: String,
        /// Line of the second entry.
        line: usize,
        /// The path.
        path: String,
    },
    /// `Date:` or `Valid-Until:` is not an RFC 2822 date.
    #[error("{file}:{line}: {field}: {value:?} is not a date like \"Sat, 10 May 2025 08:47:39 UTC\"")]
    BadDate {
        /// The Release label.
        file: String,
        /// Line of the field.
        line: usize,
        /// The field name.
        field: &'static str,
        /// The value as written, cut to 60 characters.
        value: String,
    },
    /// A field has a value that is not allowed.
    #[error("{file}:{line}: {field}: {problem}")]
    BadField {
        /// The Release label.
        file: String,
        /// Line of the field.
        line: usize,
        /// The field name.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// `Valid-Until:` has passed: the file may be an old copy replayed by a
    /// mirror or an attacker to hide newer (security) updates.
    #[error("{file}: expired: Valid-Until {} is in the past", .valid_until.text)]
    Expired {
        /// The Release label.
        file: String,
        /// The `Valid-Until:` value.
        valid_until: Timestamp,
    },
    /// `Date:` lies more than [`DATE_SKEW_TOLERANCE`] in the future.
    #[error("{file}: Date {} is more than a day in the future", .date.text)]
    DateInFuture {
        /// The Release label.
        file: String,
        /// The `Date:` value.
        date: Timestamp,
    },
}

impl ReleaseError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            ReleaseError::Expired { .. } => Some(
                "the mirror serves an outdated copy of the suite; try another mirror or fetch again later, and check the system clock".into(),
            ),
            ReleaseError::DateInFuture { .. } => Some("check the system clock".into()),
            ReleaseError::MissingSha256 { .. } => {
                Some("the repository must list SHA256 checksums; MD5Sum and SHA1 are not trusted".into())
            }
            _ => None,
        }
    }
}

impl Release {
    /// The `SHA256` entry for `path` (e.g. `main/binary-amd64/Packages.xz`).
    pub fn file(&self, path: &str) -> Option<&ReleaseFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// Checks the dates against the clock `now_unix` (seconds since the
    /// epoch): `Valid-Until:` must not have passed, and `Date:` must not lie
    /// more than [`DATE_SKEW_TOLERANCE`] ahead. Absent fields pass.
    pub fn check_dates(&self, now_unix: i64, label: &str) -> Result<(), ReleaseError> {
        if let Some(valid_until) = &self.valid_until {
            if valid_until.unix < now_unix {
                return Err(ReleaseError::Expired { file: label.into(), valid_until: valid_until.clone() });
            }
        }
        if let Some(date) = &self.date {
            if date.unix > now_unix.saturating_add(DATE_SKEW_TOLERANCE) {
                return Err(ReleaseError::DateInFuture { file: label.into(), date: date.clone() });
            }
        }
        Ok(())
    }
}

/// Parses the text of a Release file; `label` (a path or URL) names it in
/// errors.
pub fn parse_release(text: &str, label: &str) -> Result<Release, ReleaseError> {
    let syntax = |error| ReleaseError::Syntax { file: label.into(), error };
    let mut stanzas = deb822::parse(text);
    let stanza: Stanza<'_> = match stanzas.next() {
        Some(result) => result.map_err(syntax)?,
        None => return Err(ReleaseError::Empty { file: label.into() }),
    };
    if let Some(next) = stanzas.next() {
        let next = next.map_err(syntax)?;
        return Err(ReleaseError::ExtraStanza { file: label.into(), line: next.line });
    }

    let string = |name: &str| stanza.get(name).map(str::to_owned);
    let words =
        |name: &str| stanza.get(name).map_or_else(Vec::new, |v| v.split_whitespace().map(str::to_owned).collect());
    let date = |name: &'static str| -> Result<Option<Timestamp>, ReleaseError> {
        let Some(field) = stanza.field(name) else { return Ok(None) };
        match parse_date(field.value) {
            Some(unix) => Ok(Some(Timestamp { unix, text: field.value.into() })),
            None => Err(ReleaseError::BadDate {
                file: label.into(),
                line: field.line,
                field: name,
                value: cut(field.value).into_owned(),
            }),
        }
    };
    let flag = |name: &'static str| -> Result<bool, ReleaseError> {
        let Some(field) = stanza.field(name) else { return Ok(false) };
        if field.value.eq_ignore_ascii_case("yes") {
            Ok(true)
        } else if field.value.eq_ignore_ascii_case("no") {
            Ok(false)
        } else {
            Err(ReleaseError::BadField {
                file: label.into(),
                line: field.line,
                field: name,
                problem: format!("expected yes or no, found {:?}", cut(field.value)),
            })
        }
    };

    let sha256 =
        stanza.field("SHA256").ok_or_else(|| ReleaseError::MissingSha256 { file: label.into(), line: stanza.line })?;
    Ok(Release {
        origin: string("Origin"),
        label: string("Label"),
        suite: string("Suite"),
        codename: string("Codename"),
        date: date("Date")?,
        valid_until: date("Valid-Until")?,
        architectures: words("Architectures"),
        components: words("Components"),
        acquire_by_hash: flag("Acquire-By-Hash")?,
        not_automatic: flag("NotAutomatic")?,
        but_automatic_upgrades: flag("ButAutomaticUpgrades")?,
        files: read_checksums(text, sha256, label)?,
    })
}

/// Reads the `hash size path` lines of the `SHA256` field.
fn read_checksums(text: &str, field: &Field<'_>, label: &str) -> Result<Vec<ReleaseFile>, ReleaseError> {
    // The value usually starts on the line after `SHA256:`, but deb822 trims
    // that first newline away; its position in `text` gives the real line.
    let offset = (field.value.as_ptr() as usize).checked_sub(text.as_ptr() as usize).filter(|&o| o <= text.len());
    let first_line = match offset {
        Some(offset) => 1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count(),
        None => field.line,
    };
    let bad = |line, problem: String| ReleaseError::BadChecksumLine { file: label.into(), line, problem };

    let mut files: Vec<ReleaseFile> = Vec::new();
    // Paths seen so far: a scan per entry would be quadratic (issue 8).
    let mut paths = std::collections::HashSet::new();
    for (n, entry) in field.value.split('\n').enumerate() {
        let line = first_line + n;
        let entry = entry.trim();
        // deb822 skips comment lines but keeps them inside a field's span.
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let columns: Vec<&str> = entry.split_ascii_whitespace().collect();
        let [hash, size, path] = columns[..] else {
            return Err(bad(line, format!("expected `sha256 size path`, found {} columns", columns.len())));
        };
        // apt takes either case.
        let sha256 = Sha256::parse_any_case(hash).map_err(|e| bad(line, e.to_string()))?;
        if !size.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad(line, format!("{:?} is not a size in bytes", cut(size))));
        }
        let size = size.parse::<u64>().map_err(|_| bad(line, format!("{:?} is not a size in bytes", cut(size))))?;
        check_filename(path).map_err(|problem| ReleaseError::UnsafePath { file: label.into(), line, problem })?;
        if !paths.insert(path) {
            return Err(ReleaseError::DuplicateFile { file: label.into(), line, path: cut(path).into_owned() });
        }
        files.push(ReleaseFile { path: path.into(), size, sha256 });
    }
    Ok(files)
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Parses a date as Release files write it (RFC 2822, as `date -R -u`
/// prints it): `Sat, 10 May 2025 08:47:39 UTC`. The weekday is optional and
/// not checked against the date; the day may have one digit; the seconds may
/// be left out or be 60 (a leap second, counted as the next minute's first);
/// the zone is `UTC`, `GMT`, `UT`, `Z` or an offset like `+0200`. Returns
/// seconds since 1970-01-01 00:00:00 UTC, or `None` if `s` is not such a
/// date.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut tokens: Vec<&str> = s.split_ascii_whitespace().collect();
    if let Some(day_name) = tokens.first().and_then(|t| t.strip_suffix(',')) {
        if !WEEKDAYS.iter().any(|w| w.eq_ignore_ascii_case(day_name)) {
            return None;
        }
        tokens.remove(0);
    }
    let [day, month, year, time, zone] = tokens[..] else { return None };

    let day = number(day, 1..=2)?;
    let month = 1 + MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64;
    let year = number(year, 4..=4)?;
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut hms = time.split(':');
    let hour = number(hms.next()?, 2..=2)?;
    let minute = number(hms.next()?, 2..=2)?;
    let second = match hms.next() {
        Some(s) => number(s, 2..=2)?,
        None => 0,
    };
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match zone {
        "UTC" | "GMT" | "UT" | "Z" => 0,
        _ => {
            let (sign, digits) = match zone.as_bytes().first()? {
                b'+' => (1, &zone[1..]),
                b'-' => (-1, &zone[1..]),
                _ => return None,
            };
            let hhmm = number(digits, 4..=4)?;
            let (hours, minutes) = (hhmm / 100, hhmm % 100);
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86400 + hour * 3600 + minute * 60 + second - offset)
}

/// An unsigned decimal number of `digits` digits.
fn number(s: &str, digits: std::ops::RangeInclusive<usize>) -> Option<i64> {
    if !digits.contains(&s.len()) || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to the given date of the proleptic Gregorian
/// calendar (negative before 1970).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Count years from March, so that February, with its leap day, ends the
    // year; then every 400 years ("era") have the same 146097 days.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = (month + 9) % 12;
    // Days before the month in a March-based year: 31, 30, 31, 30, 31 repeat
    // every five months, which (153 * m + 2) / 5 reproduces.
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719468 days lie between 0000-03-01 and 1970-01-01.
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) of the proleptic Gregorian calendar that lies
/// `days` days after 1970-01-01: the inverse of `days_from_civil`, for
/// showing times in messages.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../tests/fixtures/release/bookworm-resigned-InRelease");

    /// The text between the armor header and the signature, the way an
    /// InRelease whose lines need no dash-escaping holds it.
    fn signed_part(inrelease: &str) -> &str {
        let start = inrelease.find("\n\n").expect("armor headers end") + 2;
        let end = inrelease.find("\n-----BEGIN PGP SIGNATURE-----").expect("signature") + 1;
        &inrelease[start..end]
    }

    const SHA: &str = "9e0b5aabb2465b3d2e7a7fe27f9913846277833f7a2826e7767acccff5b588c5";

    #[test]
    fn real_bookworm_release() {
        let release = parse_release(signed_part(FIXTURE), "bookworm/InRelease").unwrap();
        assert_eq!(release.origin.as_deref(), Some("Debian"));
        assert_eq!(release.label.as_deref(), Some("Debian"));
        assert_eq!(release.suite.as_deref(), Some("oldstable"));
        assert_eq!(release.codename.as_deref(), Some("bookworm"));
        let date = release.date.as_ref().unwrap();
        assert_eq!(date.text, "Sat, 11 Jul 2026 10:16:37 UTC");
        assert_eq!(date.unix, 1_783_764_997);
        assert_eq!(release.valid_until, None);
        assert_eq!(
            release.architectures,
            ["all", "amd64", "arm64", "armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "s390x"]
        );
        assert_eq!(release.components, ["main", "contrib", "non-free-firmware", "non-free"]);
        assert!(release.acquire_by_hash);
        assert!(!release.not_automatic);
        assert!(!release.but_automatic_upgrades);

        // 772 entries in each of MD5Sum and SHA256; only SHA256 is kept.
        assert_eq!(release.files.len(), 772);
        assert_eq!(
            release.file("main/binary-amd64/Packages.xz"),
            Some(&ReleaseFile { path: "main/binary-amd64/Packages.xz".into(), size: 8_790_396, sha256: SHA.parse().unwrap() })
        );
        let first = &release.files[0];
        assert_eq!(first.path, "contrib/Contents-all");
        assert_eq!(first.sha256.to_string(), "d6c9c82f4e61b4662f9ba16b9ebb379c57b4943f8b7813091d1f637325ddfb79");
        assert_eq!(first.size, 1_484_322);
        let last = release.files.last().unwrap();
        assert_eq!(last.path, "non-free/source/Sources.xz");
        assert_eq!(last.size, 77_952);
        assert_eq!(release.file("main/binary-amd64/Release").map(|f| f.size), Some(120));
        assert_eq!(release.file("main/binary-amd64/Packages.bz2"), None);
        assert!(release.check_dates(date.unix, "x").is_ok());
    }

    #[test]
    fn minimal_release_and_flags() {
        let text = format!(
            "Suite: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: Yes\nAcquire-By-Hash: no\n\
             Valid-Until: Sat, 1 Jun 2024 00:00:00 +0000\nSHA256:\n {} 0 main/binary-all/Packages\n",
            SHA.to_uppercase()
        );
        let release = parse_release(&text, "r").unwrap();
        assert!(release.not_automatic && release.but_automatic_upgrades && !release.acquire_by_hash);
        assert_eq!(release.date, None);
        assert_eq!(release.valid_until.as_ref().map(|t| t.unix), Some(1_717_200_000));
        assert_eq!(
            release.files,
            [ReleaseFile { path: "main/binary-all/Packages".into(), size: 0, sha256: SHA.parse().unwrap() }]
        );
        assert!(release.architectures.is_empty() && release.origin.is_none());
    }

    #[test]
    fn malformed_inputs_name_the_line() {
        let entry = format!(" {SHA} 10 main/Packages");
        let cases: Vec<(String, usize, &str)> = vec![
            ("Origin: x\nMD5Sum:\n 00 1 a\n".into(), 1, "no SHA256 field"),
            (format!("Origin: x\n\nSHA256:\n{entry}\n"), 3, "second stanza"),
            (format!("Origin: x\nSHA256:\n{entry}\n {SHA} 10\n"), 4, "2 columns"),
            (format!("SHA256:\n{entry}\n {SHA} 10 b extra\n"), 3, "4 columns"),
            ("SHA256:\n 0123 10 a\n".into(), 2, "not 64 hex digits"),
            (format!("SHA256:\n {}g 1 a\n", &SHA[1..]), 2, "not 64 hex digits"),
            (format!("SHA256:\n{entry}\n\t{SHA} -1 b\n"), 3, "not a size"),
            (format!("SHA256:\n {SHA} +1 b\n"), 2, "not a size"),
            (format!("SHA256:\n {SHA} 99999999999999999999 b\n"), 2, "not a size"),
            (format!("SHA256: {SHA} 1 b\n {SHA} 1 /etc/passwd\n"), 2, "absolute"),
            (format!("A: b\nSHA256:\n{entry}\n {SHA} 1 main/../../x\n"), 4, "'..' component"),
            (format!("SHA256:\n {SHA} 1 main/a\u{1b}b\n"), 2, "character"),
            (format!("SHA256:\n{entry}\n#c\n{entry}\n"), 4, "appears twice"),
            ("Date: Sat, 10 May 2025 08:47:39\nSHA256:\n".into(), 1, "Date"),
            ("A: b\nValid-Until: tomorrow\nSHA256:\n".into(), 2, "Valid-Until"),
            ("SHA256:\nNotAutomatic: maybe\n".into(), 2, "yes or no"),
            ("Origin: x\n no field\nbroken\n".into(), 3, "expected `Field: value`"),
        ];
        for (text, line, message) in cases {
            let err = parse_release(&text, "dists/x/Release").expect_err(&text);
            let shown = err.to_string();
            assert!(shown.starts_with(&format!("dists/x/Release:{line}: ")), "{text:?}: {shown}");
            assert!(shown.contains(message), "{text:?}: {shown}");
        }
        let empty = parse_release("# only a comment\n\n", "e").unwrap_err();
        assert_eq!(empty, ReleaseError::Empty { file: "e".into() });
    }

    /// Issue 8: a huge table is read in linear time, its duplicates still
    /// found; huge values are cut in messages.
    #[test]
    fn hostile_sizes() {
        let n = 100_000;
        let mut text = String::from("SHA256:\n");
        for i in 0..n {
            text.push_str(&format!(" {SHA} 1 main/f{i}\n"));
        }
        assert_eq!(parse_release(&text, "r").unwrap().files.len(), n);
        text.push_str(&format!(" {SHA} 1 main/f77\n"));
        let err = parse_release(&text, "r").unwrap_err();
        assert_eq!(err, ReleaseError::DuplicateFile { file: "r".into(), line: n + 2, path: "main/f77".into() });

        let huge = "x".repeat(10_000_000);
        for text in [
            format!("SHA256:\n {huge} 1 a\n"),
            format!("SHA256:\n {SHA} {huge} a\n"),
            format!("SHA256:\n {SHA} 1 /{huge}\n"),
            format!("SHA256:\n {SHA} 1 {huge}\n {SHA} 1 {huge}\n"),
            format!("Date: {huge}\nSHA256:\n"),
            format!("NotAutomatic: {huge}\nSHA256:\n"),
            format!("{huge}\n"),
        ] {
            let shown = parse_release(&text, "r").unwrap_err().to_string();
            assert!(shown.len() < 300, "{} bytes: {}…", shown.len(), &shown[..100]);
        }
    }

    #[test]
    fn dates() {
        let cases: &[(&str, Option<i64>)] = &[
            ("Sat, 10 May 2025 08:47:39 UTC", Some(1_746_866_859)),
            ("Sat, 10 May 2025 08:47:39 +0000", Some(1_746_866_859)),
            ("Sat, 10 May 2025 08:47:39 GMT", Some(1_746_866_859)),
            ("10 May 2025 08:47:39 Z", Some(1_746_866_859)),
            ("Sat, 10 May 2025 08:47:39 +0200", Some(1_746_859_659)),
            ("Sat, 10 May 2025 08:47:39 -0530", Some(1_746_886_659)),
            ("Sat,  10 may 2025 08:47 UTC", Some(1_746_866_820)),
            ("Thu, 1 Jan 1970 00:00:00 UTC", Some(0)),
            ("Wed, 31 Dec 1969 23:59:59 UTC", Some(-1)),
            ("Tue, 19 Jan 2038 03:14:08 UTC", Some(2_147_483_648)),
            ("Sat, 01 Jun 2024 00:00:00 UTC", Some(1_717_200_000)),
            // Leap years: every fourth year, but not centuries unless /400.
            ("Tue, 29 Feb 2000 12:00:00 UTC", Some(951_825_600)),
            ("Wed, 01 Mar 2000 00:00:00 UTC", Some(951_868_800)),
            ("Thu, 29 Feb 2024 23:59:59 UTC", Some(1_709_251_199)),
            ("Mon, 01 Mar 2100 00:00:00 UTC", Some(4_107_542_400)),
            ("Thu, 01 Mar 1900 00:00:00 UTC", Some(-2_203_891_200)),
            ("Sat, 01 Jan 1600 00:00:00 UTC", Some(-11_676_096_000)),
            ("Sun, 31 Dec 2023 23:59:60 UTC", Some(1_704_067_200)),
            ("Sat, 29 Feb 2025 00:00:00 UTC", None),
            ("Mon, 29 Feb 2100 00:00:00 UTC", None),
            ("Tue, 31 Apr 2025 00:00:00 UTC", None),
            ("Sat, 0 May 2025 08:47:39 UTC", None),
            ("Sat, 10 May 25 08:47:39 UTC", None),
            ("Sat, 10 Mai 2025 08:47:39 UTC", None),
            ("Sam, 10 May 2025 08:47:39 UTC", None),
            ("Sat, 10 May 2025 24:00:00 UTC", None),
            ("Sat, 10 May 2025 08:60:00 UTC", None),
            ("Sat, 10 May 2025 08:47:61 UTC", None),
            ("Sat, 10 May 2025 8:47:39 UTC", None),
            ("Sat, 10 May 2025 08:47:39:00 UTC", None),
            ("Sat, 10 May 2025 08:47:39", None),
            ("Sat, 10 May 2025 08:47:39 CEST", None),
            ("Sat, 10 May 2025 08:47:39 +02", None),
            ("Sat, 10 May 2025 08:47:39 +2400", None),
            ("Sat, 10 May 2025 08:47:39 UTC extra", None),
            ("Sat, 10 May +025 08:47:39 UTC", None),
            ("2025-05-10T08:47:39Z", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_date(text), *want, "{text:?}");
        }
    }

    #[test]
    fn days_from_civil_matches_counting() {
        let mut days = days_from_civil(1599, 12, 31);
        for year in 1600..=2400 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    days += 1;
                    assert_eq!(days_from_civil(year, month, day), days, "{year}-{month}-{day}");
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for days in [-719_468, -1, 0, 59, 60, 11_016, 19_000, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days}: {y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    fn with_dates(date: Option<i64>, valid_until: Option<i64>) -> Release {
        let stamp = |unix| Timestamp { unix, text: format!("@{unix}") };
        let mut release = parse_release("SHA256:\n", "r").unwrap();
        release.date = date.map(stamp);
        release.valid_until = valid_until.map(stamp);
        release
    }

    #[test]
    fn check_dates_cases() {
        let now = 1_750_000_000;
        let day = DATE_SKEW_TOLERANCE;
        let ok = [
            (None, None),
            (Some(now - 10 * day), None),
            (Some(now), Some(now)),
            (Some(now + day), Some(now + 7 * day)),
            (Some(now + 3600), None),
        ];
        for (date, valid_until) in ok {
            assert_eq!(with_dates(date, valid_until).check_dates(now, "r"), Ok(()), "{date:?} {valid_until:?}");
        }
        let expired = with_dates(Some(now - 8 * day), Some(now - 1)).check_dates(now, "dists/x/InRelease");
        let err = expired.unwrap_err();
        assert!(matches!(err, ReleaseError::Expired { ref valid_until, .. } if valid_until.unix == now - 1));
        assert_eq!(err.to_string(), format!("dists/x/InRelease: expired: Valid-Until @{} is in the past", now - 1));
        assert!(err.hint().is_some());
        let future = with_dates(Some(now + day + 1), None).check_dates(now, "r").unwrap_err();
        assert!(matches!(future, ReleaseError::DateInFuture { ref date, .. } if date.unix == now + day + 1));
        // Expiry is reported before a future date.
        let both = with_dates(Some(now + 2 * day), Some(now - 1)).check_dates(now, "r");
        assert!(matches!(both, Err(ReleaseError::Expired { .. })));
    }
}
