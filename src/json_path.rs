//! Locations inside JSON documents, written the way people read them:
//! `Records[0].Sns.Message`, `detail.affectedEntities[3].status`.
//!
//! Every error delibird reports about input carries one of these, so a person can go straight to
//! the offending field.

use std::fmt::{self, Write as _};

/// One step into a JSON document: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// An object member, by key.
    Key(String),
    /// An array element, by position.
    Index(usize),
}

/// A path from the root of a JSON document to one value. The empty path is the root itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JsonPath(Vec<Segment>);

impl JsonPath {
    /// The root of a document.
    pub fn root() -> Self {
        Self::default()
    }

    /// This path extended by an object key.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        Self(segments)
    }

    /// This path extended by an array index.
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Self(segments)
    }

    /// Parses the dotted form produced by `Display` (`detail.affectedEntities[3].status`).
    /// Keys holding `.` or `[` cannot round-trip; delibird's own paths never contain them.
    pub fn parse(text: &str) -> Self {
        let mut segments = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            if !key.is_empty() {
                segments.push(Segment::Key(key.to_owned()));
            }
            for index in rest.split('[') {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    segments.push(Segment::Index(i));
                }
            }
        }
        Self(segments)
    }

    /// The segments from the root down.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// True for the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

/// A path being walked, written out as a [`JsonPath`] only when one is needed (for an error):
/// validating an event walks thousands of paths and reports few, so the steps borrow instead of
/// allocating.
#[derive(Debug, Clone, Copy)]
pub enum PathRef<'a> {
    /// Where the walk started.
    At(&'a JsonPath),
    /// An object member below a path.
    Key(&'a PathRef<'a>, &'a str),
    /// An array element below a path.
    Index(&'a PathRef<'a>, usize),
}

impl PathRef<'_> {
    /// The path written out.
    pub fn to_path(&self) -> JsonPath {
        match self {
            Self::At(path) => (*path).clone(),
            Self::Key(parent, key) => {
                let mut path = parent.to_path();
                path.0.push(Segment::Key((*key).to_owned()));
                path
            }
            Self::Index(parent, index) => {
                let mut path = parent.to_path();
                path.0.push(Segment::Index(*index));
                path
            }
        }
    }

    /// The path of a member below this one, written out.
    pub fn key(&self, key: &str) -> JsonPath {
        PathRef::Key(self, key).to_path()
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("$");
        }
        for (position, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) => {
                    if position > 0 {
                        f.write_char('.')?;
                    }
                    write_key(f, key)?;
                }
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A key as people can read it: control and text-direction characters, which event keys may hold
/// and which would otherwise act on the terminal or log viewer showing the path (an escape
/// sequence, a right-to-left override), written as `\u{1b}`.
fn write_key(f: &mut fmt::Formatter<'_>, key: &str) -> fmt::Result {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    };
    for c in key.chars() {
        if hidden(c) {
            write!(f, "{}", c.escape_unicode())?;
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_keys_dotted_and_indexes_in_brackets() {
        let path = JsonPath::root().key("detail").key("affectedEntities").index(3).key("status");
        assert_eq!(path.to_string(), "detail.affectedEntities[3].status");
    }

    #[test]
    fn root_displays_as_dollar() {
        assert_eq!(JsonPath::root().to_string(), "$");
    }

    #[test]
    fn shows_control_and_direction_characters_in_keys_escaped() {
        // Regression: a key such as "\u{1b}]0;owned\u{7}" in `eventMetadata` reached the terminal
        // as an escape sequence in `delibird render`'s error message.
        let path = JsonPath::root().key("detail").key("\u{1b}]0;x\u{7}\u{202E}k");
        assert_eq!(path.to_string(), "detail.\\u{1b}]0;x\\u{7}\\u{202e}k");
    }

    #[test]
    fn a_path_ref_writes_out_the_path_it_walked() {
        let root = JsonPath::root().key("detail");
        let list = PathRef::Key(&PathRef::At(&root), "affectedEntities");
        let entity = PathRef::Index(&list, 3);
        assert_eq!(entity.key("status"), root.key("affectedEntities").index(3).key("status"));
    }

    #[test]
    fn parse_reverses_display() {
        let path = JsonPath::root().key("Records").index(0).key("Sns").key("Message");
        assert_eq!(JsonPath::parse(&path.to_string()), path);
    }
}
