//! A webhook URL is a secret (anyone holding it can post into the space), so delibird keeps it
//! apart from everything else: [`WebhookUrl`] never shows its query (`key`, `token`) in `Debug`,
//! `Display` or an error, and [`Kept`] says where a URL is kept — given directly, in an
//! environment variable, an SSM SecureString or a Secrets Manager secret — with one parser for
//! the configuration and the rules file alike. Fetching it from there is I/O, done at start by
//! [`crate::spaces`]; nothing here does any.

use std::fmt;

use url::Url;

/// Where one chat service's webhooks may point: its host, and what its URLs look like (for
/// messages that show the expected form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The service's name, as messages give it (`Google Chat`).
    pub service: &'static str,
    /// The only host a production webhook may point at.
    pub host: &'static str,
    /// Query parameters every webhook URL of the service carries (`key`, `token`).
    pub required: &'static [&'static str],
    /// A URL of the expected form, with placeholders, for messages.
    pub example: &'static str,
}

/// A chat service's incoming-webhook URL, validated, whose query never leaves it in text.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

/// Why a text is not a usable webhook URL. The messages never contain the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not a URL at all.
    #[error("the webhook is not a URL{}", if *.missing_scheme { " (it needs https:// in front)" } else { "" })]
    NotUrl {
        /// True when it would be one with `https://` in front.
        missing_scheme: bool,
    },
    /// A URL, but not the service's.
    #[error(
        "the webhook must be https://{host}/… (http://127.0.0.1:PORT/… or http://localhost… only with \
         DELIBIRD_ALLOW_LOOPBACK_WEBHOOK=1)"
    )]
    WrongHost {
        /// The host it must have.
        host: &'static str,
    },
    /// Credentials in the URL's authority are never expected.
    #[error("the webhook URL must not carry a user name or password")]
    HasCredentials,
    /// A parameter every webhook URL of the service has is missing.
    #[error("the webhook URL has no {}: a {service} webhook URL looks like {example}", missing.join(" and "))]
    MissingParameters {
        /// The service.
        service: &'static str,
        /// The parameters missing, in the order the service names them.
        missing: Vec<&'static str>,
        /// The expected form.
        example: &'static str,
    },
}

impl WebhookUrl {
    /// Accepts `https://{endpoint.host}/…` carrying the endpoint's required parameters; with
    /// `allow_loopback`, also plain-HTTP `http://127.0.0.1…` and `http://localhost…` for tests
    /// and the demo, and nothing else.
    pub fn parse(text: &str, endpoint: &Endpoint, allow_loopback: bool) -> Result<Self, WebhookUrlError> {
        let text = text.trim();
        let url = Url::parse(text).map_err(|_| WebhookUrlError::NotUrl {
            missing_scheme: text.starts_with(endpoint.host) || Url::parse(&format!("https://{text}")).is_ok(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(WebhookUrlError::HasCredentials);
        }
        let service = url.scheme() == "https" && url.host_str() == Some(endpoint.host) && url.port().is_none();
        let loopback =
            allow_loopback && url.scheme() == "http" && matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
        if !(service || loopback) {
            return Err(WebhookUrlError::WrongHost { host: endpoint.host });
        }
        let missing: Vec<&'static str> = endpoint
            .required
            .iter()
            .copied()
            .filter(|name| !url.query_pairs().any(|(key, value)| key == *name && !value.is_empty()))
            .collect();
        if !missing.is_empty() {
            return Err(WebhookUrlError::MissingParameters {
                service: endpoint.service,
                missing,
                example: endpoint.example,
            });
        }
        Ok(Self(url))
    }

    /// The URL itself, for the channel that builds the request from it.
    pub fn url(&self) -> &Url {
        &self.0
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

/// Where a webhook URL is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// Given directly (`DELIBIRD_WEBHOOK_URL`, `--webhook-url`); never in a rules file.
    Url(WebhookUrl),
    /// An environment variable of the process: `env:VAR`.
    Env(String),
    /// An SSM SecureString parameter: `ssm:/name`.
    Ssm(String),
    /// A Secrets Manager secret, by ARN: the URL, or JSON with `url`.
    SecretsManager(String),
}

/// Why a text does not say where a webhook URL is kept. Never quotes the text: it may be a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeptError {
    /// It is (or looks like) a webhook URL, and not a valid one.
    #[error(transparent)]
    Url(#[from] WebhookUrlError),
    /// `env:` with something that is not a variable name.
    #[error("env: takes a variable name: env:VAR")]
    EnvName,
    /// `ssm:` with something that is not a parameter name.
    #[error("ssm: takes a parameter name: ssm:/parameter/name")]
    SsmName,
    /// None of the forms.
    #[error("expected env:VAR, ssm:/parameter/name or a Secrets Manager secret ARN")]
    Unknown,
}

impl Kept {
    /// Where `text` says a URL is kept: `env:VAR`, `ssm:/name`, a Secrets Manager secret's ARN
    /// (`arn:…:secretsmanager:…`), or — anything that looks like a URL — the URL itself,
    /// validated for `endpoint`. Callers refuse the forms they do not take (a rules file never
    /// holds a URL).
    pub fn parse(text: &str, endpoint: &Endpoint, allow_loopback: bool) -> Result<Self, KeptError> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if lower.contains("://")
            || lower.starts_with("http")
            || lower.contains(endpoint.host)
            || lower.contains("token=")
        {
            return Ok(Self::Url(WebhookUrl::parse(text, endpoint, allow_loopback)?));
        }
        if let Some(var) = text.strip_prefix("env:") {
            let valid = var.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            return if valid { Ok(Self::Env(var.to_owned())) } else { Err(KeptError::EnvName) };
        }
        if let Some(name) = text.strip_prefix("ssm:") {
            return if name.starts_with('/') && name.len() > 1 {
                Ok(Self::Ssm(name.to_owned()))
            } else {
                Err(KeptError::SsmName)
            };
        }
        if text.starts_with("arn:") && text.split(':').nth(2) == Some("secretsmanager") {
            return Ok(Self::SecretsManager(text.to_owned()));
        }
        Err(KeptError::Unknown)
    }

    /// True when fetching the URL calls AWS.
    pub fn is_aws(&self) -> bool {
        matches!(self, Self::Ssm(_) | Self::SecretsManager(_))
    }

    /// Where it is, for messages: `SSM parameter /name`, `secret ARN`, `environment variable X`;
    /// never the URL.
    pub fn origin(&self) -> String {
        match self {
            Self::Url(url) => format!("the URL {url}"),
            Self::Env(var) => format!("environment variable {var}"),
            Self::Ssm(name) => format!("SSM parameter {name}"),
            Self::SecretsManager(arn) => format!("secret {arn}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: Endpoint = Endpoint {
        service: "Google Chat",
        host: "chat.googleapis.com",
        required: &["key", "token"],
        example: "https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN",
    };
    const ANY_QUERY: Endpoint = Endpoint { required: &[], ..CHAT };

    const GOOGLE: &str = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY123&token=SECRET-TOKEN";

    #[test]
    fn accepts_the_service_and_hides_the_token() {
        let url = WebhookUrl::parse(GOOGLE, &CHAT, false).unwrap();
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
            let refused = WebhookUrl::parse(text, &ANY_QUERY, false);
            assert_eq!(refused, Err(WebhookUrlError::WrongHost { host: "chat.googleapis.com" }), "{text}");
        }
    }

    #[test]
    fn accepts_loopback_only_when_allowed() {
        assert!(WebhookUrl::parse("http://127.0.0.1:8080/v1/spaces/A/messages", &ANY_QUERY, true).is_ok());
        assert!(WebhookUrl::parse("http://localhost:9/v1", &ANY_QUERY, true).is_ok());
        let refused = WebhookUrl::parse("http://192.168.1.1/v1", &ANY_QUERY, true);
        assert_eq!(refused, Err(WebhookUrlError::WrongHost { host: "chat.googleapis.com" }));
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
            let refused = WebhookUrl::parse(text, &ANY_QUERY, true);
            assert_eq!(refused, Err(WebhookUrlError::WrongHost { host: "chat.googleapis.com" }), "{text}");
        }
    }

    #[test]
    fn refuses_credentials_in_the_authority() {
        let text = "https://user:pw@chat.googleapis.com/v1/spaces/A/messages";
        assert_eq!(WebhookUrl::parse(text, &CHAT, false), Err(WebhookUrlError::HasCredentials));
    }

    #[test]
    fn a_url_without_its_scheme_says_so() {
        let refused = WebhookUrl::parse("chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", &CHAT, false);
        assert_eq!(refused, Err(WebhookUrlError::NotUrl { missing_scheme: true }));
        assert!(refused.unwrap_err().to_string().contains("needs https:// in front"));
    }

    #[test]
    fn a_url_without_key_or_token_names_what_is_missing_and_the_expected_form() {
        let refused = WebhookUrl::parse("https://chat.googleapis.com/v1/spaces/X/messages", &CHAT, false).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the webhook URL has no key and token: a Google Chat webhook URL looks like \
             https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN"
        );
        let no_token = WebhookUrl::parse("https://chat.googleapis.com/v1/spaces/X/messages?key=K", &CHAT, false);
        assert!(matches!(no_token, Err(WebhookUrlError::MissingParameters { missing, .. }) if missing == ["token"]));
    }

    #[test]
    fn scrub_removes_echoed_secrets() {
        let url = WebhookUrl::parse(GOOGLE, &CHAT, false).unwrap();
        assert_eq!(url.scrub("bad token SECRET-TOKEN for KEY123"), "bad token <redacted> for <redacted>");
    }

    #[test]
    fn one_parser_reads_every_place_a_url_is_kept() {
        let parse = |text: &str| Kept::parse(text, &CHAT, false);
        assert_eq!(parse("env:DELIBIRD_WEBHOOK_ONCALL"), Ok(Kept::Env("DELIBIRD_WEBHOOK_ONCALL".into())));
        assert_eq!(parse(" ssm:/delibird/webhook "), Ok(Kept::Ssm("/delibird/webhook".into())));
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:delibird-AbCdEf";
        assert_eq!(parse(arn), Ok(Kept::SecretsManager(arn.into())));
        assert!(matches!(parse(GOOGLE), Ok(Kept::Url(_))));
        assert_eq!(parse("env:1X"), Err(KeptError::EnvName));
        assert_eq!(parse("ssm:nope"), Err(KeptError::SsmName));
        assert_eq!(parse("/no/prefix"), Err(KeptError::Unknown));
        assert!(matches!(parse("https://example.com/?token=SECRET"), Err(KeptError::Url(_))));
        assert!(!format!("{:?}", parse("https://example.com/?token=SECRET")).contains("SECRET"));
    }
}
