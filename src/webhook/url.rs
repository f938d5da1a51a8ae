//! The webhook URL: a secret, since anyone holding it can post into the space. [`WebhookUrl`]
//! only accepts Google Chat's host (or loopback, when allowed for tests and the demo), and never
//! shows its query (`key`, `token`) in `Debug`, `Display` or an error.

use std::fmt;

use url::Url;

/// The only host a production webhook may point at.
pub const GOOGLE_CHAT_HOST: &str = "chat.googleapis.com";

/// The query parameter that makes Chat honour `thread.threadKey` (otherwise it silently starts a
/// new thread every time).
const REPLY_OPTION: (&str, &str) = ("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");

/// A Google Chat incoming-webhook URL, validated, whose token never leaves it in text.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

/// Why a text is not a usable webhook URL. The messages never contain the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not a URL at all.
    #[error("the webhook is not a URL")]
    NotUrl,
    /// A URL, but not Google Chat's.
    #[error(
        "the webhook must be https://chat.googleapis.com/… (http://127.0.0.1:PORT/… or http://localhost… \
         only with DELIBIRD_ALLOW_LOOPBACK_WEBHOOK=1)"
    )]
    NotGoogleChat,
    /// Credentials in the URL's authority are never expected.
    #[error("the webhook URL must not carry a user name or password")]
    HasCredentials,
}

impl WebhookUrl {
    /// Accepts `https://chat.googleapis.com/…`; with `allow_loopback`, also plain-HTTP
    /// `http://127.0.0.1…` and `http://localhost…` for tests and the demo, and nothing else.
    pub fn parse(text: &str, allow_loopback: bool) -> Result<Self, WebhookUrlError> {
        let url = Url::parse(text.trim()).map_err(|_| WebhookUrlError::NotUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::HasCredentials);
        }
        let google = url.scheme() == "https" && url.host_str() == Some(GOOGLE_CHAT_HOST) && url.port().is_none();
        let loopback =
            allow_loopback && url.scheme() == "http" && matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
        if google || loopback { Ok(Self(url)) } else { Err(WebhookUrlError::NotGoogleChat) }
    }

    /// The URL to POST to: the webhook with `messageReplyOption` set so threads work.
    pub(crate) fn request_url(&self) -> Url {
        let mut url = self.0.clone();
        let kept: Vec<(String, String)> = self
            .0
            .query_pairs()
            .filter(|(name, _)| name != REPLY_OPTION.0)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        url.query_pairs_mut().clear().extend_pairs(kept).append_pair(REPLY_OPTION.0, REPLY_OPTION.1);
        url
    }

    /// `scheme://host/path?<redacted>`: safe to log.
    pub fn redacted(&self) -> String {
        let mut shown = format!("{}://{}", self.0.scheme(), self.0.host_str().unwrap_or(""));
        if let Some(port) = self.0.port() {
            shown.push_str(&format!(":{port}"));
        }
        shown.push_str(self.0.path());
        if self.0.query().is_some() {
            shown.push_str("?<redacted>");
        }
        shown
    }

    /// `text` with every query value of this URL (key, token) replaced by `<redacted>`: for text
    /// that came from elsewhere (a response body) and might echo them.
    pub fn scrub(&self, text: &str) -> String {
        self.0.query_pairs().map(|(_, value)| value.into_owned()).filter(|value| value.len() >= 4).fold(
            text.to_owned(),
            |text, secret| {
                let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
                text.replace(&secret, "<redacted>").replace(&encoded, "<redacted>")
            },
        )
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WebhookUrl").field(&self.redacted()).finish()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOGLE: &str = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY123&token=SECRET-TOKEN";

    #[test]
    fn accepts_google_chat_and_hides_the_token() {
        let url = WebhookUrl::parse(GOOGLE, false).unwrap();
        assert_eq!(url.to_string(), "https://chat.googleapis.com/v1/spaces/AAAA/messages?<redacted>");
        assert!(!format!("{url:?}").contains("SECRET"));
    }

    #[test]
    fn refuses_other_hosts_and_plain_http() {
        for text in [
            "https://example.com/v1/spaces/A/messages?token=x",
            "http://chat.googleapis.com/v1/spaces/A/messages",
            "https://chat.googleapis.com.evil.example/v1",
            "https://chat.googleapis.com:8443/v1",
            "http://127.0.0.1:8080/v1/spaces/A/messages",
            "http://10.0.0.1/v1",
        ] {
            assert_eq!(WebhookUrl::parse(text, false), Err(WebhookUrlError::NotGoogleChat), "{text}");
        }
    }

    #[test]
    fn accepts_loopback_only_when_allowed() {
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/v1/spaces/A/messages", true).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9/v1", true).is_ok());
        assert_eq!(WebhookUrl::parse("http://192.168.1.1/v1", true), Err(WebhookUrlError::NotGoogleChat));
    }

    #[test]
    fn loopback_means_plain_http_to_127_0_0_1_or_localhost_and_nothing_else() {
        for text in [
            "https://127.0.0.1:8443/v1",
            "https://localhost/v1",
            "http://[::1]:8080/v1",
            "http://127.0.0.2:8080/v1",
            "http://0.0.0.0:8080/v1",
            "http://localhost.example.com/v1",
            "http://127.0.0.1.nip.io/v1",
            "ftp://127.0.0.1/v1",
        ] {
            assert_eq!(WebhookUrl::parse(text, true), Err(WebhookUrlError::NotGoogleChat), "{text}");
        }
    }

    #[test]
    fn refuses_credentials_in_the_authority() {
        let text = "https://user:pw@chat.googleapis.com/v1/spaces/A/messages";
        assert_eq!(WebhookUrl::parse(text, false), Err(WebhookUrlError::HasCredentials));
    }

    #[test]
    fn request_url_asks_for_threads_once() {
        let url = WebhookUrl::parse(&format!("{GOOGLE}&messageReplyOption=REPLY_MESSAGE_OR_FAIL"), false).unwrap();
        let query = url.request_url().query().unwrap().to_owned();
        assert_eq!(query.matches("messageReplyOption").count(), 1);
        assert!(query.ends_with("messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"));
    }

    #[test]
    fn scrub_removes_echoed_secrets() {
        let url = WebhookUrl::parse(GOOGLE, false).unwrap();
        assert_eq!(url.scrub("bad token SECRET-TOKEN for KEY123"), "bad token <redacted> for <redacted>");
    }
}
