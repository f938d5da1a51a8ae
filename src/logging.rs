//! Log set-up for the binaries: JSON lines for Lambda (CloudWatch Logs Insights reads the fields),
//! plain text on stderr for the command line. The level comes from `DELIBIRD_LOG`, else
//! `RUST_LOG`, else `info` (Lambda) or `warn` (command line).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

fn filter(default: &str) -> EnvFilter {
    let directive =
        std::env::var("DELIBIRD_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| default.to_owned());
    EnvFilter::try_new(&directive).unwrap_or_else(|_| EnvFilter::new(default))
}

/// One JSON object per line on stdout, fields flattened, no ANSI colours.
pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .with_env_filter(filter("info"))
        .with_writer(std::io::stdout)
        .try_init();
}

/// Human-readable lines on stderr, for the command line; coloured only when stderr is a terminal
/// (a log file or a CI capture would otherwise hold raw escape sequences) and `NO_COLOR` is unset.
pub fn init_text() {
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter("warn"))
        .with_ansi(colour)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

/// An error and all its sources on one line, `outer: inner: innermost`, for logs.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        source = cause.source();
    }
    text
}
