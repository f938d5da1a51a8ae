//! `delibird query` (SQL over event files), and the events' view it shares with `delibird route`
//! (the routing rules' dry run, in `route`). Both read events in any envelope, look at each
//! through the same JSON view the Lambda routes on
//! (`delibird::rules::view`: account names from `DELIBIRD_ACCOUNT_ALIASES` and, when configured,
//! AWS Organizations; severity as on the card), and post nothing.

use std::io::Write;
use std::path::PathBuf;

use delibird::accounts::{EnrichedEvent, Layered, enrich};
use delibird::config::{Config, Webhook};
use delibird::health::{self, Checked};
use delibird::rules::view;
use delibird_tools::query::Query;
use serde_json::Value;

use crate::Status;
use crate::inputs::read_all;

/// Widest cell of a table, in characters: descriptions can run to kilobytes.
const MAX_CELL_CHARS: usize = 80;

/// One event's view, and where it came from.
pub struct Viewed {
    /// The input's name.
    pub input: String,
    /// The record's place in it.
    pub location: String,
    /// What the rules read.
    pub view: Value,
    /// The event, with its account's name.
    pub enriched: EnrichedEvent,
}

/// Runs `sql` over the events in `files`: a table, or one JSON object per row.
pub async fn query(sql: &str, files: &[PathBuf], json: bool) -> Status {
    let query = match Query::parse(sql) {
        Ok(query) => query,
        Err(error) => return usage(&format!("query: {error}")),
    };
    let config = match Config::from_env(Webhook::Ignored) {
        Ok(config) => config,
        Err(error) => return usage(&error.to_string()),
    };
    let mut status = Status::Ok;
    let viewed = views(files, &config, &mut status).await;
    let rows = query.run(viewed.iter().map(|v| &v.view));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        rows.iter().try_for_each(|row| {
            // Written by hand to keep the columns' order (serde_json's objects sort their keys).
            let members: Vec<String> = query
                .headers()
                .iter()
                .zip(row)
                .map(|(header, value)| format!("{}:{value}", Value::from(header.as_str())))
                .collect();
            writeln!(out, "{{{}}}", members.join(","))
        })
    } else {
        table(&mut out, query.headers(), &rows).map(|cut| {
            if cut > 0 {
                let cells = if cut == 1 { "cell was" } else { "cells were" };
                eprintln!(
                    "delibird: {cut} {cells} cut at {MAX_CELL_CHARS} characters (…); --json prints every value whole"
                );
            }
        })
    };
    if written.is_err() { status.max(Status::Unusable) } else { status }
}

/// Every event of every input as the rules see it. Inputs and records that hold no event are
/// reported on stderr and make the status 2.
pub async fn views(files: &[PathBuf], config: &Config, status: &mut Status) -> Vec<Viewed> {
    let organizations = crate::send::organizations(config).await;
    let directory = Layered { first: &config.aliases, then: organizations.as_ref() };
    let mut viewed = Vec::new();
    for input in read_all(files) {
        let records = match &input.records {
            Ok(records) => records,
            Err(error) => {
                eprintln!("delibird: {}: {error}", input.name);
                *status = (*status).max(Status::Unusable);
                continue;
            }
        };
        for record in records {
            let raw = match &record.event {
                Ok(raw) => raw,
                Err(error) => {
                    eprintln!("delibird: {}: {error}", input.name);
                    *status = (*status).max(Status::Unusable);
                    continue;
                }
            };
            let Checked { event, problems } = health::check(raw);
            let degraded = problems.is_some();
            let enriched: EnrichedEvent = enrich(event, &directory).await;
            viewed.push(Viewed {
                input: input.name.clone(),
                location: record.location.to_string(),
                view: view(raw, &enriched, degraded, &config.card),
                enriched,
            });
        }
    }
    viewed
}

/// A table: headers, a rule, one line per row, then the row count. Returns how many cells were
/// cut at [`MAX_CELL_CHARS`].
fn table(out: &mut impl Write, headers: &[String], rows: &[Vec<Value>]) -> std::io::Result<usize> {
    let mut cut = 0;
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|value| {
                    let (text, was_cut) = cell(value);
                    cut += usize::from(was_cut);
                    text
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            cells.iter().map(|row| row[i].chars().count()).chain([header.chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<&str>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(value, width)| format!("{value}{}", " ".repeat(width - value.chars().count())))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(headers.iter().map(String::as_str).collect()))?;
    writeln!(
        out,
        "{}",
        line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect())
    )?;
    for row in &cells {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    writeln!(out, "({} row{})", rows.len(), if rows.len() == 1 { "" } else { "s" })?;
    Ok(cut)
}

/// A value as a table shows it: text as it is (control characters as spaces), NULL as `NULL`
/// (an empty cell would look like empty text), the rest as JSON; cut at [`MAX_CELL_CHARS`], and
/// whether it was.
fn cell(value: &Value) -> (String, bool) {
    let text = match value {
        Value::Null => "NULL".to_owned(),
        Value::String(text) => text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect(),
        other => other.to_string(),
    };
    if text.chars().count() > MAX_CELL_CHARS {
        (text.chars().take(MAX_CELL_CHARS - 1).chain(['…']).collect(), true)
    } else {
        (text, false)
    }
}

/// The message on stderr, and the exit code of unusable input.
pub fn usage(message: &str) -> Status {
    eprintln!("delibird: {message}");
    Status::Unusable
}
