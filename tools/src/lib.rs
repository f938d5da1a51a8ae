//! What the `delibird` command line, the tests and the benchmarks use beside the Lambda's own
//! library ([`delibird`]): development tools the Lambda never runs.
//!
//! - [`chat_emulator`]: a local stand-in for Google Chat's incoming-webhook endpoint (rate limit,
//!   threads, scripted faults), which the demo, the tests and `delibird chat-emulator` post to;
//! - [`preview`]: the static HTML page that shows webhook bodies as Google Chat shows them;
//! - [`query`]: `SELECT … FROM health` over events' JSON views, for `delibird query`.

pub mod chat_emulator;
pub mod preview;
pub mod query;
