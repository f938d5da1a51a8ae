//! What the command line reads and how it says it cannot: no input while stdin is a terminal, a
//! queue that is not named by its URL, and the AWS CLI's own output as events.

use std::process::{Command, Stdio};

/// The binary, with none of the caller's `DELIBIRD_*` settings (nor `RUST_LOG`) leaking in.
fn delibird() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_delibird"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("DELIBIRD_") {
            command.env_remove(&name);
        }
    }
    command.env_remove("RUST_LOG").stdin(Stdio::null());
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(command: &mut Command) -> Run {
    let output = command.output().expect("delibird runs");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// `delibird ARGS` with a terminal for stdin (util-linux's `script` gives it one), killed after 10
/// seconds if it waits; `None` where `script` is not installed.
fn on_a_terminal(args: &str) -> Option<Run> {
    let binary = env!("CARGO_BIN_EXE_delibird");
    let found = Command::new("script").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !found.is_ok_and(|status| status.success()) {
        eprintln!("skipped: util-linux's script is not installed");
        return None;
    }
    let command = format!("timeout 10 {binary} {args}");
    Some(run(Command::new("script").args(["-q", "-e", "-c", &command, "/dev/null"]).env("NO_COLOR", "1")))
}

#[test]
fn render_and_preview_on_a_terminal_print_their_usage_instead_of_waiting() {
    for command in ["render", "preview"] {
        let Some(out) = on_a_terminal(command) else { return };

        assert_eq!(out.code, 2, "{command}: {}{}", out.stdout, out.stderr);
        let shown = out.stdout.replace('\r', "");
        assert!(
            shown.contains(&format!("no events to read: name files of events (delibird {command} FILE...)")),
            "{shown}"
        );
        assert!(shown.contains(&format!("Usage: delibird {command} ")), "{shown}");
    }
}

#[test]
fn redrive_refuses_a_queue_name_saying_what_it_takes() {
    let out = run(delibird().args(["redrive", "--queue-url", "delibird-dlq"]));

    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "delibird: --queue-url: expected the queue's URL, https://sqs.REGION.amazonaws.com/ACCOUNT/NAME \
         (`aws sqs get-queue-url --queue-name NAME` prints it), found \"delibird-dlq\"\n"
    );
    assert!(out.stdout.is_empty());
}
