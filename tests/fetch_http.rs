//! The fetcher and the cache against a local HTTP server with injected
//! faults. Nothing here leaves 127.0.0.1.

mod common;

use std::fs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::fetch::{fast_options, Event, Recorder};
use common::sample;
use common::server::TestServer;
use debclosure::fetch::{
    Bucket, Cache, CacheMode, Conditional, FetchError, FetchOptions, Fetcher, Validators,
};
use debclosure::hash::Sha256;
use debclosure::report::NoReporter;

fn fetcher() -> Fetcher {
    Fetcher::new(fast_options())
}

#[tokio::test]
async fn good_fetch_reports_progress() {
    let server = TestServer::start();
    let body = sample(100_000, 1);
    server.put("/dists/stable/Release", &body);
    let recorder = Recorder::default();
    let got = fetcher().get(&server.url("/dists/stable/Release"), &recorder).await.unwrap();
    assert_eq!(got, body);
    assert_eq!(server.count("/dists/stable/Release"), 1);
    assert!(!server.requests()[0].conditional);

    let events = recorder.events();
    assert_eq!(events.first(), Some(&Event::Started(server.url("/dists/stable/Release"), Some(100_000))));
    assert_eq!(events.last(), Some(&Event::Finished));
    let progress: Vec<u64> =
        events.iter().filter_map(|e| if let Event::Progress(n) = e { Some(*n) } else { None }).collect();
    assert_eq!(progress.last(), Some(&100_000));
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert!(recorder.warnings().is_empty());
}

#[tokio::test]
async fn not_found_is_not_retried() {
    let server = TestServer::start();
    let err = fetcher().get(&server.url("/missing"), &NoReporter).await.unwrap_err();
    assert!(matches!(&err, FetchError::NotFound { url } if *url == server.url("/missing")), "{err}");
    assert_eq!(err.to_string(), format!("{}: not found", server.url("/missing")));
    assert_eq!(server.count("/missing"), 1);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = TestServer::start();
    server.put("/f", b"x");
    server.fail_status("/f", 403, 1);
    let err = fetcher().get(&server.url("/f"), &NoReporter).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 403, .. }), "{err}");
    assert_eq!(server.count("/f"), 1);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let server = TestServer::start();
    server.put("/f", b"content");
    server.fail_status("/f", 500, 2);
    let recorder = Recorder::default();
    let got = fetcher().get(&server.url("/f"), &recorder).await.unwrap();
    assert_eq!(got, b"content");
    assert_eq!(server.count("/f"), 3);
    let warnings = recorder.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].contains("HTTP 500") && warnings[0].contains("retrying"), "{warnings:?}");
}

#[tokio::test]
async fn server_error_forever_gives_up_after_all_retries() {
    let server = TestServer::start();
    server.put("/f", b"content");
    server.fail_status("/f", 503, 100);
    let options = FetchOptions { retries: 3, ..fast_options() };
    let started = Instant::now();
    let err = Fetcher::new(options).get(&server.url("/f"), &NoReporter).await.unwrap_err();
    assert!(matches!(err, FetchError::Status { status: 503, .. }), "{err}");
    assert_eq!(server.count("/f"), 4, "one attempt and three retries");
    // Backoff 10, 20, 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(70), "{:?}", started.elapsed());
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let server = TestServer::start();
    let body = sample(50_000, 2);
    server.put("/f", &body);
    server.drop_connection("/f", 1);
    let got = fetcher().get(&server.url("/f"), &NoReporter).await.unwrap();
    assert_eq!(got, body);
    assert_eq!(server.count("/f"), 2);

    server.drop_connection("/f", 100);
    let err = fetcher().get(&server.url("/f"), &NoReporter).await.unwrap_err();
    assert!(matches!(err, FetchError::Body { .. }), "{err}");
    assert_eq!(server.count("/f"), 2 + 3);
}

#[tokio::test]
async fn stall_times_out() {
    let server = TestServer::start();
    server.put("/f", &sample(10_000, 3));
    server.stall("/f");
    let options = FetchOptions { read_timeout: Duration::from_millis(300), retries: 1, ..fast_options() };
    let started = Instant::now();
    let err = Fetcher::new(options).get(&server.url("/f"), &NoReporter).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, FetchError::Timeout { what: "more of the body", after, .. } if after == Duration::from_millis(300)),
        "{err}"
    );
    assert!(elapsed >= Duration::from_millis(600), "two stalls of 300 ms: {elapsed:?}");
    assert_eq!(server.count("/f"), 2);
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    // A port that was just free: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = FetchOptions { retries: 1, ..fast_options() };
    let recorder = Recorder::default();
    let url = format!("http://127.0.0.1:{port}/f");
    let err = Fetcher::new(options).get(&url, &recorder).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err}");
    assert_eq!(recorder.warnings().len(), 1, "retried once");
}

#[tokio::test]
async fn verified_download_checks_size_and_hash() {
    let server = TestServer::start();
    let body = sample(4096, 4);
    let sha = Sha256::of(&body);
    server.put("/p.xz", &body);
    let url = server.url("/p.xz");
    let got = fetcher().get_verified(&url, Some(4096), &sha, &NoReporter).await.unwrap();
    assert_eq!(got, body);
    let got = fetcher().get_verified(&url, None, &sha, &NoReporter).await.unwrap();
    assert_eq!(got, body);

    let err = fetcher().get_verified(&url, Some(4000), &sha, &NoReporter).await.unwrap_err();
    assert!(matches!(&err, FetchError::SizeMismatch { url: u, expected: 4000, actual: 4096 } if *u == url), "{err}");
    assert!(err.to_string().contains("expected 4000 bytes, got 4096"), "{err}");

    let wrong = Sha256::of(b"something else");
    let err = fetcher().get_verified(&url, Some(4096), &wrong, &NoReporter).await.unwrap_err();
    match &err {
        FetchError::HashMismatch { url: u, expected, actual } => {
            assert_eq!((u, expected, actual), (&url, &wrong, &sha));
        }
        other => panic!("not a hash mismatch: {other}"),
    }
    assert!(err.to_string().contains(&wrong.to_string()) && err.to_string().contains(&sha.to_string()), "{err}");
    assert_eq!(server.count("/p.xz"), 4, "mismatches are not retried");
}

#[tokio::test]
async fn oversized_body_is_cut_off_while_streaming() {
    let server = TestServer::start();
    let body = sample(200_000, 5);
    let sha = Sha256::of(&body);
    server.put("/big", &body);
    server.without_length("/big");
    // The stall proves the early stop: reading to the end would end in a
    // timeout, not in these errors.
    server.stall("/big");
    let options = FetchOptions { read_timeout: Duration::from_secs(3), ..fast_options() };
    let fetcher = Fetcher::new(options);
    let err = fetcher.get_verified(&server.url("/big"), Some(10), &sha, &NoReporter).await.unwrap_err();
    match err {
        FetchError::SizeMismatch { expected: 10, actual, .. } => assert!(actual > 10 && actual <= 100_000),
        other => panic!("not a size mismatch: {other}"),
    }
    let limited = FetchOptions { max_body_size: 1000, ..fetcher.options().clone() };
    let err = Fetcher::new(limited).get(&server.url("/big"), &NoReporter).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 1000, .. }), "{err}");
    assert_eq!(server.count("/big"), 2);

    // With a Content-Length, nothing of the body needs to be read.
    server.put("/sized", &body);
    let limited = FetchOptions { max_body_size: 1000, ..fast_options() };
    let err = Fetcher::new(limited).get(&server.url("/sized"), &NoReporter).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge { limit: 1000, .. }), "{err}");
}

#[tokio::test]
async fn conditional_request_gets_not_modified() {
    let server = TestServer::start();
    server.put("/InRelease", b"signed release");
    let url = server.url("/InRelease");
    let fetcher = fetcher();
    let Conditional::Body { bytes, validators } = fetcher.get_conditional(&url, None, &NoReporter).await.unwrap()
    else {
        panic!("a first request gets a body")
    };
    assert_eq!(bytes, b"signed release");
    assert_eq!(validators.etag, Some(format!("\"{}\"", Sha256::of(b"signed release"))));
    assert!(validators.last_modified.as_deref().is_some_and(|d| d.ends_with(" GMT")), "{validators:?}");

    let again = fetcher.get_conditional(&url, Some(&validators), &NoReporter).await.unwrap();
    assert_eq!(again, Conditional::NotModified);
    let by_date = Validators { etag: None, last_modified: validators.last_modified.clone() };
    assert_eq!(fetcher.get_conditional(&url, Some(&by_date), &NoReporter).await.unwrap(), Conditional::NotModified);
    let conditional: Vec<bool> = server.requests().iter().map(|r| r.conditional).collect();
    assert_eq!(conditional, [false, true, true]);

    server.put("/InRelease", b"new release");
    match fetcher.get_conditional(&url, Some(&validators), &NoReporter).await.unwrap() {
        Conditional::Body { bytes, validators: new } => {
            assert_eq!(bytes, b"new release");
            assert_ne!(new.etag, validators.etag);
        }
        Conditional::NotModified => panic!("the file changed"),
    }
}

#[tokio::test]
async fn credentials_never_reach_errors_or_reports() {
    let server = TestServer::start();
    server.put("/f", b"x");
    let port = server.addr().port();
    let recorder = Recorder::default();
    let ok = fetcher().get(&format!("http://user:hunter2@127.0.0.1:{port}/f"), &recorder).await.unwrap();
    assert_eq!(ok, b"x");
    assert_eq!(recorder.events()[0], Event::Started(server.url("/f"), Some(1)));
    let err = fetcher().get(&format!("http://user:hunter2@127.0.0.1:{port}/nope"), &NoReporter).await.unwrap_err();
    let chain = format!("{err} {err:?}");
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(chain.contains(&server.url("/nope")), "{chain}");
    // Errors from inside the HTTP client, and the retry warnings.
    server.drop_connection("/f", 100);
    let recorder = Recorder::default();
    let err = fetcher().get(&format!("http://user:hunter2@127.0.0.1:{port}/f"), &recorder).await.unwrap_err();
    assert!(matches!(err, FetchError::Body { .. }), "{err}");
    let everything = format!("{err} {err:?} {:?}", recorder.events());
    assert!(!everything.contains("hunter2"), "{everything}");
}

#[tokio::test]
async fn invalid_urls_are_refused() {
    for url in ["ftp://127.0.0.1/f", "not a url"] {
        let err = fetcher().get(url, &NoReporter).await.unwrap_err();
        assert!(matches!(err, FetchError::InvalidUrl { .. }), "{url}: {err}");
    }
}

#[tokio::test]
async fn cached_content_is_used_refreshed_or_missing_offline() {
    let server = TestServer::start();
    let body = sample(3000, 6);
    let sha = Sha256::of(&body);
    server.put("/pool/a.deb", &body);
    let url = server.url("/pool/a.deb");
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let fetcher = fetcher();
    let get = |mode| fetcher.get_cached(&cache, mode, Bucket::Debs, &url, Some(3000), &sha, &NoReporter);

    let err = get(CacheMode::Offline).await.unwrap_err();
    assert!(matches!(&err, FetchError::Offline { url: u } if *u == url), "{err}");
    assert_eq!(server.count("/pool/a.deb"), 0);
    assert_eq!(get(CacheMode::Use).await.unwrap(), body);
    assert_eq!(get(CacheMode::Use).await.unwrap(), body);
    assert_eq!(get(CacheMode::Offline).await.unwrap(), body);
    assert_eq!(server.count("/pool/a.deb"), 1, "later calls come from the cache");
    assert_eq!(get(CacheMode::Refresh).await.unwrap(), body);
    assert_eq!(server.count("/pool/a.deb"), 2);
    assert_eq!(cache.get(Bucket::Debs, &sha, &NoReporter).unwrap(), body);
    assert!(cache.get(Bucket::Packages, &sha, &NoReporter).is_none(), "buckets are separate");
}

#[tokio::test]
async fn keyed_entries_are_revalidated() {
    let server = TestServer::start();
    server.put("/debian/dists/stable/InRelease", b"release one");
    let url = server.url("/debian/dists/stable/InRelease");
    let key = "debian/dists/stable/InRelease";
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let fetcher = fetcher();
    let get = |mode| fetcher.get_keyed(&cache, mode, Bucket::Release, &url, key, &NoReporter);

    assert!(matches!(get(CacheMode::Offline).await, Err(FetchError::Offline { .. })));
    assert_eq!(get(CacheMode::Use).await.unwrap(), b"release one");
    assert_eq!(get(CacheMode::Use).await.unwrap(), b"release one");
    assert_eq!(get(CacheMode::Offline).await.unwrap(), b"release one");
    let conditional: Vec<bool> = server.requests().iter().map(|r| r.conditional).collect();
    assert_eq!(conditional, [false, true], "the second use revalidates; offline asks nothing");
    let (_, validators) = cache.get_url(Bucket::Release, key, &NoReporter).unwrap();
    assert_eq!(validators.etag, Some(format!("\"{}\"", Sha256::of(b"release one"))));

    server.put("/debian/dists/stable/InRelease", b"release two");
    assert_eq!(get(CacheMode::Use).await.unwrap(), b"release two");
    assert_eq!(cache.get_url(Bucket::Release, key, &NoReporter).unwrap().0, b"release two");
    assert_eq!(get(CacheMode::Refresh).await.unwrap(), b"release two");
    assert!(!server.requests().last().unwrap().conditional, "refresh asks unconditionally");
}

#[test]
fn cache_put_and_get() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path().join("c")).unwrap();
    assert!(dir.path().join("c/CACHEDIR.TAG").is_file());
    let body = sample(10_000, 7);
    let sha = Sha256::of(&body);
    assert!(cache.get(Bucket::Packages, &sha, &NoReporter).is_none());
    let path = cache.put(Bucket::Packages, &sha, &body).unwrap();
    assert_eq!(path, dir.path().join("c/packages-v1").join(&sha.to_string()[..2]).join(sha.to_string()));
    assert_eq!(fs::read(&path).unwrap(), body);
    assert_eq!(cache.get(Bucket::Packages, &sha, &NoReporter).unwrap(), body);
    assert_eq!(cache.get_path(Bucket::Packages, &sha, &NoReporter).unwrap(), path);
}

#[tokio::test]
async fn corrupt_cache_entry_is_warned_removed_and_refetched() {
    let server = TestServer::start();
    let body = sample(2000, 8);
    let sha = Sha256::of(&body);
    server.put("/p", &body);
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let path = cache.put(Bucket::Packages, &sha, &body).unwrap();
    let mut damaged = body.clone();
    damaged[1000] ^= 1;
    fs::write(&path, &damaged).unwrap();

    let recorder = Recorder::default();
    assert!(cache.get(Bucket::Packages, &sha, &recorder).is_none());
    let warnings = recorder.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(&path.display().to_string()), "{warnings:?}");
    assert!(!path.exists(), "removed");

    fs::write(&path, &damaged).unwrap();
    let recorder = Recorder::default();
    let got = fetcher()
        .get_cached(&cache, CacheMode::Use, Bucket::Packages, &server.url("/p"), Some(2000), &sha, &recorder)
        .await
        .unwrap();
    assert_eq!(got, body);
    assert_eq!(recorder.warnings().len(), 1);
    assert_eq!(server.count("/p"), 1, "fetched again");
    assert_eq!(fs::read(&path).unwrap(), body, "and repaired");
}

#[test]
fn planted_symlinks_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path().join("cache")).unwrap();
    // The target even has the right content: a link is refused regardless.
    let body = b"looks legitimate".to_vec();
    let sha = Sha256::of(&body);
    let target = dir.path().join("outside");
    fs::write(&target, &body).unwrap();
    let entry = cache.entry_path(Bucket::Debs, &sha);
    fs::create_dir_all(entry.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();

    let recorder = Recorder::default();
    assert!(cache.get(Bucket::Debs, &sha, &recorder).is_none());
    assert!(recorder.warnings()[0].contains("symbolic link"), "{:?}", recorder.warnings());
    assert!(fs::symlink_metadata(&entry).is_err(), "the link is removed");
    assert_eq!(fs::read(&target).unwrap(), body, "its target is untouched");

    // Writing over a planted link replaces the link, not its target.
    std::os::unix::fs::symlink(&target, &entry).unwrap();
    let other = b"other".to_vec();
    let other_sha = Sha256::of(&other);
    let other_entry = cache.entry_path(Bucket::Debs, &other_sha);
    fs::create_dir_all(other_entry.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&target, &other_entry).unwrap();
    cache.put(Bucket::Debs, &other_sha, &other).unwrap();
    assert!(fs::symlink_metadata(&other_entry).unwrap().is_file());
    assert_eq!(fs::read(&target).unwrap(), body);

    // A linked fan-out directory is refused as well, for reading and writing.
    let outside_dir = dir.path().join("outside-dir");
    fs::create_dir(&outside_dir).unwrap();
    fs::write(outside_dir.join(sha.to_string()), &body).unwrap();
    let fan = cache.bucket_dir(Bucket::Packages).join(&sha.to_string()[..2]);
    std::os::unix::fs::symlink(&outside_dir, &fan).unwrap();
    assert!(cache.put(Bucket::Packages, &sha, &body).is_err());
    assert!(fs::read_dir(&outside_dir).unwrap().count() == 1, "nothing written through the link");
    let recorder = Recorder::default();
    assert!(cache.get(Bucket::Packages, &sha, &recorder).is_none());
    assert_eq!(recorder.warnings().len(), 1);
    assert!(fs::symlink_metadata(&fan).is_err(), "the linked directory is removed");
    cache.put(Bucket::Packages, &sha, &body).unwrap();
    assert_eq!(cache.get(Bucket::Packages, &sha, &NoReporter).unwrap(), body);
}

#[test]
fn concurrent_puts_leave_one_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let body = Arc::new(sample(256 << 10, 9));
    let sha = Sha256::of(&body);
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (cache, body, barrier) = (cache.clone(), Arc::clone(&body), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                cache.put(Bucket::Debs, &sha, &body).unwrap();
                // Readers during the writes see the whole entry or none.
                if let Some(read) = cache.get(Bucket::Debs, &sha, &NoReporter) {
                    assert_eq!(read.len(), body.len());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let entry = cache.entry_path(Bucket::Debs, &sha);
    let names: Vec<_> =
        fs::read_dir(entry.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, [sha.to_string()], "one entry, no temporary files");
    assert_eq!(cache.get(Bucket::Debs, &sha, &NoReporter).unwrap(), *body);
}

#[test]
fn interrupted_writes_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path()).unwrap();
    let body = b"whole".to_vec();
    let sha = Sha256::of(&body);
    let entry = cache.entry_path(Bucket::Debs, &sha);
    fs::create_dir_all(entry.parent().unwrap()).unwrap();
    // What a run killed mid-write leaves: a temporary file, never the entry.
    let leftover = entry.parent().unwrap().join(".tmp-interrupted");
    fs::write(&leftover, b"who").unwrap();
    assert!(cache.get(Bucket::Debs, &sha, &NoReporter).is_none());
    assert_eq!(cache.clean_temp(Duration::from_secs(3600)), 0, "too young to be stale");
    assert_eq!(cache.clean_temp(Duration::ZERO), 1);
    assert!(!leftover.exists());
}

#[tokio::test]
async fn concurrent_downloads_keep_input_order() {
    let server = TestServer::start();
    let names: Vec<String> = (0..8).map(|i| format!("/pool/p{i}.deb")).collect();
    for (i, name) in names.iter().enumerate() {
        server.put(name, &sample(1000 * (i + 1), i as u8));
        // Early files answer last.
        server.delay(name, Duration::from_millis(40 * (8 - i as u64)));
    }
    let mut urls: Vec<String> = names.iter().map(|n| server.url(n)).collect();
    urls.insert(3, server.url("/pool/missing.deb"));
    let options = FetchOptions { concurrency: 3, ..fast_options() };
    let fetcher = Fetcher::new(options);
    let (running, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let results = fetcher
        .map_concurrent(&urls, |url| {
            let (fetcher, running, peak) = (&fetcher, &running, &peak);
            async move {
                peak.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                let result = fetcher.get(url, &NoReporter).await;
                running.fetch_sub(1, Ordering::SeqCst);
                result
            }
        })
        .await;
    assert_eq!(results.len(), 9);
    for (i, result) in results.iter().enumerate() {
        match (i, result) {
            (3, Err(FetchError::NotFound { url })) => assert!(url.ends_with("/pool/missing.deb")),
            (i, Ok(bytes)) => {
                let n = if i < 3 { i } else { i - 1 };
                assert_eq!(*bytes, sample(1000 * (n + 1), n as u8), "result {i}");
            }
            (i, other) => panic!("result {i}: {other:?}"),
        }
    }
    assert_eq!(peak.load(Ordering::SeqCst), 3, "the concurrency bound is used and kept");
    // The server may count a finished connection a moment longer than the
    // client, so only a lower bound is certain there.
    assert!(server.peak_connections() >= 3, "the requests overlapped on the wire");
}
