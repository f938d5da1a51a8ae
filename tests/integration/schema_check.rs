//! The schema check itself must be able to fail: a test that cannot fail proves nothing.

use serde_json::json;

use crate::support::chat_schema::problems;

#[test]
fn schema_check_rejects_an_invented_field() {
    let body = json!({"text": "hi", "colour": "red"});
    assert!(!problems(&body).is_empty());
}

#[test]
fn schema_check_rejects_an_unknown_known_icon_and_an_empty_decorated_text() {
    let body = json!({"cardsV2": [{"cardId": "x", "card": {"header": {"title": "t"}, "sections": [{"widgets": [
        {"decoratedText": {"text": " ", "startIcon": {"knownIcon": "ROCKET"}}}
    ]}]}}]});
    let found = problems(&body);
    assert!(found.iter().any(|p| p.contains("knownIcon")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("decoratedText without text")), "{found:?}");
}

#[test]
fn schema_check_rejects_a_message_over_32000_bytes() {
    let body = json!({"text": "x".repeat(33_000)});
    assert!(problems(&body).iter().any(|p| p.contains("bytes")));
}

#[test]
fn schema_check_accepts_a_minimal_card() {
    let body = json!({"cardsV2": [{"cardId": "x", "card": {"header": {"title": "t"}, "sections": [{"widgets": [
        {"textParagraph": {"text": "hello"}}
    ]}]}}]});
    assert_eq!(problems(&body), Vec::<String>::new());
}
