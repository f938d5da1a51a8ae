//! delibird's integration tests, in one binary so they build and link once.

mod bootstrap;
mod deliver;
mod envelope;
mod faults;
mod handler;
mod nothing_twice;
mod organizations;
mod organizations_several;
mod partitions;
mod properties;
mod reminders;
mod render;
mod routing;
mod rules_properties;
mod schema_check;
mod secret_hygiene;
mod secrets;
mod storms;
mod support;
