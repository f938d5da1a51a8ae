//! `delibird`: render Health events as Google Chat cards, send them, or run the demo.
//!
//! Exit codes (every command):
//! - 0: every event was rendered (and, for `send`, posted);
//! - 1: some events failed validation; their degraded cards were still printed or posted, and
//!   every error went to stderr with its file and JSON path;
//! - 2: some input was unusable (not JSON, no event found, a record holding no event) or the
//!   configuration or arguments are invalid;
//! - 3: (`send`, `redrive`, `demo`) some cards could not be delivered (`redrive` leaves their
//!   messages in the queue).
//!
//! When several apply, the highest wins.

mod demo;
mod inputs;
mod send;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// AWS Health events → Google Chat cards.
#[derive(Debug, Parser)]
#[command(name = "delibird", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print one webhook body per Health event found, as JSON Lines.
    Render {
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
    },
    /// Render and post each event to a Google Chat webhook, one outcome line per event.
    Send {
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// The webhook URL (a secret: prefer the environment variable).
        #[arg(long, env = "DELIBIRD_WEBHOOK_URL", hide_env_values = true)]
        webhook_url: String,
    },
    /// Replay the messages of a dead-letter queue through the pipeline (with deduplication), deleting
    /// each one whose cards were all posted or recognised as duplicates. Configuration as for the
    /// Lambda (DELIBIRD_WEBHOOK_URL or DELIBIRD_WEBHOOK_SECRET, DELIBIRD_DEDUP_TABLE, …).
    Redrive {
        /// The dead-letter queue's URL.
        #[arg(long)]
        queue_url: String,
        /// Stop after this many messages.
        #[arg(long, default_value_t = 1000)]
        max_messages: usize,
    },
    /// Run the bundled sample events through the Lambda handler into a local webhook.
    Demo {
        /// Where to write the bodies the local webhook received.
        #[arg(long, default_value = "delibird-demo")]
        out: PathBuf,
    },
}

/// Exit codes, ordered so that the most serious one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Ok = 0,
    Invalid = 1,
    Unusable = 2,
    Undelivered = 3,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status as u8)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    delibird::logging::init_text();
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Render { files } => send::render(&files).await,
        Command::Send { files, webhook_url } => send::send(&files, &webhook_url).await,
        Command::Redrive { queue_url, max_messages } => send::redrive(&queue_url, max_messages).await,
        Command::Demo { out } => demo::run(&out).await,
    };
    status.into()
}
