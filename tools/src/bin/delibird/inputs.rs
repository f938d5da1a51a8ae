//! Reading the command line's inputs: files or stdin, each parsed into records.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use delibird::envelope::{self, Record};

/// One input's records, or why it is unusable.
pub struct Input {
    /// The name shown in messages: the path, or `-` for stdin.
    pub name: String,
    /// Its records.
    pub records: Result<Vec<Record>, String>,
}

/// Reads every input; no files means stdin.
pub fn read_all(files: &[PathBuf]) -> Vec<Input> {
    paths(files).iter().map(|path| parse(read(path))).collect()
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
