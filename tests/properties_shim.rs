#[path = "integration/support/mod.rs"]
mod support;
#[path = "integration/properties.rs"]
mod properties;
