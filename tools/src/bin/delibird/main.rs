//! `delibird`: render Health events as Google Chat cards, send them, or run the demo.
//!
//! Exit codes (every command):
//! - 0: every event was rendered (and, for `send`, posted);
//! - 1: some events failed validation; their degraded cards were still printed or posted, and
//!   every error went to stderr with its file and JSON path;
//! - 2: some input was unusable (not JSON, no event found, a record holding no event) or the
//!   configuration, the arguments, the query or the rules are invalid;
//! - 3: (`send`, `redrive`, `demo`) some cards could not be delivered (`redrive` leaves their
//!   messages in the queue).
//!
//! When several apply, the highest wins.

mod demo;
mod emulator;
mod inputs;
mod preview;
mod query;
mod route;
mod schedule;
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
    /// Render and post each event as the Lambda would: to a Google Chat webhook, or where the
    /// routing rules send it; one outcome line per event and space. Configuration as for the
    /// Lambda (DELIBIRD_WEBHOOK_SECRET, DELIBIRD_DEDUP_TABLE, …).
    Send {
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// The webhook URL (a secret: prefer the environment variable); with --rules, the webhook
        /// named `default`.
        #[arg(long, env = "DELIBIRD_WEBHOOK_URL", hide_env_values = true)]
        webhook_url: Option<String>,
        /// Routing rules: a file, or ssm:/parameter/name; their `env:` webhooks are read from this
        /// process's environment.
        #[arg(long, env = "DELIBIRD_RULES")]
        rules: Option<String>,
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
    /// Write a static HTML page (no network needed) showing each card as Google Chat shows it.
    Preview {
        /// Files holding events in any envelope delibird accepts (rendered as `render` does), or
        /// webhook bodies: one JSON body, an array of them, or JSON Lines as `render` prints;
        /// `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// Where to write preview.html.
        #[arg(long, default_value = "delibird-preview")]
        out: PathBuf,
        /// The time relative times ("starts in 3 days") count from, RFC 3339; default: now.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Run a SQL query over the Health events in files, printing a table (or JSON Lines): select
    /// dotted fields, WHERE, GROUP BY with COUNT(*), ORDER BY, LIMIT. Fields are those routing
    /// rules read (detail.service, region, delibird.account.name, …); see docs/routing.md.
    Query {
        /// The query, e.g. "SELECT detail.service, COUNT(*) AS n FROM health GROUP BY 1 ORDER BY n DESC".
        sql: String,
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// One JSON object per row instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show which rules each event matches and where it would go, posting nothing: a dry run of
    /// the routing rules. First checks that every webhook they name can be had here (env:
    /// variables set, SSM parameters and secrets readable), as the Lambda must at start.
    Route {
        /// The rules file, or ssm:/parameter/name.
        #[arg(long, env = "DELIBIRD_RULES")]
        rules: String,
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// One JSON object per event instead of a line of text.
        #[arg(long)]
        json: bool,
        /// Only the matching: do not check that the webhooks can be had here.
        #[arg(long)]
        no_webhook_check: bool,
    },
    /// Print the reminder bodies due in (--since, --now] for the scheduled changes in files, as
    /// JSON Lines: what the Lambda's tick posts in each event's thread (DELIBIRD_REMINDERS,
    /// default 7d,1d,1h), taking every event as announced long before and nothing as reminded.
    Reminders {
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// Reminders whose moment is after this time (RFC 3339).
        #[arg(long)]
        since: chrono::DateTime<chrono::Utc>,
        /// Up to and including this time (RFC 3339); default: now.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Print each space's daily digest body as of --now for the events in files, as JSON Lines:
    /// open issues, changes due in 7 days, pending actions by account, resolved in 24 hours
    /// (DELIBIRD_DIGEST_TZ names the day; DELIBIRD_DIGEST_EMPTY=post prints a quiet day's).
    Digest {
        /// Files holding events in any envelope delibird accepts; `-` or nothing reads stdin.
        files: Vec<PathBuf>,
        /// The digest's time (RFC 3339); default: now.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// Routing rules: one digest per webhook they send events to; without, one (`default`).
        #[arg(long, env = "DELIBIRD_RULES")]
        rules: Option<String>,
    },
    /// Run the local Google Chat webhook emulator until stopped (Ctrl-C), to try `send` or a
    /// `bootstrap` against: prints a webhook URL for space LOCAL (any space name works); `GET
    /// /_emulator/messages` lists what it accepted.
    ChatEmulator {
        /// The port on 127.0.0.1; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Least time between two accepted messages in one space (Chat: 1000).
        #[arg(long, default_value_t = 1000)]
        min_interval_ms: u64,
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
        Command::Send { files, webhook_url, rules } => {
            send::send(&files, webhook_url.as_deref(), rules.as_deref()).await
        }
        Command::Redrive { queue_url, max_messages } => send::redrive(&queue_url, max_messages).await,
        Command::Preview { files, out, now } => preview::run(&files, &out, now).await,
        Command::Query { sql, files, json } => query::query(&sql, &files, json).await,
        Command::Route { rules, files, json, no_webhook_check } => {
            let check = if no_webhook_check { route::WebhookCheck::Skip } else { route::WebhookCheck::Resolve };
            route::route(&rules, &files, json, check).await
        }
        Command::Reminders { files, since, now } => {
            schedule::reminders(&files, since, now.unwrap_or_else(chrono::Utc::now)).await
        }
        Command::Digest { files, now, rules } => {
            schedule::digest(&files, now.unwrap_or_else(chrono::Utc::now), rules.as_deref()).await
        }
        Command::ChatEmulator { port, min_interval_ms } => emulator::run(port, min_interval_ms).await,
        Command::Demo { out } => demo::run(&out).await,
    };
    status.into()
}
