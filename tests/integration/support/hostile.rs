//! Hostile peers for the secret-hygiene tests of both crates (the Lambda's and the command
//! line's, which includes this file): the webhook URLs whose key and token must never show, the
//! check that they do not, and local sockets that fail the ways real networks fail.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The secrets of the webhook URLs below: nothing may show either.
pub const KEY: &str = "AIzaSyHygieneKey0w7Qm3";
pub const TOKEN: &str = "hygiene-token-5b1f0c9e7d";

pub const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:delibird-health";
pub const EVENT: &str = "health-events/seed-project-health101.json";

pub fn google_url() -> String {
    format!("https://chat.googleapis.com/v1/spaces/AAAAhygiene/messages?key={KEY}&token={TOKEN}")
}

pub fn loopback_url(address: SocketAddr) -> String {
    format!("http://{address}/v1/spaces/AAAAhygiene/messages?key={KEY}&token={TOKEN}")
}

#[track_caller]
pub fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN, KEY] {
        assert!(!text.contains(secret), "{what} shows a secret of the webhook URL:\n{text:.5000}");
    }
    assert!(!text.contains("panicked"), "{what}: a panic:\n{text:.5000}");
}

// Local peers, each on its own 127.0.0.1 port.

/// What a local socket does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// Answers in plain HTTP, as a server that does not speak TLS would.
    PlainText,
    /// Accepts and never answers.
    Silent,
}

pub async fn behave(mut stream: TcpStream, peer: Peer, held: Arc<Mutex<Vec<TcpStream>>>) {
    match peer {
        Peer::PlainText => {
            let mut buffer = [0_u8; 1024];
            let _ = stream.read(&mut buffer).await;
            let _ =
                stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
        }
        Peer::Silent => held.lock().unwrap().push(stream),
    }
}

/// A socket that does `peer` with every connection.
pub async fn socket(peer: Peer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let held = Arc::default();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(behave(stream, peer, Arc::clone(&held)));
        }
    });
    address
}

/// A loopback port nothing listens on.
pub fn closed_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// An HTTPS proxy: answers `CONNECT` with 200, then does `peer` inside the tunnel. Records the
/// `CONNECT` request lines it saw.
pub async fn https_proxy(peer: Peer) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    let held = Arc::default();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = Arc::clone(&log);
            let held = Arc::clone(&held);
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else { return };
                log.lock().unwrap().push(head.lines().next().unwrap_or_default().to_owned());
                let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                behave(stream, peer, held).await;
            });
        }
    });
    (address, seen)
}

/// Reads an HTTP request head (up to the blank line).
pub async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 || head.len() > 65_536 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// An HTTP server answering every request with `status`, echoing the request's path and query
/// (the key and token) in a Chat-style error message and in a `Location` header.
pub async fn echoing_server(status: u16) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(head) = read_head(&mut stream).await else { return };
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                    })
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0_u8; length];
                let _ = stream.read_exact(&mut body).await;
                let error = serde_json::json!({"error": {
                    "code": status,
                    "message": format!("Invalid request POST {target} (https://chat.googleapis.com{target})"),
                    "status": "INVALID_ARGUMENT"
                }})
                .to_string();
                let answer = format!(
                    "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\nLocation: https://elsewhere.example{target}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{error}",
                    error.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    address
}

pub fn via_proxy(proxy: String) -> Vec<(&'static str, String)> {
    vec![("DELIBIRD_WEBHOOK_URL", google_url()), ("HTTPS_PROXY", proxy)]
}

pub fn on_loopback(address: SocketAddr) -> Vec<(&'static str, String)> {
    vec![("DELIBIRD_WEBHOOK_URL", loopback_url(address)), ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into())]
}
