//! The webhook URL's key and token never leave it. Every way a delivery can fail — DNS failure,
//! refused connection, TLS error, timeout, 4xx, 5xx, a redirect — and bad configuration, with
//! logging at TRACE: in process (delibird's logs and its libraries', reqwest's and rustls's
//! through the `log` bridge; every error's `Display`, `Debug` and source chain; `Debug` of what
//! holds the URL, which is all a panic message could show), and in the `bootstrap` binary as a
//! child process with `DELIBIRD_LOG=trace` (everything it prints, and the error it reports to the
//! Lambda Runtime API). No run may panic. The `delibird` command line's side of this is in
//! `tools/tests/integration/secret_hygiene.rs`, with the same hostile peers
//! (`support::hostile`).
//!
//! Only `https://chat.googleapis.com/…` (and, with `DELIBIRD_ALLOW_LOOPBACK_WEBHOOK=1`, plain
//! HTTP on loopback) is accepted, so nothing here can point delibird's own configuration at a
//! local TLS failure. Instead the failures on Google's URL are made the way they happen in real
//! life, without traffic leaving the machine: in process, a client whose DNS for
//! chat.googleapis.com answers "no such host" or points at a local socket (closed, silent, or
//! answering in plain text where TLS is expected); in the binary, an HTTPS proxy
//! (`HTTPS_PROXY`, which reqwest honours as AWS Lambda's environment may set it) that does not
//! resolve, refuses, or tunnels to such a socket. HTTP errors come from a loopback server that
//! echoes the request's URL back in its error message and its `Location`, as a careless proxy
//! or Chat itself might.

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use delibird::chat::{self, GoogleChat};
use delibird::config::{Config, Webhook};
use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::handle;
use delibird::logging::chain;
use delibird::rules::DEFAULT_WEBHOOK;
use delibird::spaces::{Space, Spaces};
use delibird::webhook::{DeliveryError, Pacer, Post, RetryPolicy, deliver, http_client};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use tokio::time::Instant;

use crate::support::hostile::*;
use crate::support::runtime_api::{Bootstrap, Reply, RuntimeApi, finish, spawn_bootstrap};
use crate::support::{fixture, logs};

// In process.

/// Captures every log line at TRACE: this thread's `tracing` events (`logs::capture`), and —
/// through a process-wide subscriber installed once, which bridges the `log` crate that reqwest
/// and rustls write to — any line written on any thread, checked for the secrets as it is written.
fn capture_everything() -> (logs::Captured, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Detector;
    impl std::io::Write for Detector {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let text = String::from_utf8_lossy(buf);
            if text.contains(TOKEN) || text.contains(KEY) {
                LEAKED.store(true, Ordering::SeqCst);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let _ = tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_writer(|| Detector).try_init();
    logs::capture()
}

/// Set when a log line written outside the capturing thread showed a secret.
static LEAKED: AtomicBool = AtomicBool::new(false);

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: NonZeroU32::new(2).unwrap(),
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
        request_timeout: Duration::from_millis(500),
        deadline_margin: Duration::from_millis(10),
    }
}

/// A DNS resolver for which no name exists, as when the resolver answers NXDOMAIN.
struct NoSuchHost;

impl reqwest::dns::Resolve for NoSuchHost {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let error: Box<dyn std::error::Error + Send + Sync> =
            format!("failed to lookup address information: Name or service not known ({})", name.as_str()).into();
        Box::pin(async move { Err(error) }) as Pin<Box<dyn Future<Output = _> + Send>>
    }
}

/// delibird's webhook client settings (`webhook::http_client`), with name resolution replaced.
fn client(dns: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_millis(500))
        .no_proxy();
    dns(builder).build().unwrap()
}

fn resolving_chat_to(address: SocketAddr) -> reqwest::Client {
    client(|builder| builder.resolve("chat.googleapis.com", address))
}

/// One failure path in process: `deliver` must fail with `expected` somewhere in its error
/// chain, and the handler must report it; returns every text either showed.
async fn fail_in_process(what: &str, client: reqwest::Client, url: &str, expected: &str) -> Vec<String> {
    let webhook = chat::webhook(url, true).unwrap();
    let message = {
        let raw = fixture(EVENT);
        let event = delibird::health::validate(&raw).unwrap();
        let enriched = delibird::accounts::EnrichedEvent::bare(event);
        chat::render_body(&delibird::card::render(&enriched, None, &delibird::card::CardSettings::default()))
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let post = Post { url: &webhook, body: &message.body, request_id: "hygiene-1" };
    let error = deliver(&client, &GoogleChat, &post, &policy(), &Pacer::unpaced(), deadline)
        .await
        .expect_err("this path fails");
    let shown_chain = chain(&error);
    assert!(shown_chain.contains(expected), "{what}: expected {expected:?} in {shown_chain}");
    let mut shown = vec![error.to_string(), format!("{error:?}"), shown_chain];
    let (DeliveryError::Refused { last, .. }
    | DeliveryError::Exhausted { last, .. }
    | DeliveryError::Deadline { last, .. }) = &error;
    shown.push(format!("{last}: {last:?}"));

    let spaces = Spaces::one(Space::new(DEFAULT_WEBHOOK, webhook.clone(), Duration::ZERO));
    let deps = Deps { retry: policy(), spaces, ..Deps::new(client, webhook) };
    let invocation = LambdaEvent::new(sns_event([&fixture(EVENT)], TOPIC), Context::default());
    let result = handle(invocation, &deps).await;
    shown.push(format!("{result:?}"));
    let error = result.expect_err("the invocation fails, for Lambda to retry");
    shown.push(chain(&error));
    shown.push(Diagnostic::from(error).error_message);
    shown.push(format!("{deps:?}"));
    shown
}

#[tokio::test]
async fn no_failure_path_shows_the_token_in_process_at_trace_level() {
    let (captured, _guard) = capture_everything();
    let google = google_url();
    let mut shown = Vec::new();

    let dns = client(|builder| builder.dns_resolver(Arc::new(NoSuchHost)));
    shown.extend(fail_in_process("DNS failure", dns, &google, "Name or service not known").await);
    let refused = resolving_chat_to(closed_port());
    shown.extend(fail_in_process("refused connection", refused, &google, "could not connect").await);
    let plain = resolving_chat_to(socket(Peer::PlainText).await);
    shown.extend(fail_in_process("TLS error", plain, &google, "InvalidContentType").await);
    let silent = resolving_chat_to(socket(Peer::Silent).await);
    shown.extend(fail_in_process("timeout", silent, &google, "no answer within").await);
    for status in [400, 401, 403, 404, 429, 500, 503, 302] {
        let url = loopback_url(echoing_server(status).await);
        let plain_client = http_client(Duration::from_millis(500)).unwrap();
        shown.extend(fail_in_process(&format!("HTTP {status}"), plain_client, &url, &format!("HTTP {status}")).await);
    }

    let logged = captured.text();
    assert!(!LEAKED.load(Ordering::SeqCst), "a log line on another thread showed a secret");
    // The HTTP stack's own TRACE lines are in the capture too (which of them appear depends on
    // timing, so only their target is looked for).
    for needle in ["record failed", "webhook attempt failed", "\"target\":\"hyper_util"] {
        assert!(logged.contains(needle), "the failures were logged ({needle}):\n{logged:.3000}");
    }
    assert_clean("the TRACE log", &logged);
    for text in &shown {
        assert_clean("an error or a Debug output", text);
    }
    assert!(
        logged.contains("<redacted>") || shown.iter().any(|t| t.contains("<redacted>")),
        "the URL is shown redacted"
    );
}

#[test]
fn bad_configuration_never_quotes_the_webhook_url() {
    let bad = [
        format!("https://chat.googleapis.com.evil.example/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("http://chat.googleapis.com/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("https://chat.googleapis.com:8443/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("https://user:{TOKEN}@chat.googleapis.com/v1/spaces/A/messages?key={KEY}"),
        format!("chat.googleapis.com/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("http://127.0.0.1:9/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("https://127.0.0.1:9/v1/spaces/A/messages?key={KEY}&token={TOKEN}"),
        format!("\u{0}{TOKEN}"),
    ];
    for url in &bad {
        let vars = |name: &str| (name == "DELIBIRD_WEBHOOK_URL").then(|| url.clone());
        let shown = match Config::from_vars(vars, Webhook::Required) {
            Ok(config) => panic!("accepted {url:?}: {config:?}"),
            Err(errors) => format!("{errors}\n{errors:?}"),
        };
        assert_clean("a configuration error", &shown);
        if let Err(error) = chat::webhook(url, false) {
            assert_clean("a URL error", &format!("{error}\n{error:?}"));
        }
    }
    let both = |name: &str| match name {
        "DELIBIRD_WEBHOOK_URL" => Some(google_url()),
        "DELIBIRD_WEBHOOK_SECRET" => Some("ssm:/delibird/webhook".to_owned()),
        _ => None,
    };
    assert_clean("a configuration error", &format!("{:?}", Config::from_vars(both, Webhook::Required)));
    let good = |name: &str| (name == "DELIBIRD_WEBHOOK_URL").then(google_url);
    let config = Config::from_vars(good, Webhook::Required).unwrap();
    assert_clean("Config's Debug", &format!("{config:?}"));
    let url = chat::webhook(&google_url(), false).unwrap();
    assert_clean("WebhookUrl's Display and Debug", &format!("{url} {url:?} {}", url.redacted()));
}

/// `bootstrap` against a local Runtime API, logging at TRACE, with `env` only.
fn bootstrap(api: &RuntimeApi, env: &[(&str, String)]) -> Bootstrap {
    let mut all: Vec<(&str, String)> = vec![
        ("RUST_BACKTRACE", "1".into()),
        ("DELIBIRD_RETRY_MAX_ATTEMPTS", "2".into()),
        ("DELIBIRD_RETRY_BASE_MS", "1".into()),
        ("DELIBIRD_RETRY_CAP_MS", "2".into()),
        ("DELIBIRD_HTTP_TIMEOUT_MS", "500".into()),
        ("DELIBIRD_WEBHOOK_INTERVAL_MS", "0".into()),
    ];
    all.extend(env.iter().cloned());
    spawn_bootstrap(api, "trace", &all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_failure_path_shows_the_token_in_what_the_lambda_prints_or_reports() {
    let (proxy, _) = https_proxy(Peer::PlainText).await;
    let cases = [
        ("TLS error", via_proxy(format!("http://{proxy}")), "InvalidContentType", "delibird.DeliveryFailed"),
        ("HTTP 503", on_loopback(echoing_server(503).await), "HTTP 503", "delibird.DeliveryFailed"),
        // A revoked or deleted webhook has an error type of its own: no retry fixes it.
        ("HTTP 403", on_loopback(echoing_server(403).await), "HTTP 403", "delibird.WebhookRejected"),
    ];
    for (what, env, expected, error_type) in cases {
        let api = RuntimeApi::start().await;
        let child = bootstrap(&api, &env);
        api.invoke("request-1", sns_event([&fixture(EVENT)], TOPIC));
        let reply = api.reply("request-1", Duration::from_secs(30)).await;
        let printed = finish(child);
        let Some(Reply::Error(body)) = reply else {
            panic!("{what}: expected an error reply, got {reply:?}\n{printed:.5000}")
        };
        assert_eq!(body["errorType"], error_type, "{what}: {body}");
        assert!(printed.contains(expected), "{what}: expected {expected:?} in the logs:\n{printed:.5000}");
        assert_clean(what, &printed);
        assert_clean(what, &body.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lambda_with_a_bad_webhook_url_refuses_to_start_without_quoting_it() {
    let api = RuntimeApi::start().await;
    let url = google_url().replace("https:", "http:");
    let mut child = bootstrap(&api, &[("DELIBIRD_WEBHOOK_URL", url)]);
    let (status, child) =
        tokio::task::spawn_blocking(move || (child.exited(Duration::from_secs(30)), child)).await.unwrap();
    let printed = finish(child);
    assert_eq!(status, Some(false), "{printed}");
    assert!(printed.contains("DELIBIRD_WEBHOOK_URL"), "{printed}");
    assert_clean("bootstrap's start-up error", &printed);
    assert_clean("bootstrap's init error", &format!("{:?}", api.init_errors()));
}
