//! Faults the [`super::aws_proxy::AwsProxy`] injects: a request whose operation (the last part of
//! `X-Amz-Target`, or the query protocols' `Action`) and body match a rule is held open, delayed,
//! or answered with an error in DynamoDB's shape instead of being forwarded to moto.
//!
//! ```ignore
//! // The lease's release (the UpdateItem that only removes the holder) fails; nothing else does.
//! proxy.inject(Rule::on("UpdateItem").body_contains("\"UpdateExpression\":\"REMOVE holder"), Fault::fail(500, "InternalServerError"));
//! ```

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What happens to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Hold the request open for this long without an answer — a store that hangs. (After that the
    /// proxy answers 504, long after any client gave up; the hold is bounded so that no test can
    /// hang for ever.)
    Hang(Duration),
    /// Wait this long, then forward it: a slow store.
    Delay(Duration),
    /// Answer at once with `status` and a DynamoDB error body whose `__type` is `error_type`
    /// (`InternalServerError`, `ResourceNotFoundException`, …); the request never reaches moto.
    Fail {
        /// The HTTP status.
        status: u16,
        /// The error's name, as DynamoDB's `__type` gives it (without the namespace).
        error_type: &'static str,
    },
    /// Answer `ThrottlingException` (400): the AWS SDK retries it with backoff.
    Throttle,
}

impl Fault {
    /// [`Fault::Fail`].
    pub fn fail(status: u16, error_type: &'static str) -> Self {
        Self::Fail { status, error_type }
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    operation: String,
    body_contains: Option<String>,
}

impl Rule {
    /// Every request for `operation` (`UpdateItem`, `GetItem`, `DescribeTable`, …).
    pub fn on(operation: &str) -> Self {
        Self { operation: operation.to_owned(), body_contains: None }
    }

    /// Only those whose body contains `text` (the JSON as the SDK writes it: no spaces).
    pub fn body_contains(mut self, text: &str) -> Self {
        self.body_contains = Some(text.to_owned());
        self
    }

    /// Whether a request for `operation` with `body` matches.
    pub fn matches(&self, operation: &str, body: &[u8]) -> bool {
        self.operation == operation
            && self.body_contains.as_ref().is_none_or(|text| String::from_utf8_lossy(body).contains(text.as_str()))
    }
}

/// What the proxy does with a matching request: forward it after a wait, or answer itself.
pub enum Action {
    /// Forward to moto after this long.
    Forward(Duration),
    /// This answer, after this long.
    Answer(Duration, Response),
}

impl Fault {
    /// What this fault does to one request.
    pub fn action(&self) -> Action {
        match self {
            Self::Hang(hold) => {
                Action::Answer(*hold, (StatusCode::GATEWAY_TIMEOUT, "held open by the test").into_response())
            }
            Self::Delay(delay) => Action::Forward(*delay),
            Self::Fail { status, error_type } => Action::Answer(Duration::ZERO, dynamodb_error(*status, error_type)),
            Self::Throttle => Action::Answer(Duration::ZERO, dynamodb_error(400, "ThrottlingException")),
        }
    }
}

/// An error as DynamoDB (the `awsJson1_0` protocol) writes it.
fn dynamodb_error(status: u16, error_type: &str) -> Response {
    let body = json!({
        "__type": format!("com.amazonaws.dynamodb.v20120810#{error_type}"),
        "message": format!("{error_type} injected by the test's proxy"),
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    if let Ok(value) = HeaderValue::from_str(error_type) {
        headers.insert("x-amzn-errortype", value);
    }
    response
}
