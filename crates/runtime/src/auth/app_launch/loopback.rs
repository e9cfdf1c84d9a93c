//! The loopback redirect of a native app (RFC 8252 §7.3): listen on 127.0.0.1, take exactly one
//! callback on the redirect path, answer the browser with a short page, and stop listening, so
//! a second callback finds nobody there.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use crate::auth::AuthError;

/// The most of a request the listener reads (the request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

const DONE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>fhirforge</title></head><body><h1>Sign-in received</h1>\
<p>fhirforge has the answer; return to the terminal. You can close this tab.</p></body></html>";

/// A listener for one authorization redirect.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackRedirect {
    /// Listens on `127.0.0.1:port` (`0`: a free port) for `path` (such as `/callback`).
    ///
    /// # Errors
    /// [`AuthError::Config`] when the port is taken or the path is not absolute.
    pub async fn bind(port: u16, path: &str) -> Result<Self, AuthError> {
        if !path.starts_with('/') || path.contains(['?', '#']) {
            return Err(AuthError::Config(format!(
                "the redirect path {path:?} must start with `/` and hold no query"
            )));
        }
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            AuthError::Config(format!(
                "cannot listen on 127.0.0.1:{port} for the sign-in redirect: {e}"
            ))
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| AuthError::Config(format!("the redirect listener has no address: {e}")))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}{path}"))
            .map_err(|e| AuthError::Config(format!("the redirect URI: {e}")))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// `http://127.0.0.1:<port><path>`: the redirect URI to register and send.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Waits up to `timeout` for the browser's request on the redirect path and returns its
    /// full URL. Other paths (a browser asking for `/favicon.ico`) get 404 and the wait goes
    /// on. The listener is closed when this returns.
    ///
    /// # Errors
    /// [`AuthError::Config`] when no callback arrives in time.
    pub async fn wait(self, timeout: Duration) -> Result<Url, AuthError> {
        tokio::time::timeout(timeout, async {
            loop {
                let Ok((stream, _)) = self.listener.accept().await else {
                    // Out of file descriptors or the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                if let Some(url) = self.answer(stream).await {
                    return url;
                }
            }
        })
        .await
        .map_err(|_| {
            AuthError::Config(format!(
                "no sign-in redirect reached {} within {} s",
                self.redirect_uri,
                timeout.as_secs()
            ))
        })
    }

    /// Reads one request; the callback URL when it is a GET of the redirect path.
    async fn answer(&self, mut stream: TcpStream) -> Option<Url> {
        let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream))
            .await
            .ok()
            .flatten();
        let target = head.as_deref().and_then(|head| {
            let line = head.lines().next()?;
            let mut words = line.split(' ');
            match (words.next(), words.next()) {
                (Some("GET"), Some(target)) if target.starts_with('/') => Some(target.to_owned()),
                _ => None,
            }
        });
        let url = target.and_then(|t| self.redirect_uri.join(&t).ok());
        let ours = url
            .as_ref()
            .is_some_and(|u| u.path() == self.redirect_uri.path());
        let (status, body) = if ours {
            ("200 OK", DONE_PAGE)
        } else {
            ("404 Not Found", "not found")
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.write_all(response.as_bytes()).await;
        let _ = stream.shutdown().await;
        if ours {
            url
        } else {
            None
        }
    }
}

/// The request head (up to the blank line), or `None` when it is larger than [`MAX_HEAD`] or
/// the connection ends first.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> Result<(u16, String), reqwest::Error> {
        let response = reqwest::get(url).await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    #[tokio::test]
    async fn one_callback_is_taken_and_a_second_finds_nobody() {
        let listener = LoopbackRedirect::bind(0, "/callback").await.expect("bind");
        let uri = listener.redirect_uri().clone();
        assert_eq!(uri.host_str(), Some("127.0.0.1"));
        let waiting = tokio::spawn(listener.wait(Duration::from_secs(10)));
        let base = format!("http://127.0.0.1:{}", uri.port().expect("port"));
        let (status, _) = get(&format!("{base}/favicon.ico")).await.expect("favicon");
        assert_eq!(status, 404);
        let (status, page) = get(&format!("{base}/callback?code=c1&state=s1"))
            .await
            .expect("callback");
        assert_eq!(status, 200);
        assert!(page.contains("Sign-in received"));
        let got = waiting.await.expect("join").expect("callback");
        assert_eq!(got.query(), Some("code=c1&state=s1"));
        assert!(
            get(&format!("{base}/callback?code=c2&state=s1"))
                .await
                .is_err(),
            "a second callback must find the listener closed"
        );
    }

    #[tokio::test]
    async fn no_callback_times_out_and_bad_paths_are_refused() {
        let listener = LoopbackRedirect::bind(0, "/cb").await.expect("bind");
        let e = listener
            .wait(Duration::from_millis(200))
            .await
            .expect_err("timeout");
        assert!(e.to_string().contains("no sign-in redirect"), "{e}");
        assert!(LoopbackRedirect::bind(0, "cb").await.is_err());
        assert!(LoopbackRedirect::bind(0, "/cb?x=1").await.is_err());
    }
}
