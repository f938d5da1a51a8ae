//! Log set-up for the binaries: JSON lines for Lambda (CloudWatch Logs Insights reads the fields),
//! plain text on stderr for the command line. The level comes from `DELIBIRD_LOG`, else
//! `RUST_LOG`, else `info` (Lambda) or `warn` (command line); the command line leaves out the
//! AWS SDK's instance-metadata warnings unless the filter names `aws_config`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The AWS SDK's own warnings when it looks for credentials or a Region on an instance metadata
/// service that is not there (a laptop, CI): several kilobytes each, and the one error that
/// matters follows anyway as delibird's own message. Errors from these targets still show.
const QUIET_SDK: &str = "aws_config::imds=error,aws_config::meta::credentials=error";

fn directive(default: &str) -> String {
    std::env::var("DELIBIRD_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| default.to_owned())
}

fn filter(directive: &str, default: &str) -> EnvFilter {
    EnvFilter::try_new(directive).unwrap_or_else(|_| EnvFilter::new(default))
}

/// The command line's filter: the chosen one, with [`QUIET_SDK`] unless it says something about
/// `aws_config` itself.
fn text_filter(directive: &str) -> String {
    if directive.contains("aws_config") { directive.to_owned() } else { format!("{directive},{QUIET_SDK}") }
}

/// One JSON object per line on stdout, fields flattened, no ANSI colours.
pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_ansi(false)
        .with_env_filter(filter(&directive("info"), "info"))
        .with_writer(std::io::stdout)
        .try_init();
}

/// Human-readable lines on stderr, for the command line; coloured only when stderr is a terminal
/// (a log file or a CI capture would otherwise hold raw escape sequences) and `NO_COLOR` is unset.
pub fn init_text() {
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(&text_filter(&directive("warn")), "warn"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_quiets_the_sdks_metadata_warnings_unless_asked_for_them() {
        assert_eq!(text_filter("warn"), "warn,aws_config::imds=error,aws_config::meta::credentials=error");
        assert_eq!(text_filter("debug,aws_config=trace"), "debug,aws_config=trace");
        assert!(EnvFilter::try_new(text_filter("info,delibird=debug")).is_ok());
    }
}
