//! A local AWS Lambda Runtime API (the HTTP protocol the `bootstrap` binary speaks): it hands out
//! queued invocations on `GET /2018-06-01/runtime/invocation/next` and records what the runtime
//! posts to `…/{id}/response`, `…/{id}/error` and `/runtime/init/error`.

use std::collections::VecDeque;
use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

/// What the runtime reported for one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `POST /runtime/invocation/{id}/response`.
    Response(Value),
    /// `POST /runtime/invocation/{id}/error`: the error body (`errorType`, `errorMessage`).
    Error(Value),
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, String, Duration)>,
    replies: Vec<(String, Reply)>,
    init_errors: Vec<Value>,
    /// Each invocation handed out, with the deadline it was given.
    handed_out: Vec<(String, SystemTime)>,
}

#[derive(Clone, Default)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    changed: Arc<Notify>,
}

/// A running Runtime API on 127.0.0.1.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Starts the server with no invocation queued.
    pub async fn start() -> Self {
        let shared = Shared::default();
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { address, shared, server }
    }

    /// Queues an invocation with request id `id`, due 30 s after it is handed out.
    pub fn invoke(&self, id: &str, payload: Value) {
        self.invoke_text(id, payload.to_string(), Duration::from_secs(30));
    }

    /// Queues an invocation whose payload is `text` as it is (JSON `serde_json` could not write,
    /// such as `1e400`), due `within` after it is handed out.
    pub fn invoke_text(&self, id: &str, text: String, within: Duration) {
        self.shared.inner.lock().unwrap().queue.push_back((id.to_owned(), text, within));
        self.shared.changed.notify_waiters();
    }

    /// Waits until the runtime has replied to `id`.
    pub async fn reply(&self, id: &str, within: Duration) -> Option<Reply> {
        let wait = async {
            loop {
                let notified = self.shared.changed.notified();
                if let Some((_, reply)) = self.shared.inner.lock().unwrap().replies.iter().find(|(r, _)| r == id) {
                    return reply.clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.ok()
    }

    /// Waits until `id` has been handed out to a runtime; the deadline it was given.
    pub async fn handed_out(&self, id: &str, within: Duration) -> Option<SystemTime> {
        let wait = async {
            loop {
                let notified = self.shared.changed.notified();
                if let Some((_, deadline)) = self.shared.inner.lock().unwrap().handed_out.iter().find(|(r, _)| r == id)
                {
                    return *deadline;
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.ok()
    }

    /// Invocations queued and not yet handed out.
    pub fn queued(&self) -> usize {
        self.shared.inner.lock().unwrap().queue.len()
    }

    /// Init errors the runtime reported.
    pub fn init_errors(&self) -> Vec<Value> {
        self.shared.inner.lock().unwrap().init_errors.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Shared>) -> Response {
    let (id, payload, within) = loop {
        let notified = shared.changed.notified();
        if let Some(found) = shared.inner.lock().unwrap().queue.pop_front() {
            break found;
        }
        notified.await;
    };
    let due = SystemTime::now() + within;
    shared.inner.lock().unwrap().handed_out.push((id.clone(), due));
    shared.changed.notify_waiters();
    let deadline = due.duration_since(UNIX_EPOCH).unwrap().as_millis();
    let mut headers = HeaderMap::new();
    headers.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).unwrap());
    headers.insert("lambda-runtime-deadline-ms", HeaderValue::from_str(&deadline.to_string()).unwrap());
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:999988887777:function:delibird"),
    );
    headers.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793"));
    (StatusCode::OK, headers, payload).into_response()
}

fn record(shared: &Shared, id: String, reply: Reply) -> StatusCode {
    shared.inner.lock().unwrap().replies.push((id, reply));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn response(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&shared, id, Reply::Response(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    record(&shared, id, Reply::Error(serde_json::from_slice(&body).unwrap_or(Value::Null)))
}

async fn init_error(State(shared): State<Shared>, body: Bytes) -> StatusCode {
    shared.inner.lock().unwrap().init_errors.push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

/// A running `bootstrap`: its output is read as it is written (a child whose pipe fills up
/// blocks, and a test waiting for its reply would wait for ever), and it is killed when dropped.
pub struct Bootstrap {
    child: std::process::Child,
    printed: Arc<Mutex<Vec<u8>>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Bootstrap {
    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it printed so far, stdout and stderr as they came.
    pub fn printed(&self) -> String {
        String::from_utf8_lossy(&self.printed.lock().unwrap()).into_owned()
    }

    /// Its peak resident memory so far, in KiB (`VmHWM`), while it runs.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status.lines().find_map(|line| line.strip_prefix("VmHWM:")?.trim().strip_suffix("kB")?.trim().parse().ok())
    }

    /// Kills it at once (as a timeout, an out-of-memory kill or a crash would).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits up to `within` for it to exit by itself: its success, or `None` when it still runs.
    pub fn exited(&mut self, within: Duration) -> Option<bool> {
        let give_up = std::time::Instant::now() + within;
        while std::time::Instant::now() < give_up {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.success());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Stops it and returns everything it printed.
    pub fn finish(mut self) -> String {
        self.kill();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.printed()
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `bootstrap` under test, as Lambda starts it against `api`: nothing of this process's
/// environment but `PATH`, the Runtime API's variables, `DELIBIRD_LOG=log`, and `env`. This
/// build's binary, or the one `DELIBIRD_BOOTSTRAP_BIN` names, run through
/// `DELIBIRD_BOOTSTRAP_RUNNER` when that is set (scripts/check-infra runs the arm64 release
/// binary the image ships under `qemu-aarch64-static`).
pub fn spawn_bootstrap(api: &RuntimeApi, log: &str, env: &[(&str, String)]) -> Bootstrap {
    let binary = std::env::var_os("DELIBIRD_BOOTSTRAP_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_bootstrap").into());
    let mut command = match std::env::var_os("DELIBIRD_BOOTSTRAP_RUNNER") {
        Some(runner) => {
            let mut command = std::process::Command::new(runner);
            command.arg(binary);
            command
        }
        None => std::process::Command::new(binary),
    };
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "delibird")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("DELIBIRD_LOG", log)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("bootstrap starts");
    let printed = Arc::new(Mutex::new(Vec::new()));
    let mut readers = Vec::new();
    let pipes: Vec<Box<dyn std::io::Read + Send>> = vec![
        Box::new(child.stdout.take().expect("stdout is piped")),
        Box::new(child.stderr.take().expect("stderr is piped")),
    ];
    for mut pipe in pipes {
        let printed = printed.clone();
        readers.push(std::thread::spawn(move || {
            let mut buffer = [0_u8; 8192];
            while let Ok(read @ 1..) = pipe.read(&mut buffer) {
                printed.lock().unwrap().extend_from_slice(&buffer[..read]);
            }
        }));
    }
    Bootstrap { child, printed, readers }
}

/// Stops the process and returns everything it printed.
pub fn finish(child: Bootstrap) -> String {
    child.finish()
}
