//! delibird's integration tests, in one binary so they build and link once.

mod schema_check;
mod support;
