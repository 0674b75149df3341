//! HTTP downloads over one shared client.
//!
//! A [`Fetcher`] retries what may be transient (refused or dropped
//! connections, stalls, 5xx answers) with exponential backoff and gives up at
//! once on what will not change (404, other 4xx, a wrong size or hash). The
//! read timeout measures a *stall*, the time without a single byte arriving,
//! so a large file on a slow but steady link still completes. Bodies are
//! bounded while they stream in, and hashed as they arrive when the caller
//! knows the expected SHA256.
//!
//! System proxy settings (`HTTPS_PROXY`, `NO_PROXY`, …) are honoured, as
//! reqwest does by default.

use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;
use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderValue};
use reqwest::StatusCode;

use crate::hash::{Sha256, Sha256Hasher};
use crate::url::redact_url;
use crate::report::{DownloadId, Reporter};

/// The default bound on a body whose size is not known in advance: above any
/// index or package in the archive.
pub const DEFAULT_MAX_BODY_SIZE: u64 = 4 << 30;

/// At most this much is reserved up front from a `Content-Length`, so a lying
/// header cannot make us allocate gigabytes before any byte arrives.
const MAX_PREALLOCATION: u64 = 16 << 20;

/// Knobs for [`Fetcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// How long to wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// How long the server may stay silent, waiting for the response headers
    /// or between two pieces of the body, before the attempt times out.
    pub read_timeout: Duration,
    /// How many times a transient failure is retried; 0 means one attempt.
    pub retries: u32,
    /// The delay before the first retry, doubled before each further one.
    pub backoff: Duration,
    /// How many downloads [`Fetcher::map_concurrent`] runs at once; at least 1.
    pub concurrency: usize,
    /// The largest body accepted when the caller does not give an expected
    /// size.
    pub max_body_size: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
            concurrency: 4,
            max_body_size: DEFAULT_MAX_BODY_SIZE,
        }
    }
}

/// The environment variables [`FetchOptions::from_env`] reads.
pub const ENV_CONNECT_TIMEOUT_MS: &str = "DEBCLOSURE_CONNECT_TIMEOUT_MS";
/// See [`ENV_CONNECT_TIMEOUT_MS`].
pub const ENV_READ_TIMEOUT_MS: &str = "DEBCLOSURE_READ_TIMEOUT_MS";
/// See [`ENV_CONNECT_TIMEOUT_MS`].
pub const ENV_RETRIES: &str = "DEBCLOSURE_RETRIES";
/// See [`ENV_CONNECT_TIMEOUT_MS`].
pub const ENV_BACKOFF_MS: &str = "DEBCLOSURE_BACKOFF_MS";
/// See [`ENV_CONNECT_TIMEOUT_MS`].
pub const ENV_CONCURRENCY: &str = "DEBCLOSURE_CONCURRENCY";

/// An environment variable that [`FetchOptions::from_env`] cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("environment variable {name}={value:?}: expected {expected}")]
pub struct EnvError {
    /// The variable.
    pub name: &'static str,
    /// Its value (lossily decoded if it is not UTF-8).
    pub value: String,
    /// What it should be.
    pub expected: &'static str,
}

impl EnvError {
    /// What the user can do about it: nothing beyond what the message
    /// says (it names what is expected).
    pub fn hint(&self) -> Option<String> {
        None
    }
}

impl FetchOptions {
    /// The defaults, overridden by `DEBCLOSURE_CONNECT_TIMEOUT_MS`,
    /// `DEBCLOSURE_READ_TIMEOUT_MS`, `DEBCLOSURE_RETRIES`,
    /// `DEBCLOSURE_BACKOFF_MS` and `DEBCLOSURE_CONCURRENCY` where set and not
    /// empty.
    pub fn from_env() -> Result<Self, EnvError> {
        Self::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// Like [`FetchOptions::from_env`], with `lookup` in place of the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, EnvError> {
        let number = |name: &'static str, expected: &'static str| -> Result<Option<u64>, EnvError> {
            match lookup(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| EnvError { name, value: v, expected }),
            }
        };
        let millis = |name| number(name, "a whole number of milliseconds");
        let mut options = FetchOptions::default();
        if let Some(ms) = millis(ENV_CONNECT_TIMEOUT_MS)? {
            options.connect_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = millis(ENV_READ_TIMEOUT_MS)? {
            options.read_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = millis(ENV_BACKOFF_MS)? {
            options.backoff = Duration::from_millis(ms);
        }
        if let Some(n) = number(ENV_RETRIES, "a whole number of retries")? {
            options.retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        let positive = "a whole number of downloads, at least 1";
        if let Some(n) = number(ENV_CONCURRENCY, positive)? {
            if n == 0 {
                let value = lookup(ENV_CONCURRENCY).unwrap_or_default();
                return Err(EnvError { name: ENV_CONCURRENCY, value, expected: positive });
            }
            options.concurrency = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(options)
    }
}

/// What identifies a version of a resource to the server, for a conditional
/// request.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    /// The `ETag` header, quotes and all.
    pub etag: Option<String>,
    /// The `Last-Modified` header, verbatim.
    pub last_modified: Option<String>,
}

impl Validators {
    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a conditional request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// The server's copy is the one the validators describe (HTTP 304).
    NotModified,
    /// A new body, with the validators to send next time.
    Body {
        /// The body.
        bytes: Vec<u8>,
        /// The response's `ETag` and `Last-Modified`.
        validators: Validators,
    },
}

/// Why a download failed. URLs are redacted (see [`crate::url::redact_url`]).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server has no such file (HTTP 404 or 410).
    #[error("{url}: not found")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// The server answered with an unexpected status.
    #[error("{url}: server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The server stayed silent too long.
    #[error("{url}: timed out after {after:?} waiting for {what}")]
    Timeout {
        /// The URL.
        url: String,
        /// What did not arrive: "a connection", "the response", "more of the body".
        what: &'static str,
        /// How long we waited.
        after: Duration,
    },
    /// No connection could be made.
    #[error("{url}: cannot connect")]
    Connect {
        /// The URL.
        url: String,
        /// The cause (without the URL, which may hold credentials).
        #[source]
        source: reqwest::Error,
    },
    /// The connection broke before the whole response arrived.
    #[error("{url}: connection lost mid-transfer")]
    Body {
        /// The URL.
        url: String,
        /// The cause (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// The request failed in a way a retry would not fix (a redirect loop,
    /// say).
    #[error("{url}: request failed")]
    Request {
        /// The URL.
        url: String,
        /// The cause (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// The body is larger than allowed.
    #[error("{url}: body exceeds {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The body's size differs from the expected one.
    #[error("{url}: size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The URL.
        url: String,
        /// The expected size in bytes.
        expected: u64,
        /// The size received. A body that ran past `expected` without a
        /// `Content-Length` is cut off there, so then this is a lower bound.
        actual: u64,
    },
    /// The body's SHA256 differs from the expected one.
    #[error("{url}: sha256 mismatch: expected {expected}, got {actual}")]
    HashMismatch {
        /// The URL.
        url: String,
        /// The expected SHA256.
        expected: Sha256,
        /// The SHA256 of what arrived.
        actual: Sha256,
    },
    /// The file is not cached and offline mode forbids downloading it.
    #[error("{url}: not in the cache, and offline mode forbids downloading it")]
    Offline {
        /// The URL.
        url: String,
    },
    /// The URL cannot be requested.
    #[error("{url}: not a valid http or https URL")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// The parser's complaint, if it had one.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The HTTP client could not be built (no TLS roots, say).
    #[error("cannot set up the HTTP client")]
    Client {
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
}

impl FetchError {
    /// True for failures that a later attempt may not meet: connection
    /// problems, stalls, and server-side errors (5xx, 408, 429).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Connect { .. } | FetchError::Body { .. } | FetchError::Timeout { .. } => true,
            FetchError::Status { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            _ => false,
        }
    }

    /// What the user might do about it, for a `hint:` line.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            FetchError::Timeout { .. } => {
                "on a slow link, raise DEBCLOSURE_READ_TIMEOUT_MS or DEBCLOSURE_CONNECT_TIMEOUT_MS"
            }
            FetchError::NotFound { .. } => {
                "the mirror may have dropped this file; run with --refresh to fetch current indices"
            }
            FetchError::SizeMismatch { .. } | FetchError::HashMismatch { .. } => {
                "the mirror may be in the middle of a sync; try again later or use another mirror"
            }
            FetchError::Offline { .. } => "run once without --offline to fill the cache",
            _ => return None,
        }
        .into())
    }
}

/// Runs `f` on each input, at most `limit` at a time, and returns the outputs
/// in the order of the inputs, whatever order they finish in.
pub async fn map_bounded<I, F, Fut>(limit: usize, inputs: I, mut f: F) -> Vec<Fut::Output>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future,
{
    let tasks = inputs.into_iter().enumerate().map(|(i, input)| {
        let task = f(input);
        async move { (i, task.await) }
    });
    let mut done: Vec<(usize, Fut::Output)> =
        futures_util::stream::iter(tasks).buffer_unordered(limit.max(1)).collect().await;
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, output)| output).collect()
}

/// What a request expects of its response.
struct Expect<'a> {
    validators: Option<&'a Validators>,
    size: Option<u64>,
    sha256: Option<&'a Sha256>,
    observer: Option<&'a dyn BodyObserver>,
}

/// Sees a body while it streams in, before its size and hash are checked:
/// nothing it is shown may be trusted, used or stored until the download
/// has returned successfully. Lets a caller decompress while downloading.
pub trait BodyObserver: Sync {
    /// A body begins; after a retry, from its first byte again.
    fn begin(&self);
    /// The next bytes of the body.
    fn bytes(&self, bytes: &[u8]);
}

/// Downloads over HTTP(S). Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct Fetcher {
    /// Made at the first request: it reads the system's certificates (a
    /// hundred files, a tenth of a warm run), which a run answered from the
    /// cache never needs (issue 12).
    client: Arc<OnceLock<reqwest::Client>>,
    options: FetchOptions,
}

impl Fetcher {
    /// A fetcher with its own connection pool.
    pub fn new(options: FetchOptions) -> Self {
        Fetcher { client: Arc::default(), options }
    }

    fn client(&self) -> Result<&reqwest::Client, FetchError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("debclosure/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.options.connect_timeout)
            .build()
            .map_err(|source| FetchError::Client { source })?;
        // Another clone may have made one meanwhile: either will do.
        Ok(self.client.get_or_init(|| client))
    }

    /// The options it was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// The same fetcher (sharing its connections) with a lower bound on
    /// bodies of unknown size, for files that are small by nature.
    #[must_use]
    pub fn with_max_body_size(&self, limit: u64) -> Fetcher {
        let mut fetcher = self.clone();
        fetcher.options.max_body_size = limit.min(self.options.max_body_size);
        fetcher
    }

    /// Downloads `url`, at most [`FetchOptions::max_body_size`] bytes.
    pub async fn get(&self, url: &str, reporter: &dyn Reporter) -> Result<Vec<u8>, FetchError> {
        let expect = Expect { validators: None, size: None, sha256: None, observer: None };
        match self.fetch(url, &expect, reporter).await? {
            Conditional::Body { bytes, .. } => Ok(bytes),
            Conditional::NotModified => unreachable!("304 is an error without validators"),
        }
    }

    /// Downloads `url` unless the server's copy still matches `validators`
    /// (sent as `If-None-Match` and `If-Modified-Since`).
    pub async fn get_conditional(
        &self,
        url: &str,
        validators: Option<&Validators>,
        reporter: &dyn Reporter,
    ) -> Result<Conditional, FetchError> {
        let validators = validators.filter(|v| !v.is_empty());
        self.fetch(url, &Expect { validators, size: None, sha256: None, observer: None }, reporter).await
    }

    /// Downloads `url` and checks its size, if given, and SHA256. A body longer than `expected_size` is abandoned as soon as it
    /// runs past it. Mismatches are not retried: the mirror would serve the
    /// same bytes again.
    pub async fn get_verified(
        &self,
        url: &str,
        expected_size: Option<u64>,
        expected_sha256: &Sha256,
        reporter: &dyn Reporter,
    ) -> Result<Vec<u8>, FetchError> {
        self.get_verified_observed(url, expected_size, expected_sha256, None, reporter).await
    }

    /// [`Fetcher::get_verified`], showing the body to `observer` while it
    /// streams in, unverified.
    pub async fn get_verified_observed(
        &self,
        url: &str,
        expected_size: Option<u64>,
        expected_sha256: &Sha256,
        observer: Option<&dyn BodyObserver>,
        reporter: &dyn Reporter,
    ) -> Result<Vec<u8>, FetchError> {
        let expect = Expect { validators: None, size: expected_size, sha256: Some(expected_sha256), observer };
        match self.fetch(url, &expect, reporter).await? {
            Conditional::Body { bytes, .. } => Ok(bytes),
            Conditional::NotModified => unreachable!("304 is an error without validators"),
        }
    }

    /// [`map_bounded`] with [`FetchOptions::concurrency`] as the bound.
    pub async fn map_concurrent<I, F, Fut>(&self, inputs: I, f: F) -> Vec<Fut::Output>
    where
        I: IntoIterator,
        F: FnMut(I::Item) -> Fut,
        Fut: Future,
    {
        map_bounded(self.options.concurrency, inputs, f).await
    }

    async fn fetch(&self, url: &str, expect: &Expect<'_>, reporter: &dyn Reporter) -> Result<Conditional, FetchError> {
        let shown = redact_url(url);
        let mut retried = 0;
        loop {
            match self.attempt(url, &shown, expect, reporter).await {
                Err(e) if e.is_transient() && retried < self.options.retries => {
                    let delay = backoff_delay(self.options.backoff, retried);
                    retried += 1;
                    reporter.warning(&format!(
                        "{}; retrying in {delay:?} ({retried} of {})",
                        error_chain(&e),
                        self.options.retries
                    ));
                    tokio::time::sleep(delay).await;
                }
                outcome => return outcome,
            }
        }
    }

    async fn attempt(
        &self,
        url: &str,
        shown: &str,
        expect: &Expect<'_>,
        reporter: &dyn Reporter,
    ) -> Result<Conditional, FetchError> {
        let request = self.build_request(url, shown, expect.validators)?;
        let wait = self.options.connect_timeout + self.options.read_timeout;
        let response = match tokio::time::timeout(wait, self.client()?.execute(request)).await {
            Err(_) => return Err(FetchError::Timeout { url: shown.to_owned(), what: "the response", after: wait }),
            Ok(Err(e)) => return Err(self.request_error(shown, e)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED && expect.validators.is_some() {
            return Ok(Conditional::NotModified);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(FetchError::NotFound { url: shown.to_owned() });
        }
        if !status.is_success() {
            return Err(FetchError::Status { url: shown.to_owned(), status: status.as_u16() });
        }
        let text = |name| response.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_owned);
        let validators = Validators { etag: text(header::ETAG), last_modified: text(header::LAST_MODIFIED) };

        let length = response.content_length();
        let limit = expect.size.unwrap_or(self.options.max_body_size);
        if let Some(length) = length {
            if let Some(expected) = expect.size.filter(|&e| e != length) {
                return Err(FetchError::SizeMismatch { url: shown.to_owned(), expected, actual: length });
            }
            if length > limit {
                return Err(FetchError::TooLarge { url: shown.to_owned(), limit });
            }
        }
        if let Some(observer) = expect.observer {
            observer.begin();
        }
        let id = reporter.download_started(shown, expect.size.or(length));
        let body = self.read_body(response, shown, expect, limit, id, reporter).await;
        reporter.download_finished(id);
        Ok(Conditional::Body { bytes: body?, validators })
    }

    fn build_request(
        &self,
        url: &str,
        shown: &str,
        validators: Option<&Validators>,
    ) -> Result<reqwest::Request, FetchError> {
        let invalid = |source| FetchError::InvalidUrl { url: shown.to_owned(), source };
        let mut builder = self.client()?.get(url);
        // A validator that is not a valid header value (a damaged cache
        // sidecar) is dropped: the request is then unconditional, not wrong.
        let valid = |v: &Option<String>| v.as_deref().and_then(|v| HeaderValue::from_str(v).ok());
        if let Some(validators) = validators {
            if let Some(etag) = valid(&validators.etag) {
                builder = builder.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = valid(&validators.last_modified) {
                builder = builder.header(header::IF_MODIFIED_SINCE, date);
            }
        }
        let request = builder.build().map_err(|e| invalid(Some(e.without_url())))?;
        if !matches!(request.url().scheme(), "http" | "https") {
            return Err(invalid(None));
        }
        Ok(request)
    }

    async fn read_body(
        &self,
        mut response: reqwest::Response,
        shown: &str,
        expect: &Expect<'_>,
        limit: u64,
        id: DownloadId,
        reporter: &dyn Reporter,
    ) -> Result<Vec<u8>, FetchError> {
        let capacity = response.content_length().unwrap_or(0).min(limit).min(MAX_PREALLOCATION);
        let mut bytes = Vec::with_capacity(capacity as usize);
        let mut hasher = expect.sha256.map(|_| Sha256Hasher::new());
        let stall = self.options.read_timeout;
        loop {
            let chunk = match tokio::time::timeout(stall, response.chunk()).await {
                Err(_) => {
                    return Err(FetchError::Timeout { url: shown.to_owned(), what: "more of the body", after: stall })
                }
                Ok(Err(e)) => return Err(FetchError::Body { url: shown.to_owned(), source: e.without_url() }),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            };
            let received = (bytes.len() + chunk.len()) as u64;
            if received > limit {
                return Err(match expect.size {
                    Some(expected) => FetchError::SizeMismatch { url: shown.to_owned(), expected, actual: received },
                    None => FetchError::TooLarge { url: shown.to_owned(), limit },
                });
            }
            if let Some(hasher) = &mut hasher {
                hasher.update(&chunk);
            }
            if let Some(observer) = expect.observer {
                observer.bytes(&chunk);
            }
            bytes.extend_from_slice(&chunk);
            reporter.download_progress(id, received);
        }
        if let Some(expected) = expect.size.filter(|&e| e != bytes.len() as u64) {
            return Err(FetchError::SizeMismatch { url: shown.to_owned(), expected, actual: bytes.len() as u64 });
        }
        if let (Some(expected), Some(hasher)) = (expect.sha256, hasher) {
            let actual = hasher.finish();
            if actual != *expected {
                return Err(FetchError::HashMismatch { url: shown.to_owned(), expected: *expected, actual });
            }
        }
        Ok(bytes)
    }

    /// Sorts a failed request into our variants; reqwest's own errors carry
    /// the unredacted URL, which is dropped.
    fn request_error(&self, shown: &str, e: reqwest::Error) -> FetchError {
        let url = shown.to_owned();
        if e.is_builder() {
            FetchError::InvalidUrl { url, source: Some(e.without_url()) }
        } else if e.is_timeout() {
            // Only the connect phase has a timeout inside reqwest; the others
            // are ours.
            FetchError::Timeout { url, what: "a connection", after: self.options.connect_timeout }
        } else if e.is_connect() {
            FetchError::Connect { url, source: e.without_url() }
        } else if e.is_redirect() {
            FetchError::Request { url, source: e.without_url() }
        } else {
            // The connection closed or reset before the headers were complete.
            FetchError::Body { url, source: e.without_url() }
        }
    }
}

/// The delay before retry number `retried + 1`: `base`, doubled each time.
fn backoff_delay(base: Duration, retried: u32) -> Duration {
    base.saturating_mul(1u32.checked_shl(retried).unwrap_or(u32::MAX))
}

/// An error and its causes, joined by ": ".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        write!(s, ": {cause}").expect("writing to a String does not fail");
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn options_from_environment() {
        let env: HashMap<&str, &str> = HashMap::from([
            (ENV_CONNECT_TIMEOUT_MS, "250"),
            (ENV_READ_TIMEOUT_MS, " 400 "),
            (ENV_RETRIES, "0"),
            (ENV_BACKOFF_MS, ""),
        ]);
        let options = FetchOptions::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(options.connect_timeout, Duration::from_millis(250));
        assert_eq!(options.read_timeout, Duration::from_millis(400));
        assert_eq!(options.retries, 0);
        assert_eq!(options.backoff, FetchOptions::default().backoff, "empty means unset");
        assert_eq!(FetchOptions::from_lookup(|_| None).unwrap(), FetchOptions::default());

        let err = FetchOptions::from_lookup(|k| (k == ENV_RETRIES).then(|| "three".to_owned())).unwrap_err();
        assert_eq!(err.name, ENV_RETRIES);
        assert_eq!(
            err.to_string(),
            "environment variable DEBCLOSURE_RETRIES=\"three\": expected a whole number of retries"
        );
        let err = FetchOptions::from_lookup(|k| (k == ENV_CONCURRENCY).then(|| "0".to_owned())).unwrap_err();
        assert_eq!(err.name, ENV_CONCURRENCY);
    }

    #[test]
    fn backoff_doubles_and_saturates() {
        let base = Duration::from_millis(100);
        let delays: Vec<_> = (0..4).map(|n| backoff_delay(base, n).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800]);
        assert_eq!(backoff_delay(base, 40), base.saturating_mul(u32::MAX));
    }

    #[test]
    fn transient_errors_are_the_retryable_ones() {
        let url = || "http://127.0.0.1/x".to_owned();
        assert!(FetchError::Status { url: url(), status: 503 }.is_transient());
        assert!(FetchError::Status { url: url(), status: 429 }.is_transient());
        assert!(!FetchError::Status { url: url(), status: 403 }.is_transient());
        assert!(!FetchError::NotFound { url: url() }.is_transient());
        assert!(FetchError::Timeout { url: url(), what: "the response", after: Duration::ZERO }.is_transient());
        let mismatch = FetchError::HashMismatch { url: url(), expected: Sha256::of(b"a"), actual: Sha256::of(b"b") };
        assert!(!mismatch.is_transient());
        assert!(mismatch.hint().is_some());
        assert!(!FetchError::SizeMismatch { url: url(), expected: 1, actual: 2 }.is_transient());
        assert!(!FetchError::TooLarge { url: url(), limit: 1 }.is_transient());
    }

    #[tokio::test]
    async fn map_bounded_keeps_input_order_and_bound() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let inputs: Vec<u64> = (0..10).collect();
        let out = map_bounded(3, inputs, |i| {
            let (running, peak) = (&running, &peak);
            async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // Later inputs finish first.
                tokio::time::sleep(Duration::from_millis(5 * (10 - i))).await;
                running.fetch_sub(1, Ordering::SeqCst);
                i * 10
            }
        })
        .await;
        assert_eq!(out, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert!(map_bounded(0, Vec::<u8>::new(), |x| async move { x }).await.is_empty());
    }
}
