//! delibird's integration tests, in one binary so they build and link once.

mod adversarial;
mod bootstrap;
mod cli;
mod deliver;
mod envelope;
mod handler;
mod nothing_twice;
mod organizations;
mod preview;
mod properties;
mod query;
mod render;
mod routing;
mod rules_properties;
mod schema_check;
mod secret_hygiene;
mod secrets;
mod support;
