//! An in-process HTTP/1.1 stub on `127.0.0.1:0`, for faults a real FHIR server cannot be made
//! to produce: 429 with `Retry-After`, 503, connections dropped before or after the request was
//! read, oversized, malformed or HTML bodies, links to another origin. Tests that use it have
//! `stub` in their names.
//!
//! Each connection is served on its own task; every request is recorded (method, target,
//! headers, body) and answered by the test's handler.
//!
//! ```no_run
//! # async fn demo() {
//! use fhirforge_testkit::stub::{Reply, Stub};
//! let stub = Stub::script(vec![
//!     Reply::status(503).header("Retry-After", "2"),
//!     Reply::json(200, &serde_json::json!({"resourceType": "Patient", "id": "1"})),
//! ])
//! .await;
//! // ... point a client at stub.base_url() ...
//! assert_eq!(stub.requests().len(), 2);
//! # }
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A request the stub received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target: path and query as sent (`/Patient?name=a`).
    pub target: String,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The stub's own base URL (`http://127.0.0.1:port`), for building absolute links.
    pub base: String,
}

impl Recorded {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the stub does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this response (keeping the connection open).
    Respond {
        /// HTTP status.
        status: u16,
        /// Headers (a `Content-Length` is added).
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Read the whole request, then close the connection (with a reset) without answering.
    DropAfterReading,
    /// Read the whole request and never answer (the connection stays open for 30 s): for
    /// client timeouts.
    Stall,
    /// Write these bytes as the whole response, then close (for bodies without
    /// `Content-Length` and other raw cases).
    Raw(Vec<u8>),
}

impl Reply {
    /// An empty response with `status`.
    pub fn status(status: u16) -> Self {
        Reply::Respond {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A FHIR JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Reply::status(status)
            .header("Content-Type", "application/fhir+json")
            .body(body.to_string())
    }

    /// Adds a header (only on [`Reply::Respond`]).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Reply::Respond { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// Sets the body (only on [`Reply::Respond`]).
    #[must_use]
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        if let Reply::Respond { body, .. } = &mut self {
            *body = bytes.into();
        }
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync + 'static;

/// A running stub; stops when dropped.
#[derive(Debug)]
pub struct Stub {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl Stub {
    /// Starts a stub that answers every request with `handler`.
    ///
    /// # Panics
    /// When no loopback port can be bound (test support: failing loudly is the point).
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_dropping(0, handler).await
    }

    /// Like [`start`](Self::start), but the first `drop_first` connections are closed with a
    /// reset as soon as they are accepted, before anything is read from them: the client's
    /// request never reaches the handler and is not recorded.
    ///
    /// # Panics
    /// As [`start`](Self::start).
    pub async fn start_dropping(
        drop_first: usize,
        handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port for the stub");
        let addr = listener.local_addr().expect("stub address");
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            let mut accepted = 0usize;
            while let Ok((stream, _)) = listener.accept().await {
                accepted += 1;
                if accepted <= drop_first {
                    reset(stream);
                    continue;
                }
                let handler = handler.clone();
                let recorded = recorded.clone();
                tokio::spawn(serve(stream, addr, handler, recorded));
            }
        });
        Self {
            addr,
            requests,
            task,
        }
    }

    /// Starts a stub that answers requests with `replies` in order, then with 500
    /// "stub script exhausted".
    pub async fn script(replies: Vec<Reply>) -> Self {
        let queue = Mutex::new(VecDeque::from(replies));
        Self::start(move |_| {
            queue
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
                .unwrap_or_else(|| Reply::status(500).body("stub script exhausted"))
        })
        .await
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far (dropped-before-reading connections are not requests).
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    handler: Arc<Handler>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
) {
    let mut buf: Vec<u8> = Vec::new();
    let base = format!("http://{addr}");
    loop {
        let request = match read_request(&mut stream, &mut buf, &base).await {
            Some(r) => r,
            None => return,
        };
        let reply = handler(&request);
        match reply {
            Reply::DropAfterReading => {
                push(&recorded, request);
                reset(stream);
                return;
            }
            Reply::Stall => {
                push(&recorded, request);
                tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                return;
            }
            Reply::Raw(bytes) => {
                push(&recorded, request);
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
            Reply::Respond {
                status,
                headers,
                body,
            } => {
                push(&recorded, request);
                let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (name, value) in &headers {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
                head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
                if stream.write_all(head.as_bytes()).await.is_err()
                    || stream.write_all(&body).await.is_err()
                {
                    return;
                }
            }
        }
    }
}

fn push(recorded: &Mutex<Vec<Recorded>>, request: Recorded) {
    recorded
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request);
}

/// Closes with RST, so the client sees a reset connection rather than a clean EOF.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Reads one request (head and `Content-Length` body); `None` on EOF or garbage.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>, base: &str) -> Option<Recorded> {
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let body_start = head_end + 4;
    while buf.len() < body_start + len {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + len].to_vec();
    buf.drain(..body_start + len);
    Some(Recorded {
        method,
        target,
        headers,
        body,
        base: base.to_owned(),
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
