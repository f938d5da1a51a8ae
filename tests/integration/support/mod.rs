//! Shared test support: fixtures, and the check that a webhook body is one Google would accept.

#![allow(dead_code)]

pub mod aws_faults;
pub mod aws_proxy;
pub mod card_safety;
pub mod chat_schema;
pub mod hostile;
pub mod logs;
pub mod moto;
pub mod runtime_api;
pub mod stack;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `tests/fixtures/…` of this package.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// One fixture, parsed.
pub fn fixture(relative: &str) -> Value {
    let path = fixtures_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every Health event fixture as (file name, raw bytes), sorted by name.
pub fn health_event_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures_dir().join("health-events"))
        .expect("tests/fixtures/health-events exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| (path.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&path).unwrap()))
        .collect();
    files.sort();
    files
}

/// Held by the tests whose figures are timing (the rate of 429s of eight containers at Chat's
/// pace) and by those that load both cores for seconds (the bootstrap walk of eight simulated
/// days), so that the one never runs beside the other: `cargo test` runs two tests at once here.
pub static TIMING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
