//! delibird: AWS Health events, from SNS to Google Chat cards.
//!
//! The pipeline is five stages, each usable on its own by other handlers:
//!
//! 1. [`envelope::parse`] finds the events in whatever envelope they arrived in;
//! 2. [`health::validate`] (or [`health::check`], which salvages what it can) types them;
//! 3. [`accounts::enrich`] puts names on account ids;
//! 4. [`card::render`] makes a Google Chat Card V2 message within Google's limits;
//! 5. [`webhook::deliver`] posts it, retrying what a retry can fix.
//!
//! [`handler::handle`] runs them for a Lambda invocation; the `bootstrap` binary is a thin shell
//! around this library, and so is the `delibird` command line (the `delibird-tools` crate in
//! `tools/`, which also holds the development tools the Lambda never runs: the local Chat
//! emulator, the preview page and the query engine).

pub mod accounts;
pub mod card;
pub mod channel;
pub mod chat;
pub mod config;
pub mod dedup;
pub mod deps;
pub mod envelope;
pub mod fingerprint;
pub mod handler;
pub mod health;
pub mod json_numbers;
pub mod json_path;
pub mod kept;
pub mod logging;
pub mod metrics;
pub mod partition;
pub mod problems;
pub mod redrive;
pub mod rules;
pub mod schedule;
pub mod secret;
pub mod spaces;
pub mod suggest;
pub mod webhook;
