//! The webhook URL's key and token never leave `delibird send`: every way a delivery can fail —
//! DNS failure, refused connection, TLS error, timeout, 4xx, 5xx, a redirect — and bad
//! configuration, with `DELIBIRD_LOG=trace`, in everything it prints. No run may panic. The
//! Lambda's side (in process and `bootstrap`) is in the Lambda crate's `secret_hygiene` tests,
//! with the same hostile peers (`support::hostile`).

use std::process::{Command, Stdio};

use crate::support::fixtures_dir;
use crate::support::hostile::*;

/// `delibird send` on one event with `env` (and nothing else from this process's environment),
/// logging at TRACE. Returns its exit code and everything it printed.
fn delibird_send(env: &[(&str, String)], args: &[String]) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_delibird"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DELIBIRD_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env("DELIBIRD_RETRY_MAX_ATTEMPTS", "2")
        .env("DELIBIRD_RETRY_BASE_MS", "1")
        .env("DELIBIRD_RETRY_CAP_MS", "2")
        .env("DELIBIRD_HTTP_TIMEOUT_MS", "500")
        .env("DELIBIRD_WEBHOOK_INTERVAL_MS", "0")
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .arg("send")
        .arg(fixtures_dir().join(EVENT))
        .args(args)
        .stdin(Stdio::null());
    let output = command.output().expect("delibird runs");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().expect("exited, not killed"), printed)
}

/// One failure path through `delibird send`: exit 3 (not delivered), `expected` in its output, no
/// secret anywhere in it.
async fn send_fails(what: &str, env: Vec<(&'static str, String)>, expected: &str) -> String {
    let (code, printed) = tokio::task::spawn_blocking(move || delibird_send(&env, &[])).await.unwrap();
    assert_eq!(code, 3, "{what}: exit code; output:\n{printed:.5000}");
    assert!(printed.contains(expected), "{what}: expected {expected:?} in:\n{printed:.5000}");
    assert!(printed.contains("TRACE") || printed.contains("DEBUG"), "{what}: logging at TRACE:\n{printed:.3000}");
    assert_clean(what, &printed);
    printed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_failure_path_shows_the_token_in_what_delibird_send_prints_at_trace_level() {
    let dns = via_proxy("http://no-such-proxy.delibird.invalid:3128".into());
    send_fails("DNS failure", dns, "dns error").await;
    send_fails("refused connection (proxy)", via_proxy(format!("http://{}", closed_port())), "could not connect").await;
    send_fails("refused connection", on_loopback(closed_port()), "could not connect").await;
    let (proxy, connects) = https_proxy(Peer::PlainText).await;
    send_fails("TLS error", via_proxy(format!("http://{proxy}")), "InvalidContentType").await;
    assert!(
        connects.lock().unwrap().iter().all(|line| line.starts_with("CONNECT chat.googleapis.com:443 ")),
        "the TLS session was to chat.googleapis.com: {connects:?}"
    );
    let (proxy, _) = https_proxy(Peer::Silent).await;
    send_fails("timeout (TLS handshake)", via_proxy(format!("http://{proxy}")), "no answer within").await;
    send_fails("timeout", on_loopback(socket(Peer::Silent).await), "no answer within").await;
    for status in [400, 403, 404, 429, 500, 503, 302] {
        send_fails(&format!("HTTP {status}"), on_loopback(echoing_server(status).await), &format!("HTTP {status}"))
            .await;
    }
}

#[test]
fn bad_configuration_of_delibird_send_exits_2_without_quoting_the_url() {
    type Env = Vec<(&'static str, String)>;
    let cases: Vec<(Env, Vec<String>)> = vec![
        (
            vec![(
                "DELIBIRD_WEBHOOK_URL",
                google_url().replace("chat.googleapis.com", "chat.googleapis.com.evil.example"),
            )],
            vec![],
        ),
        (vec![("DELIBIRD_WEBHOOK_URL", google_url().replace("https:", "http:"))], vec![]),
        (vec![("DELIBIRD_WEBHOOK_URL", loopback_url(closed_port()))], vec![]),
        (
            vec![],
            vec!["--webhook-url".into(), format!("chat.googleapis.com/v1/spaces/A/messages?key={KEY}&token={TOKEN}")],
        ),
        (vec![("DELIBIRD_WEBHOOK_SECRET", google_url())], vec!["--webhook-url".into(), google_url()]),
        (vec![("DELIBIRD_WEBHOOK_URL", google_url()), ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", TOKEN.into())], vec![]),
    ];
    for (env, args) in cases {
        let (code, printed) = delibird_send(&env, &args);
        assert_eq!(code, 2, "{env:?} {args:?}: exit code; output:\n{printed}");
        assert!(printed.contains("delibird: "), "an error message: {printed}");
        assert_clean("a configuration error of delibird send", &printed);
    }
}
