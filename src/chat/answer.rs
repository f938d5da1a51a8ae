//! What Google Chat answers a webhook post: `{name, thread: {name}}` when it took the message,
//! `{error: {code, message, status}}` (`google.rpc.Status`) when it did not. Pure, no I/O.

use serde::Deserialize;

use crate::channel::Accepted;

/// The parts of Chat's success answer delibird reports.
#[derive(Debug, Default, Deserialize)]
struct Answer {
    name: Option<String>,
    thread: Option<AnswerThread>,
}

#[derive(Debug, Default, Deserialize)]
struct AnswerThread {
    name: Option<String>,
}

/// `google.rpc.Status` wrapped in `error`.
#[derive(Debug, Deserialize)]
struct Refusal {
    error: RefusalBody,
}

#[derive(Debug, Deserialize)]
struct RefusalBody {
    message: Option<String>,
}

/// The message and thread an accepted post created (nothing, when the answer does not say).
pub fn accepted(body: &str) -> Accepted {
    let answer: Answer = serde_json::from_str(body).unwrap_or_default();
    Accepted { message: answer.name, thread: answer.thread.and_then(|thread| thread.name) }
}

/// The `error.message` of a refusal, as Chat wrote it.
pub fn refusal(body: &str) -> Option<String> {
    serde_json::from_str::<Refusal>(body).ok().and_then(|refusal| refusal.error.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_message_and_thread_of_an_accepted_post() {
        let taken = accepted(r#"{"name": "spaces/S/messages/M", "thread": {"name": "spaces/S/threads/T"}}"#);
        assert_eq!(taken.message.as_deref(), Some("spaces/S/messages/M"));
        assert_eq!(taken.thread.as_deref(), Some("spaces/S/threads/T"));
        assert_eq!(accepted("not json"), Accepted::default());
    }

    #[test]
    fn reads_the_reason_of_a_refusal() {
        let body = r#"{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}"#;
        assert_eq!(refusal(body).as_deref(), Some("Invalid JSON payload"));
        assert_eq!(refusal("<html>"), None);
    }
}
