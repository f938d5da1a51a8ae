#[path = "integration/support/mod.rs"]
mod support;
#[path = "integration/envelope.rs"]
mod envelope;
#[path = "integration/render.rs"]
mod render;
#[path = "integration/cli.rs"]
mod cli;
