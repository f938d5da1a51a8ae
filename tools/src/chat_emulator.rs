//! A local stand-in for Google Chat's incoming-webhook endpoint, for the demo and the tests: it
//! speaks Chat's HTTP behaviour, so delibird's real delivery code runs against it unchanged.
//!
//! What it does as Chat does: `POST /v1/spaces/{space}/messages?key=…&token=…`; 401 without a
//! token; 400 (`INVALID_ARGUMENT`) for a body that is not JSON, has neither `text` nor `cardsV2`,
//! or exceeds 32,000 bytes; 429 (`RESOURCE_EXHAUSTED`) for a second message within one second in
//! the same space; `thread.threadKey` honoured only with
//! `messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD`; answers `{name, thread: {name}}`.
//! Tests can script answers ahead of that behaviour (error statuses, slow answers) or declare an
//! outage (every request answered with one status until it ends).
//! `GET /_emulator/messages` lists what it accepted, for tests that run it as a process
//! (`delibird chat-emulator`).
//! It is not Chat: it does not render cards or check them against the schema.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::time::Instant;

use delibird::chat::limits::MAX_MESSAGE_BYTES;

/// The token in the emulator's webhook URLs; tests assert it never leaks.
pub const EMULATOR_TOKEN: &str = "emulator-secret-token-0123456789";

/// One scripted answer, given before the emulator's normal behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripted {
    /// Answer with this status and a `google.rpc.Status` body.
    Status(u16),
    /// Wait this long, then behave normally (a slow answer; the client may time out first).
    Delay(Duration),
    /// Behave normally — accept the message — but answer only after this long: the client may
    /// time out and retry a message that was posted.
    AcceptSlowly(Duration),
}

/// A message the emulator accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The space it was posted to.
    pub space: String,
    /// Its resource name.
    pub message_name: String,
    /// The thread it landed in.
    pub thread_name: String,
    /// The body as sent.
    pub body: Value,
    /// When it was accepted.
    pub at: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    script: VecDeque<Scripted>,
    outage: Option<u16>,
    received: Vec<Received>,
    requests: usize,
    rate_limited: usize,
    last_accepted: HashMap<String, Instant>,
    threads: HashMap<(String, String), String>,
    /// (space, requestId) → the message it created.
    request_ids: HashMap<(String, String), (String, String)>,
    repeats: usize,
}

#[derive(Debug, Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    min_interval: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves only counters behind: still usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running emulator on `127.0.0.1`; stops when dropped.
#[derive(Debug)]
pub struct ChatEmulator {
    address: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl ChatEmulator {
    /// Starts an emulator enforcing Chat's one message per second per space.
    pub async fn start() -> std::io::Result<Self> {
        Self::with_min_interval(Duration::from_secs(1)).await
    }

    /// Starts an emulator that accepts one message per `min_interval` per space.
    pub async fn with_min_interval(min_interval: Duration) -> std::io::Result<Self> {
        Self::on_port(0, min_interval).await
    }

    /// Starts an emulator on `127.0.0.1:port` (0: any free port) that accepts one message per
    /// `min_interval` per space.
    pub async fn on_port(port: u16, min_interval: Duration) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let address = listener.local_addr()?;
        let shared = Shared { inner: Arc::default(), min_interval };
        let app = axum::Router::new()
            .route("/v1/spaces/{space}/messages", post(create_message))
            .route("/_emulator/messages", get(list_messages))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { address, shared, server })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The webhook URL of `space`, with a key and [`EMULATOR_TOKEN`].
    pub fn webhook_url(&self, space: &str) -> String {
        format!("http://{}/v1/spaces/{space}/messages?key=emulator-key&token={EMULATOR_TOKEN}", self.address)
    }

    /// Queues answers to give, in order, before behaving normally.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.shared.lock().script.extend(answers);
    }

    /// Answers every request with `status` until called again with `None`: an outage.
    pub fn set_outage(&self, status: Option<u16>) {
        self.shared.lock().outage = status;
    }

    /// The messages accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Requests seen so far, accepted or not.
    pub fn requests(&self) -> usize {
        self.shared.lock().requests
    }

    /// Requests answered 429 by the rate limit (scripted 429s not included).
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().rate_limited
    }

    /// Requests that repeated an earlier one's `requestId` and were answered with the message it
    /// had created, creating none.
    pub fn repeats(&self) -> usize {
        self.shared.lock().repeats
    }
}

impl Drop for ChatEmulator {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /_emulator/messages`: what was accepted so far, for tests in other processes (and
/// languages) that run the emulator as `delibird chat-emulator`: `{requests, rateLimited,
/// messages: [{space, name, thread, body}]}`.
async fn list_messages(State(shared): State<Shared>) -> Response {
    let inner = shared.lock();
    let messages: Vec<Value> = inner
        .received
        .iter()
        .map(|r| json!({"space": r.space, "name": r.message_name, "thread": r.thread_name, "body": r.body}))
        .collect();
    Json(json!({"requests": inner.requests, "rateLimited": inner.rate_limited, "messages": messages})).into_response()
}

fn rpc_error(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status.as_u16(), "message": message, "status": reason}});
    (status, Json(body)).into_response()
}

async fn create_message(
    State(shared): State<Shared>,
    Path(space): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let scripted = {
        let mut inner = shared.lock();
        inner.requests += 1;
        match inner.outage {
            Some(code) => Some(Scripted::Status(code)),
            None => inner.script.pop_front(),
        }
    };
    let answer_after = match scripted {
        Some(Scripted::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return rpc_error(status, "SCRIPTED", "scripted failure");
        }
        Some(Scripted::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            None
        }
        Some(Scripted::AcceptSlowly(delay)) => Some(delay),
        None => None,
    };
    let answer = accept(&shared, &space, &query, &body);
    if let Some(delay) = answer_after {
        tokio::time::sleep(delay).await;
    }
    answer
}

/// The emulator's answer to one request: an error, or the message it accepted (or had accepted
/// under the same `requestId`).
fn accept(shared: &Shared, space: &str, query: &HashMap<String, String>, body: &[u8]) -> Response {
    let space = space.to_owned();
    if !query.contains_key("token") || !query.contains_key("key") {
        return rpc_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request is missing required authentication credential.",
        );
    }
    if body.len() > MAX_MESSAGE_BYTES {
        return rpc_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Message exceeds the maximum size.");
    }
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return rpc_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    };
    if message.get("text").is_none() && message.get("cardsV2").is_none() {
        return rpc_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "Message cannot be empty.");
    }
    let mut inner = shared.lock();
    // As `spaces.messages.create` documents: "specifying an existing request ID returns the
    // message created with that ID instead of creating a new message". Whether a repeat counts
    // against the space's rate is not documented; here it does not.
    let request_id = query.get("requestId").cloned();
    if let Some(id) = &request_id
        && let Some((message_name, thread_name)) = inner.request_ids.get(&(space.clone(), id.clone())).cloned()
    {
        inner.repeats += 1;
        return (StatusCode::OK, Json(json!({"name": message_name, "thread": {"name": thread_name}}))).into_response();
    }
    let now = Instant::now();
    if inner.last_accepted.get(&space).is_some_and(|last| now.duration_since(*last) < shared.min_interval) {
        inner.rate_limited += 1;
        return rpc_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per space'.",
        );
    }
    inner.last_accepted.insert(space.clone(), now);
    let number = inner.received.len() + 1;
    let key = message.pointer("/thread/threadKey").and_then(Value::as_str).map(str::to_owned);
    let threaded = query.get("messageReplyOption").map(String::as_str) == Some("REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
    let thread_name = match key.filter(|_| threaded) {
        Some(key) => {
            let fresh = format!("spaces/{space}/threads/t{number}");
            inner.threads.entry((space.clone(), key)).or_insert(fresh).clone()
        }
        None => format!("spaces/{space}/threads/t{number}"),
    };
    let message_name = format!("spaces/{space}/messages/m{number}");
    if let Some(id) = request_id {
        inner.request_ids.insert((space.clone(), id), (message_name.clone(), thread_name.clone()));
    }
    inner.received.push(Received {
        space,
        message_name: message_name.clone(),
        thread_name: thread_name.clone(),
        body: message,
        at: now,
    });
    (StatusCode::OK, Json(json!({"name": message_name, "thread": {"name": thread_name}}))).into_response()
}
