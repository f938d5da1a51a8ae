//! `delibird chat-emulator`: the local Google Chat webhook emulator as a process of its own, for
//! trying `delibird send` or a `bootstrap` against, and for tests written in other languages.

use std::time::Duration;

use delibird_tools::chat_emulator::ChatEmulator;

use crate::Status;

/// Serves until Ctrl-C or SIGTERM. The first line on stdout is a webhook URL (its token is the
/// emulator's fixed one, not a secret), so a script can read it and start.
pub async fn run(port: u16, min_interval_ms: u64) -> Status {
    let emulator = match ChatEmulator::on_port(port, Duration::from_millis(min_interval_ms)).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("delibird chat-emulator: cannot listen on 127.0.0.1:{port}: {error}");
            return Status::Unusable;
        }
    };
    println!("{}", emulator.webhook_url("LOCAL"));
    eprintln!(
        "delibird chat-emulator: listening on {}; GET /_emulator/messages lists what it accepted; Ctrl-C stops it",
        emulator.address()
    );
    stopped().await;
    Status::Ok
}

/// Waits for Ctrl-C or SIGTERM.
async fn stopped() {
    let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(signal) => signal,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
