//! Numbers JSON allows and `serde_json` cannot hold: `1e400`, or an integer of a thousand digits,
//! is valid JSON text, but `serde_json` refuses the whole document ("number out of range"), so one
//! such number in one field would turn a whole record into "not JSON". [`from_str`] reads the
//! document anyway, putting in each such number's place a marker object that validation reports
//! as the wrong field it is ([`out_of_range`]): the event becomes a degraded card naming that
//! field, like any other invalid field. No I/O here.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// The one key of the object that stands for a number out of range; no JSON from AWS has a key
/// starting with a Unicode noncharacter.
pub const MARKER_KEY: &str = "\u{FDD0}number out of range";

/// Most numbers out of range one document may hold before it is refused as it is.
const MAX_NUMBERS: usize = 64;

/// Reads JSON text, each number out of range replaced by a marker object.
pub fn from_str(text: &str) -> serde_json::Result<Value> {
    let mut text = Cow::Borrowed(text);
    for _ in 0..MAX_NUMBERS {
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => return Ok(value),
            Err(error) if error.to_string().starts_with("number out of range") => {
                let Some(marked) = marked(&text, error.line(), error.column()) else { return Err(error) };
                text = Cow::Owned(marked);
            }
            Err(error) => return Err(error),
        }
    }
    serde_json::from_str(&text)
}

/// Reads JSON bytes as [`from_str`] does (bytes that are not UTF-8 are refused as `serde_json`
/// refuses them).
pub fn from_slice(bytes: &[u8]) -> serde_json::Result<Value> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
}

/// The number `value` stands for, when it is the marker of one out of range.
pub fn out_of_range(value: &Value) -> Option<&str> {
    match value {
        Value::Object(members) if members.len() == 1 => members.get(MARKER_KEY)?.as_str(),
        _ => None,
    }
}

/// `text` with the number whose last character is at `line`:`column` (1-based, as `serde_json`
/// reports it) replaced by its marker; `None` when no number is there.
fn marked(text: &str, line: usize, column: usize) -> Option<String> {
    let line_start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2).map(|(at, _)| at + 1)? };
    let at = (line_start + column).checked_sub(1)?;
    let bytes = text.as_bytes();
    let is_number = |byte: u8| byte.is_ascii_digit() || matches!(byte, b'-' | b'+' | b'.' | b'e' | b'E');
    if !bytes.get(at).copied().is_some_and(is_number) {
        return None;
    }
    let start = (0..=at).rev().take_while(|&i| is_number(bytes[i])).last()?;
    let end = (at..bytes.len()).take_while(|&i| is_number(bytes[i])).last()? + 1;
    let number = &text[start..end];
    let marker = Value::Object(Map::from_iter([(MARKER_KEY.to_owned(), Value::String(number.to_owned()))]));
    Some(format!("{}{marker}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_number_out_of_range_becomes_a_marker_and_the_rest_is_read() {
        let value = from_str(r#"{"a": 1e400, "b": [2, -3e999], "c": "x"}"#).unwrap();
        assert_eq!(out_of_range(&value["a"]), Some("1e400"));
        assert_eq!(out_of_range(&value["b"][1]), Some("-3e999"));
        assert_eq!((&value["b"][0], &value["c"]), (&json!(2), &json!("x")));
    }

    #[test]
    fn numbers_on_later_lines_are_found_too() {
        let value = from_str("{\n  \"a\": 1,\n  \"b\": 1e400\n}").unwrap();
        assert_eq!(out_of_range(&value["b"]), Some("1e400"));
    }

    #[test]
    fn other_errors_and_too_many_numbers_are_refused_as_they_are() {
        assert!(from_str(r#"{"a": "#).unwrap_err().to_string().starts_with("EOF while parsing"));
        let many = format!("[{}]", vec!["1e400"; MAX_NUMBERS + 1].join(","));
        assert!(from_str(&many).unwrap_err().to_string().starts_with("number out of range"));
    }

    #[test]
    fn only_the_marker_is_a_marker() {
        assert_eq!(out_of_range(&json!({MARKER_KEY: "1e400", "other": 1})), None);
        assert_eq!(out_of_range(&json!("1e400")), None);
    }
}
