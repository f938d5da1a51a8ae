//! delibird's integration tests, in one binary so they build and link once.

mod bootstrap;
mod deliver;
mod handler;
mod schema_check;
mod secrets;
mod support;
