//! Reading the command line's inputs: files or stdin, each parsed into records.

use std::io::Read;
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
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    files.iter().map(|path| read(path)).collect()
}

fn read(path: &Path) -> Input {
    let name = path.display().to_string();
    let bytes = if name == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        std::fs::read(path)
    };
    let records = match bytes {
        Ok(bytes) => envelope::parse(&bytes).map_err(|error| error.to_string()),
        Err(error) => Err(format!("cannot read: {error}")),
    };
    Input { name, records }
}
