//! A counting, optionally slow HTTP proxy in front of moto: the AWS SDK is pointed at it with the
//! standard endpoint setting, so a test can count the API calls delibird really makes, make the
//! API slow, and inject faults into chosen calls ([`super::aws_faults`]: hang, delay, fail with a
//! DynamoDB error, throttle).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::aws_faults::{Action, Fault, Rule};

/// The lock around the requests to one item.
type ItemLock = Arc<tokio::sync::Mutex<()>>;

#[derive(Clone)]
struct Shared {
    upstream: String,
    client: reqwest::Client,
    calls: Arc<Mutex<BTreeMap<String, usize>>>,
    delay: Arc<Mutex<Duration>>,
    /// Requests whose body holds one of these are refused as STS refuses an `AssumeRole` it does
    /// not allow, without reaching moto.
    refused: Arc<Mutex<Vec<String>>>,
    /// When requests are serialized: one lock per item, held around each request to it.
    one_at_a_time: Option<Arc<Mutex<BTreeMap<String, ItemLock>>>>,
    /// Faults to inject, the first matching rule winning.
    faults: Arc<Mutex<Vec<(Rule, Fault)>>>,
    /// Requests a fault was applied to, per operation.
    faulted: Arc<Mutex<BTreeMap<String, usize>>>,
}

/// A running proxy on 127.0.0.1.
pub struct AwsProxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl AwsProxy {
    /// Starts a proxy forwarding to `upstream` (moto's endpoint).
    pub async fn start(upstream: &str) -> Self {
        Self::launch(upstream, None).await
    }

    /// Starts a proxy that forwards one request at a time to each DynamoDB item. moto's server
    /// handles requests on threads without a lock around a conditional write's check and write,
    /// so under load two racing `UpdateItem`s can both succeed, which DynamoDB never allows;
    /// serialized per item, moto keeps DynamoDB's guarantee and the tests test delibird rather
    /// than the emulator. Requests to different items go on at once, as in DynamoDB: one lock for
    /// all of them would queue a container's lease behind every other container's calls, a delay
    /// DynamoDB does not have.
    pub async fn serialized(upstream: &str) -> Self {
        Self::launch(upstream, Some(Arc::default())).await
    }

    async fn launch(upstream: &str, one_at_a_time: Option<Arc<Mutex<BTreeMap<String, ItemLock>>>>) -> Self {
        let shared = Shared {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            calls: Arc::default(),
            delay: Arc::default(),
            refused: Arc::default(),
            one_at_a_time,
            faults: Arc::default(),
            faulted: Arc::default(),
        };
        let app = axum::Router::new().fallback(forward).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { endpoint: format!("http://{address}"), shared, server }
    }

    /// Calls per operation (`ListAccounts`, `AssumeRole`, …) so far.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// Calls to `operation` so far.
    pub fn count(&self, operation: &str) -> usize {
        self.calls().get(operation).copied().unwrap_or(0)
    }

    /// All calls.
    pub fn total(&self) -> usize {
        self.calls().values().sum()
    }

    /// Makes every answer wait `delay` first.
    pub fn set_delay(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Refuses every request whose body holds `text` (a role's account id, say) with STS's
    /// `AccessDenied`: a role that cannot be assumed. Counted all the same.
    pub fn refuse(&self, text: &str) {
        self.shared.refused.lock().unwrap().push(text.to_owned());
    }

    /// Applies `fault` to the requests `rule` matches, from now on (before any rule injected later).
    pub fn inject(&self, rule: Rule, fault: Fault) {
        self.shared.faults.lock().unwrap().push((rule, fault));
    }

    /// Stops injecting faults.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }

    /// Requests for `operation` a fault was applied to so far.
    pub fn faulted(&self, operation: &str) -> usize {
        self.shared.faulted.lock().unwrap().get(operation).copied().unwrap_or(0)
    }
}

/// STS's answer to an `AssumeRole` the caller may not make.
const ACCESS_DENIED: &str = "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
    <Type>Sender</Type><Code>AccessDenied</Code><Message>not authorized to perform: sts:AssumeRole</Message>\
    </Error><RequestId>refused-by-the-test-proxy</RequestId></ErrorResponse>";

impl Drop for AwsProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The operation name: `X-Amz-Target` (JSON protocols) or `Action=` (query protocols).
fn operation(request: &Request, body: &[u8]) -> String {
    if let Some(target) = request.headers().get("x-amz-target").and_then(|v| v.to_str().ok()) {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    let body = String::from_utf8_lossy(body);
    let query = request.uri().query().unwrap_or("").to_owned();
    format!("{query}&{body}").split('&').find_map(|pair| pair.strip_prefix("Action=")).unwrap_or("unknown").to_owned()
}

/// The DynamoDB item a request is about: its table and `Key` (or its `Item`'s `id`); requests
/// about no one item (`DescribeTable`, `Query`) share the table's name.
fn item(body: &[u8]) -> String {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let key = request.get("Key").or_else(|| request.pointer("/Item/id")).map(ToString::to_string).unwrap_or_default();
    format!("{}\n{key}", request["TableName"].as_str().unwrap_or_default())
}

async fn forward(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let request = Request::from_parts(parts.clone(), axum::body::Body::empty());
    let operation = operation(&request, &body);
    *shared.calls.lock().unwrap().entry(operation.clone()).or_default() += 1;
    let fault =
        shared.faults.lock().unwrap().iter().find(|(rule, _)| rule.matches(&operation, &body)).map(|(_, f)| f.clone());
    if shared.refused.lock().unwrap().iter().any(|refused| body.windows(refused.len()).any(|w| w == refused.as_bytes()))
    {
        return (StatusCode::FORBIDDEN, [("content-type", "text/xml")], ACCESS_DENIED).into_response();
    }
    let mut delay = *shared.delay.lock().unwrap();
    if let Some(fault) = fault {
        *shared.faulted.lock().unwrap().entry(operation).or_default() += 1;
        match fault.action() {
            Action::Forward(wait) => delay += wait,
            Action::Answer(wait, answer) => {
                tokio::time::sleep(wait).await;
                return answer;
            }
        }
    }
    tokio::time::sleep(delay).await;
    let lock = shared.one_at_a_time.as_ref().map(|locks| locks.lock().unwrap().entry(item(&body)).or_default().clone());
    let _turn = match &lock {
        Some(lock) => Some(lock.lock().await),
        None => None,
    };
    let url = format!("{}{}", shared.upstream, parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"));
    let mut upstream = shared.client.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    match upstream.send().await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
            let headers = answer.headers().clone();
            let bytes = answer.bytes().await.unwrap_or_default();
            let mut response = (status, bytes).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}
