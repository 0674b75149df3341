//! Progress and warnings from the library to whoever drives it.
//!
//! The library never prints. Long-running steps (downloads, mostly) call a
//! [`Reporter`], which the command line turns into progress bars on a
//! terminal and into nothing elsewhere. Every method has a no-op default, so
//! an implementation overrides only what it shows, and [`NoReporter`] shows
//! nothing at all.
//!
//! Calls may come from several tasks at once, in any interleaving, hence
//! `Send + Sync` and `&self`.

/// Identifies one download between [`Reporter::download_started`] and
/// [`Reporter::download_finished`].
///
/// The reporter chooses the value; the library only hands it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct DownloadId(pub u64);

/// Receives progress and non-fatal warnings.
pub trait Reporter: Send + Sync {
    /// A response has arrived and its body is about to be read. `url` has its
    /// credentials removed; `total` is the expected size in bytes, if known.
    ///
    /// A retried download starts again, with a new call.
    fn download_started(&self, url: &str, total: Option<u64>) -> DownloadId {
        let _ = (url, total);
        DownloadId::default()
    }

    /// `bytes` of the body have been received so far.
    fn download_progress(&self, id: DownloadId, bytes: u64) {
        let _ = (id, bytes);
    }

    /// The download ended, successfully or not; no more calls use `id`.
    fn download_finished(&self, id: DownloadId) {
        let _ = id;
    }

    /// Something went wrong but the work goes on: a corrupt cache entry that
    /// will be fetched again, a request that will be retried. `message` is a
    /// lower-case fragment without a trailing period.
    fn warning(&self, message: &str) {
        let _ = message;
    }
}

/// A [`Reporter`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoReporter;

impl Reporter for NoReporter {}

/// A [`Reporter`] that keeps the warnings, for tests. It overrides only
/// `warning`, as a CLI that draws no bars would.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Warnings(std::sync::Mutex<Vec<String>>);

#[cfg(test)]
impl Reporter for Warnings {
    fn warning(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_owned());
    }
}

#[cfg(test)]
impl Warnings {
    /// The warnings so far, emptying the list.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_do_nothing_and_overrides_are_called() {
        let none: &dyn Reporter = &NoReporter;
        let id = none.download_started("http://127.0.0.1/x", Some(3));
        assert_eq!(id, DownloadId(0));
        none.download_progress(id, 3);
        none.download_finished(id);
        none.warning("ignored");

        let warnings = Warnings::default();
        let reporter: &dyn Reporter = &warnings;
        reporter.warning("first");
        reporter.download_progress(DownloadId(7), 1);
        reporter.warning("second");
        assert_eq!(warnings.take(), ["first", "second"]);
    }
}
