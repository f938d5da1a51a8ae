//! Reading the command line's inputs: files or stdin, each parsed into records, the AWS CLI's
//! affected entities joined to their events across files.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use delibird::envelope::{self, Record};
use serde_json::Value;

/// One input's records, or why it is unusable.
pub struct Input {
    /// The name shown in messages: the path, or `-` for stdin.
    pub name: String,
    /// Its records.
    pub records: Result<Vec<Record>, String>,
}

/// Reads every input; no files means stdin. The AWS CLI's `describe-affected-entities` output
/// given as an input of its own joins the `describe-event-details` output of its events in the
/// other inputs, by `eventArn`.
pub fn read_all(files: &[PathBuf]) -> Vec<Input> {
    join_entities(paths(files).iter().map(|path| read(path)).collect())
}

/// Inputs already read (name and bytes, as [`read`] gives them), parsed into records as
/// [`read_all`] parses them: the AWS CLI's affected entities joined to their events across inputs.
pub fn parse_all(inputs: Vec<(String, Result<Vec<u8>, String>)>) -> Vec<Input> {
    join_entities(inputs)
}

/// One input as read: JSON, or bytes that are not (or an error reading them).
enum Loaded {
    Json(String, Value),
    Other(String, Result<Vec<u8>, String>),
}

/// Every input's records, with the entities of entities-only inputs attached to their events in
/// the other inputs. An entities-only input holds no records itself; the entities of events no
/// other input describes make it unusable.
fn join_entities(inputs: Vec<(String, Result<Vec<u8>, String>)>) -> Vec<Input> {
    let mut read: Vec<Loaded> = inputs
        .into_iter()
        .map(|(name, bytes)| match bytes.as_deref().map(serde_json::from_slice::<Value>) {
            Ok(Ok(value)) => Loaded::Json(name, value),
            _ => Loaded::Other(name, bytes),
        })
        .collect();
    let entity_inputs: Vec<usize> = (0..read.len())
        .filter(|&i| matches!(&read[i], Loaded::Json(_, value) if envelope::entities_only(value).is_some()))
        .collect();
    let mut unmatched: Vec<Vec<Value>> = Vec::new();
    for &i in &entity_inputs {
        let Loaded::Json(_, value) = &read[i] else { continue };
        let mut left: Vec<Value> = envelope::entities_only(value).unwrap_or_default().to_vec();
        for (j, other) in read.iter_mut().enumerate() {
            if let (Loaded::Json(_, details), false) = (other, entity_inputs.contains(&j)) {
                left = envelope::attach_entities(details, left);
            }
        }
        unmatched.push(left);
    }
    read.into_iter()
        .enumerate()
        .map(|(i, input)| match (input, entity_inputs.iter().position(|&e| e == i)) {
            (Loaded::Json(name, _), Some(at)) => {
                let records = match unmatched[at].as_slice() {
                    [] => Ok(Vec::new()),
                    left => Err(unmatched_message(left)),
                };
                Input { name, records }
            }
            (Loaded::Json(name, value), None) => {
                Input { name, records: envelope::parse_value(&value).map_err(|error| error.to_string()) }
            }
            (Loaded::Other(name, bytes), _) => parse((name, bytes)),
        })
        .collect()
}

/// Why affected entities were left over: the events they belong to.
fn unmatched_message(entities: &[Value]) -> String {
    let mut events: Vec<&str> = entities.iter().filter_map(|e| e.get("eventArn").and_then(Value::as_str)).collect();
    events.dedup();
    format!(
        "affected entities of {}, which no other input describes: give `aws health describe-event-details` \
         for it too",
        if events.is_empty() { "no eventArn".to_owned() } else { events.join(", ") }
    )
}

/// The inputs named: the files, or stdin (`-`) when there are none. With none while stdin is a
/// terminal, nobody is piping events in and reading would wait for ever without a word: the
/// command's usage goes to stderr instead, and the process exits with 2.
pub fn paths(files: &[PathBuf]) -> Vec<PathBuf> {
    if !files.is_empty() {
        return files.to_vec();
    }
    if std::io::stdin().is_terminal() {
        nothing_to_read();
    }
    vec![PathBuf::from("-")]
}

/// Exits with the running command's usage: no files, and stdin a terminal.
fn nothing_to_read() -> ! {
    let mut delibird = <crate::Cli as clap::CommandFactory>::command();
    let name = std::env::args().nth(1).unwrap_or_default();
    let message = format!(
        "no events to read: name files of events (delibird {name} FILE...) or pipe them in \
         (… | delibird {name}); `delibird {name} -` reads what is typed"
    );
    delibird.build();
    match delibird.find_subcommand_mut(&name) {
        Some(command) => command.error(clap::error::ErrorKind::MissingRequiredArgument, message).exit(),
        None => delibird.error(clap::error::ErrorKind::MissingRequiredArgument, message).exit(),
    }
}

/// One input's name and bytes, or why it cannot be read.
pub fn read(path: &Path) -> (String, Result<Vec<u8>, String>) {
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    (name, bytes.map_err(|error| format!("cannot read: {error}")))
}

/// An input's records, from its bytes.
pub fn parse((name, bytes): (String, Result<Vec<u8>, String>)) -> Input {
    let records = bytes.and_then(|bytes| envelope::parse(&bytes).map_err(|error| error.to_string()));
    Input { name, records }
}
