//! delibird's integration tests, in one binary so they build and link once.

mod bootstrap;
mod cli;
mod deliver;
mod envelope;
mod handler;
mod nothing_twice;
mod organizations;
mod properties;
mod render;
mod schema_check;
mod secrets;
mod support;
