//! Progress on standard error: one bar for all downloads (bytes and files),
//! drawn only on a terminal and never with `--quiet`; warnings always print.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use debclosure::report::{DownloadId, Reporter};
use debclosure::rootfs::RootfsReporter;

#[derive(Default)]
struct State {
    next: u64,
    started: u64,
    finished: u64,
    /// Bytes already counted per download.
    seen: HashMap<u64, u64>,
}

/// A [`Reporter`] that draws a progress bar.
pub struct Progress {
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes} {bytes_per_sec}")
                    .expect("the progress template is valid"),
            );
            bar
        });
        Progress { bar, state: Mutex::new(State::default()) }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn update(&self, state: &State) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("downloading {}/{} files", state.finished, state.started));
        }
    }
}

impl Reporter for Progress {
    fn download_started(&self, _url: &str, total: Option<u64>) -> DownloadId {
        let mut state = self.state.lock().expect("progress state is not poisoned");
        state.next += 1;
        state.started += 1;
        let id = state.next;
        state.seen.insert(id, 0);
        if let (Some(bar), Some(total)) = (&self.bar, total) {
            bar.inc_length(total);
        }
        self.update(&state);
        DownloadId(id)
    }

    fn download_progress(&self, id: DownloadId, bytes: u64) {
        let mut state = self.state.lock().expect("progress state is not poisoned");
        let seen = state.seen.entry(id.0).or_default();
        let delta = bytes.saturating_sub(*seen);
        *seen = bytes.max(*seen);
        if let Some(bar) = &self.bar {
            bar.inc(delta);
        }
    }

    fn download_finished(&self, id: DownloadId) {
        let mut state = self.state.lock().expect("progress state is not poisoned");
        state.seen.remove(&id.0);
        state.finished += 1;
        self.update(&state);
    }

    fn warning(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("warning: {message}")),
            None => eprintln!("warning: {message}"),
        }
    }
}

/// `rootfs` progress: one line per step on stderr, with the time since the
/// start; nothing with `--quiet`.
pub struct Steps {
    command: &'static str,
    quiet: bool,
    started: std::time::Instant,
}

impl Steps {
    /// Steps of `command` (`rootfs`, `image`), shown unless `quiet`.
    pub fn new(command: &'static str, quiet: bool) -> Steps {
        Steps { command, quiet, started: std::time::Instant::now() }
    }
}

impl RootfsReporter for Steps {
    fn step(&self, message: &str) {
        if !self.quiet {
            eprintln!("{} [{:6.1}s] {message}", self.command, self.started.elapsed().as_secs_f64());
        }
    }
}
