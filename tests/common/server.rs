//! A small HTTP/1.1 server for tests, on `127.0.0.1` and a free port.
//!
//! It serves files from a directory with `Content-Length`, an `ETag` (the
//! quoted SHA256 of the body) and `Last-Modified`, answers 304 to a matching
//! `If-None-Match` or `If-Modified-Since`, and 404 for anything else. Faults
//! are injected per path by the test: an error status, a connection dropped
//! mid-body, a stall, a delay, a body without `Content-Length`. Every request
//! is logged so tests can count attempts.
//!
//! One thread accepts; each connection gets its own thread, with socket
//! timeouts, and one request (`Connection: close`). Dropping the server stops
//! and joins them all, cutting stalls short.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// How long a stalled response sleeps: far longer than any test's read
/// timeout, and cut short when the server is dropped.
const STALL: Duration = Duration::from_secs(30);

/// Socket timeouts for each connection, so no thread waits forever.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Whether it carried `If-None-Match` or `If-Modified-Since`.
    pub conditional: bool,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    Drop,
    Stall,
}

#[derive(Default)]
struct State {
    stop: AtomicBool,
    /// Per path, faults applied in order, each a number of times.
    faults: Mutex<HashMap<String, Vec<(Fault, u32)>>>,
    delays: Mutex<HashMap<String, Duration>>,
    without_length: Mutex<Vec<String>>,
    log: Mutex<Vec<Logged>>,
    active: AtomicUsize,
    peak: AtomicUsize,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

/// The server; it stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    root: PathBuf,
    _dir: Option<tempfile::TempDir>,
    state: Arc<State>,
    acceptor: Option<JoinHandle<()>>,
}

impl TestServer {
    /// A server for a new, empty temporary directory.
    pub fn start() -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut server = TestServer::serve_dir(dir.path());
        server._dir = Some(dir);
        server
    }

    /// A server for the files under `root`.
    pub fn serve_dir(root: &Path) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State::default());
        let acceptor = {
            let (state, root) = (Arc::clone(&state), root.to_owned());
            std::thread::spawn(move || accept_loop(listener, &root, &state))
        };
        TestServer { addr, root: root.to_owned(), _dir: None, state, acceptor: Some(acceptor) }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Writes a file to serve at `path` (which starts with `/`).
    pub fn put(&self, path: &str, bytes: &[u8]) {
        let file = self.root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }

    /// The next `times` requests for `path` get `status` and an empty body.
    pub fn fail_status(&self, path: &str, status: u16, times: u32) {
        self.add_fault(path, Fault::Status(status), times);
    }

    /// The next `times` responses for `path` close the connection after half
    /// of the body.
    pub fn drop_connection(&self, path: &str, times: u32) {
        self.add_fault(path, Fault::Drop, times);
    }

    /// Every response for `path` sends its headers and half of the body,
    /// then stops sending, holding the connection open.
    pub fn stall(&self, path: &str) {
        self.add_fault(path, Fault::Stall, u32::MAX);
    }

    /// Every response for `path` waits `delay` before answering.
    pub fn delay(&self, path: &str, delay: Duration) {
        self.state.delays.lock().unwrap().insert(path.to_owned(), delay);
    }

    /// Responses for `path` carry no `Content-Length`; the body ends when
    /// the connection closes.
    pub fn without_length(&self, path: &str) {
        self.state.without_length.lock().unwrap().push(path.to_owned());
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Logged> {
        self.state.log.lock().unwrap().clone()
    }

    /// How many requests for `path` arrived.
    pub fn count(&self, path: &str) -> usize {
        self.state.log.lock().unwrap().iter().filter(|r| r.path == path).count()
    }

    /// The most connections handled at the same time.
    pub fn peak_connections(&self) -> usize {
        self.state.peak.load(Ordering::SeqCst)
    }

    fn add_fault(&self, path: &str, fault: Fault, times: u32) {
        self.state.faults.lock().unwrap().entry(path.to_owned()).or_default().push((fault, times));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor, blocked in accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let handlers = std::mem::take(&mut *self.state.handlers.lock().unwrap());
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

fn accept_loop(listener: TcpListener, root: &Path, state: &Arc<State>) {
    for stream in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let (root, state2) = (root.to_owned(), Arc::clone(state));
        let handler = std::thread::spawn(move || {
            let now = state2.active.fetch_add(1, Ordering::SeqCst) + 1;
            state2.peak.fetch_max(now, Ordering::SeqCst);
            let _ = handle(stream, &root, &state2);
            state2.active.fetch_sub(1, Ordering::SeqCst);
        });
        let mut handlers = state.handlers.lock().unwrap();
        handlers.retain(|h| !h.is_finished());
        handlers.push(handler);
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
}

fn read_request(stream: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut piece = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        if buffer.len() > 16 * 1024 {
            return Ok(None);
        }
        match stream.read(&mut piece)? {
            0 => return Ok(None),
            n => buffer.extend_from_slice(&piece[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buffer);
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target)) = (first.next(), first.next()) else {
        return Ok(None);
    };
    let path = target.split('?').next().unwrap_or("").to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Some(Request { method: method.to_owned(), path, headers }))
}

fn handle(mut stream: TcpStream, root: &Path, state: &State) -> io::Result<()> {
    stream.set_read_timeout(Some(SOCKET_TIMEOUT))?;
    stream.set_write_timeout(Some(SOCKET_TIMEOUT))?;
    let Some(request) = read_request(&mut stream)? else {
        return Ok(());
    };
    if state.stop.load(Ordering::SeqCst) {
        return Ok(());
    }
    let if_none_match = request.headers.get("if-none-match");
    let if_modified_since = request.headers.get("if-modified-since");
    state.log.lock().unwrap().push(Logged {
        method: request.method.clone(),
        path: request.path.clone(),
        conditional: if_none_match.is_some() || if_modified_since.is_some(),
    });
    let delay = state.delays.lock().unwrap().get(&request.path).copied();
    if let Some(delay) = delay {
        sleep_unless_stopped(delay, state);
    }

    let fault = {
        let mut faults = state.faults.lock().unwrap();
        faults.get_mut(&request.path).and_then(|list| {
            let (fault, times) = list.iter_mut().find(|(_, times)| *times > 0)?;
            *times -= 1;
            Some(*fault)
        })
    };
    if let Some(Fault::Status(status)) = fault {
        let head = format!("HTTP/1.1 {status} Injected\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return stream.write_all(head.as_bytes());
    }

    let file = (!request.path.split('/').any(|s| s == ".."))
        .then(|| root.join(request.path.trim_start_matches('/')))
        .filter(|f| f.is_file());
    let Some(file) = file else {
        let body = "not found\n";
        let head =
            format!("HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        return stream.write_all(head.as_bytes());
    };
    let body = std::fs::read(&file)?;
    let etag = format!("\"{:x}\"", Sha256::digest(&body));
    let modified = http_date(std::fs::metadata(&file)?.modified()?);
    let not_modified = match (if_none_match, if_modified_since) {
        (Some(tags), _) => tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"),
        (None, Some(since)) => *since == modified,
        (None, None) => false,
    };
    if not_modified {
        let head = format!(
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nLast-Modified: {modified}\r\nConnection: close\r\n\r\n"
        );
        return stream.write_all(head.as_bytes());
    }

    let with_length = !state.without_length.lock().unwrap().contains(&request.path);
    let mut head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nETag: {etag}\r\nLast-Modified: {modified}\r\nConnection: close\r\n"
    );
    if with_length {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if request.method == "HEAD" {
        return Ok(());
    }
    let half = &body[..body.len() / 2];
    match fault {
        Some(Fault::Drop) => {
            stream.write_all(half)?;
            stream.flush()?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::Stall) => {
            stream.write_all(half)?;
            stream.flush()?;
            sleep_unless_stopped(STALL, state);
            Ok(())
        }
        _ => stream.write_all(&body),
    }
}

fn sleep_unless_stopped(duration: Duration, state: &State) {
    let end = Instant::now() + duration;
    while Instant::now() < end && !state.stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).expect("file times are after 1970").as_secs();
    super::date(i64::try_from(secs).expect("a file time before the year 292 billion"), "GMT")
}
