//! For tests of the fetcher as a library: fast options and a reporter that
//! records what it is told.

use std::sync::Mutex;
use std::time::Duration;

use debclosure::fetch::FetchOptions;
use debclosure::report::{DownloadId, Reporter};

/// Options for tests: timeouts generous enough for a loaded machine, but
/// retries close together.
pub fn fast_options() -> FetchOptions {
    FetchOptions {
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(2),
        retries: 2,
        backoff: Duration::from_millis(10),
        concurrency: 4,
        ..FetchOptions::default()
    }
}

/// What a [`Recorder`] was told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `download_started(url, total)`.
    Started(String, Option<u64>),
    /// `download_progress(_, bytes)`.
    Progress(u64),
    /// `download_finished`.
    Finished,
    /// `warning(message)`.
    Warning(String),
}

/// A reporter that records every call.
#[derive(Debug, Default)]
pub struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    /// Everything recorded so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// The warnings recorded so far.
    pub fn warnings(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Warning(w) => Some(w),
                _ => None,
            })
            .collect()
    }

    fn push(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
}

impl Reporter for Recorder {
    fn download_started(&self, url: &str, total: Option<u64>) -> DownloadId {
        self.push(Event::Started(url.to_owned(), total));
        DownloadId(1)
    }

    fn download_progress(&self, _id: DownloadId, bytes: u64) {
        self.push(Event::Progress(bytes));
    }

    fn download_finished(&self, _id: DownloadId) {
        self.push(Event::Finished);
    }

    fn warning(&self, message: &str) {
        self.push(Event::Warning(message.to_owned()));
    }
}
