//! The command line's and the development tools' tests, in one binary so they build and link
//! once. The fixtures are the Lambda crate's, one directory up.

mod adversarial;
mod cli;
mod inputs;
mod preview;
mod query;
mod route;
mod schedule;
mod secret_hygiene;
mod send;
mod support;
